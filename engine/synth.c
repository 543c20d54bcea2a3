/*
 * synth.c: the regime-switching generator. Random numbers come from xoshiro256** seeded
 * through splitmix64 (no libc rand state), normals from Box-Muller.
 */
#include "synth.h"

#include <math.h>

#include "datetime.h"
#include "series.h"

typedef struct rng {
    uint64_t s[4];
    double spare;
    int has_spare;
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next_u64(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* uniform in (0, 1) */
static double uniform(rng *r)
{
    return ((double)(next_u64(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double normal(rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u = uniform(r), v = uniform(r);
    double m = sqrt(-2.0 * log(u));
    r->spare = m * sin(2.0 * M_PI * v);
    r->has_spare = 1;
    return m * cos(2.0 * M_PI * v);
}

/* Annual drift and volatility, and the mean stay in bars, of each regime. */
static const struct {
    const char *name;
    double mu, sigma, mean_bars;
} regimes[GT_REGIME_COUNT] = {
    [GT_REGIME_BULL_QUIET] = {"bull_quiet", 0.25, 0.12, 80},
    [GT_REGIME_BULL_VOLATILE] = {"bull_volatile", 0.30, 0.30, 50},
    [GT_REGIME_BEAR_QUIET] = {"bear_quiet", -0.20, 0.15, 60},
    [GT_REGIME_BEAR_VOLATILE] = {"bear_volatile", -0.40, 0.35, 40},
    [GT_REGIME_SIDEWAYS_QUIET] = {"sideways_quiet", 0.0, 0.10, 70},
    [GT_REGIME_SIDEWAYS_VOLATILE] = {"sideways_volatile", 0.0, 0.25, 50},
    [GT_REGIME_CRISIS] = {"crisis", -2.0, 0.80, 12},
};

const char *gt_regime_name(int32_t regime)
{
    if (regime < 0 || regime >= GT_REGIME_COUNT)
        return "unknown";
    return regimes[regime].name;
}

/* Where a regime goes when it ends: crisis is rare (3%) and is followed by volatile
 * regimes; otherwise any other regime, calm ones a little more often. */
static int32_t next_regime(rng *r, int32_t cur)
{
    if (cur == GT_REGIME_CRISIS) {
        double u = uniform(r);
        return u < 0.5 ? GT_REGIME_BEAR_VOLATILE : u < 0.8 ? GT_REGIME_SIDEWAYS_VOLATILE
                                                           : GT_REGIME_BULL_VOLATILE;
    }
    if (uniform(r) < 0.03)
        return GT_REGIME_CRISIS;
    static const double w[GT_REGIME_CRISIS] = {1.3, 1.0, 1.0, 0.8, 1.3, 1.0};
    double total = 0;
    for (int32_t i = 0; i < GT_REGIME_CRISIS; i++)
        total += i == cur ? 0 : w[i];
    double u = uniform(r) * total;
    for (int32_t i = 0; i < GT_REGIME_CRISIS; i++) {
        if (i == cur)
            continue;
        if (u < w[i])
            return i;
        u -= w[i];
    }
    return cur == 0 ? 1 : 0;
}

int gt_synth_generate(int64_t n, uint64_t seed, int64_t start_us, int64_t step_us,
                      int32_t skip_weekends, double start_price, gt_series **out, uint8_t *labels)
{
    *out = NULL;
    if (n < 0 || step_us <= 0 || !(start_price > 0) || !isfinite(start_price))
        return gt_seterr(GT_EINVAL, "synthetic: need n >= 0, a positive step and start price");
    gt_series *s = gt_series_new(n > 0 ? n : 1);
    if (!s)
        return GT_ENOMEM;
    rng r = {{0}, 0, 0};
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r.s[i] = splitmix64(&x);

    /* Fraction of a year per bar; with weekends skipped a bar stands for 7/5 as much
     * calendar time, so a daily bar is about 1/261 of a year. */
    double dt = (double)step_us / (365.25 * 86400e6) * (skip_weekends ? 7.0 / 5.0 : 1.0);
    double sdt = sqrt(dt);
    int32_t reg = (int32_t)(next_u64(&r) % GT_REGIME_CRISIS);
    double close = start_price;
    int64_t t = start_us;
    for (int64_t i = 0; i < n; i++) {
        if (skip_weekends)
            while (gt_weekday(t) >= 5)
                t += GT_US_PER_DAY;
        if (i > 0 && uniform(&r) < 1.0 / regimes[reg].mean_bars)
            reg = next_regime(&r, reg);
        double mu = regimes[reg].mu, sig = regimes[reg].sigma;
        double gap = sig * sdt * 0.2 * normal(&r);
        double body = (mu - 0.5 * sig * sig) * dt + sig * sdt * 0.98 * normal(&r);
        double open = close * exp(gap);
        close = open * exp(body);
        double hi = fmax(open, close) * exp(sig * sdt * 0.5 * fabs(normal(&r)));
        double lo = fmin(open, close) * exp(-sig * sdt * 0.5 * fabs(normal(&r)));
        double vol = floor(1e6 * (sig / 0.15) * exp(0.3 * normal(&r)));
        gt_series_push(s, t, open, hi, lo, close, vol);
        if (labels)
            labels[i] = (uint8_t)reg;
        t += step_us;
    }
    *out = s;
    return GT_OK;
}
