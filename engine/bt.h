/*
 * bt.h: the backtest engine: portfolio ledger (cash, positions with average price,
 * realised PnL, equity per bar) and a simulated broker (market, limit, stop, stop-limit,
 * trailing stop, bracket; day/GTC; cancel/replace; costs; volume cap). The engine owns
 * every array it hands out (equity, trades, orders, fills) until gt_bt_free; it borrows
 * the series, which must outlive it. Its FFI declarations are in the block below.
 *
 * Fill rules (documented for users in examples/BACKTEST.md):
 * - market: at the open of the bar after the decision (GT_FILL_NEXT_OPEN), or at the
 *   decision bar's close (GT_FILL_CLOSE);
 * - limit: at the open when the bar opens through the limit, else at the limit when the
 *   bar's range reaches it; stop: the same, triggered the other way; stop-limit: the stop
 *   turns it into a limit, which can fill in the same bar only when the bar opened through
 *   the stop; trailing stop: a stop that follows the best price since it became active;
 * - market and stop fills pay slippage and half the spread; limit fills are at their price.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_BT_H
#define GT_BT_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- backtest engine (bt.c) ---- */
/* A portfolio ledger and a simulated broker over k aligned series (same bars, same
 * timestamps). One bar is processed as: gt_bt_begin_bar(i) fills working orders against
 * bar i (at the open, or inside the bar's range); the strategy decides at bar i's close
 * (gt_bt_submit / gt_bt_target); gt_bt_end_bar(i) marks equity at the close. The
 * vectorised path (gt_bt_run_targets) runs exactly that loop in C; the event path runs it
 * from Lua with the strategy's on_bar in between. Both reach the same ledger code. */
typedef struct gt_bt gt_bt;

/* GT_FILL_EXTERNAL: a broker outside the engine (a live REST broker) fills the orders. They
 * are booked, gated and kept working as usual, but no bar ever matches them; their fills and
 * final states arrive through gt_bt_external_fill / gt_bt_external_close. A target for a
 * symbol that still has a working order books nothing and returns GT_EBUSY (the caller asks
 * again later), so an order at the broker is never replaced behind its back; targets carry no
 * exit legs (a stop or take-profit is refused with GT_EINVAL). */
enum gt_fill_mode { GT_FILL_NEXT_OPEN = 0, GT_FILL_CLOSE = 1, GT_FILL_EXTERNAL = 2 };
/* When a target's quantity is worked out: at the decision bar's close (the default), or at
 * the fill, from the equity after the bar's earlier fills, at the fill price, in exact
 * floor(equity * fraction / price) units (backtesting.py's rule). */
enum gt_size_at { GT_SIZE_AT_SIGNAL = 0, GT_SIZE_AT_FILL = 1 };
/* The price gt_bt_finish closes open positions at: the last bar's close or its open
 * (backtesting.py's finalize_trades). */
enum gt_end_price { GT_END_CLOSE = 0, GT_END_OPEN = 1 };
enum gt_comm_kind { GT_COMM_PCT = 0, GT_COMM_PER_SHARE = 1, GT_COMM_FIXED = 2 };
enum gt_side { GT_SELL = -1, GT_BUY = 1 };
enum gt_order_type {
    GT_ORDER_MARKET = 0,
    GT_ORDER_LIMIT = 1,
    GT_ORDER_STOP = 2,
    GT_ORDER_STOP_LIMIT = 3,
    GT_ORDER_TRAILING_STOP = 4
};
enum gt_tif { GT_TIF_GTC = 0, GT_TIF_DAY = 1 };
enum gt_order_status {
    GT_ORDER_PENDING = 0, /* a bracket child waiting for its entry to fill */
    GT_ORDER_OPEN = 1,
    GT_ORDER_PARTIAL = 2,
    GT_ORDER_FILLED = 3,
    GT_ORDER_CANCELED = 4,
    GT_ORDER_REJECTED = 5,
    GT_ORDER_EXPIRED = 6
};
enum gt_reject {
    GT_REJECT_NONE = 0,
    GT_REJECT_FUNDS = 1,     /* not enough cash or buying power for even one unit */
    GT_REJECT_NO_SHORT = 2,  /* shorting is off */
    GT_REJECT_BAD_PRICE = 3, /* missing, non-finite or non-positive limit/stop/trail */
    GT_REJECT_BAD_QTY = 4,   /* non-finite, non-positive, or fractional when units are whole */
    GT_REJECT_RISK = 5       /* refused by the pre-trade risk gate (gt_order.risk_rule says why) */
};

typedef struct gt_bt_config {
    double capital;        /* starting cash */
    double commission;     /* GT_COMM_PCT: fraction of notional; PER_SHARE: per unit; FIXED: per order */
    double commission_min; /* minimum commission per fill (PER_SHARE, PCT) */
    double slippage_bps;   /* market and stop fills move against the order by this much */
    double spread_bps;     /* full bid/ask spread: market and stop fills pay half of it */
    double volume_cap;     /* largest fraction of a bar's volume one order may fill; 0 = no cap */
    double leverage;       /* gross exposure allowed per unit of equity; 1 = no margin */
    int32_t fill_mode;     /* gt_fill_mode */
    int32_t comm_kind;     /* gt_comm_kind */
    double stop_pct;       /* > 0: every target entry gets a stop this fraction from its fill */
    double take_pct;       /* > 0: ... and a take-profit limit this fraction from its fill */
    int32_t fractional;    /* 1: fractional units; 0: whole units */
    int32_t allow_short;   /* 1: orders may open short positions */
    int32_t size_at;       /* gt_size_at */
    int32_t end_price;     /* gt_end_price */
} gt_bt_config;

/* What a strategy or workflow asks for. Unused prices are NaN. */
typedef struct gt_order_req {
    int64_t symbol;   /* index into the backtest's series */
    double qty;       /* units, > 0 */
    double limit;     /* LIMIT, STOP_LIMIT */
    double stop;      /* STOP, STOP_LIMIT */
    double trail;     /* TRAILING_STOP: distance in price units, or NaN */
    double trail_pct; /* TRAILING_STOP: distance as a fraction, or NaN */
    int32_t side;     /* gt_side */
    int32_t type;     /* gt_order_type */
    int32_t tif;      /* gt_tif */
    int32_t reserved; /* 0 */
} gt_order_req;

/* An order as the engine tracks it: the request's terms and its state. */
typedef struct gt_order {
    int64_t id;          /* 1, 2, ... in submission order */
    int64_t symbol;      /* index into the backtest's series */
    int64_t created_bar; /* decision bar */
    int64_t filled_bar;  /* bar of the last fill, -1 before any */
    int64_t parent;      /* bracket children: the entry's id; else 0 */
    int64_t oco;         /* the sibling cancelled when this one fills; else 0 */
    double qty;          /* requested units, > 0 */
    double filled;       /* units filled so far */
    double avg_price;    /* average fill price */
    double limit;        /* limit price (LIMIT, STOP_LIMIT) */
    double stop;         /* stop price (STOP, STOP_LIMIT); the current trigger for TRAILING_STOP */
    double trail;        /* TRAILING_STOP: distance in price units, or NaN */
    double trail_pct;    /* TRAILING_STOP: distance as a fraction, or NaN */
    double extreme;      /* TRAILING_STOP: best price since it became active */
    double fees;         /* commissions paid on its fills */
    double frac;         /* GT_SIZE_AT_FILL target orders: the signed fraction; else NaN */
    double exit_pct;     /* target exit legs: distance from the entry's fill; else NaN */
    int32_t side;        /* gt_side */
    int32_t type;        /* gt_order_type */
    int32_t tif;         /* gt_tif */
    int32_t status;      /* gt_order_status */
    int32_t reject;      /* gt_reject */
    int32_t origin;      /* 0 user order, 1 created by gt_bt_target, 2 a target's exit leg */
    int32_t triggered;   /* STOP_LIMIT: the stop has been hit */
    int32_t active_bar;  /* internal: 1 while being processed in the bar it became active */
    int32_t risk_rule;   /* GT_REJECT_RISK: the gate's enum gt_risk_rule */
    int32_t reserved;    /* 0 */
} gt_order;

/* One execution. qty is signed: positive bought, negative sold. */
typedef struct gt_fill {
    int64_t order_id;
    int64_t symbol;
    int64_t bar;
    int64_t ts;
    double qty;
    double price;
    double fee;
} gt_fill;

typedef struct gt_position {
    double qty;        /* signed units */
    double avg_price;  /* average entry price of the open position */
    double realized;   /* realised PnL over the whole run, before fees */
    double fees;       /* commissions paid over the whole run */
    double unrealized; /* qty * (last marked or current close - avg_price) */
    int64_t entry_bar; /* bar of the open trade's first fill, -1 when flat */
} gt_position;

/* series: k pointers to aligned series. Returns NULL with gt_errmsg set on bad input. */
gt_bt *gt_bt_new(const gt_bt_config *cfg, const gt_series *const *series, int32_t k);
void gt_bt_free(gt_bt *bt);
/* After bars were appended to the borrowed series (gt_series_push; the same series objects):
 * takes the new bar count from series 0 and grows the per-bar arrays, keeping what they
 * hold, so begin_bar / end_bar go on over the new bars (a paper session on a polled feed).
 * GT_EINVAL, with nothing changed, when a series has another count or other timestamps, or
 * series 0 has fewer bars than before. Arrays lent before (gt_bt_equity, gt_bt_in_market,
 * gt_bt_risk_states) may move: fetch them again. Per-bar exit levels given to
 * gt_bt_set_exits are the caller's and are not grown. */
int gt_bt_extend(gt_bt *bt);
int gt_bt_begin_bar(gt_bt *bt, int64_t bar);
int gt_bt_end_bar(gt_bt *bt, int64_t bar);
/* Submits at the current bar's close. Returns the order id (> 0) or a negative status. A
 * rejected order still gets an id and is kept with its reason. */
int64_t gt_bt_submit(gt_bt *bt, const gt_order_req *req);
/* An entry (market or limit, per req) whose fill activates a take-profit limit and a
 * stop-loss stop for the filled units, one cancelling the other. NaN skips a leg. When
 * both legs could fill in one bar the stop-loss is assumed to have filled first. */
int64_t gt_bt_bracket(gt_bt *bt, const gt_order_req *entry, double take_profit, double stop_loss);
int gt_bt_cancel(gt_bt *bt, int64_t id);
/* New qty / limit / stop for a working order (NaN keeps the old value). */
int gt_bt_replace(gt_bt *bt, int64_t id, double qty, double limit, double stop);
/* Moves the position in symbol toward fraction of equity (signed; 0 = flat) with a market
 * order sized at the decision bar's close, net of costs. rebalance 0: act only when the
 * direction changes (flat/long/short), the signal semantics; 1: trade to the exact size. */
int64_t gt_bt_target(gt_bt *bt, int64_t symbol, double fraction, int32_t rebalance);
/* The same, with protective exits for the position the target opens or reverses: a stop at
 * stop and a take-profit limit at take (prices; NaN: none, or the config's stop_pct /
 * take_pct from the entry's fill). The legs are one-cancels-other, reduce-only, sized to the
 * position when the entry fills, and cancelled when a later target changes direction. */
int64_t gt_bt_target_exits(gt_bt *bt, int64_t symbol, double fraction, int32_t rebalance,
                           double stop, double take);
/* GT_FILL_EXTERNAL: the broker filled qty (> 0) units of order id at price with fee, at time
 * ts: cash, position, trades and the order's fill state move as for a simulated fill, and the
 * gate counts the fill. The broker is the truth: a fill beyond the booked quantity raises it
 * (the order was adopted at the broker's size), and a fill of an order the engine already
 * closed (a cancel that crossed the fill) still moves the books. GT_EINVAL on a bad number,
 * GT_ENOTFOUND on an unknown id, GT_ESTATE in another fill mode or for a rejected order. */
int gt_bt_external_fill(gt_bt *bt, int64_t id, double qty, double price, double fee, int64_t ts);
/* GT_FILL_EXTERNAL: the broker closed working order id: status GT_ORDER_CANCELED,
 * GT_ORDER_EXPIRED or GT_ORDER_REJECTED (what it filled before stays filled). An order no
 * longer working is left alone (GT_OK). */
int gt_bt_external_close(gt_bt *bt, int64_t id, int32_t status);
/* GT_FILL_EXTERNAL: books a working market order the broker made on the session's behalf
 * (a position closed by the kill switch's flatten), so its fills land on an order of the
 * books. It bypasses the risk gate: the gate did not decide it and cannot refuse it.
 * side GT_BUY or GT_SELL, qty > 0. Returns the order id or a negative status. */
int64_t gt_bt_external_order(gt_bt *bt, int64_t symbol, int32_t side, double qty);
/* Per-bar exit levels for the vectorised path (NULL: none): stop[i] / take[i] apply to the
 * entry decided at bar i. The arrays are borrowed until the run ends. */
int gt_bt_set_exits(gt_bt *bt, int64_t symbol, const double *stop, const double *take);
/* The vectorised path: bars start..end-1, fraction targets[j][i] * scale for symbol j (NaN
 * = no decision), rebalance as in gt_bt_target. Bars before start are marked, not traded. */
int gt_bt_run_targets(gt_bt *bt, const double *const *targets, double scale, int64_t start,
                      int64_t end, int32_t rebalance);
/* Closes every open position at the last marked bar's close (with costs) and cancels
 * working orders. */
int gt_bt_finish(gt_bt *bt);

/* Live view of the positions: symbol j's signed quantity is qty[j * gt_bt_qty_stride()]. */
const double *gt_bt_qty(const gt_bt *bt);
int64_t gt_bt_qty_stride(void);
double gt_bt_cash(const gt_bt *bt);
double gt_bt_equity_now(const gt_bt *bt);
int gt_bt_position(const gt_bt *bt, int64_t symbol, gt_position *out);
/* Arrays owned by the engine, valid until gt_bt_free; each returns its length. */
int64_t gt_bt_equity(const gt_bt *bt, const double **out);
int64_t gt_bt_in_market(const gt_bt *bt, const uint8_t **out);
int64_t gt_bt_trades(const gt_bt *bt, const gt_trade **out);
int64_t gt_bt_orders(const gt_bt *bt, const gt_order **out);
int64_t gt_bt_fills(const gt_bt *bt, const gt_fill **out);
const gt_order *gt_bt_order(const gt_bt *bt, int64_t id);
const char *gt_bt_reject_text(int32_t reason);
/* The largest starting capital gt_bt_new accepts. */
double gt_bt_max_capital(void);

/* A read-only window on a column for a strategy's on_bar: reading past *limit (the
 * current bar) is a look-ahead error raised by gt.backtest. */
typedef struct gt_view {
    const double *p;
    int64_t n;
    const int64_t *limit;
} gt_view;
/* ---- end ffi ---- */


/* Starting capital above this is refused: sums of positions stay far from overflow and the
 * sizing arithmetic exact to the cent. gt_bt_max_capital() gives it to Lua. */
#define GT_BT_MAX_CAPITAL 1e15
/* A target is a signed fraction of equity; beyond this it is a mistake, not a position. */
#define GT_BT_MAX_TARGET 100.0

#endif
