-- gt.journal: the event journal and the per-cycle state of a trading session, in the
-- store's SQLite file (tables sessions, journal, session_state; schema 8, engine/store.c).
--
--   local J = assert(gt.journal.open("gt.db", { durable = true }))
--   local sid, state = J:session { key = "paper:AAPL", name = "paper", mode = "paper",
--                                  workflow = "workflows/paper.lua", config = cfg, now = clock }
--   J:append { type = "order", ts = clock, symbol = "AAPL", side = "buy", qty = 10, ... }
--   assert(J:commit(cycle, { ts = clock, cash = ..., equity = ..., books = snapshot, ... }))
--   J:finish("finished")
--
-- A cycle's events and its state are written in one transaction (BEGIN IMMEDIATE .. COMMIT):
-- after a crash the database holds whole cycles only, and J:session with the same key
-- resumes from the last one committed. Durable journals (paper, live) commit every cycle with
-- synchronous=FULL; others (a backtest) keep committed cycles in memory and write them
-- every `batch` commits with synchronous=NORMAL, so the journal costs a backtest little.
--
-- Events are buffered in Lua (column arrays, no SQL per event). The fields people filter on
-- are typed columns (symbol strategy side qty price value confidence order_id status
-- reason); every other field goes to `detail` as JSON (gt.json: sorted keys, exact numbers).
-- NaN in a typed column is stored as NULL and reads back as nil; NaN and +-inf inside
-- detail become JSON null, which reads back as an absent field; +-inf in a typed column
-- round-trips. `cycle` and `seq` are the journal's: the cycle is the one the next
-- J:commit names, seq counts from 1 within it; an event's own cycle/seq fields are ignored.
--
-- Misuse (a bad argument, an unknown event type, a call on a closed journal) raises;
-- the database failing (locked past the busy timeout, disk full, a constraint) returns
-- nil, message naming the file.
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local json = require "gt.json"
local config = require "gt.config"
local C = gtffi.C

local M = {}

-- The bus's event types (the orchestrator's), plus the journal's own.
M.TYPES = { "bar", "analysis", "regime", "selection", "sizing", "risk_decision", "order", "fill",
  "position", "equity", "breaker", "alert", "error", "tier_change", "session", "command", "reload" }
local IS_TYPE = {}
for _, t in ipairs(M.TYPES) do IS_TYPE[t] = true end
M.STATUSES = { running = true, stopped = true, finished = true, failed = true }
M.DEFAULT_BATCH = 1000

-- The typed columns, in the journal table's order after (session, cycle, seq, ts, type).
local COLS = { "symbol", "strategy", "side", "qty", "price", "value", "confidence", "order_id",
  "status", "reason" }
-- Fields that never go to detail: the columns, and what the journal sets itself.
local NOT_DETAIL = { type = true, ts = true, cycle = true, seq = true }
for _, c in ipairs(COLS) do NOT_DETAIL[c] = true end
local SIDE = { buy = 1, sell = -1, [1] = 1, [-1] = -1 }

local INSERT_EVENT = "INSERT INTO journal(session, cycle, seq, ts, type, symbol, strategy, side,"
  .. " qty, price, value, confidence, order_id, status, reason, detail)"
  .. " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
local UPSERT_STATE = "INSERT INTO session_state(session, cycle, ts, cash, equity, positions,"
  .. " breaker, tier, regime, strategy, books, lua_state) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
  .. " ON CONFLICT(session) DO UPDATE SET cycle = excluded.cycle, ts = excluded.ts,"
  .. " cash = excluded.cash, equity = excluded.equity, positions = excluded.positions,"
  .. " breaker = excluded.breaker, tier = excluded.tier, regime = excluded.regime,"
  .. " strategy = excluded.strategy, books = excluded.books, lua_state = excluded.lua_state"
local UPDATE_SESSION = "UPDATE sessions SET last_cycle = COALESCE(?, last_cycle),"
  .. " updated_us = COALESCE(?, updated_us) WHERE id = ?"

local Journal = {}
Journal.__index = Journal
M.Journal = Journal

-- ---- the statement layer (engine/db.c) ----

local len_buf = ffi.new("int64_t[1]")
local T_NULL, T_INT, T_FLOAT = C.GT_DB_NULL, C.GT_DB_INTEGER, C.GT_DB_FLOAT

local function handle(self, level)
  local h = self._h
  if h == nil then error("gt.journal: the journal " .. tostring(self.path) .. " is closed", (level or 2) + 1) end
  return h
end

-- A failed call: nil, message (SQLite's, naming the file). Misuse codes raise.
local function failed(rc)
  local _, msg = gtffi.result(rc, 3)
  return nil, msg
end

local function col_text(h, i)
  local p = C.gt_db_text(h, i, len_buf)
  if p == nil then return nil end
  return ffi.string(p, len_buf[0])
end

-- Column i as a Lua value: nil for NULL, integers as numbers, text as strings.
local function col(h, i)
  local t = C.gt_db_type(h, i)
  if t == T_NULL then return nil end
  if t == T_INT then return tonumber(C.gt_db_int(h, i)) end
  if t == T_FLOAT then return C.gt_db_double(h, i) end
  return col_text(h, i)
end

-- Binds v at i: nil -> NULL, integral numbers -> INTEGER when int, else REAL; strings ->
-- TEXT; {bytes = s} -> BLOB.
local function bind(h, i, v, int)
  local tv = type(v)
  if v == nil then return C.gt_db_bind_null(h, i) end
  if tv == "number" then
    if int then return C.gt_db_bind_int(h, i, v) end
    return C.gt_db_bind_double(h, i, v)
  end
  if tv == "string" then return C.gt_db_bind_text(h, i, v, #v) end
  if tv == "cdata" then return C.gt_db_bind_int(h, i, v) end
  return C.gt_db_bind_bytes(h, i, v.bytes, #v.bytes)
end

-- Runs sql with binds {v1, v2, ...} (n of them; ints: a set of positions bound as INTEGER);
-- row(h) for each result row. Returns true or nil, message.
local function run(h, sql, binds, n, ints, row)
  local rc = C.gt_db_prepare(h, sql)
  if rc < 0 then return failed(rc) end
  for i = 1, n or 0 do
    rc = bind(h, i, binds[i], ints and ints[i])
    if rc < 0 then return failed(rc) end
  end
  while true do
    rc = C.gt_db_step(h)
    if rc < 0 then return failed(rc) end
    if rc == 0 then return true end
    if row then row(h) end
  end
end

local function exec(h, sql)
  local rc = C.gt_db_exec(h, sql)
  if rc < 0 then return failed(rc) end
  return true
end

local function rollback(h, err)
  if C.gt_db_in_transaction(h) ~= 0 then C.gt_db_exec(h, "ROLLBACK") end
  gtffi.errmsg() -- a failed rollback's message must not outlive it
  return nil, err
end

-- ---- argument checks (misuse raises at the caller of the method) ----

local function is_int(v) return type(v) == "number" and v == v and v % 1 == 0 and math.abs(v) < 2 ^ 63 end

local function check_time(what, v, level)
  if not is_int(v) then
    error(("gt.journal: %s must be integer epoch microseconds, got %s"):format(what, tostring(v)), level + 1)
  end
end

local function check_opt(what, v, kind, level)
  if v ~= nil and type(v) ~= kind then
    error(("gt.journal: %s must be a %s, got %s"):format(what, kind, type(v)), level + 1)
  end
end

local function type_list() return table.concat(M.TYPES, ", ") end

-- config is a record of the resolved settings, not state to restore: what JSON cannot hold
-- (functions such as workflow steps) is written as "<function>" instead of failing.
local function plain(v, depth)
  local tv = type(v)
  if tv == "function" or tv == "userdata" or tv == "thread" then return "<" .. tv .. ">" end
  if tv == "cdata" then return tonumber(v) or "<cdata>" end
  if tv ~= "table" then return v end
  if depth > 32 then return "<nested too deep>" end
  local n, count = #v, 0
  for _ in pairs(v) do count = count + 1 end
  if n > 0 and count == n then
    local arr = json.array()
    for i = 1, n do arr[i] = plain(v[i], depth + 1) end
    return arr
  end
  local out = {}
  for k, x in pairs(v) do out[tostring(k)] = plain(x, depth + 1) end
  return out
end

-- ---- open ----

local OPEN_KEYS = { durable = true, batch = true, readonly = true }

-- open(path [, {durable =, batch =, readonly =}]) -> journal, or nil and a message naming
-- the file. Creates and migrates the database (gt.store) unless readonly. readonly: for
-- readers beside a running writer (WAL: neither blocks the other); it never creates the
-- file, and a database without the journal's tables (schema < 8) opens with no sessions.
function M.open(path, opts)
  if path ~= nil and type(path) ~= "string" then error("gt.journal.open: path must be a string", 2) end
  if opts ~= nil and type(opts) ~= "table" then error("gt.journal.open: options must be a table", 2) end
  opts = opts or {}
  for k in pairs(opts) do
    if not OPEN_KEYS[k] then error(("gt.journal.open: unknown option '%s' (durable, batch, readonly)"):format(tostring(k)), 2) end
  end
  local batch = opts.batch or M.DEFAULT_BATCH
  if not is_int(batch) or batch < 1 then
    error("gt.journal.open: batch must be a whole number of commits >= 1, got " .. tostring(opts.batch), 2)
  end
  path = config.db_path(path)
  local ro = opts.readonly and true or false
  if ro then
    local f = io.open(path, "rb")
    if not f then return nil, ("journal %s: no such database"):format(path) end
    f:close()
  else
    local st, err = require("gt.store").open(path)
    if not st then return nil, err end
    local version = st:version()
    st:close()
    if version and version < 8 then
      return nil, ("journal %s: the database is read-only at schema %d (the journal needs 8)"):format(path, version)
    end
  end
  local h = C.gt_db_open(path, ro and C.GT_DB_READONLY or 0)
  if h == nil then return nil, gtffi.errmsg() end
  h = ffi.gc(h, C.gt_db_close)
  local self = setmetatable({ _h = h, path = path, durable = opts.durable and true or false,
    batch = batch, readonly = ro }, Journal)
  self:_reset_buffer()
  if ro then
    local version
    local ok, err = run(h, "PRAGMA user_version", nil, 0, nil, function(q) version = col(q, 0) end)
    if not ok then self:close(); return nil, err end
    self.schema = version
  else
    -- durable: a COMMIT returns once the WAL is on disk (fsync); NORMAL can lose the last
    -- commits on a power failure but never corrupts the file (store.c's reasoning)
    local ok, err = exec(h, self.durable and "PRAGMA synchronous=FULL" or "PRAGMA synchronous=NORMAL")
    if not ok then self:close(); return nil, err end
    self.schema = 8
  end
  return self
end

-- ---- the buffer: one Lua array per column, n events; events open_from .. n are the
-- open cycle (not yet committed), the rest carry their cycle in b.cycle ----

local BUF = { "cycle", "seq", "ts", "type", "detail" }
for _, c in ipairs(COLS) do BUF[#BUF + 1] = c end

function Journal:_reset_buffer()
  local b = {}
  for _, c in ipairs(BUF) do b[c] = {} end
  self._b, self._n, self._open_from, self._seq = b, 0, 1, 0
  self._pending = 0          -- commits accepted but not written
  self._state = nil          -- the newest accepted state (encoded), not yet written
  self._pending_cycle = nil  -- the newest accepted cycle not yet written
end

-- Drops the written events 1 .. k and keeps the rest (the open cycle) at the front.
local function shift(self, k)
  local b, n = self._b, self._n
  for _, c in ipairs(BUF) do
    local t = b[c]
    for i = 1, n - k do t[i] = t[i + k] end
    for i = math.max(n - k + 1, 1), n do t[i] = nil end
  end
  self._n = n - k
  self._open_from = self._open_from - k
end

-- ---- sessions ----

local SESSION_KEYS = { key = true, name = true, mode = true, workflow = true, config = true, now = true }

local function session_row(h)
  return { id = col(h, 0), key = col(h, 1), name = col(h, 2), mode = col(h, 3), workflow = col(h, 4),
    config = col(h, 5), started_us = col(h, 6), updated_us = col(h, 7), status = col(h, 8),
    last_cycle = col(h, 9) }
end
local SESSION_COLS = "id, key, name, mode, workflow, config, started_us, updated_us, status, last_cycle"

-- session{key=, name=, mode=, workflow=, config=, now=} -> session id, state or nil.
-- A new key creates the session; a key whose session is not finished reopens it (status
-- running again) and returns its last committed state (J:state) so the caller resumes; a
-- finished one returns nil, message. A previous session's committed cycles are written
-- first (J:flush); its events after the last commit are dropped, as J:close does.
function Journal:session(o)
  local h = handle(self)
  if self.readonly then error("gt.journal: session() needs a writable journal (opened readonly)", 2) end
  if type(o) ~= "table" then error("gt.journal:session: expected a table {key=, now=, ...}", 2) end
  for k in pairs(o) do
    if not SESSION_KEYS[k] then error(("gt.journal:session: unknown field '%s'"):format(tostring(k)), 2) end
  end
  if type(o.key) ~= "string" or o.key == "" then error("gt.journal:session: key must be a non-empty string", 2) end
  check_time("session's now", o.now, 2)
  for _, k in ipairs({ "name", "mode", "workflow" }) do check_opt("session's " .. k, o[k], "string", 2) end
  check_opt("session's config", o.config, "table", 2)
  local cfg = o.config and json.encode(plain(o.config, 0)) or nil
  if self.sid then
    local ok, err = self:flush()
    if not ok then return nil, err end
  end
  local ok, err = exec(h, "BEGIN IMMEDIATE")
  if not ok then return nil, err end
  local row
  ok, err = run(h, "SELECT " .. SESSION_COLS .. " FROM sessions WHERE key = ?", { o.key }, 1, nil,
    function(q) row = session_row(q) end)
  if not ok then return rollback(h, err) end
  if row and row.status == "finished" then
    rollback(h)
    return nil, ("journal %s: session '%s' (id %d) is finished; start a new one with another key")
      :format(self.path, o.key, row.id)
  end
  local sid
  if row then
    sid = row.id
    ok, err = run(h, "UPDATE sessions SET status = 'running', updated_us = ?, name = COALESCE(?, name),"
      .. " mode = COALESCE(?, mode), workflow = COALESCE(?, workflow), config = COALESCE(?, config)"
      .. " WHERE id = ?", { o.now, o.name, o.mode, o.workflow, cfg, sid }, 6, { true, [6] = true })
  else
    ok, err = run(h, "INSERT INTO sessions(key, name, mode, workflow, config, started_us, updated_us,"
      .. " status) VALUES (?,?,?,?,?,?,?,'running')", { o.key, o.name, o.mode, o.workflow, cfg, o.now, o.now },
      7, { [6] = true, [7] = true })
    sid = ok and tonumber(C.gt_db_last_id(h))
  end
  if not ok then return rollback(h, err) end
  ok, err = exec(h, "COMMIT")
  if not ok then return rollback(h, err) end
  self.sid, self.key = sid, o.key
  self.last_cycle = row and row.last_cycle or nil
  self.last_ts = o.now
  self:_reset_buffer()
  local state
  if row then
    state, err = self:state(sid)
    if err then return nil, err end
  end
  return sid, state
end

-- ---- append ----

-- Detail as JSON, the keys gathered in xk[1..m]. Flat (strings, numbers, booleans: the
-- usual event) is written here, sorted as gt.json sorts and with its number and string
-- rules, at a third of gt.json's cost; anything nested goes through gt.json.
local xk, parts = {}, {}
local jnum, find, concat = json.number, string.find, table.concat

local function flat_json(ev, m)
  if m > 1 then
    for i = 2, m do -- insertion sort: a handful of keys
      local k, j = xk[i], i - 1
      while j >= 1 and xk[j] > k do xk[j + 1] = xk[j]; j = j - 1 end
      xk[j + 1] = k
    end
  end
  local p = 0
  for i = 1, m do
    local k = xk[i]
    local x = ev[k]
    local tx = type(x)
    if find(k, '[%c"\\]') then k = json.encode(k) else k = '"' .. k .. '"' end
    if tx == "number" then x = jnum(x)
    elseif tx == "string" then x = find(x, '[%c"\\]') and json.encode(x) or ('"' .. x .. '"')
    else x = x and "true" or "false" end
    parts[p + 1], parts[p + 2], parts[p + 3], parts[p + 4] = i == 1 and "{" or ",", k, ":", x
    p = p + 4
  end
  parts[p + 1] = "}"
  return concat(parts, "", 1, p + 1)
end

local function nested_json(ev, m, ty)
  local extra = {}
  for i = 1, m do extra[xk[i]] = ev[xk[i]] end
  local ok, text = pcall(json.encode, extra)
  if not ok then
    error(("gt.journal:append: %s event: %s"):format(ty, (tostring(text):gsub("^.-gt%.json: ", ""))), 3)
  end
  return text
end

local function bad(ty, field, want, v)
  error(("gt.journal:append: %s event: %s must be %s, got %s"):format(ty, field, want, tostring(v)), 3)
end

-- append(ev): buffers one event; ev.type and ev.ts are required. Nothing touches SQLite.
function Journal:append(ev)
  if self.sid == nil then
    handle(self)
    error("gt.journal:append: no session (call J:session first)", 2)
  end
  if type(ev) ~= "table" then error("gt.journal:append: expected an event table", 2) end
  local ty = ev.type
  if not IS_TYPE[ty] then
    error(("gt.journal:append: unknown event type '%s' (types: %s)"):format(tostring(ty), type_list()), 2)
  end
  local ts = ev.ts
  if not is_int(ts) then
    error(("gt.journal:append: %s event: ts must be integer epoch microseconds, got %s"):format(ty, tostring(ts)), 2)
  end
  local n = self._n + 1
  local b = self._b
  -- one line per column, no loop over a column list: straight code the JIT compiles into one
  -- trace; absent fields are stored as false so the arrays stay dense (no column holds false)
  local v = ev.symbol
  if v == nil then v = false elseif type(v) ~= "string" then bad(ty, "symbol", "a string", v) end
  b.symbol[n] = v
  v = ev.strategy
  if v == nil then v = false elseif type(v) ~= "string" then bad(ty, "strategy", "a string", v) end
  b.strategy[n] = v
  v = ev.side
  if v == nil then v = false
  else
    local sv = SIDE[v]
    if not sv and type(v) == "string" then sv = SIDE[v:lower()] end
    if not sv then bad(ty, "side", "+1, -1, 'buy' or 'sell'", v) end
    v = sv
  end
  b.side[n] = v
  v = ev.qty
  if v == nil then v = false elseif type(v) ~= "number" then bad(ty, "qty", "a number", v) end
  b.qty[n] = v
  v = ev.price
  if v == nil then v = false elseif type(v) ~= "number" then bad(ty, "price", "a number", v) end
  b.price[n] = v
  v = ev.value
  if v == nil then v = false elseif type(v) ~= "number" then bad(ty, "value", "a number", v) end
  b.value[n] = v
  v = ev.confidence
  if v == nil then v = false elseif type(v) ~= "number" then bad(ty, "confidence", "a number", v) end
  b.confidence[n] = v
  v = ev.order_id
  if v == nil then v = false
  elseif not (is_int(v) or (type(v) == "cdata" and (ffi.istype("int64_t", v) or ffi.istype("uint64_t", v)))) then
    bad(ty, "order_id", "an integer (a broker's own id goes in another field, e.g. broker_id)", v)
  end
  b.order_id[n] = v
  v = ev.status
  if v == nil then v = false elseif type(v) ~= "string" then bad(ty, "status", "a string", v) end
  b.status[n] = v
  v = ev.reason
  if v == nil then v = false elseif type(v) ~= "string" then bad(ty, "reason", "a string", v) end
  b.reason[n] = v
  -- the other fields, copied now as JSON so the caller may reuse or change its table
  local m, flat = 0, true
  for k, x in pairs(ev) do
    if not NOT_DETAIL[k] then
      if type(k) ~= "string" then bad(ty, "every field name", "a string", k) end
      m = m + 1
      xk[m] = k
      local tx = type(x)
      if tx ~= "number" and tx ~= "string" and tx ~= "boolean" then flat = false end
    end
  end
  if m == 0 then
    b.detail[n] = false
  else
    b.detail[n] = flat and flat_json(ev, m) or nested_json(ev, m, ty)
  end
  local seq = self._seq + 1
  self._seq = seq
  b.seq[n], b.ts[n], b.type[n], b.cycle[n] = seq, ts, ty, false
  self._n = n
  if ts > (self.last_ts or ts - 1) then self.last_ts = ts end
end

-- ---- commit ----

local STATE_KEYS = { ts = true, cash = true, equity = true, positions = true, breaker = true, tier = true,
  regime = true, strategy = true, books = true, lua_state = true }

-- The state as the row's values, encoded (raises on misuse, before any SQL).
local function encode_state(cycle, s)
  if type(s) ~= "table" then error("gt.journal:commit: state must be a table", 3) end
  for k in pairs(s) do
    if not STATE_KEYS[k] then error(("gt.journal:commit: unknown state field '%s'"):format(tostring(k)), 3) end
  end
  if s.ts ~= nil then check_time("state.ts", s.ts, 3) end
  for _, k in ipairs({ "cash", "equity" }) do check_opt("state." .. k, s[k], "number", 3) end
  for _, k in ipairs({ "breaker", "tier", "regime", "strategy", "books" }) do check_opt("state." .. k, s[k], "string", 3) end
  check_opt("state.positions", s.positions, "table", 3)
  check_opt("state.lua_state", s.lua_state, "table", 3)
  local pos, lua_state
  if s.positions then
    for sym, p in pairs(s.positions) do
      if type(sym) ~= "string" or type(p) ~= "table" then
        error("gt.journal:commit: state.positions must map symbols to {qty=, avg=, price=}", 3)
      end
    end
    local ok, text = pcall(json.encode, s.positions)
    if not ok then error("gt.journal:commit: state.positions: " .. tostring(text), 3) end
    pos = text
  end
  if s.lua_state then
    local ok, text = pcall(json.encode, s.lua_state)
    if not ok then error("gt.journal:commit: state.lua_state: " .. tostring(text), 3) end
    lua_state = text
  end
  return { cycle, s.ts, s.cash, s.equity, pos, s.breaker, s.tier, s.regime, s.strategy,
    s.books and { bytes = s.books } or nil, lua_state }
end

local EVENT_INTS = { [2] = true, [3] = true, [4] = true, [8] = true, [13] = true }
local STATE_INTS = { [1] = true, [2] = true, [3] = true }

-- Writes events 1 .. upto (their cycles set) and the pending state in one transaction.
-- epilogue: also the open cycle's events, as the end of the last cycle written (finish, close).
function Journal:_write(upto, epilogue)
  local h = self._h
  local b, sid = self._b, self.sid
  if upto == 0 and not self._state and self._pending_cycle == nil then return true end
  local ok, err = exec(h, "BEGIN IMMEDIATE")
  if not ok then return nil, err end
  local base_cycle, base_seq = nil, 0
  if epilogue and upto > (self._open_from - 1) then
    base_cycle = self._pending_cycle or self.last_cycle or -1
    ok, err = run(h, "SELECT COALESCE(MAX(seq), 0) FROM journal WHERE session = ? AND cycle = ?",
      { sid, base_cycle }, 2, { true, true }, function(q) base_seq = col(q, 0) end)
    if not ok then return rollback(h, err) end
    -- the last cycle's own buffered events come first
    for i = 1, self._open_from - 1 do
      if b.cycle[i] == base_cycle and b.seq[i] > base_seq then base_seq = b.seq[i] end
    end
  end
  local rc = C.gt_db_prepare(h, INSERT_EVENT)
  if rc < 0 then return rollback(h, select(2, failed(rc))) end
  local bcyc, bseq, bts, btype, bdetail = b.cycle, b.seq, b.ts, b.type, b.detail
  local bcols = {}
  for j = 1, #COLS do bcols[j] = b[COLS[j]] end
  for i = 1, upto do
    local cyc, seq = bcyc[i], bseq[i]
    if cyc == false then cyc, seq = base_cycle, base_seq + seq end
    C.gt_db_bind_int(h, 1, sid)
    C.gt_db_bind_int(h, 2, cyc)
    C.gt_db_bind_int(h, 3, seq)
    C.gt_db_bind_int(h, 4, bts[i])
    local t = btype[i]
    C.gt_db_bind_text(h, 5, t, #t)
    for j = 1, #COLS do
      local v = bcols[j][i]
      if v then
        rc = bind(h, 5 + j, v, EVENT_INTS[5 + j])
        if rc < 0 then return rollback(h, select(2, failed(rc))) end
      end
    end
    local d = bdetail[i]
    if d then C.gt_db_bind_text(h, 16, d, #d) end
    rc = C.gt_db_step(h)
    if rc < 0 then return rollback(h, select(2, failed(rc))) end
  end
  if self._state then
    local v = self._state
    ok, err = run(h, UPSERT_STATE, { sid, v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11] },
      12, { true, true, true })
    if not ok then return rollback(h, err) end
  end
  ok, err = run(h, UPDATE_SESSION, { self._pending_cycle, self.last_ts, sid }, 3, STATE_INTS)
  if not ok then return rollback(h, err) end
  ok, err = exec(h, "COMMIT")
  if not ok then return rollback(h, err) end
  if self._pending_cycle ~= nil then self.last_cycle = self._pending_cycle end
  self._pending, self._state, self._pending_cycle = 0, nil, nil
  if epilogue then
    self._open_from = upto + 1
  end
  shift(self, upto)
  if epilogue then self._seq = 0 end
  return true
end

-- commit(cycle, state) -> true, or nil and a message (then nothing of it is written and the
-- events stay buffered: commit the same cycle again, or flush). The events appended since
-- the last commit become cycle `cycle`, which must be above every cycle committed before.
-- state = {ts=, cash=, equity=, positions={SYM={qty=,avg=,price=}}, breaker=, tier=, regime=,
-- strategy=, books=BYTES, lua_state=TABLE} (every field optional; nil state leaves the
-- stored one). Durable journals write now; batched ones every `batch` commits.
function Journal:commit(cycle, state)
  handle(self)
  if self.sid == nil then error("gt.journal:commit: no session (call J:session first)", 2) end
  if not is_int(cycle) or cycle < 0 then
    error("gt.journal:commit: cycle must be a whole number >= 0, got " .. tostring(cycle), 2)
  end
  local last = self._pending_cycle or self.last_cycle
  if last and cycle <= last then
    error(("gt.journal:commit: cycle %d is not after the last committed cycle %d (session %d)")
      :format(cycle, last, self.sid), 2)
  end
  local enc = state ~= nil and encode_state(cycle, state) or nil
  if state and state.ts and state.ts > (self.last_ts or state.ts - 1) then self.last_ts = state.ts end
  -- accept the cycle: mark its events, keep the state; undone if the write fails
  local b, from, n = self._b, self._open_from, self._n
  for i = from, n do b.cycle[i] = cycle end
  local prev_state, prev_cycle, prev_seq = self._state, self._pending_cycle, self._seq
  if enc then self._state = enc end
  self._pending_cycle, self._open_from, self._seq = cycle, n + 1, 0
  self._pending = self._pending + 1
  if not self.durable and self._pending < self.batch then return true end
  local ok, err = self:_write(n, false)
  if not ok then
    for i = from, n do b.cycle[i] = false end
    self._state, self._pending_cycle, self._open_from, self._seq = prev_state, prev_cycle, from, prev_seq
    self._pending = self._pending - 1
    return nil, err
  end
  return true
end

-- write_now(ev) -> true, or nil and a message: appends ev and commits it at once in its own
-- transaction, outside the cycle, for what must be on disk before the next step (an order
-- intent before its request is sent, the broker's answer after). It is written as the next
-- event of the last committed cycle (-1 before the first), the way J:finish keeps a closing
-- event; the open cycle's buffered events are untouched and its next commit unaffected. A
-- batched journal first writes the committed cycles it holds. Misuse raises as J:append.
local NOW_INTS = { [1] = true, [2] = true, [3] = true, [4] = true, [8] = true, [13] = true }
function Journal:write_now(ev)
  local h = handle(self)
  if self.readonly then error("gt.journal:write_now: the journal is read-only", 2) end
  if self.sid == nil then error("gt.journal:write_now: no session (call J:session first)", 2) end
  local ok, err = pcall(self.append, self, ev)
  if not ok then error((tostring(err):gsub("gt%.journal:append", "gt.journal:write_now")), 2) end
  -- take the event back out of the open cycle: it is written now, by itself
  local b, n = self._b, self._n
  local row = {}
  for _, c in ipairs(BUF) do row[c] = b[c][n]; b[c][n] = nil end
  self._n, self._seq = n - 1, self._seq - 1
  if self._pending > 0 then
    ok, err = self:flush()
    if not ok then return nil, err end
  end
  local cyc = self.last_cycle or -1
  ok, err = exec(h, "BEGIN IMMEDIATE")
  if not ok then return nil, err end
  local seq = 0
  ok, err = run(h, "SELECT COALESCE(MAX(seq), 0) FROM journal WHERE session = ? AND cycle = ?",
    { self.sid, cyc }, 2, { true, true }, function(q) seq = col(q, 0) end)
  if not ok then return rollback(h, err) end
  local binds = { self.sid, cyc, seq + 1, row.ts, row.type }
  for j = 1, #COLS do
    local v = row[COLS[j]]
    if v == false then v = nil end
    binds[5 + j] = v
  end
  binds[16] = row.detail or nil
  ok, err = run(h, INSERT_EVENT, binds, 16, NOW_INTS)
  if not ok then return rollback(h, err) end
  ok, err = run(h, UPDATE_SESSION, { nil, self.last_ts, self.sid }, 3, STATE_INTS)
  if not ok then return rollback(h, err) end
  ok, err = exec(h, "COMMIT")
  if not ok then return rollback(h, err) end
  return true
end

-- mark() -> a position in the buffer; discard(mark) drops the open cycle's events appended
-- after it (never an accepted cycle's: after a commit since the mark, the open cycle's
-- events only). For a cycle that will never be committed (the session was interrupted in the
-- middle of it): its events must not reach the journal, which J:finish would otherwise
-- write as the end of the last committed cycle; the resumed session runs that cycle again.
function Journal:mark() return self._n end
function Journal:discard(mark)
  handle(self)
  if not is_int(mark) or mark < 0 then
    error("gt.journal:discard: expected a mark from J:mark(), got " .. tostring(mark), 2)
  end
  local keep, n = math.max(mark, self._open_from - 1), self._n
  if keep >= n then return true end
  local b = self._b
  for _, c in ipairs(BUF) do
    local t = b[c]
    for i = keep + 1, n do t[i] = nil end
  end
  self._seq = self._seq - (n - keep)
  self._n = keep
  return true
end

-- Writes the committed cycles a batched journal holds. -> true, or nil and a message.
function Journal:flush()
  handle(self)
  if self.sid == nil or self._pending == 0 then return true end
  return self:_write(self._open_from - 1, false)
end

-- ---- reads ----

-- state([sid]) -> the session's last written state, or nil (none yet). books is a Lua
-- string of the snapshot's bytes; positions and lua_state are tables again.
function Journal:state(sid)
  local h = handle(self)
  sid = sid or self.sid
  if not is_int(sid) then error("gt.journal:state: expected a session id", 2) end
  if self.schema and self.schema < 8 then return nil end
  local s
  local ok, err = run(h, "SELECT cycle, ts, cash, equity, positions, breaker, tier, regime, strategy,"
    .. " books, lua_state FROM session_state WHERE session = ?", { sid }, 1, { true }, function(q)
      s = { session = sid, cycle = col(q, 0), ts = col(q, 1), cash = col(q, 2), equity = col(q, 3),
        positions = col(q, 4), breaker = col(q, 5), tier = col(q, 6), regime = col(q, 7), strategy = col(q, 8),
        lua_state = col(q, 10) }
      local p = C.gt_db_bytes(q, 9, len_buf)
      if p ~= nil then s.books = ffi.string(p, len_buf[0]) end
    end)
  if not ok then return nil, err end
  if not s then return nil end
  for _, k in ipairs({ "positions", "lua_state" }) do
    if s[k] then
      local v, derr = json.decode(s[k])
      if v == nil then return nil, ("journal %s: session %d: stored %s: %s"):format(self.path, sid, k, derr) end
      s[k] = v
    end
  end
  return s
end

-- sessions() -> every session, oldest first: {id, key, name, mode, workflow, config (a
-- table), started_us, updated_us, status, last_cycle}.
function Journal:sessions()
  local h = handle(self)
  local out = {}
  if self.schema and self.schema < 8 then return out end
  local ok, err = run(h, "SELECT " .. SESSION_COLS .. " FROM sessions ORDER BY id", nil, 0, nil,
    function(q) out[#out + 1] = session_row(q) end)
  if not ok then return nil, err end
  for _, s in ipairs(out) do
    if s.config then s.config = json.decode(s.config) or s.config end
  end
  return out
end

local QUERY_KEYS = { session = true, type = true, since = true, until_ = true, limit = true, order_id = true,
  cycle = true, desc = true }
local ROW_SQL = "SELECT id, session, cycle, seq, ts, type, symbol, strategy, side, qty, price, value,"
  .. " confidence, order_id, status, reason, detail FROM journal"
local ROW_KEYS = { "id", "session", "cycle", "seq", "ts", "type", "symbol", "strategy", "side", "qty", "price",
  "value", "confidence", "order_id", "status", "reason" }

-- query{session=, type=T or {T...}, since=US, until_=US, cycle=, order_id=, limit=, desc=}
-- -> array of rows as written (id, session, cycle, seq and the event's fields; detail's
-- fields merged in), in journal order (desc: newest first). session defaults to the current
-- one; since <= ts < until_. Reads the database: events a batched journal holds are not seen.
function Journal:query(q)
  local h = handle(self)
  q = q or {}
  if type(q) ~= "table" then error("gt.journal:query: expected a table", 2) end
  for k in pairs(q) do
    if not QUERY_KEYS[k] then error(("gt.journal:query: unknown field '%s'"):format(tostring(k)), 2) end
  end
  local sid = q.session or self.sid
  if not is_int(sid) then error("gt.journal:query: session must be a session id (no current session)", 2) end
  local where, binds, ints = { "session = ?" }, { sid }, { true }
  local function add(cond, v, int)
    where[#where + 1] = cond
    binds[#binds + 1] = v
    ints[#binds] = int
  end
  if q.type ~= nil then
    local types = type(q.type) == "table" and q.type or { q.type }
    local marks = {}
    for _, t in ipairs(types) do
      if not IS_TYPE[t] then
        error(("gt.journal:query: unknown event type '%s' (types: %s)"):format(tostring(t), type_list()), 2)
      end
      marks[#marks + 1] = "?"
      binds[#binds + 1] = t
    end
    where[#where + 1] = "type IN (" .. table.concat(marks, ",") .. ")"
  end
  if q.since ~= nil then check_time("query's since", q.since, 2); add("ts >= ?", q.since, true) end
  if q.until_ ~= nil then check_time("query's until_", q.until_, 2); add("ts < ?", q.until_, true) end
  if q.cycle ~= nil then check_time("query's cycle", q.cycle, 2); add("cycle = ?", q.cycle, true) end
  if q.order_id ~= nil then
    if not is_int(q.order_id) then error("gt.journal:query: order_id must be an integer", 2) end
    add("order_id = ?", q.order_id, true)
  end
  local sql = ROW_SQL .. " WHERE " .. table.concat(where, " AND ") .. (q.desc and " ORDER BY id DESC" or " ORDER BY id")
  if q.limit ~= nil then
    if not is_int(q.limit) or q.limit < 0 then error("gt.journal:query: limit must be a whole number >= 0", 2) end
    if q.limit > 0 then sql = sql .. " LIMIT " .. ("%d"):format(q.limit) end
  end
  local rows = {}
  if self.schema and self.schema < 8 then return rows end
  local ok, err = run(h, sql, binds, #binds, ints, function(r)
    local row = {}
    for i, k in ipairs(ROW_KEYS) do row[k] = col(r, i - 1) end
    local d = col(r, 16)
    if d then
      local v = json.decode(d)
      if type(v) == "table" then
        for k, x in pairs(v) do if row[k] == nil then row[k] = x end end
      else
        row.detail = d -- edited or damaged by hand: kept as text
      end
    end
    rows[#rows + 1] = row
  end)
  if not ok then return nil, err end
  return rows
end

-- counts(sid) -> {TYPE = events of that type, ..., orders = distinct orders, refusals =
-- distinct orders refused (a refused risk_decision or a rejected order, counted once per
-- order id)}, for status displays.
function Journal:counts(sid)
  local h = handle(self)
  sid = sid or self.sid
  if not is_int(sid) then error("gt.journal:counts: expected a session id", 2) end
  local out = { refusals = 0 }
  if self.schema and self.schema < 8 then return out end
  local ok, err = run(h, "SELECT type, count(*) FROM journal WHERE session = ? GROUP BY type", { sid }, 1,
    { true }, function(q) out[col(q, 0)] = col(q, 1) end)
  if not ok then return nil, err end
  -- orders and refusals by order: an order's status changes are further `order` events, and
  -- a refusal is both the gate's `risk_decision` and the order's `rejected` state
  ok, err = run(h, "SELECT count(DISTINCT order_id) FROM journal WHERE session = ?1 AND type = 'order'",
    { sid }, 1, { true }, function(q) out.orders = col(q, 0) end)
  if not ok then return nil, err end
  ok, err = run(h, "SELECT count(*) FROM (SELECT order_id FROM journal WHERE session = ?1 AND"
    .. " ((type = 'risk_decision' AND status = 'refused') OR (type = 'order' AND status = 'rejected'))"
    .. " GROUP BY coalesce(order_id, -id))", { sid }, 1, { true }, function(q) out.refusals = col(q, 0) end)
  if not ok then return nil, err end
  return out
end

-- ---- ending ----

-- finish(status) with status "finished", "stopped" or "failed": writes everything buffered
-- (events after the last commit are kept as the end of that cycle, so a closing `session`
-- or `error` event is not lost; the state is not touched) and sets the session's status. A
-- stopped or failed session can be resumed with J:session and its key; a finished one not.
function Journal:finish(status)
  handle(self)
  if status ~= "finished" and status ~= "stopped" and status ~= "failed" then
    error(("gt.journal:finish: status must be 'finished', 'stopped' or 'failed', got %s"):format(tostring(status)), 2)
  end
  if self.sid == nil then error("gt.journal:finish: no session (call J:session first)", 2) end
  local h = self._h
  local ok, err = self:_write(self._n, true)
  if not ok then return nil, err end
  ok, err = run(h, "UPDATE sessions SET status = ?, updated_us = COALESCE(?, updated_us) WHERE id = ?",
    { status, self.last_ts, self.sid }, 3, { [2] = true, [3] = true })
  if not ok then return nil, err end
  self.sid = nil
  self:_reset_buffer()
  return true
end

-- close(): writes the committed cycles a batched journal holds (J:flush) and closes the
-- connection; the status stays (a session closed while running is resumable, as after a
-- crash) and events appended after the last commit are dropped, since their cycle never
-- committed (J:finish keeps them). Safe to call twice; returns true, or nil and a message
-- when the flush failed (the connection is closed anyway). A journal collected without
-- close() only closes its connection.
function Journal:close()
  local h = self._h
  if h == nil then return true end
  local ok, err = true, nil
  if self.sid and not self.readonly then ok, err = self:flush() end
  self._h = nil
  C.gt_db_close(ffi.gc(h, nil))
  return ok, err
end

-- The current session's id (nil before J:session and after finish).
function Journal:id() return self.sid end

-- A setting of the control table (the kill switch `gtengine halt` sets: key "halt"), read
-- through the journal's own connection so a session can watch it every cycle; nil when unset.
function Journal:control(key)
  local h = handle(self)
  local v
  local ok, err = run(h, "SELECT value FROM control WHERE key = ?1", { key }, 1, nil,
    function(q) v = col_text(q, 0) end)
  if not ok then return nil, err end
  return v
end

return M
