/*
 * Fuzz target for the intermediate mbnames file reader: whatever it accepts
 * must write back (mbnames_json_write) to a document that reads back to the
 * same items, and writing those again must give the same bytes.
 */
#include "cli/mbnames_json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const char *a, const char *b)
{
    return (a == NULL) == (b == NULL) && (!a || strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mbnames_items a = MBNAMES_ITEMS_INIT, b = MBNAMES_ITEMS_INIT;
    struct err e = ERR_INIT;
    if (!mbnames_json_parse((const char *)data, size, "fuzz", &a, &e)) {
        if (!e.msg || a.n != 0)
            abort();
        err_clear(&e);
        mbnames_items_free(&a);
        return 0;
    }
    struct buf w1, w2;
    buf_init(&w1, BUF_UNBOUNDED);
    buf_init(&w2, BUF_UNBOUNDED);
    mbnames_json_write(&a, &w1);
    if (!mbnames_json_parse(w1.data, w1.len, "again", &b, &e) || a.n != b.n)
        abort();
    for (size_t i = 0; i < a.n; i++)
        if (!same(a.v[i].account, b.v[i].account) || !same(a.v[i].folder, b.v[i].folder) ||
            !same(a.v[i].root, b.v[i].root))
            abort();
    mbnames_json_write(&b, &w2);
    if (w1.len != w2.len || memcmp(w1.data, w2.data, w1.len) != 0)
        abort();
    buf_release(&w1);
    buf_release(&w2);
    mbnames_items_free(&a);
    mbnames_items_free(&b);
    return 0;
}
