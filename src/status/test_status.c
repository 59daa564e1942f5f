#include "base/buf.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "status/status_lock.h"
#include "status/status_paths.h"
#include "status/status_plain.h"
#include "status/status_validity.h"
#include "testlib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *tpath(const char *name)
{
    return fs_join(test_tmpdir(), name);
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    test_assert(f != NULL);
    if (f) {
        test_assert(fwrite(data, 1, len, f) == len);
        fclose(f);
    }
}

static char *read_text(const char *path)
{
    struct buf b;
    struct err e = ERR_INIT;
    buf_init(&b, 1 << 20);
    if (!fs_read_file(path, 1 << 20, &b, &e)) {
        err_clear(&e);
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

/* Run SQL on a raw connection of our own (to build or inspect files). */
static void test_basenames(void)
{
    static const struct {
        const char *name, *sep, *base;
    } cases[] = {
        {"INBOX", NULL, "INBOX"},
        {"", NULL, "dot"},
        {".", NULL, "dot"},
        {"/", NULL, "dot"},
        {"a/b/c", NULL, "a.b.c"},
        {"a/.", NULL, "a.."},
        {"..", NULL, ".."},
        {"a.", NULL, "a."},
        {".\n", NULL, "dot\n"},
        {"x\n", NULL, "x\n"},
        {"\\", "\\", "dot"},
        {"\\", "/", "\\"},
        {"Sent Items", ".", "Sent Items"},
    };
    test_begin("folder base names as getfolderbasename()");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *b = status_folder_basename(cases[i].name, cases[i].sep);
        test_assert_streq(b, cases[i].base);
        free(b);
    }
    test_end();
}

static void test_paths(void)
{
    struct err e = ERR_INIT;
    char *p = NULL;
    test_begin("metadata paths");
    test_assert(status_path_sqlite("/m", "Acc", "INBOX", &p, &e));
    test_assert_streq(p, "/m/Account-Acc/LocalStatus-sqlite/INBOX");
    free(p);
    test_assert(status_path_plain("/m", "Acc", "a.b", &p, &e));
    test_assert_streq(p, "/m/Account-Acc/LocalStatus/a.b");
    free(p);
    test_assert(status_path_validity("/m", "Remote", "dot", &p, &e));
    test_assert_streq(p, "/m/Repository-Remote/FolderValidity/dot");
    free(p);
    p = status_path_lock("/m", "Acc");
    test_assert_streq(p, "/m/Acc.lock");
    free(p);
    test_assert(!status_path_sqlite("/m", "Acc", "..", &p, &e));
    test_assert(e.scope == ERR_FOLDER && strstr(e.msg, "\"..\""));
    err_clear(&e);
    test_assert(!status_path_validity("/m", "R", "", &p, &e));
    err_clear(&e);
    test_assert(!status_name_check("account", "a/b", &e));
    test_assert(e.scope == ERR_REPO && strstr(e.msg, "a/b"));
    err_clear(&e);
    test_end();

    test_begin("metadata directories are created with mode 0700");
    mode_t old = umask(022);
    char *meta = tpath("meta-dirs/deeper");
    test_assert(status_dirs_metadata(meta, &e));
    test_assert(status_dirs_account(meta, "Acc", &e));
    test_assert(status_dirs_repo(meta, "Remote", &e));
    static const char *const subs[] = {"",
                                       "Account-Acc",
                                       "Account-Acc/LocalStatus-sqlite",
                                       "Repository-Remote",
                                       "Repository-Remote/FolderValidity",
                                       "Repository-Remote/UIDMapping"};
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        char *d = fs_join(meta, subs[i]);
        struct stat st;
        test_assert(stat(d, &st) == 0 && S_ISDIR(st.st_mode));
        test_assert_inteq(st.st_mode & 07777, 0700);
        free(d);
    }
    test_assert(status_dirs_account(meta, "Acc", &e)); /* again: no error */
    test_assert(!status_dirs_account(meta, "x/y", &e));
    err_clear(&e);
    umask(old);
    free(meta);
    test_end();
}

static void check_row(const struct status_rows *rows, uint32_t uid, const char *flags,
                      int64_t mtime, const char *labels)
{
    const struct status_row *r = status_rows_find(rows, uid);
    test_assert(r != NULL);
    if (!r)
        return;
    char letters[64];
    flags_to_letters(r->flags, letters);
    test_assert_streq(letters, flags);
    test_assert_inteq(r->mtime, mtime);
    if (labels)
        test_assert_streq(r->labels, labels);
    else
        test_assert(r->labels == NULL);
}

static void test_validity(void)
{
    static const struct {
        const char *content;
        bool ok;
        uint32_t value;
    } cases[] = {
        {"1795503428\n", true, 1795503428u},
        {"42", true, 42},
        {" 7 \nsecond line\n", true, 7},
        {"4294967295\n", true, 4294967295u},
        {"4294967296\n", false, 0},
        {"abc\n", false, 0},
        {"", false, 0},
        {"\n42\n", false, 0},
        {"-1\n", false, 0},
        {"12x\n", false, 0},
    };
    struct err e = ERR_INIT;
    bool present = true;
    uint32_t value = 1;
    test_begin("FolderValidity files");
    char *path = tpath("validity");
    test_assert(status_validity_read(path, &present, &value, &e));
    test_assert(!present && value == 0);
    test_assert(status_validity_write(path, 1795503428u, true, &e));
    char *text = read_text(path);
    test_assert_streq(text, "1795503428\n");
    free(text);
    char *tmp = xasprintf("%s.tmp", path);
    test_assert(!fs_exists(tmp));
    free(tmp);
    test_assert(status_validity_write(path, STATUS_VALIDITY_MAILDIR, false, &e));
    test_assert(status_validity_read(path, &present, &value, &e));
    test_assert(present && value == 42);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_file(path, cases[i].content, strlen(cases[i].content));
        bool ok = status_validity_read(path, &present, &value, &e);
        test_assert(ok == cases[i].ok);
        test_assert(present == cases[i].ok);
        test_assert(value == cases[i].value);
        if (!ok) {
            test_assert(e.scope == ERR_FOLDER && strstr(e.msg, path));
            err_clear(&e);
        }
    }
    char *nowhere = tpath("no-such-dir/validity");
    test_assert(!status_validity_write(nowhere, 1, false, &e));
    test_assert(e.scope == ERR_FOLDER && strstr(e.msg, nowhere));
    err_clear(&e);
    free(nowhere);
    free(path);
    test_end();
}

static void test_lock(void)
{
    struct err e = ERR_INIT;
    struct status_lock *lock = NULL, *second = NULL;
    char *meta = tpath("lockmeta");
    test_assert(status_dirs_metadata(meta, &e));
    char *path = status_path_lock(meta, "Personal");
    test_begin("the account lock");
    test_assert(status_lock_acquire(meta, "Personal", &lock, &e));
    test_assert(lock && fs_exists(path));
    test_assert_streq(status_lock_path(lock), path);
    /* Another account is independent. */
    test_assert(status_lock_acquire(meta, "Work", &second, &e));
    status_lock_release(&second);
    /* The same account twice in one process. */
    test_assert(!status_lock_acquire(meta, "Personal", &second, &e));
    test_assert(e.scope == ERR_REPO && strstr(e.msg, "already holds"));
    err_clear(&e);
    test_assert(fs_exists(path)); /* and the lock was not lost by that attempt */

    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        struct status_lock *l = NULL;
        struct err ce = ERR_INIT;
        char expect[64];
        snprintf(expect, sizeof(expect), "held by process %ld", (long)getppid());
        bool ok = !status_lock_acquire(meta, "Personal", &l, &ce) && ce.scope == ERR_REPO &&
                  strstr(ce.msg, "Could not lock account Personal. Is another instance using "
                                 "this account?") &&
                  strstr(ce.msg, expect);
        if (!ok)
            fprintf(stderr, "child got: %s\n", ce.msg ? ce.msg : "(locked)");
        err_clear(&ce);
        status_lock_release(&l);
        free(path);
        free(meta);
        _exit(ok ? 0 : 1); /* not exit(): test_done() belongs to the parent */
    }
    int status = -1;
    test_assert(child > 0 && waitpid(child, &status, 0) == child);
    test_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    status_lock_release(&lock);
    test_assert(lock == NULL);
    test_assert(!fs_exists(path));
    status_lock_release(&lock); /* NULL: no-op */

    child = fork();
    if (child == 0) {
        struct status_lock *l = NULL;
        struct err ce = ERR_INIT;
        bool ok = status_lock_acquire(meta, "Personal", &l, &ce);
        status_lock_release(&l);
        err_clear(&ce);
        free(path);
        free(meta);
        _exit(ok ? 0 : 1);
    }
    test_assert(child > 0 && waitpid(child, &status, 0) == child);
    test_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    test_assert(!fs_exists(path));
    test_assert(!status_lock_acquire(meta, "a/b", &lock, &e));
    err_clear(&e);
    test_end();
    free(path);
    free(meta);
}

static const char plain_v2[] = "OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2\n"
                               "7|S|0|\\Inbox, work\n"
                               "1|FS|0|\n"
                               "3||-12|\n"
                               "7|RS|5|\n"
                               "  4294967295|abz|1700000000|x  \n";

static void check_plain_v2(const struct status_rows *rows)
{
    test_assert_inteq(rows->n, 4);
    check_row(rows, 1, "FS", 0, NULL);
    check_row(rows, 3, "", -12, NULL);
    check_row(rows, 7, "RS", 5, NULL);
    check_row(rows, 4294967295u, "abz", 1700000000, "x");
}

static bool plain_parse(const char *data, size_t len, size_t split, struct status_rows *rows,
                        struct err *e)
{
    struct status_plain_parser p;
    status_rows_clear(rows);
    status_plain_parser_init(&p, "mem", rows);
    bool ok = true;
    if (split == 0) { /* byte by byte */
        for (size_t i = 0; i < len && ok; i++)
            ok = status_plain_parser_feed(&p, data + i, 1, e);
    } else {
        ok = status_plain_parser_feed(&p, data, split, e) &&
             status_plain_parser_feed(&p, data + split, len - split, e);
    }
    ok = ok && status_plain_parser_finish(&p, e);
    status_plain_parser_release(&p);
    return ok;
}

static void test_plain(void)
{
    struct err e = ERR_INIT;
    struct status_rows rows = STATUS_ROWS_INIT;
    bool present = true;
    int format = 0;
    test_begin("plain status FORMAT 2, whole, byte by byte, split anywhere");
    char *path = tpath("plain2");
    write_file(path, plain_v2, strlen(plain_v2));
    test_assert(status_plain_read(path, &rows, &present, &format, &e));
    test_assert(present && format == 2);
    check_plain_v2(&rows);
    size_t len = strlen(plain_v2);
    for (size_t split = 0; split <= len; split++) {
        test_assert(plain_parse(plain_v2, len, split, &rows, &e));
        check_plain_v2(&rows);
    }
    /* CRLF and CR line ends, as Python's universal newlines. */
    static const char crlf[] = "OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2\r\n"
                               "1|FS|0|\r\n2|S|0|\r3|T|0|";
    for (size_t split = 0; split <= sizeof(crlf) - 1; split++) {
        test_assert(plain_parse(crlf, sizeof(crlf) - 1, split, &rows, &e));
        test_assert_inteq(rows.n, 3);
        check_row(&rows, 3, "T", 0, NULL);
    }
    free(path);
    test_end();

    test_begin("plain status FORMAT 1");
    static const char v1[] = "OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 1\n"
                             "12:RS\n5:\n9:F\n";
    test_assert(plain_parse(v1, sizeof(v1) - 1, 10, &rows, &e));
    test_assert_inteq(rows.n, 3);
    check_row(&rows, 5, "", 0, NULL);
    check_row(&rows, 12, "RS", 0, NULL);
    test_assert(rows.v[0].uid == 5 && rows.v[2].uid == 12);
    test_end();

    static const struct {
        const char *text;
        size_t line; /* 0: a whole-file error */
        const char *expect;
    } bad[] = {
        {"", 0, "is empty"},
        {"OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 3\n1|S|0|\n", 0,
         "Unrecognized cache magicline"},
        {"hello\n", 0, "Unrecognized cache magicline"},
        {"OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2\n1|S|0\n", 2, "expected"},
        {"OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2\n1|S|0|a|b\n", 2,
         "expected"},
        {"OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2\n1|S|0|\n\n2|S|0|\n", 3,
         "empty"},
        {"OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2\n0|S|0|\n", 2, "UID"},
        {"OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2\nx1|S|0|\n", 2, "UID"},
        {"OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2\n4294967296|S|0|\n", 2,
         "UID"},
        {"OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2\n1|S!|0|\n", 2, "flags"},
        {"OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2\n1|S|zero|\n", 2, "mtime"},
        {"OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2\r\n1|S||\r\n", 2, "mtime"},
        {"OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 1\n1:S\n2|S|0|\n", 3,
         "uid:flags"},
        {"OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 1\n1:S:T\n", 2, "uid:flags"},
        {"OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 1\n1:S\n2:S\n:S\n", 4, "UID"},
    };
    test_begin("plain status: bad files name the file and line");
    char *path2 = tpath("plain-bad");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(path2, bad[i].text, strlen(bad[i].text));
        test_assert(!status_plain_read(path2, &rows, &present, &format, &e));
        test_assert(!present && rows.n == 0);
        test_assert(e.scope == ERR_FOLDER && strstr(e.msg, path2) && strstr(e.msg, bad[i].expect));
        if (bad[i].line) {
            char want[32];
            snprintf(want, sizeof(want), "line %zu ", bad[i].line);
            test_assert(strstr(e.msg, want) != NULL);
        }
        err_clear(&e);
        /* The same at every split point of the in-memory parser. */
        size_t tl = strlen(bad[i].text);
        for (size_t split = 0; split <= tl; split++) {
            test_assert(!plain_parse(bad[i].text, tl, split, &rows, &e));
            err_clear(&e);
        }
    }
    /* An overlong line hits the limit. */
    struct buf big;
    buf_init(&big, BUF_UNBOUNDED);
    buf_append_str(&big, "OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2\n1|S|0|");
    for (size_t i = 0; i < STATUS_PLAIN_LINE_MAX; i++)
        buf_append_char(&big, 'x');
    write_file(path2, big.data, big.len);
    test_assert(!status_plain_read(path2, &rows, &present, &format, &e));
    test_assert(e.msg && strstr(e.msg, "line 2") && strstr(e.msg, "longer"));
    err_clear(&e);
    buf_release(&big);
    char *missing = tpath("plain-missing");
    test_assert(status_plain_read(missing, &rows, &present, &format, &e));
    test_assert(!present && format == 0);
    free(missing);
    free(path2);
    test_end();
    status_rows_free(&rows);
}

static void test_rows(void)
{
    struct status_rows rows = STATUS_ROWS_INIT;
    test_begin("row arrays: sort keeps the last of equal uids");
    status_rows_push(&rows, 5, FLAG_SEEN, 0, "a");
    status_rows_push(&rows, 2, 0, 0, NULL);
    status_rows_push(&rows, 5, FLAG_DRAFT, 0, "b");
    status_rows_push(&rows, 1, 0, 0, " ,, ");
    status_rows_push(&rows, 5, FLAG_FLAGGED, 0, "c");
    status_rows_sort(&rows);
    test_assert_inteq(rows.n, 3);
    test_assert(rows.v[0].uid == 1 && rows.v[0].labels == NULL);
    check_row(&rows, 5, "F", 0, "c");
    test_assert(status_rows_find(&rows, 3) == NULL);
    test_assert(sizeof(struct status_row) <= 32);
    status_rows_free(&rows);
    test_assert(rows.v == NULL && rows.n == 0);
    test_end();
}

int main(void)
{
    test_basenames();
    test_paths();
    test_rows();
    test_validity();
    test_lock();
    test_plain();
    return test_done();
}
