/*
 * fakealpaca.c: a loopback fake of the Alpaca Trading API v2 (the subset in
 * ../shared/RELIABILITY.md section 3) for tests: stateful, deterministic, with fault
 * injection and an audit log. Binds 127.0.0.1 on an ephemeral port and prints the port as
 * its first stdout line; exits by itself after max-seconds (default 60, at most 7200) or
 * max-requests. Single-threaded: one poll loop over the listening socket and up to 32
 * keep-alive connections (the least recently used is closed when a 33rd arrives). Requests
 * are capped at 16 KiB of headers and 64 KiB of body (431/413, then close). A delay fault
 * blocks the whole server (fine for one client under test). Built with OpenSSL when its
 * headers are installed (libssl-dev), for --tls; uses cJSON for every body in and out.
 *
 * usage: fakealpaca [--tls CERT KEY] SCRIPT AUDIT_LOG
 *   --tls CERT KEY   serve HTTPS with that PEM certificate and key (a test certificate
 *                    made with openssl: the client must refuse it unless told to trust it)
 *
 * SCRIPT, one directive per line ('#' lines and blank lines are ignored). POST
 * /admin/fault takes the same directives at run time (one or more lines in the body), so
 * a test can change prices and faults mid-run. Numbers are plain decimals.
 *   key ID SECRET            the credentials every /v2 request must carry in APCA-API-KEY-ID
 *                            and APCA-API-SECRET-KEY, else 401 {"message":"unauthorized"}
 *                            (required in the script)
 *   max-seconds S            exit after S seconds (default 60, at most 7200)
 *   max-requests N           exit after N requests (default 1000000)
 *   cash X                   starting cash (default 100000); sets last_equity too
 *   multiplier M             buying power = M * cash - open buy orders (default 1)
 *   clock TIME               the market's time at step 0: RFC 3339 or epoch seconds
 *                            (default 2024-01-02T14:30:00Z)
 *   step-seconds S           market time added per step (default 60)
 *   price SYM P1 P2 ...      append to SYM's price path; step k trades at P(k+1), the last
 *                            price holds after the path ends; a symbol without a path
 *                            cannot be traded (422)
 *   step-every N             also step after every N-th /v2 request (0: off, the default)
 *   partial SYM FRACTION     each fill of a SYM order takes FRACTION of the remaining qty
 *                            (whole shares for whole-share orders, at least 1) instead of all
 *                            of it; 1 or 0 restores whole fills
 *   market open|closed       the clock's is_open; while closed POST /v2/orders is refused
 *                            403 {"message":"market is closed"} (so is each position close)
 *                            and nothing fills
 *   drop-after-accept N [STATUS]  the next N POST /v2/orders that create an order are
 *                            executed, then the connection is closed without a response
 *                            (with STATUS: answered with that status and an error body
 *                            instead, e.g. a 500 after the order was placed)
 *   delay MS [PREFIX]        hold every /v2 request whose path starts with PREFIX (default
 *                            all) MS milliseconds before executing it; delay 0 clears
 *   status CODE [COUNT] [PREFIX]  the next COUNT (default 1) /v2 requests whose path starts
 *                            with PREFIX are answered CODE without being executed (429
 *                            carries X-Ratelimit-Limit, X-Ratelimit-Remaining: 0 and
 *                            X-Ratelimit-Reset, epoch seconds one second ahead); COUNT 0
 *                            clears the faults of that CODE
 *   reset [COUNT] [PREFIX]   the next COUNT (default 1) /v2 requests are not executed: the
 *                            connection is reset (RST) without an answer
 *   hide-open ID|CLIENT_ID   that order never appears in GET /v2/orders lists (any status)
 *                            but is still found by id and by client_order_id
 *   seed-position SYM QTY AVG  add a position (QTY < 0: short) the client did not trade;
 *                            cash is unchanged
 *   rate-limit N             at most N /v2 requests in any 60 s window (real time), beyond
 *                            that 429 (Alpaca's is 200); 0: off, the default
 *   clear-faults             drop-after-accept, delay, status, reset and rate-limit off
 *
 * The market: `POST /admin/step` (and step-every) advances every price path one step and
 * market time by step-seconds, then offers every open order, oldest first, to the matcher.
 * A new order is offered once at submission too. Fills happen at the current price:
 * market always; limit when the price is at or better than the limit; stop and
 * stop_limit once the price reaches the stop (then as market or limit); trailing_stop
 * against the best price since submission (hwm). ioc fills what it can at submission and
 * cancels the rest; fok fills all at once or is canceled; day/gtc/opg/cls rest. Brackets
 * (order_class bracket, market or limit parent) hold a take_profit limit and a stop_loss
 * stop (stop_limit with stop_loss.limit_price) until the parent is filled; the first fill
 * of one leg cancels the other. Every fill updates the order (filled_qty,
 * filled_avg_price), the position (average price; shorts allowed), cash and the FILL
 * activities. Statuses move only along Alpaca's legal paths: held -> new; new ->
 * partially_filled -> filled; new|partially_filled -> canceled|replaced (anything else
 * aborts the server: it would be a bug here). Timestamps are market time plus one
 * microsecond per event, so they are unique and increase. Buys need buying power
 * (403 "insufficient buying power").
 *
 * The API (bodies JSON; numbers as strings; order, position and activity objects shaped as
 * Alpaca's): GET /v2/account, GET /v2/clock, GET /v2/positions, GET|DELETE
 * /v2/positions/{symbol} (404 when flat), DELETE /v2/positions[?cancel_orders=true] (207
 * [{symbol,status,body}]), POST /v2/orders (200; 422 {"code":40010001,"message":
 * "client_order_id must be unique"} for a client_order_id seen before, whatever became of
 * it; 422 for bad terms, 400 for qty with notional), GET /v2/orders (status
 * open|closed|all, limit 50 max 500, after, until, direction asc|desc, symbols, nested), GET
 * /v2/orders/{id}, GET /v2/orders:by_client_order_id?client_order_id= (404 when unknown),
 * PATCH /v2/orders/{id} (a new order replaces the old, which becomes `replaced`), DELETE
 * /v2/orders/{id} (204; 404 unknown; 422 not cancelable), DELETE /v2/orders (207
 * [{id,status,body}]), GET /v2/account/activities/FILL (or /v2/account/activities?
 * activity_types=FILL; after, until, direction (desc), page_size (100 max 100),
 * page_token = the id of the last activity seen). Every /v2 answer carries
 * X-Ratelimit-Limit/Remaining/Reset from the 60 s window.
 *
 * Admin (no credentials, no faults, not counted for step-every):
 *   POST /admin/step         one step (a body or ?n= of N <= 10000: N steps)
 *                            -> {"step","time","prices"}
 *   POST /admin/fault        the body's directives -> {"ok":true} or 400 {"message":...}
 *   GET  /admin/state        everything: account, clock, prices, orders (legs included, each
 *                            with "hidden"), positions, activities (oldest first), faults
 *                            and counters (requests, posts = POST /v2/orders received,
 *                            orders created, duplicates refused, unauthorized, sent_429,
 *                            sent_5xx, dropped, resets, delayed, rate_limited, steps)
 *   POST /admin/shutdown     answer, then exit
 *
 * AUDIT_LOG gets one JSON line per request (those refused as malformed too), flushed at once:
 *   {"n":..,"t":<s since start>,"method":..,"path":..,"status":<sent, or that the drop
 *    swallowed; 0 for a reset>,"auth":"ok"|"failed"|"admin","client_order_id":..|null,
 *    "order_id":..|null,"fault":"reset"|"delay"|"status"|"rate-limit"|"drop-after-accept"|null}
 * Headers and bodies are never logged, so neither is the secret key.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#ifdef FAKE_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

#define MAX_CONN 32
#define HDR_CAP (16 * 1024)
#define BODY_CAP (64 * 1024)
#define BUF_CAP (HDR_CAP + BODY_CAP)
#define MAX_SYMS 64
#define MAX_PATH 100000
#define MAX_ORDERS 200000
#define MAX_ACTS 400000
#define MAX_HIDDEN 256
#define MAX_SFAULTS 16
#define CID_MAX 48
#define RL_CAP 65536
#define US 1000000LL

/* Order statuses (Alpaca's names in st_name) and the legal moves between them. */
enum { ST_NEW, ST_PARTIAL, ST_FILLED, ST_CANCELED, ST_REPLACED, ST_HELD };
static const char *const st_name[] = {"new",      "partially_filled", "filled",
                                      "canceled", "replaced",         "held"};
enum { T_MARKET, T_LIMIT, T_STOP, T_STOP_LIMIT, T_TRAILING };
static const char *const type_name[] = {"market", "limit", "stop", "stop_limit", "trailing_stop"};
static const char *const tif_name[] = {"day", "gtc", "opg", "cls", "ioc", "fok"};
enum { TIF_IOC = 4, TIF_FOK = 5 };

typedef struct sym {
    char name[16];
    double *px;
    int npx;
    double partial; /* 0: whole fills */
    double pos_qty, pos_avg;
} sym;

typedef struct order {
    char id[40], cid[CID_MAX + 1];
    int sym;
    int side; /* +1 buy, -1 sell */
    int type, tif, status, bracket, extended;
    double qty, filled, avg;
    double limit, stop, trail_price, trail_pct, hwm; /* NAN when absent */
    int triggered;
    int parent, legs[2], replaces, replaced_by;                      /* order indexes, -1: none */
    long long created, updated, filled_at, canceled_at, replaced_at; /* us, 0: null */
} order;

typedef struct fillrec {
    int order;
    long long t;
    double qty, price, cum, leaves;
    int partial;
} fillrec;

typedef struct sfault {
    int status;
    long count;
    char prefix[128];
} sfault;

typedef struct conn {
    int fd;
    char *buf;
    size_t len;
    int continued; /* "100 Continue" already sent for the request in buf */
    double last;
#ifdef FAKE_TLS
    SSL *ssl;
#endif
} conn;

/* One request and what the handler decided. */
typedef struct req {
    char method[16], path[2048], query[4096];
    const char *hdrs, *body;
    size_t hdrs_len, blen;
    int status;
    char *out; /* response body (malloc), NULL: none */
    char xhdrs[512];
    const char *auth, *fault;
    char cid[CID_MAX + 16], oid[40];
} req;

enum { KEEP, CLOSE, DROP, RESET, SHUTDOWN };

static sym syms[MAX_SYMS];
static int nsyms;
static order *orders;
static int norders, ocap, first_open;
static fillrec *acts;
static int nacts, acap;
static int *ctab; /* client_order_id hash: order index + 1, 0 empty */
static size_t ccap, cused;
static char hidden[MAX_HIDDEN][CID_MAX + 1];
static int nhidden;
static sfault sfaults[MAX_SFAULTS];
static char key_id[256], key_secret[256];
static double cash = 100000, last_equity = 100000, multiplier = 1;
static long long clock_start = 1704205800LL * US, step_us = 60 * US, now_us;
static long steps, step_every, since_step;
static int market_open = 1;
static long drop_n;
static int drop_status;
static long delay_ms;
static char delay_prefix[128];
static long reset_n;
static char reset_prefix[128];
static long rl_n;
static double rl_t[RL_CAP];
static long rl_head, rl_len;
static struct {
    long requests, posts, orders, duplicates, unauthorized, sent_429, sent_5xx, dropped, resets,
        delayed, rate_limited;
} cnt;
static long tls_failures;
static long max_requests = 1000000;
static double max_seconds = 60;
static double t_start;
static FILE *audit;
#ifdef FAKE_TLS
static SSL_CTX *tls;
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double r9(double x)
{
    return round(x * 1e9) / 1e9;
}

/* Numbers go out as strings: up to 9 decimals, trailing zeros dropped. */
static void fmt_num(char *b, size_t cap, double v)
{
    snprintf(b, cap, "%.9f", r9(v));
    char *dot = strchr(b, '.');
    if (dot) {
        char *e = b + strlen(b) - 1;
        while (e > dot && *e == '0')
            *e-- = '\0';
        if (e == dot)
            *e = '\0';
    }
    if (strcmp(b, "-0") == 0)
        strcpy(b, "0");
}

static void fmt_time(char *b, size_t cap, long long us)
{
    time_t t = (time_t)(us / US);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(b, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us % US);
}

/* RFC 3339 (a date alone is its midnight UTC) or epoch seconds -> microseconds. */
static int parse_time(const char *s, long long *us)
{
    int y, mo, d, h = 0, mi = 0, n = 0;
    double sec = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) {
        char *e;
        double v = strtod(s, &e);
        if (e == s || *e || !isfinite(v) || fabs(v) > 1e11)
            return -1;
        *us = (long long)llround(v * 1e6);
        return 0;
    }
    const char *p = s + n;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        int k = 0;
        if (sscanf(p + 1, "%2d:%2d:%lf%n", &h, &mi, &sec, &k) != 3)
            return -1;
        p += 1 + k;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om, k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5)
            return -1;
        off = (long)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    }
    if (*p || !(sec >= 0 && sec < 61))
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = (int)sec;
    time_t t = timegm(&tm);
    *us = ((long long)t - off) * US + llround((sec - floor(sec)) * 1e6);
    return 0;
}

/* The next event's time: market time, one microsecond later than the last event. */
static long long tick(void)
{
    return ++now_us;
}

/* ---- symbols, prices, positions ---- */

static int sym_find(const char *name)
{
    for (int i = 0; i < nsyms; i++)
        if (strcmp(syms[i].name, name) == 0)
            return i;
    return -1;
}

static int sym_get(const char *name)
{
    int i = sym_find(name);
    if (i >= 0 || nsyms == MAX_SYMS || strlen(name) >= sizeof syms[0].name || !name[0])
        return i;
    snprintf(syms[nsyms].name, sizeof syms[0].name, "%s", name);
    return nsyms++;
}

static double price(int s)
{
    if (s < 0 || syms[s].npx == 0)
        return NAN;
    long k = steps < syms[s].npx ? steps : syms[s].npx - 1;
    return syms[s].px[k];
}

/* A position's mark: the current price, or its average when the symbol has no path. */
static double mark(int s)
{
    double p = price(s);
    return isnan(p) ? syms[s].pos_avg : p;
}

static void position_add(int s, double d, double p)
{
    sym *y = &syms[s];
    double q = y->pos_qty;
    if (q == 0 || (q > 0) == (d > 0)) {
        y->pos_avg = r9((y->pos_avg * fabs(q) + p * fabs(d)) / (fabs(q) + fabs(d)));
    } else if (fabs(d) > fabs(q)) {
        y->pos_avg = p; /* flipped: the rest opens at this price */
    }
    y->pos_qty = r9(q + d);
    if (y->pos_qty == 0)
        y->pos_avg = 0;
}

static double equity(void)
{
    double e = cash;
    for (int i = 0; i < nsyms; i++)
        if (syms[i].pos_qty != 0)
            e += syms[i].pos_qty * mark(i);
    return r9(e);
}

static int is_open_status(int st)
{
    return st == ST_NEW || st == ST_PARTIAL || st == ST_HELD;
}

static double buying_power(void)
{
    double reserved = 0;
    for (int i = first_open; i < norders; i++) {
        order *o = &orders[i];
        if (o->side > 0 && (o->status == ST_NEW || o->status == ST_PARTIAL)) {
            double p = isnan(o->limit) ? price(o->sym) : o->limit;
            if (!isnan(p))
                reserved += (o->qty - o->filled) * p;
        }
    }
    double bp = multiplier * cash - reserved;
    return bp > 0 ? r9(bp) : 0;
}

/* ---- orders ---- */

static int legal(int from, int to)
{
    switch (from) {
    case ST_HELD:
        return to == ST_NEW || to == ST_CANCELED;
    case ST_NEW:
    case ST_PARTIAL:
        return to == ST_PARTIAL || to == ST_FILLED || to == ST_CANCELED || to == ST_REPLACED;
    }
    return 0;
}

static void set_status(int oi, int to)
{
    order *o = &orders[oi];
    if (!legal(o->status, to)) {
        fprintf(stderr, "fakealpaca: illegal transition %s -> %s for order %s\n",
                st_name[o->status], st_name[to], o->id);
        abort();
    }
    o->status = to;
    o->updated = tick();
    if (to == ST_FILLED)
        o->filled_at = o->updated;
    else if (to == ST_CANCELED)
        o->canceled_at = o->updated;
    else if (to == ST_REPLACED)
        o->replaced_at = o->updated;
    while (first_open < norders && !is_open_status(orders[first_open].status))
        first_open++;
}

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int cid_find(const char *cid)
{
    if (!ccap)
        return -1;
    for (size_t i = fnv(cid) & (ccap - 1), k = 0; k < ccap; i = (i + 1) & (ccap - 1), k++) {
        if (!ctab[i])
            return -1;
        if (strcmp(orders[ctab[i] - 1].cid, cid) == 0)
            return ctab[i] - 1;
    }
    return -1;
}

static void cid_insert(int oi)
{
    for (size_t i = fnv(orders[oi].cid) & (ccap - 1), k = 0; k < ccap;
         i = (i + 1) & (ccap - 1), k++) {
        if (!ctab[i]) {
            ctab[i] = oi + 1;
            cused++;
            return;
        }
    }
}

/* Room for one more order (and its client id in the hash); -1 when full. */
static int order_room(void)
{
    if (norders >= MAX_ORDERS)
        return -1;
    if (norders == ocap) {
        int nc = ocap ? ocap * 2 : 1024;
        order *no = realloc(orders, (size_t)nc * sizeof *no);
        if (!no)
            return -1;
        orders = no;
        ocap = nc;
    }
    if ((cused + 1) * 2 > ccap) {
        size_t nc = ccap ? ccap * 2 : 4096;
        int *nt = calloc(nc, sizeof *nt);
        if (!nt)
            return -1;
        free(ctab);
        ctab = nt;
        ccap = nc;
        cused = 0;
        for (int i = 0; i < norders; i++)
            cid_insert(i);
    }
    return 0;
}

static int order_by_id(const char *id)
{
    static const char pre[] = "fa1ca000-0000-4000-8000-";
    if (strncmp(id, pre, sizeof pre - 1) != 0 || strlen(id) != sizeof pre - 1 + 12)
        return -1;
    char *e;
    long n = strtol(id + sizeof pre - 1, &e, 10);
    return *e || n < 1 || n > norders ? -1 : (int)n - 1;
}

static int is_hidden(const order *o)
{
    for (int i = 0; i < nhidden; i++)
        if (strcmp(hidden[i], o->id) == 0 || strcmp(hidden[i], o->cid) == 0)
            return 1;
    return 0;
}

/* Stores a copy of t (terms filled in) as a new order; its index, or -1 when full. */
static int order_add(const order *t, int status)
{
    if (order_room() != 0)
        return -1;
    int oi = norders++;
    order *o = &orders[oi];
    *o = *t;
    snprintf(o->id, sizeof o->id, "fa1ca000-0000-4000-8000-%012d", oi + 1);
    if (!o->cid[0]) {
        for (int k = 0; k < 1000; k++) {
            snprintf(o->cid, sizeof o->cid, "fa1ca000-0000-4000-c000-%012d", oi + 1 + k * 1000000);
            if (cid_find(o->cid) < 0)
                break;
        }
    }
    o->status = status;
    o->filled = 0;
    o->avg = NAN;
    o->triggered = 0;
    o->parent = o->replaces = o->replaced_by = -1;
    o->legs[0] = o->legs[1] = -1;
    o->created = o->updated = tick();
    o->filled_at = o->canceled_at = o->replaced_at = 0;
    o->hwm = price(o->sym);
    cid_insert(oi);
    cnt.orders++;
    return oi;
}

static int cancel(int oi);

static void record_fill(int oi, double q, double p)
{
    if (nacts == acap) {
        int nc = acap ? acap * 2 : 4096;
        fillrec *na = nc <= MAX_ACTS ? realloc(acts, (size_t)nc * sizeof *na) : NULL;
        if (!na) {
            fprintf(stderr, "fakealpaca: too many fills\n");
            exit(3);
        }
        acts = na;
        acap = nc;
    }
    order *o = &orders[oi];
    fillrec *a = &acts[nacts++];
    a->order = oi;
    a->t = o->updated;
    a->qty = q;
    a->price = p;
    a->cum = o->filled;
    a->leaves = r9(o->qty - o->filled);
    a->partial = o->status == ST_PARTIAL;
}

static void fill(int oi, double q, double p)
{
    order *o = &orders[oi];
    double f = r9(o->filled + q);
    o->avg = r9(((isnan(o->avg) ? 0 : o->avg * o->filled) + q * p) / f);
    o->filled = f;
    set_status(oi, f >= o->qty ? ST_FILLED : ST_PARTIAL);
    position_add(o->sym, o->side * q, p);
    cash = r9(cash - o->side * q * p);
    record_fill(oi, q, p);
    o = &orders[oi];
    if (o->status == ST_FILLED && o->legs[0] >= 0) {
        for (int k = 0; k < 2; k++)
            if (orders[o->legs[k]].status == ST_HELD)
                set_status(o->legs[k], ST_NEW);
    }
    if (o->parent >= 0) { /* one leg traded: the other one goes */
        order *pa = &orders[o->parent];
        int other = pa->legs[0] == oi ? pa->legs[1] : pa->legs[0];
        if (other >= 0 && is_open_status(orders[other].status))
            cancel(other);
    }
}

/* How much of o one fill takes: all of the rest, or the symbol's partial fraction. */
static double fill_qty(const order *o)
{
    double rem = r9(o->qty - o->filled), fr = syms[o->sym].partial;
    if (fr <= 0 || fr >= 1)
        return rem;
    double q = rem * fr;
    if (o->qty == floor(o->qty)) {
        q = floor(q + 1e-9);
        if (q < 1)
            q = 1;
    } else {
        q = r9(q);
        if (q <= 0)
            q = rem;
    }
    return q > rem ? rem : q;
}

/* Offers order oi to the market at the current price; at_submit: its first offer. */
static void match(int oi, int at_submit)
{
    order *o = &orders[oi];
    double px = price(o->sym);
    if (!(o->status == ST_NEW || o->status == ST_PARTIAL) || !market_open || isnan(px))
        return;
    int can = 0;
    if (o->type == T_TRAILING) {
        o->hwm = o->side < 0 ? fmax(o->hwm, px) : fmin(o->hwm, px);
        double gap = isnan(o->trail_price) ? o->hwm * o->trail_pct / 100 : o->trail_price;
        o->stop = r9(o->hwm + o->side * gap); /* below the high to sell, above the low to buy */
    }
    if (o->type == T_STOP || o->type == T_STOP_LIMIT || o->type == T_TRAILING) {
        if (!o->triggered)
            o->triggered = o->side > 0 ? px >= o->stop : px <= o->stop;
        can = o->triggered;
    } else {
        can = 1;
    }
    if (can && (o->type == T_LIMIT || o->type == T_STOP_LIMIT))
        can = o->side > 0 ? px <= o->limit : px >= o->limit;
    double q = can ? fill_qty(o) : 0;
    if (o->tif == TIF_FOK && at_submit && q < r9(o->qty - o->filled)) {
        set_status(oi, ST_CANCELED);
        return;
    }
    if (q > 0)
        fill(oi, q, px);
    if (o->tif == TIF_IOC && at_submit && orders[oi].status != ST_FILLED)
        set_status(oi, ST_CANCELED);
}

/* Cancels oi (and a bracket parent's legs); -1 when it is not cancelable. */
static int cancel(int oi)
{
    if (!is_open_status(orders[oi].status))
        return -1;
    set_status(oi, ST_CANCELED);
    for (int k = 0; k < 2; k++) {
        int l = orders[oi].legs[k];
        if (l >= 0 && is_open_status(orders[l].status))
            set_status(l, ST_CANCELED);
    }
    return 0;
}

static void step(void)
{
    steps++;
    long long t = clock_start + steps * step_us;
    now_us = t > now_us ? t : now_us + 1;
    for (int i = first_open, n = norders; i < n; i++)
        match(i, 0);
}

/* ---- JSON out ---- */

static void j_num(cJSON *j, const char *k, double v)
{
    if (isnan(v)) {
        cJSON_AddNullToObject(j, k);
        return;
    }
    char b[64];
    fmt_num(b, sizeof b, v);
    cJSON_AddStringToObject(j, k, b);
}

static void j_time(cJSON *j, const char *k, long long us)
{
    if (!us) {
        cJSON_AddNullToObject(j, k);
        return;
    }
    char b[64];
    fmt_time(b, sizeof b, us);
    cJSON_AddStringToObject(j, k, b);
}

static void j_ref(cJSON *j, const char *k, int oi)
{
    if (oi < 0)
        cJSON_AddNullToObject(j, k);
    else
        cJSON_AddStringToObject(j, k, orders[oi].id);
}

static void asset_id(char *b, size_t cap, int s)
{
    snprintf(b, cap, "fa1ca000-0000-4000-a000-%012d", s + 1);
}

static cJSON *order_json(int oi, int legs)
{
    const order *o = &orders[oi];
    cJSON *j = cJSON_CreateObject();
    char b[64];
    cJSON_AddStringToObject(j, "id", o->id);
    cJSON_AddStringToObject(j, "client_order_id", o->cid);
    j_time(j, "created_at", o->created);
    j_time(j, "updated_at", o->updated);
    j_time(j, "submitted_at", o->created);
    j_time(j, "filled_at", o->filled_at);
    j_time(j, "expired_at", 0);
    j_time(j, "canceled_at", o->canceled_at);
    j_time(j, "failed_at", 0);
    j_time(j, "replaced_at", o->replaced_at);
    j_ref(j, "replaced_by", o->replaced_by);
    j_ref(j, "replaces", o->replaces);
    asset_id(b, sizeof b, o->sym);
    cJSON_AddStringToObject(j, "asset_id", b);
    cJSON_AddStringToObject(j, "symbol", syms[o->sym].name);
    cJSON_AddStringToObject(j, "asset_class", "us_equity");
    cJSON_AddNullToObject(j, "notional");
    j_num(j, "qty", o->qty);
    j_num(j, "filled_qty", o->filled);
    j_num(j, "filled_avg_price", o->avg);
    cJSON_AddStringToObject(j, "order_class", o->bracket ? "bracket" : "simple");
    cJSON_AddStringToObject(j, "order_type", type_name[o->type]);
    cJSON_AddStringToObject(j, "type", type_name[o->type]);
    cJSON_AddStringToObject(j, "side", o->side > 0 ? "buy" : "sell");
    cJSON_AddStringToObject(j, "time_in_force", tif_name[o->tif]);
    j_num(j, "limit_price", o->limit);
    j_num(j, "stop_price", o->stop);
    cJSON_AddStringToObject(j, "status", st_name[o->status]);
    cJSON_AddBoolToObject(j, "extended_hours", o->extended);
    if (legs && o->legs[0] >= 0) {
        cJSON *a = cJSON_AddArrayToObject(j, "legs");
        for (int k = 0; k < 2; k++)
            cJSON_AddItemToArray(a, order_json(o->legs[k], 0));
    } else {
        cJSON_AddNullToObject(j, "legs");
    }
    j_num(j, "trail_percent", o->trail_pct);
    j_num(j, "trail_price", o->trail_price);
    j_num(j, "hwm", o->type == T_TRAILING ? o->hwm : NAN);
    return j;
}

static cJSON *position_json(int s)
{
    const sym *y = &syms[s];
    cJSON *j = cJSON_CreateObject();
    char b[64];
    double p = mark(s), q = y->pos_qty, cost = q * y->pos_avg, mv = q * p;
    asset_id(b, sizeof b, s);
    cJSON_AddStringToObject(j, "asset_id", b);
    cJSON_AddStringToObject(j, "symbol", y->name);
    cJSON_AddStringToObject(j, "exchange", "NASDAQ");
    cJSON_AddStringToObject(j, "asset_class", "us_equity");
    j_num(j, "avg_entry_price", y->pos_avg);
    j_num(j, "qty", q);
    j_num(j, "qty_available", q);
    cJSON_AddStringToObject(j, "side", q > 0 ? "long" : "short");
    j_num(j, "market_value", mv);
    j_num(j, "cost_basis", cost);
    j_num(j, "unrealized_pl", mv - cost);
    j_num(j, "unrealized_plpc", cost != 0 ? (mv - cost) / fabs(cost) : 0);
    j_num(j, "unrealized_intraday_pl", mv - cost);
    j_num(j, "unrealized_intraday_plpc", cost != 0 ? (mv - cost) / fabs(cost) : 0);
    j_num(j, "current_price", p);
    j_num(j, "lastday_price", isnan(price(s)) ? p : syms[s].px[0]);
    j_num(j, "change_today", 0);
    return j;
}

static cJSON *positions_json(void)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < nsyms; i++)
        if (syms[i].pos_qty != 0)
            cJSON_AddItemToArray(a, position_json(i));
    return a;
}

static cJSON *account_json(void)
{
    cJSON *j = cJSON_CreateObject();
    double lmv = 0, smv = 0;
    for (int i = 0; i < nsyms; i++) {
        double v = syms[i].pos_qty * mark(i);
        if (v > 0)
            lmv += v;
        else
            smv += v;
    }
    cJSON_AddStringToObject(j, "id", "fa1ca000-0000-4000-b000-000000000001");
    cJSON_AddStringToObject(j, "account_number", "PA0000FAKE01");
    cJSON_AddStringToObject(j, "status", "ACTIVE");
    cJSON_AddStringToObject(j, "currency", "USD");
    j_num(j, "cash", cash);
    j_num(j, "buying_power", buying_power());
    j_num(j, "regt_buying_power", buying_power());
    j_num(j, "daytrading_buying_power", 0);
    j_num(j, "non_marginable_buying_power", cash > 0 ? cash : 0);
    j_num(j, "equity", equity());
    j_num(j, "last_equity", last_equity);
    j_num(j, "portfolio_value", equity());
    j_num(j, "long_market_value", lmv);
    j_num(j, "short_market_value", smv);
    j_num(j, "multiplier", multiplier);
    cJSON_AddNumberToObject(j, "daytrade_count", 0);
    cJSON_AddBoolToObject(j, "pattern_day_trader", 0);
    cJSON_AddBoolToObject(j, "trading_blocked", 0);
    cJSON_AddBoolToObject(j, "transfers_blocked", 0);
    cJSON_AddBoolToObject(j, "account_blocked", 0);
    cJSON_AddBoolToObject(j, "shorting_enabled", 1);
    j_time(j, "created_at", clock_start);
    return j;
}

/* Regular hours 14:30-21:00 UTC every day (no weekends or holidays here). */
static cJSON *clock_json(void)
{
    cJSON *j = cJSON_CreateObject();
    long long day = now_us / (86400 * US) * (86400 * US), open = day + 52200 * US,
              close = day + 75600 * US;
    long long next_open = now_us < open ? open : open + 86400 * US;
    long long next_close = now_us < close ? close : close + 86400 * US;
    j_time(j, "timestamp", now_us);
    cJSON_AddBoolToObject(j, "is_open", market_open);
    j_time(j, "next_open", next_open);
    j_time(j, "next_close", next_close);
    return j;
}

static cJSON *activity_json(int ai)
{
    const fillrec *a = &acts[ai];
    const order *o = &orders[a->order];
    cJSON *j = cJSON_CreateObject();
    char b[128], t[32];
    time_t ts = (time_t)(a->t / US);
    struct tm tm;
    gmtime_r(&ts, &tm);
    strftime(t, sizeof t, "%Y%m%d%H%M%S", &tm);
    snprintf(b, sizeof b, "%s%03lld::fa1ca000-0000-4000-9000-%012d", t, a->t % US / 1000, ai + 1);
    cJSON_AddStringToObject(j, "id", b);
    cJSON_AddStringToObject(j, "activity_type", "FILL");
    j_time(j, "transaction_time", a->t);
    cJSON_AddStringToObject(j, "type", a->partial ? "partial_fill" : "fill");
    j_num(j, "price", a->price);
    j_num(j, "qty", a->qty);
    cJSON_AddStringToObject(j, "side", o->side > 0 ? "buy" : "sell");
    cJSON_AddStringToObject(j, "symbol", syms[o->sym].name);
    j_num(j, "leaves_qty", a->leaves);
    cJSON_AddStringToObject(j, "order_id", o->id);
    j_num(j, "cum_qty", a->cum);
    cJSON_AddStringToObject(j, "order_status", a->partial ? "partially_filled" : "filled");
    return j;
}

static int activity_by_id(const char *id)
{
    const char *p = strstr(id, "::fa1ca000-0000-4000-9000-");
    if (!p)
        return -1;
    char *e;
    long n = strtol(p + 26, &e, 10);
    return *e || n < 1 || n > nacts ? -1 : (int)n - 1;
}

/* ---- requests ---- */

static void reply(req *r, int status, cJSON *j)
{
    r->status = status;
    free(r->out);
    r->out = NULL;
    if (j) {
        r->out = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
    }
}

static void reply_msg(req *r, int status, long code, const char *msg)
{
    cJSON *j = cJSON_CreateObject();
    if (code)
        cJSON_AddNumberToObject(j, "code", (double)code);
    cJSON_AddStringToObject(j, "message", msg);
    reply(r, status, j);
}

static size_t header_value(const char *hdrs, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = hdrs, *end = hdrs + len;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            e = end;
        if ((size_t)(e - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < e && *v == ' ')
                v++;
            size_t n = (size_t)(e - v);
            if (n && v[n - 1] == '\r')
                n--;
            if (n >= cap)
                n = cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return n;
        }
        p = e + 1;
    }
    out[0] = '\0';
    return 0;
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

/* Percent-decodes src[0..n) into out ('+' is a space, as in Go's url.ParseQuery). */
static void url_decode(const char *src, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        if (src[i] == '%' && i + 2 < n && hexval(src[i + 1]) >= 0 && hexval(src[i + 2]) >= 0) {
            out[o++] = (char)(hexval(src[i + 1]) * 16 + hexval(src[i + 2]));
            i += 2;
        } else {
            out[o++] = src[i] == '+' ? ' ' : src[i];
        }
    }
    out[o] = '\0';
}

/* The decoded value of query parameter name; 0 when absent. */
static int qparam(const char *q, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = q; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            url_decode(p + nl + 1, n - nl - 1, out, cap);
            return 1;
        }
        if (n == nl && strncmp(p, name, nl) == 0) {
            out[0] = '\0';
            return 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    out[0] = '\0';
    return 0;
}

/* A number given as a JSON string or number: 1 and *v, 0 absent or null, -1 invalid. */
static int j_get_num(const cJSON *o, const char *k, double *v)
{
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!i || cJSON_IsNull(i))
        return 0;
    if (cJSON_IsNumber(i)) {
        *v = i->valuedouble;
    } else if (cJSON_IsString(i)) {
        char *e;
        *v = strtod(i->valuestring, &e);
        if (e == i->valuestring || *e)
            return -1;
    } else {
        return -1;
    }
    return isfinite(*v) ? 1 : -1;
}

static const char *j_get_str(const cJSON *o, const char *k)
{
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(i) ? i->valuestring : NULL;
}

static int lookup(const char *s, const char *const *names, int n)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* Reads the order terms of a POST body into t; 0, or an answer already set in r. */
static int order_terms(req *r, const cJSON *b, order *t)
{
    memset(t, 0, sizeof *t);
    t->limit = t->stop = t->trail_price = t->trail_pct = NAN;
    const char *s = j_get_str(b, "symbol");
    if (!s || !*s) {
        reply_msg(r, 422, 40010000, "symbol is required");
        return -1;
    }
    t->sym = sym_find(s);
    if (t->sym < 0 || syms[t->sym].npx == 0) {
        reply_msg(r, 422, 40010000, "asset not found");
        return -1;
    }
    double qty = 0, notional = 0;
    int hq = j_get_num(b, "qty", &qty), hn = j_get_num(b, "notional", &notional);
    if (hq > 0 && hn > 0) {
        reply_msg(r, 400, 40010000, "only one of qty or notional may be specified");
        return -1;
    }
    if (hn > 0 && notional > 0)
        qty = r9(notional / price(t->sym)), hq = 1;
    if (hq <= 0 || !(qty > 0) || hn < 0) {
        reply_msg(r, 422, 40010000, "qty must be a positive number");
        return -1;
    }
    t->qty = r9(qty);
    const char *side = j_get_str(b, "side");
    t->side = side && strcmp(side, "buy") == 0 ? 1 : side && strcmp(side, "sell") == 0 ? -1 : 0;
    t->type = lookup(j_get_str(b, "type"), type_name, 5);
    t->tif = lookup(j_get_str(b, "time_in_force"), tif_name, 6);
    if (!t->side || t->type < 0 || t->tif < 0) {
        reply_msg(r, 422, 40010000,
                  !t->side      ? "invalid side"
                  : t->type < 0 ? "invalid type"
                                : "invalid time_in_force");
        return -1;
    }
    int hl = j_get_num(b, "limit_price", &t->limit), hs = j_get_num(b, "stop_price", &t->stop);
    int htp = j_get_num(b, "trail_price", &t->trail_price);
    int htc = j_get_num(b, "trail_percent", &t->trail_pct);
    int needl = t->type == T_LIMIT || t->type == T_STOP_LIMIT;
    int needs = t->type == T_STOP || t->type == T_STOP_LIMIT;
    if (hl < 0 || hs < 0 || htp < 0 || htc < 0 || (needl && !(hl > 0 && t->limit > 0)) ||
        (needs && !(hs > 0 && t->stop > 0))) {
        reply_msg(r, 422, 40010000, "invalid or missing limit_price/stop_price");
        return -1;
    }
    if (!needl)
        t->limit = NAN;
    if (!needs)
        t->stop = NAN;
    if (t->type == T_TRAILING) {
        if ((htp > 0) == (htc > 0) || (htp > 0 && !(t->trail_price > 0)) ||
            (htc > 0 && !(t->trail_pct > 0 && t->trail_pct < 100))) {
            reply_msg(r, 422, 40010000, "trailing_stop needs one of trail_price or trail_percent");
            return -1;
        }
    } else {
        t->trail_price = t->trail_pct = NAN;
    }
    const cJSON *eh = cJSON_GetObjectItemCaseSensitive(b, "extended_hours");
    t->extended = cJSON_IsTrue(eh);
    const char *cid = j_get_str(b, "client_order_id");
    if (cid) {
        if (strlen(cid) > CID_MAX) {
            reply_msg(r, 422, 40010000, "client_order_id must be no more than 48 characters");
            return -1;
        }
        snprintf(t->cid, sizeof t->cid, "%s", cid);
        snprintf(r->cid, sizeof r->cid, "%s", cid);
    }
    return 0;
}

static void post_order(req *r)
{
    cJSON *b = cJSON_ParseWithLength(r->body, r->blen);
    order t, tp, sl;
    if (!cJSON_IsObject(b)) {
        reply_msg(r, 400, 40010000, "request body format is invalid");
        goto out;
    }
    if (order_terms(r, b, &t) != 0)
        goto out;
    const char *oc = j_get_str(b, "order_class");
    if (oc && strcmp(oc, "simple") != 0 && strcmp(oc, "bracket") != 0 && oc[0]) {
        reply_msg(r, 422, 40010000, "order_class not supported by the fake (simple, bracket)");
        goto out;
    }
    t.bracket = oc && strcmp(oc, "bracket") == 0;
    if (t.bracket) {
        const cJSON *jt = cJSON_GetObjectItemCaseSensitive(b, "take_profit");
        const cJSON *js = cJSON_GetObjectItemCaseSensitive(b, "stop_loss");
        double tl = 0, ss = 0, sl_l = NAN;
        int hsl = js ? j_get_num(js, "limit_price", &sl_l) : 0;
        if (!jt || !js || j_get_num(jt, "limit_price", &tl) != 1 ||
            j_get_num(js, "stop_price", &ss) != 1 || !(tl > 0 && ss > 0) || hsl < 0 ||
            (t.type != T_MARKET && t.type != T_LIMIT)) {
            reply_msg(r, 422, 40010000,
                      "bracket orders need take_profit.limit_price and stop_loss.stop_price");
            goto out;
        }
        tp = t;
        tp.cid[0] = '\0';
        tp.side = -t.side;
        tp.type = T_LIMIT;
        tp.limit = tl;
        tp.stop = NAN;
        sl = tp;
        sl.type = hsl > 0 ? T_STOP_LIMIT : T_STOP;
        sl.stop = ss;
        sl.limit = hsl > 0 ? sl_l : NAN;
    }
    if (t.cid[0] && cid_find(t.cid) >= 0) {
        cnt.duplicates++;
        reply_msg(r, 422, 40010001, "client_order_id must be unique");
        goto out;
    }
    if (!market_open) {
        reply_msg(r, 403, 0, "market is closed");
        goto out;
    }
    if (t.side > 0) {
        double p = isnan(t.limit) ? price(t.sym) : t.limit;
        if (t.qty * p > buying_power()) {
            reply_msg(r, 403, 40310000, "insufficient buying power");
            goto out;
        }
    }
    if (norders + 3 > MAX_ORDERS) {
        reply_msg(r, 403, 40310000, "the fake broker holds no more orders");
        goto out;
    }
    int oi = order_add(&t, ST_NEW);
    if (oi < 0) {
        reply_msg(r, 500, 0, "out of memory");
        goto out;
    }
    if (t.bracket) {
        int a = order_add(&tp, ST_HELD), c = a >= 0 ? order_add(&sl, ST_HELD) : -1;
        if (a < 0 || c < 0) {
            reply_msg(r, 500, 0, "out of memory");
            goto out;
        }
        orders[oi].legs[0] = a;
        orders[oi].legs[1] = c;
        orders[a].parent = orders[c].parent = oi;
    }
    match(oi, 1);
    snprintf(r->cid, sizeof r->cid, "%s", orders[oi].cid);
    snprintf(r->oid, sizeof r->oid, "%s", orders[oi].id);
    reply(r, 200, order_json(oi, 1));
out:
    cJSON_Delete(b);
}

static void replace_order(req *r, int oi)
{
    cJSON *b = cJSON_ParseWithLength(r->body, r->blen);
    order t = orders[oi];
    double v;
    int h;
    if (!cJSON_IsObject(b)) {
        reply_msg(r, 400, 40010000, "request body format is invalid");
        goto out;
    }
    if (!(t.status == ST_NEW || t.status == ST_PARTIAL) || t.bracket) {
        reply_msg(r, 422, 42210000, "order is not replaceable");
        goto out;
    }
    t.qty = r9(t.qty - t.filled);
    if ((h = j_get_num(b, "qty", &v)) != 0) {
        if (h < 0 || !(v > 0)) {
            reply_msg(r, 422, 40010000, "qty must be a positive number");
            goto out;
        }
        t.qty = r9(v);
    }
    const char *tif = j_get_str(b, "time_in_force");
    if (tif && (t.tif = lookup(tif, tif_name, 6)) < 0) {
        reply_msg(r, 422, 40010000, "invalid time_in_force");
        goto out;
    }
    static const char *const fields[] = {"limit_price", "stop_price", "trail"};
    double *dst[] = {&t.limit, &t.stop,
                     t.type == T_TRAILING && !isnan(t.trail_pct) ? &t.trail_pct : &t.trail_price};
    for (int k = 0; k < 3; k++) {
        if ((h = j_get_num(b, fields[k], &v)) == 0)
            continue;
        if (h < 0 || !(v > 0) || isnan(*dst[k])) {
            reply_msg(r, 422, 40010000, "invalid price for this order type");
            goto out;
        }
        *dst[k] = v;
    }
    const char *cid = j_get_str(b, "client_order_id");
    t.cid[0] = '\0';
    if (cid) {
        if (strlen(cid) > CID_MAX) {
            reply_msg(r, 422, 40010000, "client_order_id must be no more than 48 characters");
            goto out;
        }
        if (cid_find(cid) >= 0) {
            cnt.duplicates++;
            reply_msg(r, 422, 40010001, "client_order_id must be unique");
            goto out;
        }
        snprintf(t.cid, sizeof t.cid, "%s", cid);
    }
    int ni = order_add(&t, ST_NEW);
    if (ni < 0) {
        reply_msg(r, 403, 40310000, "the fake broker holds no more orders");
        goto out;
    }
    set_status(oi, ST_REPLACED);
    orders[oi].replaced_by = ni;
    orders[ni].replaces = oi;
    match(ni, 1);
    snprintf(r->cid, sizeof r->cid, "%s", orders[ni].cid);
    reply(r, 200, order_json(ni, 1));
out:
    cJSON_Delete(b);
}

static int in_list(const char *list, const char *s)
{
    size_t n = strlen(s);
    for (const char *p = list; p && *p;) {
        const char *c = strchr(p, ',');
        size_t k = c ? (size_t)(c - p) : strlen(p);
        if (k == n && strncmp(p, s, n) == 0)
            return 1;
        p = c ? c + 1 : NULL;
    }
    return 0;
}

static void list_orders(req *r)
{
    char st[16], v[1024], syml[1024];
    qparam(r->query, "status", st, sizeof st);
    int want = !st[0] || strcmp(st, "open") == 0 ? 0
               : strcmp(st, "closed") == 0       ? 1
               : strcmp(st, "all") == 0          ? 2
                                                 : -1;
    long limit = 50;
    long long after = 0, until = 0;
    if (qparam(r->query, "limit", v, sizeof v))
        limit = atol(v);
    int asc = qparam(r->query, "direction", v, sizeof v) && strcmp(v, "asc") == 0;
    int nested = qparam(r->query, "nested", v, sizeof v) && strcmp(v, "true") == 0;
    int hs = qparam(r->query, "symbols", syml, sizeof syml) && syml[0];
    if (want < 0 || limit < 1 || limit > 500 ||
        (qparam(r->query, "after", v, sizeof v) && parse_time(v, &after) != 0) ||
        (qparam(r->query, "until", v, sizeof v) && parse_time(v, &until) != 0)) {
        reply_msg(r, 422, 40010000, "invalid query parameter");
        return;
    }
    cJSON *a = cJSON_CreateArray();
    long n = 0;
    for (int k = 0; k < norders && n < limit; k++) {
        int i = asc ? k : norders - 1 - k;
        const order *o = &orders[i];
        int open = is_open_status(o->status);
        if ((want == 0 && !open) || (want == 1 && open) || (nested && o->parent >= 0) ||
            (after && o->created <= after) || (until && o->created >= until) ||
            (hs && !in_list(syml, syms[o->sym].name)) || (nhidden && is_hidden(o)))
            continue;
        cJSON_AddItemToArray(a, order_json(i, nested));
        n++;
    }
    reply(r, 200, a);
}

static void list_fills(req *r)
{
    char v[256];
    long size = 100;
    long long after = 0, until = 0;
    int from = -1;
    if (qparam(r->query, "page_size", v, sizeof v))
        size = atol(v);
    int asc = qparam(r->query, "direction", v, sizeof v) && strcmp(v, "asc") == 0;
    if (size < 1 || size > 100 ||
        (qparam(r->query, "after", v, sizeof v) && parse_time(v, &after) != 0) ||
        (qparam(r->query, "until", v, sizeof v) && parse_time(v, &until) != 0) ||
        (qparam(r->query, "page_token", v, sizeof v) && v[0] && (from = activity_by_id(v)) < 0)) {
        reply_msg(r, 422, 40010000, "invalid query parameter");
        return;
    }
    cJSON *a = cJSON_CreateArray();
    long n = 0;
    int start = from < 0 ? (asc ? 0 : nacts - 1) : (asc ? from + 1 : from - 1);
    for (int i = start; i >= 0 && i < nacts && n < size; i += asc ? 1 : -1) {
        if ((after && acts[i].t <= after) || (until && acts[i].t >= until))
            continue;
        cJSON_AddItemToArray(a, activity_json(i));
        n++;
    }
    reply(r, 200, a);
}

/* A leg goes with its parent while the parent is open, on its own once the parent filled. */
static int leg_of_open(int oi)
{
    return orders[oi].parent >= 0 && is_open_status(orders[orders[oi].parent].status);
}

static void cancel_all(req *r)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = first_open, n = norders; i < n; i++) {
        if (leg_of_open(i) || !is_open_status(orders[i].status) || cancel(i) != 0)
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", orders[i].id);
        cJSON_AddNumberToObject(e, "status", 200);
        cJSON_AddItemToObject(e, "body", order_json(i, 1));
        cJSON_AddItemToArray(a, e);
    }
    reply(r, 207, a);
}

/* A market order that flattens symbol s; its JSON (or an error body) and HTTP status. */
static cJSON *close_position(int s, int *status)
{
    if (!market_open) {
        *status = 403;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "message", "market is closed");
        return j;
    }
    order t;
    memset(&t, 0, sizeof t);
    t.limit = t.stop = t.trail_price = t.trail_pct = NAN;
    t.sym = s;
    t.side = syms[s].pos_qty > 0 ? -1 : 1;
    t.qty = fabs(syms[s].pos_qty);
    t.type = T_MARKET;
    t.tif = 0;
    int oi = order_add(&t, ST_NEW);
    if (oi < 0) {
        *status = 403;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "message", "the fake broker holds no more orders");
        return j;
    }
    match(oi, 1);
    *status = 200;
    return order_json(oi, 1);
}

static void close_all(req *r)
{
    char v[16];
    if (qparam(r->query, "cancel_orders", v, sizeof v) && strcmp(v, "true") == 0)
        for (int i = first_open, n = norders; i < n; i++)
            if (!leg_of_open(i))
                cancel(i);
    cJSON *a = cJSON_CreateArray();
    for (int s = 0; s < nsyms; s++) {
        if (syms[s].pos_qty == 0)
            continue;
        int st;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "symbol", syms[s].name);
        cJSON *body = close_position(s, &st);
        cJSON_AddNumberToObject(e, "status", st);
        cJSON_AddItemToObject(e, "body", body);
        cJSON_AddItemToArray(a, e);
    }
    reply(r, 207, a);
}

/* Routes an authorised /v2 request. */
static void api(req *r)
{
    const char *m = r->method, *p = r->path;
    int get = strcmp(m, "GET") == 0, del = strcmp(m, "DELETE") == 0;
    char v[1024];
    if (get && strcmp(p, "/v2/account") == 0) {
        reply(r, 200, account_json());
    } else if (get && strcmp(p, "/v2/clock") == 0) {
        reply(r, 200, clock_json());
    } else if (get && strcmp(p, "/v2/positions") == 0) {
        reply(r, 200, positions_json());
    } else if (del && strcmp(p, "/v2/positions") == 0) {
        close_all(r);
    } else if ((get || del) && strncmp(p, "/v2/positions/", 14) == 0) {
        url_decode(p + 14, strlen(p + 14), v, sizeof v);
        int s = sym_find(v);
        if (s < 0 || syms[s].pos_qty == 0) {
            reply_msg(r, 404, 40410000, "position does not exist");
        } else if (get) {
            reply(r, 200, position_json(s));
        } else {
            int st;
            cJSON *j = close_position(s, &st);
            reply(r, st, j);
        }
    } else if (strcmp(m, "POST") == 0 && strcmp(p, "/v2/orders") == 0) {
        post_order(r);
    } else if (get && strcmp(p, "/v2/orders") == 0) {
        list_orders(r);
    } else if (del && strcmp(p, "/v2/orders") == 0) {
        cancel_all(r);
    } else if (get && strcmp(p, "/v2/orders:by_client_order_id") == 0) {
        qparam(r->query, "client_order_id", v, sizeof v);
        snprintf(r->cid, sizeof r->cid, "%.*s", CID_MAX + 8, v);
        int oi = cid_find(v);
        if (oi < 0)
            reply_msg(r, 404, 40410000, "order not found");
        else
            reply(r, 200, order_json(oi, 1));
    } else if (strncmp(p, "/v2/orders/", 11) == 0) {
        snprintf(r->oid, sizeof r->oid, "%s", p + 11);
        int oi = order_by_id(p + 11);
        if (oi < 0)
            reply_msg(r, 404, 40410000, "order not found");
        else if (get)
            reply(r, 200, order_json(oi, 1));
        else if (del && cancel(oi) == 0)
            reply(r, 204, NULL);
        else if (del)
            reply_msg(r, 422, 42210000, "order is not cancelable");
        else if (strcmp(m, "PATCH") == 0)
            replace_order(r, oi);
        else
            reply_msg(r, 405, 0, "method not allowed");
    } else if (get && (strcmp(p, "/v2/account/activities/FILL") == 0 ||
                       strcmp(p, "/v2/account/activities") == 0)) {
        if (strcmp(p, "/v2/account/activities") == 0 &&
            (!qparam(r->query, "activity_types", v, sizeof v) || !in_list(v, "FILL")))
            reply(r, 200, cJSON_CreateArray());
        else
            list_fills(r);
    } else {
        reply_msg(r, 404, 0, "endpoint not found");
    }
}

/* ---- directives (the script and POST /admin/fault) ---- */

static int num_arg(const char *s, double *v)
{
    char *e;
    if (!s)
        return -1;
    *v = strtod(s, &e);
    return e == s || *e || !isfinite(*v) ? -1 : 0;
}

static int is_count(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Applies one directive line (modified in place); NULL, or what is wrong with it. */
static const char *directive(char *line)
{
    char *tok[8] = {0}, *save = NULL;
    int n = 0;
    char *rest = NULL;
    for (char *t = strtok_r(line, " \t", &save); t && n < 8; t = strtok_r(NULL, " \t", &save)) {
        tok[n++] = t;
        if (n == 2 && strcmp(tok[0], "price") == 0) {
            rest = save;
            break;
        }
    }
    if (n == 0)
        return NULL;
    const char *d = tok[0];
    double v = 0, w = 0;
    if (strcmp(d, "key") == 0) {
        if (n != 3 || strlen(tok[1]) >= sizeof key_id || strlen(tok[2]) >= sizeof key_secret)
            return "key ID SECRET";
        snprintf(key_id, sizeof key_id, "%s", tok[1]);
        snprintf(key_secret, sizeof key_secret, "%s", tok[2]);
    } else if (strcmp(d, "max-seconds") == 0) {
        if (num_arg(tok[1], &v) != 0 || !(v > 0))
            return "max-seconds S";
        max_seconds = v > 7200 ? 7200 : v;
    } else if (strcmp(d, "max-requests") == 0) {
        if (!is_count(tok[1]))
            return "max-requests N";
        max_requests = atol(tok[1]);
    } else if (strcmp(d, "cash") == 0) {
        if (num_arg(tok[1], &v) != 0)
            return "cash X";
        cash = last_equity = r9(v);
    } else if (strcmp(d, "multiplier") == 0) {
        if (num_arg(tok[1], &v) != 0 || !(v > 0))
            return "multiplier M";
        multiplier = v;
    } else if (strcmp(d, "clock") == 0) {
        long long t;
        if (!tok[1] || parse_time(tok[1], &t) != 0)
            return "clock RFC3339|EPOCH";
        clock_start = t;
        now_us = t + steps * step_us;
    } else if (strcmp(d, "step-seconds") == 0) {
        if (num_arg(tok[1], &v) != 0 || !(v > 0) || v > 86400 * 30.0)
            return "step-seconds S";
        step_us = (long long)llround(v * 1e6);
    } else if (strcmp(d, "price") == 0) {
        int s = tok[1] ? sym_get(tok[1]) : -1;
        if (s < 0)
            return "price SYM P1 P2 ... (too many symbols, or a name longer than 15)";
        char *sv = NULL;
        for (char *t = strtok_r(rest, " \t", &sv); t; t = strtok_r(NULL, " \t", &sv)) {
            if (num_arg(t, &v) != 0 || !(v > 0))
                return "price: every price must be a positive number";
            if (syms[s].npx == MAX_PATH)
                return "price: path too long";
            if (syms[s].npx % 1024 == 0) {
                double *np = realloc(syms[s].px, (size_t)(syms[s].npx + 1024) * sizeof *np);
                if (!np)
                    return "out of memory";
                syms[s].px = np;
            }
            syms[s].px[syms[s].npx++] = v;
        }
    } else if (strcmp(d, "step-every") == 0) {
        if (!is_count(tok[1]))
            return "step-every N";
        step_every = atol(tok[1]);
        since_step = 0;
    } else if (strcmp(d, "partial") == 0) {
        int s = tok[1] ? sym_get(tok[1]) : -1;
        if (s < 0 || num_arg(tok[2], &v) != 0 || v < 0 || v > 1)
            return "partial SYM FRACTION (0..1)";
        syms[s].partial = v;
    } else if (strcmp(d, "market") == 0) {
        if (n != 2 || (strcmp(tok[1], "open") != 0 && strcmp(tok[1], "closed") != 0))
            return "market open|closed";
        market_open = strcmp(tok[1], "open") == 0;
    } else if (strcmp(d, "drop-after-accept") == 0) {
        if (!is_count(tok[1]) ||
            (tok[2] && (!is_count(tok[2]) || atoi(tok[2]) < 200 || atoi(tok[2]) > 599)))
            return "drop-after-accept N [STATUS]";
        drop_n = atol(tok[1]);
        drop_status = tok[2] ? atoi(tok[2]) : 0;
    } else if (strcmp(d, "delay") == 0) {
        if (!is_count(tok[1]) || (tok[2] && strlen(tok[2]) >= sizeof delay_prefix))
            return "delay MS [PREFIX]";
        delay_ms = atol(tok[1]);
        snprintf(delay_prefix, sizeof delay_prefix, "%s", tok[2] ? tok[2] : "");
    } else if (strcmp(d, "status") == 0) {
        int i = 2;
        long count = 1;
        if (!is_count(tok[1]) || atoi(tok[1]) < 400 || atoi(tok[1]) > 599)
            return "status CODE [COUNT] [PREFIX] (CODE 400..599)";
        int code = atoi(tok[1]);
        if (is_count(tok[2]))
            count = atol(tok[i++]);
        if (tok[i] && strlen(tok[i]) >= sizeof sfaults[0].prefix)
            return "status: prefix too long";
        if (count == 0) {
            for (int k = 0; k < MAX_SFAULTS; k++)
                if (sfaults[k].status == code)
                    sfaults[k].count = 0;
            return NULL;
        }
        int k = 0;
        while (k < MAX_SFAULTS && sfaults[k].count > 0)
            k++;
        if (k == MAX_SFAULTS)
            return "status: too many status faults pending";
        sfaults[k].status = code;
        sfaults[k].count = count;
        snprintf(sfaults[k].prefix, sizeof sfaults[k].prefix, "%s", tok[i] ? tok[i] : "");
    } else if (strcmp(d, "reset") == 0) {
        int i = 1;
        reset_n = 1;
        if (is_count(tok[1]))
            reset_n = atol(tok[i++]);
        if (tok[i] && strlen(tok[i]) >= sizeof reset_prefix)
            return "reset [COUNT] [PREFIX]";
        snprintf(reset_prefix, sizeof reset_prefix, "%s", tok[i] ? tok[i] : "");
    } else if (strcmp(d, "hide-open") == 0) {
        if (n != 2 || strlen(tok[1]) > CID_MAX)
            return "hide-open ORDER_ID|CLIENT_ORDER_ID";
        if (nhidden == MAX_HIDDEN)
            return "hide-open: too many hidden orders";
        snprintf(hidden[nhidden++], sizeof hidden[0], "%s", tok[1]);
    } else if (strcmp(d, "seed-position") == 0) {
        int s = tok[1] ? sym_get(tok[1]) : -1;
        if (s < 0 || num_arg(tok[2], &v) != 0 || num_arg(tok[3], &w) != 0 || v == 0 || !(w > 0))
            return "seed-position SYM QTY AVG";
        position_add(s, v, w);
    } else if (strcmp(d, "rate-limit") == 0) {
        if (!is_count(tok[1]) || atol(tok[1]) > RL_CAP)
            return "rate-limit N_PER_MIN (at most 65536)";
        rl_n = atol(tok[1]);
    } else if (strcmp(d, "clear-faults") == 0) {
        drop_n = delay_ms = reset_n = rl_n = 0;
        for (int k = 0; k < MAX_SFAULTS; k++)
            sfaults[k].count = 0;
    } else {
        return "unknown directive";
    }
    return NULL;
}

static void load_script(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "fakealpaca: cannot open script %s\n", path);
        exit(2);
    }
    static char line[1 << 20];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        const char *err = directive(line);
        if (err) {
            fprintf(stderr, "fakealpaca: script line %d: %s\n", lineno, err);
            exit(2);
        }
    }
    fclose(f);
    if (!key_id[0]) {
        fprintf(stderr, "fakealpaca: the script needs a line: key ID SECRET\n");
        exit(2);
    }
}

/* ---- admin ---- */

static cJSON *faults_json(void)
{
    cJSON *j = cJSON_CreateObject(), *a;
    cJSON_AddNumberToObject(j, "drop_after_accept", (double)drop_n);
    cJSON_AddNumberToObject(j, "drop_status", drop_status);
    cJSON_AddNumberToObject(j, "delay_ms", (double)delay_ms);
    cJSON_AddStringToObject(j, "delay_prefix", delay_prefix);
    cJSON_AddNumberToObject(j, "reset", (double)reset_n);
    cJSON_AddNumberToObject(j, "rate_limit", (double)rl_n);
    cJSON_AddNumberToObject(j, "step_every", (double)step_every);
    cJSON_AddBoolToObject(j, "market_open", market_open);
    a = cJSON_AddArrayToObject(j, "status");
    for (int k = 0; k < MAX_SFAULTS; k++) {
        if (sfaults[k].count <= 0)
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "status", sfaults[k].status);
        cJSON_AddNumberToObject(e, "count", (double)sfaults[k].count);
        cJSON_AddStringToObject(e, "prefix", sfaults[k].prefix);
        cJSON_AddItemToArray(a, e);
    }
    a = cJSON_AddArrayToObject(j, "hidden");
    for (int k = 0; k < nhidden; k++)
        cJSON_AddItemToArray(a, cJSON_CreateString(hidden[k]));
    return j;
}

static cJSON *prices_json(void)
{
    cJSON *j = cJSON_CreateObject();
    for (int i = 0; i < nsyms; i++)
        j_num(j, syms[i].name, price(i));
    return j;
}

static cJSON *state_json(void)
{
    cJSON *j = cJSON_CreateObject(), *a;
    cJSON_AddNumberToObject(j, "step", (double)steps);
    j_time(j, "time", now_us);
    cJSON_AddItemToObject(j, "account", account_json());
    cJSON_AddItemToObject(j, "clock", clock_json());
    cJSON_AddItemToObject(j, "prices", prices_json());
    a = cJSON_AddArrayToObject(j, "orders");
    for (int i = 0; i < norders; i++) {
        cJSON *o = order_json(i, 0);
        cJSON_AddBoolToObject(o, "hidden", nhidden && is_hidden(&orders[i]));
        cJSON_AddItemToArray(a, o);
    }
    cJSON_AddItemToObject(j, "positions", positions_json());
    a = cJSON_AddArrayToObject(j, "activities");
    for (int i = 0; i < nacts; i++)
        cJSON_AddItemToArray(a, activity_json(i));
    cJSON_AddItemToObject(j, "faults", faults_json());
    cJSON *c = cJSON_AddObjectToObject(j, "counters");
    cJSON_AddNumberToObject(c, "requests", (double)cnt.requests);
    cJSON_AddNumberToObject(c, "posts", (double)cnt.posts);
    cJSON_AddNumberToObject(c, "orders", (double)cnt.orders);
    cJSON_AddNumberToObject(c, "duplicates", (double)cnt.duplicates);
    cJSON_AddNumberToObject(c, "unauthorized", (double)cnt.unauthorized);
    cJSON_AddNumberToObject(c, "sent_429", (double)cnt.sent_429);
    cJSON_AddNumberToObject(c, "sent_5xx", (double)cnt.sent_5xx);
    cJSON_AddNumberToObject(c, "dropped", (double)cnt.dropped);
    cJSON_AddNumberToObject(c, "resets", (double)cnt.resets);
    cJSON_AddNumberToObject(c, "delayed", (double)cnt.delayed);
    cJSON_AddNumberToObject(c, "rate_limited", (double)cnt.rate_limited);
    cJSON_AddNumberToObject(c, "steps", (double)steps);
    cJSON_AddNumberToObject(c, "tls_handshake_failures", (double)tls_failures);
    return j;
}

static int admin(req *r)
{
    int post = strcmp(r->method, "POST") == 0;
    if (strcmp(r->method, "GET") == 0 && strcmp(r->path, "/admin/state") == 0) {
        reply(r, 200, state_json());
    } else if (post && strcmp(r->path, "/admin/step") == 0) {
        char v[32];
        long k = 1;
        if (qparam(r->query, "n", v, sizeof v) || (r->blen && r->blen < sizeof v)) {
            if (!v[0])
                snprintf(v, sizeof v, "%.*s", (int)r->blen, r->body);
            k = is_count(v) ? atol(v) : -1;
        }
        if (k < 0 || k > 10000) {
            reply_msg(r, 400, 0, "step count must be 0..10000");
            return KEEP;
        }
        for (long i = 0; i < k; i++)
            step();
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "step", (double)steps);
        j_time(j, "time", now_us);
        cJSON_AddItemToObject(j, "prices", prices_json());
        reply(r, 200, j);
    } else if (post && strcmp(r->path, "/admin/fault") == 0) {
        char *text = malloc(r->blen + 1), *save = NULL;
        if (!text) {
            reply_msg(r, 500, 0, "out of memory");
            return KEEP;
        }
        memcpy(text, r->body, r->blen);
        text[r->blen] = '\0';
        int lineno = 0;
        const char *err = NULL;
        for (char *l = strtok_r(text, "\r\n", &save); l && !err;
             l = strtok_r(NULL, "\r\n", &save)) {
            lineno++;
            if (l[0] != '#')
                err = directive(l);
        }
        free(text);
        if (err) {
            char msg[256];
            snprintf(msg, sizeof msg, "line %d: %s", lineno, err);
            reply_msg(r, 400, 0, msg);
        } else {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddBoolToObject(j, "ok", 1);
            reply(r, 200, j);
        }
    } else if (post && strcmp(r->path, "/admin/shutdown") == 0) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddBoolToObject(j, "ok", 1);
        reply(r, 200, j);
        return SHUTDOWN;
    } else {
        reply_msg(r, 404, 0, "admin endpoint not found");
    }
    return KEEP;
}

/* ---- faults, auth, rate limit ---- */

static void sleep_ms(long ms)
{
    double end = now_s() + (double)ms / 1000.0, limit = t_start + max_seconds;
    if (end > limit)
        end = limit;
    for (int i = 0; i < 100000; i++) {
        double left = end - now_s();
        if (left <= 0)
            return;
        if (left > 0.05)
            left = 0.05;
        struct timespec ts = {0, (long)(left * 1e9)};
        nanosleep(&ts, NULL);
    }
}

static int prefixed(const char *path, const char *prefix)
{
    return strncmp(path, prefix, strlen(prefix)) == 0;
}

/* The 60 s window of accepted /v2 requests (wall-clock seconds). */
static void rl_prune(double now)
{
    while (rl_len > 0 && rl_t[rl_head] <= now - 60) {
        rl_head = (rl_head + 1) % RL_CAP;
        rl_len--;
    }
}

static void rl_headers(req *r, double now, int limited)
{
    long limit = rl_n ? rl_n : 200, left = limited ? 0 : limit - rl_len;
    double reset = rl_len ? rl_t[rl_head] + 60 : now + 60;
    snprintf(r->xhdrs, sizeof r->xhdrs,
             "X-Ratelimit-Limit: %ld\r\nX-Ratelimit-Remaining: %ld\r\nX-Ratelimit-Reset: %ld\r\n",
             limit, left > 0 ? left : 0, (long)ceil(reset));
}

static const char *status_text(int status)
{
    switch (status) {
    case 429:
        return "rate limit exceeded";
    case 500:
        return "internal server error";
    case 502:
        return "bad gateway";
    case 503:
        return "service unavailable";
    case 504:
        return "gateway timeout";
    }
    return "injected error";
}

static void count_status(int status)
{
    if (status == 429)
        cnt.sent_429++;
    else if (status >= 500)
        cnt.sent_5xx++;
}

/* Everything one request does, faults first. */
static int handle(req *r)
{
    if (strncmp(r->path, "/admin/", 7) == 0) {
        r->auth = "admin";
        return admin(r);
    }
    int post = strcmp(r->method, "POST") == 0 && strcmp(r->path, "/v2/orders") == 0;
    cnt.requests++;
    cnt.posts += post;
    if (reset_n > 0 && prefixed(r->path, reset_prefix)) {
        reset_n--;
        cnt.resets++;
        r->fault = "reset";
        r->status = 0;
        return RESET;
    }
    if (delay_ms > 0 && prefixed(r->path, delay_prefix)) {
        cnt.delayed++;
        r->fault = "delay";
        sleep_ms(delay_ms);
    }
    char id[256], secret[256];
    header_value(r->hdrs, r->hdrs_len, "APCA-API-KEY-ID", id, sizeof id);
    header_value(r->hdrs, r->hdrs_len, "APCA-API-SECRET-KEY", secret, sizeof secret);
    int ok = strcmp(id, key_id) == 0 && strcmp(secret, key_secret) == 0;
    memset(secret, 0, sizeof secret);
    if (!ok) {
        cnt.unauthorized++;
        r->auth = "failed";
        reply_msg(r, 401, 0, "unauthorized");
        return KEEP;
    }
    r->auth = "ok";
    double now = wall_s();
    rl_prune(now);
    if (rl_n > 0 && rl_len >= rl_n) {
        cnt.rate_limited++;
        cnt.sent_429++;
        r->fault = "rate-limit";
        rl_headers(r, now, 1);
        reply_msg(r, 429, 0, status_text(429));
        return KEEP;
    }
    if (rl_len == RL_CAP) {
        rl_head = (rl_head + 1) % RL_CAP;
        rl_len--;
    }
    rl_t[(rl_head + rl_len++) % RL_CAP] = now;
    rl_headers(r, now, 0);
    for (int k = 0; k < MAX_SFAULTS; k++) {
        sfault *f = &sfaults[k];
        if (f->count <= 0 || !prefixed(r->path, f->prefix))
            continue;
        f->count--;
        r->fault = "status";
        if (f->status == 429)
            snprintf(r->xhdrs, sizeof r->xhdrs,
                     "X-Ratelimit-Limit: %ld\r\nX-Ratelimit-Remaining: 0\r\n"
                     "X-Ratelimit-Reset: %ld\r\n",
                     rl_n ? rl_n : 200, (long)ceil(now + 1));
        count_status(f->status);
        reply_msg(r, f->status, 0, status_text(f->status));
        return KEEP;
    }
    api(r);
    if (post && r->status == 200 && drop_n > 0) {
        drop_n--;
        cnt.dropped++;
        r->fault = "drop-after-accept";
        if (!drop_status)
            return DROP;
        count_status(drop_status);
        reply_msg(r, drop_status, 0, status_text(drop_status));
    }
    return KEEP;
}

static void audit_line(long seq, const req *r)
{
    if (!audit)
        return;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "n", (double)seq);
    cJSON_AddNumberToObject(j, "t", round((now_s() - t_start) * 1e6) / 1e6);
    cJSON_AddStringToObject(j, "method", r->method);
    cJSON_AddStringToObject(j, "path", r->path);
    cJSON_AddNumberToObject(j, "status", r->status);
    cJSON_AddStringToObject(j, "auth", r->auth ? r->auth : "none");
    if (r->cid[0])
        cJSON_AddStringToObject(j, "client_order_id", r->cid);
    else
        cJSON_AddNullToObject(j, "client_order_id");
    if (r->oid[0])
        cJSON_AddStringToObject(j, "order_id", r->oid);
    else
        cJSON_AddNullToObject(j, "order_id");
    if (r->fault)
        cJSON_AddStringToObject(j, "fault", r->fault);
    else
        cJSON_AddNullToObject(j, "fault");
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (s) {
        fprintf(audit, "%s\n", s);
        fflush(audit);
        free(s);
    }
}

/* ---- connections ---- */

static ssize_t conn_recv(conn *c, char *b, size_t n)
{
#ifdef FAKE_TLS
    if (c->ssl) {
        int k = SSL_read(c->ssl, b, n > INT32_MAX ? INT32_MAX : (int)n);
        return k > 0 ? k : -1;
    }
#endif
    return recv(c->fd, b, n, 0);
}

/* Sends all of p or fails; bounded by the socket's send timeout. */
static int send_all(conn *c, const char *p, size_t n)
{
    for (int i = 0; n > 0 && i < 1000000; i++) {
        ssize_t w;
#ifdef FAKE_TLS
        if (c->ssl) {
            int k = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
            if (k <= 0)
                return -1;
            w = k;
        } else
#endif
            w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return n == 0 ? 0 : -1;
}

static void conn_close(conn *c, int rst)
{
    if (rst) {
        struct linger lg = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
#ifdef FAKE_TLS
    if (c->ssl) {
        if (!rst)
            SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
#endif
    close(c->fd);
    free(c->buf);
    c->buf = NULL;
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 207:
        return "Multi-Status";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    }
    return "Status";
}

static int send_reply(conn *c, const req *r, int keep)
{
    char head[1024];
    size_t blen = r->out ? strlen(r->out) : 0;
    int hl;
    if (r->status == 204)
        hl = snprintf(head, sizeof head, "HTTP/1.1 204 No Content\r\n%sConnection: %s\r\n\r\n",
                      r->xhdrs, keep ? "keep-alive" : "close");
    else
        hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=UTF-8\r\n%s"
                      "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
                      r->status, reason(r->status), r->xhdrs, blen, keep ? "keep-alive" : "close");
    /* One write: a head and a body sent apart wait out the client's delayed ACK (Nagle). */
    char *all = malloc((size_t)hl + blen + 1);
    if (!all)
        return 0;
    memcpy(all, head, (size_t)hl);
    if (blen)
        memcpy(all + hl, r->out, blen);
    int ok = send_all(c, all, (size_t)hl + blen) == 0;
    free(all);
    return ok;
}

/* Answers a request that could not be parsed (audited with what is known of it, path ""
 * when nothing), then the connection closes. */
static int refuse(conn *c, long *served, const req *parsed, int status, const char *msg)
{
    req r;
    memset(&r, 0, sizeof r);
    if (parsed) {
        memcpy(r.method, parsed->method, sizeof r.method);
        memcpy(r.path, parsed->path, sizeof r.path);
    }
    reply_msg(&r, status, 0, msg);
    audit_line(++*served, &r);
    send_reply(c, &r, 0);
    free(r.out);
    return CLOSE;
}

/* Serves every complete request in c's buffer; KEEP, or how c must end. */
static int serve_conn(conn *c, long *served)
{
    for (int guard = 0; guard < 1000; guard++) {
        char *eoh = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (!eoh)
            return c->len < HDR_CAP ? KEEP
                                    : refuse(c, served, NULL, 431, "request headers too large");
        size_t hdr_end = (size_t)(eoh - c->buf) + 4;
        if (hdr_end > HDR_CAP)
            return refuse(c, served, NULL, 431, "request headers too large");
        char *le = memchr(c->buf, '\n', hdr_end);
        char *sp1 = memchr(c->buf, ' ', (size_t)(le - c->buf));
        char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(le - sp1 - 1)) : NULL;
        req r;
        memset(&r, 0, sizeof r);
        if (!sp1 || !sp2 || (size_t)(sp1 - c->buf) >= sizeof r.method)
            return refuse(c, served, NULL, 400, "bad request line");
        memcpy(r.method, c->buf, (size_t)(sp1 - c->buf));
        char *q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
        char *pend = q ? q : sp2;
        if ((size_t)(pend - sp1 - 1) >= sizeof r.path ||
            (q && (size_t)(sp2 - q - 1) >= sizeof r.query))
            return refuse(c, served, NULL, 414, "request target too long");
        memcpy(r.path, sp1 + 1, (size_t)(pend - sp1 - 1));
        if (q)
            memcpy(r.query, q + 1, (size_t)(sp2 - q - 1));
        r.hdrs = le + 1;
        r.hdrs_len = (size_t)(eoh + 2 - r.hdrs);
        char v[64];
        if (header_value(r.hdrs, r.hdrs_len, "Transfer-Encoding", v, sizeof v))
            return refuse(c, served, &r, 411, "chunked bodies are not supported");
        header_value(r.hdrs, r.hdrs_len, "Content-Length", v, sizeof v);
        char *e;
        long clen = v[0] ? strtol(v, &e, 10) : 0;
        if (clen < 0 || clen > BODY_CAP || (v[0] && *e))
            return refuse(c, served, &r, 413, "request body too large");
        if (c->len < hdr_end + (size_t)clen) {
            if (!c->continued && header_value(r.hdrs, r.hdrs_len, "Expect", v, sizeof v) &&
                strcasecmp(v, "100-continue") == 0) {
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                c->continued = 1;
                if (send_all(c, cont, sizeof cont - 1) != 0)
                    return CLOSE;
            }
            return KEEP; /* wait for the rest of the body */
        }
        c->continued = 0;
        r.body = c->buf + hdr_end;
        r.blen = (size_t)clen;
        (*served)++;
        int act = handle(&r);
        if (strncmp(r.path, "/v2/", 4) == 0 && step_every > 0 && ++since_step >= step_every) {
            since_step = 0;
            step();
        }
        audit_line(*served, &r);
        int keep = act == KEEP && *served < max_requests &&
                   !(header_value(r.hdrs, r.hdrs_len, "Connection", v, sizeof v) &&
                     strcasecmp(v, "close") == 0);
        if (act == KEEP || act == SHUTDOWN)
            keep = send_reply(c, &r, keep) && keep;
        free(r.out);
        if (act == RESET || act == DROP || act == SHUTDOWN)
            return act;
        size_t used = hdr_end + (size_t)clen;
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
        if (!keep)
            return CLOSE;
    }
    return CLOSE;
}

#ifdef FAKE_TLS
static int tls_setup(const char *cert, const char *key)
{
    tls = SSL_CTX_new(TLS_server_method());
    if (!tls || SSL_CTX_use_certificate_chain_file(tls, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls, key, SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return -1;
    }
    return 0;
}

/* The handshake, blocking but bounded by the socket timeouts; 0 when it succeeded. */
static int tls_accept(conn *c)
{
    c->ssl = SSL_new(tls);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_accept(c->ssl) != 1) {
        tls_failures++;
        fprintf(stderr,
                "fakealpaca: TLS handshake %ld failed (the client refused the "
                "certificate, or is not speaking TLS)\n",
                tls_failures);
        return -1;
    }
    return 0;
}
#endif

int main(int argc, char **argv)
{
    const char *cert = NULL, *keyf = NULL;
    if (argc >= 4 && strcmp(argv[1], "--tls") == 0) {
        cert = argv[2];
        keyf = argv[3];
        argv += 3;
        argc -= 3;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: fakealpaca [--tls CERT KEY] SCRIPT AUDIT_LOG\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    now_us = clock_start;
    load_script(argv[1]);
    audit = fopen(argv[2], "a");
    if (!audit) {
        fprintf(stderr, "fakealpaca: cannot open audit log %s\n", argv[2]);
        return 2;
    }
    if (cert) {
#ifdef FAKE_TLS
        if (tls_setup(cert, keyf) != 0) {
            fprintf(stderr, "fakealpaca: cannot load %s / %s\n", cert, keyf);
            return 2;
        }
#else
        (void)keyf;
        fprintf(stderr, "fakealpaca: built without OpenSSL (install libssl-dev): no --tls\n");
        return 2;
#endif
    }
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 64) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) != 0) {
        perror("fakealpaca: socket");
        return 2;
    }
    printf("%d\n", ntohs(a.sin_port));
    fflush(stdout);

    t_start = now_s();
    conn conns[MAX_CONN];
    int nc = 0, stop = 0;
    long served = 0;
    while (!stop && served < max_requests && now_s() - t_start < max_seconds) {
        struct pollfd pf[MAX_CONN + 1];
        pf[0].fd = ls;
        pf[0].events = POLLIN;
        for (int i = 0; i < nc; i++) {
            pf[i + 1].fd = conns[i].fd;
            pf[i + 1].events = POLLIN;
        }
        if (poll(pf, (nfds_t)nc + 1, 200) <= 0)
            continue;
        for (int i = nc - 1; i >= 0 && !stop; i--) {
            if (!(pf[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            conn *c = &conns[i];
            ssize_t r = conn_recv(c, c->buf + c->len, BUF_CAP - c->len);
            int act = r > 0 ? KEEP : CLOSE;
            if (r > 0) {
                c->len += (size_t)r;
#ifdef FAKE_TLS
                for (int k = 0; c->ssl && SSL_pending(c->ssl) > 0 && c->len < BUF_CAP && k < 64;
                     k++) {
                    r = conn_recv(c, c->buf + c->len, BUF_CAP - c->len);
                    if (r <= 0)
                        break;
                    c->len += (size_t)r;
                }
#endif
                c->last = now_s();
                act = serve_conn(c, &served);
            }
            if (act != KEEP) {
                conn_close(c, act == RESET);
                conns[i] = conns[--nc];
                stop = act == SHUTDOWN;
            }
        }
        if (!stop && (pf[0].revents & POLLIN)) {
            int fd = accept(ls, NULL, NULL);
            if (fd < 0)
                continue;
            if (nc == MAX_CONN) { /* the least recently used connection makes room */
                int old = 0;
                for (int i = 1; i < nc; i++)
                    if (conns[i].last < conns[old].last)
                        old = i;
                conn_close(&conns[old], 0);
                conns[old] = conns[--nc];
            }
            conn *c = &conns[nc];
            memset(c, 0, sizeof *c);
            c->fd = fd;
            c->last = now_s();
            struct timeval tv = {5, 0};
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c->buf = malloc(BUF_CAP);
            int ok = c->buf != NULL;
#ifdef FAKE_TLS
            if (ok && cert && tls_accept(c) != 0)
                ok = 0;
#endif
            if (ok)
                nc++;
            else
                conn_close(c, 0);
        }
    }
    for (int i = 0; i < nc; i++)
        conn_close(&conns[i], 0);
    close(ls);
    fclose(audit);
#ifdef FAKE_TLS
    SSL_CTX_free(tls);
#endif
    for (int i = 0; i < nsyms; i++)
        free(syms[i].px);
    free(orders);
    free(acts);
    free(ctab);
    return 0;
}
