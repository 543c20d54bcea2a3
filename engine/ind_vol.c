/*
 * ind_vol.c: volatility, trend and volume indicators. True range, ATR, standard deviation,
 * z-score, Bollinger, Keltner, Donchian, ADX/DI, Parabolic SAR, OBV, VWAP (session and
 * rolling), accumulation/distribution. Batch kernels loop over the streaming step; where
 * TA-Lib defines the indicator the arithmetic follows its source.
 */
#include "ind.h"

#include <string.h>

#define TA_IS_ZERO(v) ((v) > -1e-8 && (v) < 1e-8)

/* Checks out and the first nin inputs of a, b, c, d. */
static int check_inputs(const char *who, int64_t n, const void *out, int nin, const double *a,
                        const double *b, const double *c, const double *d)
{
    const double *in[4] = {a, b, c, d};
    int rc = ind_check_len(out, n, who);
    for (int k = 0; k < nin && rc == GT_OK; k++)
        rc = ind_check_len(in[k], n, who);
    return rc;
}

/* ---- true range, ATR ---- */

int gt_ind_trange_init(gt_ind_trange_state *s)
{
    s->prev_close = IND_NAN;
    s->count = 0;
    return GT_OK;
}

double gt_ind_trange_update(gt_ind_trange_state *s, double high, double low, double close)
{
    if (isnan(high) || isnan(low) || isnan(close))
        return IND_NAN;
    double tr = s->count++ == 0 ? high - low : true_range(high, low, s->prev_close);
    s->prev_close = close;
    return tr;
}

int gt_ind_trange(const double *high, const double *low, const double *close, int64_t n,
                  double *out)
{
    gt_ind_trange_state s;
    int rc;
    if ((rc = ind_check_len(high, n, "trange")) < 0 || (rc = ind_check_len(low, n, "trange")) < 0 ||
        (rc = ind_check_len(close, n, "trange")) < 0 || (rc = ind_check_len(out, n, "trange")) < 0)
        return rc;
    gt_ind_trange_init(&s);
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_trange_update(&s, high[i], low[i], close[i]);
    return GT_OK;
}

int gt_ind_atr_init(gt_ind_atr_state *s, int32_t period)
{
    int rc = ind_check_period("atr", period, 1);
    if (rc < 0)
        return rc;
    gt_ind_trange_init(&s->tr);
    smma_setup(&s->avg, period);
    return GT_OK;
}

double gt_ind_atr_update(gt_ind_atr_state *s, double high, double low, double close)
{
    if (isnan(high) || isnan(low) || isnan(close))
        return IND_NAN;
    double tr = gt_ind_trange_update(&s->tr, high, low, close);
    if (s->tr.count == 1) /* the first bar's high - low is not a true range: skip it */
        return IND_NAN;
    return smma_step(&s->avg, tr);
}

int gt_ind_atr(const double *high, const double *low, const double *close, int64_t n, double *out,
               int32_t period)
{
    gt_ind_atr_state s;
    int rc;
    if ((rc = ind_check_len(high, n, "atr")) < 0 || (rc = ind_check_len(low, n, "atr")) < 0 ||
        (rc = ind_check_len(close, n, "atr")) < 0 || (rc = ind_check_len(out, n, "atr")) < 0 ||
        (rc = gt_ind_atr_init(&s, period)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_atr_update(&s, high[i], low[i], close[i]);
    return GT_OK;
}

/* ---- standard deviation, z-score ---- */

int gt_ind_stddev_init(gt_ind_stddev_state *s, int32_t period, int32_t ddof)
{
    int rc = ind_check_period("stddev", period, 1);
    if (rc < 0)
        return rc;
    if (ddof != 0 && ddof != 1)
        return gt_seterr(GT_EINVAL, "ind: stddev: ddof is 0 (population) or 1 (sample), got %d", ddof);
    if (ddof >= period)
        return gt_seterr(GT_EINVAL, "ind: stddev: a sample deviation (ddof 1) needs period >= 2");
    s->sum = s->sumsq = s->shift = 0;
    s->mean = IND_NAN;
    s->period = period;
    s->ddof = ddof;
    return ring_init(&s->win, period);
}

void gt_ind_stddev_fini(gt_ind_stddev_state *s)
{
    if (s)
        ring_fini(&s->win);
}

static inline double stddev_step(gt_ind_stddev_state *s, double x)
{
    gt_ind_ring *r = &s->win;
    if (r->count == 0)
        s->shift = x;
    double d = x - s->shift;
    if (ring_full(r)) {
        double o = ring_oldest(r) - s->shift;
        s->sum += d - o;
        s->sumsq += d * d - o * o;
    } else {
        s->sum += d;
        s->sumsq += d * d;
    }
    ring_push(r, x);
    if (!ring_full(r))
        return IND_NAN;
    double p = (double)s->period, m = s->sum / p;
    double var = s->sumsq / p - m * m;
    s->mean = s->shift + m;
    if (s->ddof)
        var *= p / (p - (double)s->ddof);
    return var > 0 ? sqrt(var) : 0.0;
}

double gt_ind_stddev_update(gt_ind_stddev_state *s, double x)
{
    return isnan(x) ? IND_NAN : stddev_step(s, x);
}

int gt_ind_stddev(const double *in, int64_t n, double *out, int32_t period, int32_t ddof)
{
    gt_ind_stddev_state s;
    int rc = check1("stddev", in, n, out, period, 1);
    if (rc < 0 || (rc = gt_ind_stddev_init(&s, period, ddof)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_stddev_update(&s, in[i]);
    gt_ind_stddev_fini(&s);
    return GT_OK;
}

int gt_ind_zscore_init(gt_ind_zscore_state *s, int32_t period)
{
    return gt_ind_stddev_init(&s->sd, period, 0);
}

void gt_ind_zscore_fini(gt_ind_zscore_state *s)
{
    if (s)
        gt_ind_stddev_fini(&s->sd);
}

double gt_ind_zscore_update(gt_ind_zscore_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    double sd = stddev_step(&s->sd, x);
    return sd > 0 ? (x - s->sd.mean) / sd : IND_NAN;
}

IND_BATCH(zscore, 1, gt_ind_zscore_fini(&s))

/* ---- Bollinger bands ---- */

int gt_ind_bbands_init(gt_ind_bbands_state *s, int32_t period, double k)
{
    if (!(k >= 0 && k < 1e6))
        return gt_seterr(GT_EINVAL, "ind: bbands: width %g is not >= 0", k);
    s->k = k;
    s->mid = s->upper = s->lower = s->pctb = s->width = IND_NAN;
    return gt_ind_stddev_init(&s->sd, period, 0);
}

void gt_ind_bbands_fini(gt_ind_bbands_state *s)
{
    if (s)
        gt_ind_stddev_fini(&s->sd);
}

double gt_ind_bbands_update(gt_ind_bbands_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    double sd = stddev_step(&s->sd, x);
    if (isnan(sd))
        return IND_NAN;
    s->mid = s->sd.mean;
    s->upper = s->mid + s->k * sd;
    s->lower = s->mid - s->k * sd;
    /* zero-width bands put the price in the middle */
    s->pctb = s->upper > s->lower ? (x - s->lower) / (s->upper - s->lower) : 0.5;
    s->width = s->mid != 0.0 ? (s->upper - s->lower) / s->mid : IND_NAN;
    return s->mid;
}

int gt_ind_bbands(const double *in, int64_t n, double **out, int32_t period, double k)
{
    gt_ind_bbands_state s;
    int rc;
    if ((rc = check_inputs("bbands", n, out, 1, in, NULL, NULL, NULL)) < 0 ||
        (rc = gt_ind_bbands_init(&s, period, k)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++) {
        int miss = isnan(gt_ind_bbands_update(&s, in[i]));
        ind_put(out, 0, i, miss ? IND_NAN : s.mid);
        ind_put(out, 1, i, miss ? IND_NAN : s.upper);
        ind_put(out, 2, i, miss ? IND_NAN : s.lower);
        ind_put(out, 3, i, miss ? IND_NAN : s.pctb);
        ind_put(out, 4, i, miss ? IND_NAN : s.width);
    }
    gt_ind_bbands_fini(&s);
    return GT_OK;
}

/* ---- Keltner ---- */

int gt_ind_keltner_init(gt_ind_keltner_state *s, int32_t period, int32_t atr_period, double mult)
{
    int rc;
    if ((rc = ind_check_period("keltner", period, 1)) < 0 ||
        (rc = gt_ind_atr_init(&s->atr, atr_period)) < 0)
        return rc;
    if (!(mult >= 0 && mult < 1e6))
        return gt_seterr(GT_EINVAL, "ind: keltner: multiplier %g is not >= 0", mult);
    ema_setup(&s->ema, period, GT_IND_SEED_SMA);
    s->mult = mult;
    s->mid = s->upper = s->lower = IND_NAN;
    return GT_OK;
}

double gt_ind_keltner_update(gt_ind_keltner_state *s, double high, double low, double close)
{
    if (isnan(high) || isnan(low) || isnan(close))
        return IND_NAN;
    double m = ema_step(&s->ema, close);
    double a = gt_ind_atr_update(&s->atr, high, low, close);
    if (isnan(m) || isnan(a)) {
        s->mid = s->upper = s->lower = IND_NAN;
        return IND_NAN;
    }
    s->mid = m;
    s->upper = m + s->mult * a;
    s->lower = m - s->mult * a;
    return m;
}

int gt_ind_keltner(const double *high, const double *low, const double *close, int64_t n,
                   double **out, int32_t period, int32_t atr_period, double mult)
{
    gt_ind_keltner_state s;
    int rc;
    if ((rc = check_inputs("keltner", n, out, 3, high, low, close, NULL)) < 0 ||
        (rc = gt_ind_keltner_init(&s, period, atr_period, mult)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++) {
        int miss = isnan(gt_ind_keltner_update(&s, high[i], low[i], close[i]));
        ind_put(out, 0, i, miss ? IND_NAN : s.mid);
        ind_put(out, 1, i, miss ? IND_NAN : s.upper);
        ind_put(out, 2, i, miss ? IND_NAN : s.lower);
    }
    return GT_OK;
}

/* ---- Donchian ---- */

void gt_ind_donchian_fini(gt_ind_donchian_state *s)
{
    if (!s)
        return;
    minmax_fini(&s->hh);
    minmax_fini(&s->ll);
}

int gt_ind_donchian_init(gt_ind_donchian_state *s, int32_t period)
{
    int rc = ind_check_period("donchian", period, 1);
    if (rc < 0)
        return rc;
    memset(s, 0, sizeof *s);
    s->upper = s->lower = s->mid = IND_NAN;
    if ((rc = minmax_init(&s->hh, period, 1)) < 0 || (rc = minmax_init(&s->ll, period, 0)) < 0) {
        gt_ind_donchian_fini(s);
        return rc;
    }
    return GT_OK;
}

double gt_ind_donchian_update(gt_ind_donchian_state *s, double high, double low)
{
    if (isnan(high) || isnan(low))
        return IND_NAN;
    double h = minmax_push(&s->hh, high), l = minmax_push(&s->ll, low);
    if (!minmax_full(&s->hh))
        return IND_NAN;
    s->upper = h;
    s->lower = l;
    s->mid = (h + l) / 2.0;
    return h;
}

int gt_ind_donchian(const double *high, const double *low, int64_t n, double **out, int32_t period)
{
    gt_ind_donchian_state s;
    int rc;
    if ((rc = check_inputs("donchian", n, out, 2, high, low, NULL, NULL)) < 0 ||
        (rc = gt_ind_donchian_init(&s, period)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++) {
        int miss = isnan(gt_ind_donchian_update(&s, high[i], low[i]));
        ind_put(out, 0, i, miss ? IND_NAN : s.upper);
        ind_put(out, 1, i, miss ? IND_NAN : s.lower);
        ind_put(out, 2, i, miss ? IND_NAN : s.mid);
    }
    gt_ind_donchian_fini(&s);
    return GT_OK;
}

/* ---- ADX, +DI, -DI (TA-Lib's ADX: running sums seeded over period - 1 moves) ---- */

int gt_ind_adx_init(gt_ind_adx_state *s, int32_t period)
{
    int rc = ind_check_period("adx", period, 1);
    if (rc < 0)
        return rc;
    memset(s, 0, sizeof *s);
    s->adx = s->pdi = s->mdi = IND_NAN;
    s->period = period;
    return GT_OK;
}

double gt_ind_adx_update(gt_ind_adx_state *s, double high, double low, double close)
{
    if (isnan(high) || isnan(low) || isnan(close))
        return IND_NAN;
    const int64_t n = s->period, cnt = s->count++;
    const double dn = (double)n;
    if (cnt == 0) {
        s->prev_high = high;
        s->prev_low = low;
        s->prev_close = close;
        return IND_NAN;
    }
    double dp = high - s->prev_high, dm = s->prev_low - low, pdm = 0, mdm = 0;
    if (dm > 0 && dp < dm)
        mdm = dm;
    else if (dp > 0 && dp > dm)
        pdm = dp;
    double tr = true_range(high, low, s->prev_close);
    s->prev_high = high;
    s->prev_low = low;
    s->prev_close = close;
    if (cnt < n) {
        s->pdm += pdm;
        s->mdm += mdm;
        s->tr += tr;
        return IND_NAN;
    }
    s->mdm -= s->mdm / dn;
    s->pdm -= s->pdm / dn;
    s->mdm += mdm;
    s->pdm += pdm;
    s->tr = s->tr - (s->tr / dn) + tr;
    int have_dx = 0;
    double dx = 0;
    if (!TA_IS_ZERO(s->tr)) {
        s->mdi = 100.0 * (s->mdm / s->tr);
        s->pdi = 100.0 * (s->pdm / s->tr);
        double t = s->mdi + s->pdi;
        if (!TA_IS_ZERO(t)) {
            dx = 100.0 * (fabs(s->mdi - s->pdi) / t);
            have_dx = 1;
        }
    } else {
        s->mdi = s->pdi = 0.0;
    }
    if (cnt < 2 * n - 1) {
        if (have_dx)
            s->sum_dx += dx;
        return IND_NAN;
    }
    if (cnt == 2 * n - 1) {
        if (have_dx)
            s->sum_dx += dx;
        s->adx = s->sum_dx / dn;
    } else if (have_dx) {
        s->adx = ((s->adx * (dn - 1.0)) + dx) / dn;
    }
    return s->adx;
}

int gt_ind_adx(const double *high, const double *low, const double *close, int64_t n, double **out,
               int32_t period)
{
    gt_ind_adx_state s;
    int rc;
    if ((rc = check_inputs("adx", n, out, 3, high, low, close, NULL)) < 0 ||
        (rc = gt_ind_adx_init(&s, period)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++) {
        double a = gt_ind_adx_update(&s, high[i], low[i], close[i]);
        int miss = isnan(high[i]) || isnan(low[i]) || isnan(close[i]);
        ind_put(out, 0, i, a);
        ind_put(out, 1, i, miss ? IND_NAN : s.pdi);
        ind_put(out, 2, i, miss ? IND_NAN : s.mdi);
    }
    return GT_OK;
}

/* ---- Parabolic SAR (TA-Lib's SAR, step by step) ---- */

int gt_ind_sar_init(gt_ind_sar_state *s, double accel, double max_accel)
{
    if (!(accel > 0 && max_accel > 0 && accel < 1e3 && max_accel < 1e3))
        return gt_seterr(GT_EINVAL, "ind: sar: acceleration %g / maximum %g must be > 0", accel,
                         max_accel);
    memset(s, 0, sizeof *s);
    if (accel > max_accel)
        accel = max_accel;
    s->accel = accel;
    s->max_accel = max_accel;
    s->af = accel;
    s->ep = s->sar = IND_NAN;
    return GT_OK;
}

double gt_ind_sar_update(gt_ind_sar_state *s, double high, double low)
{
    if (isnan(high) || isnan(low))
        return IND_NAN;
    int64_t cnt = s->count++;
    if (cnt == 0) {
        s->prev_high = high;
        s->prev_low = low;
        return IND_NAN;
    }
    double ph, pl; /* "yesterday" as TA-Lib sees it; on the first call, today itself */
    if (cnt == 1) {
        /* direction from the first two bars: short when -DM(1) > 0 */
        double dm = s->prev_low - low, dp = high - s->prev_high;
        double mdm = (dm > 0 && dp < dm) ? dm : 0.0;
        s->is_long = !(mdm > 0);
        if (s->is_long) {
            s->ep = high;
            s->sar = s->prev_low;
        } else {
            s->ep = low;
            s->sar = s->prev_high;
        }
        ph = high;
        pl = low;
    } else {
        ph = s->prev_high;
        pl = s->prev_low;
    }
    s->prev_high = high;
    s->prev_low = low;
    double out;
    if (s->is_long) {
        if (low <= s->sar) { /* penetrated: switch to short at the extreme point */
            s->is_long = 0;
            s->sar = s->ep;
            if (s->sar < ph)
                s->sar = ph;
            if (s->sar < high)
                s->sar = high;
            out = s->sar;
            s->af = s->accel;
            s->ep = low;
            s->sar = s->sar + s->af * (s->ep - s->sar);
            if (s->sar < ph)
                s->sar = ph;
            if (s->sar < high)
                s->sar = high;
        } else {
            out = s->sar;
            if (high > s->ep) {
                s->ep = high;
                s->af += s->accel;
                if (s->af > s->max_accel)
                    s->af = s->max_accel;
            }
            s->sar = s->sar + s->af * (s->ep - s->sar);
            if (s->sar > pl)
                s->sar = pl;
            if (s->sar > low)
                s->sar = low;
        }
    } else {
        if (high >= s->sar) { /* switch to long */
            s->is_long = 1;
            s->sar = s->ep;
            if (s->sar > pl)
                s->sar = pl;
            if (s->sar > low)
                s->sar = low;
            out = s->sar;
            s->af = s->accel;
            s->ep = high;
            s->sar = s->sar + s->af * (s->ep - s->sar);
            if (s->sar > pl)
                s->sar = pl;
            if (s->sar > low)
                s->sar = low;
        } else {
            out = s->sar;
            if (low < s->ep) {
                s->ep = low;
                s->af += s->accel;
                if (s->af > s->max_accel)
                    s->af = s->max_accel;
            }
            s->sar = s->sar + s->af * (s->ep - s->sar);
            if (s->sar < ph)
                s->sar = ph;
            if (s->sar < high)
                s->sar = high;
        }
    }
    return out;
}

int gt_ind_sar(const double *high, const double *low, int64_t n, double *out, double accel,
               double max_accel)
{
    gt_ind_sar_state s;
    int rc;
    if ((rc = check_inputs("sar", n, out, 2, high, low, NULL, NULL)) < 0 ||
        (rc = gt_ind_sar_init(&s, accel, max_accel)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_sar_update(&s, high[i], low[i]);
    return GT_OK;
}

/* ---- OBV ---- */

int gt_ind_obv_init(gt_ind_obv_state *s)
{
    s->prev = s->value = IND_NAN;
    s->count = 0;
    return GT_OK;
}

double gt_ind_obv_update(gt_ind_obv_state *s, double close, double volume)
{
    if (isnan(close) || isnan(volume))
        return IND_NAN;
    if (s->count++ == 0)
        s->value = volume;
    else if (close > s->prev)
        s->value += volume;
    else if (close < s->prev)
        s->value -= volume;
    s->prev = close;
    return s->value;
}

int gt_ind_obv(const double *close, const double *volume, int64_t n, double *out)
{
    gt_ind_obv_state s;
    int rc;
    if ((rc = check_inputs("obv", n, out, 2, close, volume, NULL, NULL)) < 0)
        return rc;
    gt_ind_obv_init(&s);
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_obv_update(&s, close[i], volume[i]);
    return GT_OK;
}

/* ---- VWAP ---- */

#define DAY_US INT64_C(86400000000)

int gt_ind_vwap_init(gt_ind_vwap_state *s, int64_t offset_us)
{
    if (offset_us <= -DAY_US || offset_us >= DAY_US)
        return gt_seterr(GT_EINVAL, "ind: vwap: session offset %lld us is not within a day",
                         (long long)offset_us);
    memset(s, 0, sizeof *s);
    s->offset_us = offset_us;
    return GT_OK;
}

double gt_ind_vwap_update(gt_ind_vwap_state *s, int64_t ts, double high, double low, double close,
                          double volume)
{
    if (isnan(high) || isnan(low) || isnan(close) || isnan(volume))
        return IND_NAN;
    int64_t t = ts + s->offset_us;
    int64_t day = t / DAY_US - (t % DAY_US < 0); /* floor division */
    if (s->count++ == 0 || day != s->day) {
        s->day = day;
        s->pv = s->vol = 0;
    }
    s->pv += (high + low + close) / 3.0 * volume;
    s->vol += volume;
    return s->vol > 0 ? s->pv / s->vol : IND_NAN;
}

int gt_ind_vwap(const int64_t *ts, const double *high, const double *low, const double *close,
                const double *volume, int64_t n, double *out, int64_t offset_us)
{
    gt_ind_vwap_state s;
    int rc;
    if ((rc = ind_check_len(ts, n, "vwap")) < 0 ||
        (rc = check_inputs("vwap", n, out, 4, high, low, close, volume)) < 0 ||
        (rc = gt_ind_vwap_init(&s, offset_us)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_vwap_update(&s, ts[i], high[i], low[i], close[i], volume[i]);
    return GT_OK;
}

void gt_ind_rvwap_fini(gt_ind_rvwap_state *s)
{
    if (!s)
        return;
    ring_fini(&s->pv);
    ring_fini(&s->vol);
}

int gt_ind_rvwap_init(gt_ind_rvwap_state *s, int32_t period)
{
    int rc = ind_check_period("rvwap", period, 1);
    if (rc < 0)
        return rc;
    memset(s, 0, sizeof *s);
    if ((rc = ring_init(&s->pv, period)) < 0 || (rc = ring_init(&s->vol, period)) < 0) {
        gt_ind_rvwap_fini(s);
        return rc;
    }
    return GT_OK;
}

double gt_ind_rvwap_update(gt_ind_rvwap_state *s, double high, double low, double close,
                           double volume)
{
    if (isnan(high) || isnan(low) || isnan(close) || isnan(volume))
        return IND_NAN;
    ring_roll(&s->pv, &s->pv_sum, (high + low + close) / 3.0 * volume);
    ring_roll(&s->vol, &s->vol_sum, volume);
    if (!ring_full(&s->vol))
        return IND_NAN;
    return s->vol_sum > 0 ? s->pv_sum / s->vol_sum : IND_NAN;
}

int gt_ind_rvwap(const double *high, const double *low, const double *close, const double *volume,
                 int64_t n, double *out, int32_t period)
{
    gt_ind_rvwap_state s;
    int rc;
    if ((rc = check_inputs("rvwap", n, out, 4, high, low, close, volume)) < 0 ||
        (rc = gt_ind_rvwap_init(&s, period)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_rvwap_update(&s, high[i], low[i], close[i], volume[i]);
    gt_ind_rvwap_fini(&s);
    return GT_OK;
}

/* ---- accumulation / distribution (TA-Lib's AD) ---- */

int gt_ind_ad_init(gt_ind_ad_state *s)
{
    s->value = 0;
    return GT_OK;
}

double gt_ind_ad_update(gt_ind_ad_state *s, double high, double low, double close, double volume)
{
    if (isnan(high) || isnan(low) || isnan(close) || isnan(volume))
        return IND_NAN;
    double range = high - low;
    if (range > 0.0)
        s->value += (((close - low) - (high - close)) / range) * volume;
    return s->value;
}

int gt_ind_ad(const double *high, const double *low, const double *close, const double *volume,
              int64_t n, double *out)
{
    gt_ind_ad_state s;
    int rc;
    if ((rc = check_inputs("ad", n, out, 4, high, low, close, volume)) < 0)
        return rc;
    gt_ind_ad_init(&s);
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_ad_update(&s, high[i], low[i], close[i], volume[i]);
    return GT_OK;
}
