-- gt.workflow: finds, loads and validates workflow definitions (workflows/*.lua).
--
-- A workflow file returns a table; it is loaded in the strict environment strategies get
-- (an undeclared global is an error, `gt` is there without a require). Every setting has a
-- default (M.DEFAULTS, per mode where they differ); a key that is not known, or a value of
-- the wrong kind, is an error naming the file, the key and what was expected.
--
--   local wf = gt.workflow.load("paper")                    -- or a path
--   local wf = gt.workflow.load("workflows/paper.lua", { symbols = {"AAPL"}, capital = 5e4 })
--   wf.mode, wf.symbols, wf.broker.commission, wf.steps ...
local paths = require "gt.paths"

local M = {}

local MODES = { backtest = true, paper = true, live = true, optimize = true }

-- Defaults. Mode-specific ones are in BY_MODE and override these.
M.DEFAULTS = {
  name = nil,                 -- the file's base name
  description = "",
  mode = "paper",             -- backtest | paper | live | optimize
  symbols = { "SYNTH" },
  capital = 100000,           -- the seed's paper default
  timeframe = "1d",
  db = nil,                   -- the session's database (journal, state, models, bars): $GT_DB, else gt.db
  data = {
    source = "synthetic",     -- synthetic | csv | store
    files = nil,              -- csv: { SYMBOL = "path.csv", ... } or "dir/{symbol}.csv"
    start = nil, stop = nil,  -- store: the date range to read (YYYY-MM-DD)
    bars = 504,               -- synthetic: bars per symbol (two years of days)
    seed = 7,                 -- synthetic: symbol j uses seed + j - 1
    first = "2023-01-03",     -- synthetic: the first bar's date
  },
  feed = {
    kind = "replay",          -- replay: bars from data, one cycle per bar
    speed = 0,                -- 0: as fast as possible; N: N times real time (60 = a day in 24 min)
    warmup = 60,              -- bars that only warm indicators and regime up before trading
  },
  broker = {
    kind = "sim",             -- "sim": the simulated broker; "alpaca": the Alpaca v2 REST broker
                              -- (mode = "live"; see workflows/live.lua for its settings)
    commission = 0.001,       -- fraction of notional (the seed's paper cost)
    slippage = 0.0005,        -- fraction of price against market and stop fills
    fill = "close",           -- "close": at the deciding bar's close; "next_open"
    fractional = false,
    short = false,
  },
  strategy = "sma_cross",     -- a name, a list (an ensemble) or "ml"
  params = {},                -- { strategy_name = { param = value } }
  selection = {
    fallback = "momentum",    -- "ml": used when no model or its confidence is low
    min_confidence = 0.6,     -- the seed's OrchestratorConfig.min_confidence
    model = nil,              -- "ml": a saved model's name (default: the newest in db)
    every = 5,                -- "ml": re-select every N bars
  },
  regime = { method = "rules" }, -- rules | hmm | ensemble | false (no regime step)
  sizing = { method = "fixed", max_position = 0.2 }, -- gt.sizing parameters
  risk = "paper",             -- a gt.risk preset, a table of limits, or false
  tiers = false,              -- true (or a gt.portfolio config): tier rules on
  monitor = { progress = true }, -- gt.monitor: progress, log, log_max_bytes, log_keep, webhook,
                                 -- dedupe, error_rate, error_window, cycle_ms, stale_after
  journal = { enabled = true, batch = 1000 },
  reload = { enabled = true, every = 1 }, -- paper: strategy and workflow files hot-reloaded (gt.reload),
                              -- checked at most every `every` seconds of the engine's clock
                              -- (never in mode backtest: its result must be reproducible)
  report = nil,               -- an HTML report path at the end
  steps = nil,                -- nil: the default cycle; else a list (see gt.orchestrator)
  optimize = nil,             -- mode optimize: { strategy =, grid =, objective =, walkforward = }
}

local BY_MODE = {
  backtest = { capital = 10000, journal = { enabled = false, batch = 1000 }, reload = { enabled = false },
    broker = { fill = "next_open" }, risk = false, feed = { warmup = 0 } },
  -- Alpaca charges no commission on stocks; its paper endpoint unless broker.paper = false
  live = { broker = { kind = "alpaca", commission = 0 }, risk = "live" },
}

local function deepcopy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = deepcopy(v) end
  return c
end
M.deepcopy = deepcopy

-- A validation failure: "file: key 'a.b': expected ..., got ...".
local function fail(where, key, msg)
  error(("%s: key '%s': %s"):format(where, key, msg), 0)
end

local function kind(v)
  if type(v) == "number" and v ~= v then return "NaN" end
  if type(v) == "string" then return ("%q"):format(v) end
  if type(v) == "table" then return "a table" end
  return tostring(v)
end

local function want_number(where, key, v, lo, hi, whole)
  if type(v) ~= "number" or v ~= v or v < lo or v > hi or (whole and v % 1 ~= 0) then
    fail(where, key, ("expected %s in [%g, %g], got %s"):format(whole and "a whole number" or "a number",
      lo, hi, kind(v)))
  end
end

local function want_string(where, key, v, choices)
  if type(v) ~= "string" or v == "" then fail(where, key, "expected a non-empty string, got " .. kind(v)) end
  if choices and not choices[v] then
    local names = {}
    for c in pairs(choices) do names[#names + 1] = c end
    table.sort(names)
    fail(where, key, ("expected one of %s, got %s"):format(table.concat(names, ", "), kind(v)))
  end
end

local function want_bool(where, key, v)
  if type(v) ~= "boolean" then fail(where, key, "expected true or false, got " .. kind(v)) end
end

-- Unknown keys in a sub-table: errors that list the known ones.
local function known_keys(where, prefix, t, allowed)
  if type(t) ~= "table" then fail(where, prefix, "expected a table, got " .. kind(t)) end
  for k in pairs(t) do
    if allowed[k] == nil then
      local names = {}
      for a in pairs(allowed) do names[#names + 1] = a end
      table.sort(names)
      fail(where, prefix == "" and tostring(k) or (prefix .. "." .. tostring(k)),
        ("unknown key (known: %s)"):format(table.concat(names, ", ")))
    end
  end
end

-- Merges src into dst one level deep for the sub-tables of DEFAULTS.
local function overlay(dst, src)
  for k, v in pairs(src) do
    if type(v) == "table" and type(dst[k]) == "table" and M.DEFAULTS[k] ~= nil
      and type(M.DEFAULTS[k]) == "table" and k ~= "symbols" and k ~= "params" then
      for k2, v2 in pairs(v) do dst[k][k2] = deepcopy(v2) end
    else
      dst[k] = deepcopy(v)
    end
  end
end

local TOP = {}
for k in pairs(M.DEFAULTS) do TOP[k] = true end
for _, k in ipairs { "name", "data", "report", "steps", "optimize", "db" } do TOP[k] = true end

local SUB = {
  data = { source = true, files = true, start = true, stop = true, bars = true, seed = true, first = true },
  feed = { kind = true, speed = true, warmup = true, provider = true, interval = true, lag = true, history = true,
    calendar = true, extended = true, hold = true, base_url = true, key_file = true },
  broker = { kind = true, commission = true, slippage = true, fill = true, fractional = true, short = true,
    paper = true, base_url = true, key_file = true, dry_run = true, rate_per_min = true, timeout = true, trace = true },
  selection = { fallback = true, min_confidence = true, model = true, every = true },
  regime = { method = true },
  monitor = { progress = true, log = true, log_max_bytes = true, log_keep = true, webhook = true, dedupe = true,
    error_rate = true, error_window = true, cycle_ms = true, stale_after = true },
  journal = { enabled = true, batch = true },
  reload = { enabled = true, every = true },
  optimize = { strategy = true, grid = true, objective = true, walkforward = true, random = true, jobs = true },
}

local function check_strategy_name(where, key, name)
  want_string(where, key, name)
  local ok, err = pcall(require("gt.strategy").load, name)
  if not ok then fail(where, key, tostring(err):gsub("\n.*", "")) end
end

-- Validates a definition merged with the defaults; returns it (raises with file and key).
function M.validate(wf, where)
  known_keys(where, "", wf, TOP)
  for k, allowed in pairs(SUB) do
    if wf[k] ~= nil and wf[k] ~= false then known_keys(where, k, wf[k], allowed) end
  end
  want_string(where, "mode", wf.mode, MODES)
  want_string(where, "name", wf.name)
  if type(wf.description) ~= "string" then fail(where, "description", "expected a string") end
  if type(wf.symbols) ~= "table" or #wf.symbols == 0 then
    fail(where, "symbols", "expected a non-empty list of symbol names, got " .. kind(wf.symbols))
  end
  local seen = {}
  for i, s in ipairs(wf.symbols) do
    if type(s) ~= "string" or not s:match("^[%w%.%-_/]+$") then
      fail(where, ("symbols[%d]"):format(i), "expected a symbol name like AAPL or BTC-USD, got " .. kind(s))
    end
    if seen[s] then fail(where, ("symbols[%d]"):format(i), ("%s is listed twice"):format(s)) end
    seen[s] = true
  end
  for k in pairs(wf.symbols) do
    if type(k) ~= "number" then fail(where, "symbols", "expected a list, got a key " .. kind(k)) end
  end
  want_number(where, "capital", wf.capital, 1, 1e12)
  require("gt.timeframe").check(wf.timeframe, 1)
  want_string(where, "db", wf.db)
  -- data
  local d = wf.data
  want_string(where, "data.source", d.source, { synthetic = true, csv = true, store = true })
  if d.source == "csv" then
    if type(d.files) == "string" then
      if not d.files:find("{symbol}", 1, true) and #wf.symbols > 1 then
        fail(where, "data.files", "one file is one symbol's bars; for several symbols a pattern must contain "
          .. "{symbol}, e.g. \"data/{symbol}.csv\"")
      end
    elseif type(d.files) == "table" then
      for _, s in ipairs(wf.symbols) do
        if type(d.files[s]) ~= "string" then fail(where, "data.files." .. s, "expected the CSV path of " .. s) end
      end
    else
      fail(where, "data.files", "csv data needs files = { SYMBOL = \"path.csv\" } or \"dir/{symbol}.csv\"")
    end
  end
  for _, k in ipairs { "start", "stop", "first" } do
    if d[k] ~= nil and not require("gt.time").parse(d[k]) then
      fail(where, "data." .. k, "expected a date like 2024-01-31, got " .. kind(d[k]))
    end
  end
  want_number(where, "data.bars", d.bars, 2, 1e8, true)
  want_number(where, "data.seed", d.seed, 0, 2 ^ 31, true)
  -- feed
  want_string(where, "feed.kind", wf.feed.kind, { replay = true, poll = true })
  if wf.feed.kind == "poll" then
    local f = wf.feed
    want_string(where, "feed.provider", f.provider, { alpaca = true, yahoo = true, coinbase = true })
    if f.interval ~= nil then want_number(where, "feed.interval", f.interval, 1, 86400 * 7) end
    if f.lag ~= nil then want_number(where, "feed.lag", f.lag, 0, 3600) end
    if f.history ~= nil then want_number(where, "feed.history", f.history, 2, 1e6, true) end
    if f.hold ~= nil then want_number(where, "feed.hold", f.hold, 0, 1000, true) end
    if f.calendar ~= nil then
      want_string(where, "feed.calendar", f.calendar, { us_equity = true, crypto = true, always = true })
    end
    if f.extended ~= nil then want_bool(where, "feed.extended", f.extended) end
    if f.base_url ~= nil then want_string(where, "feed.base_url", f.base_url) end
    if f.key_file ~= nil then want_string(where, "feed.key_file", f.key_file) end
    if wf.mode ~= "paper" and wf.mode ~= "live" then
      fail(where, "feed.kind", "a poll feed is for paper and live sessions (mode = \"paper\" or \"live\")")
    end
  end
  want_number(where, "feed.speed", wf.feed.speed, 0, 1e9)
  want_number(where, "feed.warmup", wf.feed.warmup, 0, 1e6, true)
  -- broker
  local b = wf.broker
  want_string(where, "broker.kind", b.kind, { sim = true, alpaca = true })
  if b.kind == "alpaca" then
    if wf.mode ~= "live" then
      fail(where, "broker.kind", "the Alpaca broker trades in mode = \"live\" (its paper account: broker.paper = true)")
    end
    if b.paper ~= nil then want_bool(where, "broker.paper", b.paper) end
    if b.dry_run ~= nil then want_bool(where, "broker.dry_run", b.dry_run) end
    if b.trace ~= nil then want_bool(where, "broker.trace", b.trace) end
    if b.base_url ~= nil then
      want_string(where, "broker.base_url", b.base_url)
      if not b.base_url:match("^https?://[^/]") then
        fail(where, "broker.base_url", "expected an http(s) URL like https://paper-api.alpaca.markets, got " .. kind(b.base_url))
      end
    end
    if b.key_file ~= nil then want_string(where, "broker.key_file", b.key_file) end
    if b.rate_per_min ~= nil then want_number(where, "broker.rate_per_min", b.rate_per_min, 1, 200) end
    if b.timeout ~= nil then want_number(where, "broker.timeout", b.timeout, 1, 120) end
    if b.short then fail(where, "broker.short", "short selling through the Alpaca broker is not supported yet") end
  else
    for _, k in ipairs { "paper", "base_url", "key_file", "dry_run", "rate_per_min", "timeout", "trace" } do
      if b[k] ~= nil then fail(where, "broker." .. k, "only for broker.kind = \"alpaca\"") end
    end
  end
  want_number(where, "broker.commission", b.commission, 0, 0.1)
  want_number(where, "broker.slippage", b.slippage, 0, 0.1)
  want_string(where, "broker.fill", b.fill, { close = true, next_open = true })
  want_bool(where, "broker.fractional", b.fractional)
  want_bool(where, "broker.short", b.short)
  -- strategy selection
  local st = wf.strategy
  if st == "ml" then
    check_strategy_name(where, "selection.fallback", wf.selection.fallback)
  elseif type(st) == "table" and (st.rule or st.signals or st.on_bar) then
    require("gt.strategy").get(st) -- an inline strategy (scripts and tests): checked here
  elseif type(st) == "table" then
    if #st == 0 then fail(where, "strategy", "an ensemble lists at least one strategy") end
    for i, name in ipairs(st) do check_strategy_name(where, ("strategy[%d]"):format(i), name) end
  else
    check_strategy_name(where, "strategy", st)
  end
  if type(wf.params) ~= "table" then fail(where, "params", "expected { strategy = { param = value } }") end
  for sname, p in pairs(wf.params) do
    local ok, s = pcall(require("gt.strategy").load, sname)
    if not ok then fail(where, "params." .. tostring(sname), "no such strategy") end
    if type(p) ~= "table" then fail(where, "params." .. sname, "expected a table of parameters") end
    for pk in pairs(p) do
      if s.params[pk] == nil then
        local names = {}
        for n in pairs(s.params) do names[#names + 1] = n end
        table.sort(names)
        fail(where, ("params.%s.%s"):format(sname, tostring(pk)),
          ("%s has no such parameter (it has: %s)"):format(sname, table.concat(names, ", ")))
      end
    end
    local okp, perr = require("gt.strategy").check_params(s, p)
    if not okp then fail(where, "params." .. sname, perr) end
  end
  local sel = wf.selection
  want_number(where, "selection.min_confidence", sel.min_confidence, 0, 1)
  want_number(where, "selection.every", sel.every, 1, 1e6, true)
  if sel.model ~= nil then want_string(where, "selection.model", sel.model) end
  if wf.regime ~= false then
    want_string(where, "regime.method", wf.regime.method, require("gt.regime").METHODS)
  end
  -- the slices' own validators, their messages prefixed with file and key
  local function via(key, fn, ...)
    local ok, err = pcall(fn, ...)
    if not ok then fail(where, key, (tostring(err):gsub("^[^:]*%.lua:%d+: ", ""))) end
    return err
  end
  via("sizing", require("gt.sizing").params, wf.sizing)
  if wf.risk ~= false then via("risk", require("gt.risk").limits, wf.risk) end
  if wf.tiers ~= false and wf.tiers ~= true then
    via("tiers", require("gt.portfolio").tier, wf.capital, { config = wf.tiers })
  end
  require("gt.monitor").check(wf.monitor, where)
  want_bool(where, "journal.enabled", wf.journal.enabled)
  want_number(where, "journal.batch", wf.journal.batch, 1, 1e7, true)
  want_bool(where, "reload.enabled", wf.reload.enabled)
  want_number(where, "reload.every", wf.reload.every, 0, 86400)
  if wf.report ~= nil then want_string(where, "report", wf.report) end
  if wf.steps ~= nil then require("gt.orchestrator").check_steps(wf.steps, where) end
  if wf.mode == "optimize" then
    if type(wf.optimize) ~= "table" then
      fail(where, "optimize", "mode optimize needs optimize = { strategy = NAME, ... }")
    end
    check_strategy_name(where, "optimize.strategy", wf.optimize.strategy)
  end
  if wf.mode == "live" then
    if b.kind ~= "alpaca" then
      fail(where, "broker.kind", "mode = \"live\" trades through broker.kind = \"alpaca\" (broker = \"alpaca\")")
    end
    if not wf.journal.enabled then
      fail(where, "journal.enabled", "a live session keeps its journal: every order intent is on disk before it is sent")
    end
    if wf.risk == false then
      fail(where, "risk", "a live session keeps its risk gate (the kill switch works through it); "
        .. "risk = \"off\" turns its limits off")
    end
  end
  return wf
end

-- Finds a workflow by name (workflows/NAME.lua under the search roots) or path.
function M.find(name)
  return paths.find("workflows", name)
end

-- load(name or path[, overrides]) -> the validated definition (defaults filled in), with
-- .path; raises with the file and key on an invalid one, nil, err when it is not found.
function M.load(name, overrides)
  local path, err = M.find(name)
  if not path then return nil, err end
  local def, lerr = paths.load_strict(path)
  if lerr then error(lerr, 0) end
  if type(def) ~= "table" then
    error(("%s: a workflow returns a table (name, mode, symbols, ...), got %s"):format(path, type(def)), 0)
  end
  return M.from_table(def, path, overrides)
end

-- The same for a definition already in hand (tests, scripts).
function M.from_table(def, where, overrides)
  where = where or "workflow"
  local mode = (overrides and overrides.mode) or def.mode or M.DEFAULTS.mode
  if def.broker == "alpaca" or def.broker == "sim" then -- broker = "alpaca": the kind alone
    def = deepcopy(def)
    def.broker = { kind = def.broker }
  end
  local wf = deepcopy(M.DEFAULTS)
  if BY_MODE[mode] then overlay(wf, BY_MODE[mode]) end
  known_keys(where, "", def, TOP)
  for k, allowed in pairs(SUB) do
    if type(def[k]) == "table" then known_keys(where, k, def[k], allowed) end
  end
  overlay(wf, def)
  if overrides then overlay(wf, overrides) end
  wf.name = wf.name or (where:match("([^/]+)%.lua$") or "workflow")
  wf.db = require("gt.config").db_path(wf.db)
  wf.path = nil
  M.validate(wf, where)
  wf.path = where
  return wf
end

-- Names of the workflows under the search roots.
function M.list()
  return paths.list("workflows")
end

return M
