-- gt.feed: bars for a paper session as they complete. A `poll` feed asks a data provider
-- (gt.providers: alpaca, yahoo, coinbase) for new bars every interval on the session's
-- clock (gt.clock), keeps only completed bars, lines the symbols up on the same timestamps
-- and appends them to the series it handed out, which the simulated broker borrows
-- (gt_bt_extend picks the new bars up).
--
--   local feed = gt.feed.poll{ provider = "alpaca", symbols = { "AAPL", "MSFT" }, timeframe = "1m" }
--   local list = assert(feed:history())   -- aligned series, one per symbol, complete bars only
--   while true do
--     local ok, msg, code = feed:wait()   -- sleeps on the clock until feed:next_poll()
--     if not ok then break end            -- code "GT_EINTR": Ctrl-C / SIGTERM
--     local n, err = feed:poll()          -- bars appended to every series, or nil, err
--     ...                                 -- (a failed poll is retried at the next interval)
--   end
--
-- Options of gt.feed.poll (unknown keys are errors):
--   provider   "alpaca" | "yahoo" | "coinbase" (required)
--   symbols    list of symbols (required, no repeats)
--   timeframe  "1m" "5m" "15m" "1h" "4h" "1d" ... what the provider offers (default "1m");
--              weeks and months are not polled (poll days and resample)
--   interval   seconds between polls (default the timeframe, at least 5)
--   lag        seconds after each interval boundary before polling, so the provider has
--              published the bar that just ended (default 2; 0 when interval < 10)
--   history    bars loaded by feed:history() (default 300)
--   calendar   "us_equity" | "crypto" | "always" (default crypto for coinbase, else us_equity)
--   clock      a gt.clock (default gt.clock.current())
--   extended   true: keep intraday bars outside the calendar's session (default false)
--   hold       polls a timestamp some symbol lacks is held back before it is dropped (default 3)
--   db         a store path: history goes through gt.data.fetch, which caches in it
--   base_url, key_file, feed (alpaca iex|sip), http, timeout, deadline: passed to the provider
--
-- Completed bars only: a bar is complete when its start + timeframe <= the clock's now;
-- the bar in progress is never handed out (it is asked for again at the next poll). Daily
-- bars are dated by their UTC day, as gt.data stores them. Intraday bars that do not overlap
-- the calendar's regular session (pre- and after-market bars) are left out and counted
-- (status().outside_hours) unless extended = true.
--
-- Alignment: a timestamp is appended when every symbol has a bar at it. One that some symbol
-- lacks is held back, with every later one, until either that symbol delivers it, or it is
-- dropped for all symbols, recorded in status().drops with the reason: at once when every
-- symbol lacking it has delivered a later bar (providers send bars in order, so the gap is
-- final: a minute with no trades), else once it has been held for `hold` polls.
--
-- Validation: every bar passes gt_bar_check, like every other source. A bad bar from the
-- provider is rejected with its reason (status().rejections, last_error) and the bars around
-- it are still taken; a timestamp whose bar is bad for one symbol is dropped for all.
-- Bars already appended (or older) are ignored. Network and provider failures make poll()
-- return nil, err (status().errors counts them); nothing is appended by a failed poll, and
-- the bars fetched for the other symbols wait for the next one. poll() never raises except
-- for misuse (poll before history).
local gtffi = require "gt.ffi"
local gtime = require "gt.time"
local C = gtffi.C

local M = {}

local DAY, SECOND = gtime.DAY, gtime.SECOND
local floor = math.floor

local OPTIONS = { provider = true, symbols = true, timeframe = true, interval = true, lag = true,
  history = true, calendar = true, clock = true, extended = true, hold = true, db = true,
  base_url = true, key_file = true, feed = true, http = true, timeout = true, deadline = true }

-- The provider options passed through to gt.providers.fetch / gt.data.fetch.
local PASS = { "base_url", "key_file", "feed", "http", "timeout" }

local MAX_SPLITS = 16 -- bad bars one fetch may step around before it gives up

local Poll = {}
Poll.__index = Poll

local function num_opt(o, k, default, min, whole)
  local v = o[k]
  if v == nil then return default end
  if type(v) ~= "number" or v ~= v or v < min or (whole and v % 1 ~= 0) then
    error(("gt.feed.poll: %s must be a %snumber >= %g, got %s"):format(k, whole and "whole " or "",
      min, tostring(v)), 3)
  end
  return v
end

function M.poll(o)
  if type(o) ~= "table" then error("gt.feed.poll: expects a table of options", 2) end
  for k in pairs(o) do
    if not OPTIONS[k] then
      local names = {}
      for n in pairs(OPTIONS) do names[#names + 1] = n end
      table.sort(names)
      error(("gt.feed.poll: unknown option '%s' (options: %s)"):format(tostring(k),
        table.concat(names, ", ")), 2)
    end
  end
  local providers = require "gt.providers"
  local tfs = providers.TIMEFRAMES[o.provider]
  if not tfs then
    error(("gt.feed.poll: provider must be alpaca, yahoo or coinbase, got %s"):format(tostring(o.provider)), 2)
  end
  local tfname = o.timeframe or "1m"
  local tf = require("gt.timeframe").check(tfname, 2)
  if not tfs[tfname] then
    local ok = {}
    for k in pairs(tfs) do ok[#ok + 1] = k end
    table.sort(ok)
    error(("gt.feed.poll: %s has no timeframe %s (available: %s)"):format(o.provider, tfname,
      table.concat(ok, " ")), 2)
  end
  if tf.suffix == "w" or tf.suffix == "mo" then
    error(("gt.feed.poll: timeframe %s is not polled; poll 1d bars and resample them"):format(tfname), 2)
  end
  if type(o.symbols) ~= "table" or #o.symbols == 0 then
    error("gt.feed.poll: symbols must be a non-empty list", 2)
  end
  local seen = {}
  for i, s in ipairs(o.symbols) do
    if type(s) ~= "string" or s == "" then error(("gt.feed.poll: symbols[%d] must be a non-empty string"):format(i), 2) end
    if seen[s] then error(("gt.feed.poll: symbol %s is listed twice"):format(s), 2) end
    seen[s] = true
  end
  local interval = num_opt(o, "interval", math.max(tf.us / SECOND, 5), 1)
  local lag = num_opt(o, "lag", interval < 10 and 0 or 2, 0)
  if lag >= interval then error("gt.feed.poll: lag must be shorter than the interval", 2) end
  local cal_name = o.calendar or (o.provider == "coinbase" and "crypto" or "us_equity")
  local cal = require("gt.calendar").get(cal_name) -- raises on an unknown name
  local clock = o.clock or require("gt.clock").current()
  if type(clock) ~= "table" or type(clock.now) ~= "function" or type(clock.sleep_until) ~= "function" then
    error("gt.feed.poll: clock must be a gt.clock", 2)
  end
  if o.db ~= nil and type(o.db) ~= "string" then error("gt.feed.poll: db must be a path", 2) end
  if o.base_url ~= nil and type(o.base_url) ~= "string" then error("gt.feed.poll: base_url must be a string", 2) end
  if o.http ~= nil and type(o.http) ~= "table" then error("gt.feed.poll: http must be a table of gt.http options", 2) end
  local self = setmetatable({
    provider = o.provider, timeframe = tfname, tf = tf, tf_us = tf.us, daily = tf.suffix == "d",
    interval_us = floor(interval * SECOND), lag_us = floor(lag * SECOND),
    nhistory = num_opt(o, "history", 300, 1, true), hold = num_opt(o, "hold", 3, 1, true),
    calendar = cal, cal_name = cal_name, clock = clock, extended = o.extended == true,
    intraday = tf.suffix == "m" or tf.suffix == "h", db = o.db,
    deadline = num_opt(o, "deadline", math.min(math.max(interval, 5), 60), 1),
    symbols = {}, sym = {}, last_ts = nil,
    stats = { polls = 0, bars = 0, errors = 0, rejected = 0, dropped = 0, ignored = 0,
      outside_hours = 0, skipped_null = 0, rejections = {}, drops = {} },
  }, Poll)
  self.pass = {}
  for _, k in ipairs(PASS) do self.pass[k] = o[k] end
  for j, s in ipairs(o.symbols) do
    self.symbols[j] = s
    self.sym[j] = { name = s, pending = {}, cursor = nil }
  end
  return self
end

-- The timestamp a series holds for a bar the provider stamped ts: daily bars by their UTC
-- day (gt.data's convention; Yahoo stamps them at the open, Alpaca at New York midnight).
function Poll:_date(ts)
  if self.daily then return ts - ts % DAY end
  return ts
end

-- Where the next fetch for a symbol starts after its bar dated ts: raw provider stamps of
-- the next daily bar are on or after the next UTC day; intraday stamps are the dates.
function Poll:_after(ts)
  if self.daily then return ts + self.tf_us end
  return ts + 1
end

-- An intraday bar that overlaps the calendar's session (an hourly bar stamped 14:00Z holds
-- the 09:30 open); daily bars and 24/7 calendars always pass.
function Poll:_in_session(ts)
  if self.extended or not self.intraday or self.calendar.always then return true end
  local open, close = self.calendar:session(ts)
  return open ~= nil and ts < close and ts + self.tf_us > open
end

local function record(list, item, max)
  list[#list + 1] = item
  if #list > max then table.remove(list, 1) end -- the latest max, for the monitor
end

function Poll:_reject(symbol, ts, reason)
  local st = self.stats
  st.rejected = st.rejected + 1
  st.last_error = ("%s: bar at %s rejected: %s"):format(symbol, gtime.format(ts, false), reason)
  record(st.rejections, { symbol = symbol, ts = ts, reason = reason }, 100)
end

-- Bars of symbol j the provider stamps in [from, stop), oldest first, as rows
-- {ts, open, high, low, close, volume} with ts dated; a bad bar is rejected (recorded) and
-- the windows either side of it are asked for again. Returns rows and the dated times of the
-- rejected bars, or nil, err on any other failure.
function Poll:_fetch(j, from, stop)
  local providers = require "gt.providers"
  local name = self.symbols[j]
  local rows = {}
  local windows, w = { { from, stop } }, 1
  local splits, bad = 0, {}
  while w <= #windows do
    local a, b = windows[w][1], windows[w][2]
    if a < b then
      local req = { provider = self.provider, symbol = name, timeframe = self.timeframe,
        start = a, stop = b, deadline = self.deadline }
      for k, v in pairs(self.pass) do req[k] = v end
      local ok, s, rep = pcall(providers.fetch, req)
      if not ok then return nil, ("%s %s: %s"):format(self.provider, name, tostring(s)) end
      if s then
        self.stats.skipped_null = self.stats.skipped_null + (rep.skipped_null or 0)
        local ts, op, hi, lo, cl, vo = s.ts, s.open, s.high, s.low, s.close, s.volume
        for i = 0, s.n - 1 do
          rows[#rows + 1] = { self:_date(tonumber(ts[i])), op[i], hi[i], lo[i], cl[i], vo[i] }
        end
        s:free()
      else
        local err = tostring(rep)
        -- provider.c names a bad bar "...: bar at <RFC 3339>: <reason> (open ...)" (a
        -- Coinbase field it cannot read: "candle at <RFC 3339>: <reason>")
        local at, why = err:match(": %a+ at (%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ): (.+)$")
        if why then why = why:gsub(" %(open [^)]*%)$", "") end
        local t = at and gtime.parse(at)
        if not t or t < a or t >= b then return nil, err end
        splits = splits + 1
        if splits > MAX_SPLITS then
          return nil, ("%s (and more than %d bad bars in one poll)"):format(err, MAX_SPLITS)
        end
        self:_reject(name, self:_date(t), why)
        bad[#bad + 1] = self:_date(t)
        -- the bars before it, then those after it (every copy of a duplicated stamp skipped)
        table.insert(windows, w + 1, { a, t })
        table.insert(windows, w + 2, { t + 1, b })
      end
    end
    w = w + 1
  end
  return rows, bad
end

-- The stop of the history window: only complete bars are asked for, so a store (db) never
-- records a bar in progress as fetched. Daily: today's bar starts at or after today's UTC
-- midnight; intraday: a bar stamped before now - timeframe + 1 us has ended.
function Poll:_complete_stop(now)
  if self.daily then return (now - now % DAY) - (self.tf.count - 1) * DAY end
  return now - self.tf_us + 1
end

-- The start of a window holding about n bars before stop (with some slack): on a closing
-- calendar, sessions are counted back from stop.
function Poll:_history_start(stop, n)
  local want = n * 1.2 + 2
  if self.calendar.always then return stop - floor(want) * self.tf_us end
  local cal = self.calendar
  local day = cal:day_of(stop)
  local have = 0
  local first = day
  for d = day, day - 40000, -1 do
    local open, close = cal:day_session(d)
    if open and open < stop then
      -- regular-session bars on that day (a daily bar per session)
      if self.intraday then
        have = have + (math.min(close, stop) - open) / self.tf_us
      else
        have = have + 1 / self.tf.count
      end
      first = d
      if have >= want then break end
    end
  end
  return first * DAY - DAY -- the UTC day before the first session's New York day: margin for the zone
end

-- The aligned series, one per symbol, with up to `history` complete bars each. Returns the
-- same list on later calls. nil, err when the provider fails or no timestamp is common.
function Poll:history()
  if self.list then return self.list end
  local now = self.clock:now()
  local stop = self:_complete_stop(now)
  local start = self:_history_start(stop, self.nhistory)
  local per = {}
  for j, name in ipairs(self.symbols) do
    local rows, err
    if self.db then
      rows, err = self:_fetch_db(name, start, stop)
    else
      rows, err = self:_fetch(j, start, stop)
    end
    if not rows then
      self:_error(err)
      return nil, err
    end
    -- complete, in session; the rest is not history
    local keep = {}
    for _, r in ipairs(rows) do
      if r[1] + self.tf_us <= now then
        if self:_in_session(r[1]) then keep[#keep + 1] = r
        else self.stats.outside_hours = self.stats.outside_hours + 1 end
      end
    end
    if #keep == 0 then
      err = ("%s %s: no complete bars between %s and %s"):format(self.provider, name,
        gtime.format(start, false), gtime.format(now, false))
      self:_error(err)
      return nil, err
    end
    per[j] = keep
  end
  -- the timestamps every symbol has, the last `history` of them
  local count = {}
  for j = 1, #self.symbols do
    for _, r in ipairs(per[j]) do count[r[1]] = (count[r[1]] or 0) + 1 end
  end
  local common = {}
  for ts, c in pairs(count) do
    if c == #self.symbols then common[#common + 1] = ts end
  end
  table.sort(common)
  if #common == 0 then
    local err = ("%s: the symbols %s have no bar time in common between %s and %s"):format(self.provider,
      table.concat(self.symbols, ", "), gtime.format(start, false), gtime.format(now, false))
    self:_error(err)
    return nil, err
  end
  local first = common[math.max(1, #common - self.nhistory + 1)]
  local last = common[#common]
  local gs = require "gt.series"
  local list = {}
  for j, name in ipairs(self.symbols) do
    local s = gs.new({ symbol = name, timeframe = self.timeframe }, math.min(#common, self.nhistory) + 64)
    local e = self.sym[j]
    for _, r in ipairs(per[j]) do
      local ts = r[1]
      if ts >= first and ts <= last and count[ts] == #self.symbols then
        local ok, why = s:push(ts, r[2], r[3], r[4], r[5], r[6])
        if not ok then -- cannot happen after provider.c's checks; never silently
          local err = ("%s: bar at %s: %s"):format(name, gtime.format(ts, false), why)
          self:_error(err)
          return nil, err
        end
      elseif ts > last then
        e.pending[ts] = r -- newer than every common time: the poll lines it up
      elseif ts >= first then
        self.stats.dropped = self.stats.dropped + 1
        record(self.stats.drops, { ts = ts, reason = ("history: not every symbol has a bar (%s has)"):format(name) }, 100)
      end
      e.cursor = self:_after(ts)
    end
    e.cursor = e.cursor or start
    list[j] = s
  end
  self.list, self.last_ts = list, last
  self.stats.bars = list[1].n
  self.stats.last_bar_ts = last
  return list
end

-- History through gt.data.fetch (the store caches it); rows as _fetch makes them.
function Poll:_fetch_db(name, start, stop)
  local req = { provider = self.provider, symbol = name, timeframe = self.timeframe, start = start,
    stop = stop, db = self.db, deadline = self.deadline }
  for k, v in pairs(self.pass) do req[k] = v end
  local ok, s, err = pcall(require("gt.data").fetch, req)
  if not ok then return nil, tostring(s) end
  if not s then return nil, err end
  local rows = {}
  for i = 0, s.n - 1 do
    rows[i + 1] = { tonumber(s.ts[i]), s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i] }
  end
  s:free()
  return rows
end

function Poll:_error(err)
  self.stats.errors = self.stats.errors + 1
  self.stats.last_error = err
end

local bar_prev = -0x8000000000000000LL

-- Appends every timestamp all symbols have (in order) and applies the hold/drop rule.
function Poll:_align()
  local k = #self.symbols
  local times, seen = {}, {}
  for j = 1, k do
    for ts in pairs(self.sym[j].pending) do
      if not seen[ts] then seen[ts] = true; times[#times + 1] = ts end
    end
  end
  table.sort(times)
  local appended = 0
  local st = self.stats
  for _, ts in ipairs(times) do
    local missing = {}
    for j = 1, k do
      if not self.sym[j].pending[ts] then missing[#missing + 1] = j end
    end
    local drop_reason
    if #missing == 0 then
      -- every symbol's bar is checked before any is appended: all or none
      local bad
      for j = 1, k do
        local s, r = self.list[j], self.sym[j].pending[ts]
        local prev = s.n > 0 and s._c.ts[s.n - 1] or bar_prev
        local issue = C.gt_bar_check(prev, ts, r[2], r[3], r[4], r[5], r[6])
        if issue ~= 0 then
          bad = bad or {}
          bad[#bad + 1] = j
          self:_reject(self.symbols[j], ts, require("ffi").string(C.gt_bar_issue_text(issue)))
        end
      end
      if not bad then
        for j = 1, k do
          local r = self.sym[j].pending[ts]
          assert(self.list[j]:push(ts, r[2], r[3], r[4], r[5], r[6]))
          self.sym[j].pending[ts] = nil
        end
        appended = appended + 1
        self.last_ts = ts
        self.held_ts, self.held_polls = nil, nil
      else
        local names = {}
        for _, j in ipairs(bad) do names[#names + 1] = self.symbols[j] end
        drop_reason = "a bad bar for " .. table.concat(names, ", ")
      end
    else
      local names, final = {}, true
      for _, j in ipairs(missing) do
        names[#names + 1] = self.symbols[j]
        local later = false
        for t in pairs(self.sym[j].pending) do
          if t > ts then later = true; break end
        end
        final = final and later
      end
      if final then
        drop_reason = ("no bar for %s, which already delivered a later one"):format(table.concat(names, ", "))
      else
        if self.held_ts ~= ts then self.held_ts, self.held_polls = ts, 0 end
        if self.held_polls + 1 >= self.hold then
          drop_reason = ("no bar for %s after %d polls"):format(table.concat(names, ", "), self.hold)
        else
          -- held back, with every later time: counted once per poll
          self.held_polls = self.held_polls + 1
          break
        end
      end
    end
    if drop_reason then
      for j = 1, k do self.sym[j].pending[ts] = nil end
      st.dropped = st.dropped + 1
      record(st.drops, { ts = ts, reason = drop_reason }, 100)
      self.held_ts, self.held_polls = nil, nil
    end
  end
  if appended > 0 then
    st.bars = st.bars + appended
    st.last_bar_ts = self.last_ts
  end
  return appended
end

-- Asks the provider for each symbol's bars since the last one it delivered and appends the
-- completed ones every symbol has. Returns the number of bars appended to every series, or
-- nil, err on a network or provider failure (retry at the next interval).
function Poll:poll()
  if not self.list then error("gt.feed: call feed:history() before feed:poll()", 2) end
  local st = self.stats
  st.polls = st.polls + 1
  local now = self.clock:now()
  st.last_poll = now
  local failed
  for j = 1, #self.symbols do
    local e = self.sym[j]
    if e.cursor < now then
      local rows, err = self:_fetch(j, e.cursor, now)
      if not rows then
        failed = failed or err
      else
        for _, ts in ipairs(err) do -- rejected and complete: not asked for (or rejected) again
          if ts + self.tf_us <= now then e.cursor = math.max(e.cursor, self:_after(ts)) end
        end
        for _, r in ipairs(rows) do
          local ts = r[1]
          if ts + self.tf_us > now then break end -- in progress: asked for again next time
          if ts <= self.last_ts or e.pending[ts] then
            st.ignored = st.ignored + 1 -- already appended or waiting: a duplicate or late bar
          elseif not self:_in_session(ts) then
            st.outside_hours = st.outside_hours + 1
          else
            e.pending[ts] = r
          end
          e.cursor = math.max(e.cursor, self:_after(ts))
        end
      end
    end
  end
  if failed then
    self:_error(failed)
    return nil, failed
  end
  return self:_align()
end

-- The clock time of the next poll: the next interval boundary (plus lag) while the market
-- is open at, or just before, that boundary (a bar may have completed at it); otherwise the
-- calendar's next open. A calendar that never closes never waits for an open.
function Poll:next_poll()
  local now = self.clock:now()
  local iv, lag = self.interval_us, self.lag_us
  local b = (now - lag) - (now - lag) % iv + iv
  local cal = self.calendar
  if cal.always or cal:is_open(b - 1) or cal:is_open(b) then return b + lag end
  return cal:next_open(now)
end

-- Sleeps on the clock until next_poll() (a simulated clock is set there at once). Returns
-- the time reached, or nil, message, "GT_EINTR" when SIGINT/SIGTERM cut the wait short.
function Poll:wait()
  local t = self:next_poll()
  local ok, msg, code = self.clock:sleep_until(t)
  if not ok then return nil, msg, code end
  return t
end

-- Counters for the monitor: polls, bars (appended, history included), errors, last_error,
-- last_bar_ts, rejected / rejections (bad bars with reasons), dropped / drops (times left
-- out by alignment), ignored (duplicates), outside_hours, skipped_null (bars with a null
-- field the provider left out, Yahoo; counted per fetch), held (bars received and waiting
-- for the other symbols), last_poll.
function Poll:status()
  local st = self.stats
  local held = 0
  for j = 1, #self.symbols do
    for _ in pairs(self.sym[j].pending) do held = held + 1 end
  end
  local out = {}
  for k, v in pairs(st) do out[k] = v end
  out.rejections, out.drops = {}, {}
  for i, r in ipairs(st.rejections) do out.rejections[i] = { symbol = r.symbol, ts = r.ts, reason = r.reason } end
  for i, d in ipairs(st.drops) do out.drops[i] = { ts = d.ts, reason = d.reason } end
  out.held = held
  out.provider, out.symbols, out.timeframe = self.provider, self.symbols, self.timeframe
  return out
end

return M
