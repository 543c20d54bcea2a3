-- --check-lookahead catches every way a strategy can read the future, names the bar and what
-- was read, and says what it examined when it passes.
local gt = require "gt"
local t = require "tests.lua.support"

local s = gt.data.synthetic { n = 600, seed = 4 }

local function findings(strat)
  local r = gt.backtest.check_lookahead(strat, s)
  return r, r.findings
end

describe("look-ahead check", function()
  it("catches a vectorised rule that reads tomorrow's close, at the first bar it decides", function()
    local r, f = findings { name = "peek_rule", rule = function(d, _, i)
      if d.close[i + 1] > d.close[i] then return 1 end
      return 0
    end }
    assert.is_false(r.ok)
    assert.equal(1, f[1].bar) -- the first bar a rule decides (lookback 1)
    assert.equal("d.close[2]", f[1].what)
    assert.matches("look-ahead: d.close[2] read while deciding at bar 1", f[1].detail, 1, true)
  end)

  it("catches a rule that reads an indicator array ahead", function()
    local r, f = findings { name = "peek_ind", indicators = function(d) return { m = gt.ind.sma(d.close, 5, d.n) } end,
      rule = function(_, ind, i) if ind.m[i + 3] == ind.m[i + 3] then return 1 end end }
    assert.is_false(r.ok)
    assert.equal("ind.m[7]", f[1].what) -- the first decision is at bar 4, where SMA(5) is first defined
  end)

  it("catches an indicators function that stores tomorrow's close in an array", function()
    local r, f = findings { name = "peek_array",
      indicators = function(d)
        local a = gt.ind.sma(d.close, 1, d.n) -- a copy of close, then shifted one bar back
        for i = 0, d.n - 2 do a[i] = d.close[i + 1] end
        return { tomorrow = a }
      end,
      rule = function(d, ind, i) return ind.tomorrow[i] > d.close[i] and 1 or 0 end }
    assert.is_false(r.ok)
    assert.equal("ind.tomorrow", f[1].what)
    assert.matches("changes? with", f[1].detail .. " changes with") -- the message explains
  end)

  it("catches a strategy that keeps a Lua table of future values", function()
    local r, f = findings { name = "peek_table",
      indicators = function(d)
        local fut = {}
        for i = 0, d.n - 2 do fut[i] = d.close[i + 1] end
        return { fut = fut }
      end,
      rule = function(d, ind, i) if ind.fut[i] and ind.fut[i] > d.close[i] then return 1 end return 0 end }
    assert.is_false(r.ok)
    assert.equal("ind.fut", f[1].what)
  end)

  it("catches explicit vectorised signals that peek", function()
    local strat = gt.strategy.load("peek_ahead", { roots = { "tests/lua/fixtures" } })
    local r = gt.backtest.check_lookahead(strat, s)
    assert.is_false(r.ok)
    local whats = {}
    for _, x in ipairs(r.findings) do whats[x.what] = true end
    assert.is_true(whats.target, "the target differs on cut data")
  end)

  it("reports what an event strategy's run really checked, and catches its peek", function()
    local clean = { name = "ev", on_bar = function(ctx, i) if i > 0 and ctx.data.close[i] > ctx.data.close[i - 1] then ctx:buy() end end }
    local r = gt.backtest.check_lookahead(clean, s)
    assert.is_true(r.ok)
    assert.equal(1, #r.checks)
    assert.matches("on_bar: ran on all 600 bars", r.checks[1], 1, true)
    local bad = { name = "ev_peek", on_bar = function(ctx, i) if ctx.data.close[i + 1] > 0 then ctx:buy() end end }
    local r2 = gt.backtest.check_lookahead(bad, s)
    assert.is_false(r2.ok)
    assert.equal(0, r2.findings[1].bar)
    assert.equal("d.close[1]", r2.findings[1].what)
  end)

  it("passes every shipped strategy and says what it examined", function()
    for _, name in ipairs(gt.strategy.list()) do
      local r = gt.backtest.check_lookahead(name, s)
      assert.is_true(r.ok, name .. ": " .. tostring(r.findings[1] and r.findings[1].detail))
      assert.is_true(#r.checks >= 1, name)
    end
    local r = gt.backtest.check_lookahead("sma_cross", s)
    assert.matches("rule: all 571 bars run through windows", r.checks[1], 1, true) -- 600 - 29 warm-up
    assert.matches("indicators: 80 arrays identical up to each of 40 cuts", r.checks[2], 1, true)
  end)

  it("gates a CI job from the CLI: exit 1 naming the strategy, bar and read; exit 0 on a pass", function()
    local dir = t.tmpdir()
    t.write(dir .. "/peek.lua", [[return { name = "peek", rule = function(d, ind, i)
      if d.close[i + 1] > d.close[i] then return 1 end return 0 end }]])
    local csv = t.synthetic_csv(dir .. "/p.csv", 300, 2)
    local out, _, code = t.run("backtest --strategy " .. dir .. "/peek.lua --data " .. csv .. " --check-lookahead")
    assert.equal(1, code)
    assert.matches("look-ahead check: peek FAILED", out, 1, true)
    assert.matches("bar 1 (", out, 1, true)
    assert.matches("d.close[2]", out, 1, true)
    local out2, _, code2 = t.run("backtest --strategy sma_cross --data " .. csv .. " --check-lookahead")
    assert.equal(0, code2, out2)
    assert.matches("look-ahead check: sma_cross passed", out2, 1, true)
    assert.matches("rule: all 271 bars", out2, 1, true)
    os.execute("rm -rf " .. t.quote(dir))
  end)
end)
