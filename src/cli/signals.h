/*
 * signals: offlineimap's signals (REFERENCE.md 1.1), read from a signalfd.
 *
 * signals_open() blocks SIGUSR1, SIGUSR2, SIGABRT, SIGTERM, SIGINT, SIGHUP
 * and SIGQUIT in the calling thread and returns a descriptor that becomes
 * readable when one arrives.  Call it in the main thread before any other
 * thread starts: threads inherit the mask, so these signals never run a
 * handler nor interrupt a system call anywhere; the program reads them as
 * data, in an ordinary thread, and may do anything then.  Child processes
 * must clear the mask before exec (hooks and tunnels do).  The mask is never
 * lifted: a signal that comes while the program ends must not kill it.
 *
 * abort() still works: it unblocks SIGABRT for itself and raises it.
 */
#ifndef CLI_SIGNALS_H
#define CLI_SIGNALS_H

#include "base/err.h"

#include <stdbool.h>

enum sig_action {
    SIG_ACTION_NONE = 0,
    SIG_ACTION_SYNC_NOW,        /* SIGUSR1 */
    SIG_ACTION_STOP_AFTER_SYNC, /* SIGUSR2, SIGABRT */
    SIG_ACTION_ABORT,           /* SIGTERM, SIGINT, SIGHUP; the third one exits at once */
    SIG_ACTION_DUMP,            /* SIGQUIT */
};

/* Block the signals and open the descriptor (non-blocking, close-on-exec). */
bool signals_open(int *fd_r, struct err *e);
/* The next pending signal's number, or 0 when none is pending. */
int signals_read(int fd);
enum sig_action signals_action(int signo);

#endif
