-- gt.live_exec: a session's execution through a REST broker (gt.live), for mode = "live".
--
-- The session's books stay the engine's ledger (engine/bt.c in GT_FILL_EXTERNAL mode): the
-- cycle decides, sizes and gates orders exactly as in paper mode and books them as working
-- orders; this module sends them and brings the broker's answers back:
--
--   data step      sync(): new FILL activities (de-duplicated by activity id) applied to the
--                  ledger once each, as fill events of the cycle; the status of every working
--                  order looked up, and the ones the broker closed (canceled, expired,
--                  rejected) closed in the ledger
--   after commit   send(): every working order the broker does not have yet is submitted
--                  (gt.live's idempotent submit: client_order_id from the session and the
--                  ledger's order id, the intent on disk before the POST)
--   start          start(): orders the committed books hold but the broker may not have are
--                  looked up by client_order_id; fills are synced; then positions and open
--                  orders are reconciled with the broker. Any disagreement halts the gate
--                  and the session stops with the report; nothing is sent before it agrees.
--
-- The fills are committed with the books in one transaction, so a process killed at any
-- moment restarts with books and fill ids that agree; an intent is committed with the books
-- before it is sent, so the restart asks the broker about the same client_order_id (found:
-- adopted; not found: sent). Decisions are never made twice: a symbol with an order working
-- at the broker books no new one (GT_EBUSY) until the broker closes or fills it.
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C
local live = require "gt.live"

local M = {}

local Exec = {}
Exec.__index = Exec

local TERMINAL = { canceled = C.GT_ORDER_CANCELED, expired = C.GT_ORDER_EXPIRED,
  rejected = C.GT_ORDER_REJECTED, done_for_day = C.GT_ORDER_EXPIRED }

-- A fresh 64-bit value for the client order ids of a new session (so two sessions of the
-- same workflow, say with two databases, never share an id at the broker).
local function nonce()
  local f = io.open("/dev/urandom", "rb")
  local b = f and f:read(8)
  if f then f:close() end
  if not b or #b ~= 8 then error("gt.live_exec: cannot read /dev/urandom for a session nonce", 0) end
  return (b:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

-- new(sess) -> exec | nil, err. The session's journal must be open (durable).
function M.new(sess)
  local wf, J = sess.wf, sess.journal
  if not J or not J.durable then
    return nil, ("%s: a live session needs its journal (journal = { enabled = true })"):format(wf.name)
  end
  local b = wf.broker
  local ext = sess.resumed_ext and sess.resumed_ext.live
  local self = setmetatable({ sess = sess, dry_run = b.dry_run or false, nonce = ext and ext.nonce or nonce(),
    fill_after = ext and ext.fill_after or 0, sent = 0, would_send = 0, fills = 0, closed = 0 }, Exec)
  self.session = J.key .. "/" .. self.nonce
  local br, err = live.broker { base_url = b.base_url, key_file = b.key_file, paper = b.paper,
    journal = J, session = self.session, rate_per_min = b.rate_per_min, timeout = b.timeout,
    trace = b.trace }
  if not br then
    return nil, ("%s: the Alpaca broker: %s"):format(wf.name, tostring(err))
  end
  self.broker = br
  -- orders of the books whose client_order_id is the broker's (journalled when adopted)
  self.foreign = {}
  local prefix = live.client_order_id(self.session, 1):sub(1, -2)
  for cid, t in pairs(br.sm.orders) do
    if t.seq and cid:sub(1, #prefix) ~= prefix then self.foreign[t.seq] = t end
  end
  sess.ext = sess.ext or {}
  sess.ext.live = { nonce = self.nonce, fill_after = self.fill_after }
  if sess.resumed_at and not ext then
    br:close()
    return nil, ("%s: the saved session has no client order id nonce; it was not a live session "
      .. "(start one with another --db)"):format(wf.name)
  end
  self:hook_gate(sess.gate)
  return self
end

-- The kill switch cancels at the broker at once, whoever halts the gate (gtengine halt,
-- SIGUSR1, attach); gt.reload calls this again for a gate it swaps in.
function Exec:hook_gate(gate)
  if not gate then return end
  local cls = getmetatable(gate).__index
  gate.halt = function(g, reason)
    cls.halt(g, reason)
    self:kill(reason)
  end
  -- resumed (gtengine resume, attach): the next halt cancels again, and orders go out again
  gate.resume = function(g)
    cls.resume(g)
    self.killed, self.flattened = nil, nil
  end
end

-- The client_order_id of the ledger's order id: ours, or the broker's own for an order it
-- made on the session's behalf (a flatten's closes), adopted under that ledger id.
function Exec:cid(id)
  local t = self.foreign[id]
  if t then return t.client_order_id end
  return live.client_order_id(self.session, id)
end

local SIDE = { [C.GT_BUY] = "buy", [C.GT_SELL] = "sell" }

-- The ledger's working orders: { id =, symbol = index, side =, qty =, filled = }.
function Exec:_working()
  local op = ffi.new("const gt_order *[1]")
  local n = tonumber(C.gt_bt_orders(self.sess.bt, op))
  local out = {}
  for r = 0, n - 1 do
    local o = op[0][r]
    if o.status == C.GT_ORDER_OPEN or o.status == C.GT_ORDER_PARTIAL or o.status == C.GT_ORDER_PENDING then
      out[#out + 1] = { id = tonumber(o.id), j = tonumber(o.symbol) + 1, side = SIDE[o.side], qty = o.qty,
        filled = o.filled }
    end
  end
  return out
end

function Exec:_publish(ev)
  ev.ts = ev.ts or self.sess.state.ts or 0
  if self.holding then self.held[#self.held + 1] = ev; return end
  self.sess.bus:publish(ev)
end

-- The broker's FILL activities from 5 s before the last one seen (activity ids make the
-- overlap harmless), or all of them for a new session.
function Exec:_fills()
  local after = self.fill_after > 5e6 and self.fill_after - 5e6 or 0
  local fills, err = self.broker:fills { after = after }
  if not fills then return nil, "fills: " .. tostring(err) end
  return fills
end

-- Fills since the last one seen, applied to the ledger once each; publishes fill events.
function Exec:_sync_fills()
  local b, sess = self.broker, self.sess
  local fills, err = self:_fills()
  if not fills then return nil, err end
  local st = sess.state
  for _, f in ipairs(fills) do
    local o = b.sm.by_id[f.order_id]
    if o and o.seq and not b.sm.fills_seen[f.id] then
      b.sm:fill(f)
      local rc = C.gt_bt_external_fill(sess.bt, o.seq, f.qty, f.price, 0, f.transaction_time or st.ts or 0)
      if rc < 0 then return nil, ("fill %s of order %s: %s"):format(f.id, o.client_order_id, gtffi.errmsg(rc)) end
      self.fills = self.fills + 1
      self:_publish { type = "fill", symbol = f.symbol, order_id = o.seq, side = f.side == "buy" and 1 or -1,
        qty = f.qty, price = f.price, value = f.qty * f.price, fee = 0, activity_id = f.id,
        broker_id = f.order_id, client_order_id = o.client_order_id, status = f.type or "fill" }
      sess.counts.fills = sess.counts.fills + 1
      sess.live_fill_seen = true
    end
    if f.transaction_time and f.transaction_time > self.fill_after then self.fill_after = f.transaction_time end
  end
  sess.ext.live.fill_after = self.fill_after
  return true
end

-- An order the broker returned (sent, or found by client_order_id): the next fills sync
-- starts no later than its creation. Its fills may have been fetched already and passed
-- over while its broker id was unknown (an unknown outcome not yet resolved: the response
-- lost and the lookup failing), and the watermark moved past them; without this they
-- would never be fetched again and the books would keep the order working, short of what
-- the broker filled. Fetching again is harmless: fills count once by activity id.
function Exec:_rewind(o)
  local t0 = o and o.created_at
  if t0 and t0 < self.fill_after then
    self.fill_after = t0
    self.sess.ext.live.fill_after = t0
  end
end

-- The broker's status of every working order it has; closed ones are closed in the ledger.
-- Several are read from one list of the latest orders (GET /v2/orders?status=all, 500 at
-- most), not one GET each: under the client's 180 requests a minute, 50 working orders
-- were 51 requests, 17 s of a cycle in which no halt or attach command was served. An
-- order the list does not show (older, or left out by the broker) is asked for by id.
function Exec:_sync_orders(working)
  local b = self.broker
  local listed = {}
  if #working > 1 then
    local list = b:orders { status = "all", limit = 500, direction = "desc" }
    for _, o in ipairs(list or {}) do listed[o.id] = o end
  end
  for _, w in ipairs(working) do
    local t = b.sm.orders[self:cid(w.id)]
    if t and t.id then
      local o, err, res = listed[t.id], nil, nil
      if not o then o, err, res = b:order(t.id) end
      if o then
        b.sm:update(o)
        local close = TERMINAL[o.status]
        if close then
          gtffi.check(C.gt_bt_external_close(self.sess.bt, w.id, close), 1)
          self.closed = self.closed + 1
        end
      elseif not (res and res.outcome == "not_found") then
        return nil, ("order %s: %s"):format(t.client_order_id, tostring(err))
      end
    end
  end
  return true
end

-- data step, before anything decides: the broker's fills and closes since the last cycle.
-- A broker that cannot be reached is an error event; the books keep what they had and the
-- next cycle asks again (fills are never lost: they are found by activity id later).
-- Only while the ledger has orders working (or every SWEEP cycles, for a fill that crossed a
-- cancel): a quiet session makes no requests, so a replay rehearsal is not held to the rate
-- limit bar after bar.
local SWEEP = 30
function Exec:sync()
  local held = self.held
  if held then -- the start's fill events, with the first cycle's commit (see start)
    self.held = nil
    for _, ev in ipairs(held) do self.sess.bus:publish(ev) end
  end
  local working = self:_working()
  self.idle = (self.idle or 0) + 1
  if #working == 0 and self.idle < SWEEP and (self.force or 0) <= 0 then return end
  self.force = (self.force or 0) - 1
  self.idle = 0
  local ok, err = self:_sync_fills()
  if ok then ok, err = self:_sync_orders(working) end
  if not ok then
    self:_publish { type = "error", reason = "broker: " .. tostring(err), source = "broker" }
  end
end

-- After the cycle's commit: every working order the broker does not have is sent. The
-- market must be open (the broker's clock): a decision made on a bar is not sent to wait for
-- an open at an unknown price; it is cancelled with the reason instead.
function Exec:send()
  local b, sess = self.broker, self.sess
  local todo = {}
  for _, w in ipairs(self:_working()) do
    local t = b.sm.orders[self:cid(w.id)]
    if not (t and t.id) then todo[#todo + 1] = w end
  end
  if #todo == 0 then return end
  if sess.gate and C.gt_risk_killed(sess.gate.h) ~= 0 then return end -- halted: nothing goes out
  local clock, cerr = b:clock()
  local why
  if not clock then
    self:_publish { type = "error", reason = "broker clock: " .. tostring(cerr) .. "; orders wait", source = "broker" }
    return
  elseif not clock.is_open then
    why = "market closed at the broker" .. (clock.next_open and (" (opens " ..
      require("gt.time").format(clock.next_open) .. ")") or "") .. "; not sent"
  end
  for _, w in ipairs(todo) do
    local sym = sess.state.symbols[w.j]
    local intent = { seq = w.id, symbol = sym, side = w.side, qty = w.qty - w.filled, type = "market",
      tif = "day", ts = sess.state.ts }
    if why or self.dry_run then
      local reason = why or "dry run: would send"
      sess.journal:write_now { type = "order", ts = sess.state.ts, symbol = sym, side = w.side, qty = intent.qty,
        order_id = w.id, client_order_id = self:cid(w.id), status = why and "not_sent" or "would_send",
        reason = reason }
      gtffi.check(C.gt_bt_external_close(sess.bt, w.id, C.GT_ORDER_CANCELED), 1)
      if not why then self.would_send = self.would_send + 1 end
      if not sess.quiet and self.dry_run and not why then
        sess:say("would send: %s %s %s (order %d)", w.side, require("gt.fmt").num(intent.qty, 0), sym, w.id)
      end
    else
      local o, err, res = b:submit(intent)
      if o then
        self.sent = self.sent + 1
        self:_rewind(o)
      elseif res and (res.outcome == "rejected" or res.outcome == "local") then
        -- a definite no: the ledger's order closes with the broker's reason
        gtffi.check(C.gt_bt_external_close(sess.bt, w.id, C.GT_ORDER_REJECTED), 1)
        self:_publish { type = "error", reason = ("order %d (%s %s): %s"):format(w.id, w.side, sym, tostring(err)),
          source = "broker" }
      else
        -- unresolved: it stays working without a broker id; the next send resolves it
        self:_publish { type = "error", reason = ("order %d: %s"):format(w.id, tostring(err)), source = "broker" }
      end
    end
  end
end

-- The books' positions and the working orders the broker has, for reconcile.
function Exec:_books_state()
  local b, sess = self.broker, self.sess
  local state = { positions = {}, orders = {} }
  for j = 1, sess.k do
    local q = sess.qty[(j - 1) * sess.stride]
    if q ~= 0 then state.positions[sess.state.symbols[j]] = q end
  end
  for _, w in ipairs(self:_working()) do
    local cid = self:cid(w.id)
    local t = b.sm.orders[cid]
    if t and t.id then
      state.orders[#state.orders + 1] = { client_order_id = cid, id = t.id, symbol = sess.state.symbols[w.j],
        status = t.status }
    end
  end
  return state
end

-- Before the first cycle: finish what the committed books left (orders sent or not), sync,
-- reconcile. -> true | nil, report text.
-- The fill events of the start are held back and published by the first cycle's sync: they
-- belong to that cycle's commit, with the books that apply them. A start that fails, or a
-- session stopped before its first commit, drops them with its books; were they journalled
-- (J:finish writes what the journal holds outside a cycle), the next start would count
-- those fills as seen, and the books would never get them.
-- An order working at the broker can fill between the fills sync and the positions the
-- comparison reads: a position that disagrees is compared again after another sync, and
-- only a disagreement no new fill explains halts.
local RECONCILE_TRIES = 5
function Exec:start()
  local b, sess = self.broker, self.sess
  -- a kill switch thrown while no process ran (gtengine halt, or committed books that were
  -- halted) still cancels what is open at the broker
  if sess.gate and C.gt_risk_killed(sess.gate.h) ~= 0 then
    self:kill("halted before this start", sess.journal:control("flatten") ~= nil)
  end
  local lines = {}
  self.held, self.holding = {}, true
  for _, w in ipairs(self:_working()) do
    local cid = self:cid(w.id)
    local t = b.sm.orders[cid]
    if not (t and t.id) then
      local o, err, res = b:order_by_client_id(cid)
      if o then
        local _, aerr = b:adopt(o, w.id)
        if aerr then lines[#lines + 1] = aerr end
        self:_rewind(o)
      elseif not (res and res.outcome == "not_found") then
        lines[#lines + 1] = ("order %s: could not be looked up: %s"):format(cid, tostring(err))
      end
    end
  end
  local disagree
  for _ = 1, RECONCILE_TRIES do
    if #lines > 0 then break end
    local seen = self.fills
    local ok, err = self:_sync_fills()
    if ok then ok, err = self:_sync_orders(self:_working()) end
    if not ok then lines[#lines + 1] = err; break end
    if disagree and self.fills == seen then break end -- no fill since the comparison: it stands
    local rok, report = b:reconcile(self:_books_state())
    disagree = not rok and report.lines or nil
    if rok then break end
  end
  for _, l in ipairs(disagree or {}) do lines[#lines + 1] = l end
  -- positions reflect the fills just applied
  for j = 1, sess.k do
    local p = sess.state.positions[j]
    p.qty = sess.qty[(j - 1) * sess.stride]
  end
  self.holding = false
  if #lines > 0 then
    self.held = nil
    table.sort(lines)
    local text = table.concat(lines, "\n")
    if sess.gate then getmetatable(sess.gate).__index.halt(sess.gate, "reconciliation failed") end
    sess.journal:write_now { type = "command", ts = sess.state.ts or math.floor(os.time() * 1e6), status = "halted",
      reason = "reconciliation with the broker failed:\n" .. text }
    return nil, text
  end
  self.idle = SWEEP -- the first cycle syncs (and publishes the start's fill events) whatever it finds
  return true
end

-- The kill switch: every open order at the broker cancelled (1 s budget); with flatten,
-- every position closed too (DELETE /v2/positions?cancel_orders=true). Journalled. Once per
-- session, and once more for a later flatten.
function Exec:kill(reason, flatten)
  if self.killed and (self.flattened or not flatten) then return self.kill_report end -- halted already
  local first = not self.killed
  self.killed = true
  if flatten then self.flattened = true end
  local rep = self.broker:kill(flatten and true or false)
  self.kill_report = rep
  self.force = 3 -- the next cycles sync even with nothing working: fills that crossed the cancels
  local closed = 0
  for _, it in ipairs(rep.closed or {}) do
    if it.status >= 200 and it.status < 300 then
      closed = closed + 1
      local ok, err = self:_adopt_close(it)
      if not ok then rep.close_error = (rep.close_error and (rep.close_error .. "; ") or "") .. err end
    end
  end
  self:_publish { type = "error", source = "broker", reason = ("kill switch (%s): %d orders cancelled at the broker "
    .. "in %.3f s%s%s"):format(tostring(reason), rep.canceled, rep.elapsed,
    flatten and ("; %d positions closed%s"):format(closed, rep.close_error and (" (" .. rep.close_error .. ")") or "") or "",
    rep.error and ("; " .. rep.error) or (#rep.failed > 0 and ("; %d failed"):format(#rep.failed) or "")),
    status = first and "kill" or "flatten" }
  return rep
end

-- A position the broker closed for a flatten: its closing order is booked in the ledger
-- (gt_bt_external_order: the gate did not decide it) and adopted under that id, so its fills
-- move the books like any other and a restart knows it.
function Exec:_adopt_close(it)
  local sess, b = self.sess, self.broker
  local j
  for k = 1, sess.k do if sess.state.symbols[k] == it.symbol then j = k end end
  if not j then return true end -- not this session's symbol: not its books
  if not it.order_id then return nil, it.symbol .. ": the close answer names no order" end
  local o, err = b:order(it.order_id)
  if not o then return nil, ("%s: the closing order %s: %s"):format(it.symbol, it.order_id, tostring(err)) end
  local id = C.gt_bt_external_order(sess.bt, j - 1, o.side == "buy" and C.GT_BUY or C.GT_SELL, o.qty)
  if id < 0 then return nil, ("%s: %s"):format(it.symbol, gtffi.errmsg(tonumber(id))) end
  local t, aerr = b:adopt(o, tonumber(id))
  if not t then return nil, aerr end
  self.foreign[tonumber(id)] = t
  return true
end

function Exec:close()
  if self.broker then self.broker:close() end
end

return M
