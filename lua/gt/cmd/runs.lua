-- `gtengine runs`: the backtest runs saved in the database, newest first; one in full.
local cli = require "gt.cli"
local fmt = require "gt.fmt"
local json = require "gt.json"
local gtime = require "gt.time"

local M = {}

M.help = [[
  [--db PATH]      the database (default $GT_DB, else gt.db)
  [--last N]       how many runs to list (default 20)
  [--id N]         one run in full: when it ran, parameters, options, data and every statistic
  [--report FILE]  with --id: the run's HTML report, the same one `backtest --report` wrote
  [--json]         JSON instead of a table; with --id it includes the trades and the equity
                   points the run keeps (every bar up to 2000, else each chart's extremes)
]]

-- "2026-12-02 04:37 UTC" (seconds only when not zero)
local function when(us)
  if not us then return "?" end
  local s = gtime.format(us, false)
  local d, hm, sec = s:match("^(%d+%-%d+%-%d+)T(%d+:%d+):(%d+)")
  if not d then return s end
  return d .. " " .. hm .. (sec ~= "00" and (":" .. sec) or "") .. " UTC"
end

local function day(us) return (gtime.format(us, false):gsub("T00:00:00Z$", "")) end

local function params_text(p)
  local ks = {}
  for k, v in pairs(p or {}) do ks[#ks + 1] = k .. "=" .. tostring(v) end
  table.sort(ks)
  return table.concat(ks, " ")
end

local function one(db, o)
  local r, err = db:run(o.id)
  if not r then return nil, err end
  local doc = { id = r.id, strategy = r.strategy, symbol = r.symbol, timeframe = r.timeframe,
    params = json.decode(r.params), options = json.decode(r.options), stats = json.decode(r.stats),
    data_hash = r.data_hash, bars = r.bars, created_at = gtime.format(r.created_at, false),
    first = day(r.first_ts), last = day(r.last_ts) }
  -- damaged JSON is named, and the rest of the run still shows (its statistics as n/a)
  for _, k in ipairs({ "params", "options", "stats" }) do
    if type(doc[k]) ~= "table" then
      io.stderr:write(("gtengine runs: run %d: the stored %s are not valid JSON (the database was "
        .. "edited or damaged)\n"):format(r.id, k))
      doc[k] = {}
      if k == "stats" then
        for _, f in ipairs(require("gt.metrics").FIELDS) do doc.stats[f.key] = 0 / 0 end
      end
    end
  end
  if o.report then
    local res, rerr = db:result(r.id)
    if not res then return nil, rerr end
    local ok, werr = require("gt.report").write(res, o.report)
    if not ok then return nil, werr end
  end
  if o.json then
    local symbols = {}
    for name in (r.symbol .. ","):gmatch("([^,]*),") do symbols[#symbols + 1] = name end
    doc.trades = json.trades(r.trades, r.m, symbols)
    -- equity as the run keeps it: [bar, equity] pairs (the chart points, or every bar of a
    -- run saved before schema 4)
    local eq = {}
    if r.points then
      for k = 0, r.np - 1 do eq[k + 1] = { tonumber(r.points[k].bar), r.points[k].equity } end
    else
      for i = 0, r.n - 1 do eq[i + 1] = { i, r.equity[i] } end
    end
    doc.equity = json.array(eq)
    io.write(json.encode(doc), "\n")
    return true
  end
  io.write(("run %d: %s on %s %s, %s .. %s (%s bars), ran %s\n"):format(r.id, r.strategy, r.symbol,
    r.timeframe, doc.first, doc.last, fmt.num(r.bars), when(r.created_at)))
  io.write("params: ", params_text(doc.params), "\noptions: ", params_text(doc.options),
    "\ndata: ", r.data_hash, "\n")
  io.write(fmt.table(fmt.stat_rows(doc.stats),
    { { key = "name", title = "metric" }, { key = "value", align = "right" } }))
  io.write(("%d trades%s\n"):format(r.m, o.report and ("; report: " .. o.report) or
    "; --json lists them, --report FILE charts them"))
  return true
end

function M.main(args)
  local o = cli.parse(args, { db = "string", last = "number", id = "number", json = "flag",
    report = "string" }, 2)
  if o.report and not o.id then cli.usage("--report needs --id N (see: gtengine runs)") end
  local db, err = require("gt.store").open(o.db)
  if not db then io.stderr:write("gtengine runs: ", err, "\n"); return 1 end
  if o.id then
    local ok, rerr = one(db, o)
    db:close()
    if not ok then io.stderr:write("gtengine runs: ", rerr, "\n"); return 1 end
    return 0
  end
  local last = db:last_run() or 0
  local rows = {}
  local id = last
  while id >= 1 and #rows < (o.last or 20) do
    local r = db:run(id)
    if r then
      local st = json.decode(r.stats) or {}
      rows[#rows + 1] = { id = r.id, ran = gtime.format(r.created_at, false), strategy = r.strategy,
        symbol = r.symbol, timeframe = r.timeframe, params = json.decode(r.params) or {}, bars = r.bars,
        trades = r.m, return_pct = st.return_pct, sharpe = st.sharpe,
        max_drawdown_pct = st.max_drawdown_pct }
    end
    id = id - 1
  end
  db:close()
  if o.json then io.write(json.encode(json.array(rows)), "\n"); return 0 end
  if #rows == 0 then io.write("no saved runs yet; gtengine backtest saves each run\n"); return 0 end
  local F = {}
  for _, f in ipairs(require("gt.metrics").FIELDS) do F[f.key] = f end
  local stat = fmt.stat_text
  io.write(fmt.table(rows, { { key = "id", align = "right" },
    { key = "ran", title = "ran (UTC)", fmt = function(v) return (v:gsub("T", " "):gsub(":%d%d[%.%d]*Z$", "")) end },
    { key = "strategy" }, { key = "params", fmt = params_text }, { key = "symbol" },
    { key = "timeframe", title = "tf" }, { key = "bars", align = "right", fmt = function(v) return fmt.num(v) end },
    { key = "trades", align = "right" },
    { key = "return_pct", title = "return", fmt = function(v) return stat(F.return_pct, v) end, align = "right" },
    { key = "sharpe", fmt = function(v) return v and fmt.num(v, 2) or "n/a" end, align = "right" },
    { key = "max_drawdown_pct", title = "max DD", fmt = function(v) return stat(F.max_drawdown_pct, v) end,
      align = "right" } }))
  return 0
end

return M
