/*
 * json.c: cJSON parsing exposed as a walkable tree, the exact-number writer and the
 * trades encoder behind `gtengine backtest --json`.
 */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* ---- numbers ---- */

static int write_int(int64_t v, char *buf)
{
    char tmp[24];
    int k = 0, len = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[len++] = '-';
    while (k)
        buf[len++] = tmp[--k];
    buf[len] = '\0';
    return len;
}

int gt_json_number(double x, char *buf)
{
    if (!isfinite(x)) {
        memcpy(buf, "null", 5);
        return 4;
    }
    /* 2^53: every integer below it is exact, and Lua prints the same digits with %d. */
    if (x == floor(x) && fabs(x) < 9007199254740992.0)
        return write_int((int64_t)x, buf);
    /* Fast path, no printf: x = d / 10^k exactly as doubles (d an integer of at most 15
     * digits, 10^k exact, the division correctly rounded, so the text reads back as x).
     * A text of at most 15 significant digits that reads back is the one %.15g prints
     * (doubles are 2^-52 apart relative, 15-digit decimals at least 1e-15), and %g prints
     * fixed notation for 1e-4 <= |x| < 1e15, so the output is the same as below. */
    double ax = fabs(x);
    if (ax >= 1e-4 && ax < 1e15) {
        static const double p10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
        for (int k = 1; k <= 15; k++) {
            double y = ax * p10[k];
            if (y >= 1e15)
                break;
            double d = nearbyint(y);
            if (d / p10[k] != ax)
                continue;
            char digits[24];
            int nd = write_int((int64_t)d, digits), len = 0;
            if (x < 0)
                buf[len++] = '-';
            if (nd <= k) { /* 0.000ddd */
                buf[len++] = '0';
                buf[len++] = '.';
                for (int z = 0; z < k - nd; z++)
                    buf[len++] = '0';
                memcpy(buf + len, digits, (size_t)nd);
                len += nd;
            } else {
                memcpy(buf + len, digits, (size_t)(nd - k));
                len += nd - k;
                buf[len++] = '.';
                memcpy(buf + len, digits + nd - k, (size_t)k);
                len += k;
            }
            while (buf[len - 1] == '0') /* only when a smaller k rounded differently */
                len--;
            if (buf[len - 1] == '.')
                len--;
            buf[len] = '\0';
            return len;
        }
    }
    /* The correctly rounded 15-digit text is the closest one; when it does not read back,
     * no other 15-digit text does, so the first precision that round-trips is the
     * shortest. 17 always does (IEEE 754 binary64). Any shorter text that reads back is
     * what %.15g prints with its zeros trimmed, for normal doubles (15 digits identify
     * one); a subnormal may keep digits it does not need, still exactly. */
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(buf, GT_JSON_NUMBER_MAX, "%.*g", prec, x);
        if (prec == 17 || strtod(buf, NULL) == x)
            break;
    }
    return len;
}

/* ---- a growable text buffer ---- */

typedef struct {
    char *p;
    size_t len, cap;
    int failed;
} buf;

static int reserve(buf *b, size_t extra)
{
    if (b->failed)
        return 0;
    if (b->len + extra + 1 <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

static void put(buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

#define PUTS(b, lit) put((b), (lit), sizeof(lit) - 1)

static void put_num(buf *b, double x)
{
    if (!reserve(b, GT_JSON_NUMBER_MAX))
        return;
    b->len += (size_t)gt_json_number(x, b->p + b->len);
}

/* Same escapes as gt.json's Lua encoder: the short forms, \u00XX for other control
 * characters (and DEL, which Lua's %c also matches); UTF-8 passes through. */
static void put_str(buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    PUTS(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *e = NULL;
        switch (c) {
        case '"':
            e = "\\\"";
            break;
        case '\\':
            e = "\\\\";
            break;
        case '\b':
            e = "\\b";
            break;
        case '\f':
            e = "\\f";
            break;
        case '\n':
            e = "\\n";
            break;
        case '\r':
            e = "\\r";
            break;
        case '\t':
            e = "\\t";
            break;
        default:
            break;
        }
        if (e) {
            put(b, e, 2);
        } else if (c < 0x20 || c == 0x7f) {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(b, u, 6);
        } else {
            put(b, (const char *)s, 1);
        }
    }
    PUTS(b, "\"");
}

static void put_time(buf *b, int64_t us)
{
    char t[48];
    gt_time_format(us, 1, t, sizeof t);
    put_str(b, t);
}

/* ---- trades ---- */

int64_t gt_json_trades(const gt_trade *t, int64_t m, const char *const *symbols, int64_t nsym,
                       char **out)
{
    if (!out || m < 0 || (m > 0 && !t) || nsym < 0 || (nsym > 0 && !symbols))
        return gt_seterr(GT_EINVAL, "json: gt_json_trades needs trades, symbols and an output");
    *out = NULL;
    buf b = {0};
    /* About 300 bytes a trade: one allocation for the common case. */
    reserve(&b, (size_t)m * 320 + 2);
    PUTS(&b, "[");
    for (int64_t i = 0; i < m && !b.failed; i++) {
        const gt_trade *x = &t[i];
        int closed = x->exit_bar >= 0;
        if (i)
            PUTS(&b, ",");
        /* keys in sorted order, as gt.json.encode writes them */
        if (closed) {
            PUTS(&b, "{\"duration\":");
            put_num(&b, (double)(x->exit_bar - x->entry_bar));
            PUTS(&b, ",\"entry_bar\":");
        } else {
            PUTS(&b, "{\"entry_bar\":");
        }
        put_num(&b, (double)x->entry_bar);
        PUTS(&b, ",\"entry_price\":");
        put_num(&b, x->entry_price);
        PUTS(&b, ",\"entry_time\":");
        put_time(&b, x->entry_ts);
        PUTS(&b, ",\"exit_bar\":");
        put_num(&b, (double)x->exit_bar);
        PUTS(&b, ",\"exit_price\":");
        put_num(&b, x->exit_price);
        if (closed) {
            PUTS(&b, ",\"exit_time\":");
            put_time(&b, x->exit_ts);
        }
        PUTS(&b, ",\"fees\":");
        put_num(&b, x->fees);
        PUTS(&b, ",\"pnl\":");
        put_num(&b, x->pnl);
        PUTS(&b, ",\"return_pct\":");
        put_num(&b, x->return_pct);
        PUTS(&b, ",\"size\":");
        put_num(&b, x->size);
        if (x->symbol >= 0 && x->symbol < nsym && symbols[x->symbol]) {
            PUTS(&b, ",\"symbol\":");
            put_str(&b, symbols[x->symbol]);
        }
        PUTS(&b, "}");
    }
    PUTS(&b, "]");
    if (b.failed) {
        free(b.p);
        return gt_seterr(GT_ENOMEM, "json: out of memory encoding %lld trades", (long long)m);
    }
    *out = b.p;
    return (int64_t)b.len;
}

void gt_json_text_free(char *text)
{
    free(text);
}

/* ---- parsing ---- */

/* A gt_json node is a cJSON item; the struct tag exists only for the Lua side's type. */
#define NODE(n) ((const cJSON *)(const void *)(n))

gt_json *gt_json_parse(const char *text, int64_t len)
{
    if (!text || len < 0) {
        gt_seterr(GT_EINVAL, "JSON: expected text");
        return NULL;
    }
    const char *end = NULL;
    /* Not cJSON's require_null_terminated: it wants a NUL inside len, which a Lua string
     * does not count. The check for trailing text is below. */
    cJSON *root = cJSON_ParseWithLengthOpts(text, (size_t)len, &end, 0);
    long long at = end && end >= text ? (long long)(end - text) : 0;
    if (root) {
        /* Only whitespace may follow the value. */
        while (at < len &&
               (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' || text[at] == '\r'))
            at++;
        if (at >= len)
            return (gt_json *)(void *)root;
        cJSON_Delete(root);
        gt_seterr(GT_EPARSE, "JSON: trailing characters at byte %lld", at + 1);
        return NULL;
    }
    /* cJSON reports the byte where it gave up (the last one when the text ended early). */
    if (len == 0) {
        gt_seterr(GT_EPARSE, "JSON: unexpected end at byte 1 (empty text)");
    } else {
        if (at >= len)
            at = len - 1;
        unsigned char c = (unsigned char)text[at];
        if (c >= 0x20 && c < 0x7f)
            gt_seterr(GT_EPARSE, "JSON: malformed at byte %lld near '%c'%s", at + 1, c,
                      at == len - 1 ? " (the text may end too early)" : "");
        else
            gt_seterr(GT_EPARSE, "JSON: malformed at byte %lld near byte 0x%02x", at + 1, c);
    }
    return NULL;
}

void gt_json_free(gt_json *doc)
{
    cJSON_Delete((cJSON *)(void *)doc);
}

int gt_json_type(const gt_json *node)
{
    const cJSON *n = NODE(node);
    if (!n)
        return GT_JSON_NULL;
    switch (n->type & 0xff) {
    case cJSON_False:
        return GT_JSON_FALSE;
    case cJSON_True:
        return GT_JSON_TRUE;
    case cJSON_Number:
        return GT_JSON_NUMBER;
    case cJSON_String:
        return GT_JSON_STRING;
    case cJSON_Array:
        return GT_JSON_ARRAY;
    case cJSON_Object:
        return GT_JSON_OBJECT;
    default:
        return GT_JSON_NULL;
    }
}

const gt_json *gt_json_child(const gt_json *node)
{
    const cJSON *n = NODE(node);
    return n ? (const gt_json *)(const void *)n->child : NULL;
}

const gt_json *gt_json_next(const gt_json *node)
{
    const cJSON *n = NODE(node);
    return n ? (const gt_json *)(const void *)n->next : NULL;
}

const char *gt_json_key(const gt_json *node)
{
    const cJSON *n = NODE(node);
    return n ? n->string : NULL;
}

const char *gt_json_string(const gt_json *node)
{
    const cJSON *n = NODE(node);
    return n && cJSON_IsString(n) ? n->valuestring : NULL;
}

double gt_json_value(const gt_json *node)
{
    const cJSON *n = NODE(node);
    return n && cJSON_IsNumber(n) ? n->valuedouble : NAN;
}
