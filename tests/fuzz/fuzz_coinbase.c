/*
 * fuzz_coinbase.c: libFuzzer target for the coinbase response parser (engine/provider.c). Any
 * input must give GT_OK or a negative status, never a crash, leak or sanitizer report;
 * on GT_OK the series must hold strictly increasing timestamps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* cJSON_ParseWithLength reads exactly size bytes; a copy keeps the input unterminated
     * so overreads show up under ASan. */
    char *json = malloc(size ? size : 1);
    if (!json)
        return 0;
    memcpy(json, data, size);
    gt_series *s = gt_series_new(0);
    gt_provider_page pg;
    gt_provider_parse_coinbase(s, json, (int64_t)size, INT64_MIN, INT64_MAX, &pg);
    gt_provider_parse_coinbase(s, json, (int64_t)size, 0, INT64_MAX, &pg);
    for (int64_t i = 1; s && i < s->n; i++)
        if (s->ts[i] <= s->ts[i - 1])
            abort();
    gt_series_free(s);
    free(json);
    return 0;
}
