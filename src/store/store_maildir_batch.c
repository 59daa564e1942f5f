/*
 * store_maildir_batch: the batch of committed saves of a Maildir folder
 * (store_maildir_save.c queues them; maildir_priv.h).
 *
 * A batch ends when it is full (batch_msgs messages or batch_bytes bytes)
 * or when the store is flushed.  Its end makes the data of its files durable
 * at once (one syncfs(), or one fdatasync() each in a small batch), renames
 * each file into place, fsyncs new/ and cur/, and only then runs the
 * callbacks, which record the messages: one journal commit per batch instead
 * of one per message, and the order (data, rename, directory, status) keeps
 * the safety rule.
 *
 * A large download spends much of its time in that data sync, waiting for
 * the disk while nobody reads the connection.  So the syncfs() of a full
 * batch runs in a helper thread while the next batch is received and written
 * to tmp/; when that one is full in turn, the first is finished on the
 * caller's thread (its sync waited for, its files renamed, directories
 * synced, callbacks run) and the new one handed over.  Only the syncfs()
 * leaves the caller's thread: the renames, the folder's index, the watch,
 * the crashpoints and the callbacks keep their order.  A flush finishes both
 * batches.  When a batch's sync fails, the batch written after it fails with
 * it: saving stops, as it would have before that batch was written.
 */
#define _GNU_SOURCE
#include "store/maildir_priv.h"

#include "base/prof.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * A batch this small is synced file by file: syncfs() also waits for every
 * other dirty page of the file system (other programs' writes included),
 * which costs more than a few fdatasync() calls.
 */
#define SMALL_BATCH 16

/* A batch taken from the folder's queue. */
struct batch {
    struct maildir_pending *v;
    size_t n;
    uint64_t bytes;
    unsigned subs; /* directories to fsync: those of saves already in place */
};

/* A batch whose data a helper thread is syncing. */
struct maildir_fly {
    struct batch b;
    int dfd; /* tmp/ */
    bool per_file;
    pthread_t thread;
    bool threaded;      /* false: the sync ran on the caller's thread */
    int err;            /* 0, or the errno of the failed sync */
    const char *failed; /* the file whose fdatasync() failed, or NULL (the file system) */
};

static struct batch take(struct store_folder *f)
{
    struct batch b = {f->pend, f->npend, f->pend_bytes, f->pend_subs};
    f->pend = NULL;
    f->npend = f->pend_cap = 0;
    f->pend_bytes = 0;
    f->pend_subs = 0;
    return b;
}

static size_t files_of(const struct batch *b)
{
    size_t files = 0;
    for (size_t i = 0; i < b->n; i++)
        files += b->v[i].tmpname != NULL;
    return files;
}

/*
 * Make the data of the batch's files durable: one syncfs(), or an fdatasync()
 * per file.  0, or the errno with *failed the file concerned (NULL: tmp/).
 * Safe on any thread: it reads only the batch and the directory descriptor.
 */
static int sync_data(int dfd, const struct batch *b, bool per_file, const char **failed)
{
    *failed = NULL;
    size_t files = files_of(b);
    if (!files || per_file)
        return 0; /* per-file fsync happened when each file was finished */
#ifdef __linux__
    if (files > SMALL_BATCH) {
        if (syncfs(dfd) == 0)
            return 0;
        if (errno != ENOSYS)
            return errno;
    }
#endif
    for (size_t i = 0; i < b->n; i++) {
        if (!b->v[i].tmpname)
            continue;
        int fd = openat(dfd, b->v[i].tmpname, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fdatasync(fd) != 0) {
            int err = errno;
            if (fd >= 0)
                close(fd);
            *failed = b->v[i].tmpname;
            return err;
        }
        close(fd);
    }
    return 0;
}

static void *sync_thread(void *arg)
{
    struct maildir_fly *fl = arg;
    fl->err = sync_data(fl->dfd, &fl->b, fl->per_file, &fl->failed);
    return NULL;
}

/* Every callback of the batch learns the outcome (failed or NULL); the batch is freed. */
static void run_callbacks(struct batch *b, const struct err *failed)
{
    for (size_t i = 0; i < b->n; i++) {
        if (b->v[i].saved)
            b->v[i].saved(b->v[i].ctx, b->v[i].token, b->v[i].uid, failed);
        free(b->v[i].tmpname);
    }
    free(b->v);
    memset(b, 0, sizeof(*b));
}

/* A batch that is not to be stored: its files go, its callbacks learn why. */
static void fail_batch(struct store_folder *f, struct batch *b, const struct err *why)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->v[i].tmpname)
            unlinkat(f->dfd[MD_TMP], b->v[i].tmpname, 0);
    run_callbacks(b, why);
}

/* The end of a batch whose data sync came out as err: renames, directories, callbacks. */
static bool finish_batch(struct store_folder *f, struct batch *b, int err, const char *failed,
                         struct err *e)
{
    struct err fe = ERR_INIT;
    if (err && failed)
        err_set(&fe, ERR_FOLDER, maildir_errkind(err), "Maildir folder %s: cannot fsync tmp/%s: %s.",
                f->path, failed, strerror(err));
    else if (err)
        err_set(&fe, ERR_FOLDER, maildir_errkind(err), "Maildir folder %s: cannot sync tmp/: %s.",
                f->path, strerror(err));
    bool ok = err == 0;
    /* Into place, in order; a file that cannot be renamed fails alone. */
    unsigned subs = b->subs;
    for (size_t i = 0; i < b->n; i++) {
        struct maildir_pending *p = &b->v[i];
        if (!p->tmpname)
            continue;
        struct err re = ERR_INIT;
        if (!ok) {
            unlinkat(f->dfd[MD_TMP], p->tmpname, 0);
        } else if (!maildir_rename_pending(f, p, &subs, &re)) {
            unlinkat(f->dfd[MD_TMP], p->tmpname, 0);
            if (p->saved)
                p->saved(p->ctx, p->token, p->uid, &re);
            p->saved = NULL;
        }
        err_clear(&re);
        XFREE(p->tmpname);
    }
    for (int sub = MD_NEW; sub <= MD_CUR && ok; sub++) {
        if (!(subs & (1u << sub)))
            continue;
        if (fsync(f->dfd[sub]) != 0 && errno != EINVAL) {
            int derr = errno;
            err_set(&fe, ERR_FOLDER, maildir_errkind(derr),
                    "Maildir folder %s: cannot fsync %s/: %s.", f->path, maildir_sub_names[sub],
                    strerror(derr));
            ok = false;
        }
    }
    if (!ok && !f->broken)
        f->broken = xasprintf("saving stopped after a failed sync (%s)", fe.msg);
    run_callbacks(b, ok ? NULL : &fe);
    if (!ok)
        err_move(e, &fe);
    err_clear(&fe);
    return ok;
}

/* Finish the batch in flight, if any: wait for its sync, then as finish_batch. */
static bool land(struct store_folder *f, struct err *e)
{
    struct maildir_fly *fl = f->fly;
    if (!fl)
        return true;
    f->fly = NULL;
    if (fl->threaded)
        pthread_join(fl->thread, NULL);
    bool ok = finish_batch(f, &fl->b, fl->err, fl->failed, e);
    free(fl);
    return ok;
}

bool maildir_flush(struct store_folder *f, struct err *e)
{
    uint64_t bytes = f->pend_bytes + (f->fly ? f->fly->b.bytes : 0);
    struct prof_mark pm;
    prof_begin(&pm);
    bool ok = land(f, e);
    struct batch b = take(f);
    if (!ok) {
        fail_batch(f, &b, e);
    } else {
        const char *failed;
        int err = sync_data(f->dfd[MD_TMP], &b, f->st->per_file_fsync, &failed);
        ok = finish_batch(f, &b, err, failed, e);
    }
    if (bytes)
        prof_end(&pm, "maildir", "sync batch", bytes);
    return ok;
}

void maildir_batch_full(struct store_folder *f)
{
    uint64_t bytes = f->fly ? f->fly->b.bytes : 0;
    struct prof_mark pm;
    prof_begin(&pm);
    struct err e = ERR_INIT;
    bool ok = land(f, &e); /* its callbacks learned a failure */
    if (bytes)
        prof_end(&pm, "maildir", "sync batch", bytes);
    struct batch b = take(f);
    if (!ok) {
        fail_batch(f, &b, &e); /* written after a failed sync: fails with it */
        err_clear(&e);
        return;
    }
    if (files_of(&b) <= SMALL_BATCH || f->st->per_file_fsync) {
        /* Synced file by file, here. */
        prof_begin(&pm);
        bytes = b.bytes;
        const char *failed;
        int err = sync_data(f->dfd[MD_TMP], &b, f->st->per_file_fsync, &failed);
        finish_batch(f, &b, err, failed, &e);
        prof_end(&pm, "maildir", "sync batch", bytes);
        err_clear(&e);
        return;
    }
    struct maildir_fly *fl = xcalloc(1, sizeof(*fl));
    fl->b = b;
    fl->dfd = f->dfd[MD_TMP];
    fl->per_file = f->st->per_file_fsync;
    fl->threaded = pthread_create(&fl->thread, NULL, sync_thread, fl) == 0;
    if (!fl->threaded)
        sync_thread(fl); /* no thread to be had: the sync waits here */
    f->fly = fl;
}

void maildir_batch_drop(struct store_folder *f)
{
    struct maildir_fly *fl = f->fly;
    if (!fl)
        return;
    f->fly = NULL;
    if (fl->threaded)
        pthread_join(fl->thread, NULL);
    for (size_t i = 0; i < fl->b.n; i++)
        free(fl->b.v[i].tmpname);
    free(fl->b.v);
    free(fl);
}
