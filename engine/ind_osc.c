/*
 * ind_osc.c: oscillators. RSI, stochastic, Williams %R, CCI, MACD, PPO, momentum/ROC/percent
 * change, TSI, ultimate, awesome, DPO, Aroon, Vortex, KST, MFI. RSI has a hand-written
 * batch loop; the others loop over the streaming step. Where TA-Lib defines an indicator,
 * the arithmetic follows its source (same expressions, same order) so values match it.
 */
#include "ind.h"

#include <string.h>

#define TA_IS_ZERO(v) ((v) > -1e-8 && (v) < 1e-8)

static int check_hlc(const char *who, const double *h, const double *l, const double *c, int64_t n,
                     const void *out)
{
    int rc;
    if ((rc = ind_check_len(h, n, who)) < 0 || (rc = ind_check_len(l, n, who)) < 0 ||
        (rc = ind_check_len(c, n, who)) < 0 || (rc = ind_check_len(out, n, who)) < 0)
        return rc;
    return GT_OK;
}

/* ---- RSI ---- */

int gt_ind_rsi_init(gt_ind_rsi_state *s, int32_t period)
{
    int rc = ind_check_period("rsi", period, 1);
    if (rc < 0)
        return rc;
    s->prev = IND_NAN;
    s->gain = s->loss = 0;
    s->period = period;
    s->count = 0;
    return GT_OK;
}

static inline double rsi_value(double g, double l)
{
    double t = g + l;
    return TA_IS_ZERO(t) ? 0.0 : 100.0 * (g / t);
}

double gt_ind_rsi_update(gt_ind_rsi_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    if (s->count++ == 0) {
        s->prev = x;
        return IND_NAN;
    }
    double d = x - s->prev, p = (double)s->period;
    s->prev = x;
    if (s->count <= s->period + 1) {
        /* seeding: the plain average of the first period changes */
        if (d < 0)
            s->loss -= d;
        else
            s->gain += d;
        if (s->count <= s->period)
            return IND_NAN;
        s->gain /= p;
        s->loss /= p;
        return rsi_value(s->gain, s->loss);
    }
    s->gain *= p - 1.0;
    s->loss *= p - 1.0;
    if (d < 0)
        s->loss -= d;
    else
        s->gain += d;
    s->gain /= p;
    s->loss /= p;
    return rsi_value(s->gain, s->loss);
}

int gt_ind_rsi(const double *in, int64_t n, double *out, int32_t period)
{
    gt_ind_rsi_state s;
    int rc;
    if ((rc = ind_check_len(in, n, "rsi")) < 0 || (rc = ind_check_len(out, n, "rsi")) < 0 ||
        (rc = gt_ind_rsi_init(&s, period)) < 0)
        return rc;
    int64_t i = 0;
    for (; i < n && s.count <= s.period; i++)
        out[i] = gt_ind_rsi_update(&s, in[i]);
    /* Wilder's recursion with the state in registers: the same expressions as the step */
    const double p = (double)s.period, pm1 = p - 1.0;
    double prev = s.prev, g = s.gain, l = s.loss;
    for (; i < n; i++) {
        double x = in[i];
        if (isnan(x)) {
            out[i] = IND_NAN;
            continue;
        }
        double d = x - prev;
        prev = x;
        g *= pm1;
        l *= pm1;
        if (d < 0)
            l -= d;
        else
            g += d;
        g /= p;
        l /= p;
        out[i] = rsi_value(g, l);
    }
    return GT_OK;
}

/* ---- stochastic ---- */

void gt_ind_stoch_fini(gt_ind_stoch_state *s)
{
    if (!s)
        return;
    minmax_fini(&s->hh);
    minmax_fini(&s->ll);
    ring_fini(&s->ksma.win);
    ring_fini(&s->dsma.win);
}

int gt_ind_stoch_init(gt_ind_stoch_state *s, int32_t kperiod, int32_t ksmooth, int32_t dperiod)
{
    int rc;
    if ((rc = ind_check_period("stoch k", kperiod, 1)) < 0 ||
        (rc = ind_check_period("stoch smoothing", ksmooth, 1)) < 0 ||
        (rc = ind_check_period("stoch d", dperiod, 1)) < 0)
        return rc;
    memset(s, 0, sizeof *s);
    s->k = s->d = IND_NAN;
    if ((rc = minmax_init(&s->hh, kperiod, 1)) < 0 || (rc = minmax_init(&s->ll, kperiod, 0)) < 0 ||
        (rc = sma_init(&s->ksma, ksmooth)) < 0 || (rc = sma_init(&s->dsma, dperiod)) < 0) {
        gt_ind_stoch_fini(s);
        return rc;
    }
    return GT_OK;
}

double gt_ind_stoch_update(gt_ind_stoch_state *s, double high, double low, double close)
{
    if (isnan(high) || isnan(low) || isnan(close))
        return IND_NAN;
    double hh = minmax_push(&s->hh, high), ll = minmax_push(&s->ll, low);
    s->k = s->d = IND_NAN;
    if (!minmax_full(&s->hh))
        return IND_NAN;
    double diff = (hh - ll) / 100.0; /* TA-Lib's expression */
    double raw = diff != 0.0 ? (close - ll) / diff : 0.0;
    /* ksmooth 1 is the fast stochastic: the raw %K itself, not an SMA(1) with its rounding */
    double k = s->ksma.period == 1 ? raw : sma_step(&s->ksma, raw);
    if (isnan(k))
        return IND_NAN;
    s->k = k;
    s->d = sma_step(&s->dsma, k);
    return k;
}

int gt_ind_stoch(const double *high, const double *low, const double *close, int64_t n,
                 double **out, int32_t kperiod, int32_t ksmooth, int32_t dperiod)
{
    gt_ind_stoch_state s;
    int rc;
    if ((rc = check_hlc("stoch", high, low, close, n, out)) < 0 ||
        (rc = gt_ind_stoch_init(&s, kperiod, ksmooth, dperiod)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++) {
        double k = gt_ind_stoch_update(&s, high[i], low[i], close[i]);
        ind_put(out, 0, i, k);
        ind_put(out, 1, i, isnan(k) ? IND_NAN : s.d);
    }
    gt_ind_stoch_fini(&s);
    return GT_OK;
}

/* ---- Williams %R ---- */

void gt_ind_willr_fini(gt_ind_willr_state *s)
{
    if (!s)
        return;
    minmax_fini(&s->hh);
    minmax_fini(&s->ll);
}

int gt_ind_willr_init(gt_ind_willr_state *s, int32_t period)
{
    int rc = ind_check_period("willr", period, 1);
    if (rc < 0)
        return rc;
    memset(s, 0, sizeof *s);
    if ((rc = minmax_init(&s->hh, period, 1)) < 0 || (rc = minmax_init(&s->ll, period, 0)) < 0) {
        gt_ind_willr_fini(s);
        return rc;
    }
    return GT_OK;
}

double gt_ind_willr_update(gt_ind_willr_state *s, double high, double low, double close)
{
    if (isnan(high) || isnan(low) || isnan(close))
        return IND_NAN;
    double hh = minmax_push(&s->hh, high), ll = minmax_push(&s->ll, low);
    if (!minmax_full(&s->hh))
        return IND_NAN;
    double diff = (hh - ll) / (-100.0);
    return diff != 0.0 ? (hh - close) / diff : 0.0;
}

int gt_ind_willr(const double *high, const double *low, const double *close, int64_t n, double *out,
                 int32_t period)
{
    gt_ind_willr_state s;
    int rc;
    if ((rc = check_hlc("willr", high, low, close, n, out)) < 0 ||
        (rc = gt_ind_willr_init(&s, period)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_willr_update(&s, high[i], low[i], close[i]);
    gt_ind_willr_fini(&s);
    return GT_OK;
}

/* ---- CCI: O(period) per bar, the mean deviation has no running form ---- */

int gt_ind_cci_init(gt_ind_cci_state *s, int32_t period)
{
    int rc = ind_check_period("cci", period, 1);
    if (rc < 0)
        return rc;
    s->period = period;
    return ring_init(&s->win, period);
}

void gt_ind_cci_fini(gt_ind_cci_state *s)
{
    if (s)
        ring_fini(&s->win);
}

double gt_ind_cci_update(gt_ind_cci_state *s, double high, double low, double close)
{
    if (isnan(high) || isnan(low) || isnan(close))
        return IND_NAN;
    double tp = (high + low + close) / 3;
    ring_push(&s->win, tp);
    if (!ring_full(&s->win))
        return IND_NAN;
    /* summed in buffer order, as TA-Lib's circular buffer (it starts at slot 0 too) */
    const double *b = s->win.buf;
    double avg = 0, dev = 0;
    for (int64_t i = 0; i < s->period; i++)
        avg += b[i];
    avg /= (double)s->period;
    for (int64_t i = 0; i < s->period; i++)
        dev += fabs(b[i] - avg);
    double d = tp - avg;
    return (d != 0.0 && dev != 0.0) ? d / (0.015 * (dev / (double)s->period)) : 0.0;
}

int gt_ind_cci(const double *high, const double *low, const double *close, int64_t n, double *out,
               int32_t period)
{
    gt_ind_cci_state s;
    int rc;
    if ((rc = check_hlc("cci", high, low, close, n, out)) < 0 ||
        (rc = gt_ind_cci_init(&s, period)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_cci_update(&s, high[i], low[i], close[i]);
    gt_ind_cci_fini(&s);
    return GT_OK;
}

/* ---- MACD ---- */

int gt_ind_macd_init(gt_ind_macd_state *s, int32_t fast, int32_t slow, int32_t signal,
                     int32_t talib)
{
    int rc;
    if ((rc = ind_check_period("macd fast", fast, 1)) < 0 ||
        (rc = ind_check_period("macd slow", slow, 1)) < 0 ||
        (rc = ind_check_period("macd signal", signal, 1)) < 0)
        return rc;
    ema_setup(&s->fast, fast, GT_IND_SEED_SMA);
    ema_setup(&s->slow, slow, GT_IND_SEED_SMA);
    ema_setup(&s->smooth, signal, GT_IND_SEED_SMA);
    s->skip = (talib && slow > fast) ? slow - fast : 0;
    s->count = 0;
    s->macd = s->signal = s->hist = IND_NAN;
    return GT_OK;
}

double gt_ind_macd_update(gt_ind_macd_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    double f = ++s->count > s->skip ? ema_step(&s->fast, x) : IND_NAN;
    double sl = ema_step(&s->slow, x);
    if (isnan(f) || isnan(sl)) {
        s->macd = s->signal = s->hist = IND_NAN;
        return IND_NAN;
    }
    s->macd = f - sl;
    s->signal = ema_step(&s->smooth, s->macd);
    s->hist = s->macd - s->signal;
    return s->macd;
}

int gt_ind_macd(const double *in, int64_t n, double **out, int32_t fast, int32_t slow,
                int32_t signal, int32_t talib)
{
    gt_ind_macd_state s;
    int rc;
    if ((rc = ind_check_len(in, n, "macd")) < 0 || (rc = ind_check_len(out, n, "macd")) < 0 ||
        (rc = gt_ind_macd_init(&s, fast, slow, signal, talib)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++) {
        double m = gt_ind_macd_update(&s, in[i]);
        int miss = isnan(m);
        ind_put(out, 0, i, m);
        ind_put(out, 1, i, miss ? IND_NAN : s.signal);
        ind_put(out, 2, i, miss ? IND_NAN : s.hist);
    }
    return GT_OK;
}

/* ---- PPO ---- */

int gt_ind_ppo_init(gt_ind_ppo_state *s, int32_t fast, int32_t slow, int32_t signal)
{
    int rc;
    if ((rc = ind_check_period("ppo fast", fast, 1)) < 0 ||
        (rc = ind_check_period("ppo slow", slow, 1)) < 0 ||
        (rc = ind_check_period("ppo signal", signal, 1)) < 0)
        return rc;
    ema_setup(&s->fast, fast, GT_IND_SEED_SMA);
    ema_setup(&s->slow, slow, GT_IND_SEED_SMA);
    ema_setup(&s->smooth, signal, GT_IND_SEED_SMA);
    s->ppo = s->signal = s->hist = IND_NAN;
    return GT_OK;
}

double gt_ind_ppo_update(gt_ind_ppo_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    double f = ema_step(&s->fast, x), sl = ema_step(&s->slow, x);
    if (isnan(f) || isnan(sl)) {
        s->ppo = s->signal = s->hist = IND_NAN;
        return IND_NAN;
    }
    s->ppo = sl != 0.0 ? ((f - sl) / sl) * 100.0 : 0.0;
    s->signal = ema_step(&s->smooth, s->ppo);
    s->hist = s->ppo - s->signal;
    return s->ppo;
}

int gt_ind_ppo(const double *in, int64_t n, double **out, int32_t fast, int32_t slow,
               int32_t signal)
{
    gt_ind_ppo_state s;
    int rc;
    if ((rc = ind_check_len(in, n, "ppo")) < 0 || (rc = ind_check_len(out, n, "ppo")) < 0 ||
        (rc = gt_ind_ppo_init(&s, fast, slow, signal)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++) {
        double m = gt_ind_ppo_update(&s, in[i]);
        int miss = isnan(m);
        ind_put(out, 0, i, m);
        ind_put(out, 1, i, miss ? IND_NAN : s.signal);
        ind_put(out, 2, i, miss ? IND_NAN : s.hist);
    }
    return GT_OK;
}

/* ---- momentum / ROC / percent change ---- */

int gt_ind_change_init(gt_ind_change_state *s, int32_t period, int32_t kind)
{
    int rc = ind_check_period("change", period, 1);
    if (rc < 0)
        return rc;
    if (kind < GT_IND_MOM || kind > GT_IND_PCT)
        return gt_seterr(GT_EINVAL, "ind: change: unknown kind %d", (int)kind);
    s->kind = kind;
    return ring_init(&s->win, (int64_t)period + 1);
}

void gt_ind_change_fini(gt_ind_change_state *s)
{
    if (s)
        ring_fini(&s->win);
}

static inline double change_step(gt_ind_change_state *s, double x)
{
    ring_push(&s->win, x);
    if (!ring_full(&s->win))
        return IND_NAN;
    double old = ring_oldest(&s->win); /* x[t - period] */
    switch (s->kind) {
    case GT_IND_MOM:
        return x - old;
    case GT_IND_ROC: /* TA-Lib's ROC, 0 when the old value is 0 */
        return old != 0.0 ? ((x / old) - 1.0) * 100.0 : 0.0;
    default:
        return old != 0.0 ? (x / old) - 1.0 : 0.0;
    }
}

double gt_ind_change_update(gt_ind_change_state *s, double x)
{
    return isnan(x) ? IND_NAN : change_step(s, x);
}

int gt_ind_change(const double *in, int64_t n, double *out, int32_t period, int32_t kind)
{
    gt_ind_change_state s;
    int rc;
    if ((rc = ind_check_len(in, n, "change")) < 0 || (rc = ind_check_len(out, n, "change")) < 0 ||
        (rc = gt_ind_change_init(&s, period, kind)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_change_update(&s, in[i]);
    gt_ind_change_fini(&s);
    return GT_OK;
}

/* ---- TSI ---- */

int gt_ind_tsi_init(gt_ind_tsi_state *s, int32_t longp, int32_t shortp)
{
    int rc;
    if ((rc = ind_check_period("tsi long", longp, 1)) < 0 ||
        (rc = ind_check_period("tsi short", shortp, 1)) < 0)
        return rc;
    ema_setup(&s->m1, longp, GT_IND_SEED_SMA);
    ema_setup(&s->a1, longp, GT_IND_SEED_SMA);
    ema_setup(&s->m2, shortp, GT_IND_SEED_SMA);
    ema_setup(&s->a2, shortp, GT_IND_SEED_SMA);
    s->prev = IND_NAN;
    s->count = 0;
    return GT_OK;
}

double gt_ind_tsi_update(gt_ind_tsi_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    if (s->count++ == 0) {
        s->prev = x;
        return IND_NAN;
    }
    double m = x - s->prev;
    s->prev = x;
    double a = ema_step(&s->m1, m), b = ema_step(&s->a1, fabs(m));
    if (isnan(a))
        return IND_NAN;
    double a2 = ema_step(&s->m2, a), b2 = ema_step(&s->a2, b);
    if (isnan(a2))
        return IND_NAN;
    return b2 != 0.0 ? 100.0 * (a2 / b2) : 0.0;
}

int gt_ind_tsi(const double *in, int64_t n, double *out, int32_t longp, int32_t shortp)
{
    gt_ind_tsi_state s;
    int rc;
    if ((rc = ind_check_len(in, n, "tsi")) < 0 || (rc = ind_check_len(out, n, "tsi")) < 0 ||
        (rc = gt_ind_tsi_init(&s, longp, shortp)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_tsi_update(&s, in[i]);
    return GT_OK;
}

/* ---- ultimate oscillator ---- */

void gt_ind_ultosc_fini(gt_ind_ultosc_state *s)
{
    if (!s)
        return;
    ring_fini(&s->bp);
    ring_fini(&s->tr);
}

int gt_ind_ultosc_init(gt_ind_ultosc_state *s, int32_t p1, int32_t p2, int32_t p3)
{
    int rc;
    if ((rc = ind_check_period("ultosc", p1, 1)) < 0 ||
        (rc = ind_check_period("ultosc", p2, 1)) < 0 ||
        (rc = ind_check_period("ultosc", p3, 1)) < 0)
        return rc;
    memset(s, 0, sizeof *s);
    /* the shortest period gets weight 4, the longest 1, whatever the argument order */
    int64_t p[3] = {p1, p2, p3};
    for (int i = 0; i < 2; i++)
        for (int j = i + 1; j < 3; j++)
            if (p[j] < p[i]) {
                int64_t t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
    memcpy(s->period, p, sizeof p);
    if ((rc = ring_init(&s->bp, p[2])) < 0 || (rc = ring_init(&s->tr, p[2])) < 0) {
        gt_ind_ultosc_fini(s);
        return rc;
    }
    return GT_OK;
}

double gt_ind_ultosc_update(gt_ind_ultosc_state *s, double high, double low, double close)
{
    if (isnan(high) || isnan(low) || isnan(close))
        return IND_NAN;
    if (s->count++ == 0) {
        s->prev_close = close;
        return IND_NAN;
    }
    double pc = s->prev_close;
    double true_low = low < pc ? low : pc;
    double bp = close - true_low, tr = true_range(high, low, pc);
    s->prev_close = close;
    for (int k = 0; k < 3; k++) {
        if (s->bp.count >= s->period[k]) {
            s->bp_sum[k] -= ring_get(&s->bp, s->period[k] - 1);
            s->tr_sum[k] -= ring_get(&s->tr, s->period[k] - 1);
        }
        s->bp_sum[k] += bp;
        s->tr_sum[k] += tr;
    }
    ring_push(&s->bp, bp);
    ring_push(&s->tr, tr);
    if (!ring_full(&s->bp))
        return IND_NAN;
    double a[3];
    for (int k = 0; k < 3; k++)
        a[k] = s->tr_sum[k] != 0.0 ? s->bp_sum[k] / s->tr_sum[k] : 0.0;
    return 100.0 * ((4.0 * a[0]) + (2.0 * a[1]) + a[2]) / 7.0;
}

int gt_ind_ultosc(const double *high, const double *low, const double *close, int64_t n,
                  double *out, int32_t p1, int32_t p2, int32_t p3)
{
    gt_ind_ultosc_state s;
    int rc;
    if ((rc = check_hlc("ultosc", high, low, close, n, out)) < 0 ||
        (rc = gt_ind_ultosc_init(&s, p1, p2, p3)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_ultosc_update(&s, high[i], low[i], close[i]);
    gt_ind_ultosc_fini(&s);
    return GT_OK;
}

/* ---- awesome oscillator ---- */

void gt_ind_ao_fini(gt_ind_ao_state *s)
{
    if (!s)
        return;
    ring_fini(&s->fast.win);
    ring_fini(&s->slow.win);
}

int gt_ind_ao_init(gt_ind_ao_state *s, int32_t fast, int32_t slow)
{
    int rc;
    if ((rc = ind_check_period("ao fast", fast, 1)) < 0 ||
        (rc = ind_check_period("ao slow", slow, 1)) < 0)
        return rc;
    memset(s, 0, sizeof *s);
    if ((rc = sma_init(&s->fast, fast)) < 0 || (rc = sma_init(&s->slow, slow)) < 0) {
        gt_ind_ao_fini(s);
        return rc;
    }
    return GT_OK;
}

double gt_ind_ao_update(gt_ind_ao_state *s, double high, double low)
{
    if (isnan(high) || isnan(low))
        return IND_NAN;
    double m = (high + low) / 2.0;
    double f = sma_step(&s->fast, m), sl = sma_step(&s->slow, m);
    return f - sl; /* NaN until both are defined */
}

int gt_ind_ao(const double *high, const double *low, int64_t n, double *out, int32_t fast,
              int32_t slow)
{
    gt_ind_ao_state s;
    int rc;
    if ((rc = ind_check_len(high, n, "ao")) < 0 || (rc = ind_check_len(low, n, "ao")) < 0 ||
        (rc = ind_check_len(out, n, "ao")) < 0 || (rc = gt_ind_ao_init(&s, fast, slow)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_ao_update(&s, high[i], low[i]);
    gt_ind_ao_fini(&s);
    return GT_OK;
}

/* ---- DPO ---- */

void gt_ind_dpo_fini(gt_ind_dpo_state *s)
{
    if (!s)
        return;
    ring_fini(&s->sma.win);
    ring_fini(&s->win);
}

int gt_ind_dpo_init(gt_ind_dpo_state *s, int32_t period)
{
    int rc = ind_check_period("dpo", period, 1);
    if (rc < 0)
        return rc;
    memset(s, 0, sizeof *s);
    s->shift = period / 2 + 1;
    if ((rc = sma_init(&s->sma, period)) < 0 || (rc = ring_init(&s->win, s->shift + 1)) < 0) {
        gt_ind_dpo_fini(s);
        return rc;
    }
    return GT_OK;
}

double gt_ind_dpo_update(gt_ind_dpo_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    double m = sma_step(&s->sma, x);
    ring_push(&s->win, x);
    if (isnan(m) || !ring_full(&s->win))
        return IND_NAN;
    return ring_get(&s->win, s->shift) - m;
}

IND_BATCH(dpo, 1, gt_ind_dpo_fini(&s))

/* ---- Aroon ---- */

void gt_ind_aroon_fini(gt_ind_aroon_state *s)
{
    if (!s)
        return;
    minmax_fini(&s->hh);
    minmax_fini(&s->ll);
}

int gt_ind_aroon_init(gt_ind_aroon_state *s, int32_t period)
{
    int rc = ind_check_period("aroon", period, 1);
    if (rc < 0)
        return rc;
    memset(s, 0, sizeof *s);
    s->period = period;
    s->up = s->down = s->osc = IND_NAN;
    if ((rc = minmax_init(&s->hh, (int64_t)period + 1, 1)) < 0 ||
        (rc = minmax_init(&s->ll, (int64_t)period + 1, 0)) < 0) {
        gt_ind_aroon_fini(s);
        return rc;
    }
    return GT_OK;
}

double gt_ind_aroon_update(gt_ind_aroon_state *s, double high, double low)
{
    if (isnan(high) || isnan(low))
        return IND_NAN;
    minmax_push(&s->hh, high);
    minmax_push(&s->ll, low);
    if (!minmax_full(&s->hh))
        return IND_NAN;
    double factor = 100.0 / (double)s->period; /* TA-Lib's form */
    s->up = factor * (double)(s->period - minmax_age(&s->hh));
    s->down = factor * (double)(s->period - minmax_age(&s->ll));
    s->osc = s->up - s->down;
    return s->up;
}

int gt_ind_aroon(const double *high, const double *low, int64_t n, double **out, int32_t period)
{
    gt_ind_aroon_state s;
    int rc;
    if ((rc = ind_check_len(high, n, "aroon")) < 0 || (rc = ind_check_len(low, n, "aroon")) < 0 ||
        (rc = ind_check_len(out, n, "aroon")) < 0 || (rc = gt_ind_aroon_init(&s, period)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++) {
        double u = gt_ind_aroon_update(&s, high[i], low[i]);
        ind_put(out, 0, i, u);
        ind_put(out, 1, i, isnan(u) ? IND_NAN : s.down);
        ind_put(out, 2, i, isnan(u) ? IND_NAN : s.osc);
    }
    gt_ind_aroon_fini(&s);
    return GT_OK;
}

/* ---- Vortex ---- */

void gt_ind_vortex_fini(gt_ind_vortex_state *s)
{
    if (!s)
        return;
    ring_fini(&s->vmp);
    ring_fini(&s->vmm);
    ring_fini(&s->tr);
}

int gt_ind_vortex_init(gt_ind_vortex_state *s, int32_t period)
{
    int rc = ind_check_period("vortex", period, 1);
    if (rc < 0)
        return rc;
    memset(s, 0, sizeof *s);
    s->plus = s->minus = IND_NAN;
    if ((rc = ring_init(&s->vmp, period)) < 0 || (rc = ring_init(&s->vmm, period)) < 0 ||
        (rc = ring_init(&s->tr, period)) < 0) {
        gt_ind_vortex_fini(s);
        return rc;
    }
    return GT_OK;
}

double gt_ind_vortex_update(gt_ind_vortex_state *s, double high, double low, double close)
{
    if (isnan(high) || isnan(low) || isnan(close))
        return IND_NAN;
    if (s->count++ > 0) {
        ring_roll(&s->vmp, &s->sum_vmp, fabs(high - s->prev_low));
        ring_roll(&s->vmm, &s->sum_vmm, fabs(low - s->prev_high));
        ring_roll(&s->tr, &s->sum_tr, true_range(high, low, s->prev_close));
    }
    s->prev_high = high;
    s->prev_low = low;
    s->prev_close = close;
    if (!ring_full(&s->tr))
        return IND_NAN;
    s->plus = s->sum_tr != 0.0 ? s->sum_vmp / s->sum_tr : 0.0;
    s->minus = s->sum_tr != 0.0 ? s->sum_vmm / s->sum_tr : 0.0;
    return s->plus;
}

int gt_ind_vortex(const double *high, const double *low, const double *close, int64_t n,
                  double **out, int32_t period)
{
    gt_ind_vortex_state s;
    int rc;
    if ((rc = check_hlc("vortex", high, low, close, n, out)) < 0 ||
        (rc = gt_ind_vortex_init(&s, period)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++) {
        double p = gt_ind_vortex_update(&s, high[i], low[i], close[i]);
        ind_put(out, 0, i, p);
        ind_put(out, 1, i, isnan(p) ? IND_NAN : s.minus);
    }
    gt_ind_vortex_fini(&s);
    return GT_OK;
}

/* ---- KST ---- */

void gt_ind_kst_fini(gt_ind_kst_state *s)
{
    if (!s)
        return;
    for (int k = 0; k < 4; k++) {
        ring_fini(&s->roc[k].win);
        ring_fini(&s->sm[k].win);
    }
    ring_fini(&s->sig.win);
}

int gt_ind_kst_init(gt_ind_kst_state *s, const int32_t *periods)
{
    static const int32_t def[9] = {10, 15, 20, 30, 10, 10, 10, 15, 9};
    const int32_t *p = periods ? periods : def;
    int rc;
    for (int k = 0; k < 9; k++)
        if ((rc = ind_check_period("kst", p[k], 1)) < 0)
            return rc;
    memset(s, 0, sizeof *s);
    s->kst = s->signal = IND_NAN;
    for (int k = 0; k < 4; k++) {
        s->roc[k].kind = GT_IND_ROC;
        if ((rc = ring_init(&s->roc[k].win, (int64_t)p[k] + 1)) < 0 ||
            (rc = sma_init(&s->sm[k], p[4 + k])) < 0)
            goto fail;
    }
    if ((rc = sma_init(&s->sig, p[8])) < 0)
        goto fail;
    return GT_OK;
fail:
    gt_ind_kst_fini(s);
    return rc;
}

double gt_ind_kst_update(gt_ind_kst_state *s, double x)
{
    if (isnan(x))
        return IND_NAN;
    double kst = 0;
    for (int k = 0; k < 4; k++) {
        double r = change_step(&s->roc[k], x);
        double v = isnan(r) ? IND_NAN : sma_step(&s->sm[k], r);
        kst += (double)(k + 1) * v;
    }
    s->kst = kst;
    s->signal = isnan(kst) ? IND_NAN : sma_step(&s->sig, kst);
    return kst;
}

int gt_ind_kst(const double *in, int64_t n, double **out, const int32_t *periods)
{
    gt_ind_kst_state s;
    int rc;
    if ((rc = ind_check_len(in, n, "kst")) < 0 || (rc = ind_check_len(out, n, "kst")) < 0 ||
        (rc = gt_ind_kst_init(&s, periods)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++) {
        double k = gt_ind_kst_update(&s, in[i]);
        ind_put(out, 0, i, k);
        ind_put(out, 1, i, isnan(in[i]) ? IND_NAN : s.signal);
    }
    gt_ind_kst_fini(&s);
    return GT_OK;
}

/* ---- MFI ---- */

void gt_ind_mfi_fini(gt_ind_mfi_state *s)
{
    if (!s)
        return;
    ring_fini(&s->pos);
    ring_fini(&s->neg);
}

int gt_ind_mfi_init(gt_ind_mfi_state *s, int32_t period)
{
    int rc = ind_check_period("mfi", period, 1);
    if (rc < 0)
        return rc;
    memset(s, 0, sizeof *s);
    if ((rc = ring_init(&s->pos, period)) < 0 || (rc = ring_init(&s->neg, period)) < 0) {
        gt_ind_mfi_fini(s);
        return rc;
    }
    return GT_OK;
}

double gt_ind_mfi_update(gt_ind_mfi_state *s, double high, double low, double close, double volume)
{
    if (isnan(high) || isnan(low) || isnan(close) || isnan(volume))
        return IND_NAN;
    double tp = (high + low + close) / 3.0;
    if (s->count++ == 0) {
        s->prev_tp = tp;
        return IND_NAN;
    }
    double mf = tp * volume;
    ring_roll(&s->pos, &s->pos_sum, tp > s->prev_tp ? mf : 0.0);
    ring_roll(&s->neg, &s->neg_sum, tp < s->prev_tp ? mf : 0.0);
    s->prev_tp = tp;
    if (!ring_full(&s->pos))
        return IND_NAN;
    double t = s->pos_sum + s->neg_sum;
    return t < 1.0 ? 0.0 : 100.0 * (s->pos_sum / t); /* TA-Lib's guard */
}

int gt_ind_mfi(const double *high, const double *low, const double *close, const double *volume,
               int64_t n, double *out, int32_t period)
{
    gt_ind_mfi_state s;
    int rc;
    if ((rc = check_hlc("mfi", high, low, close, n, out)) < 0 ||
        (rc = ind_check_len(volume, n, "mfi")) < 0 || (rc = gt_ind_mfi_init(&s, period)) < 0)
        return rc;
    for (int64_t i = 0; i < n; i++)
        out[i] = gt_ind_mfi_update(&s, high[i], low[i], close[i], volume[i]);
    gt_ind_mfi_fini(&s);
    return GT_OK;
}
