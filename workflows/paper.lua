-- workflows/paper.lua: a paper-trading session, the main job. Every cycle runs
--   data -> analyze -> regime -> select -> signal -> size -> risk -> execute -> monitor
-- against the simulated broker, with the seed's paper costs, the risk gate and its
-- breakers; every event and the books go to the journal in the database once per cycle,
-- so a killed session resumes where it stopped when the same command runs again.
--
--   gtengine run paper                                 # sample data, no network, seconds
--   gtengine run workflows/paper.lua --symbols AAA,BBB --capital 50000 --db run.db
--   gtengine journal --db run.db --type order          # what it did
--   gtengine status --db run.db                        # where it stands
--
-- Copy this file to ./workflows/my_paper.lua next to your strategies/ and edit it. Every
-- key below is optional (the value shown is the default unless marked); an unknown key or
-- a wrong value is an error naming this file and the key.
return {
  name = "paper",
  description = "paper trading on replayed sample data: sma_cross, the paper risk preset",
  mode = "paper",
  symbols = { "ALPHA", "BRAVO", "CHARLIE" }, -- default { "SYNTH" }
  capital = 100000,
  timeframe = "1d",
  -- data: "synthetic" (deterministic regime-switching bars made by the engine), "csv"
  -- (files = { SYMBOL = "path.csv" } or "dir/{symbol}.csv") or "store" (bars imported with
  -- gtengine data import/fetch into the database)
  data = { source = "synthetic", bars = 504, seed = 7, first = "2023-01-03" },
  -- the feed replays the data one cycle per bar; speed = N paces it N times faster than
  -- real time (0: as fast as possible); the first `warmup` bars only warm indicators up
  feed = { kind = "replay", speed = 0, warmup = 60 },
  broker = { kind = "sim", commission = 0.001, slippage = 0.0005, fill = "close", fractional = false, short = false },
  strategy = "sma_cross",                -- a name, a list (an ensemble), or "ml"
  params = { sma_cross = { fast = 10, slow = 30 } },
  regime = { method = "rules" },         -- rules | hmm | ensemble | false
  sizing = { method = "fixed", fixed_fraction = 0.15, max_position = 0.2 }, -- 15 % of equity a position
  risk = "paper",                        -- a gt.risk preset or a table of limits
  tiers = false,
  monitor = { progress = true },
  journal = { enabled = true, batch = 1000 },
}
