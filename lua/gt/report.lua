-- gt.report: one self-contained HTML file per backtest result. Inline CSS and inline SVG
-- charts, no JavaScript, no network references (no fonts, scripts, images or links).
--
--   report.html(result) -> string          raises on a malformed result (misuse)
--   report.write(result, path) -> true     or nil, err when the file cannot be written
--   report.downsample(values, n, max_points) -> xs, ys   (exposed for tests)
--
-- Contents: header (strategy, symbol, timeframe, data range, parameters, run id), the stats
-- table (#stats-table), price chart (#price-chart: close with entry/exit markers at the fill
-- bars and prices), equity against buy-and-hold (#equity-chart), drawdown (#drawdown-chart)
-- and the trades table (#trades-table; over 500 trades shows the first and last 250).
-- A session's report (gt.monitor.report) sets trades = false and a timeline of its events
-- (#timeline-chart, #timeline-table) in place of the trades table.
--
-- Charts put bars at equal x steps (bar index, like trading charts: weekends leave no gaps);
-- date ticks are placed at the first bar on or after a calendar boundary. Each series is
-- reduced to at most ~2000 points by min/max per bucket in one pass, so a 1M-bar result
-- stays small while spikes survive. Array columns are FFI arrays (0-based) or Lua tables
-- (1-based, or 0-based when they have a [0] entry).
local ffi = require "ffi"
local fmt = require "gt.fmt"
local time = require "gt.time"
local gtffi = require "gt.ffi"
local C = gtffi.C

local M = {}

M.MAX_POINTS = 2000   -- per series and chart
M.MAX_TRADE_ROWS = 500
M.TRADE_EDGE_ROWS = 250

local DAY = 86400 * 1000000
local HOUR = 3600 * 1000000
local MINUTE = 60 * 1000000

-- ---- text ----------------------------------------------------------------------------

local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }
local function esc(s)
  return (tostring(s):gsub("[&<>\"']", ESC))
end
M.escape = esc

-- fmt.num, except that magnitudes from 1e15 up (which fmt.num spells out digit by digit)
-- print in %g notation so they cannot wreck the layout.
local function num(x, decimals)
  if type(x) ~= "number" then return x == nil and "" or esc(x) end
  if x == x and math.abs(x) >= 1e15 and math.abs(x) < math.huge then return ("%.6g"):format(x) end
  return fmt.num(x, decimals)
end

local function cls_sign(x)
  return (type(x) == "number" and x < 0) and ' class="neg"' or ""
end

local function param_value(v)
  if type(v) == "number" then
    if v ~= v then return "n/a" end
    if v == math.huge then return "inf" elseif v == -math.huge then return "-inf" end
    return ("%.10g"):format(v)
  elseif type(v) == "table" then
    local ok, s = pcall(require("gt.json").encode, v)
    return ok and s or tostring(v)
  end
  return tostring(v)
end

-- ---- columns -------------------------------------------------------------------------

-- A double[n] holding the column (FFI double arrays are used as they are).
local function column(x, n, name)
  if type(x) == "cdata" then
    local gs = require "gt.series"
    if gs.is_array(x) or gs.is_column(x) then
      local p, len = gs.raw(x)
      -- a checked double array or column: read through its pointer, no copy (the result
      -- holds the array for as long as the report is being built)
      if len >= n and not ffi.istype("int64_t *", p) then return p end
    end
    local ct = tostring(ffi.typeof(x))
    if ct:match("^ctype<%s*c?o?n?s?t?%s*double%s*[%[%*]") then return x end
    local out = ffi.new("double[?]", n)
    for i = 0, n - 1 do out[i] = tonumber(x[i]) end
    return out
  elseif type(x) == "table" then
    local base = x[0] ~= nil and 0 or 1
    local out = ffi.new("double[?]", n)
    for i = 0, n - 1 do
      local v = x[i + base]
      if type(v) ~= "number" then
        if type(v) == "cdata" then v = tonumber(v)
        else error(("report: %s[%d] is %s, expected a number"):format(name, i + base, type(v)), 3) end
      end
      out[i] = v
    end
    return out
  end
  error(("report: result.%s must be an FFI array or a table"):format(name), 3)
end

-- ---- downsampling --------------------------------------------------------------------

-- Min/max per bucket in one pass: the n values are cut into max_points/2 buckets of equal
-- bar counts; each bucket contributes its min and max in the order they occur (one point
-- when they are the same bar). NaN is skipped. Returns xs (bar index) and ys, 1-based.
local function downsample(v, n, max_points)
  local xs, ys, k = {}, {}, 0
  max_points = max_points or M.MAX_POINTS
  if n <= max_points then
    for i = 0, n - 1 do
      local y = v[i]
      if y == y then k = k + 1; xs[k] = i; ys[k] = y end
    end
    return xs, ys
  end
  local buckets = math.floor(max_points / 2)
  local bucket, lo, hi, ilo, ihi = 0, math.huge, -math.huge, -1, -1
  local next_edge = math.floor(n / buckets) -- first index of bucket 1
  local function flush()
    if ilo < 0 then return end
    if ilo == ihi then
      k = k + 1; xs[k] = ilo; ys[k] = lo
    elseif ilo < ihi then
      k = k + 1; xs[k] = ilo; ys[k] = lo
      k = k + 1; xs[k] = ihi; ys[k] = hi
    else
      k = k + 1; xs[k] = ihi; ys[k] = hi
      k = k + 1; xs[k] = ilo; ys[k] = lo
    end
  end
  for i = 0, n - 1 do
    if i >= next_edge then
      flush()
      bucket = bucket + 1
      next_edge = math.floor((bucket + 1) * n / buckets)
      lo, hi, ilo, ihi = math.huge, -math.huge, -1, -1
    end
    local y = v[i]
    if y == y then
      if y < lo then lo = y; ilo = i end
      if y > hi then hi = y; ihi = i end
    end
  end
  flush()
  return xs, ys
end

function M.downsample(values, n, max_points)
  if type(n) ~= "number" or n < 0 then error("report.downsample: n must be >= 0", 2) end
  return downsample(column(values, n, "values"), n, max_points)
end

-- ---- scales and ticks ----------------------------------------------------------------

local function nice_step(range, target)
  local raw = range / target
  local mag = 10 ^ math.floor(math.log10(raw))
  local f = raw / mag
  local nf = f <= 1 and 1 or f <= 2 and 2 or f <= 2.5 and 2.5 or f <= 5 and 5 or 10
  return nf * mag
end

-- Decimals needed to print multiples of step exactly.
local function step_decimals(step)
  local d = 0
  while d < 10 do
    local s = step * 10 ^ d
    if math.abs(s - math.floor(s + 0.5)) < 1e-6 * s then break end
    d = d + 1
  end
  return d
end

-- Loose nice bounds around [lo, hi] with about `target` intervals.
local function nice_range(lo, hi, target)
  if not (lo == lo and hi == hi) or lo == math.huge then lo, hi = 0, 1 end
  if hi == lo then
    local pad = lo == 0 and 1 or math.abs(lo) * 0.01
    lo, hi = lo - pad, hi + pad
  end
  local step = nice_step(hi - lo, target or 5)
  local a, b = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
  local ticks = {}
  for i = 0, math.floor((b - a) / step + 0.5) do ticks[#ticks + 1] = a + i * step end
  return a, b, ticks, step_decimals(step), step
end
M.nice_range = nice_range

-- A formatter for y tick labels: thousands separators up to 999,999; then k-free SI-style
-- suffixes (M, B, T) with as many decimals as the step needs; %g beyond that.
local function tick_format(ticks, step)
  local maxabs = 0
  for _, v in ipairs(ticks) do maxabs = math.max(maxabs, math.abs(v)) end
  if maxabs >= 1e15 then return function(v) return ("%.3g"):format(v) end end
  local scale, suffix = 1, ""
  if maxabs >= 1e12 then scale, suffix = 1e12, "T"
  elseif maxabs >= 1e9 then scale, suffix = 1e9, "B"
  elseif maxabs >= 1e6 then scale, suffix = 1e6, "M" end
  local dec = step_decimals(step / scale)
  return function(v) return fmt.num(v / scale, dec) .. (v == 0 and "" or suffix) end
end
M.tick_format = tick_format

local MONTHS = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }

local y_, m_, d_ = ffi.new("int64_t[1]"), ffi.new("int64_t[1]"), ffi.new("int64_t[1]")
local function civil(us)
  C.gt_civil_from_days(math.floor(us / DAY), y_, m_, d_)
  return tonumber(y_[0]), tonumber(m_[0]), tonumber(d_[0])
end
local function days_us(y, m, d) return tonumber(C.gt_days_from_civil(y, m, d)) * DAY end

-- Tick steps from fine to coarse: unit, count, approximate length in us.
local STEPS = {
  { "minute", 1 }, { "minute", 5 }, { "minute", 15 }, { "minute", 30 },
  { "hour", 1 }, { "hour", 2 }, { "hour", 3 }, { "hour", 6 }, { "hour", 12 },
  { "day", 1 }, { "day", 2 }, { "week", 1 }, { "week", 2 },
  { "month", 1 }, { "month", 2 }, { "month", 3 }, { "month", 6 },
  { "year", 1 }, { "year", 2 }, { "year", 5 }, { "year", 10 }, { "year", 20 }, { "year", 50 },
  { "year", 100 },
}
local UNIT_US = { minute = MINUTE, hour = HOUR, day = DAY, week = 7 * DAY,
                  month = 30.44 * DAY, year = 365.25 * DAY }

-- Calendar boundaries in [t0, t1] at about `max_ticks` or fewer, with labels.
local function time_ticks(t0, t1, max_ticks)
  local span = t1 - t0
  local unit, count = "year", 100
  for _, s in ipairs(STEPS) do
    if span / (UNIT_US[s[1]] * s[2]) <= max_ticks then unit, count = s[1], s[2]; break end
  end
  local out = {}
  local function add(t, label)
    if t >= t0 and t <= t1 then out[#out + 1] = { t = t, label = label } end
  end
  if unit == "minute" or unit == "hour" then
    local step = UNIT_US[unit] * count
    local t = math.ceil(t0 / step) * step
    while t <= t1 and #out < 1000 do
      local s = time.format(t, false) -- 2024-01-02T15:30:00Z
      add(t, s:sub(6, 10) .. " " .. s:sub(12, 16))
      t = t + step
    end
  elseif unit == "day" or unit == "week" then
    local days = unit == "week" and 7 * count or count
    local d0 = math.ceil(t0 / DAY)
    if unit == "week" then d0 = d0 + (7 - (d0 + 3) % 7) % 7 end -- Mondays (day 0 is a Thursday)
    local d = d0
    while d * DAY <= t1 and #out < 1000 do
      local y, m, dd = civil(d * DAY)
      add(d * DAY, ("%d %s %d"):format(dd, MONTHS[m], y))
      d = d + days
    end
  elseif unit == "month" then
    local y, m = civil(t0)
    while (m - 1) % count ~= 0 do m = m + 1; if m > 12 then m = 1; y = y + 1 end end
    while days_us(y, m, 1) <= t1 and #out < 1000 do
      add(days_us(y, m, 1), MONTHS[m] .. " " .. y)
      m = m + count
      while m > 12 do m = m - 12; y = y + 1 end
    end
  else
    local y = civil(t0)
    y = math.ceil(y / count) * count
    while days_us(y, 1, 1) <= t1 and #out < 1000 do
      add(days_us(y, 1, 1), tostring(y))
      y = y + count
    end
  end
  return out
end
M.time_ticks = time_ticks

-- First index i with ts[i] >= t (n when none).
local function lower_bound(ts, n, t)
  local lo, hi = 0, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if ts[mid] < t then lo = mid + 1 else hi = mid end
  end
  return lo
end

-- ---- SVG charts ----------------------------------------------------------------------

local W = 1000
local PAD = { left = 72, right = 20, top = 14, bottom = 30 }

local function f1(x) return ("%.1f"):format(x) end

-- A chart frame: x maps bar index 0..n-1, y maps [ylo, yhi]. Returns the frame object.
local function frame(ctx, height, ylo, yhi)
  local pw, ph = W - PAD.left - PAD.right, height - PAD.top - PAD.bottom
  local span = math.max(ctx.n - 1, 1)
  local fr = { height = height, pw = pw, ph = ph }
  function fr.x(i) return PAD.left + i / span * pw end
  function fr.y(v) return PAD.top + (yhi - v) / (yhi - ylo) * ph end
  return fr
end

local function svg_open(buf, id, height, title, desc)
  buf[#buf + 1] = ('<svg id="%s" class="chart" viewBox="0 0 %d %d" role="img" '
    .. 'aria-labelledby="%s-title" preserveAspectRatio="xMidYMid meet">'):format(id, W, height, id)
  buf[#buf + 1] = ('<title id="%s-title">%s</title>'):format(id, esc(title))
  if desc then buf[#buf + 1] = ("<desc>%s</desc>"):format(esc(desc)) end
end

-- Grid lines and labels for y ticks (fmt_tick formats a tick value) and the date ticks.
local function axes(buf, ctx, fr, yticks, fmt_tick)
  buf[#buf + 1] = '<g class="grid">'
  for _, v in ipairs(yticks) do
    local y = f1(fr.y(v))
    buf[#buf + 1] = ('<line x1="%d" x2="%d" y1="%s" y2="%s"/>'):format(PAD.left, W - PAD.right, y, y)
  end
  for _, tk in ipairs(ctx.xticks) do
    local x = f1(fr.x(tk.i))
    buf[#buf + 1] = ('<line x1="%s" x2="%s" y1="%d" y2="%s"/>'):format(x, x, PAD.top, f1(PAD.top + fr.ph))
  end
  buf[#buf + 1] = "</g>"
  buf[#buf + 1] = ('<line class="axis" x1="%d" x2="%d" y1="%s" y2="%s"/>'):format(
    PAD.left, W - PAD.right, f1(PAD.top + fr.ph), f1(PAD.top + fr.ph))
  buf[#buf + 1] = '<g class="ylabels">'
  for _, v in ipairs(yticks) do
    buf[#buf + 1] = ('<text x="%d" y="%s">%s</text>'):format(PAD.left - 8, f1(fr.y(v) + 4), esc(fmt_tick(v)))
  end
  buf[#buf + 1] = '</g><g class="xlabels">'
  local ylab = f1(PAD.top + fr.ph + 19)
  for _, tk in ipairs(ctx.xticks) do
    buf[#buf + 1] = ('<text x="%s" y="%s">%s</text>'):format(f1(fr.x(tk.i)), ylab, esc(tk.label))
  end
  buf[#buf + 1] = "</g>"
end

-- The points of a downsampled series as a polyline points attribute.
local function points(fr, xs, ys)
  local p = {}
  for k = 1, #xs do p[k] = f1(fr.x(xs[k])) .. "," .. f1(fr.y(ys[k])) end
  return table.concat(p, " ")
end

local function polyline(buf, cls, fr, xs, ys)
  if #xs == 0 then return end
  buf[#buf + 1] = ('<polyline class="%s" points="%s"/>'):format(cls, points(fr, xs, ys))
end

local function no_data(buf, height)
  buf[#buf + 1] = ('<text class="nodata" x="%d" y="%d">no data</text>'):format(W / 2, height / 2)
end

local function range_of(lists, extra)
  local lo, hi = math.huge, -math.huge
  for _, ys in ipairs(lists) do
    for k = 1, #ys do
      local y = ys[k]
      if y < lo then lo = y end
      if y > hi then hi = y end
    end
  end
  for _, y in ipairs(extra or {}) do
    if y == y and y > -math.huge and y < math.huge then
      if y < lo then lo = y end
      if y > hi then hi = y end
    end
  end
  return lo, hi
end

-- Entry triangles (tip at the fill price) and exit rings at the fill bars. Up to
-- MAX_MARKERS trades each marker is its own element (with a tooltip up to 1000 trades);
-- beyond that, markers of a kind merge into one path on a 2-pixel grid, duplicates dropped,
-- because thousands of overlapping 10-pixel markers add bytes and no information.
M.MAX_MARKERS = 2000

local function markers(buf, ctx, fr)
  local trades = ctx.trades
  local merged = #trades > M.MAX_MARKERS
  local tips = #trades <= 1000
  local long_d, short_d, exit_d, seen = {}, {}, {}, {}
  buf[#buf + 1] = ('<g class="markers"%s>'):format(merged and ' data-merged="1"' or "")
  for k, tr in ipairs(trades) do
    local long = not (tr.size < 0)
    if tr.entry_bar and tr.entry_price == tr.entry_price then
      local x, y = fr.x(tr.entry_bar), fr.y(tr.entry_price)
      if merged then
        local gx, gy = 2 * math.floor(x / 2 + 0.5), 2 * math.floor(y / 2 + 0.5)
        local key = (long and 1 or 2) * 1e8 + gx * 1e4 + gy
        if not seen[key] then
          seen[key] = true
          local d = long and long_d or short_d
          d[#d + 1] = ("M%d %dl-5 %dh10z"):format(gx, gy, long and 9 or -9)
        end
      else
        local d = ("M%s %sl-5 %dh10z"):format(f1(x), f1(y), long and 9 or -9)
        local tip = tips and ("<title>#%d %s entry %s @ %s</title>"):format(k, long and "long" or "short",
          esc(tr.entry_label), num(tr.entry_price)) or ""
        buf[#buf + 1] = ('<path class="%s" d="%s">%s</path>'):format(long and "m-long" or "m-short", d, tip)
      end
    end
    if tr.closed and tr.exit_price == tr.exit_price then
      local x, y = fr.x(tr.exit_bar), fr.y(tr.exit_price)
      if merged then
        local gx, gy = 2 * math.floor(x / 2 + 0.5), 2 * math.floor(y / 2 + 0.5)
        local key = 3e8 + gx * 1e4 + gy
        if not seen[key] then
          seen[key] = true
          exit_d[#exit_d + 1] = ("M%d %dh0"):format(gx, gy) -- a dot: round cap on an empty segment
        end
      else
        local tip = tips and ("<title>#%d exit %s @ %s, PnL %s</title>"):format(k, esc(tr.exit_label),
          num(tr.exit_price), num(tr.pnl)) or ""
        buf[#buf + 1] = ('<circle class="m-exit" cx="%s" cy="%s" r="3.5">%s</circle>'):format(f1(x), f1(y), tip)
      end
    end
  end
  if merged then
    for _, kind in ipairs({ { "m-long", long_d }, { "m-short", short_d } }) do
      if #kind[2] > 0 then
        buf[#buf + 1] = ('<path class="%s" d="%s"/>'):format(kind[1], table.concat(kind[2]))
      end
    end
    if #exit_d > 0 then -- dots, not white-filled rings: thousands of rings would hide the line
      buf[#buf + 1] = ('<path class="m-exit-dots" d="%s"/>'):format(table.concat(exit_d))
    end
  end
  buf[#buf + 1] = "</g>"
end

-- One symbol's price panel: its close, the strategy's declared indicator lines, and its own
-- trades' markers, on its own axis. id is "price-chart" for the first symbol.
local function price_chart(buf, ctx, id, panel)
  local H = 340
  local xs, ys = downsample(panel.close, ctx.n)
  local lines = {}
  for k, ind in ipairs(panel.overlays or {}) do
    local ix, iy = downsample(ind.values, ctx.n)
    lines[k] = { name = ind.name, xs = ix, ys = iy }
  end
  local extra = {}
  for _, tr in ipairs(panel.trades) do
    extra[#extra + 1] = tr.entry_price
    if tr.closed then extra[#extra + 1] = tr.exit_price end
  end
  local all = { ys }
  for _, l in ipairs(lines) do all[#all + 1] = l.ys end
  local lo, hi = range_of(all, extra)
  local ylo, yhi, yticks, _, step = nice_range(lo, hi, 6)
  local fr = frame(ctx, H, ylo, yhi)
  svg_open(buf, id, H, ("%s close (%s) with trade entries and exits"):format(panel.symbol, ctx.timeframe),
    ("%d bars, %d trades; markers at fill bars and prices"):format(ctx.n, #panel.trades))
  axes(buf, ctx, fr, yticks, tick_format(yticks, step))
  if #xs == 0 then no_data(buf, H) end
  local pctx = { trades = panel.trades }
  -- sparse markers go over the line; dense (merged) ones under it, so the price stays visible
  if #panel.trades > M.MAX_MARKERS then markers(buf, pctx, fr) end
  polyline(buf, "s-close", fr, xs, ys)
  for k, l in ipairs(lines) do
    if #l.xs > 0 then
      buf[#buf + 1] = ('<polyline class="s-ind s-ind%d" data-name="%s" points="%s"/>'):format((k - 1) % 4 + 1,
        esc(l.name), points(fr, l.xs, l.ys))
    end
  end
  if #panel.trades <= M.MAX_MARKERS then markers(buf, pctx, fr) end
  buf[#buf + 1] = "</svg>"
end

-- How the run was simulated: fills, sizing and costs, from the result's options.
local SETTINGS = {
  { "fill", "Fills", function(v) return v == "close" and "at the deciding bar's close" or "at the next bar's open" end },
  { "size", "Size", function(v) return ("%s of equity per entry"):format(num(v * 100, 2) .. "%") end },
  { "size_at", "Sized at", function(v) return v == "fill" and "the fill (equity after the bar's exits)" or "the deciding close" end },
  { "commission", "Commission", function(v, o)
    local kind = o.commission_kind or "pct"
    if kind == "per_share" then return num(v, 4) .. " per unit" end
    if kind == "fixed" then return num(v, 2) .. " per order" end
    return num(v * 100, 3) .. "% of notional"
  end },
  { "slippage_bps", "Slippage", function(v) return num(v, 2) .. " bps" end },
  { "spread_bps", "Spread", function(v) return num(v, 2) .. " bps (half paid per fill)" end },
  { "leverage", "Leverage", function(v) return num(v, 2) .. "x" end },
  { "short", "Shorting", function(v) return v and "allowed" or "off" end },
  { "fractional", "Units", function(v) return v and "fractional" or "whole" end },
  { "stop_pct", "Stop", function(v) return v > 0 and (num(v * 100, 2) .. "% from each entry") or "none" end },
  { "take_pct", "Take-profit", function(v) return v > 0 and (num(v * 100, 2) .. "% from each entry") or "none" end },
  { "close_at_end", "At the end", function(v) return v == "none" and "positions left open" or ("closed at the last " .. tostring(v)) end },
}

local function settings(buf, options)
  local rows = {}
  for _, f in ipairs(SETTINGS) do
    local v = options[f[1]]
    if v ~= nil then
      rows[#rows + 1] = ('<span class="chip" data-key="%s">%s: %s</span>'):format(f[1], esc(f[2]), esc(f[3](v, options)))
    end
  end
  if #rows > 0 then buf[#buf + 1] = '<div id="settings" class="params">' .. table.concat(rows) .. "</div>" end
end

local function equity_chart(buf, ctx)
  local H = 300
  local xs, ys = downsample(ctx.equity, ctx.n)
  local bxs, bys = {}, {}
  if ctx.bench then bxs, bys = downsample(ctx.bench, ctx.n) end
  local lo, hi = range_of({ ys, bys })
  local ylo, yhi, yticks, _, step = nice_range(lo, hi, 5)
  local fr = frame(ctx, H, ylo, yhi)
  svg_open(buf, "equity-chart", H, "Equity: strategy against buy-and-hold",
    "Account equity at each bar's close; buy-and-hold starts with the same capital")
  axes(buf, ctx, fr, yticks, tick_format(yticks, step))
  if #xs == 0 then no_data(buf, H) end
  polyline(buf, "s-bench", fr, bxs, bys)
  polyline(buf, "s-equity", fr, xs, ys)
  buf[#buf + 1] = "</svg>"
end

local function drawdown_chart(buf, ctx)
  local H = 200
  local xs, ys = downsample(ctx.drawdown, ctx.n)
  local lo = range_of({ ys })
  if not (lo < 0) then lo = -0.01 end
  local ylo, _, yticks, dec = nice_range(lo * 100, 0, 4)
  ylo = ylo / 100
  local fr = frame(ctx, H, ylo, 0)
  svg_open(buf, "drawdown-chart", H, "Drawdown from the running equity peak",
    "Fraction below the highest equity so far, in percent")
  local fractions = {}
  for i, v in ipairs(yticks) do fractions[i] = v / 100 end
  axes(buf, ctx, fr, fractions, function(v) return fmt.num(v * 100, dec) .. "%" end)
  if #xs == 0 then
    no_data(buf, H)
  else
    local zero = f1(fr.y(0))
    buf[#buf + 1] = ('<path class="s-dd-area" d="M%s %s L%s L%s %sZ"/>'):format(
      f1(fr.x(xs[1])), zero, points(fr, xs, ys), f1(fr.x(xs[#xs])), zero)
    polyline(buf, "s-dd", fr, xs, ys)
  end
  buf[#buf + 1] = "</svg>"
end

-- ---- tables --------------------------------------------------------------------------

local KNOWN = {
  start_equity = "Start equity", final_equity = "Final equity", return_pct = "Return",
  cagr_pct = "CAGR", ann_return_pct = "Annual return", ann_vol_pct = "Annual volatility",
  sharpe = "Sharpe ratio", sortino = "Sortino ratio", calmar = "Calmar ratio",
  max_drawdown_pct = "Max drawdown", max_drawdown_bars = "Max drawdown length (bars)",
  avg_drawdown_pct = "Average drawdown", num_trades = "Trades", win_rate_pct = "Win rate",
  profit_factor = "Profit factor", expectancy = "Expectancy", avg_trade_pct = "Average trade",
  best_trade_pct = "Best trade", worst_trade_pct = "Worst trade",
  avg_trade_bars = "Average trade length (bars)", max_trade_bars = "Longest trade (bars)",
  exposure_pct = "Exposure", sqn = "SQN", buy_hold_return_pct = "Buy-and-hold return",
  beta = "Beta", alpha_pct = "Alpha", years = "Years", total_fees = "Total fees",
}

-- A suggested order for gt_stats (pass it as result.stats_fields); without stats_fields
-- the table lists the keys sorted, titled from KNOWN.
local ORDER = { "return_pct", "cagr_pct", "ann_return_pct", "ann_vol_pct", "sharpe", "sortino", "calmar",
  "max_drawdown_pct", "max_drawdown_bars", "avg_drawdown_pct", "num_trades", "win_rate_pct",
  "profit_factor", "expectancy", "avg_trade_pct", "best_trade_pct", "worst_trade_pct", "avg_trade_bars",
  "max_trade_bars", "exposure_pct", "sqn", "buy_hold_return_pct", "beta", "alpha_pct", "start_equity",
  "final_equity", "total_fees", "years" }
M.STATS_FIELDS = {}
for i, k in ipairs(ORDER) do
  M.STATS_FIELDS[i] = { key = k, title = KNOWN[k], unit = k:match("_pct$") and "%" or nil }
end

local function stats_fields(result)
  if result.stats_fields then return result.stats_fields end
  local keys = {}
  for k in pairs(result.stats or {}) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local out = {}
  for i, k in ipairs(keys) do
    local title = KNOWN[k]
    if not title then
      title = k:gsub("_pct$", ""):gsub("_", " ")
      title = title:sub(1, 1):upper() .. title:sub(2)
    end
    out[i] = { key = k, title = title, unit = k:match("_pct$") and "%" or nil }
  end
  return out
end

local function stats_table(buf, result)
  local fields = stats_fields(result)
  local stats = result.stats or {}
  local cells = {}
  for _, f in ipairs(fields) do
    local v = stats[f.key]
    local s = num(v)
    if f.unit and type(v) == "number" and v == v and math.abs(v) ~= math.huge then
      s = s .. (f.unit == "%" and "%" or (" " .. esc(f.unit)))
    end
    cells[#cells + 1] = ('<th scope="row">%s</th><td%s>%s</td>'):format(esc(f.title or f.key), cls_sign(v), s)
  end
  local per_row = 3
  buf[#buf + 1] = '<table id="stats-table" class="stats"><tbody>'
  for i = 1, #cells, per_row do
    local row = { "<tr>" }
    for j = i, i + per_row - 1 do row[#row + 1] = cells[j] or '<th class="pad"></th><td class="pad"></td>' end
    row[#row + 1] = "</tr>"
    buf[#buf + 1] = table.concat(row)
  end
  if #cells == 0 then buf[#buf + 1] = '<tr><td class="empty">no statistics</td></tr>' end
  buf[#buf + 1] = "</tbody></table>"
end

local function trade_row(k, tr)
  local side = tr.size < 0 and '<span class="short">Short</span>' or '<span class="long">Long</span>'
  return ('<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
    .. '<td>%s</td><td%s>%s</td><td%s>%s</td><td>%s</td></tr>'):format(
    k, side, esc(tr.entry_label), num(tr.entry_bar), num(tr.entry_price, 2),
    esc(tr.exit_label), tr.closed and num(tr.exit_bar) or "", num(tr.exit_price, 2), num(tr.size),
    cls_sign(tr.pnl), num(tr.pnl, 2), cls_sign(tr.return_pct), num(tr.return_pct, 2), num(tr.fees, 2))
end

local function trades_table(buf, ctx)
  local trades = ctx.trades
  local m = #trades
  if m > M.MAX_TRADE_ROWS then
    buf[#buf + 1] = ('<p class="note">%s trades: showing the first %d and the last %d.</p>'):format(
      fmt.num(m), M.TRADE_EDGE_ROWS, M.TRADE_EDGE_ROWS)
  end
  buf[#buf + 1] = '<div class="scroll"><table id="trades-table" class="trades"><thead><tr>'
    .. '<th>#</th><th>Side</th><th>Entry time</th><th>Entry bar</th><th>Entry price</th>'
    .. '<th>Exit time</th><th>Exit bar</th><th>Exit price</th><th>Size</th><th>PnL</th>'
    .. '<th>Return %</th><th>Fees</th></tr></thead><tbody>'
  if m == 0 then buf[#buf + 1] = '<tr><td colspan="12" class="empty">no trades</td></tr>' end
  for k = 1, m do
    if m > M.MAX_TRADE_ROWS and k == M.TRADE_EDGE_ROWS + 1 then
      buf[#buf + 1] = ('<tr class="gap"><td colspan="12">&#8943; %s trades not shown &#8943;</td></tr>'):format(
        fmt.num(m - 2 * M.TRADE_EDGE_ROWS))
    end
    if m <= M.MAX_TRADE_ROWS or k <= M.TRADE_EDGE_ROWS or k > m - M.TRADE_EDGE_ROWS then
      buf[#buf + 1] = trade_row(k, trades[k])
    end
  end
  buf[#buf + 1] = "</tbody></table></div>"
end

-- ---- page ----------------------------------------------------------------------------

local CSS = [[
*{box-sizing:border-box}
body{margin:0;background:#f4f6f8;color:#1f2933;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,"Liberation Sans","DejaVu Sans",sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 24px 48px}
header{display:flex;justify-content:space-between;align-items:flex-start;gap:24px;margin-bottom:20px}
h1{font-size:24px;margin:0 0 4px;font-weight:650;letter-spacing:-.01em}
h2{font-size:15px;margin:0;font-weight:600}
.sub{color:#52606d;font-size:14px}
.sub b{color:#1f2933;font-weight:600}
.params{margin-top:10px;display:flex;flex-wrap:wrap;gap:6px}
.chip{background:#e6ebf1;border-radius:4px;padding:2px 8px;font:12px/1.6 ui-monospace,"DejaVu Sans Mono",
"Liberation Mono",monospace;color:#323f4b}
.run{color:#7b8794;font-size:12px;text-align:right;white-space:nowrap}
.run b{display:block;color:#1f2933;font-size:18px}
section{background:#fff;border:1px solid #e1e6eb;border-radius:8px;padding:16px 18px;margin-bottom:18px}
.head{display:flex;justify-content:space-between;align-items:baseline;margin-bottom:8px}
.legend{font-size:12px;color:#52606d}
.legend i{display:inline-block;width:14px;height:3px;vertical-align:middle;margin:0 5px 0 12px;border-radius:2px}
.legend i.tri-up,.legend i.tri-dn{width:0;height:0;border-radius:0;border-left:5px solid transparent;
border-right:5px solid transparent}
.legend i.tri-up{border-bottom:9px solid #16a34a}.legend i.tri-dn{border-top:9px solid #dc2626}
.legend i.ring{width:8px;height:8px;border:2px solid #334155;border-radius:50%;background:#fff}
svg.chart{display:block;width:100%;height:auto}
svg .grid line{stroke:#eef1f4;stroke-width:1}
svg .axis{stroke:#9aa5b1;stroke-width:1}
svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,"Liberation Sans","DejaVu Sans",sans-serif;
fill:#616e7c}
svg .ylabels text{text-anchor:end}
svg .xlabels text{text-anchor:middle}
svg .nodata{text-anchor:middle;fill:#9aa5b1;font-size:16px}
polyline{fill:none;stroke-linejoin:round;stroke-linecap:round}
.s-close{stroke:#334155;stroke-width:1.4}
.s-ind{fill:none;stroke-width:1.2;opacity:.9}.s-ind1{stroke:#d97706}.s-ind2{stroke:#7c3aed}
.s-ind3{stroke:#0891b2}.s-ind4{stroke:#be123c}
.s-equity{stroke:#2563eb;stroke-width:1.8}
.s-bench{stroke:#9aa5b1;stroke-width:1.4;stroke-dasharray:5 3}
.s-dd{stroke:#dc2626;stroke-width:1.2}
.s-dd-area{fill:#dc2626;fill-opacity:.16;stroke:none}
.m-long{fill:#16a34a}.m-short{fill:#dc2626}
.m-exit{fill:#fff;stroke:#334155;stroke-width:1.6}
.m-exit-dots{fill:none;stroke:#334155;stroke-opacity:.75;stroke-width:5;stroke-linecap:round}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
.stats th,.stats td{padding:7px 10px;border-bottom:1px solid #eef1f4}
.stats th{font-weight:500;color:#52606d;text-align:left;width:20%}
.stats td{text-align:right;font-weight:600;width:13%;padding-right:22px}
.stats tr:last-child th,.stats tr:last-child td{border-bottom:0}
.scroll{max-height:640px;overflow:auto;border:1px solid #eef1f4;border-radius:6px}
.stats td{overflow-wrap:anywhere}
.trades{font-size:13px}
.trades th{position:sticky;top:0;background:#f8fafc;color:#52606d;font-weight:600;text-align:right;
padding:7px 10px;border-bottom:1px solid #e1e6eb;white-space:nowrap}
.trades td{padding:5px 10px;text-align:right;border-bottom:1px solid #f1f4f7;white-space:nowrap}
.trades th:nth-child(-n+3),.trades td:nth-child(-n+3),.trades th:nth-child(6),.trades td:nth-child(6){text-align:left}
.trades tbody tr:nth-child(even){background:#fbfcfd}
.trades tr.gap td{text-align:center;color:#7b8794;background:#f4f6f8}
.neg{color:#c81e1e}
.long{color:#15803d;font-weight:600}.short{color:#c81e1e;font-weight:600}
.note{color:#7b8794;font-size:12px;margin:0 0 8px}
.empty{text-align:center;color:#9aa5b1}
footer{color:#9aa5b1;font-size:12px;text-align:center}
.tl-order{fill:#2563eb}.tl-fill{fill:#16a34a}.tl-refusal{fill:#d97706}.tl-breaker{fill:#dc2626}
.tl-regime{fill:#7c3aed}.tl-alert{fill:#be123c}.tl-reload{fill:#0891b2}.tl-tier_change{fill:#334155}
.trades td.tl-text{text-align:left;white-space:normal}
@media print{body{background:#fff}section{break-inside:avoid;border-color:#ccc}.scroll{max-height:none}}
]]

local function legend(items)
  local p = { '<div class="legend">' }
  for _, it in ipairs(items) do
    p[#p + 1] = ('<i class="%s"%s></i>%s'):format(it[1], it[2] and (' style="background:%s"'):format(it[2]) or "",
      esc(it[3]))
  end
  p[#p + 1] = "</div>"
  return table.concat(p)
end

-- "2024-01-02" at midnight, else "2024-01-02 15:30" (seconds only when not zero).
local function when(us)
  local s = time.format(us, false)
  if s:sub(12, 19) == "00:00:00" and not s:find("%.") then return s:sub(1, 10) end
  if s:sub(17, 19) == ":00" and not s:find("%.") then return s:sub(1, 10) .. " " .. s:sub(12, 16) end
  return s:sub(1, 10) .. " " .. s:sub(12, -2)
end
M.when = when

-- The risk gate's section: the state over time as a strip (green ACTIVE, amber REDUCING, red
-- HALTED), its end state and causes, refusals by rule, the first refused orders, and the tier.
local STATE_COLOR = { ACTIVE = "#16a34a", REDUCING = "#d97706", HALTED = "#dc2626" }
local function risk_section(buf, ctx, result)
  local rk, n = result.risk, ctx.n
  buf[#buf + 1] = ('<section id="risk"><div class="head"><h2>Risk gate</h2><div class="legend">%s</div></div>')
    :format(esc(("%s at the end%s; %d orders refused"):format(tostring(rk.state),
      (type(rk.causes) == "table" and #rk.causes > 0) and (" (" .. table.concat(rk.causes, ", ") .. ")") or "",
      tonumber(rk.refused_orders) or 0)))
  local H = 46
  local fr = frame(ctx, H, 0, 1)
  svg_open(buf, "risk-chart", H, "risk gate state over time", "green active, amber reducing, red halted")
  local ch = type(rk.changes) == "table" and rk.changes or {}
  for k, c in ipairs(ch) do
    local b0 = tonumber(c.bar) or 0
    local b1 = ch[k + 1] and tonumber(ch[k + 1].bar) or n - 1
    local x0, x1 = fr.x(b0), fr.x(math.max(b1, b0))
    buf[#buf + 1] = ('<rect class="risk-%s" x="%s" y="%d" width="%s" height="%d" fill="%s"><title>%s from %s</title></rect>')
      :format(esc(tostring(c.state)):lower(), f1(x0), PAD.top, f1(math.max(x1 - x0, 1)), H - PAD.top - 6,
        STATE_COLOR[c.state] or "#9aa5b1", esc(tostring(c.state)),
        esc(c.ts and when(tonumber(c.ts)) or tostring(b0)))
  end
  buf[#buf + 1] = "</svg>"
  local rows = {}
  for rule, count in pairs(type(rk.refused) == "table" and rk.refused or {}) do
    rows[#rows + 1] = ('<tr><td>%s</td><td class="num">%s</td></tr>'):format(esc(rule), fmt.num(count))
  end
  table.sort(rows)
  if #rows > 0 then
    buf[#buf + 1] = '<table class="stats" id="risk-refused"><tr><th>rule</th><th class="num">orders refused</th></tr>'
      .. table.concat(rows) .. "</table>"
  end
  if type(result.tier) == "table" then
    local t = result.tier
    buf[#buf + 1] = ('<div class="sub" id="tier">tier <b>%s</b>: %s of equity per entry, stop %s, daily loss limit %s, at most %s positions%s</div>')
      :format(esc(tostring(t.name)), num((t.size or 0) * 100, 1) .. "%", num((t.stop_pct or 0) * 100, 1) .. "%",
        num((t.max_daily_loss or 0) * 100, 1) .. "%", tostring(t.max_positions),
        t.strategy_allowed == false and "; this strategy is not among the tier's" or "")
  end
  buf[#buf + 1] = "</section>"
end

-- The event timeline of a session (result.timeline: {ts =, kind =, symbol =, text =}, in
-- order): one lane per kind of marks at the events' bars (#timeline-chart), and a table
-- (#timeline-table; over MAX_TIMELINE_ROWS, the first and last halves).
M.TIMELINE_KINDS = { "order", "fill", "refusal", "breaker", "regime", "alert", "reload", "tier_change" }
M.MAX_TIMELINE_ROWS = 1000
local function timeline_section(buf, ctx, events)
  local lanes, present = {}, {}
  for _, e in ipairs(events) do present[e.kind] = true end
  for _, k in ipairs(M.TIMELINE_KINDS) do if present[k] then lanes[#lanes + 1] = k end end
  for _, e in ipairs(events) do
    local known = false
    for _, k in ipairs(lanes) do if k == e.kind then known = true end end
    if not known then lanes[#lanes + 1] = e.kind; present[e.kind] = true end
  end
  local counts = {}
  for _, e in ipairs(events) do counts[e.kind] = (counts[e.kind] or 0) + 1 end
  local parts = {}
  for _, k in ipairs(lanes) do parts[#parts + 1] = ("%s %s"):format(fmt.num(counts[k]), k) end
  buf[#buf + 1] = ('<section id="timeline"><div class="head"><h2>Timeline</h2><div class="legend">%s</div></div>')
    :format(esc(#parts > 0 and table.concat(parts, " · ") or "no events"))
  local LANE = 18
  local H = PAD.top + math.max(1, #lanes) * LANE + PAD.bottom
  local fr = frame(ctx, H, 0, 1)
  svg_open(buf, "timeline-chart", H, "Session events over time", "one lane per kind of event, a mark at each event's bar")
  axes(buf, ctx, { x = fr.x, y = function() return PAD.top end, ph = H - PAD.top - PAD.bottom }, {}, tostring)
  local lane_of = {}
  for i, k in ipairs(lanes) do
    lane_of[k] = i
    buf[#buf + 1] = ('<text x="%d" y="%s" text-anchor="end">%s</text>'):format(PAD.left - 8,
      f1(PAD.top + (i - 0.5) * LANE + 4), esc(k))
  end
  local marks, seen = {}, {}
  for _, e in ipairs(events) do
    local i = ctx.n > 0 and lower_bound(ctx.ts, ctx.n, e.ts) or 0
    if i >= ctx.n then i = ctx.n - 1 end
    local x = math.floor(fr.x(math.max(i, 0)) + 0.5)
    local key = e.kind .. ":" .. x
    if not seen[key] then -- one mark per lane and pixel column
      seen[key] = true
      marks[#marks + 1] = ('<rect class="tl-%s" x="%d" y="%s" width="3" height="%d"><title>%s</title></rect>'):format(
        esc(e.kind), x - 1, f1(PAD.top + (lane_of[e.kind] - 1) * LANE + 3), LANE - 6,
        esc(when(e.ts) .. " " .. tostring(e.text or e.kind)))
    end
  end
  buf[#buf + 1] = '<g class="tl-marks">' .. table.concat(marks) .. "</g></svg>"
  local m, half = #events, M.MAX_TIMELINE_ROWS / 2
  if m > M.MAX_TIMELINE_ROWS then
    buf[#buf + 1] = ('<p class="note">%s events: showing the first %d and the last %d.</p>'):format(fmt.num(m), half, half)
  end
  buf[#buf + 1] = '<div class="scroll"><table id="timeline-table" class="trades"><thead><tr>'
    .. '<th>#</th><th>Time</th><th>Kind</th><th>Symbol</th><th>Event</th></tr></thead><tbody>'
  if m == 0 then buf[#buf + 1] = '<tr><td colspan="5" class="empty">no events</td></tr>' end
  for k = 1, m do
    if m > M.MAX_TIMELINE_ROWS and k == half + 1 then
      buf[#buf + 1] = ('<tr class="gap"><td colspan="5">&#8943; %s events not shown &#8943;</td></tr>'):format(
        fmt.num(m - M.MAX_TIMELINE_ROWS))
    end
    if m <= M.MAX_TIMELINE_ROWS or k <= half or k > m - half then
      local e = events[k]
      buf[#buf + 1] = ('<tr class="tl-row-%s"><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td class="tl-text">%s</td></tr>')
        :format(esc(e.kind), k, esc(when(e.ts)), esc(e.kind), esc(e.symbol or ""), esc(e.text or ""))
    end
  end
  buf[#buf + 1] = "</tbody></table></div></section>"
end

local function normalize_trades(result)
  local trades = result.trades or {}
  if type(trades) ~= "table" then error("report: result.trades must be a list", 3) end
  local out = {}
  for k, tr in ipairs(trades) do
    if type(tr) ~= "table" then error(("report: result.trades[%d] must be a table"):format(k), 3) end
    local function n_(v) if type(v) == "cdata" then return tonumber(v) end return v end
    local t = {
      entry_time = n_(tr.entry_time or tr.entry_ts), exit_time = n_(tr.exit_time or tr.exit_ts),
      entry_bar = n_(tr.entry_bar), exit_bar = n_(tr.exit_bar),
      entry_price = n_(tr.entry_price), exit_price = n_(tr.exit_price),
      size = n_(tr.size) or 0, pnl = n_(tr.pnl), return_pct = n_(tr.return_pct), fees = n_(tr.fees),
      symbol = tr.symbol,
    }
    if t.entry_bar ~= nil and type(t.entry_bar) ~= "number" then
      error(("report: result.trades[%d].entry_bar must be a number"):format(k), 3)
    end
    t.closed = type(t.exit_bar) == "number" and t.exit_bar >= 0
    if type(t.entry_price) ~= "number" then t.entry_price = 0 / 0 end
    if type(t.exit_price) ~= "number" then t.exit_price = 0 / 0 end
    t.entry_label = type(t.entry_time) == "number" and when(t.entry_time) or ""
    t.exit_label = t.closed and type(t.exit_time) == "number" and when(t.exit_time) or (t.closed and "" or "open")
    out[k] = t
  end
  return out
end

-- The chart inputs: columns, drawdown and rescaled buy-and-hold; html adds trades and ticks.
-- raw_ts: leave an int64 ts column as it is (bars_used only searches it).
local function series_context(result, raw_ts)
  local n = result.n
  local ctx = { n = n, symbol = tostring(result.symbol or "?"), timeframe = tostring(result.timeframe or "?") }
  ctx.ts = (raw_ts and type(result.ts) == "cdata") and result.ts or column(result.ts, n, "ts")
  ctx.close = column(result.close, n, "close")
  ctx.equity = column(result.equity, n, "equity")
  if result.drawdown then
    ctx.drawdown = column(result.drawdown, n, "drawdown")
  else
    local dd, peak = ffi.new("double[?]", n), -math.huge
    for i = 0, n - 1 do
      local e = ctx.equity[i]
      if e > peak then peak = e end
      dd[i] = e / peak - 1
    end
    ctx.drawdown = dd
  end
  -- buy-and-hold with the strategy's starting capital: the given benchmark rescaled, or close
  if n > 0 then
    local src = result.benchmark_equity and column(result.benchmark_equity, n, "benchmark_equity") or ctx.close
    local scale = ctx.equity[0] / src[0]
    if scale == scale and math.abs(scale) ~= math.huge then
      local b = ffi.new("double[?]", n)
      for i = 0, n - 1 do b[i] = src[i] * scale end
      ctx.bench = b
    end
  end
  return ctx
end

function M.html(result)
  if type(result) ~= "table" then error("report.html: result must be a table", 2) end
  local n = result.n
  if type(n) ~= "number" or n < 0 or n % 1 ~= 0 then error("report.html: result.n must be a bar count", 2) end
  local ctx = series_context(result)
  ctx.trades = result.trades == false and {} or normalize_trades(result)
  ctx.xticks = {}
  if n > 1 then
    local fr = frame(ctx, 100, 0, 1)
    local last_x = -math.huge
    for _, tk in ipairs(time_ticks(ctx.ts[0], ctx.ts[n - 1], 8)) do
      local i = lower_bound(ctx.ts, n, tk.t)
      local x = fr.x(i)
      if i < n and x - last_x >= 70 and x <= W - PAD.right - 20 then
        ctx.xticks[#ctx.xticks + 1] = { i = i, label = tk.label }
        last_x = x
      end
    end
  end

  local strategy = tostring(result.strategy or "backtest")
  local range = n > 0 and (when(ctx.ts[0]) .. " to " .. when(ctx.ts[n - 1]) .. " UTC") or "no bars"
  local buf = {}
  buf[#buf + 1] = '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
  buf[#buf + 1] = '<meta name="viewport" content="width=device-width, initial-scale=1">'
  buf[#buf + 1] = ("<title>%s · %s %s · backtest report</title>"):format(esc(strategy), esc(ctx.symbol),
    esc(ctx.timeframe))
  buf[#buf + 1] = "<style>" .. CSS .. "</style></head><body><main>"

  buf[#buf + 1] = "<header><div>"
  buf[#buf + 1] = ('<h1 id="strategy">%s</h1>'):format(esc(strategy))
  buf[#buf + 1] = ('<div class="sub"><b>%s</b> · %s · %s · %s bars</div>'):format(esc(ctx.symbol),
    esc(ctx.timeframe), esc(range), fmt.num(n))
  local keys = {}
  for k in pairs(result.params or {}) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  if #keys > 0 then
    local chips = {}
    for i, k in ipairs(keys) do
      local v = result.params[k]
      if v == nil then v = result.params[tonumber(k)] end
      chips[i] = ('<span class="chip">%s = %s</span>'):format(esc(k), esc(param_value(v)))
    end
    buf[#buf + 1] = '<div class="params" id="params">' .. table.concat(chips) .. "</div>"
  end
  if type(result.options) == "table" then settings(buf, result.options) end
  buf[#buf + 1] = "</div>"
  if result.run_id ~= nil then
    buf[#buf + 1] = ('<div class="run">run<b id="run-id">%s</b></div>'):format(esc(param_value(result.run_id)))
  end
  buf[#buf + 1] = "</header>"

  buf[#buf + 1] = '<section><div class="head"><h2>Statistics</h2></div>'
  stats_table(buf, result)
  buf[#buf + 1] = "</section>"

  -- one price panel per symbol, each with its own axis, indicator lines and trades
  local panels = {}
  local list, names = result.list, result.symbols
  if type(list) == "table" and #list > 1 and type(names) == "table" then
    for j, sj in ipairs(list) do
      local mine = {}
      for _, tr in ipairs(ctx.trades) do if tr.symbol == names[j] then mine[#mine + 1] = tr end end
      panels[j] = { symbol = tostring(names[j]), close = column(sj.close, n, "close"), trades = mine,
        overlays = result.overlays and result.overlays[j] }
    end
  else
    panels[1] = { symbol = ctx.symbol, close = ctx.close, trades = ctx.trades,
      overlays = result.overlays and result.overlays[1] }
  end
  for j, panel in ipairs(panels) do
    local items = { { "", "#334155", "Close" } }
    for k, ov in ipairs(panel.overlays or {}) do
      items[#items + 1] = { "", ({ "#d97706", "#7c3aed", "#0891b2", "#be123c" })[(k - 1) % 4 + 1], ov.name }
    end
    items[#items + 1] = { "tri-up", nil, "Long entry" }
    items[#items + 1] = { "tri-dn", nil, "Short entry" }
    items[#items + 1] = { "ring", nil, "Exit" }
    buf[#buf + 1] = ('<section><div class="head"><h2>%s</h2>'):format(#panels > 1 and ("Price: " .. esc(panel.symbol)) or "Price")
      .. legend(items) .. "</div>"
    price_chart(buf, ctx, j == 1 and "price-chart" or ("price-chart-" .. j), panel)
    buf[#buf + 1] = "</section>"
  end

  buf[#buf + 1] = '<section><div class="head"><h2>Equity</h2>'
    .. legend({ { "", "#2563eb", "Strategy" }, { "", "#9aa5b1", "Buy and hold" } }) .. "</div>"
  equity_chart(buf, ctx)
  buf[#buf + 1] = "</section>"

  buf[#buf + 1] = '<section><div class="head"><h2>Drawdown</h2></div>'
  drawdown_chart(buf, ctx)
  buf[#buf + 1] = "</section>"

  if type(result.risk) == "table" then risk_section(buf, ctx, result) end

  if type(result.timeline) == "table" then timeline_section(buf, ctx, result.timeline) end

  if result.trades ~= false then -- false: a session's report, whose events are the timeline
    buf[#buf + 1] = ('<section><div class="head"><h2>Trades</h2><div class="legend">%s %s</div></div>'):format(
      fmt.num(#ctx.trades), #ctx.trades == 1 and "trade" or "trades")
    trades_table(buf, ctx)
    buf[#buf + 1] = "</section>"
  end

  buf[#buf + 1] = ("<footer>gtengine %s report</footer></main></body></html>\n"):format(
    result.kind == "session" and "session" or "backtest")
  return table.concat(buf, "\n")
end

-- The bars whose ts, close, equity, drawdown and benchmark_equity the report reads, sorted,
-- 0-based: every bar up to MAX_POINTS, else the first and last, each chart's min/max
-- points and the bars around each date tick. A saved run keeps only these (gt.store,
-- schema 4); given them, with NaN elsewhere and ts carried forward, html writes the same file.
-- The lines a report draws besides the first symbol's close and the equity curves: each
-- further symbol's close and every declared indicator line, as {key =, values =}.
function M.extra_lines(result)
  local out = {}
  local list = result.list
  if type(list) == "table" and #list > 1 then
    for j = 2, #list do out[#out + 1] = { key = "close" .. j, panel = j, values = list[j].close } end
  end
  for j, lines in ipairs(result.overlays or {}) do
    for _, l in ipairs(lines) do
      out[#out + 1] = { key = "ind", panel = j, name = l.name, values = l.values }
    end
  end
  return out
end

function M.bars_used(result)
  if type(result) ~= "table" then error("report.bars_used: result must be a table", 2) end
  local n = result.n
  if type(n) ~= "number" or n < 0 or n % 1 ~= 0 then error("report.bars_used: result.n must be a bar count", 2) end
  local out = {}
  if n <= M.MAX_POINTS then
    for i = 0, n - 1 do out[i + 1] = i end
    return out
  end
  local ctx = series_context(result, true)
  local set = { [0] = true, [n - 1] = true }
  for _, v in ipairs({ ctx.close, ctx.equity, ctx.drawdown, ctx.bench or false }) do
    if v then
      for _, i in ipairs((downsample(v, n))) do set[i] = true end
    end
  end
  for _, l in ipairs(M.extra_lines(result)) do
    for _, i in ipairs((downsample(column(l.values, n, l.key), n))) do set[i] = true end
  end
  -- every candidate tick, kept or not: which are kept depends on where the others fell
  for _, tk in ipairs(time_ticks(tonumber(ctx.ts[0]), tonumber(ctx.ts[n - 1]), 8)) do
    local i = lower_bound(ctx.ts, n, tk.t)
    if i < n then set[i] = true end
    if i > 0 then set[i - 1] = true end
  end
  for i in pairs(set) do out[#out + 1] = i end
  table.sort(out)
  return out
end

function M.write(result, path)
  if type(path) ~= "string" or path == "" then error("report.write: path must be a string", 2) end
  -- whole or not at all, never through a symlink or over a device (gt.fsio)
  local ok, err = require("gt.fsio").write(path, M.html(result))
  if not ok then return nil, "report: " .. err end
  return true
end

return M
