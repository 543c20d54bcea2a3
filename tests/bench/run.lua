-- tests/bench/run.lua: `make bench`. Runs every compiled C benchmark (BENCH_DIR) and
-- every tests/bench/*_bench.lua inside gtengine. Each prints its own lines: throughput
-- and the ratio to a plain C baseline timed in the same process. Nothing here passes
-- or fails on a time.
local dir = os.getenv("BENCH_DIR") or "build/bench"
local gtengine = os.getenv("GTENGINE") or "./gtengine"

local function ls(d, pat)
  local out = {}
  local p = io.popen("ls -1 '" .. d .. "' 2>/dev/null")
  for f in p:lines() do if f:match(pat) then out[#out + 1] = d .. "/" .. f end end
  p:close()
  table.sort(out)
  return out
end

print(("gtengine bench  (%s)"):format(os.date("!%Y-%m-%dT%H:%M:%SZ")))
for _, bin in ipairs(ls(dir, "^[%w_]+$")) do
  print("\n== " .. bin:match("[^/]+$"))
  io.stdout:flush()
  os.execute("'" .. bin .. "'")
end
for _, f in ipairs(ls("tests/bench", "_bench%.lua$")) do
  print("\n== " .. f:match("[^/]+$"))
  io.stdout:flush()
  os.execute("'" .. gtengine .. "' run '" .. f .. "'")
end
