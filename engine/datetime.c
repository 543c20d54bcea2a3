/*
 * datetime.c: epoch microseconds <-> civil time and ISO-8601 text, without the C
 * library's time zone state (timegm/gmtime are not thread-safe on every platform and
 * depend on TZ).
 */
#include "datetime.h"

#include <stdio.h>

int64_t gt_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void gt_civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int64_t m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* Reads exactly n digits at *p; returns -1 if any is not a digit. */
static int64_t digits(const char **p, const char *end, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || (unsigned)(**p - '0') > 9)
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    return v;
}

static int bad(const char *s, size_t len, const char *why)
{
    return gt_seterr(GT_EPARSE, "bad timestamp '%.*s': %s", (int)(len > 40 ? 40 : len), s, why);
}

int gt_time_parse(const char *s, size_t len, int64_t *us)
{
    const char *p = s, *end = s + len;
    int64_t y = digits(&p, end, 4);
    if (y < 0 || p >= end || *p++ != '-')
        return bad(s, len, "expected YYYY-MM-DD");
    int64_t mo = digits(&p, end, 2);
    if (mo < 0 || p >= end || *p++ != '-')
        return bad(s, len, "expected YYYY-MM-DD");
    int64_t d = digits(&p, end, 2);
    if (d < 0)
        return bad(s, len, "expected YYYY-MM-DD");
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return bad(s, len, "no such date");
    int64_t hh = 0, mi = 0, ss = 0, frac = 0, off = 0;
    if (p < end && (*p == 'T' || *p == ' ')) {
        p++;
        hh = digits(&p, end, 2);
        if (hh < 0 || p >= end || *p++ != ':')
            return bad(s, len, "expected HH:MM");
        mi = digits(&p, end, 2);
        if (mi < 0)
            return bad(s, len, "expected HH:MM");
        if (p < end && *p == ':') {
            p++;
            ss = digits(&p, end, 2);
            if (ss < 0)
                return bad(s, len, "expected HH:MM:SS");
            if (p < end && (*p == '.' || *p == ',')) {
                p++;
                int nd = 0;
                while (p < end && (unsigned)(*p - '0') <= 9) {
                    if (nd < 6) {
                        frac = frac * 10 + (*p - '0');
                        nd++;
                    }
                    p++;
                }
                if (nd == 0)
                    return bad(s, len, "empty fraction of a second");
                for (; nd < 6; nd++)
                    frac *= 10;
            }
        }
        if (hh > 23 || mi > 59 || ss > 60)
            return bad(s, len, "time out of range");
        if (p < end && *p == 'Z') {
            p++;
        } else if (p < end && (*p == '+' || *p == '-')) {
            int sign = *p++ == '-' ? -1 : 1;
            int64_t oh = digits(&p, end, 2);
            if (oh < 0)
                return bad(s, len, "bad zone offset");
            if (p < end && *p == ':')
                p++;
            int64_t om = digits(&p, end, 2);
            if (om < 0 || oh > 23 || om > 59)
                return bad(s, len, "bad zone offset");
            off = sign * (oh * 3600 + om * 60);
        }
    }
    if (p != end)
        return bad(s, len, "trailing characters");
    int64_t secs = gt_days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - off;
    *us = secs * GT_US_PER_SEC + frac;
    return GT_OK;
}

int gt_time_format(int64_t us, int date_only, char *buf, size_t size)
{
    int64_t days = us >= 0 ? us / GT_US_PER_DAY : -((-us + GT_US_PER_DAY - 1) / GT_US_PER_DAY);
    int64_t rem = us - days * GT_US_PER_DAY;
    int64_t y, m, d;
    gt_civil_from_days(days, &y, &m, &d);
    int64_t secs = rem / GT_US_PER_SEC, frac = rem % GT_US_PER_SEC;
    if (date_only && rem == 0)
        return snprintf(buf, size, "%04lld-%02lld-%02lld", (long long)y, (long long)m,
                        (long long)d);
    if (frac)
        return snprintf(buf, size, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ",
                        (long long)y, (long long)m, (long long)d, (long long)(secs / 3600),
                        (long long)(secs / 60 % 60), (long long)(secs % 60), (long long)frac);
    return snprintf(buf, size, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", (long long)y,
                    (long long)m, (long long)d, (long long)(secs / 3600),
                    (long long)(secs / 60 % 60), (long long)(secs % 60));
}

int gt_weekday(int64_t us)
{
    int64_t days = us >= 0 ? us / GT_US_PER_DAY : -((-us + GT_US_PER_DAY - 1) / GT_US_PER_DAY);
    /* 1970-01-01 was a Thursday (3 with Monday = 0) */
    int64_t w = (days + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}
