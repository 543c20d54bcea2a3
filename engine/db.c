/*
 * db.c: see db.h. Moved out of optimize.c when the journal became its second user.
 *
 * Statements are kept by their SQL text (up to GT_DB_CACHE, the oldest evicted first):
 * gt.journal prepares the same three or four statements on every commit, and a compile is
 * about as costly as the insert it serves. Re-preparing a kept statement resets it and
 * clears its bindings, so a caller sees what a fresh prepare would give. Switching to
 * another statement resets the one left, so an abandoned iteration never holds a read
 * transaction open (it would keep WAL checkpoints from finishing).
 */
#include "db.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

_Static_assert(GT_DB_INTEGER == SQLITE_INTEGER && GT_DB_FLOAT == SQLITE_FLOAT &&
                   GT_DB_TEXT == SQLITE_TEXT && GT_DB_BLOB == SQLITE_BLOB &&
                   GT_DB_NULL == SQLITE_NULL,
               "gt_db_types must be SQLite's type codes");

struct gt_db {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *st; /* the current statement (one of cache[]) */
    sqlite3_stmt *cache[GT_DB_CACHE];
    int next; /* the slot to evict next */
};

static int dberr(gt_db *h, const char *what)
{
    return gt_seterr(GT_EDB, "db %s: %s: %s", h->path, what, sqlite3_errmsg(h->db));
}

gt_db *gt_db_open(const char *path, int32_t flags)
{
    if (!path || !*path) {
        gt_seterr(GT_EINVAL, "db: empty database path");
        return NULL;
    }
    gt_db *h = calloc(1, sizeof *h);
    if (!h || !(h->path = strdup(path))) {
        free(h);
        gt_seterr(GT_ENOMEM, "db %s: out of memory", path);
        return NULL;
    }
    int ro = flags & GT_DB_READONLY;
    int oflags = (ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &h->db, oflags, NULL) != SQLITE_OK) {
        gt_seterr(GT_EDB, "db %s: cannot open: %s", path,
                  h->db ? sqlite3_errmsg(h->db) : "out of memory");
        gt_db_close(h);
        return NULL;
    }
    sqlite3_extended_result_codes(h->db, 1);
    sqlite3_busy_timeout(h->db, 5000);
    /* The first statement reads the file: "file is not a database" shows here, at open. */
    const char *setup = ro ? "PRAGMA query_only=ON; SELECT count(*) FROM sqlite_master;"
                           : "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;";
    if (sqlite3_exec(h->db, setup, NULL, NULL, NULL) != SQLITE_OK) {
        dberr(h, "opening");
        gt_db_close(h);
        return NULL;
    }
    return h;
}

void gt_db_close(gt_db *h)
{
    if (!h)
        return;
    for (int i = 0; i < GT_DB_CACHE; i++)
        sqlite3_finalize(h->cache[i]);
    sqlite3_close(h->db);
    free(h->path);
    free(h);
}

int gt_db_set_busy_timeout(gt_db *h, int32_t ms)
{
    if (!h || ms < 0)
        return gt_seterr(GT_EINVAL, "db: bad busy timeout");
    sqlite3_busy_timeout(h->db, ms);
    return GT_OK;
}

int gt_db_exec(gt_db *h, const char *sql)
{
    if (h->st)
        sqlite3_reset(h->st);
    if (sqlite3_exec(h->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return dberr(h, sql);
    return GT_OK;
}

int gt_db_prepare(gt_db *h, const char *sql)
{
    if (h->st)
        sqlite3_reset(h->st);
    h->st = NULL;
    for (int i = 0; i < GT_DB_CACHE; i++) {
        if (h->cache[i] && strcmp(sqlite3_sql(h->cache[i]), sql) == 0) {
            h->st = h->cache[i];
            sqlite3_clear_bindings(h->st);
            return GT_OK;
        }
    }
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v3(h->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q, NULL) != SQLITE_OK)
        return dberr(h, sql);
    if (!q) /* only whitespace or a comment */
        return gt_seterr(GT_EINVAL, "db %s: no statement in '%s'", h->path, sql);
    sqlite3_finalize(h->cache[h->next]);
    h->cache[h->next] = h->st = q;
    h->next = (h->next + 1) % GT_DB_CACHE;
    return GT_OK;
}

#define NEED_STMT(h)                                                                               \
    do {                                                                                           \
        if (!(h)->st)                                                                              \
            return gt_seterr(GT_ESTATE, "db %s: no statement prepared", (h)->path);                \
    } while (0)

static int bound(gt_db *h, int rc)
{
    return rc == SQLITE_OK ? GT_OK : dberr(h, "bind");
}

int gt_db_bind_text(gt_db *h, int32_t i, const char *v, int64_t len)
{
    NEED_STMT(h);
    return bound(
        h, sqlite3_bind_text64(h->st, i, v, (sqlite3_uint64)len, SQLITE_TRANSIENT, SQLITE_UTF8));
}

int gt_db_bind_double(gt_db *h, int32_t i, double v)
{
    NEED_STMT(h);
    return bound(h, v == v ? sqlite3_bind_double(h->st, i, v) : sqlite3_bind_null(h->st, i));
}

int gt_db_bind_int(gt_db *h, int32_t i, int64_t v)
{
    NEED_STMT(h);
    return bound(h, sqlite3_bind_int64(h->st, i, v));
}

int gt_db_bind_blob(gt_db *h, int32_t i, const double *v, int64_t n)
{
    NEED_STMT(h);
    if (n < 0)
        return gt_seterr(GT_EINVAL, "db %s: negative blob length", h->path);
    return bound(
        h, sqlite3_bind_blob64(h->st, i, v, (sqlite3_uint64)n * sizeof(double), SQLITE_TRANSIENT));
}

int gt_db_bind_bytes(gt_db *h, int32_t i, const void *v, int64_t len)
{
    NEED_STMT(h);
    if (len < 0 || (len > 0 && !v))
        return gt_seterr(GT_EINVAL, "db %s: bad byte string", h->path);
    if (len == 0)
        return bound(h, sqlite3_bind_zeroblob(h->st, i, 0));
    return bound(h, sqlite3_bind_blob64(h->st, i, v, (sqlite3_uint64)len, SQLITE_TRANSIENT));
}

int gt_db_bind_null(gt_db *h, int32_t i)
{
    NEED_STMT(h);
    return bound(h, sqlite3_bind_null(h->st, i));
}

/* 1: a row is ready; 0: done (the statement is reset for the next bindings); < 0: error. */
int gt_db_step(gt_db *h)
{
    NEED_STMT(h);
    int rc = sqlite3_step(h->st);
    if (rc == SQLITE_ROW)
        return 1;
    int err = rc == SQLITE_DONE ? GT_OK : dberr(h, "step");
    sqlite3_reset(h->st);
    sqlite3_clear_bindings(h->st);
    return err;
}

int32_t gt_db_type(gt_db *h, int32_t i)
{
    return h->st ? sqlite3_column_type(h->st, i) : GT_DB_NULL;
}

/* Column i of the current row: NULL for SQL NULL. */
const char *gt_db_text(gt_db *h, int32_t i, int64_t *len)
{
    const char *t = (const char *)sqlite3_column_text(h->st, i);
    *len = sqlite3_column_bytes(h->st, i);
    return t;
}

double gt_db_double(gt_db *h, int32_t i)
{
    if (sqlite3_column_type(h->st, i) == SQLITE_NULL)
        return NAN;
    return sqlite3_column_double(h->st, i);
}

int64_t gt_db_int(gt_db *h, int32_t i)
{
    return sqlite3_column_int64(h->st, i);
}

int64_t gt_db_blob(gt_db *h, int32_t i, const double **out)
{
    *out = sqlite3_column_blob(h->st, i);
    return sqlite3_column_bytes(h->st, i) / (int64_t)sizeof(double);
}

const void *gt_db_bytes(gt_db *h, int32_t i, int64_t *len)
{
    const void *p = sqlite3_column_blob(h->st, i);
    *len = sqlite3_column_bytes(h->st, i);
    if (!p && *len == 0 && sqlite3_column_type(h->st, i) != SQLITE_NULL)
        p = ""; /* a zero-length BLOB: empty, not NULL */
    return p;
}

int64_t gt_db_last_id(gt_db *h)
{
    return sqlite3_last_insert_rowid(h->db);
}

int64_t gt_db_changes(gt_db *h)
{
    return sqlite3_changes64(h->db);
}

int gt_db_in_transaction(gt_db *h)
{
    return sqlite3_get_autocommit(h->db) == 0;
}
