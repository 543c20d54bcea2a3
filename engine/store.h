/*
 * store.h: SQLite storage. One database file (default gt.db) holds bars keyed by
 * (symbol, timeframe, ts) and an import log; later slices (runs, orders, fills, the event
 * journal) add their tables through store.c's migration list (the journal's tables, schema 8,
 * are read and written by gt.journal through engine/db.c; the monitor's alerts, schema 9, by
 * gt.alerts). Uses libsqlite3.
 *
 * Ownership: gt_store_open returns a handle that owns one SQLite connection; close it with
 * gt_store_close (NULL-safe). gt_store_load returns a new gt_series the caller frees;
 * gt_store_symbols returns a gt_store_list the caller frees with gt_store_list_free, and the
 * strings in its entries live as long as the list.
 *
 * Threads and processes: a handle is one connection opened with SQLITE_OPEN_NOMUTEX, so
 * use it from one thread at a time. Never use a handle across fork(): SQLite's locks are
 * per process, and a child writing through the parent's connection can corrupt the file.
 * A child (an optimisation worker, say) opens its own handle on the same path; WAL mode
 * lets many readers run beside one writer, and a busy database is waited for (5 s by
 * default, gt_store_set_busy_timeout) before a call fails.
 *
 * Declarations Lua calls are in gt_ffi.h; this header adds the C-only names.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_STORE_H
#define GT_STORE_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- store (store.c) ---- */
/* SQLite storage: bars keyed by (symbol, timeframe, ts) in one database file. A handle is
 * one connection: one thread at a time, never across fork() (see store.h). A time range
 * is start <= ts < stop; each bound applies only when its bit is set in `bounds`. Calls
 * return a count (>= 0) or a negative GT_E* code with gt_errmsg() naming the path. */
typedef struct gt_store gt_store;
enum { GT_STORE_SCHEMA_VERSION = 9 }; /* the newest schema (PRAGMA user_version) known */
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
/* Control settings that outlive a process (schema 7), e.g. "halt" -> the kill switch's
 * reason. set with value NULL deletes; get returns the value's length (copied into buf,
 * NUL-terminated) or GT_ENOTFOUND. */
int gt_store_control_set(gt_store *st, const char *key, const char *value);
int64_t gt_store_control_get(gt_store *st, const char *key, char *buf, int64_t cap);
/* ---- end ffi ---- */


/* The path used when the caller has none (the CLI's --db default). */
#define GT_STORE_DEFAULT_PATH "gt.db"

/* Busy timeout a new handle starts with, in milliseconds. */
#define GT_STORE_BUSY_MS 5000

#endif
