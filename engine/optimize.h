/*
 * optimize.h: the numeric kernels of the optimiser (gt.optimize): the standard normal
 * distribution and its inverse for the deflated Sharpe ratio, and combinatorially symmetric
 * cross-validation (CSCV) for the probability of backtest overfitting. Pure functions over
 * caller-owned arrays; nothing is allocated beyond a scratch buffer freed before return.
 * The declarations Lua sees are at the end of gt_ffi.h; the formulas and their sources are
 * in optimize.c.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_OPTIMIZE_H
#define GT_OPTIMIZE_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- optimize.c: the optimiser's numeric kernels (gt.optimize) ---- */
/* The standard normal CDF and its inverse (double precision). */
double gt_opt_norm_cdf(double x);
double gt_opt_norm_ppf(double p);
/* C(blocks, blocks/2), the number of CSCV splits; blocks even in 2..24, else < 0. */
int64_t gt_opt_cscv_splits(int32_t blocks);
/* CSCV over per-block sums (strategy-major: sum[j * blocks + b]) and the shared per-block
 * counts: writes one logit per split (NaN where every strategy ties in sample, so none was
 * selected); returns the number written or < 0. */
int64_t gt_opt_cscv(const double *sum, const double *sum2, const double *cnt, int64_t nstrat,
                    int32_t blocks, double *logits, int64_t cap);
/* The moments gt.optimize keeps of an equity curve's n - 1 per-bar returns (r = e[i] /
 * e[i-1] - 1), into out: t, Sharpe (mean / sample sd), skew, kurtosis (plain: 3 is normal),
 * block length, then with blocks >= 2 (and at least 2 returns a block) the sums of returns
 * and of squared returns over blocks equal contiguous blocks (the oldest t mod blocks
 * returns left out), 5 + 2 blocks values in all; block length 0 and 5 values without.
 * Returns the count written, or < 0. */
int64_t gt_opt_moments(const double *equity, int64_t n, int32_t blocks, double *out);
/* out[i - 1] = x[i] / x[i - 1] - 1 for i = 1..n-1: per-bar returns, as metrics divides them. */
void gt_opt_returns(const double *x, int64_t n, double *out);
/* The statistics of a finished backtest of one series run from bar 0 (gt_bt_run_targets to
 * the last bar, gt_bt_finish), exactly those gt.backtest.run reports, and its moments as
 * gt_opt_moments writes them: nothing copied out of the engine, no Lua tables. base gives
 * the bars' ts, the benchmark (the series' close), n, periods_per_year and risk_free; the
 * engine gives equity, in-market mask and trades. bench_ret: the benchmark's per-bar returns
 * (gt_opt_returns) or NULL; scratch: room for n - 1 doubles, or NULL (allocated here): a
 * search hands both in once for all its runs. Returns the count of moments written, or < 0. */
int64_t gt_opt_bt_stats(const gt_bt *bt, const gt_stats_input *base, const double *bench_ret,
                        double *scratch, int32_t blocks, gt_stats *stats, double *moments);
/* From now on large blocks (512 KB and more) always come from mmap, in huge pages where
 * asked for (gt_calloc_big), and the heap keeps what is freed below them: a search frees
 * and allocates the same arrays for every combination, and glibc would otherwise move the
 * large ones to the heap's 4 KB pages and hand the small ones back to the kernel. */
void gt_opt_keep_memory(void);
/* Worker processes: fork (0 in the child, which then ends at SIGINT or SIGTERM; the
 * child's pid in the parent; < 0 on failure), _exit (the child leaves without flushing or
 * closing anything of the parent's), wait (the exit status, 128 + signal when killed, -1
 * while it runs and block is 0; < -1 on error) and SIGTERM. */
int64_t gt_opt_fork(void);
/* A counter shared with the processes forked after it is made (a shared page): take(c, n)
 * adds n and returns the value before, atomically, so workers claim their next items from
 * it and one slowed by other load on its core claims fewer. free accepts NULL. */
int64_t *gt_opt_counter_new(void);
int64_t gt_opt_counter_take(int64_t *c, int64_t n);
void gt_opt_counter_free(int64_t *c);
void gt_opt_exit(int32_t status);
int32_t gt_opt_wait(int64_t pid, int32_t block);
int gt_opt_kill(int64_t pid);
/* Sleeps (the parent polling its worker processes); a signal cuts it short. */
void gt_opt_sleep(double seconds);
/* Online processors: the default number of worker processes. */
int32_t gt_opt_cores(void);
/* ---- end ffi ---- */


/* The largest even number of CSCV blocks: C(24, 12) = 2,704,156 splits. */
#define GT_OPT_CSCV_MAX_BLOCKS 24

#endif
