/*
 * Fuzz target for the UIDMapping parser.  Beyond not crashing it checks that
 * what parses formats to a text that parses back to the same map, and that
 * the map stays a bijection.
 */
#include "store/imapmap.h"

#include "base/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct imapmap m;
    imapmap_init(&m);
    struct err e = ERR_INIT;
    if (!imapmap_parse(&m, (const char *)data, size, "fuzz", &e)) {
        err_clear(&e);
        imapmap_release(&m);
        return 0;
    }
    size_t n = 0;
    uint32_t *loc = imapmap_locals(&m, &n);
    for (size_t i = 0; i < n; i++) {
        uint32_t r = imapmap_remote(&m, loc[i]);
        if (r == 0 || imapmap_local(&m, r) != loc[i])
            abort();
    }
    free(loc);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    imapmap_format(&m, &b);
    struct imapmap m2;
    imapmap_init(&m2);
    if (!imapmap_parse(&m2, b.data ? b.data : "", b.len, "again", &e))
        abort();
    struct buf b2;
    buf_init(&b2, BUF_UNBOUNDED);
    imapmap_format(&m2, &b2);
    if (b.len != b2.len || (b.len && memcmp(b.data, b2.data, b.len) != 0))
        abort();
    buf_release(&b);
    buf_release(&b2);
    imapmap_release(&m);
    imapmap_release(&m2);
    return 0;
}
