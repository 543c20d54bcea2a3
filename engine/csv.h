/*
 * csv.h: OHLCV text ingestion (CSV and its semicolon/tab cousins). The reader maps the
 * file (or takes bytes in memory), finds the columns from the header (case-insensitive
 * names: Yahoo, backtrader, backtesting.py, Date+Time splits) or from an explicit map,
 * parses numbers with num.c and timestamps with datetime.c, and validates every row with
 * gt_bar_check. It owns nothing after it returns: the series and the report it hands out
 * belong to the caller (gt_series_free, gt_csv_report_free). Declarations Lua calls are
 * in the FFI block below; this header adds the C-only limits.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_CSV_H
#define GT_CSV_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
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
/* ---- end ffi ---- */


/* Fields per line the reader stores; a header with more columns is refused. */
#define GT_CSV_MAX_FIELDS 1024

#endif
