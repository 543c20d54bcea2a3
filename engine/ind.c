/*
 * ind.c: moving averages (SMA, EMA, WMA, SMMA, DEMA, TEMA, HMA, KAMA, ZLEMA, TRIX) and the
 * utilities (highest/lowest, sum, crossovers, linear-regression slope, envelopes,
 * Heikin-Ashi, Ichimoku). SMA and EMA have hand-written batch loops for speed; the others
 * loop over the same step the streaming _update runs, so batch and stream agree exactly.
 */
#include "ind.h"

#include <string.h>

/* Checks one input, the output and a period; returns GT_OK or a negative code. */
/* ---- SMA ---- */

int gt_ind_sma_init(gt_ind_sma_state *s, int32_t period)
{
    int rc = ind_check_period("sma", period, 1);
    return rc < 0 ? rc : sma_init(s, period);
}

double gt_ind_sma_update(gt_ind_sma_state *s, double x)
{
    return isnan(x) ? IND_NAN : sma_step(s, x);
}

void gt_ind_sma_fini(gt_ind_sma_state *s)
{
    if (s)
        ring_fini(&s->win);
}

/* A tight loop reading the trailing value from the input itself. An interior NaN (a
 * missing bar) hands over to the streaming state, rebuilt from the current window, so the
 * numbers stay the stream's. */
int gt_ind_sma(const double *in, int64_t n, double *out, int32_t period)
{
    int rc = check1("sma", in, n, out, period, 1);
    if (rc < 0)
        return rc;
    const int64_t p = period;
    const double dp = (double)p;
    int64_t i = 0;
    while (i < n && isnan(in[i]))
        out[i++] = IND_NAN;
    const int64_t s0 = i;
    double sum = 0;
    for (; i < n && i < s0 + p; i++) {
        double x = in[i];
        if (isnan(x))
            goto slow;
        sum += x;
        out[i] = i == s0 + p - 1 ? sum / dp : IND_NAN;
    }
    for (; i < n; i++) {
        double x = in[i];
        if (isnan(x))
            goto slow;
        sum += x - in[i - p];
        out[i] = sum / dp;
    }
    return GT_OK;
slow:;
    gt_ind_sma_state st;
    if ((rc = sma_init(&st, p)) < 0)
        return rc;
    for (int64_t j = GT_MAX(s0, i - p); j < i; j++)
        ring_push(&st.win, in[j]);
    st.sum = sum;
    for (; i < n; i++)
        out[i] = gt_ind_sma_update(&st, in[i]);
    ring_fini(&st.win);
    return GT_OK;
}

/* ---- EMA ---- */

int gt_ind_ema_init(gt_ind_ema_state *s, int32_t period, int32_t seed)
{
    int rc = ind_check_period("ema", period, 1);
    if (rc < 0)
        return rc;
    if (seed != GT_IND_SEED_SMA && seed != GT_IND_SEED_FIRST)
        return gt_seterr(GT_EINVAL, "ind: ema: unknown seed mode %d", (int)seed);
    ema_setup(s, period, seed);
    return GT_OK;
}

double gt_ind_ema_update(gt_ind_ema_state *s, double x)
{
    return isnan(x) ? IND_NAN : ema_step(s, x);
}

int gt_ind_ema(const double *in, int64_t n, double *out, int32_t period, int32_t seed)
{
    int rc = check1("ema", in, n, out, period, 1);
    gt_ind_ema_state e;
    if (rc < 0 || (rc = gt_ind_ema_init(&e, period, seed)) < 0)
        return rc;
    int64_t i = 0;
    for (; i < n && e.count < e.period; i++)
        out[i] = gt_ind_ema_update(&e, in[i]);
    /* the recursion alone, with the state in registers */
    double v = e.value;
    const double a = e.alpha;
    for (; i < n; i++) {
        double x = in[i];
        if (isnan(x)) {
            out[i] = IND_NAN;
            continue;
        }
        v = (x - v) * a + v;
        out[i] = v;
    }
    return GT_OK;
}

/* ---- WMA ---- */

int gt_ind_wma_init(gt_ind_wma_state *s, int32_t period)
{
    int rc = ind_check_period("wma", period, 1);
    return rc < 0 ? rc : wma_init(s, period);
}

double gt_ind_wma_update(gt_ind_wma_state *s, double x)
{
    return isnan(x) ? IND_NAN : wma_step(s, x);
}

void gt_ind_wma_fini(gt_ind_wma_state *s)
{
    if (s)
        ring_fini(&s->win);
}

IND_BATCH(wma, 1, gt_ind_wma_fini(&s))

/* ---- SMMA (Wilder) ---- */

int gt_ind_smma_init(gt_ind_smma_state *s, int32_t period)
{
    int rc = ind_check_period("smma", period, 1);
    if (rc < 0)
        return rc;
    smma_setup(s, period);
    return GT_OK;
}

double gt_ind_smma_update(gt_ind_smma_state *s, double x)
{
    return isnan(x) ? IND_NAN : smma_step(s, x);
}

IND_BATCH(smma, 1, (void)0)

/* ---- DEMA, TEMA ---- */

int gt_ind_dema_init(gt_ind_dema_state *s, int32_t period)
{
    int rc = ind_check_period("dema", period, 1);
    if (rc < 0)
        return rc;
    ema_setup(&s->e1, period, GT_IND_SEED_SMA);
    ema_setup(&s->e2, period, GT_IND_SEED_SMA);
    return GT_OK;
}

double gt_ind_dema_update(gt_ind_dema_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    double a = ema_step(&s->e1, x);
    if (isnan(a))
        return IND_NAN;
    double b = ema_step(&s->e2, a);
    return isnan(b) ? IND_NAN : 2.0 * a - b;
}

IND_BATCH(dema, 1, (void)0)

int gt_ind_tema_init(gt_ind_tema_state *s, int32_t period)
{
    int rc = ind_check_period("tema", period, 1);
    if (rc < 0)
        return rc;
    ema_setup(&s->e1, period, GT_IND_SEED_SMA);
    ema_setup(&s->e2, period, GT_IND_SEED_SMA);
    ema_setup(&s->e3, period, GT_IND_SEED_SMA);
    return GT_OK;
}

double gt_ind_tema_update(gt_ind_tema_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    double a = ema_step(&s->e1, x);
    if (isnan(a))
        return IND_NAN;
    double b = ema_step(&s->e2, a);
    if (isnan(b))
        return IND_NAN;
    double c = ema_step(&s->e3, b);
    return isnan(c) ? IND_NAN : (3.0 * a) - (3.0 * b) + c;
}

IND_BATCH(tema, 1, (void)0)

/* ---- HMA ---- */

void gt_ind_hma_fini(gt_ind_hma_state *s)
{
    if (!s)
        return;
    ring_fini(&s->half.win);
    ring_fini(&s->full.win);
    ring_fini(&s->smooth.win);
}

int gt_ind_hma_init(gt_ind_hma_state *s, int32_t period)
{
    int rc = ind_check_period("hma", period, 2);
    if (rc < 0)
        return rc;
    memset(s, 0, sizeof *s);
    int64_t sq = (int64_t)floor(sqrt((double)period));
    if ((rc = wma_init(&s->half, period / 2)) < 0 || (rc = wma_init(&s->full, period)) < 0 ||
        (rc = wma_init(&s->smooth, sq)) < 0) {
        gt_ind_hma_fini(s);
        return rc;
    }
    return GT_OK;
}

double gt_ind_hma_update(gt_ind_hma_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    double a = wma_step(&s->half, x);
    double b = wma_step(&s->full, x);
    if (isnan(b))
        return IND_NAN;
    return wma_step(&s->smooth, 2.0 * a - b);
}

IND_BATCH(hma, 2, gt_ind_hma_fini(&s))

/* ---- KAMA (TA-Lib's algorithm: first value at bar period, seeded with x[period-1];
 * or backtrader's: the mean of x[1..period] at bar period, smoothing from the next bar) ---- */

int gt_ind_kama_init(gt_ind_kama_state *s, int32_t period, int32_t fast, int32_t slow,
                     int32_t seed)
{
    int rc;
    if (seed != GT_KAMA_SEED_TALIB && seed != GT_KAMA_SEED_SMA)
        return gt_seterr(GT_EINVAL, "ind: kama: seed is talib or sma");
    if ((rc = ind_check_period("kama", period, 1)) < 0 ||
        (rc = ind_check_period("kama fast", fast, 1)) < 0 ||
        (rc = ind_check_period("kama slow", slow, 1)) < 0)
        return rc;
    s->vol = 0;
    s->value = IND_NAN;
    s->slow_sc = 2.0 / (double)(slow + 1);
    s->fast_sc = 2.0 / (double)(fast + 1);
    s->period = period;
    s->seed = seed;
    return ring_init(&s->win, (int64_t)period + 1);
}

void gt_ind_kama_fini(gt_ind_kama_state *s)
{
    if (s)
        ring_fini(&s->win);
}

double gt_ind_kama_update(gt_ind_kama_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    gt_ind_ring *r = &s->win;
    int was_full = ring_full(r);
    double roc = 0;
    if (was_full) {
        double o = ring_oldest(r), o2 = ring_get(r, s->period - 1);
        s->vol -= fabs(o - o2);
        s->vol += fabs(x - ring_get(r, 0));
        roc = x - o2;
    } else if (r->count > 0) {
        s->vol += fabs(ring_get(r, 0) - x);
    }
    ring_push(r, x);
    if (!ring_full(r))
        return IND_NAN;
    if (!was_full) {
        roc = x - ring_oldest(r);
        if (s->seed == GT_KAMA_SEED_SMA) { /* the mean of the period newest values, as is */
            double sum = 0;
            for (int64_t k = 0; k < s->period; k++)
                sum += ring_get(r, k);
            s->value = sum / (double)s->period;
            return s->value;
        }
        s->value = ring_get(r, 1);
    }
    double er = (s->vol <= roc || fabs(s->vol) < 1e-8) ? 1.0 : fabs(roc / s->vol);
    double sc = er * (s->fast_sc - s->slow_sc) + s->slow_sc;
    sc *= sc;
    s->value = (x - s->value) * sc + s->value;
    return s->value;
}

int gt_ind_kama(const double *in, int64_t n, double *out, int32_t period, int32_t fast,
                int32_t slow, int32_t seed)
{
    gt_ind_kama_state s;
    int rc = check1("kama", in, n, out, period, 1);
    if (rc < 0 || (rc = gt_ind_kama_init(&s, period, fast, slow, seed)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_kama_update(&s, in[i]);
    gt_ind_kama_fini(&s);
    return GT_OK;
}

/* ---- ZLEMA ---- */

int gt_ind_zlema_init(gt_ind_zlema_state *s, int32_t period)
{
    int rc = ind_check_period("zlema", period, 1);
    if (rc < 0)
        return rc;
    s->lag = (period - 1) / 2;
    ema_setup(&s->ema, period, GT_IND_SEED_SMA);
    return ring_init(&s->win, s->lag + 1);
}

void gt_ind_zlema_fini(gt_ind_zlema_state *s)
{
    if (s)
        ring_fini(&s->win);
}

double gt_ind_zlema_update(gt_ind_zlema_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    ring_push(&s->win, x);
    if (!ring_full(&s->win))
        return IND_NAN;
    return ema_step(&s->ema, 2.0 * x - ring_get(&s->win, s->lag));
}

IND_BATCH(zlema, 1, gt_ind_zlema_fini(&s))

/* ---- TRIX ---- */

int gt_ind_trix_init(gt_ind_trix_state *s, int32_t period)
{
    int rc = ind_check_period("trix", period, 1);
    if (rc < 0)
        return rc;
    ema_setup(&s->e1, period, GT_IND_SEED_SMA);
    ema_setup(&s->e2, period, GT_IND_SEED_SMA);
    ema_setup(&s->e3, period, GT_IND_SEED_SMA);
    s->prev = IND_NAN;
    return GT_OK;
}

double gt_ind_trix_update(gt_ind_trix_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    double a = ema_step(&s->e1, x);
    if (isnan(a))
        return IND_NAN;
    double b = ema_step(&s->e2, a);
    if (isnan(b))
        return IND_NAN;
    double c = ema_step(&s->e3, b);
    if (isnan(c))
        return IND_NAN;
    double prev = s->prev;
    s->prev = c;
    return isnan(prev) ? IND_NAN : ((c / prev) - 1.0) * 100.0;
}

IND_BATCH(trix, 1, (void)0)

/* ---- highest / lowest ---- */

int gt_ind_highest_init(gt_ind_minmax *s, int32_t period)
{
    int rc = ind_check_period("highest", period, 1);
    return rc < 0 ? rc : minmax_init(s, period, 1);
}

int gt_ind_lowest_init(gt_ind_minmax *s, int32_t period)
{
    int rc = ind_check_period("lowest", period, 1);
    return rc < 0 ? rc : minmax_init(s, period, 0);
}

double gt_ind_minmax_update(gt_ind_minmax *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    double v = minmax_push(s, x);
    return minmax_full(s) ? v : IND_NAN;
}

void gt_ind_minmax_fini(gt_ind_minmax *s)
{
    if (s)
        minmax_fini(s);
}

static int minmax_batch(const char *who, const double *in, int64_t n, double *out, int32_t period,
                        int is_max)
{
    gt_ind_minmax s;
    int rc = check1(who, in, n, out, period, 1);
    if (rc < 0 || (rc = minmax_init(&s, period, is_max)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_minmax_update(&s, in[i]);
    minmax_fini(&s);
    return GT_OK;
}

int gt_ind_highest(const double *in, int64_t n, double *out, int32_t period)
{
    return minmax_batch("highest", in, n, out, period, 1);
}

int gt_ind_lowest(const double *in, int64_t n, double *out, int32_t period)
{
    return minmax_batch("lowest", in, n, out, period, 0);
}

/* ---- rolling sum ---- */

int gt_ind_sum_init(gt_ind_sma_state *s, int32_t period)
{
    int rc = ind_check_period("sum", period, 1);
    return rc < 0 ? rc : sma_init(s, period);
}

double gt_ind_sum_update(gt_ind_sma_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    return isnan(sma_step(s, x)) ? IND_NAN : s->sum;
}

int gt_ind_sum(const double *in, int64_t n, double *out, int32_t period)
{
    gt_ind_sma_state s;
    int rc = check1("sum", in, n, out, period, 1);
    if (rc < 0 || (rc = sma_init(&s, period)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_sum_update(&s, in[i]);
    ring_fini(&s.win);
    return GT_OK;
}

/* ---- crossovers ---- */

int gt_ind_cross_init(gt_ind_cross_state *s, int32_t dir)
{
    if (dir != 1 && dir != -1)
        return gt_seterr(GT_EINVAL, "ind: cross: direction %d is not 1 or -1", (int)dir);
    s->prev_a = s->prev_b = IND_NAN;
    s->count = 0;
    s->dir = dir;
    return GT_OK;
}

double gt_ind_cross_update(gt_ind_cross_state *s, double a, double b)
{
    if (isnan(a) || isnan(b))
        return IND_NAN;
    double r = IND_NAN;
    if (s->count++ > 0) {
        if (s->dir > 0)
            r = (s->prev_a <= s->prev_b && a > b) ? 1.0 : 0.0;
        else
            r = (s->prev_a >= s->prev_b && a < b) ? 1.0 : 0.0;
    }
    s->prev_a = a;
    s->prev_b = b;
    return r;
}

int gt_ind_cross(const double *a, const double *b, int64_t n, double *out, int32_t dir)
{
    gt_ind_cross_state s = {0};
    int rc;
    if ((rc = ind_check_len(a, n, "cross")) < 0 || (rc = ind_check_len(b, n, "cross")) < 0 ||
        (rc = ind_check_len(out, n, "cross")) < 0 || (rc = gt_ind_cross_init(&s, dir)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_cross_update(&s, a[i], b[i]);
    return GT_OK;
}

/* ---- linear-regression slope: x = 0..p-1 over the window, oldest at 0 ---- */

int gt_ind_linreg_init(gt_ind_linreg_state *s, int32_t period)
{
    int rc = ind_check_period("linreg_slope", period, 2);
    if (rc < 0)
        return rc;
    s->sy = s->sxy = 0;
    return ring_init(&s->win, period);
}

void gt_ind_linreg_fini(gt_ind_linreg_state *s)
{
    if (s)
        ring_fini(&s->win);
}

double gt_ind_linreg_update(gt_ind_linreg_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    gt_ind_ring *r = &s->win;
    double p = (double)r->cap;
    if (ring_full(r)) {
        /* every x index drops by one: sxy loses the window sum (the oldest had index 0) */
        double y0 = ring_oldest(r);
        s->sxy = s->sxy - (s->sy - y0) + (p - 1.0) * x;
        s->sy = s->sy - y0 + x;
    } else {
        s->sxy += (double)r->count * x;
        s->sy += x;
    }
    ring_push(r, x);
    if (!ring_full(r))
        return IND_NAN;
    double sx = p * (p - 1.0) / 2.0;
    double sxx = (p - 1.0) * p * (2.0 * p - 1.0) / 6.0;
    return (p * s->sxy - sx * s->sy) / (p * sxx - sx * sx);
}

int gt_ind_linreg_slope(const double *in, int64_t n, double *out, int32_t period)
{
    gt_ind_linreg_state s;
    int rc = check1("linreg_slope", in, n, out, period, 2);
    if (rc < 0 || (rc = gt_ind_linreg_init(&s, period)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_linreg_update(&s, in[i]);
    gt_ind_linreg_fini(&s);
    return GT_OK;
}

/* ---- envelopes ---- */

int gt_ind_envelope_init(gt_ind_envelope_state *s, int32_t period, double pct)
{
    int rc = ind_check_period("envelope", period, 1);
    if (rc < 0)
        return rc;
    if (!(pct >= 0 && pct < 1))
        return gt_seterr(GT_EINVAL, "ind: envelope: pct %g is not a fraction in [0, 1)", pct);
    s->pct = pct;
    s->mid = s->upper = s->lower = IND_NAN;
    return sma_init(&s->sma, period);
}

void gt_ind_envelope_fini(gt_ind_envelope_state *s)
{
    if (s)
        ring_fini(&s->sma.win);
}

double gt_ind_envelope_update(gt_ind_envelope_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    s->mid = sma_step(&s->sma, x);
    s->upper = s->mid * (1.0 + s->pct);
    s->lower = s->mid * (1.0 - s->pct);
    return s->mid;
}

int gt_ind_envelope(const double *in, int64_t n, double **out, int32_t period, double pct)
{
    gt_ind_envelope_state s;
    int rc = check1("envelope", in, n, out, period, 1);
    if (rc < 0 || (rc = gt_ind_envelope_init(&s, period, pct)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(gt_ind_envelope_update(&s, in[i])) && isnan(in[i])) {
            ind_put(out, 0, i, IND_NAN), ind_put(out, 1, i, IND_NAN), ind_put(out, 2, i, IND_NAN);
            continue;
        }
        ind_put(out, 0, i, s.mid);
        ind_put(out, 1, i, s.upper);
        ind_put(out, 2, i, s.lower);
    }
    gt_ind_envelope_fini(&s);
    return GT_OK;
}

/* ---- Heikin-Ashi ---- */

int gt_ind_heikin_init(gt_ind_heikin_state *s)
{
    s->count = 0;
    s->open = s->high = s->low = s->close = IND_NAN;
    return GT_OK;
}

double gt_ind_heikin_update(gt_ind_heikin_state *s, double open, double high, double low,
                            double close)
{
    if (isnan(open) || isnan(high) || isnan(low) || isnan(close))
        return IND_NAN;
    double c = (open + high + low + close) / 4.0;
    double o = s->count++ == 0 ? (open + close) / 2.0 : (s->open + s->close) / 2.0;
    s->open = o;
    s->close = c;
    s->high = GT_MAX(high, GT_MAX(o, c));
    s->low = GT_MIN(low, GT_MIN(o, c));
    return c;
}

int gt_ind_heikin(const double *open, const double *high, const double *low, const double *close,
                  int64_t n, double **out)
{
    gt_ind_heikin_state s;
    int rc;
    if ((rc = ind_check_len(open, n, "heikin")) < 0 ||
        (rc = ind_check_len(high, n, "heikin")) < 0 || (rc = ind_check_len(low, n, "heikin")) < 0 ||
        (rc = ind_check_len(close, n, "heikin")) < 0 || (rc = ind_check_len(out, n, "heikin")) < 0)
        return rc;
    gt_ind_heikin_init(&s);
    for (int64_t i = 0; i < n; i++) {
        double c = gt_ind_heikin_update(&s, open[i], high[i], low[i], close[i]);
        int miss = isnan(c);
        ind_put(out, 0, i, miss ? IND_NAN : s.open);
        ind_put(out, 1, i, miss ? IND_NAN : s.high);
        ind_put(out, 2, i, miss ? IND_NAN : s.low);
        ind_put(out, 3, i, c);
    }
    return GT_OK;
}

/* ---- Ichimoku ---- */

void gt_ind_ichimoku_fini(gt_ind_ichimoku_state *s)
{
    if (!s)
        return;
    minmax_fini(&s->h1), minmax_fini(&s->l1), minmax_fini(&s->h2);
    minmax_fini(&s->l2), minmax_fini(&s->h3), minmax_fini(&s->l3);
}

int gt_ind_ichimoku_init(gt_ind_ichimoku_state *s, int32_t tenkan, int32_t kijun, int32_t senkou)
{
    int rc;
    if ((rc = ind_check_period("ichimoku tenkan", tenkan, 1)) < 0 ||
        (rc = ind_check_period("ichimoku kijun", kijun, 1)) < 0 ||
        (rc = ind_check_period("ichimoku senkou", senkou, 1)) < 0)
        return rc;
    memset(s, 0, sizeof *s);
    s->tenkan = s->kijun = s->span_a = s->span_b = IND_NAN;
    if ((rc = minmax_init(&s->h1, tenkan, 1)) < 0 || (rc = minmax_init(&s->l1, tenkan, 0)) < 0 ||
        (rc = minmax_init(&s->h2, kijun, 1)) < 0 || (rc = minmax_init(&s->l2, kijun, 0)) < 0 ||
        (rc = minmax_init(&s->h3, senkou, 1)) < 0 || (rc = minmax_init(&s->l3, senkou, 0)) < 0) {
        gt_ind_ichimoku_fini(s);
        return rc;
    }
    return GT_OK;
}

static double midrange(gt_ind_minmax *hi, gt_ind_minmax *lo, double h, double l)
{
    double a = minmax_push(hi, h), b = minmax_push(lo, l);
    return minmax_full(hi) ? (a + b) / 2.0 : IND_NAN;
}

double gt_ind_ichimoku_update(gt_ind_ichimoku_state *s, double high, double low)
{
    if (isnan(high) || isnan(low))
        return IND_NAN;
    s->tenkan = midrange(&s->h1, &s->l1, high, low);
    s->kijun = midrange(&s->h2, &s->l2, high, low);
    s->span_b = midrange(&s->h3, &s->l3, high, low);
    s->span_a = (s->tenkan + s->kijun) / 2.0;
    return s->tenkan;
}

int gt_ind_ichimoku(const double *high, const double *low, int64_t n, double **out, int32_t tenkan,
                    int32_t kijun, int32_t senkou)
{
    gt_ind_ichimoku_state s;
    int rc;
    if ((rc = ind_check_len(high, n, "ichimoku")) < 0 ||
        (rc = ind_check_len(low, n, "ichimoku")) < 0 ||
        (rc = ind_check_len(out, n, "ichimoku")) < 0 ||
        (rc = gt_ind_ichimoku_init(&s, tenkan, kijun, senkou)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++) {
        int miss =
            isnan(gt_ind_ichimoku_update(&s, high[i], low[i])) && (isnan(high[i]) || isnan(low[i]));
        ind_put(out, 0, i, miss ? IND_NAN : s.tenkan);
        ind_put(out, 1, i, miss ? IND_NAN : s.kijun);
        ind_put(out, 2, i, miss ? IND_NAN : s.span_a);
        ind_put(out, 3, i, miss ? IND_NAN : s.span_b);
    }
    gt_ind_ichimoku_fini(&s);
    return GT_OK;
}

int gt_ind_cross_targets(const double *a, const double *b, int64_t n, double up, double down,
                         double *out)
{
    if (!a || !b || !out || n < 0)
        return gt_seterr(GT_EINVAL, "ind.cross: needs two arrays, an output and n >= 0");
    if (n > 0)
        out[0] = IND_NAN;
    for (int64_t i = 1; i < n; i++) {
        double x = a[i], y = b[i], px = a[i - 1], py = b[i - 1];
        /* the rule's tests in its order; NaN compares false, so it gives NaN */
        out[i] = x > y && px <= py ? up : x < y && px >= py ? down : IND_NAN;
    }
    return GT_OK;
}
