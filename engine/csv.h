/*
 * csv.h: OHLCV text ingestion (CSV and its semicolon/tab cousins). The reader maps the
 * file (or takes bytes in memory), finds the columns from the header (case-insensitive
 * names: Yahoo, backtrader, backtesting.py, Date+Time splits) or from an explicit map,
 * parses numbers with num.c and timestamps with datetime.c, and validates every row with
 * gt_bar_check. It owns nothing after it returns: the series and the report it hands out
 * belong to the caller (gt_series_free, gt_csv_report_free). Declarations Lua calls are
 * in gt_ffi.h; this header adds the C-only limits.
 */
#ifndef GT_CSV_H
#define GT_CSV_H

#include "gt.h"

/* Fields per line the reader stores; a header with more columns is refused. */
#define GT_CSV_MAX_FIELDS 1024

#endif
