-- gt.regime: market regime detection from a series alone (seed/slices.md section 6).
--
--   gt.regime.features(series, {benchmark = s2}) -> {n =, names =, get = function(i) -> {...}}
--   gt.regime.detect(series, {method = "rules"|"hmm"|"ensemble", at = i}) -> record at bar i
--   gt.regime.history(series, opts) -> {n =, codes = int8[n], confidence = double[n],
--                                        labels = {[i] = name or nil}, name = function(h, i)}
--   gt.regime.stream(opts) -> obj; obj:update(bar) -> current regime name (nil in warm-up);
--                             obj:record() -> the detect record of the current bar
--   gt.regime.fit_hmm(series, opts) -> model (fitted on the whole series: for offline use)
--   gt.regime.viterbi(model, series) -> codes (hindsight: the whole series decides each bar)
--   gt.regime.accuracy{method =, seeds =, n =} -> per-bar accuracy and confusion on
--                             gt.data.synthetic paths against their true regimes
--
-- Every label is computed online: the label at bar i uses bars 0..i only. history() for
-- "rules" is one C call over the series; for "hmm" and "ensemble" it drives the same
-- stream object that :update() does, so the two cannot disagree (with a fixed `model` it
-- runs batch passes in the stream's order of operations; the spec holds them equal).
--
-- The HMM without a given model is fitted online: first at `min_fit` valid bars (Baum-Welch,
-- `restarts` seeded starts), then every `refit` bars on the last `window` bars, starting
-- from the previous fit (warm = false: seeded starts every time; warm starts scored higher
-- on synthetic data and run ~20x faster); after each fit the filter is re-run over that
-- window with the new parameters. Its states are named by the rule thresholds applied to
-- each state's mean return and volatility.
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C

local M = {}

local RF = tonumber(C.GT_RF_COUNT)
local RI = tonumber(C.GT_RI_COUNT)
local NREG = tonumber(C.GT_REGIME_COUNT)
local CRISIS = tonumber(C.GT_REGIME_CRISIS)

M.FEATURES = { "vol10", "vol30", "ret1", "ret5", "ret20", "ret60", "spread5_20", "spread20_60",
  "trend_strength", "vol_of_vol", "adx", "corr", "trend_ann" }
M.NAMES = {}
M.CODES = {}
for c = 0, NREG - 1 do
  local nm = ffi.string(C.gt_regime_name(c))
  M.NAMES[c] = nm
  M.CODES[nm] = c
end
M.VOL = { [0] = "low", "medium", "high", "extreme" }
M.TREND = { [0] = "strong_down", "down", "sideways", "up", "strong_up" }
M.RISK = { [0] = "risk_off", "neutral", "risk_on" }
M.METHODS = { rules = true, hmm = true, ensemble = true }
-- The seed's ensemble weights were hmm 0.4, garch 0.3, heuristic 0.3; without a GARCH
-- model the remaining two keep their ratio.
M.ENSEMBLE_W = { hmm = 4 / 7, rules = 3 / 7 }

-- The one place a series column (or checked array) becomes a C pointer.
local function ptr(col) return (require("gt.series").raw(col)) end
M.ptr = ptr -- gt.ml passes columns to C through this too

local function nan_nil(v) if v ~= v then return nil end return v end

local function check_series(s, who)
  if type(s) ~= "table" or s.close == nil or type(s.n) ~= "number" then
    error(who .. ": expected a gt series (gt.data.load or gt.data.synthetic)", 3)
  end
end

-- The benchmark's closes aligned bar for bar with s (same length and timestamps), or nil.
local function bench_col(s, b, who)
  if b == nil then return nil end
  check_series(b, who)
  if b.n ~= s.n then
    error(("%s: benchmark has %d bars, the series %d: align them first (gt.data.align)")
      :format(who, b.n, s.n), 3)
  end
  for i = 0, s.n - 1, math.max(1, math.floor(s.n / 64)) do
    if s.ts[i] ~= b.ts[i] then
      error(("%s: benchmark bar %d is at a different time than the series': align them first")
        :format(who, i), 3)
    end
  end
  return ptr(b.close)
end

local function row_table(p)
  local t = {}
  for k = 1, RF do t[M.FEATURES[k]] = nan_nil(p[k - 1]) end
  return t
end

-- Per-bar features: one C pass. get(i) gives bar i's features by name (nil while undefined).
function M.features(s, opts)
  check_series(s, "gt.regime.features")
  opts = opts or {}
  local n = s.n
  local buf = ffi.new("double[?]", math.max(n, 1) * RF)
  gtffi.check(C.gt_regime_features(ptr(s.high), ptr(s.low), ptr(s.close),
    bench_col(s, opts.benchmark, "gt.regime.features"), n, buf), 2)
  return {
    n = n, names = M.FEATURES, data = buf,
    get = function(i)
      if type(i) ~= "number" or i < 0 or i >= n or i % 1 ~= 0 then
        error(("features.get: bar %s outside 0..%d"):format(tostring(i), n - 1), 2)
      end
      return row_table(buf + i * RF)
    end,
  }
end

-- The seed's rules on one feature table (by name; missing = NaN). Returns regime name (or
-- nil while vol10, vol30 or trend_ann is missing) and {confidence, stability, volatility,
-- trend, risk_sentiment}.
function M.classify(f)
  if type(f) ~= "table" then error("gt.regime.classify: expected a table of features", 2) end
  local row, info = ffi.new("double[?]", RF), ffi.new("double[?]", RI)
  for k = 1, RF do
    local v = f[M.FEATURES[k]]
    if v ~= nil and type(v) ~= "number" then
      error(("gt.regime.classify: feature %s is a %s: need a number"):format(M.FEATURES[k], type(v)), 2)
    end
    row[k - 1] = v or 0 / 0
  end
  local c = C.gt_regime_classify(row, info)
  if c < 0 then return nil end
  return M.NAMES[c], { confidence = info[0], stability = info[1], volatility = M.VOL[info[2]],
    trend = M.TREND[info[3]], risk_sentiment = M.RISK[info[4]] }
end

---------------------------------------------------------------------------------------------
-- HMM

-- Observations: the bar's return, the log of its 10-bar realised volatility and the mean
-- return of the last 20 bars. A row is missing (NaN) until all three are defined.
M.HMM_DIMS = 3
local HD = M.HMM_DIMS
local function obs_from_feat(f, o)
  o[0] = f[C.GT_RF_RET1]
  local v = f[C.GT_RF_VOL10]
  o[1] = v > 0 and math.log(v) or 0 / 0
  o[2] = f[C.GT_RF_RET20] / 20
end

local Model = {}
Model.__index = Model

-- A state's regime: the rule thresholds applied to its annualised mean return (the return
-- dimension's mean compounded over 252 bars, as trend_ann compounds ret60) and volatility
-- (that dimension's std, annualised percent); crisis is extreme volatility with a falling
-- mean. (Naming by the 20-bar drift dimension instead scored worse on synthetic data.)
local function state_name(mean, var, s, d)
  local vol = math.sqrt(var[s * d]) * math.sqrt(252) * 100
  local ann = (1 + mean[s * d]) ^ 252 - 1
  local quiet = vol < 25
  if vol >= 40 and ann <= -0.05 then return CRISIS end
  if ann > 0.05 then return quiet and 0 or 1 end
  if ann <= -0.05 then return quiet and 2 or 3 end
  return quiet and 4 or 5
end

local function model_wrap(h, k)
  local m = setmetatable({ k = k, d = HD, h = h }, Model)
  m:_read()
  return m
end

function Model:_read()
  local k, d = self.k, self.d
  local pi, a = ffi.new("double[?]", k), ffi.new("double[?]", k * k)
  local mean, var = ffi.new("double[?]", k * d), ffi.new("double[?]", k * d)
  C.gt_hmm_get(self.h, pi, a, mean, var)
  self.pi, self.a, self.mean, self.var = pi, a, mean, var
  -- state -> regime code, and P(next bar's regime name differs | state)
  self.code = ffi.new("int8_t[?]", k)
  self.leave = ffi.new("double[?]", k)
  for s = 0, k - 1 do
    self.code[s] = state_name(mean, var, s, d)
  end
  for s = 0, k - 1 do
    local p = 0
    for j = 0, k - 1 do
      if self.code[j] ~= self.code[s] then p = p + a[s * k + j] end
    end
    self.leave[s] = p
  end
end

-- Parameters as plain tables (1-based), for printing, JSON and saving.
function Model:params()
  local k, d = self.k, self.d
  local t = { states = k, dims = d, pi = {}, a = {}, mean = {}, var = {}, names = {} }
  for s = 0, k - 1 do
    t.pi[s + 1] = self.pi[s]
    t.names[s + 1] = M.NAMES[self.code[s]]
    t.a[s + 1], t.mean[s + 1], t.var[s + 1] = {}, {}, {}
    for j = 0, k - 1 do t.a[s + 1][j + 1] = self.a[s * k + j] end
    for j = 0, d - 1 do
      t.mean[s + 1][j + 1] = self.mean[s * d + j]
      t.var[s + 1][j + 1] = self.var[s * d + j]
    end
  end
  return t
end

local function new_handle(k, d)
  local h = C.gt_hmm_new(k, d)
  if h == nil then error(gtffi.errmsg(), 3) end
  return ffi.gc(h, C.gt_hmm_free)
end

-- A model from explicit parameters (1-based tables as Model:params() gives them).
function M.hmm_model(p)
  if type(p) ~= "table" or type(p.pi) ~= "table" then
    error("gt.regime.hmm_model: need {pi =, a =, mean =, var =}", 2)
  end
  local k, d = #p.pi, p.dims or HD
  local h = new_handle(k, d)
  local pi, a = ffi.new("double[?]", k), ffi.new("double[?]", k * k)
  local mean, var = ffi.new("double[?]", k * d), ffi.new("double[?]", k * d)
  for s = 1, k do
    pi[s - 1] = p.pi[s]
    for j = 1, k do a[(s - 1) * k + j - 1] = p.a[s][j] end
    for j = 1, d do
      mean[(s - 1) * d + j - 1] = p.mean[s][j]
      var[(s - 1) * d + j - 1] = p.var[s][j]
    end
  end
  gtffi.check(C.gt_hmm_set(h, pi, a, mean, var), 2)
  local m = model_wrap(h, k)
  m.d = d
  return m
end

-- from: a model to start from (one warm start instead of o.restarts seeded ones).
local function fit_rows(x, n, o, from)
  local k = from and from.k or o.states or 4
  local h = new_handle(k, HD)
  local ll = ffi.new("double[1]")
  if from then gtffi.check(C.gt_hmm_set(h, from.pi, from.a, from.mean, from.var), 3) end
  local rc = C.gt_hmm_fit(h, x, n, from and 0 or o.restarts or 4, o.iters or 100, o.tol or 1e-6, o.seed or 1, ll)
  if rc < 0 then return nil, gtffi.errmsg(rc) end
  local m = model_wrap(h, k)
  m.loglik = ll[0]
  return m
end

-- The observation rows of a series: x (n * HD doubles, NaN rows in the warm-up), the first
-- complete row, the feature buffer.
local function observations(s, bench)
  local n = s.n
  local feat = ffi.new("double[?]", math.max(n, 1) * RF)
  gtffi.check(C.gt_regime_features(ptr(s.high), ptr(s.low), ptr(s.close), bench, n, feat), 3)
  local x = ffi.new("double[?]", math.max(n, 1) * HD)
  local first = n
  for i = 0, n - 1 do
    obs_from_feat(feat + i * RF, x + i * HD)
    if first == n and x[i * HD] == x[i * HD] and x[i * HD + 1] == x[i * HD + 1]
      and x[i * HD + 2] == x[i * HD + 2] then
      first = i
    end
  end
  return x, first, feat
end

-- Fits on the whole series (hindsight): for offline study, Viterbi, or a model that a
-- stream then uses on other data with {model = m}.
function M.fit_hmm(s, opts)
  check_series(s, "gt.regime.fit_hmm")
  opts = opts or {}
  local x, first = observations(s, bench_col(s, opts.benchmark, "gt.regime.fit_hmm"))
  if s.n - first < 2 * (opts.states or 4) then
    return nil, ("gt.regime.fit_hmm: %d bars, need more than %d for the features and 2 per state")
      :format(s.n, first)
  end
  local m, err = fit_rows(x + first * HD, s.n - first, opts)
  if not m then return nil, "gt.regime.fit_hmm: " .. err end
  m.first = first
  return m
end

-- Most likely state path over the whole series (hindsight, not online): codes[i] is the
-- regime code of bar i (-1 in the warm-up).
function M.viterbi(m, s)
  if getmetatable(m) ~= Model then error("gt.regime.viterbi: expected a model from fit_hmm", 2) end
  check_series(s, "gt.regime.viterbi")
  local x, first = observations(s, nil)
  local n = s.n
  local codes = ffi.new("int8_t[?]", math.max(n, 1))
  for i = 0, n - 1 do codes[i] = -1 end
  if n > first then
    local path = ffi.new("int32_t[?]", n - first)
    gtffi.check(C.gt_hmm_viterbi(m.h, x + first * HD, n - first, path, nil), 2)
    for i = first, n - 1 do codes[i] = m.code[path[i - first]] end
  end
  return codes
end

---------------------------------------------------------------------------------------------
-- The stream: one object per series; update(bar) per bar.

local Stream = {}
Stream.__index = Stream

local STREAM_OPTS = { method = true, model = true, states = true, restarts = true, iters = true, warm = true,
  tol = true, seed = true, min_fit = true, refit = true, window = true, benchmark = true }

function M.stream(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("gt.regime.stream: opts must be a table", 2) end
  for key in pairs(opts) do
    if not STREAM_OPTS[key] then error("gt.regime.stream: unknown option '" .. tostring(key) .. "'", 2) end
  end
  local method = opts.method or "rules"
  if not M.METHODS[method] then
    error(("gt.regime.stream: method '%s': use rules, hmm or ensemble"):format(tostring(method)), 2)
  end
  local f = C.gt_regime_feat_new()
  if f == nil then error(gtffi.errmsg(), 2) end
  local st = setmetatable({
    method = method, f = ffi.gc(f, C.gt_regime_feat_free),
    feat = ffi.new("double[?]", RF), info = ffi.new("double[?]", RI),
    i = -1, code = -1, rule_code = -1, confidence = 0 / 0, duration = 0,
    counts = ffi.new("double[?]", NREG * NREG), prev = -1,
    score = ffi.new("double[?]", NREG),
  }, Stream)
  if method ~= "rules" then
    if opts.model ~= nil and getmetatable(opts.model) ~= Model then
      error("gt.regime.stream: model must come from gt.regime.fit_hmm or hmm_model", 2)
    end
    st.model = opts.model
    st.fixed = opts.model ~= nil
    st.fit_opts = { states = opts.states or 4, restarts = opts.restarts or 3, iters = opts.iters or 50,
      tol = opts.tol or 1e-5, seed = opts.seed or 1 }
    st.warm = opts.warm ~= false
    st.window = opts.window or 1000
    st.min_fit = opts.min_fit or 250
    st.refit = opts.refit or 250
    for _, key in ipairs({ "window", "min_fit", "refit" }) do
      local v = st[key]
      if type(v) ~= "number" or v < 1 or v % 1 ~= 0 then
        error(("gt.regime.stream: %s must be a whole number >= 1"):format(key), 2)
      end
    end
    if st.min_fit > st.window then error("gt.regime.stream: min_fit must not exceed window", 2) end
    st.ring = ffi.new("double[?]", st.window * HD) -- the last `window` observation rows
    st.flat = ffi.new("double[?]", st.window * HD)
    st.nobs = 0          -- complete observation rows seen
    st.next_fit = st.min_fit -- complete rows at which the next fit is due
    st.obs = ffi.new("double[?]", HD)
    st.alpha = ffi.new("double[?]", 16)
    st.alpha_first = true
    st.fits = 0
  end
  return st
end

-- Copies the ring into chronological order in st.flat; returns the row count.
local function flatten(st)
  local w, nr = st.window, math.min(st.nobs, st.window)
  local start = st.nobs - nr
  for r = 0, nr - 1 do
    local src = ((start + r) % w) * HD
    for j = 0, HD - 1 do st.flat[r * HD + j] = st.ring[src + j] end
  end
  return nr
end

local function hmm_step(st)
  local o = st.obs
  obs_from_feat(st.feat, o)
  local complete = o[0] == o[0] and o[1] == o[1] and o[2] == o[2]
  if not complete then
    if st.model and not st.alpha_first then
      C.gt_hmm_filter_step(st.model.h, st.alpha, 0, nil, nil)
    end
    return
  end
  local w = st.window
  local slot = (st.nobs % w) * HD
  for j = 0, HD - 1 do st.ring[slot + j] = o[j] end
  st.nobs = st.nobs + 1
  if not st.fixed then
    if st.nobs >= st.next_fit then
      local nr = flatten(st)
      local m = fit_rows(st.flat, nr, st.fit_opts, st.warm and st.model or nil)
      st.next_fit = st.nobs + st.refit -- a failed fit (degenerate window) is retried then
      if m then
        st.model, st.fits = m, st.fits + 1
        -- the filter over the fitted window under the new parameters: alpha at this bar
        local post = ffi.new("double[?]", nr * m.k)
        gtffi.check(C.gt_hmm_forward(m.h, st.flat, nr, post, nil), 3)
        for s = 0, m.k - 1 do st.alpha[s] = post[(nr - 1) * m.k + s] end
        st.alpha_first = false
        return
      end
    end
  end
  if st.model then
    local rc = C.gt_hmm_filter_step(st.model.h, st.alpha, st.alpha_first and 1 or 0, o, nil)
    if rc < 0 then -- a row impossible under every state: start again from the prior
      C.gt_hmm_filter_step(st.model.h, st.alpha, 1, o, nil)
    end
    st.alpha_first = false
  end
end

-- Scores per regime from the HMM's filtered state probabilities.
local function hmm_scores(st)
  local sc, m = st.score, st.model
  for r = 0, NREG - 1 do sc[r] = 0 end
  if not m or st.alpha_first then return false end
  for s = 0, m.k - 1 do sc[m.code[s]] = sc[m.code[s]] + st.alpha[s] end
  return true
end

local function argmax(sc)
  local best = 0
  for r = 1, NREG - 1 do if sc[r] > sc[best] then best = r end end
  return best
end

-- One bar as numbers; the core of update() and history().
function Stream:push(high, low, close, bench)
  gtffi.check(C.gt_regime_feat_update(self.f, high, low, close, bench or 0 / 0, self.feat), 2)
  self.i = self.i + 1
  local rc = C.gt_regime_classify(self.feat, self.info)
  self.rule_code = rc
  local code, conf = rc, rc >= 0 and self.info[0] or 0 / 0
  if self.method ~= "rules" then
    hmm_step(self)
    local ready = hmm_scores(self)
    if self.method == "hmm" then
      if ready then code = argmax(self.score); conf = self.score[code] else code, conf = -1, 0 / 0 end
    elseif ready and rc >= 0 then
      local sc = self.score
      for r = 0, NREG - 1 do sc[r] = sc[r] * M.ENSEMBLE_W.hmm end
      sc[rc] = sc[rc] + M.ENSEMBLE_W.rules
      code = argmax(sc); conf = sc[code]
    end
  end
  if code >= 0 and self.prev >= 0 then
    local idx = self.prev * NREG + code
    self.counts[idx] = self.counts[idx] + 1
  end
  if code >= 0 and code == self.prev then self.duration = self.duration + 1
  elseif code >= 0 then self.duration = 1
  else self.duration = 0 end
  self.prev = code
  self.code, self.confidence = code, conf
  return code
end

-- bar: {high =, low =, close =, benchmark =} (high and low default to the close).
function Stream:update(bar)
  if type(bar) ~= "table" or type(bar.close) ~= "number" then
    error("regime stream:update: need a bar table with a numeric close", 2)
  end
  local c = self:push(bar.high or bar.close, bar.low or bar.close, bar.close, bar.benchmark)
  return c >= 0 and M.NAMES[c] or nil
end

-- The full record for the current bar (allocates: call it when you need the details).
function Stream:record()
  if self.code < 0 then return nil end
  local info, code = self.info, self.code
  local rule = self.rule_code >= 0
  local tp, stability
  local hmm_ready = self.method ~= "rules" and self.model ~= nil and not self.alpha_first
  if not hmm_ready then
    local row, stay = 0, self.counts[code * NREG + code]
    for j = 0, NREG - 1 do row = row + self.counts[code * NREG + j] end
    -- the empirical transition matrix of the labels so far; none seen yet: unknown
    tp = row > 0 and 1 - stay / row or nil
    stability = info[1]
  else
    local m, p, st = self.model, 0, 0
    for s = 0, m.k - 1 do
      p = p + self.alpha[s] * m.leave[s]
      st = st + self.alpha[s] * m.a[s * m.k + s]
    end
    tp, stability = p, st
    if self.method == "ensemble" and rule then stability = (st + info[1]) / 2 end
  end
  local features = row_table(self.feat)
  return {
    regime = M.NAMES[code], confidence = self.confidence, method = self.method, bar = self.i,
    trend = rule and M.TREND[info[3]] or nil, volatility = rule and M.VOL[info[2]] or nil,
    risk_sentiment = rule and M.RISK[info[4]] or nil,
    duration = self.duration, stability = stability, transition_probability = tp,
    expected_transition_bars = stability and 10 * (1 + 2 * stability) or nil,
    rules_regime = rule and M.NAMES[self.rule_code] or nil,
    features = features,
  }
end

---------------------------------------------------------------------------------------------
-- Batch

local fixed_batch

local function check_method(opts, who)
  local method = opts.method or "rules"
  if not M.METHODS[method] then
    error(("%s: method '%s': use rules, hmm or ensemble"):format(who, tostring(method)), 3)
  end
  return method
end

local function stream_opts(opts)
  local o = {}
  for k, v in pairs(opts) do if k ~= "at" then o[k] = v end end
  o.benchmark = nil
  return o
end

-- History with a fixed HMM in three passes (features in C, the forward filter in C, the
-- naming in Lua) instead of per-bar calls: the same arithmetic as the stream, in the same
-- order, so the same bits (the spec holds them equal). Returns false when the filter meets
-- a row impossible under every state, which the stream handles by restarting: then the
-- caller runs the stream.
function fixed_batch(s, bench, m, method, codes, conf)
  if getmetatable(m) ~= Model then error("gt.regime.history: model must come from fit_hmm or hmm_model", 3) end
  local n, k = s.n, m.k
  local feat = ffi.new("double[?]", math.max(n, 1) * RF)
  local info = ffi.new("double[?]", math.max(n, 1) * RI)
  local rc = ffi.new("int8_t[?]", math.max(n, 1))
  gtffi.check(C.gt_regime_rules(ptr(s.high), ptr(s.low), ptr(s.close), bench, n, feat, rc, info), 3)
  local x = ffi.new("double[?]", math.max(n, 1) * HD)
  local first = n
  for i = 0, n - 1 do
    local o = x + i * HD
    obs_from_feat(feat + i * RF, o)
    if first == n and o[0] == o[0] and o[1] == o[1] and o[2] == o[2] then first = i end
  end
  local post = ffi.new("double[?]", math.max(n - first, 1) * k)
  if n > first and C.gt_hmm_forward(m.h, x + first * HD, n - first, post, nil) < 0 then
    C.gt_clearerr()
    return false
  end
  local sc = ffi.new("double[?]", NREG)
  local wh, wr = M.ENSEMBLE_W.hmm, M.ENSEMBLE_W.rules
  for i = 0, n - 1 do
    local r = rc[i]
    local code, cf = r, r >= 0 and info[i * RI] or 0 / 0
    if i >= first then
      for j = 0, NREG - 1 do sc[j] = 0 end
      local a = post + (i - first) * k
      for st = 0, k - 1 do sc[m.code[st]] = sc[m.code[st]] + a[st] end
      if method == "hmm" then
        code = 0
        for j = 1, NREG - 1 do if sc[j] > sc[code] then code = j end end
        cf = sc[code]
      elseif r >= 0 then
        for j = 0, NREG - 1 do sc[j] = sc[j] * wh end
        sc[r] = sc[r] + wr
        code = 0
        for j = 1, NREG - 1 do if sc[j] > sc[code] then code = j end end
        cf = sc[code]
      end
    elseif method == "hmm" then
      code, cf = -1, 0 / 0
    end
    codes[i], conf[i] = code, cf
  end
  return true
end

-- Per-bar labels, online. Returns {n, method, codes (int8, -1 in the warm-up), confidence
-- (double, NaN in the warm-up), labels (labels[i] a name, nil in the warm-up; read-only),
-- name = function(h, i)}.
function M.history(s, opts)
  check_series(s, "gt.regime.history")
  opts = opts or {}
  for key in pairs(opts) do
    if not STREAM_OPTS[key] then error("gt.regime.history: unknown option '" .. tostring(key) .. "'", 2) end
  end
  local method = check_method(opts, "gt.regime.history")
  local n = s.n
  local bench = bench_col(s, opts.benchmark, "gt.regime.history")
  local codes = ffi.new("int8_t[?]", math.max(n, 1))
  local conf = ffi.new("double[?]", math.max(n, 1))
  if method == "rules" then
    local info = ffi.new("double[?]", math.max(n, 1) * RI)
    gtffi.check(C.gt_regime_rules(ptr(s.high), ptr(s.low), ptr(s.close), bench, n, nil, codes, info), 2)
    for i = 0, n - 1 do conf[i] = info[i * RI] end
  elseif not (opts.model and fixed_batch(s, bench, opts.model, method, codes, conf)) then
    local st = M.stream(stream_opts(opts))
    local h, l, c = s.high, s.low, s.close
    for i = 0, n - 1 do
      codes[i] = st:push(h[i], l[i], c[i], bench and bench[i] or nil)
      conf[i] = st.confidence
    end
  end
  -- names on demand from the codes: no million-entry table for a million bars
  local labels = setmetatable({}, { __index = function(_, i)
    if type(i) == "number" and i >= 0 and i < n and i % 1 == 0 and codes[i] >= 0 then return M.NAMES[codes[i]] end
  end })
  return { n = n, method = method, codes = codes, confidence = conf, labels = labels,
    name = function(_, i) return labels[i] end }
end

-- The regime at bar `at` (default the last), from bars 0..at only. nil, message when the
-- series is too short for the method's warm-up.
function M.detect(s, opts)
  check_series(s, "gt.regime.detect")
  opts = opts or {}
  check_method(opts, "gt.regime.detect")
  local at = opts.at or s.n - 1
  if type(at) ~= "number" or at % 1 ~= 0 or at < 0 or at >= s.n then
    error(("gt.regime.detect: at = %s is outside the series' bars 0..%d"):format(tostring(at), s.n - 1), 2)
  end
  local bench = bench_col(s, opts.benchmark, "gt.regime.detect")
  local st = M.stream(stream_opts(opts))
  local h, l, c = s.high, s.low, s.close
  for i = 0, at do st:push(h[i], l[i], c[i], bench and bench[i] or nil) end
  local r = st:record()
  if not r then
    return nil, ("gt.regime.detect: no %s regime at bar %d yet (warm-up: rules need 61 bars, "
      .. "the online HMM %d complete observations)"):format(st.method, at, st.min_fit or 0)
  end
  return r
end

---------------------------------------------------------------------------------------------
-- Accuracy against known regimes (gt.data.synthetic's ground truth).

-- truth: int-indexable codes 0..6 (regimes.codes); pred: history codes. Bars where pred is
-- -1 are left out. Returns {n, correct, accuracy, confusion[true][pred] (1-based by code+1),
-- majority = {code, accuracy}} over the scored bars.
function M.score(truth, pred, n)
  local conf, tot, cnt, ok = {}, 0, {}, 0
  for r = 1, NREG do conf[r] = {}; cnt[r] = 0; for c = 1, NREG do conf[r][c] = 0 end end
  for i = 0, n - 1 do
    local p = pred[i]
    if p >= 0 then
      local t = truth[i]
      conf[t + 1][p + 1] = conf[t + 1][p + 1] + 1
      cnt[t + 1] = cnt[t + 1] + 1
      tot = tot + 1
      if t == p then ok = ok + 1 end
    end
  end
  local maj = 1
  for r = 2, NREG do if cnt[r] > cnt[maj] then maj = r end end
  return { n = tot, correct = ok, accuracy = tot > 0 and ok / tot or 0 / 0, confusion = conf,
    majority = { code = maj - 1, name = M.NAMES[maj - 1], accuracy = tot > 0 and cnt[maj] / tot or 0 / 0 } }
end

-- Pooled accuracy of one method over synthetic paths: opts {method, seeds = {1, ...},
-- n = bars per path, plus history options}. Returns M.score's table over all paths, with
-- per_seed = {{seed, accuracy, majority}, ...}; the majority baseline is each path's own
-- most frequent true regime (over its scored bars), pooled.
function M.accuracy(opts)
  opts = opts or {}
  local seeds, n = opts.seeds or { 1, 2, 3, 4, 5, 6, 7, 8 }, opts.n or 5000
  local ho = {}
  for k, v in pairs(opts) do if k ~= "seeds" and k ~= "n" then ho[k] = v end end
  local data = require "gt.data"
  local pooled, per, maj = nil, {}, 0
  for _, seed in ipairs(seeds) do
    local s, truth = data.synthetic { n = n, seed = seed }
    local sc = M.score(truth.codes, M.history(s, ho).codes, n)
    per[#per + 1] = { seed = seed, accuracy = sc.accuracy, majority = sc.majority.accuracy, n = sc.n }
    maj = maj + sc.majority.accuracy * sc.n
    if not pooled then pooled = sc else
      pooled.n, pooled.correct = pooled.n + sc.n, pooled.correct + sc.correct
      for r = 1, NREG do for c = 1, NREG do
        pooled.confusion[r][c] = pooled.confusion[r][c] + sc.confusion[r][c]
      end end
    end
  end
  pooled.accuracy = pooled.correct / pooled.n
  pooled.majority = { accuracy = maj / pooled.n }
  pooled.per_seed, pooled.method = per, ho.method or "rules"
  return pooled
end

return M
