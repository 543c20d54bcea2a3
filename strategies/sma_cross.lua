-- Moving-average crossover (the seed's SimpleMAStrategy): long when the fast SMA crosses
-- above the slow one; on the opposite cross go flat, or short when short = true.
local gt = require "gt"

return {
  name = "sma_cross",
  description = "long on a fast/slow SMA golden cross, flat (or short) on the death cross",
  params = { fast = 10, slow = 30, short = false },
  grid = { fast = { 5, 10, 15, 20 }, slow = { 20, 30, 40, 50 } },
  plot = { "fast", "slow" }, -- indicator lines drawn on the report's price chart

  indicators = function(d, p)
    return { fast = gt.ind.sma(d.close, p.fast, d.n), slow = gt.ind.sma(d.close, p.slow, d.n) }
  end,

  rule = function(d, ind, i, p)
    local f, s = ind.fast, ind.slow
    if f[i] > s[i] and f[i - 1] <= s[i - 1] then return 1 end
    if f[i] < s[i] and f[i - 1] >= s[i - 1] then return p.short and -1 or 0 end
  end,

  -- the same rule for every bar at once, in C (the optimiser's path): +1 on the golden
  -- cross, -1 or 0 on the death cross, NaN (no decision) elsewhere; out: an array the
  -- caller lends for the targets (the optimiser's, reused run after run), or nil
  signals = function(d, p, ind, out)
    return { target = gt.ind.cross(ind.fast, ind.slow, 1, p.short and -1 or 0, d.n, out) }
  end,
}
