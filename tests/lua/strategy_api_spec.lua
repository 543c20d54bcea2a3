-- The strategy API as a quant writes it: inline tables, units that say what they mean,
-- ctx.position and ctx.state, d.n, exits from a rule, --start warm-up, errors that list
-- what exists.
local gt = require "gt"
local t = require "tests.lua.support"

local function bars(closes, wick) return t.bars(closes, { wick = wick }) end

local NOCOST = { commission = 0, slippage_bps = 0, capital = 1000, size = 1 }
local function opts(extra) return t.merge(NOCOST, extra) end

describe("inline strategies", function()
  it("run from a table with a rule, with or without indicators, in both paths", function()
    local s = bars { 10, 11, 12, 13, 12, 11 }
    local plain = { name = "x", params = {}, rule = function(d, _, i) if d.close[i] > d.close[i - 1] then return 1 end return 0 end }
    local with_ind = { name = "y", indicators = function(d) return { c = gt.ind.sma(d.close, 1, d.n) } end,
      rule = function(_, ind, i) if ind.c[i] > ind.c[i - 1] then return 1 end return 0 end }
    for _, strat in ipairs { plain, with_ind } do
      local a = assert(gt.backtest.run(strat, s, opts { mode = "vector" }))
      local b = assert(gt.backtest.run(strat, s, opts { mode = "event" }))
      -- long decided at bar 1 (11 > 10), filled at bar 2's open (11): 90 units of 1000;
      -- flat decided at bar 4 (12 < 13), filled at bar 5's open (12): +90
      assert.equal(1, #a.trades); assert.equal(1, #b.trades)
      assert.equal(90, a.trades[1].size); assert.equal(11, a.trades[1].entry_price)
      assert.equal(12, a.trades[1].exit_price)
      assert.equal(1090, a.stats.final_equity); assert.equal(1090, b.stats.final_equity)
    end
  end)

  it("says what is missing from a table that is not a strategy", function()
    local ok, err = pcall(gt.backtest.run, { name = "nothing" }, bars { 1, 2, 3 })
    assert.is_false(ok)
    assert.matches("needs rule%(d, ind, i, p%)", err)
    ok, err = pcall(gt.backtest.run, { name = "bad", rule = 5 }, bars { 1, 2, 3 })
    assert.matches("'rule' must be a function", err, 1, true)
  end)
end)

describe("the event context", function()
  local s = bars { 10, 10, 10, 10, 10, 10, 10, 10 }

  it("buys by qty, fraction or value, and refuses a bare number", function()
    local got = {}
    local strat = { name = "units", on_bar = function(ctx, i)
      if i == 1 then ctx:buy { qty = 3 } end         -- 3 units
      if i == 2 then ctx:buy { value = 50 } end      -- 50 / 10 = 5 units
      if i == 3 then ctx:buy { fraction = 0.1 } end  -- 0.1 * 1000 / 10 = 10 units
      if i == 5 then got.size = ctx.position.size end
    end }
    local r = assert(gt.backtest.run(strat, s, opts { mode = "event" }))
    assert.equal(18, got.size)
    assert.equal(1, #r.trades)
    local ok, err = pcall(gt.backtest.run, { name = "bare", on_bar = function(ctx, i) if i == 1 then ctx:buy(10) end end },
      s, opts { mode = "event" })
    assert.is_false(ok)
    assert.matches("ctx:buy takes a table: {qty = units}, {fraction = of equity} or {value = cash}", err, 1, true)
  end)

  it("raises on quantities that are not numbers a position can have", function()
    for _, bad in ipairs { 0 / 0, math.huge, -5, 1e300 } do
      local ok, err = pcall(gt.backtest.run, { name = "q", on_bar = function(ctx, i)
        if i == 1 then ctx:order { side = "buy", qty = bad } end end }, s, opts { mode = "event" })
      assert.is_false(ok, tostring(bad))
      assert.matches("qty must be a positive number", err, 1, true)
    end
  end)

  it("exposes the position (size, average price, entry bar, unrealised PnL) and a state table", function()
    local seen = {}
    local s2 = bars { 10, 10, 12, 13, 15 }
    local strat = { name = "pos",
      init = function(ctx) ctx.state.calls = 0 end,
      on_bar = function(ctx, i)
        ctx.state.calls = ctx.state.calls + 1
        if i == 0 then ctx:buy { qty = 10 } end      -- fills at bar 1's open, 10
        if i == 3 then
          local p = ctx.position
          seen = { size = p.size, avg = p.avg_price, entry = p.entry_bar, upl = p.unrealized, n = ctx.data.n }
        end
      end }
    local r = assert(gt.backtest.run(strat, s2, opts { mode = "event" }))
    assert.same({ size = 10, avg = 10, entry = 1, upl = 30, n = 4 }, seen) -- 10 * (13 - 10)
    assert.equal(5, r.n)
    local ok, err = pcall(gt.backtest.run, { name = "typo", on_bar = function(ctx) return ctx.postion end }, s2,
      opts { mode = "event" })
    assert.is_false(ok)
    assert.matches("ctx has no field 'postion' (it has:", err, 1, true)
    ok, err = pcall(gt.backtest.run, { name = "typo2", on_bar = function(ctx) return ctx.position.qty end }, s2,
      opts { mode = "event" })
    assert.matches("ctx.position has no field 'qty'", err, 1, true)
  end)

  it("gives d.n as the bars so far in both paths, and names the fields of d on a typo", function()
    local ns = { vector = {}, event = {} }
    for mode, list in pairs(ns) do
      gt.backtest.run({ name = "n", rule = function(d, _, i) list[#list + 1] = d.n - i end }, s, opts { mode = mode })
    end
    for _, v in ipairs(ns.vector) do assert.equal(1, v) end
    assert.same(ns.vector, ns.event)
    local ok, err = pcall(gt.backtest.run, { name = "t", rule = function(d) return d.closes end }, s, opts())
    assert.is_false(ok)
    assert.matches("d has no field 'closes' (it has: close, high, low, n, open, symbol, timeframe, ts, volume)", err, 1, true)
  end)
end)

describe("exits from a rule", function()
  -- closes 10 10 10 [bar 3 opens 10, dips to 8.5] 11 12: a long decided at bar 1 fills at
  -- bar 2's open (10); a 10% stop sits at 9.
  local s = bars({ 10, 10, 10, 10, 11, 12 }, 0)
  local cols = { ts = {}, open = {}, high = {}, low = {}, close = {}, volume = {} }
  local closes = { 10, 10, 10, 10, 11, 12 }
  for i, c in ipairs(closes) do
    cols.ts[i] = (i - 1) * 86400e6
    cols.open[i], cols.close[i], cols.high[i], cols.low[i], cols.volume[i] = c, c, c, c, 1000
  end
  cols.low[4] = 8.5 -- bar 3 trades down to 8.5 inside the bar
  s = require("gt.series").from_columns(cols, { symbol = "STOP", timeframe = "1d" })
  local long_once = { name = "long_once", rule = function(_, _, i) if i == 1 then return 1 end end }

  it("stop_pct: the stop fills at its price inside the bar, identically in both paths", function()
    for _, mode in ipairs { "vector", "event" } do
      local r = assert(gt.backtest.run(long_once, s, opts { mode = mode, stop_pct = 0.1 }))
      assert.equal(1, #r.trades, mode)
      assert.equal(2, r.trades[1].entry_bar); assert.equal(10, r.trades[1].entry_price)
      assert.equal(3, r.trades[1].exit_bar); assert.equal(9, r.trades[1].exit_price)
      assert.equal(1000 - 100, r.stats.final_equity) -- 100 units lose 1 each
    end
  end)

  it("a rule's own stop and take prices, in both paths", function()
    local strat = { name = "levels", rule = function(_, _, i) if i == 1 then return 1, 8, 11 end end }
    for _, mode in ipairs { "vector", "event" } do
      local r = assert(gt.backtest.run(strat, s, opts { mode = mode }))
      -- the stop at 8 is not reached (low 8.5); the take at 11 fills at bar 4 (high 11)
      assert.equal(1, #r.trades, mode)
      assert.equal(4, r.trades[1].exit_bar); assert.equal(11, r.trades[1].exit_price)
      assert.equal(1100, r.stats.final_equity)
    end
  end)

  it("refuses a target or exit that is not a number", function()
    for _, bad in ipairs { { 0 / 0 }, { math.huge }, { 1, -3 }, { 1, nil, 0 / 0 } } do
      local strat = { name = "bad", rule = function(_, _, i) if i == 1 then return bad[1], bad[2], bad[3] end end }
      for _, mode in ipairs { "vector", "event" } do
        local ok, err = pcall(gt.backtest.run, strat, s, opts { mode = mode })
        assert.is_false(ok, mode)
        assert.matches("at bar 1", err, 1, true)
      end
    end
  end)
end)

describe("start with warm-up", function()
  it("computes indicators on earlier bars and trades from start", function()
    local s = gt.data.synthetic { n = 400, seed = 11 }
    -- always long once SMA(30) is defined: with start at bar 200 the SMA is already defined
    -- there, so the decision at the window's bar 0 fills at its bar 1; a plain cut of the data
    -- at bar 200 must first wait 29 bars for the SMA again (entry at bar 30)
    local strat = { name = "always", indicators = function(d) return { m = gt.ind.sma(d.close, 30, d.n) } end,
      rule = function() return 1 end }
    local r = assert(gt.backtest.run(strat, s, { start = s:time(200) }))
    assert.equal(200, r.n)
    assert.equal(s:time(200), tonumber(r.ts[0]))
    assert.equal(1, r.trades[1].entry_bar)
    local cut = assert(gt.backtest.run(strat, s:slice(200)))
    assert.equal(30, cut.trades[1].entry_bar)
    assert.equal(10000, r.equity[0]) -- nothing traded before the window
    local ok, err = gt.backtest.run("sma_cross", s, { start = s:time(399) })
    assert.is_nil(ok); assert.matches("fewer than 2 bars", err, 1, true)
  end)
end)

describe("sizing and fills end for any finite input", function()
  it("a property test over random extremes: every run terminates with finite equity", function()
    local seed = 12345
    local function rnd() seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 end
    local strat = { name = "flip", rule = function(_, _, i) return (i % 3 == 0) and 1 or ((i % 3 == 1) and -1 or 0) end }
    for case = 1, 60 do
      local price = 10 ^ (rnd() * 600 - 300) -- 1e-300 .. 1e300
      if price < 1e-300 then price = 1e-300 end
      local closes = {}
      for i = 1, 8 do closes[i] = price * (1 + (rnd() - 0.5) * 0.2) end
      local ok, s = pcall(bars, closes)
      if ok then
        local o = { capital = 10 ^ (rnd() * 30 - 15), size = 1, short = true, fractional = rnd() < 0.5,
          commission = rnd() < 0.5 and 0 or rnd() * 0.01, leverage = 1 + rnd() * 3 }
        if o.capital > 1e15 then o.capital = 1e15 end
        local r = assert(gt.backtest.run(strat, s, o))
        local f = r.stats.final_equity
        assert.is_true(f == f and f > -math.huge and f < math.huge, ("case %d: final %s"):format(case, tostring(f)))
      end
    end
  end)

  it("the CLI refuses out-of-range numbers with the accepted range (exit 2)", function()
    local dir = t.tmpdir()
    local csv = t.synthetic_csv(dir .. "/x.csv", 100, 1)
    for _, case in ipairs {
      { "--capital 1e308", "must be a positive amount up to 1e15" }, { "--capital -5", "must be a positive amount" },
      { "--size 0", "must be in (0, 1]" }, { "--size 3 --leverage 2", "must be in (0, 2]" },
      { "--commission -0.1", "must be >= 0" }, { "--leverage 0.5", "in [1, 100]" },
      { "--stop-pct 1.5", "in [0, 1)" }, { "--size-at later", "--size-at is signal or fill" },
      { "--param fast=2.5", "fast takes a whole number (default 10)" },
      { "--param fast=1e400", "fast takes a whole number" },
    } do
      local _, err, code = t.run("backtest --strategy sma_cross --no-save --data " .. csv .. " " .. case[1])
      assert.equal(2, code, case[1])
      assert.matches(case[2], err, 1, true)
    end
    -- a parameter whose grid has fractions takes fractions
    local _, err2, code2 = t.run("backtest --strategy mean_reversion --no-save --data " .. csv .. " --param num_std=2.5")
    assert.equal(0, code2, err2)
    -- the same rule from Lua: misuse raises naming the parameter
    local ok, err3 = pcall(gt.backtest.run, "sma_cross", gt.data.synthetic { n = 100, seed = 1 }, { params = { fast = 2.5 } })
    assert.is_false(ok)
    assert.matches("fast=2.5: fast takes a whole number", err3, 1, true)
    os.execute("rm -rf " .. t.quote(dir))
  end)
end)
