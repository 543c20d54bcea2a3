/*
 * regime.c: per-bar regime features as a streaming state and the seed's rule classifier.
 * The windows are short (at most 61 closes), so each feature is recomputed from its window
 * with a direct loop instead of a running sum: the result is the textbook formula, whatever
 * happened before, which is what the hand-derived tests check. Each window is a ring stored
 * twice over (a value goes to slot p and p + cap), so the newest k values are always one
 * contiguous run and the loops index without a modulo.
 */
#include "regime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ind.h"

/* A ring of CAP values kept twice: the newest k are v[pos + cap - k + 1 .. pos + cap]. */
#define WIN(name, cap)                                                                             \
    struct {                                                                                       \
        double v[2 * (cap)];                                                                       \
        int32_t pos;                                                                               \
    } name

struct gt_regime_feat {
    WIN(close, RF_HISTORY);
    WIN(ret, RF_CORR_WINDOW);  /* simple returns */
    WIN(bret, RF_CORR_WINDOW); /* benchmark returns at the same bars (NaN: none) */
    WIN(sd10, RF_VOV_WINDOW);  /* the rolling 10-return sample std */
    int64_t bars;              /* closes seen */
    int64_t nsd;               /* rolling stds seen */
    double prev_bench;
    gt_ind_adx_state adx;
};

#define WIN_PUSH(w, cap, x)                                                                        \
    do {                                                                                           \
        (w).pos = (w).pos + 1 == (cap) ? 0 : (w).pos + 1;                                          \
        (w).v[(w).pos] = (w).v[(w).pos + (cap)] = (x);                                             \
    } while (0)
/* Pointer to the oldest of the newest k values (oldest first). */
#define WIN_LAST(w, cap, k) ((w).v + (w).pos + (cap) - (k) + 1)

gt_regime_feat *gt_regime_feat_new(void)
{
    gt_regime_feat *f = calloc(1, sizeof *f);
    if (!f) {
        gt_seterr(GT_ENOMEM, "regime: feature state");
        return NULL;
    }
    f->prev_bench = NAN;
    gt_ind_adx_init(&f->adx, RF_ADX_PERIOD);
    return f;
}

void gt_regime_feat_free(gt_regime_feat *f)
{
    free(f);
}

static double mean(const double *x, int n)
{
    double m = 0;
    for (int k = 0; k < n; k++)
        m += x[k];
    return m / n;
}

/* Sample (n - 1) standard deviation. */
static double sample_std(const double *x, int n)
{
    double m = mean(x, n), ss = 0;
    for (int k = 0; k < n; k++)
        ss += (x[k] - m) * (x[k] - m);
    return sqrt(ss / (n - 1));
}

/* Least-squares slope of y against x = 0 .. n-1. */
static double slope(const double *y, int n)
{
    double mx = (n - 1) / 2.0, my = mean(y, n), sxy = 0, sxx = 0;
    for (int k = 0; k < n; k++) {
        double dx = k - mx;
        sxy += dx * (y[k] - my);
        sxx += dx * dx;
    }
    return sxy / sxx;
}

static double corr(const double *a, const double *b, int n)
{
    for (int k = 0; k < n; k++)
        if (!isfinite(b[k]))
            return NAN;
    double ma = mean(a, n), mb = mean(b, n), sab = 0, saa = 0, sbb = 0;
    for (int k = 0; k < n; k++) {
        double da = a[k] - ma, db = b[k] - mb;
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    if (saa <= 0 || sbb <= 0)
        return NAN;
    return sab / sqrt(saa * sbb);
}

int gt_regime_feat_update(gt_regime_feat *f, double high, double low, double close, double bench,
                          double *out)
{
    if (!f || !out)
        return gt_seterr(GT_EINVAL, "regime: NULL feature state or output");
    if (!isfinite(close) || close <= 0)
        return gt_seterr(GT_EINVAL, "regime: bar %lld: close %g is not a positive number",
                         (long long)f->bars, close);
    for (int k = 0; k < GT_RF_COUNT; k++)
        out[k] = NAN;
    out[GT_RF_ADX] = gt_ind_adx_update(&f->adx, high, low, close);
    if (f->bars > 0) {
        double prev = f->close.v[f->close.pos];
        WIN_PUSH(f->ret, RF_CORR_WINDOW, close / prev - 1.0);
        double b = isfinite(bench) && isfinite(f->prev_bench) && f->prev_bench > 0
                       ? bench / f->prev_bench - 1.0
                       : NAN;
        WIN_PUSH(f->bret, RF_CORR_WINDOW, b);
    }
    f->prev_bench = bench;
    WIN_PUSH(f->close, RF_HISTORY, close);
    f->bars++;
    int64_t nr = f->bars - 1; /* returns so far */
    if (nr >= RF_VOL_SHORT) {
        double sd = sample_std(WIN_LAST(f->ret, RF_CORR_WINDOW, RF_VOL_SHORT), RF_VOL_SHORT);
        out[GT_RF_VOL10] = sd * sqrt(252.0) * 100.0;
        WIN_PUSH(f->sd10, RF_VOV_WINDOW, sd);
        if (++f->nsd >= RF_VOV_WINDOW)
            out[GT_RF_VOL_OF_VOL] =
                sample_std(WIN_LAST(f->sd10, RF_VOV_WINDOW, RF_VOV_WINDOW), RF_VOV_WINDOW);
    }
    if (nr >= RF_VOL_LONG) {
        const double *r = WIN_LAST(f->ret, RF_CORR_WINDOW, RF_VOL_LONG);
        out[GT_RF_VOL30] = sample_std(r, RF_VOL_LONG) * sqrt(252.0) * 100.0;
        out[GT_RF_CORR] =
            corr(r, WIN_LAST(f->bret, RF_CORR_WINDOW, RF_CORR_WINDOW), RF_CORR_WINDOW);
    }
    const double *c = f->close.v + f->close.pos + RF_HISTORY; /* c[0] newest, c[-k] k back */
    static const int lags[4] = {1, 5, 20, 60};
    for (int j = 0; j < 4; j++)
        if (nr >= lags[j])
            out[GT_RF_RET1 + j] = close / c[-lags[j]] - 1.0;
    if (nr >= 60)
        out[GT_RF_TREND_ANN] = pow(1.0 + out[GT_RF_RET60], 365.0 / 60.0) - 1.0;
    if (f->bars >= 20) {
        const double *w20 = c - 19;
        double s20 = mean(w20, 20);
        out[GT_RF_SPREAD5_20] = (mean(c - 4, 5) - s20) / s20;
        double t = slope(w20, RF_TREND_WINDOW) / s20 * 100.0 * RF_TREND_WINDOW;
        out[GT_RF_TREND_STRENGTH] = t > 100 ? 100 : t < -100 ? -100 : t;
        if (f->bars >= 60) {
            double s60 = mean(c - 59, 60);
            out[GT_RF_SPREAD20_60] = (s20 - s60) / s60;
        }
    }
    return GT_OK;
}

static int check_bars(const char *who, const double *high, const double *low, const double *close,
                      int64_t n)
{
    if (n < 0)
        return gt_seterr(GT_EINVAL, "regime: %s: negative length %lld", who, (long long)n);
    if (n > 0 && (!high || !low || !close))
        return gt_seterr(GT_EINVAL, "regime: %s: NULL high, low or close column", who);
    return GT_OK;
}

int gt_regime_features(const double *high, const double *low, const double *close,
                       const double *bench, int64_t n, double *out)
{
    return gt_regime_rules(high, low, close, bench, n, out, NULL, NULL);
}

/* ---- the seed's rules ---- */

static int vol_class(double vol30)
{
    return vol30 < 15   ? GT_RVOL_LOW
           : vol30 < 25 ? GT_RVOL_MEDIUM
           : vol30 < 40 ? GT_RVOL_HIGH
                        : GT_RVOL_EXTREME;
}

static int trend_class(double t)
{
    return t > 0.20    ? GT_RTREND_STRONG_UP
           : t > 0.05  ? GT_RTREND_UP
           : t > -0.05 ? GT_RTREND_SIDEWAYS
           : t > -0.20 ? GT_RTREND_DOWN
                       : GT_RTREND_STRONG_DOWN;
}

/* NaN correlation (no benchmark) makes both comparisons false. */
static int risk_class(double corr_m, double vol10)
{
    if (corr_m > 0.7 && vol10 < 20)
        return GT_RRISK_ON;
    if (vol10 > 30 || corr_m < -0.3)
        return GT_RRISK_OFF;
    return GT_RRISK_NEUTRAL;
}

int32_t gt_regime_classify(const double *feat, double *info)
{
    double vol10 = feat[GT_RF_VOL10], vol30 = feat[GT_RF_VOL30], tr = feat[GT_RF_TREND_ANN];
    if (isnan(vol10) || isnan(vol30) || isnan(tr))
        return -1;
    int v = vol_class(vol30), t = trend_class(tr), r = risk_class(feat[GT_RF_CORR], vol10);
    int quiet = v == GT_RVOL_LOW || v == GT_RVOL_MEDIUM;
    int32_t reg;
    if (v == GT_RVOL_EXTREME && r == GT_RRISK_OFF)
        reg = GT_REGIME_CRISIS;
    else if (t >= GT_RTREND_UP)
        reg = quiet ? GT_REGIME_BULL_QUIET : GT_REGIME_BULL_VOLATILE;
    else if (t <= GT_RTREND_DOWN)
        reg = quiet ? GT_REGIME_BEAR_QUIET : GT_REGIME_BEAR_VOLATILE;
    else
        reg = quiet ? GT_REGIME_SIDEWAYS_QUIET : GT_REGIME_SIDEWAYS_VOLATILE;
    if (!info)
        return reg;
    double ts = feat[GT_RF_TREND_STRENGTH], vov = feat[GT_RF_VOL_OF_VOL];
    double s1 = feat[GT_RF_SPREAD5_20], s2 = feat[GT_RF_SPREAD20_60];
    double conf = 0.5;
    if (fabs(ts) > 30)
        conf += 0.2;
    if (vov < 0.3)
        conf += 0.1;
    if ((s1 > 0 && s2 > 0) || (s1 < 0 && s2 < 0))
        conf += 0.1;
    if ((reg == GT_REGIME_BULL_QUIET || reg == GT_REGIME_BEAR_QUIET) && vol10 < 15)
        conf += 0.1;
    if (reg == GT_REGIME_CRISIS && vol10 > 40)
        conf += 0.2;
    double stab = 0.5;
    if (fabs(s1) < 0.02)
        stab -= 0.1;
    if (vov > 0.5)
        stab -= 0.15;
    if ((reg == GT_REGIME_BULL_QUIET || reg == GT_REGIME_SIDEWAYS_QUIET) && vol10 < vol30)
        stab += 0.2;
    info[GT_RI_CONFIDENCE] = conf > 1.0 ? 1.0 : conf;
    info[GT_RI_STABILITY] = stab;
    info[GT_RI_VOL] = v;
    info[GT_RI_TREND] = t;
    info[GT_RI_RISK] = r;
    return reg;
}

int gt_regime_rules(const double *high, const double *low, const double *close, const double *bench,
                    int64_t n, double *feat, int8_t *codes, double *info)
{
    int rc = check_bars("rules", high, low, close, n);
    if (rc < 0)
        return rc;
    gt_regime_feat *f = gt_regime_feat_new();
    if (!f)
        return GT_ENOMEM;
    double row[GT_RF_COUNT], inf[GT_RI_COUNT];
    for (int64_t i = 0; i < n; i++) {
        if ((rc = gt_regime_feat_update(f, high[i], low[i], close[i], bench ? bench[i] : NAN,
                                        row)) < 0)
            goto out;
        if (feat)
            memcpy(feat + i * GT_RF_COUNT, row, sizeof row);
        if (codes || info) {
            for (int k = 0; k < GT_RI_COUNT; k++)
                inf[k] = NAN;
            int32_t c = gt_regime_classify(row, inf);
            if (codes)
                codes[i] = (int8_t)c;
            if (info)
                memcpy(info + i * GT_RI_COUNT, inf, sizeof inf);
        }
    }
out:
    gt_regime_feat_free(f);
    return rc;
}
