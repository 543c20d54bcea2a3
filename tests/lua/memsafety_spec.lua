-- Issue 9: no Lua code without `require "ffi"` can crash the process or read freed or
-- foreign memory. Every case runs in a child gtengine, so a regression is a failing test
-- (exit 139 on a segfault, an ASan report under `make asan`), not a dead suite. Expected
-- values come from series built by hand here (bar i has close = 100 + i), not from the
-- code under test.
local support = require "tests.lua.support"
local ffi = require "ffi"
local gt = require "gt"

-- Runs code in a child gtengine; returns stdout, stderr, exit code.
local function child(code)
  return support.run("-e " .. support.quote(code))
end

-- A series of n bars where bar i has ts = i days, open = high = low = close = 100 + i.
local MAKE = [[
local gt = require "gt"
local function make(n)
  local s = gt.series.new({ symbol = "T", timeframe = "1d" }, n)
  for i = 0, n - 1 do assert(s:push(i * 86400e6, 100 + i, 100 + i, 100 + i, 100 + i, i)) end
  return s
end
]]

-- Runs code that must fail with a Lua error (exit 1) whose message contains want.
local function raises(code, want)
  local out, err, rc = child(MAKE .. code)
  assert.equal(1, rc, ("exit %s (139 is a segfault); stderr:\n%s%s"):format(rc, err, out))
  assert.matches(want, err, 1, true)
end

describe("memory safety: columns", function()
  it("a column keeps its series alive after the series is collected", function()
    local out, err, rc = child(MAKE .. [[
      local c = make(3000).close
      collectgarbage(); collectgarbage()
      -- churn: fresh allocations of the same size would reuse freed memory
      local keep = {}
      for k = 1, 8 do keep[k] = gt.series.new(nil, 3000); keep[k]:push(0, 7, 7, 7, 7, 7) end
      local bad = 0
      for i = 0, 2999 do if c[i] ~= 100 + i then bad = bad + 1 end end
      io.write(#c, " ", bad, " ", c[0], " ", c[2999])
    ]])
    assert.equal(0, rc, err)
    -- 3000 bars, none changed, close[0] = 100 + 0, close[2999] = 100 + 2999
    assert.equal("3000 0 100 3099", out)
  end)

  it("gt.data.synthetic{...}.close stays readable after collectgarbage()", function()
    local out, err, rc = child([[
      local gt = require "gt"
      local c = gt.data.synthetic { n = 3000, seed = 1 }.close
      local first, last = c[0], c[2999]
      collectgarbage(); collectgarbage()
      local again = gt.data.synthetic { n = 3000, seed = 2 } -- reuses freed memory if any
      io.write(tostring(c[0] == first and c[2999] == last), " ", #c)
    ]])
    assert.equal(0, rc, err)
    assert.equal("true 3000", out)
  end)

  it("s.close[300] on a 300-bar series raises, naming the column, index and range", function()
    raises("local s = make(300); return s.close[300]", "close[300]: index out of range 0..299 (300 bars)")
  end)

  it("s.close[1e9] raises", function()
    raises("local s = make(300); return s.close[1e9]", "close[1000000000]: index out of range 0..299")
  end)

  it("negative, fractional and NaN indices raise", function()
    raises("local s = make(300); return s.close[-1]", "close[-1]: index out of range 0..299")
    raises("local s = make(300); return s.open[2.5]", "open[2.5]: index is not an integer 0..299")
    raises("local s = make(300); return s.high[0/0]", "high[nan]: index out of range 0..299")
    raises("local s = make(300); return s.ts[300]", "ts[300]: index out of range 0..299")
    raises("local s = make(0); return s.close[0]", "close[0]: index out of range (0 bars)")
  end)

  it("s.close[-100000] = 5 (a write) raises: series columns are read-only", function()
    raises("local s = make(300); s.close[-100000] = 5", "series columns are read-only")
    raises("local s = make(300); s.close[3] = 5", "close[3]: series columns are read-only")
  end)

  it("s:free(); s.close[5] raises series is closed; columns fetched before stay valid", function()
    raises("local s = make(300); s:free(); return s.close[5]", "series is closed")
    raises("local s = make(300); s:free(); return s:slice(0, 2)", "series is closed")
    raises("local s = make(300); s:free(); return gt.ind.sma(s, 3)", "series is closed")
    local out, err, rc = child(MAKE .. [[
      local s = make(300)
      local c, v = s.close, s:slice(10, 20)
      s:free(); s:free() -- twice is fine
      collectgarbage(); collectgarbage()
      io.write(c[299], " ", v.close[0], " ", v.n, " ", tostring(s))
    ]])
    assert.equal(0, rc, err)
    -- close[299] = 100 + 299; the view's bar 0 is bar 10: 110
    assert.equal("399 110 10 series T (closed)", out)
  end)

  it("freeing a series wrapped as borrowed (wrap(p, meta, false)) leaves the owner's memory alone", function()
    local out, err, rc = child(MAKE .. [[
      local s = make(10)
      local b = gt.series.wrap(s._c, nil, false)
      b:free()
      collectgarbage(); collectgarbage()
      io.write(s.close[9], " ", s.n)
      s:free(); collectgarbage() -- the owner's free is the only one: no double free
    ]])
    assert.equal(0, rc, err)
    assert.equal("109 10", out) -- bar 9: close = 100 + 9
  end)

  it("a view keeps its parent's memory after the parent is collected", function()
    local out, err, rc = child(MAKE .. [[
      local v = make(1000):between(500 * 86400e6, 600 * 86400e6)
      collectgarbage(); collectgarbage()
      io.write(v.n, " ", v.close[0], " ", v.close[99])
    ]])
    assert.equal(0, rc, err)
    -- bars 500 .. 599: 100 bars, closes 600 and 699
    assert.equal("100 600 699", out)
  end)

  it("a column fetched before a push keeps reading its bars after the series grew", function()
    local out, err, rc = child(MAKE .. [[
      local s = make(64)
      local c = s.close
      for i = 64, 5000 do s:push(i * 86400e6, 100 + i, 100 + i, 100 + i, 100 + i, 0) end
      collectgarbage()
      local bad = 0
      for i = 0, 63 do if c[i] ~= 100 + i then bad = bad + 1 end end
      io.write(#c, " ", bad, " ", s.close.n, " ", s.close[5000])
    ]])
    assert.equal(0, rc, err)
    -- the old column still has its 64 bars; the series now has 5001, close[5000] = 5100
    assert.equal("64 0 5001 5100", out)
  end)
end)

describe("memory safety: the vectorised path", function()
  it("a rule reading past the last bar raises a clear error instead of reading past the column", function()
    local dir = support.tmpdir()
    os.execute("mkdir -p " .. support.quote(dir .. "/strategies"))
    support.write(dir .. "/strategies/next_bar.lua", [[
return { name = "next_bar", params = {},
  rule = function(d, ind, i) return d.close[i + 1] > d.close[i] and 1 or 0 end }
]])
    raises(([[local strat = gt.strategy.load("next_bar", { roots = { %q } })
      gt.backtest.run(strat, make(50), { mode = "vector" })]]):format(dir),
      "close[50]: index out of range 0..49 (50 bars)")
    os.execute("rm -rf " .. support.quote(dir))
  end)
end)

describe("memory safety: checked arrays", function()
  it("indicator outputs are bounds checked and writable within bounds", function()
    raises("local s = make(300); local a = gt.ind.sma(s, 3); return a[300]",
      "array[300]: index out of range 0..299 (300 values)")
    raises("local s = make(300); local m = gt.ind.macd(s); m.hist[-1] = 0",
      "array[-1]: index out of range 0..299")
    raises("return gt.array(3)[3]", "array[3]: index out of range 0..2 (3 values)")
    raises("return gt.array(-1)", "gt.array: n must be a non-negative integer, got -1")
    local a = gt.array(4, 0 / 0)
    a[3] = 7
    assert.equal(4, #a); assert.equal(4, a.n)
    assert.equal(7, a[3]); assert.is_true(a[0] ~= a[0])
    assert.same({ 1, 2, 3 }, gt.ind.totable(gt.array { 1, 2, 3 }))
  end)

  it("synthetic regime codes and align masks are checked arrays", function()
    raises("local s, r = gt.data.synthetic { n = 10 }; return r.codes[10]",
      "array[10]: index out of range 0..9 (10 values)")
    raises("local s, r = gt.data.synthetic { n = 10 }; return r:name(-5)", "array[-5]: index out of range")
    raises([[local a, b = make(5), make(7)
      local outs, masks = gt.data.align({ a, b }, { mode = "outer" }); return masks[1][7] ]],
      "array[7]: index out of range 0..6")
  end)

  it("a backtest's equity, drawdown, benchmark and in-market arrays are checked", function()
    raises("local r = gt.backtest.run('buy_and_hold', make(50)); return r.equity[50]",
      "array[50]: index out of range 0..49 (50 values)")
    raises("local r = gt.backtest.run('buy_and_hold', make(50)); return r.drawdown[-1]", "array[-1]")
    raises("local r = gt.backtest.run('buy_and_hold', make(50)); return r.benchmark_equity[1e9]", "array[1000000000]")
    raises("local r = gt.backtest.run('buy_and_hold', make(50)); return r.in_market[50]", "array[50]")
    local dir = support.tmpdir()
    raises(([[local r = gt.backtest.run('buy_and_hold', make(50)); local id = assert(r:save(%q))
      local db = assert(gt.store.open(%q)); return db:result(id).equity[50] ]]):format(dir .. "/r.db", dir .. "/r.db"),
      "array[50]: index out of range 0..49")
    raises(([[local r = gt.backtest.run('buy_and_hold', make(50)); local id = assert(r:save(%q))
      local db = assert(gt.store.open(%q)); return db:result(id).ts[-1] ]]):format(dir .. "/r.db", dir .. "/r.db"),
      "array[-1]: index out of range 0..49")
    os.execute("rm -rf " .. support.quote(dir))
  end)

  it("an event-path strategy whose indicator array is shorter than the data is refused", function()
    raises([[
      local s = make(50)
      local strat = { name = "short", indicators = function() return { x = gt.array(10, 1) } end,
        on_bar = function(ctx, i) return ctx.ind.x[i] end }
      gt.backtest.run(strat, s, { mode = "event" })
    ]], "backtest: ind.x has 10 values for 50 bars")
  end)

  it("series returns are a checked array", function()
    raises("local s = make(10); return s:returns()[10]", "array[10]: index out of range 0..9")
  end)

  it("a vectorised strategy whose target array is shorter than the data is refused", function()
    raises([[
      local s = make(50)
      local strat = { name = "short", signals = function() return { target = gt.array(10, 1) } end }
      gt.backtest.run(strat, s)
    ]], "short: signals() returned 10 targets for 50 bars")
  end)
end)

describe("memory safety: checked reads equal raw reads", function()
  it("column and indicator values through the check are the raw values", function()
    local s = gt.data.synthetic { n = 500, seed = 7 }
    local c, p = s.close, s.close.p
    local ts, tsp = s.ts, s.ts.p
    local rsi = gt.ind.rsi(s, 14)
    local rp = rsi.p
    local diff = 0
    for i = 0, 499 do
      if c[i] ~= p[i] or ts[i] ~= tsp[i] then diff = diff + 1 end
      if not (rsi[i] == rp[i] or (rsi[i] ~= rsi[i] and rp[i] ~= rp[i])) then diff = diff + 1 end
    end
    assert.equal(0, diff)
    assert.equal("cdata", type(ts[0])); assert.is_true(ffi.istype("int64_t", ts[0]))
    -- a hand-made series: SMA3 of closes 100, 101, 102, 103 at bar 3 is (101+102+103)/3 = 102
    local h = gt.series.from_columns { ts = { 0, 1, 2, 3 }, open = { 100, 101, 102, 103 },
      high = { 100, 101, 102, 103 }, low = { 100, 101, 102, 103 }, close = { 100, 101, 102, 103 } }
    assert.equal(102, gt.ind.sma(h.close, 3)[3])
    assert.equal(102, gt.ind.sma(h.close.p, 3, 4)[3]) -- a raw pointer with n, explicitly
    assert.equal(102, gt.ind.sma(gt.array { 100, 101, 102, 103 }, 3)[3])
  end)
end)

describe("memory safety: handles", function()
  it("st:close(); st:update(1) on a streaming indicator raises closed", function()
    raises("local st = gt.ind.stream.sma(3); st:close(); st:update(1)", "gt.ind.stream.sma is closed")
    raises("local st = gt.ind.stream.macd(); st:close(); st:close(); st:update(1)", "is closed")
    -- an update fetched before close() must not reach the freed state either
    raises("local st = gt.ind.stream.bbands(); local up = st.update; st:close(); up(st, 1)", "is closed")
  end)

  it("store and http handles raise after close", function()
    local dir = support.tmpdir()
    raises(("local db = assert(gt.store.open(%q)); db:close(); db:close(); db:list()"):format(dir .. "/m.db"),
      "is closed")
    raises("local h = gt.http.new(); h:close(); h:close(); h:get('http://127.0.0.1:9/')", "client is closed")
    os.execute("rm -rf " .. support.quote(dir))
  end)
end)

describe("memory safety: source only", function()
  local dir, bc
  setup(function()
    dir = support.tmpdir()
    bc = string.dump(function() return { name = "x", rule = function() return 1 end } end)
  end)
  teardown(function() os.execute("rm -rf " .. support.quote(dir)) end)

  it("gtengine run refuses a LuaJIT bytecode file", function()
    local f = support.write(dir .. "/script.lua", bc)
    local _, err, rc = support.run("run " .. support.quote(f))
    assert.equal(1, rc)
    assert.matches(f .. ": is precompiled bytecode; gtengine loads Lua source only", err, 1, true)
    _, err, rc = support.run("-", bc)
    assert.equal(1, rc)
    assert.matches("stdin: is precompiled bytecode", err, 1, true)
  end)

  it("a strategy file in bytecode is refused", function()
    os.execute("mkdir -p " .. support.quote(dir .. "/strategies"))
    local f = support.write(dir .. "/strategies/bc.lua", "#!/usr/bin/env gtengine\n" .. bc)
    local ok, err = pcall(gt.strategy.load, "bc", { roots = { dir } })
    assert.is_false(ok)
    assert.matches(f .. ": is precompiled bytecode; gtengine loads Lua source only", err, 1, true)
  end)
end)

describe("memory safety: every loader a script can reach is source-only", function()
  it("load, loadstring, loadfile, dofile and require refuse bytecode; source still loads", function()
    local dir = support.tmpdir()
    local f = assert(io.open(dir .. "/bc.lua", "wb")); f:write(string.dump(function() return 1 end)); f:close()
    f = assert(io.open(dir .. "/src.lua", "wb")); f:write("return 7"); f:close()
    local code = ([[
      package.path = %q .. "/?.lua;" .. package.path
      local bc = string.dump(function() return 1 end)
      local out = {}
      out[#out + 1] = select(2, load(bc)) or "loaded"
      out[#out + 1] = select(2, loadstring(bc, "s")) or "loaded"
      out[#out + 1] = select(2, loadfile(%q)) or "loaded"
      out[#out + 1] = select(2, pcall(dofile, %q))
      out[#out + 1] = select(2, pcall(require, "bc"))
      out[#out + 1] = tostring(load("return 7")() + loadstring("return 7")() + loadfile(%q)() + dofile(%q) + require("src"))
      print(table.concat(out, "\n"))
    ]]):format(dir, dir .. "/bc.lua", dir .. "/bc.lua", dir .. "/src.lua", dir .. "/src.lua")
    local out, err, rc = child(code)
    assert.equal(0, rc, err)
    local n = 0
    for _ in out:gmatch("is precompiled bytecode; gtengine loads Lua source only") do n = n + 1 end
    assert.equal(5, n, out)
    assert.matches("\n35\n", "\n" .. out, 1, true)
    os.execute("rm -rf " .. support.quote(dir))
  end)
end)
