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
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_REGIME_H
#define GT_REGIME_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- market regime (regime.c, hmm.c) ---- */
/* Per-bar features of one series, in this order in every feature row. Volatilities are
 * annualised percent (sample std of simple returns * sqrt(252) * 100); returns and spreads
 * are fractions; trend strength is the 20-bar least-squares slope / mean close * 100 * 20,
 * clipped to +-100; vol of vol is the sample std of the last 20 values of the 10-return std
 * (a raw decimal, the seed's definition); corr is the 30-return Pearson correlation to a
 * benchmark (NaN without one); trend_ann is (1 + ret60)^(365/60) - 1. NaN until defined. */
enum gt_regime_feature {
    GT_RF_VOL10 = 0,
    GT_RF_VOL30 = 1,
    GT_RF_RET1 = 2,
    GT_RF_RET5 = 3,
    GT_RF_RET20 = 4,
    GT_RF_RET60 = 5,
    GT_RF_SPREAD5_20 = 6,
    GT_RF_SPREAD20_60 = 7,
    GT_RF_TREND_STRENGTH = 8,
    GT_RF_VOL_OF_VOL = 9,
    GT_RF_ADX = 10,
    GT_RF_CORR = 11,
    GT_RF_TREND_ANN = 12,
    GT_RF_COUNT = 13
};
typedef struct gt_regime_feat gt_regime_feat;
gt_regime_feat *gt_regime_feat_new(void);
void gt_regime_feat_free(gt_regime_feat *f);
/* One bar in: writes GT_RF_COUNT features to out. bench is the benchmark's close at the
 * same bar, or NaN. A non-finite or non-positive close is GT_EINVAL. */
int gt_regime_feat_update(gt_regime_feat *f, double high, double low, double close, double bench,
                          double *out);
/* The update over n bars: out[i * GT_RF_COUNT + k]. bench may be NULL. */
int gt_regime_features(const double *high, const double *low, const double *close,
                       const double *bench, int64_t n, double *out);

/* The seed's rule classifier. Classes written to info (GT_RI_COUNT doubles). */
enum gt_regime_vol_class { GT_RVOL_LOW = 0, GT_RVOL_MEDIUM = 1, GT_RVOL_HIGH = 2,
                           GT_RVOL_EXTREME = 3 };
enum gt_regime_trend_class { GT_RTREND_STRONG_DOWN = 0, GT_RTREND_DOWN = 1,
                             GT_RTREND_SIDEWAYS = 2, GT_RTREND_UP = 3, GT_RTREND_STRONG_UP = 4 };
enum gt_regime_risk_class { GT_RRISK_OFF = 0, GT_RRISK_NEUTRAL = 1, GT_RRISK_ON = 2 };
enum gt_regime_info {
    GT_RI_CONFIDENCE = 0,
    GT_RI_STABILITY = 1,
    GT_RI_VOL = 2,
    GT_RI_TREND = 3,
    GT_RI_RISK = 4,
    GT_RI_COUNT = 5
};
/* Returns the regime (enum gt_regime) of one feature row, or -1 while vol10, vol30 or
 * trend_ann is NaN (info then untouched). info may be NULL. */
int32_t gt_regime_classify(const double *feat, double *info);
/* Features and rules over n bars: codes[i] (-1 in the warm-up), info[i * GT_RI_COUNT + k]
 * and feat[i * GT_RF_COUNT + k] when not NULL. bench may be NULL. */
int gt_regime_rules(const double *high, const double *low, const double *close,
                    const double *bench, int64_t n, double *feat, int8_t *codes, double *info);

/* Gaussian HMM, k states, d-dimensional observations with diagonal covariance.
 * Parameters: pi[k], a[k * k] (row = from), mean[k * d], var[k * d]. Observations are rows
 * x[t * d + j], all finite. */
typedef struct gt_hmm gt_hmm;
gt_hmm *gt_hmm_new(int32_t k, int32_t d);
void gt_hmm_free(gt_hmm *m);
int32_t gt_hmm_states(const gt_hmm *m);
int32_t gt_hmm_dims(const gt_hmm *m);
int gt_hmm_set(gt_hmm *m, const double *pi, const double *a, const double *mean,
               const double *var);
void gt_hmm_get(const gt_hmm *m, double *pi, double *a, double *mean, double *var);
/* Baum-Welch from `restarts` seeded starts (means at observations drawn by the seed),
 * at most iters iterations each, stops when the log-likelihood gains < tol; keeps the best
 * start. restarts = 0 is one start from m's current parameters (a warm start). Writes its
 * log-likelihood. */
int gt_hmm_fit(gt_hmm *m, const double *x, int64_t n, int32_t restarts, int32_t iters,
               double tol, uint64_t seed, double *loglik);
/* One forward-filter step: alpha[k] is P(state | obs 0..t-1) filtered at t-1 (ignored when
 * first != 0, pi is used); on return P(state | obs 0..t). x NULL (or with a NaN) is a
 * missing observation: a prediction step only. Returns GT_OK and adds log p(x_t | past) to
 * *loglik when loglik is not NULL. */
int gt_hmm_filter_step(const gt_hmm *m, double *alpha, int32_t first, const double *x,
                       double *loglik);
/* The filter step over n rows: post[t * k + s] = P(s | x 0..t). */
int gt_hmm_forward(const gt_hmm *m, const double *x, int64_t n, double *post, double *loglik);
/* Smoothed posteriors P(s | x 0..n-1) by scaled forward-backward (uses the whole sequence). */
int gt_hmm_smooth(const gt_hmm *m, const double *x, int64_t n, double *post, double *loglik);
/* Most likely state path (log-space Viterbi; uses the whole sequence). */
int gt_hmm_viterbi(const gt_hmm *m, const double *x, int64_t n, int32_t *path, double *logp);

/* Strategy-selection models (store.c, schema 4; gt.ml): one JSON document each. save
 * returns the new id; find the newest id with that name (GT_ENOTFOUND when none); doc copies
 * the document into buf (cap bytes, NUL-terminated) and returns its full length. */
int64_t gt_store_save_model(gt_store *st, const char *name, const char *doc, int64_t first_ts,
                            int64_t last_ts);
int64_t gt_store_model_find(gt_store *st, const char *name);
int64_t gt_store_model_doc(gt_store *st, int64_t id, char *buf, int64_t cap);
/* ---- end ffi ---- */


/* Window lengths of the features (seed/slices.md section 6). */
#define RF_VOL_SHORT 10
#define RF_VOL_LONG 30
#define RF_VOV_WINDOW 20 /* values of the rolling 10-bar std whose std is vol of vol */
#define RF_CORR_WINDOW 30
#define RF_TREND_WINDOW 20
#define RF_ADX_PERIOD 14
#define RF_HISTORY 61 /* closes kept: ret60 needs the close 60 bars back */

#endif
