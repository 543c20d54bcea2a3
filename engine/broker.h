/*
 * broker.h: the Alpaca Trading API v2 client: account, clock, positions, orders and fill
 * activities, over one gt_http client (engine/http.c: TLS verified, http:// only to
 * loopback, timeouts, the process-wide rate limit) and cJSON. A gt_broker owns its HTTP
 * client, its API keys (a separate mlock'ed buffer, wiped by gt_broker_free) and the
 * records the last call parsed (orders, positions, fills, per-item results of cancel-all
 * and close-all, the account, the clock), which stay valid until its next call.
 *
 * Every call classifies its HTTP outcome (gt_broker_outcome) so callers can tell a definite
 * refusal from an unknown result: only UNKNOWN means "the request may or may not have taken
 * effect". Numbers arrive as decimal strings; a field that is missing, null where it may not
 * be, or unreadable is an error naming it, never a silent zero. Keys never appear in an
 * error message or the trace: they are registered with http.c's scrubber when loaded.
 * Not thread-safe: one broker per thread.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_BROKER_H
#define GT_BROKER_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- broker (broker.c): the Alpaca Trading API v2 over http.c ---- */
typedef struct gt_broker gt_broker;

/* How a request ended. RATE_LIMITED and NOT_FOUND are definite: the request had no effect. */
enum gt_broker_outcome {
    GT_BROKER_OK = 0,
    GT_BROKER_REJECTED = 1,     /* a definite refusal: 4xx other than 404, 408 and 429 */
    GT_BROKER_NOT_FOUND = 2,    /* 404 */
    GT_BROKER_RATE_LIMITED = 3, /* 429 (or a 429 block still running): not accepted */
    GT_BROKER_UNKNOWN = 4,      /* timeout, dropped connection, 5xx, 408, 3xx, a truncated or
                                   unreadable body: it may or may not have taken effect */
    GT_BROKER_LOCAL = 5         /* refused before anything was sent (arguments, keys, URL) */
};

/* Every order status Alpaca documents. */
enum gt_alpaca_status {
    GT_ALPACA_NEW = 0,
    GT_ALPACA_PARTIALLY_FILLED = 1,
    GT_ALPACA_FILLED = 2,
    GT_ALPACA_DONE_FOR_DAY = 3,
    GT_ALPACA_CANCELED = 4,
    GT_ALPACA_EXPIRED = 5,
    GT_ALPACA_REPLACED = 6,
    GT_ALPACA_PENDING_CANCEL = 7,
    GT_ALPACA_PENDING_REPLACE = 8,
    GT_ALPACA_PENDING_REVIEW = 9,
    GT_ALPACA_ACCEPTED = 10,
    GT_ALPACA_PENDING_NEW = 11,
    GT_ALPACA_ACCEPTED_FOR_BIDDING = 12,
    GT_ALPACA_STOPPED = 13,
    GT_ALPACA_REJECTED = 14,
    GT_ALPACA_SUSPENDED = 15,
    GT_ALPACA_CALCULATED = 16,
    GT_ALPACA_HELD = 17,
    GT_ALPACA_STATUS_COUNT = 18
};
/* "new", "partially_filled", ...; NULL outside the enum. */
const char *gt_alpaca_status_name(int32_t status);
/* The enum value of an Alpaca status string, or -1. */
int32_t gt_alpaca_status_parse(const char *name);

/* What a call did. message: Alpaca's "message" on a refusal (scrubbed, control characters
 * removed) or what failed; never a key. */
typedef struct gt_broker_result {
    int32_t outcome;     /* gt_broker_outcome */
    int32_t http_status; /* of the last attempt; 0 when no response arrived */
    int64_t count;       /* records this call left in the broker (orders, positions, ...) */
    int64_t api_code;    /* the "code" of Alpaca's error body; 0 when none */
    double reset_in_s;   /* RATE_LIMITED: seconds until the limit resets; -1 when unknown */
    double waited_s;     /* time spent waiting (rate limit, 429 block, retries) */
    char message[256];
} gt_broker_result;

/* An order as Alpaca reports it. Prices and quantities absent or null are NaN; times are
 * epoch microseconds UTC, 0 when null. A bracket's legs follow their parent in the list,
 * with parent_id set. */
typedef struct gt_broker_order {
    char id[64];
    char client_order_id[64];
    char parent_id[64]; /* "" unless this is a leg */
    char replaced_by[64];
    char replaces[64];
    char symbol[32];
    char side[8];         /* buy | sell */
    char type[16];        /* market | limit | stop | stop_limit | trailing_stop */
    char tif[8];          /* day | gtc | opg | cls | ioc | fok */
    char order_class[16]; /* simple | bracket | oco | oto | mleg ("simple" when absent) */
    double qty;           /* NaN for a notional order */
    double notional;
    double filled_qty;
    double filled_avg_price;
    double limit_price;
    double stop_price;
    double trail_price;
    double trail_percent;
    int32_t status; /* gt_alpaca_status */
    int32_t extended_hours;
    int64_t created_at;
    int64_t updated_at;
    int64_t submitted_at;
    int64_t filled_at;
    int64_t canceled_at;
    int64_t expired_at;
    int64_t failed_at;
    int64_t replaced_at;
} gt_broker_order;

/* A new order (gt_broker_submit) or the changes of a replace (gt_broker_replace): strings
 * "" and numbers NaN are left out of the request. */
typedef struct gt_broker_order_req {
    char symbol[32];
    char side[8];
    char type[16];
    char tif[8];
    char client_order_id[64]; /* at most 48 characters: [A-Za-z0-9._:-] */
    char order_class[16];     /* "" or simple | bracket | oco | oto */
    double qty;
    double notional;
    double limit_price;
    double stop_price;
    double trail_price;
    double trail_percent;
    double take_profit_limit; /* bracket / oco / oto legs */
    double stop_loss_stop;
    double stop_loss_limit;
    int32_t extended_hours;
    int32_t pad;
} gt_broker_order_req;

/* A position; qty is signed (negative when short). */
typedef struct gt_broker_position {
    char symbol[32];
    char side[8]; /* long | short */
    char asset_id[64];
    double qty;
    double qty_available; /* NaN when absent */
    double avg_entry_price;
    double market_value;
    double unrealized_pl;
    double current_price;
} gt_broker_position;

/* One FILL account activity (a whole or partial execution). */
typedef struct gt_broker_fill {
    char id[96]; /* the activity id: unique, and the page token of the next page */
    char order_id[64];
    char symbol[32];
    char side[16];         /* buy | sell | sell_short */
    char type[16];         /* fill | partial_fill ("" when absent) */
    char order_status[24]; /* as reported ("" when absent) */
    double qty;
    double price;
    double cum_qty;    /* NaN when absent */
    double leaves_qty; /* NaN when absent */
    int64_t transaction_time;
} gt_broker_fill;

/* One item of a cancel-all (id: the order) or close-all (symbol, order_id: the closing
 * order) answer: status is that item's own HTTP status. */
typedef struct gt_broker_item {
    char id[64];
    char symbol[32];
    char order_id[64];
    char message[128];
    int32_t status;
    int32_t pad;
} gt_broker_item;

typedef struct gt_broker_account {
    char id[64];
    char status[32];
    char currency[8];
    double cash;
    double buying_power;
    double equity;
    double last_equity;     /* NaN when absent */
    double multiplier;      /* NaN when absent */
    double portfolio_value; /* NaN when absent */
    int64_t daytrade_count; /* -1 when absent */
    int32_t trading_blocked;
    int32_t account_blocked;
    int32_t pattern_day_trader; /* -1 when absent */
    int32_t pad;
} gt_broker_account;

typedef struct gt_broker_clock {
    int64_t timestamp;
    int64_t next_open;
    int64_t next_close;
    int32_t is_open;
    int32_t pad;
} gt_broker_clock;

/* What a body parses as (gt_broker_parse: tests and the fuzz target). */
enum gt_broker_kind {
    GT_BROKER_ORDER = 0,
    GT_BROKER_ORDERS = 1,
    GT_BROKER_POSITION = 2,
    GT_BROKER_POSITIONS = 3,
    GT_BROKER_FILLS = 4,
    GT_BROKER_CANCELS = 5,
    GT_BROKER_CLOSES = 6,
    GT_BROKER_ACCOUNT = 7,
    GT_BROKER_CLOCK = 8
};

/* base_url: NULL or "" takes $APCA_API_BASE_URL, else the paper or live endpoint (paper
 * != 0: https://paper-api.alpaca.markets, else https://api.alpaca.markets). https only
 * (http:// only to loopback); a trailing "/" or "/v2" is dropped; paper with the live host
 * or live with the paper host is refused. Defaults: connect 5 s, total 20 s, GETs retried
 * twice, 429 resets waited up to 65 s, the process-wide limit for the host 180/min burst 5
 * (under Alpaca's 200/min). */
gt_broker *gt_broker_new(const char *base_url, int32_t paper);
/* Wipes the keys; accepts NULL. */
void gt_broker_free(gt_broker *b);
const char *gt_broker_base_url(const gt_broker *b);
/* The process-wide rate limit of the broker's host (every client shares it), and the same
 * as this client's own cap. */
int gt_broker_set_rate(gt_broker *b, double per_minute, double burst);
/* ms (0 keeps); GET retries (POST, PATCH and DELETE are never retried); longest 429 wait. */
int gt_broker_set_timeouts(gt_broker *b, int64_t connect_ms, int64_t total_ms);
int gt_broker_set_retries(gt_broker *b, int32_t retries);
int gt_broker_set_max_wait(gt_broker *b, double seconds);
/* curl's verbose trace to fd (scrubbed: gt_http_set_trace); -1: none. */
int gt_broker_set_trace(gt_broker *b, int32_t fd);
int gt_broker_set_cainfo(gt_broker *b, const char *path);
/* Keys from a JSON key file {"key_id": ..., "secret_key": ...} (APCA_API_KEY_ID /
 * APCA_API_SECRET_KEY accepted as names) that must be a regular file of this user with
 * mode 0600 or 0400 (else GT_EDENIED naming `chmod 600`); or from APCA_API_KEY_ID and
 * APCA_API_SECRET_KEY, which are then wiped and removed from the environment. Either way
 * the keys are registered with the scrubber and core dumps are disabled for the process. */
int gt_broker_keys_file(gt_broker *b, const char *path);
int gt_broker_keys_env(gt_broker *b);
int gt_broker_has_keys(const gt_broker *b);
/* Core dumps off (RLIMIT_CORE 0, PR_SET_DUMPABLE 0): a dump would hold the keys. */
int gt_secure_process(void);

/* The calls. Each returns GT_OK when the outcome is OK; otherwise a negative status
 * (GT_EDENIED rejected, GT_ENOTFOUND, GT_EHTTP rate limited or 5xx, GT_ENET / GT_ETIMEOUT,
 * GT_EDATA an unreadable body, GT_EINVAL local) with gt_errmsg naming the call, and res
 * always filled. Records go to the broker's lists (gt_broker_order_at, ...). */
int gt_broker_account_get(gt_broker *b, gt_broker_result *res);
int gt_broker_clock_get(gt_broker *b, gt_broker_result *res);
int gt_broker_positions(gt_broker *b, gt_broker_result *res);
int gt_broker_position_get(gt_broker *b, const char *symbol, gt_broker_result *res);
/* DELETE /v2/positions (cancel_orders != 0 adds ?cancel_orders=true): per-symbol items. */
int gt_broker_close_all(gt_broker *b, int32_t cancel_orders, gt_broker_result *res);
/* POST /v2/orders, sent once. */
int gt_broker_submit(gt_broker *b, const gt_broker_order_req *req, gt_broker_result *res);
int gt_broker_order_get(gt_broker *b, const char *order_id, gt_broker_result *res);
int gt_broker_order_by_client_id(gt_broker *b, const char *client_order_id, gt_broker_result *res);
/* status "open" | "closed" | "all" (NULL: open); after/until epoch us (0: none); limit
 * 1..500 (0: Alpaca's 50); direction "asc" | "desc" (NULL: desc); symbols "A,B" or NULL.
 * Legs are rolled up (nested=true) and flattened after their parent. */
int gt_broker_orders_list(gt_broker *b, const char *status, int64_t after_us, int64_t until_us,
                          int32_t limit, const char *direction, const char *symbols,
                          gt_broker_result *res);
/* PATCH /v2/orders/{id} (qty, tif, limit_price, stop_price, trail, client_order_id from
 * req): the answer is a new order with a new id; sent once. */
int gt_broker_replace(gt_broker *b, const char *order_id, const gt_broker_order_req *req,
                      gt_broker_result *res);
int gt_broker_cancel(gt_broker *b, const char *order_id, gt_broker_result *res);
/* DELETE /v2/orders: per-order items. */
int gt_broker_cancel_all(gt_broker *b, gt_broker_result *res);
/* One page of FILL activities, oldest first, after after_us (0: none), from page_token
 * (the id of the last activity of the previous page; NULL or "" for the first page);
 * page_size 1..100 (0: 100). A page shorter than page_size is the last. */
int gt_broker_fills(gt_broker *b, int64_t after_us, const char *page_token, int32_t page_size,
                    gt_broker_result *res);
/* Parses a response body as kind into the broker's records, as the calls do. */
int gt_broker_parse(gt_broker *b, int32_t kind, const char *json, int64_t len,
                    gt_broker_result *res);

/* The records of the last call (NULL past the end). */
const gt_broker_order *gt_broker_order_at(const gt_broker *b, int64_t i);
const gt_broker_position *gt_broker_position_at(const gt_broker *b, int64_t i);
const gt_broker_fill *gt_broker_fill_at(const gt_broker *b, int64_t i);
const gt_broker_item *gt_broker_item_at(const gt_broker *b, int64_t i);
const gt_broker_account *gt_broker_account_last(const gt_broker *b);
const gt_broker_clock *gt_broker_clock_last(const gt_broker *b);
/* ---- end ffi ---- */

#endif
