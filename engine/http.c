/*
 * http.c: requests over one reused libcurl easy handle, with the policies every caller
 * needs and none should re-implement: TLS always verified, http:// only to loopback,
 * timeouts, a body size cap, a per-host token bucket, GET-only retries with exponential
 * backoff and jitter, and Retry-After on 429/503, a low-speed limit (a server that
 * trickles) and a deadline across every request and wait of one command. Error messages
 * name the method and the URL without its query string and never include a header value;
 * the secret scrubber (below) removes every loaded key from any text shown to a user.
 */
#include "http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_HOSTS 16
#define HDR_CAP 2048
/* Response header bytes accepted: API replies carry a few hundred; more is a broken or
 * hostile server, refused with its own message rather than curl's "Out of memory". */
#define HDR_MAX_TOTAL (64 * 1024)

typedef struct bucket {
    char host[256];
    double tokens;
    double last; /* clock time of the last refill; also the LRU key */
} bucket;

struct gt_http {
    CURL *curl;
    long connect_ms, total_ms;
    int retries;
    long base_ms, cap_ms;
    double per_min, burst;
    int64_t max_bytes;
    double max_wait;
    long low_bytes, low_secs;    /* below low_bytes/s for low_secs s: give up (0: off) */
    double deadline, deadline_s; /* on h->now's clock; 0: none. deadline_s: as set */
    int notify_fd;               /* retry notices go here when >= 0 */
    int trace_fd;                /* curl's verbose trace, scrubbed, goes here when >= 0 */
    char *cainfo;
    gt_http_now_fn now;
    gt_http_sleep_fn sleep;
    void *ctx;
    uint64_t rng;
    bucket hosts[MAX_HOSTS];
    int nhosts;
    /* the current attempt's response */
    char *body;
    size_t len, cap;
    int too_big;
    char hdrs[HDR_CAP];
    size_t hlen;
    size_t hbytes; /* every header byte of the attempt, kept or not */
    int hdr_too_big;
    char location[1024];
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static double real_now(void *ctx)
{
    GT_UNUSED(ctx);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Sleeps in slices so Ctrl-C (gt_interrupted) ends a long Retry-After wait promptly. */
static int real_sleep(void *ctx, double s)
{
    GT_UNUSED(ctx);
    double end = real_now(NULL) + s;
    for (int i = 0; i < 100000; i++) {
        if (gt_interrupted)
            return gt_seterr(GT_EINTR, "http: interrupted while waiting");
        double left = end - real_now(NULL);
        if (left <= 0)
            return GT_OK;
        if (left > 0.1)
            left = 0.1;
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&ts, NULL);
    }
    return GT_OK;
}

gt_http *gt_http_new(void)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        gt_seterr(GT_ENET, "http: curl_global_init failed");
        return NULL;
    }
    gt_http *h = calloc(1, sizeof *h);
    if (!h) {
        gt_seterr(GT_ENOMEM, "http: out of memory");
        return NULL;
    }
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        gt_seterr(GT_ENET, "http: curl_easy_init failed");
        return NULL;
    }
    h->connect_ms = 10000;
    h->total_ms = 30000;
    h->retries = 3;
    h->base_ms = 500;
    h->cap_ms = 30000;
    h->per_min = 180;
    h->burst = 5;
    h->max_bytes = INT64_C(64) << 20;
    h->max_wait = 30;
    h->low_bytes = 100;
    h->low_secs = 10;
    h->notify_fd = -1;
    h->trace_fd = -1;
    h->now = real_now;
    h->sleep = real_sleep;
    h->rng = (uint64_t)(uintptr_t)h ^ (uint64_t)time(NULL) ^ UINT64_C(0x9e3779b97f4a7c15);
    return h;
}

void gt_http_free(gt_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h->body);
    free(h->cainfo);
    free(h);
}

int gt_http_set_timeouts(gt_http *h, int64_t connect_ms, int64_t total_ms)
{
    if (!h || connect_ms < 0 || total_ms < 0 || connect_ms > 86400000 || total_ms > 86400000)
        return gt_seterr(GT_EINVAL, "http: timeouts must be 0..86400000 ms");
    if (connect_ms)
        h->connect_ms = (long)connect_ms;
    if (total_ms)
        h->total_ms = (long)total_ms;
    return GT_OK;
}

int gt_http_set_retries(gt_http *h, int32_t retries, int64_t base_ms, int64_t cap_ms)
{
    if (!h || retries < 0 || retries > 20 || base_ms < 0 || cap_ms < base_ms || cap_ms > 3600000)
        return gt_seterr(GT_EINVAL, "http: retries must be 0..20 and 0 <= base_ms <= cap_ms");
    h->retries = retries;
    h->base_ms = (long)base_ms;
    h->cap_ms = (long)cap_ms;
    return GT_OK;
}

int gt_http_set_rate(gt_http *h, double per_minute, double burst)
{
    if (!h || !(per_minute == per_minute) || (per_minute > 0 && !(burst >= 1)) ||
        per_minute > 1e6 || burst > 1e6)
        return gt_seterr(GT_EINVAL, "http: rate must be <= 1e6/min with burst >= 1");
    if (per_minute != h->per_min || burst != h->burst)
        h->nhosts = 0; /* new limits start with full buckets; same limits keep the state */
    h->per_min = per_minute;
    h->burst = burst;
    return GT_OK;
}

int gt_http_set_max_bytes(gt_http *h, int64_t max_bytes)
{
    if (!h || max_bytes < 1)
        return gt_seterr(GT_EINVAL, "http: max_bytes must be >= 1");
    h->max_bytes = max_bytes;
    return GT_OK;
}

int gt_http_set_max_wait(gt_http *h, double seconds)
{
    if (!h || !(seconds >= 0) || seconds > 86400)
        return gt_seterr(GT_EINVAL, "http: max_wait must be 0..86400 s");
    h->max_wait = seconds;
    return GT_OK;
}

int gt_http_set_low_speed(gt_http *h, int64_t bytes_per_s, int64_t seconds)
{
    if (!h || bytes_per_s < 0 || seconds < 0 || bytes_per_s > 1000000000 || seconds > 86400)
        return gt_seterr(GT_EINVAL, "http: low speed must be 0..1e9 bytes/s over 0..86400 s");
    h->low_bytes = (long)bytes_per_s;
    h->low_secs = (long)seconds;
    return GT_OK;
}

int gt_http_set_deadline(gt_http *h, double seconds)
{
    if (!h || !(seconds >= 0) || seconds > 86400 * 7)
        return gt_seterr(GT_EINVAL, "http: deadline must be 0..604800 s");
    h->deadline_s = seconds;
    h->deadline = seconds > 0 ? h->now(h->ctx) + seconds : 0;
    return GT_OK;
}

int gt_http_set_notify(gt_http *h, int32_t fd)
{
    if (!h)
        return gt_seterr(GT_EINVAL, "http: NULL client");
    h->notify_fd = fd >= 0 ? fd : -1;
    return GT_OK;
}

int gt_http_set_trace(gt_http *h, int32_t fd)
{
    if (!h)
        return gt_seterr(GT_EINVAL, "http: NULL client");
    h->trace_fd = fd >= 0 ? fd : -1;
    return GT_OK;
}

/* ---- secrets ---- */

/* Process-wide on purpose: a key loaded by any client or module must be scrubbed from
 * every message in the process, whichever unit formats it. Values are copied, never
 * freed before exit (a handful of short strings), and guarded by one mutex. */
#define MAX_SECRETS 64
static pthread_mutex_t secret_mu = PTHREAD_MUTEX_INITIALIZER;
static char *secrets[MAX_SECRETS];
static size_t secret_len[MAX_SECRETS];
static int nsecrets;
static const char REDACTED[] = "[REDACTED]";

int gt_secret_add(const char *value)
{
    if (!value)
        return gt_seterr(GT_EINVAL, "secrets: NULL value");
    /* Shorter values are not keys (Alpaca's are 20 and 40 characters) and would blank out
     * every "a" in every message; they are not registered. */
    if (strlen(value) < GT_SECRET_MIN_LEN)
        return GT_OK;
    int rc = GT_OK;
    pthread_mutex_lock(&secret_mu);
    for (int i = 0; i < nsecrets; i++)
        if (strcmp(secrets[i], value) == 0)
            goto out;
    if (nsecrets == MAX_SECRETS) {
        rc = gt_seterr(GT_ETOOBIG, "secrets: more than %d keys loaded", MAX_SECRETS);
        goto out;
    }
    if (!(secrets[nsecrets] = strdup(value))) {
        rc = gt_seterr(GT_ENOMEM, "secrets: out of memory");
        goto out;
    }
    secret_len[nsecrets] = strlen(value);
    nsecrets++;
out:
    pthread_mutex_unlock(&secret_mu);
    return rc;
}

/* Appends c to out when there is room; counts it either way. */
static void put(char *out, int64_t cap, int64_t *n, char c)
{
    if (*n < cap - 1)
        out[*n] = c;
    (*n)++;
}

int64_t gt_scrub(const char *in, int64_t len, int32_t flags, char *out, int64_t cap)
{
    if (!in || len < 0 || cap < 0 || (cap > 0 && !out))
        return gt_seterr(GT_EINVAL, "scrub: bad arguments");
    int64_t n = 0;
    pthread_mutex_lock(&secret_mu);
    for (int64_t i = 0; i < len;) {
        int hit = 0;
        for (int k = 0; k < nsecrets && !hit; k++) {
            size_t sl = secret_len[k];
            if ((int64_t)sl <= len - i && memcmp(in + i, secrets[k], sl) == 0) {
                for (const char *r = REDACTED; *r; r++)
                    put(out, cap, &n, *r);
                i += (int64_t)sl;
                hit = 1;
            }
        }
        if (hit)
            continue;
        unsigned char c = (unsigned char)in[i];
        if ((flags & GT_SCRUB_CONTROL) && c == 0x1b) {
            /* an escape sequence goes whole: ESC [ params final-byte (CSI), or ESC + one */
            i++;
            if (i < len && in[i] == '[') {
                i++;
                while (i < len && !((unsigned char)in[i] >= 0x40 && (unsigned char)in[i] <= 0x7e))
                    i++;
            }
            i++;
            continue;
        }
        if ((flags & GT_SCRUB_CONTROL) && (c < 0x20 || c == 0x7f))
            c = ' ';
        put(out, cap, &n, (char)c);
        i++;
    }
    pthread_mutex_unlock(&secret_mu);
    if (cap > 0)
        out[n < cap - 1 ? n : cap - 1] = '\0';
    return n;
}

/* gt_scrub over a buffer in place (through a copy); the result may be cut at size. */
static void scrub_buf(char *buf, size_t size)
{
    char tmp[2048];
    size_t n = strnlen(buf, size);
    if (n >= sizeof tmp)
        n = sizeof tmp - 1;
    memcpy(tmp, buf, n);
    tmp[n] = '\0';
    gt_scrub(tmp, (int64_t)n, GT_SCRUB_CONTROL, buf, (int64_t)size);
}

int gt_http_set_cainfo(gt_http *h, const char *path)
{
    if (!h)
        return gt_seterr(GT_EINVAL, "http: NULL client");
    char *p = NULL;
    if (path && !(p = strdup(path)))
        return gt_seterr(GT_ENOMEM, "http: out of memory");
    free(h->cainfo);
    h->cainfo = p;
    return GT_OK;
}

void gt_http_set_clock(gt_http *h, gt_http_now_fn now, gt_http_sleep_fn sleep_fn, void *ctx)
{
    if (!h)
        return;
    h->now = now ? now : real_now;
    h->sleep = sleep_fn ? sleep_fn : real_sleep;
    h->ctx = ctx;
}

/* ---- URLs ---- */

static int is_loopback(const char *host)
{
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
        strcmp(host, "::1") == 0)
        return 1;
    unsigned char a[4];
    return inet_pton(AF_INET, host, a) == 1 && a[0] == 127;
}

/* Parses url; fills scheme and host (lowercase as curl gives them). */
static int url_parts(const char *url, char *scheme, size_t ssz, char *host, size_t hsz)
{
    CURLU *u = curl_url();
    char *sc = NULL, *ho = NULL;
    int ok = 0;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &sc, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &ho, 0) == CURLUE_OK) {
        snprintf(scheme, ssz, "%s", sc);
        snprintf(host, hsz, "%s", ho);
        ok = 1;
    }
    curl_free(sc);
    curl_free(ho);
    curl_url_cleanup(u);
    return ok;
}

void gt_http_redact(const char *url, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    CURLU *u = curl_url();
    char *sc = NULL, *ho = NULL, *po = NULL, *pa = NULL;
    if (url && u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &sc, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &ho, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PATH, &pa, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_PORT, &po, 0);
        snprintf(buf, size, "%s://%s%s%s%s", sc, ho, po ? ":" : "", po ? po : "", pa);
    } else {
        /* Never echo text we could not parse: it may be a secret pasted by mistake. */
        snprintf(buf, size, "(malformed URL)");
    }
    curl_free(sc);
    curl_free(ho);
    curl_free(po);
    curl_free(pa);
    curl_url_cleanup(u);
}

/* ---- curl callbacks ---- */

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    gt_http *h = ud;
    size_t add = sz * n;
    if ((int64_t)(h->len + add) > h->max_bytes) {
        h->too_big = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (h->len + add + 1 > h->cap) {
        size_t nc = h->cap ? h->cap : 16384;
        while (nc < h->len + add + 1)
            nc *= 2;
        char *nb = realloc(h->body, nc);
        if (!nb)
            return 0;
        h->body = nb;
        h->cap = nc;
    }
    memcpy(h->body + h->len, p, add);
    h->len += add;
    h->body[h->len] = '\0';
    return add;
}

static int header_wanted(const char *name, size_t n)
{
    return (n == 11 && strncasecmp(name, "retry-after", 11) == 0) ||
           (n == 12 && strncasecmp(name, "content-type", 12) == 0) ||
           (n > 12 && strncasecmp(name, "x-ratelimit-", 12) == 0);
}

/* Keeps only the headers callers need, as "name: value\n" with lowercase names. A new
 * status line (after a 100 Continue, say) starts the set afresh. */
static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    gt_http *h = ud;
    size_t len = sz * n;
    h->hbytes += len;
    if (h->hbytes > HDR_MAX_TOTAL) {
        h->hdr_too_big = 1;
        return 0; /* aborts the transfer */
    }
    if (len > 9 && strncasecmp(p, "location:", 9) == 0) {
        const char *v = p + 9, *e = p + len;
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
            e--;
        snprintf(h->location, sizeof h->location, "%.*s", (int)(e - v), v);
        return len;
    }
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        h->hlen = 0;
        h->hdrs[0] = '\0';
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon || !header_wanted(p, (size_t)(colon - p)))
        return len;
    size_t nlen = (size_t)(colon - p);
    const char *v = colon + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t vlen = (size_t)(end - v);
    if (h->hlen + nlen + vlen + 4 > HDR_CAP)
        return len;
    for (size_t i = 0; i < nlen; i++) {
        char c = p[i];
        h->hdrs[h->hlen++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    h->hdrs[h->hlen++] = ':';
    h->hdrs[h->hlen++] = ' ';
    memcpy(h->hdrs + h->hlen, v, vlen);
    h->hlen += vlen;
    h->hdrs[h->hlen++] = '\n';
    h->hdrs[h->hlen] = '\0';
    return len;
}

/* Header names whose values are credentials: the trace shows the name, never the value. */
static int secret_header(const char *p, size_t n)
{
    static const char *const names[] = {
        "apca-api-key-id", "apca-api-secret-key", "authorization", "proxy-authorization",
        "cookie",          "set-cookie",          "cb-access-key", "cb-access-sign",
        "x-api-key"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t k = strlen(names[i]);
        if (n > k && p[k] == ':' && strncasecmp(p, names[i], k) == 0)
            return (int)k;
    }
    return 0;
}

/* curl's verbose trace, line by line: informational text and both directions' headers
 * (never bodies: an order body is not a secret but a response may echo anything). Every
 * credential header's value is replaced, then every registered secret is scrubbed along
 * with control characters, so a key cannot reach the trace in any spelling curl uses. */
static int on_debug(CURL *c, curl_infotype type, char *data, size_t size, void *ud)
{
    GT_UNUSED(c);
    gt_http *h = ud;
    const char *tag;
    switch (type) {
    case CURLINFO_TEXT:
        tag = "* ";
        break;
    case CURLINFO_HEADER_IN:
        tag = "< ";
        break;
    case CURLINFO_HEADER_OUT:
        tag = "> ";
        break;
    default:
        return 0;
    }
    const char *p = data, *end = data + size;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        size_t n = e ? (size_t)(e - p) : (size_t)(end - p);
        char line[2048], out[4096];
        size_t m = n < sizeof line - 1 ? n : sizeof line - 1;
        memcpy(line, p, m);
        line[m] = '\0';
        int k = secret_header(line, m);
        if (k) {
            snprintf(line + k, sizeof line - (size_t)k, ": [REDACTED]");
            m = strlen(line);
        }
        int64_t w = gt_scrub(line, (int64_t)m, GT_SCRUB_CONTROL, out, sizeof out);
        memset(line, 0, sizeof line);
        if (w > 0 || n == 0) {
            size_t wl = w < (int64_t)sizeof out ? (size_t)w : sizeof out - 1;
            while (wl && out[wl - 1] == ' ') /* the CR of the header line */
                wl--;
            if (wl) {
                out[wl] = '\n';
                if (write(h->trace_fd, tag, 2) < 0 || write(h->trace_fd, out, wl + 1) < 0)
                    return 0; /* a trace that cannot be written is not worth failing for */
            }
        }
        memset(out, 0, sizeof out);
        p += n + (e ? 1 : 0);
    }
    return 0;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    GT_UNUSED(ud);
    GT_UNUSED(dt);
    GT_UNUSED(dn);
    GT_UNUSED(ut);
    GT_UNUSED(un);
    return gt_interrupted ? 1 : 0;
}

/* Retry-After as seconds from now: delta-seconds or an HTTP-date; -1 when absent. */
static double retry_after(const gt_http *h)
{
    const char *p = strstr(h->hdrs, "retry-after: ");
    if (!p)
        return -1;
    p += 13;
    char val[128];
    size_t i = 0;
    while (p[i] && p[i] != '\n' && i < sizeof val - 1) {
        val[i] = p[i];
        i++;
    }
    val[i] = '\0';
    if (val[0] >= '0' && val[0] <= '9') {
        char *end;
        double s = strtod(val, &end);
        if (*end == '\0' && s >= 0 && s < 1e9)
            return s;
        return -1;
    }
    time_t t = curl_getdate(val, NULL);
    if (t == (time_t)-1)
        return -1;
    double d = difftime(t, time(NULL));
    return d > 0 ? d : 0;
}

/* ---- rate limit ----
 * Two buckets stand between a request and its host: the client's own (its settings: a cap
 * on that client alone) and the process's for the host (gt_http_limit_host), which every
 * client in the process draws from, so a broker client and any other client of the same
 * account cannot together exceed the account's limit. A 429 blocks the host for every
 * client until its reset time (Retry-After, else X-Ratelimit-Reset). Process-wide on
 * purpose, like the secrets: the limit belongs to the remote account, not to a client.
 * Tokens are reserved under the mutex and the wait happens outside it. Times are on the
 * requesting client's clock (the real monotonic one unless a test injected another). */

typedef struct shared_host {
    char host[256];
    double per_min, burst; /* per_min <= 0: no process-wide rate, only a 429 block */
    double tokens, last;
    double blocked_until; /* on the clients' clock; 0: not blocked */
} shared_host;

static pthread_mutex_t limit_mu = PTHREAD_MUTEX_INITIALIZER;
static shared_host shared[MAX_HOSTS];
static int nshared;

/* The host's slot (created when make), or NULL. Called with limit_mu held. */
static shared_host *shared_find(const char *host, int make, double now)
{
    for (int i = 0; i < nshared; i++)
        if (strcmp(shared[i].host, host) == 0)
            return &shared[i];
    if (!make)
        return NULL;
    shared_host *s;
    if (nshared < MAX_HOSTS) {
        s = &shared[nshared++];
    } else { /* reuse the least recently used slot that carries no limit or block */
        s = NULL;
        for (int i = 0; i < MAX_HOSTS; i++)
            if (shared[i].per_min <= 0 && shared[i].blocked_until <= now &&
                (!s || shared[i].last < s->last))
                s = &shared[i];
        if (!s)
            return NULL;
    }
    memset(s, 0, sizeof *s);
    snprintf(s->host, sizeof s->host, "%s", host);
    s->last = now;
    return s;
}

int gt_http_limit_host(const char *host, double per_minute, double burst)
{
    if (!host || !host[0] || strlen(host) >= 256 || !(per_minute == per_minute) ||
        (per_minute > 0 && !(burst >= 1)) || per_minute > 1e6 || burst > 1e6)
        return gt_seterr(GT_EINVAL, "http: a host limit needs a host name, a rate <= 1e6/min and "
                                    "burst >= 1");
    double now = real_now(NULL);
    int rc = GT_OK;
    pthread_mutex_lock(&limit_mu);
    shared_host *s = shared_find(host, per_minute > 0, now);
    if (s && per_minute > 0) {
        if (s->per_min != per_minute || s->burst != burst) {
            s->per_min = per_minute;
            s->burst = burst;
            s->tokens = burst;
            s->last = now;
        }
    } else if (s) {
        s->per_min = 0;
    } else if (per_minute > 0) {
        rc =
            gt_seterr(GT_ETOOBIG, "http: more than %d hosts carry a process-wide limit", MAX_HOSTS);
    }
    pthread_mutex_unlock(&limit_mu);
    return rc;
}

double gt_http_host_wait(const char *host)
{
    if (!host)
        return 0;
    double now = real_now(NULL), w = 0;
    pthread_mutex_lock(&limit_mu);
    shared_host *s = shared_find(host, 0, now);
    if (s && s->blocked_until > now)
        w = s->blocked_until - now;
    pthread_mutex_unlock(&limit_mu);
    return w;
}

void gt_http_limits_reset(void)
{
    pthread_mutex_lock(&limit_mu);
    nshared = 0;
    memset(shared, 0, sizeof shared);
    pthread_mutex_unlock(&limit_mu);
}

/* A 429 blocks host for every client until now + seconds. */
static void shared_block(gt_http *h, const char *host, double seconds)
{
    double now = h->now(h->ctx);
    pthread_mutex_lock(&limit_mu);
    shared_host *s = shared_find(host, 1, now);
    if (s && now + seconds > s->blocked_until)
        s->blocked_until = now + seconds;
    pthread_mutex_unlock(&limit_mu);
}

int gt_http_block_host(const char *host, double seconds)
{
    if (!host || !host[0] || strlen(host) >= 256 || !(seconds >= 0) || seconds > 3600)
        return gt_seterr(GT_EINVAL, "http: a host block needs a host name and 0..3600 s");
    double now = real_now(NULL);
    pthread_mutex_lock(&limit_mu);
    shared_host *s = shared_find(host, 1, now);
    if (s && now + seconds > s->blocked_until)
        s->blocked_until = now + seconds;
    pthread_mutex_unlock(&limit_mu);
    return s ? GT_OK : gt_seterr(GT_ETOOBIG, "http: no room for another host block");
}

static int shared_wait(gt_http *h, const char *host, const char *what, double *waited)
{
    double now = h->now(h->ctx), w = 0, block = 0;
    pthread_mutex_lock(&limit_mu);
    shared_host *s = shared_find(host, 0, now);
    if (s) {
        if (s->blocked_until > now)
            block = s->blocked_until - now;
        if (block <= h->max_wait && s->per_min > 0) {
            double rate = s->per_min / 60.0;
            s->tokens = GT_MIN(s->burst, s->tokens + (now - s->last) * rate);
            s->last = now;
            s->tokens -= 1; /* reserved now; a negative balance is paid by waiting */
            if (s->tokens < 0)
                w = -s->tokens / rate;
        }
    }
    pthread_mutex_unlock(&limit_mu);
    if (block > h->max_wait)
        return gt_seterr(GT_EHTTP,
                         "http: %s: %s answered 429 (rate limited) and resets in %.0f s, longer "
                         "than the %.0f s this client waits",
                         what, host, block, h->max_wait);
    if (block > w)
        w = block;
    if (w <= 0)
        return GT_OK;
    int rc = h->sleep(h->ctx, w);
    if (rc)
        return rc;
    *waited += w;
    return GT_OK;
}

/* The client's own bucket: its settings cap it whatever the process allows. */
static int client_wait(gt_http *h, const char *host, double *waited)
{
    if (h->per_min <= 0)
        return GT_OK;
    double rate = h->per_min / 60.0, now = h->now(h->ctx);
    bucket *b = NULL;
    for (int i = 0; i < h->nhosts; i++)
        if (strcmp(h->hosts[i].host, host) == 0)
            b = &h->hosts[i];
    if (!b) {
        if (h->nhosts < MAX_HOSTS) {
            b = &h->hosts[h->nhosts++];
        } else { /* reuse the least recently used slot */
            b = &h->hosts[0];
            for (int i = 1; i < MAX_HOSTS; i++)
                if (h->hosts[i].last < b->last)
                    b = &h->hosts[i];
        }
        snprintf(b->host, sizeof b->host, "%s", host);
        b->tokens = h->burst;
        b->last = now;
    }
    b->tokens = GT_MIN(h->burst, b->tokens + (now - b->last) * rate);
    b->last = now;
    if (b->tokens < 1) {
        double w = (1 - b->tokens) / rate;
        int rc = h->sleep(h->ctx, w);
        if (rc)
            return rc;
        *waited += w;
        double t = h->now(h->ctx);
        b->tokens = GT_MIN(h->burst, b->tokens + (t - b->last) * rate);
        b->last = t;
    }
    b->tokens -= 1; /* may go slightly negative after a short sleep: the debt carries */
    return GT_OK;
}

static int rate_wait(gt_http *h, const char *host, const char *what, double *waited)
{
    int rc = client_wait(h, host, waited);
    return rc ? rc : shared_wait(h, host, what, waited);
}

/* X-Ratelimit-Reset (Alpaca: the epoch second at which the window resets) as seconds from
 * now; a small value is taken as a delta. -1 when absent or unreadable. */
static double ratelimit_reset(const gt_http *h)
{
    const char *p = strstr(h->hdrs, "x-ratelimit-reset: ");
    if (!p)
        return -1;
    char *end;
    double v = strtod(p + 19, &end);
    if (end == p + 19 || (*end != '\n' && *end != '\0') || !(v >= 0) || v > 1e11)
        return -1;
    if (v < 1e9)
        return v;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* + 50 ms: the wait runs on the monotonic clock, which may drift from the wall clock
     * the reset is named in; arriving a hair early would earn another 429 */
    double d = v - ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9) + 0.05;
    return d > 0 ? d : 0;
}

static double jitter01(gt_http *h)
{
    /* xorshift64*: jitter only needs to decorrelate clients, not be unpredictable */
    h->rng ^= h->rng >> 12;
    h->rng ^= h->rng << 25;
    h->rng ^= h->rng >> 27;
    return (double)((h->rng * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

static double backoff_s(gt_http *h, int attempt)
{
    double d = (double)h->base_ms;
    for (int i = 1; i < attempt && d < (double)h->cap_ms; i++)
        d *= 2;
    if (d > (double)h->cap_ms)
        d = (double)h->cap_ms;
    return d * (0.5 + 0.5 * jitter01(h)) / 1000.0;
}

/* ---- requests ---- */

static const char *method_name(int32_t m)
{
    switch (m) {
    case GT_HTTP_GET:
        return "GET";
    case GT_HTTP_POST:
        return "POST";
    case GT_HTTP_DELETE:
        return "DELETE";
    case GT_HTTP_PATCH:
        return "PATCH";
    case GT_HTTP_PUT:
        return "PUT";
    }
    return NULL;
}

/* "Name: value\n" lines into a curl list. Messages give the line number, never the text. */
static int build_headers(const char *text, struct curl_slist **out, const char *what)
{
    *out = NULL;
    if (!text)
        return GT_OK;
    char line[8192];
    int lineno = 0;
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        lineno++;
        if (n > 0) {
            const char *colon = memchr(p, ':', n);
            if (n >= sizeof line || !colon || colon == p || memchr(p, '\r', n)) {
                curl_slist_free_all(*out);
                *out = NULL;
                return gt_seterr(GT_EINVAL, "http: %s: request header line %d is malformed", what,
                                 lineno);
            }
            memcpy(line, p, n);
            line[n] = '\0';
            struct curl_slist *l = curl_slist_append(*out, line);
            memset(line, 0, n); /* header values may be API keys */
            if (!l) {
                curl_slist_free_all(*out);
                *out = NULL;
                return gt_seterr(GT_ENOMEM, "http: %s: out of memory", what);
            }
            *out = l;
        }
        p += n;
        if (*p == '\n')
            p++;
    }
    return GT_OK;
}

static void setup(gt_http *h, int32_t method, const char *url, struct curl_slist *hl,
                  const char *body, int64_t body_len, long total_ms)
{
    CURL *c = h->curl;
    curl_easy_reset(c); /* keeps the connection and DNS caches */
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (h->trace_fd >= 0) {
        curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
        curl_easy_setopt(c, CURLOPT_DEBUGDATA, h);
        curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_VERBOSE, 0L);
    }
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total_ms);
    if (h->low_bytes > 0 && h->low_secs > 0) {
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, h->low_bytes);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->low_secs);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_bytes);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "gtengine/0.1");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    if (h->cainfo)
        curl_easy_setopt(c, CURLOPT_CAINFO, h->cainfo);
    if (method == GT_HTTP_GET) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        /* a new connection for anything but GET: on a reused connection that dies before
         * answering, libcurl silently sends the request again, and a POST must go once */
        curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
        if (method != GT_HTTP_POST)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method_name(method));
        if (body || method == GT_HTTP_POST) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
        }
    }
}

static int retryable_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default: /* TLS failures, bad URLs, size cap: trying again cannot help */
        return 0;
    }
}

int gt_http_request(gt_http *h, int32_t method, const char *url, const char *headers,
                    const char *body, int64_t body_len, int32_t flags, gt_http_resp *out)
{
    if (!out)
        return gt_seterr(GT_EINVAL, "http: NULL response");
    memset(out, 0, sizeof *out);
    out->retry_after_s = -1;
    out->body = "";
    out->headers = "";
    const char *mname = method_name(method);
    if (!h || !url || !mname || body_len < 0)
        return gt_seterr(GT_EINVAL, "http: bad request arguments");

    char red[1024], what[1100], scheme[16], host[256];
    gt_http_redact(url, red, sizeof red);
    snprintf(what, sizeof what, "%s %s", mname, red);
    if (!url_parts(url, scheme, sizeof scheme, host, sizeof host))
        return gt_seterr(GT_EINVAL, "http: %s: cannot parse the URL", what);
    if (strcmp(scheme, "https") != 0 && !(strcmp(scheme, "http") == 0 && is_loopback(host)))
        return gt_seterr(GT_EINVAL,
                         "http: %s refused: only https:// is allowed (plain http:// only to "
                         "loopback hosts)",
                         what);

    struct curl_slist *hl = NULL;
    int rc = build_headers(headers, &hl, what);
    if (rc)
        return rc;

    int max_attempts = (method == GT_HTTP_GET && !(flags & GT_HTTP_ONCE)) ? h->retries + 1 : 1;
    double t0 = h->now(h->ctx), waited = 0;
    for (int attempt = 1;; attempt++) {
        long total_ms = h->total_ms;
        if (h->deadline > 0) {
            double left = h->deadline - h->now(h->ctx);
            if (left <= 0) {
                rc = gt_seterr(GT_ETIMEOUT,
                               "http: %s: the %.0f s deadline for this command has passed "
                               "(raise it with --deadline)",
                               what, h->deadline_s);
                break;
            }
            if (left * 1000 < (double)total_ms)
                total_ms = (long)(left * 1000) + 1;
        }
        rc = rate_wait(h, host, what, &waited);
        if (rc)
            break;
        h->len = 0;
        if (h->body)
            h->body[0] = '\0';
        h->too_big = 0;
        h->hlen = 0;
        h->hdrs[0] = '\0';
        h->hbytes = 0;
        h->hdr_too_big = 0;
        h->location[0] = '\0';
        h->errbuf[0] = '\0';
        setup(h, method, url, hl, body, body_len, total_ms);
        CURLcode cc = curl_easy_perform(h->curl);
        long status = 0;
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
        double ra = retry_after(h);
        if (cc == CURLE_OK && status == 429) {
            /* the server's reset governs every client's next request to this host; a reset
             * longer than this client waits (max_wait, deadline) fails this request at once
             * below and is not recorded, so a far-off reset cannot stall other clients */
            double reset = ra >= 0 ? ra : ratelimit_reset(h);
            if (reset > 0 && reset <= h->max_wait &&
                !(h->deadline > 0 && h->now(h->ctx) + reset > h->deadline))
                shared_block(h, host, reset);
            if (ra < 0)
                ra = reset;
        }
        out->attempts = attempt;
        out->status = status;
        out->bytes = (int64_t)h->len;
        out->retry_after_s = ra;
        scrub_buf(h->errbuf, sizeof h->errbuf); /* curl may quote the server */

        int retry = 0;
        double wait = -1;
        if (cc == CURLE_OK && status >= 300 && status < 400) {
            char loc[1024];
            if (strstr(h->location, "://"))
                gt_http_redact(h->location, loc, sizeof loc);
            else if (h->location[0] == '/')
                snprintf(loc, sizeof loc, "%.*s", (int)strcspn(h->location, "?#"), h->location);
            else
                snprintf(loc, sizeof loc, "%s", h->location[0] ? "(unreadable)" : "(none given)");
            scrub_buf(loc, sizeof loc);
            rc = gt_seterr(GT_EHTTP,
                           "http: %s: HTTP %ld redirect to %s; gtengine does not follow "
                           "redirects: use the final address (--base-url)",
                           what, status, loc);
        } else if (cc == CURLE_OK && status < 400) {
            rc = GT_OK;
        } else if (cc == CURLE_OK) {
            rc = gt_seterr(GT_EHTTP, "http: %s: HTTP %ld (%d attempt%s)", what, status, attempt,
                           attempt == 1 ? "" : "s");
            if (status == 429 || status >= 500) {
                retry = 1;
                /* at least the backoff, so "Retry-After: 0" cannot make us hammer */
                wait = backoff_s(h, attempt);
                if (ra > wait)
                    wait = ra;
                if (ra > h->max_wait) {
                    rc = gt_seterr(GT_EHTTP,
                                   "http: %s: HTTP %ld with Retry-After %.0f s, longer than the "
                                   "%.0f s this client waits",
                                   what, status, ra, h->max_wait);
                    retry = 0;
                }
            }
        } else if (h->hdr_too_big || (cc == CURLE_OUT_OF_MEMORY && h->len == 0)) {
            /* curl refuses one header line over its own 100 KB cap with "Out of memory"
             * before our callback sees it; with no body yet, that is what it means */
            rc = gt_seterr(GT_ETOOBIG,
                           "http: %s: the response headers exceed %d KiB: not an API reply "
                           "(a misconfigured server or proxy?)",
                           what, HDR_MAX_TOTAL / 1024);
        } else if (h->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
            rc = gt_seterr(GT_ETOOBIG, "http: %s: response body exceeds the %lld-byte limit", what,
                           (long long)h->max_bytes);
        } else if (cc == CURLE_ABORTED_BY_CALLBACK && gt_interrupted) {
            rc = gt_seterr(GT_EINTR, "http: %s: interrupted", what);
        } else if (cc == CURLE_OPERATION_TIMEDOUT) {
            rc = gt_seterr(GT_ETIMEOUT,
                           "http: %s: timed out: %s (limits: connect %ld ms, total %ld ms, "
                           "under %ld bytes/s for %ld s; %d attempt%s)",
                           what, h->errbuf[0] ? h->errbuf : "no answer", h->connect_ms, total_ms,
                           h->low_bytes, h->low_secs, attempt, attempt == 1 ? "" : "s");
            retry = 1;
        } else {
            rc = gt_seterr(GT_ENET, "http: %s: %s (%d attempt%s)", what,
                           h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc), attempt,
                           attempt == 1 ? "" : "s");
            retry = retryable_curl(cc);
        }
        if (rc == GT_OK || !retry || attempt >= max_attempts)
            break;
        if (wait < 0)
            wait = backoff_s(h, attempt);
        char keep[1024];
        snprintf(keep, sizeof keep, "%s", gt_errmsg());
        if (h->deadline > 0 && h->now(h->ctx) + wait > h->deadline) {
            rc = gt_seterr(GT_ETIMEOUT,
                           "%s; waiting %.1f s to retry would pass the %.0f s deadline for this "
                           "command (raise it with --deadline)",
                           keep, wait, h->deadline_s);
            break;
        }
        if (h->notify_fd >= 0) /* the caller asked for it: a terminal, not library chatter */
            dprintf(h->notify_fd, "%s; retry %d of %d in %.1f s (Ctrl-C stops)\n", keep, attempt,
                    max_attempts - 1, wait);
        int src = h->sleep(h->ctx, wait);
        if (src) {
            rc = src;
            break;
        }
        waited += wait;
        gt_seterr(rc, "%s", keep);
    }
    for (struct curl_slist *l = hl; l; l = l->next) /* header values may be API keys */
        memset(l->data, 0, strlen(l->data));
    curl_slist_free_all(hl);
    out->waited_s = waited;
    out->elapsed_s = h->now(h->ctx) - t0;
    out->body = h->body ? h->body : "";
    out->headers = h->hdrs;
    return rc;
}

int gt_http_keyfile_read(const char *path, char *buf, int64_t cap, int64_t *len)
{
    if (!path || !buf || cap < 2 || !len)
        return gt_seterr(GT_EINVAL, "keys: bad arguments");
    *len = 0;
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return gt_seterr(e == ENOENT ? GT_ENOTFOUND : GT_EIO, "key file %s: %s", path, strerror(e));
    }
    struct stat st;
    int rc = GT_OK;
    if (fstat(fd, &st) != 0) {
        rc = gt_seterr(GT_EIO, "key file %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = gt_seterr(GT_EDENIED, "key file %s: not a regular file", path);
    } else if (st.st_uid != geteuid()) {
        rc = gt_seterr(GT_EDENIED, "key file %s: owned by uid %ld, not by this user", path,
                       (long)st.st_uid);
    } else if (st.st_mode & 077) {
        rc = gt_seterr(GT_EDENIED,
                       "key file %s has mode %04o: group or others can access it; run: chmod 600 "
                       "%s",
                       path, (unsigned)(st.st_mode & 07777), path);
    } else if (st.st_size >= cap) {
        rc = gt_seterr(GT_ETOOBIG, "key file %s: larger than %lld bytes", path, (long long)cap);
    } else {
        int64_t n = 0;
        for (int i = 0; i < 1000 && n < cap - 1; i++) {
            ssize_t r = read(fd, buf + n, (size_t)(cap - 1 - n));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                rc = gt_seterr(GT_EIO, "key file %s: %s", path, strerror(errno));
                break;
            }
            if (r == 0)
                break;
            n += r;
        }
        buf[n] = '\0';
        *len = rc ? 0 : n;
    }
    close(fd);
    return rc;
}
