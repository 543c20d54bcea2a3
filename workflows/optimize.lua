-- workflows/optimize.lua: a grid search of sma_cross's own grid on each symbol, with the
-- deflated Sharpe ratio and the probability of backtest overfitting beside the best.
-- For the full command line (progress, saved runs, shards): gtengine optimize --help.
return {
  name = "optimize",
  mode = "optimize",
  symbols = { "SYNTH" },
  data = { source = "synthetic", bars = 1260, seed = 3, first = "2019-01-02" },
  optimize = { strategy = "sma_cross", objective = "sharpe" },
}
