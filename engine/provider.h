/*
 * provider.h: market-data response parsers (Alpaca bars v2, Yahoo chart v8, Coinbase
 * Advanced Trade candles). Each turns one response body into bars appended to a caller's
 * gt_series, checked with gt_bar_check; on error the series is left as it was. No I/O:
 * Lua builds URLs, drives paging over http.c and owns the series. Declarations are in
 * gt_ffi.h; cJSON is used only inside provider.c.
 */
#ifndef GT_PROVIDER_H
#define GT_PROVIDER_H

#include "gt.h"

#endif
