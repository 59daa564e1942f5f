#include "store/maildir_watch.h"

#include "base/fsutil.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/inotify.h>
#endif

/* Expectations waiting for their event; beyond this the queue is read first. */
#define WATCH_QUEUE_READ_AT 512u
/* Watches kept for the end of the run (each holds two inotify watches). */
#define WATCH_MAX_LIVE 4096u

struct expect {
    uint32_t mask; /* one of IN_MOVED_FROM, IN_MOVED_TO, IN_DELETE */
    uint8_t sub;
    char *name;
};

struct store_watch {
    char *folder; /* as opened, for folder_stamp */
    int wd[2];    /* new/, cur/; -1 once removed */
    struct expect *q;
    size_t head, n, cap; /* a ring */
    bool tainted;
};

struct wd_entry {
    int wd;
    int sub;
    struct store_watch *w;
};

struct maildir_watcher {
    pthread_mutex_t lock;
    int fd;             /* -1: none (not Linux, or inotify refused) */
    struct wd_entry *v; /* the live watches' descriptors, sorted by wd */
    size_t n, cap;
    size_t nlive; /* watches */
};

#ifdef __linux__

static struct maildir_watcher *watcher_get(struct maildir_store *st)
{
    pthread_mutex_lock(&st->watch_lock);
    if (!st->watcher) {
        struct maildir_watcher *w = xcalloc(1, sizeof(*w));
        pthread_mutex_init(&w->lock, NULL);
        w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->fd < 0)
            log_debug(LOGC_MAILDIR,
                      "no inotify instance (%s): folders written by a sync are "
                      "read again by the next one",
                      strerror(errno));
        st->watcher = w;
    }
    struct maildir_watcher *w = st->watcher;
    pthread_mutex_unlock(&st->watch_lock);
    return w->fd >= 0 ? w : NULL;
}

static void expect_free(struct store_watch *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->q[(w->head + i) % w->cap].name);
    free(w->q);
    w->q = NULL;
    w->head = w->n = w->cap = 0;
}

static void taint(struct store_watch *w, const char *why, const char *name)
{
    if (!w->tainted)
        log_debug(LOGC_MAILDIR, "Maildir folder %s: %s%s%s; it will be read again next time",
                  w->folder, why, name ? ": " : "", name ? name : "");
    w->tainted = true;
    expect_free(w);
}

/* Where wd is, or would go, in mw->v. */
static size_t wd_pos(const struct maildir_watcher *mw, int wd)
{
    size_t lo = 0, hi = mw->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (mw->v[mid].wd < wd)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct store_watch *by_wd(struct maildir_watcher *mw, int wd, int *sub_r)
{
    size_t i = wd_pos(mw, wd);
    if (i == mw->n || mw->v[i].wd != wd)
        return NULL;
    *sub_r = mw->v[i].sub;
    return mw->v[i].w;
}

static void wd_add(struct maildir_watcher *mw, int wd, int sub, struct store_watch *w)
{
    if (mw->n == mw->cap) {
        mw->cap = mw->cap ? mw->cap * 2 : 16;
        mw->v = xreallocarray(mw->v, mw->cap, sizeof(*mw->v));
    }
    size_t i = wd_pos(mw, wd); /* the end, unless the kernel's numbers wrapped */
    memmove(&mw->v[i + 1], &mw->v[i], (mw->n - i) * sizeof(*mw->v));
    mw->v[i] = (struct wd_entry){wd, sub, w};
    mw->n++;
}

static void wd_del(struct maildir_watcher *mw, int wd)
{
    size_t i = wd_pos(mw, wd);
    if (i == mw->n || mw->v[i].wd != wd)
        return;
    memmove(&mw->v[i], &mw->v[i + 1], (mw->n - i - 1) * sizeof(*mw->v));
    mw->n--;
}

static void match(struct maildir_watcher *mw, const struct inotify_event *ev)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        for (size_t i = 0; i < mw->n; i++)
            taint(mw->v[i].w, "inotify's queue overflowed", NULL);
        return;
    }
    int sub;
    struct store_watch *w = by_wd(mw, ev->wd, &sub);
    if (!w || w->tainted)
        return; /* a watch already removed, or one past caring */
    uint32_t kind = ev->mask & (IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_CREATE);
    if (!kind || ev->len == 0) {
        taint(w, "the directory itself was moved or deleted", NULL);
        return;
    }
    struct expect *x = w->n ? &w->q[w->head] : NULL;
    if (!x || x->mask != kind || x->sub != sub || strcmp(x->name, ev->name) != 0) {
        taint(w, "changed by another program", ev->name);
        return;
    }
    free(x->name);
    w->head = (w->head + 1) % w->cap;
    w->n--;
}

/* Read every queued event (under the lock). */
static void drain(struct maildir_watcher *mw)
{
    _Alignas(struct inotify_event) char buf[16384];
    for (;;) {
        ssize_t r = read(mw->fd, buf, sizeof(buf));
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            return; /* EAGAIN: nothing more */
        }
        for (char *p = buf; p < buf + r;) {
            const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
            match(mw, ev);
            p += sizeof(*ev) + ev->len;
        }
    }
}

static void push(struct store_watch *w, uint32_t mask, enum maildir_sub sub, const char *name)
{
    if (w->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 16;
        struct expect *nq = xcalloc(ncap, sizeof(*nq));
        for (size_t i = 0; i < w->n; i++)
            nq[i] = w->q[(w->head + i) % w->cap];
        free(w->q);
        w->q = nq;
        w->head = 0;
        w->cap = ncap;
    }
    w->q[(w->head + w->n) % w->cap] = (struct expect){mask, (uint8_t)sub, xstrdup(name)};
    w->n++;
}

static void remove_live(struct maildir_watcher *mw, struct store_watch *w)
{
    for (int s = 0; s < 2; s++) {
        if (w->wd[s] >= 0) {
            wd_del(mw, w->wd[s]);
            inotify_rm_watch(mw->fd, w->wd[s]);
            w->wd[s] = -1;
        }
    }
    mw->nlive--;
}

static void watch_free(struct store_watch *w)
{
    if (!w)
        return;
    expect_free(w);
    free(w->folder);
    free(w);
}

void maildir_watch_begin(struct store_folder *f)
{
    struct maildir_watcher *mw = watcher_get(f->st);
    if (!mw)
        return;
    struct store_watch *w = xcalloc(1, sizeof(*w));
    w->folder = xstrdup(f->name);
    w->wd[0] = w->wd[1] = -1;
    pthread_mutex_lock(&mw->lock);
    bool ok = mw->nlive < WATCH_MAX_LIVE;
    for (int s = 0; s < 2 && ok; s++) {
        char *path = fs_join(f->path, maildir_sub_names[s]);
        /*
         * IN_MASK_CREATE: a directory already watched (the same folder open
         * twice) fails rather than sharing a descriptor between two watches.
         */
        w->wd[s] =
            inotify_add_watch(mw->fd, path,
                              IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF |
                                  IN_MOVE_SELF | IN_ONLYDIR | IN_MASK_CREATE);
        free(path);
        ok = w->wd[s] >= 0;
    }
    if (ok) {
        for (int s = 0; s < 2; s++)
            wd_add(mw, w->wd[s], s, w);
        mw->nlive++;
        f->watch = w;
    } else {
        for (int s = 0; s < 2; s++)
            if (w->wd[s] >= 0)
                inotify_rm_watch(mw->fd, w->wd[s]);
    }
    pthread_mutex_unlock(&mw->lock);
    if (!ok)
        watch_free(w);
}

static void expect_op(struct store_folder *f, uint32_t mask, enum maildir_sub sub, const char *name)
{
    if (!f->watch || sub > MD_CUR)
        return;
    struct maildir_watcher *mw = f->st->watcher;
    pthread_mutex_lock(&mw->lock);
    if (f->watch->n >= WATCH_QUEUE_READ_AT)
        drain(mw);
    if (!f->watch->tainted)
        push(f->watch, mask, sub, name);
    pthread_mutex_unlock(&mw->lock);
}

void maildir_watch_taint(struct store_folder *f)
{
    if (!f->watch)
        return;
    struct maildir_watcher *mw = f->st->watcher;
    pthread_mutex_lock(&mw->lock);
    taint(f->watch, "an operation failed", NULL);
    pthread_mutex_unlock(&mw->lock);
}

int maildir_watch_rename(struct store_folder *f, enum maildir_sub from_sub, const char *from,
                         enum maildir_sub to_sub, const char *to)
{
    expect_op(f, IN_MOVED_FROM, from_sub, from);
    expect_op(f, IN_MOVED_TO, to_sub, to);
    int r = maildir_rename_noreplace(f->dfd[from_sub], from, f->dfd[to_sub], to);
    if (r != 0) {
        int err = errno;
        maildir_watch_taint(f); /* the expected events will not come */
        errno = err;
    }
    return r;
}

int maildir_watch_unlink(struct store_folder *f, enum maildir_sub sub, const char *name)
{
    expect_op(f, IN_DELETE, sub, name);
    int r = unlinkat(f->dfd[sub], name, 0);
    if (r != 0) {
        int err = errno;
        maildir_watch_taint(f);
        errno = err;
    }
    return r;
}

void maildir_watch_close(struct store_folder *f)
{
    if (!f->watch)
        return;
    struct maildir_watcher *mw = f->st->watcher;
    pthread_mutex_lock(&mw->lock);
    remove_live(mw, f->watch);
    pthread_mutex_unlock(&mw->lock);
    watch_free(f->watch);
    f->watch = NULL;
}

struct store_watch *maildir_take_watch(struct store_folder *f)
{
    struct store_watch *w = f->watch;
    f->watch = NULL;
    return w;
}

bool maildir_finish_watch(struct store *s, struct store_watch *w, struct buf *stamp, bool *racy_r)
{
    struct maildir_store *st = (struct maildir_store *)s;
    struct maildir_watcher *mw = st->watcher;
    *racy_r = false;
    bool ok = false;
    pthread_mutex_lock(&mw->lock);
    if (stamp)
        drain(mw);
    if (stamp && !w->tainted && w->n == 0) {
        /*
         * The stamp, then the queue once more: a change made before the stat
         * shows as an event; one made after it changes the stamp, unless it
         * falls in the same clock tick, which is what racy says.
         */
        struct err e = ERR_INIT;
        ok = maildir_folder_stamp(s, w->folder, stamp, racy_r, &e);
        err_clear(&e);
        drain(mw);
        ok = ok && !w->tainted && w->n == 0;
    }
    remove_live(mw, w);
    pthread_mutex_unlock(&mw->lock);
    watch_free(w);
    return ok;
}

void maildir_watcher_free(struct maildir_store *st)
{
    struct maildir_watcher *mw = st->watcher;
    if (!mw)
        return;
    /* Watches taken and never finished (the run stopped): each has two entries. */
    for (size_t i = 0; i < mw->n; i++)
        if (mw->v[i].sub == 0)
            watch_free(mw->v[i].w);
    free(mw->v);
    if (mw->fd >= 0)
        close(mw->fd);
    pthread_mutex_destroy(&mw->lock);
    free(mw);
    st->watcher = NULL;
}

bool maildir_watch_disturbed(struct store_folder *f)
{
    struct store_watch *w = f->watch;
    struct maildir_watcher *mw = f->st->watcher;
    if (!w || !mw)
        return false;
    pthread_mutex_lock(&mw->lock);
    drain(mw);
    bool t = w->tainted;
    pthread_mutex_unlock(&mw->lock);
    return t;
}

#else /* no inotify: no watch, and folders written by a sync are read again */

bool maildir_watch_disturbed(struct store_folder *f)
{
    (void)f;
    return false;
}

void maildir_watch_begin(struct store_folder *f)
{
    (void)f;
}

int maildir_watch_rename(struct store_folder *f, enum maildir_sub from_sub, const char *from,
                         enum maildir_sub to_sub, const char *to)
{
    return maildir_rename_noreplace(f->dfd[from_sub], from, f->dfd[to_sub], to);
}

int maildir_watch_unlink(struct store_folder *f, enum maildir_sub sub, const char *name)
{
    return unlinkat(f->dfd[sub], name, 0);
}

void maildir_watch_taint(struct store_folder *f)
{
    (void)f;
}

void maildir_watch_close(struct store_folder *f)
{
    (void)f;
}

void maildir_watcher_free(struct maildir_store *st)
{
    (void)st;
}

struct store_watch *maildir_take_watch(struct store_folder *f)
{
    (void)f;
    return NULL;
}

bool maildir_finish_watch(struct store *s, struct store_watch *w, struct buf *stamp, bool *racy_r)
{
    (void)s;
    (void)w;
    (void)stamp;
    *racy_r = true;
    return false;
}

#endif
