-- gt.levels against hand-worked values (the seed's 3-bar support/resistance example and an
-- 8-bar frame whose swings were found by reading the highs and lows by eye).
local series = require "gt.series"
local levels = require "gt.levels"

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

-- bars with open = close = mid of the given high and low
local function hl(highs, lows)
  local rows = {}
  for i = 1, #highs do
    local m = (highs[i] + lows[i]) / 2
    rows[i] = { m, highs[i], lows[i], m }
  end
  return make(rows)
end

local function indices(list)
  local out = {}
  for i, p in ipairs(list) do out[i] = p.index end
  return out
end

describe("gt.levels", function()
  it("reproduces the seed's 3-bar example: support 7, resistance 12, pivot (12+9+11)/3", function()
    local s = make({ { 9, 10, 8, 9.5 }, { 9.5, 11, 7, 10 }, { 10, 12, 9, 11 } })
    local lv = levels.compute(s)
    assert.equal(7, lv.support)
    assert.equal(12, lv.resistance)
    local p = (12 + 9 + 11) / 3
    assert.near(32 / 3, lv.pivot, 1e-12)
    assert.equal(p, lv.pivot)
    -- classic floor pivots worked by hand: R1 = 2P - L, S1 = 2P - H, R2 = P + (H - L), S2 = P - (H - L)
    assert.near(64 / 3 - 9, lv.r1, 1e-12)   -- 12.333...
    assert.near(64 / 3 - 12, lv.s1, 1e-12)  -- 9.333...
    assert.near(32 / 3 + 3, lv.r2, 1e-12)   -- 13.666...
    assert.near(32 / 3 - 3, lv.s2, 1e-12)   -- 7.666...
    -- strong levels: mean of the 3 most extreme lows (8, 7, 9) and highs (10, 11, 12)
    assert.equal(8, lv.strong_support)
    assert.equal(11, lv.strong_resistance)
    assert.same({}, lv.swing_highs, "3 bars cannot hold a swing with 2 bars each side")
    assert.same({}, lv.swing_lows)
    assert.equal(2, lv.index)
    assert.equal(3, lv.lookback)
  end)

  -- highs 5 7 6 8 8 9 4 6, lows 3 4 2 5 6 1 2 3
  local H = { 5, 7, 6, 8, 8, 9, 4, 6 }
  local L = { 3, 4, 2, 5, 6, 1, 2, 3 }

  it("takes support and resistance from the last `lookback` bars only", function()
    local lv = levels.compute(hl(H, L), { lookback = 4 })
    -- bars 4..7: lows 6 1 2 3, highs 8 9 4 6
    assert.equal(1, lv.support)
    assert.equal(2, lv.strong_support)           -- (1 + 2 + 3) / 3
    assert.equal(9, lv.resistance)
    assert.near(23 / 3, lv.strong_resistance, 1e-12) -- (9 + 8 + 6) / 3
    assert.equal(4.5, lv.pivot)                   -- (6 + 3 + 4.5) / 3
    -- default lookback 20 covers all 8 bars
    local all = levels.compute(hl(H, L))
    assert.equal(1, all.support)
    assert.near(5 / 3, all.strong_support, 1e-12) -- (1 + 2 + 2) / 3
    assert.equal(9, all.resistance)
    assert.near(25 / 3, all.strong_resistance, 1e-12) -- (9 + 8 + 8) / 3
  end)

  it("finds swing highs and lows as strict extremes of k bars either side", function()
    local s = hl(H, L)
    local lv = levels.compute(s) -- k = 2
    assert.same({ 5 }, indices(lv.swing_highs))   -- 9 beats 8 8 | 4 6
    assert.same({ 2, 5 }, indices(lv.swing_lows)) -- 2 beats 3 4 | 5 6; 1 beats 5 6 | 2 3
    assert.equal(9, lv.swing_highs[1].price)
    assert.equal(1, lv.swing_lows[2].price)
    local hs, ls = levels.swings(s, { k = 1 })
    -- k = 1: bar 1 (7 > 5, 6) and bar 5; bars 3 and 4 tie at 8, so neither is strict
    assert.same({ 1, 5 }, indices(hs))
    assert.same({ 2, 5 }, indices(ls))
  end)

  it("computes levels as of an earlier bar without looking past it", function()
    local lv = levels.compute(hl(H, L), { at = 5, lookback = 3, k = 1 })
    -- bars 3..5: lows 5 6 1, highs 8 8 9; pivot of bar 5 (9 + 1 + 5) / 3
    assert.equal(1, lv.support)
    assert.equal(4, lv.strong_support)
    assert.equal(9, lv.resistance)
    assert.equal(5, lv.pivot)
    -- bar 5 is not yet a swing high at bar 5 (bar 6 is unknown)
    assert.same({ 1 }, indices(lv.swing_highs))
    assert.same({ 2 }, indices(lv.swing_lows))
  end)

  it("limits swings to swing_lookback bars", function()
    local hs, ls = levels.swings(hl(H, L), { k = 1, swing_lookback = 5 })
    assert.same({ 5 }, indices(hs))
    assert.same({ 5 }, indices(ls))
  end)

  it("rejects misuse and reports an empty series", function()
    local ok, err = pcall(levels.compute, {})
    assert.is_false(ok)
    assert.matches("expected a gt.series", err, 1, true)
    ok, err = pcall(levels.compute, hl(H, L), { lookback = 0 })
    assert.is_false(ok)
    assert.matches("lookback must be an integer >= 1", err, 1, true)
    ok, err = pcall(levels.compute, hl(H, L), { at = 8 })
    assert.is_false(ok)
    assert.matches("at must be a bar index in 0..7", err, 1, true)
    local lv, msg = levels.compute(series.new())
    assert.is_nil(lv)
    assert.equal("empty series", msg)
  end)
end)
