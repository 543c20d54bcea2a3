/*
 * db.h: a small pull-style SQL handle for Lua modules that own their tables (the optimiser's
 * results, the event journal and session state). One connection, a current statement chosen
 * by gt_db_prepare, bind (1-based), step, read columns (0-based). Uses libsqlite3.
 *
 * The schema belongs to store.c: call gt_store_open on the path first, so the migrations
 * have run; gt_db_open never creates or migrates anything.
 *
 * Ownership: gt_db_open returns a handle owning one SQLite connection and its statements;
 * gt_db_close (NULL-safe) finalizes them. Text, blob and byte pointers a column reader
 * returns stay valid until the next step, prepare or close. Same thread and fork rules as a
 * gt_store handle (store.h).
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_DB_H
#define GT_DB_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- db.c: a generic SQL handle over a store's file (gt.optimize, gt.journal) ---- */
/* Prepare one statement (cached by its text, so preparing the same SQL again is a reset,
 * not a compile), bind (1-based), step (1 row, 0 done and reset, < 0 error), read columns
 * (0-based). Errors are GT_EDB with gt_errmsg() naming the file; a call without a statement
 * is GT_ESTATE. gt_db_close accepts NULL. */
typedef struct gt_db gt_db;
enum gt_db_flags { GT_DB_READONLY = 1 };
/* SQLite's fundamental column types, as gt_db_type returns them. */
enum gt_db_types {
    GT_DB_INTEGER = 1,
    GT_DB_FLOAT = 2,
    GT_DB_TEXT = 3,
    GT_DB_BLOB = 4,
    GT_DB_NULL = 5
};
/* Opens an existing database (GT_DB_READONLY: never writes; a WAL reader beside a writer).
 * NULL on failure, with the message naming path. */
gt_db *gt_db_open(const char *path, int32_t flags);
void gt_db_close(gt_db *h);
int gt_db_set_busy_timeout(gt_db *h, int32_t ms);
int gt_db_exec(gt_db *h, const char *sql);
int gt_db_prepare(gt_db *h, const char *sql);
int gt_db_bind_text(gt_db *h, int32_t i, const char *v, int64_t len);
/* NaN binds SQL NULL. */
int gt_db_bind_double(gt_db *h, int32_t i, double v);
int gt_db_bind_int(gt_db *h, int32_t i, int64_t v);
/* n doubles as one BLOB. */
int gt_db_bind_blob(gt_db *h, int32_t i, const double *v, int64_t n);
/* len bytes as one BLOB (a zero-length BLOB, not NULL, when len is 0). */
int gt_db_bind_bytes(gt_db *h, int32_t i, const void *v, int64_t len);
int gt_db_bind_null(gt_db *h, int32_t i);
int gt_db_step(gt_db *h);
/* The column's type in the current row (enum gt_db_types). */
int32_t gt_db_type(gt_db *h, int32_t i);
const char *gt_db_text(gt_db *h, int32_t i, int64_t *len);
/* NaN for SQL NULL. */
double gt_db_double(gt_db *h, int32_t i);
int64_t gt_db_int(gt_db *h, int32_t i);
/* A BLOB of doubles: the count, and *out pointing at them. */
int64_t gt_db_blob(gt_db *h, int32_t i, const double **out);
/* A BLOB as bytes: *len and a pointer to them (NULL for SQL NULL). */
const void *gt_db_bytes(gt_db *h, int32_t i, int64_t *len);
int64_t gt_db_last_id(gt_db *h);
/* Rows changed by the last INSERT, UPDATE or DELETE. */
int64_t gt_db_changes(gt_db *h);
/* 1 inside an explicit transaction (BEGIN without its COMMIT or ROLLBACK yet), else 0. */
int gt_db_in_transaction(gt_db *h);
/* ---- end ffi ---- */

/* Prepared statements a handle keeps, reused by their SQL text. */
#define GT_DB_CACHE 16

#endif
