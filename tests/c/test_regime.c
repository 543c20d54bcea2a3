/* regime.c and hmm.c: the rule classifier at its thresholds; the HMM's filter, smoother and
 * Viterbi against a two-state, one-dimensional model worked by hand (the formulas are in
 * the comments, with g = N(0; 0, 1) and h = N(3; 0, 1) = g e^-4.5); Baum-Welch recovering
 * the parameters of a sequence drawn from a known model; the filter's causality; and the
 * feature state's batch form equal to its update. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "regime.h"
#include "tap.h"

static void feat_row(double *f, double vol10, double vol30, double trend_ann)
{
    for (int k = 0; k < GT_RF_COUNT; k++)
        f[k] = NAN;
    f[GT_RF_VOL10] = vol10;
    f[GT_RF_VOL30] = vol30;
    f[GT_RF_TREND_ANN] = trend_ann;
}

/* Volatility classes switch at vol30 = 15, 25, 40 (the lower bound belongs to the higher
 * class: "< 15 LOW"); trend classes at 0.20, 0.05, -0.05, -0.20 (the bound belongs to the
 * lower class: "> 0.20 strong up"). */
static void test_rule_boundaries(void)
{
    double f[GT_RF_COUNT], info[GT_RI_COUNT];
    feat_row(f, 10, 14.999999, 0.1);
    is_int(gt_regime_classify(f, info), GT_REGIME_BULL_QUIET, "vol30 just under 15: quiet");
    is_dbl(info[GT_RI_VOL], GT_RVOL_LOW, 0, "vol30 just under 15: LOW");
    feat_row(f, 10, 15, 0.1);
    gt_regime_classify(f, info);
    is_dbl(info[GT_RI_VOL], GT_RVOL_MEDIUM, 0, "vol30 = 15: MEDIUM");
    feat_row(f, 10, 24.999999, 0.1);
    is_int(gt_regime_classify(f, info), GT_REGIME_BULL_QUIET, "vol30 just under 25: still quiet");
    feat_row(f, 10, 25, 0.1);
    is_int(gt_regime_classify(f, info), GT_REGIME_BULL_VOLATILE, "vol30 = 25: volatile");
    is_dbl(info[GT_RI_VOL], GT_RVOL_HIGH, 0, "vol30 = 25: HIGH");
    feat_row(f, 10, 40, 0.1);
    gt_regime_classify(f, info);
    is_dbl(info[GT_RI_VOL], GT_RVOL_EXTREME, 0, "vol30 = 40: EXTREME");

    static const struct {
        double t;
        int cls;
        int32_t reg;
    } tr[] = {
        {0.2000001, GT_RTREND_STRONG_UP, GT_REGIME_BULL_QUIET},
        {0.20, GT_RTREND_UP, GT_REGIME_BULL_QUIET},
        {0.0500001, GT_RTREND_UP, GT_REGIME_BULL_QUIET},
        {0.05, GT_RTREND_SIDEWAYS, GT_REGIME_SIDEWAYS_QUIET},
        {-0.0499999, GT_RTREND_SIDEWAYS, GT_REGIME_SIDEWAYS_QUIET},
        {-0.05, GT_RTREND_DOWN, GT_REGIME_BEAR_QUIET},
        {-0.1999999, GT_RTREND_DOWN, GT_REGIME_BEAR_QUIET},
        {-0.20, GT_RTREND_STRONG_DOWN, GT_REGIME_BEAR_QUIET},
    };
    for (size_t i = 0; i < sizeof tr / sizeof tr[0]; i++) {
        feat_row(f, 10, 20, tr[i].t);
        is_int(gt_regime_classify(f, info), tr[i].reg, "trend_ann %.7f: regime", tr[i].t);
        is_dbl(info[GT_RI_TREND], tr[i].cls, 0, "trend_ann %.7f: class", tr[i].t);
    }

    /* Risk: vol10 > 30 is RISK_OFF (30 itself is not); with EXTREME vol30 that is crisis. */
    feat_row(f, 30, 45, -0.3);
    is_int(gt_regime_classify(f, info), GT_REGIME_BEAR_VOLATILE, "vol10 = 30: not risk-off");
    is_dbl(info[GT_RI_RISK], GT_RRISK_NEUTRAL, 0, "vol10 = 30: neutral (no benchmark)");
    feat_row(f, 30.000001, 45, -0.3);
    is_int(gt_regime_classify(f, info), GT_REGIME_CRISIS, "vol10 > 30, vol30 >= 40: crisis");
    feat_row(f, 30.000001, 39.999999, -0.3);
    is_int(gt_regime_classify(f, info), GT_REGIME_BEAR_VOLATILE, "vol30 under 40: no crisis");
    /* corr > 0.7 and vol10 < 20: RISK_ON; corr < -0.3: RISK_OFF. */
    feat_row(f, 19.9, 20, 0.1);
    f[GT_RF_CORR] = 0.7;
    gt_regime_classify(f, info);
    is_dbl(info[GT_RI_RISK], GT_RRISK_NEUTRAL, 0, "corr = 0.7: neutral");
    f[GT_RF_CORR] = 0.7000001;
    gt_regime_classify(f, info);
    is_dbl(info[GT_RI_RISK], GT_RRISK_ON, 0, "corr just over 0.7, vol10 < 20: risk on");
    f[GT_RF_CORR] = -0.3;
    gt_regime_classify(f, info);
    is_dbl(info[GT_RI_RISK], GT_RRISK_NEUTRAL, 0, "corr = -0.3: neutral");
    f[GT_RF_CORR] = -0.3000001;
    gt_regime_classify(f, info);
    is_dbl(info[GT_RI_RISK], GT_RRISK_OFF, 0, "corr under -0.3: risk off");

    feat_row(f, NAN, 20, 0.1);
    is_int(gt_regime_classify(f, info), -1, "vol10 NaN: no regime");
    feat_row(f, 10, 20, NAN);
    is_int(gt_regime_classify(f, NULL), -1, "trend_ann NaN: no regime");
}

/* Confidence and stability, term by term (seed/slices.md section 6). */
static void test_confidence(void)
{
    double f[GT_RF_COUNT], info[GT_RI_COUNT];
    /* bull_quiet, vol10 12 < 15 (+0.1) and < vol30 14 (stability +0.2); |trend| 31 > 30
     * (+0.2); vov 0.01 < 0.3 (+0.1); spreads 0.03, 0.01 same sign (+0.1): 0.5 + 0.5 = 1.0.
     * Stability: |spread5_20| 0.03 >= 0.02 (no -0.1), vov <= 0.5: 0.5 + 0.2 = 0.7. */
    feat_row(f, 12, 14, 0.1);
    f[GT_RF_TREND_STRENGTH] = 31;
    f[GT_RF_VOL_OF_VOL] = 0.01;
    f[GT_RF_SPREAD5_20] = 0.03;
    f[GT_RF_SPREAD20_60] = 0.01;
    is_int(gt_regime_classify(f, info), GT_REGIME_BULL_QUIET, "bull_quiet");
    is_dbl(info[GT_RI_CONFIDENCE], 1.0, 1e-12, "all bonuses: 1.0");
    is_dbl(info[GT_RI_STABILITY], 0.7, 1e-12, "stability 0.5 + 0.2");
    /* The same with trend strength exactly 30 (no +0.2), spreads of opposite sign (no
     * +0.1), spread5_20 -0.01 (stability -0.1), vov 0.6 (no +0.1, stability -0.15):
     * confidence 0.5 + 0.1 (quiet, vol10 < 15) = 0.6; stability 0.5 - 0.1 - 0.15 + 0.2. */
    f[GT_RF_TREND_STRENGTH] = 30;
    f[GT_RF_SPREAD5_20] = -0.01;
    f[GT_RF_VOL_OF_VOL] = 0.6;
    gt_regime_classify(f, info);
    is_dbl(info[GT_RI_CONFIDENCE], 0.6, 1e-12, "confidence 0.5 + 0.1");
    is_dbl(info[GT_RI_STABILITY], 0.45, 1e-12, "stability 0.5 - 0.1 - 0.15 + 0.2");
    /* crisis with vol10 41 > 40: 0.5 + 0.2; undefined extras add nothing; stability 0.5
     * (spread NaN: |NaN| < 0.02 is false). */
    feat_row(f, 41, 60, -0.5);
    is_int(gt_regime_classify(f, info), GT_REGIME_CRISIS, "crisis");
    is_dbl(info[GT_RI_CONFIDENCE], 0.7, 1e-12, "crisis with vol10 > 40: 0.7");
    is_dbl(info[GT_RI_STABILITY], 0.5, 1e-12, "crisis stability 0.5");
}

/* The hand-worked model: pi (0.5, 0.5), A = [[0.9, 0.1], [0.2, 0.8]], means 0 and 3,
 * variances 1, observations x = (0, 3). With g = N(0;0,1) = 1/sqrt(2 pi), h = g e^-4.5:
 *   alpha1 = (g/2, h/2)                       filtered p1 = (g, h) / (g + h)
 *   alpha2 = ((0.45 g + 0.1 h) h, (0.05 g + 0.4 h) g)
 *   likelihood L = alpha2(0) + alpha2(1)
 *   beta1 = (0.9 h + 0.1 g, 0.2 h + 0.8 g)     smoothed p1 ∝ alpha1 * beta1
 *   Viterbi: delta2(0) = max(0.45 g, 0.1 h) h = 0.45 g h, delta2(1) = max(0.05 g, 0.4 h) g
 *   = 0.05 g^2 (0.05 g = 0.0199 > 0.4 h = 0.0018) > delta2(0): end in 1, came from 0. */
static gt_hmm *hand_model(void)
{
    gt_hmm *m = gt_hmm_new(2, 1);
    const double pi[2] = {0.5, 0.5}, a[4] = {0.9, 0.1, 0.2, 0.8}, mu[2] = {0, 3}, v[2] = {1, 1};
    is_int(gt_hmm_set(m, pi, a, mu, v), GT_OK, "hand model set");
    return m;
}

static void test_hmm_hand(void)
{
    gt_hmm *m = hand_model();
    const double x[2] = {0, 3};
    double g = 1.0 / sqrt(2.0 * M_PI), h = g * exp(-4.5);
    double post[4], ll = 0;
    is_int(gt_hmm_forward(m, x, 2, post, &ll), GT_OK, "forward");
    is_dbl(post[0], g / (g + h), 1e-12, "filtered p1(0)");
    double a0 = (0.45 * g + 0.1 * h) * h, a1 = (0.05 * g + 0.4 * h) * g;
    is_dbl(post[2], a0 / (a0 + a1), 1e-12, "filtered p2(0)");
    is_dbl(ll, log(a0 + a1), 1e-12, "log-likelihood");
    double sm[4], ll2 = 0;
    is_int(gt_hmm_smooth(m, x, 2, sm, &ll2), GT_OK, "smooth");
    double s0 = g / 2 * (0.9 * h + 0.1 * g), s1 = h / 2 * (0.2 * h + 0.8 * g);
    is_dbl(sm[0], s0 / (s0 + s1), 1e-12, "smoothed p1(0)");
    is_dbl(sm[2], post[2], 1e-12, "smoothed at the last bar = filtered");
    is_dbl(ll2, ll, 1e-12, "same likelihood both ways");
    int32_t path[2];
    double lp = 0;
    is_int(gt_hmm_viterbi(m, x, 2, path, &lp), GT_OK, "viterbi");
    ok(path[0] == 0 && path[1] == 1, "viterbi path (0, 1), got (%d, %d)", path[0], path[1]);
    is_dbl(lp, log(0.05 * g * g), 1e-12, "viterbi log-probability log(0.05 g^2)");

    /* A missing row is a prediction step only: p = p1 A. */
    double al[2] = {0.25, 0.75};
    is_int(gt_hmm_filter_step(m, al, 0, NULL, NULL), GT_OK, "missing row");
    is_dbl(al[0], 0.25 * 0.9 + 0.75 * 0.2, 1e-15, "prediction step");
    gt_hmm_free(m);
}

/* Normal draws for the synthetic sequence (xorshift + Box-Muller; the test's own). */
static uint64_t rs = 88172645463325252ULL;
static double unif(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return ((double)(rs >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void)
{
    return sqrt(-2 * log(unif())) * cos(2 * M_PI * unif());
}

/* 4000 draws from two states: means -1 and 2, std 0.5 and 1, stay 0.95 and 0.9. Baum-Welch
 * from 3 seeded restarts finds them within sampling error (a few standard errors: the state
 * means rest on ~2700 and ~1300 draws). The state order is arbitrary: sort by mean. */
static void test_hmm_recovery(void)
{
    enum { N = 4000 };
    double *x = malloc(sizeof *x * N);
    int s = 0;
    for (int t = 0; t < N; t++) {
        if (t > 0 && unif() > (s == 0 ? 0.95 : 0.9))
            s = 1 - s;
        x[t] = s == 0 ? -1 + 0.5 * gauss() : 2 + gauss();
    }
    gt_hmm *m = gt_hmm_new(2, 1);
    double ll = 0;
    is_int(gt_hmm_fit(m, x, N, 3, 200, 1e-8, 7, &ll), GT_OK, "fit");
    double pi[2], a[4], mu[2], v[2];
    gt_hmm_get(m, pi, a, mu, v);
    int lo = mu[0] < mu[1] ? 0 : 1, hi = 1 - lo;
    is_dbl(mu[lo], -1, 0.05, "mean of state A");
    is_dbl(mu[hi], 2, 0.1, "mean of state B");
    is_dbl(sqrt(v[lo]), 0.5, 0.05, "std of state A");
    is_dbl(sqrt(v[hi]), 1, 0.07, "std of state B");
    is_dbl(a[lo * 2 + lo], 0.95, 0.02, "stay A");
    is_dbl(a[hi * 2 + hi], 0.9, 0.03, "stay B");

    /* Same seed, same fit, bit for bit; another seed may start elsewhere but ends close. */
    gt_hmm *m2 = gt_hmm_new(2, 1);
    double ll2 = 0;
    gt_hmm_fit(m2, x, N, 3, 200, 1e-8, 7, &ll2);
    ok(ll2 == ll, "deterministic for a seed");

    /* restarts = 0 is one warm start from m itself: the seed plays no part, and starting at
     * the optimum it stays there (the likelihood cannot fall under Baum-Welch). */
    gt_hmm *w1 = gt_hmm_new(2, 1), *w2 = gt_hmm_new(2, 1);
    gt_hmm_set(w1, pi, a, mu, v);
    gt_hmm_set(w2, pi, a, mu, v);
    double lw1 = 0, lw2 = 0;
    is_int(gt_hmm_fit(w1, x, N, 0, 200, 1e-8, 1, &lw1), GT_OK, "warm start");
    gt_hmm_fit(w2, x, N, 0, 200, 1e-8, 99, &lw2);
    ok(lw1 == lw2, "warm start ignores the seed");
    ok(lw1 >= ll - 1e-6 * fabs(ll), "warm start from the fit keeps its likelihood (%.6f, %.6f)",
       lw1, ll);
    gt_hmm_free(w1);
    gt_hmm_free(w2);

    /* Causality: the filtered posterior at t depends on rows 0..t only. */
    double *p1 = malloc(sizeof *p1 * N * 2), *p2 = malloc(sizeof *p2 * N * 2);
    gt_hmm_forward(m, x, N, p1, NULL);
    for (int t = 2000; t < N; t++)
        x[t] = 10 - x[t];
    gt_hmm_forward(m, x, N, p2, NULL);
    ok(memcmp(p1, p2, sizeof *p1 * 2000 * 2) == 0, "rows before the change unchanged");
    ok(memcmp(p1 + 2000 * 2, p2 + 2000 * 2, sizeof *p1 * 2) != 0, "row at the change moved");
    free(p1);
    free(p2);
    gt_hmm_free(m);
    gt_hmm_free(m2);
    free(x);
}

static void test_hmm_errors(void)
{
    ok(gt_hmm_new(0, 1) == NULL, "0 states refused");
    ok(gt_hmm_new(2, 9) == NULL, "9 dims refused");
    gt_hmm *m = gt_hmm_new(2, 1);
    const double pi[2] = {0.5, 0.6}, a[4] = {0.9, 0.1, 0.2, 0.8}, mu[2] = {0, 3}, v[2] = {1, 0};
    is_int(gt_hmm_set(m, pi, a, mu, v), GT_EINVAL, "pi not summing to 1 refused");
    ok(strstr(gt_errmsg(), "pi row 0 sums to 1.1") != NULL, "message names it: %s", gt_errmsg());
    const double pi2[2] = {0.5, 0.5};
    is_int(gt_hmm_set(m, pi2, a, mu, v), GT_EINVAL, "zero variance refused");
    double x[3] = {1, NAN, 2}, ll;
    is_int(gt_hmm_fit(m, x, 3, 1, 10, 1e-6, 1, &ll), GT_EINVAL, "too few rows refused");
    double y[5] = {1, 2, NAN, 3, 4};
    is_int(gt_hmm_fit(m, y, 5, 1, 10, 1e-6, 1, &ll), GT_EINVAL, "NaN row refused");
    ok(strstr(gt_errmsg(), "row 2") != NULL, "message names the row: %s", gt_errmsg());
    gt_hmm_free(m);
    gt_hmm_free(NULL);
}

/* The batch feature kernel is the update in a loop: identical bits. */
static void test_feat_batch(void)
{
    enum { N = 200 };
    double hi[N], lo[N], cl[N], b[N];
    double c = 100, bc = 50;
    for (int i = 0; i < N; i++) {
        c *= 1 + 0.02 * gauss();
        bc *= 1 + 0.01 * gauss();
        cl[i] = c;
        hi[i] = c * 1.01;
        lo[i] = c * 0.99;
        b[i] = bc;
    }
    double *batch = malloc(sizeof *batch * N * GT_RF_COUNT), row[GT_RF_COUNT];
    is_int(gt_regime_features(hi, lo, cl, b, N, batch), GT_OK, "batch features");
    gt_regime_feat *f = gt_regime_feat_new();
    int same = 1;
    for (int i = 0; i < N; i++) {
        gt_regime_feat_update(f, hi[i], lo[i], cl[i], b[i], row);
        if (memcmp(row, batch + i * GT_RF_COUNT, sizeof row) != 0)
            same = 0;
    }
    ok(same, "update == batch, bit for bit");
    ok(isnan(batch[59 * GT_RF_COUNT + GT_RF_RET60]) &&
           !isnan(batch[60 * GT_RF_COUNT + GT_RF_RET60]),
       "ret60 from bar 60");
    is_int(gt_regime_feat_update(f, 1, 1, -1, NAN, row), GT_EINVAL, "negative close refused");
    ok(strstr(gt_errmsg(), "bar 200") != NULL, "message names the bar: %s", gt_errmsg());
    gt_regime_feat_free(f);
    gt_regime_feat_free(NULL);
    free(batch);
}

int main(void)
{
    test_rule_boundaries();
    test_confidence();
    test_hmm_hand();
    test_hmm_recovery();
    test_hmm_errors();
    test_feat_batch();
    return done_testing();
}
