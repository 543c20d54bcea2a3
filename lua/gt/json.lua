-- gt.json: deterministic JSON output for --json and the result files, and the one JSON
-- reader (cJSON, engine/json.c) for everything the engine reads: saved runs, key files,
-- provider responses. Keys are sorted, numbers print exactly (the shortest of %.15g, %.16g
-- and %.17g that reads back the same double; integers below 2^53 without a fraction), NaN
-- and Inf become null. Arrays are tables with 1..n keys (gt.json.array marks an empty one
-- as an array); gt.json.raw(text) is JSON already encoded (the C trades encoder's output).
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C

local M = {}

local array_mt = {}
function M.array(t) return setmetatable(t or {}, array_mt) end

local raw_mt = {}
-- Text that encode copies as it is (it must be valid JSON; nothing checks it).
function M.raw(text)
  if type(text) ~= "string" then error("gt.json.raw: expected a string", 2) end
  return setmetatable({ text = text }, raw_mt)
end
local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function esc(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

local nbuf = ffi.new("char[32]")
local function num(x)
  if x == math.floor(x) and x > -2 ^ 53 and x < 2 ^ 53 then return ("%d"):format(x) end
  return ffi.string(nbuf, C.gt_json_number(x, nbuf))
end
M.number = num

local function is_array(t)
  if getmetatable(t) == array_mt then return true end
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

local encode
local function encode_into(v, out, indent, depth)
  local tv = type(v)
  if tv == "nil" then out[#out + 1] = "null"
  elseif tv == "boolean" then out[#out + 1] = tostring(v)
  elseif tv == "number" then out[#out + 1] = num(v)
  elseif tv == "string" then out[#out + 1] = esc(v)
  elseif tv == "cdata" then
    local n = tonumber(v)
    if n == nil then error("gt.json: cannot encode cdata " .. tostring(v), 3) end
    out[#out + 1] = num(n)
  elseif tv == "table" and getmetatable(v) == raw_mt then out[#out + 1] = v.text
  elseif tv == "table" then
    local nl = indent and ("\n" .. indent:rep(depth + 1)) or ""
    local close = indent and ("\n" .. indent:rep(depth)) or ""
    local sep = indent and ": " or ":"
    if is_array(v) then
      if #v == 0 then out[#out + 1] = "[]"; return end
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = nl
        encode_into(v[i], out, indent, depth + 1)
      end
      out[#out + 1] = close .. "]"
    else
      local keys = {}
      for k in pairs(v) do
        if type(k) ~= "string" then error("gt.json: object keys must be strings", 3) end
        keys[#keys + 1] = k
      end
      if #keys == 0 then out[#out + 1] = "{}"; return end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = nl .. esc(k) .. sep
        encode_into(v[k], out, indent, depth + 1)
      end
      out[#out + 1] = close .. "}"
    end
  else
    error("gt.json: cannot encode a " .. tv, 3)
  end
end

-- encode(value [, {indent = "  "}]) -> string
function encode(v, opts)
  local out = {}
  encode_into(v, out, opts and opts.indent, 0)
  return table.concat(out)
end
M.encode = encode

-- Encodes the m trades of a backtest (a const gt_trade * from gt.backtest) in C, as
-- Result:summary's trades would encode; symbols is the list of symbol names. -> M.raw.
function M.trades(tp, m, symbols)
  local names = ffi.new("const char *[?]", math.max(#symbols, 1))
  for j, s in ipairs(symbols) do names[j - 1] = s end
  local out = ffi.new("char *[1]")
  local len = C.gt_json_trades(tp, m, names, #symbols, out)
  if len < 0 then error(gtffi.errmsg(tonumber(len)), 2) end
  local text = ffi.string(out[0], len)
  C.gt_json_text_free(out[0])
  return M.raw(text)
end

-- decode(text) -> value, or nil and "JSON: <reason> at byte N". null becomes M.null
-- (a sentinel) inside arrays so positions survive, and is dropped from objects. The text
-- is parsed by cJSON; this walks the tree once into Lua tables.
M.null = setmetatable({}, { __tostring = function() return "null" end })

local T_NULL, T_FALSE, T_TRUE, T_NUMBER, T_STRING, T_ARRAY = 0, 1, 2, 3, 4, 5

local function value(node)
  local t = C.gt_json_type(node)
  if t == T_NUMBER then return C.gt_json_value(node)
  elseif t == T_STRING then return ffi.string(C.gt_json_string(node))
  elseif t == T_TRUE then return true
  elseif t == T_FALSE then return false
  elseif t == T_NULL then return M.null
  elseif t == T_ARRAY then
    local arr, k = M.array(), 0
    local c = C.gt_json_child(node)
    while c ~= nil do
      k = k + 1
      arr[k] = value(c)
      c = C.gt_json_next(c)
    end
    return arr
  end
  local obj = {}
  local c = C.gt_json_child(node)
  while c ~= nil do
    local v = value(c)
    if v ~= M.null then obj[ffi.string(C.gt_json_key(c))] = v end
    c = C.gt_json_next(c)
  end
  return obj
end

function M.decode(text)
  if type(text) ~= "string" then return nil, "JSON: expected a string" end
  local doc = C.gt_json_parse(text, #text)
  if doc == nil then return nil, gtffi.errmsg() end
  local ok, v = pcall(value, doc)
  C.gt_json_free(doc)
  if not ok then error(v, 0) end
  return v
end

return M
