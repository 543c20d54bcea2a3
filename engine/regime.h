/*
 * regime.h: market regime detection, the C-only side. Two parts, both pull-style over
 * caller-owned arrays (declarations in gt_ffi.h):
 *   - per-bar features (realised volatility, returns, MA spreads, trend strength, vol of vol,
 *     ADX, correlation to a benchmark) as a streaming state; the batch kernel is the update
 *     run in a loop, so online and batch use cannot disagree, and bar i sees bars 0..i only;
 *   - the seed's rule classifier over one feature vector (regime, confidence, stability);
 *   - a Gaussian hidden Markov model with diagonal covariances (hmm.c): Baum-Welch with
 *     seeded restarts, a one-step forward filter (the batch forward pass is that step in a
 *     loop), scaled forward-backward smoothing and Viterbi.
 * Ownership: gt_regime_feat_new / gt_hmm_new allocate; the matching _free releases and
 * accepts NULL. Nothing is kept from the caller's arrays between calls.
 */
#ifndef GT_REGIME_H
#define GT_REGIME_H

#include "gt.h"

/* Window lengths of the features (seed/slices.md section 6). */
#define RF_VOL_SHORT 10
#define RF_VOL_LONG 30
#define RF_VOV_WINDOW 20 /* values of the rolling 10-bar std whose std is vol of vol */
#define RF_CORR_WINDOW 30
#define RF_TREND_WINDOW 20
#define RF_ADX_PERIOD 14
#define RF_HISTORY 61 /* closes kept: ret60 needs the close 60 bars back */

#endif
