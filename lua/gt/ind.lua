-- gt.ind: technical indicators over arrays (batch) and bar by bar (stream), in C (ind*.c).
--
-- Batch:  local out, n = gt.ind.sma(x, 30)
--   x is a gt series (its close; multi-input indicators take its high/low/close/volume/ts
--   columns), a column (s.close) or checked array (an indicator output, gt.array), a Lua
--   table of numbers (copied), an FFI double array (its length is known), or explicitly a
--   raw pointer followed by the parameters and then n: gt.ind.sma(s.close.p, 30, s.n).
--   Parameters are positional in gt.ind.list() order or one table of names:
--   gt.ind.macd(x, {fast = 8}) (a missing one takes its default; n may go in it too).
--   Multi-input indicators given arrays take them in order: gt.ind.atr(h, l, c, 14).
--   Returns a checked array of n doubles (0-based, NaN during the warm-up; a[i] outside
--   0..n-1 raises, a.n its length, a.p its raw pointer) and n as the second value;
--   multi-output ones return a table of named arrays: macd -> {macd=, signal=, hist=}.
--   One batch is exactly one FFI call into the C kernel.
-- Stream: local s = gt.ind.stream.sma(30); s:update(x) -> value (NaN in the warm-up)
--   multi-input: s:update(h, l, c); multi-output update returns every output in order.
--   s.state is the C struct (its fields hold the last outputs); s:close() frees it early
--   (twice is fine); any other use of a closed stream raises "... is closed".
-- NaN inputs are missing bars: NaN out, state unchanged (see gt_ffi.h).
-- gt.ind.list() describes every indicator: name, group, inputs, params (with defaults),
-- outputs and a one-line description.
local ffi = require "ffi"
local gtffi = require "gt.ffi"
local C = gtffi.C

local M = { stream = {} }

-- Where kernels are looked up; tests swap in a counting proxy to prove one call per batch.
local K = C
function M._backend(b) K = b or C end

local REG = {}

-- e: name, group, inputs, params ({name, default}...), outputs, doc; optional c (C base
-- name), cargs (C argument list: param names or constants), and explicit function names.
local function def(e)
  local base = e.c or e.name
  e.kernel = e.kernel or ("gt_ind_" .. base)
  e.init = e.init or ("gt_ind_" .. base .. "_init")
  e.update = e.update or ("gt_ind_" .. base .. "_update")
  if e.fini == true then e.fini = "gt_ind_" .. base .. "_fini" end
  e.state = e.state or ("gt_ind_" .. base .. "_state")
  e.params = e.params or {}
  e.outputs = e.outputs or { e.name }
  if not e.cargs then
    e.cargs = {}
    for i, p in ipairs(e.params) do e.cargs[i] = p[1] end
  end
  REG[#REG + 1] = e
  return e
end

local SEED = { sma = 0, first = 1 }
local function seed_conv(v)
  local s = SEED[v]
  if not s then error("gt.ind.ema: seed must be 'sma' or 'first', got " .. tostring(v), 4) end
  return s
end
local function bool_conv(v) return v and 1 or 0 end
local KAMA_SEED = { talib = C.GT_KAMA_SEED_TALIB, sma = C.GT_KAMA_SEED_SMA }
local function kama_seed_conv(v)
  local s = KAMA_SEED[v]
  if not s then error("gt.ind.kama: seed must be 'talib' or 'sma', got " .. tostring(v), 4) end
  return s
end
local function ddof_conv(v)
  if v ~= 0 and v ~= 1 then error("gt.ind.stddev: ddof is 0 (population) or 1 (sample), got " .. tostring(v), 4) end
  return v
end

local HLC, HL, HLCV = { "high", "low", "close" }, { "high", "low" }, { "high", "low", "close", "volume" }

-- averages
def { name = "sma", group = "average", inputs = { "x" }, params = { { "period", 30 } }, fini = true,
  doc = "simple moving average" }
def { name = "ema", group = "average", inputs = { "x" }, params = { { "period", 30 }, { "seed", "sma" } },
  conv = { seed = seed_conv },
  doc = "exponential MA, alpha 2/(period+1); seed 'sma' (TA-Lib) or 'first' (pandas adjust=False)" }
def { name = "wma", group = "average", inputs = { "x" }, params = { { "period", 30 } }, fini = true,
  doc = "linearly weighted MA (weights 1..period)" }
def { name = "smma", group = "average", inputs = { "x" }, params = { { "period", 14 } },
  doc = "Wilder's smoothed MA (RMA), alpha 1/period, SMA seed" }
def { name = "dema", group = "average", inputs = { "x" }, params = { { "period", 30 } },
  doc = "double EMA: 2 EMA - EMA(EMA)" }
def { name = "tema", group = "average", inputs = { "x" }, params = { { "period", 30 } },
  doc = "triple EMA: 3 e1 - 3 e2 + e3" }
def { name = "hma", group = "average", inputs = { "x" }, params = { { "period", 16 } }, fini = true,
  doc = "Hull MA: WMA(2 WMA(n/2) - WMA(n), sqrt n)" }
def { name = "kama", group = "average", inputs = { "x" },
  params = { { "period", 10 }, { "fast", 2 }, { "slow", 30 }, { "seed", "talib" } }, fini = true,
  conv = { seed = kama_seed_conv },
  doc = "Kaufman adaptive MA; seed 'talib' (the previous value, smoothed) or 'sma' (backtrader: the mean of period values)" }
def { name = "zlema", group = "average", inputs = { "x" }, params = { { "period", 20 } }, fini = true,
  doc = "zero-lag EMA of 2x - x[t-(period-1)/2]" }
def { name = "trix", group = "average", inputs = { "x" }, params = { { "period", 15 } },
  doc = "1-bar percent change of a triple EMA" }

-- oscillators
def { name = "rsi", group = "oscillator", inputs = { "x" }, params = { { "period", 14 } },
  doc = "relative strength index, Wilder smoothing" }
def { name = "stoch", group = "oscillator", inputs = HLC, c = "stoch", fini = true,
  params = { { "k", 14 }, { "smooth", 3 }, { "d", 3 } }, outputs = { "k", "d" },
  doc = "full stochastic: %K = SMA(raw, smooth), %D = SMA(%K, d)" }
def { name = "stoch_fast", group = "oscillator", inputs = HLC, c = "stoch", fini = true,
  params = { { "k", 14 }, { "d", 3 } }, cargs = { "k", 1, "d" }, outputs = { "k", "d" },
  doc = "fast stochastic: raw %K and its SMA" }
def { name = "stoch_slow", group = "oscillator", inputs = HLC, c = "stoch", fini = true,
  params = { { "k", 14 }, { "d", 3 } }, cargs = { "k", 3, "d" }, outputs = { "k", "d" },
  doc = "slow stochastic: %K = SMA3(raw), %D = SMA(%K, d)" }
def { name = "willr", group = "oscillator", inputs = HLC, params = { { "period", 14 } }, fini = true,
  doc = "Williams %R, -100..0" }
def { name = "cci", group = "oscillator", inputs = HLC, params = { { "period", 20 } }, fini = true,
  doc = "commodity channel index (O(period) per bar)" }
def { name = "macd", group = "oscillator", inputs = { "x" },
  params = { { "fast", 12 }, { "slow", 26 }, { "signal", 9 }, { "talib", false } },
  conv = { talib = bool_conv }, outputs = { "macd", "signal", "hist" },
  doc = "MACD line, EMA signal, histogram; talib=true seeds the fast EMA as TA-Lib" }
def { name = "ppo", group = "oscillator", inputs = { "x" },
  params = { { "fast", 12 }, { "slow", 26 }, { "signal", 9 } }, outputs = { "ppo", "signal", "hist" },
  doc = "percentage price oscillator (EMA based)" }
def { name = "mom", group = "oscillator", inputs = { "x" }, params = { { "period", 10 } }, c = "change",
  cargs = { "period", 0 }, fini = true, doc = "momentum: x - x[t-period]" }
def { name = "roc", group = "oscillator", inputs = { "x" }, params = { { "period", 10 } }, c = "change",
  cargs = { "period", 1 }, fini = true, doc = "rate of change, percent" }
def { name = "pct_change", group = "oscillator", inputs = { "x" }, params = { { "period", 1 } },
  c = "change", cargs = { "period", 2 }, fini = true, doc = "x / x[t-period] - 1, a fraction" }
def { name = "tsi", group = "oscillator", inputs = { "x" }, params = { { "long", 25 }, { "short", 13 } },
  doc = "true strength index" }
def { name = "ultosc", group = "oscillator", inputs = HLC,
  params = { { "p1", 7 }, { "p2", 14 }, { "p3", 28 } }, fini = true, doc = "ultimate oscillator" }
def { name = "ao", group = "oscillator", inputs = HL, params = { { "fast", 5 }, { "slow", 34 } },
  fini = true, doc = "awesome oscillator on the median price" }
def { name = "dpo", group = "oscillator", inputs = { "x" }, params = { { "period", 20 } }, fini = true,
  doc = "detrended price oscillator, x[t-(period/2+1)] - SMA" }
def { name = "aroon", group = "oscillator", inputs = HL, params = { { "period", 14 } }, fini = true,
  outputs = { "up", "down", "osc" }, doc = "Aroon up, down and oscillator" }
def { name = "vortex", group = "oscillator", inputs = HLC, params = { { "period", 14 } }, fini = true,
  outputs = { "plus", "minus" }, doc = "vortex indicator VI+ and VI-" }
def { name = "kst", group = "oscillator", inputs = { "x" }, fini = true,
  params = { { "r1", 10 }, { "r2", 15 }, { "r3", 20 }, { "r4", 30 }, { "s1", 10 }, { "s2", 10 },
    { "s3", 10 }, { "s4", 15 }, { "signal", 9 } },
  cargs = { "*periods" }, outputs = { "kst", "signal" }, doc = "Know Sure Thing and its signal" }
def { name = "mfi", group = "oscillator", inputs = HLCV, params = { { "period", 14 } }, fini = true,
  doc = "money flow index" }

-- volatility and trend
def { name = "trange", group = "volatility", inputs = HLC, doc = "true range (first bar: high - low)" }
def { name = "atr", group = "volatility", inputs = HLC, params = { { "period", 14 } },
  doc = "average true range, Wilder" }
def { name = "bbands", group = "volatility", inputs = { "x" }, params = { { "period", 20 }, { "k", 2 } },
  fini = true, outputs = { "mid", "upper", "lower", "pctb", "width" },
  doc = "Bollinger bands (population stddev), %b and width" }
def { name = "stddev", group = "volatility", inputs = { "x" }, params = { { "period", 20 }, { "ddof", 0 } },
  fini = true, conv = { ddof = ddof_conv },
  doc = "rolling standard deviation: ddof 0 population (TA-Lib), 1 sample (pandas)" }
def { name = "zscore", group = "volatility", inputs = { "x" }, params = { { "period", 20 } }, fini = true,
  doc = "(x - mean) / stddev over period" }
def { name = "keltner", group = "volatility", inputs = HLC,
  params = { { "period", 20 }, { "atr_period", 10 }, { "mult", 2 } }, outputs = { "mid", "upper", "lower" },
  doc = "Keltner channel: EMA +- mult ATR" }
def { name = "donchian", group = "volatility", inputs = HL, params = { { "period", 20 } }, fini = true,
  outputs = { "upper", "lower", "mid" }, doc = "Donchian channel" }
def { name = "adx", group = "trend", inputs = HLC, params = { { "period", 14 } },
  outputs = { "adx", "pdi", "mdi" }, doc = "ADX with +DI and -DI (Wilder, as TA-Lib)" }
def { name = "sar", group = "trend", inputs = HL, params = { { "accel", 0.02 }, { "max", 0.2 } },
  doc = "parabolic SAR" }

-- volume
def { name = "obv", group = "volume", inputs = { "close", "volume" }, doc = "on-balance volume" }
def { name = "vwap", group = "volume", inputs = { "ts", "high", "low", "close", "volume" },
  params = { { "offset", 0 } }, doc = "session VWAP; sessions are UTC days shifted by offset (us)" }
def { name = "rvwap", group = "volume", inputs = HLCV, params = { { "period", 20 } }, fini = true,
  doc = "rolling VWAP over period bars" }
def { name = "ad", group = "volume", inputs = HLCV, doc = "accumulation/distribution line" }

-- utilities
def { name = "highest", group = "utility", inputs = { "x" }, params = { { "period", 20 } },
  state = "gt_ind_minmax", update = "gt_ind_minmax_update", fini = "gt_ind_minmax_fini",
  doc = "highest value over period" }
def { name = "lowest", group = "utility", inputs = { "x" }, params = { { "period", 20 } },
  state = "gt_ind_minmax", update = "gt_ind_minmax_update", fini = "gt_ind_minmax_fini",
  doc = "lowest value over period" }
def { name = "sum", group = "utility", inputs = { "x" }, params = { { "period", 20 } },
  state = "gt_ind_sma_state", fini = "gt_ind_sma_fini", doc = "rolling sum" }
def { name = "cross_over", group = "utility", inputs = { "a", "b" }, c = "cross", cargs = { 1 },
  doc = "1 where a crosses above b, else 0" }
def { name = "cross_under", group = "utility", inputs = { "a", "b" }, c = "cross", cargs = { -1 },
  doc = "1 where a crosses below b, else 0" }
def { name = "linreg_slope", group = "utility", inputs = { "x" }, params = { { "period", 14 } },
  kernel = "gt_ind_linreg_slope", c = "linreg", fini = true, doc = "least-squares slope per bar" }
def { name = "envelope", group = "utility", inputs = { "x" }, params = { { "period", 20 }, { "pct", 0.025 } },
  fini = true, outputs = { "mid", "upper", "lower" }, doc = "SMA envelopes, pct a fraction" }
def { name = "heikin_ashi", group = "utility", inputs = { "open", "high", "low", "close" }, c = "heikin",
  outputs = { "open", "high", "low", "close" }, doc = "Heikin-Ashi bars" }
def { name = "ichimoku", group = "utility", inputs = HL, fini = true,
  params = { { "tenkan", 9 }, { "kijun", 26 }, { "senkou", 52 } },
  outputs = { "tenkan", "kijun", "span_a", "span_b" },
  doc = "Ichimoku lines at the bar computed (not displaced)" }

M.aliases = { wilder = "smma", rma = "smma", williams_r = "willr", vwap_rolling = "rvwap",
  stochastic = "stoch", bollinger = "bbands", psar = "sar", momentum = "mom" }

-- Every indicator with its parameters, defaults and outputs (a fresh copy).
function M.list()
  local out = {}
  for _, e in ipairs(REG) do
    local params = {}
    for i, p in ipairs(e.params) do params[i] = { name = p[1], default = p[2] } end
    out[#out + 1] = { name = e.name, group = e.group, inputs = { unpack(e.inputs) }, params = params,
      outputs = { unpack(e.outputs) }, doc = e.doc }
  end
  -- prints (the REPL, tostring) as one signature per line
  return setmetatable(out, { __tostring = function(t) return require("gt.help").ind_list(t) end })
end

-- ---- argument handling ----

local function is_series(v)
  return type(v) == "table" and v._c ~= nil and v.n ~= nil and v.close ~= nil
end

local SERIES_COL = { x = "close", a = false, b = false }

-- An FFI array's element count, or nil for a pointer.
local function array_len(v, ct)
  local t = tostring(ffi.typeof(v))
  if not t:find("%[") then return nil end
  return math.floor(ffi.sizeof(v) / ffi.sizeof(ct))
end

local series_mod = require "gt.series"
local Col, ColI64 = series_mod.Col, series_mod.ColI64

-- Resolves one input to (pointer-compatible cdata, length or nil, keep-alive). Checked
-- columns and arrays give their raw pointer and their length; a bare pointer has no
-- length and needs n.
local function input(name, v, ct, fname)
  if type(v) == "table" then
    local len = #v
    local a = ffi.new(ct .. "[?]", len)
    for i = 1, len do
      local x = v[i]
      if type(x) ~= "number" then
        error(("gt.ind.%s: input %s[%d] is not a number"):format(fname, name, i), 4)
      end
      a[i - 1] = x
    end
    return a, len
  elseif type(v) == "cdata" then
    local want_ts = ct == "int64_t"
    if ffi.istype(Col, v) or series_mod.is_array(v) then
      if want_ts then
        error(("gt.ind.%s: input %s must be the ts column (int64), got a double array")
          :format(fname, name), 4)
      end
      return series_mod.raw(v)
    elseif ffi.istype(ColI64, v) then
      if not want_ts then
        error(("gt.ind.%s: input %s must be a price array, got the ts column"):format(fname, name), 4)
      end
      return v.p, v.n
    end
    return v, array_len(v, ct)
  end
  error(("gt.ind.%s: input %s must be a series, a column, an array or a table, got %s")
    :format(fname, name, type(v)), 4)
end

-- Splits a call's arguments into input arrays, n, and C parameter values.
local function prepare(e, ...)
  local args, nargs = { ... }, select("#", ...)
  local ins, n, pos = {}, nil
  local ctof = function(nm) return nm == "ts" and "int64_t" or "double" end
  if is_series(args[1]) then
    local s = args[1]
    for i, nm in ipairs(e.inputs) do
      local col = SERIES_COL[nm]
      if col == false then error(("gt.ind.%s: needs arrays, not a series"):format(e.name), 3) end
      ins[i] = s[col or nm].p
    end
    n, pos = s.n, 2
  else
    for i, nm in ipairs(e.inputs) do
      local v = args[i]
      if v == nil then error(("gt.ind.%s: missing input %s"):format(e.name, nm), 3) end
      local a, len = input(nm, v, ctof(nm), e.name)
      ins[i] = a
      if len then
        if n and n ~= len then
          error(("gt.ind.%s: inputs have different lengths (%d and %d)"):format(e.name, n, len), 3)
        end
        n = n or len
      end
    end
    pos = #e.inputs + 1
  end
  -- parameters: one table of names, or positional, then n
  local p = {}
  local given_n
  if type(args[pos]) == "table" and not is_series(args[pos]) then
    local t = args[pos]
    for k in pairs(t) do
      local known = k == "n"
      for _, q in ipairs(e.params) do if q[1] == k then known = true end end
      if not known then error(("gt.ind.%s: unknown parameter '%s'"):format(e.name, tostring(k)), 3) end
    end
    for _, q in ipairs(e.params) do
      local v = t[q[1]]
      if v == nil then v = q[2] end
      p[q[1]] = v
    end
    given_n = t.n
  else
    for i, q in ipairs(e.params) do
      local v = args[pos + i - 1]
      if v == nil then v = q[2] end
      p[q[1]] = v
    end
    given_n = args[pos + #e.params]
    if nargs > pos + #e.params then
      error(("gt.ind.%s: too many arguments (%d)"):format(e.name, nargs), 3)
    end
  end
  if given_n ~= nil then
    given_n = tonumber(given_n)
    if not given_n or given_n < 0 or given_n % 1 ~= 0 then
      error(("gt.ind.%s: n must be a non-negative integer"):format(e.name), 3)
    end
    if n and given_n > n then
      error(("gt.ind.%s: n = %d exceeds the input length %d"):format(e.name, given_n, n), 3)
    end
    n = given_n
  end
  if not n then
    error(("gt.ind.%s: an FFI pointer input needs n after the parameters"):format(e.name), 3)
  end
  return ins, n, p
end

-- The C parameter list for e from resolved params p.
local function cargs(e, p)
  local out = {}
  for i, a in ipairs(e.cargs) do
    if type(a) == "number" then
      out[i] = a
    elseif a == "*periods" then
      local arr = ffi.new("int32_t[9]")
      for k, q in ipairs(e.params) do arr[k - 1] = p[q[1]] end
      out[i] = arr
    else
      local v = p[a]
      local conv = e.conv and e.conv[a]
      if conv then v = conv(v) end
      if type(v) ~= "number" and type(v) ~= "cdata" then
        error(("gt.ind.%s: parameter %s must be a number, got %s"):format(e.name, a, type(v)), 4)
      end
      out[i] = v
    end
  end
  return out
end

local function batch(e)
  local nout = #e.outputs
  return function(...)
    local ins, n, p = prepare(e, ...)
    local ca = cargs(e, p)
    local outs, outarg = {}
    for i = 1, nout do outs[i] = series_mod.array(n) end
    if nout == 1 then
      outarg = outs[1].p
    else
      outarg = ffi.new("double *[?]", nout)
      for i = 1, nout do outarg[i - 1] = outs[i].p end
    end
    local call = {}
    for i = 1, #ins do call[i] = ins[i] end
    call[#call + 1] = n
    call[#call + 1] = outarg
    for i = 1, #ca do call[#call + 1] = ca[i] end
    local rc = K[e.kernel](unpack(call, 1, #ins + 2 + #ca))
    if rc < 0 then error("gt." .. gtffi.errmsg(rc), 2) end
    if nout == 1 then return outs[1], n end
    local t = {}
    for i, nm in ipairs(e.outputs) do t[nm] = outs[i] end
    return t, n
  end
end

-- Stream objects: the update method is generated per indicator so each call is one direct
-- FFI call with constant names (what the JIT compiles best).
local Stream = {}
Stream.__index = Stream

-- A closed stream: close() again is fine, anything else raises (its C state is gone).
local Closed = {
  __index = function(self, k)
    if k == "close" then return function() end end
    error(("gt.ind.stream.%s is closed: '%s' used after close()")
      :format(rawget(self, "name") or "?", tostring(k)), 2)
  end,
  __tostring = function(self) return ("gt.ind.stream.%s (closed)"):format(rawget(self, "name") or "?") end,
}

-- update through a reference fetched before close(): the state is gone, raise
local function stream_closed(self)
  error(("gt.ind.stream.%s is closed: update after close()")
    :format(type(self) == "table" and rawget(self, "name") or "?"), 3)
end

function Stream:close()
  local st, fini = self.state, self._fini
  self.state, self._fini = nil, nil
  setmetatable(self, Closed)
  if fini and st then C[fini](ffi.gc(st, nil)) end
end

local function stream_ctor(e)
  local argl = {}
  for i = 1, #e.inputs do argl[i] = "a" .. i end
  local a = table.concat(argl, ", ")
  local src
  if #e.outputs == 1 then
    src = ("local C, closed = ...; return function(self, %s) local st = self.state; " ..
      "if st == nil then closed(self) end; return C.%s(st, %s) end")
      :format(a, e.update, a)
  else
    -- the fields hold this bar's outputs (ADX's DI lines are defined before the ADX
    -- itself); a missing bar (a NaN input) gives NaN for every output
    local f, miss = {}, {}
    for i = 1, #e.outputs do f[i] = "st." .. e.outputs[i] end
    for i = 1, #e.inputs do miss[i] = ("a%d ~= a%d"):format(i, i) end
    src = ("local C, closed = ...; return function(self, %s) local st = self.state; " ..
      "if st == nil then closed(self) end; local v = C.%s(st, %s); if %s then return %s end; return %s end")
      :format(a, e.update, a, table.concat(miss, " or "), ("v, "):rep(#e.outputs - 1) .. "v",
        table.concat(f, ", "))
  end
  local update = assert(loadstring(src, "=gt.ind.stream." .. e.name))(C, stream_closed)
  local mt = { __index = setmetatable({ update = update }, Stream) }
  return function(...)
    local nargs = select("#", ...)
    local p
    if type((...)) == "table" then
      p = {}
      local t = ...
      for _, q in ipairs(e.params) do
        local v = t[q[1]]
        if v == nil then v = q[2] end
        p[q[1]] = v
      end
    else
      if nargs > #e.params then error(("gt.ind.stream.%s: too many arguments"):format(e.name), 2) end
      p = {}
      for i, q in ipairs(e.params) do
        local v = select(i, ...)
        if v == nil then v = q[2] end
        p[q[1]] = v
      end
    end
    local st = ffi.new(e.state)
    local ca = cargs(e, p)
    local rc = C[e.init](st, unpack(ca, 1, #ca))
    if rc < 0 then error("gt." .. gtffi.errmsg(rc) .. " (stream)", 2) end
    if e.fini then st = ffi.gc(st, C[e.fini]) end
    return setmetatable({ state = st, _fini = e.fini, name = e.name }, mt)
  end
end

for _, e in ipairs(REG) do
  M[e.name] = batch(e)
  M.stream[e.name] = stream_ctor(e)
end
for alias, name in pairs(M.aliases) do
  M[alias] = M[name]
  M.stream[alias] = M.stream[name]
end

-- cross(a, b [, up = 1, down = -1 [, n [, out]]]) -> the target array of a crossover rule: up at
-- bar i where a crosses above b (a[i] > b[i] and a[i-1] <= b[i-1]), down where it crosses
-- below, NaN elsewhere (bar 0, and where a NaN at i or i - 1 makes a test false). a and b
-- are columns or checked arrays (n defaults to the shorter), or pointers with n; out, a
-- checked array of at least n values the caller owns, is written instead of a new one. One C
-- call (gt_ind_cross_targets); unlike cross_over / cross_under (a stream's 0/1 that skips
-- NaN bars) it compares each bar with the one before, as the rule `if f[i] > s[i] and f[i-1] <= s[i-1]
-- then return up end ...` does.
function M.cross(a, b, up, down, n, out)
  local pa, la = series_mod.raw(a)
  local pb, lb = series_mod.raw(b)
  n = n or (la and lb and math.min(la, lb))
  if type(n) ~= "number" or n < 0 or n % 1 ~= 0 then
    error("gt.ind.cross: give two columns or checked arrays, or pointers and n", 2)
  end
  if (la and la < n) or (lb and lb < n) then error(("gt.ind.cross: an input has fewer than %d values"):format(n), 2) end
  up, down = up == nil and 1 or up, down == nil and -1 or down
  if type(up) ~= "number" or type(down) ~= "number" then error("gt.ind.cross: up and down are numbers", 2) end
  if out ~= nil then
    local _, lo = series_mod.raw(out)
    if not (series_mod.is_array(out) and lo >= n) then
      error(("gt.ind.cross: out must be a checked array of at least %d values"):format(n), 2)
    end
  else
    out = series_mod.array_out(n) -- the kernel writes every value
  end
  local rc = C.gt_ind_cross_targets(pa, pb, n, up, down, out.p)
  if rc < 0 then error("gt." .. gtffi.errmsg(rc), 2) end
  return out, n
end

-- Copies an array or column (or the first n values) into a Lua table, 1-based; NaN
-- stays NaN.
function M.totable(arr, n)
  if n == nil then
    local _, len = series_mod.raw(arr)
    n = len or (type(arr) == "cdata" and array_len(arr, "double"))
  end
  if not n then error("gt.ind.totable: a pointer needs n", 2) end
  local t = {}
  for i = 0, n - 1 do t[i + 1] = tonumber(arr[i]) end
  return t
end

return M
