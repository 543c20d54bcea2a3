local gt = require "gt"
local t = require "tests.lua.support"
local json = require "gt.json"

local function closes(list)
  local cols = { ts = {}, open = {}, high = {}, low = {}, close = {}, volume = {} }
  for i, c in ipairs(list) do
    cols.ts[i] = (i - 1) * 86400e6
    cols.open[i], cols.high[i], cols.low[i], cols.close[i], cols.volume[i] = c, c, c, c, 1000
  end
  return require("gt.series").from_columns(cols, { symbol = "HAND", timeframe = "1d" })
end

local function same_run(a, b)
  assert.equal(#a.trades, #b.trades)
  for i, x in ipairs(a.trades) do
    for k, v in pairs(x) do assert.equal(v, b.trades[i][k], ("trade %d field %s"):format(i, k)) end
  end
  for i = 0, a.n - 1 do
    if a.equity[i] ~= b.equity[i] then
      error(("equity differs at bar %d: %.17g vs %.17g"):format(i, a.equity[i], b.equity[i]))
    end
  end
end

describe("gt.backtest", function()
  it("reproduces the seed's hand check (MA3/MA5, fill at close, all-in): final 9,804", function()
    local s = closes { 100, 98, 96, 97, 99, 102, 104, 103, 101, 100 }
    local strat = gt.strategy.load("sma_cross")
    for _, mode in ipairs({ "vector", "event" }) do
      local r = gt.backtest.run(strat, s, { params = { fast = 3, slow = 5 }, fill = "close", size = 1,
        commission = 0, slippage_bps = 0, mode = mode })
      assert.equal(1, #r.trades, mode)
      local tr = r.trades[1]
      assert.equal(5, tr.entry_bar); assert.equal(102, tr.entry_price); assert.equal(98, tr.size)
      assert.equal(9, tr.exit_bar); assert.equal(100, tr.exit_price)
      assert.equal(9804, r.equity[9])
      assert.equal(9804, r.stats.final_equity)
    end
  end)

  it("runs every shipped strategy through both paths with identical trades and equity", function()
    local s = gt.data.synthetic { n = 2500, seed = 21 }
    for _, name in ipairs(gt.strategy.list()) do
      for _, opt in ipairs({ {}, { fill = "close" }, { params = { short = true } } }) do
        local strat = gt.strategy.load(name)
        if not (opt.params and strat.params.short == nil) then
          local o1, o2 = { mode = "vector" }, { mode = "event" }
          for k, v in pairs(opt) do o1[k], o2[k] = v, v end
          same_run(gt.backtest.run(name, s, o1), gt.backtest.run(name, s, o2))
        end
      end
    end
  end)

  it("agrees across paths on real data (GOOG, every strategy)", function()
    local path, why = t.shared_file("data/backtesting.py/GOOG.csv")
    if not path then return pending(why) end
    local s = assert(gt.data.load(path))
    for _, name in ipairs(gt.strategy.list()) do
      same_run(gt.backtest.run(name, s, { mode = "vector" }), gt.backtest.run(name, s, { mode = "event" }))
    end
  end)

  it("makes no decision before every indicator is defined", function()
    local s = gt.data.synthetic { n = 400, seed = 2 }
    local r = gt.backtest.run("sma_cross", s, { params = { fast = 10, slow = 50 } })
    assert.equal(49, r.warmup)
    for _, tr in ipairs(r.trades) do assert.is_true(tr.entry_bar >= 50, "entry at " .. tr.entry_bar) end
    for _, o in ipairs(r.orders) do assert.is_true(o.bar >= 49) end
  end)

  it("stops an on_bar that reads a future bar, naming what was read", function()
    local s = gt.data.synthetic { n = 50, seed = 3 }
    local strat = gt.strategy.load("peek_ahead", { roots = { "tests/lua/fixtures" } })
    local ok, err = pcall(gt.backtest.run, strat, s, { mode = "event" })
    assert.is_false(ok)
    assert.matches("look-ahead: d.close[1] read while deciding at bar 0", err, 1, true)
  end)

  it("gives the same bytes for the same inputs", function()
    local s = gt.data.synthetic { n = 800, seed = 9 }
    local a = json.encode(gt.backtest.run("momentum", s):summary())
    local b = json.encode(gt.backtest.run("momentum", s):summary())
    assert.equal(a, b)
  end)

  it("reports costs: commission and slippage lower the result", function()
    local s = gt.data.synthetic { n = 1000, seed = 6 }
    local free = gt.backtest.run("sma_cross", s, { commission = 0, slippage_bps = 0 })
    local paid = gt.backtest.run("sma_cross", s, { commission = 0.002, slippage_bps = 20 })
    assert.is_true(paid.stats.final_equity < free.stats.final_equity)
    assert.is_true(paid.stats.total_fees > 0)
    assert.equal(0, free.stats.total_fees)
  end)
end)

describe("gtengine backtest (CLI)", function()
  it("prints valid JSON with stats and trades for GOOG", function()
    local path, why = t.shared_file("data/backtesting.py/GOOG.csv")
    if not path then return pending(why) end
    local out, err, code = t.run("backtest --strategy sma_cross --data " .. path .. " --json --no-save")
    assert.equal(0, code, err)
    local doc = assert(json.decode(out))
    for _, k in ipairs({ "final_equity", "return_pct", "cagr_pct", "sharpe", "sortino", "calmar",
      "max_drawdown_pct", "num_trades", "win_rate_pct", "profit_factor", "exposure_pct" }) do
      assert.is_number(doc.stats[k], k)
    end
    assert.equal(#doc.trades, doc.stats.num_trades)
    assert.is_true(#doc.trades > 10)
    for _, k in ipairs({ "entry_bar", "entry_price", "exit_bar", "exit_price", "size", "pnl", "return_pct", "fees" }) do
      assert.is_number(doc.trades[1][k], k)
    end
    assert.matches("^%d%d%d%d%-%d%d%-%d%d$", doc.trades[1].entry_time)
    assert.matches("^%d%d%d%d%-%d%d%-%d%d$", doc.trades[1].exit_time)
    assert.equal("2004-08-19", doc.first)
  end)

  it("refuses an unknown parameter with the list of real ones", function()
    local _, err, code = t.run("backtest --strategy sma_cross --param nope=1 --data x.csv")
    assert.equal(2, code)
    assert.matches("strategy sma_cross has no parameter 'nope' (it has: fast, short, slow)", err, 1, true)
  end)

  it("names the available strategies when one is missing", function()
    local _, err, code = t.run("backtest --strategy nosuch --data x.csv")
    assert.equal(1, code)
    assert.matches("no strategy named 'nosuch'", err, 1, true)
    assert.matches("sma_cross", err, 1, true)
  end)
end)

describe("saved runs", function()
  it("store parameters, data hash, stats, trades and equity; the same inputs store the same bytes", function()
    local dir = t.tmpdir()
    local db = dir .. "/runs.db"
    local s = gt.data.synthetic { n = 700, seed = 17 }
    local r1 = gt.backtest.run("sma_cross", s, { params = { fast = 5 } })
    local id1 = assert(r1:save(db))
    local id2 = assert(gt.backtest.run("sma_cross", s, { params = { fast = 5 } }):save(db))
    assert.equal(id1 + 1, id2)
    local st = assert(require("gt.store").open(db))
    local a, b = assert(st:run(id1)), assert(st:run(id2))
    for _, k in ipairs({ "strategy", "symbol", "timeframe", "params", "options", "stats", "data_hash", "m", "bars", "np" }) do
      assert.equal(a[k], b[k], k)
    end
    local ffi = require "ffi"
    assert.equal(ffi.string(a.trades, a.m * ffi.sizeof("gt_trade")), ffi.string(b.trades, b.m * ffi.sizeof("gt_trade")))
    assert.equal(ffi.string(a.points, a.np * ffi.sizeof("gt_run_point")), ffi.string(b.points, b.np * ffi.sizeof("gt_run_point")))
    -- and they are the run's own numbers
    assert.equal(#r1.trades, a.m)
    assert.equal(r1.equity[699], a.points[a.np - 1].equity)
    assert.equal(r1.trades[1].pnl, a.trades[0].pnl)
    assert.equal(5, json.decode(a.params).fast)
    assert.equal(r1.stats.sharpe, json.decode(a.stats).sharpe)
    local hash = ffi.new("char[17]")
    ffi.C.gt_series_hash(s._c, hash)
    assert.equal(ffi.string(hash), a.data_hash)
    -- other data, other hash
    local s2 = gt.data.synthetic { n = 700, seed = 18 }
    local other = assert(gt.backtest.run("sma_cross", s2):save(db))
    assert.are_not.equal(a.data_hash, assert(st:run(other)).data_hash)
    st:close()
    os.execute("rm -rf " .. dir)
  end)
end)

describe("a portfolio of several symbols", function()
  local a = gt.data.synthetic { n = 1200, seed = 31, symbol = "AAA" }
  local b = gt.data.synthetic { n = 1200, seed = 32, symbol = "BBB" }

  it("trades each symbol with an equal share and agrees across paths", function()
    for _, name in ipairs({ "sma_cross", "breakout", "buy_and_hold" }) do
      local v = gt.backtest.run(name, { a, b }, { mode = "vector" })
      local e = gt.backtest.run(name, { a, b }, { mode = "event" })
      same_run(v, e)
      assert.equal("AAA,BBB", v.symbol)
    end
    local r = gt.backtest.run("buy_and_hold", { a, b }, { size = 1, commission = 0, slippage_bps = 0 })
    assert.equal(2, #r.trades)
    local seen = {}
    for _, tr in ipairs(r.trades) do seen[tr.symbol] = tr end
    assert.is_table(seen.AAA); assert.is_table(seen.BBB)
    -- each entry got half the equity: floor(5000 / next open) units
    assert.equal(math.floor(5000 / a.open[1]), seen.AAA.size)
    assert.equal(math.floor(5000 / b.open[1]), seen.BBB.size)
  end)

  it("refuses series that are not on one clock, pointing at gt.data.align", function()
    local c = gt.data.synthetic { n = 1100, seed = 33, symbol = "CCC" }
    local ok, err = pcall(gt.backtest.run, "sma_cross", { a, c })
    assert.is_false(ok)
    assert.matches("gt.data.align", err, 1, true)
    local aligned = gt.data.align({ a, c })
    assert.is_table(gt.backtest.run("sma_cross", aligned))
  end)
end)

describe("gtengine backtest with several --data files", function()
  it("aligns them and trades them as one portfolio", function()
    local p1, why = t.shared_file("data/backtrader/orcl-1995-2014.txt")
    if not p1 then return pending(why) end
    local p2 = assert(t.shared_file("data/backtrader/yhoo-1996-2014.txt"))
    local out, err, code = t.run(("backtest --strategy sma_cross --data %s --data %s --json --no-save"):format(p1, p2))
    assert.equal(0, code, err)
    local doc = assert(json.decode(out))
    assert.equal("ORCL,YHOO", doc.symbol)
    assert.equal(4713, doc.bars, "the common bars: YHOO starts 1996-04-12")
    local seen = {}
    for _, tr in ipairs(doc.trades) do seen[tr.symbol] = true end
    assert.is_true(seen.ORCL and seen.YHOO)
  end)
end)

describe("too little data", function()
  it("is reported as nil, message (and one line from the CLI), not a crash", function()
    local s = closes { 100, 101, 102 }
    local r, err = gt.backtest.run("sma_cross", s)
    assert.is_nil(r)
    assert.equal("backtest: sma_cross's indicators are not defined on any of the 3 bars; it needs a longer history", err)
    r, err = gt.backtest.run("sma_cross", closes { 100 })
    assert.is_nil(r)
    assert.equal("backtest: need at least 2 bars, the data has 1", err)
    local dir = t.tmpdir()
    local f = t.write(dir .. "/TINY.csv", "Date,Open,High,Low,Close,Volume\n2020-01-01,1,2,0.5,1.5,10\n2020-01-02,1,2,0.5,1.5,10\n")
    local out, e2, code = t.run("backtest --strategy sma_cross --no-save --timeframe 1d --data " .. f)
    assert.equal(1, code)
    assert.equal("", out)
    assert.equal("gtengine backtest: sma_cross's indicators are not defined on any of the 2 bars; it needs a longer history\n", e2)
    os.execute("rm -rf " .. t.quote(dir))
  end)
end)
