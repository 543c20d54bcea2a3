-- gt.levels: price levels of a series for gt.analyze: classic floor-trader pivots of one
-- bar, support/resistance from the recent window (the seed's rules), and swing highs/lows.
-- Reads a gt.series (0-based columns s.high[i] ...); allocates only the result tables.
--
-- Formulas (H, L, C = high, low, close of the reference bar, by default the last one):
--   pivot = (H + L + C) / 3
--   r1 = 2*pivot - L          s1 = 2*pivot - H
--   r2 = pivot + (H - L)      s2 = pivot - (H - L)
-- Over the last `lookback` bars ending at the reference bar (fewer if the series is shorter):
--   support    = min low             strong_support    = mean of the `strong_n` lowest lows
--   resistance = max high            strong_resistance = mean of the `strong_n` highest highs
-- (strong_n = 3 as in the seed; a window shorter than strong_n uses all its bars.)
-- Swing high at bar i: high[i] is strictly greater than the high of each of the k bars
-- before and the k bars after it (swing low likewise, strictly lower lows). A swing needs
-- k bars on both sides, so the last k bars before the reference bar can never be swings
-- yet: nothing looks past the reference bar.
local M = {}

M.DEFAULTS = {
  lookback = 20,       -- bars in the support/resistance window
  strong_n = 3,        -- extremes averaged for strong support/resistance
  k = 2,               -- swing order: bars on each side
  swing_lookback = nil, -- nil: swings over the whole series up to the reference bar
}

-- Columns are FFI arrays (an empty series may hold NULL, which == nil, so test the type).
local function column(c) return type(c) == "cdata" or type(c) == "table" end

local function check_series(s, who)
  if type(s) ~= "table" or type(s.n) ~= "number" or not column(s.high) or not column(s.low)
    or not column(s.close) then
    error(who .. ": expected a gt.series", 3)
  end
end

local function opt(opts, key)
  local v = opts and opts[key]
  if v == nil then return M.DEFAULTS[key] end
  return v
end

local function check_int(v, name, min, who)
  if type(v) ~= "number" or v ~= math.floor(v) or v < min then
    error(("%s: %s must be an integer >= %d"):format(who, name, min), 3)
  end
end

-- Classic pivots from one bar's high, low and close.
function M.pivots(h, l, c)
  local p = (h + l + c) / 3
  return p, 2 * p - l, 2 * p - h, p + (h - l), p - (h - l)
end

-- True when bar i is a swing point of order k on col (dir = 1: high, -1: low), i.e. col[i]
-- is strictly beyond col[j] for every j within k bars; bars near either end are never swings.
-- Only bars 0 .. n-1 are looked at.
function M.is_swing(col, i, k, dir, n)
  if i - k < 0 or i + k > n - 1 then return false end
  local v = col[i]
  if dir > 0 then
    for j = 1, k do
      if not (v > col[i - j] and v > col[i + j]) then return false end
    end
  else
    for j = 1, k do
      if not (v < col[i - j] and v < col[i + j]) then return false end
    end
  end
  return true
end

-- Swing highs and lows confirmed by bar `at` (default the last bar), as lists of
-- {index=, price=} oldest first. opts: k, swing_lookback (bars before `at` to search), at.
function M.swings(s, opts)
  check_series(s, "gt.levels.swings")
  local k = opt(opts, "k")
  check_int(k, "k", 1, "gt.levels.swings")
  local at = opts and opts.at or s.n - 1
  local highs, lows = {}, {}
  if s.n == 0 then return highs, lows end
  local first = 0
  local lb = opt(opts, "swing_lookback")
  if lb then first = math.max(0, at - lb + 1) end
  local hi, lo = s.high, s.low
  local last = at + 1 -- is_swing's n: bars 0 .. at are visible
  for i = math.max(first, k), at - k do
    if M.is_swing(hi, i, k, 1, last) then highs[#highs + 1] = { index = i, price = hi[i] } end
    if M.is_swing(lo, i, k, -1, last) then lows[#lows + 1] = { index = i, price = lo[i] } end
  end
  return highs, lows
end

-- Mean of the m most extreme values of col over bars a..b (dir = -1: lowest, 1: highest),
-- with a small insertion buffer instead of sorting a copy of the window.
local function mean_extreme(col, a, b, m, dir)
  local buf, cnt = {}, 0
  for i = a, b do
    local v = col[i]
    if cnt < m then
      cnt = cnt + 1
      local j = cnt
      while j > 1 and (v - buf[j - 1]) * dir > 0 do buf[j] = buf[j - 1]; j = j - 1 end
      buf[j] = v
    elseif (v - buf[m]) * dir > 0 then
      local j = m
      while j > 1 and (v - buf[j - 1]) * dir > 0 do buf[j] = buf[j - 1]; j = j - 1 end
      buf[j] = v
    end
  end
  local sum = 0
  for j = 1, cnt do sum = sum + buf[j] end
  return sum / cnt
end

-- compute(s [, opts]) -> {pivot=, r1=, s1=, r2=, s2=, support=, strong_support=, resistance=,
-- strong_resistance=, swing_highs=, swing_lows=, index=, lookback=}
-- opts: lookback, strong_n, k, swing_lookback (see DEFAULTS) and at (reference bar, default
-- the last one). An empty series returns nil, "empty series".
function M.compute(s, opts)
  check_series(s, "gt.levels.compute")
  if opts ~= nil and type(opts) ~= "table" then
    error("gt.levels.compute: opts must be a table", 2)
  end
  local n = s.n
  if n == 0 then return nil, "empty series" end
  local at = opts and opts.at or n - 1
  if type(at) ~= "number" or at ~= math.floor(at) or at < 0 or at > n - 1 then
    error(("gt.levels.compute: at must be a bar index in 0..%d"):format(n - 1), 2)
  end
  local lookback, strong_n = opt(opts, "lookback"), opt(opts, "strong_n")
  check_int(lookback, "lookback", 1, "gt.levels.compute")
  check_int(strong_n, "strong_n", 1, "gt.levels.compute")
  local hi, lo = s.high, s.low
  local a = math.max(0, at - lookback + 1)
  local sup, res = lo[a], hi[a]
  for i = a + 1, at do
    if lo[i] < sup then sup = lo[i] end
    if hi[i] > res then res = hi[i] end
  end
  local p, r1, s1, r2, s2 = M.pivots(hi[at], lo[at], s.close[at])
  local sh, sl = M.swings(s, { k = opt(opts, "k"), swing_lookback = opt(opts, "swing_lookback"),
    at = at })
  return {
    index = at, lookback = at - a + 1,
    pivot = p, r1 = r1, s1 = s1, r2 = r2, s2 = s2,
    support = tonumber(sup), strong_support = mean_extreme(lo, a, at, strong_n, -1),
    resistance = tonumber(res), strong_resistance = mean_extreme(hi, a, at, strong_n, 1),
    swing_highs = sh, swing_lows = sl,
  }
end

return M
