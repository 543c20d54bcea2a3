-- gt.csv: OHLCV text files into a gt.series, through engine/csv.c (strict: the first bad
-- row fails the read with "file:line: field 'close': reason", unless on_error = "skip").
--
--   local s, report = csv.read("data/orcl-1995-2014.txt", { adjust = true })
--   if not s then print(report) end            -- report is then the error message
--
-- opts: on_error = "fail" | "skip", adjust = bool (back-adjust O/H/L/C by Adj Close),
-- columns = { ts=, date=, time=, open=, high=, low=, close=, volume=, adj_close= } (header
-- names or 1-based field numbers), date_format = "auto" | "iso" | "ymd" | "dmy" | "mdy" |
-- "epoch_s" | "epoch_ms" | "epoch_us", delimiter = ",", header = true, symbol =,
-- timeframe = (both inferred when absent: from the file name and the bar spacing).
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local series = require "gt.series"
local C = gtffi.C

local M = {}

local ROLES = { ts = 0, date = 1, time = 2, open = 3, high = 4, low = 5, close = 6, volume = 7,
  adj_close = 8 }
local ROLE_NAMES = {}
for k, v in pairs(ROLES) do ROLE_NAMES[v] = k end
local DATE_FORMATS = { auto = 0, iso = 1, ymd = 2, dmy = 3, mdy = 4, epoch_s = 5, epoch_ms = 6,
  epoch_us = 7 }
local DATE_FORMAT_NAMES = {}
for k, v in pairs(DATE_FORMATS) do DATE_FORMAT_NAMES[v] = k end

-- Every option csv.read and csv.parse take (anything else is a typo and raises).
M.OPTIONS = { adjust = true, columns = true, date_format = true, delimiter = true, header = true,
  on_error = true, symbol = true, timeframe = true, max_bytes = true }

-- Builds the C options from the Lua table; raises (at the caller of read/parse) on misuse.
-- Returns the cdata and a table that keeps the column-name strings alive during the call.
local function build_opts(opts, fn)
  local function bad(msg) error(("gt.csv.%s: %s"):format(fn, msg), 4) end
  if opts ~= nil and type(opts) ~= "table" then bad("opts must be a table") end
  opts = opts or {}
  for k in pairs(opts) do
    if not M.OPTIONS[k] then bad(("unknown option '%s'"):format(tostring(k))) end
  end
  local o = ffi.new("gt_csv_opts")
  C.gt_csv_opts_init(o)
  local anchors = {}
  local mode = opts.on_error or "fail"
  if mode == "fail" then o.on_error = C.GT_CSV_FAIL
  elseif mode == "skip" then o.on_error = C.GT_CSV_SKIP
  else bad(("on_error must be \"fail\" or \"skip\", not %q"):format(tostring(mode))) end
  if opts.adjust ~= nil and type(opts.adjust) ~= "boolean" then bad("adjust must be a boolean") end
  o.adjust = opts.adjust and 1 or 0
  if opts.header ~= nil and type(opts.header) ~= "boolean" then bad("header must be a boolean") end
  o.header = opts.header == false and 0 or 1
  if opts.max_bytes ~= nil then -- read refuses a larger input before reading it (0: no limit)
    if type(opts.max_bytes) ~= "number" or not (opts.max_bytes >= 0) then bad("max_bytes must be a number >= 0") end
    o.max_bytes = opts.max_bytes
  end
  local df = opts.date_format or "auto"
  if DATE_FORMATS[df] == nil then
    bad(("date_format must be one of auto, iso, ymd, dmy, mdy, epoch_s, epoch_ms, epoch_us, not %q")
      :format(tostring(df)))
  end
  o.date_format = DATE_FORMATS[df]
  if opts.delimiter ~= nil then
    local d = opts.delimiter
    if type(d) ~= "string" or #d ~= 1 or d:find('^["\r\n0-9.+%-eE:]$') then
      bad("delimiter must be one character that cannot occur in a number, a date or a time")
    end
    o.delimiter = d:byte()
  end
  if opts.columns ~= nil then
    if type(opts.columns) ~= "table" then bad("columns must be a table") end
    for k, v in pairs(opts.columns) do
      local role = ROLES[k]
      if not role then
        bad(("columns: unknown key '%s' (ts, date, time, open, high, low, close, volume, adj_close)")
          :format(tostring(k)))
      end
      if type(v) == "number" then
        if v < 1 or v ~= math.floor(v) or v > 1024 then
          bad(("columns.%s: a field number counts from 1, got %s"):format(k, tostring(v)))
        end
        o.col[role] = v - 1
      elseif type(v) == "string" then
        anchors[#anchors + 1] = v
        o.name[role] = v
      else
        bad(("columns.%s must be a header name or a 1-based field number"):format(k))
      end
    end
  end
  if opts.symbol ~= nil and type(opts.symbol) ~= "string" then bad("symbol must be a string") end
  if opts.timeframe ~= nil and type(opts.timeframe) ~= "string" then
    bad("timeframe must be a string such as \"1d\"")
  end
  return o, anchors, opts
end

-- The symbol a file name suggests: the upper-cased stem before the first '-' or '.'
-- (orcl-1995-2014.txt -> ORCL, GOOG.csv -> GOOG), or nil.
function M.symbol_from_path(path)
  local base = tostring(path):match("([^/\\]*)$")
  local stem = base:match("^([^%-%.]+)")
  if not stem or stem == "" then return nil end
  return stem:upper()
end

-- The timeframe the median spacing of s's timestamps matches (see gt.timeframe).
M.infer_timeframe = require("gt.timeframe").infer

local function report_table(r)
  local t = {
    rows = tonumber(C.gt_csv_report_rows(r)),
    loaded = tonumber(C.gt_csv_report_loaded(r)),
    skipped = tonumber(C.gt_csv_report_skipped(r)),
    blank = tonumber(C.gt_csv_report_blank(r)),
    errors = {}, columns = {}, mapping = {}, notes = {},
    date_format = DATE_FORMAT_NAMES[tonumber(C.gt_csv_report_date_format(r))],
    delimiter = string.char(tonumber(C.gt_csv_report_delimiter(r))),
    adjusted = C.gt_csv_report_adjusted(r) ~= 0,
  }
  for i = 0, t.skipped - 1 do
    t.errors[i + 1] = { line = tonumber(C.gt_csv_report_error_line(r, i)),
      reason = ffi.string(C.gt_csv_report_error_reason(r, i)) }
  end
  for i = 0, C.gt_csv_report_ncolumns(r) - 1 do
    t.columns[i + 1] = ffi.string(C.gt_csv_report_column(r, i))
  end
  for role = 0, 8 do
    local idx = C.gt_csv_report_role(r, role)
    if idx >= 0 then t.mapping[ROLE_NAMES[role]] = idx + 1 end
  end
  for i = 0, C.gt_csv_report_nnotes(r) - 1 do
    t.notes[i + 1] = ffi.string(C.gt_csv_report_note(r, i))
  end
  return t
end

-- Wraps the C results: the series (GC-owned) and the report as a Lua table.
local function finish(sp, rp, path, opts)
  local rep = report_table(rp)
  C.gt_csv_report_free(rp)
  local symbol, timeframe = opts.symbol, opts.timeframe
  rep.inferred = { symbol = symbol == nil, timeframe = timeframe == nil }
  if symbol == nil then
    symbol = M.symbol_from_path(path)
    if not symbol then rep.notes[#rep.notes + 1] = "no symbol in the file name; pass symbol=" end
  end
  local s = series.wrap(sp, { symbol = symbol }, true)
  if timeframe == nil then
    local med
    timeframe, med = M.infer_timeframe(s)
    if not timeframe then
      rep.notes[#rep.notes + 1] = med
        and ("timeframe not inferred: the median bar spacing (%g s) is none of 1m 5m 15m 1h "
          .. "4h 1d 1w 1mo; pass timeframe="):format(med)
        or "timeframe not inferred: fewer than 2 bars; pass timeframe="
    end
  end
  s.timeframe = timeframe
  rep.symbol, rep.timeframe = symbol, timeframe
  return s, rep
end

-- Reads a file. Returns series, report; or nil and the precise message (file:line: ...).
function M.read(path, opts)
  if type(path) ~= "string" then error("gt.csv.read: path must be a string", 2) end
  local o, anchors, lopts = build_opts(opts, "read")
  local sp, rp = ffi.new("gt_series *[1]"), ffi.new("gt_csv_report *[1]")
  local rc = C.gt_csv_read(path, o, sp, rp)
  local _ = anchors -- the column names o points at live until here
  if rc < 0 then return nil, gtffi.errmsg(rc) end
  return finish(sp[0], rp[0], path, lopts)
end

-- The same over text in memory; name stands for the file in messages and symbol inference.
function M.parse(text, name, opts)
  if type(text) ~= "string" then error("gt.csv.parse: text must be a string", 2) end
  if name ~= nil and type(name) ~= "string" then error("gt.csv.parse: name must be a string", 2) end
  local o, anchors, lopts = build_opts(opts, "parse")
  local sp, rp = ffi.new("gt_series *[1]"), ffi.new("gt_csv_report *[1]")
  local rc = C.gt_csv_parse(text, #text, name or "(text)", o, sp, rp)
  local _ = anchors
  if rc < 0 then return nil, gtffi.errmsg(rc) end
  return finish(sp[0], rp[0], name or "", lopts)
end

return M
