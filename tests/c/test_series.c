/* series.c: growth, validation codes, resampling, compression, alignment, returns, and
 * the synthetic generator, on hand-worked cases. */
#include <math.h>
#include <stdlib.h>

#include "datetime.h"
#include "series.h"
#include "tap.h"

static int64_t day(int64_t y, int64_t m, int64_t d)
{
    return gt_days_from_civil(y, m, d) * GT_US_PER_DAY;
}

static void test_growth_and_checks(void)
{
    gt_series *s = gt_series_new(0);
    int bad = 0;
    for (int i = 0; i < 1000; i++)
        bad += gt_series_push(s, i, 1, 2, 0.5, 1.5, i) != GT_OK;
    is_int(bad, 0, "1000 pushes succeed");
    is_int(s->n, 1000, "n counts them");
    ok(s->cap >= 1000, "capacity grew");
    is_int(gt_series_shrink(s), GT_OK, "shrink");
    is_int(s->cap, 1000, "shrink fits capacity to n (48 bytes a bar)");
    is_dbl(s->volume[999], 999, 0, "last value intact after shrink");
    is_int(gt_series_lower_bound(s, 500), 500, "lower_bound exact");
    is_int(gt_series_lower_bound(s, 5000), 1000, "lower_bound past the end");
    gt_series_free(s);
    gt_series_free(NULL);

    is_int(gt_bar_check(INT64_MIN, 0, 10, 11, 9, 10, 0), GT_BAR_OK, "a good bar");
    is_int(gt_bar_check(INT64_MIN, 0, 10, 11, 9, NAN, 0), GT_BAR_NONFINITE, "NaN close");
    is_int(gt_bar_check(INT64_MIN, 0, 10, 11, 9, 10, INFINITY), GT_BAR_NONFINITE, "Inf volume");
    is_int(gt_bar_check(INT64_MIN, 0, 0, 11, 9, 10, 0), GT_BAR_NONPOSITIVE, "zero open");
    is_int(gt_bar_check(INT64_MIN, 0, 10, 11, 9, 10, -1), GT_BAR_NEG_VOLUME, "negative volume");
    is_int(gt_bar_check(INT64_MIN, 0, 10, 10.5, 9, 11, 0), GT_BAR_HIGH_BELOW, "high below close");
    is_int(gt_bar_check(INT64_MIN, 0, 10, 11, 10.2, 10.5, 0), GT_BAR_LOW_ABOVE, "low above open");
    is_int(gt_bar_check(5, 5, 10, 11, 9, 10, 0), GT_BAR_DUPLICATE_TS, "duplicate ts");
    is_int(gt_bar_check(6, 5, 10, 11, 9, 10, 0), GT_BAR_OUT_OF_ORDER, "out of order ts");
}

static void test_resample(void)
{
    /* Mon 2006-01-02 .. Fri 2006-01-13, daily bars: o = 100+i, h = o+2, l = o-1, c = o+1 */
    gt_series *d = gt_series_new(0);
    int64_t t = day(2006, 1, 2);
    for (int i = 0; i < 10; i++) {
        int64_t ts = t + (i + 2 * (i / 5)) * GT_US_PER_DAY; /* skip the weekend */
        gt_series_push(d, ts, 100 + i, 102 + i, 99 + i, 101 + i, 10);
    }
    gt_series *w;
    is_int(gt_series_resample(d, GT_TF_WEEK, 1, GT_LABEL_LAST, &w), GT_OK, "weekly resample");
    is_int(w->n, 2, "two weeks");
    is_int(w->ts[0], day(2006, 1, 6), "week 1 dated on its last trading day (Fri)");
    is_dbl(w->open[0], 100, 0, "week open = first open");
    is_dbl(w->high[0], 106, 0, "week high = max high");
    is_dbl(w->low[0], 99, 0, "week low = min low");
    is_dbl(w->close[0], 105, 0, "week close = last close");
    is_dbl(w->volume[0], 50, 0, "week volume = sum");
    is_int(w->ts[1], day(2006, 1, 13), "week 2 ends Fri 13th");
    gt_series_free(w);
    is_int(gt_series_resample(d, GT_TF_WEEK, 1, GT_LABEL_START, &w), GT_OK, "start label");
    is_int(w->ts[1], day(2006, 1, 9), "week 2 starts Monday the 9th");
    gt_series_free(w);

    gt_series *m;
    gt_series_resample(d, GT_TF_MONTH, 1, GT_LABEL_START, &m);
    is_int(m->n, 1, "one month");
    is_int(m->ts[0], day(2006, 1, 1), "month bucket starts on the 1st");
    gt_series_free(m);

    /* 1m bars across an hour boundary into 15m and 1h */
    gt_series *mi = gt_series_new(0);
    for (int i = 0; i < 90; i++)
        gt_series_push(mi, day(2020, 3, 1) + (int64_t)(i + 50) * 60 * GT_US_PER_SEC, 10, 11, 9,
                       10, 1);
    gt_series *h;
    gt_series_resample(mi, GT_TF_MINUTE, 15, GT_LABEL_START, &h);
    is_int(h->n, 7, "00:50..02:19 spans 7 quarter hours (first partial)");
    is_dbl(h->volume[0], 10, 0, "00:50-00:59 holds 10 bars");
    is_int(h->ts[1], day(2020, 3, 1) + 60 * 60 * GT_US_PER_SEC, "second bucket at 01:00");
    gt_series_free(h);
    gt_series_resample(mi, GT_TF_HOUR, 1, GT_LABEL_START, &h);
    is_int(h->n, 3, "three hours touched");
    is_dbl(h->volume[1], 60, 0, "a full hour has 60 bars");
    gt_series_free(h);
    gt_series_free(mi);

    gt_series *c;
    is_int(gt_series_compress(d, 3, &c), GT_OK, "compress by 3");
    is_int(c->n, 4, "10 bars -> 4 groups");
    is_int(c->ts[0], d->ts[2], "group stamped with its last bar");
    is_dbl(c->close[3], d->close[9], 0, "last group is the leftover bar");
    gt_series_free(c);
    gt_series_free(d);
}

static void test_align(void)
{
    gt_series *a = gt_series_new(0), *b = gt_series_new(0);
    int64_t ta[] = {1, 2, 3, 5, 6}, tb[] = {2, 3, 4, 6, 7};
    for (int i = 0; i < 5; i++) {
        gt_series_push(a, ta[i], 10 + i, 11 + i, 9 + i, 10 + i, 1);
        gt_series_push(b, tb[i], 20 + i, 21 + i, 19 + i, 20 + i, 2);
    }
    const gt_series *src[2] = {a, b};
    is_int(gt_align_count(src, 2, GT_ALIGN_INNER), 3, "inner join: 2, 3, 6");
    is_int(gt_align_count(src, 2, GT_ALIGN_OUTER), 6, "outer from 2: 2, 3, 4, 5, 6, 7");
    gt_series *oa = gt_series_new(0), *ob = gt_series_new(0);
    gt_series *const out[2] = {oa, ob};
    uint8_t filled[12];
    is_int(gt_align_fill(src, 2, GT_ALIGN_OUTER, out, filled), GT_OK, "outer fill");
    is_int(oa->ts[2], 4, "a gets t=4");
    is_int(filled[2], 1, "a's t=4 is forward-filled");
    is_dbl(oa->close[2], 12, 0, "filled with the previous close");
    is_dbl(oa->volume[2], 0, 0, "filled volume 0");
    is_int(filled[6 + 3], 1, "b's t=5 is filled");
    is_int(filled[0] + filled[1] + filled[6], 0, "real bars not marked");
    is_int(oa->n, 6, "a has 6 bars");
    gt_series_free(oa);
    gt_series_free(ob);
    gt_series_free(a);
    gt_series_free(b);
}

static void test_returns(void)
{
    double x[] = {100, 110, 99}, r[3];
    gt_returns(x, 3, 0, r);
    ok(isnan(r[0]), "first return is NaN");
    is_dbl(r[1], 0.1, 1e-15, "110/100 - 1");
    is_dbl(r[2], -0.1, 1e-15, "99/110 - 1");
    gt_returns(x, 3, 1, r);
    is_dbl(r[1], log(1.1), 1e-15, "log return");
}

static void test_synth(void)
{
    gt_series *s1, *s2;
    uint8_t *l1 = malloc(5000), *l2 = malloc(5000);
    is_int(gt_synth_generate(5000, 42, day(2020, 1, 1), GT_US_PER_DAY, 1, 100, &s1, l1), GT_OK,
           "generate 5000 daily bars");
    gt_synth_generate(5000, 42, day(2020, 1, 1), GT_US_PER_DAY, 1, 100, &s2, l2);
    int same = 1, valid = 1, weekend = 0, seen[GT_REGIME_COUNT] = {0};
    for (int64_t i = 0; i < 5000; i++) {
        same &= s1->close[i] == s2->close[i] && s1->ts[i] == s2->ts[i] && l1[i] == l2[i];
        valid &= gt_bar_check(i ? s1->ts[i - 1] : INT64_MIN, s1->ts[i], s1->open[i], s1->high[i],
                              s1->low[i], s1->close[i], s1->volume[i]) == GT_BAR_OK;
        weekend += gt_weekday(s1->ts[i]) >= 5;
        seen[l1[i]]++;
    }
    ok(same, "same seed, same path");
    ok(valid, "every bar passes validation");
    is_int(weekend, 0, "no weekend bars");
    int all = 1;
    for (int i = 0; i < GT_REGIME_COUNT; i++)
        all &= seen[i] > 0;
    ok(all, "all seven regimes occur in 5000 bars");
    /* the label is real: mean daily log return in bull regimes beats bear regimes */
    double bull = 0, bear = 0;
    int nb = 0, ne = 0;
    for (int64_t i = 1; i < 5000; i++) {
        double r = log(s1->close[i] / s1->close[i - 1]);
        if (l1[i] <= GT_REGIME_BULL_VOLATILE)
            bull += r, nb++;
        else if (l1[i] == GT_REGIME_BEAR_QUIET || l1[i] == GT_REGIME_BEAR_VOLATILE)
            bear += r, ne++;
    }
    ok(bull / nb > bear / ne, "bull bars drift up relative to bear bars (%.5f vs %.5f)", bull / nb,
       bear / ne);
    gt_series *s3;
    gt_synth_generate(10, 43, 0, GT_US_PER_DAY, 0, 100, &s3, NULL);
    ok(s3->close[9] != s1->close[9], "another seed, another path");
    is_str(gt_regime_name(GT_REGIME_CRISIS), "crisis", "regime names");
    gt_series_free(s1);
    gt_series_free(s2);
    gt_series_free(s3);
    free(l1);
    free(l2);
}

int main(void)
{
    test_growth_and_checks();
    test_resample();
    test_align();
    test_returns();
    test_synth();
    return done_testing();
}
