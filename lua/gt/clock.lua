-- gt.clock: the engine's clocks (engine/clock.c) and timers that read only them, so one
-- session loop runs live, paper, replay and backtest alike at any speed. Times are Lua
-- numbers of microseconds (epoch UTC for the wall and simulated clocks).
--
--   local c = gt.clock.sim("2025-01-02T14:30:00Z")   -- or gt.clock.wall(), gt.clock.monotonic()
--   c:now(); c:advance(60 * gt.time.SECOND); c:set("2025-01-02T15:00:00Z"); c:kind() -- "sim"
--   c:use()                          -- gt.time.now() reads c until another :use() or :close()
--   c:sleep_until(t)                 -- real clocks sleep (nil, msg, "GT_EINTR" on Ctrl-C);
--                                    -- a simulated clock is set to t at once
--   local tick = c:every(60e6)       -- boundaries at whole minutes (or first_us + k * 60 s)
--   local n = tick:due()             -- periods elapsed since it last fired: 0, 1, or more
--   local once = c:after(5e6)        -- once:due() is true exactly once, 5 s from now
--   local cd = c:cooldown(30e6)      -- cd:ready() until cd:start(), then again 30 s later
--   local dd = c:dedupe(300e6)       -- dd:fresh(key): true once per key per 300 s
--
-- Misuse (a bad time, a simulated clock moved backwards, a closed clock) raises; a sleep cut
-- short by SIGINT/SIGTERM returns nil, message, "GT_EINTR".
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local gtime = require "gt.time"
local C = gtffi.C

local M = {}

M.KINDS = { wall = C.GT_CLOCK_WALL, monotonic = C.GT_CLOCK_MONOTONIC, sim = C.GT_CLOCK_SIM }

local floor = math.floor
local MAX_US = 2 ^ 53 -- microseconds are exact in a Lua number up to here (the year 2255)

-- t as whole microseconds: a number, or a date string through gt.time.parse.
local function time_arg(t, what, level)
  if type(t) == "string" then t = gtime.check(t, what, level + 1) end
  if type(t) ~= "number" or t ~= t or floor(t) ~= t or t > MAX_US or t < -MAX_US then
    error(("gt.clock: %s must be whole microseconds (a number within 2^53) or a date string, got %s")
      :format(what, tostring(t)), level + 1)
  end
  return t
end

-- A length of time: whole microseconds, > 0 unless zero_ok.
local function span_arg(d, what, level, zero_ok)
  if type(d) ~= "number" or d ~= d or floor(d) ~= d or d > MAX_US or d < 0 or (d == 0 and not zero_ok) then
    error(("gt.clock: %s must be whole microseconds %s, got %s")
      :format(what, zero_ok and ">= 0" or "> 0", tostring(d)), level + 1)
  end
  return d
end

local Clock = {}
Clock.__index = Clock

local current -- the clock object :use() made current (kept alive here), nil: the wall clock

local function new(kind, start)
  local h = C.gt_clock_new(kind, start)
  if h == nil then error("gt.clock: " .. gtffi.errmsg(), 3) end
  return setmetatable({ h = ffi.gc(h, C.gt_clock_free) }, Clock)
end

function M.wall() return new(C.GT_CLOCK_WALL, 0) end
function M.monotonic() return new(C.GT_CLOCK_MONOTONIC, 0) end
-- start: microseconds or a date string ("2025-01-02", "2025-01-02T14:30:00Z").
function M.sim(start)
  if start == nil then error("gt.clock.sim: needs a start time (microseconds or a date string)", 2) end
  return new(C.GT_CLOCK_SIM, time_arg(start, "sim start", 2))
end

local default_wall
-- The clock gt.time.now() reads: the one last :use()d, else a wall clock.
function M.current()
  if current then return current end
  default_wall = default_wall or M.wall()
  return default_wall
end

local function handle(self, level)
  local h = self.h
  if not h then error("gt.clock: the clock is closed", level + 1) end
  return h
end

function Clock:now() return tonumber(C.gt_clock_now(handle(self, 2))) end

function Clock:kind() return ffi.string(C.gt_clock_kind_name(C.gt_clock_kind(handle(self, 2)))) end

function Clock:set(t)
  gtffi.check(C.gt_clock_set(handle(self, 2), time_arg(t, "set time", 2)), 2)
  return self
end

function Clock:advance(dt)
  local h = handle(self, 2)
  if type(dt) ~= "number" or dt ~= dt or floor(dt) ~= dt or dt > MAX_US or dt < -MAX_US then
    error(("gt.clock: advance needs whole microseconds, got %s"):format(tostring(dt)), 2)
  end
  gtffi.check(C.gt_clock_advance(h, dt), 2)
  return self
end

-- true when the clock reads t or later; nil, message, "GT_EINTR" when SIGINT/SIGTERM cut the
-- wait short (the caller stops: the host also raises "interrupted" in the Lua code that runs
-- next).
function Clock:sleep_until(t)
  local rc = C.gt_clock_sleep_until(handle(self, 2), time_arg(t, "sleep_until time", 2))
  if rc == 0 then return true end
  return gtffi.result(rc, 2)
end

-- Makes this the clock gt.time.now() reads, until another clock's :use(), gt.clock.use_wall()
-- or this clock's :close().
function Clock:use()
  C.gt_clock_use(handle(self, 2))
  current = self
  return self
end

function M.use_wall()
  C.gt_clock_use(nil)
  current = nil
end

-- gt.clock.use(c) is c:use(); gt.clock.use(nil) puts the wall clock back.
function M.use(c)
  if c == nil then return M.use_wall() end
  if getmetatable(c) ~= Clock then error("gt.clock.use: expects a clock or nil", 2) end
  return c:use()
end

function Clock:close()
  local h = self.h
  if h then
    if current == self then current = nil end
    self.h = nil
    C.gt_clock_free(ffi.gc(h, nil)) -- also puts the wall clock back when h was current
  end
end

function Clock:__tostring()
  if not self.h then return "gt.clock (closed)" end
  return ("gt.clock %s %s"):format(self:kind(), self:kind() == "monotonic" and tostring(self:now())
    or gtime.format(self:now(), false))
end

-- floor(d / i) for whole 0 <= d, 0 < i below 2^53. IEEE division rounds correctly, so this
-- should never need the correction; it is there so the count cannot be off by one even if the
-- quotient of d just under a multiple of i were ever rounded up.
local function whole_periods(d, i)
  local n = floor(d / i)
  if n * i > d then n = n - 1 elseif (n + 1) * i <= d then n = n + 1 end
  return n
end

-- Timers. Each keeps the clock object (not a copy of its time) and reads only it.

local Every = {}
Every.__index = Every

-- A periodic timer with boundaries at first_us + k * interval_us. Without first_us the
-- boundaries are the whole multiples of interval_us (every minute fires on the minute), the
-- first one after now: so a run started at any moment, replayed at any speed, fires at the
-- same clock times.
function Clock:every(interval_us, first_us)
  handle(self, 2)
  local i = span_arg(interval_us, "every interval", 2)
  local nxt
  if first_us ~= nil then
    nxt = time_arg(first_us, "every first time", 2)
  else
    local now = self:now()
    nxt = (now - now % i) + i
  end
  return setmetatable({ clock = self, interval = i, nxt = nxt }, Every)
end

-- The number of whole periods elapsed since the timer last fired: 0 when not due (note: 0 is
-- true in Lua, test `> 0`), else n >= 1 boundaries passed at once (a replay that jumps an hour
-- gets all of them), with the last boundary passed as a second value. Re-arms to the next
-- boundary after now.
function Every:due()
  local now = self.clock:now()
  local nxt = self.nxt
  if now < nxt then return 0 end
  local i = self.interval
  local n = whole_periods(now - nxt, i) + 1
  local last = nxt + (n - 1) * i
  self.nxt = last + i
  return n, last
end

-- The next boundary (when :due() next returns more than 0).
function Every:next() return self.nxt end

local After = {}
After.__index = After

-- A one-shot timer us from now.
function Clock:after(us)
  handle(self, 2)
  return setmetatable({ clock = self, at = self:now() + span_arg(us, "after", 2, true) }, After)
end

-- true exactly once: the first call at or after the deadline.
function After:due()
  local at = self.at
  if at == nil or self.clock:now() < at then return false end
  self.at = nil
  return true
end

-- The deadline, or nil once it has fired.
function After:next() return self.at end

local Cooldown = {}
Cooldown.__index = Cooldown

-- Ready until :start(), then not until us later.
function Clock:cooldown(us)
  handle(self, 2)
  return setmetatable({ clock = self, span = span_arg(us, "cooldown", 2, true) }, Cooldown)
end

function Cooldown:ready()
  local t = self.started
  return t == nil or self.clock:now() - t >= self.span
end

-- Starts (or restarts) the cooldown now.
function Cooldown:start()
  self.started = self.clock:now()
  return self
end

-- Microseconds until ready (0 when ready).
function Cooldown:remaining()
  local t = self.started
  if t == nil then return 0 end
  local left = t + self.span - self.clock:now()
  return left > 0 and left or 0
end

local Dedupe = {}
Dedupe.__index = Dedupe

-- Remembers when each key was last let through; repeats within window_us are not fresh.
function Clock:dedupe(window_us)
  handle(self, 2)
  return setmetatable({ clock = self, window = span_arg(window_us, "dedupe window", 2),
    seen = {}, n = 0, sweep_at = 64 }, Dedupe)
end

-- true the first time key is seen, and again once window_us has passed since it was last let
-- through (repeats inside the window do not extend it: a condition that persists alerts once
-- per window); false otherwise. Keys are strings, numbers or booleans.
function Dedupe:fresh(key)
  local tk = type(key)
  if (tk ~= "string" and tk ~= "number" and tk ~= "boolean") or key ~= key then
    error(("gt.clock: dedupe key must be a string, number or boolean, got %s"):format(
      tk == "number" and "NaN" or tk), 2)
  end
  local now = self.clock:now()
  local seen = self.seen
  local t = seen[key]
  if t ~= nil and now - t < self.window then return false end
  if t == nil then
    self.n = self.n + 1
    if self.n >= self.sweep_at then -- forget expired keys: memory stays bounded by the live ones
      local live = 0
      for k, at in pairs(seen) do
        if now - at >= self.window then seen[k] = nil else live = live + 1 end
      end
      self.n = live + 1
      self.sweep_at = math.max(64, 2 * self.n)
    end
  end
  seen[key] = now
  return true
end

-- Forgets key (or every key when nil): it is fresh again.
function Dedupe:forget(key)
  if key == nil then
    self.seen, self.n = {}, 0
  elseif self.seen[key] ~= nil then
    self.seen[key] = nil
    self.n = self.n - 1
  end
end

return M
