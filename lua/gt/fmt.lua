-- gt.fmt: terminal output. Aligned tables, numbers with thousands separators, progress
-- lines that redraw in place on a terminal and stay quiet when output is piped, a backtest's
-- stats table, and one-line summaries of FFI arrays and times (what the REPL prints).
local ffi = require "ffi"
local host = require "gt.host"

local M = {}

function M.isatty(fd) return host.isatty(fd or 1) end

-- 1234567.891 -> "1,234,567.89" (decimals default 2; integers keep none).
function M.num(x, decimals)
  if x == nil then return "" end
  if x ~= x then return "n/a" end
  if x == math.huge then return "inf" end
  if x == -math.huge then return "-inf" end
  local s = decimals and ("%." .. decimals .. "f"):format(x)
    or (x % 1 == 0 and math.abs(x) < 1e15 and ("%d"):format(x) or ("%.2f"):format(x))
  local sign, int, frac = s:match("^(-?)(%d+)(.*)$")
  if not int then return s end
  int = int:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return sign .. int .. frac
end

-- rows: list of tables; cols: list of {key=, title=, align="left"|"right", fmt=function(v,row)}.
-- Returns the table as a string with a header rule.
function M.table(rows, cols)
  local cells, widths = {}, {}
  for j, c in ipairs(cols) do widths[j] = #(c.title or c.key) end
  for i, r in ipairs(rows) do
    cells[i] = {}
    for j, c in ipairs(cols) do
      local v = r[c.key]
      local s = c.fmt and c.fmt(v, r) or (type(v) == "number" and M.num(v) or tostring(v == nil and "" or v))
      cells[i][j] = s
      if #s > widths[j] then widths[j] = #s end
    end
  end
  local out = {}
  local function line(vals)
    local parts = {}
    for j, c in ipairs(cols) do
      local w = widths[j]
      local right = c.align == "right" or (c.align == nil and rows[1] and type(rows[1][c.key]) == "number")
      parts[j] = right and (" "):rep(w - #vals[j]) .. vals[j] or vals[j] .. (" "):rep(w - #vals[j])
    end
    out[#out + 1] = table.concat(parts, "  "):gsub("%s+$", "")
  end
  local titles = {}
  for j, c in ipairs(cols) do titles[j] = c.title or c.key end
  line(titles)
  local rule = {}
  for j = 1, #cols do rule[j] = ("-"):rep(widths[j]) end
  out[#out + 1] = table.concat(rule, "  ")
  for i = 1, #rows do line(cells[i]) end
  return table.concat(out, "\n") .. "\n"
end

-- A backtest's statistics as {name=, value=} rows, in gt.metrics.FIELDS order, each
-- formatted for its unit (the table `gtengine backtest` and the REPL print).
-- Percentages that are changes (returns, trade results, alpha) show their sign, so a gain
-- reads "+1.20 %"; levels (volatility, drawdown depth, win rate, exposure) are unsigned.
local SIGNED = { return_pct = true, cagr_pct = true, ann_return_pct = true, avg_trade_pct = true,
  best_trade_pct = true, worst_trade_pct = true, buy_hold_return_pct = true, alpha_pct = true }

-- One statistic as the tables show it: durations in bars or years with the unit, money
-- with 2 decimals, percentages with " %" (and a sign when they are changes).
function M.stat_text(f, v)
  if v == nil or v ~= v then return "n/a" end
  if f.unit == "%" then
    return (SIGNED[f.key] and v > 0 and "+" or "") .. M.num(v, 2) .. " %"
  elseif f.unit == "ccy" then return M.num(v, 2)
  elseif f.unit == "bars" then
    return M.num(v, v % 1 == 0 and 0 or 1) .. (v == 1 and " bar" or " bars")
  elseif f.unit == "years" then return M.num(v, 2) .. " years"
  elseif f.key == "num_trades" then return M.num(v, 0)
  end
  return M.num(v, 3)
end

-- The rows of a stats table, in gt.metrics.FIELDS order.
function M.stat_rows(stats)
  local rows = {}
  for _, f in ipairs(require("gt.metrics").FIELDS) do
    local v = stats[f.key]
    if v ~= nil then rows[#rows + 1] = { name = f.title, value = M.stat_text(f, v) } end
  end
  return rows
end

function M.stats_table(stats)
  return M.table(M.stat_rows(stats), { { key = "name", title = "metric" }, { key = "value", align = "right" } })
end

-- Integral numbers between 1980-01-01 and 2100-01-01 in epoch microseconds: what gt's
-- times look like (a count or a price is far outside that range).
local T_LO, T_HI = 315532800 * 1e6, 4102444800 * 1e6
function M.is_time(x)
  return type(x) == "number" and x >= T_LO and x < T_HI and x % 1 == 0
end

-- A time as a date: "2024-01-02" at midnight, else "2024-01-02T15:30:00Z".
function M.time(us)
  return require("gt.time").format(us)
end

local function elem_ok(x)
  return type(x) == "number" or (type(x) == "cdata" and (ffi.istype("int64_t", x) or ffi.istype("uint64_t", x)))
end

-- The length and element type name of an array-like cdata, or nil: a checked column or
-- array (a numeric field n and numbers at [i]) or an FFI array (double[?], from its size).
function M.array_len(v)
  if type(v) ~= "cdata" then return nil end
  local ok, n = pcall(function() return v.n end)
  if ok and (type(n) == "number" or (type(n) == "cdata" and elem_ok(n))) then
    n = tonumber(n)
    local ok0, x = pcall(function() return v[0] end)
    if n >= 0 and n % 1 == 0 and (n == 0 or (ok0 and elem_ok(x))) then
      local gs = package.loaded["gt.series"]
      if gs and gs.is_bytes and gs.is_bytes(v) then return n, "uint8_t" end
      return n, type(x) == "cdata" and "int64_t" or "double"
    end
  end
  local ct = tostring(ffi.typeof(v))
  local elem = ct:match("^ctype<(.-) ?%[%d*%??%]>$")
  if elem then
    local ok1, esize = pcall(ffi.sizeof, elem)
    local ok2, x = pcall(function() return v[0] end)
    if ok1 and esize > 0 and ok2 and elem_ok(x) then return math.floor(ffi.sizeof(v) / esize), elem end
    return nil
  end
end

local function elem_str(x, times)
  x = tonumber(x)
  if x ~= x then return "nan" end
  if times and M.is_time(x) then return M.time(x) end
  return ("%.10g"):format(x)
end

-- "double[50] {1, 2, 3, 4, 5, ..., 46, 47, 48, 49, 50}": an array's length with its first
-- and last `k` (default 5) values; an int64 array of times shows dates. nil if v is not
-- an array (see M.array_len).
function M.array(v, k)
  local n, elem = M.array_len(v)
  if not n then return nil end
  k = k or 5
  local times = elem:find("int64", 1, true) ~= nil
  local parts = {}
  if n <= 2 * k then
    for i = 0, n - 1 do parts[#parts + 1] = elem_str(v[i], times) end
  else
    for i = 0, k - 1 do parts[#parts + 1] = elem_str(v[i], times) end
    parts[#parts + 1] = "..."
    for i = n - k, n - 1 do parts[#parts + 1] = elem_str(v[i], times) end
  end
  return ("%s[%d] {%s}"):format(elem, n, table.concat(parts, ", "))
end

-- A progress reporter for long work: call p(done, total, what) as often as you like; it
-- prints at most every 0.2 s, only after the work has run for `after` seconds (default
-- 1), on stderr, redrawing one line on a terminal. p:done() ends the line.
function M.progress(label, after)
  local t0, last, shown = os.clock(), 0, false
  local tty = host.isatty(2)
  local self = {}
  setmetatable(self, { __call = function(_, done, total, what)
    local now = os.clock()
    if now - t0 < (after or 1) or now - last < 0.2 then return end
    last, shown = now, true
    local pct = total and total > 0 and (" %3d%%"):format(math.floor(100 * done / total)) or ""
    local msg = ("%s%s %s%s"):format(label, pct, M.num(done), what and (" " .. what) or "")
    if tty then io.stderr:write("\r", msg, "\027[K") else io.stderr:write(msg, "\n") end
  end })
  function self.done()
    if shown and tty then io.stderr:write("\r\027[K") end
  end
  return self
end

return M
