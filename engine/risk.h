/*
 * risk.h: the pre-trade risk gate and the circuit breakers. gt_risk_check runs on every
 * order in every mode before any broker sees it: order sanity (finite positive quantity and
 * price, a fresh reference price), a tiered price collar, size and notional caps, per-account
 * exposure caps counting open orders, duplicates and throttles, and the trading state
 * (ACTIVE, REDUCING: only exposure-reducing orders, HALTED: nothing) that the breakers set
 * from gt_risk_on_bar / _on_fill / _on_reject / _on_stopout and the kill switch.
 * Pure C over what the caller passes: no series, no clock (time is the engine's "now"), no
 * I/O. The handle owns a copy of the limits and all state; gt_risk_snapshot gives the state
 * as bytes for the orchestrator to persist. Its FFI declarations are in the block below for Lua.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_RISK_H
#define GT_RISK_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- risk (risk.c): the pre-trade gate every order passes, and circuit breakers ---- */
/* One gt_risk handle owns its limits, the breaker state and a memory of accepted orders
 * (duplicates, throttles). Time is the engine's "now" in epoch microseconds, never the wall
 * clock, so a backtest passes bar time. A limit that is 0 or NaN is off. */
enum gt_risk_rule {
    GT_RISK_PASS = 0,
    GT_RISK_HALTED = 1,        /* trading state HALTED: nothing passes */
    GT_RISK_REDUCING = 2,      /* trading state REDUCING: only exposure-reducing orders */
    GT_RISK_BAD_ORDER = 3,     /* symbol, side or type missing or unknown */
    GT_RISK_BAD_QTY = 4,       /* quantity not finite and > 0 */
    GT_RISK_BAD_PRICE = 5,     /* limit/stop price not finite and > 0, or given on a market */
    GT_RISK_NO_REFERENCE = 6,  /* reference price missing, <= 0 or not finite */
    GT_RISK_STALE = 7,         /* reference older than max_ref_age_us, or from the future */
    GT_RISK_COLLAR = 8,        /* price further from the reference than the tier's band */
    GT_RISK_MAX_QTY = 9,       /* quantity above max_qty */
    GT_RISK_MAX_NOTIONAL = 10, /* quantity * price above max_notional (or not finite) */
    GT_RISK_BAD_ACCOUNT = 11,  /* account figures not finite / equity <= 0: fail closed */
    GT_RISK_MAX_POSITION = 12, /* |position after| * ref above max_position * equity */
    GT_RISK_MAX_GROSS = 13,    /* gross + open orders + this above max_gross * equity */
    GT_RISK_CASH_RESERVE = 14, /* cash after this buy below min_cash_reserve * equity */
    GT_RISK_MAX_POSITIONS = 15, /* would open position number max_positions + 1 */
    GT_RISK_DUPLICATE = 16,    /* same symbol, side, qty, price within dup_window_us */
    GT_RISK_THROTTLE_SEC = 17, /* max_per_sec accepted in the last second */
    GT_RISK_THROTTLE_MIN = 18, /* max_per_min accepted in the last minute */
    GT_RISK_RULE_COUNT = 19
};
enum gt_risk_state { GT_RISK_ACTIVE = 0, GT_RISK_STATE_REDUCING = 1, GT_RISK_STATE_HALTED = 2 };
enum gt_risk_side { GT_RISK_BUY = 1, GT_RISK_SELL = -1 };
enum gt_risk_type { GT_RISK_MARKET = 0, GT_RISK_LIMIT = 1, GT_RISK_STOP = 2,
                    GT_RISK_STOP_LIMIT = 3 };
/* Why the state is what it is (gt_risk_status.causes bits). */
enum gt_risk_cause {
    GT_RISK_CAUSE_KILL = 1,       /* gt_risk_halt: until gt_risk_resume */
    GT_RISK_CAUSE_DAILY_LOSS = 2, /* REDUCING until the next UTC day */
    GT_RISK_CAUSE_DRAWDOWN = 4,   /* HALTED until resume */
    GT_RISK_CAUSE_STOPOUTS = 8,   /* HALTED until resume */
    GT_RISK_CAUSE_REJECTS = 16,   /* HALTED until resume */
    GT_RISK_CAUSE_VOL_REDUCE = 32, /* REDUCING until the cool-down ends below vol_reduce */
    GT_RISK_CAUSE_VOL_HALT = 64   /* HALTED until the cool-down ends below vol_reduce */
};
typedef struct gt_risk_limits {
    double max_qty;             /* per order */
    double max_notional;        /* per order, account currency */
    double max_position;        /* per symbol, fraction of equity */
    double max_gross;           /* gross exposure incl. open orders, fraction of equity */
    double min_cash_reserve;    /* fraction of equity left in cash after a buy */
    double max_positions;       /* open positions */
    double collar_low;          /* band (0.08 = 8 %) for reference <= collar_tier1 */
    double collar_mid;          /* band for collar_tier1 < reference <= collar_tier2 */
    double collar_high;         /* band above collar_tier2 */
    double collar_tier1;        /* $25 */
    double collar_tier2;        /* $50 */
    double max_daily_loss;      /* fraction of the day's starting equity -> REDUCING */
    double max_drawdown;        /* fraction below the equity peak -> HALTED */
    double vol_warn;            /* annualised vol -> warning flag */
    double vol_reduce;          /* -> REDUCING */
    double vol_halt;            /* -> HALTED */
    double vol_periods_per_year; /* 252 when 0/NaN */
    int64_t max_ref_age_us;     /* staleness limit of the reference price */
    int64_t dup_window_us;      /* identical orders closer than this are refused */
    int64_t stopout_window_us;  /* max_stopouts within this -> HALTED (0: no window) */
    int64_t vol_cooldown_us;    /* minimum time a volatility trip lasts */
    int32_t max_per_sec;        /* accepted orders per second (<= 1024) */
    int32_t max_per_min;        /* accepted orders per minute (<= 1024) */
    int32_t max_stopouts;       /* (<= 64) */
    int32_t max_consec_rejects; /* broker rejects in a row -> HALTED */
    int32_t vol_window;         /* returns in the volatility window (20; <= 256) */
    int32_t pad;
} gt_risk_limits;
typedef struct gt_risk_order {
    const char *symbol;
    int32_t side;      /* enum gt_risk_side */
    int32_t type;      /* enum gt_risk_type */
    double qty;        /* > 0 */
    double price;      /* limit price (stop price for STOP); NaN for MARKET */
    double stop_price; /* STOP_LIMIT's trigger; NaN otherwise */
    double ref_price;  /* last trade/quote/close the engine trusts */
    int64_t ref_ts;    /* when ref_price was observed, epoch us */
    int64_t now;       /* the engine's clock, epoch us */
    int32_t reduces;   /* 1: meant to reduce exposure (checked against the position) */
    int32_t pad;
} gt_risk_order;
typedef struct gt_risk_account {
    double equity;
    double cash;
    double position_qty;   /* this symbol, signed */
    double position_price; /* this symbol's average price (informational) */
    double gross_exposure; /* sum |qty| * price over positions */
    double open_exposure;  /* sum qty * price over working orders that add exposure */
    int32_t n_positions;
    int32_t pad;
} gt_risk_account;
typedef struct gt_risk_status {
    int32_t state;  /* enum gt_risk_state */
    int32_t causes; /* enum gt_risk_cause bits */
    int32_t vol_warning;
    int32_t consec_rejects;
    int64_t day;    /* UTC day number of the last on_bar */
    int64_t checks;
    int64_t accepted;
    double equity;  /* last equity seen by on_bar */
    double peak;
    double day_start;
    double daily_loss; /* fraction */
    double drawdown;   /* fraction */
    double vol;        /* annualised, NaN until the window fills */
    int64_t refused[19]; /* per enum gt_risk_rule */
} gt_risk_status;
typedef struct gt_risk gt_risk;
/* Copies limits; NULL with gt_errmsg() when a limit is out of range (named). */
gt_risk *gt_risk_new(const gt_risk_limits *limits);
void gt_risk_free(gt_risk *r);
/* GT_RISK_PASS (0) or the refusing rule; an accepted order is remembered. */
int gt_risk_check(gt_risk *r, const gt_risk_order *o, const gt_risk_account *a);
/* The last refusal in words with the values and what to do; "" after a pass. */
const char *gt_risk_reason(gt_risk *r);
const char *gt_risk_rule_name(int32_t rule);
int gt_risk_state(const gt_risk *r);
void gt_risk_status_get(const gt_risk *r, gt_risk_status *out);
/* Breaker inputs. close NaN: equity only; equity NaN: close only. */
void gt_risk_on_bar(gt_risk *r, int64_t now, double equity, double close);
void gt_risk_on_fill(gt_risk *r, int64_t now);
void gt_risk_on_reject(gt_risk *r, int64_t now);
void gt_risk_on_stopout(gt_risk *r, int64_t now);
/* Kill switch: HALTED with reason until gt_risk_resume, which clears every latched cause and
 * restarts the peak and the day at the last equity. */
void gt_risk_halt(gt_risk *r, const char *reason);
void gt_risk_resume(gt_risk *r);
/* The kill switch's reason, or "" when not halted by gt_risk_halt. */
const char *gt_risk_halt_reason(const gt_risk *r);
/* The process-wide kill switch: gt_risk_kill_all() (async-signal-safe: the host calls it on
 * SIGUSR1) makes every gate halt (kill switch) at its next check or bar; 1 once requested.
 * gt_risk_killed: the gate is halted by the kill switch (until gt_risk_resume). */
void gt_risk_kill_all(void);
int gt_risk_kill_requested(void);
void gt_risk_kill_clear(void);
int gt_risk_killed(const gt_risk *r);
/* The whole state (not the limits) as bytes: returns the size needed; writes only when cap
 * is enough. restore: GT_OK, or GT_EPARSE naming what does not match. */
int64_t gt_risk_snapshot(const gt_risk *r, uint8_t *buf, int64_t cap);
int gt_risk_restore(gt_risk *r, const uint8_t *buf, int64_t len);
/* ---- end ffi ---- */


/* Capacities of the fixed rings inside the state (so a snapshot is one flat copy). */
#define GT_RISK_ORDER_RING 1024 /* accepted orders: duplicates and throttles */
#define GT_RISK_STOP_RING 64    /* stop-out times */
#define GT_RISK_VOL_RING 256    /* returns in the volatility window */

/* Decimal prices are not exact in binary (51.51 - 50.5 is 1.0100000000000016): a price
 * within this much (a fraction of the reference) of the collar edge counts as on it. One cent
 * on $10,000 is 1e-6, so a tick is never lost to it. */
#define GT_RISK_COLLAR_EPS 1e-9

#define GT_RISK_US_PER_DAY (86400LL * 1000000LL)

#endif
