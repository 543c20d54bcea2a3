-- Indicator conventions that differ between the references: KAMA's seed (TA-Lib vs
-- backtrader) and the standard deviation's ddof (population vs sample).
local gt = require "gt"
local t = require "tests.lua.support"

local function arr(list)
  local a = require("ffi").new("double[?]", #list)
  for i, v in ipairs(list) do a[i - 1] = v end
  return a
end

describe("gt.ind.kama seed", function()
  -- x = 1, 2, 4, 3, 5 with period 2, fast 2, slow 30: fast_sc = 2/3, slow_sc = 2/31.
  -- Bar 2 is the first value. Direction |4 - 1| = 3, volatility |2-1| + |4-2| = 3: ER = 1,
  -- sc = (1 * (2/3 - 2/31) + 2/31)^2 = (2/3)^2 = 4/9.
  --   talib: start from x[1] = 2, smooth at bar 2: 2 + 4/9 * (4 - 2) = 26/9.
  --   sma:   the mean of x[1..2] = (2 + 4) / 2 = 3, unsmoothed at bar 2.
  -- Bar 3 (x = 3): direction |3 - 2| = 1, volatility |4-2| + |3-4| = 3: ER = 1/3,
  --   sc = (1/3 * (2/3 - 2/31) + 2/31)^2 = (56/279)^2... kept symbolic below.
  local x = arr { 1, 2, 4, 3, 5 }
  local fast, slow = 2 / 3, 2 / 31
  local function sc(er) local v = er * (fast - slow) + slow; return v * v end

  it("'talib' (the default) starts from the previous value and smooths", function()
    local k = gt.ind.kama(x, { period = 2, fast = 2, slow = 30, n = 5 })
    assert.is_true(k[1] ~= k[1])
    assert.near(26 / 9, k[2], 1e-12)
    assert.near(26 / 9 + sc(1 / 3) * (3 - 26 / 9), k[3], 1e-12)
  end)

  it("'sma' starts from the mean of the period newest values, unsmoothed", function()
    local k = gt.ind.kama(x, { period = 2, fast = 2, slow = 30, seed = "sma", n = 5 })
    assert.is_true(k[1] ~= k[1])
    assert.near(3, k[2], 1e-12)
    assert.near(3 + sc(1 / 3) * (3 - 3), k[3], 1e-12)
    -- bar 4 (x = 5): direction |5 - 4| = 1, volatility |3-4| + |5-3| = 3: ER 1/3
    assert.near(3 + sc(1 / 3) * (5 - 3), k[4], 1e-12)
  end)

  it("'sma' reproduces backtrader's published KAMA check values on 2006-day-001", function()
    -- backtrader tests/test_ind_kama.py: KAMA(30, 2, 30), values printed with %f at the
    -- first output bar (30), bar 142 and the last bar (254)
    local path, why = t.shared_file("data/backtrader/2006-day-001.txt")
    if not path then return pending(why) end
    local s = assert(gt.data.load(path))
    local k = gt.ind.kama(s.close, { period = 30, fast = 2, slow = 30, seed = "sma", n = s.n })
    assert.equal("3648.549000", ("%f"):format(k[30]))
    assert.equal("3592.979190", ("%f"):format(k[142]))
    assert.equal("4054.187922", ("%f"):format(k[254]))
    assert.is_true(k[29] ~= k[29])
    local talib = gt.ind.kama(s.close, { period = 30, fast = 2, slow = 30, n = s.n })
    assert.is_true(math.abs(talib[30] - k[30]) > 1, "the two seeds differ early on")
  end)

  it("streams the same values as the batch, for both seeds", function()
    for _, seed in ipairs { "talib", "sma" } do
      local batch = gt.ind.kama(x, { period = 2, seed = seed, n = 5 })
      local st = gt.ind.stream.kama { period = 2, seed = seed }
      for i = 0, 4 do
        local v = st:update(x[i])
        assert.is_true(v == batch[i] or (v ~= v and batch[i] ~= batch[i]), seed .. " bar " .. i)
      end
    end
    assert.has_error(function() gt.ind.kama(x, { period = 2, seed = "ema", n = 5 }) end,
      "gt.ind.kama: seed must be 'talib' or 'sma', got ema")
  end)
end)

describe("gt.ind.stddev ddof", function()
  -- 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum 32: population sd sqrt(32/8) = 2,
  -- sample sd sqrt(32/7)
  local x = arr { 2, 4, 4, 4, 5, 5, 7, 9 }
  it("ddof 0 is the population deviation, ddof 1 the sample one", function()
    assert.near(2, gt.ind.stddev(x, { period = 8, n = 8 })[7], 1e-12)
    assert.near(math.sqrt(32 / 7), gt.ind.stddev(x, { period = 8, ddof = 1, n = 8 })[7], 1e-12)
    assert.has_error(function() gt.ind.stddev(x, { period = 8, ddof = 2, n = 8 }) end)
  end)
end)
