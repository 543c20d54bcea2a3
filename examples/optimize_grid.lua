-- examples/optimize_grid.lua: a parameter search from a script: sma_cross's own grid on
-- synthetic data, the best combinations, and how much to trust the best one (the deflated
-- Sharpe ratio and the probability of backtest overfitting).
--   gtengine run examples/optimize_grid.lua
local gt = require "gt"

local s = gt.data.synthetic { n = 1500, seed = 8, symbol = "SYNTH" }
local r = assert(gt.optimize.grid { strategy = "sma_cross", data = s, objective = "sharpe" })
print(("%d combinations evaluated (%d skipped by the fast < slow constraint)"):format(r.evaluated, r.skipped or 0))
for k = 1, 5 do
  local x = r.results[k]
  print(("%d. fast=%-3d slow=%-3d sharpe %6.2f  return %7.2f%%  max DD %6.2f%%"):format(k, x.params.fast,
    x.params.slow, x.stats.sharpe, x.stats.return_pct, x.stats.max_drawdown_pct))
end
print(("deflated Sharpe ratio of the best: %.3f (the chance its Sharpe beats the best of %d unskilled tries)")
  :format(r.dsr, r.evaluated))
print(("probability of backtest overfitting: %s"):format(r.pbo == r.pbo and ("%.3f"):format(r.pbo) or "n/a"))
