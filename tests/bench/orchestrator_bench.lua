-- orchestrator_bench.lua: the full default trading cycle (data -> analyze -> regime ->
-- select -> signal -> size -> risk -> execute -> monitor) bar by bar over 200,000 synthetic
-- bars of one symbol, journal off: with a fixed strategy (sma_cross) and with the ML
-- selector (a model trained here on other synthetic data). Then the cost of each step per
-- bar from a timed pass (the timer adds its own cost, so those add up to more than the
-- untimed run), and, for scale, the vectorised backtester on the same bars.
local ffi = require "ffi"
local gt = require "gt"
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } gt_bench_timespec;
int clock_gettime(int clk, gt_bench_timespec *ts);
]]
local tsp = ffi.new("gt_bench_timespec")
local function now()
  ffi.C.clock_gettime(1, tsp)
  return tonumber(tsp.tv_sec) + tonumber(tsp.tv_nsec) * 1e-9
end

local N = 200000
local s = gt.data.synthetic { n = N, seed = 5, symbol = "SYN", timeframe = "1h" } -- 200,000 days would pass the year 2255

-- In the timed pass a step that does nothing measures the timer itself; it is taken off
-- every step's time.
local NOOP = { name = "noop", reads = {}, writes = {}, run = function() end }
local function session(strategy, db, profile)
  local def = { mode = "backtest", strategy = strategy, db = db }
  if profile then
    def.steps = {}
    for _, st in ipairs(gt.orchestrator.STEPS) do def.steps[#def.steps + 1] = st.name end
    table.insert(def.steps, 2, NOOP)
  end
  local wf = gt.workflow.from_table(def, "bench")
  return assert(gt.orchestrator.new(wf, { series = { s }, quiet = true, profile = profile }))
end

local function best_run(strategy, db)
  local best, orders = math.huge, 0
  for _ = 1, 3 do
    local sess = session(strategy, db)
    local t0 = now()
    local sm = assert(sess:run())
    best = math.min(best, now() - t0)
    orders = sm.orders
  end
  return best, orders
end

-- a small model for the ML selector, trained on two other synthetic paths
local db = os.tmpname()
local train = { (gt.data.synthetic { n = 1500, seed = 21, symbol = "T1" }), (gt.data.synthetic { n = 1500, seed = 22, symbol = "T2" }) }
local model = assert(gt.ml.train { series = train })
assert(gt.ml.save(model, db))

local tf, of = best_run("sma_cross", db)
print(("cycle, fixed strategy (sma_cross): %d bars in %.3f s = %.0f bars/s per symbol (%d orders; goal 250,000)")
  :format(N, tf, N / tf, of))
local tm, om = best_run("ml", db)
print(("cycle, ML selection (6 strategies): %d bars in %.3f s = %.0f bars/s per symbol (%d orders; goal 50,000)")
  :format(N, tm, N / tm, om))

for _, strategy in ipairs { "sma_cross", "ml" } do
  local sess = session(strategy, db, now)
  sess:run()
  local rows, total, timer = {}, 0, sess.step_time.noop
  for _, st in ipairs(gt.orchestrator.STEPS) do
    local v = math.max(0, (sess.step_time[st.name] or 0) - timer)
    rows[#rows + 1] = ("%s %.0f"):format(st.name, v / N * 1e9)
    total = total + v
  end
  print(("per step, ns/bar (%s; the timer's own %.0f ns taken off each): %s; sum %.0f"):format(strategy,
    timer / N * 1e9, table.concat(rows, ", "), total / N * 1e9))
end

local t0 = now()
local r = assert(gt.backtest.run("sma_cross", s, { capital = 10000 }))
local tv = now() - t0
print(("for scale: gt.backtest.run vectorised, same bars: %.3f s (%.0f bars/s); the cycle takes %.1fx as long")
  :format(tv, N / tv, tf / tv))
os.remove(db)
