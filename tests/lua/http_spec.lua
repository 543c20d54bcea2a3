-- gt.http against the loopback fakehttp server: retries, Retry-After, timeouts, size cap,
-- URL policy, and what error messages may contain. Request counts and times come from
-- the server's own log, not from the client under test.
local http = require "gt.http"
local fake = dofile("tests/lua/fixtures/providers/server.lua")

-- Fast settings so failures take milliseconds; each test overrides what it checks.
local function opts(extra)
  local o = { retries = 3, backoff_ms = 20, backoff_cap_ms = 200, rate_per_min = 60000,
    burst = 100, timeout = 5 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

describe("gt.http", function()
  if not fake.available() then
    it("needs the fakehttp server", function() pending("build " .. fake.bin .. " (make test builds it)") end)
    return
  end

  local srv
  after_each(function() if srv then srv:stop(); srv = nil end end)

  it("GETs with headers and returns status, body and the headers that matter", function()
    srv = fake.start([[
route /v1/ok
respond 200
header Content-Type: application/json
header X-Ratelimit-Remaining: 199
header X-Secret-Other: not-kept
body {"hello":"world"}
]])
    local resp, err = http.get(srv.url .. "/v1/ok?x=1",
      opts({ headers = { Accept = "application/json", ["X-Test"] = "abc" } }))
    assert.is_nil(err)
    assert.equal(200, resp.status)
    assert.equal('{"hello":"world"}', resp.body)
    assert.equal(1, resp.attempts)
    assert.equal(17, resp.bytes)
    assert.equal("application/json", resp.headers["content-type"])
    assert.equal("199", resp.headers["x-ratelimit-remaining"])
    assert.is_nil(resp.headers["x-secret-other"])
    local reqs = srv:requests()
    assert.equal(1, #reqs)
    assert.equal("GET", reqs[1].method)
    assert.equal("/v1/ok?x=1", reqs[1].target)
    assert.equal("abc", reqs[1].headers["x-test"])
  end)

  it("waits Retry-After (seconds) on 429, then succeeds with exactly 2 requests", function()
    srv = fake.start([[
route /limited
respond 429
header Retry-After: 1
body {"message":"too many requests"}
respond 200
body ok
]])
    local resp, err = http.get(srv.url .. "/limited", opts())
    assert.is_nil(err)
    assert.equal(200, resp.status)
    assert.equal(2, resp.attempts)
    assert.is_true(resp.waited_s >= 1)
    local reqs = srv:requests()
    assert.equal(2, #reqs)
    assert.is_true(reqs[2].at - reqs[1].at >= 1.0,
      ("second request %.3f s after the first"):format(reqs[2].at - reqs[1].at))
  end)

  it("understands an HTTP-date Retry-After", function()
    local when = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 3)
    srv = fake.start(([[
route /date
respond 503
header Retry-After: %s
respond 200
body ok
]]):format(when))
    local resp, err = http.get(srv.url .. "/date", opts())
    assert.is_nil(err)
    assert.equal(2, resp.attempts)
    local reqs = srv:requests()
    assert.equal(2, #reqs)
    -- the date has 1 s resolution: 3 s ahead means a wait of about 2 to 3 s
    assert.is_true(reqs[2].at - reqs[1].at >= 1.0, ("gap %.3f"):format(reqs[2].at - reqs[1].at))
    assert.is_true(resp.retry_after_s == nil or resp.retry_after_s >= 0)
  end)

  it("fails at once when Retry-After is longer than it may wait", function()
    srv = fake.start([[
route /later
respond 429
header Retry-After: 3600
]])
    local resp, err, r = http.get(srv.url .. "/later", opts({ max_wait = 5 }))
    assert.is_nil(resp)
    assert.matches("HTTP 429 with Retry%-After 3600 s", err)
    assert.equal(429, r.status)
    assert.equal(1, #srv:requests())
  end)

  it("never hammers a 429 without Retry-After: exponential backoff, bounded attempts", function()
    srv = fake.start([[
route /busy
respond 429
]])
    local resp, err, r = http.get(srv.url .. "/busy", opts({ retries = 3, backoff_ms = 100, backoff_cap_ms = 1000 }))
    assert.is_nil(resp)
    assert.matches("HTTP 429 %(4 attempts%)", err)
    assert.equal(4, r.attempts)
    local reqs = srv:requests()
    assert.equal(4, #reqs)
    -- backoff 100, 200, 400 ms, each jittered to at least half
    for i = 2, 4 do
      local gap = reqs[i].at - reqs[i - 1].at
      assert.is_true(gap >= 0.05 * 2 ^ (i - 2) - 0.005, ("gap %d: %.3f s"):format(i, gap))
    end
  end)

  it("retries a 500 and returns the success", function()
    srv = fake.start([[
route /flaky
respond 500
body oops
respond 200
body fine
]])
    local resp, err = http.get(srv.url .. "/flaky", opts())
    assert.is_nil(err)
    assert.equal("fine", resp.body)
    assert.equal(2, resp.attempts)
    assert.equal(2, #srv:requests())
  end)

  it("gives up after the retries with the status, the body, and a URL without its query", function()
    srv = fake.start([[
route /down
respond 502
body {"message":"upstream down"}
]])
    local resp, err, r = http.get(srv.url .. "/down?apikey=SECRET123&x=1",
      opts({ retries = 2, headers = { Authorization = "Bearer TOKEN456" } }))
    assert.is_nil(resp)
    assert.equal(("http: GET %s/down: HTTP 502 (3 attempts)"):format(srv.url), err)
    assert.is_nil(err:find("SECRET123", 1, true))
    assert.is_nil(err:find("TOKEN456", 1, true))
    assert.equal(502, r.status)
    assert.equal('{"message":"upstream down"}', r.body)
    assert.equal(3, #srv:requests())
  end)

  it("sends a POST exactly once, even on a 500", function()
    srv = fake.start([[
route POST /v2/orders
respond 500
]])
    local resp, err = http.request("POST", srv.url .. "/v2/orders", opts({ body = '{"qty":"1"}' }))
    assert.is_nil(resp)
    assert.matches("HTTP 500 %(1 attempt%)", err)
    local reqs = srv:requests()
    assert.equal(1, #reqs)
    assert.equal("POST", reqs[1].method)
    assert.equal('{"qty":"1"}', reqs[1].body)
    -- and a GET with once = true is not retried either
    local _, err2 = http.get(srv.url .. "/v2/orders", opts({ once = true }))
    assert.matches("HTTP 404 %(1 attempt%)", err2)
  end)

  it("reports a truncated body as a network error, and retries it", function()
    srv = fake.start([[
route /trunc
respond 200
body {"bars":[{"t":"2021-02-01T16:01:00Z"}]}
truncate 10
]])
    local resp, err, r = http.get(srv.url .. "/trunc", opts({ retries = 1 }))
    assert.is_nil(resp)
    assert.matches("^http: GET http://127%.0%.0%.1:%d+/trunc: .*remaining", err)
    assert.equal(2, r.attempts)
    assert.equal(2, #srv:requests())
  end)

  it("recovers when only the first response was truncated or dropped", function()
    srv = fake.start([[
route /once
respond 200
body 0123456789
truncate 3
respond 200
close
respond 200
body 0123456789
]])
    local resp, err = http.get(srv.url .. "/once", opts())
    assert.is_nil(err)
    assert.equal("0123456789", resp.body)
    assert.equal(3, resp.attempts)
  end)

  it("times out a slow response", function()
    srv = fake.start([[
route /slow
respond 200
delay 3000
body late
]])
    local t0 = os.time()
    local resp, err, r = http.get(srv.url .. "/slow", opts({ timeout = 0.3, retries = 0 }))
    assert.is_nil(resp)
    assert.matches("timed out", err)
    assert.equal(1, r.attempts)
    assert.is_true(r.elapsed_s < 2)
    assert.is_true(os.time() - t0 <= 2)
  end)

  it("aborts a body over the size cap, with and without Content-Length", function()
    srv = fake.start([[
route /big
respond 200
fill 300000
route /stream
respond 200
fill 300000
nolength
]])
    local resp, err, _, code = http.get(srv.url .. "/big", opts({ max_bytes = 100000 }))
    assert.is_nil(resp)
    assert.equal("GT_ETOOBIG", code)
    assert.matches("exceeds the 100000%-byte limit", err)
    resp, err, _, code = http.get(srv.url .. "/stream", opts({ max_bytes = 100000 }))
    assert.is_nil(resp)
    assert.matches("exceeds the 100000%-byte limit", err)
    assert.equal("GT_ETOOBIG", code)
    assert.equal(2, #srv:requests(), "a too-big body is not retried")
    resp = http.get(srv.url .. "/big", opts({ max_bytes = 300000 }))
    assert.equal(300000, #resp.body)
  end)

  it("refuses plain http:// to a non-loopback host without sending anything", function()
    for _, url in ipairs({ "http://example.com/x", "http://10.0.0.1/x", "http://127.evil.com/x",
      "ftp://127.0.0.1/x", "file:///etc/passwd" }) do
      local resp, err, _, code = http.get(url .. "?token=SECRET", opts())
      assert.is_nil(resp)
      assert.equal("GT_EINVAL", code, url)
      assert.is_nil(err:find("SECRET", 1, true))
    end
    local _, err = http.get("http://example.com/x", opts())
    assert.matches("refused: only https:// is allowed", err)
    -- loopback names pass the policy (and fail only to connect where nothing listens)
    local _, err2 = http.get("http://[::1]:1/x", opts({ retries = 0 }))
    assert.is_nil(err2:find("refused: only", 1, true))
    local _, err3 = http.get("http://localhost:1/x", opts({ retries = 0 }))
    assert.is_nil(err3:find("refused: only", 1, true))
  end)

  it("rate-limits per host", function()
    srv = fake.start([[
route /r
respond 200
body ok
]])
    for _ = 1, 4 do
      assert.truthy(http.get(srv.url .. "/r", opts({ rate_per_min = 600, burst = 1 })))
    end
    local reqs = srv:requests()
    assert.equal(4, #reqs)
    -- 600/min = one per 100 ms once the single burst token is spent
    assert.is_true(reqs[4].at - reqs[1].at >= 0.27, ("span %.3f"):format(reqs[4].at - reqs[1].at))
  end)

  it("refuses header values that would inject lines, without echoing them", function()
    local ok, err = pcall(http.get, "https://example.com/", { headers = { ["X-Key"] = "abc\r\nEvil: 1" } })
    assert.is_false(ok)
    assert.matches("header X%-Key: value must be a string without CR, LF or NUL", err)
    assert.is_nil(err:find("abc", 1, true))
  end)
end)
