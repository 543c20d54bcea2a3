-- gt.strategy: finds and loads strategy files (strategies/NAME.lua). A strategy file
-- returns a table: name, description, params (defaults), grid, and signals() and/or
-- init()/on_bar(). This module checks that shape; gt.backtest runs it.
local ffi = require "ffi"
local paths = require "gt.paths"

local M = {}

-- A strategy written as one rule, rule(d, ind, i, p) -> target or nil (+1 long, -1 short,
-- 0 flat, nil no decision), gets both execution forms from the same function, so the
-- vectorised and event paths cannot drift apart. Shorts happen only where the rule returns
-- a negative target.
local function from_rule(s)
  local rule = s.rule
  local lookback = s.lookback or 1 -- bars before i the rule reads (i - lookback >= 0)
  if not s.signals then
    s.signals = function(d, p, ind)
      local n = d.n
      local target = ffi.new("double[?]", math.max(n, 1))
      for i = 0, n - 1 do target[i] = 0 / 0 end
      for i = lookback, n - 1 do
        local t = rule(d, ind, i, p)
        if t then target[i] = t end
      end
      return { target = target }
    end
  end
  if not s.on_bar then
    s.on_bar = function(ctx, i)
      if i < lookback then return end
      local t = rule(ctx.data, ctx.ind, i, ctx.params)
      if t then ctx:signal(t) end
    end
  end
end

-- load(name [, {roots = {...}}]) -> strategy table (a fresh copy per call), or raises
-- with the list of available strategies when the name is unknown.
function M.load(name, opts)
  if type(name) ~= "string" or name == "" then error("gt.strategy.load: name must be a string", 2) end
  local path, err = paths.find("strategies", name, opts and opts.roots)
  if not path then error(err, 2) end
  local s, lerr = paths.load_strict(path)
  if not s then error(lerr, 2) end
  if type(s) ~= "table" then error(path .. ": a strategy file must return a table", 2) end
  if s.rule then from_rule(s) end
  if not (s.signals or s.on_bar) then
    error(path .. ": a strategy needs rule(d, ind, i, p), signals(d, p, ind) or on_bar(ctx, i)", 2)
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
