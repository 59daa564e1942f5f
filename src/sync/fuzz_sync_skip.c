/*
 * Fuzz target for the skip list's file format: beyond not crashing, a list
 * that parses is written out again and must read back to the same bytes.
 */
#include "sync/sync_skip.h"

#include "base/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct skip_list l = {0}, again = {0};
    if (sync_skip_parse(&l, (const char *)data, size)) {
        struct buf a, b;
        buf_init(&a, 1u << 26);
        buf_init(&b, 1u << 26);
        sync_skip_render(&l, &a);
        if (!sync_skip_parse(&again, a.data, a.len) || again.n != l.n)
            abort();
        sync_skip_render(&again, &b);
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
            abort();
        buf_release(&a);
        buf_release(&b);
    }
    sync_skip_free(&l);
    sync_skip_free(&again);
    return 0;
}
