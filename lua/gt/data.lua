-- gt.data: the data slice's front door. Files (CSV), the SQLite bar store, HTTP
-- providers and synthetic data all arrive as gt series (lua/gt/series.lua) and pass the
-- same bar validation (engine/series.c gt_bar_check).
--   gt.data.load("file.csv" | {symbol=, timeframe=, start=, stop=, db=}, opts) -> series
--   gt.data.import(path, {symbol=, timeframe=, db=, on_error=, replace=}) -> report
--   gt.data.fetch{provider=, symbol=, timeframe=, start=, stop=, db=} -> series, report
--   gt.data.align({s1, s2, ...}, {mode = "inner" | "outer"}) -> {aligned...}, filled
--   gt.data.synthetic{n=, seed=, start=, timeframe=, price=} -> series, regimes
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local series = require "gt.series"
local timeframe = require "gt.timeframe"
local gtime = require "gt.time"
local C = gtffi.C

local M = {}

M.DEFAULT_DB = require("gt.config").DEFAULT_DB

-- The subset of opts the CSV reader takes (the rest are gt.data's own: db, progress).
local function csv_opts(opts)
  local out = {}
  for k, v in pairs(opts or {}) do
    if require("gt.csv").OPTIONS[k] then out[k] = v end
  end
  return out
end

local function db_path(opts)
  return require("gt.config").db_path(opts and opts.db)
end

local function open_store(opts)
  return require("gt.store").open(db_path(opts))
end

-- Loads a CSV file (a path) or a stored range (a query table). Returns series, report
-- or nil, err.
function M.load(what, opts)
  opts = opts or {}
  if type(what) == "string" then
    return require("gt.csv").read(what, opts)
  elseif type(what) == "table" then
    if not what.symbol then error("gt.data.load: query needs symbol", 2) end
    local db, err = open_store(what)
    if not db then return nil, err end
    local q = { symbol = what.symbol, timeframe = what.timeframe or "1d" }
    if what.start then q.start = gtime.check(what.start, "start", 2) end
    if what.stop then q.stop = gtime.check(what.stop, "stop", 2) end
    local s, lerr = db:load(q)
    db:close()
    return s, lerr
  end
  error("gt.data.load: expected a file path or a query table", 2)
end

-- Reads a CSV file and stores it in one transaction. Bars already stored at the same
-- times with other values are not overwritten unless opts.replace (then keep-last): the
-- import fails, naming how many would change.
-- Returns a report {symbol, timeframe, rows, loaded, skipped, errors, first, last, db}.
-- opts.progress(phase, info), when given, hears "read" and "stored" with counts and CPU
-- seconds, so a command can tell the user what a long import is doing.
function M.import(path, opts)
  opts = opts or {}
  local t0 = os.clock()
  local s, report = require("gt.csv").read(path, csv_opts(opts))
  if opts.progress and s then opts.progress("read", { rows = s.n, seconds = os.clock() - t0 }) end
  if not s then return nil, report end
  if not s.symbol or s.symbol == "" then
    return nil, ("%s: cannot tell a symbol from the file name; give one (--symbol S, or symbol = \"S\")")
      :format(path)
  end
  if not s.timeframe then
    return nil, ("%s: cannot tell the timeframe from %d bars; give it (--timeframe 1d, or timeframe = \"1d\")")
      :format(path, s.n)
  end
  local db, err = open_store(opts)
  if not db then return nil, err end
  if not opts.replace then
    -- Two files can default to one symbol (2006-day-001.txt, 2006-volume-day-001.txt):
    -- overwriting stored bars with other values must be asked for, never silent.
    local first = ffi.new("int64_t[1]")
    local changed = tonumber(C.gt_store_changed(db._h, s.symbol, s.timeframe, s._c, first))
    if changed ~= 0 then
      db:close()
      if changed < 0 then return nil, gtffi.errmsg(changed) end
      return nil, ("%s: %d bar%s already stored for %s %s in %s hold%s different values (the first "
        .. "at %s); nothing was stored. Import with --replace (replace = true) to overwrite "
        .. "them, or give this file its own --symbol"):format(path, changed,
        changed == 1 and "" or "s", s.symbol, s.timeframe, db_path(opts), changed == 1 and "s" or "",
        (gtime.format(tonumber(first[0]), false):gsub("T00:00:00Z$", "")))
    end
  end
  t0 = os.clock()
  local n, perr = db:put(s, { symbol = s.symbol, timeframe = s.timeframe, source = path })
  db:close()
  if not n then return nil, perr end
  if opts.progress then opts.progress("stored", { rows = n, seconds = os.clock() - t0 }) end
  report.db = db_path(opts)
  report.stored = n
  report.first = s.n > 0 and s:time(0) or nil
  report.last = s.n > 0 and s:time(s.n - 1) or nil
  return report, s
end

-- Daily and longer bars are dated by their UTC calendar day, as CSV files date them:
-- providers stamp a US session's day bar at the open (Yahoo, 14:30Z) or at New York
-- midnight (Alpaca, 05:00Z); both fall on the same UTC date.
local function date_bars(s, tf)
  local t = timeframe.parse(tf)
  if t.suffix ~= "d" and t.suffix ~= "w" and t.suffix ~= "mo" then return end
  local day = gtime.DAY
  local ts = s._c.ts -- columns are read-only to users; this writes the series' own memory
  for i = 0, s.n - 1 do
    local us = tonumber(ts[i])
    ts[i] = us - us % day
  end
end

-- Fetches bars from a provider into the store, asking only for the parts of
-- [start, stop) never fetched before, then returns the requested range from the store.
-- Coverage (what is never asked for again) is recorded only where it is known: a window
-- that returned bars is covered up to the start of today (UTC; weekends and holidays
-- inside it are not asked for again), and into today only up to the end of the last
-- complete bar received. A window that returned no bars records nothing (a wrong symbol
-- or an outage must not hide the range for good). o.refresh = true asks for the whole
-- range again (stored bars are replaced by the provider's, keep-last).
function M.fetch(o)
  if type(o) ~= "table" or not o.provider or not o.symbol then
    error("gt.data.fetch{provider=, symbol=, timeframe=, start=, stop=}", 2)
  end
  local tf = o.timeframe or "1d"
  local tfi = timeframe.check(tf, 2)
  local start = gtime.check(o.start, "start", 2)
  local stop = o.stop and gtime.check(o.stop, "stop", 2) or gtime.now()
  if stop <= start then error("gt.data.fetch: stop must be after start", 2) end
  local db, err = open_store(o)
  if not db then return nil, err end
  local wanted, merr
  if o.refresh then
    wanted = { { start, stop } }
  else
    wanted, merr = db:missing(o.symbol, tf, start, stop)
    if not wanted then db:close(); return nil, merr end
  end
  local providers = require "gt.providers"
  local report = { provider = o.provider, symbol = o.symbol, timeframe = tf, requests = 0,
    fetched = 0, ranges = {} }
  local now = gtime.now()
  local settled = now - tfi.us -- bars that start before this are complete
  -- one deadline for the whole command, shared by every window fetched
  local deadline = o.deadline or providers.DEADLINE
  if type(deadline) ~= "number" or not (deadline > 0) then
    db:close()
    error("gt.data.fetch: deadline must be a number of seconds > 0", 2)
  end
  local t_end = C.gt_clock_seconds() + deadline
  local today = now - now % gtime.DAY -- days before this one are closed
  for wi, w in ipairs(wanted) do
    local req = {}
    for k, v in pairs(o) do req[k] = v end
    req.db, req.refresh = nil, nil
    req.deadline = t_end - C.gt_clock_seconds()
    if req.deadline <= 0 then
      db:close()
      return nil, ("%s %s: the %g s deadline for this fetch has passed; %d of %d ranges fetched "
        .. "(raise it with --deadline)"):format(o.provider, o.symbol, deadline, wi - 1, #wanted), report
    end
    req.timeframe, req.start, req.stop = tf, w[1], w[2]
    local s, rep = providers.fetch(req)
    if not s then db:close(); return nil, rep end
    report.requests = report.requests + (rep.requests or 0)
    report.fetched = report.fetched + s.n
    report.ranges[#report.ranges + 1] = { start = w[1], stop = w[2], bars = s.n }
    if s.n > 0 then
      date_bars(s, tf)
      local ok, perr = db:put(s, { symbol = o.symbol, timeframe = tf, source = o.provider })
      if not ok then db:close(); return nil, perr end
    end
    local covered = w[1]
    if s.n > 0 then
      covered = math.min(w[2], today)
      local last_end = tonumber(s.ts[s.n - 1]) + tfi.us
      covered = math.max(covered, math.min(w[2], last_end, settled))
    end
    if covered > w[1] then
      local ok, cerr = db:cover(o.symbol, tf, w[1], covered)
      if not ok then db:close(); return nil, cerr end
    end
  end
  local s, lerr = db:load({ symbol = o.symbol, timeframe = tf, start = start, stop = stop })
  db:close()
  if not s then
    if report.requests > 0 and report.fetched == 0 then
      lerr = lerr .. ("; %s returned no bars for it, and nothing was recorded as fetched, so the "
        .. "next fetch asks again"):format(o.provider)
    end
    return nil, lerr, report
  end
  report.bars = s.n
  return s, report
end

-- Puts several series on one clock. mode "inner" (default) keeps common timestamps;
-- "outer" keeps all from the first time every series has started, forward-filling gaps.
-- Returns the aligned series (same order) and filled[j][i] (true where series j's bar i
-- was filled) as checked uint8 arrays (gt.series.bytes), one per series.
function M.align(list, opts)
  if type(list) ~= "table" then
    error(("gt.data.align: expected a list of series, got %s"):format(type(list)), 2)
  end
  for j = 1, #list do
    local s = list[j]
    if type(s) ~= "table" or type(s._c) ~= "cdata" then
      error(("gt.data.align: item %d is a %s, not a series"):format(j, type(s)), 2)
    end
  end
  if opts ~= nil and type(opts) ~= "table" then error("gt.data.align: opts must be a table", 2) end
  local k = #list
  if k < 1 or k > 64 then error("gt.data.align: between 1 and 64 series", 2) end
  local mode = (opts and opts.mode) or "inner"
  if mode ~= "inner" and mode ~= "outer" then error("gt.data.align: mode is 'inner' or 'outer'", 2) end
  local cmode = mode == "outer" and C.GT_ALIGN_OUTER or C.GT_ALIGN_INNER
  local src = ffi.new("const gt_series *[?]", k)
  for j = 1, k do src[j - 1] = list[j]._c end
  local n = tonumber(C.gt_align_count(src, k, cmode))
  if n < 0 then error(gtffi.errmsg(n), 2) end
  local outs, cout = {}, ffi.new("gt_series *[?]", k)
  for j = 1, k do
    outs[j] = series.new({ symbol = list[j].symbol, timeframe = list[j].timeframe }, n)
    cout[j - 1] = outs[j]._c
  end
  local filled = ffi.new("uint8_t[?]", math.max(k * n, 1))
  gtffi.check(C.gt_align_fill(src, k, cmode, cout, filled), 2)
  local masks = {}
  for j = 1, k do
    outs[j]:_sync()
    masks[j] = series.bytes(n)
    ffi.copy(masks[j].p, filled + (j - 1) * n, n)
  end
  return outs, masks
end

local REGIMES = {}
for i = 0, C.GT_REGIME_COUNT - 1 do REGIMES[i] = ffi.string(C.gt_regime_name(i)) end
M.REGIMES = REGIMES

-- Deterministic regime-switching OHLCV (the embedded demo data and the ground truth for
-- regime detection). Returns series, regimes where regimes.codes[i] is bar i's regime
-- code and regimes:name(i) its name (bull_quiet, ..., crisis).
function M.synthetic(o)
  o = o or {}
  local n = o.n or 1000
  if type(n) ~= "number" or n < 0 or n % 1 ~= 0 then error("gt.data.synthetic: n must be a whole number", 2) end
  local tf = o.timeframe or "1d"
  local t = timeframe.check(tf, 2)
  if t.suffix == "w" or t.suffix == "mo" then
    error("gt.data.synthetic: generate daily or intraday bars and resample them", 2)
  end
  local start = gtime.check(o.start or "2015-01-02", "start", 2)
  local out = ffi.new("gt_series *[1]")
  local codes = series.bytes(n) -- checked: regimes.codes[i] outside 0..n-1 raises
  local skip = not o.weekends -- weekends = true for markets that never close
  gtffi.check(C.gt_synth_generate(n, o.seed or 1, start, t.us, skip and 1 or 0, o.price or 100, out,
    codes.p), 2)
  local s = series.wrap(out[0], { symbol = o.symbol or "SYNTH", timeframe = tf })
  local regimes = { codes = codes, n = n, names = REGIMES }
  function regimes.name(_, i) return REGIMES[codes[i]] end
  return s, regimes
end

return M
