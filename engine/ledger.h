/*
 * ledger.h: the books of an account: cash, positions with their average price and
 * realised PnL, every order (request and state), the working-order list, fills and
 * round-trip trades. It knows nothing of bars, series or prices beyond what a fill hands
 * it, so the backtester, paper trading and a live session keep their books the same way.
 * It snapshots to bytes and restores from them (kill-and-resume).
 *
 * Ownership: the ledger owns every array; pointers into them are valid until the next call
 * that adds an order, a fill or a trade. The FFI surface (snapshot/restore) is in gt_ffi.h.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_LEDGER_H
#define GT_LEDGER_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- ledger (ledger.c): the books of an account, kept alike in every mode ---- */
typedef struct gt_ledger gt_ledger;
/* The backtest's ledger (owned by the backtest). */
gt_ledger *gt_bt_ledger(gt_bt *bt);
/* After gt_ledger_restore of a snapshot taken when bar `bar` had been marked, a backtest
 * that has not run continues from bar + 1 (equity before `bar` is NaN: a snapshot holds the
 * books, not their history). */
int gt_bt_resume_at(gt_bt *bt, int64_t bar);
/* Writes the ledger (cash, positions, orders, fills, trades) into buf when cap is large
 * enough; returns the size a snapshot needs either way (call with cap 0 to ask). */
int64_t gt_ledger_snapshot(const gt_ledger *L, uint8_t *buf, int64_t cap);
/* Replaces L's contents with a snapshot's. Bytes that are not a snapshot of this build
 * (another layout, truncated, indices out of range) fail with GT_EDATA and change nothing. */
int gt_ledger_restore(gt_ledger *L, const uint8_t *buf, int64_t len);
double gt_ledger_cash(const gt_ledger *L);
int64_t gt_ledger_norders(const gt_ledger *L);
int64_t gt_ledger_ntrades(const gt_ledger *L);
/* ---- end ffi ---- */

#include <stddef.h>


/* One symbol's position. qty is the first member: gt_bt_qty() lends &pos[0].qty with a
 * stride of sizeof(gt_ledger_pos) / sizeof(double). */
typedef struct gt_ledger_pos {
    double qty, avg, realized, fees;
    int64_t trade;      /* index of the open trade in trades[], -1 when flat */
    double exit_value;  /* sum of qty * price of the open trade's reducing fills */
    double exit_qty;
    double trade_gross; /* realised PnL of the open trade before fees */
} gt_ledger_pos;

struct gt_ledger {
    int32_t k;
    double cash;
    gt_ledger_pos *pos;
    gt_order *orders;
    int64_t norders, cap_orders;
    int64_t *work; /* indices of working orders (pending, open, partial), in submission order */
    int64_t nwork, cap_work;
    gt_trade *trades;
    int64_t ntrades, cap_trades;
    gt_fill *fills;
    int64_t nfills, cap_fills;
};

int gt_ledger_init(gt_ledger *L, int32_t k, double cash);
void gt_ledger_fini(gt_ledger *L);

/* Grows *p (cap elements of elem bytes) to hold need; large arrays come in huge pages. */
int gt_ledger_grow(void **p, int64_t *cap, int64_t need, size_t elem);
/* Releases an array gt_ledger_grow made (cap elements of elem bytes): a large one is not
 * malloc's to free. Accepts NULL. */
void gt_ledger_free_array(void *p, int64_t cap, size_t elem);
void *gt_ledger_big_alloc(size_t size);
/* Room for `more` orders, fills and trades at once (a run that knows its decisions). */
int gt_ledger_reserve(gt_ledger *L, int64_t orders, int64_t fills, int64_t trades);

/* A new order slot with the next id (1, 2, ...), zeroed; NULL when out of memory. */
gt_order *gt_ledger_new_order(gt_ledger *L);
int gt_ledger_add_work(gt_ledger *L, int64_t idx);
void gt_ledger_compact_work(gt_ledger *L);
/* Cancels (or expires) a working order and the pending bracket children it carries. */
void gt_ledger_cancel(gt_ledger *L, gt_order *o, int32_t status);

/* Applies a signed fill dq at price with fee to symbol s at bar / ts: cash, average
 * price, realised PnL, the order's fill state (o may be NULL for a closing fill of the
 * engine's own) and the trade records (a reversal closes one trade and opens the next). */
int gt_ledger_apply_fill(gt_ledger *L, gt_order *o, int64_t s, int64_t bar, int64_t ts, double dq,
                         double price, double fee);

static inline int gt_order_working(const gt_order *o)
{
    return o->status == GT_ORDER_OPEN || o->status == GT_ORDER_PARTIAL ||
           o->status == GT_ORDER_PENDING;
}

static inline gt_order *gt_ledger_find(gt_ledger *L, int64_t id)
{
    return id >= 1 && id <= L->norders ? &L->orders[id - 1] : NULL;
}

#endif
