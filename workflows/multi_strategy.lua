-- workflows/multi_strategy.lua: an ensemble. Each symbol's target is the mean of the
-- listed strategies' stances (+1, 0, -1), so capital splits across them; with tiers on,
-- the account-size tier decides which of them may vote, the size cap per position and the
-- gate's daily loss limit and position count.
--
--   gtengine run multi_strategy --capital 50000
return {
  name = "multi_strategy",
  description = "sma_cross, momentum and mean_reversion voting, split by the tier rules",
  mode = "paper",
  symbols = { "ALPHA", "BRAVO" },
  capital = 20000,
  data = { source = "synthetic", bars = 504, seed = 11, first = "2023-01-03" },
  strategy = { "sma_cross", "momentum", "mean_reversion" },
  sizing = { method = "fixed", max_position = 0.3, fixed_fraction = 0.3 },
  risk = "paper",
  tiers = true,
}
