-- gt.risk: the pre-trade risk gate and circuit breakers of engine/risk.c. Lua only configures
-- and reads it; every check runs in C (the engine calls the same gt_risk_check per order).
--
--   local gate = gt.risk.new("default")                      -- a preset
--   local gate = gt.risk.new{ preset = "paper", max_qty = 500 } -- a preset with overrides
--   local ok, rule, reason = gate:check({ symbol = "AAPL", side = "buy", qty = 10,
--     ref_price = 187.2, ref_ts = now, now = now }, { equity = 1e5, cash = 1e5 })
--   gate:on_bar(now, equity, close); gate:on_fill(now); gate:on_reject(now)
--   gate:on_stopout(now); gate:halt("reason"); gate:resume(); gate:state()
--   local bytes = gate:snapshot(); other:restore(bytes)
--
-- Limits are gt_risk_limits' fields (engine/gt_ffi.h): fractions of equity, counts, and
-- windows in microseconds (*_us). A limit that is 0 or absent is off. Times are the engine's
-- clock in epoch microseconds (bar time in a backtest), never os.time().
local bit = require "bit"
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C

local M = {}

local SEC = 1e6

-- Named presets. "default" is the seed orchestrator's and "paper" its paper RiskManager's
-- (../shared/seed/slices.md sections 2 and 12); "live" adds the seed's [S] live RiskConfig
-- (max_position_pct_per_symbol 0.2, max_exposure_pct 0.8, max order value 50000, mark
-- staleness 180 s, 10 requests/s, the 20-bar volatility breaker 0.15 / 0.2 / 0.25 with a
-- 30-minute cool-down, LiveRiskManager's max_positions 10 and daily loss 0.02), a price collar
-- tighter than Alpaca's 10 / 5 / 3 % (8 / 4 / 2 % at <= $25 / <= $50 / above), at most 180
-- orders a minute (under Alpaca's 200) and a 1-second duplicate window
-- (../shared/RELIABILITY.md sections 1 and 7). "off" turns every limit off.
M.PRESETS = {
  off = {},
  default = { max_position = 0.2, max_daily_loss = 0.02, max_drawdown = 0.1 },
  paper = { max_position = 0.2, max_daily_loss = 0.05, max_drawdown = 0.15,
    min_cash_reserve = 0.1 },
  live = { max_position = 0.2, max_gross = 0.8, max_notional = 50000, max_positions = 10,
    max_daily_loss = 0.02, max_drawdown = 0.1, max_ref_age_us = 180 * SEC,
    collar_tier1 = 25, collar_tier2 = 50, collar_low = 0.08, collar_mid = 0.04,
    collar_high = 0.02, max_per_sec = 10, max_per_min = 180, dup_window_us = 1 * SEC,
    vol_warn = 0.15, vol_reduce = 0.2, vol_halt = 0.25, vol_window = 20,
    vol_cooldown_us = 1800 * SEC },
}

local LIMIT_KEYS
for _, s in ipairs(gtffi.cdef_structs()) do
  if s.name == "gt_risk_limits" then
    LIMIT_KEYS = {}
    for _, f in ipairs(s.fields) do if f ~= "pad" then LIMIT_KEYS[f] = true end end
  end
end
assert(LIMIT_KEYS, "gt.risk: gt_risk_limits is missing from gt_ffi.h")

M.RULES = {}
for i = 0, C.GT_RISK_RULE_COUNT - 1 do M.RULES[i] = ffi.string(C.gt_risk_rule_name(i)) end
local STATES = { [C.GT_RISK_ACTIVE] = "ACTIVE", [C.GT_RISK_STATE_REDUCING] = "REDUCING",
  [C.GT_RISK_STATE_HALTED] = "HALTED" }
local CAUSES = {
  { C.GT_RISK_CAUSE_KILL, "kill_switch" }, { C.GT_RISK_CAUSE_DAILY_LOSS, "daily_loss" },
  { C.GT_RISK_CAUSE_DRAWDOWN, "drawdown" }, { C.GT_RISK_CAUSE_STOPOUTS, "stopouts" },
  { C.GT_RISK_CAUSE_REJECTS, "consecutive_rejects" },
  { C.GT_RISK_CAUSE_VOL_REDUCE, "volatility_reduce" },
  { C.GT_RISK_CAUSE_VOL_HALT, "volatility_halt" },
}
local SIDES = { buy = C.GT_RISK_BUY, sell = C.GT_RISK_SELL }
local TYPES = { market = C.GT_RISK_MARKET, limit = C.GT_RISK_LIMIT, stop = C.GT_RISK_STOP,
  stop_limit = C.GT_RISK_STOP_LIMIT }

-- The limits a preset (with overrides) resolves to, as a plain table.
function M.limits(spec)
  local out, over = {}, {}
  local name = "default"
  if type(spec) == "string" then
    name = spec
  elseif type(spec) == "table" then
    name = spec.preset or "off"
    over = spec
  elseif spec ~= nil then
    error("gt.risk: limits must be a preset name or a table", 3)
  end
  local p = M.PRESETS[name]
  if not p then
    error(("gt.risk: unknown preset %q (off, default, paper, live)"):format(tostring(name)), 3)
  end
  for k, v in pairs(p) do out[k] = v end
  for k, v in pairs(over) do
    if k ~= "preset" then
      if not LIMIT_KEYS[k] then
        error(("gt.risk: unknown limit %q"):format(tostring(k)), 3)
      end
      if type(v) ~= "number" then
        error(("gt.risk: limit %s must be a number, got %s"):format(k, type(v)), 3)
      end
      out[k] = v
    end
  end
  return out
end

local Gate = {}
Gate.__index = Gate

-- A gate from a preset name ("default" when nil) or a table of limits (preset = name for a
-- base, else every limit not given is off). Raises on an unknown or out-of-range limit.
function M.new(spec)
  local lim = M.limits(spec)
  local cl = ffi.new("gt_risk_limits")
  for k, v in pairs(lim) do cl[k] = v end
  local h = C.gt_risk_new(cl)
  if h == nil then error("gt.risk.new: " .. gtffi.errmsg(), 2) end
  return setmetatable({ h = ffi.gc(h, C.gt_risk_free), limits = lim,
    o = ffi.new("gt_risk_order"), a = ffi.new("gt_risk_account") }, Gate)
end

local function handle(self, level)
  if not self.h then error("gt.risk: gate is closed", level + 1) end
  return self.h
end

local function num(v, what, default)
  if v == nil then return default end
  if type(v) ~= "number" then
    error(("gt.risk: %s must be a number, got %s"):format(what, type(v)), 3)
  end
  return v
end

local NAN = 0 / 0

-- Returns true, or false, rule name, reason. order: symbol, side ("buy"|"sell"), type
-- ("market" default, "limit", "stop", "stop_limit"), qty, price, stop_price, ref_price,
-- ref_ts, now, reduces. account (or order.account): equity, cash, position_qty,
-- position_price, gross_exposure, open_exposure, n_positions. A missing number is NaN, so
-- the gate refuses it; a wrong type or an unknown side/type raises.
function Gate:check(order, account)
  local h = handle(self, 2)
  if type(order) ~= "table" then error("gt.risk: check expects an order table", 2) end
  account = account or order.account
  if type(account) ~= "table" then error("gt.risk: check expects an account table", 2) end
  local o, a = self.o, self.a
  if type(order.symbol) ~= "string" then error("gt.risk: order.symbol must be a string", 2) end
  local side = SIDES[order.side]
  if not side then
    error(("gt.risk: order.side %q is not buy or sell"):format(tostring(order.side)), 2)
  end
  local otype = TYPES[order.type or "market"]
  if not otype then
    error(("gt.risk: order.type %q is not market, limit, stop or stop_limit")
      :format(tostring(order.type)), 2)
  end
  if type(order.now) ~= "number" or type(order.ref_ts) ~= "number" then
    error("gt.risk: order.now and order.ref_ts must be epoch microseconds", 2)
  end
  o.symbol = order.symbol -- kept alive by `order` for the duration of the call
  o.side, o.type = side, otype
  o.qty = num(order.qty, "order.qty", NAN)
  o.price = num(order.price, "order.price", NAN)
  o.stop_price = num(order.stop_price, "order.stop_price", NAN)
  o.ref_price = num(order.ref_price, "order.ref_price", NAN)
  o.ref_ts, o.now = order.ref_ts, order.now
  o.reduces = order.reduces and 1 or 0
  a.equity = num(account.equity, "account.equity", NAN)
  a.cash = num(account.cash, "account.cash", NAN)
  a.position_qty = num(account.position_qty, "account.position_qty", 0)
  a.position_price = num(account.position_price, "account.position_price", 0)
  a.gross_exposure = num(account.gross_exposure, "account.gross_exposure", 0)
  a.open_exposure = num(account.open_exposure, "account.open_exposure", 0)
  a.n_positions = num(account.n_positions, "account.n_positions", 0)
  local rc = C.gt_risk_check(h, o, a)
  o.symbol = nil
  if rc == 0 then return true end
  return false, M.RULES[rc], ffi.string(C.gt_risk_reason(h))
end

local function time(now, what)
  if type(now) ~= "number" then
    error(("gt.risk: %s needs now in epoch microseconds"):format(what), 3)
  end
  return now
end

function Gate:on_bar(now, equity, close)
  C.gt_risk_on_bar(handle(self, 2), time(now, "on_bar"), equity or NAN, close or NAN)
end
function Gate:on_fill(now) C.gt_risk_on_fill(handle(self, 2), time(now, "on_fill")) end
function Gate:on_reject(now) C.gt_risk_on_reject(handle(self, 2), time(now, "on_reject")) end
function Gate:on_stopout(now) C.gt_risk_on_stopout(handle(self, 2), time(now, "on_stopout")) end

-- The kill switch: HALTED (nothing passes) until :resume().
function Gate:halt(reason)
  C.gt_risk_halt(handle(self, 2), reason and tostring(reason) or "kill switch")
end
function Gate:resume() C.gt_risk_resume(handle(self, 2)) end

-- A plain table: state ("ACTIVE" | "REDUCING" | "HALTED"), causes (list of names),
-- halt_reason, vol_warning, consec_rejects, checks, accepted, equity, peak, day_start,
-- daily_loss, drawdown, vol (NaN until the window fills), refused (rule name -> count).
function Gate:state()
  local h = handle(self, 2)
  local s = ffi.new("gt_risk_status")
  C.gt_risk_status_get(h, s)
  local causes = {}
  for _, c in ipairs(CAUSES) do
    if bit.band(s.causes, c[1]) ~= 0 then causes[#causes + 1] = c[2] end
  end
  local refused = {}
  for i = 1, C.GT_RISK_RULE_COUNT - 1 do
    if s.refused[i] > 0 then refused[M.RULES[i]] = tonumber(s.refused[i]) end
  end
  return { state = STATES[s.state], causes = causes,
    halt_reason = ffi.string(C.gt_risk_halt_reason(h)), vol_warning = s.vol_warning ~= 0,
    consec_rejects = s.consec_rejects, checks = tonumber(s.checks),
    accepted = tonumber(s.accepted), equity = s.equity, peak = s.peak,
    day_start = s.day_start, daily_loss = s.daily_loss, drawdown = s.drawdown, vol = s.vol,
    refused = refused }
end

-- The whole state as a string of bytes (for the orchestrator to store), and back. restore
-- returns true, or nil and a message when the bytes are not this build's gate state.
function Gate:snapshot()
  local h = handle(self, 2)
  local n = tonumber(C.gt_risk_snapshot(h, nil, 0))
  local buf = ffi.new("uint8_t[?]", n)
  C.gt_risk_snapshot(h, buf, n)
  return ffi.string(buf, n)
end

function Gate:restore(bytes)
  local h = handle(self, 2)
  if type(bytes) ~= "string" then error("gt.risk: restore expects a string", 2) end
  local rc = C.gt_risk_restore(h, ffi.cast("const uint8_t *", bytes), #bytes)
  if rc < 0 then return nil, gtffi.errmsg(rc) end
  return true
end

function Gate:close()
  if self.h then
    C.gt_risk_free(ffi.gc(self.h, nil))
    self.h = nil
  end
end

return M
