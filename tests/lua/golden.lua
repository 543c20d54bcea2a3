-- tests/lua/golden.lua: a small plain-Lua reader for the reference data, so the indicator
-- oracle does not depend on the engine's own CSV reader. Reads the ORCL bars
-- (../shared/data/backtrader/orcl-1995-2014.txt) and TA-Lib's output CSVs and begIndex
-- values (../shared/golden/talib). Arrays are 1-based Lua tables; an empty cell is nil.
local M = {}

local function lines(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local t = {}
  for l in f:lines() do
    l = l:gsub("\r$", "")
    if l ~= "" then t[#t + 1] = l end
  end
  f:close()
  return t
end

local function split(l)
  local t = {}
  for cell in (l .. ","):gmatch("([^,]*),") do t[#t + 1] = cell end
  return t
end

-- Every column of a CSV with a header: {names = {...}, col = {name = {v1, v2, ...}}, n = rows}.
-- Numeric cells become numbers (tonumber, i.e. strtod), empty cells nil, others strings.
function M.read_csv(path)
  local ls, err = lines(path)
  if not ls then return nil, err end
  local names = split(ls[1])
  local col = {}
  for _, nm in ipairs(names) do col[nm] = {} end
  for i = 2, #ls do
    local cells = split(ls[i])
    for j, nm in ipairs(names) do
      local c = cells[j]
      if c ~= nil and c ~= "" then col[nm][i - 1] = tonumber(c) or c end
    end
  end
  return { names = names, col = col, n = #ls - 1 }
end

-- The ORCL bars as {date=, open=, high=, low=, close=, volume=, n=} (raw prices, not Adj Close).
function M.read_bars(path)
  local t, err = M.read_csv(path)
  if not t then return nil, err end
  local c = t.col
  return { date = c.Date, open = c.Open, high = c.High, low = c.Low, close = c.Close,
    volume = c.Volume, n = t.n }
end

-- begIndex per TA-Lib function name from params.json (a pattern scan; no JSON library).
function M.beg_index(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("*a")
  f:close()
  local out = {}
  for name, body in s:gmatch('"function"%s*:%s*"(%w+)"(.-)"nbElement"') do
    out[name] = tonumber(body:match('"begIndex"%s*:%s*(%d+)'))
  end
  return out
end

return M
