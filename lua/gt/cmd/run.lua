-- `gtengine run WORKFLOW [options]`: a workflow session through the orchestrator. A name
-- (paper) or a file in a workflows/ directory is a workflow; any other FILE.lua is a script
-- (gt.cli runs those with their arguments in `arg`).
local cli = require "gt.cli"

local M = {}

M.help = [[
A workflow is found by name in ./workflows, $GT_HOME/workflows, then the installed share
directory (gtengine run paper), or given as a path (gtengine run workflows/paper.lua).
Options override the workflow's settings:
  [--symbols A,B,...]   symbols to trade
  [--capital N]         starting capital
  [--strategy NAME]     a fixed strategy (or ml)
  [--mode MODE]         backtest | paper | live
  [--db PATH]           the session's database: journal, state, orders, fills, equity
                        (default $GT_DB, else gt.db)
  [--speed N]           replay N (or Nx) times faster than real time (default 0: as fast
                        as possible)
  [--feed replay|poll]  where the bars come from (live: poll is Alpaca's market data)
  [--data FILE.csv]     replay these bars (a {symbol} pattern for several symbols)
  [--cycles N]          stop after N cycles (the same command goes on from there)
  [--until TIME]        stop once a bar at or after TIME (2024-01-31 or ...T15:30:00Z) ran
  [--dry-run]           live: everything but sending orders (each logged as would-send)
  [--trace-http]        live: the broker's HTTP exchanges on stderr, keys scrubbed
  [--report FILE]       an HTML report of the session: stats, equity and drawdown charts
                        (a paper session's from its journal, resumed ones whole, with the
                        timeline of orders, fills, refusals, breaker and regime changes,
                        alerts; a backtest's with its trades)
  [--log FILE]          the monitor's JSON-lines log (workflow: monitor = { log = ... })
  [--no-save]           backtest mode: do not save the run in the database
  [--no-attach]         paper mode: no control socket (gtengine attach, halt/resume at once)
  [--quiet]             no status view or progress lines, only the summary
  [--json]              the summary as JSON
On a terminal the monitor shows a status view redrawn in place; otherwise a progress line
every tenth of the session and a line per alert. Alerts: gtengine alerts.
Live sessions (workflows/live.lua) trade through Alpaca's v2 REST API, its paper endpoint
unless the workflow says broker.paper = false. Keys: APCA_API_KEY_ID and APCA_API_SECRET_KEY,
or ~/.config/gtengine/alpaca.json (chmod 600). APCA_API_BASE_URL or broker.base_url points it
at any Alpaca-compatible endpoint. A live session reconciles with the broker before it trades
and stops, HALTED, with a report when they disagree.
An interrupted or killed paper or live session resumes from its last committed cycle when the same
command runs again. The journal: gtengine journal --db PATH; the state: gtengine status.
A paper session reloads a strategy file or the workflow file edited while it runs, between
two cycles, once the new version passes its checks; a rejected edit is an alert naming the
file and line (gtengine journal --type reload,alert). reload = { enabled = false } in the
workflow turns that off. A paper session listens for `gtengine attach --db PATH` (a REPL
inside it, between cycles).
Any other FILE.lua is run as a script: gtengine run FILE.lua [ARGS...] (ARGS in `arg`).
]]

-- True when `name` names a workflow rather than a script.
function M.is_workflow(name)
  if not name:match("%.lua$") then return true end
  return name:match("^workflows/[^/]+%.lua$") ~= nil or name:match("/workflows/[^/]+%.lua$") ~= nil
end

local SPEC = { symbols = "string", capital = "number", strategy = "string", mode = "string", db = "string",
  speed = "string", quiet = "flag", json = "flag", report = "string", no_save = "flag", log = "string",
  no_attach = "flag", feed = "string", data = "string", cycles = "number", ["until"] = "string",
  dry_run = "flag", trace_http = "flag" }

function M.main(args)
  local name = args[2]
  local o, pos = cli.parse(args, SPEC, 3)
  if #pos > 0 then cli.usage(("run %s: unexpected argument '%s'"):format(name, pos[1])) end
  local over = {}
  if o.symbols then
    over.symbols = {}
    for sym in o.symbols:gmatch("[^,%s]+") do over.symbols[#over.symbols + 1] = sym end
  end
  over.capital, over.mode = o.capital, o.mode
  if o.strategy then over.strategy = o.strategy end
  over.db = require("gt.config").db_path(o.db)
  if o.speed then -- 600 or 600x
    local sp = tonumber(o.speed) or tonumber(o.speed:match("^(%d+%.?%d*)x$") or "")
    if not sp then cli.usage(("--speed needs a number like 600 or 600x, got '%s'"):format(o.speed)) end
    over.feed = { speed = sp }
  end
  if o.feed then
    over.feed = over.feed or {}
    over.feed.kind = o.feed
  end
  if o.data then over.data = { source = "csv", files = o.data } end
  local bound = {}
  if o.cycles then
    if o.cycles < 1 or o.cycles % 1 ~= 0 then cli.usage("--cycles needs a whole number >= 1") end
    bound.max_cycles = o.cycles
  end
  if o["until"] then
    local t = require("gt.time").parse(o["until"])
    if not t then cli.usage(("--until needs a time like 2024-01-31 or 2024-01-31T15:30:00Z, got '%s'"):format(o["until"])) end
    bound.until_ts = t
  end
  if o.dry_run or o.trace_http then
    over.broker = {}
    if o.dry_run then over.broker.dry_run = true end
    if o.trace_http then over.broker.trace = true end
  end
  if o.report then over.report = o.report end
  if o.log then over.monitor = { log = o.log } end
  local workflow = require "gt.workflow"
  local ok, wf = pcall(workflow.load, name, over)
  if not ok then io.stderr:write("gtengine run: ", tostring(wf), "\n"); return 2 end
  if not wf then
    local _, err = workflow.load(name, over)
    io.stderr:write("gtengine run: ", tostring(err), "\n")
    return 2
  end
  local orch = require "gt.orchestrator"
  local quiet = o.quiet or o.json
  local summary, err
  if wf.mode == "optimize" then
    summary, err = orch.run(wf, { quiet = quiet, save = not o.no_save })
  else
    -- paper and backtest sessions run with the monitor: the view or progress lines (not with
    -- --quiet, --json or monitor.progress = false), the log, alerts and the webhook
    local sess
    sess, err = orch.new(wf, { quiet = quiet, save = not o.no_save, max_cycles = bound.max_cycles,
      until_ts = bound.until_ts })
    if sess then
      local mon = require("gt.monitor").attach(sess)
      -- paper sessions reload edited strategy and workflow files between cycles (gt.reload)
      if wf.reload.enabled and wf.mode ~= "backtest" then require("gt.reload").attach(sess, { overrides = over }) end
      if (wf.mode == "paper" or wf.mode == "live") and not o.no_attach then
        -- a paper or live session answers `gtengine attach` (and halt/resume) on its socket
        local srv, aerr = require("gt.attach").serve(sess)
        if not srv then
          io.stderr:write("gtengine run: attach is off: ", tostring(aerr), "\n")
        elseif not quiet then
          io.write(("attach: gtengine attach --db %s  (socket %s)\n"):format(wf.db, srv.path))
          io.stdout:flush()
        end
      end
      summary, err = sess:run()
      if summary then mon:finish(summary) end
    end
  end
  if not summary then io.stderr:write("gtengine run: ", tostring(err), "\n"); return 1 end
  if o.json then
    io.write(require("gt.json").encode(summary), "\n")
  elseif summary.mode == "optimize" then
    io.write(orch.format_optimize(summary))
  else
    io.write("\n", orch.format_summary(summary))
    if summary.interrupted then
      io.write(("\ninterrupted: the state of cycle %d is committed; the same command resumes the session\n")
        :format(summary.cycles))
    end
  end
  if summary.interrupted then return 1 end -- the host turns it into 128 + the signal
  return 0
end

return M
