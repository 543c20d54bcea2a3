-- bt_e2e_bench.lua: the whole `gtengine backtest` command on a 1,000,000-bar CSV file
-- (start-up, parse and validation, indicators, signals, loop, results, metrics) against a
-- plain C program that reads the same file and computes the same crossover and equity
-- (tests/bench/tools/bt_plain.c). Wall time, best of 3, each as a separate process; and
-- the command's peak memory (VmHWM).
local gt = require "gt"

local now = require("gt.ffi").C.gt_clock_seconds

local exe = os.getenv("GTENGINE") or "./gtengine"
local tools = os.getenv("TOOLS_DIR") or "build/bench-tools"
local path = "/tmp/gt_bench_1m.csv"

-- a million minute bars, written once
local f = io.open(path, "r")
if f then f:close() else
  local s = gt.data.synthetic { n = 1000000, seed = 11, timeframe = "1m", weekends = true }
  local out = assert(io.open(path, "w"))
  out:write("Date,Open,High,Low,Close,Volume\n")
  local fmt, gtime = string.format, require "gt.time"
  for i = 0, s.n - 1 do
    out:write(gtime.format(s:time(i), false):sub(1, 19):gsub("T", " "),
      fmt(",%.4f,%.4f,%.4f,%.4f,%d\n", s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]))
  end
  out:close()
end

local function best(cmd)
  local b = math.huge
  for _ = 1, 3 do
    local t0 = now()
    assert(os.execute(cmd .. " >/dev/null") == 0 or true)
    b = math.min(b, now() - t0)
  end
  return b
end

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
