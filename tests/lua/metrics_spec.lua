-- gt.metrics: the Lua face of engine/metrics.c. Hand-worked values (the arithmetic is in
-- tests/c/test_metrics.c's main case, repeated here through Lua lists and FFI arrays),
-- NaN/inf passing through, the field list, misuse vs bad data, and backtesting.py's
-- published numbers for GOOG.csv (buy & hold 703.4582419772772 %, 3116 days).
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local metrics = require "gt.metrics"
local t = require "tests.lua.support"

local YEAR = 365.25 * 86400 * 1e6
local DAY = 86400 * 1e6

local function isnan(x) return x ~= x end

-- Equity 100, 110, 99, 120 on yearly bars, ppy 1, rf 2 %; benchmark 50, 52, 51, 55;
-- in the market on bars 0, 1, 3; trades +10 (0->1), -11 (1->2), +21 open from bar 1.
local function main_case()
  return {
    equity = { 100, 110, 99, 120 },
    ts = { 0, YEAR, 2 * YEAR, 3 * YEAR },
    benchmark = { 50, 52, 51, 55 },
    in_market = { true, 1, false, 1 },
    trades = {
      { entry_bar = 0, exit_bar = 1, pnl = 10, return_pct = 10, fees = 0.5 },
      { entry_bar = 1, exit_bar = 2, pnl = -11, return_pct = -10, fees = 0.5 },
      { entry_bar = 1, pnl = 21, return_pct = 20, fees = 0.25 }, -- no exit_bar: open
    },
    periods_per_year = 1,
    risk_free = 0.02,
  }
end

local function near(want, got, tol, what)
  assert(math.abs(got - want) <= (tol or 1e-10),
    ("%s: got %.17g, want %.17g"):format(what or "value", got, want))
end

describe("gt.metrics.compute", function()
  it("computes the hand-worked case from Lua lists", function()
    local st = assert(metrics.compute(main_case()))
    near(20, st.return_pct, 1e-12, "return")
    near(3, st.years, 1e-12, "years")
    near(6.265856918261115, st.cagr_pct, 1e-10, "CAGR 1.2^(1/3)-1")
    near(700 / 99, st.ann_return_pct, 1e-10, "mean r = 7/99")
    near(15.810904320728808, st.ann_vol_pct, 1e-10, "sd = sqrt(8167/326700)")
    near(0.3207094906051101, st.sharpe, 1e-12, "Sharpe")
    near(0.7318935230636165, st.sortino, 1e-12, "Sortino")
    near(0.6265856918261115, st.calmar, 1e-12, "Calmar")
    near(10, st.max_drawdown_pct, 1e-12, "max dd")
    assert.equal(2, st.max_drawdown_bars)
    near(10, st.avg_drawdown_pct, 1e-12, "avg dd")
    assert.equal(3, st.num_trades)
    near(200 / 3, st.win_rate_pct, 1e-12, "win rate")
    near(31 / 11, st.profit_factor, 1e-12, "profit factor")
    near(20 / 3, st.expectancy, 1e-12, "expectancy")
    near(20 / 3, st.avg_trade_pct, 1e-12, "avg trade")
    assert.equal(20, st.best_trade_pct)
    assert.equal(-10, st.worst_trade_pct)
    near(4 / 3, st.avg_trade_bars, 1e-12, "avg trade bars")
    assert.equal(2, st.max_trade_bars)
    assert.equal(75, st.exposure_pct)
    near(0.710220824228435, st.sqn, 1e-12, "SQN")
    near(10, st.buy_hold_return_pct, 1e-12, "buy & hold")
    near(3.211256323015078, st.beta, 1e-10, "beta")
    near(-3.5479117510476645, st.alpha_pct, 1e-9, "alpha")
    near(1.25, st.total_fees, 1e-15, "fees")
  end)

  it("gives the same numbers from FFI arrays and a gt_trade array", function()
    local c = main_case()
    local from_lists = assert(metrics.compute(c))
    local eq = ffi.new("double[4]", { 100, 110, 99, 120 })
    local ts = ffi.new("int64_t[4]", { 0, YEAR, 2 * YEAR, 3 * YEAR })
    local bench = ffi.new("double[4]", { 50, 52, 51, 55 })
    local inm = ffi.new("uint8_t[4]", { 1, 1, 0, 1 })
    local tr = ffi.new("gt_trade[3]")
    for j, x in ipairs(c.trades) do
      local d = tr[j - 1]
      d.entry_bar, d.exit_bar = x.entry_bar, x.exit_bar or -1
      d.pnl, d.return_pct, d.fees = x.pnl, x.return_pct, x.fees
    end
    local st = assert(metrics.compute { equity = eq, ts = ts, n = 4, benchmark = bench,
      in_market = inm, trades = tr, m = 3, periods_per_year = 1, risk_free = 0.02 })
    for _, k in ipairs(metrics.KEYS) do
      assert(st[k] == from_lists[k] or (isnan(st[k]) and isnan(from_lists[k])), k)
    end
  end)

  it("returns plain numbers keyed by the gt_stats fields; NaN and inf pass through", function()
    local st = assert(metrics.compute { equity = { 100, 100, 100 },
      trades = { { entry_bar = 0, exit_bar = 2, pnl = 5, return_pct = 5 } } })
    local keys = {}
    for k, v in pairs(st) do
      keys[#keys + 1] = k
      assert.equal("number", type(v), k)
    end
    local want = {}
    for _, s in ipairs(gtffi.cdef_structs()) do
      if s.name == "gt_stats" then want = s.fields end
    end
    assert.equal(#want, #keys)
    for _, k in ipairs(want) do assert.is_not_nil(st[k], k) end
    assert.is_true(isnan(st.sharpe), "flat curve: Sharpe NaN")
    assert.is_true(isnan(st.exposure_pct), "no in_market: exposure NaN")
    assert.equal(math.huge, st.profit_factor, "all wins: profit factor inf")
    assert.equal(0, st.max_drawdown_pct)
  end)

  it("lists every field once, in struct order, with a title and a unit", function()
    assert.equal(#metrics.KEYS, #metrics.FIELDS)
    for i, f in ipairs(metrics.FIELDS) do
      assert.equal(metrics.KEYS[i], f.key)
      assert.equal("string", type(f.title))
      assert.is_true(f.unit == "%" or f.unit == "ccy" or f.unit == "bars" or f.unit == "years"
        or f.unit == "", f.key)
    end
    assert.same({ key = "return_pct", title = "Return", unit = "%" }, metrics.FIELDS[3])
  end)

  it("raises on misuse at the caller's line", function()
    local ok, err = pcall(metrics.compute, { equity = { 1, "x" } })
    assert.is_false(ok)
    assert.matches("equity[2] is a string, not a number", err, 1, true)
    ok, err = pcall(function() metrics.compute { equity = ffi.new("double[2]") } end)
    assert.is_false(ok)
    assert.matches("metrics_spec.lua:%d+: gt.metrics: equity is an FFI array: give its length", err)
    ok, err = pcall(function() metrics.compute { equity = { 1, 2 }, n = 3 } end)
    assert.is_false(ok)
    assert.matches("metrics_spec.lua:%d+: gt.metrics: equity has 2 values, n is 3", err)
    ok, err = pcall(metrics.compute, { equity = { 1 }, trades = ffi.new("gt_trade[1]") })
    assert.is_false(ok)
    assert.matches("give its length %(m=%)", err)
    ok = pcall(metrics.compute, { equity = { 1 }, periods_per_year = "252" })
    assert.is_false(ok)
    ok = pcall(metrics.compute)
    assert.is_false(ok)
  end)

  it("returns nil, message for data the engine rejects", function()
    local st, err = metrics.compute { equity = { 100, 0 / 0, 101 } }
    assert.is_nil(st)
    assert.equal("gt_stats_compute: equity[1] is not finite", err)
    st, err = metrics.compute { equity = { 100, 101 },
      trades = { { entry_bar = 5, exit_bar = 6 } } }
    assert.is_nil(st)
    assert.matches("trades[0]: entry_bar 5 outside 0..1", err, 1, true)
    st, err = metrics.compute { equity = {} }
    assert.is_nil(st)
    assert.matches("no bars", err, 1, true)
    st, err = metrics.compute { equity = { 1, 2 }, periods_per_year = 0 }
    assert.is_nil(st)
    assert.matches("periods_per_year must be > 0", err, 1, true)
  end)

  it("reproduces backtesting.py's GOOG.csv buy & hold return and duration", function()
    local path, why = t.shared_file("data/backtesting.py/GOOG.csv")
    if not path then return pending(why) end
    local close, ts = {}, {}
    for line in io.lines(path) do
      local y, m, d, c = line:match("^(%d+)-(%d+)-(%d+),[^,]*,[^,]*,[^,]*,([^,]*),")
      if y then
        close[#close + 1] = tonumber(c)
        local days = gtffi.C.gt_days_from_civil(tonumber(y), tonumber(m), tonumber(d))
        ts[#ts + 1] = tonumber(days) * DAY
      end
    end
    assert.equal(2148, #close)
    -- Holding the stock: equity is the close itself.
    local st = assert(metrics.compute { equity = close, ts = ts, benchmark = close })
    -- backtesting.py test_compute_stats: 'Buy & Hold Return [%]': 703.4582419772772,
    -- 'Duration': 3116 days (2004-08-19 .. 2013-03-01).
    near(703.4582419772772, st.buy_hold_return_pct, 1e-9, "buy & hold")
    near(703.4582419772772, st.return_pct, 1e-9, "return of holding")
    near(3116 / 365.25, st.years, 1e-12, "3116 days")
    near(1, st.beta, 1e-12, "beta of itself")
    near(0, st.alpha_pct, 1e-9, "alpha of itself")
    -- Max drawdown by a plain running-peak loop over the closes.
    local peak, worst = close[1], 0
    for i = 1, #close do
      if close[i] > peak then peak = close[i] end
      worst = math.min(worst, close[i] / peak - 1)
    end
    near(-worst * 100, st.max_drawdown_pct, 1e-12, "max drawdown")
    near((806.19 / 100.34) ^ (365.25 / 3116) * 100 - 100, st.cagr_pct, 1e-9, "CAGR")
  end)
end)

describe("gt.metrics.drawdown", function()
  it("returns an FFI array of eq / running max - 1", function()
    local dd = metrics.drawdown({ 100, 99, 93, 100, 96, 100, 100 })
    assert.equal("cdata", type(dd))
    local want = { 0, -0.01, -0.07, 0, -0.04, 0, 0 }
    for i = 1, 7 do near(want[i], dd[i - 1], 1e-15, "dd " .. i) end
    local eq = ffi.new("double[3]", { 10, 5, 20 })
    dd = metrics.drawdown(eq, 3)
    assert.equal(-0.5, dd[1])
    assert.equal(0, dd[2])
    assert.is_false(pcall(metrics.drawdown, eq))
  end)
end)
