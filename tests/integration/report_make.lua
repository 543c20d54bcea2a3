-- Writes a sample backtest report for report_chromium.sh: `gtengine report_make.lua OUT N`.
-- Deterministic synthetic data (a drifting sine with an LCG wobble), a trade every 40 bars
-- alternating long and short, one still open at the end.
local ffi = require "ffi"
local report = require "gt.report"

local out, n = arg[1], tonumber(arg[2]) or 800
local DAY = 86400 * 1000000
local t0 = 1546300800 * 1000000 -- 2019-01-01
local ts, close, eq = ffi.new("int64_t[?]", n), ffi.new("double[?]", n), ffi.new("double[?]", n)
local seed, wobble = 42, 0
for i = 0, n - 1 do
  seed = (seed * 1103515245 + 12345) % 2147483648
  wobble = 0.9 * wobble + (seed / 2147483648 - 0.5) * 2
  ts[i] = t0 + i * DAY
  close[i] = 120 + 25 * math.sin(i / 90) + i * 0.03 + wobble
end
local trades, cash, open = {}, 100000, nil
for i = 0, n - 1 do
  if not open and i % 40 == 5 then
    open = { entry_time = tonumber(ts[i]), entry_bar = i, entry_price = close[i],
             size = (#trades % 2 == 0) and 200 or -200 }
  elseif open and i == open.entry_bar + 25 and i < n - 10 then
    open.exit_time, open.exit_bar, open.exit_price, open.fees = tonumber(ts[i]), i, close[i], 3
    open.pnl = (close[i] - open.entry_price) * open.size - open.fees
    open.return_pct = open.pnl / (math.abs(open.size) * open.entry_price) * 100
    cash = cash + open.pnl
    trades[#trades + 1], open = open, nil
  end
  eq[i] = cash + (open and (close[i] - open.entry_price) * open.size or 0)
end
if open then
  open.exit_time, open.exit_bar, open.exit_price, open.fees = 0, -1, close[n - 1], 1.5
  open.pnl = (close[n - 1] - open.entry_price) * open.size
  open.return_pct = open.pnl / (math.abs(open.size) * open.entry_price) * 100
  trades[#trades + 1] = open
end
local dd, peak = ffi.new("double[?]", n), -math.huge
for i = 0, n - 1 do
  if eq[i] > peak then peak = eq[i] end
  dd[i] = eq[i] / peak - 1
end
local wins = 0
for _, tr in ipairs(trades) do if tr.pnl > 0 then wins = wins + 1 end end
local result = {
  strategy = "sma_cross <demo>", params = { fast = 10, slow = 30, stop_pct = 2.5 },
  symbol = "GOOG", timeframe = "1d", run_id = 3, n = n, ts = ts, close = close, equity = eq,
  drawdown = dd, trades = trades,
  stats = { return_pct = (eq[n - 1] / eq[0] - 1) * 100, num_trades = #trades,
            win_rate_pct = 100 * wins / #trades, final_equity = eq[n - 1], sharpe = 0 / 0 },
}
local ok, err = report.write(result, out)
if not ok then io.stderr:write(err, "\n"); os.exit(1) end
print(#trades)
