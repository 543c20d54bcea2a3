-- bt_e2e_bench.lua: the whole `gtengine backtest` command on a 1,000,000-bar CSV file
-- (start-up, parse and validation, indicators, signals, loop, results, metrics) against a
-- plain C program that reads the same file and computes the same crossover and equity
-- (tests/bench/tools/bt_plain.c). Wall time, best of 3, each as a separate process; and
-- the command's peak memory (VmHWM).

local now = require("gt.ffi").C.gt_clock_seconds -- for the timings below

local exe = os.getenv("GTENGINE") or "./gtengine"
local tools = os.getenv("TOOLS_DIR") or "build/bench-tools"
local path = "/tmp/gt_bench_1m.csv"

-- a million minute bars, written once
local lib = dofile("tests/bench/benchlib.lua")
lib.csv(path, 1000000)
local best = lib.best

local ours = best(("%s backtest --strategy sma_cross --data %s --size 1 --commission 0 --slippage-bps 0 --no-save --json"):format(exe, path))
local plain = best(("%s/bt_plain %s"):format(tools, path))
local p = io.popen(("%s -e 'require(\"gt.cli\").main({\"backtest\",\"--strategy\",\"sma_cross\",\"--data\",\"%s\",\"--no-save\",\"--json\"}) for l in io.lines(\"/proc/self/status\") do if l:match(\"^VmHWM\") then io.stderr:write(l, \"\\n\") end end' 2>&1 >/dev/null"):format(exe, path))
local hwm = p:read("*a"); p:close()
print(("1,000,000-bar CSV (%.0f MB), sma_cross 10/30, best of 3 wall times"):format(io.open(path):seek("end") / 1e6))
print(("  gtengine backtest: %.3f s   plain C (fgets+strtod, crossover, equity): %.3f s   ratio %.2fx"):format(ours, plain, ours / plain))
print(("  gtengine peak memory: %s"):format((hwm:match("VmHWM:%s*(.-)\n") or "?")))
-- the same answer: both final equities
local a = io.popen(("%s backtest --strategy sma_cross --data %s --size 1 --commission 0 --slippage-bps 0 --no-save --json"):format(exe, path)):read("*a")
local b = io.popen(("%s/bt_plain %s"):format(tools, path)):read("*a")
local fe = require("gt.json").decode(a).stats.final_equity
print(("  final equity: gtengine %.2f, plain C %s -> %s"):format(fe, b:gsub("%s+$", ""),
  ("%.2f"):format(fe) == b:gsub("%s+$", "") and "same" or "DIFFERENT"))

-- The headline comparison: the plain-C anchor in ../shared/bench (sma_c.c, see its README)
-- against the exact command of that README, with --json and with the run saved (to a
-- throwaway database, removed before each run), and without --json. The anchor is
-- compiled here as its README says; the 1M-bar file comes from its generator, cached
-- under build/. Best of 3 wall times each, the commands taking turns.
local shared = (os.getenv("GT_SHARED") or "../shared") .. "/bench"
local function exists(p) local h = io.open(p, "r"); if h then h:close() end; return h ~= nil end
print("\nthe anchor (" .. shared .. "/sma_c.c) against `gtengine backtest` on its 1,000,000-bar file")
if not (exists(shared .. "/sma_c.c") and exists(shared .. "/gen_ohlcv.py")) then
  print("  skipped: " .. shared .. "/sma_c.c or gen_ohlcv.py is missing (the reference data is not checked out)")
  return
end
local build = os.getenv("BUILD_DIR") or "build"
os.execute("mkdir -p '" .. build .. "/bench-data'")
local anchor = build .. "/bench-data/sma_c"
local data = build .. "/bench-data/ohlcv_1m.csv"
local db = build .. "/bench-data/throwaway.db"
local cc = os.getenv("CC") or "cc"
if os.execute(("%s -O2 -o '%s' '%s/sma_c.c' -lm"):format(cc, anchor, shared)) ~= 0 then
  print("  skipped: compiling the anchor with " .. cc .. " failed")
  return
end
if not exists(data) and os.execute(("python3 '%s/gen_ohlcv.py' 1000000 '%s' >/dev/null"):format(shared, data)) ~= 0 then
  os.remove(data)
  print("  skipped: python3 " .. shared .. "/gen_ohlcv.py could not write " .. data)
  return
end
local cmd = ("%s backtest --strategy sma_cross --data %s --capital 1000000 --size 1 --commission 0 "
  .. "--slippage-bps 0 --fill close --db %s"):format(exe, data, db)
local runs = {
  { name = "anchor (plain C)", cmd = anchor .. " " .. data },
  { name = "gtengine --json, saved", cmd = cmd .. " --json" },
  { name = "gtengine, saved", cmd = cmd },
}
for _, r in ipairs(runs) do r.best = math.huge end
for _ = 1, 3 do
  for _, r in ipairs(runs) do
    os.remove(db); os.remove(db .. "-wal"); os.remove(db .. "-shm")
    local t0 = now()
    os.execute(r.cmd .. " >/dev/null")
    r.best = math.min(r.best, now() - t0)
  end
end
for _, r in ipairs(runs) do
  print(("  %-24s %6.3f s   ratio to the anchor %.2fx"):format(r.name, r.best, r.best / runs[1].best))
end
local a = io.popen(runs[1].cmd):read("*a"):match("final_equity=([%d%.%-]+)")
local doc = require("gt.json").decode(io.popen(cmd .. " --json --no-save"):read("*a"))
local g = doc and ("%.6f"):format(doc.stats.final_equity)
print(("  final equity: anchor %s, gtengine %s -> %s"):format(tostring(a), tostring(g), a == g and "same" or "DIFFERENT"))
os.remove(db); os.remove(db .. "-wal"); os.remove(db .. "-shm")
