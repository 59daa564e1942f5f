/*
 * Unit tests for Maildir message bodies: save (CRLF -> LF at every chunk
 * split, names, durability batching, ENOSPC) and fetch (LF -> CRLF, wire
 * size, errors reported per message).
 *
 * write() and fsync() are wrapped at link time (-Wl,--wrap) so that a full
 * disk and a failing fsync can be simulated.
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
#include <time.h>
#include <unistd.h>

#define INBOX_MD5 "7e33429f656f1e6e9d79b29c3f82c57e"

/* Simulated failures: writes fail with ENOSPC once the budget is spent. */
static bool write_limited;
static size_t write_budget;
static int fsync_errno; /* fsync fails with this when not 0 */
static int fsync_calls;

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __wrap_fsync(int fd);

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (write_limited) {
        if (write_budget == 0) {
            errno = ENOSPC;
            return -1;
        }
        if (n > write_budget)
            n = write_budget;
        write_budget -= n;
    }
    return __real_write(fd, buf, n);
}

int __wrap_fsync(int fd)
{
    fsync_calls++;
    if (fsync_errno) {
        errno = fsync_errno;
        return -1;
    }
    return __real_fsync(fd);
}

static char *path(const char *rel)
{
    return fs_join(test_tmpdir(), rel);
}

/* The only file in a directory, or NULL; *count_r gets the number of files. */
static char *only_file(const char *rel, int *count_r)
{
    char *p = path(rel);
    DIR *d = opendir(p);
    free(p);
    char *name = NULL;
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        n++;
        free(name);
        name = xstrdup(de->d_name);
    }
    if (d)
        closedir(d);
    if (count_r)
        *count_r = n;
    if (n != 1)
        XFREE(name);
    return name;
}

static int count_files(const char *rel)
{
    int n;
    free(only_file(rel, &n));
    return n;
}

static struct store *new_store_sync(const char *rel, bool dofsync, unsigned batch, bool per_file)
{
    char *root = path(rel);
    struct maildir_opts o = {.name = "local",
                             .root = root,
                             .fsync = dofsync,
                             .batch_msgs = batch,
                             .per_file_fsync = per_file};
    struct store *s = store_maildir_new(&o);
    free(root);
    return s;
}

static struct store *new_store(const char *rel, bool dofsync, unsigned batch)
{
    return new_store_sync(rel, dofsync, batch, false);
}

/* Callbacks of saves, in the order they ran. */
struct saved_log {
    int n;
    uint64_t tokens[64];
    uint32_t uids[64];
    int errors;
};

static void on_saved(void *ctx, uint64_t token, uint32_t new_uid, const struct err *e)
{
    struct saved_log *log = ctx;
    if (log->n < 64) {
        log->tokens[log->n] = token;
        log->uids[log->n] = new_uid;
    }
    log->n++;
    if (e && err_isset(e))
        log->errors++;
}

/* Save data in chunks of the given sizes (0 ends; the rest in one chunk). */
static bool save_chunks(struct store *s, struct store_folder *f, uint32_t uid, flagset_t flags,
                        const char *data, size_t len, const size_t *splits, struct saved_log *log,
                        uint64_t token, struct err *e)
{
    struct store_msg meta = {.uid = uid, .flags = flags};
    struct store_writer *w;
    if (!s->ops->save_begin(f, &meta, len, &w, e))
        return false;
    size_t off = 0;
    for (const size_t *sp = splits; sp && *sp && off < len; sp++) {
        size_t n = *sp < len - off ? *sp : len - off;
        if (!s->ops->save_write(w, data + off, n, e)) {
            s->ops->save_abort(w);
            return false;
        }
        off += n;
    }
    if (off < len && !s->ops->save_write(w, data + off, len - off, e)) {
        s->ops->save_abort(w);
        return false;
    }
    return s->ops->save_commit(w, &meta, on_saved, log, token, e);
}

/* Sink that records what fetch delivers. */
struct rec_msg {
    struct store_msg meta;
    uint64_t wire;
    struct buf data;
    bool ended, aborted;
};

struct rec {
    struct rec_msg v[8];
    int n;
    int msg_errors;
    char last_error[512];
    int fail_write_of; /* fail write() of this message (1-based), 0 = never */
    enum err_scope fail_scope;
};

static bool rec_begin(void *ctx, const struct store_msg *meta, uint64_t wire, struct err *e)
{
    struct rec *r = ctx;
    struct rec_msg *m = &r->v[r->n++ % 8];
    m->meta = *meta;
    m->wire = wire;
    buf_release(&m->data);
    buf_init(&m->data, BUF_UNBOUNDED);
    m->ended = m->aborted = false;
    return true;
}

static bool rec_write(void *ctx, const void *data, size_t len, struct err *e)
{
    struct rec *r = ctx;
    if (r->fail_write_of == r->n) {
        err_set(e, r->fail_scope, ERRK_GENERIC, "sink refuses message %d", r->n);
        return false;
    }
    buf_append(&r->v[(r->n - 1) % 8].data, data, len);
    return true;
}

static bool rec_end(void *ctx, const struct store_msg *meta, struct err *e)
{
    struct rec *r = ctx;
    r->v[(r->n - 1) % 8].ended = true;
    return true;
}

static void rec_abort(void *ctx)
{
    struct rec *r = ctx;
    r->v[(r->n - 1) % 8].aborted = true;
}

static void rec_msg_error(void *ctx, const struct store_msg *meta, const struct err *e)
{
    struct rec *r = ctx;
    r->msg_errors++;
    snprintf(r->last_error, sizeof(r->last_error), "%s", e->msg);
}

static struct store_sink rec_sink(struct rec *r)
{
    return (struct store_sink){rec_begin, rec_write, rec_end, rec_abort, rec_msg_error, r};
}

static void rec_free(struct rec *r)
{
    for (int i = 0; i < 8; i++)
        buf_release(&r->v[i].data);
}

static void list_all(struct store *s, struct store_folder *f, struct store_msg_list *l)
{
    struct err e = ERR_INIT;
    struct store_list_opts o = {0};
    l->n = 0;
    test_assert(s->ops->list_msgs(f, &o, l, &e));
    store_msg_list_sort(l);
}

/* Fetch the message with uid and compare with the wire bytes expected. */
static void expect_fetch(struct store *s, struct store_folder *f, uint32_t uid, const char *wire,
                         size_t wlen)
{
    struct store_msg_list l = {0};
    list_all(s, f, &l);
    const struct store_msg *m = store_msg_list_find(&l, uid);
    test_assert(m != NULL);
    struct rec r = {0};
    struct store_sink sink = rec_sink(&r);
    struct err e = ERR_INIT;
    if (m) {
        test_assert(s->ops->fetch(f, m, 1, &sink, &e));
        test_assert(r.n == 1 && r.v[0].ended && !r.v[0].aborted && r.msg_errors == 0);
        test_assert_inteq(r.v[0].wire, wlen);
        test_assert_inteq(r.v[0].data.len, wlen);
        test_assert(r.v[0].data.len == wlen && memcmp(r.v[0].data.data, wire, wlen) == 0);
        test_assert_inteq(r.v[0].meta.uid, uid);
    }
    rec_free(&r);
    store_msg_list_free(&l);
}

/* Read a file of folder dir into out. */
static void read_rel(const char *rel, struct buf *out)
{
    char *p = path(rel);
    struct err e = ERR_INIT;
    buf_reset(out);
    test_assert(fs_read_file(p, 1 << 24, out, &e));
    err_clear(&e);
    free(p);
}

/* CRLF -> LF, as the file should hold the wire bytes. */
static char *crlf_to_lf(const char *wire, size_t len, size_t *out_len)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (wire[i] == '\r' && i + 1 < len && wire[i + 1] == '\n')
            continue;
        out[o++] = wire[i];
    }
    *out_len = o;
    return out;
}

/* Check every file in dir holds exactly expect; returns how many there are. */
static int check_files(const char *dir, const char *expect, size_t elen)
{
    char *p = path(dir);
    DIR *d = opendir(p);
    int n = 0;
    struct dirent *de;
    struct buf b;
    buf_init(&b, 1 << 24);
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *rel = xasprintf("%s/%s", dir, de->d_name);
        read_rel(rel, &b);
        if (b.len != elen || memcmp(b.data, expect, elen) != 0)
            test_fail_at(__FILE__, __LINE__, "%s: content differs (%zu bytes, expected %zu)", rel,
                         b.len, elen);
        free(rel);
        n++;
    }
    if (d)
        closedir(d);
    buf_release(&b);
    free(p);
    return n;
}

static const char tricky[] = "From: a@example.org\r\n"
                             "Subject: t\xc3\xa9st\r\n"
                             "\r\n"
                             "line one\r\n"
                             "a lone\rCR stays\r\n"
                             "\r\n"
                             "8-bit \xff\xfe and a NUL \0 byte\r\n"
                             "\r"
                             "ends without a newline";

static void test_save_every_split(void)
{
    test_begin("maildir save: CRLF -> LF at every chunk split, fetched back exactly");
    mt_make_maildir("sp/INBOX");
    struct store *s = new_store("sp", false, 0);
    struct store_folder *f = mt_open_folder(s, "INBOX", true);
    size_t len = sizeof(tricky) - 1, flen;
    char *file = crlf_to_lf(tricky, len, &flen);
    struct saved_log log = {0};
    struct err e = ERR_INIT;
    for (size_t k = 0; k <= len; k++) {
        size_t splits[] = {k, 0};
        test_assert(
            save_chunks(s, f, (uint32_t)(100 + k), FLAG_SEEN, tricky, len, splits, &log, k, &e));
    }
    size_t ones[sizeof(tricky)];
    for (size_t i = 0; i < len; i++)
        ones[i] = 1;
    ones[len] = 0;
    test_assert(save_chunks(s, f, 99, FLAG_SEEN, tricky, len, ones, &log, 99, &e));
    /* fsync off: every callback ran at once, with the UID saved under. */
    test_assert_inteq(log.n, (int)len + 2);
    test_assert(log.errors == 0 && log.uids[0] == 100 && log.tokens[1] == 1);
    test_assert_inteq(check_files("sp/INBOX/cur", file, flen), (int)len + 2);
    test_assert_inteq(count_files("sp/INBOX/tmp"), 0);
    for (size_t k = 0; k <= len; k += 7)
        expect_fetch(s, f, (uint32_t)(100 + k), tricky, len);
    expect_fetch(s, f, 99, tricky, len);
    s->ops->close_folder(&f);
    s->ops->free(s);
    free(file);
    test_end();
}

static void test_save_long(void)
{
    test_begin("maildir save/fetch: long lines, CRLF across 64 KiB boundaries");
    mt_make_maildir("lg/INBOX");
    struct store *s = new_store("lg", true, 0);
    struct store_folder *f = mt_open_folder(s, "INBOX", true);
    struct buf w;
    buf_init(&w, BUF_UNBOUNDED);
    buf_append_str(&w, "X-Long: ");
    for (int i = 0; i < 150000; i++)
        buf_append_char(&w, 'a');
    buf_append_str(&w, "\r\n\r\n");
    for (int i = 0; i < 40000; i++)
        buf_append_str(&w, i % 7 ? "b\r\n" : "\r\n");
    size_t flen;
    char *file = crlf_to_lf(w.data, w.len, &flen);
    size_t splits[][7] = {{65535, 1, 2, 3, 70000, 0}, {4096, 0}, {1, 65536, 0}, {0}};
    struct saved_log log = {0};
    struct err e = ERR_INIT;
    for (size_t i = 0; i < sizeof(splits) / sizeof(splits[0]); i++)
        test_assert(save_chunks(s, f, (uint32_t)(1 + i), 0, w.data, w.len, splits[i], &log, i, &e));
    test_assert(s->ops->flush(f, &e));
    test_assert(log.n == 4 && log.errors == 0);
    test_assert_inteq(check_files("lg/INBOX/new", file, flen), 4);
    for (uint32_t uid = 1; uid <= 4; uid++)
        expect_fetch(s, f, uid, w.data, w.len);
    s->ops->close_folder(&f);
    s->ops->free(s);
    free(file);
    buf_release(&w);
    test_end();
}

static void put_raw(const char *rel, const char *data, size_t len)
{
    char *p = path(rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    test_assert(fd >= 0 && fs_write_all(fd, data, len));
    close(fd);
    free(p);
}

static void test_fetch_files(void)
{
    test_begin("maildir fetch: files written by others (bare LF, CRLF, CR, empty, boundaries)");
    mt_make_maildir("ff/INBOX");
#define NAME(u) "ff/INBOX/cur/m" #u ",U=" #u ",FMD5=" INBOX_MD5 ":2,S"
    put_raw(NAME(1), "a\nb\r\nc\rd\n", 9);
    put_raw(NAME(2), "", 0);
    put_raw(NAME(3), "\n\n", 2);
    /* LF as the last byte of the first 64 KiB read, CRLF straddling the next. */
    size_t big = 3 * 65536;
    char *raw = xmalloc(big);
    memset(raw, 'x', big);
    raw[65535] = '\n';
    raw[2 * 65536 - 1] = '\r';
    raw[2 * 65536] = '\n';
    raw[big - 1] = '\n';
    put_raw(NAME(4), raw, big);
#undef NAME
    struct store *s = new_store("ff", false, 0);
    struct store_folder *f = mt_open_folder(s, "INBOX", true);
    expect_fetch(s, f, 1, "a\r\nb\r\nc\rd\r\n", 11);
    expect_fetch(s, f, 2, "", 0);
    expect_fetch(s, f, 3, "\r\n\r\n", 4);
    char *wire = xmalloc(big + 2);
    memcpy(wire, raw, 65535);
    memcpy(wire + 65535, "\r\n", 2);
    memcpy(wire + 65537, raw + 65536, big - 65536 - 1);
    memcpy(wire + big, "\r\n", 2);
    expect_fetch(s, f, 4, wire, big + 2);
    free(wire);
    free(raw);

    /* What the round trip cannot keep: a bare LF and a CR before CRLF. */
    struct saved_log log = {0};
    struct err e = ERR_INIT;
    const char odd[] = "a\nb\r\r\nc";
    test_assert(save_chunks(s, f, 50, 0, odd, sizeof(odd) - 1, NULL, &log, 0, &e));
    struct buf b;
    buf_init(&b, 1024);
    char *name = only_file("ff/INBOX/new", NULL);
    char *rel = xasprintf("ff/INBOX/new/%s", name ? name : "?");
    read_rel(rel, &b);
    test_assert(b.len == 6 && memcmp(b.data, "a\nb\r\nc", 6) == 0);
    expect_fetch(s, f, 50, "a\r\nb\r\nc", 7);
    free(rel);
    free(name);
    buf_release(&b);
    s->ops->close_folder(&f);
    s->ops->free(s);
    test_end();
}

static void test_save_names(void)
{
    test_begin("maildir save: offlineimap names, new/ or cur/ by S, uid 0, duplicate UID");
    mt_make_maildir("nm/INBOX");
    /* fsync off: files go into place at commit (batching is tested below). */
    struct store *s = new_store("nm", false, 0);
    struct store_folder *f = mt_open_folder(s, "INBOX", true);
    struct saved_log log = {0};
    struct err e = ERR_INIT;
    time_t now = time(NULL);
    test_assert(save_chunks(s, f, 7, FLAG_SEEN | FLAG_FLAGGED, "x\r\n", 3, NULL, &log, 1, &e));
    char *name = only_file("nm/INBOX/cur", NULL);
    test_assert(name != NULL);
    if (name) {
        struct maildir_name p;
        test_assert(maildir_name_parse(name, strlen(name), ':', INBOX_MD5, &p));
        test_assert_inteq(maildir_name_folder_uid(&p), 7);
        test_assert(p.flags == (FLAG_SEEN | FLAG_FLAGGED));
        test_assert(p.has_time && p.time >= now - 5 && p.time <= now + 5);
        char pid[32];
        snprintf(pid, sizeof(pid), ".%ld.", (long)getpid());
        test_assert(strstr(name, pid) != NULL);
        test_assert(strstr(name, maildir_name_hostname()) != NULL);
        test_assert(str_has_suffix(name, ",U=7,FMD5=" INBOX_MD5 ":2,FS"));
    }
    free(name);
    test_assert(save_chunks(s, f, 8, 0, "y\r\n", 3, NULL, &log, 2, &e));
    name = only_file("nm/INBOX/new", NULL);
    test_assert(name && str_has_suffix(name, ",U=8,FMD5=" INBOX_MD5 ":2,"));
    free(name);
    /* uid 0: a file the sync will see as new. */
    test_assert(save_chunks(s, f, 0, 0, "z\r\n", 3, NULL, &log, 3, &e));
    test_assert_inteq(count_files("nm/INBOX/new"), 2);
    /* The same UID again: no second file; the flags of the later save win. */
    test_assert(save_chunks(s, f, 8, FLAG_SEEN, "y\r\n", 3, NULL, &log, 4, &e));
    test_assert_inteq(count_files("nm/INBOX/new"), 1);
    test_assert_inteq(count_files("nm/INBOX/cur"), 2);
    test_assert_inteq(count_files("nm/INBOX/tmp"), 0);
    test_assert(s->ops->flush(f, &e));
    test_assert(log.n == 4 && log.errors == 0 && log.uids[3] == 8);
    struct store_msg_list l = {0};
    list_all(s, f, &l);
    test_assert_inteq(l.n, 3);
    test_assert(l.n == 3 && l.v[0].uid == 7 && l.v[1].uid == 8 && l.v[2].uid == 0);
    test_assert(l.n == 3 && l.v[1].flags == FLAG_SEEN);
    store_msg_list_free(&l);

    /* An aborted save leaves nothing. */
    struct store_msg meta = {.uid = 11};
    struct store_writer *w;
    test_assert(s->ops->save_begin(f, &meta, 3, &w, &e));
    test_assert(s->ops->save_write(w, "abc", 3, &e));
    s->ops->save_abort(w);
    test_assert_inteq(count_files("nm/INBOX/tmp"), 0);
    s->ops->close_folder(&f);

    /* A folder opened for reading refuses saves. */
    test_assert(s->ops->open_folder(s, "INBOX", false, &f, &e));
    test_assert(!s->ops->save_begin(f, &meta, 3, &w, &e));
    test_assert(e.scope == ERR_FOLDER);
    err_clear(&e);
    s->ops->close_folder(&f);
    s->ops->free(s);
    test_end();
}

static void test_batching(void)
{
    test_begin("maildir save: one data sync per batch, renames and callbacks after it");
    mt_make_maildir("bt/INBOX");
    struct store *s = new_store("bt", true, 3);
    struct store_folder *f = mt_open_folder(s, "INBOX", true);
    struct saved_log log = {0};
    struct err e = ERR_INIT;
    fsync_calls = 0;
    test_assert(save_chunks(s, f, 1, 0, "1\r\n", 3, NULL, &log, 1, &e));
    test_assert(save_chunks(s, f, 2, FLAG_SEEN, "2\r\n", 3, NULL, &log, 2, &e));
    /* Waiting in tmp/: not yet visible to mail readers, no callback, no fsync. */
    test_assert_inteq(log.n, 0);
    test_assert_inteq(fsync_calls, 0);
    test_assert_inteq(count_files("bt/INBOX/tmp"), 2);
    test_assert_inteq(count_files("bt/INBOX/new") + count_files("bt/INBOX/cur"), 0);
    test_assert(save_chunks(s, f, 3, 0, "3\r\n", 3, NULL, &log, 3, &e));
    /* The batch is full: one syncfs (not counted), renames, then new/ and cur/. */
    test_assert_inteq(log.n, 3);
    test_assert(log.tokens[0] == 1 && log.tokens[1] == 2 && log.tokens[2] == 3);
    test_assert_inteq(fsync_calls, 2);
    test_assert_inteq(count_files("bt/INBOX/tmp"), 0);
    test_assert_inteq(count_files("bt/INBOX/new"), 2);
    test_assert_inteq(count_files("bt/INBOX/cur"), 1);
    test_assert(save_chunks(s, f, 4, 0, "4\r\n", 3, NULL, &log, 4, &e));
    test_assert_inteq(log.n, 3);
    test_assert(s->ops->flush(f, &e));
    test_assert(log.n == 4 && log.tokens[3] == 4 && log.errors == 0);
    test_assert_inteq(fsync_calls, 2 + 1); /* only new/ this time */
    test_assert(s->ops->flush(f, &e));     /* nothing pending: no fsync */
    test_assert_inteq(fsync_calls, 2 + 1);
    test_assert(save_chunks(s, f, 5, 0, "5\r\n", 3, NULL, &log, 5, &e));
    test_assert_inteq(log.n, 4);
    s->ops->close_folder(&f); /* closing flushes */
    test_assert(log.n == 5 && log.errors == 0);

    /* A failed directory fsync reaches every waiting callback; saving stops. */
    f = mt_open_folder(s, "INBOX", true);
    test_assert(save_chunks(s, f, 6, 0, "6\r\n", 3, NULL, &log, 6, &e));
    fsync_errno = EIO;
    test_assert(!s->ops->flush(f, &e));
    fsync_errno = 0;
    test_assert(e.scope == ERR_FOLDER && strstr(e.msg, "fsync") != NULL);
    err_clear(&e);
    test_assert(log.n == 6 && log.errors == 1);
    struct store_msg meta = {.uid = 7};
    struct store_writer *w;
    test_assert(!s->ops->save_begin(f, &meta, 3, &w, &e));
    test_assert(e.scope == ERR_FOLDER);
    err_clear(&e);
    s->ops->close_folder(&f);
    s->ops->free(s);

    /* Per-file fsync: each file at commit, then the directories per batch. */
    mt_make_maildir("bp/INBOX");
    s = new_store_sync("bp", true, 2, true);
    f = mt_open_folder(s, "INBOX", true);
    fsync_calls = 0;
    log.n = 0;
    test_assert(save_chunks(s, f, 1, 0, "1\r\n", 3, NULL, &log, 1, &e));
    test_assert(log.n == 0 && fsync_calls == 1);
    test_assert(save_chunks(s, f, 2, 0, "2\r\n", 3, NULL, &log, 2, &e));
    test_assert(log.n == 2 && fsync_calls == 2 + 1);
    s->ops->close_folder(&f);
    s->ops->free(s);

    /* fsync off: at once, and no fsync at all. */
    s = new_store("bt", false, 3);
    f = mt_open_folder(s, "INBOX", true);
    fsync_calls = 0;
    log.n = 0;
    test_assert(save_chunks(s, f, 8, 0, "8\r\n", 3, NULL, &log, 8, &e));
    test_assert(log.n == 1 && log.tokens[0] == 8 && fsync_calls == 0);
    s->ops->close_folder(&f);
    s->ops->free(s);
    test_end();
}

static void test_enospc(void)
{
    test_begin("maildir save: a full disk is ERRK_NOSPACE and leaves no file");
    mt_make_maildir("ns/INBOX");
    /* Per-file fsync, so that an fsync failure belongs to one message. */
    struct store *s = new_store_sync("ns", true, 0, true);
    struct store_folder *f = mt_open_folder(s, "INBOX", true);
    struct saved_log log = {0};
    struct err e = ERR_INIT;
    size_t big = 200000;
    char *body = xmalloc(big);
    memset(body, 'm', big);
    for (size_t i = 80; i < big; i += 81)
        body[i] = '\n';

    /* Full while writing (a chunk is drained mid-message). */
    write_limited = true;
    write_budget = 100;
    test_assert(!save_chunks(s, f, 1, 0, body, big, NULL, &log, 1, &e));
    test_assert(e.kind == ERRK_NOSPACE && e.scope == ERR_FOLDER);
    err_clear(&e);

    /* Full when the last bytes are written at commit. */
    write_budget = 10;
    test_assert(!save_chunks(s, f, 2, 0, body, 1000, NULL, &log, 2, &e));
    test_assert(e.kind == ERRK_NOSPACE);
    err_clear(&e);
    write_limited = false;

    /* Full when fsync finds out. */
    fsync_errno = ENOSPC;
    test_assert(!save_chunks(s, f, 3, 0, body, 1000, NULL, &log, 3, &e));
    fsync_errno = 0;
    test_assert(e.kind == ERRK_NOSPACE);
    err_clear(&e);

    test_assert_inteq(count_files("ns/INBOX/tmp"), 0);
    test_assert_inteq(count_files("ns/INBOX/new"), 0);
    test_assert_inteq(count_files("ns/INBOX/cur"), 0);
    test_assert_inteq(log.n, 0);
    /* The folder works again once there is room. */
    test_assert(save_chunks(s, f, 4, 0, body, big, NULL, &log, 4, &e));
    test_assert(s->ops->flush(f, &e) && log.n == 1);
    test_assert_inteq(count_files("ns/INBOX/new"), 1);
    free(body);
    s->ops->close_folder(&f);
    s->ops->free(s);
    test_end();
}

static void test_fetch_errors(void)
{
    test_begin("maildir fetch: vanished file, sink errors, renamed file");
    mt_make_maildir("fe/INBOX");
#define NAME(u) "fe/INBOX/cur/m" #u ",U=" #u ",FMD5=" INBOX_MD5 ":2,S"
    put_raw(NAME(1), "one\n", 4);
    put_raw(NAME(2), "two\n", 4);
    put_raw(NAME(3), "three\n", 6);
    struct store *s = new_store("fe", false, 0);
    struct store_folder *f = mt_open_folder(s, "INBOX", true);
    struct store_msg_list l = {0};
    list_all(s, f, &l);
    test_assert_inteq(l.n, 3);
    char *p = path(NAME(2));
    unlink(p);
    free(p);
    /* Renamed by a mail reader since the scan: still delivered. */
    char *a = path(NAME(3)), *b = path("fe/INBOX/cur/m3,U=3,FMD5=" INBOX_MD5 ":2,RS");
    test_assert(rename(a, b) == 0);
    free(a);
    free(b);
#undef NAME
    struct rec r = {0};
    struct store_sink sink = rec_sink(&r);
    struct err e = ERR_INIT;
    test_assert(s->ops->fetch(f, l.v, l.n, &sink, &e));
    test_assert(r.n == 2 && r.msg_errors == 1 && strstr(r.last_error, "vanished") != NULL);
    test_assert(r.v[0].ended && r.v[0].data.len == 5 && r.v[0].meta.uid == 1);
    test_assert(r.v[1].ended && r.v[1].data.len == 7 && r.v[1].meta.uid == 3);
    test_assert(r.v[1].meta.flags == (FLAG_ANSWERED | FLAG_SEEN));
    rec_free(&r);

    /* The sink refuses one message: aborted, reported, the rest goes on. */
    struct store_msg two[2] = {l.v[0], l.v[2]};
    r = (struct rec){.fail_write_of = 1, .fail_scope = ERR_MSG};
    test_assert(s->ops->fetch(f, two, 2, &sink, &e));
    test_assert(r.n == 2 && r.v[0].aborted && !r.v[0].ended && r.v[1].ended);
    test_assert(r.msg_errors == 1 && strstr(r.last_error, "refuses") != NULL);
    rec_free(&r);

    /* A wider sink error stops the fetch. */
    r = (struct rec){.fail_write_of = 1, .fail_scope = ERR_FOLDER};
    test_assert(!s->ops->fetch(f, two, 2, &sink, &e));
    test_assert(e.scope == ERR_FOLDER && r.n == 1 && r.v[0].aborted);
    err_clear(&e);
    rec_free(&r);

    /* An unknown key is a message error. */
    struct store_msg bogus = {.uid = 77, .key = 1000};
    r = (struct rec){0};
    test_assert(s->ops->fetch(f, &bogus, 1, &sink, &e));
    test_assert(r.n == 0 && r.msg_errors == 1);
    rec_free(&r);
    s->ops->close_folder(&f);
    store_msg_list_free(&l);
    s->ops->free(s);
    test_end();
}

int main(void)
{
    test_save_every_split();
    test_save_long();
    test_fetch_files();
    test_save_names();
    test_batching();
    test_enospc();
    test_fetch_errors();
    return test_done();
}
