/*
 * risk.c: see risk.h. Limits follow ../shared/RELIABILITY.md section 1 (SEC 15c3-5's price
 * collar, size/notional caps, capital caps counting open orders and duplicate detection; RTS 6
 * throttles; nautilus' ACTIVE / REDUCING / HALTED) and the seed's breakers (slices.md 2 and 9).
 * Conventions, each pinned by a test in tests/c/test_risk.c:
 *   - a "max" limit passes at its value and refuses above it (qty == max_qty passes);
 *   - a breaker trips at its value (loss == max_daily_loss trips), not before;
 *   - a window of W microseconds counts events with now - t < W.
 * The check formats a reason only when it refuses, so a pass costs no string work.
 */
#include "risk.h"

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(((gt_risk_status *)0)->refused) / sizeof(int64_t) == GT_RISK_RULE_COUNT,
               "gt_risk_status.refused has one counter per rule");

#define MAGIC 0x4b525447u /* "GTRK" */
#define VERSION 2u

/* Everything that changes; a snapshot is this struct's bytes. */
typedef struct state {
    uint32_t magic;
    uint32_t version;
    uint32_t size;
    int32_t causes;
    int32_t vol_warning;
    int32_t consec_rejects;
    int32_t has_equity;
    int32_t has_close;
    int64_t day;
    int64_t checks;
    int64_t accepted;
    int64_t vol_trip_at;
    double equity;
    double peak;
    double day_start;
    double last_close;
    double vol;
    int64_t refused[GT_RISK_RULE_COUNT];
    int32_t ohead, ocount; /* ohead: next slot to write */
    int32_t shead, scount;
    int32_t vhead, vcount;
    int64_t otime[GT_RISK_ORDER_RING]; /* accepted orders: when, and a 64-bit key of */
    uint64_t okey[GT_RISK_ORDER_RING]; /* (symbol, side, type, qty, price) */
    int64_t stops[GT_RISK_STOP_RING];
    double rets[GT_RISK_VOL_RING];
    char halt_reason[160];
} state;

typedef struct refusal {
    int rule; /* GT_RISK_PASS after a pass */
    int variant;
    int causes;
    int has_order;
    int64_t extra;
    gt_risk_order o;
    gt_risk_account a;
    char sym[32];
} refusal;

struct gt_risk {
    gt_risk_limits lim;
    state st;
    refusal last;
    int reason_ready;
    char reason[384];
};

#define HALT_CAUSES                                                                                \
    (GT_RISK_CAUSE_KILL | GT_RISK_CAUSE_DRAWDOWN | GT_RISK_CAUSE_STOPOUTS |                        \
     GT_RISK_CAUSE_REJECTS | GT_RISK_CAUSE_VOL_HALT)
#define REDUCE_CAUSES (GT_RISK_CAUSE_DAILY_LOSS | GT_RISK_CAUSE_VOL_REDUCE)

static const char *const rule_names[GT_RISK_RULE_COUNT] = {
    "pass",          "halted",       "reducing",     "bad_order",    "bad_qty",
    "bad_price",     "no_reference", "stale",        "collar",       "max_qty",
    "max_notional",  "bad_account",  "max_position", "max_gross",    "cash_reserve",
    "max_positions", "duplicate",    "throttle_sec", "throttle_min",
};

const char *gt_risk_rule_name(int32_t rule)
{
    if (rule < 0 || rule >= GT_RISK_RULE_COUNT)
        return "unknown";
    return rule_names[rule];
}

/* A limit is on when it is a positive number (0 and NaN are off). */
static int on(double x)
{
    return x > 0;
}

static int check_limits(const gt_risk_limits *l)
{
    const struct {
        const char *name;
        double v;
        int frac; /* must be <= 1 when on */
    } f[] = {
        {"max_qty", l->max_qty, 0},
        {"max_notional", l->max_notional, 0},
        {"max_position", l->max_position, 0},
        {"max_gross", l->max_gross, 0},
        {"min_cash_reserve", l->min_cash_reserve, 1},
        {"max_positions", l->max_positions, 0},
        {"collar_low", l->collar_low, 1},
        {"collar_mid", l->collar_mid, 1},
        {"collar_high", l->collar_high, 1},
        {"collar_tier1", l->collar_tier1, 0},
        {"collar_tier2", l->collar_tier2, 0},
        {"max_daily_loss", l->max_daily_loss, 1},
        {"max_drawdown", l->max_drawdown, 1},
        {"vol_warn", l->vol_warn, 0},
        {"vol_reduce", l->vol_reduce, 0},
        {"vol_halt", l->vol_halt, 0},
        {"vol_periods_per_year", l->vol_periods_per_year, 0},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        double v = f[i].v;
        if (isnan(v))
            continue;
        if (v < 0 || isinf(v) || (f[i].frac && v > 1))
            return gt_seterr(GT_EINVAL, "risk: limit %s = %g must be %s (0 or NaN: off)", f[i].name,
                             v, f[i].frac ? "in [0, 1]" : "finite and >= 0");
    }
    const struct {
        const char *name;
        int64_t v;
        int64_t max;
    } n[] = {
        {"max_ref_age_us", l->max_ref_age_us, INT64_MAX},
        {"dup_window_us", l->dup_window_us, INT64_MAX},
        {"stopout_window_us", l->stopout_window_us, INT64_MAX},
        {"vol_cooldown_us", l->vol_cooldown_us, INT64_MAX},
        {"max_per_sec", l->max_per_sec, GT_RISK_ORDER_RING},
        {"max_per_min", l->max_per_min, GT_RISK_ORDER_RING},
        {"max_stopouts", l->max_stopouts, GT_RISK_STOP_RING},
        {"max_consec_rejects", l->max_consec_rejects, INT32_MAX},
        {"vol_window", l->vol_window, GT_RISK_VOL_RING},
    };
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
        if (n[i].v < 0 || n[i].v > n[i].max)
            return gt_seterr(GT_EINVAL, "risk: limit %s = %lld must be in [0, %lld] (0: off)",
                             n[i].name, (long long)n[i].v, (long long)n[i].max);
    if (on(l->vol_warn) || on(l->vol_reduce) || on(l->vol_halt)) {
        if (l->vol_window == 1)
            return gt_seterr(GT_EINVAL, "risk: vol_window 1 cannot give a deviation; use >= 2");
    }
    if (on(l->collar_tier1) && on(l->collar_tier2) && l->collar_tier2 < l->collar_tier1)
        return gt_seterr(GT_EINVAL, "risk: collar_tier2 %g is below collar_tier1 %g",
                         l->collar_tier2, l->collar_tier1);
    return GT_OK;
}

gt_risk *gt_risk_new(const gt_risk_limits *limits)
{
    if (!limits) {
        gt_seterr(GT_EINVAL, "risk: limits are required");
        return NULL;
    }
    if (check_limits(limits) < 0)
        return NULL;
    gt_risk *r = calloc(1, sizeof *r);
    if (!r) {
        gt_seterr(GT_ENOMEM, "risk: out of memory for the gate");
        return NULL;
    }
    r->lim = *limits;
    if (r->lim.vol_window == 0)
        r->lim.vol_window = 20;
    if (!on(r->lim.vol_periods_per_year))
        r->lim.vol_periods_per_year = 252;
    r->st.magic = MAGIC;
    r->st.version = VERSION;
    r->st.size = (uint32_t)sizeof r->st;
    r->st.vol = NAN;
    r->st.day = INT64_MIN;
    return r;
}

void gt_risk_free(gt_risk *r)
{
    free(r);
}

static int state_of(int causes)
{
    if (causes & HALT_CAUSES)
        return GT_RISK_STATE_HALTED;
    if (causes & REDUCE_CAUSES)
        return GT_RISK_STATE_REDUCING;
    return GT_RISK_ACTIVE;
}

int gt_risk_state(const gt_risk *r)
{
    return state_of(r->st.causes);
}

const char *gt_risk_halt_reason(const gt_risk *r)
{
    return r->st.halt_reason;
}

static uint64_t hash_symbol(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static const char *side_name(int32_t side)
{
    return side == GT_RISK_BUY ? "buy" : side == GT_RISK_SELL ? "sell" : "?";
}

/* A refusal is recorded, not formatted: the order, the account and the state's causes are
 * copied (a few cache lines) and gt_risk_reason writes the words only when asked, so a
 * refused order costs about what a passed one does. */
static int deny(gt_risk *r, int rule, int variant, const gt_risk_order *o, const gt_risk_account *a,
                int64_t extra)
{
    refusal *d = &r->last;
    d->rule = rule;
    d->variant = variant;
    d->causes = r->st.causes;
    d->extra = extra;
    if (o) {
        d->o = *o;
        d->has_order = 1;
        size_t i = 0;
        if (o->symbol)
            for (; i < sizeof d->sym - 1 && o->symbol[i]; i++)
                d->sym[i] = o->symbol[i];
        d->sym[i] = '\0';
        d->o.symbol = d->sym;
    } else {
        d->has_order = 0;
        d->sym[0] = '\0';
    }
    if (a)
        d->a = *a;
    r->reason_ready = 0;
    r->st.refused[rule]++;
    return rule;
}

/* When the i-th most recent accepted order was accepted (0 = newest); i < ocount. */
static int64_t recent(const state *st, int32_t i)
{
    int32_t k = st->ohead - 1 - i;
    if (k < 0)
        k += GT_RISK_ORDER_RING;
    return st->otime[k];
}

static uint64_t mix(uint64_t h, uint64_t x)
{
    h = (h ^ x) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

/* What makes two orders identical, in 64 bits: the symbol's FNV-1a hash mixed with side,
 * type, and the bits of qty and price (every NaN and -0.0 made canonical). Two different
 * orders share a key with probability ~2^-64; the cost of that is one order refused as a
 * duplicate, never one let through. */
static uint64_t order_key(const char *sym, int32_t side, int32_t type, double qty, double px)
{
    uint64_t q, p;
    if (isnan(px))
        px = NAN;
    px += 0.0; /* -0.0 -> +0.0 */
    memcpy(&q, &qty, sizeof q);
    memcpy(&p, &px, sizeof p);
    uint64_t h = mix(hash_symbol(sym), (uint64_t)(uint32_t)side << 8 | (uint32_t)type);
    return mix(mix(h, q), p);
}

static double collar_band(const gt_risk_limits *l, double ref)
{
    if (on(l->collar_tier1) && ref <= l->collar_tier1)
        return l->collar_low;
    if (on(l->collar_tier2) && ref <= l->collar_tier2)
        return l->collar_mid;
    return l->collar_high;
}

/* The process-wide kill switch: set from a signal handler (SIGUSR1), so only a flag; every
 * gate halts at its next check or bar. */
static volatile sig_atomic_t kill_requested;

void gt_risk_kill_all(void)
{
    kill_requested = 1;
}

int gt_risk_kill_requested(void)
{
    return kill_requested != 0;
}

void gt_risk_kill_clear(void)
{
    kill_requested = 0;
}

static void take_kill(gt_risk *r)
{
    if (kill_requested && !(r->st.causes & GT_RISK_CAUSE_KILL))
        gt_risk_halt(r, "kill switch (SIGUSR1)");
}

int gt_risk_killed(const gt_risk *r)
{
    return (r->st.causes & GT_RISK_CAUSE_KILL) != 0;
}

int gt_risk_check(gt_risk *r, const gt_risk_order *o, const gt_risk_account *a)
{
    const gt_risk_limits *l = &r->lim;
    state *st = &r->st;
    st->checks++;
    r->last.rule = GT_RISK_PASS;
    take_kill(r);

    if (st->causes & HALT_CAUSES)
        return deny(r, GT_RISK_HALTED, 0, o, a, 0);
    if (!o || !a)
        return deny(r, GT_RISK_BAD_ORDER, 0, o, a, 0);
    const char *sym = o->symbol;
    if (!sym || !sym[0])
        return deny(r, GT_RISK_BAD_ORDER, 1, o, a, 0);
    if (o->side != GT_RISK_BUY && o->side != GT_RISK_SELL)
        return deny(r, GT_RISK_BAD_ORDER, 2, o, a, 0);
    if (o->type < GT_RISK_MARKET || o->type > GT_RISK_STOP_LIMIT)
        return deny(r, GT_RISK_BAD_ORDER, 3, o, a, 0);
    double qty = o->qty;
    if (!(qty > 0) || isinf(qty))
        return deny(r, GT_RISK_BAD_QTY, 0, o, a, 0);
    double px = o->price;
    if (o->type == GT_RISK_MARKET) {
        if (!isnan(px) || !isnan(o->stop_price))
            return deny(r, GT_RISK_BAD_PRICE, 0, o, a, 0);
    } else {
        if (!(px > 0) || isinf(px))
            return deny(r, GT_RISK_BAD_PRICE, 1, o, a, 0);
        if (o->type == GT_RISK_STOP_LIMIT ? !(o->stop_price > 0) || isinf(o->stop_price)
                                          : !isnan(o->stop_price))
            return deny(r, GT_RISK_BAD_PRICE, 2, o, a, 0);
    }
    double ref = o->ref_price;
    if (!(ref > 0) || isinf(ref))
        return deny(r, GT_RISK_NO_REFERENCE, 0, o, a, 0);
    if (o->ref_ts > o->now)
        return deny(r, GT_RISK_STALE, 0, o, a, 0);
    if (l->max_ref_age_us > 0 && o->now - o->ref_ts > l->max_ref_age_us)
        return deny(r, GT_RISK_STALE, 1, o, a, 0);
    double eq = a->equity, pos = a->position_qty;
    if (!(eq > 0) || isinf(eq) || !isfinite(a->cash) || !isfinite(pos) ||
        !(a->gross_exposure >= 0) || isinf(a->gross_exposure) || !(a->open_exposure >= 0) ||
        isinf(a->open_exposure) || a->n_positions < 0)
        return deny(r, GT_RISK_BAD_ACCOUNT, 0, o, a, 0);
    /* Reducing only if the flag agrees with the book: opposite side, no flip. */
    int reduces = o->reduces && ((pos > 0 && o->side == GT_RISK_SELL && qty <= pos) ||
                                 (pos < 0 && o->side == GT_RISK_BUY && qty <= -pos));
    if ((st->causes & REDUCE_CAUSES) && !reduces)
        return deny(r, GT_RISK_REDUCING, 0, o, a, 0);
    if (o->type != GT_RISK_MARKET) {
        double band = collar_band(l, ref);
        if (on(band)) {
            if (fabs(px - ref) / ref > band + GT_RISK_COLLAR_EPS)
                return deny(r, GT_RISK_COLLAR, 0, o, a, 0);
            if (o->type == GT_RISK_STOP_LIMIT &&
                fabs(o->stop_price - ref) / ref > band + GT_RISK_COLLAR_EPS)
                return deny(r, GT_RISK_COLLAR, 1, o, a, 0);
        }
    }
    if (on(l->max_qty) && qty > l->max_qty)
        return deny(r, GT_RISK_MAX_QTY, 0, o, a, 0);
    double notional = qty * (o->type == GT_RISK_MARKET ? ref : px);
    if (isinf(notional) || (on(l->max_notional) && notional > l->max_notional))
        return deny(r, GT_RISK_MAX_NOTIONAL, 0, o, a, 0);
    uint64_t key = order_key(sym, o->side, o->type, qty, px);
    if (l->dup_window_us > 0) {
        int64_t now = o->now, win = l->dup_window_us;
        int32_t k = st->ohead;
        for (int32_t i = 0; i < st->ocount; i++) {
            k = k == 0 ? GT_RISK_ORDER_RING - 1 : k - 1;
            if (now - st->otime[k] >= win)
                break;
            if (st->okey[k] == key)
                return deny(r, GT_RISK_DUPLICATE, 0, o, a, now - st->otime[k]);
        }
    }
    if (l->max_per_sec > 0 && st->ocount >= l->max_per_sec &&
        o->now - recent(st, l->max_per_sec - 1) < 1000000)
        return deny(r, GT_RISK_THROTTLE_SEC, 0, o, a, 0);
    if (l->max_per_min > 0 && st->ocount >= l->max_per_min &&
        o->now - recent(st, l->max_per_min - 1) < 60000000)
        return deny(r, GT_RISK_THROTTLE_MIN, 0, o, a, 0);
    if (!reduces) {
        double after = fabs(pos + o->side * qty);
        if (on(l->max_position) && after > fabs(pos) && after * ref / eq > l->max_position)
            return deny(r, GT_RISK_MAX_POSITION, 0, o, a, 0);
        if (on(l->max_gross) &&
            (a->gross_exposure + a->open_exposure + notional) / eq > l->max_gross)
            return deny(r, GT_RISK_MAX_GROSS, 0, o, a, 0);
        if (on(l->min_cash_reserve) && o->side == GT_RISK_BUY &&
            (a->cash - a->open_exposure - notional) / eq < l->min_cash_reserve)
            return deny(r, GT_RISK_CASH_RESERVE, 0, o, a, 0);
        if (on(l->max_positions) && pos == 0 && a->n_positions >= l->max_positions)
            return deny(r, GT_RISK_MAX_POSITIONS, 0, o, a, 0);
    }
    st->otime[st->ohead] = o->now;
    st->okey[st->ohead] = key;
    st->ohead = st->ohead + 1 == GT_RISK_ORDER_RING ? 0 : st->ohead + 1;
    if (st->ocount < GT_RISK_ORDER_RING)
        st->ocount++;
    st->accepted++;
    return GT_RISK_PASS;
}

/* The words for the last refusal, from what deny() kept: what was refused, the values, the
 * limit, and what to do. */
static void format_reason(const gt_risk *r, char *buf, size_t cap)
{
    const refusal *d = &r->last;
    const gt_risk_limits *l = &r->lim;
    const gt_risk_order *o = &d->o;
    const gt_risk_account *a = &d->a;
    const char *sym = d->sym, *side = side_name(o->side);
    int n = snprintf(buf, cap, "%s: ", rule_names[d->rule]);
    if (n < 0 || (size_t)n >= cap)
        return;
    buf += n;
    cap -= (size_t)n;
    double ref = o->ref_price, eq = a->equity;
    double notional = o->qty * (o->type == GT_RISK_MARKET ? ref : o->price);
    switch (d->rule) {
    case GT_RISK_HALTED: {
        int c = d->causes;
        snprintf(buf, cap, "trading is HALTED (%s%s%s%s%s); nothing passes until %s",
                 c & GT_RISK_CAUSE_KILL ? r->st.halt_reason : "",
                 c & GT_RISK_CAUSE_DRAWDOWN ? " max drawdown" : "",
                 c & GT_RISK_CAUSE_STOPOUTS ? " stop-outs" : "",
                 c & GT_RISK_CAUSE_REJECTS ? " consecutive rejects" : "",
                 c & GT_RISK_CAUSE_VOL_HALT ? " volatility" : "",
                 (c & ~GT_RISK_CAUSE_VOL_HALT & HALT_CAUSES) ? "an explicit resume"
                                                             : "the volatility cool-down ends");
        break;
    }
    case GT_RISK_BAD_ORDER:
        if (d->variant == 0)
            snprintf(buf, cap, "no order or no account given");
        else if (d->variant == 1)
            snprintf(buf, cap, "order has no symbol");
        else if (d->variant == 2)
            snprintf(buf, cap, "%s: side %d is neither buy (1) nor sell (-1)", sym, o->side);
        else
            snprintf(buf, cap,
                     "%s: order type %d is not market (0), limit (1), stop (2) or "
                     "stop-limit (3)",
                     sym, o->type);
        break;
    case GT_RISK_BAD_QTY:
        snprintf(buf, cap, "%s %s: quantity %g must be finite and > 0", sym, side, o->qty);
        break;
    case GT_RISK_BAD_PRICE:
        if (d->variant == 0)
            snprintf(buf, cap,
                     "%s %s: a market order carries no price (got %g / stop %g); send "
                     "a limit order or pass NaN",
                     sym, side, o->price, o->stop_price);
        else if (d->variant == 1)
            snprintf(buf, cap, "%s %s: price %g must be finite and > 0", sym, side, o->price);
        else
            snprintf(buf, cap,
                     "%s %s: stop_price %g must be finite and > 0 on a stop-limit "
                     "order and NaN otherwise",
                     sym, side, o->stop_price);
        break;
    case GT_RISK_NO_REFERENCE:
        snprintf(buf, cap,
                 "%s: reference price %g is missing or invalid; no order without a "
                 "trusted price",
                 sym, ref);
        break;
    case GT_RISK_STALE:
        if (d->variant == 0)
            snprintf(buf, cap, "%s: reference time %lld is after now %lld", sym,
                     (long long)o->ref_ts, (long long)o->now);
        else
            snprintf(buf, cap,
                     "%s: reference price is %lld us old, over max_ref_age_us %lld; "
                     "wait for fresh data",
                     sym, (long long)(o->now - o->ref_ts), (long long)l->max_ref_age_us);
        break;
    case GT_RISK_BAD_ACCOUNT:
        snprintf(buf, cap,
                 "%s: account figures are not usable (equity %g, cash %g, position %g, "
                 "gross %g, open %g, positions %d)",
                 sym, eq, a->cash, a->position_qty, a->gross_exposure, a->open_exposure,
                 a->n_positions);
        break;
    case GT_RISK_REDUCING:
        snprintf(buf, cap,
                 "%s %s %g: trading is REDUCING (%s); only orders that reduce a "
                 "position (reduces = 1, opposite side, at most the %g held) pass",
                 sym, side, o->qty,
                 (d->causes & GT_RISK_CAUSE_DAILY_LOSS) ? "daily loss limit" : "volatility breaker",
                 a->position_qty);
        break;
    case GT_RISK_COLLAR: {
        double p = d->variant ? o->stop_price : o->price, band = collar_band(l, ref);
        snprintf(buf, cap,
                 "%s %s: %s %g is %.4g %% from the reference %g, outside the %.4g %% "
                 "collar",
                 sym, side, d->variant ? "stop price" : "price", p, fabs(p - ref) / ref * 100, ref,
                 band * 100);
        break;
    }
    case GT_RISK_MAX_QTY:
        snprintf(buf, cap, "%s %s: quantity %g is over max_qty %g", sym, side, o->qty, l->max_qty);
        break;
    case GT_RISK_MAX_NOTIONAL:
        snprintf(buf, cap, "%s %s: notional %g (%g x %g) is over max_notional %g", sym, side,
                 notional, o->qty, notional / o->qty, l->max_notional);
        break;
    case GT_RISK_DUPLICATE:
        snprintf(buf, cap, "%s %s %g @ %g repeats an order accepted %lld us ago (window %lld us)",
                 sym, side, o->qty, o->price, (long long)d->extra, (long long)l->dup_window_us);
        break;
    case GT_RISK_THROTTLE_SEC:
        snprintf(buf, cap, "%s: %d orders already accepted in the last second (max_per_sec)", sym,
                 l->max_per_sec);
        break;
    case GT_RISK_THROTTLE_MIN:
        snprintf(buf, cap, "%s: %d orders already accepted in the last minute (max_per_min)", sym,
                 l->max_per_min);
        break;
    case GT_RISK_MAX_POSITION: {
        double after = a->position_qty + o->side * o->qty;
        snprintf(buf, cap,
                 "%s: position after this order %g x %g = %.6g %% of equity %g, over "
                 "max_position %.6g %%",
                 sym, after, ref, fabs(after) * ref / eq * 100, eq, l->max_position * 100);
        break;
    }
    case GT_RISK_MAX_GROSS: {
        double g = a->gross_exposure + a->open_exposure + notional;
        snprintf(buf, cap,
                 "%s: gross exposure with open orders and this one %g = %.6g %% of "
                 "equity %g, over max_gross %.6g %%",
                 sym, g, g / eq * 100, eq, l->max_gross * 100);
        break;
    }
    case GT_RISK_CASH_RESERVE: {
        double left = a->cash - a->open_exposure - notional;
        snprintf(buf, cap,
                 "%s: cash after this buy and open orders %g = %.6g %% of equity %g, "
                 "under min_cash_reserve %.6g %%",
                 sym, left, left / eq * 100, eq, l->min_cash_reserve * 100);
        break;
    }
    case GT_RISK_MAX_POSITIONS:
        snprintf(buf, cap, "%s: %d positions open, max_positions %g; close one first", sym,
                 a->n_positions, l->max_positions);
        break;
    default:
        buf[0] = '\0';
    }
}

const char *gt_risk_reason(gt_risk *r)
{
    if (r->last.rule == GT_RISK_PASS)
        return "";
    if (!r->reason_ready) {
        format_reason(r, r->reason, sizeof r->reason);
        r->reason_ready = 1;
    }
    return r->reason;
}

/* Floor division, so days before 1970 are numbered consistently. */
static int64_t day_of(int64_t us)
{
    int64_t d = us / GT_RISK_US_PER_DAY;
    return (us % GT_RISK_US_PER_DAY < 0) ? d - 1 : d;
}

static void update_vol(gt_risk *r, int64_t now, double close)
{
    const gt_risk_limits *l = &r->lim;
    state *st = &r->st;
    if (!(close > 0) || isinf(close))
        return;
    if (st->has_close) {
        int32_t w = l->vol_window;
        st->rets[st->vhead] = close / st->last_close - 1.0;
        st->vhead = (st->vhead + 1) % w;
        if (st->vcount < w)
            st->vcount++;
        if (st->vcount == w) {
            /* Two passes over the window: the sample deviation (ddof 1, as pandas' std). */
            double mean = 0, ss = 0;
            for (int32_t i = 0; i < w; i++)
                mean += st->rets[i];
            mean /= w;
            for (int32_t i = 0; i < w; i++)
                ss += (st->rets[i] - mean) * (st->rets[i] - mean);
            st->vol = sqrt(ss / (w - 1)) * sqrt(l->vol_periods_per_year);
        }
    }
    st->last_close = close;
    st->has_close = 1;
    if (isnan(st->vol))
        return;
    double v = st->vol;
    st->vol_warning = on(l->vol_warn) && v >= l->vol_warn;
    int hot = 0;
    if (on(l->vol_halt) && v >= l->vol_halt) {
        st->causes |= GT_RISK_CAUSE_VOL_HALT;
        hot = 1;
    }
    if (on(l->vol_reduce) && v >= l->vol_reduce) {
        st->causes |= GT_RISK_CAUSE_VOL_REDUCE;
        hot = 1;
    }
    if (hot)
        st->vol_trip_at = now;
    else if ((st->causes & (GT_RISK_CAUSE_VOL_HALT | GT_RISK_CAUSE_VOL_REDUCE)) &&
             now - st->vol_trip_at >= l->vol_cooldown_us)
        st->causes &= ~(GT_RISK_CAUSE_VOL_HALT | GT_RISK_CAUSE_VOL_REDUCE);
}

void gt_risk_on_bar(gt_risk *r, int64_t now, double equity, double close)
{
    const gt_risk_limits *l = &r->lim;
    state *st = &r->st;
    take_kill(r);
    if (isfinite(equity)) {
        int64_t d = day_of(now);
        if (d != st->day) {
            /* The day starts from the last equity of the previous day (its close), so a
             * loss on the first bar of a day counts. */
            st->day_start = st->has_equity ? st->equity : equity;
            st->day = d;
            st->causes &= ~GT_RISK_CAUSE_DAILY_LOSS;
        }
        if (!st->has_equity || equity > st->peak)
            st->peak = equity;
        st->equity = equity;
        st->has_equity = 1;
        if (on(l->max_daily_loss) && st->day_start > 0 &&
            (st->day_start - equity) / st->day_start >= l->max_daily_loss)
            st->causes |= GT_RISK_CAUSE_DAILY_LOSS;
        if (on(l->max_drawdown) && st->peak > 0 &&
            (st->peak - equity) / st->peak >= l->max_drawdown)
            st->causes |= GT_RISK_CAUSE_DRAWDOWN;
    }
    if (on(l->vol_warn) || on(l->vol_reduce) || on(l->vol_halt))
        update_vol(r, now, close);
}

void gt_risk_on_fill(gt_risk *r, int64_t now)
{
    GT_UNUSED(now);
    r->st.consec_rejects = 0;
}

void gt_risk_on_reject(gt_risk *r, int64_t now)
{
    GT_UNUSED(now);
    state *st = &r->st;
    st->consec_rejects++;
    if (r->lim.max_consec_rejects > 0 && st->consec_rejects >= r->lim.max_consec_rejects)
        st->causes |= GT_RISK_CAUSE_REJECTS;
}

void gt_risk_on_stopout(gt_risk *r, int64_t now)
{
    const gt_risk_limits *l = &r->lim;
    state *st = &r->st;
    st->stops[st->shead] = now;
    st->shead = (st->shead + 1) % GT_RISK_STOP_RING;
    if (st->scount < GT_RISK_STOP_RING)
        st->scount++;
    int32_t n = l->max_stopouts;
    if (n > 0 && st->scount >= n) {
        int32_t k = st->shead - n;
        if (k < 0)
            k += GT_RISK_STOP_RING;
        if (l->stopout_window_us <= 0 || now - st->stops[k] < l->stopout_window_us)
            st->causes |= GT_RISK_CAUSE_STOPOUTS;
    }
}

void gt_risk_halt(gt_risk *r, const char *reason)
{
    r->st.causes |= GT_RISK_CAUSE_KILL;
    snprintf(r->st.halt_reason, sizeof r->st.halt_reason, "%s",
             reason && reason[0] ? reason : "kill switch");
}

void gt_risk_resume(gt_risk *r)
{
    state *st = &r->st;
    st->causes = 0;
    st->halt_reason[0] = '\0';
    st->consec_rejects = 0;
    st->scount = 0;
    st->shead = 0;
    if (st->has_equity) {
        st->peak = st->equity;
        st->day_start = st->equity;
    }
}

void gt_risk_status_get(const gt_risk *r, gt_risk_status *out)
{
    const state *st = &r->st;
    memset(out, 0, sizeof *out);
    out->state = state_of(st->causes);
    out->causes = st->causes;
    out->vol_warning = st->vol_warning;
    out->consec_rejects = st->consec_rejects;
    out->day = st->day;
    out->checks = st->checks;
    out->accepted = st->accepted;
    out->equity = st->has_equity ? st->equity : NAN;
    out->peak = st->has_equity ? st->peak : NAN;
    out->day_start = st->has_equity ? st->day_start : NAN;
    out->daily_loss = st->day_start > 0 ? (st->day_start - st->equity) / st->day_start : NAN;
    out->drawdown = st->peak > 0 ? (st->peak - st->equity) / st->peak : NAN;
    out->vol = st->vol;
    memcpy(out->refused, st->refused, sizeof out->refused);
}

int64_t gt_risk_snapshot(const gt_risk *r, uint8_t *buf, int64_t cap)
{
    int64_t n = (int64_t)sizeof r->st;
    if (buf && cap >= n)
        memcpy(buf, &r->st, sizeof r->st);
    return n;
}

int gt_risk_restore(gt_risk *r, const uint8_t *buf, int64_t len)
{
    state s;
    if (!buf || len != (int64_t)sizeof s)
        return gt_seterr(GT_EPARSE,
                         "risk: snapshot is %lld bytes, this build's is %zu; it was "
                         "taken by another version (resume by hand)",
                         (long long)len, sizeof s);
    memcpy(&s, buf, sizeof s);
    if (s.magic != MAGIC || s.version != VERSION || s.size != sizeof s)
        return gt_seterr(GT_EPARSE,
                         "risk: snapshot header (magic %08x, version %u) is not a "
                         "gt_risk state of version %u",
                         s.magic, s.version, VERSION);
    if (s.ohead < 0 || s.ohead >= GT_RISK_ORDER_RING || s.ocount < 0 ||
        s.ocount > GT_RISK_ORDER_RING || s.shead < 0 || s.shead >= GT_RISK_STOP_RING ||
        s.scount < 0 || s.scount > GT_RISK_STOP_RING || s.vhead < 0 ||
        s.vhead >= r->lim.vol_window || s.vcount < 0 || s.vcount > r->lim.vol_window)
        return gt_seterr(GT_EPARSE, "risk: snapshot ring indices are out of range (or the "
                                    "vol_window limit changed): not restored");
    s.halt_reason[sizeof s.halt_reason - 1] = '\0';
    r->st = s;
    return GT_OK;
}
