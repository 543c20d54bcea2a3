/* clock.c: a simulated clock moves only forwards and only when told (messages name both
 * times), the real clocks agree with time() and never step back, sleep_until on a simulated
 * clock returns at once with the clock moved, and on a real one sleeps about as long as
 * asked and stops within a slice (50 ms) of the interrupt flag, whether a signal or another
 * thread raises it. */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "clock.h"
#include "tap.h"

static double secs(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* 2025-01-01T00:00:00Z = 20089 days * 86400 s */
#define T2025 INT64_C(1735689600000000)

static void test_sim(void)
{
    gt_clock *c = gt_clock_new(GT_CLOCK_SIM, T2025);
    ok(c != NULL, "sim clock made");
    is_int(gt_clock_kind(c), GT_CLOCK_SIM, "kind sim");
    is_str(gt_clock_kind_name(gt_clock_kind(c)), "sim", "kind name sim");
    is_int(gt_clock_now(c), T2025, "starts at start_us");
    is_int(gt_clock_now(c), T2025, "and stays there: nothing moves it but set/advance");
    is_int(gt_clock_set(c, T2025 + 5), GT_OK, "set forwards");
    is_int(gt_clock_now(c), T2025 + 5, "now is the time set");
    is_int(gt_clock_set(c, T2025 + 5), GT_OK, "set to the same time is allowed");
    is_int(gt_clock_advance(c, 1000000), GT_OK, "advance 1 s");
    is_int(gt_clock_now(c), T2025 + 1000005, "now moved by 1 s");
    is_int(gt_clock_advance(c, 0), GT_OK, "advance 0 is allowed");

    is_int(gt_clock_set(c, T2025), GT_EINVAL, "set backwards refused");
    is_int(gt_errcode(), GT_EINVAL, "error code is the one returned");
    ok(strstr(gt_errmsg(), "from 1735689601000005 (2025-01-01T00:00:01.000005Z)") &&
           strstr(gt_errmsg(), "back to 1735689600000000 (2025-01-01T00:00:00Z)"),
       "message says from what to what: %s", gt_errmsg());
    is_int(gt_clock_now(c), T2025 + 1000005, "clock unchanged by the refused set");
    is_int(gt_clock_advance(c, -1), GT_EINVAL, "advance by a negative amount refused");
    ok(strstr(gt_errmsg(), "advance by -1 us") != NULL, "message names the amount: %s",
       gt_errmsg());
    is_int(gt_clock_now(c), T2025 + 1000005, "clock unchanged by the refused advance");
    is_int(gt_clock_advance(c, INT64_MAX), GT_ERANGE, "advance past INT64_MAX refused");
    is_int(gt_clock_now(c), T2025 + 1000005, "clock unchanged by the overflow");

    /* sleep_until on sim does not sleep: an hour "passes" in well under a second */
    double t0 = secs();
    is_int(gt_clock_sleep_until(c, T2025 + INT64_C(3600000000)), GT_OK, "sim sleep_until ok");
    ok(secs() - t0 < 0.05, "sim sleep_until returns at once (%.3f s)", secs() - t0);
    is_int(gt_clock_now(c), T2025 + INT64_C(3600000000), "sim sleep_until set the clock to us");
    is_int(gt_clock_sleep_until(c, T2025), GT_OK, "sim sleep_until a past time is ok");
    is_int(gt_clock_now(c), T2025 + INT64_C(3600000000), "and does not move the clock back");
    gt_clock_free(c);
    gt_clock_free(NULL); /* accepted */

    ok(gt_clock_new(3, 0) == NULL, "unknown kind refused");
    is_int(gt_errcode(), GT_EINVAL, "with GT_EINVAL");
    ok(strstr(gt_errmsg(), "kind 3") != NULL, "naming the kind: %s", gt_errmsg());
    ok(gt_clock_new(-1, 0) == NULL, "negative kind refused");
}

static void test_real(void)
{
    gt_clock *w = gt_clock_new(GT_CLOCK_WALL, 12345);
    is_int(gt_clock_kind(w), GT_CLOCK_WALL, "kind wall");
    int64_t t = (int64_t)time(NULL) * 1000000;
    int64_t n = gt_clock_now(w);
    ok(n > t - 2000000 && n < t + 2000000, "wall within 2 s of time(): %lld vs %lld", (long long)n,
       (long long)t);
    is_int(gt_clock_set(w, n + 1000000), GT_ESTATE, "set on a wall clock refused");
    ok(strstr(gt_errmsg(), "wall clock") != NULL, "saying which kind: %s", gt_errmsg());
    is_int(gt_clock_advance(w, 1), GT_ESTATE, "advance on a wall clock refused");

    gt_clock *m = gt_clock_new(GT_CLOCK_MONOTONIC, 0);
    is_str(gt_clock_kind_name(gt_clock_kind(m)), "monotonic", "kind monotonic");
    int64_t prev = gt_clock_now(m), back = 0;
    for (int i = 0; i < 100000; i++) {
        int64_t x = gt_clock_now(m);
        back += x < prev;
        prev = x;
    }
    is_int(back, 0, "monotonic never steps back over 100000 reads");
    double t0 = secs();
    int64_t m0 = gt_clock_now(m);
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    int64_t dm = gt_clock_now(m) - m0;
    double ds = (secs() - t0) * 1e6;
    ok(dm >= 20000 && dm <= ds + 1000, "monotonic measures a 20 ms sleep: %lld us (%.0f us)",
       (long long)dm, ds);
    is_int(gt_clock_set(m, 0), GT_ESTATE, "set on a monotonic clock refused");

    /* sleep_until on the wall clock: 150 ms, neither early nor much late */
    t0 = secs();
    is_int(gt_clock_sleep_until(w, gt_clock_now(w) + 150000), GT_OK, "wall sleep_until 150 ms ok");
    double took = secs() - t0;
    ok(took >= 0.145 && took < 1.0, "slept about 150 ms: %.3f s", took);
    t0 = secs();
    is_int(gt_clock_sleep_until(w, gt_clock_now(w) - 1000000), GT_OK, "a past time is ok");
    ok(secs() - t0 < 0.01, "and does not sleep");
    t0 = secs();
    is_int(gt_clock_sleep_until(m, gt_clock_now(m) + 60000), GT_OK, "monotonic sleep_until ok");
    ok(secs() - t0 >= 0.059, "slept 60 ms on the monotonic clock: %.3f s", secs() - t0);
    gt_clock_free(m);
    gt_clock_free(w);
}

static void on_alarm(int sig)
{
    (void)sig;
    gt_interrupted = 1; /* what the host's SIGINT handler does */
}

static void *raise_later(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
    gt_interrupted = 1;
    return NULL;
}

static void test_interrupt(void)
{
    gt_clock *w = gt_clock_new(GT_CLOCK_WALL, 0);
    /* A signal 200 ms into a 30 s sleep: nanosleep returns EINTR and the flag is seen. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* as the host installs it: nanosleep is never restarted */
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 200000}};
    setitimer(ITIMER_REAL, &it, NULL);
    double t0 = secs();
    is_int(gt_clock_sleep_until(w, gt_clock_now(w) + INT64_C(30000000)), GT_EINTR,
           "a signal ends a 30 s sleep with GT_EINTR");
    double took = secs() - t0;
    ok(took >= 0.15 && took < 0.5, "within a slice of the signal: %.3f s", took);
    ok(strstr(gt_errmsg(), "interrupted while sleeping until") != NULL, "message: %s", gt_errmsg());

    /* Raised by another thread (no signal reaches this one): seen within a 50 ms slice. */
    gt_clear_interrupt();
    pthread_t th;
    pthread_create(&th, NULL, raise_later, NULL);
    t0 = secs();
    is_int(gt_clock_sleep_until(w, gt_clock_now(w) + INT64_C(30000000)), GT_EINTR,
           "the flag alone ends a 30 s sleep");
    took = secs() - t0;
    pthread_join(th, NULL);
    ok(took >= 0.19 && took < 0.2 + 0.05 + 0.2, "within one slice of the flag: %.3f s", took);

    /* Already raised: no sleep at all, on any kind. */
    t0 = secs();
    is_int(gt_clock_sleep_until(w, gt_clock_now(w) + INT64_C(30000000)), GT_EINTR,
           "a raised flag refuses to start sleeping");
    ok(secs() - t0 < 0.01, "at once");
    gt_clock *s = gt_clock_new(GT_CLOCK_SIM, 0);
    is_int(gt_clock_sleep_until(s, 100), GT_EINTR, "a simulated clock too (a replay stops)");
    is_int(gt_clock_now(s), 0, "without moving");
    gt_clear_interrupt();
    gt_clock_free(s);
    gt_clock_free(w);
}

static void test_current(void)
{
    gt_clock *s = gt_clock_new(GT_CLOCK_SIM, T2025);
    ok(gt_clock_current() == NULL, "the wall clock is current at start");
    int64_t t = (int64_t)time(NULL) * 1000000;
    int64_t n = gt_time_now_us();
    ok(n > t - 2000000 && n < t + 2000000, "gt_time_now_us reads the wall clock");
    gt_clock_use(s);
    ok(gt_clock_current() == s, "use makes it current");
    is_int(gt_time_now_us(), T2025, "gt_time_now_us reads the simulated clock");
    gt_clock_advance(s, 7);
    is_int(gt_time_now_us(), T2025 + 7, "and follows it");
    gt_clock_use(NULL);
    ok(gt_clock_current() == NULL, "use(NULL) puts the wall clock back");
    n = gt_time_now_us();
    ok(n > t - 2000000 && n < t + 4000000, "gt_time_now_us is wall time again");
    gt_clock_use(s);
    gt_clock_free(s);
    ok(gt_clock_current() == NULL, "freeing the current clock puts the wall clock back");
    n = gt_time_now_us();
    ok(n > t - 2000000 && n < t + 4000000, "so nothing reads freed memory");
}

int main(void)
{
    test_sim();
    test_real();
    test_interrupt();
    test_current();
    printf("1..%d\n", tap_n);
    return tap_failed != 0;
}
