#include "base/arena.h"
#include "base/base64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "base/hash.h"
#include "base/strutil.h"
#include "base/uidset.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <stdlib.h>
#include <string.h>

static void test_buf(void)
{
    test_begin("buf: append, printf, limit");
    struct buf b;
    buf_init(&b, 8);
    test_assert(b.data != NULL && b.data[0] == '\0');
    test_assert(buf_append_str(&b, "abcd"));
    test_assert(buf_printf(&b, "%d", 123));
    test_assert_streq(b.data, "abcd123");
    test_assert(buf_append_char(&b, 'x'));
    test_assert(!buf_append_char(&b, 'y'));
    test_assert_streq(b.data, "abcd123x");
    test_assert(!buf_printf(&b, "%s", "more"));
    test_assert_inteq(b.len, 8);
    buf_consume(&b, 3);
    test_assert_streq(b.data, "d123x");
    buf_truncate(&b, 2);
    test_assert_streq(b.data, "d1");
    size_t len;
    char *p = buf_detach(&b, &len);
    test_assert_streq(p, "d1");
    test_assert_inteq(len, 2);
    free(p);
    test_assert_inteq(b.len, 0);
    buf_release(&b);
    test_end();
}

static void test_arena(void)
{
    test_begin("arena: alignment and reset");
    struct arena a;
    arena_init(&a, 64);
    char *s = arena_strdup(&a, "hello");
    uint64_t *big = arena_alloc(&a, 1000);
    big[124] = 7;
    test_assert(((uintptr_t)big % sizeof(uint64_t)) == 0);
    test_assert_streq(s, "hello");
    arena_reset(&a);
    test_assert_inteq(a.total, 0);
    char *t = arena_strndup(&a, "abcdef", 3);
    test_assert_streq(t, "abc");
    arena_free(&a);
    test_end();
}

static void test_numbers(void)
{
    test_begin("strutil: strict numbers");
    uint64_t v;
    uint32_t u;
    int64_t i;
    test_assert(str_to_u64("12345", 5, &v) && v == 12345);
    test_assert(!str_to_u64("", 0, &v));
    test_assert(!str_to_u64("12a", 3, &v));
    test_assert(!str_to_u64("-1", 2, &v));
    test_assert(str_to_u64("18446744073709551615", 20, &v) && v == UINT64_MAX);
    test_assert(!str_to_u64("18446744073709551616", 20, &v));
    test_assert(str_to_u32("4294967295", 10, &u) && u == UINT32_MAX);
    test_assert(!str_to_u32("4294967296", 10, &u));
    test_assert(str_to_i64("-42", 3, &i) && i == -42);
    test_assert(str_to_i64("-9223372036854775808", 20, &i) && i == INT64_MIN);
    test_assert(!str_to_i64("9223372036854775808", 19, &i));
    test_end();

    test_begin("strutil: trim, split");
    char s[] = "  a b \t";
    test_assert_streq(str_trim(s), "a b");
    struct strvec sv = STRVEC_INIT;
    strvec_split(&sv, "x, y,,z ", ',', true);
    test_assert_inteq(sv.n, 3);
    test_assert_streq(sv.v[2], "z");
    test_assert(strvec_contains(&sv, "y"));
    strvec_free(&sv);
    test_end();
}

static void test_uidset(void)
{
    test_begin("uidset: format ranges");
    uint32_t uids[] = {1, 2, 3, 5, 7, 8, 213268, 213269, 213270, 213272};
    struct buf b;
    buf_init(&b, 1000);
    size_t n = uidset_format(&b, uids, 10, 1000);
    test_assert_inteq(n, 10);
    test_assert_streq(b.data, "1:3,5,7:8,213268:213270,213272");
    buf_reset(&b);
    n = uidset_format(&b, uids, 10, 6);
    test_assert_streq(b.data, "1:3,5");
    test_assert_inteq(n, 4);
    buf_release(&b);
    test_end();

    test_begin("uidset: parse");
    struct uidvec uv = UIDVEC_INIT;
    test_assert(uidset_parse("4:2,9", 5, 100, &uv));
    test_assert_inteq(uv.n, 4);
    test_assert_inteq(uv.v[0], 2);
    test_assert_inteq(uv.v[3], 9);
    uidvec_free(&uv);
    test_assert(!uidset_parse("1:*", 3, 100, &uv));
    uidvec_free(&uv);
    test_assert(!uidset_parse("0", 1, 100, &uv));
    uidvec_free(&uv);
    test_assert(!uidset_parse("1,", 2, 100, &uv));
    uidvec_free(&uv);
    test_assert(!uidset_parse("1:4000000000", 12, 1000000, &uv));
    uidvec_free(&uv);
    test_end();

    test_begin("uidvec: sort unique and search");
    struct uidvec w = UIDVEC_INIT;
    uint32_t in[] = {5, 1, 5, 3, 1};
    for (size_t k = 0; k < 5; k++)
        uidvec_push(&w, in[k]);
    uidvec_sort_unique(&w);
    test_assert_inteq(w.n, 3);
    test_assert(uidvec_contains_sorted(&w, 3));
    test_assert(!uidvec_contains_sorted(&w, 4));
    uidvec_free(&w);
    test_end();
}

static void test_fs(void)
{
    test_begin("fsutil: mkdir -p, atomic write, read with limit");
    struct err e = ERR_INIT;
    char *dir = fs_join(test_tmpdir(), "a/b/c");
    test_assert(fs_mkdir_p(dir, 0700, &e));
    test_assert(fs_is_dir(dir));
    char *f = fs_join(dir, "file");
    test_assert(fs_write_atomic(f, "12345\n", 6, true, &e));
    struct buf b;
    buf_init(&b, 100);
    test_assert(fs_read_file(f, 6, &b, &e));
    test_assert_streq(b.data, "12345\n");
    buf_reset(&b);
    test_assert(!fs_read_file(f, 5, &b, &e));
    test_assert(err_isset(&e));
    test_assert(strstr(e.msg, f) != NULL);
    test_assert_inteq(b.len, 0);
    err_clear(&e);
    buf_release(&b);
    free(f);
    free(dir);
    test_end();

    test_begin("fsutil: expand ~ and $VAR");
    setenv("HOME", "/home/u", 1);
    setenv("OIMAPVAR", "val", 1);
    char *p = fs_expand_path("~/Mail/$OIMAPVAR/${OIMAPVAR}x/$NOPE_NOT_SET");
    test_assert_streq(p, "/home/u/Mail/val/valx/$NOPE_NOT_SET");
    free(p);
    test_end();
}

static void test_err(void)
{
    test_begin("err: set, prefix, move");
    struct err e = ERR_INIT, f = ERR_INIT;
    err_set(&e, ERR_FOLDER, ERRK_NETWORK, "lost connection at UID %d", 7);
    err_prefix(&e, "folder %s: ", "INBOX");
    test_assert_streq(e.msg, "folder INBOX: lost connection at UID 7");
    err_move(&f, &e);
    test_assert(!err_isset(&e));
    test_assert(f.scope == ERR_FOLDER && f.kind == ERRK_NETWORK);
    err_clear(&f);
    test_end();
}

static void test_md5(void)
{
    test_begin("hash: md5 of folder names as offlineimap's FMD5");
    char hex[33];
    hash_md5_hex("INBOX", 5, hex);
    test_assert_streq(hex, "7e33429f656f1e6e9d79b29c3f82c57e");
    test_end();

    test_begin("hash: HMAC-MD5 of the RFC 2195 example");
    const char *challenge = "<1896.697170952@postoffice.reston.mci.net>";
    hash_hmac_md5_hex("tanstaaftanstaaf", 16, challenge, strlen(challenge), hex);
    test_assert_streq(hex, "b913a602c7eda7a495b4e6e7334d3890");
    test_end();
}

static void test_base64(void)
{
    test_begin("base64: RFC 4648 vectors and strict decoding");
    static const char *vec[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                   {"foo", "Zm9v"},  {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                   {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < 7; i++) {
        char *enc = base64_encode(vec[i][0], strlen(vec[i][0]));
        test_assert_streq(enc, vec[i][1]);
        free(enc);
        unsigned char *dec;
        size_t len;
        test_assert(base64_decode(vec[i][1], strlen(vec[i][1]), &dec, &len));
        test_assert_inteq(len, strlen(vec[i][0]));
        test_assert(memcmp(dec, vec[i][0], len) == 0);
        free(dec);
    }
    unsigned char *dec;
    size_t len;
    test_assert(!base64_decode("Zm9", 3, &dec, &len));
    test_assert(!base64_decode("Zm=v", 4, &dec, &len));
    test_assert(!base64_decode("Zm9v\n", 5, &dec, &len));
    test_assert(!base64_decode("Z===", 4, &dec, &len));
    test_end();
}

int main(void)
{
    test_base64();
    test_buf();
    test_arena();
    test_numbers();
    test_uidset();
    test_fs();
    test_err();
    test_md5();
    return test_done();
}
