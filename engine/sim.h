/*
 * sim.h: the simulated broker over a ledger (ledger.h). Fill rules (for users in
 * examples/BACKTEST.md):
 * - market: at the open of the bar after the decision (GT_FILL_NEXT_OPEN), or at the
 *   decision bar's close (GT_FILL_CLOSE, gt_sim_fill_at_close);
 * - limit: at the open when the bar opens through the limit, else at the limit when the
 *   bar's range reaches it; stop: the same, triggered the other way; stop-limit: the stop
 *   turns it into a limit, which can fill in the same bar only when the bar opened through
 *   the stop; trailing stop: a stop that follows the best price since it became active;
 * - market and stop fills pay slippage and half the spread; limit fills are at their price.
 * Every order enters through gt_sim_new_order: the one place an order is validated (and,
 * with the sizing and risk units, sized and gated).
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_SIM_H
#define GT_SIM_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- a backtest with the sizing and risk units (bt.c, sim.c) ---- */
/* Every order the backtest books (a strategy's, a target's, an exit leg) passes
 * gt_risk_check first; a refusal is kept as a rejected order with GT_REJECT_RISK and the
 * rule. The gate hears of each bar (equity, the first symbol's close), fill, broker reject
 * and stop-out for its breakers. names: k symbol names for the gate (borrowed, like risk);
 * risk NULL detaches it. */
int gt_bt_set_risk(gt_bt *bt, gt_risk *risk, const char *const *names);
/* Targets sized by the sizing unit: a target's sign is the direction, the quantity is
 * gt_sizing_fraction's, with win statistics from the trades closed so far (never later
 * ones; Kelly needs at least min_trades of them, before that the method's fallback
 * applies). p is copied; NULL switches sizing off. */
int gt_bt_set_sizing(gt_bt *bt, const gt_sizing_params *p, int32_t min_trades);
/* What the gate did in this backtest: orders it refused. */
int64_t gt_bt_risk_refused(const gt_bt *bt);
/* Each order the gate refused, with the gate's words (the rule, the values, what to do). */
typedef struct gt_refusal {
    int64_t order_id;
    char reason[240];
} gt_refusal;
int64_t gt_bt_refusals(const gt_bt *bt, const gt_refusal **out);
/* With a gate: its state (enum gt_risk_state) after each bar, bars 0..marked; returns their
 * number (0 without a gate). Owned by the backtest. */
int64_t gt_bt_risk_states(const gt_bt *bt, const uint8_t **out);
/* ---- end ffi ---- */

#include "ledger.h"

typedef struct gt_sim {
    gt_bt_config cfg;
    double buy_f, sell_f; /* price multipliers for market and stop fills (slippage, spread) */
    gt_ledger *led;       /* borrowed */
    int32_t k;            /* symbols */
    const gt_bar *bars;   /* the bar being processed, one per symbol (borrowed) */
    int64_t bar;          /* its index, for the records */
    gt_risk *risk;        /* the pre-trade gate every order passes, or NULL (borrowed) */
    const char *const *names; /* k symbol names for the gate (borrowed) */
    int64_t risk_refused; /* orders the gate refused */
    gt_refusal *refusals; /* each with the gate's reason (owned) */
    int64_t nrefusals, cap_refusals;
} gt_sim;

void gt_sim_init(gt_sim *sim, const gt_bt_config *cfg, gt_ledger *led, int32_t k);
/* Matches every working order against sim->bars (bar sim->bar). */
void gt_sim_process(gt_sim *sim);
/* Validates and books an order decided at the close of sim->bar; returns its id (> 0, a
 * refused order keeps its id and reason) or a negative status. origin: 0 a user's order, 1
 * a target's, 2 a target's exit leg (the engine's own fields frac and exit_pct start NaN). */
int64_t gt_sim_new_order(gt_sim *sim, const gt_order_req *req, int32_t status, int32_t origin);
/* A market order filled at once at the close of sim->bar. */
void gt_sim_fill_at_close(gt_sim *sim, gt_order *o);

double gt_sim_commission(const gt_sim *sim, double qty, double price);
double gt_sim_cost_adjust(const gt_sim *sim, int side, double price);
double gt_sim_units(const gt_sim *sim, double q);
double gt_sim_affordable(const gt_sim *sim, double budget, double price);
int gt_sim_check_price(double p);

#endif
