/*
 * hmm.c: a Gaussian hidden Markov model with diagonal covariances. Forward quantities are
 * kept normalised per step (Rabiner's scaling), so sequences of any length neither
 * underflow nor overflow; the log-likelihood is the sum of the log scale factors. The
 * batch forward pass is gt_hmm_filter_step in a loop, so the online filter and the batch
 * one are the same arithmetic. Restarts draw from a local splitmix64, never libc rand.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "regime.h"

/* Variances never fall below this fraction of the data's own variance in that dimension:
 * a state collapsing on one repeated value would otherwise have an infinite likelihood. */
#define HMM_VAR_FLOOR 1e-4
#define HMM_MAX_STATES 16
#define HMM_MAX_DIMS 8

struct gt_hmm {
    int32_t k, d;
    double *pi, *a, *mean, *var;
    double *ivar;  /* 1 / var, k * d */
    double *lnorm; /* -0.5 * sum_j log(2 pi var_sj), k: the density's constant part */
};

/* Refreshes the per-state constants of the density after the parameters change. */
static void prep(gt_hmm *m)
{
    for (int32_t s = 0; s < m->k; s++) {
        double c = 0;
        for (int32_t j = 0; j < m->d; j++) {
            double v = m->var[s * m->d + j];
            m->ivar[s * m->d + j] = 1.0 / v;
            c -= 0.5 * log(2.0 * M_PI * v);
        }
        m->lnorm[s] = c;
    }
}

gt_hmm *gt_hmm_new(int32_t k, int32_t d)
{
    if (k < 1 || k > HMM_MAX_STATES || d < 1 || d > HMM_MAX_DIMS) {
        gt_seterr(GT_EINVAL, "hmm: %d states, %d dimensions: need 1..%d states, 1..%d dims", k, d,
                  HMM_MAX_STATES, HMM_MAX_DIMS);
        return NULL;
    }
    gt_hmm *m = calloc(1, sizeof *m);
    double *buf = calloc((size_t)(2 * k + k * k + 3 * k * d), sizeof *buf);
    if (!m || !buf) {
        free(m);
        free(buf);
        gt_seterr(GT_ENOMEM, "hmm: model of %d states", k);
        return NULL;
    }
    m->k = k;
    m->d = d;
    m->pi = buf;
    m->a = buf + k;
    m->mean = m->a + k * k;
    m->var = m->mean + k * d;
    m->ivar = m->var + k * d;
    m->lnorm = m->ivar + k * d;
    for (int32_t i = 0; i < k; i++) {
        m->pi[i] = 1.0 / k;
        for (int32_t j = 0; j < k; j++)
            m->a[i * k + j] = 1.0 / k;
        for (int32_t j = 0; j < d; j++)
            m->var[i * d + j] = 1.0;
    }
    prep(m);
    return m;
}

void gt_hmm_free(gt_hmm *m)
{
    if (!m)
        return;
    free(m->pi);
    free(m);
}

int32_t gt_hmm_states(const gt_hmm *m)
{
    return m->k;
}

int32_t gt_hmm_dims(const gt_hmm *m)
{
    return m->d;
}

/* A probability vector: finite, non-negative, summing to 1 within 1e-9. */
static int check_prob(const double *p, int32_t k, const char *what, int32_t row)
{
    double s = 0;
    for (int32_t i = 0; i < k; i++) {
        if (!(p[i] >= 0) || !isfinite(p[i]))
            return gt_seterr(GT_EINVAL, "hmm: %s row %d entry %d is %g: need >= 0", what, row, i,
                             p[i]);
        s += p[i];
    }
    if (fabs(s - 1.0) > 1e-9)
        return gt_seterr(GT_EINVAL, "hmm: %s row %d sums to %.12g: need 1", what, row, s);
    return GT_OK;
}

int gt_hmm_set(gt_hmm *m, const double *pi, const double *a, const double *mean, const double *var)
{
    int32_t k = m->k, d = m->d;
    int rc = check_prob(pi, k, "pi", 0);
    for (int32_t i = 0; rc == GT_OK && i < k; i++)
        rc = check_prob(a + i * k, k, "transition matrix", i);
    if (rc < 0)
        return rc;
    for (int32_t i = 0; i < k * d; i++) {
        if (!isfinite(mean[i]))
            return gt_seterr(GT_EINVAL, "hmm: mean %d is %g: need a finite number", i, mean[i]);
        if (!(var[i] > 0) || !isfinite(var[i]))
            return gt_seterr(GT_EINVAL, "hmm: variance %d is %g: need > 0", i, var[i]);
    }
    memcpy(m->pi, pi, sizeof *pi * (size_t)k);
    memcpy(m->a, a, sizeof *a * (size_t)(k * k));
    memcpy(m->mean, mean, sizeof *mean * (size_t)(k * d));
    memcpy(m->var, var, sizeof *var * (size_t)(k * d));
    prep(m);
    return GT_OK;
}

void gt_hmm_get(const gt_hmm *m, double *pi, double *a, double *mean, double *var)
{
    int32_t k = m->k, d = m->d;
    if (pi)
        memcpy(pi, m->pi, sizeof *pi * (size_t)k);
    if (a)
        memcpy(a, m->a, sizeof *a * (size_t)(k * k));
    if (mean)
        memcpy(mean, m->mean, sizeof *mean * (size_t)(k * d));
    if (var)
        memcpy(var, m->var, sizeof *var * (size_t)(k * d));
}

/* log N(x; mean_s, diag var_s) */
static double log_density(const gt_hmm *m, int32_t s, const double *x)
{
    const double *mu = m->mean + s * m->d, *iv = m->ivar + s * m->d;
    double q = 0;
    for (int32_t j = 0; j < m->d; j++) {
        double z = x[j] - mu[j];
        q += z * z * iv[j];
    }
    return m->lnorm[s] - 0.5 * q;
}

static int obs_missing(const gt_hmm *m, const double *x)
{
    if (!x)
        return 1;
    for (int32_t j = 0; j < m->d; j++)
        if (!isfinite(x[j]))
            return 1;
    return 0;
}

/* Emission likelihoods of one row, scaled by exp(-max log density) so the largest is 1;
 * returns that max (the log of the scale). */
static double emissions(const gt_hmm *m, const double *x, double *b)
{
    double mx = -INFINITY;
    for (int32_t s = 0; s < m->k; s++) {
        b[s] = log_density(m, s, x);
        if (b[s] > mx)
            mx = b[s];
    }
    for (int32_t s = 0; s < m->k; s++)
        b[s] = exp(b[s] - mx);
    return mx;
}

int gt_hmm_filter_step(const gt_hmm *m, double *alpha, int32_t first, const double *x,
                       double *loglik)
{
    int32_t k = m->k;
    double pred[HMM_MAX_STATES], b[HMM_MAX_STATES];
    if (first) {
        memcpy(pred, m->pi, sizeof *pred * (size_t)k);
    } else {
        for (int32_t j = 0; j < k; j++) {
            double s = 0;
            for (int32_t i = 0; i < k; i++)
                s += alpha[i] * m->a[i * k + j];
            pred[j] = s;
        }
    }
    if (obs_missing(m, x)) {
        memcpy(alpha, pred, sizeof *pred * (size_t)k);
        return GT_OK;
    }
    double mx = emissions(m, x, b), c = 0;
    for (int32_t s = 0; s < k; s++)
        c += (pred[s] *= b[s]);
    if (!(c > 0)) /* every state gives the row zero weight: restart from the prior */
        return gt_seterr(GT_ERANGE, "hmm: observation has zero likelihood under every state");
    for (int32_t s = 0; s < k; s++)
        alpha[s] = pred[s] / c;
    if (loglik)
        *loglik += log(c) + mx;
    return GT_OK;
}

static int check_seq(const gt_hmm *m, const double *x, int64_t n, const void *out)
{
    if (!m || n < 0 || (n > 0 && (!x || !out)))
        return gt_seterr(GT_EINVAL, "hmm: need a model, n >= 0 and non-NULL arrays");
    return GT_OK;
}

int gt_hmm_forward(const gt_hmm *m, const double *x, int64_t n, double *post, double *loglik)
{
    int rc = check_seq(m, x, n, post);
    if (rc < 0)
        return rc;
    double ll = 0;
    int32_t k = m->k, d = m->d;
    for (int64_t t = 0; t < n; t++) {
        if (t > 0)
            memcpy(post + t * k, post + (t - 1) * k, sizeof *post * (size_t)k);
        if ((rc = gt_hmm_filter_step(m, post + t * k, t == 0, x + t * d, &ll)) < 0)
            return rc;
    }
    if (loglik)
        *loglik = ll;
    return GT_OK;
}

/* Scaled forward-backward. alpha, beta: n * k; emis: n * k scaled emissions; c: n scales.
 * Fills post (gamma) and returns the log-likelihood in *ll. xi_sum (k * k), when not NULL,
 * receives the expected transition counts. */
static int fb(const gt_hmm *m, const double *x, int64_t n, double *alpha, double *beta,
              double *emis, double *c, double *post, double *xi_sum, double *ll)
{
    int32_t k = m->k, d = m->d;
    double total = 0;
    for (int64_t t = 0; t < n; t++) {
        double *al = alpha + t * k, *b = emis + t * k;
        total += emissions(m, x + t * d, b);
        double s = 0;
        for (int32_t j = 0; j < k; j++) {
            double p;
            if (t == 0) {
                p = m->pi[j];
            } else {
                p = 0;
                for (int32_t i = 0; i < k; i++)
                    p += al[i - k] * m->a[i * k + j];
            }
            al[j] = p * b[j];
            s += al[j];
        }
        if (!(s > 0))
            return gt_seterr(GT_ERANGE, "hmm: row %lld has zero likelihood under every state",
                             (long long)t);
        for (int32_t j = 0; j < k; j++)
            al[j] /= s;
        c[t] = s;
        total += log(s);
    }
    for (int32_t j = 0; j < k; j++)
        beta[(n - 1) * k + j] = 1.0;
    for (int64_t t = n - 2; t >= 0; t--) {
        const double *bn = emis + (t + 1) * k, *be1 = beta + (t + 1) * k;
        for (int32_t i = 0; i < k; i++) {
            double s = 0;
            for (int32_t j = 0; j < k; j++)
                s += m->a[i * k + j] * bn[j] * be1[j];
            beta[t * k + i] = s / c[t + 1];
        }
    }
    for (int64_t t = 0; t < n; t++) {
        double s = 0;
        for (int32_t j = 0; j < k; j++)
            s += (post[t * k + j] = alpha[t * k + j] * beta[t * k + j]);
        for (int32_t j = 0; j < k; j++)
            post[t * k + j] /= s;
    }
    if (xi_sum) {
        memset(xi_sum, 0, sizeof *xi_sum * (size_t)(k * k));
        for (int64_t t = 0; t + 1 < n; t++) {
            const double *al = alpha + t * k, *bn = emis + (t + 1) * k, *be1 = beta + (t + 1) * k;
            for (int32_t i = 0; i < k; i++)
                for (int32_t j = 0; j < k; j++)
                    xi_sum[i * k + j] += al[i] * m->a[i * k + j] * bn[j] * be1[j] / c[t + 1];
        }
    }
    *ll = total;
    return GT_OK;
}

typedef struct work {
    double *alpha, *beta, *emis, *c, *post, *xi;
} work;

static int work_new(work *w, int64_t n, int32_t k)
{
    size_t nk = (size_t)n * (size_t)k;
    w->alpha = malloc(sizeof(double) * (4 * nk + (size_t)n + (size_t)(k * k)));
    if (!w->alpha)
        return gt_seterr(GT_ENOMEM, "hmm: work space for %lld rows", (long long)n);
    w->beta = w->alpha + nk;
    w->emis = w->beta + nk;
    w->post = w->emis + nk;
    w->c = w->post + nk;
    w->xi = w->c + n;
    return GT_OK;
}

int gt_hmm_smooth(const gt_hmm *m, const double *x, int64_t n, double *post, double *loglik)
{
    int rc = check_seq(m, x, n, post);
    if (rc < 0 || n == 0)
        return rc;
    work w;
    if ((rc = work_new(&w, n, m->k)) < 0)
        return rc;
    double ll = 0;
    rc = fb(m, x, n, w.alpha, w.beta, w.emis, w.c, post, NULL, &ll);
    if (rc == GT_OK && loglik)
        *loglik = ll;
    free(w.alpha);
    return rc;
}

int gt_hmm_viterbi(const gt_hmm *m, const double *x, int64_t n, int32_t *path, double *logp)
{
    int rc = check_seq(m, x, n, path);
    if (rc < 0 || n == 0)
        return rc;
    int32_t k = m->k, d = m->d;
    double *delta = malloc(sizeof *delta * (size_t)(2 * k));
    int32_t *from = malloc(sizeof *from * (size_t)n * (size_t)k);
    double la[HMM_MAX_STATES * HMM_MAX_STATES];
    if (!delta || !from) {
        rc = gt_seterr(GT_ENOMEM, "hmm: viterbi over %lld rows", (long long)n);
        goto out;
    }
    for (int32_t i = 0; i < k * k; i++)
        la[i] = log(m->a[i]);
    double *cur = delta, *nxt = delta + k;
    for (int32_t s = 0; s < k; s++)
        cur[s] = log(m->pi[s]) + log_density(m, s, x);
    for (int64_t t = 1; t < n; t++) {
        for (int32_t j = 0; j < k; j++) {
            double best = -INFINITY;
            int32_t arg = 0;
            for (int32_t i = 0; i < k; i++) {
                double v = cur[i] + la[i * k + j];
                if (v > best) {
                    best = v;
                    arg = i;
                }
            }
            nxt[j] = best + log_density(m, j, x + t * d);
            from[t * k + j] = arg;
        }
        double *tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    int32_t s = 0;
    for (int32_t j = 1; j < k; j++)
        if (cur[j] > cur[s])
            s = j;
    if (logp)
        *logp = cur[s];
    for (int64_t t = n - 1; t >= 0; t--) {
        path[t] = s;
        if (t > 0)
            s = from[t * k + s];
    }
out:
    free(delta);
    free(from);
    return rc;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* One M step from the posteriors: pi, A from expected counts, means and variances as
 * posterior-weighted moments, variances floored. */
static void m_step(gt_hmm *m, const double *x, int64_t n, const work *w, const double *floor_v)
{
    int32_t k = m->k, d = m->d;
    for (int32_t i = 0; i < k; i++) {
        m->pi[i] = w->post[i];
        double row = 0;
        for (int32_t j = 0; j < k; j++)
            row += w->xi[i * k + j];
        for (int32_t j = 0; j < k; j++)
            m->a[i * k + j] = row > 0 ? w->xi[i * k + j] / row : 1.0 / k;
        double g = 0;
        for (int64_t t = 0; t < n; t++)
            g += w->post[t * k + i];
        for (int32_t j = 0; j < d; j++) {
            double s1 = 0, s2 = 0;
            if (g > 0) {
                for (int64_t t = 0; t < n; t++)
                    s1 += w->post[t * k + i] * x[t * d + j];
                s1 /= g;
                for (int64_t t = 0; t < n; t++) {
                    double z = x[t * d + j] - s1;
                    s2 += w->post[t * k + i] * z * z;
                }
                s2 /= g;
                m->mean[i * d + j] = s1;
            }
            m->var[i * d + j] = s2 > floor_v[j] ? s2 : floor_v[j];
        }
    }
    prep(m);
}

int gt_hmm_fit(gt_hmm *m, const double *x, int64_t n, int32_t restarts, int32_t iters, double tol,
               uint64_t seed, double *loglik)
{
    int rc = check_seq(m, x, n, x);
    if (rc < 0)
        return rc;
    int32_t k = m->k, d = m->d;
    if (n < 2 * k)
        return gt_seterr(GT_EINVAL, "hmm: fit needs at least %d rows (2 per state), got %lld",
                         2 * k, (long long)n);
    if (restarts < 0 || iters < 1)
        return gt_seterr(GT_EINVAL, "hmm: fit needs restarts >= 0 and iters >= 1");
    for (int64_t i = 0; i < n * d; i++)
        if (!isfinite(x[i]))
            return gt_seterr(GT_EINVAL, "hmm: fit: row %lld column %lld is %g: need finite",
                             (long long)(i / d), (long long)(i % d), x[i]);
    double gmean[HMM_MAX_DIMS], gvar[HMM_MAX_DIMS], floor_v[HMM_MAX_DIMS];
    for (int32_t j = 0; j < d; j++) {
        double s = 0, ss = 0;
        for (int64_t t = 0; t < n; t++)
            s += x[t * d + j];
        gmean[j] = s / (double)n;
        for (int64_t t = 0; t < n; t++)
            ss += (x[t * d + j] - gmean[j]) * (x[t * d + j] - gmean[j]);
        gvar[j] = ss / (double)n > 0 ? ss / (double)n : 1e-12;
        floor_v[j] = gvar[j] * HMM_VAR_FLOOR;
    }
    work w;
    if ((rc = work_new(&w, n, k)) < 0)
        return rc;
    gt_hmm *best = gt_hmm_new(k, d), *cur = gt_hmm_new(k, d);
    if (!best || !cur) {
        rc = GT_ENOMEM;
        goto out;
    }
    double best_ll = -INFINITY;
    uint64_t st = seed;
    for (int32_t r = 0; r < (restarts > 0 ? restarts : 1); r++) {
        /* Start: means at k observations drawn at random, the data's variance, sticky
         * transitions (0.9 stay), uniform pi; or, with no restarts, m itself. */
        if (restarts == 0)
            gt_hmm_get(m, cur->pi, cur->a, cur->mean, cur->var);
        for (int32_t i = 0; restarts > 0 && i < k; i++) {
            int64_t t = (int64_t)(splitmix64(&st) % (uint64_t)n);
            cur->pi[i] = 1.0 / k;
            for (int32_t j = 0; j < k; j++)
                cur->a[i * k + j] = k == 1 ? 1.0 : i == j ? 0.9 : 0.1 / (k - 1);
            for (int32_t j = 0; j < d; j++) {
                cur->mean[i * d + j] = x[t * d + j];
                cur->var[i * d + j] = gvar[j];
            }
        }
        prep(cur);
        double prev = -INFINITY, ll = -INFINITY;
        int ok = 1;
        for (int32_t it = 0; it < iters; it++) {
            if (fb(cur, x, n, w.alpha, w.beta, w.emis, w.c, w.post, w.xi, &ll) < 0) {
                ok = 0;
                break;
            }
            if (it > 0 && ll - prev < tol * fabs(prev))
                break;
            prev = ll;
            m_step(cur, x, n, &w, floor_v);
        }
        /* ll belongs to the parameters before the last m_step when the loop ran out of
         * iterations: score the final parameters themselves. */
        if (ok && fb(cur, x, n, w.alpha, w.beta, w.emis, w.c, w.post, NULL, &ll) == GT_OK &&
            ll > best_ll) {
            best_ll = ll;
            gt_hmm_get(cur, best->pi, best->a, best->mean, best->var);
        }
    }
    if (best_ll == -INFINITY) {
        rc = gt_seterr(GT_ERANGE, "hmm: fit: every restart failed (degenerate data?)");
        goto out;
    }
    gt_hmm_get(best, m->pi, m->a, m->mean, m->var);
    prep(m);
    if (loglik)
        *loglik = best_ll;
    gt_clearerr();
out:
    gt_hmm_free(best);
    gt_hmm_free(cur);
    free(w.alpha);
    return rc;
}
