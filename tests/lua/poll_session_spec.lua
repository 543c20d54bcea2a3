-- A paper session on a polled feed: Coinbase-shaped one-minute candles from the loopback
-- fakehttp server, on a simulated clock. History warms the session up and never trades;
-- each poll appends the bars completed since, and the session trades them (the broker's
-- arrays grow with gt_bt_extend). Bar i starts at T0 + 60 i s, T0 = 2024-03-01T12:00:00Z.
local gt = require "gt"
local t = require "tests.lua.support"
local fake = dofile("tests/lua/fixtures/providers/server.lua")

local SEC = 1000000
local T0 = 1709294400 * SEC
local function bar_t(i) return T0 + 60 * SEC * i end

local function candles(base, from, to)
  local out = {}
  for i = to, from, -1 do
    local o = base + (i % 7) -- a saw-tooth, so the strategy below trades
    out[#out + 1] = ('{"start":"%d","low":"%.2f","high":"%.2f","open":"%.2f","close":"%.2f","volume":"%d"}')
      :format(bar_t(i) / SEC, o - 1, o + 1, o, o + 0.5, 10 + i)
  end
  return '{"candles":[' .. table.concat(out, ",") .. "]}"
end

-- long on even bars, flat on odd ones: an order every bar once trading starts
local flip = { name = "flip", lookback = 0, rule = function(_, _, i) return i % 2 == 0 and 1 or 0 end }

describe("a paper session on a poll feed", function()
  if not fake.available() then
    it("needs the fakehttp server", function() pending("build " .. fake.bin .. " (make test builds it)") end)
    return
  end
  local srv
  after_each(function() if srv then srv:stop(); srv = nil end end)

  it("warms up on history, then trades each completed bar as the polls bring it", function()
    srv = fake.start("route /api/v3/brokerage/market/products/BTC-USD/candles\nrespond 200\nbody "
      .. candles(100, 0, 120) .. "\n")
    local clock = gt.clock.sim(bar_t(60) + 30 * SEC) -- bars 0..59 complete, 60 in progress
    local db = t.tmpdir() .. "/poll.db"
    local wf = gt.workflow.from_table({ mode = "paper", symbols = { "BTC-USD" }, timeframe = "1m", db = db,
      strategy = flip, regime = false, risk = false, capital = 10000,
      sizing = { method = "fixed", fixed_fraction = 0.5, max_position = 0.5 },
      feed = { kind = "poll", provider = "coinbase", history = 60, base_url = srv.url, warmup = 0 },
      monitor = { progress = false } }, "spec/poll.lua")
    local sess = assert(gt.orchestrator.new(wf, { quiet = true, clock = clock, max_polls = 5 }))
    local orders = {}
    sess.bus:subscribe("order", function(ev) orders[#orders + 1] = ev end)
    local sm = assert(sess:run())
    clock:close()
    assert.equal(65, sm.cycles) -- 60 bars of history, then one completed bar per poll
    assert.equal(bar_t(64), sm.last)
    assert.is_true(#orders >= 4, "orders " .. #orders)
    for _, o in ipairs(orders) do
      assert.is_true(o.ts >= bar_t(60), "an order on a history bar at " .. gt.time.format(o.ts, false))
    end
    -- the books: the last bar (64, even) is long
    assert.equal(1, #sm.positions)
    local J = assert(gt.journal.open(db, { readonly = true }))
    local fills = assert(J:query { session = sm.session, type = "fill" })
    J:close()
    assert.equal(sm.fills, #fills)
    assert.equal(#orders, sm.orders)
  end)

  it("resumes on a later history: the committed bar is found by its time, journal cycles go on", function()
    srv = fake.start("route /api/v3/brokerage/market/products/BTC-USD/candles\nrespond 200\nbody "
      .. candles(100, 0, 200) .. "\n")
    local db = t.tmpdir() .. "/poll2.db"
    local def = { mode = "paper", symbols = { "BTC-USD" }, timeframe = "1m", db = db, strategy = flip,
      regime = false, risk = false, sizing = { method = "fixed", fixed_fraction = 0.5, max_position = 0.5 },
      feed = { kind = "poll", provider = "coinbase", history = 60, base_url = srv.url, warmup = 0 },
      monitor = { progress = false } }
    local c1 = gt.clock.sim(bar_t(60) + 30 * SEC)
    local s1 = assert(gt.orchestrator.new(gt.workflow.from_table(def, "spec/poll.lua"), { quiet = true, clock = c1, max_polls = 3 }))
    local sm1 = assert(s1:run())
    c1:close()
    assert.equal(bar_t(62), sm1.last)
    -- restarted 5 minutes later: history is bars 5..64 now; bars 63 and 64 trade on resume's polls
    local c2 = gt.clock.sim(bar_t(65) + 30 * SEC)
    local s2 = assert(gt.orchestrator.new(gt.workflow.from_table(def, "spec/poll.lua"), { quiet = true, clock = c2, max_polls = 2 }))
    local sm2 = assert(s2:run())
    c2:close()
    assert.equal(sm1.session, sm2.session)
    assert.equal(bar_t(66), sm2.last)
    local J = assert(gt.journal.open(db, { readonly = true }))
    local eq = assert(J:query { session = sm2.session, type = "equity" })
    J:close()
    -- one equity event per bar 0..66, each bar once, in order
    assert.equal(67, #eq)
    for k = 2, #eq do assert.equal(eq[k - 1].ts + 60 * SEC, eq[k].ts) end
  end)

  it("refuses a poll feed outside paper and live mode, naming the key", function()
    local ok, err = pcall(gt.workflow.from_table, { mode = "backtest",
      feed = { kind = "poll", provider = "coinbase" } }, "spec/poll.lua")
    assert.is_false(ok)
    assert.matches("key 'feed.kind': a poll feed is for paper and live sessions", err, 1, true)
  end)
end)
