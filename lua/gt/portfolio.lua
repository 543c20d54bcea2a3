-- gt.portfolio: the seed's adaptive portfolio (../shared/seed/slices.md section 8). Four
-- account-size tiers set how many positions to hold, how big, which strategies may trade,
-- loss limits, stops, trades per week and PDT rules; tier changes need a buffer so capital
-- hovering at a boundary does not flip the tier every bar.
--
--   gt.portfolio.tier(3000)                  --> "small", tier table
--   gt.portfolio.transition("micro", 2600)   --> { from = "micro", to = "small", changed = true }
--   gt.portfolio.plan{ capital = 3000, tier = "micro", positions = { AAPL = 900 },
--     candidates = { { symbol = "MSFT", strategy = "momentum", confidence = 0.75 } } }
--   --> { tier, config, transition, signals = { { symbol, action, confidence,
--         target_position_size, stop_loss_pct, strategy_source, reasoning } },
--         recommended_actions, warnings, risk_metrics }
--
-- The tables are data: pass `config = {...}` (validated; see M.default_config()) to any call
-- to change them. Money is in account currency; percentages are percent (5.0 = 5 %).
local M = {}

local function deepcopy(t)
  if type(t) ~= "table" then return t end
  local out = {}
  for k, v in pairs(t) do out[k] = deepcopy(v) end
  return out
end

-- ../shared/seed/slices.md section 8 (the seed's config/adaptive_portfolio_config.json).
local DEFAULT = {
  tiers = {
    { name = "micro", min = 500, max = 2500,
      positions = { min = 2, max = 3, target = 2 }, min_position_size = 150,
      strategies = { "momentum" }, daily_loss_limit_pct = 1.0, quarterly_loss_limit_pct = 8.0,
      stop_loss_pct = 5.0, trades_per_week = 3, account_type = "cash", settlement = "T+2",
      pdt = true, max_sector_exposure_pct = 50, min_confidence = 0.7, universe_size = 8 },
    { name = "small", min = 2500, max = 10000,
      positions = { min = 3, max = 5, target = 4 }, min_position_size = 500,
      strategies = { "momentum", "mean_reversion" }, daily_loss_limit_pct = 1.5,
      quarterly_loss_limit_pct = 12.0, stop_loss_pct = 6.0, trades_per_week = 6,
      account_type = "cash", settlement = "T+2", pdt = true, max_sector_exposure_pct = 60,
      min_confidence = 0.6, universe_size = 12 },
    { name = "medium", min = 10000, max = 25000,
      positions = { min = 5, max = 8, target = 6 }, min_position_size = 1250,
      strategies = { "momentum", "mean_reversion", "trend_following" },
      daily_loss_limit_pct = 2.0, quarterly_loss_limit_pct = 15.0, stop_loss_pct = 7.0,
      trades_per_week = 10, account_type = "margin", pdt = true,
      max_sector_exposure_pct = 70, min_confidence = 0.5, universe_size = 18 },
    { name = "large", min = 25000, max = 999999999,
      positions = { min = 8, max = 15, target = 10 }, min_position_size = 1500,
      strategies = { "momentum", "mean_reversion", "trend_following", "ml_enhanced" },
      daily_loss_limit_pct = 2.5, quarterly_loss_limit_pct = 20.0, stop_loss_pct = 8.0,
      trades_per_week = 999, account_type = "margin", pdt = false,
      max_sector_exposure_pct = 80, min_confidence = 0.4, universe_size = 25 },
  },
  min_account = 500,           -- validation: below this nothing is opened
  max_position_pct = 25,       -- no position above 25 % of the portfolio
  tier_buffer_pct = 5,         -- of the current tier's range, at the edge being crossed
  unbuffered_tier = "large",   -- moves into or out of it need no buffer
  small_account = 5000,        -- below this, sizes x small_account_factor
  small_account_factor = 0.8,
  pdt_trades_per_week = 2,     -- with PDT rules, no new trades once this many were made
  market = { min_price = 5, max_price = 1000, min_volume = 100000,
    excluded = { "PENNY", "OTC" } },
}

function M.default_config() return deepcopy(DEFAULT) end

local function fail(msg, level) error("gt.portfolio: " .. msg, level + 1) end

local function isnum(v)
  return type(v) == "number" and v == v and v > -math.huge and v < math.huge
end

-- Checks a config: tiers in ascending order, contiguous ranges (each min is the previous
-- max), positions min <= target <= max, numbers where numbers belong.
local function validate(cfg, level)
  if type(cfg) ~= "table" or type(cfg.tiers) ~= "table" or #cfg.tiers == 0 then
    fail("config.tiers must be a non-empty list", level + 1)
  end
  for i, t in ipairs(cfg.tiers) do
    local where = ("config.tiers[%d]"):format(i)
    if type(t.name) ~= "string" then fail(where .. ".name must be a string", level + 1) end
    where = where .. " (" .. t.name .. ")"
    for _, k in ipairs{ "min", "max", "min_position_size", "stop_loss_pct", "trades_per_week",
      "daily_loss_limit_pct", "quarterly_loss_limit_pct", "min_confidence" } do
      if not isnum(t[k]) or t[k] < 0 then
        fail(("%s.%s must be a number >= 0, got %s"):format(where, k, tostring(t[k])), level + 1)
      end
    end
    if not (t.max > t.min) then
      fail(("%s: max %s must be above min %s"):format(where, t.max, t.min), level + 1)
    end
    if i > 1 and t.min ~= cfg.tiers[i - 1].max then
      fail(("%s: min %s must equal the previous tier's max %s (ranges are contiguous)")
        :format(where, t.min, cfg.tiers[i - 1].max), level + 1)
    end
    local p = t.positions
    if type(p) ~= "table" or not (isnum(p.min) and isnum(p.max) and isnum(p.target))
      or not (p.min <= p.target and p.target <= p.max and p.target >= 1) then
      fail(where .. ".positions must have numbers 1 <= min <= target <= max", level + 1)
    end
    if type(t.strategies) ~= "table" then fail(where .. ".strategies must be a list", level + 1) end
  end
  return cfg
end

local function config_of(opts, level)
  if opts == nil or opts.config == nil then return DEFAULT end
  return validate(opts.config, level + 1)
end

local function find(cfg, name)
  for i, t in ipairs(cfg.tiers) do if t.name == name then return t, i end end
end

-- The tier whose range holds capital (min <= capital < max): name, tier table. Below the
-- first tier's min: nil and a message.
function M.tier(capital, opts)
  if not isnum(capital) then
    fail("capital must be a finite number, got " .. tostring(capital), 2)
  end
  local cfg = config_of(opts, 2)
  for _, t in ipairs(cfg.tiers) do
    if capital >= t.min and capital < t.max then return t.name, deepcopy(t) end
  end
  local first, last = cfg.tiers[1], cfg.tiers[#cfg.tiers]
  if capital >= last.max then return last.name, deepcopy(last) end
  return nil, ("capital %.2f is below the smallest tier (%s from %.2f)")
    :format(capital, first.name, first.min)
end

-- Whether an account in tier `current` with this capital changes tier: { from, to, changed,
-- reason }. Leaving a tier needs the capital beyond its edge by tier_buffer_pct of its range
-- (up: >= max + buffer; down: < min - buffer), except into or out of unbuffered_tier.
function M.transition(current, capital, opts)
  local cfg = config_of(opts, 2)
  if not isnum(capital) then
    fail("capital must be a finite number, got " .. tostring(capital), 2)
  end
  local cur = find(cfg, current)
  if not cur then fail(("unknown tier %q"):format(tostring(current)), 2) end
  local detected = M.tier(capital, opts)
  local out = { from = current, to = current, changed = false }
  if detected == nil then
    out.reason = ("capital %.2f is below the smallest tier; staying %s"):format(capital, current)
    return out
  end
  if detected == current then return out end
  local buffer = (cfg.tier_buffer_pct or 0) / 100 * (cur.max - cur.min)
  local free = detected == cfg.unbuffered_tier or current == cfg.unbuffered_tier
  if capital >= cur.max then
    local need = free and cur.max or cur.max + buffer
    if capital >= need then
      out.to, out.changed = detected, true
      out.reason = ("capital %.2f >= %.2f: up from %s to %s")
        :format(capital, need, current, detected)
    else
      out.reason = ("capital %.2f is above %s's max %.2f but inside the %.2f buffer")
        :format(capital, current, cur.max, buffer)
    end
  else
    local need = free and cur.min or cur.min - buffer
    if capital < need then
      out.to, out.changed = detected, true
      out.reason = ("capital %.2f < %.2f: down from %s to %s")
        :format(capital, need, current, detected)
    else
      out.reason = ("capital %.2f is below %s's min %.2f but inside the %.2f buffer")
        :format(capital, current, cur.min, buffer)
    end
  end
  return out
end

local function contains(list, x)
  for _, v in ipairs(list or {}) do if v == x then return true end end
  return false
end

-- Position values: a map symbol -> value, or a list of { symbol =, value = }.
local function held_positions(positions)
  local out, n = {}, 0
  if positions == nil then return out, 0 end
  if type(positions) ~= "table" then fail("positions must be a table", 3) end
  for k, v in pairs(positions) do
    local sym, val
    if type(k) == "string" then sym, val = k, v
    elseif type(v) == "table" then sym, val = v.symbol, v.value end
    if type(sym) ~= "string" or not isnum(val) then
      fail("positions: each needs a symbol and a numeric value", 3)
    end
    out[sym] = val
    n = n + 1
  end
  return out, n
end

-- The seed's selection and sizing for one cycle. args: capital (required), tier (the current
-- tier; detected from capital when nil), positions, candidates (list of { symbol, strategy,
-- confidence, price?, volume? }), trades_this_week, daily_pnl_pct, quarterly_pnl_pct (losses
-- negative, percent), config.
function M.plan(args)
  if type(args) ~= "table" then fail("plan expects a table of arguments", 2) end
  local cfg = config_of(args, 2)
  local capital = args.capital
  if not isnum(capital) then
    fail("plan: capital must be a finite number, got " .. tostring(capital), 2)
  end
  local out = { signals = {}, recommended_actions = {}, warnings = {} }
  local function warn(s) out.warnings[#out.warnings + 1] = s end
  local function act(s) out.recommended_actions[#out.recommended_actions + 1] = s end

  local current = args.tier
  if current == nil then
    current = M.tier(capital, args) or cfg.tiers[1].name
  elseif not find(cfg, current) then
    fail(("plan: unknown tier %q"):format(tostring(current)), 2)
  end
  local tr = M.transition(current, capital, args)
  out.transition = tr
  if tr.changed then act(("change tier: %s"):format(tr.reason)) end
  local t = find(cfg, tr.to)
  out.tier, out.config = t.name, deepcopy(t)

  local held, nheld = held_positions(args.positions)
  local invested = 0
  for _, v in pairs(held) do invested = invested + v end
  out.risk_metrics = { capital = capital, positions_held = nheld, invested = invested,
    exposure_pct = capital > 0 and invested / capital * 100 or 0,
    max_positions = t.positions.max, target_positions = t.positions.target }

  if nheld > t.positions.max then
    act(("reduce positions: %d held, tier %s allows at most %d"):format(nheld, t.name,
      t.positions.max))
  end
  local blocked = false
  if capital < (cfg.min_account or 0) then
    warn(("capital %.2f is below the minimum account %.2f: no new positions")
      :format(capital, cfg.min_account))
    blocked = true
  end
  local trades = args.trades_this_week or 0
  if t.pdt and trades >= (cfg.pdt_trades_per_week or math.huge) then
    warn(("PDT rules: %d trades this week (limit %d): no new trades"):format(trades,
      cfg.pdt_trades_per_week))
    blocked = true
  end
  if trades >= t.trades_per_week then
    warn(("%d trades this week reach tier %s's %d: no new trades"):format(trades, t.name,
      t.trades_per_week))
    blocked = true
  end
  if isnum(args.daily_pnl_pct) and args.daily_pnl_pct <= -t.daily_loss_limit_pct then
    warn(("daily loss %.2f %% reaches the %.2f %% limit: no new trades today")
      :format(-args.daily_pnl_pct, t.daily_loss_limit_pct))
    blocked = true
  end
  if isnum(args.quarterly_pnl_pct) and args.quarterly_pnl_pct <= -t.quarterly_loss_limit_pct then
    warn(("quarterly loss %.2f %% reaches the %.2f %% limit: no new trades this quarter")
      :format(-args.quarterly_pnl_pct, t.quarterly_loss_limit_pct))
    blocked = true
  end

  -- at most min(max - held, target - held) new positions
  local slots = math.max(0, math.min(t.positions.max - nheld, t.positions.target - nheld))
  local picks = {}
  local mk = cfg.market or {}
  for i, c in ipairs(args.candidates or {}) do
    if type(c) ~= "table" or type(c.symbol) ~= "string" or not isnum(c.confidence) then
      fail(("plan: candidates[%d] needs a symbol and a numeric confidence"):format(i), 2)
    end
    local why
    if held[c.symbol] then why = "already held"
    elseif not contains(t.strategies, c.strategy) then
      why = ("strategy %s is not allowed in tier %s"):format(tostring(c.strategy), t.name)
    elseif c.confidence < t.min_confidence then
      why = ("confidence %.2f below tier %s's %.2f"):format(c.confidence, t.name, t.min_confidence)
    elseif contains(mk.excluded, c.symbol) then why = "excluded symbol"
    elseif c.price and mk.min_price and (c.price < mk.min_price or c.price > mk.max_price) then
      why = ("price %.2f outside %.2f-%.2f"):format(c.price, mk.min_price, mk.max_price)
    elseif c.volume and mk.min_volume and c.volume < mk.min_volume then
      why = ("volume %d below %d"):format(c.volume, mk.min_volume)
    end
    if not why then picks[#picks + 1] = c end
  end
  table.sort(picks, function(a, b)
    if a.confidence ~= b.confidence then return a.confidence > b.confidence end
    return a.symbol < b.symbol
  end)
  if not blocked then
    for i = 1, math.min(slots, #picks) do
      local c = picks[i]
      -- size = max(total / target * confidence, tier minimum), at most max_position_pct of
      -- the total, then x small_account_factor below small_account
      local size = math.max(capital / t.positions.target * c.confidence, t.min_position_size)
      size = math.min(size, capital * (cfg.max_position_pct or 100) / 100)
      if cfg.small_account and capital < cfg.small_account then
        size = size * (cfg.small_account_factor or 1)
      end
      out.signals[#out.signals + 1] = { symbol = c.symbol, action = "BUY",
        confidence = c.confidence, target_position_size = size, stop_loss_pct = t.stop_loss_pct,
        strategy_source = c.strategy,
        reasoning = ("%s signal, confidence %.2f, tier %s: %.2f of %.2f"):format(c.strategy,
          c.confidence, t.name, size, capital) }
      act(("buy %s for %.2f (stop %.1f %%)"):format(c.symbol, size, t.stop_loss_pct))
    end
  end
  if #out.signals == 0 and not blocked then
    if slots == 0 then act(("hold: %d positions held, tier target %d"):format(nheld,
      t.positions.target))
    else act("hold: no candidate passes the tier's rules") end
  end
  return out
end

return M
