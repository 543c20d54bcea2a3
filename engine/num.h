/*
 * num.h: decimal text -> double for the data parsers (CSV first), without strtod's
 * locale, whitespace skipping, hex, "nan"/"inf" or partial consumption. Every result is
 * bit-identical to strtod's for the same text. Pure functions; nothing is allocated
 * except a short-lived copy on the rare strtod fallback. C-only: Lua never calls these.
 */
#ifndef GT_NUM_H
#define GT_NUM_H

#include "gt.h"

/* Parses all of s[0..len): [+-] digits [. digits] [(e|E) [+-] digits], at least one
 * mantissa digit (".5" and "5." are fine). Returns GT_OK and sets *out, or GT_EPARSE for
 * anything else (empty, "1.2.3", "1e", "0x10", "nan", "inf", spaces) without touching
 * *out and without setting the error message (callers build their own, with the field).
 * Overflow gives +-inf and underflow +-0 or a denormal, exactly as strtod does. */
int gt_num_parse(const char *s, size_t len, double *out);

/* The longest number at the start of [s, e) by the same grammar (an 'e' without exponent
 * digits is left unread): returns the end of it and sets *out, or NULL when s does not
 * start with a number. Lets a CSV reader parse a field and find its end in one pass. */
const char *gt_num_scan(const char *s, const char *e, double *out);

/* How many gt_num_parse calls (process-wide) needed the strtod fallback: more than 19
 * significant digits, a mantissa above 2^53 or a power of ten beyond 1e22. Tests use it
 * to show ordinary price data never takes the slow path. */
int64_t gt_num_fallbacks(void);

#endif
