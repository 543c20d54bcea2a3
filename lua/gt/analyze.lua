-- gt.analyze: a scored reading of one series, every field computed from the data.
--   gt.analyze.symbol(series, opts) -> {price, indicators, trend, volatility, momentum,
--     volume_profile, levels, patterns, signals, score, recommendation, confidence}
-- The rules and thresholds are the seed's (seed/slices.md section 3) unless noted:
--   trend:       SMA20 > SMA50 x 1.02 bullish, < SMA50 x 0.98 bearish, else neutral
--   volatility:  annualised sd of the last 20 daily log returns < 0.15 low, < 0.25 medium, else high
--   momentum:    RSI14 > 70 strong_up, > 55 weak_up, < 30 strong_down, < 45 weak_down, else neutral
--   volume:      volume > 1.5 x SMA20(volume): accumulation on an up close, distribution on a
--                down close; else normal (no volume data: "unknown")
--   score:       RSI < 30 +2, > 70 -2; MACD above its signal +1, below -1; trend +/-2;
--                strategy signals summing to >= 2 give +2, <= -2 give -2; plus bullish minus
--                bearish patterns completed in the last `pattern_window` bars.
--   recommendation: avg = score / factors (5); >= 1.5 strong_buy, >= 0.5 buy, <= -1.5
--                strong_sell, <= -0.5 sell, else hold with confidence 0.5. Confidence of a
--                call (our rule; the seed left it open): min(0.95, 0.5 + |avg| / 4).
local gt = require "gt"
local ind = require "gt.ind"

local M = {}

M.DEFAULTS = { pattern_window = 10, strategies = { "sma_cross", "momentum", "mean_reversion",
  "volatility", "breakout" }, periods_per_year = 252 }

-- Seed confidences for the per-strategy signals (momentum scales with the move).
local CONFIDENCE = {
  sma_cross = function() return 0.7 end,
  mean_reversion = function() return 0.8 end,
  momentum = function(s, p)
    local n = s.n
    if n <= p.lookback then return 0.5 end
    local m = s.close[n - 1] / s.close[n - 1 - p.lookback] - 1
    return math.min(0.9, 0.5 + 5 * math.abs(m))
  end,
  volatility = function() return 0.6 end, -- not given by the seed
  breakout = function() return 0.75 end,  -- not given by the seed
}

local function last(a, n)
  local v = a[n - 1]
  if v ~= v then return nil end
  return v
end

local function classify_trend(sma20, sma50)
  if not (sma20 and sma50) then return "unknown" end
  if sma20 > sma50 * 1.02 then return "bullish" end
  if sma20 < sma50 * 0.98 then return "bearish" end
  return "neutral"
end

local function classify_momentum(rsi)
  if not rsi then return "unknown" end
  if rsi > 70 then return "strong_up" end
  if rsi > 55 then return "weak_up" end
  if rsi < 30 then return "strong_down" end
  if rsi < 45 then return "weak_down" end
  return "neutral"
end

-- Annualised sd of the last 20 log returns (sample sd).
local function realised_vol(s, ppy)
  local n = s.n
  if n < 21 then return nil end
  local sd = require("gt.ind").stddev(s:returns { log = true }, { period = 20, ddof = 1, n = n })
  return sd[n - 1] * math.sqrt(ppy)
end

local function classify_vol(v)
  if not v then return "unknown" end
  if v < 0.15 then return "low" end
  if v < 0.25 then return "medium" end
  return "high"
end

local function volume_profile(s, vsma)
  local n = s.n
  local v, avg = s.volume[n - 1], last(vsma, n)
  if not avg or avg <= 0 then return "unknown" end
  if v > 1.5 * avg and n >= 2 then
    return s.close[n - 1] >= s.close[n - 2] and "accumulation" or "distribution"
  end
  return "normal"
end

-- The position each strategy's latest decision implies: +1 long, -1 out or short, 0 none yet.
local function strategy_signal(name, s)
  local strat = gt.strategy.load(name)
  local p = strat.params
  local i_arrays = strat.indicators and strat.indicators(s, p) or {}
  local t = strat.signals(s, p, i_arrays).target
  local sig = 0
  for i = s.n - 1, 0, -1 do
    local v = t[i]
    if v == v then sig = v > 0 and 1 or -1; break end
  end
  return { signal = sig, confidence = CONFIDENCE[name] and CONFIDENCE[name](s, p) or 0.5 }
end

function M.symbol(s, opts)
  if type(s) ~= "table" or not s._c then error("gt.analyze.symbol: expected a gt series", 2) end
  if s.n < 2 then return nil, ("analyze: need at least 2 bars, the data has %d"):format(s.n) end
  local o = {}
  for k, v in pairs(M.DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = v end
  local n = s.n
  local c = s.close

  -- a series argument means its close (and high/low/volume for the multi-input ones)
  local macd = ind.macd(s, { fast = 12, slow = 26, signal = 9 })
  local bb = ind.bbands(s, { period = 20, k = 2 })
  local st = ind.stoch(s, { k = 14, smooth = 3, d = 3 })
  local indicators = {
    sma20 = last(ind.sma(s, 20), n), sma50 = last(ind.sma(s, 50), n),
    sma200 = last(ind.sma(s, 200), n), ema12 = last(ind.ema(s, 12), n),
    ema26 = last(ind.ema(s, 26), n), rsi14 = last(ind.rsi(s, 14), n),
    macd = last(macd.macd, n), macd_signal = last(macd.signal, n), macd_hist = last(macd.hist, n),
    bb_upper = last(bb.upper, n), bb_mid = last(bb.mid, n), bb_lower = last(bb.lower, n),
    bb_pctb = last(bb.pctb, n), atr14 = last(ind.atr(s, 14), n),
    obv = last(ind.obv(s), n), stoch_k = last(st.k, n), stoch_d = last(st.d, n),
  }
  local vol = realised_vol(s, o.periods_per_year)
  local res = {
    symbol = s.symbol, timeframe = s.timeframe, time = s:time(n - 1), price = c[n - 1],
    indicators = indicators,
    trend = classify_trend(indicators.sma20, indicators.sma50),
    volatility = classify_vol(vol), realised_vol = vol,
    momentum = classify_momentum(indicators.rsi14),
    volume_profile = volume_profile(s, ind.sma(s.volume, { period = 20, n = n })),
    levels = require("gt.levels").compute(s),
  }

  -- patterns completing in the recent window
  local pats = require("gt.patterns").detect(s, { from = math.max(0, n - o.pattern_window) })
  local recent, bull, bear = {}, 0, 0
  for _, p in ipairs(pats) do
    if p.index >= n - o.pattern_window then
      recent[#recent + 1] = { name = p.name, kind = p.kind, index = p.index, confidence = p.confidence }
      if p.kind == "bullish" then bull = bull + 1 elseif p.kind == "bearish" then bear = bear + 1 end
    end
  end
  res.patterns = recent

  local signals, ssum = {}, 0
  for _, name in ipairs(o.strategies) do
    signals[name] = strategy_signal(name, s)
    ssum = ssum + signals[name].signal
  end
  res.signals = signals

  -- the seed's score
  local score, parts = 0, {}
  local rsi = indicators.rsi14
  parts.rsi = rsi and (rsi < 30 and 2 or rsi > 70 and -2 or 0) or 0
  local m, ms = indicators.macd, indicators.macd_signal
  parts.macd = (m and ms) and (m > ms and 1 or m < ms and -1 or 0) or 0
  parts.trend = res.trend == "bullish" and 2 or res.trend == "bearish" and -2 or 0
  parts.strategies = ssum >= 2 and 2 or ssum <= -2 and -2 or 0
  parts.patterns = bull - bear
  for _, v in pairs(parts) do score = score + v end
  res.score, res.score_parts, res.score_avg = score, parts, score / 5
  res.recommendation, res.confidence = M.recommend(score / 5)
  return res
end

-- avg -> recommendation, confidence
function M.recommend(avg)
  local r
  if avg >= 1.5 then r = "strong_buy"
  elseif avg >= 0.5 then r = "buy"
  elseif avg <= -1.5 then r = "strong_sell"
  elseif avg <= -0.5 then r = "sell"
  else return "hold", 0.5 end
  return r, math.min(0.95, 0.5 + math.abs(avg) / 4)
end

M.classify_trend, M.classify_momentum, M.classify_vol = classify_trend, classify_momentum, classify_vol

return M
