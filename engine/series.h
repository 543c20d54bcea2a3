/*
 * series.h: columnar bars. One symbol at one timeframe as six parallel arrays (struct of
 * arrays), oldest first. The series owns its columns; it is reference counted (views and
 * Lua columns hold references, gt_series_free drops one), and a view made by
 * gt_series_view borrows its parent's memory, has cap == 0 and keeps the parent alive.
 * Declarations are in gt_ffi.h so Lua reads the same struct; this header adds nothing
 * C-only yet.
 */
#ifndef GT_SERIES_H
#define GT_SERIES_H

#include "gt.h"

#endif
