-- `gtengine optimize`: grid, random and walk-forward searches from the command line, saved
-- in the database (resumable), with `optimize report RUN_ID` and `optimize merge`.
local cli = require "gt.cli"
local fmt = require "gt.fmt"
local json = require "gt.json"
local host = require "gt.host"
local optimize = require "gt.optimize"
local C = require("gt.ffi").C

local M = {}

M.help = [[
  --strategy NAME         a file in strategies/ (see: gtengine strategies)
  --data FILE | --symbol S [--timeframe 1d]
                          a CSV file, or bars stored with gtengine data import/fetch
  --grid 'fast=5:20:5,slow=20,30,40'
                          the values to try (a:b:s is a range); default: the strategy's grid;
                          fast >= slow (and fast >= mid, mid >= slow) are skipped, not run
  --objective sharpe      what "best" means: sharpe, return, calmar or sortino
  --random N [--seed 1]   N combinations of the grid drawn at random instead of all
  --walkforward train=252,test=63[,step=63][,anchored]
                          optimise on train bars, trade the next test bars, step on; lengths in
                          bars or calendar units (e.g. train=2y,test=6m)
  --jobs N                worker processes (default: the number of cores, fewer for a search
                          under a million bar-evaluations a worker); a walk-forward spreads
                          its windows' grids over them too
  --shard K/N             evaluate only the K-th of N deterministic slices (for several machines;
                          combine the databases with gtengine optimize merge)
  --blocks 16             CSCV blocks for the probability of backtest overfitting (even, 2..24)
  --capital --size --commission --slippage-bps --spread-bps --fill --short
                          backtest costs and fills, as for gtengine backtest
  --top 10                how many results to print
  --db PATH               the database (default gt.db or $GT_DB); every run is saved there and an
                          interrupted run with the same settings resumes where it stopped
  --no-save               do not use the database
  --json                  print JSON instead of tables
  --quiet                 no progress
  gtengine optimize report RUN_ID [--html FILE] [--json] [--db PATH]
                          a saved run: top results, a parameter-sensitivity table; --html adds
                          a heat map (two-parameter grids) or the stitched out-of-sample equity
  gtengine optimize merge A.db B.db ... --into all.db
                          shards of one search combined into one run (identical to an unsharded run)
  gtengine optimize list [--db PATH]
                          the saved optimisation runs
]]

local SPEC = { strategy = "string", data = "string", symbol = "string", timeframe = "string", db = "string",
  grid = "string", objective = "string", random = "number", seed = "number", walkforward = "string",
  jobs = "number", shard = "string", json = "flag", quiet = "flag", top = "number", blocks = "number",
  capital = "number", size = "number", commission = "number", slippage_bps = "number",
  spread_bps = "number", fill = "string", short = "flag", no_save = "flag" }

-- The database path: --db, $GT_DB or gt.db. One place, so a shared resolver can replace it.
local function db_path(o)
  return require("gt.config").db_path(o.db)
end

local function err_exit(msg)
  io.stderr:write("gtengine optimize: ", tostring(msg), "\n")
  return 1
end

local function fmt_params(p)
  local parts = {}
  for _, k in ipairs((function() local ks = {} for k in pairs(p) do ks[#ks + 1] = k end table.sort(ks) return ks end)()) do
    parts[#parts + 1] = k .. "=" .. tostring(p[k])
  end
  return table.concat(parts, " ")
end

local function num(v, d)
  if type(v) ~= "number" or v ~= v then return "n/a" end
  return fmt.num(v, d or 2)
end

-- Progress on stderr: a bar redrawn in place on a terminal, a line every few seconds
-- otherwise, nothing with --quiet.
local function reporter(quiet, objective)
  if quiet then return nil end
  local tty = host.isatty(2)
  local t0 = C.gt_clock_seconds()
  local last = -1e9
  return function(done, total, best)
    local now = C.gt_clock_seconds()
    local final = done >= total
    if not final and now - last < (tty and 0.1 or 2) then return end
    last = now
    local el = now - t0
    local rate = el > 0 and done / el or 0
    local eta = rate > 0 and (total - done) / rate or 0
    local b = best and ("best %s %s (%s)"):format(objective, num(best.score, 3), fmt_params(best.params)) or ""
    if tty then
      local w = 24
      local fill = total > 0 and math.floor(w * done / total) or w
      io.stderr:write(("\r[%s%s] %d/%d %.1f/s ETA %ds %s\27[K"):format(("#"):rep(fill), ("."):rep(w - fill),
        done, total, rate, math.floor(eta + 0.5), b))
      if final then io.stderr:write("\n") end
    else
      io.stderr:write(("optimize: %d/%d done, %.1f/s, ETA %ds, %s\n"):format(done, total, rate,
        math.floor(eta + 0.5), b))
    end
    io.stderr:flush()
  end
end

local function load_data(o)
  local s, err = cli.load_series(o, "optimize needs --data FILE or --symbol S", db_path(o))
  if not s then return nil, err end
  if o.data then return s, { file = o.data, timeframe = o.timeframe }, o.data end
  return s, { symbol = o.symbol, timeframe = o.timeframe or "1d", db = db_path(o) }, o.symbol
end

local function parse_walkforward(text)
  local w = {}
  for item in text:gmatch("[^,]+") do
    local k, v = item:match("^%s*(%a+)%s*=%s*(.-)%s*$")
    if k == "train" or k == "test" or k == "step" then w[k] = tonumber(v) or v
    elseif item:match("^%s*anchored%s*$") then w.anchored = true
    else cli.usage(("--walkforward '%s': '%s' is not train=, test=, step= or anchored"):format(text, item)) end
  end
  if not (w.train and w.test) then cli.usage("--walkforward needs train= and test= (e.g. train=252,test=63)") end
  return w
end

local function run_options(o)
  local r = {}
  for _, k in ipairs { "capital", "size", "commission", "slippage_bps", "spread_bps", "fill" } do r[k] = o[k] end
  if o.fill and o.fill ~= "next_open" and o.fill ~= "close" then cli.usage("--fill is next_open or close") end
  return r
end

local function print_results(res, top)
  local rows = {}
  for i = 1, math.min(top, #res.results) do
    local r = res.results[i]
    rows[i] = { rank = i, params = fmt_params(r.params), score = num(r.score, 3),
      ret = num(r.stats.return_pct) .. "%", sharpe = num(r.stats.sharpe), dd = num(r.stats.max_drawdown_pct) .. "%",
      trades = num(r.stats.num_trades, 0) }
  end
  io.write(fmt.table(rows, { { key = "rank", align = "right" }, { key = "params" },
    { key = "score", title = res.objective, align = "right" }, { key = "ret", title = "return", align = "right" },
    { key = "sharpe", align = "right" }, { key = "dd", title = "max DD", align = "right" },
    { key = "trades", align = "right" } }))
  io.write(("%d of %d combinations evaluated%s, %d skipped by constraints\n"):format(res.evaluated, res.total,
    res.shard and (" (shard %d/%d)"):format(res.shard[1], res.shard[2]) or "", res.skipped or 0))
  io.write(("deflated Sharpe ratio of the best: %s  (the probability that its Sharpe ratio beats the best "
    .. "of %d unskilled trials, after skew and kurtosis; below 0.95 it may be luck)\n"):format(num(res.dsr, 3), res.evaluated))
  io.write(("probability of backtest overfitting: %s  (CSCV, %s blocks: how often the in-sample best ranks "
    .. "in the bottom half out of sample; above 0.5 the search is fitting noise)\n"):format(num(res.pbo, 3),
    tostring(res.pbo_blocks or "-")))
end

-- A search's settings as saved: what must match for a resume, and what report/merge read.
local function spec_text(kind, strategy, grid, o, run, skipped)
  return json.encode({ kind = kind, strategy = strategy, grid = grid, objective = o.objective or "sharpe",
    n = o.random, seed = o.random and (o.seed or 1) or nil, run = run, pbo_blocks = o.blocks or 16,
    shard = o.shard, skipped = skipped })
end

local function search_main(args)
  local o = cli.parse(args, SPEC, 2)
  if not o.strategy then cli.usage("optimize needs --strategy NAME") end
  if o.objective and not optimize.OBJECTIVES[o.objective] then
    cli.usage(("--objective %s: one of sharpe, return, calmar, sortino"):format(o.objective))
  end
  local jobs = o.jobs or tonumber(C.gt_opt_cores())
  if jobs < 1 or jobs ~= math.floor(jobs) then cli.usage("--jobs is a whole number >= 1") end
  local shard
  if o.shard then
    local k, n = o.shard:match("^(%d+)/(%d+)$")
    k, n = tonumber(k), tonumber(n)
    if not (k and n and k >= 1 and k <= n) then cli.usage(("--shard %s: K/N with 1 <= K <= N, e.g. 1/4"):format(o.shard)) end
    shard = { k, n }
  end
  if o.blocks and not (o.blocks >= 2 and o.blocks <= 24 and o.blocks % 2 == 0) then
    cli.usage("--blocks is an even number from 2 to 24")
  end
  local s, source, label = load_data(o)
  if not s then return err_exit(source) end
  local strategy = require("gt.strategy").get(o.strategy)
  local grid = strategy.grid
  if o.grid then
    local g, gerr = optimize.parse_grid(o.grid)
    if not g then cli.usage(gerr) end
    grid = g
  end
  if o.short then
    -- as in gtengine backtest: --short is the strategy's short = true, in every combination
    local g = {}
    for k, v in pairs(grid or {}) do g[k] = v end
    if strategy.params.short ~= nil then g.short = { true } end
    grid = g
  end
  local gok, gerr = pcall(optimize.check_grid, grid, strategy)
  if not gok then cli.usage((tostring(gerr):gsub("^.-optimize: ", ""))) end
  local run = run_options(o)
  local base = { strategy = strategy, data = s, source = source, grid = grid, objective = o.objective,
    pbo_blocks = o.blocks, progress = reporter(o.quiet, o.objective or "sharpe") }
  for k, v in pairs(run) do base[k] = v end

  if o.walkforward then
    local w = parse_walkforward(o.walkforward)
    base.train, base.test, base.step, base.anchored = w.train, w.test, w.step, w.anchored
    local wok, werr = pcall(optimize.windows, s, w.train, w.test, w.step, w.anchored)
    if not wok then cli.usage(("--walkforward %s: %s"):format(o.walkforward, (tostring(werr):gsub("^.-walkforward: ", "")))) end
    if not o.jobs then
      -- as for a grid: under about a million bar-evaluations a worker, one process is sooner
      local nc = #optimize.combinations(grid)
      jobs = math.max(1, math.min(jobs, math.floor(nc * s.n / 1e6)))
    end
    base.jobs = jobs
    local res, err = optimize.walkforward(base)
    if not res then return err_exit(err) end
    if not o.no_save then
      local db, derr = optimize.open_db(db_path(o))
      if not db then return err_exit(derr) end
      local meta = { kind = "walkforward", strategy = strategy.name, data = label, data_hash = optimize.data_hash(s),
        spec = json.encode({ walkforward = o.walkforward, grid = grid, objective = o.objective or "sharpe", run = run }),
        total = #res.windows }
      res.id = db:create(meta)
      db:finish(res.id, res.interrupted and "interrupted" or "done", { kind = "walkforward", windows = res.windows,
        equity = res.equity, ts = res.ts, oos_return_pct = res.oos_return_pct, efficiency = res.efficiency, consistency = res.consistency,
        robustness = res.robustness, objective = res.objective })
      db:close()
    end
    -- Ctrl-C: the windows that finished, said so, and status 130
    local function ending()
      if not res.interrupted then return 0 end
      io.stderr:write(("gtengine optimize: interrupted; the %d window(s) that finished are kept\n"):format(#res.windows))
      return 130
    end
    if o.json then
      io.write(json.encode({ id = res.id, windows = res.windows, oos_return_pct = res.oos_return_pct,
        efficiency = res.efficiency, consistency = res.consistency, robustness = res.robustness,
        interrupted = res.interrupted }), "\n")
      return ending()
    end
    local rows = {}
    local d = function(us) return require("gt.time").format(us, true) end
    for i, wi in ipairs(res.windows) do
      rows[i] = { n = i, train = d(wi.train_first) .. " .. " .. d(wi.train_last),
        test = d(wi.test_first) .. " .. " .. d(wi.test_last), params = fmt_params(wi.params),
        is = num(wi.train_score, 3), oos = wi.test and num(wi.test.return_pct) .. "%" or "n/a",
        sharpe = wi.test and num(wi.test.sharpe) or "n/a" }
    end
    io.write(fmt.table(rows, { { key = "n", title = "#", align = "right" }, { key = "train" }, { key = "test" },
      { key = "params" }, { key = "is", title = "in-sample " .. res.objective, align = "right" },
      { key = "oos", title = "OOS return", align = "right" }, { key = "sharpe", title = "OOS sharpe", align = "right" } }))
    io.write(("out of sample overall: return %s%%, efficiency %s, consistency %s, robustness %s%s\n"):format(
      num(res.oos_return_pct), num(res.efficiency, 3), num(res.consistency, 3), num(res.robustness, 3),
      res.id and ("  (saved as optimization " .. res.id .. ")") or ""))
    return ending()
  end

  -- grid or random: the full list of combinations, then what this shard / resume still needs
  if type(grid) ~= "table" or next(grid) == nil then
    cli.usage(("%s has no grid: give --grid 'name=values,...'"):format(strategy.name))
  end
  local combos, skipped
  if o.random then
    if o.random < 1 or o.random ~= math.floor(o.random) then cli.usage("--random N takes a whole number >= 1") end
    combos, skipped = optimize.random_combos(grid, nil, o.random, o.seed)
  else
    combos, skipped = optimize.combinations(grid, nil)
  end
  local kind = o.random and "random" or "grid"
  local db, id
  if not o.no_save then
    local derr
    db, derr = optimize.open_db(db_path(o))
    if not db then return err_exit(derr) end
    local meta = { kind = kind, strategy = strategy.name, data = label, data_hash = optimize.data_hash(s),
      spec = spec_text(kind, strategy.name, grid, o, run, skipped), total = #combos }
    id = db:resumable(meta)
    if id then
      base.done = db:records(id)
      if not o.quiet then
        io.stderr:write(("optimize: resuming optimization %d: %d of its combinations are done\n"):format(id, #base.done))
      end
    else
      id = db:create(meta)
    end
    -- rows are committed in batches: a crash or Ctrl-C loses at most the last moments
    local pending, t_commit = 0, C.gt_clock_seconds()
    db:exec("BEGIN")
    base.on_result = function(rec)
      db:put(id, rec)
      pending = pending + 1
      local now = C.gt_clock_seconds()
      if pending >= 500 or now - t_commit > 0.5 then
        db:exec("COMMIT"); db:exec("BEGIN")
        pending, t_commit = 0, now
      end
    end
  end
  if not o.jobs then
    -- a worker costs a fork and the polling of its results: a small search (under about a
    -- million bar-evaluations a worker) finishes sooner in one process; results are the same
    jobs = math.max(1, math.min(jobs, math.floor(#combos * s.n / 1e6)))
  end
  base.jobs, base.shard, base.combos = jobs, shard, combos
  local ok, res = pcall(optimize.search_combos, base, kind, skipped)
  if db then
    db:exec("COMMIT")
    if ok then
      local sum = optimize.summary(res)
      db:finish(id, res.interrupted and "interrupted" or (shard and "shard" or "done"), sum)
    else
      db:finish(id, "interrupted", { error = tostring(res) })
    end
    db:close()
  end
  if not ok then error(res, 0) end
  res.id = id
  if o.json then
    local sum = optimize.summary(res)
    sum.id = id
    sum.interrupted = res.interrupted
    sum.results = {}
    for i = 1, math.min(o.top or 10, #res.results) do
      local r = res.results[i]
      sum.results[i] = { params = r.params, score = r.score, stats = r.stats, index = r.index }
    end
    io.write(json.encode(sum), "\n")
  else
    print_results(res, o.top or 10)
    if id then io.write(("saved as optimization %d in %s\n"):format(id, db_path(o))) end
  end
  if res.interrupted then
    io.stderr:write("gtengine optimize: interrupted; what finished is kept (run the same command to resume)\n")
    return 130
  end
  return 0
end

---------------------------------------------------------------------------------------
-- report, list, merge
---------------------------------------------------------------------------------------

local esc = require("gt.report").escape -- one HTML escaper for every page we write

local function sorted_values(set)
  local vs = {}
  for v in pairs(set) do vs[#vs + 1] = v end
  table.sort(vs, function(a, b)
    if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then return a < b end
    return tostring(a) < tostring(b)
  end)
  return vs
end

-- Per parameter and value: how many combinations, their mean and best score. Parameters
-- whose value never changes are left out.
local function sensitivity(results)
  local by = {}
  for _, r in ipairs(results) do
    for k, v in pairs(r.params) do
      by[k] = by[k] or {}
      local e = by[k][v] or { n = 0, sum = 0, ok = 0, best = -math.huge }
      by[k][v] = e
      e.n = e.n + 1
      if r.score == r.score then e.ok = e.ok + 1; e.sum = e.sum + r.score; if r.score > e.best then e.best = r.score end end
    end
  end
  local rows, keys = {}, sorted_values(by)
  local varying = {}
  for _, k in ipairs(keys) do
    local vals = sorted_values(by[k])
    if #vals > 1 then
      varying[#varying + 1] = k
      for _, v in ipairs(vals) do
        local e = by[k][v]
        rows[#rows + 1] = { param = k, value = tostring(v), n = e.n, mean = e.ok > 0 and e.sum / e.ok or 0 / 0,
          best = e.best > -math.huge and e.best or 0 / 0 }
      end
    end
  end
  return rows, varying, by
end

local SENS_COLS = { { key = "param" }, { key = "value", align = "right" }, { key = "n", title = "runs", align = "right" },
  { key = "mean", title = "mean score", fmt = function(v) return num(v, 3) end, align = "right" },
  { key = "best", title = "best score", fmt = function(v) return num(v, 3) end, align = "right" } }

-- A colour from red (lo) to green (hi).
local function heat(v, lo, hi)
  if v ~= v then return "#eeeeee" end
  local t = hi > lo and (v - lo) / (hi - lo) or 0.5
  local r = math.floor(230 - 150 * t)
  local g = math.floor(90 + 130 * t)
  return ("#%02x%02x%02x"):format(r, g, 90)
end

local function html_heatmap(results, keys)
  local kx, ky = keys[1], keys[2]
  local xs, ys, cell, lo, hi = {}, {}, {}, math.huge, -math.huge
  for _, r in ipairs(results) do
    local x, y = r.params[kx], r.params[ky]
    xs[x], ys[y] = true, true
    cell[tostring(x) .. "\0" .. tostring(y)] = r.score
    if r.score == r.score then lo = math.min(lo, r.score); hi = math.max(hi, r.score) end
  end
  local out = { ('<table id="heatmap"><caption>score by %s (rows) and %s (columns)</caption><tr><th>%s \\ %s</th>')
    :format(esc(kx), esc(ky), esc(kx), esc(ky)) }
  local yv = sorted_values(ys)
  for _, y in ipairs(yv) do out[#out + 1] = "<th>" .. esc(y) .. "</th>" end
  out[#out + 1] = "</tr>"
  for _, x in ipairs(sorted_values(xs)) do
    out[#out + 1] = "<tr><th>" .. esc(x) .. "</th>"
    for _, y in ipairs(yv) do
      local v = cell[tostring(x) .. "\0" .. tostring(y)]
      if v == nil then out[#out + 1] = '<td class="skip">skipped</td>'
      else out[#out + 1] = ('<td class="cell" style="background:%s">%s</td>'):format(heat(v, lo, hi), esc(num(v, 3))) end
    end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</table>"
  return table.concat(out)
end

local function html_equity(eq)
  local n = #eq
  if n < 2 then return "<p>no out-of-sample equity</p>" end
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(eq) do lo = math.min(lo, v); hi = math.max(hi, v) end
  if hi == lo then hi = lo + 1 end
  local W, H = 900, 300
  local pts = {}
  local stride = math.max(1, math.floor(n / 2000))
  for i = 1, n, stride do
    pts[#pts + 1] = ("%.1f,%.1f"):format((i - 1) / (n - 1) * W, H - (eq[i] - lo) / (hi - lo) * H)
  end
  return ('<svg id="oos-equity" viewBox="0 0 %d %d" width="%d" height="%d"><polyline fill="none" stroke="#2a6" '
    .. 'stroke-width="1.5" points="%s"/></svg><p>stitched out-of-sample equity: %s to %s</p>')
    :format(W, H, W, H, table.concat(pts, " "), esc(num(eq[1])), esc(num(eq[n])))
end

local function html_table(id, rows, cols)
  local out = { ('<table id="%s"><tr>'):format(id) }
  for _, c in ipairs(cols) do out[#out + 1] = "<th>" .. esc(c.title or c.key) .. "</th>" end
  out[#out + 1] = "</tr>"
  for _, r in ipairs(rows) do
    out[#out + 1] = "<tr>"
    for _, c in ipairs(cols) do
      local v = r[c.key]
      if c.fmt then v = c.fmt(v) end
      out[#out + 1] = "<td>" .. esc(v == nil and "" or v) .. "</td>"
    end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</table>"
  return table.concat(out)
end

local CSS = "body{font:14px sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
  .. "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}caption{text-align:left;font-weight:bold}"
  .. "td.skip{color:#aaa}"

local function open_run(o, id)
  local optimize_db, err = optimize.open_db(db_path(o))
  if not optimize_db then return nil, err end
  local meta = optimize_db:run(id)
  if not meta then optimize_db:close(); return nil, ("no optimization %d in %s"):format(id, db_path(o)) end
  return optimize_db, meta
end

function M.report(args)
  local o = cli.parse(args, { db = "string", html = "string", json = "flag", top = "number" }, 3)
  local id = tonumber(args[3])
  if not id then cli.usage("optimize report RUN_ID [--html FILE] [--json] [--db PATH]") end
  local db, meta = open_run(o, id)
  if not db then return err_exit(meta) end
  local spec = json.decode(meta.spec) or {}
  local html = { ("<!doctype html><html><head><meta charset=\"utf-8\"><title>optimization %d</title><style>%s</style>"
    .. "</head><body><h1>optimization %d: %s %s on %s</h1>"):format(id, CSS, id, esc(meta.kind), esc(meta.strategy), esc(meta.data)) }
  if meta.kind == "walkforward" then
    db:close()
    local sum = json.decode(meta.summary or "{}") or {}
    if o.json then io.write(json.encode(sum), "\n"); return 0 end
    local rows = {}
    local d = function(us) return require("gt.time").format(us, true) end
    for i, w in ipairs(sum.windows or {}) do
      rows[i] = { n = i, train = d(w.train_first) .. " .. " .. d(w.train_last), test = d(w.test_first) .. " .. " .. d(w.test_last),
        params = fmt_params(w.params or {}), oos = w.test and num(w.test.return_pct) .. "%" or "n/a" }
    end
    local cols = { { key = "n", title = "#" }, { key = "train" }, { key = "test" }, { key = "params" },
      { key = "oos", title = "OOS return" } }
    local line = ("out of sample overall: return %s%%, efficiency %s, consistency %s, robustness %s\n"):format(
      num(sum.oos_return_pct), num(sum.efficiency, 3), num(sum.consistency, 3), num(sum.robustness, 3))
    io.write(fmt.table(rows, cols), line)
    if o.html then
      html[#html + 1] = html_table("windows", rows, cols) .. "<p>" .. esc(line) .. "</p>" .. html_equity(sum.equity or {})
    end
  else
    local records = db:records(id)
    db:close()
    local res = optimize.from_records(meta, records, spec)
    res.shard = spec.shard and { spec.shard:match("^(%d+)/(%d+)$") } or nil
    if res.shard then res.shard = { tonumber(res.shard[1]), tonumber(res.shard[2]) } end
    local rows, varying = sensitivity(res.results)
    if o.json then
      local sum = optimize.summary(res)
      sum.id, sum.status, sum.results = id, meta.status, {}
      for i, r in ipairs(res.results) do sum.results[i] = { index = r.index, params = r.params, score = r.score, stats = r.stats } end
      io.write(json.encode(sum), "\n")
      return 0
    end
    io.write(("optimization %d: %s search of %s on %s (%s), %s\n"):format(id, meta.kind, meta.strategy, meta.data,
      meta.data_hash, meta.status))
    print_results(res, o.top or 10)
    io.write("\nparameter sensitivity (score by value, over every evaluated combination):\n")
    io.write(fmt.table(rows, SENS_COLS))
    if o.html then
      local top = {}
      for i = 1, math.min(o.top or 10, #res.results) do
        local r = res.results[i]
        top[i] = { rank = i, params = fmt_params(r.params), score = num(r.score, 3), ret = num(r.stats.return_pct) .. "%",
          trades = num(r.stats.num_trades, 0) }
      end
      html[#html + 1] = ("<p>%d of %d combinations.</p><p>Deflated Sharpe ratio of the best: <b>%s</b> (the "
        .. "probability that its Sharpe ratio beats the best of %d unskilled trials, after skew and kurtosis; below "
        .. "0.95 it may be luck).</p><p>Probability of backtest overfitting: <b>%s</b> (CSCV: how often the "
        .. "in-sample best ranks in the bottom half out of sample; above 0.5 the search is fitting noise).</p>")
        :format(res.evaluated, res.total, esc(num(res.dsr, 3)), res.evaluated, esc(num(res.pbo, 3)))
      html[#html + 1] = html_table("top-table", top, { { key = "rank" }, { key = "params" },
        { key = "score", title = res.objective }, { key = "ret", title = "return" }, { key = "trades" } })
      if #varying == 2 then html[#html + 1] = html_heatmap(res.results, varying) end
      html[#html + 1] = html_table("sensitivity-table", rows, SENS_COLS)
    end
  end
  if o.html then
    html[#html + 1] = "</body></html>\n"
    local f, ferr = io.open(o.html, "w")
    if not f then return err_exit(ferr) end
    f:write(table.concat(html))
    f:close()
    io.write("report: ", o.html, "\n")
  end
  return 0
end

function M.list(args)
  local o = cli.parse(args, { db = "string" }, 3)
  local db, err = optimize.open_db(db_path(o))
  if not db then return err_exit(err) end
  local rows = {}
  for _, id in ipairs(db:ids()) do
    local m = db:run(id)
    local sum = json.decode(m.summary or "{}") or {}
    rows[#rows + 1] = { id = id, kind = m.kind, strategy = m.strategy, data = m.data, status = m.status,
      total = m.total, best = sum.best and fmt_params(sum.best.params) or "" }
  end
  db:close()
  if #rows == 0 then io.write("no saved optimizations; gtengine optimize saves each run\n"); return 0 end
  io.write(fmt.table(rows, { { key = "id", align = "right" }, { key = "kind" }, { key = "strategy" }, { key = "data" },
    { key = "status" }, { key = "total", align = "right" }, { key = "best" } }))
  return 0
end

-- merge A.db B.db ... --into all.db: the shards (same search, same data) of one run become one
-- run in all.db whose rows, DSR and PBO are those an unsharded run gives.
function M.merge(args)
  local o = cli.parse(args, { into = "string", json = "flag" }, 3)
  local inputs = {}
  for i = 3, #args do
    local a = args[i]
    if a == "--into" then break end
    if a:sub(1, 2) ~= "--" then inputs[#inputs + 1] = a end
  end
  if not o.into or #inputs == 0 then cli.usage("optimize merge A.db B.db ... --into all.db") end
  local base_spec, meta0, rows, shards_seen = nil, nil, {}, {}
  for _, path in ipairs(inputs) do
    local f = io.open(path, "rb")
    if not f then return err_exit(path .. ": no such database") end
    f:close()
    local db, err = optimize.open_db(path)
    if not db then return err_exit(err) end
    local ids = db:ids()
    if #ids ~= 1 then db:close(); return err_exit(("%s holds %d optimizations; a shard database holds one"):format(path, #ids)) end
    local m = db:run(ids[1])
    local spec = json.decode(m.spec)
    local shard = spec.shard
    spec.shard = nil
    local key = json.encode(spec) .. "|" .. m.data_hash
    if base_spec and key ~= base_spec then
      db:close()
      return err_exit(("%s is a different search (settings or data differ from %s)"):format(path, inputs[1]))
    end
    base_spec, meta0 = key, meta0 or m
    meta0.spec_table = spec
    if shard then
      if shards_seen[shard] then db:close(); return err_exit(("%s: shard %s appears twice"):format(path, shard)) end
      shards_seen[shard] = path
    end
    if m.status ~= "shard" and m.status ~= "done" then
      db:close()
      return err_exit(("%s: its run is %s; finish it (run the same command again) before merging"):format(path, m.status))
    end
    for _, r in ipairs(db:records(ids[1])) do
      if rows[r.index] then db:close(); return err_exit(("%s: combination %d is in two shards"):format(path, r.index)) end
      rows[r.index] = r
    end
    db:close()
  end
  local list = {}
  for i = 1, meta0.total do
    if not rows[i] then return err_exit(("the shards lack combination %d of %d: is a shard missing?"):format(i, meta0.total)) end
    list[i] = rows[i]
  end
  local out, err = optimize.open_db(o.into)
  if not out then return err_exit(err) end
  local id = out:create({ kind = meta0.kind, strategy = meta0.strategy, data = meta0.data, data_hash = meta0.data_hash,
    spec = json.encode(meta0.spec_table), total = meta0.total })
  out:exec("BEGIN")
  for _, r in ipairs(list) do out:put(id, r) end
  out:exec("COMMIT")
  local res = optimize.from_records(meta0, list, meta0.spec_table)
  out:finish(id, "done", optimize.summary(res))
  out:close()
  io.write(("merged %d shard database(s), %d combinations, into optimization %d in %s\n"):format(#inputs, #list, id, o.into))
  return 0
end

function M.main(args)
  local sub = args[2]
  if sub == "report" then return M.report(args) end
  if sub == "merge" then return M.merge(args) end
  if sub == "list" then return M.list(args) end
  return search_main(args)
end

M.db_path = db_path
M.fmt_params = fmt_params
M.print_results = print_results

return M
