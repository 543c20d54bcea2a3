/* ledger.c: fills into positions and trades by hand, and the snapshot: a round trip gives
 * the same bytes, a resumed backtest ends exactly where an uninterrupted one does, and bytes
 * that are not a snapshot of this build are refused without touching the ledger. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "ledger.h"
#include "series.h"
#include "tap.h"

#define DAY INT64_C(86400000000)

static uint8_t *snap(const gt_ledger *L, int64_t *len)
{
    *len = gt_ledger_snapshot(L, NULL, 0);
    uint8_t *b = malloc((size_t)*len);
    int64_t got = gt_ledger_snapshot(L, b, *len);
    if (got != *len) {
        free(b);
        return NULL;
    }
    return b;
}

/* Buy 10 at 100 (fee 1), buy 10 more at 110 (fee 1), sell 25 at 120 (fee 2.5): the long
 * averages 105 and closes with (120 - 105) * 20 = 300 gross, fees 1 + 1 + 2.5 * 20/25 = 4,
 * pnl 296; the 5 left over open a short at 120 carrying 2.5 * 5/25 = 0.5 of the fee.
 * Cash: 10000 - 1000 - 1 - 1100 - 1 + 3000 - 2.5 = 10895.5. */
static void test_fills_by_hand(void)
{
    gt_ledger L;
    is_int(gt_ledger_init(&L, 1, 10000), GT_OK, "init");
    gt_ledger_apply_fill(&L, NULL, 0, 0, 0, 10, 100, 1);
    gt_ledger_apply_fill(&L, NULL, 0, 1, DAY, 10, 110, 1);
    gt_ledger_apply_fill(&L, NULL, 0, 2, 2 * DAY, -25, 120, 2.5);
    is_dbl(L.cash, 10895.5, 1e-9, "cash after three fills");
    is_dbl(L.pos[0].qty, -5, 0, "reversed to a 5-unit short");
    is_dbl(L.pos[0].avg, 120, 0, "the short's price");
    is_int(L.ntrades, 2, "the long closed, the short opened");
    is_dbl(L.trades[0].entry_price, 105, 1e-12, "long averaged 105");
    is_dbl(L.trades[0].size, 20, 0, "largest long 20");
    is_dbl(L.trades[0].pnl, 296, 1e-9, "pnl 300 - 4");
    is_dbl(L.trades[1].fees, 0.5, 1e-12, "the short's share of the last fee");
    is_int(L.nfills, 3, "three fills recorded");
    gt_ledger_fini(&L);
}

static gt_series *walk(int n)
{
    gt_series *s = gt_series_new(n);
    double p = 100;
    for (int i = 0; i < n; i++) {
        double o = p;
        p = 100 + 10 * sin(i / 7.0) + (i % 5);
        double hi = (o > p ? o : p) + 1, lo = (o < p ? o : p) - 1;
        gt_series_push(s, i * DAY, o, hi, lo, p, 1000);
    }
    return s;
}

static gt_bt *run_to(const gt_series *s, const double *target, int64_t end)
{
    gt_bt_config c = {0};
    c.capital = 10000;
    c.commission = 0.001;
    c.slippage_bps = 5;
    c.leverage = 1;
    c.allow_short = 1;
    c.stop_pct = 0.03;
    const gt_series *ss[1] = {s};
    gt_bt *bt = gt_bt_new(&c, ss, 1);
    const double *t[1] = {target};
    gt_bt_run_targets(bt, t, 0.9, 1, end, 0);
    return bt;
}

static void test_snapshot_round_trip_and_resume(void)
{
    int n = 300;
    gt_series *s = walk(n);
    double *target = malloc(sizeof(double) * (size_t)n);
    for (int i = 0; i < n; i++)
        target[i] = i % 17 == 0 ? 1 : i % 17 == 9 ? -1 : NAN;

    /* a run stopped half-way, snapshotted, restored into another backtest */
    gt_bt *a = run_to(s, target, 150);
    int64_t len;
    uint8_t *b1 = snap(gt_bt_ledger(a), &len);
    ok(b1 != NULL && len > 0, "snapshot of a ledger with orders, fills and trades (%lld bytes)",
       (long long)len);
    ok(gt_ledger_norders(gt_bt_ledger(a)) > 10 && gt_ledger_ntrades(gt_bt_ledger(a)) > 3,
       "the half-way ledger has work in it");
    gt_ledger R;
    gt_ledger_init(&R, 1, 0);
    is_int(gt_ledger_restore(&R, b1, len), GT_OK, "restore");
    int64_t len2;
    uint8_t *b2 = snap(&R, &len2);
    ok(len2 == len && memcmp(b1, b2, (size_t)len) == 0, "a round trip gives the same bytes");
    gt_ledger_fini(&R);

    /* resume: a fresh backtest over the same data gets the snapshot and runs on */
    gt_bt *whole = run_to(s, target, n);
    gt_bt_finish(whole);
    gt_bt *b = run_to(s, target, 0);
    is_int(gt_ledger_restore(gt_bt_ledger(b), b1, len), GT_OK, "restore into a new backtest");
    const double *t[1] = {target};
    /* the driver's own clock resumes after the last bar the snapshot saw */
    is_int(gt_bt_resume_at(b, 149), GT_OK, "resume after bar 149");
    is_int(gt_bt_run_targets(b, t, 0.9, 1, n, 0), GT_OK, "run the rest");
    gt_bt_finish(b);
    is_dbl(gt_bt_cash(b), gt_bt_cash(whole), 0, "resumed cash equals the uninterrupted run's, bit for bit");
    const gt_trade *ta, *tb;
    int64_t ma = gt_bt_trades(whole, &ta), mb = gt_bt_trades(b, &tb);
    ok(ma == mb && memcmp(ta, tb, sizeof(gt_trade) * (size_t)ma) == 0,
       "the same %lld trades, byte for byte", (long long)ma);

    /* what is not a snapshot is refused and changes nothing */
    gt_ledger_init(&R, 1, 123);
    uint8_t *bad = malloc((size_t)len);
    memcpy(bad, b1, (size_t)len);
    bad[0] ^= 1;
    is_int(gt_ledger_restore(&R, bad, len), GT_EDATA, "bad magic refused");
    is_int(gt_ledger_restore(&R, b1, len - 1), GT_EDATA, "a truncated snapshot refused");
    memcpy(bad, b1, (size_t)len);
    int64_t abi = 999;
    memcpy(bad + 8, &abi, sizeof abi);
    is_int(gt_ledger_restore(&R, bad, len), GT_EDATA, "another build's snapshot refused");
    is_dbl(R.cash, 123, 0, "a refused restore leaves the ledger as it was");
    gt_ledger_fini(&R);
    free(bad);
    free(b1);
    free(b2);
    free(target);
    gt_bt_free(a);
    gt_bt_free(b);
    gt_bt_free(whole);
    gt_series_free(s);
}

int main(void)
{
    test_fills_by_hand();
    test_snapshot_round_trip_and_resume();
    return done_testing();
}
