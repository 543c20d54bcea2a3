-- gt.feed.poll against Coinbase-shaped candles from the loopback fakehttp server, on a
-- simulated clock. Times: T0 = 2024-03-01T12:00:00Z (a Friday) = 1709294400 s (date -u -d
-- 2024-03-01T12:00:00Z +%s); bar i starts at T0 + 60 i s. Prices: BTC-USD bar i opens at
-- 100 + i, high +1, low -1, closes at 100.5 + i; ETH-USD the same from 50. A bar "in
-- progress" is served with close + 0.25 (not yet its final value).
local ffi = require "ffi"
local gt = require "gt"
local gtffi = require "gt.ffi"
local C = gtffi.C
local fake = dofile("tests/lua/fixtures/providers/server.lua")

local SEC = 1000000
local T0 = 1709294400 * SEC
local FAST = { retries = 0, backoff_ms = 10, backoff_cap_ms = 50, rate_per_min = 60000, burst = 100, timeout = 5 }
local function bar_t(i) return T0 + 60 * SEC * i end

-- One candle; base 100 (BTC) or 50 (ETH); partial: the in-progress values.
local function candle(i, base, partial, bad)
  local o = base + i
  local h, l, c = o + 1, o - 1, o + 0.5 + (partial and 0.25 or 0)
  if bad then h = l - 5 end -- high below low: gt_bar_check refuses it
  return ('{"start":"%d","low":"%.2f","high":"%.2f","open":"%.2f","close":"%.2f","volume":"%d"}')
    :format(bar_t(i) / SEC, l, h, o, c, 10 + i)
end

-- A candles response with bars from..to (to in progress when partial), newest first like
-- Coinbase; skip = { [i] = true } leaves bars out, bad = { [i] = true } corrupts them.
local function candles(base, from, to, opts)
  opts = opts or {}
  local out = {}
  for i = to, from, -1 do
    if not (opts.skip and opts.skip[i]) then
      out[#out + 1] = candle(i, base, opts.partial and i == to, opts.bad and opts.bad[i])
    end
  end
  return '{"candles":[' .. table.concat(out, ",") .. "]}"
end

-- A script with one route per symbol, serving its responses in order (the last repeats).
local function script(btc, eth)
  local lines = {}
  for _, pair in ipairs({ { "BTC-USD", btc }, { "ETH-USD", eth } }) do
    lines[#lines + 1] = "route /api/v3/brokerage/market/products/" .. pair[1] .. "/candles"
    for _, r in ipairs(pair[2]) do
      if type(r) == "table" then
        for _, l in ipairs(r) do lines[#lines + 1] = l end
      else
        lines[#lines + 1] = "respond 200"
        lines[#lines + 1] = "body " .. r
      end
    end
  end
  return table.concat(lines, "\n") .. "\n"
end

describe("gt.feed.poll", function()
  if not fake.available() then
    it("needs the fakehttp server", function() pending("build " .. fake.bin .. " (make test builds it)") end)
    return
  end

  local srv, clock
  after_each(function()
    if srv then srv:stop(); srv = nil end
    if clock then clock:close(); clock = nil end
  end)

  -- history of 5 one-minute bars at T0 + 9 min 30 s: bars 4..8 complete, 9 in progress
  local function feed(extra)
    clock = gt.clock.sim(bar_t(9) + 30 * SEC)
    local o = { provider = "coinbase", symbols = { "BTC-USD", "ETH-USD" }, timeframe = "1m", history = 5,
      clock = clock, base_url = srv.url, http = FAST }
    for k, v in pairs(extra or {}) do o[k] = v end
    return gt.feed.poll(o)
  end

  it("loads N completed bars per symbol on the same timestamps, never the bar in progress", function()
    srv = fake.start(script({ candles(100, 0, 9, { partial = true }) }, { candles(50, 0, 9, { partial = true }) }))
    local f = feed()
    local list = assert(f:history())
    assert.equal(2, #list)
    local btc, eth = list[1], list[2]
    assert.equal("BTC-USD", btc.symbol)
    assert.equal("ETH-USD", eth.symbol)
    assert.equal("1m", btc.timeframe)
    assert.equal(5, btc.n)
    assert.equal(5, eth.n)
    for i = 0, 4 do
      assert.equal(bar_t(4 + i), btc:time(i))
      assert.equal(btc:time(i), eth:time(i))
    end
    -- bar 8 = the last complete one: BTC 108 / 109 / 107 / 108.5, ETH 58.5
    assert.same({ 108, 109, 107, 108.5, 18 }, { btc.open[4], btc.high[4], btc.low[4], btc.close[4], btc.volume[4] })
    assert.equal(58.5, eth.close[4])
    assert.same(list, f:history(), "the same series on a second call")
    local st = f:status()
    assert.equal(5, st.bars)
    assert.equal(bar_t(8), st.last_bar_ts)
    assert.equal(0, st.errors)
    assert.equal(0, st.polls)
  end)

  it("leaves out bars outside the calendar's session unless extended", function()
    -- bars 535..545 are 20:55Z..21:05Z, around New York's 16:00 close (21:00Z in EST)
    srv = fake.start(script({ candles(100, 535, 545) }, { candles(50, 535, 545) }))
    local function load(extended)
      local c = gt.clock.sim(bar_t(550))
      local f = gt.feed.poll { provider = "coinbase", symbols = { "BTC-USD", "ETH-USD" }, timeframe = "1m",
        history = 3, calendar = "us_equity", extended = extended, clock = c, base_url = srv.url, http = FAST }
      local list = assert(f:history())
      c:close()
      return list[1], f:status()
    end
    local s, st = load(false)
    assert.equal(3, s.n)
    assert.equal(bar_t(539), s:time(2), "15:59 New York, the session's last bar")
    assert.equal(bar_t(537), s:time(0))
    assert.equal(2 * 6, st.outside_hours, "16:00..16:05 for both symbols")
    s = load(true)
    assert.equal(bar_t(545), s:time(2))
  end)

  it("appends exactly the bar that completed, to every symbol, and 0 when none did", function()
    srv = fake.start(script(
      { candles(100, 0, 9, { partial = true }), candles(100, 0, 10, { partial = true }) },
      { candles(50, 0, 9, { partial = true }), candles(50, 0, 10, { partial = true }) }))
    local f = feed()
    local list = assert(f:history())
    local btc, eth = list[1], list[2]
    local old_close = btc.close -- a column taken before the poll keeps its length
    clock:set(bar_t(10) + 5 * SEC) -- bar 9 ended at bar_t(10); bar 10 is in progress
    assert.equal(1, f:poll())
    assert.equal(6, btc.n)
    assert.equal(6, eth.n)
    assert.equal(bar_t(9), btc:time(5))
    assert.equal(bar_t(9), eth:time(5))
    -- the bar's final values, not the in-progress ones served with the history
    assert.equal(109.5, btc.close[5])
    assert.equal(59.5, eth.close[5])
    assert.equal(110, btc.high[5])
    assert.equal(6, #btc.close)
    assert.equal(5, #old_close)
    assert.equal(108.5, old_close[4])
    assert.has_error(function() return old_close[5] end)
    -- nothing new complete: 0, and nothing changes
    clock:set(bar_t(10) + 50 * SEC)
    assert.equal(0, f:poll())
    assert.equal(6, btc.n)
    local st = f:status()
    assert.equal(2, st.polls)
    assert.equal(6, st.bars)
    assert.equal(bar_t(9), st.last_bar_ts)
    assert.equal(0, st.errors)
    -- the second poll asked only from after the last bar it had (bar 9 at 1709294940 s)
    local reqs = srv:requests()
    assert.equal(6, #reqs)
    assert.matches("&start=1709294940$", reqs[#reqs].target)
  end)

  it("returns nil, err on a 500 and on a timeout, appends nothing, and recovers", function()
    srv = fake.start(script(
      { candles(100, 0, 9, { partial = true }),
        { "respond 500", 'body {"message":"upstream down"}' },
        { "respond 200", "delay 1500", "body " .. candles(100, 0, 11, { partial = true }) },
        candles(100, 0, 11, { partial = true }) },
      { candles(50, 0, 9, { partial = true }), candles(50, 0, 11, { partial = true }) }))
    local f = feed { http = { retries = 0, timeout = 1, rate_per_min = 60000, burst = 100 } }
    local list = assert(f:history())
    clock:set(bar_t(11) + 5 * SEC) -- bars 9 and 10 complete
    local n, err = f:poll()
    assert.is_nil(n)
    assert.matches("500", err)
    assert.matches("BTC%-USD", err)
    assert.equal(5, list[1].n)
    assert.equal(5, list[2].n, "ETH's bars wait: no symbol grows alone")
    n, err = f:poll()
    assert.is_nil(n)
    assert.matches("[Tt]ime", err)
    local st = f:status()
    assert.equal(2, st.errors)
    assert.equal(err, st.last_error)
    assert.equal(5, list[1].n)
    assert.equal(2, f:poll(), "the next poll takes both bars")
    assert.equal(7, list[1].n)
    assert.equal(7, list[2].n)
    assert.equal(110.5, list[1].close[6])
    assert.equal(bar_t(10), f:status().last_bar_ts)
  end)

  it("rejects a malformed bar with its reason and keeps the good bars after it", function()
    srv = fake.start(script(
      { candles(100, 0, 9, { partial = true }), candles(100, 0, 11, { partial = true, bad = { [9] = true } }) },
      { candles(50, 0, 9, { partial = true }), candles(50, 0, 11, { partial = true }) }))
    local f = feed()
    local list = assert(f:history())
    clock:set(bar_t(11) + 5 * SEC)
    assert.equal(1, f:poll(), "bar 10 only: bar 9 is bad for BTC, so no symbol gets it")
    assert.equal(6, list[1].n)
    assert.equal(6, list[2].n)
    assert.equal(bar_t(10), list[1]:time(5))
    assert.equal(bar_t(10), list[2]:time(5))
    assert.equal(110.5, list[1].close[5])
    local st = f:status()
    assert.equal(1, st.rejected)
    assert.equal("BTC-USD", st.rejections[1].symbol)
    assert.equal(bar_t(9), st.rejections[1].ts)
    assert.equal("high is below max(open, close, low)", st.rejections[1].reason)
    assert.matches("BTC%-USD: bar at 2024%-03%-01T12:09:00Z rejected: high is below", st.last_error)
    assert.equal(1, st.dropped)
    assert.equal(bar_t(9), st.drops[1].ts)
    assert.matches("no bar for BTC%-USD", st.drops[1].reason)
    -- the bad bar is not asked for (or rejected) again
    clock:set(bar_t(11) + 30 * SEC)
    assert.equal(0, f:poll())
    assert.equal(1, f:status().rejected)
  end)

  it("holds a time one symbol lacks, appends it when it arrives, drops it after `hold` polls", function()
    srv = fake.start(script(
      { candles(100, 0, 9, { partial = true }), candles(100, 0, 11, { partial = true }) },
      { candles(50, 0, 9, { partial = true }),
        candles(50, 0, 9, { skip = { [9] = true } }), -- ETH's bar 9 is late
        candles(50, 0, 10, { partial = true }),        -- now it is there
        candles(50, 0, 9) }))                          -- and bar 10 never comes
    local f = feed { hold = 2 }
    local list = assert(f:history())
    clock:set(bar_t(10) + 5 * SEC)
    assert.equal(0, f:poll(), "BTC's bar 9 waits for ETH's")
    assert.equal(5, list[1].n)
    assert.equal(1, f:status().held)
    clock:set(bar_t(10) + 20 * SEC)
    assert.equal(1, f:poll())
    assert.equal(bar_t(9), list[1]:time(5))
    assert.equal(bar_t(9), list[2]:time(5))
    assert.equal(0, f:status().dropped)
    -- bar 10 (complete at bar_t(11)) never comes for ETH: held once, dropped on the 2nd poll
    clock:set(bar_t(11) + 5 * SEC)
    assert.equal(0, f:poll())
    assert.equal(0, f:status().dropped)
    assert.equal(0, f:poll())
    local st = f:status()
    assert.equal(1, st.dropped)
    assert.equal(bar_t(10), st.drops[1].ts)
    assert.equal("no bar for ETH-USD after 2 polls", st.drops[1].reason)
    assert.equal(6, list[1].n)
    assert.equal(0, st.held)
  end)

  it("feeds a backtest that gt_bt_extend carries onto the polled bar", function()
    srv = fake.start(script(
      { candles(100, 0, 9, { partial = true }), candles(100, 0, 10, { partial = true }) },
      { candles(50, 0, 9, { partial = true }), candles(50, 0, 10, { partial = true }) }))
    local f = feed()
    local list = assert(f:history())
    local cfg = ffi.new("gt_bt_config")
    cfg.capital, cfg.leverage, cfg.fill_mode, cfg.comm_kind = 10000, 1, C.GT_FILL_NEXT_OPEN, C.GT_COMM_PCT
    cfg.fractional = 1
    local arr = ffi.new("const gt_series *[2]", list[1]._c, list[2]._c)
    local bt = ffi.gc(C.gt_bt_new(cfg, arr, 2), C.gt_bt_free)
    for i = 0, 4 do
      assert.equal(0, C.gt_bt_begin_bar(bt, i))
      if i == 4 then -- buy 10 BTC at the last history bar's close: fills at the next open
        local req = ffi.new("gt_order_req")
        req.symbol, req.qty, req.side, req.type, req.tif = 0, 10, C.GT_BUY, C.GT_ORDER_MARKET, C.GT_TIF_GTC
        req.limit, req.stop, req.trail, req.trail_pct = 0 / 0, 0 / 0, 0 / 0, 0 / 0
        assert.is_true(C.gt_bt_submit(bt, req) > 0)
      end
      assert.equal(0, C.gt_bt_end_bar(bt, i))
    end
    clock:set(bar_t(10) + 5 * SEC)
    assert.equal(1, f:poll())
    assert.equal(C.GT_ERANGE, C.gt_bt_begin_bar(bt, 5), "the backtest does not know bar 5 yet")
    assert.equal(0, C.gt_bt_extend(bt))
    assert.equal(0, C.gt_bt_begin_bar(bt, 5))
    assert.equal(0, C.gt_bt_end_bar(bt, 5))
    local fp = ffi.new("const gt_fill *[1]")
    assert.equal(1, tonumber(C.gt_bt_fills(bt, fp)))
    assert.equal(5, tonumber(fp[0][0].bar))
    assert.equal(109, fp[0][0].price, "bar 9's open")
    -- equity at bar 5: 10000 - 1090 + 10 * 109.5 = 10005
    local ep = ffi.new("const double *[1]")
    assert.equal(6, tonumber(C.gt_bt_equity(bt, ep)))
    assert.equal(10005, ep[0][5])
    -- growth that is not the same on every series is refused
    assert.truthy(list[1]:push(bar_t(10), 110, 111, 109, 110.5, 1))
    assert.equal(C.GT_EINVAL, C.gt_bt_extend(bt))
    assert.matches("series 1 has 6 bars, series 0 has 7", gtffi.errmsg())
  end)
end)

describe("gt.feed.poll daily bars", function()
  if not fake.available() then return end
  local srv, clock, dir
  after_each(function()
    if srv then srv:stop(); srv = nil end
    if clock then clock:close(); clock = nil end
    if dir then os.execute("rm -rf '" .. dir .. "'"); dir = nil end
  end)

  -- Yahoo stamps AAPL's sessions at the 14:30Z open: 2024-01-02, 03, 04, 05 and 08
  -- (tests/lua/fixtures/providers/yahoo_aapl_1d.json); the series date them by UTC day.
  it("dates them by day, takes a day once it has ended, waits for Monday's open", function()
    srv = fake.start(("route /v8/finance/chart/\nrespond 200\nfile %syahoo_aapl_1d.json\n"):format(fake.fixtures))
    dir = require("tests.lua.support").tmpdir()
    clock = gt.clock.sim("2024-01-05T18:00:00Z") -- Friday's session is under way
    local function daily()
      return gt.feed.poll { provider = "yahoo", symbols = { "AAPL" }, timeframe = "1d", history = 10,
        clock = clock, base_url = srv.url, http = FAST, db = dir .. "/feed.db" }
    end
    local f = daily()
    local s = assert(f:history())[1]
    assert.equal(3, s.n, "Friday's bar is in progress until Saturday 00:00Z")
    assert.equal(gt.time.parse("2024-01-02"), s:time(0))
    assert.equal(gt.time.parse("2024-01-04"), s:time(2))
    assert.equal(181.91000366210938, s.close[2])
    assert.equal(1, #srv:requests())
    -- the store caches the history: a second feed on the same db asks for nothing
    assert.equal(3, assert(daily():history())[1].n)
    assert.equal(1, #srv:requests())
    clock:set("2024-01-06T01:00:00Z") -- Saturday: Friday's bar has ended, but Yahoo sent it
    assert.equal(0, f:poll())            -- with a null close: skipped, and counted
    assert.equal(3, s.n)
    assert.equal(1, f:status().skipped_null)
    assert.equal(gt.time.parse("2024-01-08T14:30:00Z"), f:next_poll())
    clock:set("2024-01-09T01:00:00Z") -- Monday's bar has ended
    assert.equal(1, f:poll())
    assert.equal(4, s.n)
    assert.equal(gt.time.parse("2024-01-08"), s:time(3))
    assert.equal(185.55999755859375, s.close[3])
    assert.equal(0, f:poll())
  end)
end)

describe("gt.feed.poll timing", function()
  local clock
  after_each(function() if clock then clock:close(); clock = nil end end)

  local function feed(provider, at, extra)
    clock = gt.clock.sim(at)
    local o = { provider = provider, symbols = { "X" }, timeframe = "1m", clock = clock }
    for k, v in pairs(extra or {}) do o[k] = v end
    return gt.feed.poll(o)
  end

  it("waits for the open on a closed us_equity market, never on crypto", function()
    -- Saturday 2024-03-02 17:00Z; New York is on EST (-5 h) until 2024-03-10, so Monday's
    -- 09:30 open is 2024-03-04T14:30:00Z
    local f = feed("alpaca", "2024-03-02T17:00:00Z")
    assert.equal("us_equity", f.cal_name)
    assert.equal(gt.time.parse("2024-03-04T14:30:00Z"), f:next_poll())
    assert.equal(gt.time.parse("2024-03-04T14:30:00Z"), f:wait())
    assert.equal(gt.time.parse("2024-03-04T14:30:00Z"), clock:now(), "a simulated clock is set at once")
    -- open: the opening boundary plus the default 2 s lag, then a minute later
    assert.equal(gt.time.parse("2024-03-04T14:30:02Z"), f:next_poll())
    clock:set("2024-03-04T14:30:02Z")
    assert.equal(gt.time.parse("2024-03-04T14:31:02Z"), f:next_poll())
    -- 15:59:30 New York: the 15:59 bar ends with the session at 16:00, polled then
    clock:set("2024-03-04T20:59:30Z")
    assert.equal(gt.time.parse("2024-03-04T21:00:02Z"), f:next_poll())
    -- after the close: Tuesday's open
    clock:set("2024-03-04T21:00:02Z")
    assert.equal(gt.time.parse("2024-03-05T14:30:00Z"), f:next_poll())
    -- crypto (Coinbase's default calendar) on the same Saturday: the next minute
    local c = feed("coinbase", "2024-03-02T17:00:00Z")
    assert.equal("crypto", c.cal_name)
    assert.equal(gt.time.parse("2024-03-02T17:00:02Z"), c:next_poll())
    local c0 = feed("coinbase", "2024-03-02T17:00:00Z", { lag = 0, interval = 300 })
    assert.equal(gt.time.parse("2024-03-02T17:05:00Z"), c0:next_poll())
  end)

  it("checks its options", function()
    assert.has_error(function() gt.feed.poll { provider = "nope", symbols = { "X" } } end)
    assert.has_error(function() gt.feed.poll { provider = "alpaca", symbols = {} } end)
    assert.has_error(function() gt.feed.poll { provider = "alpaca", symbols = { "X", "X" } } end)
    assert.has_error(function() gt.feed.poll { provider = "alpaca", symbols = { "X" }, timeframe = "1w" } end)
    assert.has_error(function() gt.feed.poll { provider = "alpaca", symbols = { "X" }, bogus = 1 } end)
    assert.has_error(function() gt.feed.poll { provider = "alpaca", symbols = { "X" }, calendar = "lse" } end)
    local f = gt.feed.poll { provider = "alpaca", symbols = { "X" } }
    assert.has_error(function() f:poll() end, "gt.feed: call feed:history() before feed:poll()")
  end)
end)
