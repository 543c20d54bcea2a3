-- ind_bench.lua: the batch calls made from Lua through gt.ind (table-free: an FFI array in,
-- a fresh FFI array out) against the same C kernel called directly into a preallocated
-- output, 10M doubles, best of 3; the FFI calls per batch, counted; and streaming updates
-- from Lua in ns/bar. Never fails on a time.
local ffi = require "ffi"
local ind = require "gt.ind"
local C = ffi.C

local N = 10000000
local x = ffi.new("double[?]", N)
local p = 100
local seed = 7
for i = 0, N - 1 do
  seed = (seed * 16807) % 2147483647 -- Park-Miller: the product stays exact in a double
  p = p * (1 + (seed / 2147483647 - 0.5) * 0.02)
  x[i] = p
end
local out = ffi.new("double[?]", N)

local function best(f)
  local b = math.huge
  for _ = 1, 3 do
    collectgarbage()
    local t0 = os.clock()
    f()
    local t = os.clock() - t0
    if t < b then b = t end
  end
  return b
end

print(("gt.ind batch from Lua over %d doubles, best of 3 (ns/element)"):format(N))
local cases = {
  { "sma(30)", function() return ind.sma(x, 30) end, function() return C.gt_ind_sma(x, N, out, 30) end },
  { "ema(30)", function() return ind.ema(x, 30) end, function() return C.gt_ind_ema(x, N, out, 30, 0) end },
  { "rsi(14)", function() return ind.rsi(x, 14) end, function() return C.gt_ind_rsi(x, N, out, 14) end },
}
for _, c in ipairs(cases) do
  local tl, tc = best(c[2]), best(c[3])
  print(("  %-8s gt.ind %6.2f ns/elem   C kernel direct %6.2f ns/elem   ratio %.2fx" ..
    " (gt.ind allocates its output)"):format(c[1], tl * 1e9 / N, tc * 1e9 / N, tl / tc))
end

local calls = 0
ind._backend(setmetatable({}, { __index = function(_, k) calls = calls + 1; return C[k] end }))
ind.sma(x, 30); ind.ema(x, 30); ind.rsi(x, 14)
ind._backend(nil)
print(("  FFI calls into C for 3 batches: %d"):format(calls))

print("gt.ind.stream from Lua (ns/bar)")
for _, name in ipairs({ "sma", "ema", "rsi" }) do
  local t = best(function()
    local s = ind.stream[name](name == "rsi" and 14 or 30)
    local acc = 0
    for i = 0, N - 1 do
      local v = s:update(x[i])
      if v == v then acc = acc + v end
    end
    return acc
  end)
  print(("  %-8s %6.2f ns/bar"):format(name, t * 1e9 / N))
end
