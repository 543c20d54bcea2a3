/*
 * risk.h: the pre-trade risk gate and the circuit breakers. gt_risk_check runs on every
 * order in every mode before any broker sees it: order sanity (finite positive quantity and
 * price, a fresh reference price), a tiered price collar, size and notional caps, per-account
 * exposure caps counting open orders, duplicates and throttles, and the trading state
 * (ACTIVE, REDUCING: only exposure-reducing orders, HALTED: nothing) that the breakers set
 * from gt_risk_on_bar / _on_fill / _on_reject / _on_stopout and the kill switch.
 * Pure C over what the caller passes: no series, no clock (time is the engine's "now"), no
 * I/O. The handle owns a copy of the limits and all state; gt_risk_snapshot gives the state
 * as bytes for the orchestrator to persist. Declarations are in gt_ffi.h for Lua.
 */
#ifndef GT_RISK_H
#define GT_RISK_H

#include "gt.h"

/* Capacities of the fixed rings inside the state (so a snapshot is one flat copy). */
#define GT_RISK_ORDER_RING 1024 /* accepted orders: duplicates and throttles */
#define GT_RISK_STOP_RING 64    /* stop-out times */
#define GT_RISK_VOL_RING 256    /* returns in the volatility window */

/* Decimal prices are not exact in binary (51.51 - 50.5 is 1.0100000000000016): a price
 * within this much (a fraction of the reference) of the collar edge counts as on it. One cent
 * on $10,000 is 1e-6, so a tick is never lost to it. */
#define GT_RISK_COLLAR_EPS 1e-9

#define GT_RISK_US_PER_DAY (86400LL * 1000000LL)

#endif
