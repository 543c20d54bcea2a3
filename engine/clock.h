/*
 * clock.h: the one clock every slice reads. A gt_clock is the wall clock (CLOCK_REALTIME,
 * epoch microseconds UTC), a monotonic clock (CLOCK_MONOTONIC microseconds: for measuring,
 * not a date) or a simulated clock that only set/advance move (backtests and replays, so
 * they run the same code as live at any speed). sleep_until is the only wait: on a real
 * clock it sleeps in slices that watch gt_interrupted, on a simulated one it moves the clock.
 * The caller owns each clock (gt_clock_new / gt_clock_free). One clock can be made the
 * process's current clock, which gt_time_now_us (and gt.time.now) reads; it is borrowed,
 * not owned, and freeing it puts the wall clock back. Uses only libc.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_CLOCK_H
#define GT_CLOCK_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- clock (clock.c): wall, monotonic and simulated time in epoch microseconds ---- */
enum gt_clock_kind {
    GT_CLOCK_WALL = 0,      /* CLOCK_REALTIME: epoch microseconds UTC */
    GT_CLOCK_MONOTONIC = 1, /* CLOCK_MONOTONIC microseconds: durations, never a date */
    GT_CLOCK_SIM = 2,       /* simulated: starts at start_us, moved only by set/advance */
    GT_CLOCK_KIND_COUNT = 3
};
/* gt_clock_sleep_until slices its sleep so a raised interrupt flag is seen this soon. */
enum { GT_CLOCK_SLEEP_SLICE_US = 50000 };
typedef struct gt_clock gt_clock;
/* A new clock of kind; start_us is the simulated clock's first time (ignored by the real
 * kinds). NULL with gt_errmsg() for an unknown kind (GT_EINVAL) or no memory. */
gt_clock *gt_clock_new(int32_t kind, int64_t start_us);
/* Accepts NULL. When c is the current clock, the wall clock becomes current again. */
void gt_clock_free(gt_clock *c);
/* Now on c in microseconds (epoch UTC for the wall and simulated kinds). */
int64_t gt_clock_now(const gt_clock *c);
int32_t gt_clock_kind(const gt_clock *c);
/* "wall", "monotonic", "sim", or "unknown". */
const char *gt_clock_kind_name(int32_t kind);
/* Simulated clocks only (GT_ESTATE on a real one): moves c to us. Time never runs
 * backwards: us before now is GT_EINVAL with both times in the message, and c unchanged. */
int gt_clock_set(gt_clock *c, int64_t us);
/* gt_clock_set(c, now + dus): dus < 0 is GT_EINVAL, past INT64_MAX GT_ERANGE. */
int gt_clock_advance(gt_clock *c, int64_t dus);
/* Waits until c reads us or later. Real clocks sleep (nanosleep, in slices of at most
 * GT_CLOCK_SLEEP_SLICE_US) and return GT_EINTR as soon as they see gt_interrupted (SIGINT,
 * SIGTERM) raised, before or during the wait; a wall clock stepped back just means more
 * sleep. A simulated clock does not sleep: it is set to us (a replay runs at full speed).
 * A time already past returns GT_OK at once on every kind (a simulated clock is not moved
 * back). Returns GT_OK when c reads us or later. */
int gt_clock_sleep_until(gt_clock *c, int64_t us);
/* Makes c the process's current clock (borrowed: the caller keeps it alive, or frees it,
 * which also undoes this); NULL makes the wall clock current. One per process, like the
 * interrupt flag: a backtest that needs its own time passes its own gt_clock around. */
void gt_clock_use(gt_clock *c);
/* The current clock, or NULL when it is the wall clock. */
gt_clock *gt_clock_current(void);
/* Now on the current clock in microseconds: what gt.time.now() returns. */
int64_t gt_time_now_us(void);
/* ---- end ffi ---- */

#endif
