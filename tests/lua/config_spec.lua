-- gt.config: the one place the database path is resolved (--db, then $GT_DB, then gt.db).
local t = require "tests.lua.support"
local ffi = require "ffi"
local config = require "gt.config"
local json = require "gt.json"

pcall(ffi.cdef, "int setenv(const char *, const char *, int); int unsetenv(const char *);")

describe("gt.config.db_path", function()
  local saved
  before_each(function() saved = os.getenv("GT_DB") end)
  after_each(function()
    if saved then ffi.C.setenv("GT_DB", saved, 1) else ffi.C.unsetenv("GT_DB") end
  end)

  it("takes --db first, then $GT_DB, then gt.db", function()
    ffi.C.unsetenv("GT_DB")
    assert.equal("gt.db", config.db_path())
    assert.equal("gt.db", config.db_path(""))
    ffi.C.setenv("GT_DB", "/tmp/from-env.db", 1)
    assert.equal("/tmp/from-env.db", config.db_path())
    assert.equal("x.db", config.db_path("x.db"))
    assert.has_error(function() config.db_path(3) end, "config.db_path: the database path must be a string, got number")
  end)

  it("is what gt.store.open uses without a path", function()
    local dir = t.tmpdir()
    ffi.C.setenv("GT_DB", dir .. "/env.db", 1)
    local db = assert(require("gt.store").open())
    assert.equal(dir .. "/env.db", db.path)
    db:close()
    os.execute("rm -rf " .. t.quote(dir))
  end)

  it("routes every command through it: backtest saves and runs lists in $GT_DB", function()
    local dir = t.tmpdir()
    local env = "GT_DB=" .. t.quote(dir .. "/e.db") .. " "
    local gt = require "gt"
    local s = gt.data.synthetic { n = 200, seed = 4 }
    local lines = { "Date,Open,High,Low,Close,Volume" }
    for i = 0, s.n - 1 do
      lines[#lines + 1] = ("%s,%.17g,%.17g,%.17g,%.17g,%d"):format(gt.time.format(s:time(i)),
        s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i])
    end
    local csv = t.write(dir .. "/ENV.csv", table.concat(lines, "\n") .. "\n")
    local _, err, code = t.sh(env .. t.quote(t.gtengine) .. " backtest --strategy sma_cross --data " .. csv)
    assert.equal(0, code, err)
    local out = t.sh(env .. t.quote(t.gtengine) .. " runs --json")
    assert.equal(1, #assert(json.decode(out)))
    _, err, code = t.sh(env .. t.quote(t.gtengine) .. " data import " .. csv)
    assert.equal(0, code, err)
    out = t.sh(env .. t.quote(t.gtengine) .. " data list --json")
    assert.equal("ENV", assert(json.decode(out))[1].symbol)
    -- --db wins over $GT_DB
    out = t.sh(env .. t.quote(t.gtengine) .. " runs --json --db " .. t.quote(dir .. "/other.db"))
    assert.equal(0, #assert(json.decode(out)))
    os.execute("rm -rf " .. t.quote(dir))
  end)
end)
