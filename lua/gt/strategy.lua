-- gt.strategy: finds, loads and checks strategies. A strategy is a table (a file in
-- strategies/NAME.lua returns one, or a script passes one inline): name, description,
-- params (defaults), grid, indicators(d, p), and rule(d, ind, i, p[, state]) and/or
-- signals() and/or init()/on_bar(), and migrate(old_state) for a hot reload (gt.reload).
-- This module checks that shape and derives the missing forms; gt.backtest runs it.
--
-- A rule's optional fifth argument, state, is a table of its own per symbol that persists
-- across bars: one per run in a backtest (ctx.state in the event path), and in a session
-- (gt.orchestrator) across cycles, restarts (it is saved with each cycle, so it holds
-- numbers, strings, booleans and tables of them) and hot reloads (gt.reload).
local paths = require "gt.paths"

local M = {}

local NAN = 0 / 0

-- The data a rule sees: the series' columns as plain fields, and d.n, the bars known at the
-- bar being decided (i + 1), the same in the vectorised and event paths. Reading a field
-- that does not exist names the ones that do.
local DATA_FIELDS = { "ts", "open", "high", "low", "close", "volume" }
function M.rule_data(cols, bar_of, extra)
  local d = {}
  for _, k in ipairs(DATA_FIELDS) do d[k] = cols[k] end
  for k, v in pairs(extra or {}) do d[k] = v end
  return setmetatable(d, {
    __index = function(_, k)
      if k == "n" then return bar_of() + 1 end
      local names = { "n" }
      for name in pairs(d) do names[#names + 1] = tostring(name) end
      table.sort(names)
      error(("d has no field '%s' (it has: %s)"):format(tostring(k), table.concat(names, ", ")), 2)
    end,
  })
end

-- Values a rule returns: a target (+1 long, -1 short, 0 flat, nil no decision), and
-- optionally a stop and a take-profit price for the position the target opens.
local function check_target(name, i, t, sl, tp)
  if type(t) ~= "number" or t ~= t or t == math.huge or t == -math.huge then
    error(("%s: rule returned target %s at bar %d; a target is a finite number (+1 long, -1 short, 0 flat) or nil")
      :format(name, tostring(t), i), 0)
  end
  if sl ~= nil and not (type(sl) == "number" and sl > 0 and sl < math.huge) then
    error(("%s: rule returned stop %s at bar %d; a stop is a positive price or nil"):format(name, tostring(sl), i), 0)
  end
  if tp ~= nil and not (type(tp) == "number" and tp > 0 and tp < math.huge) then
    error(("%s: rule returned take %s at bar %d; a take-profit is a positive price or nil"):format(name, tostring(tp), i), 0)
  end
end
M.check_target = check_target

local function nan_array(n)
  return require("gt.series").array(n, NAN) -- bounds-checked, writable
end

-- A strategy written as one rule, rule(d, ind, i, p) -> target[, stop, take], gets both
-- execution forms from the same function, so the vectorised and event paths cannot drift
-- apart. Shorts happen only where the rule returns a negative target.
local function from_rule(s)
  local rule, name = s.rule, s.name or "strategy"
  local lookback = s.lookback or 1 -- bars before i the rule reads (i - lookback >= 0)
  if not s.signals then
    s.signals = function(d, p, ind)
      local n = d.n
      local target, stop, take = nan_array(n), nil, nil
      local cur = 0
      local dv = M.rule_data(d, function() return cur end, { symbol = d.symbol, timeframe = d.timeframe })
      local state = {} -- the rule's own, for this run
      for i = lookback, n - 1 do
        cur = i
        local t, sl, tp = rule(dv, ind, i, p, state)
        if t ~= nil then
          check_target(name, i, t, sl, tp)
          target[i] = t
          if sl then stop = stop or nan_array(n); stop[i] = sl end
          if tp then take = take or nan_array(n); take[i] = tp end
        end
      end
      return { target = target, stop = stop, take = take }
    end
  end
  if not s.on_bar then
    s.on_bar = function(ctx, i)
      if i < lookback then return end
      local t, sl, tp = rule(ctx.data, ctx.ind, i, ctx.params, ctx.state)
      if t ~= nil then
        check_target(name, i, t, sl, tp)
        ctx:signal(t, sl, tp)
      end
    end
  end
end

-- Checks a strategy table and completes it (a shallow copy: the caller's table is left as
-- it was). where names it in messages (a path, or "inline strategy").
function M.prepare(s, where)
  if type(s) ~= "table" then error((where or "strategy") .. ": a strategy is a table", 3) end
  local c = {}
  for k, v in pairs(s) do c[k] = v end
  where = where or c.path or ("inline strategy " .. tostring(c.name or "?"))
  for _, k in ipairs { "rule", "signals", "on_bar", "init", "indicators", "warmup", "migrate" } do
    if c[k] ~= nil and type(c[k]) ~= "function" then
      error(("%s: '%s' must be a function, not a %s"):format(where, k, type(c[k])), 3)
    end
  end
  if c.params ~= nil and type(c.params) ~= "table" then error(where .. ": params must be a table", 3) end
  if c.types ~= nil and type(c.types) ~= "table" then error(where .. ": types must be a table", 3) end
  if c.plot ~= nil then
    local ok = type(c.plot) == "table"
    for _, v in ipairs(ok and c.plot or {}) do ok = ok and type(v) == "string" end
    if not ok then error(where .. ": plot must be a list of indicator names, e.g. {\"fast\", \"slow\"}", 3) end
  end
  c.name = c.name or "inline"
  c.params = c.params or {}
  if c.rule then from_rule(c) end
  if not (c.signals or c.on_bar) then
    error(where .. ": a strategy needs rule(d, ind, i, p), signals(d, p, ind) or on_bar(ctx, i)", 3)
  end
  c._prepared = true
  return c
end

-- The type of parameter k: strategy.types[k] when declared ("integer", "number", "boolean",
-- "string"); else from the default: a boolean, a string, or a number that is "integer" when
-- the default and every value in the grid for k are whole numbers ("number" otherwise).
function M.param_type(s, k)
  if type(s.types) == "table" and s.types[k] then return s.types[k] end
  local d = s.params[k]
  if type(d) == "boolean" or type(d) == "string" then return type(d) end
  if type(d) ~= "number" then return nil end
  if d % 1 ~= 0 then return "number" end
  local g = type(s.grid) == "table" and s.grid[k]
  if type(g) == "table" then
    for _, v in ipairs(g) do if type(v) == "number" and v % 1 ~= 0 then return "number" end end
  end
  return "integer"
end

-- Checks params against the declared types; returns true or nil and a message naming the
-- parameter, the value and what it takes.
function M.check_params(s, params)
  for k, v in pairs(params or {}) do
    local want = s.params[k] ~= nil and M.param_type(s, k)
    if want then
      local ok = (want == "integer" and type(v) == "number" and v % 1 == 0 and v == v and math.abs(v) < 2 ^ 53)
        or (want == "number" and type(v) == "number" and v == v and math.abs(v) < math.huge)
        or (want == "boolean" and type(v) == "boolean") or (want == "string" and type(v) == "string")
      if not ok then
        local what = want == "integer" and "takes a whole number" or want == "number" and "takes a number"
          or want == "boolean" and "is true or false" or "takes a string"
        return nil, ("%s=%s: %s %s (default %s)"):format(k, tostring(v), k, what, tostring(s.params[k]))
      end
    end
  end
  return true
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
  s.name = s.name or name:match("([^/]+)%.lua$") or name
  s.path = path
  return M.prepare(s, path)
end

-- A name, a path or a table, as gt.backtest.run and the CLI take it.
function M.get(x)
  if type(x) == "string" then return M.load(x) end
  if type(x) == "table" then return x._prepared and x or M.prepare(x) end
  error("strategy must be a name, a file path or a table, not a " .. type(x), 3)
end

function M.list(opts)
  return paths.list("strategies", opts and opts.roots)
end

return M
