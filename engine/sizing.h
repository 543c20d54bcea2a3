/*
 * sizing.h: position sizing. Kelly and fractional Kelly from a strategy's win statistics,
 * fixed fraction, volatility targeting (an ATR-based stop risks a set fraction of equity),
 * equal weight, and the seed's "intelligent" method (fractional Kelly, or half the max
 * position without statistics, times the confidence and regime multipliers and a strategy
 * multiplier, clamped to [min, max] position and whole shares), plus the portfolio cap.
 * Pure: every input is passed in, nothing is allocated or kept, so the engine can call it
 * per order without Lua. Declarations (gt_sizing_*) live in gt_ffi.h for Lua.
 */
#ifndef GT_SIZING_H
#define GT_SIZING_H

#include "gt.h"

/* The seed caps b = |avg_win / avg_loss| here so one tiny average loss cannot make f* ~ p. */
#define GT_SIZING_MAX_B 100.0

#endif
