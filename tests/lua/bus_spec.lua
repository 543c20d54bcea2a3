-- gt.bus: typed events, delivered in subscription order, a failing subscriber isolated.
local gt = require "gt"

describe("gt.bus", function()
  it("delivers in subscription order across typed and catch-all subscribers", function()
    local bus, got = gt.bus.new(), {}
    bus:subscribe("fill", function(ev) got[#got + 1] = "a:" .. ev.qty end)
    bus:subscribe("*", function(ev) got[#got + 1] = "all:" .. ev.type end)
    bus:subscribe("fill", function(ev) got[#got + 1] = "b:" .. ev.qty end)
    bus:publish { type = "fill", qty = 3 }
    bus:publish { type = "order", qty = 4 }
    assert.same({ "a:3", "all:fill", "b:3", "all:order" }, got)
    assert.is_true(bus:wants("fill")); assert.is_true(bus:wants("bar")) -- "*" wants everything
  end)

  it("unsubscribes, and wants() is false with nobody listening", function()
    local bus, n = gt.bus.new(), 0
    local sub = bus:subscribe("equity", function() n = n + 1 end)
    bus:publish { type = "equity", value = 1 }
    bus:unsubscribe(sub)
    bus:publish { type = "equity", value = 2 }
    assert.equal(1, n)
    assert.is_false(bus:wants("equity"))
  end)

  it("isolates a subscriber that raises: the others still get the event and an error event", function()
    local bus, got = gt.bus.new(), {}
    bus:subscribe("order", function() error("boom") end, "broken")
    bus:subscribe("order", function(ev) got[#got + 1] = ev.order_id end, "ok")
    bus:subscribe("error", function(ev) got[#got + 1] = ev.reason end, "errors")
    bus:publish { type = "order", order_id = 7 }
    assert.equal(2, #got)
    assert.matches("subscriber 'broken' failed on a order event: .*boom", got[1])
    assert.equal(7, got[2])
    local errs, n = bus:errors()
    assert.equal(1, n); assert.matches("boom", errs[1])
  end)

  it("a failing error subscriber does not recurse", function()
    local bus = gt.bus.new()
    bus:subscribe("*", function() error("always") end, "bad")
    bus:publish { type = "bar", ts = 0 }
    local _, n = bus:errors()
    assert.equal(1, n) -- the error event is not sent back to the subscriber that failed
  end)

  it("refuses unknown event types, naming the known ones", function()
    local bus = gt.bus.new()
    assert.has_error(function() bus:publish { type = "fil" } end)
    local ok, err = pcall(bus.subscribe, bus, "trade", function() end)
    assert.is_false(ok)
    assert.matches("unknown event type 'trade' %(known: bar, analysis", err)
  end)
end)
