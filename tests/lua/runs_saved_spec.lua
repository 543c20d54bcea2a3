-- Saved runs (schema 4): a run reopened with `gtengine runs --id N` gives the same stats,
-- trades and HTML report as the backtest that saved it, keeps only the chart points, and
-- runs saved by schema 3 stay readable. The reference for every comparison is the original
-- run's own output (backtest --json / --report), never the reopening code.
local t = require "tests.lua.support"
local json = require "gt.json"
local ffi = require "ffi"

pcall(ffi.cdef, [[
typedef struct sqlite3 sqlite3;
int sqlite3_open(const char *filename, sqlite3 **db);
int sqlite3_close(sqlite3 *db);
int sqlite3_exec(sqlite3 *db, const char *sql, void *cb, void *arg, char **err);
]])

local function raw_exec(path, sql)
  local db = ffi.new("sqlite3 *[1]")
  assert(ffi.C.sqlite3_open(path, db) == 0)
  local rc = ffi.C.sqlite3_exec(db[0], sql, nil, nil, nil)
  ffi.C.sqlite3_close(db[0])
  assert(rc == 0, "raw sql failed: " .. sql)
end

local csv_file = t.synthetic_csv

local function slurp(p)
  local f = assert(io.open(p, "rb")); local s = f:read("*a"); f:close(); return s
end

-- Every key of a and b, recursively, with exact equality.
local function same(a, b, path)
  assert.equal(type(a), type(b), path)
  if type(a) ~= "table" then assert.equal(a, b, path); return end
  for k, v in pairs(a) do same(v, b[k], path .. "." .. tostring(k)) end
  for k in pairs(b) do assert.is_not_nil(a[k], path .. "." .. tostring(k) .. " only in the reopened run") end
end

describe("a saved run reopened", function()
  local dir
  before_each(function() dir = t.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. t.quote(dir)) end)

  for _, n in ipairs({ 300, 5000 }) do
    it(("gives the same stats, trades and report as the backtest that saved it (%d bars)"):format(n), function()
      -- 300 bars keep every bar; 5000 keep only the report's points (MAX_POINTS is 2000)
      local csv = csv_file(dir .. "/SYN.csv", n, 5)
      local db = dir .. "/r.db"
      local out, err, code = t.run(("backtest --strategy sma_cross --data %s --db %s --json --report %s")
        :format(csv, db, dir .. "/a.html"))
      assert.equal(0, code, err)
      local orig = assert(json.decode(out))
      assert.is_true(#orig.trades > 5)
      out, err, code = t.run(("runs --db %s --id 1 --json --report %s"):format(db, dir .. "/b.html"))
      assert.equal(0, code, err)
      local again = assert(json.decode(out))
      same(orig.stats, again.stats, "stats")
      same(orig.trades, again.trades, "trades")
      same(orig.params, again.params, "params")
      same(orig.options, again.options, "options")
      for _, k in ipairs({ "strategy", "symbol", "timeframe", "bars", "first", "last" }) do
        assert.equal(orig[k], again[k], k)
      end
      -- the last equity point is the final equity, exactly
      assert.equal(n - 1, again.equity[#again.equity][1])
      assert.equal(orig.stats.final_equity, again.equity[#again.equity][2])
      if n > 2000 then assert.is_true(#again.equity < n, "only the chart points are kept") end
      assert.equal(slurp(dir .. "/a.html"), slurp(dir .. "/b.html"))
    end)
  end

  it("keeps at most a few thousand points however long the run", function()
    local gt = require "gt"
    local s = gt.data.synthetic { n = 100000, seed = 2 }
    local r = gt.backtest.run("sma_cross", s)
    local db = assert(require("gt.store").open(dir .. "/big.db"))
    local id = assert(r:save(dir .. "/big.db"))
    local run = assert(db:run(id))
    -- bound from gt.report.bars_used: 4 charts plus each further line drawn (sma_cross
    -- plots its two averages) x MAX_POINTS (2000) min/max points, the first and last bar,
    -- two bars per date tick (at most 8 ticks plus one)
    local lines = 4 + #require("gt.report").extra_lines(r)
    assert.equal(6, lines)
    assert.is_true(run.np <= lines * 2000 + 2 + 2 * 9, "points: " .. run.np)
    assert.equal(r.equity[s.n - 1], run.points[run.np - 1].equity)
    db:close()
    -- the database holds the trades and the points, not 800 KB of equity per 100k bars
    local size = #slurp(dir .. "/big.db") + #(io.open(dir .. "/big.db-wal", "rb") and slurp(dir .. "/big.db-wal") or "")
    -- trades (88 bytes each), points (48), the two indicator lines as JSON (under 24 bytes
    -- a value), and 200 KB of SQLite pages and slack
    assert.is_true(size < r.m * 88 + run.np * (48 + 2 * 24) + 200 * 1024, "database bytes: " .. size)
  end)

  it("names a damaged BLOB instead of reading past it", function()
    local csv = csv_file(dir .. "/SYN.csv", 300, 5)
    local db = dir .. "/r.db"
    local _, err, code = t.run(("backtest --strategy sma_cross --data %s --db %s"):format(csv, db))
    assert.equal(0, code, err)
    -- 3 bytes cannot be whole 48-byte gt_run_point records
    raw_exec(db, "UPDATE run_data SET points = X'010203' WHERE run_id = 1")
    _, err, code = t.run(("runs --db %s --id 1 --json"):format(db))
    assert.equal(1, code)
    assert.matches("run 1: the points BLOB has 3 bytes, not a whole number of 48-byte records", err, 1, true)
  end)

  it("lists when each run ran and its parameters", function()
    local csv = csv_file(dir .. "/SYN.csv", 300, 5)
    local db = dir .. "/r.db"
    local _, err, code = t.run(("backtest --strategy sma_cross --data %s --db %s --param fast=7"):format(csv, db))
    assert.equal(0, code, err)
    local out = t.run(("runs --db %s"):format(db))
    assert.matches("ran (UTC)", out, 1, true)
    assert.matches("%d%d%d%d%-%d%d%-%d%d %d%d:%d%d", out)
    assert.matches("fast=7 short=false slow=30", out, 1, true)
    -- a percentage carries its sign: the return column is "+x.xx %" or "-x.xx %"
    assert.matches("[%+%-]%d+%.%d%d %%", out)
    out = t.run(("runs --db %s --id 1"):format(db))
    assert.matches("ran %d%d%d%d%-%d%d%-%d%d %d%d:%d%d", out)
    assert.matches("Max drawdown duration%s+[%d,]+ bars", out)
    local rows = assert(json.decode(t.run(("runs --db %s --json"):format(db))))
    assert.equal(7, rows[1].params.fast)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT", rows[1].ran)
  end)

  it("reads runs saved before schema 4 (a row per trade, the whole equity curve)", function()
    local db = dir .. "/old.db"
    -- schema 3 as shipped (engine/store.c migrations 0..2, abridged to the run tables the
    -- reader uses), with one run of two trades and three bars of equity 1, 2, 3 (IEEE
    -- 754 little-endian: 1.0 = 000000000000F03F, 2.0 = ...0040, 3.0 = ...0840)
    raw_exec(db, [[
      CREATE TABLE bars (symbol TEXT NOT NULL, timeframe TEXT NOT NULL, ts INTEGER NOT NULL,
        open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL,
        volume REAL NOT NULL, PRIMARY KEY (symbol, timeframe, ts)) WITHOUT ROWID;
      CREATE TABLE imports (id INTEGER PRIMARY KEY, symbol TEXT NOT NULL, timeframe TEXT NOT NULL,
        source TEXT, rows INTEGER NOT NULL, first_ts INTEGER, last_ts INTEGER, imported_at INTEGER NOT NULL);
      CREATE TABLE runs (id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, strategy TEXT NOT NULL,
        symbol TEXT, timeframe TEXT, params TEXT NOT NULL, options TEXT NOT NULL, stats TEXT NOT NULL,
        data_hash TEXT NOT NULL, first_ts INTEGER, last_ts INTEGER, bars INTEGER NOT NULL);
      CREATE TABLE run_trades (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL, symbol_index INTEGER NOT NULL, entry_bar INTEGER NOT NULL,
        exit_bar INTEGER NOT NULL, entry_ts INTEGER NOT NULL, exit_ts INTEGER NOT NULL,
        entry_price REAL NOT NULL, exit_price REAL NOT NULL, size REAL NOT NULL, pnl REAL NOT NULL,
        return_pct REAL NOT NULL, fees REAL NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
      CREATE TABLE run_equity (run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        equity BLOB NOT NULL);
      CREATE TABLE coverage (symbol TEXT NOT NULL, timeframe TEXT NOT NULL, start INTEGER NOT NULL,
        stop INTEGER NOT NULL, PRIMARY KEY (symbol, timeframe, start)) WITHOUT ROWID;
      INSERT INTO runs VALUES (1, 1700000000000000, 'sma_cross', 'OLD', '1d', '{"fast":10}', '{}',
        '{"final_equity":3}', 'abc', 0, 172800000000, 3);
      INSERT INTO run_trades VALUES (1, 0, 0, 0, 1, 0, 86400000000, 10, 11, 1, 1, 10, 0);
      INSERT INTO run_trades VALUES (1, 1, 0, 1, 2, 86400000000, 172800000000, 11, 12.5, 2, 3, 13.636363636363637, 0);
      INSERT INTO run_equity VALUES (1, X'000000000000F03F00000000000000400000000000000840');
      PRAGMA user_version = 3;
    ]])
    local out, err, code = t.run(("runs --db %s --id 1 --json"):format(db))
    assert.equal(0, code, err)
    local doc = assert(json.decode(out))
    assert.same({ { 0, 1 }, { 1, 2 }, { 2, 3 } }, doc.equity)
    assert.equal(2, #doc.trades)
    assert.equal(12.5, doc.trades[2].exit_price)
    assert.equal("1970-01-02", doc.trades[1].exit_time)
    assert.equal(1, doc.trades[2].duration)
    assert.equal(10, doc.params.fast)
    assert.equal("2023-11-14T22:13:20Z", doc.created_at) -- 1700000000 s after the epoch
    _, err, code = t.run(("runs --db %s --id 1 --report %s"):format(db, dir .. "/old.html"))
    assert.equal(1, code)
    assert.matches("run 1 was saved before schema 4", err, 1, true)
    -- and a new run saves beside it in the migrated database
    local csv = csv_file(dir .. "/SYN.csv", 300, 5)
    _, err, code = t.run(("backtest --strategy sma_cross --data %s --db %s"):format(csv, db))
    assert.equal(0, code, err)
    assert.equal(2, #assert(json.decode((t.run(("runs --db %s --json"):format(db))))))
  end)
end)
