-- gt.workflow: definitions with defaults, validated with errors that name file and key.
local gt = require "gt"

local function err_of(def, over)
  local ok, err = pcall(gt.workflow.from_table, def, "wf/test.lua", over)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

describe("gt.workflow", function()
  it("fills every setting with its default", function()
    local wf = gt.workflow.from_table({ mode = "paper" }, "wf/p.lua")
    assert.equal("p", wf.name)
    assert.equal(100000, wf.capital)
    assert.equal(0.001, wf.broker.commission)   -- the seed's paper costs
    assert.equal(0.0005, wf.broker.slippage)
    assert.equal("replay", wf.feed.kind)
    assert.is_true(wf.journal.enabled)
    local bt = gt.workflow.from_table({ mode = "backtest" }, "wf/b.lua")
    assert.is_false(bt.journal.enabled)       -- backtests: journal off unless asked
    assert.equal("next_open", bt.broker.fill)
  end)

  it("names the file and the key of an unknown or wrong setting", function()
    assert.matches("^wf/test.lua: key 'capitol': unknown key %(known: .*capital", err_of { capitol = 5 })
    assert.matches("^wf/test.lua: key 'broker.comission': unknown key %(known: .*commission", err_of { broker = { comission = 0.1 } })
    assert.matches("key 'capital': expected a number in %[1, 1e%+12%], got \"lots\"", err_of { capital = "lots" })
    assert.matches("key 'mode': expected one of backtest, live, optimize, paper, got \"papper\"", err_of { mode = "papper" })
    assert.matches("key 'symbols%[2%]': AAA is listed twice", err_of { symbols = { "AAA", "AAA" } })
    assert.matches("key 'strategy': no strategy named 'nope'", err_of { strategy = "nope" })
    assert.matches("key 'params.sma_cross.fsat': sma_cross has no such parameter %(it has: fast, short, slow%)",
      err_of { params = { sma_cross = { fsat = 3 } } })
    assert.matches("key 'broker.fill': expected one of close, next_open", err_of { broker = { fill = "open" } })
    assert.matches("key 'risk': .*unknown limit \"max_dd\"", err_of { risk = { max_dd = 0.1 } })
    assert.matches("key 'data.files': csv data needs files", err_of { data = { source = "csv" } })
    assert.matches("key 'broker.kind': mode = \"live\" trades through broker.kind = \"alpaca\"",
      err_of { mode = "live", broker = { kind = "sim" } })
    assert.matches("key 'broker.kind': the Alpaca broker trades in mode = \"live\"", err_of { broker = "alpaca" })
    assert.matches("key 'broker.base_url': expected an http%(s%) URL", err_of { mode = "live", broker = { base_url = "paper-api" } })
    assert.matches("key 'broker.rate_per_min': expected a number in %[1, 200%]", err_of { mode = "live", broker = { rate_per_min = 500 } })
    assert.matches("key 'broker.dry_run': only for broker.kind = \"alpaca\"", err_of { broker = { dry_run = true } })
    assert.matches("key 'risk': a live session keeps its risk gate", err_of { mode = "live", risk = false })
    assert.matches("key 'journal.enabled': a live session keeps its journal",
      err_of { mode = "live", journal = { enabled = false } })
  end)

  it("checks steps: built-in names, declared fields, and the two that cannot go", function()
    assert.matches("key 'steps%[2%]': no built%-in step 'analyse'", err_of { steps = { "data", "analyse", "execute" } })
    assert.matches("key 'steps': step 'execute' cannot be dropped", err_of { steps = { "data", "analyze" } })
    assert.matches("key 'steps%[1%]': step 'data' moves the broker through the bars and cannot be replaced",
      err_of { steps = { { name = "data", reads = {}, writes = {}, run = function() end }, "execute" } })
    assert.matches("key 'steps%[2%].reads': no state field 'intnet'",
      err_of { steps = { "data", { name = "veto", reads = { "intnet" }, writes = {}, run = function() end }, "execute" } })
    assert.matches("key 'steps%[2%].run': expected function",
      err_of { steps = { "data", { name = "veto", reads = {}, writes = {} }, "execute" } })
  end)

  it("applies command-line overrides over the file", function()
    local wf = gt.workflow.from_table({ symbols = { "A" }, capital = 5 }, "wf/o.lua",
      { symbols = { "X", "Y" }, capital = 50000, feed = { speed = 60 } })
    assert.same({ "X", "Y" }, wf.symbols)
    assert.equal(50000, wf.capital)
    assert.equal(60, wf.feed.speed); assert.equal(60, wf.feed.warmup) -- the rest of feed kept
  end)

  it("loads every shipped workflow, by name and by path", function()
    local names = gt.workflow.list()
    for _, want in ipairs { "backtest", "live", "multi_strategy", "optimize", "paper", "walkforward" } do
      local found = false
      for _, n in ipairs(names) do found = found or n == want end
      assert.is_true(found, want)
      local wf = assert(gt.workflow.load(want))
      assert.equal(want, wf.name)
    end
    assert(gt.workflow.load("workflows/paper.lua"))
    local wf, err = gt.workflow.load("no_such_workflow")
    assert.is_nil(wf); assert.matches("no workflow named 'no_such_workflow'.*available: backtest", err)
  end)

  it("loads in the strict environment: an undeclared global names the file", function()
    local dir = require("tests.lua.support").tmpdir()
    local path = dir .. "/workflows/typo.lua"
    os.execute("mkdir -p " .. dir .. "/workflows")
    require("tests.lua.support").write(path, "return { capital = capitl }\n")
    local ok, err = pcall(gt.workflow.load, path)
    assert.is_false(ok)
    assert.matches("undeclared global 'capitl' in " .. dir:gsub("%p", "%%%0") .. "/workflows/typo.lua", tostring(err))
  end)
end)
