/* series.c reference counting: a view or a lent column keeps the memory it points into
 * alive, and growing a referenced series never moves memory that was lent out. Run under
 * `make asan`, a mistake here is a heap-use-after-free report rather than a wrong number. */
#include "series.h"
#include "tap.h"

static gt_series *bars(int n)
{
    gt_series *s = gt_series_new(0);
    /* bar i: close = 100 + i, so every value below is its own index plus 100 */
    for (int i = 0; i < n; i++)
        gt_series_push(s, i, 100 + i, 100 + i, 100 + i, 100 + i, i);
    return s;
}

static void test_view_keeps_parent(void)
{
    gt_series *s = bars(10);
    gt_series *v = gt_series_view(s, 3, 7);
    ok(v != NULL, "view 3..7");
    is_int(v->n, 4, "a view of bars 3..6 has 4 bars");
    is_int(v->cap, 0, "a view has cap 0");
    is_int(s->refs, 2, "the view holds a reference on its parent");
    gt_series_free(s); /* the creator's reference: the view still holds one */
    is_dbl(v->close[0], 103, 0, "view bar 0 is parent bar 3 after the parent's owner let go");
    is_dbl(v->close[3], 106, 0, "view bar 3 is parent bar 6");
    is_int(gt_series_push(v, 99, 1, 1, 1, 1, 0), GT_ESTATE, "a view cannot grow");
    gt_series_free(v); /* last reference: frees view and parent (asan: no leak) */

    gt_series *e = gt_series_new(0);
    ok(gt_series_view(e, 0, 1) == NULL, "a view past the end is refused");
    ok(gt_series_view(e, -1, 0) == NULL, "a view before the start is refused");
    gt_series *ev = gt_series_view(e, 0, 0);
    ok(ev != NULL && ev->n == 0 && ev->close == NULL, "an empty view of an empty series");
    gt_series_free(ev);
    gt_series_free(e);
}

static void test_growth_while_lent(void)
{
    gt_series *s = bars(64); /* the first reserve gives cap 64: the next push grows */
    const double *lent = gt_series_retain(s)->close;
    is_int(s->cap, 64, "64 bars fill the first allocation");
    gt_series_push(s, 64, 164, 164, 164, 164, 0);
    ok(s->close != lent, "growth while lent moved to a new buffer");
    is_dbl(lent[63], 163, 0, "the lent buffer is still readable after the growth");
    is_dbl(s->close[63], 163, 0, "the new buffer holds the old bars");
    is_dbl(s->close[64], 164, 0, "and the new one");
    is_int(gt_series_shrink(s), GT_OK, "shrink of a referenced series is a no-op");
    ok(s->cap >= 65, "capacity kept");
    gt_series_free(s);
    is_dbl(lent[0], 100, 0, "the lent reference keeps the retired buffer alive");
    gt_series_free(s); /* the lent reference: frees the retired buffer too */
    gt_series_free(NULL);
}

int main(void)
{
    test_view_keeps_parent();
    test_growth_while_lent();
    return done_testing();
}
