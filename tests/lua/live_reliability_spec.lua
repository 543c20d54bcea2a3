-- The live broker client (gt.live) against the stateful fake Alpaca (tests/fakebroker/
-- fakealpaca.c) on loopback, for the reliability requirements of RELIABILITY.md section 7
-- that fit in the suite: every response to 1,000 accepted orders is dropped, and there is
-- still exactly one broker order per intent; a position the journal does not know stops
-- reconciliation with a report saying which.
local t = require "tests.lua.support"
local fake = dofile("tests/lua/fixtures/broker/fakealpaca.lua")
local live = require "gt.live"
local http = require "gt.http"
local journal = require "gt.journal"

local KEY, SECRET = "PKRELIABILITY0000001", "reliability-secret-0123456789abcdefghij"

describe("gt.live against the stateful fake broker", function()
  if not fake.available() then
    it("needs the fakealpaca server", function() pending("build " .. fake.bin .. " (make test builds it)") end)
    return
  end
  local b, dir, J
  before_each(function()
    dir = t.tmpdir()
    t.write(dir .. "/keys.json", ('{"key_id": "%s", "secret_key": "%s"}'):format(KEY, SECRET))
    os.execute("chmod 600 " .. t.quote(dir .. "/keys.json"))
    J = assert(journal.open(dir .. "/j.db", { durable = true }))
    assert(J:session { key = "live:reliability", now = 1 })
  end)
  after_each(function()
    if b then b:stop(); b = nil end
    J:close()
    http.limits_reset()
    os.execute("rm -rf " .. t.quote(dir))
  end)

  local function client()
    return assert(live.broker { base_url = b.url, key_file = dir .. "/keys.json", session = "reliability",
      journal = J, rate_per_min = 60000, burst = 1000, retries = 0, timeout = 2, connect_timeout = 1 })
  end

  it("1,000 intents whose accepted orders all lose their answer: one broker order each", function()
    local N = 1000
    b = assert(fake.start(("key %s %s\nmax-seconds 300\nprice AAPL 100\ndrop-after-accept %d"):format(KEY, SECRET, N)))
    local broker = client()
    for seq = 1, N do
      local o, err = broker:submit { symbol = "AAPL", side = seq % 2 == 0 and "sell" or "buy", qty = 1,
        type = "market", seq = seq }
      assert(o, err)
      assert.equal(live.client_order_id("reliability", seq), o.client_order_id)
    end
    local s = b:state()
    assert.equal(N, s.counters.dropped)      -- every answer was lost
    assert.equal(N, s.counters.orders)       -- and the broker holds exactly one order per intent
    assert.equal(N, s.counters.posts)        -- never a second POST
    assert.equal(0, s.counters.duplicates)
    local cids = {}
    for _, o in ipairs(s.orders) do
      assert.is_nil(cids[o.client_order_id], "two orders for " .. tostring(o.client_order_id))
      cids[o.client_order_id] = true
    end
    -- the journal has the intent and its resolution for each
    local pending = 0
    for _, r in ipairs(assert(J:query { type = "order", limit = 100000 })) do
      if r.status == "pending_submit" then pending = pending + 1 end
    end
    assert.equal(N, pending)
  end)

  it("a position at the broker the journal does not know: reconcile refuses and says which", function()
    b = assert(fake.start(("key %s %s\nprice AAPL 100\nprice MSFT 300\nseed-position MSFT 10 290"):format(KEY, SECRET)))
    local broker = client()
    local ok, report = broker:reconcile(live.journal_state(J))
    assert.is_falsy(ok)
    local text = type(report) == "table" and table.concat(report.lines or report, "\n") or tostring(report)
    assert.matches("MSFT: broker holds 10, journal 0", text, 1, true)
  end)
end)
