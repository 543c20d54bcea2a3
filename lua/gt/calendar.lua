-- gt.calendar: when a market is open. "us_equity" is the NYSE's regular session, 09:30-16:00
-- America/New_York (13:00 on early-close days), Monday to Friday except its full-day
-- holidays; "crypto" and "always" never close.
--
--   local cal = gt.calendar.get("us_equity")
--   cal:is_open(ts)          -- true while a session runs (open <= ts < close)
--   cal:session(ts)          -- open_us, close_us of ts's calendar day in New York, or nil
--   cal:is_trading_day(ts)   -- that day has a session
--   cal:next_open(ts)        -- the first session open after ts (nil: a 24/7 calendar)
--   cal:next_close(ts)       -- the first session close after ts (nil: a 24/7 calendar)
--   cal:holidays(2025)       -- {"2025-01-01", ...}: the weekdays it is closed
--   cal:early_closes(2025)   -- {"2025-07-03", ...}
--   cal:utc_offset(ts)       -- the zone's offset from UTC at ts (-4 h or -5 h in New York)
--
-- Times are epoch microseconds UTC (or date strings, through gt.time). New York time is
-- computed here from the US daylight-saving rules (since 2007: from the second Sunday of
-- March, 02:00 local, to the first Sunday of November, 02:00 local; 1987-2006: first Sunday
-- of April to last Sunday of October; before: last Sunday of April to last Sunday of
-- October), never from the system's time-zone database, which containers often lack.
--
-- Holidays follow the NYSE's published rules (Rule 7.2): New Year's Day, Martin Luther King
-- Jr. Day (third Monday of January, from 1998), Washington's Birthday (third Monday of
-- February), Good Friday (Easter by the anonymous Gregorian computus), Memorial Day (last
-- Monday of May), Juneteenth (from 2022), Independence Day, Labor Day (first Monday of
-- September), Thanksgiving (fourth Thursday of November) and Christmas. One on a Saturday
-- is observed the Friday before, one on a Sunday the Monday after, except New Year's Day on
-- a Saturday, which is not made up (the Friday before ends the year). Early closes (13:00):
-- the day after Thanksgiving, Christmas Eve on a weekday, and July 3 on a Monday to Thursday.
-- Special closures the exchange announces one at a time (national days of mourning such as
-- 2025-01-09, weather such as 2012-10-29/30) follow no rule and are not in this calendar.
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local gtime = require "gt.time"
local C = gtffi.C

local M = {}

local floor = math.floor
local MIN = 60 * gtime.SECOND
local HOUR = 60 * MIN
local DAY = gtime.DAY

local yb, mb, db = ffi.new("int64_t[1]"), ffi.new("int64_t[1]"), ffi.new("int64_t[1]")
local function civil(days)
  C.gt_civil_from_days(days, yb, mb, db)
  return tonumber(yb[0]), tonumber(mb[0]), tonumber(db[0])
end
local function days(y, m, d) return tonumber(C.gt_days_from_civil(y, m, d)) end
-- 0 = Monday .. 6 = Sunday (1970-01-01, day 0, was a Thursday)
local function weekday(day) return (day + 3) % 7 end
local MON, THU, FRI, SAT, SUN = 0, 3, 4, 5, 6

-- The n-th weekday wd of a month, and the last one.
local function nth(y, m, wd, n)
  local first = days(y, m, 1)
  return first + (wd - weekday(first)) % 7 + 7 * (n - 1)
end
local function last(y, m, wd)
  local lastday = (m == 12 and days(y + 1, 1, 1) or days(y, m + 1, 1)) - 1
  return lastday - (weekday(lastday) - wd) % 7
end

-- Easter Sunday, anonymous Gregorian computus (Meeus/Jones/Butcher).
function M.easter(y)
  local a, b, c = y % 19, floor(y / 100), y % 100
  local d, e = floor(b / 4), b % 4
  local f = floor((b + 8) / 25)
  local g = floor((b - f + 1) / 3)
  local h = (19 * a + b - d - g + 15) % 30
  local i, k = floor(c / 4), c % 4
  local l = (32 + 2 * e + 2 * i - h - k) % 7
  local m = floor((a + 11 * h + 22 * l) / 451)
  local month = floor((h + l - 7 * m + 114) / 31)
  local day = (h + l - 7 * m + 114) % 31 + 1
  return days(y, month, day), month, day
end

-- Saturday -> Friday before, Sunday -> Monday after.
local function observed(day)
  local wd = weekday(day)
  if wd == SAT then return day - 1 elseif wd == SUN then return day + 1 end
  return day
end

-- Everything about one year of New York time and the NYSE's rules, computed once.
local years = {}
local function year_info(y)
  local yi = years[y]
  if yi then return yi end
  local dst_start, dst_end
  if y >= 2007 then
    dst_start, dst_end = nth(y, 3, SUN, 2), nth(y, 11, SUN, 1)
  elseif y >= 1987 then
    dst_start, dst_end = nth(y, 4, SUN, 1), last(y, 10, SUN)
  else
    dst_start, dst_end = last(y, 4, SUN), last(y, 10, SUN)
  end
  local closed, early = {}, {}
  local function close(day) closed[day] = true end
  local ny = days(y, 1, 1)
  if weekday(ny) ~= SAT then close(observed(ny)) end
  if y >= 1998 then close(nth(y, 1, MON, 3)) end
  close(nth(y, 2, MON, 3))
  close(M.easter(y) - 2)
  close(last(y, 5, MON))
  if y >= 2022 then close(observed(days(y, 6, 19))) end
  close(observed(days(y, 7, 4)))
  close(nth(y, 9, MON, 1))
  local thanksgiving = nth(y, 11, THU, 4)
  close(thanksgiving)
  close(observed(days(y, 12, 25)))
  local function early_close(day)
    if not closed[day] and weekday(day) <= FRI then early[day] = true end
  end
  early_close(thanksgiving + 1)
  early_close(days(y, 12, 24))
  local jul3 = days(y, 7, 3)
  if weekday(jul3) <= THU then early_close(jul3) end
  yi = {
    -- 02:00 local standard time = 07:00 UTC; 02:00 local daylight time = 06:00 UTC
    dst_from = dst_start * DAY + 7 * HOUR, dst_to = dst_end * DAY + 6 * HOUR,
    dst_start = dst_start, dst_end = dst_end, closed = closed, early = early,
  }
  years[y] = yi
  return yi
end

-- New York's offset from UTC at ts: -4 h in daylight-saving time, else -5 h.
local function ny_offset(ts)
  local yi = year_info((civil(floor(ts / DAY))))
  return (ts >= yi.dst_from and ts < yi.dst_to) and -4 * HOUR or -5 * HOUR
end

local function time_arg(ts, what, level)
  if type(ts) == "string" then return gtime.check(ts, what, level + 1) end
  if type(ts) ~= "number" or ts ~= ts then
    error(("gt.calendar: %s must be microseconds or a date string, got %s"):format(what, tostring(ts)),
      level + 1)
  end
  return ts
end

local Cal = {}
Cal.__index = Cal

-- The calendar day (days since 1970-01-01 in the calendar's zone) that holds ts.
function Cal:day_of(ts) return floor((ts + self.offset(ts)) / DAY) end

-- The calendar's zone offset from UTC at ts in microseconds (-4 h or -5 h in New York).
function Cal:utc_offset(ts) return self.offset(time_arg(ts, "utc_offset time", 2)) end

-- open_us, close_us of the session on calendar day `day`, or nil when closed all day.
function Cal:day_session(day)
  if self.always then return day * DAY, (day + 1) * DAY end
  local wd = weekday(day)
  if wd >= SAT then return nil end
  local yi = year_info((civil(day)))
  if yi.closed[day] then return nil end
  -- 09:30 local is after 02:00, so the day's offset is the one at its start after the switch
  local off = (day >= yi.dst_start and day < yi.dst_end) and -4 * HOUR or -5 * HOUR
  local base = day * DAY - off
  return base + self.open_at, base + (yi.early[day] and self.early_close_at or self.close_at)
end

function Cal:session(ts)
  return self:day_session(self:day_of(time_arg(ts, "session time", 2)))
end

function Cal:is_open(ts)
  ts = time_arg(ts, "is_open time", 2)
  if self.always then return true end
  local o, c = self:day_session(self:day_of(ts))
  return o ~= nil and ts >= o and ts < c
end

function Cal:is_trading_day(ts)
  return self:day_session(self:day_of(time_arg(ts, "is_trading_day time", 2))) ~= nil
end

-- The longest run of closed days the rules can make is 4 (a Thursday holiday never meets a
-- weekend; Friday or Monday holidays make 3): 10 days is plenty, and bounds the loop.
local SEARCH_DAYS = 10

local function next_edge(self, ts, pick, what)
  ts = time_arg(ts, what, 3)
  if self.always then return nil end
  local day = self:day_of(ts)
  for d = day, day + SEARCH_DAYS do
    local o, c = self:day_session(d)
    local t = o and (pick == 1 and o or c)
    if t and t > ts then return t end
  end
  error(("gt.calendar %s: no session within %d days of %s"):format(self.name, SEARCH_DAYS,
    gtime.format(ts, false)), 3)
end

-- The first session open after ts (nil for a calendar that never closes).
function Cal:next_open(ts) return next_edge(self, ts, 1, "next_open time") end
-- The first session close after ts (nil for a calendar that never closes).
function Cal:next_close(ts) return next_edge(self, ts, 2, "next_close time") end

local function year_days(self, year, want)
  if type(year) ~= "number" or year ~= floor(year) then
    error("gt.calendar: year must be a whole number", 3)
  end
  local out = {}
  if self.always then return out end
  for d = days(year, 1, 1), days(year + 1, 1, 1) - 1 do
    if weekday(d) < SAT then
      local o, c = self:day_session(d)
      if want(o, c, d) then out[#out + 1] = gtime.format(d * DAY) end
    end
  end
  return out
end

-- The weekdays of year with no session, as "YYYY-MM-DD", in order.
function Cal:holidays(year)
  return year_days(self, year, function(o) return o == nil end)
end

-- The days of year whose session closes early, as "YYYY-MM-DD", in order.
function Cal:early_closes(year)
  return year_days(self, year, function(o, c) return o ~= nil and c - o < self.close_at - self.open_at end)
end

function Cal:__tostring() return "gt.calendar " .. self.name end

local function utc(_) return 0 end

local DEFS = {
  us_equity = { tz = "America/New_York", offset = ny_offset,
    open_at = 9 * HOUR + 30 * MIN, close_at = 16 * HOUR, early_close_at = 13 * HOUR },
  crypto = { tz = "UTC", offset = utc, always = true },
  always = { tz = "UTC", offset = utc, always = true },
}

-- Names of the known calendars, sorted.
function M.names()
  local out = {}
  for k in pairs(DEFS) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local made = {}
function M.get(name)
  local cal = made[name]
  if cal then return cal end
  local def = type(name) == "string" and DEFS[name]
  if not def then
    error(("gt.calendar: unknown calendar %s; known: %s")
      :format(type(name) == "string" and ("%q"):format(name) or tostring(name),
        table.concat(M.names(), ", ")), 2)
  end
  cal = setmetatable({ name = name }, Cal)
  for k, v in pairs(def) do cal[k] = v end
  made[name] = cal
  return cal
end

return M
