-- Two writers on a brand-new database: the second waits for the lock (the busy timeout)
-- instead of failing at once. SQLite skips the busy handler when waiting could deadlock
-- (a read lock held while another connection holds RESERVED), which is what the switch to
-- WAL met when several imports created one database together (issue 9: 4 of 30 failed).
local t = require "tests.lua.support"

-- A helper process: a plain rollback-journal database with a write transaction open
-- (RESERVED lock) for hold_s seconds, through SQLite's C API (the engine links it).
local HOLDER = [[
local ffi = require "ffi"
ffi.cdef[[
typedef struct sqlite3 sqlite3;
int sqlite3_open(const char *path, sqlite3 **db);
int sqlite3_exec(sqlite3 *db, const char *sql, void *cb, void *arg, char **err);
int sqlite3_close(sqlite3 *db);
]] .. "]]" .. [[
local path, ready, hold = arg[1], arg[2], tonumber(arg[3])
local pp = ffi.new("sqlite3 *[1]")
assert(ffi.C.sqlite3_open(path, pp) == 0)
local db = pp[0]
assert(ffi.C.sqlite3_exec(db, "CREATE TABLE t(x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);", nil, nil, nil) == 0)
io.open(ready, "w"):close()
os.execute("sleep " .. hold)
assert(ffi.C.sqlite3_exec(db, "COMMIT;", nil, nil, nil) == 0)
ffi.C.sqlite3_close(db)
]]

describe("store: a brand-new database another process is writing", function()
  it("the import waits for the lock and succeeds", function()
    local dir = t.tmpdir()
    local script = t.write(dir .. "/hold.lua", HOLDER)
    local db, ready = dir .. "/new.db", dir .. "/ready"
    local csv = t.write(dir .. "/X.csv", "Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1,10\n2024-01-03,1,2,0.5,1,10\n")
    os.execute(("%s %s %s %s 0.8 > %s 2>&1 &"):format(t.quote(t.gtengine), t.quote(script), t.quote(db),
      t.quote(ready), t.quote(dir .. "/hold.log")))
    for _ = 1, 200 do
      local f = io.open(ready, "rb")
      if f then f:close(); break end
      os.execute("sleep 0.02")
    end
    assert.is_truthy(io.open(ready, "rb"), "the helper holds the lock")
    local out, err, code = t.run(("data import %s --db %s"):format(t.quote(csv), t.quote(db)))
    assert.equal(0, code, err)
    assert.matches("X 1d, 2 bars", out, 1, true)
    os.execute("sleep 0.3; rm -rf " .. t.quote(dir))
  end)
end)
