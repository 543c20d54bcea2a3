/* metrics.c: every statistic against small cases worked by hand (the arithmetic is in the
 * comments, exact fractions where they exist), the seed's formulas where they apply,
 * backtesting.py's published drawdown-duration example, edge cases (no trades, all wins,
 * a flat curve, a curve that never recovers, a single bar) and input validation. */
#include <math.h>
#include <string.h>

#include "metrics.h"
#include "tap.h"

#define DAY_US (86400LL * 1000000LL)
#define YEAR_US ((int64_t)(365.25 * 86400.0) * 1000000LL) /* 31 557 600 s */

static gt_trade trade(int64_t entry, int64_t exit, double pnl, double pct, double fees)
{
    gt_trade t;
    memset(&t, 0, sizeof t);
    t.entry_bar = entry;
    t.exit_bar = exit;
    t.pnl = pnl;
    t.return_pct = pct;
    t.fees = fees;
    return t;
}

static gt_stats_input input(const double *eq, const int64_t *ts, int64_t n, double ppy)
{
    gt_stats_input in;
    memset(&in, 0, sizeof in);
    in.equity = eq;
    in.ts = ts;
    in.n = n;
    in.periods_per_year = ppy;
    return in;
}

/* Equity 100, 110, 99, 120 on yearly bars (ts = 0, 1, 2, 3 calendar years of 365.25 days),
 * periods_per_year 1, risk-free 2 %, benchmark 50, 52, 51, 55, in the market on bars
 * 0, 1, 3, and three trades: +10 (bars 0->1, +10 %), -11 (bars 1->2, -10 %) and an open
 * one +21 (from bar 1, +20 %), fees 0.5 + 0.5 + 0.25. */
static void test_main_case(void)
{
    const double eq[] = {100, 110, 99, 120};
    const double bench[] = {50, 52, 51, 55};
    const int64_t ts[] = {0, YEAR_US, 2 * YEAR_US, 3 * YEAR_US};
    const uint8_t inm[] = {1, 1, 0, 1};
    gt_trade tr[3] = {trade(0, 1, 10, 10, 0.5), trade(1, 2, -11, -10, 0.5),
                      trade(1, -1, 21, 20, 0.25)};
    gt_stats_input in = input(eq, ts, 4, 1);
    in.risk_free = 0.02;
    in.benchmark = bench;
    in.in_market = inm;
    in.trades = tr;
    in.m = 3;
    gt_stats s;
    is_int(gt_stats_compute(&in, &s), GT_OK, "main case computes");

    is_dbl(s.start_equity, 100, 0, "start equity");
    is_dbl(s.final_equity, 120, 0, "final equity");
    /* (120 / 100 - 1) * 100 = 20 */
    is_dbl(s.return_pct, 20, 1e-12, "return 20 %%");
    /* (3 * 365.25 days) / 365.25 days = 3 */
    is_dbl(s.years, 3, 1e-12, "3 calendar years");
    /* 1.2^(1/3) = 1.0626585691826111 -> 6.265856918261115 % */
    is_dbl(s.cagr_pct, 6.265856918261115, 1e-10, "CAGR = 1.2^(1/3) - 1");
    /* r = 110/100-1 = 1/10, 99/110-1 = -1/10, 120/99-1 = 7/33;
     * mean = (1/10 - 1/10 + 7/33) / 3 = 7/99 = 0.0707070...; x ppy 1 x 100 = 7.0707070707 */
    is_dbl(s.ann_return_pct, 700.0 / 99.0, 1e-10, "annualised return = mean r x ppy");
    /* deviations 1/10-7/99 = 29/990, -1/10-7/99 = -169/990, 7/33-7/99 = 14/99 = 140/990;
     * squares sum (841 + 28561 + 19600) / 980100 = 49002/980100; / (k-1 = 2) = 8167/326700
     * = 0.02499846954392409; sd = 0.15810904320728808; x sqrt(1) x 100 */
    is_dbl(s.ann_vol_pct, 15.810904320728808, 1e-10, "volatility = sample sd x sqrt(ppy)");
    /* rf per bar = 0.02 / 1; (7/99 - 0.02) / 0.15810904320728808 = 0.3207094906051101 */
    is_dbl(s.sharpe, 0.3207094906051101, 1e-12, "Sharpe");
    /* excess 0.08, -0.12, 0.19212; downside sqrt((0 + 0.0144 + 0) / 3) = sqrt(0.0048)
     * = 0.06928203230275509; (7/99 - 0.02) / that = 0.7318935230636165 */
    is_dbl(s.sortino, 0.7318935230636165, 1e-12, "Sortino: downside deviation over all bars");
    /* peaks 100, 110, 110, 120: dd 0, 0, 99/110-1 = -10 %, 0 */
    is_dbl(s.max_drawdown_pct, 10, 1e-12, "max drawdown 10 %%");
    /* peak at bar 1, recovered at bar 3: 3 - 1 = 2 bars */
    is_dbl(s.max_drawdown_bars, 2, 0, "drawdown lasted 2 bars (peak bar 1 -> recovery bar 3)");
    is_dbl(s.avg_drawdown_pct, 10, 1e-12, "one episode: average = 10 %%");
    /* 6.265856918261115 / 10 */
    is_dbl(s.calmar, 0.6265856918261115, 1e-12, "Calmar = CAGR %% / max DD %%");

    is_dbl(s.num_trades, 3, 0, "3 trades");
    /* 2 of 3 with pnl > 0 */
    is_dbl(s.win_rate_pct, 200.0 / 3.0, 1e-12, "win rate 66.67 %%");
    /* (10 + 21) / 11 */
    is_dbl(s.profit_factor, 31.0 / 11.0, 1e-12, "profit factor 31/11");
    /* (10 - 11 + 21) / 3 */
    is_dbl(s.expectancy, 20.0 / 3.0, 1e-12, "expectancy 20/3 per trade");
    /* (10 - 10 + 20) / 3 */
    is_dbl(s.avg_trade_pct, 20.0 / 3.0, 1e-12, "average trade 6.67 %%");
    is_dbl(s.best_trade_pct, 20, 0, "best trade 20 %%");
    is_dbl(s.worst_trade_pct, -10, 0, "worst trade -10 %%");
    /* 1 - 0 = 1, 2 - 1 = 1, open: last bar 3 - 1 = 2 -> mean 4/3, max 2 */
    is_dbl(s.avg_trade_bars, 4.0 / 3.0, 1e-12, "average trade bars (open trade to the last bar)");
    is_dbl(s.max_trade_bars, 2, 0, "longest trade 2 bars");
    /* 3 of 4 bars */
    is_dbl(s.exposure_pct, 75, 0, "exposure 75 %%");
    /* pnl deviations from 20/3: 10/3, -53/3, 43/3; squares (100 + 2809 + 1849) / 9 = 4758/9;
     * / 2 = 793/3 = 264.333; sqn = sqrt(3) x (20/3) / sqrt(793/3) = 0.710220824228435 */
    is_dbl(s.sqn, 0.710220824228435, 1e-12, "SQN");
    /* (55 / 50 - 1) x 100 */
    is_dbl(s.buy_hold_return_pct, 10, 1e-12, "buy and hold 10 %%");
    /* rb = 2/50 = 1/25, -1/52, 4/51; mean rb = 6577/198900.
     * cov sum = sum (r - 7/99)(rb - 6577/198900) = 78491/5049000,
     * var sum = sum (rb - 6577/198900)^2 = 31919629/6593535000,
     * beta = 161074745/50159417 = 3.211256323015078 */
    is_dbl(s.beta, 3.211256323015078, 1e-10, "beta = cov / var");
    /* (7/99 - beta x 6577/198900) x 1 x 100 = -3.5479117510476645 */
    is_dbl(s.alpha_pct, -3.5479117510476645, 1e-9, "alpha = (mean r - beta mean rb) x ppy");
    is_dbl(s.total_fees, 1.25, 1e-15, "fees 0.5 + 0.5 + 0.25");
}

/* The seed ([S] metrics.py): daily bars, ppy 252, risk-free 0.02/252 per bar, Sharpe of
 * excess returns over the sample std, total return and max drawdown = |min(eq/cummax-1)|.
 * Equity 10000, 10100, 10050, 10200, 10150, 10300 on consecutive days. */
static void test_seed_daily(void)
{
    const double eq[] = {10000, 10100, 10050, 10200, 10150, 10300};
    int64_t ts[6];
    for (int i = 0; i < 6; i++)
        ts[i] = i * DAY_US;
    gt_stats_input in = input(eq, ts, 6, 252);
    in.risk_free = 0.02;
    gt_stats s;
    is_int(gt_stats_compute(&in, &s), GT_OK, "seed daily case");
    /* r = 1/100, -1/202, 1/67, -1/204, 3/203; mean = 52283519/8757343875 = 0.005970248484732478
     * sample var = 0.00010287073564085191, sd = 0.010142521... */
    is_dbl(s.return_pct, 3, 1e-12, "seed total return (final/initial - 1) x 100 = 3 %%");
    /* mean x 252 x 100 */
    is_dbl(s.ann_return_pct, 150.45026181525844, 1e-9, "annualised return");
    /* sd x sqrt(252) x 100 */
    is_dbl(s.ann_vol_pct, 16.10075320644804, 1e-9, "annualised volatility");
    /* (mean - 0.02/252) / sd x sqrt(252): the seed [S] Sharpe (within its +-100 clamp) */
    is_dbl(s.sharpe, 9.220081813054994, 1e-9, "seed [S] Sharpe with rf 0.02/252");
    /* peak 10100 then 10050: 10050/10100 - 1 = -1/202 = -0.495 %; later 10150/10200 - 1 is
     * -1/204, shallower */
    is_dbl(s.max_drawdown_pct, 50.0 / 101.0, 1e-12, "seed max drawdown |min(eq/cummax - 1)|");
    /* episodes: peak bar 1 -> recovered bar 3 (2 bars), peak bar 3 -> recovered bar 5 (2) */
    is_dbl(s.max_drawdown_bars, 2, 0, "drawdown duration 2 bars");
    /* (1/202 + 1/204) / 2 x 100 */
    is_dbl(s.avg_drawdown_pct, (1.0 / 202 + 1.0 / 204) / 2 * 100, 1e-12, "average drawdown");
    /* only excess returns below 0.02/252: -1/202 - rf, -1/204 - rf; squared / 5 */
    is_dbl(s.sortino, 29.538610618356625, 1e-9, "Sortino");
    /* 5 days / 365.25 */
    is_dbl(s.years, 5 / 365.25, 1e-15, "years from timestamps");

    /* The seed [A] Sharpe has no risk-free rate: mean / sd x sqrt(252) */
    in.risk_free = 0;
    is_int(gt_stats_compute(&in, &s), GT_OK, "seed [A] case");
    is_dbl(s.sharpe, 9.3442996042574, 1e-9, "seed [A] Sharpe mean/std x sqrt(252)");
    /* without timestamps the span is (n-1)/ppy = 5/252 years */
    in.ts = NULL;
    is_int(gt_stats_compute(&in, &s), GT_OK, "no timestamps");
    is_dbl(s.years, 5.0 / 252.0, 1e-15, "years = (n-1)/ppy without timestamps");
    is_dbl(s.cagr_pct, (pow(1.03, 252.0 / 5.0) - 1) * 100, 1e-9, "CAGR over 5/252 years");
}

/* backtesting.py's test_compute_drawdown: drawdown 0, 1, 7, 0, 4, 0, 0 % has two episodes,
 * durations 3 and 2 bars, depths 7 and 4. Equity 100, 99, 93, 100, 96, 100, 100 has it. */
static void test_drawdown_episodes(void)
{
    const double eq[] = {100, 99, 93, 100, 96, 100, 100};
    gt_stats_input in = input(eq, NULL, 7, 252);
    gt_stats s;
    is_int(gt_stats_compute(&in, &s), GT_OK, "backtesting.py drawdown example");
    is_dbl(s.max_drawdown_pct, 7, 1e-12, "deepest 7 %%");
    is_dbl(s.max_drawdown_bars, 3, 0, "longest episode 3 bars (bar 0 -> bar 3)");
    is_dbl(s.avg_drawdown_pct, 5.5, 1e-12, "average of 7 and 4 = 5.5 %%");

    double dd[7];
    gt_drawdown(eq, 7, dd);
    const double want[] = {0, -0.01, -0.07, 0, -0.04, 0, 0};
    int bad = 0;
    for (int i = 0; i < 7; i++)
        bad += fabs(dd[i] - want[i]) > 1e-15;
    is_int(bad, 0, "gt_drawdown = eq / running max - 1");
    gt_drawdown(NULL, 7, dd); /* must not crash */
    gt_drawdown(eq, 0, NULL);
    ok(1, "gt_drawdown accepts NULL and n = 0");

    /* Never recovers: 100, 95, 100, 120, 90, 96, 110. Episode 1: peak bar 0, 95/100-1 = -5 %,
     * recovered at bar 2 (2 bars). Episode 2: peak bar 3 (120), 90/120-1 = -25 %, still under
     * water at the last bar 6: 6 - 3 = 3 bars. */
    const double nr[] = {100, 95, 100, 120, 90, 96, 110};
    in = input(nr, NULL, 7, 252);
    is_int(gt_stats_compute(&in, &s), GT_OK, "curve that never recovers");
    is_dbl(s.max_drawdown_pct, 25, 1e-12, "deepest 25 %%");
    is_dbl(s.max_drawdown_bars, 3, 0, "unrecovered episode counts to the last bar: 3 bars");
    is_dbl(s.avg_drawdown_pct, 15, 1e-12, "average of 5 and 25 = 15 %%");
    is_dbl(s.return_pct, 10, 1e-12, "return 10 %% though under water");
    is_dbl(s.calmar, s.cagr_pct / 25, 1e-12, "Calmar = CAGR / 25");

    /* Monotone decline: one episode from bar 0 to the end. 100, 80, 60 -> 40 %, 2 bars */
    const double down[] = {100, 80, 60};
    in = input(down, NULL, 3, 252);
    is_int(gt_stats_compute(&in, &s), GT_OK, "monotone decline");
    is_dbl(s.max_drawdown_pct, 40, 1e-12, "40 %% down");
    is_dbl(s.max_drawdown_bars, 2, 0, "2 bars, never recovered");
    /* r = -0.2, -0.25; both below rf 0 */
    is_dbl(s.sortino, -0.225 / sqrt((0.04 + 0.0625) / 2) * sqrt(252), 1e-12,
           "Sortino of a falling curve");
}

/* Flat equity: no volatility, no drawdown. */
static void test_flat(void)
{
    const double eq[] = {100, 100, 100};
    const int64_t ts[] = {0, DAY_US, 2 * DAY_US};
    gt_stats_input in = input(eq, ts, 3, 252);
    gt_stats s;
    is_int(gt_stats_compute(&in, &s), GT_OK, "flat curve");
    is_dbl(s.return_pct, 0, 0, "return 0");
    is_dbl(s.cagr_pct, 0, 0, "CAGR 0");
    is_dbl(s.ann_return_pct, 0, 0, "annualised return 0");
    is_dbl(s.ann_vol_pct, 0, 0, "volatility 0");
    ok(isnan(s.sharpe), "Sharpe NaN at zero volatility");
    ok(isnan(s.sortino), "Sortino NaN: no excess return and no downside");
    is_dbl(s.max_drawdown_pct, 0, 0, "no drawdown");
    is_dbl(s.max_drawdown_bars, 0, 0, "no drawdown bars");
    is_dbl(s.avg_drawdown_pct, 0, 0, "no episodes: average 0");
    ok(isnan(s.calmar), "Calmar NaN without drawdown");

    /* With rf 2.52 % a year (0.0001 a bar) every bar is 0.0001 below it: downside deviation
     * sqrt(mean(0.0001^2)) = 0.0001, Sortino = -0.0001 / 0.0001 x sqrt(252) = -sqrt(252). */
    in.risk_free = 0.0252;
    is_int(gt_stats_compute(&in, &s), GT_OK, "flat curve with a risk-free rate");
    is_dbl(s.sortino, -sqrt(252.0), 1e-9, "Sortino = -sqrt(252)");
    ok(isnan(s.sharpe), "Sharpe still NaN (zero volatility)");

    /* Constant growth 100, 110, 121: the returns are equal up to rounding, so the volatility
     * is zero for the purpose of Sharpe (below 1e-12), not a 1e15 ratio. */
    const double up[] = {100, 110, 121};
    in = input(up, ts, 3, 252);
    is_int(gt_stats_compute(&in, &s), GT_OK, "constant growth");
    ok(isnan(s.sharpe), "Sharpe NaN for equal returns");
    ok(isinf(s.sortino) && s.sortino > 0, "Sortino +inf: gains and no downside");
    ok(isnan(s.calmar), "Calmar NaN without drawdown");
}

static void test_single_bar(void)
{
    const double eq[] = {100};
    const double b[] = {20};
    const int64_t ts[] = {5 * DAY_US};
    const uint8_t inm[] = {1};
    gt_stats_input in = input(eq, ts, 1, 252);
    in.benchmark = b;
    in.in_market = inm;
    gt_stats s;
    is_int(gt_stats_compute(&in, &s), GT_OK, "single bar");
    is_dbl(s.return_pct, 0, 0, "return 0");
    is_dbl(s.years, 0, 0, "years 0");
    ok(isnan(s.cagr_pct), "CAGR NaN over 0 years");
    ok(isnan(s.ann_return_pct) && isnan(s.ann_vol_pct), "no returns: annualised NaN");
    ok(isnan(s.sharpe) && isnan(s.sortino), "no returns: ratios NaN");
    is_dbl(s.max_drawdown_pct, 0, 0, "drawdown 0");
    ok(isnan(s.calmar), "Calmar NaN");
    is_dbl(s.buy_hold_return_pct, 0, 0, "buy and hold 0");
    ok(isnan(s.beta) && isnan(s.alpha_pct), "beta/alpha NaN");
    is_dbl(s.exposure_pct, 100, 0, "exposure 100 %%");

    /* Two bars: one return. Annualised return and Sortino exist, volatility does not. */
    const double eq2[] = {100, 101};
    in = input(eq2, NULL, 2, 252);
    is_int(gt_stats_compute(&in, &s), GT_OK, "two bars");
    is_dbl(s.ann_return_pct, 0.01 * 252 * 100, 1e-9, "one return x 252");
    ok(isnan(s.ann_vol_pct) && isnan(s.sharpe), "one return: no sample std");
    ok(isinf(s.sortino), "one positive return: Sortino +inf");
    ok(isnan(s.exposure_pct), "exposure NaN without in_market");
    ok(isnan(s.buy_hold_return_pct), "buy and hold NaN without benchmark");
}

static void test_trades(void)
{
    const double eq[] = {100, 101, 102, 103, 104};
    gt_stats_input in = input(eq, NULL, 5, 252);
    gt_stats s;

    is_int(gt_stats_compute(&in, &s), GT_OK, "no trades");
    is_dbl(s.num_trades, 0, 0, "0 trades");
    ok(isnan(s.win_rate_pct) && isnan(s.profit_factor) && isnan(s.expectancy),
       "win rate, profit factor, expectancy NaN");
    ok(isnan(s.avg_trade_pct) && isnan(s.best_trade_pct) && isnan(s.worst_trade_pct),
       "trade returns NaN");
    ok(isnan(s.avg_trade_bars) && isnan(s.max_trade_bars) && isnan(s.sqn), "durations, SQN NaN");
    is_dbl(s.total_fees, 0, 0, "no fees");

    /* All wins: 5 and 15 -> profit factor +inf, win rate 100, expectancy 10;
     * sqn = sqrt(2) x 10 / sd(5, 15) = sqrt(2) x 10 / sqrt(50) = 2 */
    gt_trade w[2] = {trade(0, 2, 5, 5, 0), trade(2, 4, 15, 14.7, 1)};
    in.trades = w;
    in.m = 2;
    is_int(gt_stats_compute(&in, &s), GT_OK, "all wins");
    ok(isinf(s.profit_factor) && s.profit_factor > 0, "profit factor +inf");
    is_dbl(s.win_rate_pct, 100, 0, "win rate 100 %%");
    is_dbl(s.expectancy, 10, 1e-12, "expectancy 10");
    is_dbl(s.sqn, 2, 1e-12, "SQN = sqrt(2) x 10 / sqrt(50) = 2");
    is_dbl(s.avg_trade_bars, 2, 0, "2 bars each");
    is_dbl(s.total_fees, 1, 0, "fees");

    /* Only break-even trades: no profit, no loss -> profit factor NaN, win rate 0,
     * equal pnl -> SQN NaN */
    gt_trade z[2] = {trade(0, 1, 0, 0, 0), trade(1, 2, 0, 0, 0)};
    in.trades = z;
    is_int(gt_stats_compute(&in, &s), GT_OK, "break-even trades");
    ok(isnan(s.profit_factor), "profit factor NaN (0 / 0)");
    is_dbl(s.win_rate_pct, 0, 0, "a zero pnl is not a win");
    ok(isnan(s.sqn), "SQN NaN at zero std");

    /* All losses: profit factor 0 */
    gt_trade l[2] = {trade(0, 1, -1, -1, 0), trade(1, 2, -3, -3, 0)};
    in.trades = l;
    is_int(gt_stats_compute(&in, &s), GT_OK, "all losses");
    is_dbl(s.profit_factor, 0, 0, "profit factor 0");
    is_dbl(s.worst_trade_pct, -3, 0, "worst -3 %%");

    /* One trade: SQN needs two. Equal pnl 7, 7, 7: SQN NaN though the mean is not zero. */
    gt_trade one[3] = {trade(0, -1, 7, 7, 0), trade(1, 3, 7, 7, 0), trade(2, 3, 7, 7, 0)};
    in.trades = one;
    in.m = 1;
    is_int(gt_stats_compute(&in, &s), GT_OK, "one open trade");
    ok(isnan(s.sqn), "SQN NaN for one trade");
    is_dbl(s.max_trade_bars, 4, 0, "open trade from bar 0 counts to the last bar 4");
    in.m = 3;
    is_int(gt_stats_compute(&in, &s), GT_OK, "equal trades");
    ok(isnan(s.sqn), "SQN NaN for identical pnl");
}

/* Two-pass variance keeps the digits a one-pass sum of squares loses: returns alternate
 * 0.5 + 1e-9, 0.5 - 1e-9 over 40 bars; sample sd = 1e-9 x sqrt(40 / 39). A textbook
 * E[r^2] - E[r]^2 would cancel 0.25 against 0.25 and keep no correct digit. */
static void test_precision(void)
{
    double eq[41];
    eq[0] = 1;
    for (int i = 1; i <= 40; i++)
        eq[i] = eq[i - 1] * (1.5 + (i % 2 ? 1e-9 : -1e-9));
    gt_stats_input in = input(eq, NULL, 41, 1);
    gt_stats s;
    is_int(gt_stats_compute(&in, &s), GT_OK, "near-constant returns");
    double want = 1e-9 * sqrt(40.0 / 39.0) * 100;
    is_dbl(s.ann_vol_pct, want, want * 1e-5, "volatility to 5 digits (%.6g %%)", want);
}

static void test_beta_identity(void)
{
    /* Equity that is the benchmark scaled by 2: identical returns, so beta 1, alpha 0. */
    const double b[] = {10, 11, 10.5, 12, 11.8};
    double eq[5];
    for (int i = 0; i < 5; i++)
        eq[i] = 2 * b[i];
    gt_stats_input in = input(eq, NULL, 5, 252);
    in.benchmark = b;
    gt_stats s;
    is_int(gt_stats_compute(&in, &s), GT_OK, "equity tracks the benchmark");
    is_dbl(s.beta, 1, 1e-12, "beta 1");
    is_dbl(s.alpha_pct, 0, 1e-9, "alpha 0");
    is_dbl(s.buy_hold_return_pct, 18, 1e-12, "buy and hold (11.8 / 10 - 1) = 18 %%");
    is_dbl(s.return_pct, 18, 1e-12, "same return");

    /* A flat benchmark has no variance: beta undefined. */
    const double flat[] = {10, 10, 10, 10, 10};
    in.benchmark = flat;
    is_int(gt_stats_compute(&in, &s), GT_OK, "flat benchmark");
    ok(isnan(s.beta) && isnan(s.alpha_pct), "beta and alpha NaN");
    is_dbl(s.buy_hold_return_pct, 0, 0, "buy and hold 0");
}

static void test_errors(void)
{
    const double eq[] = {100, 101, 102};
    const double nan_eq[] = {100, NAN, 102};
    const double neg0[] = {0, 101, 102};
    const double badb[] = {10, -1, 10};
    gt_stats s;
    memset(&s, 0, sizeof s);
    s.start_equity = 12345;
    gt_stats_input in = input(eq, NULL, 3, 252);

    is_int(gt_stats_compute(NULL, &s), GT_EINVAL, "NULL input");
    is_int(gt_stats_compute(&in, NULL), GT_EINVAL, "NULL output");
    in.n = 0;
    is_int(gt_stats_compute(&in, &s), GT_EINVAL, "no bars");
    is_str(gt_errmsg(), "gt_stats_compute: no bars (n = 0)", "message names the problem");
    in = input(nan_eq, NULL, 3, 252);
    is_int(gt_stats_compute(&in, &s), GT_EINVAL, "NaN equity");
    is_str(gt_errmsg(), "gt_stats_compute: equity[1] is not finite", "message names the bar");
    in = input(neg0, NULL, 3, 252);
    is_int(gt_stats_compute(&in, &s), GT_EINVAL, "zero starting equity");
    in = input(eq, NULL, 3, 0);
    is_int(gt_stats_compute(&in, &s), GT_EINVAL, "periods_per_year 0");
    in = input(eq, NULL, 3, 252);
    in.risk_free = NAN;
    is_int(gt_stats_compute(&in, &s), GT_EINVAL, "NaN risk-free rate");
    in = input(eq, NULL, 3, 252);
    in.benchmark = badb;
    is_int(gt_stats_compute(&in, &s), GT_EINVAL, "negative benchmark");
    in = input(eq, NULL, 3, 252);
    in.m = 1;
    is_int(gt_stats_compute(&in, &s), GT_EINVAL, "m > 0 with NULL trades");
    gt_trade t = trade(1, 3, 1, 1, 0);
    in.trades = &t;
    is_int(gt_stats_compute(&in, &s), GT_EINVAL, "exit bar past the end");
    is_str(gt_errmsg(), "gt_stats_compute: trades[0]: exit_bar 3 is neither -1 (open) nor in 1..2",
           "message names the trade");
    t = trade(2, 1, 1, 1, 0);
    is_int(gt_stats_compute(&in, &s), GT_EINVAL, "exit before entry");
    t = trade(0, 1, NAN, 1, 0);
    is_int(gt_stats_compute(&in, &s), GT_EINVAL, "NaN pnl");
    is_dbl(s.start_equity, 12345, 0, "nothing written on failure");

    /* Equity that hits zero: returns after it are undefined, so are the return ratios;
     * drawdown and CAGR are still defined (-100 %). */
    const double bust[] = {100, 50, 0, 0};
    in = input(bust, NULL, 4, 252);
    is_int(gt_stats_compute(&in, &s), GT_OK, "bust account computes");
    ok(isnan(s.sharpe) && isnan(s.ann_return_pct), "return ratios NaN after equity 0");
    is_dbl(s.max_drawdown_pct, 100, 0, "drawdown 100 %%");
    is_dbl(s.cagr_pct, -100, 0, "CAGR -100 %%");
}

int main(void)
{
    test_main_case();
    test_seed_daily();
    test_drawdown_episodes();
    test_flat();
    test_single_bar();
    test_trades();
    test_precision();
    test_beta_identity();
    test_errors();
    return done_testing();
}
