-- gt.keys: API keys for brokers and data providers. Keys come from a key file readable
-- only by its owner (mode 0600 or 0400; anything looser is refused with the chmod to
-- run) or from the environment. They are returned to the caller and nowhere else: never
-- logged, never in an error message, never on a command line. Every key loaded is
-- registered with the scrubber (gt.http.secret), so a server that echoes it back cannot
-- put it in a message either.
--   keys.alpaca{ key_file = PATH } -> { key_id =, secret_key =, source = } | nil, err
-- Order: opts.key_file (must exist), then ~/.config/gtengine/alpaca.json if present,
-- then APCA_API_KEY_ID / APCA_API_SECRET_KEY.
-- Key file: {"key_id": "...", "secret_key": "..."} (APCA_API_KEY_ID / APCA_API_SECRET_KEY
-- are accepted as the names too).
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C

local M = {}

local function home_file(name)
  local home = os.getenv("HOME")
  if not home or home == "" then return nil end
  local dir = os.getenv("XDG_CONFIG_HOME")
  if not dir or dir == "" then dir = home .. "/.config" end
  return dir .. "/gtengine/" .. name
end
M.default_file = home_file

-- Reads a secret file through C, which checks the owner and mode on the open file.
-- Returns the text, or nil, err, status name.
function M.read_file(path)
  local cap = 65536
  local buf = ffi.new("char[?]", cap)
  local len = ffi.new("int64_t[1]")
  local rc = C.gt_http_keyfile_read(path, buf, cap, len)
  if rc < 0 then return nil, gtffi.errmsg(rc), ffi.string(C.gt_status_name(rc)) end
  local text = ffi.string(buf, len[0])
  ffi.fill(buf, cap)
  return text
end

-- The string value of the first of names present in obj (a decoded JSON object).
local function json_field(obj, names)
  for _, n in ipairs(names) do
    if type(obj[n]) == "string" then return obj[n] end
  end
end

local function loaded(k)
  local http = require "gt.http"
  http.secret(k.key_id)
  http.secret(k.secret_key)
  return k
end

local function from_file(path, what)
  local text, err, code = M.read_file(path)
  if not text then return nil, err, code end
  local obj, jerr = require("gt.json").decode(text)
  if type(obj) ~= "table" then
    -- the position only: the parser's "near 'x'" would quote a byte of the secret
    local at = jerr and jerr:match("at byte %d+")
    return nil, ("key file %s: not a JSON object%s; expected {\"key_id\": \"...\", "
      .. "\"secret_key\": \"...\"} for %s"):format(path, at and (" (malformed " .. at .. ")") or "", what)
  end
  local id = json_field(obj, { "key_id", "APCA_API_KEY_ID" })
  local secret = json_field(obj, { "secret_key", "APCA_API_SECRET_KEY" })
  if not id or id == "" or not secret or secret == "" then
    return nil, ("key file %s: expected a JSON object with non-empty \"key_id\" and "
      .. "\"secret_key\" strings for %s"):format(path, what)
  end
  return loaded({ key_id = id, secret_key = secret, source = path })
end

function M.alpaca(opts)
  opts = opts or {}
  if opts.key_file ~= nil then
    if type(opts.key_file) ~= "string" then error("gt.keys: key_file must be a path", 2) end
    return from_file(opts.key_file, "Alpaca")
  end
  local def = home_file("alpaca.json")
  if def then
    local keys, err, code = from_file(def, "Alpaca")
    if keys then return keys end
    if code ~= "GT_ENOTFOUND" then return nil, err end
  end
  local id, secret = os.getenv("APCA_API_KEY_ID"), os.getenv("APCA_API_SECRET_KEY")
  if id and id ~= "" and secret and secret ~= "" then
    M._env_alpaca = loaded({ key_id = id, secret_key = secret, source = "environment" })
    return M._env_alpaca
  end
  -- a live broker wipes the variables once it has its copy (gt.keys.alpaca_into): the data
  -- feed of the same session goes on with the keys it read before
  if M._env_alpaca then return M._env_alpaca end
  return nil, ("no Alpaca API keys: set APCA_API_KEY_ID and APCA_API_SECRET_KEY, or write "
    .. "{\"key_id\": ..., \"secret_key\": ...} to %s and chmod 600 it (or pass key_file=)")
    :format(def or "~/.config/gtengine/alpaca.json")
end

-- Loads Alpaca keys straight into a C broker (engine/broker.c), by the rules above, so they
-- never become Lua strings: opts.key_file (must exist), else the default file if present,
-- else APCA_API_KEY_ID / APCA_API_SECRET_KEY, which are then wiped from the environment.
-- Core dumps are disabled once keys are loaded. -> source ("environment" or the path) | nil, err
function M.alpaca_into(broker_ptr, opts)
  opts = opts or {}
  local function file(path)
    local rc = C.gt_broker_keys_file(broker_ptr, path)
    if rc < 0 then return nil, gtffi.errmsg(rc), ffi.string(C.gt_status_name(rc)) end
    return path
  end
  if opts.key_file ~= nil then
    if type(opts.key_file) ~= "string" then error("gt.keys: key_file must be a path", 2) end
    return file(opts.key_file)
  end
  local def = home_file("alpaca.json")
  if def then
    local src, err, code = file(def)
    if src then return src end
    if code ~= "GT_ENOTFOUND" then return nil, err end
  end
  local rc = C.gt_broker_keys_env(broker_ptr)
  if rc == 0 then return "environment" end
  if rc ~= C.GT_ENOTFOUND then return nil, gtffi.errmsg(rc) end
  return nil, ("no Alpaca API keys: set APCA_API_KEY_ID and APCA_API_SECRET_KEY, or write "
    .. "{\"key_id\": ..., \"secret_key\": ...} to %s and chmod 600 it (or pass key_file=)")
    :format(def or "~/.config/gtengine/alpaca.json")
end

return M
