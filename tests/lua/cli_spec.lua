local cli = require "gt.cli"

local function usage_error(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  assert.is_table(err)
  return err.usage
end

describe("gt.cli.parse", function()
  local spec = { symbol = "string", capital = "number", json = "flag", param = "list", slippage_bps = "number" }

  it("reads --k v, --k=v, flags, repeated options and positionals", function()
    local o, pos = cli.parse({ "backtest", "--symbol", "SPY", "--capital=5000", "--json",
      "--param", "a=1", "--param", "b=2", "--slippage-bps", "5", "file.csv" }, spec, 2)
    assert.same({ symbol = "SPY", capital = 5000, json = true, param = { "a=1", "b=2" }, slippage_bps = 5 }, o)
    assert.same({ "file.csv" }, pos)
  end)

  it("treats everything after -- as positional", function()
    local _, pos = cli.parse({ "--", "--json" }, spec)
    assert.same({ "--json" }, pos)
  end)

  it("rejects unknown options, missing values and bad numbers precisely", function()
    assert.equal("unknown option --nope (see 'gtengine --help')", usage_error(function() cli.parse({ "--nope" }, spec) end))
    assert.equal("--symbol needs a value (see 'gtengine --help')", usage_error(function() cli.parse({ "--symbol" }, spec) end))
    assert.equal("--capital needs a number, got 'ten' (see 'gtengine --help')",
      usage_error(function() cli.parse({ "--capital", "ten" }, spec) end))
    assert.equal("--json takes no value (see 'gtengine --help')", usage_error(function() cli.parse({ "--json=1" }, spec) end))
    assert.equal("unknown option -x (see 'gtengine --help')", usage_error(function() cli.parse({ "-x" }, spec) end))
  end)

  it("accepts negative numbers as positionals", function()
    local _, pos = cli.parse({ "-5" }, spec)
    assert.same({ "-5" }, pos)
  end)
end)

describe("gt.cli help and usage hints", function()
  it("names the running subcommand's help in a usage error", function()
    local saved = cli.current
    cli.current = "backtest"
    local msg = usage_error(function() cli.parse({ "--nope" }, {}) end)
    cli.current = saved
    assert.equal("unknown option --nope (see 'gtengine backtest --help')", msg)
  end)

  it("gives one command's help from its module's text", function()
    local h = cli.command_help(cli.find("runs"))
    local first = "usage: gtengine runs [--id N [--report FILE]] [--json]\n"
    assert.equal(first, h:sub(1, #first))
    assert.is_truthy(h:find(require("gt.cmd.runs").help, 1, true))
  end)
end)

