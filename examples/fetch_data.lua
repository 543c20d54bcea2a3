-- examples/fetch_data.lua: market data from a provider into the store, then analysed.
-- Coinbase's public candles need no key; a second run asks only for bars it does not have.
-- Offline (or in CI, which has no network) it says why and stops: nothing is made up.
--   gtengine run examples/fetch_data.lua [SYMBOL] [DB]
local gt = require "gt"

local symbol, db = arg[1] or "BTC-USD", arg[2] or os.tmpname()
local start = gt.time.format(gt.time.now() - 90 * gt.time.DAY) -- the last 90 days
local s, err = gt.data.fetch { provider = "coinbase", symbol = symbol, timeframe = "1d", start = start, db = db }
if not s then
  print(("could not fetch %s from coinbase: %s"):format(symbol, err))
  print("(this example needs the network; with your own files use gtengine data import)")
  if not arg[2] then os.remove(db) end
  return
end
print(("%s: %d daily bars from %s to %s, stored in %s"):format(symbol, s.n, gt.time.format(s.ts[0]),
  gt.time.format(s.ts[s.n - 1]), db))
local a = assert(gt.analyze.symbol(s))
print(("last close %.2f; trend %s, volatility %s, momentum %s; recommendation %s (confidence %.2f)")
  :format(s.close[s.n - 1], a.trend, a.volatility, a.momentum, a.recommendation, a.confidence))
