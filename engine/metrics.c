/*
 * metrics.c: performance statistics of a backtest. Every formula, convention and NaN case
 * is written down in examples/METRICS.md; keep the two in step.
 *
 * Per-bar returns r[i] = equity[i] / equity[i-1] - 1 (i = 1 .. n-1) are recomputed on each
 * pass instead of stored, so nothing is allocated. Variances are two-pass (mean first,
 * then squared deviations), which keeps full precision when the returns are nearly equal.
 */
#include "metrics.h"

#include <math.h>

/* Per-bar return i (1 <= i < n) of a positive series: from r (r[i - 1]) when the caller
 * computed the returns once (gt_stats_compute_ret), else divided here; the same double
 * either way. */
static inline double ret(const double *r, const double *x, int64_t i)
{
    return r ? r[i - 1] : x[i] / x[i - 1] - 1.0;
}

/* What is checked before any bar is read. */
static int check_header(const gt_stats_input *in)
{
    if (!in->equity)
        return gt_seterr(GT_EINVAL, "gt_stats_compute: equity is NULL");
    if (in->n <= 0)
        return gt_seterr(GT_EINVAL, "gt_stats_compute: no bars (n = %lld)", (long long)in->n);
    if (in->m < 0)
        return gt_seterr(GT_EINVAL, "gt_stats_compute: negative trade count (m = %lld)",
                         (long long)in->m);
    if (in->m > 0 && !in->trades)
        return gt_seterr(GT_EINVAL, "gt_stats_compute: trades is NULL but m = %lld",
                         (long long)in->m);
    if (!isfinite(in->periods_per_year) || in->periods_per_year <= 0)
        return gt_seterr(GT_EINVAL, "gt_stats_compute: periods_per_year must be > 0 (got %g)",
                         in->periods_per_year);
    if (!isfinite(in->risk_free))
        return gt_seterr(GT_EINVAL, "gt_stats_compute: risk_free is not finite");
    return GT_OK;
}

/* The bars: finite equity, positive at bar 0, a finite positive benchmark. The bar scan
 * below only flags a failure; this finds the first one and says which. */
static int check_bars(const gt_stats_input *in)
{
    for (int64_t i = 0; i < in->n; i++)
        if (!isfinite(in->equity[i]))
            return gt_seterr(GT_EINVAL, "gt_stats_compute: equity[%lld] is not finite",
                             (long long)i);
    if (in->equity[0] <= 0)
        return gt_seterr(GT_EINVAL, "gt_stats_compute: equity[0] must be > 0 (got %g)",
                         in->equity[0]);
    if (in->benchmark)
        for (int64_t i = 0; i < in->n; i++)
            if (!isfinite(in->benchmark[i]) || in->benchmark[i] <= 0)
                return gt_seterr(GT_EINVAL,
                                 "gt_stats_compute: benchmark[%lld] must be finite and > 0 "
                                 "(got %g)",
                                 (long long)i, in->benchmark[i]);
    return GT_OK;
}

static int check_trades(const gt_stats_input *in)
{
    for (int64_t j = 0; j < in->m; j++) {
        const gt_trade *t = &in->trades[j];
        if (t->entry_bar < 0 || t->entry_bar >= in->n)
            return gt_seterr(GT_EINVAL,
                             "gt_stats_compute: trades[%lld]: entry_bar %lld outside "
                             "0..%lld",
                             (long long)j, (long long)t->entry_bar, (long long)(in->n - 1));
        if (t->exit_bar != -1 && (t->exit_bar < t->entry_bar || t->exit_bar >= in->n))
            return gt_seterr(GT_EINVAL,
                             "gt_stats_compute: trades[%lld]: exit_bar %lld is "
                             "neither -1 (open) nor in %lld..%lld",
                             (long long)j, (long long)t->exit_bar, (long long)t->entry_bar,
                             (long long)(in->n - 1));
        if (!isfinite(t->pnl) || !isfinite(t->return_pct) || !isfinite(t->fees))
            return gt_seterr(GT_EINVAL,
                             "gt_stats_compute: trades[%lld]: pnl, return_pct or "
                             "fees is not finite",
                             (long long)j);
    }
    return GT_OK;
}

/* Return, CAGR and the calendar span. */
static void growth_stats(const gt_stats_input *in, gt_stats *s)
{
    int64_t n = in->n;
    s->start_equity = in->equity[0];
    s->final_equity = in->equity[n - 1];
    s->return_pct = (s->final_equity / s->start_equity - 1.0) * 100.0;
    /* Without timestamps the span is the bar count over the annualisation factor. */
    s->years = in->ts ? (double)(in->ts[n - 1] - in->ts[0]) / GT_METRICS_US_PER_YEAR
                      : (double)(n - 1) / in->periods_per_year;
    if (s->years > 0 && s->final_equity >= 0)
        s->cagr_pct = (pow(s->final_equity / s->start_equity, 1.0 / s->years) - 1.0) * 100.0;
    else
        s->cagr_pct = NAN;
}

/* Everything the statistics need from the bars, in two loops over them instead of one per
 * statistic: the first checks the bars, sums the returns (and the benchmark's), counts the
 * bars in the market and follows the drawdown; the second sums the deviations from the
 * mean (Sortino's downside, the variance, the optimiser's third and fourth moments, the
 * covariance with the benchmark). Each sum is accumulated in bar order exactly as its own
 * pass did, so every statistic keeps its bits; but a chain of dependent additions costs an
 * add's latency per bar, and independent chains in one loop overlap, which made the
 * statistics of a run a third of what they cost. The sums are made whatever the bars hold;
 * the callers decide what they mean. */
typedef struct bar_scan {
    int bad;          /* a bar check failed (check_bars says which) */
    int positive;     /* equity > 0 before every return */
    double sum, sb;   /* sum of r, of rb (the benchmark's) */
    double dn;        /* sum of (r - rf)^2 where r - rf < 0 */
    double ss, m3, m4; /* sums of d^2, d^3, d^4 with d = r - mean */
    double cov, var;  /* sums of d (rb - mb), (rb - mb)^2 */
    int64_t on;       /* bars in the market */
    /* drawdown: an episode starts after the last bar p at a running peak when equity falls
     * below that peak, and ends at the first bar q with equity >= the peak (duration q - p
     * bars) or at the last bar when never recovered (duration n-1 - p) */
    double deepest, depth_sum;
    int64_t episodes, longest;
} bar_scan;

static void scan_bars(const gt_stats_input *in, const double *er, const double *br, bar_scan *z)
{
    const double *eq = in->equity, *b = in->benchmark;
    const uint8_t *im = in->in_market;
    int64_t n = in->n, k = n - 1;
    double rf = in->risk_free / in->periods_per_year;
    int bad = !isfinite(eq[0]) || eq[0] <= 0, nonpos = 0;
    if (b)
        bad |= !isfinite(b[0]) || b[0] <= 0;
    int64_t on = im && im[0] != 0, pk = 0, episodes = 0, longest = 0;
    double peak = eq[0], depth = 0, deepest = 0, depth_sum = 0;
    int in_dd = 0;
    double sum = 0, sb = 0;
    for (int64_t i = 1; i < n; i++) {
        double x = eq[i];
        bad |= !isfinite(x);
        nonpos |= eq[i - 1] <= 0;
        sum += ret(er, eq, i);
        if (b) {
            bad |= !isfinite(b[i]) || b[i] <= 0;
            sb += ret(br, b, i);
        }
        if (im)
            on += im[i] != 0;
        if (x >= peak) {
            if (in_dd) {
                episodes++;
                depth_sum += depth;
                longest = GT_MAX(longest, i - pk);
                in_dd = 0;
            }
            peak = x;
            pk = i;
        } else {
            /* The same expression as gt_drawdown, so the two agree to the last bit. */
            double d = -(x / peak - 1.0);
            if (!in_dd) {
                in_dd = 1;
                depth = 0;
            }
            depth = GT_MAX(depth, d);
            deepest = GT_MAX(deepest, d);
        }
    }
    if (in_dd) {
        episodes++;
        depth_sum += depth;
        longest = GT_MAX(longest, n - 1 - pk);
    }
    *z = (bar_scan){.bad = bad, .positive = !nonpos, .sum = sum, .sb = sb, .on = on,
                    .deepest = deepest, .depth_sum = depth_sum, .episodes = episodes,
                    .longest = longest};
    if (k < 1 || bad)
        return;
    double mean = sum / (double)k, mb = sb / (double)k;
    double dn = 0, ss = 0, m3 = 0, m4 = 0, cov = 0, var = 0;
    /* adding 0 * 0 for the bars at or above rf (and NaN) leaves dn's bits as skipping them
     * would (dn is never -0), and min(e, 0) is one instruction where the skip was an
     * unpredictable branch */
    if (b) {
        for (int64_t i = 1; i < n; i++) {
            double r = ret(er, eq, i), e = r - rf, d = r - mean, d2 = d * d;
            double db = ret(br, b, i) - mb, neg = e < 0 ? e : 0.0;
            dn += neg * neg;
            ss += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
            cov += d * db;
            var += db * db;
        }
    } else {
        for (int64_t i = 1; i < n; i++) {
            double r = ret(er, eq, i), e = r - rf, d = r - mean, d2 = d * d;
            double neg = e < 0 ? e : 0.0;
            dn += neg * neg;
            ss += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
        }
    }
    z->dn = dn;
    z->ss = ss;
    z->m3 = m3;
    z->m4 = m4;
    z->cov = cov;
    z->var = var;
}

/* Annualised return and volatility, Sharpe, Sortino: need equity > 0 before every return. */
static void return_stats(const gt_stats_input *in, const bar_scan *z, gt_stats *s)
{
    int64_t n = in->n, k = n - 1;
    double ppy = in->periods_per_year, rf = in->risk_free / ppy;
    s->ann_return_pct = s->ann_vol_pct = s->sharpe = s->sortino = NAN;
    if (!z->positive || k < 1)
        return;
    double mean = z->sum / (double)k, ex = mean - rf;
    s->ann_return_pct = mean * ppy * 100.0;

    double dd = sqrt(z->dn / (double)k);
    if (dd > GT_METRICS_ZERO_STD)
        s->sortino = ex / dd * sqrt(ppy);
    else if (ex > GT_METRICS_ZERO_STD)
        s->sortino = INFINITY; /* gains and not one bar below the risk-free rate */

    if (k < 2)
        return;
    double sd = sqrt(z->ss / (double)(k - 1));
    s->ann_vol_pct = sd * sqrt(ppy) * 100.0;
    if (sd > GT_METRICS_ZERO_STD)
        s->sharpe = ex / sd * sqrt(ppy);
}

/* Drawdown depth and episodes. An episode starts after the last bar p at a running peak
 * when equity falls below that peak, and ends at the first bar q with equity >= the peak
 * (duration q - p bars) or at the last bar when never recovered (duration n-1 - p). */
static void drawdown_stats(const bar_scan *z, gt_stats *s)
{
    s->max_drawdown_pct = z->deepest * 100.0;
    s->max_drawdown_bars = (double)z->longest;
    s->avg_drawdown_pct = z->episodes ? z->depth_sum / (double)z->episodes * 100.0 : 0.0;
    s->calmar = z->deepest > 0 ? s->cagr_pct / s->max_drawdown_pct : NAN;
}

static void trade_stats(const gt_stats_input *in, gt_stats *s)
{
    const gt_trade *t = in->trades;
    int64_t m = in->m;
    s->num_trades = (double)m;
    s->total_fees = 0;
    for (int64_t j = 0; j < m; j++)
        s->total_fees += t[j].fees;
    s->win_rate_pct = s->profit_factor = s->expectancy = s->avg_trade_pct = NAN;
    s->best_trade_pct = s->worst_trade_pct = s->avg_trade_bars = s->max_trade_bars = NAN;
    s->sqn = NAN;
    if (m == 0)
        return;

    double gp = 0, gl = 0, pnl = 0, pct = 0, bars = 0, best = -INFINITY, worst = INFINITY;
    int64_t wins = 0, longest = 0;
    for (int64_t j = 0; j < m; j++) {
        if (t[j].pnl > 0) {
            wins++;
            gp += t[j].pnl;
        } else if (t[j].pnl < 0) {
            gl -= t[j].pnl;
        }
        pnl += t[j].pnl;
        pct += t[j].return_pct;
        best = GT_MAX(best, t[j].return_pct);
        worst = GT_MIN(worst, t[j].return_pct);
        /* An open trade has been held until the last bar. */
        int64_t held = (t[j].exit_bar == -1 ? in->n - 1 : t[j].exit_bar) - t[j].entry_bar;
        bars += (double)held;
        longest = GT_MAX(longest, held);
    }
    s->win_rate_pct = (double)wins / (double)m * 100.0;
    if (gl > 0)
        s->profit_factor = gp / gl;
    else if (gp > 0)
        s->profit_factor = INFINITY;
    s->expectancy = pnl / (double)m;
    s->avg_trade_pct = pct / (double)m;
    s->best_trade_pct = best;
    s->worst_trade_pct = worst;
    s->avg_trade_bars = bars / (double)m;
    s->max_trade_bars = (double)longest;

    if (m < 2)
        return;
    double ss = 0;
    for (int64_t j = 0; j < m; j++) {
        double d = t[j].pnl - s->expectancy;
        ss += d * d;
    }
    double sd = sqrt(ss / (double)(m - 1));
    /* Relative test: pnl is in currency, so an absolute threshold would depend on scale. */
    if (sd > 1e-12 * fabs(s->expectancy) && sd > 0)
        s->sqn = sqrt((double)m) * s->expectancy / sd;
}

static void exposure_stats(const gt_stats_input *in, const bar_scan *z, gt_stats *s)
{
    s->exposure_pct = NAN;
    if (!in->in_market)
        return;
    s->exposure_pct = (double)z->on / (double)in->n * 100.0;
}

/* Buy-and-hold, and OLS beta / alpha of the strategy's per-bar returns on the benchmark's. */
static void benchmark_stats(const gt_stats_input *in, const bar_scan *z, gt_stats *s)
{
    const double *b = in->benchmark;
    int64_t n = in->n, k = n - 1;
    s->buy_hold_return_pct = s->beta = s->alpha_pct = NAN;
    if (!b)
        return;
    s->buy_hold_return_pct = (b[n - 1] / b[0] - 1.0) * 100.0;
    if (k < 2 || !z->positive)
        return;
    double mr = z->sum / (double)k, mb = z->sb / (double)k;
    /* Both sums would be divided by k-1; the ratio does not need it, the test does. */
    if (sqrt(z->var / (double)(k - 1)) <= GT_METRICS_ZERO_STD)
        return;
    s->beta = z->cov / z->var;
    s->alpha_pct = (mr - s->beta * mb) * in->periods_per_year * 100.0;
}

int gt_stats_compute(const gt_stats_input *in, gt_stats *out)
{
    return gt_stats_compute_ret(in, NULL, NULL, NULL, out);
}

int gt_stats_compute_ret(const gt_stats_input *in, const double *eq_ret, const double *bench_ret,
                         double *ret_moments, gt_stats *out)
{
    if (!in || !out)
        return gt_seterr(GT_EINVAL, "gt_stats_compute: NULL %s", in ? "out" : "in");
    int rc = check_header(in);
    if (rc < 0)
        return rc;
    bar_scan z;
    scan_bars(in, eq_ret, in->benchmark ? bench_ret : NULL, &z);
    if (z.bad && (rc = check_bars(in)) < 0)
        return rc;
    if ((rc = check_trades(in)) < 0)
        return rc;
    gt_stats s;
    growth_stats(in, &s);
    return_stats(in, &z, &s);
    drawdown_stats(&z, &s);
    trade_stats(in, &s);
    exposure_stats(in, &z, &s);
    benchmark_stats(in, &z, &s);
    *out = s;
    if (ret_moments) {
        ret_moments[0] = z.sum;
        ret_moments[1] = z.ss;
        ret_moments[2] = z.m3;
        ret_moments[3] = z.m4;
    }
    return GT_OK;
}

void gt_drawdown(const double *equity, int64_t n, double *out)
{
    if (!equity || !out || n <= 0)
        return;
    double peak = equity[0];
    for (int64_t i = 0; i < n; i++) {
        if (equity[i] > peak)
            peak = equity[i];
        out[i] = equity[i] / peak - 1.0;
    }
}
