-- examples/multi_timeframe.lua: resample, align two symbols on one clock, returns.
--   ./gtengine run examples/multi_timeframe.lua
local gt = require "gt"

local a = gt.data.synthetic { n = 1000, seed = 1, symbol = "AAA" }
local b = gt.data.synthetic { n = 1000, seed = 2, symbol = "BBB", start = "2015-03-02" }

local weekly = a:resample("1w")    -- dated on each week's last trading day
local monthly = a:resample("1mo")
print(a); print(weekly); print(monthly)

-- inner: only common timestamps; outer: forward-fill gaps (and mark them)
local both = gt.data.align({ a, b })
print(("aligned on %d common bars from %s"):format(both[1].n, gt.time.format(both[1]:time(0))))

-- correlation of daily returns
local ra, rb = both[1]:returns(), both[2]:returns()
local n, sa, sb, saa, sbb, sab = 0, 0, 0, 0, 0, 0
for i = 1, both[1].n - 1 do
  local x, y = ra[i], rb[i]
  n, sa, sb, saa, sbb, sab = n + 1, sa + x, sb + y, saa + x * x, sbb + y * y, sab + x * y
end
local corr = (sab - sa * sb / n) / math.sqrt((saa - sa * sa / n) * (sbb - sb * sb / n))
print(("correlation of daily returns: %.3f"):format(corr))
