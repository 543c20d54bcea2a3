-- `gtengine journal` and `gtengine status`: the real binary over a database gt.journal
-- wrote here; the figures written show up, --json parses, errors name what is wrong, and a
-- reader works beside a writer that holds the write lock.
local gt = require "gt"
local json = require "gt.json"
local journal = require "gt.journal"
local t = require "tests.lua.support"
local C = require("gt.ffi").C

local T0 = 1704186000000000 -- 2024-01-02 09:00 UTC
local MIN = 60 * 1000000

-- A paper session of three cycles: two orders (one refused by the gate), a fill, equity.
local function write_session(db, key, finish)
  local J = assert(journal.open(db, { durable = true }))
  local sid = assert(J:session { key = key, name = "paper demo", mode = "paper", workflow = "workflows/paper.lua",
    config = { symbols = { "AAPL", "MSFT" } }, now = T0 })
  J:append { type = "session", ts = T0, status = "start" }
  J:append { type = "bar", ts = T0, symbol = "AAPL", price = 187.25 }
  J:append { type = "risk_decision", ts = T0, symbol = "AAPL", status = "approved" }
  J:append { type = "order", ts = T0, symbol = "AAPL", side = "buy", qty = 40, price = 187.25, value = 7490,
    order_id = 11, status = "new", strategy = "momentum" }
  assert(J:commit(1, { ts = T0, cash = 10000, equity = 10000 }))
  J:append { type = "fill", ts = T0 + MIN, symbol = "AAPL", side = "buy", qty = 40, price = 187.3125, value = 7492.5,
    order_id = 11, fee = 1.25 }
  -- a refusal is the gate's decision and the order's rejected state: one refusal, one order
  J:append { type = "risk_decision", ts = T0 + MIN, symbol = "MSFT", status = "refused", reason = "max_positions",
    order_id = 12 }
  J:append { type = "order", ts = T0 + MIN, symbol = "MSFT", side = "buy", qty = 5, price = 374.5,
    order_id = 12, status = "rejected", reason = "max_positions" }
  assert(J:commit(2, { ts = T0 + MIN, cash = 2506.25, equity = 10012.75 }))
  J:append { type = "equity", ts = T0 + 2 * MIN, value = 12345.67, cash = 2506.25 }
  assert(J:commit(3, { ts = T0 + 2 * MIN, cash = 2506.25, equity = 12345.67,
    positions = { AAPL = { qty = 40, avg = 187.3125, price = 196.2 }, MSFT = { qty = -3, avg = 370, price = 372 } },
    breaker = "REDUCING", tier = "small", regime = "bull_trending", strategy = "momentum",
    books = "\0snapshot\255", lua_state = { note = "x" } }))
  if finish then assert(J:finish(finish)) end
  return J, sid
end

describe("gtengine journal and status", function()
  local dir, db
  before_each(function() dir = t.tmpdir(); db = dir .. "/gt.db" end)
  after_each(function() os.execute("rm -rf " .. t.quote(dir)) end)

  it("status shows the session's money, positions, state and counts", function()
    write_session(db, "paper:demo", "stopped"):close()
    local out, err, code = t.run(("status --db %s"):format(t.quote(db)))
    assert.equal(0, code, err)
    assert.matches("session 1 'paper demo' (key paper:demo)", out, 1, true)
    assert.matches("mode       paper", out, 1, true)
    assert.matches("status     stopped", out, 1, true)
    assert.matches("workflow   workflows/paper.lua", out, 1, true)
    assert.matches("started    2024-01-02 09:00:00 UTC", out, 1, true)
    assert.matches("last cycle 3 at 2024-01-02 09:02:00 UTC", out, 1, true)
    assert.matches("cash       2,506.25", out, 1, true)
    assert.matches("equity     12,345.67", out, 1, true)
    assert.matches("breaker    REDUCING", out, 1, true)
    assert.matches("tier       small", out, 1, true)
    assert.matches("regime     bull_trending", out, 1, true)
    assert.matches("strategy   momentum", out, 1, true)
    assert.matches("2 orders, 1 fills, 1 refusals (8 events)", out, 1, true)
    -- AAPL: 40 x 196.2 = 7,848.00 market value; (196.2 - 187.3125) x 40 = +355.50
    assert.matches("AAPL%s+40%s+187%.3125%s+196%.2%s+7,848%.00%s+%+355%.50", out)
    -- MSFT short: -3 x 372 = -1,116.00; (372 - 370) x -3 = -6.00
    assert.matches("MSFT%s+%-3%s+370%s+372%s+%-1,116%.00%s+%-6%.00", out)
    out, err, code = t.run(("status --db %s --json"):format(t.quote(db)))
    assert.equal(0, code, err)
    local doc = assert(json.decode(out))
    assert.equal("paper:demo", doc.session.key)
    assert.equal(12345.67, doc.state.equity)
    assert.equal(2506.25, doc.state.cash)
    assert.is_true(math.abs(doc.state.positions.AAPL.unrealised - 355.5) < 1e-9)
    assert.equal(7848, doc.state.positions.AAPL.value)
    assert.equal(10, doc.state.books_bytes)
    assert.same({ orders = 2, fills = 1, refusals = 1, events = 8 }, doc.counts)
  end)

  it("journal lists the latest events as a table and as JSON lines, filtered", function()
    write_session(db, "paper:demo", "finished"):close()
    local out, err, code = t.run(("journal --db %s"):format(t.quote(db)))
    assert.equal(0, code, err)
    assert.matches("session 1 'paper demo' (paper, workflows/paper.lua, finished): 8 of 8 events", out, 1, true)
    assert.matches("2024%-01%-02 09:01:00%s+2%s+fill%s+AAPL%s+buy%s+40%s+187%.3125%s+7,492%.50%s+fee=1%.25", out)
    assert.matches("order%s+MSFT%s+buy%s+5%s+374%.5%s+rejected: max_positions", out)
    assert.matches("equity%s+12,345%.67%s+cash=2,506%.25", out)
    -- JSON lines, oldest first, every field as written
    out, err, code = t.run(("journal --db %s --json --type order,fill"):format(t.quote(db)))
    assert.equal(0, code, err)
    local rows = {}
    for line in out:gmatch("[^\n]+") do rows[#rows + 1] = assert(json.decode(line)) end
    assert.equal(3, #rows)
    assert.same({ "order", "fill", "order" }, { rows[1].type, rows[2].type, rows[3].type })
    assert.equal(187.3125, rows[2].price)
    assert.equal(1.25, rows[2].fee)
    assert.equal(11, rows[2].order_id)
    assert.equal(1, rows[2].side)
    assert.equal(2, rows[2].cycle)
    -- --limit keeps the latest; --since by date and time
    out = t.run(("journal --db %s --json --limit 2"):format(t.quote(db)))
    local n, last = 0, nil
    for line in out:gmatch("[^\n]+") do n = n + 1; last = json.decode(line) end
    assert.equal(2, n)
    assert.equal("equity", last.type)
    out = t.run(("journal --db %s --json --since '2024-01-02 09:01'"):format(t.quote(db)))
    n = 0
    for _ in out:gmatch("[^\n]+") do n = n + 1 end
    assert.equal(4, n, "cycle 2's three events and cycle 3's one")
  end)

  it("picks a session by id or key, the newest by default", function()
    write_session(db, "first", "finished"):close()
    write_session(db, "second"):close()
    local out = t.run(("status --db %s --json"):format(t.quote(db)))
    assert.equal("second", json.decode(out).session.key)
    out = t.run(("status --db %s --json --session first"):format(t.quote(db)))
    assert.equal(1, json.decode(out).session.id)
    out = t.run(("journal --db %s --json --session 1 --type equity"):format(t.quote(db)))
    assert.equal(1, json.decode(out).session)
    local _, err, code = t.run(("status --db %s --session nine"):format(t.quote(db)))
    assert.equal(1, code)
    assert.matches("no session 'nine' in " .. db .. "; the newest: 2 (second), 1 (first)", err, 1, true)
  end)

  it("says precisely what is wrong: no database, no sessions, an unknown type, a bad time", function()
    local missing = dir .. "/none.db"
    local _, err, code = t.run(("journal --db %s"):format(t.quote(missing)))
    assert.equal(1, code)
    assert.matches("gtengine journal: no database at " .. missing .. " (run a workflow first: gtengine run "
      .. "workflows/paper.lua, or name one with --db PATH)", err, 1, true)
    assert.is_nil(io.open(missing, "rb"), "a reader creates nothing")
    _, err, code = t.run(("status --db %s"):format(t.quote(missing)))
    assert.equal(1, code)
    assert.matches("gtengine status: no database at", err, 1, true)
    -- a database with bars but no session (schema 8, and one still at 7)
    assert(gt.store.open(db)):close()
    _, err, code = t.run(("journal --db %s"):format(t.quote(db)))
    assert.equal(1, code)
    assert.matches("no sessions in " .. db .. " (run a workflow first: gtengine run workflows/paper.lua)", err, 1, true)
    write_session(db, "s"):close()
    _, err, code = t.run(("journal --db %s --type order,fils"):format(t.quote(db)))
    assert.equal(2, code)
    assert.matches("unknown event type 'fils' (types: bar, analysis, regime, selection, sizing, risk_decision, order, "
      .. "fill, position, equity, breaker, alert, error, tier_change, session, command, reload)", err, 1, true)
    _, err, code = t.run(("journal --db %s --since yesterday"):format(t.quote(db)))
    assert.equal(2, code)
    assert.matches("--since: bad timestamp 'yesterday'", err, 1, true)
    local notdb = t.write(dir .. "/notdb.db", ("this is not a database\n"):rep(200))
    _, err, code = t.run(("status --db %s"):format(t.quote(notdb)))
    assert.equal(1, code)
    assert.matches("file is not a database", err, 1, true)
    assert.matches(notdb, err, 1, true)
    local out
    out, _, code = t.run("journal --help")
    assert.equal(0, code)
    assert.matches("JSON lines", out, 1, true)
  end)

  it("reads a running session beside its writer: neither blocks the other", function()
    local J = write_session(db, "live")
    -- the writer holds the write lock (a commit in progress): status still answers
    assert.equal(0, C.gt_db_exec(J._h, "BEGIN IMMEDIATE"))
    local out, err, code = t.run(("status --db %s"):format(t.quote(db)))
    assert.equal(0, code, err)
    assert.matches("status     running", out, 1, true)
    assert.matches("equity     12,345.67", out, 1, true)
    assert.equal(0, C.gt_db_exec(J._h, "ROLLBACK"))
    -- a reader in the middle of a read transaction does not hold up a durable commit
    local R = assert(journal.open(db, { readonly = true }))
    assert.equal(0, C.gt_db_exec(R._h, "BEGIN"))
    assert.equal(1, #R:query { session = 1, type = "equity" })
    local t0 = C.gt_clock_seconds()
    J:append { type = "equity", ts = T0 + 3 * MIN, value = 12400 }
    assert.is_true(J:commit(4, { ts = T0 + 3 * MIN, equity = 12400 }))
    assert.is_true(C.gt_clock_seconds() - t0 < 2, "the commit did not wait for the reader")
    assert.equal(1, #R:query { session = 1, type = "equity" }, "the reader keeps its snapshot")
    C.gt_db_exec(R._h, "COMMIT")
    assert.equal(2, #R:query { session = 1, type = "equity" })
    R:close()
    J:close()
    out = t.run(("status --db %s --json"):format(t.quote(db)))
    assert.equal(12400, json.decode(out).state.equity)
  end)

  it("status lists a session's open alerts and counts each refused order once", function()
    local db2 = t.tmpdir() .. "/halted.db"
    local _, err, code = t.run(("halt --db %s --reason 'spec'"):format(t.quote(db2)))
    assert.equal(0, code, err)
    _, err, code = t.run(("run paper --db %s --quiet --no-attach"):format(t.quote(db2)))
    assert.equal(0, code, err)
    local out = t.run(("status --db %s"):format(t.quote(db2)))
    assert.matches("breaker    HALTED", out, 1, true)
    assert.matches("alerts     1 open (gtengine alerts)", out, 1, true)
    assert.matches("#1 CRITICAL risk: breaker HALTED", out, 1, true)
    local doc = json.decode((t.run(("status --db %s --json"):format(t.quote(db2)))))
    assert.equal(1, #doc.open_alerts)
    -- every order refused by the halted gate, each counted once (its decision and its state)
    assert.is_true(doc.counts.orders > 0)
    assert.equal(doc.counts.orders, doc.counts.refusals)
  end)
end)
