-- gt.alerts: the alerts table (schema 9, engine/store.c) of a database: what a session's
-- monitor (gt.monitor) raised, kept until a person acknowledges or resolves it.
--
--   local A = assert(gt.alerts.open("gt.db"))
--   local id = A:add { session = 3, ts = clock, level = "WARNING", component = "health",
--                      message = "cycle time above 1000 ms", detail = { value = 1234 } }
--   A:list { session = 3 }           -- open ones (all = true: every status), newest first
--   A:ack(id); A:resolve(id)         -- true, or nil and why (no such alert, already resolved)
--   A:close()
--
-- ts is the engine's clock at the alert (a replay raises at bar time); acked_ts and
-- resolved_ts are the wall clock of the person answering. add() is INSERT OR IGNORE on
-- (session, ts, component, message): a cycle replayed after a crash raises the same alert
-- again and one row is kept (add returns the existing row's id).
-- Misuse raises; the database failing returns nil, message naming the file.
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local json = require "gt.json"
local config = require "gt.config"
local C = gtffi.C

local M = {}

M.LEVELS = { INFO = 1, WARNING = 2, ERROR = 3, CRITICAL = 4 }
M.STATUSES = { open = true, acknowledged = true, resolved = true }
M.SCHEMA = 9

local Alerts = {}
Alerts.__index = Alerts

local len_buf = ffi.new("int64_t[1]")

local function failed(rc)
  local _, msg = gtffi.result(rc, 3)
  return nil, msg
end

local function col(h, i)
  local t = C.gt_db_type(h, i)
  if t == C.GT_DB_NULL then return nil end
  if t == C.GT_DB_INTEGER then return tonumber(C.gt_db_int(h, i)) end
  if t == C.GT_DB_FLOAT then return C.gt_db_double(h, i) end
  local p = C.gt_db_text(h, i, len_buf)
  return p ~= nil and ffi.string(p, len_buf[0]) or nil
end

-- sql with binds (strings as text, numbers as integers); row(h) per result row.
local function run(h, sql, binds, row)
  local rc = C.gt_db_prepare(h, sql)
  if rc < 0 then return failed(rc) end
  for i, v in ipairs(binds or {}) do
    if v == json.null or v == false then rc = C.gt_db_bind_null(h, i)
    elseif type(v) == "number" then rc = C.gt_db_bind_int(h, i, v)
    else v = tostring(v); rc = C.gt_db_bind_text(h, i, v, #v) end
    if rc < 0 then return failed(rc) end
  end
  while true do
    rc = C.gt_db_step(h)
    if rc < 0 then return failed(rc) end
    if rc == 0 then return true end
    if row then row(h) end
  end
end

local function handle(self)
  if self._h == nil then error("gt.alerts: the alerts of " .. tostring(self.path) .. " are closed", 3) end
  return self._h
end

-- open(path [, {readonly = true}]) -> handle, or nil and a message. Creates and migrates the
-- database (gt.store) unless readonly; a readonly handle on a database older than schema 9
-- lists nothing.
function M.open(path, opts)
  if path ~= nil and type(path) ~= "string" then error("gt.alerts.open: path must be a string", 2) end
  opts = opts or {}
  path = config.db_path(path)
  local ro = opts.readonly and true or false
  local version
  if not ro then
    local st, err = require("gt.store").open(path)
    if not st then return nil, err end
    version = st:version()
    st:close()
    if version < M.SCHEMA then
      return nil, ("alerts %s: the database is read-only at schema %d (alerts need %d)"):format(path, version, M.SCHEMA)
    end
  else
    local f = io.open(path, "rb")
    if not f then return nil, ("alerts %s: no such database"):format(path) end
    f:close()
  end
  local h = C.gt_db_open(path, ro and C.GT_DB_READONLY or 0)
  if h == nil then return nil, gtffi.errmsg() end
  local self = setmetatable({ _h = ffi.gc(h, C.gt_db_close), path = path }, Alerts)
  if ro then
    local ok, err = run(self._h, "PRAGMA user_version", nil, function(q) version = col(q, 0) end)
    if not ok then self:close(); return nil, err end
  end
  self.schema = version
  return self
end

local ADD_KEYS = { session = true, ts = true, level = true, component = true, message = true, detail = true }

local function is_int(v) return type(v) == "number" and v == v and v % 1 == 0 and math.abs(v) < 2 ^ 63 end

-- add{ts =, level =, component =, message = [, session =, detail = {...}]} -> id.
function Alerts:add(a)
  local h = handle(self)
  if type(a) ~= "table" then error("gt.alerts:add: expected a table", 2) end
  for k in pairs(a) do
    if not ADD_KEYS[k] then error(("gt.alerts:add: unknown field '%s'"):format(tostring(k)), 2) end
  end
  if not is_int(a.ts) then error("gt.alerts:add: ts must be integer epoch microseconds", 2) end
  if not M.LEVELS[a.level] then error("gt.alerts:add: level must be INFO, WARNING, ERROR or CRITICAL", 2) end
  if type(a.component) ~= "string" or type(a.message) ~= "string" then
    error("gt.alerts:add: component and message must be strings", 2)
  end
  if a.session ~= nil and not is_int(a.session) then error("gt.alerts:add: session must be a session id", 2) end
  local detail = a.detail ~= nil and next(a.detail) ~= nil and json.encode(a.detail) or json.null
  local ok, err = run(h, "INSERT OR IGNORE INTO alerts(session, ts, level, component, message, detail)"
    .. " VALUES (?, ?, ?, ?, ?, ?)", { a.session or json.null, a.ts, a.level, a.component, a.message, detail })
  if not ok then return nil, err end
  if tonumber(C.gt_db_changes(h)) > 0 then return tonumber(C.gt_db_last_id(h)) end
  local id
  ok, err = run(h, "SELECT id FROM alerts WHERE session IS ? AND ts = ? AND component = ? AND message = ?",
    { a.session or json.null, a.ts, a.component, a.message }, function(q) id = col(q, 0) end)
  if not ok then return nil, err end
  return id
end

local ROW = "SELECT id, session, ts, level, component, message, detail, status, acked_ts, resolved_ts FROM alerts"
local ROW_KEYS = { "id", "session", "ts", "level", "component", "message", "detail", "status", "acked_ts",
  "resolved_ts" }

-- list{session =, all = true, status = S, limit = N} -> rows, newest first (open ones by
-- default; all: every status).
function Alerts:list(q)
  local h = handle(self)
  q = q or {}
  if self.schema and self.schema < M.SCHEMA then return {} end
  local where, binds = {}, {}
  if q.session ~= nil then
    if not is_int(q.session) then error("gt.alerts:list: session must be a session id", 2) end
    where[#where + 1] = "session = ?"; binds[#binds + 1] = q.session
  end
  if q.status ~= nil then
    if not M.STATUSES[q.status] then error("gt.alerts:list: status must be open, acknowledged or resolved", 2) end
    where[#where + 1] = "status = ?"; binds[#binds + 1] = q.status
  elseif not q.all then
    where[#where + 1] = "status = 'open'"
  end
  local sql = ROW .. (#where > 0 and (" WHERE " .. table.concat(where, " AND ")) or "") .. " ORDER BY id DESC"
  if q.limit ~= nil then
    if not is_int(q.limit) or q.limit < 1 then error("gt.alerts:list: limit must be a whole number >= 1", 2) end
    sql = sql .. (" LIMIT %d"):format(q.limit)
  end
  local rows = {}
  local ok, err = run(h, sql, binds, function(r)
    local row = {}
    for i, k in ipairs(ROW_KEYS) do row[k] = col(r, i - 1) end
    if row.detail then
      local okd, v = pcall(json.decode, row.detail)
      row.detail = okd and type(v) == "table" and v or row.detail
    end
    rows[#rows + 1] = row
  end)
  if not ok then return nil, err end
  return rows
end

-- One alert by id, or nil.
function Alerts:get(id)
  local h = handle(self)
  if not is_int(id) then error("gt.alerts:get: expected an alert id", 2) end
  local row
  local ok, err = run(h, ROW .. " WHERE id = ?", { id }, function(r)
    row = {}
    for i, k in ipairs(ROW_KEYS) do row[k] = col(r, i - 1) end
  end)
  if not ok then return nil, err end
  return row
end

local wall
local function now_us()
  wall = wall or require("gt.clock").wall()
  return wall:now()
end

local function set_status(self, id, to, level)
  local h = handle(self)
  if not is_int(id) then error(("gt.alerts:%s: expected an alert id"):format(to == "resolved" and "resolve" or "ack"), level) end
  local row, err = self:get(id)
  if err then return nil, err end
  if not row then return nil, ("alerts %s: no alert %d"):format(self.path, id) end
  if row.status == "resolved" then return nil, ("alert %d is already resolved"):format(id) end
  if row.status == to then return nil, ("alert %d is already %s"):format(id, to) end
  local sql = to == "resolved" and "UPDATE alerts SET status = 'resolved', resolved_ts = ? WHERE id = ?"
    or "UPDATE alerts SET status = 'acknowledged', acked_ts = ? WHERE id = ?"
  local ok, uerr = run(h, sql, { now_us(), id })
  if not ok then return nil, uerr end
  return true
end

-- ack(id) / resolve(id) -> true, or nil and why (no such alert, already done).
function Alerts:ack(id) return set_status(self, id, "acknowledged", 3) end
function Alerts:resolve(id) return set_status(self, id, "resolved", 3) end

function Alerts:close()
  local h = self._h
  if h == nil then return end
  self._h = nil
  C.gt_db_close(ffi.gc(h, nil))
end

return M
