/*
 * http.h: an HTTP client over the libcurl easy interface. One gt_http owns one curl
 * handle, reused across requests (connection and DNS caches survive), plus its
 * settings, its own per-host rate limiter (a cap on that client) and the buffers of the
 * last response; the process-wide per-host limiter and 429 blocks are shared by every
 * client (gt_http_limit_host). The body
 * and header text a request returns are owned by the client and stay valid until its
 * next request or gt_http_free. Not thread-safe: one client per thread.
 * Policy: TLS verification is always on; plain http:// only to loopback hosts; GET is
 * retried (backoff with jitter, Retry-After honoured), nothing else ever is.
 * The Lua-visible declarations are in gt_ffi.h; this header adds the C-only clock hook.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_HTTP_H
#define GT_HTTP_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- http (http.c) and providers (provider.c) ---- */
/* An HTTP client (one reused curl handle). Defaults: connect 10 s, total 30 s, 3 retries
 * from 500 ms doubling to 30 s with jitter, 180 requests/min per host (burst 5), 64 MB
 * body cap, Retry-After honoured up to 30 s, give up below 100 bytes/s for 10 s, no
 * deadline. A 3xx is an error (redirects are never followed). */
typedef struct gt_http gt_http;
enum gt_http_method { GT_HTTP_GET = 0, GT_HTTP_POST = 1, GT_HTTP_DELETE = 2, GT_HTTP_PATCH = 3,
                      GT_HTTP_PUT = 4 };
/* GT_HTTP_ONCE: send once, never retry (POST and the other non-GET methods always are). */
enum gt_http_flag { GT_HTTP_ONCE = 1 };
/* Filled by gt_http_request, also on failure (status 0 when no response arrived). */
typedef struct gt_http_resp {
    int64_t status;       /* HTTP status of the last attempt, 0 when none */
    int64_t attempts;     /* requests sent, retries included */
    int64_t bytes;        /* body bytes of the last attempt */
    double waited_s;      /* time slept: rate limit, backoff and Retry-After */
    double elapsed_s;     /* wall time of the whole call */
    double retry_after_s; /* last Retry-After received, in seconds; -1 when none */
    const char *body;     /* NUL-terminated; owned by the client until its next request */
    const char *headers;  /* retry-after, x-ratelimit-*, content-type as "name: value\n" */
} gt_http_resp;

gt_http *gt_http_new(void);
void gt_http_free(gt_http *h);
/* Milliseconds; 0 keeps the current value. */
int gt_http_set_timeouts(gt_http *h, int64_t connect_ms, int64_t total_ms);
/* Retries after the first attempt (GET only), first backoff and its cap in ms. */
int gt_http_set_retries(gt_http *h, int32_t retries, int64_t base_ms, int64_t cap_ms);
/* Token bucket per host: per_minute requests, burst tokens; per_minute <= 0 disables. */
int gt_http_set_rate(gt_http *h, double per_minute, double burst);
int gt_http_set_max_bytes(gt_http *h, int64_t max_bytes);
/* Longest Retry-After honoured; a longer one fails the call at once (GT_EHTTP). */
int gt_http_set_max_wait(gt_http *h, double seconds);
/* Give up on a transfer slower than bytes_per_s for seconds (a trickling server);
 * 0 disables. */
int gt_http_set_low_speed(gt_http *h, int64_t bytes_per_s, int64_t seconds);
/* Every request and retry wait from now on must end within seconds (0: no deadline):
 * one command's total budget, across pages and retries. */
int gt_http_set_deadline(gt_http *h, double seconds);
/* Before sleeping for a retry, write one line saying so to fd (a terminal); -1: never. */
int gt_http_set_notify(gt_http *h, int32_t fd);
/* Writes curl's verbose trace (connection text and request/response headers, never
 * bodies) to fd, one line each, credential header values (APCA-API-*, Authorization,
 * Cookie...) replaced by [REDACTED] and every registered secret scrubbed; -1: no trace. */
int gt_http_set_trace(gt_http *h, int32_t fd);
/* The process-wide limit for one host (as in URLs: "paper-api.alpaca.markets"), shared by
 * every client in the process on top of each client's own: per_minute requests with burst
 * tokens; per_minute <= 0 removes it. A 429 from a host (Retry-After, else
 * X-Ratelimit-Reset) blocks every client's next request to it until the reset, whether or
 * not a limit is set; a block longer than a client's max_wait fails its request at once. */
int gt_http_limit_host(const char *host, double per_minute, double burst);
/* Blocks every client's requests to host for seconds from now (a 429 that named no reset). */
int gt_http_block_host(const char *host, double seconds);
/* Seconds until a 429 block on host ends (0: none). */
double gt_http_host_wait(const char *host);
/* Forgets every process-wide limit and block (tests). */
void gt_http_limits_reset(void);
/* Secrets (API keys) to remove from any text shown to a user: process-wide, so every
 * module's messages can be scrubbed. gt_scrub copies in[0..len) to out (NUL-terminated,
 * at most cap - 1 bytes), each secret replaced by [REDACTED]; GT_SCRUB_CONTROL also drops
 * terminal escape sequences and turns other control characters (newlines too) into
 * spaces, for server text. Returns the full output length (call with cap 0 to size). */
enum gt_scrub_flag { GT_SCRUB_CONTROL = 1 };
/* Values shorter than this are not keys and are not registered (they would blank out
 * ordinary words in every message). */
enum { GT_SECRET_MIN_LEN = 6 };
int gt_secret_add(const char *value);
int64_t gt_scrub(const char *in, int64_t len, int32_t flags, char *out, int64_t cap);
/* A CA bundle file for TLS verification (NULL: the system default). */
int gt_http_set_cainfo(gt_http *h, const char *path);
/* headers: "Name: value\n" lines or NULL; body may be NULL for GET/DELETE. Returns GT_OK
 * for a 2xx/3xx final status, GT_EHTTP for 4xx/5xx (out still holds status and body),
 * GT_ENET, GT_ETIMEOUT, GT_ETOOBIG, GT_EINVAL (bad or refused URL), GT_EINTR. */
int gt_http_request(gt_http *h, int32_t method, const char *url, const char *headers,
                    const char *body, int64_t body_len, int32_t flags, gt_http_resp *out);
/* Reads a secret file (API keys) into buf (NUL-terminated, at most cap - 1 bytes) only
 * if it is a regular file owned by this user and not readable by group or others;
 * otherwise GT_EDENIED with a message naming `chmod 600 FILE`. */
int gt_http_keyfile_read(const char *path, char *buf, int64_t cap, int64_t *len);
/* ---- end ffi ---- */


/* Injectable time, so tests can measure or fake waits: now() is monotonic seconds,
 * sleep() waits s seconds and returns GT_OK or GT_EINTR. NULL restores the real ones. */
typedef double (*gt_http_now_fn)(void *ctx);
typedef int (*gt_http_sleep_fn)(void *ctx, double s);
void gt_http_set_clock(gt_http *h, gt_http_now_fn now, gt_http_sleep_fn sleep_fn, void *ctx);

/* Writes "scheme://host[:port]/path" of url (no user info, no query, no fragment) into
 * buf, for error messages: query strings may carry secrets. */
void gt_http_redact(const char *url, char *buf, size_t size);

#endif
