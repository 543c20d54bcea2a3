-- gt.patterns: chart patterns (double top/bottom, head-and-shoulders, triangles, flags) and
-- candlestick patterns of a gt.series, for gt.analyze. Pure Lua over the series' 0-based
-- FFI columns; the per-bar loops allocate nothing until a pattern is found.
--
-- A detection is {name=, kind="bullish"|"bearish"|"neutral", index=, start=, confidence=,
-- details={...}}: `index` is the bar where the pattern completes, `start` its first bar.
-- Every rule is causal: a detection at bar `index` uses bars 0 .. index only, so a scan of
-- recent bars (opts.from / opts.last_only) returns exactly the full scan's detections with
-- index >= from, and a backtest that asks at bar i sees what a live run would have seen.
--
-- Confidence: each pattern has a base value (the seed's for chart patterns: double 0.7,
-- head-and-shoulders 0.8, triangles 0.6, flags 0.65) and a fit quality q in [0, 1], the mean
-- of the measures listed with each rule (1 = textbook, 0 = barely passing the thresholds):
--     confidence = clamp(base + SPREAD * (q - 0.5), 0, 1),   SPREAD = 0.3
--
-- Options (every public function): from = first completing bar to report (default 0),
-- last_only = only the last bar, only = list of pattern names (detect/chart/candles), and
-- parameter overrides: a table per family (opts.double = {tolerance = 0.02}) and/or plain
-- keys (opts.tolerance = 0.02), which apply to every family that has that parameter.
local levels = require "gt.levels"

local is_swing = levels.is_swing
local abs, max, min, sqrt, floor = math.abs, math.max, math.min, math.sqrt, math.floor

local M = {}

M.SPREAD = 0.3

-- Parameters by family. Prices compare as fractions ("0.03" = 3 %); lengths are bars.
M.DEFAULTS = {
  -- Double top: consecutive swing highs p1 < p2 (swing order k, see gt.levels) at least
  --   min_sep bars apart with |H1 - H2| / max(H1, H2) <= tolerance, every high strictly between them below
  --   min(H1, H2), and the lowest low between them (trough t, the neckline) at least
  --   min_depth below min(H1, H2). It completes at the first bar c > p2 that closes below
  --   the neckline, provided no high in (p2, c] exceeds H2; index = max(c, p2 + k) (p2 is
  --   only a confirmed swing k bars later) and index - p1 + 1 <= window.
  --   Double bottom: the same on lows, mirrored. Quality: peak similarity 1 - diff/tolerance,
  --   trough depth min(1, depth / (2 min_depth)), break depth min(1, beyond / break_ref)
  --   where beyond = how far the completing close is past the neckline, as a fraction.
  double = { window = 20, k = 2, min_sep = 5, tolerance = 0.03, min_depth = 0.02,
    break_ref = 0.02, base = 0.7 },
  -- Head and shoulders: consecutive swing highs p1 < p2 < p3 (shoulders, head) where H2 is
  --   the strict maximum high of bars p1..p3, (H2 - max(H1, H3)) / H2 >= min_head,
  --   |H1 - H3| / max(H1, H3) <= shoulder_tol, and each shoulder stands at least min_depth
  --   above the lowest low between it and the head (t1, t2). The neckline is the line
  --   through those two lows. It completes at the first bar c > p3 whose close is below the
  --   neckline at c, provided no high in (p3, c] exceeds H3; index = max(c, p3 + k) and
  --   index - p1 + 1 <= window. Inverse: mirrored on lows. Quality: shoulder similarity,
  --   time symmetry 1 - |(p2 - p1) - (p3 - p2)| / max(p2 - p1, p3 - p2), head prominence
  --   min(1, prominence / (3 min_head)), break depth as for double tops.
  hs = { window = 30, k = 2, shoulder_tol = 0.05, min_head = 0.01, min_depth = 0.01,
    break_ref = 0.02, base = 0.8 },
  -- Triangles, evaluated at every bar c: the swing highs and swing lows (order k) with
  --   index in [c - window + 1, c - k] (confirmed by c) are fitted with two least-squares
  --   lines on price / close[c] - 1. Needed: >= min_points per line, >= min_total in all,
  --   RMS residual <= max_err per line, the lines still apart at c and converging (the gap
  --   at c at most 1 - min_narrow of the gap at the first swing point), every close from
  --   the first swing point to c within the lines +- contain. A slope (fraction of price per
  --   bar) is flat when |slope| <= flat. Ascending: upper flat, lower rising; descending:
  --   upper falling, lower flat; symmetric: upper falling, lower rising. Reported at the
  --   first bar of a run of bars where the type holds (index = that bar; start = the first
  --   swing point), unless the previous report of that type had the same start. Quality:
  --   fit 1 - mean RMS / max_err, r^2 of the sloped line(s), touches
  --   min(1, (points - min_total + 1) / 4).
  triangle = { window = 30, k = 2, min_points = 2, min_total = 5, max_err = 0.01,
    min_narrow = 0.3, contain = 0.01, flat = 0.0005, base = 0.6 },
  -- Bull flag, evaluated at every bar c: the pole top e is the first bar of the highest high
  --   in [c - 1 - flag_max, c - 1], with flag bars e+1 .. c-1 numbering >= flag_min; the pole
  --   base s is the lowest low in [e - max_pole, e - 1]; gain = (H_e - L_s) / L_s must be
  --   >= min_pole_gain. The flag's lowest low retraces at most max_retrace of the pole
  --   (H_e - L_s), the least-squares slope of its closes is negative (counter-trend), no
  --   flag close is above the highest flag high before it (no earlier breakout), and close[c]
  --   is above every flag high: the breakout completes it (index = c, start = s). Bear flag:
  --   mirrored (gain = (H_s - L_e) / H_s). Quality: pole min(1, gain / (2 min_pole_gain)),
  --   retracement 1 - retrace / max_retrace, breakout min(1, beyond / (0.25 pole)).
  flag = { max_pole = 10, min_pole_gain = 0.06, flag_min = 3, flag_max = 10,
    max_retrace = 0.5, base = 0.65 },
  -- Candlesticks. O H L C of a bar, range R = H - L, body B = |C - O|, upper shadow
  -- U = H - max(O, C), lower shadow D = min(O, C) - L. Trend context (where needed): with f
  -- the pattern's first bar, r = close[f-1] / close[f-1-trend_bars] - 1; a downtrend is
  -- r < 0, an uptrend r > 0; its quality is min(1, |r| / trend_ref). trend = false drops
  -- the requirement (quality then 0.5).
  -- Doji: R > 0 and B <= max_body R. Quality 1 - B / (max_body R).
  doji = { max_body = 0.1, base = 0.5 },
  -- Hammer: R > 0, D >= shadow_ratio B, U <= max_shadow R, after a downtrend.
  --   Quality: D / R, 1 - U / (max_shadow R), trend. Shooting star: mirrored (U long, D
  --   short) after an uptrend.
  hammer = { shadow_ratio = 2, max_shadow = 0.1, trend = true, trend_bars = 5,
    trend_ref = 0.05, base = 0.6 },
  shooting_star = { shadow_ratio = 2, max_shadow = 0.1, trend = true, trend_bars = 5,
    trend_ref = 0.05, base = 0.6 },
  -- Bullish engulfing: bar i-1 black (C < O), bar i white, and its body engulfs the
  --   previous one: (C_i >= O_{i-1} and O_i < C_{i-1}) or (C_i > O_{i-1} and O_i <= C_{i-1})
  --   (TA-Lib's form), after a downtrend. Quality: min(1, B_i / B_{i-1} - 1), trend.
  --   Bearish engulfing: mirrored after an uptrend.
  engulfing = { trend = true, trend_bars = 5, trend_ref = 0.05, base = 0.65 },
  -- Morning star (bars a, b, c = i-2, i-1, i): a black with B_a >= long_body R_a; b a small
  --   body B_b <= star_body R_b and B_b <= B_a / 2 whose body gaps below a's body
  --   (max(O_b, C_b) < C_a; gap = false allows touching, <=); c white closing above the
  --   midpoint of a's body; after a downtrend. Quality: penetration (C_c - mid_a) / (B_a / 2)
  --   capped at 1, star smallness 1 - B_b / (star_body R_b), trend. Evening star: mirrored.
  star = { long_body = 0.6, star_body = 0.3, gap = true, trend = true, trend_bars = 5,
    trend_ref = 0.05, base = 0.7 },
  -- Three white soldiers (a, b, c = i-2 .. i): three white bars, each B >= min_body R and
  --   U <= max_shadow R (closing near the high), b and c opening within the previous body
  --   (O_a <= O_b <= C_a, O_b <= O_c <= C_b) and closing higher than it; after a downtrend.
  --   Quality: mean (B/R - min_body) / (1 - min_body), 1 - mean U / (max_shadow R), trend.
  --   Three black crows: mirrored (black bars, closes near the lows) after an uptrend.
  soldiers = { min_body = 0.5, max_shadow = 0.3, trend = true, trend_bars = 5,
    trend_ref = 0.05, base = 0.7 },
}

-- {name, family, kind}; detections at one bar sort by start, then name.
local CHART = {
  { "double_top", "double", "bearish" }, { "double_bottom", "double", "bullish" },
  { "head_and_shoulders", "hs", "bearish" }, { "inverse_head_and_shoulders", "hs", "bullish" },
  { "ascending_triangle", "triangle", "bullish" },
  { "descending_triangle", "triangle", "bearish" },
  { "symmetric_triangle", "triangle", "neutral" },
  { "bull_flag", "flag", "bullish" }, { "bear_flag", "flag", "bearish" },
}
local CANDLE = {
  { "doji", "doji", "neutral" }, { "hammer", "hammer", "bullish" },
  { "shooting_star", "shooting_star", "bearish" },
  { "bullish_engulfing", "engulfing", "bullish" }, { "bearish_engulfing", "engulfing", "bearish" },
  { "morning_star", "star", "bullish" }, { "evening_star", "star", "bearish" },
  { "three_white_soldiers", "soldiers", "bullish" }, { "three_black_crows", "soldiers", "bearish" },
}
M.CHART_NAMES, M.CANDLE_NAMES, M.KIND, M.FAMILY = {}, {}, {}, {}
for _, list in ipairs({ { CHART, M.CHART_NAMES }, { CANDLE, M.CANDLE_NAMES } }) do
  for _, e in ipairs(list[1]) do
    list[2][#list[2] + 1] = e[1]
    M.FAMILY[e[1]], M.KIND[e[1]] = e[2], e[3]
  end
end

local function clamp01(x)
  if x ~= x then return 0 end
  if x < 0 then return 0 elseif x > 1 then return 1 end
  return x
end

local function confidence(base, q)
  return clamp01(base + M.SPREAD * (clamp01(q) - 0.5))
end

local function add(out, name, index, start, conf, details)
  out[#out + 1] = { name = name, kind = M.KIND[name], index = index, start = start,
    confidence = conf, details = details }
end

-- Columns are FFI arrays (an empty series may hold NULL, which == nil, so test the type).
local function column(c) return type(c) == "cdata" or type(c) == "table" end

-- Validates the series and the scan options; returns n and the first completing bar to report.
local function prepare(s, opts, who)
  if type(s) ~= "table" or type(s.n) ~= "number" or not column(s.open) or not column(s.high)
    or not column(s.low) or not column(s.close) then
    error("gt.patterns." .. who .. ": expected a gt.series", 3)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("gt.patterns." .. who .. ": opts must be a table", 3)
  end
  local n, from = s.n, 0
  if opts then
    if opts.from ~= nil then
      from = opts.from
      if type(from) ~= "number" or from ~= floor(from) or from < 0 then
        error("gt.patterns." .. who .. ": from must be a bar index >= 0", 3)
      end
    end
    if opts.last_only then from = max(from, n - 1) end
  end
  return n, from
end

-- Parameters of a family: defaults, then opts[family], then plain keys of opts.
local function params(family, opts)
  local p = {}
  for key, v in pairs(M.DEFAULTS[family]) do
    local o = opts and opts[family]
    if type(o) == "table" and o[key] ~= nil then v = o[key]
    elseif opts and opts[key] ~= nil and type(opts[key]) ~= "table" then v = opts[key] end
    p[key] = v
  end
  return p
end

-- Lowest (dir = -1) or highest (dir = 1) value of col over a..b: index, value.
local function extreme(col, a, b, dir)
  local bi, bv = a, col[a]
  for j = a + 1, b do
    if (col[j] - bv) * dir > 0 then bi, bv = j, col[j] end
  end
  return bi, bv
end

local function by_bar(a, b)
  if a.index ~= b.index then return a.index < b.index end
  if a.start ~= b.start then return a.start < b.start end
  return a.name < b.name
end

---------------------------------------------------------------------------------------------
-- Double top / bottom (dir = 1: top on highs, -1: bottom on lows)

local function scan_double(s, n, from, p, dir, name, out)
  local ext = dir > 0 and s.high or s.low
  local opp = dir > 0 and s.low or s.high
  local close = s.close
  local W, k, tol, min_depth, bref = p.window, p.k, p.tolerance, p.min_depth, p.break_ref
  local min_sep = p.min_sep
  local p1 = -1
  -- a detection's index is at most p1 + W - 1, so earlier first peaks cannot reach `from`
  for p2 = max(k, from - W + 1), n - 1 - k do
    if is_swing(ext, p2, k, dir, n) then
      if p1 >= 0 and p2 - p1 >= min_sep and p2 + k <= p1 + W - 1 then
        local P1, P2 = ext[p1], ext[p2]
        local weaker = (P1 - P2) * dir > 0 and P2 or P1
        local diff = abs(P1 - P2) / max(P1, P2)
        local ok = diff <= tol
        for j = p1 + 1, p2 - 1 do
          if ok and (ext[j] - weaker) * dir >= 0 then ok = false end
        end
        if ok then
          local t, neck = extreme(opp, p1 + 1, p2 - 1, -dir)
          local depth = (weaker - neck) * dir / weaker
          if depth >= min_depth then
            for c = p2 + 1, min(n - 1, p1 + W - 1) do
              if (ext[c] - P2) * dir > 0 then break end
              local cl = close[c]
              if (neck - cl) * dir > 0 then
                local idx = max(c, p2 + k)
                if idx <= p1 + W - 1 and idx >= from then
                  local beyond = (neck - cl) * dir / neck
                  local q = (1 - diff / tol + min(1, depth / (2 * min_depth))
                    + min(1, beyond / bref)) / 3
                  add(out, name, idx, p1, confidence(p.base, q), {
                    peak1 = p1, peak2 = p2, trough = t, neckline = neck, peak_diff = diff,
                    depth = depth, break_index = c,
                  })
                end
                break
              end
            end
          end
        end
      end
      p1 = p2
    end
  end
end

---------------------------------------------------------------------------------------------
-- Head and shoulders (dir = 1) / inverse (dir = -1)

local function scan_hs(s, n, from, p, dir, name, out)
  local ext = dir > 0 and s.high or s.low
  local opp = dir > 0 and s.low or s.high
  local close = s.close
  local W, k, stol, min_head, min_depth, bref =
    p.window, p.k, p.shoulder_tol, p.min_head, p.min_depth, p.break_ref
  local p1, p2 = -1, -1
  for p3 = max(k, from - W + 1), n - 1 - k do
    if is_swing(ext, p3, k, dir, n) then
      if p1 >= 0 and p3 + k <= p1 + W - 1 then
        local S1, H, S3 = ext[p1], ext[p2], ext[p3]
        local ok = true
        for j = p1, p3 do
          if j ~= p2 and (ext[j] - H) * dir >= 0 then ok = false; break end
        end
        local stronger = (S1 - S3) * dir > 0 and S1 or S3
        local prom = (H - stronger) * dir / H
        local sdiff = abs(S1 - S3) / max(S1, S3)
        if ok and prom >= min_head and sdiff <= stol then
          local t1, n1 = extreme(opp, p1 + 1, p2 - 1, -dir)
          local t2, n2 = extreme(opp, p2 + 1, p3 - 1, -dir)
          if (S1 - n1) * dir / S1 >= min_depth and (S3 - n2) * dir / S3 >= min_depth then
            local slope = (n2 - n1) / (t2 - t1)
            for c = p3 + 1, min(n - 1, p1 + W - 1) do
              if (ext[c] - S3) * dir > 0 then break end
              local neck, cl = n1 + slope * (c - t1), close[c]
              if (neck - cl) * dir > 0 then
                local idx = max(c, p3 + k)
                if idx <= p1 + W - 1 and idx >= from then
                  local l, r = p2 - p1, p3 - p2
                  local beyond = (neck - cl) * dir / neck
                  local q = (1 - sdiff / stol + 1 - abs(l - r) / max(l, r)
                    + min(1, prom / (3 * min_head)) + min(1, beyond / bref)) / 4
                  add(out, name, idx, p1, confidence(p.base, q), {
                    left_shoulder = p1, head = p2, right_shoulder = p3, trough1 = t1,
                    trough2 = t2, neckline = neck, neckline_slope = slope,
                    shoulder_diff = sdiff, head_prominence = prom, break_index = c,
                  })
                end
                break
              end
            end
          end
        end
      end
      p1, p2 = p2, p3
    end
  end
end

---------------------------------------------------------------------------------------------
-- Triangles

-- Least-squares line from sums; returns intercept, slope, rms residual, r^2.
local function fit(cnt, sx, sy, sxx, sxy, syy)
  local den = cnt * sxx - sx * sx
  local b = den > 0 and (cnt * sxy - sx * sy) / den or 0
  local a = (sy - b * sx) / cnt
  local sse = syy - a * sy - b * sxy
  if sse < 0 then sse = 0 end
  local sst = syy - sy * sy / cnt
  local r2 = sst > 1e-15 and 1 - sse / sst or 1
  return a, b, sqrt(sse / cnt), clamp01(r2)
end

-- Which triangle (or nil) holds at bar c, with the fitted lines and the statistics for
-- confidence and details. Lines are fitted on y = price / close[c] - 1 (small numbers, so the
-- sums lose no precision) against x = bar - c.
local function triangle_at(s, c, p)
  local W, k = p.window, p.k
  local a0, b0 = max(0, c - W + 1), c - k
  if b0 - a0 < 2 then return nil end
  local hi, lo, close = s.high, s.low, s.close
  local ref = close[c]
  local nh, hx, hy, hxx, hxy, hyy = 0, 0, 0, 0, 0, 0
  local nl, lx, ly, lxx, lxy, lyy = 0, 0, 0, 0, 0, 0
  local first = -1
  for j = max(a0, k), b0 do
    local x = j - c
    if is_swing(hi, j, k, 1, c + 1) then
      local y = hi[j] / ref - 1
      nh, hx, hy, hxx, hxy, hyy = nh + 1, hx + x, hy + y, hxx + x * x, hxy + x * y, hyy + y * y
      if first < 0 then first = j end
    end
    if is_swing(lo, j, k, -1, c + 1) then
      local y = lo[j] / ref - 1
      nl, lx, ly, lxx, lxy, lyy = nl + 1, lx + x, ly + y, lxx + x * x, lxy + x * y, lyy + y * y
      if first < 0 then first = j end
    end
  end
  if nh < p.min_points or nl < p.min_points or nh + nl < p.min_total then return nil end
  local ah, bh, eh, r2h = fit(nh, hx, hy, hxx, hxy, hyy)
  local al, bl, el, r2l = fit(nl, lx, ly, lxx, lxy, lyy)
  if eh > p.max_err or el > p.max_err or ah - al <= 0 then return nil end
  local flat = p.flat
  local typ
  if abs(bh) <= flat and bl > flat then typ = "ascending_triangle"
  elseif bh < -flat and abs(bl) <= flat then typ = "descending_triangle"
  elseif bh < -flat and bl > flat then typ = "symmetric_triangle"
  else return nil end
  local x0 = first - c
  if ah - al > (1 - p.min_narrow) * ((ah + bh * x0) - (al + bl * x0)) then return nil end
  local tol = p.contain
  for j = first, c do
    local x, y = j - c, close[j] / ref - 1
    if y > ah + bh * x + tol or y < al + bl * x - tol then return nil end
  end
  return typ, first, ah, bh, al, bl, eh, el, r2h, r2l, nh, nl
end

-- A triangle is reported where its type starts to hold, unless the last one of that type had
-- the same first swing point (the conditions flickered off and on over one formation).
-- Starts never decrease with c and lie within window bars of c, so scanning from
-- from - window + 1 reproduces the full scan's decisions for every bar >= from.
local function scan_triangles(s, n, from, p, want, out)
  local lo = max(0, from - p.window + 1)
  local prev = lo > 0 and lo - 1 < n and triangle_at(s, lo - 1, p) or nil
  local last_a, last_d, last_s = -1, -1, -1 -- start of the last detection of each type
  for c = lo, n - 1 do
    local typ, first, ah, bh, al, bl, eh, el, r2h, r2l, nh, nl = triangle_at(s, c, p)
    local fresh = false
    if typ and typ ~= prev then
      if typ == "ascending_triangle" then fresh = last_a ~= first; last_a = first
      elseif typ == "descending_triangle" then fresh = last_d ~= first; last_d = first
      else fresh = last_s ~= first; last_s = first end
    end
    if fresh and c >= from and want[typ] then
      local r2 = typ == "ascending_triangle" and r2l or typ == "descending_triangle" and r2h
        or (r2h + r2l) / 2
      local q = (1 - (eh + el) / (2 * p.max_err) + r2
        + min(1, (nh + nl - p.min_total + 1) / 4)) / 3
      local ref = s.close[c]
      add(out, typ, c, first, confidence(p.base, q), {
        upper = (1 + ah) * ref, upper_slope = bh * ref, lower = (1 + al) * ref,
        lower_slope = bl * ref,
        apex = c + (ah - al) / (bl - bh), highs = nh, lows = nl, r2_upper = r2h, r2_lower = r2l,
        rms_upper = eh, rms_lower = el,
      })
    end
    prev = typ
  end
end

---------------------------------------------------------------------------------------------
-- Flags (dir = 1: bull flag, -1: bear flag)

local function scan_flag(s, n, from, p, dir, name, out)
  local ext = dir > 0 and s.high or s.low
  local opp = dir > 0 and s.low or s.high
  local close = s.close
  local max_pole, min_gain, fmin, fmax, max_retrace =
    p.max_pole, p.min_pole_gain, p.flag_min, p.flag_max, p.max_retrace
  for c = max(from, fmin + 2), n - 1 do
    local e = extreme(ext, max(0, c - 1 - fmax), c - 1, dir)
    local L = c - 1 - e
    if L >= fmin and e >= 1 then
      local sb, base = extreme(opp, max(0, e - max_pole), e - 1, -dir)
      local height = (ext[e] - base) * dir
      local gain = height / base
      if gain >= min_gain then
        -- flag bars e+1 .. c-1: extremes, no earlier breakout, least-squares close slope
        local fext, fopp = ext[e + 1], opp[e + 1]
        local ok = true
        local sx, sy, sxx, sxy = 0, 0, 0, 0
        for j = e + 1, c - 1 do
          local cl = close[j]
          if j > e + 1 and (cl - fext) * dir > 0 then ok = false; break end
          if (ext[j] - fext) * dir > 0 then fext = ext[j] end
          if (opp[j] - fopp) * dir < 0 then fopp = opp[j] end
          local x = j - e - 1
          sx, sy, sxx, sxy = sx + x, sy + cl, sxx + x * x, sxy + x * cl
        end
        if ok then
          local slope = (L * sxy - sx * sy) / (L * sxx - sx * sx)
          local retrace = (ext[e] - fopp) * dir / height
          local beyond = (close[c] - fext) * dir
          if slope * dir < 0 and retrace <= max_retrace and beyond > 0 then
            local q = (min(1, gain / (2 * min_gain)) + 1 - retrace / max_retrace
              + min(1, beyond / (0.25 * height))) / 3
            add(out, name, c, sb, confidence(p.base, q), {
              pole_start = sb, pole_top = e, flag_start = e + 1, flag_end = c - 1,
              pole_gain = gain, retrace = retrace, flag_slope = slope,
            })
          end
        end
      end
    end
  end
end

---------------------------------------------------------------------------------------------
-- Candlesticks

-- Relative move of the close over trend_bars bars ending just before bar f, or nil when the
-- series does not reach back far enough.
local function trend_before(close, f, tb)
  if f - 1 - tb < 0 then return nil end
  return close[f - 1] / close[f - 1 - tb] - 1
end

-- Trend quality for a required direction (1 up, -1 down), or nil when the context fails.
local function trend_q(close, f, p, dir)
  if not p.trend then return 0.5 end
  local r = trend_before(close, f, p.trend_bars)
  if r == nil or r * dir <= 0 then return nil end
  return min(1, abs(r) / p.trend_ref)
end

-- Each test(s, i, p, dir) returns the fit quality of the pattern completing at bar i, or nil.
local function test_doji(s, i, p)
  local o, h, l, c = s.open[i], s.high[i], s.low[i], s.close[i]
  local r = h - l
  if r <= 0 then return nil end
  local b = abs(c - o)
  if b > p.max_body * r then return nil end
  return 1 - b / (p.max_body * r)
end

-- dir = 1: hammer (long lower shadow, after a decline); -1: shooting star.
local function test_hammer(s, i, p, dir)
  local o, h, l, c = s.open[i], s.high[i], s.low[i], s.close[i]
  local r = h - l
  if r <= 0 then return nil end
  local b = abs(c - o)
  local up, down = h - max(o, c), min(o, c) - l
  local long, short = down, up
  if dir < 0 then long, short = up, down end
  if long < p.shadow_ratio * b or short > p.max_shadow * r then return nil end
  local tq = trend_q(s.close, i, p, -dir)
  if not tq then return nil end
  return (long / r + 1 - short / (p.max_shadow * r) + tq) / 3
end

local function test_engulfing(s, i, p, dir)
  if i < 1 then return nil end
  local o1, c1, o, c = s.open[i - 1], s.close[i - 1], s.open[i], s.close[i]
  -- in bullish terms: previous bar against the direction, this one with it
  if (c1 - o1) * dir >= 0 or (c - o) * dir <= 0 then return nil end
  local engulf
  if dir > 0 then
    engulf = (c >= o1 and o < c1) or (c > o1 and o <= c1)
  else
    engulf = (c <= o1 and o > c1) or (c < o1 and o >= c1)
  end
  if not engulf then return nil end
  local tq = trend_q(s.close, i - 1, p, -dir)
  if not tq then return nil end
  return (min(1, abs(c - o) / abs(c1 - o1) - 1) + tq) / 2
end

local function test_star(s, i, p, dir)
  if i < 2 then return nil end
  local open, high, low, close = s.open, s.high, s.low, s.close
  local oa, ca, ob, cb, oc, cc = open[i - 2], close[i - 2], open[i - 1], close[i - 1],
    open[i], close[i]
  local ba, bb = abs(ca - oa), abs(cb - ob)
  local ra, rb = high[i - 2] - low[i - 2], high[i - 1] - low[i - 1]
  -- bar a against the direction with a long body; bar c with it
  if (ca - oa) * dir >= 0 or ba < p.long_body * ra or ra <= 0 then return nil end
  if (cc - oc) * dir <= 0 then return nil end
  if bb > p.star_body * rb or bb > ba / 2 then return nil end
  local gap = ((dir > 0 and max(ob, cb) or min(ob, cb)) - ca) * dir -- star beyond a's close
  if (p.gap and gap >= 0) or gap > 0 then return nil end
  local mid = (oa + ca) / 2
  local pen = (cc - mid) * dir
  if pen <= 0 then return nil end
  local tq = trend_q(close, i - 2, p, -dir)
  if not tq then return nil end
  local small = rb > 0 and 1 - bb / (p.star_body * rb) or 1
  return (min(1, pen / (ba / 2)) + small + tq) / 3
end

local function test_soldiers(s, i, p, dir)
  if i < 2 then return nil end
  local open, high, low, close = s.open, s.high, s.low, s.close
  local qb, qs = 0, 0
  for j = i - 2, i do
    local o, c, r = open[j], close[j], high[j] - low[j]
    if (c - o) * dir <= 0 or r <= 0 then return nil end
    local b = abs(c - o)
    local sh = dir > 0 and high[j] - c or c - low[j] -- shadow beyond the close
    if b < p.min_body * r or sh > p.max_shadow * r then return nil end
    if j > i - 2 then
      local po, pc = open[j - 1], close[j - 1]
      -- opens within the previous body, closes beyond the previous close
      if (o - po) * dir < 0 or (o - pc) * dir > 0 or (c - pc) * dir <= 0 then return nil end
    end
    qb = qb + (b / r - p.min_body) / (1 - p.min_body)
    qs = qs + 1 - sh / (p.max_shadow * r)
  end
  local tq = trend_q(close, i - 2, p, -dir)
  if not tq then return nil end
  return (qb / 3 + qs / 3 + tq) / 3
end

-- name -> test, dir, bars in the pattern
local CANDLE_TEST = {
  doji = { test_doji, 0, 1 },
  hammer = { test_hammer, 1, 1 }, shooting_star = { test_hammer, -1, 1 },
  bullish_engulfing = { test_engulfing, 1, 2 }, bearish_engulfing = { test_engulfing, -1, 2 },
  morning_star = { test_star, 1, 3 }, evening_star = { test_star, -1, 3 },
  three_white_soldiers = { test_soldiers, 1, 3 }, three_black_crows = { test_soldiers, -1, 3 },
}

-- details describe the completing bar: body, range, upper_shadow, lower_shadow.
local function scan_candle(s, n, from, p, name, out)
  local t = CANDLE_TEST[name]
  local test, dir, len = t[1], t[2], t[3]
  for i = max(from, len - 1), n - 1 do
    local q = test(s, i, p, dir)
    if q then
      local o, h, l, c = s.open[i], s.high[i], s.low[i], s.close[i]
      add(out, name, i, i - len + 1, confidence(p.base, q), {
        body = abs(c - o), range = h - l, upper_shadow = h - max(o, c),
        lower_shadow = min(o, c) - l,
      })
    end
  end
end

---------------------------------------------------------------------------------------------
-- Public API

-- name -> scan(s, n, from, params, out)
local SCAN = {}
local function directional(scan, up, down)
  SCAN[up] = function(s, n, from, p, out) scan(s, n, from, p, 1, up, out) end
  SCAN[down] = function(s, n, from, p, out) scan(s, n, from, p, -1, down, out) end
end
directional(scan_double, "double_top", "double_bottom")
directional(scan_hs, "head_and_shoulders", "inverse_head_and_shoulders")
directional(scan_flag, "bull_flag", "bear_flag")
for _, name in ipairs({ "ascending_triangle", "descending_triangle", "symmetric_triangle" }) do
  local want = { [name] = true }
  SCAN[name] = function(s, n, from, p, out) scan_triangles(s, n, from, p, want, out) end
end
for name in pairs(CANDLE_TEST) do
  SCAN[name] = function(s, n, from, p, out) scan_candle(s, n, from, p, name, out) end
end

-- One function per pattern: patterns.double_top(s, opts) -> list sorted by index.
for name in pairs(SCAN) do
  M[name] = function(s, opts)
    local n, from = prepare(s, opts, name)
    local out = {}
    SCAN[name](s, n, from, params(M.FAMILY[name], opts), out)
    table.sort(out, by_bar)
    return out
  end
end

local function run(s, opts, names, who)
  local n, from = prepare(s, opts, who)
  local only
  if opts and opts.only ~= nil then
    if type(opts.only) ~= "table" then
      error("gt.patterns." .. who .. ": only must be a list", 3)
    end
    only = {}
    for _, name in ipairs(opts.only) do
      if not SCAN[name] then
        error(("gt.patterns.%s: unknown pattern '%s'"):format(who, tostring(name)), 3)
      end
      only[name] = true
    end
  end
  local out, pcache = {}, {}
  local tri = {}
  for _, name in ipairs(names) do
    if not only or only[name] then
      local fam = M.FAMILY[name]
      pcache[fam] = pcache[fam] or params(fam, opts)
      if fam == "triangle" then tri[name] = true -- one pass finds all three
      else SCAN[name](s, n, from, pcache[fam], out) end
    end
  end
  if next(tri) then scan_triangles(s, n, from, pcache.triangle, tri, out) end
  table.sort(out, by_bar)
  return out
end

-- chart(s, opts) -> chart-pattern detections sorted by index.
function M.chart(s, opts) return run(s, opts, M.CHART_NAMES, "chart") end

-- candles(s, opts) -> candlestick detections sorted by index.
function M.candles(s, opts) return run(s, opts, M.CANDLE_NAMES, "candles") end

-- detect(s, opts) -> every detection (chart and candlestick) sorted by index.
function M.detect(s, opts)
  local all = {}
  for _, name in ipairs(M.CHART_NAMES) do all[#all + 1] = name end
  for _, name in ipairs(M.CANDLE_NAMES) do all[#all + 1] = name end
  return run(s, opts, all, "detect")
end

return M
