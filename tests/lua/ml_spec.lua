local gt = require "gt"
local ml = require "gt.ml"

local NX = #ml.INPUTS + 7

-- A hand-made training row: inputs all 0 except x[1] = v; best and outcomes given.
local function row(i, v, best, ret1, ret2)
  local x = {}
  for k = 1, NX do x[k] = 0 end
  x[1] = v
  x[2] = (i % 3) - 1 -- a second input with no information, so the std is not zero
  return { sym = 1, d = i, ts = i, tend = i + 1, x = x, best = best, ret = { ret1, ret2 },
    sharpe = { 2 * ret1, 2 * ret2 } }
end

describe("gt.ml model fitting (hand-made data)", function()
  local meta = { strategies = { "a", "b" }, horizon = 2, step = 1 }

  it("the logistic regression learns a separable choice", function()
    -- best is "a" when x1 > 0 and "b" when x1 < 0
    local rows = {}
    for i = 1, 200 do
      local v = (i % 20) - 9.5
      rows[i] = row(i, v, v > 0 and 1 or 2, 0, 0)
    end
    local m = ml.fit(rows, meta)
    local xa, xb = row(0, 5, 1, 0, 0).x, row(0, -5, 2, 0, 0).x
    local pa, pb = ml.score_row(m, xa), ml.score_row(m, xb)
    assert.is_true(pa[1] > 0.9 and pb[2] > 0.9)
    assert.near(1, pa[1] + pa[2], 1e-12)
  end)

  it("the ridge regressions recover an exact linear outcome", function()
    -- ret of a = 0.03 x1 + 0.01 and of b = -0.02 x1: with a negligible penalty the fitted
    -- line is the true one, so at x1 = 4: a 0.13, b -0.08; Sharpe targets are twice that.
    local rows = {}
    for i = 1, 60 do
      local v = (i % 12) - 5.5
      rows[i] = row(i, v, 1, 0.03 * v + 0.01, -0.02 * v)
    end
    local m = ml.fit(rows, meta, { ridge = 1e-12 })
    local _, er, sh = ml.score_row(m, row(0, 4, 1, 0, 0).x)
    assert.near(0.13, er[1], 1e-9)
    assert.near(-0.08, er[2], 1e-9)
    assert.near(0.26, sh[1], 1e-9)
  end)

  it("is deterministic", function()
    local rows = {}
    for i = 1, 50 do rows[i] = row(i, math.sin(i), i % 2 + 1, 0.01 * math.cos(i), 0) end
    local a, b = ml.fit(rows, meta), ml.fit(rows, meta)
    assert.same(a.W, b.W)
    assert.same(a.ret_w, b.ret_w)
  end)

  it("refuses too little data", function()
    assert.has_error(function() ml.fit({ row(1, 1, 1, 0, 0) }, meta) end,
      "gt.ml.fit: 1 training rows for 2 strategies: need at least 4")
  end)
end)

describe("gt.ml training data from real backtests", function()
  local s = gt.data.synthetic { n = 800, seed = 9, symbol = "S9" }
  local strategies = { "sma_cross", "momentum", "breakout" }
  local rows, meta = ml.dataset { series = { s }, strategies = strategies, horizon = 10, step = 7 }

  it("targets are each strategy's equity change over the next H bars", function()
    assert.equal(10, meta.horizon)
    local eq = {}
    for j, name in ipairs(strategies) do eq[j] = gt.backtest.run(name, s).equity end
    assert.is_true(#rows > 90)
    for _, r in ipairs({ rows[1], rows[50], rows[#rows] }) do
      local best, bv = nil, -math.huge
      for j = 1, 3 do
        local want = eq[j][r.d + 10] / eq[j][r.d] - 1
        assert.equal(want, r.ret[j])
        if want > bv then best, bv = j, want end
      end
      assert.equal(best, r.best)
      assert.equal(tonumber(s.ts[r.d]), r.ts)
      assert.equal(tonumber(s.ts[r.d + 10]), r.tend)
    end
    -- decisions start once every feature is defined (bar 60) and stop H bars before the end
    assert.equal(60, rows[1].d)
    assert.is_true(rows[#rows].d <= 800 - 1 - 10)
  end)

  it("inputs at bar d come from bars 0..d only", function()
    local cut = rows[40].d
    local view = s:slice(0, cut + 1)
    local r2 = ml.dataset { series = { view }, strategies = strategies, horizon = 10, step = 7 }
    -- the shortened series has no row at cut (no forward window), but the inputs of an
    -- earlier row are the same as in the full series
    local early, found = rows[30], 0
    for _, r in ipairs(r2) do
      if r.d == early.d then assert.same(early.x, r.x); found = found + 1 end
    end
    assert.equal(1, found)
  end)

  it("walk-forward folds keep every training target before the test block", function()
    local folds = ml.folds(rows, 4)
    assert.equal(4, #folds)
    for _, f in ipairs(folds) do
      assert.is_true(#f.test > 0)
      local first_test = math.huge
      for _, t in ipairs(f.test) do first_test = math.min(first_test, t.d) end
      for _, r in ipairs(f.train) do
        assert.is_true(r.tend < f.start)
        assert.is_true(r.d + 10 <= first_test) -- at least H bars apart (one symbol)
      end
    end
  end)
end)

describe("gt.ml train, predict, save and load", function()
  local list = { (gt.data.synthetic { n = 1500, seed = 1, symbol = "A" }),
    (gt.data.synthetic { n = 1500, seed = 2, symbol = "B" }) }
  local opts = { series = list, horizon = 20, folds = 3 }
  local model = assert(ml.train(opts))

  it("reports out-of-sample scores against every baseline", function()
    local v = model.validation
    assert.is_true(v.tested > 100)
    assert.is_true(v.brier >= 0 and v.brier <= 2)
    local names = {}
    for _, p in ipairs(v.policies) do names[#names + 1] = p.policy end
    assert.same({ "model", "always sma_cross", "always momentum", "always mean_reversion", "always volatility",
      "always breakout", "always trend_following", "buy and hold", "random pick" }, names)
  end)

  it("predicts a ranked top_n and falls back below min_confidence, saying so", function()
    local r = ml.predict(model, list[1], { at = 1000, top_n = 3 })
    assert.equal(3, #r.ranked)
    assert.is_true(r.ranked[1].confidence >= r.ranked[2].confidence)
    assert.is_true(r.ranked[2].confidence >= r.ranked[3].confidence)
    assert.is_number(r.ranked[1].expected_return)
    assert.is_number(r.ranked[1].predicted_sharpe)
    local hi = ml.predict(model, list[1], { at = 1000, min_confidence = 1.01, fallback = "breakout" })
    assert.is_true(hi.fallback)
    assert.equal("breakout", hi.selected)
    assert.matches("below min_confidence 1.01: falling back to breakout", hi.reason, 1, true)
    local lo = ml.predict(model, list[1], { at = 1000, min_confidence = 0 })
    assert.is_false(lo.fallback)
    assert.equal(lo.ranked[1].strategy, lo.selected)
    local none, err = ml.predict(model, list[1], { at = 20 })
    assert.is_nil(none)
    assert.matches("features undefined at bar 20", err, 1, true)
  end)

  it("a saved model loads back and predicts identically", function()
    local dir = require("tests.lua.support").tmpdir()
    local db = dir .. "/m.db"
    local id = assert(ml.save(model, db, "sel"))
    local back = assert(ml.load(db, "sel"))
    assert.equal(id, back.id)
    for _, at in ipairs({ 300, 900, 1499 }) do
      assert.same(ml.predict(model, list[2], { at = at, top_n = 6 }), ml.predict(back, list[2], { at = at, top_n = 6 }))
    end
    local byid = assert(ml.load(db, id))
    assert.same(back.W, byid.W)
    local missing, err = ml.load(db, "nope")
    assert.is_nil(missing)
    assert.matches("no model named 'nope'", err, 1, true)
  end)
end)

describe("gt.ml with stored symbols", function()
  it("loads symbols = {...} from the store", function()
    local dir = require("tests.lua.support").tmpdir()
    local db = require("gt.store").open(dir .. "/bars.db")
    local s = gt.data.synthetic { n = 900, seed = 6, symbol = "SYMA" }
    assert.equal(900, db:put(s))
    db:close()
    local rows = assert(ml.dataset { symbols = { "SYMA" }, db = dir .. "/bars.db", horizon = 10, step = 10 })
    local direct = assert(ml.dataset { series = { s }, horizon = 10, step = 10 })
    assert.equal(#direct, #rows)
    assert.same(direct[5].ret, rows[5].ret)
    local none, err = ml.dataset { symbols = { "NOPE" }, db = dir .. "/bars.db" }
    assert.is_nil(none)
    assert.matches("gt.ml: symbol NOPE: store " .. dir .. "/bars.db: no NOPE 1d bars stored", err, 1, true)
  end)
end)

describe("gtengine ml", function()
  local t = require "tests.lua.support"
  local json = require "gt.json"
  local dir = t.tmpdir()
  local function csv(name, seed)
    local s = gt.data.synthetic { n = 1200, seed = seed }
    local lines = { "Date,Open,High,Low,Close,Volume" }
    for i = 0, s.n - 1 do
      lines[#lines + 1] = ("%s,%.17g,%.17g,%.17g,%.17g,%d"):format(gt.time.format(s:time(i)),
        s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i])
    end
    return t.write(dir .. "/" .. name .. ".csv", table.concat(lines, "\n") .. "\n")
  end
  local a, b = csv("AAA", 3), csv("BBB", 4)
  local db = dir .. "/ml.db"

  it("trains, saves, and predicts from the saved model", function()
    local out, err, code = t.run(("ml train --data %s --data %s --folds 3 --db %s --json"):format(a, b, db))
    assert.equal(0, code, err)
    local doc = json.decode(out)
    assert.equal(1, doc.id)
    assert.is_true(doc.validation.tested > 50)
    out, err, code = t.run(("ml predict --data %s --db %s --top 2 --json"):format(a, db))
    assert.equal(0, code, err)
    local p = json.decode(out)
    local m = assert(ml.load(db))
    local want = ml.predict(m, (gt.data.load(a)), { top_n = 2 })
    assert.equal(want.selected, p.selected)
    assert.equal(2, #p.ranked)
    assert.near(want.ranked[1].confidence, p.ranked[1].confidence, 1e-12)
  end)

  it("prints the out-of-sample table", function()
    local out, err, code = t.run(("ml evaluate --data %s --data %s --folds 3"):format(a, b))
    assert.equal(0, code, err)
    for _, want in ipairs({ "walk-forward, out of sample: AAA, BBB", "model", "always momentum", "buy and hold",
      "random pick", "calibration" }) do
      assert.matches(want, out, 1, true)
    end
  end)

  it("says what is wrong", function()
    local _, err, code = t.run("ml")
    assert.equal(2, code)
    assert.matches("ml needs a subcommand: train, evaluate or predict", err, 1, true)
    _, err, code = t.run(("ml predict --data %s --db %s --name nothing"):format(a, db))
    assert.equal(1, code)
    assert.matches("no model named 'nothing'", err, 1, true)
  end)
end)
