-- `gtengine journal`: the events a session wrote (gt.journal), as a table or JSON lines.
-- Opens the database read-only: it can watch a running session without slowing it.
local cli = require "gt.cli"
local config = require "gt.config"
local fmt = require "gt.fmt"
local gtime = require "gt.time"
local json = require "gt.json"
local journal = require "gt.journal"

local M = {}

M.help = [==[
  [--db PATH]        the database (default $GT_DB, else gt.db)
  [--session ID]     a session by id or key (default: the newest; `gtengine status` shows one)
  [--type T[,T...]]  only these event types (order, fill, risk_decision, equity, ...)
  [--since TIME]     events at or after TIME (2024-01-02, 2024-01-02 15:30, ...; UTC unless
                     it names a zone); [--until TIME] before TIME
  [--limit N]        the latest N matching events, oldest first (default 50; 0: all)
  [--json]           one JSON object per line (JSON lines, oldest first): id, session, cycle,
                     seq, ts (epoch microseconds), type, the typed fields (symbol, strategy,
                     side +1/-1, qty, price, value, confidence, order_id, status, reason) and
                     the event's other fields
The same rows are in SQLite for ad-hoc queries: tables journal, sessions, session_state and
the views journal_orders, journal_fills, journal_equity (sqlite3 gt.db 'SELECT * FROM
journal_fills').
]==]

M.FIRST_RUN = "run a workflow first: gtengine run workflows/paper.lua"

-- "2024-01-02 15:30:00" (UTC; fractions of a second when there are any)
function M.when(us)
  if not us then return "" end
  return (gtime.format(us, false):gsub("T", " "):gsub("Z$", ""))
end

-- Numbers as a person reads them: integers and values from 1,000 up with separators (the
-- latter with 2 decimals); smaller ones with up to 6 decimals, trailing zeros dropped (a
-- price in quarter ticks, a crypto quantity).
function M.num(x)
  if type(x) ~= "number" then return x == nil and "" or tostring(x) end
  if x ~= x or x % 1 == 0 or math.abs(x) >= 1000 then return fmt.num(x, x % 1 ~= 0 and 2 or nil) end
  local s = ("%.6f"):format(x):gsub("0+$", ""):gsub("%.$", "")
  if s == "0" or s == "-0" then s = ("%.3g"):format(x) end
  return s
end

-- Opens path read-only and picks the session (o.session: an id or a key; default the
-- newest). Returns journal, session, or nil and the message to print.
function M.open_session(o)
  local path = config.db_path(o.db)
  local J, err = journal.open(path, { readonly = true })
  if not J then
    if err:find("no such database", 1, true) then
      return nil, ("no database at %s (%s, or name one with --db PATH)"):format(path, M.FIRST_RUN)
    end
    return nil, err
  end
  local list, lerr = J:sessions()
  if not list then J:close(); return nil, lerr end
  if #list == 0 then
    J:close()
    return nil, ("no sessions in %s (%s)"):format(path, M.FIRST_RUN)
  end
  local want = o.session
  if want == nil then return J, list[#list] end
  for _, s in ipairs(list) do
    if tostring(s.id) == want or s.key == want then return J, s end
  end
  J:close()
  local names = {}
  for i = #list, math.max(1, #list - 9), -1 do
    names[#names + 1] = ("%d (%s)"):format(list[i].id, list[i].key)
  end
  return nil, ("no session '%s' in %s; the newest: %s"):format(want, path, table.concat(names, ", "))
end

local function fail(who, msg)
  io.stderr:write("gtengine ", who, ": ", msg, "\n")
  return 1
end
M.fail = fail

local SIDE = { [1] = "buy", [-1] = "sell" }
local HIDE = { id = true, session = true, cycle = true, seq = true, ts = true, type = true, symbol = true,
  strategy = true, side = true, qty = true, price = true, value = true, status = true, reason = true,
  order_id = true }

-- The last column: status and reason, else the event's other fields as k=v (cut to 60).
local function note(r)
  local parts = {}
  if r.status then parts[#parts + 1] = r.status end
  if r.reason then parts[#parts + 1] = r.reason end
  if #parts > 0 then return table.concat(parts, ": ") end
  local ks = {}
  for k, v in pairs(r) do
    if not HIDE[k] then
      ks[#ks + 1] = k .. "=" .. (type(v) == "table" and json.encode(v) or M.num(v))
    end
  end
  table.sort(ks)
  local s = table.concat(ks, " ")
  return #s > 60 and s:sub(1, 57) .. "..." or s
end

local function parse_time(o, k)
  if o[k] == nil then return nil end
  local t, err = gtime.parse(o[k])
  if not t then cli.usage(("--%s: %s"):format(k, err)) end
  return t
end

function M.main(args)
  local o = cli.parse(args, { db = "string", session = "string", type = "string", since = "string",
    ["until"] = "string", limit = "number", json = "flag" }, 2)
  local types
  if o.type then
    types = {}
    local known = {}
    for _, t in ipairs(journal.TYPES) do known[t] = true end
    for t in o.type:gmatch("[^,%s]+") do
      if not known[t] then
        cli.usage(("unknown event type '%s' (types: %s)"):format(t, table.concat(journal.TYPES, ", ")))
      end
      types[#types + 1] = t
    end
    if #types == 0 then cli.usage("--type needs a type (types: " .. table.concat(journal.TYPES, ", ") .. ")") end
  end
  local since, till = parse_time(o, "since"), parse_time(o, "until")
  local limit = o.limit or 50
  if limit < 0 or limit % 1 ~= 0 then cli.usage("--limit needs a whole number >= 0") end
  local J, s = M.open_session(o)
  if not J then return fail("journal", s) end
  local rows, err = J:query { session = s.id, type = types, since = since, until_ = till, limit = limit, desc = true }
  local counts = rows and J:counts(s.id)
  J:close()
  if not rows then return fail("journal", err) end
  -- newest first from the query (for the limit), shown oldest first
  for i = 1, math.floor(#rows / 2) do rows[i], rows[#rows + 1 - i] = rows[#rows + 1 - i], rows[i] end
  if o.json then
    local out = {}
    for i, r in ipairs(rows) do out[i] = json.encode(r) end
    if #out > 0 then io.write(table.concat(out, "\n"), "\n") end
    return 0
  end
  local total = 0
  for k, n in pairs(counts or {}) do if k ~= "refusals" and k ~= "orders" then total = total + n end end
  io.write(("session %d %s (%s%s, %s): %s of %s events%s\n"):format(s.id, s.name and ("'" .. s.name .. "'") or s.key,
    s.mode or "?", s.workflow and (", " .. s.workflow) or "", s.status or "?", fmt.num(#rows), fmt.num(total),
    (types or since or till) and " (filtered)" or (#rows < total and "; --limit 0 shows all" or "")))
  if #rows == 0 then return 0 end
  io.write(fmt.table(rows, {
    { key = "ts", title = "time (UTC)", align = "left", fmt = function(v) return M.when(v) end },
    { key = "cycle", align = "right" },
    { key = "type" },
    { key = "symbol" },
    { key = "side", fmt = function(v) return SIDE[v] or (v and tostring(v) or "") end },
    { key = "qty", align = "right", fmt = M.num },
    { key = "price", align = "right", fmt = M.num },
    { key = "value", align = "right", fmt = M.num },
    { key = "status", title = "status/reason", fmt = function(_, r) return note(r) end },
  }))
  return 0
end

return M
