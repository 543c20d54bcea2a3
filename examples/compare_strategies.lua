-- examples/compare_strategies.lua: data -> analysis -> every strategy backtested -> the best one
-- reported, as a plain script (the workflow version of a backtest is workflows/backtest.lua).
-- Runs with no network and no keys on built-in synthetic data, or on your own file:
--   gtengine run examples/compare_strategies.lua [FILE.csv]
local gt = require "gt"

local settings = {
  data = arg and arg[1],          -- a CSV file; nil uses synthetic regime-switching data
  synthetic = { n = 2520, seed = 42, start = "2015-01-02", symbol = "SYNTH" }, -- ten years of days
  capital = 10000,
  fill = "next_open",
  commission = 0.001,
  slippage_bps = 5,
  rank_by = "sharpe",
  report = "out/backtest.html",
}

local fmt = require "gt.fmt"

-- 1. data
local s
if settings.data then
  local err
  s, err = gt.data.load(settings.data)
  if not s then io.stderr:write(err, "\n"); os.exit(1) end
else
  s = gt.data.synthetic(settings.synthetic)
end
print(("data: %s"):format(tostring(s)))

-- 2. analysis of the latest bar
local a, aerr = gt.analyze.symbol(s)
if not a then io.stderr:write(aerr, "\n"); os.exit(1) end
print(("analysis: %s (confidence %.2f); trend %s, volatility %s, momentum %s\n"):format(
  a.recommendation, a.confidence, a.trend, a.volatility, a.momentum))

-- 3. every strategy over the whole history
local rows, best = {}, nil
for _, name in ipairs(gt.strategy.list()) do
  -- a strategy file that does not load is skipped with its one-line reason
  local ok, strat = pcall(gt.strategy.load, name)
  if not ok then
    io.stderr:write(("%s: skipped: %s\n"):format(name, tostring(strat):gsub("\n.*", "")))
    goto continue
  end
  local r, err = gt.backtest.run(strat, s, { capital = settings.capital, fill = settings.fill,
    commission = settings.commission, slippage_bps = settings.slippage_bps })
  if not r then
    io.stderr:write(("%s: skipped: %s\n"):format(name, err))
    goto continue
  end
  local st = r.stats
  rows[#rows + 1] = { strategy = name, ret = st.return_pct, cagr = st.cagr_pct, sharpe = st.sharpe,
    maxdd = st.max_drawdown_pct, trades = st.num_trades, win = st.win_rate_pct }
  local key = st[settings.rank_by]
  if key == key and (not best or key > best.stats[settings.rank_by]) then best = r end
  ::continue::
end
table.sort(rows, function(x, y)
  local a1, b1 = x.sharpe, y.sharpe
  if a1 ~= a1 then return false end
  if b1 ~= b1 then return true end
  return a1 > b1
end)
local pct = function(v) return v == v and fmt.num(v, 2) .. "%" or "n/a" end
local num = function(v) return v == v and fmt.num(v, 2) or "n/a" end
io.write(fmt.table(rows, {
  { key = "strategy" }, { key = "ret", title = "return", fmt = pct, align = "right" },
  { key = "cagr", title = "CAGR", fmt = pct, align = "right" },
  { key = "sharpe", fmt = num, align = "right" }, { key = "maxdd", title = "max DD", fmt = pct, align = "right" },
  { key = "trades", align = "right" }, { key = "win", title = "win rate", fmt = pct, align = "right" },
}))

-- 4. the best one, in full
if best then
  os.execute("mkdir -p " .. settings.report:match("^(.*)/") )
  assert(best:report(settings.report))
  print(("\nbest by %s: %s; report written to %s"):format(settings.rank_by, best.strategy, settings.report))
  if fmt.isatty(1) then io.write("\n", require("gt.textchart").summary(best), "\n") end
end
