-- gt.series: a C-owned columnar series as seen from Lua. The columns are checked,
-- 0-based views lent without copying: `s.close[i]`, `s.ts[i]` (int64), `s.n` (a number);
-- an index outside 0..n-1 raises, `#col` / `col.n` is the length and `col.p` the raw
-- pointer (for C calls and code that asks for it explicitly). A column keeps its memory
-- alive after the series is freed or collected. slice/between make views that share
-- memory. gt.array(n) makes a checked, writable double array.
--
-- Growth: s:push(...) appends one validated bar and refreshes s.n; `s.close` etc. read after
-- it see the new length. A column is a snapshot (its pointer and length are fixed when it is
-- taken): one held from before a push keeps the old length and stays valid (the old buffer
-- is kept alive by the column's reference), so code that follows a growing series (a polled
-- feed, gt.feed) takes s.close again after each poll. When C appends to the series behind
-- Lua's back, s:sync() re-reads the length.
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C

local M = {}
local Series = {}
M.Series = Series

local COLUMNS = { "ts", "open", "high", "low", "close", "volume" }
M.COLUMNS = COLUMNS
local COLUMN_INDEX = {}
for i, name in ipairs(COLUMNS) do COLUMN_INDEX[name] = i - 1 end

local floor, type = math.floor, type

-- ---- checked columns and arrays ----
-- A column is a gt_col (gt_col_i64 for ts) struct: p, n and a reference on the series it
-- points into (see gt_ffi.h). Every index is checked: 0 <= i < n and an integer. In a
-- compiled loop the check is two compares and a branch on values the JIT hoists.

local function bad_index(i)
  if type(i) ~= "number" then return ("%s"):format(tostring(i)) end
  if i ~= i then return "nan" end
  if i % 1 ~= 0 then return ("%.17g"):format(i) end
  return ("%d"):format(i)
end

local function range_error(what, i, n, unit, level)
  local why
  if type(i) == "number" and i == i and i % 1 ~= 0 then
    why = "index is not an integer"
  else
    why = "index out of range"
  end
  if n == 0 then error(("%s[%s]: %s (0 %s)"):format(what, bad_index(i), why, unit), level + 1) end
  error(("%s[%s]: %s 0..%d (%d %s)"):format(what, bad_index(i), why, n - 1, n, unit), level + 1)
end

local function col_index(c, i)
  if type(i) == "number" and i >= 0 and i < c.n and floor(i) == i then return c.p[i] end
  if type(i) ~= "number" then
    error(("series column %s has no field '%s' (fields: p, n)"):format(COLUMNS[c.which + 1], tostring(i)), 2)
  end
  range_error(COLUMNS[c.which + 1], i, c.n, "bars", 2)
end

local function col_newindex(c, i)
  error(("%s[%s]: series columns are read-only (copy with gt.array)")
    :format(COLUMNS[c.which + 1], bad_index(i)), 2)
end

local col_mt = {
  __index = col_index,
  __newindex = col_newindex,
  __len = function(c) return c.n end,
  __tostring = function(c) return ("column %s: %d bars"):format(COLUMNS[c.which + 1], c.n) end,
}
local Col = ffi.metatype("gt_col", col_mt)
local ColI64 = ffi.metatype("gt_col_i64", col_mt)
M.Col, M.ColI64 = Col, ColI64

local function release(c) C.gt_series_free(c.owner) end

-- A checked column over column `name` of the gt_series* c, holding a reference on c.
local INT32_MAX = 2147483647
local function column(c, name)
  local ct = name == "ts" and ColI64 or Col
  if c.n > INT32_MAX then
    error(("series of %d bars: a checked column holds at most %d (use the raw s._c.%s)")
      :format(tonumber(c.n), INT32_MAX, name), 3)
  end
  local col = ct(c[name], tonumber(c.n), c, COLUMN_INDEX[name])
  C.gt_series_retain(c)
  return ffi.gc(col, release)
end

-- Checked arrays owned by Lua (indicator outputs, targets, scratch, masks): the values
-- live inside the cdata, so the GC sees their size. Lua-only: C is given a.p. n is an
-- int32 for the same reason as a column's: the JIT's bounds check is then an integer
-- compare.
ffi.cdef [[
typedef struct gt_lua_array { const int32_t n; double v[?]; } gt_lua_array;
typedef struct gt_lua_bytes { const int32_t n; uint8_t v[?]; } gt_lua_bytes;
typedef struct gt_lua_i64 { const int32_t n; int64_t v[?]; } gt_lua_i64;
typedef struct gt_lua_big { const int32_t n; double *v; } gt_lua_big;
void *calloc(size_t nmemb, size_t size);
void free(void *p);
]]

local function array_type(ctname, ptrtype)
  local mt = {
    __index = function(a, i)
      if type(i) == "number" and i >= 0 and i < a.n and floor(i) == i then return a.v[i] end
      if i == "p" then return ffi.cast(ptrtype, a.v) end
      if type(i) ~= "number" then
        error(("array has no field '%s' (fields: p, n)"):format(tostring(i)), 2)
      end
      range_error("array", i, a.n, "values", 2)
    end,
    __newindex = function(a, i, x)
      if type(i) == "number" and i >= 0 and i < a.n and floor(i) == i then a.v[i] = x; return end
      if type(i) ~= "number" then
        error(("array has no field '%s' (fields: p, n)"):format(tostring(i)), 2)
      end
      range_error("array", i, a.n, "values", 2)
    end,
    __len = function(a) return a.n end,
    __tostring = function(a) return ("array: %d values"):format(a.n) end,
  }
  return ffi.metatype(ctname, mt)
end
local Array = array_type("gt_lua_array", "double *")
local Bytes = array_type("gt_lua_bytes", "uint8_t *")
local I64 = array_type("gt_lua_i64", "int64_t *")
-- Large double arrays live in C memory (calloc: fresh pages come zeroed, where the GC
-- allocator would clear megabytes by hand) and are freed with the object; indexing is the
-- same checked a.v[i] as the small ones.
local Big = array_type("gt_lua_big", "double *")
local BIG_N = 65536
local function free_big(a) gtffi.C.gt_free_big(a.v, a.n, 8) end
local function new_doubles(n, raw)
  if n < BIG_N then return Array(n, n) end
  -- huge pages: a million values fault in a few times; raw: left as they are (the caller
  -- writes every one), so a block kept for reuse is not cleared first
  local p = raw and gtffi.C.gt_alloc_big(n, 8) or gtffi.C.gt_calloc_big(n, 8)
  if p == nil then error(("gt.array: out of memory for %d values"):format(n), 3) end
  return ffi.gc(Big(n, ffi.cast("double *", p)), free_big)
end

-- array_out(n): a checked array of n doubles for a C kernel to fill, every value of it
-- (gt.ind's outputs): not cleared first when large.
function M.array_out(n)
  if type(n) ~= "number" or n < 0 or n % 1 ~= 0 or n > INT32_MAX then
    error(("gt.series.array_out: n must be a non-negative integer, got %s"):format(tostring(n)), 2)
  end
  return new_doubles(n, true)
end
M.ArrayType, M.BytesType, M.I64Type = Array, Bytes, I64

-- A checked array of n int64 values (zero), for timestamps handed to Lua code.
function M.i64(n)
  if type(n) ~= "number" or n < 0 or n % 1 ~= 0 or n > INT32_MAX then
    error(("gt.series.i64: n must be a non-negative integer, got %s"):format(tostring(n)), 2)
  end
  return I64(n, n)
end

-- A checked array of n bytes (zero), for masks and codes handed to Lua code.
function M.bytes(n)
  if type(n) ~= "number" or n < 0 or n % 1 ~= 0 or n > INT32_MAX then
    error(("gt.series.bytes: n must be a non-negative integer, got %s"):format(tostring(n)), 2)
  end
  return Bytes(n, n)
end

-- gt.array(n [, fill]) -> a checked double array of n values (fill, default 0);
-- gt.array(t) copies a Lua list of numbers.
function M.array(n, fill)
  if type(n) == "table" then
    local t = n
    local a = new_doubles(#t)
    for i = 1, #t do
      if type(t[i]) ~= "number" then
        error(("gt.array: element %d is %s, not a number"):format(i, type(t[i])), 2)
      end
      a.v[i - 1] = t[i]
    end
    return a
  end
  if type(n) ~= "number" or n < 0 or n % 1 ~= 0 or n > INT32_MAX then
    error(("gt.array: n must be a non-negative integer, got %s"):format(tostring(n)), 2)
  end
  if fill ~= nil and type(fill) ~= "number" then
    error(("gt.array: fill must be a number, got %s"):format(type(fill)), 2)
  end
  local a = new_doubles(n)
  if fill and fill ~= 0 then
    for i = 0, n - 1 do a.v[i] = fill end
  end
  return a
end

function M.is_array(v) return type(v) == "cdata" and (ffi.istype(Array, v) or ffi.istype(Big, v)) end
function M.is_bytes(v) return type(v) == "cdata" and ffi.istype(Bytes, v) end
function M.is_i64(v) return type(v) == "cdata" and ffi.istype(I64, v) end
function M.is_column(v) return type(v) == "cdata" and (ffi.istype(Col, v) or ffi.istype(ColI64, v)) end

-- The raw pointer and length behind a column or checked array (n is nil for anything
-- else; an FFI array or pointer is returned as it is). For C calls.
function M.raw(v)
  if type(v) == "cdata" then
    if ffi.istype(Array, v) then return ffi.cast("double *", v.v), v.n end
    if ffi.istype(Big, v) then return v.v, v.n end
    if ffi.istype(Bytes, v) then return ffi.cast("uint8_t *", v.v), v.n end
    if ffi.istype(I64, v) then return ffi.cast("int64_t *", v.v), v.n end
    if ffi.istype(Col, v) or ffi.istype(ColI64, v) then return v.p, v.n end
  end
  return v, nil
end

-- ---- the Lua series object ----

-- Columns are made on first use and cached in the object (one table lookup per use
-- after that); a push drops the cache, since the columns may have moved.
Series.__index = function(s, k)
  local m = Series[k]
  if m ~= nil then return m end
  if COLUMN_INDEX[k] then
    local col = column(rawget(s, "_c"), k)
    rawset(s, k, col)
    return col
  end
  return nil
end

-- A freed series: every use but free() and tostring raises.
local Closed = {
  __index = function(_, k)
    if k == "free" then return function() end end
    error(("series is closed: '%s' used after free()"):format(tostring(k)), 2)
  end,
  __tostring = function(s) return ("series %s (closed)"):format(rawget(s, "symbol") or "?") end,
}

-- Refreshes the length after C or push changed the series, and drops cached columns.
-- (sync is the public name: call it after C appended bars to the series directly.)
function Series:_sync()
  local c = rawget(self, "_c")
  self.n = tonumber(c.n)
  for _, name in ipairs(COLUMNS) do rawset(self, name, nil) end
  return self
end

-- Wraps a gt_series* from C. owned=true hands it to the GC (gt_series_free).
-- meta: {symbol=, timeframe=}.
function M.wrap(ptr, meta, owned)
  if ptr == nil then error("gt.series.wrap: NULL series", 2) end
  if owned ~= false then ptr = ffi.gc(ptr, C.gt_series_free) end
  local s = setmetatable({ _c = ptr, _borrowed = owned == false or nil }, Series)
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
  -- against the series' real last bar, even when C appended since self.n was read
  local cs = self._c
  local n = cs.n
  local prev = n > 0 and cs.ts[n - 1] or -0x8000000000000000LL
  local issue = C.gt_bar_check(prev, ts, o, h, l, c, v or 0)
  if issue ~= 0 then return nil, ffi.string(C.gt_bar_issue_text(issue)) end
  gtffi.check(C.gt_series_push(self._c, ts, o, h, l, c, v or 0), 2)
  return self:_sync()
end

Series.sync = Series._sync

function Series:len() return self.n end

-- Bar i's timestamp as a Lua number (exact: microseconds fit in a double until 2255).
function Series:time(i)
  if i < 0 or i >= self.n then error(("series: bar %d out of range 0..%d"):format(i, self.n - 1), 2) end
  return tonumber(self.ts[i])
end

-- Bars i .. j-1 (0-based, half-open, clamped to the series) as a view sharing memory
-- with self; the view keeps that memory alive on its own.
function Series:slice(i, j)
  j = j or self.n
  if type(i) ~= "number" or type(j) ~= "number" then error("series:slice: i and j must be numbers", 2) end
  i, j = floor(i), floor(j)
  if i < 0 then i = 0 end
  if j > self.n then j = self.n end
  if j < i then j = i end
  local v = C.gt_series_view(self._c, i, j)
  if v == nil then error(gtffi.errmsg(), 2) end
  local s = setmetatable({ _c = ffi.gc(v, C.gt_series_free), _view = true,
    _offset = (self._offset or 0) + i, symbol = self.symbol, timeframe = self.timeframe }, Series)
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
  if not COLUMN_INDEX[name] then error("series: no column '" .. tostring(name) .. "'", 2) end
  local col = self[name]
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

-- Simple (or log, with log = true) returns of a column (default close): a new checked
-- array of length n, NaN at bar 0.
function Series:returns(opts)
  local name = (opts and opts.column) or "close"
  if not COLUMN_INDEX[name] or name == "ts" then
    error(("series:returns: no price column '%s'"):format(tostring(name)), 2)
  end
  local out = M.array(self.n)
  C.gt_returns(self[name].p, self.n, (opts and opts.log) and 1 or 0, out.p)
  return out
end

-- Drops the series' own reference to its memory; columns fetched before keep theirs and
-- stay valid. Every later use of the series raises "series is closed". Twice is fine.
function Series:free()
  local c, borrowed = rawget(self, "_c"), rawget(self, "_borrowed")
  local symbol = rawget(self, "symbol")
  for k in pairs(self) do rawset(self, k, nil) end
  self.symbol = symbol
  setmetatable(self, Closed)
  if c and not borrowed then C.gt_series_free(ffi.gc(c, nil)) end -- its owner frees a borrowed one
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
