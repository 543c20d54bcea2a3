/*
 * synth.h: deterministic synthetic market data. A seven-state Markov regime chain drives
 * a geometric random walk with regime-specific drift and volatility; every bar is valid
 * OHLCV and carries its true regime, so regime detection can be scored against ground
 * truth. The same seed gives the same bytes on every run. Its FFI declarations are in the block below.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_SYNTH_H
#define GT_SYNTH_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- synthetic data (synth.c) ---- */
/* A deterministic regime-switching price path: a Markov chain over seven regimes
 * (bull/bear/sideways x quiet/volatile, plus crisis), each with its own drift and
 * volatility, and valid OHLCV bars. regimes[i] receives bar i's true regime (enum below).
 * step_us spaces the bars; skip_weekends leaves out Saturdays and Sundays. */
enum gt_regime {
    GT_REGIME_BULL_QUIET = 0,
    GT_REGIME_BULL_VOLATILE = 1,
    GT_REGIME_BEAR_QUIET = 2,
    GT_REGIME_BEAR_VOLATILE = 3,
    GT_REGIME_SIDEWAYS_QUIET = 4,
    GT_REGIME_SIDEWAYS_VOLATILE = 5,
    GT_REGIME_CRISIS = 6,
    GT_REGIME_COUNT = 7
};
const char *gt_regime_name(int32_t regime);
int gt_synth_generate(int64_t n, uint64_t seed, int64_t start_us, int64_t step_us,
                      int32_t skip_weekends, double start_price, gt_series **out, uint8_t *regimes);
/* ---- end ffi ---- */


#endif
