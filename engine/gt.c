/*
 * gt.c: status codes, the per-thread last-error message, version and the struct layout
 * table that gt.ffi checks against LuaJIT's view of gt_ffi.h.
 */
#include "gt.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <stdio.h>
#include <time.h>

#include "gt_version.h"

static _Thread_local char errbuf[1024];
static _Thread_local int errcode;

volatile int gt_interrupted;

int gt_seterr(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    errcode = code;
    return code;
}

const char *gt_errmsg(void)
{
    return errbuf;
}

int gt_errcode(void)
{
    return errcode;
}

void gt_clearerr(void)
{
    errbuf[0] = '\0';
    errcode = 0;
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

double gt_clock_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Blocks of 2 MB and more are their own mapping, 2 MB aligned so that every page of them
 * can be huge (a block that merely contains whole 2 MB pages still faults its ragged ends
 * in 4 KB at a time, up to a thousand faults a block), fresh from the kernel and so
 * already zero. The mapping's start and length sit in the 16 bytes before the block. */
#define BIG_ALIGN ((size_t)2 << 20)

void *gt_calloc_big(size_t n, size_t size)
{
    if (size && n > (SIZE_MAX - 2 * BIG_ALIGN) / size)
        return NULL;
    size_t bytes = n * size;
    if (bytes < BIG_ALIGN)
        return calloc(n ? n : 1, size ? size : 1);
    size_t len = ((bytes + BIG_ALIGN - 1) & ~(BIG_ALIGN - 1)) + BIG_ALIGN;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    char *p = (char *)(((uintptr_t)m + 16 + BIG_ALIGN - 1) & ~(uintptr_t)(BIG_ALIGN - 1));
    ((size_t *)p)[-2] = (size_t)(p - m);
    ((size_t *)p)[-1] = len;
    madvise(p, (bytes + BIG_ALIGN - 1) & ~(BIG_ALIGN - 1), MADV_HUGEPAGE); /* a hint */
    return p;
}

void gt_free_big(void *p, size_t n, size_t size)
{
    if (!p)
        return;
    if (n * size < BIG_ALIGN) {
        free(p);
        return;
    }
    size_t off = ((size_t *)p)[-2], len = ((size_t *)p)[-1];
    munmap((char *)p - off, len);
}

int gt_is_interrupted(void)
{
    return gt_interrupted != 0;
}

void gt_clear_interrupt(void)
{
    gt_interrupted = 0;
}

/* Every struct in gt_ffi.h with every field: GT_LAYOUT_STRUCTS is generated at build time
 * from the header (engine/embed.lua writes gt_layout.h), so no struct can be left out; the
 * offsets and sizes are the compiler's, which gt.ffi compares with LuaJIT's. */
#include "gt_layout.h"

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
