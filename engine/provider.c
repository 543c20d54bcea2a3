/*
 * provider.c: JSON response pages -> validated bars. A page is parsed completely into a
 * scratch array first and appended only when every bar in it is valid, so a bad page
 * never leaves part of itself in the series.
 */
#include "provider.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "series.h"

typedef struct pbar {
    int64_t ts;
    double o, h, l, c, v;
} pbar;

/* Seconds since the epoch that convert to microseconds without overflow (years ~ -1200 to
 * 5100); anything outside is corrupt data for a market feed anyway. */
#define MAX_EPOCH_S 1e11

static void fmt_time(int64_t ts, char *buf)
{
    gt_time_format(ts, 0, buf, 32);
}

static int parse_fail(const char *prov)
{
    return gt_seterr(GT_EPARSE, "%s: response is not valid JSON", prov);
}

static int page_init(gt_series *s, const char *json, int64_t len, int64_t start_us, int64_t stop_us,
                     gt_provider_page *out, const char *prov)
{
    if (!out)
        return gt_seterr(GT_EINVAL, "%s: NULL page", prov);
    memset(out, 0, sizeof *out);
    if (!s || !json || len < 0 || start_us >= stop_us)
        return gt_seterr(GT_EINVAL, "%s: bad arguments (need a series, a body and start < stop)",
                         prov);
    return GT_OK;
}

/* Validates bars[0..n) in order against the series' last bar, then appends them all. */
static int append_page(gt_series *s, const char *prov, const pbar *b, int64_t n,
                       gt_provider_page *out)
{
    int64_t prev = s->n > 0 ? s->ts[s->n - 1] : INT64_MIN;
    for (int64_t i = 0; i < n; i++) {
        int issue = gt_bar_check(prev, b[i].ts, b[i].o, b[i].h, b[i].l, b[i].c, b[i].v);
        if (issue) {
            char t[32];
            fmt_time(b[i].ts, t);
            return gt_seterr(GT_EDATA,
                             "%s: bar at %s: %s (open %.10g high %.10g low %.10g close %.10g "
                             "volume %.10g)",
                             prov, t, gt_bar_issue_text(issue), b[i].o, b[i].h, b[i].l, b[i].c,
                             b[i].v);
        }
        prev = b[i].ts;
    }
    if (n == 0)
        return GT_OK;
    int rc = gt_series_reserve(s, s->n + n);
    if (rc)
        return rc;
    for (int64_t i = 0; i < n; i++)
        gt_series_push(s, b[i].ts, b[i].o, b[i].h, b[i].l, b[i].c, b[i].v);
    out->bars = n;
    return GT_OK;
}

static int get_num(const cJSON *obj, const char *key, double *v)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(it))
        return 0;
    *v = it->valuedouble;
    return 1;
}

/* An error body such as {"message":"..."} says more than "no bars field". */
static int missing_field(const cJSON *root, const char *prov, const char *field)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "message");
    if (cJSON_IsString(m))
        return gt_seterr(GT_EDATA, "%s: error response: %.200s", prov, m->valuestring);
    return gt_seterr(GT_EDATA, "%s: response has no '%s' field", prov, field);
}

/* root[field] as an array, with a bar buffer sized to it. A null field means no bars:
 * *list stays NULL and nothing is allocated. */
static int find_list(const cJSON *root, const char *prov, const char *field, const cJSON **list,
                     pbar **b)
{
    *list = NULL;
    if (!cJSON_IsObject(root))
        return gt_seterr(GT_EDATA, "%s: response is not a JSON object", prov);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, field);
    if (!a)
        return missing_field(root, prov, field);
    if (cJSON_IsNull(a))
        return GT_OK;
    if (!cJSON_IsArray(a))
        return gt_seterr(GT_EDATA, "%s: '%s' is not an array", prov, field);
    int n = cJSON_GetArraySize(a);
    *b = malloc((size_t)(n > 0 ? n : 1) * sizeof **b);
    if (!*b)
        return gt_seterr(GT_ENOMEM, "%s: out of memory", prov);
    *list = a;
    return GT_OK;
}

/* ---- Alpaca: {"bars":[{"t":RFC-3339,"o","h","l","c","v",...}]|null,"next_page_token"} */

int gt_provider_parse_alpaca(gt_series *s, const char *json, int64_t len, int64_t start_us,
                             int64_t stop_us, gt_provider_page *out)
{
    const char *P = "alpaca";
    int rc = page_init(s, json, len, start_us, stop_us, out, P);
    if (rc)
        return rc;
    cJSON *root = cJSON_ParseWithLength(json, (size_t)len);
    pbar *b = NULL;
    int64_t nb = 0;
    if (!root)
        return parse_fail(P);
    const cJSON *bars;
    if ((rc = find_list(root, P, "bars", &bars, &b)) != GT_OK)
        goto out;
    if (bars) {
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, bars)
        {
            pbar x;
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "t");
            if (!cJSON_IsObject(e) || !cJSON_IsString(t)) {
                rc =
                    gt_seterr(GT_EDATA, "%s: bars[%d]: field 't' is missing or not a string", P, i);
                goto out;
            }
            if (gt_time_parse(t->valuestring, strlen(t->valuestring), &x.ts) != GT_OK) {
                rc = gt_seterr(GT_EDATA, "%s: bars[%d]: field 't': not an RFC-3339 time: '%.40s'",
                               P, i, t->valuestring);
                goto out;
            }
            static const char *const keys[5] = {"o", "h", "l", "c", "v"};
            double *dst[5] = {&x.o, &x.h, &x.l, &x.c, &x.v};
            for (int k = 0; k < 5; k++) {
                if (!get_num(e, keys[k], dst[k])) {
                    char ts[32];
                    fmt_time(x.ts, ts);
                    rc = gt_seterr(GT_EDATA, "%s: bar at %s: field '%s' is missing or not a number",
                                   P, ts, keys[k]);
                    goto out;
                }
            }
            i++;
            if (x.ts < start_us || x.ts >= stop_us) {
                out->dropped_out_of_range++;
                continue;
            }
            b[nb++] = x;
        }
    }
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, "next_page_token");
    if (tok && !cJSON_IsNull(tok)) {
        size_t tl = cJSON_IsString(tok) ? strlen(tok->valuestring) : 0;
        if (!cJSON_IsString(tok) || tl == 0 || tl >= sizeof out->next_token) {
            rc = gt_seterr(GT_EDATA,
                           "%s: 'next_page_token' is not null or a string of 1..%d "
                           "characters",
                           P, (int)sizeof out->next_token - 1);
            goto out;
        }
        memcpy(out->next_token, tok->valuestring, tl + 1);
        out->has_next = 1;
    }
    rc = append_page(s, P, b, nb, out);
out:
    if (rc) {
        out->has_next = 0;
        out->next_token[0] = '\0';
        out->bars = 0;
    }
    free(b);
    cJSON_Delete(root);
    return rc;
}

/* ---- Yahoo: {"chart":{"result":[{"timestamp":[...],"indicators":{"quote":[{...}],
 *      "adjclose":[{"adjclose":[...]}]}}],"error":null}} */

/* The i-th value of a column: 1 number, 0 null, -1 anything else. */
static int col_value(const cJSON *col, int i, double *v)
{
    const cJSON *it = cJSON_GetArrayItem(col, i);
    if (cJSON_IsNumber(it)) {
        *v = it->valuedouble;
        return 1;
    }
    return cJSON_IsNull(it) ? 0 : -1;
}

static const cJSON *first_of(const cJSON *obj, const char *key)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsArray(a) ? cJSON_GetArrayItem(a, 0) : NULL;
}

int gt_provider_parse_yahoo(gt_series *s, const char *json, int64_t len, int64_t start_us,
                            int64_t stop_us, int32_t adjust, gt_provider_page *out)
{
    const char *P = "yahoo";
    int rc = page_init(s, json, len, start_us, stop_us, out, P);
    if (rc)
        return rc;
    cJSON *root = cJSON_ParseWithLength(json, (size_t)len);
    pbar *b = NULL;
    int64_t nb = 0;
    if (!root)
        return parse_fail(P);
    const cJSON *chart = cJSON_GetObjectItemCaseSensitive(root, "chart");
    if (!cJSON_IsObject(chart)) {
        rc = gt_seterr(GT_EDATA, "%s: response has no 'chart' object", P);
        goto out;
    }
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(chart, "error");
    if (err && !cJSON_IsNull(err)) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
        const cJSON *desc = cJSON_GetObjectItemCaseSensitive(err, "description");
        rc = gt_seterr(GT_EDATA, "%s: %.80s: %.300s", P,
                       cJSON_IsString(code) ? code->valuestring : "error",
                       cJSON_IsString(desc) ? desc->valuestring : "(no description)");
        goto out;
    }
    const cJSON *r0 = first_of(chart, "result");
    if (!cJSON_IsObject(r0)) {
        rc = gt_seterr(GT_EDATA, "%s: chart.result is missing or empty", P);
        goto out;
    }
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(r0, "timestamp");
    if (!ts || cJSON_IsNull(ts))
        goto out; /* a range without trading: no timestamps, empty quote */
    if (!cJSON_IsArray(ts)) {
        rc = gt_seterr(GT_EDATA, "%s: chart.result[0].timestamp is not an array", P);
        goto out;
    }
    int n = cJSON_GetArraySize(ts);
    const cJSON *ind = cJSON_GetObjectItemCaseSensitive(r0, "indicators");
    const cJSON *quote = first_of(ind, "quote");
    static const char *const names[5] = {"open", "high", "low", "close", "volume"};
    const cJSON *cols[6];
    for (int k = 0; k < 5; k++) {
        cols[k] = cJSON_GetObjectItemCaseSensitive(quote, names[k]);
        if (!cJSON_IsArray(cols[k]) || cJSON_GetArraySize(cols[k]) != n) {
            rc = gt_seterr(GT_EDATA,
                           "%s: indicators.quote[0].%s is missing or does not have one value "
                           "per timestamp (%d)",
                           P, names[k], n);
            goto out;
        }
    }
    cols[5] = cJSON_GetObjectItemCaseSensitive(first_of(ind, "adjclose"), "adjclose");
    if (adjust && (!cJSON_IsArray(cols[5]) || cJSON_GetArraySize(cols[5]) != n)) {
        rc = gt_seterr(GT_EDATA,
                       "%s: adjusted prices asked for but indicators.adjclose[0]."
                       "adjclose is missing or does not have one value per timestamp (%d)",
                       P, n);
        goto out;
    }
    b = malloc((size_t)(n > 0 ? n : 1) * sizeof *b);
    if (!b) {
        rc = gt_seterr(GT_ENOMEM, "%s: out of memory", P);
        goto out;
    }
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, ts)
    {
        double sec = cJSON_IsNumber(t) ? t->valuedouble : NAN;
        if (!(fabs(sec) < MAX_EPOCH_S) || sec != floor(sec)) {
            rc = gt_seterr(GT_EDATA, "%s: timestamp[%d] is not a whole number of epoch seconds", P,
                           i);
            goto out;
        }
        pbar x;
        x.ts = (int64_t)sec * INT64_C(1000000);
        double *dst[5] = {&x.o, &x.h, &x.l, &x.c, &x.v};
        int nulls = 0;
        for (int k = 0; k < 6; k++) {
            double v = 0;
            if (k == 5 && !adjust)
                break;
            int got = col_value(cols[k], i, &v);
            if (got < 0) {
                char tb[32];
                fmt_time(x.ts, tb);
                rc = gt_seterr(GT_EDATA, "%s: bar at %s: %s is neither a number nor null", P, tb,
                               k == 5 ? "adjclose" : names[k]);
                goto out;
            }
            nulls += got == 0;
            if (k < 5)
                *dst[k] = v;
            else if (got && nulls == 0) { /* Yahoo's adjustment: every price times adj/close */
                double r = v / x.c;
                x.o *= r;
                x.h *= r;
                x.l *= r;
                x.c = v;
            }
        }
        i++;
        if (nulls) {
            out->skipped_null++;
            continue;
        }
        if (x.ts < start_us || x.ts >= stop_us) {
            out->dropped_out_of_range++;
            continue;
        }
        b[nb++] = x;
    }
    rc = append_page(s, P, b, nb, out);
out:
    if (rc)
        out->bars = 0;
    free(b);
    cJSON_Delete(root);
    return rc;
}

/* ---- Coinbase: {"candles":[{"start":"1700000000","low":"..","high":"..","open":"..",
 *      "close":"..","volume":".."}]}, newest first, values as strings ---- */

/* A field that is a decimal string (or a plain number); the whole string must convert. */
static int str_num(const cJSON *obj, const char *key, double *v)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsNumber(it)) {
        *v = it->valuedouble;
        return 1;
    }
    if (!cJSON_IsString(it) || it->valuestring[0] == '\0')
        return 0;
    char *end;
    errno = 0;
    *v = strtod(it->valuestring, &end);
    return *end == '\0' && errno != ERANGE;
}

static int cmp_ts(const void *a, const void *b)
{
    int64_t x = ((const pbar *)a)->ts, y = ((const pbar *)b)->ts;
    return (x > y) - (x < y);
}

int gt_provider_parse_coinbase(gt_series *s, const char *json, int64_t len, int64_t start_us,
                               int64_t stop_us, gt_provider_page *out)
{
    const char *P = "coinbase";
    int rc = page_init(s, json, len, start_us, stop_us, out, P);
    if (rc)
        return rc;
    cJSON *root = cJSON_ParseWithLength(json, (size_t)len);
    pbar *b = NULL;
    int64_t nb = 0;
    if (!root)
        return parse_fail(P);
    const cJSON *candles;
    if ((rc = find_list(root, P, "candles", &candles, &b)) != GT_OK || !candles)
        goto out;
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, candles)
    {
        pbar x;
        double sec;
        if (!str_num(e, "start", &sec) || !(fabs(sec) < MAX_EPOCH_S) || sec != floor(sec)) {
            rc = gt_seterr(GT_EDATA,
                           "%s: candles[%d]: field 'start' is missing or not whole epoch seconds",
                           P, i);
            goto out;
        }
        x.ts = (int64_t)sec * INT64_C(1000000);
        static const char *const keys[5] = {"open", "high", "low", "close", "volume"};
        double *dst[5] = {&x.o, &x.h, &x.l, &x.c, &x.v};
        for (int k = 0; k < 5; k++) {
            if (!str_num(e, keys[k], dst[k])) {
                char tb[32];
                fmt_time(x.ts, tb);
                rc = gt_seterr(GT_EDATA,
                               "%s: candle at %s: field '%s' is missing or not a "
                               "decimal number",
                               P, tb, keys[k]);
                goto out;
            }
        }
        i++;
        if (x.ts < start_us || x.ts >= stop_us) {
            out->dropped_out_of_range++;
            continue;
        }
        b[nb++] = x;
    }
    /* Newest first on the wire; duplicates end up adjacent and gt_bar_check rejects them. */
    qsort(b, (size_t)nb, sizeof *b, cmp_ts);
    rc = append_page(s, P, b, nb, out);
out:
    if (rc)
        out->bars = 0;
    free(b);
    cJSON_Delete(root);
    return rc;
}
