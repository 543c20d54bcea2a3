/*
 * bt.c: the backtest driver over series loaded up front: the vectorised block loop and
 * event stepping, target sizing and the equity curve, on top of the ledger (ledger.c) and
 * the simulated broker (sim.c), which sees one bar at a time. Per bar the work is
 * proportional to the number of working orders; with none (most bars of a signal
 * strategy) begin_bar is a couple of branches and end_bar one multiply-add per symbol.
 */
#include "bt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ledger.h"
#include "sim.h"
#include "series.h"

struct gt_bt {
    gt_bt_config cfg;
    int32_t k;
    int64_t n;   /* bars in the series when last looked at (gt_bt_new, gt_bt_extend) */
    int64_t cap; /* bars the per-bar arrays (equity, in_market, risk_state) hold */
    const gt_series **ser;
    gt_ledger led; /* cash, positions, orders, fills, trades */
    gt_sim sim;    /* the simulated broker over led */
    gt_bar *bars;  /* the bar being processed, one per symbol, handed to sim */
    int64_t bar;    /* the bar being processed (begin_bar) */
    int64_t marked; /* last bar marked by end_bar, -1 before any */
    int in_bar;     /* between begin_bar and end_bar */
    double *equity;
    uint8_t *in_market;
    uint8_t *risk_state; /* with a gate: its state (enum gt_risk_state) after each bar */
    const double **exit_stop, **exit_take; /* per symbol, per bar exit levels (vector path) */
    /* sizing (gt_bt_set_sizing): targets sized by sizing.c from the trades closed so far */
    gt_sizing_params sizing;
    int sizing_on;
    int32_t min_trades;
    int64_t stat_from;            /* first trade not yet counted (trades close in order) */
    int64_t nstat, nwin, nloss;
    double sum_win, sum_loss;     /* trade returns as fractions */
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
    if (cfg->fill_mode != GT_FILL_NEXT_OPEN && cfg->fill_mode != GT_FILL_CLOSE &&
        cfg->fill_mode != GT_FILL_EXTERNAL) {
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
    bt->k = k;
    bt->n = n;
    bt->cap = n > 0 ? n : 1;
    bt->marked = -1;
    bt->bar = -1;
    bt->ser = calloc((size_t)k, sizeof *bt->ser);
    if (gt_ledger_init(&bt->led, k, cfg->capital))
        goto oom;
    gt_sim_init(&bt->sim, cfg, &bt->led, k);
    bt->bars = calloc((size_t)k, sizeof *bt->bars);
    bt->sim.bars = bt->bars;
    bt->equity = gt_alloc_big((size_t)bt->cap, sizeof(double));
    bt->in_market = gt_calloc_big((size_t)bt->cap, 1);
    bt->exit_stop = calloc((size_t)k, sizeof *bt->exit_stop);
    bt->exit_take = calloc((size_t)k, sizeof *bt->exit_take);
    if (!bt->ser || !bt->bars || !bt->equity || !bt->in_market || !bt->exit_stop || !bt->exit_take)
        goto oom;
    for (int32_t j = 0; j < k; j++)
        bt->ser[j] = series[j];
    return bt;
oom:
    gt_bt_free(bt);
    gt_seterr(GT_ENOMEM, "backtest: out of memory");
    return NULL;
}

/* A copy of the first n elements of p in a new array of cap elements (the rest zero); big:
 * from gt_alloc_big (released with gt_free_big and the same cap), else malloc. */
static void *grow_copy(const void *p, int64_t n, int64_t cap, size_t elem, int big)
{
    void *q = big ? gt_alloc_big((size_t)cap, elem) : malloc((size_t)cap * elem);
    if (!q)
        return NULL;
    memcpy(q, p, (size_t)n * elem);
    memset((char *)q + (size_t)n * elem, 0, (size_t)(cap - n) * elem);
    return q;
}

int gt_bt_extend(gt_bt *bt)
{
    if (!bt)
        return gt_seterr(GT_EINVAL, "backtest: extend needs a backtest");
    int64_t n = bt->ser[0]->n;
    if (n < bt->n)
        return gt_seterr(GT_EINVAL, "backtest: series 0 shrank from %lld to %lld bars",
                         (long long)bt->n, (long long)n);
    /* every series must have grown by the same bars; the old part too is compared, so a
     * series edited in place is caught rather than traded on a clock it no longer has */
    for (int32_t j = 1; j < bt->k; j++) {
        const gt_series *s = bt->ser[j];
        if (s->n != n)
            return gt_seterr(GT_EINVAL, "backtest: series %d has %lld bars, series 0 has %lld "
                                        "(append the same bars to every series)",
                             (int)j, (long long)s->n, (long long)n);
        for (int64_t i = 0; i < n; i++)
            if (s->ts[i] != bt->ser[0]->ts[i])
                return gt_seterr(GT_EINVAL, "backtest: series %d bar %lld is at %lld, series 0's "
                                            "at %lld (append the same timestamps to every series)",
                                 (int)j, (long long)i, (long long)s->ts[i],
                                 (long long)bt->ser[0]->ts[i]);
    }
    if (n > bt->cap) {
        /* doubling: a session that extends by one bar per poll copies O(n) in all */
        int64_t cap = bt->cap * 2 > n ? bt->cap * 2 : n;
        double *eq = grow_copy(bt->equity, bt->cap, cap, sizeof *eq, 1);
        uint8_t *im = grow_copy(bt->in_market, bt->cap, cap, 1, 1);
        uint8_t *rs = bt->risk_state ? grow_copy(bt->risk_state, bt->cap, cap, 1, 0) : NULL;
        if (!eq || !im || (bt->risk_state && !rs)) {
            gt_free_big(eq, (size_t)cap, sizeof *eq);
            gt_free_big(im, (size_t)cap, 1);
            free(rs);
            return gt_seterr(GT_ENOMEM, "backtest: out of memory extending to %lld bars",
                             (long long)n);
        }
        gt_free_big(bt->equity, (size_t)bt->cap, sizeof *bt->equity);
        gt_free_big(bt->in_market, (size_t)bt->cap, 1);
        free(bt->risk_state);
        bt->equity = eq;
        bt->in_market = im;
        bt->risk_state = rs;
        bt->cap = cap;
    }
    bt->n = n;
    return GT_OK;
}

void gt_bt_free(gt_bt *bt)
{
    if (!bt)
        return;
    free(bt->ser);
    gt_ledger_fini(&bt->led);
    free(bt->bars);
    gt_free_big(bt->equity, (size_t)bt->cap, sizeof(double));
    gt_free_big(bt->in_market, (size_t)bt->cap, 1);
    free(bt->risk_state);
    gt_ledger_free_array(bt->sim.refusals, bt->sim.cap_refusals, sizeof *bt->sim.refusals);
    free(bt->exit_stop);
    free(bt->exit_take);
    free(bt);
}

static double mark_equity(const gt_bt *bt, int64_t bar)
{
    double e = bt->led.cash;
    for (int32_t j = 0; j < bt->k; j++)
        if (bt->led.pos[j].qty != 0)
            e += bt->led.pos[j].qty * bt->ser[j]->close[bar];
    return e;
}

/* The kill switch: every working order is cancelled (the gate refuses new ones). */
static void cancel_all(gt_bt *bt)
{
    for (int64_t r = 0; r < bt->led.nwork; r++)
        gt_ledger_cancel(&bt->led, &bt->led.orders[bt->led.work[r]], GT_ORDER_CANCELED);
    gt_ledger_compact_work(&bt->led);
}

/* The broker sees bar i of every symbol, as a feed would deliver it. */
static inline void load_bars(gt_bt *bt, int64_t i)
{
    for (int32_t j = 0; j < bt->k; j++) {
        const gt_series *s = bt->ser[j];
        bt->bars[j] = (gt_bar){s->ts[i], s->open[i], s->high[i], s->low[i], s->close[i], s->volume[i]};
    }
    bt->sim.bar = i;
}

/* Equity while filling an order in bar `bar`: symbol sym at the fill price px, the others at
 * the price known at that moment (the bar's close for a fill at the close, else its open).
 * Never the close of a bar still being traded: that would be look-ahead. */
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
    load_bars(bt, bar);
    if (bt->led.nwork > 0 && bt->cfg.fill_mode != GT_FILL_EXTERNAL)
        gt_sim_process(&bt->sim);
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
    if (bt->sim.risk) {
        gt_risk_on_bar(bt->sim.risk, bt->ser[0]->ts[bar], e, bt->ser[0]->close[bar]);
        if (bt->led.nwork > 0 && gt_risk_killed(bt->sim.risk))
            cancel_all(bt);
        bt->risk_state[bar] = (uint8_t)gt_risk_state(bt->sim.risk);
    }
    return GT_OK;
}

static int check_submit(gt_bt *bt, const gt_order_req *req)
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

int64_t gt_bt_submit(gt_bt *bt, const gt_order_req *req)
{
    int rc = check_submit(bt, req);
    if (rc)
        return rc;
    int64_t id = gt_sim_new_order(&bt->sim, req, GT_ORDER_OPEN, 0);
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
        gt_sim_fill_at_close(&bt->sim, o);
    gt_ledger_compact_work(&bt->led);
    return id;
}

int64_t gt_bt_bracket(gt_bt *bt, const gt_order_req *entry, double take_profit, double stop_loss)
{
    int rc = check_submit(bt, entry);
    if (rc)
        return rc;
    if (entry->type != GT_ORDER_MARKET && entry->type != GT_ORDER_LIMIT)
        return gt_seterr(GT_EINVAL, "backtest: a bracket entry is a market or limit order");
    if ((!isnan(take_profit) && !gt_sim_check_price(take_profit)) ||
        (!isnan(stop_loss) && !gt_sim_check_price(stop_loss)))
        return gt_seterr(GT_EINVAL, "backtest: bracket prices must be positive");
    int64_t id = gt_sim_new_order(&bt->sim, entry, GT_ORDER_OPEN, 0);
    if (id < 0 || gt_ledger_find(&bt->led, id)->status == GT_ORDER_REJECTED)
        return id;
    gt_order_req leg = {0};
    leg.symbol = entry->symbol;
    leg.side = -entry->side;
    leg.qty = entry->qty;
    leg.tif = GT_TIF_GTC;
    leg.limit = leg.stop = leg.trail = leg.trail_pct = NAN;
    int64_t sl = 0, tp = 0;
    if (!isnan(stop_loss)) { /* created first: matched first when both could fill */
        leg.type = GT_ORDER_STOP;
        leg.stop = stop_loss;
        sl = gt_sim_new_order(&bt->sim, &leg, GT_ORDER_PENDING, 0);
        if (sl < 0)
            return sl;
        leg.stop = NAN;
    }
    if (!isnan(take_profit)) {
        leg.type = GT_ORDER_LIMIT;
        leg.limit = take_profit;
        tp = gt_sim_new_order(&bt->sim, &leg, GT_ORDER_PENDING, 0);
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
        gt_sim_fill_at_close(&bt->sim, e);
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
    if ((!isnan(limit) && !gt_sim_check_price(limit)) || (!isnan(stop) && !gt_sim_check_price(stop)))
        return gt_seterr(GT_EINVAL, "backtest: prices must be positive");
    if (!isnan(qty))
        o->qty = gt_sim_units(&bt->sim, qty);
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
    gt_order_req leg = {0};
    leg.symbol = entry->symbol;
    leg.side = -dir;
    leg.qty = entry->qty;
    leg.tif = GT_TIF_GTC;
    leg.limit = leg.stop = leg.trail = leg.trail_pct = NAN;
    int64_t sl = 0, tp = 0, eid = entry->id;
    if (want_stop) { /* created first: matched first when both could fill */
        leg.type = GT_ORDER_STOP;
        leg.stop = isnan(stop) ? ref * (dir > 0 ? 1 - spct : 1 + spct) : stop;
        if ((sl = gt_sim_new_order(&bt->sim, &leg, GT_ORDER_PENDING, 2)) < 0)
            return (int)sl;
        gt_ledger_find(&bt->led, sl)->exit_pct = isnan(stop) ? spct : NAN;
        leg.stop = NAN;
    }
    if (want_take) {
        leg.type = GT_ORDER_LIMIT;
        leg.limit = isnan(take) ? ref * (dir > 0 ? 1 + tpct : 1 - tpct) : take;
        if ((tp = gt_sim_new_order(&bt->sim, &leg, GT_ORDER_PENDING, 2)) < 0)
            return (int)tp;
        gt_ledger_find(&bt->led, tp)->exit_pct = isnan(take) ? tpct : NAN;
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

/* Win statistics of the trades closed so far (trades close in the order they opened for
 * one symbol; with several, a still-open trade holds back the count of later ones until it
 * closes: late, never early). */
static void count_closed_trades(gt_bt *bt)
{
    const gt_ledger *L = &bt->led;
    while (bt->stat_from < L->ntrades && L->trades[bt->stat_from].exit_bar >= 0) {
        double r = L->trades[bt->stat_from].return_pct / 100;
        if (r > 0) {
            bt->nwin++;
            bt->sum_win += r;
        } else if (r < 0) {
            bt->nloss++;
            bt->sum_loss += r;
        }
        bt->nstat++;
        bt->stat_from++;
    }
}

/* The fraction of equity sizing.c gives a new position in symbol at price: win statistics
 * from the trades closed so far (Kelly from min_trades of them, else the method's fallback),
 * ATR as the mean true range of the last 14 bars. Negative status on bad input. */
static double sized_fraction(gt_bt *bt, int64_t symbol, double price)
{
    count_closed_trades(bt);
    gt_sizing_input in = {0};
    in.price = price;
    in.equity = mark_equity(bt, bt->bar);
    in.win_rate = in.avg_win = in.avg_loss = NAN;
    if (bt->nstat >= bt->min_trades && bt->nwin > 0 && bt->nloss > 0) {
        double p = (double)bt->nwin / (double)bt->nstat;
        in.win_rate = p < 0.01 ? 0.01 : p > 0.99 ? 0.99 : p;
        in.avg_win = bt->sum_win / (double)bt->nwin;
        in.avg_loss = bt->sum_loss / (double)bt->nloss;
    }
    in.confidence = NAN;
    in.strategy_multiplier = NAN;
    in.regime = -1;
    const gt_series *s = bt->ser[symbol];
    int64_t i0 = bt->bar >= 14 ? bt->bar - 13 : 1;
    double tr = 0;
    int64_t cnt = 0;
    for (int64_t i = i0; i <= bt->bar; i++, cnt++) {
        double h = s->high[i], l = s->low[i], pc = s->close[i - 1];
        double a = h - l, b = fabs(h - pc), c = fabs(l - pc);
        tr += a > b ? (a > c ? a : c) : (b > c ? b : c);
    }
    in.atr = cnt > 0 && tr > 0 ? tr / (double)cnt : NAN;
    gt_sizing_out out;
    double f = gt_sizing_fraction(&bt->sizing, &in, &out);
    if (f < 0)
        return f;
    return out.target > 0 && isfinite(out.target) ? out.target : 0;
}

int gt_bt_set_risk(gt_bt *bt, gt_risk *risk, const char *const *names)
{
    if (risk && !bt->risk_state &&
        !(bt->risk_state = calloc((size_t)bt->cap, 1)))
        return gt_seterr(GT_ENOMEM, "backtest: out of memory");
    bt->sim.risk = risk;
    bt->sim.names = names;
    return GT_OK;
}

int64_t gt_bt_refusals(const gt_bt *bt, const gt_refusal **out)
{
    *out = bt->sim.refusals;
    return bt->sim.nrefusals;
}

int64_t gt_bt_risk_states(const gt_bt *bt, const uint8_t **out)
{
    *out = bt->risk_state;
    return bt->risk_state ? bt->marked + 1 : 0;
}

int gt_bt_set_sizing(gt_bt *bt, const gt_sizing_params *p, int32_t min_trades)
{
    if (!p) {
        bt->sizing_on = 0;
        return GT_OK;
    }
    if (p->method < 0 || p->method >= GT_SIZING_METHOD_COUNT)
        return gt_seterr(GT_EINVAL, "backtest: unknown sizing method %d", p->method);
    if (min_trades < 0)
        return gt_seterr(GT_EINVAL, "backtest: min_trades must be >= 0, got %d", min_trades);
    bt->sizing = *p;
    bt->sizing_on = 1;
    bt->min_trades = min_trades;
    return GT_OK;
}

int64_t gt_bt_risk_refused(const gt_bt *bt)
{
    return bt->sim.risk_refused;
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
    if ((!isnan(stop) && !gt_sim_check_price(stop)) || (!isnan(take) && !gt_sim_check_price(take)))
        return gt_seterr(GT_EINVAL, "backtest: exit prices must be positive and finite (stop %g, take %g)",
                         stop, take);
    if (bt->bar < 0 || !bt->in_bar)
        return gt_seterr(GT_ESTATE, "backtest: orders are submitted between begin_bar and end_bar");
    int external = bt->cfg.fill_mode == GT_FILL_EXTERNAL;
    if (external && (!isnan(stop) || !isnan(take)))
        return gt_seterr(GT_EINVAL, "backtest: an external broker's targets carry no stop or take-profit");
    gt_ledger_pos *st = &bt->led.pos[symbol];
    int dir = fraction > 0 ? 1 : fraction < 0 ? -1 : 0;
    int cur = st->qty > 0 ? 1 : st->qty < 0 ? -1 : 0;
    /* before the no-change shortcut: the position the working order will leave is not known
     * yet, so even a target that matches the current one waits */
    if (external)
        for (int64_t r = 0; r < bt->led.nwork; r++)
            if (bt->led.orders[bt->led.work[r]].symbol == symbol)
                return gt_seterr(GT_EBUSY, "backtest: symbol %lld has an order working at the broker",
                                 (long long)symbol);
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
    if (bt->sizing_on && dir != 0) {
        double f = sized_fraction(bt, symbol, price);
        if (f < 0)
            return (int64_t)f;
        fraction = dir * f;
        if (f == 0) /* no edge or too small: no new position (an opposite one still closes) */
            dir = 0;
        if (!rebalance && dir == cur)
            return 0;
    }
    double want = 0;
    if (dir != 0) {
        /* size from equity after closing the current position, net of costs */
        double equity = mark_equity(bt, bt->bar);
        double pexec = gt_sim_cost_adjust(&bt->sim, dir > 0 ? GT_BUY : GT_SELL, price);
        double keep = dir == cur ? 0 : st->qty; /* a reversal first closes the old side */
        double budget = fabs(fraction) * equity;
        if (keep != 0)
            budget -= gt_sim_commission(&bt->sim, keep, pexec);
        if (dir > 0)
            want = gt_sim_affordable(&bt->sim, budget, pexec);
        else
            want = gt_sim_units(&bt->sim, budget / (pexec * (1 + (bt->cfg.comm_kind == GT_COMM_PCT ? bt->cfg.commission : 0))));
        want *= dir;
    }
    double delta = want - st->qty;
    if (!bt->cfg.fractional)
        delta = delta > 0 ? floor(delta + 1e-9) : -floor(-delta + 1e-9);
    if (delta == 0)
        return 0;
    gt_order_req req = {0};
    req.symbol = symbol;
    req.side = delta > 0 ? GT_BUY : GT_SELL;
    req.type = GT_ORDER_MARKET;
    req.qty = fabs(delta);
    req.tif = GT_TIF_GTC;
    req.limit = req.stop = req.trail = req.trail_pct = NAN;
    int64_t id = gt_sim_new_order(&bt->sim, &req, GT_ORDER_OPEN, 1);
    if (id < 0)
        return id;
    gt_order *o = gt_ledger_find(&bt->led, id);
    if (bt->cfg.size_at == GT_SIZE_AT_FILL)
        o->frac = dir * fabs(fraction);
    if (o->status != GT_ORDER_REJECTED && dir != 0 && dir != cur) {
        int rc = add_exit_legs(bt, o, dir, stop, take);
        if (rc < 0)
            return rc;
        o = gt_ledger_find(&bt->led, id); /* the orders array may have moved */
    }
    if (bt->cfg.fill_mode == GT_FILL_CLOSE) {
        gt_sim_fill_at_close(&bt->sim, o);
        /* legs armed at this close work from the next bar, with the open-gap rule */
        for (int64_t r = 0; r < bt->led.nwork; r++)
            bt->led.orders[bt->led.work[r]].active_bar = 0;
    }
    return id;
}

int gt_bt_external_fill(gt_bt *bt, int64_t id, double qty, double price, double fee, int64_t ts)
{
    if (bt->cfg.fill_mode != GT_FILL_EXTERNAL)
        return gt_seterr(GT_ESTATE, "backtest: external fills need fill mode GT_FILL_EXTERNAL");
    gt_order *o = gt_ledger_find(&bt->led, id);
    if (!o)
        return gt_seterr(GT_ENOTFOUND, "backtest: no order %lld", (long long)id);
    if (!(qty > 0) || !isfinite(qty) || !gt_sim_check_price(price) || !(fee >= 0) || !isfinite(fee))
        return gt_seterr(GT_EINVAL, "backtest: order %lld: a fill needs qty > 0, a positive price and "
                         "fee >= 0 (got %g at %g, fee %g)", (long long)id, qty, price, fee);
    if (o->status == GT_ORDER_REJECTED)
        return gt_seterr(GT_ESTATE, "backtest: order %lld was rejected; it cannot fill", (long long)id);
    int working = gt_order_working(o);
    int64_t bar = bt->bar >= 0 ? bt->bar : 0;
    int rc = gt_ledger_apply_fill(&bt->led, o, o->symbol, bar, ts, o->side * qty, price, fee);
    if (rc < 0)
        return gt_seterr(rc, "backtest: out of memory recording a fill");
    if (bt->sim.risk)
        gt_risk_on_fill(bt->sim.risk, ts);
    if (o->filled > o->qty)
        o->qty = o->filled;
    if (working) {
        o->status = o->filled >= o->qty - 1e-9 ? GT_ORDER_FILLED : GT_ORDER_PARTIAL;
        gt_ledger_compact_work(&bt->led);
    }
    return GT_OK;
}

int gt_bt_external_close(gt_bt *bt, int64_t id, int32_t status)
{
    if (bt->cfg.fill_mode != GT_FILL_EXTERNAL)
        return gt_seterr(GT_ESTATE, "backtest: external closes need fill mode GT_FILL_EXTERNAL");
    if (status != GT_ORDER_CANCELED && status != GT_ORDER_EXPIRED && status != GT_ORDER_REJECTED)
        return gt_seterr(GT_EINVAL, "backtest: an order closes canceled, expired or rejected (got %d)",
                         (int)status);
    gt_order *o = gt_ledger_find(&bt->led, id);
    if (!o)
        return gt_seterr(GT_ENOTFOUND, "backtest: no order %lld", (long long)id);
    if (!gt_order_working(o))
        return GT_OK;
    gt_ledger_cancel(&bt->led, o, status == GT_ORDER_REJECTED && o->filled > 0 ? GT_ORDER_CANCELED : status);
    gt_ledger_compact_work(&bt->led);
    return GT_OK;
}

int64_t gt_bt_external_order(gt_bt *bt, int64_t symbol, int32_t side, double qty)
{
    if (bt->cfg.fill_mode != GT_FILL_EXTERNAL)
        return gt_seterr(GT_ESTATE, "backtest: external orders need fill mode GT_FILL_EXTERNAL");
    if (symbol < 0 || symbol >= bt->k)
        return gt_seterr(GT_EINVAL, "backtest: no symbol %lld", (long long)symbol);
    if ((side != GT_BUY && side != GT_SELL) || !(qty > 0) || !isfinite(qty))
        return gt_seterr(GT_EINVAL, "backtest: an external order needs side +1 or -1 and qty > 0 (got %d, %g)",
                         (int)side, qty);
    gt_order *o = gt_ledger_new_order(&bt->led);
    if (!o)
        return gt_seterr(GT_ENOMEM, "backtest: out of memory booking an order");
    o->symbol = symbol;
    o->side = side;
    o->type = GT_ORDER_MARKET;
    o->tif = GT_TIF_GTC;
    o->qty = qty;
    o->limit = o->stop = o->trail = o->trail_pct = o->frac = o->exit_pct = o->extreme = NAN;
    o->created_bar = bt->bar >= 0 ? bt->bar : 0;
    o->filled_bar = -1;
    o->status = GT_ORDER_OPEN;
    if (gt_ledger_add_work(&bt->led, o->id - 1))
        return gt_seterr(GT_ENOMEM, "backtest: out of memory booking an order");
    return o->id;
}

int gt_bt_set_exits(gt_bt *bt, int64_t symbol, const double *stop, const double *take)
{
    if (symbol < 0 || symbol >= bt->k)
        return gt_seterr(GT_EINVAL, "backtest: no symbol %lld", (long long)symbol);
    bt->exit_stop[symbol] = stop;
    bt->exit_take[symbol] = take;
    return GT_OK;
}

/* Bars i0..i1-1 of the vectorised loop. Always inlined and called with k == 1 and no gate as
 * constant for the common single-symbol case, so the compiler drops the per-symbol loops.
 * A bar with no working order and no decision (most of them) is a NaN test and one
 * multiply-add; cash and positions live in locals, reloaded after any ledger call. */
static inline __attribute__((always_inline)) int
run_block(gt_bt *bt, const double *const *targets, double scale, int64_t start, int64_t i0,
          int64_t i1, int32_t rebalance, int32_t k, gt_risk *risk, double *cash, double *q0)
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
            load_bars(bt, i);
            bt->marked = i - 1;
            bt->in_bar = 1;
            if (bt->led.nwork > 0)
                gt_sim_process(&bt->sim);
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
        if (risk) {
            gt_risk_on_bar(risk, bt->ser[0]->ts[i], e, close0[i]);
            if (bt->led.nwork > 0 && gt_risk_killed(risk))
                cancel_all(bt);
            bt->risk_state[i] = (uint8_t)gt_risk_state(risk);
        }
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
        /* specialised: one symbol without a gate (the common case) compiles to the bare loop */
        gt_risk *risk = bt->sim.risk;
        int rc = k == 1 && !risk
                     ? run_block(bt, targets, scale, start, i0, i1, rebalance, 1, NULL, &cash, &q0)
                     : run_block(bt, targets, scale, start, i0, i1, rebalance, k, risk, &cash, &q0);
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
        double px = gt_sim_cost_adjust(&bt->sim, side, ref[last]);
        int rc = gt_ledger_apply_fill(&bt->led, NULL, j, last, bt->ser[0]->ts[last], -q, px, gt_sim_commission(&bt->sim, q, px));
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
    case GT_REJECT_RISK:
        return "refused by the risk gate";
    }
    return "unknown reason";
}
