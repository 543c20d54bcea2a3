-- Low-volatility trend entry (the seed's VolatilityStrategy): only while the rolling sd of
-- daily returns (sample, ddof 1) is below vol_threshold, go long when the `period`-bar
-- return is above +1% and exit (or short) when it is below -1%.
local gt = require "gt"

return {
  name = "volatility",
  description = "in quiet markets, follow the period return beyond +/-1%",
  params = { period = 20, vol_threshold = 0.02, move = 0.01, short = false },
  grid = { period = { 15, 20, 25 }, vol_threshold = { 0.015, 0.02, 0.025 } },

  indicators = function(d, p)
    local n = d.n
    local r = gt.ind.pct_change(d.close, 1, n)
    return { vol = gt.ind.stddev(r, { period = p.period, ddof = 1, n = n }),
      change = gt.ind.pct_change(d.close, p.period, n) }
  end,

  rule = function(d, ind, i, p)
    if not (ind.vol[i] < p.vol_threshold) then return nil end
    local m = ind.change[i]
    if m > p.move then return 1 end
    if m < -p.move then return p.short and -1 or 0 end
  end,
}
