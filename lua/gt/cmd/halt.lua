-- `gtengine halt` and `gtengine resume`: the kill switch, kept in the database so it
-- survives a restart. While it is set, every risk gate that a command opens on this database
-- starts HALTED (nothing passes; working orders are cancelled) until `gtengine resume`.
-- A running process takes it from SIGUSR1 (kill -USR1 PID). A paper session running on the
-- database is also told at once through its control socket (gt.attach), between two cycles;
-- the database stays the record that survives a restart.
local cli = require "gt.cli"
local config = require "gt.config"

local M = {}

M.help = [[
  [--reason TEXT]  why (shown by every refusal and by resume)
  [--flatten]      a live session also closes every position at the broker (after
                   cancelling every open order, which any halt does)
  [--db PATH]      the database (default $GT_DB, else gt.db)
A paper session running on the database is told at once through its control socket (as
`gtengine attach` would; the command is in its journal); otherwise it reads the database at
its next cycle. A running gtengine takes the same switch from a signal: kill -USR1 PID.
]]

-- Tells a running session through its socket; says what happened (nothing when none runs).
local function tell(db, src, what)
  local ok, msg, why = require("gt.attach").tell(db, src)
  if ok then
    io.write(("the running session (pid %s) %s now\n"):format(tostring(why.pid), what))
  elseif why ~= "none" then
    io.stderr:write(("gtengine: could not tell the running session (%s); it reads the database at its next cycle\n")
      :format(msg))
  end
end

local function open(o)
  local db, err = require("gt.store").open(config.db_path(o.db))
  if not db then io.stderr:write("gtengine: ", err, "\n"); return nil end
  return db
end

function M.main(args)
  local o = cli.parse(args, { reason = "string", db = "string", flatten = "flag" }, 2)
  local db = open(o)
  if not db then return 1 end
  local reason = o.reason or "kill switch (gtengine halt)"
  local ok, err = true, nil
  if o.flatten then ok, err = db:set_control("flatten", "1") end
  if ok then ok, err = db:set_control("halt", reason) end
  db:close()
  if not ok then io.stderr:write("gtengine halt: ", err, "\n"); return 1 end
  io.write(("HALTED%s: %s (database %s); `gtengine resume` clears it\n"):format(
    o.flatten and " and flattening" or "", reason, config.db_path(o.db)))
  tell(config.db_path(o.db), ("halt(%q%s)"):format(reason, o.flatten and ", true" or ""), "is halted")
  return 0
end

function M.resume(args)
  local o = cli.parse(args, { db = "string" }, 2)
  local db = open(o)
  if not db then return 1 end
  local was = db:control("halt")
  local ok, err = db:set_control("halt", nil)
  if ok then ok, err = db:set_control("flatten", nil) end
  db:close()
  if not ok then io.stderr:write("gtengine resume: ", err, "\n"); return 1 end
  io.write(was and ("resumed: the kill switch (%s) is cleared\n"):format(was) or "not halted: nothing to resume\n")
  tell(config.db_path(o.db), "resume()", "resumed")
  return 0
end

return M
