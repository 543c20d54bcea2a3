-- risk_e2e_bench.lua: the 1,000,000-bar sma_cross backtest with every order through the risk
-- gate (and its breakers fed every bar) against the same run without it: wall time of the
-- whole command, best of 3, as separate processes. The gate refuses nothing here (size 0.15
-- under the default preset's 0.2 max position), so the difference is the cost of checking.
local gt = require "gt"
local now = require("gt.ffi").C.gt_clock_seconds
local exe = os.getenv("GTENGINE") or "./gtengine"
local path = "/tmp/gt_bench_1m_risk.csv"

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
    os.execute(cmd .. " >/dev/null")
    b = math.min(b, now() - t0)
  end
  return b
end

local base = ("%s backtest --strategy sma_cross --data %s --size 0.15 --no-save"):format(exe, path)
local off = best(base)
local on = best(base .. " --risk default")
print(("1,000,000 bars, sma_cross, whole command, best of 3: gate off %.3f s, gate on %.3f s, ratio %.2fx")
  :format(off, on, on / off))
