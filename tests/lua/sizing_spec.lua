-- gt.sizing: the seed's reference numbers (../shared/seed/slices.md section 15) through
-- the Lua face of engine/sizing.c, each method worked by hand, and misuse raising with the
-- field and value.
local sizing = require "gt.sizing"

local function near(want, got, tol, what)
  assert(math.abs(got - want) <= (tol or 1e-12),
    ("%s: got %.17g, want %.17g"):format(what or "value", got, want))
end

describe("gt.sizing.kelly", function()
  it("gives the seed's values", function()
    -- b = 0.05 / 0.03 = 5/3; 0.6 - 0.4 * 3/5 = 0.36
    near(0.36, sizing.kelly(0.6, 0.05, -0.03), 1e-15, "kelly(0.6, 0.05, -0.03)")
    -- 0.4 - 0.6 / 0.6 < 0 -> 0; 0.5 - 0.5 / 1 = 0
    assert.equal(0, sizing.kelly(0.4, 0.03, -0.05))
    assert.equal(0, sizing.kelly(0.5, 0.03, -0.03))
  end)
  it("validates as the seed's [S]", function()
    assert.has_error(function() sizing.kelly(1.0, 0.05, -0.03) end,
      "gt.sizing.kelly: sizing: win_rate 1 must be in [0.01, 0.99]")
    local ok, err = pcall(sizing.kelly, 0.6, 0.05, 0.03)
    assert.is_false(ok)
    assert.truthy(err:find("avg_loss 0.03", 1, true), err)
  end)
end)

describe("gt.sizing.size", function()
  -- The seed's kelly_position_value cases go through method "fixed" with the fraction as
  -- fixed_fraction: value = equity * clamp(fraction, min, max), shares = floor(value / price).
  local function kpv(equity, fraction, price, min, max)
    return sizing.size{ method = "fixed", equity = equity, fixed_fraction = fraction,
      price = price, min_position = min or 0.01, max_position = max or 0.2 }
  end
  it("reproduces the seed's share counts", function()
    local s = kpv(10000, 0.15, 100, 0.01, 0.2)     -- 1500 / 100
    assert.equal(15, s.shares); assert.equal(1500, s.value)
    s = kpv(10000, 0.5, 100, 0.01, 0.1)            -- clamped to 0.1: 1000 / 100
    assert.equal(10, s.shares); assert.equal(1000, s.value)
    s = kpv(10000, 0.01, 100, 0.05, 0.2)           -- raised to 0.05: 500 / 100
    assert.equal(5, s.shares); assert.equal(500, s.value)
    s = kpv(10000, 0.15, 5000)                     -- 1500 < 5000
    assert.equal(0, s.shares)
    assert.truthy(table.concat(s.notes, ";"):find("one share costs more", 1, true))
    s = kpv(10000, 0.12, 75)                       -- 1200 / 75
    assert.equal(16, s.shares); assert.equal(1200, s.value)
  end)

  it("applies the regime and confidence multipliers as the seed's tests", function()
    -- crisis on 0.1: 0.1 * 0.2 = 0.02 <= 0.025 (no stats: base 0.5 * max, so max = 0.2
    -- gives base 0.1)
    local s = sizing.size{ price = 1, equity = 1e6, regime = "crisis", max_position = 0.2,
      min_position = 0 }
    assert.equal(0.2, s.regime_adj)
    assert.truthy(s.fraction <= 0.025, s.fraction)
    near(0.02, s.fraction, 1e-12, "crisis fraction")
    s = sizing.size{ price = 1, equity = 1e6, regime = "sideways_quiet", max_position = 0.2 }
    near(0.1, s.fraction, 1e-12, "sideways_quiet fraction")
    -- confidence 0.6 on 0.1: x0.5 -> 0.05
    s = sizing.size{ price = 1, equity = 1e6, confidence = 0.6, max_position = 0.2 }
    assert.equal(0.5, s.confidence_adj)
    near(0.05, s.fraction, 1e-12, "confidence 0.6 fraction")
    assert.equal(0.05, 0.1 * sizing.confidence_adj(0.6))
  end)

  it("sizes the intelligent method from statistics", function()
    -- 0.25 * 0.36 = 0.09; x1.5 (c = 0.8); x0.4 (bear_volatile) = 0.054 -> 5400 / 100 = 54
    local s = sizing.size{ price = 100, equity = 100000, win_rate = 0.6, avg_win = 0.05,
      avg_loss = -0.03, confidence = 0.8, regime = "bear_volatile" }
    near(0.36, s.kelly, 1e-15, "kelly")
    near(1.5, s.confidence_adj, 1e-15, "confidence_adj")
    assert.equal(0.4, s.regime_adj)
    assert.equal(54, s.shares)
    assert.equal(5400, s.value)
    near(0.054, s.fraction, 1e-15, "fraction")
    near(0.054 * 0.03, s.risk, 1e-15, "risk = fraction * |avg_loss|")
    -- below the confidence threshold: nothing, and it says why
    s = sizing.size{ price = 100, equity = 100000, confidence = 0.59 }
    assert.equal(0, s.shares)
    assert.truthy(table.concat(s.notes, ";"):find("confidence below", 1, true))
    -- a regime override from the caller: sideways_quiet 0.8 (the seed's config file value)
    s = sizing.size{ price = 100, equity = 100000, regime = "sideways_quiet",
      regime_multipliers = { sideways_quiet = 0.8 } }
    -- 0.05 * 0.8 = 0.04 -> 4000 / 100 = 40
    assert.equal(40, s.shares)
  end)

  it("sizes volatility targeting and equal weight", function()
    -- stop 2 * 1.25 = 2.5; 1 % of 50000 = 500; 500 / 2.5 = 200 shares at $20 = 4000 = 0.08
    local s = sizing.size{ method = "volatility", price = 20, equity = 50000, atr = 1.25 }
    assert.equal(200, s.shares)
    near(0.01, s.risk, 1e-15, "risk")
    -- 1/20 = 0.05 of 50000 = 2500 / 20 = 125 shares
    s = sizing.size{ method = "equal_weight", slots = 20, price = 20, equity = 50000 }
    assert.equal(125, s.shares)
  end)

  it("raises on misuse, naming the field and value", function()
    assert.has_error(function() sizing.size{ price = 100, equity = 1000, bogus = 1 } end,
      'gt.sizing.size: unknown key "bogus"')
    assert.has_error(function() sizing.size{ price = -5, equity = 1000 } end,
      "gt.sizing.size: sizing: price -5 must be a finite number > 0")
    assert.has_error(function() sizing.size{ price = 5, equity = 0 / 0 } end)
    assert.has_error(function() sizing.size{ price = 5, equity = 1000, win_rate = 0.5 } end,
      "gt.sizing.size: give win_rate, avg_win and avg_loss together (or none)")
    assert.has_error(function() sizing.size{ price = 5, equity = 1000, regime = "moon" } end,
      'gt.sizing.size: regime "moon" is not a known regime')
    assert.has_error(function() sizing.size{ price = 5, equity = 1000, method = "magic" } end)
    assert.has_error(function() sizing.size{ method = "volatility", price = 5, equity = 1000 } end)
  end)
end)

describe("gt.sizing.allocate", function()
  it("scales proportionally above the 0.8 cap", function()
    -- 0.5 + 0.3 + 0.2 = 1.0: x0.8 -> 0.4, 0.24, 0.16
    local out, k = sizing.allocate{ 0.5, 0.3, 0.2 }
    near(0.8, k, 1e-15, "factor")
    near(0.4, out[1], 1e-15); near(0.24, out[2], 1e-15); near(0.16, out[3], 1e-15)
    out, k = sizing.allocate{ 0.3, 0.3 }
    assert.equal(1, k); assert.equal(0.3, out[1])
    assert.has_error(function() sizing.allocate{ 0.3, -1 } end)
  end)
end)
