local ffi = require "ffi"
local series = require "gt.series"

local DAY = 86400 * 1000000
local function sample()
  return series.from_columns({
    ts = { 0, DAY, 2 * DAY, 3 * DAY },
    open = { 10, 11, 12, 13 }, high = { 11, 12, 13, 14 },
    low = { 9, 10, 11, 12 }, close = { 10.5, 11.5, 12.5, 13.5 },
    volume = { 100, 200, 300, 400 },
  }, { symbol = "T", timeframe = "1d" })
end

describe("gt.series", function()
  it("lends columns as 0-based FFI arrays", function()
    local s = sample()
    assert.equal(4, s.n)
    assert.equal(10.5, s.close[0])
    assert.equal(400, s.volume[3])
    assert.equal(3 * DAY, s:time(3))
    assert.same({ 10.5, 11.5, 12.5, 13.5 }, s:column("close"))
  end)

  it("slices without copying", function()
    local s = sample()
    local v = s:slice(1, 3)
    assert.equal(2, v.n)
    assert.equal(11.5, v.close[0])
    ffi.cast("double *", s.close.p)[1] = 99 -- columns are read-only; a raw write on purpose
    assert.equal(99, v.close[0], "the view shares memory")
    local w = s:between(DAY, 3 * DAY)
    assert.equal(2, w.n)
    assert.equal(DAY, w:time(0))
    assert.equal(0, s:slice(3, 1).n)
  end)

  it("validates every pushed bar", function()
    local s = series.new({ symbol = "T" })
    assert.is_truthy(s:push(DAY, 10, 11, 9, 10, 1))
    local ok, err = s:push(DAY, 10, 11, 9, 10, 1)
    assert.is_nil(ok); assert.equal("duplicate timestamp", err)
    ok, err = s:push(0, 10, 11, 9, 10, 1)
    assert.equal("timestamp out of order (earlier than the previous bar)", err)
    ok, err = s:push(2 * DAY, 10, 9, 9.5, 10, 1)
    assert.equal("high is below max(open, close, low)", err)
    ok, err = s:push(2 * DAY, 10, 11, 10.5, 10, 1)
    assert.equal("low is above min(open, close, high)", err)
    ok, err = s:push(2 * DAY, 0 / 0, 11, 9, 10, 1)
    assert.equal("price or volume is NaN or infinite", err)
    ok, err = s:push(2 * DAY, -1, 11, -2, 10, 1)
    assert.equal("price is zero or negative", err)
    ok, err = s:push(2 * DAY, 10, 11, 9, 10, -1)
    assert.equal("volume is negative", err)
    assert.equal(1, s.n, "nothing bad was stored")
  end)

  it("grows in place: s.n and fresh columns follow pushes, held columns keep their length", function()
    local s = series.new({ symbol = "T" }, 1)
    assert.is_truthy(s:push(DAY, 10, 11, 9, 10, 1))
    local held = s.close
    for i = 2, 40 do assert.is_truthy(s:push(i * DAY, 10 + i, 11 + i, 9 + i, 10.5 + i, 1)) end
    assert.equal(40, s.n)
    assert.equal(40, #s.close)
    assert.equal(50.5, s.close[39])
    assert.equal(1, #held, "a column taken before is a snapshot")
    assert.equal(10, held[0], "and its memory stays valid after the columns moved")
    -- C appends behind Lua's back: push still checks against the real last bar, sync() sees it
    assert.equal(0, require("gt.ffi").C.gt_series_push(s._c, 41 * DAY, 51, 52, 50, 51.5, 1))
    assert.equal(40, s.n)
    local ok, err = s:push(41 * DAY, 51, 52, 50, 51.5, 1)
    assert.is_nil(ok); assert.equal("duplicate timestamp", err)
    s:sync()
    assert.equal(41, s.n)
    assert.equal(51.5, s.close[40])
  end)

  it("prints a summary and frees safely twice", function()
    local s = sample()
    assert.equal("series T 1d: 4 bars, 1970-01-01 .. 1970-01-04", tostring(s))
    s:free(); s:free()
    assert.has_error(function() return s.n end, "series is closed: 'n' used after free()")
  end)
end)

describe("bare series columns", function()
  it("carry their length into gt.ind (gt.ind.sma(s.close, 3)), views too", function()
    local gt = require "gt"
    local s = series.from_columns({ ts = { 0, 1, 2, 3 }, open = { 1, 2, 3, 4 }, high = { 1, 2, 3, 4 },
      low = { 1, 2, 3, 4 }, close = { 1, 2, 3, 4 } })
    local a = gt.ind.sma(s.close, 3)
    -- sma3 of 1,2,3,4 at bars 2 and 3: (1+2+3)/3 = 2, (2+3+4)/3 = 3
    assert.equal(2, a[2]); assert.equal(3, a[3])
    assert.equal(4, #s.close); assert.equal(4, s.close.n)
    -- a view starting at the same address knows its own length (2), not the parent's
    local v = s:slice(0, 2)
    local b, nb = gt.ind.sma(v.close, 1)
    assert.equal(2, nb); assert.equal(2, b.n)
    assert.equal(3, gt.ind.sma(s.close, 3)[3])
    assert.equal(2, v.n)
  end)
end)
