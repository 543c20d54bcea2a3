/*
 * tap.h: a minimal TAP producer for the C unit tests. Each test binary prints
 * "ok N - name" / "not ok N - name" lines and a plan; tests/run.lua counts them.
 */
#ifndef GT_TAP_H
#define GT_TAP_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define TAP_FN __attribute__((unused)) static

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
    tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_dbl(got, want, tol, ...) tap_is_dbl((got), (want), (tol), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define skip(reason, ...) tap_skip(reason, __VA_ARGS__)

TAP_FN void tap_name(const char *fmt, va_list ap) { vprintf(fmt, ap); }

#include <stdarg.h>
__attribute__((format(printf, 4, 5))) TAP_FN int tap_ok(int pass, const char *file, int line,
                                                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%sok %d - ", pass ? "" : "not ", ++tap_n);
    tap_name(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!pass) {
        tap_failed++;
        printf("#   failed at %s:%d\n", file, line);
    }
    return pass;
}

__attribute__((format(printf, 5, 6))) TAP_FN int tap_is_int(long long got, long long want,
                                                            const char *file, int line,
                                                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int pass = got == want;
    printf("%sok %d - ", pass ? "" : "not ", ++tap_n);
    tap_name(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!pass) {
        tap_failed++;
        printf("#   failed at %s:%d: got %lld, want %lld\n", file, line, got, want);
    }
    return pass;
}

/* Equal within tol (absolute), or both NaN. */
__attribute__((format(printf, 6, 7))) TAP_FN int tap_is_dbl(double got, double want, double tol,
                                                            const char *file, int line,
                                                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int pass = (isnan(got) && isnan(want)) || fabs(got - want) <= tol;
    printf("%sok %d - ", pass ? "" : "not ", ++tap_n);
    tap_name(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!pass) {
        tap_failed++;
        printf("#   failed at %s:%d: got %.17g, want %.17g\n", file, line, got, want);
    }
    return pass;
}

__attribute__((format(printf, 5, 6))) TAP_FN int tap_is_str(const char *got, const char *want,
                                                            const char *file, int line,
                                                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int pass = got && want && strcmp(got, want) == 0;
    printf("%sok %d - ", pass ? "" : "not ", ++tap_n);
    tap_name(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!pass) {
        tap_failed++;
        printf("#   failed at %s:%d: got \"%s\", want \"%s\"\n", file, line, got ? got : "(null)",
               want ? want : "(null)");
    }
    return pass;
}

__attribute__((format(printf, 2, 3))) TAP_FN void tap_skip(const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("ok %d - ", ++tap_n);
    tap_name(fmt, ap);
    printf(" # SKIP %s\n", reason);
    va_end(ap);
}

TAP_FN int done_testing(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
