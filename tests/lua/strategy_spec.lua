local strategy = require "gt.strategy"
local roots = { "tests/lua/fixtures" }

describe("gt.strategy.load", function()
  it("finds strategies/NAME.lua under the search roots", function()
    local s = strategy.load("fixture_ok", { roots = roots })
    assert.equal("fixture_ok", s.name)
    assert.equal(3, s.params.n)
    assert.equal("tests/lua/fixtures/strategies/fixture_ok.lua", s.path)
  end)

  it("lists what is available when a name is unknown", function()
    local ok, err = pcall(strategy.load, "nope", { roots = roots })
    assert.is_false(ok)
    assert.matches("no strategy named 'nope'", err, 1, true)
    assert.matches("available: fixture_ok, fixture_typo", err, 1, true)
  end)

  it("runs strategy files where undeclared globals are errors", function()
    local ok, err = pcall(strategy.load, "fixture_typo", { roots = roots })
    assert.is_false(ok)
    assert.matches("undeclared global 'undeclared_thing'", err, 1, true)
  end)

  it("searches the working directory first, then the install share dir", function()
    local paths = require "gt.paths"
    local r = paths.roots()
    assert.equal(".", r[1])
    assert.matches("/share/gtengine$", r[#r])
  end)
end)
