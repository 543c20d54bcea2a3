-- Issue 9 "keys never leave" and "network calls that give up", against the loopback
-- fakehttp server: a server that echoes headers with a canary key, escape sequences in
-- server text, a stalled and a trickling server, Retry-After beyond the deadline,
-- redirects and oversized headers. Every limit is set small so each case takes ~1 s.
local http = require "gt.http"
local t = require "tests.lua.support"
local fake = dofile("tests/lua/fixtures/providers/server.lua")

local CANARY_ID, CANARY_SECRET = "CANARYID7x9", "canary-SECRET-4f1c2b9e"
local function elapsed(f)
  local t0 = require("gt.ffi").C.gt_clock_seconds()
  local a, b, c = f()
  return require("gt.ffi").C.gt_clock_seconds() - t0, a, b, c
end

describe("keys never leave", function()
  if not fake.available() then
    it("needs the fakehttp server", function() pending("build " .. fake.bin .. " (make test builds it)") end)
    return
  end
  local srv, dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function()
    if srv then srv:stop(); srv = nil end
    os.execute("rm -rf " .. t.quote(dir))
  end)

  local function fetch_cli(env, extra)
    return t.sh(("%s %s data fetch --provider alpaca --symbol AAPL --start 2024-01-02 --end 2024-01-09 "
      .. "--db %s --base-url %s %s"):format(env, t.quote(t.gtengine), t.quote(dir .. "/k.db"), srv.url, extra or ""))
  end

  it("a server that echoes the request headers cannot put the key from the environment on stderr", function()
    srv = fake.start("route /v2/stocks/\nrespond 403\necho-headers\n")
    local _, err, code = fetch_cli(("HOME=%s APCA_API_KEY_ID=%s APCA_API_SECRET_KEY=%s"):format(
      t.quote(dir), CANARY_ID, CANARY_SECRET))
    assert.equal(1, code)
    assert.equal(CANARY_SECRET, srv:requests()[1].headers["apca-api-secret-key"], "the server did get it")
    assert.matches("HTTP 403", err, 1, true)
    assert.matches("APCA-API-SECRET-KEY: [REDACTED]", err, 1, true)
    assert.not_matches(CANARY_SECRET, err, 1, true)
    assert.not_matches(CANARY_ID, err, 1, true)
    assert.equal(1, select(2, err:gsub("\n", "")), "the echoed header lines are one line")
  end)

  it("nor the key from a key file", function()
    srv = fake.start("route /v2/stocks/\nrespond 401\necho-headers\n")
    local kf = t.write(dir .. "/alpaca.json", ('{"key_id": "%s", "secret_key": "%s"}'):format(CANARY_ID, CANARY_SECRET))
    os.execute("chmod 600 " .. t.quote(kf))
    local _, err, code = fetch_cli(("HOME=%s"):format(t.quote(dir)), "--key-file " .. t.quote(kf))
    assert.equal(1, code)
    assert.matches("[REDACTED]", err, 1, true)
    assert.not_matches(CANARY_SECRET, err, 1, true)
  end)

  it("server text loses its escape sequences and newlines", function()
    local body = t.write(dir .. "/body.json", '{"message":"\027[31mred\027[0m\nsecond\rline\007"}')
    srv = fake.start(("route /v8/finance/chart/\nrespond 400\nfile %s\n"):format(body))
    local _, err, code = t.run(("data fetch --provider yahoo --symbol AAPL --start 2024-01-02 --end 2024-01-09 --db %s --base-url %s")
      :format(t.quote(dir .. "/y.db"), srv.url))
    assert.equal(1, code)
    assert.matches(": red second line", err, 1, true)
    assert.not_matches("\027", err, 1, true)
    assert.equal(1, select(2, err:gsub("\n", "")))
  end)

  it("http.scrub replaces every registered secret, by value", function()
    http.secret("s3cr3t-value-xyz")
    assert.equal("a [REDACTED] b [REDACTED]", http.scrub("a s3cr3t-value-xyz b s3cr3t-value-xyz"))
    assert.equal("x\ny", http.scrub("x\ny"), "newlines kept without control")
    assert.equal("x yz", http.scrub("x\ny\027[1;31mz", true), "the escape sequence goes whole")
  end)
end)

describe("network calls that give up", function()
  if not fake.available() then
    it("needs the fakehttp server", function() pending("build " .. fake.bin .. " (make test builds it)") end)
    return
  end
  local srv
  after_each(function() if srv then srv:stop(); srv = nil end end)
  local FAST = { retries = 0, rate_per_min = 60000, burst = 100, timeout = 20, low_speed_time = 1 }
  local function o(extra)
    local r = {}
    for k, v in pairs(FAST) do r[k] = v end
    for k, v in pairs(extra or {}) do r[k] = v end
    return r
  end

  it("a server that accepts and never answers is given up on by the low-speed limit", function()
    srv = fake.start("max-seconds 6\nroute /stall\nrespond 200\ndelay 5000\nbody {}\n")
    local dt, resp, err = elapsed(function() return http.get(srv.url .. "/stall", o()) end)
    assert.is_nil(resp)
    assert.matches("timed out", err, 1, true)
    assert.matches("under 100 bytes/s for 1 s", err, 1, true)
    assert.is_true(dt < 3, ("took %.1f s"):format(dt))
  end)

  it("a server that trickles a byte every 300 ms is given up on", function()
    srv = fake.start("max-seconds 8\nroute /slow\nrespond 200\nfill 20\ntrickle 300\n")
    local dt, resp, err = elapsed(function() return http.get(srv.url .. "/slow", o()) end)
    assert.is_nil(resp)
    assert.matches("timed out", err, 1, true)
    assert.is_true(dt < 3, ("took %.1f s"):format(dt))
  end)

  it("a Retry-After past the deadline fails at once, saying so", function()
    srv = fake.start("route /later\nrespond 429\nheader Retry-After: 3\n")
    local c = assert(http.new())
    c:deadline(1)
    local dt, resp, err = elapsed(function() return c:get(srv.url .. "/later", o({ retries = 3 })) end)
    c:close()
    assert.is_nil(resp)
    assert.matches("HTTP 429", err, 1, true)
    assert.matches("waiting 3.0 s to retry would pass the 1 s deadline for this command", err, 1, true)
    assert.is_true(dt < 1, ("took %.1f s"):format(dt))
    assert.equal(1, #srv:requests())
  end)

  it("Retry-After: 100 fails at once by default (longer than the 30 s a client waits)", function()
    srv = fake.start("route /later\nrespond 429\nheader Retry-After: 100\n")
    local dt, resp, err = elapsed(function()
      return http.get(srv.url .. "/later", { rate_per_min = 60000, burst = 100 })
    end)
    assert.is_nil(resp)
    assert.matches("Retry-After 100 s, longer than the 30 s this client waits", err, 1, true)
    assert.is_true(dt < 1, ("took %.1f s"):format(dt))
  end)

  it("data fetch --deadline bounds the whole command", function()
    srv = fake.start("route /v8/finance/chart/\nrespond 503\nheader Retry-After: 2\n")
    local dir = t.tmpdir()
    local dt, _, err, code = elapsed(function()
      return t.run(("data fetch --provider yahoo --symbol AAPL --start 2024-01-02 --end 2024-01-09 --db %s --base-url %s --deadline 1")
        :format(t.quote(dir .. "/d.db"), srv.url))
    end)
    os.execute("rm -rf " .. t.quote(dir))
    assert.equal(1, code)
    assert.matches("would pass the 1 s deadline for this command (raise it with --deadline)", err, 1, true)
    assert.is_true(dt < 2, ("took %.1f s"):format(dt))
  end)

  it("data fetch --timeout limits each request", function()
    -- the server would answer after 10 s; the 0.5 s request limit and the 1.5 s deadline end it
    -- long before (the bound leaves room for a loaded machine)
    srv = fake.start("max-seconds 14\nroute /v8/finance/chart/\nrespond 200\ndelay 10000\nbody {}\n")
    local dir = t.tmpdir()
    local dt, _, err, code = elapsed(function()
      return t.run(("data fetch --provider yahoo --symbol AAPL --start 2024-01-02 --end 2024-01-09 --db %s --base-url %s --timeout 0.5 --deadline 1.5")
        :format(t.quote(dir .. "/d.db"), srv.url))
    end)
    os.execute("rm -rf " .. t.quote(dir))
    assert.equal(1, code)
    assert.matches("timed out", err, 1, true)
    assert.matches("total 500 ms", err, 1, true)
    assert.is_true(dt < 6, ("took %.1f s"):format(dt))
  end)

  it("a retry wait is announced when asked (notify, a terminal in the CLI)", function()
    srv = fake.start("route /flaky\nrespond 503\nrespond 200\nbody ok\n")
    local script = ('local r = require("gt.http").get(%q, { retries = 1, backoff_ms = 10, '
      .. 'backoff_cap_ms = 10, notify = true, rate_per_min = 60000, burst = 100 }); print(r and r.body)')
      :format(srv.url .. "/flaky")
    local out, err, code = t.run("-e " .. t.quote(script))
    assert.equal(0, code, err)
    assert.equal("ok\n", out)
    assert.matches("HTTP 503 %(1 attempt%); retry 1 of 1 in 0%.0 s %(Ctrl%-C stops%)\n", err)
  end)

  it("a redirect gets its own message, without the query string", function()
    srv = fake.start("route /moved\nrespond 302\nheader Location: https://elsewhere.example/v8/x?token=abc\n")
    local resp, err = http.get(srv.url .. "/moved", o())
    assert.is_nil(resp)
    assert.matches("HTTP 302 redirect to https://elsewhere.example/v8/x; gtengine does not follow redirects", err, 1, true)
    assert.not_matches("token", err, 1, true)
  end)

  it("oversized response headers get their own message, not 'Out of memory'", function()
    for _, n in ipairs({ 70000, 200000 }) do
      srv = fake.start(("route /big\nrespond 200\nhuge-header %d\n"):format(n))
      local resp, err = http.get(srv.url .. "/big", o())
      assert.is_nil(resp)
      assert.matches("the response headers exceed 64 KiB", err, 1, true)
      srv:stop(); srv = nil
    end
  end)
end)

describe("secrets too short to be keys", function()
  it("are not registered, so they cannot blank out ordinary text", function()
    http.secret("abc")
    assert.equal("a bad abc", http.scrub("a bad abc"))
  end)
end)
