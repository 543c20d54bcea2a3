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

  it("a live session on the poll feed: orders go to the broker, its fills come back into the books", function()
    local alpaca = dofile("tests/lua/fixtures/broker/fakealpaca.lua")
    if not alpaca.available() then pending("build " .. alpaca.bin .. " (make test builds it)"); return end
    srv = fake.start("route /api/v3/brokerage/market/products/BTC-USD/candles\nrespond 200\nbody "
      .. candles(100, 0, 120) .. "\n")
    local b = assert(alpaca.start("market open\nprice BTC-USD 103 104 105 106 107 108\nstep-every 2\n"))
    local ffi = require "ffi"
    pcall(ffi.cdef, "int setenv(const char *, const char *, int);")
    -- the broker takes the keys from the environment and wipes the variables
    ffi.C.setenv("APCA_API_KEY_ID", alpaca.KEY_ID, 1)
    ffi.C.setenv("APCA_API_SECRET_KEY", alpaca.SECRET, 1)
    local clock = gt.clock.sim(bar_t(60) + 30 * SEC)
    local db = t.tmpdir() .. "/live.db"
    local wf = gt.workflow.from_table({ mode = "live", symbols = { "BTC-USD" }, timeframe = "1m", db = db,
      strategy = flip, regime = false, risk = "off", capital = 10000,
      sizing = { method = "fixed", fixed_fraction = 0.5, max_position = 0.5 },
      broker = { kind = "alpaca", base_url = b.url },
      feed = { kind = "poll", provider = "coinbase", history = 60, base_url = srv.url, warmup = 0 },
      monitor = { progress = false } }, "spec/live.lua")
    local sess = assert(gt.orchestrator.new(wf, { quiet = true, clock = clock, max_polls = 6 }))
    local sm = assert(sess:run())
    clock:close()
    assert.is_nil(os.getenv("APCA_API_SECRET_KEY"))
    local st = b:state()
    b:stop()
    assert.equal(66, sm.cycles)
    -- flip wants a new position every bar; an order working at the broker holds the next
    -- one back, so every order the broker got was sent once, and each filled
    assert.is_true(sm.live.sent >= 3, "sent " .. sm.live.sent)
    assert.equal(sm.live.sent, st.counters.orders)
    assert.equal(0, st.counters.duplicates)
    -- every fill is in the journal once, with the broker's activity id, at the broker's price,
    -- but those of the order the last cycle sent: the session stopped before it could see them
    local J = assert(gt.journal.open(db, { readonly = true }))
    local fills = assert(J:query { session = sm.session, type = "fill" })
    local sent = assert(J:query { session = sm.session, type = "order" })
    J:close()
    local last_cid
    for _, r in ipairs(sent) do if r.status == "submitted" then last_cid = r.broker_id end end
    local by_id, unseen = {}, 0
    for _, a in ipairs(st.activities) do by_id[a.id] = a end
    assert.equal(sm.live.fills, #fills)
    for _, f in ipairs(fills) do
      local a = by_id[f.activity_id]
      assert.is_table(a, "fill " .. tostring(f.activity_id) .. " is not a broker activity")
      assert.equal(tonumber(a.qty), f.qty); assert.equal(tonumber(a.price), f.price)
      by_id[f.activity_id] = nil
    end
    local late = 0
    for _, a in pairs(by_id) do
      unseen = unseen + 1
      assert.equal(last_cid, a.order_id, "a fill the session missed is not the last order's")
      late = late + (a.side == "buy" and tonumber(a.qty) or -tonumber(a.qty))
    end
    assert.is_true(unseen <= 1 and #fills >= 3, ("%d fills seen, %d not"):format(#fills, unseen))
    -- the books plus that late fill are the broker's position
    local broker_qty = 0
    for _, p in ipairs(st.positions) do if p.symbol == "BTC-USD" then broker_qty = tonumber(p.qty) end end
    local qty = 0
    for _, p in ipairs(sm.positions) do qty = p.qty end
    assert.equal(broker_qty, qty + late)
  end)

  it("refuses a poll feed outside paper and live modes, naming the key", function()
    local ok, err = pcall(gt.workflow.from_table, { mode = "backtest",
      feed = { kind = "poll", provider = "coinbase" } }, "spec/poll.lua")
    assert.is_false(ok)
    assert.matches("key 'feed.kind': a poll feed is for paper and live sessions", err)
  end)
end)
