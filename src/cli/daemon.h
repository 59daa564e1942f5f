/*
 * daemon: runs the accounts, once or in offlineimap's autorefresh loop, and
 * answers signals and network changes.
 *
 * daemon_run() is the program's main loop.  Each account gets a thread
 * ("Account sync <name>") running offlineimap's account loop (REFERENCE.md
 * 5.1): sync, then sleep autorefresh minutes and sync again, until -o (no
 * autorefresh), SIGUSR2 (finish, then stop), SIGTERM/SIGINT/SIGHUP (stop
 * after the folders being synced), or three consecutive failures of the
 * account as a whole.  At most maxsyncaccounts accounts sync at once (1 with
 * -1); unlike offlineimap, an account holds its turn only while it syncs, not
 * while it sleeps, so two accounts with autorefresh both run with
 * maxsyncaccounts = 1.
 *
 * The calling (main) thread blocks the signals before any thread starts and
 * reads them from a signalfd (cli/signals.h); it also watches for a resume
 * from suspend and for address changes (cli/netwatch.h), after which held
 * connections are dropped and the accounts sync at once.  Requests from user
 * interfaces arrive through base/runctl.h.
 */
#ifndef CLI_DAEMON_H
#define CLI_DAEMON_H

#include "base/strutil.h"
#include "cli/cli_opts.h"
#include "config/config_model.h"

#include <stdbool.h>

struct ui;
struct mbnames;

struct daemon_opts {
    const struct config *cfg;
    struct ui *ui;
    const struct cli_opts *opts;
    bool single; /* -1, or -d without "thread" */
    bool dry_run;
    const struct strvec *only_folders;    /* -f */
    const struct strvec *allow_deletions; /* --allow-deletions */
    struct mbnames *mbnames;              /* the run's mbnames writer, or NULL */
};

/* Run every account to its end.  Returns 0, or 1 after a critical error. */
int daemon_run(const struct daemon_opts *o);

#endif
