/*
 * Unit tests for imapmap: offlineimap's UIDMapping format (parsing fed byte
 * by byte and split at every offset, formatting, errors with line numbers),
 * the bijection, and the file with its .lock and leftover .tmp.
 */
#include "store/imapmap.h"

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *fmt(const struct imapmap *m)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    imapmap_format(m, &b);
    char *s = xstrdup(b.data ? b.data : "");
    buf_release(&b);
    return s;
}

int main(void)
{
    static const struct {
        const char *in;
        const char *out; /* NULL: refused */
        size_t bad_line;
    } cases[] = {
        {"", "", 0},
        {"1:7\n", "1:7\n", 0},
        {"3:30\n1:10\n2:20\n", "1:10\n2:20\n3:30\n", 0},
        {"1:10", "1:10\n", 0},         /* no final newline */
        {" 4 : 40 \r\n", "4:40\n", 0}, /* Python's strip() and int() */
        {"\n\n5:50\n\n", "5:50\n", 0}, /* blank lines */
        {"4294967295:1\n", "4294967295:1\n", 0},
        {"1:10\n1:11\n", "1:11\n", 0}, /* the last line counts */
        {"1:10\n2:10\n", "2:10\n", 0},
        {"1:10\nx\n", NULL, 2},
        {"1\n", NULL, 1},
        {"1:2:3\n", NULL, 1},
        {"0:5\n", NULL, 1},
        {"5:0\n", NULL, 1},
        {"-1:5\n", NULL, 1},
        {"4294967296:1\n", NULL, 1},
        {"1:\n", NULL, 1},
        {":1\n", NULL, 1},
        {"1 2:3\n", NULL, 1},
    };
    test_begin("imapmap: parse and format, whole and split at every offset");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].in);
        struct imapmap m;
        imapmap_init(&m);
        struct err e = ERR_INIT;
        bool ok = imapmap_parse(&m, cases[i].in, len, "F", &e);
        test_assert(ok == (cases[i].out != NULL));
        if (ok) {
            char *s = fmt(&m);
            test_assert_streq(s, cases[i].out);
            free(s);
        } else {
            char want[64];
            snprintf(want, sizeof(want), "Corrupt line %zu in UID mapping file F",
                     cases[i].bad_line);
            test_assert(e.msg && strstr(e.msg, want) != NULL);
        }
        err_clear(&e);
        imapmap_release(&m);
        /* Lines are independent: parsing the input in two pieces cut at a newline agrees. */
        for (size_t cut = 0; ok && cut <= len; cut++) {
            if (cut > 0 && cases[i].in[cut - 1] != '\n')
                continue;
            imapmap_init(&m);
            test_assert(imapmap_parse(&m, cases[i].in, cut, "F", &e));
            test_assert(imapmap_parse(&m, cases[i].in + cut, len - cut, "F", &e));
            char *s = fmt(&m);
            test_assert_streq(s, cases[i].out);
            free(s);
            imapmap_release(&m);
        }
        /* Every prefix is handled without reading past it. */
        for (size_t n = 0; n <= len; n++) {
            imapmap_init(&m);
            imapmap_parse(&m, cases[i].in, n, "F", &e);
            err_clear(&e);
            imapmap_release(&m);
        }
    }
    test_end();

    test_begin("imapmap: a bijection under puts and deletes");
    struct imapmap m;
    imapmap_init(&m);
    for (uint32_t i = 1; i <= 5000; i++)
        imapmap_put(&m, i, 100000 + i);
    test_assert_inteq(imapmap_count(&m), 5000);
    test_assert_inteq(imapmap_remote(&m, 77), 100077);
    test_assert_inteq(imapmap_local(&m, 100077), 77);
    test_assert_inteq(imapmap_remote(&m, 0), 0);
    test_assert_inteq(imapmap_remote(&m, 5001), 0);
    for (uint32_t i = 1; i <= 5000; i += 2)
        test_assert(imapmap_del_local(&m, i));
    test_assert(!imapmap_del_local(&m, 1));
    test_assert_inteq(imapmap_count(&m), 2500);
    for (uint32_t i = 1; i <= 5000; i++) {
        test_assert_inteq(imapmap_remote(&m, i), i % 2 ? 0 : 100000 + i);
        test_assert_inteq(imapmap_local(&m, 100000 + i), i % 2 ? 0 : i);
    }
    imapmap_put(&m, 2, 100004); /* takes remote 100004 from local 4 */
    test_assert_inteq(imapmap_remote(&m, 4), 0);
    test_assert_inteq(imapmap_local(&m, 100002), 0);
    test_assert_inteq(imapmap_local(&m, 100004), 2);
    test_assert_inteq(imapmap_count(&m), 2499);
    imapmap_release(&m);
    test_end();

    test_begin("imapmap: the file, its lock and a leftover .tmp");
    char dir[] = "/tmp/test-imapmap-XXXXXX";
    test_assert(mkdtemp(dir) != NULL);
    char *path = fs_join(dir, "INBOX");
    char *tmp = xasprintf("%s.tmp", path);
    char *lock = xasprintf("%s.lock", path);
    struct err e = ERR_INIT;
    imapmap_init(&m);
    test_assert(imapmap_load(&m, path, &e)); /* missing: empty */
    test_assert_inteq(imapmap_count(&m), 0);
    test_assert(fs_exists(lock));
    imapmap_put(&m, 3, 9);
    imapmap_put(&m, 1, 8);
    test_assert(imapmap_save(&m, path, true, &e));
    imapmap_release(&m);
    struct buf b;
    buf_init(&b, 1000);
    test_assert(fs_read_file(path, 1000, &b, &e));
    test_assert_streq(b.data, "1:8\n3:9\n");
    test_assert(fs_write_atomic(tmp, "junk", 4, false, &e));
    imapmap_init(&m);
    test_assert(imapmap_load(&m, path, &e));
    test_assert(!fs_exists(tmp));
    test_assert_inteq(imapmap_remote(&m, 3), 9);
    imapmap_release(&m);
    test_assert(fs_write_atomic(path, "1:8\nbad\n", 8, false, &e));
    imapmap_init(&m);
    test_assert(!imapmap_load(&m, path, &e));
    test_assert(e.msg && strstr(e.msg, "line 2") && strstr(e.msg, path));
    err_clear(&e);
    imapmap_release(&m);
    buf_release(&b);
    unlink(path);
    unlink(lock);
    rmdir(dir);
    free(path);
    free(tmp);
    free(lock);
    test_end();
    return test_done();
}
