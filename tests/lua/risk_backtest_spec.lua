-- The sizing and risk units inside a backtest: every order passes the gate in C, refusals
-- are kept with their rule, breakers trip on the run's own equity exactly at their
-- thresholds, identically in both paths; sizing decides the quantity.
local gt = require "gt"
local t = require "tests.lua.support"

local function bars(closes) return t.bars(closes, { volume = 1e6, symbol = "PATH" }) end
local NOCOST = { commission = 0, slippage_bps = 0, capital = 10000, size = 1 }
local function opts(extra) return t.merge(NOCOST, extra) end

describe("the risk gate in a backtest", function()
  it("refuses an entry above max_position and keeps it with its rule, in both paths", function()
    local s = bars { 100, 100, 101, 102, 103, 104 }
    local strat = { name = "in", rule = function(_, _, i) if i == 1 then return 1 end end }
    for _, mode in ipairs { "vector", "event" } do
      local r = assert(gt.backtest.run(strat, s, opts { mode = mode, risk = "default" })) -- max_position 0.2
      assert.equal(0, #r.trades, mode)
      assert.equal(1, r.risk.refused_orders)
      assert.equal(1, r.risk.refused.max_position)
      local o = r.orders[1]
      assert.equal("rejected", o.status); assert.equal("max_position", o.risk_rule)
      assert.equal("refused by the risk gate", o.reject)
      -- the gate's own words, with the values: 100 units x 100 = 100 % of equity 10,000
      assert.matches("^max_position: PATH: position after this order 100 x 100 = 100 %% of equity 10000, over max_position 20 %%",
        o.risk_reason)
      -- 0.15 of equity is under the limit: 15 units at 100
      local ok = assert(gt.backtest.run(strat, s, opts { mode = mode, risk = "default", size = 0.15 }))
      assert.equal(1, #ok.trades); assert.equal(15, ok.trades[1].size)
    end
  end)

  -- All in at 100 (100 units) from bar 1; closes 100 100 95 90.5 89: the drawdown from the
  -- 10,000 peak is 5% at bar 3, 9.5% at bar 4, 11% at bar 5. The position is closed at bar 5
  -- (decided before the bar's breaker check) and a new entry decided at bar 6 is refused
  -- when max_drawdown (10%) tripped; with 12% it is not.
  local path = bars { 100, 100, 100, 95, 90.5, 89, 89, 89, 89 }
  local flip = { name = "flip", rule = function(_, _, i)
    if i == 0 then return 1 end
    if i == 5 then return 0 end
    if i == 6 then return 1 end
  end, lookback = 0 }
  it("trips max_drawdown exactly past its threshold and refuses later entries, in both paths", function()
    for _, mode in ipairs { "vector", "event" } do
      local r = assert(gt.backtest.run(flip, path, opts { mode = mode, risk = { max_drawdown = 0.1 } }))
      assert.equal("HALTED", r.risk.state, mode)
      assert.same({ "drawdown" }, r.risk.causes)
      assert.equal(1, #r.trades)
      assert.equal(1, r.risk.refused.halted)
      local r2 = assert(gt.backtest.run(flip, path, opts { mode = mode, risk = { max_drawdown = 0.12 } }))
      assert.equal("ACTIVE", r2.risk.state)
      assert.equal(2, #r2.trades)
    end
  end)
end)

describe("the risk gate's refusals in a long backtest", function()
  it("keep and free refusals that outgrow 2 MB (the ledger's huge-page arrays)", function()
    -- 600,000 minute bars of a fast crossover at size 0.15: about 42,000 refusals of 248
    -- bytes, 10 MB, past the 2 MB where the array moves to its own mapping; freeing it with
    -- free() instead of gt_free_big aborted the process (seen in make bench's risk run)
    local s = gt.data.synthetic { n = 600000, seed = 11, timeframe = "1m" }
    local r = assert(gt.backtest.run("sma_cross", s, { size = 0.15, risk = "default", params = { fast = 3, slow = 8 } }))
    assert.is_true(r.risk.refused_orders > 20000)
    r = nil -- luacheck: ignore
    collectgarbage(); collectgarbage()
  end)
end)

describe("sizing in a backtest", function()
  it("decides the quantity: fixed 3% and the intelligent method's no-statistics fallback", function()
    local s = bars { 100, 100, 100, 100, 100 }
    local strat = { name = "in", rule = function(_, _, i) if i == 1 then return 1 end end }
    for _, mode in ipairs { "vector", "event" } do
      -- fixed: 0.3 * max_position 0.1 = 0.03 of 10,000 = 300 at 100: 3 units
      local r = assert(gt.backtest.run(strat, s, opts { mode = mode, sizing = "fixed" }))
      assert.equal(3, r.trades[1].size, mode)
      -- intelligent without 20 closed trades: half the max position, 0.05: 5 units
      r = assert(gt.backtest.run(strat, s, opts { mode = mode, sizing = "intelligent" }))
      assert.equal(5, r.trades[1].size, mode)
    end
  end)

  it("runs the issue's command with sizing and the gate and reports refusals in JSON", function()
    local path, why = t.shared_file("data/backtrader/orcl-1995-2014.txt")
    if not path then return pending(why) end
    local out, err, code = t.run("backtest --strategy momentum --data " .. path ..
      " --sizing intelligent --risk default --json --no-save")
    assert.equal(0, code, err)
    local d = require("gt.json").decode(out)
    assert.equal("ACTIVE", d.risk.state)
    assert.equal("intelligent", d.options.sizing)
    assert.is_true(d.stats.num_trades > 0)
    local out2, _, code2 = t.run("backtest --strategy sma_cross --data " .. path .. " --risk default --no-save")
    assert.equal(0, code2)
    assert.matches("orders refused: max_position %d+", out2)
  end)
end)
