/* risk.c: each rule and each breaker walked across its threshold (it passes at the value of a
 * "max" limit and refuses one step above; a breaker trips at its value and not one step
 * before), the collar against an integer-cents oracle, the kill switch, snapshot/restore, and
 * a property test of 10^6 generated orders (NaN, Inf, negative, zero, huge, stale) of which
 * no invalid one may pass. Expected values are worked by hand in the comments. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "risk.h"
#include "tap.h"

#define SEC 1000000LL
#define MIN (60 * SEC)
#define T0 (1700000000LL * SEC) /* 2023-11-14 22:13:20 UTC */

static gt_risk_limits none(void)
{
    gt_risk_limits l;
    memset(&l, 0, sizeof l);
    return l;
}

static gt_risk_order order(double qty)
{
    gt_risk_order o;
    memset(&o, 0, sizeof o);
    o.symbol = "AAA";
    o.side = GT_RISK_BUY;
    o.type = GT_RISK_MARKET;
    o.qty = qty;
    o.price = NAN;
    o.stop_price = NAN;
    o.ref_price = 100;
    o.ref_ts = T0;
    o.now = T0;
    return o;
}

static gt_risk_order limit(double qty, double price, double ref)
{
    gt_risk_order o = order(qty);
    o.type = GT_RISK_LIMIT;
    o.price = price;
    o.ref_price = ref;
    return o;
}

static gt_risk_account account(void)
{
    gt_risk_account a;
    memset(&a, 0, sizeof a);
    a.equity = 100000;
    a.cash = 100000;
    return a;
}

static gt_risk *gate(gt_risk_limits l)
{
    gt_risk *r = gt_risk_new(&l);
    if (!r) {
        printf("Bail out! gt_risk_new: %s\n", gt_errmsg());
        exit(1);
    }
    return r;
}

static void test_order_sanity(void)
{
    gt_risk *r = gate(none());
    gt_risk_account a = account();
    gt_risk_order o = order(10);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "a plain market buy passes with limits off");
    is_str(gt_risk_reason(r), "", "no reason after a pass");

    const double bad_qty[] = {0, -0.0, -1, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof bad_qty / sizeof bad_qty[0]; i++) {
        o = order(bad_qty[i]);
        is_int(gt_risk_check(r, &o, &a), GT_RISK_BAD_QTY, "qty %g refused", bad_qty[i]);
    }
    ok(strstr(gt_risk_reason(r), "quantity -inf must be finite and > 0") != NULL,
       "reason names the quantity: %s", gt_risk_reason(r));
    o = order(1e-9);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "a tiny positive qty passes");

    o = order(1);
    o.price = 100;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_BAD_PRICE, "a market order with a price refused");
    const double bad_px[] = {0, -1, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad_px / sizeof bad_px[0]; i++) {
        o = limit(1, bad_px[i], 100);
        is_int(gt_risk_check(r, &o, &a), GT_RISK_BAD_PRICE, "limit price %g refused", bad_px[i]);
    }
    o = limit(1, 100, 100);
    o.type = GT_RISK_STOP_LIMIT;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_BAD_PRICE, "stop-limit without a stop refused");
    o.stop_price = 99;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "stop-limit with both prices passes");

    o = order(1);
    o.symbol = NULL;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_BAD_ORDER, "no symbol refused");
    o.symbol = "";
    is_int(gt_risk_check(r, &o, &a), GT_RISK_BAD_ORDER, "empty symbol refused");
    o = order(1);
    o.side = 0;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_BAD_ORDER, "side 0 refused");
    o = order(1);
    o.type = 9;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_BAD_ORDER, "type 9 refused");

    const double bad_ref[] = {0, -100, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad_ref / sizeof bad_ref[0]; i++) {
        o = order(1);
        o.ref_price = bad_ref[i];
        is_int(gt_risk_check(r, &o, &a), GT_RISK_NO_REFERENCE, "reference %g refused", bad_ref[i]);
    }
    o = order(1);
    o.ref_ts = T0 + 1;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_STALE, "a reference from the future refused");

    const double bad_eq[] = {0, -1, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad_eq / sizeof bad_eq[0]; i++) {
        gt_risk_account b = account();
        b.equity = bad_eq[i];
        o = order(1);
        is_int(gt_risk_check(r, &o, &b), GT_RISK_BAD_ACCOUNT, "equity %g refused", bad_eq[i]);
    }
    gt_risk_account b = account();
    b.cash = NAN;
    is_int(gt_risk_check(r, &o, &b), GT_RISK_BAD_ACCOUNT, "cash NaN refused");
    b = account();
    b.open_exposure = -1;
    is_int(gt_risk_check(r, &o, &b), GT_RISK_BAD_ACCOUNT, "negative open exposure refused");

    o = order(1e300);
    o.ref_price = 1e300;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_MAX_NOTIONAL,
           "a notional that overflows to inf is refused even with max_notional off");
    gt_risk_free(r);
}

static void test_stale(void)
{
    gt_risk_limits l = none();
    l.max_ref_age_us = 180 * SEC; /* the seed's max_mark_staleness_seconds */
    gt_risk *r = gate(l);
    gt_risk_account a = account();
    gt_risk_order o = order(1);
    o.now = T0 + 180 * SEC;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "reference exactly 180 s old passes");
    o.now = T0 + 180 * SEC + 1;
    o.qty = 2;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_STALE, "180 s + 1 us old refused");
    ok(strstr(gt_risk_reason(r), "180000001 us old") != NULL, "reason: %s", gt_risk_reason(r));
    gt_risk_free(r);
}

static void test_collar(void)
{
    gt_risk_limits l = none();
    l.collar_tier1 = 25;
    l.collar_tier2 = 50;
    l.collar_low = 0.08; /* tighter than Alpaca's 10 / 5 / 3 % */
    l.collar_mid = 0.04;
    l.collar_high = 0.02;
    gt_risk *r = gate(l);
    gt_risk_account a = account();
    /* $100: 2 % band = $2. 102 passes, 102.01 refused; 98 passes, 97.99 refused. */
    gt_risk_order o = limit(1, 102, 100);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "$102 vs $100 (2 %%) passes");
    o = limit(2, 102.01, 100);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_COLLAR, "$102.01 vs $100 refused");
    ok(strstr(gt_risk_reason(r), "outside the 2 % collar") != NULL, "reason: %s",
       gt_risk_reason(r));
    o = limit(3, 98, 100);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "$98 passes");
    o = limit(4, 97.99, 100);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_COLLAR, "$97.99 refused");
    /* tier edges: $25 is the low tier (8 % = $2), $50 the mid tier (4 % = $2) */
    o = limit(5, 27, 25);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "$27 vs $25 (8 %%) passes");
    o = limit(6, 27.01, 25);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_COLLAR, "$27.01 vs $25 refused");
    o = limit(7, 52, 50);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "$52 vs $50 (4 %%) passes");
    o = limit(8, 52.01, 50);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_COLLAR, "$52.01 vs $50 refused");
    /* stop-limit: both prices are collared */
    o = limit(9, 100, 100);
    o.type = GT_RISK_STOP_LIMIT;
    o.stop_price = 97;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_COLLAR, "stop price $97 vs $100 refused");

    /* The ladder: every cent from -12 % to +12 % around 40 references from $1.00 to
     * $99.64, against an oracle in integer cents and basis points:
     * accept <=> |p - ref| * 10000 <= bps * ref, bps 800 / 400 / 200 by tier. */
    int bad = 0, n = 0;
    int64_t t = T0;
    for (int64_t rc = 100; rc <= 10000; rc += 247) {
        int64_t bps = rc <= 2500 ? 800 : rc <= 5000 ? 400 : 200;
        for (int64_t pc = rc - rc * 12 / 100; pc <= rc + rc * 12 / 100; pc++) {
            int64_t d = pc > rc ? pc - rc : rc - pc;
            int want = d * 10000 <= bps * rc ? GT_RISK_PASS : GT_RISK_COLLAR;
            o = limit(1, (double)pc / 100, (double)rc / 100);
            o.now = o.ref_ts = (t += SEC);
            int got = gt_risk_check(r, &o, &a);
            n++;
            if (got != want) {
                if (bad++ < 5)
                    printf("# ref %lld c, price %lld c: got %d want %d\n", (long long)rc,
                           (long long)pc, got, want);
            }
        }
    }
    is_int(bad, 0, "collar ladder: %d prices, every one decided as the integer oracle", n);
    gt_risk_free(r);
}

static void test_size_caps(void)
{
    gt_risk_limits l = none();
    l.max_qty = 100;
    l.max_notional = 15000;
    gt_risk *r = gate(l);
    gt_risk_account a = account();
    gt_risk_order o = order(100);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "qty 100 = max_qty passes");
    o = order(100.5);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_MAX_QTY, "qty 100.5 refused");
    is_str(gt_risk_reason(r), "max_qty: AAA buy: quantity 100.5 is over max_qty 100",
           "reason names symbol, side, value and limit");
    /* notional: 100 x $150 = 15000 passes; 100 x $150.01 = 15001 refused */
    o = limit(100, 150, 150);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "notional 15000 = max passes");
    o = limit(99, 150.01, 150.01);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "99 x 150.01 = 14850.99 passes");
    o = limit(100, 150.01, 150.01);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_MAX_NOTIONAL, "100 x 150.01 = 15001 refused");
    gt_risk_free(r);
}

static void test_account_caps(void)
{
    gt_risk_limits l = none();
    l.max_position = 0.2;
    gt_risk *r = gate(l);
    gt_risk_account a = account();
    /* 0.2 of 100000 at $100 = 200 shares */
    gt_risk_order o = order(200);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "position 200 x $100 = 20 %% passes");
    o = order(201);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_MAX_POSITION, "201 shares (20.1 %%) refused");
    a.position_qty = 150;
    o = order(50);
    o.qty = 50;
    o.now += 1;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "150 held + 50 = 200 passes");
    o = order(51);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_MAX_POSITION, "150 held + 51 refused");
    a.position_qty = 250; /* already over (the price moved): selling is always allowed */
    o = order(100);
    o.side = GT_RISK_SELL;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "selling down an oversized position passes");
    a.position_qty = -150; /* short: a sell adds */
    o = order(51);
    o.side = GT_RISK_SELL;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_MAX_POSITION, "short 150 + sell 51 refused");
    gt_risk_free(r);

    l = none();
    l.max_gross = 0.5;
    r = gate(l);
    a = account();
    a.gross_exposure = 30000;
    a.open_exposure = 10000;
    /* 30000 + 10000 + 100 x $100 = 50000 = 0.5 passes; 101 shares: 50100 refused */
    o = order(100);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "gross 50 %% with open orders passes");
    o = order(101);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_MAX_GROSS, "gross 50.1 %% refused");
    a.open_exposure = 9900; /* an open order of 100 was cancelled: capacity comes back */
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "after a cancel the same order passes");
    gt_risk_free(r);

    l = none();
    l.min_cash_reserve = 0.1;
    r = gate(l);
    a = account();
    a.cash = 20000;
    /* 20000 - 100 x $100 = 10000 = 10 % left: passes; 101 shares leave 9900 */
    o = order(100);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "cash reserve exactly 10 %% passes");
    o = order(101);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_CASH_RESERVE, "9.9 %% left refused");
    o.side = GT_RISK_SELL;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "a sell does not spend cash");
    gt_risk_free(r);

    l = none();
    l.max_positions = 3;
    r = gate(l);
    a = account();
    a.n_positions = 2;
    o = order(1);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "third position passes");
    a.n_positions = 3;
    o = order(2);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_MAX_POSITIONS, "fourth position refused");
    a.position_qty = 5;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "adding to a held position passes");
    gt_risk_free(r);
}

static void test_duplicates_throttles(void)
{
    gt_risk_limits l = none();
    l.dup_window_us = SEC;
    gt_risk *r = gate(l);
    gt_risk_account a = account();
    gt_risk_order o = limit(10, 100, 100);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "first order passes");
    o.now = o.ref_ts = T0 + SEC - 1;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_DUPLICATE, "the same order 999999 us later refused");
    o.qty = 11;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "a different qty passes");
    o.qty = 10;
    o.side = GT_RISK_SELL;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "the other side passes");
    o = limit(10, 100, 100);
    o.now = o.ref_ts = T0 + SEC;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "the same order 1 s later passes");
    o = order(10);
    o.symbol = "BBB";
    o.now = o.ref_ts = T0 + SEC;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "another symbol passes");
    gt_risk_free(r);

    l = none();
    l.max_per_sec = 5;
    l.max_per_min = 8;
    r = gate(l);
    for (int i = 0; i < 5; i++) {
        o = order(1 + i);
        o.now = o.ref_ts = T0 + i * 1000;
        is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "order %d of 5 in a second passes", i + 1);
    }
    o = order(10);
    o.now = o.ref_ts = T0 + SEC - 1;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_THROTTLE_SEC, "a sixth within the second refused");
    o.now = o.ref_ts = T0 + SEC; /* the first left the window: t0 + 1 s - t0 is not < 1 s */
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "at t0 + 1 s it passes");
    /* 6 accepted; 2 more spread out make 8 in the minute, the 9th is refused */
    o.now = o.ref_ts = T0 + 10 * SEC;
    o.qty = 11;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "7th in the minute passes");
    o.now = o.ref_ts = T0 + 20 * SEC;
    o.qty = 12;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "8th in the minute passes");
    o.now = o.ref_ts = T0 + MIN - 1;
    o.qty = 13;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_THROTTLE_MIN, "9th within the minute refused");
    o.now = o.ref_ts = T0 + MIN;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "at t0 + 60 s the first left: passes");
    gt_risk_status s;
    gt_risk_status_get(r, &s);
    is_int(s.refused[GT_RISK_THROTTLE_SEC], 1, "refusals counted per rule (sec)");
    is_int(s.refused[GT_RISK_THROTTLE_MIN], 1, "refusals counted per rule (min)");
    is_int(s.accepted, 9, "9 accepted");
    gt_risk_free(r);
}

static gt_risk_order sell_reducing(double qty)
{
    gt_risk_order o = order(qty);
    o.side = GT_RISK_SELL;
    o.reduces = 1;
    return o;
}

static void test_daily_loss(void)
{
    gt_risk_limits l = none();
    l.max_daily_loss = 0.02;
    gt_risk *r = gate(l);
    gt_risk_account a = account();
    a.position_qty = 10;
    int64_t day = 86400 * SEC, t = T0;
    gt_risk_on_bar(r, t, 100000, NAN);         /* the day starts at 100000 */
    gt_risk_on_bar(r, t + MIN, 98000.01, NAN); /* loss 1999.99 / 100000 < 2 % */
    is_int(gt_risk_state(r), GT_RISK_ACTIVE, "1.99999 %% daily loss: ACTIVE");
    gt_risk_on_bar(r, t + 2 * MIN, 98000, NAN); /* 2000 / 100000 = 0.02 exactly */
    is_int(gt_risk_state(r), GT_RISK_STATE_REDUCING, "2 %% daily loss: REDUCING");
    gt_risk_order o = order(1);
    o.now = t + 2 * MIN;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_REDUCING, "a buy is refused while REDUCING");
    o = sell_reducing(10);
    o.now = t + 2 * MIN;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "selling the 10 held passes");
    o = sell_reducing(11);
    o.now = t + 2 * MIN;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_REDUCING, "selling 11 of 10 (a flip) refused");
    o = sell_reducing(5);
    o.reduces = 0;
    is_int(gt_risk_check(r, &o, &a), GT_RISK_REDUCING, "a sell not marked reducing refused");
    gt_risk_on_bar(r, t + day, 98000, NAN);
    is_int(gt_risk_state(r), GT_RISK_ACTIVE, "the next UTC day: ACTIVE again");
    gt_risk_status s;
    gt_risk_status_get(r, &s);
    is_dbl(s.day_start, 98000, 0, "the new day starts from the last equity");
    /* 98000 * 0.98 = 96040: a first bar of the day at 96040 trips at once */
    gt_risk_on_bar(r, t + 2 * day, 96040, NAN);
    is_int(gt_risk_state(r), GT_RISK_STATE_REDUCING, "a gap down on a day's first bar trips");
    gt_risk_free(r);
}

static void test_drawdown_and_kill(void)
{
    gt_risk_limits l = none();
    l.max_drawdown = 0.1;
    gt_risk *r = gate(l);
    gt_risk_account a = account();
    gt_risk_on_bar(r, T0, 100000, NAN);
    gt_risk_on_bar(r, T0 + MIN, 120000, NAN); /* peak 120000; 10 % below is 108000 */
    gt_risk_on_bar(r, T0 + 2 * MIN, 108000.01, NAN);
    is_int(gt_risk_state(r), GT_RISK_ACTIVE, "drawdown just under 10 %%: ACTIVE");
    gt_risk_on_bar(r, T0 + 3 * MIN, 108000, NAN);
    is_int(gt_risk_state(r), GT_RISK_STATE_HALTED, "drawdown 12000 / 120000 = 10 %%: HALTED");
    a.position_qty = 10;
    gt_risk_order o = sell_reducing(10);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_HALTED, "even a reducing order is refused");
    ok(strstr(gt_risk_reason(r), "max drawdown") != NULL, "reason names the breaker: %s",
       gt_risk_reason(r));
    gt_risk_on_bar(r, T0 + 4 * MIN, 125000, NAN);
    is_int(gt_risk_state(r), GT_RISK_STATE_HALTED, "a recovery does not clear it");
    gt_risk_resume(r);
    is_int(gt_risk_state(r), GT_RISK_ACTIVE, "resume clears it");
    gt_risk_status s;
    gt_risk_status_get(r, &s);
    is_dbl(s.peak, 125000, 0, "resume restarts the peak at the last equity");

    gt_risk_halt(r, "operator: fat finger on AAA");
    is_int(gt_risk_state(r), GT_RISK_STATE_HALTED, "kill switch: HALTED");
    o = order(1);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_HALTED, "kill switch refuses everything");
    ok(strstr(gt_risk_reason(r), "operator: fat finger on AAA") != NULL, "reason: %s",
       gt_risk_reason(r));
    is_str(gt_risk_halt_reason(r), "operator: fat finger on AAA", "halt reason kept");
    gt_risk_on_bar(r, T0 + 2 * 86400 * SEC, 125000, NAN);
    is_int(gt_risk_state(r), GT_RISK_STATE_HALTED, "a new day does not clear a kill");
    gt_risk_resume(r);
    is_int(gt_risk_check(r, &o, &a), GT_RISK_PASS, "after resume the order passes");
    gt_risk_free(r);
}

static void test_stopouts_rejects(void)
{
    gt_risk_limits l = none();
    l.max_stopouts = 3;
    l.stopout_window_us = 60 * MIN;
    gt_risk *r = gate(l);
    gt_risk_on_stopout(r, T0);
    gt_risk_on_stopout(r, T0 + 10 * MIN);
    gt_risk_on_stopout(r, T0 + 60 * MIN); /* the first is exactly 1 h old: out of the window */
    is_int(gt_risk_state(r), GT_RISK_ACTIVE, "3 stop-outs over exactly 60 min: ACTIVE");
    gt_risk_on_stopout(r, T0 + 70 * MIN - 1); /* 10 min, 60 min, 70 min - 1: within 1 h */
    is_int(gt_risk_state(r), GT_RISK_STATE_HALTED, "3 stop-outs within 60 min: HALTED");
    gt_risk_free(r);

    l.stopout_window_us = 0; /* no window: the 3rd stop-out since a resume trips */
    r = gate(l);
    gt_risk_on_stopout(r, T0);
    gt_risk_on_stopout(r, T0 + 86400 * SEC);
    is_int(gt_risk_state(r), GT_RISK_ACTIVE, "no window: 2 stop-outs days apart: ACTIVE");
    gt_risk_on_stopout(r, T0 + 30 * 86400 * SEC);
    is_int(gt_risk_state(r), GT_RISK_STATE_HALTED, "no window: the 3rd a month later: HALTED");
    gt_risk_resume(r);
    gt_risk_on_stopout(r, T0 + 31 * 86400 * SEC);
    is_int(gt_risk_state(r), GT_RISK_ACTIVE, "resume forgets earlier stop-outs");
    gt_risk_free(r);

    l = none();
    l.max_consec_rejects = 3;
    r = gate(l);
    gt_risk_on_reject(r, T0);
    gt_risk_on_reject(r, T0);
    gt_risk_on_fill(r, T0);
    gt_risk_on_reject(r, T0);
    gt_risk_on_reject(r, T0);
    is_int(gt_risk_state(r), GT_RISK_ACTIVE, "2 rejects after a fill: ACTIVE");
    gt_risk_on_reject(r, T0);
    is_int(gt_risk_state(r), GT_RISK_STATE_HALTED, "3 consecutive rejects: HALTED");
    gt_risk_free(r);
}

/* The test's own annualised sample deviation of the last w returns (two passes). */
static double vol_of(const double *ret, int n, int w)
{
    double mean = 0, ss = 0;
    for (int i = n - w; i < n; i++)
        mean += ret[i];
    mean /= w;
    for (int i = n - w; i < n; i++)
        ss += (ret[i] - mean) * (ret[i] - mean);
    return sqrt(ss / (w - 1)) * sqrt(252.0);
}

static void test_volatility(void)
{
    gt_risk_limits l = none();
    l.vol_warn = 0.15; /* the seed's 20-period thresholds and 30-minute cool-down */
    l.vol_reduce = 0.2;
    l.vol_halt = 0.25;
    l.vol_window = 20;
    l.vol_cooldown_us = 30 * MIN;
    gt_risk *r = gate(l);
    gt_risk_status s;

    /* Anchor: returns alternating +a, -a over 20 bars have mean ~0 and
     * vol = a * sqrt(20 / 19) * sqrt(252); a = 0.01 gives 0.162869... */
    double c = 100;
    int64_t t = T0;
    gt_risk_on_bar(r, t, NAN, c);
    for (int i = 0; i < 20; i++) {
        double want = i % 2 ? c * 0.99 : c * 1.01; /* close exactly 1 % up or down */
        c = want;
        gt_risk_on_bar(r, t += MIN, NAN, c);
        gt_risk_status_get(r, &s);
        if (i < 19)
            ok(isnan(s.vol), "bar %d: window not full, vol NaN", i + 1);
    }
    gt_risk_status_get(r, &s);
    is_dbl(s.vol, 0.01 * sqrt(20.0 / 19.0) * sqrt(252.0), 1e-9, "vol of +-1 %% returns");
    is_int(s.vol_warning, 1, "0.163 >= 0.15: warning");
    is_int(s.state, GT_RISK_ACTIVE, "0.163 < 0.2: ACTIVE");
    gt_risk_free(r);

    /* Walk: amplitude rising 0.1 % a bar through every threshold, then falling; at each bar
     * the state must match the test's own vol: >= 0.25 HALTED, >= 0.2 REDUCING (or
     * still HALTED/REDUCING within 30 min of the last bar >= 0.2), warning >= 0.15. */
    r = gate(l);
    double ret[400], closes[401];
    int n = 0, mismatches = 0, seen_reduce = 0, seen_halt = 0, seen_cool = 0;
    closes[0] = 100;
    gt_risk_on_bar(r, t = T0, NAN, 100);
    int64_t last_hot = INT64_MIN;
    int halted = 0, reducing = 0;
    for (int i = 0; i < 360; i++) {
        double amp = i < 180 ? 0.0005 + i * 0.0001 : 0.0005 + (359 - i) * 0.0001;
        closes[i + 1] = closes[i] * (i % 2 ? 1 - amp : 1 + amp);
        ret[n++] = closes[i + 1] / closes[i] - 1.0;
        t += MIN;
        gt_risk_on_bar(r, t, NAN, closes[i + 1]);
        gt_risk_status_get(r, &s);
        int want_state = GT_RISK_ACTIVE, want_warn = 0;
        if (n >= 20) {
            double v = vol_of(ret, n, 20);
            want_warn = v >= 0.15;
            if (v >= 0.25)
                halted = 1;
            if (v >= 0.2) {
                reducing = 1;
                last_hot = t;
            } else if ((halted || reducing) && t - last_hot >= 30 * MIN) {
                halted = reducing = 0;
                seen_cool = 1;
            }
            want_state = halted     ? GT_RISK_STATE_HALTED
                         : reducing ? GT_RISK_STATE_REDUCING
                                    : GT_RISK_ACTIVE;
        }
        seen_reduce |= want_state == GT_RISK_STATE_REDUCING;
        seen_halt |= want_state == GT_RISK_STATE_HALTED;
        if (s.state != want_state || s.vol_warning != want_warn) {
            if (mismatches++ < 5)
                printf("# bar %d: state %d warn %d, want %d %d\n", i, s.state, s.vol_warning,
                       want_state, want_warn);
        }
    }
    is_int(mismatches, 0, "vol walk: state and warning agree with the threshold at every bar");
    ok(seen_reduce && seen_halt && seen_cool, "the walk went through REDUCING, HALTED and back");
    gt_risk_free(r);
}

static void test_snapshot(void)
{
    gt_risk_limits l = none();
    l.dup_window_us = 10 * SEC;
    l.max_stopouts = 5;
    gt_risk *r = gate(l);
    gt_risk_account a = account();
    gt_risk_order o = order(7);
    gt_risk_check(r, &o, &a);
    gt_risk_on_bar(r, T0, 100000, 100);
    gt_risk_on_stopout(r, T0);
    gt_risk_halt(r, "test halt");
    int64_t n = gt_risk_snapshot(r, NULL, 0);
    ok(n > 0, "snapshot size %lld", (long long)n);
    uint8_t *buf = malloc((size_t)n), *buf2 = malloc((size_t)n);
    is_int(gt_risk_snapshot(r, buf, n), n, "snapshot written");

    gt_risk *q = gate(l);
    is_int(gt_risk_restore(q, buf, n), GT_OK, "restored into a new gate");
    is_int(gt_risk_state(q), GT_RISK_STATE_HALTED, "HALTED survives the round trip");
    is_str(gt_risk_halt_reason(q), "test halt", "halt reason survives");
    gt_risk_snapshot(q, buf2, n);
    ok(memcmp(buf, buf2, (size_t)n) == 0, "snapshot of the restored gate is byte-identical");
    gt_risk_resume(q);
    o.now = T0 + SEC;
    o.ref_ts = T0 + SEC;
    is_int(gt_risk_check(q, &o, &a), GT_RISK_DUPLICATE, "the remembered order is still a dup");

    is_int(gt_risk_restore(q, buf, n - 1), GT_EPARSE, "a short snapshot is refused");
    buf[0] ^= 0xff;
    is_int(gt_risk_restore(q, buf, n), GT_EPARSE, "a bad magic is refused");
    ok(strstr(gt_errmsg(), "magic") != NULL, "message: %s", gt_errmsg());
    is_int(gt_risk_state(q), GT_RISK_ACTIVE, "a refused restore leaves the state alone");
    free(buf);
    free(buf2);
    gt_risk_free(q);
    gt_risk_free(r);
}

static void test_limits_validation(void)
{
    gt_risk_limits l = none();
    l.max_position = -0.1;
    ok(gt_risk_new(&l) == NULL, "negative max_position refused");
    ok(strstr(gt_errmsg(), "max_position = -0.1") != NULL, "message: %s", gt_errmsg());
    l = none();
    l.max_daily_loss = 1.5;
    ok(gt_risk_new(&l) == NULL, "max_daily_loss 1.5 refused");
    l = none();
    l.max_per_min = 5000;
    ok(gt_risk_new(&l) == NULL, "max_per_min over the ring refused");
    ok(strstr(gt_errmsg(), "max_per_min = 5000") != NULL, "message: %s", gt_errmsg());
    l = none();
    l.max_qty = NAN;
    gt_risk *r = gt_risk_new(&l);
    ok(r != NULL, "NaN means off");
    gt_risk_free(r);
    gt_risk_free(NULL);
    ok(1, "gt_risk_free(NULL) is a no-op");
    is_str(gt_risk_rule_name(GT_RISK_COLLAR), "collar", "rule name");
    is_str(gt_risk_rule_name(99), "unknown", "unknown rule name");
}

/* xorshift64*: deterministic, independent of libc's rand. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ull;
}
static double pick(const double *pool, int n)
{
    return pool[next() % (uint64_t)n];
}
static double unit(void)
{
    return (double)(next() >> 11) / 9007199254740992.0;
}

static void test_property(void)
{
    gt_risk_limits l = none();
    l.max_ref_age_us = 60 * SEC;
    l.collar_tier1 = 25;
    l.collar_tier2 = 50;
    l.collar_low = 0.08;
    l.collar_mid = 0.04;
    l.collar_high = 0.02;
    l.max_qty = 1e6;
    l.max_notional = 1e7;
    gt_risk *r = gate(l);
    const double specials[] = {NAN,     INFINITY, -INFINITY, -1,      0,   -0.0, 5e-324, 1e-300,
                               DBL_MAX, 1e300,    1e6,       1e6 + 1, 1e7, 1,    10,     100};
    const int ns = (int)(sizeof specials / sizeof specials[0]);
    const char *syms[] = {"AAA", "BBB", "", NULL};
    const int32_t sides[] = {1, -1, 0, 2};
    const int32_t types[] = {0, 1, 2, 3, -1, 4};
    long accepted = 0, invalid_accepted = 0, valid_refused = 0;
    const long N = 1000000;
    for (long i = 0; i < N; i++) {
        gt_risk_order o;
        memset(&o, 0, sizeof o);
        /* Each field is sane 7 times in 8 and otherwise drawn from the bad cases. */
#define BAD() (next() % 8 == 0)
        o.symbol = BAD() ? syms[next() % 4] : "AAA";
        o.side = BAD() ? sides[next() % 4] : (next() % 2 ? 1 : -1);
        o.type = BAD() ? types[next() % 6] : (int32_t)(next() % 4);
        o.now = T0 + i * SEC; /* distinct times: no duplicates, throttles off */
        o.ref_price = BAD() ? pick(specials, ns) : 1 + unit() * 200;
        int64_t age = BAD() ? (int64_t)(next() % 3) - 1 : (int64_t)(unit() * 70 * SEC);
        o.ref_ts = o.now - age;
        /* prices near the reference (about half inside the collar) or special */
        double near = o.ref_price * (1 + (unit() - 0.5) * 0.1);
        o.price = o.type == GT_RISK_MARKET ? NAN : near;
        o.stop_price =
            o.type == GT_RISK_STOP_LIMIT ? o.ref_price * (1 + (unit() - 0.5) * 0.1) : NAN;
        if (BAD())
            o.price = pick(specials, ns);
        if (BAD())
            o.stop_price = pick(specials, ns);
        o.qty = BAD() ? pick(specials, ns) : floor(unit() * 1.2e5);
        o.reduces = (int32_t)(next() % 2);
#undef BAD
        gt_risk_account a = account();
        if (next() % 8 == 0)
            a.equity = pick(specials, ns);
        if (next() % 16 == 0)
            a.cash = pick(specials, ns);

        /* The oracle, written from the rules, not from risk.c. */
        int valid = o.symbol && o.symbol[0] && (o.side == 1 || o.side == -1) && o.type >= 0 &&
                    o.type <= 3 && isfinite(o.qty) && o.qty > 0 && o.qty <= 1e6 &&
                    isfinite(o.ref_price) && o.ref_price > 0 && o.ref_ts <= o.now &&
                    o.now - o.ref_ts <= 60 * SEC && isfinite(a.equity) && a.equity > 0 &&
                    isfinite(a.cash);
        if (valid) {
            double band = o.ref_price <= 25 ? 0.08 : o.ref_price <= 50 ? 0.04 : 0.02;
            double lim = band * o.ref_price * (1 + 1e-9) + 1e-9 * o.ref_price;
            if (o.type == GT_RISK_MARKET) {
                valid = isnan(o.price) && isnan(o.stop_price);
            } else {
                valid = isfinite(o.price) && o.price > 0 && fabs(o.price - o.ref_price) <= lim;
                if (o.type == GT_RISK_STOP_LIMIT)
                    valid = valid && isfinite(o.stop_price) && o.stop_price > 0 &&
                            fabs(o.stop_price - o.ref_price) <= lim;
                else
                    valid = valid && isnan(o.stop_price);
            }
            double px = o.type == GT_RISK_MARKET ? o.ref_price : o.price;
            valid = valid && o.qty * px <= 1e7;
        }
        int got = gt_risk_check(r, &o, &a);
        if (got == GT_RISK_PASS) {
            accepted++;
            if (!valid && invalid_accepted++ < 5)
                printf("# accepted invalid order %ld: qty %g px %g stop %g ref %g age %lld\n", i,
                       o.qty, o.price, o.stop_price, o.ref_price, (long long)(o.now - o.ref_ts));
        } else if (valid) {
            valid_refused++;
        }
    }
    is_int(invalid_accepted, 0, "10^6 generated orders: no invalid one accepted");
    ok(accepted > 10000, "and the generator is not vacuous: %ld valid orders accepted", accepted);
    /* The oracle's collar edge is 1e-9 wider than the gate's; a random price landing there is
     * ~1e-8 likely, so the two must agree on the valid side too. */
    is_int(valid_refused, 0, "no valid order refused");
    gt_risk_free(r);
}

int main(void)
{
    test_order_sanity();
    test_stale();
    test_collar();
    test_size_caps();
    test_account_caps();
    test_duplicates_throttles();
    test_daily_loss();
    test_drawdown_and_kill();
    test_stopouts_rejects();
    test_volatility();
    test_snapshot();
    test_limits_validation();
    test_property();
    printf("1..%d\n", tap_n);
    return tap_failed != 0;
}
