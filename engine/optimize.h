/*
 * optimize.h: the numeric kernels of the optimiser (gt.optimize): the standard normal
 * distribution and its inverse for the deflated Sharpe ratio, and combinatorially symmetric
 * cross-validation (CSCV) for the probability of backtest overfitting. Pure functions over
 * caller-owned arrays; nothing is allocated beyond a scratch buffer freed before return.
 * The declarations Lua sees are at the end of gt_ffi.h; the formulas and their sources are
 * in optimize.c.
 */
#ifndef GT_OPTIMIZE_H
#define GT_OPTIMIZE_H

#include "gt.h"

/* The largest even number of CSCV blocks: C(24, 12) = 2,704,156 splits. */
#define GT_OPT_CSCV_MAX_BLOCKS 24

double gt_opt_norm_cdf(double x);
double gt_opt_norm_ppf(double p);
int64_t gt_opt_cscv_splits(int32_t blocks);
int64_t gt_opt_cscv(const double *sum, const double *sum2, const double *cnt, int64_t nstrat,
                    int32_t blocks, double *logits, int64_t cap);
void gt_opt_sleep(double seconds);

#endif
