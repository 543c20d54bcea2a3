-- gt.data.fetch and `gtengine data fetch`: provider -> validation -> store, against the
-- loopback fakehttp server; a repeated fetch asks only for what was never asked for.
local gt = require "gt"
local t = require "tests.lua.support"
local fake = dofile("tests/lua/fixtures/providers/server.lua")
local FIX = fake.fixtures
local FAST = { retries = 1, backoff_ms = 10, backoff_cap_ms = 50, rate_per_min = 60000, burst = 100, timeout = 5 }
local DAY = 86400e6

describe("gt.data.fetch", function()
  if not fake.available() then
    it("needs the fakehttp server", function() pending("build " .. fake.bin .. " (make test builds it)") end)
    return
  end
  local srv, dir
  before_each(function()
    dir = t.tmpdir()
    srv = fake.start(("route /v8/finance/chart/\nrespond 200\nfile %syahoo_aapl_1d.json\n"):format(FIX))
  end)
  after_each(function()
    srv:stop()
    os.execute("rm -rf " .. t.quote(dir))
  end)

  local function fetch(start, stop)
    return gt.data.fetch { provider = "yahoo", symbol = "AAPL", timeframe = "1d", start = start, stop = stop,
      db = dir .. "/f.db", base_url = srv.url, http = FAST }
  end

  it("stores validated bars dated by their day, and does not ask twice", function()
    local s, rep = fetch("2024-01-02", "2024-01-09")
    assert.is_table(s, rep)
    assert.equal(1, rep.requests)
    assert.equal(4, s.n)
    assert.equal("2024-01-02", require("gt.time").format(s:time(0)))
    assert.equal(0, s:time(3) % DAY, "daily bars at midnight UTC, like CSV files")
    -- the same range again: nothing asked, the stored bars returned
    local s2, rep2 = fetch("2024-01-02", "2024-01-09")
    assert.equal(0, rep2.requests)
    assert.equal(4, s2.n)
    assert.equal(1, #srv:requests())
    -- a wider range asks only for the new parts, before and after
    local _, rep3 = fetch("2023-12-28", "2024-01-12")
    assert.equal(2, #rep3.ranges)
    local reqs = srv:requests()
    assert.equal(3, #reqs)
    -- 2023-12-28 = 1703721600, 2024-01-02 = 1704153600, 2024-01-09 = 1704758400, 2024-01-12 = 1705017600
    assert.matches("period1=1703721600&period2=1704153600", reqs[2].target, 1, true)
    assert.matches("period1=1704758400&period2=1705017600", reqs[3].target, 1, true)
    -- and the store holds the bars once
    local db = assert(require("gt.store").open(dir .. "/f.db"))
    local all = assert(db:load { symbol = "AAPL", timeframe = "1d" })
    assert.equal(4, all.n)
    db:close()
  end)

  it("works from the command line with a summary line", function()
    local out, err, code = t.run(("data fetch --provider yahoo --symbol AAPL --start 2024-01-02 --end 2024-01-09 --db %s --base-url %s")
      :format(dir .. "/c.db", srv.url))
    assert.equal(0, code, err)
    assert.matches("AAPL 1d from yahoo: 4 new bars in 1 request; 4 bars stored for the range", out, 1, true)
    out = t.run(("data fetch --provider yahoo --symbol AAPL --start 2024-01-02 --end 2024-01-09 --db %s --base-url %s")
      :format(dir .. "/c.db", srv.url))
    assert.matches("already complete, nothing requested", out, 1, true)
  end)
end)

describe("fetch coverage in the store", function()
  it("merges intervals and reports what is missing", function()
    local dir = t.tmpdir()
    local db = assert(require("gt.store").open(dir .. "/c.db"))
    assert.same({ { 0, 100 } }, db:missing("X", "1d", 0, 100))
    db:cover("X", "1d", 10, 20)
    db:cover("X", "1d", 30, 40)
    assert.same({ { 0, 10 }, { 20, 30 }, { 40, 100 } }, db:missing("X", "1d", 0, 100))
    db:cover("X", "1d", 20, 30) -- touching both: one interval 10..40
    assert.same({ { 0, 10 }, { 40, 100 } }, db:missing("X", "1d", 0, 100))
    assert.same({}, db:missing("X", "1d", 12, 38))
    assert.same({ { 0, 100 } }, db:missing("X", "1h", 0, 100), "per timeframe")
    db:close()
    os.execute("rm -rf " .. t.quote(dir))
  end)
end)

describe("fetch coverage that heals", function()
  if not fake.available() then
    it("needs the fakehttp server", function() pending("build " .. fake.bin .. " (make test builds it)") end)
    return
  end
  local gtime = require "gt.time"
  local HOUR = 3600e6
  local dir, srv
  before_each(function() dir = t.tmpdir() end)
  after_each(function()
    if srv then srv:stop(); srv = nil end
    os.execute("rm -rf " .. t.quote(dir))
  end)

  -- A Yahoo chart reply with one bar per epoch second in ts (prices are arbitrary but valid).
  local function yahoo_json(ts)
    local n = #ts
    local function rep(v) local o = {} for i = 1, n do o[i] = v end return table.concat(o, ",") end
    return ('{"chart":{"result":[{"meta":{"symbol":"AAPL"},"timestamp":[%s],"indicators":{"quote":'
      .. '[{"open":[%s],"high":[%s],"low":[%s],"close":[%s],"volume":[%s]}]}}],"error":null}}')
      :format(table.concat(ts, ","), rep(10), rep(11), rep(9), rep(10), rep(100))
  end

  local function fetch(tf, start, stop, extra)
    local o = { provider = "yahoo", symbol = "AAPL", timeframe = tf, start = start, stop = stop,
      db = dir .. "/h.db", base_url = srv.url, http = FAST }
    for k, v in pairs(extra or {}) do o[k] = v end
    return gt.data.fetch(o)
  end

  it("a reply with zero bars records nothing, so the range is asked for again", function()
    srv = fake.start(("route /v8/finance/chart/\nrespond 200\nfile %syahoo_empty.json\n"):format(FIX))
    local s, err, rep = fetch("1d", "2024-01-02", "2024-01-09")
    assert.is_nil(s)
    assert.matches("no AAPL 1d bars stored", err, 1, true)
    assert.matches("yahoo returned no bars for it", err, 1, true)
    assert.equal(1, rep.requests)
    local db = assert(require("gt.store").open(dir .. "/h.db"))
    -- 2024-01-02 = 1704153600 s, 2024-01-09 = 1704758400 s: still wholly missing
    assert.same({ { 1704153600e6, 1704758400e6 } }, db:missing("AAPL", "1d", 1704153600e6, 1704758400e6))
    db:close()
    local _, _, rep2 = fetch("1d", "2024-01-02", "2024-01-09")
    assert.equal(1, rep2.requests, "the empty range is requested again")
    assert.equal(2, #srv:requests())
  end)

  it("today is covered only up to the end of the last bar received", function()
    -- 1h bars 6 and 5 hours before now (hour-aligned): the last ends at h5 + 1 h, which is
    -- at least 4 hours before now, so neither "now - 1 h" (the old rule) nor the fetch's stop
    local now = gtime.now()
    local h6 = now - now % HOUR - 6 * HOUR
    local h5 = h6 + HOUR
    local file = dir .. "/bars.json"
    t.write(file, yahoo_json({ ("%d"):format(h6 / 1e6), ("%d"):format(h5 / 1e6) }))
    srv = fake.start(("route /v8/finance/chart/\nrespond 200\nfile %s\n"):format(file))
    local start = h6 - 2 * HOUR
    local s, rep = fetch("1h", start, nil)
    assert.is_table(s, rep)
    assert.equal(2, s.n)
    local today = now - now % gtime.DAY
    local expect = math.max(today, h5 + HOUR) -- days before today are closed; today up to the last bar's end
    local db = assert(require("gt.store").open(dir .. "/h.db"))
    local miss = db:missing("AAPL", "1h", start, now)
    db:close()
    assert.equal(1, #miss)
    assert.equal(expect, miss[1][1])
  end)

  it("refresh = true and --refresh ask for a covered range again", function()
    srv = fake.start(("route /v8/finance/chart/\nrespond 200\nfile %syahoo_aapl_1d.json\n"):format(FIX))
    local _, rep = fetch("1d", "2024-01-02", "2024-01-09")
    assert.equal(1, rep.requests)
    local _, rep2 = fetch("1d", "2024-01-02", "2024-01-09")
    assert.equal(0, rep2.requests)
    local s3, rep3 = fetch("1d", "2024-01-02", "2024-01-09", { refresh = true })
    assert.equal(1, rep3.requests)
    assert.equal(4, s3.n)
    local out, err, code = t.run(("data fetch --provider yahoo --symbol AAPL --start 2024-01-02 --end 2024-01-09 --db %s --base-url %s --refresh")
      :format(dir .. "/h.db", srv.url))
    assert.equal(0, code, err)
    assert.matches("4 new bars in 1 request", out, 1, true)
    assert.equal(3, #srv:requests())
  end)
end)
