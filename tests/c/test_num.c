/* num.c against the C library's strtod: every accepted text must give the same bits, and
 * the accept/reject decision must match "strtod consumes all of it and it is plain
 * decimal". Covers hand-picked edge cases, a seeded random sweep and every field of every
 * file in ../shared/data (skipped with a reason when that directory is absent). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "tap.h"

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* The reference: strtod's own verdict, limited to plain decimal text (strtod also takes
 * hex, inf, nan and leading blanks, which a CSV field must not be). */
static int ref_parse(const char *s, size_t n, double *out)
{
    char buf[512];
    if (n == 0 || n >= sizeof buf)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789+-.eE", s[i]) || s[i] == '\0')
            return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return end == buf + n ? 0 : -1;
}

/* 0 when ours and the reference agree on acceptance and, if accepted, on the bits. */
static int agree(const char *s, size_t n)
{
    double a = 0, b = 0;
    int ra = gt_num_parse(s, n, &a) == GT_OK ? 0 : -1;
    int rb = ref_parse(s, n, &b);
    if (ra != rb)
        return 1;
    return ra == 0 && !same_bits(a, b);
}

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Random decimal text in many shapes: signs, leading zeros, 1-30 digits with a point
 * anywhere (or none), exponents up to +-400, occasional junk. */
static size_t random_number(char *b)
{
    size_t n = 0;
    uint64_t r = next();
    if (r % 4 == 0)
        b[n++] = r % 8 == 0 ? '-' : '+';
    int zeros = (int)(next() % 4 == 0 ? next() % 5 : 0);
    for (int i = 0; i < zeros; i++)
        b[n++] = '0';
    int nd = 1 + (int)(next() % 30);
    int point = (int)(next() % (uint64_t)(nd + 2)) - 1; /* -1: none */
    for (int i = 0; i < nd; i++) {
        if (i == point)
            b[n++] = '.';
        b[n++] = (char)('0' + next() % 10);
    }
    if (point == nd)
        b[n++] = '.';
    if (next() % 3 == 0) {
        b[n++] = next() % 2 ? 'e' : 'E';
        uint64_t k = next() % 3;
        if (k)
            b[n++] = k == 1 ? '-' : '+';
        n += (size_t)sprintf(b + n, "%d", (int)(next() % 400));
    }
    if (next() % 50 == 0) /* junk somewhere */
        b[next() % n] = "x.e+- "[next() % 6];
    b[n] = '\0';
    return n;
}

/* Every field of every file under dir (recursively one level: dir/ * / *). */
static void sweep_shared(const char *root)
{
    DIR *d = opendir(root);
    if (!d) {
        skip("needs ../shared/data (reference data, not present in this clone)",
             "every numeric field of ../shared/data agrees with strtod");
        return;
    }
    long fields = 0, numeric = 0, bad = 0, files = 0, long_mantissa = 0;
    int64_t fb0 = gt_num_fallbacks();
    struct dirent *e;
    char firstbad[160] = "";
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%s", root, e->d_name);
        DIR *d2 = opendir(sub);
        if (!d2)
            continue;
        struct dirent *f;
        while ((f = readdir(d2))) {
            if (f->d_name[0] == '.')
                continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", sub, f->d_name);
            FILE *fp = fopen(path, "rb");
            if (!fp)
                continue;
            files++;
            char line[4096];
            while (fgets(line, sizeof line, fp)) {
                char *p = line;
                for (;;) {
                    size_t n = strcspn(p, ",\r\n");
                    fields++;
                    double v;
                    if (ref_parse(p, n, &v) == 0) {
                        numeric++;
                        long sig = 0, lead = 1;
                        for (size_t i = 0; i < n && p[i] != 'e' && p[i] != 'E'; i++) {
                            if (p[i] >= '1' && p[i] <= '9')
                                lead = 0;
                            sig += !lead && p[i] >= '0' && p[i] <= '9';
                        }
                        long_mantissa += sig > 15;
                    }
                    if (agree(p, n)) {
                        if (!bad++)
                            snprintf(firstbad, sizeof firstbad, "%.60s: '%.*s'", f->d_name,
                                     (int)(n > 60 ? 60 : n), p);
                    }
                    if (p[n] != ',')
                        break;
                    p += n + 1;
                }
            }
            fclose(fp);
        }
        closedir(d2);
    }
    closedir(d);
    ok(files >= 25, "read the %ld files of ../shared/data", files);
    ok(bad == 0 && numeric > 100000,
       "all %ld numeric fields (of %ld) in ../shared/data: same bits as strtod%s%s", numeric,
       fields, bad ? "; first mismatch " : "", firstbad);
    /* Only mantissas beyond 2^53 (16+ significant digits) may leave the fast path; in this
     * data that is BTCUSD.csv's two 17-digit volumes. */
    int64_t fb = gt_num_fallbacks() - fb0;
    ok(fb <= long_mantissa && long_mantissa <= 5,
       "strtod fallback used %lld times, only for the %ld fields with > 15 significant digits",
       (long long)fb, long_mantissa);
}

int main(void)
{
    static const char *const good[] = {
        "0", "-0", "+0", "0.0", "-0.0", "00000", "0e999999", "-0e-5", ".5", "5.", "-.5",
        "+5.", "1", "12", "3604.33", "1.750000", "0.000123", "000123.4500", "2012.25343589",
        "408720000", "1.0716", "1.07083", "20.049999", "1e22", "1e23", "9007199254740992",
        "9007199254740993", "9007199254740991", "9007199254740992.5", "900719925474099.3",
        "18446744073709551615", "18446744073709551616", "12345678901234567890123",
        "0.1", "0.2", "0.3", "0.30000000000000004", "1.7976931348623157e308",
        "1.7976931348623159e308", "1e309", "-1e400", "2.2250738585072011e-308",
        "2.2250738585072014e-308", "4.9406564584124654e-324", "2.4703282292062327e-324",
        "2.4703282292062328e-324", "1e-400", "123456789012345678e-30", "1e-22", "1e-23",
        "3.14159265358979323846264338327950288", "7.038531e-26", "1e0000000000000000000001",
        "1E5", "1e+5", "1e-5", "4503599627370496.5", "4503599627370497.5",
        "8.98846567431158e307", "0.000000000000000000000000000000000000001",
        "10000000000000000000000000000000000000000000000000000000000000001", "1.5e-7",
        "99999999999999999999", "0.99999999999999999999", "1.00000000000000000000000001",
    };
    int64_t fb0 = gt_num_fallbacks();
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *s = good[i];
        double a = -1, b = -2;
        int ra = gt_num_parse(s, strlen(s), &a);
        char *end;
        b = strtod(s, &end);
        ok(ra == GT_OK && same_bits(a, b), "'%s' -> %.17g, strtod %.17g", s, a, b);
    }
    ok(gt_num_fallbacks() - fb0 > 5, "the hard cases did take the strtod fallback (%lld times)",
       (long long)(gt_num_fallbacks() - fb0));
    double z = 1;
    gt_num_parse("-0", 2, &z);
    ok(z == 0 && signbit(z), "-0 is negative zero");

    static const char *const bad[] = {
        "", "-", "+", ".", "-.", "e5", ".e5", "1.2.3", "1e", "1e+", "1e-", "1ee5", "0x10",
        "0X1p3", "nan", "NaN", "inf", "-inf", "Infinity", " 1", "1 ", "1,5", "1_000", "--1",
        "+-1", "1e5.5", "1.5e", "abc", "12a", "1d5", "\t1", "1\n", "1\r",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *s = bad[i];
        double v = 42;
        int rc = gt_num_parse(s, strlen(s), &v);
        char shown[32];
        size_t j = 0;
        for (const char *q = s; *q && j + 3 < sizeof shown; q++)
            if (*q >= 32)
                shown[j++] = *q;
            else
                j += (size_t)snprintf(shown + j, sizeof shown - j, "\\x%02x", *q);
        shown[j] = '\0';
        ok(rc == GT_EPARSE && v == 42 && !agree(s, strlen(s)), "rejects '%s', as strtod would",
           shown);
    }
    double v;
    ok(gt_num_parse("12", 1, &v) == GT_OK && v == 1, "honours len: '12'[0..1) is 1");
    ok(gt_num_parse("1\0002", 3, &v) == GT_EPARSE, "an embedded NUL is not a number");

    /* values either side of 2^53 with the point moved: the fast path's boundary */
    int mism = 0;
    char buf[128];
    for (int64_t k = -3; k <= 3; k++)
        for (int sh = 0; sh <= 25; sh++) {
            uint64_t m = (UINT64_C(1) << 53) + (uint64_t)k;
            int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)m);
            if (sh < n) {
                memmove(buf + n - sh + 1, buf + n - sh, (size_t)sh + 1);
                buf[n - sh] = '.';
                n++;
            }
            mism += agree(buf, (size_t)n);
            n += sprintf(buf + n, "e%d", sh - 12);
            mism += agree(buf, (size_t)n);
        }
    is_int(mism, 0, "2^53 +- 3 with the point and exponent moved: all agree with strtod");

    /* every 2-4 decimal price 0.01 .. 999.99 */
    mism = 0;
    for (int i = 1; i < 100000; i++) {
        int n = snprintf(buf, sizeof buf, "%d.%02d", i / 100, i % 100);
        mism += agree(buf, (size_t)n);
        n = snprintf(buf, sizeof buf, "%d.%04d", i / 10000, i % 10000);
        mism += agree(buf, (size_t)n);
    }
    is_int(mism, 0, "every price 0.01..999.99 and 0.0001..9.9999 agrees with strtod");

    mism = 0;
    long accepted = 0;
    for (int i = 0; i < 300000; i++) {
        size_t n = random_number(buf);
        if (agree(buf, n) && mism++ < 3)
            printf("# mismatch: '%s'\n", buf);
        accepted += gt_num_parse(buf, n, &v) == GT_OK;
    }
    ok(mism == 0 && accepted > 250000,
       "300000 random decimal texts (%ld numbers): accept/reject and bits as strtod", accepted);

    /* gt_num_scan inside a line, as the CSV reader uses it: the number must end where
     * strtod's would, whatever follows (the 8-byte digit scan reads past the number). */
    mism = 0;
    for (int i = 0; i < 200000; i++) {
        size_t n = random_number(buf);
        double want, got = 0;
        if (ref_parse(buf, n, &want) != 0)
            continue;
        static const char *const tails[] = {",12.5,13,1e5\n", ";9", "\r\n", "", ",", "x1234567",
                                            ",2020-01-01,5"};
        const char *tail = tails[i % 7];
        memcpy(buf + n, tail, strlen(tail) + 1);
        const char *end = gt_num_scan(buf, buf + n + strlen(tail), &got);
        if (end != buf + n || !same_bits(got, want)) {
            if (mism++ < 3)
                printf("# scan mismatch: '%s'\n", buf);
        }
    }
    is_int(mism, 0, "gt_num_scan stops where the number ends, with the same bits, whatever follows");
    const char *e1 = "1e,2";
    ok(gt_num_scan(e1, e1 + 4, &v) == e1 + 1 && v == 1, "'1e,2': the number is '1'");
    ok(gt_num_scan(",5", ",5" + 2, &v) == NULL, "',5' does not start with a number");

    sweep_shared("../shared/data");
    return done_testing();
}
