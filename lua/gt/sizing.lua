-- gt.sizing: position sizing, computed in C (engine/sizing.c) so the engine sizes orders
-- without Lua and both agree. Methods: "kelly", "fractional_kelly", "fixed", "volatility",
-- "equal_weight", "intelligent" (the seed's: fractional Kelly or half the max position,
-- times the confidence and regime multipliers and a strategy multiplier, clamped to
-- [min_position, max_position] and whole shares).
--
--   local s = gt.sizing.size{ price = 100, equity = 10000, method = "intelligent",
--                             win_rate = 0.6, avg_win = 0.05, avg_loss = -0.03,
--                             confidence = 0.8, regime = "bull_quiet" }
--   s.shares, s.value, s.fraction, s.kelly, s.confidence_adj, s.regime_adj, s.risk, s.notes
--
-- Fractions are of equity. Statistics are optional (all three or none); without them the
-- Kelly methods use 0.5 * max_position. Misuse (a bad value, an unknown key) raises.
local bit = require "bit"
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C

local M = {}

M.METHODS = { kelly = C.GT_SIZING_KELLY, fractional_kelly = C.GT_SIZING_FRACTIONAL_KELLY,
  fixed = C.GT_SIZING_FIXED, volatility = C.GT_SIZING_VOLATILITY,
  equal_weight = C.GT_SIZING_EQUAL_WEIGHT, intelligent = C.GT_SIZING_INTELLIGENT }

M.REGIMES = {}
for i = 0, C.GT_REGIME_COUNT - 1 do M.REGIMES[ffi.string(C.gt_regime_name(i))] = i end

local NOTES = {
  { C.GT_SIZING_NOTE_NO_STATS, "no win statistics: base is half the max position" },
  { C.GT_SIZING_NOTE_KELLY_FLOORED, "Kelly fraction negative (no edge): 0" },
  { C.GT_SIZING_NOTE_LOW_CONFIDENCE, "confidence below the threshold: 0" },
  { C.GT_SIZING_NOTE_CLAMPED_MIN, "raised to min_position" },
  { C.GT_SIZING_NOTE_CLAMPED_MAX, "cut to max_position" },
  { C.GT_SIZING_NOTE_PRICE_TOO_HIGH, "one share costs more than the sized value: 0 shares" },
  { C.GT_SIZING_NOTE_B_CAPPED, "win/loss ratio capped at 100" },
}

-- The defaults as a Lua table (the seed's RiskParameters and RegimeMultipliers).
function M.defaults(method)
  local p = ffi.new("gt_sizing_params")
  C.gt_sizing_params_init(p, M.METHODS[method or "intelligent"] or C.GT_SIZING_INTELLIGENT)
  local rm = {}
  for name, i in pairs(M.REGIMES) do rm[name] = p.regime_mult[i] end
  return { kelly_fraction = p.kelly_fraction, max_position = p.max_position,
    min_position = p.min_position, confidence_threshold = p.confidence_threshold,
    fixed_fraction = p.fixed_fraction, risk_fraction = p.risk_fraction,
    atr_multiple = p.atr_multiple, slots = p.slots, regime_multipliers = rm }
end

local PARAM_KEYS = { kelly_fraction = true, max_position = true, min_position = true,
  confidence_threshold = true, fixed_fraction = true, risk_fraction = true,
  atr_multiple = true, slots = true }
local INPUT_KEYS = { price = true, equity = true, win_rate = true, avg_win = true,
  avg_loss = true, confidence = true, atr = true, strategy_multiplier = true }
local OTHER_KEYS = { method = true, regime = true, regime_multipliers = true }

local function num(v, k, level)
  if type(v) ~= "number" then
    error(("gt.sizing: %s must be a number, got %s"):format(k, type(v)), level + 1)
  end
  return v
end

local pbuf = ffi.new("gt_sizing_params")
local ibuf = ffi.new("gt_sizing_input")
local obuf = ffi.new("gt_sizing_out")

-- The C parameters for a method name or a table {method =, <param> = ...} (the seed's
-- defaults for what is not given), into out (a new gt_sizing_params when nil).
local function params_into(t, out, level)
  if type(t) == "string" then t = { method = t } end
  local method = t.method or "intelligent"
  local code = M.METHODS[method]
  if not code then
    error(("gt.sizing: method %q is not one of kelly, fractional_kelly, fixed, " ..
      "volatility, equal_weight, intelligent"):format(tostring(method)), level + 1)
  end
  C.gt_sizing_params_init(out, code)
  for k in pairs(PARAM_KEYS) do
    if t[k] ~= nil then out[k] = num(t[k], k, level + 1) end
  end
  if t.slots ~= nil and (t.slots % 1 ~= 0 or t.slots < 1 or t.slots > 1e6) then
    error(("gt.sizing: slots %s must be a whole number >= 1"):format(tostring(t.slots)), level + 1)
  end
  if t.fixed_fraction == nil and t.max_position ~= nil then
    out.fixed_fraction = 0.3 * out.max_position -- the seed's FIXED = 0.3 * max
  end
  if t.regime_multipliers ~= nil then
    for name, v in pairs(t.regime_multipliers) do
      local i = M.REGIMES[name]
      if not i then error(("gt.sizing: regime_multipliers: unknown regime %q")
        :format(tostring(name)), level + 1) end
      out.regime_mult[i] = num(v, "regime_multipliers." .. name, level + 1)
    end
  end
  return out, method
end

-- A gt_sizing_params for a method name or a table of parameters (for gt.backtest).
function M.params(spec)
  if type(spec) ~= "string" and type(spec) ~= "table" then
    error("gt.sizing.params: a method name or a table {method =, ...}", 2)
  end
  if type(spec) == "table" then
    for k in pairs(spec) do
      if not (PARAM_KEYS[k] or k == "method" or k == "regime_multipliers" or k == "min_trades") then
        error(("gt.sizing.params: unknown key %q"):format(tostring(k)), 2)
      end
    end
  end
  return (params_into(spec, ffi.new("gt_sizing_params"), 2))
end

function M.size(t)
  if type(t) ~= "table" then error("gt.sizing.size: expected a table of arguments", 2) end
  for k in pairs(t) do
    if not (PARAM_KEYS[k] or INPUT_KEYS[k] or OTHER_KEYS[k]) then
      error(("gt.sizing.size: unknown key %q"):format(tostring(k)), 2)
    end
  end
  local _, method = params_into(t, pbuf, 2)
  for k in pairs(INPUT_KEYS) do
    local v = t[k]
    if v == nil then v = 0 / 0 end
    ibuf[k] = num(v, k, 2)
  end
  local stats = (t.win_rate ~= nil) and 1 or 0
  if (t.avg_win ~= nil and 1 or 0) ~= stats or (t.avg_loss ~= nil and 1 or 0) ~= stats then
    error("gt.sizing.size: give win_rate, avg_win and avg_loss together (or none)", 2)
  end
  local regime = t.regime
  if regime == nil then
    ibuf.regime = -1
  elseif type(regime) == "string" then
    local i = M.REGIMES[regime]
    if not i then error(("gt.sizing.size: regime %q is not a known regime"):format(regime), 2) end
    ibuf.regime = i
  else
    ibuf.regime = num(regime, "regime", 2)
  end
  local f = C.gt_sizing_fraction(pbuf, ibuf, obuf)
  if f < 0 then error("gt.sizing.size: " .. gtffi.errmsg(f), 2) end
  local notes = {}
  for _, n in ipairs(NOTES) do
    if bit.band(obuf.notes, n[1]) ~= 0 then notes[#notes + 1] = n[2] end
  end
  return { shares = obuf.shares, value = obuf.value, fraction = obuf.fraction,
    target = obuf.target, kelly = obuf.kelly, confidence_adj = obuf.confidence_adj,
    regime_adj = obuf.regime_adj, risk = obuf.risk, notes = notes, method = method }
end

-- Full Kelly f* (floored at 0); raises on a win rate outside [0.01, 0.99] or avg_loss >= 0.
function M.kelly(p, avg_win, avg_loss)
  local out = ffi.new("double[1]")
  local rc = C.gt_sizing_kelly(num(p, "win_rate", 2), num(avg_win, "avg_win", 2),
    num(avg_loss, "avg_loss", 2), out)
  if rc < 0 then error("gt.sizing.kelly: " .. gtffi.errmsg(rc), 2) end
  return out[0]
end

-- The seed's confidence multiplier (0 below the threshold, 0.5 at it, then up to 2).
function M.confidence_adj(c, threshold)
  return C.gt_sizing_confidence_adj(num(c, "confidence", 2), threshold or 0.6)
end

-- The portfolio cap: a list of fractions scaled down proportionally when their sum is over
-- cap (default 0.8). Returns a new list and the factor applied.
function M.allocate(fractions, cap)
  if type(fractions) ~= "table" then error("gt.sizing.allocate: expected a list", 2) end
  local n = #fractions
  local buf = ffi.new("double[?]", math.max(n, 1))
  for i = 1, n do buf[i - 1] = num(fractions[i], "fractions[" .. i .. "]", 2) end
  local k = C.gt_sizing_portfolio_cap(buf, n, cap or 0.8)
  if k < 0 then error("gt.sizing.allocate: " .. gtffi.errmsg(k), 2) end
  local out = {}
  for i = 1, n do out[i] = buf[i - 1] end
  return out, k
end

return M
