-- workflows/backtest.lua: the same cycle as paper trading, run bar by bar over history at
-- full speed, so what is tested is what trades. The journal is off by default (turn it on
-- to audit a backtest like a session; it is then batched).
--
--   gtengine run backtest
--   gtengine run backtest --strategy momentum --symbols AAA,BBB
return {
  name = "backtest",
  description = "the trading cycle over ten years of synthetic daily bars",
  mode = "backtest",
  symbols = { "SYNTH" },
  capital = 10000,
  data = { source = "synthetic", bars = 2520, seed = 42, first = "2015-01-02" },
  broker = { kind = "sim", commission = 0.001, slippage = 0.0005, fill = "next_open" },
  strategy = "sma_cross",
  regime = { method = "rules" },
  sizing = { method = "fixed", max_position = 0.95, fixed_fraction = 0.95 },
  risk = false,
  journal = { enabled = false },
}
