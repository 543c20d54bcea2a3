-- `gtengine halt` and `gtengine resume`: the kill switch, kept in the database so it
-- survives a restart. While it is set, every risk gate that a command opens on this database
-- starts HALTED (nothing passes; working orders are cancelled) until `gtengine resume`.
-- A running process takes it from SIGUSR1 (kill -USR1 PID).
local cli = require "gt.cli"
local config = require "gt.config"

local M = {}

M.help = [[
  [--reason TEXT]  why (shown by every refusal and by resume)
  [--db PATH]      the database (default $GT_DB, else gt.db)
A running gtengine takes the same switch from a signal: kill -USR1 PID.
]]

local function open(o)
  local db, err = require("gt.store").open(config.db_path(o.db))
  if not db then io.stderr:write("gtengine: ", err, "\n"); return nil end
  return db
end

function M.main(args)
  local o = cli.parse(args, { reason = "string", db = "string" }, 2)
  local db = open(o)
  if not db then return 1 end
  local reason = o.reason or "kill switch (gtengine halt)"
  local ok, err = db:set_control("halt", reason)
  db:close()
  if not ok then io.stderr:write("gtengine halt: ", err, "\n"); return 1 end
  io.write(("HALTED: %s (database %s); `gtengine resume` clears it\n"):format(reason, config.db_path(o.db)))
  return 0
end

function M.resume(args)
  local o = cli.parse(args, { db = "string" }, 2)
  local db = open(o)
  if not db then return 1 end
  local was = db:control("halt")
  local ok, err = db:set_control("halt", nil)
  db:close()
  if not ok then io.stderr:write("gtengine resume: ", err, "\n"); return 1 end
  io.write(was and ("resumed: the kill switch (%s) is cleared\n"):format(was) or "not halted: nothing to resume\n")
  return 0
end

return M
