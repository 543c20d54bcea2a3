-- gt.backtest: runs a strategy over history on the C engine (engine/bt.c).
--   local r = gt.backtest.run("sma_cross", series, {capital = 10000, fill = "next_open"})
--   print(r.stats.sharpe); r:report("out.html")
-- Two paths, one ledger: mode = "vector" calls the strategy's signals() once and runs the
-- whole loop in C; mode = "event" calls on_bar(ctx, i) per bar from Lua, with matching and
-- accounting in C through the FFI. The same strategy gives the same trades either way.
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C
local timeframe = require "gt.timeframe"
local gtseries = require "gt.series"

local M = {}

M.DEFAULTS = {
  capital = 10000,      -- starting cash
  size = 0.95,          -- fraction of equity an entry uses (1 = all-in whole units)
  commission = 0.001,   -- fraction of notional (commission_kind "pct"), per unit, or per order
  commission_kind = "pct",
  commission_min = 0,
  slippage_bps = 5,     -- market and stop fills
  spread_bps = 0,       -- full bid/ask spread; market and stop fills pay half
  volume_cap = 0,       -- largest fraction of a bar's volume one order may take (0 = off)
  fill = "next_open",   -- or "close" (the seed's rule: fill at the deciding bar's close)
  fractional = false,   -- whole units by default
  short = true,         -- strategies may open shorts (each strategy decides whether it does)
  leverage = 1,         -- no margin by default
  risk_free = 0.0,      -- annual, for Sharpe and Sortino
  mode = "vector",      -- or "event"
  rebalance = false,    -- vector path: trade only when direction changes
  close_at_end = true,  -- close open positions at the last bar's close
}

local comm_kinds = { pct = C.GT_COMM_PCT, per_share = C.GT_COMM_PER_SHARE, fixed = C.GT_COMM_FIXED }

local function merge(a, b)
  local t = {}
  for k, v in pairs(a or {}) do t[k] = v end
  for k, v in pairs(b or {}) do t[k] = v end
  return t
end

local function config(o)
  local kind = comm_kinds[o.commission_kind]
  if not kind then error("backtest: commission_kind is pct, per_share or fixed", 3) end
  if o.fill ~= "next_open" and o.fill ~= "close" then error("backtest: fill is next_open or close", 3) end
  local cfg = ffi.new("gt_bt_config")
  cfg.capital, cfg.commission, cfg.commission_min = o.capital, o.commission, o.commission_min
  cfg.slippage_bps, cfg.spread_bps, cfg.volume_cap = o.slippage_bps, o.spread_bps, o.volume_cap
  cfg.leverage = o.leverage
  cfg.fill_mode = o.fill == "close" and C.GT_FILL_CLOSE or C.GT_FILL_NEXT_OPEN
  cfg.comm_kind = kind
  cfg.fractional = o.fractional and 1 or 0
  cfg.allow_short = o.short and 1 or 0
  return cfg
end

-- The first bar at which every indicator array in ind is defined (not NaN).
local function warmup(ind, n)
  local w = 0
  local function scan(a)
    if type(a) == "cdata" then
      local i = 0
      while i < n and a[i] ~= a[i] do i = i + 1 end
      if i > w then w = i end
    elseif type(a) == "table" then
      for _, v in pairs(a) do scan(v) end
    end
  end
  scan(ind)
  return w
end
M.warmup = warmup

-- Strategy data: the series itself for one symbol (d.close[i], d.n, ...).
local function prepare(strategy, data, p)
  local ind = strategy.indicators and strategy.indicators(data, p) or {}
  return ind
end

---------------------------------------------------------------------------------------
-- The event path's context. Fields (position, cash, equity) are read live from C.
---------------------------------------------------------------------------------------
local Ctx = {}
local ctx_methods = {}

local order_types = { market = C.GT_ORDER_MARKET, limit = C.GT_ORDER_LIMIT, stop = C.GT_ORDER_STOP,
  stop_limit = C.GT_ORDER_STOP_LIMIT, trailing_stop = C.GT_ORDER_TRAILING_STOP }
M.ORDER_TYPES = order_types

function ctx_methods:buy(fraction) return C.gt_bt_target(self._bt, self.symbol, fraction or self.size, 0) end
function ctx_methods:short(fraction) return C.gt_bt_target(self._bt, self.symbol, -(fraction or self.size), 0) end
function ctx_methods:close() return C.gt_bt_target(self._bt, self.symbol, 0, 0) end
function ctx_methods:sell()
  if self._qty[self.symbol * self._stride] > 0 then return C.gt_bt_target(self._bt, self.symbol, 0, 0) end
  return 0
end
function ctx_methods:cover()
  if self._qty[self.symbol * self._stride] < 0 then return C.gt_bt_target(self._bt, self.symbol, 0, 0) end
  return 0
end
-- A rule's target (+1 long, -1 short, 0 flat), scaled by the run's size: acts only when
-- the direction changes, exactly as the vectorised path does with the same target.
function ctx_methods:signal(t)
  return C.gt_bt_target(self._bt, self.symbol, t * self.size, 0)
end
-- Trade to exactly fraction of equity (rebalancing every call).
function ctx_methods:target_percent(fraction)
  return C.gt_bt_target(self._bt, self.symbol, fraction, 1)
end

-- ctx:order{side = "buy"|"sell", type = "market"|"limit"|"stop"|"stop_limit"|"trailing_stop",
--   qty =, limit =, stop =, trail =, trail_pct =, tif = "gtc"|"day", take_profit =, stop_loss =}
-- Returns the order id. With take_profit/stop_loss it is a bracket.
function ctx_methods:order(o)
  local req = self._req
  req.symbol = o.symbol or self.symbol
  if o.side == "buy" then req.side = C.GT_BUY
  elseif o.side == "sell" then req.side = C.GT_SELL
  else error("order: side is 'buy' or 'sell'", 2) end
  local ty = order_types[o.type or "market"]
  if not ty then error("order: unknown type '" .. tostring(o.type) .. "'", 2) end
  req.type = ty
  req.qty = o.qty or error("order: qty is required", 2)
  req.limit = o.limit or 0 / 0
  req.stop = o.stop or 0 / 0
  req.trail = o.trail or 0 / 0
  req.trail_pct = o.trail_pct or 0 / 0
  req.tif = (o.tif == "day") and C.GT_TIF_DAY or C.GT_TIF_GTC
  local id
  if o.take_profit or o.stop_loss then
    id = C.gt_bt_bracket(self._bt, req, o.take_profit or 0 / 0, o.stop_loss or 0 / 0)
  else
    id = C.gt_bt_submit(self._bt, req)
  end
  if id < 0 then error(gtffi.errmsg(tonumber(id)), 2) end
  return tonumber(id)
end

function ctx_methods:cancel(id)
  local rc = C.gt_bt_cancel(self._bt, id)
  if rc < 0 then return nil, gtffi.errmsg(rc) end
  return true
end

function ctx_methods:order_status(id)
  local o = C.gt_bt_order(self._bt, id)
  if o == nil then return nil end
  return ({ [0] = "pending", "open", "partial", "filled", "canceled", "rejected", "expired" })[o.status]
end

Ctx.__index = function(self, k)
  if k == "position" then return self._qty[self.symbol * self._stride] end
  if k == "cash" then return C.gt_bt_cash(self._bt) end
  if k == "equity" then return C.gt_bt_equity_now(self._bt) end
  local m = ctx_methods[k]
  if m then return m end
  error("ctx has no field '" .. tostring(k) .. "'", 2)
end

-- A look-ahead-proof view: reading bar j > the current bar raises.
local view_mt = {
  __index = function(v, i)
    if i > v.limit[0] then
      error(("look-ahead: bar %d read while deciding at bar %d"):format(i, tonumber(v.limit[0])), 2)
    end
    if i < 0 then error(("bar %d is before the first bar"):format(i), 2) end
    return v.p[i]
  end,
  __len = function(v) return tonumber(v.limit[0]) + 1 end,
}
local View = ffi.metatype("gt_view", view_mt)

local function make_views(tbl, n, limit, seen)
  seen = seen or {}
  local out = {}
  for k, v in pairs(tbl) do
    if type(v) == "cdata" and ffi.istype("double *", v) or (type(v) == "cdata" and tostring(ffi.typeof(v)):find("double %[")) then
      out[k] = View(v, n, limit)
    elseif gtseries.is_array(v) or ffi.istype(gtseries.Col, v) then
      local p, len = gtseries.raw(v)
      if len < n then -- the view checks only the look-ahead limit, which goes to n - 1
        error(("backtest: %s has %d values for %d bars"):format(tostring(k), len, n), 4)
      end
      out[k] = View(p, n, limit) -- the run holds the column or array
    elseif type(v) == "table" and not seen[v] then
      seen[v] = true
      out[k] = make_views(v, n, limit, seen)
    else
      out[k] = v
    end
  end
  return out
end

---------------------------------------------------------------------------------------
-- Results
---------------------------------------------------------------------------------------
local Result = {}

-- trades and orders become Lua tables on first use only: a million-bar run with tens of
-- thousands of trades should not pay for tables nobody reads.
local lazy = {}

function lazy.trades(res)
  local tp, trades = res._trades, {}
  for i = 0, res.m - 1 do
    local t = tp[i]
    local exit_bar = tonumber(t.exit_bar)
    local entry_bar = tonumber(t.entry_bar)
    trades[i + 1] = {
      entry_time = tonumber(t.entry_ts), entry_bar = entry_bar, entry_price = t.entry_price,
      exit_time = exit_bar >= 0 and tonumber(t.exit_ts) or nil, exit_bar = exit_bar,
      exit_price = t.exit_price, size = t.size, pnl = t.pnl, return_pct = t.return_pct, fees = t.fees,
      duration = exit_bar >= 0 and exit_bar - entry_bar or nil,
      symbol = res.symbols[tonumber(t.symbol) + 1],
    }
  end
  return trades
end

local STATUSES = { [0] = "pending", "open", "partial", "filled", "canceled", "rejected", "expired" }
local TYPES = { [0] = "market", "limit", "stop", "stop_limit", "trailing_stop" }
local function nan_nil(v) if v == v then return v end end

function lazy.orders(res)
  local op, orders = res._orders, {}
  for i = 0, res._norders - 1 do
    local x = op[i]
    orders[i + 1] = { id = tonumber(x.id), bar = tonumber(x.created_bar), side = x.side > 0 and "buy" or "sell",
      type = TYPES[x.type], qty = x.qty, filled = x.filled, avg_price = nan_nil(x.avg_price),
      limit = nan_nil(x.limit), stop = nan_nil(x.stop), status = STATUSES[x.status], fees = x.fees,
      reject = x.reject ~= 0 and ffi.string(C.gt_bt_reject_text(x.reject)) or nil }
  end
  return orders
end

Result.__index = function(res, k)
  local f = lazy[k]
  if f then
    local v = f(res)
    rawset(res, k, v)
    return v
  end
  return Result[k]
end

local function collect(bt, list, strategy, p, o, w)
  local series, k = list[1], #list
  local n = series.n
  local names = {}
  for j = 1, k do names[j] = list[j].symbol or ("#" .. j) end
  local res = setmetatable({ _bt = bt, strategy = strategy.name, params = p, options = o,
    symbol = table.concat(names, ","), symbols = names, timeframe = series.timeframe, n = n, warmup = w,
    ts = series.ts, close = series.close, series = series, list = list }, Result)
  -- copied into checked arrays: r.equity[i] outside 0..n-1 raises instead of reading
  -- past the engine's buffer
  local eq = ffi.new("const double *[1]")
  C.gt_bt_equity(bt, eq)
  res.equity = gtseries.array(n)
  ffi.copy(res.equity.p, eq[0], n * 8)
  local im = ffi.new("const uint8_t *[1]")
  C.gt_bt_in_market(bt, im)
  res.in_market = gtseries.bytes(n)
  ffi.copy(res.in_market.p, im[0], n)
  local tp = ffi.new("const gt_trade *[1]")
  local m = tonumber(C.gt_bt_trades(bt, tp))
  res._trades, res.m = tp[0], m
  local op = ffi.new("const gt_order *[1]")
  res._norders = tonumber(C.gt_bt_orders(bt, op))
  res._orders = op[0]
  -- drawdown and the buy-and-hold benchmark equity
  local dd = gtseries.array(n)
  C.gt_drawdown(res.equity.p, n, dd.p)
  res.drawdown = dd
  -- buy and hold of the same symbols in equal parts: the benchmark for the report and for
  -- beta, alpha and the buy-and-hold return
  local bh = gtseries.array(n)
  local bench = series.close
  if k == 1 then
    local c0 = series.close[0]
    for i = 0, n - 1 do bh[i] = o.capital * series.close[i] / c0 end
  else
    for i = 0, n - 1 do
      local v = 0
      for j = 1, k do v = v + list[j].close[i] / list[j].close[0] end
      bh[i] = o.capital * v / k
    end
    bench = bh
  end
  res.benchmark_equity = bh
  local ppy = series.timeframe and timeframe.parse(series.timeframe) and timeframe.periods_per_year(series.timeframe) or 252
  local metrics = require "gt.metrics"
  local stats, err = metrics.compute {
    equity = res.equity, ts = series.ts, n = n, trades = tp[0], m = m,
    benchmark = bench, in_market = res.in_market, periods_per_year = ppy, risk_free = o.risk_free,
  }
  if not stats then error("backtest: metrics: " .. tostring(err), 3) end
  res.stats, res.stats_fields = stats, metrics.FIELDS
  return res
end

-- Saves the run (parameters, options, data range and hash, stats, trades, equity) to the
-- SQLite store; returns the run id or nil, err. Same inputs, same stored bytes: the JSON
-- has sorted keys and the numbers print exactly.
function Result:save(db_path)
  local json = require "gt.json"
  local store = require "gt.store"
  local db, err = store.open(db_path or os.getenv("GT_DB") or "gt.db")
  if not db then return nil, err end
  local hash, hashes = ffi.new("char[17]"), {}
  for j, s in ipairs(self.list) do
    C.gt_series_hash(s._c, hash)
    hashes[j] = ffi.string(hash)
  end
  local opts = {}
  for k, v in pairs(self.options) do opts[k] = v end
  local rec = ffi.new("gt_run_record")
  local keep = { self.strategy, self.symbol or "", self.timeframe or "", json.encode(self.params),
    json.encode(opts), json.encode(self.stats), table.concat(hashes, ",") }
  rec.strategy, rec.symbol, rec.timeframe = keep[1], keep[2], keep[3]
  rec.params_json, rec.options_json, rec.stats_json, rec.data_hash = keep[4], keep[5], keep[6], keep[7]
  rec.first_ts, rec.last_ts, rec.bars = self.ts[0], self.ts[self.n - 1], self.n
  local id, serr = db:save_run(rec, self._trades, self.m, self.equity, self.n)
  db:close()
  if not id then return nil, serr end
  self.run_id = id
  return id
end

function Result:report(path)
  return require("gt.report").write(self, path)
end

-- The stats and trades as plain data (for --json and the run store).
-- Times become ISO-8601 text (dates alone for daily and longer bars).
function Result:summary()
  local gtime = require "gt.time"
  local stats = {}
  for k, v in pairs(self.stats) do stats[k] = v end
  local function iso(us)
    if not us then return nil end
    local s = gtime.format(us, false)
    return (s:gsub("T00:00:00Z$", ""))
  end
  local trades = {}
  for i, t in ipairs(self.trades) do
    local c = {}
    for k, v in pairs(t) do c[k] = v end
    c.entry_time, c.exit_time = iso(t.entry_time), iso(t.exit_time)
    trades[i] = c
  end
  return { strategy = self.strategy, params = self.params, symbol = self.symbol,
    timeframe = self.timeframe, bars = self.n, first = iso(tonumber(self.ts[0])),
    last = iso(tonumber(self.ts[self.n - 1])), options = self.options, stats = stats, trades = trades }
end

---------------------------------------------------------------------------------------
-- Running
---------------------------------------------------------------------------------------

-- run(strategy, series, opts) -> result, or nil and a message when the data is too short.
-- strategy: a table or a name for gt.strategy.load; opts: M.DEFAULTS keys plus
-- params = {...} (overrides the strategy's). data: a series or a list of aligned series.
function M.run(strategy, data, opts)
  if type(strategy) == "string" then strategy = require("gt.strategy").load(strategy) end
  if type(strategy) ~= "table" then error("backtest.run: strategy must be a name or a table", 2) end
  -- one series, or a list of series on one clock (a portfolio)
  local list = (type(data) == "table" and data._c) and { data } or data
  if type(list) ~= "table" or #list < 1 then error("backtest.run: data must be a gt series or a list of them", 2) end
  for j, s in ipairs(list) do
    if type(s) ~= "table" or not s._c then error(("backtest.run: data[%d] is not a gt series"):format(j), 2) end
  end
  local series, k = list[1], #list
  -- too little data is the data's problem, not a programming error: nil, message
  if series.n < 2 then return nil, ("backtest: need at least 2 bars, the data has %d"):format(series.n) end
  for key in pairs(opts or {}) do
    if M.DEFAULTS[key] == nil and key ~= "params" then
      error(("backtest.run: unknown option '%s'"):format(tostring(key)), 2)
    end
  end
  local o = merge(M.DEFAULTS, opts)
  o.params = nil
  local p = merge(strategy.params, opts and opts.params)
  if not (o.size > 0 and o.size <= (o.leverage or 1)) then error("backtest: size must be in (0, leverage]", 2) end
  local cfg = config(o)
  local arr = ffi.new("const gt_series *[?]", k)
  for j = 1, k do arr[j - 1] = list[j]._c end
  local bt = C.gt_bt_new(cfg, arr, k)
  if bt == nil then error(gtffi.errmsg(), 2) end
  bt = ffi.gc(bt, C.gt_bt_free)
  local n = series.n
  local clock = os.clock
  local timings = {}
  local t0 = clock()
  local inds, w = {}, strategy.warmup and strategy.warmup(p) or 0
  for j = 1, k do
    inds[j] = prepare(strategy, list[j], p)
    w = math.max(w, warmup(inds[j], n))
  end
  timings.indicators = clock() - t0
  if w >= n then
    return nil, ("backtest: %s's indicators are not defined on any of the %d bars; it needs a longer history")
      :format(strategy.name or "the strategy", n)
  end
  -- with several symbols each entry gets an equal share of the size
  local size = o.size / k
  local mode = o.mode
  if mode == "vector" and not strategy.signals then mode = "event" end
  if mode == "event" and not strategy.on_bar then mode = "vector" end
  o.mode = mode
  t0 = clock()
  if mode == "vector" then
    local tp = ffi.new("const double *[?]", k)
    local keep = {}
    for j = 1, k do
      local sig = strategy.signals(list[j], p, inds[j])
      local target = sig and sig.target
      if type(target) ~= "cdata" then error(strategy.name .. ": signals() must return {target = <double array>}", 2) end
      local tptr, tlen = gtseries.raw(target)
      if tlen and tlen < n then
        error(("%s: signals() returned %d targets for %d bars"):format(strategy.name, tlen, n), 2)
      end
      keep[j], tp[j - 1] = target, tptr
    end
    timings.signals = clock() - t0
    t0 = clock()
    local rc = C.gt_bt_run_targets(bt, tp, size, w, n, o.rebalance and 1 or 0)
    if rc < 0 then error(gtffi.errmsg(rc), 2) end
  elseif mode == "event" then
    local limit = ffi.new("int64_t[1]", -1)
    local qty, stride, req = C.gt_bt_qty(bt), tonumber(C.gt_bt_qty_stride()), ffi.new("gt_order")
    local ctxs = {}
    for j = 1, k do
      local s = list[j]
      ctxs[j] = setmetatable({
        _bt = bt, _qty = qty, _stride = stride, _req = req, symbol = j - 1, name = s.symbol,
        size = size, params = p, n = n,
        data = make_views({ open = s.open, high = s.high, low = s.low, close = s.close, volume = s.volume }, n, limit),
        ind = make_views(inds[j], n, limit),
        ts = s.ts,
      }, Ctx)
      if strategy.init then strategy.init(ctxs[j], p) end
    end
    local on_bar = strategy.on_bar
    local begin_bar, end_bar = C.gt_bt_begin_bar, C.gt_bt_end_bar
    if k == 1 then
      local ctx = ctxs[1]
      for i = 0, n - 1 do
        limit[0] = i
        begin_bar(bt, i)
        if i >= w then on_bar(ctx, i) end
        end_bar(bt, i)
      end
    else
      for i = 0, n - 1 do
        limit[0] = i
        begin_bar(bt, i)
        if i >= w then for j = 1, k do on_bar(ctxs[j], i) end end
        end_bar(bt, i)
      end
    end
  else
    error("backtest: mode is 'vector' or 'event'", 2)
  end
  timings.loop = clock() - t0
  if o.close_at_end then C.gt_bt_finish(bt) end
  t0 = clock()
  local res = collect(bt, list, strategy, p, o, w)
  timings.results = clock() - t0
  res.timings = timings -- CPU seconds per phase
  return res
end

-- Look-ahead check for the vectorised path: signals recomputed on data cut at sampled
-- bars must equal the full run's signals up to the cut. A difference means a decision
-- at bar j changed when only bars after the cut changed (were removed): the strategy
-- read the future. Returns a list of {bar=, cut=, full=, truncated=} (empty when clean)
-- and the number of cuts tried.
function M.check_lookahead(strategy, series, opts)
  if type(strategy) == "string" then strategy = require("gt.strategy").load(strategy) end
  if not strategy.signals then return {}, 0 end
  local p = merge(strategy.params, opts and opts.params)
  local n = series.n
  local function targets(s)
    local ind = prepare(strategy, s, p)
    local sig = strategy.signals(s, p, ind)
    return sig.target
  end
  local full = targets(series)
  local samples = (opts and opts.samples) or 40
  local violations, cuts = {}, 0
  local seen = {}
  for k = 1, samples do
    -- evenly spread cuts, starting past a minimal history
    local cut = math.floor(n * k / (samples + 1))
    if cut >= 2 and cut < n - 1 and not seen[cut] then
      seen[cut] = true
      cuts = cuts + 1
      local part = series:slice(0, cut + 1)
      local t = targets(part)
      for j = 0, cut do
        local a, b = full[j], t[j]
        if not (a == b or (a ~= a and b ~= b)) then
          violations[#violations + 1] = { bar = j, cut = cut, full = a, truncated = b }
        end
      end
    end
  end
  table.sort(violations, function(x, y) return x.bar < y.bar or (x.bar == y.bar and x.cut < y.cut) end)
  return violations, cuts
end

return M
