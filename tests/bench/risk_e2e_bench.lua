-- risk_e2e_bench.lua: the 1,000,000-bar sma_cross backtest with every order through the risk
-- gate (and its breakers fed every bar) against the same run without it: wall time of the
-- whole command, best of 3, as separate processes. The gate refuses nothing here (size 0.15
-- under the default preset's 0.2 max position), so the difference is the cost of checking.
local lib = dofile("tests/bench/benchlib.lua")
local exe = os.getenv("GTENGINE") or "./gtengine"
local path = lib.csv("/tmp/gt_bench_1m.csv", 1000000) -- the same file as bt_e2e_bench
local best = lib.best

local base = ("%s backtest --strategy sma_cross --data %s --size 0.15 --no-save"):format(exe, path)
local off = best(base)
local on = best(base .. " --risk default")
print(("1,000,000 bars, sma_cross, whole command, best of 3: gate off %.3f s, gate on %.3f s, ratio %.2fx")
  :format(off, on, on / off))
