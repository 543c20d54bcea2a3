-- gt.repl: what a REPL line means. engine/repl.c reads lines with libedit and calls
-- eval(chunk) (returns true while the chunk is incomplete, "quit" for quit/exit),
-- complete(prefix), banner(). Values print readably: tables one level deep, FFI arrays by
-- length and first/last values, times as dates, a backtest result as its stats table.
local M = {}

local fmt = require "gt.fmt"
local gt = require "gt"
local help = require "gt.help"
_G.gt = gt

-- `help` alone prints the overview (its __tostring); help(x) and help "name" look x up.
_G.help = setmetatable({}, {
  __call = function(_, x) return help.help(x) end,
  __tostring = function() return help.overview() end,
})

local function fmt_value(v, nested)
  if type(v) == "string" then return string.format("%q", v) end
  if fmt.is_time(v) then
    return nested and fmt.time(v) or ("%s (%.0f)"):format(fmt.time(v), v)
  end
  if type(v) == "cdata" then
    local a = fmt.array(v, nested and 2 or 5)
    if a then return a end
  end
  return tostring(v)
end

-- A gt.backtest result (its metatable is gt.backtest's Result, or has it as __index).
local function result_text(v)
  if not package.loaded["gt.backtest"] or type(rawget(v, "stats")) ~= "table" then return nil end
  local mt = getmetatable(v)
  local R = mt and (type(mt.__index) == "table" and mt.__index or mt)
  if not (R and type(R.report) == "function" and type(R.summary) == "function") then return nil end
  local m = tonumber(rawget(v, "m")) or #v.trades
  return ("%s on %s %s: %s bars, %d trades (r.stats, r.trades, r:report(path))\n%s"):format(
    tostring(v.strategy), tostring(v.symbol), tostring(v.timeframe or ""), fmt.num(v.n or 0), m,
    fmt.stats_table(v.stats):gsub("\n$", ""))
end

-- Readable, one level deep, with the length: {1, 2, 3, x = 4} (#3)
function M.show(v)
  if type(v) ~= "table" then return fmt_value(v) end
  local mt = getmetatable(v)
  if mt and mt.__tostring then return tostring(v) end
  local r = result_text(v)
  if r then return r end
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
    local ks = (type(k) == "string" and k:match("^[%a_][%w_]*$")) and k or "[" .. fmt_value(k, true) .. "]"
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
  return fmt_value(v, true)
end

local function pack(...) return ... end

local function incomplete(err)
  return err and err:find("<eof>", 1, true) ~= nil
end

-- Expression first (`1+2` prints 3), then statement; "<eof>" errors mean "keep reading".
function M.eval(src)
  local word = src:match("^%s*(%a+)%s*$") or src:match("^%s*(%a+)%s*%(%s*%)%s*$")
  if word == "quit" or word == "exit" then return "quit" end
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
    msg = (cut and msg:sub(1, cut - 1) or msg):gsub("\nstack traceback:$", "")
    io.stderr:write(msg, "\n")
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
  return ("gtengine %s  (%s)  `gt` is loaded; help for help, quit or Ctrl-D leaves"):format(gt.version,
    jit.version)
end

return M
