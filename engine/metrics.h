/*
 * metrics.h: backtest performance statistics from an equity curve, the bar timestamps, an
 * optional benchmark and in-market mask, and the list of round-trip trades. Pure
 * functions over caller-owned arrays: nothing is allocated, nothing is kept, the output
 * struct is written only on success. The public declarations (gt_trade, gt_stats_input,
 * gt_stats, gt_stats_compute, gt_drawdown) live in gt_ffi.h so Lua reads the same ones;
 * examples/METRICS.md gives every formula and every NaN case.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_METRICS_H
#define GT_METRICS_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- backtest trades and metrics (metrics.c) ---- */
/* One round trip: a position from flat until flat again (a reversal closes one trade and
 * opens the next). Prices are average fill prices including slippage and spread; fees
 * are all commissions paid on the way in and out; pnl is net of fees. */
typedef struct gt_trade {
    int64_t symbol;      /* index of the symbol in the backtest */
    int64_t entry_bar;   /* bar of the first entry fill */
    int64_t exit_bar;    /* bar of the last exit fill (-1 while open) */
    int64_t entry_ts;    /* epoch microseconds */
    int64_t exit_ts;     /* epoch microseconds (0 while open) */
    double entry_price;  /* average entry price */
    double exit_price;   /* average exit price (or the last close while open) */
    double size;         /* largest position held, signed: negative when short */
    double pnl;          /* realised profit net of fees */
    double return_pct;   /* pnl / (|size| * entry_price) * 100 */
    double fees;         /* commissions on entry and exit */
} gt_trade;

/* What the metrics are computed from. Arrays have n entries (bars) except trades (m). */
typedef struct gt_stats_input {
    const double *equity;     /* equity at each bar's close */
    const int64_t *ts;        /* bar timestamps */
    const double *benchmark;  /* benchmark close per bar for beta/alpha/buy-and-hold, or NULL */
    const uint8_t *in_market; /* 1 where a position was held during the bar, or NULL */
    const gt_trade *trades;
    int64_t n;
    int64_t m;
    double periods_per_year; /* 252 for daily bars, 52 weekly, ... */
    double risk_free;        /* annual risk-free rate as a fraction, e.g. 0.02 */
} gt_stats_input;

typedef struct gt_stats {
    double start_equity;
    double final_equity;
    double return_pct;
    double cagr_pct;
    double ann_return_pct;
    double ann_vol_pct;
    double sharpe;
    double sortino;
    double calmar;
    double max_drawdown_pct;
    double max_drawdown_bars;
    double avg_drawdown_pct;
    double num_trades;
    double win_rate_pct;
    double profit_factor;
    double expectancy;
    double avg_trade_pct;
    double best_trade_pct;
    double worst_trade_pct;
    double avg_trade_bars;
    double max_trade_bars;
    double exposure_pct;
    double sqn;
    double buy_hold_return_pct;
    double beta;
    double alpha_pct;
    double years;
    double total_fees;
} gt_stats;

int gt_stats_compute(const gt_stats_input *in, gt_stats *out);
/* drawdown[i] = equity[i] / max(equity[0..i]) - 1 (<= 0). */
void gt_drawdown(const double *equity, int64_t n, double *out);

/* One bar of one symbol: what a broker simulation matches orders against. */
typedef struct gt_bar {
    int64_t ts;
    double open;
    double high;
    double low;
    double close;
    double volume;
} gt_bar;
/* ---- end ffi ---- */


/* gt_stats_compute with the per-bar returns already divided out: eq_ret[i - 1] =
 * equity[i] / equity[i - 1] - 1 and bench_ret likewise for the benchmark (i = 1..n-1;
 * either may be NULL: divided here). The same statistics to the last bit, for a caller that
 * needs the returns anyway or runs many backtests against one benchmark (gt.optimize).
 * ret_moments (or NULL) receives the sums of the n - 1 returns r and of d^2, d^3, d^4 with
 * d = r - their mean, each summed in bar order (gt.optimize's moments are made of them). */
int gt_stats_compute_ret(const gt_stats_input *in, const double *eq_ret, const double *bench_ret,
                         double *ret_moments, gt_stats *out);

/* A sample standard deviation of per-bar returns (or a downside deviation, or a benchmark
 * std) at or below this counts as zero: equity built by exact compounding leaves ~1e-17
 * noise in otherwise identical returns, and dividing by that noise would report a
 * meaningless Sharpe of 1e15 instead of "undefined". */
#define GT_METRICS_ZERO_STD 1e-12

/* Microseconds in the calendar year used for CAGR and `years` (365.25 days). */
#define GT_METRICS_US_PER_YEAR (365.25 * 86400.0 * 1e6)

#endif
