-- gt.portfolio: the seed's tier table (../shared/seed/slices.md section 8), every tier
-- boundary, the buffered transitions in both directions (and the unbuffered ones into and out
-- of large), the seed's scenarios 2,000 -> 3,000 and 5,000 -> 2,000, its tier-manager
-- fixture (small from 2,000 with a 10 % buffer: 2,900 up, 1,100 down), and plan's selection
-- and sizing worked by hand.
local portfolio = require "gt.portfolio"

local function near(want, got, what)
  assert(math.abs(got - want) <= 1e-9, ("%s: got %.17g, want %.17g"):format(what, got, want))
end

describe("gt.portfolio.tier", function()
  it("places every boundary as min <= capital < max", function()
    local cases = { { 500, "micro" }, { 2499.99, "micro" }, { 2500, "small" },
      { 9999.99, "small" }, { 10000, "medium" }, { 24999.99, "medium" }, { 25000, "large" },
      { 999999999, "large" } }
    for _, c in ipairs(cases) do
      assert.equal(c[2], (portfolio.tier(c[1])), "capital " .. c[1])
    end
    local name, err = portfolio.tier(499.99)
    assert.is_nil(name)
    assert.equal("capital 499.99 is below the smallest tier (micro from 500.00)", err)
  end)
  it("gives the seed's tier table", function()
    local _, t = portfolio.tier(1000)
    assert.same({ min = 2, max = 3, target = 2 }, t.positions)
    assert.equal(150, t.min_position_size)
    assert.same({ "momentum" }, t.strategies)
    assert.equal(1.0, t.daily_loss_limit_pct); assert.equal(8.0, t.quarterly_loss_limit_pct)
    assert.equal(5.0, t.stop_loss_pct); assert.equal(3, t.trades_per_week)
    assert.is_true(t.pdt); assert.equal("cash", t.account_type)
    assert.equal(50, t.max_sector_exposure_pct)
    _, t = portfolio.tier(30000)
    assert.same({ min = 8, max = 15, target = 10 }, t.positions)
    assert.is_false(t.pdt); assert.equal(999, t.trades_per_week)
    assert.equal(80, t.max_sector_exposure_pct)
    assert.same({ "momentum", "mean_reversion", "trend_following", "ml_enhanced" }, t.strategies)
    -- the seed's integration amounts
    local want = { [500] = "micro", [1000] = "micro", [2500] = "small", [5000] = "small",
      [10000] = "medium", [25000] = "large", [100000] = "large" }
    for amount, tier in pairs(want) do assert.equal(tier, (portfolio.tier(amount))) end
  end)
  it("raises on misuse", function()
    assert.has_error(function() portfolio.tier("lots") end)
    assert.has_error(function() portfolio.tier(0 / 0) end)
  end)
end)

describe("gt.portfolio.transition", function()
  -- buffer = 5 % of the current tier's range: micro 2000 -> 100, small 7500 -> 375,
  -- medium 15000 -> 750
  local function to(cur, capital) return portfolio.transition(cur, capital).to end
  it("needs the buffer to go up", function()
    assert.equal("micro", to("micro", 2599.99))  -- above 2500, inside the buffer
    assert.equal("small", to("micro", 2600))     -- 2500 + 100
    assert.equal("small", to("small", 10374.99))
    assert.equal("medium", to("small", 10375))   -- 10000 + 375
  end)
  it("needs the buffer to go down", function()
    assert.equal("small", to("small", 2125))     -- 2500 - 375 is still small
    assert.equal("micro", to("small", 2124.99))
    assert.equal("medium", to("medium", 9250))   -- 10000 - 750
    assert.equal("small", to("medium", 9249.99))
  end)
  it("moves into and out of large without a buffer", function()
    assert.equal("medium", to("medium", 24999.99))
    assert.equal("large", to("medium", 25000))
    assert.equal("large", to("large", 25000))
    assert.equal("medium", to("large", 24999.99))
  end)
  it("reproduces the seed's scenarios", function()
    -- 2,000 -> 3,000: micro, then 3000 >= 2600 moves to small
    local start = portfolio.tier(2000)
    assert.equal("micro", start)
    local tr = portfolio.transition(start, 3000)
    assert.same({ from = "micro", to = "small", changed = true,
      reason = "capital 3000.00 >= 2600.00: up from micro to small" }, tr)
    -- 5,000 -> 2,000: small, then 2000 < 2125 moves to micro
    start = portfolio.tier(5000)
    assert.equal("small", start)
    tr = portfolio.transition(start, 2000)
    assert.equal("micro", tr.to); assert.is_true(tr.changed)
  end)
  it("reproduces the seed's tier-manager fixture with an overridden table", function()
    local cfg = portfolio.default_config()
    cfg.tiers[1].max = 2000; cfg.tiers[2].min = 2000
    cfg.tier_buffer_pct = 10
    -- micro 500-2000: up needs 2000 + 150; small 2000-10000: down needs < 2000 - 800
    assert.equal("small", portfolio.transition("micro", 2900, { config = cfg }).to)
    assert.equal("micro", portfolio.transition("small", 1100, { config = cfg }).to)
    assert.equal("small", portfolio.transition("small", 1200, { config = cfg }).to)
  end)
  it("rejects a broken table", function()
    local cfg = portfolio.default_config()
    cfg.tiers[2].min = 3000
    assert.has_error(function() portfolio.transition("micro", 2600, { config = cfg }) end,
      "gt.portfolio: config.tiers[2] (small): min 3000 must equal the previous tier's max "
      .. "2500 (ranges are contiguous)")
    assert.has_error(function() portfolio.transition("huge", 2600) end,
      'gt.portfolio: unknown tier "huge"')
  end)
end)

describe("gt.portfolio.plan", function()
  local candidates = {
    { symbol = "MSFT", strategy = "momentum", confidence = 0.75 },
    { symbol = "GOOG", strategy = "mean_reversion", confidence = 0.65 },
    { symbol = "AMZN", strategy = "trend_following", confidence = 0.9 }, -- not in small
    { symbol = "NVDA", strategy = "momentum", confidence = 0.55 },        -- below 0.6
    { symbol = "AAPL", strategy = "momentum", confidence = 0.9 },         -- held
    { symbol = "TSLA", strategy = "momentum", confidence = 0.7 },
    { symbol = "META", strategy = "momentum", confidence = 0.8 },
  }
  it("moves micro -> small at 3,000 and picks and sizes as the seed", function()
    local p = portfolio.plan{ capital = 3000, tier = "micro", positions = { AAPL = 900 },
      candidates = candidates }
    assert.equal("small", p.tier)
    assert.is_true(p.transition.changed)
    -- 1 held: min(5 - 1, 4 - 1) = 3 slots; sorted META 0.8, MSFT 0.75, TSLA 0.7 (GOOG 0.65 out)
    assert.equal(3, #p.signals)
    assert.equal("META", p.signals[1].symbol)
    assert.equal("MSFT", p.signals[2].symbol)
    assert.equal("TSLA", p.signals[3].symbol)
    -- 3000 / 4 * 0.8 = 600 (>= 500, <= 750 = 25 %), x0.8 below 5000 = 480
    near(480, p.signals[1].target_position_size, "META size")
    -- 750 * 0.75 = 562.5 -> 450; 750 * 0.7 = 525 -> 420
    near(450, p.signals[2].target_position_size, "MSFT size")
    near(420, p.signals[3].target_position_size, "TSLA size")
    assert.equal(6.0, p.signals[1].stop_loss_pct)
    assert.equal("BUY", p.signals[1].action)
    assert.equal("momentum", p.signals[1].strategy_source)
    assert.truthy(p.recommended_actions[1]:find("change tier", 1, true))
  end)
  it("caps at 25 % and raises to the tier minimum", function()
    -- micro, 1000: 1000 / 2 * 0.8 = 400 -> capped 250 -> x0.8 = 200
    local p = portfolio.plan{ capital = 1000, candidates = {
      { symbol = "MSFT", strategy = "momentum", confidence = 0.8 },
      { symbol = "XOM", strategy = "momentum", confidence = 0.69 } } } -- below micro's 0.7
    assert.equal("micro", p.tier)
    assert.equal(1, #p.signals)
    near(200, p.signals[1].target_position_size, "micro size")
    -- large, 100000: 100000 / 10 * 0.4 = 4000 (min confidence 0.4 passes; no x0.8)
    p = portfolio.plan{ capital = 100000, candidates = {
      { symbol = "MSFT", strategy = "ml_enhanced", confidence = 0.4 } } }
    near(4000, p.signals[1].target_position_size, "large size")
    -- medium, 12000: 12000 / 6 * 0.5 = 1000 < 1250 minimum -> 1250
    p = portfolio.plan{ capital = 12000, candidates = {
      { symbol = "MSFT", strategy = "trend_following", confidence = 0.5 } } }
    near(1250, p.signals[1].target_position_size, "medium minimum")
  end)
  it("blocks new trades under PDT rules and loss limits", function()
    local p = portfolio.plan{ capital = 3000, trades_this_week = 2, candidates = candidates }
    assert.equal(0, #p.signals)
    assert.truthy(p.warnings[1]:find("PDT rules: 2 trades", 1, true))
    p = portfolio.plan{ capital = 3000, trades_this_week = 1, candidates = candidates }
    assert.is_true(#p.signals > 0)
    -- large has no PDT rule
    p = portfolio.plan{ capital = 50000, trades_this_week = 2, candidates = candidates }
    assert.is_true(#p.signals > 0)
    -- small's daily limit is 1.5 %: -1.5 blocks, -1.49 does not
    p = portfolio.plan{ capital = 3000, daily_pnl_pct = -1.5, candidates = candidates }
    assert.equal(0, #p.signals)
    p = portfolio.plan{ capital = 3000, daily_pnl_pct = -1.49, candidates = candidates }
    assert.is_true(#p.signals > 0)
  end)
  it("recommends reducing after a move down and holds when full", function()
    local pos = { A = 1, B = 1, C = 1, D = 1 }
    local p = portfolio.plan{ capital = 2000, tier = "small", positions = pos,
      candidates = candidates }
    assert.equal("micro", p.tier)
    assert.equal(0, #p.signals)
    assert.truthy(table.concat(p.recommended_actions, "\n")
      :find("reduce positions: 4 held, tier micro allows at most 3", 1, true))
    assert.has_error(function() portfolio.plan{ capital = "x" } end)
    assert.has_error(function()
      portfolio.plan{ capital = 3000, candidates = { { symbol = 1 } } }
    end)
  end)
end)
