-- Mean reversion on Bollinger bands (the seed's MeanReversionStrategy): buy when the close
-- is at or below SMA - k sd, sell at or above SMA + k sd. sd is the sample standard
-- deviation (ddof = 1) as in the seed.
local gt = require "gt"

return {
  name = "mean_reversion",
  description = "buy at the lower Bollinger band, sell at the upper (sample sd, ddof 1)",
  params = { period = 20, num_std = 2.0, short = false },
  grid = { period = { 15, 20, 25 }, num_std = { 1.5, 2.0, 2.5 } },
  plot = { "mid" }, -- indicator lines drawn on the report's price chart

  indicators = function(d, p)
    local n = d.n
    local mid = gt.ind.sma(d.close, p.period, n)
    return { mid = mid, sd = gt.ind.stddev(d.close, { period = p.period, ddof = 1, n = n }) }
  end,

  rule = function(d, ind, i, p)
    local c, m, band = d.close[i], ind.mid[i], p.num_std * ind.sd[i]
    if c <= m - band then return 1 end
    if c >= m + band then return p.short and -1 or 0 end
  end,
}
