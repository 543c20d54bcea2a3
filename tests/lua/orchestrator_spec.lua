-- gt.orchestrator: the trading cycle bar by bar. What it trades must be what the backtester
-- trades for the same strategy, data and costs; the risk gate trips at the same bars with
-- the same reasons; custom steps see only what they declare; a broken subscriber does not
-- stop a session.
local gt = require "gt"
local t = require "tests.lua.support"

local function wf_of(def) return gt.workflow.from_table(def, "spec/wf.lua") end

local function run(def, series, opts)
  local o = { series = series, quiet = true }
  for k, v in pairs(opts or {}) do o[k] = v end
  local sess = assert(gt.orchestrator.new(wf_of(def), o))
  return assert(sess:run()), sess
end

describe("gt.orchestrator", function()
  it("trades exactly what gt.backtest trades for the same strategy, data and costs", function()
    local s = gt.data.synthetic { n = 1500, seed = 5, symbol = "SYN" }
    local sizing = { method = "fixed", fixed_fraction = 0.95, max_position = 0.95 }
    local sm, sess = run({ mode = "backtest", strategy = "sma_cross", capital = 10000, regime = false,
      broker = { commission = 0.001, slippage = 0.0005, fill = "next_open", short = false }, sizing = sizing }, { s })
    local r = assert(gt.backtest.run("sma_cross", s, { capital = 10000, commission = 0.001, slippage_bps = 5,
      fill = "next_open", short = false, sizing = sizing, close_at_end = "none", mode = "event" }))
    assert.is_true(#r.trades > 20)
    assert.equal(#r.trades, sm.trades)
    local tp = require("ffi").new("const gt_trade *[1]")
    require("gt.ffi").C.gt_bt_trades(sess.bt, tp)
    for k, tr in ipairs(r.trades) do
      local o = tp[0][k - 1]
      assert.equal(tr.size, o.size, "trade " .. k)
      assert.equal(tr.entry_price, o.entry_price, "trade " .. k)
      assert.equal(tr.exit_price == tr.exit_price and tr.exit_price or nil,
        o.exit_price == o.exit_price and o.exit_price or nil, "trade " .. k)
    end
    assert.near(r.equity[s.n - 1], sm.equity, 1e-6)
  end)

  -- The walk of the risk spec: all in at 100 from bar 1; the drawdown passes 10% at bar 5;
  -- the entry decided at bar 6 is refused because the gate HALTED.
  local path = t.bars({ 100, 100, 100, 95, 90.5, 89, 89, 89, 89 }, { volume = 1e6, symbol = "PATH" })
  local flip = { name = "flip", rule = function(_, _, i)
    if i == 0 then return 1 end
    if i == 5 then return 0 end
    if i == 6 then return 1 end
  end, lookback = 0 }
  it("trips the breaker at the same bar with the same reason as the backtest", function()
    local events = {}
    local sess = assert(gt.orchestrator.new(wf_of { mode = "paper", strategy = flip, capital = 10000,
      regime = false, risk = { max_drawdown = 0.1 }, feed = { warmup = 0 }, journal = { enabled = false },
      sizing = { method = "fixed", fixed_fraction = 1, max_position = 1 },
      broker = { commission = 0, slippage = 0, fill = "next_open" } }, { series = { path }, quiet = true }))
    sess.bus:subscribe("breaker", function(ev) events[#events + 1] = ev end)
    local refusals = {}
    sess.bus:subscribe("risk_decision", function(ev)
      if ev.status == "refused" then refusals[#refusals + 1] = ev end
    end)
    local sm = assert(sess:run())
    local r = assert(gt.backtest.run(flip, path, { commission = 0, slippage_bps = 0, capital = 10000, size = 1,
      mode = "event", risk = { max_drawdown = 0.1 }, close_at_end = "none" }))
    assert.equal("HALTED", sm.breaker)
    assert.equal(1, #events)
    assert.equal("HALTED", events[1].status); assert.equal("drawdown", events[1].reason)
    -- the same bar as the backtest's record of the change
    local change
    for _, c in ipairs(r.risk.changes) do if c.state == "HALTED" then change = c end end
    assert.equal(change.ts, events[1].ts)
    assert.equal(1, #refusals)
    assert.equal(tonumber(path.ts[6]), refusals[1].ts)
    local o = r.orders[#r.orders]
    assert.equal(o.risk_reason, refusals[1].reason)
    assert.equal(1, sm.refused); assert.equal(1, sm.trades)
  end)

  it("runs a custom step that sees only the state it declares", function()
    local s = gt.data.synthetic { n = 400, seed = 9, symbol = "SYN" }
    local seen = 0
    local veto = { name = "no_shorts_in_crisis", reads = { "intent", "regime" }, writes = { "intent" },
      run = function(state)
        for j in ipairs(state.symbols) do
          if state.intent[j] then seen = seen + 1; state.intent[j] = nil end -- veto every entry
        end
      end }
    local steps = { "data", "analyze", "regime", "select", "signal", veto, "size", "risk", "execute", "monitor" }
    local sm = run({ mode = "backtest", strategy = "sma_cross", steps = steps }, { s })
    assert.is_true(seen > 0)
    assert.equal(0, sm.orders)
    local sneaky = { name = "sneaky", reads = { "intent" }, writes = {}, run = function(state) return state.equity end }
    local ok, err = pcall(run, { mode = "backtest", strategy = "sma_cross",
      steps = { "data", sneaky, "execute" } }, { s })
    assert.is_false(ok)
    assert.matches("step 'sneaky' read state.equity, which it does not declare in reads", err)
  end)

  it("keeps trading when a subscriber fails, and counts the failures", function()
    local s = gt.data.synthetic { n = 300, seed = 2, symbol = "SYN" }
    local sess = assert(gt.orchestrator.new(wf_of { mode = "backtest", strategy = "sma_cross" }, { series = { s }, quiet = true }))
    local calls = 0
    sess.bus:subscribe("equity", function() calls = calls + 1; error("listener bug") end, "broken")
    local sm = assert(sess:run())
    assert.equal(300, sm.cycles)
    assert.equal(300, calls)
    assert.equal(300, sm.bus_errors)
  end)

  it("publishes the cycle's events in order, and nothing trades during the warm-up", function()
    local s = gt.data.synthetic { n = 300, seed = 4, symbol = "SYN" }
    local sess = assert(gt.orchestrator.new(wf_of { mode = "paper", strategy = "sma_cross", feed = { warmup = 100 },
      journal = { enabled = false } }, { series = { s }, quiet = true }))
    local seq, first_order = {}, nil
    sess.bus:subscribe("*", function(ev)
      if #seq < 12 then seq[#seq + 1] = ev.type end
      if ev.type == "order" and not first_order then first_order = ev end
    end)
    local sm = assert(sess:run())
    -- bar 0: the regime detector is still warming up, so no regime event yet
    assert.same({ "session", "bar", "analysis", "equity", "bar" }, { seq[1], seq[2], seq[3], seq[4], seq[5] })
    assert.is_true(sm.orders > 0)
    assert.is_true(first_order.ts >= tonumber(s.ts[100]))
    -- every order passed the gate (no risk refusals here) and every fill matched an order
    assert.equal(sm.orders, sm.fills)
  end)

  it("stops a bounded run (--cycles, --until) where asked, and the same command goes on from there", function()
    local db = t.tmpdir() .. "/bound.db"
    local def = { mode = "paper", symbols = { "AAA" }, db = db, data = { source = "synthetic", bars = 120, seed = 2 },
      strategy = "sma_cross", regime = false, monitor = { progress = false } }
    local sm1 = assert(gt.orchestrator.new(wf_of(def), { quiet = true, max_cycles = 30 })):run()
    assert.is_true(sm1.bounded); assert.is_false(sm1.complete)
    assert.equal(30, sm1.cycles)
    local s = gt.data.synthetic { n = 120, seed = 2, symbol = "AAA", start = "2023-01-03" }
    local until_ts = tonumber(s.ts[49]) -- the 50th bar's time: the run stops after it
    local sm2 = assert(gt.orchestrator.new(wf_of(def), { quiet = true, until_ts = until_ts })):run()
    assert.equal(sm1.session, sm2.session)
    assert.equal(29, sm2.resumed_at)
    assert.equal(50, sm2.cycles); assert.equal(until_ts, sm2.last); assert.is_true(sm2.bounded)
    local sm3 = assert(gt.orchestrator.new(wf_of(def), { quiet = true })):run()
    assert.equal(120, sm3.cycles); assert.is_true(sm3.complete); assert.is_nil(sm3.bounded)
    -- the same books as one run from start to end
    local ref = assert(gt.orchestrator.new(wf_of(def), { quiet = true, journal = false })):run()
    assert.equal(ref.equity, sm3.equity); assert.equal(ref.orders, sm3.orders)
  end)

  it("refuses a rule that reads a later bar, naming the read", function()
    local s = gt.data.synthetic { n = 100, seed = 1, symbol = "SYN" }
    local peek = { name = "peek", rule = function(d, _, i) return d.close[i + 1] > d.close[i] and 1 or 0 end }
    local ok, err = pcall(run, { mode = "backtest", strategy = peek }, { s })
    assert.is_false(ok)
    assert.matches("look%-ahead: d.close%[2%] read while deciding at bar 1", err)
  end)
end)
