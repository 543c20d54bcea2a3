-- gt.attach: a REPL attached to a running session, through the session's control socket
-- (engine/control.c: a Unix domain socket, 0600 in a private 0700 directory, peer uid
-- checked, one client at a time, never TCP).
--
-- The session side:
--   local srv = assert(gt.attach.serve(session))   -- gtengine run does this for paper sessions
-- listens at gt.attach.socket_path(wf.db) and answers between cycles: at each cycle_end with a
-- poll that does not wait (the trading cycle never waits on a client), and for as long as a
-- paced session waits for its next bar. Each request is a Lua chunk evaluated in a sandbox
-- (see M.HELP) with the REPL's printer; it runs with the JIT off for its own functions and an
-- instruction-count hook that stops it past M.LIMIT seconds of CPU or M.MEMORY_MB of new
-- memory, so an error or an endless loop is reported back and the session goes on. Every
-- command is published as a `command` event (text, client uid, ok/error/interrupted), so
-- the journal keeps it with the next committed cycle; so are attach and detach.
--
-- The client side: gt.attach.connect{db = or socket =} -> client, hello; client:call(kind,
-- body) -> reply kind, body. `gtengine attach` (gt.cmd.attach) runs the REPL over it and
-- `gtengine halt`/`resume` use M.tell.
--
-- The sandbox keeps mistakes away from the session (read-only session data, no os, io,
-- debug, ffi, bytecode); it is not a wall against the session's own user, who may
-- attach only because the socket admits nobody else.
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C
local fmt = require "gt.fmt"
local json = require "gt.json"

local M = {}

M.LIMIT = 0.2          -- seconds of CPU one command may use
M.MEMORY_MB = 256      -- memory one command may add before it is stopped
M.OUTPUT = 256 * 1024  -- bytes of print output and results kept per command
M.EVENTS = 200         -- the ring of the session's last bus events events() reads
local HOOK_EVERY = 1000 -- instructions between two looks at the clock

local FRAME, ATTACHED, DETACHED, NONE = C.GT_CONTROL_FRAME, C.GT_CONTROL_ATTACHED, C.GT_CONTROL_DETACHED,
  C.GT_CONTROL_NONE

-- The socket path of the session on database `db` (engine/control.c's convention).
function M.socket_path(db)
  local buf = ffi.new("char[?]", C.GT_CONTROL_PATH_MAX)
  local n = C.gt_control_socket_path(db, buf, C.GT_CONTROL_PATH_MAX)
  if n < 0 then return nil, gtffi.errmsg(n) end
  return ffi.string(buf, n)
end

local id_buf, len_buf = ffi.new("int64_t[1]"), ffi.new("int64_t[1]")
local function frame(h)
  local p = C.gt_control_frame(h, id_buf, len_buf)
  if p == nil then return nil end
  return ffi.string(C.gt_control_frame_kind(h)), tonumber(id_buf[0]), ffi.string(p, len_buf[0])
end

local function send(h, kind, id, body)
  body = body or ""
  if #body > C.GT_CONTROL_MAX_REPLY then
    body = body:sub(1, C.GT_CONTROL_MAX_REPLY - 40) .. "\n... (cut at the reply limit)\n"
  end
  return C.gt_control_send(h, kind, id, body, #body)
end

---------------------------------------------------------------------------------------
-- The sandbox
---------------------------------------------------------------------------------------

-- Read-only views of the session's tables: reads go through (wrapped again), writes raise.
local TARGET = setmetatable({}, { __mode = "k" }) -- view -> table
local VIEW = setmetatable({}, { __mode = "kv" })  -- table -> view
local repl -- gt.repl, for its printer (loaded on first use)

local function ro(v)
  if type(v) ~= "table" or TARGET[v] then return v end
  local p = VIEW[v]
  if p then return p end
  p = setmetatable({}, {
    __index = function(_, k) return ro(v[k]) end,
    __newindex = function(_, k)
      error(("read-only: attach cannot change the session's data (assigning %s); use halt(), resume() "
        .. "or set_param()"):format(tostring(k)), 2)
    end,
    __tostring = function() return repl.show(v) end,
    __metatable = "read-only",
  })
  TARGET[p], VIEW[v] = v, p
  return p
end
local function unwrap(v) return TARGET[v] or v end
M.unwrap = unwrap

local function show_all(res, first, n)
  local out = {}
  for i = first, n do out[#out + 1] = repl.show(unwrap(res[i])) end
  return table.concat(out, "\t")
end

-- A list that prints as a table.
local function printable(rows, cols, empty)
  return setmetatable(rows, { __tostring = function(t)
    if #t == 0 then return empty end
    return (fmt.table(t, cols):gsub("\n$", ""))
  end })
end

local function num(d) return function(v) return type(v) == "number" and v == v and fmt.num(v, d) or "" end end

-- What one command may do and see. `cl` is the attached client's record.
local function new_env(srv, cl)
  local sess = srv.sess
  local env = {}
  for _, k in ipairs { "assert", "error", "select", "tonumber", "tostring", "type", "rawequal", "rawget",
    "getmetatable", "setmetatable", "unpack" } do
    env[k] = _G[k]
  end
  for _, lib in ipairs { "string", "table", "math", "bit" } do
    local copy = {}
    for k, v in pairs(_G[lib]) do copy[k] = v end
    env[lib] = copy
  end
  local G = require "gt"
  local BLOCKED = { ffi = true, host = true, cli = true }
  env.gt = setmetatable({}, {
    __index = function(_, k)
      if BLOCKED[k] then error(("gt.%s is not available in attach"):format(tostring(k)), 2) end
      return G[k]
    end,
    __newindex = function(_, k) error(("read-only: gt.%s cannot be set from attach"):format(tostring(k)), 2) end,
    __metatable = "read-only",
  })
  env.session = ro(sess)
  -- iteration that sees through the read-only views
  env.next = function(t, k)
    local real = TARGET[t]
    if not real then return next(t, k) end
    local k2, v2 = next(real, k)
    return k2, ro(v2)
  end
  env.pairs = function(t)
    if TARGET[t] then return env.next, t, nil end
    return pairs(t)
  end
  env.ipairs = function(t)
    local real = TARGET[t]
    if not real then return ipairs(t) end
    return function(_, i)
      local v = real[i + 1]
      if v ~= nil then return i + 1, ro(v) end
    end, t, 0
  end
  env.len = function(t) return #(TARGET[t] or t) end
  env.unpack = function(t, i, j) return unpack(TARGET[t] or t, i, j) end
  -- errors caught inside the command must not outlive its limit
  local function guarded(ok, ...)
    if cl.over then error(cl.over, 0) end
    return ok, ...
  end
  env.pcall = function(f, ...) return guarded(pcall(f, ...)) end
  env.xpcall = function(f, h) return guarded(xpcall(f, h)) end
  env.print = function(...)
    local parts = {}
    for i = 1, select("#", ...) do
      local v = select(i, ...)
      parts[i] = TARGET[v] and repl.show(TARGET[v]) or tostring(v)
    end
    cl.print(table.concat(parts, "\t") .. "\n")
  end
  env.load = function(src, name)
    if type(src) ~= "string" then error("load: attach loads Lua source text only", 2) end
    local f, err = load(src, name or "=load", "t", env)
    if f then jit.off(f, true) end
    return f, err
  end
  env.loadstring = env.load

  -- helpers
  env.positions = function()
    local st, rows = sess.state, {}
    for j = 1, sess.k do
      local p = st.positions[j]
      if p.qty ~= 0 then
        local close = st.close[j]
        rows[#rows + 1] = { symbol = st.symbols[j], qty = p.qty, avg = p.avg, price = close,
          value = p.qty * close, pnl = p.qty * (close - p.avg) }
      end
    end
    return printable(rows, { { key = "symbol" }, { key = "qty", align = "right", fmt = num(0) },
      { key = "avg", align = "right", fmt = num(2) }, { key = "price", title = "last", align = "right", fmt = num(2) },
      { key = "value", align = "right", fmt = num(2) }, { key = "pnl", title = "unrealised", align = "right", fmt = num(2) } },
      "no open positions")
  end
  env.events = function(n, kind)
    n = n or 10
    if type(n) ~= "number" or n < 1 then error("events(n[, type]): n is a count >= 1", 2) end
    local rows, ring, size = {}, srv.ring, srv.ring_size
    for i = srv.ring_n, math.max(1, srv.ring_n - size + 1), -1 do
      local ev = ring[(i - 1) % size + 1]
      if ev and (kind == nil or ev.type == kind) then
        table.insert(rows, 1, ev)
        if #rows >= n then break end
      end
    end
    return printable(rows, { { key = "cycle", align = "right" },
      { key = "ts", title = "time", fmt = function(v) return v and fmt.time(v) or "" end }, { key = "type" },
      { key = "symbol", fmt = function(v) return v and tostring(v) or "" end },
      { key = "status", fmt = function(v) return v and tostring(v) or "" end },
      { key = "qty", align = "right", fmt = num(0) }, { key = "price", align = "right", fmt = num(2) },
      { key = "value", align = "right", fmt = num(2) },
      { key = "reason", fmt = function(v) return v and tostring(v) or "" end } }, "no events yet")
  end
  local function gate()
    if not sess.gate then error("this session has no risk gate (risk = false): nothing to halt or resume", 3) end
    return sess.gate
  end
  env.halt = function(reason, flatten)
    reason = reason ~= nil and tostring(reason) or ("halted from attach (uid %d)"):format(cl.uid)
    gate():halt(reason) -- a live session's gate also cancels every open order at the broker
    if flatten and sess.live then sess.live:kill(reason, true) end
    env.print(("HALTED: %s; the breaker event follows at the next cycle%s"):format(reason,
      sess.live and (flatten and " (open orders cancelled, positions closed at the broker)"
        or " (open orders cancelled at the broker)") or ""))
  end
  env.resume = function()
    local was = gate():state()
    gate():resume()
    env.print(was.state == "ACTIVE" and "not halted: nothing to resume"
      or ("resumed (was %s: %s)"):format(was.state, was.halt_reason ~= "" and was.halt_reason or "breaker"))
  end
  env.params = function(name)
    name = name or sess.names[1]
    local e = sess.sym[1].strat[name]
    if not e then error(("no strategy '%s' in this session (%s)"):format(tostring(name), table.concat(sess.names, ", ")), 2) end
    local copy = {}
    for k, v in pairs(e.p) do copy[k] = v end
    return copy
  end
  env.set_param = function(name, key, value)
    local s = sess.strategies[name]
    if not s then
      error(("no strategy '%s' in this session (%s)"):format(tostring(name), table.concat(sess.names, ", ")), 2)
    end
    if type(key) ~= "string" or s.params[key] == nil then
      local keys = {}
      for k in pairs(s.params) do keys[#keys + 1] = k end
      table.sort(keys)
      error(("%s has no parameter '%s' (%s)"):format(name, tostring(key), table.concat(keys, ", ")), 2)
    end
    local ok, err = require("gt.strategy").check_params(s, { [key] = value })
    if not ok then error(("%s: %s"):format(name, err), 2) end
    -- the strategy is prepared again for every symbol (its indicators depend on its
    -- parameters); its last stance carries over, so a change alone places no order
    local wf_params = sess.wf.params
    local before, old = wf_params[name], {}
    local p = {}
    for k, v in pairs(before or {}) do p[k] = v end
    local was = sess.sym[1].strat[name].p[key]
    p[key] = value
    wf_params[name] = p
    local prepare = require("gt.orchestrator").prepare_strategy
    local fresh = {}
    local pok, perr = pcall(function()
      for j = 1, sess.k do fresh[j] = prepare(sess, name, j) end
    end)
    if not pok then
      wf_params[name] = before
      error(("%s: %s=%s: %s"):format(name, key, tostring(value), tostring(perr)), 2)
    end
    for j = 1, sess.k do
      local e = sess.sym[j]
      old[j] = e.strat[name]
      fresh[j].last = old[j].last
      e.strat[name] = fresh[j]
    end
    env.print(("%s.%s = %s (was %s) from the next cycle"):format(name, key, tostring(value), tostring(was)))
  end
  env.status = function()
    local st = sess.state
    return setmetatable({}, { __tostring = function()
      return ("%s (%s) cycle %d/%d at %s: equity %s, cash %s, breaker %s, %d orders, %d fills"):format(
        sess.wf.name, sess.wf.mode, st.bar + 1, sess.n, st.ts and fmt.time(st.ts) or "-",
        fmt.num(st.equity or sess.wf.capital, 2), fmt.num(st.cash or sess.wf.capital, 2),
        -- the gate's own state: a halt given a moment ago shows before the next cycle's event
        sess.gate and sess.gate:state().state or "off", sess.counts.orders, sess.counts.fills)
    end })
  end
  env.help = setmetatable({}, {
    __call = function(_, x) return require("gt.help").help(unwrap(x)) end,
    __tostring = function() return M.HELP end,
  })
  return env
end

M.HELP = [[
attached to a running session; each line runs inside it between two cycles.
  positions()              open positions: qty, average price, last, value, unrealised PnL
  events(n[, type])        the last n events of the session's bus (type: "fill", "order", ...)
  status()                 cycle, equity, cash, breaker, counts
  halt(reason [, flatten]) halt the risk gate now (nothing passes; the journal shows it); live:
                           open orders cancelled at the broker, flatten closes positions too
  resume()                 clear the gate's halt and breakers
  params(strategy)         a strategy's parameters as the session uses them
  set_param(strategy, key, value)   change one, checked, from the next cycle
  session                  the session, read-only: session.state, session.sym[j], session.gate ...
  gt                       the library (help(gt.ind.sma) and so on)
Iterate session tables with pairs/ipairs; len(t) is their length. A command is stopped after
0.2 s of CPU; os, io, debug and ffi are not here. quit or Ctrl-D detaches; the session goes on.]]

---------------------------------------------------------------------------------------
-- The server
---------------------------------------------------------------------------------------

local Server = {}
Server.__index = Server

local function pack(...) return { n = select("#", ...), ... } end

local function cut_traceback(msg)
  msg = tostring(msg)
  local cut = msg:find("\n%s*%[C%]: in function 'xpcall'")
  return (cut and msg:sub(1, cut - 1) or msg):gsub("\nstack traceback:$", "")
end

-- Evaluates one chunk for client cl: status ("ok", "error", "interrupted"), the text to send
-- back (printed output, then the results or the error) and, on failure, the error alone.
function Server:_eval(cl, src)
  if src:byte(1) == 27 then
    local msg = "attach: bytecode is refused; send Lua source"
    return "error", msg .. "\n", msg
  end
  local chunk = load("local pack = ...; return pack(" .. src .. "\n)", "=attach", "t", cl.env)
  local expr = chunk ~= nil
  if not chunk then
    local err
    chunk, err = load(src, "=attach", "t", cl.env)
    if not chunk then return "error", err .. "\n", err end
  end
  jit.off(chunk, true) -- the count hook below must see every loop the command has
  local out, size = {}, 0
  cl.print = function(s)
    if size >= M.OUTPUT then return end
    if size + #s > M.OUTPUT then s = s:sub(1, M.OUTPUT - size) .. "\n... (output cut at " .. M.OUTPUT .. " bytes)\n" end
    out[#out + 1] = s
    size = size + #s
  end
  if C.gt_is_interrupted() ~= 0 then error("interrupted", 0) end
  local t0, m0 = os.clock(), collectgarbage("count")
  local limit, mem = self.limit, self.memory_mb * 1024
  cl.over = nil
  debug.sethook(function()
    if not cl.over then
      if os.clock() - t0 > limit then
        cl.over = ("the command ran over its limit of %g s of CPU"):format(limit)
      elseif collectgarbage("count") - m0 > mem then
        cl.over = ("the command took over %d MB of memory"):format(self.memory_mb)
      end
    end
    if cl.over then error(cl.over, 0) end
  end, "", HOOK_EVERY)
  local res = pack(xpcall(chunk, function(e)
    if cl.over then return cl.over end
    return debug.traceback(e, 2)
  end, pack))
  debug.sethook()
  -- SIGINT or SIGTERM meanwhile is for the session, not for the command
  if C.gt_is_interrupted() ~= 0 then error("interrupted", 0) end
  local status, text
  if cl.over then
    status, text = "interrupted", "interrupted: " .. cl.over
    cl.over = nil
  elseif not res[1] then
    status, text = "error", cut_traceback(res[2])
  else
    status = "ok"
    -- an expression's values come packed; a statement's `return` gives them as they are
    local r, first, last = res, 2, res.n
    if expr then r, first, last = res[2], 1, res[2].n end
    local ok, shown = pcall(show_all, r, first, last)
    text = ok and shown or ("(cannot print the result: " .. tostring(shown) .. ")")
  end
  local printed = table.concat(out)
  if status == "ok" then return status, printed .. (text ~= "" and (text .. "\n") or "") end
  return status, printed .. text .. "\n", text
end

-- Names for completion: the sandbox's, or a field path (`session.st`, `gt.da`).
function Server._complete(_, cl, text)
  local out, seen = {}, {}
  local function add(name) if not seen[name] then seen[name] = true; out[#out + 1] = name end end
  local base, prefix = text:match("^(.*)[%.:]([%w_]*)$")
  if not base then
    for k in pairs(cl.env) do
      if type(k) == "string" and k:sub(1, #text) == text then add(k) end
    end
    for _, k in ipairs { "quit", "exit" } do if k:sub(1, #text) == text then add(k) end end
  else
    local t = cl.env
    for part in base:gmatch("[^%.:]+") do
      if type(t) ~= "table" then return out end
      local real = unwrap(t)
      if part == "gt" and t == cl.env then t = require "gt"
      else
        local v = rawget(real, part)
        if v == nil and real == require("gt") then v = real[part] end
        t = v
      end
    end
    t = unwrap(t)
    if type(t) ~= "table" then return out end
    local sep = text:sub(#base + 1, #base + 1)
    for k in pairs(t) do
      if type(k) == "string" and k:sub(1, #prefix) == prefix then add(base .. sep .. k) end
    end
    local mt = getmetatable(t)
    if type(mt) == "table" and type(mt.__index) == "table" then
      for k in pairs(mt.__index) do
        if type(k) == "string" and k:sub(1, #prefix) == prefix and not k:match("^_") then add(base .. sep .. k) end
      end
    end
    if t == require("gt") then
      for _, m in ipairs(t.modules()) do if m:sub(1, #prefix) == prefix then add(base .. sep .. m) end end
    end
  end
  table.sort(out)
  return out
end

function Server:_publish(status, fields)
  local sess = self.sess
  local ev = { type = "command", ts = sess.state.ts or tonumber(sess.series[1].ts[0]), status = status,
    source = "attach", wall_us = math.floor(os.time() * 1e6) }
  for k, v in pairs(fields) do ev[k] = v end
  sess.bus:publish(ev)
end

function Server:_attached()
  local uid = tonumber(C.gt_control_peer_uid(self.h))
  local cl = { uid = uid, n = 0 }
  cl.env = new_env(self, cl)
  self.client = cl
  self:_publish("attached", { reason = ("client uid %d"):format(uid), uid = uid })
  local sess, st = self.sess, self.sess.state
  local pid = 0
  local f = io.open("/proc/self/stat")
  if f then pid = f:read("*n") or 0; f:close() end
  local hello = { name = sess.wf.name, mode = sess.wf.mode, session = sess.session_id, db = sess.wf.db, pid = pid,
    cycle = st.bar + 1, bars = sess.n,
    banner = ("attached to %s session%s of %s (%s) in process %d at cycle %d of %d; help for help, quit or "
      .. "Ctrl-D detaches (the session goes on)"):format(sess.wf.mode, sess.session_id and (" " .. sess.session_id) or "",
      sess.wf.name, sess.wf.db, pid, st.bar + 1, sess.n) }
  send(self.h, "hello", 0, json.encode(hello))
end

function Server:_detached()
  local cl = self.client
  if cl then
    self:_publish("detached", { reason = ("client uid %d, %d commands (%s)"):format(cl.uid, cl.n,
      ffi.string(C.gt_control_detach_reason(self.h))), uid = cl.uid })
  end
  self.client = nil
end

function Server:_request()
  local kind, id, body = frame(self.h)
  local cl = self.client
  if not cl then return end
  if kind == "eval" then
    cl.n = cl.n + 1
    local status, text, msg = self:_eval(cl, body)
    self:_publish(status, { text = body, uid = cl.uid, reason = msg and msg:match("^[^\n]*") })
    send(self.h, status, id, text)
  elseif kind == "complete" then
    local ok, list = pcall(self._complete, self, cl, body)
    send(self.h, "completions", id, ok and table.concat(list, "\n") or "")
  elseif kind == "ping" then
    send(self.h, "pong", id, "")
  else
    send(self.h, "error", id, ("attach: unknown request kind '%s' (eval, complete, ping)\n"):format(kind))
  end
end

-- One poll: waits up to timeout_ms and handles what came. Returns the event.
function Server:poll(timeout_ms)
  if not self.h then return NONE end
  local ev = C.gt_control_poll(self.h, timeout_ms)
  if ev == C.GT_EINTR then error("interrupted", 0) end
  if ev < 0 then
    if not self.poll_error then
      self.poll_error = gtffi.errmsg(ev)
      self.sess.bus:publish { type = "error", ts = self.sess.state.ts or 0, reason = "attach: " .. self.poll_error,
        source = "attach" }
    end
    return NONE
  end
  if ev == ATTACHED then self:_attached()
  elseif ev == DETACHED then self:_detached()
  elseif ev == FRAME then self:_request() end
  return ev
end

-- Between cycles: what is there now, at most one command (the cycle goes on).
function Server:between_cycles()
  for _ = 1, 8 do
    local ev = self:poll(0)
    if ev == NONE or ev == FRAME then return end
  end
end

-- While a paced session waits for its next bar (monotonic microseconds on `clock`).
function Server:wait(clock, due)
  while self.h do
    local left = due - clock:now()
    if left <= 0 then return end
    self:poll(math.max(1, math.min(math.ceil(left / 1000), 1000)))
    -- SIGUSR1 while waiting for the next bar: halted now (a live session cancels at the
    -- broker now), not when the bar comes
    if C.gt_risk_kill_requested() ~= 0 then require("gt.steps").watch_kill(self.sess) end
  end
end

function Server:close(reason)
  if not self.h then return end
  if self.client and reason then send(self.h, "bye", 0, reason .. "\n") end
  C.gt_control_close(ffi.gc(self.h, nil))
  self.h = nil
end

-- serve(session[, opts]) -> server, or nil and why. opts: socket = PATH (default
-- M.socket_path(wf.db)), limit = seconds of CPU per command, memory_mb, events = ring size.
function M.serve(sess, opts)
  opts = opts or {}
  local path = opts.socket
  if not path then
    local err
    path, err = M.socket_path(sess.wf.db)
    if not path then return nil, err end
  end
  local h = C.gt_control_listen(path)
  if h == nil then return nil, gtffi.errmsg() end
  repl = repl or require "gt.repl"
  local srv = setmetatable({ h = ffi.gc(h, C.gt_control_close), sess = sess, path = path,
    limit = opts.limit or M.LIMIT, memory_mb = opts.memory_mb or M.MEMORY_MB,
    ring = {}, ring_n = 0, ring_size = opts.events or M.EVENTS }, Server)
  sess.bus:subscribe("*", function(ev)
    local n = srv.ring_n + 1
    srv.ring_n = n
    srv.ring[(n - 1) % srv.ring_size + 1] = ev
  end, "attach")
  sess:hook("cycle_end", function() srv:between_cycles() end)
  sess:hook("wait", function(_, clock, due) srv:wait(clock, due) end)
  sess:hook("session_end", function(s)
    srv:close(("the session %s at cycle %d of %d"):format(s.interrupted and "stopped" or "ended",
      s.state.bar + 1, s.n))
  end)
  sess.attach = srv
  return srv
end

---------------------------------------------------------------------------------------
-- The client
---------------------------------------------------------------------------------------

local Client = {}
Client.__index = Client

-- connect{db = PATH | socket = PATH, timeout = seconds for the greeting (10)} -> client,
-- hello (the session's greeting: name, mode, session, db, pid, cycle, bars, banner), or nil,
-- message, code ("none": no session runs there; "busy"; "refused"; "denied"; "error").
function M.connect(o)
  o = o or {}
  local db = require("gt.config").db_path(o.db)
  local path = o.socket
  if not path then
    local err
    path, err = M.socket_path(db)
    if not path then return nil, ("no running session for %s: %s"):format(db, err), "none" end
  end
  local h = C.gt_control_connect(path, 2000)
  if h == nil then
    local code, msg = C.gt_errcode(), gtffi.errmsg()
    if code == C.GT_ENOTFOUND or code == C.GT_ESTATE then
      if o.socket then return nil, ("no running session listens at %s (%s)"):format(path, msg), "none" end
      return nil, ("no running session for %s: start one with gtengine run paper --db %s"):format(db, db), "none"
    end
    return nil, msg, code == C.GT_EDENIED and "denied" or "error"
  end
  local cl = setmetatable({ h = ffi.gc(h, C.gt_control_close), id = 0, path = path }, Client)
  local deadline = (o.timeout or 10) * 1000
  local ev = C.gt_control_poll(cl.h, deadline)
  if ev == FRAME then
    local kind, _, body = frame(cl.h)
    if kind == "hello" then
      local hello = json.decode(body)
      if type(hello) == "table" then return cl, hello end
    end
    cl:close()
    return nil, (body:gsub("\n$", "")), (kind == "busy" or kind == "refused") and kind or "error"
  end
  cl:close()
  if ev == C.GT_EINTR then return nil, "interrupted", "error" end
  if ev == DETACHED then return nil, ("the session at %s closed the connection"):format(path), "error" end
  return nil, ("the session at %s did not answer within %g s (a long cycle?)"):format(path, o.timeout or 10), "error"
end

-- call(kind, body[, timeout seconds]) -> reply kind and body, or nil, message, why
-- ("closed", "timeout", "interrupted"). Without a timeout it waits until the answer (or a
-- Ctrl-C: replies to abandoned requests are skipped by id).
function Client:call(kind, body, timeout)
  if not self.h then return nil, "not connected", "closed" end
  self.id = self.id + 1
  local rc = send(self.h, kind, self.id, body)
  if rc < 0 then return nil, gtffi.errmsg(rc), "closed" end
  local ms = timeout and math.floor(timeout * 1000) or -1
  while true do
    local ev = C.gt_control_poll(self.h, ms)
    if ev == C.GT_EINTR then return nil, "interrupted", "interrupted" end
    if ev == FRAME then
      local k, id, b = frame(self.h)
      if id == self.id then return k, b end
      if k == "bye" then self.bye = b end
    elseif ev == DETACHED or ev < 0 then
      self:close()
      return nil, self.bye and self.bye:gsub("\n$", "") or "the session closed the connection", "closed"
    elseif ev == NONE and ms >= 0 then
      return nil, ("no answer within %g s"):format(timeout), "timeout"
    end
  end
end

function Client:close()
  if self.h then C.gt_control_close(ffi.gc(self.h, nil)); self.h = nil end
end

-- tell(db, chunk) -> true, the session's answer | nil, message, why ("none" when no session
-- runs on db): one command for gtengine halt/resume.
function M.tell(db, src)
  local cl, hello, why = M.connect { db = db, timeout = 5 }
  if not cl then return nil, hello, why end
  local kind, body, cwhy = cl:call("eval", src, 5)
  cl:close()
  if not kind then return nil, body, cwhy end
  if kind ~= "ok" then return nil, (body:gsub("\n$", "")), kind end
  return true, (body:gsub("\n$", "")), hello
end

return M
