/*
 * gt.c: status codes, the per-thread last-error message, version and the struct layout
 * table that gt.ffi checks against LuaJIT's view of gt_ffi.h.
 */
#include "gt.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
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

/* Blocks of 512 KB and more are their own mapping, rounded up to and aligned on 2 MB so
 * that every page of them can be huge (a block that merely contains whole 2 MB pages still faults its ragged ends
 * in 4 KB at a time, up to a thousand faults a block). The mapping's start and length sit
 * in the 16 bytes before the block.
 *
 * After gt_mem_keep(1) freed blocks are kept (a few, per mapping length) and handed out
 * again: a search frees and allocates the same arrays for every combination, and on a
 * virtual machine the kernel's zeroing of fresh pages and their faults were a third of a
 * million-bar search. A kept block given out by gt_alloc_big is not cleared at all (its
 * user writes every value); gt_calloc_big clears it. The list is the process's, like
 * malloc's own, behind a mutex. */
#define BIG_ALIGN ((size_t)2 << 20)
#define BIG_MIN ((size_t)512 << 10) /* from here a block is a mapping of its own */
#define BIG_KEEP 16

static pthread_mutex_t big_mu = PTHREAD_MUTEX_INITIALIZER;
static int big_keep;
static int big_nkept;
static char *big_kept[BIG_KEEP];

static size_t big_len(size_t bytes)
{
    return ((bytes + BIG_ALIGN - 1) & ~(BIG_ALIGN - 1)) + BIG_ALIGN;
}

/* A block of bytes >= BIG_ALIGN; *fresh: 1 when newly mapped (so zero). */
static void *big_get(size_t bytes, int *fresh)
{
    size_t len = big_len(bytes);
    char *p = NULL;
    pthread_mutex_lock(&big_mu);
    for (int i = big_nkept - 1; i >= 0; i--)
        if (((size_t *)big_kept[i])[-1] == len) {
            p = big_kept[i];
            big_kept[i] = big_kept[--big_nkept];
            break;
        }
    pthread_mutex_unlock(&big_mu);
    *fresh = p == NULL;
    if (p)
        return p;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    p = (char *)(((uintptr_t)m + 16 + BIG_ALIGN - 1) & ~(uintptr_t)(BIG_ALIGN - 1));
    ((size_t *)p)[-2] = (size_t)(p - m);
    ((size_t *)p)[-1] = len;
    madvise(p, len - BIG_ALIGN, MADV_HUGEPAGE); /* a hint */
    return p;
}

void gt_mem_keep(int32_t on)
{
    pthread_mutex_lock(&big_mu);
    big_keep = on != 0;
    pthread_mutex_unlock(&big_mu);
}

void *gt_calloc_big(size_t n, size_t size)
{
    if (size && n > (SIZE_MAX - 2 * BIG_ALIGN) / size)
        return NULL;
    size_t bytes = n * size;
    if (bytes < BIG_MIN)
        return calloc(n ? n : 1, size ? size : 1);
    int fresh;
    void *p = big_get(bytes, &fresh);
    if (p && !fresh)
        memset(p, 0, bytes);
    return p;
}

void *gt_alloc_big(size_t n, size_t size)
{
    if (size && n > (SIZE_MAX - 2 * BIG_ALIGN) / size)
        return NULL;
    size_t bytes = n * size;
    if (bytes < BIG_MIN)
        return malloc(bytes ? bytes : 1);
    int fresh;
    return big_get(bytes, &fresh);
}

void gt_free_big(void *p, size_t n, size_t size)
{
    if (!p)
        return;
    if (n * size < BIG_MIN) {
        free(p);
        return;
    }
    pthread_mutex_lock(&big_mu);
    if (big_keep && big_nkept < BIG_KEEP) {
        big_kept[big_nkept++] = p;
        p = NULL;
    }
    pthread_mutex_unlock(&big_mu);
    if (p) {
        size_t off = ((size_t *)p)[-2], len = ((size_t *)p)[-1];
        munmap((char *)p - off, len);
    }
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
