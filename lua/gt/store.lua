-- gt.store: the SQLite bar store (engine/store.c) from Lua.
--   local db = assert(store.open("gt.db"))
--   db:put(s, { symbol = "AAPL", timeframe = "1d", source = "csv:aapl.csv" }) --> bars written
--   local s = db:load { symbol = "AAPL", timeframe = "1d", start = t0, stop = t1 }
-- Timestamps are Lua numbers (epoch microseconds UTC); a range is start <= ts < stop and
-- either bound may be left out. Misuse raises; a database or data problem returns nil, err.
-- A handle must not be used across fork(): a worker process opens its own.
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local series = require "gt.series"
local C = gtffi.C

local config = require "gt.config"

local M = { DEFAULT_PATH = config.DEFAULT_DB, SCHEMA_VERSION = tonumber(C.GT_STORE_SCHEMA_VERSION) }
local Store = {}
Store.__index = Store
M.Store = Store

local GT_ENOTFOUND = C.GT_ENOTFOUND

-- A failed call, by gt.ffi's one rule: misuse raises at the caller of the method, anything
-- else (SQLite, bad data, interrupt) is returned as nil, message.
local function fail(rc)
  local _, msg = gtffi.result(rc, 3)
  return nil, msg
end

local function handle(self)
  local h = self._h
  if h == nil then error("store: the database " .. tostring(self.path) .. " is closed", 3) end
  return h
end

local function check_time(name, v)
  if v == nil then return end
  if type(v) ~= "number" or v ~= v or v % 1 ~= 0 or math.abs(v) >= 2 ^ 63 then
    error(("store: %s must be integer microseconds, got %s"):format(name, tostring(v)), 4)
  end
end

-- start, stop and the bounds bits for C.
local function bounds(q)
  check_time("start", q.start)
  check_time("stop", q.stop)
  local b = 0
  if q.start ~= nil then b = b + C.GT_STORE_START end
  if q.stop ~= nil then b = b + C.GT_STORE_STOP end
  return q.start or 0, q.stop or 0, b
end

local function key(q, what)
  if type(q) ~= "table" then error(("store:%s: expected a table {symbol=, timeframe=}"):format(what), 3) end
  if type(q.symbol) ~= "string" then error(("store:%s: symbol must be a string"):format(what), 3) end
  if type(q.timeframe) ~= "string" then error(("store:%s: timeframe must be a string"):format(what), 3) end
  return q.symbol, q.timeframe
end

-- Opens (creating and migrating as needed) the database at path; without one, the path
-- gt.config resolves ($GT_DB, else gt.db).
function M.open(path)
  if path ~= nil and type(path) ~= "string" then error("store.open: path must be a string", 2) end
  path = config.db_path(path)
  local out = ffi.new("gt_store *[1]")
  local rc = C.gt_store_open(path, out)
  if rc ~= 0 then return nil, gtffi.errmsg(rc) end
  return setmetatable({ _h = ffi.gc(out[0], C.gt_store_close), path = path }, Store)
end

-- Safe to call more than once; any other method raises afterwards.
function Store:close()
  local h = self._h
  if h ~= nil then
    self._h = nil
    C.gt_store_close(ffi.gc(h, nil))
  end
end

-- The database's schema version (PRAGMA user_version).
function Store:version()
  local v = C.gt_store_version(handle(self))
  if v < 0 then return fail(v) end
  return v
end

-- Milliseconds a call waits for a database another connection has locked (default 5000).
function Store:busy_timeout(ms)
  if type(ms) ~= "number" or ms < 0 then error("store:busy_timeout: ms must be a number >= 0", 2) end
  gtffi.check(C.gt_store_set_busy_timeout(handle(self), ms), 2)
  return self
end

-- Writes every bar of s (a gt.series) in one transaction, keep-last on an existing
-- timestamp. symbol and timeframe default to the series' own. On an invalid bar nothing
-- is written and the message names the bar. Returns the number of bars written.
function Store:put(s, opts)
  local h = handle(self)
  opts = opts or {}
  if type(opts) ~= "table" then error("store:put: options must be a table", 2) end
  local c = type(s) == "table" and s._c or s
  if type(c) ~= "cdata" then error("store:put: expected a series", 2) end
  local q = {
    symbol = opts.symbol or (type(s) == "table" and s.symbol or nil),
    timeframe = opts.timeframe or (type(s) == "table" and s.timeframe or nil),
  }
  key(q, "put")
  if opts.source ~= nil and type(opts.source) ~= "string" then
    error("store:put: source must be a string", 2)
  end
  local n = C.gt_store_put(h, q.symbol, q.timeframe, opts.source, c)
  if n < 0 then return fail(tonumber(n)) end
  return tonumber(n)
end

local function describe_range(q)
  if q.start == nil and q.stop == nil then return "" end
  local function t(v)
    if v == nil then return "" end
    local buf = ffi.new("char[40]")
    C.gt_time_format(v, 0, buf, 40)
    return ffi.string(buf)
  end
  return (" in [%s, %s)"):format(t(q.start), t(q.stop))
end

-- {symbol=, timeframe=, start=, stop=} -> a gt.series, or nil, err when nothing is stored.
function Store:load(q)
  local h = handle(self)
  local symbol, timeframe = key(q, "load")
  local start, stop, b = bounds(q)
  local out = ffi.new("gt_series *[1]")
  local n = C.gt_store_load(h, symbol, timeframe, start, stop, b, out)
  if n < 0 then return fail(tonumber(n)) end
  if n == 0 then
    C.gt_series_free(out[0])
    return nil, ("store %s: no %s %s bars stored%s"):format(self.path, symbol, timeframe, describe_range(q))
  end
  return series.wrap(out[0], { symbol = symbol, timeframe = timeframe })
end

-- What is stored for (symbol, timeframe) in the optional range: first, last (timestamps)
-- and count, or nil, err when nothing is. The fetch path asks only for the rest.
function Store:range(symbol, timeframe, start, stop)
  local h = handle(self)
  local q = { symbol = symbol, timeframe = timeframe, start = start, stop = stop }
  key(q, "range")
  local s0, s1, b = bounds(q)
  local out = ffi.new("int64_t[2]")
  local n = C.gt_store_range(h, symbol, timeframe, s0, s1, b, out, out + 1)
  if n < 0 then return fail(tonumber(n)) end
  if n == 0 then
    return nil, ("store %s: no %s %s bars stored%s"):format(self.path, symbol, timeframe, describe_range(q))
  end
  return tonumber(out[0]), tonumber(out[1]), tonumber(n)
end

-- {symbol=, timeframe=, start=, stop=} -> number of bars deleted (no bounds: all of them).
function Store:delete(q)
  local h = handle(self)
  local symbol, timeframe = key(q, "delete")
  local start, stop, b = bounds(q)
  local n = C.gt_store_delete(h, symbol, timeframe, start, stop, b)
  if n < 0 then return fail(tonumber(n)) end
  return tonumber(n)
end

-- Everything stored: { {symbol=, timeframe=, count=, first=, last=}, ... } ordered by
-- symbol then timeframe. All numbers are Lua numbers.
function Store:list()
  local h = handle(self)
  local out = ffi.new("gt_store_list *[1]")
  local n = C.gt_store_symbols(h, out)
  if n < 0 then return fail(tonumber(n)) end
  local l = ffi.gc(out[0], C.gt_store_list_free)
  local rows = {}
  for i = 0, tonumber(n) - 1 do
    local e = C.gt_store_list_at(l, i)
    rows[i + 1] = {
      symbol = ffi.string(e.symbol), timeframe = ffi.string(e.timeframe),
      count = tonumber(e.count), first = tonumber(e.first), last = tonumber(e.last),
    }
  end
  C.gt_store_list_free(ffi.gc(l, nil))
  return rows
end

-- Saves a backtest run (gt.backtest's Result:save builds rec): m gt_trade records and np
-- gt_run_point chart points, in one transaction. Returns the run id.
function Store:save_run(rec, trades, m, points, np)
  local id = C.gt_store_save_run(handle(self), rec, trades, m, points, np)
  if id < 0 then return fail(tonumber(id)) end
  return tonumber(id)
end

-- The full equity curve of a run saved before schema 4, as a checked array (gt.array) and
-- its length.
function Store:run_equity(id)
  local n = C.gt_store_run_equity(handle(self), id, nil, 0)
  if n < 0 then return fail(tonumber(n)) end
  local out = require("gt.series").array(tonumber(n))
  C.gt_store_run_equity(handle(self), id, out.p, n)
  return out, tonumber(n)
end

-- A run's chart points (schema 4) as a gt_run_point array and its length; nil, err for
-- a run saved before.
function Store:run_points(id)
  local h = handle(self)
  local n = C.gt_store_run_points(h, id, nil, 0)
  if n < 0 then return fail(tonumber(n)) end
  local out = ffi.new("gt_run_point[?]", math.max(tonumber(n), 1))
  C.gt_store_run_points(h, id, out, n)
  return out, tonumber(n)
end

-- The newest run id (0 when none).
function Store:last_run()
  local id = C.gt_store_last_run(handle(self))
  if id < 0 then return fail(tonumber(id)) end
  return tonumber(id)
end

local TEXT_COLS = { "strategy", "symbol", "timeframe", "params", "options", "stats", "data_hash", "chart" }
local INT_COLS = { "created_at", "first_ts", "last_ts", "bars" }

-- A saved run as stored: {id=, strategy=, symbol=, timeframe=, params=, options=, stats=
-- (JSON text), data_hash=, created_at=, first_ts=, last_ts=, bars= (numbers), trades =
-- gt_trade array, m =, and points = gt_run_point array, np = (schema 4) or equity = double
-- array, n = (runs saved before)}.
function Store:run(id)
  local h = handle(self)
  id = id or self:last_run()
  local r = { id = id }
  local function col(name)
    local len = C.gt_store_run_text(h, id, name, nil, 0)
    if len < 0 then return fail(tonumber(len)) end
    local buf = ffi.new("char[?]", tonumber(len) + 1)
    C.gt_store_run_text(h, id, name, buf, len + 1)
    return ffi.string(buf, len)
  end
  for _, name in ipairs(TEXT_COLS) do
    local v, err = col(name)
    if not v then return nil, err end
    r[name] = v
  end
  for _, name in ipairs(INT_COLS) do
    local v, err = col(name)
    if not v then return nil, err end
    r[name] = tonumber(v)
  end
  local m = tonumber(C.gt_store_run_trades(h, id, nil, 0))
  if m < 0 then return fail(m) end
  r.trades = ffi.new("gt_trade[?]", math.max(m, 1))
  C.gt_store_run_trades(h, id, r.trades, m)
  r.m = m
  if C.gt_store_run_points(h, id, nil, 0) ~= GT_ENOTFOUND then
    local pts, np = self:run_points(id)
    if not pts then return nil, np end
    r.points, r.np = pts, np
  else -- saved before schema 4: the whole equity curve
    local eq, n = self:run_equity(id)
    if not eq then return nil, n end
    r.equity, r.n = eq, n
  end
  return r
end

-- A saved run reopened as a backtest result for gt.report and Result:summary-like output:
-- {run_id, strategy, symbol, symbols, timeframe, params, options, stats, stats_fields, n, ts,
-- close, equity, drawdown, benchmark_equity, trades (tables as Result.trades), m, _trades,
-- points, np, created_at, data_hash}. The columns have n entries: the stored points' values,
-- NaN between them and ts carried forward, which is what gt.report reads (bars_used).
-- A run saved before schema 4 has no price data: nil, err.
function Store:result(id)
  local r, err = self:run(id)
  if not r then return nil, err end
  if not r.points then
    return nil, ("store %s: run %d was saved before schema 4 with no chart data; run the "
      .. "backtest again to get its report"):format(self.path, r.id)
  end
  local json = require "gt.json"
  local function decode(name)
    local v, derr = json.decode(r[name])
    if type(v) ~= "table" then
      return nil, ("store %s: run %d: the %s column is not a JSON object (%s)"):format(self.path,
        r.id, name, tostring(derr or v))
    end
    return v
  end
  local params, options, stats, derr
  params, derr = decode("params"); if not params then return nil, derr end
  options, derr = decode("options"); if not options then return nil, derr end
  stats, derr = decode("stats"); if not stats then return nil, derr end
  local metrics = require "gt.metrics"
  -- NaN statistics are stored as null, which JSON decoding drops: they come back as NaN
  for _, f in ipairs(metrics.FIELDS) do
    if stats[f.key] == nil then stats[f.key] = 0 / 0 end
  end
  local n = r.bars
  local nan = 0 / 0
  -- checked arrays: a reopened run reads no further than its bars
  local gs = require "gt.series"
  local ts = gs.i64(n)
  local close, equity, dd, bench = gs.array(n, nan), gs.array(n, nan), gs.array(n, nan), gs.array(n, nan)
  local p, k, last = r.points, 0, r.first_ts
  for i = 0, n - 1 do
    if k < r.np and p[k].bar == i then
      local q = p[k]
      last = q.ts
      close[i], equity[i], dd[i], bench[i] = q.close, q.equity, q.drawdown, q.benchmark
      k = k + 1
    end
    ts[i] = last
  end
  local symbols = {}
  for name in (r.symbol .. ","):gmatch("([^,]*),") do symbols[#symbols + 1] = name end
  local trades = {}
  for i = 0, r.m - 1 do
    local t = r.trades[i]
    local exit_bar, entry_bar = tonumber(t.exit_bar), tonumber(t.entry_bar)
    trades[i + 1] = {
      entry_time = tonumber(t.entry_ts), entry_bar = entry_bar, entry_price = t.entry_price,
      exit_time = exit_bar >= 0 and tonumber(t.exit_ts) or nil, exit_bar = exit_bar,
      exit_price = t.exit_price, size = t.size, pnl = t.pnl, return_pct = t.return_pct, fees = t.fees,
      duration = exit_bar >= 0 and exit_bar - entry_bar or nil,
      symbol = symbols[tonumber(t.symbol) + 1],
    }
  end
  -- the further lines the report drew (other symbols' closes, indicator lines) at the same bars
  local list, overlays, risk, tier
  local ctext = r.chart
  if ctext and ctext ~= "" then
    local chart = json.decode(ctext)
    if type(chart) ~= "table" or type(chart.lines) ~= "table" then
      return nil, ("store %s: run %d: the chart column is not the JSON gtengine writes"):format(self.path, r.id)
    end
    risk, tier = chart.risk, chart.tier
    for _, l in ipairs(chart.lines) do
      local v = gs.array(n, nan)
      for k = 0, r.np - 1 do
        local x = type(l.values) == "table" and l.values[k + 1]
        v[tonumber(p[k].bar)] = type(x) == "number" and x or nan
      end
      if l.key == "ind" then
        overlays = overlays or {}
        overlays[l.panel] = overlays[l.panel] or {}
        table.insert(overlays[l.panel], { name = l.name, values = v })
      else
        list = list or { { close = close } }
        list[l.panel] = { close = v }
      end
    end
  end
  return { run_id = r.id, strategy = r.strategy, symbol = r.symbol, symbols = symbols, list = list,
    overlays = overlays, risk = risk, tier = tier,
    timeframe = r.timeframe ~= "" and r.timeframe or nil, params = params, options = options,
    stats = stats, stats_fields = metrics.FIELDS, n = n, ts = ts, close = close, equity = equity,
    drawdown = dd, benchmark_equity = bench, trades = trades, m = r.m, _trades = r.trades,
    points = r.points, np = r.np, created_at = r.created_at, data_hash = r.data_hash }
end

-- Records that [start, stop) has been fetched for symbol/timeframe.
function Store:cover(symbol, timeframe, start, stop)
  local rc = C.gt_store_cover_add(handle(self), symbol, timeframe, start, stop)
  if rc < 0 then return fail(rc) end
  return true
end

-- The parts of [start, stop) never fetched: { {start, stop}, ... } (numbers).
function Store:missing(symbol, timeframe, start, stop)
  local h = handle(self)
  local n = C.gt_store_cover_missing(h, symbol, timeframe, start, stop, nil, 0)
  if n < 0 then return fail(tonumber(n)) end
  n = tonumber(n)
  local buf = ffi.new("int64_t[?]", math.max(2 * n, 2))
  C.gt_store_cover_missing(h, symbol, timeframe, start, stop, buf, n)
  local out = {}
  for i = 0, n - 1 do out[i + 1] = { tonumber(buf[2 * i]), tonumber(buf[2 * i + 1]) } end
  return out
end

-- Control settings that outlive a process (the kill switch: key "halt", value its reason).
-- control(key) -> value or nil; set_control(key, value) (nil deletes) -> true.
function Store:control(key)
  local h = handle(self)
  local n = C.gt_store_control_get(h, key, nil, 0)
  if n == GT_ENOTFOUND then C.gt_clearerr(); return nil end
  if n < 0 then return fail(tonumber(n)) end
  local buf = ffi.new("char[?]", tonumber(n) + 1)
  C.gt_store_control_get(h, key, buf, n + 1)
  return ffi.string(buf, n)
end

function Store:set_control(key, value)
  local rc = C.gt_store_control_set(handle(self), key, value)
  if rc < 0 then return fail(rc) end
  return true
end

function Store:__tostring()
  return ("store %s%s"):format(self.path, self._h == nil and " (closed)" or "")
end

return M
