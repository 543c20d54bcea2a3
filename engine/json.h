/*
 * json.h: JSON for the engine and the Lua side. Parsing is cJSON's (one parser for provider
 * responses, saved runs and key files); Lua walks the parsed tree through gt_json nodes.
 * Writing is an exact-number writer: every finite double prints in the fewest significant
 * digits (15, 16 or 17) that read back to the same double, integers below 2^53 without a
 * fraction, NaN and Inf as null. The trades of a backtest encode here in one call, so a
 * result with tens of thousands of trades never becomes Lua tables just to be printed.
 *
 * Ownership: gt_json_parse returns a tree the caller frees with gt_json_free (NULL-safe);
 * nodes and their strings live as long as the tree. gt_json_trades returns a malloc'd text
 * the caller frees with gt_json_text_free.
 *
 * Declarations Lua calls are in gt_ffi.h; this header adds the C-only names.
 */
#ifndef GT_JSON_H
#define GT_JSON_H

#include "gt.h"

/* Longest text gt_json_number writes, with its NUL. */
#define GT_JSON_NUMBER_MAX 32

#endif
