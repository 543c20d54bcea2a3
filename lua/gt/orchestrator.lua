-- gt.orchestrator: runs a workflow (gt.workflow) as one trading cycle per bar:
--
--   data -> analyze -> regime -> select -> signal -> size -> risk -> execute -> monitor
--
-- Each step is a named function over the session's shared state (gt.steps lists what each
-- reads and writes) and publishes its results as typed events on the session's bus
-- (gt.bus). The broker is the simulated one (engine/sim.c over the ledger) fed bar by bar;
-- every order passes the risk gate in C on its way to it. With the journal on, every event
-- and the state of the books are committed to SQLite once per cycle, in one transaction, so
-- a session killed at any moment resumes from its last committed cycle with the same
-- command. Time is the engine's clock (gt.clock): a replay's simulated clock moves to each
-- bar's time; a session on a poll feed (gt.feed) reads the wall clock and trades each bar as
-- it completes.
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

-- The steps, their fields and their checks live in gt.steps.
local steps_mod = require "gt.steps"
M.STEPS, M.check_steps, M.builtin = steps_mod.STEPS, steps_mod.check_steps, steps_mod.builtin
M.DEFAULT = steps_mod.DEFAULT
local guarded, regime_name, watch_kill = steps_mod.guarded, steps_mod.regime_name, steps_mod.watch_kill

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
  local cfg = ffi.new("gt_bt_config")
  cfg.capital, cfg.commission, cfg.commission_min = wf.capital, b.commission, 0
  cfg.slippage_bps, cfg.spread_bps, cfg.volume_cap, cfg.leverage = b.slippage * 1e4, 0, 0, 1
  cfg.fill_mode = b.kind == "alpaca" and C.GT_FILL_EXTERNAL -- fills come from the broker (gt.live_exec)
    or b.fill == "close" and C.GT_FILL_CLOSE or C.GT_FILL_NEXT_OPEN
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
  local st = self.state
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
      next_select = e.next_select, acted_selected = e.acted_selected, acted = e.acted, deferred = e.deferred,
      last = last,
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
    e.acted, e.deferred = sel.acted, sel.deferred
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
  watch_kill(self, true) -- before the first cycle: a halted database trades nothing
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
    periods_per_year = require("gt.timeframe").periods_per_year(wf.timeframe) } or {}
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
    resumed_at = self.resumed_at, interrupted = self.interrupted, bounded = self.bounded,
    complete = st.bar + 1 >= self.n and not self.bounded,
    live = self.live and { broker = self.live.broker.base_url, dry_run = self.live.dry_run or false,
      sent = self.live.sent, would_send = self.live.would_send, fills = self.live.fills,
      killed = self.live.killed or false } or nil,
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
  if wf.broker.kind == "alpaca" then
    -- a REST broker: nothing is sent before its positions and orders agree with the books
    local X, xerr = require("gt.live_exec").new(self)
    if not X then self.journal:finish("stopped"); return nil, xerr end
    self.live = X
    local rok, report = X:start()
    if not rok then
      self.journal:finish("stopped")
      X:close()
      return nil, ("%s: reconciliation failed: the broker (%s) and session %d's books do not agree, or could not be "
        .. "compared; the session is HALTED and sends nothing:\n  %s\n"
        .. "Fix the account (or the journal in %s), or start a new session with another --db."):format(wf.name,
        X.broker.base_url, self.session_id, (report:gsub("\n", "\n  ")), wf.db)
    end
  end
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
      -- the events before this mark are the last commit's epilogue; those after it belong to
      -- this cycle, and go with its commit or not at all
      self.cycle_mark = self.journal and self.journal:mark()
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
      self.cycle_mark = nil
      if self.live then self.live:send() end -- the cycle's orders, once their intents are on disk
      self.cycles = self.cycles + 1
      if mono then self:_time("cycle", mono:now() - c0) end
      if self.opts.after_cycle then self.opts.after_cycle(self) end
      self:_run_hooks("cycle_end")
      -- a bounded run (--cycles N, --until TIME) stops here; the same command goes on
      local o = self.opts
      if (o.max_cycles and self.cycles >= o.max_cycles) or (o.until_ts and state.ts >= o.until_ts) then
        self.bounded = true
        return true
      end
      if wall then -- paced replay: bar time advances `speed` times faster than the wall clock
        local due = t_wall0 + math.floor((tonumber(self.series[1].ts[i]) - ts0) / wf.feed.speed)
        self:_run_hooks("wait", wall, due) -- attach: serves its socket until the bar is due
        -- in slices of at most 0.25 s, so a SIGUSR1 halts now (a live session cancels at the
        -- broker now), not when the bar comes
        repeat
          local slept, _, code = wall:sleep_until(math.min(due, wall:now() + 250000))
          if not slept and code == "GT_EINTR" then error("interrupted", 0) end
          if C.gt_risk_kill_requested() ~= 0 then watch_kill(self) end
        until wall:now() >= due
      end
    end
  end
  local run_ok, run_err = pcall(function()
    if cycles(state.bar + 1, self.n - 1) then return end
    -- a poll feed: wait for the next completed bars, trade them, until stopped
    local polls = 0
    while self.feed and not (self.opts.max_polls and polls >= self.opts.max_polls) do
      if self.feed.clock:kind() ~= "sim" then -- attach and the like use the wait for the next poll
        local mc = clock_mod.monotonic()
        local due = mc:now() + math.max(0, self.feed:next_poll() - self.feed.clock:now())
        self:_run_hooks("wait", mc, due)
      end
      local waited, msg, code = self.feed:wait()
      if not waited then
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
        if cycles(first, self.n - 1) then return end
      end
    end
  end)
  if not run_ok then
    -- the cycle under way is not committed: its events are dropped, not written by finish as
    -- the end of the last commit (a live session's fills among them: journalled, they would
    -- count as applied when the session resumes, and the books would never get them)
    if self.cycle_mark then self.journal:discard(self.cycle_mark); self.cycle_mark = nil end
    if tostring(run_err):find("interrupted", 1, true) then
      debug.sethook()
      self.interrupted = true
      -- the books on disk are those of the last commit
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
    -- a session on a live feed never ends by itself: stopped, so the same command goes on
    local status = (self.interrupted or self.feed or self.bounded) and "stopped" or "finished"
    if self.interrupted then
      -- an interruption can land while the journal moves its buffer after a commit (the
      -- hook fires at any call); the books on disk are the last commit's either way, so a
      -- buffer it left inconsistent loses only the closing events, never the session
      local fok, ferr = pcall(function() self.journal:flush(); self.journal:finish(status) end)
      if not fok then
        summary.journal_error = tostring(ferr)
        io.stderr:write(("gtengine: %s: the closing events were not journalled (%s); the session resumes "
          .. "from its last committed cycle\n"):format(wf.name, (tostring(ferr):gsub("\n.*", ""))))
      end
    else
      self.journal:flush()
      self.journal:finish(status)
    end
  end
  if self.live then self.live:close() end
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
  if sm.live then
    add("broker", ("%s%s: %d orders sent, %d fills%s%s"):format(sm.live.broker, sm.live.dry_run and " (dry run)" or "",
      sm.live.sent, sm.live.fills, sm.live.would_send > 0 and (", %d would have been sent"):format(sm.live.would_send) or "",
      sm.live.killed and ", kill switch used" or ""))
  end
  if sm.bounded then add("stopped", "at the bound (--cycles / --until); the same command goes on") end
  if sm.tier then add("tier", sm.tier) end
  if sm.resumed_at then add("resumed", ("at cycle %d"):format(sm.resumed_at + 2)) end
  if sm.session then
    add("journal", ("session %d in %s (gtengine journal --db %s; gtengine status --db %s)"):format(sm.session,
      sm.db, sm.db, sm.db))
  end
  if sm.run_id then
    add("saved", ("run %d in %s (gtengine runs --id %d)"):format(sm.run_id, sm.db_path or "the database", sm.run_id))
  end
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
