-- Sessions end to end through the orchestrator, in every mode but live, audited from the
-- journal alone: every order passed the risk gate (or is a leg of one that did), every fill
-- belongs to an order and adds up to what the order says it filled, the positions are the sum
-- of the fills, and the final equity is the cash plus the positions at the last price.
local gt = require "gt"
local t = require "tests.lua.support"

local function audit(db, sid)
  local J = assert(gt.journal.open(db, { readonly = true }))
  local rows = assert(J:query { session = sid })
  local state = assert(J:state(sid))
  J:close()
  local passed, refused, orders, filled, pos, last_close = {}, {}, {}, {}, {}, {}
  local n = { orders = 0, fills = 0, passed = 0, refused = 0 }
  for _, r in ipairs(rows) do
    if r.type == "risk_decision" then
      if r.status == "passed" then passed[r.order_id] = true; n.passed = n.passed + 1
      else refused[r.order_id] = true; n.refused = n.refused + 1 end
    elseif r.type == "order" then
      if not orders[r.order_id] then n.orders = n.orders + 1 end
      orders[r.order_id] = r -- the last word on each order
    elseif r.type == "fill" then
      n.fills = n.fills + 1
      assert(orders[r.order_id], ("fill of order %s, which the journal never showed"):format(tostring(r.order_id)))
      filled[r.order_id] = (filled[r.order_id] or 0) + r.qty
      pos[r.symbol] = (pos[r.symbol] or 0) + r.side * r.qty
    elseif r.type == "bar" then
      last_close[r.symbol] = r.price
    end
  end
  for id, o in pairs(orders) do
    if refused[id] then
      assert.equal("rejected", o.status, "order " .. id)
      assert.is_nil(filled[id], "a refused order filled: " .. id)
    else
      assert(passed[id] or (o.parent and passed[o.parent]),
        ("order %d (%s) has no passed risk decision"):format(id, tostring(o.status)))
    end
    assert.near(o.filled or 0, filled[id] or 0, 1e-9, "order " .. id)
  end
  local mark = state.cash
  for sym, q in pairs(pos) do
    local held = state.positions[sym] and state.positions[sym].qty or 0
    assert.near(q, held, 1e-9, sym)
    mark = mark + q * last_close[sym]
  end
  assert.near(state.equity, mark, 1e-6 * math.max(1, math.abs(mark)))
  return n, state
end

describe("sessions audited from the journal", function()
  local dir = t.tmpdir()

  it("paper mode (workflows/paper.lua on its sample data)", function()
    local db = dir .. "/paper.db"
    local wf = assert(gt.workflow.load("paper", { db = db }))
    local sm = assert(gt.orchestrator.run(wf, { quiet = true }))
    local n = audit(db, sm.session)
    assert.is_true(n.orders > 10, "orders " .. n.orders)
    assert.equal(sm.orders, n.orders); assert.equal(sm.fills, n.fills)
  end)

  it("paper mode with refusals: a tight gate refuses, and nothing refused ever fills", function()
    local db = dir .. "/tight.db"
    local wf = assert(gt.workflow.load("paper", { db = db, risk = { preset = "paper", max_positions = 1 } }))
    local sm = assert(gt.orchestrator.run(wf, { quiet = true }))
    local n = audit(db, sm.session)
    assert.is_true(n.refused > 0, "refusals " .. n.refused)
    assert.equal(sm.refused, n.refused)
  end)

  it("the kill switch: a halted database trades nothing; a halt mid-session stops new orders", function()
    local db = dir .. "/halt.db"
    local st = assert(gt.store.open(db))
    assert(st:set_control("halt", "spec halt"))
    st:close()
    local sm = assert(gt.orchestrator.run(assert(gt.workflow.load("paper", { db = db })), { quiet = true }))
    assert.equal("HALTED", sm.breaker)
    assert.equal(0, sm.fills); assert.is_true(sm.refused > 0); assert.equal(sm.orders, sm.refused)
    -- halted at cycle 250 of a fresh session: orders before, none after
    local db2 = dir .. "/halt2.db"
    local fills_after, halted_at = 0, nil
    local sess = assert(gt.orchestrator.new(assert(gt.workflow.load("paper", { db = db2 })), {
      quiet = true, after_cycle = function(s)
        if s.state.bar == 250 then
          local h = assert(gt.store.open(db2)); assert(h:set_control("halt", "mid-session")); h:close()
          halted_at = s.state.ts
        end
      end }))
    sess.bus:subscribe("fill", function(ev) if halted_at and ev.ts > halted_at then fills_after = fills_after + 1 end end)
    local sm2 = assert(sess:run())
    assert.equal("HALTED", sm2.breaker)
    assert.is_true(sm2.fills > 0)
    assert.equal(0, fills_after)
    audit(db2, sm2.session)
  end)

  it("backtest mode with the journal on (batched)", function()
    local db = dir .. "/bt.db"
    local wf = assert(gt.workflow.load("backtest", { db = db, journal = { enabled = true } }))
    local sm = assert(gt.orchestrator.run(wf, { quiet = true, save = false }))
    local n = audit(db, sm.session)
    assert.is_true(n.orders > 10)
  end)

  it("an ensemble with the tier rules (workflows/multi_strategy.lua)", function()
    local db = dir .. "/multi.db"
    local wf = assert(gt.workflow.load("multi_strategy", { db = db }))
    local sm = assert(gt.orchestrator.run(wf, { quiet = true }))
    local n, state = audit(db, sm.session)
    assert.is_true(n.orders > 0)
    assert.equal("medium", state.tier) -- 20,000 of capital: the medium tier (10,000 to 25,000)
  end)

  it("ML selection with a model trained on other data", function()
    local db = dir .. "/ml.db"
    local train = { (gt.data.synthetic { n = 1500, seed = 31, symbol = "T1" }),
      (gt.data.synthetic { n = 1500, seed = 32, symbol = "T2" }) }
    assert(gt.ml.save(assert(gt.ml.train { series = train }), db))
    local wf = assert(gt.workflow.load("paper", { db = db, strategy = "ml" }))
    local sess = assert(gt.orchestrator.new(wf, { quiet = true }))
    local picks = {}
    sess.bus:subscribe("selection", function(ev) picks[ev.strategy] = true end)
    local sm = assert(sess:run())
    audit(db, sm.session)
    local m = 0
    for _ in pairs(picks) do m = m + 1 end
    assert.is_true(m >= 2, "the selector picked one strategy only")
  end)

  it("optimize mode runs gt.optimize over the workflow's data", function()
    local sm = assert(gt.orchestrator.run(assert(gt.workflow.load("optimize", { db = dir .. "/o.db" })), { quiet = true }))
    assert.equal(1, #sm.results)
    local r = sm.results[1].result
    assert.equal(15, r.evaluated) -- the seed's 4 x 4 grid less fast 20 / slow 20
    assert.is_true(r.dsr >= 0 and r.dsr <= 1)
  end)
end)
