-- gt.clock and gt.calendar: the simulated clock only moves forwards and only when told,
-- gt.time.now() follows the current clock, timers fire the same number of times at the same
-- clock times whatever the replay speed, the 300 s alert de-duplication and cooldowns at
-- their boundaries, a sleep ended by SIGINT/SIGTERM, and the NYSE calendar against the
-- exchange's published holiday and early-close lists.
local gt = require "gt"
local t = require "tests.lua.support"

local S = gt.time.SECOND
local MIN, HOUR = 60 * S, 3600 * S
local P = gt.time.parse

describe("gt.clock", function()
  it("a simulated clock moves only by set and advance, never backwards", function()
    local c = gt.clock.sim("2025-01-02T14:30:00Z")
    assert.equal("sim", c:kind())
    assert.equal(P("2025-01-02T14:30:00Z"), c:now())
    assert.equal(P("2025-01-02T14:30:00Z"), c:now())
    c:advance(90 * S)
    assert.equal(P("2025-01-02T14:31:30Z"), c:now())
    c:set("2025-01-02T15:00:00Z")
    assert.equal(P("2025-01-02T15:00:00Z"), c:now())
    c:set(c:now()) -- the same time is not backwards
    local ok, err = pcall(c.set, c, "2025-01-02T14:00:00Z")
    assert.is_false(ok)
    assert.matches("from 1735830000000000 (2025-01-02T15:00:00Z) back to 1735826400000000 "
      .. "(2025-01-02T14:00:00Z)", err, 1, true)
    assert.equal(P("2025-01-02T15:00:00Z"), c:now())
    ok, err = pcall(c.advance, c, -1)
    assert.is_false(ok)
    assert.matches("advance by -1 us", err, 1, true)
    assert.has_error(function() c:advance(0.5) end, "gt.clock: advance needs whole microseconds, got 0.5")
    assert.has_error(function() c:set(2 ^ 60) end)
    assert.equal(P("2025-01-02T15:00:00Z"), c:now())
    assert.equal(1000, gt.clock.sim(1000):now())
    assert.has_error(function() gt.clock.sim() end)
    assert.has_error(function() gt.clock.sim("not a date") end)
  end)

  it("real clocks: wall near os.time, monotonic never back, neither can be set", function()
    local w, m = gt.clock.wall(), gt.clock.monotonic()
    assert.equal("wall", w:kind()); assert.equal("monotonic", m:kind())
    assert.is_true(math.abs(w:now() - os.time() * S) < 2 * S)
    local prev, back = m:now(), 0
    for _ = 1, 20000 do
      local x = m:now()
      if x < prev then back = back + 1 end
      prev = x
    end
    assert.equal(0, back)
    local ok, err = pcall(w.set, w, w:now() + S)
    assert.is_false(ok); assert.matches("only a simulated clock can be set", err, 1, true)
    assert.is_false(pcall(m.advance, m, 1))
  end)

  it("sleep_until: a simulated clock jumps, a real one sleeps about that long", function()
    local c = gt.clock.sim("2025-01-02")
    local m = gt.clock.monotonic()
    local t0 = m:now()
    assert.is_true(c:sleep_until("2025-01-03"))
    assert.is_true(m:now() - t0 < 50000) -- a day in well under 50 ms: no sleeping
    assert.equal(P("2025-01-03"), c:now())
    assert.is_true(c:sleep_until("2025-01-02")) -- already past: nothing, not backwards
    assert.equal(P("2025-01-03"), c:now())
    t0 = m:now()
    assert.is_true(m:sleep_until(m:now() + 120000))
    local took = m:now() - t0
    assert.is_true(took >= 120000 and took < 1000000, took)
  end)

  it("close is safe twice and a closed clock raises", function()
    local c = gt.clock.sim(0)
    c:close(); c:close()
    assert.has_error(function() c:now() end, "gt.clock: the clock is closed")
    assert.has_error(function() c:use() end, "gt.clock: the clock is closed")
  end)

  it("gt.time.now follows the current clock and returns to the wall clock", function()
    local function near_wall(x) return math.abs(x - os.time() * S) < 2 * S end
    assert.is_true(near_wall(gt.time.now()))
    assert.equal("wall", gt.clock.current():kind())
    local c = gt.clock.sim("2025-06-02T13:30:00Z"):use()
    assert.equal(c, gt.clock.current())
    assert.equal(P("2025-06-02T13:30:00Z"), gt.time.now())
    c:advance(5 * S)
    assert.equal(P("2025-06-02T13:30:05Z"), gt.time.now())
    gt.clock.use(nil)
    assert.is_true(near_wall(gt.time.now()))
    c:use()
    assert.equal(P("2025-06-02T13:30:05Z"), gt.time.now())
    c:close() -- closing the current clock puts the wall clock back
    assert.is_true(near_wall(gt.time.now()))
    assert.equal("wall", gt.clock.current():kind())
    -- a clock in use is kept alive by gt.clock, not collected under gt.time.now
    gt.clock.sim(123):use()
    collectgarbage(); collectgarbage()
    assert.equal(123, gt.time.now())
    gt.clock.use_wall()
    assert.is_true(near_wall(gt.time.now()))
    -- sub-second: microseconds, not os.time's whole seconds
    local seen = {}
    for _ = 1, 5 do seen[gt.time.now() % S] = true end
    local frac = false
    for k in pairs(seen) do if k ~= 0 then frac = true end end
    assert.is_true(frac)
  end)

  -- Replay-speed independence: a run moved second by second (as real time passes) and the
  -- same run replayed in 1 h jumps (and in uneven jumps) fire each timer the same number of
  -- times, at the same boundaries.
  describe("every", function()
    local start, stop = P("2025-01-02T00:00:17Z"), P("2025-01-02T06:00:17Z")

    local function run(interval, first, steps)
      local c = gt.clock.sim(start)
      local tm = c:every(interval, first)
      local fired, calls = {}, 0
      local i = 0
      while c:now() < stop do
        i = i + 1
        c:set(math.min(stop, c:now() + steps(i)))
        local n, last = tm:due()
        if n > 0 then
          calls = calls + 1
          for k = n - 1, 0, -1 do fired[#fired + 1] = last - k * interval end
          assert.equal(last + interval, tm:next())
          assert.is_true(tm:next() > c:now())
        end
      end
      return fired, calls
    end
    local second = function() return S end
    local hour = function() return HOUR end
    local uneven = function(i) return (i * 7919 % 1000 + 1) * 37 * S end

    it("fires on whole multiples of the interval, the same at every speed", function()
      local a, calls_a = run(7 * MIN, nil, second)
      local b, calls_b = run(7 * MIN, nil, hour)
      local c = run(7 * MIN, nil, uneven)
      -- boundaries k * 420 s in (start, stop]: floor(stop / 420 s) - floor(start / 420 s)
      local want = math.floor(stop / (7 * MIN)) - math.floor(start / (7 * MIN))
      assert.equal(51, want) -- 6 h / 7 min = 51.4: 51 or 52 boundaries; the offset gives 51
      assert.equal(want, #a)
      assert.same(a, b)
      assert.same(a, c)
      assert.equal(want, calls_a) -- one per call in 1 s steps
      assert.equal(6, calls_b)    -- several per call in 1 h jumps
      for _, x in ipairs(a) do assert.equal(0, x % (7 * MIN)) end
      assert.equal(math.ceil(start / (7 * MIN)) * 7 * MIN, a[1])
    end)

    it("with a first time: boundaries at first + k * interval", function()
      local first = start + 10 * MIN + 3 * S
      local a = run(15 * MIN, first, second)
      local b = run(15 * MIN, first, hour)
      assert.same(a, b)
      assert.equal(first, a[1])
      assert.equal(first + 15 * MIN, a[2])
      -- first + 15 min * k <= stop: (6 h - 10 min 3 s) / 15 min = 23.3 -> k = 0..23
      assert.equal(24, #a)
    end)

    it("due returns the number of whole periods elapsed", function()
      local c = gt.clock.sim(0)
      local tm = c:every(10 * S)
      assert.equal(10 * S, tm:next())
      assert.equal(0, tm:due())
      c:set(10 * S - 1); assert.equal(0, tm:due())
      c:set(10 * S); assert.equal(1, tm:due()); assert.equal(0, tm:due())
      c:set(45 * S); assert.equal(3, tm:due()) -- 20, 30, 40
      assert.equal(50 * S, tm:next())
      -- a long jump is counted, not looped over: 10^12 periods in one call
      local big = gt.clock.sim(0)
      local tb = big:every(7)
      big:set(7e12 + 5)
      assert.equal(1e12, tb:due())
      assert.equal(7e12 + 7, tb:next())
      assert.has_error(function() c:every(0) end)
      assert.has_error(function() c:every(1.5) end)
    end)
  end)

  it("after fires exactly once", function()
    local c = gt.clock.sim(0)
    local a = c:after(5 * S)
    assert.equal(5 * S, a:next())
    assert.is_false(a:due())
    c:set(5 * S - 1); assert.is_false(a:due())
    c:set(5 * S); assert.is_true(a:due())
    assert.is_false(a:due())
    c:advance(HOUR); assert.is_false(a:due())
    assert.is_nil(a:next())
  end)

  it("cooldown: ready until started, then after exactly its span", function()
    local c = gt.clock.sim(0)
    local cd = c:cooldown(30 * S)
    assert.is_true(cd:ready())
    assert.equal(0, cd:remaining())
    cd:start()
    assert.is_false(cd:ready())
    assert.equal(30 * S, cd:remaining())
    c:set(30 * S - 1); assert.is_false(cd:ready()); assert.equal(1, cd:remaining())
    c:set(30 * S); assert.is_true(cd:ready())
    cd:start() -- restart at 30 s
    c:set(59 * S); assert.is_false(cd:ready())
    c:set(60 * S); assert.is_true(cd:ready())
  end)

  it("dedupe: the monitor's 300 s window at its boundary", function()
    local c = gt.clock.sim(P("2025-01-02T10:00:00Z"))
    local dd = c:dedupe(300 * S)
    assert.is_true(dd:fresh("drawdown"))
    assert.is_true(dd:fresh("stale_feed")) -- another key is its own
    assert.is_false(dd:fresh("drawdown"))
    c:advance(299 * S)
    assert.is_false(dd:fresh("drawdown")) -- 299 s later: still the same alert
    c:advance(2 * S)
    assert.is_true(dd:fresh("drawdown")) -- 301 s after the first: the repeat at 299 s did not extend it
    assert.is_false(dd:fresh("drawdown"))
    c:advance(300 * S)
    assert.is_true(dd:fresh("drawdown")) -- exactly the window later: fresh (window is [t, t + 300 s))
    assert.is_true(dd:fresh(42)); assert.is_false(dd:fresh(42))
    dd:forget(42); assert.is_true(dd:fresh(42))
    assert.has_error(function() dd:fresh(nil) end)
    assert.has_error(function() dd:fresh(0 / 0) end)
    assert.has_error(function() c:dedupe(0) end)
    -- expired keys are forgotten: 10000 distinct keys, one a second, 10 s window
    local d2 = c:dedupe(10 * S)
    for i = 1, 10000 do c:advance(S); assert.is_true(d2:fresh("k" .. i)) end
    local n = 0
    for _ in pairs(d2.seen) do n = n + 1 end
    assert.is_true(n <= 128, n)
  end)

  it("timers read only their own clock, never os.time", function()
    local c = gt.clock.sim(0)
    local every, after, cd, dd = c:every(S), c:after(S), c:cooldown(S), c:dedupe(S)
    local saved_time, saved_clock = os.time, os.clock
    local function boom() error("os.time/os.clock read") end
    os.time, os.clock = boom, boom -- luacheck: ignore 122
    local ok, err = pcall(function()
      cd:start(); dd:fresh("x")
      assert.equal(0, every:due()); assert.is_false(after:due()); assert.is_false(cd:ready())
      c:advance(S)
      assert.equal(1, every:due()); assert.is_true(after:due()); assert.is_true(cd:ready())
      assert.is_true(dd:fresh("x"))
      gt.time.now()
    end)
    os.time, os.clock = saved_time, saved_clock -- luacheck: ignore 122
    assert(ok, err)
    -- a wall clock passing does not move a timer on a simulated clock
    local a = c:after(1)
    gt.clock.monotonic():sleep_until(gt.clock.monotonic():now() + 20000)
    assert.is_false(a:due())
  end)

  it("a raised interrupt flag makes sleep_until return nil, message, GT_EINTR", function()
    -- in a child: the flag is what the host's signal handler raises
    local script = [[
      local ffi = require "ffi"
      ffi.cdef "extern volatile int gt_interrupted;"
      local gt = require "gt"
      local w = gt.clock.wall()
      ffi.C.gt_interrupted = 1
      local t0 = w:now()
      local ok, err, code = w:sleep_until(w:now() + 30e6)
      print(ok, err, code, w:now() - t0 < 1e6)
    ]]
    local out, err, code = t.run("-e " .. t.quote(script))
    assert.equal(0, code, err)
    assert.equal("nil\tclock: interrupted before sleeping\tGT_EINTR\ttrue\n", out)
  end)

  for _, sig in ipairs({ { "INT", 130 }, { "TERM", 143 } }) do
    it("a 30 s sleep_until ends within 1 s of SIG" .. sig[1], function()
      local dir = t.tmpdir()
      local script = t.write(dir .. "/sleep.lua", [[
        local gt = require "gt"
        local w = gt.clock.wall()
        io.stdout:write("sleeping\n"); io.stdout:flush()
        w:sleep_until(w:now() + 30e6)
        io.stdout:write("not interrupted\n")
      ]])
      local m = gt.clock.monotonic()
      local t0 = m:now()
      -- timeout sends one signal after 1 s (as sigint.sh does)
      local out, err, code = t.sh(("timeout --preserve-status -k 10 -s %s 1 %s %s"):format(
        sig[1], t.quote(t.gtengine), t.quote(script)))
      local secs = (m:now() - t0) / 1e6
      os.execute("rm -rf " .. t.quote(dir))
      assert.equal(sig[2], code, err)
      assert.equal("sleeping\n", out)
      -- the sleep itself stopped: the host's 2 s watchdog did not have to end the process
      assert.is_nil(err:find("still running", 1, true), err)
      assert.matches("interrupted", err, 1, true)
      assert.is_true(secs < 2.0, ("took %.2f s"):format(secs))
    end)
  end
end)

describe("gt.calendar", function()
  local cal = gt.calendar.get("us_equity")
  local function fmt(x) return x and gt.time.format(x, false) end

  -- The NYSE's published holiday schedules (nyse.com/markets/hours-calendars).
  local PUBLISHED = {
    [2021] = { "2021-01-01", "2021-01-18", "2021-02-15", "2021-04-02", "2021-05-31", "2021-07-05",
      "2021-09-06", "2021-11-25", "2021-12-24" },
    -- New Year's Day 2022 was a Saturday: not made up (the market was open 2021-12-31)
    [2022] = { "2022-01-17", "2022-02-21", "2022-04-15", "2022-05-30", "2022-06-20", "2022-07-04",
      "2022-09-05", "2022-11-24", "2022-12-26" },
    [2023] = { "2023-01-02", "2023-01-16", "2023-02-20", "2023-04-07", "2023-05-29", "2023-06-19",
      "2023-07-04", "2023-09-04", "2023-11-23", "2023-12-25" },
    [2024] = { "2024-01-01", "2024-01-15", "2024-02-19", "2024-03-29", "2024-05-27", "2024-06-19",
      "2024-07-04", "2024-09-02", "2024-11-28", "2024-12-25" },
    -- 2025-01-09 (national day of mourning for President Carter) was a special closure, not a
    -- rule: left out here and not in the calendar.
    [2025] = { "2025-01-01", "2025-01-20", "2025-02-17", "2025-04-18", "2025-05-26", "2025-06-19",
      "2025-07-04", "2025-09-01", "2025-11-27", "2025-12-25" },
    [2026] = { "2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25", "2026-06-19",
      "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25" },
  }
  -- Early closes at 13:00 New York time.
  local EARLY = {
    [2024] = { "2024-07-03", "2024-11-29", "2024-12-24" },
    [2025] = { "2025-07-03", "2025-11-28", "2025-12-24" },
    [2026] = { "2026-11-27", "2026-12-24" },
  }

  it("is closed on exactly the published holidays (every weekday checked)", function()
    for year, want in pairs(PUBLISHED) do
      local closed = {}
      for d = P(year .. "-01-01"), P((year + 1) .. "-01-01") - 1, gt.time.DAY do
        local wd = require("gt.ffi").C.gt_weekday(d)
        local noon = d + 17 * HOUR -- 12:00 or 13:00 in New York
        if wd < 5 and not cal:is_trading_day(noon) then closed[#closed + 1] = gt.time.format(d) end
        if wd >= 5 then assert.is_false(cal:is_trading_day(noon), gt.time.format(d)) end
      end
      assert.same(want, closed)
      assert.same(want, cal:holidays(year))
    end
  end)

  it("closes early at 13:00 New York time on the published days", function()
    for year, want in pairs(EARLY) do
      assert.same(want, cal:early_closes(year))
    end
    local o, c = cal:session("2025-11-28T15:00:00Z")
    assert.equal("2025-11-28T14:30:00Z", fmt(o))
    assert.equal("2025-11-28T18:00:00Z", fmt(c)) -- 13:00 EST
    assert.is_true(cal:is_open(P("2025-11-28T18:00:00Z") - 1))
    assert.is_false(cal:is_open("2025-11-28T18:00:00Z"))
    assert.equal("2025-07-03T17:00:00Z", fmt(select(2, cal:session("2025-07-03T15:00:00Z")))) -- 13:00 EDT
    -- a normal day: 16:00 EST
    assert.equal("2025-12-23T21:00:00Z", fmt(select(2, cal:session("2025-12-23T15:00:00Z"))))
  end)

  it("follows US daylight saving time without a tz database", function()
    -- Friday before and Monday after 2025-03-09 (clocks forward): 09:30 EST then EDT
    assert.equal("2025-03-07T14:30:00Z", fmt((cal:session("2025-03-07T15:00:00Z"))))
    assert.equal("2025-03-10T13:30:00Z", fmt((cal:session("2025-03-10T15:00:00Z"))))
    assert.is_true(cal:is_open("2025-03-10T13:30:00Z"))
    assert.is_false(cal:is_open("2025-03-07T14:29:59Z"))
    assert.is_true(cal:is_open("2025-03-07T14:30:00Z"))
    -- Friday before and Monday after 2025-11-02 (clocks back)
    assert.equal("2025-10-31T13:30:00Z", fmt((cal:session("2025-10-31T15:00:00Z"))))
    assert.equal("2025-11-03T14:30:00Z", fmt((cal:session("2025-11-03T15:00:00Z"))))
    assert.is_false(cal:is_open("2025-11-03T14:00:00Z"))
    -- the switch instants: 02:00 local = 07:00 UTC in March, 06:00 UTC in November
    assert.equal(-5 * HOUR, cal:utc_offset(P("2025-03-09T07:00:00Z") - 1))
    assert.equal(-4 * HOUR, cal:utc_offset("2025-03-09T07:00:00Z"))
    assert.equal(-4 * HOUR, cal:utc_offset(P("2025-11-02T06:00:00Z") - 1))
    assert.equal(-5 * HOUR, cal:utc_offset("2025-11-02T06:00:00Z"))
    assert.equal(-4 * HOUR, cal:utc_offset("2024-03-10T07:00:00Z")) -- 2024: March 10
    assert.equal(-5 * HOUR, cal:utc_offset("2026-03-08T06:59:59Z")) -- 2026: March 8
    assert.equal(-4 * HOUR, cal:utc_offset("2026-03-08T07:00:00Z"))
    -- a UTC time after midnight belongs to the New York day before
    assert.equal("2025-03-10T13:30:00Z", fmt((cal:session("2025-03-11T03:30:00Z")))) -- 23:30 EDT
    assert.equal("2025-11-03T14:30:00Z", fmt((cal:session("2025-11-04T04:30:00Z")))) -- 23:30 EST
    assert.equal("2025-11-04T14:30:00Z", fmt((cal:session("2025-11-04T05:00:00Z")))) -- 00:00 EST
  end)

  it("weekends are closed; next_open and next_close skip them and holidays", function()
    assert.is_nil(cal:session("2025-03-08T15:00:00Z"))
    assert.is_false(cal:is_open("2025-03-09T15:00:00Z"))
    assert.is_false(cal:is_trading_day("2025-03-09T15:00:00Z"))
    assert.equal("2025-03-10T13:30:00Z", fmt(cal:next_open("2025-03-08T15:00:00Z")))
    assert.equal("2025-03-10T20:00:00Z", fmt(cal:next_close("2025-03-08T15:00:00Z")))
    -- Wednesday evening before Thanksgiving: Thursday closed, Friday closes early
    assert.equal("2025-11-28T14:30:00Z", fmt(cal:next_open("2025-11-26T22:00:00Z")))
    assert.equal("2025-11-28T18:00:00Z", fmt(cal:next_close("2025-11-26T22:00:00Z")))
    -- during a session: the close is today's, the next open tomorrow's
    assert.equal("2025-06-02T20:00:00Z", fmt(cal:next_close("2025-06-02T15:00:00Z")))
    assert.equal("2025-06-03T13:30:00Z", fmt(cal:next_open("2025-06-02T15:00:00Z")))
    -- before the open: today's open
    assert.equal("2025-06-02T13:30:00Z", fmt(cal:next_open("2025-06-02T10:00:00Z")))
    -- at the exact open: open now, the next open is tomorrow's
    assert.is_true(cal:is_open("2025-06-02T13:30:00Z"))
    assert.equal("2025-06-03T13:30:00Z", fmt(cal:next_open("2025-06-02T13:30:00Z")))
    -- Friday after the close, before a Monday holiday: Tuesday
    assert.equal("2025-05-27T13:30:00Z", fmt(cal:next_open("2025-05-23T21:00:00Z")))
    -- a holiday in the week
    assert.is_false(cal:is_open("2025-07-04T15:00:00Z"))
    assert.is_nil(cal:session("2025-07-04T15:00:00Z"))
  end)

  it("computes Easter by the Gregorian computus", function()
    local known = { [2019] = "2019-04-21", [2024] = "2024-03-31", [2025] = "2025-04-20",
      [2026] = "2026-04-05", [2038] = "2038-04-25", [2285] = "2285-03-22", [2000] = "2000-04-23" }
    for y, want in pairs(known) do
      assert.equal(want, gt.time.format(gt.calendar.easter(y) * gt.time.DAY))
    end
  end)

  it("crypto and always never close", function()
    for _, name in ipairs({ "crypto", "always" }) do
      local c = gt.calendar.get(name)
      for _, ts in ipairs({ "2025-12-25T12:00:00Z", "2025-03-08T03:00:00Z", "2025-03-09T07:00:00Z",
        "2024-01-01T00:00:00Z" }) do
        assert.is_true(c:is_open(ts), name .. " " .. ts)
        assert.is_true(c:is_trading_day(ts))
      end
      assert.is_nil(c:next_close("2025-01-01"))
      assert.is_nil(c:next_open("2025-01-01"))
      assert.same({}, c:holidays(2025))
    end
  end)

  it("names the known calendars when asked for another", function()
    assert.equal(cal, gt.calendar.get("us_equity"))
    assert.has_error(function() gt.calendar.get("nyse") end,
      'gt.calendar: unknown calendar "nyse"; known: always, crypto, us_equity')
    assert.has_error(function() gt.calendar.get() end,
      "gt.calendar: unknown calendar nil; known: always, crypto, us_equity")
    assert.has_error(function() cal:is_open({}) end)
  end)
end)
