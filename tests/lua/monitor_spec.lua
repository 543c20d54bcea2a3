-- gt.monitor: the JSON-lines log (fields, correlation ids, rotation), alert de-duplication on
-- the engine's clock, the alerts table and `gtengine alerts`, webhook delivery to the
-- loopback fakehttp server (a retry after a 500; a receiver that takes 5 s does not slow the
-- cycle), and a paper session's report from its journal, resumed sessions included.
local gt = require "gt"
local t = require "tests.lua.support"
local json = require "gt.json"
local fake = dofile("tests/lua/fixtures/providers/server.lua")

local DAY = 86400e6

local function slurp(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("*a"); f:close()
  return s
end

local function lines_of(p)
  local out = {}
  for l in (slurp(p) or ""):gmatch("([^\n]*)\n") do out[#out + 1] = l end
  return out
end

-- A small paper workflow on synthetic data; extra keys override. error_at: cycles at which
-- a custom step publishes an `error` event (the error rate then crosses 0.05).
local function workflow(db, extra, error_at)
  local steps = nil
  if error_at then
    steps = { "data", "analyze", "regime", "select", "signal", "size", "risk", "execute", "monitor",
      { name = "noise", reads = {}, writes = {}, run = function(state, sess)
        if error_at[state.bar] then
          sess.bus:publish { type = "error", ts = state.ts, reason = "injected", source = "test" }
        end
      end } }
  end
  local def = { name = "mon", mode = "paper", symbols = { "AAA", "BBB" }, capital = 100000, db = db,
    data = { source = "synthetic", bars = 120, seed = 5 }, feed = { warmup = 20 }, strategy = "sma_cross",
    params = { sma_cross = { fast = 5, slow = 20 } }, risk = "paper", steps = steps,
    sizing = { method = "fixed", fixed_fraction = 0.15, max_position = 0.2 }, monitor = { progress = false } }
  for k, v in pairs(extra or {}) do def[k] = v end
  return assert(gt.workflow.from_table(def, "mon"))
end

local function run(wf, mopts, sopts)
  local sess = assert(gt.orchestrator.new(wf, sopts or { quiet = true }))
  local mon = gt.monitor.attach(sess, mopts or { display = false })
  local summary = assert(sess:run())
  mon:finish(summary)
  return summary, sess, mon
end

describe("gt.monitor log", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. t.quote(dir)) end)

  it("writes one JSON object per event with the seed's fields and ties orders to their signal", function()
    local wf = workflow(dir .. "/a.db", { monitor = { progress = false, log = dir .. "/m.jsonl" } })
    local summary, sess = run(wf)
    local lines = lines_of(dir .. "/m.jsonl")
    assert.is_true(#lines > 100)
    assert.equal(summary.monitor.log_lines, #lines)
    local by_type, recs = {}, {}
    for i, l in ipairs(lines) do
      local r = json.decode(l)
      assert.is_table(r, "line " .. i .. " is not JSON: " .. l)
      for _, k in ipairs { "timestamp", "level", "service", "event_type", "correlation_id", "message" } do
        assert.is_not_nil(r[k], ("line %d has no %s: %s"):format(i, k, l))
      end
      assert.equal("gtengine", r.service)
      assert.truthy(r.timestamp:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d[%.%d]*Z$"), r.timestamp)
      assert.truthy(({ INFO = 1, WARNING = 1, ERROR = 1, CRITICAL = 1 })[r.level], r.level)
      by_type[r.event_type] = (by_type[r.event_type] or 0) + 1
      recs[i] = r
    end
    -- the engine's clock, not the wall: the first event is at the first bar's time
    assert.equal(gt.time.format(tonumber(sess.series[1].ts[0]), false), recs[1].timestamp)
    assert.is_true(summary.orders > 0)
    assert.is_true(by_type.order >= summary.orders)
    assert.equal(summary.fills, by_type.fill)
    -- an order, its sizing and risk decision, and its fill share one correlation id:
    -- "<session>-<cycle>-<symbol>" of the cycle that decided it
    local checked = 0
    for _, r in ipairs(recs) do
      if r.event_type == "fill" then
        local cid = r.correlation_id
        local sid, cyc, sym = cid:match("^(%d+)%-(%d+)%-(%u+)$")
        assert.equal(tostring(summary.session), sid)
        assert.equal(r.symbol, sym)
        local kinds = {}
        for _, q in ipairs(recs) do
          if q.correlation_id == cid then kinds[q.event_type] = true end
          if q.event_type == "risk_decision" and q.order_id == r.order_id then
            assert.equal(cid, q.correlation_id)
            assert.equal(tonumber(cyc), q.cycle)
          end
        end
        assert.is_true(kinds.sizing and kinds.risk_decision and kinds.order and true or false, cid)
        checked = checked + 1
      end
    end
    assert.is_true(checked > 0)
  end)

  it("rotates by size into path.1 .. path.N, whole lines in every file", function()
    local log = dir .. "/r.jsonl"
    local wf = workflow(dir .. "/b.db", { monitor = { progress = false, log = log, log_max_bytes = 4096, log_keep = 2 } })
    local summary = run(wf)
    assert.is_true(summary.monitor.rotations >= 3, "rotations " .. summary.monitor.rotations)
    local total = 0
    for _, p in ipairs { log, log .. ".1", log .. ".2" } do
      local text = assert(slurp(p), p .. " is missing")
      assert.is_true(#text <= 4096, p .. " has " .. #text .. " bytes")
      assert.equal("\n", text:sub(-1))
      for l in text:gmatch("([^\n]*)\n") do
        assert.is_table(json.decode(l), p .. ": " .. l)
        total = total + 1
      end
    end
    assert.is_nil(slurp(log .. ".3"))
    assert.is_true(total < summary.monitor.log_lines) -- the oldest went with the rotation
    -- the newest file ends with the session's last event
    local last = json.decode(lines_of(log)[#lines_of(log)])
    assert.equal("session", last.event_type)
    assert.equal("finished", last.status)
  end)

  it("counts a log it cannot write, alerts once, and the session trades on", function()
    local wf = workflow(dir .. "/c.db", { monitor = { progress = false, log = dir .. "/no/such/dir/m.jsonl" } })
    local summary = run(wf)
    assert.equal(120, summary.cycles)
    assert.is_true(summary.monitor.log_errors > 100)
    local A = assert(gt.alerts.open(dir .. "/c.db"))
    local rows = assert(A:list { all = true })
    A:close()
    local n = 0
    for _, r in ipairs(rows) do if r.message == "log file not writable" then n = n + 1 end end
    assert.equal(1, n)
  end)
end)

describe("gt.monitor alerts", function()
  -- a session stand-in: a bus and the state a monitor reads; the engine clock is simulated
  local function fake_session(clock)
    local bus = gt.bus.new()
    local seen = {}
    bus:subscribe("alert", function(ev) seen[#seen + 1] = ev end, "test")
    local sess = { bus = bus, wf = { name = "fake", mode = "paper", capital = 1 }, state = { bar = 0 },
      opts = {}, clock = clock }
    return sess, seen
  end

  it("de-duplicates component:message within 300 s of engine time: 299 s held back, 301 s raised", function()
    local clock = gt.clock.sim("2024-03-01T10:00:00Z")
    local sess, seen = fake_session(clock)
    local mon = gt.monitor.attach(sess, { display = false, alerts_db = false })
    assert.is_table(mon:raise("WARNING", "health", "cycle time above 1000 ms", { value = 1200 }))
    clock:advance(299e6)
    assert.is_nil(mon:raise("WARNING", "health", "cycle time above 1000 ms", { value = 1300 }))
    assert.is_table(mon:raise("WARNING", "health", "error rate above 0.05")) -- another message
    assert.is_table(mon:raise("WARNING", "data", "cycle time above 1000 ms")) -- another component
    clock:advance(2e6) -- 301 s after the first
    local ev = mon:raise("WARNING", "health", "cycle time above 1000 ms", { value = 1400 })
    assert.is_table(ev)
    assert.equal(gt.time.parse("2024-03-01T10:05:01Z"), ev.ts)
    assert.equal(4, #seen)
    assert.equal(1, mon.suppressed)
    assert.equal("WARNING", seen[4].status)
    assert.equal(1400, seen[4].value)
  end)

  it("de-duplicates alerts other parts publish on the bus the same way", function()
    local clock = gt.clock.sim("2024-03-01T10:00:00Z")
    local sess = fake_session(clock)
    local mon = gt.monitor.attach(sess, { display = false, alerts_db = false })
    local function reload_alert() sess.bus:publish { type = "alert", ts = clock:now(), status = "ERROR",
      reason = "reload of x.lua failed", component = "reload" } end
    reload_alert(); clock:advance(100e6); reload_alert(); clock:advance(250e6); reload_alert()
    assert.equal(2, mon.alerts)
    assert.equal(1, mon.suppressed)
  end)

  it("raises the seed's thresholds: error rate above 0.05, cycle time above 1000 ms, breaker changes", function()
    local clock = gt.clock.sim("2024-03-01")
    local sess = fake_session(clock)
    sess.health_stats = {}
    local mon = gt.monitor.attach(sess, { display = false, alerts_db = false, error_window = 20 })
    -- 1 error in 20 cycles is 0.05: not above; a second one is
    for i = 1, 20 do
      if i == 20 then sess.bus:publish { type = "error", ts = clock:now(), reason = "x", source = "test" } end
      sess.health_stats.cycle = { n = i, sum = 0, max = 0, last = 500 }
      mon:_health(); clock:advance(DAY)
    end
    assert.equal(0, mon.alerts)
    sess.bus:publish { type = "error", ts = clock:now(), reason = "y", source = "test" }
    mon:_health()
    assert.equal(1, mon.alerts)
    assert.equal("error rate above 0.05", mon.alert_list[1].message)
    assert.equal("ERROR", mon.alert_list[1].level)
    sess.health_stats.cycle.last = 1000001
    mon:_health()
    assert.equal("cycle time above 1000 ms", mon.alert_list[2].message)
    sess.bus:publish { type = "breaker", ts = clock:now(), status = "REDUCING", reason = "drawdown" }
    sess.bus:publish { type = "breaker", ts = clock:now(), status = "HALTED", reason = "daily loss" }
    assert.equal("WARNING", mon.alert_list[3].level)
    assert.equal("CRITICAL", mon.alert_list[4].level)
    assert.equal("breaker HALTED", mon.alert_list[4].message)
  end)

  it("keeps alerts in the database; gtengine alerts lists, acknowledges and resolves them", function()
    local dir = t.tmpdir()
    local db = dir .. "/al.db"
    local summary = run(workflow(db, nil, { [30] = true, [31] = true }))
    assert.is_true(summary.monitor.alerts >= 1)
    -- the alert is an event in the journal too
    local J = assert(gt.journal.open(db, { readonly = true }))
    local ev = assert(J:query { session = summary.session, type = "alert" })
    J:close()
    assert.is_true(#ev >= 1)
    assert.equal("error rate above 0.05", ev[1].reason)
    local out, err, code = t.run("alerts --db " .. t.quote(db) .. " --json")
    assert.equal(0, code, err)
    local first = json.decode(out:match("^[^\n]+"))
    assert.equal("open", first.status)
    assert.equal(summary.session, first.session)
    local id = first.id
    local nopen = select(2, out:gsub("\n", ""))
    out, err, code = t.run(("alerts --db %s --ack %d"):format(t.quote(db), id))
    assert.equal(0, code, err)
    assert.equal(("alert %d acknowledged\n"):format(id), out)
    out = t.run(("alerts --db %s --json --all"):format(t.quote(db)))
    local row
    for l in out:gmatch("[^\n]+") do local r = json.decode(l); if r.id == id then row = r end end
    assert.equal("acknowledged", row.status)
    assert.is_number(row.acked_ts)
    local _, err2, code2 = t.run(("alerts --db %s --resolve %d"):format(t.quote(db), id))
    assert.equal(0, code2, err2)
    out = t.run(("alerts --db %s --json"):format(t.quote(db)))
    assert.equal(nopen - 1, select(2, out:gsub("\n", "")))
    assert.is_nil(out:find('"id":' .. id .. ",", 1, true))
    local _, err3, code3 = t.run(("alerts --db %s --resolve %d"):format(t.quote(db), id))
    assert.equal(1, code3)
    assert.matches("already resolved", err3)
    out, err, code = t.run(("alerts --db %s --all"):format(t.quote(db)))
    assert.equal(0, code, err)
    assert.matches("error rate above 0.05", out)
    assert.matches("resolved", out)
    os.execute("rm -rf " .. t.quote(dir))
  end)
end)

describe("gt.monitor webhook", function()
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

  local function wait_requests(n, seconds)
    local mono = gt.clock.monotonic()
    local t0 = mono:now()
    while mono:now() - t0 < seconds * 1e6 do
      local reqs = srv:requests()
      if #reqs >= n and reqs[n].body then return reqs end
      mono:sleep_until(mono:now() + 50000)
    end
    return srv:requests()
  end

  it("POSTs each alert as JSON and retries after a 500", function()
    srv = fake.start([[
route POST /hook
respond 500
body {"error":"busy"}
respond 200
body ok
]])
    local wf = workflow(dir .. "/w.db", { monitor = { progress = false, webhook = srv.url .. "/hook", dedupe = 1e9 } },
      { [30] = true, [31] = true })
    local summary = run(wf)
    assert.equal(1, summary.monitor.alerts)
    assert.equal(1, summary.monitor.webhook_queued)
    local reqs = wait_requests(2, 10)
    assert.equal(2, #reqs)
    assert.equal("POST", reqs[1].method)
    assert.equal("/hook", reqs[2].target)
    assert.equal(reqs[1].body, reqs[2].body) -- the same alert, retried
    assert.equal("application/json", reqs[2].headers["content-type"])
    local body = json.decode(reqs[2].body)
    assert.equal("ERROR", body.level)
    assert.equal("health", body.component)
    assert.equal("error rate above 0.05", body.message)
    assert.equal(summary.session, body.session)
    assert.is_number(body.id)
    assert.truthy(body.timestamp:match("^%d%d%d%d%-%d%d%-%d%dT"))
    assert.is_true(reqs[2].at - reqs[1].at >= 0.4, "backoff " .. (reqs[2].at - reqs[1].at))
  end)

  it("a receiver that takes 5 s does not slow the cycle, and still gets the alert", function()
    srv = fake.start([[
route POST /slow
respond 200
delay 5000
body ok
]])
    local wf = workflow(dir .. "/s.db", { monitor = { progress = false, webhook = srv.url .. "/slow", dedupe = 1e9 } },
      { [30] = true, [31] = true })
    local base = run(workflow(dir .. "/base.db", nil, { [30] = true, [31] = true }))
    local mono = gt.clock.monotonic()
    local t0 = mono:now()
    local summary, sess = run(wf)
    local took = (mono:now() - t0) / 1e6
    assert.equal(base.equity, summary.equity)
    assert.equal(1, summary.monitor.webhook_queued)
    assert.is_true(took < 4, ("the session took %.2f s with a 5 s receiver"):format(took))
    local worst = sess.health_stats.cycle.max / 1e6
    assert.is_true(worst < 0.5, ("the slowest cycle took %.3f s"):format(worst))
    local reqs = wait_requests(1, 12)
    assert.equal(1, #reqs)
    assert.equal("error rate above 0.05", json.decode(reqs[1].body).message)
  end)

  it("refuses a plain-http webhook to a remote host at load time and in the HTTP layer", function()
    local ok, err = pcall(gt.workflow.from_table, { mode = "paper", monitor = { webhook = "ftp://x/y" } }, "w")
    assert.is_false(ok)
    assert.matches("monitor.webhook", err)
    local okp, _, rerr = pcall(function()
      return gt.http.request("POST", "http://192.0.2.1/hook", { body = "{}", once = true })
    end)
    assert.is_true(okp)
    assert.matches("loopback", tostring(rerr))
  end)
end)

describe("gt.monitor report", function()
  it("builds a paper session's report from its journal, a resumed session whole, with the timeline", function()
    local dir = t.tmpdir()
    local db = dir .. "/rp.db"
    local wf = workflow(db, { report = dir .. "/r.html" })
    -- the first process stops after cycle 70 (as after Ctrl-C); the second resumes
    local sess = assert(gt.orchestrator.new(wf, { quiet = true, after_cycle = function(s)
      if s.state.bar == 70 then error("interrupted", 0) end end }))
    local mon = gt.monitor.attach(sess, { display = false })
    local s1 = assert(sess:run())
    mon:finish(s1)
    assert.is_true(s1.interrupted)
    local summary = run(wf)
    assert.equal(70, summary.resumed_at)
    assert.equal(dir .. "/r.html", summary.report, summary.report_error)
    local html = assert(slurp(dir .. "/r.html"))
    -- every bar's equity, from both processes: the journal's equity events
    local J = assert(gt.journal.open(db, { readonly = true }))
    local eq = assert(J:query { session = summary.session, type = "equity" })
    local all = assert(J:query { session = summary.session, type = gt.monitor.TIMELINE_TYPES })
    J:close()
    local tl = {}
    for _, r in ipairs(all) do
      if r.type ~= "risk_decision" or r.status == "refused" then tl[#tl + 1] = r end
    end
    assert.equal(120, #eq)
    assert.truthy(html:find(("%d bars"):format(#eq), 1, true))
    for _, id in ipairs { "equity-chart", "drawdown-chart", "timeline-chart", "timeline-table", "stats-table" } do
      assert.truthy(html:find('id="' .. id .. '"', 1, true), id)
    end
    local rows = select(2, html:gsub('<tr class="tl%-row%-', ""))
    assert.equal(#tl, rows)
    assert.is_nil(html:find('id="trades-table"', 1, true))
    os.execute("rm -rf " .. t.quote(dir))
  end)
end)
