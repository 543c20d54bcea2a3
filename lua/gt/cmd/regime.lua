-- `gtengine regime`: the market regime of one series at its last bar (or --at N), with the
-- recent labels; or, with --accuracy, every method scored against synthetic ground truth.
local cli = require "gt.cli"
local fmt = require "gt.fmt"
local gtime = require "gt.time"

local M = {}

M.help = [[
  --data FILE | --symbol S [--timeframe 1d] [--db PATH]
  --method M     rules (default), hmm or ensemble
  --benchmark F  a benchmark's CSV (adds correlation and risk sentiment); only the dates
                 both files have are used
  --at N         the bar to report (default the last; only bars 0..N are used)
  --last N       how many recent bars of labels to list (default 10)
  --json         the record as JSON
  --accuracy     score every method on synthetic paths with known regimes instead
                 (--seeds K paths, default 8; --bars N bars each, default 5000)
]]

local function date(s, i)
  return (gtime.format(s.ts[i], false):gsub("T00:00:00Z$", ""))
end

local function accuracy(o)
  local regime = require "gt.regime"
  local seeds = {}
  for k = 1, o.seeds or 8 do seeds[k] = k end
  local rows, mats = {}, {}
  for _, method in ipairs({ "rules", "hmm", "ensemble" }) do
    local a = regime.accuracy { method = method, seeds = seeds, n = o.bars or 5000 }
    rows[#rows + 1] = { method = method, bars = tostring(a.n), accuracy = fmt.num(a.accuracy, 3),
      baseline = fmt.num(a.majority.accuracy, 3), margin = fmt.num(a.accuracy - a.majority.accuracy, 3) }
    mats[#mats + 1] = a
  end
  io.write(("per-bar accuracy on %d synthetic paths of %d bars (baseline: each path's most frequent "
    .. "true regime)\n"):format(#seeds, o.bars or 5000))
  io.write(fmt.table(rows, { { key = "method" }, { key = "bars", align = "right" },
    { key = "accuracy", align = "right" }, { key = "baseline", align = "right" }, { key = "margin", align = "right" } }))
  local short = { "bull_q", "bull_v", "bear_q", "bear_v", "side_q", "side_v", "crisis" }
  for _, a in ipairs(mats) do
    io.write("\nconfusion, ", a.method, " (rows: true regime, columns: predicted)\n")
    local cols = { { key = "truth", title = "" } }
    for c = 1, 7 do cols[#cols + 1] = { key = "c" .. c, title = short[c], align = "right" } end
    local mrows = {}
    for r = 1, 7 do
      local row = { truth = regime.NAMES[r - 1] }
      for c = 1, 7 do row["c" .. c] = tostring(a.confusion[r][c]) end
      mrows[r] = row
    end
    io.write(fmt.table(mrows, cols))
  end
  return 0
end

function M.main(args)
  local o = cli.parse(args, { data = "string", symbol = "string", timeframe = "string", db = "string",
    method = "string", benchmark = "string", at = "number", last = "number", json = "flag",
    accuracy = "flag", seeds = "number", bars = "number" }, 2)
  if o.method and not require("gt.regime").METHODS[o.method] then
    cli.usage("--method must be rules, hmm or ensemble, not '" .. o.method .. "'")
  end
  if o.accuracy then return accuracy(o) end
  local data = require "gt.data"
  local s, err = cli.load_series(o, "regime needs --data FILE or --symbol S (or --accuracy)")
  if not s then io.stderr:write("gtengine regime: ", err, "\n"); return 1 end
  local bench
  if o.benchmark then
    bench, err = data.load(o.benchmark)
    if not bench then io.stderr:write("gtengine regime: ", err, "\n"); return 1 end
    -- the two on one clock: the bars both have (outer filling would invent returns)
    local n0 = s.n
    local al = data.align({ s, bench }, { mode = "inner" })
    s, bench = al[1], al[2]
    if s.n < n0 then
      io.stderr:write(("gtengine regime: %d of %d bars kept, those the benchmark also has\n"):format(s.n, n0))
    end
  end
  local regime = require "gt.regime"
  local at = o.at or s.n - 1
  if at < 0 or at >= s.n or at % 1 ~= 0 then
    cli.usage(("--at %s: the series has bars 0..%d"):format(tostring(o.at), s.n - 1))
  end
  local opts = { method = o.method or "rules", benchmark = bench, at = at }
  local ok, r, rerr = pcall(regime.detect, s, opts)
  if not ok then io.stderr:write("gtengine regime: ", tostring(r), "\n"); return 1 end
  if not r then io.stderr:write("gtengine regime: ", rerr, "\n"); return 1 end
  r.symbol, r.timeframe, r.time = s.symbol, s.timeframe, gtime.format(s.ts[at], false)
  if o.json then
    io.write(require("gt.json").encode(r), "\n")
    return 0
  end
  local function n3(v) return v and fmt.num(v, 3) or "n/a" end
  io.write(("%s %s at %s (bar %d, method %s): %s\n"):format(s.symbol or "?", s.timeframe or "", date(s, at), at,
    r.method, r.regime:upper()))
  io.write(("confidence %s   stability %s   in this regime for %d bars   P(change next bar) %s\n"):format(
    n3(r.confidence), n3(r.stability), r.duration, n3(r.transition_probability)))
  io.write(("trend %s   volatility %s   risk sentiment %s\n"):format(r.trend or "n/a", r.volatility or "n/a",
    r.risk_sentiment or "n/a"))
  local f = r.features
  local function pct(v) return v and fmt.num(v * 100, 2) .. "%" or "n/a" end
  io.write(("vol10 %s  vol30 %s  ret5 %s  ret20 %s  ret60 %s  trend strength %s  ADX %s  corr %s\n\n"):format(
    f.vol10 and fmt.num(f.vol10, 1) or "n/a", f.vol30 and fmt.num(f.vol30, 1) or "n/a", pct(f.ret5), pct(f.ret20),
    pct(f.ret60), f.trend_strength and fmt.num(f.trend_strength, 1) or "n/a", f.adx and fmt.num(f.adx, 1) or "n/a",
    f.corr and fmt.num(f.corr, 2) or "n/a"))
  -- the recent labels, from the same online history (bars 0..at)
  local hopts = { method = opts.method, benchmark = bench }
  local sub = s:slice(0, at + 1)
  if bench then hopts.benchmark = bench:slice(0, at + 1) end
  local h = regime.history(sub, hopts)
  local rows = {}
  for i = math.max(0, at - (o.last or 10) + 1), at do
    rows[#rows + 1] = { date = date(s, i), close = fmt.num(s.close[i], 2), regime = h.labels[i] or "(warm-up)",
      confidence = h.confidence[i] == h.confidence[i] and fmt.num(h.confidence[i], 2) or "" }
  end
  io.write(fmt.table(rows, { { key = "date" }, { key = "close", align = "right" }, { key = "regime" },
    { key = "confidence", align = "right" } }))
  return 0
end

return M
