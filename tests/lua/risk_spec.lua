-- gt.risk: the Lua face of engine/risk.c. Presets carry the seed's numbers; a check passes
-- or names its rule and reason; breakers trip from on_bar at their exact threshold; the kill
-- switch and the state survive a snapshot round trip into a new gate. The rule-by-rule walks
-- and the 10^6-order property test are in tests/c/test_risk.c.
local risk = require "gt.risk"

local T0 = 1700000000 * 1e6
local DAY = 86400 * 1e6

local function buy(qty, extra)
  local o = { symbol = "AAA", side = "buy", qty = qty, ref_price = 100, ref_ts = T0, now = T0 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end
local ACCOUNT = { equity = 100000, cash = 100000 }

describe("gt.risk presets", function()
  it("carry the seed's defaults", function()
    local d = risk.limits("default")
    assert.same({ max_position = 0.2, max_daily_loss = 0.02, max_drawdown = 0.1 }, d)
    local p = risk.limits("paper")
    assert.same({ max_position = 0.2, max_daily_loss = 0.05, max_drawdown = 0.15,
      min_cash_reserve = 0.1 }, p)
    assert.same({}, risk.limits("off"))
    local o = risk.limits{ preset = "paper", max_drawdown = 0.2, max_qty = 500 }
    assert.equal(0.2, o.max_drawdown); assert.equal(500, o.max_qty)
    assert.equal(0.05, o.max_daily_loss)
  end)
  it("raise on an unknown preset or limit", function()
    assert.has_error(function() risk.new("yolo") end,
      'gt.risk: unknown preset "yolo" (off, default, paper, live)')
    assert.has_error(function() risk.new{ max_positon = 3 } end,
      'gt.risk: unknown limit "max_positon"')
    local ok, err = pcall(risk.new, { max_daily_loss = 2 })
    assert.is_false(ok)
    assert.truthy(err:find("max_daily_loss = 2 must be in [0, 1]", 1, true), err)
  end)
end)

describe("gt.risk gate", function()
  it("passes a sane order and refuses with rule and reason", function()
    local g = risk.new("default")
    assert.is_true(g:check(buy(10), ACCOUNT))
    -- max_position 0.2 of 100000 at $100 = 200 shares: 200 passes, 201 does not
    assert.is_true(g:check(buy(200), ACCOUNT))
    local ok, rule, reason = g:check(buy(201), ACCOUNT)
    assert.is_false(ok)
    assert.equal("max_position", rule)
    assert.equal("max_position: AAA: position after this order 201 x 100 = 20.1 % of equity "
      .. "100000, over max_position 20 %", reason)
    ok, rule = g:check(buy(0 / 0), ACCOUNT)
    assert.is_false(ok); assert.equal("bad_qty", rule)
    ok, rule = g:check(buy(10, { ref_price = 0 }), ACCOUNT)
    assert.is_false(ok); assert.equal("no_reference", rule)
    ok, rule = g:check(buy(10), { equity = 0 / 0, cash = 1 })
    assert.is_false(ok); assert.equal("bad_account", rule)
    local st = g:state()
    assert.equal(6, st.checks); assert.equal(2, st.accepted)
    assert.same({ max_position = 1, bad_qty = 1, no_reference = 1, bad_account = 1 },
      st.refused)
  end)

  it("raises on misuse", function()
    local g = risk.new("off")
    assert.has_error(function() g:check(buy(1, { side = "long" }), ACCOUNT) end,
      'gt.risk: order.side "long" is not buy or sell')
    assert.has_error(function() g:check(buy(1, { type = "iceberg" }), ACCOUNT) end)
    assert.has_error(function() g:check(buy(1, { now = "now" }), ACCOUNT) end,
      "gt.risk: order.now and order.ref_ts must be epoch microseconds")
    assert.has_error(function() g:check(buy(1)) end, "gt.risk: check expects an account table")
    local ok, err = pcall(g.check, g, buy("10"), ACCOUNT)
    assert.is_false(ok)
    assert.truthy(err:find("gt.risk: order.qty must be a number, got string", 1, true), err)
  end)

  it("trips the daily loss limit at exactly 2 % and lets only reducing orders through", function()
    local g = risk.new("default")
    g:on_bar(T0, 100000, 100)
    g:on_bar(T0 + 60e6, 98000.01, 100)   -- 1999.99 / 100000 < 0.02
    assert.equal("ACTIVE", g:state().state)
    g:on_bar(T0 + 120e6, 98000, 100)     -- 2000 / 100000 = 0.02
    local st = g:state()
    assert.equal("REDUCING", st.state)
    assert.same({ "daily_loss" }, st.causes)
    assert.equal(0.02, st.daily_loss)
    local acct = { equity = 98000, cash = 50000, position_qty = 10 }
    local ok, rule = g:check(buy(1), acct)
    assert.is_false(ok); assert.equal("reducing", rule)
    assert.is_true(g:check(buy(10, { side = "sell", reduces = true }), acct))
    g:on_bar(T0 + DAY, 98000, 100)
    assert.equal("ACTIVE", g:state().state)
  end)

  it("halts at the 10 % drawdown and stays halted until resume", function()
    local g = risk.new{ max_drawdown = 0.1 } -- no preset: only this limit is on
    g:on_bar(T0, 100000); g:on_bar(T0 + DAY, 120000)
    g:on_bar(T0 + 2 * DAY, 108000.5)      -- 11999.5 / 120000 < 0.1
    assert.equal("ACTIVE", g:state().state)
    g:on_bar(T0 + 3 * DAY, 108000)        -- 12000 / 120000 = 0.1
    assert.equal("HALTED", g:state().state)
    local ok, rule, reason = g:check(buy(1, { now = T0 + 3 * DAY, ref_ts = T0 + 3 * DAY }),
      ACCOUNT)
    assert.is_false(ok); assert.equal("halted", rule)
    assert.truthy(reason:find("max drawdown", 1, true), reason)
    g:resume()
    assert.equal("ACTIVE", g:state().state)
  end)

  it("kill switch: halt survives a snapshot into a new gate; only resume clears it", function()
    local g = risk.new("paper")
    assert.is_true(g:check(buy(5), ACCOUNT))
    g:on_bar(T0, 100000, 100)
    g:halt("operator")
    local bytes = g:snapshot()
    assert.is_string(bytes)
    g:close(); g:close() -- twice is safe
    local g2 = risk.new("paper")
    assert.is_true(g2:restore(bytes))
    local st = g2:state()
    assert.equal("HALTED", st.state)
    assert.equal("operator", st.halt_reason)
    assert.same({ "kill_switch" }, st.causes)
    assert.equal(1, st.accepted)
    local ok, rule = g2:check(buy(1), ACCOUNT)
    assert.is_false(ok); assert.equal("halted", rule)
    assert.equal(bytes:sub(1, 12), g2:snapshot():sub(1, 12))
    g2:resume()
    assert.is_true(g2:check(buy(1), ACCOUNT))
    local ok2, err = g2:restore("garbage")
    assert.is_nil(ok2)
    assert.truthy(err:find("snapshot is 7 bytes", 1, true), err)
    assert.has_error(function() g:check(buy(1), ACCOUNT) end, "gt.risk: gate is closed")
  end)

  it("the live preset collars limit prices and throttles", function()
    local g = risk.new("live")
    local acct = { equity = 1e6, cash = 1e6 }
    -- $100 is above $50: 2 % band -> 102 passes, 102.01 is refused
    assert.is_true(g:check(buy(1, { type = "limit", price = 102 }), acct))
    local ok, rule = g:check(buy(2, { type = "limit", price = 102.01 }), acct)
    assert.is_false(ok); assert.equal("collar", rule)
    -- the same order again within 1 s is a duplicate
    ok, rule = g:check(buy(1, { type = "limit", price = 102 }), acct)
    assert.is_false(ok); assert.equal("duplicate", rule)
  end)
end)
