/*
 * Private to daemon.c (the main loop: signals, network changes, scheduling)
 * and daemon_account.c (one account's loop).
 */
#ifndef CLI_DAEMON_INTERNAL_H
#define CLI_DAEMON_INTERNAL_H

#include "base/strutil.h"
#include "cli/daemon.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct acct_run {
    struct daemon *d;
    const struct config_account *acc;
    size_t index;  /* in the configuration's order */
    bool had_turn; /* (under d->lock) its first turn is taken, or it will never ask */
    char thread_name[160];
    pthread_t thread;
    bool started;
    bool joined;
    atomic_bool finished;    /* the thread is about to return */
    int wake_rd, wake_wr;    /* a byte in this pipe wakes the account's sleep */
    atomic_bool skip_sleep;  /* SIGUSR1: end the current or next sleep */
    atomic_bool net_changed; /* resume or new addresses: reconnect, then sync */
    atomic_uint net_gen;     /* counts those, for the push thread */
    int push_rd, push_wr;    /* a byte here wakes the push thread */
    /* Folders the push watcher saw change, not yet synced (under lock). */
    pthread_mutex_t lock;
    struct strvec dirty;
};

struct daemon {
    const struct daemon_opts *o;
    pthread_mutex_t lock;
    pthread_cond_t cond;         /* a sync turn came free, or the program stops */
    unsigned turns;              /* accounts that may start a sync now (maxsyncaccounts) */
    size_t first_next;           /* the first sync of each account goes in this order */
    atomic_bool stop_after_sync; /* SIGUSR2, SIGABRT */
    atomic_bool abort_now;       /* SIGTERM, SIGINT, SIGHUP */
    atomic_int status;           /* 1 after a critical error */
    struct acct_run *accts;
    size_t n;
    int done_rd, done_wr; /* an account thread writes a byte here when it ends */
};

/* Wake the account's sleep (any thread). */
void daemon_wake(struct acct_run *ar);
/*
 * Wait for a turn to sync; false if the program stops meanwhile.  The
 * accounts' first syncs start in the configuration's order, as offlineimap's
 * do (with maxsyncaccounts = 1, one after the other: mbnames, hooks and
 * output follow the order of "accounts").  An account that ends without
 * syncing calls daemon_turn_forgo() so the next one is not kept waiting.
 */
bool daemon_turn_take(struct acct_run *ar);
void daemon_turn_give(struct daemon *d);
void daemon_turn_forgo(struct acct_run *ar);
bool daemon_aborting(const struct daemon *d);

/*
 * daemon_push.c: the push thread watching folders (idlefolders) with IDLE or
 * NOTIFY on the remote store; folders seen changed go to ar->dirty.  NULL if
 * it cannot run (the reason is logged).  keepalive_s: how often IDLE is
 * re-issued and the server checked (0: 25 minutes).
 */
struct store;
struct push;
struct push *daemon_push_start(struct acct_run *ar, struct store *remote,
                               const struct strvec *folders, int keepalive_s);
void daemon_push_stop(struct push **p);

/* daemon_account.c: the account thread. */
void *daemon_account_main(void *arg);
/*
 * offlineimap's choice between a quick and a full sync: quick_cfg -1 always
 * quick, 0 never, N: the syncs 2..N+1 of each cycle of N+1 are quick.
 * *quicknum is the account's counter (0: the next sync is full).
 */
bool daemon_quick_decide(int quick_cfg, unsigned *quicknum);

#endif
