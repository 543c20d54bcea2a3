-- gt.reload: hot reload of a running session's strategy files and workflow file. Quants edit
-- while it runs; a change is loaded and checked off to the side, and only a version that
-- passes every check replaces the running one, between two cycles.
--
--   local w = gt.reload.attach(session, { every = 1 })  -- before session:run()
--   w:check()                                           -- a check now (tests, the REPL)
--
-- Watching. The files of the strategies the session runs (gt.strategy.load sets their path;
-- an inline strategy has none) and the workflow file. At most every `every` seconds of the
-- engine's clock (0: every cycle) each file costs one stat(2) through the FFI (size and
-- mtime, gt.fsio.mtime); only when they moved is the file read and hashed (FNV-1a 64), and
-- only a new hash is a change. A file modified within the last RACY seconds of wall time is
-- hashed on every poll, because an edit in the same mtime tick with the same size would not
-- move the stat (git's "racy" files). A missing file (an editor replacing it) is ignored.
--
-- A strategy change is checked in order, and the first failure rejects it: the file compiles
-- (gt.paths.load_strict: syntax, undeclared globals), has the shape (gt.strategy.prepare:
-- rule or signals), its parameters take the workflow's params (gt.strategy.check_params), a
-- dry run decides over the last DRY_BARS bars of every symbol through the windows the cycle
-- uses (a read past the bar raises), and gt.backtest.check_lookahead passes on that slice.
-- A rejection publishes an `alert` (level ERROR, component "reload", the file and line) and
-- a `reload` event (status "rejected", the reason); the running version stays, and the same
-- content is not reported again (an edit that changes it is checked again).
--
-- A strategy that passes is applied at once (the hook runs between cycles): each symbol's
-- prepared entry is rebuilt (indicators recomputed over the series). A strategy's state for
-- one symbol is { last = its stance (+1/-1/0), state = the table its rule gets as fifth
-- argument }, saved with every cycle in lua_state. When the new version has
-- migrate(old_state), old_state = { last, state, params (the old ones), symbol, bar } and it
-- returns { last =, state = } (an omitted last keeps the old stance, an omitted state is {});
-- otherwise the new version re-initialises from history: its rule runs over the bars so far
-- with a fresh state, trading nothing, to rebuild last and state. At the next cycle the
-- position is brought to the new stance if it differs (a migrate that keeps `last` trades
-- nothing). A `reload` event (status "applied", the file, old and new content hashes) goes
-- to the journal.
--
-- Workflow settings, all or nothing: risk limits that each move the safer way (lower
-- max_position, max_drawdown, ...; higher min_cash_reserve; a limit switched on) get a new
-- gate built from them with the old gate's state restored; symbols removed are no longer
-- decided for, and an open position in one is closed at the next cycle through the gate
-- (nothing would manage its exits any more). Anything else (capital, mode, data, broker,
-- strategy, params, sizing, symbols added, a looser or switched-off limit) is refused with
-- an alert and a `reload` event naming the key.
--
-- Restarts: the hashes of the running versions are kept in session.ext.reload (saved with
-- each cycle). A resumed session, which loads the files on disk, compares them at its start
-- and brings the saved state to a changed file the same way (migrate or history), so a kill
-- between a reload and the next commit loses nothing. A workflow reload is not carried over
-- a restart: the edited workflow is another session (its key changes).
local bit = require "bit"
local gtffi = require "gt.ffi"
local C = gtffi.C
local fsio = require "gt.fsio"
local paths = require "gt.paths"

local M = {}

M.DRY_BARS = 300  -- recent bars of each symbol for the dry run and the look-ahead check
M.SAMPLES = 12    -- cuts of that slice the look-ahead check compares
M.RACY = 2        -- seconds: a file this fresh is hashed on every poll

local function hash(text)
  local h = 0xcbf29ce484222325ULL
  for i = 1, #text do h = bit.bxor(h, text:byte(i)) * 0x100000001b3ULL end
  return bit.tohex(h, 16)
end
M.hash = hash

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end

local function wall_us()
  return tonumber(C.gt_clock_now(M._wall.h))
end

-- "path:12: msg" -> 12 (the first line number after the file's name).
local function line_of(msg, path)
  local at = msg:find(path, 1, true)
  if at then return tonumber(msg:match("^:(%d+):", at + #path)) end
end

-- A message that names the file (and a line when we know one).
local function with_file(msg, path, line)
  msg = tostring(msg):gsub("^lua/gt/[%w_/]+%.lua:%d+: ", "")
  if msg:find(path, 1, true) then return msg end
  if line then return ("%s:%d: %s"):format(path, line, msg) end
  return ("%s: %s"):format(path, msg)
end

---------------------------------------------------------------------------------------
-- Checking a strategy off to the side
---------------------------------------------------------------------------------------

local function merged_params(c, wp)
  local p = {}
  for k, v in pairs(c.params) do p[k] = v end
  for k, v in pairs(wp or {}) do p[k] = v end
  return p
end

-- The recent bars of every symbol still decided for, up to the current bar.
local function slices(sess)
  local i = math.max(sess.state.bar, 1)
  local a = math.max(0, i + 1 - M.DRY_BARS)
  local out = {}
  for j, e in ipairs(sess.sym) do
    if not e.removed then
      local sl = sess.series[j]:slice(a, i + 1)
      sl.symbol = e.name
      out[#out + 1] = sl
    end
  end
  return out, a
end

-- The rule (or signals) over one slice, through windows like the cycle's.
local function dry_run(c, s, p)
  local ffi = require "ffi"
  local bt = require "gt.backtest"
  local n = s.n
  local ind = c.indicators and c.indicators(s, p) or {}
  local from = math.max(bt.warmup(ind, n), c.lookback or 1)
  if c.warmup then from = math.max(from, c.warmup(p)) end
  local decided = 0
  if c.rule then
    local limit = ffi.new("int64_t[1]", -1)
    local d = bt.views.data(s, n, limit)
    local iv = bt.views.make(ind, n, limit, "ind")
    local state, check = {}, require("gt.strategy").check_target
    for b = from, n - 1 do
      limit[0] = b
      local t, sl, tp = c.rule(d, iv, b, p, state)
      if t ~= nil then check(c.name, b, t, sl, tp); decided = decided + 1 end
    end
  else
    local sig = c.signals(s, p, ind)
    if type(sig) ~= "table" or not bt.is_array(sig.target) then
      error(c.name .. ": signals() must return {target = <double array>}", 0)
    end
    decided = n - from
  end
  return decided
end

-- Loads and checks text as the new version of strategy `name`; returns it or nil, reason.
function M.check_strategy(sess, name, path, text)
  local strategy = require "gt.strategy"
  local s, err = paths.load_strict(path, text)
  if s == nil then return nil, with_file(err or "the file returns nothing (return the strategy table)", path) end
  if type(s) ~= "table" then return nil, with_file("a strategy file must return a table", path) end
  s.name, s.path = name, path -- the session knows it by its name (ensembles, selection, journal)
  local ok, c = pcall(strategy.prepare, s, path)
  if not ok then return nil, with_file(c, path) end
  local rline = c.rule and debug.getinfo(c.rule, "S").linedefined or nil
  if not (c.rule or c.signals) then
    return nil, with_file("decides in on_bar with its own orders; a session runs rule or signals", path)
  end
  local wp = sess.wf.params[name] or {}
  for k in pairs(wp) do
    if c.params[k] == nil then
      return nil, with_file(("the workflow sets params.%s.%s, which this version does not have"):format(name, k), path)
    end
  end
  local okp, perr = strategy.check_params(c, merged_params(c, wp))
  if not okp then return nil, with_file("params: " .. perr, path) end
  local list, first = slices(sess)
  for _, s1 in ipairs(list) do
    local okd, derr = pcall(dry_run, c, s1, merged_params(c, wp))
    if not okd then
      return nil, with_file(("dry run on %s's bars %d..%d (numbered from 0 in what follows): %s"):format(s1.symbol,
        first, first + s1.n - 1, tostring(derr)), path, rline)
    end
  end
  local okl, rep = pcall(require("gt.backtest").check_lookahead, c, list, { params = wp, samples = M.SAMPLES })
  if not okl then return nil, with_file("look-ahead check: " .. tostring(rep), path, rline) end
  if not rep.ok then
    local f = rep.findings[1]
    return nil, with_file(("look-ahead at bar %s: %s"):format(tostring(f.bar), tostring(f.detail)), path, rline)
  end
  return c
end

---------------------------------------------------------------------------------------
-- Applying a strategy
---------------------------------------------------------------------------------------

-- Re-initialise from history: the rule over bars from..i with a fresh state, no trading.
local function replay(sess, e, st, i)
  local from = math.max(st.from, sess.wf.feed.warmup)
  local last = 0
  if st.rule then
    local lim, check = sess.limit, require("gt.strategy").check_target
    local save = lim[0]
    local ok, err = pcall(function()
      for b = from, i do
        lim[0] = b
        local t, sl, tp = st.rule(e.data, st.ind, b, st.p, st.state)
        if t ~= nil then check(st.name, b, t, sl, tp); last = t end
      end
    end)
    lim[0] = save
    if not ok then error(err, 0) end
  else
    for b = from, i do
      local t = st.targets[b]
      if t == t then last = t end
    end
  end
  st.last = last
  return i - from + 1
end

-- New entries for every symbol, their state carried (migrate) or rebuilt (history); all
-- or nothing. prepared: true when sess.strategies already holds c and old entries were
-- built from it (a resume), so only the state moves.
local function carry(sess, name, c, old_of, resumed)
  local orch = require "gt.orchestrator"
  local json = require "gt.json"
  local i = sess.state.bar
  local new, how = {}, nil
  local prev = sess.strategies[name]
  sess.strategies[name] = c
  local ok, err = pcall(function()
    for j, e in ipairs(sess.sym) do
      if not e.removed then
        local old = old_of(j)
        local ne = resumed and e.strat[name] or orch.prepare_strategy(sess, name, j)
        if c.migrate then
          local r = c.migrate { last = old.last, state = old.state, params = old.p, symbol = e.name, bar = i }
          if r ~= nil and type(r) ~= "table" then
            error(("migrate returned a %s; it returns { last =, state = } or nil"):format(type(r)), 0)
          end
          r = r or {}
          local last = r.last == nil and old.last or r.last
          if type(last) ~= "number" or last ~= last or math.abs(last) == math.huge then
            error(("migrate returned last = %s; a stance is a finite number"):format(tostring(r.last)), 0)
          end
          if r.state ~= nil and type(r.state) ~= "table" then error("migrate returned a state that is not a table", 0) end
          ne.last, ne.state = last, r.state or {}
          local okj, jerr = pcall(json.encode, ne.state)
          if not okj then error("migrate returned a state that cannot be saved: " .. tostring(jerr), 0) end
          how = "migrate(old_state)"
        else
          ne.state = {}
          local nb = replay(sess, e, ne, i)
          how = ("re-initialised from history (%d bars)"):format(math.max(nb, 0))
        end
        new[j] = ne
      end
    end
  end)
  if not ok then
    sess.strategies[name] = prev
    return nil, err
  end
  for j, ne in pairs(new) do
    local e = sess.sym[j]
    e.strat[name] = ne
    -- the next cycle brings the position to the new stance when it differs
    if e.selected == name or e.selected == "ensemble" then e.acted_selected = nil end
  end
  return how or "no symbol decided for"
end

---------------------------------------------------------------------------------------
-- Workflow settings
---------------------------------------------------------------------------------------

-- Which way is safer for each limit of gt_risk_limits (0 or absent is off). Limits not
-- listed (collar tiers, the volatility window and its annualisation, the stop-out window)
-- change what is measured, not how much is allowed: refused.
local LOWER = {}
for _, k in ipairs { "max_qty", "max_notional", "max_position", "max_gross", "max_positions", "collar_low",
  "collar_mid", "collar_high", "max_daily_loss", "max_drawdown", "vol_warn", "vol_reduce", "vol_halt",
  "max_ref_age_us", "max_per_sec", "max_per_min", "max_stopouts", "max_consec_rejects" } do LOWER[k] = true end
local HIGHER = { min_cash_reserve = true, dup_window_us = true, vol_cooldown_us = true }

local function fmtv(v)
  if type(v) == "table" then return require("gt.json").encode(v) end
  return tostring(v)
end

local function same(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

-- The gate's effective limits for wf's risk spec: the tier's daily loss and positions as
-- the session's gate has them (gt.orchestrator.new sets those from the starting tier).
local function effective(sess, spec)
  local lim = require("gt.risk").limits(spec)
  if sess.tier then
    lim.max_daily_loss, lim.max_positions = sess.gate.limits.max_daily_loss, sess.gate.limits.max_positions
  end
  return lim
end

-- Compares the new workflow with the running one: refusals (key, why), limit changes and
-- symbols removed.
function M.diff_workflow(sess, wf2)
  local wf, refused, limits, removed = sess.wf, {}, {}, {}
  local function refuse(key, why) refused[#refused + 1] = ("key '%s': %s"):format(key, why) end
  local keys = {}
  for k in pairs(wf) do keys[k] = true end
  for k in pairs(wf2) do keys[k] = true end
  local names = {}
  for k in pairs(keys) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    local a, b = wf[k], wf2[k]
    if k == "path" or k == "description" or k == "symbols" or k == "risk" or same(a, b) then -- luacheck: ignore
    elseif type(a) == "table" and type(b) == "table" then
      local sub = {}
      for k2 in pairs(a) do sub[#sub + 1] = k2 end
      for k2 in pairs(b) do if a[k2] == nil then sub[#sub + 1] = k2 end end
      table.sort(sub, function(x, y) return tostring(x) < tostring(y) end)
      for _, k2 in ipairs(sub) do
        if not same(a[k2], b[k2]) then
          refuse(k .. "." .. tostring(k2), ("%s -> %s cannot change in a running session (restart it to change it)")
            :format(fmtv(a[k2]), fmtv(b[k2])))
        end
      end
    else
      refuse(k, ("%s -> %s cannot change in a running session (restart it to change it)"):format(fmtv(a), fmtv(b)))
    end
  end
  -- symbols: removing is safe, adding needs data and a warm-up
  local active, keep = {}, {}
  for _, e in ipairs(sess.sym) do if not e.removed then active[e.name] = true end end
  for _, s in ipairs(wf2.symbols) do
    keep[s] = true
    if not active[s] then
      refuse("symbols", ("adding %s needs its data and a warm-up; restart the session to add it"):format(s))
    end
  end
  for _, e in ipairs(sess.sym) do
    if active[e.name] and not keep[e.name] then removed[#removed + 1] = e.name end
  end
  -- risk limits: each must move the safer way
  if not sess.gate then
    if wf2.risk ~= false then refuse("risk", "this session has no risk gate; one cannot be added live") end
  elseif wf2.risk == false then
    refuse("risk", "turning the risk gate off loosens every limit")
  else
    local old, new = sess.gate.limits, effective(sess, wf2.risk)
    local lk = {}
    for k in pairs(old) do lk[k] = true end
    for k in pairs(new) do lk[k] = true end
    local ln = {}
    for k in pairs(lk) do ln[#ln + 1] = k end
    table.sort(ln)
    for _, k in ipairs(ln) do
      local a, b = old[k] or 0, new[k] or 0
      if a ~= b then
        local key = "risk." .. k
        local tighter
        if LOWER[k] then tighter = (a == 0 and b > 0) or (b > 0 and b < a)
        elseif HIGHER[k] then tighter = b > a end
        if tighter then
          limits[#limits + 1] = ("%s %s -> %s"):format(key, fmtv(a), fmtv(b))
        elseif LOWER[k] or HIGHER[k] then
          refuse(key, ("%s -> %s loosens the limit%s; only tighter limits apply live"):format(fmtv(a), fmtv(b),
            b == 0 and " (0 turns it off)" or ""))
        else
          refuse(key, ("%s -> %s changes what the gate measures; restart the session to change it"):format(fmtv(a), fmtv(b)))
        end
      end
    end
    if #limits > 0 then limits.spec = new end
  end
  return refused, limits, removed
end

-- A symbol no longer decided for: every strategy's entry targets flat from now on (at any
-- bar: a table, not an array sized to the series, which a polled feed grows).
local FLAT = setmetatable({}, { __index = function() return 0 end, __newindex = function() end })
local function retire(_, e)
  local zeros = FLAT
  for name, st in pairs(e.strat) do
    e.strat[name] = { name = name, p = st.p, from = 0, last = st.last, state = st.state, targets = zeros }
  end
  e.removed = true
  e.acted_selected = nil
end

local function apply_workflow(sess, wf2, limits, removed)
  if limits.spec then
    local risk = require "gt.risk"
    local ok, g = pcall(risk.new, limits.spec)
    if not ok then return nil, ("risk: %s"):format(tostring(g)) end
    local okr, rerr = g:restore(sess.gate:snapshot())
    if not okr then return nil, ("risk: the gate's state does not carry over: %s"):format(tostring(rerr)) end
    gtffi.check(C.gt_bt_set_risk(sess.bt, g.h, sess._gate_names), 1)
    sess._old_gates = sess._old_gates or {}
    sess._old_gates[#sess._old_gates + 1] = sess.gate -- C no longer uses it; kept for whoever holds it
    sess.gate = g
    if sess.live then sess.live:hook_gate(g) end -- a live session's kill switch reaches the broker
    sess.wf.risk = wf2.risk
  end
  local rm = {}
  for _, name in ipairs(removed) do rm[name] = true end
  for _, e in ipairs(sess.sym) do if rm[e.name] then retire(sess, e) end end
  return true
end

---------------------------------------------------------------------------------------
-- The watcher
---------------------------------------------------------------------------------------

local Watcher = {}
Watcher.__index = Watcher

function Watcher:_publish(ev)
  local sess = self.sess
  ev.ts = sess.state.ts or tonumber(sess.series[1].ts[0])
  sess.bus:publish(ev)
  if ev.type == "reload" then
    sess:say("reload %s: %s: %s", ev.status, ev.file, ev.reason)
  end
end

function Watcher:_reject(f, h, reason)
  f.bad = h
  self.rejected = self.rejected + 1
  self:_publish { type = "alert", level = "ERROR", component = "reload", file = f.path, line = line_of(reason, f.path),
    message = ("reload of %s rejected, the running version stays: %s"):format(f.path, reason), reason = reason,
    strategy = f.name }
  self:_publish { type = "reload", status = "rejected", file = f.path, strategy = f.name, reason = reason,
    old_hash = f.hash, new_hash = h }
end

function Watcher:_applied(f, h, reason)
  self:_publish { type = "reload", status = "applied", file = f.path, strategy = f.name, reason = reason,
    old_hash = f.hash, new_hash = h }
  f.hash, f.bad = h, nil
  self.applied = self.applied + 1
  self:_save()
end

function Watcher:_save()
  local r = { strategies = {} }
  for _, f in ipairs(self.files) do
    if f.kind == "strategy" then r.strategies[f.name] = f.hash else r.workflow = f.hash end
  end
  self.sess.ext = self.sess.ext or {}
  self.sess.ext.reload = r
end

function Watcher:_strategy(f, text, h)
  local sess = self.sess
  local c, why = M.check_strategy(sess, f.name, f.path, text)
  if not c then return self:_reject(f, h, why) end
  local how, err = carry(sess, f.name, c, function(j) return sess.sym[j].strat[f.name] end)
  if not how then
    return self:_reject(f, h, with_file(err, f.path, c.migrate and debug.getinfo(c.migrate, "S").linedefined))
  end
  self:_applied(f, h, how)
end

function Watcher:_workflow(f, text, h)
  local sess = self.sess
  local def, err = paths.load_strict(f.path, text)
  if def == nil then return self:_reject(f, h, with_file(err or "the file returns nothing", f.path)) end
  if type(def) ~= "table" then return self:_reject(f, h, with_file("a workflow returns a table", f.path)) end
  local ok, wf2 = pcall(require("gt.workflow").from_table, def, f.path, self.overrides)
  if not ok then return self:_reject(f, h, with_file(wf2, f.path)) end
  local refused, limits, removed = M.diff_workflow(sess, wf2)
  if #refused > 0 then return self:_reject(f, h, with_file(table.concat(refused, "; "), f.path)) end
  if not limits.spec and #removed == 0 then -- nothing that trades changed (a comment, the description)
    f.hash, f.bad = h, nil
    self:_save()
    return
  end
  local okw, werr = apply_workflow(sess, wf2, limits, removed)
  if not okw then return self:_reject(f, h, with_file(werr, f.path)) end
  local parts = {}
  for _, l in ipairs(limits) do parts[#parts + 1] = l end
  if #removed > 0 then
    parts[#parts + 1] = ("symbols removed: %s (no longer decided for; an open position is closed at the next cycle)")
      :format(table.concat(removed, ", "))
  end
  self:_applied(f, h, table.concat(parts, "; "))
end

-- One poll of one file: its new content and hash when it changed.
function Watcher:_poll(f)
  local size, mt = fsio.mtime(f.path)
  if not size then return nil end
  if size == f.size and mt == f.mtime and not f.racy then return nil end
  local text = read(f.path)
  if not text then return nil end
  f.size, f.mtime = size, mt
  f.racy = mt / 1e3 > wall_us() - M.RACY * 1e6
  self.hashed = self.hashed + 1
  local h = hash(text)
  if h == f.hash then f.bad = nil; return nil end -- back to the running version
  if h == f.bad then return nil end -- reported already
  return text, h
end

-- Checks every file now; returns the number of changes handled.
function Watcher:check()
  if self.closed then return 0 end
  self.polls = self.polls + 1
  local n = 0
  for _, f in ipairs(self.files) do
    local text, h = self:_poll(f)
    if text then
      n = n + 1
      if f.kind == "strategy" then self:_strategy(f, text, h) else self:_workflow(f, text, h) end
    end
  end
  return n
end

-- At the session's start: a resumed session runs the files on disk with the state saved by
-- the version that ran before; a file that changed in between is carried over like a reload.
function Watcher:_start()
  local sess = self.sess
  if self.every > 0 then self.tick = sess.clock:every(math.floor(self.every * 1e6)) end
  local saved = sess.resumed_ext and sess.resumed_ext.reload
  if saved then
    for _, f in ipairs(self.files) do
      local was = f.kind == "strategy" and saved.strategies and saved.strategies[f.name]
      if was and was ~= f.hash then
        local now = f.hash
        f.hash = was
        local c = sess.strategies[f.name]
        local why
        local okc, cerr = M.check_strategy(sess, f.name, f.path, read(f.path) or "")
        if not okc then why = cerr end
        local how, err
        if not why then
          local saved_entries = {}
          for j, e in ipairs(sess.sym) do
            local st = e.strat[f.name]
            saved_entries[j] = { last = st.last, state = st.state, p = st.p }
          end
          how, err = carry(sess, f.name, c, function(j) return saved_entries[j] end, true)
          if not how then why = with_file(err, f.path) end
        end
        if why then
          self:_reject(f, now, why .. " (the session started with the file on disk and the saved stance)")
          f.hash = now
        else
          self:_applied(f, now, how .. ", at the restart (the file changed since the last committed cycle)")
        end
      end
    end
  end
  self:_save()
end

function Watcher:_cycle_end()
  if self.closed then return end
  if self.tick then
    if self.tick:due() == 0 then return end
  end
  self:check()
end

-- Stops watching (the hooks stay registered and return at once).
function Watcher:close() self.closed = true end

-- attach(session[, opts]) -> watcher, before session:run(). opts: every (seconds of the
-- engine's clock between checks; default the workflow's reload.every, 0 = every cycle),
-- overrides (the settings the workflow was loaded with, e.g. gtengine run's options, so a
-- reloaded file is compared like for like), force = true (any mode; else paper and live).
function M.attach(sess, opts)
  opts = opts or {}
  if type(sess) ~= "table" or not sess.hook then error("gt.reload.attach: expected a session (gt.orchestrator.new)", 2) end
  local wf = sess.wf
  if not opts.force and wf.mode ~= "paper" and wf.mode ~= "live" then
    return nil, ("gt.reload: a %s session does not reload files (paper and live do)"):format(wf.mode)
  end
  local every = opts.every
  if every == nil then every = wf.reload and wf.reload.every or 1 end
  if type(every) ~= "number" or every ~= every or every < 0 then
    error("gt.reload.attach: every must be seconds >= 0", 2)
  end
  M._wall = M._wall or require("gt.clock").wall()
  local w = setmetatable({ sess = sess, every = every, overrides = opts.overrides, files = {}, polls = 0,
    hashed = 0, applied = 0, rejected = 0 }, Watcher)
  local function watch(kind, name, path)
    local size, mt = fsio.mtime(path)
    if not size then return end
    local text = read(path) or ""
    w.files[#w.files + 1] = { kind = kind, name = name, path = path, size = size, mtime = mt, hash = hash(text),
      racy = mt / 1e3 > wall_us() - M.RACY * 1e6 }
  end
  for _, name in ipairs(sess.names) do
    local s = sess.strategies[name]
    if s.path then watch("strategy", name, s.path) end
  end
  if type(wf.path) == "string" then watch("workflow", nil, wf.path) end
  sess:hook("session_start", function() w:_start() end)
  sess:hook("cycle_end", function() w:_cycle_end() end)
  sess.reload = w
  return w
end

return M
