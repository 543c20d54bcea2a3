-- tests/fuzz/lua_mutate.lua: a mutation fuzzer for the files gtengine loads from disk
-- (strategies, workflows, example scripts), through the same paths users take:
-- `gtengine run FILE` and `gtengine backtest --strategy FILE`. Each case takes a shipped
-- file and flips bytes, truncates it, splices two files, inserts junk or dumps it to
-- bytecode (string.dump, also mutated), then runs the target binary on it in a child
-- process with a time limit. A finding is a death by signal (a crash), a sanitizer report
-- (ASan/UBSan text on stderr) or a hang past the limit; an ordinary Lua error is the
-- expected outcome and is counted, not reported. Loaders that refuse bytecode are fine:
-- a refusal is an ordinary error.
--
--   gtengine tests/fuzz/lua_mutate.lua [--bin build/asan/gtengine] [--seconds 600]
--     [--seed N] [--out build/fuzz-lua] [--timeout 10] [--execs N]
-- --execs stops after N cases (with a fixed --seed the run is then the same every time).
-- Prints one summary line: "lua-fuzz: N execs in S s (R/s), K findings, E Lua errors, ...".
-- Findings are kept as OUT/findings/<n>-<kind>.{lua,txt} (the input and the stderr).
-- Exit status: 0 with no findings, 1 otherwise.

local args = {}
do
  local i = 1
  while arg and arg[i] do
    local k = arg[i]:match("^%-%-(.+)$")
    if not k or not arg[i + 1] then error("usage: lua_mutate.lua [--bin B] [--seconds S] [--seed N] [--out DIR] [--timeout S]") end
    args[k] = arg[i + 1]
    i = i + 2
  end
end
local BIN = args.bin or os.getenv("GTENGINE") or "./gtengine"
local SECONDS = tonumber(args.seconds or "10")
local SEED = tonumber(args.seed or os.time())
local OUT = args.out or "build/fuzz-lua"
local LIMIT = tonumber(args.timeout or "10")
local EXECS = tonumber(args.execs or "1e18")

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
-- Absolute paths: each case runs inside OUT/work, so what it writes (out/ reports) stays there.
local function abs(p)
  local h = io.popen("realpath -m " .. q(p)); local r = h:read("*l"); h:close()
  return r
end
if BIN:find("/", 1, true) then BIN = abs(BIN) end
OUT = abs(OUT)
local function slurp(p)
  local f = io.open(p, "rb"); if not f then return nil end
  local s = f:read("*a"); f:close(); return s
end
local function spit(p, s) local f = assert(io.open(p, "wb")); f:write(s); f:close() end
local function now()
  local ok, ffi = pcall(require, "ffi")
  if ok then
    local okc, v = pcall(function() return ffi.C.gt_clock_seconds() end)
    if okc then return v end
  end
  return os.time()
end

-- Seeds: every shipped strategy, workflow and example script.
local seeds = {}
for _, dir in ipairs({ "strategies", "workflows", "examples" }) do
  local p = io.popen("ls " .. dir .. "/*.lua 2>/dev/null")
  for line in p:lines() do
    local text = slurp(line)
    if text then seeds[#seeds + 1] = { path = line, text = text, kind = dir } end
  end
  p:close()
end
assert(#seeds > 0, "lua_mutate: no seed files (run from the repository root)")

math.randomseed(SEED)
local R = math.random
local JUNK = { "\0", "\255", "[[", "]]", "end", "function", "(", ")", "{", "}", "..", "%",
  "nil", "0/0", "1e309", "-", "\n", "local", "return", "#", "~=", "::x::", "goto x",
  "string.rep('x', 1e6)", "setmetatable({}, {__index = function(t, k) return t[k] end})",
  "coroutine.wrap(function() end)", "require", "ffi", "jit.off()", "collectgarbage()" }

local function flip(s)
  if #s == 0 then return s end
  local b = { s:byte(1, -1) }
  for _ = 1, R(1, 8) do
    local i = R(1, #b)
    local m = R(1, 3)
    if m == 1 then b[i] = bit.bxor(b[i], bit.lshift(1, R(0, 7)))
    elseif m == 2 then b[i] = R(0, 255)
    else b[i] = ("\0\n\"'[]{}()=.,;"):byte(R(1, 14)) end
  end
  -- string.char in chunks: a long file overflows one call's argument list
  local out = {}
  for i = 1, #b, 4096 do out[#out + 1] = string.char(unpack(b, i, math.min(#b, i + 4095))) end
  return table.concat(out)
end

local function mutate(seed)
  local s = seed.text
  local m = R(1, 7)
  if m == 1 then return flip(s), "flip"
  elseif m == 2 then return s:sub(1, R(0, #s)), "truncate"
  elseif m == 3 then
    local o = seeds[R(1, #seeds)].text
    return s:sub(1, R(0, #s)) .. o:sub(R(1, #o)), "splice"
  elseif m == 4 then
    local i = R(0, #s)
    return s:sub(1, i) .. JUNK[R(1, #JUNK)] .. s:sub(i + 1), "junk"
  elseif m == 5 or m == 6 then
    -- bytecode: the loaders may refuse it (fine), but must never crash on it
    local f = loadstring(s, "=" .. seed.path)
    if not f then return flip(s), "flip" end
    local bc = string.dump(f, R(1, 2) == 1)
    if m == 6 then
      return R(1, 2) == 1 and flip(bc) or bc:sub(1, R(1, #bc)), "bytecode-mutated"
    end
    return bc, "bytecode"
  else
    return ("\0"):rep(R(0, 4)) .. flip(s):rep(R(1, 3)), "repeat"
  end
end

os.execute("mkdir -p " .. q(OUT .. "/findings") .. " " .. q(OUT .. "/work"))
local csv = OUT .. "/work/SYN.csv"
do -- a small data file for the backtests, written once with the engine itself
  local ok = os.execute(q(BIN) .. " -e " .. q("local s = require('gt').data.synthetic{n = 300, seed = 3}; "
    .. "local f = io.open(" .. ("%q"):format(csv) .. ", 'w'); f:write('Date,Open,High,Low,Close,Volume\\n'); "
    .. "for i = 0, s.n - 1 do f:write(require('gt.time').format(s:time(i)):sub(1, 10), ',', s.open[i], ',', "
    .. "s.high[i], ',', s.low[i], ',', s.close[i], ',', s.volume[i], '\\n') end; f:close()")
    .. " > /dev/null 2>&1")
  assert(ok == 0 or ok == true, "lua_mutate: cannot write the data file with " .. BIN)
end

local stats = { execs = 0, lua_errors = 0, ok = 0, findings = 0, hangs = 0, crashes = 0, sanitizer = 0 }
local kinds = {}
local t0 = now()
local case = OUT .. "/work/case.lua"
local err_path = OUT .. "/work/err"
while now() - t0 < SECONDS and stats.execs < EXECS do
  local seed = seeds[R(1, #seeds)]
  local text, how = mutate(seed)
  spit(case, text)
  local cmd
  if seed.kind == "strategies" then
    cmd = ("%s backtest --strategy %s --data %s --no-save"):format(q(BIN), q(case), q(csv))
  else
    cmd = ("%s run %s %s"):format(q(BIN), q(case), q(csv))
  end
  -- -k: a child that ignores TERM is killed; status 124 means the limit passed
  local rc = os.execute(("cd %s && timeout -k 2 %d %s > /dev/null 2> %s < /dev/null"):format(
    q(OUT .. "/work"), LIMIT, cmd, q(err_path)))
  if type(rc) == "number" and rc > 255 then rc = math.floor(rc / 256) end
  stats.execs = stats.execs + 1
  kinds[how] = (kinds[how] or 0) + 1
  local err = slurp(err_path) or ""
  local finding
  if err:find("AddressSanitizer", 1, true) or err:find("runtime error:", 1, true)
    or err:find("LeakSanitizer", 1, true) then
    finding = "sanitizer"
  elseif rc == 124 or rc == 137 then
    finding = "hang"
  elseif rc > 128 then
    finding = "signal" .. (rc - 128)
  end
  if finding then
    stats.findings = stats.findings + 1
    if finding == "hang" then stats.hangs = stats.hangs + 1
    elseif finding == "sanitizer" then stats.sanitizer = stats.sanitizer + 1
    else stats.crashes = stats.crashes + 1 end
    local base = ("%s/findings/%d-%s"):format(OUT, stats.findings, finding)
    spit(base .. ".lua", text)
    spit(base .. ".txt", ("seed file %s, mutation %s, command: %s\nstatus %d\n%s"):format(seed.path, how, cmd, rc, err))
  elseif rc == 0 then
    stats.ok = stats.ok + 1
  else
    stats.lua_errors = stats.lua_errors + 1
  end
end
local dt = now() - t0
local kl = {}
for k, v in pairs(kinds) do kl[#kl + 1] = k .. "=" .. v end
table.sort(kl)
print(("lua-fuzz: %d execs in %.0f s (%.1f/s), %d findings (%d crashes, %d sanitizer reports, %d hangs), "
  .. "%d Lua errors, %d ran clean; seed %d; mutations: %s; binary %s")
  :format(stats.execs, dt, stats.execs / math.max(dt, 1e-9), stats.findings, stats.crashes, stats.sanitizer,
    stats.hangs, stats.lua_errors, stats.ok, SEED, table.concat(kl, " "), BIN))
if stats.findings > 0 then print("lua-fuzz: findings in " .. OUT .. "/findings") end
os.exit(stats.findings > 0 and 1 or 0)
