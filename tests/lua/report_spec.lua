local ffi = require "ffi"
local report = require "gt.report"
local textchart = require "gt.textchart"
local t = require "tests.lua.support"

local DAY = 86400 * 1000000
local T2019 = 1546300800 * 1000000 -- 2019-01-01T00:00:00Z (date -u -d 2019-01-01 +%s)
local T2024 = 1704067200 * 1000000 -- 2024-01-01T00:00:00Z, a Monday

local function count(s, pat)
  local k = 0
  for _ in s:gmatch(pat) do k = k + 1 end
  return k
end

-- The text of one element by id: from its opening tag to the matching close tag name.
local function element(html, tag, id)
  local a = html:find("<" .. tag .. ' id="' .. id .. '"', 1, true)
  if not a then return nil end
  local b = html:find("</" .. tag .. ">", a, true)
  return html:sub(a, b)
end

-- A deterministic synthetic result: n daily bars of a bounded zig-zag price, a trade every
-- 40 bars (long and short alternating, 20 bars each), optionally one open trade at the end.
local function synthetic(n, opts)
  opts = opts or {}
  local step = opts.step or DAY
  local ts, close, eq = ffi.new("int64_t[?]", n), ffi.new("double[?]", n), ffi.new("double[?]", n)
  for i = 0, n - 1 do
    ts[i] = T2019 + i * step
    close[i] = 100 + 10 * math.sin(i / 50) + (i % 7) * 0.3
    eq[i] = 10000 + 500 * math.sin(i / 80) + i * 0.01
  end
  local dd, peak = ffi.new("double[?]", n), -math.huge
  for i = 0, n - 1 do
    if eq[i] > peak then peak = eq[i] end
    dd[i] = eq[i] / peak - 1
  end
  local trades = {}
  local every = opts.every or 40
  for i = 5, n - 22, every do
    local long = #trades % 2 == 0
    trades[#trades + 1] = {
      entry_time = tonumber(ts[i]), entry_bar = i, entry_price = close[i],
      exit_time = tonumber(ts[i + 20]), exit_bar = i + 20, exit_price = close[i + 20],
      size = long and 10 or -10, pnl = (close[i + 20] - close[i]) * (long and 10 or -10) - 1,
      return_pct = 1.5, fees = 1,
    }
  end
  if opts.open_trade then
    trades[#trades + 1] = { entry_time = tonumber(ts[n - 3]), entry_bar = n - 3, entry_price = close[n - 3],
      exit_time = 0, exit_bar = -1, exit_price = close[n - 1], size = 5, pnl = 0, return_pct = 0, fees = 0.5 }
  end
  return {
    strategy = opts.strategy or "sma_cross", params = opts.params or { fast = 10, slow = 30 },
    symbol = "GOOG", timeframe = "1d", run_id = 3, n = n, ts = ts, close = close, equity = eq,
    drawdown = dd, trades = trades,
    stats = { return_pct = 12.5, sharpe = 0.81, num_trades = #trades, profit_factor = math.huge,
              sortino = 0 / 0, final_equity = 11250 },
    stats_fields = opts.stats_fields,
  }
end

describe("gt.report", function()
  it("renders the three charts and both tables with ids and titles", function()
    local html = report.html(synthetic(300))
    assert.truthy(html:match("^<!DOCTYPE html>"))
    for _, id in ipairs({ "price-chart", "equity-chart", "drawdown-chart" }) do
      local svg = element(html, "svg", id)
      assert.truthy(svg, id)
      assert.truthy(svg:find("<title", 1, true), id .. " has a title")
      assert.truthy(svg:find("<polyline", 1, true), id .. " has a line")
    end
    assert.truthy(element(html, "svg", "drawdown-chart"):find('class="s-dd-area"', 1, true))
    assert.truthy(element(html, "svg", "equity-chart"):find('class="s-bench"', 1, true))
    local stats = element(html, "table", "stats-table")
    assert.truthy(stats)
    assert.equal(6, count(stats, '<th scope="row">'), "one header cell per stat")
    local trades = element(html, "table", "trades-table")
    assert.equal(7, count(trades, "<tr>") - 1, "7 trades + header row")
    assert.truthy(html:find("GOOG", 1, true) and html:find("2019-01-01 to 2019-10-27 UTC", 1, true))
    assert.truthy(html:find("fast = 10", 1, true) and html:find("slow = 30", 1, true))
    assert.truthy(html:find('<b id="run-id">3</b>', 1, true))
  end)

  it("puts one marker per entry and one per closed trade", function()
    local r = synthetic(360, { open_trade = true })
    local longs, shorts, closed = 0, 0, 0
    for _, tr in ipairs(r.trades) do
      if tr.size > 0 then longs = longs + 1 else shorts = shorts + 1 end
      if tr.exit_bar >= 0 then closed = closed + 1 end
    end
    assert.equal(10, #r.trades); assert.equal(6, longs); assert.equal(4, shorts); assert.equal(9, closed)
    local price = element(report.html(r), "svg", "price-chart")
    assert.equal(longs, count(price, 'class="m%-long"'))
    assert.equal(shorts, count(price, 'class="m%-short"'))
    assert.equal(closed, count(price, 'class="m%-exit"'))
    -- the first trade enters long at bar 5: the triangle's tip sits at x(5), y(entry price)
    local x = 72 + 5 / 359 * (1000 - 72 - 20)
    assert.truthy(price:find(('d="M%.1f '):format(x), 1, true))
    assert.truthy(report.html(r):find(">open<", 1, true), "the open trade shows as open")
  end)

  it("escapes text from the result", function()
    local r = synthetic(50, { strategy = "<script>alert('x')</script>",
      params = { ["a<b"] = 'say "hi" & <go>' } })
    r.symbol = "A&B"
    local html = report.html(r)
    assert.falsy(html:find("<script", 1, true))
    assert.truthy(html:find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", 1, true))
    assert.truthy(html:find("a&lt;b = say &quot;hi&quot; &amp; &lt;go&gt;", 1, true))
    assert.truthy(html:find("<b>A&amp;B</b>", 1, true))
  end)

  it("references nothing outside the file", function()
    local html = report.html(synthetic(500))
    local stripped = html:gsub('xmlns[:%w]*="[^"]*"', "")
    assert.falsy(stripped:find("http://", 1, true))
    assert.falsy(stripped:find("https://", 1, true))
    for _, bad in ipairs({ "<script", "<link", "<img", "<iframe", "@import", "url(", " src=" }) do
      assert.falsy(html:find(bad, 1, true), bad)
    end
  end)

  it("downsamples by min/max per bucket and keeps the extremes", function()
    -- hand-worked: 10 values, 4 points -> 2 buckets [0..4] and [5..9]; each gives its min and
    -- max in the order they occur
    local v = { 5, 1, 9, 3, 4, 6, 6, 0, 7, 2 }
    local xs, ys = report.downsample(v, 10, 4)
    assert.same({ 1, 2, 7, 8 }, xs)
    assert.same({ 1, 9, 0, 7 }, ys)
    -- short series pass through untouched, NaN skipped
    xs, ys = report.downsample({ 3, 0 / 0, 4 }, 3)
    assert.same({ 0, 2 }, xs); assert.same({ 3, 4 }, ys)
    -- a long series with one spike each way
    local n = 100000
    local a = ffi.new("double[?]", n)
    for i = 0, n - 1 do a[i] = math.sin(i / 1000) end
    a[54321], a[77777] = 1e6, -1e6
    xs, ys = report.downsample(a, n)
    assert.is_true(#xs <= report.MAX_POINTS)
    local hi, lo, hx, lx = -math.huge, math.huge, nil, nil
    for k = 1, #ys do
      if ys[k] > hi then hi, hx = ys[k], xs[k] end
      if ys[k] < lo then lo, lx = ys[k], xs[k] end
      if k > 1 then assert.is_true(xs[k] > xs[k - 1], "x increases") end
    end
    assert.equal(1e6, hi); assert.equal(54321, hx)
    assert.equal(-1e6, lo); assert.equal(77777, lx)
  end)

  it("chooses nice y ticks and calendar x ticks", function()
    local lo, hi, ticks = report.nice_range(0.3, 9.7, 5)
    assert.equal(0, lo); assert.equal(10, hi)
    assert.same({ 0, 2, 4, 6, 8, 10 }, ticks)
    lo, hi, ticks = report.nice_range(101.2, 118.9, 5)
    assert.same({ 100, 105, 110, 115, 120 }, ticks)
    local function labels(t0, t1)
      local out = {}
      for i, tk in ipairs(report.time_ticks(t0, t1, 8)) do out[i] = tk.label end
      return out
    end
    -- 2019-01-01 .. 2021-12-31 spans 36 months: 6-month steps
    assert.same({ "Jan 2019", "Jul 2019", "Jan 2020", "Jul 2020", "Jan 2021", "Jul 2021" },
      labels(T2019, T2019 + 1095 * DAY))
    -- 30 days from Monday 2024-01-01: weekly, on Mondays
    assert.same({ "1 Jan 2024", "8 Jan 2024", "15 Jan 2024", "22 Jan 2024", "29 Jan 2024" },
      labels(T2024, T2024 + 30 * DAY))
    -- 25 years: 5-year steps
    assert.same({ "2000", "2005", "2010", "2015", "2020" },
      labels(946684800 * 1000000, 946684800 * 1000000 + 9131 * DAY))
    -- 6 hours: hourly
    assert.same({ "01-01 00:00", "01-01 01:00", "01-01 02:00", "01-01 03:00", "01-01 04:00",
      "01-01 05:00", "01-01 06:00" }, labels(T2024, T2024 + 6 * 3600 * 1000000))
    assert.equal("1.5M", report.tick_format({ 0, 1500000, 3000000 }, 1500000)(1500000))
    assert.equal("250,000", report.tick_format({ 0, 250000 }, 50000)(250000))
  end)

  it("draws buy-and-hold from close with the strategy's starting capital", function()
    local r = { n = 3, ts = { T2019, T2019 + DAY, T2019 + 2 * DAY }, close = { 10, 11, 10.5 },
      equity = { 1000, 1100, 1050 }, trades = {}, stats = {} }
    local svg = element(report.html(r), "svg", "equity-chart")
    local eq = svg:match('class="s%-equity" points="([^"]+)"')
    local bh = svg:match('class="s%-bench" points="([^"]+)"')
    assert.truthy(eq)
    assert.equal(eq, bh, "equity = 100 * close, so the lines coincide")
    -- 1-based Lua tables and 0-based FFI arrays give the same page
    local f = { n = 3, ts = ffi.new("int64_t[3]", T2019, T2019 + DAY, T2019 + 2 * DAY),
      close = ffi.new("double[3]", 10, 11, 10.5), equity = ffi.new("double[3]", 1000, 1100, 1050),
      trades = {}, stats = {} }
    assert.equal(report.html(r), report.html(f))
  end)

  it("formats stats in the given order with units, n/a and inf", function()
    local r = synthetic(60, { stats_fields = {
      { key = "sharpe", title = "Sharpe" }, { key = "return_pct", title = "Return", unit = "%" },
      { key = "profit_factor", title = "Profit factor" }, { key = "sortino", title = "Sortino" } } })
    local stats = element(report.html(r), "table", "stats-table")
    local got = {}
    for th, td in stats:gmatch('<th scope="row">([^<]*)</th><td[^>]*>([^<]*)</td>') do got[#got + 1] = th .. "=" .. td end
    assert.same({ "Sharpe=0.81", "Return=12.50%", "Profit factor=inf", "Sortino=n/a" }, got)
    -- without stats_fields: sorted keys, known titles
    stats = element(report.html(synthetic(60)), "table", "stats-table")
    got = {}
    for th in stats:gmatch('<th scope="row">([^<]*)</th>') do got[#got + 1] = th end
    assert.same({ "Final equity", "Trades", "Profit factor", "Return", "Sharpe ratio", "Sortino ratio" }, got)
  end)

  it("shows the first and last 250 of a long trade list", function()
    local r = synthetic(1300 * 3 + 26, { every = 3 })
    assert.equal(1300, #r.trades)
    local html = report.html(r)
    local trades = element(html, "table", "trades-table")
    assert.equal(500, count(trades, "<tr><td>"))
    assert.truthy(trades:find("<tr><td>250</td>", 1, true))
    assert.falsy(trades:find("<tr><td>251</td>", 1, true))
    assert.falsy(trades:find("<tr><td>1050</td>", 1, true))
    assert.truthy(trades:find("<tr><td>1051</td>", 1, true))
    assert.truthy(trades:find("<tr><td>1300</td>", 1, true))
    assert.truthy(trades:find("800 trades not shown", 1, true))
    assert.truthy(html:find("1,300 trades: showing the first 250 and the last 250.", 1, true))
  end)

  it("renders 1M bars in under 2 s into less than 2 MB", function()
    local n = 1000000
    local r = synthetic(n, { step = 60 * 1000000, every = 400 })
    local t0 = os.clock()
    local html = report.html(r)
    local dt = os.clock() - t0
    assert.is_true(dt < 2, ("took %.2f s"):format(dt))
    assert.is_true(#html < 2 * 1024 * 1024, ("%d bytes"):format(#html))
    for cls, pts in html:gmatch('<polyline class="([%w%-]+)" points="([^"]+)"') do
      assert.is_true(count(pts, ",") <= report.MAX_POINTS, cls)
    end
    assert.truthy(html:find('data-merged="1"', 1, true), "2,500 trades: markers merged")
    assert.truthy(html:find("1,000,000 bars", 1, true))
  end)

  it("writes the file, and reports failures as nil, err", function()
    local dir = t.tmpdir()
    local r = synthetic(100)
    assert.is_true(report.write(r, dir .. "/r.html"))
    local f = assert(io.open(dir .. "/r.html", "rb")); local s = f:read("*a"); f:close()
    assert.equal(report.html(r), s)
    -- a missing directory is made; a file standing where a directory should be fails
    assert.is_true(report.write(r, dir .. "/new/sub/r.html"))
    t.write(dir .. "/afile", "x")
    local ok, err = report.write(r, dir .. "/afile/r.html")
    assert.is_nil(ok); assert.truthy(err:find("afile/r.html", 1, true))
    os.execute("rm -rf " .. t.quote(dir))
  end)

  it("raises on a malformed result", function()
    assert.has_error(function() report.html(nil) end, "report.html: result must be a table")
    assert.has_error(function() report.html({ n = 2, ts = { 1, 2 }, close = { 1, 2 } }) end)
    assert.has_error(function() report.html({ n = 1.5 }) end, "report.html: result.n must be a bar count")
    local ok, err = pcall(report.html, { n = 2, ts = { 1, 2 }, close = { 1, "x" }, equity = { 1, 1 } })
    assert.is_false(ok); assert.truthy(err:find("close[2] is string", 1, true))
  end)

  it("renders an empty result without failing", function()
    local html = report.html({ n = 0, ts = {}, close = {}, equity = {}, trades = {}, stats = {} })
    assert.truthy(html:find("no bars", 1, true))
    assert.truthy(html:find("no trades", 1, true))
  end)
end)

describe("gt.textchart", function()
  -- Expected strings are worked by hand from the level rule: level = 1 + round((v - min) /
  -- (max - min) * (8 * height - 1)), row r (from the top) shows level - 8 * (height - r).
  it("draws a column chart in eighths", function()
    assert.equal("5.00 │▁▃▅▆█\n", textchart.line({ 1, 2, 3, 4, 5 }, 5, { width = 10, height = 1 }))
    assert.equal("5.00 │  ▁▄█\n1.00 │▁▅███\n", textchart.line({ 1, 2, 3, 4, 5 }, 5, { height = 2 }))
    assert.equal("Equity\n5.00 │  ▁▄█\n1.00 │▁▅███\n",
      textchart.line(ffi.new("double[5]", 1, 2, 3, 4, 5), 5, { height = 2, title = "Equity" }))
  end)

  it("buckets long series by the last value and labels the true range", function()
    -- buckets {1,9} {2,8} {3,7}: last values 9, 8, 7 on the range 1..9
    assert.equal("9.00 │█▇▆\n", textchart.line({ 1, 9, 2, 8, 3, 7 }, 6, { width = 3, height = 1 }))
  end)

  it("hangs a drawdown area from the top in half cells", function()
    -- depth = round(-v / 0.2 * 4): 0, 2, 4, 1 half cells
    assert.equal(" 0.00 │ ██▀\n-0.20 │  █\n", textchart.area({ 0, -0.1, -0.2, -0.05 }, 4, { height = 2 }))
    local pct = function(x) return ("%d%%"):format(math.floor(x * 100 + 0.5)) end
    assert.equal("DD\n  0% │ ██▀\n-20% │  █\n",
      textchart.area({ 0, -0.1, -0.2, -0.05 }, 4, { height = 2, title = "DD", fmt = pct }))
  end)

  it("handles flat, empty and NaN input, and rejects misuse", function()
    assert.equal("5.00 │▁▁▁\n", textchart.line({ 5, 5, 5 }, 3, { height = 1 }))
    assert.equal("(no data)\n", textchart.line({ 0 / 0 }, 1))
    assert.equal("(no data)\n", textchart.line({}, 0))
    assert.has_error(function() textchart.line(nil, 3) end)
    assert.has_error(function() textchart.line({ 1 }, -1) end)
  end)

  it("summarises a result as equity and drawdown", function()
    local s = textchart.summary({ n = 3, equity = { 100, 110, 99 }, drawdown = { 0, 0, -0.1 } }, { height = 2 })
    assert.truthy(s:find("^Equity\n"))
    assert.truthy(s:find("\nDrawdown\n", 1, true))
    assert.truthy(s:find("-10.0%", 1, true))
  end)
end)

describe("gt.report.STATS_FIELDS", function()
  it("titles every gt_stats field once", function()
    local seen = {}
    for _, f in ipairs(report.STATS_FIELDS) do
      assert.is_string(f.title, f.key)
      assert.is_nil(seen[f.key], f.key); seen[f.key] = true
      assert.equal(f.key:match("_pct$") and "%" or nil, f.unit)
    end
    -- the struct in gt_ffi.h is the reference
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    assert.equal(ffi.sizeof("gt_stats") / ffi.sizeof("double"), n)
  end)
end)
