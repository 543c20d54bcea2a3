/*
 * test_provider.c: the provider parsers on the canned responses in
 * tests/lua/fixtures/providers. Expected values are copied from the JSON text and the
 * epoch seconds were computed with `date -u -d 2021-02-01T16:01:00Z +%s` (not with the
 * code under test).
 */
#include <stdlib.h>
#include <string.h>

#include "gt.h"
#include "http.h"
#include "tap.h"

#define FIX "tests/lua/fixtures/providers/"
#define US(s) ((int64_t)(s)*INT64_C(1000000))
#define WIDE_LO INT64_MIN
#define WIDE_HI INT64_MAX

static char *slurp(const char *path, int64_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b)
        b[n] = '\0';
    *len = n;
    return b;
}

typedef int (*parse2)(gt_series *, const char *, int64_t, int64_t, int64_t, gt_provider_page *);

static int parse_file(parse2 fn, gt_series *s, const char *name, int64_t lo, int64_t hi,
                      gt_provider_page *pg)
{
    char path[256];
    int64_t len;
    snprintf(path, sizeof path, FIX "%s", name);
    char *b = slurp(path, &len);
    if (!b) {
        printf("# cannot read %s\n", path);
        return -999;
    }
    int rc = fn(s, b, len, lo, hi, pg);
    free(b);
    return rc;
}

static void test_alpaca(void)
{
    gt_series *s = gt_series_new(0);
    gt_provider_page pg;
    int rc = parse_file(gt_provider_parse_alpaca, s, "alpaca_page1.json", WIDE_LO, WIDE_HI, &pg);
    is_int(rc, 0, "alpaca page 1 parses");
    is_int(pg.bars, 2, "two bars");
    is_int(pg.has_next, 1, "has a next page");
    is_str(pg.next_token, "QUFQTHxNfDIwMjEtMDItMDFUMTY6MDI6MDAuMDAwMDAwMDAwWg==", "token copied");
    is_int(s->ts[0], US(1612195260), "2021-02-01T16:01:00Z");
    is_int(s->ts[1], US(1612195320), "2021-02-01T16:02:00Z");
    is_dbl(s->open[0], 133.32, 0, "o");
    is_dbl(s->high[0], 133.74, 0, "h");
    is_dbl(s->low[0], 133.31, 0, "l");
    is_dbl(s->close[0], 133.5, 0, "c");
    is_dbl(s->volume[0], 9876, 0, "v");
    is_dbl(s->close[1], 133.58, 0, "second bar close");

    rc = parse_file(gt_provider_parse_alpaca, s, "alpaca_page2.json", WIDE_LO, WIDE_HI, &pg);
    is_int(rc, 0, "page 2 appends");
    rc = parse_file(gt_provider_parse_alpaca, s, "alpaca_page3.json", WIDE_LO, WIDE_HI, &pg);
    is_int(rc, 0, "page 3 appends");
    is_int(pg.has_next, 0, "last page: next_page_token null");
    is_str(pg.next_token, "", "no token");
    is_int(s->n, 5, "five bars in all");
    is_int(s->ts[4], US(1612195500), "2021-02-01T16:05:00Z");
    is_dbl(s->low[4], 133.2, 0, "last low");

    /* a page that repeats the previous page's last bar is refused whole */
    rc = parse_file(gt_provider_parse_alpaca, s, "alpaca_page3.json", WIDE_LO, WIDE_HI, &pg);
    is_int(rc, GT_EDATA, "duplicate across pages");
    ok(strstr(gt_errmsg(), "2021-02-01T16:05:00Z") && strstr(gt_errmsg(), "duplicate timestamp"),
       "message names the bar time and reason: %s", gt_errmsg());
    is_int(s->n, 5, "series unchanged");
    gt_series_free(s);

    s = gt_series_new(0);
    rc = parse_file(gt_provider_parse_alpaca, s, "alpaca_bad_bar.json", WIDE_LO, WIDE_HI, &pg);
    is_int(rc, GT_EDATA, "high < low is refused");
    ok(strstr(gt_errmsg(), "alpaca: bar at 2021-02-01T16:02:00Z: high is below") != NULL,
       "precise message: %s", gt_errmsg());
    is_int(s->n, 0, "nothing from the bad page kept (its first bar was valid)");

    rc = parse_file(gt_provider_parse_alpaca, s, "alpaca_null.json", WIDE_LO, WIDE_HI, &pg);
    is_int(rc, 0, "\"bars\": null is no bars");
    is_int(pg.bars, 0, "zero bars");

    rc = parse_file(gt_provider_parse_alpaca, s, "malformed.json", WIDE_LO, WIDE_HI, &pg);
    is_int(rc, GT_EPARSE, "truncated JSON is a parse error");

    /* [16:02:00, 16:02:01) keeps the 16:02 bar and drops the 16:01 one */
    rc = parse_file(gt_provider_parse_alpaca, s, "alpaca_page1.json", US(1612195320),
                    US(1612195321), &pg);
    is_int(rc, 0, "range filter");
    is_int(pg.bars, 1, "one bar in range");
    is_int(pg.dropped_out_of_range, 1, "one dropped");
    is_int(s->ts[0], US(1612195320), "the kept bar");
    gt_series_free(s);

    const char *errbody = "{\"message\":\"forbidden.\"}";
    s = gt_series_new(0);
    rc = gt_provider_parse_alpaca(s, errbody, (int64_t)strlen(errbody), WIDE_LO, WIDE_HI, &pg);
    is_int(rc, GT_EDATA, "error body");
    is_str(gt_errmsg(), "alpaca: error response: forbidden.", "error body message");
    const char *strv = "{\"bars\":[{\"t\":\"2021-02-01T16:01:00Z\",\"o\":\"1\",\"h\":2,\"l\":1,"
                       "\"c\":1,\"v\":1}],\"next_page_token\":null}";
    rc = gt_provider_parse_alpaca(s, strv, (int64_t)strlen(strv), WIDE_LO, WIDE_HI, &pg);
    is_str(gt_errmsg(), "alpaca: bar at 2021-02-01T16:01:00Z: field 'o' is missing or not a number",
           "a string where a number belongs");
    gt_series_free(s);
}

static int parse_yahoo_raw(gt_series *s, const char *j, int64_t n, int64_t lo, int64_t hi,
                           gt_provider_page *pg)
{
    return gt_provider_parse_yahoo(s, j, n, lo, hi, 0, pg);
}

static int parse_yahoo_adj(gt_series *s, const char *j, int64_t n, int64_t lo, int64_t hi,
                           gt_provider_page *pg)
{
    return gt_provider_parse_yahoo(s, j, n, lo, hi, 1, pg);
}

static void test_yahoo(void)
{
    gt_series *s = gt_series_new(0);
    gt_provider_page pg;
    int rc = parse_file(parse_yahoo_raw, s, "yahoo_aapl_1d.json", WIDE_LO, WIDE_HI, &pg);
    is_int(rc, 0, "yahoo parses");
    is_int(pg.bars, 4, "four complete bars");
    is_int(pg.skipped_null, 1, "one bar with a null volume skipped");
    is_int(s->ts[0], US(1704205800), "2024-01-02T14:30:00Z");
    is_int(s->ts[3], US(1704724200), "2024-01-08T14:30:00Z (Jan 5 skipped)");
    is_dbl(s->open[0], 187.14999389648438, 0, "open as printed");
    is_dbl(s->high[0], 188.44000244140625, 0, "high");
    is_dbl(s->low[0], 183.88999938964844, 0, "low");
    is_dbl(s->close[0], 185.63999938964844, 0, "close");
    is_dbl(s->volume[0], 82488700, 0, "volume");
    is_dbl(s->close[2], 181.91000366210938, 0, "Jan 4 close");
    gt_series_free(s);

    s = gt_series_new(0);
    rc = parse_file(parse_yahoo_adj, s, "yahoo_aapl_1d.json", WIDE_LO, WIDE_HI, &pg);
    is_int(rc, 0, "adjusted parse");
    is_dbl(s->close[0], 184.93, 0, "close is adjclose");
    is_dbl(s->open[0], 187.14999389648438 * (184.93 / 185.63999938964844), 1e-9,
           "open scaled by adjclose/close");
    gt_series_free(s);

    s = gt_series_new(0);
    rc = parse_file(parse_yahoo_raw, s, "yahoo_error.json", WIDE_LO, WIDE_HI, &pg);
    is_int(rc, GT_EDATA, "chart.error");
    is_str(gt_errmsg(), "yahoo: Not Found: No data found, symbol may be delisted",
           "Yahoo's description");
    const char *empty = "{\"chart\":{\"result\":[{\"meta\":{},\"indicators\":{\"quote\":[{}]}}],"
                        "\"error\":null}}";
    rc = gt_provider_parse_yahoo(s, empty, (int64_t)strlen(empty), WIDE_LO, WIDE_HI, 0, &pg);
    is_int(rc, 0, "no timestamps: no bars, no error");
    const char *ragged = "{\"chart\":{\"result\":[{\"timestamp\":[1,2],\"indicators\":{\"quote\":"
                         "[{\"open\":[1],\"high\":[1,1],\"low\":[1,1],\"close\":[1,1],"
                         "\"volume\":[1,1]}]}}],\"error\":null}}";
    rc = gt_provider_parse_yahoo(s, ragged, (int64_t)strlen(ragged), WIDE_LO, WIDE_HI, 0, &pg);
    is_int(rc, GT_EDATA, "column length mismatch");
    is_int(s->n, 0, "nothing appended");
    gt_series_free(s);
}

static void test_coinbase(void)
{
    gt_series *s = gt_series_new(0);
    gt_provider_page pg;
    /* [2023-11-14T22:00:00Z, 2023-11-15T01:00:00Z) */
    int rc = parse_file(gt_provider_parse_coinbase, s, "coinbase_btc_1h.json", US(1699999200),
                        US(1700010000), &pg);
    is_int(rc, 0, "coinbase parses");
    is_int(pg.bars, 3, "three candles in range");
    is_int(pg.dropped_out_of_range, 1, "the 21:00 candle before start dropped");
    is_int(s->ts[0], US(1699999200), "oldest first after reordering");
    is_int(s->ts[1], US(1700002800), "second");
    is_int(s->ts[2], US(1700006400), "newest last");
    is_dbl(s->open[0], strtod("36640.55", NULL), 0, "open from the string");
    is_dbl(s->high[0], strtod("36812.77", NULL), 0, "high");
    is_dbl(s->low[0], strtod("36612.2", NULL), 0, "low");
    is_dbl(s->close[0], strtod("36780.9", NULL), 0, "close");
    is_dbl(s->volume[2], strtod("512.33451234", NULL), 0, "volume");
    gt_series_free(s);

    s = gt_series_new(0);
    const char *bad = "{\"candles\":[{\"start\":\"1700000000\",\"low\":\"1x\",\"high\":\"2\","
                      "\"open\":\"1\",\"close\":\"1\",\"volume\":\"1\"}]}";
    rc = gt_provider_parse_coinbase(s, bad, (int64_t)strlen(bad), WIDE_LO, WIDE_HI, &pg);
    is_int(rc, GT_EDATA, "trailing garbage in a number");
    is_str(gt_errmsg(),
           "coinbase: candle at 2023-11-14T22:13:20Z: field 'low' is missing or not a decimal "
           "number",
           "names the field");
    const char *dup = "{\"candles\":[{\"start\":\"60\",\"low\":\"1\",\"high\":\"2\",\"open\":\"1\","
                      "\"close\":\"1\",\"volume\":\"1\"},{\"start\":\"60\",\"low\":\"1\",\"high\":"
                      "\"2\",\"open\":\"1\",\"close\":\"1\",\"volume\":\"1\"}]}";
    rc = gt_provider_parse_coinbase(s, dup, (int64_t)strlen(dup), WIDE_LO, WIDE_HI, &pg);
    is_int(rc, GT_EDATA, "duplicate candle within a page");
    is_int(s->n, 0, "nothing kept");
    gt_series_free(s);
}

/* ---- gt_http's injectable clock: backoff and rate-limit waits without real sleeping ---- */

typedef struct fake_clock {
    double t;
    double slept[8];
    int n;
} fake_clock;

static double fake_now(void *ctx)
{
    return ((fake_clock *)ctx)->t;
}

static int fake_sleep(void *ctx, double s)
{
    fake_clock *c = ctx;
    if (c->n < 8)
        c->slept[c->n] = s;
    c->n++;
    c->t += s;
    return GT_OK;
}

static void test_http_clock(void)
{
    gt_http *h = gt_http_new();
    fake_clock fc = {1000.0, {0}, 0};
    gt_http_set_clock(h, fake_now, fake_sleep, &fc);
    is_int(gt_http_set_retries(h, 2, 1000, 8000), 0, "retries 2, backoff from 1 s");
    is_int(gt_http_set_rate(h, 60, 1), 0, "1 request per second, burst 1");
    gt_http_resp r;
    /* nothing listens on loopback port 1: each attempt fails at once, a retryable error */
    int rc =
        gt_http_request(h, GT_HTTP_GET, "http://127.0.0.1:1/x?secret=abc", NULL, NULL, 0, 0, &r);
    is_int(rc, GT_ENET, "connection refused is GT_ENET");
    ok(strstr(gt_errmsg(), "http: GET http://127.0.0.1:1/x: ") == gt_errmsg() &&
           !strstr(gt_errmsg(), "secret"),
       "message names the URL without its query: %s", gt_errmsg());
    is_int(r.attempts, 3, "three attempts");
    is_int(fc.n, 3, "backoff, rate-limit top-up, backoff");
    /* backoff 1 s jittered into [0.5, 1]; the bucket then lacks 1 - s1 tokens at 1/s; then
     * backoff 2 s jittered into [1, 2], by which time the bucket has refilled */
    ok(fc.slept[0] >= 0.5 && fc.slept[0] <= 1.0, "first backoff %.3f in [0.5, 1]", fc.slept[0]);
    is_dbl(fc.slept[1], 1.0 - fc.slept[0], 1e-9, "rate limit waits for the missing token");
    ok(fc.slept[2] >= 1.0 && fc.slept[2] <= 2.0, "second backoff %.3f in [1, 2]", fc.slept[2]);
    is_dbl(r.waited_s, fc.slept[0] + fc.slept[1] + fc.slept[2], 1e-9, "waited_s sums the sleeps");
    is_dbl(r.elapsed_s, fc.t - 1000.0, 1e-9, "elapsed_s on the injected clock");

    fc.n = 0;
    rc = gt_http_request(h, GT_HTTP_POST, "http://127.0.0.1:1/v2/orders", "Content-Type: x\n", "{}",
                         2, 0, &r);
    is_int(r.attempts, 1, "a POST is never retried");
    rc = gt_http_request(h, GT_HTTP_GET, "http://127.0.0.1:1/x", "APCA-API-SECRET-KEY\n", NULL, 0,
                         0, &r);
    is_int(rc, GT_EINVAL, "a header line without a colon is refused");
    is_str(gt_errmsg(), "http: GET http://127.0.0.1:1/x: request header line 1 is malformed",
           "without echoing the line");
    rc = gt_http_request(h, GT_HTTP_GET, "http://8.8.8.8/x", NULL, NULL, 0, 0, &r);
    is_int(rc, GT_EINVAL, "plain http to a public address is refused");
    is_int(r.attempts, 0, "before any attempt");
    gt_http_free(h);
    gt_http_free(NULL);
}

int main(void)
{
    test_alpaca();
    test_yahoo();
    test_coinbase();
    test_http_clock();
    return done_testing();
}
