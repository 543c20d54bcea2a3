-- gt.metrics: backtest performance statistics, computed in C (engine/metrics.c).
-- Formulas, conventions and every NaN case: examples/METRICS.md.
--
--   local st = metrics.compute{ equity = eq, ts = ts, trades = tr, m = 3,
--                               periods_per_year = 252, risk_free = 0.02 }
--   st.sharpe, st.max_drawdown_pct, ...   -- plain numbers; NaN where undefined
--
-- Arrays are FFI arrays (0-based, caller-owned, n given) or Lua lists (1-based; n defaults
-- to their length and they are copied once). Misuse raises; data the engine rejects (NaN
-- equity, a trade outside the bars, ...) returns nil, message.
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local series = require "gt.series"
local C = gtffi.C

local M = {}

-- Every gt_stats field in struct order, with a title and unit for printed tables.
-- Units: "%" percent, "ccy" account currency, "bars", "years", "" plain number or ratio.
M.FIELDS = {
  { key = "start_equity", title = "Start equity", unit = "ccy" },
  { key = "final_equity", title = "Final equity", unit = "ccy" },
  { key = "return_pct", title = "Return", unit = "%" },
  { key = "cagr_pct", title = "CAGR", unit = "%" },
  { key = "ann_return_pct", title = "Return (ann.)", unit = "%" },
  { key = "ann_vol_pct", title = "Volatility (ann.)", unit = "%" },
  { key = "sharpe", title = "Sharpe ratio", unit = "" },
  { key = "sortino", title = "Sortino ratio", unit = "" },
  { key = "calmar", title = "Calmar ratio", unit = "" },
  { key = "max_drawdown_pct", title = "Max drawdown", unit = "%" },
  { key = "max_drawdown_bars", title = "Max drawdown duration", unit = "bars" },
  { key = "avg_drawdown_pct", title = "Avg drawdown", unit = "%" },
  { key = "num_trades", title = "Trades", unit = "" },
  { key = "win_rate_pct", title = "Win rate", unit = "%" },
  { key = "profit_factor", title = "Profit factor", unit = "" },
  { key = "expectancy", title = "Expectancy", unit = "ccy" },
  { key = "avg_trade_pct", title = "Avg trade", unit = "%" },
  { key = "best_trade_pct", title = "Best trade", unit = "%" },
  { key = "worst_trade_pct", title = "Worst trade", unit = "%" },
  { key = "avg_trade_bars", title = "Avg trade duration", unit = "bars" },
  { key = "max_trade_bars", title = "Max trade duration", unit = "bars" },
  { key = "exposure_pct", title = "Exposure time", unit = "%" },
  { key = "sqn", title = "SQN", unit = "" },
  { key = "buy_hold_return_pct", title = "Buy & hold return", unit = "%" },
  { key = "beta", title = "Beta", unit = "" },
  { key = "alpha_pct", title = "Alpha (ann.)", unit = "%" },
  { key = "years", title = "Years", unit = "years" },
  { key = "total_fees", title = "Fees", unit = "ccy" },
}

-- The struct's own field list, so a field added to gt_stats in gt_ffi.h shows up in
-- compute's result even before FIELDS learns its title.
local STATS_KEYS
for _, s in ipairs(gtffi.cdef_structs()) do
  if s.name == "gt_stats" then STATS_KEYS = s.fields end
end
assert(STATS_KEYS, "gt.metrics: gt_stats is missing from gt_ffi.h")
M.KEYS = STATS_KEYS

local TRADE_FIELDS = { "symbol", "entry_bar", "exit_bar", "entry_ts", "exit_ts", "entry_price",
  "exit_price", "size", "pnl", "return_pct", "fees" }

-- Raises at the first caller outside this file, however deep the helper that found it.
local SRC = debug.getinfo(1, "S").source
local function misuse(msg)
  local level = 2
  while true do
    local info = debug.getinfo(level, "S")
    if not info or info.source ~= SRC then break end
    level = level + 1
  end
  error("gt.metrics: " .. msg, level)
end

-- A Lua list or an FFI array as `ctype[?]` (nil stays nil). conv maps one Lua value.
-- A checked column or array gives its raw pointer, once its length covers n.
local function array(v, name, n, ctype, conv)
  if v == nil then return nil end
  if type(v) == "cdata" then
    local p, len = series.raw(v)
    if len and len < n then misuse(("%s has %d values, n is %d"):format(name, len, n)) end
    return p
  end
  if type(v) ~= "table" then misuse(("%s must be an FFI array or a Lua list"):format(name)) end
  if #v < n then misuse(("%s has %d values, n is %d"):format(name, #v, n)) end
  local a = ffi.new(ctype, n)
  for i = 1, n do a[i - 1] = conv(v[i], name, i) end
  return a
end

local function num(x, name, i)
  if type(x) ~= "number" and type(x) ~= "cdata" then
    misuse(("%s[%d] is a %s, not a number"):format(name, i, type(x)))
  end
  return x
end

local function flag(x, name, i)
  if type(x) == "boolean" then return x and 1 or 0 end
  return num(x, name, i) ~= 0 and 1 or 0
end

-- n from the argument or the length of a Lua list; an FFI array needs it given.
local function count(v, n, name)
  if n ~= nil then
    if type(n) ~= "number" or n < 0 or n % 1 ~= 0 then
      misuse(("%s must be a whole number >= 0"):format(name == "equity" and "n" or "m"))
    end
    return n
  end
  if type(v) == "table" then return #v end
  if v == nil then return 0 end
  local _, len = series.raw(v)
  if len then return len end
  local arg = name == "equity" and "n" or "m"
  misuse(("%s is an FFI array: give its length (%s=)"):format(name, arg))
end

local function trades_array(tr, m)
  if tr == nil then
    if m ~= 0 then misuse("m > 0 but no trades") end
    return nil
  end
  if type(tr) == "cdata" then return tr end
  if type(tr) ~= "table" then misuse("trades must be an FFI gt_trade array or a Lua list") end
  if #tr < m then misuse(("trades has %d entries, m is %d"):format(#tr, m)) end
  local a = ffi.new("gt_trade[?]", m)
  for j = 1, m do
    local t = tr[j]
    if type(t) ~= "table" then misuse(("trades[%d] is not a table"):format(j)) end
    local d = a[j - 1]
    for _, f in ipairs(TRADE_FIELDS) do
      local x = t[f]
      if x == nil then x = (f == "exit_bar") and -1 or 0 end -- no exit_bar: still open
      d[f] = num(x, "trades." .. f, j)
    end
  end
  return a
end

-- compute{equity=, ts=, n=, trades=, m=, benchmark=, in_market=, periods_per_year=252,
-- risk_free=0} -> a table keyed by gt_stats field names, or nil, message.
function M.compute(opts)
  if type(opts) ~= "table" then misuse("compute expects a table of options") end
  if opts.equity == nil then misuse("compute needs equity") end
  local n = count(opts.equity, opts.n, "equity")
  local m = count(opts.trades, opts.m, "trades")
  local ppy = opts.periods_per_year or 252
  local rf = opts.risk_free or 0
  if type(ppy) ~= "number" then misuse("periods_per_year must be a number") end
  if type(rf) ~= "number" then misuse("risk_free must be a number") end

  -- Locals keep the converted arrays alive through the C call.
  local eq = array(opts.equity, "equity", n, "double[?]", num)
  local ts = array(opts.ts, "ts", n, "int64_t[?]", num)
  local bench = array(opts.benchmark, "benchmark", n, "double[?]", num)
  local inm = array(opts.in_market, "in_market", n, "uint8_t[?]", flag)
  local tr = trades_array(opts.trades, m)

  local input = ffi.new("gt_stats_input")
  input.equity, input.ts, input.benchmark, input.in_market = eq, ts, bench, inm
  input.trades, input.n, input.m = tr, n, m
  input.periods_per_year, input.risk_free = ppy, rf
  local out = ffi.new("gt_stats")
  local ok, err = gtffi.try(C.gt_stats_compute(input, out))
  if not ok then return nil, err end
  return M.from_c(out)
end

-- A gt_stats struct as the plain table compute returns. Generated with each field named in
-- the source: a field looked up by a string variable is a slow path in compiled code, and
-- an optimiser builds this table once per combination.
do
  local src = { "local tonumber = tonumber\nreturn function(out) return {" }
  for _, k in ipairs(STATS_KEYS) do src[#src + 1] = ("  %s = tonumber(out.%s),"):format(k, k) end
  src[#src + 1] = "} end"
  M.from_c = assert(load(table.concat(src, "\n"), "=gt.metrics.from_c"))()
end

-- drawdown(equity, n) -> a checked array of n values, equity[i] / max(equity[0..i]) - 1
-- (<= 0), 0-based.
function M.drawdown(equity, n)
  n = count(equity, n, "equity")
  local eq = array(equity, "equity", n, "double[?]", num)
  local out = series.array(n)
  if n > 0 then C.gt_drawdown(eq, n, out.p) end
  return out
end

return M
