/* csv.c through its C API on small hand-written inputs whose bars and timestamps are
 * worked out by hand (epoch values checked with `date -u -d ... +%s`). The real files in
 * ../shared/data are covered by tests/lua/csv_spec.lua. */
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "series.h"
#include "tap.h"

#define D2006_01_02 INT64_C(1136160000000000) /* 2006-01-02T00:00:00Z in us */
#define DAY INT64_C(86400000000)

static gt_series *S;
static gt_csv_report *R;

static void reset(void)
{
    gt_series_free(S);
    gt_csv_report_free(R);
    S = NULL;
    R = NULL;
}

static int parse(const char *text, const gt_csv_opts *o)
{
    reset();
    return gt_csv_parse(text, strlen(text), "t.csv", o, &S, &R);
}

static const char *fails(const char *text, const gt_csv_opts *o)
{
    int rc = parse(text, o);
    return rc < 0 && !S && !R ? gt_errmsg() : "(did not fail cleanly)";
}

int main(void)
{
    gt_csv_opts o;
    gt_csv_opts_init(&o);
    ok(o.on_error == GT_CSV_FAIL && o.header == 1 && o.col[GT_CSV_CLOSE] == -1 &&
           o.name[GT_CSV_CLOSE] == NULL && o.delimiter == 0,
       "opts_init: fail mode, header, no explicit columns, delimiter detected");

    /* Yahoo layout, CRLF, BOM, no final newline */
    is_int(parse("\xEF\xBB\xBF"
                 "Date,Open,High,Low,Close,Adj Close,Volume\r\n"
                 "2006-01-02,10,11,9,10.5,5.25,100\r\n"
                 "2006-01-03,10.5,12,10,11,5.5,200",
                 NULL),
           GT_OK, "Yahoo layout with BOM, CRLF and no final newline");
    is_int(S ? S->n : -1, 2, "two bars");
    ok(S && S->ts[0] == D2006_01_02 && S->ts[1] == D2006_01_02 + DAY, "dates are UTC midnight");
    ok(S && S->open[1] == 10.5 && S->high[1] == 12 && S->low[1] == 10 && S->close[1] == 11 &&
           S->volume[1] == 200,
       "second bar's values");
    is_int(gt_csv_report_ncolumns(R), 7, "seven header cells reported");
    is_str(gt_csv_report_column(R, 0), "Date", "first header cell without the BOM");
    is_str(gt_csv_report_column(R, 5), "Adj Close", "Adj Close as written");
    is_int(gt_csv_report_role(R, GT_CSV_TS), 0, "ts is field 0");
    is_int(gt_csv_report_role(R, GT_CSV_VOLUME), 6, "volume is field 6");
    is_int(gt_csv_report_role(R, GT_CSV_ADJ_CLOSE), 5, "adj close is field 5");
    is_int(gt_csv_report_date_format(R), GT_CSV_DATE_ISO, "ISO dates detected");
    is_int(gt_csv_report_adjusted(R), 0, "raw prices by default");

    o.adjust = 1;
    is_int(parse("Date,Open,High,Low,Close,Adj Close,Volume\n"
                 "2006-01-02,10,11,9,10,5,100\n",
                 &o),
           GT_OK, "adjust = 1");
    ok(S && S->open[0] == 5 && S->high[0] == 5.5 && S->low[0] == 4.5 && S->close[0] == 5 &&
           S->volume[0] == 100,
       "O/H/L/C scaled by adj/close = 0.5, volume kept");
    is_int(gt_csv_report_adjusted(R), 1, "report says adjusted");
    is_str(fails("Date,Open,High,Low,Close\n2006-01-02,1,2,1,2\n", &o),
           "t.csv:1: adjust = true needs an Adj Close column; none in 'Date,Open,High,Low,Close'",
           "adjust without Adj Close is refused");
    is_str(fails("Date,Open,High,Low,Close,Adj Close\n2006-01-02,1,2,1,2,0\n", &o),
           "t.csv:2: field 'adj close': price is zero or negative", "a zero Adj Close is refused");
    gt_csv_opts_init(&o);

    /* the backtrader 1-minute defect: header without Time */
    is_int(parse("Date,Open,High,Low,Close,Volume,OpenInterest\n"
                 "2006-01-02,09:01:00,3602.00,3603.00,3597.00,3599.00,5699,0\n"
                 "2006-01-02,09:02:00,3600.00,3601.00,3598.00,3599.00,894,0\n",
                 NULL),
           GT_OK, "header with 7 names, rows with 8 fields: repaired");
    ok(S && S->ts[0] == D2006_01_02 + INT64_C(32460000000) && S->open[0] == 3602 &&
           S->volume[1] == 894,
       "09:01:00 added to the date, open and volume from the shifted fields");
    is_int(gt_csv_report_nnotes(R), 1, "one note");
    is_str(gt_csv_report_note(R, 0),
           "the header has 7 names but the rows have 8 fields and field 2 holds a time of day "
           "('09:01:00'): read as Date,Time,Open,High,Low,Close,Volume,OpenInterest",
           "the note says what was done");
    is_str(fails("Date,Open,High,Low,Close\n2006-01-02,1,2,1,2,7\n", NULL),
           "t.csv:2: wrong field count: 6 fields, expected 5",
           "an extra field that is not a time is a field-count error");

    /* separate Date and Time columns, dd/mm dates */
    o.date_format = GT_CSV_DATE_DMY;
    is_int(parse("Date,Time,Open,High,Low,Close\n02/01/2006,09:05,1,2,0.5,1.5\n"
                 "02/01/06,091000,1,2,0.5,1.5\n",
                 &o),
           GT_OK, "Date + Time columns, dmy, 4- and 2-digit years, HH:MM and HHMMSS");
    ok(S && S->ts[0] == D2006_01_02 + INT64_C(32700000000) &&
           S->ts[1] == D2006_01_02 + INT64_C(33000000000),
       "02/01/2006 09:05 and 02/01/06 09:10:00");
    o.date_format = GT_CSV_DATE_MDY;
    is_int(parse("Date,Open,High,Low,Close\n01/02/2006,1,2,0.5,1.5\n", &o), GT_OK, "mdy");
    ok(S && S->ts[0] == D2006_01_02, "01/02/2006 as mm/dd is 2006-01-02");
    is_str(fails("Date,Open,High,Low,Close\n02/30/2006,1,2,0.5,1.5\n", &o),
           "t.csv:2: field 'timestamp': bad timestamp '02/30/2006': no such date",
           "February 30th is refused");
    gt_csv_opts_init(&o);
    is_str(fails("Date,Open,High,Low,Close\n02/01/2006,1,2,0.5,1.5\n", &o),
           "t.csv:2: field 'timestamp': date '02/01/2006' is ambiguous (day/month order); set "
           "date_format = \"dmy\" or \"mdy\"",
           "auto refuses dd/mm vs mm/dd");
    o.on_error = GT_CSV_SKIP;
    is_str(fails("Date,Open,High,Low,Close\n02/01/2006,1,2,0.5,1.5\n", &o),
           "t.csv:2: field 'timestamp': date '02/01/2006' is ambiguous (day/month order); set "
           "date_format = \"dmy\" or \"mdy\"",
           "even in skip mode: it is a file problem, not a row problem");
    gt_csv_opts_init(&o);

    /* other timestamp shapes, detected */
    is_int(parse("ts;open;high;low;close\n1136160000;1;2;0.5;1.5\n1136160060.5;1;2;0.5;1.5\n",
                 NULL),
           GT_OK, "epoch seconds with ';' detected");
    ok(S && S->ts[0] == D2006_01_02 && S->ts[1] == D2006_01_02 + 60500000, "1136160060.5 s");
    is_int(gt_csv_report_delimiter(R), ';', "delimiter reported");
    is_int(parse("timestamp,open,high,low,close\n1136160000000,1,2,0.5,1.5\n", NULL), GT_OK,
           "epoch milliseconds");
    ok(S && S->ts[0] == D2006_01_02, "13 digits are milliseconds");
    is_int(gt_csv_report_date_format(R), GT_CSV_DATE_EPOCH_MS, "reported as epoch_ms");
    is_int(parse("<DATE>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<VOL>\n20060102\t1\t2\t0.5\t1.5\t9\n",
                 NULL),
           GT_OK, "MetaStock-style names, tabs, YYYYMMDD");
    ok(S && S->ts[0] == D2006_01_02 && S->volume[0] == 9, "20060102, volume from <VOL>");
    is_int(parse(",Open,High,Low,Close\n2006-01-02T09:05:00.250Z,\"1\",2,0.5, 1.5 \n", NULL),
           GT_OK, "empty first header cell, ISO with ms and Z, a quoted and a padded number");
    ok(S && S->ts[0] == D2006_01_02 + INT64_C(32700250000) && S->open[0] == 1 &&
           S->close[0] == 1.5 && S->volume[0] == 0,
       "values, and no volume column means volume 0");

    /* explicit maps */
    o.header = 0;
    o.col[GT_CSV_TS] = 0;
    o.col[GT_CSV_OPEN] = o.col[GT_CSV_HIGH] = o.col[GT_CSV_LOW] = o.col[GT_CSV_CLOSE] = 2;
    is_int(parse("2006-01-02,x,1.25\n2006-01-03,y,1.5\n", &o), GT_OK,
           "no header, columns by index (one price for all four)");
    ok(S && S->n == 2 && S->high[1] == 1.5 && S->low[1] == 1.5, "both rows");
    is_int(gt_csv_report_ncolumns(R), 0, "no header cells");
    gt_csv_opts_init(&o);
    o.name[GT_CSV_TS] = "timestamp";
    o.name[GT_CSV_OPEN] = o.name[GT_CSV_LOW] = o.name[GT_CSV_CLOSE] = "bid";
    o.name[GT_CSV_HIGH] = "ASK";
    o.date_format = GT_CSV_DATE_MDY;
    is_int(parse("TIMESTAMP,BID,ASK\n02/03/2010 16:53:50,0.5346,0.5347\n", &o), GT_OK,
           "columns by name, case-insensitive; mdy with a time");
    ok(S && S->ts[0] == INT64_C(1265216030000000) && S->high[0] == 0.5347, "2010-02-03 16:53:50");
    o.name[GT_CSV_HIGH] = "Offer";
    is_str(fails("TIMESTAMP,BID,ASK\n02/03/2010 16:53:50,0.5346,0.5347\n", &o),
           "t.csv:1: no column named 'Offer' (for high) in the header 'TIMESTAMP,BID,ASK'",
           "an unknown column name is refused");
    gt_csv_opts_init(&o);
    is_str(fails("TIMESTAMP,BID,ASK\n02/03/2010 16:53:50,0.5346,0.5347\n", NULL),
           "t.csv:1: not an OHLCV header: no open, high, low, close column in "
           "'TIMESTAMP,BID,ASK'; map them explicitly (columns = {ts=, open=, high=, low=, "
           "close=, volume=} by name or index)",
           "quotes are not bars: the message says what is missing and what to do");
    is_str(fails("2006-01-02,1,2,0.5,1.5\n", NULL),
           "t.csv:1: line 1 looks like data, not a header; set header = false and give the "
           "columns by index",
           "a headerless file is not mistaken for a header");

    /* the skip report */
    o.on_error = GT_CSV_SKIP;
    is_int(parse("Date,Open,High,Low,Close,Volume\n"
                 "2006-01-02,1,2,0.5,1.5,10\n"
                 "2006-01-03,1,2,0.5,abc,10\n"
                 "\n"
                 "2006-01-03,1,2,0.5,1.5,-1\n"
                 "2006-01-03,1,2,0.5,1.5,10\n"
                 "2006-01-03,1,2,0.5,1.5,10\n"
                 "2006-01-01,1,2,0.5,1.5,10\n",
                 &o),
           GT_OK, "skip mode loads the good rows");
    is_int(S ? S->n : -1, 2, "two bars");
    is_int(gt_csv_report_rows(R), 6, "six data rows");
    is_int(gt_csv_report_loaded(R), 2, "two loaded");
    is_int(gt_csv_report_skipped(R), 4, "four skipped");
    is_int(gt_csv_report_blank(R), 1, "one blank line counted");
    is_int(gt_csv_report_error_line(R, 0), 3, "line 3");
    is_str(gt_csv_report_error_reason(R, 0), "field 'close': not a number: 'abc'", "why");
    is_int(gt_csv_report_error_line(R, 1), 5, "line 5");
    is_str(gt_csv_report_error_reason(R, 1), "field 'volume': volume is negative", "why");
    is_int(gt_csv_report_error_line(R, 2), 7, "line 7");
    is_str(gt_csv_report_error_reason(R, 2), "field 'timestamp': duplicate timestamp", "why");
    is_int(gt_csv_report_error_line(R, 3), 8, "line 8");
    is_str(gt_csv_report_error_reason(R, 3),
           "field 'timestamp': timestamp out of order (earlier than the previous bar)", "why");
    ok(gt_csv_report_error_reason(R, 4) == NULL && gt_csv_report_error_line(R, 4) == -1,
       "nothing past the end");
    gt_csv_opts_init(&o);

    /* long first lines make the row estimate far too small: the series must grow */
    {
        size_t cap = 1 << 20, n = 0;
        char *big = malloc(cap);
        n += (size_t)snprintf(big + n, cap - n, "ts,open,high,low,close\n");
        for (int i = 0; i < 3000; i++) {
            const char *pad = i < 64 ? "00000000000000000000000000000000000000000000000000" : "";
            n += (size_t)snprintf(big + n, cap - n, "%d,1.%s,2,0.5,1.5\n", 1000000000 + i, pad);
        }
        reset();
        int rc2 = gt_csv_parse(big, n, "big.csv", NULL, &S, &R);
        ok(rc2 == GT_OK && S->n == 3000 && S->cap == 3000 && S->open[0] == 1 &&
               S->ts[2999] == INT64_C(1000002999) * 1000000,
           "3000 rows after 64 long ones: grown, then shrunk to fit");
        free(big);
    }

    /* empty input and bad arguments */
    is_str(fails("", NULL), "t.csv: empty file", "empty file");
    is_str(fails("\xEF\xBB\xBF\r\n\n", NULL), "t.csv: empty file", "BOM and blank lines only");
    is_str(fails("Date,Open,High,Low,Close\r\n", NULL), "t.csv:1: header only, no data rows",
           "header only");
    o.on_error = 7;
    ok(parse("x", &o) == GT_EINVAL, "bad on_error is EINVAL: %s", gt_errmsg());
    gt_csv_opts_init(&o);
    gt_series *s = (gt_series *)&o;
    int rc = gt_csv_read("/nonexistent/x.csv", NULL, &s, NULL);
    ok(rc == GT_EIO && s == NULL, "missing file: %s", gt_errmsg());
    is_str(gt_errmsg(), "/nonexistent/x.csv: No such file or directory", "with the path");
    ok(gt_csv_read("tests", NULL, &s, NULL) == GT_EIO, "a directory: %s", gt_errmsg());
    gt_csv_report_free(NULL);
    ok(1, "gt_csv_report_free(NULL) is fine");
    reset();
    return done_testing();
}
