/*
 * provider.h: market-data response parsers (Alpaca bars v2, Yahoo chart v8, Coinbase
 * Advanced Trade candles). Each turns one response body into bars appended to a caller's
 * gt_series, checked with gt_bar_check; on error the series is left as it was. No I/O:
 * Lua builds URLs, drives paging over http.c and owns the series. Declarations are in
 * gt_ffi.h; cJSON is used only inside provider.c.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_PROVIDER_H
#define GT_PROVIDER_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- providers (provider.c) ---- */
/* Market-data providers: each parser appends one response page to s. Bars must be in
 * [start_us, stop_us) (others are dropped and counted), every bar passes gt_bar_check
 * against the previous one (so a duplicate across pages fails), and on any error s is
 * left exactly as it was (GT_EDATA / GT_EPARSE with provider, bar time and reason). */
typedef struct gt_provider_page {
    int64_t bars;                 /* bars appended */
    int64_t skipped_null;         /* Yahoo: bars with a null field, not appended */
    int64_t dropped_out_of_range; /* outside [start_us, stop_us), not appended */
    int64_t has_next;             /* Alpaca: 1 when next_page_token is a string */
    char next_token[512];         /* Alpaca: next_page_token, "" when null */
} gt_provider_page;

int gt_provider_parse_alpaca(gt_series *s, const char *json, int64_t len, int64_t start_us,
                             int64_t stop_us, gt_provider_page *out);
/* adjust != 0 scales open, high, low and close by adjclose / close (Yahoo's adjustment). */
int gt_provider_parse_yahoo(gt_series *s, const char *json, int64_t len, int64_t start_us,
                            int64_t stop_us, int32_t adjust, gt_provider_page *out);
int gt_provider_parse_coinbase(gt_series *s, const char *json, int64_t len, int64_t start_us,
                               int64_t stop_us, gt_provider_page *out);
/* ---- end ffi ---- */


#endif
