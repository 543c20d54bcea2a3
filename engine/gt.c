/*
 * gt.c: status codes, the per-thread last-error message, version and the struct layout
 * table that gt.ffi checks against LuaJIT's view of gt_ffi.h.
 */
#include "gt.h"

#include <stdarg.h>
#include <stdio.h>

#include "gt_version.h"

static _Thread_local char errbuf[1024];

volatile int gt_interrupted;

int gt_seterr(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return code;
}

const char *gt_errmsg(void)
{
    return errbuf;
}

void gt_clearerr(void)
{
    errbuf[0] = '\0';
}

const char *gt_status_name(int code)
{
    switch (code) {
#define GT_STATUS_NAME(name, c, msg) \
    case c:                          \
        return #name;
        GT_STATUS_LIST(GT_STATUS_NAME)
#undef GT_STATUS_NAME
    }
    return "GT_EUNKNOWN";
}

const char *gt_strerror(int code)
{
    switch (code) {
#define GT_STATUS_MSG(name, c, msg) \
    case c:                         \
        return msg;
        GT_STATUS_LIST(GT_STATUS_MSG)
#undef GT_STATUS_MSG
    }
    return "unknown status";
}

int gt_abi_version(void)
{
    return GT_ABI_VERSION;
}

const char *gt_version(void)
{
    return GT_VERSION_STRING;
}

int gt_is_interrupted(void)
{
    return gt_interrupted != 0;
}

void gt_clear_interrupt(void)
{
    gt_interrupted = 0;
}

/* Every struct in gt_ffi.h with every field. Add a struct here when you add it there;
 * the layout spec fails on a struct Lua knows that this table lacks. */
#define GT_LAYOUT_STRUCTS(S, F) \
    S(gt_layout)                \
    F(gt_layout, type)          \
    F(gt_layout, field)         \
    F(gt_layout, offset)        \
    F(gt_layout, size)          \
    S(gt_series)                \
    F(gt_series, ts)            \
    F(gt_series, open)          \
    F(gt_series, high)          \
    F(gt_series, low)           \
    F(gt_series, close)         \
    F(gt_series, volume)        \
    F(gt_series, n)             \
    F(gt_series, cap)           \
    /* csv */                   \
    S(gt_csv_opts)              \
    F(gt_csv_opts, on_error)    \
    F(gt_csv_opts, adjust)      \
    F(gt_csv_opts, date_format) \
    F(gt_csv_opts, delimiter)   \
    F(gt_csv_opts, header)      \
    F(gt_csv_opts, col)         \
    F(gt_csv_opts, name)        \
    /* store */                 \
    S(gt_store_entry)           \
    F(gt_store_entry, symbol)   \
    F(gt_store_entry, timeframe) \
    F(gt_store_entry, count)    \
    F(gt_store_entry, first)    \
    F(gt_store_entry, last)     \
    /* http, providers */       \
    S(gt_http_resp)                        \
    F(gt_http_resp, status)                \
    F(gt_http_resp, attempts)              \
    F(gt_http_resp, bytes)                 \
    F(gt_http_resp, waited_s)              \
    F(gt_http_resp, elapsed_s)             \
    F(gt_http_resp, retry_after_s)         \
    F(gt_http_resp, body)                  \
    F(gt_http_resp, headers)               \
    S(gt_provider_page)                    \
    F(gt_provider_page, bars)              \
    F(gt_provider_page, skipped_null)      \
    F(gt_provider_page, dropped_out_of_range)\
    F(gt_provider_page, has_next)          \
    F(gt_provider_page, next_token)        \
    /* metrics */                \
    S(gt_trade)                  \
    F(gt_trade, symbol)          \
    F(gt_trade, entry_bar)       \
    F(gt_trade, exit_bar)        \
    F(gt_trade, entry_ts)        \
    F(gt_trade, exit_ts)         \
    F(gt_trade, entry_price)     \
    F(gt_trade, exit_price)      \
    F(gt_trade, size)            \
    F(gt_trade, pnl)             \
    F(gt_trade, return_pct)      \
    F(gt_trade, fees)            \
    S(gt_stats_input)            \
    F(gt_stats_input, equity)    \
    F(gt_stats_input, ts)        \
    F(gt_stats_input, benchmark) \
    F(gt_stats_input, in_market) \
    F(gt_stats_input, trades)    \
    F(gt_stats_input, n)         \
    F(gt_stats_input, m)         \
    F(gt_stats_input, periods_per_year) \
    F(gt_stats_input, risk_free) \
    S(gt_stats)                  \
    F(gt_stats, start_equity) \
    F(gt_stats, final_equity) \
    F(gt_stats, return_pct) \
    F(gt_stats, cagr_pct) \
    F(gt_stats, ann_return_pct) \
    F(gt_stats, ann_vol_pct) \
    F(gt_stats, sharpe) \
    F(gt_stats, sortino) \
    F(gt_stats, calmar) \
    F(gt_stats, max_drawdown_pct) \
    F(gt_stats, max_drawdown_bars) \
    F(gt_stats, avg_drawdown_pct) \
    F(gt_stats, num_trades) \
    F(gt_stats, win_rate_pct) \
    F(gt_stats, profit_factor) \
    F(gt_stats, expectancy) \
    F(gt_stats, avg_trade_pct) \
    F(gt_stats, best_trade_pct) \
    F(gt_stats, worst_trade_pct) \
    F(gt_stats, avg_trade_bars) \
    F(gt_stats, max_trade_bars) \
    F(gt_stats, exposure_pct) \
    F(gt_stats, sqn) \
    F(gt_stats, buy_hold_return_pct) \
    F(gt_stats, beta) \
    F(gt_stats, alpha_pct) \
    F(gt_stats, years) \
    F(gt_stats, total_fees) \
    /* indicators */

#define LAYOUT_S(t) {#t, NULL, -1, (int64_t)sizeof(t)},
#define LAYOUT_F(t, f) {#t, #f, (int64_t)offsetof(t, f), (int64_t)sizeof(((t *)0)->f)},
static const gt_layout layout_table[] = {GT_LAYOUT_STRUCTS(LAYOUT_S, LAYOUT_F)};
#undef LAYOUT_S
#undef LAYOUT_F

int64_t gt_layout_table(const gt_layout **out)
{
    *out = layout_table;
    return (int64_t)(sizeof layout_table / sizeof layout_table[0]);
}
