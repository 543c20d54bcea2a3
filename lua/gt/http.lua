-- gt.http: HTTP requests over the engine's libcurl client (engine/http.c).
--   local http = require "gt.http"
--   local resp, err = http.get(url, { headers = { Accept = "application/json" }, timeout = 10 })
--   resp = { status=, body=, headers = { ["content-type"]=, ["retry-after"]=, ... },
--            attempts=, waited_s=, elapsed_s=, bytes= }
-- A 4xx/5xx final status returns nil, err, resp (resp.body has the server's error).
-- TLS is always verified; plain http:// only reaches loopback hosts. GET is retried with
-- backoff (and Retry-After on 429); POST and the other methods are sent exactly once.
-- Options (seconds unless named _ms): timeout, connect_timeout, retries, backoff_ms,
-- backoff_cap_ms, rate_per_min, burst, max_bytes, max_wait, low_speed_bytes and
-- low_speed_time (give up below that many bytes/s for that long; 0 disables), cainfo,
-- once (no retries), notify (true: a line on stderr before each retry wait), trace (true:
-- curl's verbose trace on stderr, or a file descriptor number; credential headers and
-- every registered secret are scrubbed from it).
-- http.limit_host(host, per_min, burst) sets the process-wide limit every client shares
-- for host (on top of each client's own rate_per_min); a 429 blocks the host for every
-- client until its reset (Retry-After or X-Ratelimit-Reset).
-- client:deadline(seconds) bounds everything the client does from then on (a command's
-- budget); http.scrub(text, control) removes every loaded secret (and, with control,
-- escape sequences and newlines) from text before it is shown.
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C

local M = {}

local DEFAULTS = {
  timeout = 30, connect_timeout = 10, retries = 3, backoff_ms = 500, backoff_cap_ms = 30000,
  rate_per_min = 180, burst = 5, max_bytes = 64 * 1024 * 1024, max_wait = 30,
  low_speed_bytes = 100, low_speed_time = 10,
}
M.DEFAULTS = DEFAULTS

local METHODS = { GET = C.GT_HTTP_GET, POST = C.GT_HTTP_POST, DELETE = C.GT_HTTP_DELETE,
  PATCH = C.GT_HTTP_PATCH, PUT = C.GT_HTTP_PUT }

local Client = {}
Client.__index = Client

-- A client owns one curl handle (connections are reused) and its per-host rate limiter.
function M.new()
  local p = C.gt_http_new()
  if p == nil then return nil, gtffi.errmsg() end
  return setmetatable({ _h = ffi.gc(p, C.gt_http_free), _resp = ffi.new("gt_http_resp") }, Client)
end

function Client:close()
  if self._h then C.gt_http_free(ffi.gc(self._h, nil)); self._h = nil end
end

local function opt(o, k)
  local v = o[k]
  if v == nil then return DEFAULTS[k] end
  if type(v) ~= "number" or v ~= v or v < 0 then
    error(("gt.http: option %s must be a non-negative number"):format(k), 4)
  end
  return v
end

-- Applies every setting (given or default), so options never leak between calls.
function Client:_configure(o)
  local h = self._h
  local function chk(rc) if rc < 0 then error("gt.http: " .. gtffi.errmsg(rc), 4) end end
  chk(C.gt_http_set_timeouts(h, math.max(1, math.floor(opt(o, "connect_timeout") * 1000)),
    math.max(1, math.floor(opt(o, "timeout") * 1000))))
  chk(C.gt_http_set_retries(h, o.once and 0 or opt(o, "retries"), opt(o, "backoff_ms"),
    math.max(opt(o, "backoff_ms"), opt(o, "backoff_cap_ms"))))
  chk(C.gt_http_set_rate(h, opt(o, "rate_per_min"), math.max(1, opt(o, "burst"))))
  chk(C.gt_http_set_max_bytes(h, opt(o, "max_bytes")))
  chk(C.gt_http_set_max_wait(h, opt(o, "max_wait")))
  chk(C.gt_http_set_low_speed(h, math.floor(opt(o, "low_speed_bytes")),
    math.ceil(opt(o, "low_speed_time"))))
  chk(C.gt_http_set_notify(h, o.notify and 2 or -1))
  local tr = o.trace
  if tr ~= nil and tr ~= false and tr ~= true and type(tr) ~= "number" then
    error("gt.http: trace must be true or a file descriptor number", 4)
  end
  chk(C.gt_http_set_trace(h, tr == true and 2 or (type(tr) == "number" and tr or -1)))
  if o.cainfo ~= nil and type(o.cainfo) ~= "string" then error("gt.http: cainfo must be a path", 4) end
  chk(C.gt_http_set_cainfo(h, o.cainfo))
end

-- Header table -> "Name: value\n" text. A value with CR/LF would inject headers; the
-- error names the header, never its value (it may be a key).
local function header_text(headers)
  if headers == nil then return nil end
  if type(headers) ~= "table" then error("gt.http: headers must be a table", 4) end
  local names = {}
  for k in pairs(headers) do names[#names + 1] = k end
  table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
  local out = {}
  for _, k in ipairs(names) do
    local v = headers[k]
    if type(k) ~= "string" or not k:match("^[%w!#$%%&'*+.^_`|~-]+$") then
      error(("gt.http: bad header name %q"):format(tostring(k)), 4)
    end
    if type(v) == "number" then v = tostring(v) end
    if type(v) ~= "string" or v:find("[\r\n%z]") then
      error(("gt.http: header %s: value must be a string without CR, LF or NUL"):format(k), 4)
    end
    out[#out + 1] = k .. ": " .. v .. "\n"
  end
  return table.concat(out)
end

local function parse_headers(text)
  local t = {}
  for name, value in text:gmatch("([^:\n]+): ([^\n]*)\n") do t[name] = value end
  return t
end

-- request(method, url, opts) -> resp | nil, err, resp
function Client:request(method, url, o)
  if not self._h then error("gt.http: client is closed", 2) end
  local m = METHODS[method]
  if not m then error(("gt.http: unknown method %q"):format(tostring(method)), 2) end
  if type(url) ~= "string" then error("gt.http: url must be a string", 2) end
  o = o or {}
  self:_configure(o)
  local hdrs = header_text(o.headers)
  local body = o.body
  if body ~= nil and type(body) ~= "string" then error("gt.http: body must be a string", 2) end
  local r = self._resp
  local rc = C.gt_http_request(self._h, m, url, hdrs, body, body and #body or 0,
    o.once and C.GT_HTTP_ONCE or 0, r)
  local resp = {
    status = tonumber(r.status), attempts = tonumber(r.attempts), bytes = tonumber(r.bytes),
    waited_s = tonumber(r.waited_s), elapsed_s = tonumber(r.elapsed_s),
    retry_after_s = r.retry_after_s >= 0 and tonumber(r.retry_after_s) or nil,
    body = ffi.string(r.body, r.bytes), headers = parse_headers(ffi.string(r.headers)),
  }
  if rc < 0 then
    return nil, gtffi.errmsg(rc), resp, ffi.string(C.gt_status_name(rc))
  end
  return resp
end

-- From now on every request and retry wait must end within seconds (nil or 0: none).
function Client:deadline(seconds)
  if not self._h then error("gt.http: client is closed", 2) end
  if seconds ~= nil and (type(seconds) ~= "number" or not (seconds >= 0)) then
    error("gt.http: deadline must be a number of seconds >= 0", 2)
  end
  gtffi.check(C.gt_http_set_deadline(self._h, seconds or 0), 2)
end

function Client:get(url, o) return self:request("GET", url, o) end
function Client:post(url, o) return self:request("POST", url, o) end

-- Module-level calls share one default client (and so its connections and rate limiter).
local default
local function client()
  if not default then default = assert(M.new()) end
  return default
end

function M.get(url, o) return client():request("GET", url, o) end
function M.request(method, url, o) return client():request(method, url, o) end

-- The process-wide rate limit for host, shared by every client (per_min <= 0 removes it).
function M.limit_host(host, per_min, burst)
  if type(host) ~= "string" or type(per_min) ~= "number" then
    error("gt.http.limit_host: expected a host name and a rate per minute", 2)
  end
  gtffi.check(C.gt_http_limit_host(host, per_min, burst or 5), 2)
end

-- Seconds until a 429 block on host ends (0: none).
function M.host_wait(host) return tonumber(C.gt_http_host_wait(host)) end

-- Forgets every process-wide limit and 429 block (tests).
function M.limits_reset() C.gt_http_limits_reset() end

-- Registers a secret (an API key) so scrub() removes it from anything shown to a user.
function M.secret(value)
  if type(value) ~= "string" then error("gt.http.secret: value must be a string", 2) end
  if value ~= "" then gtffi.check(C.gt_secret_add(value), 2) end
end

-- text with every registered secret replaced by [REDACTED]; control = true also drops
-- terminal escape sequences and turns control characters (newlines too) into spaces.
function M.scrub(text, control)
  text = tostring(text)
  local flags = control and C.GT_SCRUB_CONTROL or 0
  local n = tonumber(C.gt_scrub(text, #text, flags, nil, 0))
  local buf = ffi.new("char[?]", n + 1)
  C.gt_scrub(text, #text, flags, buf, n + 1)
  return ffi.string(buf, n)
end

-- Percent-encodes everything outside RFC 3986's unreserved set.
function M.escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

-- {k = v} -> "k1=v1&k2=v2" (keys sorted, so URLs are deterministic).
function M.query(params)
  local keys = {}
  for k, v in pairs(params) do if v ~= nil then keys[#keys + 1] = k end end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = M.escape(k) .. "=" .. M.escape(params[k]) end
  return table.concat(out, "&")
end

return M
