/*
 * Fuzz target for the plain status reader: the input is fed whole and then
 * split at a point taken from its first byte; both must agree, and the rows
 * must come out sorted without duplicates.
 */
#include "base/err.h"
#include "status/status_plain.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool parse(const uint8_t *data, size_t size, size_t split, struct status_rows *rows)
{
    struct err e = ERR_INIT;
    struct status_plain_parser p;
    status_plain_parser_init(&p, "fuzz", rows);
    bool ok = status_plain_parser_feed(&p, data, split, &e) &&
              status_plain_parser_feed(&p, data + split, size - split, &e) &&
              status_plain_parser_finish(&p, &e);
    if (!ok && (!e.msg || e.scope != ERR_FOLDER))
        abort();
    err_clear(&e);
    status_plain_parser_release(&p);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct status_rows a = STATUS_ROWS_INIT, b = STATUS_ROWS_INIT;
    size_t split = size ? data[0] % (size + 1) : 0;
    bool ok_a = parse(data, size, size, &a);
    bool ok_b = parse(data, size, split, &b);
    if (ok_a != ok_b || (ok_a && a.n != b.n))
        abort();
    for (size_t i = 0; ok_a && i < a.n; i++) {
        if (a.v[i].uid != b.v[i].uid || a.v[i].flags != b.v[i].flags ||
            a.v[i].mtime != b.v[i].mtime || (a.v[i].labels == NULL) != (b.v[i].labels == NULL) ||
            (a.v[i].labels && strcmp(a.v[i].labels, b.v[i].labels) != 0))
            abort();
        if (i > 0 && a.v[i - 1].uid >= a.v[i].uid)
            abort();
    }
    status_rows_free(&a);
    status_rows_free(&b);
    return 0;
}
