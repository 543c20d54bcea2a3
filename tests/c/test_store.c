/* Unit tests for store.c: schema and migrations, put/load, merge, validation, ranges,
 * listing, deletes, errors. Counts and stored values are checked through a separate raw
 * sqlite3 connection, not through the code under test. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gt.h"
#include "store.h"
#include "tap.h"

static char dir[64];

static const char *tmp(const char *name)
{
    static char buf[4][256];
    static int k;
    char *p = buf[k++ & 3];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

/* Runs SQL on a fresh raw connection (the reference view of the file). */
static int raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    sqlite3_close(db);
    return rc;
}

/* First column of the first row of a query, as int64 (-1 on error). */
static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *q = NULL;
    int64_t v = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &q, NULL) == 0 &&
        sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static gt_series *bars(int n, int64_t t0, int64_t step, double base)
{
    gt_series *s = gt_series_new(n);
    for (int i = 0; i < n; i++) {
        double c = base + i;
        gt_series_push(s, t0 + i * step, c, c + 1, c - 1, c + 0.5, 100.0 * i);
    }
    return s;
}

static int contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

static void test_open(void)
{
    gt_store *st = NULL;
    const char *p = tmp("open.db");
    is_int(gt_store_open(p, &st), GT_OK, "open creates a new database");
    ok(st != NULL, "open returns a handle");
    is_int(gt_store_version(st), GT_STORE_SCHEMA_VERSION, "a new database is at the newest schema version");
    ok(GT_STORE_SCHEMA_VERSION >= 3, "the code knows bars, runs and fetch coverage");
    gt_store_close(st);
    is_int(raw_int(p, "PRAGMA user_version"), GT_STORE_SCHEMA_VERSION, "user_version is on disk");
    is_int(raw_int(p, "SELECT count(*) FROM sqlite_master WHERE name IN ('bars', 'imports')"), 2,
           "bars and imports tables exist");
    is_int(raw_int(p, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1,
           "the database is in WAL mode");
    is_int(raw_int(p, "SELECT count(*) FROM sqlite_master WHERE name = 'bars' AND "
                      "sql LIKE '%WITHOUT ROWID%'"),
           1, "bars is a WITHOUT ROWID table");
    is_int(gt_store_open(p, &st), GT_OK, "reopening an up-to-date database works");
    is_int(gt_store_version(st), GT_STORE_SCHEMA_VERSION, "and leaves its version alone");
    gt_store_close(st);
    gt_store_close(NULL);
    gt_store_list_free(NULL);
    ok(1, "close and list_free accept NULL");
    is_int(gt_store_open(NULL, &st), GT_EINVAL, "a NULL path is misuse");
    is_int(gt_store_open("", &st), GT_EINVAL, "an empty path is misuse");
}

static void test_migrations(void)
{
    gt_store *st = NULL;
    const char *p = tmp("empty.db");
    FILE *f = fopen(p, "wb");
    fclose(f);
    is_int(gt_store_open(p, &st), GT_OK, "an empty file is migrated");
    is_int(gt_store_version(st), GT_STORE_SCHEMA_VERSION, "to the newest version");
    gt_store_close(st);

    p = tmp("v0.db");
    raw_exec(p, "CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('kept');");
    is_int(raw_int(p, "PRAGMA user_version"), 0, "fixture starts at version 0");
    is_int(gt_store_open(p, &st), GT_OK, "a version 0 database with other tables is migrated");
    gt_store_close(st);
    is_int(raw_int(p, "PRAGMA user_version"), GT_STORE_SCHEMA_VERSION, "it is now at the newest version");
    is_int(raw_int(p, "SELECT count(*) FROM notes WHERE x = 'kept'"), 1, "other tables are kept");

    /* A step that fails leaves the database exactly as it was. */
    p = tmp("clash.db");
    raw_exec(p, "CREATE TABLE bars (x);");
    st = (gt_store *)1;
    is_int(gt_store_open(p, &st), GT_EDB, "a failing migration step fails the open");
    ok(st == NULL, "and returns no handle");
    ok(contains(gt_errmsg(), "version 0 to 1") && contains(gt_errmsg(), "already exists") &&
           contains(gt_errmsg(), p),
       "the message names the step, the cause and the path: %s", gt_errmsg());
    is_int(raw_int(p, "PRAGMA user_version"), 0, "the version is unchanged");
    is_int(raw_int(p, "SELECT count(*) FROM sqlite_master WHERE name = 'imports'"), 0,
           "no table of the failed step remains");

    p = tmp("future.db");
    raw_exec(p, "PRAGMA user_version = 99;");
    is_int(gt_store_open(p, &st), GT_EDB, "a database newer than the code fails to open");
    char upto[32];
    snprintf(upto, sizeof upto, "up to %d", (int)GT_STORE_SCHEMA_VERSION);
    ok(contains(gt_errmsg(), "schema version 99") && contains(gt_errmsg(), upto) &&
           contains(gt_errmsg(), p),
       "with a clear message: %s", gt_errmsg());
    is_int(raw_int(p, "PRAGMA user_version"), 99, "and is not touched");
}

static void test_open_errors(void)
{
    gt_store *st = NULL;
    const char *p = tmp("no/such/dir/x.db");
    is_int(gt_store_open(p, &st), GT_EDB, "a path in a missing directory fails");
    ok(contains(gt_errmsg(), p) && contains(gt_errmsg(), "No such file or directory"),
       "naming the path and the missing directory: %s", gt_errmsg());
    ok(st == NULL, "with no handle");

    p = tmp("text.db");
    FILE *f = fopen(p, "wb");
    fputs("Date,Open,High,Low,Close\n2006-01-02,1,2,0.5,1.5\nthis is not a database file at "
          "all, just some text long enough to fill a header of one hundred bytes or more\n",
          f);
    fclose(f);
    is_int(gt_store_open(p, &st), GT_EDB, "a file that is not a database fails");
    ok(contains(gt_errmsg(), "file is not a database") && contains(gt_errmsg(), p),
       "with SQLite's reason and the path: %s", gt_errmsg());

    is_int(gt_store_open(dir, &st), GT_EDB, "a directory is not a database");
    ok(contains(gt_errmsg(), "is a directory"), "and says so: %s", gt_errmsg());
}

/* Values chosen to catch any text or float32 round trip: 0.1, 1/3, values near 2^53,
 * subnormal-adjacent, and microsecond timestamps before 1970 and with fractions. */
static void test_roundtrip(void)
{
    gt_store *st = NULL;
    const char *p = tmp("rt.db");
    gt_store_open(p, &st);
    gt_series *s = gt_series_new(0);
    const int64_t ts[] = {
        -86400000000LL * 365 * 30 + 7, -1, 0, 1, 1136160000123456LL, 4102444800000000LL};
    const double px[] = {0.1,   1.0 / 3,           9007199254740993.0, 2.2250738585072014e-300,
                         1e300, 123456789.12345679};
    for (int i = 0; i < 6; i++)
        gt_series_push(s, ts[i], px[i], px[i] * 1.5, px[i] / 1.5, px[i], i * 1e15 + 0.25);
    is_int(gt_store_put(st, "RT", "1m", "test", s), 6, "put writes 6 bars");
    gt_series *r = NULL;
    is_int(gt_store_load(st, "RT", "1m", 0, 0, 0, &r), 6, "load reads 6 bars");
    int exact = r && r->n == 6;
    for (int i = 0; exact && i < 6; i++)
        exact = r->ts[i] == ts[i] && !memcmp(&r->open[i], &s->open[i], 8) &&
                !memcmp(&r->high[i], &s->high[i], 8) && !memcmp(&r->low[i], &s->low[i], 8) &&
                !memcmp(&r->close[i], &s->close[i], 8) && !memcmp(&r->volume[i], &s->volume[i], 8);
    ok(exact, "every column is bit-exact");
    is_int(raw_int(p, "SELECT ts FROM bars WHERE symbol = 'RT' ORDER BY ts LIMIT 1"), ts[0],
           "the raw ts column holds epoch microseconds");
    is_int(raw_int(p, "SELECT count(*) FROM bars WHERE typeof(ts) = 'integer'"), 6,
           "ts is stored as INTEGER");
    is_int(raw_int(p, "SELECT count(*) FROM imports WHERE symbol = 'RT' AND timeframe = '1m' AND "
                      "source = 'test' AND rows = 6 AND first_ts = -946079999999993 AND "
                      "last_ts = 4102444800000000 AND imported_at > 1600000000000000"),
           1, "the import is logged with rows, first/last ts and a time");
    gt_series_free(r);

    /* A negative zero volume passes gt_bar_check; SQLite stores integral REALs as
     * integers, so it reads back as +0.0: equal, not bit-identical. */
    gt_series_free(s);
    s = gt_series_new(1);
    gt_series_push(s, 5, 1, 1, 1, 1, -0.0);
    gt_store_put(st, "NZ", "1d", NULL, s);
    gt_store_load(st, "NZ", "1d", 0, 0, 0, &r);
    ok(r && r->n == 1 && r->volume[0] == 0.0, "volume -0.0 reads back as zero");
    gt_series_free(r);
    gt_series_free(s);
    is_int(raw_int(p, "SELECT count(*) FROM imports WHERE symbol = 'NZ' AND source IS NULL"), 1,
           "a NULL source is logged as NULL");

    s = gt_series_new(0);
    is_int(gt_store_put(st, "EMPTY", "1d", NULL, s), 0, "an empty series writes nothing");
    is_int(raw_int(p, "SELECT count(*) FROM imports WHERE symbol = 'EMPTY'"), 0,
           "and logs no import");
    gt_series_free(s);
    is_int(gt_store_load(st, "NONE", "1d", 0, 0, 0, &r), 0, "loading nothing stored gives 0");
    ok(r && r->n == 0, "and an empty series");
    gt_series_free(r);
    gt_store_close(st);
}

static void test_merge_and_validation(void)
{
    gt_store *st = NULL;
    const char *p = tmp("merge.db");
    gt_store_open(p, &st);
    gt_series *a = bars(5, 1000, 1000, 10); /* ts 1000..5000, open 10..14 */
    gt_series *b = bars(4, 4000, 1000, 50); /* ts 4000..7000, open 50..53 */
    is_int(gt_store_put(st, "M", "1h", "a", a), 5, "first import");
    is_int(gt_store_put(st, "M", "1h", "b", b), 4, "overlapping import");
    gt_series *r = NULL;
    is_int(gt_store_load(st, "M", "1h", 0, 0, 0, &r), 7, "the union has 7 bars");
    ok(r && r->ts[0] == 1000 && r->ts[6] == 7000, "from 1000 to 7000");
    is_dbl(r ? r->open[2] : 0, 12, 0, "bar 3000 keeps the first import");
    is_dbl(r ? r->open[3] : 0, 50, 0, "bar 4000 is the later import's (keep-last)");
    is_dbl(r ? r->volume[4] : 0, 100, 0, "bar 5000 has the later volume too");
    gt_series_free(r);
    is_int(raw_int(p, "SELECT count(*) FROM imports WHERE symbol = 'M'"), 2, "two imports logged");

    /* An invalid bar in the middle: nothing at all is written, not even the valid bars
     * before it, and the overlapping bars keep their values. */
    int64_t before = raw_int(p, "SELECT count(*) FROM bars");
    int64_t sum_before = raw_int(p, "SELECT sum(open) FROM bars");
    gt_series *bad = bars(5, 6000, 1000, 70);
    bad->high[2] = bad->low[2] - 1;
    int rc = (int)gt_store_put(st, "M", "1h", "bad", bad);
    is_int(rc, GT_EDATA, "an invalid bar fails the put with GT_EDATA");
    ok(contains(gt_errmsg(), "bar 2") && contains(gt_errmsg(), "ts 8000") &&
           contains(gt_errmsg(), "high is below") && contains(gt_errmsg(), "M 1h"),
       "naming the index, timestamp and reason: %s", gt_errmsg());
    is_int(raw_int(p, "SELECT count(*) FROM bars"), before, "no row was added");
    is_int(raw_int(p, "SELECT sum(open) FROM bars"), sum_before, "no row was changed");
    is_int(raw_int(p, "SELECT count(*) FROM imports WHERE source = 'bad'"), 0, "nothing logged");

    bad->high[2] = bad->open[2] + 1;
    bad->ts[4] = bad->ts[3];
    is_int(gt_store_put(st, "M", "1h", "bad", bad), GT_EDATA, "a duplicate timestamp fails");
    ok(contains(gt_errmsg(), "bar 4") && contains(gt_errmsg(), "duplicate"), "%s", gt_errmsg());
    bad->ts[4] = 1;
    is_int(gt_store_put(st, "M", "1h", "bad", bad), GT_EDATA, "an out-of-order timestamp fails");
    bad->ts[4] = 99000;
    bad->close[0] = 0.0 / 0.0;
    is_int(gt_store_put(st, "M", "1h", "bad", bad), GT_EDATA, "a NaN fails");
    ok(contains(gt_errmsg(), "bar 0") && contains(gt_errmsg(), "NaN"), "%s", gt_errmsg());
    is_int(raw_int(p, "SELECT count(*) FROM bars"), before, "still no row added");

    is_int(gt_store_put(st, "", "1h", NULL, a), GT_EINVAL, "an empty symbol is refused");
    is_int(gt_store_put(st, "M", "daily", NULL, a), GT_EINVAL, "timeframe 'daily' is refused");
    ok(contains(gt_errmsg(), "bad timeframe 'daily'"), "%s", gt_errmsg());
    is_int(gt_store_put(st, "M", "0m", NULL, a), GT_EINVAL, "timeframe '0m' is refused");
    is_int(gt_store_put(st, "M", "1mo", NULL, a), 5, "timeframe '1mo' is accepted");

    /* A row edited by another program fails the same check on the way out. */
    raw_exec(p, "UPDATE bars SET low = -1 WHERE symbol = 'M' AND timeframe = '1h' AND ts = 3000");
    r = (gt_series *)1;
    is_int(gt_store_load(st, "M", "1h", 0, 0, 0, &r), GT_EDATA, "a corrupt stored bar fails load");
    ok(r == NULL, "with no series");
    ok(contains(gt_errmsg(), "ts 3000") && contains(gt_errmsg(), "zero or negative"), "%s",
       gt_errmsg());
    gt_series_free(a);
    gt_series_free(b);
    gt_series_free(bad);
    gt_store_close(st);
}

static void test_ranges(void)
{
    gt_store *st = NULL;
    const char *p = tmp("range.db");
    gt_store_open(p, &st);
    gt_series *s = bars(5, 10, 10, 100); /* ts 10 20 30 40 50 */
    gt_store_put(st, "R", "5m", NULL, s);
    gt_series_free(s);
    gt_series *r = NULL;
    struct {
        int64_t start, stop;
        int32_t bounds;
        int64_t n, first;
        const char *name;
    } cases[] = {
        {20, 40, GT_STORE_START | GT_STORE_STOP, 2, 20, "[20, 40) is 20 and 30"},
        {19, 41, GT_STORE_START | GT_STORE_STOP, 3, 20, "[19, 41) is 20, 30, 40"},
        {20, 0, GT_STORE_START, 4, 20, "start 20 alone is 20..50"},
        {0, 40, GT_STORE_STOP, 3, 10, "stop 40 alone is 10..30"},
        {0, 0, 0, 5, 10, "no bounds is everything"},
        {INT64_MIN, INT64_MAX, GT_STORE_START | GT_STORE_STOP, 5, 10, "the widest bounds"},
        {30, 30, GT_STORE_START | GT_STORE_STOP, 0, 0, "[30, 30) is empty"},
        {40, 20, GT_STORE_START | GT_STORE_STOP, 0, 0, "start after stop is empty"},
        {0, INT64_MIN, GT_STORE_STOP, 0, 0, "stop at INT64_MIN is empty"},
        {51, 0, GT_STORE_START, 0, 0, "start after the last bar is empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t n =
            gt_store_load(st, "R", "5m", cases[i].start, cases[i].stop, cases[i].bounds, &r);
        ok(n == cases[i].n && r && r->n == n && (n == 0 || r->ts[0] == cases[i].first), "load %s",
           cases[i].name);
        gt_series_free(r);
        int64_t first = -1, last = -1;
        n = gt_store_range(st, "R", "5m", cases[i].start, cases[i].stop, cases[i].bounds, &first,
                           &last);
        ok(n == cases[i].n &&
               (n == 0 || (first == cases[i].first && last == cases[i].first + (n - 1) * 10)),
           "range %s", cases[i].name);
    }
    int64_t first = -1, last = -1;
    is_int(gt_store_range(st, "R", "1d", 0, 0, 0, &first, &last), 0, "range of nothing is 0");
    ok(first == -1 && last == -1, "and leaves first/last alone");
    gt_store_close(st);
}

static void test_list_delete(void)
{
    gt_store *st = NULL;
    const char *p = tmp("list.db");
    gt_store_open(p, &st);
    gt_store_list *l = NULL;
    is_int(gt_store_symbols(st, &l), 0, "a new database lists nothing");
    gt_store_list_free(l);
    gt_series *s = bars(5, 10, 10, 100);
    gt_store_put(st, "BBB", "1d", NULL, s);
    gt_store_put(st, "AAA", "1h", NULL, s);
    gt_series_free(s);
    s = bars(3, 100, 100, 100);
    gt_store_put(st, "AAA", "1d", NULL, s);
    gt_series_free(s);
    is_int(gt_store_symbols(st, &l), 3, "three (symbol, timeframe) pairs");
    is_int(gt_store_list_count(l), 3, "list_count agrees");
    const gt_store_entry *e0 = gt_store_list_at(l, 0), *e1 = gt_store_list_at(l, 1),
                         *e2 = gt_store_list_at(l, 2);
    ok(e0 && !strcmp(e0->symbol, "AAA") && !strcmp(e0->timeframe, "1d") && e0->count == 3 &&
           e0->first == 100 && e0->last == 300,
       "AAA 1d: 3 bars 100..300");
    ok(e1 && !strcmp(e1->symbol, "AAA") && !strcmp(e1->timeframe, "1h") && e1->count == 5 &&
           e1->first == 10 && e1->last == 50,
       "AAA 1h: 5 bars 10..50");
    ok(e2 && !strcmp(e2->symbol, "BBB") && e2->count == 5, "BBB 1d: 5 bars");
    ok(gt_store_list_at(l, 3) == NULL && gt_store_list_at(l, -1) == NULL,
       "out-of-range entries are NULL");
    gt_store_list_free(l);

    is_int(gt_store_delete(st, "AAA", "1h", 20, 40, GT_STORE_START | GT_STORE_STOP), 2,
           "delete [20, 40) removes 2 bars");
    gt_series *r = NULL;
    gt_store_load(st, "AAA", "1h", 0, 0, 0, &r);
    ok(r && r->n == 3 && r->ts[0] == 10 && r->ts[1] == 40 && r->ts[2] == 50,
       "10, 40 and 50 remain");
    gt_series_free(r);
    is_int(raw_int(p, "SELECT count(*) FROM bars WHERE symbol = 'AAA' AND timeframe = '1d'"), 3,
           "the other timeframe is untouched");
    is_int(gt_store_delete(st, "AAA", "1h", 0, 0, 0), 3, "delete without bounds removes the rest");
    is_int(gt_store_delete(st, "AAA", "1h", 0, 0, 0), 0, "deleting again removes nothing");
    is_int(gt_store_symbols(st, &l), 2, "two pairs left");
    gt_store_list_free(l);
    gt_store_close(st);
}

/* Real data: ORCL daily from ../shared, parsed here with strtod, must come back exact. */
static void test_real_data(void)
{
    const char *path = "../shared/data/backtrader/orcl-1995-2014.txt";
    FILE *f = fopen(path, "r");
    if (!f) {
        skip("needs ../shared/data (reference data, absent in this clone)", "ORCL round trip");
        return;
    }
    char line[256];
    gt_series *s = gt_series_new(0);
    if (!fgets(line, sizeof line, f))
        line[0] = 0;
    while (fgets(line, sizeof line, f)) {
        int y, m, d;
        double o, h, l, c, adj, v;
        if (sscanf(line, "%d-%d-%d,%lf,%lf,%lf,%lf,%lf,%lf", &y, &m, &d, &o, &h, &l, &c, &adj,
                   &v) == 9)
            gt_series_push(s, gt_days_from_civil(y, m, d) * 86400000000LL, o, h, l, c, v);
    }
    fclose(f);
    is_int(s->n, 5036, "ORCL has 5036 rows (data/README.md)");
    gt_store *st = NULL;
    gt_store_open(tmp("orcl.db"), &st);
    is_int(gt_store_put(st, "ORCL", "1d", path, s), 5036, "all ORCL bars stored");
    gt_series *r = NULL;
    gt_store_load(st, "ORCL", "1d", 0, 0, 0, &r);
    int same = r && r->n == s->n;
    for (int64_t i = 0; same && i < s->n; i++)
        same = r->ts[i] == s->ts[i] && r->open[i] == s->open[i] && r->high[i] == s->high[i] &&
               r->low[i] == s->low[i] && r->close[i] == s->close[i] && r->volume[i] == s->volume[i];
    ok(same, "ORCL loads back identical to strtod's values");
    int64_t first = 0, last = 0;
    gt_store_range(st, "ORCL", "1d", 0, 0, 0, &first, &last);
    is_int(first, 789091200000000LL, "first bar is 1995-01-03 (date -d 1995-01-03Z +%%s)");
    is_int(last, 1419984000000000LL, "last bar is 2014-12-31");
    gt_series_free(r);
    gt_series_free(s);
    gt_store_close(st);
}

struct holder {
    sqlite3 *db;
    int ms;
};

static void *release_later(void *arg)
{
    struct holder *h = arg;
    struct timespec t = {0, h->ms * 1000000L};
    nanosleep(&t, NULL);
    sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL);
    return NULL;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void test_two_handles_and_busy(void)
{
    const char *p = tmp("busy.db");
    gt_store *a = NULL, *b = NULL;
    is_int(gt_store_open(p, &a), GT_OK, "first handle");
    is_int(gt_store_open(p, &b), GT_OK, "second handle on the same file");
    gt_series *s = bars(10, 10, 10, 100), *r = NULL;
    gt_store_put(a, "X", "1d", NULL, s);
    is_int(gt_store_load(b, "X", "1d", 0, 0, 0, &r), 10, "the second handle sees the first's bars");
    gt_series_free(r);

    /* Another connection holds the write lock. */
    sqlite3 *raw;
    sqlite3_open(p, &raw);
    sqlite3_exec(raw, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    gt_store_set_busy_timeout(b, 100);
    double t0 = now();
    is_int(gt_store_put(b, "Y", "1d", NULL, s), GT_EDB,
           "a locked database fails after the timeout");
    double waited = now() - t0;
    ok(waited >= 0.09 && waited < 3, "after waiting about 100 ms (%.3f s)", waited);
    ok(contains(gt_errmsg(), "locked") && contains(gt_errmsg(), p), "%s", gt_errmsg());
    is_int(gt_store_load(b, "X", "1d", 0, 0, 0, &r), 10,
           "reads still work beside the writer (WAL)");
    gt_series_free(r);

    /* With the default timeout, a lock released after 300 ms is waited for. */
    gt_store_set_busy_timeout(b, GT_STORE_BUSY_MS);
    struct holder h = {raw, 300};
    pthread_t th;
    pthread_create(&th, NULL, release_later, &h);
    t0 = now();
    is_int(gt_store_put(b, "Y", "1d", NULL, s), 10, "a put waits for the lock and succeeds");
    waited = now() - t0;
    ok(waited >= 0.2, "after waiting for the other writer (%.3f s)", waited);
    pthread_join(th, NULL);
    sqlite3_close(raw);
    gt_series_free(s);
    gt_store_close(a);
    gt_store_close(b);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/gt_store_test.XXXXXX");
    if (!mkdtemp(dir)) {
        printf("Bail out! mkdtemp failed\n");
        return 1;
    }
    test_open();
    test_migrations();
    test_open_errors();
    test_roundtrip();
    test_merge_and_validation();
    test_ranges();
    test_list_delete();
    test_real_data();
    test_two_handles_and_busy();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return done_testing();
}
