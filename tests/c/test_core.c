/* Unit tests for gt.c: status codes, the last-error message, the layout table. */
#include <stdint.h>

#include "gt.h"
#include "tap.h"

int main(void)
{
    is_str(gt_status_name(GT_OK), "GT_OK", "status 0 is GT_OK");
    is_str(gt_status_name(GT_EPARSE), "GT_EPARSE", "GT_EPARSE has its name");
    is_str(gt_strerror(GT_ENOMEM), "out of memory", "GT_ENOMEM message");
    is_str(gt_status_name(-9999), "GT_EUNKNOWN", "an unknown code is named as such");
    ok(GT_OK == 0 && GT_ENOMEM < 0 && GT_EDENIED < 0, "failures are negative");

    int rc = gt_seterr(GT_EPARSE, "%s:%d: %s", "a.csv", 7, "bad field");
    is_int(rc, GT_EPARSE, "gt_seterr returns its code");
    is_str(gt_errmsg(), "a.csv:7: bad field", "gt_errmsg holds the formatted message");
    gt_clearerr();
    is_str(gt_errmsg(), "", "gt_clearerr empties it");

    is_int(gt_abi_version(), GT_ABI_VERSION, "ABI version matches the header");
    ok(gt_version() && gt_version()[0], "version string is set");

    const gt_layout *t;
    int64_t n = gt_layout_table(&t);
    ok(n > 0, "layout table has rows");
    int found = 0;
    for (int64_t i = 0; i < n; i++)
        if (strcmp(t[i].type, "gt_layout") == 0 && t[i].field == NULL)
            found = t[i].size == (int64_t)sizeof(gt_layout);
    ok(found, "layout table gives gt_layout's size");
    return done_testing();
}
