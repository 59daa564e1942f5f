/*
 * The skip list's file format: lines written and read back, every damage
 * (a truncation at any byte, any byte changed, a wrong sum, a bad field)
 * refused as a whole.
 */
#include "sync/sync_skip.h"

#include "base/buf.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add(struct skip_list *l, const char *status, const char *remote, const char *local,
                const char *stamp, const char *sel, uint32_t uidnext)
{
    struct skip_entry en = {
        .status_path = xstrdup(status),
        .remote = xstrdup(remote),
        .local = xstrdup(local),
        .dev = 65024,
        .ino = 11051429,
        .size = 24576,
        .mtime_ns = 1795528486755327835LL,
        .remote_st = {.uidvalidity = 1795523025u,
                      .uidnext = uidnext,
                      .messages = 335,
                      .highestmodseq = 18446744073709551615ull},
        .local_stamp = xstrdup(stamp),
        .select = xstrdup(sel),
    };
    sync_skip_add(l, &en);
}

static bool same_entry(const struct skip_entry *a, const struct skip_entry *b)
{
    return !strcmp(a->status_path, b->status_path) && !strcmp(a->remote, b->remote) &&
           !strcmp(a->local, b->local) && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mtime_ns == b->mtime_ns &&
           a->remote_st.uidvalidity == b->remote_st.uidvalidity &&
           a->remote_st.uidnext == b->remote_st.uidnext &&
           a->remote_st.messages == b->remote_st.messages &&
           a->remote_st.highestmodseq == b->remote_st.highestmodseq &&
           !strcmp(a->local_stamp, b->local_stamp) && !strcmp(a->select, b->select);
}

static struct skip_list sample(void)
{
    struct skip_list l = {0};
    add(&l, "/m/Account-A/LocalStatus-sqlite/Zeta", "Zeta", "Zeta", "1:2:3,1:4:5", "v1 x=1", 341);
    add(&l, "/m/Account-A/LocalStatus-sqlite/INBOX", "INBOX", "inbox", "s", "v1", 2);
    /* Every byte a field may hold and must escape. */
    add(&l, "/m/with space/%25 and = sign\n\t\x7f\xc3\xa9", "Caf\xc3\xa9 & \"q\"", "", "a b",
        "%%==", 0);
    return l;
}

static void test_roundtrip(void)
{
    test_begin("lines written and read back");
    struct skip_list l = sample(), back = {0};
    struct buf b;
    buf_init(&b, 1 << 20);
    sync_skip_render(&l, &b);
    test_assert(!memchr(b.data, '\t', b.len));
    test_assert(sync_skip_parse(&back, b.data, b.len));
    test_assert_inteq(back.n, 3);
    /* Read back sorted by status path. */
    for (size_t i = 0; i + 1 < back.n; i++)
        test_assert(strcmp(back.v[i].status_path, back.v[i + 1].status_path) < 0);
    for (size_t i = 0; i < l.n; i++) {
        bool found = false;
        for (size_t k = 0; k < back.n; k++)
            found |= same_entry(&l.v[i], &back.v[k]);
        test_assert(found);
    }
    /* Rendering what was read gives the same bytes. */
    struct buf b2;
    buf_init(&b2, 1 << 20);
    sync_skip_render(&back, &b2);
    test_assert(b2.len == b.len && !memcmp(b2.data, b.data, b.len));
    buf_release(&b2);
    sync_skip_free(&back);

    /* An empty list is a header and a sum. */
    struct skip_list none = {0};
    buf_reset(&b);
    sync_skip_render(&none, &b);
    test_assert(sync_skip_parse(&back, b.data, b.len));
    test_assert_inteq(back.n, 0);
    sync_skip_free(&back);
    sync_skip_free(&l);
    buf_release(&b);
    test_end();
}

static void test_damage(void)
{
    test_begin("any truncation or changed byte is refused");
    struct skip_list l = sample(), back = {0};
    struct buf b;
    buf_init(&b, 1 << 20);
    sync_skip_render(&l, &b);
    for (size_t n = 0; n < b.len; n++) {
        if (sync_skip_parse(&back, b.data, n)) {
            test_fail_at(__FILE__, __LINE__, "a prefix of %zu of %zu bytes was taken", n, b.len);
            sync_skip_free(&back);
        }
        test_assert_inteq(back.n, 0);
    }
    char *copy = xmalloc(b.len);
    for (size_t i = 0; i < b.len; i++) {
        memcpy(copy, b.data, b.len);
        copy[i] ^= 0x01;
        if (sync_skip_parse(&back, copy, b.len)) {
            test_fail_at(__FILE__, __LINE__, "byte %zu changed was taken", i);
            sync_skip_free(&back);
        }
    }
    free(copy);
    sync_skip_free(&l);
    buf_release(&b);
    test_end();
}

/* A body with a right sum but a wrong line: refused all the same. */
static bool parse_body(const char *body)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_append_str(&b, "oimapc-skip 1\n");
    buf_append_str(&b, body);
    /* FNV-1a 64, as the file's own. */
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < b.len; i++) {
        h ^= (unsigned char)b.data[i];
        h *= 1099511628211ull;
    }
    buf_printf(&b, "sum %016llx\n", (unsigned long long)h);
    struct skip_list l = {0};
    bool ok = sync_skip_parse(&l, b.data, b.len);
    sync_skip_free(&l);
    buf_release(&b);
    return ok;
}

static void test_bad_lines(void)
{
    test_begin("lines with a bad field are refused");
    static const struct {
        const char *body;
        bool ok;
    } cases[] = {
        {"", true},
        {"/s r l 1 2 3 4 5 6 7 8 st se\n", true},
        {"/s r = 1 2 3 -4 5 6 7 8 st se\n", true},          /* empty local name */
        {"/s%20x r l 1 2 3 4 5 6 7 8 %25 %3D\n", true},     /* escapes */
        {"/s r l 1 2 3 4 5 6 7 8 st\n", false},             /* a field short */
        {"/s r l 1 2 3 4 5 6 7 8 st se x\n", false},        /* a field more */
        {"/s r l 1 2 3 4 5 6 7 8 st se", false},            /* no newline */
        {"/s r l 1 2 -3 4 5 6 7 8 st se\n", false},         /* negative size */
        {"/s r l 1 2 3 4 4294967296 6 7 8 st se\n", false}, /* UIDVALIDITY > 32 bits */
        {"/s r l 1 2 3 4 5 6 7 18446744073709551616 st se\n", false},
        {"/s r l x 2 3 4 5 6 7 8 st se\n", false},
        {"/s r l 1 2 3 4 5 6 7 8 %2 se\n", false}, /* short escape */
        {"/s r l 1 2 3 4 5 6 7 8 %zz se\n", false},
        {"/s r l 1 2 3 4 5 6 7 8 %00 se\n", false}, /* NUL */
        {"/s r l 1 2 3 4 5 6 7 8 %2a se\n", false}, /* lower-case hex */
        {"/s  r l 1 2 3 4 5 6 7 8 st se\n", false}, /* empty field */
        {"\n", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (parse_body(cases[i].body) != cases[i].ok)
            test_fail_at(__FILE__, __LINE__, "case %zu (%s): expected %s", i, cases[i].body,
                         cases[i].ok ? "taken" : "refused");
    test_end();
}

int main(void)
{
    test_roundtrip();
    test_damage();
    test_bad_lines();
    return test_done();
}
