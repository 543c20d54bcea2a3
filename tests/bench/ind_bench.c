/* ind_bench: batch SMA, EMA and RSI over 10M doubles against a plain C loop computing the
 * same numbers in the same run (best of 3 each), and streaming updates per bar. Prints
 * ns/element and the ratio kernel / plain loop (goal <= 2x; streaming goal < 20 ns/bar).
 * Never fails on a time. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gt.h"

#define NV 10000000
#define REPS 3

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double sink;

/* plain loops: no NaN handling, no state struct, the textbook recursion */
static void plain_sma(const double *x, int64_t n, double *out, int p)
{
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        sum += x[i];
        if (i >= p)
            sum -= x[i - p];
        out[i] = i >= p - 1 ? sum / p : NAN;
    }
}

static void plain_ema(const double *x, int64_t n, double *out, int p)
{
    double a = 2.0 / (p + 1), v = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i < p) {
            v += x[i];
            out[i] = NAN;
            if (i == p - 1)
                out[i] = v = v / p;
            continue;
        }
        v = (x[i] - v) * a + v;
        out[i] = v;
    }
}

static void plain_rsi(const double *x, int64_t n, double *out, int p)
{
    double g = 0, l = 0;
    out[0] = NAN;
    for (int64_t i = 1; i < n; i++) {
        double d = x[i] - x[i - 1];
        double up = d > 0 ? d : 0, dn = d < 0 ? -d : 0;
        if (i <= p) {
            g += up;
            l += dn;
            out[i] = NAN;
            if (i < p)
                continue;
            g /= p;
            l /= p;
        } else {
            g = (g * (p - 1) + up) / p;
            l = (l * (p - 1) + dn) / p;
        }
        out[i] = g + l == 0 ? 0 : 100 * g / (g + l);
    }
}

typedef void (*plain_fn)(const double *, int64_t, double *, int);

static double best_plain(plain_fn f, const double *x, double *out, int p)
{
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        double t0 = now();
        f(x, NV, out, p);
        double t = now() - t0;
        sink += out[NV - 1];
        if (t < best)
            best = t;
    }
    return best;
}

int main(void)
{
    double *x = malloc(NV * sizeof *x), *out = malloc(NV * sizeof *out);
    if (!x || !out)
        return 1;
    uint64_t s = 7;
    double p = 100;
    for (int64_t i = 0; i < NV; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        p *= 1 + ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 0.02;
        x[i] = p;
    }
    printf("batch over %d doubles, best of %d (ns/element; ratio = kernel / plain C loop)\n", NV,
           REPS);
    const char *names[3] = {"sma(30)", "ema(30)", "rsi(14)"};
    plain_fn plains[3] = {plain_sma, plain_ema, plain_rsi};
    int periods[3] = {30, 30, 14};
    for (int k = 0; k < 3; k++) {
        double best = 1e30;
        for (int r = 0; r < REPS; r++) {
            double t0 = now();
            if (k == 0)
                gt_ind_sma(x, NV, out, periods[k]);
            else if (k == 1)
                gt_ind_ema(x, NV, out, periods[k], GT_IND_SEED_SMA);
            else
                gt_ind_rsi(x, NV, out, periods[k]);
            double t = now() - t0;
            sink += out[NV - 1];
            if (t < best)
                best = t;
        }
        double base = best_plain(plains[k], x, out, periods[k]);
        printf("  %-8s kernel %6.2f ns/elem   plain loop %6.2f ns/elem   ratio %.2fx\n", names[k],
               best * 1e9 / NV, base * 1e9 / NV, best / base);
    }

    printf("streaming _update over %d bars, best of %d (ns/bar)\n", NV, REPS);
    for (int k = 0; k < 3; k++) {
        double best = 1e30;
        for (int r = 0; r < REPS; r++) {
            gt_ind_sma_state ss;
            gt_ind_ema_state es;
            gt_ind_rsi_state rs;
            gt_ind_sma_init(&ss, 30);
            gt_ind_ema_init(&es, 30, GT_IND_SEED_SMA);
            gt_ind_rsi_init(&rs, 14);
            double acc = 0, t0 = now();
            for (int64_t i = 0; i < NV; i++) {
                double v;
                if (k == 0)
                    v = gt_ind_sma_update(&ss, x[i]);
                else if (k == 1)
                    v = gt_ind_ema_update(&es, x[i]);
                else
                    v = gt_ind_rsi_update(&rs, x[i]);
                acc += isnan(v) ? 0 : v;
            }
            double t = now() - t0;
            sink += acc;
            gt_ind_sma_fini(&ss);
            if (t < best)
                best = t;
        }
        printf("  %-8s %6.2f ns/bar\n", names[k], best * 1e9 / NV);
    }
    printf("(checksum %g)\n", sink);
    free(x);
    free(out);
    return 0;
}
