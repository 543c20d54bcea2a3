-- gt.array: checked double arrays for scratch space and strategy outputs.
--   gt.array(n [, fill])  n values (default 0); gt.array{1, 2, 3} copies a Lua list.
--   a[i] for 0 <= i < n reads and writes; any other index raises; #a / a.n is the
--   length; a.p the raw pointer (for C calls and hot code that asks for it).
-- The type lives in gt.series, beside the checked columns.
return require("gt.series").array
