/* risk_bench: ns per gt_risk_check with every rule on (collar, caps, staleness, duplicates,
 * throttles, exposure, cash, positions) on orders that pass, and on orders refused early
 * (bad quantity) and late (max gross), against a plain C baseline doing only the order
 * sanity checks inline in the same run (best of 3 each). Goal: well under 100 ns per check.
 * Never fails on a time. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "risk.h"

#define N 5000000
#define REPS 3
#define SEC 1000000LL

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static gt_risk_limits limits(void)
{
    gt_risk_limits l;
    memset(&l, 0, sizeof l);
    l.max_qty = 1e6;
    l.max_notional = 1e6;
    l.max_position = 0.2;
    l.max_gross = 0.8;
    l.min_cash_reserve = 0.1;
    l.max_positions = 10;
    l.collar_tier1 = 25;
    l.collar_tier2 = 50;
    l.collar_low = 0.08;
    l.collar_mid = 0.04;
    l.collar_high = 0.02;
    l.max_ref_age_us = 180 * SEC;
    l.dup_window_us = SEC;
    l.max_per_sec = 100;
    l.max_per_min = 1000;
    l.max_daily_loss = 0.02;
    l.max_drawdown = 0.1;
    return l;
}

/* Orders 100 ms apart (10/s, 600/min: under both throttles), quantities cycling so no two
 * within the duplicate window are identical. */
static double run(int what, int64_t *passed)
{
    gt_risk_limits l = limits();
    gt_risk *r = gt_risk_new(&l);
    gt_risk_account a;
    memset(&a, 0, sizeof a);
    a.equity = 1e6;
    a.cash = 1e6;
    a.gross_exposure = what == 2 ? 8e5 : 1e5;
    a.n_positions = 3;
    gt_risk_order o;
    memset(&o, 0, sizeof o);
    o.symbol = "AAPL";
    o.side = GT_RISK_BUY;
    o.type = GT_RISK_LIMIT;
    o.stop_price = NAN;
    o.ref_price = 100;
    int64_t t0 = 1700000000LL * SEC, pass = 0;
    double t = now();
    for (int64_t i = 0; i < N; i++) {
        o.now = t0 + i * (SEC / 10);
        o.ref_ts = o.now - SEC;
        o.qty = what == 1 ? -1 : (double)(1 + i % 50);
        o.price = 100 + (double)(i % 7) * 0.01;
        pass += gt_risk_check(r, &o, &a) == GT_RISK_PASS;
    }
    t = now() - t;
    gt_risk_free(r);
    *passed = pass;
    return t;
}

static double baseline(int64_t *passed)
{
    volatile double ref = 100, eq = 1e6;
    int64_t pass = 0;
    double t = now();
    for (int64_t i = 0; i < N; i++) {
        double qty = (double)(1 + i % 50), px = 100 + (double)(i % 7) * 0.01;
        pass += isfinite(qty) && qty > 0 && isfinite(px) && px > 0 && ref > 0 && eq > 0 &&
                fabs(px - ref) / ref <= 0.02 && qty * px <= 1e6;
    }
    t = now() - t;
    *passed = pass;
    return t;
}

int main(void)
{
    const char *names[] = {"passing order, all rules on", "refused early (bad qty)",
                           "refused late (max gross)"};
    double base = 1e9;
    int64_t bp = 0;
    for (int k = 0; k < REPS; k++) {
        double t = baseline(&bp);
        base = t < base ? t : base;
    }
    printf("gt_risk_check over %d orders, best of %d (ns/check; ratio = gate / plain C sanity "
           "checks inline; goal well under 100 ns)\n",
           N, REPS);
    printf("  %-30s %6.2f ns/check  (passed %lld)\n", "plain C sanity baseline", base * 1e9 / N,
           (long long)bp);
    for (int w = 0; w < 3; w++) {
        double best = 1e9;
        int64_t passed = 0;
        for (int k = 0; k < REPS; k++) {
            double t = run(w, &passed);
            best = t < best ? t : best;
        }
        printf("  %-30s %6.2f ns/check  ratio %.1fx  (passed %lld)\n", names[w], best * 1e9 / N,
               best / base, (long long)passed);
    }
    return 0;
}
