-- gt.series: a C-owned columnar series as seen from Lua. The columns are FFI arrays,
-- 0-based, lent without copying: `s.close[i]`, `s.ts[i]` (int64), `s.n` (a number).
-- Bars are indexed 0 .. n-1 everywhere. slice/between make views that share memory.
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C

local M = {}
local Series = {}
Series.__index = Series
M.Series = Series

local COLUMNS = { "ts", "open", "high", "low", "close", "volume" }
M.COLUMNS = COLUMNS

-- Column pointer -> the series it belongs to, so gt.ind.sma(s.close, 30) knows the length
-- of a bare column. Weak values: a collected series drops out. A column address that two
-- live series of different lengths share (a view starting at bar 0) is ambiguous and gets
-- no length: the caller then passes n.
local owners = setmetatable({}, { __mode = "v" })
local ambiguous = {}
local function addr(p) return tonumber(ffi.cast("uintptr_t", p)) end

local function register(s)
  local c = s._c
  for _, name in ipairs(COLUMNS) do
    local a = addr(c[name])
    if a ~= 0 then
      local prev = owners[a]
      if prev and prev ~= s and not prev._freed and prev.n ~= s.n then ambiguous[a] = true end
      owners[a] = s
    end
  end
end

-- The number of bars behind a column pointer of a live series, or nil.
function M.column_length(p)
  if type(p) ~= "cdata" then return nil end
  local a = addr(p)
  if ambiguous[a] then return nil end
  local s = owners[a]
  if not s or s._freed then return nil end
  return s.n
end

-- Caches the column pointers and length on the Lua object (one table lookup per use).
function Series:_sync()
  local c = self._c
  self.n = tonumber(c.n)
  self.ts, self.open, self.high, self.low, self.close, self.volume =
    c.ts, c.open, c.high, c.low, c.close, c.volume
  if self.n > 0 then register(self) end
  return self
end

-- Wraps a gt_series* from C. owned=true hands it to the GC (gt_series_free).
-- meta: {symbol=, timeframe=}.
function M.wrap(ptr, meta, owned)
  if ptr == nil then error("gt.series.wrap: NULL series", 2) end
  if owned ~= false then ptr = ffi.gc(ptr, C.gt_series_free) end
  local s = setmetatable({ _c = ptr }, Series)
  if meta then s.symbol, s.timeframe = meta.symbol, meta.timeframe end
  return s:_sync()
end

-- An empty series ready for :push.
function M.new(meta, cap)
  local p = C.gt_series_new(cap or 0)
  if p == nil then error(gtffi.errmsg(), 2) end
  return M.wrap(p, meta, true)
end

-- From Lua tables {ts=, open=, high=, low=, close=, volume=} (ts in microseconds).
-- Every bar passes the same validation as file and network input.
function M.from_columns(cols, meta)
  local n = #cols.close
  local s = M.new(meta, n)
  for i = 1, n do
    local ok, err = s:push(cols.ts[i], cols.open[i], cols.high[i], cols.low[i], cols.close[i],
      cols.volume and cols.volume[i] or 0)
    if not ok then error(("bar %d: %s"):format(i - 1, err), 2) end
  end
  return s
end

-- Appends one validated bar; returns true or nil, reason.
function Series:push(ts, o, h, l, c, v)
  if self._view then error("series: a view cannot grow", 2) end
  local n = self.n
  local prev = n > 0 and self._c.ts[n - 1] or -0x8000000000000000LL
  local issue = C.gt_bar_check(prev, ts, o, h, l, c, v or 0)
  if issue ~= 0 then return nil, ffi.string(C.gt_bar_issue_text(issue)) end
  gtffi.check(C.gt_series_push(self._c, ts, o, h, l, c, v or 0), 2)
  return self:_sync()
end

function Series:len() return self.n end

-- Bar i's timestamp as a Lua number (exact: microseconds fit in a double until 2255).
function Series:time(i)
  if i < 0 or i >= self.n then error(("series: bar %d out of range 0..%d"):format(i, self.n - 1), 2) end
  return tonumber(self.ts[i])
end

-- Bars i .. j-1 (0-based, half-open) as a view sharing memory with self.
function Series:slice(i, j)
  j = j or self.n
  if i < 0 then i = 0 end
  if j > self.n then j = self.n end
  if j < i then j = i end
  local v = ffi.new("gt_series")
  local c = self._c
  v.ts, v.open, v.high, v.low, v.close, v.volume =
    c.ts + i, c.open + i, c.high + i, c.low + i, c.close + i, c.volume + i
  v.n, v.cap = j - i, 0
  local s = setmetatable({ _c = v, _parent = self, _view = true, _offset = (self._offset or 0) + i,
    symbol = self.symbol, timeframe = self.timeframe }, Series)
  return s:_sync()
end

-- Bars with t0 <= ts < t1 (microseconds; nil means unbounded) as a view.
function Series:between(t0, t1)
  local i = t0 and tonumber(C.gt_series_lower_bound(self._c, t0)) or 0
  local j = t1 and tonumber(C.gt_series_lower_bound(self._c, t1)) or self.n
  return self:slice(i, j)
end

-- Copies a column into a Lua table (1-based), for small data and tests.
function Series:column(name)
  local col = self[name]
  if not col or type(col) ~= "cdata" then error("series: no column '" .. tostring(name) .. "'", 2) end
  local t = {}
  for i = 0, self.n - 1 do t[i + 1] = tonumber(col[i]) end
  return t
end

-- Resamples to a coarser timeframe ("1h", "1d", "1w", "1mo", ...). Weeks and months
-- are dated on their last trading bar by default (label = "last"); intraday buckets on
-- their start (label = "start"), as the data providers stamp bars.
function Series:resample(tf, opts)
  local t = require("gt.timeframe").check(tf, 2)
  local label = opts and opts.label
  if label == nil then label = (t.suffix == "w" or t.suffix == "mo") and "last" or "start" end
  if label ~= "start" and label ~= "last" then error("resample: label must be 'start' or 'last'", 2) end
  local out = ffi.new("gt_series *[1]")
  gtffi.check(C.gt_series_resample(self._c, t.unit, t.count,
    label == "last" and C.GT_LABEL_LAST or C.GT_LABEL_START, out), 2)
  return M.wrap(out[0], { symbol = self.symbol, timeframe = tf })
end

-- Groups of k consecutive bars, stamped with each group's last bar.
function Series:compress(k)
  local out = ffi.new("gt_series *[1]")
  gtffi.check(C.gt_series_compress(self._c, k, out), 2)
  return M.wrap(out[0], { symbol = self.symbol })
end

-- Simple (or log, with log = true) returns of a column (default close): a new double
-- array of length n, NaN at bar 0.
function Series:returns(opts)
  local col = self[(opts and opts.column) or "close"]
  local out = ffi.new("double[?]", math.max(self.n, 1))
  C.gt_returns(col, self.n, (opts and opts.log) and 1 or 0, out)
  return out
end

function Series:free()
  if not self._view and not self._freed then
    C.gt_series_free(ffi.gc(self._c, nil))
  end
  self._freed = true
  self._c = ffi.new("gt_series") -- empty, so later use sees n = 0 rather than freed memory
  self:_sync()
end

function Series:__tostring()
  local function t(i)
    local buf = ffi.new("char[32]")
    C.gt_time_format(self.ts[i], 1, buf, 32)
    return ffi.string(buf)
  end
  if self.n == 0 then return ("series %s %s: empty"):format(self.symbol or "?", self.timeframe or "?") end
  return ("series %s %s: %d bars, %s .. %s"):format(self.symbol or "?", self.timeframe or "?",
    self.n, t(0), t(self.n - 1))
end

return M
