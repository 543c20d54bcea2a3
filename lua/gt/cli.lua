-- gt.cli: the gtengine command line. One table of subcommands (name, synopsis, one-line
-- summary, handler); `gtengine --help` prints it and main() dispatches through it.
-- Handlers return an exit code. Usage errors raise M.usage(msg): exit 2 with a hint.
local host = require "gt.host"

local M = {}

-- The subcommand main() is running, so a usage error names that subcommand's help; nil
-- again once user code (a script, -e, specs) runs, whose usage errors are its own.
M.current = nil

-- Raised for a usage error: the host prints "gtengine: <msg>" and exits 2.
function M.usage(msg)
  local hint = M.current and ("gtengine " .. M.current .. " --help") or "gtengine --help"
  error({ usage = msg .. " (see '" .. hint .. "')" }, 0)
end

-- The one series a command reads: --data FILE (named by --symbol if given), or --symbol S
-- from the store (--timeframe, default 1d; --db). Neither is a usage error saying `needs`.
-- Returns the series, or nil and the loader's error.
function M.load_series(o, needs, db)
  local data = require "gt.data"
  if o.data then return data.load(o.data, { symbol = o.symbol, timeframe = o.timeframe }) end
  if o.symbol then return data.load({ symbol = o.symbol, timeframe = o.timeframe, db = db or o.db }) end
  M.usage(needs)
end

-- The standalone luajit's traceback, cut where the host's own frames begin.
local function traceback(err)
  if type(err) ~= "string" then
    if type(err) == "table" and err.usage then return err end
    err = tostring(err)
  end
  local tb = debug.traceback(err, 2)
  local cut = tb:find("\n%s*%[C%]: in function 'xpcall'")
  return cut and tb:sub(1, cut - 1) or tb
end

-- Runs fn(...) protected; prints the error with its traceback to stderr and returns 1.
function M.protect(fn, ...)
  local ok, err = xpcall(fn, traceback, ...)
  if ok then return 0 end
  if type(err) == "table" and err.usage then error(err, 0) end
  io.stderr:write("gtengine: ", tostring(err), "\n")
  return 1
end

local function set_arg(script, args, first)
  local t = { [-2] = host.exe, [-1] = "run", [0] = script }
  for i = first, #args do t[#t + 1] = args[i] end
  _G.arg = t
  return t
end

local function run_chunk(chunk, argt)
  M.current = nil
  return M.protect(function() return chunk(unpack(argt, 1, #argt)) end)
end

-- `gtengine run FILE [ARGS...]`
function M.run_file(path, args, first)
  local chunk, err
  if path == "-" then
    _G.gt = require "gt" -- as in the REPL
    chunk, err = load(io.read("*a"), "=stdin", "t")
    if not chunk and err and err:find("wrong mode", 1, true) then
      err = "stdin: is precompiled bytecode; gtengine loads Lua source only"
    end
  else
    chunk, err = require("gt.paths").loadfile_source(path)
  end
  if not chunk then
    io.stderr:write("gtengine: ", err, "\n")
    return 1
  end
  return run_chunk(chunk, set_arg(path, args, first))
end

-- Option parsing shared by the subcommands. spec maps option names (without dashes) to
-- "string", "number", "flag" or "list" (repeatable). Returns opts and positionals.
-- `--name value` and `--name=value` both work; unknown options are usage errors.
function M.parse(args, spec, first)
  local opts, pos = {}, {}
  local i = first or 1
  while i <= #args do
    local a = args[i]
    if a == "--" then
      for j = i + 1, #args do pos[#pos + 1] = args[j] end
      break
    end
    local name, val = a:match("^%-%-([%w%-_]+)=(.*)$")
    if not name then name = a:match("^%-%-([%w%-_]+)$") end
    if name then
      local key = name:gsub("%-", "_")
      local kind = spec[key]
      if not kind then M.usage("unknown option --" .. name) end
      if kind == "flag" then
        if val then M.usage("--" .. name .. " takes no value") end
        opts[key] = true
      else
        if not val then
          i = i + 1
          val = args[i]
          if val == nil then M.usage("--" .. name .. " needs a value") end
        end
        if kind == "number" then
          local n = tonumber(val)
          if not n then M.usage(("--%s needs a number, got '%s'"):format(name, val)) end
          val = n
        end
        if kind == "list" then
          opts[key] = opts[key] or {}
          table.insert(opts[key], val)
        else
          opts[key] = val
        end
      end
    elseif a:match("^%-.") and not tonumber(a) then
      local f = io.open(a, "rb") -- a file named like an option (-rf.csv): say how to name it
      if f then
        f:close()
        M.usage(("unknown option %s; for the file of that name write ./%s or put it after --"):format(a, a))
      end
      M.usage("unknown option " .. a)
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  return opts, pos
end

local function cmd_run(args)
  local path = args[2]
  if not path then M.usage("run needs a WORKFLOW or a FILE") end
  local run = require "gt.cmd.run"
  if path ~= "-" and run.is_workflow(path) then return run.main(args) end
  return M.run_file(path, args, 3)
end

local function cmd_eval(args)
  local code = args[2]
  if not code then M.usage("-e needs a chunk of Lua code") end
  _G.gt = require "gt" -- as in the REPL
  local chunk, err = loadstring(code, "=(command line)")
  if not chunk then
    io.stderr:write("gtengine: ", err, "\n")
    return 1
  end
  return run_chunk(chunk, set_arg("-e", args, 3))
end

-- Busted's runner is a library: run it here so specs exercise the real C core.
local function cmd_test(args)
  M.current = nil
  local t = { [0] = "gtengine test" }
  for i = 2, #args do t[#t + 1] = args[i] end
  _G.arg = t
  local runner = assert(loadstring("return require('busted.runner')({ standalone = false })",
    "@gtengine-test"))
  local ok, err = pcall(runner)
  if not ok then
    io.stderr:write("gtengine test: ", tostring(err), "\n")
    return 1
  end
  return 0
end

local function cmd_version(args)
  local opts = M.parse(args, { json = "flag" }, 2)
  local v = {
    gtengine = host.version, luajit = host.luajit, libcurl = host.curl,
    sqlite = host.sqlite, cjson = host.cjson,
  }
  if opts.json then
    io.write(require("gt.json").encode(v), "\n")
  else
    io.write(("gtengine %s\n  %s\n  libcurl %s\n  SQLite %s\n  cJSON %s\n")
      :format(v.gtengine, v.luajit, v.libcurl, v.sqlite, v.cjson))
  end
  return 0
end

local function cmd_repl()
  M.current = nil
  return host.repl()
end

-- `gtengine help [CMD]`
local function cmd_help(args)
  M.current = nil
  if not args[2] then io.write(M.help()); return 0 end
  local c = M.find(args[2])
  if not c then M.usage("unknown command '" .. args[2] .. "'") end
  io.write(M.command_help(c))
  return 0
end

-- The command table. Later slices add rows; `handler` is a function or the name of a
-- module whose .main(args) runs the command (loaded only when used), and whose .help
-- (text) `gtengine CMD --help` prints after the synopsis. `passthrough`: the arguments
-- after the first belong to a script or busted, so only `CMD --help` asks for help.
M.commands = {
  { name = "run", synopsis = "run WORKFLOW [--symbols A,B] [--capital N] [--db PATH] | run FILE.lua [ARGS...]", summary = "run a workflow session (paper, backtest, ...) or a Lua script (also: gtengine FILE.lua)", handler = cmd_run, passthrough = true, help = function() return require("gt.cmd.run").help end },
  { name = "-e", synopsis = "-e 'CODE' [ARGS...]", summary = "run a chunk of Lua given on the command line", handler = cmd_eval, passthrough = true },
  { name = "repl", synopsis = "repl", summary = "interactive Lua with gt loaded (the default on a terminal)", handler = cmd_repl, passthrough = true },
  { name = "test", synopsis = "test [PATH...] [BUSTED OPTIONS]", summary = "run busted specs inside gtengine (default tests/lua)", handler = cmd_test, passthrough = true },
  { name = "version", synopsis = "version [--json]", summary = "print gtengine's and its libraries' versions", handler = cmd_version },
  { name = "data", synopsis = "data import|fetch|list|export ...", summary = "CSV import, provider downloads, the SQLite bar store", handler = "gt.cmd.data" },
  { name = "analyze", synopsis = "analyze (--data FILE | --symbol S) [--json]", summary = "indicators, levels, patterns and a scored recommendation", handler = "gt.cmd.analyze" },
  { name = "backtest", synopsis = "backtest --strategy NAME (--data FILE | --symbol S) ...", summary = "run a strategy over history; stats table, --json, --report FILE", handler = "gt.cmd.backtest" },
  { name = "optimize", synopsis = "optimize --strategy NAME (--data FILE | --symbol S) [...]", summary = "grid, random or walk-forward search in parallel, saved; optimize report RUN_ID, merge, list", handler = "gt.cmd.optimize" },
  { name = "runs", synopsis = "runs [--id N [--report FILE]] [--json]", summary = "saved backtest runs, newest first; one in full with --id", handler = "gt.cmd.runs" },
  { name = "regime", synopsis = "regime (--data FILE | --symbol S) [--method rules|hmm|ensemble] [--json]", summary = "the market regime (seven seed regimes) at the last bar, and recent labels", handler = "gt.cmd.regime" },
  { name = "ml", synopsis = "ml train|evaluate|predict (--data FILE... | --symbol S...) [--horizon 20]", summary = "strategy selection learned from backtests; out-of-sample table, saved models", handler = "gt.cmd.ml" },
  { name = "status", synopsis = "status [--db PATH] [--session ID] [--json]", summary = "a trading session at its last cycle: cash, equity, positions, breaker, tier, regime, counts", handler = "gt.cmd.status" },
  { name = "journal", synopsis = "journal [--db PATH] [--session ID] [--type T,..] [--since TIME] [--limit N] [--json]", summary = "a session's journal: orders, fills, refusals, equity ... as a table or JSON lines", handler = "gt.cmd.journal" },
  { name = "attach", synopsis = "attach [--db PATH | --socket PATH] [--eval CODE]", summary = "a REPL inside the running session (positions(), events(), halt(), set_param()); quit detaches", handler = "gt.cmd.attach" },
  { name = "halt", synopsis = "halt [--reason TEXT] [--flatten] [--db PATH]", summary = "the kill switch: every risk gate using this database refuses all orders until resume; a live session cancels its open orders at the broker (--flatten: and closes its positions)", handler = "gt.cmd.halt" },
  { name = "resume", synopsis = "resume [--db PATH]", summary = "clear the kill switch (only a person can)", handler = function(args) return require("gt.cmd.halt").resume(args) end },
  { name = "alerts", synopsis = "alerts [--db PATH] [--session ID] [--all] [--ack ID] [--resolve ID] [--json]", summary = "alerts raised by sessions' monitors: open ones, acknowledge, resolve", handler = "gt.cmd.alerts" },
  { name = "strategies", synopsis = "strategies [--json]", summary = "list strategies with their parameters", handler = function(args) return require("gt.cmd.backtest").strategies(args) end },
  { name = "help", synopsis = "help [CMD]", summary = "this list, or one command's options", handler = cmd_help },
}

function M.add(cmd)
  M.commands[#M.commands + 1] = cmd
end

function M.find(name)
  for _, c in ipairs(M.commands) do
    if c.name == name then return c end
  end
end

function M.help()
  local w = 0
  for _, c in ipairs(M.commands) do w = math.max(w, #c.synopsis) end
  local out = {
    "gtengine: a Lua-scriptable trading engine (C core, LuaJIT scripting)\n\n",
    "usage: gtengine [COMMAND] [ARGS...]\n",
    "       gtengine             the REPL on a terminal; otherwise runs standard input\n\n",
    "commands:\n",
  }
  for _, c in ipairs(M.commands) do
    out[#out + 1] = ("  %-" .. w .. "s  %s\n"):format(c.synopsis, c.summary)
  end
  out[#out + 1] = "\noptions: -h, --help (this list), -v, --version\n"
  out[#out + 1] = "environment: GT_LUA_PATH=lua/?.lua loads the Lua library from disk (development)\n"
  out[#out + 1] = "Each command takes --help (or: gtengine help CMD). README.md has the full guide.\n"
  return table.concat(out)
end

-- One command's help: synopsis, summary and its options (cmd.help or its module's .help).
function M.command_help(cmd)
  local h = cmd.help
  if type(h) == "function" then h = h() end
  if not h and type(cmd.handler) == "string" then h = require(cmd.handler).help end
  return "usage: gtengine " .. cmd.synopsis .. "\n" .. cmd.summary .. "\n" .. (h or "")
end

-- --help or -h anywhere before `--` (only right after CMD for passthrough commands).
local function wants_help(cmd, args)
  local last = cmd.passthrough and math.min(#args, 2) or #args
  for i = 2, last do
    if args[i] == "--" then return false end
    if args[i] == "--help" or args[i] == "-h" then return true end
  end
  return false
end

function M.main(args)
  require("gt.paths").source_only_globals()
  local first = args[1]
  if first == nil then
    if host.isatty(0) then return cmd_repl() end
    return M.run_file("-", args, 2)
  end
  if first == "-h" or first == "--help" then first = "help" end
  if first == "-v" or first == "--version" then first = "version" end
  if first == "-" then return M.run_file("-", args, 2) end
  local cmd = M.find(first)
  if not cmd then
    if first:match("%.lua$") then return M.run_file(first, args, 2) end
    if first:match("^%-") then M.usage("unknown option " .. first) end
    M.usage("unknown command '" .. first .. "'")
  end
  if wants_help(cmd, args) then
    io.write(M.command_help(cmd))
    return 0
  end
  M.current = cmd.name
  local handler = cmd.handler
  if type(handler) == "string" then handler = require(handler).main end
  return handler(args) or 0
end

return M
