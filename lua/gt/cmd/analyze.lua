-- `gtengine analyze`: the scored analysis of one symbol, as a summary or JSON.
local cli = require "gt.cli"
local fmt = require "gt.fmt"
local gtime = require "gt.time"

local M = {}

M.help = [[
  --data FILE | --symbol S [--timeframe 1d] [--db PATH]
  --window N     bars of pattern history that count (default 10)
  --json         print every field as JSON
]]

local function n2(v) return v and fmt.num(v, 2) or "n/a" end

function M.main(args)
  local o = cli.parse(args, { data = "string", symbol = "string", timeframe = "string", db = "string",
    json = "flag", window = "number" }, 2)
  local s, err = cli.load_series(o, "analyze needs --data FILE or --symbol S")
  if not s then io.stderr:write("gtengine analyze: ", err, "\n"); return 1 end
  local a, aerr = require("gt.analyze").symbol(s, { pattern_window = o.window })
  if not a then io.stderr:write("gtengine ", aerr, "\n"); return 1 end
  if o.json then
    local json = require "gt.json"
    a.time = gtime.format(a.time, false)
    a.patterns = json.array(a.patterns)
    a.levels.swing_highs = json.array(a.levels.swing_highs or {})
    a.levels.swing_lows = json.array(a.levels.swing_lows or {})
    io.write(json.encode(a), "\n")
    return 0
  end
  local i, l = a.indicators, a.levels
  io.write(("%s %s at %s: %s\n"):format(a.symbol or "?", a.timeframe or "", gtime.format(a.time, false):gsub("T00:00:00Z$", ""), n2(a.price)))
  io.write(("recommendation: %s (confidence %.2f, score %d)\n\n"):format(a.recommendation:upper(), a.confidence, a.score))
  io.write(("trend %s   volatility %s (%s ann.)   momentum %s   volume %s\n"):format(a.trend, a.volatility,
    a.realised_vol and fmt.num(a.realised_vol * 100, 1) .. "%" or "n/a", a.momentum, a.volume_profile))
  io.write(("SMA20 %s  SMA50 %s  SMA200 %s  RSI14 %s  MACD %s / %s  ATR14 %s\n"):format(n2(i.sma20), n2(i.sma50),
    n2(i.sma200), n2(i.rsi14), n2(i.macd), n2(i.macd_signal), n2(i.atr14)))
  io.write(("Bollinger %s .. %s   Stoch %s / %s\n"):format(n2(i.bb_lower), n2(i.bb_upper), n2(i.stoch_k), n2(i.stoch_d)))
  io.write(("support %s (strong %s)   resistance %s (strong %s)   pivot %s\n"):format(n2(l.support),
    n2(l.strong_support), n2(l.resistance), n2(l.strong_resistance), n2(l.pivot)))
  local sig = {}
  for name, v in pairs(a.signals) do
    sig[#sig + 1] = ("%s %s (%.2f)"):format(name, v.signal > 0 and "buy" or v.signal < 0 and "sell" or "none", v.confidence)
  end
  table.sort(sig)
  io.write("strategies: ", table.concat(sig, ", "), "\n")
  if #a.patterns > 0 then
    local ps = {}
    for _, p in ipairs(a.patterns) do ps[#ps + 1] = ("%s %s (%.2f)"):format(p.name, p.kind, p.confidence) end
    io.write("recent patterns: ", table.concat(ps, ", "), "\n")
  else
    io.write("recent patterns: none\n")
  end
  return 0
end

return M
