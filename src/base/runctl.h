/*
 * runctl: requests to the running program from outside the sync code.
 *
 * Signals (SIGUSR1, SIGTERM, ...) and interactive user interfaces (a key in
 * Blinkenlights) ask the running program to sync now, to stop after the
 * current sync, or to stop soon.  Code that receives such a request calls
 * runctl_request(); the program's scheduler (cli/daemon) installs the one
 * handler at start-up, before any thread exists, as log.h's sink is.  Until a
 * handler is installed, requests are dropped.
 *
 * The handler is called in the requesting thread; it only records the request
 * and wakes whoever must act on it, so it is cheap and never blocks for long.
 * It must not be called from a signal handler (the program reads signals from
 * a signalfd in an ordinary thread).
 *
 * Emergency exit: before the process ends at once (a third SIGINT, SIGQUIT),
 * the scheduler calls runctl_emergency(), which runs the hook an interface set
 * with runctl_set_emergency() (a curses interface gives the terminal back).
 * The hook must be quick and must not take locks another thread may hold.
 */
#ifndef BASE_RUNCTL_H
#define BASE_RUNCTL_H

enum runctl_req {
    /* SIGUSR1, a Blinkenlights digit: end the current or next sleep between syncs
     * now; the next sync is a full one (offlineimap's skipsleep). */
    RUNCTL_SYNC_NOW = 0,
    /* SIGUSR2, SIGABRT: finish the sync in progress, then leave the autorefresh loop. */
    RUNCTL_STOP_AFTER_SYNC,
    /* SIGTERM, SIGINT, SIGHUP, Blinkenlights 'q': finish the folders being synced,
     * start no other, release the locks and stop. */
    RUNCTL_ABORT,
};

/* account: the account the request is for, or NULL for every account. */
typedef void runctl_fn(void *ctx, enum runctl_req req, const char *account);

/* Install the handler (NULL to remove); call before threads start. */
void runctl_set_handler(runctl_fn *fn, void *ctx);
void runctl_request(enum runctl_req req, const char *account);

typedef void runctl_emergency_fn(void);
void runctl_set_emergency(runctl_emergency_fn *fn);
void runctl_emergency(void);

#endif
