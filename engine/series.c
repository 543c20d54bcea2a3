/*
 * series.c: growable columnar bar storage and the one bar-validation rule set that every
 * data source uses.
 */
#include "series.h"

#include "datetime.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Buffers a referenced series grew out of: still lent to views and Lua columns, so they
 * live until the series itself is freed. */
typedef struct retired {
    struct retired *next;
    void *cols[6];
} retired;

gt_series *gt_series_new(int64_t cap)
{
    gt_series *s = calloc(1, sizeof *s);
    if (!s) {
        gt_seterr(GT_ENOMEM, "series: out of memory");
        return NULL;
    }
    s->refs = 1;
    if (cap > 0 && gt_series_reserve(s, cap) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

gt_series *gt_series_retain(gt_series *s)
{
    if (s)
        s->refs = (s->refs > 0 ? s->refs : 1) + 1;
    return s;
}

void gt_series_free(gt_series *s)
{
    if (!s)
        return;
    if (s->refs > 1) {
        s->refs--;
        return;
    }
    if (s->cap > 0) {
        free(s->ts);
        free(s->open);
        free(s->high);
        free(s->low);
        free(s->close);
        free(s->volume);
    }
    for (retired *r = s->retired, *next; r; r = next) {
        next = r->next;
        for (int i = 0; i < 6; i++)
            free(r->cols[i]);
        free(r);
    }
    gt_series *parent = s->parent;
    free(s);
    gt_series_free(parent);
}

gt_series *gt_series_view(gt_series *parent, int64_t i, int64_t j)
{
    if (!parent || i < 0 || j < i || j > parent->n) {
        gt_seterr(GT_EINVAL, "series: view %lld..%lld outside 0..%lld", (long long)i,
                  (long long)j, parent ? (long long)parent->n : 0LL);
        return NULL;
    }
    gt_series *v = calloc(1, sizeof *v);
    if (!v) {
        gt_seterr(GT_ENOMEM, "series: out of memory");
        return NULL;
    }
    /* an empty parent has NULL columns: keep them NULL rather than offset a null pointer */
    if (parent->n > 0) {
        v->ts = parent->ts + i;
        v->open = parent->open + i;
        v->high = parent->high + i;
        v->low = parent->low + i;
        v->close = parent->close + i;
        v->volume = parent->volume + i;
    }
    v->n = j - i;
    v->refs = 1;
    v->parent = gt_series_retain(parent);
    return v;
}

/* Moves every column to fresh buffers of cap bars, keeping the old ones on the retired
 * list: someone holds pointers into them. On failure the series is unchanged. */
static int move_out(gt_series *s, int64_t cap)
{
    void *cols[6] = {s->ts, s->open, s->high, s->low, s->close, s->volume};
    void *nc[6] = {0};
    retired *r = calloc(1, sizeof *r);
    int i = 0;
    if (r)
        for (; i < 6; i++) {
            if (!(nc[i] = malloc((size_t)cap * 8)))
                break;
            if (s->n > 0)
                memcpy(nc[i], cols[i], (size_t)s->n * 8);
        }
    if (!r || i < 6) {
        for (int k = 0; k < 6; k++)
            free(nc[k]);
        free(r);
        return gt_seterr(GT_ENOMEM, "series: out of memory growing to %lld bars", (long long)cap);
    }
    for (i = 0; i < 6; i++)
        r->cols[i] = cols[i];
    r->next = s->retired;
    s->retired = r;
    s->ts = nc[0];
    s->open = nc[1];
    s->high = nc[2];
    s->low = nc[3];
    s->close = nc[4];
    s->volume = nc[5];
    s->cap = cap;
    return GT_OK;
}

/* Reallocates every column to exactly cap bars; on failure the series is unchanged. */
static int resize(gt_series *s, int64_t cap)
{
    if (s->refs > 1)
        return move_out(s, cap);
    void *cols[6] = {s->ts, s->open, s->high, s->low, s->close, s->volume};
    void *nc[6];
    int i;
    for (i = 0; i < 6; i++) {
        nc[i] = realloc(cols[i], (size_t)cap * 8);
        if (!nc[i])
            break;
        cols[i] = nc[i];
    }
    /* Columns that did move are kept (their contents are intact); report the failure. */
    s->ts = cols[0];
    s->open = cols[1];
    s->high = cols[2];
    s->low = cols[3];
    s->close = cols[4];
    s->volume = cols[5];
    if (i < 6)
        return gt_seterr(GT_ENOMEM, "series: out of memory growing to %lld bars", (long long)cap);
    s->cap = cap;
    return GT_OK;
}

int gt_series_reserve(gt_series *s, int64_t cap)
{
    if (!s || cap < 0)
        return gt_seterr(GT_EINVAL, "series: bad reserve");
    if (s->parent || (s->n > 0 && s->cap == 0))
        return gt_seterr(GT_ESTATE, "series: a view cannot grow");
    if (cap <= s->cap)
        return GT_OK;
    return resize(s, cap);
}

int gt_series_push(gt_series *s, int64_t ts, double open, double high, double low, double close,
                   double volume)
{
    if (s->n >= s->cap) {
        int rc = gt_series_reserve(s, s->cap < 16 ? 64 : s->cap * 2);
        if (rc)
            return rc;
    }
    int64_t i = s->n++;
    s->ts[i] = ts;
    s->open[i] = open;
    s->high[i] = high;
    s->low[i] = low;
    s->close[i] = close;
    s->volume[i] = volume;
    return GT_OK;
}

int gt_series_shrink(gt_series *s)
{
    /* a referenced series keeps its slack: shrinking would move lent memory */
    if (!s || s->cap == 0 || s->n == s->cap || s->n == 0 || s->refs > 1)
        return GT_OK;
    return resize(s, s->n);
}

void gt_series_hash(const gt_series *s, char *hex)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    const void *cols[6] = {s->ts, s->open, s->high, s->low, s->close, s->volume};
    for (int c = 0; c < 6; c++) {
        const unsigned char *p = cols[c];
        for (size_t i = 0, len = (size_t)s->n * 8; i < len; i++) {
            h ^= p[i];
            h *= UINT64_C(0x100000001b3);
        }
    }
    snprintf(hex, 17, "%016llx", (unsigned long long)h);
}

int64_t gt_series_lower_bound(const gt_series *s, int64_t t)
{
    int64_t lo = 0, hi = s->n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (s->ts[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int gt_bar_check(int64_t prev_ts, int64_t ts, double open, double high, double low, double close,
                 double volume)
{
    if (!isfinite(open) || !isfinite(high) || !isfinite(low) || !isfinite(close) ||
        !isfinite(volume))
        return GT_BAR_NONFINITE;
    if (open <= 0 || high <= 0 || low <= 0 || close <= 0)
        return GT_BAR_NONPOSITIVE;
    /* below DBL_MIN a price is subnormal: no real quote, and sizing divides by it */
    if (open < DBL_MIN || high < DBL_MIN || low < DBL_MIN || close < DBL_MIN)
        return GT_BAR_SUBNORMAL;
    if (volume < 0)
        return GT_BAR_NEG_VOLUME;
    if (high < open || high < close || high < low)
        return GT_BAR_HIGH_BELOW;
    if (low > open || low > close || low > high)
        return GT_BAR_LOW_ABOVE;
    if (prev_ts != INT64_MIN) {
        if (ts == prev_ts)
            return GT_BAR_DUPLICATE_TS;
        if (ts < prev_ts)
            return GT_BAR_OUT_OF_ORDER;
    }
    return GT_BAR_OK;
}

const char *gt_bar_issue_text(int issue)
{
    switch (issue) {
    case GT_BAR_OK:
        return "ok";
    case GT_BAR_NONFINITE:
        return "price or volume is NaN or infinite";
    case GT_BAR_NONPOSITIVE:
        return "price is zero or negative";
    case GT_BAR_NEG_VOLUME:
        return "volume is negative";
    case GT_BAR_HIGH_BELOW:
        return "high is below max(open, close, low)";
    case GT_BAR_LOW_ABOVE:
        return "low is above min(open, close, high)";
    case GT_BAR_DUPLICATE_TS:
        return "duplicate timestamp";
    case GT_BAR_OUT_OF_ORDER:
        return "timestamp out of order (earlier than the previous bar)";
    case GT_BAR_SUBNORMAL:
        return "price is too small to be a price (subnormal, below 2.2e-308)";
    }
    return "unknown bar issue";
}

/* ---- resampling ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The bucket a timestamp falls in, as the bucket's start time. */
static int64_t bucket_start(int64_t ts, int32_t unit, int32_t count)
{
    const int64_t min = INT64_C(60000000), day = INT64_C(86400000000);
    switch (unit) {
    case GT_TF_MINUTE:
        return floor_div(ts, min * count) * min * count;
    case GT_TF_HOUR:
        return floor_div(ts, 60 * min * count) * 60 * min * count;
    case GT_TF_DAY:
        return floor_div(ts, day * count) * day * count;
    case GT_TF_WEEK: {
        int64_t d = floor_div(ts, day);
        int64_t monday = d - (((d + 3) % 7) + 7) % 7; /* 1970-01-01 was a Thursday */
        /* weeks counted from the Monday 1969-12-29 (day -3) */
        int64_t w = floor_div(monday + 3, 7 * count);
        return (w * 7 * count - 3) * day;
    }
    case GT_TF_MONTH: {
        int64_t y, m, dd;
        gt_civil_from_days(floor_div(ts, day), &y, &m, &dd);
        int64_t months = y * 12 + (m - 1);
        months = floor_div(months, count) * count;
        return gt_days_from_civil(floor_div(months, 12), months - floor_div(months, 12) * 12 + 1, 1) *
               day;
    }
    }
    return INT64_MIN;
}

int gt_series_resample(const gt_series *src, int32_t unit, int32_t count, int32_t label,
                       gt_series **out)
{
    *out = NULL;
    if (!src || unit < GT_TF_MINUTE || unit > GT_TF_MONTH || count < 1 ||
        (label != GT_LABEL_START && label != GT_LABEL_LAST))
        return gt_seterr(GT_EINVAL, "resample: bad timeframe or label");
    gt_series *r = gt_series_new(src->n > 0 ? src->n : 1);
    if (!r)
        return GT_ENOMEM;
    int64_t i = 0;
    while (i < src->n) {
        int64_t b = bucket_start(src->ts[i], unit, count);
        double o = src->open[i], h = src->high[i], l = src->low[i], c = src->close[i];
        double v = src->volume[i];
        int64_t last = src->ts[i];
        for (i++; i < src->n && bucket_start(src->ts[i], unit, count) == b; i++) {
            if (src->high[i] > h)
                h = src->high[i];
            if (src->low[i] < l)
                l = src->low[i];
            c = src->close[i];
            v += src->volume[i];
            last = src->ts[i];
        }
        /* r was reserved for src->n bars, so push cannot fail */
        gt_series_push(r, label == GT_LABEL_LAST ? last : b, o, h, l, c, v);
    }
    gt_series_shrink(r);
    *out = r;
    return GT_OK;
}

int gt_series_compress(const gt_series *src, int64_t k, gt_series **out)
{
    *out = NULL;
    if (!src || k < 1)
        return gt_seterr(GT_EINVAL, "compress: k must be >= 1");
    gt_series *r = gt_series_new(src->n / k + 1);
    if (!r)
        return GT_ENOMEM;
    for (int64_t i = 0; i < src->n; i += k) {
        int64_t end = GT_MIN(i + k, src->n);
        double o = src->open[i], h = src->high[i], l = src->low[i], v = 0;
        for (int64_t j = i; j < end; j++) {
            h = src->high[j] > h ? src->high[j] : h;
            l = src->low[j] < l ? src->low[j] : l;
            v += src->volume[j];
        }
        gt_series_push(r, src->ts[end - 1], o, h, l, src->close[end - 1], v);
    }
    gt_series_shrink(r);
    *out = r;
    return GT_OK;
}

/* ---- alignment ---- */

/* Walks the union (outer) or intersection (inner) of the timestamps from the first time
 * every series has started. For each output time t, cur[j] is series j's bar at t or the
 * latest before it (the forward fill). With out == NULL it only counts. */
static int64_t align_walk(const gt_series *const *src, int32_t k, int32_t mode,
                          gt_series *const *out, uint8_t *filled, int64_t total)
{
    int64_t next[64], cur[64], start = INT64_MIN, count = 0;
    for (int32_t j = 0; j < k; j++) {
        if (src[j]->n == 0)
            return 0;
        if (src[j]->ts[0] > start)
            start = src[j]->ts[0];
    }
    for (int32_t j = 0; j < k; j++) {
        next[j] = gt_series_lower_bound(src[j], start);
        cur[j] = next[j] - 1;
    }
    for (;;) {
        int64_t t = INT64_MAX;
        for (int32_t j = 0; j < k; j++)
            if (next[j] < src[j]->n && src[j]->ts[next[j]] < t)
                t = src[j]->ts[next[j]];
        if (t == INT64_MAX)
            break;
        int present = 0;
        for (int32_t j = 0; j < k; j++) {
            if (next[j] < src[j]->n && src[j]->ts[next[j]] == t) {
                cur[j] = next[j]++;
                present++;
            }
        }
        if (mode == GT_ALIGN_INNER && present < k)
            continue;
        for (int32_t j = 0; out && j < k; j++) {
            const gt_series *s = src[j];
            int64_t p = cur[j]; /* >= 0: every series has a bar at or before start <= t */
            size_t at = (size_t)j * (size_t)total + (size_t)count;
            if (s->ts[p] == t) {
                gt_series_push(out[j], t, s->open[p], s->high[p], s->low[p], s->close[p],
                               s->volume[p]);
                filled[at] = 0;
            } else {
                double c = s->close[p];
                gt_series_push(out[j], t, c, c, c, c, 0);
                filled[at] = 1;
            }
        }
        count++;
    }
    return count;
}

int64_t gt_align_count(const gt_series *const *src, int32_t k, int32_t mode)
{
    if (!src || k < 1 || k > 64)
        return gt_seterr(GT_EINVAL, "align: between 1 and 64 series");
    return align_walk(src, k, mode, NULL, NULL, 0);
}

int gt_align_fill(const gt_series *const *src, int32_t k, int32_t mode, gt_series *const *out,
                  uint8_t *filled)
{
    int64_t total = gt_align_count(src, k, mode);
    if (total < 0)
        return (int)total;
    for (int32_t j = 0; j < k; j++) {
        if (out[j]->n != 0)
            return gt_seterr(GT_EINVAL, "align: output series must be empty");
        int rc = gt_series_reserve(out[j], total);
        if (rc)
            return rc;
    }
    align_walk(src, k, mode, out, filled, total);
    return GT_OK;
}

void gt_returns(const double *x, int64_t n, int32_t log_returns, double *out)
{
    if (n <= 0)
        return;
    out[0] = NAN;
    if (log_returns)
        for (int64_t i = 1; i < n; i++)
            out[i] = log(x[i] / x[i - 1]);
    else
        for (int64_t i = 1; i < n; i++)
            out[i] = x[i] / x[i - 1] - 1.0;
}
