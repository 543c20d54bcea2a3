-- bt_bench.lua: sma_cross (10/30) over 1,000,000 bars through both paths from Lua:
-- the vectorised path (signals once, loop in C) and the event path (on_bar in Lua per bar,
-- matching and accounting in C). Prints bars/s; the C-only comparison is bt_bench.
local gt = require "gt"

local now = require("gt.ffi").C.gt_clock_seconds

local N = 1000000
-- minute bars keep a million-bar random walk at realistic prices
local s = gt.data.synthetic { n = N, seed = 7, timeframe = "1m", weekends = true }
local opts = { commission = 0, slippage_bps = 0, size = 1 }

local function best(mode)
  local b, r = math.huge, nil
  for _ = 1, 3 do
    collectgarbage()
    local t0 = now()
    opts.mode = mode
    r = gt.backtest.run("sma_cross", s, opts)
    b = math.min(b, now() - t0)
  end
  return b, r
end

local tv, rv = best("vector")
local te, re = best("event")
print(("sma_cross 10/30 over %d bars, whole gt.backtest.run (indicators, loop, results, metrics), best of 3"):format(N))
print(("  vectorised path: %6.1f M bars/s  (%.1f ms, %d trades)"):format(N / tv / 1e6, tv * 1e3, #rv.trades))
print(("  event path:      %6.1f M bars/s  (%.1f ms, on_bar in Lua per bar)"):format(N / te / 1e6, te * 1e3))
print(("  loop alone: vectorised %6.1f M bars/s (signals %.1f ms + C loop %.1f ms); event %6.1f M bars/s (%.1f ms)")
  :format(N / (rv.timings.loop + rv.timings.signals) / 1e6, rv.timings.signals * 1e3, rv.timings.loop * 1e3,
    N / re.timings.loop / 1e6, re.timings.loop * 1e3))
print(("  same final equity: %s"):format(rv.equity[N - 1] == re.equity[N - 1] and "yes" or "NO"))
