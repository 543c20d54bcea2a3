-- The benchmark: buy on the first bar and hold to the end.
return {
  name = "buy_and_hold",
  description = "buy on the first bar, hold to the end (the benchmark)",
  params = {},
  lookback = 0,

  rule = function(d, ind, i)
    if i == 0 then return 1 end
  end,
}
