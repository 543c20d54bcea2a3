-- gt.json: deterministic JSON output for --json and the result files. Keys are sorted,
-- numbers print exactly (%.17g, trimmed when an integer), NaN and Inf become null.
-- Arrays are tables with 1..n keys (gt.json.array marks an empty one as an array).
local M = {}

local array_mt = {}
function M.array(t) return setmetatable(t or {}, array_mt) end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function esc(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

local function num(x)
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  if x == math.floor(x) and math.abs(x) < 2 ^ 53 then return ("%d"):format(x) end
  local s = ("%.15g"):format(x)
  if tonumber(s) ~= x then s = ("%.17g"):format(x) end
  return s
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

-- decode(text) -> value, or nil and "JSON: <reason> at byte N". null becomes M.null
-- (a sentinel) inside arrays so positions survive, and is dropped from objects.
M.null = setmetatable({}, { __tostring = function() return "null" end })

local function decode_error(pos, why) error({ json = ("JSON: %s at byte %d"):format(why, pos) }, 0) end

local decode_value
local function skip(s, i)
  return s:find("[^ \t\r\n]", i) or #s + 1
end

local esc_in = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function utf8(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64) end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  return string.char(0xF0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
    0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
end

local function decode_string(s, i)
  local out, j = {}, i + 1
  while true do
    local c = s:sub(j, j)
    if c == "" then decode_error(i, "unterminated string") end
    if c == '"' then return table.concat(out), j + 1 end
    if c == "\\" then
      local e = s:sub(j + 1, j + 1)
      if e == "u" then
        local hex = s:sub(j + 2, j + 5)
        if not hex:match("^%x%x%x%x$") then decode_error(j, "bad \\u escape") end
        local cp = tonumber(hex, 16)
        j = j + 6
        if cp >= 0xD800 and cp <= 0xDBFF and s:sub(j, j + 1) == "\\u" then
          local lo = tonumber(s:sub(j + 2, j + 5), 16)
          if lo and lo >= 0xDC00 and lo <= 0xDFFF then
            cp = 0x10000 + (cp - 0xD800) * 1024 + (lo - 0xDC00)
            j = j + 6
          end
        end
        out[#out + 1] = utf8(cp)
      else
        local r = esc_in[e]
        if not r then decode_error(j, "bad escape") end
        out[#out + 1] = r
        j = j + 2
      end
    elseif c:byte() < 32 then
      decode_error(j, "control character in string")
    else
      local k = s:find('["\\%c]', j)
      if not k then decode_error(i, "unterminated string") end
      out[#out + 1] = s:sub(j, k - 1)
      j = k
    end
  end
end

function decode_value(s, i, depth)
  if depth > 200 then decode_error(i, "nesting too deep") end
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == "{" then
    local obj = {}
    i = skip(s, i + 1)
    if s:sub(i, i) == "}" then return obj, i + 1 end
    while true do
      if s:sub(i, i) ~= '"' then decode_error(i, "expected a string key") end
      local k
      k, i = decode_string(s, i)
      i = skip(s, i)
      if s:sub(i, i) ~= ":" then decode_error(i, "expected ':'") end
      local v
      v, i = decode_value(s, i + 1, depth + 1)
      if v ~= M.null then obj[k] = v end
      i = skip(s, i)
      local d = s:sub(i, i)
      if d == "}" then return obj, i + 1 end
      if d ~= "," then decode_error(i, "expected ',' or '}'") end
      i = skip(s, i + 1)
    end
  elseif c == "[" then
    local arr = M.array()
    i = skip(s, i + 1)
    if s:sub(i, i) == "]" then return arr, i + 1 end
    while true do
      local v
      v, i = decode_value(s, i, depth + 1)
      arr[#arr + 1] = v
      i = skip(s, i)
      local d = s:sub(i, i)
      if d == "]" then return arr, i + 1 end
      if d ~= "," then decode_error(i, "expected ',' or ']'") end
      i = i + 1
    end
  elseif c == '"' then
    return decode_string(s, i)
  elseif s:sub(i, i + 3) == "true" then return true, i + 4
  elseif s:sub(i, i + 4) == "false" then return false, i + 5
  elseif s:sub(i, i + 3) == "null" then return M.null, i + 4
  end
  local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
  if num and num ~= "" and num ~= "-" then
    if not num:match("^-?0%d") and not num:match("[eE][-+]?$") and not num:match("%.$") and not num:match("%.[eE]") then
      return tonumber(num), i + #num
    end
  end
  decode_error(i, c == "" and "unexpected end" or ("unexpected '" .. c .. "'"))
end

function M.decode(text)
  if type(text) ~= "string" then return nil, "JSON: expected a string" end
  local ok, v, i = pcall(decode_value, text, 1, 0)
  if not ok then
    if type(v) == "table" and v.json then return nil, v.json end
    error(v, 0)
  end
  i = skip(text, i)
  if i <= #text then return nil, ("JSON: trailing characters at byte %d"):format(i) end
  return v
end

return M
