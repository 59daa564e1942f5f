/*
 * One account's thread: offlineimap's SyncableAccount.syncrunner
 * (REFERENCE.md 5.1) with its sleeper.
 *
 * The stores are made once, so a password asked for stays in memory and, with
 * holdconnectionopen, the connections stay open from one sync to the next.
 * Between syncs the thread sleeps autorefresh minutes measured on
 * CLOCK_BOOTTIME (time spent suspended counts, so a refresh due during a
 * suspend happens at the resume), waking at once for a signal, a network
 * change, a keepalive round or a folder the push watcher saw change.
 */
#include "cli/daemon_internal.h"

#include "base/log.h"
#include "base/xalloc.h"
#include "cli/account.h"
#include "cli/repo_setup.h"
#include "config/config_py.h"
#include "store/store_imap.h"
#include "store/store_imapmap.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NS 1000000000LL
/*
 * How long a NOOP on a held connection may take before the connection is
 * dropped: half the keepalive, within these bounds.
 */
#define PING_TIMEOUT_MAX_MS 15000
#define PING_TIMEOUT_MIN_MS 2000
/* offlineimap's keepalive when idlefolders is set and keepalive is not. */
#define IDLE_KEEPALIVE_S (29 * 60)
/* The slices of the countdown, as offlineimap's sleep() reports them. */
#define SLEEP_SLICE_S 10

enum sleep_result {
    SLEEP_DONE = 0,    /* the time passed */
    SLEEP_SKIPPED = 1, /* SIGUSR1, a key, a resume or a new network: sync now */
    SLEEP_STOP = 2,    /* SIGUSR2 or SIGTERM: leave the loop */
    SLEEP_NONE = 100,  /* no autorefresh: run once */
};

struct acct_state {
    struct acct_run *ar;
    struct daemon *d;
    struct repo_stores rs;
    double refresh; /* autorefresh in minutes; 0 = run once */
    int quick_cfg;  /* quick, or -1 with -q */
    unsigned quicknum;
    bool hold;     /* holdconnectionopen (forced by idlefolders) */
    int keepalive; /* seconds between NOOPs on held connections; 0 = none */
    int ping_ms;   /* how long such a NOOP may take */
    struct strvec idle_folders;
    struct push *push;
};

static int64_t boot_ns(void)
{
    struct timespec t;
#ifdef CLOCK_BOOTTIME
    clock_gettime(CLOCK_BOOTTIME, &t);
#else
    clock_gettime(CLOCK_MONOTONIC, &t);
#endif
    return (int64_t)t.tv_sec * NS + t.tv_nsec;
}

bool daemon_quick_decide(int quick_cfg, unsigned *quicknum)
{
    if (quick_cfg < 0)
        return true;
    if (quick_cfg == 0)
        return false;
    if (*quicknum == 0 || *quicknum > (unsigned)quick_cfg) {
        *quicknum = 1;
        return false;
    }
    (*quicknum)++;
    return true;
}

static bool stop_requested(void *ctx)
{
    return daemon_aborting(ctx);
}

/*
 * Both stores, for what only IMAP stores have (held connections); a local
 * IMAP repository is an IMAP store inside the UID map's.
 */
static struct store *imap_side(struct store *s)
{
    if (s && store_imapmap_is(s))
        s = store_imapmap_inner(s);
    return s && store_imap_is(s) ? s : NULL;
}

static void drop_held(struct acct_state *st)
{
    struct store *sides[2] = {st->rs.account.remote, st->rs.account.local};
    for (int i = 0; i < 2; i++)
        if (imap_side(sides[i]))
            store_imap_drop_connections(imap_side(sides[i]));
}

static unsigned ping_held(struct acct_state *st, int idle_ms)
{
    unsigned dropped = 0;
    struct store *sides[2] = {st->rs.account.remote, st->rs.account.local};
    for (int i = 0; i < 2; i++)
        if (imap_side(sides[i]))
            dropped += store_imap_ping(imap_side(sides[i]), idle_ms, st->ping_ms);
    return dropped;
}

/*
 * A failure that counts towards offlineimap's three: the account as a whole
 * could not run.  A server that cannot be reached (no network, a server
 * restarting) does not count: a daemon left running must outlive an hour in
 * a train, and it retries at every refresh anyway.
 */
static bool failure_counts(const struct err *e)
{
    return e->scope >= ERR_REPO && e->kind != ERRK_NETWORK && e->kind != ERRK_TIMEOUT &&
           e->kind != ERRK_ABORTED;
}

static int64_t mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec;
}

static void emit_account(enum ev_type type, const char *name, int64_t secs)
{
    struct log_event ev = {.type = type, .account = name, .num = secs};
    log_emit(&ev);
}

/*
 * One sync: every folder (only == NULL), or a push sync of the folders in
 * only.  Errors are reported here, before the account's end is announced and
 * the turn given back, so that the output reads as offlineimap's does; e keeps
 * the error for the caller's counting.  False with ERRK_ABORTED if the
 * program stopped before the sync could start.
 */
static bool sync_once(struct acct_state *st, bool quick, const struct strvec *only, struct err *e)
{
    struct account_cfg *a = &st->rs.account;
    const char *name = st->ar->acc->name;
    a->quick = quick;
    a->sync_mode = only ? "idle" : quick ? "quick" : "full";
    a->only_remote = only;
    repo_setup_refresh(&st->rs, st->ar->acc);
    log_thread_activity("waiting for its turn to sync (maxsyncaccounts)");
    if (!daemon_turn_take(st->ar)) {
        log_thread_activity(NULL);
        err_set(e, ERR_REPO, ERRK_ABORTED, "Account %s: not synced, the program is stopping", name);
        return false;
    }
    int64_t t0 = mono_s();
    if (!only)
        emit_account(EV_ACCOUNT_START, name, 0);
    log_thread_activity(only ? "push sync" : quick ? "quick sync" : "full sync");
    /*
     * Held connections are asked a NOOP first (one round trip for all): a
     * dead one is replaced now rather than after a timeout, and a session
     * that still has a folder selected learns of that folder's changes;
     * without it, the server answers STATUS for the selected folder from
     * the session's old view (Dovecot does), and the folder would look
     * unchanged.
     */
    if (st->hold)
        ping_held(st, 0);
    struct account_result res;
    bool ok = account_sync(a, &res, e);
    a->only_remote = NULL;
    /* offlineimap: after an error the connections may be bogus (a suspend); else hold or drop. */
    if (!ok || !st->hold)
        drop_held(st);
    if (!ok)
        log_error("%s", e->msg);
    if (!only)
        emit_account(EV_ACCOUNT_DONE, name, mono_s() - t0);
    log_thread_activity(NULL);
    daemon_turn_give(st->d);
    return ok;
}

/* Sync the folders the push watcher reported, if any. */
static void push_syncs(struct acct_state *st)
{
    struct acct_run *ar = st->ar;
    struct strvec folders = STRVEC_INIT;
    pthread_mutex_lock(&ar->lock);
    folders = ar->dirty;
    memset(&ar->dirty, 0, sizeof(ar->dirty));
    pthread_mutex_unlock(&ar->lock);
    if (folders.n == 0)
        return;
    struct err e = ERR_INIT;
    sync_once(st, false, &folders, &e);
    err_clear(&e);
    strvec_free(&folders);
}

static bool dirty_pending(struct acct_run *ar)
{
    pthread_mutex_lock(&ar->lock);
    bool any = ar->dirty.n > 0;
    pthread_mutex_unlock(&ar->lock);
    return any;
}

/* offlineimap's get_abort_event() and the resume/network notices. */
static enum sleep_result interrupted(struct acct_state *st)
{
    struct acct_run *ar = st->ar;
    struct daemon *d = st->d;
    bool stop = atomic_load(&d->stop_after_sync) || atomic_load(&d->abort_now);
    bool skip = atomic_exchange(&ar->skip_sleep, false);
    bool net = atomic_exchange(&ar->net_changed, false);
    if (net)
        drop_held(st);
    if (stop)
        return SLEEP_STOP;
    return skip || net ? SLEEP_SKIPPED : SLEEP_DONE;
}

static bool signalled(struct acct_state *st)
{
    return atomic_load(&st->d->stop_after_sync) || atomic_load(&st->d->abort_now) ||
           atomic_load(&st->ar->skip_sleep) || atomic_load(&st->ar->net_changed);
}

static void wait_wake(struct acct_run *ar, int64_t ns)
{
    if (ns <= 0)
        return;
    int ms = (int)((ns + 999999) / 1000000);
    struct pollfd p = {ar->wake_rd, POLLIN, 0};
    if (poll(&p, 1, ms) > 0) {
        char buf[64];
        while (read(ar->wake_rd, buf, sizeof(buf)) > 0)
            ;
    }
}

static void emit_sleeping(int64_t slice, int64_t remaining)
{
    struct log_event ev = {.type = EV_SLEEPING, .num = slice, .count = remaining};
    log_emit(&ev);
}

/* offlineimap's _sleeper(): the time between two syncs. */
static enum sleep_result account_sleep(struct acct_state *st)
{
    if (st->refresh <= 0)
        return SLEEP_NONE;
    struct acct_run *ar = st->ar;
    int64_t deadline = boot_ns() + (int64_t)(st->refresh * 60 * (double)NS);
    int64_t ka = st->hold && st->keepalive > 0 ? (int64_t)st->keepalive * NS : 0;
    int64_t next_ka = ka ? boot_ns() + ka : INT64_MAX;
    enum sleep_result result = SLEEP_DONE;
    for (;;) {
        result = interrupted(st);
        if (result != SLEEP_DONE)
            break;
        int64_t now = boot_ns();
        int64_t remaining = (deadline - now + NS / 2) / NS;
        if (remaining <= 0)
            break;
        /* The activity first: a SIGQUIT right after the line must find it. */
        log_thread_activity("sleeping, next sync in %lld s", (long long)remaining);
        emit_sleeping(SLEEP_SLICE_S, remaining);
        int64_t slice_end = now + SLEEP_SLICE_S * NS;
        if (slice_end > deadline)
            slice_end = deadline;
        for (;;) {
            now = boot_ns();
            if (now >= slice_end)
                break;
            wait_wake(ar, (next_ka < slice_end ? next_ka : slice_end) - now);
            if (signalled(st))
                break;
            if (dirty_pending(ar)) {
                push_syncs(st);
                break; /* a fresh countdown line after the sync's output */
            }
            if (boot_ns() >= next_ka) {
                unsigned n = ping_held(st, 0);
                if (n)
                    log_debug(LOGC_IMAP, "keepalive: %u held connection%s did not answer", n,
                              n == 1 ? "" : "s");
                next_ka = boot_ns() + ka;
            }
        }
    }
    emit_sleeping(0, 0);
    log_thread_activity(NULL);
    return result;
}

/* The loop itself: up to three consecutive failures, reset by a success. */
static void account_loop(struct acct_state *st)
{
    int looping = 3;
    while (looping > 0) {
        bool quick = daemon_quick_decide(st->quick_cfg, &st->quicknum);
        struct err e = ERR_INIT;
        bool ok = sync_once(st, quick, NULL, &e);
        if (!ok) {
            if (failure_counts(&e))
                looping--;
            if (e.scope >= ERR_CRITICAL) {
                atomic_store(&st->d->status, 1);
                looping = 0;
            }
        } else if (st->refresh > 0) {
            looping = 3;
        }
        err_clear(&e);
        if (looping > 0) {
            enum sleep_result r = account_sleep(st);
            if (r >= SLEEP_STOP)
                looping = 0;
            else if (r == SLEEP_SKIPPED)
                st->quicknum = 0; /* the sync asked for is a full one */
        }
    }
}

static bool setup(struct acct_state *st)
{
    struct acct_run *ar = st->ar;
    const struct daemon_opts *o = st->d->o;
    const struct config_account *acc = ar->acc;
    struct repo_setup_opts so = {
        .cfg = o->cfg,
        .account = acc,
        .ui = o->ui,
        .single_thread = o->single,
        .dry_run = o->dry_run,
        .quick = o->opts->quick,
        .only_folders = o->only_folders,
    };
    struct err e = ERR_INIT;
    if (!repo_setup(&so, &st->rs, &e)) {
        log_error("%s", e.msg);
        if (e.scope >= ERR_CRITICAL)
            atomic_store(&st->d->status, 1);
        err_clear(&e);
        return false;
    }
    struct account_cfg *a = &st->rs.account;
    a->allow_deletions = o->allow_deletions;
    a->mbnames = o->mbnames;
    a->should_stop = stop_requested;
    a->stop_ctx = st->d;
    st->refresh = o->opts->run_once ? 0 : acc->autorefresh;
    st->quick_cfg = o->opts->quick ? -1 : acc->quick;
    const struct config_repository *remote = acc->remote;
    if (st->refresh > 0 && remote->idlefolders.text) {
        struct py_expr *x = py_expr_new(&remote->idlefolders, o->cfg->path, remote->section,
                                        "idlefolders", false, &e);
        if (!x || !py_eval_strlist(x, &st->idle_folders, &e)) {
            log_error("%s", e.msg);
            err_clear(&e);
        }
        py_expr_free(&x);
    }
    /* idlefolders forces holdconnectionopen and a keepalive of 29 minutes. */
    st->hold = st->refresh > 0 && (remote->holdconnectionopen || st->idle_folders.n > 0);
    st->keepalive = remote->keepalive;
    if (st->keepalive == 0 && st->idle_folders.n > 0)
        st->keepalive = IDLE_KEEPALIVE_S;
    int64_t ping = st->keepalive > 0 ? (int64_t)st->keepalive * 500 : PING_TIMEOUT_MAX_MS;
    st->ping_ms = ping < PING_TIMEOUT_MIN_MS   ? PING_TIMEOUT_MIN_MS
                  : ping > PING_TIMEOUT_MAX_MS ? PING_TIMEOUT_MAX_MS
                                               : (int)ping;
    return true;
}

void *daemon_account_main(void *arg)
{
    struct acct_run *ar = arg;
    struct daemon *d = ar->d;
    log_set_thread_name("%s", ar->thread_name);
    struct log_event ev = {.type = EV_THREAD_START, .account = ar->acc->name};
    log_emit(&ev);
    struct acct_state st = {.ar = ar, .d = d};
    if (setup(&st)) {
        if (st.refresh > 0 && st.idle_folders.n > 0)
            st.push = daemon_push_start(ar, st.rs.account.remote, &st.idle_folders, st.keepalive);
        account_loop(&st);
    }
    daemon_turn_forgo(ar);
    daemon_push_stop(&st.push);
    repo_stores_release(&st.rs);
    strvec_free(&st.idle_folders);
    atomic_store(&ar->finished, true);
    ssize_t n = write(d->done_wr, "d", 1);
    (void)n;
    return NULL;
}
