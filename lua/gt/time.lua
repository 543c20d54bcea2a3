-- gt.time: timestamps are Lua numbers of epoch microseconds UTC (exact to the year 2255).
-- parse("2024-01-02"), parse("2024-01-02T15:30:00Z"), format(us), now() (the current clock).
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C

local M = {}
M.SECOND = 1000000
M.DAY = 86400 * M.SECOND

local out = ffi.new("int64_t[1]")
local buf = ffi.new("char[48]")

-- Accepts an ISO-8601 string or a number (already microseconds). Returns us or nil, err.
function M.parse(x)
  if type(x) == "number" then return x end
  if type(x) == "cdata" then return tonumber(x) end
  if type(x) ~= "string" then return nil, "expected a date string like 2024-01-31 or microseconds" end
  local rc = C.gt_time_parse(x, #x, out)
  if rc ~= 0 then return nil, gtffi.errmsg(rc) end
  return tonumber(out[0])
end

-- Raising variant for arguments.
function M.check(x, what, level)
  local t, err = M.parse(x)
  if not t then error((what and (what .. ": ") or "") .. err, (level or 1) + 1) end
  return t
end

-- "2024-01-02" for midnight (date_only, default true), else "2024-01-02T15:30:00Z".
function M.format(us, date_only)
  C.gt_time_format(us, date_only == false and 0 or 1, buf, 48)
  return ffi.string(buf)
end

-- Now on the engine's current clock (engine/clock.c): the wall clock in microseconds, or
-- the clock a replay or backtest made current with gt.clock's :use(). Engine code reads time
-- here, never from os.time() (whole seconds, and never simulated).
function M.now()
  return tonumber(C.gt_time_now_us())
end

return M
