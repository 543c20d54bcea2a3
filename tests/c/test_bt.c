/* bt.c on constructed bars, every expected number worked out by hand in the comments. */
#include <math.h>
#include <stdlib.h>

#include "bt.h"
#include "risk.h"
#include "series.h"
#include "sim.h"
#include "tap.h"

#define DAY INT64_C(86400000000)

static gt_series *bars(int n, const double (*b)[5])
{
    gt_series *s = gt_series_new(n);
    for (int i = 0; i < n; i++)
        gt_series_push(s, i * DAY, b[i][0], b[i][1], b[i][2], b[i][3], b[i][4]);
    return s;
}

static gt_bt_config config(int fill_mode)
{
    gt_bt_config c = {0};
    c.capital = 10000;
    c.leverage = 1;
    c.fill_mode = fill_mode;
    c.comm_kind = GT_COMM_PCT;
    return c;
}

static gt_order_req order(int side, int type, double qty)
{
    gt_order_req o = {0};
    o.side = side;
    o.type = type;
    o.qty = qty;
    o.tif = GT_TIF_GTC;
    o.limit = o.stop = o.trail = o.trail_pct = NAN;
    return o;
}

/* The seed's hand check: closes 100 98 96 97 99 102 104 103 101 100, MA3 vs MA5,
 * $10,000, no costs, fill at close, all in: buy 98 at 102 on day 6, sell at 100 on
 * day 10, final equity 9,804. */
static void test_seed_hand_check(void)
{
    double c[10] = {100, 98, 96, 97, 99, 102, 104, 103, 101, 100};
    double b[10][5];
    for (int i = 0; i < 10; i++) {
        b[i][0] = b[i][1] = b[i][2] = b[i][3] = c[i];
        b[i][4] = 1000;
    }
    gt_series *s = bars(10, (const double(*)[5])b);
    double target[10];
    for (int i = 0; i < 10; i++) {
        target[i] = NAN;
        if (i < 5)
            continue;
        double m3 = (c[i] + c[i - 1] + c[i - 2]) / 3, m5 = (c[i] + c[i - 1] + c[i - 2] + c[i - 3] + c[i - 4]) / 5;
        double p3 = (c[i - 1] + c[i - 2] + c[i - 3]) / 3,
               p5 = (c[i - 1] + c[i - 2] + c[i - 3] + c[i - 4] + c[i - 5]) / 5;
        if (m3 > m5 && p3 <= p5)
            target[i] = 1;
        else if (m3 < m5 && p3 >= p5)
            target[i] = 0;
    }
    gt_bt_config cfg = config(GT_FILL_CLOSE);
    cfg.fractional = 0;
    const gt_series *ss[1] = {s};
    gt_bt *bt = gt_bt_new(&cfg, ss, 1);
    const double *t[1] = {target};
    is_int(gt_bt_run_targets(bt, t, 1.0, 4, 10, 0), GT_OK, "seed: run");
    gt_bt_finish(bt);
    const gt_trade *tr;
    is_int(gt_bt_trades(bt, &tr), 1, "seed: one trade");
    is_int(tr[0].entry_bar, 5, "seed: bought on day 6 (bar 5)");
    is_dbl(tr[0].entry_price, 102, 0, "seed: at 102");
    is_dbl(tr[0].size, 98, 0, "seed: 98 shares = floor(10000 / 102)");
    is_int(tr[0].exit_bar, 9, "seed: sold on day 10 (bar 9)");
    is_dbl(tr[0].exit_price, 100, 0, "seed: at 100");
    is_dbl(tr[0].pnl, -196, 1e-9, "seed: pnl 98 * (100 - 102) = -196");
    const double *eq;
    gt_bt_equity(bt, &eq);
    is_dbl(eq[9], 9804, 1e-9, "seed: final equity 9,804");
    is_dbl(eq[6], 4 + 98 * 104, 1e-9, "seed: equity marks cash 4 + 98 x close");
    gt_bt_free(bt);
    gt_series_free(s);
}

/* Bars used by the order-type tests: {open, high, low, close, volume}. */
static const double B[6][5] = {
    {100, 101, 99, 100, 1000}, /* 0: decision bar */
    {102, 104, 98, 103, 1000}, /* 1 */
    {95, 97, 90, 96, 1000},    /* 2: gaps down */
    {96, 99, 95, 98, 1000},    /* 3 */
    {105, 108, 104, 107, 1000},/* 4: gaps up */
    {107, 109, 100, 101, 1000},/* 5 */
};

typedef struct run {
    gt_series *s;
    gt_bt *bt;
} run;

static run start(int fill_mode, int fractional, int allow_short)
{
    run r;
    r.s = bars(6, B);
    gt_bt_config cfg = config(fill_mode);
    cfg.fractional = fractional;
    cfg.allow_short = allow_short;
    const gt_series *ss[1] = {r.s};
    r.bt = gt_bt_new(&cfg, ss, 1);
    gt_bt_begin_bar(r.bt, 0);
    return r;
}

static void stop_run(run *r)
{
    gt_bt_free(r->bt);
    gt_series_free(r->s);
}

/* submit at bar 0's close, then process bars 1..upto */
static const gt_order *submit_and_run(run *r, gt_order_req o, int64_t upto)
{
    int64_t id = gt_bt_submit(r->bt, &o);
    gt_bt_end_bar(r->bt, 0);
    for (int64_t i = 1; i <= upto; i++) {
        gt_bt_begin_bar(r->bt, i);
        gt_bt_end_bar(r->bt, i);
    }
    return gt_bt_order(r->bt, id);
}

static void test_order_types(void)
{
    run r = start(GT_FILL_NEXT_OPEN, 0, 0);
    const gt_order *o = submit_and_run(&r, order(GT_BUY, GT_ORDER_MARKET, 10), 1);
    is_int(o->status, GT_ORDER_FILLED, "market: filled");
    is_int(o->filled_bar, 1, "market next_open: decided bar 0, filled bar 1");
    is_dbl(o->avg_price, 102, 0, "market: at bar 1's open (no look-ahead)");
    is_dbl(gt_bt_cash(r.bt), 10000 - 1020, 1e-9, "market: cash 10000 - 10 x 102");
    stop_run(&r);

    r = start(GT_FILL_CLOSE, 0, 0);
    o = submit_and_run(&r, order(GT_BUY, GT_ORDER_MARKET, 10), 0);
    is_int(o->filled_bar, 0, "market close mode: filled on the decision bar");
    is_dbl(o->avg_price, 100, 0, "market close mode: at its close");
    stop_run(&r);

    /* buy limit 99: bar 1 opens 102 (above), low 98 reaches 99 -> fills at the limit */
    gt_order_req lo = order(GT_BUY, GT_ORDER_LIMIT, 5);
    lo.limit = 99;
    r = start(GT_FILL_NEXT_OPEN, 0, 0);
    o = submit_and_run(&r, lo, 1);
    is_dbl(o->avg_price, 99, 0, "limit buy: fills at the limit inside the bar");
    stop_run(&r);
    /* buy limit 97 waits through bar 1 (low 98), bar 2 gaps to 95 -> fills at the open 95 */
    lo.limit = 97;
    r = start(GT_FILL_NEXT_OPEN, 0, 0);
    o = submit_and_run(&r, lo, 1);
    is_int(o->status, GT_ORDER_OPEN, "limit buy 97: still working after bar 1");
    gt_bt_begin_bar(r.bt, 2);
    is_dbl(o->avg_price, 95, 0, "limit buy: a gap through the limit fills at the open (better)");
    is_int(o->filled_bar, 2, "limit buy: on bar 2");
    stop_run(&r);

    /* sell stop 96 on a long: bar 1 low 98 no; bar 2 opens 95 below -> fills at 95 */
    r = start(GT_FILL_CLOSE, 0, 0);
    gt_order_req m = order(GT_BUY, GT_ORDER_MARKET, 10);
    gt_bt_submit(r.bt, &m); /* long 10 at 100 */
    gt_order_req st = order(GT_SELL, GT_ORDER_STOP, 10);
    st.stop = 96;
    o = submit_and_run(&r, st, 2);
    is_dbl(o->avg_price, 95, 0, "sell stop: gap below the stop fills at the open (worse)");
    is_int(o->filled_bar, 2, "sell stop: bar 2");
    stop_run(&r);
    /* sell stop 99 hit inside bar 1 (low 98) -> at 99 */
    r = start(GT_FILL_CLOSE, 0, 0);
    gt_bt_submit(r.bt, &m);
    st.stop = 99;
    o = submit_and_run(&r, st, 1);
    is_dbl(o->avg_price, 99, 0, "sell stop: touched inside the bar fills at the stop");
    stop_run(&r);

    /* buy stop-limit stop 103 limit 104: bar 1 (open 102, high 104) triggers inside the bar
     * -> becomes a limit, works from bar 2 (open 95 <= 104) -> fills at 95 */
    gt_order_req sl = order(GT_BUY, GT_ORDER_STOP_LIMIT, 3);
    sl.stop = 103;
    sl.limit = 104;
    r = start(GT_FILL_NEXT_OPEN, 0, 0);
    o = submit_and_run(&r, sl, 1);
    is_int(o->triggered, 1, "stop-limit: triggered in bar 1");
    is_int(o->status, GT_ORDER_OPEN, "stop-limit: not filled in its trigger bar");
    gt_bt_begin_bar(r.bt, 2);
    is_dbl(o->avg_price, 95, 0, "stop-limit: fills next bar at the open under the limit");
    stop_run(&r);
    /* buy stop-limit stop 97 limit 101: bar 1 opens 102 through the stop (gap), 102 > limit
     * 101, low 98 reaches 101 -> fills at the limit 101 in bar 1 */
    sl.stop = 97;
    sl.limit = 101;
    r = start(GT_FILL_NEXT_OPEN, 0, 0);
    o = submit_and_run(&r, sl, 1);
    is_dbl(o->avg_price, 101, 0, "stop-limit: gap trigger then fills at the limit in the same bar");
    stop_run(&r);

    /* trailing stop 3 on a long: set at bar 0's close 100 -> stop 97. bar 1: low 98 > 97,
     * high 104 -> stop 101. bar 2 opens 95 < 101 -> fills at the open 95. */
    r = start(GT_FILL_CLOSE, 0, 0);
    gt_bt_submit(r.bt, &m);
    gt_order_req ts = order(GT_SELL, GT_ORDER_TRAILING_STOP, 10);
    ts.trail = 3;
    o = submit_and_run(&r, ts, 1);
    is_dbl(o->stop, 101, 0, "trailing stop: follows bar 1's high 104 - 3");
    is_int(o->status, GT_ORDER_OPEN, "trailing stop: not hit in bar 1");
    gt_bt_begin_bar(r.bt, 2);
    is_dbl(o->avg_price, 95, 0, "trailing stop: gap through fills at the open");
    stop_run(&r);
    /* trailing 5%: from 100 -> 95; bar 1 high 104 -> 98.8; bar 2 open 95 fills */
    r = start(GT_FILL_CLOSE, 0, 0);
    gt_bt_submit(r.bt, &m);
    ts.trail = NAN;
    ts.trail_pct = 0.05;
    o = submit_and_run(&r, ts, 1);
    is_dbl(o->stop, 98.8, 1e-12, "trailing 5%%: 104 x 0.95");
    stop_run(&r);

    /* day order: a buy limit 90 that does not fill in bar 1 expires */
    gt_order_req day = order(GT_BUY, GT_ORDER_LIMIT, 1);
    day.limit = 90;
    day.tif = GT_TIF_DAY;
    r = start(GT_FILL_NEXT_OPEN, 0, 0);
    o = submit_and_run(&r, day, 2);
    is_int(o->status, GT_ORDER_EXPIRED, "day order: expired after its first bar");
    is_dbl(o->filled, 0, 0, "day order: never filled (bar 2's low 90 came too late)");
    stop_run(&r);

    /* cancel and replace */
    r = start(GT_FILL_NEXT_OPEN, 0, 0);
    gt_order_req c1 = order(GT_BUY, GT_ORDER_LIMIT, 2);
    c1.limit = 50;
    int64_t id = gt_bt_submit(r.bt, &c1);
    is_int(gt_bt_replace(r.bt, id, 4, 99, NAN), GT_OK, "replace qty and limit");
    gt_bt_end_bar(r.bt, 0);
    gt_bt_begin_bar(r.bt, 1);
    o = gt_bt_order(r.bt, id);
    is_dbl(o->filled, 4, 0, "replaced order fills its new qty");
    is_dbl(o->avg_price, 99, 0, "at its new limit");
    gt_bt_end_bar(r.bt, 1);
    gt_bt_begin_bar(r.bt, 2);
    gt_order_req c2 = order(GT_BUY, GT_ORDER_LIMIT, 1);
    c2.limit = 10;
    id = gt_bt_submit(r.bt, &c2);
    is_int(gt_bt_cancel(r.bt, id), GT_OK, "cancel");
    is_int(gt_bt_order(r.bt, id)->status, GT_ORDER_CANCELED, "status canceled");
    is_int(gt_bt_cancel(r.bt, id), GT_ESTATE, "cancel twice is an error");
    is_int(gt_bt_cancel(r.bt, 999), GT_ENOTFOUND, "unknown id");
    gt_order_req bad = order(GT_BUY, GT_ORDER_LIMIT, 1);
    id = gt_bt_submit(r.bt, &bad);
    is_int(gt_bt_order(r.bt, id)->reject, GT_REJECT_BAD_PRICE, "limit without a price is rejected");
    bad = order(GT_BUY, GT_ORDER_MARKET, 1.5);
    id = gt_bt_submit(r.bt, &bad);
    is_int(gt_bt_order(r.bt, id)->reject, GT_REJECT_BAD_QTY, "fractional qty with whole units");
    bad = order(GT_SELL, GT_ORDER_MARKET, 100);
    id = gt_bt_submit(r.bt, &bad);
    gt_bt_end_bar(r.bt, 2);
    gt_bt_begin_bar(r.bt, 3);
    is_int(gt_bt_order(r.bt, id)->status, GT_ORDER_FILLED, "selling the 4 held is allowed");
    is_dbl(gt_bt_order(r.bt, id)->filled, 4, 0, "but clipped to flat with shorting off");
    stop_run(&r);
}

static void test_brackets(void)
{
    /* entry market at bar 1 open 102; TP 103.5, SL 97. bar 1: high 104 reaches TP, low 98
     * above SL -> TP fills at 103.5 in the entry bar */
    run r = start(GT_FILL_NEXT_OPEN, 0, 0);
    gt_order_req e = order(GT_BUY, GT_ORDER_MARKET, 10);
    int64_t id = gt_bt_bracket(r.bt, &e, 103.5, 97);
    gt_bt_end_bar(r.bt, 0);
    gt_bt_begin_bar(r.bt, 1);
    gt_bt_end_bar(r.bt, 1);
    const gt_order *sl = gt_bt_order(r.bt, id + 1), *tp = gt_bt_order(r.bt, id + 2);
    is_int(gt_bt_order(r.bt, id)->status, GT_ORDER_FILLED, "bracket: entry filled");
    is_int(tp->status, GT_ORDER_FILLED, "bracket: take-profit filled");
    is_dbl(tp->avg_price, 103.5, 0, "bracket: at the TP price");
    is_int(sl->status, GT_ORDER_CANCELED, "bracket: stop-loss cancelled (OCO)");
    gt_position p;
    gt_bt_position(r.bt, 0, &p);
    is_dbl(p.qty, 0, 0, "bracket: flat again");
    is_dbl(p.realized, 15, 1e-9, "bracket: 10 x (103.5 - 102)");
    stop_run(&r);

    /* TP 103.5 and SL 99 both inside bar 1 (high 104, low 98): the stop-loss is assumed */
    r = start(GT_FILL_NEXT_OPEN, 0, 0);
    id = gt_bt_bracket(r.bt, &e, 103.5, 99);
    gt_bt_end_bar(r.bt, 0);
    gt_bt_begin_bar(r.bt, 1);
    sl = gt_bt_order(r.bt, id + 1);
    tp = gt_bt_order(r.bt, id + 2);
    is_int(sl->status, GT_ORDER_FILLED, "bracket both hit: stop-loss first (conservative)");
    is_dbl(sl->avg_price, 99, 0, "bracket both hit: at the stop");
    is_int(tp->status, GT_ORDER_CANCELED, "bracket both hit: TP cancelled");
    stop_run(&r);

    /* close mode: entry at bar 0 close 100; legs work from bar 1; bar 2 gaps to 95 under
     * SL 97 -> fills at the open 95 */
    r = start(GT_FILL_CLOSE, 0, 0);
    id = gt_bt_bracket(r.bt, &e, 110, 97);
    gt_bt_end_bar(r.bt, 0);
    for (int i = 1; i <= 2; i++) {
        gt_bt_begin_bar(r.bt, i);
        gt_bt_end_bar(r.bt, i);
    }
    sl = gt_bt_order(r.bt, id + 1);
    is_int(sl->filled_bar, 2, "bracket close mode: SL on bar 2");
    is_dbl(sl->avg_price, 95, 0, "bracket close mode: gap fills at the open");
    stop_run(&r);

    /* cancelling the entry takes the pending legs with it */
    r = start(GT_FILL_NEXT_OPEN, 0, 0);
    gt_order_req le = order(GT_BUY, GT_ORDER_LIMIT, 1);
    le.limit = 10;
    id = gt_bt_bracket(r.bt, &le, 200, 5);
    gt_bt_cancel(r.bt, id);
    is_int(gt_bt_order(r.bt, id + 1)->status, GT_ORDER_CANCELED, "cancelled entry cancels its legs");
    stop_run(&r);
}

static void test_costs(void)
{
    /* 0.1% commission, 10 bps slippage, 20 bps spread: buy 10 market, next open 102:
     * fill 102 x (1 + 0.0010 + 0.0010) = 102.204; commission 10 x 102.204 x 0.001 */
    run r = start(GT_FILL_NEXT_OPEN, 0, 0);
    gt_bt_free(r.bt);
    gt_bt_config cfg = config(GT_FILL_NEXT_OPEN);
    cfg.commission = 0.001;
    cfg.slippage_bps = 10;
    cfg.spread_bps = 20;
    const gt_series *ss[1] = {r.s};
    r.bt = gt_bt_new(&cfg, ss, 1);
    gt_bt_begin_bar(r.bt, 0);
    const gt_order *o = submit_and_run(&r, order(GT_BUY, GT_ORDER_MARKET, 10), 1);
    is_dbl(o->avg_price, 102.204, 1e-9, "costs: slippage + half spread on a market buy");
    is_dbl(o->fees, 1.02204, 1e-9, "costs: 0.1%% commission on notional");
    is_dbl(gt_bt_cash(r.bt), 10000 - 1022.04 - 1.02204, 1e-9, "costs: cash pays both");
    gt_bt_free(r.bt);

    /* per share $0.01 with a $1 minimum: 10 shares -> $1 (minimum) */
    cfg = config(GT_FILL_NEXT_OPEN);
    cfg.comm_kind = GT_COMM_PER_SHARE;
    cfg.commission = 0.01;
    cfg.commission_min = 1;
    r.bt = gt_bt_new(&cfg, ss, 1);
    gt_bt_begin_bar(r.bt, 0);
    o = submit_and_run(&r, order(GT_BUY, GT_ORDER_MARKET, 10), 1);
    is_dbl(o->fees, 1, 1e-12, "per share: the $1 minimum applies to 10 x $0.01");
    gt_bt_free(r.bt);

    /* fixed $5 per order; limit fills pay no slippage */
    cfg = config(GT_FILL_NEXT_OPEN);
    cfg.comm_kind = GT_COMM_FIXED;
    cfg.commission = 5;
    cfg.slippage_bps = 50;
    r.bt = gt_bt_new(&cfg, ss, 1);
    gt_bt_begin_bar(r.bt, 0);
    gt_order_req lo = order(GT_BUY, GT_ORDER_LIMIT, 10);
    lo.limit = 99;
    o = submit_and_run(&r, lo, 1);
    is_dbl(o->fees, 5, 0, "fixed: $5 per order");
    is_dbl(o->avg_price, 99, 0, "limit fills at the limit, no slippage");
    stop_run(&r);
}

static void test_shorts_and_reversals(void)
{
    /* close mode, shorting on, whole units, $10,000:
     * bar 0 target +1 at 100 -> long 100; bar 1 target -1 at 103: equity 10300, short
     * floor(10300 / 103) = 100 -> one order sells 200; trade 1 closes +300;
     * bar 2 target 0 at 96: cover 100 -> trade 2 pnl (103 - 96) x 100 = 700. */
    run r = start(GT_FILL_CLOSE, 0, 1);
    gt_bt_target(r.bt, 0, 1, 0);
    gt_bt_end_bar(r.bt, 0);
    gt_bt_begin_bar(r.bt, 1);
    int64_t id = gt_bt_target(r.bt, 0, -1, 0);
    is_dbl(gt_bt_order(r.bt, id)->qty, 200, 0, "reversal: one order of 200");
    gt_position p;
    gt_bt_position(r.bt, 0, &p);
    is_dbl(p.qty, -100, 0, "reversal: now short 100");
    gt_bt_end_bar(r.bt, 1);
    gt_bt_begin_bar(r.bt, 2);
    is_int(gt_bt_target(r.bt, 0, -1, 0), 0, "same direction: no order (signal semantics)");
    gt_bt_target(r.bt, 0, 0, 0);
    gt_bt_end_bar(r.bt, 2);
    const gt_trade *t;
    is_int(gt_bt_trades(r.bt, &t), 2, "two trades");
    is_dbl(t[0].size, 100, 0, "trade 1 long 100");
    is_dbl(t[0].pnl, 300, 1e-9, "trade 1: (103 - 100) x 100");
    is_dbl(t[1].size, -100, 0, "trade 2 short (negative size)");
    is_dbl(t[1].pnl, 700, 1e-9, "trade 2: (103 - 96) x 100");
    is_dbl(t[1].return_pct, 700.0 / 10300 * 100, 1e-9, "trade 2 return on entry notional");
    const double *eq;
    gt_bt_equity(r.bt, &eq);
    is_dbl(eq[2], 11000, 1e-9, "equity 10000 + 300 + 700");
    is_dbl(eq[1], 10300, 1e-9, "short marked at the close it was opened at");
    stop_run(&r);

    /* shorting off: a -1 target on a long only closes it */
    r = start(GT_FILL_CLOSE, 0, 0);
    gt_bt_target(r.bt, 0, 1, 0);
    gt_bt_end_bar(r.bt, 0);
    gt_bt_begin_bar(r.bt, 1);
    gt_bt_target(r.bt, 0, -1, 0);
    gt_bt_position(r.bt, 0, &p);
    is_dbl(p.qty, 0, 0, "no shorting: short signal flattens");
    stop_run(&r);

    /* rebalance: target 50% at 100 -> 50 units; at 103 equity 10150 -> 50% = 49.27 -> 49 */
    r = start(GT_FILL_CLOSE, 0, 0);
    gt_bt_target(r.bt, 0, 0.5, 1);
    gt_bt_end_bar(r.bt, 0);
    gt_bt_begin_bar(r.bt, 1);
    gt_bt_target(r.bt, 0, 0.5, 1);
    gt_bt_position(r.bt, 0, &p);
    is_dbl(p.qty, 49, 0, "rebalance trades to the exact size");
    stop_run(&r);
}

static void test_volume_cap_and_funds(void)
{
    /* volume cap 1% of 1000 = 10 units a bar: a 25-unit market order fills 10, 10, 5 */
    gt_series *s = bars(6, B);
    gt_bt_config cfg = config(GT_FILL_NEXT_OPEN);
    cfg.volume_cap = 0.01;
    const gt_series *ss[1] = {s};
    gt_bt *bt = gt_bt_new(&cfg, ss, 1);
    gt_bt_begin_bar(bt, 0);
    gt_order_req m = order(GT_BUY, GT_ORDER_MARKET, 25);
    int64_t id = gt_bt_submit(bt, &m);
    gt_bt_end_bar(bt, 0);
    gt_bt_begin_bar(bt, 1);
    is_dbl(gt_bt_order(bt, id)->filled, 10, 0, "volume cap: 10 in bar 1");
    is_int(gt_bt_order(bt, id)->status, GT_ORDER_PARTIAL, "partially filled");
    gt_bt_end_bar(bt, 1);
    gt_bt_begin_bar(bt, 2);
    gt_bt_end_bar(bt, 2);
    gt_bt_begin_bar(bt, 3);
    is_dbl(gt_bt_order(bt, id)->filled, 25, 0, "volume cap: 10 + 10 + 5");
    is_dbl(gt_bt_order(bt, id)->avg_price, (10 * 102 + 10 * 95 + 5 * 96) / 25.0, 1e-9,
           "average fill price over the three bars");
    gt_bt_free(bt);

    /* funds: 200 units at 102 cost 20,400 > 10,000 -> clipped to floor(10000 / 102) = 98 */
    cfg = config(GT_FILL_NEXT_OPEN);
    bt = gt_bt_new(&cfg, ss, 1);
    gt_bt_begin_bar(bt, 0);
    m = order(GT_BUY, GT_ORDER_MARKET, 200);
    id = gt_bt_submit(bt, &m);
    gt_bt_end_bar(bt, 0);
    gt_bt_begin_bar(bt, 1);
    is_dbl(gt_bt_order(bt, id)->filled, 98, 0, "buy clipped to what cash affords");
    ok(gt_bt_cash(bt) >= 0, "cash never negative without leverage");
    gt_bt_free(bt);

    /* a target sized at bar 0's close 100 (100 units) fills at bar 4's gap-up open 105 when
     * decided at bar 3 -> clipped to floor(10000 / 105) = 95 */
    bt = gt_bt_new(&cfg, ss, 1);
    for (int i = 0; i < 3; i++) {
        gt_bt_begin_bar(bt, i);
        gt_bt_end_bar(bt, i);
    }
    gt_bt_begin_bar(bt, 3);
    id = gt_bt_target(bt, 0, 1, 0);
    is_dbl(gt_bt_order(bt, id)->qty, 102, 0, "target sized at the close 98: floor(10000/98)");
    gt_bt_end_bar(bt, 3);
    gt_bt_begin_bar(bt, 4);
    is_dbl(gt_bt_order(bt, id)->filled, 95, 0, "gap up: clipped to floor(10000 / 105)");
    gt_bt_free(bt);
    gt_series_free(s);
}

static void test_warmup_and_multi(void)
{
    /* no decision before start: a target at bar 1 is ignored when start = 3 */
    gt_series *s = bars(6, B);
    gt_bt_config cfg = config(GT_FILL_CLOSE);
    const gt_series *ss[2] = {s, s};
    gt_bt *bt = gt_bt_new(&cfg, ss, 1);
    double tg[6] = {NAN, 1, NAN, NAN, 0, NAN};
    const double *t[1] = {tg};
    gt_bt_run_targets(bt, t, 1, 3, 6, 0);
    const gt_trade *tr;
    is_int(gt_bt_trades(bt, &tr), 0, "warm-up: the bar-1 signal is never acted on");
    const double *eq;
    is_int(gt_bt_equity(bt, &eq), 6, "every bar is marked");
    is_dbl(eq[0], 10000, 0, "warm-up bars carry the capital");
    gt_bt_free(bt);

    /* two symbols (the same bars twice): 50% each at bar 0's close 100 -> 50 units each */
    bt = gt_bt_new(&cfg, ss, 2);
    double a[6] = {0.5, NAN, NAN, NAN, NAN, NAN};
    const double *t2[2] = {a, a};
    gt_bt_run_targets(bt, t2, 1, 0, 6, 0);
    gt_position p0, p1;
    gt_bt_position(bt, 0, &p0);
    gt_bt_position(bt, 1, &p1);
    is_dbl(p0.qty, 50, 0, "symbol 0: 50 units");
    is_dbl(p1.qty, 50, 0, "symbol 1: 50 units from the same equity");
    gt_bt_equity(bt, &eq);
    is_dbl(eq[5], 10000 + 100 * (101 - 100), 1e-9, "equity sums both positions");
    gt_bt_finish(bt);
    gt_bt_equity(bt, &eq);
    is_dbl(eq[5], gt_bt_cash(bt), 1e-9, "finish closes everything at the last close");
    gt_bt_free(bt);

    gt_series *other = bars(5, B);
    const gt_series *mis[2] = {s, other};
    ok(gt_bt_new(&cfg, mis, 2) == NULL, "series of different lengths are refused");
    ok(strstr(gt_errmsg(), "gt.data.align") != NULL, "with a hint: %s", gt_errmsg());
    gt_series_free(other);
    gt_series_free(s);
}

/* gt_bt_extend. Two symbols, bar i of 12:
 *   A: open 100+i high 101+i low 99+i close 100.5+i     B: open 50-i high 51-i low 49-i close 50.5-i
 * $10,000, no costs, market orders fill at the next open, a gate (drawdown 50 %, never trips)
 * so the risk-state array is grown too. Decisions:
 *   bar 1: buy 10 A            -> fills bar 2 at A's open 102
 *   bar 4: buy 20 B            -> fills bar 5 at B's open 45
 *   bar 4: sell 10 A limit 108.5 GTC -> A's high reaches it first at bar 8 (109): fills at 108.5
 *   bar 9: sell 20 B           -> fills bar 10 at B's open 40
 * Cash 10000 - 1020 - 900 + 1085 + 800 = 9965, flat from bar 10: equity 9965 (= 10000 + 65 - 100).
 * Equity at bar 4: 8980 + 10 * 104.5 = 10025.
 * The same decisions are run once over the 12 bars from the start, and once over 5 bars that
 * grow to 12 (one bar at a time, then three at once) with gt_bt_extend in between: the orders
 * decided at bar 4 fill only after the first extension. Every array must match. */
static void push_bar(gt_series *a, gt_series *b, int i)
{
    gt_series_push(a, i * DAY, 100 + i, 101 + i, 99 + i, 100.5 + i, 1000);
    gt_series_push(b, i * DAY, 50 - i, 51 - i, 49 - i, 50.5 - i, 1000);
}

static void decide(gt_bt *bt, int i)
{
    gt_order_req o;
    if (i == 1) {
        o = order(GT_BUY, GT_ORDER_MARKET, 10);
        gt_bt_submit(bt, &o);
    } else if (i == 4) {
        o = order(GT_BUY, GT_ORDER_MARKET, 20);
        o.symbol = 1;
        gt_bt_submit(bt, &o);
        o = order(GT_SELL, GT_ORDER_LIMIT, 10);
        o.limit = 108.5;
        gt_bt_submit(bt, &o);
    } else if (i == 9) {
        o = order(GT_SELL, GT_ORDER_MARKET, 20);
        o.symbol = 1;
        gt_bt_submit(bt, &o);
    }
}

static int step(gt_bt *bt, int from, int to)
{
    for (int i = from; i < to; i++) {
        int rc = gt_bt_begin_bar(bt, i);
        if (rc)
            return rc;
        decide(bt, i);
        if ((rc = gt_bt_end_bar(bt, i)))
            return rc;
    }
    return GT_OK;
}

static const char *const NAMES[2] = {"A", "B"};

static gt_bt *extend_bt(gt_series *a, gt_series *b, gt_risk **gate)
{
    gt_bt_config cfg = config(GT_FILL_NEXT_OPEN);
    cfg.fractional = 1;
    const gt_series *ss[2] = {a, b};
    gt_bt *bt = gt_bt_new(&cfg, ss, 2);
    gt_risk_limits l;
    memset(&l, 0, sizeof l);
    l.max_drawdown = 0.5;
    *gate = gt_risk_new(&l);
    gt_bt_set_risk(bt, *gate, NAMES);
    return bt;
}

static void test_extend(void)
{
    /* the reference: all 12 bars known up front */
    gt_series *fa = gt_series_new(12), *fb = gt_series_new(12);
    for (int i = 0; i < 12; i++)
        push_bar(fa, fb, i);
    gt_risk *fg;
    gt_bt *full = extend_bt(fa, fb, &fg);
    is_int(step(full, 0, 12), GT_OK, "extend: the reference run steps 12 bars");

    /* capacity 1: every push moves the columns, as a live feed's growth would */
    gt_series *ga = gt_series_new(1), *gb = gt_series_new(1);
    for (int i = 0; i < 5; i++)
        push_bar(ga, gb, i);
    gt_risk *gg;
    gt_bt *grow = extend_bt(ga, gb, &gg);
    is_int(step(grow, 0, 5), GT_OK, "extend: 5 bars stepped");
    is_dbl(gt_bt_equity_now(grow), 10025, 1e-9, "extend: equity at bar 4 = 8980 + 10 * 104.5");
    is_int(gt_bt_begin_bar(grow, 5), GT_ERANGE, "extend: bar 5 is not there before extend");
    const gt_order *od;
    is_int(gt_bt_orders(grow, &od), 3, "extend: three orders so far");
    is_int(od[1].status, GT_ORDER_OPEN, "extend: bar 4's buy of B waits for the next open");

    /* mismatched growth is refused and changes nothing */
    gt_series_push(ga, 5 * DAY, 105, 106, 104, 105.5, 1000);
    is_int(gt_bt_extend(grow), GT_EINVAL, "extend: A grew, B did not: refused");
    ok(strstr(gt_errmsg(), "series 1 has 5 bars, series 0 has 6") != NULL, "says which: %s",
       gt_errmsg());
    is_int(gt_bt_begin_bar(grow, 5), GT_ERANGE, "extend: still 5 bars after a refusal");
    gt_series_push(gb, 6 * DAY, 45, 46, 44, 45.5, 1000);
    is_int(gt_bt_extend(grow), GT_EINVAL, "extend: B's new bar at another time: refused");
    ok(strstr(gt_errmsg(), "series 1 bar 5 is at 518400000000") != NULL, "names the bar: %s",
       gt_errmsg());
    ga->n = 4; /* test-only: series 0 losing bars */
    is_int(gt_bt_extend(grow), GT_EINVAL, "extend: a series that shrank is refused");
    ok(strstr(gt_errmsg(), "shrank from 5 to 4") != NULL, "says so: %s", gt_errmsg());
    ga->n = 5; /* undo the bad pushes */
    gb->n = 5;
    is_int(gt_bt_extend(grow), GT_OK, "extend: no new bars is fine");

    /* one bar at a time for bars 5..8, then 9..11 at once */
    for (int i = 5; i < 9; i++) {
        push_bar(ga, gb, i);
        is_int(gt_bt_extend(grow), GT_OK, "extend: to %d bars", i + 1);
        is_int(step(grow, i, i + 1), GT_OK, "extend: bar %d stepped", i);
    }
    for (int i = 9; i < 12; i++)
        push_bar(ga, gb, i);
    is_int(gt_bt_extend(grow), GT_OK, "extend: three bars at once");
    is_int(step(grow, 9, 12), GT_OK, "extend: bars 9..11 stepped");

    /* the same books and history as the run that knew every bar */
    const gt_fill *f1, *f2;
    int64_t nf = gt_bt_fills(full, &f1);
    is_int(gt_bt_fills(grow, &f2), nf, "extend: %lld fills in both", (long long)nf);
    is_int(nf, 4, "extend: four fills");
    int same = 1;
    for (int64_t i = 0; i < nf; i++)
        same &= f1[i].bar == f2[i].bar && f1[i].qty == f2[i].qty && f1[i].price == f2[i].price &&
                f1[i].ts == f2[i].ts && f1[i].order_id == f2[i].order_id;
    ok(same, "extend: every fill the same (bar, ts, qty, price, order)");
    is_dbl(f2[1].price, 45, 0, "extend: B bought at bar 5's open 45, after the extension");
    is_int(f2[2].bar, 8, "extend: the limit sell filled at bar 8");
    is_dbl(f2[2].price, 108.5, 0, "extend: at 108.5");
    const gt_trade *t1, *t2;
    int64_t nt = gt_bt_trades(full, &t1);
    is_int(gt_bt_trades(grow, &t2), nt, "extend: %lld trades in both", (long long)nt);
    same = nt == 2;
    for (int64_t i = 0; same && i < nt; i++)
        same &= t1[i].pnl == t2[i].pnl && t1[i].entry_bar == t2[i].entry_bar &&
                t1[i].exit_bar == t2[i].exit_bar;
    ok(same, "extend: the same two trades");
    const double *e1, *e2;
    const uint8_t *m1, *m2, *r1, *r2;
    is_int(gt_bt_equity(full, &e1), 12, "extend: 12 marks in the reference");
    is_int(gt_bt_equity(grow, &e2), 12, "extend: 12 marks after growing");
    gt_bt_in_market(full, &m1);
    gt_bt_in_market(grow, &m2);
    is_int(gt_bt_risk_states(full, &r1), 12, "extend: 12 risk states in the reference");
    is_int(gt_bt_risk_states(grow, &r2), 12, "extend: 12 risk states after growing");
    same = 1;
    for (int i = 0; i < 12; i++)
        same &= e1[i] == e2[i] && m1[i] == m2[i] && r1[i] == r2[i];
    ok(same, "extend: equity, in-market and risk state equal at every bar");
    is_dbl(e2[4], 10025, 1e-9, "extend: bar 4's mark kept through the growth");
    is_dbl(e2[11], 9965, 1e-9, "extend: final equity 9965 = 10000 + 65 - 100");
    is_dbl(gt_bt_cash(grow), gt_bt_cash(full), 0, "extend: the same cash");
    is_int(m2[11], 0, "extend: flat at the end");
    is_int(m2[6], 1, "extend: in the market at bar 6");

    gt_bt_free(full);
    gt_bt_free(grow);
    gt_risk_free(fg);
    gt_risk_free(gg);
    gt_series_free(fa);
    gt_series_free(fb);
    gt_series_free(ga);
    gt_series_free(gb);
}

int main(void)
{
    test_seed_hand_check();
    test_order_types();
    test_brackets();
    test_costs();
    test_shorts_and_reversals();
    test_volume_cap_and_funds();
    test_warmup_and_multi();
    test_extend();
    return done_testing();
}
