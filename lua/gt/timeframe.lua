-- gt.timeframe: the one spelling of timeframes everywhere (API, CLI, database):
-- 1m 5m 15m 30m 1h 4h 1d 1w 1mo (any positive count with m, h, d, w, mo).
local C = require("gt.ffi").C

local M = {}

local MIN = 60 * 1000000
local units = {
  m = { unit = C.GT_TF_MINUTE, us = MIN },
  h = { unit = C.GT_TF_HOUR, us = 60 * MIN },
  d = { unit = C.GT_TF_DAY, us = 1440 * MIN },
  w = { unit = C.GT_TF_WEEK, us = 7 * 1440 * MIN },
  mo = { unit = C.GT_TF_MONTH, us = 30.436875 * 1440 * MIN }, -- mean month, for spacing estimates
}

-- parse("15m") -> {count=15, suffix="m", unit=<gt_tf_unit>, us=<nominal length>} or nil, err
function M.parse(tf)
  if type(tf) ~= "string" then return nil, "timeframe must be a string like 1d" end
  local count, suffix = tf:match("^(%d+)(%a+)$")
  local u = units[suffix or ""]
  count = tonumber(count)
  if not u or not count or count < 1 then
    return nil, ("bad timeframe '%s': use a count and m, h, d, w or mo (1m 5m 15m 1h 4h 1d 1w 1mo)"):format(tf)
  end
  return { count = count, suffix = suffix, unit = u.unit, us = count * u.us, name = tf }
end

-- Like parse, but raises (for programmer input).
function M.check(tf, level)
  local t, err = M.parse(tf)
  if not t then error(err, (level or 1) + 1) end
  return t
end

-- The timeframe that the median spacing of s's timestamps matches (within 5%, months as
-- 27 to 32 days), and that median in seconds; nil (and the median, if any) when none does
-- (2-day bars, irregular ticks). Up to 10001 spacings spread over the series are sampled,
-- so large series cost little.
local NOMINAL = { { "1m", 60 }, { "5m", 300 }, { "15m", 900 }, { "30m", 1800 }, { "1h", 3600 },
  { "4h", 4 * 3600 }, { "1d", 86400 }, { "1w", 7 * 86400 } }
function M.infer(s)
  local n = s.n
  if n < 2 then return nil end
  local gaps = {}
  local step = math.max(1, math.floor((n - 1) / 10001))
  for i = 0, n - 2, step do
    gaps[#gaps + 1] = tonumber(s.ts[i + 1] - s.ts[i]) / 1e6
  end
  table.sort(gaps)
  local med = gaps[math.floor((#gaps + 1) / 2)]
  for _, tf in ipairs(NOMINAL) do
    if math.abs(med - tf[2]) <= 0.05 * tf[2] then return tf[1], med end
  end
  if med >= 27 * 86400 and med <= 32 * 86400 then return "1mo", med end
  return nil, med
end

-- Annualisation: bars per year for a timeframe (252 trading days; intraday bars assume a
-- 6.5-hour US session unless the caller knows better).
function M.periods_per_year(tf, session_hours)
  local t = M.check(tf, 2)
  if t.suffix == "mo" then return 12 / t.count end
  if t.suffix == "w" then return 52 / t.count end
  if t.suffix == "d" then return 252 / t.count end
  local per_day = (session_hours or 6.5) * 3600e6 / t.us
  return 252 * per_day
end

return M
