-- gt.steps: the trading cycle's built-in steps, in order, with the shared state fields each
-- reads and writes, the check of a workflow's steps list, and the guarded view a custom step
-- gets. gt.orchestrator runs them once per bar; each publishes its results on the session's
-- bus (gt.bus). A step is function(state, session).
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C

local M = {}

local NAN = 0 / 0

-- The built-in steps, in the default order, with the state fields they read and write.
M.STEPS = {
  { name = "data", reads = {}, writes = { "bar", "ts", "close" },
    doc = "the next bar of every symbol; the broker fills working orders against it "
      .. "(live: the broker's fills since the last cycle)" },
  { name = "analyze", reads = { "close" }, writes = { "analysis" },
    doc = "trend (close vs SMA 50), RSI 14 and ATR 14 as a fraction of the close, per symbol" },
  { name = "regime", reads = { "close" }, writes = { "regime" },
    doc = "the market regime per symbol from gt.regime's streaming detector" },
  { name = "select", reads = { "regime", "analysis" }, writes = { "selected", "confidence" },
    doc = "the strategy per symbol: fixed, an ensemble, or the ML selector with its confidence" },
  { name = "signal", reads = { "selected" }, writes = { "intent" },
    doc = "the selected strategy's target at this bar (+1 long, -1 short, 0 flat, nil hold)" },
  { name = "size", reads = { "intent", "confidence", "regime", "analysis" }, writes = { "orders" },
    doc = "the target's fraction of equity from gt.sizing (and the tier's cap)" },
  { name = "risk", reads = { "orders" }, writes = { "decisions" },
    doc = "each order through the pre-trade gate in C on its way to the broker" },
  { name = "execute", reads = { "decisions" }, writes = { "fills", "equity", "cash", "positions" },
    doc = "the broker's fills and the books marked at the close" },
  { name = "monitor", reads = { "equity", "positions" }, writes = { "breaker", "tier" },
    doc = "equity, breaker and tier events (the view, log and alerts: gt.monitor)" },
}
local BUILTIN = {}
for _, s in ipairs(M.STEPS) do BUILTIN[s.name] = s end
local FIXED = { data = true, execute = true }
local STATE_FIELDS = {}
for _, s in ipairs(M.STEPS) do
  for _, f in ipairs(s.writes) do STATE_FIELDS[f] = true end
end
STATE_FIELDS.symbols = true

-- Validates a steps list (raises with `where`); returns it.
function M.check_steps(steps, where)
  where = where or "workflow"
  if type(steps) ~= "table" or #steps == 0 then
    error(("%s: key 'steps': expected a list of step names or tables"):format(where), 0)
  end
  local seen = {}
  for i, st in ipairs(steps) do
    local key = ("steps[%d]"):format(i)
    local name
    if type(st) == "string" then
      if not BUILTIN[st] then
        local names = {}
        for _, s in ipairs(M.STEPS) do names[#names + 1] = s.name end
        error(("%s: key '%s': no built-in step '%s' (built-in: %s)"):format(where, key, st, table.concat(names, ", ")), 0)
      end
      name = st
    elseif type(st) == "table" then
      for k in pairs(st) do
        if k ~= "name" and k ~= "reads" and k ~= "writes" and k ~= "run" then
          error(("%s: key '%s.%s': unknown (a step has name, reads, writes, run)"):format(where, key, tostring(k)), 0)
        end
      end
      if type(st.name) ~= "string" or not st.name:match("^[%a_][%w_]*$") then
        error(("%s: key '%s.name': expected a name like my_filter"):format(where, key), 0)
      end
      name = st.name
      if FIXED[name] then
        error(("%s: key '%s': step '%s' moves the broker through the bars and cannot be replaced"):format(where, key, name), 0)
      end
      if type(st.run) ~= "function" then
        error(("%s: key '%s.run': expected function(state, session)"):format(where, key), 0)
      end
      for _, rw in ipairs { "reads", "writes" } do
        if type(st[rw]) ~= "table" then
          error(("%s: key '%s.%s': a step declares the state fields it %s, e.g. { \"intent\" }")
            :format(where, key, rw, rw), 0)
        end
        for _, f in ipairs(st[rw]) do
          if not STATE_FIELDS[f] then
            local names = {}
            for n in pairs(STATE_FIELDS) do names[#names + 1] = n end
            table.sort(names)
            error(("%s: key '%s.%s': no state field '%s' (fields: %s)")
              :format(where, key, rw, tostring(f), table.concat(names, ", ")), 0)
          end
        end
      end
    else
      error(("%s: key '%s': expected a step name or a table"):format(where, key), 0)
    end
    if seen[name] then error(("%s: key '%s': step '%s' is listed twice"):format(where, key, name), 0) end
    seen[name] = i
  end
  for name in pairs(FIXED) do
    if not seen[name] then
      error(("%s: key 'steps': step '%s' cannot be dropped (it moves the broker through the bars)"):format(where, name), 0)
    end
  end
  if seen.data > seen.execute then
    error(("%s: key 'steps': 'data' must come before 'execute'"):format(where), 0)
  end
  return steps
end

-- A custom step's view of the state: only its declared fields.
function M.guarded(state, st)
  local r, w = {}, {}
  for _, f in ipairs(st.reads) do r[f] = true end
  for _, f in ipairs(st.writes) do w[f] = true; r[f] = true end
  r.symbols, r.bar, r.ts = true, true, true
  return setmetatable({}, {
    __index = function(_, k)
      if not r[k] then
        error(("step '%s' read state.%s, which it does not declare in reads"):format(st.name, tostring(k)), 2)
      end
      return state[k]
    end,
    __newindex = function(_, k, v)
      if not w[k] then
        error(("step '%s' wrote state.%s, which it does not declare in writes"):format(st.name, tostring(k)), 2)
      end
      state[k] = v
    end,
  })
end

---------------------------------------------------------------------------------------
-- The built-in steps
---------------------------------------------------------------------------------------

local builtin = {}
M.builtin = builtin

local REGIME_NAMES
function M.regime_name(code)
  if not REGIME_NAMES then REGIME_NAMES = require("gt.regime").NAMES end
  return code >= 0 and REGIME_NAMES[code] or nil
end

function builtin.data(state, sess)
  local i = state.bar + 1
  state.bar = i
  sess.limit[0] = i
  local ts = tonumber(sess.series[1].ts[i])
  state.ts = ts
  if sess.clock then sess.clock:set(ts) end
  gtffi.check(C.gt_bt_begin_bar(sess.bt, i), 1)
  -- a REST broker (gt.live_exec): its fills and closes since the last cycle, before anything
  -- decides (an order it has filled frees its symbol for this cycle's decision)
  -- A kill switch pulled since the last cycle cancels at the broker first, so the fills
  -- read are the last ones and the closes are the cancels.
  if sess.live then
    M.watch_kill(sess)
    sess.live:sync()
  end
  local bus = sess.bus
  local wants = bus:wants("bar")
  for j = 1, sess.k do
    local s = sess.series[j]
    state.close[j] = s.close[i]
    if wants then
      bus:publish { type = "bar", ts = ts, symbol = state.symbols[j], price = s.close[i],
        open = s.open[i], high = s.high[i], low = s.low[i], volume = s.volume[i] }
    end
  end
end

function builtin.analyze(state, sess)
  local i, bus = state.bar, sess.bus
  local wants = bus:wants("analysis")
  for j = 1, sess.k do
    local e, a = sess.sym[j], state.analysis[j]
    local c, sma = state.close[j], e.sma50[i]
    a.trend = sma == sma and (c > sma and 1 or c < sma and -1 or 0) or nil
    a.rsi = e.rsi[i]
    a.atr = e.atr[i]
    a.vol = e.atr[i] / c
    if wants then
      bus:publish { type = "analysis", ts = state.ts, symbol = state.symbols[j], trend = a.trend,
        rsi = a.rsi == a.rsi and a.rsi or nil, atr_pct = a.vol == a.vol and a.vol or nil }
    end
  end
end

function builtin.regime(state, sess)
  local i, bus = state.bar, sess.bus
  for j = 1, sess.k do
    local e = sess.sym[j]
    if e.stream then
      local s = e.s
      local code = e.stream:push(s.high[i], s.low[i], s.close[i])
      local name = M.regime_name(code)
      if name ~= state.regime[j] then
        state.regime[j] = name
        bus:publish { type = "regime", ts = state.ts, symbol = state.symbols[j], status = name or "warming_up",
          confidence = e.stream.confidence == e.stream.confidence and e.stream.confidence or nil }
      end
    end
  end
end

-- The ensemble's members this bar: the workflow's list, cut to the tier's strategies.
local function allowed(sess, name)
  return not sess.tier_strategies or sess.tier_strategies[name] == true
end

function builtin.select(state, sess)
  local wf, i = sess.wf, state.bar
  for j = 1, sess.k do
    local e = sess.sym[j]
    local pick, conf, reason = nil, NAN, nil
    if wf.strategy == "ml" then
      if sess.model and (e.selected == nil or (e.next_select or 0) <= i) then
        local x = e.rows[i]
        if x then
          local r = require("gt.ml").rank(sess.model, x, { min_confidence = wf.selection.min_confidence,
            fallback = wf.selection.fallback })
          pick, conf, reason = r.selected, r.confidence, r.reason
          if not sess.strategies[pick] then pick = wf.selection.fallback end
          e.next_select = i + wf.selection.every
        end
      end
      if not pick then
        pick, conf = e.selected or wf.selection.fallback, e.selected and e.confidence or NAN
        if not sess.model and not e.selected then
          reason = ("no ML model (%s): using the fallback %s"):format(tostring(sess.model_missing), pick)
        end
      end
    elseif #sess.names > 1 then
      pick, conf = "ensemble", 1
    else
      pick, conf = sess.names[1], 1
    end
    if pick ~= e.selected then
      e.selected = pick
      state.selected[j] = pick
      sess.bus:publish { type = "selection", ts = state.ts, symbol = state.symbols[j], strategy = pick,
        confidence = conf == conf and conf or nil, reason = reason }
    end
    e.confidence = conf
    state.selected[j], state.confidence[j] = pick, conf
  end
end

local check_target
local function decide(e, st, i)
  if i < st.from then return nil end
  local t, sl, tp
  if st.rule then
    t, sl, tp = st.rule(e.data, st.ind, i, st.p, st.state)
    if t ~= nil then
      check_target = check_target or require("gt.strategy").check_target
      check_target(st.name, i, t, sl, tp)
    end
  else
    t = st.targets[i]
    if t ~= t then t = nil end
    sl = st.stops and st.stops[i]; if sl ~= sl then sl = nil end
    tp = st.takes and st.takes[i]; if tp ~= tp then tp = nil end
  end
  return t, sl, tp
end

-- Every candidate strategy decides each bar (a switch picks up the new one's stance);
-- the intent is the selected one's target when it changes, or the selection changes.
function builtin.signal(state, sess)
  local i = state.bar
  for j = 1, sess.k do
    local e = sess.sym[j]
    local changed = false
    local sl, tp
    for name, st in pairs(e.strat) do
      local t, s1, t1 = decide(e, st, i)
      if t ~= nil and t ~= st.last then
        st.last = t
        if name == e.selected or e.selected == "ensemble" then changed = true; sl, tp = s1, t1 end
      end
    end
    local target
    if e.selected == "ensemble" then
      local sum, m = 0, 0
      for _, name in ipairs(sess.names) do
        if allowed(sess, name) then sum = sum + e.strat[name].last; m = m + 1 end
      end
      target = m > 0 and sum / m or 0
    else
      target = e.strat[e.selected].last
    end
    if e.acted_selected ~= e.selected or e.deferred then changed = true end
    if e.deferred and target == e.acted then e.deferred = nil end
    if changed and target ~= e.acted then
      state.intent[j] = { target = target, stop = sl, take = tp, strategy = e.selected }
    else
      state.intent[j] = nil
    end
  end
end

-- Win statistics from the trades closed so far, in order (as the backtester's sizing
-- counts them): Kelly needs MIN_TRADES of them.
local MIN_TRADES = 20
local function win_stats(sess)
  local w = sess.wins
  local tp = ffi.new("const gt_trade *[1]")
  local m = tonumber(C.gt_bt_trades(sess.bt, tp))
  while w.from < m and tp[0][w.from].exit_bar >= 0 do
    local r = tp[0][w.from].return_pct / 100
    if r > 0 then w.nwin, w.sum_win = w.nwin + 1, w.sum_win + r
    elseif r < 0 then w.nloss, w.sum_loss = w.nloss + 1, w.sum_loss + r end
    w.n, w.from = w.n + 1, w.from + 1
  end
  if w.n >= MIN_TRADES and w.nwin > 0 and w.nloss > 0 then
    local p = w.nwin / w.n
    return math.min(0.99, math.max(0.01, p)), w.sum_win / w.nwin, w.sum_loss / w.nloss
  end
end

-- The fraction of equity each intent gets: gt.sizing's target for the method, with the
-- selection's confidence and the symbol's regime, capped at max_position (and the tier's
-- cap); 0 when sizing says no position (low confidence, one share too dear).
function builtin.size(state, sess)
  local sizing = require "gt.sizing"
  local equity = C.gt_bt_equity_now(sess.bt)
  local maxp = sess.sizing.max_position or sizing.defaults(sess.sizing.method).max_position
  for j = 1, sess.k do
    local it = state.intent[j]
    state.orders[j] = nil
    if it then
      local frac, notes = 0, nil
      if it.target ~= 0 then
        local a = state.analysis[j]
        local args = { price = state.close[j], equity = equity }
        for k, v in pairs(sess.sizing) do args[k] = v end
        local conf = state.confidence[j]
        if conf == conf and conf < 1 then args.confidence = conf end
        if state.regime[j] then args.regime = state.regime[j] end
        if args.method == "volatility" and a.atr == a.atr then args.atr = a.atr end
        args.win_rate, args.avg_win, args.avg_loss = win_stats(sess)
        local r = sizing.size(args)
        frac = r.fraction > 0 and math.min(r.target, maxp) or 0
        frac = frac * math.abs(it.target)
        if sess.tier_cap then frac = math.min(frac, sess.tier_cap) end
        if it.target < 0 then frac = -frac end
        notes = #r.notes > 0 and table.concat(r.notes, "; ") or nil
      end
      state.orders[j] = { fraction = frac, stop = it.stop, take = it.take, strategy = it.strategy,
        target = it.target }
      sess.bus:publish { type = "sizing", ts = state.ts, symbol = state.symbols[j], strategy = it.strategy,
        value = frac, confidence = state.confidence[j] == state.confidence[j] and state.confidence[j] or nil,
        reason = notes, target = it.target }
    end
  end
end

local REJECT = {}
local function reject_text(code)
  local t = REJECT[code]
  if not t then t = ffi.string(C.gt_bt_reject_text(code)); REJECT[code] = t end
  return t
end

function builtin.risk(state, sess)
  local bt, wf = sess.bt, sess.wf
  for j = 1, sess.k do
    local o = state.orders[j]
    state.decisions[j] = nil
    if o then
      local e = sess.sym[j]
      local ensemble = e.selected == "ensemble"
      local stop, take = o.stop or NAN, o.take or NAN
      if sess.live then stop, take = NAN, NAN end -- a REST broker's orders carry no exit legs yet
      local id = C.gt_bt_target_exits(bt, j - 1, o.fraction, ensemble and 1 or 0, stop, take)
      if id == C.GT_EBUSY then
        -- an order for the symbol is still working at the broker: the intent waits for it
        e.deferred = true
        id = 0
      elseif id < 0 then
        error(("%s: %s: %s"):format(wf.name, state.symbols[j], gtffi.errmsg(tonumber(id))), 0)
      else
        e.acted, e.acted_selected, e.deferred = o.target, e.selected, nil
      end
      if id > 0 then
        local ord = C.gt_bt_order(bt, id)
        local refused = ord.status == C.GT_ORDER_REJECTED and ord.reject == C.GT_REJECT_RISK
        local reason
        if refused then
          local fp = ffi.new("const gt_refusal *[1]")
          local nf = tonumber(C.gt_bt_refusals(bt, fp))
          for r = nf - 1, 0, -1 do
            if fp[0][r].order_id == id then reason = ffi.string(fp[0][r].reason); break end
          end
          sess.counts.refused = sess.counts.refused + 1
        elseif ord.status == C.GT_ORDER_REJECTED then
          reason = reject_text(ord.reject)
        end
        state.decisions[j] = { order_id = tonumber(id), passed = not refused, reason = reason }
        sess.bus:publish { type = "risk_decision", ts = state.ts, symbol = state.symbols[j],
          strategy = o.strategy, order_id = tonumber(id), side = ord.side, qty = ord.qty,
          price = state.close[j], status = refused and "refused" or "passed", reason = reason }
      end
    end
  end
end

local STATUS = { [0] = "pending", "open", "partial", "filled", "canceled", "rejected", "expired" }
local TYPES = { [0] = "market", "limit", "stop", "stop_limit", "trailing_stop" }

local function order_event(sess, o, ts)
  local status = STATUS[o.status]
  sess.bus:publish { type = "order", ts = ts, symbol = sess.state.symbols[tonumber(o.symbol) + 1],
    order_id = tonumber(o.id), side = o.side, qty = o.qty, price = o.avg_price == o.avg_price and o.avg_price or nil,
    status = status, reason = o.reject ~= 0 and reject_text(o.reject) or nil, order_type = TYPES[o.type],
    filled = o.filled, parent = o.parent ~= 0 and tonumber(o.parent) or nil }
end

function builtin.execute(state, sess)
  local bt, i, ts = sess.bt, state.bar, state.ts
  -- a REST broker's fills came in at the data step (gt.live_exec publishes those events
  -- itself, with the broker's ids)
  local live = sess.live
  gtffi.check(C.gt_bt_end_bar(bt, i), 1)
  -- orders booked this cycle, and status changes of the ones still working
  local op = sess._op
  local no = tonumber(C.gt_bt_orders(bt, op))
  for id, last in pairs(sess.open) do
    local o = op[0][id - 1]
    if o.status ~= last then
      order_event(sess, o, ts)
      if o.status == C.GT_ORDER_OPEN or o.status == C.GT_ORDER_PARTIAL or o.status == C.GT_ORDER_PENDING then
        sess.open[id] = o.status
      else
        sess.open[id] = nil
      end
    end
  end
  for r = sess.order_cursor, no - 1 do
    local o = op[0][r]
    order_event(sess, o, ts)
    sess.counts.orders = sess.counts.orders + 1
    if o.status == C.GT_ORDER_OPEN or o.status == C.GT_ORDER_PARTIAL or o.status == C.GT_ORDER_PENDING then
      sess.open[tonumber(o.id)] = o.status
    end
  end
  sess.order_cursor = no
  -- fills, and the positions they moved
  local fp = sess._fp
  local nf = tonumber(C.gt_bt_fills(bt, fp))
  local moved = nil
  for r = sess.fill_cursor, nf - 1 do
    local f = fp[0][r]
    local j = tonumber(f.symbol) + 1
    if not live then
      sess.bus:publish { type = "fill", ts = ts, symbol = state.symbols[j], order_id = tonumber(f.order_id),
        side = f.qty > 0 and 1 or -1, qty = math.abs(f.qty), price = f.price, value = math.abs(f.qty) * f.price,
        fee = f.fee }
      sess.counts.fills = sess.counts.fills + 1
    end
    moved = moved or {}
    moved[j] = true
  end
  sess.fill_cursor = nf
  state.fills = nf
  local pos = sess._pos
  for j = 1, sess.k do
    local p = state.positions[j]
    local q = sess.qty[(j - 1) * sess.stride]
    if q ~= p.qty or (moved and moved[j]) then
      C.gt_bt_position(bt, j - 1, pos)
      p.qty, p.avg = q, pos.avg_price
      sess.bus:publish { type = "position", ts = ts, symbol = state.symbols[j], qty = q,
        price = q ~= 0 and pos.avg_price or nil, value = q * state.close[j] }
    end
  end
  state.cash = C.gt_bt_cash(bt)
  state.equity = C.gt_bt_equity_now(bt)
end

local BREAKER = { [0] = "ACTIVE", "REDUCING", "HALTED" }

-- The kill switch: `gtengine halt` (the database's control table, read every cycle of a
-- journalled session) and SIGUSR1 halt the gate, which then refuses every order and has the
-- broker cancel the working ones; the halt is in the committed books, so it survives a
-- restart until `gtengine resume` and a new session.
-- The database is read every cycle only by durable (paper, live) journals, whose cycles
-- commit anyway; a batched backtest journal reads it once, at the start (at_start).
function M.watch_kill(sess, at_start)
  local gate = sess.gate
  if not gate then return end
  if C.gt_risk_killed(gate.h) ~= 0 then
    -- halted in C (SIGUSR1 taken at a risk check or at the bar), not through gate:halt: a
    -- REST broker's open orders are cancelled here, or they would stay working there
    local live = sess.live
    if live then
      local why = ffi.string(C.gt_risk_halt_reason(gate.h))
      if not live.killed then live:kill(why) end
      -- `gtengine halt --flatten` after a plain halt still closes the positions
      local J = sess.journal
      if not live.flattened and J and J.durable and J:control("flatten") then live:kill(why, true) end
    end
    return
  end
  local reason
  if C.gt_risk_kill_requested() ~= 0 then reason = "kill switch (SIGUSR1)" end
  local J = sess.journal
  if not reason and J and (at_start or J.durable) then reason = J:control("halt") end
  if reason then
    gate:halt(reason)
    -- `gtengine halt --flatten`: a live session also closes every position at the broker
    if sess.live and J and J:control("flatten") then sess.live:kill(reason, true) end
  end
end

function builtin.monitor(state, sess)
  local bus, ts = sess.bus, state.ts
  M.watch_kill(sess)
  if bus:wants("equity") then
    bus:publish { type = "equity", ts = ts, value = state.equity, cash = state.cash }
  end
  if sess.gate then
    local b = BREAKER[C.gt_risk_state(sess.gate.h)]
    if b ~= state.breaker then
      local reason
      if state.breaker ~= nil or b ~= "ACTIVE" then
        local st = sess.gate:state()
        reason = #st.causes > 0 and table.concat(st.causes, ", ") or nil
        bus:publish { type = "breaker", ts = ts, status = b, reason = reason, value = state.equity,
          drawdown = st.drawdown, daily_loss = st.daily_loss }
      end
      state.breaker = b
    end
  end
  if sess.tier then
    local pf = require "gt.portfolio"
    local tr = pf.transition(sess.tier, state.equity, sess.tier_cfg and { config = sess.tier_cfg } or nil)
    if tr.changed then
      bus:publish { type = "tier_change", ts = ts, status = tr.to, reason = tr.reason, value = state.equity,
        from = tr.from }
      sess.tier = tr.to
    end
    state.tier = sess.tier
  end
end

M.DEFAULT = {}
for _, s in ipairs(M.STEPS) do M.DEFAULT[#M.DEFAULT + 1] = s.name end

return M
