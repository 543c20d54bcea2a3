/*
 * ind.h: indicators, the C-only side. The public API (batch kernels and streaming states)
 * is in gt_ffi.h; this header holds the building blocks every indicator file shares: a
 * ring of the last n values, a monotonic deque for highest/lowest, and the SMA, EMA, WMA
 * and Wilder steps. They are static inline so a batch kernel that loops over a state's
 * step compiles to the same arithmetic as the exported _update, bit for bit.
 * Ownership: a state owns the buffers its _init allocates; its _fini frees them.
 * Files: ind.c (averages, utilities), ind_osc.c (oscillators), ind_vol.c (volatility,
 * trend, volume).
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_IND_H
#define GT_IND_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- indicators (ind.c) ---- */
/* Technical indicators. Each one has two forms that give identical numbers:
 *  - a batch kernel over whole arrays: inputs, n, out, params. Multi-output kernels take
 *    `double **out`, an array of output pointers in the order the comment names (a NULL
 *    entry skips that output). Returns GT_OK or GT_EINVAL (bad period, NULL array) or
 *    GT_ENOMEM; out[i] is NaN during the warm-up.
 *  - a streaming state: `_init(state, params)` (returns GT_OK or an error; a state that owns
 *    memory has `_fini`, safe to call twice), `_update(state, inputs) -> value` in O(1)
 *    (CCI is O(period): its mean deviation has no running form). Multi-output states
 *    return the first output and keep every output in fields named like the outputs.
 * NaN inputs: a bar with a NaN in any input is a missing bar. Its output is NaN and the
 * state does not move, so `sma(rsi(x))` simply starts after the RSI warm-up, and a gap in
 * a feed does not poison the rest of the series. Periods are >= 1 unless noted. */
enum gt_ind_seed {
    GT_IND_SEED_SMA = 0,  /* EMA starts at the SMA of the first period values (TA-Lib) */
    GT_IND_SEED_FIRST = 1 /* EMA starts at the first value (pandas ewm adjust=False) */
};
enum gt_ind_change_kind {
    GT_IND_MOM = 0, /* x - x[t-n] */
    GT_IND_ROC = 1, /* 100 * (x / x[t-n] - 1) */
    GT_IND_PCT = 2  /* x / x[t-n] - 1 (a fraction, like pandas pct_change) */
};

/* Building blocks. A ring of the last cap values; head is the next slot written. */
typedef struct gt_ind_ring {
    double *buf;
    int64_t cap;
    int64_t head;
    int64_t count;
} gt_ind_ring;
/* Highest (is_max) or lowest of the last cap values: a monotonic deque of values and their
 * sequence numbers (pos), so each update is amortised O(1). */
typedef struct gt_ind_minmax {
    double *val;
    int64_t *pos;
    int64_t cap;
    int64_t first;
    int64_t len;
    int64_t seen;
    int32_t is_max;
} gt_ind_minmax;
typedef struct gt_ind_sma_state {
    gt_ind_ring win;
    double sum;
    int64_t period;
} gt_ind_sma_state;
typedef struct gt_ind_ema_state {
    double alpha;
    double value;
    double seed_sum;
    int64_t period;
    int64_t count;
    int32_t seed;
} gt_ind_ema_state;
/* Wilder's smoothing (SMMA, RMA): alpha = 1/period, seeded with the SMA. */
typedef struct gt_ind_smma_state {
    double value;
    double seed_sum;
    int64_t period;
    int64_t count;
} gt_ind_smma_state;
typedef struct gt_ind_wma_state {
    gt_ind_ring win;
    double sum;
    double wsum;
    int64_t period;
} gt_ind_wma_state;

/* Averages (input: one series). */
int gt_ind_sma(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_sma_init(gt_ind_sma_state *s, int32_t period);
double gt_ind_sma_update(gt_ind_sma_state *s, double x);
void gt_ind_sma_fini(gt_ind_sma_state *s);
/* seed: enum gt_ind_seed. With GT_IND_SEED_FIRST the output starts at the first value. */
int gt_ind_ema(const double *in, int64_t n, double *out, int32_t period, int32_t seed);
int gt_ind_ema_init(gt_ind_ema_state *s, int32_t period, int32_t seed);
double gt_ind_ema_update(gt_ind_ema_state *s, double x);
int gt_ind_wma(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_wma_init(gt_ind_wma_state *s, int32_t period);
double gt_ind_wma_update(gt_ind_wma_state *s, double x);
void gt_ind_wma_fini(gt_ind_wma_state *s);
int gt_ind_smma(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_smma_init(gt_ind_smma_state *s, int32_t period);
double gt_ind_smma_update(gt_ind_smma_state *s, double x);
/* DEMA = 2 e1 - e2, TEMA = 3 e1 - 3 e2 + e3, e(k+1) the EMA of e(k) (TA-Lib's definition). */
typedef struct gt_ind_dema_state {
    gt_ind_ema_state e1;
    gt_ind_ema_state e2;
} gt_ind_dema_state;
int gt_ind_dema(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_dema_init(gt_ind_dema_state *s, int32_t period);
double gt_ind_dema_update(gt_ind_dema_state *s, double x);
typedef struct gt_ind_tema_state {
    gt_ind_ema_state e1;
    gt_ind_ema_state e2;
    gt_ind_ema_state e3;
} gt_ind_tema_state;
int gt_ind_tema(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_tema_init(gt_ind_tema_state *s, int32_t period);
double gt_ind_tema_update(gt_ind_tema_state *s, double x);
/* Hull: WMA(2 WMA(x, n/2) - WMA(x, n), floor(sqrt(n))); period >= 2. */
typedef struct gt_ind_hma_state {
    gt_ind_wma_state half;
    gt_ind_wma_state full;
    gt_ind_wma_state smooth;
} gt_ind_hma_state;
int gt_ind_hma(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_hma_init(gt_ind_hma_state *s, int32_t period);
double gt_ind_hma_update(gt_ind_hma_state *s, double x);
void gt_ind_hma_fini(gt_ind_hma_state *s);
/* Kaufman adaptive MA: efficiency ratio over period, fast/slow EMA periods (10, 2, 30).
 * The first value is at bar period. GT_KAMA_SEED_TALIB starts from the previous value
 * (x[period - 1]) and smooths at that bar, as TA-Lib does; GT_KAMA_SEED_SMA starts from the
 * mean of the period values ending at that bar, unsmoothed, as backtrader does. */
enum gt_kama_seed { GT_KAMA_SEED_TALIB = 0, GT_KAMA_SEED_SMA = 1 };
typedef struct gt_ind_kama_state {
    gt_ind_ring win;
    double vol;
    double value;
    double fast_sc;
    double slow_sc;
    int64_t period;
    int64_t seed;
} gt_ind_kama_state;
int gt_ind_kama(const double *in, int64_t n, double *out, int32_t period, int32_t fast,
                int32_t slow, int32_t seed);
int gt_ind_kama_init(gt_ind_kama_state *s, int32_t period, int32_t fast, int32_t slow,
                     int32_t seed);
double gt_ind_kama_update(gt_ind_kama_state *s, double x);
void gt_ind_kama_fini(gt_ind_kama_state *s);
/* Zero-lag EMA: EMA(2 x - x[t - (period-1)/2]). */
typedef struct gt_ind_zlema_state {
    gt_ind_ring win;
    gt_ind_ema_state ema;
    int64_t lag;
} gt_ind_zlema_state;
int gt_ind_zlema(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_zlema_init(gt_ind_zlema_state *s, int32_t period);
double gt_ind_zlema_update(gt_ind_zlema_state *s, double x);
void gt_ind_zlema_fini(gt_ind_zlema_state *s);
/* TRIX: 1-bar rate of change (percent) of a triple EMA. */
typedef struct gt_ind_trix_state {
    gt_ind_ema_state e1;
    gt_ind_ema_state e2;
    gt_ind_ema_state e3;
    double prev;
} gt_ind_trix_state;
int gt_ind_trix(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_trix_init(gt_ind_trix_state *s, int32_t period);
double gt_ind_trix_update(gt_ind_trix_state *s, double x);

/* Oscillators. */
/* RSI with Wilder smoothing seeded by the simple average of the first period changes. */
typedef struct gt_ind_rsi_state {
    double prev;
    double gain;
    double loss;
    int64_t period;
    int64_t count;
} gt_ind_rsi_state;
int gt_ind_rsi(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_rsi_init(gt_ind_rsi_state *s, int32_t period);
double gt_ind_rsi_update(gt_ind_rsi_state *s, double x);
/* Stochastic: raw %K over kperiod, %K = SMA(raw, ksmooth), %D = SMA(%K, dperiod).
 * fast = (k, 1, d), slow = (k, 3, d), full = (k, s, d). out: k, d. */
typedef struct gt_ind_stoch_state {
    gt_ind_minmax hh;
    gt_ind_minmax ll;
    gt_ind_sma_state ksma;
    gt_ind_sma_state dsma;
    double k;
    double d;
} gt_ind_stoch_state;
int gt_ind_stoch(const double *high, const double *low, const double *close, int64_t n,
                 double **out, int32_t kperiod, int32_t ksmooth, int32_t dperiod);
int gt_ind_stoch_init(gt_ind_stoch_state *s, int32_t kperiod, int32_t ksmooth, int32_t dperiod);
double gt_ind_stoch_update(gt_ind_stoch_state *s, double high, double low, double close);
void gt_ind_stoch_fini(gt_ind_stoch_state *s);
typedef struct gt_ind_willr_state {
    gt_ind_minmax hh;
    gt_ind_minmax ll;
} gt_ind_willr_state;
int gt_ind_willr(const double *high, const double *low, const double *close, int64_t n,
                 double *out, int32_t period);
int gt_ind_willr_init(gt_ind_willr_state *s, int32_t period);
double gt_ind_willr_update(gt_ind_willr_state *s, double high, double low, double close);
void gt_ind_willr_fini(gt_ind_willr_state *s);
/* CCI: (tp - SMA(tp)) / (0.015 * mean deviation), tp = (h + l + c) / 3. */
typedef struct gt_ind_cci_state {
    gt_ind_ring win;
    int64_t period;
} gt_ind_cci_state;
int gt_ind_cci(const double *high, const double *low, const double *close, int64_t n,
               double *out, int32_t period);
int gt_ind_cci_init(gt_ind_cci_state *s, int32_t period);
double gt_ind_cci_update(gt_ind_cci_state *s, double high, double low, double close);
void gt_ind_cci_fini(gt_ind_cci_state *s);
/* MACD: out macd, signal, hist. talib != 0 seeds the fast EMA as TA-Lib does (on the
 * values from slow - fast on, so both EMAs start at bar slow-1); 0 runs both from bar 0. */
typedef struct gt_ind_macd_state {
    gt_ind_ema_state fast;
    gt_ind_ema_state slow;
    gt_ind_ema_state smooth;
    int64_t skip;
    int64_t count;
    double macd;
    double signal;
    double hist;
} gt_ind_macd_state;
int gt_ind_macd(const double *in, int64_t n, double **out, int32_t fast, int32_t slow,
                int32_t signal, int32_t talib);
int gt_ind_macd_init(gt_ind_macd_state *s, int32_t fast, int32_t slow, int32_t signal, int32_t talib);
double gt_ind_macd_update(gt_ind_macd_state *s, double x);
/* PPO: 100 (EMA fast - EMA slow) / EMA slow, its EMA signal and the histogram. */
typedef struct gt_ind_ppo_state {
    gt_ind_ema_state fast;
    gt_ind_ema_state slow;
    gt_ind_ema_state smooth;
    double ppo;
    double signal;
    double hist;
} gt_ind_ppo_state;
int gt_ind_ppo(const double *in, int64_t n, double **out, int32_t fast, int32_t slow,
               int32_t signal);
int gt_ind_ppo_init(gt_ind_ppo_state *s, int32_t fast, int32_t slow, int32_t signal);
double gt_ind_ppo_update(gt_ind_ppo_state *s, double x);
/* Momentum, ROC and percent change (kind: enum gt_ind_change_kind). */
typedef struct gt_ind_change_state {
    gt_ind_ring win;
    int32_t kind;
} gt_ind_change_state;
int gt_ind_change(const double *in, int64_t n, double *out, int32_t period, int32_t kind);
int gt_ind_change_init(gt_ind_change_state *s, int32_t period, int32_t kind);
double gt_ind_change_update(gt_ind_change_state *s, double x);
void gt_ind_change_fini(gt_ind_change_state *s);
/* True strength index: 100 EMA_s(EMA_l(m)) / EMA_s(EMA_l(|m|)), m = x - x[t-1]. */
typedef struct gt_ind_tsi_state {
    gt_ind_ema_state m1;
    gt_ind_ema_state m2;
    gt_ind_ema_state a1;
    gt_ind_ema_state a2;
    double prev;
    int64_t count;
} gt_ind_tsi_state;
int gt_ind_tsi(const double *in, int64_t n, double *out, int32_t longp, int32_t shortp);
int gt_ind_tsi_init(gt_ind_tsi_state *s, int32_t longp, int32_t shortp);
double gt_ind_tsi_update(gt_ind_tsi_state *s, double x);
/* Ultimate oscillator over three periods (7, 14, 28). */
typedef struct gt_ind_ultosc_state {
    gt_ind_ring bp;
    gt_ind_ring tr;
    double bp_sum[3];
    double tr_sum[3];
    int64_t period[3];
    double prev_close;
    int64_t count;
} gt_ind_ultosc_state;
int gt_ind_ultosc(const double *high, const double *low, const double *close, int64_t n,
                  double *out, int32_t p1, int32_t p2, int32_t p3);
int gt_ind_ultosc_init(gt_ind_ultosc_state *s, int32_t p1, int32_t p2, int32_t p3);
double gt_ind_ultosc_update(gt_ind_ultosc_state *s, double high, double low, double close);
void gt_ind_ultosc_fini(gt_ind_ultosc_state *s);
/* Awesome oscillator: SMA(median, fast) - SMA(median, slow), median = (h + l) / 2. */
typedef struct gt_ind_ao_state {
    gt_ind_sma_state fast;
    gt_ind_sma_state slow;
} gt_ind_ao_state;
int gt_ind_ao(const double *high, const double *low, int64_t n, double *out, int32_t fast,
              int32_t slow);
int gt_ind_ao_init(gt_ind_ao_state *s, int32_t fast, int32_t slow);
double gt_ind_ao_update(gt_ind_ao_state *s, double high, double low);
void gt_ind_ao_fini(gt_ind_ao_state *s);
/* Detrended price oscillator (causal form): x[t - (period/2 + 1)] - SMA(x, period). */
typedef struct gt_ind_dpo_state {
    gt_ind_sma_state sma;
    gt_ind_ring win;
    int64_t shift;
} gt_ind_dpo_state;
int gt_ind_dpo(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_dpo_init(gt_ind_dpo_state *s, int32_t period);
double gt_ind_dpo_update(gt_ind_dpo_state *s, double x);
void gt_ind_dpo_fini(gt_ind_dpo_state *s);
/* Aroon over period + 1 bars: out up, down, osc (= up - down). Ties: the latest bar. */
typedef struct gt_ind_aroon_state {
    gt_ind_minmax hh;
    gt_ind_minmax ll;
    int64_t period;
    double up;
    double down;
    double osc;
} gt_ind_aroon_state;
int gt_ind_aroon(const double *high, const double *low, int64_t n, double **out,
                 int32_t period);
int gt_ind_aroon_init(gt_ind_aroon_state *s, int32_t period);
double gt_ind_aroon_update(gt_ind_aroon_state *s, double high, double low);
void gt_ind_aroon_fini(gt_ind_aroon_state *s);
/* Vortex: out plus (VI+), minus (VI-). */
typedef struct gt_ind_vortex_state {
    gt_ind_ring vmp;
    gt_ind_ring vmm;
    gt_ind_ring tr;
    double sum_vmp;
    double sum_vmm;
    double sum_tr;
    double prev_high;
    double prev_low;
    double prev_close;
    int64_t count;
    double plus;
    double minus;
} gt_ind_vortex_state;
int gt_ind_vortex(const double *high, const double *low, const double *close, int64_t n,
                  double **out, int32_t period);
int gt_ind_vortex_init(gt_ind_vortex_state *s, int32_t period);
double gt_ind_vortex_update(gt_ind_vortex_state *s, double high, double low, double close);
void gt_ind_vortex_fini(gt_ind_vortex_state *s);
/* Know Sure Thing: sum of w_i SMA(ROC(x, r_i), s_i), w = 1..4, and its SMA signal.
 * periods: r1..r4, s1..s4, signal (9 values) or NULL for 10 15 20 30, 10 10 10 15, 9.
 * out: kst, signal. */
typedef struct gt_ind_kst_state {
    gt_ind_change_state roc[4];
    gt_ind_sma_state sm[4];
    gt_ind_sma_state sig;
    double kst;
    double signal;
} gt_ind_kst_state;
int gt_ind_kst(const double *in, int64_t n, double **out, const int32_t *periods);
int gt_ind_kst_init(gt_ind_kst_state *s, const int32_t *periods);
double gt_ind_kst_update(gt_ind_kst_state *s, double x);
void gt_ind_kst_fini(gt_ind_kst_state *s);
/* Money flow index from typical price and volume. */
typedef struct gt_ind_mfi_state {
    gt_ind_ring pos;
    gt_ind_ring neg;
    double pos_sum;
    double neg_sum;
    double prev_tp;
    int64_t count;
} gt_ind_mfi_state;
int gt_ind_mfi(const double *high, const double *low, const double *close, const double *volume,
               int64_t n, double *out, int32_t period);
int gt_ind_mfi_init(gt_ind_mfi_state *s, int32_t period);
double gt_ind_mfi_update(gt_ind_mfi_state *s, double high, double low, double close, double volume);
void gt_ind_mfi_fini(gt_ind_mfi_state *s);

/* Volatility and trend. */
/* True range; the first bar (no previous close) gives high - low. */
typedef struct gt_ind_trange_state {
    double prev_close;
    int64_t count;
} gt_ind_trange_state;
int gt_ind_trange(const double *high, const double *low, const double *close, int64_t n,
                  double *out);
int gt_ind_trange_init(gt_ind_trange_state *s);
double gt_ind_trange_update(gt_ind_trange_state *s, double high, double low, double close);
/* ATR: Wilder average of the true range from the second bar on (TA-Lib's and Wilder's
 * convention), so the first value is at bar period. */
typedef struct gt_ind_atr_state {
    gt_ind_trange_state tr;
    gt_ind_smma_state avg;
} gt_ind_atr_state;
int gt_ind_atr(const double *high, const double *low, const double *close, int64_t n,
               double *out, int32_t period);
int gt_ind_atr_init(gt_ind_atr_state *s, int32_t period);
double gt_ind_atr_update(gt_ind_atr_state *s, double high, double low, double close);
/* Rolling standard deviation: ddof 0 is the population one (TA-Lib's STDDEV and BBANDS),
 * ddof 1 the sample one (pandas' default); sums are kept about shift (the first value) to
 * limit cancellation. mean is the window's mean. */
typedef struct gt_ind_stddev_state {
    gt_ind_ring win;
    double sum;
    double sumsq;
    double shift;
    double mean;
    int64_t period;
    int64_t ddof;
} gt_ind_stddev_state;
int gt_ind_stddev(const double *in, int64_t n, double *out, int32_t period, int32_t ddof);
int gt_ind_stddev_init(gt_ind_stddev_state *s, int32_t period, int32_t ddof);
double gt_ind_stddev_update(gt_ind_stddev_state *s, double x);
void gt_ind_stddev_fini(gt_ind_stddev_state *s);
/* z-score: (x - mean) / stddev over period; NaN where the stddev is 0. */
typedef struct gt_ind_zscore_state {
    gt_ind_stddev_state sd;
} gt_ind_zscore_state;
int gt_ind_zscore(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_zscore_init(gt_ind_zscore_state *s, int32_t period);
double gt_ind_zscore_update(gt_ind_zscore_state *s, double x);
void gt_ind_zscore_fini(gt_ind_zscore_state *s);
/* Bollinger bands: out mid, upper, lower, pctb ((x - lower) / (upper - lower)),
 * width ((upper - lower) / mid). */
typedef struct gt_ind_bbands_state {
    gt_ind_stddev_state sd;
    double k;
    double mid;
    double upper;
    double lower;
    double pctb;
    double width;
} gt_ind_bbands_state;
int gt_ind_bbands(const double *in, int64_t n, double **out, int32_t period, double k);
int gt_ind_bbands_init(gt_ind_bbands_state *s, int32_t period, double k);
double gt_ind_bbands_update(gt_ind_bbands_state *s, double x);
void gt_ind_bbands_fini(gt_ind_bbands_state *s);
/* Keltner channel: mid = EMA(close, period), upper/lower = mid +- mult ATR(atr_period).
 * out: mid, upper, lower. */
typedef struct gt_ind_keltner_state {
    gt_ind_ema_state ema;
    gt_ind_atr_state atr;
    double mult;
    double mid;
    double upper;
    double lower;
} gt_ind_keltner_state;
int gt_ind_keltner(const double *high, const double *low, const double *close, int64_t n,
                   double **out, int32_t period, int32_t atr_period, double mult);
int gt_ind_keltner_init(gt_ind_keltner_state *s, int32_t period, int32_t atr_period, double mult);
double gt_ind_keltner_update(gt_ind_keltner_state *s, double high, double low, double close);
/* Donchian channel: out upper (highest high), lower (lowest low), mid. */
typedef struct gt_ind_donchian_state {
    gt_ind_minmax hh;
    gt_ind_minmax ll;
    double upper;
    double lower;
    double mid;
} gt_ind_donchian_state;
int gt_ind_donchian(const double *high, const double *low, int64_t n, double **out,
                    int32_t period);
int gt_ind_donchian_init(gt_ind_donchian_state *s, int32_t period);
double gt_ind_donchian_update(gt_ind_donchian_state *s, double high, double low);
void gt_ind_donchian_fini(gt_ind_donchian_state *s);
/* ADX with +DI/-DI, Wilder's running sums exactly as TA-Lib: DI from bar period, ADX from
 * bar 2 period - 1. out: adx, pdi, mdi. */
typedef struct gt_ind_adx_state {
    double prev_high;
    double prev_low;
    double prev_close;
    double pdm;
    double mdm;
    double tr;
    double sum_dx;
    double adx;
    double pdi;
    double mdi;
    int64_t period;
    int64_t count;
} gt_ind_adx_state;
int gt_ind_adx(const double *high, const double *low, const double *close, int64_t n,
               double **out, int32_t period);
int gt_ind_adx_init(gt_ind_adx_state *s, int32_t period);
double gt_ind_adx_update(gt_ind_adx_state *s, double high, double low, double close);
/* Parabolic SAR (Wilder), started like TA-Lib's SAR: first value at bar 1, direction from
 * the first two bars' directional movement. */
typedef struct gt_ind_sar_state {
    double accel;
    double max_accel;
    double af;
    double ep;
    double sar;
    double prev_high;
    double prev_low;
    int64_t count;
    int32_t is_long;
} gt_ind_sar_state;
int gt_ind_sar(const double *high, const double *low, int64_t n, double *out, double accel,
               double max_accel);
int gt_ind_sar_init(gt_ind_sar_state *s, double accel, double max_accel);
double gt_ind_sar_update(gt_ind_sar_state *s, double high, double low);

/* Volume. */
/* On-balance volume, starting at the first bar's volume (TA-Lib). */
typedef struct gt_ind_obv_state {
    double prev;
    double value;
    int64_t count;
} gt_ind_obv_state;
int gt_ind_obv(const double *close, const double *volume, int64_t n, double *out);
int gt_ind_obv_init(gt_ind_obv_state *s);
double gt_ind_obv_update(gt_ind_obv_state *s, double close, double volume);
/* Session VWAP of the typical price; a session is a UTC day shifted by offset_us (e.g.
 * -5 h for New York midnight): it restarts when floor((ts + offset_us) / 1 day) changes.
 * NaN while the session's volume is 0. */
typedef struct gt_ind_vwap_state {
    int64_t offset_us;
    int64_t day;
    double pv;
    double vol;
    int64_t count;
} gt_ind_vwap_state;
int gt_ind_vwap(const int64_t *ts, const double *high, const double *low, const double *close,
                const double *volume, int64_t n, double *out, int64_t offset_us);
int gt_ind_vwap_init(gt_ind_vwap_state *s, int64_t offset_us);
double gt_ind_vwap_update(gt_ind_vwap_state *s, int64_t ts, double high, double low, double close,
                          double volume);
/* Rolling VWAP over the last period bars. */
typedef struct gt_ind_rvwap_state {
    gt_ind_ring pv;
    gt_ind_ring vol;
    double pv_sum;
    double vol_sum;
} gt_ind_rvwap_state;
int gt_ind_rvwap(const double *high, const double *low, const double *close,
                 const double *volume, int64_t n, double *out, int32_t period);
int gt_ind_rvwap_init(gt_ind_rvwap_state *s, int32_t period);
double gt_ind_rvwap_update(gt_ind_rvwap_state *s, double high, double low, double close,
                           double volume);
void gt_ind_rvwap_fini(gt_ind_rvwap_state *s);
/* Accumulation/distribution line (Chaikin): sum of ((c-l) - (h-c)) / (h-l) * volume. */
typedef struct gt_ind_ad_state {
    double value;
} gt_ind_ad_state;
int gt_ind_ad(const double *high, const double *low, const double *close, const double *volume,
              int64_t n, double *out);
int gt_ind_ad_init(gt_ind_ad_state *s);
double gt_ind_ad_update(gt_ind_ad_state *s, double high, double low, double close, double volume);

/* Utilities. */
int gt_ind_highest(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_lowest(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_highest_init(gt_ind_minmax *s, int32_t period);
int gt_ind_lowest_init(gt_ind_minmax *s, int32_t period);
double gt_ind_minmax_update(gt_ind_minmax *s, double x);
void gt_ind_minmax_fini(gt_ind_minmax *s);
/* Rolling sum (the state is an SMA's). */
int gt_ind_sum(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_sum_init(gt_ind_sma_state *s, int32_t period);
double gt_ind_sum_update(gt_ind_sma_state *s, double x);
/* Crossovers: 1 on the bar where a goes from <= b to > b (dir 1, cross_over) or from >= b
 * to < b (dir -1, cross_under), else 0; NaN on the first bar. */
typedef struct gt_ind_cross_state {
    double prev_a;
    double prev_b;
    int64_t count;
    int32_t dir;
} gt_ind_cross_state;
int gt_ind_cross(const double *a, const double *b, int64_t n, double *out, int32_t dir);
int gt_ind_cross_init(gt_ind_cross_state *s, int32_t dir);
double gt_ind_cross_update(gt_ind_cross_state *s, double a, double b);
/* Least-squares slope per bar over the last period values; period >= 2. */
typedef struct gt_ind_linreg_state {
    gt_ind_ring win;
    double sy;
    double sxy;
} gt_ind_linreg_state;
int gt_ind_linreg_slope(const double *in, int64_t n, double *out, int32_t period);
int gt_ind_linreg_init(gt_ind_linreg_state *s, int32_t period);
double gt_ind_linreg_update(gt_ind_linreg_state *s, double x);
void gt_ind_linreg_fini(gt_ind_linreg_state *s);
/* Envelopes: SMA(period) and SMA (1 +- pct), pct a fraction (0.025 = 2.5 %).
 * out: mid, upper, lower. */
typedef struct gt_ind_envelope_state {
    gt_ind_sma_state sma;
    double pct;
    double mid;
    double upper;
    double lower;
} gt_ind_envelope_state;
int gt_ind_envelope(const double *in, int64_t n, double **out, int32_t period, double pct);
int gt_ind_envelope_init(gt_ind_envelope_state *s, int32_t period, double pct);
double gt_ind_envelope_update(gt_ind_envelope_state *s, double x);
void gt_ind_envelope_fini(gt_ind_envelope_state *s);
/* Heikin-Ashi bars: out open, high, low, close; update returns close. */
typedef struct gt_ind_heikin_state {
    int64_t count;
    double open;
    double high;
    double low;
    double close;
} gt_ind_heikin_state;
int gt_ind_heikin(const double *open, const double *high, const double *low, const double *close,
                  int64_t n, double **out);
int gt_ind_heikin_init(gt_ind_heikin_state *s);
double gt_ind_heikin_update(gt_ind_heikin_state *s, double open, double high, double low,
                            double close);
/* Ichimoku (9, 26, 52): out tenkan, kijun, span_a, span_b, each at the bar it is computed
 * from (not displaced forward as charts draw the cloud; chikou is the close itself). */
typedef struct gt_ind_ichimoku_state {
    gt_ind_minmax h1;
    gt_ind_minmax l1;
    gt_ind_minmax h2;
    gt_ind_minmax l2;
    gt_ind_minmax h3;
    gt_ind_minmax l3;
    double tenkan;
    double kijun;
    double span_a;
    double span_b;
} gt_ind_ichimoku_state;
int gt_ind_ichimoku(const double *high, const double *low, int64_t n, double **out,
                    int32_t tenkan, int32_t kijun, int32_t senkou);
int gt_ind_ichimoku_init(gt_ind_ichimoku_state *s, int32_t tenkan, int32_t kijun, int32_t senkou);
double gt_ind_ichimoku_update(gt_ind_ichimoku_state *s, double high, double low);
void gt_ind_ichimoku_fini(gt_ind_ichimoku_state *s);
/* Crossover of two arrays, the target array of a crossover rule: out[i] = up where a
 * crosses above b at bar i (a[i] > b[i] and a[i-1] <= b[i-1]), down where it crosses below
 * (a[i] < b[i] and a[i-1] >= b[i-1]), NaN elsewhere: at bar 0, and wherever a NaN at bar i
 * or i - 1 makes a comparison false. Exactly what a rule written with those two tests
 * returns bar by bar, so a strategy's vectorised signals and its rule cannot disagree.
 * (cross_over / cross_under above are a stream's: they skip NaN bars and give 0 / 1.) */
int gt_ind_cross_targets(const double *a, const double *b, int64_t n, double up, double down,
                         double *out);
/* ---- end ffi ---- */

#include <math.h>
#include <stdlib.h>


#define IND_NAN ((double)NAN)

/* Argument checks shared by every kernel; they set the error message. */
static inline int ind_check_len(const void *p, int64_t n, const char *what)
{
    if (n < 0)
        return gt_seterr(GT_EINVAL, "ind: %s: negative length %lld", what, (long long)n);
    if (n > 0 && p == NULL)
        return gt_seterr(GT_EINVAL, "ind: %s: NULL array", what);
    return GT_OK;
}

static inline int ind_check_period(const char *who, int64_t p, int64_t min)
{
    if (p < min || p > (int64_t)1 << 30)
        return gt_seterr(GT_EINVAL, "ind: %s: period %lld out of range (>= %lld)", who,
                         (long long)p, (long long)min);
    return GT_OK;
}

/* Input and output arrays of length n and a period of at least min_period. */
static inline int check1(const char *who, const double *in, int64_t n, const void *out, int64_t period,
                  int64_t min_period)
{
    int rc;
    if ((rc = ind_check_len(in, n, who)) < 0 || (rc = ind_check_len(out, n, who)) < 0)
        return rc;
    return ind_check_period(who, period, min_period);
}

/* The batch form of a one-input, one-period indicator that is its streaming update run
 * over the array, so the two forms cannot disagree. FINI is a statement run on the state at
 * the end (freeing a ring buffer), or nothing. */
#define IND_BATCH(name, minp, FINI)                                                        \
    int gt_ind_##name(const double *in, int64_t n, double *out, int32_t period)            \
    {                                                                                      \
        gt_ind_##name##_state s;                                                           \
        int rc = check1(#name, in, n, out, period, minp);                                  \
        if (rc < 0 || (rc = gt_ind_##name##_init(&s, period)) < 0)                         \
            return rc;                                                                     \
        for (int64_t i = 0; i < n; i++)                                                    \
            out[i] = gt_ind_##name##_update(&s, in[i]);                                    \
        FINI;                                                                              \
        return GT_OK;                                                                      \
    }

/* Multi-output kernels: out is an array of pointers, a NULL entry is skipped. */
static inline void ind_put(double **out, int k, int64_t i, double v)
{
    if (out[k])
        out[k][i] = v;
}

/* ---- ring ---- */
static inline int ring_init(gt_ind_ring *r, int64_t cap)
{
    r->buf = calloc((size_t)cap, sizeof *r->buf);
    r->cap = cap;
    r->head = 0;
    r->count = 0;
    return r->buf ? GT_OK : gt_seterr(GT_ENOMEM, "ind: ring of %lld values", (long long)cap);
}

static inline void ring_fini(gt_ind_ring *r)
{
    free(r->buf);
    r->buf = NULL;
    r->count = 0;
}

static inline int ring_full(const gt_ind_ring *r)
{
    return r->count == r->cap;
}

/* The value the next push evicts (only meaningful when full). */
static inline double ring_oldest(const gt_ind_ring *r)
{
    return r->buf[r->head];
}

static inline void ring_push(gt_ind_ring *r, double x)
{
    r->buf[r->head] = x;
    if (++r->head == r->cap)
        r->head = 0;
    if (r->count < r->cap)
        r->count++;
}

/* k-th most recent value, 0 = newest; needs k < count. */
static inline double ring_get(const gt_ind_ring *r, int64_t k)
{
    int64_t i = r->head - 1 - k;
    if (i < 0)
        i += r->cap;
    return r->buf[i];
}

/* Pushes x and keeps *sum the sum of the window (the SMA's order of operations). */
static inline void ring_roll(gt_ind_ring *r, double *sum, double x)
{
    if (ring_full(r))
        *sum += x - ring_oldest(r);
    else
        *sum += x;
    ring_push(r, x);
}

/* ---- highest / lowest: monotonic deque ---- */
static inline int minmax_init(gt_ind_minmax *m, int64_t cap, int is_max)
{
    m->val = malloc((size_t)cap * sizeof *m->val);
    m->pos = malloc((size_t)cap * sizeof *m->pos);
    m->cap = cap;
    m->first = m->len = m->seen = 0;
    m->is_max = is_max;
    if (!m->val || !m->pos) {
        free(m->val);
        free(m->pos);
        m->val = NULL;
        m->pos = NULL;
        return gt_seterr(GT_ENOMEM, "ind: deque of %lld values", (long long)cap);
    }
    return GT_OK;
}

static inline void minmax_fini(gt_ind_minmax *m)
{
    free(m->val);
    free(m->pos);
    m->val = NULL;
    m->pos = NULL;
    m->len = 0;
}

/* Pushes x, returns the extreme of the last cap values (of fewer while filling). Ties keep
 * the latest bar (the older equal value is popped), as TA-Lib's AROON does. */
static inline double minmax_push(gt_ind_minmax *m, double x)
{
    int64_t p = m->seen++;
    while (m->len > 0 && m->pos[m->first] <= p - m->cap) {
        if (++m->first == m->cap)
            m->first = 0;
        m->len--;
    }
    while (m->len > 0) {
        int64_t b = m->first + m->len - 1;
        if (b >= m->cap)
            b -= m->cap;
        if (m->is_max ? m->val[b] <= x : m->val[b] >= x)
            m->len--;
        else
            break;
    }
    int64_t b = m->first + m->len;
    if (b >= m->cap)
        b -= m->cap;
    m->val[b] = x;
    m->pos[b] = p;
    m->len++;
    return m->val[m->first];
}

static inline int minmax_full(const gt_ind_minmax *m)
{
    return m->seen >= m->cap;
}

/* Bars since the extreme (0 = the latest value pushed). */
static inline int64_t minmax_age(const gt_ind_minmax *m)
{
    return m->seen - 1 - m->pos[m->first];
}

/* ---- SMA ---- */
static inline int sma_init(gt_ind_sma_state *s, int64_t period)
{
    s->sum = 0;
    s->period = period;
    return ring_init(&s->win, period);
}

/* The batch SMA kernel does the same additions in the same order: sum += x, then
 * sum += x - oldest once the window is full. */
static inline double sma_step(gt_ind_sma_state *s, double x)
{
    gt_ind_ring *r = &s->win;
    if (ring_full(r))
        s->sum += x - ring_oldest(r);
    else
        s->sum += x;
    ring_push(r, x);
    return ring_full(r) ? s->sum / (double)s->period : IND_NAN;
}

/* ---- EMA ---- */
static inline void ema_setup(gt_ind_ema_state *e, int64_t period, int seed)
{
    e->alpha = 2.0 / (double)(period + 1);
    e->value = IND_NAN;
    e->seed_sum = 0;
    e->period = period;
    e->count = 0;
    e->seed = seed;
}

/* TA-Lib's form: value = (x - value) * alpha + value. */
static inline double ema_step(gt_ind_ema_state *e, double x)
{
    if (e->count >= e->period) {
        e->value = (x - e->value) * e->alpha + e->value;
        return e->value;
    }
    if (e->seed == GT_IND_SEED_FIRST) {
        e->count = e->period;
        e->value = x;
        return x;
    }
    e->seed_sum += x;
    if (++e->count < e->period)
        return IND_NAN;
    e->value = e->seed_sum / (double)e->period;
    return e->value;
}

/* ---- Wilder (SMMA) ---- */
static inline void smma_setup(gt_ind_smma_state *w, int64_t period)
{
    w->value = IND_NAN;
    w->seed_sum = 0;
    w->period = period;
    w->count = 0;
}

/* TA-Lib's form: value = (value * (period - 1) + x) / period. */
static inline double smma_step(gt_ind_smma_state *w, double x)
{
    if (w->count >= w->period) {
        w->value = (w->value * (double)(w->period - 1) + x) / (double)w->period;
        return w->value;
    }
    w->seed_sum += x;
    if (++w->count < w->period)
        return IND_NAN;
    w->value = w->seed_sum / (double)w->period;
    return w->value;
}

/* ---- WMA: weights 1..period, newest heaviest ---- */
static inline int wma_init(gt_ind_wma_state *w, int64_t period)
{
    w->sum = w->wsum = 0;
    w->period = period;
    return ring_init(&w->win, period);
}

static inline double wma_step(gt_ind_wma_state *w, double x)
{
    gt_ind_ring *r = &w->win;
    if (ring_full(r)) {
        /* every weight drops by one (minus the window sum), the newest gets period */
        w->wsum += (double)w->period * x - w->sum;
        w->sum += x - ring_oldest(r);
    } else {
        w->wsum += (double)(r->count + 1) * x;
        w->sum += x;
    }
    ring_push(r, x);
    if (!ring_full(r))
        return IND_NAN;
    return w->wsum / ((double)w->period * (double)(w->period + 1) / 2.0);
}

/* ---- true range (TA-Lib's TRUE_RANGE macro, same comparisons) ---- */
static inline double true_range(double h, double l, double prev_close)
{
    double tr = h - l;
    double t = fabs(h - prev_close);
    if (t > tr)
        tr = t;
    t = fabs(l - prev_close);
    if (t > tr)
        tr = t;
    return tr;
}

#endif
