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
    assert.matches("available: fixture_gt, fixture_ok, fixture_typo", err, 1, true)
  end)

  it("runs strategy files where undeclared globals are errors", function()
    local ok, err = pcall(strategy.load, "fixture_typo", { roots = roots })
    assert.is_false(ok)
    assert.matches("undeclared global 'undeclared_thing'", err, 1, true)
  end)

  it("gives strategy files `gt` without a require, and it computes", function()
    local s = strategy.load("fixture_gt", { roots = roots })
    local gt = require "gt"
    local d = gt.data.synthetic { n = 50, seed = 3 }
    local ind = s.indicators(d, s.params)
    -- the 3-bar mean at bar 10, by hand from the closes
    local want = (d.close[8] + d.close[9] + d.close[10]) / 3
    assert.is_true(math.abs(ind.m[10] - want) < 1e-9 * want)
    assert.is_true(ind.m[1] ~= ind.m[1]) -- NaN before the window fills
  end)

  it("searches the working directory first, then the install share dir", function()
    local paths = require "gt.paths"
    local r = paths.roots()
    assert.equal(".", r[1])
    assert.matches("/share/gtengine$", r[#r])
  end)
end)
