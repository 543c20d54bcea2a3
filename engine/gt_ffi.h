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
enum { GT_ABI_VERSION = 2 };

/* ---- core (gt.c) ---- */
/* Status codes: 0 is success, failures are negative. The names and messages are in gt.h's
 * GT_STATUS_LIST, which static-asserts these values; Lua reads them as C.GT_EINVAL etc. */
enum gt_status {
    GT_OK = 0,
    GT_ENOMEM = -1,
    GT_EINVAL = -2,
    GT_EIO = -3,
    GT_EPARSE = -4,
    GT_ERANGE = -5,
    GT_ENOTFOUND = -6,
    GT_EDB = -7,
    GT_ENET = -8,
    GT_ETIMEOUT = -9,
    GT_EHTTP = -10,
    GT_EDATA = -11,
    GT_EINTR = -12,
    GT_ETOOBIG = -13,
    GT_ESTATE = -14,
    GT_EDENIED = -15
};
int gt_abi_version(void);
const char *gt_version(void);
/* The calling thread's last failure: its message and its code (0 when none since the last
 * gt_clearerr). A message belongs to the failure whose code it carries, so a caller reads
 * it only when gt_errcode() equals the status it got: never a stale one. */
const char *gt_errmsg(void);
int gt_errcode(void);
const char *gt_status_name(int code);
const char *gt_strerror(int code);
void gt_clearerr(void);
int gt_is_interrupted(void);
/* Seconds on a monotonic clock (for timing work; not a date). */
double gt_clock_seconds(void);
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
 * are int64 epoch microseconds UTC, strictly increasing. A series is reference counted:
 * gt_series_new gives the creator one reference, a view and every Lua column take one
 * (gt_series_retain), gt_series_free drops one and frees at zero. While anything besides
 * the creator holds a reference, growing never moves the columns in place: the old
 * buffers are kept (retired) until the series is freed, so every pointer lent out stays
 * valid for as long as its reference. */
typedef struct gt_series {
    int64_t *ts;
    double *open;
    double *high;
    double *low;
    double *close;
    double *volume;
    int64_t n;                /* bars in use */
    int64_t cap;              /* bars allocated; 0 for a view */
    int64_t refs;             /* references held; 0 is read as 1 (a series not from _new) */
    struct gt_series *parent; /* a view's parent, on which it holds a reference */
    void *retired;            /* buffers replaced while referenced, freed with the series */
} gt_series;

gt_series *gt_series_new(int64_t cap);
/* Drops one reference; frees the series (and its retired buffers, and the reference a
 * view holds on its parent) when it was the last. Accepts NULL. */
void gt_series_free(gt_series *s);
/* Takes one more reference and returns s. */
gt_series *gt_series_retain(gt_series *s);
/* Bars i .. j-1 of parent (0 <= i <= j <= parent->n) as a new view holding a reference
 * on parent (NULL with gt_errmsg set on a bad range). A view cannot grow. */
gt_series *gt_series_view(gt_series *parent, int64_t i, int64_t j);
int gt_series_reserve(gt_series *s, int64_t cap);
int gt_series_push(gt_series *s, int64_t ts, double open, double high, double low,
                   double close, double volume);
int gt_series_shrink(gt_series *s);

/* A checked column: how Lua sees one series column. gt.series gives these types a
 * metatype whose index checks 0 <= i < n, and makes each hold one reference on owner
 * (dropped by its finalizer), so a column outlives the Lua series it came from. The
 * fields are const so Lua cannot point a column elsewhere. C functions take .p and .n.
 * A checked column holds at most INT32_MAX bars (16 GB of doubles). */
typedef struct gt_col {
    const double *const p;
    const int32_t n; /* Lua reads a plain number, the JIT compares it as an integer */
    gt_series *const owner;
    const int32_t which; /* 0 ts, 1 open, 2 high, 3 low, 4 close, 5 volume: for messages */
} gt_col;
typedef struct gt_col_i64 {
    const int64_t *const p;
    const int32_t n;
    gt_series *const owner;
    const int32_t which;
} gt_col_i64;
/* FNV-1a 64 over every column's bytes, as 16 hex digits in hex (17 bytes with the NUL):
 * identifies the exact data a run used. */
void gt_series_hash(const gt_series *s, char *hex);
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
    int64_t max_bytes;   /* gt_csv_read refuses a larger input before reading it; 0: no limit */
} gt_csv_opts;
enum { GT_CSV_MAX_BYTES = 1073741824 }; /* max_bytes after gt_csv_opts_init: 1 GiB */
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

/* ---- files gtengine writes (fsio.c) ---- */
/* A report or export written whole or not at all: a temporary file created exclusively in
 * the target's directory, renamed over the target on commit. A target that exists and is
 * not a regular file (device, symlink, directory, FIFO) is refused. Messages name path. */
typedef struct gt_file gt_file;
int gt_file_create(const char *path, gt_file **out);
int gt_file_write(gt_file *f, const char *buf, int64_t len);
/* Flushes, renames into place and frees f; on failure removes the temporary file. */
int gt_file_commit(gt_file *f);
/* Removes the temporary file and frees f (NULL-safe); the target is untouched. */
void gt_file_abort(gt_file *f);
int gt_file_write_atomic(const char *path, const char *buf, int64_t len);
/* What is at path (following symlinks): its type and, for a regular file, *size (else
 * -1). A missing path is GT_FILE_NONE, not an error. */
enum gt_file_type { GT_FILE_NONE = 0, GT_FILE_REGULAR = 1, GT_FILE_DIR = 2, GT_FILE_OTHER = 3 };
int gt_file_stat(const char *path, int64_t *size, int32_t *type);

/* ---- store (store.c) ---- */
/* SQLite storage: bars keyed by (symbol, timeframe, ts) in one database file. A handle is
 * one connection: one thread at a time, never across fork() (see store.h). A time range
 * is start <= ts < stop; each bound applies only when its bit is set in `bounds`. Calls
 * return a count (>= 0) or a negative GT_E* code with gt_errmsg() naming the path. */
typedef struct gt_store gt_store;
enum { GT_STORE_SCHEMA_VERSION = 6 }; /* the newest schema (PRAGMA user_version) known */
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
 * body cap, Retry-After honoured up to 30 s, give up below 100 bytes/s for 10 s, no
 * deadline. A 3xx is an error (redirects are never followed). */
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
/* Give up on a transfer slower than bytes_per_s for seconds (a trickling server);
 * 0 disables. */
int gt_http_set_low_speed(gt_http *h, int64_t bytes_per_s, int64_t seconds);
/* Every request and retry wait from now on must end within seconds (0: no deadline):
 * one command's total budget, across pages and retries. */
int gt_http_set_deadline(gt_http *h, double seconds);
/* Before sleeping for a retry, write one line saying so to fd (a terminal); -1: never. */
int gt_http_set_notify(gt_http *h, int32_t fd);
/* Secrets (API keys) to remove from any text shown to a user: process-wide, so every
 * module's messages can be scrubbed. gt_scrub copies in[0..len) to out (NUL-terminated,
 * at most cap - 1 bytes), each secret replaced by [REDACTED]; GT_SCRUB_CONTROL also drops
 * terminal escape sequences and turns other control characters (newlines too) into
 * spaces, for server text. Returns the full output length (call with cap 0 to size). */
enum gt_scrub_flag { GT_SCRUB_CONTROL = 1 };
/* Values shorter than this are not keys and are not registered (they would blank out
 * ordinary words in every message). */
enum { GT_SECRET_MIN_LEN = 6 };
int gt_secret_add(const char *value);
int64_t gt_scrub(const char *in, int64_t len, int32_t flags, char *out, int64_t cap);
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

/* A read-only window on a column for a strategy's on_bar: reading past *limit (the
 * current bar) is a look-ahead error raised by gt.backtest. */
typedef struct gt_view {
    const double *p;
    int64_t n;
    const int64_t *limit;
} gt_view;

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

/* One bar of one symbol: what a broker simulation matches orders against. */
typedef struct gt_bar {
    int64_t ts;
    double open;
    double high;
    double low;
    double close;
    double volume;
} gt_bar;

/* ---- backtest engine (bt.c) ---- */
/* A portfolio ledger and a simulated broker over k aligned series (same bars, same
 * timestamps). One bar is processed as: gt_bt_begin_bar(i) fills working orders against
 * bar i (at the open, or inside the bar's range); the strategy decides at bar i's close
 * (gt_bt_submit / gt_bt_target); gt_bt_end_bar(i) marks equity at the close. The
 * vectorised path (gt_bt_run_targets) runs exactly that loop in C; the event path runs it
 * from Lua with the strategy's on_bar in between. Both reach the same ledger code. */
typedef struct gt_bt gt_bt;

enum gt_fill_mode { GT_FILL_NEXT_OPEN = 0, GT_FILL_CLOSE = 1 };
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

/* ---- fetch coverage (store.c, schema 3) ---- */
/* The time ranges [start, stop) a provider has already been asked for, per symbol and
 * timeframe, kept as disjoint merged intervals: a repeated fetch asks only for what is
 * not covered, even across weekends and holidays that hold no bars. */
int gt_store_cover_add(gt_store *st, const char *symbol, const char *timeframe, int64_t start,
                       int64_t stop);
/* Writes the uncovered parts of [start, stop) as pairs into out (cap pairs at most) and
 * returns how many there are. */
int64_t gt_store_cover_missing(gt_store *st, const char *symbol, const char *timeframe,
                               int64_t start, int64_t stop, int64_t *out, int64_t cap);
/* How many bars of s are already stored at the same (symbol, timeframe, ts) with a
 * different open, high, low, close or volume: what gt_store_put would overwrite. Sets
 * *first_ts (may be NULL) to the oldest such ts. Writes nothing. */
int64_t gt_store_changed(gt_store *st, const char *symbol, const char *timeframe,
                         const gt_series *s, int64_t *first_ts);

/* ---- saved runs (store.c) ---- */
/* A backtest run as stored (store.c, schema 2): what ran on which data, and its results.
 * Strings are JSON (params, options, stats) written by gt.backtest with sorted keys, so
 * the same inputs store the same bytes. */
typedef struct gt_run_record {
    const char *strategy;
    const char *symbol;
    const char *timeframe;
    const char *params_json;
    const char *options_json;
    const char *stats_json;
    const char *data_hash; /* gt_series_hash of the data, hex */
    int64_t first_ts;
    int64_t last_ts;
    int64_t bars;
    const char *chart_json; /* the report's further lines at the saved bars, or NULL */
} gt_run_record;
/* One bar of a saved run's charts (schema 4): the bars the HTML report reads, so a saved
 * run rebuilds the same report without the whole series (gt.report.bars_used). */
typedef struct gt_run_point {
    int64_t bar;      /* bar index, 0-based */
    int64_t ts;       /* epoch microseconds */
    double close;     /* the first symbol's close */
    double equity;    /* account equity at the close */
    double drawdown;  /* equity / running peak - 1 */
    double benchmark; /* buy-and-hold equity */
} gt_run_point;
/* Saves the run (r->bars bars), its m trades and np chart points in one transaction, the
 * trades and the points as one BLOB each. Returns the new run id (> 0) or a negative
 * status. */
int64_t gt_store_save_run(gt_store *st, const gt_run_record *r, const gt_trade *trades, int64_t m,
                          const gt_run_point *points, int64_t np);
/* Copies run id's chart points into out (capacity cap); returns how many are stored, or
 * GT_ENOTFOUND for a run saved before schema 4 (it has the full equity curve instead). */
int64_t gt_store_run_points(gt_store *st, int64_t id, gt_run_point *out, int64_t cap);
/* Copies the full equity curve of a run saved before schema 4 into out (capacity cap);
 * returns its length, or GT_ENOTFOUND when the run has none. */
int64_t gt_store_run_equity(gt_store *st, int64_t id, double *out, int64_t cap);
/* Copies run id's trades into out (capacity cap); returns how many are stored. */
int64_t gt_store_run_trades(gt_store *st, int64_t id, gt_trade *out, int64_t cap);
/* Copies one column of run id as text (strategy, symbol, timeframe, params, options, stats,
 * data_hash, and the integers created_at, first_ts, last_ts, bars) into buf, NUL-terminated;
 * returns its full length. */
int64_t gt_store_run_text(gt_store *st, int64_t id, const char *column, char *buf, int64_t cap);
/* The highest run id, 0 when none. */
int64_t gt_store_last_run(gt_store *st);

/* ---- JSON (json.c): cJSON parsing as a walkable tree, exact numbers, trades ---- */
/* A node of a parsed document; the root is the document and owns every node. */
typedef struct gt_json gt_json;
enum gt_json_type {
    GT_JSON_NULL = 0,
    GT_JSON_FALSE = 1,
    GT_JSON_TRUE = 2,
    GT_JSON_NUMBER = 3,
    GT_JSON_STRING = 4,
    GT_JSON_ARRAY = 5,
    GT_JSON_OBJECT = 6
};
/* Parses len bytes of text (standard JSON; only whitespace may follow the value). Returns
 * the root or NULL with the message ("JSON: malformed at byte N near 'x'") set. */
gt_json *gt_json_parse(const char *text, int64_t len);
void gt_json_free(gt_json *doc);
int gt_json_type(const gt_json *node);
/* First element or member of an array or object (NULL when empty or a scalar). */
const gt_json *gt_json_child(const gt_json *node);
/* The following element or member (NULL after the last). */
const gt_json *gt_json_next(const gt_json *node);
/* A member's key (NULL for array elements), a string's value (NULL when not a string), a
 * number's value (NaN when not a number). */
const char *gt_json_key(const gt_json *node);
const char *gt_json_string(const gt_json *node);
double gt_json_value(const gt_json *node);
/* Writes x as JSON into buf (32 bytes): the shortest of %.15g/%.16g/%.17g that reads back
 * as x (the shortest text for normal doubles), an integer below 2^53 without a fraction, null for NaN and Inf. Returns the length. */
int gt_json_number(double x, char *buf);
/* Encodes m trades as a JSON array of objects with sorted keys (duration, entry_bar,
 * entry_price, entry_time, exit_bar, exit_price, exit_time, fees, pnl, return_pct, size,
 * symbol), times as gt_time_format date-only text; an open trade (exit_bar < 0) has no
 * duration nor exit_time. symbols[trade.symbol] names the symbol (left out when outside
 * nsym). *out gets a malloc'd NUL-terminated text to free with gt_json_text_free. Returns
 * its length or a negative status. */
int64_t gt_json_trades(const gt_trade *t, int64_t m, const char *const *symbols, int64_t nsym,
                       char **out);
void gt_json_text_free(char *text);

/* ---- indicators (ind.c) ---- */
/* Technical indicators. Each one has two forms that give identical numbers:
 *  - a batch kernel over whole arrays: inputs, n, out, params. Multi-output kernels take
 *    `double **out`, an array of output pointers in the order the comment names (a NULL
 *    entry skips that output). Returns GT_OK or GT_EINVAL (bad period, NULL array) or
 *    GT_ENOMEM; out[i] is NaN during the warm-up.
 *  - a streaming state: `_init(state, params)` (returns GT_OK or an error; a state that owns
 *    memory has `_fini`, safe to call twice), `_update(state, inputs) -> value` in O(1)
 *    (CCI is O(period): its mean deviation has no running form). Multi-output states
 *    return the first output and keep every output in fields named like the outputs.
 * NaN inputs: a bar with a NaN in any input is a missing bar. Its output is NaN and the
 * state does not move, so `sma(rsi(x))` simply starts after the RSI warm-up, and a gap in
 * a feed does not poison the rest of the series. Periods are >= 1 unless noted. */
enum gt_ind_seed {
    GT_IND_SEED_SMA = 0,  /* EMA starts at the SMA of the first period values (TA-Lib) */
    GT_IND_SEED_FIRST = 1 /* EMA starts at the first value (pandas ewm adjust=False) */
};
enum gt_ind_change_kind {
    GT_IND_MOM = 0, /* x - x[t-n] */
    GT_IND_ROC = 1, /* 100 * (x / x[t-n] - 1) */
    GT_IND_PCT = 2  /* x / x[t-n] - 1 (a fraction, like pandas pct_change) */
};

/* Building blocks. A ring of the last cap values; head is the next slot written. */
typedef struct gt_ind_ring {
    double *buf;
    int64_t cap;
    int64_t head;
    int64_t count;
} gt_ind_ring;
/* Highest (is_max) or lowest of the last cap values: a monotonic deque of values and their
 * sequence numbers (pos), so each update is amortised O(1). */
typedef struct gt_ind_minmax {
    double *val;
    int64_t *pos;
    int64_t cap;
    int64_t first;
    int64_t len;
    int64_t seen;
    int32_t is_max;
} gt_ind_minmax;
typedef struct gt_ind_sma_state {
    gt_ind_ring win;
    double sum;
    int64_t period;
} gt_ind_sma_state;
typedef struct gt_ind_ema_state {
    double alpha;
    double value;
    double seed_sum;
    int64_t period;
    int64_t count;
    int32_t seed;
} gt_ind_ema_state;
/* Wilder's smoothing (SMMA, RMA): alpha = 1/period, seeded with the SMA. */
typedef struct gt_ind_smma_state {
    double value;
    double seed_sum;
    int64_t period;
    int64_t count;
} gt_ind_smma_state;
typedef struct gt_ind_wma_state {
    gt_ind_ring win;
    double sum;
    double wsum;
    int64_t period;
} gt_ind_wma_state;

/* Averages (input: one series). */
int gt_ind_sma(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_sma_init(gt_ind_sma_state *s, int32_t period);
double gt_ind_sma_update(gt_ind_sma_state *s, double x);
void gt_ind_sma_fini(gt_ind_sma_state *s);
/* seed: enum gt_ind_seed. With GT_IND_SEED_FIRST the output starts at the first value. */
int gt_ind_ema(const double *in, int64_t n, double *out, int32_t period, int32_t seed);
int gt_ind_ema_init(gt_ind_ema_state *s, int32_t period, int32_t seed);
double gt_ind_ema_update(gt_ind_ema_state *s, double x);
int gt_ind_wma(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_wma_init(gt_ind_wma_state *s, int32_t period);
double gt_ind_wma_update(gt_ind_wma_state *s, double x);
void gt_ind_wma_fini(gt_ind_wma_state *s);
int gt_ind_smma(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_smma_init(gt_ind_smma_state *s, int32_t period);
double gt_ind_smma_update(gt_ind_smma_state *s, double x);
/* DEMA = 2 e1 - e2, TEMA = 3 e1 - 3 e2 + e3, e(k+1) the EMA of e(k) (TA-Lib's definition). */
typedef struct gt_ind_dema_state {
    gt_ind_ema_state e1;
    gt_ind_ema_state e2;
} gt_ind_dema_state;
int gt_ind_dema(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_dema_init(gt_ind_dema_state *s, int32_t period);
double gt_ind_dema_update(gt_ind_dema_state *s, double x);
typedef struct gt_ind_tema_state {
    gt_ind_ema_state e1;
    gt_ind_ema_state e2;
    gt_ind_ema_state e3;
} gt_ind_tema_state;
int gt_ind_tema(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_tema_init(gt_ind_tema_state *s, int32_t period);
double gt_ind_tema_update(gt_ind_tema_state *s, double x);
/* Hull: WMA(2 WMA(x, n/2) - WMA(x, n), floor(sqrt(n))); period >= 2. */
typedef struct gt_ind_hma_state {
    gt_ind_wma_state half;
    gt_ind_wma_state full;
    gt_ind_wma_state smooth;
} gt_ind_hma_state;
int gt_ind_hma(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_hma_init(gt_ind_hma_state *s, int32_t period);
double gt_ind_hma_update(gt_ind_hma_state *s, double x);
void gt_ind_hma_fini(gt_ind_hma_state *s);
/* Kaufman adaptive MA: efficiency ratio over period, fast/slow EMA periods (10, 2, 30).
 * The first value is at bar period. GT_KAMA_SEED_TALIB starts from the previous value
 * (x[period - 1]) and smooths at that bar, as TA-Lib does; GT_KAMA_SEED_SMA starts from the
 * mean of the period values ending at that bar, unsmoothed, as backtrader does. */
enum gt_kama_seed { GT_KAMA_SEED_TALIB = 0, GT_KAMA_SEED_SMA = 1 };
typedef struct gt_ind_kama_state {
    gt_ind_ring win;
    double vol;
    double value;
    double fast_sc;
    double slow_sc;
    int64_t period;
    int64_t seed;
} gt_ind_kama_state;
int gt_ind_kama(const double *in, int64_t n, double *out, int32_t period, int32_t fast,
                int32_t slow, int32_t seed);
int gt_ind_kama_init(gt_ind_kama_state *s, int32_t period, int32_t fast, int32_t slow,
                     int32_t seed);
double gt_ind_kama_update(gt_ind_kama_state *s, double x);
void gt_ind_kama_fini(gt_ind_kama_state *s);
/* Zero-lag EMA: EMA(2 x - x[t - (period-1)/2]). */
typedef struct gt_ind_zlema_state {
    gt_ind_ring win;
    gt_ind_ema_state ema;
    int64_t lag;
} gt_ind_zlema_state;
int gt_ind_zlema(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_zlema_init(gt_ind_zlema_state *s, int32_t period);
double gt_ind_zlema_update(gt_ind_zlema_state *s, double x);
void gt_ind_zlema_fini(gt_ind_zlema_state *s);
/* TRIX: 1-bar rate of change (percent) of a triple EMA. */
typedef struct gt_ind_trix_state {
    gt_ind_ema_state e1;
    gt_ind_ema_state e2;
    gt_ind_ema_state e3;
    double prev;
} gt_ind_trix_state;
int gt_ind_trix(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_trix_init(gt_ind_trix_state *s, int32_t period);
double gt_ind_trix_update(gt_ind_trix_state *s, double x);

/* Oscillators. */
/* RSI with Wilder smoothing seeded by the simple average of the first period changes. */
typedef struct gt_ind_rsi_state {
    double prev;
    double gain;
    double loss;
    int64_t period;
    int64_t count;
} gt_ind_rsi_state;
int gt_ind_rsi(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_rsi_init(gt_ind_rsi_state *s, int32_t period);
double gt_ind_rsi_update(gt_ind_rsi_state *s, double x);
/* Stochastic: raw %K over kperiod, %K = SMA(raw, ksmooth), %D = SMA(%K, dperiod).
 * fast = (k, 1, d), slow = (k, 3, d), full = (k, s, d). out: k, d. */
typedef struct gt_ind_stoch_state {
    gt_ind_minmax hh;
    gt_ind_minmax ll;
    gt_ind_sma_state ksma;
    gt_ind_sma_state dsma;
    double k;
    double d;
} gt_ind_stoch_state;
int gt_ind_stoch(const double *high, const double *low, const double *close, int64_t n,
                 double **out, int32_t kperiod, int32_t ksmooth, int32_t dperiod);
int gt_ind_stoch_init(gt_ind_stoch_state *s, int32_t kperiod, int32_t ksmooth, int32_t dperiod);
double gt_ind_stoch_update(gt_ind_stoch_state *s, double high, double low, double close);
void gt_ind_stoch_fini(gt_ind_stoch_state *s);
typedef struct gt_ind_willr_state {
    gt_ind_minmax hh;
    gt_ind_minmax ll;
} gt_ind_willr_state;
int gt_ind_willr(const double *high, const double *low, const double *close, int64_t n,
                 double *out, int32_t period);
int gt_ind_willr_init(gt_ind_willr_state *s, int32_t period);
double gt_ind_willr_update(gt_ind_willr_state *s, double high, double low, double close);
void gt_ind_willr_fini(gt_ind_willr_state *s);
/* CCI: (tp - SMA(tp)) / (0.015 * mean deviation), tp = (h + l + c) / 3. */
typedef struct gt_ind_cci_state {
    gt_ind_ring win;
    int64_t period;
} gt_ind_cci_state;
int gt_ind_cci(const double *high, const double *low, const double *close, int64_t n,
               double *out, int32_t period);
int gt_ind_cci_init(gt_ind_cci_state *s, int32_t period);
double gt_ind_cci_update(gt_ind_cci_state *s, double high, double low, double close);
void gt_ind_cci_fini(gt_ind_cci_state *s);
/* MACD: out macd, signal, hist. talib != 0 seeds the fast EMA as TA-Lib does (on the
 * values from slow - fast on, so both EMAs start at bar slow-1); 0 runs both from bar 0. */
typedef struct gt_ind_macd_state {
    gt_ind_ema_state fast;
    gt_ind_ema_state slow;
    gt_ind_ema_state smooth;
    int64_t skip;
    int64_t count;
    double macd;
    double signal;
    double hist;
} gt_ind_macd_state;
int gt_ind_macd(const double *in, int64_t n, double **out, int32_t fast, int32_t slow,
                int32_t signal, int32_t talib);
int gt_ind_macd_init(gt_ind_macd_state *s, int32_t fast, int32_t slow, int32_t signal, int32_t talib);
double gt_ind_macd_update(gt_ind_macd_state *s, double x);
/* PPO: 100 (EMA fast - EMA slow) / EMA slow, its EMA signal and the histogram. */
typedef struct gt_ind_ppo_state {
    gt_ind_ema_state fast;
    gt_ind_ema_state slow;
    gt_ind_ema_state smooth;
    double ppo;
    double signal;
    double hist;
} gt_ind_ppo_state;
int gt_ind_ppo(const double *in, int64_t n, double **out, int32_t fast, int32_t slow,
               int32_t signal);
int gt_ind_ppo_init(gt_ind_ppo_state *s, int32_t fast, int32_t slow, int32_t signal);
double gt_ind_ppo_update(gt_ind_ppo_state *s, double x);
/* Momentum, ROC and percent change (kind: enum gt_ind_change_kind). */
typedef struct gt_ind_change_state {
    gt_ind_ring win;
    int32_t kind;
} gt_ind_change_state;
int gt_ind_change(const double *in, int64_t n, double *out, int32_t period, int32_t kind);
int gt_ind_change_init(gt_ind_change_state *s, int32_t period, int32_t kind);
double gt_ind_change_update(gt_ind_change_state *s, double x);
void gt_ind_change_fini(gt_ind_change_state *s);
/* True strength index: 100 EMA_s(EMA_l(m)) / EMA_s(EMA_l(|m|)), m = x - x[t-1]. */
typedef struct gt_ind_tsi_state {
    gt_ind_ema_state m1;
    gt_ind_ema_state m2;
    gt_ind_ema_state a1;
    gt_ind_ema_state a2;
    double prev;
    int64_t count;
} gt_ind_tsi_state;
int gt_ind_tsi(const double *in, int64_t n, double *out, int32_t longp, int32_t shortp);
int gt_ind_tsi_init(gt_ind_tsi_state *s, int32_t longp, int32_t shortp);
double gt_ind_tsi_update(gt_ind_tsi_state *s, double x);
/* Ultimate oscillator over three periods (7, 14, 28). */
typedef struct gt_ind_ultosc_state {
    gt_ind_ring bp;
    gt_ind_ring tr;
    double bp_sum[3];
    double tr_sum[3];
    int64_t period[3];
    double prev_close;
    int64_t count;
} gt_ind_ultosc_state;
int gt_ind_ultosc(const double *high, const double *low, const double *close, int64_t n,
                  double *out, int32_t p1, int32_t p2, int32_t p3);
int gt_ind_ultosc_init(gt_ind_ultosc_state *s, int32_t p1, int32_t p2, int32_t p3);
double gt_ind_ultosc_update(gt_ind_ultosc_state *s, double high, double low, double close);
void gt_ind_ultosc_fini(gt_ind_ultosc_state *s);
/* Awesome oscillator: SMA(median, fast) - SMA(median, slow), median = (h + l) / 2. */
typedef struct gt_ind_ao_state {
    gt_ind_sma_state fast;
    gt_ind_sma_state slow;
} gt_ind_ao_state;
int gt_ind_ao(const double *high, const double *low, int64_t n, double *out, int32_t fast,
              int32_t slow);
int gt_ind_ao_init(gt_ind_ao_state *s, int32_t fast, int32_t slow);
double gt_ind_ao_update(gt_ind_ao_state *s, double high, double low);
void gt_ind_ao_fini(gt_ind_ao_state *s);
/* Detrended price oscillator (causal form): x[t - (period/2 + 1)] - SMA(x, period). */
typedef struct gt_ind_dpo_state {
    gt_ind_sma_state sma;
    gt_ind_ring win;
    int64_t shift;
} gt_ind_dpo_state;
int gt_ind_dpo(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_dpo_init(gt_ind_dpo_state *s, int32_t period);
double gt_ind_dpo_update(gt_ind_dpo_state *s, double x);
void gt_ind_dpo_fini(gt_ind_dpo_state *s);
/* Aroon over period + 1 bars: out up, down, osc (= up - down). Ties: the latest bar. */
typedef struct gt_ind_aroon_state {
    gt_ind_minmax hh;
    gt_ind_minmax ll;
    int64_t period;
    double up;
    double down;
    double osc;
} gt_ind_aroon_state;
int gt_ind_aroon(const double *high, const double *low, int64_t n, double **out,
                 int32_t period);
int gt_ind_aroon_init(gt_ind_aroon_state *s, int32_t period);
double gt_ind_aroon_update(gt_ind_aroon_state *s, double high, double low);
void gt_ind_aroon_fini(gt_ind_aroon_state *s);
/* Vortex: out plus (VI+), minus (VI-). */
typedef struct gt_ind_vortex_state {
    gt_ind_ring vmp;
    gt_ind_ring vmm;
    gt_ind_ring tr;
    double sum_vmp;
    double sum_vmm;
    double sum_tr;
    double prev_high;
    double prev_low;
    double prev_close;
    int64_t count;
    double plus;
    double minus;
} gt_ind_vortex_state;
int gt_ind_vortex(const double *high, const double *low, const double *close, int64_t n,
                  double **out, int32_t period);
int gt_ind_vortex_init(gt_ind_vortex_state *s, int32_t period);
double gt_ind_vortex_update(gt_ind_vortex_state *s, double high, double low, double close);
void gt_ind_vortex_fini(gt_ind_vortex_state *s);
/* Know Sure Thing: sum of w_i SMA(ROC(x, r_i), s_i), w = 1..4, and its SMA signal.
 * periods: r1..r4, s1..s4, signal (9 values) or NULL for 10 15 20 30, 10 10 10 15, 9.
 * out: kst, signal. */
typedef struct gt_ind_kst_state {
    gt_ind_change_state roc[4];
    gt_ind_sma_state sm[4];
    gt_ind_sma_state sig;
    double kst;
    double signal;
} gt_ind_kst_state;
int gt_ind_kst(const double *in, int64_t n, double **out, const int32_t *periods);
int gt_ind_kst_init(gt_ind_kst_state *s, const int32_t *periods);
double gt_ind_kst_update(gt_ind_kst_state *s, double x);
void gt_ind_kst_fini(gt_ind_kst_state *s);
/* Money flow index from typical price and volume. */
typedef struct gt_ind_mfi_state {
    gt_ind_ring pos;
    gt_ind_ring neg;
    double pos_sum;
    double neg_sum;
    double prev_tp;
    int64_t count;
} gt_ind_mfi_state;
int gt_ind_mfi(const double *high, const double *low, const double *close, const double *volume,
               int64_t n, double *out, int32_t period);
int gt_ind_mfi_init(gt_ind_mfi_state *s, int32_t period);
double gt_ind_mfi_update(gt_ind_mfi_state *s, double high, double low, double close, double volume);
void gt_ind_mfi_fini(gt_ind_mfi_state *s);

/* Volatility and trend. */
/* True range; the first bar (no previous close) gives high - low. */
typedef struct gt_ind_trange_state {
    double prev_close;
    int64_t count;
} gt_ind_trange_state;
int gt_ind_trange(const double *high, const double *low, const double *close, int64_t n,
                  double *out);
int gt_ind_trange_init(gt_ind_trange_state *s);
double gt_ind_trange_update(gt_ind_trange_state *s, double high, double low, double close);
/* ATR: Wilder average of the true range from the second bar on (TA-Lib's and Wilder's
 * convention), so the first value is at bar period. */
typedef struct gt_ind_atr_state {
    gt_ind_trange_state tr;
    gt_ind_smma_state avg;
} gt_ind_atr_state;
int gt_ind_atr(const double *high, const double *low, const double *close, int64_t n,
               double *out, int32_t period);
int gt_ind_atr_init(gt_ind_atr_state *s, int32_t period);
double gt_ind_atr_update(gt_ind_atr_state *s, double high, double low, double close);
/* Rolling standard deviation: ddof 0 is the population one (TA-Lib's STDDEV and BBANDS),
 * ddof 1 the sample one (pandas' default); sums are kept about shift (the first value) to
 * limit cancellation. mean is the window's mean. */
typedef struct gt_ind_stddev_state {
    gt_ind_ring win;
    double sum;
    double sumsq;
    double shift;
    double mean;
    int64_t period;
    int64_t ddof;
} gt_ind_stddev_state;
int gt_ind_stddev(const double *in, int64_t n, double *out, int32_t period, int32_t ddof);
int gt_ind_stddev_init(gt_ind_stddev_state *s, int32_t period, int32_t ddof);
double gt_ind_stddev_update(gt_ind_stddev_state *s, double x);
void gt_ind_stddev_fini(gt_ind_stddev_state *s);
/* z-score: (x - mean) / stddev over period; NaN where the stddev is 0. */
typedef struct gt_ind_zscore_state {
    gt_ind_stddev_state sd;
} gt_ind_zscore_state;
int gt_ind_zscore(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_zscore_init(gt_ind_zscore_state *s, int32_t period);
double gt_ind_zscore_update(gt_ind_zscore_state *s, double x);
void gt_ind_zscore_fini(gt_ind_zscore_state *s);
/* Bollinger bands: out mid, upper, lower, pctb ((x - lower) / (upper - lower)),
 * width ((upper - lower) / mid). */
typedef struct gt_ind_bbands_state {
    gt_ind_stddev_state sd;
    double k;
    double mid;
    double upper;
    double lower;
    double pctb;
    double width;
} gt_ind_bbands_state;
int gt_ind_bbands(const double *in, int64_t n, double **out, int32_t period, double k);
int gt_ind_bbands_init(gt_ind_bbands_state *s, int32_t period, double k);
double gt_ind_bbands_update(gt_ind_bbands_state *s, double x);
void gt_ind_bbands_fini(gt_ind_bbands_state *s);
/* Keltner channel: mid = EMA(close, period), upper/lower = mid +- mult ATR(atr_period).
 * out: mid, upper, lower. */
typedef struct gt_ind_keltner_state {
    gt_ind_ema_state ema;
    gt_ind_atr_state atr;
    double mult;
    double mid;
    double upper;
    double lower;
} gt_ind_keltner_state;
int gt_ind_keltner(const double *high, const double *low, const double *close, int64_t n,
                   double **out, int32_t period, int32_t atr_period, double mult);
int gt_ind_keltner_init(gt_ind_keltner_state *s, int32_t period, int32_t atr_period, double mult);
double gt_ind_keltner_update(gt_ind_keltner_state *s, double high, double low, double close);
/* Donchian channel: out upper (highest high), lower (lowest low), mid. */
typedef struct gt_ind_donchian_state {
    gt_ind_minmax hh;
    gt_ind_minmax ll;
    double upper;
    double lower;
    double mid;
} gt_ind_donchian_state;
int gt_ind_donchian(const double *high, const double *low, int64_t n, double **out,
                    int32_t period);
int gt_ind_donchian_init(gt_ind_donchian_state *s, int32_t period);
double gt_ind_donchian_update(gt_ind_donchian_state *s, double high, double low);
void gt_ind_donchian_fini(gt_ind_donchian_state *s);
/* ADX with +DI/-DI, Wilder's running sums exactly as TA-Lib: DI from bar period, ADX from
 * bar 2 period - 1. out: adx, pdi, mdi. */
typedef struct gt_ind_adx_state {
    double prev_high;
    double prev_low;
    double prev_close;
    double pdm;
    double mdm;
    double tr;
    double sum_dx;
    double adx;
    double pdi;
    double mdi;
    int64_t period;
    int64_t count;
} gt_ind_adx_state;
int gt_ind_adx(const double *high, const double *low, const double *close, int64_t n,
               double **out, int32_t period);
int gt_ind_adx_init(gt_ind_adx_state *s, int32_t period);
double gt_ind_adx_update(gt_ind_adx_state *s, double high, double low, double close);
/* Parabolic SAR (Wilder), started like TA-Lib's SAR: first value at bar 1, direction from
 * the first two bars' directional movement. */
typedef struct gt_ind_sar_state {
    double accel;
    double max_accel;
    double af;
    double ep;
    double sar;
    double prev_high;
    double prev_low;
    int64_t count;
    int32_t is_long;
} gt_ind_sar_state;
int gt_ind_sar(const double *high, const double *low, int64_t n, double *out, double accel,
               double max_accel);
int gt_ind_sar_init(gt_ind_sar_state *s, double accel, double max_accel);
double gt_ind_sar_update(gt_ind_sar_state *s, double high, double low);

/* Volume. */
/* On-balance volume, starting at the first bar's volume (TA-Lib). */
typedef struct gt_ind_obv_state {
    double prev;
    double value;
    int64_t count;
} gt_ind_obv_state;
int gt_ind_obv(const double *close, const double *volume, int64_t n, double *out);
int gt_ind_obv_init(gt_ind_obv_state *s);
double gt_ind_obv_update(gt_ind_obv_state *s, double close, double volume);
/* Session VWAP of the typical price; a session is a UTC day shifted by offset_us (e.g.
 * -5 h for New York midnight): it restarts when floor((ts + offset_us) / 1 day) changes.
 * NaN while the session's volume is 0. */
typedef struct gt_ind_vwap_state {
    int64_t offset_us;
    int64_t day;
    double pv;
    double vol;
    int64_t count;
} gt_ind_vwap_state;
int gt_ind_vwap(const int64_t *ts, const double *high, const double *low, const double *close,
                const double *volume, int64_t n, double *out, int64_t offset_us);
int gt_ind_vwap_init(gt_ind_vwap_state *s, int64_t offset_us);
double gt_ind_vwap_update(gt_ind_vwap_state *s, int64_t ts, double high, double low, double close,
                          double volume);
/* Rolling VWAP over the last period bars. */
typedef struct gt_ind_rvwap_state {
    gt_ind_ring pv;
    gt_ind_ring vol;
    double pv_sum;
    double vol_sum;
} gt_ind_rvwap_state;
int gt_ind_rvwap(const double *high, const double *low, const double *close,
                 const double *volume, int64_t n, double *out, int32_t period);
int gt_ind_rvwap_init(gt_ind_rvwap_state *s, int32_t period);
double gt_ind_rvwap_update(gt_ind_rvwap_state *s, double high, double low, double close,
                           double volume);
void gt_ind_rvwap_fini(gt_ind_rvwap_state *s);
/* Accumulation/distribution line (Chaikin): sum of ((c-l) - (h-c)) / (h-l) * volume. */
typedef struct gt_ind_ad_state {
    double value;
} gt_ind_ad_state;
int gt_ind_ad(const double *high, const double *low, const double *close, const double *volume,
              int64_t n, double *out);
int gt_ind_ad_init(gt_ind_ad_state *s);
double gt_ind_ad_update(gt_ind_ad_state *s, double high, double low, double close, double volume);

/* Utilities. */
int gt_ind_highest(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_lowest(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_highest_init(gt_ind_minmax *s, int32_t period);
int gt_ind_lowest_init(gt_ind_minmax *s, int32_t period);
double gt_ind_minmax_update(gt_ind_minmax *s, double x);
void gt_ind_minmax_fini(gt_ind_minmax *s);
/* Rolling sum (the state is an SMA's). */
int gt_ind_sum(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_sum_init(gt_ind_sma_state *s, int32_t period);
double gt_ind_sum_update(gt_ind_sma_state *s, double x);
/* Crossovers: 1 on the bar where a goes from <= b to > b (dir 1, cross_over) or from >= b
 * to < b (dir -1, cross_under), else 0; NaN on the first bar. */
typedef struct gt_ind_cross_state {
    double prev_a;
    double prev_b;
    int64_t count;
    int32_t dir;
} gt_ind_cross_state;
int gt_ind_cross(const double *a, const double *b, int64_t n, double *out, int32_t dir);
int gt_ind_cross_init(gt_ind_cross_state *s, int32_t dir);
double gt_ind_cross_update(gt_ind_cross_state *s, double a, double b);
/* Least-squares slope per bar over the last period values; period >= 2. */
typedef struct gt_ind_linreg_state {
    gt_ind_ring win;
    double sy;
    double sxy;
} gt_ind_linreg_state;
int gt_ind_linreg_slope(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_linreg_init(gt_ind_linreg_state *s, int32_t period);
double gt_ind_linreg_update(gt_ind_linreg_state *s, double x);
void gt_ind_linreg_fini(gt_ind_linreg_state *s);
/* Envelopes: SMA(period) and SMA (1 +- pct), pct a fraction (0.025 = 2.5 %).
 * out: mid, upper, lower. */
typedef struct gt_ind_envelope_state {
    gt_ind_sma_state sma;
    double pct;
    double mid;
    double upper;
    double lower;
} gt_ind_envelope_state;
int gt_ind_envelope(const double *in, int64_t n, double **out, int32_t period, double pct);
int gt_ind_envelope_init(gt_ind_envelope_state *s, int32_t period, double pct);
double gt_ind_envelope_update(gt_ind_envelope_state *s, double x);
void gt_ind_envelope_fini(gt_ind_envelope_state *s);
/* Heikin-Ashi bars: out open, high, low, close; update returns close. */
typedef struct gt_ind_heikin_state {
    int64_t count;
    double open;
    double high;
    double low;
    double close;
} gt_ind_heikin_state;
int gt_ind_heikin(const double *open, const double *high, const double *low, const double *close,
                  int64_t n, double **out);
int gt_ind_heikin_init(gt_ind_heikin_state *s);
double gt_ind_heikin_update(gt_ind_heikin_state *s, double open, double high, double low,
                            double close);
/* Ichimoku (9, 26, 52): out tenkan, kijun, span_a, span_b, each at the bar it is computed
 * from (not displaced forward as charts draw the cloud; chikou is the close itself). */
typedef struct gt_ind_ichimoku_state {
    gt_ind_minmax h1;
    gt_ind_minmax l1;
    gt_ind_minmax h2;
    gt_ind_minmax l2;
    gt_ind_minmax h3;
    gt_ind_minmax l3;
    double tenkan;
    double kijun;
    double span_a;
    double span_b;
} gt_ind_ichimoku_state;
int gt_ind_ichimoku(const double *high, const double *low, int64_t n, double **out,
                    int32_t tenkan, int32_t kijun, int32_t senkou);
int gt_ind_ichimoku_init(gt_ind_ichimoku_state *s, int32_t tenkan, int32_t kijun, int32_t senkou);
double gt_ind_ichimoku_update(gt_ind_ichimoku_state *s, double high, double low);
void gt_ind_ichimoku_fini(gt_ind_ichimoku_state *s);

/* ---- sizing (sizing.c): position size as a fraction of equity and whole shares ---- */
/* Pure functions over the caller's structs; nothing is allocated or kept. Fractions are of
 * equity (0.1 = 10 %). A NaN statistic means "not known". */
enum gt_sizing_method {
    GT_SIZING_KELLY = 0,            /* full Kelly f* = p - (1 - p) / b, floored at 0 */
    GT_SIZING_FRACTIONAL_KELLY = 1, /* kelly_fraction * f* */
    GT_SIZING_FIXED = 2,            /* fixed_fraction of equity */
    GT_SIZING_VOLATILITY = 3,       /* a stop atr_multiple * atr away risks risk_fraction */
    GT_SIZING_EQUAL_WEIGHT = 4,     /* 1 / slots */
    GT_SIZING_INTELLIGENT = 5,      /* the seed's: Kelly, confidence, regime, strategy */
    GT_SIZING_METHOD_COUNT = 6
};
/* Bits of gt_sizing_out.notes: why the size is what it is. */
enum gt_sizing_note {
    GT_SIZING_NOTE_NO_STATS = 1,        /* no win statistics: base is 0.5 * max_position */
    GT_SIZING_NOTE_KELLY_FLOORED = 2,   /* f* was negative (no edge): 0 */
    GT_SIZING_NOTE_LOW_CONFIDENCE = 4,  /* confidence below the threshold: 0 */
    GT_SIZING_NOTE_CLAMPED_MIN = 8,     /* raised to min_position */
    GT_SIZING_NOTE_CLAMPED_MAX = 16,    /* cut to max_position */
    GT_SIZING_NOTE_PRICE_TOO_HIGH = 32, /* one share costs more than the sized value: 0 */
    GT_SIZING_NOTE_B_CAPPED = 64        /* win/loss ratio b capped at 100 */
};
typedef struct gt_sizing_params {
    int32_t method;              /* enum gt_sizing_method */
    int32_t slots;               /* equal weight: number of positions (default 10) */
    double kelly_fraction;       /* 0.25 */
    double max_position;         /* 0.1 */
    double min_position;         /* 0.01 */
    double confidence_threshold; /* 0.6 */
    double fixed_fraction;       /* fixed method (default 0.3 * max_position = 0.03) */
    double risk_fraction;        /* volatility method: equity risked per trade (0.01) */
    double atr_multiple;         /* volatility method: stop distance in ATRs (2) */
    double regime_mult[7];       /* indexed by enum gt_regime (bull_quiet 1.2, ...) */
} gt_sizing_params;
typedef struct gt_sizing_input {
    double price;               /* > 0 */
    double equity;              /* > 0 */
    double win_rate;            /* p in [0.01, 0.99], or NaN: no statistics */
    double avg_win;             /* >= 0 (with win_rate) */
    double avg_loss;            /* < 0 (with win_rate) */
    double confidence;          /* [0, 1], or NaN: not used */
    double atr;                 /* > 0 for the volatility method, else may be NaN */
    double strategy_multiplier; /* >= 0; 1 when NaN */
    int32_t regime;             /* enum gt_regime, or -1: none */
    int32_t pad;
} gt_sizing_input;
typedef struct gt_sizing_out {
    double shares;         /* whole shares, >= 0 */
    double value;          /* shares * price */
    double fraction;       /* value / equity */
    double target;         /* the fraction before whole shares */
    double kelly;          /* f* (full Kelly), NaN without statistics */
    double confidence_adj; /* multiplier, 1 when not used */
    double regime_adj;     /* multiplier, 1 when not used */
    double risk;           /* fraction of equity lost at the stop / the average loss */
    int32_t notes;         /* enum gt_sizing_note bits */
    int32_t pad;
} gt_sizing_out;
/* The seed's defaults (RiskParameters and RegimeMultipliers) for method. */
void gt_sizing_params_init(gt_sizing_params *p, int32_t method);
/* Full Kelly f* for win rate p and average win / loss (avg_loss < 0), floored at 0, b capped
 * at 100; GT_EINVAL (negative) when p is outside [0.01, 0.99], avg_loss >= 0, avg_win < 0 or
 * any is not finite, with the field and value in gt_errmsg(). */
int gt_sizing_kelly(double p, double avg_win, double avg_loss, double *out);
/* The seed's confidence multiplier: 0 below threshold, 0.5 at it, then
 * 1 + (c - threshold) / (1 - threshold), at most 2. */
double gt_sizing_confidence_adj(double confidence, double threshold);
/* Sizes one order: fills *out and returns out->fraction (>= 0), or a negative status with
 * gt_errmsg() naming the field and value (nothing written). */
double gt_sizing_fraction(const gt_sizing_params *p, const gt_sizing_input *in,
                          gt_sizing_out *out);
/* Whole shares for fraction of equity at price, fraction clamped to [min_pos, max_pos] when
 * positive: the seed's kelly_position_value. Returns shares (>= 0) or a negative status. */
double gt_sizing_shares(double equity, double fraction, double price, double min_pos,
                        double max_pos, int32_t *notes);
/* Portfolio cap: when fractions[0..n) sum above cap (0.8), scales each down by cap / sum.
 * Returns the factor applied (1 when under the cap) or a negative status. */
double gt_sizing_portfolio_cap(double *fractions, int64_t n, double cap);

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
/* The whole state (not the limits) as bytes: returns the size needed; writes only when cap
 * is enough. restore: GT_OK, or GT_EPARSE naming what does not match. */
int64_t gt_risk_snapshot(const gt_risk *r, uint8_t *buf, int64_t cap);
int gt_risk_restore(gt_risk *r, const uint8_t *buf, int64_t len);

/* ---- a backtest with the sizing and risk units (bt.c, sim.c) ---- */
/* Every order the backtest books (a strategy's, a target's, an exit leg) passes
 * gt_risk_check first; a refusal is kept as a rejected order with GT_REJECT_RISK and the
 * rule. The gate hears of each bar (equity, the first symbol's close), fill, broker reject
 * and stop-out for its breakers. names: k symbol names for the gate (borrowed, like risk);
 * risk NULL detaches it. */
int gt_bt_set_risk(gt_bt *bt, gt_risk *risk, const char *const *names);
/* Targets sized by the sizing unit: a target's sign is the direction, the quantity is
 * gt_sizing_fraction's, with win statistics from the trades closed so far (never later
 * ones; Kelly needs at least min_trades of them, before that the method's fallback
 * applies). p is copied; NULL switches sizing off. */
int gt_bt_set_sizing(gt_bt *bt, const gt_sizing_params *p, int32_t min_trades);
/* What the gate did in this backtest: orders it refused. */
int64_t gt_bt_risk_refused(const gt_bt *bt);
/* ---- market regime (regime.c, hmm.c) ---- */
/* Per-bar features of one series, in this order in every feature row. Volatilities are
 * annualised percent (sample std of simple returns * sqrt(252) * 100); returns and spreads
 * are fractions; trend strength is the 20-bar least-squares slope / mean close * 100 * 20,
 * clipped to +-100; vol of vol is the sample std of the last 20 values of the 10-return std
 * (a raw decimal, the seed's definition); corr is the 30-return Pearson correlation to a
 * benchmark (NaN without one); trend_ann is (1 + ret60)^(365/60) - 1. NaN until defined. */
enum gt_regime_feature {
    GT_RF_VOL10 = 0,
    GT_RF_VOL30 = 1,
    GT_RF_RET1 = 2,
    GT_RF_RET5 = 3,
    GT_RF_RET20 = 4,
    GT_RF_RET60 = 5,
    GT_RF_SPREAD5_20 = 6,
    GT_RF_SPREAD20_60 = 7,
    GT_RF_TREND_STRENGTH = 8,
    GT_RF_VOL_OF_VOL = 9,
    GT_RF_ADX = 10,
    GT_RF_CORR = 11,
    GT_RF_TREND_ANN = 12,
    GT_RF_COUNT = 13
};
typedef struct gt_regime_feat gt_regime_feat;
gt_regime_feat *gt_regime_feat_new(void);
void gt_regime_feat_free(gt_regime_feat *f);
/* One bar in: writes GT_RF_COUNT features to out. bench is the benchmark's close at the
 * same bar, or NaN. A non-finite or non-positive close is GT_EINVAL. */
int gt_regime_feat_update(gt_regime_feat *f, double high, double low, double close, double bench,
                          double *out);
/* The update over n bars: out[i * GT_RF_COUNT + k]. bench may be NULL. */
int gt_regime_features(const double *high, const double *low, const double *close,
                       const double *bench, int64_t n, double *out);

/* The seed's rule classifier. Classes written to info (GT_RI_COUNT doubles). */
enum gt_regime_vol_class { GT_RVOL_LOW = 0, GT_RVOL_MEDIUM = 1, GT_RVOL_HIGH = 2,
                           GT_RVOL_EXTREME = 3 };
enum gt_regime_trend_class { GT_RTREND_STRONG_DOWN = 0, GT_RTREND_DOWN = 1,
                             GT_RTREND_SIDEWAYS = 2, GT_RTREND_UP = 3, GT_RTREND_STRONG_UP = 4 };
enum gt_regime_risk_class { GT_RRISK_OFF = 0, GT_RRISK_NEUTRAL = 1, GT_RRISK_ON = 2 };
enum gt_regime_info {
    GT_RI_CONFIDENCE = 0,
    GT_RI_STABILITY = 1,
    GT_RI_VOL = 2,
    GT_RI_TREND = 3,
    GT_RI_RISK = 4,
    GT_RI_COUNT = 5
};
/* Returns the regime (enum gt_regime) of one feature row, or -1 while vol10, vol30 or
 * trend_ann is NaN (info then untouched). info may be NULL. */
int32_t gt_regime_classify(const double *feat, double *info);
/* Features and rules over n bars: codes[i] (-1 in the warm-up), info[i * GT_RI_COUNT + k]
 * and feat[i * GT_RF_COUNT + k] when not NULL. bench may be NULL. */
int gt_regime_rules(const double *high, const double *low, const double *close,
                    const double *bench, int64_t n, double *feat, int8_t *codes, double *info);

/* Gaussian HMM, k states, d-dimensional observations with diagonal covariance.
 * Parameters: pi[k], a[k * k] (row = from), mean[k * d], var[k * d]. Observations are rows
 * x[t * d + j], all finite. */
typedef struct gt_hmm gt_hmm;
gt_hmm *gt_hmm_new(int32_t k, int32_t d);
void gt_hmm_free(gt_hmm *m);
int32_t gt_hmm_states(const gt_hmm *m);
int32_t gt_hmm_dims(const gt_hmm *m);
int gt_hmm_set(gt_hmm *m, const double *pi, const double *a, const double *mean,
               const double *var);
void gt_hmm_get(const gt_hmm *m, double *pi, double *a, double *mean, double *var);
/* Baum-Welch from `restarts` seeded starts (means at observations drawn by the seed),
 * at most iters iterations each, stops when the log-likelihood gains < tol; keeps the best
 * start. restarts = 0 is one start from m's current parameters (a warm start). Writes its
 * log-likelihood. */
int gt_hmm_fit(gt_hmm *m, const double *x, int64_t n, int32_t restarts, int32_t iters,
               double tol, uint64_t seed, double *loglik);
/* One forward-filter step: alpha[k] is P(state | obs 0..t-1) filtered at t-1 (ignored when
 * first != 0, pi is used); on return P(state | obs 0..t). x NULL (or with a NaN) is a
 * missing observation: a prediction step only. Returns GT_OK and adds log p(x_t | past) to
 * *loglik when loglik is not NULL. */
int gt_hmm_filter_step(const gt_hmm *m, double *alpha, int32_t first, const double *x,
                       double *loglik);
/* The filter step over n rows: post[t * k + s] = P(s | x 0..t). */
int gt_hmm_forward(const gt_hmm *m, const double *x, int64_t n, double *post, double *loglik);
/* Smoothed posteriors P(s | x 0..n-1) by scaled forward-backward (uses the whole sequence). */
int gt_hmm_smooth(const gt_hmm *m, const double *x, int64_t n, double *post, double *loglik);
/* Most likely state path (log-space Viterbi; uses the whole sequence). */
int gt_hmm_viterbi(const gt_hmm *m, const double *x, int64_t n, int32_t *path, double *logp);

/* Strategy-selection models (store.c, schema 4; gt.ml): one JSON document each. save
 * returns the new id; find the newest id with that name (GT_ENOTFOUND when none); doc copies
 * the document into buf (cap bytes, NUL-terminated) and returns its full length. */
int64_t gt_store_save_model(gt_store *st, const char *name, const char *doc, int64_t first_ts,
                            int64_t last_ts);
int64_t gt_store_model_find(gt_store *st, const char *name);
int64_t gt_store_model_doc(gt_store *st, int64_t id, char *buf, int64_t cap);
/* ---- optimize.c: the optimiser's numeric kernels (gt.optimize) ---- */
/* The standard normal CDF and its inverse (double precision). */
double gt_opt_norm_cdf(double x);
double gt_opt_norm_ppf(double p);
/* C(blocks, blocks/2), the number of CSCV splits; blocks even in 2..24, else < 0. */
int64_t gt_opt_cscv_splits(int32_t blocks);
/* CSCV over per-block sums (strategy-major: sum[j * blocks + b]) and the shared per-block
 * counts: writes one logit per split; returns the number written or < 0. */
int64_t gt_opt_cscv(const double *sum, const double *sum2, const double *cnt, int64_t nstrat,
                    int32_t blocks, double *logits, int64_t cap);
/* Sleeps (the parent polling its worker processes); a signal cuts it short. */
void gt_opt_sleep(double seconds);
/* Online processors: the default number of worker processes. */
int32_t gt_opt_cores(void);
/* The optimiser's own connection to a store (after gt_store_open made the schema):
 * prepare one statement, bind (1-based), step (1 row, 0 done and reset, < 0 error), read
 * columns (0-based). gt_opt_db_close accepts NULL. */
typedef struct gt_opt_db gt_opt_db;
gt_opt_db *gt_opt_db_open(const char *path);
void gt_opt_db_close(gt_opt_db *h);
int gt_opt_db_exec(gt_opt_db *h, const char *sql);
int gt_opt_db_prepare(gt_opt_db *h, const char *sql);
int gt_opt_db_bind_text(gt_opt_db *h, int32_t i, const char *v, int64_t len);
int gt_opt_db_bind_double(gt_opt_db *h, int32_t i, double v);
int gt_opt_db_bind_int(gt_opt_db *h, int32_t i, int64_t v);
int gt_opt_db_bind_blob(gt_opt_db *h, int32_t i, const double *v, int64_t n);
int gt_opt_db_step(gt_opt_db *h);
const char *gt_opt_db_text(gt_opt_db *h, int32_t i, int64_t *len);
double gt_opt_db_double(gt_opt_db *h, int32_t i);
int64_t gt_opt_db_int(gt_opt_db *h, int32_t i);
int64_t gt_opt_db_blob(gt_opt_db *h, int32_t i, const double **out);
int64_t gt_opt_db_last_id(gt_opt_db *h);

#endif
