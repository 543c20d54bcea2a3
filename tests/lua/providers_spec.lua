-- gt.providers against canned responses (tests/lua/fixtures/providers, in each API's real
-- JSON shape) served by the loopback fakehttp server. Expected values are read off the
-- fixture text; epoch seconds were computed with `date -u -d ... +%s`.
local providers = require "gt.providers"
local t = require "tests.lua.support"
local fake = dofile("tests/lua/fixtures/providers/server.lua")
local FIX = fake.fixtures

local US = 1000000
local KEY_ID, SECRET = "PKTESTKEYID0001", "s3cr3tCANARYvalue42"
local FAST = { retries = 1, backoff_ms = 10, backoff_cap_ms = 50, rate_per_min = 60000, burst = 100, timeout = 5 }

local function keyfile(mode)
  local dir = t.tmpdir()
  local p = dir .. "/alpaca.json"
  t.write(p, ('{"key_id": "%s", "secret_key": "%s"}\n'):format(KEY_ID, SECRET))
  os.execute("chmod " .. mode .. " " .. t.quote(p))
  return p, dir
end

local function alpaca(srv, kf, extra)
  local o = { provider = "alpaca", symbol = "AAPL", timeframe = "1m", start = "2021-02-01",
    stop = "2021-02-02", base_url = srv.url, key_file = kf, http = FAST }
  for k, v in pairs(extra or {}) do o[k] = v end
  return providers.fetch(o)
end

-- Asserts the secret appears in no request line and in no error text.
local function assert_no_leak(srv, err)
  for _, r in ipairs(srv:requests()) do
    assert.is_nil(r.target:find(SECRET, 1, true))
    assert.is_nil(r.target:find(KEY_ID, 1, true))
  end
  if err then
    assert.is_nil(err:find(SECRET, 1, true))
    assert.is_nil(err:find(KEY_ID, 1, true))
  end
end

describe("gt.providers", function()
  if not fake.available() then
    it("needs the fakehttp server", function() pending("build " .. fake.bin .. " (make test builds it)") end)
    return
  end

  local srv, kf, kdir
  before_each(function() kf, kdir = keyfile("600") end)
  after_each(function()
    if srv then srv:stop(); srv = nil end
    os.execute("rm -rf " .. t.quote(kdir))
  end)

  describe("alpaca", function()
    it("follows next_page_token across 3 pages with the keys only in headers", function()
      srv = fake.start(([[
route /v2/stocks/AAPL/bars
respond 200
header Content-Type: application/json
file %salpaca_page1.json
respond 200
file %salpaca_page2.json
respond 200
file %salpaca_page3.json
]]):format(FIX, FIX, FIX))
      local seen = {}
      local s, rep = alpaca(srv, kf, { progress = function(info) seen[#seen + 1] = info.pages end })
      assert.is_table(s, rep)
      assert.equal(5, s.n)
      assert.same({ 1, 2, 3 }, seen)
      assert.equal(3, rep.pages)
      assert.equal(3, rep.requests)
      assert.equal(5, rep.bars)
      assert.equal(0, rep.retries)
      -- 2021-02-01T16:01:00Z = 1612195260 (date -u)
      local want_ts = { 1612195260, 1612195320, 1612195380, 1612195440, 1612195500 }
      for i = 0, 4 do assert.equal(want_ts[i + 1] * US, s:time(i)) end
      assert.same({ 133.32, 133.5, 133.57, 133.42, 133.34 }, s:column("open"))
      assert.same({ 133.74, 133.58, 133.65, 133.47, 133.4 }, s:column("high"))
      assert.same({ 133.31, 133.44, 133.41, 133.3, 133.2 }, s:column("low"))
      assert.same({ 133.5, 133.58, 133.42, 133.33, 133.25 }, s:column("close"))
      assert.same({ 9876, 4452, 6003, 3121, 7780 }, s:column("volume"))
      assert.equal("AAPL", s.symbol)
      assert.equal("1m", s.timeframe)

      local reqs = srv:requests()
      assert.equal(3, #reqs)
      local q1 = reqs[1].target
      assert.matches("^/v2/stocks/AAPL/bars%?", q1)
      assert.matches("timeframe=1Min", q1)
      assert.matches("start=2021%-02%-01T00%%3A00%%3A00Z", q1)
      assert.matches("end=2021%-02%-02T00%%3A00%%3A00Z", q1)
      assert.matches("limit=10000", q1)
      assert.matches("adjustment=raw", q1)
      assert.matches("feed=iex", q1)
      assert.is_nil(q1:find("page_token", 1, true))
      assert.matches("page_token=QUFQTHxNfDIwMjEtMDItMDFUMTY6MDI6MDAuMDAwMDAwMDAwWg%%3D%%3D", reqs[2].target)
      assert.matches("page_token=QUFQTHxNfDIwMjEtMDItMDFUMTY6MDQ6MDAuMDAwMDAwMDAwWg%%3D%%3D", reqs[3].target)
      for _, r in ipairs(reqs) do
        assert.equal(KEY_ID, r.headers["apca-api-key-id"])
        assert.equal(SECRET, r.headers["apca-api-secret-key"])
      end
      assert_no_leak(srv)
    end)

    it("treats a repeated next_page_token as an error, not a loop", function()
      srv = fake.start(("route /v2/\nrespond 200\nfile %salpaca_loop.json\n"):format(FIX))
      local s, err = alpaca(srv, kf)
      assert.is_nil(s)
      assert.equal("alpaca AAPL: next_page_token repeated after page 2 (the server is looping)", err)
      assert.equal(2, #srv:requests())
    end)

    it("reads \"bars\": null as no bars", function()
      srv = fake.start(("route /v2/\nrespond 200\nfile %salpaca_null.json\n"):format(FIX))
      local s, rep = alpaca(srv, kf)
      assert.equal(0, s.n)
      assert.equal(1, rep.pages)
    end)

    it("fails on an invalid bar with provider, time and reason, and returns no data", function()
      srv = fake.start(("route /v2/\nrespond 200\nfile %salpaca_page1.json\nrespond 200\nfile %salpaca_bad_bar.json\n")
        :format(FIX, FIX))
      local s, err = alpaca(srv, kf)
      assert.is_nil(s)
      assert.equal("alpaca AAPL: bar at 2021-02-01T16:01:00Z: timestamp out of order (earlier "
        .. "than the previous bar) (open 133.32 high 133.74 low 133.31 close 133.5 volume 9876)", err)
      srv:stop()
      srv = fake.start(("route /v2/\nrespond 200\nfile %salpaca_bad_bar.json\n"):format(FIX))
      s, err = alpaca(srv, kf)
      assert.is_nil(s)
      assert.equal("alpaca AAPL: bar at 2021-02-01T16:02:00Z: high is below max(open, close, low) "
        .. "(open 133.5 high 133.2 low 133.44 close 133.3 volume 4452)", err)
    end)

    it("fails on a duplicate across pages", function()
      srv = fake.start(("route /v2/\nrespond 200\nfile %salpaca_page1.json\n"
        .. "respond 200\nfile %salpaca_dup_page2.json\n")
        :format(FIX, FIX))
      local s, err = alpaca(srv, kf)
      assert.is_nil(s)
      assert.matches("^alpaca AAPL: bar at 2021%-02%-01T16:02:00Z: duplicate timestamp", err)
    end)

    it("fails on malformed JSON and on a truncated body", function()
      srv = fake.start(("route /v2/\nrespond 200\nfile %smalformed.json\n"):format(FIX))
      local s, err = alpaca(srv, kf)
      assert.is_nil(s)
      assert.equal("alpaca AAPL: response is not valid JSON", err)
      srv:stop()
      srv = fake.start(("route /v2/\nrespond 200\nfile %salpaca_page3.json\ntruncate 40\n"):format(FIX))
      s, err = alpaca(srv, kf)
      assert.is_nil(s)
      assert.matches("^alpaca AAPL: http: GET http://127%.0%.0%.1:%d+/v2/stocks/AAPL/bars: transfer closed", err)
      assert_no_leak(srv, err)
    end)

    it("reports the server's message on 403 and never leaks the keys", function()
      srv = fake.start('route /v2/\nrespond 403\nbody {"message":"forbidden."}\n')
      local s, err, rep = alpaca(srv, kf)
      assert.is_nil(s)
      assert.matches("^alpaca AAPL: http: GET http://127%.0%.0%.1:%d+/v2/stocks/AAPL/bars: "
        .. "HTTP 403 %(1 attempt%): forbidden%.$", err)
      assert.equal(1, rep.requests)
      assert_no_leak(srv, err)
    end)

    it("refuses a key file readable by others, before any request", function()
      srv = fake.start(("route /v2/\nrespond 200\nfile %salpaca_null.json\n"):format(FIX))
      local loose = keyfile("644")
      local s, err = alpaca(srv, loose)
      assert.is_nil(s)
      assert.equal(("alpaca: key file %s has mode 0644: group or others can access it; run: chmod 600 %s")
        :format(loose, loose), err)
      assert.equal(0, #srv:requests())
      assert_no_leak(srv, err)
      os.execute("rm -rf " .. t.quote(loose:match("^(.*)/")))
      local ro = keyfile("400")
      assert.is_table((alpaca(srv, ro)), "mode 0400 is accepted")
      os.execute("rm -rf " .. t.quote(ro:match("^(.*)/")))
    end)

    it("takes keys from the environment and the data URL from APCA_API_DATA_URL", function()
      srv = fake.start(("route /v2/\nrespond 200\nfile %salpaca_page3.json\n"):format(FIX))
      local home = t.tmpdir()
      local out, errout, code = t.sh(("HOME=%s APCA_API_KEY_ID=%s APCA_API_SECRET_KEY=%s APCA_API_DATA_URL=%s %s -e %s")
        :format(t.quote(home), KEY_ID, SECRET, srv.url, t.quote(t.gtengine), t.quote([[
local s, rep = require("gt.providers").fetch{ provider = "alpaca", symbol = "AAPL", timeframe = "1m",
  start = "2021-02-01", stop = "2021-02-02" }
print(s and s.n or rep)]])))
      os.execute("rm -rf " .. t.quote(home))
      assert.equal(0, code, errout)
      assert.equal("1\n", out)
      local r = srv:requests()[1]
      assert.equal(SECRET, r.headers["apca-api-secret-key"])
      assert_no_leak(srv)
    end)
  end)

  describe("yahoo", function()
    it("parses the chart, skips and counts bars with null fields", function()
      srv = fake.start(("route /v8/finance/chart/\nrespond 200\nfile %syahoo_aapl_1d.json\n"):format(FIX))
      local s, rep = providers.fetch({ provider = "yahoo", symbol = "AAPL", timeframe = "1d",
        start = "2024-01-02", stop = "2024-01-09", base_url = srv.url, http = FAST })
      assert.is_table(s, rep)
      assert.equal(4, s.n)
      assert.equal(1, rep.skipped_null)
      assert.equal(4, rep.bars)
      -- 2024-01-02T14:30:00Z = 1704205800; 2024-01-05 (null volume) is skipped
      assert.same({ 1704205800 * US, 1704292200 * US, 1704378600 * US, 1704724200 * US },
        { s:time(0), s:time(1), s:time(2), s:time(3) })
      assert.equal(187.14999389648438, s.open[0])
      assert.equal(188.44000244140625, s.high[0])
      assert.equal(183.88999938964844, s.low[0])
      assert.equal(185.63999938964844, s.close[0])
      assert.equal(82488700, s.volume[0])
      assert.equal(185.55999755859375, s.close[3])
      local q = srv:requests()[1].target
      -- 2024-01-02 = 1704153600, 2024-01-09 = 1704758400 (date -u)
      assert.equal("/v8/finance/chart/AAPL?interval=1d&period1=1704153600&period2=1704758400", q)
    end)

    it("turns chart.error into Yahoo's description", function()
      srv = fake.start(("route /v8/\nrespond 404\nfile %syahoo_error.json\n"
        .. "route /v8/finance/chart/OK\nrespond 200\nfile %syahoo_error.json\n")
        :format(FIX, FIX))
      local s, err = providers.fetch({ provider = "yahoo", symbol = "OK", timeframe = "1d",
        start = "2024-01-02", stop = "2024-01-09", base_url = srv.url, http = FAST })
      assert.is_nil(s)
      assert.equal("yahoo OK: Not Found: No data found, symbol may be delisted", err)
    end)
  end)

  describe("coinbase", function()
    it("puts newest-first candles in order and drops those outside the range", function()
      srv = fake.start(("route /api/v3/brokerage/market/products/BTC-USD/candles\n"
        .. "respond 200\nfile %scoinbase_btc_1h.json\n"):format(FIX))
      -- [2023-11-14T22:00:00Z, 2023-11-15T01:00:00Z) = [1699999200, 1700010000)
      local s, rep = providers.fetch({ provider = "coinbase", symbol = "BTC-USD", timeframe = "1h",
        start = 1699999200 * US, stop = 1700010000 * US, base_url = srv.url, http = FAST })
      assert.is_table(s, rep)
      assert.equal(3, s.n)
      assert.equal(1, rep.dropped_out_of_range)
      assert.same({ 1699999200 * US, 1700002800 * US, 1700006400 * US }, { s:time(0), s:time(1), s:time(2) })
      assert.same({ tonumber("36640.55"), tonumber("36780.9"), tonumber("36950.12") }, s:column("open"))
      assert.same({ tonumber("36780.9"), tonumber("36950.12"), tonumber("36990.4") }, s:column("close"))
      assert.same({ 1020.5, 734.0821, 512.33451234 }, s:column("volume"))
      assert.equal("/api/v3/brokerage/market/products/BTC-USD/candles"
        .. "?end=1700009999&granularity=ONE_HOUR&start=1699999200",
        srv:requests()[1].target)
    end)

    it("splits a range of more than 350 candles into windows", function()
      local T0, N = 1699999200, 400
      local function page(from, to, extra)
        local c = {}
        for i = to, from, -1 do -- newest first, as Coinbase sends them
          local o = 100 + i / 100
          c[#c + 1] = ('{"start":"%d","low":"%.2f","high":"%.3f","open":"%.2f","close":"%.3f","volume":"%d"}')
            :format(T0 + 60 * i, o - 0.01, o + 0.015, o, o + 0.005, i + 1)
        end
        if extra then c[#c + 1] = extra end
        return '{"candles":[' .. table.concat(c, ",") .. "]}"
      end
      local dir = t.tmpdir()
      local early = ('{"start":"%d","low":"1","high":"1","open":"1","close":"1","volume":"1"}'):format(T0 - 60)
      t.write(dir .. "/w1.json", page(0, 349, early))
      t.write(dir .. "/w2.json", page(350, 399))
      srv = fake.start(("route /api/\nrespond 200\nfile %s/w1.json\nrespond 200\nfile %s/w2.json\n"):format(dir, dir))
      local s, rep = providers.fetch({ provider = "coinbase", symbol = "BTC-USD", timeframe = "1m",
        start = T0 * US, stop = (T0 + 60 * N) * US, base_url = srv.url, http = FAST })
      os.execute("rm -rf " .. t.quote(dir))
      assert.is_table(s, rep)
      assert.equal(N, s.n)
      assert.equal(2, rep.pages)
      assert.equal(1, rep.dropped_out_of_range)
      for _, i in ipairs({ 0, 1, 349, 350, 399 }) do
        assert.equal((T0 + 60 * i) * US, s:time(i))
        assert.equal(tonumber(("%.2f"):format(100 + i / 100)), s.open[i])
        assert.equal(i + 1, s.volume[i])
      end
      local reqs = srv:requests()
      assert.equal(2, #reqs)
      assert.matches(("end=%d&granularity=ONE_MINUTE&start=%d$"):format(T0 + 21000 - 1, T0), reqs[1].target)
      assert.matches(("end=%d&granularity=ONE_MINUTE&start=%d$"):format(T0 + 24000 - 1, T0 + 21000), reqs[2].target)
    end)

    it("fails without data when a window fails after the first succeeded", function()
      srv = fake.start(("route /api/\nrespond 200\nfile %scoinbase_btc_1h.json\nrespond 500\n"):format(FIX))
      local s, err, rep = providers.fetch({ provider = "coinbase", symbol = "BTC-USD", timeframe = "1h",
        start = 1699999200 * US, stop = (1699999200 + 3600 * 700) * US, base_url = srv.url, http = FAST })
      assert.is_nil(s)
      assert.matches("^coinbase BTC%-USD: http: GET .*: HTTP 500 %(2 attempts%)$", err)
      assert.equal(1, rep.pages)
      assert.equal(3, rep.requests)
      assert.equal(1, rep.retries)
    end)
  end)

  it("raises on misuse", function()
    assert.has_error(function() providers.fetch({ provider = "nope" }) end,
      "providers.fetch: provider must be alpaca, yahoo or coinbase (got nope)")
    assert.has_error(function()
      providers.fetch({ provider = "yahoo", symbol = "X", timeframe = "4h", start = 0, stop = 1 })
    end, "providers.fetch: yahoo has no timeframe 4h (available: 15m 1d 1h 1m 1mo 1w 5m)")
    assert.has_error(function()
      providers.fetch({ provider = "coinbase", symbol = "X", timeframe = "1h",
        start = "2024-01-02", stop = "2024-01-01" })
    end, "providers.fetch: start must be before stop")
  end)
end)
