-- The loopback fake Alpaca broker (tests/fakebroker/fakealpaca.c), driven through gt.http as
-- the live broker client will drive it: each endpoint's shape, the matcher (fills, partial
-- fills across steps, limits, stops, brackets, replace, cancel), every fault, the admin
-- state and the audit log. Expected fills are worked out by hand from the scripted prices.
local json = require "gt.json"
local http = require "gt.http"
local t = require "tests.lua.support"
local fake = dofile("tests/lua/fixtures/broker/fakealpaca.lua")

local function order(sym, qty, side, extra)
  local o = { symbol = sym, qty = tostring(qty), side = side, type = "market", time_in_force = "day" }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local function is_num_string(v) return type(v) == "string" and tonumber(v) ~= nil end

describe("fakealpaca", function()
  if not fake.available() then
    it("needs the fakealpaca server", function() pending("build " .. fake.bin .. " (make test builds it)") end)
    return
  end

  local b
  local function start(script, opts)
    local err
    b, err = fake.start(script, opts)
    assert(b, err)
    return b
  end
  -- The server's stderr must hold no sanitizer report (make asan builds it with ASan/UBSan).
  after_each(function()
    if not b then return end
    local err = b:stop()
    b = nil
    assert.is_nil(err:find("Sanitizer", 1, true), err)
    assert.is_nil(err:find("runtime error", 1, true), err)
  end)

  describe("endpoints", function()
    it("GET /v2/account: Alpaca's fields, money as strings", function()
      start("price AAPL 100\ncash 25000")
      local a, status, resp = b:call("GET", "/v2/account")
      assert.equal(200, status)
      for _, k in ipairs({ "cash", "buying_power", "equity", "last_equity", "multiplier" }) do
        assert.is_true(is_num_string(a[k]), k .. " is a number in a string")
      end
      assert.equal("25000", a.cash)
      assert.equal("25000", a.equity)
      assert.equal("ACTIVE", a.status)
      assert.equal("string", type(a.id))
      assert.equal(0, a.daytrade_count)
      assert.is_false(a.trading_blocked)
      assert.is_false(a.account_blocked)
      assert.equal("200", resp.headers["x-ratelimit-limit"])
      assert.equal("199", resp.headers["x-ratelimit-remaining"])
    end)

    it("GET /v2/clock: scripted time, is_open, next_open and next_close", function()
      start("price AAPL 100\nclock 2024-03-05T15:00:00Z")
      local c, status = b:call("GET", "/v2/clock")
      assert.equal(200, status)
      assert.equal("2024-03-05T15:00:00.000000Z", c.timestamp)
      assert.is_true(c.is_open)
      assert.equal("2024-03-05T21:00:00.000000Z", c.next_close)
      assert.equal("2024-03-06T14:30:00.000000Z", c.next_open)
      b:step(2) -- step-seconds 60: two minutes later
      assert.equal("2024-03-05T15:02:00.000000Z", (b:call("GET", "/v2/clock")).timestamp)
    end)

    it("refuses requests without the right key and secret with 401 unauthorized", function()
      start("price AAPL 100")
      local cases = {
        {},
        { ["APCA-API-KEY-ID"] = fake.KEY_ID },
        { ["APCA-API-KEY-ID"] = fake.KEY_ID, ["APCA-API-SECRET-KEY"] = "wrong" },
        { ["APCA-API-KEY-ID"] = "other", ["APCA-API-SECRET-KEY"] = fake.SECRET },
      }
      for i, h in ipairs(cases) do
        local r, status = b:request("GET", "/v2/account", { headers = h })
        assert.equal(401, status, "case " .. i)
        assert.equal("unauthorized", r.message)
      end
      local _, status = b:call("POST", "/v2/orders", order("AAPL", 1, "buy"), { headers = {} })
      assert.equal(401, status)
      local s = b:state()
      assert.equal(0, #s.orders)
      assert.equal(5, s.counters.unauthorized)
    end)

    it("POST /v2/orders: a market order fills at the current price and moves cash and the position", function()
      start("price AAPL 100 110\ncash 10000")
      local o, status = b:call("POST", "/v2/orders", order("AAPL", 10, "buy", { client_order_id = "intent-1" }))
      assert.equal(200, status)
      assert.equal("intent-1", o.client_order_id)
      assert.equal("filled", o.status)
      assert.equal("10", o.qty)
      assert.equal("10", o.filled_qty)
      assert.equal("100", o.filled_avg_price)
      assert.equal("market", o.type)
      assert.equal("buy", o.side)
      assert.equal("day", o.time_in_force)
      assert.is_truthy(o.submitted_at and o.filled_at and o.created_at)
      -- cash 10000 - 10 * 100; after a step to 110 the position is worth 1100
      b:step()
      local a = b:call("GET", "/v2/account")
      assert.equal("9000", a.cash)
      assert.equal("10100", a.equity)
      local p, pstatus = b:call("GET", "/v2/positions/AAPL")
      assert.equal(200, pstatus)
      assert.equal("10", p.qty)
      assert.equal("long", p.side)
      assert.equal("100", p.avg_entry_price)
      assert.equal("1100", p.market_value)
      assert.equal("100", p.unrealized_pl)
      local list = b:call("GET", "/v2/positions")
      assert.equal(1, #list)
      assert.equal("AAPL", list[1].symbol)
      -- by id and by client order id; unknown ones are 404
      local g = b:call("GET", "/v2/orders/" .. o.id)
      assert.equal(o.id, g.id)
      local c = b:call("GET", "/v2/orders:by_client_order_id?client_order_id=intent-1")
      assert.equal(o.id, c.id)
      local _, s404 = b:call("GET", "/v2/orders:by_client_order_id?client_order_id=never-sent")
      assert.equal(404, s404)
      local _, i404 = b:call("GET", "/v2/orders/fa1ca000-0000-4000-8000-000000000999")
      assert.equal(404, i404)
    end)

    it("GET /v2/positions/{symbol} is 404 when flat; a sell closes the position", function()
      start("price AAPL 100 90")
      local _, s = b:call("GET", "/v2/positions/AAPL")
      assert.equal(404, s)
      b:call("POST", "/v2/orders", order("AAPL", 5, "buy"))
      b:step()
      local o = b:call("POST", "/v2/orders", order("AAPL", 5, "sell"))
      assert.equal("filled", o.status)
      assert.equal("90", o.filled_avg_price)
      local _, s2 = b:call("GET", "/v2/positions/AAPL")
      assert.equal(404, s2)
      -- 100000 - 500 + 450
      assert.equal("99950", (b:call("GET", "/v2/account")).cash)
    end)

    it("refuses a duplicate client_order_id with 422 40010001, even of a canceled order", function()
      start("price AAPL 100")
      local o = b:call("POST", "/v2/orders", order("AAPL", 1, "buy",
        { type = "limit", limit_price = "90", client_order_id = "dup-1" }))
      assert.equal("new", o.status)
      local r, status = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { client_order_id = "dup-1" }))
      assert.equal(422, status)
      assert.equal(40010001, r.code)
      assert.equal("client_order_id must be unique", r.message)
      local _, cs = b:call("DELETE", "/v2/orders/" .. o.id)
      assert.equal(204, cs)
      local r2, status2 = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { client_order_id = "dup-1" }))
      assert.equal(422, status2)
      assert.equal(40010001, r2.code)
      local s = b:state()
      assert.equal(1, #s.orders)
      assert.equal(2, s.counters.duplicates)
      assert.equal(3, s.counters.posts)
      -- 48 characters are allowed, 49 are not
      local _, s48 = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { client_order_id = ("x"):rep(48) }))
      assert.equal(200, s48)
      local _, s49 = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { client_order_id = ("y"):rep(49) }))
      assert.equal(422, s49)
    end)

    it("refuses bad order terms: 422, and 400 for qty with notional", function()
      start("price AAPL 100")
      local cases = {
        { order("NOPE", 1, "buy"), 422 },
        { order("AAPL", 0, "buy"), 422 },
        { order("AAPL", 1, "hold"), 422 },
        { order("AAPL", 1, "buy", { type = "limit" }), 422 },
        { order("AAPL", 1, "buy", { type = "stop_limit", stop_price = "101" }), 422 },
        { order("AAPL", 1, "buy", { type = "trailing_stop" }), 422 },
        { order("AAPL", 1, "buy", { time_in_force = "forever" }), 422 },
        { order("AAPL", 1, "buy", { notional = "500" }), 400 },
      }
      for i, c in ipairs(cases) do
        local _, status = b:call("POST", "/v2/orders", c[1])
        assert.equal(c[2], status, "case " .. i)
      end
      local _, s = b:call("POST", "/v2/orders", "{not json")
      assert.equal(400, s)
      assert.equal(0, #b:state().orders)
    end)

    it("refuses a buy beyond buying power with 403, counting open buy orders", function()
      start("price AAPL 100\ncash 1000")
      local _, s1 = b:call("POST", "/v2/orders", order("AAPL", 6, "buy", { type = "limit", limit_price = "90" }))
      assert.equal(200, s1) -- reserves 540
      assert.equal("460", (b:call("GET", "/v2/account")).buying_power)
      local r, s2 = b:call("POST", "/v2/orders", order("AAPL", 5, "buy"))
      assert.equal(403, s2)
      assert.equal("insufficient buying power", r.message)
    end)
  end)

  describe("matcher", function()
    it("fills a partial fraction of the remaining qty per step; filled_qty never decreases", function()
      start("price AAPL 100 101 102 103 104 105\npartial AAPL 0.5")
      local o = b:call("POST", "/v2/orders", order("AAPL", 10, "buy", { client_order_id = "p1" }))
      -- remaining 10 -> 5 at 100; then 5 -> floor(2.5)=2 at 101, 3 -> 1 at 102, 2 -> 1 at 103,
      -- 1 -> 1 at 104: filled 5, 7, 8, 9, 10
      assert.equal("partially_filled", o.status)
      assert.equal("5", o.filled_qty)
      local seen = { "5" }
      for _ = 1, 5 do
        b:step()
        local g = b:call("GET", "/v2/orders/" .. o.id)
        seen[#seen + 1] = g.filled_qty
      end
      assert.same({ "5", "7", "8", "9", "10", "10" }, seen)
      local g = b:call("GET", "/v2/orders/" .. o.id)
      assert.equal("filled", g.status)
      -- (5*100 + 2*101 + 102 + 103 + 104) / 10 = 101.1
      assert.equal("101.1", g.filled_avg_price)
      local acts = b:call("GET", "/v2/account/activities/FILL?direction=asc")
      assert.equal(5, #acts)
      local ids, cum = {}, 0
      for i, a in ipairs(acts) do
        assert.is_nil(ids[a.id], "activity ids are unique")
        ids[a.id] = true
        cum = cum + tonumber(a.qty)
        assert.equal(cum, tonumber(a.cum_qty))
        assert.equal(10 - cum, tonumber(a.leaves_qty))
        assert.equal(o.id, a.order_id)
        assert.equal("AAPL", a.symbol)
        assert.equal("buy", a.side)
        assert.equal(i < 5 and "partial_fill" or "fill", a.type)
        assert.is_string(a.transaction_time)
      end
      assert.equal("100", acts[1].price)
      assert.equal("104", acts[5].price)
    end)

    it("pages FILL activities with page_size and page_token, newest first by default", function()
      start("price AAPL 100")
      for _ = 1, 5 do b:call("POST", "/v2/orders", order("AAPL", 1, "buy")) end
      local p1 = b:call("GET", "/v2/account/activities/FILL?page_size=2")
      assert.equal(2, #p1)
      local p2 = b:call("GET", "/v2/account/activities/FILL?page_size=2&page_token=" .. http.escape(p1[2].id))
      local p3 = b:call("GET", "/v2/account/activities/FILL?page_size=2&page_token=" .. http.escape(p2[2].id))
      assert.equal(2, #p2)
      assert.equal(1, #p3)
      local all = b:call("GET", "/v2/account/activities/FILL?direction=asc")
      assert.same({ all[5].id, all[4].id, all[3].id, all[2].id, all[1].id },
        { p1[1].id, p1[2].id, p2[1].id, p2[2].id, p3[1].id })
      local later = b:call("GET", "/v2/account/activities/FILL?direction=asc&after=" ..
        http.escape(all[3].transaction_time))
      assert.equal(2, #later)
      assert.equal(all[4].id, later[1].id)
    end)

    it("rests a limit order until a step's price crosses it, and fills at that price", function()
      start("price AAPL 100 99 97 98")
      local o = b:call("POST", "/v2/orders", order("AAPL", 3, "buy", { type = "limit", limit_price = "98" }))
      assert.equal("new", o.status)
      assert.equal("98", o.limit_price)
      b:step() -- 99: above the limit
      assert.equal("new", (b:call("GET", "/v2/orders/" .. o.id)).status)
      b:step() -- 97
      local g = b:call("GET", "/v2/orders/" .. o.id)
      assert.equal("filled", g.status)
      assert.equal("97", g.filled_avg_price)
    end)

    it("triggers a sell stop when the price falls to it, and a trailing stop off the high", function()
      start("price AAPL 100 105 103 101 99")
      b:call("POST", "/v2/orders", order("AAPL", 4, "buy"))
      local stop = b:call("POST", "/v2/orders", order("AAPL", 2, "sell", { type = "stop", stop_price = "99.5" }))
      local trail = b:call("POST", "/v2/orders", order("AAPL", 2, "sell",
        { type = "trailing_stop", trail_price = "3", time_in_force = "gtc" }))
      assert.equal("new", stop.status)
      assert.equal("new", trail.status)
      b:step() -- 105: hwm 105, trailing stop 102
      assert.equal("102", (b:call("GET", "/v2/orders/" .. trail.id)).stop_price)
      b:step() -- 103: neither
      assert.equal("new", (b:call("GET", "/v2/orders/" .. trail.id)).status)
      b:step() -- 101: trailing stop (102) hit, plain stop (99.5) not
      local tg = b:call("GET", "/v2/orders/" .. trail.id)
      assert.equal("filled", tg.status)
      assert.equal("101", tg.filled_avg_price)
      assert.equal("105", tg.hwm)
      assert.equal("new", (b:call("GET", "/v2/orders/" .. stop.id)).status)
      b:step() -- 99
      local sg = b:call("GET", "/v2/orders/" .. stop.id)
      assert.equal("filled", sg.status)
      assert.equal("99", sg.filled_avg_price)
      local _, s = b:call("GET", "/v2/positions/AAPL")
      assert.equal(404, s)
    end)

    it("ioc fills what it can and cancels the rest; fok cancels what it cannot fill whole", function()
      start("price AAPL 100\npartial AAPL 0.5")
      local ioc = b:call("POST", "/v2/orders", order("AAPL", 4, "buy", { time_in_force = "ioc" }))
      assert.equal("canceled", ioc.status)
      assert.equal("2", ioc.filled_qty)
      local fok = b:call("POST", "/v2/orders", order("AAPL", 4, "buy", { time_in_force = "fok" }))
      assert.equal("canceled", fok.status)
      assert.equal("0", fok.filled_qty)
    end)

    it("holds bracket legs until the parent fills; one leg filling cancels the other", function()
      start("price AAPL 100 104 111 90")
      local o, status = b:call("POST", "/v2/orders", order("AAPL", 5, "buy", { order_class = "bracket",
        take_profit = { limit_price = "110" }, stop_loss = { stop_price = "95" } }))
      assert.equal(200, status)
      assert.equal("bracket", o.order_class)
      assert.equal("filled", o.status)
      assert.equal(2, #o.legs)
      local tp, sl = o.legs[1], o.legs[2]
      assert.equal("limit", tp.type); assert.equal("sell", tp.side); assert.equal("110", tp.limit_price)
      assert.equal("stop", sl.type); assert.equal("95", sl.stop_price)
      assert.equal("new", tp.status)
      assert.equal("new", sl.status)
      b:step() -- 104
      b:step() -- 111: take profit fills at 111, the stop loss is canceled
      assert.equal("filled", (b:call("GET", "/v2/orders/" .. tp.id)).status)
      assert.equal("canceled", (b:call("GET", "/v2/orders/" .. sl.id)).status)
      b:step() -- 90: nothing left to trigger
      assert.equal("canceled", (b:call("GET", "/v2/orders/" .. sl.id)).status)
      -- a limit parent that never fills keeps its legs held
      local p2 = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { type = "limit", limit_price = "50",
        order_class = "bracket", take_profit = { limit_price = "200" }, stop_loss = { stop_price = "40" } }))
      assert.equal("held", p2.legs[1].status)
      local _, cs = b:call("DELETE", "/v2/orders/" .. p2.id)
      assert.equal(204, cs)
      assert.equal("canceled", (b:call("GET", "/v2/orders/" .. p2.legs[2].id)).status)
    end)

    it("DELETE /v2/orders also cancels the live legs of a filled bracket", function()
      start("price AAPL 100")
      local o = b:call("POST", "/v2/orders", order("AAPL", 2, "buy", { order_class = "bracket",
        take_profit = { limit_price = "120" }, stop_loss = { stop_price = "80" } }))
      assert.equal("filled", o.status)
      local r, status = b:call("DELETE", "/v2/orders")
      assert.equal(207, status)
      assert.equal(2, #r)
      for _, leg in ipairs(o.legs) do
        assert.equal("canceled", (b:call("GET", "/v2/orders/" .. leg.id)).status)
      end
    end)

    it("PATCH replaces an order: a new id, the old one replaced and linked", function()
      start("price AAPL 100 96")
      local o = b:call("POST", "/v2/orders", order("AAPL", 3, "buy",
        { type = "limit", limit_price = "95", client_order_id = "r-1" }))
      local n, status = b:call("PATCH", "/v2/orders/" .. o.id, { limit_price = "97", qty = "4",
        client_order_id = "r-2" })
      assert.equal(200, status)
      assert.are_not.equal(o.id, n.id)
      assert.equal(o.id, n.replaces)
      assert.equal("97", n.limit_price)
      assert.equal("4", n.qty)
      assert.equal("r-2", n.client_order_id)
      local old = b:call("GET", "/v2/orders/" .. o.id)
      assert.equal("replaced", old.status)
      assert.equal(n.id, old.replaced_by)
      b:step() -- 96 <= 97: the replacement fills
      assert.equal("filled", (b:call("GET", "/v2/orders/" .. n.id)).status)
      local _, s2 = b:call("PATCH", "/v2/orders/" .. o.id, { limit_price = "98" })
      assert.equal(422, s2)
      local _, s3 = b:call("PATCH", "/v2/orders/" .. n.id, { limit_price = "98" })
      assert.equal(422, s3)
    end)

    it("DELETE /v2/orders/{id}: 204, then 422 once canceled or filled, 404 when unknown", function()
      start("price AAPL 100")
      local o = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { type = "limit", limit_price = "90" }))
      local f = b:call("POST", "/v2/orders", order("AAPL", 1, "buy"))
      local _, s1 = b:call("DELETE", "/v2/orders/" .. o.id)
      assert.equal(204, s1)
      local g = b:call("GET", "/v2/orders/" .. o.id)
      assert.equal("canceled", g.status)
      assert.is_string(g.canceled_at)
      local _, s2 = b:call("DELETE", "/v2/orders/" .. o.id)
      assert.equal(422, s2)
      local _, s3 = b:call("DELETE", "/v2/orders/" .. f.id)
      assert.equal(422, s3)
      local _, s4 = b:call("DELETE", "/v2/orders/fa1ca000-0000-4000-8000-000000000077")
      assert.equal(404, s4)
    end)

    it("GET /v2/orders filters by status, symbols, time and direction, with a limit", function()
      start("price AAPL 100\nprice MSFT 200")
      local a = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { type = "limit", limit_price = "90" }))
      local m = b:call("POST", "/v2/orders", order("MSFT", 1, "buy", { type = "limit", limit_price = "190" }))
      local f = b:call("POST", "/v2/orders", order("AAPL", 1, "buy"))
      local function ids(q)
        local out = {}
        for _, o in ipairs((b:call("GET", "/v2/orders" .. q))) do out[#out + 1] = o.id end
        return out
      end
      assert.same({ m.id, a.id }, ids(""))
      assert.same({ m.id, a.id }, ids("?status=open"))
      assert.same({ f.id }, ids("?status=closed"))
      assert.same({ a.id, m.id, f.id }, ids("?status=all&direction=asc"))
      assert.same({ f.id, a.id }, ids("?status=all&symbols=AAPL"))
      assert.same({ f.id }, ids("?status=all&limit=1"))
      assert.same({ m.id, f.id }, ids("?status=all&direction=asc&after=" .. http.escape(a.submitted_at)))
      assert.same({ a.id }, ids("?status=all&until=" .. http.escape(m.submitted_at)))
      local _, s = b:call("GET", "/v2/orders?status=bogus")
      assert.equal(422, s)
    end)

    it("DELETE /v2/orders cancels every open order (207 [{id,status}])", function()
      start("price AAPL 100")
      local ids = {}
      for i = 1, 3 do
        ids[i] = (b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { type = "limit", limit_price = tostring(90 + i) }))).id
      end
      b:call("POST", "/v2/orders", order("AAPL", 1, "buy"))
      local r, status = b:call("DELETE", "/v2/orders")
      assert.equal(207, status)
      assert.equal(3, #r)
      for i = 1, 3 do
        assert.equal(ids[i], r[i].id)
        assert.equal(200, r[i].status)
      end
      assert.equal(0, #(b:call("GET", "/v2/orders")))
    end)

    it("DELETE /v2/positions?cancel_orders=true cancels orders and flattens at the current price (207)", function()
      start("price AAPL 100 120\nprice MSFT 50")
      b:call("POST", "/v2/orders", order("AAPL", 2, "buy"))
      b:call("POST", "/v2/orders", order("MSFT", 3, "sell"))
      local open = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { type = "limit", limit_price = "80" }))
      b:step()
      local r, status = b:call("DELETE", "/v2/positions?cancel_orders=true")
      assert.equal(207, status)
      assert.equal(2, #r)
      assert.equal("AAPL", r[1].symbol)
      assert.equal(200, r[1].status)
      assert.equal("sell", r[1].body.side)
      assert.equal("120", r[1].body.filled_avg_price)
      assert.equal("buy", r[2].body.side)
      assert.equal("canceled", (b:call("GET", "/v2/orders/" .. open.id)).status)
      assert.equal(0, #(b:call("GET", "/v2/positions")))
      -- 100000 - 200 + 150 + 240 - 150
      assert.equal("100040", (b:call("GET", "/v2/account")).cash)
    end)

    it("steps by itself every N API requests with step-every", function()
      start("price AAPL 100 101 102\nstep-every 2")
      b:call("GET", "/v2/clock")
      assert.equal(0, b:state().step)
      b:call("GET", "/v2/clock")
      assert.equal(1, b:state().step)
      b:call("GET", "/v2/clock"); b:call("GET", "/v2/clock")
      assert.equal("102", b:state().prices.AAPL)
    end)

    it("GET /admin/state holds orders, positions, activities and counters for comparison", function()
      start("price AAPL 100\npartial AAPL 0.5")
      b:call("POST", "/v2/orders", order("AAPL", 4, "buy", { client_order_id = "s-1" }))
      local s = b:state()
      assert.equal(1, #s.orders)
      assert.equal("s-1", s.orders[1].client_order_id)
      assert.equal("partially_filled", s.orders[1].status)
      assert.is_false(s.orders[1].hidden)
      assert.equal("2", s.positions[1].qty)
      assert.equal(1, #s.activities)
      assert.equal("99800", s.account.cash)
      assert.equal(1, s.counters.posts)
      assert.equal(1, s.counters.orders)
      assert.equal(1, s.counters.requests)
    end)
  end)

  describe("faults", function()
    it("drop-after-accept: the order is placed, the response never comes, by_client_order_id finds it", function()
      start("price AAPL 100\ndrop-after-accept 1")
      local r, err = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { client_order_id = "lost-1" }))
      assert.is_nil(r)
      assert.is_string(err)
      local s = b:state()
      assert.equal(1, #s.orders)
      assert.equal(1, s.counters.dropped)
      assert.equal(1, s.counters.posts)
      local found, status = b:call("GET", "/v2/orders:by_client_order_id?client_order_id=lost-1")
      assert.equal(200, status)
      assert.equal("filled", found.status)
      -- the next POST is answered again; a resubmit of the same intent is refused
      local _, s2 = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { client_order_id = "lost-1" }))
      assert.equal(422, s2)
      local audit = b:audit()
      assert.equal("drop-after-accept", audit[1].fault)
      assert.equal("lost-1", audit[1].client_order_id)
      assert.equal(200, audit[1].status)
    end)

    -- libcurl resends a request once, silently, when a reused keep-alive connection dies
    -- before any byte of the answer (multi.c, Curl_retry_request), POST included: the HTTP
    -- layer sends every POST, PATCH and DELETE on a fresh connection so that can never double
    -- an order. After a GET opened a connection, a dropped POST answer reaches the caller as a
    -- dropped connection (an unknown outcome), and the fake saw one POST and placed one order.
    it("drop-after-accept after a reused connection: one POST, one order, the drop seen by the caller", function()
      start("price AAPL 100\ndrop-after-accept 1")
      assert.equal(200, select(2, b:call("GET", "/v2/clock")))
      local r, err = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { client_order_id = "lost-2" }))
      assert.is_nil(r)
      assert.matches("Empty reply from server", tostring(err))
      local s = b:state()
      assert.equal(1, s.counters.posts)
      assert.equal(1, s.counters.orders)
      assert.equal(0, s.counters.duplicates)
    end)

    it("drop-after-accept N STATUS: placed, then answered with a 5xx", function()
      start("price AAPL 100\ndrop-after-accept 1 500")
      local _, status = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { client_order_id = "x-1" }))
      assert.equal(500, status)
      assert.equal(1, #b:state().orders)
    end)

    it("delay: the client times out, the order is placed all the same", function()
      start("price AAPL 100\ndelay 1500 /v2/orders")
      local t0 = os.clock()
      local r, err = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { client_order_id = "slow-1" }), { timeout = 0.5 })
      assert.is_nil(r)
      assert.matches("[Tt]ime", err)
      assert.is_true(os.clock() - t0 < 1.4)
      b:fault("delay 0")
      local found, status = b:call("GET", "/v2/orders:by_client_order_id?client_order_id=slow-1")
      assert.equal(200, status)
      assert.equal("slow-1", found.client_order_id)
      assert.equal(1, b:state().counters.delayed)
      -- the delay applied only to its prefix
      b:fault("delay 1500 /v2/orders")
      local _, cs = b:call("GET", "/v2/clock", nil, { timeout = 0.5 })
      assert.equal(200, cs)
    end)

    it("status 429 COUNT: refused unexecuted, with X-Ratelimit-* and a reset in epoch seconds", function()
      start("price AAPL 100\nstatus 429 2")
      local before = os.time()
      for i = 1, 2 do
        local r, status, resp = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { client_order_id = "rl-" .. i }))
        assert.equal(429, status)
        assert.is_string(r.message)
        assert.equal("0", resp.headers["x-ratelimit-remaining"])
        assert.equal("200", resp.headers["x-ratelimit-limit"])
        local reset = tonumber(resp.headers["x-ratelimit-reset"])
        assert.is_true(reset >= before and reset <= os.time() + 3, "reset " .. tostring(reset))
      end
      local _, status = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { client_order_id = "rl-3" }))
      assert.equal(200, status)
      local s = b:state()
      assert.equal(1, #s.orders)
      assert.equal(3, s.counters.posts)
      assert.equal(2, s.counters.sent_429)
    end)

    it("status 500|503 COUNT PREFIX: only that path, only COUNT times, nothing executed", function()
      start("price AAPL 100\nstatus 503 1 /v2/orders\nstatus 500 2 /v2/account")
      local _, s1 = b:call("GET", "/v2/clock")
      assert.equal(200, s1)
      local _, s2 = b:call("POST", "/v2/orders", order("AAPL", 1, "buy"))
      assert.equal(503, s2)
      assert.equal(0, #b:state().orders)
      local _, s3 = b:call("POST", "/v2/orders", order("AAPL", 1, "buy"))
      assert.equal(200, s3)
      local _, s4 = b:call("GET", "/v2/account")
      local _, s5 = b:call("GET", "/v2/account")
      local _, s6 = b:call("GET", "/v2/account")
      assert.same({ 500, 500, 200 }, { s4, s5, s6 })
      assert.equal(3, b:state().counters.sent_5xx)
    end)

    it("reset: the connection is reset without an answer and nothing is executed", function()
      start("price AAPL 100\nreset 1 /v2/orders")
      local r, err = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { client_order_id = "rst-1" }))
      assert.is_nil(r)
      assert.matches("reset", err) -- an RST, not an orderly close ("Empty reply")
      local s = b:state()
      assert.equal(0, #s.orders)
      assert.equal(1, s.counters.resets)
      assert.equal(1, s.counters.posts)
      local audit = b:audit()
      assert.equal("reset", audit[1].fault)
      assert.equal(0, audit[1].status)
      local _, s2 = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { client_order_id = "rst-1" }))
      assert.equal(200, s2)
    end)

    it("faults change at run time through POST /admin/fault; a bad directive is a 400", function()
      start("price AAPL 100")
      local _, s1 = b:call("GET", "/v2/account")
      assert.equal(200, s1)
      b:fault("status 503 1\n# a comment\nmarket closed")
      local _, s2 = b:call("GET", "/v2/account")
      assert.equal(503, s2)
      local r, s3 = b:admin("POST", "/admin/fault", "explode now")
      assert.equal(400, s3)
      assert.matches("unknown directive", r.message)
      local st = b:state()
      assert.is_false(st.faults.market_open)
      assert.is_false(st.clock.is_open)
    end)

    it("market closed: the clock says so and orders are refused with 403; nothing fills", function()
      start("price AAPL 100 90\nmarket closed")
      local c = b:call("GET", "/v2/clock")
      assert.is_false(c.is_open)
      local r, status = b:call("POST", "/v2/orders", order("AAPL", 1, "buy"))
      assert.equal(403, status)
      assert.equal("market is closed", r.message)
      b:fault("market open")
      local o = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { type = "limit", limit_price = "95" }))
      b:fault("market closed")
      b:step() -- 90 would fill the limit, but the market is closed
      assert.equal("new", (b:call("GET", "/v2/orders/" .. o.id)).status)
      b:fault("market open")
      b:step()
      assert.equal("filled", (b:call("GET", "/v2/orders/" .. o.id)).status)
    end)

    it("hide-open: gone from the open list, still found by id and by client_order_id", function()
      start("price AAPL 100")
      local a = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { type = "limit", limit_price = "90", client_order_id = "vis" }))
      local h = b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { type = "limit", limit_price = "91", client_order_id = "ghost" }))
      assert.equal(2, #(b:call("GET", "/v2/orders?status=open")))
      b:fault("hide-open ghost")
      local open = b:call("GET", "/v2/orders?status=open")
      assert.equal(1, #open)
      assert.equal(a.id, open[1].id)
      local byid = b:call("GET", "/v2/orders/" .. h.id)
      assert.equal("new", byid.status)
      local bycid = b:call("GET", "/v2/orders:by_client_order_id?client_order_id=ghost")
      assert.equal(h.id, bycid.id)
      assert.is_true(b:state().orders[2].hidden)
      -- by order id too
      b:fault("hide-open " .. a.id)
      assert.equal(0, #(b:call("GET", "/v2/orders?status=open")))
    end)

    it("seed-position: a position the client never traded", function()
      start("price AAPL 100\nseed-position AAPL 7 80\nseed-position TSLA -2 250")
      local list = b:call("GET", "/v2/positions")
      assert.equal(2, #list)
      local p = b:call("GET", "/v2/positions/AAPL")
      assert.equal("7", p.qty)
      assert.equal("80", p.avg_entry_price)
      assert.equal("700", p.market_value)
      local s = b:call("GET", "/v2/positions/TSLA")
      assert.equal("-2", s.qty)
      assert.equal("short", s.side)
      assert.equal(0, #b:state().orders)
      assert.equal("100000", (b:call("GET", "/v2/account")).cash)
    end)

    it("rate-limit N: the (N+1)th request within a minute is a 429 with the window's reset", function()
      start("price AAPL 100\nrate-limit 5")
      local last
      for i = 1, 5 do
        local _, status, resp = b:call("GET", "/v2/clock")
        assert.equal(200, status, "request " .. i)
        assert.equal(tostring(5 - i), resp.headers["x-ratelimit-remaining"])
        last = resp
      end
      assert.equal("5", last.headers["x-ratelimit-limit"])
      local _, status, resp = b:call("POST", "/v2/orders", order("AAPL", 1, "buy"))
      assert.equal(429, status)
      assert.equal("0", resp.headers["x-ratelimit-remaining"])
      local reset = tonumber(resp.headers["x-ratelimit-reset"])
      assert.is_true(reset >= os.time() + 55 and reset <= os.time() + 61, "reset " .. tostring(reset))
      local s = b:state()
      assert.equal(0, #s.orders)
      assert.equal(1, s.counters.rate_limited)
      assert.equal("rate-limit", b:audit()[6].fault)
    end)
  end)

  describe("bounds", function()
    it("refuses a body over 64 KiB with 413, audits it, and keeps serving", function()
      start("price AAPL 100")
      local _, status = b:call("POST", "/v2/orders", ("x"):rep(70000))
      assert.equal(413, status)
      local _, s2 = b:call("GET", "/v2/clock")
      assert.equal(200, s2)
      local lines = b:audit()
      assert.same({ "POST", "/v2/orders", 413 }, { lines[1].method, lines[1].path, lines[1].status })
      assert.equal(0, b:state().counters.posts)
    end)
  end)

  describe("audit log", function()
    it("has one JSON line per request and never the secret key", function()
      start("price AAPL 100\nstatus 500 1 /v2/positions")
      b:call("GET", "/v2/account")
      b:call("POST", "/v2/orders", order("AAPL", 1, "buy", { client_order_id = "a-1" }))
      b:call("GET", "/v2/positions")
      b:request("GET", "/v2/account", { headers = { ["APCA-API-KEY-ID"] = fake.KEY_ID, ["APCA-API-SECRET-KEY"] = "guess" } })
      b:step()
      local text = b:audit_text()
      assert.is_nil(text:find(fake.SECRET, 1, true))
      assert.is_nil(text:find("guess", 1, true))
      assert.is_nil(text:find(fake.KEY_ID, 1, true))
      local lines = b:audit()
      assert.equal(5, #lines)
      assert.same({ "GET", "/v2/account", 200, "ok" }, { lines[1].method, lines[1].path, lines[1].status, lines[1].auth })
      assert.equal("a-1", lines[2].client_order_id)
      assert.is_string(lines[2].order_id)
      assert.same({ 500, "status" }, { lines[3].status, lines[3].fault })
      assert.same({ 401, "failed" }, { lines[4].status, lines[4].auth })
      assert.same({ "/admin/step", "admin" }, { lines[5].path, lines[5].auth })
      for i, l in ipairs(lines) do assert.equal(i, l.n) end
      assert.is_nil(b:stderr():find(fake.SECRET, 1, true))
    end)
  end)

  describe("TLS", function()
    local function has_openssl()
      local _, _, code = t.sh("command -v openssl")
      return code == 0
    end
    it("serves HTTPS with a test certificate: refused untrusted, accepted with its CA", function()
      if not has_openssl() then pending("openssl not installed") return end
      local dir = t.tmpdir()
      local _, err, code = t.sh(("openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 2 " ..
        "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1"):format(
        t.quote(dir .. "/k.pem"), t.quote(dir .. "/c.pem")))
      assert.equal(0, code, err)
      local srv, serr = fake.start("price AAPL 100", { tls = { cert = dir .. "/c.pem", key = dir .. "/k.pem" } })
      if not srv and serr:match("built without OpenSSL") then
        os.execute("rm -rf " .. t.quote(dir))
        pending("fakealpaca was built without OpenSSL (libssl-dev)")
        return
      end
      b = assert(srv, serr)
      local r, e = b:call("GET", "/v2/clock")
      assert.is_nil(r)
      assert.matches("certificate", e)
      local c, status = b:call("GET", "/v2/clock", nil, { cainfo = dir .. "/c.pem" })
      assert.equal(200, status)
      assert.is_true(c.is_open)
      local s = b:request("GET", "/admin/state", { headers = {}, cainfo = dir .. "/c.pem" })
      assert.equal(1, s.counters.tls_handshake_failures)
      assert.equal(1, s.counters.requests)
      os.execute("rm -rf " .. t.quote(dir))
    end)
  end)
end)
