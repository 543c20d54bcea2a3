-- examples/exits_in_a_rule.lua: stops and take-profits in the vectorised form. A rule
-- returns a target and, optionally, a stop and a take-profit price for the position that
-- target opens; or the run sets stop_pct / take_pct for every entry. The exits are simulated
-- in C, identically in the vectorised and the event path.
--   ./gtengine run examples/exits_in_a_rule.lua
local gt = require "gt"

local strategy = {
  name = "breakout_with_exits",
  params = { lookback = 20, stop_atr = 2, take_atr = 4 },
  indicators = function(d, p)
    return { hi = gt.ind.highest(d.high, p.lookback, d.n), atr = gt.ind.atr(d, 14) }
  end,
  -- long on a close above the previous 20-bar high; stop 2 ATR below, target 4 ATR above
  rule = function(d, ind, i, p)
    if d.close[i] > ind.hi[i - 1] then
      local c, a = d.close[i], ind.atr[i]
      return 1, c - p.stop_atr * a, c + p.take_atr * a
    end
  end,
}

local s = gt.data.synthetic { n = 2520, seed = 7 }
for _, mode in ipairs { "vector", "event" } do
  local r = assert(gt.backtest.run(strategy, s, { mode = mode }))
  print(("%-6s path: %d trades, return %.2f%%, final equity %.2f"):format(mode, r.stats.num_trades,
    r.stats.return_pct, r.stats.final_equity))
end
-- the same idea with fixed distances for every entry of a shipped strategy
local r = assert(gt.backtest.run("sma_cross", s, { stop_pct = 0.05, take_pct = 0.15 }))
print(("sma_cross with a 5%% stop and a 15%% target: %d trades, return %.2f%%"):format(r.stats.num_trades,
  r.stats.return_pct))
