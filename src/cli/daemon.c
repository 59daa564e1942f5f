/*
 * daemon: the main loop.  Account threads do the syncing (daemon_account.c);
 * this thread reads signals, watches the clocks and the network, hands out
 * sync turns and reports finished threads, as offlineimap's monitor() does.
 */
#include "cli/daemon_internal.h"

#include "base/log.h"
#include "base/runctl.h"
#include "base/xalloc.h"
#include "cli/netwatch.h"
#include "cli/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How often the clocks are compared; a suspend shows at most this late. */
#define CLOCK_CHECK_MS 2000
/* A suspend or clock step shorter than this is not worth reconnecting for. */
#define CLOCK_JUMP_NS (10 * 1000000000LL)
/* Address messages come in bursts while an interface comes up: wait for calm. */
#define ADDRESS_SETTLE_MS 1500

static bool make_pipe(int *rd, int *wr)
{
    int p[2];
    if (pipe(p) != 0)
        return false;
    for (int i = 0; i < 2; i++) {
        fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
        fcntl(p[i], F_SETFD, FD_CLOEXEC);
    }
    *rd = p[0];
    *wr = p[1];
    return true;
}

static void drain_fd(int fd)
{
    char buf[256];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
}

void daemon_wake(struct acct_run *ar)
{
    /* A full pipe already holds a wake-up: EAGAIN is fine. */
    ssize_t n = write(ar->wake_wr, "w", 1);
    (void)n;
}

bool daemon_aborting(const struct daemon *d)
{
    return atomic_load(&d->abort_now);
}

/* Under d->lock: past the accounts that had their first turn. */
static void first_advance(struct daemon *d)
{
    while (d->first_next < d->n && d->accts[d->first_next].had_turn)
        d->first_next++;
    pthread_cond_broadcast(&d->cond);
}

bool daemon_turn_take(struct acct_run *ar)
{
    struct daemon *d = ar->d;
    pthread_mutex_lock(&d->lock);
    while ((d->turns == 0 || (!ar->had_turn && d->first_next != ar->index)) &&
           !daemon_aborting(d))
        pthread_cond_wait(&d->cond, &d->lock);
    bool ok = !daemon_aborting(d);
    if (ok) {
        d->turns--;
        if (!ar->had_turn) {
            ar->had_turn = true;
            first_advance(d);
        }
    }
    pthread_mutex_unlock(&d->lock);
    return ok;
}

void daemon_turn_give(struct daemon *d)
{
    pthread_mutex_lock(&d->lock);
    d->turns++;
    /* Waiters wait for different things (a turn, their place in the first round). */
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

void daemon_turn_forgo(struct acct_run *ar)
{
    struct daemon *d = ar->d;
    pthread_mutex_lock(&d->lock);
    if (!ar->had_turn) {
        ar->had_turn = true;
        first_advance(d);
    }
    pthread_mutex_unlock(&d->lock);
}

static void wake_all(struct daemon *d)
{
    for (size_t i = 0; i < d->n; i++)
        daemon_wake(&d->accts[i]);
    pthread_mutex_lock(&d->lock);
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

/* A resume or a new network: held connections are likely dead; sync now. */
static void net_changed(struct daemon *d)
{
    for (size_t i = 0; i < d->n; i++) {
        struct acct_run *ar = &d->accts[i];
        atomic_store(&ar->net_changed, true);
        atomic_fetch_add(&ar->net_gen, 1);
        ssize_t w = write(ar->push_wr, "n", 1);
        (void)w;
        daemon_wake(ar);
    }
}

/*
 * The emergency exit (a third SIGINT, a second Blinkenlights 'q'), as SIGKILL
 * would end the run but with the terminal given back and the lock files
 * removed (runctl_emergency): whatever is half done stays in tmp/ or in an
 * uncommitted transaction, and the next run converges from it.  Any thread.
 */
static _Noreturn void exit_now(void)
{
    runctl_emergency();
    fflush(NULL);
    quick_exit(1);
}

/* runctl handler: requests from user interfaces (and from the signals below). */
static void request(void *ctx, enum runctl_req req, const char *account)
{
    struct daemon *d = ctx;
    switch (req) {
    case RUNCTL_SYNC_NOW:
        for (size_t i = 0; i < d->n; i++) {
            struct acct_run *ar = &d->accts[i];
            if (account && strcmp(account, ar->acc->name) != 0)
                continue;
            atomic_store(&ar->skip_sleep, true);
            daemon_wake(ar);
        }
        break;
    case RUNCTL_STOP_AFTER_SYNC:
        atomic_store(&d->stop_after_sync, true);
        wake_all(d);
        break;
    case RUNCTL_ABORT:
        atomic_store(&d->abort_now, true);
        wake_all(d);
        break;
    case RUNCTL_EXIT_NOW:
        exit_now();
    }
}

static void dump_line(void *ctx, const char *line)
{
    FILE *f = ctx;
    if (f)
        fprintf(f, "%s\n", line);
    else
        log_debug(LOGC_THREAD, "%s", line);
}

/* What every thread is doing: to stderr for SIGQUIT, as -d thread output for SIGTERM. */
static void dump_threads(FILE *f)
{
    if (f)
        fprintf(f, "** Thread List:\n");
    else
        log_debug(LOGC_THREAD, "** Thread List:");
    unsigned n = log_threads_dump(dump_line, f);
    if (f) {
        fprintf(f, "Dumped a total of %u Threads.\n", n);
        fflush(f);
    } else {
        log_debug(LOGC_THREAD, "Dumped a total of %u Threads.", n);
    }
}

static void handle_signal(struct daemon *d, int signo, unsigned *n_abort)
{
    switch (signals_action(signo)) {
    case SIG_ACTION_SYNC_NOW:
        request(d, RUNCTL_SYNC_NOW, NULL);
        break;
    case SIG_ACTION_STOP_AFTER_SYNC:
        log_warn("Terminating after this sync...");
        request(d, RUNCTL_STOP_AFTER_SYNC, NULL);
        break;
    case SIG_ACTION_ABORT:
        log_warn("Preparing to shutdown after sync (this may take some time), press CTRL-C "
                 "three times to shutdown immediately");
        /* What the threads were doing when the signal came, before they react to it. */
        if (log_debug_enabled(LOGC_THREAD))
            dump_threads(NULL);
        request(d, RUNCTL_ABORT, NULL);
        if (++*n_abort >= 3) {
            log_warn("Signaled thrice. Aborting!");
            exit_now();
        }
        break;
    case SIG_ACTION_DUMP:
        runctl_emergency();
        dump_threads(stderr);
        abort();
    case SIG_ACTION_NONE:
        break;
    }
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void watch_network(struct daemon *d, struct netwatch *nw, int64_t *settle_at)
{
    int64_t ns = 0;
    enum netwatch_event ev = netwatch_clocks(nw, CLOCK_JUMP_NS, &ns);
    if (ev == NETWATCH_RESUMED) {
        log_info("Resumed after %lld s of suspend: reconnecting and syncing now",
                 (long long)(ns / 1000000000));
        net_changed(d);
    } else if (ev == NETWATCH_CLOCK_STEP) {
        log_info("The clock jumped by %lld s: reconnecting and syncing now",
                 (long long)(ns / 1000000000));
        net_changed(d);
    }
    if (*settle_at && now_ms() >= *settle_at) {
        *settle_at = 0;
        unsigned count = 0;
        if (netwatch_addresses(nw, &count) == NETWATCH_ADDRESSES) {
            log_info("The network changed (%u address%s now): reconnecting and syncing now", count,
                     count == 1 ? "" : "es");
            net_changed(d);
        }
    }
}

/* Join the account threads that said they ended; returns how many are still running. */
static size_t reap(struct daemon *d)
{
    size_t running = 0;
    drain_fd(d->done_rd);
    for (size_t i = 0; i < d->n; i++) {
        struct acct_run *ar = &d->accts[i];
        if (!ar->started || ar->joined)
            continue;
        /* A thread sets finished and writes its byte as its very last actions. */
        if (atomic_load(&ar->finished)) {
            pthread_join(ar->thread, NULL);
            ar->joined = true;
            struct log_event ev = {.type = EV_THREAD_EXIT, .text = ar->thread_name};
            log_emit(&ev);
        } else {
            running++;
        }
    }
    return running;
}

static void monitor(struct daemon *d, int sig_fd)
{
    struct netwatch nw;
    netwatch_open(&nw);
    unsigned n_abort = 0;
    int64_t settle_at = 0, next_clock = now_ms() + CLOCK_CHECK_MS;
    size_t running = d->n;
    while (running > 0) {
        struct pollfd fds[3] = {
            {sig_fd, POLLIN, 0}, {d->done_rd, POLLIN, 0}, {netwatch_fd(&nw), POLLIN, 0}};
        int64_t now = now_ms();
        int64_t until = next_clock;
        if (settle_at && settle_at < until)
            until = settle_at;
        int timeout = until > now ? (int)(until - now) : 0;
        int r = poll(fds, fds[2].fd >= 0 ? 3 : 2, timeout);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0 && (fds[0].revents & POLLIN)) {
            int signo;
            while ((signo = signals_read(sig_fd)) != 0)
                handle_signal(d, signo, &n_abort);
        }
        if (r > 0 && fds[2].fd >= 0 && (fds[2].revents & POLLIN)) {
            netwatch_drain(&nw);
            settle_at = now_ms() + ADDRESS_SETTLE_MS;
        }
        if (now_ms() >= next_clock || settle_at) {
            if (now_ms() >= next_clock)
                next_clock = now_ms() + CLOCK_CHECK_MS;
            watch_network(d, &nw, &settle_at);
        }
        if (r > 0 && (fds[1].revents & POLLIN))
            running = reap(d);
    }
    netwatch_close(&nw);
}

int daemon_run(const struct daemon_opts *o)
{
    const struct config *cfg = o->cfg;
    struct daemon d = {.o = o};
    pthread_mutex_init(&d.lock, NULL);
    pthread_cond_init(&d.cond, NULL);
    int maxacc = o->single ? 1 : cfg->general.maxsyncaccounts;
    d.turns = maxacc > 0 ? (unsigned)maxacc : 1;
    log_set_thread_name("MainThread");

    int sig_fd = -1;
    struct err e = ERR_INIT;
    if (!signals_open(&sig_fd, &e) || !make_pipe(&d.done_rd, &d.done_wr)) {
        log_error("%s", e.msg ? e.msg : "cannot create a pipe");
        err_clear(&e);
        return 1;
    }
    d.n = cfg->nsync;
    d.accts = xcalloc(d.n ? d.n : 1, sizeof(*d.accts));
    for (size_t i = 0; i < d.n; i++) {
        struct acct_run *ar = &d.accts[i];
        ar->d = &d;
        ar->acc = cfg->sync[i];
        ar->index = i;
        snprintf(ar->thread_name, sizeof(ar->thread_name), "Account sync %s", ar->acc->name);
        pthread_mutex_init(&ar->lock, NULL);
        if (!make_pipe(&ar->wake_rd, &ar->wake_wr) || !make_pipe(&ar->push_rd, &ar->push_wr))
            abort();
    }
    runctl_set_handler(request, &d);
    for (size_t i = 0; i < d.n; i++) {
        struct acct_run *ar = &d.accts[i];
        ar->started = pthread_create(&ar->thread, NULL, daemon_account_main, ar) == 0;
        if (!ar->started) {
            log_error("Account %s: cannot start a thread for it", ar->acc->name);
            atomic_store(&d.status, 1);
            daemon_turn_forgo(ar);
        }
    }
    monitor(&d, sig_fd);
    runctl_set_handler(NULL, NULL);
    for (size_t i = 0; i < d.n; i++) {
        struct acct_run *ar = &d.accts[i];
        if (ar->started && !ar->joined)
            pthread_join(ar->thread, NULL);
        close(ar->wake_rd);
        close(ar->wake_wr);
        close(ar->push_rd);
        close(ar->push_wr);
        strvec_free(&ar->dirty);
        pthread_mutex_destroy(&ar->lock);
    }
    free(d.accts);
    close(d.done_rd);
    close(d.done_wr);
    /* The mask stays: a signal arriving while the program ends must not kill it. */
    close(sig_fd);
    pthread_mutex_destroy(&d.lock);
    pthread_cond_destroy(&d.cond);
    return atomic_load(&d.status);
}
