-- `make reliability`: a flood of intents through gt.live against the stateful fake Alpaca
-- (RELIABILITY.md section 7, requirement 5). Alpaca allows 200 requests a minute and the
-- client keeps to 180; at that pace 10,000 intents take about an hour, so both limits are
-- scaled by FLOOD_SCALE (default 10: the fake enforces 2,000 a minute, the client keeps to
-- 1,800), which tests the same arithmetic in about six minutes. FLOOD_N intents (10,000).
--   1. no 429 is ever provoked, one broker order per intent;
--   2. with 429s injected on order POSTs, each refused POST is sent again once (a 429 means
--      not accepted) and nothing else: POSTs = intents + 429s, still one order per intent.
local t = require "tests.lua.support"
local fake = dofile("tests/lua/fixtures/broker/fakealpaca.lua")
local live = require "gt.live"
local http = require "gt.http"
local journal = require "gt.journal"

local KEY, SECRET = "PKFLOOD0000000000001", "flood-secret-0123456789abcdefghijklmn"
local N = tonumber(os.getenv("FLOOD_N") or "") or 10000
local SCALE = tonumber(os.getenv("FLOOD_SCALE") or "") or 10

describe("a flood of intents against the fake broker's rate limit", function()
  if not fake.available() then
    it("needs the fakealpaca server", function() pending("build " .. fake.bin) end)
    return
  end
  local b, dir, J
  before_each(function()
    dir = t.tmpdir()
    t.write(dir .. "/keys.json", ('{"key_id": "%s", "secret_key": "%s"}'):format(KEY, SECRET))
    os.execute("chmod 600 " .. t.quote(dir .. "/keys.json"))
    J = assert(journal.open(dir .. "/j.db", { durable = true }))
    assert(J:session { key = "live:flood", now = 1 })
  end)
  after_each(function()
    if b then b:stop(); b = nil end
    J:close()
    http.limits_reset()
    os.execute("rm -rf " .. t.quote(dir))
  end)

  local function flood(script, session, every429)
    b = assert(fake.start(("key %s %s\nmax-seconds 7200\nprice AAPL 100\nrate-limit %d\n%s")
      :format(KEY, SECRET, 200 * SCALE, script)))
    local broker = assert(live.broker { base_url = b.url, key_file = dir .. "/keys.json", session = session,
      journal = J, rate_per_min = 180 * SCALE, burst = 5, retries = 0, timeout = 5, connect_timeout = 2 })
    local t0 = os.time()
    for seq = 1, N do
      if every429 and seq % every429 == 0 then b:fault("status 429 1 /v2/orders") end
      local o, err = broker:submit { symbol = "AAPL", side = seq % 2 == 0 and "sell" or "buy", qty = 1,
        type = "market", seq = seq }
      assert(o, err)
    end
    local s = b:state()
    print(("# %s: %d intents in %d s: %d POSTs, %d orders, %d 429s sent, %d rate-limited, %d duplicates")
      :format(session, N, os.time() - t0, s.counters.posts, s.counters.orders, s.counters.sent_429,
        s.counters.rate_limited, s.counters.duplicates))
    return s
  end

  it("keeps under the limit: no 429, one order per intent", function()
    local s = flood("", "flood")
    assert.equal(0, s.counters.rate_limited)
    assert.equal(0, s.counters.sent_429)
    assert.equal(N, s.counters.orders)
    assert.equal(N, s.counters.posts)
    assert.equal(0, s.counters.duplicates)
  end)

  it("with 429s injected: each refused POST is sent again once, nothing more", function()
    -- one 429 before every 100th intent (the fake sends its reset header; the client waits)
    local injected = math.floor(N / 100)
    local s = flood("", "flood429", 100)
    assert.equal(injected, s.counters.sent_429)
    assert.equal(N, s.counters.orders)
    assert.equal(N + injected, s.counters.posts)
    assert.equal(0, s.counters.duplicates)
  end)
end)
