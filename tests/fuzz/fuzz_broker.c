/*
 * fuzz_broker.c: libFuzzer target for the Alpaca trading-API parsers (engine/broker.c).
 * The first byte picks what the body is parsed as (order, order list, position(s), fills,
 * cancel-all, close-all, account, clock); the rest is the body. Any input must give GT_OK
 * or a negative status, never a crash, leak or sanitizer report; on GT_OK every record
 * must hold what the parser promises (no NaN filled quantity, a known status, and the
 * count the result reports); on failure no record may be left.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int32_t kind = data[0] % 9;
    size_t n = size - 1;
    char *json = malloc(n ? n : 1); /* unterminated, so overreads show up under ASan */
    if (!json)
        return 0;
    memcpy(json, data + 1, n);
    gt_broker *b = gt_broker_new("http://127.0.0.1:1", 1);
    gt_broker_result res;
    int rc = b ? gt_broker_parse(b, kind, json, (int64_t)n, &res) : GT_OK;
    if (b && rc == GT_OK && (kind == GT_BROKER_ORDER || kind == GT_BROKER_ORDERS)) {
        int64_t i = 0;
        for (const gt_broker_order *o; (o = gt_broker_order_at(b, i)); i++)
            if (isnan(o->filled_qty) || o->filled_qty < 0 || !gt_alpaca_status_name(o->status) ||
                (isnan(o->qty) && isnan(o->notional)))
                abort();
        if (i != res.count)
            abort();
    }
    if (b && rc != GT_OK &&
        (gt_broker_order_at(b, 0) || gt_broker_position_at(b, 0) || gt_broker_fill_at(b, 0) ||
         gt_broker_item_at(b, 0)))
        abort();
    gt_broker_free(b);
    free(json);
    return 0;
}
