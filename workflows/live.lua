-- workflows/live.lua: live trading through Alpaca's v2 REST API. The same cycle as paper
--   data -> analyze -> regime -> select -> signal -> size -> risk -> execute -> monitor
-- with the orders sent to the broker instead of the simulated one: each order passes the
-- risk gate (the "live" preset), is written to the journal, then sent with a client_order_id
-- that makes it idempotent; fills come back from the broker's FILL activities. Before it
-- trades, the session reconciles its books with the broker's positions and open orders, and
-- stops HALTED with a report if they disagree. Killed at any moment, the same command
-- resumes it without losing or doubling an order.
--
-- Keys: APCA_API_KEY_ID and APCA_API_SECRET_KEY in the environment, or a file
-- ~/.config/gtengine/alpaca.json {"key_id": "...", "secret_key": "..."} with chmod 600.
-- It trades Alpaca's PAPER endpoint (https://paper-api.alpaca.markets) unless
-- broker.paper = false; APCA_API_BASE_URL or broker.base_url points it elsewhere.
--
--   gtengine run live --dry-run                 # reads the account and market, sends nothing
--   gtengine run live --symbols SPY --capital 5000 --db live.db
--   gtengine run live --feed replay --data bars.csv --speed 100x --cycles 50   # a rehearsal
--   gtengine halt --db live.db                  # the kill switch: cancels every open order
--   gtengine status --db live.db ; gtengine journal --db live.db --type order,fill
return {
  name = "live",
  description = "live trading on Alpaca (its paper account by default): sma_cross, the live risk preset",
  mode = "live",
  symbols = { "SPY" },
  capital = 10000,             -- the session's budget: sizing works from it, not the account's equity
  timeframe = "5m",
  -- the feed: Alpaca's bars, polled; only completed bars trade, during market hours
  feed = { kind = "poll", provider = "alpaca", interval = 30, history = 300, calendar = "us_equity",
    warmup = 60 },
  broker = {
    kind = "alpaca",
    paper = true,              -- false: the live endpoint, real money
    dry_run = false,           -- true (or --dry-run): everything but sending orders
    -- base_url = "https://paper-api.alpaca.markets", key_file = "~/.config/gtengine/alpaca.json",
    -- rate_per_min = 180 (under Alpaca's 200), timeout = 20 (seconds), trace = false (--trace-http)
  },
  strategy = "sma_cross",
  params = { sma_cross = { fast = 10, slow = 30 } },
  sizing = { method = "fixed", fixed_fraction = 0.15, max_position = 0.2 },
  risk = "live",               -- max 20 % a position, 80 % gross, $50k an order, 2 % daily loss, ...
  monitor = { progress = true },
  journal = { enabled = true, batch = 1000 },
}
