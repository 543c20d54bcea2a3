/* sizing.c: the seed's reference numbers (../shared/seed/slices.md section 15, from its
 * test_kelly.py, test_regime.py and test_confidence.py) and each method worked by hand in
 * the comments; validation names the field and value. */
#include <math.h>
#include <string.h>

#include "sizing.h"
#include "tap.h"

static gt_sizing_input input(double price, double equity)
{
    gt_sizing_input in;
    memset(&in, 0, sizeof in);
    in.price = price;
    in.equity = equity;
    in.win_rate = NAN;
    in.avg_win = NAN;
    in.avg_loss = NAN;
    in.confidence = NAN;
    in.atr = NAN;
    in.strategy_multiplier = NAN;
    in.regime = -1;
    return in;
}

static void test_kelly(void)
{
    double f = -1;
    /* b = 0.05 / 0.03 = 5/3; f* = 0.6 - 0.4 / (5/3) = 0.6 - 0.24 = 0.36 */
    is_int(gt_sizing_kelly(0.6, 0.05, -0.03, &f), GT_OK, "kelly(0.6, 0.05, -0.03) ok");
    is_dbl(f, 0.36, 1e-15, "kelly(0.6, 0.05, -0.03) = 0.36 (seed: in (0.3, 0.4))");
    /* b = 0.6; 0.4 - 0.6 / 0.6 = -0.6 -> floored at 0 */
    gt_sizing_kelly(0.4, 0.03, -0.05, &f);
    is_dbl(f, 0, 0, "kelly(0.4, 0.03, -0.05) = 0");
    /* b = 1; 0.5 - 0.5 = 0 */
    gt_sizing_kelly(0.5, 0.03, -0.03, &f);
    is_dbl(f, 0, 0, "kelly(0.5, 0.03, -0.03) = 0");
    /* b = 1000 capped at 100: 0.5 - 0.5 / 100 = 0.495 */
    gt_sizing_kelly(0.5, 1.0, -0.001, &f);
    is_dbl(f, 0.495, 1e-15, "b capped at 100");
    /* the seed's [S] validation */
    is_int(gt_sizing_kelly(0.995, 0.05, -0.03, &f), GT_EINVAL, "p > 0.99 refused");
    ok(strstr(gt_errmsg(), "win_rate 0.995") != NULL, "message names win_rate and value: %s",
       gt_errmsg());
    is_int(gt_sizing_kelly(0.005, 0.05, -0.03, &f), GT_EINVAL, "p < 0.01 refused");
    is_int(gt_sizing_kelly(NAN, 0.05, -0.03, &f), GT_EINVAL, "p NaN refused");
    is_int(gt_sizing_kelly(0.6, 0.05, 0.03, &f), GT_EINVAL, "avg_loss > 0 refused");
    ok(strstr(gt_errmsg(), "avg_loss 0.03") != NULL, "message names avg_loss: %s", gt_errmsg());
    is_int(gt_sizing_kelly(0.6, 0.05, 0, &f), GT_EINVAL, "avg_loss 0 refused");
    is_int(gt_sizing_kelly(0.6, -0.05, -0.03, &f), GT_EINVAL, "avg_win < 0 refused");
    is_int(gt_sizing_kelly(0.6, INFINITY, -0.03, &f), GT_EINVAL, "avg_win inf refused");
    is_int(gt_sizing_kelly(0.01, 0.05, -0.03, &f), GT_OK, "p = 0.01 accepted (inclusive)");
    is_int(gt_sizing_kelly(0.99, 0.05, -0.03, &f), GT_OK, "p = 0.99 accepted (inclusive)");
}

static void test_shares(void)
{
    int32_t notes = 0;
    /* 10000 * 0.15 = 1500; 1500 / 100 = 15 */
    is_dbl(gt_sizing_shares(10000, 0.15, 100, 0.01, 0.2, &notes), 15, 0,
           "10000 at 0.15, $100, max 0.2 -> 15 shares");
    is_int(notes, 0, "no clamp notes");
    /* clamped to 0.1: 1000 / 100 = 10 */
    notes = 0;
    is_dbl(gt_sizing_shares(10000, 0.5, 100, 0.01, 0.1, &notes), 10, 0,
           "fraction 0.5 with max 0.1 -> 10 shares");
    is_int(notes, GT_SIZING_NOTE_CLAMPED_MAX, "noted: clamped to max");
    /* raised to 0.05: 500 / 100 = 5 */
    notes = 0;
    is_dbl(gt_sizing_shares(10000, 0.01, 100, 0.05, 0.2, &notes), 5, 0,
           "fraction 0.01 with min 0.05 -> 5 shares");
    is_int(notes, GT_SIZING_NOTE_CLAMPED_MIN, "noted: clamped to min");
    /* 1500 < 5000: not one share */
    notes = 0;
    is_dbl(gt_sizing_shares(10000, 0.15, 5000, 0.01, 0.2, &notes), 0, 0, "price $5000 -> 0");
    is_int(notes, GT_SIZING_NOTE_PRICE_TOO_HIGH, "noted: price too high");
    /* 10000 * 0.12 = 1200; 1200 / 75 = 16 */
    is_dbl(gt_sizing_shares(10000, 0.12, 75, 0.01, 0.2, NULL), 16, 0,
           "fraction 0.12 at $75 -> 16 shares");
    is_dbl(gt_sizing_shares(10000, 0, 100, 0.05, 0.2, NULL), 0, 0,
           "a zero fraction stays 0 (not raised to the minimum)");
    ok(gt_sizing_shares(10000, 0.1, -1, 0.01, 0.2, NULL) < 0, "negative price refused");
    ok(strstr(gt_errmsg(), "price -1") != NULL, "message names the price: %s", gt_errmsg());
    ok(gt_sizing_shares(NAN, 0.1, 10, 0.01, 0.2, NULL) < 0, "NaN equity refused");
    ok(gt_sizing_shares(1000, 0.1, 10, 0.3, 0.2, NULL) < 0, "min > max refused");
}

static void test_multipliers(void)
{
    gt_sizing_params p;
    gt_sizing_params_init(&p, GT_SIZING_INTELLIGENT);
    /* seed test_regime.py: regime_adjusted_size(0.1, 'crisis') <= 0.025; 0.1 * 0.2 = 0.02 */
    ok(0.1 * p.regime_mult[GT_REGIME_CRISIS] <= 0.025, "crisis on 0.1 -> at most 0.025");
    is_dbl(0.1 * p.regime_mult[GT_REGIME_SIDEWAYS_QUIET], 0.1, 1e-15, "sideways_quiet ~ 0.1");
    is_dbl(p.regime_mult[GT_REGIME_BULL_QUIET], 1.2, 0, "bull_quiet 1.2");
    is_dbl(p.regime_mult[GT_REGIME_BULL_VOLATILE], 0.9, 0, "bull_volatile 0.9");
    is_dbl(p.regime_mult[GT_REGIME_BEAR_QUIET], 0.6, 0, "bear_quiet 0.6");
    is_dbl(p.regime_mult[GT_REGIME_BEAR_VOLATILE], 0.4, 0, "bear_volatile 0.4");
    is_dbl(p.regime_mult[GT_REGIME_SIDEWAYS_VOLATILE], 0.7, 0, "sideways_volatile 0.7");
    /* seed test_confidence.py: confidence_adjusted_size(0.1, 0.6, min 0.6) == 0.05 */
    is_dbl(0.1 * gt_sizing_confidence_adj(0.6, 0.6), 0.05, 1e-17, "confidence 0.6 on 0.1 -> 0.05");
    is_dbl(gt_sizing_confidence_adj(0.59999, 0.6), 0, 0, "below the threshold -> 0");
    /* 1 + (0.8 - 0.6) / 0.4 = 1.5 */
    is_dbl(gt_sizing_confidence_adj(0.8, 0.6), 1.5, 1e-15, "0.8 -> x1.5");
    is_dbl(gt_sizing_confidence_adj(1.0, 0.6), 2.0, 1e-15, "1.0 -> x2 (the cap)");
    is_dbl(gt_sizing_confidence_adj(NAN, 0.6), 0, 0, "NaN -> 0");
}

static void test_methods(void)
{
    gt_sizing_params p;
    gt_sizing_out o;
    gt_sizing_input in = input(100, 10000);
    in.win_rate = 0.6;
    in.avg_win = 0.05;
    in.avg_loss = -0.03;

    gt_sizing_params_init(&p, GT_SIZING_KELLY);
    p.max_position = 1;
    /* f* = 0.36 -> 3600 / 100 = 36 shares */
    is_dbl(gt_sizing_fraction(&p, &in, &o), 0.36, 1e-15, "kelly: fraction 0.36");
    is_dbl(o.shares, 36, 0, "kelly: 36 shares");
    is_dbl(o.value, 3600, 0, "kelly: value 3600");
    is_dbl(o.kelly, 0.36, 1e-15, "kelly reported");
    /* risk = 0.36 * |-0.03| = 0.0108 */
    is_dbl(o.risk, 0.0108, 1e-15, "kelly: risk = fraction * |avg_loss|");

    gt_sizing_params_init(&p, GT_SIZING_FRACTIONAL_KELLY);
    /* 0.25 * 0.36 = 0.09 -> 900 / 100 = 9 shares */
    is_dbl(gt_sizing_fraction(&p, &in, &o), 0.09, 1e-15, "fractional kelly: 0.09");
    is_dbl(o.shares, 9, 0, "fractional kelly: 9 shares");

    gt_sizing_params_init(&p, GT_SIZING_FIXED);
    /* seed FIXED = 0.3 * max = 0.03 -> 300 / 100 = 3 */
    gt_sizing_fraction(&p, &in, &o);
    is_dbl(o.shares, 3, 0, "fixed: 0.3 * max -> 3 shares");

    gt_sizing_params_init(&p, GT_SIZING_EQUAL_WEIGHT);
    p.slots = 8;
    /* 1/8 = 0.125 clamped to max 0.1 -> 10 shares; max 0.2 -> 1250 / 100 = 12 shares */
    gt_sizing_fraction(&p, &in, &o);
    is_dbl(o.shares, 10, 0, "equal weight 1/8 capped at max 0.1 -> 10 shares");
    p.max_position = 0.2;
    gt_sizing_fraction(&p, &in, &o);
    is_dbl(o.shares, 12, 0, "equal weight 1/8 with max 0.2 -> 12 shares");

    gt_sizing_params_init(&p, GT_SIZING_VOLATILITY);
    in.atr = 2.5;
    /* stop = 2 * 2.5 = 5; 1 % of 10000 = 100; 100 / 5 = 20 shares = 2000 = 0.2 > max 0.1 ->
     * 10 shares; with max 0.5: 20 shares, risk 20 * 5 / 10000 = 0.01 */
    gt_sizing_fraction(&p, &in, &o);
    is_dbl(o.shares, 10, 0, "volatility: 20 shares capped by max 0.1 -> 10");
    p.max_position = 0.5;
    gt_sizing_fraction(&p, &in, &o);
    is_dbl(o.shares, 20, 0, "volatility: 1 %% of equity over a 2-ATR stop -> 20 shares");
    is_dbl(o.risk, 0.01, 1e-15, "volatility: risk 0.01 of equity");
    in.atr = NAN;
    ok(gt_sizing_fraction(&p, &in, &o) < 0, "volatility without atr refused");
    ok(strstr(gt_errmsg(), "atr") != NULL, "message names atr: %s", gt_errmsg());
}

static void test_intelligent(void)
{
    gt_sizing_params p;
    gt_sizing_out o;
    gt_sizing_params_init(&p, GT_SIZING_INTELLIGENT);
    gt_sizing_input in = input(100, 100000);

    /* no statistics: 0.5 * 0.1 = 0.05 -> 5000 / 100 = 50 shares */
    is_dbl(gt_sizing_fraction(&p, &in, &o), 0.05, 1e-15, "no stats: half the max position");
    is_dbl(o.shares, 50, 0, "no stats: 50 shares");
    ok(o.notes & GT_SIZING_NOTE_NO_STATS, "noted: no statistics");
    ok(isnan(o.kelly), "kelly NaN without statistics");

    /* stats 0.6 / 0.05 / -0.03: 0.25 * 0.36 = 0.09; confidence 0.8 x1.5 = 0.135; bull_quiet
     * x1.2 = 0.162; clamped to max 0.1 -> 100 shares */
    in.win_rate = 0.6;
    in.avg_win = 0.05;
    in.avg_loss = -0.03;
    in.confidence = 0.8;
    in.regime = GT_REGIME_BULL_QUIET;
    gt_sizing_fraction(&p, &in, &o);
    is_dbl(o.target, 0.162, 1e-15, "0.09 * 1.5 * 1.2 = 0.162");
    is_dbl(o.shares, 100, 0, "clamped to max 0.1 -> 100 shares");
    ok(o.notes & GT_SIZING_NOTE_CLAMPED_MAX, "noted: clamped to max");
    is_dbl(o.confidence_adj, 1.5, 1e-15, "confidence_adj 1.5");
    is_dbl(o.regime_adj, 1.2, 0, "regime_adj 1.2");

    /* crisis: 0.09 * 1.5 * 0.2 = 0.027 -> 2700 / 100 = 27 shares */
    in.regime = GT_REGIME_CRISIS;
    gt_sizing_fraction(&p, &in, &o);
    is_dbl(o.shares, 27, 0, "crisis: 0.027 -> 27 shares");
    /* strategy multiplier 0.5: 0.0135 -> 13 shares (1350 / 100 = 13.5 floored) */
    in.strategy_multiplier = 0.5;
    gt_sizing_fraction(&p, &in, &o);
    is_dbl(o.shares, 13, 0, "strategy multiplier 0.5 -> 13 shares");
    /* confidence 0.5 < 0.6: 0, and 0 stays 0 */
    in.confidence = 0.5;
    is_dbl(gt_sizing_fraction(&p, &in, &o), 0, 0, "low confidence -> 0");
    is_dbl(o.shares, 0, 0, "low confidence -> 0 shares");
    ok(o.notes & GT_SIZING_NOTE_LOW_CONFIDENCE, "noted: low confidence");
    /* a tiny size is raised to min 0.01: 0.09 * 0.5 (c = 0.6) * 0.2 = 0.009 -> 0.01 -> 10 */
    in.confidence = 0.6;
    in.strategy_multiplier = 1;
    gt_sizing_fraction(&p, &in, &o);
    is_dbl(o.shares, 10, 0, "0.009 raised to min 0.01 -> 10 shares");

    in.confidence = 1.5;
    ok(gt_sizing_fraction(&p, &in, &o) < 0, "confidence 1.5 refused");
    ok(strstr(gt_errmsg(), "confidence 1.5") != NULL, "message: %s", gt_errmsg());
    in.confidence = 0.7;
    in.regime = 9;
    ok(gt_sizing_fraction(&p, &in, &o) < 0, "regime 9 refused");
    in.regime = -1;
    in.win_rate = 2;
    ok(gt_sizing_fraction(&p, &in, &o) < 0, "win_rate 2 refused");
    in.win_rate = 0.6;
    in.price = INFINITY;
    ok(gt_sizing_fraction(&p, &in, &o) < 0, "price inf refused");
    in.price = 100;
    p.method = 42;
    ok(gt_sizing_fraction(&p, &in, &o) < 0, "unknown method refused");
}

static void test_portfolio_cap(void)
{
    /* 0.3 + 0.3 + 0.4 = 1.0 > 0.8: x0.8 -> 0.24, 0.24, 0.32 */
    double f[3] = {0.3, 0.3, 0.4};
    is_dbl(gt_sizing_portfolio_cap(f, 3, 0.8), 0.8, 1e-15, "scale factor 0.8");
    is_dbl(f[0], 0.24, 1e-15, "0.3 -> 0.24");
    is_dbl(f[2], 0.32, 1e-15, "0.4 -> 0.32");
    double g[2] = {0.4, 0.4};
    is_dbl(gt_sizing_portfolio_cap(g, 2, 0.8), 1, 0, "exactly at the cap: unchanged");
    is_dbl(g[1], 0.4, 0, "unchanged value");
    double h[2] = {0.4, NAN};
    ok(gt_sizing_portfolio_cap(h, 2, 0.8) < 0, "NaN fraction refused");
    ok(strstr(gt_errmsg(), "fraction[1]") != NULL, "message names the index: %s", gt_errmsg());
}

int main(void)
{
    test_kelly();
    test_shares();
    test_multipliers();
    test_methods();
    test_intelligent();
    test_portfolio_cap();
    printf("1..%d\n", tap_n);
    return tap_failed != 0;
}
