/*
 * gt_ffi.h: the one contract between the C core and Lua. The build embeds this file
 * (preprocessor lines stripped) and gt.ffi hands it to ffi.cdef; C includes it through
 * gt.h. Rules (DESIGN.md section 2): pointers and fixed-width scalars only, no structs by
 * value, no varargs, at most 8 arguments, constants as enums. Every struct declared here
 * is listed in gt.c's layout table, which a test compares with ffi.sizeof/ffi.offsetof.
 */
#ifndef GT_FFI_H
#define GT_FFI_H
#include <stddef.h>
#include <stdint.h>

/* Bump on any change to a struct or function signature below. */
enum { GT_ABI_VERSION = 2 };

/* ---- core (gt.c) ---- */
/* Status codes: 0 is success, failures are negative. The names and messages are in gt.h's
 * GT_STATUS_LIST, which static-asserts these values; Lua reads them as C.GT_EINVAL etc. */
enum gt_status {
    GT_OK = 0,
    GT_ENOMEM = -1,
    GT_EINVAL = -2,
    GT_EIO = -3,
    GT_EPARSE = -4,
    GT_ERANGE = -5,
    GT_ENOTFOUND = -6,
    GT_EDB = -7,
    GT_ENET = -8,
    GT_ETIMEOUT = -9,
    GT_EHTTP = -10,
    GT_EDATA = -11,
    GT_EINTR = -12,
    GT_ETOOBIG = -13,
    GT_ESTATE = -14,
    GT_EDENIED = -15,
    GT_EBUSY = -16
};
int gt_abi_version(void);
const char *gt_version(void);
/* The calling thread's last failure: its message and its code (0 when none since the last
 * gt_clearerr). A message belongs to the failure whose code it carries, so a caller reads
 * it only when gt_errcode() equals the status it got: never a stale one. */
const char *gt_errmsg(void);
int gt_errcode(void);
const char *gt_status_name(int code);
const char *gt_strerror(int code);
void gt_clearerr(void);
int gt_is_interrupted(void);
/* Seconds on a monotonic clock (for timing work; not a date). */
double gt_clock_seconds(void);
void gt_clear_interrupt(void);
/* n * size zeroed bytes (gt_calloc_big) or left as they are (gt_alloc_big, for arrays
 * their user writes in full), released with gt_free_big(p, n, size), which accepts NULL:
 * a block of 512 KB and more is its own mapping in transparent huge pages, so touching a
 * million-bar array costs a few page faults rather than thousands (each one dear on a
 * virtual machine); smaller ones are calloc's or malloc's. NULL when out of memory.
 * gt_mem_keep(1): from then on freed big blocks are kept for reuse (a search allocates
 * the same arrays for every combination); 0 stops keeping more. */
void *gt_calloc_big(size_t n, size_t size);
void *gt_alloc_big(size_t n, size_t size);
void gt_free_big(void *p, size_t n, size_t size);
void gt_mem_keep(int32_t on);

/* One row of the struct layout table: C's own view of every struct in this file. */
typedef struct gt_layout {
    const char *type;  /* struct name as declared here, e.g. "gt_series" */
    const char *field; /* NULL for the row that gives the struct's size */
    int64_t offset;    /* offsetof, or -1 on the size row */
    int64_t size;      /* sizeof the field, or of the struct on the size row */
} gt_layout;
/* Points *out at the table and returns its length. */
int64_t gt_layout_table(const gt_layout **out);

/* Every domain declares its own FFI surface in its header, between "---- ffi" and
 * "---- end ffi" lines; the includes below gather them in dependency order (C sees each
 * header whole; engine/embed.lua gives ffi.cdef only the blocks). */
#include "series.h"
#include "datetime.h"
#include "clock.h"
#include "synth.h"
#include "csv.h"
#include "fsio.h"
#include "http.h"
#include "provider.h"
#include "metrics.h"
#include "bt.h"
#include "ledger.h"
#include "store.h"
#include "db.h"
#include "json.h"
#include "ind.h"
#include "sizing.h"
#include "risk.h"
#include "sim.h"
#include "regime.h"
#include "optimize.h"
#include "control.h"
#include "broker.h"

#endif
