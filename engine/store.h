/*
 * store.h: SQLite storage. One database file (default gt.db) holds bars keyed by
 * (symbol, timeframe, ts) and an import log; later slices (runs, orders, fills, the event
 * journal) add their tables through store.c's migration list. Uses libsqlite3.
 *
 * Ownership: gt_store_open returns a handle that owns one SQLite connection; close it with
 * gt_store_close (NULL-safe). gt_store_load returns a new gt_series the caller frees;
 * gt_store_symbols returns a gt_store_list the caller frees with gt_store_list_free, and the
 * strings in its entries live as long as the list.
 *
 * Threads and processes: a handle is one connection opened with SQLITE_OPEN_NOMUTEX, so
 * use it from one thread at a time. Never use a handle across fork(): SQLite's locks are
 * per process, and a child writing through the parent's connection can corrupt the file.
 * A child (an optimisation worker, say) opens its own handle on the same path; WAL mode
 * lets many readers run beside one writer, and a busy database is waited for (5 s by
 * default, gt_store_set_busy_timeout) before a call fails.
 *
 * Declarations Lua calls are in gt_ffi.h; this header adds the C-only names.
 */
#ifndef GT_STORE_H
#define GT_STORE_H

#include "gt.h"

/* The path used when the caller has none (the CLI's --db default). */
#define GT_STORE_DEFAULT_PATH "gt.db"

/* Busy timeout a new handle starts with, in milliseconds. */
#define GT_STORE_BUSY_MS 5000

#endif
