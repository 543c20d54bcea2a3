-- benchlib.lua: what the whole-command benchmarks share (loaded with dofile from the repo
-- root, as `make bench` runs them): a deterministic synthetic minute-bar CSV, written once,
-- and the best wall time of a command over repeated runs as separate processes.
local gt = require "gt"
local M = {}

M.now = require("gt.ffi").C.gt_clock_seconds

-- n synthetic minute bars (seed 11) at path, unless the file is already there.
function M.csv(path, n)
  local f = io.open(path, "r")
  if f then f:close(); return path end
  local s = gt.data.synthetic { n = n, seed = 11, timeframe = "1m", weekends = true }
  local out = assert(io.open(path, "w"))
  out:write("Date,Open,High,Low,Close,Volume\n")
  local fmt, gtime = string.format, require "gt.time"
  for i = 0, s.n - 1 do
    out:write(gtime.format(s:time(i), false):sub(1, 19):gsub("T", " "),
      fmt(",%.4f,%.4f,%.4f,%.4f,%d\n", s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]))
  end
  out:close()
  return path
end

-- The best wall time of cmd (stdout discarded) over reps runs (3).
function M.best(cmd, reps)
  local b = math.huge
  for _ = 1, reps or 3 do
    local t0 = M.now()
    os.execute(cmd .. " >/dev/null")
    b = math.min(b, M.now() - t0)
  end
  return b
end

-- The median and best wall times of cmd (stdout discarded) over reps runs (3): on a
-- machine shared with other work the best flatters and one slow run skews a mean.
function M.median(cmd, reps)
  local ts = {}
  for i = 1, reps or 3 do
    local t0 = M.now()
    os.execute(cmd .. " >/dev/null")
    ts[i] = M.now() - t0
  end
  table.sort(ts)
  return ts[math.floor((#ts + 1) / 2)], ts[1]
end

-- The 1-minute load average, to print beside times measured on a shared machine.
function M.load()
  local f = io.open("/proc/loadavg", "r")
  if not f then return "?" end
  local l = f:read("*l") or "?"
  f:close()
  return l:match("^(%S+)") or "?"
end

return M
