local gt = require "gt"
local t = require "tests.lua.support"
local json = require "gt.json"
local analyze = require "gt.analyze"

local function line(n, f)
  local cols = { ts = {}, open = {}, high = {}, low = {}, close = {}, volume = {} }
  for i = 1, n do
    local c = f(i)
    cols.ts[i] = (i - 1) * 86400e6
    cols.open[i], cols.high[i], cols.low[i], cols.close[i], cols.volume[i] = c, c * 1.01, c * 0.99, c, 1000
  end
  return require("gt.series").from_columns(cols, { symbol = "T", timeframe = "1d" })
end

describe("gt.analyze rules (the seed's thresholds)", function()
  it("classifies trend by SMA20 against SMA50 +/- 2%", function()
    assert.equal("bullish", analyze.classify_trend(103, 100))
    assert.equal("neutral", analyze.classify_trend(102, 100))
    assert.equal("neutral", analyze.classify_trend(98, 100))
    assert.equal("bearish", analyze.classify_trend(97.9, 100))
    assert.equal("unknown", analyze.classify_trend(nil, 100))
  end)
  it("classifies momentum by RSI", function()
    assert.equal("strong_up", analyze.classify_momentum(71))
    assert.equal("weak_up", analyze.classify_momentum(56))
    assert.equal("neutral", analyze.classify_momentum(50))
    assert.equal("weak_down", analyze.classify_momentum(44))
    assert.equal("strong_down", analyze.classify_momentum(29))
  end)
  it("classifies annualised volatility", function()
    assert.equal("low", analyze.classify_vol(0.14))
    assert.equal("medium", analyze.classify_vol(0.2))
    assert.equal("high", analyze.classify_vol(0.25))
  end)
  it("maps the average score to a recommendation", function()
    assert.same({ "strong_buy", 0.875 }, { analyze.recommend(1.5) })
    assert.same({ "buy", 0.625 }, { analyze.recommend(0.5) })
    assert.same({ "hold", 0.5 }, { analyze.recommend(0.4) })
    assert.same({ "sell", 0.625 }, { analyze.recommend(-0.5) })
    assert.same({ "strong_sell", 0.95 }, { analyze.recommend(-2) })
  end)
end)

describe("gt.analyze.symbol", function()
  it("reads a steady uptrend as bullish with strong momentum", function()
    local s = line(260, function(i) return 100 * 1.004 ^ i end)
    local a = analyze.symbol(s)
    assert.equal("bullish", a.trend)
    assert.equal("strong_up", a.momentum)
    assert.is_true(a.indicators.rsi14 > 70)
    -- hand check: the last close and SMA20 of a geometric series
    assert.near(100 * 1.004 ^ 260, a.price, 1e-9)
    local sum = 0
    for i = 241, 260 do sum = sum + 100 * 1.004 ^ i end
    assert.near(sum / 20, a.indicators.sma20, 1e-9)
    assert.equal(a.score, a.score_parts.rsi + a.score_parts.macd + a.score_parts.trend +
      a.score_parts.strategies + a.score_parts.patterns)
    assert.equal(-2, a.score_parts.rsi, "RSI > 70 scores -2 (overbought)")
    assert.equal(2, a.score_parts.trend)
  end)
  it("reads a steady downtrend as bearish", function()
    local a = analyze.symbol(line(260, function(i) return 100 * 0.996 ^ i end))
    assert.equal("bearish", a.trend)
    assert.equal("strong_down", a.momentum)
    assert.equal(2, a.score_parts.rsi)
    assert.equal(-2, a.score_parts.trend)
  end)
  it("computes every field on real data and prints valid JSON from the CLI", function()
    local path, why = t.shared_file("data/backtrader/orcl-1995-2014.txt")
    if not path then return pending(why) end
    local out, err, code = t.run("analyze --data " .. path .. " --json")
    assert.equal(0, code, err)
    local a = assert(json.decode(out))
    for _, k in ipairs({ "price", "indicators", "trend", "volatility", "momentum", "volume_profile",
      "levels", "patterns", "signals", "recommendation", "confidence" }) do
      assert.is_not_nil(a[k], k)
    end
    assert.equal(44.970001, a.price, "the last close in the file")
    for _, k in ipairs({ "sma20", "sma50", "sma200", "ema12", "ema26", "rsi14", "macd", "macd_signal",
      "bb_upper", "bb_lower", "atr14", "obv", "stoch_k", "stoch_d" }) do
      assert.is_number(a.indicators[k], k)
    end
    for _, name in ipairs({ "sma_cross", "momentum", "mean_reversion", "volatility", "breakout" }) do
      assert.is_number(a.signals[name].signal, name)
    end
    assert.is_truthy(({ strong_buy = 1, buy = 1, hold = 1, sell = 1, strong_sell = 1 })[a.recommendation])
  end)
end)
