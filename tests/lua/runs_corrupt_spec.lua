-- `gtengine runs` on a run whose stored JSON was damaged: a message naming the run and the
-- field, never "attempt to index field 'stats' (a nil value)".
local t = require "tests.lua.support"

describe("gtengine runs with corrupt run JSON", function()
  it("names the run and the field and still shows the rest", function()
    local dir = t.tmpdir()
    local db = dir .. "/r.db"
    local rows = { "Date,Open,High,Low,Close,Volume" }
    for d = 1, 60 do
      local c = 100 + 10 * math.sin(d / 5)
      rows[#rows + 1] = ("%s,%.2f,%.2f,%.2f,%.2f,1000"):format(os.date("!%Y-%m-%d", 1704153600 + d * 86400), c, c + 1, c - 1, c)
    end
    local csv = t.write(dir .. "/S.csv", table.concat(rows, "\n") .. "\n")
    local _, err, code = t.run(("backtest --strategy sma_cross --data %s --db %s"):format(csv, db))
    assert.equal(0, code, err)
    -- damage the stored JSON through SQLite's C API (the engine links it)
    local script = t.write(dir .. "/damage.lua", ([[
local ffi = require "ffi"
ffi.cdef("typedef struct sqlite3 sqlite3; int sqlite3_open(const char *, sqlite3 **);"
  .. "int sqlite3_exec(sqlite3 *, const char *, void *, void *, char **); int sqlite3_close(sqlite3 *);")
local pp = ffi.new("sqlite3 *[1]")
assert(ffi.C.sqlite3_open(%q, pp) == 0)
assert(ffi.C.sqlite3_exec(pp[0], "UPDATE runs SET stats = '{bad', params = '[1,'", nil, nil, nil) == 0)
ffi.C.sqlite3_close(pp[0])
]]):format(db))
    assert.equal(0, select(3, t.run(t.quote(script))))
    local out, err2, code2 = t.run("runs --id 1 --db " .. db)
    assert.equal(0, code2, err2)
    assert.matches("run 1: the stored stats are not valid JSON", err2, 1, true)
    assert.matches("run 1: the stored params are not valid JSON", err2, 1, true)
    assert.not_matches("attempt to", err2, 1, true)
    assert.matches("Sharpe ratio%s+n/a", out)
    local out3, err3, code3 = t.run("runs --db " .. db)
    assert.equal(0, code3, err3)
    assert.matches("sma_cross", out3, 1, true)
    os.execute("rm -rf " .. t.quote(dir))
  end)
end)
