/*
 * http.h: an HTTP client over the libcurl easy interface. One gt_http owns one curl
 * handle, reused across requests (connection and DNS caches survive), plus its
 * settings, a per-host rate limiter and the buffers of the last response. The body
 * and header text a request returns are owned by the client and stay valid until its
 * next request or gt_http_free. Not thread-safe: one client per thread.
 * Policy: TLS verification is always on; plain http:// only to loopback hosts; GET is
 * retried (backoff with jitter, Retry-After honoured), nothing else ever is.
 * The Lua-visible declarations are in gt_ffi.h; this header adds the C-only clock hook.
 */
#ifndef GT_HTTP_H
#define GT_HTTP_H

#include "gt.h"

/* Injectable time, so tests can measure or fake waits: now() is monotonic seconds,
 * sleep() waits s seconds and returns GT_OK or GT_EINTR. NULL restores the real ones. */
typedef double (*gt_http_now_fn)(void *ctx);
typedef int (*gt_http_sleep_fn)(void *ctx, double s);
void gt_http_set_clock(gt_http *h, gt_http_now_fn now, gt_http_sleep_fn sleep_fn, void *ctx);

/* Writes "scheme://host[:port]/path" of url (no user info, no query, no fragment) into
 * buf, for error messages: query strings may carry secrets. */
void gt_http_redact(const char *url, char *buf, size_t size);

#endif
