-- `gtengine runs`: the backtest runs saved in the database, newest first.
local cli = require "gt.cli"
local fmt = require "gt.fmt"
local json = require "gt.json"

local M = {}

M.help = [[
  [--db PATH]     the database (default gt.db or $GT_DB)
  [--last N]      how many runs to list (default 20)
  [--id N]        one run in full: parameters, options, data hash and every statistic
  [--json]        JSON instead of a table
]]

function M.main(args)
  local o = cli.parse(args, { db = "string", last = "number", id = "number", json = "flag" }, 2)
  local db, err = require("gt.store").open(o.db or os.getenv("GT_DB") or "gt.db")
  if not db then io.stderr:write("gtengine runs: ", err, "\n"); return 1 end
  if o.id then
    local r, rerr = db:run(o.id)
    db:close()
    if not r then io.stderr:write("gtengine runs: ", rerr, "\n"); return 1 end
    local doc = { id = r.id, strategy = r.strategy, symbol = r.symbol, timeframe = r.timeframe,
      params = json.decode(r.params), options = json.decode(r.options), stats = json.decode(r.stats),
      data_hash = r.data_hash, trades = r.m, bars = r.n }
    for _, k in ipairs({ "params", "options", "stats" }) do
      if doc[k] == nil then
        io.stderr:write(("gtengine runs: run %d: the stored %s are not valid JSON (the database was "
          .. "edited or damaged)\n"):format(r.id, k))
      end
    end
    if o.json then io.write(json.encode(doc), "\n"); return 0 end
    io.write(("run %d: %s on %s %s, %d bars, data %s\n"):format(r.id, r.strategy, r.symbol, r.timeframe,
      r.n, r.data_hash))
    io.write("params: ", r.params, "\noptions: ", r.options, "\n")
    local rows = {}
    for _, f in ipairs(require("gt.metrics").FIELDS) do
      local v = doc.stats and doc.stats[f.key]
      rows[#rows + 1] = { name = f.title, value = type(v) == "number" and fmt.num(v, 3) or "n/a" }
    end
    io.write(fmt.table(rows, { { key = "name", title = "metric" }, { key = "value", align = "right" } }))
    return 0
  end
  local last = db:last_run() or 0
  local rows = {}
  local id = last
  while id >= 1 and #rows < (o.last or 20) do
    local r = db:run(id)
    if r then
      local st = json.decode(r.stats) or {}
      rows[#rows + 1] = { id = r.id, strategy = r.strategy, symbol = r.symbol, timeframe = r.timeframe,
        bars = r.n, trades = r.m, return_pct = st.return_pct, sharpe = st.sharpe,
        max_drawdown_pct = st.max_drawdown_pct }
    end
    id = id - 1
  end
  db:close()
  if o.json then io.write(json.encode(json.array(rows)), "\n"); return 0 end
  if #rows == 0 then io.write("no saved runs yet; gtengine backtest saves each run\n"); return 0 end
  local pct = function(v) return v and fmt.num(v, 2) .. "%" or "n/a" end
  io.write(fmt.table(rows, { { key = "id", align = "right" }, { key = "strategy" }, { key = "symbol" },
    { key = "timeframe", title = "tf" }, { key = "bars", align = "right" }, { key = "trades", align = "right" },
    { key = "return_pct", title = "return", fmt = pct, align = "right" },
    { key = "sharpe", fmt = function(v) return v and fmt.num(v, 2) or "n/a" end, align = "right" },
    { key = "max_drawdown_pct", title = "max DD", fmt = pct, align = "right" } }))
  return 0
end

return M
