-- `gtengine alerts`: the alerts sessions' monitors raised (gt.alerts, the database's alerts
-- table): listed (open ones by default), acknowledged, resolved. `--deliver SPOOL` is the
-- monitor's webhook child (gt.monitor.deliver), not meant to be typed.
local cli = require "gt.cli"
local config = require "gt.config"
local fmt = require "gt.fmt"
local json = require "gt.json"

local M = {}

M.help = [[
  [--db PATH]      the database (default $GT_DB, else gt.db)
  [--session ID]   one session's alerts (its id)
  [--all]          every alert, acknowledged and resolved ones too (default: open ones)
  [--ack ID]       acknowledge an alert: seen, someone is on it (it stays listed with --all)
  [--resolve ID]   resolve an alert: the cause is gone
  [--json]         JSON lines, one alert per line
Alerts come from a session's monitor (gtengine run): the error rate over 0.05, a cycle
slower than 1000 ms, the breaker REDUCING (warning) or HALTED (critical), a failing
subscriber or hook, stale data, a log or webhook failing. The same component and message
is raised at most once per 300 s of the session's clock. time is the engine's clock (bar
time in a replay).
]]

local function when(us)
  if not us then return "" end
  return (require("gt.time").format(math.floor(us), false):gsub("T", " "):gsub("Z$", ""))
end

function M.main(args)
  local o = cli.parse(args, { db = "string", session = "number", all = "flag", ack = "number",
    resolve = "number", json = "flag", deliver = "string" }, 2)
  if o.deliver then
    local n, err = require("gt.monitor").deliver(o.deliver)
    if not n then io.stderr:write("gtengine alerts --deliver: ", tostring(err), "\n"); return 1 end
    return 0
  end
  if o.ack and o.resolve then cli.usage("--ack and --resolve: one at a time") end
  local path = config.db_path(o.db)
  local writes = o.ack or o.resolve
  if not writes then
    local f = io.open(path, "rb")
    if not f then
      io.stderr:write(("gtengine alerts: no database at %s (name one with --db PATH)\n"):format(path))
      return 1
    end
    f:close()
  end
  local A, err = require("gt.alerts").open(path, { readonly = not writes })
  if not A then io.stderr:write("gtengine alerts: ", tostring(err), "\n"); return 1 end
  if writes then
    local id = o.ack or o.resolve
    local ok, werr
    if o.ack then ok, werr = A:ack(id) else ok, werr = A:resolve(id) end
    A:close()
    if not ok then io.stderr:write("gtengine alerts: ", tostring(werr), "\n"); return 1 end
    io.write(("alert %d %s\n"):format(id, o.ack and "acknowledged" or "resolved"))
    return 0
  end
  local rows, lerr = A:list { session = o.session, all = o.all }
  A:close()
  if not rows then io.stderr:write("gtengine alerts: ", tostring(lerr), "\n"); return 1 end
  if o.json then
    for _, r in ipairs(rows) do io.write(json.encode(r), "\n") end
    return 0
  end
  if #rows == 0 then
    io.write(o.all and "no alerts\n" or "no open alerts (--all lists acknowledged and resolved ones)\n")
    return 0
  end
  for _, r in ipairs(rows) do
    local d = type(r.detail) == "table" and r.detail or {}
    local extra = d.detail or (d.value ~= nil and tostring(d.value)) or (type(r.detail) == "string" and r.detail)
    r.time, r.note = when(r.ts), extra and (#extra > 60 and extra:sub(1, 57) .. "..." or extra) or ""
  end
  io.write(fmt.table(rows, { { key = "id", align = "right" }, { key = "session", align = "right" },
    { key = "time" }, { key = "level" }, { key = "component" }, { key = "message" }, { key = "status" },
    { key = "note" } }))
  return 0
end

return M
