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
end)
