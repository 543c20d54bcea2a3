/*
 * broker.c: Alpaca Trading API v2 requests and their answers parsed into C records.
 * Policy lives here and in http.c, not in callers: the base URL rules, the keys' handling,
 * the classification of every HTTP outcome, and strict parsing (a missing or unreadable
 * field is an error that names it; Alpaca sends numbers as strings and plain JSON numbers
 * are accepted too).
 */
#include "broker.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "datetime.h"
#include "http.h"

#define PAPER_URL "https://paper-api.alpaca.markets"
#define LIVE_URL "https://api.alpaca.markets"
#define KEY_CAP 128

typedef struct keys {
    char id[KEY_CAP];
    char secret[KEY_CAP];
} keys;

struct gt_broker {
    gt_http *http;
    keys *k; /* its own page-aligned allocation, mlock'ed when allowed */
    int has_keys;
    char base[512];
    char host[256];
    gt_broker_order *orders;
    int64_t norders, cap_orders;
    gt_broker_position *positions;
    int64_t npositions, cap_positions;
    gt_broker_fill *fills;
    int64_t nfills, cap_fills;
    gt_broker_item *items;
    int64_t nitems, cap_items;
    gt_broker_account account;
    gt_broker_clock clock;
};

static const char *const STATUS_NAMES[GT_ALPACA_STATUS_COUNT] = {"new",
                                                                 "partially_filled",
                                                                 "filled",
                                                                 "done_for_day",
                                                                 "canceled",
                                                                 "expired",
                                                                 "replaced",
                                                                 "pending_cancel",
                                                                 "pending_replace",
                                                                 "pending_review",
                                                                 "accepted",
                                                                 "pending_new",
                                                                 "accepted_for_bidding",
                                                                 "stopped",
                                                                 "rejected",
                                                                 "suspended",
                                                                 "calculated",
                                                                 "held"};

const char *gt_alpaca_status_name(int32_t status)
{
    return status >= 0 && status < GT_ALPACA_STATUS_COUNT ? STATUS_NAMES[status] : NULL;
}

int32_t gt_alpaca_status_parse(const char *name)
{
    for (int32_t i = 0; name && i < GT_ALPACA_STATUS_COUNT; i++)
        if (strcmp(STATUS_NAMES[i], name) == 0)
            return i;
    return -1;
}

static void wipe(void *p, size_t n)
{
    if (p)
        explicit_bzero(p, n);
}

/* ---- lifecycle ---- */

/* "https://host[:port]" with no path beyond "/" or "/v2"; fills host. */
static int check_base(const char *url, int paper, char *out, size_t cap, char *host, size_t hcap)
{
    size_t n = strlen(url);
    if (n == 0 || n >= cap)
        return gt_seterr(GT_EINVAL, "broker: the base URL is empty or longer than %zu bytes",
                         cap - 1);
    memcpy(out, url, n + 1);
    while (n > 0 && out[n - 1] == '/')
        out[--n] = '\0';
    if (n >= 3 && strcmp(out + n - 3, "/v2") == 0)
        out[n -= 3] = '\0';
    const char *rest = NULL;
    if (strncmp(out, "https://", 8) == 0)
        rest = out + 8;
    else if (strncmp(out, "http://", 7) == 0)
        rest = out + 7;
    if (!rest || !*rest || strpbrk(rest, "/?#@ \t\r\n"))
        return gt_seterr(GT_EINVAL,
                         "broker: base URL must be https://HOST[:PORT] (http:// only to loopback "
                         "hosts), without a path, query or user name");
    size_t hl = strcspn(rest, ":");
    if (rest[0] == '[')
        hl = strcspn(rest, "]") + 1;
    if (hl == 0 || hl >= hcap)
        return gt_seterr(GT_EINVAL, "broker: base URL has no usable host");
    memcpy(host, rest, hl);
    host[hl] = '\0';
    for (char *p = host; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    if (rest == out + 7) {
        int loop = strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
                   strcmp(host, "[::1]") == 0;
        if (!loop)
            return gt_seterr(GT_EINVAL,
                             "broker: plain http:// is refused for %s: only loopback "
                             "hosts may be reached without TLS",
                             host);
    }
    if (paper && strcmp(host, "api.alpaca.markets") == 0)
        return gt_seterr(GT_EINVAL, "broker: paper trading was asked for but the base URL is "
                                    "Alpaca's live endpoint (https://api.alpaca.markets)");
    if (!paper && strcmp(host, "paper-api.alpaca.markets") == 0)
        return gt_seterr(GT_EINVAL, "broker: live trading was asked for but the base URL is "
                                    "Alpaca's paper endpoint");
    return GT_OK;
}

gt_broker *gt_broker_new(const char *base_url, int32_t paper)
{
    gt_broker *b = calloc(1, sizeof *b);
    if (!b) {
        gt_seterr(GT_ENOMEM, "broker: out of memory");
        return NULL;
    }
    const char *url = base_url && base_url[0] ? base_url : getenv("APCA_API_BASE_URL");
    if (!url || !url[0])
        url = paper ? PAPER_URL : LIVE_URL;
    if (check_base(url, paper, b->base, sizeof b->base, b->host, sizeof b->host) != GT_OK)
        goto fail;
    long page = sysconf(_SC_PAGESIZE);
    size_t ksz = sizeof(keys) < (size_t)page ? (size_t)page : sizeof(keys);
    if (posix_memalign((void **)&b->k, (size_t)page, ksz) != 0) {
        b->k = NULL;
        gt_seterr(GT_ENOMEM, "broker: out of memory");
        goto fail;
    }
    memset(b->k, 0, ksz);
    (void)mlock(b->k, ksz); /* best effort: keys stay out of swap when the limit allows */
    if (!(b->http = gt_http_new()))
        goto fail;
    if (gt_http_set_timeouts(b->http, 5000, 20000) || gt_http_set_retries(b->http, 2, 300, 5000) ||
        gt_http_set_max_wait(b->http, 65) || gt_broker_set_rate(b, 180, 5))
        goto fail;
    return b;
fail:
    gt_broker_free(b);
    return NULL;
}

void gt_broker_free(gt_broker *b)
{
    if (!b)
        return;
    if (b->k) {
        long page = sysconf(_SC_PAGESIZE);
        size_t ksz = sizeof(keys) < (size_t)page ? (size_t)page : sizeof(keys);
        wipe(b->k, ksz);
        munlock(b->k, ksz);
        free(b->k);
    }
    gt_http_free(b->http);
    free(b->orders);
    free(b->positions);
    free(b->fills);
    free(b->items);
    free(b);
}

const char *gt_broker_base_url(const gt_broker *b)
{
    return b ? b->base : "";
}

int gt_broker_set_rate(gt_broker *b, double per_minute, double burst)
{
    if (!b)
        return gt_seterr(GT_EINVAL, "broker: NULL broker");
    int rc = gt_http_limit_host(b->host, per_minute, burst);
    return rc ? rc : gt_http_set_rate(b->http, per_minute, burst);
}

int gt_broker_set_timeouts(gt_broker *b, int64_t connect_ms, int64_t total_ms)
{
    return b ? gt_http_set_timeouts(b->http, connect_ms, total_ms)
             : gt_seterr(GT_EINVAL, "broker: NULL broker");
}

int gt_broker_set_retries(gt_broker *b, int32_t retries)
{
    return b ? gt_http_set_retries(b->http, retries, 300, 5000)
             : gt_seterr(GT_EINVAL, "broker: NULL broker");
}

int gt_broker_set_max_wait(gt_broker *b, double seconds)
{
    return b ? gt_http_set_max_wait(b->http, seconds) : gt_seterr(GT_EINVAL, "broker: NULL broker");
}

int gt_broker_set_trace(gt_broker *b, int32_t fd)
{
    return b ? gt_http_set_trace(b->http, fd) : gt_seterr(GT_EINVAL, "broker: NULL broker");
}

int gt_broker_set_cainfo(gt_broker *b, const char *path)
{
    return b ? gt_http_set_cainfo(b->http, path) : gt_seterr(GT_EINVAL, "broker: NULL broker");
}

/* ---- keys ---- */

int gt_secure_process(void)
{
    struct rlimit rl = {0, 0};
    int rc = GT_OK;
    if (setrlimit(RLIMIT_CORE, &rl) != 0)
        rc = gt_seterr(GT_EIO, "broker: cannot disable core dumps: %s", strerror(errno));
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        rc = gt_seterr(GT_EIO, "broker: cannot mark the process undumpable: %s", strerror(errno));
    return rc;
}

/* A key is printable ASCII without spaces: anything else could split a header. */
static int key_ok(const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (n == 0 || n >= KEY_CAP)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
            return 0;
    return 1;
}

static int install_keys(gt_broker *b, const char *id, const char *secret, const char *source)
{
    if (!key_ok(id) || !key_ok(secret))
        return gt_seterr(GT_EINVAL,
                         "broker: the keys in %s must be non-empty printable text without "
                         "spaces, under %d characters",
                         source, KEY_CAP);
    int rc = gt_secret_add(id);
    if (!rc)
        rc = gt_secret_add(secret);
    if (rc)
        return rc;
    /* a paper key (PK...) on the live host or a live key (AK...) on the paper host is a
     * mistake Alpaca would answer with 401; refuse it before anything is sent */
    int live_host = strcmp(b->host, "api.alpaca.markets") == 0;
    int paper_host = strcmp(b->host, "paper-api.alpaca.markets") == 0;
    if ((live_host && strncmp(id, "PK", 2) == 0) || (paper_host && strncmp(id, "AK", 2) == 0))
        return gt_seterr(GT_EDENIED,
                         "broker: the key id from %s is a %s key but the base URL is "
                         "Alpaca's %s endpoint",
                         source, live_host ? "paper" : "live", live_host ? "live" : "paper");
    snprintf(b->k->id, KEY_CAP, "%s", id);
    snprintf(b->k->secret, KEY_CAP, "%s", secret);
    b->has_keys = 1;
    gt_secure_process();
    return GT_OK;
}

static const char *json_key(const cJSON *o, const char *a, const char *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (!cJSON_IsString(v))
        v = cJSON_GetObjectItemCaseSensitive(o, c);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void wipe_json(cJSON *o)
{
    for (cJSON *c = o; c; c = c->next) {
        if (c->valuestring)
            wipe(c->valuestring, strlen(c->valuestring));
        if (c->string)
            wipe(c->string, strlen(c->string));
        wipe_json(c->child);
    }
}

int gt_broker_keys_file(gt_broker *b, const char *path)
{
    if (!b || !path)
        return gt_seterr(GT_EINVAL, "broker: keys_file needs a broker and a path");
    const int64_t cap = 8192;
    char *buf = calloc(1, (size_t)cap);
    if (!buf)
        return gt_seterr(GT_ENOMEM, "broker: out of memory");
    int64_t len = 0;
    cJSON *root = NULL;
    int rc = gt_http_keyfile_read(path, buf, cap, &len);
    if (rc)
        goto out;
    root = cJSON_ParseWithLength(buf, (size_t)len);
    const char *id = cJSON_IsObject(root) ? json_key(root, "key_id", "APCA_API_KEY_ID") : NULL;
    const char *sec =
        cJSON_IsObject(root) ? json_key(root, "secret_key", "APCA_API_SECRET_KEY") : NULL;
    if (!id || !sec) {
        /* never the content: a byte of it may be a key */
        rc = gt_seterr(GT_EINVAL,
                       "key file %s: expected a JSON object with \"key_id\" and "
                       "\"secret_key\" strings",
                       path);
        goto out;
    }
    char src[600];
    snprintf(src, sizeof src, "key file %s", path);
    rc = install_keys(b, id, sec, src);
out:
    if (root) {
        wipe_json(root);
        cJSON_Delete(root);
    }
    wipe(buf, (size_t)cap);
    free(buf);
    return rc;
}

int gt_broker_keys_env(gt_broker *b)
{
    if (!b)
        return gt_seterr(GT_EINVAL, "broker: NULL broker");
    char *id = getenv("APCA_API_KEY_ID"), *sec = getenv("APCA_API_SECRET_KEY");
    if (!id || !id[0] || !sec || !sec[0])
        return gt_seterr(GT_ENOTFOUND, "broker: APCA_API_KEY_ID and APCA_API_SECRET_KEY are "
                                       "not both set");
    int rc = install_keys(b, id, sec, "the environment");
    /* the values are wiped where they live (so /proc/PID/environ no longer shows them) and
     * the variables removed, whether or not the keys were usable */
    wipe(id, strlen(id));
    wipe(sec, strlen(sec));
    unsetenv("APCA_API_KEY_ID");
    unsetenv("APCA_API_SECRET_KEY");
    return rc;
}

int gt_broker_has_keys(const gt_broker *b)
{
    return b && b->has_keys;
}

/* ---- record lists ---- */

static void *grow(void *p, int64_t *cap, int64_t need, size_t sz)
{
    if (need <= *cap)
        return p;
    int64_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    void *np = realloc(p, (size_t)nc * sz);
    if (np)
        *cap = nc;
    return np;
}

#define PUSH(b, arr, n, cap, out)                                                                  \
    do {                                                                                           \
        void *np_ = grow((b)->arr, &(b)->cap, (b)->n + 1, sizeof *(b)->arr);                       \
        if (!np_)                                                                                  \
            return gt_seterr(GT_ENOMEM, "broker: out of memory");                                  \
        (b)->arr = np_;                                                                            \
        (out) = &(b)->arr[(b)->n++];                                                               \
        memset((out), 0, sizeof *(out));                                                           \
    } while (0)

/* ---- field readers: each names the field it failed on ---- */

enum { REQ = 0, NULLOK = 1, OPT = 2 }; /* present non-null / present, may be null / may lack */

typedef struct ctx {
    char where[160]; /* "order 61e6..." for messages */
} ctx;

static int fail(const ctx *c, const char *field, const char *why)
{
    return gt_seterr(GT_EDATA, "alpaca: %s: field '%s' %s", c->where, field, why);
}

static int presence(const ctx *c, const cJSON *it, const char *field, int mode)
{
    if (!it)
        return mode == OPT ? 0 : fail(c, field, "is missing");
    if (cJSON_IsNull(it))
        return mode == REQ ? fail(c, field, "is null") : 0;
    return 1;
}

static int get_str(const ctx *c, const cJSON *o, const char *field, int mode, char *out, size_t cap)
{
    out[0] = '\0';
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, field);
    int p = presence(c, it, field, mode);
    if (p <= 0)
        return p;
    if (!cJSON_IsString(it))
        return fail(c, field, "is not a string");
    size_t n = strlen(it->valuestring);
    if (n >= cap)
        return fail(c, field, "is too long");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)it->valuestring[i] < 0x20)
            return fail(c, field, "contains a control character");
    memcpy(out, it->valuestring, n + 1);
    return GT_OK;
}

/* A decimal string (Alpaca's numbers) or a plain JSON number; NaN when null or absent as
 * mode allows. */
static int get_num(const ctx *c, const cJSON *o, const char *field, int mode, double *v)
{
    *v = NAN;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, field);
    int p = presence(c, it, field, mode);
    if (p <= 0)
        return p;
    if (cJSON_IsNumber(it)) {
        *v = it->valuedouble;
    } else if (cJSON_IsString(it) && it->valuestring[0]) {
        char *end;
        errno = 0;
        *v = strtod(it->valuestring, &end);
        if (*end != '\0' || errno == ERANGE || end == it->valuestring) {
            char m[96];
            snprintf(m, sizeof m, "is not a decimal number: '%.40s'", it->valuestring);
            for (char *q = m; *q; q++)
                if ((unsigned char)*q < 0x20)
                    *q = '?';
            *v = NAN;
            return fail(c, field, m);
        }
    } else {
        return fail(c, field, "is not a decimal number");
    }
    if (!isfinite(*v)) {
        *v = NAN;
        return fail(c, field, "is not finite");
    }
    return GT_OK;
}

static int get_time(const ctx *c, const cJSON *o, const char *field, int mode, int64_t *us)
{
    *us = 0;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, field);
    int p = presence(c, it, field, mode);
    if (p <= 0)
        return p;
    if (!cJSON_IsString(it) ||
        gt_time_parse(it->valuestring, strlen(it->valuestring), us) != GT_OK) {
        gt_clearerr();
        *us = 0;
        return fail(c, field, "is not an RFC-3339 time");
    }
    return GT_OK;
}

static int get_bool(const ctx *c, const cJSON *o, const char *field, int mode, int32_t *v)
{
    *v = -1;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, field);
    int p = presence(c, it, field, mode);
    if (p <= 0)
        return p;
    if (!cJSON_IsBool(it))
        return fail(c, field, "is not true or false");
    *v = cJSON_IsTrue(it) ? 1 : 0;
    return GT_OK;
}

static int one_of(const ctx *c, const char *field, const char *v, const char *const *set)
{
    for (int i = 0; set[i]; i++)
        if (strcmp(v, set[i]) == 0)
            return GT_OK;
    char m[96];
    snprintf(m, sizeof m, "has an unknown value '%.40s'", v);
    return fail(c, field, m);
}

static const char *const SIDES[] = {"buy", "sell", NULL};
static const char *const TYPES[] = {"market", "limit", "stop", "stop_limit", "trailing_stop", NULL};
static const char *const TIFS[] = {"day", "gtc", "opg", "cls", "ioc", "fok", NULL};
static const char *const CLASSES[] = {"simple", "bracket", "oco", "oto", "mleg", NULL};

/* ---- parsers ---- */

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_ < 0)                                                                               \
            return rc_;                                                                            \
    } while (0)

static int parse_order(gt_broker *b, const cJSON *o, const char *parent, int depth,
                       const char *where)
{
    ctx c;
    if (!cJSON_IsObject(o))
        return gt_seterr(GT_EDATA, "alpaca: %s is not a JSON object", where);
    if (depth > 2)
        return gt_seterr(GT_EDATA, "alpaca: %s: legs nested too deep", where);
    const cJSON *idj = cJSON_GetObjectItemCaseSensitive(o, "id");
    snprintf(c.where, sizeof c.where, "%s%s%.40s", where, cJSON_IsString(idj) ? " " : "",
             cJSON_IsString(idj) ? idj->valuestring : "");
    gt_broker_order *r;
    PUSH(b, orders, norders, cap_orders, r);
    int64_t self = b->norders - 1;
    char st[32];
    TRY(get_str(&c, o, "id", REQ, r->id, sizeof r->id));
    TRY(get_str(&c, o, "client_order_id", REQ, r->client_order_id, sizeof r->client_order_id));
    snprintf(r->parent_id, sizeof r->parent_id, "%s", parent ? parent : "");
    TRY(get_str(&c, o, "replaced_by", OPT, r->replaced_by, sizeof r->replaced_by));
    TRY(get_str(&c, o, "replaces", OPT, r->replaces, sizeof r->replaces));
    TRY(get_str(&c, o, "symbol", REQ, r->symbol, sizeof r->symbol));
    TRY(get_str(&c, o, "side", REQ, r->side, sizeof r->side));
    TRY(one_of(&c, "side", r->side, SIDES));
    const char *tf = cJSON_GetObjectItemCaseSensitive(o, "type") ? "type" : "order_type";
    TRY(get_str(&c, o, tf, REQ, r->type, sizeof r->type));
    TRY(one_of(&c, tf, r->type, TYPES));
    TRY(get_str(&c, o, "time_in_force", REQ, r->tif, sizeof r->tif));
    TRY(one_of(&c, "time_in_force", r->tif, TIFS));
    TRY(get_str(&c, o, "order_class", OPT, r->order_class, sizeof r->order_class));
    if (!r->order_class[0])
        snprintf(r->order_class, sizeof r->order_class, "simple");
    TRY(one_of(&c, "order_class", r->order_class, CLASSES));
    TRY(get_str(&c, o, "status", REQ, st, sizeof st));
    r->status = gt_alpaca_status_parse(st);
    if (r->status < 0)
        TRY(one_of(&c, "status", st, (const char *const[]){NULL}));
    TRY(get_num(&c, o, "qty", OPT, &r->qty));
    TRY(get_num(&c, o, "notional", OPT, &r->notional));
    if (isnan(r->qty) && isnan(r->notional))
        return fail(&c, "qty", "is missing or null and so is 'notional'");
    TRY(get_num(&c, o, "filled_qty", REQ, &r->filled_qty));
    if (r->filled_qty < 0)
        return fail(&c, "filled_qty", "is negative");
    TRY(get_num(&c, o, "filled_avg_price", OPT, &r->filled_avg_price));
    if (r->filled_qty > 0 && isnan(r->filled_avg_price))
        return fail(&c, "filled_avg_price", "is missing or null on a filled quantity");
    int need_limit = strcmp(r->type, "limit") == 0 || strcmp(r->type, "stop_limit") == 0;
    int need_stop = strcmp(r->type, "stop") == 0 || strcmp(r->type, "stop_limit") == 0;
    TRY(get_num(&c, o, "limit_price", need_limit ? REQ : OPT, &r->limit_price));
    TRY(get_num(&c, o, "stop_price", need_stop ? REQ : OPT, &r->stop_price));
    TRY(get_num(&c, o, "trail_price", OPT, &r->trail_price));
    TRY(get_num(&c, o, "trail_percent", OPT, &r->trail_percent));
    if (strcmp(r->type, "trailing_stop") == 0 && isnan(r->trail_price) && isnan(r->trail_percent))
        return fail(&c, "trail_price", "and 'trail_percent' are both missing on a trailing stop");
    int32_t eh;
    TRY(get_bool(&c, o, "extended_hours", OPT, &eh));
    r->extended_hours = eh > 0;
    TRY(get_time(&c, o, "created_at", REQ, &r->created_at));
    TRY(get_time(&c, o, "updated_at", OPT, &r->updated_at));
    TRY(get_time(&c, o, "submitted_at", OPT, &r->submitted_at));
    TRY(get_time(&c, o, "filled_at", OPT, &r->filled_at));
    TRY(get_time(&c, o, "canceled_at", OPT, &r->canceled_at));
    TRY(get_time(&c, o, "expired_at", OPT, &r->expired_at));
    TRY(get_time(&c, o, "failed_at", OPT, &r->failed_at));
    TRY(get_time(&c, o, "replaced_at", OPT, &r->replaced_at));
    const cJSON *legs = cJSON_GetObjectItemCaseSensitive(o, "legs");
    if (legs && !cJSON_IsNull(legs)) {
        if (!cJSON_IsArray(legs))
            return fail(&c, "legs", "is not an array");
        char id[64], w[200];
        memcpy(id, b->orders[self].id, sizeof id); /* the list may move as legs are added */
        int i = 0;
        const cJSON *l;
        cJSON_ArrayForEach(l, legs)
        {
            snprintf(w, sizeof w, "%.100s leg %d", c.where, i++);
            TRY(parse_order(b, l, id, depth + 1, w));
        }
    }
    return GT_OK;
}

static int parse_position(gt_broker *b, const cJSON *o, int i)
{
    ctx c;
    const cJSON *sj = cJSON_GetObjectItemCaseSensitive(o, "symbol");
    snprintf(c.where, sizeof c.where, "position %d%s%.31s", i, cJSON_IsString(sj) ? " " : "",
             cJSON_IsString(sj) ? sj->valuestring : "");
    if (!cJSON_IsObject(o))
        return gt_seterr(GT_EDATA, "alpaca: %s is not a JSON object", c.where);
    gt_broker_position *r;
    PUSH(b, positions, npositions, cap_positions, r);
    TRY(get_str(&c, o, "symbol", REQ, r->symbol, sizeof r->symbol));
    TRY(get_str(&c, o, "side", REQ, r->side, sizeof r->side));
    TRY(one_of(&c, "side", r->side, (const char *const[]){"long", "short", NULL}));
    TRY(get_str(&c, o, "asset_id", OPT, r->asset_id, sizeof r->asset_id));
    TRY(get_num(&c, o, "qty", REQ, &r->qty));
    TRY(get_num(&c, o, "qty_available", OPT, &r->qty_available));
    TRY(get_num(&c, o, "avg_entry_price", REQ, &r->avg_entry_price));
    TRY(get_num(&c, o, "market_value", OPT, &r->market_value));
    TRY(get_num(&c, o, "unrealized_pl", OPT, &r->unrealized_pl));
    TRY(get_num(&c, o, "current_price", OPT, &r->current_price));
    if (strcmp(r->side, "short") == 0 && r->qty > 0) { /* signed, whichever way it came */
        r->qty = -r->qty;
        if (r->qty_available > 0)
            r->qty_available = -r->qty_available;
    }
    return GT_OK;
}

static int parse_fill(gt_broker *b, const cJSON *o, int i)
{
    ctx c;
    const cJSON *ij = cJSON_GetObjectItemCaseSensitive(o, "id");
    snprintf(c.where, sizeof c.where, "activity %d%s%.90s", i, cJSON_IsString(ij) ? " " : "",
             cJSON_IsString(ij) ? ij->valuestring : "");
    if (!cJSON_IsObject(o))
        return gt_seterr(GT_EDATA, "alpaca: %s is not a JSON object", c.where);
    char at[16];
    TRY(get_str(&c, o, "activity_type", REQ, at, sizeof at));
    TRY(one_of(&c, "activity_type", at, (const char *const[]){"FILL", NULL}));
    gt_broker_fill *r;
    PUSH(b, fills, nfills, cap_fills, r);
    TRY(get_str(&c, o, "id", REQ, r->id, sizeof r->id));
    TRY(get_str(&c, o, "order_id", REQ, r->order_id, sizeof r->order_id));
    TRY(get_str(&c, o, "symbol", REQ, r->symbol, sizeof r->symbol));
    TRY(get_str(&c, o, "side", REQ, r->side, sizeof r->side));
    TRY(one_of(&c, "side", r->side, (const char *const[]){"buy", "sell", "sell_short", NULL}));
    TRY(get_str(&c, o, "type", OPT, r->type, sizeof r->type));
    TRY(get_str(&c, o, "order_status", OPT, r->order_status, sizeof r->order_status));
    TRY(get_num(&c, o, "qty", REQ, &r->qty));
    if (!(r->qty > 0))
        return fail(&c, "qty", "is not positive");
    TRY(get_num(&c, o, "price", REQ, &r->price));
    if (!(r->price > 0))
        return fail(&c, "price", "is not positive");
    TRY(get_num(&c, o, "cum_qty", OPT, &r->cum_qty));
    TRY(get_num(&c, o, "leaves_qty", OPT, &r->leaves_qty));
    TRY(get_time(&c, o, "transaction_time", REQ, &r->transaction_time));
    return GT_OK;
}

/* A 207 item: {"id", "status", "body"} (cancel-all) or {"symbol", "status", "body"}
 * (close-all); body is the order on success, {"code","message"} on failure. */
static int parse_item(gt_broker *b, const cJSON *o, int i, int closes)
{
    ctx c;
    snprintf(c.where, sizeof c.where, "%s item %d", closes ? "close-all" : "cancel-all", i);
    if (!cJSON_IsObject(o))
        return gt_seterr(GT_EDATA, "alpaca: %s is not a JSON object", c.where);
    gt_broker_item *r;
    PUSH(b, items, nitems, cap_items, r);
    if (closes)
        TRY(get_str(&c, o, "symbol", REQ, r->symbol, sizeof r->symbol));
    else
        TRY(get_str(&c, o, "id", REQ, r->id, sizeof r->id));
    double st;
    TRY(get_num(&c, o, "status", REQ, &st));
    if (st != floor(st) || st < 100 || st > 599)
        return fail(&c, "status", "is not an HTTP status");
    r->status = (int32_t)st;
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(o, "body");
    if (cJSON_IsObject(body)) {
        TRY(get_str(&c, body, "id", OPT, r->order_id, sizeof r->order_id));
        TRY(get_str(&c, body, "message", OPT, r->message, sizeof r->message));
    }
    return GT_OK;
}

static int parse_account(gt_broker *b, const cJSON *o)
{
    ctx c;
    snprintf(c.where, sizeof c.where, "account");
    if (!cJSON_IsObject(o))
        return gt_seterr(GT_EDATA, "alpaca: the account is not a JSON object");
    gt_broker_account *a = &b->account;
    memset(a, 0, sizeof *a);
    TRY(get_str(&c, o, "id", REQ, a->id, sizeof a->id));
    TRY(get_str(&c, o, "status", REQ, a->status, sizeof a->status));
    TRY(get_str(&c, o, "currency", OPT, a->currency, sizeof a->currency));
    TRY(get_num(&c, o, "cash", REQ, &a->cash));
    TRY(get_num(&c, o, "buying_power", REQ, &a->buying_power));
    TRY(get_num(&c, o, "equity", REQ, &a->equity));
    TRY(get_num(&c, o, "last_equity", OPT, &a->last_equity));
    TRY(get_num(&c, o, "multiplier", OPT, &a->multiplier));
    TRY(get_num(&c, o, "portfolio_value", OPT, &a->portfolio_value));
    double dc;
    TRY(get_num(&c, o, "daytrade_count", OPT, &dc));
    a->daytrade_count = isnan(dc) ? -1 : (int64_t)dc;
    TRY(get_bool(&c, o, "trading_blocked", REQ, &a->trading_blocked));
    TRY(get_bool(&c, o, "account_blocked", REQ, &a->account_blocked));
    TRY(get_bool(&c, o, "pattern_day_trader", OPT, &a->pattern_day_trader));
    return GT_OK;
}

static int parse_clock(gt_broker *b, const cJSON *o)
{
    ctx c;
    snprintf(c.where, sizeof c.where, "clock");
    if (!cJSON_IsObject(o))
        return gt_seterr(GT_EDATA, "alpaca: the clock is not a JSON object");
    gt_broker_clock *k = &b->clock;
    memset(k, 0, sizeof *k);
    TRY(get_time(&c, o, "timestamp", REQ, &k->timestamp));
    TRY(get_bool(&c, o, "is_open", REQ, &k->is_open));
    TRY(get_time(&c, o, "next_open", REQ, &k->next_open));
    TRY(get_time(&c, o, "next_close", REQ, &k->next_close));
    return GT_OK;
}

static int parse_list(gt_broker *b, int32_t kind, const cJSON *root)
{
    const char *what = kind == GT_BROKER_ORDERS      ? "the order list"
                       : kind == GT_BROKER_POSITIONS ? "the position list"
                       : kind == GT_BROKER_FILLS     ? "the activity list"
                                                     : "the multi-status answer";
    if (!cJSON_IsArray(root))
        return gt_seterr(GT_EDATA, "alpaca: %s is not a JSON array", what);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, root)
    {
        char w[32];
        switch (kind) {
        case GT_BROKER_ORDERS:
            snprintf(w, sizeof w, "order %d", i);
            TRY(parse_order(b, e, NULL, 0, w));
            break;
        case GT_BROKER_POSITIONS:
            TRY(parse_position(b, e, i));
            break;
        case GT_BROKER_FILLS:
            TRY(parse_fill(b, e, i));
            break;
        default:
            TRY(parse_item(b, e, i, kind == GT_BROKER_CLOSES));
        }
        i++;
    }
    return GT_OK;
}

static void clear_records(gt_broker *b)
{
    b->norders = b->npositions = b->nfills = b->nitems = 0;
}

static int64_t record_count(const gt_broker *b, int32_t kind)
{
    switch (kind) {
    case GT_BROKER_ORDER:
    case GT_BROKER_ORDERS:
        return b->norders;
    case GT_BROKER_POSITION:
    case GT_BROKER_POSITIONS:
        return b->npositions;
    case GT_BROKER_FILLS:
        return b->nfills;
    case GT_BROKER_CANCELS:
    case GT_BROKER_CLOSES:
        return b->nitems;
    default:
        return 1;
    }
}

static void res_init(gt_broker_result *res)
{
    memset(res, 0, sizeof *res);
    res->reset_in_s = -1;
}

/* Parses into the broker's records; on failure none are left (never half a list). */
static int parse_body(gt_broker *b, int32_t kind, const char *json, int64_t len,
                      gt_broker_result *res)
{
    clear_records(b);
    cJSON *root = cJSON_ParseWithLength(json, (size_t)len);
    int rc;
    if (!root) {
        rc = gt_seterr(GT_EDATA, "alpaca: the response is not valid JSON");
    } else {
        switch (kind) {
        case GT_BROKER_ORDER:
            rc = parse_order(b, root, NULL, 0, "order");
            break;
        case GT_BROKER_POSITION:
            rc = parse_position(b, root, 0);
            break;
        case GT_BROKER_ACCOUNT:
            rc = parse_account(b, root);
            break;
        case GT_BROKER_CLOCK:
            rc = parse_clock(b, root);
            break;
        default:
            rc = parse_list(b, kind, root);
        }
    }
    cJSON_Delete(root);
    if (rc)
        clear_records(b); /* never half a list */
    res->count = rc ? 0 : record_count(b, kind);
    res->outcome = rc ? GT_BROKER_UNKNOWN : GT_BROKER_OK;
    if (rc)
        snprintf(res->message, sizeof res->message, "%s", gt_errmsg());
    return rc;
}

int gt_broker_parse(gt_broker *b, int32_t kind, const char *json, int64_t len,
                    gt_broker_result *res)
{
    if (!res)
        return gt_seterr(GT_EINVAL, "broker: NULL result");
    res_init(res);
    if (!b || !json || len < 0 || kind < GT_BROKER_ORDER || kind > GT_BROKER_CLOCK) {
        res->outcome = GT_BROKER_LOCAL;
        return gt_seterr(GT_EINVAL, "broker: parse needs a broker, a body and a known kind");
    }
    return parse_body(b, kind, json, len, res);
}

/* ---- requests ---- */

/* An order id or similar path segment: letters, digits and '-' only (Alpaca's are UUIDs). */
static int id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-'))
            return 0;
    }
    return 1;
}

static int cid_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 48)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.' || ch == ':'))
            return 0;
    }
    return 1;
}

static int symbol_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 31)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '/' || ch == '-'))
            return 0;
    }
    return 1;
}

/* Percent-encodes s (outside RFC 3986's unreserved set) onto out. */
static void esc(char *out, size_t cap, const char *s)
{
    size_t n = strlen(out);
    for (; *s && n + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~')
            out[n++] = (char)ch;
        else
            n += (size_t)snprintf(out + n, cap - n, "%%%02X", ch);
    }
    out[n] = '\0';
}

static int local_fail(gt_broker_result *res, int rc)
{
    res->outcome = GT_BROKER_LOCAL;
    snprintf(res->message, sizeof res->message, "%s", gt_errmsg());
    return rc;
}

/* The value of a kept response header ("name: value\n" lines, lowercase names). */
static double header_num(const char *hdrs, const char *name)
{
    const char *p = strstr(hdrs, name);
    if (!p)
        return -1;
    char *end;
    double v = strtod(p + strlen(name), &end);
    return end == p + strlen(name) ? -1 : v;
}

static double reset_in(const gt_broker *b, const gt_http_resp *r)
{
    double ra = header_num(r->headers, "retry-after: ");
    if (ra >= 0)
        return ra;
    double v = header_num(r->headers, "x-ratelimit-reset: ");
    if (v >= 1e9) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        v -= (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
        return v > 0 ? v : 0;
    }
    if (v >= 0)
        return v;
    double w = gt_http_host_wait(b->host);
    return w > 0 ? w : -1;
}

/* Sends one request and classifies it; on OK parses the body as kind (kind < 0: no body
 * expected). */
static int call(gt_broker *b, int32_t method, const char *path, const char *body, int32_t kind,
                gt_broker_result *res)
{
    static const char *const MN[] = {"GET", "POST", "DELETE", "PATCH", "PUT"};
    const char *mname = MN[method];
    char what[320];
    snprintf(what, sizeof what, "%s %.*s", mname, (int)strcspn(path, "?"), path);
    if (!b->has_keys) {
        int rc = gt_seterr(GT_EINVAL,
                           "alpaca: %s: no API keys loaded (a key file or "
                           "APCA_API_KEY_ID / APCA_API_SECRET_KEY)",
                           what);
        return local_fail(res, rc);
    }
    char url[2048];
    if ((size_t)snprintf(url, sizeof url, "%s%s", b->base, path) >= sizeof url)
        return local_fail(res, gt_seterr(GT_EINVAL, "alpaca: %s: URL too long", what));
    char hdr[3 * KEY_CAP + 128];
    snprintf(hdr, sizeof hdr,
             "APCA-API-KEY-ID: %s\nAPCA-API-SECRET-KEY: %s\nAccept: application/json\n%s", b->k->id,
             b->k->secret, body ? "Content-Type: application/json\n" : "");
    gt_http_resp r;
    int hrc = gt_http_request(b->http, method, url, hdr, body, body ? (int64_t)strlen(body) : 0,
                              method == GT_HTTP_GET ? 0 : GT_HTTP_ONCE, &r);
    wipe(hdr, sizeof hdr);
    res->http_status = (int32_t)r.status;
    res->waited_s = r.waited_s;
    long st = (long)r.status;
    if (hrc == GT_OK && st >= 200 && st < 300) {
        if (kind < 0 || (r.bytes == 0 && (st == 204 || st == 207)))
            return GT_OK;
        int rc = parse_body(b, kind, r.body, r.bytes, res);
        if (rc) {
            char keep[512];
            snprintf(keep, sizeof keep, "%s", gt_errmsg());
            rc = gt_seterr(GT_EDATA, "%s (%s, HTTP %ld)", keep, what, st);
            snprintf(res->message, sizeof res->message, "%s", gt_errmsg());
        }
        return rc;
    }
    /* Alpaca's error body: {"code": 40010001, "message": "..."}; its text is the server's,
     * so it is scrubbed of keys and control characters before anyone sees it */
    char msg[200] = "";
    if (st >= 400 && r.bytes > 0) {
        cJSON *e = cJSON_ParseWithLength(r.body, (size_t)r.bytes);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
        if (cJSON_IsString(m))
            gt_scrub(m->valuestring, (int64_t)strlen(m->valuestring), GT_SCRUB_CONTROL, msg,
                     sizeof msg);
        if (cJSON_IsNumber(code))
            res->api_code = (int64_t)code->valuedouble;
        cJSON_Delete(e);
    }
    int rc;
    if (hrc == GT_EINVAL) {
        return local_fail(res, hrc);
    } else if (st == 429 || (st == 0 && hrc == GT_EHTTP)) {
        res->outcome = GT_BROKER_RATE_LIMITED;
        res->reset_in_s = reset_in(b, &r);
        if (res->reset_in_s < 0 && st == 429) /* no reset named: no request for a second */
            gt_http_block_host(b->host, 1.0);
        rc = gt_seterr(GT_EHTTP, "alpaca: %s: rate limited (HTTP 429), resets in %.0f s", what,
                       res->reset_in_s);
    } else if (st == 404) {
        res->outcome = GT_BROKER_NOT_FOUND;
        rc = gt_seterr(GT_ENOTFOUND, "alpaca: %s: not found (HTTP 404)%s%s", what,
                       msg[0] ? ": " : "", msg);
    } else if (st >= 400 && st < 500 && st != 408) {
        res->outcome = GT_BROKER_REJECTED;
        rc = gt_seterr(GT_EDENIED, "alpaca: %s: rejected (HTTP %ld)%s%s", what, st,
                       msg[0] ? ": " : "", msg);
    } else {
        /* 5xx, 408, a redirect, a timeout, a dropped or truncated answer: may have happened */
        res->outcome = GT_BROKER_UNKNOWN;
        char keep[512];
        snprintf(keep, sizeof keep, "%s", gt_errcode() == hrc ? gt_errmsg() : "no answer");
        rc = gt_seterr(hrc ? hrc : GT_EHTTP, "alpaca: %s: outcome unknown: %s", what, keep);
    }
    snprintf(res->message, sizeof res->message, "%s", msg[0] ? msg : gt_errmsg());
    return rc;
}

static int begin(gt_broker *b, gt_broker_result *res)
{
    if (!res)
        return gt_seterr(GT_EINVAL, "broker: NULL result");
    res_init(res);
    if (!b)
        return local_fail(res, gt_seterr(GT_EINVAL, "broker: NULL broker"));
    clear_records(b);
    return GT_OK;
}

int gt_broker_account_get(gt_broker *b, gt_broker_result *res)
{
    TRY(begin(b, res));
    return call(b, GT_HTTP_GET, "/v2/account", NULL, GT_BROKER_ACCOUNT, res);
}

int gt_broker_clock_get(gt_broker *b, gt_broker_result *res)
{
    TRY(begin(b, res));
    return call(b, GT_HTTP_GET, "/v2/clock", NULL, GT_BROKER_CLOCK, res);
}

int gt_broker_positions(gt_broker *b, gt_broker_result *res)
{
    TRY(begin(b, res));
    return call(b, GT_HTTP_GET, "/v2/positions", NULL, GT_BROKER_POSITIONS, res);
}

int gt_broker_position_get(gt_broker *b, const char *symbol, gt_broker_result *res)
{
    TRY(begin(b, res));
    if (!symbol_ok(symbol))
        return local_fail(res, gt_seterr(GT_EINVAL, "broker: position: bad symbol"));
    char path[128] = "/v2/positions/";
    esc(path, sizeof path, symbol);
    return call(b, GT_HTTP_GET, path, NULL, GT_BROKER_POSITION, res);
}

int gt_broker_close_all(gt_broker *b, int32_t cancel_orders, gt_broker_result *res)
{
    TRY(begin(b, res));
    return call(b, GT_HTTP_DELETE,
                cancel_orders ? "/v2/positions?cancel_orders=true" : "/v2/positions", NULL,
                GT_BROKER_CLOSES, res);
}

int gt_broker_order_get(gt_broker *b, const char *order_id, gt_broker_result *res)
{
    TRY(begin(b, res));
    if (!id_ok(order_id))
        return local_fail(res, gt_seterr(GT_EINVAL, "broker: order_get: bad order id"));
    char path[128];
    snprintf(path, sizeof path, "/v2/orders/%s?nested=true", order_id);
    return call(b, GT_HTTP_GET, path, NULL, GT_BROKER_ORDER, res);
}

int gt_broker_order_by_client_id(gt_broker *b, const char *client_order_id, gt_broker_result *res)
{
    TRY(begin(b, res));
    if (!cid_ok(client_order_id))
        return local_fail(res, gt_seterr(GT_EINVAL, "broker: by_client_order_id: a "
                                                    "client_order_id is 1..48 of "
                                                    "[A-Za-z0-9._:-]"));
    char path[256] = "/v2/orders:by_client_order_id?client_order_id=";
    esc(path, sizeof path, client_order_id);
    return call(b, GT_HTTP_GET, path, NULL, GT_BROKER_ORDER, res);
}

static int add_time(char *path, size_t cap, const char *name, int64_t us)
{
    char t[40];
    gt_time_format(us, 0, t, sizeof t);
    size_t n = strlen(path);
    snprintf(path + n, cap - n, "&%s=", name);
    esc(path, cap, t);
    return GT_OK;
}

int gt_broker_orders_list(gt_broker *b, const char *status, int64_t after_us, int64_t until_us,
                          int32_t limit, const char *direction, const char *symbols,
                          gt_broker_result *res)
{
    TRY(begin(b, res));
    status = status ? status : "open";
    if (strcmp(status, "open") && strcmp(status, "closed") && strcmp(status, "all"))
        return local_fail(res, gt_seterr(GT_EINVAL, "broker: orders: status must be open, "
                                                    "closed or all"));
    if (limit < 0 || limit > 500)
        return local_fail(res, gt_seterr(GT_EINVAL, "broker: orders: limit must be 0..500"));
    if (direction && strcmp(direction, "asc") && strcmp(direction, "desc"))
        return local_fail(res, gt_seterr(GT_EINVAL, "broker: orders: direction is asc or desc"));
    char path[1024];
    snprintf(path, sizeof path, "/v2/orders?status=%s&nested=true", status);
    if (limit > 0) {
        size_t n = strlen(path);
        snprintf(path + n, sizeof path - n, "&limit=%d", (int)limit);
    }
    if (after_us)
        add_time(path, sizeof path, "after", after_us);
    if (until_us)
        add_time(path, sizeof path, "until", until_us);
    if (direction) {
        size_t n = strlen(path);
        snprintf(path + n, sizeof path - n, "&direction=%s", direction);
    }
    if (symbols && symbols[0]) {
        if (strlen(symbols) > 600)
            return local_fail(res, gt_seterr(GT_EINVAL, "broker: orders: too many symbols"));
        size_t n = strlen(path);
        snprintf(path + n, sizeof path - n, "&symbols=");
        esc(path, sizeof path, symbols);
    }
    return call(b, GT_HTTP_GET, path, NULL, GT_BROKER_ORDERS, res);
}

int gt_broker_cancel(gt_broker *b, const char *order_id, gt_broker_result *res)
{
    TRY(begin(b, res));
    if (!id_ok(order_id))
        return local_fail(res, gt_seterr(GT_EINVAL, "broker: cancel: bad order id"));
    char path[128];
    snprintf(path, sizeof path, "/v2/orders/%s", order_id);
    return call(b, GT_HTTP_DELETE, path, NULL, -1, res);
}

int gt_broker_cancel_all(gt_broker *b, gt_broker_result *res)
{
    TRY(begin(b, res));
    return call(b, GT_HTTP_DELETE, "/v2/orders", NULL, GT_BROKER_CANCELS, res);
}

int gt_broker_fills(gt_broker *b, int64_t after_us, const char *page_token, int32_t page_size,
                    gt_broker_result *res)
{
    TRY(begin(b, res));
    if (page_size < 0 || page_size > 100)
        return local_fail(res, gt_seterr(GT_EINVAL, "broker: fills: page_size must be 0..100"));
    char path[512];
    snprintf(path, sizeof path, "/v2/account/activities/FILL?direction=asc&page_size=%d",
             page_size ? (int)page_size : 100);
    if (after_us)
        add_time(path, sizeof path, "after", after_us);
    if (page_token && page_token[0]) {
        if (strlen(page_token) > 95)
            return local_fail(res, gt_seterr(GT_EINVAL, "broker: fills: page token too long"));
        size_t n = strlen(path);
        snprintf(path + n, sizeof path - n, "&page_token=");
        esc(path, sizeof path, page_token);
    }
    return call(b, GT_HTTP_GET, path, NULL, GT_BROKER_FILLS, res);
}

/* ---- order requests ---- */

/* A decimal string without exponent or trailing zeros ("10", "187.25", "0.000001"). */
static void dec(double v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.9f", v);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *e = buf + strlen(buf) - 1;
        while (e > dot && *e == '0')
            *e-- = '\0';
        if (e == dot)
            *e = '\0';
    }
}

static int add_num(cJSON *o, const char *name, double v)
{
    if (isnan(v))
        return GT_OK;
    if (!isfinite(v) || v <= 0 || v >= 1e12)
        return gt_seterr(GT_EINVAL, "broker: order: %s must be a positive finite number", name);
    char s[64];
    dec(v, s, sizeof s);
    return cJSON_AddStringToObject(o, name, s) ? GT_OK
                                               : gt_seterr(GT_ENOMEM, "broker: out of memory");
}

static int in_set(const char *v, const char *const *set)
{
    for (int i = 0; set[i]; i++)
        if (strcmp(v, set[i]) == 0)
            return 1;
    return 0;
}

/* The JSON of a new order (replace = 0) or of a replace's changes (replace = 1). */
static int order_body(const gt_broker_order_req *q, int replace, char **out)
{
    *out = NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return gt_seterr(GT_ENOMEM, "broker: out of memory");
    int rc = GT_OK;
#define BAD(...)                                                                                   \
    do {                                                                                           \
        rc = gt_seterr(GT_EINVAL, __VA_ARGS__);                                                    \
        goto out;                                                                                  \
    } while (0)
    int is_limit = strcmp(q->type, "limit") == 0 || strcmp(q->type, "stop_limit") == 0;
    int is_stop = strcmp(q->type, "stop") == 0 || strcmp(q->type, "stop_limit") == 0;
    int is_trail = strcmp(q->type, "trailing_stop") == 0;
    if (!replace) {
        if (!symbol_ok(q->symbol))
            BAD("broker: order: symbol must be 1..31 of [A-Za-z0-9./-]");
        if (!in_set(q->side, SIDES))
            BAD("broker: order: side must be buy or sell");
        if (!in_set(q->type, TYPES))
            BAD("broker: order: type must be market, limit, stop, stop_limit or trailing_stop");
        if (!in_set(q->tif, TIFS))
            BAD("broker: order: time_in_force must be day, gtc, opg, cls, ioc or fok");
        if (!cid_ok(q->client_order_id))
            BAD("broker: order: client_order_id must be 1..48 of [A-Za-z0-9._:-]");
        if (isnan(q->qty) == isnan(q->notional))
            BAD("broker: order: give qty or notional, exactly one");
        if (is_limit && isnan(q->limit_price))
            BAD("broker: order: a %s order needs limit_price", q->type);
        if (!is_limit && !isnan(q->limit_price))
            BAD("broker: order: limit_price is only for limit and stop_limit orders");
        if (is_stop && isnan(q->stop_price))
            BAD("broker: order: a %s order needs stop_price", q->type);
        if (!is_stop && !isnan(q->stop_price))
            BAD("broker: order: stop_price is only for stop and stop_limit orders");
        if (is_trail && isnan(q->trail_price) == isnan(q->trail_percent))
            BAD("broker: order: a trailing stop needs trail_price or trail_percent, one");
        if (!is_trail && !(isnan(q->trail_price) && isnan(q->trail_percent)))
            BAD("broker: order: trail_price and trail_percent are only for trailing stops");
        if (q->order_class[0] && !in_set(q->order_class, CLASSES))
            BAD("broker: order: order_class must be simple, bracket, oco or oto");
        int bracket = strcmp(q->order_class, "bracket") == 0;
        if (bracket && (isnan(q->take_profit_limit) || isnan(q->stop_loss_stop)))
            BAD("broker: order: a bracket needs take_profit_limit and stop_loss_stop");
        if (!cJSON_AddStringToObject(o, "symbol", q->symbol) ||
            !cJSON_AddStringToObject(o, "side", q->side) ||
            !cJSON_AddStringToObject(o, "type", q->type) ||
            !cJSON_AddStringToObject(o, "time_in_force", q->tif) ||
            !cJSON_AddStringToObject(o, "client_order_id", q->client_order_id))
            BAD("broker: out of memory");
        if ((rc = add_num(o, "qty", q->qty)) || (rc = add_num(o, "notional", q->notional)))
            goto out;
        if (q->order_class[0] && !cJSON_AddStringToObject(o, "order_class", q->order_class))
            BAD("broker: out of memory");
        if (q->extended_hours && !cJSON_AddTrueToObject(o, "extended_hours"))
            BAD("broker: out of memory");
        if (!isnan(q->take_profit_limit)) {
            cJSON *tp = cJSON_AddObjectToObject(o, "take_profit");
            if (!tp || (rc = add_num(tp, "limit_price", q->take_profit_limit)))
                goto out;
        }
        if (!isnan(q->stop_loss_stop) || !isnan(q->stop_loss_limit)) {
            cJSON *sl = cJSON_AddObjectToObject(o, "stop_loss");
            if (!sl || (rc = add_num(sl, "stop_price", q->stop_loss_stop)) ||
                (rc = add_num(sl, "limit_price", q->stop_loss_limit)))
                goto out;
        }
    } else {
        if (q->client_order_id[0] && !cid_ok(q->client_order_id))
            BAD("broker: replace: client_order_id must be 1..48 of [A-Za-z0-9._:-]");
        if (q->tif[0] && !in_set(q->tif, TIFS))
            BAD("broker: replace: time_in_force must be day, gtc, opg, cls, ioc or fok");
        if ((rc = add_num(o, "qty", q->qty)))
            goto out;
        if (q->tif[0] && !cJSON_AddStringToObject(o, "time_in_force", q->tif))
            BAD("broker: out of memory");
        if (q->client_order_id[0] &&
            !cJSON_AddStringToObject(o, "client_order_id", q->client_order_id))
            BAD("broker: out of memory");
    }
    if ((rc = add_num(o, "limit_price", q->limit_price)) ||
        (rc = add_num(o, "stop_price", q->stop_price)) ||
        (rc = add_num(o, "trail_price", q->trail_price)) ||
        (rc = add_num(o, "trail_percent", q->trail_percent)))
        goto out;
    if (replace && !o->child)
        BAD("broker: replace: nothing to change");
    if (!(*out = cJSON_PrintUnformatted(o)))
        rc = gt_seterr(GT_ENOMEM, "broker: out of memory");
#undef BAD
out:
    cJSON_Delete(o);
    return rc;
}

int gt_broker_submit(gt_broker *b, const gt_broker_order_req *req, gt_broker_result *res)
{
    TRY(begin(b, res));
    if (!req)
        return local_fail(res, gt_seterr(GT_EINVAL, "broker: submit: NULL order"));
    char *body;
    int rc = order_body(req, 0, &body);
    if (rc)
        return local_fail(res, rc);
    rc = call(b, GT_HTTP_POST, "/v2/orders", body, GT_BROKER_ORDER, res);
    cJSON_free(body);
    return rc;
}

int gt_broker_replace(gt_broker *b, const char *order_id, const gt_broker_order_req *req,
                      gt_broker_result *res)
{
    TRY(begin(b, res));
    if (!req || !id_ok(order_id))
        return local_fail(res, gt_seterr(GT_EINVAL, "broker: replace: bad order id or changes"));
    char *body;
    int rc = order_body(req, 1, &body);
    if (rc)
        return local_fail(res, rc);
    char path[128];
    snprintf(path, sizeof path, "/v2/orders/%s", order_id);
    rc = call(b, GT_HTTP_PATCH, path, body, GT_BROKER_ORDER, res);
    cJSON_free(body);
    return rc;
}

/* ---- records ---- */

const gt_broker_order *gt_broker_order_at(const gt_broker *b, int64_t i)
{
    return b && i >= 0 && i < b->norders ? &b->orders[i] : NULL;
}

const gt_broker_position *gt_broker_position_at(const gt_broker *b, int64_t i)
{
    return b && i >= 0 && i < b->npositions ? &b->positions[i] : NULL;
}

const gt_broker_fill *gt_broker_fill_at(const gt_broker *b, int64_t i)
{
    return b && i >= 0 && i < b->nfills ? &b->fills[i] : NULL;
}

const gt_broker_item *gt_broker_item_at(const gt_broker *b, int64_t i)
{
    return b && i >= 0 && i < b->nitems ? &b->items[i] : NULL;
}

const gt_broker_account *gt_broker_account_last(const gt_broker *b)
{
    return b ? &b->account : NULL;
}

const gt_broker_clock *gt_broker_clock_last(const gt_broker *b)
{
    return b ? &b->clock : NULL;
}
