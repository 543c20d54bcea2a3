-- gt.fmt: terminal output. Aligned tables, numbers with thousands separators, progress
-- lines that redraw in place on a terminal and stay quiet when output is piped.
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
