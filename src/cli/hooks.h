/*
 * hooks: presynchook and postsynchook, as offlineimap runs them.
 *
 * The command runs with /bin/sh -c, stdin closed, stdout and stderr captured
 * (up to a limit) and reported as "Hook stdout: ...\nHook stderr:...\n" and
 * "Hook return code: N".  OFFLINEIMAPSYNCMODE is set to the sync mode.  As in
 * offlineimap the return code does not stop the sync; in dry-run mode the hook
 * is only announced.
 */
#ifndef CLI_HOOKS_H
#define CLI_HOOKS_H

#include <stdbool.h>

/* Returns the hook's exit status, or -1 if it could not be run. */
int hook_run(const char *cmd, const char *sync_mode, bool dry_run);

#endif
