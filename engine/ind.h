/*
 * ind.h: indicators, the C-only side. The public API (batch kernels and streaming states)
 * is in gt_ffi.h; this header holds the building blocks every indicator file shares: a
 * ring of the last n values, a monotonic deque for highest/lowest, and the SMA, EMA, WMA
 * and Wilder steps. They are static inline so a batch kernel that loops over a state's
 * step compiles to the same arithmetic as the exported _update, bit for bit.
 * Ownership: a state owns the buffers its _init allocates; its _fini frees them.
 * Files: ind.c (averages, utilities), ind_osc.c (oscillators), ind_vol.c (volatility,
 * trend, volume).
 */
#ifndef GT_IND_H
#define GT_IND_H

#include <math.h>
#include <stdlib.h>

#include "gt.h"

#define IND_NAN ((double)NAN)

/* Argument checks shared by every kernel; they set the error message. */
static inline int ind_check_len(const void *p, int64_t n, const char *what)
{
    if (n < 0)
        return gt_seterr(GT_EINVAL, "ind: %s: negative length %lld", what, (long long)n);
    if (n > 0 && p == NULL)
        return gt_seterr(GT_EINVAL, "ind: %s: NULL array", what);
    return GT_OK;
}

static inline int ind_check_period(const char *who, int64_t p, int64_t min)
{
    if (p < min || p > (int64_t)1 << 30)
        return gt_seterr(GT_EINVAL, "ind: %s: period %lld out of range (>= %lld)", who,
                         (long long)p, (long long)min);
    return GT_OK;
}

/* Input and output arrays of length n and a period of at least min_period. */
static inline int check1(const char *who, const double *in, int64_t n, const void *out, int64_t period,
                  int64_t min_period)
{
    int rc;
    if ((rc = ind_check_len(in, n, who)) < 0 || (rc = ind_check_len(out, n, who)) < 0)
        return rc;
    return ind_check_period(who, period, min_period);
}

/* The batch form of a one-input, one-period indicator that is its streaming update run
 * over the array, so the two forms cannot disagree. FINI is a statement run on the state at
 * the end (freeing a ring buffer), or nothing. */
#define IND_BATCH(name, minp, FINI)                                                        \
    int gt_ind_##name(const double *in, int64_t n, double *out, int32_t period)            \
    {                                                                                      \
        gt_ind_##name##_state s;                                                           \
        int rc = check1(#name, in, n, out, period, minp);                                  \
        if (rc < 0 || (rc = gt_ind_##name##_init(&s, period)) < 0)                         \
            return rc;                                                                     \
        for (int64_t i = 0; i < n; i++)                                                    \
            out[i] = gt_ind_##name##_update(&s, in[i]);                                    \
        FINI;                                                                              \
        return GT_OK;                                                                      \
    }

/* Multi-output kernels: out is an array of pointers, a NULL entry is skipped. */
static inline void ind_put(double **out, int k, int64_t i, double v)
{
    if (out[k])
        out[k][i] = v;
}

/* ---- ring ---- */
static inline int ring_init(gt_ind_ring *r, int64_t cap)
{
    r->buf = calloc((size_t)cap, sizeof *r->buf);
    r->cap = cap;
    r->head = 0;
    r->count = 0;
    return r->buf ? GT_OK : gt_seterr(GT_ENOMEM, "ind: ring of %lld values", (long long)cap);
}

static inline void ring_fini(gt_ind_ring *r)
{
    free(r->buf);
    r->buf = NULL;
    r->count = 0;
}

static inline int ring_full(const gt_ind_ring *r)
{
    return r->count == r->cap;
}

/* The value the next push evicts (only meaningful when full). */
static inline double ring_oldest(const gt_ind_ring *r)
{
    return r->buf[r->head];
}

static inline void ring_push(gt_ind_ring *r, double x)
{
    r->buf[r->head] = x;
    if (++r->head == r->cap)
        r->head = 0;
    if (r->count < r->cap)
        r->count++;
}

/* k-th most recent value, 0 = newest; needs k < count. */
static inline double ring_get(const gt_ind_ring *r, int64_t k)
{
    int64_t i = r->head - 1 - k;
    if (i < 0)
        i += r->cap;
    return r->buf[i];
}

/* Pushes x and keeps *sum the sum of the window (the SMA's order of operations). */
static inline void ring_roll(gt_ind_ring *r, double *sum, double x)
{
    if (ring_full(r))
        *sum += x - ring_oldest(r);
    else
        *sum += x;
    ring_push(r, x);
}

/* ---- highest / lowest: monotonic deque ---- */
static inline int minmax_init(gt_ind_minmax *m, int64_t cap, int is_max)
{
    m->val = malloc((size_t)cap * sizeof *m->val);
    m->pos = malloc((size_t)cap * sizeof *m->pos);
    m->cap = cap;
    m->first = m->len = m->seen = 0;
    m->is_max = is_max;
    if (!m->val || !m->pos) {
        free(m->val);
        free(m->pos);
        m->val = NULL;
        m->pos = NULL;
        return gt_seterr(GT_ENOMEM, "ind: deque of %lld values", (long long)cap);
    }
    return GT_OK;
}

static inline void minmax_fini(gt_ind_minmax *m)
{
    free(m->val);
    free(m->pos);
    m->val = NULL;
    m->pos = NULL;
    m->len = 0;
}

/* Pushes x, returns the extreme of the last cap values (of fewer while filling). Ties keep
 * the latest bar (the older equal value is popped), as TA-Lib's AROON does. */
static inline double minmax_push(gt_ind_minmax *m, double x)
{
    int64_t p = m->seen++;
    while (m->len > 0 && m->pos[m->first] <= p - m->cap) {
        if (++m->first == m->cap)
            m->first = 0;
        m->len--;
    }
    while (m->len > 0) {
        int64_t b = m->first + m->len - 1;
        if (b >= m->cap)
            b -= m->cap;
        if (m->is_max ? m->val[b] <= x : m->val[b] >= x)
            m->len--;
        else
            break;
    }
    int64_t b = m->first + m->len;
    if (b >= m->cap)
        b -= m->cap;
    m->val[b] = x;
    m->pos[b] = p;
    m->len++;
    return m->val[m->first];
}

static inline int minmax_full(const gt_ind_minmax *m)
{
    return m->seen >= m->cap;
}

/* Bars since the extreme (0 = the latest value pushed). */
static inline int64_t minmax_age(const gt_ind_minmax *m)
{
    return m->seen - 1 - m->pos[m->first];
}

/* ---- SMA ---- */
static inline int sma_init(gt_ind_sma_state *s, int64_t period)
{
    s->sum = 0;
    s->period = period;
    return ring_init(&s->win, period);
}

/* The batch SMA kernel does the same additions in the same order: sum += x, then
 * sum += x - oldest once the window is full. */
static inline double sma_step(gt_ind_sma_state *s, double x)
{
    gt_ind_ring *r = &s->win;
    if (ring_full(r))
        s->sum += x - ring_oldest(r);
    else
        s->sum += x;
    ring_push(r, x);
    return ring_full(r) ? s->sum / (double)s->period : IND_NAN;
}

/* ---- EMA ---- */
static inline void ema_setup(gt_ind_ema_state *e, int64_t period, int seed)
{
    e->alpha = 2.0 / (double)(period + 1);
    e->value = IND_NAN;
    e->seed_sum = 0;
    e->period = period;
    e->count = 0;
    e->seed = seed;
}

/* TA-Lib's form: value = (x - value) * alpha + value. */
static inline double ema_step(gt_ind_ema_state *e, double x)
{
    if (e->count >= e->period) {
        e->value = (x - e->value) * e->alpha + e->value;
        return e->value;
    }
    if (e->seed == GT_IND_SEED_FIRST) {
        e->count = e->period;
        e->value = x;
        return x;
    }
    e->seed_sum += x;
    if (++e->count < e->period)
        return IND_NAN;
    e->value = e->seed_sum / (double)e->period;
    return e->value;
}

/* ---- Wilder (SMMA) ---- */
static inline void smma_setup(gt_ind_smma_state *w, int64_t period)
{
    w->value = IND_NAN;
    w->seed_sum = 0;
    w->period = period;
    w->count = 0;
}

/* TA-Lib's form: value = (value * (period - 1) + x) / period. */
static inline double smma_step(gt_ind_smma_state *w, double x)
{
    if (w->count >= w->period) {
        w->value = (w->value * (double)(w->period - 1) + x) / (double)w->period;
        return w->value;
    }
    w->seed_sum += x;
    if (++w->count < w->period)
        return IND_NAN;
    w->value = w->seed_sum / (double)w->period;
    return w->value;
}

/* ---- WMA: weights 1..period, newest heaviest ---- */
static inline int wma_init(gt_ind_wma_state *w, int64_t period)
{
    w->sum = w->wsum = 0;
    w->period = period;
    return ring_init(&w->win, period);
}

static inline double wma_step(gt_ind_wma_state *w, double x)
{
    gt_ind_ring *r = &w->win;
    if (ring_full(r)) {
        /* every weight drops by one (minus the window sum), the newest gets period */
        w->wsum += (double)w->period * x - w->sum;
        w->sum += x - ring_oldest(r);
    } else {
        w->wsum += (double)(r->count + 1) * x;
        w->sum += x;
    }
    ring_push(r, x);
    if (!ring_full(r))
        return IND_NAN;
    return w->wsum / ((double)w->period * (double)(w->period + 1) / 2.0);
}

/* ---- true range (TA-Lib's TRUE_RANGE macro, same comparisons) ---- */
static inline double true_range(double h, double l, double prev_close)
{
    double tr = h - l;
    double t = fabs(h - prev_close);
    if (t > tr)
        tr = t;
    t = fabs(l - prev_close);
    if (t > tr)
        tr = t;
    return tr;
}

#endif
