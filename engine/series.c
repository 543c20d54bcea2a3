/*
 * series.c: growable columnar bar storage and the one bar-validation rule set that every
 * data source uses.
 */
#include "series.h"

#include <math.h>
#include <stdlib.h>

gt_series *gt_series_new(int64_t cap)
{
    gt_series *s = calloc(1, sizeof *s);
    if (!s) {
        gt_seterr(GT_ENOMEM, "series: out of memory");
        return NULL;
    }
    if (cap > 0 && gt_series_reserve(s, cap) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

void gt_series_free(gt_series *s)
{
    if (!s)
        return;
    if (s->cap > 0) {
        free(s->ts);
        free(s->open);
        free(s->high);
        free(s->low);
        free(s->close);
        free(s->volume);
    }
    free(s);
}

/* Reallocates every column to exactly cap bars; on failure the series is unchanged. */
static int resize(gt_series *s, int64_t cap)
{
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
    if (s->n > 0 && s->cap == 0)
        return gt_seterr(GT_ESTATE, "series: a view cannot grow");
    if (cap <= s->cap)
        return GT_OK;
    return resize(s, cap);
}

int gt_series_push(gt_series *s, int64_t ts, double open, double high, double low, double close,
                   double volume)
{
    if (s->n == s->cap) {
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
    if (!s || s->cap == 0 || s->n == s->cap || s->n == 0)
        return GT_OK;
    return resize(s, s->n);
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
    }
    return "unknown bar issue";
}
