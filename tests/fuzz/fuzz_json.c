/*
 * fuzz_json.c: libFuzzer target for gt_json_parse (engine/json.c), the one JSON reader the
 * Lua side uses (gt.json.decode: saved runs, key files, --json output read back). Any input
 * must parse or fail with a message, never crash, leak or trip a sanitizer; a parsed tree
 * is walked the way gt.json.decode walks it, every number written back with
 * gt_json_number must read back as the same double.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const gt_json *n, int depth)
{
    for (; n; n = gt_json_next(n)) {
        const char *k = gt_json_key(n);
        if (k && strlen(k) > (size_t)1 << 30)
            abort();
        switch (gt_json_type(n)) {
        case GT_JSON_NUMBER: {
            char buf[GT_JSON_NUMBER_MAX];
            double x = gt_json_value(n);
            gt_json_number(x, buf);
            if (isfinite(x) && strtod(buf, NULL) != x)
                abort();
            break;
        }
        case GT_JSON_STRING:
            if (!gt_json_string(n))
                abort();
            break;
        case GT_JSON_ARRAY:
        case GT_JSON_OBJECT:
            walk(gt_json_child(n), depth + 1);
            break;
        default:
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy without a terminating NUL, so reading past size shows up under ASan */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    gt_json *doc = gt_json_parse(text, (int64_t)size);
    if (doc)
        walk(doc, 0);
    else if (!gt_errmsg()[0])
        abort(); /* a failure always says why */
    gt_json_free(doc);
    free(text);
    return 0;
}
