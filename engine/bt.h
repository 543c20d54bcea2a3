/*
 * bt.h: the backtest engine: portfolio ledger (cash, positions with average price,
 * realised PnL, equity per bar) and a simulated broker (market, limit, stop, stop-limit,
 * trailing stop, bracket; day/GTC; cancel/replace; costs; volume cap). The engine owns
 * every array it hands out (equity, trades, orders, fills) until gt_bt_free; it borrows
 * the series, which must outlive it. Declarations are in gt_ffi.h.
 *
 * Fill rules (documented for users in examples/BACKTEST.md):
 * - market: at the open of the bar after the decision (GT_FILL_NEXT_OPEN), or at the
 *   decision bar's close (GT_FILL_CLOSE);
 * - limit: at the open when the bar opens through the limit, else at the limit when the
 *   bar's range reaches it; stop: the same, triggered the other way; stop-limit: the stop
 *   turns it into a limit, which can fill in the same bar only when the bar opened through
 *   the stop; trailing stop: a stop that follows the best price since it became active;
 * - market and stop fills pay slippage and half the spread; limit fills are at their price.
 */
#ifndef GT_BT_H
#define GT_BT_H

#include "gt.h"

/* Starting capital above this is refused: sums of positions stay far from overflow and the
 * sizing arithmetic exact to the cent. gt_bt_max_capital() gives it to Lua. */
#define GT_BT_MAX_CAPITAL 1e15
/* A target is a signed fraction of equity; beyond this it is a mistake, not a position. */
#define GT_BT_MAX_TARGET 100.0

#endif
