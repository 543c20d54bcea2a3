/*
 * bt_bench.c: the backtest loop against a plain C loop that computes the same SMA(10/30)
 * crossover and the same all-in equity (next-open fills, whole units, no costs), on one
 * million synthetic bars, in the same run (best of 5 each). Prints bars/s and the ratios
 * for the loop alone and for indicators + signals + loop; checks both give the same final
 * equity so the speed is for the same answer. Never fails on time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bt.h"
#include "datetime.h"
#include "series.h"

#define N 1000000
#define FAST 10
#define SLOW 30

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* SMA as a plain running sum (NaN for the first period-1 bars). */
static void plain_sma(const double *x, int64_t n, int p, double *out)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        s += x[i];
        if (i >= p)
            s -= x[i - p];
        out[i] = i >= p - 1 ? s / p : NAN;
    }
}

static void plain_signals(const double *f, const double *s, int64_t n, double *target)
{
    for (int64_t i = 0; i < n; i++) {
        target[i] = NAN;
        if (i == 0)
            continue;
        if (f[i] > s[i] && f[i - 1] <= s[i - 1])
            target[i] = 1;
        else if (f[i] < s[i] && f[i - 1] >= s[i - 1])
            target[i] = 0;
    }
}

/* The same rules as gt_bt_target + next-open fills: size at the decision close from equity,
 * clip to cash at the fill; exits sell everything at the next open; equity at each close. */
static double plain_loop(const gt_series *b, const double *target, int64_t start, double *equity)
{
    double cash = 10000, pos = 0, pending = 0;
    int have = 0;
    for (int64_t i = 0; i < b->n; i++) {
        if (have) {
            double px = b->open[i];
            if (pending > 0) {
                double q = pending;
                if (q * px > cash)
                    q = floor(cash / px);
                cash -= q * px;
                pos += q;
            } else {
                cash += pos * px;
                pos = 0;
            }
            have = 0;
        }
        if (i >= start && target[i] == target[i]) {
            double e = cash + pos * b->close[i];
            if (target[i] > 0 && pos == 0) {
                pending = floor(e / b->close[i] + 1e-9);
                have = pending > 0;
            } else if (target[i] == 0 && pos > 0) {
                pending = -pos;
                have = 1;
            }
        }
        equity[i] = cash + pos * b->close[i];
    }
    return equity[b->n - 1];
}

int main(void)
{
    gt_series *s;
    /* a bounded random walk (log price mean-reverting around 100), so a million bars stay
     * at realistic prices */
    s = gt_series_new(N);
    uint64_t x = 88172645463325252u;
    double lp = log(100);
    for (int64_t i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0 - 0.5;
        double o = exp(lp);
        lp += 0.03 * u - 0.001 * (lp - log(100));
        double c = exp(lp);
        gt_series_push(s, (int64_t)i * GT_US_PER_DAY, o, fmax(o, c) * 1.002, fmin(o, c) * 0.998, c, 1e6);
    }
    double *f = malloc(N * sizeof(double)), *sl = malloc(N * sizeof(double));
    double *tg = malloc(N * sizeof(double));
    gt_bt_config cfg = {0};
    cfg.capital = 10000;
    cfg.leverage = 1;
    cfg.fill_mode = GT_FILL_NEXT_OPEN;
    cfg.comm_kind = GT_COMM_PCT;
    const gt_series *ss[1] = {s};
    const double *tt[1] = {tg};

    double best_plain = 1e9, best_bt = 1e9, best_plain_all = 1e9, best_bt_all = 1e9;
    double e_plain = 0, e_bt = 0;
    int64_t norders = 0;
    for (int rep = 0; rep < 5; rep++) {
        /* indicators + signals + loop, plain */
        double t0 = now();
        plain_sma(s->close, N, FAST, f);
        plain_sma(s->close, N, SLOW, sl);
        plain_signals(f, sl, N, tg);
        double t1 = now();
        double *eq = malloc(N * sizeof(double)); /* the engine allocates its equity too */
        e_plain = plain_loop(s, tg, SLOW - 1, eq);
        free(eq);
        double t2 = now();
        best_plain = fmin(best_plain, t2 - t1);
        best_plain_all = fmin(best_plain_all, t2 - t0);

        /* the engine: C kernels for the SMAs, the same signal loop, gt_bt_run_targets */
        t0 = now();
        gt_ind_sma(s->close, N, f, FAST);
        gt_ind_sma(s->close, N, sl, SLOW);
        plain_signals(f, sl, N, tg);
        t1 = now();
        gt_bt *bt = gt_bt_new(&cfg, ss, 1);
        gt_bt_run_targets(bt, tt, 1.0, SLOW - 1, N, 0);
        t2 = now();
        const double *be;
        gt_bt_equity(bt, &be);
        const gt_order *os;
        norders = gt_bt_orders(bt, &os);
        e_bt = be[N - 1];
        gt_bt_free(bt);
        best_bt = fmin(best_bt, t2 - t1);
        best_bt_all = fmin(best_bt_all, t2 - t0);
    }
    printf("sma_cross 10/30 over %d bars (best of 5)\n", N);
    printf("  loop only:  engine %6.1f M bars/s   plain C %6.1f M bars/s   ratio %.2fx\n",
           N / best_bt / 1e6, N / best_plain / 1e6, best_bt / best_plain);
    printf("  ind+signals+loop: engine %6.1f M bars/s   plain C %6.1f M bars/s   ratio %.2fx\n",
           N / best_bt_all / 1e6, N / best_plain_all / 1e6, best_bt_all / best_plain_all);
    printf("  %lld orders (a decision every %.0f bars)\n", (long long)norders, (double)N / (double)norders);
    printf("  same final equity: %s (engine %.2f, plain %.2f)\n",
           fabs(e_bt - e_plain) < 1e-6 * fabs(e_plain) ? "yes" : "NO", e_bt, e_plain);
    free(f);
    free(sl);
    free(tg);
    gt_series_free(s);
    return 0;
}
