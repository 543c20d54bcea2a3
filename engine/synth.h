/*
 * synth.h: deterministic synthetic market data. A seven-state Markov regime chain drives
 * a geometric random walk with regime-specific drift and volatility; every bar is valid
 * OHLCV and carries its true regime, so regime detection can be scored against ground
 * truth. The same seed gives the same bytes on every run. Declarations are in gt_ffi.h.
 */
#ifndef GT_SYNTH_H
#define GT_SYNTH_H

#include "gt.h"

#endif
