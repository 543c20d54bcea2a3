-- `gtengine backtest` and `gtengine strategies`.
local cli = require "gt.cli"
local fmt = require "gt.fmt"
local gtime = require "gt.time"

local M = {}

local function C_kill_requested()
  return require("gt.ffi").C.gt_risk_kill_requested() ~= 0
end

M.help = [[
  --strategy NAME         a file in strategies/ (see: gtengine strategies)
  --data FILE | --symbol S [--timeframe 1d] [--db PATH]
                          a CSV file, or bars stored with gtengine data import/fetch;
                          repeat either for a portfolio (put on the bars all of them have)
  --param k=v             override a strategy parameter (repeatable), e.g. --param fast=5
  --capital 10000         starting cash (up to 1e15)
  --size 0.95             fraction of equity an entry uses, in (0, leverage]
  --size-at signal|fill   size at the deciding close (default) or at the fill, from the
                          equity after that bar's exits (backtesting.py's rule)
  --leverage 1            gross exposure allowed per unit of equity, in [1, 100]
  --fractional            trade fractional units (default: whole units)
  --stop-pct 0.05         every entry gets a stop this fraction from its fill (0 = none)
  --take-pct 0.10         ... and a take-profit this fraction from its fill (0 = none)
  --sizing METHOD         size entries with gt.sizing: kelly, fractional_kelly, fixed,
                          volatility, equal_weight, intelligent (targets give the direction;
                          Kelly statistics from the trades closed so far, after 20)
  --risk PRESET           pass every order through the risk gate: default, paper, live, off
  --tiers                 the account-size tier of --capital (gt.portfolio) sets the size per
                          entry, the stop, the daily loss limit and max positions
  --close-at-end close|open|none
                          close what is open after the last bar at its close (default), its
                          open (backtesting.py), or leave it open
  --commission 0.001      fraction of notional per fill (--commission-kind pct|per_share|fixed)
  --slippage-bps 5        market and stop fills move against you by this much
  --spread-bps 0          full bid/ask spread; market and stop fills pay half
  --fill next_open|close  fill at the next bar's open (default, no look-ahead) or at the close
  --short                 let the strategy open shorts (same as --param short=true)
  --mode vector|event     C loop over precomputed signals (default) or Lua on_bar per bar
  --start DATE --end DATE trade from --start to --end (YYYY-MM-DD, inclusive); the bars
                          before --start still warm the indicators up
  --risk-free 0.0         annual rate for Sharpe/Sortino
  --json                  print JSON (stats, trades) instead of the table
  --report FILE           write a self-contained HTML report
  --check-lookahead       prove the strategy never reads the future (windows on every read, data
                          cut at 40 bars); exit 1 naming the bar and what was read
  --no-save               do not record the run in the database
]]

local function parse_value(v)
  if v == "true" then return true end
  if v == "false" then return false end
  return tonumber(v) or v
end

-- A --param value of the parameter's type (gt.strategy.param_type): a number, a whole number,
-- or true/false; anything else is a usage error naming what the parameter takes.
local function param_value(strategy, k, v)
  local st = require "gt.strategy"
  local want = st.param_type(strategy, k)
  local x = parse_value(v)
  if want == "integer" or want == "number" then x = tonumber(v) end
  local ok, err = st.check_params(strategy, { [k] = x == nil and v or x })
  if not ok then cli.usage("--param " .. err) end
  return x
end

local SPEC = { strategy = "string", data = "list", symbol = "list", timeframe = "string",
  db = "string", param = "list", capital = "number", size = "number", commission = "number",
  commission_kind = "string", slippage_bps = "number", spread_bps = "number", fill = "string",
  short = "flag", mode = "string", start = "string", ["end"] = "string", risk_free = "number",
  json = "flag", report = "string", check_lookahead = "flag", no_save = "flag", volume_cap = "number",
  size_at = "string", close_at_end = "string", fractional = "flag", leverage = "number",
  stop_pct = "number", take_pct = "number", sizing = "string", risk = "string", tiers = "flag" }

-- Numeric options: the accepted range of each, checked before anything runs (exit 2).
local RANGES = {
  { "capital", function(v) return v > 0 and v <= 1e15 end, "a positive amount up to 1e15" },
  { "leverage", function(v) return v >= 1 and v <= 100 end, "in [1, 100]" },
  { "commission", function(v) return v >= 0 and v < math.huge end, ">= 0" },
  { "slippage_bps", function(v) return v >= 0 and v <= 10000 end, "in [0, 10000]" },
  { "spread_bps", function(v) return v >= 0 and v <= 10000 end, "in [0, 10000]" },
  { "risk_free", function(v) return v > -1 and v < 1 end, "a fraction in (-1, 1)" },
  { "volume_cap", function(v) return v >= 0 and v <= 1 end, "in [0, 1]" },
  { "stop_pct", function(v) return v >= 0 and v < 1 end, "a fraction in [0, 1)" },
  { "take_pct", function(v) return v >= 0 and v < 100 end, "a fraction in [0, 100)" },
}

local function check_ranges(o)
  for _, r in ipairs(RANGES) do
    local v = o[r[1]]
    if v ~= nil and (v ~= v or not r[2](v)) then
      cli.usage(("--%s %s: must be %s"):format(r[1]:gsub("_", "-"), tostring(v), r[3]))
    end
  end
  local lev = o.leverage or 1
  if o.size ~= nil and not (o.size > 0 and o.size <= lev) then
    cli.usage(("--size %s: must be in (0, %g] (the leverage)"):format(tostring(o.size), lev))
  end
  if o.size_at and o.size_at ~= "signal" and o.size_at ~= "fill" then cli.usage("--size-at is signal or fill") end
  if o.close_at_end and o.close_at_end ~= "close" and o.close_at_end ~= "open" and o.close_at_end ~= "none" then
    cli.usage("--close-at-end is close, open or none")
  end
end

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
  local t0, t1 = o.start and gtime.parse(o.start), o["end"] and gtime.parse(o["end"])
  if (o.start and not t0) or (o["end"] and not t1) then cli.usage("--start/--end take YYYY-MM-DD dates") end
  if t1 then
    -- --end is inclusive of that day; bars after it are not needed
    for j, s in ipairs(list) do list[j] = s:between(nil, t1 + gtime.DAY) end
  end
  if t0 and (list[1].n == 0 or list[1]:time(list[1].n - 1) < t0) then
    return nil, "no bars between --start and --end"
  end
  return list, nil, t0
end

function M.main(args)
  local o = cli.parse(args, SPEC, 2)
  if not o.strategy then cli.usage("backtest needs --strategy NAME (gtengine strategies lists them)") end
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
    params[k] = param_value(strategy, k, v)
  end
  if o.short then params.short = true end
  if o.fill and o.fill ~= "next_open" and o.fill ~= "close" then cli.usage("--fill is next_open or close") end
  if o.mode and o.mode ~= "vector" and o.mode ~= "event" then cli.usage("--mode is vector or event") end
  check_ranges(o)
  local list, err, start = load_data(o)
  if not list then io.stderr:write("gtengine backtest: ", err, "\n"); return 1 end
  local s = list[1]

  if o.check_lookahead then
    local r = require("gt.backtest").check_lookahead(strategy, list, { params = params })
    if r.ok then
      io.write(("look-ahead check: %s passed\n"):format(strategy.name))
      for _, line in ipairs(r.checks) do io.write("  ", line, "\n") end
      return 0
    end
    io.write(("look-ahead check: %s FAILED: it reads the future\n"):format(strategy.name))
    for i, x in ipairs(r.findings) do
      if i > 20 then io.write(("  ... %d more\n"):format(#r.findings - 20)); break end
      local when = x.bar and x.bar < s.n and (" (" .. gtime.format(s:time(x.bar), false):gsub("T00:00:00Z$", "") .. ")") or ""
      io.write(("  bar %s%s: %s: %s\n"):format(tostring(x.bar), when, x.what, x.detail))
    end
    for _, line in ipairs(r.checks) do io.write("  (passed) ", line, "\n") end
    return 1
  end

  local opts = { params = params, capital = o.capital, size = o.size, commission = o.commission,
    commission_kind = o.commission_kind, slippage_bps = o.slippage_bps, spread_bps = o.spread_bps,
    fill = o.fill, mode = o.mode, risk_free = o.risk_free, volume_cap = o.volume_cap, size_at = o.size_at,
    close_at_end = o.close_at_end, fractional = o.fractional or nil, leverage = o.leverage,
    stop_pct = o.stop_pct, take_pct = o.take_pct, start = start, sizing = o.sizing, risk = o.risk,
    tiers = o.tiers or nil }
  if o.sizing and not require("gt.sizing").METHODS[o.sizing] then
    cli.usage("--sizing is kelly, fractional_kelly, fixed, volatility, equal_weight or intelligent")
  end
  if o.risk and not require("gt.risk").PRESETS[o.risk] then cli.usage("--risk is default, paper, live or off") end
  -- the kill switch (gtengine halt) lives in the database: a gate starts HALTED under it
  local halted
  if (opts.risk and opts.risk ~= "off") or opts.tiers then
    local db = require("gt.store").open(require("gt.config").db_path(o.db))
    if db then halted = db:control("halt"); db:close() end
    if halted then
      local gate = require("gt.risk").new(opts.risk)
      gate:halt(halted)
      opts.risk = gate
    end
  end
  local r, rerr = require("gt.backtest").run(strategy, list, opts)
  if not r then io.stderr:write("gtengine ", rerr, "\n"); return 1 end
  if r.risk and r.risk.halt_reason ~= "" and not halted and C_kill_requested() then
    -- SIGUSR1 during the run: the halt outlives this process
    local db = require("gt.store").open(require("gt.config").db_path(o.db))
    if db then db:set_control("halt", r.risk.halt_reason); db:close() end
  end
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
  s = r.series -- the traded window (from --start; earlier bars only warmed up)
  local first, last = gtime.format(s:time(0), false):gsub("T00:00:00Z$", ""), gtime.format(s:time(s.n - 1), false):gsub("T00:00:00Z$", "")
  local ps = {}
  for k, v in pairs(r.params) do ps[#ps + 1] = k .. "=" .. tostring(v) end
  table.sort(ps)
  io.write(("%s on %s %s, %s .. %s (%s bars), %s fill, %s path%s\n"):format(r.strategy, r.symbol or "?",
    s.timeframe or "", first, last, fmt.num(s.n), r.options.fill, r.options.mode,
    #ps > 0 and ("\nparams: " .. table.concat(ps, " ")) or ""))
  io.write(fmt.stats_table(r.stats))
  if r.tier then
    local t = r.tier
    io.write(("\ntier %s (from the starting capital): %.1f%% of equity per entry, stop %.1f%%, daily loss limit %.1f%%, at most %d positions%s\n")
      :format(t.name, t.size * 100, t.stop_pct * 100, t.max_daily_loss * 100, t.max_positions,
        t.strategy_allowed and "" or ("; " .. r.strategy .. " is not among the tier's strategies")))
  end
  if r.risk then
    local by = {}
    for rule, count in pairs(r.risk.refused) do by[#by + 1] = ("%s %d"):format(rule, count) end
    table.sort(by)
    io.write(("\nrisk gate (%s): %s at the end%s; %d orders refused%s\n"):format(
      (type(o.risk) == "string" and o.risk or "limits") .. (halted and (", halted: " .. halted) or ""), r.risk.state,
      #r.risk.causes > 0 and (" (" .. table.concat(r.risk.causes, ", ") .. ")") or "",
      r.risk.refused_orders, #by > 0 and (": " .. table.concat(by, ", ")) or ""))
  end
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
