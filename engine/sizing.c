/*
 * sizing.c: see sizing.h. The seed's rules and numbers are in ../shared/seed/slices.md
 * section 5; tests/c/test_sizing.c checks each of them.
 */
#include "sizing.h"

#include <math.h>
#include <string.h>

/* RegimeMultipliers defaults, indexed by enum gt_regime. */
static const double regime_default[GT_REGIME_COUNT] = {
    [GT_REGIME_BULL_QUIET] = 1.2,     [GT_REGIME_BULL_VOLATILE] = 0.9,
    [GT_REGIME_BEAR_QUIET] = 0.6,     [GT_REGIME_BEAR_VOLATILE] = 0.4,
    [GT_REGIME_SIDEWAYS_QUIET] = 1.0, [GT_REGIME_SIDEWAYS_VOLATILE] = 0.7,
    [GT_REGIME_CRISIS] = 0.2,
};

_Static_assert(sizeof(((gt_sizing_params *)0)->regime_mult) / sizeof(double) == GT_REGIME_COUNT,
               "gt_sizing_params.regime_mult has one entry per regime");

void gt_sizing_params_init(gt_sizing_params *p, int32_t method)
{
    memset(p, 0, sizeof *p);
    p->method = method;
    p->slots = 10;
    p->kelly_fraction = 0.25;
    p->max_position = 0.1;
    p->min_position = 0.01;
    p->confidence_threshold = 0.6;
    p->fixed_fraction = 0.3 * p->max_position;
    p->risk_fraction = 0.01;
    p->atr_multiple = 2.0;
    memcpy(p->regime_mult, regime_default, sizeof regime_default);
}

static int kelly_b(double p, double avg_win, double avg_loss, double *out, int *capped)
{
    if (!isfinite(p) || p < 0.01 || p > 0.99)
        return gt_seterr(GT_EINVAL, "sizing: win_rate %g must be in [0.01, 0.99]", p);
    if (!isfinite(avg_win) || avg_win < 0)
        return gt_seterr(GT_EINVAL, "sizing: avg_win %g must be a finite number >= 0", avg_win);
    if (!isfinite(avg_loss) || avg_loss >= 0)
        return gt_seterr(GT_EINVAL, "sizing: avg_loss %g must be a finite negative number (a loss)",
                         avg_loss);
    double b = fabs(avg_win / avg_loss);
    *capped = b > GT_SIZING_MAX_B;
    if (*capped)
        b = GT_SIZING_MAX_B;
    /* b == 0 (no average win) means no edge: f* would be -inf. */
    double f = b > 0 ? p - (1.0 - p) / b : 0.0;
    *out = f;
    return GT_OK;
}

int gt_sizing_kelly(double p, double avg_win, double avg_loss, double *out)
{
    double f;
    int capped;
    int rc = kelly_b(p, avg_win, avg_loss, &f, &capped);
    if (rc < 0)
        return rc;
    *out = f > 0 ? f : 0.0;
    return GT_OK;
}

double gt_sizing_confidence_adj(double c, double threshold)
{
    if (!(c >= threshold))
        return 0.0;
    /* The seed's curve returns x0.5 at exactly the threshold (its test pins 0.1 -> 0.05),
     * then jumps to 1 just above it and rises linearly to 2 at c = 1. */
    if (c == threshold)
        return 0.5;
    double m = 1.0 + (c - threshold) / (1.0 - threshold);
    return m < 2.0 ? m : 2.0;
}

double gt_sizing_shares(double equity, double fraction, double price, double min_pos,
                        double max_pos, int32_t *notes)
{
    if (!isfinite(equity) || equity <= 0)
        return gt_seterr(GT_EINVAL, "sizing: equity %g must be a finite number > 0", equity);
    if (!isfinite(price) || price <= 0)
        return gt_seterr(GT_EINVAL, "sizing: price %g must be a finite number > 0", price);
    if (!isfinite(fraction) || fraction < 0)
        return gt_seterr(GT_EINVAL, "sizing: fraction %g must be a finite number >= 0", fraction);
    if (!(min_pos >= 0 && max_pos >= min_pos && max_pos <= 1))
        return gt_seterr(GT_EINVAL, "sizing: need 0 <= min_position (%g) <= max_position (%g) <= 1",
                         min_pos, max_pos);
    int32_t n = 0;
    /* A zero size stays zero: clamping it up to the minimum would trade on no signal. */
    if (fraction > 0 && fraction < min_pos) {
        fraction = min_pos;
        n |= GT_SIZING_NOTE_CLAMPED_MIN;
    }
    if (fraction > max_pos) {
        fraction = max_pos;
        n |= GT_SIZING_NOTE_CLAMPED_MAX;
    }
    double value = equity * fraction;
    double shares = floor(value / price);
    if (fraction > 0 && shares < 1)
        n |= GT_SIZING_NOTE_PRICE_TOO_HIGH;
    if (notes)
        *notes |= n;
    return shares;
}

static int check_params(const gt_sizing_params *p)
{
    if (p->method < 0 || p->method >= GT_SIZING_METHOD_COUNT)
        return gt_seterr(GT_EINVAL, "sizing: method %d is not a gt_sizing_method", p->method);
    if (!(p->kelly_fraction > 0 && p->kelly_fraction <= 1))
        return gt_seterr(GT_EINVAL, "sizing: kelly_fraction %g must be in (0, 1]",
                         p->kelly_fraction);
    if (!(p->confidence_threshold >= 0 && p->confidence_threshold < 1))
        return gt_seterr(GT_EINVAL, "sizing: confidence_threshold %g must be in [0, 1)",
                         p->confidence_threshold);
    if (p->method == GT_SIZING_FIXED && !(p->fixed_fraction >= 0 && p->fixed_fraction <= 1))
        return gt_seterr(GT_EINVAL, "sizing: fixed_fraction %g must be in [0, 1]",
                         p->fixed_fraction);
    if (p->method == GT_SIZING_VOLATILITY && !(p->risk_fraction > 0 && p->risk_fraction <= 1 &&
                                               p->atr_multiple > 0 && isfinite(p->atr_multiple)))
        return gt_seterr(GT_EINVAL,
                         "sizing: risk_fraction %g must be in (0, 1] and atr_multiple %g > 0",
                         p->risk_fraction, p->atr_multiple);
    if (p->method == GT_SIZING_EQUAL_WEIGHT && p->slots < 1)
        return gt_seterr(GT_EINVAL, "sizing: slots %d must be >= 1", p->slots);
    for (int i = 0; i < GT_REGIME_COUNT; i++)
        if (!(p->regime_mult[i] >= 0 && isfinite(p->regime_mult[i])))
            return gt_seterr(GT_EINVAL, "sizing: regime_mult[%d] %g must be finite and >= 0", i,
                             p->regime_mult[i]);
    return GT_OK;
}

double gt_sizing_fraction(const gt_sizing_params *p, const gt_sizing_input *in, gt_sizing_out *out)
{
    int rc = check_params(p);
    if (rc < 0)
        return rc;
    if (!isfinite(in->price) || in->price <= 0)
        return gt_seterr(GT_EINVAL, "sizing: price %g must be a finite number > 0", in->price);
    if (!isfinite(in->equity) || in->equity <= 0)
        return gt_seterr(GT_EINVAL, "sizing: equity %g must be a finite number > 0", in->equity);
    if (!isnan(in->confidence) && !(in->confidence >= 0 && in->confidence <= 1))
        return gt_seterr(GT_EINVAL, "sizing: confidence %g must be in [0, 1] (or NaN: unused)",
                         in->confidence);
    if (in->regime < -1 || in->regime >= GT_REGIME_COUNT)
        return gt_seterr(GT_EINVAL, "sizing: regime %d is not a gt_regime (or -1: none)",
                         in->regime);
    double smult = isnan(in->strategy_multiplier) ? 1.0 : in->strategy_multiplier;
    if (!(smult >= 0 && isfinite(smult)))
        return gt_seterr(GT_EINVAL, "sizing: strategy_multiplier %g must be finite and >= 0",
                         in->strategy_multiplier);

    gt_sizing_out o;
    memset(&o, 0, sizeof o);
    o.kelly = NAN;
    o.confidence_adj = 1.0;
    o.regime_adj = 1.0;
    int has_stats = !isnan(in->win_rate);
    if (has_stats) {
        double f;
        int capped;
        if ((rc = kelly_b(in->win_rate, in->avg_win, in->avg_loss, &f, &capped)) < 0)
            return rc;
        if (capped)
            o.notes |= GT_SIZING_NOTE_B_CAPPED;
        if (f < 0) {
            f = 0;
            o.notes |= GT_SIZING_NOTE_KELLY_FLOORED;
        }
        o.kelly = f;
    }
    /* Without statistics the Kelly methods fall back to the seed's 0.5 * max_position. */
    double fallback = 0.5 * p->max_position;
    double target = 0, stop = NAN;
    switch (p->method) {
    case GT_SIZING_KELLY:
        target = has_stats ? o.kelly : fallback;
        break;
    case GT_SIZING_FRACTIONAL_KELLY:
        target = has_stats ? p->kelly_fraction * o.kelly : fallback;
        break;
    case GT_SIZING_FIXED:
        target = p->fixed_fraction;
        break;
    case GT_SIZING_VOLATILITY:
        if (!isfinite(in->atr) || in->atr <= 0)
            return gt_seterr(GT_EINVAL,
                             "sizing: atr %g must be a finite number > 0 for volatility sizing",
                             in->atr);
        /* Whole shares such that shares * stop <= risk_fraction * equity, with
         * stop = atr_multiple * atr; sized in shares so no fraction round trip can lose one. */
        stop = p->atr_multiple * in->atr;
        o.shares = floor(p->risk_fraction * in->equity / stop);
        target = o.shares * in->price / in->equity;
        break;
    case GT_SIZING_EQUAL_WEIGHT:
        target = 1.0 / p->slots;
        break;
    case GT_SIZING_INTELLIGENT:
        target = has_stats ? p->kelly_fraction * o.kelly : fallback;
        if (!isnan(in->confidence)) {
            o.confidence_adj = gt_sizing_confidence_adj(in->confidence, p->confidence_threshold);
            if (o.confidence_adj == 0)
                o.notes |= GT_SIZING_NOTE_LOW_CONFIDENCE;
        }
        if (in->regime >= 0)
            o.regime_adj = p->regime_mult[in->regime];
        target *= o.confidence_adj * o.regime_adj;
        if (target > 1)
            target = 1;
        target *= smult;
        break;
    }
    if (!has_stats && (p->method == GT_SIZING_KELLY || p->method == GT_SIZING_FRACTIONAL_KELLY ||
                       p->method == GT_SIZING_INTELLIGENT))
        o.notes |= GT_SIZING_NOTE_NO_STATS;
    o.target = target;
    double shares;
    if (p->method == GT_SIZING_VOLATILITY && target >= p->min_position && target <= p->max_position)
        shares = o.shares; /* already whole shares within the limits */
    else if ((shares = gt_sizing_shares(in->equity, target, in->price, p->min_position,
                                        p->max_position, &o.notes)) < 0)
        return shares;
    o.shares = shares;
    o.value = shares * in->price;
    o.fraction = o.value / in->equity;
    if (!isnan(stop))
        o.risk = shares * stop / in->equity;
    else if (has_stats)
        o.risk = o.fraction * fabs(in->avg_loss);
    else
        o.risk = o.fraction * 0.05; /* the seed's assumed 5 % loss without statistics */
    *out = o;
    return o.fraction;
}

double gt_sizing_portfolio_cap(double *fractions, int64_t n, double cap)
{
    if (n < 0 || (n > 0 && !fractions))
        return gt_seterr(GT_EINVAL, "sizing: portfolio cap needs n >= 0 fractions");
    if (!(cap > 0 && cap <= 1))
        return gt_seterr(GT_EINVAL, "sizing: portfolio cap %g must be in (0, 1]", cap);
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(fractions[i]) || fractions[i] < 0)
            return gt_seterr(GT_EINVAL, "sizing: fraction[%lld] %g must be finite and >= 0",
                             (long long)i, fractions[i]);
        sum += fractions[i];
    }
    if (sum <= cap)
        return 1.0;
    double k = cap / sum;
    for (int64_t i = 0; i < n; i++)
        fractions[i] *= k;
    return k;
}
