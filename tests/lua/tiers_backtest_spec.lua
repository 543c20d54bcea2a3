-- The tier rules and the gate's decisions in a backtest, its result, JSON and report.
local gt = require "gt"
local t = require "tests.lua.support"
local report = require "gt.report"

describe("tiers in a backtest", function()
  it("the tier of the starting capital sets size, stop, daily loss limit and max positions", function()
    -- $1,000 is micro: target 2 positions (1/2 of equity) capped at the table's 25 % max
    -- position, a 5 % stop, a 1 % daily loss limit, at most 3 positions
    local s = gt.data.synthetic { n = 400, seed = 5 }
    local r = assert(gt.backtest.run("momentum", s, { capital = 1000, tiers = true }))
    assert.same({ "micro", 0.25, 0.05, 0.01, 3, true },
      { r.tier.name, r.tier.size, r.tier.stop_pct, r.tier.max_daily_loss, r.tier.max_positions,
        r.tier.strategy_allowed })
    assert.equal(0.25, r.options.size); assert.equal(0.05, r.options.stop_pct)
    -- the first entry is a quarter of equity in whole units at the deciding close, net of costs
    local tr = r.trades[1]
    local want = math.floor(0.25 * 1000 / (s.close[tr.entry_bar - 1] * (1 + 5e-4) * (1 + 0.001)))
    assert.equal(want, tr.size)
    -- a $30,000 account is large: 10 positions, 8 % stop; sma_cross is not a tier strategy
    local big = assert(gt.backtest.run("sma_cross", s, { capital = 30000, tiers = true }))
    assert.same({ "large", 0.1, 0.08, false }, { big.tier.name, big.tier.size, big.tier.stop_pct,
      big.tier.strategy_allowed })
  end)

  it("the report shows the gate's state over time, refusals and the tier, and a saved run keeps them", function()
    local s = gt.data.synthetic { n = 500, seed = 6 }
    local r = assert(gt.backtest.run("sma_cross", s, { capital = 1000, tiers = true, risk = "default" }))
    local html = report.html(r)
    assert.truthy(html:find('id="risk-chart"', 1, true))
    assert.truthy(html:find('id="tier"', 1, true))
    assert.is_true(#r.risk.changes >= 1)
    assert.equal("ACTIVE", r.risk.changes[1].state)
    local dir = t.tmpdir()
    local id = assert(r:save(dir .. "/t.db"))
    local db = assert(gt.store.open(dir .. "/t.db"))
    local again = assert(db:result(id)); db:close()
    r.run_id, again.run_id = nil, nil
    assert.equal(html, report.html(again))
    os.execute("rm -rf " .. t.quote(dir))
  end)

  it("the CLI takes --tiers and says what the tier set", function()
    local dir = t.tmpdir()
    local csv = t.synthetic_csv(dir .. "/s.csv", 300, 7)
    local out, err, code = t.run("backtest --strategy momentum --no-save --capital 1000 --tiers --data " .. csv)
    assert.equal(0, code, err)
    assert.matches("tier micro (from the starting capital): 25.0% of equity per entry, stop 5.0%", out, 1, true)
    os.execute("rm -rf " .. t.quote(dir))
  end)
end)
