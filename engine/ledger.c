/*
 * ledger.c: cash, positions, orders, fills and trades, and their snapshot to bytes. See
 * ledger.h. Nothing here reads a price that a fill did not bring.
 */
#include "ledger.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Large arrays (a million bars of equity, tens of thousands of orders) are asked for in
 * transparent huge pages: first-touch page faults were a quarter of the time spent
 * recording orders. Small ones come from malloc as usual. */
#define BIG (UINT64_C(2) << 20)

void *gt_ledger_big_alloc(size_t size)
{
    return gt_alloc_big(size, 1);
}

/* Releases an array of bytes whose size chose it: BIG and more came from gt_alloc_big,
 * less from realloc. */
static void big_free(void *p, size_t bytes)
{
    if (bytes < BIG)
        free(p);
    else
        gt_free_big(p, bytes, 1);
}

void gt_ledger_free_array(void *p, int64_t cap, size_t elem)
{
    big_free(p, (size_t)cap * elem);
}

int gt_ledger_grow(void **p, int64_t *cap, int64_t need, size_t elem)
{
    if (need <= *cap)
        return GT_OK;
    int64_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *np;
    if ((size_t)nc * elem < BIG) {
        np = realloc(*p, (size_t)nc * elem);
    } else {
        np = gt_ledger_big_alloc((size_t)nc * elem);
        if (np && *p) {
            memcpy(np, *p, (size_t)*cap * elem);
            big_free(*p, (size_t)*cap * elem);
        }
    }
    if (!np)
        return gt_seterr(GT_ENOMEM, "ledger: out of memory");
    *p = np;
    *cap = nc;
    return GT_OK;
}

int gt_ledger_init(gt_ledger *L, int32_t k, double cash)
{
    memset(L, 0, sizeof *L);
    L->k = k;
    L->cash = cash;
    L->pos = calloc((size_t)(k > 0 ? k : 1), sizeof *L->pos);
    if (!L->pos)
        return gt_seterr(GT_ENOMEM, "ledger: out of memory");
    for (int32_t j = 0; j < k; j++)
        L->pos[j].trade = -1;
    return GT_OK;
}

void gt_ledger_fini(gt_ledger *L)
{
    if (!L)
        return;
    free(L->pos);
    big_free(L->orders, (size_t)L->cap_orders * sizeof *L->orders);
    big_free(L->work, (size_t)L->cap_work * sizeof *L->work);
    big_free(L->trades, (size_t)L->cap_trades * sizeof *L->trades);
    big_free(L->fills, (size_t)L->cap_fills * sizeof *L->fills);
    memset(L, 0, sizeof *L);
}

int gt_ledger_reserve(gt_ledger *L, int64_t orders, int64_t fills, int64_t trades)
{
    if (gt_ledger_grow((void **)&L->orders, &L->cap_orders, L->norders + orders, sizeof(gt_order)) ||
        gt_ledger_grow((void **)&L->fills, &L->cap_fills, L->nfills + fills, sizeof(gt_fill)) ||
        gt_ledger_grow((void **)&L->trades, &L->cap_trades, L->ntrades + trades, sizeof(gt_trade)))
        return GT_ENOMEM;
    return GT_OK;
}

gt_order *gt_ledger_new_order(gt_ledger *L)
{
    if (gt_ledger_grow((void **)&L->orders, &L->cap_orders, L->norders + 1, sizeof(gt_order)))
        return NULL;
    gt_order *o = &L->orders[L->norders];
    *o = (gt_order){0};
    o->id = ++L->norders;
    return o;
}

int gt_ledger_add_work(gt_ledger *L, int64_t idx)
{
    if (gt_ledger_grow((void **)&L->work, &L->cap_work, L->nwork + 1, sizeof(int64_t)))
        return GT_ENOMEM;
    L->work[L->nwork++] = idx;
    return GT_OK;
}

void gt_ledger_compact_work(gt_ledger *L)
{
    int64_t w = 0;
    for (int64_t r = 0; r < L->nwork; r++)
        if (gt_order_working(&L->orders[L->work[r]]))
            L->work[w++] = L->work[r];
    L->nwork = w;
}

void gt_ledger_cancel(gt_ledger *L, gt_order *o, int32_t status)
{
    if (!gt_order_working(o))
        return;
    o->status = status;
    /* cancelling a bracket entry takes its pending children with it */
    for (int64_t r = 0; r < L->nwork; r++) {
        gt_order *c = &L->orders[L->work[r]];
        if (c->parent == o->id && c->status == GT_ORDER_PENDING)
            c->status = status;
    }
}

/* ---- fills and trades ---- */

static int record_fill(gt_ledger *L, const gt_order *o, int64_t s, int64_t bar, int64_t ts, double dq,
                       double price, double fee)
{
    if (gt_ledger_grow((void **)&L->fills, &L->cap_fills, L->nfills + 1, sizeof(gt_fill)))
        return GT_ENOMEM;
    L->fills[L->nfills++] = (gt_fill){o ? o->id : 0, s, bar, ts, dq, price, fee};
    return GT_OK;
}

static int open_trade(gt_ledger *L, int64_t s, int64_t bar, int64_t ts, double q, double price,
                      double fee)
{
    if (gt_ledger_grow((void **)&L->trades, &L->cap_trades, L->ntrades + 1, sizeof(gt_trade)))
        return GT_ENOMEM;
    gt_ledger_pos *st = &L->pos[s];
    st->trade = L->ntrades++;
    st->exit_value = st->exit_qty = st->trade_gross = 0;
    L->trades[st->trade] = (gt_trade){s, bar, -1, ts, 0, price, price, q, 0, 0, fee};
    return GT_OK;
}

static void close_trade(gt_ledger *L, int64_t s, int64_t bar, int64_t ts)
{
    gt_ledger_pos *st = &L->pos[s];
    gt_trade *t = &L->trades[st->trade];
    t->exit_bar = bar;
    t->exit_ts = ts;
    t->exit_price = st->exit_qty > 0 ? st->exit_value / st->exit_qty : t->exit_price;
    t->pnl = st->trade_gross - t->fees;
    t->return_pct = t->pnl / (fabs(t->size) * t->entry_price) * 100;
    st->trade = -1;
}

int gt_ledger_apply_fill(gt_ledger *L, gt_order *o, int64_t s, int64_t bar, int64_t ts, double dq,
                         double price, double fee)
{
    gt_ledger_pos *st = &L->pos[s];
    double q0 = st->qty, q1 = q0 + dq;
    L->cash -= dq * price + fee;
    st->fees += fee;
    if (record_fill(L, o, s, bar, ts, dq, price, fee))
        return GT_ENOMEM;
    if (o) {
        o->avg_price = (o->avg_price * o->filled + fabs(dq) * price) / (o->filled + fabs(dq));
        o->filled += fabs(dq);
        o->fees += fee;
        o->filled_bar = bar;
    }
    if (fabs(q1) < 1e-12)
        q1 = 0;
    if (q0 == 0) { /* opening */
        st->qty = q1;
        st->avg = price;
        return open_trade(L, s, bar, ts, q1, price, fee);
    }
    if ((q0 > 0) == (dq > 0)) { /* adding */
        st->avg = (fabs(q0) * st->avg + fabs(dq) * price) / fabs(q1);
        st->qty = q1;
        gt_trade *t = &L->trades[st->trade];
        t->entry_price = st->avg;
        t->fees += fee;
        if (fabs(q1) > fabs(t->size))
            t->size = q1;
        return GT_OK;
    }
    /* reducing, closing or reversing */
    double closed = fabs(dq) < fabs(q0) ? fabs(dq) : fabs(q0);
    double frac = closed / fabs(dq); /* share of this fill (and its fee) that closes */
    double pnl = (price - st->avg) * closed * (q0 > 0 ? 1 : -1);
    st->realized += pnl;
    st->trade_gross += pnl;
    st->exit_value += closed * price;
    st->exit_qty += closed;
    L->trades[st->trade].fees += fee * frac;
    if (q1 != 0 && (q1 > 0) == (q0 > 0)) { /* reduced, still open */
        st->qty = q1;
        return GT_OK;
    }
    close_trade(L, s, bar, ts);
    st->qty = q1;
    if (q1 == 0)
        return GT_OK;
    st->avg = price; /* reversed: the remainder opens a new trade */
    return open_trade(L, s, bar, ts, q1, price, fee * (1 - frac));
}

/* ---- snapshot ----
 * Layout: a header (magic, ABI version, the sizes of every record type, k, cash and the
 * counts) and then the arrays as they are in memory. Raw records make a snapshot exact (every
 * double bit for bit) and cheap; the header makes a snapshot from another build (another
 * layout) fail loudly instead of being misread. */
#define SNAP_MAGIC UINT64_C(0x3130474445444c47) /* "GLDEDG01" little-endian */

typedef struct snap_head {
    uint64_t magic;
    int64_t abi, sz_pos, sz_order, sz_trade, sz_fill;
    int64_t k, norders, nwork, ntrades, nfills;
    double cash;
} snap_head;

static int64_t snap_size(const snap_head *h)
{
    return (int64_t)sizeof *h + h->k * h->sz_pos + h->norders * h->sz_order +
           h->nwork * (int64_t)sizeof(int64_t) + h->ntrades * h->sz_trade + h->nfills * h->sz_fill;
}

int64_t gt_ledger_snapshot(const gt_ledger *L, uint8_t *buf, int64_t cap)
{
    if (!L)
        return gt_seterr(GT_EINVAL, "ledger: snapshot of NULL");
    snap_head h = {SNAP_MAGIC,         GT_ABI_VERSION,        sizeof(gt_ledger_pos),
                   sizeof(gt_order),   sizeof(gt_trade),      sizeof(gt_fill),
                   L->k,               L->norders,            L->nwork,
                   L->ntrades,         L->nfills,             L->cash};
    int64_t need = snap_size(&h);
    if (!buf || cap < need)
        return need;
    uint8_t *p = buf;
#define PUT(src, bytes)                       \
    do {                                      \
        size_t b_ = (size_t)(bytes);          \
        if (b_) memcpy(p, (src), b_);         \
        p += b_;                              \
    } while (0)
    PUT(&h, sizeof h);
    PUT(L->pos, h.k * h.sz_pos);
    PUT(L->orders, h.norders * h.sz_order);
    PUT(L->work, h.nwork * (int64_t)sizeof(int64_t));
    PUT(L->trades, h.ntrades * h.sz_trade);
    PUT(L->fills, h.nfills * h.sz_fill);
#undef PUT
    return need;
}

int gt_ledger_restore(gt_ledger *L, const uint8_t *buf, int64_t len)
{
    snap_head h;
    if (!L || !buf || len < (int64_t)sizeof h)
        return gt_seterr(GT_EDATA, "ledger: restore: %lld bytes are not a ledger snapshot",
                         (long long)len);
    memcpy(&h, buf, sizeof h);
    if (h.magic != SNAP_MAGIC)
        return gt_seterr(GT_EDATA, "ledger: restore: not a ledger snapshot (bad magic)");
    if (h.abi != GT_ABI_VERSION || h.sz_pos != (int64_t)sizeof(gt_ledger_pos) ||
        h.sz_order != (int64_t)sizeof(gt_order) || h.sz_trade != (int64_t)sizeof(gt_trade) ||
        h.sz_fill != (int64_t)sizeof(gt_fill))
        return gt_seterr(GT_EDATA, "ledger: restore: the snapshot is from another build (ABI %lld, "
                                   "this one is %d)", (long long)h.abi, GT_ABI_VERSION);
    if (h.k < 1 || h.k > INT32_MAX || h.norders < 0 || h.nwork < 0 || h.ntrades < 0 ||
        h.nfills < 0 || h.nwork > h.norders || h.norders > len || h.nfills > len ||
        h.ntrades > len || snap_size(&h) != len)
        return gt_seterr(GT_EDATA, "ledger: restore: counts do not match the %lld bytes given",
                         (long long)len);
    const uint8_t *p = buf + sizeof h;
    gt_ledger n;
    if (gt_ledger_init(&n, (int32_t)h.k, h.cash) ||
        gt_ledger_reserve(&n, h.norders, h.nfills, h.ntrades) ||
        gt_ledger_grow((void **)&n.work, &n.cap_work, h.nwork > 0 ? h.nwork : 1, sizeof(int64_t))) {
        gt_ledger_fini(&n);
        return GT_ENOMEM;
    }
#define GET(dst, bytes)                       \
    do {                                      \
        size_t b_ = (size_t)(bytes);          \
        if (b_) memcpy((dst), p, b_);         \
        p += b_;                              \
    } while (0)
    GET(n.pos, h.k * h.sz_pos);
    GET(n.orders, h.norders * h.sz_order);
    GET(n.work, h.nwork * (int64_t)sizeof(int64_t));
    GET(n.trades, h.ntrades * h.sz_trade);
    GET(n.fills, h.nfills * h.sz_fill);
#undef GET
    n.norders = h.norders;
    n.nwork = h.nwork;
    n.ntrades = h.ntrades;
    n.nfills = h.nfills;
    /* indices must point inside the arrays they index */
    for (int64_t r = 0; r < n.nwork; r++)
        if (n.work[r] < 0 || n.work[r] >= n.norders)
            goto bad;
    for (int64_t j = 0; j < n.k; j++)
        if (n.pos[j].trade < -1 || n.pos[j].trade >= n.ntrades)
            goto bad;
    gt_ledger_fini(L);
    *L = n;
    return GT_OK;
bad:
    gt_ledger_fini(&n);
    return gt_seterr(GT_EDATA, "ledger: restore: an index in the snapshot points outside it");
}

double gt_ledger_cash(const gt_ledger *L)
{
    return L->cash;
}

int64_t gt_ledger_norders(const gt_ledger *L)
{
    return L->norders;
}

int64_t gt_ledger_ntrades(const gt_ledger *L)
{
    return L->ntrades;
}
