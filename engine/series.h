/*
 * series.h: columnar bars. One symbol at one timeframe as six parallel arrays (struct of
 * arrays), oldest first. The series owns its columns (freed by gt_series_free); a view
 * made by Lua's series:slice borrows them and has cap == 0. Declarations are in
 * gt_ffi.h so Lua reads the same struct; this header adds nothing C-only yet.
 */
#ifndef GT_SERIES_H
#define GT_SERIES_H

#include "gt.h"

#endif
