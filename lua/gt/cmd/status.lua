-- `gtengine status`: one session at its last committed cycle (gt.journal): what it is, its
-- money and positions, the breaker, tier, regime and strategy, and what its journal counts.
-- Opens the database read-only, so it works beside a running session without blocking it.
local cli = require "gt.cli"
local fmt = require "gt.fmt"
local json = require "gt.json"
local jcmd = require "gt.cmd.journal"

local M = {}

M.help = [[
  [--db PATH]     the database (default $GT_DB, else gt.db)
  [--session ID]  a session by id or key (default: the newest)
  [--json]        one JSON object: session, state (positions with market value and
                  unrealised PnL; books_bytes is the ledger snapshot's size) and counts
Figures are those of the last committed cycle; a backtest's journal commits in batches,
so while one runs its status lags by up to a batch. `gtengine journal` lists the events.
]]

-- Positions as rows with market value and unrealised PnL ((last - avg) * qty: a short's
-- quantity is negative), sorted by symbol.
local function position_rows(positions)
  local rows = {}
  for sym, p in pairs(positions or {}) do
    local qty, avg, price = tonumber(p.qty), tonumber(p.avg), tonumber(p.price)
    rows[#rows + 1] = { symbol = sym, qty = qty, avg = avg, price = price,
      value = qty and price and qty * price or nil,
      unrealised = qty and price and avg and (price - avg) * qty or nil }
  end
  table.sort(rows, function(a, b) return a.symbol < b.symbol end)
  return rows
end

local function money(v) return v and fmt.num(v, 2) or "n/a" end

function M.main(args)
  local o = cli.parse(args, { db = "string", session = "string", json = "flag" }, 2)
  local J, s = jcmd.open_session(o)
  if not J then return jcmd.fail("status", s) end
  local state, err = J:state(s.id)
  local counts
  if not err then counts, err = J:counts(s.id) end
  J:close()
  if err then return jcmd.fail("status", err) end
  -- the session's open alerts (gtengine alerts --ack/--resolve) and its working orders
  local alerts = {}
  local A = require("gt.alerts").open(require("gt.config").db_path(o.db), { readonly = true })
  if A then
    alerts = A:list { session = s.id, status = "open", limit = 20 } or {}
    A:close()
  end
  local open_orders = state and state.lua_state and state.lua_state.open and #state.lua_state.open or 0
  local rows = position_rows(state and state.positions)
  local events = 0
  for k, n in pairs(counts) do if k ~= "refusals" and k ~= "orders" then events = events + n end end
  local c = { orders = counts.orders or 0, fills = counts.fill or 0, refusals = counts.refusals, events = events }
  if o.json then
    local doc = { session = s, counts = c, open_alerts = json.array(alerts), open_orders = open_orders }
    if state then
      local pos = {}
      for _, r in ipairs(rows) do
        pos[r.symbol] = { qty = r.qty, avg = r.avg, price = r.price, value = r.value, unrealised = r.unrealised }
      end
      doc.state = { cycle = state.cycle, ts = state.ts, cash = state.cash, equity = state.equity,
        breaker = state.breaker, tier = state.tier, regime = state.regime, strategy = state.strategy,
        positions = pos, lua_state = state.lua_state, books_bytes = state.books and #state.books or nil }
    end
    io.write(json.encode(doc), "\n")
    return 0
  end
  local lines = {
    ("session %d%s (key %s)"):format(s.id, s.name and (" '" .. s.name .. "'") or "", s.key),
  }
  local function kv(k, v) lines[#lines + 1] = ("  %-11s%s"):format(k, v == nil and "n/a" or tostring(v)) end
  kv("mode", s.mode)
  kv("status", s.status)
  kv("workflow", s.workflow)
  kv("started", s.started_us and (jcmd.when(s.started_us) .. " UTC"))
  if state then
    kv("last cycle", ("%s at %s UTC"):format(tostring(state.cycle), jcmd.when(state.ts or s.updated_us)))
    kv("cash", money(state.cash))
    kv("equity", money(state.equity))
    kv("breaker", state.breaker)
    kv("tier", state.tier)
    kv("regime", state.regime)
    kv("strategy", state.strategy)
  else
    kv("last cycle", "none committed yet")
  end
  kv("journal", ("%s orders, %s fills, %s refusals (%s events)"):format(fmt.num(c.orders), fmt.num(c.fills),
    fmt.num(c.refusals), fmt.num(c.events)))
  kv("working", ("%d open order%s"):format(open_orders, open_orders == 1 and "" or "s"))
  kv("alerts", #alerts == 0 and "none open" or ("%d open (gtengine alerts)"):format(#alerts))
  for _, a in ipairs(alerts) do
    lines[#lines + 1] = ("    #%d %s %s: %s"):format(a.id, a.level, a.component, a.message)
  end
  io.write(table.concat(lines, "\n"), "\n")
  if state then
    if #rows == 0 then
      io.write("no open positions\n")
    else
      io.write("\n", fmt.table(rows, {
        { key = "symbol" },
        { key = "qty", align = "right", fmt = jcmd.num },
        { key = "avg", align = "right", fmt = jcmd.num },
        { key = "price", title = "last", align = "right", fmt = jcmd.num },
        { key = "value", title = "market value", align = "right", fmt = money },
        { key = "unrealised", title = "unrealised PnL", align = "right",
          fmt = function(v) return v and ((v > 0 and "+" or "") .. fmt.num(v, 2)) or "n/a" end },
      }))
    end
  end
  return 0
end

return M
