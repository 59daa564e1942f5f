/*
 * libFuzzer target for imap_utf7.  The input is tried as a modified UTF-7
 * name and as a UTF-8 name.  Whatever decodes must encode back to the same
 * bytes (the decoder accepts only canonical forms), and whatever encodes must
 * decode back to the same UTF-8.
 */
#include "imap/imap_utf7.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const struct buf *a, const void *b, size_t n, const char *what)
{
    if (a->len != n || memcmp(a->data, b, n) != 0) {
        fprintf(stderr, "%s: round trip changed the name\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    struct buf dec, enc;
    struct err e = ERR_INIT;
    buf_init(&dec, 1u << 16);
    buf_init(&enc, 1u << 16);

    /* mUTF-7 -> UTF-8 -> mUTF-7 */
    if (imap_mutf7_to_utf8(in, size, &dec, &e)) {
        if (!imap_utf8_to_mutf7(dec.data, dec.len, &enc, &e)) {
            fprintf(stderr, "decoded name does not encode: %s\n", e.msg);
            abort();
        }
        check_same(&enc, in, size, "decode+encode");
        if (imap_mutf7_is_plain(in, size) && (dec.len != size || memcmp(dec.data, in, size)))
            abort();
    } else if (!e.msg) {
        abort();
    }
    err_clear(&e);

    /* UTF-8 -> mUTF-7 -> UTF-8 */
    buf_reset(&dec);
    buf_reset(&enc);
    if (imap_utf8_to_mutf7(in, size, &enc, &e)) {
        for (size_t i = 0; i < enc.len; i++)
            if (enc.data[i] < 0x20 || enc.data[i] > 0x7e)
                abort(); /* the encoding is printable ASCII only */
        if (!imap_mutf7_to_utf8(enc.data, enc.len, &dec, &e)) {
            fprintf(stderr, "encoded name does not decode: %s\n", e.msg);
            abort();
        }
        check_same(&dec, in, size, "encode+decode");
    } else if (!e.msg) {
        abort();
    }
    err_clear(&e);
    buf_release(&dec);
    buf_release(&enc);
    return 0;
}
