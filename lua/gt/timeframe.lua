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

-- Names a bar spacing in microseconds with the closest standard timeframe.
local standard = { "1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "1mo" }
function M.infer(spacing_us)
  if not spacing_us or spacing_us <= 0 then return nil end
  local best, bestd
  for _, name in ipairs(standard) do
    local d = math.abs(math.log(spacing_us / M.parse(name).us))
    if not bestd or d < bestd then best, bestd = name, d end
  end
  return best
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
