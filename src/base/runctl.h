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
 * Emergency exit: before the process ends at once (a third SIGINT, a second
 * Blinkenlights 'q', SIGQUIT), the scheduler calls runctl_emergency(), which
 * runs the hook an interface set with runctl_set_emergency() (a curses
 * interface gives the terminal back), then removes the files registered with
 * runctl_emergency_unlink_add() (the account lock files this process holds),
 * each only if it is still the file that was registered (same device and
 * inode).  The hook must be quick and must not take locks another thread may
 * hold.  Whatever else is half done stays as a crash would leave it: a
 * message file in a Maildir's tmp/, an uncommitted status transaction; the
 * next run converges from there.
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
    /* A second Blinkenlights 'q': what a third SIGINT does, the emergency exit. */
    RUNCTL_EXIT_NOW,
};

/* account: the account the request is for, or NULL for every account. */
typedef void runctl_fn(void *ctx, enum runctl_req req, const char *account);

/* Install the handler (NULL to remove); call before threads start. */
void runctl_set_handler(runctl_fn *fn, void *ctx);
void runctl_request(enum runctl_req req, const char *account);

typedef void runctl_emergency_fn(void);
void runctl_set_emergency(runctl_emergency_fn *fn);
void runctl_emergency(void);

/* Register (or forget) a file for the emergency exit to remove; thread-safe. */
void runctl_emergency_unlink_add(const char *path);
void runctl_emergency_unlink_remove(const char *path);

#endif
