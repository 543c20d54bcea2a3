-- gt.orchestrator: runs a workflow (gt.workflow) as one trading cycle per bar:
--
--   data -> analyze -> regime -> select -> signal -> size -> risk -> execute -> monitor
--
-- Each step is a named function over the session's shared state (M.STEPS lists what each
-- reads and writes) and publishes its results as typed events on the session's bus
-- (gt.bus). The broker is the simulated one (engine/sim.c over the ledger) fed bar by bar;
-- every order passes the risk gate in C on its way to it. With the journal on, every event
-- and the state of the books are committed to SQLite once per cycle, in one transaction, so
-- a session killed at any moment resumes from its last committed cycle with the same
-- command. Time is the engine's clock (gt.clock): simulated, moved to each bar's time.
--
--   local sess = gt.orchestrator.new(gt.workflow.load("paper"))
--   local summary = sess:run()
--
-- A workflow's steps list may drop, replace or add steps: a step is a name of a built-in
-- step, or { name =, reads = {...}, writes = {...}, run = function(state, session) }. A
-- custom step sees only the state fields it declares (reading or writing another raises,
-- naming the step and the field). `data` and `execute` move the broker through the bars and
-- cannot be dropped or replaced.
local bit = require "bit"
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C
local bus_mod = require "gt.bus"
local fmt = require "gt.fmt"
local gtime = require "gt.time"

local M = {}

local NAN = 0 / 0

-- The built-in steps, in the default order, with the state fields they read and write.
M.STEPS = {
  { name = "data", reads = {}, writes = { "bar", "ts", "close" },
    doc = "the next bar of every symbol; the broker fills working orders against it" },
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
          error(("%s: key '%s.%s': a step declares the state fields it %s, e.g. { \"intent\" }"):format(where, key, rw, rw == "reads" and "reads" or "writes"), 0)
        end
        for _, f in ipairs(st[rw]) do
          if not STATE_FIELDS[f] then
            local names = {}
            for n in pairs(STATE_FIELDS) do names[#names + 1] = n end
            table.sort(names)
            error(("%s: key '%s.%s': no state field '%s' (fields: %s)"):format(where, key, rw, tostring(f), table.concat(names, ", ")), 0)
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
local function guarded(state, st)
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
-- Building a session
---------------------------------------------------------------------------------------

local Session = {}
Session.__index = Session

local function load_series(wf)
  local d, list = wf.data, {}
  local data = require "gt.data"
  for j, sym in ipairs(wf.symbols) do
    local s, err
    if d.source == "synthetic" then
      s = data.synthetic { n = d.bars, seed = d.seed + j - 1, start = d.first, symbol = sym, timeframe = wf.timeframe }
    elseif d.source == "csv" then
      local path = type(d.files) == "string" and d.files:gsub("{symbol}", sym) or d.files[sym]
      s, err = data.load(path)
      if s then s.symbol = sym end
    else
      s, err = data.load { symbol = sym, timeframe = wf.timeframe, db = wf.db, start = d.start, stop = d.stop }
    end
    if not s then return nil, ("%s: data for %s: %s"):format(wf.path or wf.name, sym, tostring(err)) end
    list[j] = s
  end
  if #list > 1 then
    local n0 = {}
    for j, s in ipairs(list) do n0[j] = s.n end
    list = data.align(list)
    for j, s in ipairs(list) do s.symbol = wf.symbols[j] end
  end
  return list
end

-- A strategy prepared for one symbol: parameters, indicators computed once over the
-- series (each value from bars up to its own), windows that refuse reads past the bar.
local function prepare_strategy(sess, name, j)
  local strategy = sess.strategies[name]
  local s = sess.series[j]
  local p = {}
  for k, v in pairs(strategy.params) do p[k] = v end
  for k, v in pairs(sess.wf.params[name] or {}) do p[k] = v end
  local bt = require "gt.backtest"
  local ind = strategy.indicators and strategy.indicators(s, p) or {}
  local w = bt.warmup(ind, s.n)
  if strategy.warmup then w = math.max(w, strategy.warmup(p)) end
  -- last: the stance; state: the rule's own table (its 5th argument), saved with each cycle
  local e = { name = name, p = p, from = math.max(w, strategy.lookback or 1), last = 0, state = {} }
  if strategy.rule then
    e.rule = strategy.rule
    e.ind = bt.views.make(ind, s.n, sess.limit, "ind")
  else -- signals only: its targets over the series, read bar by bar
    local sig = strategy.signals(s, p, ind)
    if type(sig) ~= "table" or not bt.is_array(sig.target) then
      error(name .. ": signals() must return {target = <double array>}", 0)
    end
    e.targets, e.stops, e.takes = sig.target, sig.stop, sig.take
  end
  e.keep = ind
  return e
end
M.prepare_strategy = prepare_strategy -- gt.reload rebuilds a reloaded strategy's entries

-- attach: set_param prepares a strategy again with its new parameters.
M.prepare_strategy = prepare_strategy

local function fnv(str)
  local h = 2166136261
  for i = 1, #str do
    h = bit.bxor(h, str:byte(i))
    h = (h * 16777619) % 4294967296
  end
  return ("%08x"):format(h)
end

-- The strategies a workflow can select.
local function candidates(wf)
  if wf.strategy == "ml" then return nil end
  if type(wf.strategy) == "table" and not wf.strategy.rule and not wf.strategy.signals then
    return wf.strategy
  end
  return { wf.strategy }
end

-- new(wf[, opts]) -> session. wf: from gt.workflow.load or .from_table. opts: series = {...}
-- (gt series in place of wf.data, one per symbol), out = a file (io.stdout), quiet = true,
-- progress = function(session) called after each cycle (tests), journal = false.
function M.new(wf, opts)
  opts = opts or {}
  local sess = setmetatable({ wf = wf, opts = opts, out = opts.out or io.stdout, quiet = opts.quiet,
    bus = bus_mod.new(), cycles = 0 }, Session)
  -- data
  local list, err
  if opts.series then
    list = opts.series
  elseif wf.feed.kind == "poll" then
    -- history from the provider warms the session up; only bars completed after it trade
    local f = wf.feed
    sess.feed = require("gt.feed").poll { provider = f.provider, symbols = wf.symbols, timeframe = wf.timeframe,
      interval = f.interval, lag = f.lag, history = f.history, calendar = f.calendar, extended = f.extended,
      hold = f.hold, base_url = f.base_url, key_file = f.key_file, clock = opts.clock or require("gt.clock").wall(),
      db = wf.journal.enabled and wf.db or nil }
    list, err = sess.feed:history()
    if list then sess.live_from = list[1].n end
  else
    list, err = load_series(wf)
  end
  if not list then return nil, err end
  sess.series, sess.k, sess.n = list, #list, list[1].n
  if sess.n < 2 then return nil, ("%s: the data has %d bars; a session needs at least 2"):format(wf.name, sess.n) end
  sess.limit = ffi.new("int64_t[1]", -1)
  -- strategies
  local strategy = require "gt.strategy"
  sess.strategies = {}
  local names = {}
  local function add(x)
    local s = strategy.get(x)
    if sess.strategies[s.name] then return end
    if not (s.rule or s.signals) then
      error(("%s: strategy %s decides in on_bar with its own orders; the orchestrator runs strategies "
        .. "that decide targets (rule or signals)"):format(wf.name, s.name), 0)
    end
    sess.strategies[s.name] = s
    names[#names + 1] = s.name
  end
  local cand = candidates(wf)
  if cand then
    for _, name in ipairs(cand) do add(name) end
  else
    add(wf.selection.fallback)
    local model, merr = require("gt.ml").load(wf.db, wf.selection.model)
    if model then
      sess.model = model
      for _, name in ipairs(model.strategies) do add(name) end
    else
      sess.model_missing = merr
    end
  end
  sess.names = names
  -- per symbol: strategies, analysis arrays, regime stream, ML rows
  local ind = require "gt.ind"
  sess.sym = {}
  for j, s in ipairs(list) do
    local e = { s = s, name = s.symbol or wf.symbols[j], strat = {}, last = {}, selected = nil,
      confidence = NAN }
    for _, name in ipairs(names) do e.strat[name] = prepare_strategy(sess, name, j) end
    e.data = require("gt.backtest").views.data(s, s.n, sess.limit)
    e.sma50, e.rsi, e.atr = ind.sma(s.close, 50), ind.rsi(s.close, 14), ind.atr(s.high, s.low, s.close, 14)
    if wf.regime ~= false then e.stream = require("gt.regime").stream { method = wf.regime.method } end
    if sess.model then e.rows = require("gt.ml").inputs(s) end
    sess.sym[j] = e
  end
  -- the broker: the simulated one over the ledger, the gate on the path of every order
  local b = wf.broker
  local bt_mod = require "gt.backtest"
  local cfg = ffi.new("gt_bt_config")
  cfg.capital, cfg.commission, cfg.commission_min = wf.capital, b.commission, 0
  cfg.slippage_bps, cfg.spread_bps, cfg.volume_cap, cfg.leverage = b.slippage * 1e4, 0, 0, 1
  cfg.fill_mode = b.fill == "close" and C.GT_FILL_CLOSE or C.GT_FILL_NEXT_OPEN
  cfg.comm_kind = C.GT_COMM_PCT
  cfg.fractional, cfg.allow_short = b.fractional and 1 or 0, b.short and 1 or 0
  cfg.size_at, cfg.end_price = C.GT_SIZE_AT_SIGNAL, C.GT_END_CLOSE
  local arr = ffi.new("const gt_series *[?]", sess.k)
  for j = 1, sess.k do arr[j - 1] = list[j]._c end
  local bt = C.gt_bt_new(cfg, arr, sess.k)
  if bt == nil then error(gtffi.errmsg(), 0) end
  sess.bt = ffi.gc(bt, C.gt_bt_free)
  sess._arr = arr
  -- tiers: the starting capital's tier caps each position and sets the gate's limits
  local risk_spec = wf.risk
  if wf.tiers then
    local pf = require "gt.portfolio"
    local pcfg = type(wf.tiers) == "table" and wf.tiers or nil
    local tname, t = pf.tier(wf.capital, pcfg and { config = pcfg } or nil)
    if not tname then return nil, ("%s: tiers: %s"):format(wf.name, tostring(t)) end
    local conf = pcfg or pf.default_config()
    sess.tier, sess.tier_cfg = tname, pcfg
    sess.tier_cap = math.min(1 / t.positions.target, conf.max_position_pct / 100)
    sess.tier_strategies = {}
    for _, n in ipairs(t.strategies) do sess.tier_strategies[n] = true end
    local lim = risk_spec and require("gt.risk").limits(risk_spec) or { preset = "off" }
    if type(risk_spec) == "string" then lim = { preset = risk_spec } end
    lim.max_daily_loss, lim.max_positions = t.daily_loss_limit_pct / 100, t.positions.max
    risk_spec = lim
  end
  if risk_spec then
    sess.gate = require("gt.risk").new(risk_spec)
    local gn = ffi.new("const char *[?]", sess.k)
    sess._gate_keep = {}
    for j = 1, sess.k do sess._gate_keep[j] = sess.sym[j].name; gn[j - 1] = sess._gate_keep[j] end
    sess._gate_names = gn
    C.gt_bt_set_risk(sess.bt, sess.gate.h, gn)
  end
  sess.sizing = type(wf.sizing) == "string" and { method = wf.sizing } or wf.sizing
  sess._op, sess._fp, sess._pos = ffi.new("const gt_order *[1]"), ffi.new("const gt_fill *[1]"), ffi.new("gt_position")
  sess.qty = C.gt_bt_qty(sess.bt)
  sess.stride = tonumber(C.gt_bt_qty_stride())
  -- steps
  sess.steps = {}
  for _, st in ipairs(wf.steps or M.DEFAULT) do
    if type(st) == "string" then
      sess.steps[#sess.steps + 1] = { name = st, run = M.builtin[st], builtin = true }
    else
      sess.steps[#sess.steps + 1] = { name = st.name, run = st.run, reads = st.reads, writes = st.writes }
    end
  end
  -- the shared state
  local state = { symbols = {}, close = {}, analysis = {}, regime = {}, selected = {}, confidence = {},
    intent = {}, orders = {}, decisions = {}, fills = {}, positions = {}, bar = -1 }
  for j = 1, sess.k do
    state.symbols[j] = sess.sym[j].name
    state.analysis[j] = {}
    state.positions[j] = { qty = 0, avg = 0 }
  end
  sess.state = state
  for _, st in ipairs(sess.steps) do
    if not st.builtin then st.view = guarded(state, st) end
  end
  sess.order_cursor, sess.fill_cursor, sess.open = 0, 0, {}
  sess.counts = { orders = 0, refused = 0, fills = 0, events = 0 }
  sess.health, sess.health_stats = opts.health and true or false, {}
  sess.cycle_offset = 0 -- journal cycle = bar index + offset (a resumed poll session's history moved)
  sess.wins = { from = 0, n = 0, nwin = 0, nloss = 0, sum_win = 0, sum_loss = 0 }
  sess.key = ("%s:%s:%s"):format(wf.name, wf.mode,
    fnv(require("gt.json").encode { wf.symbols, wf.capital, wf.data, wf.broker, wf.feed.kind, wf.timeframe,
      type(wf.strategy) == "table" and (wf.strategy.name or wf.strategy) or wf.strategy, wf.params, wf.sizing,
      wf.risk, wf.tiers ~= false, wf.selection, wf.regime }))
  return sess
end

M.DEFAULT = {}
for _, s in ipairs(M.STEPS) do M.DEFAULT[#M.DEFAULT + 1] = s.name end

---------------------------------------------------------------------------------------
-- The built-in steps
---------------------------------------------------------------------------------------

local builtin = {}
M.builtin = builtin

local REGIME_NAMES
local function regime_name(code)
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
      local name = regime_name(code)
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
    if e.acted_selected ~= e.selected then changed = true end
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
      local id = C.gt_bt_target_exits(bt, j - 1, o.fraction, ensemble and 1 or 0, o.stop or NAN, o.take or NAN)
      if id < 0 then error(("%s: %s: %s"):format(wf.name, state.symbols[j], gtffi.errmsg(tonumber(id))), 0) end
      e.acted, e.acted_selected = o.target, e.selected
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
    sess.bus:publish { type = "fill", ts = ts, symbol = state.symbols[j], order_id = tonumber(f.order_id),
      side = f.qty > 0 and 1 or -1, qty = math.abs(f.qty), price = f.price, value = math.abs(f.qty) * f.price,
      fee = f.fee }
    sess.counts.fills = sess.counts.fills + 1
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
local function watch_kill(sess)
  local gate = sess.gate
  if not gate or C.gt_risk_killed(gate.h) ~= 0 then return end
  local reason
  if C.gt_risk_kill_requested() ~= 0 then reason = "kill switch (SIGUSR1)" end
  if not reason and sess.journal then reason = sess.journal:control("halt") end
  if reason then gate:halt(reason) end
end

function builtin.monitor(state, sess)
  local bus, ts = sess.bus, state.ts
  watch_kill(sess)
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

---------------------------------------------------------------------------------------
-- Persisting and resuming
---------------------------------------------------------------------------------------

-- The books (ledger) and the gate's state as one string of bytes.
local function pack_books(sess)
  local L = C.gt_bt_ledger(sess.bt)
  local n = tonumber(C.gt_ledger_snapshot(L, nil, 0))
  local buf = ffi.new("uint8_t[?]", n)
  C.gt_ledger_snapshot(L, buf, n)
  local books = ffi.string(buf, n)
  local risk = sess.gate and sess.gate:snapshot() or ""
  return ("GTB1%016x%s%016x%s"):format(#books, books, #risk, risk)
end

local function unpack_books(sess, bytes)
  if type(bytes) ~= "string" or bytes:sub(1, 4) ~= "GTB1" then
    return nil, "the saved books are not this version's format"
  end
  local n1 = tonumber(bytes:sub(5, 20), 16)
  local books = bytes:sub(21, 20 + n1)
  local n2 = tonumber(bytes:sub(21 + n1, 36 + n1), 16)
  local risk = bytes:sub(37 + n1, 36 + n1 + n2)
  if not n1 or not n2 or #books ~= n1 or #risk ~= n2 then return nil, "the saved books are truncated" end
  local rc = C.gt_ledger_restore(C.gt_bt_ledger(sess.bt), ffi.cast("const uint8_t *", books), n1)
  if rc < 0 then return nil, gtffi.errmsg(rc) end
  if sess.gate then
    if n2 == 0 then return nil, "the saved session had no risk gate; this workflow has one" end
    local ok, err = sess.gate:restore(risk)
    if not ok then return nil, err end
  end
  return true
end

function Session:_state_record()
  local st, wf = self.state, self.wf
  local positions = {}
  for j = 1, self.k do
    local p = st.positions[j]
    if p.qty ~= 0 then positions[st.symbols[j]] = { qty = p.qty, avg = p.avg, price = st.close[j] } end
  end
  local per = {} -- by symbol: the selection and each strategy's last stance
  for j = 1, self.k do
    local e = self.sym[j]
    local last, sstate = {}, {}
    for name, s in pairs(e.strat) do last[name], sstate[name] = s.last, s.state end
    per[st.symbols[j]] = { selected = e.selected, confidence = e.confidence == e.confidence and e.confidence or nil,
      next_select = e.next_select, acted_selected = e.acted_selected, acted = e.acted, last = last,
      state = sstate }
  end
  local regimes = {}
  for j = 1, self.k do regimes[#regimes + 1] = st.symbols[j] .. "=" .. tostring(st.regime[j] or "-") end
  local strategies = {}
  for j = 1, self.k do strategies[#strategies + 1] = st.symbols[j] .. "=" .. tostring(st.selected[j] or "-") end
  return { ts = st.ts, cash = st.cash, equity = st.equity, positions = positions,
    breaker = st.breaker or "ACTIVE", tier = st.tier, regime = table.concat(regimes, " "),
    strategy = table.concat(strategies, " "), books = pack_books(self),
    lua_state = { cycle = st.bar + self.cycle_offset, symbols = per, tier = self.tier, breaker = st.breaker,
      counts = self.counts, open = self:_open_list(), ext = self.ext } }
end

function Session:_open_list()
  local l = {}
  for id, s in pairs(self.open) do l[#l + 1] = { id = id, status = s } end
  table.sort(l, function(a, b) return a.id < b.id end)
  return l
end

-- Brings a new session to the committed state: streaming steps re-run over the bars
-- before it (they depend on the bars alone), the books and the gate restored, the
-- selection and the strategies' stances from the saved state.
function Session:_resume(saved)
  local ls = saved.lua_state or {}
  -- the committed bar is found by its time: a replay has it at the same index; a poll feed's
  -- history has moved on since, so its journal cycles continue from an offset
  local cycle, ts = ls.cycle, saved.ts
  if type(cycle) ~= "number" or type(ts) ~= "number" then return nil, "the saved state has no cycle or time" end
  local upto = tonumber(C.gt_series_lower_bound(self.series[1]._c, ts))
  if upto >= self.n or tonumber(self.series[1].ts[upto]) ~= ts then
    return nil, ("the data no longer holds the last committed bar (%s)%s"):format(gtime.format(ts, false),
      self.feed and "; load more history (feed.history)" or "")
  end
  if not self.feed and upto ~= cycle then
    return nil, ("the last committed bar %s is bar %d of this data, not %d: the data changed"):format(
      gtime.format(ts, false), upto, cycle)
  end
  self.cycle_offset = cycle - upto
  local ok, err = unpack_books(self, saved.books)
  if not ok then return nil, err end
  gtffi.check(C.gt_bt_resume_at(self.bt, upto), 1)
  self.qty = C.gt_bt_qty(self.bt) -- the restored ledger's positions live in new memory
  local st = self.state
  for i = 0, upto do
    st.bar = i
    self.limit[0] = i
    for j = 1, self.k do
      local e = self.sym[j]
      if e.stream then st.regime[j] = regime_name(e.stream:push(e.s.high[i], e.s.low[i], e.s.close[i])) end
    end
  end
  st.ts = tonumber(self.series[1].ts[upto])
  for j = 1, self.k do
    local e = self.sym[j]
    local sel = ls.symbols and ls.symbols[st.symbols[j]] or {}
    e.selected, e.confidence, e.next_select, e.acted_selected = sel.selected, sel.confidence or NAN,
      sel.next_select, sel.acted_selected
    st.selected[j], st.confidence[j] = sel.selected, sel.confidence or NAN
    e.acted = sel.acted
    for name, s in pairs(e.strat) do
      s.last = (sel.last and sel.last[name]) or 0
      s.state = (sel.state and type(sel.state[name]) == "table") and sel.state[name] or {}
    end
    st.close[j] = self.series[j].close[upto]
    local pos = ffi.new("gt_position")
    C.gt_bt_position(self.bt, j - 1, pos)
    st.positions[j].qty, st.positions[j].avg = self.qty[(j - 1) * self.stride], pos.avg_price
  end
  self.tier = ls.tier or self.tier
  st.tier, st.breaker = self.tier, ls.breaker
  for k, v in pairs(ls.counts or {}) do self.counts[k] = v end
  self.open = {}
  for _, o in ipairs(ls.open or {}) do self.open[o.id] = o.status end
  local op = ffi.new("const gt_order *[1]")
  self.order_cursor = tonumber(C.gt_bt_orders(self.bt, op))
  local fp = ffi.new("const gt_fill *[1]")
  self.fill_cursor = tonumber(C.gt_bt_fills(self.bt, fp))
  st.cash, st.equity = C.gt_bt_cash(self.bt), C.gt_bt_equity_now(self.bt)
  self.resumed_at = upto
  self.resumed_ext = ls.ext -- what the slices that steer a session saved in self.ext (gt.reload)
  return true
end

---------------------------------------------------------------------------------------
-- Running
---------------------------------------------------------------------------------------

-- Hooks for the slices that watch or steer a session (monitor, reload, attach): "cycle_end"
-- runs after each committed cycle, "session_end" once at the end, "session_start" once before
-- the first cycle this process runs (after a resume: at the restored cycle's boundary);
-- fn(session). A hook that raises is reported as an error event and the session goes on.
-- A slice keeps what must survive a restart in session.ext[its name] (plain data, saved with
-- each cycle); a resumed session finds it in session.resumed_ext.
-- attach: "wait" runs while a paced session waits for its next bar, fn(session, clock, due):
-- it may use the time until the monotonic `clock` reads `due` (gt.attach serves its socket).
local HOOKS = { cycle_end = true, session_end = true, session_start = true, wait = true }
function Session:hook(name, fn)
  if not HOOKS[name] then
    error(("gt.orchestrator: no hook '%s' (cycle_end, session_end, session_start, wait)"):format(tostring(name)), 2)
  end
  if type(fn) ~= "function" then error("gt.orchestrator: a hook is a function(session)", 2) end
  self.hooks = self.hooks or {}
  local list = self.hooks[name] or {}
  self.hooks[name] = list
  list[#list + 1] = fn
end

function Session:_run_hooks(name, ...)
  local list = self.hooks and self.hooks[name]
  if not list then return end
  for _, fn in ipairs(list) do
    local ok, err = pcall(fn, self, ...)
    if not ok then
      if tostring(err):find("interrupted", 1, true) then error(err, 0) end
      self.bus:publish { type = "error", ts = self.state.ts or 0, reason = ("%s hook: %s"):format(name, tostring(err)),
        source = "hook" }
    end
  end
end

-- One duration (microseconds) of a step or a whole cycle into the health figures.
function Session:_time(name, us)
  local h = self.health_stats
  local x = h[name]
  if not x then x = { n = 0, sum = 0, max = 0 }; h[name] = x end
  x.n, x.sum, x.last = x.n + 1, x.sum + us, us
  if us > x.max then x.max = us end
end

-- After the feed appended bars: the broker's per-bar arrays grow, and every per-symbol
-- array the steps read (indicators, windows, ML rows) is built again over the longer series
-- (once per poll, not per bar; each strategy keeps its last stance).
function Session:_grow()
  gtffi.check(C.gt_bt_extend(self.bt), 1)
  self.n = self.series[1].n
  local ind = require "gt.ind"
  for j, e in ipairs(self.sym) do
    local s = e.s
    for name, old in pairs(e.strat) do
      local st = prepare_strategy(self, name, j)
      st.last = old.last
      e.strat[name] = st
    end
    e.data = require("gt.backtest").views.data(s, s.n, self.limit)
    e.sma50, e.rsi, e.atr = ind.sma(s.close, 50), ind.rsi(s.close, 14), ind.atr(s.high, s.low, s.close, 14)
    if self.model then e.rows = require("gt.ml").inputs(s) end
  end
end

function Session:say(...)
  if not self.quiet then self.out:write(string.format(...), "\n") end
end

function Session:_open_journal()
  local wf = self.wf
  if not wf.journal.enabled or self.opts.journal == false then return true end
  local journal = require "gt.journal"
  local J, err = journal.open(wf.db, { durable = wf.mode ~= "backtest", batch = wf.journal.batch })
  if not J then return nil, err end
  self.journal = J
  local sid, saved = J:session { key = self.key, name = wf.name, mode = wf.mode, workflow = wf.path,
    config = { symbols = wf.symbols, capital = wf.capital, strategy = type(wf.strategy) == "table"
      and (wf.strategy.name or wf.strategy) or wf.strategy, mode = wf.mode, broker = wf.broker,
      risk = wf.risk, sizing = wf.sizing, data = wf.data, timeframe = wf.timeframe },
    now = tonumber(self.series[1].ts[0]) }
  self.session_id = sid
  if saved then
    local ok, rerr = self:_resume(saved)
    if not ok then
      return nil, ("%s: cannot resume session %d from %s: %s (start afresh with another --db)")
        :format(wf.name, sid, wf.db, rerr)
    end
  end
  watch_kill(self) -- before the first cycle: a halted database trades nothing
  self.bus:subscribe("*", function(ev)
    ev.cycle = self.state.bar
    J:append(ev)
  end, "journal")
  return true
end

-- The end-of-session figures: from the journal's equity events when there is a journal
-- (a resumed session's whole history), else from the broker's marks.
function Session:summary()
  local st, wf = self.state, self.wf
  local eq = {}
  local ts = {}
  if self.journal then
    for _, r in ipairs(self.journal:query { session = self.session_id, type = "equity" }) do
      eq[#eq + 1], ts[#ts + 1] = r.value, r.ts
    end
  else
    local ep = ffi.new("const double *[1]")
    local n = tonumber(C.gt_bt_equity(self.bt, ep))
    for i = 0, math.min(n, st.bar + 1) - 1 do
      local v = ep[0][i]
      if v == v then eq[#eq + 1], ts[#ts + 1] = v, tonumber(self.series[1].ts[i]) end
    end
  end
  local stats = #eq >= 2 and require("gt.metrics").compute { equity = eq, ts = ts, n = #eq,
    periods_per_year = require("gt.timeframe").periods_per_year and require("gt.timeframe").periods_per_year(wf.timeframe) or 252 } or {}
  local positions = {}
  for j = 1, self.k do
    local p = st.positions[j]
    if p.qty ~= 0 then
      positions[#positions + 1] = { symbol = st.symbols[j], qty = p.qty, avg = p.avg, price = st.close[j],
        value = p.qty * st.close[j], pnl = p.qty * (st.close[j] - p.avg) }
    end
  end
  local tp = ffi.new("const gt_trade *[1]")
  local ntrades = tonumber(C.gt_bt_trades(self.bt, tp))
  return { name = wf.name, mode = wf.mode, session = self.session_id, db = self.journal and wf.db or nil,
    db_path = wf.db, data = wf.data.source,
    symbols = st.symbols, cycles = st.bar + 1, bars = self.n, first = tonumber(self.series[1].ts[0]),
    last = st.ts, capital = wf.capital, equity = st.equity or wf.capital, cash = st.cash or wf.capital,
    return_pct = ((st.equity or wf.capital) / wf.capital - 1) * 100,
    max_drawdown_pct = stats.max_drawdown_pct, sharpe = stats.sharpe, trades = ntrades,
    orders = self.counts.orders, refused = self.counts.refused, fills = self.counts.fills,
    breaker = st.breaker or (self.gate and "ACTIVE") or "off", tier = self.tier, positions = positions,
    resumed_at = self.resumed_at, interrupted = self.interrupted, complete = st.bar + 1 >= self.n,
    bus_errors = select(2, self.bus:errors()), events = self.bus.published }
end

-- The session as a backtest result (gt.backtest's Result: full stats, trades, orders, the
-- HTML report, saving to the runs table) when every bar's equity is known, i.e. the whole
-- session ran in this process; nil and why otherwise.
function Session:result()
  if self.resumed_at then
    return nil, ("the session was resumed at cycle %d: the bars before it ran in another process"):format(self.resumed_at + 2)
  end
  local wf, bt_mod = self.wf, require "gt.backtest"
  local label = type(wf.strategy) == "table" and not wf.strategy.rule and not wf.strategy.signals
    and ("ensemble(" .. table.concat(self.names, ",") .. ")")
    or wf.strategy == "ml" and ("ml(" .. table.concat(self.names, ",") .. ")") or self.names[1]
  local o = { capital = wf.capital, risk_free = 0, mode = "workflow", workflow = wf.name,
    fill = wf.broker.fill, commission = wf.broker.commission, slippage_bps = wf.broker.slippage * 1e4,
    short = wf.broker.short, fractional = wf.broker.fractional, sizing = self.sizing,
    risk = wf.risk or nil, tiers = wf.tiers or nil }
  local p = {}
  if #self.names == 1 then p = self.sym[1].strat[self.names[1]].p end
  local res = bt_mod.collect(self.bt, self.series, { name = label }, p, o, self.wf.feed.warmup, 0, nil)
  if self.gate then
    res.risk = self.gate:state()
    res.risk.refused_orders = self.counts.refused
  end
  return res
end

function Session:_commit()
  if not self.journal then return end
  local ok, err = self.journal:commit(self.state.bar + self.cycle_offset, self:_state_record())
  if ok == nil and err then error(("journal %s: %s"):format(self.wf.db, err), 0) end
  self.committed = self.state.bar
end

-- Runs the session to the end of its data (or an interruption). Returns the summary.
function Session:run()
  local wf = self.wf
  local ok, err = self:_open_journal()
  if not ok then return nil, err end
  if self.gate and not self.journal then -- the kill switch lives in the database
    local db = require("gt.store").open(wf.db)
    local halted = db and db:control("halt")
    if db then db:close() end
    if halted then self.gate:halt(halted) end
  end
  local clock_mod = require "gt.clock"
  if self.feed then
    self.feed.clock:use() -- paper on a live feed reads the wall clock (tests pass a simulated one)
  else
    self.clock = clock_mod.sim(tonumber(self.series[1].ts[math.max(self.state.bar, 0)]))
    self.clock:use()
  end
  local wall = wf.feed.speed > 0 and clock_mod.monotonic() or nil
  local warm = math.max(wf.feed.warmup, self.live_from or 0)
  if self.resumed_at then
    self:say("%s: resuming session %d at cycle %d of %d (%s)", wf.name, self.session_id, self.resumed_at + 2,
      self.n, wf.db)
  else
    local src = self.opts.series and "given" or wf.data.source == "synthetic" and "synthetic data (made by the engine)"
      or (wf.data.source .. " data")
    self:say("%s: %s session, %d symbol%s (%s), %d bars (%s) of %s from %s, capital %s%s", wf.name, wf.mode,
      self.k, self.k > 1 and "s" or "", table.concat(self.state.symbols, ", "), self.n, wf.timeframe, src,
      gtime.format(tonumber(self.series[1].ts[0])), fmt.num(wf.capital, 2),
      self.journal and (", journal " .. wf.db) or "")
    self.bus:publish { type = "session", ts = tonumber(self.series[1].ts[0]), status = "started", reason = wf.name }
  end
  self:_run_hooks("session_start")
  local steps, state = self.steps, self.state
  local t_wall0 = wall and wall:now()
  -- pacing counts from the first bar this process runs (a resumed session does not wait
  -- for the bars it already traded)
  local ts0 = tonumber(self.series[1].ts[state.bar + 1])
  -- opts.profile: a function returning seconds (or true for os.clock): time per step
  local step_time = self.opts.profile and {} or nil
  local clock = type(self.opts.profile) == "function" and self.opts.profile or os.clock
  -- health (opts.health, or set by a monitor): count, total and worst microseconds of each
  -- step and of whole cycles, on the monotonic clock
  local mono = self.health and clock_mod.monotonic() or nil
  local function cycles(from, to)
    for i = from, to do
      local c0 = mono and mono:now()
      for s = 1, #steps do
        local st = steps[s]
        -- before the warm-up ends, only the streaming steps run (no decisions)
        if i >= warm or st.name == "data" or st.name == "analyze" or st.name == "regime" or st.name == "execute"
          or st.name == "monitor" then
          local t0 = step_time and clock()
          local m0 = mono and mono:now()
          if st.builtin then st.run(state, self) else st.run(st.view, self) end
          if step_time then step_time[st.name] = (step_time[st.name] or 0) + clock() - t0 end
          if mono then self:_time(st.name, mono:now() - m0) end
        end
      end
      self:_commit()
      self.cycles = self.cycles + 1
      if mono then self:_time("cycle", mono:now() - c0) end
      if self.opts.after_cycle then self.opts.after_cycle(self) end
      self:_run_hooks("cycle_end")
      if wall then -- paced replay: bar time advances `speed` times faster than the wall clock
        local due = t_wall0 + math.floor((tonumber(self.series[1].ts[i]) - ts0) / wf.feed.speed)
        self:_run_hooks("wait", wall, due) -- attach: serves its socket until the bar is due
        local slept, _, code = wall:sleep_until(due)
        if not slept and code == "GT_EINTR" then error("interrupted", 0) end
      end
    end
  end
  local run_ok, run_err = pcall(function()
    cycles(state.bar + 1, self.n - 1)
    -- a poll feed: wait for the next completed bars, trade them, until stopped
    local polls = 0
    while self.feed and not (self.opts.max_polls and polls >= self.opts.max_polls) do
      if self.feed.clock:kind() ~= "sim" then -- attach and the like use the wait for the next poll
        local mono = clock_mod.monotonic()
        local due = mono:now() + math.max(0, self.feed:next_poll() - self.feed.clock:now())
        self:_run_hooks("wait", mono, due)
      end
      local ok, msg, code = self.feed:wait()
      if not ok then
        if code == "GT_EINTR" then error("interrupted", 0) end
        error(msg, 0)
      end
      polls = polls + 1
      local k, perr = self.feed:poll()
      if not k then
        self.bus:publish { type = "error", ts = self.feed.clock:now(), reason = "feed: " .. tostring(perr), source = "feed" }
      elseif k > 0 then
        local first = self.n
        self:_grow()
        cycles(first, self.n - 1)
      end
    end
  end)
  if not run_ok then
    if tostring(run_err):find("interrupted", 1, true) then
      debug.sethook()
      self.interrupted = true
      -- the cycle under way is not committed: the books on disk are those of the last commit
      if self.committed then self.state.bar = self.committed end
    else
      if self.journal then pcall(function() self.journal:finish("failed") end) end
      clock_mod.wall():use()
      error(run_err, 0)
    end
  end
  self.step_time = step_time
  self:_run_hooks("session_end")
  local summary = self:summary()
  -- monitor: a paper session's report is written by gt.monitor from the journal (resumed
  -- sessions too), so it is not built here from this process's bars
  local own_report = wf.report and not self.report_by_monitor
  if not self.interrupted and (wf.mode == "backtest" or own_report) then
    local res, why = self:result()
    if res then
      summary.sharpe, summary.max_drawdown_pct = res.stats.sharpe, res.stats.max_drawdown_pct
      summary.stats = res.stats
      if own_report then
        local okr, rerr = res:report(wf.report)
        if okr then summary.report = wf.report else summary.report_error = rerr end
      end
      if wf.mode == "backtest" and self.opts.save ~= false then
        local id, serr = res:save(wf.db)
        if id then summary.run_id = id else summary.save_error = serr end
      end
      self.res = res
    elseif own_report then
      summary.report_error = why
    end
  end
  if self.journal then
    if not self.interrupted then
      -- finish() writes events after the last commit as the end of that cycle
      self.bus:publish { type = "session", ts = state.ts, status = "finished", reason = wf.name }
    end
    self.journal:flush()
    -- a session on a live feed never ends by itself: stopped, so the same command goes on
    self.journal:finish((self.interrupted or self.feed) and "stopped" or "finished")
  end
  clock_mod.wall():use()
  return summary
end

-- The summary as text for the terminal.
function M.format_summary(sm)
  local pct = function(v) return v and v == v and (fmt.num(v, 2) .. "%") or "n/a" end
  local lines = {}
  local function add(k, v) lines[#lines + 1] = ("%-14s %s"):format(k, v) end
  add("workflow", ("%s (%s)"):format(sm.name, sm.mode))
  add("symbols", table.concat(sm.symbols, ", "))
  add("bars", ("%d of %d, %s to %s"):format(sm.cycles, sm.bars, gtime.format(sm.first),
    sm.last and gtime.format(sm.last) or "-"))
  add("equity", ("%s from %s (%s)"):format(fmt.num(sm.equity, 2), fmt.num(sm.capital, 2), pct(sm.return_pct)))
  add("cash", fmt.num(sm.cash, 2))
  add("max drawdown", pct(sm.max_drawdown_pct))
  add("sharpe", sm.sharpe and sm.sharpe == sm.sharpe and fmt.num(sm.sharpe, 2) or "n/a")
  add("orders", ("%d (%d refused by the risk gate), %d fills, %d round trips"):format(sm.orders, sm.refused,
    sm.fills, sm.trades))
  add("breaker", sm.breaker)
  if sm.tier then add("tier", sm.tier) end
  if sm.resumed_at then add("resumed", ("at cycle %d"):format(sm.resumed_at + 2)) end
  if sm.session then
    add("journal", ("session %d in %s (gtengine journal --db %s; gtengine status --db %s)"):format(sm.session,
      sm.db, sm.db, sm.db))
  end
  if sm.run_id then add("saved", ("run %d in %s (gtengine runs --id %d)"):format(sm.run_id, sm.db_path or "the database", sm.run_id)) end
  if sm.save_error then add("not saved", sm.save_error) end
  if sm.report then add("report", sm.report) end
  if sm.report_error then add("no report", sm.report_error) end
  if sm.bus_errors and sm.bus_errors > 0 then add("subscriber errors", tostring(sm.bus_errors)) end
  -- monitor: its alerts, log and webhook (gt.monitor's finish)
  local mon = sm.monitor
  if mon then
    if mon.alerts > 0 or mon.suppressed > 0 then
      add("alerts", ("%d raised, %d repeats held back%s"):format(mon.alerts, mon.suppressed,
        sm.session and (" (gtengine alerts --db " .. sm.db .. ")") or ""))
    end
    if mon.log then add("log", ("%s, %d lines%s"):format(mon.log, mon.log_lines,
      mon.log_errors > 0 and (", " .. mon.log_errors .. " not written") or "")) end
    if mon.webhook_queued > 0 then add("webhook", ("%d alerts queued for delivery"):format(mon.webhook_queued)) end
  end
  local out = table.concat(lines, "\n") .. "\n"
  if #sm.positions > 0 then
    out = out .. "\npositions:\n" .. fmt.table(sm.positions, {
      { key = "symbol" }, { key = "qty", align = "right", fmt = function(v) return fmt.num(v, 0) end },
      { key = "avg", title = "avg price", align = "right", fmt = function(v) return fmt.num(v, 2) end },
      { key = "price", title = "last", align = "right", fmt = function(v) return fmt.num(v, 2) end },
      { key = "value", align = "right", fmt = function(v) return fmt.num(v, 2) end },
      { key = "pnl", title = "unrealised", align = "right", fmt = function(v) return fmt.num(v, 2) end } })
  end
  return out
end

-- An optimize-mode run: the best combinations per symbol.
function M.format_optimize(sm)
  local out = {}
  for _, r in ipairs(sm.results) do
    local res = r.result
    out[#out + 1] = ("%s: %s"):format(r.symbol, res.windows and "walk-forward" or "search")
    if res.results then
      local rows = {}
      for k = 1, math.min(5, #res.results) do
        local x = res.results[k]
        local ps = {}
        for pk, pv in pairs(x.params) do ps[#ps + 1] = pk .. "=" .. tostring(pv) end
        table.sort(ps)
        rows[k] = { params = table.concat(ps, " "), score = x.score, ret = x.stats.return_pct,
          sharpe = x.stats.sharpe, dd = x.stats.max_drawdown_pct, trades = x.stats.num_trades }
      end
      local num = function(v) return v == v and fmt.num(v, 2) or "n/a" end
      out[#out + 1] = fmt.table(rows, { { key = "params" }, { key = "score", fmt = num, align = "right" },
        { key = "ret", title = "return %", fmt = num, align = "right" }, { key = "sharpe", fmt = num, align = "right" },
        { key = "dd", title = "max DD %", fmt = num, align = "right" }, { key = "trades", align = "right" } })
      if res.dsr then out[#out + 1] = ("deflated Sharpe ratio of the best: %.3f; PBO: %s\n"):format(res.dsr,
        res.pbo and res.pbo == res.pbo and ("%.3f"):format(res.pbo) or "n/a") end
    elseif res.windows then
      local rows = {}
      for w, x in ipairs(res.windows) do
        local ps = {}
        for pk, pv in pairs(x.params or {}) do ps[#ps + 1] = pk .. "=" .. tostring(pv) end
        table.sort(ps)
        rows[w] = { window = w, params = table.concat(ps, " "),
          is_ret = x.train and x.train.return_pct or NAN, oos_ret = x.test and x.test.return_pct or NAN,
          oos_sharpe = x.test and x.test.sharpe or NAN, note = x.error }
      end
      local num = function(v) return v == v and fmt.num(v, 2) or "n/a" end
      out[#out + 1] = fmt.table(rows, { { key = "window", align = "right" }, { key = "params" },
        { key = "is_ret", title = "in-sample %", fmt = num, align = "right" },
        { key = "oos_ret", title = "out-of-sample %", fmt = num, align = "right" },
        { key = "oos_sharpe", title = "OOS sharpe", fmt = num, align = "right" }, { key = "note" } })
      out[#out + 1] = ("stitched out of sample: return %s%%; efficiency %s, consistency %s, robustness %s\n")
        :format(num(res.oos_return_pct), num(res.efficiency), num(res.consistency), num(res.robustness))
    end
  end
  return table.concat(out, "\n")
end

-- run(wf or name[, opts]) -> summary: the one call behind `gtengine run WORKFLOW`.
function M.run(wf, opts)
  if type(wf) == "string" then
    local err
    wf, err = require("gt.workflow").load(wf, opts and opts.overrides)
    if not wf then return nil, err end
  end
  if wf.mode == "optimize" then return M.run_optimize(wf, opts) end
  local sess, err = M.new(wf, opts)
  if not sess then return nil, err end
  return sess:run()
end

-- mode = "optimize": the workflow's data through gt.optimize (grid, random or walk-forward).
function M.run_optimize(wf, opts)
  opts = opts or {}
  local list = opts.series
  if not list then
    local err
    list, err = load_series(wf)
    if not list then return nil, err end
  end
  local o = wf.optimize
  local optimize = require "gt.optimize"
  local results = {}
  for j, s in ipairs(list) do
    local args = { strategy = o.strategy, data = s, grid = o.grid, objective = o.objective or "sharpe",
      jobs = o.jobs }
    local r, err
    if o.walkforward then
      args.train, args.test = o.walkforward.train, o.walkforward.test
      args.step, args.anchored = o.walkforward.step, o.walkforward.anchored
      r, err = optimize.walkforward(args)
    elseif o.random then
      args.n, args.seed = o.random, 1
      r, err = optimize.random(args)
    else
      r, err = optimize.grid(args)
    end
    if not r then return nil, ("%s: %s: %s"):format(wf.name, s.symbol or wf.symbols[j], tostring(err)) end
    results[#results + 1] = { symbol = s.symbol or wf.symbols[j], result = r }
  end
  return { name = wf.name, mode = "optimize", results = results }
end

return M
