/* Unit tests for ind*.c from C: hand-worked values, the hand-written batch loops (SMA, EMA,
 * RSI) against the streaming step with and without missing bars, the highest/lowest deque
 * against a brute-force scan, argument errors and _fini safety. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "gt.h"
#include "tap.h"

#define N 2000

static double rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

static int same(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

/* A random walk; with gaps, some values (leading and interior) are NaN. */
static void walk(double *x, int n, int gaps)
{
    uint64_t s = 42;
    double p = 100;
    for (int i = 0; i < n; i++) {
        p *= 1 + (rnd(&s) - 0.5) * 0.02;
        x[i] = p;
    }
    if (gaps) {
        x[0] = x[1] = NAN;
        for (int i = 50; i < n; i += 137)
            x[i] = NAN;
        x[n / 2] = x[n / 2 + 1] = x[n / 2 + 2] = NAN;
    }
}

static int sma_matches_stream(const double *x, int n, int period)
{
    double out[N];
    gt_ind_sma_state s;
    if (gt_ind_sma(x, n, out, period) != GT_OK || gt_ind_sma_init(&s, period) != GT_OK)
        return 0;
    int ok = 1;
    for (int i = 0; i < n; i++)
        ok &= same(out[i], gt_ind_sma_update(&s, x[i]));
    gt_ind_sma_fini(&s);
    return ok;
}

static int ema_matches_stream(const double *x, int n, int period, int seed)
{
    double out[N];
    gt_ind_ema_state s;
    if (gt_ind_ema(x, n, out, period, seed) != GT_OK || gt_ind_ema_init(&s, period, seed) != GT_OK)
        return 0;
    int ok = 1;
    for (int i = 0; i < n; i++)
        ok &= same(out[i], gt_ind_ema_update(&s, x[i]));
    return ok;
}

static int rsi_matches_stream(const double *x, int n, int period)
{
    double out[N];
    gt_ind_rsi_state s;
    if (gt_ind_rsi(x, n, out, period) != GT_OK || gt_ind_rsi_init(&s, period) != GT_OK)
        return 0;
    int ok = 1;
    for (int i = 0; i < n; i++)
        ok &= same(out[i], gt_ind_rsi_update(&s, x[i]));
    return ok;
}

int main(void)
{
    static double x[N], out[N];

    /* SMA(3) of 1..5: -, -, 2, 3, 4 */
    const double one5[5] = {1, 2, 3, 4, 5};
    is_int(gt_ind_sma(one5, 5, out, 3), GT_OK, "sma runs");
    ok(isnan(out[0]) && isnan(out[1]), "sma: NaN in the warm-up");
    is_dbl(out[2], 2, 0, "sma(3)[2] = 2");
    is_dbl(out[4], 4, 0, "sma(3)[4] = 4");

    /* EMA(3), alpha 0.5, seeded with the first value: 1, 1.5, 2.25, 3.125, 4.0625 */
    is_int(gt_ind_ema(one5, 5, out, 3, GT_IND_SEED_FIRST), GT_OK, "ema runs");
    is_dbl(out[0], 1, 0, "ema first-seed starts at x[0]");
    is_dbl(out[4], 4.0625, 0, "ema(3) of 1..5, adjust=False seeding, is 4.0625");
    gt_ind_sma(one5, 5, out, 3);
    gt_ind_ema(one5, 5, out, 3, GT_IND_SEED_SMA);
    is_dbl(out[2], 2, 0, "ema SMA-seeded: (1+2+3)/3 at bar 2");
    is_dbl(out[4], 4, 0, "ema SMA-seeded: 2 -> 3 -> 4");

    /* RSI(2) of 1 2 3 2 3: changes +1 +1 -1 +1. Seed gain (1+1)/2 = 1, loss 0: 100;
     * then gain (1*1 + 0)/2 = 0.5, loss (0*1 + 1)/2 = 0.5: 50; gain 0.75, loss 0.25: 75 */
    const double r5[5] = {1, 2, 3, 2, 3};
    gt_ind_rsi(r5, 5, out, 2);
    ok(isnan(out[1]), "rsi(2): NaN through bar 1");
    is_dbl(out[2], 100, 1e-12, "rsi(2)[2] = 100");
    is_dbl(out[3], 50, 1e-12, "rsi(2)[3] = 50");
    is_dbl(out[4], 75, 1e-12, "rsi(2)[4] = 75");

    /* the tight batch loops equal the streaming step bit for bit, gaps or not */
    for (int gaps = 0; gaps <= 1; gaps++) {
        walk(x, N, gaps);
        int periods[] = {1, 2, 3, 14, 30, 200};
        int sma_ok = 1, ema_ok = 1, rsi_ok = 1;
        for (size_t k = 0; k < sizeof periods / sizeof periods[0]; k++) {
            sma_ok &= sma_matches_stream(x, N, periods[k]);
            ema_ok &= ema_matches_stream(x, N, periods[k], GT_IND_SEED_SMA);
            ema_ok &= ema_matches_stream(x, N, periods[k], GT_IND_SEED_FIRST);
            rsi_ok &= rsi_matches_stream(x, N, periods[k]);
        }
        ok(sma_ok, "sma batch == stream (%s)", gaps ? "with missing bars" : "no gaps");
        ok(ema_ok, "ema batch == stream (%s)", gaps ? "with missing bars" : "no gaps");
        ok(rsi_ok, "rsi batch == stream (%s)", gaps ? "with missing bars" : "no gaps");
    }
    /* the SMA's window skips a missing bar: (1+2)/2, then (2+3)/2 */
    const double gap[6] = {NAN, NAN, 1, 2, NAN, 3};
    gt_ind_sma(gap, 6, out, 2);
    ok(isnan(out[2]) && isnan(out[4]), "sma: NaN on a missing bar and in the warm-up");
    is_dbl(out[3], 1.5, 0, "sma window of defined values");
    is_dbl(out[5], 2.5, 0, "sma window skips the gap");

    /* highest / lowest against a brute-force scan */
    walk(x, N, 0);
    for (int period = 1; period <= 40; period += 13) {
        static double hi[N], lo[N];
        gt_ind_highest(x, N, hi, period);
        gt_ind_lowest(x, N, lo, period);
        int good = 1;
        for (int i = 0; i < N; i++) {
            if (i < period - 1) {
                good &= isnan(hi[i]) && isnan(lo[i]);
                continue;
            }
            double h = x[i], l = x[i];
            for (int j = i - period + 1; j <= i; j++) {
                h = fmax(h, x[j]);
                l = fmin(l, x[j]);
            }
            good &= hi[i] == h && lo[i] == l;
        }
        ok(good, "highest/lowest(%d) equal a brute-force scan", period);
    }

    /* errors: a precise message, nothing written */
    is_int(gt_ind_sma(one5, 5, out, 0), GT_EINVAL, "period 0 is GT_EINVAL");
    is_str(gt_errmsg(), "ind: sma: period 0 out of range (>= 1)", "and says why");
    is_int(gt_ind_rsi(one5, -1, out, 14), GT_EINVAL, "negative length is GT_EINVAL");
    is_int(gt_ind_atr(NULL, one5, one5, 5, out, 14), GT_EINVAL, "a NULL input is GT_EINVAL");
    is_int(gt_ind_sma(one5, 0, NULL, 3), GT_OK, "n = 0 needs no arrays");
    gt_ind_ema_state e;
    is_int(gt_ind_ema_init(&e, 3, 7), GT_EINVAL, "unknown seed mode");
    is_int(gt_ind_macd(one5, 5, NULL, 12, 26, 9, 0), GT_EINVAL, "macd needs its output array");

    /* multi-output: a NULL entry skips that output */
    double m[5], h[5];
    double *outs[3] = {m, NULL, h};
    is_int(gt_ind_macd(one5, 5, outs, 1, 2, 1, 0), GT_OK, "macd with a skipped output");
    is_dbl(m[4] - h[4], m[4], 1e-12, "hist = macd - signal (signal EMA(1) = macd, hist 0)");

    /* _fini is safe twice and on NULL */
    gt_ind_stddev_state sd;
    gt_ind_stddev_init(&sd, 5, 0);
    gt_ind_stddev_fini(&sd);
    gt_ind_stddev_fini(&sd);
    gt_ind_stddev_fini(NULL);
    gt_ind_ichimoku_state ich;
    gt_ind_ichimoku_init(&ich, 9, 26, 52);
    gt_ind_ichimoku_fini(&ich);
    gt_ind_ichimoku_fini(&ich);
    gt_ind_minmax_fini(NULL);
    ok(1, "fini twice and fini(NULL) are safe");
    return done_testing();
}
