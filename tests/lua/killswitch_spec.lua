-- The kill switch: `gtengine halt` sets it in the database, every gate a command opens there
-- starts HALTED (all orders refused), it survives restarts, and only `gtengine resume` clears
-- it; SIGUSR1 halts every gate of a running process and cancels working orders.
local t = require "tests.lua.support"

describe("the kill switch", function()
  it("survives restarts until gtengine resume, refusing every order meanwhile", function()
    local dir = t.tmpdir()
    local db = dir .. "/k.db"
    local csv = t.synthetic_csv(dir .. "/s.csv", 600, 3)
    local bt = ("backtest --strategy sma_cross --data %s --risk default --size 0.15 --db %s --no-save --json")
      :format(csv, db)
    local json = require "gt.json"
    local out, err, code = t.run(bt)
    assert.equal(0, code, err)
    local free = json.decode(out)
    assert.is_true(free.stats.num_trades > 0)
    out, err, code = t.run(("halt --reason 'desk says stop' --db %s"):format(db))
    assert.equal(0, code, err)
    assert.matches("HALTED: desk says stop", out, 1, true)
    for _ = 1, 2 do -- two separate processes: the halt outlives each
      out, err, code = t.run(bt)
      assert.equal(0, code, err)
      local d = json.decode(out)
      assert.equal("HALTED", d.risk.state)
      assert.equal(0, d.stats.num_trades)
      assert.is_true(d.risk.refused.halted > 0)
    end
    out = t.run(("resume --db %s"):format(db))
    assert.matches("resumed: the kill switch (desk says stop) is cleared", out, 1, true)
    out = t.run(bt)
    assert.equal(free.stats.num_trades, json.decode(out).stats.num_trades)
    os.execute("rm -rf " .. t.quote(dir))
  end)

  it("takes SIGUSR1: every gate in the process halts and working orders are cancelled", function()
    local script = [[
      local gt = require "gt"
      local gate = gt.risk.new("default")
      local order = { symbol = "X", side = "buy", qty = 1, ref_price = 10, ref_ts = 0, now = 0 }
      local acct = { equity = 1e5, cash = 1e5 }
      assert(gate:check(order, acct))
      local pid = io.open("/proc/self/stat"):read("*n")
      os.execute("kill -USR1 " .. pid)
      local ok, rule = gate:check(order, acct)
      print(ok, rule, gate:state().halt_reason)
    ]]
    local out, err, code = t.run("-e " .. t.quote(script))
    assert.equal(0, code, err)
    assert.matches("false\thalted\tkill switch (SIGUSR1)", out, 1, true)
    -- in a backtest: a limit order working since bar 1 is cancelled when the signal comes at
    -- bar 5, and the entry the strategy tries at bar 8 is refused
    local bt = [[
      local gt = require "gt"
      local s = gt.data.synthetic { n = 60, seed = 1 }
      local pid = io.open("/proc/self/stat"):read("*n")
      local r = gt.backtest.run({ name = "lim", on_bar = function(ctx, i)
        if i == 1 then ctx:order { side = "buy", type = "limit", qty = 1, limit = 1 } end
        if i == 5 then os.execute("kill -USR1 " .. pid) end
        if i == 8 then ctx:buy { qty = 1 } end
      end }, s, { mode = "event", risk = "default" })
      print(r.risk.state, r.orders[1].status, r.orders[2].status, r.orders[2].risk_rule, #r.trades)
    ]]
    out, err, code = t.run("-e " .. t.quote(bt))
    assert.equal(0, code, err)
    assert.matches("HALTED\tcanceled\trejected\thalted\t0", out, 1, true)
  end)
end)
