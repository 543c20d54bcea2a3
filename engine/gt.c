/*
 * gt.c: status codes, the per-thread last-error message, version and the struct layout
 * table that gt.ffi checks against LuaJIT's view of gt_ffi.h.
 */
#include "gt.h"

#include <stdarg.h>
#include <stdio.h>

#include "gt_version.h"

static _Thread_local char errbuf[1024];

volatile int gt_interrupted;

int gt_seterr(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return code;
}

const char *gt_errmsg(void)
{
    return errbuf;
}

void gt_clearerr(void)
{
    errbuf[0] = '\0';
}

const char *gt_status_name(int code)
{
    switch (code) {
#define GT_STATUS_NAME(name, c, msg) \
    case c:                          \
        return #name;
        GT_STATUS_LIST(GT_STATUS_NAME)
#undef GT_STATUS_NAME
    }
    return "GT_EUNKNOWN";
}

const char *gt_strerror(int code)
{
    switch (code) {
#define GT_STATUS_MSG(name, c, msg) \
    case c:                         \
        return msg;
        GT_STATUS_LIST(GT_STATUS_MSG)
#undef GT_STATUS_MSG
    }
    return "unknown status";
}

int gt_abi_version(void)
{
    return GT_ABI_VERSION;
}

const char *gt_version(void)
{
    return GT_VERSION_STRING;
}

int gt_is_interrupted(void)
{
    return gt_interrupted != 0;
}

void gt_clear_interrupt(void)
{
    gt_interrupted = 0;
}

/* Every struct in gt_ffi.h with every field. Add a struct here when you add it there;
 * the layout spec fails on a struct Lua knows that this table lacks. */
#define GT_LAYOUT_STRUCTS(S, F) \
    S(gt_layout)                \
    F(gt_layout, type)          \
    F(gt_layout, field)         \
    F(gt_layout, offset)        \
    F(gt_layout, size)          \
    S(gt_series)                \
    F(gt_series, ts)            \
    F(gt_series, open)          \
    F(gt_series, high)          \
    F(gt_series, low)           \
    F(gt_series, close)         \
    F(gt_series, volume)        \
    F(gt_series, n)             \
    F(gt_series, cap)           \
    /* csv */                   \
    /* store */                 \
    S(gt_store_entry)           \
    F(gt_store_entry, symbol)   \
    F(gt_store_entry, timeframe) \
    F(gt_store_entry, count)    \
    F(gt_store_entry, first)    \
    F(gt_store_entry, last)     \
    /* http, providers */       \
    S(gt_http_resp)                        \
    F(gt_http_resp, status)                \
    F(gt_http_resp, attempts)              \
    F(gt_http_resp, bytes)                 \
    F(gt_http_resp, waited_s)              \
    F(gt_http_resp, elapsed_s)             \
    F(gt_http_resp, retry_after_s)         \
    F(gt_http_resp, body)                  \
    F(gt_http_resp, headers)               \
    S(gt_provider_page)                    \
    F(gt_provider_page, bars)              \
    F(gt_provider_page, skipped_null)      \
    F(gt_provider_page, dropped_out_of_range)\
    F(gt_provider_page, has_next)          \
    F(gt_provider_page, next_token)        \
    /* indicators */

#define LAYOUT_S(t) {#t, NULL, -1, (int64_t)sizeof(t)},
#define LAYOUT_F(t, f) {#t, #f, (int64_t)offsetof(t, f), (int64_t)sizeof(((t *)0)->f)},
static const gt_layout layout_table[] = {GT_LAYOUT_STRUCTS(LAYOUT_S, LAYOUT_F)};
#undef LAYOUT_S
#undef LAYOUT_F

int64_t gt_layout_table(const gt_layout **out)
{
    *out = layout_table;
    return (int64_t)(sizeof layout_table / sizeof layout_table[0]);
}
