/*
 * clock.c: see clock.h. tests/c/test_clock.c checks each kind; tests/lua/clock_spec.lua the
 * Lua face, the timers built on it and a sleep cut short by SIGINT.
 */
#include "clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct gt_clock {
    int32_t kind;
    int64_t sim_us; /* the simulated clock's time; unused by the real kinds */
};

/* Borrowed, never owned: gt_clock_free clears it so it cannot dangle. */
static gt_clock *current;

static int64_t read_us(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Text for a time in messages: "1735689600000000 (2025-01-01T00:00:00Z)". */
static const char *show(int64_t us, char *buf, size_t size)
{
    char iso[48];
    gt_time_format(us, 0, iso, sizeof iso);
    snprintf(buf, size, "%lld (%s)", (long long)us, iso);
    return buf;
}

gt_clock *gt_clock_new(int32_t kind, int64_t start_us)
{
    if (kind < 0 || kind >= GT_CLOCK_KIND_COUNT) {
        gt_seterr(GT_EINVAL, "clock: kind %d is not wall (0), monotonic (1) or sim (2)", (int)kind);
        return NULL;
    }
    gt_clock *c = malloc(sizeof *c);
    if (!c) {
        gt_seterr(GT_ENOMEM, "clock: out of memory");
        return NULL;
    }
    c->kind = kind;
    c->sim_us = kind == GT_CLOCK_SIM ? start_us : 0;
    return c;
}

void gt_clock_free(gt_clock *c)
{
    if (!c)
        return;
    if (current == c)
        current = NULL;
    free(c);
}

int64_t gt_clock_now(const gt_clock *c)
{
    switch (c->kind) {
    case GT_CLOCK_MONOTONIC:
        return read_us(CLOCK_MONOTONIC);
    case GT_CLOCK_SIM:
        return c->sim_us;
    default:
        return read_us(CLOCK_REALTIME);
    }
}

int32_t gt_clock_kind(const gt_clock *c)
{
    return c->kind;
}

const char *gt_clock_kind_name(int32_t kind)
{
    switch (kind) {
    case GT_CLOCK_WALL:
        return "wall";
    case GT_CLOCK_MONOTONIC:
        return "monotonic";
    case GT_CLOCK_SIM:
        return "sim";
    default:
        return "unknown";
    }
}

int gt_clock_set(gt_clock *c, int64_t us)
{
    if (c->kind != GT_CLOCK_SIM)
        return gt_seterr(GT_ESTATE, "clock: set on a %s clock: only a simulated clock can be set",
                         gt_clock_kind_name(c->kind));
    if (us < c->sim_us) {
        char from[80], to[80];
        return gt_seterr(GT_EINVAL,
                         "clock: set from %s back to %s: a simulated clock never runs backwards",
                         show(c->sim_us, from, sizeof from), show(us, to, sizeof to));
    }
    c->sim_us = us;
    return GT_OK;
}

int gt_clock_advance(gt_clock *c, int64_t dus)
{
    if (c->kind != GT_CLOCK_SIM)
        return gt_seterr(GT_ESTATE,
                         "clock: advance on a %s clock: only a simulated clock can be advanced",
                         gt_clock_kind_name(c->kind));
    if (dus < 0) {
        char from[80];
        return gt_seterr(GT_EINVAL,
                         "clock: advance by %lld us from %s: a simulated clock never runs "
                         "backwards",
                         (long long)dus, show(c->sim_us, from, sizeof from));
    }
    if (c->sim_us > INT64_MAX - dus)
        return gt_seterr(GT_ERANGE, "clock: advance by %lld us from %lld passes the largest time",
                         (long long)dus, (long long)c->sim_us);
    c->sim_us += dus;
    return GT_OK;
}

int gt_clock_sleep_until(gt_clock *c, int64_t us)
{
    if (gt_interrupted)
        return gt_seterr(GT_EINTR, "clock: interrupted before sleeping");
    if (c->kind == GT_CLOCK_SIM) {
        if (us > c->sim_us)
            c->sim_us = us;
        return GT_OK;
    }
    /* Each pass either returns or sleeps at most one slice and then reads the clock again,
     * so the loop ends when the clock reaches us or the flag is raised, whichever is first;
     * nanosleep cut short by a signal (EINTR) just goes round again to look at the flag. */
    for (;;) {
        int64_t now = gt_clock_now(c);
        if (now >= us)
            return GT_OK;
        /* us > now >= 0 cannot overflow; a wall clock set before 1970 just sleeps a slice. */
        int64_t left = now >= 0 ? us - now : GT_CLOCK_SLEEP_SLICE_US;
        if (left > GT_CLOCK_SLEEP_SLICE_US)
            left = GT_CLOCK_SLEEP_SLICE_US;
        struct timespec ts = {(time_t)(left / 1000000), (long)(left % 1000000) * 1000};
        if (nanosleep(&ts, NULL) != 0 && errno != EINTR)
            return gt_seterr(GT_EIO, "clock: nanosleep failed (errno %d)", errno);
        if (gt_interrupted) {
            char until[80];
            return gt_seterr(GT_EINTR, "clock: interrupted while sleeping until %s",
                             show(us, until, sizeof until));
        }
    }
}

void gt_clock_use(gt_clock *c)
{
    current = c;
}

gt_clock *gt_clock_current(void)
{
    return current;
}

int64_t gt_time_now_us(void)
{
    gt_clock *c = current;
    return c ? gt_clock_now(c) : read_us(CLOCK_REALTIME);
}
