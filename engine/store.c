/*
 * store.c: the SQLite database. Connection set-up (WAL, pragmas, busy timeout), the
 * versioned schema with forward migrations, bulk bar import in one transaction, range
 * loads straight into a gt_series, the per-symbol listing, deletes and the range query
 * the fetch path uses to ask only for missing bars.
 */
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "series.h"

/* Schema steps, applied in order: step k takes user_version k to k + 1, inside one
 * transaction with the version bump, so a database is always at a whole version. Later
 * slices append steps (runs, orders, fills, the event journal, ...). Never edit a step
 * that has shipped: a database already past it would not see the change. */
static const char *const migrations[] = {
    /* 0 -> 1: bars and the import log. WITHOUT ROWID: the key is the table, so a range
     * scan of one symbol and timeframe reads consecutive pages. ts is epoch microseconds
     * UTC; imported_at too. */
    "CREATE TABLE bars ("
    "  symbol TEXT NOT NULL,"
    "  timeframe TEXT NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  open REAL NOT NULL,"
    "  high REAL NOT NULL,"
    "  low REAL NOT NULL,"
    "  close REAL NOT NULL,"
    "  volume REAL NOT NULL,"
    "  PRIMARY KEY (symbol, timeframe, ts)"
    ") WITHOUT ROWID;"
    "CREATE TABLE imports ("
    "  id INTEGER PRIMARY KEY,"
    "  symbol TEXT NOT NULL,"
    "  timeframe TEXT NOT NULL,"
    "  source TEXT,"
    "  rows INTEGER NOT NULL,"
    "  first_ts INTEGER,"
    "  last_ts INTEGER,"
    "  imported_at INTEGER NOT NULL"
    ");",
    /* 1 -> 2: backtest runs. The JSON columns are written with sorted keys; the equity
     * curve is one BLOB of native doubles (a million bars is 8 MB, not a million rows). */
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  created_at INTEGER NOT NULL,"
    "  strategy TEXT NOT NULL,"
    "  symbol TEXT,"
    "  timeframe TEXT,"
    "  params TEXT NOT NULL,"
    "  options TEXT NOT NULL,"
    "  stats TEXT NOT NULL,"
    "  data_hash TEXT NOT NULL,"
    "  first_ts INTEGER,"
    "  last_ts INTEGER,"
    "  bars INTEGER NOT NULL"
    ");"
    "CREATE TABLE run_trades ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  symbol_index INTEGER NOT NULL,"
    "  entry_bar INTEGER NOT NULL, exit_bar INTEGER NOT NULL,"
    "  entry_ts INTEGER NOT NULL, exit_ts INTEGER NOT NULL,"
    "  entry_price REAL NOT NULL, exit_price REAL NOT NULL,"
    "  size REAL NOT NULL, pnl REAL NOT NULL, return_pct REAL NOT NULL, fees REAL NOT NULL,"
    "  PRIMARY KEY (run_id, seq)"
    ") WITHOUT ROWID;"
    "CREATE TABLE run_equity ("
    "  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,"
    "  equity BLOB NOT NULL"
    ");",
    /* 2 -> 3: what providers have been asked for, as disjoint [start, stop) intervals. */
    "CREATE TABLE coverage ("
    "  symbol TEXT NOT NULL,"
    "  timeframe TEXT NOT NULL,"
    "  start INTEGER NOT NULL,"
    "  stop INTEGER NOT NULL,"
    "  PRIMARY KEY (symbol, timeframe, start)"
    ") WITHOUT ROWID;",
    /* 3 -> 4: a run's trades and chart points as one BLOB each (gt_trade and gt_run_point
     * records, native byte order like the equity BLOB before), written with two inserts
     * instead of one per trade. The points are the bars the HTML report reads (every bar
     * up to 2000, else at most about 8000), not the whole equity curve (8 MB per million
     * bars): the exact figures are in runs.stats. Runs saved before stay readable from
     * run_trades and run_equity. */
    "CREATE TABLE run_data ("
    "  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,"
    "  trades BLOB NOT NULL,"
    "  points BLOB NOT NULL"
    ");"
    /* the report's other lines at the same bars (each further symbol's close, the
     * strategy's declared indicators) as JSON; '' when the report has none */
    "ALTER TABLE runs ADD COLUMN chart TEXT NOT NULL DEFAULT '';",
    /* 4 -> 5: strategy-selection models (gt.ml): the whole model as one JSON document
     * (inputs, standardisation, weights, training range, validation scores), so a loaded
     * model predicts exactly what the saved one did. */
    "CREATE TABLE models ("
    "  id INTEGER PRIMARY KEY,"
    "  created_at INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  first_ts INTEGER,"
    "  last_ts INTEGER,"
    "  doc TEXT NOT NULL"
    ");"
    "CREATE INDEX models_name ON models(name, id);",
    /* 5 -> 6: optimisation runs (gt.optimize) and one row per evaluated combination: params
     * as JSON (sorted keys, exact numbers), the objective's score, four statistics as
     * columns for sqlite3 queries, every statistic as a BLOB of doubles (gt.metrics.FIELDS
     * order), and the per-period Sharpe moments and CSCV block sums (a BLOB of doubles) from
     * which DSR and PBO are recomputed after a resume or a shard merge. No equity curves:
     * about 700 bytes a row on disk, so a 10,000-combination run is about 7 MB. A rowid table (rows
     * this size overflow a WITHOUT ROWID b-tree's cells). idx is the combination's 1-based
     * position in the full enumeration (what --shard splits and resume skips). */
    "CREATE TABLE optimizations ("
    "  id INTEGER PRIMARY KEY,"
    "  created_at INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  strategy TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  data_hash TEXT NOT NULL,"
    "  spec TEXT NOT NULL,"
    "  total INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  summary TEXT"
    ");"
    "CREATE TABLE optimization_results ("
    "  opt_id INTEGER NOT NULL REFERENCES optimizations(id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL,"
    "  params TEXT NOT NULL,"
    "  score REAL,"
    "  sharpe REAL,"
    "  return_pct REAL,"
    "  max_drawdown_pct REAL,"
    "  num_trades INTEGER,"
    "  stats BLOB NOT NULL,"
    "  moments BLOB NOT NULL,"
    "  UNIQUE (opt_id, idx)"
    ");",
    /* 6 -> 7: control settings that outlive a process, such as the kill switch ('halt',
     * its reason): only an explicit resume deletes it. */
    "CREATE TABLE control ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL,"
    "  ts INTEGER NOT NULL"
    ");",
    /* 7 -> 8: trading sessions (gt.journal): one row per session, found again by its key so
     * a restarted paper or live session resumes; the event journal, one row per bus event,
     * with the fields people filter on as typed columns and the rest as JSON in detail;
     * and the state committed with each cycle's rows in one transaction (DESIGN.md 4).
     * ts is the engine's clock (epoch microseconds UTC). UNIQUE (session, cycle, seq): a
     * cycle committed twice (a replay after a crash between COMMIT and its
     * acknowledgement) cannot double its rows, and its index serves the per-cycle reads, so
     * no separate (session, cycle) index is kept. side is +1 buy, -1 sell. */
    "CREATE TABLE sessions ("
    "  id INTEGER PRIMARY KEY,"
    "  key TEXT UNIQUE NOT NULL,"
    "  name TEXT,"
    "  mode TEXT,"
    "  workflow TEXT,"
    "  config TEXT," /* JSON of the resolved settings */
    "  started_us INTEGER,"
    "  updated_us INTEGER,"
    "  status TEXT," /* running | stopped | finished | failed */
    "  last_cycle INTEGER"
    ");"
    "CREATE TABLE journal ("
    "  id INTEGER PRIMARY KEY,"
    "  session INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
    "  cycle INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  symbol TEXT,"
    "  strategy TEXT,"
    "  side INTEGER,"
    "  qty REAL,"
    "  price REAL,"
    "  value REAL,"
    "  confidence REAL,"
    "  order_id INTEGER,"
    "  status TEXT,"
    "  reason TEXT,"
    "  detail TEXT," /* JSON of the event's other fields, or NULL */
    "  UNIQUE (session, cycle, seq)"
    ");"
    "CREATE INDEX journal_type ON journal(session, type, ts);"
    /* an order's history (intent, acks, fills) by its id; only rows that have one */
    "CREATE INDEX journal_order ON journal(order_id) WHERE order_id IS NOT NULL;"
    "CREATE TABLE session_state ("
    "  session INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,"
    "  cycle INTEGER,"
    "  ts INTEGER,"
    "  cash REAL,"
    "  equity REAL,"
    "  positions TEXT," /* JSON {SYM: {qty, avg, price}} */
    "  breaker TEXT,"
    "  tier TEXT,"
    "  regime TEXT,"
    "  strategy TEXT,"
    "  books BLOB,"    /* the ledger's snapshot bytes */
    "  lua_state TEXT" /* JSON */
    ");"
    /* for sqlite3 users: the typed columns of orders, fills and equity, time readable */
    "CREATE VIEW journal_orders AS SELECT id, session, cycle, seq,"
    "  datetime(ts / 1e6, 'unixepoch') AS time, ts, symbol, strategy, side, qty, price, value,"
    "  confidence, order_id, status, reason, detail FROM journal WHERE type = 'order';"
    "CREATE VIEW journal_fills AS SELECT id, session, cycle, seq,"
    "  datetime(ts / 1e6, 'unixepoch') AS time, ts, symbol, strategy, side, qty, price, value,"
    "  order_id, status, reason, detail FROM journal WHERE type = 'fill';"
    "CREATE VIEW journal_equity AS SELECT id, session, cycle,"
    "  datetime(ts / 1e6, 'unixepoch') AS time, ts,"
    "  COALESCE(value, json_extract(detail, '$.equity')) AS equity,"
    "  json_extract(detail, '$.cash') AS cash, detail FROM journal WHERE type = 'equity';",
    /* 8 -> 9: alerts raised by a session's monitor (gt.monitor), kept until a person
     * acknowledges or resolves them (gtengine alerts). ts, acked_ts and resolved_ts are the
     * engine's clock (epoch microseconds UTC) for ts, the wall clock for the other two: a
     * replayed session raises at bar time, a person answers now. UNIQUE (session, ts,
     * component, message): a cycle replayed after a crash raises the same alert again and
     * the INSERT OR IGNORE keeps one row. session is NULL for an alert outside a journalled
     * session. */
    "CREATE TABLE alerts ("
    "  id INTEGER PRIMARY KEY,"
    "  session INTEGER REFERENCES sessions(id) ON DELETE CASCADE,"
    "  ts INTEGER NOT NULL,"
    "  level TEXT NOT NULL," /* INFO | WARNING | ERROR | CRITICAL */
    "  component TEXT NOT NULL,"
    "  message TEXT NOT NULL,"
    "  detail TEXT," /* JSON of the alert's other fields, or NULL */
    "  status TEXT NOT NULL DEFAULT 'open'," /* open | acknowledged | resolved */
    "  acked_ts INTEGER,"
    "  resolved_ts INTEGER,"
    "  UNIQUE (session, ts, component, message)"
    ");"
    "CREATE INDEX alerts_status ON alerts(status, session);",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))
_Static_assert(NMIGRATIONS == GT_STORE_SCHEMA_VERSION,
               "GT_STORE_SCHEMA_VERSION must equal the number of migration steps");

/* Connection settings, measured with tests/bench/store_bench.c (1M bars, 2 cores): page
 * sizes 4096/16384/65536, cache_size 2 MiB/64 MiB and mmap on/off all came within the
 * run-to-run noise (about 10%) for both import and load; the import is bound by SQLite's
 * B-tree insert work, not I/O. So the defaults stay: 4096-byte pages suit the small
 * commits later slices make, and mmap is left off (an I/O error becomes SIGBUS).
 *
 * Durability: bars use synchronous=NORMAL. In WAL mode that can lose the last commits on
 * a power failure but never corrupts the file, and bars can be fetched again. The event
 * journal must be durable in paper and live trading, DESIGN.md section 3: gt.journal
 * writes through its own connection (engine/db.c) and sets synchronous=FULL on it
 * (synchronous is per connection); a backtest's journal stays at NORMAL and batches its
 * commits. synchronous=OFF is never used, not even
 * for a bulk import: a crash then can corrupt the whole database, not just lose bars. */
#define SYNC_BARS "NORMAL"
static const char setup_sql[] = "PRAGMA journal_mode=WAL;"
                                "PRAGMA synchronous=" SYNC_BARS ";"
                                "PRAGMA temp_store=MEMORY;"
                                "PRAGMA cache_size=-16384;" /* KiB: 16 MiB */
                                "PRAGMA foreign_keys=ON;";

enum stmt_id { S_PUT, S_IMPORT, S_LOAD, S_RANGE, S_DELETE, S_LIST, S_RUN, S_RUN_DATA, S_COUNT };

static const char *const stmt_sql[S_COUNT] = {
    [S_PUT] = "INSERT INTO bars (symbol, timeframe, ts, open, high, low, close, volume) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
              "ON CONFLICT (symbol, timeframe, ts) DO UPDATE SET open = excluded.open, "
              "high = excluded.high, low = excluded.low, close = excluded.close, "
              "volume = excluded.volume",
    [S_IMPORT] = "INSERT INTO imports (symbol, timeframe, source, rows, first_ts, last_ts, "
                 "imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* Ranges are inclusive in SQL (BETWEEN ?3 AND ?4) with stop - 1 as the upper end, so
     * one statement serves every combination of bounds and keeps the key range scan. */
    [S_LOAD] = "SELECT ts, open, high, low, close, volume FROM bars "
               "WHERE symbol = ?1 AND timeframe = ?2 AND ts BETWEEN ?3 AND ?4 ORDER BY ts",
    [S_RANGE] = "SELECT count(*), min(ts), max(ts) FROM bars "
                "WHERE symbol = ?1 AND timeframe = ?2 AND ts BETWEEN ?3 AND ?4",
    [S_DELETE] = "DELETE FROM bars WHERE symbol = ?1 AND timeframe = ?2 AND ts BETWEEN ?3 AND ?4",
    [S_LIST] = "SELECT symbol, timeframe, count(*), min(ts), max(ts) FROM bars "
               "GROUP BY symbol, timeframe ORDER BY symbol, timeframe",
    [S_RUN] = "INSERT INTO runs(created_at, strategy, symbol, timeframe, params, options, stats,"
              " data_hash, first_ts, last_ts, bars, chart) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
    [S_RUN_DATA] = "INSERT INTO run_data(run_id, trades, points) VALUES (?, ?, ?)",
};

struct gt_store {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmt[S_COUNT]; /* prepared on first use */
};

struct gt_store_list {
    gt_store_entry *e;
    int64_t n;
};

static int64_t now_us(void);

/* Records SQLite's message for a failed call: "store PATH: WHAT: MESSAGE". */
static int dberr(const char *path, sqlite3 *db, const char *what)
{
    int rc = sqlite3_extended_errcode(db);
    const char *hint = "";
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        hint = " (another connection kept it locked past the busy timeout)";
    if ((rc & 0xff) == SQLITE_READONLY)
        hint = " (opened read-only: the file or its directory is not writable; reading works, "
               "writing needs a writable --db)";
    return gt_seterr(GT_EDB, "store %s: %s: %s%s", path, what, sqlite3_errmsg(db), hint);
}

static int exec(gt_store *st, const char *sql, const char *what)
{
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return dberr(st->path, st->db, what);
    return GT_OK;
}

static sqlite3_stmt *stmt(gt_store *st, enum stmt_id id)
{
    if (!st->stmt[id] && sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                            &st->stmt[id], NULL) != SQLITE_OK) {
        dberr(st->path, st->db, "preparing a statement");
        return NULL;
    }
    return st->stmt[id];
}

/* Rolls back after a failure without losing the failure's message. */
static int rollback(gt_store *st, int rc)
{
    if (sqlite3_get_autocommit(st->db) == 0)
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int read_version(gt_store *st, int *version)
{
    sqlite3_stmt *q = NULL;
    int rc = GT_OK;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW)
        rc = dberr(st->path, st->db, "reading the schema version");
    else
        *version = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return rc;
}

static int too_new(const gt_store *st, int version)
{
    return gt_seterr(GT_EDB,
                     "store %s: the database has schema version %d but this gtengine knows "
                     "versions up to %d; open it with a newer gtengine",
                     st->path, version, GT_STORE_SCHEMA_VERSION);
}

static int migrate(gt_store *st)
{
    int version, rc;
    if ((rc = read_version(st, &version)) != GT_OK)
        return rc;
    if (version > GT_STORE_SCHEMA_VERSION)
        return too_new(st, version);
    if (version == GT_STORE_SCHEMA_VERSION)
        return GT_OK;
    /* IMMEDIATE takes the write lock first, then the version is read again: another
     * process may have migrated while this one waited. */
    if ((rc = exec(st, "BEGIN IMMEDIATE", "starting the schema migration")) != GT_OK)
        return rc;
    if ((rc = read_version(st, &version)) != GT_OK)
        return rollback(st, rc);
    if (version > GT_STORE_SCHEMA_VERSION)
        return rollback(st, too_new(st, version));
    for (int v = version; v < GT_STORE_SCHEMA_VERSION; v++) {
        char what[64], bump[48];
        snprintf(what, sizeof what, "migrating the schema from version %d to %d", v, v + 1);
        snprintf(bump, sizeof bump, "PRAGMA user_version=%d", v + 1);
        if ((rc = exec(st, migrations[v], what)) != GT_OK || (rc = exec(st, bump, what)) != GT_OK)
            return rollback(st, rc);
    }
    if ((rc = exec(st, "COMMIT", "committing the schema migration")) != GT_OK)
        return rollback(st, rc);
    return GT_OK;
}

/* A clearer message than SQLite's "unable to open database file" for the usual causes. */
static int open_failed(const char *path, sqlite3 *db)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    struct stat sb;
    if (slash && (size_t)(slash - path) < sizeof dir) {
        size_t len = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, len);
        dir[len] = '\0';
        if (stat(dir, &sb) != 0)
            return gt_seterr(GT_EDB, "store %s: cannot open: directory %s: %s", path, dir,
                             strerror(errno));
        if (!S_ISDIR(sb.st_mode))
            return gt_seterr(GT_EDB, "store %s: cannot open: %s is not a directory", path, dir);
    }
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return gt_seterr(GT_EDB, "store %s: cannot open: it is a directory", path);
    if (stat(path, &sb) != 0 && errno == ENOENT) {
        char d[4096];
        snprintf(d, sizeof d, "%.*s", slash ? (int)(slash == path ? 1 : slash - path) : 1,
                 slash ? path : ".");
        if (access(d, W_OK) != 0)
            return gt_seterr(GT_EDB,
                             "store %s: cannot create it: the directory %s is not writable (%s)",
                             path, d, strerror(errno));
    }
    if (!db)
        return gt_seterr(GT_ENOMEM, "store %s: out of memory", path);
    return gt_seterr(GT_EDB, "store %s: cannot open: %s", path, sqlite3_errmsg(db));
}

/* The store is a file this process cannot write (a read-only directory or filesystem, a
 * file without write permission): it is opened read-only, so listing, loading and exports
 * still work and a write fails naming the reason. */
static int read_only_target(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return 0;
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash == path ? 1 : slash - path) : 1,
             slash ? path : ".");
    return access(path, W_OK) != 0 || access(dir, W_OK) != 0;
}

/* "file:PATH?mode=ro&immutable=1" with PATH percent-encoded where a URI needs it.
 * immutable: no locks and no -shm/-wal files, which a read-only directory cannot hold; a
 * database closed cleanly has its WAL checkpointed into the file. */
static char *ro_uri(const char *path)
{
    size_t n = strlen(path);
    char *u = malloc(3 * n + 32);
    if (!u)
        return NULL;
    char *w = u + sprintf(u, "file:");
    for (const char *p = path; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%' || c == '?' || c == '#' || c < 0x21 || c >= 0x7f)
            w += sprintf(w, "%%%02X", c);
        else
            *w++ = (char)c;
    }
    strcpy(w, "?mode=ro&immutable=1");
    return u;
}

static int open_read_only(gt_store *st)
{
    char *uri = ro_uri(st->path);
    if (!uri)
        return gt_seterr(GT_ENOMEM, "store %s: out of memory", st->path);
    int orc = sqlite3_open_v2(uri, &st->db,
                              SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    free(uri);
    if (orc != SQLITE_OK)
        return open_failed(st->path, st->db);
    sqlite3_extended_result_codes(st->db, 1);
    int rc, version;
    if ((rc = exec(st, "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384;",
                   "setting up the connection")) != GT_OK ||
        (rc = read_version(st, &version)) != GT_OK)
        return rc;
    if (version > GT_STORE_SCHEMA_VERSION)
        return too_new(st, version);
    if (version < GT_STORE_SCHEMA_VERSION)
        return gt_seterr(GT_EDB,
                         "store %s: the database needs its schema upgraded from version %d to %d, "
                         "but it is not writable (the file or its directory)",
                         st->path, version, GT_STORE_SCHEMA_VERSION);
    return GT_OK;
}

int gt_store_open(const char *path, gt_store **out)
{
    int rc;
    if (!out)
        return gt_seterr(GT_EINVAL, "store: gt_store_open needs an output pointer");
    *out = NULL;
    if (!path || !path[0])
        return gt_seterr(GT_EINVAL, "store: empty database path");
    gt_store *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        return gt_seterr(GT_ENOMEM, "store %s: out of memory", path);
    }
    if (read_only_target(path)) {
        if ((rc = open_read_only(st)) != GT_OK)
            goto fail;
        *out = st;
        return GT_OK;
    }
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = open_failed(path, st->db);
        goto fail;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, GT_STORE_BUSY_MS);
    /* The first statement reads the file: a file that is not a database fails here with
     * SQLite's "file is not a database". The switch to WAL and the migration can meet
     * another process doing the same to a new file; SQLite then returns SQLITE_BUSY at
     * once, without the busy handler, when waiting could deadlock (this connection holds a
     * read lock another writer waits on). So the whole set-up is retried, from no locks
     * held, until the busy timeout has passed. */
    for (int64_t t0 = now_us(), pause_ms = 2;; pause_ms = pause_ms < 64 ? pause_ms * 2 : 64) {
        if ((rc = exec(st, setup_sql, "setting up the connection")) == GT_OK &&
            (rc = migrate(st)) == GT_OK)
            break;
        int code = sqlite3_extended_errcode(st->db) & 0xff;
        if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) ||
            now_us() - t0 >= (int64_t)GT_STORE_BUSY_MS * 1000)
            goto fail;
        struct timespec ts = {0, (long)pause_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    *out = st;
    return GT_OK;
fail:
    gt_store_close(st);
    return rc;
}

void gt_store_close(gt_store *st)
{
    if (!st)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    /* close_v2 would defer on an unfinalized statement; every one is ours and is gone. */
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

int gt_store_version(gt_store *st)
{
    int version = 0, rc;
    if (!st)
        return gt_seterr(GT_EINVAL, "store: NULL handle");
    if ((rc = read_version(st, &version)) != GT_OK)
        return rc;
    return version;
}

int gt_store_set_busy_timeout(gt_store *st, int32_t ms)
{
    if (!st || ms < 0)
        return gt_seterr(GT_EINVAL, "store: bad busy timeout");
    sqlite3_busy_timeout(st->db, ms);
    return GT_OK;
}

/* Symbols are free text but not empty, short and without control characters; a
 * timeframe is a count and a unit, spelt as gt.timeframe does (1m 5m 15m 1h 4h 1d 2d 1w
 * 1mo), so one series is never stored under two names. */
static int check_key(const gt_store *st, const char *symbol, const char *timeframe)
{
    if (!symbol || !symbol[0] || strlen(symbol) > 64)
        return gt_seterr(GT_EINVAL, "store %s: symbol must be 1 to 64 characters", st->path);
    for (const char *p = symbol; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return gt_seterr(GT_EINVAL, "store %s: symbol '%s' has a control character", st->path,
                             symbol);
    const char *p = timeframe;
    if (p && *p >= '1' && *p <= '9') {
        while (*p >= '0' && *p <= '9')
            p++;
        if (p - timeframe <= 6 && (!strcmp(p, "m") || !strcmp(p, "h") || !strcmp(p, "d") ||
                                   !strcmp(p, "w") || !strcmp(p, "mo")))
            return GT_OK;
    }
    return gt_seterr(GT_EINVAL, "store %s: bad timeframe '%s' (want e.g. 1m 5m 1h 4h 1d 1w 1mo)",
                     st->path, timeframe ? timeframe : "(null)");
}

/* Binds symbol, timeframe and the inclusive SQL range of start <= ts < stop. Returns 0 for
 * an empty range (stop bound at INT64_MIN), 1 otherwise. */
static int bind_range(sqlite3_stmt *q, const char *symbol, const char *timeframe, int64_t start,
                      int64_t stop, int32_t bounds)
{
    int64_t lo = (bounds & GT_STORE_START) ? start : INT64_MIN;
    int64_t hi = INT64_MAX;
    if (bounds & GT_STORE_STOP) {
        if (stop == INT64_MIN)
            return 0;
        hi = stop - 1;
    }
    sqlite3_bind_text(q, 1, symbol, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, timeframe, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, lo);
    sqlite3_bind_int64(q, 4, hi);
    return 1;
}

/* Statements keep their bindings; static text must not outlive the call. */
static void done(sqlite3_stmt *q)
{
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
}

static int64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int bad_bar(const gt_store *st, const char *symbol, const char *timeframe, const char *verb,
                   int64_t i, int64_t ts, int issue)
{
    char when[40];
    gt_time_format(ts, 0, when, sizeof when);
    return gt_seterr(GT_EDATA, "store %s: %s %s %s: bar %lld (ts %lld, %s): %s", st->path, verb,
                     symbol, timeframe, (long long)i, (long long)ts, when,
                     gt_bar_issue_text(issue));
}

/* Polled every this many rows in long loops, so Ctrl-C stops a big import or load. */
#define POLL_MASK 0xffff

int64_t gt_store_put(gt_store *st, const char *symbol, const char *timeframe, const char *source,
                     const gt_series *s)
{
    int rc;
    if (!st || !s)
        return gt_seterr(GT_EINVAL, "store: gt_store_put needs a handle and a series");
    if ((rc = check_key(st, symbol, timeframe)) != GT_OK)
        return rc;
    /* Validate everything before touching the database: a bad bar writes nothing. */
    int64_t prev = INT64_MIN;
    for (int64_t i = 0; i < s->n; i++) {
        int issue = gt_bar_check(prev, s->ts[i], s->open[i], s->high[i], s->low[i], s->close[i],
                                 s->volume[i]);
        if (issue != GT_BAR_OK)
            return bad_bar(st, symbol, timeframe, "put", i, s->ts[i], issue);
        prev = s->ts[i];
    }
    if (s->n == 0)
        return 0;
    sqlite3_stmt *ins = stmt(st, S_PUT), *imp = stmt(st, S_IMPORT);
    if (!ins || !imp)
        return GT_EDB;
    /* IMMEDIATE: take the write lock (waiting out the busy timeout) before any work; a
     * deferred transaction that upgrades later can fail at once with SQLITE_BUSY. */
    if ((rc = exec(st, "BEGIN IMMEDIATE", "starting the import")) != GT_OK)
        return rc;
    sqlite3_bind_text(ins, 1, symbol, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 2, timeframe, -1, SQLITE_STATIC);
    for (int64_t i = 0; i < s->n; i++) {
        sqlite3_bind_int64(ins, 3, s->ts[i]);
        sqlite3_bind_double(ins, 4, s->open[i]);
        sqlite3_bind_double(ins, 5, s->high[i]);
        sqlite3_bind_double(ins, 6, s->low[i]);
        sqlite3_bind_double(ins, 7, s->close[i]);
        sqlite3_bind_double(ins, 8, s->volume[i]);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            rc = dberr(st->path, st->db, "writing bars");
            done(ins);
            return rollback(st, rc);
        }
        sqlite3_reset(ins);
        if ((i & POLL_MASK) == POLL_MASK && gt_interrupted) {
            done(ins);
            rc = gt_seterr(GT_EINTR, "store %s: import interrupted; nothing written", st->path);
            return rollback(st, rc);
        }
    }
    done(ins);
    sqlite3_bind_text(imp, 1, symbol, -1, SQLITE_STATIC);
    sqlite3_bind_text(imp, 2, timeframe, -1, SQLITE_STATIC);
    if (source)
        sqlite3_bind_text(imp, 3, source, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(imp, 3);
    sqlite3_bind_int64(imp, 4, s->n);
    sqlite3_bind_int64(imp, 5, s->ts[0]);
    sqlite3_bind_int64(imp, 6, s->ts[s->n - 1]);
    sqlite3_bind_int64(imp, 7, now_us());
    rc = sqlite3_step(imp) == SQLITE_DONE ? GT_OK : dberr(st->path, st->db, "logging the import");
    done(imp);
    if (rc != GT_OK)
        return rollback(st, rc);
    if ((rc = exec(st, "COMMIT", "committing the import")) != GT_OK)
        return rollback(st, rc);
    return s->n;
}

/* Makes room for at least one more bar, doubling. */
static int grow(gt_series *s)
{
    if (s->n < s->cap)
        return GT_OK;
    return gt_series_reserve(s, s->cap < 1024 ? 1024 : s->cap * 2);
}

int64_t gt_store_load(gt_store *st, const char *symbol, const char *timeframe, int64_t start,
                      int64_t stop, int32_t bounds, gt_series **out)
{
    int rc;
    if (!out)
        return gt_seterr(GT_EINVAL, "store: gt_store_load needs an output pointer");
    *out = NULL;
    if (!st)
        return gt_seterr(GT_EINVAL, "store: NULL handle");
    if ((rc = check_key(st, symbol, timeframe)) != GT_OK)
        return rc;
    sqlite3_stmt *q = stmt(st, S_LOAD);
    if (!q)
        return GT_EDB;
    gt_series *s = gt_series_new(0);
    if (!s)
        return GT_ENOMEM;
    if (!bind_range(q, symbol, timeframe, start, stop, bounds)) {
        *out = s;
        return 0;
    }
    /* Growth rather than a COUNT(*) first: the count walks the same pages again, and
     * large reallocs are page remaps, not copies. Bars read back pass the same check as
     * bars written, since other programs can edit the file. */
    int64_t prev = INT64_MIN;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (grow(s) != GT_OK) {
            rc = GT_ENOMEM;
            goto fail;
        }
        int64_t i = s->n;
        int64_t ts = sqlite3_column_int64(q, 0);
        double o = sqlite3_column_double(q, 1), h = sqlite3_column_double(q, 2);
        double l = sqlite3_column_double(q, 3), c = sqlite3_column_double(q, 4);
        double v = sqlite3_column_double(q, 5);
        int issue = gt_bar_check(prev, ts, o, h, l, c, v);
        if (issue != GT_BAR_OK) {
            rc = bad_bar(st, symbol, timeframe, "load", i, ts, issue);
            goto fail;
        }
        s->ts[i] = prev = ts;
        s->open[i] = o;
        s->high[i] = h;
        s->low[i] = l;
        s->close[i] = c;
        s->volume[i] = v;
        s->n = i + 1;
        if ((i & POLL_MASK) == POLL_MASK && gt_interrupted) {
            rc = gt_seterr(GT_EINTR, "store %s: load interrupted", st->path);
            goto fail;
        }
    }
    if (rc != SQLITE_DONE) {
        rc = dberr(st->path, st->db, "reading bars");
        goto fail;
    }
    done(q);
    gt_series_shrink(s); /* failure keeps the larger columns, which is harmless */
    *out = s;
    return s->n;
fail:
    done(q);
    gt_series_free(s);
    return rc;
}

int64_t gt_store_range(gt_store *st, const char *symbol, const char *timeframe, int64_t start,
                       int64_t stop, int32_t bounds, int64_t *first, int64_t *last)
{
    int rc;
    if (!st || !first || !last)
        return gt_seterr(GT_EINVAL, "store: gt_store_range needs a handle and outputs");
    if ((rc = check_key(st, symbol, timeframe)) != GT_OK)
        return rc;
    sqlite3_stmt *q = stmt(st, S_RANGE);
    if (!q)
        return GT_EDB;
    if (!bind_range(q, symbol, timeframe, start, stop, bounds))
        return 0;
    int64_t n;
    if (sqlite3_step(q) != SQLITE_ROW) {
        n = dberr(st->path, st->db, "reading the stored range");
    } else {
        n = sqlite3_column_int64(q, 0);
        if (n > 0) {
            *first = sqlite3_column_int64(q, 1);
            *last = sqlite3_column_int64(q, 2);
        }
    }
    done(q);
    return n;
}

int64_t gt_store_delete(gt_store *st, const char *symbol, const char *timeframe, int64_t start,
                        int64_t stop, int32_t bounds)
{
    int rc;
    if (!st)
        return gt_seterr(GT_EINVAL, "store: NULL handle");
    if ((rc = check_key(st, symbol, timeframe)) != GT_OK)
        return rc;
    sqlite3_stmt *q = stmt(st, S_DELETE);
    if (!q)
        return GT_EDB;
    if (!bind_range(q, symbol, timeframe, start, stop, bounds))
        return 0;
    int64_t n;
    if (sqlite3_step(q) != SQLITE_DONE)
        n = dberr(st->path, st->db, "deleting bars");
    else
        n = sqlite3_changes64(st->db);
    done(q);
    return n;
}

int64_t gt_store_symbols(gt_store *st, gt_store_list **out)
{
    int rc;
    if (!out)
        return gt_seterr(GT_EINVAL, "store: gt_store_symbols needs an output pointer");
    *out = NULL;
    if (!st)
        return gt_seterr(GT_EINVAL, "store: NULL handle");
    sqlite3_stmt *q = stmt(st, S_LIST);
    if (!q)
        return GT_EDB;
    gt_store_list *l = calloc(1, sizeof *l);
    int64_t cap = 0;
    if (!l) {
        rc = gt_seterr(GT_ENOMEM, "store %s: out of memory", st->path);
        goto fail;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (l->n == cap) {
            int64_t ncap = cap ? cap * 2 : 16;
            gt_store_entry *ne = realloc(l->e, (size_t)ncap * sizeof *ne);
            if (!ne) {
                rc = gt_seterr(GT_ENOMEM, "store %s: out of memory", st->path);
                goto fail;
            }
            l->e = ne;
            cap = ncap;
        }
        gt_store_entry *e = &l->e[l->n];
        const char *sym = (const char *)sqlite3_column_text(q, 0);
        const char *tf = (const char *)sqlite3_column_text(q, 1);
        e->symbol = strdup(sym ? sym : "");
        e->timeframe = strdup(tf ? tf : "");
        e->count = sqlite3_column_int64(q, 2);
        e->first = sqlite3_column_int64(q, 3);
        e->last = sqlite3_column_int64(q, 4);
        l->n++;
        if (!e->symbol || !e->timeframe) {
            rc = gt_seterr(GT_ENOMEM, "store %s: out of memory", st->path);
            goto fail;
        }
    }
    if (rc != SQLITE_DONE) {
        rc = dberr(st->path, st->db, "listing symbols");
        goto fail;
    }
    sqlite3_reset(q);
    *out = l;
    return l->n;
fail:
    sqlite3_reset(q);
    gt_store_list_free(l);
    return rc;
}

int64_t gt_store_list_count(const gt_store_list *l)
{
    return l ? l->n : 0;
}

const gt_store_entry *gt_store_list_at(const gt_store_list *l, int64_t i)
{
    if (!l || i < 0 || i >= l->n)
        return NULL;
    return &l->e[i];
}

void gt_store_list_free(gt_store_list *l)
{
    if (!l)
        return;
    for (int64_t i = 0; i < l->n; i++) {
        free((char *)l->e[i].symbol);
        free((char *)l->e[i].timeframe);
    }
    free(l->e);
    free(l);
}

int64_t gt_store_save_run(gt_store *st, const gt_run_record *r, const gt_trade *trades, int64_t m,
                          const gt_run_point *points, int64_t np)
{
    if (!st || !r || !r->strategy || !r->params_json || !r->options_json || !r->stats_json ||
        !r->data_hash || (m > 0 && !trades) || (np > 0 && !points) || m < 0 || np < 0)
        return gt_seterr(GT_EINVAL,
                         "store: gt_store_save_run needs a run record, trades and chart points");
    sqlite3_stmt *q;
    int rc = exec(st, "BEGIN IMMEDIATE", "saving a run");
    if (rc)
        return rc;
    if (!(q = stmt(st, S_RUN)))
        return rollback(st, GT_EDB);
    sqlite3_bind_int64(q, 1, now_us());
    sqlite3_bind_text(q, 2, r->strategy, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, r->symbol, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, r->timeframe, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, r->params_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, r->options_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, r->stats_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 8, r->data_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 9, r->first_ts);
    sqlite3_bind_int64(q, 10, r->last_ts);
    sqlite3_bind_int64(q, 11, r->bars);
    sqlite3_bind_text(q, 12, r->chart_json ? r->chart_json : "", -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto dberror;
    done(q);
    int64_t id = sqlite3_last_insert_rowid(st->db);
    if (!(q = stmt(st, S_RUN_DATA)))
        return rollback(st, GT_EDB);
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_blob64(q, 2, m > 0 ? (const void *)trades : (const void *)"",
                        (sqlite3_uint64)m * sizeof *trades, SQLITE_STATIC);
    sqlite3_bind_blob64(q, 3, np > 0 ? (const void *)points : (const void *)"",
                        (sqlite3_uint64)np * sizeof *points, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto dberror;
    done(q);
    if ((rc = exec(st, "COMMIT", "committing a run")) != GT_OK)
        return rollback(st, rc);
    return id;
dberror:
    rc = dberr(st->path, st->db, "saving a run");
    done(q);
    return rollback(st, rc);
}

/* The BLOB column col of run id's run_data row copied into out as records of size bytes
 * (at most cap); returns the record count, or GT_ENOTFOUND when the run has no such row. */
static int64_t run_blob(gt_store *st, int64_t id, const char *col, void *out, int64_t cap,
                        size_t size)
{
    char sql[80];
    snprintf(sql, sizeof sql, "SELECT %s FROM run_data WHERE run_id = ?", col);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
        return dberr(st->path, st->db, "reading a run");
    sqlite3_bind_int64(q, 1, id);
    int64_t len;
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(q, 0);
        int bytes = sqlite3_column_bytes(q, 0);
        len = bytes / (int64_t)size;
        if ((size_t)bytes % size)
            len = gt_seterr(GT_EDB,
                            "store %s: run %lld: the %s BLOB has %d bytes, not a whole number of "
                            "%zu-byte records (a damaged database or a different architecture)",
                            st->path, (long long)id, col, bytes, size);
        else if (cap > 0 && len > 0)
            memcpy(out, p, (size_t)(len < cap ? len : cap) * size);
    } else if (s == SQLITE_DONE) {
        len = gt_seterr(GT_ENOTFOUND,
                        "store %s: run %lld has no %s (saved before schema 4, or no such run)",
                        st->path, (long long)id, col);
    } else {
        len = dberr(st->path, st->db, "reading a run");
    }
    sqlite3_finalize(q);
    return len;
}

int64_t gt_store_run_points(gt_store *st, int64_t id, gt_run_point *out, int64_t cap)
{
    if (!st || cap < 0 || (cap > 0 && !out))
        return gt_seterr(GT_EINVAL, "store: gt_store_run_points needs a handle and a buffer");
    return run_blob(st, id, "points", out, cap, sizeof *out);
}

int64_t gt_store_run_equity(gt_store *st, int64_t id, double *out, int64_t cap)
{
    sqlite3_stmt *q = NULL;
    if (!st || cap < 0 || (cap > 0 && !out))
        return gt_seterr(GT_EINVAL, "store: gt_store_run_equity needs a handle and a buffer");
    if (sqlite3_prepare_v2(st->db, "SELECT equity FROM run_equity WHERE run_id = ?", -1, &q, NULL) !=
        SQLITE_OK)
        return dberr(st->path, st->db, "reading a run");
    sqlite3_bind_int64(q, 1, id);
    int64_t len;
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW) {
        int bytes = sqlite3_column_bytes(q, 0);
        len = bytes / 8;
        if (cap > 0)
            memcpy(out, sqlite3_column_blob(q, 0), (size_t)(len < cap ? len : cap) * 8);
    } else if (s == SQLITE_DONE) {
        len = gt_seterr(GT_ENOTFOUND,
                        "store %s: run %lld has no full equity curve (saved with schema 4 or "
                        "later, or no such run)",
                        st->path, (long long)id);
    } else {
        len = dberr(st->path, st->db, "reading a run");
    }
    sqlite3_finalize(q);
    return len;
}

int64_t gt_store_run_trades(gt_store *st, int64_t id, gt_trade *out, int64_t cap)
{
    sqlite3_stmt *q = NULL;
    if (!st || cap < 0 || (cap > 0 && !out))
        return gt_seterr(GT_EINVAL, "store: gt_store_run_trades needs a handle and a buffer");
    int64_t m = run_blob(st, id, "trades", out, cap, sizeof *out);
    if (m != GT_ENOTFOUND)
        return m;
    /* a run saved before schema 4: a row per trade */
    if (sqlite3_prepare_v2(st->db,
                           "SELECT symbol_index, entry_bar, exit_bar, entry_ts, exit_ts, entry_price,"
                           " exit_price, size, pnl, return_pct, fees FROM run_trades"
                           " WHERE run_id = ? ORDER BY seq",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(st->path, st->db, "reading a run's trades");
    sqlite3_bind_int64(q, 1, id);
    m = 0;
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (m < cap)
            out[m] = (gt_trade){sqlite3_column_int64(q, 0),  sqlite3_column_int64(q, 1),
                                sqlite3_column_int64(q, 2),  sqlite3_column_int64(q, 3),
                                sqlite3_column_int64(q, 4),  sqlite3_column_double(q, 5),
                                sqlite3_column_double(q, 6), sqlite3_column_double(q, 7),
                                sqlite3_column_double(q, 8), sqlite3_column_double(q, 9),
                                sqlite3_column_double(q, 10)};
        m++;
    }
    if (s != SQLITE_DONE)
        m = dberr(st->path, st->db, "reading a run's trades");
    sqlite3_finalize(q);
    return m;
}

/* Column 0 of the current row as text into buf (cap bytes, NUL-terminated, cut to fit);
 * returns its full length. */
static int64_t copy_text(sqlite3_stmt *q, char *buf, int64_t cap)
{
    const unsigned char *t = sqlite3_column_text(q, 0);
    int64_t len = sqlite3_column_bytes(q, 0);
    if (cap > 0) {
        int64_t k = len < cap - 1 ? len : cap - 1;
        if (t)
            memcpy(buf, t, (size_t)k);
        buf[k] = '\0';
    }
    return len;
}

/* Steps q (prepared and bound, one text column) and finalizes it: the text's full length,
 * copied into buf as copy_text does; GT_ENOTFOUND naming `missing` when there is no row. */
static int64_t one_text(gt_store *st, sqlite3_stmt *q, char *buf, int64_t cap, const char *what,
                        const char *missing)
{
    int64_t len;
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW)
        len = copy_text(q, buf, cap);
    else if (s == SQLITE_DONE)
        len = gt_seterr(GT_ENOTFOUND, "store %s: no %s", st->path, missing);
    else
        len = dberr(st->path, st->db, what);
    sqlite3_finalize(q);
    return len;
}

int64_t gt_store_run_text(gt_store *st, int64_t id, const char *column, char *buf, int64_t cap)
{
    static const char *const cols[] = {"strategy", "symbol",     "timeframe", "params",
                                       "options",  "stats",      "data_hash", "created_at",
                                       "first_ts", "last_ts",    "bars",      "chart"};
    const char *col = NULL;
    for (size_t i = 0; column && i < sizeof cols / sizeof cols[0]; i++)
        if (strcmp(column, cols[i]) == 0)
            col = cols[i];
    if (!st || !col || cap < 0 || (cap > 0 && !buf))
        return gt_seterr(GT_EINVAL, "store: no run column '%s'", column ? column : "(null)");
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT %s FROM runs WHERE id = ?", col);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
        return dberr(st->path, st->db, "reading a run");
    sqlite3_bind_int64(q, 1, id);
    char missing[40];
    snprintf(missing, sizeof missing, "run %lld", (long long)id);
    return one_text(st, q, buf, cap, "reading a run", missing);
}

int64_t gt_store_last_run(gt_store *st)
{
    sqlite3_stmt *q = NULL;
    if (!st)
        return gt_seterr(GT_EINVAL, "store: NULL handle");
    if (sqlite3_prepare_v2(st->db, "SELECT COALESCE(MAX(id), 0) FROM runs", -1, &q, NULL) != SQLITE_OK)
        return dberr(st->path, st->db, "reading runs");
    int64_t id = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0)
                                               : dberr(st->path, st->db, "reading runs");
    sqlite3_finalize(q);
    return id;
}

int gt_store_cover_add(gt_store *st, const char *symbol, const char *timeframe, int64_t start,
                       int64_t stop)
{
    int rc;
    if (!st)
        return gt_seterr(GT_EINVAL, "store: NULL handle");
    if ((rc = check_key(st, symbol, timeframe)) != GT_OK)
        return rc;
    if (stop <= start)
        return GT_OK;
    sqlite3_stmt *q = NULL;
    if ((rc = exec(st, "BEGIN IMMEDIATE", "recording fetched ranges")) != GT_OK)
        return rc;
    /* widen [start, stop) by every interval it touches or overlaps, then replace them */
    if (sqlite3_prepare_v2(st->db,
                           "SELECT MIN(start, ?3), MAX(stop, ?4) FROM coverage"
                           " WHERE symbol = ?1 AND timeframe = ?2 AND start <= ?4 AND stop >= ?3",
                           -1, &q, NULL) != SQLITE_OK)
        goto dberror;
    sqlite3_bind_text(q, 1, symbol, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, timeframe, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, start);
    sqlite3_bind_int64(q, 4, stop);
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (sqlite3_column_int64(q, 0) < start)
            start = sqlite3_column_int64(q, 0);
        if (sqlite3_column_int64(q, 1) > stop)
            stop = sqlite3_column_int64(q, 1);
    }
    if (s != SQLITE_DONE)
        goto dberror;
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "DELETE FROM coverage WHERE symbol = ?1 AND timeframe = ?2"
                           " AND start <= ?4 AND stop >= ?3",
                           -1, &q, NULL) != SQLITE_OK)
        goto dberror;
    sqlite3_bind_text(q, 1, symbol, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, timeframe, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, start);
    sqlite3_bind_int64(q, 4, stop);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto dberror;
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_prepare_v2(st->db, "INSERT INTO coverage VALUES (?1, ?2, ?3, ?4)", -1, &q, NULL) !=
        SQLITE_OK)
        goto dberror;
    sqlite3_bind_text(q, 1, symbol, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, timeframe, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, start);
    sqlite3_bind_int64(q, 4, stop);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto dberror;
    sqlite3_finalize(q);
    return (rc = exec(st, "COMMIT", "recording fetched ranges")) != GT_OK ? rollback(st, rc) : GT_OK;
dberror:
    rc = dberr(st->path, st->db, "recording fetched ranges");
    sqlite3_finalize(q);
    return rollback(st, rc);
}

int64_t gt_store_cover_missing(gt_store *st, const char *symbol, const char *timeframe,
                               int64_t start, int64_t stop, int64_t *out, int64_t cap)
{
    int rc;
    if (!st || cap < 0 || (cap > 0 && !out))
        return gt_seterr(GT_EINVAL, "store: gt_store_cover_missing needs a handle and a buffer");
    if ((rc = check_key(st, symbol, timeframe)) != GT_OK)
        return rc;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT start, stop FROM coverage WHERE symbol = ?1 AND timeframe = ?2"
                           " AND start < ?4 AND stop > ?3 ORDER BY start",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(st->path, st->db, "reading fetched ranges");
    sqlite3_bind_text(q, 1, symbol, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, timeframe, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, start);
    sqlite3_bind_int64(q, 4, stop);
    int64_t n = 0, at = start;
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t a = sqlite3_column_int64(q, 0), b = sqlite3_column_int64(q, 1);
        if (a > at) {
            if (n < cap) {
                out[2 * n] = at;
                out[2 * n + 1] = a;
            }
            n++;
        }
        if (b > at)
            at = b;
    }
    if (s != SQLITE_DONE) {
        rc = dberr(st->path, st->db, "reading fetched ranges");
        sqlite3_finalize(q);
        return rc;
    }
    sqlite3_finalize(q);
    if (at < stop) {
        if (n < cap) {
            out[2 * n] = at;
            out[2 * n + 1] = stop;
        }
        n++;
    }
    return n;
}

/* ---- models (gt.ml) ---- */

int64_t gt_store_save_model(gt_store *st, const char *name, const char *doc, int64_t first_ts,
                            int64_t last_ts)
{
    if (!st || !name || !*name || !doc)
        return gt_seterr(GT_EINVAL, "store: save_model needs a handle, a name and a document");
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO models(created_at, name, first_ts, last_ts, doc)"
                           " VALUES (?, ?, ?, ?, ?)",
                           -1, &q, NULL) != SQLITE_OK)
        return dberr(st->path, st->db, "saving a model");
    sqlite3_bind_int64(q, 1, now_us());
    sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, first_ts);
    sqlite3_bind_int64(q, 4, last_ts);
    sqlite3_bind_text(q, 5, doc, -1, SQLITE_STATIC);
    int64_t id = sqlite3_step(q) == SQLITE_DONE ? sqlite3_last_insert_rowid(st->db)
                                                : dberr(st->path, st->db, "saving a model");
    sqlite3_finalize(q);
    return id;
}

int64_t gt_store_model_find(gt_store *st, const char *name)
{
    if (!st || !name)
        return gt_seterr(GT_EINVAL, "store: model_find needs a handle and a name");
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT MAX(id) FROM models WHERE name = ?", -1, &q, NULL) !=
        SQLITE_OK)
        return dberr(st->path, st->db, "finding a model");
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int64_t id;
    if (sqlite3_step(q) != SQLITE_ROW)
        id = dberr(st->path, st->db, "finding a model");
    else if (sqlite3_column_type(q, 0) == SQLITE_NULL)
        id = gt_seterr(GT_ENOTFOUND, "store %s: no model named '%s' (train one first)", st->path,
                       name);
    else
        id = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return id;
}

int64_t gt_store_model_doc(gt_store *st, int64_t id, char *buf, int64_t cap)
{
    if (!st || cap < 0 || (cap > 0 && !buf))
        return gt_seterr(GT_EINVAL, "store: model_doc needs a handle and a buffer");
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT doc FROM models WHERE id = ?", -1, &q, NULL) !=
        SQLITE_OK)
        return dberr(st->path, st->db, "reading a model");
    sqlite3_bind_int64(q, 1, id);
    char missing[40];
    snprintf(missing, sizeof missing, "model %lld", (long long)id);
    return one_text(st, q, buf, cap, "reading a model", missing);
}

int64_t gt_store_changed(gt_store *st, const char *symbol, const char *timeframe,
                         const gt_series *s, int64_t *first_ts)
{
    int rc;
    if (!st || !s)
        return gt_seterr(GT_EINVAL, "store: gt_store_changed needs a handle and a series");
    if ((rc = check_key(st, symbol, timeframe)) != GT_OK)
        return rc;
    if (first_ts)
        *first_ts = 0;
    if (s->n == 0)
        return 0;
    sqlite3_stmt *q = stmt(st, S_LOAD);
    if (!q)
        return GT_EDB;
    /* One range scan over the stored bars merged with the (strictly increasing) series:
     * a million-bar file costs one pass, not a million lookups. */
    bind_range(q, symbol, timeframe, s->ts[0], s->ts[s->n - 1] + 1, GT_STORE_START | GT_STORE_STOP);
    int64_t n = 0, i = 0;
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t ts = sqlite3_column_int64(q, 0);
        while (i < s->n && s->ts[i] < ts)
            i++;
        if (i == s->n)
            break;
        if (s->ts[i] != ts)
            continue;
        /* Exact comparison: a REAL column gives back the double it was given. */
        if (sqlite3_column_double(q, 1) != s->open[i] ||
            sqlite3_column_double(q, 2) != s->high[i] || sqlite3_column_double(q, 3) != s->low[i] ||
            sqlite3_column_double(q, 4) != s->close[i] ||
            sqlite3_column_double(q, 5) != s->volume[i]) {
            if (n == 0 && first_ts)
                *first_ts = ts;
            n++;
        }
        if ((n & POLL_MASK) == POLL_MASK && gt_interrupted) {
            done(q);
            return gt_seterr(GT_EINTR, "store %s: comparison interrupted", st->path);
        }
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        rc = dberr(st->path, st->db, "comparing with stored bars");
        done(q);
        return rc;
    }
    done(q);
    return n;
}

/* ---- control settings (schema 7) ---- */

int gt_store_control_set(gt_store *st, const char *key, const char *value)
{
    if (!st || !key || !*key)
        return gt_seterr(GT_EINVAL, "store: control_set needs a handle and a key");
    sqlite3_stmt *q = NULL;
    const char *sql = value ? "INSERT OR REPLACE INTO control(key, value, ts) VALUES (?, ?, ?)"
                            : "DELETE FROM control WHERE key = ?";
    if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
        return dberr(st->path, st->db, "writing a control setting");
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    if (value) {
        sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, now_us());
    }
    int rc = sqlite3_step(q) == SQLITE_DONE ? GT_OK : dberr(st->path, st->db, "writing a control setting");
    sqlite3_finalize(q);
    return rc;
}

int64_t gt_store_control_get(gt_store *st, const char *key, char *buf, int64_t cap)
{
    if (!st || !key || cap < 0 || (cap > 0 && !buf))
        return gt_seterr(GT_EINVAL, "store: control_get needs a handle, a key and a buffer");
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT value FROM control WHERE key = ?", -1, &q, NULL) !=
        SQLITE_OK)
        return dberr(st->path, st->db, "reading a control setting");
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    char missing[160];
    snprintf(missing, sizeof missing, "control setting '%s'", key);
    return one_text(st, q, buf, cap, "reading a control setting", missing);
}
