-- The report of a portfolio draws each symbol on its own price panel with its own trades; a
-- strategy's declared indicator lines go on the price chart; the costs, fill rule and sizing
-- used are shown.
local gt = require "gt"
local report = require "gt.report"

local function element(html, tag, id)
  local a = html:find("<" .. tag .. ' id="' .. id .. '"', 1, true)
  if not a then return nil end
  local b = html:find("</" .. tag .. ">", a, true)
  return html:sub(a, b)
end
local function count(s, pat)
  local k = 0
  for _ in s:gmatch(pat) do k = k + 1 end
  return k
end

describe("report panels", function()
  it("gives each symbol of a portfolio its own price panel and markers", function()
    local a = gt.data.synthetic { n = 500, seed = 1, symbol = "AAA" }
    local b = gt.data.synthetic { n = 500, seed = 2, symbol = "BBB", start_price = 20 }
    local r = assert(gt.backtest.run("sma_cross", { a, b }, {}))
    local per = { AAA = 0, BBB = 0 }
    for _, tr in ipairs(r.trades) do per[tr.symbol] = per[tr.symbol] + 1 end
    assert.is_true(per.AAA > 0 and per.BBB > 0)
    local html = report.html(r)
    local p1, p2 = element(html, "svg", "price-chart"), element(html, "svg", "price-chart-2")
    assert.is_truthy(p1); assert.is_truthy(p2)
    assert.matches("AAA close", p1, 1, true)
    assert.matches("BBB close", p2, 1, true)
    -- every trade is an entry marker on its own symbol's panel, none on the other's
    local function entries(svg) return count(svg, 'class="m%-long"') + count(svg, 'class="m%-short"') end
    assert.equal(per.AAA, entries(p1))
    assert.equal(per.BBB, entries(p2))
    -- saved and reopened, the run gives the same report, panels and indicator lines included
    local dir = require("tests.lua.support").tmpdir()
    local id = assert(r:save(dir .. "/p.db"))
    local db = assert(require("gt.store").open(dir .. "/p.db"))
    local again = assert(db:result(id))
    db:close()
    again.run_id, r.run_id = nil, nil
    assert.equal(html, report.html(again))
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("draws the indicators a strategy declares in plot, and shows the settings", function()
    local s = gt.data.synthetic { n = 400, seed = 3 }
    local r = assert(gt.backtest.run("sma_cross", s, { size_at = "fill", stop_pct = 0.05, commission = 0.002 }))
    local html = report.html(r)
    local p = element(html, "svg", "price-chart")
    assert.equal(1, count(p, 'data%-name="fast"'))
    assert.equal(1, count(p, 'data%-name="slow"'))
    local set = element(html, "div", "settings")
    assert.is_truthy(set)
    assert.matches("Fills: at the next bar&#39;s open", set, 1, true)
    assert.matches("Commission: 0.200% of notional", set, 1, true)
    assert.matches("Sized at: the fill", set, 1, true)
    assert.matches("Stop: 5.00% from each entry", set, 1, true)
    -- a strategy without plot draws no indicator lines
    local m = assert(gt.backtest.run("momentum", s, {}))
    assert.equal(0, count(element(report.html(m), "svg", "price-chart"), "s%-ind"))
  end)
end)
