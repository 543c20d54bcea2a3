local gt = require "gt"
local t = require "tests.lua.support"
local opt = require "gt.optimize"

local function near(a, b, tol, what)
  if not (math.abs(a - b) <= tol) then
    error(("%s: expected %.17g, got %.17g (tolerance %g)"):format(what or "value", b, a, tol), 2)
  end
end

local function synth(n, seed) return gt.data.synthetic { n = n, seed = seed or 7 } end

describe("gt.optimize grids", function()
  it("parses the CLI grid syntax: ranges are inclusive, bare values extend the last key", function()
    local g = assert(opt.parse_grid("fast=5:20:5,slow=20,30,40"))
    assert.same({ 5, 10, 15, 20 }, g.fast)
    assert.same({ 20, 30, 40 }, g.slow)
    -- 0.1:0.3:0.1 is 0.1, 0.2, 0.3 (not 0.30000000000000004, which would drop the last)
    assert.same({ 0.1, 0.2, 0.3 }, assert(opt.parse_grid("x=0.1:0.3:0.1")).x)
    assert.is_nil((opt.parse_grid("5,6")))
    local _, err = opt.parse_grid("a=9:1")
    assert.matches("low <= high", err)
  end)

  it("enumerates sma_cross's seed grid (4 x 4) and skips fast >= slow by the constraint", function()
    local s = gt.strategy.load("sma_cross")
    assert.same({ 5, 10, 15, 20 }, s.grid.fast)  -- slices.md section 4: fast [5,10,15,20]
    assert.same({ 20, 30, 40, 50 }, s.grid.slow) -- x slow [20,30,40,50]
    local list, skipped = opt.combinations(s.grid)
    -- only (20, 20) breaks fast < slow: 16 - 1 = 15 run, 1 skipped
    assert.equal(15, #list); assert.equal(1, skipped)
    -- sorted keys, the first varying slowest: (5,20), (5,30), ...
    assert.same({ fast = 5, slow = 20 }, list[1]); assert.same({ fast = 5, slow = 30 }, list[2])
    assert.same({ fast = 20, slow = 50 }, list[15])
    -- fast < mid < slow for trend_following's three periods
    assert.is_false(opt.default_constraint { fast = 10, mid = 10, slow = 50 })
    assert.is_true(opt.default_constraint { fast = 5, mid = 10, slow = 50 })
  end)

  it("never runs a skipped combination, and a user constraint adds to the default", function()
    local runs = {}
    local strat = { name = "spy", params = { fast = 1, slow = 2 },
      signals = function(d, p)
        runs[#runs + 1] = p.fast .. "/" .. p.slow
        local a = require("ffi").new("double[?]", d.n)
        return { target = a }
      end }
    local r = opt.grid { strategy = strat, data = synth(300), grid = { fast = { 1, 2, 3 }, slow = { 2, 3 } },
      constraints = function(p) return p.fast ~= 1 end }
    -- pairs: (1,2) user-skipped, (1,3) user-skipped, (2,2) (2,3) (3,2) (3,3): fast < slow keeps (2,3)
    assert.same({ "2/3" }, runs)
    assert.equal(1, r.evaluated); assert.equal(5, r.skipped)
  end)

  it("sorts by the objective, and each result's stats are a plain backtest's", function()
    local s = synth(1500)
    for _, obj in ipairs { "sharpe", "return", "calmar", "sortino" } do
      local r = opt.grid { strategy = "sma_cross", data = s, objective = obj }
      local field = opt.OBJECTIVES[obj]
      assert.equal(15, #r.results)
      for i = 2, #r.results do
        local a, b = r.results[i - 1].score, r.results[i].score
        assert.is_true(a >= b or b ~= b, obj .. " order at " .. i)
      end
      -- the best combination, re-run on its own through gt.backtest, gives the same number
      local best = r.best
      local solo = gt.backtest.run("sma_cross", s, { params = best.params })
      assert.equal(solo.stats[field], best.score)
    end
    local custom = opt.grid { strategy = "sma_cross", data = s, objective = function(st) return -st.num_trades end }
    assert.is_true(custom.results[1].stats.num_trades <= custom.results[15].stats.num_trades)
  end)

  it("computes each indicator once per distinct period, not once per combination", function()
    local s = synth(800)
    local calls, real = 0, gt.ind.sma
    gt.ind.sma = function(...) calls = calls + 1; return real(...) end
    local ok, err = pcall(opt.grid, { strategy = "sma_cross", data = s })
    gt.ind.sma = real
    assert(ok, err)
    -- 15 combinations x 2 SMAs = 30 calls uncached; distinct periods {5,10,15,20} u {20,30,40,50} = 7
    assert.equal(7, calls)
  end)

  it("random draws n distinct valid combinations, the same for the same seed", function()
    local s = synth(600)
    local a = opt.random { strategy = "sma_cross", data = s, n = 5, seed = 42 }
    local b = opt.random { strategy = "sma_cross", data = s, n = 5, seed = 42 }
    assert.equal(5, a.evaluated)
    local seen = {}
    for i, r in ipairs(a.results) do
      local key = r.params.fast .. "/" .. r.params.slow
      assert.is_nil(seen[key]); seen[key] = true
      assert.is_true(r.params.fast < r.params.slow)
      assert.same(r.params, b.results[i].params)
    end
    -- more than the grid holds: the whole (valid) grid
    assert.equal(15, opt.random { strategy = "sma_cross", data = s, n = 99 }.evaluated)
  end)

  it("names what is wrong in a grid", function()
    local s = synth(100)
    assert.has_error(function() opt.grid { strategy = "sma_cross", data = s, grid = { fats = { 1 } } } end,
      "optimize: grid.fats is not a parameter of sma_cross (it has: fast, short, slow)")
    assert.has_error(function() opt.grid { strategy = "sma_cross", data = s, objective = "profit" } end)
  end)
end)

describe("gt.optimize overfitting statistics", function()
  it("normal quantiles to double precision", function()
    -- 1.959963984540054 is the 97.5 % quantile (Abramowitz and Stegun table 26.5, 16 digits)
    near(gt.ffi.C.gt_opt_norm_ppf(0.975), 1.959963984540054, 1e-14, "ppf(0.975)")
    near(gt.ffi.C.gt_opt_norm_cdf(1.959963984540054), 0.975, 1e-15, "cdf")
    near(gt.ffi.C.gt_opt_norm_ppf(1e-10), -6.361340902404056, 1e-12, "ppf(1e-10)")
  end)

  it("reproduces the deflated Sharpe ratio paper's worked example, recomputed step by step", function()
    -- Bailey and Lopez de Prado (2014), "The Deflated Sharpe Ratio", section 4's numerical
    -- example: N = 100 trials whose annualised Sharpe ratios have variance V = 1/2, T = 1250
    -- daily returns (250 a year), skew -3, kurtosis 10, an observed annualised SR of 2.5.
    -- The paper prints SR0 = 0.1132 (per day) and DSR = 0.9004. Recomputed here with code
    -- of the test's own (no engine kernel): Phi by Simpson's rule on the density, its
    -- inverse by bisection, then the paper's formulas one step at a time.
    local function phi(x) -- 0.5 + integral of the density from 0 to x, 20000 Simpson panels
      local m, h = 20000, x / 20000
      local f = function(u) return math.exp(-u * u / 2) / math.sqrt(2 * math.pi) end
      local acc = f(0) + f(x)
      for i = 1, m - 1 do acc = acc + (i % 2 == 1 and 4 or 2) * f(i * h) end
      return 0.5 + acc * h / 3
    end
    local function phi_inv(p)
      local lo, hi = -10, 10
      for _ = 1, 80 do
        local mid = (lo + hi) / 2
        if phi(mid) < p then lo = mid else hi = mid end
      end
      return (lo + hi) / 2
    end
    local g, e = 0.5772156649015329, math.exp(1) -- Euler-Mascheroni, Euler's number
    local N, V, T, skew, kurt, sr_ann, ppy = 100, 0.5, 1250, -3, 10, 2.5, 250
    -- expected maximum of N annualised SRs under the null (the paper's eq. for SR0)
    local max_ann = math.sqrt(V) * ((1 - g) * phi_inv(1 - 1 / N) + g * phi_inv(1 - 1 / (N * e)))
    local sr0 = max_ann / math.sqrt(ppy) -- to the returns' frequency (daily), as the paper does
    local sr = sr_ann / math.sqrt(ppy)
    local z = (sr - sr0) * math.sqrt(T - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr * sr)
    local dsr_hand = phi(z)
    -- the hand computation agrees with the paper's printed digits
    assert.equal("0.1132", ("%.4f"):format(sr0))
    assert.equal("0.9004", ("%.4f"):format(dsr_hand))
    -- and gt.optimize.dsr with the hand computation, far tighter than the paper's rounding
    local dsr, got_sr0 = opt.dsr { sr = sr, t = T, skew = skew, kurt = kurt, trials = N, var_sr = V / ppy }
    near(got_sr0, sr0, 1e-9, "SR0")
    near(dsr, dsr_hand, 1e-9, "DSR")
    -- the tolerance tells the formula's usual slips apart (so the test can fail): excess
    -- kurtosis in place of plain, or T in place of T - 1, move the DSR by more than it
    local z_excess = (sr - sr0) * math.sqrt(T - 1) / math.sqrt(1 - skew * sr + (kurt - 3) / 4 * sr * sr)
    local z_t = (sr - sr0) * math.sqrt(T) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr * sr)
    assert.is_true(math.abs(phi(z_excess) - dsr) > 1e-4)
    assert.is_true(math.abs(phi(z_t) - dsr) > 1e-5)
  end)

  it("DSR by hand: one trial is the PSR; SR = SR0 is a coin flip", function()
    -- SR = 0.1, T = 101, normal (skew 0, kurt 3), N = 1: z = 0.1 * 10 / sqrt(1 + 0.5 * 0.01)
    -- = 0.99751, Phi(z) = 0.8407413278013518 (Python: 0.5 * math.erfc(-z / sqrt(2)))
    near(opt.dsr { sr = 0.1, t = 101, trials = 1 }, 0.8407413278013518, 1e-14, "PSR")
    -- N = 2, V = 1: SR0 = (1 - g) Z^-1(1/2) + g Z^-1(1 - 1/(2e)) = g Z^-1(0.81606...); at SR = SR0
    -- the DSR is exactly 1/2
    local _, sr0 = opt.dsr { sr = 0, t = 50, trials = 2, var_sr = 1 }
    near(opt.dsr { sr = sr0, t = 50, trials = 2, var_sr = 1 }, 0.5, 1e-15, "DSR at SR0")
  end)

  it("moments of an equity curve by hand", function()
    -- equity 100, 110, 99, 108.9: returns +0.1, -0.1, +0.1 (a two-point distribution, p = 2/3):
    -- mean 1/30, sample sd sqrt(0.04/3), SR = (1/30)/sqrt(0.04/3) = 1/(2 sqrt 3);
    -- skew = (1 - 2p)/sqrt(p(1-p)) = -1/sqrt 2; kurtosis = (1 - 3p(1-p))/(p(1-p)) = 1.5
    local e = require("ffi").new("double[4]", { 100, 110, 99, 108.9 })
    local m = opt.moments(e, 4)
    assert.equal(3, m.t)
    near(m.sr, 1 / (2 * math.sqrt(3)), 1e-12, "sr")
    near(m.skew, -1 / math.sqrt(2), 1e-12, "skew")
    near(m.kurt, 1.5, 1e-12, "kurt")
  end)

  it("PBO by CSCV on hand-worked cases (S = 2)", function()
    -- block returns: A = {.01,.02,.03} then {-.01,0,.01}; B the other way round. Sharpe 2 in
    -- the good block, 0 in the other. Split {1}: A is best in sample, B beats it out of sample:
    -- rank 1 of 2, w = 1/3, logit ln(1/2) < 0. Split {2}: the mirror. PBO = 2/2 = 1.
    local good = { sum = 0.06, sum2 = 0.0014 }
    local flat = { sum = 0, sum2 = 0.0002 }
    local A = { sum = { good.sum, flat.sum }, sum2 = { good.sum2, flat.sum2 } }
    local B = { sum = { flat.sum, good.sum }, sum2 = { flat.sum2, good.sum2 } }
    local c = opt.cscv({ A, B }, 2, 3)
    assert.equal(2, c.splits)
    assert.equal(1, c.pbo)
    near(c.logits[1], math.log(0.5), 1e-15, "logit")
    -- A good in both blocks and B flat in both: A is best in sample and best out of sample
    -- every time: rank 2, w = 2/3, logit ln 2 > 0, PBO = 0
    local A2 = { sum = { good.sum, good.sum }, sum2 = { good.sum2, good.sum2 } }
    local B2 = { sum = { flat.sum, flat.sum }, sum2 = { flat.sum2, flat.sum2 } }
    c = opt.cscv({ B2, A2 }, 2, 3)
    assert.equal(0, c.pbo)
    near(c.logits[2], math.log(2), 1e-15, "logit")
  end)

  it("PBO leaves out splits where every combination ties in sample (none trades)", function()
    local good = { sum = 0.06, sum2 = 0.0014 }
    local none = { sum = 0, sum2 = 0 }
    local F = { sum = { none.sum, none.sum }, sum2 = { none.sum2, none.sum2 } }
    -- three flat combinations: no split selects one, PBO is NaN (it was 1: rank (N+1)/2,
    -- logit 0, counted as overfit)
    local c = opt.cscv({ F, F, F }, 2, 3)
    assert.equal(0, c.splits)
    assert.is_true(c.pbo ~= c.pbo)
    -- one that trades in block 1 only: split {1} selects it in sample (it then ties with
    -- the others out of sample: rank 2 of 3, w = 1/2, logit 0, overfit); in split {2} all
    -- tie in sample and the split is left out. PBO = 1/1.
    local G = { sum = { good.sum, none.sum }, sum2 = { good.sum2, none.sum2 } }
    c = opt.cscv({ F, G, F }, 2, 3)
    assert.equal(1, c.splits)
    assert.equal(1, c.pbo)
    near(c.logits[1], 0, 1e-15, "logit")
  end)

  it("S = 16 gives C(16, 8) = 12870 splits; every grid search reports DSR and PBO", function()
    assert.equal(12870, tonumber(gt.ffi.C.gt_opt_cscv_splits(16)))
    assert.is_true(gt.ffi.C.gt_opt_cscv_splits(3) < 0)
    local r = opt.grid { strategy = "sma_cross", data = synth(2000) }
    assert.equal(16, r.pbo_blocks)
    assert.is_true(r.pbo >= 0 and r.pbo <= 1)
    assert.is_true(r.dsr >= 0 and r.dsr <= 1)
  end)
end)

describe("gt.optimize.walkforward", function()
  it("lays out bar windows by hand", function()
    local s = synth(10)
    -- train 4, test 2, step 2: [0,4)+[4,6), [2,6)+[6,8), [4,8)+[8,10)
    local w = opt.windows(s, 4, 2)
    assert.equal(3, #w)
    assert.same({ train_from = 0, test_from = 4, test_to = 6 }, w[1])
    assert.same({ train_from = 4, test_from = 8, test_to = 10 }, w[3])
    -- anchored: every training window starts at bar 0
    assert.equal(0, opt.windows(s, 4, 2, nil, true)[3].train_from)
  end)

  it("lays out calendar windows (months) on real dates", function()
    local path, why = t.shared_file("data/backtrader/orcl-1995-2014.txt")
    if not path then return pending(why) end
    local s = assert(gt.data.load(path))
    local w = opt.windows(s, "1y", "6m")
    -- the file starts 1995-01-03: the first test window starts on the first bar on or after
    -- 1996-01-03 and ends before 1996-07-03
    local first = w[1]
    assert.equal("1996-01-03", gt.time.format(s:time(first.test_from), true))
    assert.is_true(gt.time.format(s:time(first.test_to - 1), true) < "1996-07-03")
    assert.is_true(gt.time.format(s:time(first.test_to), true) >= "1996-07-03")
  end)

  it("never lets a test window's optimisation see its own bars or later ones", function()
    local s = synth(400)
    local seen = {}
    local strat = { name = "spy", params = { fast = 5, slow = 20 }, grid = { fast = { 3, 5 }, slow = { 10, 20 } },
      indicators = function(d, p)
        seen[#seen + 1] = { first = tonumber(d.ts[0]), last = tonumber(d.ts[d.n - 1]) }
        return { fast = gt.ind.sma(d.close, p.fast, d.n), slow = gt.ind.sma(d.close, p.slow, d.n) }
      end,
      rule = function(d, ind, i)
        if ind.fast[i] > ind.slow[i] then return 1 end
        return 0
      end }
    local r = assert(opt.walkforward { strategy = strat, data = s, train = 100, test = 50 })
    -- windows: train [0,100) test [100,150), ..., train [250,350) test [350,400): 6 windows
    assert.equal(6, #r.windows)
    -- indicator calls run in order (one process): every window's 4 training combinations
    -- (each call is a backtest), window by window, then the windows' test runs. Checks:
    -- training data ends before the test window starts; the test run sees nothing after
    -- the test window.
    local k = 0
    for _, w in ipairs(r.windows) do
      for _ = 1, 4 do
        k = k + 1
        assert.is_true(seen[k].last < w.test_first)
        assert.equal(w.train_last, seen[k].last)
      end
      assert.is_true(w.train_last < w.test_first)
    end
    for _, w in ipairs(r.windows) do
      k = k + 1
      assert.equal(w.test_last, seen[k].last)
    end
    assert.equal(k, #seen)
  end)

  it("stitches the out-of-sample equity and computes the seed's scores", function()
    local s = synth(1200)
    local r = assert(opt.walkforward { strategy = "sma_cross", data = s, train = 400, test = 200 })
    assert.equal(4, #r.windows) -- starts 0, 200, 400, 600 (600 + 600 = 1200)
    -- the stitched curve covers every test bar once: 4 x 200, less the 3 joins shared
    assert.equal(4 * 200 - 3, #r.equity)
    -- the product of the windows' growth is the stitched growth
    local growth, trains, tests = 1, {}, {}
    for _, w in ipairs(r.windows) do
      growth = growth * (1 + w.test.return_pct / 100)
      trains[#trains + 1] = w.train.return_pct / 100
      tests[#tests + 1] = w.test.return_pct / 100
    end
    near(r.equity[#r.equity] / 10000, growth, 1e-9, "stitched growth")
    -- seed: efficiency = mean test / mean train; consistency = 1 / (1 + sd(test)), sd with ddof 0
    local mt, ms = 0, 0
    for i = 1, 4 do mt = mt + tests[i] / 4; ms = ms + trains[i] / 4 end
    local v = 0
    for i = 1, 4 do v = v + (tests[i] - mt) ^ 2 / 4 end
    near(r.efficiency, mt / ms, 1e-12, "efficiency")
    near(r.consistency, 1 / (1 + math.sqrt(v)), 1e-12, "consistency")
    near(r.robustness, math.max(0, math.min(1, 0.6 * mt / ms + 0.4 / (1 + math.sqrt(v)))), 1e-12, "robustness")
  end)
end)

describe("the seed's default grids (slices.md section 4)", function()
  it("are each strategy's grid, over the parameters gtengine's versions have", function()
    -- SimpleMA fast [5,10,15,20] x slow [20,30,40,50]; Momentum lookback [10,20,30] x threshold
    -- [0.01,0.02,0.03]; MeanReversion period [15,20,25] x entry [1.5,2.0,2.5] (num_std: the
    -- bands are symmetric here); Volatility vol_period [15,20,25] x threshold
    -- [0.015,0.02,0.025]; Breakout lookback [15,20,25]
    local want = {
      sma_cross = { fast = { 5, 10, 15, 20 }, slow = { 20, 30, 40, 50 } },
      momentum = { lookback = { 10, 20, 30 }, threshold = { 0.01, 0.02, 0.03 } },
      mean_reversion = { period = { 15, 20, 25 }, num_std = { 1.5, 2.0, 2.5 } },
      volatility = { period = { 15, 20, 25 }, vol_threshold = { 0.015, 0.02, 0.025 } },
      breakout = { lookback = { 15, 20, 25 } },
    }
    for name, grid in pairs(want) do assert.same(grid, gt.strategy.load(name).grid, name) end
  end)
end)

describe("gt.optimize in worker processes", function()
  it("gives identical results with 1 and 2 jobs", function()
    local s = synth(700, 3)
    local grid = { fast = { 3, 5, 8, 13 }, slow = { 10, 21, 34 } }
    local a = opt.grid { strategy = "sma_cross", data = s, grid = grid, jobs = 1 }
    local b = opt.grid { strategy = "sma_cross", data = s, grid = grid, jobs = 2 }
    assert.equal(a.evaluated, b.evaluated)
    for i, r in ipairs(a.results) do
      local q = b.results[i]
      assert.same(r.params, q.params)
      assert.equal(r.index, q.index)
      for k, v in pairs(r.stats) do
        assert.is_true(v == q.stats[k] or (v ~= v and q.stats[k] ~= q.stats[k]), ("result %d %s"):format(i, k))
      end
    end
    assert.equal(a.dsr, b.dsr); assert.equal(a.pbo, b.pbo)
  end)

  it("spreads a walk-forward's windows over workers with results identical to one process", function()
    local s = synth(1500, 6)
    local grid = { fast = { 3, 5, 8 }, slow = { 10, 21, 34 } }
    local a = assert(opt.walkforward { strategy = "sma_cross", data = s, grid = grid, train = 400, test = 200, jobs = 1 })
    local b = assert(opt.walkforward { strategy = "sma_cross", data = s, grid = grid, train = 400, test = 200, jobs = 2 })
    local c = assert(opt.walkforward { strategy = "sma_cross", data = s, grid = grid, train = 400, test = 200, jobs = 3 })
    assert.equal(5, #a.windows)
    for _, other in ipairs { b, c } do
      assert.equal(#a.windows, #other.windows)
      for i, w in ipairs(a.windows) do
        assert.same(w.params, other.windows[i].params)
        for k, v in pairs(w.test) do assert.is_true(v == other.windows[i].test[k] or (v ~= v), ("window %d %s"):format(i, k)) end
        assert.equal(w.train_score, other.windows[i].train_score)
      end
      assert.equal(#a.equity, #other.equity)
      for i = 1, #a.equity do assert.equal(a.equity[i], other.equity[i]) end
      assert.equal(a.robustness, other.robustness)
    end
  end)

  it("reports a worker that dies without a word instead of waiting for it", function()
    local s = synth(600, 3)
    local strat = { name = "dies", params = { fast = 5, slow = 20 }, grid = { fast = { 2, 3, 4, 5, 6, 7 }, slow = { 20, 30 } },
      indicators = function(d, p) return { fast = gt.ind.sma(d.close, p.fast, d.n), slow = gt.ind.sma(d.close, p.slow, d.n) } end,
      rule = function(_, ind, i, p)
        if p.fast == 4 and i == 100 then require("gt.ffi").C.gt_opt_exit(3) end -- as a crash would
        if ind.fast[i] > ind.slow[i] then return 1 end
        return 0
      end }
    local ok, err = pcall(opt.grid, { strategy = strat, data = s, jobs = 2 })
    assert.is_false(ok)
    assert.matches("a worker failed: worker %d ended without finishing", err)
  end)

  it("a resumed search evaluates only what is not done, and a shard only its slice", function()
    local s = synth(500, 4)
    local combos = opt.combinations(gt.strategy.load("sma_cross").grid) -- 15
    local full = opt.search_combos({ strategy = "sma_cross", data = s, combos = combos }, "grid", 1)
    local done = {}
    for _, r in ipairs(full.results) do if r.index <= 6 then done[#done + 1] = r end end
    local evaluated = {}
    local res = opt.search_combos({ strategy = "sma_cross", data = s, combos = combos, done = done,
      on_result = function(r) evaluated[#evaluated + 1] = r.index end }, "grid", 1)
    assert.same({ 7, 8, 9, 10, 11, 12, 13, 14, 15 }, evaluated)
    assert.equal(15, res.evaluated)
    for i, r in ipairs(res.results) do assert.equal(full.results[i].score, r.score) end
    -- shard 2 of 4: combinations 2, 6, 10, 14
    evaluated = {}
    opt.search_combos({ strategy = "sma_cross", data = s, combos = combos, shard = { 2, 4 },
      on_result = function(r) evaluated[#evaluated + 1] = r.index end }, "grid", 1)
    assert.same({ 2, 6, 10, 14 }, evaluated)
  end)
end)

describe("the optimiser's fast paths equal the plain ones (real data)", function()
  local function same(a, b) return a == b or (a ~= a and b ~= b) end

  local function load(rel)
    local path, why = t.shared_file(rel)
    if not path then return nil, why end
    return assert(gt.data.load(path))
  end

  it("sma_cross's vectorised signals give the rule's targets, bar for bar, for every combination", function()
    local s, why = load("data/backtrader/orcl-1995-2014.txt")
    if not s then return pending(why) end
    local st = gt.strategy.load("sma_cross")
    -- the same file's rule alone: gt.strategy derives its signals() bar by bar from it
    local by_rule = gt.strategy.prepare({ name = "sma_cross_rule", params = st.params, indicators = st.indicators,
      rule = st.rule }, "test")
    local combos = opt.combinations(assert(opt.parse_grid("fast=1:30,slow=2:60")))
    for _, c in ipairs(opt.combinations(st.grid)) do combos[#combos + 1] = c end
    local n, checked, decisions = s.n, 0, 0
    for _, c in ipairs(combos) do
      for _, short in ipairs { false, true } do
        local p = { fast = c.fast, slow = c.slow, short = short }
        local ind = st.indicators(s, p)
        local a = st.signals(s, p, ind).target
        local b = by_rule.signals(s, p, ind).target
        for i = 0, n - 1 do
          if not same(a[i], b[i]) then
            error(("fast=%d slow=%d short=%s: bar %d: vectorised %s, rule %s"):format(c.fast, c.slow,
              tostring(short), i, tostring(a[i]), tostring(b[i])))
          end
          if a[i] == a[i] then decisions = decisions + 1 end
        end
        checked = checked + 1
      end
    end
    assert.equal(2 * (#opt.combinations(assert(opt.parse_grid("fast=1:30,slow=2:60"))) + 15), checked)
    assert.is_true(decisions > 1000) -- the rule did decide: a comparison of two empty arrays proves nothing
    -- and the look-ahead check passes both forms on the same data
    local rep = gt.backtest.check_lookahead("sma_cross", s, { params = { fast = 5, slow = 20 } })
    assert.is_true(rep.ok, rep.findings[1] and rep.findings[1].detail)
  end)

  it("run_stats gives gt.backtest.run's every statistic and moment, for every combination", function()
    local checked = 0
    for _, rel in ipairs { "data/backtrader/orcl-1995-2014.txt", "data/backtesting.py/GOOG.csv" } do
      local s, why = load(rel)
      if not s then return pending(why) end
      -- default costs, and all-in with none, long only and with shorts, from bar 0 (the C
      -- path) and from a start date (the fallback through run's result)
      local setups = { {}, { size = 1, commission = 0, slippage_bps = 0 }, { short_param = true },
        { start = tonumber(s.ts[math.floor(s.n / 3)]) } }
      for _, o in ipairs(setups) do
        for _, c in ipairs(opt.combinations(gt.strategy.load("sma_cross").grid)) do
          local ro = { params = { fast = c.fast, slow = c.slow, short = o.short_param or false } }
          for k, v in pairs(o) do if k ~= "short_param" then ro[k] = v end end
          local full = assert(gt.backtest.run("sma_cross", s, ro))
          local stats, mom, k = gt.backtest.run_stats("sma_cross", s, ro, { blocks = 16 })
          for key, v in pairs(full.stats) do
            if not same(v, stats[key]) then
              error(("%s %s %s: %s is %.17g in run, %.17g in run_stats"):format(rel, c.fast, c.slow, key, v, stats[key]))
            end
          end
          for key in pairs(stats) do assert.is_not_nil(full.stats[key], key) end
          local m = opt.moments(full.equity, full.n, 16)
          assert.equal(5 + 32, k)
          for i, v in ipairs { m.t, m.sr, m.skew, m.kurt, m.block_len } do assert.is_true(same(v, mom[i - 1]), "moment " .. i) end
          for b = 1, 16 do
            assert.is_true(same(m.block_sum[b], mom[4 + b]) and same(m.block_sum2[b], mom[20 + b]), "block " .. b)
          end
          checked = checked + 1
        end
      end
    end
    assert.equal(2 * 4 * 15, checked)
  end)

  it("a grid search's every result, with 1 and with 2 workers, is gt.backtest.run's", function()
    local s, why = load("data/backtesting.py/GOOG.csv")
    if not s then return pending(why) end
    local grid = { fast = { 3, 5, 8, 13 }, slow = { 10, 21, 34, 55 } }
    for _, jobs in ipairs { 1, 2 } do
      local r = opt.grid { strategy = "sma_cross", data = s, grid = grid, jobs = jobs }
      assert.equal(15, r.evaluated)
      for _, rec in ipairs(r.results) do
        local full = assert(gt.backtest.run("sma_cross", s, { params = rec.params }))
        for key, v in pairs(full.stats) do
          assert.is_true(same(v, rec.stats[key]), ("jobs %d %s/%s %s"):format(jobs, rec.params.fast, rec.params.slow, key))
        end
        assert.equal(full.stats.sharpe, rec.score)
        local m = opt.moments(full.equity, full.n, 16)
        assert.is_true(same(m.sr, rec.sr) and same(m.skew, rec.skew) and same(m.kurt, rec.kurt))
      end
    end
  end)
end)
