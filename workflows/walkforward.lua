-- workflows/walkforward.lua: walk-forward optimisation of sma_cross: the best parameters of
-- each 252-bar training window traded on the 63 bars after it, out of sample.
return {
  name = "walkforward",
  mode = "optimize",
  symbols = { "SYNTH" },
  data = { source = "synthetic", bars = 1260, seed = 3, first = "2019-01-02" },
  optimize = { strategy = "sma_cross", objective = "sharpe", walkforward = { train = 252, test = 63 } },
}
