-- examples/bracket_strategy.lua: an event-driven strategy written inline, using bracket
-- orders (entry with a take-profit and a stop-loss, one cancelling the other).
--   ./gtengine run examples/bracket_strategy.lua
-- Copy the table into strategies/NAME.lua (returning it) to use it from the CLI.
local gt = require "gt"

local strategy = {
  name = "rsi_bracket",
  description = "buy when RSI(14) turns up through 30; exit at +6% or -3%",
  params = { period = 14, level = 30, take = 0.06, stop = 0.03 },

  indicators = function(d, p)
    return { rsi = gt.ind.rsi(d, p.period) }
  end,

  on_bar = function(ctx, i)
    local p, rsi = ctx.params, ctx.ind.rsi
    ctx.state.entries = ctx.state.entries or 0 -- ctx.state keeps the strategy's own variables
    if ctx.position.size == 0 and rsi[i - 1] < p.level and rsi[i] >= p.level then
      local price = ctx.data.close[i]
      -- 95% of equity in whole units, with a bracket: take-profit and stop-loss legs
      if ctx:buy { fraction = 0.95, take = price * (1 + p.take), stop = price * (1 - p.stop) } then
        ctx.state.entries = ctx.state.entries + 1
      end
    end
  end,
}

local s = gt.data.synthetic { n = 2520, seed = 3 }
local r = assert(gt.backtest.run(strategy, s, { mode = "event" }))
print(("%s: %d trades, win rate %.1f%%, return %.1f%%, profit factor %.2f"):format(strategy.name,
  r.stats.num_trades, r.stats.win_rate_pct, r.stats.return_pct, r.stats.profit_factor))
local exits = { filled = 0, canceled = 0 }
for _, o in ipairs(r.orders) do
  if o.type ~= "market" then exits[o.status] = (exits[o.status] or 0) + 1 end
end
print(("bracket legs: %d filled, %d cancelled by their sibling"):format(exits.filled, exits.canceled))
