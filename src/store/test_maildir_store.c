/*
 * Unit tests for the Maildir store: the root, folder listing with sep '.'
 * and '/', folder creation and deletion, scanning (foreign FMD5, duplicate
 * UIDs, dot files), listing options, flag renames, deletion and set_uid.
 * Bodies (save and fetch) are tested in test_maildir_io.c.
 */
#include "store/maildir_name.h"
#include "store/store_maildir.h"
#include "store/maildir_testutil.h"

#include "base/fsutil.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INBOX_MD5 "7e33429f656f1e6e9d79b29c3f82c57e"
#define OTHER_MD5 "de0779cc667bdfe1c0425afa667ac264"

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

static void mkdirs(const char *rel)
{
    char *p = path("%s", rel);
    struct err e = ERR_INIT;
    if (!fs_mkdir_p(p, 0700, &e))
        test_fail_at(__FILE__, __LINE__, "mkdir %s: %s", p, e.msg);
    err_clear(&e);
    free(p);
}

static void put_file(const char *rel, const char *content)
{
    char *p = path("%s", rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    test_assert(fd >= 0 && fs_write_all(fd, content, strlen(content)));
    close(fd);
    free(p);
}

static bool exists(const char *rel)
{
    char *p = path("%s", rel);
    bool r = fs_exists(p);
    free(p);
    return r;
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
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
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

#define assert_listing(rel, expect)                                                                \
    do {                                                                                           \
        char *l_ = listing(rel);                                                                   \
        test_assert_streq(l_, expect);                                                             \
        free(l_);                                                                                  \
    } while (0)

static struct store *new_store(const char *rel, char sep)
{
    char *root = path("%s", rel);
    struct maildir_opts o = {.name = "local", .root = root, .sep = sep, .fsync = true};
    struct store *s = store_maildir_new(&o);
    free(root);
    return s;
}

static char *folder_names(const struct store_folder_list *l)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    for (size_t i = 0; i < l->n; i++)
        buf_printf(&b, "%s[%s]", i ? " " : "", l->v[i].name);
    return buf_detach(&b, NULL);
}

static void test_connect(void)
{
    test_begin("maildir connect: existing, created under an existing parent, refused");
    struct err e = ERR_INIT;
    mkdirs("c1");
    struct store *s = new_store("c1/", '.');
    test_assert_streq(store_type(s), "Maildir");
    test_assert(s->ops->connect(s, &e));
    s->ops->free(s);

    s = new_store("c2", '.');
    test_assert(s->ops->connect(s, &e));
    char *p = path("c2");
    struct stat sb;
    test_assert(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == 0700);
    free(p);
    s->ops->free(s);

    /* A missing parent looks like an unmounted disk: nothing is created. */
    s = new_store("c3/Mail", '.');
    test_assert(!s->ops->connect(s, &e));
    test_assert(e.scope == ERR_REPO && strstr(e.msg, "mounted") != NULL);
    test_assert(!exists("c3"));
    err_clear(&e);
    s->ops->free(s);

    put_file("c4", "x");
    s = new_store("c4", '.');
    test_assert(!s->ops->connect(s, &e));
    test_assert(e.scope == ERR_REPO && strstr(e.msg, "not a directory") != NULL);
    err_clear(&e);
    s->ops->free(s);
    test_end();
}

static void test_list_dot(void)
{
    test_begin("maildir list_folders, sep '.': direct Maildirs only");
    mt_make_maildir("l1/INBOX");
    mt_make_maildir("l1/Archive.2020");
    mt_make_maildir("l1/.hidden");
    mt_make_maildir("l1/plain/Sub"); /* nested: not listed with '.' */
    mkdirs("l1/notmaildir/cur");     /* no new/ or tmp/ */
    mt_make_maildir("l1/cur");       /* a Maildir's own name is never a folder */
    put_file("l1/file", "x");
    struct store *s = new_store("l1", '.');
    struct store_folder_list l = {0};
    struct err e = ERR_INIT;
    test_assert(s->ops->list_folders(s, &l, &e));
    char *names = folder_names(&l);
    test_assert_streq(names, "[.hidden] [Archive.2020] [INBOX]");
    test_assert(l.sep == '.');
    free(names);
    store_folder_list_free(&l);

    /* The root itself as a Maildir is the folder "". */
    mt_make_maildir("l1");
    test_assert(s->ops->list_folders(s, &l, &e));
    names = folder_names(&l);
    test_assert_streq(names, "[] [.hidden] [Archive.2020] [INBOX]");
    free(names);
    store_folder_list_free(&l);
    s->ops->free(s);
    test_end();
}

static void test_list_slash(void)
{
    test_begin("maildir list_folders, sep '/': nested, cur/new/tmp skipped, loops end");
    mt_make_maildir("l2/INBOX");
    mt_make_maildir("l2/Archive/2020");
    mt_make_maildir("l2/Archive/2021");
    mt_make_maildir("l2/B");
    mt_make_maildir("l2/B/C");
    mt_make_maildir("l2/B/new/Hidden"); /* under a Maildir's new/: never looked at */
    char *link = path("l2/loop"), *target = path("l2");
    test_assert(symlink(target, link) == 0);
    free(link);
    free(target);
    struct store *s = new_store("l2", '/');
    struct store_folder_list l = {0};
    struct err e = ERR_INIT;
    test_assert(s->ops->list_folders(s, &l, &e));
    char *names = folder_names(&l);
    test_assert_streq(names, "[Archive/2020] [Archive/2021] [B] [B/C] [INBOX]");
    test_assert(l.sep == '/');
    free(names);
    store_folder_list_free(&l);
    s->ops->free(s);
    test_end();
}

static void test_create_delete(void)
{
    test_begin("maildir create_folder / delete_folder");
    struct err e = ERR_INIT;
    mkdirs("cd");
    struct store *s = new_store("cd", '.');
    test_assert(s->ops->create_folder(s, "New.Folder", &e));
    test_assert(s->ops->create_folder(s, "New.Folder", &e)); /* again: fine */
    char *p = path("cd/New.Folder/tmp");
    struct stat sb;
    test_assert(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0700);
    free(p);
    static const char *bad_dot[] = {"a/b", "..", "cur", "new", "tmp", "../x"};
    for (size_t i = 0; i < sizeof(bad_dot) / sizeof(bad_dot[0]); i++) {
        test_assert(!s->ops->create_folder(s, bad_dot[i], &e));
        test_assert(e.scope == ERR_FOLDER && strstr(e.msg, "invalid folder name") != NULL);
        err_clear(&e);
    }
    test_assert(!exists("cd/a"));
    s->ops->free(s);

    s = new_store("cd", '/');
    test_assert(s->ops->create_folder(s, "P/Q/R", &e));
    assert_listing("cd/P", "Q");
    assert_listing("cd/P/Q/R", "cur new tmp");
    static const char *bad_slash[] = {"a//b", "/abs", "a/../b", "a/new", "x/", "..", "tmp/x"};
    for (size_t i = 0; i < sizeof(bad_slash) / sizeof(bad_slash[0]); i++) {
        test_assert(!s->ops->create_folder(s, bad_slash[i], &e));
        err_clear(&e);
    }
    struct store_folder_list l = {0};
    test_assert(s->ops->list_folders(s, &l, &e));
    char *names = folder_names(&l);
    test_assert_streq(names, "[New.Folder] [P/Q/R]");
    free(names);
    store_folder_list_free(&l);

    /* A folder holding mail is never deleted; an empty one is. */
    put_file("cd/P/Q/R/cur/1.2.h:2,S", "x");
    test_assert(!s->ops->delete_folder(s, "P/Q/R", &e));
    test_assert(e.kind == ERRK_GUARD && exists("cd/P/Q/R/cur/1.2.h:2,S"));
    err_clear(&e);
    test_assert(s->ops->delete_folder(s, "New.Folder", &e));
    test_assert(!exists("cd/New.Folder"));
    test_assert(s->ops->delete_folder(s, "New.Folder", &e)); /* gone already */
    test_assert(!s->ops->delete_folder(s, "", &e));
    err_clear(&e);
    s->ops->free(s);
    test_end();
}

static void list_all(struct store *s, struct store_folder *f, struct store_msg_list *l,
                     const struct store_list_opts *o)
{
    struct err e = ERR_INIT;
    struct store_list_opts none = {0};
    l->n = 0;
    test_assert(s->ops->list_msgs(f, o ? o : &none, l, &e));
    store_msg_list_sort(l);
}

/*
 * "uid:flags" for each listed message of a sorted list; the uid-0 ones, whose
 * order is the directory's, sorted by their text.
 */
static char *msgs_text(const struct store_msg_list *l)
{
    struct strvec zero = STRVEC_INIT;
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    for (size_t i = 0; i < l->n; i++) {
        char letters[53];
        flags_to_letters(l->v[i].flags, letters);
        if (l->v[i].uid == 0)
            strvec_push_owned(&zero, xasprintf("0:%s", letters));
        else
            buf_printf(&b, "%s%u:%s", b.len ? " " : "", (unsigned)l->v[i].uid, letters);
    }
    strvec_sort(&zero);
    for (size_t i = 0; i < zero.n; i++)
        buf_printf(&b, "%s%s", b.len ? " " : "", zero.v[i]);
    strvec_free(&zero);
    return buf_detach(&b, NULL);
}

#define assert_msgs(l, expect)                                                                     \
    do {                                                                                           \
        char *t_ = msgs_text(l);                                                                   \
        test_assert_streq(t_, expect);                                                             \
        free(t_);                                                                                  \
    } while (0)

static void test_scan(void)
{
    test_begin("maildir open_folder: UIDs, foreign FMD5, duplicates, dot files");
    mt_make_maildir("s/INBOX");
    put_file("s/INBOX/new/1700000001.M1.host", "plain delivery\n");
    put_file("s/INBOX/cur/1795503430_2.12700.vm,U=2,FMD5=" INBOX_MD5 ":2,S", "two\n");
    put_file("s/INBOX/cur/1795503431_0.12700.vm,U=3,FMD5=" OTHER_MD5 ":2,RS", "moved here\n");
    put_file("s/INBOX/cur/1795503432_0.1.vm,U=4:2,S", "no fmd5\n");
    put_file("s/INBOX/new/.hidden,U=9,FMD5=" INBOX_MD5 ":2,", "dot file\n");
    put_file("s/INBOX/new/dup-a,U=5,FMD5=" INBOX_MD5 ":2,", "first\n");
    put_file("s/INBOX/cur/dup-b,U=5,FMD5=" INBOX_MD5 ":2,S", "second\n");
    put_file("s/INBOX/cur/1795503433_0.1.vm,U=6,FMD5=" INBOX_MD5 ":2,FSa", "six\n");
    mkdirs("s/INBOX/cur/adir");
    struct store *s = new_store("s", '.');
    struct store_folder *f = mt_open_folder(s, "INBOX", false);
    test_assert(f != NULL);
    const struct store_folder_info *info = s->ops->folder_info(f);
    test_assert_inteq(info->uidvalidity, 0);
    test_assert_inteq(info->exists, 7);
    struct store_msg_list l = {0};
    struct store_list_opts o = {.want_size = true};
    list_all(s, f, &l, &o);
    /* new/ is read first, so new/dup-a keeps UID 5 and cur/dup-b gets 0. */
    assert_msgs(&l, "2:S 5: 6:FSa 0: 0:RS 0:S 0:S");
    test_assert_inteq(l.v[0].size, 4);
    test_assert_inteq(l.v[1].size, 6);
    test_assert(l.v[0].date == 0);
    s->ops->close_folder(&f);
    test_assert(f == NULL);

    /* The FMD5 is that of the visible name (the local nametrans). */
    struct err e = ERR_INIT;
    test_assert(!s->ops->open_folder(s, "Missing", false, &f, &e));
    test_assert(e.scope == ERR_FOLDER && strstr(e.msg, "Missing") != NULL);
    err_clear(&e);
    store_msg_list_free(&l);
    s->ops->free(s);
    test_end();
}

static char *to_other(void *ctx, const char *name)
{
    (void)ctx;
    return xstrdup(!strcmp(name, "INBOX") ? "Archive.2020" : name);
}

static void test_scan_nametrans(void)
{
    test_begin("maildir open_folder: FMD5 from the visible name");
    char *root = path("s");
    struct maildir_opts o = {.name = "local", .root = root, .visible_name = to_other};
    struct store *s = store_maildir_new(&o);
    free(root);
    struct store_folder *f = mt_open_folder(s, "INBOX", false);
    struct store_msg_list l = {0};
    list_all(s, f, &l, NULL);
    /* Now only the file with the other FMD5 belongs here. */
    assert_msgs(&l, "3:RS 0: 0: 0:FSa 0:S 0:S 0:S");
    s->ops->close_folder(&f);
    store_msg_list_free(&l);
    s->ops->free(s);
    test_end();
}

static void test_list_opts(void)
{
    test_begin("maildir list_msgs: min_uid, max_size, maxage by file-name time");
    /* OTHER_MD5 is md5("Archive.2020"): these files belong to that folder. */
    mt_make_maildir("o/Archive.2020");
#define N(t, u) #t "_0.1.h,U=" #u ",FMD5=" OTHER_MD5 ":2,S"
    put_file("o/Archive.2020/cur/" N(1000, 10), "0123456789");
    put_file("o/Archive.2020/cur/" N(3000, 5), "0123");
    put_file("o/Archive.2020/cur/" N(3001, 6), "01234567890123456789");
    put_file("o/Archive.2020/cur/" N(1001, 7), "0");
    put_file("o/Archive.2020/cur/" N(1002, 3), "0");
    put_file("o/Archive.2020/new/nodigits", "0");
    put_file("o/Archive.2020/new/1000.old.plain", "0");
#undef N
    struct store *s = new_store("o", '.');
    struct store_folder *f = mt_open_folder(s, "Archive.2020", false);
    struct store_msg_list l = {0};
    list_all(s, f, &l, NULL);
    assert_msgs(&l, "3:S 5:S 6:S 7:S 10:S 0: 0:");

    struct store_list_opts o = {.min_uid = 6};
    list_all(s, f, &l, &o);
    assert_msgs(&l, "6:S 7:S 10:S 0: 0:");

    o = (struct store_list_opts){.max_size = 10, .want_date = true};
    list_all(s, f, &l, &o);
    assert_msgs(&l, "3:S 5:S 7:S 10:S 0: 0:");
    test_assert(l.v[0].date > 0 && l.v[0].size == 0);

    /* Within: 5, 6 and the name without digits; 7 and 10 are older but above
     * the lowest UID inside, so they come back; 3 and the old plain file stay out. */
    o = (struct store_list_opts){.min_date = 2000};
    list_all(s, f, &l, &o);
    assert_msgs(&l, "5:S 6:S 7:S 10:S 0:");

    o = (struct store_list_opts){.min_date = 5000};
    list_all(s, f, &l, &o);
    assert_msgs(&l, "0:");
    s->ops->close_folder(&f);
    store_msg_list_free(&l);
    s->ops->free(s);
    test_end();
}

static const struct store_msg *by_uid(const struct store_msg_list *l, uint32_t uid)
{
    const struct store_msg *m = store_msg_list_find(l, uid);
    if (!m)
        test_fail_at(__FILE__, __LINE__, "UID %u not listed", (unsigned)uid);
    return m;
}

static void test_set_flags(void)
{
    test_begin("maildir set_flags: renames, new/ <-> cur/, renamed behind our back");
    mt_make_maildir("f/INBOX");
    put_file("f/INBOX/new/1.a.h,U=1,FMD5=" INBOX_MD5 ":2,", "1\n");
    put_file("f/INBOX/cur/2.a.h,U=2,FMD5=" INBOX_MD5 ":2,S", "2\n");
    put_file("f/INBOX/cur/3.a.h,U=3,FMD5=" INBOX_MD5 ":2,S", "3\n");
    put_file("f/INBOX/new/4.a.h,U=4,FMD5=" INBOX_MD5 ":2,", "4\n");
    put_file("f/INBOX/new/1700000001.M1.host", "plain\n");
    struct store *s = new_store("f", '.');
    struct store_folder *f = mt_open_folder(s, "INBOX", true);
    struct store_msg_list l = {0};
    list_all(s, f, &l, NULL);
    struct err e = ERR_INIT;

    /* S added: new/ -> cur/. */
    test_assert(s->ops->set_flags(f, by_uid(&l, 1), 1, FLAG_SEEN, true, &e));
    test_assert(exists("f/INBOX/cur/1.a.h,U=1,FMD5=" INBOX_MD5 ":2,S"));
    /* S removed: cur/ -> new/, the empty info part stays as offlineimap writes it. */
    test_assert(s->ops->set_flags(f, by_uid(&l, 2), 1, FLAG_SEEN, false, &e));
    test_assert(exists("f/INBOX/new/2.a.h,U=2,FMD5=" INBOX_MD5 ":2,"));
    /* A plain file gains an info part. */
    struct store_msg plain = l.v[l.n - 1];
    test_assert(plain.uid == 0);
    test_assert(s->ops->set_flags(f, &plain, 1, FLAG_FLAGGED | flag_bit('b'), true, &e));
    test_assert(exists("f/INBOX/new/1700000001.M1.host:2,Fb"));
    /* No change: no rename. */
    test_assert(s->ops->set_flags(f, by_uid(&l, 4), 1, FLAG_SEEN, false, &e));
    test_assert(exists("f/INBOX/new/4.a.h,U=4,FMD5=" INBOX_MD5 ":2,"));

    /* Another program set F on 3 meanwhile: found again, F kept. */
    char *a = path("f/INBOX/cur/3.a.h,U=3,FMD5=" INBOX_MD5 ":2,S");
    char *b = path("f/INBOX/cur/3.a.h,U=3,FMD5=" INBOX_MD5 ":2,FS");
    test_assert(rename(a, b) == 0);
    free(a);
    free(b);
    /* And 4 vanished: a message error, while 3 is still done. */
    char *gone = path("f/INBOX/new/4.a.h,U=4,FMD5=" INBOX_MD5 ":2,");
    unlink(gone);
    free(gone);
    struct store_msg two[2] = {*by_uid(&l, 4), *by_uid(&l, 3)};
    test_assert(!s->ops->set_flags(f, two, 2, FLAG_ANSWERED, true, &e));
    test_assert(e.scope == ERR_MSG && strstr(e.msg, "vanished") != NULL);
    err_clear(&e);
    test_assert(exists("f/INBOX/cur/3.a.h,U=3,FMD5=" INBOX_MD5 ":2,FRS"));

    s->ops->close_folder(&f);
    /* Read back: what the store did is what a new scan sees. */
    f = mt_open_folder(s, "INBOX", false);
    list_all(s, f, &l, NULL);
    assert_msgs(&l, "1:S 2: 3:FRS 0:Fb");
    test_assert(!s->ops->set_flags(f, by_uid(&l, 1), 1, FLAG_DRAFT, true, &e));
    test_assert(e.scope == ERR_FOLDER);
    err_clear(&e);
    s->ops->close_folder(&f);
    store_msg_list_free(&l);
    s->ops->free(s);
    test_end();
}

static void test_delete(void)
{
    test_begin("maildir delete_msgs: unlink, already gone, renamed behind our back");
    mt_make_maildir("d/INBOX");
    put_file("d/INBOX/cur/1.a.h,U=1,FMD5=" INBOX_MD5 ":2,S", "1\n");
    put_file("d/INBOX/cur/2.a.h,U=2,FMD5=" INBOX_MD5 ":2,S", "2\n");
    put_file("d/INBOX/new/3.a.h,U=3,FMD5=" INBOX_MD5 ":2,", "3\n");
    put_file("d/INBOX/new/4.a.h,U=4,FMD5=" INBOX_MD5 ":2,", "4\n");
    struct store *s = new_store("d", '.');
    struct store_folder *f = mt_open_folder(s, "INBOX", true);
    struct store_msg_list l = {0};
    list_all(s, f, &l, NULL);
    char *p = path("d/INBOX/cur/2.a.h,U=2,FMD5=" INBOX_MD5 ":2,S");
    unlink(p);
    free(p);
    char *a = path("d/INBOX/new/3.a.h,U=3,FMD5=" INBOX_MD5 ":2,");
    char *b = path("d/INBOX/cur/3.a.h,U=3,FMD5=" INBOX_MD5 ":2,S");
    test_assert(rename(a, b) == 0);
    free(a);
    free(b);
    struct err e = ERR_INIT;
    struct store_msg del[3] = {*by_uid(&l, 1), *by_uid(&l, 2), *by_uid(&l, 3)};
    test_assert(s->ops->delete_msgs(f, del, 3, &e));
    assert_listing("d/INBOX/cur", "");
    assert_listing("d/INBOX/new", "4.a.h,U=4,FMD5=" INBOX_MD5 ":2,");
    test_assert_inteq(s->ops->folder_info(f)->exists, 1);
    list_all(s, f, &l, NULL);
    assert_msgs(&l, "4:");
    /* A key that is gone is a message error. */
    test_assert(!s->ops->delete_msgs(f, del, 1, &e));
    test_assert(e.scope == ERR_MSG);
    err_clear(&e);
    s->ops->close_folder(&f);
    store_msg_list_free(&l);
    s->ops->free(s);
    test_end();
}

static void test_set_uid(void)
{
    test_begin("maildir set_uid: U= and FMD5= added, unique part and flags kept");
    mt_make_maildir("u/INBOX");
    put_file("u/INBOX/new/1700000001.M1.host", "a\n");
    put_file("u/INBOX/cur/1.M2.h,S=100,W=102:2,S", "b\n");
    put_file("u/INBOX/cur/x,U=3,FMD5=" OTHER_MD5 ":2,RS", "c\n");
    put_file("u/INBOX/cur/,U=9:2,S", "d\n");
    struct store *s = new_store("u", '.');
    struct store_folder *f = mt_open_folder(s, "INBOX", true);
    struct store_msg_list l = {0};
    list_all(s, f, &l, NULL);
    assert_msgs(&l, "0: 0:RS 0:S 0:S");
    struct err e = ERR_INIT;
    for (size_t i = 0; i < l.n; i++)
        test_assert(s->ops->set_uid(f, &l.v[i], (uint32_t)(42 + i), &e));
    test_assert(!s->ops->set_uid(f, &l.v[0], 0, &e));
    err_clear(&e);
    assert_listing("u/INBOX/new", "1700000001.M1.host,U=42,FMD5=" INBOX_MD5 ":2,");
    char *cur = listing("u/INBOX/cur");
    test_assert(strstr(cur, "1.M2.h,S=100,W=102,U=4") != NULL);
    test_assert(strstr(cur, "x,U=4") != NULL);
    test_assert(strstr(cur, ",FMD5=" INBOX_MD5 ":2,RS") != NULL);
    test_assert(strstr(cur, OTHER_MD5) == NULL && strstr(cur, ",U=9") == NULL);
    /* No unique part at all: a fresh one, "<time>_<seq>.<pid>.<host>". */
    char pid[32];
    snprintf(pid, sizeof(pid), ".%ld.", (long)getpid());
    test_assert(strstr(cur, pid) != NULL);
    free(cur);
    s->ops->close_folder(&f);
    f = mt_open_folder(s, "INBOX", false);
    list_all(s, f, &l, NULL);
    /* 42 went to the file in new/ (read first); 43..45 in directory order. */
    test_assert_inteq(l.n, 4);
    int rs = 0;
    for (size_t i = 0; i < l.n && l.n == 4; i++) {
        test_assert_inteq(l.v[i].uid, 42 + i);
        rs += l.v[i].flags == (FLAG_ANSWERED | FLAG_SEEN);
    }
    test_assert(l.v[0].flags == 0 && rs == 1);
    s->ops->close_folder(&f);
    store_msg_list_free(&l);
    s->ops->free(s);
    test_end();
}

int main(void)
{
    test_connect();
    test_list_dot();
    test_list_slash();
    test_create_delete();
    test_scan();
    test_scan_nametrans();
    test_list_opts();
    test_set_flags();
    test_delete();
    test_set_uid();
    return test_done();
}
