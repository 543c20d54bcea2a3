/*
 * sim.c: the simulated broker. It matches working orders against one bar's OHLCV per
 * symbol, handed in by the caller (gt_sim.bars), and books the fills in a ledger: market,
 * limit, stop, stop-limit and trailing stops, brackets and a target's exit legs, costs
 * (commission, slippage, spread), the volume cap, cash and margin limits. It reads no
 * series: the backtest driver hands it the bar it is processing, a paper session the bar
 * its feed just delivered. See sim.h for the fill rules.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gt_sim_init(gt_sim *sim, const gt_bt_config *cfg, gt_ledger *led, int32_t k)
{
    memset(sim, 0, sizeof *sim);
    sim->cfg = *cfg;
    double f = (cfg->slippage_bps + cfg->spread_bps / 2) / 1e4;
    sim->buy_f = 1 + f;
    sim->sell_f = 1 - f;
    sim->led = led;
    sim->k = k;
    sim->bar = -1;
}

/* ---- costs ---- */

double gt_sim_commission(const gt_sim *sim, double qty, double price)
{
    double q = fabs(qty), c;
    switch (sim->cfg.comm_kind) {
    case GT_COMM_PER_SHARE:
        c = q * sim->cfg.commission;
        break;
    case GT_COMM_FIXED:
        return q > 0 ? sim->cfg.commission : 0;
    default:
        c = q * price * sim->cfg.commission;
    }
    return q > 0 && c < sim->cfg.commission_min ? sim->cfg.commission_min : c;
}

/* Market and stop fills move against the order by slippage plus half the spread. */
double gt_sim_cost_adjust(const gt_sim *sim, int side, double price)
{
    return price * (side == GT_BUY ? sim->buy_f : sim->sell_f);
}

/* Whole units: a truncating conversion is floor for the non-negative quantities used
 * here, and avoids a libm call on every order in a portable (baseline x86-64) build. */
double gt_sim_units(const gt_sim *sim, double q)
{
    if (sim->cfg.fractional)
        return q;
    q += 1e-9;
    return q > 0 && q < 9e15 ? (double)(int64_t)q : floor(q);
}

/* Largest quantity of a buy at price whose cost (with commission) fits in budget. */
double gt_sim_affordable(const gt_sim *sim, double budget, double price)
{
    if (budget <= 0 || !(price > 0))
        return 0;
    double q;
    switch (sim->cfg.comm_kind) {
    case GT_COMM_PER_SHARE:
        q = budget / (price + sim->cfg.commission);
        if (q * sim->cfg.commission < sim->cfg.commission_min)
            q = (budget - sim->cfg.commission_min) / price;
        break;
    case GT_COMM_FIXED:
        q = (budget - sim->cfg.commission) / price;
        break;
    default:
        q = budget / (price * (1 + sim->cfg.commission));
        if (q * price * sim->cfg.commission < sim->cfg.commission_min)
            q = (budget - sim->cfg.commission_min) / price;
    }
    q = gt_sim_units(sim, q > 0 && isfinite(q) ? q : 0);
    /* Guard the floating-point edge: the cost must really fit. The closed form above is off
     * by rounding only, so a few steps settle it; each step removes at least one unit or a
     * 1e-12 share, and the count is bounded, so this ends for any finite input (a quantity
     * beyond 2^53 cannot step down by one unit, hence the relative step). */
    for (int step = 0; q > 0 && q * price + gt_sim_commission(sim, q, price) > budget * (1 + 1e-12); step++) {
        if (step == 64)
            return 0;
        double down = q * 1e-12;
        q = sim->cfg.fractional ? q - down : floor(q - (down > 1 ? down : 1));
    }
    return q;
}

static double equity_at(const gt_sim *sim, int64_t sym, double px, int at_close)
{
    double e = sim->led->cash;
    for (int32_t j = 0; j < sim->k; j++)
        if (sim->led->pos[j].qty != 0)
            e += sim->led->pos[j].qty * (j == sym ? px : at_close ? sim->bars[j].close : sim->bars[j].open);
    return e;
}

/* Fills up to want units of o at price (before costs for market/stop). Clips buys to the
 * cash or buying power available and sells that open or grow a short to the allowed
 * exposure. Returns the units filled (0 when none could be). */
static double execute(gt_sim *sim, gt_order *o, int64_t bar, double want, double price, int costly,
                      int at_close)
{
    const gt_bar *s = &sim->bars[o->symbol];
    gt_ledger_pos *st = &sim->led->pos[o->symbol];
    if (sim->cfg.volume_cap > 0) {
        double cap = gt_sim_units(sim, sim->cfg.volume_cap * s->volume);
        if (want > cap)
            want = cap;
    }
    if (o->origin == 2) { /* a target's exit leg only ever reduces the position */
        double room = o->side == GT_SELL ? (st->qty > 0 ? st->qty : 0) : (st->qty < 0 ? -st->qty : 0);
        if (want > room)
            want = room;
        if (!(want > 0)) {
            gt_ledger_cancel(sim->led, o, GT_ORDER_CANCELED);
            return 0;
        }
    }
    if (costly)
        price = gt_sim_cost_adjust(sim, o->side, price);
    int32_t limited = GT_REJECT_NONE;
    double dq = o->side * want;
    double q1 = st->qty + dq;
    if (o->side == GT_BUY && q1 > 0) {
        /* the long part must fit in cash (plus margin when leverage > 1) */
        double cover = st->qty < 0 ? -st->qty : 0;
        double budget = sim->led->cash - cover * price - gt_sim_commission(sim, cover, price);
        if (sim->cfg.leverage > 1) {
            double equity = equity_at(sim, o->symbol, price, at_close);
            budget += (sim->cfg.leverage - 1) * (equity > 0 ? equity : 0);
        }
        double add = q1 - (st->qty > 0 ? st->qty : 0); /* new long units */
        /* the exact fit is only worked out when the order does not plainly fit */
        if (add * price + gt_sim_commission(sim, add, price) > budget) {
            double can = gt_sim_affordable(sim, budget, price);
            if (add > can) {
                want -= add - can;
                limited = GT_REJECT_FUNDS;
            }
        }
    } else if (o->side == GT_SELL && q1 < 0) {
        if (!sim->cfg.allow_short) {
            want -= -q1; /* sell down to flat, never below */
            limited = GT_REJECT_NO_SHORT;
        } else {
            double room = equity_at(sim, o->symbol, price, at_close) * sim->cfg.leverage;
            for (int32_t j = 0; j < sim->k; j++)
                if (j != o->symbol)
                    room -= fabs(sim->led->pos[j].qty) *
                            (at_close ? sim->bars[j].close : sim->bars[j].open);
            double maxshort = gt_sim_units(sim, room > 0 ? room / price : 0);
            if (-q1 > maxshort) {
                want -= -q1 - maxshort;
                limited = GT_REJECT_FUNDS;
            }
        }
    }
    want = gt_sim_units(sim, want);
    if (limited) {
        /* what cash or the no-short rule cut off will not fill later: it is cancelled */
        o->qty = o->filled + (want > 0 ? want : 0);
        o->reject = limited;
    }
    if (want <= 0)
        return 0;
    dq = o->side * want;
    int reduces = st->qty != 0 && (st->qty > 0) != (dq > 0);
    gt_ledger_apply_fill(sim->led, o, o->symbol, bar, sim->bars[0].ts, dq, price, gt_sim_commission(sim, want, price));
    if (sim->risk) {
        gt_risk_on_fill(sim->risk, sim->bars[o->symbol].ts);
        if (reduces && (o->type == GT_ORDER_STOP || o->type == GT_ORDER_TRAILING_STOP))
            gt_risk_on_stopout(sim->risk, sim->bars[o->symbol].ts);
    }
    return want;
}

/* A target's exit leg, as its entry fills: sized to the whole position (a reversal's
 * order also closed the old side) and, for a distance, priced from the position's average
 * entry. A leg on the same side as the position (or a flat one) has nothing to protect. */
static int exit_leg_arm(gt_sim *sim, gt_order *c)
{
    const gt_ledger_pos *st = &sim->led->pos[c->symbol];
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

static void activate_children(gt_sim *sim, gt_order *entry, int64_t bar)
{
    for (int64_t r = 0; r < sim->led->nwork; r++) {
        gt_order *c = &sim->led->orders[sim->led->work[r]];
        if (c->parent == entry->id && c->status == GT_ORDER_PENDING) {
            c->status = GT_ORDER_OPEN;
            c->qty = entry->filled;
            if (c->origin == 2 && !exit_leg_arm(sim, c))
                continue;
            c->created_bar = bar;
            c->active_bar = 1; /* it was not working at this bar's open */
        }
    }
}

/* Settles a fill's consequences: status, bracket children, one-cancels-other. */
static void after_fill(gt_sim *sim, gt_order *o, int64_t bar)
{
    if (o->filled >= o->qty - 1e-9) {
        o->status = GT_ORDER_FILLED;
        activate_children(sim, o, bar);
        gt_order *sib = gt_ledger_find(sim->led, o->oco);
        if (sib)
            gt_ledger_cancel(sim->led, sib, GT_ORDER_CANCELED);
    } else {
        o->status = GT_ORDER_PARTIAL;
    }
}

/* The price at which o fills in bar i, or NaN. at_open: o was working at the open (a
 * gap through its price fills at the open). *costly: slippage and spread apply. */
static double match(gt_sim *sim, gt_order *o, int at_open, int *costly)
{
    const gt_bar *s = &sim->bars[o->symbol];
    int buy = o->side == GT_BUY;
    *costly = 1;
    if (o->type == GT_ORDER_MARKET) /* the common case reads one column, not three */
        return at_open ? s->open : NAN;
    double op = s->open, hi = s->high, lo = s->low;
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

static void trail_update(gt_sim *sim, gt_order *o)
{
    const gt_bar *s = &sim->bars[o->symbol];
    double best = o->side == GT_SELL ? s->high : s->low;
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
static int size_at_fill(gt_sim *sim, gt_order *o, double px)
{
    const gt_ledger_pos *st = &sim->led->pos[o->symbol];
    int dir = o->frac > 0 ? 1 : o->frac < 0 ? -1 : 0;
    double equity = sim->led->cash;
    for (int32_t j = 0; j < sim->k; j++)
        if (j != o->symbol && sim->led->pos[j].qty != 0)
            equity += sim->led->pos[j].qty * sim->bars[j].open;
    if (st->qty != 0) {
        double pc = gt_sim_cost_adjust(sim, st->qty > 0 ? GT_SELL : GT_BUY, px);
        equity += st->qty * pc - gt_sim_commission(sim, st->qty, pc);
    }
    double want = 0;
    if (dir != 0 && equity > 0) {
        double pe = gt_sim_cost_adjust(sim, dir > 0 ? GT_BUY : GT_SELL, px);
        double budget = fabs(o->frac) * equity, c = sim->cfg.commission;
        double q = sim->cfg.comm_kind == GT_COMM_PER_SHARE ? budget / (pe + c)
                   : sim->cfg.comm_kind == GT_COMM_FIXED   ? (budget - c) / pe
                                                          : budget / (pe * (1 + c));
        want = !(q > 0) ? 0 : sim->cfg.fractional ? q : floor(q);
        want *= dir;
    }
    double delta = want - st->qty;
    if (delta == 0 || !isfinite(delta)) {
        gt_ledger_cancel(sim->led, o, GT_ORDER_CANCELED);
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
void gt_sim_process(gt_sim *sim)
{
    int64_t i = sim->bar;
    for (int pass = 0; pass < 2; pass++) {
        for (int64_t r = 0; r < sim->led->nwork; r++) {
            gt_order *o = &sim->led->orders[sim->led->work[r]];
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
            double px = match(sim, o, !o->active_bar, &costly);
            if (!isnan(px) && o->origin == 1 && !isnan(o->frac) && o->filled == 0 &&
                !size_at_fill(sim, o, px))
                continue;
            if (!isnan(px)) {
                double got = execute(sim, o, i, o->qty - o->filled, px, costly, 0);
                if (got > 0)
                    after_fill(sim, o, i);
                else if (o->reject) { /* cut to nothing by cash or the no-short rule */
                    o->status = o->filled > 0 ? GT_ORDER_FILLED : GT_ORDER_REJECTED;
                    if (sim->risk && o->status == GT_ORDER_REJECTED)
                        gt_risk_on_reject(sim->risk, sim->bars[o->symbol].ts);
                }
            }
        }
    }
    for (int64_t r = 0; r < sim->led->nwork; r++) {
        gt_order *o = &sim->led->orders[sim->led->work[r]];
        if (!gt_order_working(o) || o->status == GT_ORDER_PENDING)
            continue;
        if (o->type == GT_ORDER_TRAILING_STOP)
            trail_update(sim, o);
        if (o->triggered == 2)
            o->triggered = 1;
        /* a day order lives through the first bar it can fill in */
        if (o->tif == GT_TIF_DAY && (o->created_bar < i || o->active_bar))
            gt_ledger_cancel(sim->led, o, GT_ORDER_EXPIRED);
        o->active_bar = 0;
    }
    gt_ledger_compact_work(sim->led);
}

int gt_sim_check_price(double p)
{
    return isfinite(p) && p > 0;
}

/* The pre-trade gate for o, decided at the close of sim->bar: what the order asks for, the
 * reference price and clock of that close, and the account as it stands (equity and gross
 * exposure at the closes, working orders that add exposure at their limit or the close). */
static int risk_gate(gt_sim *sim, const gt_order *o)
{
    const gt_ledger *L = sim->led;
    const gt_bar *b = &sim->bars[o->symbol];
    const gt_ledger_pos *st = &L->pos[o->symbol];
    gt_risk_order ro = {0};
    ro.symbol = sim->names ? sim->names[o->symbol] : "";
    ro.side = o->side;
    ro.qty = o->qty;
    ro.price = ro.stop_price = NAN;
    switch (o->type) {
    case GT_ORDER_LIMIT:
        ro.type = GT_RISK_LIMIT;
        ro.price = o->limit;
        break;
    case GT_ORDER_STOP:
    case GT_ORDER_TRAILING_STOP:
        ro.type = GT_RISK_STOP;
        ro.price = o->stop;
        break;
    case GT_ORDER_STOP_LIMIT:
        ro.type = GT_RISK_STOP_LIMIT;
        ro.price = o->limit;
        ro.stop_price = o->stop;
        break;
    default:
        ro.type = GT_RISK_MARKET;
    }
    ro.ref_price = b->close;
    ro.ref_ts = ro.now = b->ts;
    ro.reduces = st->qty != 0 && (st->qty > 0) != (o->side == GT_BUY) && o->qty <= fabs(st->qty) + 1e-9;
    gt_risk_account a = {0};
    a.cash = L->cash;
    a.equity = L->cash;
    a.position_qty = st->qty;
    a.position_price = st->qty != 0 ? st->avg : 0;
    for (int32_t j = 0; j < sim->k; j++) {
        double q = L->pos[j].qty;
        if (q != 0) {
            a.equity += q * sim->bars[j].close;
            a.gross_exposure += fabs(q) * sim->bars[j].close;
            a.n_positions++;
        }
    }
    for (int64_t r = 0; r < L->nwork; r++) {
        const gt_order *w = &L->orders[L->work[r]];
        if (w == o || w->status == GT_ORDER_PENDING)
            continue;
        double q = L->pos[w->symbol].qty;
        int reducing = q != 0 && (q > 0) != (w->side == GT_BUY);
        if (!reducing) {
            double px = gt_sim_check_price(w->limit) ? w->limit : sim->bars[w->symbol].close;
            a.open_exposure += (w->qty - w->filled) * px;
        }
    }
    return gt_risk_check(sim->risk, &ro, &a);
}

int64_t gt_sim_new_order(gt_sim *sim, const gt_order_req *req, int32_t status, int32_t origin)
{
    gt_order *o = gt_ledger_new_order(sim->led);
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
    o->origin = origin;
    o->frac = o->exit_pct = NAN;
    o->created_bar = sim->bar;
    o->filled_bar = -1;
    o->status = status;
    o->extreme = NAN;
    /* validation: a rejected order is kept, with its reason */
    if (!isfinite(o->qty) || o->qty <= 0 || (!sim->cfg.fractional && o->qty != floor(o->qty)))
        o->reject = GT_REJECT_BAD_QTY;
    else if ((o->type == GT_ORDER_LIMIT || o->type == GT_ORDER_STOP_LIMIT) && !gt_sim_check_price(o->limit))
        o->reject = GT_REJECT_BAD_PRICE;
    else if ((o->type == GT_ORDER_STOP || o->type == GT_ORDER_STOP_LIMIT) && !gt_sim_check_price(o->stop))
        o->reject = GT_REJECT_BAD_PRICE;
    else if (o->type == GT_ORDER_TRAILING_STOP && !gt_sim_check_price(o->trail) && !(o->trail_pct > 0 && o->trail_pct < 1))
        o->reject = GT_REJECT_BAD_PRICE;
    if (o->reject) {
        o->status = GT_ORDER_REJECTED;
        return o->id;
    }
    if (o->type == GT_ORDER_TRAILING_STOP) {
        if (!gt_sim_check_price(o->trail))
            o->trail = NAN;
        o->extreme = sim->bars[o->symbol].close;
        double d = isnan(o->trail) ? o->extreme * o->trail_pct : o->trail;
        o->stop = o->side == GT_SELL ? o->extreme - d : o->extreme + d;
    }
    if (sim->risk && (o->risk_rule = risk_gate(sim, o)) != 0) {
        o->status = GT_ORDER_REJECTED;
        o->reject = GT_REJECT_RISK;
        if (gt_ledger_grow((void **)&sim->refusals, &sim->cap_refusals, sim->nrefusals + 1,
                           sizeof *sim->refusals) == GT_OK) {
            gt_refusal *f = &sim->refusals[sim->nrefusals++];
            f->order_id = o->id;
            snprintf(f->reason, sizeof f->reason, "%s", gt_risk_reason(sim->risk));
        }
        sim->risk_refused++;
        return o->id;
    }
    if (gt_ledger_add_work(sim->led, o->id - 1))
        return GT_ENOMEM;
    return o->id;
}

/* In close mode a market order fills at once, at the decision bar's close. */
void gt_sim_fill_at_close(gt_sim *sim, gt_order *o)
{
    if (o->status != GT_ORDER_OPEN) /* refused at the door (validation, risk) */
        return;
    double px = sim->bars[o->symbol].close;
    if (o->origin == 1 && !isnan(o->frac) && !size_at_fill(sim, o, px)) {
        gt_ledger_compact_work(sim->led);
        return;
    }
    double got = execute(sim, o, sim->bar, o->qty, px, 1, 1);
    if (got > 0) {
        after_fill(sim, o, sim->bar);
    } else if (o->reject || o->filled == 0) {
        /* nothing could fill at the close (cash, shorting, or a zero-volume bar) */
        o->status = o->filled > 0 ? GT_ORDER_FILLED : GT_ORDER_REJECTED;
        if (!o->reject)
            o->reject = GT_REJECT_FUNDS;
        if (sim->risk && o->status == GT_ORDER_REJECTED)
            gt_risk_on_reject(sim->risk, sim->bars[o->symbol].ts);
    }
    gt_ledger_compact_work(sim->led);
}
