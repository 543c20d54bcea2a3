-- Trend following (the seed's adaptive-portfolio rule): long while SMA10 > SMA30 > SMA50
-- and the close is above SMA10; flat as soon as that stack breaks.
local gt = require "gt"

return {
  name = "trend_following",
  description = "long while SMA(fast) > SMA(mid) > SMA(slow) and price > SMA(fast)",
  params = { fast = 10, mid = 30, slow = 50 },
  grid = { fast = { 5, 10, 15 }, mid = { 20, 30, 40 }, slow = { 50, 100, 200 } },
  plot = { "fast", "mid", "slow" }, -- indicator lines drawn on the report's price chart

  indicators = function(d, p)
    local n = d.n
    return { fast = gt.ind.sma(d.close, p.fast, n), mid = gt.ind.sma(d.close, p.mid, n),
      slow = gt.ind.sma(d.close, p.slow, n) }
  end,

  rule = function(d, ind, i)
    local f, m, s = ind.fast[i], ind.mid[i], ind.slow[i]
    if f > m and m > s and d.close[i] > f then return 1 end
    return 0
  end,
}
