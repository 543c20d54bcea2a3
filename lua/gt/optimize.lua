-- gt.optimize: parameter search over gt.backtest. grid (every combination of a strategy's
-- grid), random (n combinations drawn with a seed) and walkforward (optimise on a training
-- window, trade the next test window, repeat). Every search reports, beside the best
-- combination, its deflated Sharpe ratio and the probability of backtest overfitting (CSCV).
--   local res = gt.optimize.grid{strategy = "sma_cross", data = series, objective = "sharpe"}
--   print(res.best.params.fast, res.best.score, res.dsr, res.pbo)
-- Uses gt.backtest (each combination is one vectorised backtest), gt.ind (indicator results
-- are cached per distinct (indicator, inputs, parameters) within one search) and the C
-- kernels in engine/optimize.c (normal quantiles, CSCV, the statistics of a finished run).
-- Worker processes (jobs > 1) are forks of this one: they start with its bars and strategy,
-- send back raw doubles, never touch its database handle, and leave with _exit.
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C

local M = {}

local NAN = 0 / 0
local EULER_GAMMA = 0.5772156649015329

-- objective name -> the stats field it maximises
M.OBJECTIVES = { sharpe = "sharpe", ["return"] = "return_pct", calmar = "calmar", sortino = "sortino" }

-- backtest options a search passes through (costs, fills, sizing)
local RUN_KEYS = { "capital", "size", "commission", "commission_kind", "commission_min", "slippage_bps",
  "spread_bps", "volume_cap", "fill", "fractional", "short", "leverage", "risk_free", "close_at_end",
  "size_at", "stop_pct", "take_pct" }

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

---------------------------------------------------------------------------------------
-- Grids and constraints
---------------------------------------------------------------------------------------

-- parse_grid("fast=5:20:5,slow=20,30,40") -> {fast = {5, 10, 15, 20}, slow = {20, 30, 40}}.
-- a:b:s is the inclusive range a, a+s, ... <= b (s defaults to 1); a bare value after a
-- key's values is one more value of that key. nil, message on a malformed spec.
function M.parse_grid(spec)
  if type(spec) ~= "string" then error("optimize.parse_grid: spec must be a string", 2) end
  local grid, key = {}, nil
  for item in (spec .. ","):gmatch("([^,]*),") do
    item = item:match("^%s*(.-)%s*$")
    local k, v = item:match("^([%a_][%w_]*)%s*=%s*(.*)$")
    if k then key = k; grid[k] = grid[k] or {} else v = item end
    if not key then return nil, ("grid '%s': '%s' has no key (write name=values)"):format(spec, item) end
    local a, b, s = v:match("^([^:]+):([^:]+):?([^:]*)$")
    if a then
      local x, y, st = tonumber(a), tonumber(b), s ~= "" and tonumber(s) or 1
      if not (x and y and st) or st <= 0 or y < x then
        return nil, ("grid '%s': range '%s' must be low:high[:step] with low <= high and step > 0"):format(spec, v)
      end
      if (y - x) / st > 1e6 then return nil, ("grid '%s': range '%s' has over a million values"):format(spec, v) end
      local i = 0
      while x + i * st <= y + 1e-9 * st do
        local val = x + i * st
        local r = math.floor(val * 1e9 + 0.5) / 1e9 -- 0.1 steps print as 0.3, not 0.30000000000000004
        grid[key][#grid[key] + 1] = r
        i = i + 1
      end
    else
      if v == "" then return nil, ("grid '%s': key '%s' has an empty value"):format(spec, key) end
      local val = tonumber(v)
      if val == nil then
        if v == "true" then val = true elseif v == "false" then val = false else val = v end
      end
      grid[key][#grid[key] + 1] = val
    end
  end
  return grid
end

-- The default constraint: periods named fast < mid < slow (any two present) must increase;
-- a combination that breaks it is skipped, not run.
local ORDERED = { { "fast", "slow" }, { "fast", "mid" }, { "mid", "slow" } }
function M.default_constraint(p)
  for _, pair in ipairs(ORDERED) do
    local a, b = p[pair[1]], p[pair[2]]
    if type(a) == "number" and type(b) == "number" and a >= b then return false end
  end
  return true
end

local function constraint_list(c)
  local list = { M.default_constraint }
  if c == nil then return list end
  if type(c) == "function" then c = { c } end
  if type(c) ~= "table" then error("optimize: constraints is a function(params) -> bool or a list of them", 4) end
  for i, f in ipairs(c) do
    if type(f) ~= "function" then error(("optimize: constraints[%d] is not a function"):format(i), 4) end
    list[#list + 1] = f
  end
  return list
end

local function allowed(list, p)
  for i = 1, #list do if not list[i](p) then return false end end
  return true
end

local function check_grid(grid, strategy)
  grid = grid or {}
  if type(grid) ~= "table" or next(grid) == nil then
    error(("optimize: %s has no grid; give grid = {name = {values...}}"):format(strategy.name), 4)
  end
  for _, k in ipairs(sorted_keys(grid)) do
    local v = grid[k]
    if type(v) ~= "table" then grid[k] = { v } elseif #v == 0 then
      error(("optimize: grid.%s has no values"):format(k), 4)
    end
    if strategy.params and strategy.params[k] == nil then
      local known = sorted_keys(strategy.params)
      error(("optimize: grid.%s is not a parameter of %s (it has: %s)"):format(k, strategy.name,
        table.concat(known, ", ")), 4)
    end
  end
  return grid
end

-- Every combination of grid (keys in sorted order, the first key varying slowest) that the
-- constraints allow, and the number skipped.
function M.combinations(grid, constraints)
  local keys = sorted_keys(grid)
  local list, skipped = {}, 0
  local cons = constraint_list(constraints)
  local idx = {}
  for i = 1, #keys do idx[i] = 1 end
  if #keys == 0 then return list, 0 end
  while true do
    local p = {}
    for i, k in ipairs(keys) do p[k] = grid[k][idx[i]] end
    if allowed(cons, p) then list[#list + 1] = p else skipped = skipped + 1 end
    local i = #keys
    while i >= 1 do
      idx[i] = idx[i] + 1
      if idx[i] <= #grid[keys[i]] then break end
      idx[i] = 1
      i = i - 1
    end
    if i == 0 then break end
  end
  return list, skipped
end

---------------------------------------------------------------------------------------
-- Deflated Sharpe ratio and CSCV
---------------------------------------------------------------------------------------

-- dsr{sr =, t =, skew =, kurt =, trials =, var_sr =} -> DSR, SR0. Bailey and Lopez de Prado,
-- "The Deflated Sharpe Ratio", J. Portfolio Management 40(5), 2014, eq. (2) and its SR0:
--   SR0 = sqrt(V[SR_n]) ((1 - g) Z^-1(1 - 1/N) + g Z^-1(1 - 1/(N e))),  g = Euler's gamma
--   DSR = Z((SR - SR0) sqrt(T - 1) / sqrt(1 - skew SR + (kurt - 1)/4 SR^2))
-- SR and V[SR_n] are per-period (not annualised), kurt is the plain kurtosis (3 = normal).
-- With one trial there is no selection: SR0 = 0 and DSR is the probabilistic Sharpe ratio.
function M.dsr(a)
  if type(a) ~= "table" then error("optimize.dsr takes {sr =, t =, skew =, kurt =, trials =, var_sr =}", 2) end
  local sr, t, n = a.sr, a.t, a.trials or 1
  local skew, kurt, v = a.skew or 0, a.kurt or 3, a.var_sr or 0
  if type(sr) ~= "number" or type(t) ~= "number" or t < 2 then return NAN, NAN end
  local sr0 = 0
  if n >= 2 then
    sr0 = math.sqrt(v) * ((1 - EULER_GAMMA) * C.gt_opt_norm_ppf(1 - 1 / n)
      + EULER_GAMMA * C.gt_opt_norm_ppf(1 - 1 / (n * math.exp(1))))
  end
  local den = 1 - skew * sr + (kurt - 1) / 4 * sr * sr
  if not (den > 0) then return NAN, sr0 end
  return C.gt_opt_norm_cdf((sr - sr0) * math.sqrt(t - 1) / math.sqrt(den)), sr0
end

-- The moments a record keeps, as engine/optimize.c writes them (gt_opt_moments): an array of
-- count doubles: t, sr, skew, kurt, block length, block sums, block sums of squares.
local MOM_MAX = 5 + 2 * 24

-- rec.mom/nmom = the array and its count, and its numbers as fields (t, sr, skew, kurt,
-- block_len, nblocks).
local function set_moments(rec, p, n)
  rec.mom, rec.nmom = p, n
  rec.t, rec.sr, rec.skew, rec.kurt = p[0], p[1], p[2], p[3]
  rec.block_len = n > 5 and p[4] or 0
  rec.nblocks = n > 5 and (n - 5) / 2 or 0
  return rec
end

-- Per-bar returns of an equity curve: T = n - 1 returns, their moments and, for CSCV, sums
-- of returns and squared returns over `blocks` contiguous blocks of floor(T / blocks)
-- returns (the oldest T mod blocks returns are left out so the blocks are equal, as CSCV
-- requires): {t, sr, skew, kurt, block_len, block_sum = {...}, block_sum2 = {...}}. One
-- implementation, in C (gt_opt_moments), for this and every search.
function M.moments(equity, n, blocks)
  local out = ffi.new("double[?]", MOM_MAX)
  local k = tonumber(C.gt_opt_moments(require("gt.series").raw(equity), n, blocks or 0, out))
  if k < 0 then error("optimize.moments: " .. gtffi.errmsg(k), 2) end
  local rec = set_moments({}, out, k)
  if rec.nblocks > 0 then
    local a, b, nb = {}, {}, rec.nblocks
    for j = 1, nb do a[j], b[j] = out[4 + j], out[4 + nb + j] end
    rec.block_sum, rec.block_sum2 = a, b
  end
  return rec
end

-- cscv(list, blocks) -> {pbo =, logits =, splits =} from a list of per-strategy block sums
-- ({sum = {...}, sum2 = {...}} with `blocks` entries each) of equal block length len; nil,
-- message when there are fewer than 2 strategies. Bailey, Borwein, Lopez de Prado and Zhu,
-- "The Probability of Backtest Overfitting" (2015): PBO = share of splits whose best
-- in-sample strategy ranks at or below the median out of sample (logit <= 0), over the
-- splits that select one (where every strategy ties in sample, as when none trades, the
-- split is left out; with none left PBO is NaN).
local function cscv(n, blocks, len, fill)
  local splits = tonumber(C.gt_opt_cscv_splits(blocks))
  if splits < 0 then error("optimize: " .. gtffi.errmsg(splits), 3) end
  local sum, sum2 = ffi.new("double[?]", n * blocks), ffi.new("double[?]", n * blocks)
  local cnt = ffi.new("double[?]", blocks)
  for b = 0, blocks - 1 do cnt[b] = len end
  fill(sum, sum2)
  local out = ffi.new("double[?]", splits)
  local k = tonumber(C.gt_opt_cscv(sum, sum2, cnt, n, blocks, out, splits))
  if k < 0 then error("optimize: " .. gtffi.errmsg(k), 3) end
  local over, used, logits = 0, 0, {}
  for i = 0, k - 1 do
    local l = out[i]
    if l == l then
      logits[#logits + 1] = l
      used = used + 1
      if l <= 0 then over = over + 1 end
    end
  end
  return { pbo = used > 0 and over / used or 0 / 0, logits = logits, splits = used }
end

function M.cscv(list, blocks, len)
  local n = #list
  if n < 2 then return nil, "PBO needs at least 2 evaluated combinations" end
  return cscv(n, blocks, len, function(sum, sum2)
    for j = 1, n do
      local e = list[j]
      for b = 1, blocks do
        sum[(j - 1) * blocks + b - 1] = e.sum[b]
        sum2[(j - 1) * blocks + b - 1] = e.sum2[b]
      end
    end
  end)
end

---------------------------------------------------------------------------------------
-- Evaluating combinations
---------------------------------------------------------------------------------------

-- Runs fn with gt.ind's batch functions memoised: a call with the same inputs (arrays by
-- address, which the cache keeps alive) and parameters returns the array computed first,
-- so sma(close, 20) is computed once however many combinations use it.
local function memo_key(parts, v, depth)
  local ty = type(v)
  if ty == "number" then parts[#parts + 1] = ("%.17g"):format(v)
  elseif ty == "cdata" then parts[#parts + 1] = tostring(v)
  elseif ty == "table" then
    if v._c then parts[#parts + 1] = "S" .. tostring(v._c) .. ":" .. tostring(v.n)
    elseif depth > 3 then parts[#parts + 1] = tostring(v)
    else
      parts[#parts + 1] = "{"
      for _, k in ipairs(sorted_keys(v)) do
        parts[#parts + 1] = tostring(k) .. "="
        memo_key(parts, v[k], depth + 1)
      end
      parts[#parts + 1] = "}"
    end
  else parts[#parts + 1] = tostring(v) end
  parts[#parts + 1] = ","
end

-- The fast way to the same cache: a tree keyed by the arguments themselves (a number, a
-- string, a boolean, a cdata by identity, a series by identity and then its length), with
-- no key text to format: an optimiser calls an indicator or two per combination, and
-- formatting their keys was 5% of a 10,000-combination search. Any other argument (a
-- table of parameters, NaN) takes the text key. nil when v cannot be a tree key.
local NIL, RESULT = {}, {}
local function child(node, v)
  local ty, k = type(v), v
  if ty == "table" then
    if not v._c then return nil end
    local c = node[v]
    if not c then c = {}; node[v] = c end
    node, k = c, v.n
  elseif ty == "nil" then k = NIL
  elseif ty == "number" then
    if v ~= v then return nil end
  elseif ty ~= "cdata" and ty ~= "string" and ty ~= "boolean" then
    return nil
  end
  local nx = node[k]
  if not nx then nx = {}; node[k] = nx end
  return nx
end

local function with_ind_cache(fn, ...)
  local ind = require "gt.ind"
  local saved, cache = {}, {}
  local names = {}
  for _, e in ipairs(ind.list()) do names[#names + 1] = e.name end
  for a in pairs(ind.aliases or {}) do names[#names + 1] = a end
  for _, name in ipairs(names) do
    local f = ind[name]
    if type(f) == "function" and not saved[name] then
      saved[name] = f
      local root = {} -- this indicator's tree, by argument count first
      ind[name] = function(...)
        local nargs = select("#", ...)
        if nargs <= 4 then
          local a1, a2, a3, a4 = ...
          local node = root[nargs]
          if not node then node = {}; root[nargs] = node end
          if nargs >= 1 then node = child(node, a1) end
          if node and nargs >= 2 then node = child(node, a2) end
          if node and nargs >= 3 then node = child(node, a3) end
          if node and nargs >= 4 then node = child(node, a4) end
          if node then
            local hit = node[RESULT]
            if hit then return hit[1], hit[2] end
            local r1, r2 = f(...)
            node[RESULT] = { r1, r2 } -- the tree's keys keep the inputs alive
            return r1, r2
          end
        end
        local parts = { name, "(" }
        local args = { ... }
        for i = 1, select("#", ...) do memo_key(parts, args[i], 0) end
        local key = table.concat(parts)
        local hit = cache[key]
        if hit then return hit[1], hit[2] end
        local r1, r2 = f(...)
        cache[key] = { r1, r2, args } -- args keep the inputs (and so their addresses) alive
        return r1, r2
      end
    end
  end
  local res = { pcall(fn, ...) }
  for name, f in pairs(saved) do ind[name] = f end
  if not res[1] then error(res[2], 0) end
  return unpack(res, 2, table.maxn(res))
end
M._with_ind_cache = with_ind_cache

M.check_grid = check_grid

local function objective_fn(obj)
  obj = obj or "sharpe"
  if type(obj) == "function" then return obj, "custom" end
  local field = M.OBJECTIVES[obj]
  if not field then
    error(("optimize: objective '%s' is sharpe, return, calmar, sortino or a function(stats)"):format(tostring(obj)), 4)
  end
  return function(stats) return stats[field] end, obj
end

local function run_opts(o)
  local r = {}
  for _, k in ipairs(RUN_KEYS) do if o[k] ~= nil then r[k] = o[k] end end
  for k, v in pairs(o.costs or {}) do r[k] = v end
  return r
end

-- One combination: a backtest with params merged into the strategy's defaults, through
-- gt.backtest.run_stats (statistics read from the engine in C, nothing else built). Returns a
-- plain record {params, stats, score, t, sr, skew, kurt, block_len, mom, nmom}; bench: the
-- data's per-bar close returns (bench_returns), shared by every combination.
local function evaluate(strategy, data, params, ropts, objf, blocks, bench)
  local o = {}
  for k, v in pairs(ropts) do o[k] = v end
  o.params = params
  local stats, mom, k = require("gt.backtest").run_stats(strategy, data, o,
    { blocks = blocks, bench_ret = bench and bench.ret, scratch = bench and bench.scratch,
      target_out = bench and bench.target })
  if not stats then return { params = params, error = mom, score = NAN } end
  local rec = set_moments({ params = params, stats = stats }, mom, k)
  local score = objf(stats)
  rec.score = type(score) == "number" and score or NAN
  return rec
end

-- What every combination on series s shares: the close's per-bar returns (n - 1 doubles),
-- which every backtest's benchmark statistics divide out, room for a run's own returns, and
-- an array a vectorised strategy may fill with its targets; once per search instead of once
-- per combination.
local function bench_returns(s)
  local gs = require "gt.series"
  local ret, scratch = gs.array(math.max(s.n - 1, 1)), gs.array(math.max(s.n - 1, 1))
  C.gt_opt_returns(gs.raw(s.close), s.n, ret.p)
  return { ret = ret.p, scratch = scratch.p, target = gs.array(s.n), keep = { ret, scratch } }
end
M._evaluate = evaluate

-- results sorted best first by score (NaN last); ties keep the enumeration order
local function sort_results(list)
  for i, r in ipairs(list) do r.index = r.index or i end
  table.sort(list, function(a, b)
    local x, y = a.score, b.score
    if x ~= x then x = -math.huge end
    if y ~= y then y = -math.huge end
    if x ~= y then return x > y end
    return a.index < b.index
  end)
  return list
end

-- DSR of the best result and PBO over all of them, into res
local function overfitting(res, blocks)
  local list = res.results
  local ok = {}
  for _, r in ipairs(list) do if r.sr == r.sr then ok[#ok + 1] = r end end
  local best = res.best
  if best and best.sr == best.sr and #ok >= 1 then
    local mean, v = 0, 0
    for _, r in ipairs(ok) do mean = mean + r.sr end
    mean = mean / #ok
    for _, r in ipairs(ok) do v = v + (r.sr - mean) ^ 2 end
    v = #ok > 1 and v / (#ok - 1) or 0
    res.dsr, res.sr0 = M.dsr { sr = best.sr, t = best.t, skew = best.skew, kurt = best.kurt,
      trials = #list, var_sr = v }
  else
    res.dsr, res.sr0 = NAN, NAN
  end
  local with, len = {}, nil
  for _, r in ipairs(list) do
    if r.nblocks and r.nblocks == blocks and r.block_len > 0 then
      with[#with + 1] = r
      len = r.block_len
    end
  end
  if blocks and #with >= 2 and res.interrupted then
    -- after Ctrl-C the user is waiting: CSCV over a large grid takes a second or more, and
    -- a resumed run computes it over every combination anyway
    res.pbo = NAN
    res.pbo_note = "interrupted: PBO is computed when the search completes"
  elseif blocks and #with >= 2 then
    local c = cscv(#with, blocks, len, function(sum, sum2)
      for j = 1, #with do
        local p, o = with[j].mom, (j - 1) * blocks
        for b = 0, blocks - 1 do sum[o + b], sum2[o + b] = p[5 + b], p[5 + blocks + b] end
      end
    end)
    res.pbo, res.pbo_splits = c.pbo, c.splits
    if c.splits == 0 then res.pbo_note = "PBO needs combinations that differ in sample; every one ties (no trades?)" end
  else
    res.pbo = NAN
    res.pbo_note = blocks and "PBO needs at least 2 combinations and 2 returns per block" or nil
  end
end

local function load_source(src)
  local data = require "gt.data"
  if src.file then return data.load(src.file, { symbol = src.symbol, timeframe = src.timeframe }) end
  return data.load({ symbol = src.symbol, timeframe = src.timeframe or "1d", db = src.db })
end
M._load_source = load_source

-- The statistics a record carries, in this order (saved rows and worker records).
M.STATS_KEYS = {}
for i, f in ipairs(require("gt.metrics").FIELDS) do M.STATS_KEYS[i] = f.key end
local NSTATS = #M.STATS_KEYS

-- One record as a worker sends it: "R", two int32 (the item and the count of doubles), then
-- the doubles: the statistics (STATS_KEYS order) and the moments (gt_opt_moments' layout).
-- Bytes, not text, so every bit (NaN included) arrives as computed and nothing is
-- formatted or parsed. A combination the backtest refuses is a line "X <item> <message>".
local hdr_out = ffi.new("int32_t[2]")
local function write_rec(out, item, rec, buf)
  if rec.error then
    out:write("X ", item, " ", (tostring(rec.error):gsub("\n", " ")), "\n")
    return
  end
  local st, keys = rec.stats, M.STATS_KEYS
  for q = 1, NSTATS do
    local v = st[keys[q]]
    buf[q - 1] = type(v) == "number" and v or NAN
  end
  ffi.copy(buf + NSTATS, rec.mom, rec.nmom * 8)
  local nv = NSTATS + rec.nmom
  hdr_out[0], hdr_out[1] = item, nv
  out:write("R", ffi.string(hdr_out, 8), ffi.string(buf, nv * 8))
end

-- A worker's record as the parent keeps it: its doubles in one array (the moments point
-- into it), the statistics table made from them the first time rec.stats is read (the
-- sort and the overfitting statistics need only the score and the moments, and a
-- 10,000-combination search decoding every table on arrival was an eighth of its CPU).
local STAT_INDEX = {}
for i, k in ipairs(M.STATS_KEYS) do STAT_INDEX[k] = i - 1 end
local lazy_stats = {
  __index = function(rec, k)
    if k ~= "stats" then return nil end
    local p, st = rawget(rec, "_raw"), {}
    for q = 1, NSTATS do st[M.STATS_KEYS[q]] = p[q - 1] end
    rawset(rec, "stats", st)
    return st
  end,
}

-- A worker's record back into the one the parent would have made: params are the parent's
-- own, the score its objective of the statistics (field: the objective's index in them,
-- or nil for a function of the whole table).
local function decode_rec(ptr, nv, params, objf, field)
  local p = ffi.new("double[?]", nv)
  ffi.copy(p, ptr, nv * 8)
  local rec = setmetatable(set_moments({ params = params, _raw = p }, p + NSTATS, nv - NSTATS), lazy_stats)
  local score
  if field then score = p[field] else score = objf(rec.stats) end
  rec.score = type(score) == "number" and score or NAN
  return rec
end

-- Spreads items 1..nitems over nworkers child processes forked from this one: a child
-- starts with the parent's memory (the bars, the strategy, its indicators so far), so
-- nothing is reloaded, re-parsed or copied up front, and a fork costs about a millisecond
-- where starting this binary and reloading a million bars cost a third of a second. The
-- children claim runs of items from a counter they share (a worker on a core that other
-- work slows claims fewer), evaluate each through eval(j) -> record and write it to their
-- own file, which the parent polls (for progress); a child then leaves with
-- _exit, so nothing of the parent (its database handle, its buffers) is touched or
-- flushed twice. params_of(j) gives item j's parameters for the parent's copy of the record.
-- Returns the records by item and, on Ctrl-C, those that finished and interrupted = true.
local function run_workers(nitems, nworkers, eval, progress, params_of, objf, field)
  local tmp = os.tmpname()
  local outs, pids, handles, buf = {}, {}, {}, {}
  local counter = C.gt_opt_counter_new()
  if counter == nil then os.remove(tmp); error("optimize: " .. gtffi.errmsg(), 0) end
  -- runs of about a 64th of a worker's share: few claims, and an even finish
  local run = math.max(1, math.floor(nitems / (nworkers * 64)))
  io.stdout:flush(); io.stderr:flush()
  for k = 0, nworkers - 1 do
    outs[k] = tmp .. "." .. k
    local f = assert(io.open(outs[k], "wb"))
    f:close()
    local pid = tonumber(C.gt_opt_fork())
    if pid == 0 then
      -- the child: never returns into the parent's code
      local code = 0
      local ok, err = pcall(function()
        local out = assert(io.open(outs[k], "ab"))
        local rbuf = ffi.new("double[?]", NSTATS + MOM_MAX)
        with_ind_cache(function()
          while true do
            local j0 = tonumber(C.gt_opt_counter_take(counter, run)) + 1
            if j0 > nitems then break end
            for j = j0, math.min(nitems, j0 + run - 1) do
              write_rec(out, j, eval(j), rbuf)
            end
            out:flush()
          end
        end)
        out:write("EXIT 0\n")
        out:close()
      end)
      if not ok then
        code = 1
        pcall(function()
          local out = io.open(outs[k], "ab")
          out:write("ERR ", (tostring(err):gsub("\n", " ")), "\nEXIT 1\n")
          out:close()
        end)
      end
      C.gt_opt_exit(code)
    end
    if pid < 0 then
      for q = 0, k - 1 do C.gt_opt_kill(pids[q]); C.gt_opt_wait(pids[q], 1) end
      for q = 0, k do os.remove(outs[q]) end
      os.remove(tmp)
      C.gt_opt_counter_free(counter)
      error("optimize: cannot start a worker process: " .. gtffi.errmsg(pid), 0)
    end
    pids[k] = pid
  end
  local recs, finished, failure = {}, {}, nil
  local interrupted = false
  local hdr_in = ffi.new("int32_t[2]")
  local reaped = {}
  local ok, err = pcall(function()
    while true do
      local all = true
      for k = 0, nworkers - 1 do
        if not finished[k] then
          all = false
          -- a child that is gone has written all it will: read to the end once more
          -- (reaped once: its pid may be another process's afterwards)
          if not reaped[k] and C.gt_opt_wait(pids[k], 0) >= 0 then reaped[k] = true end
          local gone = reaped[k]
          handles[k] = handles[k] or io.open(outs[k], "rb")
          local h = handles[k]
          local chunk = h and h:read("*a")
          if chunk and #chunk > 0 then
            -- records ("R" and their bytes) and text lines
            local text = (buf[k] or "") .. chunk
            local base, len, pos = ffi.cast("const uint8_t *", text), #text, 1
            while pos <= len do
              if text:byte(pos) == 82 then -- "R"
                if len - pos < 8 then break end -- its header has not all arrived
                ffi.copy(hdr_in, base + pos, 8)
                local j, nv = hdr_in[0], hdr_in[1]
                if len - pos - 8 < nv * 8 then break end -- nor its doubles
                local rec = decode_rec(base + pos + 8, nv, params_of(j), objf, field)
                recs[j] = rec
                if progress then progress(j, rec) end
                pos = pos + 9 + nv * 8
              else
                local e = text:find("\n", pos, true)
                if not e then break end
                local line = text:sub(pos, e - 1)
                pos = e + 1
                local code = line:match("^EXIT (%d+)$")
                local xj, msg = line:match("^X (%d+) (.*)$")
                if code then
                  finished[k] = true
                  if code ~= "0" and not failure then failure = "worker " .. k .. " exited with status " .. code end
                elseif xj then
                  xj = tonumber(xj)
                  recs[xj] = { params = params_of(xj), error = msg, score = NAN }
                  if progress then progress(xj, recs[xj]) end
                elseif line:sub(1, 4) == "ERR " then failure = failure or line:sub(5)
                end
              end
            end
            buf[k] = text:sub(pos)
          end
          if gone and not finished[k] and not (chunk and #chunk > 0) then
            finished[k] = true
            failure = failure or ("worker " .. k .. " ended without finishing (killed?)")
          end
        end
      end
      if all then break end
      C.gt_opt_sleep(0.005)
    end
  end)
  if not ok then
    interrupted = tostring(err):find("interrupted") ~= nil
    if not interrupted then failure = failure or tostring(err) end
    -- the interrupt may have been seen first by a C loop: disarm the host's hook so it does
    -- not fire again in the cleanup that keeps what finished
    debug.sethook()
  end
  for k = 0, nworkers - 1 do
    if not reaped[k] then
      if not finished[k] then C.gt_opt_kill(pids[k]) end
      C.gt_opt_wait(pids[k], 1) -- reap it: no zombie outlives the search
    end
    if handles[k] then handles[k]:close() end
    os.remove(outs[k])
  end
  os.remove(tmp)
  C.gt_opt_counter_free(counter)
  if failure and not interrupted then error("optimize: a worker failed: " .. failure, 0) end
  return recs, interrupted
end

-- Which of the combinations 1..total this search evaluates: shard = {k, n} keeps those with
-- (i - 1) % n == k - 1; done = {records} (a resumed run) are not evaluated again.
local function todo_list(total, shard, done)
  local have = {}
  for _, r in ipairs(done or {}) do have[r.index] = true end
  local list = {}
  for i = 1, total do
    if not have[i] and (not shard or (i - 1) % shard[2] == shard[1] - 1) then list[#list + 1] = i end
  end
  return list
end

-- The common part of grid and random: evaluate combos (serially or in workers), sort, and
-- add DSR and PBO. Every record's index is its 1-based position in combos, whatever the
-- shard, the worker or the order the results arrive in.
local function search(o, strategy, combos, skipped, kind)
  local objf, objname = objective_fn(o.objective)
  local blocks = o.pbo_blocks == nil and 16 or o.pbo_blocks
  if blocks == false then blocks = nil end
  local ropts = run_opts(o)
  local jobs = o.jobs or 1
  if type(jobs) ~= "number" or jobs < 1 or jobs ~= math.floor(jobs) then
    error("optimize: jobs must be a whole number >= 1, got " .. tostring(jobs), 3)
  end
  local shard = o.shard
  if shard ~= nil and not (type(shard) == "table" and shard[2] >= 1 and shard[1] >= 1 and shard[1] <= shard[2]) then
    error("optimize: shard is {k, n} with 1 <= k <= n", 3)
  end
  C.gt_opt_keep_memory()
  local todo = todo_list(#combos, shard, o.done)
  local results = {}
  for _, r in ipairs(o.done or {}) do results[#results + 1] = r end
  if jobs > #todo then jobs = math.max(1, #todo) end
  local data = o.data
  local interrupted = false
  local best
  local total = #todo + #results
  for _, r in ipairs(results) do
    if r.score == r.score and (not best or r.score > best.score) then best = r end
  end
  local ndone = #results
  local function tick(rec)
    ndone = ndone + 1
    if rec.score == rec.score and (not best or rec.score > best.score) then best = rec end
    if o.on_result then o.on_result(rec) end
    if o.progress then o.progress(ndone, total, best) end
  end
  if jobs > 1 then
    local bench = bench_returns(data)
    local recs
    recs, interrupted = run_workers(#todo, jobs, function(j)
      return evaluate(strategy, data, combos[todo[j]], ropts, objf, blocks, bench)
    end, function(j, rec)
      rec.index = todo[j]
      tick(rec)
    end, function(j) return combos[todo[j]] end, objf, STAT_INDEX[M.OBJECTIVES[objname]])
    for j, i in ipairs(todo) do
      local r = recs[j]
      if r then r.index = i; results[#results + 1] = r end
    end
  else
    local bench = bench_returns(data)
    local ok, err = pcall(with_ind_cache, function()
      for _, i in ipairs(todo) do
        local rec = evaluate(strategy, data, combos[i], ropts, objf, blocks, bench)
        rec.index = i
        results[#results + 1] = rec
        tick(rec)
      end
    end)
    if not ok then
      if tostring(err):find("interrupted", 1, true) then interrupted = true else error(err, 0) end
      debug.sethook() -- as in run_workers: the hook must not fire again while results are saved
    end
  end
  sort_results(results)
  local res = { kind = kind, strategy = strategy.name, objective = objname, results = results,
    best = results[1], total = #combos, evaluated = #results, skipped = skipped,
    interrupted = interrupted or nil, pbo_blocks = blocks, shard = shard, combos = combos }
  overfitting(res, blocks)
  return res
end
M._overfitting = overfitting
M._sort_results = sort_results

-- The caller's options table is left as it was: common works on a copy (returned third).
local function common(o, name)
  if type(o) ~= "table" then error(("optimize.%s takes a table {strategy =, data =, ...}"):format(name), 3) end
  local copy = {}
  for k, v in pairs(o) do copy[k] = v end
  o = copy
  local strategy = require("gt.strategy").get(o.strategy)
  if o.data == nil and o.source then
    local d, err = load_source(o.source)
    if not d then return nil, err end
    o.data = d
  end
  if type(o.data) == "string" then
    o.source = o.source or { file = o.data }
    local d, err = require("gt.data").load(o.data)
    if not d then return nil, err end
    o.data = d
  end
  if type(o.data) ~= "table" then error(("optimize.%s: data must be a series or a file path"):format(name), 3) end
  local grid = {}
  for k, v in pairs(o.grid or strategy.grid or {}) do grid[k] = v end
  return strategy, check_grid(grid, strategy), o
end

-- grid{strategy =, data = series | path, grid = (default: the strategy's), objective =
-- "sharpe" | "return" | "calmar" | "sortino" | function(stats), constraints = fn | {fn...},
-- costs = {backtest options} (or those options at the top level), jobs = 1 (worker
-- processes; they need a strategy file and a named objective), pbo_blocks = 16 (false: no
-- PBO), shard = {k, n}, done = {records of a resumed run}, on_result = fn(record), progress =
-- fn(done, total, best)} -> {results (best first: params, stats, score, index), best, dsr,
-- sr0, pbo, total, evaluated, skipped, interrupted}; nil, message when the data cannot be
-- loaded.
function M.grid(o)
  local strategy, grid, oc = common(o, "grid")
  o = oc
  if not strategy then return nil, grid end
  local combos, skipped = M.combinations(grid, o.constraints)
  return search(o, strategy, combos, skipped, "grid")
end

-- random_combos(grid, constraints, n, seed) -> n distinct allowed combinations drawn without
-- replacement (all of them when the grid has n or fewer), in a seeded, reproducible order;
-- and the number the constraints skipped.
function M.random_combos(grid, constraints, n, seed)
  if type(n) ~= "number" or n < 1 or n ~= math.floor(n) then error("optimize.random: n must be a whole number >= 1", 3) end
  local all, skipped = M.combinations(grid, constraints)
  -- a small LCG (Knuth's MMIX-style constants mod 2^32, exact in doubles) so the draw is the
  -- same on every platform and in every process
  local state = (seed or 1) % 4294967296
  local function rnd(k)
    state = (state * 1664525 + 1013904223) % 4294967296
    return math.floor(state / 4294967296 * k) + 1
  end
  for i = #all, 2, -1 do
    local j = rnd(i)
    all[i], all[j] = all[j], all[i]
  end
  local combos = {}
  for i = 1, math.min(n, #all) do combos[i] = all[i] end
  return combos, skipped
end

-- random{..., n =, seed = 1}: the grid search over random_combos(grid, constraints, n, seed).
function M.random(o)
  local strategy, grid, oc = common(o, "random")
  o = oc
  if not strategy then return nil, grid end
  local combos, skipped = M.random_combos(grid, o.constraints, o.n, o.seed)
  return search(o, strategy, combos, skipped, "random")
end

-- search_combos(o, kind, skipped): a search over an explicit list o.combos (the CLI builds
-- it once, so a shard or a resume sees the same enumeration); o.data is a series.
function M.search_combos(o, kind, skipped)
  local strategy = require("gt.strategy").get(o.strategy)
  if type(o.combos) ~= "table" then error("optimize.search_combos: combos must be a list of params", 2) end
  return search(o, strategy, o.combos, skipped, kind)
end

---------------------------------------------------------------------------------------
-- Saved runs: the optimizations and optimization_results tables (engine/store.c's
-- migrations make them; engine/optimize.c reads and writes them)
---------------------------------------------------------------------------------------

-- The data's identity: gt_series_hash of every bar (hex).
function M.data_hash(s)
  local buf = ffi.new("char[17]")
  C.gt_series_hash(s._c, buf)
  return ffi.string(buf)
end

-- The moments a record carries into the database, as one array of doubles:
-- t, sr, skew, kurt, block_len, block sums (blocks), block sums of squares (blocks).
local function pack_moments(rec)
  if rec.mom then return rec.mom, rec.nmom end
  local v = { rec.t or NAN, rec.sr or NAN, rec.skew or NAN, rec.kurt or NAN, 0 }
  return ffi.new("double[?]", #v, v), #v
end

local function unpack_moments(rec, p, n)
  local m = ffi.new("double[?]", math.max(n, 5))
  ffi.copy(m, p, n * 8)
  if n < 5 then for i = n, 4 do m[i] = i == 4 and 0 or NAN end; n = 5 end
  set_moments(rec, m, n)
end

local DB = {}
DB.__index = DB

-- open_db(path) -> handle, or nil and a message. The store's migrations run first.
function M.open_db(path)
  local st, err = require("gt.store").open(path)
  if not st then return nil, err end
  st:close()
  local h = C.gt_db_open(path, 0)
  if h == nil then return nil, gtffi.errmsg() end
  return setmetatable({ h = ffi.gc(h, C.gt_db_close), path = path }, DB)
end

function DB:close()
  if self.h then C.gt_db_close(ffi.gc(self.h, nil)); self.h = nil end
end

local function dbcheck(rc)
  if rc < 0 then error(gtffi.errmsg(rc), 0) end
  return rc
end

-- Runs sql with binds (numbers as REAL or, when integral and tagged {int = v}, INTEGER;
-- strings as TEXT; {blob = ptr, n = count}); row(h) is called for each result row.
function DB:query(sql, binds, row)
  local h = self.h
  dbcheck(C.gt_db_prepare(h, sql))
  for i, v in ipairs(binds or {}) do
    if type(v) == "string" then dbcheck(C.gt_db_bind_text(h, i, v, #v))
    elseif type(v) == "number" then dbcheck(C.gt_db_bind_double(h, i, v))
    elseif type(v) == "table" and v.int then dbcheck(C.gt_db_bind_int(h, i, v.int))
    elseif type(v) == "table" and v.blob then dbcheck(C.gt_db_bind_blob(h, i, v.blob, v.n))
    else error("optimize db: cannot bind a " .. type(v), 2) end
  end
  while dbcheck(C.gt_db_step(h)) == 1 do
    if row then row(h) end
  end
end

function DB:exec(sql) dbcheck(C.gt_db_exec(self.h, sql)) end

local len_buf = ffi.new("int64_t[1]")
local function col_text(h, i)
  local p = C.gt_db_text(h, i, len_buf)
  if p == nil then return nil end
  return ffi.string(p, len_buf[0])
end
M._col_text = col_text

-- create(meta) -> id: meta = {kind, strategy, data, data_hash, spec (JSON text), total}
function DB:create(meta)
  self:query("INSERT INTO optimizations(created_at, kind, strategy, data, data_hash, spec, total, status)"
    .. " VALUES (?,?,?,?,?,?,?,'running')", { { int = require("gt.time").now() }, meta.kind, meta.strategy,
      meta.data, meta.data_hash, meta.spec, { int = meta.total } })
  return tonumber(C.gt_db_last_id(self.h))
end

-- A run not finished with the same search on the same data, to resume: its id or nil.
function DB:resumable(meta)
  local id
  self:query("SELECT id FROM optimizations WHERE kind = ? AND strategy = ? AND data_hash = ? AND spec = ?"
    .. " AND status <> 'done' ORDER BY id DESC LIMIT 1", { meta.kind, meta.strategy, meta.data_hash, meta.spec },
    function(h) id = tonumber(C.gt_db_int(h, 0)) end)
  return id
end

-- The statistics a row stores, in this order, as one BLOB of doubles (28 fields: 224 bytes
-- where their JSON takes about 900), with the four most asked-for also as columns.
function DB:put(id, rec)
  local json = require "gt.json"
  local m, n = pack_moments(rec)
  local st, keys = rec.stats or {}, M.STATS_KEYS
  local sv = ffi.new("double[?]", #keys)
  for i, k in ipairs(keys) do sv[i - 1] = type(st[k]) == "number" and st[k] or NAN end
  self:query("INSERT OR REPLACE INTO optimization_results(opt_id, idx, params, score, sharpe, return_pct,"
    .. " max_drawdown_pct, num_trades, stats, moments) VALUES (?,?,?,?,?,?,?,?,?,?)",
    { { int = id }, { int = rec.index }, json.encode(rec.params), rec.score, st.sharpe or NAN, st.return_pct or NAN,
      st.max_drawdown_pct or NAN, st.num_trades or NAN, { blob = sv, n = #keys }, { blob = m, n = n } })
end

function DB:finish(id, status, summary)
  self:query("UPDATE optimizations SET status = ?, summary = ? WHERE id = ?",
    { status, require("gt.json").encode(summary), { int = id } })
end

-- meta of run id (nil when there is none): {id, created_at, kind, strategy, data, data_hash,
-- spec (text), total, status, summary (text or nil)}
function DB:run(id)
  local meta
  self:query("SELECT id, created_at, kind, strategy, data, data_hash, spec, total, status, summary"
    .. " FROM optimizations WHERE id = ?", { { int = id } }, function(h)
      meta = { id = tonumber(C.gt_db_int(h, 0)), created_at = tonumber(C.gt_db_int(h, 1)),
        kind = col_text(h, 2), strategy = col_text(h, 3), data = col_text(h, 4), data_hash = col_text(h, 5),
        spec = col_text(h, 6), total = tonumber(C.gt_db_int(h, 7)), status = col_text(h, 8),
        summary = col_text(h, 9) }
    end)
  return meta
end

function DB:ids()
  local ids = {}
  self:query("SELECT id FROM optimizations ORDER BY id", nil, function(h) ids[#ids + 1] = tonumber(C.gt_db_int(h, 0)) end)
  return ids
end

-- The saved records of run id, in index order.
function DB:records(id)
  local json = require "gt.json"
  local out = {}
  local pm = ffi.new("const double *[1]")
  local keys = M.STATS_KEYS
  self:query("SELECT idx, params, score, stats, moments FROM optimization_results WHERE opt_id = ? ORDER BY idx",
    { { int = id } }, function(h)
      local rec = { index = tonumber(C.gt_db_int(h, 0)), params = json.decode(col_text(h, 1)),
        score = C.gt_db_double(h, 2), stats = {} }
      local k = tonumber(C.gt_db_blob(h, 3, pm))
      if k ~= #keys then
        error(("optimization %d, combination %d: %d statistics saved, this gtengine knows %d (saved by another "
          .. "version: rerun the search)"):format(id, rec.index, k, #keys), 0)
      end
      for i, key in ipairs(keys) do rec.stats[key] = pm[0][i - 1] end
      local n = tonumber(C.gt_db_blob(h, 4, pm))
      unpack_moments(rec, pm[0], n)
      out[#out + 1] = rec
    end)
  return out
end

-- The result of a saved run rebuilt from its rows: sorted, with DSR and PBO recomputed
-- exactly as the search computed them.
function M.from_records(meta, records, spec)
  local res = { kind = meta.kind, strategy = meta.strategy, objective = spec.objective, results = records,
    total = meta.total, evaluated = #records, skipped = spec.skipped, pbo_blocks = spec.pbo_blocks or nil }
  sort_results(records)
  res.best = records[1]
  overfitting(res, res.pbo_blocks)
  return res
end

-- The plain summary a run stores beside its rows (and --json prints).
function M.summary(res)
  local b = res.best
  return { kind = res.kind, strategy = res.strategy, objective = res.objective, total = res.total,
    evaluated = res.evaluated, skipped = res.skipped, dsr = res.dsr, sr0 = res.sr0, pbo = res.pbo,
    pbo_blocks = res.pbo_blocks, pbo_splits = res.pbo_splits,
    best = b and { params = b.params, score = b.score, stats = b.stats, index = b.index } or nil }
end

---------------------------------------------------------------------------------------
-- Walk-forward
---------------------------------------------------------------------------------------

local DAY = 86400e6

-- days from civil (Howard Hinnant's algorithm), for calendar month arithmetic
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * (m + (m > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end
local function civil_from_days(z)
  z = z + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  return m <= 2 and y + 1 or y, m, d
end

-- A window length: a number of bars, or "N" + d (days), w (weeks), m (months), y (years).
-- Returns a function(us) -> us + length for calendar units, or the bar count.
local function parse_len(v, what)
  if type(v) == "number" or (type(v) == "string" and tonumber(v)) then
    local n = tonumber(v)
    if n < 1 or n ~= math.floor(n) then error(("walkforward: %s must be a whole number of bars >= 1, got %s"):format(what, tostring(v)), 4) end
    return n
  end
  local k, unit = tostring(v):match("^(%d+)([dwmy])$")
  if not k then error(("walkforward: %s '%s' is a bar count or N followed by d, w, m or y (e.g. 6m)"):format(what, tostring(v)), 4) end
  k = tonumber(k)
  if k < 1 then error(("walkforward: %s must be at least 1%s"):format(what, unit), 4) end
  if unit == "d" or unit == "w" then
    local len = k * (unit == "w" and 7 or 1) * DAY
    return function(us) return us + len end
  end
  local months = unit == "y" and 12 * k or k
  return function(us)
    local day = math.floor(us / DAY)
    local y, m, d = civil_from_days(day)
    local mm = m - 1 + months
    y, m = y + math.floor(mm / 12), mm % 12 + 1
    return days_from_civil(y, m, d) * DAY + (us - day * DAY)
  end
end

-- The windows over series s: {train_from, test_from, test_to} bar indices (half-open
-- test_from..test_to - 1; training train_from..test_from - 1).
function M.windows(s, train, test, step, anchored)
  local tr, te = parse_len(train, "train"), parse_len(test, "test")
  local st = step ~= nil and parse_len(step, "step") or te
  if (type(tr) == "number") ~= (type(te) == "number") or (type(st) == "number") ~= (type(te) == "number") then
    error("walkforward: train, test and step are all bar counts or all calendar lengths", 3)
  end
  local n, out = s.n, {}
  if type(tr) == "number" then
    local a = 0
    while a + tr + te <= n do
      out[#out + 1] = { train_from = anchored and 0 or a, test_from = a + tr, test_to = a + tr + te }
      a = a + st
    end
    return out
  end
  local lb = function(t) return tonumber(C.gt_series_lower_bound(s._c, t)) end
  local t0 = tonumber(s.ts[0])
  local last = tonumber(s.ts[n - 1])
  local a = t0
  while true do
    local b = tr(a)
    local c = te(b)
    if c > last + 1 then break end
    local ia, ib, ic = lb(a), lb(b), lb(c)
    if ib > ia and ic > ib then
      out[#out + 1] = { train_from = anchored and 0 or ia, test_from = ib, test_to = ic }
    end
    a = st(a)
  end
  return out
end

local function mean_sd(xs)
  local n, m = #xs, 0
  if n == 0 then return NAN, NAN end
  for _, x in ipairs(xs) do m = m + x end
  m = m / n
  local v = 0
  for _, x in ipairs(xs) do v = v + (x - m) ^ 2 end
  return m, math.sqrt(v / n)
end

-- walkforward{strategy =, data =, grid =, objective =, constraints =, costs =, train =,
-- test =, step = test, anchored = false}: per window, the grid's best combination on the
-- training bars, then that combination traded on the test bars (its indicators warm up on
-- the training bars; nothing after the test window is ever passed in). Returns {windows =
-- {{train_first, train_last, test_first, test_last (epoch us), params, train, test (stats)}},
-- equity (the stitched out-of-sample curve, a Lua array), ts, oos (its return %),
-- efficiency, consistency, robustness}.
-- The seed's scores: efficiency = mean test return / mean train return (fractions),
-- consistency = 1 / (1 + sd(test returns)) (population sd), robustness =
-- clip(0.6 efficiency + 0.4 consistency, 0, 1).
function M.walkforward(o)
  local strategy, grid, oc = common(o, "walkforward")
  o = oc
  if not strategy then return nil, grid end
  local s = o.data
  if o.train == nil or o.test == nil then error("walkforward: give train = and test = (bars, or e.g. \"1y\", \"3m\")", 2) end
  local wins = M.windows(s, o.train, o.test, o.step, o.anchored)
  if #wins == 0 then
    return nil, ("walkforward: %d bars hold no window of train %s + test %s"):format(s.n, tostring(o.train), tostring(o.test))
  end
  local objf, objname = objective_fn(o.objective)
  local ropts = run_opts(o)
  local combos, skipped = M.combinations(grid, o.constraints)
  local out = { kind = "walkforward", strategy = strategy.name, objective = objname, windows = {}, skipped = skipped,
    combos = #combos }
  local eq, ts = {}, {}
  local capital = ropts.capital or require("gt.backtest").DEFAULTS.capital
  local level = capital
  local trains, tests = {}, {}
  local jobs = o.jobs or 1
  if type(jobs) ~= "number" or jobs < 1 or jobs ~= math.floor(jobs) then
    error("walkforward: jobs must be a whole number >= 1, got " .. tostring(jobs), 2)
  end
  -- Every window's grid is one list of items (window-major): item j is combination
  -- (j - 1) % nc + 1 on the training bars of window floor((j - 1) / nc) + 1. Spread over worker
  -- processes like a grid search (each evaluation is independent, so the results are the
  -- same for any number of them); a window is done when all its combinations are.
  C.gt_opt_keep_memory()
  local nc, slices, per, left = #combos, {}, {}, {}
  for wi, w in ipairs(wins) do
    slices[wi] = s:slice(w.train_from, w.test_from)
    per[wi], left[wi] = {}, nc
  end
  local nwin_done = 0
  local function eval_item(j)
    return evaluate(strategy, slices[math.floor((j - 1) / nc) + 1], combos[(j - 1) % nc + 1], ropts, objf, nil)
  end
  local function got(j, rec)
    local wi, ci = math.floor((j - 1) / nc) + 1, (j - 1) % nc + 1
    rec.index = ci
    per[wi][ci] = rec
    left[wi] = left[wi] - 1
    if left[wi] == 0 and o.progress then
      nwin_done = nwin_done + 1
      sort_results(per[wi])
      o.progress(nwin_done, #wins, per[wi][1])
    end
  end
  local interrupted = false
  local nitems = #wins * nc
  if jobs > 1 and nitems > 1 then
    local _
    _, interrupted = run_workers(nitems, math.min(jobs, nitems), eval_item, got,
      function(j) return combos[(j - 1) % nc + 1] end, objf, STAT_INDEX[M.OBJECTIVES[objname]])
  else
    local ok, err = pcall(with_ind_cache, function()
      for j = 1, nitems do got(j, eval_item(j)) end
    end)
    if not ok then
      if not tostring(err):find("interrupted", 1, true) then error(err, 0) end
      interrupted = true
      debug.sethook() -- the hook must not fire again while what finished is kept
    end
  end
  -- After Ctrl-C the windows whose grids finished still get their (short) test runs: the
  -- interrupt is cleared for them, and a second Ctrl-C stops those too.
  if interrupted then C.gt_clear_interrupt() end
  local tok, terr = pcall(function()
    for wi, w in ipairs(wins) do
      -- the stitched curve needs every window before: stop at the first one not finished
      if left[wi] > 0 then break end
      local results = per[wi]
      sort_results(results)
      local best = results[1]
      -- the test run: bars train_from .. test_to - 1, trading from test_from
      local view = s:slice(w.train_from, w.test_to)
      local ro = {}
      for k, v in pairs(ropts) do ro[k] = v end
      ro.params, ro.start = best.params, tonumber(s.ts[w.test_from])
      local r, err = require("gt.backtest").run(strategy, view, ro)
      local rec = { train_first = tonumber(s.ts[w.train_from]), train_last = tonumber(s.ts[w.test_from - 1]),
        test_first = tonumber(s.ts[w.test_from]), test_last = tonumber(s.ts[w.test_to - 1]),
        train_bars = w.test_from - w.train_from, test_bars = w.test_to - w.test_from,
        params = best.params, train = best.stats, train_score = best.score }
      if r then
        local st = {}
        for k, v in pairs(r.stats) do st[k] = v end
        rec.test, rec.test_score = st, objf(st)
        local e0 = r.equity[0]
        for i = 0, r.n - 1 do
          if not (wi > 1 and i == 0) or #eq == 0 then
            eq[#eq + 1] = level * r.equity[i] / e0
            ts[#ts + 1] = tonumber(r.ts[i])
          end
        end
        level = eq[#eq]
        trains[#trains + 1] = (best.stats.return_pct or 0) / 100
        tests[#tests + 1] = st.return_pct / 100
      else
        rec.error = err
      end
      out.windows[wi] = rec
    end
  end)
  if not tok then
    if not tostring(terr):find("interrupted", 1, true) then error(terr, 0) end
    interrupted = true
    debug.sethook()
  end
  out.interrupted = interrupted or nil
  out.equity, out.ts = eq, ts
  out.oos_return_pct = #eq > 0 and (eq[#eq] / capital - 1) * 100 or NAN
  local mtr = mean_sd(trains)
  local mte, sdte = mean_sd(tests)
  out.efficiency = mtr ~= 0 and mte / mtr or NAN
  out.consistency = 1 / (1 + sdte)
  local rob = 0.6 * out.efficiency + 0.4 * out.consistency
  out.robustness = rob ~= rob and NAN or math.max(0, math.min(1, rob))
  return out
end

return M
