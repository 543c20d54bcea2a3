-- Channel breakout (the seed's BreakoutStrategy): long when the close exceeds the highest
-- high of the previous `lookback` bars, exit (or short) when it falls below the lowest low.
local gt = require "gt"

return {
  name = "breakout",
  description = "long above the previous lookback-bar high, exit below the previous low",
  params = { lookback = 20, short = false },
  grid = { lookback = { 15, 20, 25 } }, -- the seed's; its confirm_bars and stop_loss are not parameters here
  plot = { "high", "low" }, -- indicator lines drawn on the report's price chart

  indicators = function(d, p)
    return { high = gt.ind.highest(d.high, p.lookback, d.n), low = gt.ind.lowest(d.low, p.lookback, d.n) }
  end,

  rule = function(d, ind, i, p)
    local c = d.close[i]
    if c > ind.high[i - 1] then return 1 end
    if c < ind.low[i - 1] then return p.short and -1 or 0 end
  end,
}
