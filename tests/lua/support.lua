-- Shared helpers for the specs: the binary under test, running it, and ../shared.
local M = {}

M.gtengine = os.getenv("GTENGINE") or "./gtengine"
M.shared = os.getenv("GT_SHARED") or "../shared"

function M.quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Runs a shell command; returns stdout, stderr, exit code.
function M.sh(cmd, stdin)
  local base = os.tmpname()
  if stdin then
    local f = assert(io.open(base .. ".in", "wb")); f:write(stdin); f:close()
    cmd = cmd .. " < " .. base .. ".in"
  end
  local code = os.execute(cmd .. " > " .. base .. ".out 2> " .. base .. ".err")
  local function slurp(p)
    local f = io.open(p, "rb"); if not f then return "" end
    local s = f:read("*a"); f:close(); os.remove(p); return s
  end
  local out, err = slurp(base .. ".out"), slurp(base .. ".err")
  os.remove(base .. ".in"); os.remove(base)
  if type(code) == "number" and code > 255 then code = math.floor(code / 256) end
  return out, err, code
end

-- Runs gtengine with arguments (a string already quoted as needed).
function M.run(args, stdin)
  return M.sh(M.quote(M.gtengine) .. " " .. args, stdin)
end

function M.write(path, text)
  local f = assert(io.open(path, "wb")); f:write(text); f:close()
  return path
end

function M.tmpdir()
  local p = io.popen("mktemp -d"); local d = p:read("*l"); p:close()
  return d
end

function M.shared_file(rel)
  local p = M.shared .. "/" .. rel
  local f = io.open(p, "rb")
  if f then f:close(); return p end
  return nil, ("needs %s (reference data in ../shared, not present in this clone)"):format(p)
end

-- A copy of base with extra's keys set over it (option tables for runs).
function M.merge(base, extra)
  local o = {}
  for k, v in pairs(base or {}) do o[k] = v end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- Daily bars from closes: each opens at the previous close (the first at its own), high and
-- low bracket open and close widened by opts.wick, volume opts.volume (1000).
function M.bars(closes, opts)
  opts = opts or {}
  local wick, vol = opts.wick or 0, opts.volume or 1000
  local cols = { ts = {}, open = {}, high = {}, low = {}, close = {}, volume = {} }
  for i, c in ipairs(closes) do
    local o = closes[i - 1] or c
    cols.ts[i] = (i - 1) * 86400e6
    cols.open[i], cols.close[i] = o, c
    cols.high[i], cols.low[i] = math.max(o, c) + wick, math.min(o, c) - wick
    cols.volume[i] = vol
  end
  return require("gt.series").from_columns(cols, { symbol = opts.symbol or "HAND", timeframe = "1d" })
end

-- Writes synthetic bars as a CSV file (for CLI tests that need a --data file); returns path.
function M.synthetic_csv(path, n, seed)
  local gt = require "gt"
  local s = gt.data.synthetic { n = n, seed = seed }
  local lines = { "Date,Open,High,Low,Close,Volume" }
  for i = 0, s.n - 1 do
    lines[#lines + 1] = ("%s,%.17g,%.17g,%.17g,%.17g,%d"):format(gt.time.format(s:time(i)),
      s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i])
  end
  return M.write(path, table.concat(lines, "\n") .. "\n")
end

return M
