/*
 * gt.c: status codes, the per-thread last-error message, version and the struct layout
 * table that gt.ffi checks against LuaJIT's view of gt_ffi.h.
 */
#include "gt.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

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

double gt_clock_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
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
    F(gt_csv_opts, max_bytes)   \
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
    /* backtest */ \
    S(gt_run_record) \
    F(gt_run_record, strategy) \
    F(gt_run_record, symbol) \
    F(gt_run_record, timeframe) \
    F(gt_run_record, params_json) \
    F(gt_run_record, options_json) \
    F(gt_run_record, stats_json) \
    F(gt_run_record, data_hash) \
    F(gt_run_record, first_ts) \
    F(gt_run_record, last_ts) \
    F(gt_run_record, bars) \
    S(gt_view) \
    F(gt_view, p) \
    F(gt_view, n) \
    F(gt_view, limit) \
    S(gt_bt_config) \
    F(gt_bt_config, capital) \
    F(gt_bt_config, commission) \
    F(gt_bt_config, commission_min) \
    F(gt_bt_config, slippage_bps) \
    F(gt_bt_config, spread_bps) \
    F(gt_bt_config, volume_cap) \
    F(gt_bt_config, leverage) \
    F(gt_bt_config, fill_mode) \
    F(gt_bt_config, comm_kind) \
    F(gt_bt_config, fractional) \
    F(gt_bt_config, allow_short) \
    S(gt_order) \
    F(gt_order, id) \
    F(gt_order, symbol) \
    F(gt_order, created_bar) \
    F(gt_order, filled_bar) \
    F(gt_order, parent) \
    F(gt_order, oco) \
    F(gt_order, qty) \
    F(gt_order, filled) \
    F(gt_order, avg_price) \
    F(gt_order, limit) \
    F(gt_order, stop) \
    F(gt_order, trail) \
    F(gt_order, trail_pct) \
    F(gt_order, extreme) \
    F(gt_order, fees) \
    F(gt_order, side) \
    F(gt_order, type) \
    F(gt_order, tif) \
    F(gt_order, status) \
    F(gt_order, reject) \
    F(gt_order, origin) \
    F(gt_order, triggered) \
    F(gt_order, active_bar) \
    S(gt_fill) \
    F(gt_fill, order_id) \
    F(gt_fill, symbol) \
    F(gt_fill, bar) \
    F(gt_fill, ts) \
    F(gt_fill, qty) \
    F(gt_fill, price) \
    F(gt_fill, fee) \
    S(gt_position) \
    F(gt_position, qty) \
    F(gt_position, avg_price) \
    F(gt_position, realized) \
    F(gt_position, fees) \
    /* indicators */                                             \
    S(gt_ind_ring)                                               \
    F(gt_ind_ring, buf)                                          \
    F(gt_ind_ring, cap)                                          \
    F(gt_ind_ring, head)                                         \
    F(gt_ind_ring, count)                                        \
    S(gt_ind_minmax)                                             \
    F(gt_ind_minmax, val)                                        \
    F(gt_ind_minmax, pos)                                        \
    F(gt_ind_minmax, cap)                                        \
    F(gt_ind_minmax, first)                                      \
    F(gt_ind_minmax, len)                                        \
    F(gt_ind_minmax, seen)                                       \
    F(gt_ind_minmax, is_max)                                     \
    S(gt_ind_sma_state)                                          \
    F(gt_ind_sma_state, win)                                     \
    F(gt_ind_sma_state, sum)                                     \
    F(gt_ind_sma_state, period)                                  \
    S(gt_ind_ema_state)                                          \
    F(gt_ind_ema_state, alpha)                                   \
    F(gt_ind_ema_state, value)                                   \
    F(gt_ind_ema_state, seed_sum)                                \
    F(gt_ind_ema_state, period)                                  \
    F(gt_ind_ema_state, count)                                   \
    F(gt_ind_ema_state, seed)                                    \
    S(gt_ind_smma_state)                                         \
    F(gt_ind_smma_state, value)                                  \
    F(gt_ind_smma_state, seed_sum)                               \
    F(gt_ind_smma_state, period)                                 \
    F(gt_ind_smma_state, count)                                  \
    S(gt_ind_wma_state)                                          \
    F(gt_ind_wma_state, win)                                     \
    F(gt_ind_wma_state, sum)                                     \
    F(gt_ind_wma_state, wsum)                                    \
    F(gt_ind_wma_state, period)                                  \
    S(gt_ind_dema_state)                                         \
    F(gt_ind_dema_state, e1)                                     \
    F(gt_ind_dema_state, e2)                                     \
    S(gt_ind_tema_state)                                         \
    F(gt_ind_tema_state, e1)                                     \
    F(gt_ind_tema_state, e2)                                     \
    F(gt_ind_tema_state, e3)                                     \
    S(gt_ind_hma_state)                                          \
    F(gt_ind_hma_state, half)                                    \
    F(gt_ind_hma_state, full)                                    \
    F(gt_ind_hma_state, smooth)                                  \
    S(gt_ind_kama_state)                                         \
    F(gt_ind_kama_state, win)                                    \
    F(gt_ind_kama_state, vol)                                    \
    F(gt_ind_kama_state, value)                                  \
    F(gt_ind_kama_state, fast_sc)                                \
    F(gt_ind_kama_state, slow_sc)                                \
    F(gt_ind_kama_state, period)                                 \
    S(gt_ind_zlema_state)                                        \
    F(gt_ind_zlema_state, win)                                   \
    F(gt_ind_zlema_state, ema)                                   \
    F(gt_ind_zlema_state, lag)                                   \
    S(gt_ind_trix_state)                                         \
    F(gt_ind_trix_state, e1)                                     \
    F(gt_ind_trix_state, e2)                                     \
    F(gt_ind_trix_state, e3)                                     \
    F(gt_ind_trix_state, prev)                                   \
    S(gt_ind_rsi_state)                                          \
    F(gt_ind_rsi_state, prev)                                    \
    F(gt_ind_rsi_state, gain)                                    \
    F(gt_ind_rsi_state, loss)                                    \
    F(gt_ind_rsi_state, period)                                  \
    F(gt_ind_rsi_state, count)                                   \
    S(gt_ind_stoch_state)                                        \
    F(gt_ind_stoch_state, hh)                                    \
    F(gt_ind_stoch_state, ll)                                    \
    F(gt_ind_stoch_state, ksma)                                  \
    F(gt_ind_stoch_state, dsma)                                  \
    F(gt_ind_stoch_state, k)                                     \
    F(gt_ind_stoch_state, d)                                     \
    S(gt_ind_willr_state)                                        \
    F(gt_ind_willr_state, hh)                                    \
    F(gt_ind_willr_state, ll)                                    \
    S(gt_ind_cci_state)                                          \
    F(gt_ind_cci_state, win)                                     \
    F(gt_ind_cci_state, period)                                  \
    S(gt_ind_macd_state)                                         \
    F(gt_ind_macd_state, fast)                                   \
    F(gt_ind_macd_state, slow)                                   \
    F(gt_ind_macd_state, smooth)                                 \
    F(gt_ind_macd_state, skip)                                   \
    F(gt_ind_macd_state, count)                                  \
    F(gt_ind_macd_state, macd)                                   \
    F(gt_ind_macd_state, signal)                                 \
    F(gt_ind_macd_state, hist)                                   \
    S(gt_ind_ppo_state)                                          \
    F(gt_ind_ppo_state, fast)                                    \
    F(gt_ind_ppo_state, slow)                                    \
    F(gt_ind_ppo_state, smooth)                                  \
    F(gt_ind_ppo_state, ppo)                                     \
    F(gt_ind_ppo_state, signal)                                  \
    F(gt_ind_ppo_state, hist)                                    \
    S(gt_ind_change_state)                                       \
    F(gt_ind_change_state, win)                                  \
    F(gt_ind_change_state, kind)                                 \
    S(gt_ind_tsi_state)                                          \
    F(gt_ind_tsi_state, m1)                                      \
    F(gt_ind_tsi_state, m2)                                      \
    F(gt_ind_tsi_state, a1)                                      \
    F(gt_ind_tsi_state, a2)                                      \
    F(gt_ind_tsi_state, prev)                                    \
    F(gt_ind_tsi_state, count)                                   \
    S(gt_ind_ultosc_state)                                       \
    F(gt_ind_ultosc_state, bp)                                   \
    F(gt_ind_ultosc_state, tr)                                   \
    F(gt_ind_ultosc_state, bp_sum)                               \
    F(gt_ind_ultosc_state, tr_sum)                               \
    F(gt_ind_ultosc_state, period)                               \
    F(gt_ind_ultosc_state, prev_close)                           \
    F(gt_ind_ultosc_state, count)                                \
    S(gt_ind_ao_state)                                           \
    F(gt_ind_ao_state, fast)                                     \
    F(gt_ind_ao_state, slow)                                     \
    S(gt_ind_dpo_state)                                          \
    F(gt_ind_dpo_state, sma)                                     \
    F(gt_ind_dpo_state, win)                                     \
    F(gt_ind_dpo_state, shift)                                   \
    S(gt_ind_aroon_state)                                        \
    F(gt_ind_aroon_state, hh)                                    \
    F(gt_ind_aroon_state, ll)                                    \
    F(gt_ind_aroon_state, period)                                \
    F(gt_ind_aroon_state, up)                                    \
    F(gt_ind_aroon_state, down)                                  \
    F(gt_ind_aroon_state, osc)                                   \
    S(gt_ind_vortex_state)                                       \
    F(gt_ind_vortex_state, vmp)                                  \
    F(gt_ind_vortex_state, vmm)                                  \
    F(gt_ind_vortex_state, tr)                                   \
    F(gt_ind_vortex_state, sum_vmp)                              \
    F(gt_ind_vortex_state, sum_vmm)                              \
    F(gt_ind_vortex_state, sum_tr)                               \
    F(gt_ind_vortex_state, prev_high)                            \
    F(gt_ind_vortex_state, prev_low)                             \
    F(gt_ind_vortex_state, prev_close)                           \
    F(gt_ind_vortex_state, count)                                \
    F(gt_ind_vortex_state, plus)                                 \
    F(gt_ind_vortex_state, minus)                                \
    S(gt_ind_kst_state)                                          \
    F(gt_ind_kst_state, roc)                                     \
    F(gt_ind_kst_state, sm)                                      \
    F(gt_ind_kst_state, sig)                                     \
    F(gt_ind_kst_state, kst)                                     \
    F(gt_ind_kst_state, signal)                                  \
    S(gt_ind_mfi_state)                                          \
    F(gt_ind_mfi_state, pos)                                     \
    F(gt_ind_mfi_state, neg)                                     \
    F(gt_ind_mfi_state, pos_sum)                                 \
    F(gt_ind_mfi_state, neg_sum)                                 \
    F(gt_ind_mfi_state, prev_tp)                                 \
    F(gt_ind_mfi_state, count)                                   \
    S(gt_ind_trange_state)                                       \
    F(gt_ind_trange_state, prev_close)                           \
    F(gt_ind_trange_state, count)                                \
    S(gt_ind_atr_state)                                          \
    F(gt_ind_atr_state, tr)                                      \
    F(gt_ind_atr_state, avg)                                     \
    S(gt_ind_stddev_state)                                       \
    F(gt_ind_stddev_state, win)                                  \
    F(gt_ind_stddev_state, sum)                                  \
    F(gt_ind_stddev_state, sumsq)                                \
    F(gt_ind_stddev_state, shift)                                \
    F(gt_ind_stddev_state, mean)                                 \
    F(gt_ind_stddev_state, period)                               \
    S(gt_ind_zscore_state)                                       \
    F(gt_ind_zscore_state, sd)                                   \
    S(gt_ind_bbands_state)                                       \
    F(gt_ind_bbands_state, sd)                                   \
    F(gt_ind_bbands_state, k)                                    \
    F(gt_ind_bbands_state, mid)                                  \
    F(gt_ind_bbands_state, upper)                                \
    F(gt_ind_bbands_state, lower)                                \
    F(gt_ind_bbands_state, pctb)                                 \
    F(gt_ind_bbands_state, width)                                \
    S(gt_ind_keltner_state)                                      \
    F(gt_ind_keltner_state, ema)                                 \
    F(gt_ind_keltner_state, atr)                                 \
    F(gt_ind_keltner_state, mult)                                \
    F(gt_ind_keltner_state, mid)                                 \
    F(gt_ind_keltner_state, upper)                               \
    F(gt_ind_keltner_state, lower)                               \
    S(gt_ind_donchian_state)                                     \
    F(gt_ind_donchian_state, hh)                                 \
    F(gt_ind_donchian_state, ll)                                 \
    F(gt_ind_donchian_state, upper)                              \
    F(gt_ind_donchian_state, lower)                              \
    F(gt_ind_donchian_state, mid)                                \
    S(gt_ind_adx_state)                                          \
    F(gt_ind_adx_state, prev_high)                               \
    F(gt_ind_adx_state, prev_low)                                \
    F(gt_ind_adx_state, prev_close)                              \
    F(gt_ind_adx_state, pdm)                                     \
    F(gt_ind_adx_state, mdm)                                     \
    F(gt_ind_adx_state, tr)                                      \
    F(gt_ind_adx_state, sum_dx)                                  \
    F(gt_ind_adx_state, adx)                                     \
    F(gt_ind_adx_state, pdi)                                     \
    F(gt_ind_adx_state, mdi)                                     \
    F(gt_ind_adx_state, period)                                  \
    F(gt_ind_adx_state, count)                                   \
    S(gt_ind_sar_state)                                          \
    F(gt_ind_sar_state, accel)                                   \
    F(gt_ind_sar_state, max_accel)                               \
    F(gt_ind_sar_state, af)                                      \
    F(gt_ind_sar_state, ep)                                      \
    F(gt_ind_sar_state, sar)                                     \
    F(gt_ind_sar_state, prev_high)                               \
    F(gt_ind_sar_state, prev_low)                                \
    F(gt_ind_sar_state, count)                                   \
    F(gt_ind_sar_state, is_long)                                 \
    S(gt_ind_obv_state)                                          \
    F(gt_ind_obv_state, prev)                                    \
    F(gt_ind_obv_state, value)                                   \
    F(gt_ind_obv_state, count)                                   \
    S(gt_ind_vwap_state)                                         \
    F(gt_ind_vwap_state, offset_us)                              \
    F(gt_ind_vwap_state, day)                                    \
    F(gt_ind_vwap_state, pv)                                     \
    F(gt_ind_vwap_state, vol)                                    \
    F(gt_ind_vwap_state, count)                                  \
    S(gt_ind_rvwap_state)                                        \
    F(gt_ind_rvwap_state, pv)                                    \
    F(gt_ind_rvwap_state, vol)                                   \
    F(gt_ind_rvwap_state, pv_sum)                                \
    F(gt_ind_rvwap_state, vol_sum)                               \
    S(gt_ind_ad_state)                                           \
    F(gt_ind_ad_state, value)                                    \
    S(gt_ind_cross_state)                                        \
    F(gt_ind_cross_state, prev_a)                                \
    F(gt_ind_cross_state, prev_b)                                \
    F(gt_ind_cross_state, count)                                 \
    F(gt_ind_cross_state, dir)                                   \
    S(gt_ind_linreg_state)                                       \
    F(gt_ind_linreg_state, win)                                  \
    F(gt_ind_linreg_state, sy)                                   \
    F(gt_ind_linreg_state, sxy)                                  \
    S(gt_ind_envelope_state)                                     \
    F(gt_ind_envelope_state, sma)                                \
    F(gt_ind_envelope_state, pct)                                \
    F(gt_ind_envelope_state, mid)                                \
    F(gt_ind_envelope_state, upper)                              \
    F(gt_ind_envelope_state, lower)                              \
    S(gt_ind_heikin_state)                                       \
    F(gt_ind_heikin_state, count)                                \
    F(gt_ind_heikin_state, open)                                 \
    F(gt_ind_heikin_state, high)                                 \
    F(gt_ind_heikin_state, low)                                  \
    F(gt_ind_heikin_state, close)                                \
    S(gt_ind_ichimoku_state)                                     \
    F(gt_ind_ichimoku_state, h1)                                 \
    F(gt_ind_ichimoku_state, l1)                                 \
    F(gt_ind_ichimoku_state, h2)                                 \
    F(gt_ind_ichimoku_state, l2)                                 \
    F(gt_ind_ichimoku_state, h3)                                 \
    F(gt_ind_ichimoku_state, l3)                                 \
    F(gt_ind_ichimoku_state, tenkan)                             \
    F(gt_ind_ichimoku_state, kijun)                              \
    F(gt_ind_ichimoku_state, span_a)                             \
    F(gt_ind_ichimoku_state, span_b)

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
