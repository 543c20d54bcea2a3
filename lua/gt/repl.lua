-- gt.repl: what a REPL line means. engine/repl.c reads lines with libedit and calls
-- eval(chunk) (returns true while the chunk is incomplete), complete(prefix), banner().
local M = {}

local gt = require "gt"
_G.gt = gt

local function fmt_value(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

-- Readable, one level deep, with the length: {1, 2, 3, x = 4} (#3)
function M.show(v)
  if type(v) ~= "table" then return fmt_value(v) end
  local mt = getmetatable(v)
  if mt and mt.__tostring then return tostring(v) end
  local parts, n = {}, #v
  for i = 1, math.min(n, 20) do parts[#parts + 1] = M.short(v[i]) end
  if n > 20 then parts[#parts + 1] = ("... %d more"):format(n - 20) end
  local keys = {}
  for k in pairs(v) do
    if not (type(k) == "number" and k >= 1 and k <= n and k % 1 == 0) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for i, k in ipairs(keys) do
    if i > 30 then parts[#parts + 1] = ("... %d more keys"):format(#keys - 30); break end
    local ks = (type(k) == "string" and k:match("^[%a_][%w_]*$")) and k or "[" .. fmt_value(k) .. "]"
    parts[#parts + 1] = ks .. " = " .. M.short(v[k])
  end
  return "{" .. table.concat(parts, ", ") .. "} (#" .. n .. ")"
end

-- Nested values are summarised, not expanded.
function M.short(v)
  if type(v) == "table" then
    local mt = getmetatable(v)
    if mt and mt.__tostring then return tostring(v) end
    return ("{...} (#%d)"):format(#v)
  end
  return fmt_value(v)
end

local function pack(...) return ... end

local function incomplete(err)
  return err and err:find("<eof>", 1, true) ~= nil
end

-- Expression first (`1+2` prints 3), then statement; "<eof>" errors mean "keep reading".
function M.eval(src)
  -- pack(...) rather than `return expr`: a call in the expression is then not a tail
  -- call, so its errors keep their stdin:LINE position.
  local chunk, err = loadstring("local pack = ...; return pack(" .. src .. "\n)", "=stdin")
  if not chunk then
    chunk, err = loadstring(src, "=stdin")
    if not chunk then
      if incomplete(err) then return true end
      io.stderr:write(err, "\n")
      return false
    end
  end
  local res = { xpcall(chunk, function(e) return debug.traceback(e, 2) end, pack) }
  if not res[1] then
    local msg = tostring(res[2])
    local cut = msg:find("\n%s*%[C%]: in function 'xpcall'")
    io.stderr:write(cut and msg:sub(1, cut - 1) or msg, "\n")
    return false
  end
  local n = table.maxn(res)
  if n > 1 then
    local out = {}
    for i = 2, n do out[#out + 1] = M.show(res[i]) end
    io.write(table.concat(out, "\t"), "\n")
  end
  return false
end

local function sorted_keys(t, prefix, out)
  local seen = {}
  local function add(k)
    if type(k) == "string" and k:sub(1, #prefix) == prefix and not seen[k] then
      seen[k] = true
      out[#out + 1] = k
    end
  end
  for k in pairs(t) do add(k) end
  return seen, add
end

-- Completes a global (`pri` -> print) or a field path (`gt.da` -> gt.data).
function M.complete(text)
  local out = {}
  local base, prefix = text:match("^(.*)[%.:]([%w_]*)$")
  if not base then
    sorted_keys(_G, text, out)
  else
    local t = _G
    for part in base:gmatch("[^%.:]+") do
      if type(t) ~= "table" then return {} end
      t = rawget(t, part) or (t == gt and gt[part]) or nil
    end
    if type(t) ~= "table" then return {} end
    local sep = text:sub(#base + 1, #base + 1)
    local names = {}
    local _, add = sorted_keys(t, prefix, names)
    if t == gt then for _, m in ipairs(gt.modules()) do add(m) end end
    for _, k in ipairs(names) do out[#out + 1] = base .. sep .. k end
  end
  table.sort(out)
  return out
end

function M.banner()
  return ("gtengine %s  (%s)  `gt` is loaded; Ctrl-D quits"):format(gt.version, jit.version)
end

return M
