/* datetime.c against hand-checked dates and the C library's timegm. */
#include <stdlib.h>
#include <time.h>

#include "datetime.h"
#include "tap.h"

static int64_t parse(const char *s)
{
    int64_t us = -1;
    if (gt_time_parse(s, strlen(s), &us) != GT_OK)
        return INT64_MIN;
    return us;
}

int main(void)
{
    is_int(gt_days_from_civil(1970, 1, 1), 0, "epoch is day 0");
    is_int(gt_days_from_civil(2000, 3, 1), 11017, "2000-03-01 is day 11017");
    is_int(parse("2006-01-02"), INT64_C(1136160000) * 1000000, "date only is midnight UTC");
    is_int(parse("2006-01-02 09:05:00"), INT64_C(1136192700) * 1000000, "space separator");
    is_int(parse("2015-09-23T20:57:42.146"), INT64_C(1443041862146000), "milliseconds");
    is_int(parse("2021-02-01T16:01:00Z"), INT64_C(1612195260) * 1000000, "Alpaca style Z");
    is_int(parse("2021-02-01T17:01:00+01:00"), INT64_C(1612195260) * 1000000, "+01:00 offset");
    is_int(parse("1969-12-31T23:59:59.5Z"), -500000, "before the epoch");
    is_int(parse("2006-02-29"), INT64_MIN, "2006-02-29 does not exist");
    ok(strstr(gt_errmsg(), "no such date") != NULL, "and the message says why: %s", gt_errmsg());
    is_int(parse("2004-02-29"), INT64_C(1078012800) * 1000000, "leap day 2004");
    is_int(parse("2006-01-02x"), INT64_MIN, "trailing garbage is refused");
    is_int(parse("06-01-02"), INT64_MIN, "two-digit years are refused");

    /* every day from 1900 to 2100 round-trips and agrees with timegm */
    int bad = 0;
    for (int64_t day = gt_days_from_civil(1900, 1, 1); day < gt_days_from_civil(2100, 1, 1); day++) {
        int64_t y, m, d;
        gt_civil_from_days(day, &y, &m, &d);
        struct tm tm = {.tm_year = (int)y - 1900, .tm_mon = (int)m - 1, .tm_mday = (int)d};
        if (gt_days_from_civil(y, m, d) != day || (int64_t)timegm(&tm) != day * 86400)
            bad++;
    }
    is_int(bad, 0, "73049 days round-trip and match timegm");

    char buf[32];
    gt_time_format(INT64_C(1443041862146000), 0, buf, sizeof buf);
    is_str(buf, "2015-09-23T20:57:42.146000Z", "format with fraction");
    gt_time_format(INT64_C(1136160000) * 1000000, 1, buf, sizeof buf);
    is_str(buf, "2006-01-02", "date-only format at midnight");
    gt_time_format(-500000, 0, buf, sizeof buf);
    is_str(buf, "1969-12-31T23:59:59.500000Z", "format before the epoch");
    is_int(gt_weekday(parse("2006-01-06")), 4, "2006-01-06 was a Friday");
    is_int(gt_weekday(parse("1969-12-29")), 0, "1969-12-29 was a Monday");
    return done_testing();
}
