/*
 * sizing.h: position sizing. Kelly and fractional Kelly from a strategy's win statistics,
 * fixed fraction, volatility targeting (an ATR-based stop risks a set fraction of equity),
 * equal weight, and the seed's "intelligent" method (fractional Kelly, or half the max
 * position without statistics, times the confidence and regime multipliers and a strategy
 * multiplier, clamped to [min, max] position and whole shares), plus the portfolio cap.
 * Pure: every input is passed in, nothing is allocated or kept, so the engine can call it
 * per order without Lua. Declarations (gt_sizing_*) live in gt_ffi.h for Lua.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_SIZING_H
#define GT_SIZING_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- sizing (sizing.c): position size as a fraction of equity and whole shares ---- */
/* Pure functions over the caller's structs; nothing is allocated or kept. Fractions are of
 * equity (0.1 = 10 %). A NaN statistic means "not known". */
enum gt_sizing_method {
    GT_SIZING_KELLY = 0,            /* full Kelly f* = p - (1 - p) / b, floored at 0 */
    GT_SIZING_FRACTIONAL_KELLY = 1, /* kelly_fraction * f* */
    GT_SIZING_FIXED = 2,            /* fixed_fraction of equity */
    GT_SIZING_VOLATILITY = 3,       /* a stop atr_multiple * atr away risks risk_fraction */
    GT_SIZING_EQUAL_WEIGHT = 4,     /* 1 / slots */
    GT_SIZING_INTELLIGENT = 5,      /* the seed's: Kelly, confidence, regime, strategy */
    GT_SIZING_METHOD_COUNT = 6
};
/* Bits of gt_sizing_out.notes: why the size is what it is. */
enum gt_sizing_note {
    GT_SIZING_NOTE_NO_STATS = 1,        /* no win statistics: base is 0.5 * max_position */
    GT_SIZING_NOTE_KELLY_FLOORED = 2,   /* f* was negative (no edge): 0 */
    GT_SIZING_NOTE_LOW_CONFIDENCE = 4,  /* confidence below the threshold: 0 */
    GT_SIZING_NOTE_CLAMPED_MIN = 8,     /* raised to min_position */
    GT_SIZING_NOTE_CLAMPED_MAX = 16,    /* cut to max_position */
    GT_SIZING_NOTE_PRICE_TOO_HIGH = 32, /* one share costs more than the sized value: 0 */
    GT_SIZING_NOTE_B_CAPPED = 64        /* win/loss ratio b capped at 100 */
};
typedef struct gt_sizing_params {
    int32_t method;              /* enum gt_sizing_method */
    int32_t slots;               /* equal weight: number of positions (default 10) */
    double kelly_fraction;       /* 0.25 */
    double max_position;         /* 0.1 */
    double min_position;         /* 0.01 */
    double confidence_threshold; /* 0.6 */
    double fixed_fraction;       /* fixed method (default 0.3 * max_position = 0.03) */
    double risk_fraction;        /* volatility method: equity risked per trade (0.01) */
    double atr_multiple;         /* volatility method: stop distance in ATRs (2) */
    double regime_mult[7];       /* indexed by enum gt_regime (bull_quiet 1.2, ...) */
} gt_sizing_params;
typedef struct gt_sizing_input {
    double price;               /* > 0 */
    double equity;              /* > 0 */
    double win_rate;            /* p in [0.01, 0.99], or NaN: no statistics */
    double avg_win;             /* >= 0 (with win_rate) */
    double avg_loss;            /* < 0 (with win_rate) */
    double confidence;          /* [0, 1], or NaN: not used */
    double atr;                 /* > 0 for the volatility method, else may be NaN */
    double strategy_multiplier; /* >= 0; 1 when NaN */
    int32_t regime;             /* enum gt_regime, or -1: none */
    int32_t pad;
} gt_sizing_input;
typedef struct gt_sizing_out {
    double shares;         /* whole shares, >= 0 */
    double value;          /* shares * price */
    double fraction;       /* value / equity */
    double target;         /* the fraction before whole shares */
    double kelly;          /* f* (full Kelly), NaN without statistics */
    double confidence_adj; /* multiplier, 1 when not used */
    double regime_adj;     /* multiplier, 1 when not used */
    double risk;           /* fraction of equity lost at the stop / the average loss */
    int32_t notes;         /* enum gt_sizing_note bits */
    int32_t pad;
} gt_sizing_out;
/* The seed's defaults (RiskParameters and RegimeMultipliers) for method. */
void gt_sizing_params_init(gt_sizing_params *p, int32_t method);
/* Full Kelly f* for win rate p and average win / loss (avg_loss < 0), floored at 0, b capped
 * at 100; GT_EINVAL (negative) when p is outside [0.01, 0.99], avg_loss >= 0, avg_win < 0 or
 * any is not finite, with the field and value in gt_errmsg(). */
int gt_sizing_kelly(double p, double avg_win, double avg_loss, double *out);
/* The seed's confidence multiplier: 0 below threshold, 0.5 at it, then
 * 1 + (c - threshold) / (1 - threshold), at most 2. */
double gt_sizing_confidence_adj(double confidence, double threshold);
/* Sizes one order: fills *out and returns out->fraction (>= 0), or a negative status with
 * gt_errmsg() naming the field and value (nothing written). */
double gt_sizing_fraction(const gt_sizing_params *p, const gt_sizing_input *in,
                          gt_sizing_out *out);
/* Whole shares for fraction of equity at price, fraction clamped to [min_pos, max_pos] when
 * positive: the seed's kelly_position_value. Returns shares (>= 0) or a negative status. */
double gt_sizing_shares(double equity, double fraction, double price, double min_pos,
                        double max_pos, int32_t *notes);
/* Portfolio cap: when fractions[0..n) sum above cap (0.8), scales each down by cap / sum.
 * Returns the factor applied (1 when under the cap) or a negative status. */
double gt_sizing_portfolio_cap(double *fractions, int64_t n, double cap);
/* ---- end ffi ---- */


/* The seed caps b = |avg_win / avg_loss| here so one tiny average loss cannot make f* ~ p. */
#define GT_SIZING_MAX_B 100.0

#endif
