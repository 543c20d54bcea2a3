/*
 * gt_ffi.h: the one contract between the C core and Lua. The build embeds this file
 * (preprocessor lines stripped) and gt.ffi hands it to ffi.cdef; C includes it through
 * gt.h. Rules (DESIGN.md section 2): pointers and fixed-width scalars only, no structs by
 * value, no varargs, at most 8 arguments, constants as enums. Every struct declared here
 * is listed in gt.c's layout table, which a test compares with ffi.sizeof/ffi.offsetof.
 */
#ifndef GT_FFI_H
#define GT_FFI_H
#include <stddef.h>
#include <stdint.h>

/* Bump on any change to a struct or function signature below. */
enum { GT_ABI_VERSION = 1 };

/* ---- core (gt.c) ---- */
int gt_abi_version(void);
const char *gt_version(void);
const char *gt_errmsg(void);
const char *gt_status_name(int code);
const char *gt_strerror(int code);
void gt_clearerr(void);
int gt_is_interrupted(void);
void gt_clear_interrupt(void);

/* One row of the struct layout table: C's own view of every struct in this file. */
typedef struct gt_layout {
    const char *type;  /* struct name as declared here, e.g. "gt_series" */
    const char *field; /* NULL for the row that gives the struct's size */
    int64_t offset;    /* offsetof, or -1 on the size row */
    int64_t size;      /* sizeof the field, or of the struct on the size row */
} gt_layout;
/* Points *out at the table and returns its length. */
int64_t gt_layout_table(const gt_layout **out);

/* ---- series (series.c): one symbol at one timeframe, columns oldest first ---- */
/* Columns are C-owned; a view (cap == 0) borrows another series' memory. Timestamps
 * are int64 epoch microseconds UTC, strictly increasing. */
typedef struct gt_series {
    int64_t *ts;
    double *open;
    double *high;
    double *low;
    double *close;
    double *volume;
    int64_t n;   /* bars in use */
    int64_t cap; /* bars allocated; 0 for a view */
} gt_series;

gt_series *gt_series_new(int64_t cap);
void gt_series_free(gt_series *s);
int gt_series_reserve(gt_series *s, int64_t cap);
int gt_series_push(gt_series *s, int64_t ts, double open, double high, double low,
                   double close, double volume);
int gt_series_shrink(gt_series *s);
/* Index of the first bar with ts >= t (n when none). */
int64_t gt_series_lower_bound(const gt_series *s, int64_t t);

/* Resampling to a coarser timeframe. Bars are grouped into calendar buckets (UTC):
 * minutes and hours aligned to the epoch, days at midnight, weeks Monday..Sunday, months.
 * open = first open, high = max, low = min, close = last close, volume = sum. The output
 * bar is stamped with its bucket's start (GT_LABEL_START, the providers' convention) or
 * with the last source bar's timestamp (GT_LABEL_LAST: a weekly bar is dated on the
 * week's last trading day). */
enum gt_tf_unit { GT_TF_MINUTE = 1, GT_TF_HOUR = 2, GT_TF_DAY = 3, GT_TF_WEEK = 4, GT_TF_MONTH = 5 };
enum gt_label { GT_LABEL_START = 0, GT_LABEL_LAST = 1 };
int gt_series_resample(const gt_series *src, int32_t unit, int32_t count, int32_t label,
                       gt_series **out);
/* Groups of k consecutive bars (backtrader's "compression"), stamped with the last bar. */
int gt_series_compress(const gt_series *src, int64_t k, gt_series **out);

/* Aligning several series on one clock. GT_ALIGN_INNER keeps the timestamps every series
 * has; GT_ALIGN_OUTER keeps every timestamp from the first one at which all series have
 * started, forward-filling a missing bar as open=high=low=close=previous close, volume 0,
 * and marking it in filled[j * n + i] (series j, bar i). */
enum gt_align_mode { GT_ALIGN_INNER = 0, GT_ALIGN_OUTER = 1 };
int64_t gt_align_count(const gt_series *const *src, int32_t k, int32_t mode);
int gt_align_fill(const gt_series *const *src, int32_t k, int32_t mode, gt_series *const *out,
                  uint8_t *filled);

/* out[0] = NaN; out[i] = x[i]/x[i-1] - 1, or log(x[i]/x[i-1]) when log_returns. */
void gt_returns(const double *x, int64_t n, int32_t log_returns, double *out);

/* What can be wrong with one bar, checked the same way for every source (CSV, SQLite,
 * HTTP providers). Each problem has its own code. */
enum gt_bar_issue {
    GT_BAR_OK = 0,
    GT_BAR_NONFINITE = 1,    /* NaN or Inf in a price or the volume */
    GT_BAR_NONPOSITIVE = 2,  /* a price <= 0 */
    GT_BAR_NEG_VOLUME = 3,   /* volume < 0 */
    GT_BAR_HIGH_BELOW = 4,   /* high < max(open, close, low) */
    GT_BAR_LOW_ABOVE = 5,    /* low > min(open, close, high) */
    GT_BAR_DUPLICATE_TS = 6, /* same timestamp as the previous bar */
    GT_BAR_OUT_OF_ORDER = 7  /* timestamp before the previous bar's */
};
/* prev_ts is the previous accepted bar's timestamp, or INT64_MIN for the first. */
int gt_bar_check(int64_t prev_ts, int64_t ts, double open, double high, double low, double close,
                 double volume);
const char *gt_bar_issue_text(int issue);

/* ---- datetime (datetime.c): epoch microseconds UTC <-> civil time and text ---- */
/* Days from 1970-01-01 for a proleptic Gregorian date (any year, month 1-12). */
int64_t gt_days_from_civil(int64_t y, int64_t m, int64_t d);
/* Inverse: writes year, month (1-12), day (1-31). */
void gt_civil_from_days(int64_t days, int64_t *y, int64_t *m, int64_t *d);
/* Parses an ISO-8601 date or date-time: YYYY-MM-DD, then optionally [T or space]HH:MM[:SS[.f+]]
 * and Z or +HH:MM / -HH:MM (no zone means UTC). The whole of s[0..len) must be used.
 * Returns GT_OK and sets *us, or GT_EPARSE with a message. */
int gt_time_parse(const char *s, size_t len, int64_t *us);
/* Formats us as "YYYY-MM-DDTHH:MM:SS[.ffffff]Z", or "YYYY-MM-DD" when date_only and the
 * time is midnight. buf needs 32 bytes. Returns the length written. */
int gt_time_format(int64_t us, int date_only, char *buf, size_t size);
/* Day of week, 0 = Monday .. 6 = Sunday. */
int gt_weekday(int64_t us);

/* ---- synthetic data (synth.c) ---- */
/* A deterministic regime-switching price path: a Markov chain over seven regimes
 * (bull/bear/sideways x quiet/volatile, plus crisis), each with its own drift and
 * volatility, and valid OHLCV bars. regimes[i] receives bar i's true regime (enum below).
 * step_us spaces the bars; skip_weekends leaves out Saturdays and Sundays. */
enum gt_regime {
    GT_REGIME_BULL_QUIET = 0,
    GT_REGIME_BULL_VOLATILE = 1,
    GT_REGIME_BEAR_QUIET = 2,
    GT_REGIME_BEAR_VOLATILE = 3,
    GT_REGIME_SIDEWAYS_QUIET = 4,
    GT_REGIME_SIDEWAYS_VOLATILE = 5,
    GT_REGIME_CRISIS = 6,
    GT_REGIME_COUNT = 7
};
const char *gt_regime_name(int32_t regime);
int gt_synth_generate(int64_t n, uint64_t seed, int64_t start_us, int64_t step_us,
                      int32_t skip_weekends, double start_price, gt_series **out, uint8_t *regimes);

/* ---- csv (csv.c) ---- */
/* CSV/text OHLCV ingestion. Every row passes gt_bar_check; by default the first bad row
 * fails the whole read with "file:line: field 'close': reason" (line 1 is the header) and
 * nothing is returned. Roles are the columns a series needs, indexed by gt_csv_role. */
enum gt_csv_role {
    GT_CSV_TS = 0,     /* one column holding the whole timestamp */
    GT_CSV_DATE = 1,   /* or a date column ... */
    GT_CSV_TIME = 2,   /* ... plus a time-of-day column */
    GT_CSV_OPEN = 3,
    GT_CSV_HIGH = 4,
    GT_CSV_LOW = 5,
    GT_CSV_CLOSE = 6,
    GT_CSV_VOLUME = 7, /* optional: missing means 0 */
    GT_CSV_ADJ_CLOSE = 8,
    GT_CSV_NROLES = 9
};
enum gt_csv_on_error {
    GT_CSV_FAIL = 0, /* the first bad row fails the read */
    GT_CSV_SKIP = 1  /* bad rows are skipped and every one is listed in the report */
};
enum gt_csv_date_format {
    GT_CSV_DATE_AUTO = 0,     /* decided from the first row; refuses dd/mm vs mm/dd */
    GT_CSV_DATE_ISO = 1,      /* YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|+HH:MM] */
    GT_CSV_DATE_YMD = 2,      /* YYYYMMDD or YYYY/MM/DD, optional " HH:MM[:SS]" */
    GT_CSV_DATE_DMY = 3,      /* DD/MM/YYYY or DD/MM/YY ('/', '.' or '-'), optional time */
    GT_CSV_DATE_MDY = 4,      /* MM/DD/YYYY or MM/DD/YY, optional time */
    GT_CSV_DATE_EPOCH_S = 5,  /* seconds since 1970-01-01 UTC, optional fraction */
    GT_CSV_DATE_EPOCH_MS = 6, /* milliseconds */
    GT_CSV_DATE_EPOCH_US = 7  /* microseconds */
};
/* Fill with gt_csv_opts_init, then change what differs. */
typedef struct gt_csv_opts {
    int32_t on_error;    /* gt_csv_on_error */
    int32_t adjust;      /* 1: scale O/H/L/C by adj close / close (needs an Adj Close column) */
    int32_t date_format; /* gt_csv_date_format */
    int32_t delimiter;   /* a byte such as ',' ';' '\t'; 0 = detect from the header */
    int32_t header;      /* 1: line 1 names the columns; 0: no header, map by index */
    int32_t col[9];      /* per gt_csv_role: 0-based column index, or -1 */
    const char *name[9]; /* per gt_csv_role: header name (case-insensitive), or NULL */
} gt_csv_opts;
void gt_csv_opts_init(gt_csv_opts *o);

/* What a read did: counts, every skipped line, the columns found. Owned by the caller. */
typedef struct gt_csv_report gt_csv_report;
/* path is read whole (mmap); o may be NULL for defaults; rep may be NULL. On success *out
 * is a new series (gt_series_free) and *rep a new report; on failure both are NULL and
 * gt_errmsg() has the message. */
int gt_csv_read(const char *path, const gt_csv_opts *o, gt_series **out, gt_csv_report **rep);
/* The same over bytes in memory; name is used in messages. */
int gt_csv_parse(const char *buf, size_t len, const char *name, const gt_csv_opts *o,
                 gt_series **out, gt_csv_report **rep);
void gt_csv_report_free(gt_csv_report *r);
int64_t gt_csv_report_rows(const gt_csv_report *r);    /* data lines seen (not blank ones) */
int64_t gt_csv_report_loaded(const gt_csv_report *r);  /* bars in the series */
int64_t gt_csv_report_skipped(const gt_csv_report *r); /* rows - loaded */
int64_t gt_csv_report_blank(const gt_csv_report *r);   /* empty lines, ignored but counted */
/* Skipped line i (0-based, i < skipped): its 1-based line number and the reason. */
int64_t gt_csv_report_error_line(const gt_csv_report *r, int64_t i);
const char *gt_csv_report_error_reason(const gt_csv_report *r, int64_t i);
/* Header cells as written (trimmed, unquoted); 0 columns when there was no header. */
int32_t gt_csv_report_ncolumns(const gt_csv_report *r);
const char *gt_csv_report_column(const gt_csv_report *r, int32_t i);
/* The 0-based field index used for a gt_csv_role, or -1 when unused. */
int32_t gt_csv_report_role(const gt_csv_report *r, int32_t role);
int32_t gt_csv_report_date_format(const gt_csv_report *r); /* as decided, never AUTO */
int32_t gt_csv_report_delimiter(const gt_csv_report *r);
int32_t gt_csv_report_adjusted(const gt_csv_report *r);
/* Decisions the reader made that a user should know about (header fixes and such). */
int32_t gt_csv_report_nnotes(const gt_csv_report *r);
const char *gt_csv_report_note(const gt_csv_report *r, int32_t i);

/* ---- store (store.c) ---- */
/* SQLite storage: bars keyed by (symbol, timeframe, ts) in one database file. A handle is
 * one connection: one thread at a time, never across fork() (see store.h). A time range
 * is start <= ts < stop; each bound applies only when its bit is set in `bounds`. Calls
 * return a count (>= 0) or a negative GT_E* code with gt_errmsg() naming the path. */
typedef struct gt_store gt_store;
enum { GT_STORE_SCHEMA_VERSION = 1 }; /* the newest schema (PRAGMA user_version) known */
enum gt_store_bounds { GT_STORE_START = 1, GT_STORE_STOP = 2 };
/* Opens or creates the database and migrates its schema forward. */
int gt_store_open(const char *path, gt_store **out);
void gt_store_close(gt_store *st);
/* The database's schema version (PRAGMA user_version). */
int gt_store_version(gt_store *st);
/* How long a call waits for a database another connection holds locked (ms). */
int gt_store_set_busy_timeout(gt_store *st, int32_t ms);
/* Writes every bar of s in one transaction, keeping the new bar where (symbol, timeframe,
 * ts) exists, and logs the import. Every bar passes gt_bar_check first: on an invalid bar
 * nothing is written (GT_EDATA names the bar). source may be NULL. Returns bars written. */
int64_t gt_store_put(gt_store *st, const char *symbol, const char *timeframe, const char *source,
                     const gt_series *s);
/* Bars in the range, oldest first, as a new series in *out (empty when none stored).
 * Returns the number of bars. */
int64_t gt_store_load(gt_store *st, const char *symbol, const char *timeframe, int64_t start,
                      int64_t stop, int32_t bounds, gt_series **out);
/* What is stored in the range: returns the bar count and, when it is > 0, sets *first and
 * *last to the oldest and newest timestamps, so a fetch asks only for what is missing. */
int64_t gt_store_range(gt_store *st, const char *symbol, const char *timeframe, int64_t start,
                       int64_t stop, int32_t bounds, int64_t *first, int64_t *last);
/* Deletes the bars in the range; returns how many. */
int64_t gt_store_delete(gt_store *st, const char *symbol, const char *timeframe, int64_t start,
                        int64_t stop, int32_t bounds);
/* One stored (symbol, timeframe): bar count, oldest and newest timestamps. */
typedef struct gt_store_entry {
    const char *symbol;
    const char *timeframe;
    int64_t count;
    int64_t first;
    int64_t last;
} gt_store_entry;
typedef struct gt_store_list gt_store_list;
/* Everything stored, ordered by symbol then timeframe, as a list in *out. Returns its
 * length. */
int64_t gt_store_symbols(gt_store *st, gt_store_list **out);
int64_t gt_store_list_count(const gt_store_list *l);
/* Entry i (0-based), or NULL when out of range. */
const gt_store_entry *gt_store_list_at(const gt_store_list *l, int64_t i);
void gt_store_list_free(gt_store_list *l);

/* ---- http (http.c) and providers (provider.c) ---- */
/* An HTTP client (one reused curl handle). Defaults: connect 10 s, total 30 s, 3 retries
 * from 500 ms doubling to 30 s with jitter, 180 requests/min per host (burst 5), 64 MB
 * body cap, Retry-After honoured up to 120 s. */
typedef struct gt_http gt_http;
enum gt_http_method { GT_HTTP_GET = 0, GT_HTTP_POST = 1, GT_HTTP_DELETE = 2, GT_HTTP_PATCH = 3,
                      GT_HTTP_PUT = 4 };
/* GT_HTTP_ONCE: send once, never retry (POST and the other non-GET methods always are). */
enum gt_http_flag { GT_HTTP_ONCE = 1 };
/* Filled by gt_http_request, also on failure (status 0 when no response arrived). */
typedef struct gt_http_resp {
    int64_t status;       /* HTTP status of the last attempt, 0 when none */
    int64_t attempts;     /* requests sent, retries included */
    int64_t bytes;        /* body bytes of the last attempt */
    double waited_s;      /* time slept: rate limit, backoff and Retry-After */
    double elapsed_s;     /* wall time of the whole call */
    double retry_after_s; /* last Retry-After received, in seconds; -1 when none */
    const char *body;     /* NUL-terminated; owned by the client until its next request */
    const char *headers;  /* retry-after, x-ratelimit-*, content-type as "name: value\n" */
} gt_http_resp;

gt_http *gt_http_new(void);
void gt_http_free(gt_http *h);
/* Milliseconds; 0 keeps the current value. */
int gt_http_set_timeouts(gt_http *h, int64_t connect_ms, int64_t total_ms);
/* Retries after the first attempt (GET only), first backoff and its cap in ms. */
int gt_http_set_retries(gt_http *h, int32_t retries, int64_t base_ms, int64_t cap_ms);
/* Token bucket per host: per_minute requests, burst tokens; per_minute <= 0 disables. */
int gt_http_set_rate(gt_http *h, double per_minute, double burst);
int gt_http_set_max_bytes(gt_http *h, int64_t max_bytes);
/* Longest Retry-After honoured; a longer one fails the call at once (GT_EHTTP). */
int gt_http_set_max_wait(gt_http *h, double seconds);
/* A CA bundle file for TLS verification (NULL: the system default). */
int gt_http_set_cainfo(gt_http *h, const char *path);
/* headers: "Name: value\n" lines or NULL; body may be NULL for GET/DELETE. Returns GT_OK
 * for a 2xx/3xx final status, GT_EHTTP for 4xx/5xx (out still holds status and body),
 * GT_ENET, GT_ETIMEOUT, GT_ETOOBIG, GT_EINVAL (bad or refused URL), GT_EINTR. */
int gt_http_request(gt_http *h, int32_t method, const char *url, const char *headers,
                    const char *body, int64_t body_len, int32_t flags, gt_http_resp *out);
/* Reads a secret file (API keys) into buf (NUL-terminated, at most cap - 1 bytes) only
 * if it is a regular file owned by this user and not readable by group or others;
 * otherwise GT_EDENIED with a message naming `chmod 600 FILE`. */
int gt_http_keyfile_read(const char *path, char *buf, int64_t cap, int64_t *len);

/* Market-data providers: each parser appends one response page to s. Bars must be in
 * [start_us, stop_us) (others are dropped and counted), every bar passes gt_bar_check
 * against the previous one (so a duplicate across pages fails), and on any error s is
 * left exactly as it was (GT_EDATA / GT_EPARSE with provider, bar time and reason). */
typedef struct gt_provider_page {
    int64_t bars;                 /* bars appended */
    int64_t skipped_null;         /* Yahoo: bars with a null field, not appended */
    int64_t dropped_out_of_range; /* outside [start_us, stop_us), not appended */
    int64_t has_next;             /* Alpaca: 1 when next_page_token is a string */
    char next_token[512];         /* Alpaca: next_page_token, "" when null */
} gt_provider_page;

int gt_provider_parse_alpaca(gt_series *s, const char *json, int64_t len, int64_t start_us,
                             int64_t stop_us, gt_provider_page *out);
/* adjust != 0 scales open, high, low and close by adjclose / close (Yahoo's adjustment). */
int gt_provider_parse_yahoo(gt_series *s, const char *json, int64_t len, int64_t start_us,
                            int64_t stop_us, int32_t adjust, gt_provider_page *out);
int gt_provider_parse_coinbase(gt_series *s, const char *json, int64_t len, int64_t start_us,
                               int64_t stop_us, gt_provider_page *out);

/* ---- backtest trades and metrics (metrics.c) ---- */
/* One round trip: a position from flat until flat again (a reversal closes one trade and
 * opens the next). Prices are average fill prices including slippage and spread; fees
 * are all commissions paid on the way in and out; pnl is net of fees. */
typedef struct gt_trade {
    int64_t symbol;      /* index of the symbol in the backtest */
    int64_t entry_bar;   /* bar of the first entry fill */
    int64_t exit_bar;    /* bar of the last exit fill (-1 while open) */
    int64_t entry_ts;    /* epoch microseconds */
    int64_t exit_ts;     /* epoch microseconds (0 while open) */
    double entry_price;  /* average entry price */
    double exit_price;   /* average exit price (or the last close while open) */
    double size;         /* largest position held, signed: negative when short */
    double pnl;          /* realised profit net of fees */
    double return_pct;   /* pnl / (|size| * entry_price) * 100 */
    double fees;         /* commissions on entry and exit */
} gt_trade;

/* What the metrics are computed from. Arrays have n entries (bars) except trades (m). */
typedef struct gt_stats_input {
    const double *equity;     /* equity at each bar's close */
    const int64_t *ts;        /* bar timestamps */
    const double *benchmark;  /* benchmark close per bar for beta/alpha/buy-and-hold, or NULL */
    const uint8_t *in_market; /* 1 where a position was held during the bar, or NULL */
    const gt_trade *trades;
    int64_t n;
    int64_t m;
    double periods_per_year; /* 252 for daily bars, 52 weekly, ... */
    double risk_free;        /* annual risk-free rate as a fraction, e.g. 0.02 */
} gt_stats_input;

typedef struct gt_stats {
    double start_equity;
    double final_equity;
    double return_pct;
    double cagr_pct;
    double ann_return_pct;
    double ann_vol_pct;
    double sharpe;
    double sortino;
    double calmar;
    double max_drawdown_pct;
    double max_drawdown_bars;
    double avg_drawdown_pct;
    double num_trades;
    double win_rate_pct;
    double profit_factor;
    double expectancy;
    double avg_trade_pct;
    double best_trade_pct;
    double worst_trade_pct;
    double avg_trade_bars;
    double max_trade_bars;
    double exposure_pct;
    double sqn;
    double buy_hold_return_pct;
    double beta;
    double alpha_pct;
    double years;
    double total_fees;
} gt_stats;

int gt_stats_compute(const gt_stats_input *in, gt_stats *out);
/* drawdown[i] = equity[i] / max(equity[0..i]) - 1 (<= 0). */
void gt_drawdown(const double *equity, int64_t n, double *out);

/* ---- indicators (ind.c) ---- */

#endif
