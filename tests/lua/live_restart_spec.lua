-- gt.live_exec restarts: a live session (mode = "live") against the stateful fake Alpaca
-- (tests/fakebroker/fakealpaca), stopped and restarted where fills and books can part:
-- every fill reaches the books exactly once and the journal agrees with the broker.
-- tests/integration/live_kill.sh does the same at random moments (SIGKILL and SIGINT); these
-- are the moments that found bugs, made deterministic. Orders fill in halves, the market
-- stepping after every request, so an order keeps filling while the session asks about it.
local t = require "tests.lua.support"
local fake = dofile("tests/lua/fixtures/broker/fakealpaca.lua")
local gt = require "gt"
local json = require "gt.json"

local SCRIPT = [[
market open
price SPY 100 101 102 101 100 99 98 99
partial SPY 0.5
step-every 1
]]

-- Bars whose fast/slow SMA cross (3/8) buys at bar 12 and sells at bar 22: a sine, then flat
-- ends so nothing trades in the last bars.
local function csv(dir, n)
  local lines = { "date,open,high,low,close,volume" }
  for i = 0, n - 1 do
    local c = 100 + 5 * math.sin(2 * math.pi * (i + 12) / 20)
    lines[#lines + 1] = ("%s,%.4f,%.4f,%.4f,%.4f,1000"):format(os.date("!%Y-%m-%d", 1672704000 + i * 86400), c,
      c + 0.3, c - 0.3, c)
  end
  return t.write(dir .. "/SPY.csv", table.concat(lines, "\n") .. "\n")
end

local function session(b, dir, opts)
  local kf = t.write(dir .. "/keys.json", ('{"key_id": "%s", "secret_key": "%s"}'):format(fake.KEY_ID, fake.SECRET))
  os.execute("chmod 600 " .. t.quote(kf))
  local wf = gt.workflow.from_table({ mode = "live", symbols = { "SPY" }, capital = 10000, timeframe = "1d",
    db = dir .. "/live.db", data = { source = "csv", files = dir .. "/SPY.csv" }, feed = { kind = "replay", warmup = 8 },
    broker = { kind = "alpaca", base_url = b.url, key_file = kf, rate_per_min = 200 }, risk = "off",
    strategy = "sma_cross", params = { sma_cross = { fast = 3, slow = 8 } },
    sizing = { method = "fixed", fixed_fraction = 0.15, max_position = 0.2 }, monitor = { progress = false } },
    "spec/live_exec.lua")
  local sess = assert(gt.orchestrator.new(wf, { quiet = true, after_cycle = opts and opts.after_cycle }))
  return sess:run()
end

-- What disagrees between the broker and the session's journal and books (empty: nothing).
local function disagreements(b, db)
  local st = b:state()
  local J = assert(gt.journal.open(db, { readonly = true }))
  local sid = J:sessions()[1].id
  local fills = assert(J:query { session = sid, type = "fill" })
  local state = J:state(sid)
  J:close()
  local out, seen, sum = {}, {}, {}
  for _, f in ipairs(fills) do
    seen[f.activity_id] = (seen[f.activity_id] or 0) + 1
    sum[f.broker_id] = (sum[f.broker_id] or 0) + f.qty
  end
  for _, a in ipairs(st.activities) do
    if seen[a.id] ~= 1 then out[#out + 1] = ("activity %s journalled %d times"):format(a.id, seen[a.id] or 0) end
  end
  for _, o in ipairs(st.orders) do
    if (sum[o.id] or 0) ~= tonumber(o.filled_qty) then
      out[#out + 1] = ("order %s: journal fills %s, broker filled %s"):format(o.client_order_id, sum[o.id] or 0, o.filled_qty)
    end
  end
  local held = state.positions.SPY and state.positions.SPY.qty or 0
  local broker = 0
  for _, p in ipairs(st.positions) do if p.symbol == "SPY" then broker = tonumber(p.qty) end end
  if held ~= broker then out[#out + 1] = ("SPY: the books hold %s, the broker %s"):format(held, broker) end
  return out, st
end

describe("gt.live_exec against the fake Alpaca", function()
  if not fake.available() then
    pending("build " .. fake.bin .. " (make test builds it)")
    return
  end
  local b, dir
  before_each(function() dir = t.tmpdir(); csv(dir, 34) end)
  after_each(function()
    if b then b:stop(); b = nil end
    os.execute("rm -rf " .. t.quote(dir))
  end)

  -- the first cycle after the order was sent stops the session, the order half filled
  local function stop_after_send(sess)
    if sess.live.sent > 0 then error("interrupted", 0) end
  end

  it("restarts while an order fills: positions that moved since the fills sync are compared again", function()
    b = assert(fake.start(SCRIPT))
    local sm = assert(session(b, dir, { after_cycle = stop_after_send }))
    assert.is_true(sm.interrupted)
    -- the order fills while the start compares (each request steps the market): the
    -- positions it reads hold fills the sync before had not seen; synced, they agree
    sm = assert(session(b, dir))
    assert.is_true(sm.complete)
    assert.same({}, (disagreements(b, dir .. "/live.db")))
  end)

  it("a start that cannot compare journals none of the fills it applied", function()
    b = assert(fake.start(SCRIPT))
    local sm = assert(session(b, dir, { after_cycle = stop_after_send }))
    assert.is_true(sm.interrupted)
    -- positions cannot be read: the start applies the fills so far, then cannot compare and
    -- stops; those fills go with its books (not committed), not into the journal, where the
    -- next start would count them as applied
    b:fault("status 503 100 /v2/positions")
    local ok, err = session(b, dir)
    assert.is_nil(ok)
    assert.matches("positions: ", err, 1, true)
    b:fault("status 503 0")
    sm = assert(session(b, dir))
    assert.is_true(sm.complete)
    assert.same({}, (disagreements(b, dir .. "/live.db")))
  end)

  it("an interruption in the middle of a cycle journals none of the fills its books never got", function()
    b = assert(fake.start(SCRIPT))
    local live_exec = require "gt.live_exec"
    local new = live_exec.new
    live_exec.new = function(sess)
      local X = assert(new(sess))
      local sync = X.sync
      X.sync = function(self) -- SIGINT right after the fills were applied, before the commit
        sync(self)
        if self.fills > 0 then error("interrupted", 0) end
      end
      return X
    end
    local ok, sm = pcall(session, b, dir)
    live_exec.new = new
    assert.is_true(ok, sm)
    assert.is_true(sm.interrupted)
    sm = assert(session(b, dir))
    assert.is_true(sm.complete)
    local bad, st = disagreements(b, dir .. "/live.db")
    assert.same({}, bad)
    assert.is_true(#st.activities >= 4, "fills " .. #st.activities)
  end)

  it("an order whose answer was lost and whose lookups failed gets every fill once it is found", function()
    -- the POST places the order (its first fill at once), the answer is dropped, and the
    -- lookups by client_order_id fail 3 x 3 times: the intent stays unresolved while the
    -- fills sync passes its fills over; the next send finds it, and its fills are fetched again
    b = assert(fake.start(SCRIPT .. "drop-after-accept 1\nstatus 503 9 /v2/orders:by_client_order_id\n"))
    local sm = assert(session(b, dir))
    assert.is_true(sm.complete)
    local bad, st = disagreements(b, dir .. "/live.db")
    assert.same({}, bad)
    assert.equal(1, st.counters.dropped)
    assert.equal(1, st.counters.duplicates) -- the resend was refused: one order at the broker
  end)
end)
