/*
 * fuzz_csv.c: gt_csv_parse on arbitrary bytes, in both error modes and a few option sets.
 * Beyond "no crash, no leak, no UB" it checks the reader's promises: a failure returns
 * nothing and says why; a success returns a series whose every bar passes gt_bar_check in
 * strictly increasing time, and counts that add up (rows = loaded + skipped, one listed
 * reason per skipped line, in line order); a file that loads in fail mode loads the same
 * bars in skip mode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "series.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

static gt_series *run(const uint8_t *data, size_t size, const gt_csv_opts *o)
{
    gt_series *s = (gt_series *)1;
    gt_csv_report *r = (gt_csv_report *)1;
    gt_clearerr();
    int rc = gt_csv_parse((const char *)data, size, "fuzz.csv", o, &s, &r);
    if (rc != GT_OK) {
        check(rc < 0 && s == NULL && r == NULL && gt_errmsg()[0] != '\0');
        return NULL;
    }
    check(s != NULL && r != NULL);
    int64_t rows = gt_csv_report_rows(r), loaded = gt_csv_report_loaded(r);
    int64_t skipped = gt_csv_report_skipped(r);
    check(loaded == s->n && rows == loaded + skipped && rows > 0);
    if (o->on_error == GT_CSV_FAIL)
        check(skipped == 0);
    int64_t prev_line = 0;
    for (int64_t i = 0; i < skipped; i++) {
        int64_t line = gt_csv_report_error_line(r, i);
        const char *why = gt_csv_report_error_reason(r, i);
        check(line > prev_line && why != NULL && why[0] != '\0');
        prev_line = line;
    }
    check(gt_csv_report_error_reason(r, skipped) == NULL);
    for (int32_t i = 0; i < gt_csv_report_ncolumns(r); i++)
        check(gt_csv_report_column(r, i) != NULL);
    for (int64_t i = 0; i < s->n; i++)
        check(gt_bar_check(i ? s->ts[i - 1] : INT64_MIN, s->ts[i], s->open[i], s->high[i],
                           s->low[i], s->close[i], s->volume[i]) == GT_BAR_OK);
    gt_csv_report_free(r);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gt_csv_opts o;
    gt_csv_opts_init(&o);
    gt_series *strict = run(data, size, &o);
    o.on_error = GT_CSV_SKIP;
    gt_series *lax = run(data, size, &o);
    if (strict) {
        check(lax != NULL && lax->n == strict->n);
        for (int64_t i = 0; i < strict->n; i++)
            check(lax->ts[i] == strict->ts[i] && lax->close[i] == strict->close[i]);
    }
    gt_series_free(strict);
    gt_series_free(lax);

    /* Other option sets, chosen by the input's length so every input visits several. */
    o.adjust = 1;
    o.date_format = (int32_t)(size % 8);
    gt_series_free(run(data, size, &o));
    gt_csv_opts_init(&o);
    o.on_error = (int32_t)(size % 2);
    o.header = 0;
    o.date_format = (int32_t)(size / 8 % 8);
    o.delimiter = size % 3 == 0 ? ';' : ',';
    o.col[GT_CSV_TS] = 0;
    o.col[GT_CSV_OPEN] = 1;
    o.col[GT_CSV_HIGH] = 2;
    o.col[GT_CSV_LOW] = 3;
    o.col[GT_CSV_CLOSE] = 4;
    o.col[GT_CSV_VOLUME] = size % 5 == 0 ? -1 : 5;
    gt_series_free(run(data, size, &o));
    o.header = 1;
    o.col[GT_CSV_TS] = -1;
    o.col[GT_CSV_DATE] = 0;
    o.col[GT_CSV_TIME] = 1;
    o.name[GT_CSV_CLOSE] = "Close";
    gt_series_free(run(data, size, &o));
    return 0;
}
