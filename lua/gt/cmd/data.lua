-- `gtengine data ...`: import CSV files into the bar store, fetch from providers, list
-- what is stored, export it. Every subcommand ends with a one-line summary.
local cli = require "gt.cli"
local fmt = require "gt.fmt"
local gtime = require "gt.time"

local M = {}

M.help = [[
subcommands:
  import FILE... [--symbol S] [--timeframe TF] [--db PATH] [--on-error fail|skip] [--adjust]
        [--replace] [--max-size MB]
        read CSV files (Yahoo, backtrader, backtesting.py, ISO/epoch timestamps), validate every
        bar and store them (symbol defaults from the file name, timeframe from the bar spacing);
        bars already stored with other values are overwritten only with --replace; a file
        over --max-size MB (default 1073.7, 1 GiB) is refused before it is read
  fetch --provider yahoo|alpaca|coinbase --symbol S --start DATE [--end DATE] [--timeframe TF]
        [--db PATH] [--base-url URL] [--feed iex|sip] [--key-file FILE] [--refresh]
        [--timeout S] [--deadline S]
        download bars into the store; only the range the store lacks is requested
        (--refresh asks for the whole range again and replaces the stored bars). Each
        request gives up after --timeout seconds (30; connect 10; or when under 100 bytes/s
        for 10 s), the whole command after --deadline seconds (300)
  list [--db PATH] [--json]
        stored symbols with timeframe, bar count and date range
  export --symbol S [--timeframe TF] [--start DATE] [--end DATE] [--format csv|json] [--out FILE] [--db PATH]
        write stored bars as CSV (Date,Open,High,Low,Close,Volume) or JSON
Dates are YYYY-MM-DD or ISO-8601 times (UTC). The database defaults to gt.db (or $GT_DB).
]]

-- A failure on one data row ("FILE:LINE: field 'close': ...", csv.c's row reasons), the
-- only kind --on-error skip can get past: a missing file or a bad header is not.
local function row_error(f, err)
  if err:sub(1, #f + 1) ~= f .. ":" then return false end
  local reason = err:sub(#f + 2):match("^%d+: (.*)$")
  return reason ~= nil and not reason:find("\n") and (reason:match("^field '") ~= nil
    or reason:match("^wrong field count") ~= nil or reason:match("^unterminated quote") ~= nil)
end

local function import(args)
  local o, files = cli.parse(args, { symbol = "string", timeframe = "string", db = "string",
    on_error = "string", adjust = "flag", json = "flag", replace = "flag", max_size = "number" }, 3)
  if #files == 0 then cli.usage("data import needs at least one FILE") end
  if o.symbol and #files > 1 then cli.usage("--symbol applies to one file; import files one at a time or name them SYMBOL.csv") end
  if o.on_error and o.on_error ~= "fail" and o.on_error ~= "skip" then cli.usage("--on-error is fail or skip") end
  if o.max_size and not (o.max_size > 0) then cli.usage("--max-size needs megabytes > 0") end
  local data = require "gt.data"
  local reports, failed = {}, 0
  for _, f in ipairs(files) do
    -- phases that take more than a second are announced on stderr
    -- stat, not open: opening a FIFO to learn its size would eat its data
    local _, size = require("gt.fsio").stat(f)
    size = size or 0
    if size > 20e6 then io.stderr:write(("%s: reading %s MB...\n"):format(f, fmt.num(size / 1e6, 0))) end
    local rep, err = data.import(f, { symbol = o.symbol, timeframe = o.timeframe, db = o.db,
      on_error = o.on_error, adjust = o.adjust, replace = o.replace,
      max_bytes = o.max_size and math.floor(o.max_size * 1e6), progress = function(phase, info)
        if phase == "read" and (info.seconds > 1 or size > 20e6) then
          io.stderr:write(("%s: %s rows read in %.1f s; storing...\n"):format(f, fmt.num(info.rows), info.seconds))
        elseif phase == "stored" and info.seconds > 1 then
          io.stderr:write(("%s: stored in %.1f s\n"):format(f, info.seconds))
        end
      end })
    if not rep then
      failed = failed + 1
      io.stderr:write("gtengine data import: ", err, "\n")
      if (o.on_error or "fail") == "fail" and row_error(f, err) then
        io.stderr:write("  (nothing was stored from this file; --on-error skip loads the valid rows and lists the rest)\n")
      end
    else
      reports[#reports + 1] = rep
      if not o.json then
        local daily = rep.timeframe:match("[dw]$") or rep.timeframe:match("mo$")
        local function d(us)
          if not us then return "-" end
          local s = gtime.format(us, false)
          return daily and (s:gsub("T00:00:00Z$", "")) or s
        end
        io.write(("%s: %s %s, %s bars %s .. %s%s into %s\n"):format(f, rep.symbol, rep.timeframe,
          fmt.num(rep.loaded), d(rep.first), d(rep.last),
          rep.skipped > 0 and (", %d row%s skipped"):format(rep.skipped, rep.skipped == 1 and "" or "s") or "", rep.db))
        for i, e in ipairs(rep.errors or {}) do
          if i > 20 then io.write(("  ... %d more skipped rows\n"):format(#rep.errors - 20)); break end
          io.write(("  skipped line %d: %s\n"):format(e.line, e.reason))
        end
      end
    end
  end
  if o.json then io.write(require("gt.json").encode(reports), "\n") end
  return failed > 0 and 1 or 0
end

local function fetch(args)
  local o = cli.parse(args, { provider = "string", symbol = "string", start = "string", ["end"] = "string",
    timeframe = "string", db = "string", base_url = "string", feed = "string", key_file = "string",
    adjustment = "string", json = "flag", refresh = "flag", timeout = "number",
    deadline = "number" }, 3)
  if not o.provider then cli.usage("data fetch needs --provider yahoo|alpaca|coinbase") end
  if not o.symbol then cli.usage("data fetch needs --symbol") end
  if not o.start then cli.usage("data fetch needs --start DATE") end
  for _, k in ipairs({ "timeout", "deadline" }) do
    if o[k] and not (o[k] > 0) then cli.usage(("--%s needs seconds > 0"):format(k)) end
  end
  local start, err = gtime.parse(o.start)
  if not start then cli.usage("--start: " .. err) end
  local stop
  if o["end"] then
    stop, err = gtime.parse(o["end"])
    if not stop then cli.usage("--end: " .. err) end
  end
  local p = fmt.progress("fetching " .. o.symbol)
  local s, rep = require("gt.data").fetch { provider = o.provider, symbol = o.symbol, start = start,
    stop = stop, timeframe = o.timeframe or "1d", db = o.db, base_url = o.base_url, feed = o.feed,
    key_file = o.key_file, adjustment = o.adjustment, refresh = o.refresh,
    timeout = o.timeout, deadline = o.deadline, notify = require("gt.fmt").isatty(2),
    progress = function(info) p(info.bars or 0, nil, "bars") end }
  p.done()
  if not s then
    io.stderr:write("gtengine data fetch: ", require("gt.http").scrub(rep, true), "\n")
    return 1
  end
  if o.json then
    io.write(require("gt.json").encode(rep), "\n")
  else
    io.write(("%s %s from %s: %s new bars in %d request%s; %s bars stored for the range%s\n"):format(
      o.symbol, rep.timeframe, o.provider, fmt.num(rep.fetched), rep.requests, rep.requests == 1 and "" or "s",
      fmt.num(rep.bars),
      rep.requests == 0 and " (already complete, nothing requested)" or ""))
  end
  return 0
end

local function list(args)
  local o = cli.parse(args, { db = "string", json = "flag" }, 3)
  local db, err = require("gt.store").open(o.db)
  if not db then io.stderr:write("gtengine data list: ", err, "\n"); return 1 end
  local rows = db:list()
  db:close()
  if o.json then io.write(require("gt.json").encode(require("gt.json").array(rows)), "\n"); return 0 end
  if #rows == 0 then
    io.write("no bars stored yet; try: gtengine data import FILE.csv\n")
    return 0
  end
  local function d(v) return gtime.format(v, false):gsub("T00:00:00Z$", "") end
  io.write(fmt.table(rows, {
    { key = "symbol" }, { key = "timeframe", title = "tf" },
    { key = "count", title = "bars", align = "right" },
    { key = "first", fmt = d }, { key = "last", fmt = d },
  }))
  return 0
end

local function export(args)
  local o = cli.parse(args, { symbol = "string", timeframe = "string", start = "string", ["end"] = "string",
    format = "string", out = "string", db = "string" }, 3)
  if not o.symbol then cli.usage("data export needs --symbol") end
  local format = o.format or "csv"
  if format ~= "csv" and format ~= "json" then cli.usage("--format is csv or json") end
  local s, err = require("gt.data").load({ symbol = o.symbol, timeframe = o.timeframe or "1d",
    start = o.start, stop = o["end"], db = o.db })
  if not s then io.stderr:write("gtengine data export: ", err, "\n"); return 1 end
  local f = io.stdout
  if o.out then
    local ferr
    f, ferr = require("gt.fsio").open(o.out)
    if not f then io.stderr:write("gtengine data export: ", ferr, "\n"); return 1 end
  end
  local daily = s.timeframe and (s.timeframe:match("[dw]$") or s.timeframe:match("mo$"))
  local function ts(i) local t = gtime.format(s:time(i), false); return daily and t:gsub("T00:00:00Z$", "") or t end
  local num = require("gt.json").number
  if format == "csv" then
    f:write("Date,Open,High,Low,Close,Volume\n")
    for i = 0, s.n - 1 do
      f:write(ts(i), ",", num(s.open[i]), ",", num(s.high[i]), ",", num(s.low[i]), ",",
        num(s.close[i]), ",", num(s.volume[i]), "\n")
    end
  else
    f:write('{"symbol":', require("gt.json").encode(o.symbol), ',"timeframe":"', s.timeframe or "", '","bars":[')
    for i = 0, s.n - 1 do
      f:write(i > 0 and "," or "", '{"t":"', ts(i), '","o":', num(s.open[i]), ',"h":', num(s.high[i]),
        ',"l":', num(s.low[i]), ',"c":', num(s.close[i]), ',"v":', num(s.volume[i]), "}")
    end
    f:write("]}\n")
  end
  if o.out then
    local ok, werr = f:commit()
    if not ok then io.stderr:write("gtengine data export: ", werr, "\n"); return 1 end
    io.stderr:write(("%s %s: %s bars written to %s\n"):format(o.symbol, s.timeframe or "", fmt.num(s.n), o.out))
  end
  return 0
end

local sub = { import = import, fetch = fetch, list = list, export = export }

function M.main(args)
  local name = args[2]
  if not name then cli.usage("data needs a subcommand: import, fetch, list or export") end
  if name == "--help" or name == "-h" then io.write(M.help); return 0 end
  local fn = sub[name]
  if not fn then cli.usage("unknown data subcommand '" .. name .. "' (import, fetch, list, export)") end
  if args[3] == "--help" then io.write(M.help); return 0 end
  return fn(args)
end

return M
