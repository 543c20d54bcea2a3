/*
 * series.h: columnar bars. One symbol at one timeframe as six parallel arrays (struct of
 * arrays), oldest first. The series owns its columns; it is reference counted (views and
 * Lua columns hold references, gt_series_free drops one), and a view made by
 * gt_series_view borrows its parent's memory, has cap == 0 and keeps the parent alive.
 * Its FFI declarations are in the block below so Lua reads the same struct; this header adds nothing
 * C-only yet.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_SERIES_H
#define GT_SERIES_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
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
    GT_BAR_OUT_OF_ORDER = 7, /* timestamp before the previous bar's */
    GT_BAR_SUBNORMAL = 8     /* a price below DBL_MIN: subnormal, not a quote */
};
/* prev_ts is the previous accepted bar's timestamp, or INT64_MIN for the first. */
int gt_bar_check(int64_t prev_ts, int64_t ts, double open, double high, double low, double close,
                 double volume);
const char *gt_bar_issue_text(int issue);
/* ---- end ffi ---- */


#endif
