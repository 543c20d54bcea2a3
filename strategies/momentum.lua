-- Momentum (the seed's MomentumStrategy): a level signal on the return over `lookback`
-- bars: long while it is above +threshold, out (or short) while below -threshold.
local gt = require "gt"

return {
  name = "momentum",
  description = "long while the lookback return > threshold, exit (or short) below -threshold",
  params = { lookback = 20, threshold = 0.02, short = false },
  grid = { lookback = { 10, 20, 30 }, threshold = { 0.01, 0.02, 0.03 } },

  indicators = function(d, p)
    return { change = gt.ind.pct_change(d.close, p.lookback, d.n) }
  end,

  rule = function(d, ind, i, p)
    local m = ind.change[i]
    if m > p.threshold then return 1 end
    if m < -p.threshold then return p.short and -1 or 0 end
  end,
}
