/*
 * metrics.h: backtest performance statistics from an equity curve, the bar timestamps, an
 * optional benchmark and in-market mask, and the list of round-trip trades. Pure
 * functions over caller-owned arrays: nothing is allocated, nothing is kept, the output
 * struct is written only on success. The public declarations (gt_trade, gt_stats_input,
 * gt_stats, gt_stats_compute, gt_drawdown) live in gt_ffi.h so Lua reads the same ones;
 * examples/METRICS.md gives every formula and every NaN case.
 */
#ifndef GT_METRICS_H
#define GT_METRICS_H

#include "gt.h"

/* A sample standard deviation of per-bar returns (or a downside deviation, or a benchmark
 * std) at or below this counts as zero: equity built by exact compounding leaves ~1e-17
 * noise in otherwise identical returns, and dividing by that noise would report a
 * meaningless Sharpe of 1e15 instead of "undefined". */
#define GT_METRICS_ZERO_STD 1e-12

/* Microseconds in the calendar year used for CAGR and `years` (365.25 days). */
#define GT_METRICS_US_PER_YEAR (365.25 * 86400.0 * 1e6)

#endif
