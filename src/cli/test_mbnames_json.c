/*
 * Unit tests for mbnames_json: the writer against Python's json.dumps()
 * output (the expected texts were produced by Python 3.11), the reader on
 * valid and broken documents, every truncation of a valid document, and the
 * round trip.
 */
#include "cli/mbnames_json.h"

#include "testlib/test.h"

#include <stdlib.h>
#include <string.h>

struct write_case {
    const char *account, *folder, *root;
    const char *json;
};

static const struct write_case write_cases[] = {
    {"Test", "INBOX", "/home/u/Mail",
     "[{\"accountname\": \"Test\", \"foldername\": \"INBOX\", \"localfolders\": "
     "\"/home/u/Mail\"}]"},
    {"A\"b\\c", "x\ny\r\t\b\f\x01\x1f\x7f", "\xc3\xa9",
     "[{\"accountname\": \"A\\\"b\\\\c\", \"foldername\": "
     "\"x\\ny\\r\\t\\b\\f\\u0001\\u001f\\u007f\", \"localfolders\": \"\\u00e9\"}]"},
    {"\xf0\x9f\x98\x80", "Caf\xc3\xa9 \xe2\x98\x83", "/m",
     "[{\"accountname\": \"\\ud83d\\ude00\", \"foldername\": \"Caf\\u00e9 \\u2603\", "
     "\"localfolders\": \"/m\"}]"},
    /* Bytes that are not UTF-8, as os.listdir() gives them (surrogateescape). */
    {"a", "b\x80\xff", NULL,
     "[{\"accountname\": \"a\", \"foldername\": \"b\\udc80\\udcff\", \"localfolders\": null}]"},
    {"a",
     "\xe2\x82"
     "A\xed\xa0\x80",
     "r",
     "[{\"accountname\": \"a\", \"foldername\": \"\\udce2\\udc82A\\udced\\udca0\\udc80\", "
     "\"localfolders\": \"r\"}]"},
};

static void test_writer(void)
{
    test_begin("json.dumps() output, byte for byte");
    for (size_t i = 0; i < sizeof(write_cases) / sizeof(write_cases[0]); i++) {
        const struct write_case *c = &write_cases[i];
        struct mbnames_items it = MBNAMES_ITEMS_INIT;
        mbnames_items_push(&it, c->account, c->folder, c->root);
        struct buf b;
        buf_init(&b, BUF_UNBOUNDED);
        mbnames_json_write(&it, &b);
        test_assert_streq(b.data, c->json);
        /* And back: the same strings (bad bytes included). */
        struct mbnames_items back = MBNAMES_ITEMS_INIT;
        struct err e = ERR_INIT;
        test_assert(mbnames_json_parse(b.data, b.len, "t", &back, &e));
        test_assert_inteq(back.n, 1);
        if (back.n == 1) {
            test_assert_streq(back.v[0].account, c->account);
            test_assert_streq(back.v[0].folder, c->folder);
            test_assert((back.v[0].root == NULL) == (c->root == NULL));
            if (c->root)
                test_assert_streq(back.v[0].root, c->root);
        }
        err_clear(&e);
        mbnames_items_free(&back);
        buf_release(&b);
        mbnames_items_free(&it);
    }
    struct mbnames_items none = MBNAMES_ITEMS_INIT;
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    mbnames_json_write(&none, &b);
    test_assert_streq(b.data, "[]");
    mbnames_items_push(&none, "a", "b", "c");
    mbnames_items_push(&none, "d", "e", "f");
    buf_reset(&b);
    mbnames_json_write(&none, &b);
    test_assert_streq(b.data, "[{\"accountname\": \"a\", \"foldername\": \"b\", \"localfolders\": "
                              "\"c\"}, {\"accountname\": \"d\", \"foldername\": \"e\", "
                              "\"localfolders\": \"f\"}]");
    buf_release(&b);
    mbnames_items_free(&none);
    test_end();
}

struct read_case {
    const char *json;
    int n;            /* items, or -1 for an error */
    const char *want; /* "account|folder|root;..." ("~" for a null root), or the error text */
};

static const struct read_case read_cases[] = {
    {"[]", 0, ""},
    {" \n[ ]\r\n\t", 0, ""},
    {"[{\"accountname\":\"A\",\"foldername\":\"F\",\"localfolders\":\"/r\"}]", 1, "A|F|/r"},
    /* Any member order, other members of any type skipped, the last duplicate wins. */
    {"[{\"x\": [1, -2.5e+3, {\"y\": null}, true, false, NaN, -Infinity, \"\\\"\"], "
     "\"localfolders\": \"a\", \"foldername\": \"F\", \"accountname\": \"A\", "
     "\"localfolders\": null}]",
     1, "A|F|~"},
    {"[{\"accountname\": \"\\u00e9\\ud83d\\ude00\\/\", \"foldername\": \"\\udc80\", "
     "\"localfolders\": \"\xc3\xa9\"}, {\"accountname\": \"B\", \"foldername\": \"G\", "
     "\"localfolders\": null}]",
     2, "\xc3\xa9\xf0\x9f\x98\x80/|\x80|\xc3\xa9;B|G|~"},
    {"", -1, "no list"},
    {"{}", -1, "no list"},
    {"[1]", -1, "an item that is not an object"},
    {"[{\"accountname\": \"A\", \"foldername\": \"F\"}]", -1, "an item without"},
    {"[{\"accountname\": 1, \"foldername\": \"F\", \"localfolders\": null}]", -1, "not a string"},
    {"[{\"accountname\": \"A\", \"foldername\": null, \"localfolders\": null}]", -1,
     "not a string"},
    {"[{\"accountname\": \"A\", \"foldername\": \"F\", \"localfolders\": 3}]", -1,
     "neither a string nor null"},
    {"[{\"accountname\": \"A\\u0000\", \"foldername\": \"F\", \"localfolders\": null}]", -1, "NUL"},
    {"[{\"accountname\": \"A\\ud800\", \"foldername\": \"F\", \"localfolders\": null}]", -1,
     "lone surrogate"},
    {"[{\"accountname\": \"A\tB\", \"foldername\": \"F\", \"localfolders\": null}]", -1,
     "control character"},
    {"[{\"accountname\": \"A\\q\", \"foldername\": \"F\", \"localfolders\": null}]", -1,
     "bad escape"},
    {"[{\"accountname\": \"A\\u12\", \"foldername\": \"F\", \"localfolders\": null}]", -1,
     "\\u escape"},
    {"[{\"accountname\": \"\xff\", \"foldername\": \"F\", \"localfolders\": null}]", -1,
     "not UTF-8"},
    {"[] []", -1, "extra data"},
    {"[{\"accountname\": \"A\", \"foldername\": \"F\", \"localfolders\": null},]", -1,
     "not an object"},
    {"[{\"accountname\": \"A\" \"foldername\": \"F\", \"localfolders\": null}]", -1, "missing ','"},
    {"[{\"x\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}]", -1,
     "too deep"},
    {"[{\"x\": tru}]", -1, "unexpected character"},
};

static void describe_items(const struct mbnames_items *it, struct buf *b)
{
    for (size_t i = 0; i < it->n; i++)
        buf_printf(b, "%s%s|%s|%s", i ? ";" : "", it->v[i].account, it->v[i].folder,
                   it->v[i].root ? it->v[i].root : "~");
}

static void test_reader(void)
{
    test_begin("reading intermediate files");
    for (size_t i = 0; i < sizeof(read_cases) / sizeof(read_cases[0]); i++) {
        const struct read_case *c = &read_cases[i];
        struct mbnames_items it = MBNAMES_ITEMS_INIT;
        /* Something already there stays, whatever happens. */
        mbnames_items_push(&it, "pre", "x", NULL);
        struct err e = ERR_INIT;
        bool ok = mbnames_json_parse(c->json, strlen(c->json), "/m/Acc.json", &it, &e);
        if (c->n < 0) {
            if (ok || !e.msg || !strstr(e.msg, c->want) || !strstr(e.msg, "/m/Acc.json"))
                test_fail_at(__FILE__, __LINE__, "case %zu: got %s", i, e.msg ? e.msg : "ok");
            test_assert_inteq(it.n, 1);
        } else {
            struct buf b;
            buf_init(&b, BUF_UNBOUNDED);
            struct mbnames_items only = {it.v + 1, it.n - 1, 0};
            describe_items(&only, &b);
            if (!ok || strcmp(b.data, c->want) != 0)
                test_fail_at(__FILE__, __LINE__, "case %zu: got %s / %s", i, b.data,
                             e.msg ? e.msg : "ok");
            test_assert_inteq(it.n, c->n + 1);
            buf_release(&b);
        }
        err_clear(&e);
        mbnames_items_free(&it);
    }
    test_end();
}

static void test_truncations(void)
{
    test_begin("every truncation of a valid file is an error");
    const char *doc = "[{\"accountname\": \"A\\u00e9\", \"foldername\": \"F\", "
                      "\"localfolders\": null}, {\"accountname\": \"B\", \"foldername\": "
                      "\"G\", \"localfolders\": \"/x\"}]";
    size_t n = strlen(doc);
    for (size_t k = 0; k < n; k++) {
        struct mbnames_items it = MBNAMES_ITEMS_INIT;
        struct err e = ERR_INIT;
        if (mbnames_json_parse(doc, k, "t", &it, &e))
            test_fail_at(__FILE__, __LINE__, "prefix of %zu bytes accepted", k);
        test_assert_inteq(it.n, 0);
        err_clear(&e);
        mbnames_items_free(&it);
    }
    struct mbnames_items it = MBNAMES_ITEMS_INIT;
    struct err e = ERR_INIT;
    test_assert(mbnames_json_parse(doc, n, "t", &it, &e));
    test_assert_inteq(it.n, 2);
    mbnames_items_free(&it);
    test_end();
}

int main(void)
{
    test_writer();
    test_reader();
    test_truncations();
    return test_done();
}
