-- gt.monitor: watches a trading session (gt.orchestrator) through its bus and its
-- cycle_end / session_end hooks; it never steers it.
--
--   local mon = gt.monitor.attach(session, { log = "paper.jsonl", webhook = "http://127.0.0.1:9000/hook" })
--   local summary = session:run()
--   mon:finish(summary)              -- the --report of a paper session, closes the log
--
-- What it does:
-- - The view: on a terminal a status screen redrawn in place (at most 4 times a second on the
--   monotonic clock, and at the last cycle); otherwise a plain progress line every tenth of
--   the session and a line per alert; display = false (--quiet) for neither.
-- - The log (opts.log): one JSON object per line per event, with the seed's fields
--   (timestamp on the engine's clock, level, service, event_type, correlation_id, message)
--   and the event's own; written once per cycle as whole lines in one write, rotated by size
--   (path -> path.1 ... path.N). A write that fails is counted and alerted once; trading goes on.
-- - Health: the session's per-step and per-cycle latency (it turns session.health on), the
--   error rate over the last cycles, data staleness (wall time between bars of a paced replay).
-- - Alerts: the seed's thresholds (error rate > 0.05, cycle time > 1000 ms), breaker changes
--   (HALTED critical, REDUCING warning), subscriber and hook errors, and any `alert` event
--   another part of the session publishes. De-duplicated by component:message within 300 s of
--   the engine's clock (so a replay alerts as real time would), published on the bus as
--   `alert` events (the journal keeps them), written to the database's alerts table (a
--   journalled session; `gtengine alerts`), and POSTed to opts.webhook.
-- - The webhook: alerts are appended to a spool file that a child process (gtengine alerts
--   --deliver) tails and POSTs through gt.http (3 tries, backoff; TLS and loopback rules of
--   the HTTP layer). The cycle only appends a line to a file: a slow or dead receiver never
--   holds it up, and no pipe can fill. The child reports each outcome back through a file
--   the monitor reads between cycles; a delivery that failed three times is an alert.
-- Uses: gt.bus, gt.clock (monotonic and the session's simulated clock), gt.json, gt.alerts,
-- gt.http (the child), gt.report (the paper report), gt.journal (reading it back).
local json = require "gt.json"
local fmt = require "gt.fmt"
local gtime = require "gt.time"

local M = {}

M.DEFAULTS = {
  progress = true,         -- the view (terminal) or progress lines
  log = nil,               -- a JSON-lines file
  log_max_bytes = 10e6,    -- rotate when the file would grow past this
  log_keep = 5,            -- rotated files kept: path.1 (newest) .. path.N
  webhook = nil,           -- http(s) URL each alert is POSTed to
  dedupe = 300,            -- seconds of engine time an alert (component:message) is not repeated
  error_rate = 0.05,       -- error events per cycle over the window that raise an alert
  error_window = 100,      -- cycles
  cycle_ms = 1000,         -- a cycle slower than this raises an alert (the seed's response time)
  stale_after = nil,       -- seconds between bars of a paced replay; default 3 bar intervals / speed
}
M.KEYS = {}
for k in pairs(M.DEFAULTS) do M.KEYS[k] = true end
M.KEYS.log, M.KEYS.webhook, M.KEYS.stale_after = true, true, true

M.LEVELS = { INFO = 1, WARNING = 2, ERROR = 3, CRITICAL = 4 }
M.SERVICE = "gtengine"
M.REDRAW_US = 250000 -- at most 4 redraws a second
M.EVENTS_SHOWN = 8

-- The event types the monitor follows (bar and analysis are left out: a subscriber makes
-- the orchestrator build them, and the log would be mostly prices).
M.FOLLOW = { "regime", "selection", "sizing", "risk_decision", "order", "fill", "position", "equity",
  "breaker", "alert", "error", "tier_change", "session", "command", "reload" }

-- Validates workflow.monitor (raises "where: key 'monitor.x': ..."), for gt.workflow.
function M.check(t, where)
  local function fail(k, msg) error(("%s: key 'monitor.%s': %s"):format(where, k, msg), 0) end
  if type(t.progress) ~= "boolean" then fail("progress", "expected true or false") end
  if t.log ~= nil and (type(t.log) ~= "string" or t.log == "") then fail("log", "expected a file path") end
  for _, k in ipairs { "log_max_bytes", "log_keep", "dedupe", "error_rate", "error_window", "cycle_ms", "stale_after" } do
    local v = t[k]
    if v ~= nil and (type(v) ~= "number" or v ~= v or v < 0 or v == math.huge) then
      fail(k, "expected a number >= 0, got " .. tostring(v))
    end
  end
  if t.log_max_bytes ~= nil and t.log_max_bytes < 1024 then fail("log_max_bytes", "expected at least 1024") end
  if t.log_keep ~= nil and t.log_keep % 1 ~= 0 then fail("log_keep", "expected a whole number") end
  if t.error_window ~= nil and (t.error_window < 1 or t.error_window % 1 ~= 0) then
    fail("error_window", "expected a whole number >= 1")
  end
  if t.webhook ~= nil and (type(t.webhook) ~= "string" or not t.webhook:match("^https?://[^/%s]+")) then
    fail("webhook", "expected an http:// (loopback only) or https:// URL")
  end
end

local Monitor = {}
Monitor.__index = Monitor

local function num(v)
  if type(v) == "cdata" then return tonumber(v) end
  return v
end

local SIDE = { [1] = "buy", [-1] = "sell", buy = "buy", sell = "sell" }
local function side_text(s) return SIDE[num(s)] or tostring(s) end

local function money(v) return v and v == v and fmt.num(v, 2) or "-" end

-- A short sentence for an event (log message, the view's event list).
local function describe(ev)
  local t = ev.type
  local sym = ev.symbol or ""
  if t == "order" then
    return ("order %s %s %s %s %s%s"):format(tostring(ev.order_id), side_text(ev.side), fmt.num(num(ev.qty) or 0, 0),
      sym, tostring(ev.status), ev.price and (" at " .. money(ev.price)) or "")
      .. (ev.reason and (": " .. ev.reason) or "")
  elseif t == "fill" then
    return ("fill %s %s %s at %s"):format(side_text(ev.side), fmt.num(num(ev.qty) or 0, 0), sym, money(ev.price))
  elseif t == "risk_decision" then
    return ("risk %s order %s %s %s %s%s"):format(tostring(ev.status), tostring(ev.order_id), side_text(ev.side),
      fmt.num(num(ev.qty) or 0, 0), sym, ev.reason and (": " .. ev.reason) or "")
  elseif t == "sizing" then
    return ("sizing %s %s target %s fraction %.4f"):format(sym, tostring(ev.strategy), tostring(ev.target),
      num(ev.value) or 0)
  elseif t == "position" then
    return ("position %s %s"):format(sym, fmt.num(num(ev.qty) or 0, 0))
  elseif t == "equity" then
    return "equity " .. money(ev.value)
  elseif t == "breaker" then
    return "breaker " .. tostring(ev.status) .. (ev.reason and (": " .. ev.reason) or "")
  elseif t == "regime" then
    return ("regime %s %s"):format(sym, tostring(ev.status))
  elseif t == "selection" then
    return ("%s selects %s"):format(sym, tostring(ev.strategy))
  elseif t == "alert" then
    return ("%s %s: %s"):format(tostring(ev.status), tostring(ev.component or "session"), tostring(ev.reason))
  elseif t == "error" then
    return "error: " .. tostring(ev.reason)
  elseif t == "tier_change" then
    return ("tier %s -> %s"):format(tostring(ev.from), tostring(ev.status))
  end
  local parts = { t }
  if ev.symbol then parts[#parts + 1] = ev.symbol end
  if ev.status then parts[#parts + 1] = tostring(ev.status) end
  if ev.reason then parts[#parts + 1] = tostring(ev.reason) end
  return table.concat(parts, " ")
end
M.describe = describe

local function level_of(ev)
  local t = ev.type
  if t == "alert" then return M.LEVELS[ev.status] and ev.status or "WARNING" end
  if t == "error" then return "ERROR" end
  if t == "breaker" then
    return ev.status == "HALTED" and "CRITICAL" or ev.status == "REDUCING" and "WARNING" or "INFO"
  end
  if (t == "risk_decision" and ev.status == "refused") or (t == "order" and ev.status == "rejected") then
    return "WARNING"
  end
  return "INFO"
end

-- The pid of this process (Linux /proc; nil elsewhere): the webhook child stops when it is gone.
local function self_pid()
  local f = io.open("/proc/self/stat", "r")
  if not f then return nil end
  local s = f:read("*l")
  f:close()
  return s and tonumber(s:match("^(%d+)"))
end

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

---------------------------------------------------------------------------------------
-- attach
---------------------------------------------------------------------------------------

-- attach(session[, opts]) -> monitor. opts override the workflow's monitor settings and add:
-- display = "view" | "lines" | false (default: "view" on a terminal, "lines" otherwise, false
-- when the session is quiet or progress is off), out (the session's), clock (the engine clock
-- alerts are de-duplicated on; default the session's), mono (a monotonic clock), alerts_db =
-- false (no alerts table), report (a paper session's HTML report path; default wf.report).
function M.attach(sess, opts)
  opts = opts or {}
  local wf = sess.wf or {}
  local cfg = {}
  for k, v in pairs(M.DEFAULTS) do cfg[k] = v end
  for k, v in pairs(wf.monitor or {}) do cfg[k] = v end
  for k, v in pairs(opts) do if M.KEYS[k] then cfg[k] = v end end
  M.check(cfg, "gt.monitor.attach")
  local out = opts.out or sess.out or io.stdout
  local display = opts.display
  if display == nil then
    if sess.quiet or not cfg.progress then display = false
    elseif out == io.stdout and fmt.isatty(1) then display = "view"
    else display = "lines" end
  end
  local clock_mod = require "gt.clock"
  local self = setmetatable({ sess = sess, cfg = cfg, out = out, display = display, opts = opts,
    mono = opts.mono or clock_mod.monotonic(), clock = opts.clock,
    counts = {}, recent = {}, nrecent = 0, alerts = 0, suppressed = 0, alert_list = {},
    err_ring = {}, err_cycle = 0, err_sum = 0, ring_n = 0, ring_i = 0,
    log_buf = {}, log_n = 0, log_bytes = 0, log_errors = 0, lines = 0,
    corr = {}, corr_fifo = {}, corr_head = 1,
    peak = nil, day = nil, day_equity = nil, last_draw = nil, last_bar_wall = nil,
    webhook_sent = 0, webhook_ok = 0, webhook_failed = 0, self_us = 0, pending_rows = {} }, Monitor)
  sess.health = true -- per-step and per-cycle latency (gt.orchestrator's health_stats)
  sess.monitor = self
  -- a paper session's report is built from its journal here (resumed sessions included)
  self.report_path = opts.report
  if self.report_path == nil then self.report_path = wf.report end
  if self.report_path and wf.mode ~= "backtest" and wf.journal and wf.journal.enabled
    and sess.opts and sess.opts.journal ~= false then
    sess.report_by_monitor = true
  else
    self.report_path = nil
  end
  if sess.bus then
    for _, t in ipairs(M.FOLLOW) do
      sess.bus:subscribe(t, function(ev) self:on_event(ev) end, "monitor")
    end
  end
  if sess.hook then
    sess:hook("cycle_end", function() self:cycle_end() end)
    sess:hook("session_end", function() self:session_end() end)
  end
  if cfg.log then
    local ok, err = self:_open_log()
    if not ok then self.log_open_error = err end
  end
  return self
end

-- The engine clock: the one given, else the session's (set when it runs).
function Monitor:_clock()
  return self.clock or self.sess.clock
end

function Monitor:_now()
  local c = self:_clock()
  if c then return c:now() end
  return self.sess.state and self.sess.state.ts or 0
end

---------------------------------------------------------------------------------------
-- events
---------------------------------------------------------------------------------------

local SHOWN = { order = true, fill = true, risk_decision = true, breaker = true, regime = true, alert = true,
  error = true, tier_change = true, selection = true, reload = true, command = true }

function Monitor:on_event(ev)
  local t = ev.type
  self.counts[t] = (self.counts[t] or 0) + 1
  if t == "error" then
    self.err_cycle = self.err_cycle + 1
    if ev.source == "bus" or ev.source == "hook" then
      self:raise("ERROR", ev.source == "bus" and "bus" or "hooks",
        ev.source == "bus" and "a subscriber failed" or "a hook failed", { detail = ev.reason })
    end
  elseif t == "breaker" then
    if ev.status == "HALTED" then
      self:raise("CRITICAL", "risk", "breaker HALTED", { detail = ev.reason })
    elseif ev.status == "REDUCING" then
      self:raise("WARNING", "risk", "breaker REDUCING", { detail = ev.reason })
    end
  elseif t == "alert" then
    self:_on_alert(ev)
  end
  if SHOWN[t] and not (t == "risk_decision" and ev.status ~= "refused") then
    self.nrecent = self.nrecent + 1
    self.recent[(self.nrecent - 1) % M.EVENTS_SHOWN + 1] = ev
  end
  if t == "equity" then self:_equity(ev) end
  if self.log_f or self.cfg.log then self:_log_event(ev) end
end

function Monitor:_equity(ev)
  local v = num(ev.value)
  if not v or v ~= v then return end
  if not self.peak or v > self.peak then self.peak = v end
  local day = math.floor((ev.ts or 0) / 86400e6)
  if day ~= self.day then
    self.day, self.day_equity = day, self.last_equity or v
  end
  self.last_equity = v
end

---------------------------------------------------------------------------------------
-- alerts
---------------------------------------------------------------------------------------

-- raise(level, component, message[, fields]) -> the alert event, or nil when the same
-- component:message was raised less than `dedupe` seconds ago on the engine's clock.
-- fields: value (a number), detail (text), no_webhook. The message should not carry
-- changing numbers (they defeat de-duplication): put them in value or detail.
function Monitor:raise(level, component, message, fields)
  if not M.LEVELS[level] then error("gt.monitor: level must be INFO, WARNING, ERROR or CRITICAL", 2) end
  if not self:_fresh(component, message) then return nil end
  fields = fields or {}
  local ev = { type = "alert", ts = self:_now(), status = level, reason = message, component = component,
    value = fields.value, detail = fields.detail }
  self._own = ev
  self._no_webhook = fields.no_webhook
  if self.sess.bus then
    self.sess.bus:publish(ev)
  else
    self:on_event(ev)
  end
  self._own, self._no_webhook = nil, nil
  return ev
end

function Monitor:_fresh(component, message)
  local c = self:_clock()
  if not c then return true end
  if not self.dd or self.dd.clock ~= c then
    self.dd = c:dedupe(math.max(1, math.floor(self.cfg.dedupe * 1e6)))
  end
  if self.dd:fresh(component .. ":" .. message) then return true end
  self.suppressed = self.suppressed + 1
  return false
end

-- An alert event from the bus: ours (already de-duplicated) or another part's.
function Monitor:_on_alert(ev)
  local level = M.LEVELS[ev.status] and ev.status or (M.LEVELS[ev.level] and ev.level) or "WARNING"
  local component = tostring(ev.component or ev.source or "session")
  local message = tostring(ev.reason or ev.message or "alert")
  if ev ~= self._own and not self:_fresh(component, message) then return end
  self.alerts = self.alerts + 1
  local a = { ts = num(ev.ts) or self:_now(), level = level, component = component, message = message,
    value = num(ev.value), detail = ev.detail ~= nil and tostring(ev.detail) or nil,
    cycle = self.sess.state and self.sess.state.bar }
  if #self.alert_list < 1000 then self.alert_list[#self.alert_list + 1] = a end
  self.pending_rows[#self.pending_rows + 1] = a
  if self.display == "lines" then
    self.out:write(("alert %s %s: %s%s\n"):format(level, component, message,
      a.detail and (" (" .. a.detail .. ")") or a.value and (" (" .. tostring(a.value) .. ")") or ""))
  end
  a.webhook = self.cfg.webhook and not (ev == self._own and self._no_webhook) or nil
end

-- Alerts go to the database and the webhook between cycles (after the journal's commit), so
-- the webhook's copy carries the row's id.
function Monitor:_store_alerts()
  if #self.pending_rows == 0 then return end
  local rows = self.pending_rows
  self.pending_rows = {}
  local wf = self.sess.wf
  local to_db = self.opts.alerts_db ~= false and wf and wf.db
    and (self.sess.session_id or self.opts.alerts_db == true)
  if to_db and not self.adb and not self.adb_failed then
    local A, err = require("gt.alerts").open(wf.db)
    if not A then self.adb_failed = err else self.adb = A end
  end
  for _, a in ipairs(rows) do
    if to_db and self.adb then
      local ok, id = pcall(self.adb.add, self.adb, { session = self.sess.session_id, ts = math.floor(a.ts),
        level = a.level, component = a.component, message = a.message,
        detail = (a.detail or a.value) and { detail = a.detail, value = a.value, cycle = a.cycle } or nil })
      if ok then a.id = id end
    end
    if a.webhook then self:_webhook(a) end
  end
end

---------------------------------------------------------------------------------------
-- health (between cycles)
---------------------------------------------------------------------------------------

function Monitor:_health()
  local sess, cfg = self.sess, self.cfg
  local hs = sess.health_stats or {}
  local cyc = hs.cycle
  if cyc and cyc.last and cfg.cycle_ms > 0 and cyc.last > cfg.cycle_ms * 1000 then
    self:raise("WARNING", "health", ("cycle time above %g ms"):format(cfg.cycle_ms),
      { value = math.floor(cyc.last / 1000 + 0.5) })
  end
  -- error rate over the last error_window cycles
  local w = cfg.error_window
  self.ring_i = self.ring_i % w + 1
  local old = self.err_ring[self.ring_i] or 0
  self.err_ring[self.ring_i] = self.err_cycle
  self.err_sum = self.err_sum - old + self.err_cycle
  self.err_cycle = 0
  if self.ring_n < w then self.ring_n = self.ring_n + 1 end
  local rate = self.err_sum / self.ring_n
  self.error_rate_now = rate
  if self.ring_n >= math.min(10, w) and rate > cfg.error_rate then
    self:raise("ERROR", "health", ("error rate above %g"):format(cfg.error_rate), { value = rate })
  end
  -- staleness: wall time since the previous bar of a paced replay
  local now = self.mono:now()
  if self.last_bar_wall then
    self.bar_gap_us = now - self.last_bar_wall
    local limit = self:_stale_limit()
    if limit and self.bar_gap_us > limit then
      self:raise("WARNING", "data", "data stale", { value = self.bar_gap_us / 1e6 })
    end
  end
  self.last_bar_wall = now
end

-- Microseconds between bars beyond which the data is stale, or nil (not paced).
function Monitor:_stale_limit()
  local cfg, wf = self.cfg, self.sess.wf or {}
  if cfg.stale_after then return cfg.stale_after * 1e6 end
  local speed = wf.feed and wf.feed.speed or 0
  if speed <= 0 or wf.mode == "backtest" then return nil end
  local s = self.sess.series and self.sess.series[1]
  if not s or s.n < 2 then return nil end
  local dt = tonumber(s.ts[1] - s.ts[0])
  return math.max(5e6, 3 * dt / speed)
end

---------------------------------------------------------------------------------------
-- the JSON-lines log
---------------------------------------------------------------------------------------

function Monitor:_open_log()
  local path = self.cfg.log
  local f, err = io.open(path, "a")
  if not f then return nil, err end
  f:setvbuf("no") -- one write() per flush: whole lines, never half of one
  self.log_f = f
  self.log_bytes = f:seek("end") or 0
  return true
end

local function corr_key(self, ev)
  local sess = self.sess
  local sid = sess.session_id or (sess.wf and sess.wf.name) or "session"
  local cycle = math.max(0, sess.state and sess.state.bar or 0)
  if ev.symbol then return ("%s-%d-%s"):format(tostring(sid), cycle, ev.symbol) end
  return ("%s-%d"):format(tostring(sid), cycle)
end

-- The correlation id: one per cycle and symbol, kept by an order (and its exits) so its
-- acknowledgements and fills in later cycles carry the id of the signal that made it.
function Monitor:_correlation(ev)
  local t, id = ev.type, num(ev.order_id)
  if id then
    local c = self.corr[id]
    if not c and ev.parent then c = self.corr[num(ev.parent)] end
    if not c then
      c = corr_key(self, ev)
      self.corr[id] = c
      local fifo = self.corr_fifo
      fifo[#fifo + 1] = id
      if #fifo - self.corr_head >= 4096 then -- forget the oldest orders
        self.corr[fifo[self.corr_head]] = nil
        fifo[self.corr_head] = nil
        self.corr_head = self.corr_head + 1
      end
    end
    return c
  end
  if t == "sizing" or t == "risk_decision" then return corr_key(self, ev) end
  return corr_key(self, ev)
end

local SKIP = { type = true, ts = true }

function Monitor:_log_event(ev)
  local rec = { timestamp = gtime.format(math.floor(num(ev.ts) or self:_now()), false), level = level_of(ev),
    service = M.SERVICE, event_type = ev.type, correlation_id = self:_correlation(ev), message = describe(ev),
    session = self.sess.session_id, cycle = self.sess.state and self.sess.state.bar }
  for k, v in pairs(ev) do
    if not SKIP[k] and rec[k] == nil then
      local tv = type(v)
      if tv == "cdata" then v = tonumber(v) end
      if tv ~= "function" and tv ~= "userdata" then rec[k] = v end
    end
  end
  if ev.type == "alert" then rec.level = rec.status or rec.level end
  self:_log_line(rec)
end

function Monitor:_log_line(rec)
  local ok, line = pcall(json.encode, rec)
  if not ok then line = json.encode { timestamp = rec.timestamp, level = "ERROR", service = M.SERVICE,
    event_type = "monitor", message = "event not encodable: " .. tostring(line) } end
  self.log_n = self.log_n + 1
  self.log_buf[self.log_n] = line
  if self.log_n >= 512 then self:_flush_log() end
end

function Monitor:_rotate()
  local path, keep = self.cfg.log, self.cfg.log_keep
  if self.log_f then self.log_f:close(); self.log_f = nil end
  if keep >= 1 then
    os.remove(path .. "." .. keep)
    for k = keep - 1, 1, -1 do os.rename(path .. "." .. k, path .. "." .. (k + 1)) end
    os.rename(path, path .. ".1")
  else
    os.remove(path)
  end
  self.rotations = (self.rotations or 0) + 1
  return self:_open_log()
end

-- Writes the buffered lines: each flush is one write of whole lines; rotation happens before
-- a write that would pass log_max_bytes (a single line longer than that gets a file alone).
function Monitor:_flush_log()
  if self.log_n == 0 then return end
  local buf, n = self.log_buf, self.log_n
  self.log_buf, self.log_n = {}, 0
  local ok, err = pcall(function()
    if not self.log_f then
      local okf, oerr = self:_open_log()
      if not okf then error(oerr, 0) end
    end
    local max = self.cfg.log_max_bytes
    local chunk, size = {}, 0
    local function write()
      if #chunk == 0 then return end
      local s = table.concat(chunk, "\n") .. "\n"
      local w, werr = self.log_f:write(s)
      if not w then error(werr or "write failed", 0) end
      self.log_bytes = self.log_bytes + #s
      self.lines = self.lines + #chunk
      chunk, size = {}, 0
    end
    for i = 1, n do
      local l = buf[i]
      if self.log_bytes + size + #l + 1 > max and (self.log_bytes + size) > 0 then
        write()
        if self.log_bytes > 0 then
          local okr, rerr = self:_rotate()
          if not okr then error(rerr, 0) end
        end
      end
      chunk[#chunk + 1] = l
      size = size + #l + 1
    end
    write()
  end)
  if not ok then
    self.log_errors = self.log_errors + n
    if self.log_f then pcall(self.log_f.close, self.log_f); self.log_f = nil end
    if not self.log_alerted then
      self.log_alerted = true
      self:raise("ERROR", "monitor", "log file not writable", { detail = tostring(err) })
    end
  end
end

---------------------------------------------------------------------------------------
-- the webhook (a child process tails a spool file)
---------------------------------------------------------------------------------------

function Monitor:_webhook(a)
  if not self.spool then
    local path = os.tmpname() -- mkstemp: mode 0600, the URL may carry a token
    local f = io.open(path, "w")
    if not f then self.webhook_failed = self.webhook_failed + 1; return end
    f:setvbuf("no")
    f:write(json.encode { url = self.cfg.webhook, pid = self_pid() }, "\n")
    self.spool, self.spool_f, self.spool_out_pos = path, f, 0
    local exe = require("gt.host").exe
    os.execute(("%s alerts --deliver %s </dev/null >/dev/null 2>>%s &"):format(shell_quote(exe),
      shell_quote(path), shell_quote(path .. ".err")))
  end
  local body = { id = a.id, session = self.sess.session_id, workflow = self.sess.wf and self.sess.wf.name,
    timestamp = gtime.format(math.floor(a.ts), false), level = a.level, component = a.component,
    message = a.message, value = a.value, detail = a.detail, service = M.SERVICE }
  local ok = self.spool_f:write(json.encode(body), "\n")
  if ok then self.webhook_sent = self.webhook_sent + 1 else self.webhook_failed = self.webhook_failed + 1 end
end

-- Outcomes the child wrote since the last look: "OK n attempts" / "FAIL n attempts why".
function Monitor:_webhook_results()
  if not self.spool then return end
  local f = io.open(self.spool .. ".out", "r")
  if not f then return end
  f:seek("set", self.spool_out_pos)
  local text = f:read("*a") or ""
  f:close()
  local last = 0
  for line, e in text:gmatch("([^\n]*)\n()") do
    last = e - 1
    local st, rest = line:match("^(%u+) (.*)$")
    if st == "OK" then
      self.webhook_ok = self.webhook_ok + 1
    elseif st == "FAIL" then
      self.webhook_failed = self.webhook_failed + 1
      local why = rest:match("^%d+ %d+ (.*)$") or rest
      self:raise("ERROR", "webhook", "webhook delivery failed", { detail = why, no_webhook = true })
    end
  end
  self.spool_out_pos = self.spool_out_pos + last
end

-- The child: `gtengine alerts --deliver SPOOL`. Reads the spool as it grows and POSTs each
-- alert (3 tries: now, after 0.5 s, after 1 s; 2xx is delivered, 4xx other than 408 and 429 is
-- not retried), until the END line or until the session's process is gone. Removes the spool.
function M.deliver(spool, o)
  o = o or {}
  local http = require "gt.http"
  local mono = require("gt.clock").monotonic()
  local f = io.open(spool, "r")
  if not f then return nil, "no spool " .. tostring(spool) end
  local out = io.open(spool .. ".out", "a")
  if out then out:setvbuf("line") end
  local head
  local pos, buf = 0, ""
  local tries = o.tries or 3
  local backoff = o.backoff_ms or 500
  local client = assert(http.new())
  local idle_since = mono:now()
  local n = 0
  local function alive(pid)
    if not pid then return mono:now() - idle_since < 24 * 3600e6 end
    local p = io.open("/proc/" .. pid .. "/stat", "r")
    if p then p:close(); return true end
    return false
  end
  local function post(line)
    n = n + 1
    local last_err
    for attempt = 1, tries do
      local okr, resp, err, fresp, cname = pcall(client.request, client, "POST", head.url, { body = line, once = true,
        timeout = o.timeout or 15, connect_timeout = 5, rate_per_min = 0,
        headers = { ["Content-Type"] = "application/json", ["User-Agent"] = "gtengine-monitor" } })
      if okr and resp then
        if out then out:write(("OK %d %d\n"):format(n, attempt)) end
        return true
      end
      if not okr then -- a URL the HTTP layer refuses (plain http to a remote host): no retry
        last_err = http.scrub(tostring(resp), true)
        break
      end
      last_err = http.scrub(tostring(err), true)
      local code = fresp and fresp.status or 0
      if cname == "GT_EINVAL" then break end -- a URL the HTTP layer refuses
      if code >= 400 and code < 500 and code ~= 408 and code ~= 429 then break end
      if attempt < tries then
        mono:sleep_until(mono:now() + backoff * 2 ^ (attempt - 1) * 1000)
      end
    end
    if out then out:write(("FAIL %d %d %s\n"):format(n, tries, last_err or "?")) end
    return false
  end
  local done = false
  while not done do
    f:seek("set", pos)
    local chunk = f:read("*a") or ""
    if #chunk > 0 then
      pos = pos + #chunk
      buf = buf .. chunk
      idle_since = mono:now()
      while true do
        local line, rest = buf:match("^([^\n]*)\n(.*)$")
        if not line then break end
        buf = rest
        if not head then
          head = json.decode(line)
          if type(head) ~= "table" or type(head.url) ~= "string" then done = true; break end
        elseif line == "END" then
          done = true
          break
        elseif line ~= "" then
          post(line)
        end
      end
    else
      if not alive(head and head.pid) then break end
      mono:sleep_until(mono:now() + 100000)
    end
  end
  f:close()
  if out then out:close() end
  client:close()
  if not o.keep then
    os.remove(spool)
    os.remove(spool .. ".out")
    os.remove(spool .. ".err")
  end
  return n
end

---------------------------------------------------------------------------------------
-- the view and the progress lines
---------------------------------------------------------------------------------------

local function pct(v) return v and v == v and (("%+.2f%%"):format(v)) or "-" end

-- The status screen as text (lines), from the session's state and the monitor's figures.
function Monitor:view_text()
  local sess = self.sess
  local st, wf = sess.state, sess.wf
  local cap = wf.capital
  local eq = st.equity or cap
  local lines = {}
  local function add(s) lines[#lines + 1] = s end
  add(("gtengine  %s (%s)%s  %s"):format(wf.name, wf.mode, sess.session_id and ("  session " .. sess.session_id) or "",
    wf.db and sess.journal and ("db " .. wf.db) or ""))
  local hs = sess.health_stats or {}
  local cyc = hs.cycle
  add(("time    %s   bar %d/%d (%d%%)   cycle %s ms (max %s)%s"):format(st.ts and gtime.format(st.ts, false) or "-",
    st.bar + 1, sess.n, math.floor(100 * (st.bar + 1) / sess.n),
    cyc and ("%.2f"):format((cyc.last or 0) / 1000) or "-", cyc and ("%.2f"):format(cyc.max / 1000) or "-",
    self.bar_gap_us and ("   bar gap %.1f s"):format(self.bar_gap_us / 1e6) or ""))
  local today = self.day_equity and (eq - self.day_equity) or 0
  local dd = self.peak and (eq / self.peak - 1) * 100 or 0
  add(("equity  %s   PnL today %s (%s)   total %s (%s)   drawdown %s"):format(money(eq),
    (today >= 0 and "+" or "") .. money(today), pct(self.day_equity and (today / self.day_equity * 100) or 0),
    (eq - cap >= 0 and "+" or "") .. money(eq - cap), pct((eq / cap - 1) * 100), ("%.2f%%"):format(dd)))
  local nopen = 0
  for _ in pairs(sess.open or {}) do nopen = nopen + 1 end
  local c = sess.counts or {}
  add(("breaker %s   tier %s   orders %d (open %d, refused %d)   fills %d   alerts %d   errors %d"):format(
    st.breaker or (sess.gate and "ACTIVE" or "off"), tostring(st.tier or sess.tier or "-"), c.orders or 0, nopen,
    c.refused or 0, c.fills or 0, self.alerts, self.counts.error or 0))
  add("")
  add(("%-10s %12s %12s %12s  %-16s %s"):format("symbol", "position", "avg", "last", "regime", "strategy"))
  for j = 1, sess.k do
    local p = st.positions[j]
    add(("%-10s %12s %12s %12s  %-16s %s"):format(st.symbols[j], fmt.num(p.qty, 0), p.qty ~= 0 and money(p.avg) or "-",
      money(st.close[j]), tostring(st.regime[j] or "-"), tostring(st.selected[j] or "-")))
  end
  add("")
  add("last events")
  local n = self.nrecent
  for k = math.max(1, n - M.EVENTS_SHOWN + 1), n do
    local ev = self.recent[(k - 1) % M.EVENTS_SHOWN + 1]
    add(("  %s  %s"):format(ev.ts and gtime.format(math.floor(num(ev.ts)), false):gsub("T00:00:00Z", ""):gsub("Z$", "") or "-",
      describe(ev)))
  end
  return lines
end

function Monitor:_draw()
  local lines = self:view_text()
  local buf = { "\027[H" }
  for _, l in ipairs(lines) do buf[#buf + 1] = l .. "\027[K\n" end
  buf[#buf + 1] = "\027[J"
  self.out:write(table.concat(buf))
  self.out:flush()
  self.draws = (self.draws or 0) + 1
end

-- The plain progress line (not a terminal).
function Monitor:progress_line()
  local sess = self.sess
  local st = sess.state
  local eq = st.equity or sess.wf.capital
  return ("cycle %d/%d  %s  equity %s (%+.2f%%)  orders %d  refused %d  fills %d%s%s"):format(
    st.bar + 1, sess.n, (gtime.format(st.ts, false):gsub("T00:00:00Z", "")), fmt.num(eq, 2),
    (eq / sess.wf.capital - 1) * 100, sess.counts.orders, sess.counts.refused, sess.counts.fills,
    st.breaker and st.breaker ~= "ACTIVE" and ("  breaker " .. st.breaker) or "",
    self.alerts > 0 and ("  alerts " .. self.alerts) or "")
end

---------------------------------------------------------------------------------------
-- the hooks
---------------------------------------------------------------------------------------

function Monitor:cycle_end()
  local t0 = self.mono:now()
  local sess = self.sess
  self:_health()
  local now = self.mono:now()
  if self.spool and (not self.last_results or now - self.last_results >= 1e6) then
    self.last_results = now
    self:_webhook_results()
  end
  self:_store_alerts()
  self:_flush_log()
  local last = sess.state.bar >= sess.n - 1
  if self.display == "view" then
    if last or not self.last_draw or now - self.last_draw >= M.REDRAW_US then
      self.last_draw = now
      self:_draw()
    end
  elseif self.display == "lines" then
    local every = math.max(1, math.floor(sess.n / 10))
    if sess.state.bar % every == 0 or last then self.out:write(self:progress_line(), "\n") end
  end
  self.cycles = (self.cycles or 0) + 1
  self.self_us = self.self_us + (self.mono:now() - t0)
end

function Monitor:session_end()
  local sess = self.sess
  if self.display == "view" and sess.state.bar >= 0 then self:_draw() end
  self:_log_health()
  self:_webhook_results()
  self:_flush_log()
  self:_store_alerts()
end

-- A health line in the log: per-step latency (µs) and the monitor's own figures.
function Monitor:_log_health()
  if not self.cfg.log then return end
  local steps = {}
  for name, x in pairs(self.sess.health_stats or {}) do
    steps[name] = { n = x.n, mean_us = x.n > 0 and x.sum / x.n or 0, max_us = x.max, last_us = x.last }
  end
  self:_log_line { timestamp = gtime.format(math.floor(self:_now()), false), level = "INFO", service = M.SERVICE,
    event_type = "health", correlation_id = corr_key(self, {}), message = "session health",
    session = self.sess.session_id, steps = steps, error_rate = self.error_rate_now, alerts = self.alerts,
    alerts_suppressed = self.suppressed, log_errors = self.log_errors,
    monitor_us_per_cycle = self.cycles and self.cycles > 0 and self.self_us / self.cycles or nil }
end

-- The monitor's figures for a summary.
function Monitor:stats()
  return { alerts = self.alerts, suppressed = self.suppressed, log = self.cfg.log, log_lines = self.lines,
    log_errors = self.log_errors, rotations = self.rotations or 0, webhook_queued = self.webhook_sent,
    webhook_delivered = self.webhook_ok, webhook_failed = self.webhook_failed, draws = self.draws or 0,
    monitor_us_per_cycle = self.cycles and self.cycles > 0 and self.self_us / self.cycles or 0 }
end

-- After session:run(): ends the webhook child's spool, writes a paper session's report from
-- its journal (resumed sessions included), closes the files; adds the figures to summary.
function Monitor:finish(summary)
  self:_flush_log()
  self:_store_alerts()
  if self.spool_f then
    self.spool_f:write("END\n")
    self.spool_f:close()
    self.spool_f = nil
  end
  if summary and self.report_path and self.sess.session_id then
    local ok, err = M.report(self.sess.wf.db, self.sess.session_id, self.report_path, { wf = self.sess.wf })
    if ok then summary.report, summary.report_error = self.report_path, nil else summary.report_error = err end
  end
  if self.log_f then self.log_f:close(); self.log_f = nil end
  if self.adb then self.adb:close(); self.adb = nil end
  if summary then summary.monitor = self:stats() end
  return summary
end

---------------------------------------------------------------------------------------
-- the report of a journalled session
---------------------------------------------------------------------------------------

-- The statistics a session's equity curve gives (trade statistics need round trips).
local SESSION_STATS = { return_pct = true, cagr_pct = true, ann_return_pct = true, ann_vol_pct = true, sharpe = true,
  sortino = true, calmar = true, max_drawdown_pct = true, max_drawdown_bars = true, avg_drawdown_pct = true,
  start_equity = true, final_equity = true, years = true }

M.TIMELINE_TYPES = { "order", "fill", "risk_decision", "breaker", "regime", "alert", "reload", "tier_change" }

-- report(db, session, path[, {wf =}]) -> true, or nil and why: the backtest report's charts
-- (equity, drawdown, the first symbol's close) from the journal's equity and bar events, and
-- the event timeline (orders, fills, refusals, breaker and regime changes, reloads, alerts).
function M.report(db, sid, path, o)
  o = o or {}
  local J, err = require("gt.journal").open(db, { readonly = true })
  if not J then return nil, err end
  local ok, res = pcall(function()
    local eqrows = assert(J:query { session = sid, type = "equity" })
    if #eqrows < 2 then error(("session %d has %d equity events in the journal; a report needs 2"):format(sid, #eqrows), 0) end
    local bars = assert(J:query { session = sid, type = "bar" })
    local sym
    local close_at = {}
    for _, r in ipairs(bars) do
      sym = sym or r.symbol
      if r.symbol == sym then close_at[r.ts] = r.price end
    end
    local n = #eqrows
    local ts, eq, close = {}, {}, {}
    local last_close
    for i, r in ipairs(eqrows) do
      ts[i], eq[i] = r.ts, r.value
      last_close = close_at[r.ts] or last_close or r.value
      close[i] = last_close
    end
    local events = assert(J:query { session = sid, type = M.TIMELINE_TYPES })
    local timeline = {}
    for _, r in ipairs(events) do
      if not (r.type == "risk_decision" and r.status ~= "refused") then
        local kind = r.type == "risk_decision" and "refusal" or r.type
        timeline[#timeline + 1] = { ts = r.ts, kind = kind, symbol = r.symbol, text = describe(r), level = r.status }
      end
    end
    local srow
    for _, s in ipairs(J:sessions() or {}) do if s.id == sid then srow = s end end
    local wf = o.wf or {}
    local ppy = 252
    local tf = require "gt.timeframe"
    if wf.timeframe and tf.periods_per_year then
      local okp, p = pcall(tf.periods_per_year, wf.timeframe)
      if okp and p then ppy = p end
    end
    local stats = require("gt.metrics").compute { equity = eq, ts = ts, n = n, periods_per_year = ppy } or {}
    stats.start_equity, stats.final_equity = eq[1], eq[n]
    local counts = { orders = 0, fills = 0, refusals = 0, alerts = 0 }
    for _, e in ipairs(timeline) do
      local k = e.kind == "order" and "orders" or e.kind == "fill" and "fills" or e.kind == "refusal" and "refusals"
        or e.kind == "alert" and "alerts"
      if k then counts[k] = counts[k] + 1 end
    end
    stats.order_events, stats.fills, stats.refusals, stats.alerts = counts.orders, counts.fills, counts.refusals,
      counts.alerts
    local fields = {}
    for _, f in ipairs(require("gt.report").STATS_FIELDS) do
      if SESSION_STATS[f.key] then fields[#fields + 1] = f end
    end
    fields[#fields + 1] = { key = "order_events", title = "Order events" }
    fields[#fields + 1] = { key = "fills", title = "Fills" }
    fields[#fields + 1] = { key = "refusals", title = "Refused by the risk gate" }
    fields[#fields + 1] = { key = "alerts", title = "Alerts" }
    local result = { n = n, ts = ts, close = close, equity = eq, stats = stats, trades = false, stats_fields = fields,
      strategy = ("%s session %d"):format(srow and srow.name or wf.name or "paper", sid),
      symbol = sym or "equity", timeframe = wf.timeframe or "?", timeline = timeline,
      kind = "session" }
    return result
  end)
  J:close()
  if not ok then return nil, "report: " .. tostring(res) end
  return require("gt.report").write(res, path)
end

return M
