-- gt.patterns: every pattern on a constructed series that contains it (name, kind, the exact
-- completing bar and start worked out by hand from the bars below) and on near misses where
-- it must not fire; then a sweep over real ORCL daily bars (../shared).
local series = require "gt.series"
local patterns = require "gt.patterns"
local t = require "tests.lua.support"

local DAY = 86400 * 1000000

-- rows: {open, high, low, close}
local function make(rows)
  local cols = { ts = {}, open = {}, high = {}, low = {}, close = {}, volume = {} }
  for i, r in ipairs(rows) do
    cols.ts[i] = (i - 1) * DAY
    cols.open[i], cols.high[i], cols.low[i], cols.close[i] = r[1], r[2], r[3], r[4]
    cols.volume[i] = 1000
  end
  return series.from_columns(cols, { symbol = "T", timeframe = "1d" })
end

-- A close path as bars: open halfway from the previous close (the first bar opens at its
-- close), high = max(open, close) + 0.5, low = min(open, close) - 0.5.
local function path(closes)
  local rows = {}
  for i, c in ipairs(closes) do
    local o = i == 1 and c or (closes[i - 1] + c) / 2
    rows[i] = { o, math.max(o, c) + 0.5, math.min(o, c) - 0.5, c }
  end
  return rows
end

-- Reflection p -> 210 - p: turns every bullish construction into its bearish twin.
local function mirror(rows)
  local out = {}
  for i, r in ipairs(rows) do out[i] = { 210 - r[1], 210 - r[3], 210 - r[2], 210 - r[4] } end
  return out
end

local function concat(a, b)
  local out = {}
  for _, r in ipairs(a) do out[#out + 1] = r end
  for _, r in ipairs(b) do out[#out + 1] = r end
  return out
end

-- Exactly one detection, with this name, kind, index and start; returns it.
local function one(list, name, index, start)
  assert.equal(1, #list, ("expected one %s, got %d"):format(name, #list))
  local d = list[1]
  assert.equal(name, d.name)
  assert.equal(patterns.KIND[name], d.kind)
  assert.equal(index, d.index)
  assert.equal(start, d.start)
  assert.is_true(d.confidence >= 0 and d.confidence <= 1)
  assert.equal("table", type(d.details))
  return d
end

local function none(list, what)
  assert.equal(0, #list, what .. ": expected no detection, got " .. #list)
end

---------------------------------------------------------------------------------------------
-- chart patterns

-- Peaks: bar 5 (close 110, high 110.5) and bar 13 (close 110.5, high 111): 0.45 % apart.
-- Trough: bar 9 (low 100.5) = neckline. Bar 17 closes at 100, below it: completion at 17.
local DT = { 100, 102, 104, 106, 108, 110, 107, 104, 102, 101, 103, 106, 108, 110.5, 108, 105,
  102, 100, 99 }
-- The close breaks the neckline on the bar right after the second peak (bar 14), before that
-- peak is a confirmed swing (bar 15, k = 2): the pattern completes at 15, not 14.
local DT_FAST = { 100, 102, 104, 106, 108, 110, 107, 104, 102, 101, 103, 106, 108, 110.5, 100, 99 }
-- After the second peak (bar 13) the price rises above it (bar 17, high 112): the pair (5, 13)
-- is void. (13, 17) would be a double top broken at bar 19 (close 100 < low 104.5), but its
-- peaks are only 4 bars apart (min_sep 5).
local DT_OVER = { 100, 102, 104, 106, 108, 110, 107, 104, 102, 101, 103, 106, 108, 110.5, 108, 105,
  108, 111.5, 106, 100, 99 }
-- Near miss: the second peak, a spike to 116 (high 116.5), is 5.2 % above the first.
local DT_FAR = { 100, 102, 104, 106, 108, 110, 107, 104, 102, 101, 103, 106, 108, 116, 110, 105,
  102, 100, 99 }

-- Shoulders bar 4 (high 106.5) and bar 16 (106.7), head bar 10 (112.5); troughs bar 7
-- (low 99.5) and bar 13 (low 100): neckline 99.5 + (c - 7) / 12. Bar 19 closes 99 < 100.5.
local HS = { 98, 100, 102, 104, 106, 104, 102, 100, 104, 108, 112, 108, 104, 100.5, 102.5, 104.5,
  106.2, 104, 102, 99, 97 }
-- The break comes on the bar after the right shoulder (bar 17): completes when bar 16 is a
-- confirmed swing, at 18.
local HS_FAST = { 98, 100, 102, 104, 106, 104, 102, 100, 104, 108, 112, 108, 104, 100.5, 102.5,
  104.5, 106.2, 99, 97 }
-- Near miss: bar 19 (high 107.5) rises above the right shoulder (106.7) before the break.
local HS_OVER = { 98, 100, 102, 104, 106, 104, 102, 100, 104, 108, 112, 108, 104, 100.5, 102.5,
  104.5, 106.2, 104, 103, 107, 99, 97 }
-- Near miss: the head (bar 10, high 107) is only 0.28 % above the right shoulder (106.7).
local HS_FLAT = { 98, 100, 102, 104, 106, 104, 102, 100, 103, 105, 106.5, 105, 103, 100.5, 102.5,
  104.5, 106.2, 104, 102, 99, 97 }
-- Near miss: the same shape, but the price never closes below the neckline.
local HS_NOBREAK = { 98, 100, 102, 104, 106, 104, 102, 100, 104, 108, 112, 108, 104, 100.5, 102.5,
  104.5, 106.2, 104, 102, 101.5, 102, 101.8, 102.5, 101.9, 102.2, 102, 101.8, 102.1, 102, 101.9,
  102.2, 102, 101.7, 102 }

-- Ascending: swing highs bars 2, 8, 14 all at 110.5; swing lows bar 5 (100.5), bar 11 (103).
-- The fifth point (bar 14) is confirmed at bar 16: the triangle holds from bar 16.
local ASC = { 104, 107, 110, 107, 104, 101, 104, 107, 110, 107.5, 105, 103.5, 106, 108, 110, 108,
  106, 108 }
-- Symmetric: highs 112.5, 110.5, 108.5 (bars 2, 8, 14), lows 99.5, 102 (bars 5, 11).
local SYM = { 106, 109, 112, 108, 104, 100, 104, 107, 110, 107, 104.5, 102.5, 104.5, 106.5, 108,
  106.5, 105, 106.5 }
-- The same with the middle high at 111.5: the upper line's points are off a line by
-- -1/3, 2/3, -1/3 (rms sqrt(2/9) = 0.471, 0.449 % of close[16] = 105).
local SYM_NOISY = { 106, 109, 112, 108, 104, 100, 104, 107, 111, 107, 104.5, 102.5, 104.5, 106.5,
  108, 106.5, 105, 106.5 }
-- Near miss: a rectangle (flat tops at 110.5 and flat bottoms at 100.5) does not converge.
local RECT = { 104, 107, 110, 107, 104, 101, 104, 107, 110, 107, 104, 101, 104, 107, 110, 107,
  104, 101, 104, 107, 110, 107, 104, 101 }

-- Bull flag: pole from bar 2 (low 99) to bar 6 (high 110.5), +11.6 %; flag bars 7..10 drift
-- down (highest flag high 110.1, lowest low 107.1); bar 11 closes 111 above the flag.
local FLAG = { 100, 100.5, 99.5, 101, 104, 107, 110, 109.2, 108.6, 108, 107.6, 111, 112 }
-- Near miss: a 5.6 % pole (99 -> 104.5) is below min_pole_gain (6 %).
local FLAG_WEAK = { 100, 100.5, 99.5, 100.5, 102, 103.5, 104, 103.6, 103.3, 103, 102.8, 104.8 }
-- Near miss: the "flag" drifts up (not counter-trend) before the breakout.
local FLAG_UP = { 100, 100.5, 99.5, 101, 104, 107, 110, 108, 108.5, 109, 109.3, 111 }

-- A long flag (bars 7..14, each bar opening at the previous close, 0.2 wicks) broken by bar 15
-- (close 110.3 > flag high 110.2, high 110.5 = the pole top). Bar 16 closes above every flag
-- high again but is not a second flag: bar 15 already broke out.
local function long_flag()
  local rows = path({ 100, 100.5, 99.5, 101, 104, 107, 110 })
  local prev = 110
  for _, c in ipairs({ 109.4, 109, 108.6, 108.2, 107.8, 107.4, 107, 106.6 }) do
    rows[#rows + 1] = { prev, math.max(prev, c) + 0.2, math.min(prev, c) - 0.2, c }
    prev = c
  end
  rows[#rows + 1] = { 106.8, 110.5, 106.7, 110.3 }
  rows[#rows + 1] = { 110.3, 110.7, 110.2, 110.6 }
  return rows
end

local function mpath(closes) return mirror(path(closes)) end

describe("gt.patterns chart patterns", function()
  it("finds a double top at the neckline break and not with peaks 5 % apart", function()
    local d = one(patterns.double_top(make(path(DT))), "double_top", 17, 5)
    assert.equal("bearish", d.kind)
    assert.equal(13, d.details.peak2)
    assert.equal(9, d.details.trough)
    assert.equal(100.5, d.details.neckline)
    -- quality by hand: similarity 1 - (0.5/111)/0.03, depth capped at 1, break (0.5/100.5)/0.02
    local q = (1 - (0.5 / 111) / 0.03 + 1 + (0.5 / 100.5) / 0.02) / 3
    assert.near(0.7 + 0.3 * (q - 0.5), d.confidence, 1e-9)
    none(patterns.double_top(make(path(DT_FAR))), "peaks 5 % apart")
    -- the near miss fails only on the tolerance
    one(patterns.double_top(make(path(DT_FAR)), { tolerance = 0.06 }), "double_top", 17, 5)
    none(patterns.double_bottom(make(path(DT))), "a top is not a bottom")
    d = one(patterns.double_top(make(path(DT_FAST))), "double_top", 15, 5)
    assert.equal(14, d.details.break_index)
    -- trough depth (110.5 - 100.5) / 110.5 = 9.05 %
    none(patterns.double_top(make(path(DT)), { min_depth = 0.095 }), "trough too shallow")
    one(patterns.double_top(make(path(DT)), { double = { min_depth = 0.09 } }), "double_top", 17, 5)
    none(patterns.double_top(make(path(DT_OVER))), "void pair; peaks 4 bars apart")
    d = one(patterns.double_top(make(path(DT_OVER)), { min_sep = 4 }), "double_top", 19, 13)
    assert.equal(17, d.details.peak2)
  end)

  it("finds a double bottom (the mirror image) and not with lows 5 % apart", function()
    local d = one(patterns.double_bottom(make(mpath(DT))), "double_bottom", 17, 5)
    assert.equal("bullish", d.kind)
    assert.equal(109.5, d.details.neckline)
    none(patterns.double_bottom(make(mpath(DT_FAR))), "lows 5 % apart")
    none(patterns.double_top(make(mpath(DT))), "a bottom is not a top")
  end)

  it("finds head and shoulders at the neckline break", function()
    local d = one(patterns.head_and_shoulders(make(path(HS))), "head_and_shoulders", 19, 4)
    assert.equal("bearish", d.kind)
    assert.equal(10, d.details.head)
    assert.equal(16, d.details.right_shoulder)
    assert.equal(7, d.details.trough1)
    assert.equal(13, d.details.trough2)
    assert.near(99.5 + 12 / 12, d.details.neckline, 1e-9)
    assert.is_true(d.confidence >= 0.65 and d.confidence <= 0.95)
    none(patterns.head_and_shoulders(make(path(HS_FLAT))), "head 0.28 % above a shoulder")
    none(patterns.head_and_shoulders(make(path(HS_NOBREAK))), "no neckline break")
    none(patterns.inverse_head_and_shoulders(make(path(HS))), "not inverse")
    none(patterns.head_and_shoulders(make(path(HS_OVER))), "right shoulder exceeded")
    -- shoulders stand (106.5 - 99.5) / 106.5 = 6.6 % and (106.7 - 100) / 106.7 = 6.3 % above
    -- the lows beside the head
    none(patterns.head_and_shoulders(make(path(HS)), { min_depth = 0.065 }), "shallow")
    one(patterns.head_and_shoulders(make(path(HS)), { min_depth = 0.06 }), "head_and_shoulders", 19, 4)
    d = one(patterns.head_and_shoulders(make(path(HS_FAST))), "head_and_shoulders", 18, 4)
    assert.equal(17, d.details.break_index)
  end)

  it("finds inverse head and shoulders (the mirror image)", function()
    local d = one(patterns.inverse_head_and_shoulders(make(mpath(HS))),
      "inverse_head_and_shoulders", 19, 4)
    assert.equal("bullish", d.kind)
    none(patterns.inverse_head_and_shoulders(make(mpath(HS_FLAT))), "head too shallow")
    none(patterns.inverse_head_and_shoulders(make(mpath(HS_NOBREAK))), "no neckline break")
  end)

  it("finds an ascending triangle when its fifth swing point is confirmed", function()
    local s = make(path(ASC))
    local d = one(patterns.ascending_triangle(s), "ascending_triangle", 16, 2)
    assert.equal("bullish", d.kind)
    assert.equal(3, d.details.highs)
    assert.equal(2, d.details.lows)
    assert.near(0, d.details.upper_slope, 1e-9)
    assert.near(2.5 / 6, d.details.lower_slope, 1e-9) -- (103 - 100.5) / (11 - 5)
    assert.near(110.5, d.details.upper, 1e-9)
    none(patterns.descending_triangle(s), "ascending is not descending")
    none(patterns.symmetric_triangle(s), "ascending is not symmetric")
    none(patterns.ascending_triangle(make(path(RECT))), "a rectangle")
    -- the gap narrows from 11.25 (bar 2) to 5.42 (bar 16), by 52 %
    none(patterns.ascending_triangle(s, { min_narrow = 0.6 }), "narrows too little (55 % by bar 17)")
    -- every close from the first swing point on is checked, not only the last: bar 5 closes
    -- 0.47 % (of close[16]) inside the lower line, bar 16 0.87 %; demand 0.6 %
    none(patterns.ascending_triangle(s, { contain = -0.006 }), "bar 5 too close to the line")
    one(patterns.ascending_triangle(s, { contain = -0.004 }), "ascending_triangle", 16, 2)
    none(patterns.chart(make(path(RECT)), { only = { "ascending_triangle", "descending_triangle",
      "symmetric_triangle" } }), "a rectangle")
  end)

  it("finds a descending triangle (the mirror image)", function()
    local s = make(mpath(ASC))
    local d = one(patterns.descending_triangle(s), "descending_triangle", 16, 2)
    assert.equal("bearish", d.kind)
    none(patterns.ascending_triangle(s), "descending is not ascending")
    none(patterns.descending_triangle(make(mpath(RECT))), "a rectangle")
  end)

  it("finds a symmetric triangle", function()
    local s = make(path(SYM))
    local d = one(patterns.symmetric_triangle(s), "symmetric_triangle", 16, 2)
    assert.equal("neutral", d.kind)
    assert.near(-1 / 3, d.details.upper_slope, 1e-9) -- 112.5, 110.5, 108.5 every 6 bars
    assert.near(2.5 / 6, d.details.lower_slope, 1e-9)
    -- exact fits: rms 0, r^2 1, 5 points: q = (1 + 1 + 1/4) / 3
    assert.near(0.6 + 0.3 * ((2.25 / 3) - 0.5), d.confidence, 1e-6)
    none(patterns.ascending_triangle(s), "symmetric is not ascending")
    none(patterns.symmetric_triangle(make(path(RECT))), "a rectangle")
    d = one(patterns.symmetric_triangle(make(path(SYM_NOISY))), "symmetric_triangle", 16, 2)
    assert.near(math.sqrt(2 / 9) / 105, d.details.rms_upper, 1e-9)
    none(patterns.symmetric_triangle(make(path(SYM_NOISY)), { max_err = 0.004 }), "rms 0.45 % > 0.4 %")
  end)

  it("finds a bull flag at the breakout and not with a weak pole or a rising flag", function()
    local d = one(patterns.bull_flag(make(path(FLAG))), "bull_flag", 11, 2)
    assert.equal("bullish", d.kind)
    assert.equal(6, d.details.pole_top)
    assert.near((110.5 - 99) / 99, d.details.pole_gain, 1e-12)
    assert.near((110.5 - 107.1) / 11.5, d.details.retrace, 1e-9)
    none(patterns.bull_flag(make(path(FLAG)), { max_retrace = 0.25 }), "retraces 30 % of the pole")
    none(patterns.bull_flag(make(path(FLAG_WEAK))), "5.6 % pole")
    one(patterns.bull_flag(make(path(FLAG_WEAK)), { min_pole_gain = 0.05 }), "bull_flag", 11, 2)
    none(patterns.bull_flag(make(path(FLAG_UP))), "flag drifting with the pole")
    none(patterns.bear_flag(make(path(FLAG))), "not a bear flag")
    d = one(patterns.bull_flag(make(long_flag())), "bull_flag", 15, 2)
    assert.equal(14, d.details.flag_end)
  end)

  it("finds a bear flag (the mirror image)", function()
    local d = one(patterns.bear_flag(make(mpath(FLAG))), "bear_flag", 11, 2)
    assert.equal("bearish", d.kind)
    none(patterns.bear_flag(make(mpath(FLAG_UP))), "flag drifting with the pole")
  end)
end)

---------------------------------------------------------------------------------------------
-- candlesticks

-- Six falling bars (closes 110 .. 100, open = close + 1): a downtrend before bar 6.
local DOWN = {}
for i = 0, 5 do
  local c = 110 - 2 * i
  DOWN[#DOWN + 1] = { c + 1, c + 1.5, c - 0.5, c }
end
local UP = mirror(DOWN) -- closes 100 .. 110 rising

-- Morning star: a long black bar (body 4 of 4.5), a star whose body gaps below it (body 0.2 of
-- 0.8), a white bar closing 98.8, above the first body's midpoint 98.
local STAR = { { 100, 100.3, 95.8, 96 }, { 95.2, 95.7, 94.9, 95.4 }, { 95.6, 99, 95.5, 98.8 } }
local STAR_SHORT = { { 100, 100.3, 95.8, 96 }, { 95.2, 95.7, 94.9, 95.4 }, { 95.6, 97.7, 95.5, 97.5 } }
-- the star's body (1.6 of a 2.0 range) is too big
local STAR_BIG = { { 100, 100.3, 95.8, 96 }, { 94, 95.8, 93.8, 95.6 }, { 95.6, 99, 95.5, 98.8 } }
-- the star's body top touches the first close (96): no gap
local STAR_NOGAP = { { 100, 100.3, 95.8, 96 }, { 95.8, 96.3, 95.5, 96 }, { 95.6, 99, 95.5, 98.8 } }

describe("gt.patterns candlesticks", function()
  it("finds a doji, and not a doji-like bar with a big body", function()
    -- range 2, body 0.05 <= 0.1 * 2
    local d = one(patterns.doji(make(concat(DOWN, { { 100, 101, 99, 100.05 } }))), "doji", 6, 6)
    assert.near(0.5 + 0.3 * (1 - 0.05 / 0.2 - 0.5), d.confidence, 1e-9)
    none(patterns.doji(make(concat(DOWN, { { 100, 101, 99, 100.5 } }))), "body 0.25 of the range")
    none(patterns.doji(make({ { 100, 100, 100, 100 } })), "a bar with no range")
  end)

  it("finds a hammer after a decline only", function()
    -- range 2.6, body 0.5, lower shadow 2 (>= 2 bodies), upper shadow 0.1 (<= 0.26)
    local bar = { 99, 99.6, 97, 99.5 }
    local d = one(patterns.hammer(make(concat(DOWN, { bar }))), "hammer", 6, 6)
    assert.near(0.6 + 0.3 * ((2 / 2.6 + 1 - 0.1 / 0.26 + 1) / 3 - 0.5), d.confidence, 1e-9)
    none(patterns.hammer(make(concat(DOWN, { { 99, 100, 97, 99.5 } }))), "upper shadow 0.5 of 3")
    none(patterns.hammer(make(concat(DOWN, { { 98.5, 99.6, 97.6, 99.5 } }))), "lower shadow 0.9 body")
    none(patterns.hammer(make(concat(UP, { { 111, 111.6, 109, 111.5 } }))), "after a rise")
    none(patterns.hammer(make({ bar })), "no trend context")
    one(patterns.hammer(make({ bar }), { trend = false }), "hammer", 0, 0)
  end)

  it("finds a shooting star after a rise only", function()
    local star = mirror({ { 99, 99.6, 97, 99.5 } })[1]
    one(patterns.shooting_star(make(concat(UP, { star }))), "shooting_star", 6, 6)
    none(patterns.shooting_star(make(concat(DOWN, { star }))), "after a decline")
    none(patterns.shooting_star(make(concat(UP, mirror({ { 99, 100, 97, 99.5 } })))), "lower shadow")
  end)

  local ENGULF = { { 100, 100.2, 98.8, 99 }, { 98.8, 100.7, 98.6, 100.5 } }
  local NOT_ENGULF = { { 100, 100.2, 98.8, 99 }, { 98.8, 100.2, 98.6, 99.9 } }

  it("finds a bullish engulfing at its second bar", function()
    local d = one(patterns.bullish_engulfing(make(concat(DOWN, ENGULF))), "bullish_engulfing", 7, 6)
    -- body 1.7 over 1: min(1, 0.7), trend 100/110 - 1 beyond 5 %: 1
    assert.near(0.65 + 0.3 * ((0.7 + 1) / 2 - 0.5), d.confidence, 1e-9)
    none(patterns.bullish_engulfing(make(concat(DOWN, NOT_ENGULF))), "closes below the prior open")
    none(patterns.bullish_engulfing(make(concat(UP, ENGULF))), "after a rise")
  end)

  it("finds a bearish engulfing (the mirror image)", function()
    one(patterns.bearish_engulfing(make(concat(UP, mirror(ENGULF)))), "bearish_engulfing", 7, 6)
    none(patterns.bearish_engulfing(make(concat(UP, mirror(NOT_ENGULF)))), "not engulfing")
    none(patterns.bullish_engulfing(make(concat(UP, mirror(ENGULF)))), "wrong direction")
  end)

  it("finds a morning star at its third bar", function()
    local d = one(patterns.morning_star(make(concat(DOWN, STAR))), "morning_star", 8, 6)
    assert.near(0.7 + 0.3 * ((0.4 + (1 - 0.2 / 0.24) + 1) / 3 - 0.5), d.confidence, 1e-9)
    none(patterns.morning_star(make(concat(DOWN, STAR_SHORT))), "closes below the midpoint")
    none(patterns.morning_star(make(concat(DOWN, STAR_NOGAP))), "no gap")
    none(patterns.morning_star(make(concat(DOWN, STAR_BIG))), "the star has a big body")
    one(patterns.morning_star(make(concat(DOWN, STAR_NOGAP)), { gap = false }), "morning_star", 8, 6)
  end)

  it("finds an evening star (the mirror image)", function()
    one(patterns.evening_star(make(concat(UP, mirror(STAR)))), "evening_star", 8, 6)
    none(patterns.evening_star(make(concat(UP, mirror(STAR_SHORT)))), "midpoint")
    none(patterns.evening_star(make(concat(DOWN, mirror(STAR)))), "after a decline")
  end)

  local SOLDIERS = { { 100.2, 102.2, 100, 102 }, { 101.5, 103.7, 101.3, 103.5 },
    { 103, 105.2, 102.8, 105 } }
  local GAPPED = { { 100.2, 102.2, 100, 102 }, { 101.5, 103.7, 101.3, 103.5 },
    { 104, 105.2, 103.8, 105 } }
  -- the third bar opens below the second one's open (101.5): not within its body
  local LOW_OPEN = { { 100.2, 102.2, 100, 102 }, { 101.5, 103.7, 101.3, 103.5 },
    { 101.4, 105.2, 101.2, 105 } }
  local SHADOW = { { 100.2, 102.2, 100, 102 }, { 101.5, 103.7, 101.3, 103.5 },
    { 103, 107, 102.8, 105 } }

  it("finds three white soldiers at the third bar", function()
    local d = one(patterns.three_white_soldiers(make(concat(DOWN, SOLDIERS))),
      "three_white_soldiers", 8, 6)
    local qb = ((1.8 / 2.2 - 0.5) + (2 / 2.4 - 0.5) * 2) / 0.5 / 3
    local qs = ((1 - (0.2 / 2.2) / 0.3) + (1 - (0.2 / 2.4) / 0.3) * 2) / 3
    assert.near(0.7 + 0.3 * ((qb + qs + 1) / 3 - 0.5), d.confidence, 1e-9)
    none(patterns.three_white_soldiers(make(concat(DOWN, GAPPED))), "opens above the prior body")
    none(patterns.three_white_soldiers(make(concat(DOWN, SHADOW))), "long upper shadow")
    none(patterns.three_white_soldiers(make(concat(DOWN, LOW_OPEN))), "opens below the prior body")
    none(patterns.three_white_soldiers(make(concat(UP, SOLDIERS))), "after a rise")
  end)

  it("finds three black crows (the mirror image)", function()
    one(patterns.three_black_crows(make(concat(UP, mirror(SOLDIERS)))), "three_black_crows", 8, 6)
    none(patterns.three_black_crows(make(concat(UP, mirror(GAPPED)))), "opens below the prior body")
    none(patterns.three_black_crows(make(concat(DOWN, mirror(SOLDIERS)))), "after a decline")
  end)
end)

---------------------------------------------------------------------------------------------
-- API

describe("gt.patterns API", function()
  it("detect merges chart and candle detections sorted by bar; from/last_only scan the end", function()
    local s = make(concat(DOWN, STAR))
    local all = patterns.detect(s)
    for i = 2, #all do assert.is_true(all[i - 1].index <= all[i].index) end
    local names = {}
    for _, d in ipairs(all) do names[d.name] = true end
    assert.is_true(names.morning_star)
    local last = patterns.detect(s, { last_only = true })
    for _, d in ipairs(last) do assert.equal(8, d.index) end
    assert.equal(1, #patterns.candles(s, { last_only = true, only = { "morning_star" } }))
    assert.equal(0, #patterns.candles(s, { from = 9 }))
    assert.same(patterns.candles(s, { from = 7 }), (function()
      local out = {}
      for _, d in ipairs(patterns.candles(s)) do if d.index >= 7 then out[#out + 1] = d end end
      return out
    end)())
    assert.same({}, patterns.detect(series.new()))
  end)

  it("rejects misuse", function()
    local ok, err = pcall(patterns.detect, {})
    assert.is_false(ok)
    assert.matches("expected a gt.series", err, 1, true)
    ok, err = pcall(patterns.double_top, make(path(DT)), { from = -1 })
    assert.is_false(ok)
    assert.matches("from must be a bar index", err, 1, true)
    ok, err = pcall(patterns.chart, make(path(DT)), { only = { "nope" } })
    assert.is_false(ok)
    assert.matches("unknown pattern 'nope'", err, 1, true)
  end)
end)

---------------------------------------------------------------------------------------------
-- a sweep over real daily bars

-- Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil).
local function days(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- Yahoo layout: Date,Open,High,Low,Close,Adj Close,Volume
local function read_yahoo(p)
  local cols = { ts = {}, open = {}, high = {}, low = {}, close = {}, volume = {} }
  local f = assert(io.open(p, "rb"))
  assert(f:read("*l"):match("^Date,Open,High,Low,Close"))
  for line in f:lines() do
    local y, m, d, o, h, l, c, v =
      line:match("^(%d+)-(%d+)-(%d+),([^,]+),([^,]+),([^,]+),([^,]+),[^,]+,([^,]+)$")
    assert(y, "unparsed line: " .. line)
    local i = #cols.close + 1
    cols.ts[i] = days(tonumber(y), tonumber(m), tonumber(d)) * DAY
    cols.open[i], cols.high[i], cols.low[i], cols.close[i], cols.volume[i] =
      tonumber(o), tonumber(h), tonumber(l), tonumber(c), tonumber(v)
  end
  f:close()
  return series.from_columns(cols, { symbol = "ORCL", timeframe = "1d" })
end

describe("gt.patterns on ORCL 1995-2014 daily", function()
  local file, why = t.shared_file("data/backtrader/orcl-1995-2014.txt")
  if not file then
    pending("needs ../shared/data/backtrader/orcl-1995-2014.txt: " .. why)
    return
  end
  local s = read_yahoo(file)
  local all = patterns.detect(s)

  it("reads the file", function()
    assert.equal(5036, s.n)
    assert.equal(2.117284, s.close[0])
    assert.equal(days(2014, 12, 31) * DAY, s:time(s.n - 1))
  end)

  it("returns well-formed detections with indices in range", function()
    assert.is_true(#all > 0)
    for i, d in ipairs(all) do
      assert.is_string(d.name)
      assert.equal(patterns.KIND[d.name], d.kind)
      assert.is_true(d.index >= 0 and d.index < s.n and d.index == math.floor(d.index))
      assert.is_true(d.start >= 0 and d.start <= d.index)
      assert.is_true(d.confidence >= 0 and d.confidence <= 1, d.name)
      assert.equal("table", type(d.details))
      if i > 1 then assert.is_true(all[i - 1].index <= d.index) end
    end
    -- a triangle whose conditions flicker off and on is reported once per first swing point
    local seen = {}
    for _, d in ipairs(all) do
      if d.name:match("triangle$") then
        local key = d.name .. "@" .. d.start
        assert.is_nil(seen[key], key)
        seen[key] = true
      end
    end
  end)

  it("finds a plausible number of each candlestick pattern (some, but far from every bar)", function()
    local count = {}
    for _, d in ipairs(all) do count[d.name] = (count[d.name] or 0) + 1 end
    for _, name in ipairs(patterns.CANDLE_NAMES) do
      local c = count[name] or 0
      assert.is_true(c > 0, name .. " never found")
      assert.is_true(c < s.n / 5, ("%s on %d of %d bars"):format(name, c, s.n))
    end
    for _, name in ipairs(patterns.CHART_NAMES) do
      assert.is_true((count[name] or 0) < s.n / 20, name)
    end
    -- the common chart patterns do occur in 20 years of daily bars
    for _, name in ipairs({ "double_top", "double_bottom", "head_and_shoulders",
      "inverse_head_and_shoulders", "bull_flag", "bear_flag" }) do
      assert.is_true((count[name] or 0) > 0, name .. " never found")
    end
  end)

  it("is causal: a prefix, and a scan from a recent bar, give the full scan's detections", function()
    local function key(d) return ("%s@%d/%d:%.12g"):format(d.name, d.index, d.start, d.confidence) end
    local function keys(list, lo, hi)
      local out = {}
      for _, d in ipairs(list) do
        if d.index >= lo and d.index < hi then out[#out + 1] = key(d) end
      end
      table.sort(out)
      return out
    end
    local m = 2500
    assert.same(keys(all, 0, m), keys(patterns.detect(s:slice(0, m)), 0, m))
    local from = s.n - 300
    assert.same(keys(all, from, s.n), keys(patterns.detect(s, { from = from }), 0, s.n))
    assert.same(keys(all, s.n - 1, s.n), keys(patterns.detect(s, { last_only = true }), 0, s.n))
    -- triangles keep state (one report per formation): scans that start right after a
    -- report must still agree with the full scan
    local tri = { only = { "ascending_triangle", "descending_triangle", "symmetric_triangle" } }
    local full = patterns.chart(s, tri)
    for _, d in ipairs(full) do
      local o = { from = d.index + 1, only = tri.only }
      assert.same(keys(full, o.from, s.n), keys(patterns.chart(s, o), 0, s.n))
    end
  end)
end)
