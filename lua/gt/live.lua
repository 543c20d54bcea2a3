-- gt.live: the Alpaca v2 REST broker (engine/broker.c) for live and paper trading, and the
-- order path that never loses or doubles an order.
--
--   local live = require "gt.live"
--   local b = assert(live.broker{ paper = true, key_file = "~/.config/gtengine/alpaca.json",
--                                 journal = J, session = "paper:AAPL" })
--   local o, err, res = b:submit{ seq = 1, symbol = "AAPL", side = "buy", qty = 10,
--                                 type = "limit", limit = 187.5, tif = "day" }
--   local ok, report = b:reconcile(live.journal_state(J))
--   b:kill(true)      -- cancel every open order (1 s budget), then close every position
--
-- Every call returns a Lua table, or nil, message, res where res = { outcome = "rejected" |
-- "not_found" | "rate_limited" | "unknown" | "local", status =, code =, reset_in =,
-- message = }. Only "unknown" means the request may or may not have taken effect.
--
-- submit(intent) is idempotent: the client_order_id is derived from (session, seq); the
-- intent is committed to the journal (J:write_now, synchronous=FULL) as "pending_submit"
-- before the POST; the POST is sent once; an unknown outcome is resolved by looking the
-- order up by its client_order_id (found: adopted; a definite 404: resubmitted with the same
-- id, which the broker would refuse as a duplicate); a 429 waits for the reset (http.c
-- blocks the host for every client) and resubmits; every outcome is journalled.
--
-- M.machine() is the order state machine (pure Lua): legal transitions only, filled_qty
-- never decreases, fills de-duplicated by activity id, positions moved by every increase of
-- an order's filled quantity, from whichever report shows it first.
local ffi = require "ffi"
local bit = require "bit"
local gtffi = require "gt.ffi"
local C = gtffi.C

local M = {}

local OUTCOME = { [C.GT_BROKER_OK] = "ok", [C.GT_BROKER_REJECTED] = "rejected",
  [C.GT_BROKER_NOT_FOUND] = "not_found", [C.GT_BROKER_RATE_LIMITED] = "rate_limited",
  [C.GT_BROKER_UNKNOWN] = "unknown", [C.GT_BROKER_LOCAL] = "local" }
M.OUTCOMES = OUTCOME

M.STATUSES = {}
for i = 0, C.GT_ALPACA_STATUS_COUNT - 1 do M.STATUSES[i + 1] = ffi.string(C.gt_alpaca_status_name(i)) end

local function now_us()
  -- wall clock for journal timestamps of broker events (the engine's clock is the caller's)
  return math.floor(os.time() * 1e6)
end

-- ---- client order ids ----

-- FNV-1a 32 of s as 8 hex digits.
local function fnv8(s)
  local h = 0x811c9dc5
  for i = 1, #s do
    h = bit.bxor(h, s:byte(i))
    h = bit.tobit(h * 0x01000193 % 2 ^ 32)
  end
  return bit.tohex(h, 8)
end

-- The client_order_id of intent seq in session: "gt-<8 hex of session>-<seq>" (<= 48 chars,
-- deterministic, so a restart asks the broker about the same id it sent).
function M.client_order_id(session, seq)
  if type(session) ~= "string" or session == "" then error("gt.live: session must be a non-empty string", 2) end
  if type(seq) ~= "number" or seq % 1 ~= 0 or seq < 1 or seq >= 2 ^ 53 then
    error("gt.live: seq must be a whole number >= 1", 2)
  end
  return ("gt-%s-%d"):format(fnv8(session), seq)
end

-- ---- records -> tables ----

local function str(a) return ffi.string(a) end
local function num(x) x = tonumber(x); if x ~= x then return nil end; return x end
local function us(x) x = tonumber(x); if x == 0 then return nil end; return x end

local function order_table(o)
  return { id = str(o.id), client_order_id = str(o.client_order_id),
    parent_id = o.parent_id[0] ~= 0 and str(o.parent_id) or nil,
    replaced_by = o.replaced_by[0] ~= 0 and str(o.replaced_by) or nil,
    replaces = o.replaces[0] ~= 0 and str(o.replaces) or nil,
    symbol = str(o.symbol), side = str(o.side), type = str(o.type), tif = str(o.tif),
    order_class = str(o.order_class), qty = num(o.qty), notional = num(o.notional),
    filled_qty = num(o.filled_qty), filled_avg_price = num(o.filled_avg_price),
    limit = num(o.limit_price), stop = num(o.stop_price), trail_price = num(o.trail_price),
    trail_percent = num(o.trail_percent), status = ffi.string(C.gt_alpaca_status_name(o.status)),
    extended_hours = o.extended_hours ~= 0, created_at = us(o.created_at), updated_at = us(o.updated_at),
    submitted_at = us(o.submitted_at), filled_at = us(o.filled_at), canceled_at = us(o.canceled_at),
    expired_at = us(o.expired_at), failed_at = us(o.failed_at), replaced_at = us(o.replaced_at) }
end

local function position_table(p)
  return { symbol = str(p.symbol), side = str(p.side), asset_id = str(p.asset_id), qty = num(p.qty),
    qty_available = num(p.qty_available), avg_entry_price = num(p.avg_entry_price),
    market_value = num(p.market_value), unrealized_pl = num(p.unrealized_pl),
    current_price = num(p.current_price) }
end

local function fill_table(f)
  return { id = str(f.id), order_id = str(f.order_id), symbol = str(f.symbol), side = str(f.side),
    type = f.type[0] ~= 0 and str(f.type) or nil, order_status = f.order_status[0] ~= 0 and str(f.order_status) or nil,
    qty = num(f.qty), price = num(f.price), cum_qty = num(f.cum_qty), leaves_qty = num(f.leaves_qty),
    transaction_time = us(f.transaction_time) }
end

local function item_table(it)
  return { id = it.id[0] ~= 0 and str(it.id) or nil, symbol = it.symbol[0] ~= 0 and str(it.symbol) or nil,
    order_id = it.order_id[0] ~= 0 and str(it.order_id) or nil, status = tonumber(it.status),
    message = it.message[0] ~= 0 and str(it.message) or nil }
end

local function account_table(a)
  return { id = str(a.id), status = str(a.status), currency = str(a.currency), cash = num(a.cash),
    buying_power = num(a.buying_power), equity = num(a.equity), last_equity = num(a.last_equity),
    multiplier = num(a.multiplier), portfolio_value = num(a.portfolio_value),
    daytrade_count = a.daytrade_count >= 0 and tonumber(a.daytrade_count) or nil,
    trading_blocked = a.trading_blocked ~= 0, account_blocked = a.account_blocked ~= 0,
    pattern_day_trader = a.pattern_day_trader >= 0 and a.pattern_day_trader ~= 0 or nil }
end

local function clock_table(k)
  return { timestamp = us(k.timestamp), is_open = k.is_open ~= 0, next_open = us(k.next_open),
    next_close = us(k.next_close) }
end

local KIND = { order = C.GT_BROKER_ORDER, orders = C.GT_BROKER_ORDERS, position = C.GT_BROKER_POSITION,
  positions = C.GT_BROKER_POSITIONS, fills = C.GT_BROKER_FILLS, cancels = C.GT_BROKER_CANCELS,
  closes = C.GT_BROKER_CLOSES, account = C.GT_BROKER_ACCOUNT, clock = C.GT_BROKER_CLOCK }

-- The records a call left in the broker, as the table kind asks for.
local function records(h, kind, n)
  if kind == "order" or kind == "orders" then
    local out = {}
    for i = 0, n - 1 do out[#out + 1] = order_table(C.gt_broker_order_at(h, i)) end
    if kind == "order" then
      local main = out[1]
      if main then main.legs = #out > 1 and { unpack(out, 2) } or nil end
      return main
    end
    return out
  elseif kind == "position" or kind == "positions" then
    local out = {}
    for i = 0, n - 1 do out[#out + 1] = position_table(C.gt_broker_position_at(h, i)) end
    return kind == "position" and out[1] or out
  elseif kind == "fills" then
    local out = {}
    for i = 0, n - 1 do out[#out + 1] = fill_table(C.gt_broker_fill_at(h, i)) end
    return out
  elseif kind == "cancels" or kind == "closes" then
    local out = {}
    for i = 0, n - 1 do out[#out + 1] = item_table(C.gt_broker_item_at(h, i)) end
    return out
  elseif kind == "account" then
    return account_table(C.gt_broker_account_last(h))
  elseif kind == "clock" then
    return clock_table(C.gt_broker_clock_last(h))
  end
  return true
end

local function result_table(r)
  return { outcome = OUTCOME[tonumber(r.outcome)], status = tonumber(r.http_status),
    code = tonumber(r.api_code) ~= 0 and tonumber(r.api_code) or nil,
    reset_in = r.reset_in_s >= 0 and tonumber(r.reset_in_s) or nil, waited = tonumber(r.waited_s),
    message = ffi.string(r.message), count = tonumber(r.count) }
end

-- Parses a response body as kind ("order", "orders", "positions", "fills", "cancels",
-- "closes", "account", "clock", "position") without the network: -> table | nil, err.
function M.parse(kind, body)
  local k = KIND[kind]
  if not k then error("gt.live.parse: unknown kind " .. tostring(kind), 2) end
  local h = ffi.gc(C.gt_broker_new("http://127.0.0.1", 1), C.gt_broker_free)
  local r = ffi.new("gt_broker_result")
  local rc = C.gt_broker_parse(h, k, body, #body, r)
  if rc < 0 then return nil, gtffi.errmsg(rc), result_table(r) end
  return records(h, kind, tonumber(r.count))
end

-- ---- the order state machine ----

-- Status classes. Initial: not yet working at the venue; working; terminal: final.
local CLASS = {
  pending_new = "initial", accepted = "initial", accepted_for_bidding = "initial", pending_review = "initial",
  held = "initial",
  new = "working", partially_filled = "working", pending_cancel = "working", pending_replace = "working",
  calculated = "working", stopped = "working", suspended = "working", done_for_day = "working",
  filled = "terminal", canceled = "terminal", expired = "terminal", replaced = "terminal", rejected = "terminal",
}
M.CLASS = CLASS
local INITIAL_RANK = { pending_review = 0, held = 0, pending_new = 1, accepted = 2, accepted_for_bidding = 2 }

-- Is from -> to a legal status change (RELIABILITY section 2)? Terminal states are final;
-- nothing goes back to an initial state once working; an order with fills is never "new"
-- again (partially_filled is), and "rejected" only comes before any work.
function M.legal(from, to, filled)
  if from == nil then return CLASS[to] ~= nil end
  if from == to then return true end
  local cf, ct = CLASS[from], CLASS[to]
  if not cf or not ct or cf == "terminal" then return false end
  if ct == "initial" then
    return cf == "initial" and INITIAL_RANK[to] >= INITIAL_RANK[from]
  end
  if to == "rejected" then return cf == "initial" or from == "new" or from == "pending_replace" end
  if to == "new" and filled and filled > 0 then return false end
  return true
end

local Machine = {}
Machine.__index = Machine

function M.machine()
  return setmetatable({ orders = {}, by_id = {}, fills_seen = {}, positions = {},
    stale = 0, illegal = 0, duplicate = 0, dup_fills = 0, applied = 0 }, Machine)
end

local SIGN = { buy = 1, sell = -1, sell_short = -1 }

-- The order a report or fill is about, found by client_order_id or broker id.
function Machine:find(cid, id)
  return (cid and self.orders[cid]) or (id and self.by_id[id])
end

-- Tracks an intent before it has a broker id.
function Machine:track(o)
  local cid = assert(o.client_order_id, "track: client_order_id")
  local cur = self.orders[cid]
  if cur then return cur end
  cur = { client_order_id = cid, id = o.id, symbol = o.symbol, side = o.side, qty = o.qty,
    status = o.status, filled_qty = o.filled_qty or 0, fill_sum = 0, updated_at = o.updated_at or 0,
    seq = o.seq }
  self.orders[cid] = cur
  if o.id then self.by_id[o.id] = cur end
  return cur
end

-- Raises o's filled quantity to q (never lowers it) and moves the position by the increase.
function Machine:_raise_fill(o, q)
  if q and q > o.filled_qty then
    local d = q - o.filled_qty
    o.filled_qty = q
    local s = SIGN[o.side] or 0
    self.positions[o.symbol] = (self.positions[o.symbol] or 0) + s * d
    return d
  end
  return 0
end

-- update(report) with a broker order table -> "applied" | "duplicate" | "stale" | "illegal".
-- Stale: older than what is known (updated_at) or a lower filled_qty. Illegal: a status change
-- the table forbids. Neither changes anything; both are counted.
function Machine:update(r)
  local o = self:find(r.client_order_id, r.id)
  if not o then
    o = self:track { client_order_id = r.client_order_id or r.id, id = r.id, symbol = r.symbol,
      side = r.side, qty = r.qty }
  end
  if r.id and not o.id then o.id = r.id; self.by_id[r.id] = o end
  local ru = r.updated_at or 0
  local rf = r.filled_qty or 0
  if (ru > 0 and o.updated_at > 0 and ru < o.updated_at) or rf < o.filled_qty then
    self.stale = self.stale + 1
    return "stale"
  end
  if o.status == r.status and rf == o.filled_qty then
    self.duplicate = self.duplicate + 1
    return "duplicate"
  end
  if not M.legal(o.status, r.status, math.max(rf, o.filled_qty)) then
    self.illegal = self.illegal + 1
    return "illegal"
  end
  o.status = r.status
  if ru > o.updated_at then o.updated_at = ru end
  if r.filled_avg_price then o.filled_avg_price = r.filled_avg_price end
  if r.replaced_by then o.replaced_by = r.replaced_by end
  self:_raise_fill(o, rf)
  self.applied = self.applied + 1
  return "applied"
end

-- fill(activity) -> "applied" | "duplicate" | "unknown_order". Each activity id counts once;
-- the order's filled quantity becomes the larger of what reports said and what fills add up
-- to (cum_qty when given), and the position moves by the increase only.
function Machine:fill(f)
  if self.fills_seen[f.id] then
    self.dup_fills = self.dup_fills + 1
    return "duplicate"
  end
  local o = self.by_id[f.order_id]
  if not o then return "unknown_order" end
  self.fills_seen[f.id] = true
  o.fill_sum = o.fill_sum + f.qty
  local q = o.fill_sum
  if f.cum_qty and f.cum_qty > q then q = f.cum_qty end
  self:_raise_fill(o, q)
  return "applied"
end

-- ---- the broker ----

local Broker = {}
Broker.__index = Broker
M.Broker = Broker

local OPTS = { base_url = true, key_file = true, paper = true, journal = true, session = true,
  rate_per_min = true, burst = true, timeout = true, connect_timeout = true, retries = true,
  max_wait = true, trace = true, cainfo = true, max_posts = true, lookups = true }

-- broker{ base_url =, key_file =, paper = true, journal = J, session = "name", rate_per_min = 180,
-- burst = 5, timeout = 20, connect_timeout = 5, retries = 2 (GETs), max_wait = 65 (longest
-- 429 reset waited), trace = true | fd (scrubbed verbose HTTP), cainfo = PATH, max_posts = 3,
-- lookups = 3 } -> broker | nil, err. Keys: gt.keys.alpaca_into's rules (never Lua strings).
-- journal must be durable (J opened with durable = true) and have a session.
function M.broker(o)
  o = o or {}
  if type(o) ~= "table" then error("gt.live.broker: expected an options table", 2) end
  for k in pairs(o) do
    if not OPTS[k] then error(("gt.live.broker: unknown option '%s'"):format(tostring(k)), 2) end
  end
  if o.base_url ~= nil and type(o.base_url) ~= "string" then error("gt.live.broker: base_url must be a string", 2) end
  local J = o.journal
  if J ~= nil then
    if type(J) ~= "table" or not J.write_now then error("gt.live.broker: journal must be a gt.journal", 2) end
    if not J.durable then
      error("gt.live.broker: the journal must be durable (gt.journal.open(path, { durable = true })): "
        .. "an order intent has to be on disk before its request is sent", 2)
    end
    if not J:id() then error("gt.live.broker: the journal has no session (J:session first)", 2) end
  end
  local session = o.session or (J and J.key)
  if session ~= nil and (type(session) ~= "string" or session == "") then
    error("gt.live.broker: session must be a non-empty string", 2)
  end
  local paper = o.paper ~= false
  local p = C.gt_broker_new(o.base_url, paper and 1 or 0)
  if p == nil then return nil, gtffi.errmsg() end
  local h = ffi.gc(p, C.gt_broker_free)
  local function chk(rc) if rc < 0 then error("gt.live.broker: " .. gtffi.errmsg(rc), 3) end end
  chk(C.gt_broker_set_rate(h, o.rate_per_min or 180, o.burst or 5))
  chk(C.gt_broker_set_timeouts(h, math.floor((o.connect_timeout or 5) * 1000), math.floor((o.timeout or 20) * 1000)))
  chk(C.gt_broker_set_retries(h, o.retries or 2))
  chk(C.gt_broker_set_max_wait(h, o.max_wait or 65))
  if o.trace then chk(C.gt_broker_set_trace(h, o.trace == true and 2 or o.trace)) end
  if o.cainfo then chk(C.gt_broker_set_cainfo(h, o.cainfo)) end
  local src, err = require("gt.keys").alpaca_into(h, { key_file = o.key_file })
  if not src then return nil, err end
  local self = setmetatable({ _h = h, _r = ffi.new("gt_broker_result"), journal = J, session = session,
    paper = paper, base_url = ffi.string(C.gt_broker_base_url(h)), key_source = src,
    sm = M.machine(), posts = 0, max_posts = o.max_posts or 3, lookups = o.lookups or 3,
    timeouts = { (o.connect_timeout or 5) * 1000, (o.timeout or 20) * 1000 }, max_wait = o.max_wait or 65,
    retries = o.retries or 2 }, Broker)
  if J then
    local ok, lerr = self:_load_journal()
    if not ok then self:close(); return nil, lerr end
  end
  return self
end

-- What this session's journal already knows, so a restarted broker neither resends an order
-- it adopted nor counts a fill twice: orders with a broker id, and fill activity ids.
function Broker:_load_journal()
  local rows, err = self.journal:query { type = { "order", "fill" } }
  if not rows then return nil, err end
  for _, r in ipairs(rows) do
    if r.type == "fill" and r.activity_id then
      self.sm.fills_seen[r.activity_id] = true
    elseif r.type == "order" and r.client_order_id and r.broker_id then
      local o = self.sm:track { client_order_id = r.client_order_id, id = r.broker_id, symbol = r.symbol,
        side = r.side == 1 and "buy" or "sell", qty = r.qty, seq = r.order_id }
      o.id = o.id or r.broker_id
      self.sm.by_id[r.broker_id] = o
      if r.broker_status and (o.status == nil or M.legal(o.status, r.broker_status)) then o.status = r.broker_status end
      if r.filled_qty and r.filled_qty > o.filled_qty then o.filled_qty = r.filled_qty end
    end
  end
  return true
end

function Broker:close()
  if self._h then C.gt_broker_free(ffi.gc(self._h, nil)); self._h = nil end
end

local function h_of(self)
  if not self._h then error("gt.live: the broker is closed", 3) end
  return self._h
end

-- Runs a C call and turns its records into kind's table.
function Broker:_do(kind, fn, ...)
  local h = h_of(self)
  local r = self._r
  local rc = fn(h, ...)
  local res = result_table(r)
  self.last = res
  if rc < 0 then return nil, gtffi.errmsg(rc), res end
  return records(h, kind, res.count), nil, res
end

function Broker:account() return self:_do("account", C.gt_broker_account_get, self._r) end
function Broker:clock() return self:_do("clock", C.gt_broker_clock_get, self._r) end
function Broker:positions() return self:_do("positions", C.gt_broker_positions, self._r) end
function Broker:position(symbol) return self:_do("position", C.gt_broker_position_get, symbol, self._r) end
function Broker:close_all(cancel_orders)
  return self:_do("closes", C.gt_broker_close_all, cancel_orders == false and 0 or 1, self._r)
end
function Broker:order(id) return self:_do("order", C.gt_broker_order_get, id, self._r) end
function Broker:order_by_client_id(cid) return self:_do("order", C.gt_broker_order_by_client_id, cid, self._r) end
function Broker:cancel(id) return self:_do("none", C.gt_broker_cancel, id, self._r) end
function Broker:cancel_all() return self:_do("cancels", C.gt_broker_cancel_all, self._r) end

-- orders{ status = "open"|"closed"|"all", after = US, until_ = US, limit = N, direction =, symbols = {..} }
function Broker:orders(q)
  q = q or {}
  local syms = q.symbols
  if type(syms) == "table" then syms = table.concat(syms, ",") end
  return self:_do("orders", C.gt_broker_orders_list, q.status, q.after or 0, q.until_ or 0, q.limit or 0,
    q.direction, syms, self._r)
end

local function order_req(t, replace)
  local q = ffi.new("gt_broker_order_req")
  local NAN = 0 / 0
  local function s(field, v, cap)
    if v == nil then return end
    if type(v) ~= "string" or #v >= cap then error(("gt.live: %s must be a string under %d bytes"):format(field, cap), 4) end
    ffi.copy(q[field], v)
  end
  local function n(field, v)
    if v == nil then q[field] = NAN; return end
    if type(v) ~= "number" then error(("gt.live: %s must be a number"):format(field), 4) end
    q[field] = v
  end
  s("symbol", t.symbol, 32); s("side", t.side, 8); s("type", t.type or (not replace and "market" or nil), 16)
  s("tif", t.tif or (not replace and "day" or nil), 8); s("client_order_id", t.client_order_id, 64)
  s("order_class", t.order_class, 16)
  n("qty", t.qty); n("notional", t.notional); n("limit_price", t.limit); n("stop_price", t.stop)
  n("trail_price", t.trail_price); n("trail_percent", t.trail_percent)
  n("take_profit_limit", t.take_profit); n("stop_loss_stop", t.stop_loss); n("stop_loss_limit", t.stop_loss_limit)
  q.extended_hours = t.extended_hours and 1 or 0
  return q
end

-- replace(id, { qty =, limit =, stop =, tif =, trail_price =, client_order_id = }): the new order.
function Broker:replace(id, changes)
  return self:_do("order", C.gt_broker_replace, id, order_req(changes, true), self._r)
end

-- fills{ after = US, page_size = 100, max_pages = 100 }: every FILL activity, oldest first.
function Broker:fills(q)
  q = q or {}
  local out, token = {}, nil
  for _ = 1, q.max_pages or 100 do
    local page, err, res = self:_do("fills", C.gt_broker_fills, q.after or 0, token, q.page_size or 0, self._r)
    if not page then return nil, err, res end
    for _, f in ipairs(page) do out[#out + 1] = f end
    if #page < (q.page_size or 100) then return out end
    token = page[#page].id
  end
  return out
end

-- ---- the idempotent submit ----

local function journal(self, ev)
  local J = self.journal
  if not J then return true end
  ev.type, ev.ts = "order", ev.ts or now_us()
  return J:write_now(ev)
end

local INTENT = { seq = true, symbol = true, side = true, qty = true, notional = true, type = true,
  limit = true, stop = true, tif = true, trail_price = true, trail_percent = true, order_class = true,
  take_profit = true, stop_loss = true, stop_loss_limit = true, extended_hours = true, ts = true,
  strategy = true, client_order_id = true }

local function is_dup_cid(res)
  return res and res.outcome == "rejected" and (res.message or ""):lower():find("client_order_id", 1, true)
end

-- submit(intent) -> order table | nil, err, res. See the header for the protocol.
function Broker:submit(intent)
  h_of(self)
  if type(intent) ~= "table" then error("gt.live.submit: expected an intent table", 2) end
  for k in pairs(intent) do
    if not INTENT[k] then error(("gt.live.submit: unknown intent field '%s'"):format(tostring(k)), 2) end
  end
  if not self.session and not intent.client_order_id then
    error("gt.live.submit: the broker has no session (broker{ session = }) to derive client_order_id", 2)
  end
  local cid = intent.client_order_id or M.client_order_id(self.session, intent.seq)
  local req = order_req(intent)
  ffi.copy(req.client_order_id, cid)
  local known = self.sm.orders[cid]
  if known and known.id then
    -- already at the broker (this run, or journalled by an earlier one): never sent twice
    return { id = known.id, client_order_id = cid, symbol = known.symbol, side = known.side, qty = known.qty,
      status = known.status, filled_qty = known.filled_qty, adopted = true }, nil, { outcome = "ok" }
  end
  local base = { symbol = intent.symbol, side = intent.side, qty = intent.qty, price = intent.limit,
    order_id = intent.seq, strategy = intent.strategy, client_order_id = cid, order_type = intent.type or "market",
    tif = intent.tif or "day", stop = intent.stop, notional = intent.notional, ts = intent.ts }
  local function ev(extra)
    local e = {}
    for k, v in pairs(base) do e[k] = v end
    for k, v in pairs(extra) do e[k] = v end
    return e
  end
  -- 1. the intent is on disk before anything is sent
  local ok, jerr = journal(self, ev { status = "pending_submit" })
  if not ok then return nil, "gt.live.submit: the intent could not be journalled, nothing sent: " .. tostring(jerr) end
  self.sm:track { client_order_id = cid, symbol = intent.symbol, side = intent.side, qty = intent.qty, seq = intent.seq }

  local posts, lookups = 0, 0
  local function adopt(o, how)
    self.sm:update(o)
    local t = self.sm.orders[cid]
    local jok, e2 = journal(self, ev { status = "submitted", broker_id = o.id, broker_status = o.status,
      filled_qty = o.filled_qty, reason = how, posts = posts })
    if not jok then return nil, "gt.live.submit: order " .. cid .. " is at the broker (" .. o.id
      .. ") but its outcome could not be journalled: " .. tostring(e2) end
    o.adopted = how ~= "accepted"
    t.id = o.id
    self.sm.by_id[o.id] = t
    return o
  end
  local function give_up(status, err, res)
    journal(self, ev { status = status, reason = res and res.message or err, posts = posts,
      outcome = res and res.outcome })
    return nil, err, res
  end

  local o, err, res
  local action = "post"
  while true do
    if action == "post" then
      if posts >= self.max_posts then
        return give_up("unresolved", ("gt.live.submit: %s: %d POSTs without a definite answer; "
          .. "reconcile before trading"):format(cid, posts), res)
      end
      posts = posts + 1
      self.posts = self.posts + 1
      o, err, res = self:_do("order", C.gt_broker_submit, req, self._r)
      if o then return adopt(o, posts == 1 and "accepted" or "resubmitted") end
      if res.outcome == "rejected" then
        if is_dup_cid(res) then
          -- the id is fresh per intent, so a duplicate means an earlier send did land (ours,
          -- or a transport's resend): look it up instead of calling it rejected
          action = "lookup"
        else
          return give_up("rejected", err, res)
        end
      elseif res.outcome == "local" then
        return give_up("not_sent", err, res)
      elseif res.outcome == "rate_limited" then
        -- a 429 means it was not accepted; the next request to the host waits for the reset
        -- (http.c blocks the host for every client); then the same id is sent again
        if res.reset_in and res.reset_in > self.max_wait then
          return give_up("rate_limited", err, res)
        end
        journal(self, ev { status = "rate_limited", reason = res.message, posts = posts,
          reset_in = res.reset_in })
        action = "post"
      else -- unknown
        journal(self, ev { status = "unknown", reason = res.message, posts = posts })
        action = "lookup"
      end
    else -- lookup by client_order_id
      lookups = lookups + 1
      o, err, res = self:order_by_client_id(cid)
      if o then return adopt(o, "found") end
      if res.outcome == "not_found" then
        journal(self, ev { status = "not_found", reason = "lookup after an unknown outcome", posts = posts })
        action = "post" -- definitely not there: the same id again
      elseif lookups >= self.lookups then
        return give_up("unresolved", ("gt.live.submit: %s: outcome unknown and the lookup failed: %s; "
          .. "reconcile before trading"):format(cid, tostring(err)), res)
      end
    end
  end
end

-- adopt(order, seq): an order found at the broker (a lookup by client_order_id after a
-- restart) becomes the intent seq's, tracked and journalled as submitted ("found"), so it is
-- never sent again. -> the tracked order | nil, err.
function Broker:adopt(o, seq)
  h_of(self)
  self.sm:update(o)
  local t = self.sm.orders[o.client_order_id]
  t.seq, t.id = t.seq or seq, o.id
  self.sm.by_id[o.id] = t
  local ok, err = journal(self, { symbol = o.symbol, side = o.side, qty = o.qty, order_id = seq,
    client_order_id = o.client_order_id, status = "submitted", broker_id = o.id, broker_status = o.status,
    filled_qty = o.filled_qty, reason = "found", order_type = o.type, tif = o.tif })
  if not ok then return nil, "gt.live.adopt: " .. tostring(err) end
  return t
end

-- sync_fills{ after = US } -> new fills (tables), applied to the state machine once each
-- (de-duplicated by activity id) and journalled as fill events; nil, err, res on failure.
function Broker:sync_fills(q)
  local all, err, res = self:fills(q)
  if not all then return nil, err, res end
  local new = {}
  for _, f in ipairs(all) do
    if self.sm:fill(f) == "applied" then
      new[#new + 1] = f
      local o = self.sm.by_id[f.order_id]
      if self.journal then
        local ok, jerr = self.journal:write_now { type = "fill", ts = f.transaction_time or now_us(),
          symbol = f.symbol, side = f.side == "buy" and "buy" or "sell", qty = f.qty, price = f.price,
          order_id = o and o.seq or nil, client_order_id = o and o.client_order_id or nil,
          broker_id = f.order_id, activity_id = f.id, status = f.type or "fill" }
        if not ok then return nil, "gt.live.sync_fills: " .. tostring(jerr) end
      end
    end
  end
  return new
end

-- ---- reconciliation ----

-- What the journal says: the last order event of each client_order_id of the session, the
-- open ones (not in a final state), and the positions of the last committed state.
local FINAL = { filled = true, canceled = true, expired = true, replaced = true, rejected = true,
  not_sent = true }
function M.journal_state(J)
  local rows = assert(J:query { type = "order" })
  local orders, last = {}, {}
  for _, r in ipairs(rows) do
    if r.client_order_id then last[r.client_order_id] = r end
  end
  for cid, r in pairs(last) do
    local st = r.broker_status or r.status
    if not FINAL[st] and r.status ~= "rejected" and r.status ~= "not_sent" then
      orders[#orders + 1] = { client_order_id = cid, id = r.broker_id, symbol = r.symbol, status = st,
        journal_status = r.status }
    end
  end
  table.sort(orders, function(a, b) return a.client_order_id < b.client_order_id end)
  local st = J:state()
  local positions = {}
  for sym, p in pairs(st and st.positions or {}) do
    positions[sym] = type(p) == "table" and (p.qty or 0) or p
  end
  return { orders = orders, positions = positions }
end

local function fmtq(x)
  if x == math.floor(x) then return ("%d"):format(x) end
  return ("%.6g"):format(x)
end

-- reconcile(state) with state = { positions = { SYM = qty }, orders = { {client_order_id=,
-- id=, symbol=, status=}... } } (M.journal_state(J)) -> ok, report. report.lines says what
-- disagrees ("AAPL: broker holds 10, journal 0"); report.updates lists journal-open orders
-- the broker has closed (status and fills to apply); report.text is the lines joined.
-- An order missing from the open list is looked up by id, never assumed cancelled.
function Broker:reconcile(state)
  h_of(self)
  state = state or {}
  local lines, updates = {}, {}
  local function add(s) lines[#lines + 1] = s end
  local acct, aerr = self:account()
  if not acct then add("account: " .. aerr)
  elseif acct.trading_blocked or acct.account_blocked then
    add(("account %s: %s at the broker"):format(acct.status, acct.account_blocked and "account blocked" or "trading blocked"))
  end
  local pos, perr = self:positions()
  if not pos then
    add("positions: " .. perr)
  else
    local seen = {}
    for _, p in ipairs(pos) do
      seen[p.symbol] = true
      local j = (state.positions or {})[p.symbol] or 0
      if math.abs(p.qty - j) > 1e-9 then
        add(("%s: broker holds %s, journal %s"):format(p.symbol, fmtq(p.qty), fmtq(j)))
      end
    end
    for sym, q in pairs(state.positions or {}) do
      if not seen[sym] and math.abs(q) > 1e-9 then
        add(("%s: broker holds 0, journal %s"):format(sym, fmtq(q)))
      end
    end
  end
  local open, oerr = self:orders { status = "open", limit = 500 }
  if not open then
    add("open orders: " .. oerr)
  else
    local by_cid = {}
    for _, o in ipairs(open) do by_cid[o.client_order_id] = o end
    local known = {}
    for _, j in ipairs(state.orders or {}) do known[j.client_order_id] = j end
    for _, o in ipairs(open) do
      if not known[o.client_order_id] then
        add(("order %s (%s): open at the broker (%s %s %s %s), unknown to the journal"):format(
          o.client_order_id, o.id, o.status, o.side, fmtq(o.qty or 0), o.symbol))
      end
    end
    for _, j in ipairs(state.orders or {}) do
      if not by_cid[j.client_order_id] then
        -- not in the open list: look it up, by id when known, else by client_order_id
        local o, err, res
        if j.id then o, err, res = self:order(j.id) else o, err, res = self:order_by_client_id(j.client_order_id) end
        if o then
          updates[#updates + 1] = { client_order_id = j.client_order_id, id = o.id, status = o.status,
            filled_qty = o.filled_qty, filled_avg_price = o.filled_avg_price, order = o }
          if CLASS[o.status] ~= "terminal" then
            add(("order %s (%s): %s at the broker but missing from its open list"):format(
              j.client_order_id, o.id, o.status))
          end
        elseif res and res.outcome == "not_found" and not j.id then
          updates[#updates + 1] = { client_order_id = j.client_order_id, status = "not_submitted" }
        elseif res and res.outcome == "not_found" then
          add(("order %s (%s): the journal has it %s, the broker has no such order"):format(
            j.client_order_id, j.id, j.status or "open"))
        else
          add(("order %s: could not be looked up: %s"):format(j.client_order_id, tostring(err)))
        end
      end
    end
  end
  table.sort(lines)
  local report = { ok = #lines == 0, lines = lines, updates = updates, text = table.concat(lines, "\n") }
  return report.ok, report
end

-- ---- the kill switch ----

-- kill(flatten) -> report: cancels every open order with DELETE /v2/orders under a 1 s
-- budget (no retries); flatten also closes every position (DELETE /v2/positions?
-- cancel_orders=true). Journalled as a command event.
function Broker:kill(flatten)
  local h = h_of(self)
  local t0 = C.gt_clock_seconds()
  -- one second for everything: no retries, and a 429 block longer than that fails at once
  -- (reported) instead of holding the kill switch until the reset
  C.gt_broker_set_timeouts(h, 500, 1000)
  C.gt_broker_set_retries(h, 0)
  C.gt_broker_set_max_wait(h, 1)
  local items, err, res = self:cancel_all()
  C.gt_broker_set_timeouts(h, self.timeouts[1], self.timeouts[2])
  C.gt_broker_set_retries(h, self.retries)
  C.gt_broker_set_max_wait(h, self.max_wait)
  local report = { canceled = 0, failed = {}, elapsed = C.gt_clock_seconds() - t0, error = not items and err or nil,
    outcome = res and res.outcome }
  for _, it in ipairs(items or {}) do
    if it.status >= 200 and it.status < 300 then report.canceled = report.canceled + 1
    else report.failed[#report.failed + 1] = it end
  end
  if flatten then
    local closes, cerr = self:close_all(true)
    report.closed = closes
    report.close_error = not closes and cerr or nil
  end
  if self.journal then
    self.journal:write_now { type = "command", ts = now_us(), status = items and "ok" or "failed",
      reason = flatten and "kill: cancel all orders and close all positions" or "kill: cancel all orders",
      canceled = report.canceled, failed = #report.failed }
  end
  return report
end

return M
