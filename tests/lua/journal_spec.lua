-- gt.journal: events round-trip with typed columns plain SQL can read; one transaction per
-- commit (a failure part-way writes nothing); no duplicate (session, cycle, seq); resume by
-- key returns the last committed state byte for byte; batched mode writes nothing until its
-- batch or a flush; a schema-7 database migrates keeping its data. Rows are read back
-- through a second connection (the statement layer, engine/db.c), not through gt.journal.
local ffi = require "ffi"
local gt = require "gt"
local journal = require "gt.journal"
local gtffi = require "gt.ffi"
local t = require "tests.lua.support"
local C = gtffi.C

pcall(ffi.cdef, [[
typedef struct sqlite3 sqlite3;
int sqlite3_open(const char *filename, sqlite3 **db);
int sqlite3_close(sqlite3 *db);
int sqlite3_exec(sqlite3 *db, const char *sql, void *cb, void *arg, char **err);
]])

local T0 = 1704186000000000 -- 2024-01-02 09:00 UTC
local MIN = 60 * 1000000

-- A second connection: rows as SQLite holds them.
local function sql_rows(path, sql)
  local h = C.gt_db_open(path, C.GT_DB_READONLY)
  assert(h ~= nil, gtffi.errmsg())
  assert(C.gt_db_prepare(h, sql) == 0, gtffi.errmsg())
  local rows, len = {}, ffi.new("int64_t[1]")
  while true do
    local rc = C.gt_db_step(h)
    assert(rc >= 0, gtffi.errmsg())
    if rc == 0 then break end
    local r = {}
    for i = 0, 15 do
      local ty = C.gt_db_type(h, i)
      if ty == C.GT_DB_INTEGER then r[i + 1] = tonumber(C.gt_db_int(h, i))
      elseif ty == C.GT_DB_FLOAT then r[i + 1] = C.gt_db_double(h, i)
      elseif ty == C.GT_DB_TEXT then
        local p = C.gt_db_text(h, i, len); r[i + 1] = ffi.string(p, len[0])
      elseif ty == C.GT_DB_BLOB then
        local p = C.gt_db_bytes(h, i, len); r[i + 1] = ffi.string(p, len[0])
      end
    end
    rows[#rows + 1] = r
  end
  C.gt_db_close(h)
  return rows
end
local function count(path, sql) return sql_rows(path, sql)[1][1] end

local function exec(path, sql)
  local h = C.gt_db_open(path, 0)
  assert(h ~= nil, gtffi.errmsg())
  local rc = C.gt_db_exec(h, sql)
  local msg = rc < 0 and gtffi.errmsg(rc) or nil
  C.gt_db_close(h)
  return rc == 0, msg
end

local function all_bytes()
  local b = {}
  for i = 0, 255 do b[#b + 1] = string.char(i) end
  return table.concat(b) .. "\0\0tail"
end

-- A state as the orchestrator would commit it at cycle k.
local function state_at(k, books)
  return { ts = T0 + k * MIN, cash = 10000 - k * 0.25, equity = 10500.125 + k,
    positions = { AAPL = { qty = 10 + k, avg = 101.25, price = 102.5 + k / 8 },
      ["BTC-USD"] = { qty = -0.0125, avg = 42000.5, price = 41999.75 } },
    breaker = "ACTIVE", tier = "small", regime = "bull_trending", strategy = "momentum",
    books = books or ("books" .. k), lua_state = { k = k, names = { "a", "b" }, flags = { on = true } } }
end

describe("gt.journal", function()
  local dir, db
  before_each(function() dir = t.tmpdir(); db = dir .. "/j.db" end)
  after_each(function() os.execute("rm -rf " .. t.quote(dir)) end)

  it("round-trips events: typed columns plain SQL reads, the rest as JSON detail", function()
    local J = assert(journal.open(db, { durable = true }))
    local sid = assert(J:session { key = "rt", name = "round trip", mode = "paper", workflow = "workflows/paper.lua",
      config = { symbols = { "AAPL" }, step = function() end }, now = T0 })
    J:append { type = "order", ts = T0 + 1, symbol = "AAPL", strategy = "momentum", side = "buy", qty = 10,
      price = 101.5, value = 1015, confidence = 0.75, order_id = 7, status = "new", reason = "entry",
      tif = "day", tags = { "a", "b" }, nested = { x = 1.5, ok = true }, cycle = 99, seq = 42 }
    J:append { type = "fill", ts = T0 + 2, symbol = "AAPL", side = "SELL", qty = 0.1 + 0.2, price = 1 / 3,
      order_id = ffi.new("int64_t", 8), fee = 0.125, nan = 0 / 0, inf = math.huge }
    J:append { type = "equity", ts = T0 + 3, value = 10500.5, cash = 9485, qty = 0 / 0, price = -math.huge }
    assert.is_true(J:commit(1, state_at(1)))
    -- plain SQL on the journal's own columns
    local rows = sql_rows(db, "SELECT qty FROM journal WHERE type = 'order'")
    assert.same({ { 10 } }, rows)
    rows = sql_rows(db, "SELECT session, cycle, seq, ts, type, symbol, strategy, side, qty, price, value,"
      .. " confidence, order_id, status, reason, detail FROM journal ORDER BY id")
    assert.equal(3, #rows)
    assert.same({ sid, 1, 1, T0 + 1, "order", "AAPL", "momentum", 1, 10, 101.5, 1015, 0.75, 7, "new", "entry",
      '{"nested":{"ok":true,"x":1.5},"tags":["a","b"],"tif":"day"}' }, rows[1])
    assert.equal(-1, rows[2][8], "'SELL' is side -1")
    assert.equal(0.1 + 0.2, rows[2][9], "REAL columns keep the exact double")
    assert.equal(1 / 3, rows[2][10])
    assert.equal(8, rows[2][13], "an int64 order id")
    assert.equal('{"fee":0.125,"inf":null,"nan":null}', rows[2][16], "NaN and inf in detail are JSON null")
    assert.is_nil(rows[3][9], "NaN in a typed column is NULL")
    assert.equal(-math.huge, rows[3][10], "inf in a typed column stays inf")
    -- the views sqlite3 users query
    local v = sql_rows(db, "SELECT time, symbol, qty FROM journal_orders")
    assert.same({ { "2024-01-02 09:00:00", "AAPL", 10 } }, v)
    assert.same({ { "AAPL", -1 } }, sql_rows(db, "SELECT symbol, side FROM journal_fills"))
    assert.same({ { 10500.5, 9485 } }, sql_rows(db, "SELECT equity, cash FROM journal_equity"))
    -- and back through the API: the event as appended, with the journal's cycle and seq
    local q = assert(J:query { type = "order" })
    assert.equal(1, #q)
    local o = q[1]
    assert.equal(1, o.cycle); assert.equal(1, o.seq); assert.equal(1, o.side)
    assert.equal("day", o.tif)
    assert.same({ "a", "b" }, o.tags)
    assert.same({ x = 1.5, ok = true }, o.nested)
    local f = assert(J:query { type = { "fill" } })[1]
    assert.is_nil(f.nan, "NaN in detail reads back absent")
    assert.is_nil(f.inf)
    assert.equal(0.125, f.fee)
    assert.equal(2, #J:query { order_id = 7, type = { "order", "fill" } } + #J:query { order_id = 8 })
    assert.equal(2, #J:query { since = T0 + 2 })
    assert.equal(1, #J:query { since = T0 + 2, until_ = T0 + 3 })
    assert.equal(T0 + 3, J:query { limit = 1, desc = true }[1].ts)
    -- flat detail is encoded by the journal itself: the same text gt.json writes
    local flat = { zeta = 1, alpha = "x\"y\n\1", ["we\"ird"] = true, mid = -0.1, big = 2 ^ 60, no = false,
      tiny = 5e-324, neg = -7 }
    local ev = { type = "alert", ts = T0 + 4 }
    for k, x in pairs(flat) do ev[k] = x end
    J:append(ev)
    assert.is_true(J:commit(2))
    assert.equal(gt.json.encode(flat), sql_rows(db, "SELECT detail FROM journal WHERE type = 'alert'")[1][1])
    local back = J:query { type = "alert" }[1]
    for k, x in pairs(flat) do assert.equal(x, back[k], k) end
    local s = J:sessions()[1]
    assert.equal("<function>", s.config.step, "config keeps what JSON cannot hold as a marker")
    assert.equal(2, s.last_cycle)
    assert.is_true(J:finish("finished"))
    J:close(); J:close()
  end)

  it("raises on misuse: unknown types (listing them), bad fields, no session, closed", function()
    local J = assert(journal.open(db))
    assert.has_error(function() J:append { type = "order", ts = T0 } end, "gt.journal:append: no session (call J:session first)")
    J:session { key = "m", now = T0 }
    local ok, err = pcall(J.append, J, { type = "oder", ts = T0 })
    assert.is_false(ok)
    assert.matches("unknown event type 'oder' (types: bar, analysis, regime, selection, sizing, risk_decision, order, fill, "
      .. "position, equity, breaker, alert, error, tier_change, session, command, reload)", err, 1, true)
    assert.has_error(function() J:append { type = "order" } end)
    assert.has_error(function() J:append { type = "order", ts = T0 + 0.5 } end)
    assert.has_error(function() J:append { type = "order", ts = T0, side = "up" } end)
    assert.has_error(function() J:append { type = "order", ts = T0, qty = "10" } end)
    assert.has_error(function() J:append { type = "order", ts = T0, order_id = "abc-uuid" } end)
    assert.has_error(function() J:append { type = "order", ts = T0, f = print } end)
    assert.has_error(function() journal.open(db, { batc = 3 }) end)
    assert.has_error(function() J:commit(-1) end)
    assert.has_error(function() J:finish("done") end)
    J:close()
    assert.has_error(function() J:commit(1, {}) end)
    assert.has_error(function() J:query {} end)
    local none, e2 = journal.open(dir .. "/no/such/dir/j.db")
    assert.is_nil(none)
    assert.matches(dir .. "/no/such/dir", e2, 1, true)
  end)

  it("commits a cycle in one transaction: a failure part-way writes nothing and keeps the buffer", function()
    local J = assert(journal.open(db, { durable = true }))
    local sid = J:session { key = "tx", now = T0 }
    for k = 1, 4 do J:append { type = "bar", ts = T0 + k, symbol = "AAPL", price = 100 + k } end
    assert.is_true(J:commit(1, state_at(1)))
    for k = 1, 5 do J:append { type = "order", ts = T0 + MIN + k, symbol = "AAPL", qty = k } end
    -- a state that is not valid raises before BEGIN: nothing written, buffer intact
    local bad = state_at(2); bad.books = { 1, 2, 3 }
    assert.has_error(function() J:commit(2, bad) end)
    assert.equal(4, count(db, "SELECT count(*) FROM journal"))
    -- the database refuses the third insert of the cycle (a trigger installed for the test)
    assert(exec(db, "CREATE TRIGGER boom BEFORE INSERT ON journal WHEN NEW.seq = 3 AND NEW.cycle = 2"
      .. " BEGIN SELECT RAISE(ABORT, 'injected failure'); END"))
    local ok, err = J:commit(2, state_at(2))
    assert.is_nil(ok)
    assert.matches("injected failure", err, 1, true)
    assert.matches(db, err, 1, true)
    assert.equal(4, count(db, "SELECT count(*) FROM journal"), "no row of cycle 2")
    assert.equal(1, count(db, "SELECT cycle FROM session_state"), "the state is cycle 1's")
    assert.equal("books1", sql_rows(db, "SELECT books FROM session_state")[1][1])
    assert.equal(1, count(db, "SELECT last_cycle FROM sessions"))
    -- the buffer is kept: once the database accepts, the same cycle commits whole, once
    assert(exec(db, "DROP TRIGGER boom"))
    assert.is_true(J:commit(2, state_at(2)))
    assert.same({ { 2, 1, 1 }, { 2, 2, 2 }, { 2, 3, 3 }, { 2, 4, 4 }, { 2, 5, 5 } },
      sql_rows(db, "SELECT cycle, seq, qty FROM journal WHERE cycle = 2 ORDER BY seq"))
    assert.equal(2, count(db, "SELECT cycle FROM session_state"))
    -- a cycle committed again is refused by the journal, and by the table
    assert.has_error(function() J:commit(2, state_at(2)) end)
    local dup, derr = exec(db, ("INSERT INTO journal(session, cycle, seq, ts, type) VALUES (%d, 2, 3, 0, 'bar')"):format(sid))
    assert.is_false(dup)
    assert.matches("UNIQUE", derr, 1, true)
    -- a second writer on the same session replaying cycle 3 after the first wrote it
    local J2 = assert(journal.open(db, { durable = true }))
    assert.equal(sid, J2:session { key = "tx", now = T0 })
    J:append { type = "bar", ts = T0 + 3 * MIN, price = 1 }
    assert.is_true(J:commit(3, state_at(3)))
    J2:append { type = "bar", ts = T0 + 3 * MIN, price = 2 }
    local ok2, err2 = J2:commit(3, state_at(99))
    assert.is_nil(ok2)
    assert.matches("UNIQUE", err2, 1, true)
    assert.equal(1, count(db, "SELECT count(*) FROM journal WHERE cycle = 3"))
    assert.equal(3, count(db, "SELECT cycle FROM session_state"), "the loser's state is not written")
    J2:close()
    J:close()
    assert.equal(10, count(db, "SELECT count(*) FROM journal"))
  end)

  it("resumes a session by key with its last committed state, byte for byte", function()
    local books = all_bytes()
    local J = assert(journal.open(db, { durable = true }))
    local sid, st = J:session { key = "paper:AAPL", name = "paper", mode = "paper", now = T0 }
    assert.is_nil(st, "a new session has no state")
    for k = 1, 3 do
      J:append { type = "equity", ts = T0 + k * MIN, value = 1000 + k }
      assert.is_true(J:commit(k, state_at(k, k == 3 and books or nil)))
    end
    J:append { type = "bar", ts = T0 + 4 * MIN } -- cycle 4 never commits: the process dies
    J = nil -- luacheck: ignore (dropped without close, as a dead process leaves it)
    collectgarbage(); collectgarbage()
    local R = assert(journal.open(db, { durable = true }))
    local sid2, s = R:session { key = "paper:AAPL", now = T0 + 10 * MIN }
    assert.equal(sid, sid2)
    local want = state_at(3, books)
    assert.equal(books, s.books, "the ledger snapshot's bytes")
    assert.equal(#books, #s.books)
    for _, k in ipairs({ "ts", "cash", "equity", "breaker", "tier", "regime", "strategy" }) do
      assert.equal(want[k], s[k], k)
    end
    assert.same(want.positions, s.positions)
    assert.same(want.lua_state, s.lua_state)
    assert.equal(3, s.cycle)
    assert.same(s, R:state(sid))
    assert.equal(3, count(db, "SELECT count(*) FROM journal"), "the dead cycle's event is gone")
    -- the resumed session goes on after cycle 3
    assert.has_error(function() R:commit(3, {}) end)
    R:append { type = "equity", ts = T0 + 11 * MIN, value = 1004 }
    assert.is_true(R:commit(4, state_at(4)))
    -- stopped: an event after the last commit is kept at the end of that cycle; resumable
    R:append { type = "session", ts = T0 + 12 * MIN, status = "stopped", reason = "SIGINT" }
    assert.is_true(R:finish("stopped"))
    assert.same({ { 4, 2, "session", "stopped" } },
      sql_rows(db, "SELECT cycle, seq, type, status FROM journal WHERE type = 'session'"))
    local sid3, s3 = R:session { key = "paper:AAPL", now = T0 + 20 * MIN }
    assert.equal(sid, sid3)
    assert.equal(4, s3.cycle)
    R:append { type = "equity", ts = T0 + 21 * MIN, value = 1005 }
    assert.is_true(R:commit(5, state_at(5)))
    assert.is_true(R:finish("finished"))
    local again, err = R:session { key = "paper:AAPL", now = T0 + 30 * MIN }
    assert.is_nil(again)
    assert.matches("finished", err, 1, true)
    assert.equal("finished", sql_rows(db, "SELECT status FROM sessions")[1][1])
    R:close()
  end)

  it("in batched mode writes nothing until `batch` commits or a flush", function()
    local J = assert(journal.open(db, { batch = 3 }))
    J:session { key = "bt", mode = "backtest", now = T0 }
    local function rows() return count(db, "SELECT count(*) FROM journal") end
    for k = 1, 2 do
      J:append { type = "bar", ts = T0 + k, price = k }
      J:append { type = "equity", ts = T0 + k, value = 1000 + k }
      assert.is_true(J:commit(k, state_at(k)))
    end
    assert.equal(0, rows(), "two commits of a batch of three: nothing yet")
    assert.equal(0, count(db, "SELECT count(*) FROM session_state"))
    assert.is_nil(count(db, "SELECT last_cycle FROM sessions"))
    J:append { type = "bar", ts = T0 + 3, price = 3 }
    assert.is_true(J:commit(3, state_at(3)))
    assert.equal(5, rows(), "the third commit writes the three cycles")
    assert.same({ { 1 }, { 1 }, { 2 }, { 2 }, { 3 } }, sql_rows(db, "SELECT cycle FROM journal ORDER BY id"))
    assert.equal(3, count(db, "SELECT cycle FROM session_state"))
    J:append { type = "bar", ts = T0 + 4, price = 4 }
    assert.is_true(J:commit(4, state_at(4)))
    J:append { type = "bar", ts = T0 + 5, price = 5 } -- the open cycle: flush leaves it
    assert.equal(5, rows())
    assert.is_true(J:flush())
    assert.equal(6, rows())
    assert.equal(4, count(db, "SELECT last_cycle FROM sessions"))
    assert.is_true(J:finish("finished"))
    assert.equal(7, rows(), "finish keeps the last open event")
    J:close()
  end)

  it("discard(mark) drops the open cycle's events after the mark, never a committed cycle's", function()
    local J = assert(journal.open(db, { durable = true }))
    J:session { key = "dc", mode = "live", now = T0 }
    local function rows() return sql_rows(db, "SELECT cycle, seq, type FROM journal ORDER BY id") end
    J:append { type = "bar", ts = T0 + 1, price = 1 }
    assert.is_true(J:commit(1, state_at(1)))
    J:append { type = "error", ts = T0 + 2, reason = "between cycles" } -- the last commit's epilogue
    local mark = J:mark()
    J:append { type = "bar", ts = T0 + 3, price = 2 } -- the cycle under way: interrupted
    J:append { type = "fill", ts = T0 + 3, qty = 1, price = 2 }
    assert.is_true(J:discard(mark))
    assert.is_true(J:finish("stopped"))
    assert.same({ { 1, 1, "bar" }, { 1, 2, "error" } }, rows(), "the epilogue stays, the cycle under way does not")
    J:close()
    -- a mark from before a commit: only the open cycle's events go
    J = assert(journal.open(db, { durable = true }))
    J:session { key = "dc2", mode = "live", now = T0 }
    mark = J:mark()
    J:append { type = "bar", ts = T0 + 1, price = 1 }
    assert.is_true(J:commit(1, state_at(1)))
    J:append { type = "bar", ts = T0 + 2, price = 2 }
    assert.is_true(J:discard(mark))
    J:append { type = "equity", ts = T0 + 2, value = 1 }
    assert.is_true(J:commit(2, state_at(2)))
    assert.same({ { 1, 1, "bar" }, { 2, 1, "equity" } },
      sql_rows(db, "SELECT cycle, seq, type FROM journal WHERE session = 2 ORDER BY id"))
    assert.has_error(function() J:discard(-1) end)
    J:close()
  end)

  it("migrates a schema-7 database to the newest (8: the journal, 9: alerts) keeping its data", function()
    local f = assert(io.open("tests/lua/fixtures/schema7.sql", "rb"))
    local dump = f:read("*a"); f:close()
    local p = ffi.new("sqlite3 *[1]")
    assert(C.sqlite3_open(db, p) == 0)
    assert.equal(0, C.sqlite3_exec(p[0], dump, nil, nil, nil))
    C.sqlite3_close(p[0])
    assert.equal(7, count(db, "PRAGMA user_version"))
    local J = assert(journal.open(db, { durable = true }))
    assert.equal(gt.store.SCHEMA_VERSION, count(db, "PRAGMA user_version"))
    assert.equal(0, count(db, "SELECT count(*) FROM alerts"))
    assert.equal(40, count(db, "SELECT count(*) FROM bars"))
    assert.equal("fixture halt", sql_rows(db, "SELECT value FROM control WHERE key = 'halt'")[1][1])
    local st = assert(gt.store.open(db))
    local s = assert(st:load { symbol = "SYN", timeframe = "1d" })
    assert.equal(40, s.n)
    assert.equal("fixture halt", st:control("halt"))
    st:close()
    J:session { key = "after-migration", now = T0 }
    J:append { type = "order", ts = T0, symbol = "SYN", qty = 1 }
    assert.is_true(J:commit(1, state_at(1)))
    assert.same({ { "SYN", 1 } }, sql_rows(db, "SELECT symbol, qty FROM journal_orders"))
    J:close()
  end)

  it("measures its throughput (a figure for the notes, not a threshold)", function()
    local clock = C.gt_clock_seconds
    -- batched (a backtest): 20,000 cycles of 5 events, one of them with detail fields
    local J = assert(journal.open(db))
    J:session { key = "speed-batched", now = T0 }
    local cycles, per = 20000, 5
    local t0 = clock()
    for k = 1, cycles do
      local ts = T0 + k * MIN
      J:append { type = "bar", ts = ts, symbol = "AAPL", price = 100 + k % 7 }
      J:append { type = "regime", ts = ts, regime = "bull", confidence = 0.6 }
      J:append { type = "order", ts = ts, symbol = "AAPL", side = 1, qty = 10, price = 100, order_id = k }
      J:append { type = "fill", ts = ts, symbol = "AAPL", side = 1, qty = 10, price = 100, order_id = k }
      J:append { type = "equity", ts = ts, value = 10000 + k }
      assert(J:commit(k, { ts = ts, cash = 1000, equity = 10000 + k }))
    end
    assert(J:flush())
    local batched = cycles * per / (clock() - t0)
    J:close()
    assert.equal(cycles * per, count(db, "SELECT count(*) FROM journal"))
    -- durable (paper, live): a commit per cycle with synchronous=FULL
    local D = assert(journal.open(db, { durable = true }))
    D:session { key = "speed-durable", now = T0 }
    local n = 200
    t0 = clock()
    for k = 1, n do
      D:append { type = "equity", ts = T0 + k, value = k }
      assert(D:commit(k, { ts = T0 + k, equity = k, books = "xxxxxxxxxxxxxxxx" }))
    end
    local durable = n / (clock() - t0)
    D:close()
    assert.equal(n, count(db, "SELECT last_cycle FROM sessions WHERE key = 'speed-durable'"))
    io.stderr:write(("# journal throughput: batched %.0f events/s appended and committed (batch 1000);"
      .. " durable %.0f commits/s (synchronous=FULL)\n"):format(batched, durable))
  end)
end)
