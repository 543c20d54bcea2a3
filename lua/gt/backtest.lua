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
  close_at_end = "close", -- close open positions at the last bar's "close", its "open", or "none"
  size_at = "signal",   -- size targets at the deciding close, or at the "fill" (backtesting.py)
  stop_pct = 0,         -- > 0: every entry gets a stop this fraction away from its fill
  take_pct = 0,         -- > 0: and a take-profit limit this fraction away
  start = nil,          -- first bar to trade (epoch us or "YYYY-MM-DD"); earlier bars warm up
  sizing = nil,         -- a gt.sizing method ("kelly", "intelligent", ...) or {method =, ...}:
                        -- targets give the direction, sizing the quantity
  min_trades = 20,      -- closed trades before Kelly statistics apply (sizing)
  risk = nil,           -- a gt.risk preset ("default", "paper", "live"), limits, or a gate
  tiers = nil,          -- true (or a gt.portfolio config): the account-size tier of the starting
                        -- capital sets the size, the stop, the daily loss limit, max positions
}

-- The tier rules of gt.portfolio applied to a run's options (opts as given, o merged): the
-- tier of the starting capital sets each entry's size (1 / target positions, at most the
-- tier table's max position), its stop, and the gate's daily loss limit and max positions.
local function apply_tiers(o, opts, strategy)
  local pf = require "gt.portfolio"
  local cfg = type(o.tiers) == "table" and o.tiers or nil
  local name, t = pf.tier(o.capital, cfg and { config = cfg } or nil)
  if not name then error("backtest.run: tiers: " .. tostring(t), 3) end
  local conf = cfg or pf.default_config()
  if not (opts and opts.size) then
    o.size = math.min(1 / t.positions.target, conf.max_position_pct / 100)
  end
  if not (opts and opts.stop_pct) or opts.stop_pct == 0 then o.stop_pct = t.stop_loss_pct / 100 end
  local limits = { max_daily_loss = t.daily_loss_limit_pct / 100, max_positions = t.positions.max }
  if o.risk == nil or o.risk == false or o.risk == "off" then
    limits.preset = "off"
    o.risk = limits
  elseif type(o.risk) == "string" then
    limits.preset = o.risk
    o.risk = limits
  end -- a table of limits or a gate given by the caller is left as it is
  local allowed = false
  for _, sname in ipairs(t.strategies) do if sname == strategy.name then allowed = true end end
  return { name = name, size = o.size, stop_pct = o.stop_pct, max_daily_loss = limits.max_daily_loss,
    max_positions = limits.max_positions, strategy_allowed = allowed, strategies = t.strategies }
end

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
  if o.size_at ~= "signal" and o.size_at ~= "fill" then error("backtest: size_at is signal or fill", 3) end
  local cfg = ffi.new("gt_bt_config")
  cfg.capital, cfg.commission, cfg.commission_min = o.capital, o.commission, o.commission_min
  cfg.slippage_bps, cfg.spread_bps, cfg.volume_cap = o.slippage_bps, o.spread_bps, o.volume_cap
  cfg.leverage = o.leverage
  cfg.fill_mode = o.fill == "close" and C.GT_FILL_CLOSE or C.GT_FILL_NEXT_OPEN
  cfg.comm_kind = kind
  cfg.fractional = o.fractional and 1 or 0
  cfg.allow_short = o.short and 1 or 0
  cfg.size_at = o.size_at == "fill" and C.GT_SIZE_AT_FILL or C.GT_SIZE_AT_SIGNAL
  cfg.end_price = o.close_at_end == "open" and C.GT_END_OPEN or C.GT_END_CLOSE
  cfg.stop_pct, cfg.take_pct = o.stop_pct, o.take_pct
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

-- An array a strategy reads by bar: a column, an indicator output, any double array.
local function is_array(v)
  if type(v) ~= "cdata" then return false end
  if gtseries.is_array(v) or ffi.istype(gtseries.Col, v) then return true end
  if ffi.istype("double *", v) or ffi.istype("const double *", v) then return true end
  return tostring(ffi.typeof(v)):find("double %[") ~= nil
end
M.is_array = is_array

---------------------------------------------------------------------------------------
-- Windows: a look-ahead-proof view of an array. Reading bar j > the current bar raises,
-- naming what was read; the event path and the look-ahead check read through them.
---------------------------------------------------------------------------------------
-- Names of views for messages, in the Lua registry: the metatype outlives a reload of
-- this module (busted insulates spec files), and its handler must find the same table.
local registry = debug.getregistry()
local view_names = registry.gt_view_names or setmetatable({}, { __mode = "k" })
registry.gt_view_names = view_names
local function view_error(v, i)
  local name = view_names[v] or "an array"
  if type(i) ~= "number" then
    error(("%s[%s]: bars are indexed by number"):format(name, tostring(i)), 3)
  end
  if i < 0 then error(("%s[%d]: bar %d is before the first bar"):format(name, i, i), 3) end
  error(("look-ahead: %s[%d] read while deciding at bar %d"):format(name, i, tonumber(v.limit[0])), 3)
end
local view_mt = {
  __index = function(v, i)
    if i >= 0 and i <= v.limit[0] then return v.p[i] end
    view_error(v, i)
  end,
  __newindex = function(v) error((view_names[v] or "a window") .. " is read-only in a strategy", 2) end,
  __len = function(v) return tonumber(v.limit[0]) + 1 end,
}
local View = ffi.metatype("gt_view", view_mt)

-- Views of every array in tbl (recursively), named prefix.key for messages.
local function make_views(tbl, n, limit, prefix, seen)
  seen = seen or {}
  local out = {}
  for k, v in pairs(tbl) do
    local name = prefix .. "." .. tostring(k)
    if is_array(v) then
      local p, len = gtseries.raw(v)
      if len and len < n then -- a window checks only the look-ahead limit, which goes to n - 1
        error(("backtest: %s has %d values for %d bars"):format(name, len, n), 4)
      end
      local w = View(p, n, limit)
      view_names[w] = name
      out[k] = w
    elseif type(v) == "table" and not seen[v] then
      seen[v] = true
      out[k] = make_views(v, n, limit, name, seen)
    else
      out[k] = v
    end
  end
  return out
end

-- The data a rule or on_bar sees through windows: columns, d.n (bars so far), symbol.
local function data_views(s, n, limit)
  local cols = make_views({ open = s.open, high = s.high, low = s.low, close = s.close, volume = s.volume },
    n, limit, "d")
  cols.ts = s.ts
  return require("gt.strategy").rule_data(cols, function() return tonumber(limit[0]) end,
    { symbol = s.symbol, timeframe = s.timeframe })
end
-- The orchestrator's signal step decides through the same windows.
M.views = { data = data_views, make = make_views }

---------------------------------------------------------------------------------------
-- The event path's context. Fields (position, cash, equity) are read live from C.
---------------------------------------------------------------------------------------
local Ctx = {}
local ctx_methods = {}

local order_types = { market = C.GT_ORDER_MARKET, limit = C.GT_ORDER_LIMIT, stop = C.GT_ORDER_STOP,
  stop_limit = C.GT_ORDER_STOP_LIMIT, trailing_stop = C.GT_ORDER_TRAILING_STOP }
M.ORDER_TYPES = order_types

local NAN = 0 / 0
local MAX_QTY = 1e15

local function target(self, fraction, rebalance, stop, take)
  local id = C.gt_bt_target_exits(self._bt, self.symbol, fraction, rebalance, stop or NAN, take or NAN)
  if id < 0 then error(gtffi.errmsg(tonumber(id)), 3) end
  return tonumber(id)
end

local function positive(what, name, v)
  if v ~= nil and not (type(v) == "number" and v > 0 and v < math.huge) then
    error(("ctx:%s: %s must be a positive finite number, got %s"):format(what, name, tostring(v)), 4)
  end
end

-- Units from an amount table: {qty = units} | {fraction = of equity} | {value = cash}, at
-- the deciding bar's close; nil when the table names none (then the run's size applies).
local function amount(self, a, what)
  if a == nil then return nil end
  if type(a) ~= "table" then
    error(("ctx:%s takes a table: {qty = units}, {fraction = of equity} or {value = cash}; "
      .. "a bare %s is ambiguous (shares? a fraction?)"):format(what, type(a)), 3)
  end
  for k in pairs(a) do
    if k ~= "qty" and k ~= "fraction" and k ~= "value" and k ~= "stop" and k ~= "take" and k ~= "limit" then
      error(("ctx:%s: unknown field '%s' (it takes qty, fraction, value, limit, stop, take)"):format(what, tostring(k)), 3)
    end
  end
  positive(what, "stop", a.stop); positive(what, "take", a.take); positive(what, "limit", a.limit)
  local given = (a.qty and 1 or 0) + (a.fraction and 1 or 0) + (a.value and 1 or 0)
  if given == 0 then return nil end
  if given > 1 then error(("ctx:%s: give one of qty, fraction or value"):format(what), 3) end
  local q
  local price = self._close[tonumber(self._limit[0])]
  if a.qty then positive(what, "qty", a.qty); q = a.qty
  elseif a.fraction then positive(what, "fraction", a.fraction); q = a.fraction * C.gt_bt_equity_now(self._bt) / price
  else positive(what, "value", a.value); q = a.value / price end
  if not (q < MAX_QTY) then error(("ctx:%s: %g units is beyond any position (max %g)"):format(what, q, MAX_QTY), 3) end
  if not self._fractional then q = math.floor(q + 1e-9) end
  return q
end

-- An order of q units on side, with optional limit and bracket legs; nil when q is 0.
local function place(self, side, q, a)
  if q <= 0 then return nil end
  return self:order { side = side, qty = q, type = a.limit and "limit" or "market", limit = a.limit,
    stop_loss = a.stop, take_profit = a.take }
end

-- ctx:buy() goes long with the run's size (reversing a short); ctx:buy{qty = 10},
-- {fraction = 0.5} or {value = 5000} buys that much more; stop/take add exits, limit a limit.
function ctx_methods:buy(a)
  local q = amount(self, a, "buy")
  if q then return place(self, "buy", q, a) end
  return target(self, self.size, 0, a and a.stop, a and a.take)
end
-- ctx:short() goes short with the run's size; with an amount it sells that much more.
function ctx_methods:short(a)
  local q = amount(self, a, "short")
  if q then return place(self, "sell", q, a) end
  return target(self, -self.size, 0, a and a.stop, a and a.take)
end
-- ctx:sell() closes a long; ctx:sell{qty = 5} sells 5 units (of the long, or short when allowed).
function ctx_methods:sell(a)
  local q = amount(self, a, "sell")
  if q then return place(self, "sell", q, a) end
  if self._qty[self.symbol * self._stride] > 0 then return target(self, 0, 0) end
  return 0
end
-- ctx:cover() closes a short; ctx:cover{qty = 5} buys back 5 units.
function ctx_methods:cover(a)
  local q = amount(self, a, "cover")
  if q then return place(self, "buy", q, a) end
  if self._qty[self.symbol * self._stride] < 0 then return target(self, 0, 0) end
  return 0
end
function ctx_methods:close() return target(self, 0, 0) end
-- A rule's target (+1 long, -1 short, 0 flat), scaled by the run's size, with optional exit
-- prices: acts only when the direction changes, exactly as the vectorised path does.
function ctx_methods:signal(t, stop, take)
  return target(self, t * self.size, 0, stop, take)
end
-- Trade to exactly fraction of equity (rebalancing every call).
function ctx_methods:target_percent(fraction)
  if type(fraction) ~= "number" then error("ctx:target_percent takes a fraction of equity", 2) end
  return target(self, fraction, 1)
end

-- ctx:order{side = "buy"|"sell", type = "market"|"limit"|"stop"|"stop_limit"|"trailing_stop",
--   qty =, limit =, stop =, trail =, trail_pct =, tif = "gtc"|"day", take_profit =, stop_loss =}
-- Returns the order id. With take_profit/stop_loss it is a bracket.
function ctx_methods:order(o)
  if type(o) ~= "table" then error("ctx:order takes a table {side =, qty =, type =, ...}", 2) end
  local req = self._req
  req.symbol = o.symbol or self.symbol
  if o.side == "buy" then req.side = C.GT_BUY
  elseif o.side == "sell" then req.side = C.GT_SELL
  else error("order: side is 'buy' or 'sell', got " .. tostring(o.side), 2) end
  local ty = order_types[o.type or "market"]
  if not ty then error("order: unknown type '" .. tostring(o.type) .. "'", 2) end
  req.type = ty
  local qty = o.qty
  if not (type(qty) == "number" and qty > 0 and qty < MAX_QTY) then
    error(("order: qty must be a positive number below %g, got %s"):format(MAX_QTY, tostring(qty)), 2)
  end
  for _, k in ipairs { "limit", "stop", "trail", "trail_pct", "take_profit", "stop_loss" } do
    local v = o[k]
    if v ~= nil and not (type(v) == "number" and v > 0 and v < math.huge) then
      error(("order: %s must be a positive finite price, got %s"):format(k, tostring(v)), 2)
    end
  end
  req.qty = qty
  req.limit = o.limit or NAN
  req.stop = o.stop or NAN
  req.trail = o.trail or NAN
  req.trail_pct = o.trail_pct or NAN
  req.tif = (o.tif == "day") and C.GT_TIF_DAY or C.GT_TIF_GTC
  local id
  if o.take_profit or o.stop_loss then
    id = C.gt_bt_bracket(self._bt, req, o.take_profit or NAN, o.stop_loss or NAN)
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

-- ctx.position: the open position, read live: size (signed units), avg_price, entry_bar
-- (nil when flat), unrealized (at the deciding close), realized and fees (whole run).
local POSITION_FIELDS = { size = true, avg_price = true, entry_bar = true, unrealized = true,
  realized = true, fees = true }
local function position_proxy(bt, symbol)
  local buf = ffi.new("gt_position")
  return setmetatable({}, {
    __index = function(_, k)
      if not POSITION_FIELDS[k] then
        error(("ctx.position has no field '%s' (it has: avg_price, entry_bar, fees, realized, size, unrealized)")
          :format(tostring(k)), 2)
      end
      C.gt_bt_position(bt, symbol, buf)
      if k == "size" then return buf.qty end
      if k == "entry_bar" then local e = tonumber(buf.entry_bar); return e >= 0 and e or nil end
      if k == "avg_price" then return buf.qty ~= 0 and buf.avg_price or nil end
      return buf[k]
    end,
    __newindex = function() error("ctx.position is read-only: trade with ctx:buy/sell/order", 2) end,
    __tostring = function()
      C.gt_bt_position(bt, symbol, buf)
      if buf.qty == 0 then return "position: flat" end
      return ("position: %g units at %g since bar %d, unrealized %g"):format(buf.qty, buf.avg_price,
        tonumber(buf.entry_bar), buf.unrealized)
    end,
  })
end

local CTX_FIELDS = "cancel, cash, close, cover, data, equity, ind, name, order, order_status, params, " ..
  "position, sell, short, signal, size, state, symbol, target_percent, ts, buy"
Ctx.__index = function(self, k)
  if k == "cash" then return C.gt_bt_cash(self._bt) end
  if k == "equity" then return C.gt_bt_equity_now(self._bt) end
  local m = ctx_methods[k]
  if m then return m end
  error(("ctx has no field '%s' (it has: %s)"):format(tostring(k), CTX_FIELDS), 2)
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
    orders[i + 1] = { id = tonumber(x.id), bar = tonumber(x.created_bar) - (res._off or 0), side = x.side > 0 and "buy" or "sell",
      type = TYPES[x.type], qty = x.qty, filled = x.filled, avg_price = nan_nil(x.avg_price),
      limit = nan_nil(x.limit), stop = nan_nil(x.stop), status = STATUSES[x.status], fees = x.fees,
      reject = x.reject ~= 0 and ffi.string(C.gt_bt_reject_text(x.reject)) or nil,
      risk_rule = x.reject == C.GT_REJECT_RISK and ffi.string(C.gt_risk_rule_name(x.risk_rule)) or nil,
      risk_reason = x.reject == C.GT_REJECT_RISK and res._risk_reasons and res._risk_reasons[tonumber(x.id)] or nil }
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

-- The results of a run over bars s0..n-1 of list (the bars before s0 only warmed up the
-- indicators): equity, trades and stats cover that window, with bars counted from s0.
-- The indicator lines a strategy declares for the price chart (strategy.plot: names of
-- arrays in its indicators table), per symbol, over the window from s0 (the arrays
-- themselves when the window is the whole run: no copy).
local function overlays(strategy, inds, n, s0)
  if type(strategy.plot) ~= "table" then return nil end
  local out = {}
  for j, ind in ipairs(inds) do
    local lines = {}
    for _, name in ipairs(strategy.plot) do
      local a = ind[name]
      if is_array(a) then
        local ptr, len = gtseries.raw(a)
        if s0 == 0 and len and len >= n then
          lines[#lines + 1] = { name = name, values = a }
        elseif not len or len >= n then -- one copy of the window, not a checked loop per value
          local v = gtseries.array(n - s0)
          ffi.copy(v.p, ffi.cast("const double *", ptr) + s0, (n - s0) * 8)
          lines[#lines + 1] = { name = name, values = v }
        end
      end
    end
    out[j] = lines
  end
  return out
end

-- Bars a year for annualising: from the series' timeframe, 252 without one.
local function periods_per_year(series)
  return series.timeframe and timeframe.parse(series.timeframe) and timeframe.periods_per_year(series.timeframe) or 252
end

local function collect(bt, list, strategy, p, o, w, s0, inds)
  s0 = s0 or 0
  local plot = inds and overlays(strategy, inds, list[1].n, s0)
  if s0 > 0 then
    local cut = {}
    for j, s in ipairs(list) do cut[j] = s:slice(s0) end
    list = cut
  end
  local series, k = list[1], #list
  local n = series.n
  local names = {}
  for j = 1, k do names[j] = list[j].symbol or ("#" .. j) end
  local res = setmetatable({ _bt = bt, strategy = strategy.name, params = p, options = o,
    symbol = table.concat(names, ","), symbols = names, timeframe = series.timeframe, n = n, warmup = w,
    ts = series.ts, close = series.close, series = series, list = list, _off = s0,
    warmup_bars = s0, overlays = plot }, Result)
  -- copied into checked arrays: r.equity[i] outside 0..n-1 raises instead of reading past
  -- the engine's buffer (and the window from s0 starts at index 0)
  local eq = ffi.new("const double *[1]")
  C.gt_bt_equity(bt, eq)
  res.equity = gtseries.array(n)
  ffi.copy(res.equity.p, eq[0] + s0, n * 8)
  local im = ffi.new("const uint8_t *[1]")
  C.gt_bt_in_market(bt, im)
  res.in_market = gtseries.bytes(n)
  ffi.copy(res.in_market.p, im[0] + s0, n)
  local tp = ffi.new("const gt_trade *[1]")
  local m = tonumber(C.gt_bt_trades(bt, tp))
  if s0 > 0 and m > 0 then
    -- trades counted from the window's first bar (a copy: the engine's records stay as run)
    local copy = ffi.new("gt_trade[?]", m)
    ffi.copy(copy, tp[0], m * ffi.sizeof("gt_trade"))
    for i = 0, m - 1 do
      copy[i].entry_bar = copy[i].entry_bar - s0
      if copy[i].exit_bar >= 0 then copy[i].exit_bar = copy[i].exit_bar - s0 end
    end
    res._trades_copy = copy
    tp[0] = copy
  end
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
    -- raw pointers inside: both arrays hold n values (a checked access per value cost ~2x)
    local cp, bp = gtseries.raw(series.close), bh.p
    local c0, cap = cp[0], o.capital
    for i = 0, n - 1 do bp[i] = cap * cp[i] / c0 end
  else
    for i = 0, n - 1 do
      local v = 0
      for j = 1, k do v = v + list[j].close[i] / list[j].close[0] end
      bh[i] = o.capital * v / k
    end
    bench = bh
  end
  res.benchmark_equity = bh
  local ppy = periods_per_year(series)
  local metrics = require "gt.metrics"
  local stats, err = metrics.compute {
    equity = res.equity, ts = series.ts, n = n, trades = tp[0], m = m,
    benchmark = bench, in_market = res.in_market, periods_per_year = ppy, risk_free = o.risk_free,
  }
  if not stats then error("backtest: metrics: " .. tostring(err), 3) end
  res.stats, res.stats_fields = stats, metrics.FIELDS
  return res
end

-- The orchestrator builds a backtest's result from its own session the same way.
M.collect = collect

-- Saves the run (parameters, options, data range and hash, stats, trades, and the chart
-- points gt.report reads) to the SQLite store at db_path (gt.config resolves a nil one);
-- returns the run id or nil, err. Same inputs, same stored bytes: the JSON has sorted keys
-- and the numbers print exactly. `gtengine runs --id N --report` rebuilds the same report.
function Result:save(db_path)
  local json = require "gt.json"
  local store = require "gt.store"
  local db, err = store.open(db_path)
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
  local used = require("gt.report").bars_used(self)
  local np = #used
  local pts = ffi.new("gt_run_point[?]", math.max(np, 1))
  local ts, close, eq, dd, bh = self.ts, self.close, self.equity, self.drawdown, self.benchmark_equity
  for k = 1, np do
    local i, p = used[k], pts[k - 1]
    p.bar, p.ts, p.close, p.equity, p.drawdown, p.benchmark = i, ts[i], close[i], eq[i], dd[i], bh[i]
  end
  -- the report's further lines (other symbols' closes, indicator lines) at the same bars
  local extra = require("gt.report").extra_lines(self)
  if #extra > 0 or self.risk or self.tier then
    local chart = { lines = json.array {} }
    for _, l in ipairs(extra) do
      local vals = {}
      for k = 1, np do vals[k] = l.values[used[k]] end
      chart.lines[#chart.lines + 1] = { key = l.key, panel = l.panel, name = l.name, values = vals }
    end
    -- what the report shows of the risk gate and the tier
    if self.risk then
      local rk = self.risk
      chart.risk = { state = rk.state, causes = json.array(rk.causes), refused = rk.refused,
        refused_orders = rk.refused_orders, changes = json.array(rk.changes or {}) }
    end
    chart.tier = self.tier and { name = self.tier.name, size = self.tier.size, stop_pct = self.tier.stop_pct,
      max_daily_loss = self.tier.max_daily_loss, max_positions = self.tier.max_positions,
      strategy_allowed = self.tier.strategy_allowed } or nil
    keep[#keep + 1] = json.encode(chart)
    rec.chart_json = keep[#keep]
  end
  local id, serr = db:save_run(rec, self._trades, self.m, pts, np)
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
-- summary{ json = true } gives the trades already encoded (gt.json.raw, by engine/json.c)
-- instead of a table per trade: the same text json.encode would write, without the cost.
function Result:summary(opts)
  local gtime = require "gt.time"
  local stats = {}
  for k, v in pairs(self.stats) do stats[k] = v end
  local function iso(us)
    if not us then return nil end
    local s = gtime.format(us, false)
    return (s:gsub("T00:00:00Z$", ""))
  end
  local trades
  if opts and opts.json then
    trades = require("gt.json").trades(self._trades, self.m, self.symbols)
  else
    trades = {}
    for i, t in ipairs(self.trades) do
      local c = {}
      for k, v in pairs(t) do c[k] = v end
      c.entry_time, c.exit_time = iso(t.entry_time), iso(t.exit_time)
      trades[i] = c
    end
  end
  local risk
  if self.risk then
    -- what the gate did: its state at the end, refusals by rule, and each refused order
    local json = require "gt.json"
    risk = { state = self.risk.state, causes = json.array(self.risk.causes), refused = self.risk.refused,
      refused_orders = self.risk.refused_orders, refusals = json.array {}, changes = json.array {} }
    for _, c in ipairs(self.risk.changes or {}) do
      risk.changes[#risk.changes + 1] = { bar = c.bar, state = c.state, time = iso(tonumber(self.ts[c.bar])) }
    end
    for _, o in ipairs(self.orders) do
      if o.risk_rule then
        risk.refusals[#risk.refusals + 1] = { bar = o.bar, side = o.side, type = o.type, qty = o.qty,
          rule = o.risk_rule, reason = o.risk_reason, time = iso(tonumber(self.ts[o.bar] or 0)) }
      end
    end
  end
  return { strategy = self.strategy, params = self.params, symbol = self.symbol,
    timeframe = self.timeframe, bars = self.n, first = iso(tonumber(self.ts[0])),
    last = iso(tonumber(self.ts[self.n - 1])), options = self.options, stats = stats, trades = trades,
    risk = risk, tier = self.tier and { name = self.tier.name, size = self.tier.size,
      stop_pct = self.tier.stop_pct, max_daily_loss = self.tier.max_daily_loss,
      max_positions = self.tier.max_positions, strategy_allowed = self.tier.strategy_allowed } or nil }
end

---------------------------------------------------------------------------------------
-- Running
---------------------------------------------------------------------------------------

-- The bar index of opts.start (epoch microseconds, or a "YYYY-MM-DD" date) in series s.
local function start_bar(s, start)
  if start == nil then return 0 end
  local t = start
  if type(start) == "string" then
    t = require("gt.time").parse(start)
    if not t then error(("backtest.run: start '%s' is not a date (YYYY-MM-DD)"):format(start), 3) end
  elseif type(start) ~= "number" then
    error("backtest.run: start is a date string or epoch microseconds", 3)
  end
  return tonumber(C.gt_series_lower_bound(s._c, t))
end

local function check_options(opts)
  for key in pairs(opts or {}) do
    if M.DEFAULTS[key] == nil and key ~= "params" and key ~= "start" and key ~= "sizing"
      and key ~= "risk" and key ~= "tiers" then
      error(("backtest.run: unknown option '%s'"):format(tostring(key)), 3)
    end
  end
  local o = merge(M.DEFAULTS, opts)
  o.params = nil
  if o.close_at_end == true then o.close_at_end = "close" elseif o.close_at_end == false then o.close_at_end = "none" end
  if o.close_at_end ~= "close" and o.close_at_end ~= "open" and o.close_at_end ~= "none" then
    error("backtest.run: close_at_end is \"close\", \"open\" or \"none\"", 3)
  end
  local lev = o.leverage
  if not (type(lev) == "number" and lev >= 1 and lev <= 100) then
    error(("backtest.run: leverage must be in [1, 100], got %s"):format(tostring(lev)), 3)
  end
  if not (type(o.size) == "number" and o.size > 0 and o.size <= lev) then
    error(("backtest.run: size must be in (0, leverage = %g], got %s"):format(lev, tostring(o.size)), 3)
  end
  local cap = C.gt_bt_max_capital()
  if not (type(o.capital) == "number" and o.capital > 0 and o.capital <= cap) then
    error(("backtest.run: capital must be in (0, %g], got %s"):format(cap, tostring(o.capital)), 3)
  end
  for _, k in ipairs { "commission", "commission_min", "slippage_bps", "spread_bps", "stop_pct", "take_pct", "volume_cap" } do
    local v = o[k]
    if not (type(v) == "number" and v >= 0 and v < math.huge) then
      error(("backtest.run: %s must be a finite number >= 0, got %s"):format(k, tostring(v)), 3)
    end
  end
  if o.stop_pct >= 1 then error(("backtest.run: stop_pct is a fraction below 1, got %g"):format(o.stop_pct), 3) end
  return o
end

-- The event path: on_bar(ctx, i) per bar from Lua, matching and accounting in C.
local function run_event(strategy, bt, list, inds, p, size, o, from)
  local k, n = #list, list[1].n
  local limit = ffi.new("int64_t[1]", -1)
  local qty, stride, req = C.gt_bt_qty(bt), tonumber(C.gt_bt_qty_stride()), ffi.new("gt_order_req")
  local ctxs = {}
  for j = 1, k do
    local s = list[j]
    ctxs[j] = setmetatable({
      _bt = bt, _qty = qty, _stride = stride, _req = req, _limit = limit, _close = s.close,
      _fractional = o.fractional, symbol = j - 1, name = s.symbol, size = size, params = p,
      data = data_views(s, n, limit), ind = make_views(inds[j], n, limit, "ind"), ts = s.ts,
      state = {}, position = position_proxy(bt, j - 1),
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
      if i >= from then on_bar(ctx, i) end
      end_bar(bt, i)
    end
  else
    for i = 0, n - 1 do
      limit[0] = i
      begin_bar(bt, i)
      if i >= from then for j = 1, k do on_bar(ctxs[j], i) end end
      end_bar(bt, i)
    end
  end
end

-- run(strategy, series, opts) -> result, or nil and a message when the data is too short.
-- strategy: a name, a file path or a table (inline strategies work as files do); opts:
-- M.DEFAULTS keys plus params = {...} (overrides the strategy's) and start (the first bar
-- traded; the bars before it warm the indicators up). data: a series or a list of aligned
-- series.
local run
function M.run(strategy, data, opts)
  return run(strategy, data, opts) -- a tail call: error levels still name the caller
end

-- run_stats(strategy, series, opts [, {blocks =, bench_ret =}]) -> stats, moments, count: a
-- backtest exactly as run does it, for a search that keeps only numbers (gt.optimize): the
-- stats table run's result has, and gt_opt_moments' values (a double array of count). For
-- one series traded from bar 0 the statistics are read from the engine's own arrays in C
-- (gt_opt_bt_stats: no equity copies, no trade or order tables, no result object), else
-- from run's result; either way the engine is freed before it returns. nil, message as run.
-- fast.bench_ret: the close's per-bar returns (gt_opt_returns), fast.scratch room for
-- n - 1 doubles, and fast.target_out a checked array of n values that signals(d, p, ind,
-- out) may fill instead of allocating its targets; all shared by a search's runs, any nil.
function M.run_stats(strategy, data, opts, fast)
  return run(strategy, data, opts, fast or {})
end

local MOMENTS_MAX = 5 + 2 * 24
function run(strategy, data, opts, fast)
  strategy = require("gt.strategy").get(strategy)
  -- one series, or a list of series on one clock (a portfolio)
  local list = (type(data) == "table" and data._c) and { data } or data
  if type(list) ~= "table" or #list < 1 then error("backtest.run: data must be a gt series or a list of them", 2) end
  for j, s in ipairs(list) do
    if type(s) ~= "table" or not s._c then error(("backtest.run: data[%d] is not a gt series"):format(j), 2) end
  end
  local series, k = list[1], #list
  -- too little data is the data's problem, not a programming error: nil, message
  if series.n < 2 then return nil, ("backtest: need at least 2 bars, the data has %d"):format(series.n) end
  local o = check_options(opts)
  local tier = o.tiers and apply_tiers(o, opts, strategy) or nil
  local okp, perr = require("gt.strategy").check_params(strategy, opts and opts.params)
  if not okp then error(("backtest.run: %s: parameter %s"):format(strategy.name, perr), 2) end
  local p = merge(strategy.params, opts and opts.params)
  local s0 = start_bar(series, o.start)
  if s0 >= series.n - 1 then
    return nil, ("backtest: start %s leaves fewer than 2 bars to trade"):format(tostring(o.start))
  end
  local cfg = config(o)
  local arr = ffi.new("const gt_series *[?]", k)
  for j = 1, k do arr[j - 1] = list[j]._c end
  local bt = C.gt_bt_new(cfg, arr, k)
  if bt == nil then error(gtffi.errmsg(), 2) end
  bt = ffi.gc(bt, C.gt_bt_free)
  -- the sizing and risk units, in C on the path of every order
  local gate, gate_names
  if o.risk ~= nil and o.risk ~= false and o.risk ~= "off" then
    gate = (type(o.risk) == "table" and o.risk.h) and o.risk or require("gt.risk").new(o.risk)
    gate_names = ffi.new("const char *[?]", k)
    local keep = {}
    for j = 1, k do keep[j] = list[j].symbol or ("#" .. j); gate_names[j - 1] = keep[j] end
    gate._names_keep = keep
    C.gt_bt_set_risk(bt, gate.h, gate_names)
    o.risk = type(o.risk) == "string" and o.risk or gate.limits -- data, for the saved options
  end
  if o.sizing ~= nil and o.sizing ~= false then
    local sp = require("gt.sizing").params(o.sizing)
    local mt = type(o.sizing) == "table" and o.sizing.min_trades or o.min_trades
    gtffi.check(C.gt_bt_set_sizing(bt, sp, mt), 2)
  end
  local n = series.n
  -- CPU seconds per phase for run's result; a stats-only run reports none, and on a
  -- virtual machine each clock() can be a system call (six a run, 15% of a 10,000-bar one)
  local clock = fast and function() return 0 end or os.clock
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
  local from = math.max(w, s0)
  -- with several symbols each entry gets an equal share of the size
  local size = o.size / k
  local mode = o.mode
  if mode ~= "vector" and mode ~= "event" then error("backtest: mode is 'vector' or 'event'", 2) end
  if mode == "vector" and not strategy.signals then mode = "event" end
  if mode == "event" and not strategy.on_bar then mode = "vector" end
  o.mode = mode
  t0 = clock()
  if mode == "vector" then
    local tp = ffi.new("const double *[?]", k)
    local keep = {}
    for j = 1, k do
      -- a stats-only run lends its caller's target array (used up by the run): a search
      -- does not allocate, clear and collect one per combination
      local sig = strategy.signals(list[j], p, inds[j], k == 1 and fast and fast.target_out or nil)
      local target = type(sig) == "table" and sig.target
      if not is_array(target) then error(strategy.name .. ": signals() must return {target = <double array>}", 2) end
      local function raw(a, what)
        local ptr, len = gtseries.raw(a)
        if len and len < n then
          error(("%s: signals() returned %d %s for %d bars"):format(strategy.name, len, what, n), 3)
        end
        return ptr
      end
      keep[#keep + 1], tp[j - 1] = target, raw(target, "targets")
      if sig.stop or sig.take then
        keep[#keep + 1], keep[#keep + 2] = sig.stop, sig.take
        local sp = sig.stop and raw(sig.stop, "stops") or nil
        local tk = sig.take and raw(sig.take, "take-profits") or nil
        gtffi.check(C.gt_bt_set_exits(bt, j - 1, sp, tk), 2)
      end
    end
    timings.signals = clock() - t0
    t0 = clock()
    local rc = C.gt_bt_run_targets(bt, tp, size, from, n, o.rebalance and 1 or 0)
    if rc < 0 then error(strategy.name .. ": " .. gtffi.errmsg(rc), 2) end
  else
    run_event(strategy, bt, list, inds, p, size, o, from)
  end
  timings.loop = clock() - t0
  if o.close_at_end ~= "none" then C.gt_bt_finish(bt) end
  if fast then
    local blocks = fast.blocks or 0
    local mom = ffi.new("double[?]", MOMENTS_MAX)
    local km, stats
    if k == 1 and s0 == 0 then
      local st, base = ffi.new("gt_stats"), ffi.new("gt_stats_input")
      base.ts, base.benchmark, base.n = series._c.ts, series._c.close, n
      base.periods_per_year, base.risk_free = periods_per_year(series), o.risk_free
      km = tonumber(C.gt_opt_bt_stats(bt, base, fast.bench_ret, fast.scratch, blocks, st, mom))
      if km < 0 then error("backtest: metrics: " .. gtffi.errmsg(km), 2) end
      stats = require("gt.metrics").from_c(st)
    else
      local res = collect(bt, list, strategy, p, o, w, s0, inds)
      stats = res.stats
      km = tonumber(C.gt_opt_moments(res.equity.p, res.n, blocks, mom))
      if km < 0 then error("backtest: " .. gtffi.errmsg(km), 2) end
    end
    C.gt_bt_free(ffi.gc(bt, nil))
    return stats, mom, km
  end
  t0 = clock()
  local res = collect(bt, list, strategy, p, o, w, s0, inds)
  if gate then
    res._gate, res._gate_names = gate, gate_names
    res.risk = gate:state()
    res.risk.refused_orders = tonumber(C.gt_bt_risk_refused(bt))
    -- the breaker state over the window: where it changed (bar counted from the window)
    local sp = ffi.new("const uint8_t *[1]")
    local ns = tonumber(C.gt_bt_risk_states(bt, sp))
    local names = { [0] = "ACTIVE", "REDUCING", "HALTED" }
    local changes, last = {}, nil
    for i = s0, ns - 1 do
      local st = sp[0][i]
      if st ~= last then
        changes[#changes + 1] = { bar = i - s0, state = names[st], ts = tonumber(series.ts[i]) }
        last = st
      end
    end
    res.risk.changes = changes
    -- each refusal's words, by order id
    local fp = ffi.new("const gt_refusal *[1]")
    local nf = tonumber(C.gt_bt_refusals(bt, fp))
    local reasons = {}
    for k = 0, nf - 1 do reasons[tonumber(fp[0][k].order_id)] = ffi.string(fp[0][k].reason) end
    res._risk_reasons = reasons
  end
  res.tier = tier
  timings.results = clock() - t0
  res.timings = timings -- CPU seconds per phase
  return res
end

---------------------------------------------------------------------------------------
-- Look-ahead check
---------------------------------------------------------------------------------------

-- Compares indicator values computed on all the data (a) with those computed on data cut
-- after bar `cut` (b), bars 0..cut, recursively through tables. Returns the first
-- difference as {what =, bar =, full =, truncated =} or nil; counts arrays compared.
local function same(x, y) return x == y or (x ~= x and y ~= y) end
local function compare_ind(a, b, cut, name, counter, seen)
  seen = seen or {}
  if is_array(a) then
    counter.arrays = counter.arrays + 1
    if not is_array(b) then return { what = name, bar = 0, full = "an array", truncated = type(b) } end
    for j = 0, cut do
      if not same(a[j], b[j]) then return { what = name, bar = j, full = a[j], truncated = b[j] } end
    end
  elseif type(a) == "table" then
    if seen[a] then return nil end
    seen[a] = true
    if a._c and a.close then return nil end -- a series handed through: its bars are the data
    if type(b) ~= "table" then return { what = name, bar = 0, full = "a table", truncated = type(b) } end
    for key, v in pairs(a) do
      local sub = name .. "." .. tostring(key)
      if type(key) == "number" then
        -- a Lua table indexed by bar: entries up to the cut must not depend on later bars
        if key <= cut and (type(v) == "number" or b[key] ~= nil) and not same(v, b[key]) then
          return { what = name, bar = key, full = v, truncated = b[key] }
        end
      else
        local d = compare_ind(v, b[key], cut, sub, counter, seen)
        if d then return d end
      end
    end
    for key, v in pairs(b) do
      if type(key) == "number" and key <= cut and a[key] == nil then
        return { what = name, bar = key, full = nil, truncated = v }
      end
    end
  end
  return nil
end

-- check_lookahead(strategy, data, opts) -> report. Tries every way a strategy could read the
-- future and says what it examined:
--  1. a rule runs over every bar through windows on d and on every indicator array, so a
--     read of any bar after the one being decided raises, naming what was read;
--  2. indicators recomputed on data cut at sampled bars must equal the full ones up to the
--     cut (an indicator whose value at bar j moves when only later bars change, including a
--     Lua table of future values);
--  3. vectorised targets recomputed on the cut data must equal the full ones up to the cut;
--  4. an on_bar strategy runs the event path, where every read through ctx.data and ctx.ind
--     is checked at run time.
-- report = {strategy =, ok =, findings = {{bar =, what =, detail =}}, checks = {lines}}.
function M.check_lookahead(strategy, data, opts)
  strategy = require("gt.strategy").get(strategy)
  opts = opts or {}
  local list = (type(data) == "table" and data._c) and { data } or data
  local p = merge(strategy.params, opts.params)
  local samples = opts.samples or 40
  local report = { strategy = strategy.name, findings = {}, checks = {} }
  local function find(f) report.findings[#report.findings + 1] = f end
  local function check(line) report.checks[#report.checks + 1] = line end
  local fmtn = require("gt.fmt").num
  for j, series in ipairs(list) do
    local n = series.n
    local label = #list > 1 and (" [" .. (series.symbol or ("#" .. j)) .. "]") or ""
    local okind, full_ind = pcall(prepare, strategy, series, p)
    if not okind then
      find({ bar = series.n - 1, what = "indicators()", detail = "indicators() fails on all the data: " .. tostring(full_ind) })
      full_ind = {}
    end
    -- 1. the rule through windows
    if strategy.rule then
      local limit = ffi.new("int64_t[1]", -1)
      local d = data_views(series, n, limit)
      local ind = make_views(full_ind, n, limit, "ind")
      -- from the first bar the run decides at: every indicator defined, past the lookback
      local lookback, bad = math.max(strategy.lookback or 1, warmup(full_ind, n)), nil
      local state = {}
      for i = lookback, n - 1 do
        limit[0] = i
        local ok, err = pcall(strategy.rule, d, ind, i, p, state)
        if not ok then
          local msg = tostring(err)
          bad = { bar = i, what = msg:match("look%-ahead: (%S+%[%-?%d+%])") or "rule", detail = msg }
          break
        end
      end
      if bad then
        find(bad)
      else
        check(("rule%s: all %s bars run through windows on d and ind: no read after the bar being decided")
          :format(label, fmtn(n - lookback)))
      end
    end
    -- 2 and 3. indicators and targets on data cut at sampled bars
    local full_target
    if strategy.signals then
      local okf, sig = pcall(strategy.signals, series, p, full_ind)
      if okf then
        full_target = type(sig) == "table" and sig.target
      elseif #report.findings == 0 then
        -- a read past the last bar raises (columns are bounds-checked): the future again
        find({ bar = series.n - 1, what = "signals()", detail = "signals() fails on all the data: " .. tostring(sig) })
      end
    end
    local counter, cuts, seen_cut = { arrays = 0 }, 0, {}
    local ind_bad, tgt_bad
    for c = 1, samples do
      local cut = math.floor(n * c / (samples + 1))
      if cut >= 2 and cut < n - 1 and not seen_cut[cut] then
        seen_cut[cut] = true
        cuts = cuts + 1
        local part = series:slice(0, cut + 1)
        local ok, ind = pcall(prepare, strategy, part, p)
        if not ok then
          ind_bad = ind_bad or { bar = cut, what = "indicators()", detail =
            ("indicators() fails on the data cut after bar %d (it reads bars that are not there yet): %s"):format(cut, tostring(ind)) }
        else
          local diff = strategy.indicators and compare_ind(full_ind, ind, cut, "ind", counter)
          if diff and not ind_bad then
            ind_bad = { bar = diff.bar, what = diff.what, detail =
              ("%s at bar %d is %s with all the data and %s with the data cut after bar %d")
                :format(diff.what, diff.bar, tostring(diff.full), tostring(diff.truncated), cut) }
          end
          if full_target and not tgt_bad then
            local ok2, sig = pcall(strategy.signals, part, p, ind)
            if not ok2 then
              tgt_bad = { bar = cut, what = "signals()", detail =
                ("signals() fails on the data cut after bar %d: %s"):format(cut, tostring(sig)) }
            else
              local t = sig.target
              for b = 0, cut do
                if not same(full_target[b], t[b]) then
                  tgt_bad = { bar = b, what = "target", detail =
                    ("the target at bar %d is %s with all the data and %s with the data cut after bar %d")
                      :format(b, tostring(full_target[b]), tostring(t[b]), cut) }
                  break
                end
              end
            end
          end
        end
      end
    end
    if ind_bad then find(ind_bad)
    elseif strategy.indicators then
      check(("indicators%s: %s arrays identical up to each of %d cuts of the data"):format(label,
        fmtn(counter.arrays), cuts))
    end
    if tgt_bad then find(tgt_bad)
    elseif full_target then
      check(("targets%s: identical up to each of %d cuts of the data"):format(label, cuts))
    end
  end
  -- 4. an event strategy: the event path checks every read at run time
  if not strategy.rule and not strategy.signals and strategy.on_bar then
    local ok, res = pcall(M.run, strategy, data, { params = opts.params, mode = "event" })
    if not ok then
      local msg = tostring(res)
      local bar = tonumber(msg:match("deciding at bar (%d+)"))
      find({ bar = bar, what = msg:match("look%-ahead: (%S+%[%-?%d+%])") or "on_bar", detail = msg })
    elseif res then
      check(("on_bar: ran on all %s bars with every read of ctx.data and ctx.ind checked: none after the current bar")
        :format(fmtn(res.n)))
    end
  end
  table.sort(report.findings, function(a, b) return (a.bar or -1) < (b.bar or -1) end)
  report.ok = #report.findings == 0
  return report
end

return M
