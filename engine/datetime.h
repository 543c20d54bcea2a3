/*
 * datetime.h: time is int64 epoch microseconds UTC everywhere in gtengine. This unit
 * converts between that, civil dates (proleptic Gregorian, Howard Hinnant's days/civil
 * algorithms) and ISO-8601 text. Its FFI declarations are in the block below.
 */
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_DATETIME_H
#define GT_DATETIME_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- datetime (datetime.c): epoch microseconds UTC <-> civil time and text ---- */
/* Days from 1970-01-01 for a proleptic Gregorian date (any year, month 1-12). */
int64_t gt_days_from_civil(int64_t y, int64_t m, int64_t d);
/* Inverse: writes year, month (1-12), day (1-31). */
void gt_civil_from_days(int64_t days, int64_t *y, int64_t *m, int64_t *d);
/* Parses an ISO-8601 date or date-time: YYYY-MM-DD, then optionally [T or space]HH:MM[:SS[.f+]]
 * and Z or +HH:MM / -HH:MM (no zone means UTC). The whole of s[0..len) must be used.
 * Returns GT_OK and sets *us, or GT_EPARSE with a message. */
int gt_time_parse(const char *s, size_t len, int64_t *us);
/* Formats us as "YYYY-MM-DDTHH:MM:SS[.ffffff]Z", or "YYYY-MM-DD" when date_only and the
 * time is midnight. buf needs 32 bytes. Returns the length written. */
int gt_time_format(int64_t us, int date_only, char *buf, size_t size);
/* Day of week, 0 = Monday .. 6 = Sunday. */
int gt_weekday(int64_t us);
/* ---- end ffi ---- */


#define GT_US_PER_SEC INT64_C(1000000)
#define GT_US_PER_DAY INT64_C(86400000000)

#endif
