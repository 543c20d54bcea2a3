-- tests/run.lua: the whole suite behind `make test` / `make asan`. Runs every C unit test
-- binary and the busted specs (inside gtengine, as TAP), then the integration scripts,
-- and ends with one line: N passed, N failed[, N skipped]. Exits 1 on any failure.
local gtengine = os.getenv("GTENGINE") or "./gtengine"
local ctest_dir = os.getenv("CTEST_DIR") or "build/tests"

local total = { pass = 0, fail = 0, skip = 0 }
local failures = {}

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Runs cmd, echoes failing and skipped lines, counts TAP results. A command that exits
-- non-zero without reporting a failure (a crash, a sanitizer abort) counts as a failure.
local function run_tap(label, cmd)
  local t0 = os.time()
  local p = assert(io.popen(cmd .. " 2>&1; echo \"__exit=$?\""))
  local pass, fail, skip, planned, exit_code = 0, 0, 0, nil, nil
  local context = {}
  for line in p:lines() do
    local code = line:match("^__exit=(%d+)$")
    if code then exit_code = tonumber(code)
    elseif line:match("^not ok") then
      fail = fail + 1
      failures[#failures + 1] = label .. ": " .. line
      print("  " .. label .. ": " .. line)
      context = { line }
    elseif line:match("^ok") then
      if line:match("# SKIP") then
        skip = skip + 1
        print("  " .. label .. ": " .. line)
      else
        pass = pass + 1
      end
      context = {}
    elseif line:match("^1%.%.(%d+)") then
      planned = tonumber(line:match("^1%.%.(%d+)"))
    elseif line:match("^#") and #context > 0 then
      print("    " .. line)
    elseif not line:match("^%s*$") then
      -- stray output (stderr, sanitizer reports) is shown, never swallowed
      print("  " .. label .. "| " .. line)
    end
  end
  p:close()
  if exit_code ~= 0 and fail == 0 then
    fail = fail + 1
    failures[#failures + 1] = ("%s: exited %s without a failing test (crash?)"):format(label, tostring(exit_code))
    print("  " .. failures[#failures])
  end
  if planned and planned ~= pass + fail + skip and exit_code == 0 then
    fail = fail + 1
    failures[#failures + 1] = ("%s: planned %d tests, ran %d"):format(label, planned, pass + fail + skip)
  end
  print(("%-28s %4d passed, %d failed, %d skipped  (%ds)"):format(label, pass, fail, skip, os.time() - t0))
  total.pass, total.fail, total.skip = total.pass + pass, total.fail + fail, total.skip + skip
end

local function ls(dir, pattern)
  local out = {}
  local p = io.popen("ls -1 " .. sh_quote(dir) .. " 2>/dev/null")
  for f in p:lines() do
    if f:match(pattern) then out[#out + 1] = dir .. "/" .. f end
  end
  p:close()
  table.sort(out)
  return out
end

local only = arg[1] -- optional: "c", "fuzz", "lua" or "integration"

if not only or only == "c" then
  for _, bin in ipairs(ls(ctest_dir, "^test_[%w_]+$")) do
    run_tap("c/" .. bin:match("[^/]+$"), sh_quote(bin))
  end
end
if not only or only == "fuzz" then
  -- every fuzz target replays its saved corpus (tests/fuzz/corpus/<target>/)
  local replay_dir = os.getenv("REPLAY_DIR") or "build/replay"
  for _, bin in ipairs(ls(replay_dir, "^fuzz_[%w_]+$")) do
    local name = bin:match("[^/]+$")
    run_tap("fuzz/" .. name, sh_quote(bin) .. " " .. sh_quote("tests/fuzz/corpus/" .. name))
  end
end
if not only or only == "lua" then
  run_tap("lua (busted)", sh_quote(gtengine) .. " test -o TAP tests/lua")
end
if not only or only == "integration" then
  for _, script in ipairs(ls("tests/integration", "^[%w_]+%.sh$")) do
    run_tap("integration/" .. script:match("[^/]+$"), "GTENGINE=" .. sh_quote(gtengine) .. " bash " .. sh_quote(script))
  end
end

if #failures > 0 then
  print("\nfailures:")
  for _, f in ipairs(failures) do print("  " .. f) end
end
local line = ("%d passed, %d failed"):format(total.pass, total.fail)
if total.skip > 0 then line = line .. (", %d skipped"):format(total.skip) end
print(line)
os.exit(total.fail == 0 and 0 or 1)
