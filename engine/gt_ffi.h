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

/* ---- csv (csv.c) ---- */

/* ---- store (store.c) ---- */

/* ---- http (http.c) and providers (provider.c) ---- */

/* ---- indicators (ind.c) ---- */

#endif
