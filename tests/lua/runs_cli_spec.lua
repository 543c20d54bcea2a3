-- `gtengine runs`: what `gtengine backtest` saved, listed and shown in full.
local t = require "tests.lua.support"
local json = require "gt.json"

describe("gtengine runs", function()
  it("lists saved runs newest first and shows one in full", function()
    local dir = t.tmpdir()
    local db = dir .. "/r.db"
    local csv = t.write(dir .. "/SYN.csv", (function()
      local gt = require "gt"
      local s = gt.data.synthetic { n = 300, seed = 5 }
      local lines = { "Date,Open,High,Low,Close,Volume" }
      for i = 0, s.n - 1 do
        lines[#lines + 1] = ("%s,%.17g,%.17g,%.17g,%.17g,%d"):format(gt.time.format(s:time(i)),
          s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i])
      end
      return table.concat(lines, "\n") .. "\n"
    end)())
    local out, err, code = t.run(("runs --db %s"):format(db))
    assert.equal(0, code, err)
    assert.matches("no saved runs yet", out, 1, true)
    for _, strat in ipairs({ "sma_cross", "momentum" }) do
      out, err, code = t.run(("backtest --strategy %s --data %s --db %s"):format(strat, csv, db))
      assert.equal(0, code, err)
      assert.matches("saved as run", out, 1, true)
    end
    out = t.run(("runs --db %s --json"):format(db))
    local rows = assert(json.decode(out))
    assert.equal(2, #rows)
    assert.equal("momentum", rows[1].strategy, "newest first")
    assert.equal(2, rows[1].id)
    assert.equal(300, rows[2].bars)
    out = t.run(("runs --db %s --id 1 --json"):format(db))
    local one = assert(json.decode(out))
    assert.equal("sma_cross", one.strategy)
    assert.equal(10, one.params.fast)
    assert.is_number(one.stats.final_equity)
    local _, e2, c2 = t.run(("runs --db %s --id 99"):format(db))
    assert.equal(1, c2)
    assert.matches("no run 99", e2, 1, true)
    os.execute("rm -rf " .. t.quote(dir))
  end)
end)
