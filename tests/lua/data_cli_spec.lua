-- `gtengine data import | list | export` end to end, on a temporary database.
local t = require "tests.lua.support"
local json = require "gt.json"

describe("gtengine data", function()
  local dir, db
  before_each(function() dir = t.tmpdir(); db = dir .. "/t.db" end)
  after_each(function() os.execute("rm -rf " .. t.quote(dir)) end)

  it("imports a file, lists it and exports it back bit for bit", function()
    local path, why = t.shared_file("data/backtrader/orcl-1995-2014.txt")
    if not path then return pending(why) end
    local out, err, code = t.run("data import " .. path .. " --db " .. db)
    assert.equal(0, code, err)
    assert.matches("ORCL 1d, 5,036 bars 1995%-01%-03 %.%. 2014%-12%-31", out)
    out, err, code = t.run("data list --db " .. db .. " --json")
    assert.equal(0, code, err)
    local rows = assert(json.decode(out))
    assert.equal(1, #rows)
    assert.equal("ORCL", rows[1].symbol)
    assert.equal(5036, rows[1].count)
    -- export and read back: the same bars as the original file
    out, err, code = t.run("data export --symbol ORCL --db " .. db .. " --out " .. dir .. "/x.csv")
    assert.equal(0, code, err)
    local gt = require "gt"
    local a = assert(gt.data.load(path))
    local b = assert(gt.data.load(dir .. "/x.csv", { symbol = "ORCL" }))
    assert.equal(a.n, b.n)
    for i = 0, a.n - 1, 7 do
      assert.equal(a.ts[i], b.ts[i]); assert.equal(a.close[i], b.close[i]); assert.equal(a.volume[i], b.volume[i])
    end
    -- JSON export parses
    out = t.run("data export --symbol ORCL --db " .. db .. " --format json --start 2014-12-01")
    local doc = assert(json.decode(out))
    assert.equal(22, #doc.bars)
    assert.equal("2014-12-31", doc.bars[22].t)
  end)

  it("stores nothing from a file with a bad row, and says where", function()
    local bad = t.write(dir .. "/BAD.csv",
      "Date,Open,High,Low,Close,Volume\n2020-01-01,1,2,0.5,1.5,10\n2020-01-02,1,2,0.5,abc,10\n2020-01-03,1,2,0.5,1.5,10\n")
    local _, err, code = t.run("data import " .. bad .. " --db " .. db)
    assert.equal(1, code)
    assert.matches(bad .. ":3: field 'close': not a number: 'abc'", err, 1, true)
    local out = t.run("data list --db " .. db .. " --json")
    assert.same({}, json.decode(out))
    -- with --on-error skip the good rows load and the bad one is reported
    out, err, code = t.run("data import " .. bad .. " --db " .. db .. " --on-error skip --timeframe 1d")
    assert.equal(0, code, err)
    assert.matches("BAD 1d, 2 bars 2020%-01%-01 %.%. 2020%-01%-03, 1 row skipped", out)
    assert.matches("skipped line 3: field 'close': not a number: 'abc'", out, 1, true)
  end)

  it("asks for a timeframe it cannot infer, and refuses unknown subcommands", function()
    local two = t.write(dir .. "/TWO.csv", "Date,Open,High,Low,Close,Volume\n2020-01-01,1,2,0.5,1.5,10\n2020-01-03,1,2,0.5,1.5,10\n")
    local _, err, code = t.run("data import " .. two .. " --db " .. db)
    assert.equal(1, code)
    assert.matches("cannot tell the timeframe from 2 bars", err, 1, true)
    _, err, code = t.run("data frob")
    assert.equal(2, code)
    assert.matches("unknown data subcommand 'frob'", err, 1, true)
    _, err, code = t.run("data export --db " .. db)
    assert.equal(2, code)
    assert.matches("data export needs --symbol", err, 1, true)
  end)

  it("backtests stored bars by symbol", function()
    local path, why = t.shared_file("data/backtesting.py/GOOG.csv")
    if not path then return pending(why) end
    assert.equal(0, select(3, t.run("data import " .. path .. " --db " .. db)))
    local out, err, code = t.run("backtest --strategy sma_cross --symbol GOOG --db " .. db .. " --json")
    assert.equal(0, code, err)
    local a = assert(json.decode(out))
    local b = assert(json.decode((t.run("backtest --strategy sma_cross --data " .. path .. " --json --no-save"))))
    assert.equal(b.stats.final_equity, a.stats.final_equity)
    assert.equal(2148, a.bars)
  end)
end)
