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
enum { GT_ABI_VERSION = 1 };

/* ---- core (gt.c) ---- */
int gt_abi_version(void);
const char *gt_version(void);
const char *gt_errmsg(void);
const char *gt_status_name(int code);
const char *gt_strerror(int code);
void gt_clearerr(void);
int gt_is_interrupted(void);
void gt_clear_interrupt(void);

/* One row of the struct layout table: C's own view of every struct in this file. */
typedef struct gt_layout {
    const char *type;  /* struct name as declared here, e.g. "gt_series" */
    const char *field; /* NULL for the row that gives the struct's size */
    int64_t offset;    /* offsetof, or -1 on the size row */
    int64_t size;      /* sizeof the field, or of the struct on the size row */
} gt_layout;
/* Points *out at the table and returns its length. */
int64_t gt_layout_table(const gt_layout **out);

#endif
