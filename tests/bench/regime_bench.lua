-- regime_bench.lua: gt.regime.history throughput per method on 1M synthetic bars (rules: one
-- C pass; hmm and ensemble with a fixed model: the per-bar stream, forward filter in C; hmm
-- fitted online: refits included, on 100k bars), against the C kernels called directly, and
-- the training time of gt.ml on the four real series in ../shared when present. Never fails
-- on a time.
local ffi = require "ffi"
local gt = require "gt"
local regime = require "gt.regime"
local C = ffi.C

local N = tonumber(os.getenv("REGIME_BENCH_N")) or 1000000
local s = gt.data.synthetic { n = N, seed = 1 }
local clock = C.gt_clock_seconds

local function timed(f)
  local t0 = clock()
  f()
  return clock() - t0
end

print(("gt.regime.history over %d bars (bars/s)"):format(N))
local feat = ffi.new("double[?]", N * C.GT_RF_COUNT)
local codes = ffi.new("int8_t[?]", N)
local tc = timed(function()
  C.gt_regime_rules(ffi.cast("const double *", s.high), ffi.cast("const double *", s.low),
    ffi.cast("const double *", s.close), nil, N, feat, codes, nil)
end)
local tl = timed(function() regime.history(s) end)
print(("  rules            %10.0f bars/s   C kernel direct %10.0f bars/s   ratio %.2fx"):format(N / tl, N / tc, tl / tc))

local model = assert(regime.fit_hmm(s:slice(0, 5000), { states = 4, restarts = 3 }))
-- the filter alone in C over the same observation rows the stream builds
local x = ffi.new("double[?]", N * regime.HMM_DIMS)
for i = 0, N - 1 do
  local f = feat + i * C.GT_RF_COUNT
  x[i * 3] = f[C.GT_RF_RET1]; x[i * 3 + 1] = math.log(f[C.GT_RF_VOL10]); x[i * 3 + 2] = f[C.GT_RF_RET20] / 20
end
local post = ffi.new("double[?]", N * 4)
local first = model.first
local tf = timed(function() C.gt_hmm_forward(model.h, x + first * 3, N - first, post, nil) end)
for _, method in ipairs({ "hmm", "ensemble" }) do
  local t = timed(function() regime.history(s, { method = method, model = model }) end)
  print(("  %-8s (fixed)  %10.0f bars/s   C forward filter %10.0f bars/s   ratio %.2fx"):format(method, N / t,
    (N - first) / tf, t / tf))
end
local M2 = math.min(N, 100000)
local s2 = s:slice(0, M2)
local t2 = timed(function() regime.history(s2, { method = "hmm" }) end)
print(("  hmm (online fit, refit every 250 bars on 1000)  %10.0f bars/s over %d bars"):format(M2 / t2, M2))

local shared = os.getenv("GT_SHARED") or "../shared"
local files = { "backtrader/orcl-1995-2014.txt", "backtrader/nvda-1999-2014.txt", "backtrader/yhoo-1996-2014.txt",
  "backtesting.py/GOOG.csv" }
local list = {}
for _, f in ipairs(files) do
  local sx = gt.data.load(shared .. "/data/" .. f)
  if not sx then list = nil; break end
  list[#list + 1] = sx
end
if list then
  local ml = require "gt.ml"
  local tt = timed(function() assert(ml.train { series = list, horizon = 20, validate = false }) end)
  local tv = timed(function() assert(ml.evaluate { series = list, horizon = 20 }) end)
  print(("gt.ml on ORCL, NVDA, YHOO, GOOG: train %.2f s, walk-forward evaluation (5 folds) %.2f s"):format(tt, tv))
else
  print("gt.ml training time: skipped (needs the real series in " .. shared .. "/data)")
end
