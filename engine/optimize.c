/*
 * optimize.c: see optimize.h.
 *
 * The normal quantile is Acklam's rational approximation (relative error 1.15e-9) refined by
 * one Halley step against erfc from libm, which brings it to double precision.
 *
 * CSCV follows Bailey, Borwein, Lopez de Prado and Zhu, "The Probability of Backtest
 * Overfitting", J. Computational Finance 20(4), 2017 (SSRN 2326253, 2015), section 2:
 * the T x N matrix of per-bar returns (N strategies) is cut into S row blocks of equal
 * length; each of the C(S, S/2) ways to pick S/2 blocks is a training set J and its
 * complement a test set; the strategy n* with the best in-sample Sharpe ratio is ranked
 * among all N by out-of-sample Sharpe, w = rank / (N + 1) and the logit
 * lambda = ln(w / (1 - w)). PBO is the share of splits with lambda <= 0 (computed by the
 * caller from the logits written here). The caller passes per-block sums of returns, of
 * squared returns and the per-block counts (equal for every strategy: the same bars), so
 * the Sharpe ratio of any union of blocks (mean / sample sd, ddof 1) is exact without the
 * return matrix. A strategy whose returns have no variance has Sharpe 0 (no excess return);
 * ties in sample go to the lowest index, ties out of sample take the average rank.
 */
#include "optimize.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

double gt_opt_norm_cdf(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

double gt_opt_norm_ppf(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    if (!(p >= 0.0 && p <= 1.0))
        return NAN;
    if (p == 0.0)
        return -INFINITY;
    if (p == 1.0)
        return INFINITY;
    double x, q, r;
    if (p < 0.02425) {
        q = sqrt(-2.0 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    } else if (p <= 1.0 - 0.02425) {
        q = p - 0.5;
        r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
    } else {
        q = sqrt(-2.0 * log(1.0 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    }
    /* one Halley step on cdf(x) - p */
    double e = gt_opt_norm_cdf(x) - p;
    double u = e * sqrt(2.0 * M_PI) * exp(x * x / 2.0);
    return x - u / (1.0 + x * u / 2.0);
}

int64_t gt_opt_cscv_splits(int32_t blocks)
{
    if (blocks < 2 || blocks > GT_OPT_CSCV_MAX_BLOCKS || blocks % 2)
        return gt_seterr(GT_EINVAL, "cscv: blocks must be even, 2..%d, got %d",
                         GT_OPT_CSCV_MAX_BLOCKS, (int)blocks);
    int64_t c = 1;
    for (int32_t i = 1; i <= blocks / 2; i++)
        c = c * (blocks / 2 + i) / i;
    return c;
}

/* The Sharpe ratio of a union of blocks, as a fraction num / den with den > 0 whose order
 * is the Sharpe ratio's: with s1, s2 the sums of returns and squared returns over n bars,
 * SR = (s1 / n) / sqrt((n s2 - s1^2) / (n (n - 1))), so sign(SR) SR^2 = c s1 |s1| / (n s2 - s1^2)
 * for a constant c > 0 shared by every strategy of one split; x |x| is strictly increasing,
 * so comparing num / den orders strategies exactly as their Sharpe ratios, with no square
 * root and, compared by cross-multiplication, no division. No variance: Sharpe 0. */
static inline void sr_key(double s1, double s2, double n, double *num, double *den)
{
    double d = n * s2 - s1 * s1;
    if (!(d > 1e-24 * n * (n - 1))) {
        *num = 0;
        *den = 1;
        return;
    }
    *num = s1 * fabs(s1);
    *den = d;
}

int64_t gt_opt_cscv(const double *sum, const double *sum2, const double *cnt, int64_t nstrat,
                    int32_t blocks, double *logits, int64_t cap)
{
    int64_t splits = gt_opt_cscv_splits(blocks);
    if (splits < 0)
        return splits;
    if (!sum || !sum2 || !cnt || !logits || nstrat < 2)
        return gt_seterr(GT_EINVAL, "cscv: needs at least 2 strategies and their block sums");
    if (cap < splits)
        return gt_seterr(GT_ERANGE, "cscv: room for %lld logits, %lld splits", (long long)cap,
                         (long long)splits);
    size_t N = (size_t)nstrat;
    /* block-major copies (b1[b * N + j]) so a split's in-sample sums are contiguous vector
     * adds; tot1/tot2 the sums over all blocks; is1/is2 one split's in-sample sums; the
     * keys of every strategy in one half (a) and in the other (b) */
    double *mem = malloc(sizeof(double) * N * (2 * (size_t)blocks + 8));
    if (!mem)
        return gt_seterr(GT_ENOMEM, "cscv: %lld strategies", (long long)nstrat);
    double *b1 = mem, *b2 = b1 + N * (size_t)blocks, *tot1 = b2 + N * (size_t)blocks;
    double *tot2 = tot1 + N, *is1 = tot2 + N, *is2 = is1 + N;
    double *an = is2 + N, *ad = an + N, *bn = ad + N, *bd = bn + N;
    double ntot = 0;
    for (int32_t b = 0; b < blocks; b++)
        ntot += cnt[b];
    for (size_t j = 0; j < N; j++) {
        double s1 = 0, s2 = 0;
        for (int32_t b = 0; b < blocks; b++) {
            b1[(size_t)b * N + j] = sum[j * (size_t)blocks + (size_t)b];
            b2[(size_t)b * N + j] = sum2[j * (size_t)blocks + (size_t)b];
            s1 += sum[j * (size_t)blocks + (size_t)b];
            s2 += sum2[j * (size_t)blocks + (size_t)b];
        }
        tot1[j] = s1;
        tot2[j] = s2;
    }
    /* A split and its complement are both splits, with training and test swapped: walk the
     * half of them that holds block 0 and score each pair from one set of sums. */
    int32_t half = blocks / 2, pick[GT_OPT_CSCV_MAX_BLOCKS];
    for (int32_t i = 0; i < half; i++)
        pick[i] = i;
    int64_t k = 0;
    while (pick[0] == 0) {
        double nin = 0;
        for (int32_t i = 0; i < half; i++)
            nin += cnt[pick[i]];
        double nout = ntot - nin;
        const double *p1 = b1 + (size_t)pick[0] * N, *p2 = b2 + (size_t)pick[0] * N;
        for (size_t j = 0; j < N; j++) {
            is1[j] = p1[j];
            is2[j] = p2[j];
        }
        for (int32_t i = 1; i < half; i++) {
            p1 = b1 + (size_t)pick[i] * N;
            p2 = b2 + (size_t)pick[i] * N;
            for (size_t j = 0; j < N; j++) {
                is1[j] += p1[j];
                is2[j] += p2[j];
            }
        }
        for (size_t j = 0; j < N; j++) {
            sr_key(is1[j], is2[j], nin, &an[j], &ad[j]);
            sr_key(tot1[j] - is1[j], tot2[j] - is2[j], nout, &bn[j], &bd[j]);
        }
        for (int side = 0; side < 2; side++) {
            const double *in_n = side ? bn : an, *in_d = side ? bd : ad;
            const double *out_n = side ? an : bn, *out_d = side ? ad : bd;
            /* n*: the best in sample (the lowest index among equals) */
            size_t best = 0, ties = 1;
            for (size_t j = 1; j < N; j++) {
                double x = in_n[j] * in_d[best], y = in_n[best] * in_d[j];
                if (x > y) {
                    best = j;
                    ties = 1;
                } else if (x == y) {
                    ties++;
                }
            }
            /* every strategy ties in sample (no trades, say): nothing was selected, so the
             * split says nothing about overfitting */
            if (ties == N) {
                logits[k++] = NAN;
                continue;
            }
            /* its rank out of sample: 1 = worst .. N = best, ties averaged */
            double vn = out_n[best], vd = out_d[best], less = 0, eq = 0;
            for (size_t j = 0; j < N; j++) {
                double x = out_n[j] * vd, y = vn * out_d[j];
                less += x < y;
                eq += x == y;
            }
            double rank = less + (eq + 1) / 2.0;
            double w = rank / ((double)nstrat + 1);
            logits[k++] = log(w / (1 - w));
        }
        /* next combination in lexicographic order */
        int32_t i = half - 1;
        while (i >= 0 && pick[i] == blocks - half + i)
            i--;
        if (i < 0)
            break;
        pick[i]++;
        for (int32_t m = i + 1; m < half; m++)
            pick[m] = pick[m - 1] + 1;
    }
    free(mem);
    return k;
}

void gt_opt_sleep(double seconds)
{
    if (!(seconds > 0))
        return;
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
}

int32_t gt_opt_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int32_t)n : 1;
}
