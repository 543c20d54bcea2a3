/*
 * bt.c: order matching, fills and costs over the ledger (ledger.c). Per bar the work is
 * proportional to the number of working orders; with none (most bars of a signal
 * strategy) begin_bar is a couple of branches and end_bar one multiply-add per symbol.
 */
#include "bt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ledger.h"
#include "series.h"

struct gt_bt {
    gt_bt_config cfg;
    double buy_f, sell_f; /* price multipliers for market and stop fills (slippage, spread) */
    int32_t k;
    int64_t n;
    const gt_series **ser;
    gt_ledger led; /* cash, positions, orders, fills, trades */
    int64_t bar;    /* the bar being processed (begin_bar) */
    int64_t marked; /* last bar marked by end_bar, -1 before any */
    int in_bar;     /* between begin_bar and end_bar */
    double *equity;
    uint8_t *in_market;
    const double **exit_stop, **exit_take; /* per symbol, per bar exit levels (vector path) */
};

gt_bt *gt_bt_new(const gt_bt_config *cfg, const gt_series *const *series, int32_t k)
{
    if (!cfg || !series || k < 1) {
        gt_seterr(GT_EINVAL, "backtest: need a config and at least one series");
        return NULL;
    }
    if (!(cfg->capital > 0) || !isfinite(cfg->capital)) {
        gt_seterr(GT_EINVAL, "backtest: capital must be a positive number");
        return NULL;
    }
    if (cfg->commission < 0 || cfg->commission_min < 0 || cfg->slippage_bps < 0 ||
        cfg->spread_bps < 0 || cfg->volume_cap < 0 || cfg->volume_cap > 1 ||
        !(cfg->leverage >= 1) || !isfinite(cfg->commission) || !isfinite(cfg->slippage_bps)) {
        gt_seterr(GT_EINVAL, "backtest: costs must be >= 0, volume_cap in [0, 1], leverage >= 1");
        return NULL;
    }
    if (!(cfg->capital <= GT_BT_MAX_CAPITAL)) {
        gt_seterr(GT_EINVAL, "backtest: capital %g is above the cap of %g", cfg->capital,
                  GT_BT_MAX_CAPITAL);
        return NULL;
    }
    if (!(cfg->stop_pct >= 0 && cfg->stop_pct < 1) || !(cfg->take_pct >= 0 && cfg->take_pct < 100)) {
        gt_seterr(GT_EINVAL, "backtest: stop_pct must be in [0, 1) and take_pct in [0, 100)");
        return NULL;
    }
    if ((cfg->size_at != GT_SIZE_AT_SIGNAL && cfg->size_at != GT_SIZE_AT_FILL) ||
        (cfg->end_price != GT_END_CLOSE && cfg->end_price != GT_END_OPEN)) {
        gt_seterr(GT_EINVAL, "backtest: size_at is signal or fill, end_price close or open");
        return NULL;
    }
    if (cfg->fill_mode != GT_FILL_NEXT_OPEN && cfg->fill_mode != GT_FILL_CLOSE) {
        gt_seterr(GT_EINVAL, "backtest: fill mode is next_open or close");
        return NULL;
    }
    if (cfg->comm_kind < GT_COMM_PCT || cfg->comm_kind > GT_COMM_FIXED) {
        gt_seterr(GT_EINVAL, "backtest: unknown commission kind");
        return NULL;
    }
    int64_t n = series[0]->n;
    for (int32_t j = 1; j < k; j++) {
        if (series[j]->n != n ||
            (n > 0 && memcmp(series[j]->ts, series[0]->ts, (size_t)n * sizeof(int64_t)) != 0)) {
            gt_seterr(GT_EINVAL, "backtest: series %d is not on the same clock as series 0 "
                                 "(align them first with gt.data.align)",
                      (int)j);
            return NULL;
        }
    }
    gt_bt *bt = calloc(1, sizeof *bt);
    if (!bt)
        goto oom;
    bt->cfg = *cfg;
    double f = (cfg->slippage_bps + cfg->spread_bps / 2) / 1e4;
    bt->buy_f = 1 + f;
    bt->sell_f = 1 - f;
    bt->k = k;
    bt->n = n;
    bt->marked = -1;
    bt->bar = -1;
    bt->ser = calloc((size_t)k, sizeof *bt->ser);
    if (gt_ledger_init(&bt->led, k, cfg->capital))
        goto oom;
    bt->equity = gt_ledger_big_alloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    bt->in_market = calloc((size_t)(n > 0 ? n : 1), 1);
    bt->exit_stop = calloc((size_t)k, sizeof *bt->exit_stop);
    bt->exit_take = calloc((size_t)k, sizeof *bt->exit_take);
    if (!bt->ser || !bt->equity || !bt->in_market || !bt->exit_stop || !bt->exit_take)
        goto oom;
    for (int32_t j = 0; j < k; j++)
        bt->ser[j] = series[j];
    return bt;
oom:
    gt_bt_free(bt);
    gt_seterr(GT_ENOMEM, "backtest: out of memory");
    return NULL;
}

void gt_bt_free(gt_bt *bt)
{
    if (!bt)
        return;
    free(bt->ser);
    gt_ledger_fini(&bt->led);
    free(bt->equity);
    free(bt->in_market);
    free(bt->exit_stop);
    free(bt->exit_take);
    free(bt);
}

/* ---- costs ---- */

static double commission(const gt_bt *bt, double qty, double price)
{
    double q = fabs(qty), c;
    switch (bt->cfg.comm_kind) {
    case GT_COMM_PER_SHARE:
        c = q * bt->cfg.commission;
        break;
    case GT_COMM_FIXED:
        return q > 0 ? bt->cfg.commission : 0;
    default:
        c = q * price * bt->cfg.commission;
    }
    return q > 0 && c < bt->cfg.commission_min ? bt->cfg.commission_min : c;
}

/* Market and stop fills move against the order by slippage plus half the spread. */
static double cost_adjust(const gt_bt *bt, int side, double price)
{
    return price * (side == GT_BUY ? bt->buy_f : bt->sell_f);
}

/* Whole units: a truncating conversion is floor for the non-negative quantities used
 * here, and avoids a libm call on every order in a portable (baseline x86-64) build. */
static double units(const gt_bt *bt, double q)
{
    if (bt->cfg.fractional)
        return q;
    q += 1e-9;
    return q > 0 && q < 9e15 ? (double)(int64_t)q : floor(q);
}

/* Largest quantity of a buy at price whose cost (with commission) fits in budget. */
static double affordable(const gt_bt *bt, double budget, double price)
{
    if (budget <= 0 || !(price > 0))
        return 0;
    double q;
    switch (bt->cfg.comm_kind) {
    case GT_COMM_PER_SHARE:
        q = budget / (price + bt->cfg.commission);
        if (q * bt->cfg.commission < bt->cfg.commission_min)
            q = (budget - bt->cfg.commission_min) / price;
        break;
    case GT_COMM_FIXED:
        q = (budget - bt->cfg.commission) / price;
        break;
    default:
        q = budget / (price * (1 + bt->cfg.commission));
        if (q * price * bt->cfg.commission < bt->cfg.commission_min)
            q = (budget - bt->cfg.commission_min) / price;
    }
    q = units(bt, q > 0 && isfinite(q) ? q : 0);
    /* Guard the floating-point edge: the cost must really fit. The closed form above is off
     * by rounding only, so a few steps settle it; each step removes at least one unit or a
     * 1e-12 share, and the count is bounded, so this ends for any finite input (a quantity
     * beyond 2^53 cannot step down by one unit, hence the relative step). */
    for (int step = 0; q > 0 && q * price + commission(bt, q, price) > budget * (1 + 1e-12); step++) {
        if (step == 64)
            return 0;
        double down = q * 1e-12;
        q = bt->cfg.fractional ? q - down : floor(q - (down > 1 ? down : 1));
    }
    return q;
}

static double mark_equity(const gt_bt *bt, int64_t bar)
{
    double e = bt->led.cash;
    for (int32_t j = 0; j < bt->k; j++)
        if (bt->led.pos[j].qty != 0)
            e += bt->led.pos[j].qty * bt->ser[j]->close[bar];
    return e;
}

/* Equity while filling an order in bar `bar`: symbol sym at the fill price px, the others at
 * the price known at that moment (the bar's close for a fill at the close, else its open).
 * Never the close of a bar still being traded: that would be look-ahead. */
static double equity_at(const gt_bt *bt, int64_t bar, int64_t sym, double px, int at_close)
{
    double e = bt->led.cash;
    for (int32_t j = 0; j < bt->k; j++)
        if (bt->led.pos[j].qty != 0)
            e += bt->led.pos[j].qty * (j == sym ? px : at_close ? bt->ser[j]->close[bar] : bt->ser[j]->open[bar]);
    return e;
}

/* Fills up to want units of o at price (before costs for market/stop). Clips buys to the
 * cash or buying power available and sells that open or grow a short to the allowed
 * exposure. Returns the units filled (0 when none could be). */
static double execute(gt_bt *bt, gt_order *o, int64_t bar, double want, double price, int costly,
                      int at_close)
{
    const gt_series *s = bt->ser[o->symbol];
    gt_ledger_pos *st = &bt->led.pos[o->symbol];
    if (bt->cfg.volume_cap > 0) {
        double cap = units(bt, bt->cfg.volume_cap * s->volume[bar]);
        if (want > cap)
            want = cap;
    }
    if (o->origin == 2) { /* a target's exit leg only ever reduces the position */
        double room = o->side == GT_SELL ? (st->qty > 0 ? st->qty : 0) : (st->qty < 0 ? -st->qty : 0);
        if (want > room)
            want = room;
        if (!(want > 0)) {
            gt_ledger_cancel(&bt->led, o, GT_ORDER_CANCELED);
            return 0;
        }
    }
    if (costly)
        price = cost_adjust(bt, o->side, price);
    int32_t limited = GT_REJECT_NONE;
    double dq = o->side * want;
    double q1 = st->qty + dq;
    if (o->side == GT_BUY && q1 > 0) {
        /* the long part must fit in cash (plus margin when leverage > 1) */
        double cover = st->qty < 0 ? -st->qty : 0;
        double budget = bt->led.cash - cover * price - commission(bt, cover, price);
        if (bt->cfg.leverage > 1) {
            double equity = equity_at(bt, bar, o->symbol, price, at_close);
            budget += (bt->cfg.leverage - 1) * (equity > 0 ? equity : 0);
        }
        double add = q1 - (st->qty > 0 ? st->qty : 0); /* new long units */
        /* the exact fit is only worked out when the order does not plainly fit */
        if (add * price + commission(bt, add, price) > budget) {
            double can = affordable(bt, budget, price);
            if (add > can) {
                want -= add - can;
                limited = GT_REJECT_FUNDS;
            }
        }
    } else if (o->side == GT_SELL && q1 < 0) {
        if (!bt->cfg.allow_short) {
            want -= -q1; /* sell down to flat, never below */
            limited = GT_REJECT_NO_SHORT;
        } else {
            double room = equity_at(bt, bar, o->symbol, price, at_close) * bt->cfg.leverage;
            for (int32_t j = 0; j < bt->k; j++)
                if (j != o->symbol)
                    room -= fabs(bt->led.pos[j].qty) *
                            (at_close ? bt->ser[j]->close[bar] : bt->ser[j]->open[bar]);
            double maxshort = units(bt, room > 0 ? room / price : 0);
            if (-q1 > maxshort) {
                want -= -q1 - maxshort;
                limited = GT_REJECT_FUNDS;
            }
        }
    }
    want = units(bt, want);
    if (limited) {
        /* what cash or the no-short rule cut off will not fill later: it is cancelled */
        o->qty = o->filled + (want > 0 ? want : 0);
        o->reject = limited;
    }
    if (want <= 0)
        return 0;
    dq = o->side * want;
    gt_ledger_apply_fill(&bt->led, o, o->symbol, bar, bt->ser[0]->ts[bar], dq, price, commission(bt, want, price));
    return want;
}

/* A target's exit leg, as its entry fills: sized to the whole position (a reversal's
 * order also closed the old side) and, for a distance, priced from the position's average
 * entry. A leg on the same side as the position (or a flat one) has nothing to protect. */
static int exit_leg_arm(gt_bt *bt, gt_order *c)
{
    const gt_ledger_pos *st = &bt->led.pos[c->symbol];
    if (st->qty == 0 || (st->qty > 0) == (c->side == GT_BUY)) {
        c->status = GT_ORDER_CANCELED;
        return 0;
    }
    c->qty = fabs(st->qty);
    if (!isnan(c->exit_pct)) {
        int lng = st->qty > 0;
        if (c->type == GT_ORDER_STOP)
            c->stop = st->avg * (lng ? 1 - c->exit_pct : 1 + c->exit_pct);
        else
            c->limit = st->avg * (lng ? 1 + c->exit_pct : 1 - c->exit_pct);
    }
    return 1;
}

static void activate_children(gt_bt *bt, gt_order *entry, int64_t bar)
{
    for (int64_t r = 0; r < bt->led.nwork; r++) {
        gt_order *c = &bt->led.orders[bt->led.work[r]];
        if (c->parent == entry->id && c->status == GT_ORDER_PENDING) {
            c->status = GT_ORDER_OPEN;
            c->qty = entry->filled;
            if (c->origin == 2 && !exit_leg_arm(bt, c))
                continue;
            c->created_bar = bar;
            c->active_bar = 1; /* it was not working at this bar's open */
        }
    }
}

/* Settles a fill's consequences: status, bracket children, one-cancels-other. */
static void after_fill(gt_bt *bt, gt_order *o, int64_t bar)
{
    if (o->filled >= o->qty - 1e-9) {
        o->status = GT_ORDER_FILLED;
        activate_children(bt, o, bar);
        gt_order *sib = gt_ledger_find(&bt->led, o->oco);
        if (sib)
            gt_ledger_cancel(&bt->led, sib, GT_ORDER_CANCELED);
    } else {
        o->status = GT_ORDER_PARTIAL;
    }
}

/* The price at which o fills in bar i, or NaN. at_open: o was working at the open (a
 * gap through its price fills at the open). *costly: slippage and spread apply. */
static double match(gt_bt *bt, gt_order *o, int64_t i, int at_open, int *costly)
{
    const gt_series *s = bt->ser[o->symbol];
    int buy = o->side == GT_BUY;
    *costly = 1;
    if (o->type == GT_ORDER_MARKET) /* the common case reads one column, not three */
        return at_open ? s->open[i] : NAN;
    double op = s->open[i], hi = s->high[i], lo = s->low[i];
    switch (o->type) {
    case GT_ORDER_LIMIT:
        *costly = 0;
        if (buy) {
            if (at_open && op <= o->limit)
                return op;
            return lo <= o->limit ? o->limit : NAN;
        }
        if (at_open && op >= o->limit)
            return op;
        return hi >= o->limit ? o->limit : NAN;
    case GT_ORDER_STOP:
    case GT_ORDER_TRAILING_STOP:
        if (buy) {
            if (at_open && op >= o->stop)
                return op;
            return hi >= o->stop ? o->stop : NAN;
        }
        if (at_open && op <= o->stop)
            return op;
        return lo <= o->stop ? o->stop : NAN;
    case GT_ORDER_STOP_LIMIT:
        *costly = 0;
        if (!o->triggered) {
            int gap = at_open && (buy ? op >= o->stop : op <= o->stop);
            int hit = buy ? hi >= o->stop : lo <= o->stop;
            if (!hit)
                return NAN;
            o->triggered = 2; /* 2: triggered in this bar; becomes 1 at the bar's end */
            if (!gap)
                return NAN; /* became a limit inside the bar: works from the next bar */
            if (buy ? op <= o->limit : op >= o->limit)
                return op;
            return (buy ? lo <= o->limit : hi >= o->limit) ? o->limit : NAN;
        }
        if (buy)
            return at_open && op <= o->limit ? op : (lo <= o->limit ? o->limit : NAN);
        return at_open && op >= o->limit ? op : (hi >= o->limit ? o->limit : NAN);
    }
    return NAN;
}

static void trail_update(gt_bt *bt, gt_order *o, int64_t i)
{
    const gt_series *s = bt->ser[o->symbol];
    double best = o->side == GT_SELL ? s->high[i] : s->low[i];
    if (o->side == GT_SELL ? best > o->extreme : best < o->extreme)
        o->extreme = best;
    double d = isnan(o->trail) ? o->extreme * o->trail_pct : o->trail;
    o->stop = o->side == GT_SELL ? o->extreme - d : o->extreme + d;
}

/* GT_SIZE_AT_FILL: a target order's quantity is worked out at its fill, at price px
 * (before costs): the equity after the bar's earlier fills, with this symbol's position
 * closed at px (with costs) and the others at this bar's open, buys floor(|frac| * equity /
 * unit cost) units on the target's side. Exact floor, no rounding slack: backtesting.py's
 * rule. Returns 0 (the order cancelled) when the target needs no trade. */
static int size_at_fill(gt_bt *bt, gt_order *o, int64_t bar, double px)
{
    const gt_ledger_pos *st = &bt->led.pos[o->symbol];
    int dir = o->frac > 0 ? 1 : o->frac < 0 ? -1 : 0;
    double equity = bt->led.cash;
    for (int32_t j = 0; j < bt->k; j++)
        if (j != o->symbol && bt->led.pos[j].qty != 0)
            equity += bt->led.pos[j].qty * bt->ser[j]->open[bar];
    if (st->qty != 0) {
        double pc = cost_adjust(bt, st->qty > 0 ? GT_SELL : GT_BUY, px);
        equity += st->qty * pc - commission(bt, st->qty, pc);
    }
    double want = 0;
    if (dir != 0 && equity > 0) {
        double pe = cost_adjust(bt, dir > 0 ? GT_BUY : GT_SELL, px);
        double budget = fabs(o->frac) * equity, c = bt->cfg.commission;
        double q = bt->cfg.comm_kind == GT_COMM_PER_SHARE ? budget / (pe + c)
                   : bt->cfg.comm_kind == GT_COMM_FIXED   ? (budget - c) / pe
                                                          : budget / (pe * (1 + c));
        want = !(q > 0) ? 0 : bt->cfg.fractional ? q : floor(q);
        want *= dir;
    }
    double delta = want - st->qty;
    if (delta == 0 || !isfinite(delta)) {
        gt_ledger_cancel(&bt->led, o, GT_ORDER_CANCELED);
        return 0;
    }
    o->side = delta > 0 ? GT_BUY : GT_SELL;
    o->qty = o->filled + fabs(delta);
    return 1;
}

/* One pass over the working orders for bar i. Children activated by an entry's fill in
 * this bar are matched in the same bar, without the open-gap rule. Within a bar, stop
 * orders are matched before limits, so when a bracket's two legs could both fill the
 * stop-loss wins (the conservative assumption). */
static void process_orders(gt_bt *bt, int64_t i)
{
    for (int pass = 0; pass < 2; pass++) {
        for (int64_t r = 0; r < bt->led.nwork; r++) {
            gt_order *o = &bt->led.orders[bt->led.work[r]];
            if (o->status != GT_ORDER_OPEN && o->status != GT_ORDER_PARTIAL)
                continue;
            if (o->created_bar >= i && !o->active_bar)
                continue; /* decided at this bar's close or later */
            int is_stop = o->type == GT_ORDER_STOP || o->type == GT_ORDER_TRAILING_STOP ||
                          (o->type == GT_ORDER_STOP_LIMIT && !o->triggered);
            if ((pass == 0) != is_stop && o->type != GT_ORDER_MARKET)
                continue;
            if (pass == 1 && o->triggered == 2)
                continue; /* a stop-limit triggered in this bar had its chance in pass 0 */
            if (pass == 1 && o->type == GT_ORDER_MARKET)
                continue;
            int costly;
            double px = match(bt, o, i, !o->active_bar, &costly);
            if (!isnan(px) && o->origin == 1 && !isnan(o->frac) && o->filled == 0 &&
                !size_at_fill(bt, o, i, px))
                continue;
            if (!isnan(px)) {
                double got = execute(bt, o, i, o->qty - o->filled, px, costly, 0);
                if (got > 0)
                    after_fill(bt, o, i);
                else if (o->reject) /* cut to nothing by cash or the no-short rule */
                    o->status = o->filled > 0 ? GT_ORDER_FILLED : GT_ORDER_REJECTED;
            }
        }
    }
    for (int64_t r = 0; r < bt->led.nwork; r++) {
        gt_order *o = &bt->led.orders[bt->led.work[r]];
        if (!gt_order_working(o) || o->status == GT_ORDER_PENDING)
            continue;
        if (o->type == GT_ORDER_TRAILING_STOP)
            trail_update(bt, o, i);
        if (o->triggered == 2)
            o->triggered = 1;
        /* a day order lives through the first bar it can fill in */
        if (o->tif == GT_TIF_DAY && (o->created_bar < i || o->active_bar))
            gt_ledger_cancel(&bt->led, o, GT_ORDER_EXPIRED);
        o->active_bar = 0;
    }
    gt_ledger_compact_work(&bt->led);
}

int gt_bt_begin_bar(gt_bt *bt, int64_t bar)
{
    if (bar < 0 || bar >= bt->n)
        return gt_seterr(GT_ERANGE, "backtest: bar %lld outside 0..%lld", (long long)bar,
                         (long long)bt->n - 1);
    if (bar <= bt->bar)
        return gt_seterr(GT_ESTATE, "backtest: bar %lld already processed", (long long)bar);
    /* bars skipped over carry the last equity forward */
    for (int64_t i = bt->marked + 1; i < bar; i++) {
        bt->equity[i] = mark_equity(bt, i);
        bt->marked = i;
    }
    bt->bar = bar;
    bt->in_bar = 1;
    if (bt->led.nwork > 0)
        process_orders(bt, bar);
    return GT_OK;
}

int gt_bt_end_bar(gt_bt *bt, int64_t bar)
{
    if (bar != bt->bar || !bt->in_bar)
        return gt_seterr(GT_ESTATE, "backtest: end_bar(%lld) without begin_bar", (long long)bar);
    int held = 0;
    double e = bt->led.cash;
    for (int32_t j = 0; j < bt->k; j++) {
        double q = bt->led.pos[j].qty;
        if (q != 0) {
            e += q * bt->ser[j]->close[bar];
            held = 1;
        }
    }
    bt->equity[bar] = e;
    bt->in_market[bar] = (uint8_t)held;
    bt->marked = bar;
    bt->in_bar = 0;
    return GT_OK;
}

static int check_price(double p)
{
    return isfinite(p) && p > 0;
}

static int64_t new_order(gt_bt *bt, const gt_order *req, int32_t status)
{
    gt_order *o = gt_ledger_new_order(&bt->led);
    if (!o)
        return GT_ENOMEM;
    o->symbol = req->symbol;
    o->side = req->side;
    o->type = req->type;
    o->tif = req->tif;
    o->qty = req->qty;
    o->limit = req->limit;
    o->stop = req->stop;
    o->trail = req->trail;
    o->trail_pct = req->trail_pct;
    o->origin = req->origin;
    o->frac = req->origin == 1 ? req->frac : NAN;
    o->exit_pct = req->origin == 2 ? req->exit_pct : NAN;
    o->created_bar = bt->bar;
    o->filled_bar = -1;
    o->status = status;
    o->extreme = NAN;
    /* validation: a rejected order is kept, with its reason */
    if (!isfinite(o->qty) || o->qty <= 0 || (!bt->cfg.fractional && o->qty != floor(o->qty)))
        o->reject = GT_REJECT_BAD_QTY;
    else if ((o->type == GT_ORDER_LIMIT || o->type == GT_ORDER_STOP_LIMIT) && !check_price(o->limit))
        o->reject = GT_REJECT_BAD_PRICE;
    else if ((o->type == GT_ORDER_STOP || o->type == GT_ORDER_STOP_LIMIT) && !check_price(o->stop))
        o->reject = GT_REJECT_BAD_PRICE;
    else if (o->type == GT_ORDER_TRAILING_STOP && !check_price(o->trail) && !(o->trail_pct > 0 && o->trail_pct < 1))
        o->reject = GT_REJECT_BAD_PRICE;
    if (o->reject) {
        o->status = GT_ORDER_REJECTED;
        return o->id;
    }
    if (o->type == GT_ORDER_TRAILING_STOP) {
        if (!check_price(o->trail))
            o->trail = NAN;
        o->extreme = bt->ser[o->symbol]->close[bt->bar];
        double d = isnan(o->trail) ? o->extreme * o->trail_pct : o->trail;
        o->stop = o->side == GT_SELL ? o->extreme - d : o->extreme + d;
    }
    if (gt_ledger_add_work(&bt->led, o->id - 1))
        return GT_ENOMEM;
    return o->id;
}

/* In close mode a market order fills at once, at the decision bar's close. */
static void fill_at_close(gt_bt *bt, gt_order *o)
{
    double px = bt->ser[o->symbol]->close[bt->bar];
    if (o->origin == 1 && !isnan(o->frac) && !size_at_fill(bt, o, bt->bar, px)) {
        gt_ledger_compact_work(&bt->led);
        return;
    }
    double got = execute(bt, o, bt->bar, o->qty, px, 1, 1);
    if (got > 0) {
        after_fill(bt, o, bt->bar);
    } else if (o->reject || o->filled == 0) {
        /* nothing could fill at the close (cash, shorting, or a zero-volume bar) */
        o->status = o->filled > 0 ? GT_ORDER_FILLED : GT_ORDER_REJECTED;
        if (!o->reject)
            o->reject = GT_REJECT_FUNDS;
    }
    gt_ledger_compact_work(&bt->led);
}

static int check_submit(gt_bt *bt, const gt_order *req)
{
    if (!req)
        return gt_seterr(GT_EINVAL, "backtest: NULL order");
    if (bt->bar < 0 || !bt->in_bar)
        return gt_seterr(GT_ESTATE, "backtest: orders are submitted between begin_bar and end_bar");
    if (req->symbol < 0 || req->symbol >= bt->k)
        return gt_seterr(GT_EINVAL, "backtest: no symbol %lld", (long long)req->symbol);
    if (req->side != GT_BUY && req->side != GT_SELL)
        return gt_seterr(GT_EINVAL, "backtest: side must be buy or sell");
    if (req->type < GT_ORDER_MARKET || req->type > GT_ORDER_TRAILING_STOP)
        return gt_seterr(GT_EINVAL, "backtest: unknown order type %d", req->type);
    if (req->tif != GT_TIF_GTC && req->tif != GT_TIF_DAY)
        return gt_seterr(GT_EINVAL, "backtest: time in force is day or gtc");
    return GT_OK;
}

int64_t gt_bt_submit(gt_bt *bt, const gt_order *req)
{
    int rc = check_submit(bt, req);
    if (rc)
        return rc;
    int64_t id = new_order(bt, req, GT_ORDER_OPEN);
    if (id < 0)
        return id;
    gt_order *o = gt_ledger_find(&bt->led, id);
    if (o->status == GT_ORDER_OPEN && o->side == GT_SELL && !bt->cfg.allow_short &&
        bt->led.pos[o->symbol].qty <= 0) {
        o->status = GT_ORDER_REJECTED;
        o->reject = GT_REJECT_NO_SHORT;
    }
    if (o->status == GT_ORDER_OPEN && o->type == GT_ORDER_MARKET &&
        bt->cfg.fill_mode == GT_FILL_CLOSE)
        fill_at_close(bt, o);
    gt_ledger_compact_work(&bt->led);
    return id;
}

int64_t gt_bt_bracket(gt_bt *bt, const gt_order *entry, double take_profit, double stop_loss)
{
    int rc = check_submit(bt, entry);
    if (rc)
        return rc;
    if (entry->type != GT_ORDER_MARKET && entry->type != GT_ORDER_LIMIT)
        return gt_seterr(GT_EINVAL, "backtest: a bracket entry is a market or limit order");
    if ((!isnan(take_profit) && !check_price(take_profit)) ||
        (!isnan(stop_loss) && !check_price(stop_loss)))
        return gt_seterr(GT_EINVAL, "backtest: bracket prices must be positive");
    int64_t id = new_order(bt, entry, GT_ORDER_OPEN);
    if (id < 0 || gt_ledger_find(&bt->led, id)->status == GT_ORDER_REJECTED)
        return id;
    gt_order leg = {0};
    leg.symbol = entry->symbol;
    leg.side = -entry->side;
    leg.qty = entry->qty;
    leg.tif = GT_TIF_GTC;
    leg.limit = leg.stop = leg.trail = leg.trail_pct = NAN;
    int64_t sl = 0, tp = 0;
    if (!isnan(stop_loss)) { /* created first: matched first when both could fill */
        leg.type = GT_ORDER_STOP;
        leg.stop = stop_loss;
        sl = new_order(bt, &leg, GT_ORDER_PENDING);
        if (sl < 0)
            return sl;
        leg.stop = NAN;
    }
    if (!isnan(take_profit)) {
        leg.type = GT_ORDER_LIMIT;
        leg.limit = take_profit;
        tp = new_order(bt, &leg, GT_ORDER_PENDING);
        if (tp < 0)
            return tp;
    }
    gt_order *e = gt_ledger_find(&bt->led, id);
    if (sl) {
        gt_ledger_find(&bt->led, sl)->parent = id;
        gt_ledger_find(&bt->led, sl)->oco = tp;
    }
    if (tp) {
        gt_ledger_find(&bt->led, tp)->parent = id;
        gt_ledger_find(&bt->led, tp)->oco = sl;
    }
    if (e->type == GT_ORDER_MARKET && bt->cfg.fill_mode == GT_FILL_CLOSE) {
        fill_at_close(bt, e);
        /* children became active at this close: they work from the next bar */
        for (int64_t r = 0; r < bt->led.nwork; r++)
            bt->led.orders[bt->led.work[r]].active_bar = 0;
    }
    return id;
}

int gt_bt_cancel(gt_bt *bt, int64_t id)
{
    gt_order *o = gt_ledger_find(&bt->led, id);
    if (!o)
        return gt_seterr(GT_ENOTFOUND, "backtest: no order %lld", (long long)id);
    if (!gt_order_working(o))
        return gt_seterr(GT_ESTATE, "backtest: order %lld is no longer working", (long long)id);
    gt_ledger_cancel(&bt->led, o, GT_ORDER_CANCELED);
    gt_ledger_compact_work(&bt->led);
    return GT_OK;
}

int gt_bt_replace(gt_bt *bt, int64_t id, double qty, double limit, double stop)
{
    gt_order *o = gt_ledger_find(&bt->led, id);
    if (!o)
        return gt_seterr(GT_ENOTFOUND, "backtest: no order %lld", (long long)id);
    if (!gt_order_working(o))
        return gt_seterr(GT_ESTATE, "backtest: order %lld is no longer working", (long long)id);
    if (!isnan(qty) && (!(qty > o->filled) || !isfinite(qty)))
        return gt_seterr(GT_EINVAL, "backtest: new qty must exceed the %g already filled", o->filled);
    if ((!isnan(limit) && !check_price(limit)) || (!isnan(stop) && !check_price(stop)))
        return gt_seterr(GT_EINVAL, "backtest: prices must be positive");
    if (!isnan(qty))
        o->qty = units(bt, qty);
    if (!isnan(limit))
        o->limit = limit;
    if (!isnan(stop))
        o->stop = stop;
    return GT_OK;
}

/* The exit legs of a target order: a stop and a take-profit, one cancelling the other,
 * pending until the entry fills (exit_leg_arm then sizes and prices them). */
static int add_exit_legs(gt_bt *bt, gt_order *entry, int dir, double stop, double take)
{
    double spct = bt->cfg.stop_pct, tpct = bt->cfg.take_pct;
    int want_stop = !isnan(stop) || spct > 0, want_take = !isnan(take) || tpct > 0;
    if (!want_stop && !want_take)
        return GT_OK;
    double ref = bt->ser[entry->symbol]->close[bt->bar]; /* provisional until the fill */
    gt_order leg = {0};
    leg.symbol = entry->symbol;
    leg.side = -dir;
    leg.qty = entry->qty;
    leg.tif = GT_TIF_GTC;
    leg.limit = leg.stop = leg.trail = leg.trail_pct = NAN;
    leg.origin = 2;
    int64_t sl = 0, tp = 0, eid = entry->id;
    if (want_stop) { /* created first: matched first when both could fill */
        leg.type = GT_ORDER_STOP;
        leg.exit_pct = isnan(stop) ? spct : NAN;
        leg.stop = isnan(stop) ? ref * (dir > 0 ? 1 - spct : 1 + spct) : stop;
        if ((sl = new_order(bt, &leg, GT_ORDER_PENDING)) < 0)
            return (int)sl;
        leg.stop = NAN;
    }
    if (want_take) {
        leg.type = GT_ORDER_LIMIT;
        leg.exit_pct = isnan(take) ? tpct : NAN;
        leg.limit = isnan(take) ? ref * (dir > 0 ? 1 + tpct : 1 - tpct) : take;
        if ((tp = new_order(bt, &leg, GT_ORDER_PENDING)) < 0)
            return (int)tp;
    }
    if (sl) {
        gt_ledger_find(&bt->led, sl)->parent = eid;
        gt_ledger_find(&bt->led, sl)->oco = tp;
    }
    if (tp) {
        gt_ledger_find(&bt->led, tp)->parent = eid;
        gt_ledger_find(&bt->led, tp)->oco = sl;
    }
    return GT_OK;
}

int64_t gt_bt_target(gt_bt *bt, int64_t symbol, double fraction, int32_t rebalance)
{
    return gt_bt_target_exits(bt, symbol, fraction, rebalance, NAN, NAN);
}

int64_t gt_bt_target_exits(gt_bt *bt, int64_t symbol, double fraction, int32_t rebalance,
                           double stop, double take)
{
    if (symbol < 0 || symbol >= bt->k)
        return gt_seterr(GT_EINVAL, "backtest: no symbol %lld", (long long)symbol);
    if (!isfinite(fraction) || fabs(fraction) > GT_BT_MAX_TARGET)
        return gt_seterr(GT_EINVAL, "backtest: target %g is not a fraction of equity in [-%g, %g]",
                         fraction, GT_BT_MAX_TARGET, GT_BT_MAX_TARGET);
    if ((!isnan(stop) && !check_price(stop)) || (!isnan(take) && !check_price(take)))
        return gt_seterr(GT_EINVAL, "backtest: exit prices must be positive and finite (stop %g, take %g)",
                         stop, take);
    if (bt->bar < 0 || !bt->in_bar)
        return gt_seterr(GT_ESTATE, "backtest: orders are submitted between begin_bar and end_bar");
    gt_ledger_pos *st = &bt->led.pos[symbol];
    int dir = fraction > 0 ? 1 : fraction < 0 ? -1 : 0;
    int cur = st->qty > 0 ? 1 : st->qty < 0 ? -1 : 0;
    if (!rebalance && dir == cur)
        return 0;
    if (dir < 0 && !bt->cfg.allow_short) {
        if (cur == 0)
            return 0;
        dir = 0; /* shorting is off: a short signal only closes the long */
        fraction = 0;
    }
    /* earlier target orders for this symbol that have not filled are replaced; a change of
     * direction also retires the exit legs that protected the old side */
    if (bt->led.nwork > 0) {
        for (int64_t r = 0; r < bt->led.nwork; r++) {
            gt_order *o = &bt->led.orders[bt->led.work[r]];
            if (o->symbol == symbol && (o->origin == 1 || (o->origin == 2 && dir != cur)))
                o->status = GT_ORDER_CANCELED;
        }
        gt_ledger_compact_work(&bt->led);
    }
    double price = bt->ser[symbol]->close[bt->bar];
    double want = 0;
    if (dir != 0) {
        /* size from equity after closing the current position, net of costs */
        double equity = mark_equity(bt, bt->bar);
        double pexec = cost_adjust(bt, dir > 0 ? GT_BUY : GT_SELL, price);
        double keep = dir == cur ? 0 : st->qty; /* a reversal first closes the old side */
        double budget = fabs(fraction) * equity;
        if (keep != 0)
            budget -= commission(bt, keep, pexec);
        if (dir > 0)
            want = affordable(bt, budget, pexec);
        else
            want = units(bt, budget / (pexec * (1 + (bt->cfg.comm_kind == GT_COMM_PCT ? bt->cfg.commission : 0))));
        want *= dir;
    }
    double delta = want - st->qty;
    if (!bt->cfg.fractional)
        delta = delta > 0 ? floor(delta + 1e-9) : -floor(-delta + 1e-9);
    if (delta == 0)
        return 0;
    gt_order req = {0};
    req.symbol = symbol;
    req.side = delta > 0 ? GT_BUY : GT_SELL;
    req.type = GT_ORDER_MARKET;
    req.qty = fabs(delta);
    req.tif = GT_TIF_GTC;
    req.limit = req.stop = req.trail = req.trail_pct = NAN;
    req.origin = 1;
    req.frac = bt->cfg.size_at == GT_SIZE_AT_FILL ? dir * fabs(fraction) : NAN;
    int64_t id = new_order(bt, &req, GT_ORDER_OPEN);
    if (id < 0)
        return id;
    gt_order *o = gt_ledger_find(&bt->led, id);
    if (o->status != GT_ORDER_REJECTED && dir != 0 && dir != cur) {
        int rc = add_exit_legs(bt, o, dir, stop, take);
        if (rc < 0)
            return rc;
        o = gt_ledger_find(&bt->led, id); /* the orders array may have moved */
    }
    if (bt->cfg.fill_mode == GT_FILL_CLOSE) {
        fill_at_close(bt, o);
        /* legs armed at this close work from the next bar, with the open-gap rule */
        for (int64_t r = 0; r < bt->led.nwork; r++)
            bt->led.orders[bt->led.work[r]].active_bar = 0;
    }
    return id;
}

int gt_bt_set_exits(gt_bt *bt, int64_t symbol, const double *stop, const double *take)
{
    if (symbol < 0 || symbol >= bt->k)
        return gt_seterr(GT_EINVAL, "backtest: no symbol %lld", (long long)symbol);
    bt->exit_stop[symbol] = stop;
    bt->exit_take[symbol] = take;
    return GT_OK;
}

/* Bars i0..i1-1 of the vectorised loop. Always inlined and called with k == 1 as a
 * constant for the common single-symbol case, so the compiler drops the per-symbol loops.
 * A bar with no working order and no decision (most of them) is a NaN test and one
 * multiply-add; cash and positions live in locals, reloaded after any ledger call. */
static inline __attribute__((always_inline)) int
run_block(gt_bt *bt, const double *const *targets, double scale, int64_t start, int64_t i0,
          int64_t i1, int32_t rebalance, int32_t k, double *cash, double *q0)
{
    const double *t0 = targets[0], *close0 = bt->ser[0]->close;
    double *eq = bt->equity;
    uint8_t *im = bt->in_market;
    for (int64_t i = i0; i < i1; i++) {
        int decide = 0;
        if (i >= start) {
            decide = t0[i] == t0[i]; /* not NaN */
            for (int32_t j = 1; j < k; j++)
                decide |= targets[j][i] == targets[j][i];
        }
        if (decide || bt->led.nwork > 0) {
            bt->bar = i;
            bt->marked = i - 1;
            bt->in_bar = 1;
            if (bt->led.nwork > 0)
                process_orders(bt, i);
            for (int32_t j = 0; decide && j < k; j++) {
                double t = targets[j][i];
                if (t == t) {
                    const double *xs = bt->exit_stop[j], *xt = bt->exit_take[j];
                    int64_t id = gt_bt_target_exits(bt, j, t * scale, rebalance,
                                                    xs ? xs[i] : NAN, xt ? xt[i] : NAN);
                    if (id < 0) {
                        bt->in_bar = 0;
                        return (int)id;
                    }
                }
            }
            bt->in_bar = 0;
            *cash = bt->led.cash;
            *q0 = bt->led.pos[0].qty;
        }
        double e = *cash + *q0 * close0[i];
        uint8_t held = *q0 != 0;
        for (int32_t j = 1; j < k; j++) {
            double q = bt->led.pos[j].qty;
            if (q != 0) {
                e += q * bt->ser[j]->close[i];
                held = 1;
            }
        }
        eq[i] = e;
        im[i] = held;
    }
    return GT_OK;
}

int gt_bt_run_targets(gt_bt *bt, const double *const *targets, double scale, int64_t start,
                      int64_t end, int32_t rebalance)
{
    if (start < 0 || end > bt->n || start > end)
        return gt_seterr(GT_ERANGE, "backtest: run range %lld..%lld outside 0..%lld",
                         (long long)start, (long long)end, (long long)bt->n);
    if (bt->in_bar)
        return gt_seterr(GT_ESTATE, "backtest: run_targets inside an open bar");
    const int32_t k = bt->k;
    /* Decisions bound the orders, fills and trades to come: reserve once rather than grow
     * (and copy, and fault in) the record arrays inside the loop. */
    int64_t decisions = 0;
    for (int32_t j = 0; j < k; j++)
        for (int64_t i = start; i < end; i++)
            decisions += targets[j][i] == targets[j][i];
    if (gt_ledger_reserve(&bt->led, decisions, decisions, decisions + k))
        return GT_ENOMEM;
    double cash = bt->led.cash, q0 = bt->led.pos[0].qty;
    /* blocks of 64k bars: the interrupt flag is polled between blocks, not per bar */
    for (int64_t i0 = bt->marked + 1; i0 < end; i0 += 65536) {
        int64_t i1 = GT_MIN(end, i0 + 65536);
        int rc = k == 1 ? run_block(bt, targets, scale, start, i0, i1, rebalance, 1, &cash, &q0)
                        : run_block(bt, targets, scale, start, i0, i1, rebalance, k, &cash, &q0);
        if (rc < 0)
            return rc;
        if (gt_interrupted) {
            bt->bar = bt->marked = i1 - 1;
            return gt_seterr(GT_EINTR, "backtest: interrupted at bar %lld", (long long)(i1 - 1));
        }
    }
    if (end > 0 && bt->marked < end - 1)
        bt->bar = bt->marked = end - 1;
    return GT_OK;
}

int gt_bt_finish(gt_bt *bt)
{
    if (bt->marked < 0)
        return GT_OK;
    int64_t last = bt->marked;
    for (int64_t r = 0; r < bt->led.nwork; r++)
        gt_ledger_cancel(&bt->led, &bt->led.orders[bt->led.work[r]], GT_ORDER_CANCELED);
    gt_ledger_compact_work(&bt->led);
    for (int32_t j = 0; j < bt->k; j++) {
        double q = bt->led.pos[j].qty;
        if (q == 0)
            continue;
        int side = q > 0 ? GT_SELL : GT_BUY;
        const double *ref = bt->cfg.end_price == GT_END_OPEN ? bt->ser[j]->open : bt->ser[j]->close;
        double px = cost_adjust(bt, side, ref[last]);
        int rc = gt_ledger_apply_fill(&bt->led, NULL, j, last, bt->ser[0]->ts[last], -q, px, commission(bt, q, px));
        if (rc)
            return rc;
    }
    bt->equity[last] = mark_equity(bt, last);
    return GT_OK;
}

const double *gt_bt_qty(const gt_bt *bt)
{
    /* qty is the first member of gt_ledger_pos; callers index it with the stride below */
    return &bt->led.pos[0].qty;
}

int64_t gt_bt_qty_stride(void)
{
    return (int64_t)(sizeof(gt_ledger_pos) / sizeof(double));
}

double gt_bt_cash(const gt_bt *bt)
{
    return bt->led.cash;
}

double gt_bt_equity_now(const gt_bt *bt)
{
    return bt->marked >= 0 ? bt->equity[bt->marked] : bt->cfg.capital;
}

int gt_bt_position(const gt_bt *bt, int64_t symbol, gt_position *out)
{
    if (symbol < 0 || symbol >= bt->k)
        return gt_seterr(GT_EINVAL, "backtest: no symbol %lld", (long long)symbol);
    const gt_ledger_pos *st = &bt->led.pos[symbol];
    int64_t bar = bt->bar >= 0 ? bt->bar : bt->marked;
    double avg = st->qty != 0 ? st->avg : 0;
    double upl = st->qty != 0 && bar >= 0 ? st->qty * (bt->ser[symbol]->close[bar] - avg) : 0;
    int64_t entry = st->trade >= 0 ? bt->led.trades[st->trade].entry_bar : -1;
    *out = (gt_position){st->qty, avg, st->realized, st->fees, upl, entry};
    return GT_OK;
}

int64_t gt_bt_equity(const gt_bt *bt, const double **out)
{
    *out = bt->equity;
    return bt->marked + 1;
}

int64_t gt_bt_in_market(const gt_bt *bt, const uint8_t **out)
{
    *out = bt->in_market;
    return bt->marked + 1;
}

int64_t gt_bt_trades(const gt_bt *bt, const gt_trade **out)
{
    *out = bt->led.trades;
    return bt->led.ntrades;
}

int64_t gt_bt_orders(const gt_bt *bt, const gt_order **out)
{
    *out = bt->led.orders;
    return bt->led.norders;
}

int64_t gt_bt_fills(const gt_bt *bt, const gt_fill **out)
{
    *out = bt->led.fills;
    return bt->led.nfills;
}

const gt_order *gt_bt_order(const gt_bt *bt, int64_t id)
{
    return id >= 1 && id <= bt->led.norders ? &bt->led.orders[id - 1] : NULL;
}

gt_ledger *gt_bt_ledger(gt_bt *bt)
{
    return &bt->led;
}

int gt_bt_resume_at(gt_bt *bt, int64_t bar)
{
    if (bar < 0 || bar >= bt->n)
        return gt_seterr(GT_ERANGE, "backtest: resume bar %lld outside 0..%lld", (long long)bar,
                         (long long)bt->n - 1);
    if (bt->in_bar || bt->marked >= 0)
        return gt_seterr(GT_ESTATE, "backtest: resume only a backtest that has not run");
    for (int64_t i = 0; i < bar; i++)
        bt->equity[i] = NAN; /* not in the snapshot: the books, not their history */
    bt->equity[bar] = mark_equity(bt, bar);
    for (int32_t j = 0; j < bt->k; j++)
        if (bt->led.pos[j].qty != 0)
            bt->in_market[bar] = 1;
    bt->bar = bt->marked = bar;
    return GT_OK;
}

double gt_bt_max_capital(void)
{
    return GT_BT_MAX_CAPITAL;
}

const char *gt_bt_reject_text(int32_t reason)
{
    switch (reason) {
    case GT_REJECT_NONE:
        return "";
    case GT_REJECT_FUNDS:
        return "not enough cash or buying power";
    case GT_REJECT_NO_SHORT:
        return "shorting is off";
    case GT_REJECT_BAD_PRICE:
        return "limit, stop or trail price missing or not positive";
    case GT_REJECT_BAD_QTY:
        return "quantity must be positive (and whole unless fractional units are on)";
    }
    return "unknown reason";
}
