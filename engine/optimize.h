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
/* Sleeps (the parent polling its worker processes); a signal cuts it short. */
void gt_opt_sleep(double seconds);
/* Online processors: the default number of worker processes. */
int32_t gt_opt_cores(void);
/* ---- end ffi ---- */


/* The largest even number of CSCV blocks: C(24, 12) = 2,704,156 splits. */
#define GT_OPT_CSCV_MAX_BLOCKS 24

#endif
