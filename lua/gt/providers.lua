-- gt.providers: historical bars from Alpaca (market data v2), Yahoo Finance (chart v8)
-- and Coinbase Advanced Trade (public candles). Lua builds URLs and drives paging over
-- gt.http; engine/provider.c parses each page into one gt_series, checking every bar
-- with gt_bar_check. Any failure returns nil, err and no data (never a partial series).
--   local series, report = providers.fetch{ provider = "alpaca", symbol = "AAPL",
--     timeframe = "1d", start = "2024-01-02", stop = "2024-02-01" }
-- start/stop: epoch microseconds or ISO-8601 text ("YYYY-MM-DD"); bars in [start, stop).
-- Options: base_url, feed (alpaca: iex|sip, default iex), adjustment (alpaca: raw|split|
-- dividend|all, default raw; yahoo: raw|all, all = adjclose-adjusted), key_file (alpaca),
-- limit (alpaca page size, <= 10000), max_pages, progress = function(info) end,
-- http = { ...gt.http options... }, timeout (seconds per request), deadline (seconds for
-- the whole fetch, every page and retry wait; default M.DEADLINE), notify (a line on
-- stderr before each retry wait). Error messages never carry a loaded key, and server
-- text in them has its escape sequences and newlines removed.
-- report = { requests, pages, bars, skipped_null, dropped_out_of_range, retries, waited_s }
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local http = require "gt.http"
local keys = require "gt.keys"
local series = require "gt.series"
local C = gtffi.C

local M = {}

M.DEFAULT_BASE = {
  alpaca = "https://data.alpaca.markets",
  yahoo = "https://query1.finance.yahoo.com",
  coinbase = "https://api.coinbase.com",
}

M.TIMEFRAMES = {
  alpaca = { ["1m"] = "1Min", ["5m"] = "5Min", ["15m"] = "15Min", ["1h"] = "1Hour",
    ["4h"] = "4Hour", ["1d"] = "1Day", ["1w"] = "1Week", ["1mo"] = "1Month" },
  yahoo = { ["1m"] = "1m", ["5m"] = "5m", ["15m"] = "15m", ["1h"] = "1h", ["1d"] = "1d",
    ["1w"] = "1wk", ["1mo"] = "1mo" },
  coinbase = { ["1m"] = "ONE_MINUTE", ["5m"] = "FIVE_MINUTE", ["15m"] = "FIFTEEN_MINUTE",
    ["1h"] = "ONE_HOUR", ["1d"] = "ONE_DAY" },
}
local CB_SECONDS = { ONE_MINUTE = 60, FIVE_MINUTE = 300, FIFTEEN_MINUTE = 900, ONE_HOUR = 3600,
  ONE_DAY = 86400 }
M.COINBASE_MAX_CANDLES = 350
M.DEADLINE = 300 -- seconds one fetch may take in all

local client
local function get_client()
  if not client then client = assert(http.new()) end
  return client
end

local function to_us(v, name)
  if type(v) == "number" then
    if v ~= v or v ~= math.floor(v) then error(("providers.fetch: %s must be whole microseconds"):format(name), 3) end
    return v
  end
  if type(v) ~= "string" then
    error(("providers.fetch: %s must be epoch microseconds or a date string"):format(name), 3)
  end
  local out = ffi.new("int64_t[1]")
  if C.gt_time_parse(v, #v, out) ~= 0 then
    error(("providers.fetch: %s: %s"):format(name, gtffi.errmsg()), 3)
  end
  return tonumber(out[0])
end

local function rfc3339(us)
  local buf = ffi.new("char[32]")
  C.gt_time_format(us, 0, buf, 32)
  return ffi.string(buf)
end

local function trim_base(b) return (b:gsub("/+$", "")) end

-- One GET; on failure returns nil and a message with the server's own error text.
local function get(ctx, url, headers)
  local resp, err, r = get_client():get(url, setmetatable({ headers = headers }, { __index = ctx.http }))
  local rep = ctx.report
  local att = (resp or r) and (resp or r).attempts or 0
  rep.requests = rep.requests + att
  rep.retries = rep.retries + math.max(0, att - 1)
  rep.waited_s = rep.waited_s + ((resp or r) and (resp or r).waited_s or 0)
  if not resp then
    local msg = r and r.body and r.body:match('"message"%s*:%s*"([^"]*)"')
    -- scrubbed before it is cut, so a cut can never leave part of a key behind
    if msg then err = err .. ": " .. http.scrub(msg, true):sub(1, 200) end
    return nil, ctx.provider .. " " .. ctx.symbol .. ": " .. err, r
  end
  return resp.body
end

local function parse_page(ctx, fn, body, lo, hi, adjust)
  local page = ctx.page
  local rc
  if adjust then
    rc = fn(ctx.s._c, body, #body, lo, hi, adjust, page)
  else
    rc = fn(ctx.s._c, body, #body, lo, hi, page)
  end
  if rc < 0 then
    local msg = gtffi.errmsg(rc)
    local pre = ctx.provider .. ": "
    if msg:sub(1, #pre) == pre then msg = msg:sub(#pre + 1) end
    return nil, ctx.provider .. " " .. ctx.symbol .. ": " .. msg
  end
  local rep = ctx.report
  rep.pages = rep.pages + 1
  rep.bars = rep.bars + tonumber(page.bars)
  rep.skipped_null = rep.skipped_null + tonumber(page.skipped_null)
  rep.dropped_out_of_range = rep.dropped_out_of_range + tonumber(page.dropped_out_of_range)
  if ctx.progress then
    ctx.progress({ provider = ctx.provider, symbol = ctx.symbol, pages = rep.pages,
      bars = rep.bars, requests = rep.requests })
  end
  return true
end

local function fetch_alpaca(ctx, o)
  local k, kerr = keys.alpaca({ key_file = o.key_file })
  if not k then return nil, "alpaca: " .. kerr end
  local headers = { ["APCA-API-KEY-ID"] = k.key_id, ["APCA-API-SECRET-KEY"] = k.secret_key }
  local base = trim_base(o.base_url or os.getenv("APCA_API_DATA_URL") or M.DEFAULT_BASE.alpaca)
  local limit = o.limit or 10000
  if type(limit) ~= "number" or limit < 1 or limit > 10000 then
    error("providers.fetch: alpaca limit must be 1..10000", 3)
  end
  local adj = o.adjustment or "raw"
  if not ({ raw = 1, split = 1, dividend = 1, all = 1 })[adj] then
    error("providers.fetch: alpaca adjustment must be raw, split, dividend or all", 3)
  end
  local feed = o.feed or "iex"
  if feed ~= "iex" and feed ~= "sip" then error("providers.fetch: alpaca feed must be iex or sip", 3) end
  local params = { timeframe = ctx.tf, start = rfc3339(ctx.start), ["end"] = rfc3339(ctx.stop),
    limit = limit, adjustment = adj, feed = feed }
  local path = base .. "/v2/stocks/" .. http.escape(ctx.symbol) .. "/bars?"
  local seen = {}
  for _ = 1, ctx.max_pages do
    local body, err = get(ctx, path .. http.query(params), headers)
    if not body then return nil, err end
    local ok, perr = parse_page(ctx, C.gt_provider_parse_alpaca, body, ctx.start, ctx.stop)
    if not ok then return nil, perr end
    if ctx.page.has_next == 0 then return true end
    local tok = ffi.string(ctx.page.next_token)
    if seen[tok] then
      return nil, ("alpaca %s: next_page_token repeated after page %d (the server is looping)")
        :format(ctx.symbol, ctx.report.pages)
    end
    seen[tok] = true
    params.page_token = tok
  end
  return nil, ("alpaca %s: more than %d pages; raise max_pages or narrow the range")
    :format(ctx.symbol, ctx.max_pages)
end

local function fetch_yahoo(ctx, o)
  local base = trim_base(o.base_url or M.DEFAULT_BASE.yahoo)
  local adj = o.adjustment or "raw"
  if adj ~= "raw" and adj ~= "all" then error("providers.fetch: yahoo adjustment must be raw or all", 3) end
  local url = base .. "/v8/finance/chart/" .. http.escape(ctx.symbol) .. "?" .. http.query({
    period1 = ("%d"):format(math.floor(ctx.start / 1e6)),
    period2 = ("%d"):format(math.ceil(ctx.stop / 1e6)),
    interval = ctx.tf })
  local body, err, r = get(ctx, url, { Accept = "application/json" })
  if not body then
    -- Yahoo answers an unknown symbol with 404 and {"chart":{"error":{...}}}: say that
    if r and r.status and r.status >= 400 and r.body:find('"chart"', 1, true) then
      local _, yerr = parse_page(ctx, C.gt_provider_parse_yahoo, r.body, ctx.start, ctx.stop, 0)
      if yerr and not yerr:find("not valid JSON", 1, true) then return nil, yerr end
    end
    return nil, err
  end
  return parse_page(ctx, C.gt_provider_parse_yahoo, body, ctx.start, ctx.stop, adj == "all" and 1 or 0)
end

local function fetch_coinbase(ctx, o)
  local base = trim_base(o.base_url or M.DEFAULT_BASE.coinbase)
  local g = CB_SECONDS[ctx.tf]
  local span = M.COINBASE_MAX_CANDLES * g
  local a = math.floor(ctx.start / 1e6)
  local stop_s = math.ceil(ctx.stop / 1e6)
  local path = base .. "/api/v3/brokerage/market/products/" .. http.escape(ctx.symbol) .. "/candles?"
  for _ = 1, ctx.max_pages do
    if a >= stop_s then return true end
    local b = math.min(a + span, stop_s)
    -- end = b - 1 keeps a candle starting at b out of this window (it opens the next one)
    local body, err = get(ctx, path .. http.query({ start = ("%d"):format(a),
      ["end"] = ("%d"):format(b - 1), granularity = ctx.tf }), { Accept = "application/json" })
    if not body then return nil, err end
    local ok, perr = parse_page(ctx, C.gt_provider_parse_coinbase, body,
      math.max(ctx.start, a * 1e6), math.min(ctx.stop, b * 1e6))
    if not ok then return nil, perr end
    a = b
  end
  return nil, ("coinbase %s: more than %d windows; raise max_pages or narrow the range")
    :format(ctx.symbol, ctx.max_pages)
end

local FETCH = { alpaca = fetch_alpaca, yahoo = fetch_yahoo, coinbase = fetch_coinbase }

function M.fetch(o)
  if type(o) ~= "table" then error("providers.fetch: expects a table of options", 2) end
  local fetch = FETCH[o.provider]
  if not fetch then
    error(("providers.fetch: provider must be alpaca, yahoo or coinbase (got %s)"):format(tostring(o.provider)), 2)
  end
  if type(o.symbol) ~= "string" or o.symbol == "" then
    error("providers.fetch: symbol must be a non-empty string", 2)
  end
  local tf = M.TIMEFRAMES[o.provider][o.timeframe]
  if not tf then
    local ok = {}
    for k in pairs(M.TIMEFRAMES[o.provider]) do ok[#ok + 1] = k end
    table.sort(ok)
    error(("providers.fetch: %s has no timeframe %s (available: %s)")
      :format(o.provider, tostring(o.timeframe), table.concat(ok, " ")), 2)
  end
  local start, stop = to_us(o.start, "start"), to_us(o.stop, "stop")
  if start >= stop then error("providers.fetch: start must be before stop", 2) end
  if o.progress ~= nil and type(o.progress) ~= "function" then
    error("providers.fetch: progress must be a function", 2)
  end
  if o.base_url ~= nil and type(o.base_url) ~= "string" then error("providers.fetch: base_url must be a string", 2) end
  for _, k in ipairs({ "timeout", "deadline" }) do
    if o[k] ~= nil and (type(o[k]) ~= "number" or not (o[k] > 0)) then
      error(("providers.fetch: %s must be a number of seconds > 0"):format(k), 2)
    end
  end

  local p = C.gt_series_new(0)
  if p == nil then return nil, gtffi.errmsg() end
  local s = series.wrap(p, { symbol = o.symbol, timeframe = o.timeframe })
  local report = { requests = 0, pages = 0, bars = 0, skipped_null = 0, dropped_out_of_range = 0,
    retries = 0, waited_s = 0 }
  local hopts = {}
  for k, v in pairs(o.http or {}) do hopts[k] = v end
  if o.timeout then hopts.timeout = o.timeout end
  if o.notify then hopts.notify = true end
  local ctx = { provider = o.provider, symbol = o.symbol, tf = tf, start = start, stop = stop,
    s = s, report = report, page = ffi.new("gt_provider_page"), progress = o.progress,
    http = hopts, max_pages = o.max_pages or 100000 }
  local cl = get_client()
  cl:deadline(o.deadline or M.DEADLINE)
  local ok, err = fetch(ctx, o)
  cl:deadline(0)
  if not ok then
    s:free()
    return nil, http.scrub(err, true), report
  end
  C.gt_series_shrink(s._c)
  s:_sync()
  return s, report
end

return M
