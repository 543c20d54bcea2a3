-- backtesting.py parity: its own published test result (backtesting/test/_test.py,
-- test_compute_stats: SmaCross fast 10 / slow 30 on GOOG.csv, cash 10,000, no costs,
-- finalize_trades=True) reproduced with its two rules: size at the fill, from the equity after
-- the bar's closing fills, floor(equity * size / price) whole units with size 1 - 2^-52; and
-- the trade open after the last bar closed at that bar's open. The expected figures are
-- backtesting.py's, not ours.
local gt = require "gt"
local t = require "tests.lua.support"

local PUBLISHED = {
  final_equity = 51422.98999999996, num_trades = 66, win_rate_pct = 46.96969696969697,
  best_trade_pct = 53.59595229490424, worst_trade_pct = -18.39887353835481,
  exposure_pct = 96.74115456238361, max_drawdown_pct = 47.98012705007589,
  return_pct = 414.2298999999996,
}

local function run(s, mode)
  return assert(gt.backtest.run("sma_cross", s, { params = { fast = 10, slow = 30, short = true },
    capital = 10000, commission = 0, slippage_bps = 0, fill = "next_open", size = 1 - 2 ^ -52,
    size_at = "fill", close_at_end = "open", mode = mode }))
end

describe("backtesting.py parity (GOOG, SmaCross 10/30, long/short)", function()
  for _, mode in ipairs { "vector", "event" } do
    it("reproduces the published stats to the cent and 0.01 points (" .. mode .. " path)", function()
      local path, why = t.shared_file("data/backtesting.py/GOOG.csv")
      if not path then return pending(why) end
      local r = run(assert(gt.data.load(path)), mode)
      assert.equal(PUBLISHED.num_trades, r.stats.num_trades)
      assert.is_true(math.abs(r.stats.final_equity - PUBLISHED.final_equity) < 0.005,
        "final equity " .. r.stats.final_equity)
      for _, k in ipairs { "win_rate_pct", "best_trade_pct", "worst_trade_pct", "exposure_pct",
        "max_drawdown_pct", "return_pct" } do
        assert.is_true(math.abs(r.stats[k] - PUBLISHED[k]) < 0.005, ("%s: %.6f, published %.6f")
          :format(k, r.stats[k], PUBLISHED[k]))
      end
    end)
  end

  it("differs without the two rules (the options are what makes it match)", function()
    local path, why = t.shared_file("data/backtesting.py/GOOG.csv")
    if not path then return pending(why) end
    local s = assert(gt.data.load(path))
    local r = assert(gt.backtest.run("sma_cross", s, { params = { fast = 10, slow = 30, short = true },
      capital = 10000, commission = 0, slippage_bps = 0, size = 1 - 2 ^ -52 }))
    assert.is_true(math.abs(r.stats.final_equity - PUBLISHED.final_equity) > 1)
  end)

  it("sizes at the fill by hand: equity after the closing fill, floor at the fill price", function()
    -- closes 10,10,10,12,8,8; opens equal to the previous close except bar 4 opens at 9.
    -- A rule goes long at bar 2 and short at bar 3. Fill sizing, all-in, capital 100:
    -- bar 3 open 10: buy floor(100 / 10) = 10. Bar 4 open 9: the long closes at 9 (cash
    -- 100 - 100 + 90 = 90 = equity), the short takes floor(90 / 9) = 10 units. Sizing at the
    -- signal (bar 3's close, 12) would have taken floor(120 / 12) = 10 too, but from equity 120
    -- marked at a price the fill never saw; at bar 5 the short is closed at the last open (8):
    -- pnl 10 * (9 - 8) = 10, final equity 100.
    local cols = { ts = {}, open = { 10, 10, 10, 10, 9, 8 }, high = {}, low = {}, close = { 10, 10, 10, 12, 8, 8 }, volume = {} }
    for i = 1, 6 do
      cols.ts[i] = (i - 1) * 86400e6
      cols.high[i] = math.max(cols.open[i], cols.close[i]); cols.low[i] = math.min(cols.open[i], cols.close[i])
      cols.volume[i] = 1000
    end
    local s = require("gt.series").from_columns(cols, { symbol = "HAND", timeframe = "1d" })
    local strat = { name = "flip", rule = function(_, _, i) if i == 2 then return 1 elseif i == 3 then return -1 end end }
    for _, mode in ipairs { "vector", "event" } do
      local r = assert(gt.backtest.run(strat, s, { capital = 100, size = 1, commission = 0, slippage_bps = 0,
        size_at = "fill", close_at_end = "open", mode = mode }))
      assert.equal(2, #r.trades, mode)
      assert.equal(10, r.trades[1].size); assert.equal(10, r.trades[1].entry_price)
      assert.equal(9, r.trades[1].exit_price)
      assert.equal(-10, r.trades[2].size); assert.equal(9, r.trades[2].entry_price)
      assert.equal(8, r.trades[2].exit_price)
      assert.equal(100, r.stats.final_equity)
    end
  end)
end)
