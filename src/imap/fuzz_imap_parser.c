/*
 * libFuzzer target for imap_parser and every decoder of imap_decode.
 *
 * The input is what a server sends.  A hash of it seeds the points where the
 * input is split between feeds and the size from which literals are
 * streamed, so corpus files stay plain protocol text.  The input is parsed
 * four ways: whole and split, each without and with a streaming literal
 * handler.  Split and whole runs must give the same responses, errors and
 * streamed bytes; every decoder runs on every response and must either
 * decode it or fail cleanly.
 */
#include "imap/imap_decode.h"
#include "imap/imap_parser.h"
#include "imap/imap_utf7.h"

#include "base/buf.h"
#include "base/uidset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fnv1a(const void *p, size_t n, uint64_t h)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

struct stream_ctx {
    uint64_t min;       /* stream literals of at least this size */
    uint64_t refuse_at; /* fail data() once this many bytes of one literal arrived (0: never) */
    uint64_t got, hash;
    struct buf *dump;
};

static bool s_begin(void *ctx, const struct imap_literal_info *info)
{
    struct stream_ctx *s = ctx;
    if (info->size < s->min)
        return false;
    /* Read every field, so that the sanitizer checks them. */
    buf_printf(s->dump, "[begin %llu %u %s %s %s]", (unsigned long long)info->size, info->depth,
               info->resp_number ? info->resp_number : "-", info->resp_name ? info->resp_name : "-",
               info->prev_atom ? info->prev_atom : "-");
    s->got = 0;
    s->hash = 0xcbf29ce484222325ULL;
    return true;
}

static bool s_data(void *ctx, const void *data, size_t len, struct err *e)
{
    struct stream_ctx *s = ctx;
    if (len == 0)
        abort(); /* the parser never hands over nothing */
    /* Refusal depends on the byte count only, so it happens the same way in every split. */
    if (s->refuse_at && s->got + len >= s->refuse_at) {
        err_set(e, ERR_MSG, ERRK_NOSPACE, "refused at %llu", (unsigned long long)s->refuse_at);
        return false;
    }
    s->got += len;
    s->hash = fnv1a(data, len, s->hash);
    return true;
}

static bool s_end(void *ctx, struct err *e)
{
    struct stream_ctx *s = ctx;
    buf_printf(s->dump, "[end %llu %016llx]", (unsigned long long)s->got,
               (unsigned long long)s->hash);
    return true;
}

static void touch_args(const struct imap_arg *a, size_t n, uint64_t *h)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].type == IMAP_ARG_LIST)
            touch_args(a[i].list, (size_t)a[i].len, h);
        else if (a[i].str)
            *h = fnv1a(a[i].str, (size_t)a[i].len + 1, *h);
    }
}

/* Run every decoder; record which succeeded. */
static void decode_all(const struct imap_resp *r, struct buf *dump)
{
    const size_t max = 1000;
    struct err e = ERR_INIT;
    uint64_t h = 0;
    unsigned ok = 0, bit = 0;
    touch_args(r->args, r->count, &h);
    touch_args(r->code_args, r->code_count, &h);

    struct imap_caps caps;
    imap_caps_init(&caps);
    ok |= (unsigned)imap_decode_capability(r, &caps, &e) << bit++;
    for (size_t i = 0; i < caps.auth.n; i++)
        h = fnv1a(caps.auth.v[i], strlen(caps.auth.v[i]), h);
    imap_caps_release(&caps);
    err_clear(&e);

    uint64_t bits = 0;
    ok |= (unsigned)imap_decode_enabled(r, &bits, &e) << bit++;
    err_clear(&e);

    struct imap_list_entry le;
    if (imap_decode_list(r, &le, &e)) {
        ok |= 1u << bit;
        h = fnv1a(le.name, strlen(le.name), h);
        struct buf u;
        buf_init(&u, 4096);
        if (imap_mutf7_to_utf8(le.name, strlen(le.name), &u, &e))
            h = fnv1a(u.data, u.len, h);
        buf_release(&u);
    }
    bit++;
    err_clear(&e);

    struct imap_status_resp st;
    ok |= (unsigned)imap_decode_status(r, &st, &e) << bit++;
    err_clear(&e);

    struct imap_fetch f;
    if (imap_decode_fetch(r, &f, &e)) {
        ok |= 1u << bit;
        for (size_t i = 0; i < f.flag_count; i++)
            h = fnv1a(f.flags[i].str, strlen(f.flags[i].str), h);
        for (size_t i = 0; i < f.label_count; i++)
            h = fnv1a(f.labels[i].str, strlen(f.labels[i].str), h);
        for (size_t i = 0; i < f.body_count; i++) {
            const struct imap_fetch_body *b = &f.bodies[i];
            h = fnv1a(b->item, strlen(b->item), h);
            h = fnv1a(b->section, b->section_len, h);
            if (b->data)
                h = fnv1a(b->data, (size_t)b->size, h);
        }
    }
    bit++;
    err_clear(&e);

    const struct imap_arg *flags;
    size_t nflags;
    ok |= (unsigned)imap_decode_flags(r, &flags, &nflags, &e) << bit++;
    err_clear(&e);

    struct uidvec v = UIDVEC_INIT;
    uint64_t modseq;
    ok |= (unsigned)imap_decode_search(r, max, &v, &modseq, &e) << bit++;
    err_clear(&e);
    if (v.n > max)
        abort();
    uidvec_free(&v);

    struct imap_esearch es;
    ok |= (unsigned)imap_decode_esearch(r, max, &es, &v, &e) << bit++;
    err_clear(&e);
    if (v.n > max)
        abort();
    uidvec_free(&v);

    bool earlier;
    ok |= (unsigned)imap_decode_vanished(r, max, &earlier, &v, &e) << bit++;
    err_clear(&e);
    if (v.n > max)
        abort();
    uidvec_free(&v);

    enum imap_data kind;
    uint32_t n;
    ok |= (unsigned)imap_decode_number(r, &kind, &n, &e) << bit++;
    err_clear(&e);

    struct imap_namespace ns;
    ok |= (unsigned)imap_decode_namespace(r, &ns, &e) << bit++;
    err_clear(&e);

    struct imap_code_data cd;
    imap_code_data_init(&cd);
    ok |= (unsigned)imap_decode_code(r, max, &cd, &e) << bit++;
    if (cd.uids.n > max || cd.src_uids.n > max)
        abort();
    imap_code_data_release(&cd);
    err_clear(&e);

    buf_printf(dump, " <%d %x %016llx>\n", (int)imap_resp_data(r), ok, (unsigned long long)h);
}

/*
 * Parse data[0..size) and describe everything that happened in dump.  With
 * split, feeds are cut at random points drawn from seed.
 */
static void run(const uint8_t *data, size_t size, bool split, struct stream_ctx *sc, uint64_t seed,
                struct buf *dump)
{
    struct imap_parser_limits lim;
    imap_parser_default_limits(&lim);
    lim.max_response = 1u << 16;
    lim.max_depth = 16;
    lim.max_args = 4096;
    lim.max_inline_literal = 1024;
    lim.max_literal = 1u << 20;
    struct imap_parser *p = imap_parser_new(&lim);
    struct imap_literal_handler h = {s_begin, s_data, s_end, sc};
    if (sc)
        imap_parser_set_literal_handler(p, &h);
    const char *in = (const char *)data;
    size_t off = 0, since = 0;
    struct err e = ERR_INIT;
    while (off < size) {
        size_t chunk = size - off;
        if (split) {
            uint64_t r = next_rand(&seed);
            chunk = (r & 3) == 0 ? 1 : 1 + (size_t)(r >> 8) % (chunk < 64 ? chunk : 64);
            if (chunk > size - off)
                chunk = size - off;
        }
        size_t end = off + chunk;
        while (off < end) {
            size_t used;
            const struct imap_resp *r;
            enum imap_parse_result res = imap_parser_feed(p, in + off, end - off, &used, &r, &e);
            if (used > end - off)
                abort();
            off += used;
            since += used;
            if (res == IMAP_PARSE_ERROR) {
                if (!e.msg)
                    abort();
                buf_printf(dump, "ERROR %s\n", e.msg);
                err_clear(&e);
                imap_parser_free(&p);
                return;
            }
            if (res == IMAP_PARSE_RESPONSE) {
                imap_resp_format(r, dump);
                decode_all(r, dump);
                since = 0;
            } else if (off != end) {
                abort(); /* MORE must consume everything */
            }
        }
    }
    if (since)
        buf_append_str(dump, "<partial>\n");
    imap_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t seed = fnv1a(data, size, 0xcbf29ce484222325ULL) | 1;
    struct buf whole, split;
    buf_init(&whole, BUF_UNBOUNDED);
    buf_init(&split, BUF_UNBOUNDED);
    for (int streaming = 0; streaming < 2; streaming++) {
        struct stream_ctx sa = {0}, sb = {0};
        uint64_t r = seed;
        sa.min = sb.min = next_rand(&r) % 64;
        sa.refuse_at = sb.refuse_at = (r & 0x300) == 0 ? 1 + (r >> 16) % 200 : 0;
        sa.dump = &whole;
        sb.dump = &split;
        buf_reset(&whole);
        buf_reset(&split);
        run(data, size, false, streaming ? &sa : NULL, seed, &whole);
        run(data, size, true, streaming ? &sb : NULL, seed, &split);
        if (whole.len != split.len || memcmp(whole.data, split.data, whole.len) != 0) {
            fprintf(stderr, "whole:\n%s\nsplit:\n%s\n", whole.data, split.data);
            abort();
        }
    }
    buf_release(&whole);
    buf_release(&split);
    return 0;
}
