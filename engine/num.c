/*
 * num.c: decimal to double with Clinger's fast path. When the decimal mantissa m is an
 * integer <= 2^53 and the power of ten p satisfies |p| <= 22, both m and 10^|p| are
 * exact doubles, so one IEEE multiply or divide (correctly rounded) gives the same
 * double as an exact conversion, i.e. as strtod. That covers ordinary price and volume
 * text. Anything else (more than 19 significant digits, a bigger mantissa, a bigger
 * exponent) falls back to strtod on a NUL-terminated copy: rare, correct, counted.
 * Assumes round-to-nearest and double evaluation (FLT_EVAL_METHOD 0: x86-64 SSE, arm64).
 */
#include "num.h"

#include <stdlib.h>
#include <string.h>

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static const uint64_t pow10_u64[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                      100000000};

static int64_t fallbacks;

/* Appends the digits at p (before e) to *m (wrapping past 19 digits; callers count digits
 * and take the careful path then) and returns where they end. Eight bytes at a time when
 * the line has them: prices are short runs, and a byte loop per digit was the reader's
 * single biggest cost. The SWAR steps are the well-known ones (fast_float, simdjson):
 * find the first non-digit byte, then combine up to eight digit values in three
 * multiplies. Bytes after the run may be anything; they are shifted out. */
static inline const char *digit_run(const char *p, const char *e, uint64_t *m)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (e - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        /* a byte b is a digit iff its high nibble is 3 before and after adding 6; a carry
         * out of a byte only comes from a non-digit, and only bytes after the first
         * non-digit are affected, which do not count */
        uint64_t bad = ((x & UINT64_C(0xF0F0F0F0F0F0F0F0)) ^ UINT64_C(0x3030303030303030)) |
                       (((x + UINT64_C(0x0606060606060606)) & UINT64_C(0xF0F0F0F0F0F0F0F0)) ^
                        UINT64_C(0x3030303030303030));
        int n = bad ? __builtin_ctzll(bad) >> 3 : 8;
        if (n == 0)
            return p;
        /* digit values, first digit in the lowest byte; shifting left drops the bytes
         * after the run and leaves zero digits in front, which do not change the value */
        uint64_t d = (x - UINT64_C(0x3030303030303030)) << (8 * (8 - n));
        d = d * 10 + (d >> 8);
        d = (((d & UINT64_C(0x000000FF000000FF)) * UINT64_C(0x000F424000000064)) +
             (((d >> 16) & UINT64_C(0x000000FF000000FF)) * UINT64_C(0x0000271000000001))) >>
            32;
        *m = *m * pow10_u64[n] + (uint32_t)d;
        p += n;
        if (n < 8)
            return p;
    }
#endif
    unsigned dd;
    while (p < e && (dd = (unsigned)(*p - '0')) <= 9) {
        *m = *m * 10 + dd;
        p++;
    }
    return p;
}

int64_t gt_num_fallbacks(void)
{
    return __atomic_load_n(&fallbacks, __ATOMIC_RELAXED);
}

/* The text has already matched the grammar, so strtod consumes all of it; the copy is
 * only there because s is not NUL-terminated (it points into a mapped file). */
static int slow(const char *s, size_t len, double *out)
{
    char small[128];
    char *buf = len < sizeof small ? small : malloc(len + 1);
    if (!buf)
        return GT_ENOMEM;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    double v = strtod(buf, &end);
    int ok = end == buf + len;
    if (buf != small)
        free(buf);
    if (!ok)
        return GT_EPARSE;
    __atomic_fetch_add(&fallbacks, 1, __ATOMIC_RELAXED);
    *out = v;
    return GT_OK;
}

/* The general case: more than 19 significant digits. Keeps the first 19, notes whether any
 * dropped digit is non-zero, and uses the exact path only when nothing was lost. */
static int careful(const char *s, size_t len, double *out)
{
    const char *p = s, *e = s + len;
    int neg = 0;
    if (p < e && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    uint64_t m = 0;
    int nd = 0;       /* significant digits kept in m (at most 19 fit in uint64) */
    int lost = 0;     /* a non-zero digit did not fit in m */
    int any = 0;      /* saw at least one mantissa digit */
    int64_t p10 = 0;  /* decimal exponent of m */
    unsigned d;
    for (; p < e && (d = (unsigned)(*p - '0')) <= 9; p++) {
        any = 1;
        if (nd < 19) {
            m = m * 10 + d;
            nd += m != 0; /* leading zeros are not significant */
        } else {
            p10++;
            lost |= d != 0;
        }
    }
    if (p < e && *p == '.') {
        for (p++; p < e && (d = (unsigned)(*p - '0')) <= 9; p++) {
            any = 1;
            if (nd < 19) {
                m = m * 10 + d;
                nd += m != 0;
                p10--;
            } else {
                lost |= d != 0;
            }
        }
    }
    if (!any)
        return GT_EPARSE;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < e && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p >= e || (unsigned)(*p - '0') > 9)
            return GT_EPARSE;
        int64_t x = 0;
        for (; p < e && (d = (unsigned)(*p - '0')) <= 9; p++)
            if (x < 100000000) /* saturate: far beyond any double, strtod decides */
                x = x * 10 + d;
        p10 += eneg ? -x : x;
    }
    if (p != e)
        return GT_EPARSE;
    if (m == 0 && !lost) {
        *out = neg ? -0.0 : 0.0;
        return GT_OK;
    }
    if (!lost && m <= (UINT64_C(1) << 53) && p10 >= -22 && p10 <= 22) {
        double v = (double)m;
        v = p10 < 0 ? v / pow10_exact[-p10] : v * pow10_exact[p10];
        *out = neg ? -v : v;
        return GT_OK;
    }
    return slow(s, len, out);
}

const char *gt_num_scan(const char *s, const char *e, double *out)
{
    const char *p = s;
    int neg = 0;
    unsigned d;
    if (p < e && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    const char *m0 = p;
    while (p < e && *p == '0') /* leading zeros are not significant */
        p++;
    const char *ip = p;
    uint64_t m = 0; /* wraps when there are more than 19 digits; then careful() decides */
    p = digit_run(p, e, &m);
    int nsig = (int)(p - ip);
    int any = p > m0;
    int64_t p10 = 0;
    if (p < e && *p == '.') {
        const char *fp = ++p;
        if (nsig == 0)
            while (p < e && *p == '0')
                p++;
        const char *fs = p;
        p = digit_run(p, e, &m);
        nsig += (int)(p - fs);
        p10 = -(int64_t)(p - fp);
        any |= p > fp;
    }
    if (!any)
        return NULL;
    if (p < e && (*p == 'e' || *p == 'E')) {
        const char *q = p + 1;
        int eneg = 0;
        if (q < e && (*q == '+' || *q == '-'))
            eneg = *q++ == '-';
        if (q < e && (unsigned)(*q - '0') <= 9) { /* else the 'e' is not part of the number */
            int64_t x = 0;
            for (; q < e && (d = (unsigned)(*q - '0')) <= 9; q++)
                if (x < 100000000) /* saturate: far beyond any double, strtod decides */
                    x = x * 10 + d;
            p10 += eneg ? -x : x;
            p = q;
        }
    }
    if (nsig > 19)
        return careful(s, (size_t)(p - s), out) == GT_OK ? p : NULL;
    if (m == 0) {
        *out = neg ? -0.0 : 0.0;
        return p;
    }
    if (m <= (UINT64_C(1) << 53) && p10 >= -22 && p10 <= 22) {
        double v = (double)(int64_t)m; /* signed: one instruction, exact below 2^53 */
        v = p10 < 0 ? v / pow10_exact[-p10] : v * pow10_exact[p10];
        *out = neg ? -v : v;
        return p;
    }
    return slow(s, (size_t)(p - s), out) == GT_OK ? p : NULL;
}

int gt_num_parse(const char *s, size_t len, double *out)
{
    double v;
    const char *e = s + len;
    if (gt_num_scan(s, e, &v) != e)
        return GT_EPARSE;
    *out = v;
    return GT_OK;
}
