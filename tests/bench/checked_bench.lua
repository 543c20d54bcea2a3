-- checked_bench.lua: the cost of bounds-checked columns and arrays (issue 9). The same
-- work twice in one run, once through the checked types (s.close[i], an indicator
-- array a[i]: a metamethod doing two compares and a branch) and once through the raw
-- pointers they carry (s.close.p[i], a.p[i]): a rule loop as gt.strategy runs a rule
-- over every bar, and the whole event path (gt.backtest.run, mode = "event"). Each side
-- has its own copy of the loop code, so neither trace is polymorphic.
local gt = require "gt"

-- CPU time of this process: on a shared machine it moves less than the wall clock
local now = os.clock

local N = 1000000
local s = gt.data.synthetic { n = N, seed = 7, timeframe = "1m", weekends = true }
local slow = gt.ind.sma(s, 30)

-- A rule reading the close and an indicator at i and i - 1, and a driver that runs it
-- over every bar into a target array, as gt.strategy's from_rule does. Compiled once per
-- side (its own prototypes, so its own traces).
local SRC = [[
local rule = function(d, ind, i, p)
  local c, m = d.close, ind.slow
  if c[i] > m[i] and c[i - 1] <= m[i - 1] then return 1 end
  if c[i] < m[i] and c[i - 1] >= m[i - 1] then return p.flat end
end
local function signals(d, ind, p, n, target)
  local count = 0
  for i = 1, n - 1 do
    local t = rule(d, ind, i, p)
    if t then target[i] = t; count = count + 1 end
  end
  return count
end
return rule, signals
]]
local function side() return assert(loadstring(SRC, "=rule"))() end
local rule_c, signals_c = side()
local rule_r, signals_r = side()

local checked = { d = s, ind = { slow = slow } }
local raw = { d = { close = s.close.p, n = N }, ind = { slow = slow.p } }
local p = { flat = 0 }
local target = gt.array(N, 0 / 0).p

local function time_rule(signals, v)
  local t0 = now()
  local count = signals(v.d, v.ind, p, N, target)
  return now() - t0, count
end

-- The event path: rule per bar from on_bar, matching and accounting in C. The data goes
-- to the strategy through the backtest's look-ahead views either way; the sides differ
-- in what indicators() hands over (checked arrays vs raw pointers).
local function strategy(rule, use_raw)
  return {
    name = use_raw and "raw" or "checked", params = p,
    indicators = function(_, _) return { slow = use_raw and slow.p or slow } end,
    on_bar = function(ctx, i)
      if i < 1 then return end
      local t = rule(ctx.data, ctx.ind, i, ctx.params)
      if t then ctx:signal(t) end
    end,
  }
end
local ev_c, ev_r = strategy(rule_c, false), strategy(rule_r, true)
local opts = { mode = "event", commission = 0, slippage_bps = 0, size = 1 }
local function time_event(strat)
  collectgarbage()
  local t0 = now()
  local r = assert(gt.backtest.run(strat, s, opts))
  return now() - t0, r.stats.final_equity
end

-- Interleaved, best of many: the machine is shared and one slow run says nothing.
local best = { rc = math.huge, rr = math.huge, ec = math.huge, er = math.huge }
local nc, nr, fc, fr
for _ = 1, 40 do
  local t
  t, nc = time_rule(signals_c, checked); best.rc = math.min(best.rc, t)
  t, nr = time_rule(signals_r, raw); best.rr = math.min(best.rr, t)
end
for _ = 1, 5 do
  local t
  t, fc = time_event(ev_c); best.ec = math.min(best.ec, t)
  t, fr = time_event(ev_r); best.er = math.min(best.er, t)
end

print(("checked columns/arrays vs raw pointers, %d bars, best of 40 (rule loop) and 5 (event path)"):format(N))
print(("  rule loop (close + sma30 at i and i-1 per bar): checked %6.1f M bars/s, raw %6.1f M bars/s, cost %+.1f%%")
  :format(N / best.rc / 1e6, N / best.rr / 1e6, (best.rc / best.rr - 1) * 100))
print(("  event path (gt.backtest.run, same rule from on_bar): checked %6.2f M bars/s, raw %6.2f M bars/s, cost %+.1f%%")
  :format(N / best.ec / 1e6, N / best.er / 1e6, (best.ec / best.er - 1) * 100))
print(("  same answers: rule decisions %s (%d), final equity %s"):format(nc == nr and "yes" or "NO", nc,
  fc == fr and "yes" or "NO"))
