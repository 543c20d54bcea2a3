local gt = require "gt"
local gtime = require "gt.time"
local timeframe = require "gt.timeframe"

describe("gt.timeframe", function()
  it("parses the standard spellings", function()
    assert.equal(15 * 60e6, timeframe.parse("15m").us)
    assert.equal("mo", timeframe.parse("1mo").suffix)
    local t, err = timeframe.parse("1y")
    assert.is_nil(t)
    assert.matches("bad timeframe '1y'", err, 1, true)
    assert.is_nil(timeframe.parse("0d"))
  end)
  it("infers a timeframe from the median bar spacing, within 5%", function()
    local function spaced(gaps)
      local ts, t0 = { 0 }, 0
      for i, g in ipairs(gaps) do t0 = t0 + g; ts[i + 1] = t0 end
      local c = {}
      for i = 1, #ts do c[i] = 1 end
      return require("gt.series").from_columns({ ts = ts, open = c, high = c, low = c, close = c })
    end
    assert.equal("1d", timeframe.infer(spaced { 86400e6, 86400e6, 3 * 86400e6 }), "weekends do not matter")
    assert.equal("5m", timeframe.infer(spaced { 300e6, 300e6 }))
    assert.equal("1w", timeframe.infer(spaced { 7 * 86400e6 }))
    assert.equal("1mo", timeframe.infer(spaced { 31 * 86400e6, 28 * 86400e6, 31 * 86400e6 }))
    local tf, med = timeframe.infer(spaced { 2 * 86400e6, 2 * 86400e6 })
    assert.is_nil(tf, "2-day bars have no standard name")
    assert.equal(2 * 86400, med)
  end)
end)

describe("gt.time", function()
  it("parses and formats microseconds", function()
    assert.equal(1136160000 * 1e6, gtime.parse("2006-01-02"))
    assert.equal("2006-01-02", gtime.format(1136160000 * 1e6))
    assert.equal("2006-01-02T09:05:00Z", gtime.format(gtime.parse("2006-01-02 09:05"), false))
    local t, err = gtime.parse("2006-13-01")
    assert.is_nil(t)
    assert.matches("no such date", err, 1, true)
  end)
end)

describe("gt.data.synthetic", function()
  it("is deterministic and labels every bar", function()
    local a, ra = gt.data.synthetic { n = 3000, seed = 11 }
    local b, rb = gt.data.synthetic { n = 3000, seed = 11 }
    assert.equal(3000, a.n)
    for i = 0, a.n - 1, 97 do
      assert.equal(a.close[i], b.close[i])
      assert.equal(ra.codes[i], rb.codes[i])
    end
    local names = {}
    for i = 0, a.n - 1 do names[ra:name(i)] = true end
    for _, n in ipairs({ "bull_quiet", "bear_volatile", "sideways_quiet" }) do
      assert.is_true(names[n], n)
    end
    local c = gt.data.synthetic { n = 10, seed = 12 }
    assert.are_not.equal(a.close[9], c.close[9])
  end)
  it("skips weekends for daily bars and honours start and timeframe", function()
    local s = gt.data.synthetic { n = 20, start = "2024-01-05", timeframe = "1d" }
    assert.equal("2024-01-05", gtime.format(s:time(0)))
    assert.equal("2024-01-08", gtime.format(s:time(1)), "Friday then Monday")
    local h = gt.data.synthetic { n = 48, timeframe = "1h", start = "2024-01-02", weekends = true }
    assert.equal(3600e6, h:time(1) - h:time(0))
  end)
  it("refuses nonsense", function()
    assert.has_error(function() gt.data.synthetic { n = -1 } end)
    assert.has_error(function() gt.data.synthetic { timeframe = "1w" } end)
  end)
end)

describe("series operations", function()
  local s = gt.data.synthetic { n = 400, seed = 3 }

  it("resamples to weeks dated on the last trading day, with OHLCV aggregation", function()
    local w = s:resample("1w")
    assert.equal("1w", w.timeframe)
    -- check one week by hand: the bars sharing the Monday-based week of bar 10
    local wk = 5
    local i0 = nil
    for i = 0, s.n - 1 do
      if s:time(i) > w:time(wk - 1) and s:time(i) <= w:time(wk) then
        i0 = i0 or i
      end
    end
    local i1 = i0
    while i1 + 1 < s.n and s:time(i1 + 1) <= w:time(wk) do i1 = i1 + 1 end
    local hi, lo, vol = -math.huge, math.huge, 0
    for i = i0, i1 do hi = math.max(hi, s.high[i]); lo = math.min(lo, s.low[i]); vol = vol + s.volume[i] end
    assert.equal(s.open[i0], w.open[wk])
    assert.equal(s.close[i1], w.close[wk])
    assert.equal(hi, w.high[wk]); assert.equal(lo, w.low[wk]); assert.equal(vol, w.volume[wk])
    assert.equal(s:time(i1), w:time(wk))
  end)

  it("computes returns", function()
    local r = s:returns()
    assert.is_true(r[0] ~= r[0], "NaN first")
    assert.equal(s.close[5] / s.close[4] - 1, r[5])
    local lr = s:returns { log = true }
    assert.equal(math.log(s.close[5] / s.close[4]), lr[5])
  end)

  it("aligns series inner and outer, marking filled bars", function()
    local a = s:slice(0, 100)
    local b = s:slice(50, 200)
    local inner = gt.data.align({ a, b })
    assert.equal(50, inner[1].n)
    assert.equal(inner[1]:time(0), inner[2]:time(0))
    -- drop every other bar of b to create gaps
    local cols = { ts = {}, open = {}, high = {}, low = {}, close = {}, volume = {} }
    for i = 0, 99, 2 do
      cols.ts[#cols.ts + 1] = a:time(i)
      for _, k in ipairs({ "open", "high", "low", "close", "volume" }) do cols[k][#cols[k] + 1] = a[k][i] end
    end
    local sparse = require("gt.series").from_columns(cols, { symbol = "SP" })
    local out, filled = gt.data.align({ a, sparse }, { mode = "outer" })
    assert.equal(100, out[2].n)
    assert.equal(1, filled[2][1])
    assert.equal(0, filled[2][2])
    assert.equal(sparse.close[0], out[2].close[1], "forward-filled from the previous close")
    assert.equal(0, out[2].volume[1])
    assert.equal(0, filled[1][1])
  end)
end)

describe("resampling against backtrader's reference files", function()
  local t = require "tests.lua.support"
  local function load(name)
    local p, why = t.shared_file("data/backtrader/" .. name)
    if not p then return nil, why end
    return assert(gt.data.load(p))
  end
  local function same(a, b)
    assert.equal(b.n, a.n)
    for i = 0, a.n - 1 do
      for _, k in ipairs({ "ts", "open", "high", "low", "close", "volume" }) do
        if a[k][i] ~= b[k][i] then
          error(("bar %d %s: %s vs %s"):format(i, k, tostring(a[k][i]), tostring(b[k][i])))
        end
      end
    end
  end
  it("2006 daily -> weekly reproduces 2006-week-001.txt exactly", function()
    local d, why = load("2006-day-001.txt")
    if not d then return pending(why) end
    same(d:resample("1w"), load("2006-week-001.txt"))
  end)
  it("2006 daily -> monthly reproduces 2006-month-001.txt exactly", function()
    local d, why = load("2006-day-001.txt")
    if not d then return pending(why) end
    same(d:resample("1mo"), load("2006-month-001.txt"))
  end)
  it("weekly bars in pairs reproduce 2006-week-002.txt exactly", function()
    local w, why = load("2006-week-001.txt")
    if not w then return pending(why) end
    same(w:compress(2), load("2006-week-002.txt"))
  end)
  it("5-minute bars resample to hours and days with OHLCV kept", function()
    local m, why = load("2006-min-005.txt")
    if not m then return pending(why) end
    local h = m:resample("1h")
    local d = m:resample("1d")
    local hi, lo, vol = -math.huge, math.huge, 0
    for i = 0, m.n - 1 do hi = math.max(hi, m.high[i]); lo = math.min(lo, m.low[i]); vol = vol + m.volume[i] end
    local dhi, dlo = -math.huge, math.huge
    for i = 0, d.n - 1 do dhi = math.max(dhi, d.high[i]); dlo = math.min(dlo, d.low[i]) end
    assert.equal(hi, dhi); assert.equal(lo, dlo)
    assert.equal(m.open[0], d.open[0]); assert.equal(m.close[m.n - 1], d.close[d.n - 1])
    assert.is_true(h.n > d.n and d.n >= 19)
    assert.equal(0, h:time(1) % 3600e6, "hour buckets start on the hour")
  end)
end)
