-- examples/paper_custom_risk.lua: a paper session built in a script: your own risk profile
-- (the paper preset with a tighter drawdown and fewer positions), a custom step that vetoes
-- new entries in a crisis regime, and a subscriber that prints each fill.
--   gtengine run examples/paper_custom_risk.lua
local gt = require "gt"

local wf = gt.workflow.from_table({
  name = "custom_risk",
  mode = "paper",
  symbols = { "AAA", "BBB", "CCC" },
  capital = 50000,
  data = { source = "synthetic", bars = 400, seed = 21 },
  strategy = "sma_cross",
  params = { sma_cross = { fast = 5, slow = 20 } },
  sizing = { method = "fixed", fixed_fraction = 0.1, max_position = 0.2 },
  risk = { preset = "paper", max_drawdown = 0.05, max_positions = 2 },
  journal = { enabled = false },        -- a script's session need not be kept
  monitor = { progress = false },
  steps = { "data", "analyze", "regime", "select", "signal",
    { name = "no_entries_in_crisis", reads = { "intent", "regime" }, writes = { "intent" },
      run = function(state)
        for j in ipairs(state.symbols) do
          local it = state.intent[j]
          if it and it.target ~= 0 and state.regime[j] == "crisis" then state.intent[j] = nil end
        end
      end },
    "size", "risk", "execute", "monitor" },
}, "examples/paper_custom_risk.lua")

local sess = assert(gt.orchestrator.new(wf))
local refused = {}
sess.bus:subscribe("fill", function(ev)
  print(("%s  %-4s %-4s %5d @ %.2f"):format(gt.time.format(ev.ts), ev.symbol, ev.side > 0 and "buy" or "sell", ev.qty, ev.price))
end)
sess.bus:subscribe("risk_decision", function(ev)
  if ev.status == "refused" then refused[#refused + 1] = ev.reason end
end)
local summary = assert(sess:run())
print()
print(gt.orchestrator.format_summary(summary))
for _, r in ipairs(refused) do print("refused: " .. r) end
