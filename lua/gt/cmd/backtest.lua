-- `gtengine backtest` and `gtengine strategies`.
local cli = require "gt.cli"
local fmt = require "gt.fmt"
local gtime = require "gt.time"

local M = {}

M.help = [[
  --strategy NAME         a file in strategies/ (see: gtengine strategies)
  --data FILE | --symbol S [--timeframe 1d] [--db PATH]
                          a CSV file, or bars stored with gtengine data import/fetch;
                          repeat either for a portfolio (put on the bars all of them have)
  --param k=v             override a strategy parameter (repeatable), e.g. --param fast=5
  --capital 10000         starting cash
  --size 0.95             fraction of equity an entry uses (1 = all-in whole units)
  --commission 0.001      fraction of notional per fill (--commission-kind pct|per_share|fixed)
  --slippage-bps 5        market and stop fills move against you by this much
  --spread-bps 0          full bid/ask spread; market and stop fills pay half
  --fill next_open|close  fill at the next bar's open (default, no look-ahead) or at the close
  --short                 let the strategy open shorts (same as --param short=true)
  --mode vector|event     C loop over precomputed signals (default) or Lua on_bar per bar
  --start DATE --end DATE restrict the data (YYYY-MM-DD)
  --risk-free 0.0         annual rate for Sharpe/Sortino
  --json                  print JSON (stats, trades) instead of the table
  --report FILE           write a self-contained HTML report
  --check-lookahead       recompute signals on truncated data and report any that peek ahead
  --no-save               do not record the run in the database
]]

local function parse_value(v)
  if v == "true" then return true end
  if v == "false" then return false end
  return tonumber(v) or v
end

local SPEC = { strategy = "string", data = "list", symbol = "list", timeframe = "string",
  db = "string", param = "list", capital = "number", size = "number", commission = "number",
  commission_kind = "string", slippage_bps = "number", spread_bps = "number", fill = "string",
  short = "flag", mode = "string", start = "string", ["end"] = "string", risk_free = "number",
  json = "flag", report = "string", check_lookahead = "flag", no_save = "flag", volume_cap = "number" }

-- One series, or several (repeated --data or --symbol) put on their common bars.
local function load_data(o)
  local data = require "gt.data"
  local list = {}
  if o.data then
    if o.symbol and #o.symbol ~= #o.data then cli.usage("give one --symbol per --data file, or none") end
    for j, f in ipairs(o.data) do
      local s, err = data.load(f, { symbol = o.symbol and o.symbol[j], timeframe = o.timeframe })
      if not s then return nil, err end
      list[j] = s
    end
  elseif o.symbol then
    for j, sym in ipairs(o.symbol) do
      local s, err = data.load({ symbol = sym, timeframe = o.timeframe or "1d", db = o.db })
      if not s then return nil, err end
      list[j] = s
    end
  else
    cli.usage("backtest needs --data FILE or --symbol S")
  end
  if #list > 1 then list = data.align(list) end
  if o.start or o["end"] then
    local t0 = o.start and gtime.parse(o.start)
    local t1 = o["end"] and gtime.parse(o["end"])
    if (o.start and not t0) or (o["end"] and not t1) then cli.usage("--start/--end take YYYY-MM-DD dates") end
    -- --end is inclusive of that day
    for j, s in ipairs(list) do list[j] = s:between(t0, t1 and t1 + gtime.DAY or nil) end
    if list[1].n == 0 then return nil, "no bars between --start and --end" end
  end
  return list
end

-- Percentages that are changes (returns, trade results, alpha) show their sign, so a gain
-- reads "+1.20 %"; levels (volatility, drawdown depth, win rate, exposure) are unsigned.
local SIGNED = { return_pct = true, cagr_pct = true, ann_return_pct = true, avg_trade_pct = true,
  best_trade_pct = true, worst_trade_pct = true, buy_hold_return_pct = true, alpha_pct = true }

-- One statistic as the tables show it: durations in bars or years with the unit, money
-- with 2 decimals, percentages with " %" (and a sign when they are changes).
function M.stat_text(f, v)
  if v == nil or v ~= v then return "n/a" end
  if f.unit == "%" then
    return (SIGNED[f.key] and v > 0 and "+" or "") .. fmt.num(v, 2) .. " %"
  elseif f.unit == "ccy" then return fmt.num(v, 2)
  elseif f.unit == "bars" then
    return fmt.num(v, v % 1 == 0 and 0 or 1) .. (v == 1 and " bar" or " bars")
  elseif f.unit == "years" then return fmt.num(v, 2) .. " years"
  elseif f.key == "num_trades" then return fmt.num(v, 0)
  end
  return fmt.num(v, 3)
end

-- Keys in the order the table shows them.
function M.stat_rows(stats)
  local rows = {}
  for _, f in ipairs(require("gt.metrics").FIELDS) do
    local v = stats[f.key]
    if v ~= nil then rows[#rows + 1] = { name = f.title, value = M.stat_text(f, v) } end
  end
  return rows
end
local stat_rows = M.stat_rows

function M.main(args)
  local o = cli.parse(args, SPEC, 2)
  if not o.strategy then cli.usage("backtest needs --strategy NAME (see: gtengine strategies)") end
  local ok, strategy = pcall(require("gt.strategy").load, o.strategy)
  if not ok then io.stderr:write("gtengine backtest: ", tostring(strategy), "\n"); return 1 end
  local params = {}
  for _, kv in ipairs(o.param or {}) do
    local k, v = kv:match("^([%w_]+)=(.*)$")
    if not k then cli.usage("--param takes key=value, got '" .. kv .. "'") end
    if strategy.params[k] == nil then
      local names = {}
      for name in pairs(strategy.params) do names[#names + 1] = name end
      table.sort(names)
      cli.usage(("strategy %s has no parameter '%s' (it has: %s)"):format(strategy.name, k, table.concat(names, ", ")))
    end
    params[k] = parse_value(v)
  end
  if o.short then params.short = true end
  if o.fill and o.fill ~= "next_open" and o.fill ~= "close" then cli.usage("--fill is next_open or close") end
  if o.mode and o.mode ~= "vector" and o.mode ~= "event" then cli.usage("--mode is vector or event") end
  local list, err = load_data(o)
  if not list then io.stderr:write("gtengine backtest: ", err, "\n"); return 1 end
  local s = list[1]

  if o.check_lookahead then
    local v, cuts = require("gt.backtest").check_lookahead(strategy, s, { params = params })
    if #v == 0 then
      io.write(("look-ahead check: %s passed (%d cuts, signals identical on truncated data)\n"):format(strategy.name, cuts))
      return 0
    end
    io.write(("look-ahead check: %s FAILED: %d signals change when only future bars change\n"):format(strategy.name, #v))
    for i, x in ipairs(v) do
      if i > 20 then io.write(("  ... %d more\n"):format(#v - 20)); break end
      io.write(("  bar %d (%s): %s with all data, %s with data cut at bar %d\n"):format(x.bar,
        gtime.format(s:time(x.bar), false), tostring(x.full), tostring(x.truncated), x.cut))
    end
    return 1
  end

  local opts = { params = params, capital = o.capital, size = o.size, commission = o.commission,
    commission_kind = o.commission_kind, slippage_bps = o.slippage_bps, spread_bps = o.spread_bps,
    fill = o.fill, mode = o.mode, risk_free = o.risk_free, volume_cap = o.volume_cap }
  local r, rerr = require("gt.backtest").run(strategy, list, opts)
  if not r then io.stderr:write("gtengine ", rerr, "\n"); return 1 end
  if not o.no_save then
    local id, serr = r:save(o.db)
    if not id then io.stderr:write("gtengine backtest: run not saved: ", tostring(serr), "\n") end
  end
  if o.report then
    local ok, rerr = r:report(o.report)
    if not ok then io.stderr:write("gtengine backtest: ", rerr, "\n"); return 1 end
  end
  if o.json then
    local json = require "gt.json"
    -- the trades are encoded in C: a million-bar run has tens of thousands of them
    io.write(json.encode(r:summary { json = true }), "\n")
    return 0
  end
  local first, last = gtime.format(s:time(0), false):gsub("T00:00:00Z$", ""), gtime.format(s:time(s.n - 1), false):gsub("T00:00:00Z$", "")
  local ps = {}
  for k, v in pairs(r.params) do ps[#ps + 1] = k .. "=" .. tostring(v) end
  table.sort(ps)
  io.write(("%s on %s %s, %s .. %s (%s bars), %s fill, %s path%s\n"):format(r.strategy, r.symbol or "?",
    s.timeframe or "", first, last, fmt.num(s.n), r.options.fill, r.options.mode,
    #ps > 0 and ("\nparams: " .. table.concat(ps, " ")) or ""))
  io.write(fmt.table(stat_rows(r.stats), { { key = "name", title = "metric" }, { key = "value", align = "right" } }))
  if fmt.isatty(1) then
    io.write("\n", require("gt.textchart").summary(r), "\n")
  end
  if #r.trades > 0 then
    io.write(("\n%d trades; --json lists them, --report FILE charts them%s\n"):format(#r.trades,
      r.run_id and ("; saved as run " .. r.run_id) or ""))
  end
  if o.report then io.write("report: ", o.report, "\n") end
  return 0
end

function M.strategies(args)
  local o = cli.parse(args, { json = "flag" }, 2)
  local st = require "gt.strategy"
  local rows = {}
  for _, name in ipairs(st.list()) do
    local ok, s = pcall(st.load, name)
    if ok then
      local ps = {}
      for k, v in pairs(s.params) do ps[#ps + 1] = k .. "=" .. tostring(v) end
      table.sort(ps)
      rows[#rows + 1] = { name = name, params = table.concat(ps, " "), description = s.description or "",
        _params = s.params, _grid = s.grid }
    else
      rows[#rows + 1] = { name = name, params = "", description = "LOAD ERROR: " .. tostring(s) }
    end
  end
  if o.json then
    local out = {}
    for _, r in ipairs(rows) do out[#out + 1] = { name = r.name, params = r._params or {}, grid = r._grid, description = r.description } end
    io.write(require("gt.json").encode(out), "\n")
    return 0
  end
  io.write(fmt.table(rows, { { key = "name", title = "strategy" }, { key = "params", title = "parameters (defaults)" },
    { key = "description" } }))
  return 0
end

return M
