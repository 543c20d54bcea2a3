/* store_bench: bulk import and range load of 1M bars through gt_store, against a plain
 * sqlite3 baseline timed in the same run (same schema and pragmas; a prepared INSERT in
 * one transaction, a SELECT loop into plain arrays). Best of 3 each. Prints bars/s and
 * ratios; never passes or fails on a time. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gt.h"
#include "store.h"

#define NBARS 1000000
#define REPS 3

static char dir[64];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static const char *fresh(const char *name)
{
    static char p[128];
    char q[160];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    unlink(p);
    snprintf(q, sizeof q, "%s-wal", p);
    unlink(q);
    snprintf(q, sizeof q, "%s-shm", p);
    unlink(q);
    return p;
}

/* A deterministic random walk of minute bars (xorshift, no libc rand). */
static gt_series *make_series(int64_t n)
{
    gt_series *s = gt_series_new(n);
    uint64_t x = 88172645463325252ULL;
    double px = 100;
    for (int64_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double r = ((double)(x >> 11) / 9007199254740992.0 - 0.5) * 0.002;
        double o = px, c = px * (1 + r);
        double h = (o > c ? o : c) * 1.0005, l = (o < c ? o : c) * 0.9995;
        gt_series_push(s, 1577836800000000LL + i * 60000000LL, o, h, l, c, (double)(x % 10000));
        px = c;
    }
    return s;
}

/* The baseline: the same schema and connection settings as store.c, raw calls only. */
static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;"
                 "PRAGMA cache_size=-16384;"
                 "CREATE TABLE IF NOT EXISTS bars (symbol TEXT NOT NULL, timeframe TEXT NOT NULL,"
                 " ts INTEGER NOT NULL, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL,"
                 " close REAL NOT NULL, volume REAL NOT NULL,"
                 " PRIMARY KEY (symbol, timeframe, ts)) WITHOUT ROWID;",
                 NULL, NULL, NULL);
    return db;
}

static double raw_import(const char *path, const gt_series *s)
{
    sqlite3 *db = raw_open(path);
    sqlite3_stmt *q;
    double t0 = now();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO bars VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &q,
                       NULL);
    sqlite3_bind_text(q, 1, "BENCH", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, "1m", -1, SQLITE_STATIC);
    for (int64_t i = 0; i < s->n; i++) {
        sqlite3_bind_int64(q, 3, s->ts[i]);
        sqlite3_bind_double(q, 4, s->open[i]);
        sqlite3_bind_double(q, 5, s->high[i]);
        sqlite3_bind_double(q, 6, s->low[i]);
        sqlite3_bind_double(q, 7, s->close[i]);
        sqlite3_bind_double(q, 8, s->volume[i]);
        if (sqlite3_step(q) != SQLITE_DONE)
            fprintf(stderr, "baseline insert: %s\n", sqlite3_errmsg(db));
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    double dt = now() - t0;
    sqlite3_close(db);
    return dt;
}

static double raw_load(sqlite3 *db, int64_t n, double *cols, int64_t *ts, int64_t *got)
{
    sqlite3_stmt *q;
    double t0 = now();
    sqlite3_prepare_v2(db,
                       "SELECT ts, open, high, low, close, volume FROM bars WHERE symbol = ?1 "
                       "AND timeframe = ?2 ORDER BY ts",
                       -1, &q, NULL);
    sqlite3_bind_text(q, 1, "BENCH", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, "1m", -1, SQLITE_STATIC);
    int64_t i = 0;
    while (sqlite3_step(q) == SQLITE_ROW && i < n) {
        ts[i] = sqlite3_column_int64(q, 0);
        for (int c = 0; c < 5; c++)
            cols[c * n + i] = sqlite3_column_double(q, c + 1);
        i++;
    }
    sqlite3_finalize(q);
    *got = i;
    return now() - t0;
}

static void report(const char *what, double best, double base)
{
    printf("store %-7s %8.0f k bars/s  (%.3f s best of %d)  baseline %8.0f k bars/s  ratio %.2f\n",
           what, NBARS / best / 1e3, best, REPS, NBARS / base / 1e3, base / best);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/gt_store_bench.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    gt_series *s = make_series(NBARS);
    double best_put = 1e9, best_raw_put = 1e9, best_load = 1e9, best_raw_load = 1e9;
    int64_t loaded = 0;
    for (int r = 0; r < REPS; r++) {
        const char *p = fresh("store.db");
        gt_store *st = NULL;
        if (gt_store_open(p, &st) != GT_OK) {
            fprintf(stderr, "%s\n", gt_errmsg());
            return 1;
        }
        double t0 = now();
        int64_t n = gt_store_put(st, "BENCH", "1m", "bench", s);
        double dt = now() - t0;
        if (n != NBARS)
            fprintf(stderr, "put: %lld: %s\n", (long long)n, gt_errmsg());
        if (dt < best_put)
            best_put = dt;
        gt_store_close(st);
        dt = raw_import(fresh("raw.db"), s);
        if (dt < best_raw_put)
            best_raw_put = dt;
    }
    /* Loads read the last imported files, warm in the page cache, on one open handle. */
    char sp[128];
    snprintf(sp, sizeof sp, "%s/store.db", dir);
    gt_store *st = NULL;
    gt_store_open(sp, &st);
    /* Importing the same bars again takes the keep-last (update) path for every row. */
    double t_re = now();
    if (gt_store_put(st, "BENCH", "1m", "bench again", s) != NBARS)
        fprintf(stderr, "re-import: %s\n", gt_errmsg());
    t_re = now() - t_re;
    char rp[128];
    snprintf(rp, sizeof rp, "%s/raw.db", dir);
    sqlite3 *raw = raw_open(rp);
    double *cols = malloc(sizeof(double) * 5 * NBARS);
    int64_t *ts = malloc(sizeof(int64_t) * NBARS), got = 0;
    for (int r = 0; r < REPS; r++) {
        gt_series *out = NULL;
        double t0 = now();
        loaded = gt_store_load(st, "BENCH", "1m", 0, 0, 0, &out);
        double dt = now() - t0;
        if (dt < best_load)
            best_load = dt;
        if (r == REPS - 1 && (loaded != NBARS || memcmp(out->close, s->close, NBARS * 8) != 0))
            fprintf(stderr, "load: %lld bars, data differs or error: %s\n", (long long)loaded,
                    gt_errmsg());
        gt_series_free(out);
        dt = raw_load(raw, NBARS, cols, ts, &got);
        if (dt < best_raw_load)
            best_raw_load = dt;
    }
    if (got != NBARS)
        fprintf(stderr, "baseline load read %lld bars\n", (long long)got);
    printf("store_bench: %d bars, 1 symbol, WAL, synchronous=NORMAL, in %s\n", NBARS, dir);
    report("import", best_put, best_raw_put);
    report("load", best_load, best_raw_load);
    printf("store re-import, every row an update: %.0f k bars/s (%.3f s, one run)\n",
           NBARS / t_re / 1e3, t_re);
    printf("goals: import >= 500 k bars/s %s, load >= 2000 k bars/s %s\n",
           NBARS / best_put >= 5e5 ? "met" : "NOT met",
           NBARS / best_load >= 2e6 ? "met" : "NOT met");
    free(cols);
    free(ts);
    sqlite3_close(raw);
    gt_store_close(st);
    gt_series_free(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
