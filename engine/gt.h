/*
 * gt.h: what every engine unit shares. Status codes (one X-macro table), the
 * per-thread last-error message, version and ABI numbers. Includes gt_ffi.h, which gathers
 * every domain header's FFI block (the declarations Lua sees), so C and Lua can never
 * disagree about them. Every engine header includes gt.h first, before its own guard.
 */
#ifndef GT_H
#define GT_H

#include <stddef.h>
#include <stdint.h>

/* Before gt_ffi.h: the domain headers it gathers use these in their C-only parts. */
/* Sets the calling thread's last-error message (printf-style) and returns code, so a
 * failure is one line: `return gt_seterr(GT_EPARSE, "%s:%ld: ...", ...);` */
int gt_seterr(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Interrupt flag set by the host's SIGINT handler; long C loops poll it. */
extern volatile int gt_interrupted;

#define GT_UNUSED(x) ((void)(x))
#define GT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define GT_MAX(a, b) ((a) > (b) ? (a) : (b))

#include "gt_ffi.h"

/* Status codes: 0 is success, failures are negative. Messages say what went wrong in
 * general; gt_errmsg() holds the specific one (file, line, field, reason). */
#define GT_STATUS_LIST(X)                                   \
    X(GT_OK, 0, "ok")                                       \
    X(GT_ENOMEM, -1, "out of memory")                       \
    X(GT_EINVAL, -2, "invalid argument")                    \
    X(GT_EIO, -3, "input/output error")                     \
    X(GT_EPARSE, -4, "parse error")                         \
    X(GT_ERANGE, -5, "value out of range")                  \
    X(GT_ENOTFOUND, -6, "not found")                        \
    X(GT_EDB, -7, "database error")                         \
    X(GT_ENET, -8, "network error")                         \
    X(GT_ETIMEOUT, -9, "timed out")                         \
    X(GT_EHTTP, -10, "HTTP error status")                   \
    X(GT_EDATA, -11, "invalid market data")                 \
    X(GT_EINTR, -12, "interrupted")                         \
    X(GT_ETOOBIG, -13, "too large")                         \
    X(GT_ESTATE, -14, "wrong state for this call")          \
    X(GT_EDENIED, -15, "denied")                            \
    X(GT_EBUSY, -16, "busy: try again later")

/* The enum itself is in gt_ffi.h, where Lua sees it; each value must agree with the list. */
#define GT_STATUS_ASSERT(name, code, msg) \
    _Static_assert(name == code, #name " differs between gt_ffi.h and GT_STATUS_LIST");
GT_STATUS_LIST(GT_STATUS_ASSERT)
#undef GT_STATUS_ASSERT


#endif
