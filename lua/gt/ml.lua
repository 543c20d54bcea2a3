-- gt.ml: strategy selection learned from real backtest outcomes (seed/slices.md section 7).
--
--   local m = gt.ml.train{ series = {s1, s2}, strategies = {...}, horizon = 20 }
--   local r = gt.ml.predict(m, s, { at = i, top_n = 3 })  -- ranked picks, with fallback
--   local e = gt.ml.evaluate{ series = {...}, horizon = 20, folds = 5 } -- out of sample
--
-- Training data: every strategy is backtested once over each whole series (gt.backtest.run,
-- default costs); at each decision bar d on a grid (every `step` bars once the features are
-- defined) the inputs are the regime features at d (bars 0..d only) and the targets each
-- strategy's realised outcome over the next H bars: the return of its equity from d to
-- d + H and the Sharpe of its per-bar equity returns there (following the strategy from d
-- means holding whatever position it holds at d; costs are those of the backtest). "Best"
-- is the strategy with the highest forward return.
-- Model: a multinomial logistic regression (L2, full-batch gradient descent from zero, so
-- deterministic) gives P(best = j); ridge regressions per strategy give expected forward
-- return and Sharpe. Inputs are standardised by the training rows' mean and std.
-- Evaluation: walk-forward folds over time; a training row is used only if its target was
-- fully realised (its d + H bar) before the first decision of the test block, so training
-- and test are at least H bars apart.
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C
local regime = require "gt.regime"

local M = {}

M.DEFAULT_STRATEGIES = { "sma_cross", "momentum", "mean_reversion", "volatility", "breakout", "trend_following" }
M.MIN_CONFIDENCE = 0.6      -- seed config: min_confidence_threshold
M.FALLBACK = "sma_cross"    -- seed config: fallback_strategy "SIMPLE_MA"

-- Regime features used as inputs (corr needs a benchmark; trend_ann repeats ret60), then a
-- one-hot of the rules regime.
M.INPUTS = { "vol10", "vol30", "ret1", "ret5", "ret20", "ret60", "spread5_20", "spread20_60",
  "trend_strength", "vol_of_vol", "adx" }
local NF = #M.INPUTS
local NX = NF + 7 -- + rules regime one-hot
local RF = tonumber(C.GT_RF_COUNT)
local FIDX = {}
for k, name in ipairs(regime.FEATURES) do FIDX[name] = k - 1 end

local ptr = regime.ptr -- series column -> const double * (one place for both modules)

-- Input rows of a series: x[i] (Lua table of NX numbers) for bars whose features are all
-- defined, else nil. Bar i's row uses bars 0..i.
local function inputs(s)
  local n = s.n
  local feat = ffi.new("double[?]", math.max(n, 1) * RF)
  local codes = ffi.new("int8_t[?]", math.max(n, 1))
  gtffi.check(C.gt_regime_rules(ptr(s.high), ptr(s.low), ptr(s.close), nil, n, feat, codes, nil), 3)
  local rows = {}
  for i = 0, n - 1 do
    local x, ok = {}, codes[i] >= 0
    for k = 1, NF do
      local v = feat[i * RF + FIDX[M.INPUTS[k]]]
      if v ~= v then ok = false; break end
      x[k] = v
    end
    if ok then
      for r = 0, 6 do x[NF + 1 + r] = codes[i] == r and 1 or 0 end
      rows[i] = x
    end
  end
  return rows
end
M.inputs = inputs

-- symbols = {"ORCL", ...} are loaded from the store (db =, timeframe =) into o.series once.
local function resolve_symbols(o, who)
  if o.symbols == nil or o.series ~= nil then return true end
  if type(o.symbols) ~= "table" or #o.symbols < 1 then error(who .. ": symbols must be a list of names", 3) end
  local data = require "gt.data"
  local list = {}
  for j, sym in ipairs(o.symbols) do
    local s, err = data.load({ symbol = sym, timeframe = o.timeframe or "1d", db = o.db })
    if not s then return nil, ("%s: symbol %s: %s"):format(who, tostring(sym), err) end
    list[j] = s
  end
  o.series = list
  return true
end

local function check_opts(o, who)
  if type(o) ~= "table" then error(who .. ": options must be a table", 3) end
  local list = o.series
  if type(list) ~= "table" or #list < 1 then
    error(who .. ": need series = {s1, ...} (gt series) or symbols = {name, ...} (stored bars)", 3)
  end
  for j, s in ipairs(list) do
    if type(s) ~= "table" or not s._c then error(("%s: series[%d] is not a gt series"):format(who, j), 3) end
  end
  local h = o.horizon or 20
  if type(h) ~= "number" or h < 2 or h % 1 ~= 0 then error(who .. ": horizon must be a whole number >= 2", 3) end
  local step = o.step or 5
  if type(step) ~= "number" or step < 1 or step % 1 ~= 0 then error(who .. ": step must be a whole number >= 1", 3) end
  local strategies = o.strategies or M.DEFAULT_STRATEGIES
  if type(strategies) ~= "table" or #strategies < 2 then error(who .. ": need at least 2 strategies", 3) end
  return list, h, step, strategies
end

-- The training set: rows {sym, d, ts, tend, x, ret = {...}, sharpe = {...}, best, bh}.
function M.dataset(o)
  local ok, rerr = resolve_symbols(o, "gt.ml")
  if not ok then return nil, rerr end
  local list, H, step, strategies = check_opts(o, "gt.ml.dataset")
  local bt = require "gt.backtest"
  local rows = {}
  for si, s in ipairs(list) do
    -- a result's equity is a checked array of its own (it outlives the backtest handle)
    local function equity(name)
      local r, err = bt.run(name, s, o.backtest)
      if not r then return nil, ("gt.ml: %s on %s: %s"):format(name, s.symbol or ("series " .. si), err) end
      return r.equity
    end
    local eqs = {}
    for j, name in ipairs(strategies) do
      local e, err = equity(name)
      if not e then return nil, err end
      eqs[j] = e
    end
    local bh = equity("buy_and_hold")
    local x = inputs(s)
    local n = s.n
    local d0
    for i = 0, n - 1 do if x[i] then d0 = i; break end end
    if d0 then
      for d = d0, n - 1 - H, step do
        if x[d] then
          local row = { sym = si, d = d, ts = tonumber(s.ts[d]), tend = tonumber(s.ts[d + H]), x = x[d],
            ret = {}, sharpe = {} }
          local best, bestv = 1, -math.huge
          for j = 1, #strategies do
            local e = eqs[j]
            row.ret[j] = e[d + H] / e[d] - 1
            local m, ss = 0, 0
            for t = d + 1, d + H do m = m + (e[t] / e[t - 1] - 1) end
            m = m / H
            for t = d + 1, d + H do local z = e[t] / e[t - 1] - 1 - m; ss = ss + z * z end
            local sd = math.sqrt(ss / (H - 1))
            row.sharpe[j] = sd > 1e-12 and m / sd * math.sqrt(252) or 0
            if row.ret[j] > bestv then best, bestv = j, row.ret[j] end
          end
          row.best = best
          row.bh = bh and bh[d + H] / bh[d] - 1 or nil
          rows[#rows + 1] = row
        end
      end
    end
  end
  if #rows == 0 then return nil, "gt.ml: no decision bars: the series are shorter than the features' 61 bars + horizon" end
  return rows, { strategies = strategies, horizon = H, step = step }
end

-- ---- fitting ----

local function standardise(rows)
  local mu, sd, n = {}, {}, #rows
  for k = 1, NX do
    local s = 0
    for i = 1, n do s = s + rows[i].x[k] end
    mu[k] = s / n
    local ss = 0
    for i = 1, n do local z = rows[i].x[k] - mu[k]; ss = ss + z * z end
    sd[k] = math.sqrt(ss / n)
    if sd[k] < 1e-12 then sd[k] = 1 end
  end
  return mu, sd
end

local function zrow(model, x)
  local z = { 1 }
  for k = 1, NX do z[k + 1] = (x[k] - model.mu[k]) / model.sd[k] end
  return z
end

-- Solves A w = b (p x p, Gaussian elimination with partial pivoting); A, b are modified.
local function solve(A, b, p)
  for c = 1, p do
    local piv = c
    for r = c + 1, p do if math.abs(A[r][c]) > math.abs(A[piv][c]) then piv = r end end
    A[c], A[piv] = A[piv], A[c]
    b[c], b[piv] = b[piv], b[c]
    for r = c + 1, p do
      local f = A[r][c] / A[c][c]
      if f ~= 0 then
        for k = c, p do A[r][k] = A[r][k] - f * A[c][k] end
        b[r] = b[r] - f * b[c]
      end
    end
  end
  local w = {}
  for r = p, 1, -1 do
    local s = b[r]
    for k = r + 1, p do s = s - A[r][k] * w[k] end
    w[r] = s / A[r][r]
  end
  return w
end

-- Ridge regression of y on z (bias not penalised).
local function ridge(Z, y, lambda)
  local p, n = #Z[1], #Z
  local A, b = {}, {}
  for r = 1, p do
    A[r], b[r] = {}, 0
    for c = 1, p do A[r][c] = 0 end
  end
  for i = 1, n do
    local z = Z[i]
    for r = 1, p do
      local zr = z[r]
      b[r] = b[r] + zr * y[i]
      local Ar = A[r]
      for c = 1, p do Ar[c] = Ar[c] + zr * z[c] end
    end
  end
  for r = 2, p do A[r][r] = A[r][r] + lambda * n end
  return solve(A, b, p)
end

local function softmax_probs(W, z, J, out)
  local mx = -math.huge
  for j = 1, J do
    local s, w = 0, W[j]
    for k = 1, #z do s = s + w[k] * z[k] end
    out[j] = s
    if s > mx then mx = s end
  end
  local tot = 0
  for j = 1, J do out[j] = math.exp(out[j] - mx); tot = tot + out[j] end
  for j = 1, J do out[j] = out[j] / tot end
  return out
end

-- Fits the model on rows (from M.dataset). opts: l2 (default 0.01), iters (300), rate (0.5),
-- ridge (default 1.0: outcomes are noisy).
function M.fit(rows, meta, opts)
  opts = opts or {}
  local J, n = #meta.strategies, #rows
  if n < 2 * J then error(("gt.ml.fit: %d training rows for %d strategies: need at least %d"):format(n, J, 2 * J), 2) end
  local model = { strategies = meta.strategies, horizon = meta.horizon, step = meta.step, inputs = M.INPUTS,
    l2 = opts.l2 or 0.01, iters = opts.iters or 300, rate = opts.rate or 0.5, ridge = opts.ridge or 1.0 }
  model.mu, model.sd = standardise(rows)
  local Z = {}
  for i = 1, n do Z[i] = zrow(model, rows[i].x) end
  local P = #Z[1]
  local W = {}
  for j = 1, J do W[j] = {}; for k = 1, P do W[j][k] = 0 end end
  local G, p = {}, {}
  for j = 1, J do G[j] = {} end
  for _ = 1, model.iters do
    for j = 1, J do for k = 1, P do G[j][k] = 0 end end
    for i = 1, n do
      softmax_probs(W, Z[i], J, p)
      local z, best = Z[i], rows[i].best
      for j = 1, J do
        local e = p[j] - (j == best and 1 or 0)
        local g = G[j]
        for k = 1, P do g[k] = g[k] + e * z[k] end
      end
    end
    for j = 1, J do
      local w, g = W[j], G[j]
      for k = 1, P do
        local reg = k > 1 and model.l2 * w[k] or 0
        w[k] = w[k] - model.rate * (g[k] / n + reg)
      end
    end
  end
  model.W = W
  model.ret_w, model.sharpe_w = {}, {}
  for j = 1, J do
    local yr, ys = {}, {}
    for i = 1, n do yr[i] = rows[i].ret[j]; ys[i] = rows[i].sharpe[j] end
    model.ret_w[j] = ridge(Z, yr, model.ridge)
    model.sharpe_w[j] = ridge(Z, ys, model.ridge)
  end
  model.first_ts, model.last_ts = math.huge, -math.huge
  for i = 1, n do
    model.first_ts = math.min(model.first_ts, rows[i].ts)
    model.last_ts = math.max(model.last_ts, rows[i].tend)
  end
  model.rows = n
  return model
end

local function dot(w, z) local s = 0; for k = 1, #z do s = s + w[k] * z[k] end; return s end

-- Scores one input row: probabilities, expected returns, Sharpes (tables by strategy index).
function M.score_row(model, x)
  local z = zrow(model, x)
  local J = #model.strategies
  local p = softmax_probs(model.W, z, J, {})
  local er, sh = {}, {}
  for j = 1, J do er[j] = dot(model.ret_w[j], z); sh[j] = dot(model.sharpe_w[j], z) end
  return p, er, sh
end

-- Ranked predictions at bar `at` (default the last) of s, from bars 0..at. Returns
-- {ranked = {{strategy, expected_return, confidence, predicted_sharpe, rank}...},
--  selected, confidence, fallback (true when the top confidence < min_confidence), reason}.
function M.predict(model, s, opts)
  if type(model) ~= "table" or not model.W then error("gt.ml.predict: expected a model from gt.ml.train or load", 2) end
  if type(s) ~= "table" or not s._c then error("gt.ml.predict: expected a gt series", 2) end
  opts = opts or {}
  local at = opts.at or s.n - 1
  if type(at) ~= "number" or at < 0 or at >= s.n or at % 1 ~= 0 then
    error(("gt.ml.predict: at = %s is outside bars 0..%d"):format(tostring(at), s.n - 1), 2)
  end
  local x = inputs(s:slice(0, at + 1))[at]
  if not x then return nil, ("gt.ml.predict: features undefined at bar %d (need 61 bars of history)"):format(at) end
  local res = M.rank(model, x, opts)
  res.bar = at
  return res
end

-- The ranking and selection for one input row x (a row of M.inputs): what predict returns,
-- without the bar. The orchestrator's select step calls it on rows computed once per series.
function M.rank(model, x, opts)
  opts = opts or {}
  local p, er, sh = M.score_row(model, x)
  local ranked = {}
  for j, name in ipairs(model.strategies) do
    ranked[j] = { strategy = name, confidence = p[j], expected_return = er[j], predicted_sharpe = sh[j] }
  end
  table.sort(ranked, function(a, b)
    if a.confidence ~= b.confidence then return a.confidence > b.confidence end
    return a.strategy < b.strategy
  end)
  local top = opts.top_n or 3
  for k = #ranked, top + 1, -1 do ranked[k] = nil end
  for k, r in ipairs(ranked) do r.rank = k end
  local minc = opts.min_confidence or M.MIN_CONFIDENCE
  local res = { ranked = ranked, confidence = ranked[1].confidence }
  if ranked[1].confidence < minc then
    res.selected, res.fallback = opts.fallback or model.fallback or M.FALLBACK, true
    res.reason = ("top confidence %.3f (%s) is below min_confidence %.2f: falling back to %s")
      :format(ranked[1].confidence, ranked[1].strategy, minc, res.selected)
  else
    res.selected, res.fallback = ranked[1].strategy, false
  end
  return res
end

-- ---- evaluation ----

-- Compounded curve of period returns: total return, Sharpe (per period, annualised by
-- sqrt(252 / H)), max drawdown (fraction) of the curve at period ends.
local function perf(rets, H)
  local eq, peak, mdd, m = 1, 1, 0, 0
  for _, r in ipairs(rets) do
    eq = eq * (1 + r)
    if eq > peak then peak = eq end
    mdd = math.max(mdd, 1 - eq / peak)
    m = m + r
  end
  local n = #rets
  if n == 0 then return { ret = 0 / 0, sharpe = 0 / 0, mdd = 0 / 0, n = 0 } end
  m = m / n
  local ss = 0
  for _, r in ipairs(rets) do ss = ss + (r - m) ^ 2 end
  local sd = n > 1 and math.sqrt(ss / (n - 1)) or 0
  return { ret = eq - 1, sharpe = sd > 1e-12 and m / sd * math.sqrt(252 / H) or 0 / 0, mdd = mdd, n = n }
end

-- A small deterministic generator for the random-pick baseline.
local function lcg(seed)
  local x = seed % 2147483647
  if x <= 0 then x = x + 2147483646 end
  return function(k) x = x * 16807 % 2147483647; return x % k + 1 end
end

-- Walk-forward splits of dataset rows over time: the span from the first to the last
-- decision is cut into folds + 1 equal blocks; fold f tests block f + 1 and trains on every
-- row whose target was realised (its bar d + H) before the test block's start, so no
-- training target overlaps a test decision and, within a symbol, they are >= H bars apart.
function M.folds(rows, folds)
  if type(folds) ~= "number" or folds < 1 or folds % 1 ~= 0 then error("gt.ml.folds: folds must be a whole number >= 1", 2) end
  table.sort(rows, function(a, b) if a.ts ~= b.ts then return a.ts < b.ts end return a.sym < b.sym end)
  local t0, t1 = rows[1].ts, rows[#rows].ts
  local span = (t1 - t0) / (folds + 1)
  local out = {}
  for f = 1, folds do
    local ts_a, ts_b = t0 + f * span, (f == folds) and math.huge or t0 + (f + 1) * span
    local train, test = {}, {}
    for _, r in ipairs(rows) do
      if r.tend < ts_a then train[#train + 1] = r end
      if r.ts >= ts_a and r.ts < ts_b then test[#test + 1] = r end
    end
    out[f] = { train = train, test = test, start = ts_a }
  end
  return out
end

-- Walk-forward, out-of-sample evaluation. opts as train, plus folds (default 5), seed (for
-- the random pick). Returns {rows = {...policy rows...}, accuracy, brier, brier_base,
-- calibration = {...}, folds = {...}, tested, strategies, horizon}.
function M.evaluate(o)
  local rows, meta = M.dataset(o)
  if not rows then return nil, meta end
  local H, J, folds = meta.horizon, #meta.strategies, o.folds or 5
  local splits = M.folds(rows, folds)
  local tested, hits, brier, brier_base = 0, 0, 0, 0
  local picks = {}       -- per symbol: list of {period returns by policy}
  local cal = {}         -- confidence bins of width 0.1
  for b = 1, 10 do cal[b] = { n = 0, conf = 0, hit = 0 } end
  local fold_info = {}
  local nsym = #o.series
  local last_d = {}      -- per symbol: last decision bar used for the non-overlapping returns
  for f, sp in ipairs(splits) do
    local train, test = sp.train, sp.test
    if #train >= 2 * J and #test > 0 then
      local model = M.fit(train, meta, o)
      -- class frequencies in training: the constant forecast that Brier is compared with
      local freq = {}
      for j = 1, J do freq[j] = 0 end
      for _, r in ipairs(train) do freq[r.best] = freq[r.best] + 1 end
      for j = 1, J do freq[j] = freq[j] / #train end
      local fh = 0
      for _, r in ipairs(test) do
        local p = M.score_row(model, r.x)
        local pick = 1
        for j = 2, J do if p[j] > p[pick] then pick = j end end
        tested = tested + 1
        if pick == r.best then hits = hits + 1; fh = fh + 1 end
        for j = 1, J do
          local y = j == r.best and 1 or 0
          brier = brier + (p[j] - y) ^ 2
          brier_base = brier_base + (freq[j] - y) ^ 2
        end
        local bin = math.min(10, math.floor(p[pick] * 10) + 1)
        cal[bin].n = cal[bin].n + 1
        cal[bin].conf = cal[bin].conf + p[pick]
        cal[bin].hit = cal[bin].hit + (pick == r.best and 1 or 0)
        -- non-overlapping holding periods per symbol: a decision every H bars
        local ld = last_d[r.sym]
        if not ld or r.d >= ld + H then
          last_d[r.sym] = r.d
          picks[r.sym] = picks[r.sym] or {}
          table.insert(picks[r.sym], { r = r, pick = pick })
        end
      end
      fold_info[#fold_info + 1] = { fold = f, train = #train, test = #test, accuracy = fh / #test }
    end
  end
  if tested == 0 then return nil, "gt.ml.evaluate: no fold had both training and test rows: more data or fewer folds" end
  -- policies over the non-overlapping test periods, per symbol, then averaged over symbols
  local policies = { { name = "model" } }
  for j, name in ipairs(meta.strategies) do policies[#policies + 1] = { name = "always " .. name, j = j } end
  policies[#policies + 1] = { name = "buy and hold", bh = true }
  policies[#policies + 1] = { name = "random pick", random = true }
  local out = {}
  for _, pol in ipairs(policies) do
    local acc_n, acc_hit, sums = 0, 0, { ret = 0, sharpe = 0, mdd = 0, k = 0 }
    for si = 1, nsym do
      local list = picks[si]
      if list then
        local draws = pol.random and 100 or 1
        for dr = 1, draws do
          local rnd = lcg((o.seed or 1) * 1000 + si * 100 + dr)
          local rets = {}
          for _, pk in ipairs(list) do
            local j = pol.j or (pol.random and rnd(J)) or pk.pick
            local v = pol.bh and pk.r.bh or pk.r.ret[j]
            rets[#rets + 1] = v
            if not pol.bh and dr == 1 then acc_n = acc_n + 1; acc_hit = acc_hit + (j == pk.r.best and 1 or 0) end
          end
          local pf = perf(rets, H)
          sums.ret, sums.sharpe, sums.mdd, sums.k = sums.ret + pf.ret, sums.sharpe + (pf.sharpe == pf.sharpe and pf.sharpe or 0),
            sums.mdd + pf.mdd, sums.k + 1
        end
      end
    end
    out[#out + 1] = { policy = pol.name, pick_accuracy = acc_n > 0 and acc_hit / acc_n or nil,
      ret = sums.ret / sums.k, sharpe = sums.sharpe / sums.k, max_drawdown = sums.mdd / sums.k }
  end
  local calibration = {}
  for b = 1, 10 do
    if cal[b].n > 0 then
      calibration[#calibration + 1] = { from = (b - 1) / 10, to = b / 10, n = cal[b].n,
        mean_confidence = cal[b].conf / cal[b].n, hit_rate = cal[b].hit / cal[b].n }
    end
  end
  return { rows = out, tested = tested, accuracy = hits / tested, brier = brier / tested,
    brier_base = brier_base / tested, calibration = calibration, folds = fold_info,
    strategies = meta.strategies, horizon = H, chance = 1 / J }
end

-- Trains on every row, with the walk-forward scores attached (model.validation).
function M.train(o)
  local rows, meta = M.dataset(o)
  if not rows then return nil, meta end
  local model = M.fit(rows, meta, o)
  if o.validate ~= false then
    local e, err = M.evaluate(o)
    if not e then return nil, err end
    model.validation = { accuracy = e.accuracy, brier = e.brier, brier_base = e.brier_base, tested = e.tested,
      folds = #e.folds, policies = e.rows }
  end
  model.symbols = {}
  for j, s in ipairs(o.series) do model.symbols[j] = s.symbol or ("series" .. j) end
  model.fallback = o.fallback or M.FALLBACK
  model.min_confidence = o.min_confidence or M.MIN_CONFIDENCE
  return model
end

-- ---- persistence (SQLite, table models) ----

local DOC_KEYS = { "strategies", "horizon", "step", "inputs", "l2", "iters", "rate", "ridge", "mu", "sd", "W",
  "ret_w", "sharpe_w", "first_ts", "last_ts", "rows", "validation", "symbols", "fallback", "min_confidence" }

local function open_db(db, who)
  if type(db) == "table" and db._h ~= nil then return db, false end
  if db ~= nil and type(db) ~= "string" then error(who .. ": db must be a path or a gt.store handle", 3) end
  local store = require "gt.store"
  local h, err = store.open(db or os.getenv("GT_DB") or store.DEFAULT_PATH)
  if not h then return nil, nil, err end
  return h, true
end

-- Saves the model under name (default "strategy_selector"); returns its id, or nil, message.
function M.save(model, db, name)
  if type(model) ~= "table" or not model.W then error("gt.ml.save: expected a model from gt.ml.train", 2) end
  name = name or "strategy_selector"
  local h, own, err = open_db(db, "gt.ml.save")
  if not h then return nil, err end
  local doc = { format = 1 }
  for _, k in ipairs(DOC_KEYS) do doc[k] = model[k] end
  local text = require("gt.json").encode(doc)
  local id = C.gt_store_save_model(h._h, name, text, model.first_ts or 0, model.last_ts or 0)
  local msg = id < 0 and gtffi.errmsg(tonumber(id)) or nil
  if own then h:close() end
  if msg then return nil, msg end
  model.id, model.name = tonumber(id), name
  return tonumber(id)
end

-- Loads a model by id or by name (the newest of that name); nil, message when absent.
function M.load(db, which)
  local h, own, err = open_db(db, "gt.ml.load")
  if not h then return nil, err end
  local id = which
  if type(which) ~= "number" then
    id = C.gt_store_model_find(h._h, which or "strategy_selector")
    if id < 0 then
      local msg = gtffi.errmsg(tonumber(id))
      if own then h:close() end
      return nil, msg
    end
  end
  local len = C.gt_store_model_doc(h._h, id, nil, 0)
  local text, msg
  if len < 0 then msg = gtffi.errmsg(tonumber(len)) else
    local buf = ffi.new("char[?]", tonumber(len) + 1)
    C.gt_store_model_doc(h._h, id, buf, len + 1)
    text = ffi.string(buf, len)
  end
  if own then h:close() end
  if not text then return nil, msg end
  local doc, jerr = require("gt.json").decode(text)
  if not doc then return nil, ("gt.ml.load: model %d: %s"):format(tonumber(id), jerr) end
  if doc.format ~= 1 or table.concat(doc.inputs or {}, ",") ~= table.concat(M.INPUTS, ",") then
    return nil, ("gt.ml.load: model %d was saved with other inputs (%s): train it again"):format(tonumber(id),
      table.concat(doc.inputs or {}, ","))
  end
  doc.format = nil
  doc.id = tonumber(id)
  return doc
end

return M
