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

#include "metrics.h"
#include "series.h"

#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
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

/* The Sharpe ratio of a union of blocks as a key whose order is the Sharpe ratio's: with s1,
 * s2 the sums of returns and squared returns over n bars, SR = (s1 / n) / sqrt((n s2 - s1^2)
 * / (n (n - 1))), so sign(SR) SR^2 = c s1 |s1| / (n s2 - s1^2) for a constant c > 0 shared
 * by every strategy of one split; x |x| is strictly increasing, so the key s1 |s1| / (n s2 -
 * s1^2) orders strategies exactly as their Sharpe ratios, with no square root. No variance:
 * Sharpe 0. Written without a branch (the division never sees a zero) so the loop over the
 * strategies vectorises; identical sums give identical keys, so equal strategies tie. */
static inline double sr_key(double s1, double s2, double n, double thr)
{
    double d = n * s2 - s1 * s1;
    int ok = d > thr;
    return (ok ? s1 * fabs(s1) : 0.0) / (ok ? d : 1.0);
}

static int64_t binom(int32_t n, int32_t k)
{
    if (k < 0 || k > n)
        return 0;
    int64_t c = 1;
    for (int32_t i = 1; i <= k; i++)
        c = c * (n - k + i) / i;
    return c;
}

/* One thread's share of the splits: those that hold block 0, numbered 0.. in lexicographic
 * order of the picked blocks, first..last-1; split idx writes logits 2 idx (its training
 * set in sample) and 2 idx + 1 (its complement), wherever it runs. */
typedef struct cscv_job {
    const double *b1, *b2, *tot1, *tot2, *cnt;
    size_t n;
    int32_t blocks;
    double ntot;
    int64_t first, last;
    double *logits;
    double *mem; /* (2 half + 2) n doubles of scratch */
} cscv_job;

static void *cscv_run(void *arg)
{
    cscv_job *jb = arg;
    const size_t N = jb->n;
    const int32_t blocks = jb->blocks, half = blocks / 2;
    const double *b1 = jb->b1, *b2 = jb->b2, *tot1 = jb->tot1, *tot2 = jb->tot2, *cnt = jb->cnt;
    double *p1 = jb->mem, *p2 = p1 + N * (size_t)half, *ka = p2 + N * (size_t)half, *kb = ka + N;
    /* the first split's picks: unrank jb->first among the combinations with pick[0] = 0 */
    int32_t pick[GT_OPT_CSCV_MAX_BLOCKS];
    int64_t r = jb->first;
    pick[0] = 0;
    for (int32_t i = 1, v = 1; i < half; i++, v++) {
        for (;;) {
            int64_t c = binom(blocks - 1 - v, half - 1 - i);
            if (r < c)
                break;
            r -= c;
            v++;
        }
        pick[i] = v;
    }
    /* Rows of running in-sample sums, one per position of the pick (row i: blocks
     * pick[0..i]). In lexicographic order most steps change only the last pick, so rows
     * 0..i-1 stay valid and a step costs one vector add, not half of them; the sums are
     * added in the same order as summing the picked blocks afresh, to the same bits. */
    int32_t stale = 0;
    for (int64_t idx = jb->first; idx < jb->last; idx++) {
        for (int32_t i = stale; i < half; i++) {
            const double *x1 = b1 + (size_t)pick[i] * N, *x2 = b2 + (size_t)pick[i] * N;
            double *r1 = p1 + (size_t)i * N, *r2 = p2 + (size_t)i * N;
            if (i == 0) {
                memcpy(r1, x1, N * sizeof(double));
                memcpy(r2, x2, N * sizeof(double));
            } else {
                const double *q1 = r1 - N, *q2 = r2 - N;
                for (size_t j = 0; j < N; j++) {
                    r1[j] = q1[j] + x1[j];
                    r2[j] = q2[j] + x2[j];
                }
            }
        }
        const double *is1 = p1 + (size_t)(half - 1) * N, *is2 = p2 + (size_t)(half - 1) * N;
        double nin = 0;
        for (int32_t i = 0; i < half; i++)
            nin += cnt[pick[i]];
        double nout = jb->ntot - nin;
        double thr_in = 1e-24 * nin * (nin - 1), thr_out = 1e-24 * nout * (nout - 1);
        for (size_t j = 0; j < N; j++) {
            ka[j] = sr_key(is1[j], is2[j], nin, thr_in);
            kb[j] = sr_key(tot1[j] - is1[j], tot2[j] - is2[j], nout, thr_out);
        }
        /* n*: the best in sample on each side (the lowest index among equals) */
        size_t ba = 0, bb = 0;
        double ma = ka[0], mb = kb[0];
        for (size_t j = 1; j < N; j++) {
            if (ka[j] > ma) {
                ma = ka[j];
                ba = j;
            }
            if (kb[j] > mb) {
                mb = kb[j];
                bb = j;
            }
        }
        /* its rank out of sample: 1 = worst .. N = best, ties averaged; side a's best is
         * ranked on the b keys and side b's on the a keys */
        double va = kb[ba], vb = ka[bb];
        int64_t la = 0, ea = 0, lb = 0, eb = 0;
        for (size_t j = 0; j < N; j++) {
            la += kb[j] < va;
            ea += kb[j] == va;
            lb += ka[j] < vb;
            eb += ka[j] == vb;
        }
        /* every strategy ties in sample (no trades, say): nothing was selected, so the
         * split says nothing about overfitting. Side a ties throughout exactly when every a
         * key equals side b's pick's (eb == N), and the other way round. */
        for (int side = 0; side < 2; side++) {
            double *out = jb->logits + 2 * idx + side;
            if ((side ? ea : eb) == (int64_t)N) {
                *out = NAN;
                continue;
            }
            double rank = (double)(side ? lb : la) + ((double)(side ? eb : ea) + 1) / 2.0;
            double w = rank / ((double)N + 1);
            *out = log(w / (1 - w));
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
        stale = i;
    }
    return NULL;
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
    int32_t half = blocks / 2;
    /* A split and its complement are both splits, with training and test swapped: the half
     * of them that holds block 0 (pairs) are scored each from one set of sums. Large
     * searches spread the pairs over threads; each pair's logits land at the same place
     * whatever the thread count, so the result does not depend on it. */
    int64_t pairs = splits / 2;
    int32_t nth = 1;
    if ((double)pairs * (double)N > 4e6)
        nth = GT_MIN(gt_opt_cores(), 8);
    size_t per = N * (2 * (size_t)half + 2);
    /* huge pages: for 15,000 strategies this is 8 MB, which in 4 KB pages faulted in at a
     * cost perf could see */
    size_t nmem = N * (2 * (size_t)blocks + 2) + per * (size_t)nth;
    double *mem = gt_alloc_big(nmem, sizeof(double));
    if (!mem)
        return gt_seterr(GT_ENOMEM, "cscv: %lld strategies", (long long)nstrat);
    /* block-major copies (b1[b * N + j]) so a split's in-sample sums are contiguous vector
     * adds; tot1/tot2 the sums over all blocks */
    double *b1 = mem, *b2 = b1 + N * (size_t)blocks, *tot1 = b2 + N * (size_t)blocks;
    double *tot2 = tot1 + N, *scratch = tot2 + N;
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
    cscv_job jobs[8];
    pthread_t tid[8];
    int started[8] = {0};
    for (int32_t t = 0; t < nth; t++) {
        jobs[t] = (cscv_job){b1, b2, tot1, tot2, cnt, N, blocks, ntot, pairs * t / nth,
                             pairs * (t + 1) / nth, logits, scratch + per * (size_t)t};
        /* the first share runs on this thread, after the others are started */
        if (t > 0)
            started[t] = pthread_create(&tid[t], NULL, cscv_run, &jobs[t]) == 0;
    }
    cscv_run(&jobs[0]);
    for (int32_t t = 1; t < nth; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            cscv_run(&jobs[t]); /* no thread to be had: do its share here */
    }
    gt_free_big(mem, nmem, sizeof(double));
    return 2 * pairs;
}

/* The per-bar returns of equity (r[i - 1] = e[i] / e[i - 1] - 1) and, in the same loop
 * (its divisions leave room for two more chains of additions), the block sums of
 * gt_opt_moments' layout into out[4..]: out[4] the block length, 0 without blocks. */
static void returns_and_blocks(const double *e, int64_t n, int32_t blocks, double *r, double *out)
{
    int64_t t = n - 1, len = blocks >= 2 ? t / blocks : 0;
    out[4] = 0;
    if (len < 2) {
        gt_opt_returns(e, n, r);
        return;
    }
    /* the oldest t mod blocks returns are left out so the blocks are equal */
    int64_t first = t - len * blocks, i = 1;
    for (; i <= first; i++)
        r[i - 1] = e[i] / e[i - 1] - 1.0;
    for (int32_t b = 0; b < blocks; b++) {
        double x = 0, y = 0;
        for (int64_t end = i + len; i < end; i++) {
            double v = e[i] / e[i - 1] - 1.0;
            r[i - 1] = v;
            x += v;
            y += v * v;
        }
        out[5 + b] = x;
        out[5 + blocks + b] = y;
    }
    out[4] = (double)len;
}

/* The moments of per-bar returns r[0..t-1] into out[0..3] (the block sums are in out[4..]
 * already); sums: the sums of r and of d^2, d^3, d^4 (d = r - mean) when
 * gt_stats_compute_ret has made them, else NULL. Returns the count of out's values. */
static int64_t moments_of(const double *r, int64_t t, const double *sums, int32_t blocks,
                          double *out)
{
    double s1 = 0, m2 = 0, m3 = 0, m4 = 0, dt = (double)t, mean;
    if (sums) {
        s1 = sums[0];
        mean = t > 0 ? s1 / dt : NAN;
        m2 = sums[1];
        m3 = sums[2];
        m4 = sums[3];
    } else {
        for (int64_t i = 0; i < t; i++)
            s1 += r[i];
        mean = t > 0 ? s1 / dt : NAN;
        for (int64_t i = 0; i < t; i++) {
            double d = r[i] - mean, d2 = d * d;
            m2 += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
        }
    }
    m2 /= dt;
    m3 /= dt;
    m4 /= dt;
    double sd = t > 1 ? sqrt(m2 * dt / (dt - 1)) : NAN;
    out[0] = dt;
    out[1] = sd > 0 ? mean / sd : NAN;
    out[2] = m2 > 0 ? m3 / pow(m2, 1.5) : NAN;
    out[3] = m2 > 0 ? m4 / (m2 * m2) : NAN;
    return out[4] > 0 ? 5 + 2 * (int64_t)blocks : 5;
}

void gt_opt_returns(const double *x, int64_t n, double *out)
{
    for (int64_t i = 1; i < n; i++)
        out[i - 1] = x[i] / x[i - 1] - 1.0;
}

int64_t gt_opt_moments(const double *equity, int64_t n, int32_t blocks, double *out)
{
    if (!equity || !out || n < 1 || blocks > GT_OPT_CSCV_MAX_BLOCKS)
        return gt_seterr(GT_EINVAL, "moments: needs an equity curve, an output and blocks <= %d",
                         GT_OPT_CSCV_MAX_BLOCKS);
    double *r = malloc(sizeof(double) * (size_t)(n > 1 ? n - 1 : 1));
    if (!r)
        return gt_seterr(GT_ENOMEM, "moments: %lld bars", (long long)n);
    returns_and_blocks(equity, n, blocks, r, out);
    int64_t k = moments_of(r, n - 1, NULL, blocks, out);
    free(r);
    return k;
}

int64_t gt_opt_bt_stats(const gt_bt *bt, const gt_stats_input *base, const double *bench_ret,
                        double *scratch, int32_t blocks, gt_stats *stats, double *moments)
{
    const double *eq;
    const uint8_t *im;
    const gt_trade *tr;
    int64_t n = gt_bt_equity(bt, &eq);
    if (!base || n != base->n || n < 1 || blocks > GT_OPT_CSCV_MAX_BLOCKS)
        return gt_seterr(GT_EINVAL, "optimize: a finished run over the whole series (%lld of %lld bars)",
                         (long long)n, base ? (long long)base->n : 0LL);
    gt_bt_in_market(bt, &im);
    int64_t m = gt_bt_trades(bt, &tr);
    double *r = scratch ? scratch : malloc(sizeof(double) * (size_t)(n > 1 ? n - 1 : 1));
    if (!r)
        return gt_seterr(GT_ENOMEM, "optimize: %lld bars", (long long)n);
    returns_and_blocks(eq, n, blocks, r, moments);
    gt_stats_input in = *base;
    in.equity = eq;
    in.in_market = im;
    in.trades = tr;
    in.m = m;
    double sums[4];
    int64_t rc = gt_stats_compute_ret(&in, r, bench_ret, sums, stats);
    if (rc >= 0)
        rc = moments_of(r, n - 1, sums, blocks, moments);
    if (r != scratch)
        free(r);
    return rc;
}

void gt_opt_keep_memory(void)
{
    /* glibc serves blocks of 128 KB and more with mmap, but once such a block is freed it
     * raises that threshold to the block's size (up to 32 MB), so the next million-bar
     * array comes from the heap in 4 KB pages: the same arrays allocated and freed for
     * every combination then fault in page by page (on this virtual machine, 17 ms for 16
     * MB). A fixed threshold keeps every large block in mmap, where gt_calloc_big's huge
     * pages fault in 2 MB at a time (1.5 ms for the same 16 MB). Smaller blocks stay in
     * the heap, and glibc trims its top back to the kernel beyond 128 KB: a 10,000-bar
     * combination's few hundred KB were given back and faulted in again every time (brk
     * and its TLB flushes were a third of such a search). Keep them instead. */
    mallopt(M_MMAP_THRESHOLD, 512 << 10);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    gt_mem_keep(1); /* and the engine's own big blocks (gt_alloc_big) likewise */
}

int64_t *gt_opt_counter_new(void)
{
    void *p = mmap(NULL, sizeof(int64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        gt_seterr(GT_ENOMEM, "counter: %s", strerror(errno));
        return NULL;
    }
    *(int64_t *)p = 0;
    return p;
}

int64_t gt_opt_counter_take(int64_t *c, int64_t n)
{
    return __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

void gt_opt_counter_free(int64_t *c)
{
    if (c)
        munmap(c, sizeof(int64_t));
}

int64_t gt_opt_fork(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return gt_seterr(GT_EIO, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* the child: the parent stops it with SIGTERM and Ctrl-C reaches it through the
         * process group; either ends it at once (the parent keeps what it wrote), since the
         * host's graceful handler relies on a watchdog thread a fork does not copy */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
    }
    return pid;
}

void gt_opt_exit(int32_t status)
{
    _exit(status);
}

int32_t gt_opt_wait(int64_t pid, int32_t block)
{
    int st = 0;
    pid_t r;
    do
        r = waitpid((pid_t)pid, &st, block ? 0 : WNOHANG);
    while (r < 0 && errno == EINTR && block);
    if (r == 0)
        return -1;
    if (r < 0)
        return gt_seterr(GT_EINVAL, "wait %lld: %s", (long long)pid, strerror(errno));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int gt_opt_kill(int64_t pid)
{
    if (pid <= 0 || kill((pid_t)pid, SIGTERM) < 0)
        return gt_seterr(GT_EINVAL, "kill %lld: %s", (long long)pid, strerror(errno));
    return GT_OK;
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
