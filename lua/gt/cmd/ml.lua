-- `gtengine ml train|evaluate|predict`: strategy selection learned from backtests (gt.ml).
local cli = require "gt.cli"
local fmt = require "gt.fmt"

local M = {}

M.help = [[
  ml evaluate --data FILE... | --symbol S...   walk-forward, out-of-sample table
  ml train    --data FILE... | --symbol S...   train on everything, validate, save in the db
  ml predict  --data FILE | --symbol S         ranked strategies at the last bar (or --at N)
  --horizon H        forward window of the targets in bars (default 20)
  --step N           bars between decision dates (default 5)
  --folds K          walk-forward folds (default 5)
  --strategy NAME    a candidate (repeatable; default the six trading strategies)
  --name NAME        the model's name in the database (default strategy_selector)
  --db PATH          the database (default gt.db or $GT_DB)
  --top N            predict: how many to rank (default 3)
  --min-confidence X predict: below this the fallback strategy is chosen (default 0.6)
  --fallback NAME    predict: the fallback (default sma_cross)
  --json             JSON instead of tables
]]

local function load_all(o)
  local data = require "gt.data"
  local list = {}
  for _, f in ipairs(o.data or {}) do
    local s, err = data.load(f, { timeframe = o.timeframe })
    if not s then return nil, err end
    list[#list + 1] = s
  end
  for _, sym in ipairs(o.symbol or {}) do
    local s, err = data.load({ symbol = sym, timeframe = o.timeframe or "1d", db = o.db })
    if not s then return nil, err end
    list[#list + 1] = s
  end
  if #list == 0 then cli.usage("ml needs --data FILE or --symbol S (repeatable)") end
  return list
end

local function pct(v) return v == v and fmt.num(v * 100, 1) .. "%" or "n/a" end

-- The out-of-sample table: one row per policy.
local function print_eval(e, symbols)
  io.write(("walk-forward, out of sample: %s; horizon %d bars, %d folds, %d test decisions\n"):format(
    table.concat(symbols, ", "), e.horizon, #e.folds, e.tested))
  io.write(("picking the best strategy: accuracy %.3f (chance %.3f); Brier %.3f (training-frequency "
    .. "forecast %.3f, lower is better)\n\n"):format(e.accuracy, e.chance, e.brier, e.brier_base))
  local rows = {}
  for _, r in ipairs(e.rows) do
    rows[#rows + 1] = { policy = r.policy, acc = r.pick_accuracy and fmt.num(r.pick_accuracy, 3) or "",
      ret = pct(r.ret), sharpe = r.sharpe == r.sharpe and fmt.num(r.sharpe, 2) or "n/a", mdd = pct(r.max_drawdown) }
  end
  io.write(fmt.table(rows, { { key = "policy" }, { key = "acc", title = "pick accuracy", align = "right" },
    { key = "ret", title = "return", align = "right" }, { key = "sharpe", title = "Sharpe", align = "right" },
    { key = "mdd", title = "max drawdown", align = "right" } }))
  io.write("(return, Sharpe and drawdown: one decision every H bars in the test blocks, compounded per "
    .. "symbol, averaged over symbols)\n\ncalibration of the top pick's confidence:\n")
  local cal = {}
  for _, c in ipairs(e.calibration) do
    cal[#cal + 1] = { bin = ("%.1f-%.1f"):format(c.from, c.to), n = tostring(c.n),
      conf = fmt.num(c.mean_confidence, 3), hit = fmt.num(c.hit_rate, 3) }
  end
  io.write(fmt.table(cal, { { key = "bin", title = "confidence" }, { key = "n", align = "right" },
    { key = "conf", title = "mean confidence", align = "right" }, { key = "hit", title = "hit rate", align = "right" } }))
end

function M.main(args)
  local sub = args[2]
  local o = cli.parse(args, { data = "list", symbol = "list", timeframe = "string", db = "string", horizon = "number",
    step = "number", folds = "number", strategy = "list", name = "string", top = "number", min_confidence = "number",
    fallback = "string", at = "number", json = "flag" }, 3)
  if sub ~= "train" and sub ~= "evaluate" and sub ~= "predict" then
    cli.usage("ml needs a subcommand: train, evaluate or predict")
  end
  local ml = require "gt.ml"
  local json = require "gt.json"
  local list, err = load_all(o)
  if not list then io.stderr:write("gtengine ml: ", err, "\n"); return 1 end
  local symbols = {}
  for j, s in ipairs(list) do symbols[j] = s.symbol or ("series" .. j) end
  local opts = { series = list, horizon = o.horizon, step = o.step, folds = o.folds, strategies = o.strategy,
    fallback = o.fallback, min_confidence = o.min_confidence }
  if sub == "evaluate" then
    local ok, e, eerr = pcall(ml.evaluate, opts)
    if not ok then io.stderr:write("gtengine ml: ", tostring(e), "\n"); return 1 end
    if not e then io.stderr:write("gtengine ml: ", eerr, "\n"); return 1 end
    if o.json then io.write(json.encode(e), "\n") else print_eval(e, symbols) end
    return 0
  end
  local db = o.db or os.getenv("GT_DB") or "gt.db"
  if sub == "train" then
    local t0 = require("gt.ffi").C.gt_clock_seconds()
    local ok, m, terr = pcall(ml.train, opts)
    if not ok then io.stderr:write("gtengine ml: ", tostring(m), "\n"); return 1 end
    if not m then io.stderr:write("gtengine ml: ", terr, "\n"); return 1 end
    local secs = require("gt.ffi").C.gt_clock_seconds() - t0
    local id, serr = ml.save(m, db, o.name)
    if not id then io.stderr:write("gtengine ml: ", serr, "\n"); return 1 end
    if o.json then
      io.write(json.encode({ id = id, name = m.name, rows = m.rows, seconds = secs, validation = m.validation }), "\n")
      return 0
    end
    io.write(("model %d '%s' saved in %s: %d training rows from %s, horizon %d, trained and validated in %.2f s\n")
      :format(id, m.name, db, m.rows, table.concat(symbols, ", "), m.horizon, secs))
    local v = m.validation
    io.write(("out of sample: accuracy %.3f, Brier %.3f (frequency forecast %.3f) over %d decisions\n"):format(
      v.accuracy, v.brier, v.brier_base, v.tested))
    return 0
  end
  -- predict
  if #list ~= 1 then cli.usage("ml predict takes one --data FILE or --symbol S") end
  local m, lerr = ml.load(db, o.name)
  if not m then io.stderr:write("gtengine ml: ", lerr, "\n"); return 1 end
  local s = list[1]
  if o.at and (o.at < 0 or o.at >= s.n or o.at % 1 ~= 0) then
    cli.usage(("--at %s: the series has bars 0..%d"):format(tostring(o.at), s.n - 1))
  end
  local r, perr = ml.predict(m, s, { at = o.at, top_n = o.top, min_confidence = o.min_confidence or m.min_confidence,
    fallback = o.fallback or m.fallback })
  if not r then io.stderr:write("gtengine ml: ", perr, "\n"); return 1 end
  if o.json then io.write(json.encode(r), "\n"); return 0 end
  io.write(("%s at bar %d: %s%s\n"):format(symbols[1], r.bar, r.selected, r.fallback and " (fallback)" or ""))
  if r.reason then io.write(r.reason, "\n") end
  local rows = {}
  for _, x in ipairs(r.ranked) do
    rows[#rows + 1] = { rank = tostring(x.rank), strategy = x.strategy, conf = fmt.num(x.confidence, 3),
      ret = pct(x.expected_return), sharpe = fmt.num(x.predicted_sharpe, 2) }
  end
  io.write(fmt.table(rows, { { key = "rank", align = "right" }, { key = "strategy" },
    { key = "conf", title = "confidence", align = "right" }, { key = "ret", title = "expected return", align = "right" },
    { key = "sharpe", title = "predicted Sharpe", align = "right" } }))
  return 0
end

return M
