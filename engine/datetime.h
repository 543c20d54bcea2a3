/*
 * datetime.h: time is int64 epoch microseconds UTC everywhere in gtengine. This unit
 * converts between that, civil dates (proleptic Gregorian, Howard Hinnant's days/civil
 * algorithms) and ISO-8601 text. Declarations are in gt_ffi.h.
 */
#ifndef GT_DATETIME_H
#define GT_DATETIME_H

#include "gt.h"

#define GT_US_PER_SEC INT64_C(1000000)
#define GT_US_PER_DAY INT64_C(86400000000)

#endif
