-- gt.help: what a thing is and how to call it, for the REPL's help(). The entries below
-- are data: the gt modules and their main functions. Indicators come from gt.ind's own
-- registry (gt.ind.list()) and CLI commands from gt.cli's command table, so each has one
-- source. help(f) finds a function's entry by identity; help "name" by name.
local M = {}

-- { path, call form, what it does }. The path is where the value lives (gt.x.y); a
-- method's path names its object (series:time) and is found by name only.
M.entries = {
  { "gt", "local gt = require \"gt\"",
    "the library; gt.data, gt.ind, gt.backtest, gt.analyze, ... load on first use; gt.version" },
  { "gt.modules", "gt.modules() -> {names}", "every gt submodule, loaded or not" },
  { "gt.data", "gt.data", "market data: CSV files, the SQLite bar store, providers, synthetic series" },
  { "gt.data.load", "gt.data.load(path [, opts]) | gt.data.load{symbol=, timeframe=\"1d\", db=, start=, stop=}",
    "a CSV file (opts: symbol, timeframe, columns, on_error=\"skip\", adjust) or stored bars -> series or nil, err" },
  { "gt.data.import", "gt.data.import(path [, {symbol=, timeframe=, db=, on_error=, adjust=}])",
    "reads a CSV file and stores it in one transaction -> report or nil, err" },
  { "gt.data.fetch", "gt.data.fetch{provider=\"yahoo\"|\"alpaca\"|\"coinbase\", symbol=, timeframe=, start=, stop=}",
    "downloads the bars the store lacks over HTTPS, then returns the range -> series or nil, err" },
  { "gt.data.align", "gt.data.align({s1, s2, ...} [, {mode=\"inner\"|\"outer\"}])",
    "puts several series on one clock -> aligned series, filled flags" },
  { "gt.data.synthetic", "gt.data.synthetic{n=1000, seed=1, timeframe=\"1d\", start=\"2015-01-02\", price=100}",
    "a deterministic regime-switching market -> series, regimes" },
  { "series", "s.n, s.ts[i], s.open[i] .. s.volume[i], s.symbol, s.timeframe",
    "one symbol at one timeframe: 0-based C columns, oldest first, ts in epoch microseconds UTC" },
  { "series:time", "s:time(i) -> microseconds", "bar i's timestamp (gt.time.format prints it)" },
  { "series:slice", "s:slice(i, j) -> series", "bars i .. j-1 as a view sharing memory" },
  { "series:between", "s:between(t0, t1) -> series", "bars with t0 <= ts < t1 as a view" },
  { "series:resample", "s:resample(\"1w\") -> series", "a coarser timeframe (1h, 1d, 1w, 1mo, ...)" },
  { "series:returns", "s:returns([{log=true}]) -> double[n]", "simple or log returns, NaN at bar 0" },
  { "series:column", "s:column(\"close\") -> {table}", "a column copied into a Lua table (1-based)" },
  { "gt.ind", "gt.ind", "indicators in C: gt.ind.NAME(x, params...) -> double[n], n over a series, a column "
    .. "or a table; gt.ind.list() prints them all; gt.ind.stream.NAME(params) updates bar by bar" },
  { "gt.ind.list", "gt.ind.list() -> {entries}", "every indicator: name, inputs, parameters with "
    .. "defaults, outputs; prints one signature per line" },
  { "gt.backtest", "gt.backtest", "runs a strategy over history on the C engine" },
  { "gt.backtest.run", "gt.backtest.run(strategy, series [, {params={...}, capital=10000, fill=\"next_open\", mode=\"vector\", ...}])",
    "-> result (r.stats, r.trades, r:report(path), r:save(db)) or nil, err; options: gt.backtest.DEFAULTS" },
  { "gt.backtest.check_lookahead", "gt.backtest.check_lookahead(strategy, series [, opts]) -> violations, cuts",
    "signals that change when only future bars change" },
  { "gt.reload", "gt.reload", "hot reload of a running session's strategy and workflow files, checked first" },
  { "gt.reload.attach", "gt.reload.attach(session [, {every=1, overrides=, force=}]) -> watcher",
    "before session:run(): reloads edited files between cycles; watcher:check() checks now" },
  { "result", "r.stats, r.trades, r.orders, r.equity", "a backtest result; prints as its stats table" },
  { "result:report", "r:report(path) -> true or nil, err", "a self-contained HTML report" },
  { "result:save", "r:save([db]) -> run id or nil, err", "records the run in the database (gtengine runs)" },
  { "result:summary", "r:summary() -> table", "stats, trades and options as plain data (what --json prints)" },
  { "gt.analyze", "gt.analyze", "a scored reading of one series" },
  { "gt.analyze.symbol", "gt.analyze.symbol(series [, {pattern_window=10}])",
    "-> {price, indicators, trend, volatility, momentum, levels, patterns, signals, score, recommendation} or nil, err" },
  { "gt.strategy", "gt.strategy", "strategy files in strategies/" },
  { "gt.strategy.list", "gt.strategy.list() -> {names}", "the strategies that can be loaded" },
  { "gt.strategy.load", "gt.strategy.load(name) -> strategy", "loads and checks strategies/NAME.lua" },
  { "gt.store", "gt.store", "the SQLite bar store" },
  { "gt.store.open", "gt.store.open(path) -> db or nil, err", "db:put(s, meta), db:load{symbol=, timeframe=}, db:close()" },
  { "gt.time", "gt.time", "times are Lua numbers of epoch microseconds UTC" },
  { "gt.time.parse", "gt.time.parse(\"2024-01-02\" | \"2024-01-02T15:30:00Z\") -> us or nil, err", "" },
  { "gt.time.format", "gt.time.format(us [, date_only]) -> string", "\"2024-01-02\" at midnight, else the full time" },
  { "gt.time.now", "gt.time.now() -> us", "now on the engine's current clock (the wall clock unless a clock was :use()d)" },
  { "gt.clock", "gt.clock.wall() | gt.clock.monotonic() | gt.clock.sim(start)",
    "clocks: c:now(), c:set(t), c:advance(dt), c:sleep_until(t), c:use(); timers c:every(us [, first]), "
    .. "c:after(us), c:cooldown(us), c:dedupe(window)" },
  { "gt.calendar", "gt.calendar.get(\"us_equity\" | \"crypto\" | \"always\") -> cal",
    "market hours: cal:is_open(ts), cal:session(ts), cal:next_open(ts), cal:next_close(ts), cal:holidays(year)" },
  { "gt.workflow", "gt.workflow.load(name or path [, overrides]) -> wf",
    "a workflow definition with every default filled in, checked (errors name the file and key); "
    .. "gt.workflow.from_table(def, where), gt.workflow.list()" },
  { "gt.workflow.load", "gt.workflow.load(name or path [, overrides]) -> wf or nil, err",
    "finds workflows/NAME.lua (./, $GT_HOME, the share directory), loads it in the strict environment, "
    .. "fills the defaults and checks every key (an error names the file and the key)" },
  { "gt.orchestrator", "gt.orchestrator.new(wf [, opts]) -> session",
    "one trading cycle per bar: session:run() -> summary, session.bus:subscribe(type, fn), "
    .. "session:hook(\"cycle_end\", fn); gt.orchestrator.run(wf or name), format_summary(summary)" },
  { "gt.steps", "gt.steps.STEPS", "the cycle's built-in steps (data, analyze, regime, select, signal, size, risk, "
    .. "execute, monitor) with the state fields each reads and writes" },
  { "gt.bus", "gt.bus.new() -> bus", "typed events: bus:subscribe(type or \"*\", fn), bus:publish{type =, ...}, "
    .. "bus:unsubscribe(sub); gt.bus.TYPES lists them" },
  { "gt.journal", "gt.journal.open(path [, {durable =, batch =, readonly =}]) -> J",
    "a session's events and state in SQLite: J:session{key =, ...}, J:append(ev), J:commit(cycle, state), "
    .. "J:query{type =, since =}, J:state(sid)" },
  { "gt.feed", "gt.feed.poll{provider =, symbols =, timeframe =, ...} -> feed",
    "completed bars as they come: feed:history(), feed:poll(), feed:wait(), feed:status()" },
  { "gt.live", "gt.live.broker{base_url =, key_file =, journal =, session =} -> broker",
    "the Alpaca v2 client: broker:submit(intent) (idempotent), broker:orders{}, broker:positions(), "
    .. "broker:reconcile(state), broker:kill(flatten)" },
  { "gt.live_exec", "gt.live_exec.new(session) -> exec",
    "a live session's execution (mode = \"live\"; the orchestrator makes it): exec:start() reconciles, "
    .. "exec:sync() applies the broker's fills, exec:send() sends the committed orders, exec:kill(reason)" },
  { "gt.json", "gt.json", "JSON: gt.json.encode(v) (sorted keys, exact numbers), gt.json.decode(text)" },
  { "help", "help, help(value), help \"name\"", "what a thing is and how to call it; quit or exit leaves" },
}

local function resolve(path)
  local v = _G.gt or package.loaded.gt
  if path == "gt" then return v end
  local method = path:match("^series:([%w_]+)$")
  if method then
    local sm = package.loaded["gt.series"]
    return sm and sm.Series and rawget(sm.Series, method)
  end
  local rest = path:match("^gt%.(.+)$")
  if not rest or not v then return nil end
  for part in rest:gmatch("[^%.]+") do
    if type(v) ~= "table" then return nil end
    -- only modules already loaded: asking for help must not load the library
    local ok, x = pcall(function() return rawget(v, part) end)
    if not ok then return nil end
    v = x
  end
  return v
end

-- "sma(x, period=30) -> sma" from one gt.ind.list() entry.
function M.signature(e)
  local args = {}
  for _, i in ipairs(e.inputs) do args[#args + 1] = i end
  for _, p in ipairs(e.params) do args[#args + 1] = p.name .. "=" .. tostring(p.default) end
  return ("%s(%s) -> %s"):format(e.name, table.concat(args, ", "), table.concat(e.outputs, ", "))
end

-- gt.ind.list() as text: one indicator per line, signature then description.
function M.ind_list(list)
  local rows, w = {}, 0
  for _, e in ipairs(list) do
    rows[#rows + 1] = { M.signature(e), e.doc or "" }
    w = math.max(w, #rows[#rows][1])
  end
  w = math.min(w, 40) -- a few long signatures should not push every description off the screen
  local out = {}
  for _, r in ipairs(rows) do out[#out + 1] = ("%-" .. w .. "s  %s"):format(r[1], r[2]):gsub("%s+$", "") end
  return table.concat(out, "\n")
end

local function entry_text(e)
  local s = e[1] == e[2] and e[1] or (e[1] .. "\n  " .. e[2])
  if e[3] ~= "" then s = s .. "\n  " .. e[3] end
  return s
end

local function ind_entry(name)
  local ind = package.loaded["gt.ind"]
  if not ind then return nil end
  for _, e in ipairs(ind.list()) do
    if e.name == name then
      return ("gt.ind.%s\n  gt.ind.%s\n  %s (%s)"):format(e.name, M.signature(e), e.doc or "", e.group or "")
    end
  end
end

local function command_text(c)
  return require("gt.cli").command_help(c):gsub("%s+$", "")
end

-- The text for a topic: a value (by identity) or a name; nil when nothing is known.
function M.text(x)
  local found = {}
  if type(x) == "string" then
    local name = x:gsub("^gtengine%s+", "")
    local short = name:gsub("^gt%.", "")
    for _, e in ipairs(M.entries) do
      if e[1] == name or e[1] == "gt." .. name or e[1]:gsub("^[%w_]+[:%.]", "") == name then
        found[#found + 1] = entry_text(e)
      end
    end
    local it = ind_entry(short:match("^ind%.(.+)$") or short)
    if it and (#found == 0 or short:match("^ind%.")) then found[#found + 1] = it end
    local cmd = require("gt.cli").find(name)
    if cmd then found[#found + 1] = command_text(cmd) end
  elseif x ~= nil then
    for _, e in ipairs(M.entries) do
      if (e[1]:find("^gt") or e[1]:find("^series:")) and resolve(e[1]) == x then
        found[#found + 1] = entry_text(e)
      end
    end
    -- a series or a backtest result asks about its kind
    local kind
    local sm, mt = package.loaded["gt.series"], type(x) == "table" and getmetatable(x)
    if mt and sm and mt == sm.Series then kind = "series" end
    local R = mt and (type(mt.__index) == "table" and mt.__index or mt)
    if R and type(rawget(x, "stats")) == "table" and type(R.report) == "function"
      and type(R.summary) == "function" then
      kind = "result"
    end
    if kind then
      for _, e in ipairs(M.entries) do
        if e[1] == kind or e[1]:find("^" .. kind .. ":") then found[#found + 1] = entry_text(e) end
      end
    end
    local ind = package.loaded["gt.ind"]
    if #found == 0 and ind and type(x) == "function" then
      for _, e in ipairs(ind.list()) do
        if rawget(ind, e.name) == x then found[#found + 1] = ind_entry(e.name) end
      end
    end
  end
  if #found == 0 then return nil end
  return table.concat(found, "\n\n") .. "\n"
end

-- The topics help() lists when called without one.
function M.overview()
  local mods, cmds = {}, {}
  for _, e in ipairs(M.entries) do
    if e[1]:match("^gt%.[%w_]+$") and e[1] == e[2] then mods[#mods + 1] = e[1] end
  end
  for _, c in ipairs(require("gt.cli").commands) do cmds[#cmds + 1] = c.name end
  return table.concat({
    "help(value) or help \"name\": what a thing is and how to call it, e.g. help(gt.ind.sma),",
    "  help \"backtest\" (the module and the command), help \"series\", help \"result\"",
    "modules: " .. table.concat(mods, ", "),
    "commands (gtengine CMD --help): " .. table.concat(cmds, ", "),
    "gt.ind.list() prints every indicator's signature; Tab completes names; quit or exit leaves",
  }, "\n")
end

-- help(x): prints the text for x (or the overview) and returns nothing, so the REPL
-- prints nothing more.
function M.help(x)
  if x == nil then io.write(M.overview(), "\n"); return end
  local t = M.text(x)
  if t then io.write(t); return end
  local what = type(x) == "string" and ("'" .. x .. "'") or tostring(x)
  io.write("no help for ", what, "; help() lists the topics\n")
end

return M
