-- gt.textchart: small Unicode block charts for the terminal (no colours, no cursor moves).
--
--   textchart.line(values, n, {width=60, height=8, title="Equity"})   columns rising from
--     the bottom in eighths (▁▂▃▄▅▆▇█), min label on the bottom row, max on the top row.
--   textchart.area(values, n, {width=60, height=4, title="Drawdown"}) an area hanging from
--     the top (0 at the top, the minimum at the bottom) in half cells (▀ █): drawdowns.
--   textchart.summary(result) both of the above for a backtest result's equity and drawdown.
--
-- values is an FFI array (0-based, n entries) or a Lua table (1-based, or 0-based when it
-- has a [0] entry). Longer series are cut into `width` equal buckets by bar index: a line
-- column shows the bucket's last value, an area column its minimum (the deepest drawdown
-- survives). Labels are the true minimum and maximum of all values. NaN is skipped.
local fmt = require "gt.fmt"

local M = {}

local BLOCKS = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" }
local UPPER_HALF, FULL = "▀", "█"

-- A 0-based reader for an FFI array or a Lua table.
local function reader(values)
  if type(values) == "table" then
    if values[0] ~= nil then return function(i) return values[i] end end
    return function(i) return values[i + 1] end
  elseif type(values) == "cdata" then
    return function(i) return tonumber(values[i]) end
  end
  error("textchart: values must be an FFI array or a table", 3)
end

local function check_args(values, n, opts)
  if type(n) ~= "number" or n < 0 or n % 1 ~= 0 then
    error("textchart: n must be a non-negative integer", 3)
  end
  if opts ~= nil and type(opts) ~= "table" then error("textchart: opts must be a table", 3) end
  opts = opts or {}
  local width = opts.width or 60
  local height = opts.height or 8
  if type(width) ~= "number" or width < 1 or type(height) ~= "number" or height < 1 then
    error("textchart: width and height must be positive numbers", 3)
  end
  return reader(values), opts, math.floor(width), math.floor(height)
end

-- Per column: the bucket's last (mode "last") or smallest (mode "min") non-NaN value, or
-- nil when the bucket is all NaN. Also the true min and max over every value.
local function columns(get, n, width, mode)
  local cols = math.min(width, n)
  local out, lo, hi = {}, math.huge, -math.huge
  for j = 0, cols - 1 do
    local a, b = math.floor(j * n / cols), math.floor((j + 1) * n / cols)
    local v
    for i = a, b - 1 do
      local x = get(i)
      if x == x then
        if x < lo then lo = x end
        if x > hi then hi = x end
        if mode == "min" then
          if v == nil or x < v then v = x end
        else
          v = x
        end
      end
    end
    out[j + 1] = v
  end
  return out, cols, lo, hi
end

local function label(x, opts)
  if opts.fmt then return opts.fmt(x) end
  return fmt.num(x, 2)
end

-- Left margin: labels right-aligned to the widest, then " │".
local function frame(rows, top_label, bottom_label, title)
  local w = math.max(#top_label, #bottom_label)
  local lines = {}
  if title then lines[1] = title end
  for r = 1, #rows do
    local l = r == 1 and top_label or (r == #rows and bottom_label or "")
    local s = (" "):rep(w - #l) .. l .. " │" .. rows[r]
    lines[#lines + 1] = (s:gsub("%s+$", ""))
  end
  return table.concat(lines, "\n") .. "\n"
end

local function empty(title)
  return (title and (title .. "\n") or "") .. "(no data)\n"
end

-- Column chart rising from the bottom: levels 1..8*height (the minimum still shows ▁).
function M.line(values, n, opts)
  local get, o, width, height = check_args(values, n, opts)
  local col, ncol, lo, hi = columns(get, n, width, "last")
  if lo > hi then return empty(o.title) end
  local levels = 8 * height
  local lv = {}
  for j = 1, ncol do
    local v = col[j]
    if v == nil then lv[j] = 0
    elseif hi == lo then lv[j] = 1
    else lv[j] = 1 + math.floor((v - lo) / (hi - lo) * (levels - 1) + 0.5) end
  end
  local rows = {}
  for r = 1, height do
    local base = (height - r) * 8 -- levels below this row
    local cells = {}
    for j = 1, ncol do
      local k = lv[j] - base
      cells[j] = k <= 0 and " " or BLOCKS[k > 8 and 8 or k]
    end
    rows[r] = table.concat(cells)
  end
  return frame(rows, label(hi, o), height > 1 and label(lo, o) or "", o.title)
end

-- Area hanging from the top edge (max(0, max) at the top, the minimum at the bottom) in
-- half cells: for drawdowns, which are <= 0.
function M.area(values, n, opts)
  local get, o, width, height = check_args(values, n, opts)
  local col, ncol, lo, hi = columns(get, n, width, "min")
  if lo > hi then return empty(o.title) end
  if hi < 0 then hi = 0 end
  local levels = 2 * height
  local depth = {}
  for j = 1, ncol do
    local v = col[j]
    if v == nil or hi == lo then depth[j] = 0
    else depth[j] = math.floor((hi - v) / (hi - lo) * levels + 0.5) end
  end
  local rows = {}
  for r = 1, height do
    local above = (r - 1) * 2 -- half cells above this row
    local cells = {}
    for j = 1, ncol do
      local k = depth[j] - above
      cells[j] = k <= 0 and " " or (k == 1 and UPPER_HALF or FULL)
    end
    rows[r] = table.concat(cells)
  end
  return frame(rows, label(hi, o), height > 1 and label(lo, o) or "", o.title)
end

local function pct(x) return fmt.num(100 * x, 1) .. "%" end

-- Equity (line) and drawdown (area) of a backtest result, for the CLI under the stats.
function M.summary(result, opts)
  if type(result) ~= "table" then error("textchart.summary: result must be a table", 2) end
  opts = opts or {}
  local n = result.n or 0
  local out = {}
  if result.equity then
    out[#out + 1] = M.line(result.equity, n, { width = opts.width or 60, height = opts.height or 8,
      title = "Equity" })
  end
  if result.drawdown then
    out[#out + 1] = M.area(result.drawdown, n, { width = opts.width or 60, height = opts.dd_height or 4,
      title = "Drawdown", fmt = pct })
  end
  return table.concat(out, "\n")
end

return M
