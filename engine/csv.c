/*
 * csv.c: OHLCV text -> gt_series. One pass over the bytes: memchr finds each line, one
 * loop walks its fields while num.c parses the numbers in place (bit-identical to strtod),
 * datetime.c validates dates, gt_bar_check judges every bar. The series is sized from a
 * newline-count estimate up front and written in place, then shrunk once. Problems are
 * row errors (a bad field: fail, or skip and list it) or file errors (no OHLC columns, an
 * ambiguous date order: always fail, because every row would be wrong the same way).
 */
#include "csv.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datetime.h"
#include "num.h"
#include "series.h"

_Static_assert(GT_CSV_NROLES == 9, "gt_csv_opts.col/name in gt_ffi.h are sized 9");

#define MAX_NOTES 8
#define WHY_SIZE 512

/* Role names as messages print them: "field 'close': ..." */
static const char *const role_name[GT_CSV_NROLES] = {
    "timestamp", "date", "time", "open", "high", "low", "close", "volume", "adj close"};

struct gt_csv_report {
    int64_t rows, loaded, skipped, blank;
    int64_t nerr, caperr;
    int64_t *err_line;
    size_t *err_off; /* into arena: offsets survive realloc, pointers would not */
    char *arena;
    size_t alen, acap;
    int32_t ncols;
    char **cols;
    int32_t role[GT_CSV_NROLES];
    int32_t date_format;
    int32_t delimiter;
    int32_t adjusted;
    int32_t nnotes;
    char *notes[MAX_NOTES];
};

typedef struct fld {
    const char *s;
    int n;
} fld;

typedef struct ctx {
    const char *name;
    gt_csv_opts o;
    gt_csv_report *rep;
    char delim;
    int col[GT_CSV_NROLES];
    int by_index[GT_CSV_NROLES]; /* the caller gave a field index (never re-aligned) */
    int nheader;                  /* header cells; 0 without a header */
    int nexp;                     /* fields every row must have; 0 before the first row */
    int fmt;                      /* date format; AUTO until the first row decides it */
    char mkey[8];                 /* "YYYY-MM-" of the last ISO date: rows repeat the month */
    int mkey_ok;
    int64_t mstart, mlen;         /* that month's first day (us) and its length in days */
    unsigned mask[GT_CSV_MAX_FIELDS]; /* per field: the roles (bits) it feeds */
    int bad_role;                 /* first numeric field of the row that did not parse */
    const char *bad_s;
    int bad_n;
    int64_t prev_ts;
    char why[WHY_SIZE];
    fld f[GT_CSV_MAX_FIELDS];
} ctx;

/* ---- small helpers ---- */

__attribute__((format(printf, 2, 3))) static int why(ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    return -1;
}

/* Field text for a message: at most 40 bytes, unprintable bytes as '?'. */
static const char *excerpt(char *dst, const char *s, int n)
{
    int k = n > 40 ? 40 : n, j = 0;
    for (int i = 0; i < k; i++)
        dst[j++] = (s[i] >= 32 && s[i] < 127) ? s[i] : '?';
    if (n > k) {
        memcpy(dst + j, "...", 3);
        j += 3;
    }
    dst[j] = '\0';
    return dst;
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int add_note(gt_csv_report *r, const char *text)
{
    if (r->nnotes >= MAX_NOTES)
        return GT_OK;
    char *d = dupn(text, strlen(text));
    if (!d)
        return gt_seterr(GT_ENOMEM, "csv: out of memory");
    r->notes[r->nnotes++] = d;
    return GT_OK;
}

static int add_error(gt_csv_report *r, int64_t line, const char *reason)
{
    size_t n = strlen(reason) + 1;
    if (r->nerr == r->caperr) {
        int64_t cap = r->caperr ? r->caperr * 2 : 16;
        int64_t *l = realloc(r->err_line, (size_t)cap * sizeof *l);
        if (!l)
            return gt_seterr(GT_ENOMEM, "csv: out of memory");
        r->err_line = l;
        size_t *o = realloc(r->err_off, (size_t)cap * sizeof *o);
        if (!o)
            return gt_seterr(GT_ENOMEM, "csv: out of memory");
        r->err_off = o;
        r->caperr = cap;
    }
    if (r->alen + n > r->acap) {
        size_t cap = r->acap ? r->acap * 2 : 1024;
        while (cap < r->alen + n)
            cap *= 2;
        char *a = realloc(r->arena, cap);
        if (!a)
            return gt_seterr(GT_ENOMEM, "csv: out of memory");
        r->arena = a;
        r->acap = cap;
    }
    memcpy(r->arena + r->alen, reason, n);
    r->err_line[r->nerr] = line;
    r->err_off[r->nerr] = r->alen;
    r->alen += n;
    r->nerr++;
    return GT_OK;
}

/* One field starting at p: sets *fs, *fn (quotes removed: "a,b" is a,b; a doubled quote
 * inside stays doubled, no numeric field has one) and returns where the delimiter or e
 * is, or NULL for a quote that does not close before the delimiter. */
static const char *field(const char *p, const char *e, char d, const char **fs, int *fn)
{
    const char *s = p;
    if (p < e && *p == '"') {
        for (p++;; p++) {
            if (p >= e)
                return NULL;
            if (*p == '"') {
                if (p + 1 < e && p[1] == '"') {
                    p++;
                    continue;
                }
                break;
            }
        }
        p++; /* past the closing quote; only the delimiter may follow */
        if (p < e && *p != d)
            return NULL;
        *fs = s + 1;
        *fn = (int)(p - s) - 2;
        return p;
    }
    while (p < e && *p != d)
        p++;
    *fs = s;
    *fn = (int)(p - s);
    return p;
}

/* Splits [p, e) at d into c->f. Returns the field count (which may exceed what is
 * stored) or -1 for an unterminated quote. */
static int split(ctx *c, const char *p, const char *e, char d)
{
    int nf = 0;
    for (;;) {
        const char *s;
        int n;
        if (!(p = field(p, e, d, &s, &n)))
            return -1;
        if (nf < GT_CSV_MAX_FIELDS) {
            c->f[nf].s = s;
            c->f[nf].n = n;
        }
        nf++;
        if (p >= e)
            return nf;
        p++;
    }
}

static inline void trim(const char **s, int *n)
{
    if (*n > 0 && **s != ' ' && **s != '\t' && (*s)[*n - 1] != ' ' && (*s)[*n - 1] != '\t')
        return;
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* ---- timestamps ---- */

/* n digits at s as a number, or -1. */
static int64_t dig(const char *s, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9)
            return -1;
        v = v * 10 + d;
    }
    return v;
}

static int ndigits(const char *s, int n)
{
    int k = 0;
    while (k < n && (unsigned)(s[k] - '0') <= 9)
        k++;
    return k;
}

/* Time of day: H:MM or HH:MM[:SS[.f+]] (and, unless colons are required, HHMM or
 * HHMMSS). Returns 0 and microseconds since midnight, or -1. */
static int parse_hms(const char *s, int n, int colons, int64_t *us)
{
    int64_t h, mi, sec = 0, frac = 0;
    int i;
    if (!colons && (n == 4 || n == 6) && ndigits(s, n) == n) {
        h = dig(s, 2);
        mi = dig(s + 2, 2);
        sec = n == 6 ? dig(s + 4, 2) : 0;
    } else {
        int k = ndigits(s, n);
        if (k < 1 || k > 2 || k + 3 > n || s[k] != ':')
            return -1;
        h = dig(s, k);
        mi = dig(s + k + 1, 2);
        i = k + 3;
        if (mi < 0)
            return -1;
        if (i < n && s[i] == ':') {
            if (i + 3 > n || (sec = dig(s + i + 1, 2)) < 0)
                return -1;
            i += 3;
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                int nd = ndigits(s + i + 1, n - i - 1);
                if (nd == 0)
                    return -1;
                for (int j = 0; j < 6; j++)
                    frac = frac * 10 + (j < nd ? s[i + 1 + j] - '0' : 0);
                i += 1 + nd;
            }
        }
        if (i != n)
            return -1;
    }
    if (h > 23 || mi > 59 || sec > 60)
        return -1;
    *us = ((h * 60 + mi) * 60 + sec) * GT_US_PER_SEC + frac;
    return 0;
}

/* Days since the epoch for y-m-d, or -1 (as a flag in *ok) when no such date. The round
 * trip through datetime.c is the calendar check; no month-length table is kept here. */
static int civil(int64_t y, int64_t m, int64_t d, int64_t *days)
{
    if (y < 0 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    int64_t z = gt_days_from_civil(y, m, d), y2, m2, d2;
    gt_civil_from_days(z, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d)
        return -1;
    *days = z;
    return 0;
}

/* YMD, DMY or MDY text with an optional " HH:MM[:SS]" or "THH:MM[:SS]". Returns NULL or
 * what is wrong. */
static const char *parse_dmy(int fmt, const char *s, int n, int64_t *us)
{
    int64_t y, m, d, days, tod = 0;
    int i;
    if (fmt == GT_CSV_DATE_YMD) {
        int k = ndigits(s, n);
        if (k == 8) {
            y = dig(s, 4);
            m = dig(s + 4, 2);
            d = dig(s + 6, 2);
            i = 8;
        } else if (k == 4 && n > 5 && (s[4] == '/' || s[4] == '.' || s[4] == '-')) {
            char sep = s[4];
            int k2 = ndigits(s + 5, n - 5);
            if (k2 < 1 || k2 > 2 || 5 + k2 >= n || s[5 + k2] != sep)
                return "expected YYYYMMDD or YYYY/MM/DD";
            int k3 = ndigits(s + 6 + k2, n - 6 - k2);
            if (k3 < 1 || k3 > 2)
                return "expected YYYYMMDD or YYYY/MM/DD";
            y = dig(s, 4);
            m = dig(s + 5, k2);
            d = dig(s + 6 + k2, k3);
            i = 6 + k2 + k3;
        } else {
            return "expected YYYYMMDD or YYYY/MM/DD";
        }
    } else {
        const char *want = fmt == GT_CSV_DATE_DMY ? "expected DD/MM/YYYY or DD/MM/YY"
                                                  : "expected MM/DD/YYYY or MM/DD/YY";
        int k1 = ndigits(s, n);
        if (k1 < 1 || k1 > 2 || k1 >= n || (s[k1] != '/' && s[k1] != '.' && s[k1] != '-'))
            return want;
        char sep = s[k1];
        int k2 = ndigits(s + k1 + 1, n - k1 - 1);
        int j = k1 + 1 + k2;
        if (k2 < 1 || k2 > 2 || j >= n || s[j] != sep)
            return want;
        int k3 = ndigits(s + j + 1, n - j - 1);
        if (k3 != 4 && k3 != 2)
            return want;
        int64_t a = dig(s, k1), b = dig(s + k1 + 1, k2);
        y = dig(s + j + 1, k3);
        if (k3 == 2) /* POSIX strptime %y: 69-99 are 1969-1999, 00-68 are 2000-2068 */
            y += y >= 69 ? 1900 : 2000;
        d = fmt == GT_CSV_DATE_DMY ? a : b;
        m = fmt == GT_CSV_DATE_DMY ? b : a;
        i = j + 1 + k3;
    }
    if (civil(y, m, d, &days) != 0)
        return "no such date";
    if (i < n) {
        if ((s[i] != ' ' && s[i] != 'T') || parse_hms(s + i + 1, n - i - 1, 0, &tod) != 0)
            return "bad time of day (expected HH:MM[:SS])";
    }
    *us = days * GT_US_PER_DAY + tod;
    return NULL;
}

/* Integer (optionally with a fraction) count of `unit` microseconds since the epoch. */
static const char *parse_epoch(const char *s, int n, int64_t unit, int64_t *us)
{
    int i = 0, neg = 0;
    if (n > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    int k = ndigits(s + i, n - i);
    if (k == 0 || k > 18)
        return "expected an integer count since 1970-01-01";
    int64_t v = dig(s + i, k);
    if (v >= INT64_MAX / unit) /* room for the fraction too */
        return "out of range";
    v *= unit;
    i += k;
    if (i < n && s[i] == '.') {
        int nf = ndigits(s + i + 1, n - i - 1);
        if (nf == 0)
            return "expected digits after '.'";
        int64_t scale = unit;
        for (int j = 0; j < nf && scale > 1; j++) {
            scale /= 10;
            v += (s[i + 1 + j] - '0') * scale;
        }
        i += 1 + nf;
    }
    if (i != n)
        return "expected an integer count since 1970-01-01";
    *us = neg ? -v : v;
    return NULL;
}

/* ISO 8601 through gt_time_parse. The month is cached because consecutive rows share it:
 * a known "YYYY-MM-" prefix only needs its day checked against the month's length (both
 * from datetime.c), and a plain HH:MM[:SS[.f]] after the date is added without re-parsing.
 * Anything else (zones, odd shapes, errors) goes through gt_time_parse itself. */
static const char *parse_iso(ctx *c, const char *s, int n, int64_t *us)
{
    if (n >= 10 && s[4] == '-' && s[7] == '-') {
        int64_t day, tod, dd = dig(s + 8, 2);
        if (c->mkey_ok && memcmp(s, c->mkey, 8) == 0 && dd >= 1 && dd <= c->mlen) {
            day = c->mstart + (dd - 1) * GT_US_PER_DAY;
        } else if (gt_time_parse(s, 10, &day) == GT_OK) {
            int64_t y = dig(s, 4), m = dig(s + 5, 2);
            int64_t first = gt_days_from_civil(y, m, 1);
            memcpy(c->mkey, s, 8);
            c->mkey_ok = 1;
            c->mstart = first * GT_US_PER_DAY;
            c->mlen = gt_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - first;
        } else {
            goto full;
        }
        if (n == 10) {
            *us = day;
            return NULL;
        }
        if ((s[10] == 'T' || s[10] == ' ') && parse_hms(s + 11, n - 11, 1, &tod) == 0) {
            *us = day + tod;
            return NULL;
        }
    }
full:
    if (gt_time_parse(s, (size_t)n, us) == GT_OK)
        return NULL;
    /* gt_time_parse says "bad timestamp '...': why"; keep the why */
    const char *m = gt_errmsg(), *w = strstr(m, "': ");
    return w ? w + 3 : m;
}

enum { FMT_UNKNOWN = -1, FMT_AMBIGUOUS = -2 };

/* The format of a first-row timestamp, from its shape alone. */
static int detect(const char *s, int n)
{
    if (n >= 10 && s[4] == '-' && s[7] == '-')
        return GT_CSV_DATE_ISO;
    int k = ndigits(s, n);
    int frac = k < n && s[k] == '.' && k + 1 < n && ndigits(s + k + 1, n - k - 1) == n - k - 1;
    if (k == n && k == 8)
        return GT_CSV_DATE_YMD;
    if (k == n || frac) {
        if (k >= 9 && k <= 11)
            return GT_CSV_DATE_EPOCH_S;
        if (k >= 12 && k <= 14)
            return GT_CSV_DATE_EPOCH_MS;
        if (k >= 15 && k <= 17)
            return GT_CSV_DATE_EPOCH_US;
        return FMT_UNKNOWN;
    }
    if (k == 8 && (s[8] == ' ' || s[8] == 'T'))
        return GT_CSV_DATE_YMD;
    if (k == 4 && (s[4] == '/' || s[4] == '.'))
        return GT_CSV_DATE_YMD;
    if ((k == 1 || k == 2) && (s[k] == '/' || s[k] == '.' || s[k] == '-'))
        return FMT_AMBIGUOUS;
    return FMT_UNKNOWN;
}

static const char *fmt_name(int fmt)
{
    static const char *const names[] = {"auto", "iso",      "ymd",      "dmy",
                                        "mdy",  "epoch_s", "epoch_ms", "epoch_us"};
    return fmt >= 0 && fmt <= GT_CSV_DATE_EPOCH_US ? names[fmt] : "?";
}

static const char *parse_time_text(ctx *c, const char *s, int n, int64_t *us)
{
    switch (c->fmt) {
    case GT_CSV_DATE_ISO:
        return parse_iso(c, s, n, us);
    case GT_CSV_DATE_YMD:
    case GT_CSV_DATE_DMY:
    case GT_CSV_DATE_MDY:
        return parse_dmy(c->fmt, s, n, us);
    case GT_CSV_DATE_EPOCH_S:
        return parse_epoch(s, n, GT_US_PER_SEC, us);
    case GT_CSV_DATE_EPOCH_MS:
        return parse_epoch(s, n, 1000, us);
    case GT_CSV_DATE_EPOCH_US:
        return parse_epoch(s, n, 1, us);
    }
    return "unknown date format";
}

/* The row's timestamp from the ts column, or date + time columns. Returns 0, -1 (row
 * error) or -2 (file error: the date order cannot be known). */
static int row_time(ctx *c, int64_t *us)
{
    int role = c->col[GT_CSV_TS] >= 0 ? GT_CSV_TS : GT_CSV_DATE;
    const fld *f = &c->f[c->col[role]];
    const char *s = f->s;
    int n = f->n;
    char ex[64];
    trim(&s, &n);
    if (n == 0)
        return why(c, "field '%s': empty", role_name[role]);
    if (c->fmt == GT_CSV_DATE_AUTO) {
        int d = detect(s, n);
        if (d == FMT_AMBIGUOUS) {
            why(c,
                "field '%s': date '%s' is ambiguous (day/month order); "
                "set date_format = \"dmy\" or \"mdy\"",
                role_name[role], excerpt(ex, s, n));
            return -2;
        }
        if (d == FMT_UNKNOWN)
            return why(c,
                       "field '%s': unrecognised timestamp '%s'; set date_format "
                       "(iso, ymd, dmy, mdy, epoch_s, epoch_ms, epoch_us)",
                       role_name[role], excerpt(ex, s, n));
        if (role == GT_CSV_DATE && d >= GT_CSV_DATE_EPOCH_S) {
            why(c, "field 'date': '%s' looks like an epoch count; map it as ts, not date",
                excerpt(ex, s, n));
            return -2;
        }
        c->fmt = d;
        c->rep->date_format = d;
    }
    const char *bad = parse_time_text(c, s, n, us);
    if (bad)
        return why(c, "field '%s': bad timestamp '%s': %s", role_name[role], excerpt(ex, s, n),
                   bad);
    if (role == GT_CSV_DATE) {
        int64_t tod;
        const fld *t = &c->f[c->col[GT_CSV_TIME]];
        const char *ts = t->s;
        int tn = t->n;
        trim(&ts, &tn);
        if (*us % GT_US_PER_DAY != 0)
            return why(c, "field 'date': '%s' has a time of day, but there is a time column",
                       excerpt(ex, s, n));
        if (parse_hms(ts, tn, 0, &tod) != 0)
            return why(c, "field 'time': bad time of day '%s' (expected HH:MM[:SS[.fff]])",
                       excerpt(ex, ts, tn));
        *us += tod;
    }
    return 0;
}

/* ---- rows ---- */

#define NUM_ROLES                                                                         \
    ((1u << GT_CSV_OPEN) | (1u << GT_CSV_HIGH) | (1u << GT_CSV_LOW) | (1u << GT_CSV_CLOSE) | \
     (1u << GT_CSV_VOLUME) | (1u << GT_CSV_ADJ_CLOSE))

/* One data row in a single pass: numeric fields are parsed where they stand (the number's
 * end must be the field's end), the others are only delimited (and stored in c->f for the
 * timestamp). v[role] receives each number; the first numeric field that is not a number
 * is noted in c->bad_*, to be reported after the field count and the timestamp. Returns
 * the field count, or -1 for an unterminated quote. */
static int scan(ctx *c, const char *p, const char *e, double *v)
{
    const char d = c->delim;
    int nf = 0;
    c->bad_role = -1;
    for (;;) {
        unsigned mk = nf < GT_CSV_MAX_FIELDS ? c->mask[nf] & NUM_ROLES : 0;
        const char *s;
        int n;
        double x;
        if (mk && p < e && *p != '"') {
            const char *q = gt_num_scan(p, e, &x);
            if (q && (q == e || *q == d)) {
                c->f[nf].s = p; /* a column may also be mapped as the timestamp */
                c->f[nf].n = (int)(q - p);
                p = q;
                goto got;
            }
        }
        if (!(p = field(p, e, d, &s, &n)))
            return -1;
        if (nf < GT_CSV_MAX_FIELDS) {
            c->f[nf].s = s;
            c->f[nf].n = n;
        }
        if (mk) {
            trim(&s, &n); /* " 1.5" is a padded number, not garbage */
            if (n == 0 || gt_num_parse(s, (size_t)n, &x) != GT_OK) {
                if (c->bad_role < 0) {
                    c->bad_role = __builtin_ctz(mk);
                    c->bad_s = s;
                    c->bad_n = n;
                }
                goto next;
            }
        got:
            for (unsigned b = mk; b; b &= b - 1)
                v[__builtin_ctz(b)] = x;
        }
    next:
        nf++;
        if (p >= e)
            return nf;
        p++;
    }
}

/* The field gt_bar_check's verdict is about, for the message. */
static const char *issue_field(ctx *c, int issue, const double *v)
{
    static const int price[5] = {GT_CSV_OPEN, GT_CSV_HIGH, GT_CSV_LOW, GT_CSV_CLOSE,
                                 GT_CSV_VOLUME};
    switch (issue) {
    case GT_BAR_NONFINITE:
        for (int i = 0; i < 5; i++)
            if (!isfinite(v[i]))
                return role_name[price[i]];
        break;
    case GT_BAR_NONPOSITIVE:
        for (int i = 0; i < 4; i++)
            if (!(v[i] > 0))
                return role_name[price[i]];
        break;
    case GT_BAR_SUBNORMAL:
        for (int i = 0; i < 4; i++)
            if (v[i] < DBL_MIN)
                return role_name[price[i]];
        break;
    case GT_BAR_NEG_VOLUME:
        return "volume";
    case GT_BAR_HIGH_BELOW:
        return "high";
    case GT_BAR_LOW_ABOVE:
        return "low";
    }
    return role_name[c->col[GT_CSV_TS] >= 0 ? GT_CSV_TS : GT_CSV_DATE];
}

/* One data row (scanned: nf fields, numbers in r[role]) into v[0..4] and *ts. Returns 0,
 * -1 for a row error or -2 for a file error. */
static int row(ctx *c, int nf, const double *r, int64_t *ts, double *v)
{
    if (nf != c->nexp)
        return why(c, "wrong field count: %d fields, expected %d", nf, c->nexp);
    int rc = row_time(c, ts);
    if (rc)
        return rc;
    if (c->bad_role >= 0) {
        char ex[64];
        if (c->bad_n == 0)
            return why(c, "field '%s': empty", role_name[c->bad_role]);
        return why(c, "field '%s': not a number: '%s'", role_name[c->bad_role],
                   excerpt(ex, c->bad_s, c->bad_n));
    }
    v[0] = r[GT_CSV_OPEN];
    v[1] = r[GT_CSV_HIGH];
    v[2] = r[GT_CSV_LOW];
    v[3] = r[GT_CSV_CLOSE];
    v[4] = c->col[GT_CSV_VOLUME] >= 0 ? r[GT_CSV_VOLUME] : 0;
    int issue = gt_bar_check(c->prev_ts, *ts, v[0], v[1], v[2], v[3], v[4]);
    if (issue)
        return why(c, "field '%s': %s", issue_field(c, issue, v), gt_bar_issue_text(issue));
    if (c->o.adjust) {
        double a = r[GT_CSV_ADJ_CLOSE];
        if (!isfinite(a) || !(a > 0))
            return why(c, "field 'adj close': %s",
                       gt_bar_issue_text(isfinite(a) ? GT_BAR_NONPOSITIVE : GT_BAR_NONFINITE));
        /* One factor for all four prices keeps their order (rounding is monotonic), so
         * close becomes Adj Close within one rounding and high/low stay consistent. */
        double f = a / v[3];
        for (int i = 0; i < 4; i++)
            v[i] *= f;
        issue = gt_bar_check(c->prev_ts, *ts, v[0], v[1], v[2], v[3], v[4]);
        if (issue)
            return why(c, "field '%s': after adjusting: %s", issue_field(c, issue, v),
                       gt_bar_issue_text(issue));
    }
    return 0;
}

/* ---- header and layout ---- */

/* Lower-case letters and digits only: "Adj Close", "adj_close", "<CLOSE>" all compare. */
static void norm(char *dst, size_t cap, const char *s, int n)
{
    size_t j = 0;
    for (int i = 0; i < n && j + 1 < cap; i++) {
        char ch = s[i];
        if (ch >= 'A' && ch <= 'Z')
            dst[j++] = (char)(ch - 'A' + 'a');
        else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
            dst[j++] = ch;
    }
    dst[j] = '\0';
}

static int role_of(const char *k, int idx)
{
    static const struct {
        const char *name;
        int role;
    } names[] = {
        {"date", GT_CSV_DATE},       {"day", GT_CSV_DATE},           {"time", GT_CSV_TIME},
        {"datetime", GT_CSV_TS},     {"timestamp", GT_CSV_TS},       {"ts", GT_CSV_TS},
        {"epoch", GT_CSV_TS},        {"unixtime", GT_CSV_TS},        {"open", GT_CSV_OPEN},
        {"high", GT_CSV_HIGH},       {"low", GT_CSV_LOW},            {"close", GT_CSV_CLOSE},
        {"volume", GT_CSV_VOLUME},   {"vol", GT_CSV_VOLUME},         {"adjclose", GT_CSV_ADJ_CLOSE},
        {"adjustedclose", GT_CSV_ADJ_CLOSE},
    };
    if (k[0] == '\0')
        return idx == 0 ? GT_CSV_TS : -1; /* pandas' unnamed index column */
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(k, names[i].name) == 0)
            return names[i].role;
    return -1;
}

/* The header cells joined with the delimiter, for messages (at most ~120 bytes). */
static const char *header_text(ctx *c, char *buf, size_t cap)
{
    size_t j = 0;
    buf[0] = '\0';
    for (int i = 0; i < c->rep->ncols && j + 1 < cap; i++) {
        int w = snprintf(buf + j, cap - j, "%s%s", i ? "," : "", c->rep->cols[i]);
        if (w < 0 || (size_t)w >= cap - j) {
            if (cap > 4)
                memcpy(buf + cap - 4, "...", 4);
            break;
        }
        j += (size_t)w;
    }
    return buf;
}

static char detect_delim(const char *p, const char *e)
{
    int comma = 0, semi = 0, tab = 0, inq = 0;
    for (; p < e; p++) {
        if (*p == '"')
            inq = !inq;
        else if (!inq)
            comma += *p == ',', semi += *p == ';', tab += *p == '\t';
    }
    if (comma >= semi && comma >= tab && comma > 0)
        return ',';
    if (semi >= tab && semi > 0)
        return ';';
    return tab > 0 ? '\t' : ',';
}

static int fatal(ctx *c, int64_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fatal(ctx *c, int64_t line, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        return gt_seterr(GT_EPARSE, "%s:%lld: %s", c->name, (long long)line, msg);
    return gt_seterr(GT_EPARSE, "%s: %s", c->name, msg);
}

/* Resolves timestamp roles once the explicit map and the header names are known. */
static void settle_time_roles(ctx *c, const int *explicit_role)
{
    int *col = c->col;
    if (explicit_role[GT_CSV_TS] && !explicit_role[GT_CSV_DATE])
        col[GT_CSV_DATE] = -1;
    if (explicit_role[GT_CSV_TS] && !explicit_role[GT_CSV_TIME])
        col[GT_CSV_TIME] = -1;
    if ((explicit_role[GT_CSV_DATE] || explicit_role[GT_CSV_TIME]) && !explicit_role[GT_CSV_TS])
        col[GT_CSV_TS] = -1;
    if (col[GT_CSV_TS] >= 0) {
        col[GT_CSV_DATE] = col[GT_CSV_TIME] = -1;
    } else if (col[GT_CSV_DATE] >= 0 && col[GT_CSV_TIME] < 0) {
        col[GT_CSV_TS] = col[GT_CSV_DATE]; /* a lone Date column is the whole timestamp */
        c->by_index[GT_CSV_TS] = c->by_index[GT_CSV_DATE];
        col[GT_CSV_DATE] = -1;
    } else if (col[GT_CSV_DATE] < 0 && col[GT_CSV_TIME] >= 0) {
        col[GT_CSV_TS] = col[GT_CSV_TIME]; /* a lone Time column holding date and time */
        c->by_index[GT_CSV_TS] = c->by_index[GT_CSV_TIME];
        col[GT_CSV_TIME] = -1;
    }
}

static int check_required(ctx *c, int64_t line, const char *first, int firstn)
{
    char missing[128] = "", hdr[160];
    size_t j = 0;
    if (c->col[GT_CSV_TS] < 0 && c->col[GT_CSV_DATE] < 0)
        j += (size_t)snprintf(missing + j, sizeof missing - j, "date/timestamp");
    for (int r = GT_CSV_OPEN; r <= GT_CSV_CLOSE; r++)
        if (c->col[r] < 0)
            j += (size_t)snprintf(missing + j, sizeof missing - j, "%s%s", j ? ", " : "",
                                  role_name[r]);
    if (j == 0)
        return GT_OK;
    if (!c->o.header)
        return fatal(c, 0, "header = false needs the columns by index; missing: %s", missing);
    if (firstn > 0 && detect(first, firstn) != FMT_UNKNOWN)
        return fatal(c, line,
                     "line %lld looks like data, not a header; set header = false and give "
                     "the columns by index",
                     (long long)line);
    return fatal(c, line,
                 "not an OHLCV header: no %s column in '%s'; map them explicitly "
                 "(columns = {ts=, open=, high=, low=, close=, volume=} by name or index)",
                 missing, header_text(c, hdr, sizeof hdr));
}

/* The header line (or, with header = false, nothing) sets the roles. File errors only. */
static int setup(ctx *c, const char *p, const char *e, int64_t line)
{
    gt_csv_report *r = c->rep;
    int explicit_role[GT_CSV_NROLES] = {0};
    const char *first = NULL;
    int firstn = 0;
    for (int i = 0; i < GT_CSV_NROLES; i++)
        c->col[i] = -1;
    c->delim = c->o.delimiter ? (char)c->o.delimiter : p ? detect_delim(p, e) : ',';
    r->delimiter = (unsigned char)c->delim;
    if (c->o.header) {
        int nf = split(c, p, e, c->delim);
        if (nf < 0)
            return fatal(c, line, "header: unterminated quote");
        if (nf > GT_CSV_MAX_FIELDS)
            return fatal(c, line, "header has %d columns, more than %d", nf, GT_CSV_MAX_FIELDS);
        r->cols = calloc((size_t)nf, sizeof *r->cols);
        if (!r->cols)
            return gt_seterr(GT_ENOMEM, "csv: out of memory");
        for (int i = 0; i < nf; i++) {
            const char *s = c->f[i].s;
            int n = c->f[i].n;
            trim(&s, &n);
            if (i == 0) {
                first = s;
                firstn = n;
            }
            if (!(r->cols[i] = dupn(s, (size_t)n)))
                return gt_seterr(GT_ENOMEM, "csv: out of memory");
            r->ncols = i + 1;
            char k[64];
            norm(k, sizeof k, s, n);
            int role = role_of(k, i);
            if (role >= 0 && c->col[role] < 0)
                c->col[role] = i;
        }
        c->nheader = nf;
    }
    for (int ro = 0; ro < GT_CSV_NROLES; ro++) {
        const char *want = c->o.name[ro];
        if (want) {
            char hdr[160], kw[64], kc[64];
            int found = -1;
            if (!c->o.header)
                return fatal(c, 0, "columns by name (%s = '%s') need a header line",
                             role_name[ro], want);
            norm(kw, sizeof kw, want, (int)strlen(want));
            for (int i = 0; i < r->ncols && found < 0; i++)
                if (strcasecmp(r->cols[i], want) == 0)
                    found = i;
            for (int i = 0; i < r->ncols && found < 0; i++) {
                norm(kc, sizeof kc, r->cols[i], (int)strlen(r->cols[i]));
                if (kw[0] && strcmp(kc, kw) == 0)
                    found = i;
            }
            if (found < 0)
                return fatal(c, line, "no column named '%s' (for %s) in the header '%s'", want,
                             role_name[ro], header_text(c, hdr, sizeof hdr));
            c->col[ro] = found;
            explicit_role[ro] = 1;
        } else if (c->o.col[ro] >= 0) {
            if (c->o.col[ro] >= GT_CSV_MAX_FIELDS)
                return fatal(c, 0, "column index %d for %s is too large", c->o.col[ro] + 1,
                             role_name[ro]);
            c->col[ro] = c->o.col[ro];
            c->by_index[ro] = 1;
            explicit_role[ro] = 2;
        }
    }
    settle_time_roles(c, explicit_role);
    int rc = check_required(c, line, first, firstn);
    if (rc)
        return rc;
    if (c->o.adjust && c->col[GT_CSV_ADJ_CLOSE] < 0) {
        char hdr[160];
        return fatal(c, line, "adjust = true needs an Adj Close column; none in '%s'",
                     header_text(c, hdr, sizeof hdr));
    }
    if (c->o.date_format != GT_CSV_DATE_AUTO && c->col[GT_CSV_DATE] >= 0 &&
        c->o.date_format >= GT_CSV_DATE_EPOCH_S)
        return fatal(c, 0, "date_format %s cannot be split into date and time columns",
                     fmt_name(c->o.date_format));
    return GT_OK;
}

/* With the first data row in c->f: decides how many fields every row has, and repairs
 * the one header defect seen in the wild (backtrader's 1-minute files: the header lacks
 * the Time column its rows have). File errors only. */
static int layout(ctx *c, int nf, int64_t line)
{
    char buf[512];
    int all_explicit = 1; /* every role by field index: the header's count does not matter */
    for (int ro = 0; ro < GT_CSV_NROLES; ro++)
        if (c->col[ro] >= 0 && !c->by_index[ro])
            all_explicit = 0;
    c->nexp = c->nheader;
    if (!c->o.header) {
        c->nexp = nf;
    } else if (nf != c->nheader && all_explicit) {
        c->nexp = nf;
        snprintf(buf, sizeof buf,
                 "the header has %d names but line %lld has %d fields; the explicit column "
                 "indices count fields, so rows must have %d",
                 c->nheader, (long long)line, nf, nf);
        if (add_note(c->rep, buf))
            return GT_ENOMEM;
    } else if (nf == c->nheader + 1 && c->col[GT_CSV_TS] >= 0 && !c->by_index[GT_CSV_TS] &&
               c->col[GT_CSV_TIME] < 0 && c->col[GT_CSV_TS] + 1 < nf) {
        int k = c->col[GT_CSV_TS];
        int64_t tod;
        const fld *d = &c->f[k], *t = &c->f[k + 1];
        int dfmt = detect(d->s, d->n);
        if (parse_hms(t->s, t->n, 1, &tod) == 0 && dfmt != FMT_UNKNOWN &&
            dfmt < GT_CSV_DATE_EPOCH_S) {
            for (int ro = 0; ro < GT_CSV_NROLES; ro++)
                if (c->col[ro] > k && !c->by_index[ro])
                    c->col[ro]++;
            c->col[GT_CSV_DATE] = k;
            c->col[GT_CSV_TIME] = k + 1;
            c->col[GT_CSV_TS] = -1;
            c->nexp = nf;
            int j = snprintf(buf, sizeof buf,
                             "the header has %d names but the rows have %d fields and field "
                             "%d holds a time of day ('%.*s'): read as ",
                             c->nheader, nf, k + 2, t->n > 12 ? 12 : t->n, t->s);
            for (int i = 0; i < c->nheader && j < (int)sizeof buf - 40; i++) {
                j += snprintf(buf + j, sizeof buf - (size_t)j, "%s%s", i ? "," : "",
                              c->rep->cols[i]);
                if (i == k)
                    j += snprintf(buf + j, sizeof buf - (size_t)j, ",Time");
            }
            if (add_note(c->rep, buf))
                return GT_ENOMEM;
        }
    }
    for (int ro = 0; ro < GT_CSV_NROLES; ro++)
        if (c->col[ro] >= c->nexp)
            return fatal(c, line, "column %d (%s) is beyond the %d fields of the rows",
                         c->col[ro] + 1, role_name[ro], c->nexp);
    for (int ro = 0; ro < GT_CSV_NROLES; ro++) {
        c->rep->role[ro] = c->col[ro];
        if (c->col[ro] >= 0 && (ro != GT_CSV_ADJ_CLOSE || c->o.adjust))
            c->mask[c->col[ro]] |= 1u << ro;
    }
    return GT_OK;
}

/* ---- the reader ---- */

void gt_csv_opts_init(gt_csv_opts *o)
{
    memset(o, 0, sizeof *o);
    o->on_error = GT_CSV_FAIL;
    o->date_format = GT_CSV_DATE_AUTO;
    o->header = 1;
    for (int i = 0; i < GT_CSV_NROLES; i++)
        o->col[i] = -1;
    o->max_bytes = GT_CSV_MAX_BYTES;
}

static int check_opts(const gt_csv_opts *o)
{
    if (o->on_error != GT_CSV_FAIL && o->on_error != GT_CSV_SKIP)
        return gt_seterr(GT_EINVAL, "csv: on_error must be GT_CSV_FAIL or GT_CSV_SKIP");
    if (o->date_format < GT_CSV_DATE_AUTO || o->date_format > GT_CSV_DATE_EPOCH_US)
        return gt_seterr(GT_EINVAL, "csv: unknown date_format %d", o->date_format);
    /* a delimiter that can occur inside a number or a date would split them */
    if (o->delimiter < 0 || o->delimiter > 127 ||
        (o->delimiter && strchr("\"\r\n0123456789.+-eE:", o->delimiter)))
        return gt_seterr(GT_EINVAL, "csv: bad delimiter %d", o->delimiter);
    if (o->max_bytes < 0)
        return gt_seterr(GT_EINVAL, "csv: max_bytes must be >= 0 (0: no limit)");
    return GT_OK;
}

/* Lines in [p, e), estimated from the first 64 (exact for short inputs): counting every
 * newline would be one more pass over the whole file, about a tenth of the read. Rows
 * beyond the estimate grow the series; the final shrink returns what was not used. */
static int64_t estimate_lines(const char *p, const char *e)
{
    const char *q = p;
    int64_t k = 0;
    while (k < 64 && q < e) {
        const char *nl = memchr(q, '\n', (size_t)(e - q));
        if (!nl)
            return k + 1;
        q = nl + 1;
        k++;
    }
    if (q >= e)
        return k + 1;
    return (int64_t)((double)(e - p) / ((double)(q - p) / (double)k) * 1.1) + 64;
}

/* Asks for transparent huge pages on a big fresh column: filling 1M+ bars otherwise costs
 * one page fault per 4 KiB, a visible share of the whole read. Advice only; errors are
 * ignored. */
static void advise_huge(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + len) & ~(huge - 1);
    if (len >= 4 * huge && e > a)
        madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)len;
#endif
}

int gt_csv_parse(const char *buf, size_t len, const char *name, const gt_csv_opts *o,
                 gt_series **out, gt_csv_report **rep)
{
    gt_csv_opts defaults;
    gt_series *s = NULL;
    int rc = GT_OK;
    if (out)
        *out = NULL;
    if (rep)
        *rep = NULL;
    if (!out || (!buf && len))
        return gt_seterr(GT_EINVAL, "csv: NULL argument");
    if (!o) {
        gt_csv_opts_init(&defaults);
        o = &defaults;
    }
    if ((rc = check_opts(o)))
        return rc;
    ctx *c = calloc(1, sizeof *c);
    if (!c)
        return gt_seterr(GT_ENOMEM, "csv: out of memory");
    c->name = name ? name : "(csv)";
    c->o = *o;
    c->fmt = o->date_format;
    c->prev_ts = INT64_MIN;
    c->rep = calloc(1, sizeof *c->rep);
    if (!c->rep) {
        rc = gt_seterr(GT_ENOMEM, "csv: out of memory");
        goto out;
    }
    for (int i = 0; i < GT_CSV_NROLES; i++)
        c->rep->role[i] = -1;
    c->rep->date_format = o->date_format;

    const char *p = buf, *end = buf + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* UTF-8 BOM (Excel) */
    int64_t line = 0, header_line = 0;
    int started = !o->header;
    if (!o->header && (rc = setup(c, NULL, NULL, 0)))
        goto out;
    if (!(s = gt_series_new(estimate_lines(p, end)))) {
        rc = GT_ENOMEM;
        goto out;
    }
    {
        void *cols[6] = {s->ts, s->open, s->high, s->low, s->close, s->volume};
        for (int i = 0; i < 6; i++)
            advise_huge(cols[i], (size_t)s->cap * 8);
    }
    gt_csv_report *r = c->rep;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end, *next = nl ? nl + 1 : end;
        line++;
        if (eol > p && eol[-1] == '\r')
            eol--;
        if (eol == p) {
            r->blank++;
            p = next;
            continue;
        }
        if (!started) {
            if ((rc = setup(c, p, eol, line)))
                goto out;
            header_line = line;
            started = 1;
            p = next;
            continue;
        }
        if ((line & 0xffff) == 0 && gt_interrupted) {
            rc = gt_seterr(GT_EINTR, "%s:%lld: interrupted", c->name, (long long)line);
            goto out;
        }
        r->rows++;
        if (c->nexp == 0) { /* the first row settles the layout */
            int nf0 = split(c, p, eol, c->delim);
            if (nf0 > 0 && (rc = layout(c, nf0, line)))
                goto out;
        }
        int64_t ts = 0;
        double v[5], byrole[GT_CSV_NROLES];
        int nf = c->nexp ? scan(c, p, eol, byrole) : -1;
        int bad = nf < 0 ? why(c, "unterminated quote") : row(c, nf, byrole, &ts, v);
        if (bad == -2 || (bad && o->on_error == GT_CSV_FAIL)) {
            rc = gt_seterr(GT_EPARSE, "%s:%lld: %s", c->name, (long long)line, c->why);
            goto out;
        }
        if (bad) {
            r->skipped++;
            if ((rc = add_error(r, line, c->why)))
                goto out;
        } else {
            if (s->n == s->cap && (rc = gt_series_reserve(s, s->cap * 2)))
                goto out;
            int64_t i = s->n++;
            s->ts[i] = ts;
            s->open[i] = v[0];
            s->high[i] = v[1];
            s->low[i] = v[2];
            s->close[i] = v[3];
            s->volume[i] = v[4];
            c->prev_ts = ts;
        }
        p = next;
    }
    if (!started) {
        rc = fatal(c, 0, "empty file");
        goto out;
    }
    if (r->rows == 0) {
        rc = o->header ? fatal(c, header_line, "header only, no data rows")
                       : fatal(c, 0, "empty file");
        goto out;
    }
    r->loaded = s->n;
    r->adjusted = o->adjust != 0;
    if ((rc = gt_series_shrink(s)))
        goto out;
out:
    if (rc == GT_ENOMEM) /* the helpers say only "csv: out of memory": name the file */
        rc = gt_seterr(GT_ENOMEM,
                       "%s: out of memory after %lld rows of this %zu-byte input; free memory "
                       "or split the file",
                       c->name, (long long)(c->rep ? c->rep->rows : 0), len);
    if (rc) {
        gt_series_free(s);
        gt_csv_report_free(c->rep);
    } else {
        *out = s;
        if (rep)
            *rep = c->rep;
        else
            gt_csv_report_free(c->rep);
    }
    free(c);
    return rc;
}

/* size < 0: a pipe or device, cut off while reading. */
static int too_big(const char *path, int64_t size, int64_t cap)
{
    const char *fix = "if the input is right, raise the limit (data import --max-size MB, or "
                      "max_bytes =)";
    if (size < 0)
        return gt_seterr(GT_ETOOBIG,
                         "%s: more than the %.1f MB input limit arrived; nothing was loaded; %s",
                         path, (double)cap / 1e6, fix);
    return gt_seterr(GT_ETOOBIG,
                     "%s: %.1f MB is over the %.1f MB input limit; nothing was read; %s", path,
                     (double)size / 1e6, (double)cap / 1e6, fix);
}

int gt_csv_read(const char *path, const gt_csv_opts *o, gt_series **out, gt_csv_report **rep)
{
    if (out)
        *out = NULL;
    if (rep)
        *rep = NULL;
    if (!path)
        return gt_seterr(GT_EINVAL, "csv: NULL path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gt_seterr(GT_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return gt_seterr(GT_EIO, "%s: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return gt_seterr(GT_EIO, "%s: is a directory", path);
    }
    gt_csv_opts defaults;
    if (!o) {
        gt_csv_opts_init(&defaults);
        o = &defaults;
    }
    int64_t cap_bytes = o->max_bytes;
    if (cap_bytes > 0 && S_ISREG(st.st_mode) && (int64_t)st.st_size > cap_bytes) {
        close(fd);
        return too_big(path, (int64_t)st.st_size, cap_bytes);
    }
    int rc;
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
        flags |= MAP_POPULATE; /* one bulk fault-in instead of one fault per page */
#endif
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, flags, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            return gt_seterr(GT_EIO, "%s: %s", path, strerror(e));
        }
        close(fd);
        madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
        rc = gt_csv_parse(m, (size_t)st.st_size, path, o, out, rep);
        munmap(m, (size_t)st.st_size);
        return rc;
    }
    /* pipes, /dev/stdin, procfs: read it all */
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return gt_seterr(GT_ENOMEM, "csv: out of memory");
    }
    for (;;) {
        if (n == cap) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                close(fd);
                return gt_seterr(GT_ENOMEM, "csv: out of memory");
            }
            buf = b;
            cap *= 2;
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return gt_seterr(GT_EIO, "%s: %s", path, strerror(e));
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (cap_bytes > 0 && (int64_t)n > cap_bytes) {
            free(buf);
            close(fd);
            return too_big(path, -1, cap_bytes);
        }
    }
    close(fd);
    rc = gt_csv_parse(buf, n, path, o, out, rep);
    free(buf);
    return rc;
}

/* ---- the report ---- */

void gt_csv_report_free(gt_csv_report *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->ncols; i++)
        free(r->cols[i]);
    free(r->cols);
    for (int i = 0; i < r->nnotes; i++)
        free(r->notes[i]);
    free(r->err_line);
    free(r->err_off);
    free(r->arena);
    free(r);
}

int64_t gt_csv_report_rows(const gt_csv_report *r)
{
    return r ? r->rows : 0;
}

int64_t gt_csv_report_loaded(const gt_csv_report *r)
{
    return r ? r->loaded : 0;
}

int64_t gt_csv_report_skipped(const gt_csv_report *r)
{
    return r ? r->skipped : 0;
}

int64_t gt_csv_report_blank(const gt_csv_report *r)
{
    return r ? r->blank : 0;
}

int64_t gt_csv_report_error_line(const gt_csv_report *r, int64_t i)
{
    return r && i >= 0 && i < r->nerr ? r->err_line[i] : -1;
}

const char *gt_csv_report_error_reason(const gt_csv_report *r, int64_t i)
{
    return r && i >= 0 && i < r->nerr ? r->arena + r->err_off[i] : NULL;
}

int32_t gt_csv_report_ncolumns(const gt_csv_report *r)
{
    return r ? r->ncols : 0;
}

const char *gt_csv_report_column(const gt_csv_report *r, int32_t i)
{
    return r && i >= 0 && i < r->ncols ? r->cols[i] : NULL;
}

int32_t gt_csv_report_role(const gt_csv_report *r, int32_t role)
{
    return r && role >= 0 && role < GT_CSV_NROLES ? r->role[role] : -1;
}

int32_t gt_csv_report_date_format(const gt_csv_report *r)
{
    return r ? r->date_format : GT_CSV_DATE_AUTO;
}

int32_t gt_csv_report_delimiter(const gt_csv_report *r)
{
    return r ? r->delimiter : 0;
}

int32_t gt_csv_report_adjusted(const gt_csv_report *r)
{
    return r ? r->adjusted : 0;
}

int32_t gt_csv_report_nnotes(const gt_csv_report *r)
{
    return r ? r->nnotes : 0;
}

const char *gt_csv_report_note(const gt_csv_report *r, int32_t i)
{
    return r && i >= 0 && i < r->nnotes ? r->notes[i] : NULL;
}
