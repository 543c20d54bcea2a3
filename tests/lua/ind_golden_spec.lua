-- gt.ind against TA-Lib: ../shared/golden/talib/<NAME>.csv hold TA-Lib 0.6's output on the
-- ORCL daily bars (raw OHLCV). Every value where both are defined must agree to 1e-6
-- relative (plus a 1e-9 absolute floor for values crossing zero, e.g. the MACD histogram),
-- and the first defined index must be TA-Lib's begIndex where the conventions agree.
-- The bars and the reference are read by tests/lua/golden.lua, not by the engine.
local t = require "tests.lua.support"
local golden = require "tests.lua.golden"
local ind = require "gt.ind"

local bars_path, why = t.shared_file("data/backtrader/orcl-1995-2014.txt")
local params_path = t.shared_file("golden/talib/params.json")

local bars, beg
local function load()
  if bars then return true end
  if not bars_path or not params_path then return false end
  bars = assert(golden.read_bars(bars_path))
  beg = assert(golden.beg_index(params_path))
  return true
end

local function ref(name)
  return assert(golden.read_csv(t.shared .. "/golden/talib/" .. name .. ".csv"))
end

local function first_defined(arr, n)
  for i = 0, n - 1 do
    if arr[i] == arr[i] then return i end
  end
  return nil
end

-- Compares arr (0-based FFI) with the reference column (1-based, nil = undefined) from
-- index `from` on. Returns the number of values compared; fails on the first mismatch.
local function compare(label, arr, col, n, from)
  local compared, worst = 0, 0
  for i = from or 0, n - 1 do
    local want, got = col[i + 1], arr[i]
    if want ~= nil and got == got then
      local err = math.abs(got - want)
      local tol = 1e-6 * math.abs(want) + 1e-9
      if err > tol then
        error(("%s: index %d (%s): got %.12g, TA-Lib %.12g"):format(label, i, bars.date[i + 1], got, want), 2)
      end
      if math.abs(want) > 1e-9 then worst = math.max(worst, err / math.abs(want)) end
      compared = compared + 1
    elseif (want == nil) ~= (got ~= got) and i >= (from or 0) then
      -- one defined, the other not: only allowed before the reference's begIndex
      error(("%s: index %d: defined here %s, in TA-Lib %s"):format(label, i, tostring(got == got),
        tostring(want ~= nil)), 2)
    end
  end
  return compared, worst
end

describe("gt.ind against TA-Lib on ORCL 1995-2014", function()
  it("reads the reference data", function()
    if not load() then return pending(why) end
    assert.equal(5036, bars.n)
    assert.equal("1995-01-03", bars.date[1])
    assert.equal(2.117284, bars.close[1])
    assert.equal(29, beg.SMA)
  end)

  it("SMA(30)", function()
    if not load() then return pending(why) end
    local out, n = ind.sma(bars.close, 30)
    assert.equal(beg.SMA, first_defined(out, n))
    assert.equal(5007, compare("SMA", out, ref("SMA").col.sma, n))
  end)

  it("EMA(30), SMA-seeded", function()
    if not load() then return pending(why) end
    local out, n = ind.ema(bars.close, 30)
    assert.equal(beg.EMA, first_defined(out, n))
    assert.equal(5007, compare("EMA", out, ref("EMA").col.ema, n))
  end)

  it("RSI(14)", function()
    if not load() then return pending(why) end
    local out, n = ind.rsi(bars.close, 14)
    assert.equal(beg.RSI, first_defined(out, n))
    assert.equal(5022, compare("RSI", out, ref("RSI").col.rsi, n))
  end)

  it("MACD(12,26,9) with TA-Lib seeding matches from its begIndex", function()
    if not load() then return pending(why) end
    local m, n = ind.macd(bars.close, { talib = true })
    local r = ref("MACD").col
    -- signal and histogram start where TA-Lib's outputs do; our MACD line is defined from
    -- bar 25 (slow - 1), 8 bars before TA-Lib prints it (it waits for the signal)
    assert.equal(beg.MACD, first_defined(m.signal, n))
    assert.equal(beg.MACD, first_defined(m.hist, n))
    assert.equal(25, first_defined(m.macd, n))
    assert.equal(5003, compare("MACD signal", m.signal, r.signal, n))
    assert.equal(5003, compare("MACD hist", m.hist, r.hist, n))
    assert.equal(5003, compare("MACD line", m.macd, r.macd, n, beg.MACD))
  end)

  it("MACD(12,26,9) with both EMAs from bar 0 converges after the documented ~150 bars", function()
    if not load() then return pending(why) end
    local m, n = ind.macd(bars.close, 12, 26, 9)
    local r = ref("MACD").col
    local from = beg.MACD + 150
    assert.is_true(compare("MACD line", m.macd, r.macd, n, from) > 4800)
    assert.is_true(compare("MACD signal", m.signal, r.signal, n, from) > 4800)
    -- and it really differs early on, so the option matters
    assert.is_true(math.abs(m.macd[beg.MACD] - r.macd[beg.MACD + 1]) > 1e-6)
  end)

  it("BBANDS(20, 2)", function()
    if not load() then return pending(why) end
    local b, n = ind.bbands(bars.close, 20, 2)
    local r = ref("BBANDS").col
    assert.equal(beg.BBANDS, first_defined(b.mid, n))
    assert.equal(5017, compare("BBANDS middle", b.mid, r.middle, n))
    assert.equal(5017, compare("BBANDS upper", b.upper, r.upper, n))
    assert.equal(5017, compare("BBANDS lower", b.lower, r.lower, n))
  end)

  it("ATR(14)", function()
    if not load() then return pending(why) end
    local out, n = ind.atr(bars.high, bars.low, bars.close, 14)
    assert.equal(beg.ATR, first_defined(out, n))
    assert.equal(5022, compare("ATR", out, ref("ATR").col.atr, n))
  end)

  it("STOCH(14, 3, 3) slow %K / %D", function()
    if not load() then return pending(why) end
    local s, n = ind.stoch(bars.high, bars.low, bars.close, 14, 3, 3)
    local r = ref("STOCH").col
    -- TA-Lib prints %K only once %D exists; our %K is defined 2 bars earlier
    assert.equal(beg.STOCH, first_defined(s.d, n))
    assert.equal(beg.STOCH - 2, first_defined(s.k, n))
    assert.equal(5019, compare("STOCH slowk", s.k, r.slowk, n, beg.STOCH))
    assert.equal(5019, compare("STOCH slowd", s.d, r.slowd, n))
  end)

  it("ADX(14), TA-Lib's running sums, from its begIndex", function()
    if not load() then return pending(why) end
    local a, n = ind.adx(bars.high, bars.low, bars.close, 14)
    assert.equal(beg.ADX, first_defined(a.adx, n))
    assert.equal(5009, compare("ADX", a.adx, ref("ADX").col.adx, n))
  end)

  it("CCI(20)", function()
    if not load() then return pending(why) end
    local out, n = ind.cci(bars.high, bars.low, bars.close, 20)
    assert.equal(beg.CCI, first_defined(out, n))
    assert.equal(5017, compare("CCI", out, ref("CCI").col.cci, n))
  end)

  it("WILLR(14)", function()
    if not load() then return pending(why) end
    local out, n = ind.willr(bars.high, bars.low, bars.close, 14)
    assert.equal(beg.WILLR, first_defined(out, n))
    assert.equal(5023, compare("WILLR", out, ref("WILLR").col.willr, n))
  end)

  it("OBV", function()
    if not load() then return pending(why) end
    local out, n = ind.obv(bars.close, bars.volume)
    assert.equal(beg.OBV, first_defined(out, n))
    assert.equal(5036, compare("OBV", out, ref("OBV").col.obv, n))
  end)
end)
