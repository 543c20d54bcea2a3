-- `gtengine attach`: the REPL of a running session. Lines are edited here (libedit, history
-- in ~/.gtengine_attach_history, completion) and evaluated in the session, between its
-- cycles, through its control socket (gt.attach); engine/repl.c runs the loop with this
-- module's eval, complete and banner.
local cli = require "gt.cli"
local attach = require "gt.attach"

local M = {}

M.help = [[
  [--db PATH]       the session's database (default $GT_DB, else gt.db): its socket is
                    $XDG_RUNTIME_DIR/gtengine/ or /tmp/gtengine-UID/, named after the database
  [--socket PATH]   the socket itself
  [--eval CODE]     run one command, print its answer and leave (exit 1 if it failed)
Inside: positions(), events(n), status(), halt(reason), resume(), params(strategy),
set_param(strategy, key, value), session (read-only), gt, help. A command runs between two
cycles; one that fails or runs over 0.2 s of CPU is stopped and reported, and the session goes
on. Every command is in the session's journal. quit or Ctrl-D detaches.
]]

local conn, hello

local function incomplete(src)
  local _, err = loadstring("return " .. src)
  if not err then return false end
  _, err = loadstring(src)
  return err ~= nil and err:find("<eof>", 1, true) ~= nil
end

-- engine/repl.c: true while the chunk is incomplete, "quit" to leave, false otherwise.
function M.eval(src)
  local word = src:match("^%s*(%a+)%s*$") or src:match("^%s*(%a+)%s*%(%s*%)%s*$")
  if word == "quit" or word == "exit" then return "quit" end
  if incomplete(src) then return true end
  local kind, body, why = conn:call("eval", src)
  if not kind then
    if why == "interrupted" then
      io.stderr:write("interrupted (the session stops a command itself after its limit)\n")
      return false
    end
    io.stderr:write("gtengine attach: ", body, "\n")
    return "quit"
  end
  if kind == "ok" then io.write(body) else io.stderr:write(body) end
  io.stdout:flush()
  return false
end

function M.complete(text)
  local kind, body = conn:call("complete", text, 2)
  if kind ~= "completions" or body == "" then return {} end
  local out = {}
  for name in body:gmatch("[^\n]+") do out[#out + 1] = name end
  return out
end

function M.banner() return hello.banner end

function M.main(args)
  local o, pos = cli.parse(args, { db = "string", socket = "string", eval = "string" }, 2)
  if #pos > 0 then cli.usage(("attach: unexpected argument '%s'"):format(pos[1])) end
  local err, why
  conn, err, why = attach.connect { db = o.db, socket = o.socket }
  if not conn then
    io.stderr:write("gtengine attach: ", err, "\n")
    return why == "busy" and 3 or 1
  end
  hello = err
  if o.eval then
    local kind, body = conn:call("eval", o.eval)
    conn:close()
    if kind == "ok" then io.write(body); return 0 end
    io.stderr:write(kind and body or ("gtengine attach: " .. tostring(body) .. "\n"))
    return 1
  end
  local code = require("gt.host").repl("gt.cmd.attach", ("attach(%s)> "):format(hello.mode or "session"),
    ".gtengine_attach_history")
  conn:close()
  return code
end

return M
