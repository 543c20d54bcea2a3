-- gt.live and engine/broker.c: Alpaca v2 parsing, outcome classification, the idempotent
-- submit, the order state machine, reconciliation, the kill switch and key hygiene. Loopback
-- only: tests/fakebroker/fakehttp serves canned Alpaca answers (fixtures/alpaca/, shaped as
-- alpaca-py's test responses and RELIABILITY.md section 3).
local t = require "tests.lua.support"
local fake = dofile("tests/lua/fixtures/providers/server.lua")
local live = require "gt.live"
local http = require "gt.http"
local journal = require "gt.journal"

local FIX = "tests/lua/fixtures/alpaca/"
local CANARY_ID = "PKCANARYKEYID7Q3Z9X1"
local CANARY_SECRET = "canarySECRETxYz0123456789abcdefghijKLMNOP"

local function slurp(p)
  local f = io.open(p, "rb"); if not f then return "" end
  local s = f:read("*a"); f:close(); return s
end

local function keyfile(dir, mode)
  local p = dir .. "/alpaca.json"
  t.write(p, ('{"key_id": "%s", "secret_key": "%s"}'):format(CANARY_ID, CANARY_SECRET))
  os.execute(("chmod %s %s"):format(mode or "600", t.quote(p)))
  return p
end

local function fixture(name) return slurp(FIX .. name) end

local function fail_names(err, field)
  assert.is_string(err)
  assert.matches("field '" .. field .. "'", err, 1, true)
end

describe("gt.live parsing of Alpaca v2 responses", function()
  it("parses a market order: ids, terms, numbers from strings, times as epoch microseconds", function()
    local o = assert(live.parse("order", fixture("order_market.json")))
    assert.equal("61e69015-8549-4bfd-b9c3-01e75843f47d", o.id)
    assert.equal("gt-482bd10c-1", o.client_order_id)
    assert.equal("AAPL", o.symbol)
    assert.equal("buy", o.side); assert.equal("market", o.type); assert.equal("day", o.tif)
    assert.equal("simple", o.order_class) -- "" on the wire
    assert.equal(10, o.qty); assert.equal(0, o.filled_qty)
    assert.is_nil(o.filled_avg_price); assert.is_nil(o.limit)
    assert.equal("accepted", o.status)
    -- 2021-03-16T18:38:01.942282Z: 18702 days * 86400 + 67081 s = 1615919881 s, then .942282
    assert.equal(1615919881942282, o.created_at)
    assert.is_nil(o.filled_at)
  end)

  it("parses limit (partial), stop_limit, trailing_stop and bracket orders", function()
    local o = assert(live.parse("order", fixture("order_limit_partial.json")))
    assert.equal("partially_filled", o.status)
    assert.equal(187.25, o.limit); assert.equal(100, o.qty); assert.equal(40, o.filled_qty)
    assert.equal(187.2, o.filled_avg_price)
    o = assert(live.parse("order", fixture("order_stop_limit.json")))
    assert.equal(180, o.limit); assert.equal(181.5, o.stop); assert.equal("gtc", o.tif); assert.equal("sell", o.side)
    o = assert(live.parse("order", fixture("order_trailing.json")))
    assert.equal("trailing_stop", o.type); assert.equal(2.5, o.trail_percent)
    o = assert(live.parse("order", fixture("order_bracket.json")))
    assert.equal("bracket", o.order_class)
    assert.equal(2, #o.legs)
    assert.equal(o.id, o.legs[1].parent_id); assert.equal(o.id, o.legs[2].parent_id)
    assert.equal(195, o.legs[1].limit); assert.equal(180, o.legs[2].stop)
    assert.equal("held", o.legs[1].status)
  end)

  it("parses the order list, positions (signed), account, clock, fills, cancel-all, close-all", function()
    local l = assert(live.parse("orders", fixture("orders_open.json")))
    assert.equal(2, #l); assert.equal("gt-482bd10c-2", l[2].client_order_id)
    local p = assert(live.parse("positions", fixture("positions.json")))
    assert.equal(2, #p)
    assert.equal("AAPL", p[1].symbol); assert.equal(10, p[1].qty); assert.equal(100, p[1].avg_entry_price)
    assert.equal("TSLA", p[2].symbol); assert.equal(-5, p[2].qty); assert.equal("short", p[2].side)
    assert.equal(10, assert(live.parse("position", fixture("position_aapl.json"))).qty)
    local a = assert(live.parse("account", fixture("account.json")))
    assert.equal(-23140.2, a.cash); assert.equal(262113.632, a.buying_power); assert.equal(103820.56, a.equity)
    assert.equal(4, a.multiplier); assert.equal(0, a.daytrade_count)
    assert.is_false(a.trading_blocked); assert.is_false(a.account_blocked); assert.equal("ACTIVE", a.status)
    local k = assert(live.parse("clock", fixture("clock.json")))
    assert.is_false(k.is_open)
    -- 2022-05-17T09:30:00-04:00 is 13:30 UTC: 19129 days * 86400 + 48600 s
    assert.equal((19129 * 86400 + 48600) * 1e6, k.next_open)
    local f = assert(live.parse("fills", fixture("fills_page1.json")))
    assert.equal(2, #f); assert.equal(25, f[1].qty); assert.equal(40, f[2].cum_qty)
    assert.equal("partial_fill", f[1].type); assert.matches("^20210316143802001::", f[1].id)
    local c = assert(live.parse("cancels", fixture("cancel_all.json")))
    assert.equal(200, c[1].status); assert.equal(404, c[2].status); assert.equal("order not found", c[2].message)
    local x = assert(live.parse("closes", fixture("close_all.json")))
    assert.equal("AAPL", x[1].symbol); assert.equal("e6419d12-56e4-4d67-a61b-f6e464e1f8a8", x[1].order_id)
  end)

  it("a malformed or missing field is an error naming it, never a zero", function()
    local o, err = live.parse("order", fixture("order_bad_filled_qty.json"))
    assert.is_nil(o); fail_names(err, "filled_qty"); assert.matches("4O", err, 1, true)
    o, err = live.parse("order", fixture("order_missing_status.json"))
    assert.is_nil(o); fail_names(err, "status"); assert.matches("missing", err, 1, true)
    o, err = live.parse("order", fixture("order_unknown_status.json"))
    assert.is_nil(o); fail_names(err, "status"); assert.matches("teleported", err, 1, true)
    o, err = live.parse("order", fixture("order_limit_null_price.json"))
    assert.is_nil(o); fail_names(err, "limit_price")
    o, err = live.parse("account", fixture("account_missing_trading_blocked.json"))
    assert.is_nil(o); fail_names(err, "trading_blocked")
    o, err = live.parse("account", fixture("account_bad_cash.json"))
    assert.is_nil(o); fail_names(err, "cash")
    o, err = live.parse("clock", fixture("clock_bad.json"))
    assert.is_nil(o); fail_names(err, "timestamp")
    o, err = live.parse("position", fixture("position_bad_qty.json"))
    assert.is_nil(o); fail_names(err, "qty")
    -- one bad order spoils the whole list: never half a list
    o, err = live.parse("orders", "[" .. fixture("order_market.json") .. "," .. fixture("order_bad_filled_qty.json") .. "]")
    assert.is_nil(o); assert.matches("order 1", err, 1, true)
    o, err = live.parse("orders", "{}")
    assert.is_nil(o); assert.matches("not a JSON array", err, 1, true)
  end)
end)

describe("gt.live broker over loopback", function()
  local dir, kf, srv
  before_each(function()
    dir = t.tmpdir()
    kf = keyfile(dir)
  end)
  after_each(function()
    if srv then srv:stop(); srv = nil end
    http.limits_reset() -- no limit or 429 block outlives a test
    os.execute("rm -rf " .. t.quote(dir))
  end)

  local function mk(extra)
    local o = { base_url = srv.url, key_file = kf, session = "spec", rate_per_min = 60000, burst = 100,
      retries = 0, timeout = 1.5, connect_timeout = 1 }
    for k, v in pairs(extra or {}) do o[k] = v end
    return assert(live.broker(o))
  end

  local function posts(reqs)
    local n = 0
    for _, r in ipairs(reqs) do if r.method == "POST" then n = n + 1 end end
    return n
  end

  it("refuses a key file readable by others, naming chmod 600", function()
    srv = fake.start("route /v2/\nrespond 200\nbody {}\n")
    local p = keyfile(dir, "644")
    local b, err = live.broker { base_url = srv.url, key_file = p }
    assert.is_nil(b)
    assert.matches("chmod 600", err, 1, true)
    assert.is_nil(err:find(CANARY_SECRET, 1, true))
  end)

  it("refuses plain http to a non-loopback host and paper trading against the live host", function()
    local b, err = live.broker { base_url = "http://example.com", key_file = kf }
    assert.is_nil(b); assert.matches("only loopback", err, 1, true)
    b, err = live.broker { base_url = "https://api.alpaca.markets", paper = true, key_file = kf }
    assert.is_nil(b); assert.matches("live endpoint", err, 1, true)
  end)

  it("sends the keys as APCA headers and reads the account and clock", function()
    srv = fake.start(("route GET /v2/account\nrespond 200\nfile %saccount.json\n"
      .. "route GET /v2/clock\nrespond 200\nfile %sclock.json\n")
      :format(FIX, FIX))
    local b = mk()
    assert.equal(103820.56, assert(b:account()).equity)
    assert.is_false(assert(b:clock()).is_open)
    local r = srv:requests()[1]
    assert.equal(CANARY_ID, r.headers["apca-api-key-id"])
    assert.equal(CANARY_SECRET, r.headers["apca-api-secret-key"])
    b:close()
  end)

  it("classifies 404, 422, 429, 500, a timeout, a dropped and a truncated answer", function()
    srv = fake.start(([[
max-seconds 30
route GET /v2/orders/aaaa-404
respond 404
body {"code":40410000,"message":"order not found"}
route GET /v2/orders/aaaa-422
respond 422
body {"code":40010001,"message":"invalid order id"}
route GET /v2/orders/aaaa-429
respond 429
header X-Ratelimit-Limit: 200
header X-Ratelimit-Remaining: 0
header X-Ratelimit-Reset: %d
body {"message":"too many requests"}
route GET /v2/orders/aaaa-500
respond 500
body {"message":"internal"}
route GET /v2/orders/aaaa-slow
respond 200
delay 4000
file %sorder_market.json
route GET /v2/orders/aaaa-drop
respond 200
close
route GET /v2/orders/aaaa-trunc
respond 200
truncate 40
file %sorder_market.json
]]):format(os.time() + 100, FIX, FIX))
    local b = mk { max_wait = 5 }
    local function outcome(id)
      local o, err, res = b:order(id)
      assert.is_nil(o)
      return res.outcome, err, res
    end
    local oc, _, res = outcome("aaaa-404")
    assert.equal("not_found", oc); assert.equal(404, res.status)
    local err
    oc, err, res = outcome("aaaa-422")
    assert.equal("rejected", oc); assert.equal("invalid order id", res.message); assert.equal(40010001, res.code)
    assert.matches("HTTP 422", err, 1, true)
    oc, _, res = outcome("aaaa-429")
    assert.equal("rate_limited", oc)
    assert.is_true(res.reset_in > 90 and res.reset_in <= 100, tostring(res.reset_in))
    oc, err = outcome("aaaa-500")
    assert.equal("unknown", oc); assert.matches("HTTP 500", err, 1, true)
    local t0 = os.clock()
    oc, err = outcome("aaaa-slow")
    assert.equal("unknown", oc); assert.matches("timed out", err, 1, true)
    assert.is_true(os.clock() - t0 < 3)
    oc = outcome("aaaa-drop")
    assert.equal("unknown", oc)
    oc = outcome("aaaa-trunc")
    assert.equal("unknown", oc)
    b:close()
  end)

  it("a 2xx with an unreadable body is unknown, with the field named", function()
    srv = fake.start(("route POST /v2/orders\nrespond 200\nfile %sorder_bad_filled_qty.json\n"):format(FIX))
    local b = mk { lookups = 1, max_posts = 1 }
    local o, err, res = b:_do("order", require("gt.ffi").C.gt_broker_submit,
      (function()
        local ffi = require "ffi"
        local q = ffi.new("gt_broker_order_req")
        ffi.copy(q.symbol, "AAPL"); ffi.copy(q.side, "buy"); ffi.copy(q.type, "market"); ffi.copy(q.tif, "day")
        ffi.copy(q.client_order_id, "gt-test-1"); q.qty = 1
        for _, f in ipairs { "notional", "limit_price", "stop_price", "trail_price", "trail_percent",
          "take_profit_limit", "stop_loss_stop", "stop_loss_limit" } do q[f] = 0 / 0 end
        return q
      end)(), b._r)
    assert.is_nil(o)
    assert.equal("unknown", res.outcome)
    fail_names(err, "filled_qty")
    b:close()
  end)

  describe("the idempotent submit", function()
    local J, jdir
    before_each(function()
      jdir = t.tmpdir()
      J = assert(journal.open(jdir .. "/j.db", { durable = true }))
      assert(J:session { key = "live:spec", now = 1 })
    end)
    after_each(function()
      J:close()
      os.execute("rm -rf " .. t.quote(jdir))
    end)

    local function order_events()
      local out = {}
      for _, r in ipairs(assert(J:query { type = "order" })) do out[#out + 1] = r.status end
      return table.concat(out, ",")
    end

    local function post_cids(reqs)
      local out = {}
      for _, r in ipairs(reqs) do
        if r.method == "POST" then out[#out + 1] = r.body:match('"client_order_id":"([^"]+)"') end
      end
      return out
    end

    it("journals the intent before the POST and sends one POST", function()
      srv = fake.start(("route POST /v2/orders\nrespond 200\nfile %sorder_market.json\n"):format(FIX))
      local seen_before
      local stub = setmetatable({ durable = true, key = "live:spec", id = function() return 1 end,
        query = function() return {} end,
        write_now = function(_, ev)
          if ev.status == "pending_submit" then seen_before = #srv:requests() end
          return true
        end }, {})
      local b = mk { journal = stub }
      local o = assert(b:submit { seq = 1, symbol = "AAPL", side = "buy", qty = 10 })
      assert.equal("61e69015-8549-4bfd-b9c3-01e75843f47d", o.id)
      assert.equal(0, seen_before)
      assert.equal(1, posts(srv:requests()))
      b:close()
    end)

    it("sends nothing when the intent cannot be journalled", function()
      srv = fake.start(("route POST /v2/orders\nrespond 200\nfile %sorder_market.json\n"):format(FIX))
      local stub = { durable = true, key = "live:spec", id = function() return 1 end,
        query = function() return {} end,
        write_now = function() return nil, "disk full" end }
      local b = mk { journal = stub }
      local o, err = b:submit { seq = 1, symbol = "AAPL", side = "buy", qty = 10 }
      assert.is_nil(o); assert.matches("nothing sent", err, 1, true)
      assert.equal(0, #srv:requests())
      b:close()
    end)

    it("a restarted broker on the same journal does not send an adopted intent again", function()
      srv = fake.start(("route POST /v2/orders\nrespond 200\nfile %sorder_market.json\n"):format(FIX))
      local b = mk { journal = J }
      assert(b:submit { seq = 1, symbol = "AAPL", side = "buy", qty = 10 })
      b:close()
      local b2 = mk { journal = J }
      local o = assert(b2:submit { seq = 1, symbol = "AAPL", side = "buy", qty = 10 })
      assert.equal("61e69015-8549-4bfd-b9c3-01e75843f47d", o.id)
      assert.is_true(o.adopted)
      assert.equal(1, posts(srv:requests()))
      b2:close()
    end)

    it("fills are journalled once, also across a restart", function()
      srv = fake.start(([[
route POST /v2/orders
respond 200
file %sorder_limit_partial.json
route GET /v2/account/activities/FILL
respond 200
file %sfills_page1.json
]]):format(FIX, FIX))
      local b = mk { journal = J }
      assert(b:submit { seq = 2, symbol = "AAPL", side = "buy", qty = 100, type = "limit", limit = 187.25 })
      local new = assert(b:sync_fills())
      assert.equal(2, #new)
      assert.equal(0, #assert(b:sync_fills()))
      b:close()
      local b2 = mk { journal = J }
      assert.equal(0, #assert(b2:sync_fills()))
      b2:close()
      local fills = assert(J:query { type = "fill" })
      assert.equal(2, #fills)
      assert.equal(2, fills[1].order_id) -- the intent's seq
      assert.equal(25, fills[1].qty)
    end)

    it("a dropped answer, then the lookup by client_order_id finds it: adopted, no second POST", function()
      srv = fake.start(([[
route POST /v2/orders
respond 200
close
route GET /v2/orders:by_client_order_id
respond 200
file %sorder_market.json
]]):format(FIX))
      local b = mk { journal = J }
      local cid = live.client_order_id("spec", 1)
      local o = assert(b:submit { seq = 1, symbol = "AAPL", side = "buy", qty = 10 })
      assert.equal("61e69015-8549-4bfd-b9c3-01e75843f47d", o.id)
      assert.is_true(o.adopted)
      local reqs = srv:requests()
      assert.equal(1, posts(reqs))
      assert.equal(2, #reqs)
      assert.equal("GET", reqs[2].method)
      assert.equal("/v2/orders:by_client_order_id?client_order_id=" .. cid, reqs[2].target)
      assert.equal(cid, post_cids(reqs)[1])
      assert.equal("pending_submit,unknown,submitted", order_events())
      b:close()
    end)

    it("a 500, then a definite 404 on lookup: one resubmit with the same client_order_id", function()
      srv = fake.start(([[
route POST /v2/orders
respond 500
body {"message":"internal server error"}
respond 200
file %sorder_market.json
route GET /v2/orders:by_client_order_id
respond 404
body {"code":40410000,"message":"order not found"}
]]):format(FIX))
      local b = mk { journal = J }
      local o = assert(b:submit { seq = 7, symbol = "AAPL", side = "buy", qty = 10, type = "limit", limit = 187.25 })
      assert.equal("61e69015-8549-4bfd-b9c3-01e75843f47d", o.id)
      local reqs = srv:requests()
      assert.equal(3, #reqs)
      assert.same({ "POST", "GET", "POST" }, { reqs[1].method, reqs[2].method, reqs[3].method })
      local cids = post_cids(reqs)
      assert.equal(live.client_order_id("spec", 7), cids[1])
      assert.equal(cids[1], cids[2])
      assert.matches('"limit_price":"187.25"', reqs[1].body, 1, true)
      assert.matches('"qty":"10"', reqs[1].body, 1, true)
      assert.equal("pending_submit,unknown,not_found,submitted", order_events())
      b:close()
    end)

    it("a 429 waits for X-Ratelimit-Reset, then resubmits once, without a lookup", function()
      local reset = os.time() + 2
      srv = fake.start(([[
route POST /v2/orders
respond 429
header X-Ratelimit-Reset: %d
body {"code":42910000,"message":"rate limit exceeded"}
respond 200
file %sorder_market.json
]]):format(reset, FIX))
      local b = mk { journal = J }
      local o = assert(b:submit { seq = 3, symbol = "AAPL", side = "buy", qty = 10 })
      assert.equal("61e69015-8549-4bfd-b9c3-01e75843f47d", o.id)
      local reqs = srv:requests()
      assert.equal(2, #reqs)
      assert.equal(2, posts(reqs))
      assert.is_true(os.time() >= reset, "returned before the reset")
      assert.is_true(reqs[2].at - reqs[1].at >= 0.9, ("gap %.3f"):format(reqs[2].at - reqs[1].at))
      assert.equal("pending_submit,rate_limited,submitted", order_events())
      b:close()
    end)

    it("a definite rejection is journalled with Alpaca's message and not retried", function()
      srv = fake.start(("route POST /v2/orders\nrespond 403\nfile %serror_403.json\n"):format(FIX))
      local b = mk { journal = J }
      local o, err, res = b:submit { seq = 4, symbol = "AAPL", side = "buy", qty = 1e6 }
      assert.is_nil(o)
      assert.equal("rejected", res.outcome)
      assert.matches("insufficient buying power", err, 1, true)
      assert.equal(1, #srv:requests())
      assert.equal("pending_submit,rejected", order_events())
      b:close()
    end)

    it("an unknown outcome whose lookups also fail stays unresolved: no blind POST", function()
      srv = fake.start("route POST /v2/orders\nrespond 503\nroute GET /v2/orders:by_client_order_id\nrespond 503\n")
      local b = mk { journal = J, lookups = 2 }
      local o, err = b:submit { seq = 5, symbol = "AAPL", side = "buy", qty = 1 }
      assert.is_nil(o)
      assert.matches("reconcile before trading", err, 1, true)
      assert.equal(1, posts(srv:requests()))
      assert.equal("pending_submit,unknown,unresolved", order_events())
      b:close()
    end)

    it("a duplicate-id refusal after a resend is resolved by lookup, not called rejected", function()
      srv = fake.start(([[
route POST /v2/orders
respond 422
file %serror_422.json
route GET /v2/orders:by_client_order_id
respond 200
file %sorder_market.json
]]):format(FIX, FIX))
      local b = mk { journal = J }
      local o = assert(b:submit { seq = 6, symbol = "AAPL", side = "buy", qty = 10 })
      assert.is_true(o.adopted)
      assert.equal(1, posts(srv:requests()))
      b:close()
    end)
  end)

  it("one rate limiter is shared by two clients of the same host", function()
    srv = fake.start("max-requests 100\nroute /x\nrespond 200\nbody ok\n")
    local a, c = assert(http.new()), assert(http.new())
    local o = { rate_per_min = 60000, burst = 100, retries = 0 }
    local t0 = require("gt.ffi").C.gt_clock_seconds()
    for _ = 1, 4 do assert(a:get(srv.url .. "/x", o)); assert(c:get(srv.url .. "/x", o)) end
    local free = require("gt.ffi").C.gt_clock_seconds() - t0
    http.limit_host("127.0.0.1", 600, 1) -- 10 a second for the process, burst 1
    t0 = require("gt.ffi").C.gt_clock_seconds()
    for _ = 1, 4 do assert(a:get(srv.url .. "/x", o)); assert(c:get(srv.url .. "/x", o)) end
    local shared = require("gt.ffi").C.gt_clock_seconds() - t0
    -- 8 requests, the first on the burst token, then one per 100 ms: at least 0.7 s; each
    -- client alone (4 requests) would have needed only 0.3 s under a per-client limit
    assert.is_true(free < 0.5, ("free %.2f"):format(free))
    assert.is_true(shared >= 0.65, ("shared %.2f"):format(shared))
    a:close(); c:close()
  end)

  it("a 429 seen by one client makes another client wait for the reset", function()
    local reset = os.time() + 3
    srv = fake.start(("route /busy\nrespond 429\nheader X-Ratelimit-Reset: %d\nroute /x\nrespond 200\nbody ok\n"):format(reset))
    local a, c = assert(http.new()), assert(http.new())
    local o = { rate_per_min = 60000, burst = 100, retries = 0 }
    assert.is_nil((a:get(srv.url .. "/busy", o)))
    assert.is_true(http.host_wait("127.0.0.1") > 0.3, tostring(http.host_wait("127.0.0.1")))
    assert(c:get(srv.url .. "/x", o))
    assert.is_true(os.time() >= reset)
    a:close(); c:close()
  end)

  it("reconcile reports positions and orders that disagree; not in the open list is looked up", function()
    srv = fake.start(([[
route GET /v2/account
respond 200
file %saccount.json
route GET /v2/positions
respond 200
file %spositions.json
route GET /v2/orders?status=open
respond 200
file %sorders_open.json
route GET /v2/orders/99999999-0000-4000-8000-000000000009
respond 200
file %sorder_canceled.json
]]):format(FIX, FIX, FIX, FIX))
    local b = mk()
    local ok, rep = b:reconcile {
      positions = { AAPL = 0, TSLA = -5, MSFT = 3 },
      orders = { { client_order_id = "gt-482bd10c-1", id = "61e69015-8549-4bfd-b9c3-01e75843f47d" },
                 { client_order_id = "gt-482bd10c-9", id = "99999999-0000-4000-8000-000000000009" } } }
    assert.is_false(ok)
    assert.matches("AAPL: broker holds 10, journal 0", rep.text, 1, true)
    assert.matches("MSFT: broker holds 0, journal 3", rep.text, 1, true)
    assert.is_nil(rep.text:find("TSLA", 1, true))
    assert.matches("order gt-482bd10c-2 (8a2b8c3e-1f4e-4c7a-9d0b-2f6e7a1c5d90): open at the broker", rep.text, 1, true)
    assert.equal(1, #rep.updates)
    assert.equal("canceled", rep.updates[1].status)
    local got
    for _, r in ipairs(srv:requests()) do
      if r.target == "/v2/orders/99999999-0000-4000-8000-000000000009?nested=true" then got = true end
    end
    assert.is_true(got, "the order missing from the open list was not looked up by id")
    b:close()
  end)

  it("reconcile: an order hidden from the open list but working is not taken as cancelled", function()
    srv = fake.start(([[
route GET /v2/account
respond 200
file %saccount.json
route GET /v2/positions
respond 200
body []
route GET /v2/orders?status=open
respond 200
body []
route GET /v2/orders/61e69015
respond 200
file %sorder_market.json
]]):format(FIX, FIX))
    local b = mk()
    local ok, rep = b:reconcile { positions = {}, orders = { { client_order_id = "gt-482bd10c-1",
      id = "61e69015-8549-4bfd-b9c3-01e75843f47d" } } }
    assert.is_false(ok)
    assert.matches("accepted at the broker but missing from its open list", rep.text, 1, true)
    assert.equal("accepted", rep.updates[1].status)
    b:close()
  end)

  it("reconcile agrees when broker and journal agree", function()
    srv = fake.start(([[
route GET /v2/account
respond 200
file %saccount.json
route GET /v2/positions
respond 200
file %spositions.json
route GET /v2/orders?status=open
respond 200
file %sorders_open.json
]]):format(FIX, FIX, FIX))
    local b = mk()
    local ok, rep = b:reconcile { positions = { AAPL = 10, TSLA = -5 },
      orders = { { client_order_id = "gt-482bd10c-1" }, { client_order_id = "gt-482bd10c-2" } } }
    assert.is_true(ok, rep.text)
    b:close()
  end)

  it("kill cancels all open orders within a second and can flatten", function()
    srv = fake.start(([[
route DELETE /v2/orders
respond 207
file %scancel_all.json
route DELETE /v2/positions
respond 207
file %sclose_all.json
]]):format(FIX, FIX))
    local b = mk()
    local rep = b:kill(true)
    assert.equal(1, rep.canceled); assert.equal(1, #rep.failed)
    assert.is_true(rep.elapsed < 1)
    assert.equal("AAPL", rep.closed[1].symbol)
    local reqs = srv:requests()
    assert.equal("/v2/orders", reqs[1].target)
    assert.equal("/v2/positions?cancel_orders=true", reqs[2].target)
    b:close()
  end)

  it("kill gives up within about a second on a broker that does not answer", function()
    srv = fake.start("max-seconds 10\nroute DELETE /v2/orders\nrespond 207\ndelay 5000\nbody []\n")
    local b = mk { timeout = 10 }
    local t0 = require("gt.ffi").C.gt_clock_seconds()
    local rep = b:kill(false)
    assert.is_true(require("gt.ffi").C.gt_clock_seconds() - t0 < 1.5)
    assert.equal("unknown", rep.outcome)
    b:close()
  end)

  it("kill does not sit out a long 429 block: it reports it within a second", function()
    srv = fake.start(("route DELETE /v2/orders\nrespond 207\nfile %scancel_all.json\n"):format(FIX))
    local b = mk()
    require("gt.ffi").C.gt_http_block_host("127.0.0.1", 10)
    local t0 = require("gt.ffi").C.gt_clock_seconds()
    local rep = b:kill(false)
    assert.is_true(require("gt.ffi").C.gt_clock_seconds() - t0 < 1.5)
    assert.equal("rate_limited", rep.outcome)
    assert.equal(0, #srv:requests())
    b:close()
  end)

  it("a canary key appears nowhere: not in the verbose trace, errors or the journal", function()
    srv = fake.start(([[
route POST /v2/orders
respond 200
close
route GET /v2/orders:by_client_order_id
respond 403
echo-headers
route GET /v2/account
respond 401
echo-headers
]]):format())
    local script = dir .. "/canary.lua"
    t.write(script, ([[
local live = require "gt.live"
local J = assert(require("gt.journal").open(%q, { durable = true }))
assert(J:session { key = "canary", now = 1 })
local b = assert(live.broker { base_url = %q, key_file = %q, session = "canary", journal = J,
  trace = true, retries = 0, timeout = 2, rate_per_min = 60000, burst = 100, lookups = 1 })
local o, err = b:submit { seq = 1, symbol = "AAPL", side = "buy", qty = 1 }
print("submit:", o, err)
local a, aerr = b:account()
print("account:", a, aerr)
b:close(); J:close()
]]):format(dir .. "/j.db", srv.url, kf))
    local out, err = t.run(t.quote(script))
    local all = out .. err .. slurp(dir .. "/j.db") .. slurp(dir .. "/j.db-wal")
    -- the trace ran and showed the headers by name
    assert.matches("APCA-API-KEY-ID: [REDACTED]", err, 1, true)
    assert.matches("APCA-API-SECRET-KEY: [REDACTED]", err, 1, true)
    assert.matches("submit:", out, 1, true)
    assert.matches("account:", out, 1, true)
    assert.is_nil(all:find(CANARY_ID, 1, true))
    assert.is_nil(all:find(CANARY_SECRET, 1, true))
    -- and the server did receive them (the test would prove nothing otherwise)
    assert.matches(CANARY_SECRET, srv:log(), 1, true)
  end)

  it("keys from the environment are wiped from it, and core dumps are off", function()
    local script = dir .. "/env.lua"
    t.write(script, [[
local ffi = require "ffi"
ffi.cdef "int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);"
local live = require "gt.live"
local b, err = live.broker { base_url = "http://127.0.0.1:9" }
print("broker", b ~= nil, err)
print("env", os.getenv("APCA_API_KEY_ID"), os.getenv("APCA_API_SECRET_KEY"))
local f = io.open("/proc/self/environ", "rb"); local env = f:read("*a"); f:close()
print("environ-has-secret", env:find("canaryENV", 1, true) ~= nil)
for l in io.lines("/proc/self/limits") do if l:match("^Max core file size") then print(l) end end
print("dumpable", ffi.C.prctl(3, 0, 0, 0, 0))
]])
    local out = t.sh(("HOME=%s APCA_API_KEY_ID=PKENVKEYID000000 APCA_API_SECRET_KEY=canaryENVsecret0123456789 %s %s")
      :format(t.quote(dir), t.quote(t.gtengine), t.quote(script)))
    assert.matches("broker\ttrue", out, 1, true)
    assert.matches("env\tnil\tnil", out, 1, true)
    assert.matches("environ-has-secret\tfalse", out, 1, true)
    assert.matches("Max core file size%s+0%s+0", out)
    assert.matches("dumpable\t0", out, 1, true)
  end)
end)

describe("gt.live order state machine", function()
  it("allows only legal transitions", function()
    assert.is_true(live.legal(nil, "pending_new"))
    assert.is_true(live.legal("pending_new", "accepted"))
    assert.is_true(live.legal("accepted", "new"))
    assert.is_true(live.legal("new", "partially_filled"))
    assert.is_true(live.legal("partially_filled", "filled"))
    assert.is_true(live.legal("pending_cancel", "canceled"))
    assert.is_false(live.legal("filled", "new"))
    assert.is_false(live.legal("canceled", "partially_filled"))
    assert.is_false(live.legal("new", "accepted"))
    assert.is_false(live.legal("partially_filled", "new", 5))
    assert.is_false(live.legal("partially_filled", "rejected"))
  end)

  -- A seeded generator of true order histories (legal, increasing times, filled_qty rising),
  -- fed to the machine duplicated, reordered and with stale copies. The machine must end
  -- where the truth ended, never let filled_qty fall, accept only legal transitions, and
  -- count each fill once.
  it("survives duplicated, reordered and stale updates and fills (fuzz)", function()
    local seed = 12345
    local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n + 1 end
    for round = 1, 300 do
      local sm = live.machine()
      local truth = { positions = {} }
      local events = {}
      local norders = rnd(4)
      local final = {}
      for k = 1, norders do
        local id, cid = ("ord-%d-%d"):format(round, k), ("gt-fuzz-%d-%d"):format(round, k)
        local side = rnd(2) == 1 and "buy" or "sell"
        local qty = rnd(10) * 10
        local sym = ({ "AAPL", "MSFT", "TSLA" })[rnd(3)]
        sm:track { client_order_id = cid, id = id, symbol = sym, side = side, qty = qty }
        local ts, filled = 1000 * k, 0
        local function rep(status)
          ts = ts + 1
          events[#events + 1] = { kind = "order", r = { id = id, client_order_id = cid, symbol = sym, side = side,
            qty = qty, status = status, filled_qty = filled, updated_at = ts } }
        end
        rep("pending_new"); rep("accepted"); rep("new")
        local nf = rnd(4) - 1
        for f = 1, nf do
          local q = math.min(qty - filled, rnd(qty))
          if q > 0 then
            filled = filled + q
            events[#events + 1] = { kind = "fill", f = { id = ("%s-act-%d"):format(id, f), order_id = id,
              symbol = sym, side = side, qty = q, price = 100, cum_qty = filled } }
            rep(filled == qty and "filled" or "partially_filled")
          end
        end
        if filled < qty then
          if rnd(2) == 1 then rep("pending_cancel"); rep("canceled") end
        end
        final[cid] = { status = events[#events].r and events[#events].r.status, filled = filled }
        for i = #events, 1, -1 do
          local e = events[i]
          if e.kind == "order" and e.r.client_order_id == cid then final[cid].status = e.r.status; break end
        end
        truth.positions[sym] = (truth.positions[sym] or 0) + (side == "buy" and filled or -filled)
      end
      -- duplicate about a third, then shuffle
      local feed = {}
      for _, e in ipairs(events) do
        feed[#feed + 1] = e
        if rnd(3) == 1 then feed[#feed + 1] = e end
      end
      for i = #feed, 2, -1 do local j = rnd(i); feed[i], feed[j] = feed[j], feed[i] end
      local last_filled = {}
      for _, e in ipairs(feed) do
        if e.kind == "order" then
          local o = sm.orders[e.r.client_order_id]
          local before = o.status
          local got = sm:update(e.r)
          if got == "applied" then
            assert.is_true(live.legal(before, e.r.status, e.r.filled_qty),
              ("accepted %s -> %s"):format(tostring(before), e.r.status))
          end
        else
          sm:fill(e.f)
        end
        for cid, o in pairs(sm.orders) do
          assert.is_true(o.filled_qty >= (last_filled[cid] or 0), "filled_qty decreased")
          last_filled[cid] = o.filled_qty
        end
      end
      for cid, want in pairs(final) do
        local o = sm.orders[cid]
        assert.equal(want.filled, o.filled_qty, "filled " .. cid)
        if live.CLASS[want.status] == "terminal" then assert.equal(want.status, o.status, "status " .. cid) end
      end
      for sym, q in pairs(truth.positions) do
        assert.equal(q, sm.positions[sym] or 0, "position " .. sym)
      end
    end
  end)

  it("counts stale reports and duplicate fills", function()
    local sm = live.machine()
    sm:track { client_order_id = "c", id = "i", symbol = "AAPL", side = "buy", qty = 10 }
    local function rep(st, q, at)
      return sm:update { client_order_id = "c", id = "i", status = st, filled_qty = q, updated_at = at }
    end
    assert.equal("applied", rep("partially_filled", 6, 5))
    assert.equal("stale", rep("new", 0, 3))
    assert.equal("stale", rep("partially_filled", 4, 9))
    assert.equal(6, sm.orders.c.filled_qty)
    assert.equal(2, sm.stale)
    assert.equal("applied", sm:fill { id = "a1", order_id = "i", qty = 6, cum_qty = 6 })
    assert.equal("duplicate", sm:fill { id = "a1", order_id = "i", qty = 6, cum_qty = 6 })
    assert.equal("applied", sm:fill { id = "a2", order_id = "i", qty = 4, cum_qty = 10 })
    assert.equal(10, sm.positions.AAPL)
    assert.equal(1, sm.dup_fills)
  end)
end)

describe("gt.journal write_now", function()
  it("commits one event outside the cycle without disturbing the open cycle", function()
    local d = t.tmpdir()
    local J = assert(journal.open(d .. "/j.db", { durable = true }))
    assert(J:session { key = "wn", now = 1 })
    J:append { type = "bar", ts = 2, symbol = "A" }
    assert(J:write_now { type = "order", ts = 3, symbol = "A", status = "pending_submit", order_id = 1 })
    -- visible to another connection before the cycle commits
    local R = assert(journal.open(d .. "/j.db", { readonly = true }))
    local rows = assert(R:query { session = J:id() })
    assert.equal(1, #rows); assert.equal("pending_submit", rows[1].status); assert.equal(-1, rows[1].cycle)
    assert(J:commit(0, { ts = 4 }))
    rows = assert(R:query { session = J:id() })
    assert.equal(2, #rows); assert.equal("bar", rows[2].type); assert.equal(0, rows[2].cycle)
    R:close(); J:close()
    os.execute("rm -rf " .. t.quote(d))
  end)
end)
