local ffi = require "ffi"
local gt = require "gt"
local repl = require "gt.repl"

-- Captures what eval writes to stdout and stderr.
local function capture(fn)
  local out, err = {}, {}
  local so, se = io.write, io.stderr
  io.write = function(...) for _, v in ipairs({ ... }) do out[#out + 1] = tostring(v) end end
  io.stderr = { write = function(_, ...) for _, v in ipairs({ ... }) do err[#err + 1] = tostring(v) end end }
  local ok, r = pcall(fn)
  io.write, io.stderr = so, se
  assert(ok, r)
  return table.concat(out), table.concat(err), r
end

describe("gt.repl", function()
  it("prints an expression's value", function()
    local out, _, incomplete = capture(function() return repl.eval("1+2") end)
    assert.equal("3\n", out)
    assert.is_false(incomplete)
  end)

  it("runs statements and prints nothing for them", function()
    local out = capture(function() return repl.eval("repl_spec_x = 5") end)
    assert.equal("", out)
    assert.equal(5, _G.repl_spec_x)
    _G.repl_spec_x = nil
  end)

  it("asks for more input on an open function, table or do block", function()
    for _, src in ipairs({ "function f()", "t = {", "do", "for i=1,2 do" }) do
      local _, _, incomplete = capture(function() return repl.eval(src) end)
      assert.is_true(incomplete, src)
    end
    local out, _, incomplete = capture(function() return repl.eval("do\nlocal a = 1\nio.write(a, '\\n')\nend") end)
    assert.is_false(incomplete)
    assert.equal("1\n", out)
  end)

  it("shows a table one level deep with its length", function()
    assert.equal("{1, 2, {...} (#1), x = \"y\"} (#3)", repl.show({ 1, 2, { 9 }, x = "y" }))
  end)

  it("reports runtime errors with a traceback and keeps going", function()
    local out, err, incomplete = capture(function() return repl.eval("error('bad')") end)
    assert.equal("", out)
    assert.matches("stdin:1: bad", err, 1, true)
    assert.is_false(incomplete)
  end)

  it("completes globals and gt. names, including unloaded modules", function()
    assert.is_truthy(table.concat(repl.complete("pri"), " "):find("print", 1, true))
    local c = repl.complete("gt.vers")
    assert.same({ "gt.version" }, c)
    local mods = table.concat(repl.complete("gt."), " ")
    assert.is_truthy(mods:find("gt.json", 1, true))
    assert.same({ "string.format" }, repl.complete("string.form"))
  end)

  it("shows FFI arrays by length and first/last values", function()
    -- 1..12 in a double[?]: n <= 10 shows all, otherwise five from each end
    local a = ffi.new("double[?]", 12)
    for i = 0, 11 do a[i] = i + 1 end
    assert.equal("double[12] {1, 2, 3, 4, 5, ..., 8, 9, 10, 11, 12}", repl.show(a))
    assert.equal("double[3] {0.5, nan, -2}", repl.show(ffi.new("double[3]", { 0.5, 0 / 0, -2 })))
    -- inside a table: two from each end
    assert.equal("{x = double[12] {1, 2, ..., 11, 12}} (#0)", repl.show({ x = a }))
  end)

  it("shows a checked array and a column like an FFI array", function()
    assert.equal("double[4] {10, 20, 30, 40}", repl.show(gt.array { 10, 20, 30, 40 }))
    assert.equal("double[0] {}", repl.show(gt.array(0)))
    local s = gt.data.synthetic { n = 30, seed = 1 }
    assert.matches("^double%[30%] {[%d.]+, [%d.]+, [%d.]+, [%d.]+, [%d.]+, %.%.%., ", repl.show(s.close))
  end)

  it("shows a series column with its series' length, and times as dates", function()
    local s = gt.data.synthetic { n = 3, start = "2024-01-02" }
    -- 2024-01-02 is 1704153600 s after the epoch (2024-01-01 is 19723 days = 1704067200 s)
    assert.equal("2024-01-02 (1704153600000000)", repl.show(gt.time.parse("2024-01-02")))
    assert.equal("2024-01-02 (1704153600000000)", repl.show(s:time(0)))
    -- weekends are skipped: Tue 2, Wed 3, Thu 4 January
    assert.equal("int64_t[3] {2024-01-02, 2024-01-03, 2024-01-04}", repl.show(s.ts))
    assert.matches("^double%[3%] {", repl.show(s.close))
    assert.equal("{t = 2024-01-02} (#0)", repl.show({ t = 1704153600000000 }))
    -- counts and prices are not dates
    assert.equal("42", repl.show(42))
    assert.equal("1500000", repl.show(1500000))
  end)

  it("shows a backtest result as its stats table", function()
    local s = gt.data.synthetic { n = 300 }
    local r = assert(gt.backtest.run("sma_cross", s))
    local out = repl.show(r)
    assert.matches("^sma_cross on SYNTH 1d: 300 bars, " .. #r.trades .. " trades", out)
    assert.matches("\nmetric +value\n", out)
    -- the rows the CLI prints: Trades is the trade count, Return the percentage to 2 places
    assert.matches("\nTrades +" .. #r.trades .. "\n", out)
    assert.matches(("\nReturn +%.2f %%%%\n"):format(r.stats.return_pct):gsub("%-", "%%-"), out)
    assert.is_nil(out:find("{", 1, true))
  end)

  it("prints gt.ind.list() one signature per line", function()
    local text = repl.show(gt.ind.list())
    local lines = {}
    for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.equal(#gt.ind.list(), #lines)
    assert.matches("^sma%(x, period=30%) %-> sma +simple moving average$", lines[1])
    assert.matches("\natr%(high, low, close, period=14%) %-> atr ", text)
    assert.matches("\nmacd%(x, fast=12, slow=26, signal=9, talib=false%) %-> macd, signal, hist ", text)
  end)

  it("answers help for a function, a module, a command and a name", function()
    local out = capture(function() _G.help(gt.ind.sma) end)
    assert.equal("gt.ind.sma\n  gt.ind.sma(x, period=30) -> sma\n  simple moving average (average)\n", out)
    out = capture(function() _G.help(gt.data.load) end)
    assert.matches("^gt%.data%.load\n  gt%.data%.load%(path", out)
    out = capture(function() _G.help(gt.data) end)
    assert.matches("^gt%.data\n  market data", out)
    out = capture(function() _G.help "backtest" end)
    assert.matches("^gt%.backtest\n", out)
    assert.matches("\n\nusage: gtengine backtest %-%-strategy NAME", out)
    assert.matches("%-%-param k=v", out, 1, false)
    out = capture(function() _G.help "result" end)
    assert.matches("^result\n  r%.stats", out)
    out = capture(function() _G.help(function() end) end)
    assert.matches("^no help for function: 0x%x+; help%(%) lists the topics\n$", out)
    assert.matches("^help%(value%) or help \"name\"", repl.show(_G.help))
    assert.matches("commands %(gtengine CMD %-%-help%): run, %-e, repl", tostring(_G.help))
  end)

  it("answers help for a series, its methods and a backtest result", function()
    local s = gt.data.synthetic { n = 300 }
    local out = capture(function() _G.help(s) end)
    assert.matches("^series\n  s%.n, s%.ts%[i%]", out)
    assert.matches("\n\nseries:resample\n  s:resample%(\"1w\"%)", out)
    out = capture(function() _G.help(s.time) end)
    assert.equal("series:time\n  s:time(i) -> microseconds\n  bar i's timestamp (gt.time.format prints it)\n", out)
    out = capture(function() _G.help(assert(gt.backtest.run("sma_cross", s))) end)
    assert.matches("^result\n  r%.stats, r%.trades", out)
    assert.matches("\n\nresult:report\n  r:report%(path%)", out)
  end)

  it("leaves on quit or exit, with or without ()", function()
    for _, src in ipairs({ "quit", "exit", " quit() ", "exit()" }) do
      assert.equal("quit", repl.eval(src), src)
    end
    local out = capture(function() return repl.eval("quitx = 1") end)
    assert.equal("", out)
    _G.quitx = nil
  end)
end)
