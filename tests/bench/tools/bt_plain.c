/*
 * bt_plain.c: the plain C baseline for the end-to-end backtest benchmark. Reads a
 * Date,Open,High,Low,Close,Volume CSV with fgets + strtod, computes SMA(10/30), the
 * crossover and the all-in equity with next-open fills (no costs, whole units), and prints
 * the final equity. It does what `gtengine backtest --strategy sma_cross` does for that
 * file, with nothing else: no validation, no orders kept, no metrics.
 * usage: bt_plain FILE
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bt_plain FILE.csv\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    size_t cap = 1 << 20, n = 0;
    double *o = malloc(cap * 8), *c = malloc(cap * 8);
    char line[256];
    if (!fgets(line, sizeof line, f)) /* header */
        return 1;
    while (fgets(line, sizeof line, f)) {
        if (n == cap) {
            cap *= 2;
            o = realloc(o, cap * 8);
            c = realloc(c, cap * 8);
        }
        char *p = strchr(line, ',');
        if (!p)
            continue;
        o[n] = strtod(p + 1, &p);
        strtod(p + 1, &p);        /* high */
        strtod(p + 1, &p);        /* low */
        c[n] = strtod(p + 1, &p); /* close */
        strtod(p + 1, &p);        /* volume */
        n++;
    }
    fclose(f);
    double *eq = malloc(n * 8);
    double sf = 0, ss = 0, pf = NAN, ps = NAN, cash = 10000, pos = 0, pend = 0;
    int have = 0;
    for (size_t i = 0; i < n; i++) {
        if (have) {
            if (pend > 0) {
                double q = pend * o[i] > cash ? floor(cash / o[i]) : pend;
                cash -= q * o[i];
                pos += q;
            } else {
                cash += pos * o[i];
                pos = 0;
            }
            have = 0;
        }
        sf += c[i] - (i >= 10 ? c[i - 10] : 0);
        ss += c[i] - (i >= 30 ? c[i - 30] : 0);
        double fa = i >= 9 ? sf / 10 : NAN, sa = i >= 29 ? ss / 30 : NAN;
        if (fa > sa && pf <= ps && pos == 0) {
            pend = floor((cash + pos * c[i]) / c[i] + 1e-9);
            have = pend > 0;
        } else if (fa < sa && pf >= ps && pos > 0) {
            pend = -pos;
            have = 1;
        }
        pf = fa;
        ps = sa;
        eq[i] = cash + pos * c[i];
    }
    printf("%.2f\n", n ? eq[n - 1] + 0 * pos : 0);
    free(o);
    free(c);
    free(eq);
    return 0;
}
