-- Mean reversion on Bollinger bands (the seed's MeanReversionStrategy): buy when the close
-- is at or below SMA - k sd, sell at or above SMA + k sd. sd is the sample standard
-- deviation (ddof = 1) as in the seed; the kernel's population sd is rescaled.
local gt = require "gt"

return {
  name = "mean_reversion",
  description = "buy at the lower Bollinger band, sell at the upper (sample sd, ddof 1)",
  params = { period = 20, num_std = 2.0, short = false },
  grid = { period = { 15, 20, 25 }, num_std = { 1.5, 2.0, 2.5 } },

  indicators = function(d, p)
    local n = d.n
    local mid = gt.ind.sma(d.close, p.period, n)
    local sd = gt.ind.stddev(d.close, p.period, n)
    local k = math.sqrt(p.period / (p.period - 1)) -- population -> sample sd
    for i = 0, n - 1 do sd[i] = sd[i] * k end
    return { mid = mid, sd = sd }
  end,

  rule = function(d, ind, i, p)
    local c, m, band = d.close[i], ind.mid[i], p.num_std * ind.sd[i]
    if c <= m - band then return 1 end
    if c >= m + band then return p.short and -1 or 0 end
  end,
}
