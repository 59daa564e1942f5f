/*
 * The push thread of an account with idlefolders ("IDLE <account>").
 *
 * It keeps watchers (store_imap.h: one NOTIFY connection for every folder
 * when the server offers NOTIFY, else one IDLE connection per folder) and
 * polls all their descriptors at once.  A folder a watcher reports changed
 * goes into the account's dirty list and wakes the account thread, which
 * syncs it (daemon_account.c).  A watcher that fails is closed and its
 * folders are watched again after a back-off (at once, then 1, 2, 4 ... 60
 * s; at once after a resume or a network change); since changes may have
 * been missed meanwhile, a folder watched again is synced at once.
 */
#include "cli/daemon_internal.h"

#include "base/log.h"
#include "base/xalloc.h"
#include "store/store_imap.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* offlineimap re-issues IDLE after 29 minutes; servers may drop it after 30. */
#define IDLE_REFRESH_MAX_MS (25 * 60 * 1000)
#define PING_TIMEOUT_MAX_MS 15000
#define PING_TIMEOUT_MIN_MS 2000
#define BACKOFF_MAX_S 60

struct push {
    struct acct_run *ar;
    struct store *remote;
    struct strvec folders; /* to watch */
    int refresh_ms, ping_ms;
    pthread_t thread;
    atomic_bool stop;
    /* Thread-private from here. */
    struct store_imap_watch **w;
    size_t nw;
    struct strvec unwatched;
    struct strvec ever; /* watched at least once: a new watch may have missed changes */
    bool allow_notify;
    unsigned backoff_s;
    int64_t retry_at;
    unsigned net_gen;
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void mark_dirty(struct push *p, const struct strvec *changed)
{
    if (changed->n == 0)
        return;
    struct acct_run *ar = p->ar;
    pthread_mutex_lock(&ar->lock);
    for (size_t i = 0; i < changed->n; i++)
        if (!strvec_contains(&ar->dirty, changed->v[i]))
            strvec_push(&ar->dirty, changed->v[i]);
    pthread_mutex_unlock(&ar->lock);
    for (size_t i = 0; i < changed->n; i++)
        log_debug(LOGC_THREAD, "push: folder %s changed", changed->v[i]);
    daemon_wake(ar);
}

static void remove_name(struct strvec *v, const char *name)
{
    for (size_t i = 0; i < v->n; i++) {
        if (!strcmp(v->v[i], name)) {
            free(v->v[i]);
            memmove(&v->v[i], &v->v[i + 1], (v->n - i - 1) * sizeof(*v->v));
            v->n--;
            return;
        }
    }
}

static void close_watch(struct push *p, size_t i)
{
    const struct strvec *f = store_imap_watch_folders(p->w[i]);
    for (size_t j = 0; j < f->n; j++)
        strvec_push(&p->unwatched, f->v[j]);
    store_imap_watch_close(&p->w[i]);
    p->w[i] = p->w[--p->nw];
}

static void close_all(struct push *p)
{
    while (p->nw)
        close_watch(p, p->nw - 1);
}

static void set_activity(struct push *p)
{
    if (p->unwatched.n)
        log_thread_activity("reconnecting: %zu of %zu idlefolders not watched", p->unwatched.n,
                            p->folders.n);
    else
        log_thread_activity("IDLE on %zu connection%s for %zu folder%s", p->nw,
                            p->nw == 1 ? "" : "s", p->folders.n, p->folders.n == 1 ? "" : "s");
}

/* Watch what is not watched; on failure, the next attempt after the back-off. */
static void open_watches(struct push *p)
{
    struct strvec again = STRVEC_INIT;
    while (p->unwatched.n && !atomic_load(&p->stop)) {
        struct store_imap_watch *w = NULL;
        size_t covered = 0;
        struct err e = ERR_INIT;
        if (!store_imap_watch_open(p->remote, (const char *const *)p->unwatched.v, p->unwatched.n,
                                   p->allow_notify, p->refresh_ms, &w, &covered, &e)) {
            if (e.scope == ERR_FOLDER && p->allow_notify) {
                /* NOTIFY refused (a folder it does not know): one IDLE per folder. */
                log_debug(LOGC_IMAP, "%s; using IDLE per folder", e.msg);
                p->allow_notify = false;
                err_clear(&e);
                continue;
            }
            if (e.scope == ERR_FOLDER) {
                log_warn("%s; folder %s is synced at each autorefresh only", e.msg,
                         p->unwatched.v[0]);
                remove_name(&p->unwatched, p->unwatched.v[0]);
                err_clear(&e);
                continue;
            }
            if (e.kind == ERRK_PROTOCOL || e.kind == ERRK_AUTH || e.kind == ERRK_CONFIG) {
                log_warn("%s", e.msg);
                strvec_free(&p->unwatched);
                err_clear(&e);
                break;
            }
            unsigned next = p->backoff_s ? p->backoff_s * 2 : 1;
            p->backoff_s = next > BACKOFF_MAX_S ? BACKOFF_MAX_S : next;
            p->retry_at = now_ms() + (int64_t)p->backoff_s * 1000;
            log_info("Push for account %s: %s; trying again in %u s", p->ar->acc->name, e.msg,
                     p->backoff_s);
            err_clear(&e);
            break;
        }
        p->w = xrealloc(p->w, (p->nw + 1) * sizeof(*p->w));
        p->w[p->nw++] = w;
        const struct strvec *f = store_imap_watch_folders(w);
        for (size_t j = 0; j < f->n; j++) {
            remove_name(&p->unwatched, f->v[j]);
            if (strvec_contains(&p->ever, f->v[j]))
                strvec_push(&again, f->v[j]);
            else
                strvec_push(&p->ever, f->v[j]);
        }
        log_info("Push for account %s: watching %zu folder%s with %s", p->ar->acc->name, f->n,
                 f->n == 1 ? "" : "s", store_imap_watch_uses_notify(w) ? "NOTIFY" : "IDLE");
        (void)covered;
    }
    if (!p->unwatched.n)
        p->backoff_s = 0;
    mark_dirty(p, &again);
    strvec_free(&again);
    set_activity(p);
}

static void drain(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
}

static void *push_main(void *arg)
{
    struct push *p = arg;
    struct acct_run *ar = p->ar;
    log_set_thread_name("IDLE %s", ar->acc->name);
    for (size_t i = 0; i < p->folders.n; i++)
        strvec_push(&p->unwatched, p->folders.v[i]);
    p->net_gen = atomic_load(&ar->net_gen);
    while (!atomic_load(&p->stop)) {
        unsigned gen = atomic_load(&ar->net_gen);
        if (gen != p->net_gen) {
            /* A resume or a new network: these connections are likely dead. */
            p->net_gen = gen;
            close_all(p);
            p->backoff_s = 0;
            p->retry_at = 0;
        }
        if (p->unwatched.n && now_ms() >= p->retry_at)
            open_watches(p);
        size_t n = p->nw;
        struct pollfd *fds = xcalloc(n + 1, sizeof(*fds));
        int timeout = -1;
        for (size_t i = 0; i < n; i++) {
            fds[i] = (struct pollfd){store_imap_watch_fd(p->w[i]), POLLIN, 0};
            int t = store_imap_watch_timeout(p->w[i]);
            if (timeout < 0 || t < timeout)
                timeout = t;
        }
        fds[n] = (struct pollfd){ar->push_rd, POLLIN, 0};
        if (p->unwatched.n) {
            int64_t left = p->retry_at - now_ms();
            int t = left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
            if (timeout < 0 || t < timeout)
                timeout = t;
        }
        int r = poll(fds, n + 1, timeout);
        if (r < 0 && errno != EINTR) {
            free(fds);
            break;
        }
        if (fds[n].revents & POLLIN)
            drain(ar->push_rd);
        struct strvec changed = STRVEC_INIT;
        for (size_t i = n; i-- > 0;) {
            bool due = fds[i].revents != 0 || store_imap_watch_timeout(p->w[i]) == 0;
            if (!due || atomic_load(&p->stop))
                continue;
            struct err e = ERR_INIT;
            if (!store_imap_watch_step(p->w[i], p->ping_ms, &changed, &e)) {
                log_info("Push for account %s: %s; reconnecting", ar->acc->name, e.msg);
                close_watch(p, i);
                p->retry_at = now_ms() + (int64_t)p->backoff_s * 1000;
                set_activity(p);
            }
            err_clear(&e);
        }
        free(fds);
        mark_dirty(p, &changed);
        strvec_free(&changed);
    }
    close_all(p);
    log_thread_activity(NULL);
    return NULL;
}

struct push *daemon_push_start(struct acct_run *ar, struct store *remote,
                               const struct strvec *folders, int keepalive_s)
{
    if (!store_imap_is(remote)) {
        log_warn("Account %s: idlefolders needs an IMAP remote repository; ignored", ar->acc->name);
        return NULL;
    }
    struct push *p = xcalloc(1, sizeof(*p));
    p->ar = ar;
    p->remote = remote;
    for (size_t i = 0; i < folders->n; i++)
        if (!strvec_contains(&p->folders, folders->v[i]))
            strvec_push(&p->folders, folders->v[i]);
    int64_t refresh = keepalive_s > 0 ? (int64_t)keepalive_s * 1000 : IDLE_REFRESH_MAX_MS;
    p->refresh_ms = refresh > IDLE_REFRESH_MAX_MS ? IDLE_REFRESH_MAX_MS : (int)refresh;
    int ping = p->refresh_ms / 2;
    p->ping_ms = ping < PING_TIMEOUT_MIN_MS   ? PING_TIMEOUT_MIN_MS
                 : ping > PING_TIMEOUT_MAX_MS ? PING_TIMEOUT_MAX_MS
                                              : ping;
    p->allow_notify = true;
    if (pthread_create(&p->thread, NULL, push_main, p) != 0) {
        log_error("Account %s: cannot start the IDLE thread; idlefolders are synced at each "
                  "autorefresh only",
                  ar->acc->name);
        strvec_free(&p->folders);
        free(p);
        return NULL;
    }
    return p;
}

void daemon_push_stop(struct push **pp)
{
    struct push *p = *pp;
    if (!p)
        return;
    *pp = NULL;
    atomic_store(&p->stop, true);
    ssize_t n = write(p->ar->push_wr, "s", 1);
    (void)n;
    pthread_join(p->thread, NULL);
    free(p->w);
    strvec_free(&p->folders);
    strvec_free(&p->unwatched);
    strvec_free(&p->ever);
    free(p);
}
