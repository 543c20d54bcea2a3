-- gt.store through the FFI: schema and migrations, round trips, merge, validation,
-- ranges, listing, deletes, two handles, open errors. Rows are counted through a raw
-- sqlite3 connection (SQLite's own API, declared here), not through the code under test.
local ffi = require "ffi"
local store = require "gt.store"
local series = require "gt.series"
local t = require "tests.lua.support"

pcall(ffi.cdef, [[
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
int sqlite3_open(const char *filename, sqlite3 **db);
int sqlite3_close(sqlite3 *db);
int sqlite3_exec(sqlite3 *db, const char *sql, void *cb, void *arg, char **err);
int sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n, sqlite3_stmt **q, const char **tail);
int sqlite3_step(sqlite3_stmt *q);
int64_t sqlite3_column_int64(sqlite3_stmt *q, int i);
int sqlite3_finalize(sqlite3_stmt *q);
]])
local C = ffi.C

local function raw_exec(path, sql)
  local db = ffi.new("sqlite3 *[1]")
  assert(C.sqlite3_open(path, db) == 0)
  local rc = C.sqlite3_exec(db[0], sql, nil, nil, nil)
  C.sqlite3_close(db[0])
  assert(rc == 0, "raw sql failed: " .. sql)
end

local function raw_int(path, sql)
  local db, q = ffi.new("sqlite3 *[1]"), ffi.new("sqlite3_stmt *[1]")
  assert(C.sqlite3_open(path, db) == 0)
  local v
  if C.sqlite3_prepare_v2(db[0], sql, -1, q, nil) == 0 and C.sqlite3_step(q[0]) == 100 then
    v = tonumber(C.sqlite3_column_int64(q[0], 0))
  end
  C.sqlite3_finalize(q[0])
  C.sqlite3_close(db[0])
  return v
end

local DAY = 86400 * 1000000

-- n daily bars from day d0, open = base + i.
local function bars(n, d0, base, meta)
  local cols = { ts = {}, open = {}, high = {}, low = {}, close = {}, volume = {} }
  for i = 1, n do
    local o = base + i - 1
    cols.ts[i], cols.open[i], cols.high[i], cols.low[i] = (d0 + i - 1) * DAY, o, o + 1, o - 1
    cols.close[i], cols.volume[i] = o + 0.5, 10 * i
  end
  return series.from_columns(cols, meta or { symbol = "T", timeframe = "1d" })
end

describe("gt.store", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. t.quote(dir)) end)

  it("opens, reports its version and closes twice", function()
    local db = assert(store.open(dir .. "/a.db"))
    assert.equal(C.GT_STORE_SCHEMA_VERSION, db:version())
    assert.equal(store.SCHEMA_VERSION, db:version())
    db:close(); db:close()
    assert.has_error(function() db:version() end, "store: the database " .. dir .. "/a.db is closed")
    assert.equal(C.GT_STORE_SCHEMA_VERSION, raw_int(dir .. "/a.db", "PRAGMA user_version"))
  end)

  it("migrates an empty file and a version 0 database, keeping other tables", function()
    t.write(dir .. "/empty.db", "")
    local db = assert(store.open(dir .. "/empty.db"))
    assert.equal(C.GT_STORE_SCHEMA_VERSION, db:version()); db:close()
    raw_exec(dir .. "/v0.db", "CREATE TABLE notes (x); INSERT INTO notes VALUES (42);")
    assert.equal(0, raw_int(dir .. "/v0.db", "PRAGMA user_version"))
    db = assert(store.open(dir .. "/v0.db"))
    assert.equal(C.GT_STORE_SCHEMA_VERSION, db:version()); db:close()
    assert.equal(42, raw_int(dir .. "/v0.db", "SELECT x FROM notes"))
  end)

  it("refuses a database newer than the code", function()
    local newer = C.GT_STORE_SCHEMA_VERSION + 1
    raw_exec(dir .. "/new.db", ("PRAGMA user_version = %d;"):format(newer))
    local db, err = store.open(dir .. "/new.db")
    assert.is_nil(db)
    assert.matches(("schema version %d but this gtengine knows versions up to %d"):format(newer,
      C.GT_STORE_SCHEMA_VERSION), err, 1, true)
  end)

  it("gives clear errors for a missing directory and a file that is not a database", function()
    local db, err = store.open(dir .. "/missing/x.db")
    assert.is_nil(db)
    assert.equal(("store %s/missing/x.db: cannot open: directory %s/missing: No such file or directory")
      :format(dir, dir), err)
    t.write(dir .. "/junk.db", ("not sqlite at all\n"):rep(20))
    db, err = store.open(dir .. "/junk.db")
    assert.is_nil(db)
    assert.equal(("store %s/junk.db: setting up the connection: file is not a database"):format(dir), err)
  end)

  it("round-trips bars bit-exact", function()
    local db = assert(store.open(dir .. "/rt.db"))
    local s = series.from_columns({
      ts = { -DAY + 1, 0, 1136160000123456 }, open = { 0.1, 1 / 3, 9007199254740992 },
      high = { 0.3, 1 / 3, 9007199254740992 }, low = { 0.1, 0.2, 1e-300 },
      close = { 0.2, 0.3, 12345.678901234567 }, volume = { 0, 1e18 + 1, 0.5 },
    }, { symbol = "RT", timeframe = "1m" })
    assert.equal(3, db:put(s, { source = "spec" }))
    local r = assert(db:load { symbol = "RT", timeframe = "1m" })
    assert.equal("RT", r.symbol); assert.equal("1m", r.timeframe)
    assert.equal(3, r.n)
    for _, col in ipairs(series.COLUMNS) do
      assert.same(s:column(col), r:column(col), col)
    end
    assert.equal(1, raw_int(dir .. "/rt.db",
      "SELECT count(*) FROM imports WHERE source = 'spec' AND rows = 3 AND last_ts = 1136160000123456"))
    db:close()
  end)

  it("stores real ORCL data exactly as tonumber reads it", function()
    local path, why = t.shared_file("data/backtrader/orcl-1995-2014.txt")
    if not path then return pending(why) end
    local cols = { ts = {}, open = {}, high = {}, low = {}, close = {}, volume = {} }
    local n = 0
    for line in io.lines(path) do
      local y, m, d, o, h, l, c, v = line:match("^(%d+)-(%d+)-(%d+),([^,]+),([^,]+),([^,]+),([^,]+),[^,]+,([^,]+)$")
      if y then
        n = n + 1
        cols.ts[n] = tonumber(C.gt_days_from_civil(tonumber(y), tonumber(m), tonumber(d))) * DAY
        cols.open[n], cols.high[n], cols.low[n] = tonumber(o), tonumber(h), tonumber(l)
        cols.close[n], cols.volume[n] = tonumber(c), tonumber(v)
      end
    end
    assert.equal(5036, n)
    local db = assert(store.open(dir .. "/orcl.db"))
    assert.equal(n, db:put(series.from_columns(cols), { symbol = "ORCL", timeframe = "1d", source = path }))
    local r = assert(db:load { symbol = "ORCL", timeframe = "1d" })
    assert.same(cols.close, r:column("close"))
    assert.same(cols.volume, r:column("volume"))
    assert.same(cols.ts, r:column("ts"))
    local first, last, count = db:range("ORCL", "1d")
    assert.equal(789091200 * 1000000, first) -- date -u -d 1995-01-03 +%s
    assert.equal(1419984000 * 1000000, last) -- 2014-12-31
    assert.equal(5036, count)
    db:close()
  end)

  it("merges keep-last on the same timestamp", function()
    local db = assert(store.open(dir .. "/m.db"))
    assert.equal(5, db:put(bars(5, 0, 10)))   -- days 0..4, open 10..14
    assert.equal(3, db:put(bars(3, 3, 50)))   -- days 3..5, open 50..52
    local r = assert(db:load { symbol = "T", timeframe = "1d" })
    assert.same({ 10, 11, 12, 50, 51, 52 }, r:column("open"))
    assert.equal(2, raw_int(dir .. "/m.db", "SELECT count(*) FROM imports"))
    db:close()
  end)

  it("writes nothing when any bar is invalid", function()
    local db = assert(store.open(dir .. "/v.db"))
    db:put(bars(3, 0, 10))
    local s = bars(4, 2, 90)
    -- a raw write on purpose (columns are read-only): low above open and close, below high:
    -- the fourth bar (index 3) is bad
    ffi.cast("double *", s.low.p)[3] = s.open[3] + 0.75
    local before = raw_int(dir .. "/v.db", "SELECT count(*) FROM bars")
    local n, err = db:put(s)
    assert.is_nil(n)
    assert.equal(("store %s/v.db: put T 1d: bar 3 (ts %d, 1970-01-06T00:00:00Z): "
      .. "low is above min(open, close, high)"):format(dir, 5 * DAY), err)
    assert.equal(before, raw_int(dir .. "/v.db", "SELECT count(*) FROM bars"))
    assert.equal(12, raw_int(dir .. "/v.db", "SELECT open FROM bars WHERE ts = " .. 2 * DAY),
      "the overlapping bar keeps its old value")
    assert.has_error(function() db:put(bars(1, 0, 10), { timeframe = "daily" }) end,
      ("store %s/v.db: bad timeframe 'daily' (want e.g. 1m 5m 1h 4h 1d 1w 1mo)"):format(dir))
    assert.has_error(function() db:put({}, { symbol = "X", timeframe = "1d" }) end)
    db:close()
  end)

  it("treats start as inclusive and stop as exclusive", function()
    local db = assert(store.open(dir .. "/r.db"))
    db:put(bars(5, 1, 10)) -- days 1..5
    local function days(q)
      q.symbol, q.timeframe = "T", "1d"
      local s = db:load(q)
      if not s then return {} end
      local out = {}
      for i = 0, s.n - 1 do out[#out + 1] = s:time(i) / DAY end
      return out
    end
    assert.same({ 2, 3 }, days { start = 2 * DAY, stop = 4 * DAY })
    assert.same({ 2, 3, 4 }, days { start = 2 * DAY - 1, stop = 4 * DAY + 1 })
    assert.same({ 3, 4, 5 }, days { start = 3 * DAY })
    assert.same({ 1, 2 }, days { stop = 3 * DAY })
    assert.same({ 1, 2, 3, 4, 5 }, days {})
    assert.same({}, days { start = 3 * DAY, stop = 3 * DAY })
    local s, err = db:load { symbol = "T", timeframe = "1d", start = 9 * DAY }
    assert.is_nil(s)
    assert.equal(("store %s/r.db: no T 1d bars stored in [1970-01-10T00:00:00Z, )"):format(dir), err)
    local first, last, count = db:range("T", "1d", 2 * DAY, 5 * DAY)
    assert.equal(2 * DAY, first); assert.equal(4 * DAY, last); assert.equal(3, count)
    assert.is_nil(db:range("T", "1h"))
    assert.has_error(function() db:load { symbol = "T", timeframe = "1d", start = 1.5 } end,
      "store: start must be integer microseconds, got 1.5")
    db:close()
  end)

  it("lists symbols with plain numbers and deletes ranges", function()
    local db = assert(store.open(dir .. "/l.db"))
    assert.same({}, db:list())
    db:put(bars(4, 0, 10), { symbol = "BBB" })
    db:put(bars(2, 10, 10), { symbol = "AAA", timeframe = "1w" })
    local l = db:list()
    assert.same({
      { symbol = "AAA", timeframe = "1w", count = 2, first = 10 * DAY, last = 11 * DAY },
      { symbol = "BBB", timeframe = "1d", count = 4, first = 0, last = 3 * DAY },
    }, l)
    assert.equal("number", type(l[1].first))
    assert.equal(2, db:delete { symbol = "BBB", timeframe = "1d", start = DAY, stop = 3 * DAY })
    assert.equal(2, db:list()[2].count)
    assert.equal(2, db:delete { symbol = "AAA", timeframe = "1w" })
    assert.equal(0, db:delete { symbol = "AAA", timeframe = "1w" })
    assert.equal(1, #db:list())
    db:close()
  end)

  it("shares one file between two handles", function()
    local a = assert(store.open(dir .. "/two.db"))
    local b = assert(store.open(dir .. "/two.db"))
    a:put(bars(3, 0, 10))
    local r = assert(b:load { symbol = "T", timeframe = "1d" })
    assert.equal(3, r.n)
    b:put(bars(1, 3, 20))
    assert.equal(4, a:list()[1].count)
    a:close(); b:close()
  end)
end)
