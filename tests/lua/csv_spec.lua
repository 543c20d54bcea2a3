-- gt.csv against ../shared/data (row counts and first/last timestamps from its README,
-- bar values from the raw text parsed by LuaJIT's own number reader) and against small
-- malformed files whose exact messages are asserted.
local csv = require "gt.csv"
local t = require "tests.lua.support"

-- Reference epoch microseconds for "YYYY-MM-DD[ |T]HH:MM:SS[.fff]", by counting days
-- (independent of datetime.c's algorithm).
local function leap(y) return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0 end
local function us(text)
  local y, mo, d, rest = text:match("^(%d%d%d%d)-(%d%d)-(%d%d)(.*)$")
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  local days = 0
  for yy = 1970, y - 1 do days = days + (leap(yy) and 366 or 365) end
  local ml = { 31, leap(y) and 29 or 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
  for m = 1, mo - 1 do days = days + ml[m] end
  days = days + d - 1
  local h, mi, s, frac = 0, 0, 0, 0
  if rest ~= "" then
    local f
    h, mi, s, f = rest:match("^[T ](%d%d):(%d%d):(%d%d)%.?(%d*)$")
    frac = f ~= "" and tonumber((f .. "000000"):sub(1, 6)) or 0
  end
  return ((days * 86400 + h * 3600 + mi * 60 + s) * 1e6) + frac
end

-- Column layouts as the README describes them (1-based fields of the raw rows).
local YAHOO = { ts = 1, o = 2, h = 3, l = 4, c = 5, v = 7 }
local BT = { ts = 1, o = 2, h = 3, l = 4, c = 5, v = 6 }
local BT_TIME = { ts = 1, time = 2, o = 3, h = 4, l = 5, c = 6, v = 7 }

-- The README table: file, data rows, first, last, layout, timeframe the spacing implies.
local FILES = {
  { "backtrader/2006-day-001.txt", 255, "2006-01-02", "2006-12-29", BT, "1d" },
  { "backtrader/2005-2006-day-001.txt", 512, "2005-01-03", "2006-12-29", BT, "1d" },
  { "backtrader/2006-day-001-optix.txt", 255, "2006-01-02", "2006-12-29", BT, "1d" },
  { "backtrader/2006-day-002.txt", 129, "2006-01-03", "2006-12-29", BT, false },
  { "backtrader/2006-week-001.txt", 52, "2006-01-06", "2006-12-29", BT, "1w" },
  { "backtrader/2006-week-002.txt", 26, "2006-01-13", "2006-12-29", BT, false },
  { "backtrader/2006-month-001.txt", 12, "2006-01-31", "2006-12-29", BT, "1mo" },
  { "backtrader/2006-volume-day-001.txt", 255, "2006-01-02", "2006-12-29", BT, "1d" },
  { "backtrader/2006-min-005.txt", 2142, "2006-01-02 09:05:00", "2006-01-30 17:30:00", BT_TIME, "5m" },
  { "backtrader/2006-01-02-volume-min-001.txt", 30889, "2006-01-02 09:01:00",
    "2006-02-27 22:00:00", BT_TIME, "1m" },
  { "backtrader/orcl-1995-2014.txt", 5036, "1995-01-03", "2014-12-31", YAHOO, "1d" },
  { "backtrader/orcl-2003-2005.txt", 756, "2003-01-02", "2005-12-30", YAHOO, "1d" },
  { "backtrader/orcl-2014.txt", 252, "2014-01-02", "2014-12-31", YAHOO, "1d" },
  { "backtrader/nvda-1999-2014.txt", 4012, "1999-01-22", "2014-12-31", YAHOO, "1d" },
  { "backtrader/nvda-2014.txt", 252, "2014-01-02", "2014-12-31", YAHOO, "1d" },
  { "backtrader/yhoo-1996-2014.txt", 4713, "1996-04-12", "2014-12-31", YAHOO, "1d" },
  { "backtrader/yhoo-1996-2015.txt", 4965, "1996-04-12", "2015-12-31", YAHOO, "1d" },
  { "backtrader/yhoo-2003-2005.txt", 756, "2003-01-02", "2005-12-30", YAHOO, "1d" },
  { "backtrader/yhoo-2014.txt", 252, "2014-01-02", "2014-12-31", YAHOO, "1d" },
  { "backtesting.py/GOOG.csv", 2148, "2004-08-19", "2013-03-01", BT, "1d" },
  { "backtesting.py/EURUSD.csv", 5000, "2017-04-19 09:00:00", "2018-02-07 15:00:00", BT, "1h" },
  { "backtesting.py/BTCUSD.csv", 156, "2012-01-31", "2024-12-31", BT, "1mo" },
}

local function lines_of(path)
  local out = {}
  for line in io.lines(path) do out[#out + 1] = (line:gsub("\r$", "")) end
  return out
end

local function fields(line)
  local out = {}
  for f in (line .. ","):gmatch("([^,]*),") do out[#out + 1] = f end
  return out
end

-- Bar i of s equals raw row `line` read with the given layout (bit for bit: == on doubles;
-- LuaJIT's tonumber rounds correctly, like strtod). Asserts only on a mismatch, to stay fast.
local function same_bar(s, i, line, lay)
  local f = fields(line)
  local ts = lay.time and us(f[lay.ts] .. " " .. f[lay.time]) or us(f[lay.ts])
  if ts ~= tonumber(s.ts[i]) or tonumber(f[lay.o]) ~= s.open[i] or tonumber(f[lay.h]) ~= s.high[i]
    or tonumber(f[lay.l]) ~= s.low[i] or tonumber(f[lay.c]) ~= s.close[i]
    or tonumber(f[lay.v]) ~= s.volume[i] then
    assert.same({ ts, tonumber(f[lay.o]), tonumber(f[lay.h]), tonumber(f[lay.l]),
      tonumber(f[lay.c]), tonumber(f[lay.v]) }, { tonumber(s.ts[i]), s.open[i], s.high[i],
      s.low[i], s.close[i], s.volume[i] }, "bar " .. i .. ": " .. line)
  end
end

describe("gt.csv on ../shared/data", function()
  for _, e in ipairs(FILES) do
    local rel, rows, first, last, lay, tf = e[1], e[2], e[3], e[4], e[5], e[6]
    it(("loads %s: %d rows, %s .. %s"):format(rel, rows, first, last), function()
      local path, why = t.shared_file("data/" .. rel)
      if not path then return pending(why) end
      local s, rep = csv.read(path)
      assert.is_truthy(s, rep)
      assert.equal(rows, s.n)
      assert.equal(rows, rep.rows)
      assert.equal(rows, rep.loaded)
      assert.equal(0, rep.skipped)
      assert.same({}, rep.errors)
      assert.equal(us(first), s:time(0))
      assert.equal(us(last), s:time(s.n - 1))
      local raw = lines_of(path)
      assert.equal(rows + 1, #raw, "one header line, then the rows")
      -- every bar against its raw row, bit for bit
      for i = 0, rows - 1 do same_bar(s, i, raw[i + 2], lay) end
      assert.equal(tf or nil, rep.timeframe)
      assert.equal(tf or nil, s.timeframe)
      assert.is_true(rep.inferred.timeframe)
      if not tf then
        assert.matches("timeframe not inferred: the median bar spacing", rep.notes[#rep.notes], 1, true)
      end
    end)
  end

  it("names the symbol after the file and says it inferred it", function()
    local path, why = t.shared_file("data/backtrader/orcl-1995-2014.txt")
    if not path then return pending(why) end
    local s, rep = csv.read(path)
    assert.equal("ORCL", s.symbol)
    assert.equal("ORCL", rep.symbol)
    assert.is_true(rep.inferred.symbol)
    s, rep = csv.read(path, { symbol = "oracle", timeframe = "1d" })
    assert.equal("oracle", s.symbol)
    assert.same({ symbol = false, timeframe = false }, rep.inferred)
    assert.equal("GOOG", csv.symbol_from_path("../shared/data/backtesting.py/GOOG.csv"))
    assert.equal("2006", csv.symbol_from_path("2006-day-001.txt"))
  end)

  it("reports the header, the mapping and the Yahoo columns; adjusts on request", function()
    local path, why = t.shared_file("data/backtrader/orcl-1995-2014.txt")
    if not path then return pending(why) end
    local s, rep = csv.read(path)
    assert.same({ "Date", "Open", "High", "Low", "Close", "Adj Close", "Volume" }, rep.columns)
    assert.same({ ts = 1, open = 2, high = 3, low = 4, close = 5, adj_close = 6, volume = 7 },
      rep.mapping)
    assert.equal("iso", rep.date_format)
    assert.is_false(rep.adjusted)
    assert.equal(2.117284, s.close[0]) -- raw close of 1995-01-03
    local a, arep = csv.read(path, { adjust = true })
    assert.is_true(arep.adjusted)
    -- first row: 2.179012,2.191358,2.117284,2.117284, Adj Close 1.883304
    local f = 1.883304 / 2.117284
    assert.equal(2.179012 * f, a.open[0])
    assert.equal(2.191358 * f, a.high[0])
    assert.equal(2.117284 * f, a.low[0])
    assert.near(1.883304, a.close[0], 1e-15)
    assert.equal(36301200, a.volume[0])
    assert.near(42.303135, a.close[a.n - 1], 1e-14) -- last Adj Close
  end)

  it("reads the optix file's extra columns as the same bars as 2006-day-001", function()
    local p1, why = t.shared_file("data/backtrader/2006-day-001.txt")
    local p2 = t.shared_file("data/backtrader/2006-day-001-optix.txt")
    if not (p1 and p2) then return pending(why) end
    local a, b = assert(csv.read(p1)), assert(csv.read(p2))
    assert.same(a:column("close"), b:column("close"))
    assert.same(a:column("ts"), b:column("ts"))
  end)

  it("repairs the 1-minute file whose header lacks the Time column, and says so", function()
    local path, why = t.shared_file("data/backtrader/2006-01-02-volume-min-001.txt")
    if not path then return pending(why) end
    local s, rep = csv.read(path)
    assert.equal(30889, s.n)
    assert.same({ "the header has 7 names but the rows have 8 fields and field 2 holds a time "
      .. "of day ('09:01:00'): read as Date,Time,Open,High,Low,Close,Volume,OpenInterest" },
      rep.notes)
    assert.same({ date = 1, time = 2, open = 3, high = 4, low = 5, close = 6, volume = 7 },
      rep.mapping)
    assert.equal(3602, s.open[0]); assert.equal(5699, s.volume[0])
  end)

  it("refuses ticksample.csv's duplicate millisecond, and skips it on request", function()
    local path, why = t.shared_file("data/backtrader/ticksample.csv")
    if not path then return pending(why) end
    local s, err = csv.read(path)
    assert.is_nil(s)
    assert.equal(path .. ":24: field 'timestamp': duplicate timestamp", err)
    local rep
    s, rep = csv.read(path, { on_error = "skip" })
    assert.equal(135, rep.rows)
    assert.equal(134, rep.loaded)
    assert.equal(1, rep.skipped)
    assert.same({ { line = 24, reason = "field 'timestamp': duplicate timestamp" } }, rep.errors)
    assert.equal(us("2015-09-23T20:57:42.146"), s:time(0))
    assert.equal(us("2015-09-23T21:00:00.238"), s:time(s.n - 1))
    assert.equal(3067, s.close[0])
    assert.is_nil(rep.timeframe) -- ticks have no bar timeframe
  end)

  it("refuses the bid/ask quote files with what is missing and what to do", function()
    local p1, why = t.shared_file("data/backtrader/bidask.csv")
    local p2 = t.shared_file("data/backtrader/bidask2.csv")
    if not (p1 and p2) then return pending(why) end
    local s, err = csv.read(p1)
    assert.is_nil(s)
    assert.equal(p1 .. ":1: not an OHLCV header: no open, high, low, close column in "
      .. "'TIMESTAMP,BID,ASK'; map them explicitly (columns = {ts=, open=, high=, low=, close=, "
      .. "volume=} by name or index)", err)
    s, err = csv.read(p2)
    assert.is_nil(s)
    assert.matches(p2 .. ":1: not an OHLCV header: no open, high, low, close column in "
      .. "'TimeStamp,cross,", err, 1, true)
    -- mapped, the dates are still ambiguous
    local cols = { ts = "TIMESTAMP", open = "BID", high = "ASK", low = "BID", close = "BID" }
    s, err = csv.read(p1, { columns = cols })
    assert.is_nil(s)
    assert.equal(p1 .. ":2: field 'timestamp': date '02/03/2010 16:53:50' is ambiguous "
      .. "(day/month order); set date_format = \"dmy\" or \"mdy\"", err)
    -- with a date order, the rows are read; the README misses a repeated second (line 7)
    s, err = csv.read(p1, { columns = cols, date_format = "mdy" })
    assert.is_nil(s)
    assert.equal(p1 .. ":7: field 'timestamp': duplicate timestamp", err)
    local rep
    s, rep = csv.read(p1, { columns = cols, date_format = "mdy", on_error = "skip" })
    assert.equal(9, s.n)
    assert.equal(10, rep.rows)
    assert.same({ { line = 7, reason = "field 'timestamp': duplicate timestamp" } }, rep.errors)
    assert.equal("mdy", rep.date_format)
    assert.equal(us("2010-02-03 16:53:50"), s:time(0))
    assert.equal(us("2010-02-03 16:53:59"), s:time(8))
    assert.equal(0.5346, s.open[0]); assert.equal(0.5347, s.high[0]); assert.equal(0, s.volume[0])
    s = csv.read(p1, { columns = cols, date_format = "dmy", on_error = "skip" })
    assert.equal(us("2010-03-02 16:53:50"), s:time(0))
    -- bidask2: 7 header names, 8 fields; by field number (offer is field 6, vol offer 8)
    s, rep = csv.read(p2, { date_format = "dmy", columns = { date = 1, time = 2, open = 6,
      high = 6, low = 6, close = 6, volume = 8 } })
    assert.is_truthy(s, rep)
    assert.equal(10, s.n)
    assert.equal(us("2016-03-01 23:43:11"), s:time(0))
    assert.equal(us("2016-03-01 23:54:27"), s:time(9))
    assert.equal(130.52, s.close[0]); assert.equal(130.47, s.close[9])
    assert.equal(1000000, s.volume[0]); assert.equal(900000, s.volume[9])
    assert.same({ "the header has 7 names but line 2 has 8 fields; the explicit column indices "
      .. "count fields, so rows must have 8" }, { rep.notes[1] })
  end)
end)

-- A small clean file and one bad row (line 3) per case.
local HEAD = "Date,Open,High,Low,Close,Volume\n"
local R1 = "2020-01-01,10,11,9,10.5,100\n"
local R3 = "2020-01-03,11,11.5,10.5,11.2,300\n"
local CASES = {
  { "a non-numeric field", "2020-01-02,10.5,12,10,abc,200", "field 'close': not a number: 'abc'" },
  { "an empty field", "2020-01-02,,12,10,11,200", "field 'open': empty" },
  { "NaN", "2020-01-02,10.5,NaN,10,11,200", "field 'high': not a number: 'NaN'" },
  { "an infinite value", "2020-01-02,10.5,1e999,10,11,200",
    "field 'high': price or volume is NaN or infinite" },
  { "Inf spelled out", "2020-01-02,10.5,12,inf,11,200", "field 'low': not a number: 'inf'" },
  { "a zero price", "2020-01-02,10.5,12,0,11,200", "field 'low': price is zero or negative" },
  { "a negative price", "2020-01-02,-10.5,12,-11,11,200", "field 'open': price is zero or negative" },
  { "a subnormal price", "2020-01-02,10.5,12,1e-320,11,200",
    "field 'low': price is too small to be a price (subnormal, below 2.2e-308)" },
  { "a negative volume", "2020-01-02,10.5,12,10,11,-200", "field 'volume': volume is negative" },
  { "high below max(o,c,l)", "2020-01-02,10.5,10.8,10,11,200",
    "field 'high': high is below max(open, close, low)" },
  { "low above min(o,c,h)", "2020-01-02,10.5,12,10.7,11,200",
    "field 'low': low is above min(open, close, high)" },
  { "a duplicate timestamp", "2020-01-01,10.5,12,10,11,200", "field 'timestamp': duplicate timestamp" },
  { "an out-of-order timestamp", "2019-12-31,10.5,12,10,11,200",
    "field 'timestamp': timestamp out of order (earlier than the previous bar)" },
  { "a missing field", "2020-01-02,10.5,12,10,11", "wrong field count: 5 fields, expected 6" },
  { "an extra field", "2020-01-02,10.5,12,10,11,200,7", "wrong field count: 7 fields, expected 6" },
  { "a date that does not exist", "2020-02-30,10.5,12,10,11,200",
    "field 'timestamp': bad timestamp '2020-02-30': no such date" },
  { "a date in another format", "01/02/2020,10.5,12,10,11,200",
    "field 'timestamp': bad timestamp '01/02/2020': expected YYYY-MM-DD" },
  { "an empty date", ",10.5,12,10,11,200", "field 'timestamp': empty" },
  { "an unterminated quote", "2020-01-02,\"10.5,12,10,11,200", "unterminated quote" },
}

describe("gt.csv on malformed input", function()
  local dir
  setup(function() dir = t.tmpdir() end)
  teardown(function() os.execute("rm -rf " .. t.quote(dir)) end)

  for i, case in ipairs(CASES) do
    local label, bad, reason = case[1], case[2], case[3]
    it("fails on " .. label .. " with file:line: reason, returning nothing", function()
      local path = t.write(("%s/bad%d.csv"):format(dir, i), HEAD .. R1 .. bad .. "\n" .. R3)
      local s, err = csv.read(path)
      assert.is_nil(s)
      assert.equal(path .. ":3: " .. reason, err)
    end)
    it("skips " .. label .. " on request and lists it", function()
      local path = t.write(("%s/skip%d.csv"):format(dir, i), HEAD .. R1 .. bad .. "\n" .. R3)
      local s, rep = csv.read(path, { on_error = "skip" })
      assert.equal(2, s.n)
      assert.equal(3, rep.rows)
      assert.equal(2, rep.loaded)
      assert.equal(1, rep.skipped)
      assert.same({ { line = 3, reason = reason } }, rep.errors)
      assert.equal(us("2020-01-01"), s:time(0))
      assert.equal(us("2020-01-03"), s:time(1))
      assert.equal(11.2, s.close[1])
    end)
  end

  it("lists every skipped line of a file with many problems, with counts", function()
    local text = HEAD .. R1
    for _, case in ipairs(CASES) do text = text .. case[2] .. "\n" end
    text = text .. R3
    local s, rep = csv.parse(text, "many.csv", { on_error = "skip" })
    assert.equal(2, s.n)
    assert.equal(#CASES + 2, rep.rows)
    assert.equal(#CASES, rep.skipped)
    for i, case in ipairs(CASES) do
      assert.same({ line = i + 2, reason = case[3] }, rep.errors[i])
    end
    local _, err = csv.parse(text, "many.csv")
    assert.equal("many.csv:3: " .. CASES[1][3], err)
  end)

  it("handles CRLF, a BOM and a missing final newline", function()
    local s, rep = csv.parse("\239\187\191Date,Open,High,Low,Close,Volume\r\n"
      .. "2020-01-01,10,11,9,10.5,100\r\n2020-01-02,10.5,12,10,11,200", "crlf.csv")
    assert.equal(2, s.n)
    assert.equal("Date", rep.columns[1])
    assert.equal(200, s.volume[1])
    assert.equal(us("2020-01-02"), s:time(1))
  end)

  it("refuses an empty file and a header without rows", function()
    local p = t.write(dir .. "/empty.csv", "")
    local s, err = csv.read(p)
    assert.is_nil(s); assert.equal(p .. ": empty file", err)
    p = t.write(dir .. "/head.csv", HEAD)
    s, err = csv.read(p)
    assert.is_nil(s); assert.equal(p .. ":1: header only, no data rows", err)
    s, err = csv.read(p, { on_error = "skip" })
    assert.is_nil(s); assert.equal(p .. ":1: header only, no data rows", err)
    s, err = csv.read(dir .. "/missing.csv")
    assert.is_nil(s); assert.equal(dir .. "/missing.csv: No such file or directory", err)
  end)

  it("reads epoch seconds and milliseconds, YYYYMMDD and separate date/time", function()
    local s, rep = csv.parse("time,open,high,low,close\n1577836800,1,2,0.5,1.5\n"
      .. "1577836860,1,2,0.5,1.5\n", "e.csv")
    assert.equal("epoch_s", rep.date_format)
    assert.equal(us("2020-01-01 00:01:00"), s:time(1))
    assert.equal("1m", rep.timeframe)
    s, rep = csv.parse("Timestamp,Open,High,Low,Close\n1577836800000,1,2,0.5,1.5\n", "e.csv")
    assert.equal("epoch_ms", rep.date_format)
    assert.equal(us("2020-01-01"), s:time(0))
    s = csv.parse("DATE,OPEN,HIGH,LOW,CLOSE,VOL\n20200102,1,2,0.5,1.5,3\n", "y.csv")
    assert.equal(us("2020-01-02"), s:time(0)); assert.equal(3, s.volume[0])
    s = csv.parse("date,time,open,high,low,close\n2020-01-02,09:30:15.5,1,2,0.5,1.5\n", "dt.csv")
    assert.equal(us("2020-01-02 09:30:15.5"), s:time(0))
    s = csv.parse("d,x,o,h,l,c\n2020-01-02,?,1,2,0.5,1.5\n", "m.csv",
      { columns = { ts = "d", open = 3, high = "h", low = "l", close = "C" } })
    assert.equal(2, s.high[0])
  end)

  it("raises on misuse of the options", function()
    assert.has_error(function() csv.read(1) end, "gt.csv.read: path must be a string")
    assert.has_error(function() csv.read("x", { on_error = "ignore" }) end,
      "gt.csv.read: on_error must be \"fail\" or \"skip\", not \"ignore\"")
    assert.has_error(function() csv.read("x", { columns = { price = 1 } }) end,
      "gt.csv.read: columns: unknown key 'price' (ts, date, time, open, high, low, close, volume, adj_close)")
    assert.has_error(function() csv.read("x", { columns = { open = 0 } }) end,
      "gt.csv.read: columns.open: a field number counts from 1, got 0")
    assert.has_error(function() csv.read("x", { date_format = "dd/mm" }) end)
    assert.has_error(function() csv.read("x", { delimiter = "." }) end,
      "gt.csv.read: delimiter must be one character that cannot occur in a number, a date or a time")
    local s = csv.parse("a|b|c|d|e\n2020-01-01|1|2|0.5|1.5\n", "pipe.csv", { delimiter = "|",
      columns = { ts = 1, open = 2, high = 3, low = 4, close = 5 } })
    assert.equal(1.5, s.close[0])
    assert.has_error(function() csv.read("x", { adjust = "yes" }) end,
      "gt.csv.read: adjust must be a boolean")
  end)
end)
