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
#include "gt.h" /* first: it gathers every domain's FFI block, in dependency order */
#ifndef GT_JSON_H
#define GT_JSON_H

/* ---- ffi: the declarations Lua sees (gt_ffi.h gathers this block) ---- */
/* ---- JSON (json.c): cJSON parsing as a walkable tree, exact numbers, trades ---- */
/* A node of a parsed document; the root is the document and owns every node. */
typedef struct gt_json gt_json;
enum gt_json_type {
    GT_JSON_NULL = 0,
    GT_JSON_FALSE = 1,
    GT_JSON_TRUE = 2,
    GT_JSON_NUMBER = 3,
    GT_JSON_STRING = 4,
    GT_JSON_ARRAY = 5,
    GT_JSON_OBJECT = 6
};
/* Parses len bytes of text (standard JSON; only whitespace may follow the value). Returns
 * the root or NULL with the message ("JSON: malformed at byte N near 'x'") set. */
gt_json *gt_json_parse(const char *text, int64_t len);
void gt_json_free(gt_json *doc);
int gt_json_type(const gt_json *node);
/* First element or member of an array or object (NULL when empty or a scalar). */
const gt_json *gt_json_child(const gt_json *node);
/* The following element or member (NULL after the last). */
const gt_json *gt_json_next(const gt_json *node);
/* A member's key (NULL for array elements), a string's value (NULL when not a string), a
 * number's value (NaN when not a number). */
const char *gt_json_key(const gt_json *node);
const char *gt_json_string(const gt_json *node);
double gt_json_value(const gt_json *node);
/* Writes x as JSON into buf (32 bytes): the shortest of %.15g/%.16g/%.17g that reads back
 * as x (the shortest text for normal doubles), an integer below 2^53 without a fraction, null for NaN and Inf. Returns the length. */
int gt_json_number(double x, char *buf);
/* Encodes m trades as a JSON array of objects with sorted keys (duration, entry_bar,
 * entry_price, entry_time, exit_bar, exit_price, exit_time, fees, pnl, return_pct, size,
 * symbol), times as gt_time_format date-only text; an open trade (exit_bar < 0) has no
 * duration nor exit_time. symbols[trade.symbol] names the symbol (left out when outside
 * nsym). *out gets a malloc'd NUL-terminated text to free with gt_json_text_free. Returns
 * its length or a negative status. */
int64_t gt_json_trades(const gt_trade *t, int64_t m, const char *const *symbols, int64_t nsym,
                       char **out);
void gt_json_text_free(char *text);
/* ---- end ffi ---- */


/* Longest text gt_json_number writes, with its NUL. */
#define GT_JSON_NUMBER_MAX 32

#endif
