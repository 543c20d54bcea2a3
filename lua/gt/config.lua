-- gt.config: settings that more than one command reads, resolved in one place.
--   config.db_path(explicit) -> the SQLite database every command and gt.store use:
--   the explicit path (--db PATH, opts.db), else $GT_DB, else gt.db in the current directory.
local M = { DEFAULT_DB = "gt.db" }

function M.db_path(explicit)
  if explicit ~= nil and type(explicit) ~= "string" then
    error(("config.db_path: the database path must be a string, got %s"):format(type(explicit)), 2)
  end
  if explicit and explicit ~= "" then return explicit end
  local env = os.getenv("GT_DB")
  if env and env ~= "" then return env end
  return M.DEFAULT_DB
end

return M
