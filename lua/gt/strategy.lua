-- gt.strategy: finds and loads strategy files (strategies/NAME.lua). A strategy file
-- returns a table: name, description, params (defaults), grid, and signals() and/or
-- init()/on_bar(). This module checks that shape; gt.backtest runs it.
local paths = require "gt.paths"

local M = {}

-- load(name [, {roots = {...}}]) -> strategy table (a fresh copy per call), or raises
-- with the list of available strategies when the name is unknown.
function M.load(name, opts)
  if type(name) ~= "string" or name == "" then error("gt.strategy.load: name must be a string", 2) end
  local path, err = paths.find("strategies", name, opts and opts.roots)
  if not path then error(err, 2) end
  local s, lerr = paths.load_strict(path)
  if not s then error(lerr, 2) end
  if type(s) ~= "table" then error(path .. ": a strategy file must return a table", 2) end
  if not (s.signals or s.on_bar) then
    error(path .. ": a strategy needs signals(data, p) or on_bar(ctx, i)", 2)
  end
  s.name = s.name or name
  s.params = s.params or {}
  s.path = path
  return s
end

function M.list(opts)
  return paths.list("strategies", opts and opts.roots)
end

return M
