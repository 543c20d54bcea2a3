/* json.c: the exact-number writer, the trades encoder and the cJSON tree walk. Expected
 * texts are written by hand from the rules in json.h; the shortest-digit cases are
 * Python's repr() of the same doubles (an outside shortest round-trip reference). A
 * seeded sweep checks every written number reads back to the same bits. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tap.h"

static const char *num(double x)
{
    static char buf[GT_JSON_NUMBER_MAX];
    gt_json_number(x, buf);
    return buf;
}

static void numbers(void)
{
    is_str(num(0.0), "0", "zero");
    is_str(num(-0.0), "0", "negative zero prints as 0, like Lua's %%d");
    is_str(num(100), "100", "integer without a fraction");
    is_str(num(-3), "-3", "negative integer");
    is_str(num(9007199254740991.0), "9007199254740991", "2^53 - 1 is still an integer");
    /* 2^53 + 2: %.15g gives 9.00719925474099e+15, which reads back as a different double;
     * %.16g is the first that round-trips (Python: 9007199254740994.0) */
    is_str(num(9007199254740994.0), "9007199254740994", "2^53 + 2 in 16 digits");
    is_str(num(0.1), "0.1", "0.1 in one digit");
    is_str(num(0.1 + 0.2), "0.30000000000000004", "0.1 + 0.2 needs 17 digits");
    is_str(num(1.0 / 3.0), "0.3333333333333333", "1/3 in 16 digits (Python repr)");
    is_str(num(1e300), "1e+300", "1e300");
    is_str(num(1e22), "1e+22", "1e22: integral but past 2^53, %%g form");
    is_str(num(NAN), "null", "NaN is null");
    is_str(num(INFINITY), "null", "Inf is null");
    is_str(num(-INFINITY), "null", "-Inf is null");
    /* subnormals have fewer than 15 significant digits of precision, so %.15g already
     * round-trips but is not the shortest (Python: 5e-324); exact is what matters */
    is_str(num(5e-324), "4.94065645841247e-324", "the smallest subnormal reads back exactly");
    uint64_t s = 88172645463325252ull;
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        double x;
        memcpy(&x, &s, sizeof x);
        if (!isfinite(x))
            continue;
        double y = strtod(num(x), NULL);
        if (memcmp(&x, &y, sizeof x) != 0 && !(x == 0 && y == 0))
            bad++;
    }
    is_int(bad, 0, "100000 random doubles read back to the same bits");
}

/* The printf reference the fast path must agree with: the first of %.15g, %.16g, %.17g
 * that strtod reads back as x. */
static const char *ref(double x)
{
    static char buf[64];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    return buf;
}

static void fast_path(void)
{
    /* prices with few decimals, sums that pick up noise digits, and tiny or huge values
     * around the fast path's bounds (1e-4 and 1e15) */
    is_str(num(104.205418), "104.205418", "a 6-decimal price");
    is_str(num(-0.0005), "-0.0005", "a small negative with leading zeros");
    is_str(num(0.0001), "0.0001", "1e-4 is still fixed notation");
    is_str(num(0.00001), "1e-05", "1e-5 is exponent notation, like %%g");
    is_str(num(123456789012345.6), "123456789012345.6", "16 digits, printf path");
    uint64_t s = 0x9E3779B97F4A7C15ull;
    int bad = 0, first = -1;
    for (int i = 0; i < 200000; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        double x;
        switch (i % 4) {
        case 0:
            x = (double)(int64_t)(s % 100000000) / 1e4;
            break; /* 4 decimals */
        case 1:
            x = (double)(int64_t)(s % 1000000000000ull) / 1e6;
            break; /* 6 decimals */
        case 2:
            x = ((double)(s >> 11) / 9007199254740992.0) * 2e6 - 1e6;
            break;
        default:
            x = (double)(s % 1000) / 7.0 + 0.1 * (double)(s % 13);
            break;
        }
        if (strcmp(num(x), ref(x)) != 0) {
            bad++;
            if (first < 0)
                first = i;
        }
    }
    is_int(bad, 0, "200000 price-like values print as the printf reference (first bad: %d)", first);
}

static void trades(void)
{
    /* 1900-01-01 is -2208988800 s from the epoch; +1 day for the exit */
    const int64_t day = 86400000000LL, t0 = -2208988800LL * 1000000LL;
    gt_trade t[2] = {
        {0, 35, 41, t0, t0 + day, 104.205418, 100.813878, 10, -33.9154, -3.25, 0.5},
        {1, 50, -1, t0 + 2 * day + 3600000000LL, 0, 0.1 + 0.2, NAN, -2, 1.5, 2, 0},
    };
    const char *const sym[] = {"A\"B", "C"};
    char *out = NULL;
    int64_t len = gt_json_trades(t, 2, sym, 2, &out);
    const char *want =
        "[{\"duration\":6,\"entry_bar\":35,\"entry_price\":104.205418,\"entry_time\":\"1900-01-"
        "01\","
        "\"exit_bar\":41,\"exit_price\":100.813878,\"exit_time\":\"1900-01-02\",\"fees\":0.5,"
        "\"pnl\":-33.9154,\"return_pct\":-3.25,\"size\":10,\"symbol\":\"A\\\"B\"},"
        "{\"entry_bar\":50,\"entry_price\":0.30000000000000004,"
        "\"entry_time\":\"1900-01-03T01:00:00Z\",\"exit_bar\":-1,\"exit_price\":null,\"fees\":0,"
        "\"pnl\":1.5,\"return_pct\":2,\"size\":-2,\"symbol\":\"C\"}]";
    is_str(out ? out : "(null)", want, "a closed and an open trade, sorted keys, escaped symbol");
    is_int(len, (int64_t)strlen(want), "the returned length is the text's");
    gt_json_text_free(out);
    len = gt_json_trades(t, 0, NULL, 0, &out);
    is_str(out ? out : "(null)", "[]", "no trades: an empty array");
    gt_json_text_free(out);
    ok(gt_json_trades(NULL, 1, sym, 2, &out) == GT_EINVAL, "NULL trades with m > 0 is misuse");
}

static void parse(void)
{
    const char *text = "{\"a\":[1,2.5,null,true,false,\"s\"],\"b\":{}}";
    gt_json *d = gt_json_parse(text, (int64_t)strlen(text));
    ok(d != NULL, "parses an object");
    is_int(gt_json_type(d), GT_JSON_OBJECT, "root is an object");
    const gt_json *a = gt_json_child(d);
    is_str(gt_json_key(a), "a", "first member is a");
    const gt_json *e = gt_json_child(a);
    int types[6], k = 0;
    for (; e && k < 6; e = gt_json_next(e))
        types[k++] = gt_json_type(e);
    is_int(k, 6, "six elements");
    ok(types[0] == GT_JSON_NUMBER && types[2] == GT_JSON_NULL && types[3] == GT_JSON_TRUE &&
           types[4] == GT_JSON_FALSE && types[5] == GT_JSON_STRING,
       "element types in order");
    is_dbl(gt_json_value(gt_json_next(gt_json_child(a))), 2.5, 0, "2.5");
    const gt_json *b = gt_json_next(a);
    ok(gt_json_child(b) == NULL, "an empty object has no child");
    gt_json_free(d);
    ok(gt_json_parse("[1] x", 5) == NULL && strstr(gt_errmsg(), "trailing characters at byte 5"),
       "trailing text is an error with its byte: %s", gt_errmsg());
    /* a buffer that is not NUL-terminated: only len bytes are read */
    char unterminated[3] = {'[', '7', ']'};
    d = gt_json_parse(unterminated, 3);
    ok(d && gt_json_value(gt_json_child(d)) == 7, "reads exactly len bytes");
    gt_json_free(d);
    gt_json_free(NULL);
    ok(gt_json_parse("", 0) == NULL && strstr(gt_errmsg(), "unexpected end"), "empty text");
}

int main(void)
{
    numbers();
    fast_path();
    trades();
    parse();
    return done_testing();
}
