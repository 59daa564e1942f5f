/*
 * Unit tests for the Maildir store's save batches (store_maildir_batch.c): a
 * full batch's data sync runs in a helper thread while the next batch is
 * written; no file of a batch is renamed into place and no callback runs
 * before its sync returned; a failed sync fails its batch and the one written
 * after it, and saving stops.
 *
 * syncfs() and fsync() are wrapped at link time (-Wl,--wrap): syncfs() can be
 * held at a gate (to see what happens while a batch syncs) or made to fail.
 */
#define _GNU_SOURCE
#include "store/store_maildir.h"
#include "store/maildir_testutil.h"

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH 20 /* above the size synced file by file */

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_closed;        /* syncfs() waits while true */
static atomic_int syncfs_calls; /* entered */
static atomic_int syncfs_errno; /* syncfs() fails with this when not 0 */
static atomic_int fsync_calls;

int __real_syncfs(int fd);
int __wrap_syncfs(int fd);
int __real_fsync(int fd);
int __wrap_fsync(int fd);

int __wrap_syncfs(int fd)
{
    atomic_fetch_add(&syncfs_calls, 1);
    pthread_mutex_lock(&gate_lock);
    while (gate_closed)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    int err = atomic_load(&syncfs_errno);
    if (err) {
        errno = err;
        return -1;
    }
    return __real_syncfs(fd);
}

int __wrap_fsync(int fd)
{
    atomic_fetch_add(&fsync_calls, 1);
    return __real_fsync(fd);
}

static void gate(bool closed)
{
    pthread_mutex_lock(&gate_lock);
    gate_closed = closed;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}

/* Wait (up to 10 s) until syncfs() has been entered n times. */
static bool syncfs_entered(int n)
{
    for (int i = 0; i < 10000 && atomic_load(&syncfs_calls) < n; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return atomic_load(&syncfs_calls) >= n;
}

static char *path(const char *rel)
{
    return fs_join(test_tmpdir(), rel);
}

static int count_files(const char *rel)
{
    char *p = path(rel);
    DIR *d = opendir(p);
    free(p);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        n += de->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static int placed(const char *folder)
{
    char *n = xasprintf("%s/new", folder), *c = xasprintf("%s/cur", folder);
    int k = count_files(n) + count_files(c);
    free(n);
    free(c);
    return k;
}

static int in_tmp(const char *folder)
{
    char *t = xasprintf("%s/tmp", folder);
    int k = count_files(t);
    free(t);
    return k;
}

/* Callbacks of saves, in the order they ran. */
struct saved_log {
    int n;
    uint64_t tokens[128];
    int errors;
};

static void on_saved(void *ctx, uint64_t token, uint32_t new_uid, const struct err *e)
{
    (void)new_uid;
    struct saved_log *log = ctx;
    if (log->n < 128)
        log->tokens[log->n] = token;
    log->n++;
    if (e && err_isset(e))
        log->errors++;
}

static bool save(struct store *s, struct store_folder *f, uint32_t uid, struct saved_log *log)
{
    struct store_msg meta = {.uid = uid, .flags = uid % 2 ? FLAG_SEEN : 0};
    struct store_writer *w;
    struct err e = ERR_INIT;
    char body[64];
    int len = snprintf(body, sizeof(body), "Subject: %u\r\n\r\nbody %u\r\n", uid, uid);
    bool ok = s->ops->save_begin(f, &meta, (uint64_t)len, &w, &e);
    if (ok && !s->ops->save_write(w, body, (size_t)len, &e)) {
        s->ops->save_abort(w);
        ok = false;
    }
    ok = ok && s->ops->save_commit(w, &meta, on_saved, log, uid, &e);
    err_clear(&e);
    return ok;
}

static struct store *new_store(const char *rel)
{
    char *root = path(rel);
    struct maildir_opts o = {.name = "local", .root = root, .fsync = true, .batch_msgs = BATCH};
    struct store *s = store_maildir_new(&o);
    free(root);
    return s;
}

static bool tokens_in_order(const struct saved_log *log, int from, int to)
{
    for (int i = from; i < to; i++)
        if (log->tokens[i] != (uint64_t)i + 1)
            return false;
    return true;
}

static void test_overlap(void)
{
    test_begin("maildir batch: the next batch is written while one syncs; nothing placed early");
    mt_make_maildir("ov/INBOX");
    struct store *s = new_store("ov");
    struct store_folder *f = mt_open_folder(s, "INBOX", true);
    struct saved_log log = {0};
    atomic_store(&syncfs_calls, 0);
    gate(true);
    for (uint32_t u = 1; u <= BATCH; u++)
        test_assert(save(s, f, u, &log));
    /* The first batch is full: its sync runs (held at the gate) and the caller goes on. */
    test_assert(syncfs_entered(1));
    for (uint32_t u = BATCH + 1; u < 2 * BATCH; u++)
        test_assert(save(s, f, u, &log));
    /* Until its sync returns, no file of the first batch is in place and nothing is recorded. */
    test_assert_inteq(log.n, 0);
    test_assert_inteq(placed("ov/INBOX"), 0);
    test_assert_inteq(in_tmp("ov/INBOX"), 2 * BATCH - 1);
    test_assert_inteq(atomic_load(&syncfs_calls), 1);
    gate(false);
    /* The second batch is full: the first is finished here, in order, the second handed over. */
    atomic_store(&fsync_calls, 0);
    test_assert(save(s, f, 2 * BATCH, &log));
    test_assert_inteq(log.n, BATCH);
    test_assert(tokens_in_order(&log, 0, BATCH) && log.errors == 0);
    test_assert_inteq(placed("ov/INBOX"), BATCH);
    test_assert_inteq(atomic_load(&fsync_calls), 2); /* new/ and cur/ */
    test_assert(syncfs_entered(2));
    for (uint32_t u = 2 * BATCH + 1; u <= 2 * BATCH + 3; u++)
        test_assert(save(s, f, u, &log));
    s->ops->close_folder(&f); /* closing finishes both */
    test_assert_inteq(log.n, 2 * BATCH + 3);
    test_assert(tokens_in_order(&log, 0, 2 * BATCH + 3) && log.errors == 0);
    test_assert_inteq(placed("ov/INBOX"), 2 * BATCH + 3);
    test_assert_inteq(in_tmp("ov/INBOX"), 0);
    s->ops->free(s);
    test_end();
}

static void test_failed_sync(void)
{
    test_begin("maildir batch: a failed sync fails its batch and the next one; saving stops");
    mt_make_maildir("fs/INBOX");
    struct store *s = new_store("fs");
    struct store_folder *f = mt_open_folder(s, "INBOX", true);
    struct saved_log log = {0};
    atomic_store(&syncfs_errno, EIO);
    for (uint32_t u = 1; u <= 2 * BATCH; u++)
        test_assert(save(s, f, u, &log));
    /* The second full batch found the first one's failure: both failed, no file left. */
    test_assert_inteq(log.n, 2 * BATCH);
    test_assert_inteq(log.errors, 2 * BATCH);
    test_assert_inteq(placed("fs/INBOX"), 0);
    test_assert_inteq(in_tmp("fs/INBOX"), 0);
    atomic_store(&syncfs_errno, 0);
    test_assert(!save(s, f, 2 * BATCH + 1, &log)); /* saving stopped */
    s->ops->close_folder(&f);
    s->ops->free(s);

    /* Found by a flush: the flush fails, naming the sync, and so does the batch after it. */
    mt_make_maildir("fs2/INBOX");
    s = new_store("fs2");
    f = mt_open_folder(s, "INBOX", true);
    log = (struct saved_log){0};
    atomic_store(&syncfs_errno, EIO);
    for (uint32_t u = 1; u <= BATCH + 3; u++)
        test_assert(save(s, f, u, &log));
    struct err e = ERR_INIT;
    test_assert(!s->ops->flush(f, &e));
    test_assert(e.scope == ERR_FOLDER && strstr(e.msg, "cannot sync tmp/") != NULL);
    err_clear(&e);
    atomic_store(&syncfs_errno, 0);
    test_assert(log.n == BATCH + 3 && log.errors == BATCH + 3);
    test_assert_inteq(placed("fs2/INBOX") + in_tmp("fs2/INBOX"), 0);
    s->ops->close_folder(&f);
    s->ops->free(s);
    test_end();
}

/* The message of l with UID uid. */
static const struct store_msg *by_uid(const struct store_msg_list *l, uint32_t uid)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].uid == uid)
            return &l->v[i];
    test_fail_at(__FILE__, __LINE__, "no message with UID %u", (unsigned)uid);
    return NULL;
}

static void test_meta_fsync(void)
{
    test_begin("maildir: flag renames, deletions and UIDs fsync their directories at sync_meta, "
               "once");
    mt_make_maildir("mf/INBOX");
    struct store *s = new_store("mf");
    struct store_folder *f = mt_open_folder(s, "INBOX", true);
    struct saved_log log = {0};
    for (uint32_t u = 1; u <= 3; u++) /* 1 and 3 seen: in cur/; 2 in new/ */
        test_assert(save(s, f, u, &log));
    struct err e = ERR_INIT;
    test_assert(s->ops->flush(f, &e));
    test_assert_inteq(log.n, 3);
    struct store_list_opts lo = {0};
    struct store_msg_list l = {0};
    test_assert(s->ops->list_msgs(f, &lo, &l, &e));
    test_assert_inteq((int)l.n, 3);
    atomic_store(&fsync_calls, 0);
    test_assert(s->ops->set_flags(f, by_uid(&l, 1), 1, FLAG_FLAGGED, true, &e));
    test_assert(s->ops->delete_msgs(f, by_uid(&l, 2), 1, &e));
    test_assert(s->ops->set_uid(f, by_uid(&l, 3), 30, &e));
    /* Done, but no directory synced yet: that waits for the status commit's sync_meta. */
    test_assert_inteq(atomic_load(&fsync_calls), 0);
    test_assert_inteq(placed("mf/INBOX"), 2);
    test_assert(s->ops->sync_meta != NULL);
    if (!s->ops->sync_meta) {
        test_end();
        return;
    }
    test_assert(s->ops->sync_meta(f, &e));
    test_assert_inteq(atomic_load(&fsync_calls), 2); /* new/ and cur/, once each */
    test_assert(s->ops->sync_meta(f, &e));
    test_assert_inteq(atomic_load(&fsync_calls), 2); /* nothing new to sync */
    /* Only cur/ changed since: only cur/ is synced. */
    test_assert(s->ops->set_flags(f, by_uid(&l, 1), 1, FLAG_FLAGGED, false, &e));
    test_assert_inteq(atomic_load(&fsync_calls), 2);
    test_assert(s->ops->sync_meta(f, &e));
    test_assert_inteq(atomic_load(&fsync_calls), 3);
    err_clear(&e);
    store_msg_list_free(&l);
    s->ops->close_folder(&f);
    s->ops->free(s);
    test_end();
}

int main(void)
{
    test_overlap();
    test_failed_sync();
    test_meta_fsync();
    return test_done();
}
