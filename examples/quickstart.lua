-- examples/quickstart.lua: data -> indicators -> backtest -> report, in a dozen lines.
--   ./gtengine run examples/quickstart.lua [prices.csv]
local gt = require "gt"

-- Your CSV file, or ten years of built-in synthetic daily bars.
local s = arg[1] and assert(gt.data.load(arg[1])) or gt.data.synthetic { n = 2520, seed = 7 }
print(s)

-- Indicators are FFI arrays as long as the series (NaN during warm-up).
local rsi = gt.ind.rsi(s, 14)
local bb = gt.ind.bbands(s, 20, 2)
local last = s.n - 1
print(("close %.2f  RSI14 %.1f  Bollinger %.2f .. %.2f"):format(s.close[last], rsi[last], bb.lower[last], bb.upper[last]))

-- A backtest with the engine's defaults (next-open fills, 0.1% commission, 5 bps slippage).
local r = assert(gt.backtest.run("sma_cross", s, { params = { fast = 20, slow = 50 } }))
print(("sma_cross 20/50: return %.1f%%, Sharpe %.2f, max drawdown %.1f%%, %d trades"):format(
  r.stats.return_pct, r.stats.sharpe, r.stats.max_drawdown_pct, r.stats.num_trades))

os.execute("mkdir -p out")
assert(r:report("out/quickstart.html"))
print("report: out/quickstart.html")
