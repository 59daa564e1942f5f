/*
 * Unit tests for taking a Maildir folder over from mbsync, on synthetic
 * Maildirs and states: in the folder, under ~/.mbsync, through ~/.mbsyncrc;
 * the refusals; resuming; duplicates and placeholders.  The parsers are
 * tested in test_maildir_mbsync_state.c.
 */
#include "store/maildir_mbsync.h"
#include "store/maildir_priv.h"
#include "store/store_maildir.h"
#include "store/maildir_testutil.h"

#include "base/fsutil.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define INBOX_MD5 "7e33429f656f1e6e9d79b29c3f82c57e"

/* ---- helpers ------------------------------------------------------------------------- */

static char *path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *path(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *rel = xvasprintf(fmt, ap);
    va_end(ap);
    char *p = fs_join(test_tmpdir(), rel);
    free(rel);
    return p;
}

static void put_file(const char *rel, const char *content)
{
    char *p = path("%s", rel);
    char *dir = xstrdup(p);
    *strrchr(dir, '/') = '\0';
    struct err e = ERR_INIT;
    test_assert(fs_mkdir_p(dir, 0700, &e));
    err_clear(&e);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    test_assert(fd >= 0 && fs_write_all(fd, content, strlen(content)));
    if (fd >= 0)
        close(fd);
    free(dir);
    free(p);
}

static bool exists(const char *rel)
{
    char *p = path("%s", rel);
    bool r = fs_exists(p);
    free(p);
    return r;
}

static void remove_tree(const char *rel)
{
    char *p = path("%s", rel);
    struct err e = ERR_INIT;
    fs_remove_tree(p, &e);
    err_clear(&e);
    free(p);
}

/* Sorted names in a directory (without dot entries), joined by spaces. */
static char *listing(const char *rel)
{
    char *p = path("%s", rel);
    DIR *d = opendir(p);
    free(p);
    struct strvec sv = STRVEC_INIT;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.')
            strvec_push(&sv, de->d_name);
    if (d)
        closedir(d);
    strvec_sort(&sv);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    for (size_t i = 0; i < sv.n; i++)
        buf_printf(&b, "%s%s", i ? " " : "", sv.v[i]);
    strvec_free(&sv);
    return buf_detach(&b, NULL);
}

#define assert_listing(rel, expected)                                                              \
    do {                                                                                           \
        char *l_ = listing(rel);                                                                   \
        test_assert_streq(l_, expected);                                                           \
        free(l_);                                                                                  \
    } while (0)

static struct store *new_store(const char *root_rel, char sep)
{
    char *root = path("%s", root_rel);
    struct maildir_opts o = {.name = "local", .root = root, .sep = sep, .fsync = true};
    struct store *s = store_maildir_new(&o);
    free(root);
    return s;
}

/* The folder's messages as "uid:flags" sorted by uid (uid 0 last). */
static char *list_uids(struct store *s, struct store_folder *f)
{
    struct store_msg_list l = {0};
    struct err e = ERR_INIT;
    test_assert(s->ops->list_msgs(f, NULL, &l, &e));
    err_clear(&e);
    store_msg_list_sort(&l);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    for (size_t i = 0; i < l.n; i++) {
        char letters[64];
        flags_to_letters(l.v[i].flags, letters);
        buf_printf(&b, "%s%u:%s", i ? " " : "", (unsigned)l.v[i].uid, letters);
    }
    store_msg_list_free(&l);
    return buf_detach(&b, NULL);
}

/* ---- the take-over ------------------------------------------------------------------- */

static const char *const STATE_INBOX =
    "FarUidValidity 500\nNearUidValidity 1700000000\nMaxPulledUid 40\nMaxPushedUid 6\n\n"
    "10 1 S\n20 2 F\n30 3 \n40 4 RS\n0 6 \n";

/*
 * An mbsync INBOX: near UIDs 1-5 (4 is gone locally, 5 was never synced, 6
 * is a pending push without a file), far UIDs 10-40.
 */
static void make_mbsync_inbox(const char *root, bool with_state)
{
    char *dir = xasprintf("%s/INBOX", root);
    mt_make_maildir(dir);
    char *p = xasprintf("%s/.uidvalidity", dir);
    put_file(p, "1700000000\n7\n");
    free(p);
    p = xasprintf("%s/cur/1700000001.100_1.host,U=1:2,S", dir);
    put_file(p, "Subject: one\n\nbody 1\n");
    free(p);
    p = xasprintf("%s/new/1700000001.100_2.host,U=2:2,F", dir);
    put_file(p, "Subject: two\n\nbody 2\n");
    free(p);
    p = xasprintf("%s/new/1700000001.100_3.host,U=3:2,", dir);
    put_file(p, "Subject: three\n\nbody 3\n");
    free(p);
    p = xasprintf("%s/cur/1700000009.200_1.host,U=5:2,RS", dir);
    put_file(p, "Subject: five\n\nbody 5\n");
    free(p);
    if (with_state) {
        p = xasprintf("%s/.mbsyncstate", dir);
        put_file(p, STATE_INBOX);
        free(p);
    }
    free(dir);
}

static bool adopt(struct store *s, struct store_folder *f, uint32_t uv, size_t *n, struct err *e)
{
    struct store_msg_list b = {0};
    bool ok = s->ops->adopt_foreign(f, uv, &b, e);
    *n = b.n;
    store_msg_list_free(&b);
    return ok;
}

static void test_adopt_basic(void)
{
    test_begin("take over an in-folder .mbsyncstate");
    make_mbsync_inbox("basic", true);
    struct store *s = new_store("basic", '.');
    struct store_folder *f = NULL;
    struct err e = ERR_INIT;
    test_assert(s->ops->open_folder(s, "INBOX", true, &f, &e));
    char *before = list_uids(s, f);
    test_assert_streq(before, "0: 0:F 0:RS 0:S");
    free(before);
    struct store_msg_list base = {0};
    size_t n = 0;
    test_assert(maildir_mbsync_adopt(f, 500, &base, &n, &e));
    test_assert_inteq(n, 3);
    /* The folder's index follows at once. */
    char *after = list_uids(s, f);
    test_assert_streq(after, "10:S 20:F 30: 0:RS");
    free(after);
    test_assert_inteq(base.n, 3);
    if (base.n == 3) {
        test_assert(base.v[0].uid == 10 && base.v[0].flags == FLAG_SEEN);
        test_assert(base.v[1].uid == 20 && base.v[1].flags == FLAG_FLAGGED);
        test_assert(base.v[2].uid == 30 && base.v[2].flags == 0);
    }
    store_msg_list_free(&base);
    s->ops->close_folder(&f);
    assert_listing("basic/INBOX/cur", "1700000001.100_1.host,U=10,FMD5=" INBOX_MD5 ":2,S "
                                      "1700000009.200_1.host,U=5:2,RS");
    assert_listing("basic/INBOX/new", "1700000001.100_2.host,U=20,FMD5=" INBOX_MD5 ":2,F "
                                      "1700000001.100_3.host,U=30,FMD5=" INBOX_MD5 ":2,");
    /* The state is retired, and a stub that mbsync refuses to read takes its place. */
    char *st = path("basic/INBOX/.mbsyncstate");
    test_assert(mbsync_state_is_stub(st));
    free(st);
    test_assert(exists("basic/INBOX/.mbsyncstate.taken-over-by-offlineimap"));
    test_assert(!exists("basic/INBOX/.mbsyncstate.lock"));
    /* A fresh open sees the same UIDs; a second take-over finds nothing to do. */
    test_assert(s->ops->open_folder(s, "INBOX", true, &f, &e));
    after = list_uids(s, f);
    test_assert_streq(after, "10:S 20:F 30: 0:RS");
    free(after);
    test_assert(adopt(s, f, 500, &n, &e));
    test_assert_inteq(n, 0);
    s->ops->close_folder(&f);
    s->ops->free(s);
    err_clear(&e);
    test_end();
}

/* Run fn on a fresh mbsync INBOX; the folder must be exactly as before afterwards. */
static void expect_untouched(const char *name, void (*prepare)(const char *root), uint32_t uv,
                             bool expect_ok, const char *error)
{
    test_begin(name);
    char *root = xasprintf("u-%s", name);
    for (char *p = root; *p; p++)
        if (*p == ' ' || *p == '/')
            *p = '-';
    make_mbsync_inbox(root, true);
    if (prepare)
        prepare(root);
    char *cur = xasprintf("%s/INBOX/cur", root), *new = xasprintf("%s/INBOX/new", root);
    char *lc = listing(cur), *ln = listing(new);
    char *sp = xasprintf("%s/INBOX/.mbsyncstate", root);
    bool had_state = exists(sp);
    free(sp);
    struct store *s = new_store(root, '.');
    struct store_folder *f = NULL;
    struct err e = ERR_INIT;
    test_assert(s->ops->open_folder(s, "INBOX", true, &f, &e));
    size_t n = 99;
    bool ok = adopt(s, f, uv, &n, &e);
    test_assert_inteq(ok, expect_ok);
    test_assert_inteq(n, 0);
    if (!expect_ok) {
        test_assert_inteq(e.scope, ERR_FOLDER);
        test_assert(e.msg && strstr(e.msg, error) && strstr(e.msg, "Nothing was changed"));
        if (!(e.msg && strstr(e.msg, error)))
            fprintf(stderr, "  got: %s\n", e.msg ? e.msg : "(none)");
    }
    char *after = list_uids(s, f);
    test_assert_streq(after, "0: 0:F 0:RS 0:S");
    free(after);
    s->ops->close_folder(&f);
    s->ops->free(s);
    assert_listing(cur, lc);
    assert_listing(new, ln);
    char *st = xasprintf("%s/INBOX/.mbsyncstate", root);
    test_assert_inteq(exists(st), had_state);
    free(st);
    st = xasprintf("%s/INBOX/.mbsyncstate.lock", root);
    test_assert(!exists(st) || strstr(name, "locked"));
    free(st);
    free(lc);
    free(ln);
    free(cur);
    free(new);
    free(root);
    err_clear(&e);
    test_end();
}

static void prep_interrupted(const char *root)
{
    char *p = xasprintf("%s/INBOX/.mbsyncstate.journal", root);
    put_file(p, "4\n+ 50 0\n");
    free(p);
    p = xasprintf("%s/INBOX/.mbsyncstate.new", root);
    put_file(p, "");
    free(p);
}

static void prep_near_uv(const char *root)
{
    char *p = xasprintf("%s/INBOX/.uidvalidity", root);
    put_file(p, "1700000555\n9\n");
    free(p);
}

static void prep_no_uv(const char *root)
{
    char *p = path("%s/INBOX/.uidvalidity", root);
    unlink(p);
    free(p);
}

static void prep_bad_state(const char *root)
{
    char *p = xasprintf("%s/INBOX/.mbsyncstate", root);
    put_file(p, "FarUidValidity 500\nNearUidValidity 1700000000\n\n10 1 S\n20");
    free(p);
}

static void prep_altmap(const char *root)
{
    prep_no_uv(root);
    char *p = xasprintf("%s/INBOX/.isyncuidmap.db", root);
    put_file(p, "db");
    free(p);
    p = path("%s/INBOX/.mbsyncstate", root);
    unlink(p);
    free(p);
}

static void prep_nothing(const char *root)
{
    prep_no_uv(root);
    char *p = path("%s/INBOX/.mbsyncstate", root);
    unlink(p);
    free(p);
}

static void prep_stale_journal(const char *root)
{
    /* A journal without .new: the last run finished (mbsync ignores it). */
    char *p = xasprintf("%s/INBOX/.mbsyncstate.journal", root);
    put_file(p, "4\n");
    free(p);
}

/* A second process holds mbsync's lock, as a running mbsync does. */
static pid_t locker = -1;

static void prep_locked(const char *root)
{
    char *p = path("%s/INBOX/.mbsyncstate.lock", root);
    int pipefd[2];
    test_assert(pipe(pipefd) == 0);
    locker = fork();
    if (locker == 0) {
        int fd = open(p, O_WRONLY | O_CREAT, 0666);
        struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fd < 0 || fcntl(fd, F_SETLK, &lk) != 0)
            _exit(1);
        if (write(pipefd[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c;
    test_assert(read(pipefd[0], &c, 1) == 1);
    close(pipefd[0]);
    close(pipefd[1]);
    free(p);
}

static void test_adopt_refusals(void)
{
    expect_untouched("far UIDVALIDITY differs: left alone", NULL, 501, true, NULL);
    expect_untouched("no UIDVALIDITY from the server: left alone", NULL, 0, true, NULL);
    expect_untouched("interrupted mbsync refused", prep_interrupted, 500, false,
                     "mbsync was interrupted");
    expect_untouched("near UIDVALIDITY differs refused", prep_near_uv, 500, false,
                     "NearUidValidity 1700000000, the folder's .uidvalidity 1700000555");
    expect_untouched("state without .uidvalidity refused", prep_no_uv, 500, false,
                     "no usable .uidvalidity");
    expect_untouched("damaged state refused", prep_bad_state, 500, false, "line 5");
    expect_untouched("AltMap refused", prep_altmap, 500, false, "mdconvert -n");
    expect_untouched("not an mbsync folder", prep_nothing, 500, true, NULL);
    expect_untouched("locked state refused", prep_locked, 500, false, "mbsync is running");
    if (locker > 0) {
        kill(locker, SIGKILL);
        waitpid(locker, NULL, 0);
    }
    /* A stale journal does not stop the take-over. */
    test_begin("a stale journal is ignored");
    make_mbsync_inbox("stale", true);
    prep_stale_journal("stale");
    struct store *s = new_store("stale", '.');
    struct store_folder *f = NULL;
    struct err e = ERR_INIT;
    size_t n = 0;
    test_assert(s->ops->open_folder(s, "INBOX", true, &f, &e));
    test_assert(adopt(s, f, 500, &n, &e));
    test_assert_inteq(n, 3);
    s->ops->close_folder(&f);
    s->ops->free(s);
    err_clear(&e);
    test_end();
}

/* A crash after some renames: the next run finishes the job, counting them once. */
static void test_adopt_resume(void)
{
    test_begin("an interrupted take-over resumes");
    make_mbsync_inbox("resume", true);
    char *from = path("resume/INBOX/new/1700000001.100_2.host,U=2:2,F");
    char *to = path("resume/INBOX/new/1700000001.100_2.host,U=20,FMD5=" INBOX_MD5 ":2,F");
    test_assert(rename(from, to) == 0);
    free(from);
    free(to);
    struct store *s = new_store("resume", '.');
    struct store_folder *f = NULL;
    struct err e = ERR_INIT;
    size_t n = 0;
    test_assert(s->ops->open_folder(s, "INBOX", true, &f, &e));
    test_assert(adopt(s, f, 500, &n, &e));
    test_assert_inteq(n, 3);
    char *after = list_uids(s, f);
    test_assert_streq(after, "10:S 20:F 30: 0:RS");
    free(after);
    s->ops->close_folder(&f);
    s->ops->free(s);
    err_clear(&e);
    test_end();
}

/* A mail reader renames a file between the scan and the take-over. */
static void test_adopt_moved(void)
{
    test_begin("a file renamed behind our back is found");
    make_mbsync_inbox("moved", true);
    struct store *s = new_store("moved", '.');
    struct store_folder *f = NULL;
    struct err e = ERR_INIT;
    size_t n = 0;
    test_assert(s->ops->open_folder(s, "INBOX", true, &f, &e));
    char *from = path("moved/INBOX/new/1700000001.100_3.host,U=3:2,");
    char *to = path("moved/INBOX/cur/1700000001.100_3.host,U=3:2,S");
    test_assert(rename(from, to) == 0);
    free(from);
    free(to);
    test_assert(adopt(s, f, 500, &n, &e));
    test_assert_inteq(n, 3);
    char *after = list_uids(s, f);
    test_assert_streq(after, "10:S 20:F 30:S 0:RS");
    free(after);
    s->ops->close_folder(&f);
    assert_listing("moved/INBOX/cur", "1700000001.100_1.host,U=10,FMD5=" INBOX_MD5 ":2,S "
                                      "1700000001.100_3.host,U=30,FMD5=" INBOX_MD5 ":2,S "
                                      "1700000009.200_1.host,U=5:2,RS");
    s->ops->free(s);
    err_clear(&e);
    test_end();
}

/* Duplicates, placeholders, a taken-over name in the way. */
static void test_adopt_special(void)
{
    test_begin("duplicates and placeholders");
    mt_make_maildir("special/INBOX");
    put_file("special/INBOX/.uidvalidity", "77\n9\n");
    put_file("special/INBOX/cur/100.1_1.h,U=1:2,S", "Subject: a\n\nA\n");
    put_file("special/INBOX/cur/100.1_9.h,U=1:2,S", "Subject: a copy\n\nA\n");
    put_file("special/INBOX/new/100.1_2.h,U=2:2,",
             "From: x\nSubject: [placeholder] big\n\nHaving a size of 2.2MiB, this message is "
             "over the MaxSize limit.\nFlag it and sync again (Sync mode Upgrade) to fetch its "
             "real contents.\n");
    put_file("special/INBOX/new/100.1_3.h,U=3:2,", "Subject: real\n\nnot a placeholder\n");
    put_file("special/INBOX/new/100.1_4.h,U=4:2,", "Subject: big and real\n\nlarge\n");
    put_file("special/INBOX/.mbsyncstate",
             "FarUidValidity 8\nNearUidValidity 77\n\n11 1 S\n12 2 >\n13 3 >\n14 4 <\n");
    put_file("special/INBOX/.mbsyncstate.taken-over-by-offlineimap", "old");
    struct store *s = new_store("special", '.');
    struct store_folder *f = NULL;
    struct err e = ERR_INIT;
    size_t n = 0;
    test_assert(s->ops->open_folder(s, "INBOX", true, &f, &e));
    test_assert(adopt(s, f, 8, &n, &e));
    test_assert_inteq(n, 1);
    char *after = list_uids(s, f);
    test_assert_streq(after, "11:S 0: 0: 0:S");
    free(after);
    s->ops->close_folder(&f);
    s->ops->free(s);
    /* Which of the two copies is taken over depends on the directory order. */
    char *cur = listing("special/INBOX/cur");
    test_assert(!strcmp(cur, "100.1_1.h,U=11,FMD5=" INBOX_MD5 ":2,S 100.1_9.h,U=1:2,S") ||
                !strcmp(cur, "100.1_1.h,U=1:2,S 100.1_9.h,U=11,FMD5=" INBOX_MD5 ":2,S"));
    free(cur);
    assert_listing("special/INBOX/new", "100.1_3.h,U=3:2, 100.1_4.h,U=4:2,");
    test_assert(exists("special/INBOX/.mbsyncstate.taken-over-by-offlineimap.1"));
    err_clear(&e);
    test_end();
}

/* States under the home directory: ~/.mbsync/ and the places ~/.mbsyncrc names. */
static void test_adopt_home(void)
{
    test_begin("the default SyncState under ~/.mbsync");
    char *home = path("home1");
    setenv("HOME", home, 1);
    setenv("XDG_STATE_HOME", home, 1); /* nothing there */
    unsetenv("XDG_CONFIG_HOME");
    make_mbsync_inbox("home1/Mail", false);
    mt_make_maildir("home1/Mail/Archive.2024");
    put_file("home1/Mail/Archive.2024/.uidvalidity", "1700000000\n2\n");
    put_file("home1/Mail/Archive.2024/cur/1.2_3.h,U=1:2,S", "Subject: x\n\nx\n");
    /* Ours; the same box of another account (other far UIDVALIDITY, same Maildir one);
     * another folder; a retired state. */
    put_file("home1/.mbsync/:remote:INBOX_:local:INBOX", STATE_INBOX);
    put_file("home1/.mbsync/:work-remote:INBOX_:work-local:INBOX",
             "FarUidValidity 999\nNearUidValidity 1700000000\n\n1 1 S\n");
    put_file("home1/.mbsync/:remote:Archive!2024_:local:Archive.2024",
             "FarUidValidity 600\nNearUidValidity 1700000000\n\n5 1 S\n");
    put_file("home1/.mbsync/:remote:INBOX_:local:INBOX.taken-over-by-offlineimap",
             "FarUidValidity 500\nNearUidValidity 1700000000\n\n99 1 S\n");
    struct store *s = new_store("home1/Mail", '.');
    struct store_folder *f = NULL;
    struct err e = ERR_INIT;
    size_t n = 0;
    test_assert(s->ops->open_folder(s, "INBOX", true, &f, &e));
    test_assert(adopt(s, f, 500, &n, &e));
    test_assert_inteq(n, 3);
    char *after = list_uids(s, f);
    test_assert_streq(after, "10:S 20:F 30: 0:RS");
    free(after);
    s->ops->close_folder(&f);
    char *stub = path("home1/.mbsync/:remote:INBOX_:local:INBOX");
    test_assert(mbsync_state_is_stub(stub));
    free(stub);
    test_assert(exists("home1/.mbsync/:remote:INBOX_:local:INBOX.taken-over-by-offlineimap.1"));
    test_assert(exists("home1/.mbsync/:work-remote:INBOX_:work-local:INBOX"));

    /* The other folder's state is found by its own name. */
    test_assert(s->ops->open_folder(s, "Archive.2024", true, &f, &e));
    test_assert(adopt(s, f, 600, &n, &e));
    test_assert_inteq(n, 1);
    after = list_uids(s, f);
    test_assert_streq(after, "5:S");
    free(after);
    s->ops->close_folder(&f);
    s->ops->free(s);
    test_end();

    test_begin("two states that fit are refused");
    make_mbsync_inbox("home2/Mail", false);
    put_file("home2/.mbsync/:remote:INBOX_:local:INBOX", STATE_INBOX);
    put_file("home2/.mbsync/:other:INBOX_:local2:INBOX", STATE_INBOX);
    free(home);
    home = path("home2");
    setenv("HOME", home, 1);
    s = new_store("home2/Mail", '.');
    test_assert(s->ops->open_folder(s, "INBOX", true, &f, &e));
    test_assert(!adopt(s, f, 500, &n, &e));
    test_assert(e.msg && strstr(e.msg, "several mbsync states fit"));
    err_clear(&e);
    after = list_uids(s, f);
    test_assert_streq(after, "0: 0:F 0:RS 0:S");
    free(after);
    s->ops->close_folder(&f);
    s->ops->free(s);
    test_end();

    test_begin("a Channel's SyncState from ~/.mbsyncrc, sep '/'");
    free(home);
    home = path("home3");
    setenv("HOME", home, 1);
    mt_make_maildir("home3/Mail/Lists/isync");
    put_file("home3/Mail/Lists/isync/.uidvalidity", "42\n3\n");
    put_file("home3/Mail/Lists/isync/new/9.9_9.h,U=2:2,", "Subject: y\n\ny\n");
    put_file("home3/.mbsyncrc", "Channel lists\nFar :r:\nNear :l:\nSyncState ~/st/chan-\n");
    put_file("home3/st/chan-Lists!isync", "FarUidValidity 3\nNearUidValidity 42\n\n7 2 \n");
    s = new_store("home3/Mail", '/');
    test_assert(s->ops->open_folder(s, "Lists/isync", true, &f, &e));
    test_assert(adopt(s, f, 3, &n, &e));
    test_assert_inteq(n, 1);
    after = list_uids(s, f);
    test_assert_streq(after, "7:");
    free(after);
    s->ops->close_folder(&f);
    s->ops->free(s);
    test_assert(exists("home3/st/chan-Lists!isync.taken-over-by-offlineimap"));
    free(home);
    err_clear(&e);
    test_end();
}

/* A folder of offlineimap's own, with files of its own: nothing to take over. */
static void test_adopt_none(void)
{
    test_begin("a folder without mbsync is left alone");
    mt_make_maildir("none/INBOX");
    put_file("none/INBOX/cur/1_2.3.h,U=4,FMD5=" INBOX_MD5 ":2,S", "Subject: z\n\nz\n");
    char *home = path("none");
    setenv("HOME", home, 1);
    free(home);
    put_file("none/.mbsync/:remote:INBOX_:local:INBOX", STATE_INBOX);
    struct store *s = new_store("none", '.');
    struct store_folder *f = NULL;
    struct err e = ERR_INIT;
    size_t n = 9;
    test_assert(s->ops->open_folder(s, "INBOX", true, &f, &e));
    test_assert(adopt(s, f, 500, &n, &e));
    test_assert_inteq(n, 0);
    char *after = list_uids(s, f);
    test_assert_streq(after, "4:S");
    free(after);
    s->ops->close_folder(&f);
    s->ops->free(s);
    test_assert(exists("none/.mbsync/:remote:INBOX_:local:INBOX"));
    err_clear(&e);
    test_end();

    test_begin("a folder taken over before is left alone");
    mt_make_maildir("again/INBOX");
    put_file("again/INBOX/cur/1_2.3.h,U=4,FMD5=" INBOX_MD5 ":2,S", "Subject: z\n\nz\n");
    put_file("again/INBOX/.mbsyncstate", MBSYNC_STUB_MARK "; see the other file.\n");
    s = new_store("again", '.');
    test_assert(s->ops->open_folder(s, "INBOX", true, &f, &e));
    test_assert(adopt(s, f, 500, &n, &e));
    test_assert_inteq(n, 0);
    s->ops->close_folder(&f);
    /* With .uidvalidity and a stub under ~/.mbsync (default SyncState). */
    put_file("again/INBOX/.uidvalidity", "1700000000\n7\n");
    char *again = path("again/INBOX/.mbsyncstate");
    unlink(again);
    free(again);
    put_file("none/.mbsync/:remote:INBOX_:local:INBOX", MBSYNC_STUB_MARK "; see the other.\n");
    test_assert(s->ops->open_folder(s, "INBOX", true, &f, &e));
    test_assert(adopt(s, f, 500, &n, &e));
    test_assert_inteq(n, 0);
    test_assert(!err_isset(&e));
    s->ops->close_folder(&f);
    s->ops->free(s);
    err_clear(&e);
    test_end();

    test_begin("a read-only folder is refused");
    make_mbsync_inbox("ro", true);
    s = new_store("ro", '.');
    test_assert(s->ops->open_folder(s, "INBOX", false, &f, &e));
    test_assert(!adopt(s, f, 500, &n, &e));
    test_assert_inteq(e.scope, ERR_FOLDER);
    err_clear(&e);
    s->ops->close_folder(&f);
    s->ops->free(s);
    test_assert(exists("ro/INBOX/.mbsyncstate"));
    test_end();
    remove_tree("ro");
}

int main(void)
{
    /* No state of the user running the tests may be found. */
    setenv("HOME", test_tmpdir(), 1);
    unsetenv("XDG_STATE_HOME");
    unsetenv("XDG_CONFIG_HOME");
    test_adopt_basic();
    test_adopt_refusals();
    test_adopt_resume();
    test_adopt_moved();
    test_adopt_special();
    test_adopt_home();
    test_adopt_none();
    return test_done();
}
