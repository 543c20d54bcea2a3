/*
 * opt_plain.c: the plain C baseline for the optimiser benchmark. Reads a
 * Date,Open,High,Low,Close,Volume CSV with fgets + strtod, then for every pair fast < slow
 * of the ranges given computes SMA(fast) and SMA(slow) (prefix sums), the crossover and the
 * all-in equity with next-open fills (no costs, whole units), and prints the best final
 * equity and the number of pairs. What `gtengine optimize --strategy sma_cross` does per
 * combination, with nothing else: no validation, no statistics, no processes, no storage.
 * usage: opt_plain FILE FAST_LO FAST_HI FAST_STEP SLOW_LO SLOW_HI SLOW_STEP
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double run(const double *o, const double *c, const double *ps, size_t n, int fast, int slow)
{
    double cash = 10000, units = 0;
    int pending = 0; /* +1 buy, -1 sell at the next open */
    double pf = NAN, pl = NAN;
    for (size_t i = 0; i < n; i++) {
        if (pending > 0 && units == 0) {
            units = floor(cash / o[i]);
            cash -= units * o[i];
        } else if (pending < 0 && units > 0) {
            cash += units * o[i];
            units = 0;
        }
        pending = 0;
        double f = i + 1 >= (size_t)fast ? (ps[i + 1] - ps[i + 1 - fast]) / fast : NAN;
        double s = i + 1 >= (size_t)slow ? (ps[i + 1] - ps[i + 1 - slow]) / slow : NAN;
        if (f > s && pf <= pl)
            pending = 1;
        if (f < s && pf >= pl)
            pending = -1;
        pf = f;
        pl = s;
    }
    return cash + units * c[n - 1];
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr,
                "usage: opt_plain FILE FAST_LO FAST_HI FAST_STEP SLOW_LO SLOW_HI SLOW_STEP\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    int a[6];
    for (int k = 0; k < 6; k++)
        a[k] = atoi(argv[2 + k]);
    size_t cap = 1 << 20, n = 0;
    double *o = malloc(cap * 8), *c = malloc(cap * 8);
    char line[256];
    if (!o || !c || !fgets(line, sizeof line, f))
        return 1;
    while (fgets(line, sizeof line, f)) {
        if (n == cap) {
            cap *= 2;
            o = realloc(o, cap * 8);
            c = realloc(c, cap * 8);
            if (!o || !c)
                return 1;
        }
        char *p = strchr(line, ',');
        if (!p)
            continue;
        o[n] = strtod(p + 1, &p);
        strtod(p + 1, &p);
        strtod(p + 1, &p);
        c[n] = strtod(p + 1, &p);
        n++;
    }
    fclose(f);
    double *ps = malloc((n + 1) * 8);
    if (!ps || n < 2)
        return 1;
    ps[0] = 0;
    for (size_t i = 0; i < n; i++)
        ps[i + 1] = ps[i] + c[i];
    double best = -INFINITY;
    long pairs = 0;
    for (int fa = a[0]; fa <= a[1]; fa += a[2])
        for (int sl = a[3]; sl <= a[4]; sl += a[5]) {
            if (fa >= sl)
                continue;
            double e = run(o, c, ps, n, fa, sl);
            if (e > best)
                best = e;
            pairs++;
        }
    printf("%ld pairs, best final equity %.2f\n", pairs, best);
    free(o);
    free(c);
    free(ps);
    return 0;
}
