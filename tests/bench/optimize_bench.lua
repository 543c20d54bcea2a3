-- optimize_bench.lua: the optimiser's two speed goals, each the whole `gtengine optimize`
-- command (start-up, data loading, worker processes, every backtest, DSR and PBO) against
-- a plain C program that reads the same file and runs the same SMA crossovers
-- (tests/bench/tools/opt_plain.c). Wall time as separate processes, the median of 3 runs
-- (and the best); combinations/s and bar-evaluations/s (combinations x bars). Prints the
-- goal beside the measurement and the load average (the machine may be shared); never
-- passes or fails on a time.
--   1. the seed's sma_cross grid (fast 5..20 x slow 20..50, 15 valid pairs) on 1,000,000 bars: goal 0.5 s
--   2. fast 1..100 x slow 2..200 (14,950 valid pairs) on 10,000 bars: goal 2 s

local exe = os.getenv("GTENGINE") or "./gtengine"
local tools = os.getenv("TOOLS_DIR") or "build/bench-tools"

local lib = dofile("tests/bench/benchlib.lua")
local csv, median = lib.csv, lib.median

local cores = tonumber(require("gt.ffi").C.gt_opt_cores())
-- the jobs the command picks by itself: the cores, fewer under a million bar-evaluations a worker
local function jobs(combos, bars) return math.max(1, math.min(cores, math.floor(combos * bars / 1e6))) end
local function report(title, goal, bars, combos, ours, best, plain)
  print(("%s\n  gtengine optimize %.3f s median (best %.3f; goal %.1f s: %s), %d jobs, load %s: %.0f combinations/s, "
    .. "%.3g bar-evaluations/s")
    :format(title, ours, best, goal, ours <= goal and "met" or "not met", jobs(combos, bars), lib.load(),
      combos / ours, combos * bars / ours))
  print(("  plain C (one process) %.3f s: %.0f combinations/s, %.3g bar-evaluations/s; ratio gtengine / plain C = %.2f")
    :format(plain, combos / plain, combos * bars / plain, ours / plain))
end

local big = csv("/tmp/gt_bench_1m.csv", 1000000)
local ours, ob = median(("%s optimize --strategy sma_cross --data %s --no-save --quiet --json --size 1 --commission 0"
  .. " --slippage-bps 0"):format(exe, big), 3)
local plain = median(("%s/opt_plain %s 5 20 5 20 50 10"):format(tools, big), 3)
report("seed sma_cross grid (15 combinations) x 1,000,000 bars", 0.5, 1000000, 15, ours, ob, plain)

local small = csv("/tmp/gt_bench_10k.csv", 10000)
ours, ob = median(("%s optimize --strategy sma_cross --data %s --grid 'fast=1:100,slow=2:200' --no-save --quiet --json"
  .. " --size 1 --commission 0 --slippage-bps 0"):format(exe, small), 3)
plain = median(("%s/opt_plain %s 1 100 1 2 200 1"):format(tools, small), 3)
report("sma_cross fast 1..100 x slow 2..200 (14,950 combinations) x 10,000 bars", 2, 10000, 14950, ours, ob, plain)
