-- gt.bus: the event bus of a session. Typed events, delivered synchronously and in order
-- of subscription, within the cycle that publishes them.
--
--   local bus = gt.bus.new()
--   local sub = bus:subscribe("fill", function(ev) print(ev.symbol, ev.qty, ev.price) end)
--   bus:subscribe("*", journal_append, "journal")   -- every event
--   bus:publish{ type = "fill", ts = now, symbol = "AAPL", qty = 10, price = 187.2 }
--   bus:unsubscribe(sub)
--
-- A subscriber that raises is isolated: the error is counted, reported as an `error` event
-- to the other subscribers (never back to the one that failed, and never recursively), and
-- delivery goes on; trading does not stop because a listener broke. bus:errors() lists them.
-- publish() costs one table lookup when nobody listens to a type; steps that build large
-- events ask bus:wants(type) first.
local M = {}

-- The event types of a trading cycle (DESIGN.md section 4), in cycle order, then the
-- session's own.
M.TYPES = { "bar", "analysis", "regime", "selection", "sizing", "risk_decision", "order", "fill",
  "position", "equity", "breaker", "alert", "error", "tier_change", "session", "command", "reload" }
local KNOWN = {}
for _, t in ipairs(M.TYPES) do KNOWN[t] = true end
M.KNOWN = KNOWN

local Bus = {}
Bus.__index = Bus

function M.new()
  return setmetatable({ subs = {}, all = {}, next_id = 0, nerrors = 0, errs = {}, published = 0,
    delivering_error = false, order = {} }, Bus)
end

local function check_type(t, level)
  if not KNOWN[t] then
    error(("gt.bus: unknown event type '%s' (known: %s, or \"*\" for all)")
      :format(tostring(t), table.concat(M.TYPES, ", ")), level + 1)
  end
end

-- subscribe(type or "*", fn[, name]) -> a subscription to pass to unsubscribe.
function Bus:subscribe(t, fn, name)
  if t ~= "*" then check_type(t, 2) end
  if type(fn) ~= "function" then error("gt.bus: subscribe needs a function", 2) end
  self.next_id = self.next_id + 1
  local sub = { id = self.next_id, type = t, fn = fn, name = name or ("subscriber " .. self.next_id) }
  if t == "*" then
    self.all[#self.all + 1] = sub
  else
    local list = self.subs[t]
    if not list then list = {}; self.subs[t] = list end
    list[#list + 1] = sub
  end
  self:_order()
  return sub
end

-- Delivery order is subscription order across typed and "*" subscribers alike.
function Bus:_order()
  self.order = {}
  for _, t in ipairs(M.TYPES) do
    local merged = {}
    for _, s in ipairs(self.subs[t] or {}) do merged[#merged + 1] = s end
    for _, s in ipairs(self.all) do merged[#merged + 1] = s end
    table.sort(merged, function(a, b) return a.id < b.id end)
    if #merged > 0 then self.order[t] = merged end
  end
end

function Bus:unsubscribe(sub)
  if type(sub) ~= "table" or not sub.id then error("gt.bus: unsubscribe needs what subscribe returned", 2) end
  local list = sub.type == "*" and self.all or self.subs[sub.type] or {}
  for i = #list, 1, -1 do
    if list[i] == sub then table.remove(list, i) end
  end
  self:_order()
end

-- True when some subscriber would receive an event of type t.
function Bus:wants(t)
  return self.order[t] ~= nil
end

local function report(self, sub, ev, err)
  self.nerrors = self.nerrors + 1
  local msg = ("subscriber '%s' failed on a %s event: %s"):format(sub.name, ev.type, tostring(err))
  if #self.errs < 100 then self.errs[#self.errs + 1] = msg end
  if self.delivering_error or ev.type == "error" then return end
  -- tell the others (not the one that failed), once
  self.delivering_error = true
  local eev = { type = "error", ts = ev.ts, cycle = ev.cycle, reason = msg, source = "bus" }
  for _, s in ipairs(self.order.error or {}) do
    if s ~= sub then
      local ok, e2 = pcall(s.fn, eev)
      if not ok then
        self.nerrors = self.nerrors + 1
        if #self.errs < 100 then
          self.errs[#self.errs + 1] = ("subscriber '%s' failed on an error event: %s"):format(s.name, tostring(e2))
        end
      end
    end
  end
  self.delivering_error = false
end

-- publish(ev): ev.type is one of M.TYPES; delivered to each subscriber in order.
function Bus:publish(ev)
  local list = self.order[ev.type]
  if not list then
    if not KNOWN[ev.type] then check_type(ev.type, 2) end
    return
  end
  self.published = self.published + 1
  for i = 1, #list do
    local sub = list[i]
    local ok, err = pcall(sub.fn, ev)
    if not ok then report(self, sub, ev, err) end
  end
end

-- The subscriber failures so far (at most the first 100 messages) and their count.
function Bus:errors()
  return self.errs, self.nerrors
end

return M
