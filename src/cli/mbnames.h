/*
 * mbnames: the mailbox-list file for mail readers ([mbnames], REFERENCE.md 8),
 * as offlineimap3's mbnames.py writes it.
 *
 * Every folder an account starts to sync is recorded (mbnames_add: account
 * name, localfolders root, local folder name with the local separator).
 * When the account's sync is over (mbnames_account_done), the folders that
 * [mbnames] folderfilter(account, folder) keeps go to the intermediate file
 * <metadata>/mbnames/<account>.json (mbnames_json.h).  The final file is
 * written from every intermediate file in that directory, so accounts not
 * synced in this run stay listed: after each account with incremental = yes,
 * else once at the end of the run (mbnames_run_done).  It is the items,
 * sorted by sort_keyfunc (default: account, then folder), each formatted with
 * peritem % item, joined with sep, between header and footer.
 *
 * Unlike offlineimap, both files are replaced atomically (a temporary file
 * renamed over the old one; a symbolic link is followed, the file's mode
 * kept), so a mail reader never sees half a list.
 *
 * mbnames_prune (--mbnames-prune) removes the intermediate files of accounts
 * no longer in [general] accounts (all of them when mbnames is disabled) and
 * writes the final file again.  offlineimap tests each name as a substring of
 * the accounts text; here a name must be one of the listed accounts.
 *
 * Problems are logged (log_error) as they happen, as offlineimap's ui.error
 * does, and the functions return false if there was any; a failed write
 * leaves the previous file in place.  Thread-safe: accounts syncing at once
 * share one struct mbnames.  In dry-run mode nothing is written or removed;
 * what would be is logged.
 */
#ifndef CLI_MBNAMES_H
#define CLI_MBNAMES_H

#include "base/err.h"
#include "config/config_model.h"

#include <stdbool.h>

struct mbnames;

/*
 * The mbnames writer for cfg: *m_r is NULL when [mbnames] is absent or not
 * enabled.  Evaluates header, sep and footer and compiles folderfilter and
 * sort_keyfunc (the embedded Python must be started); false with e set if
 * one of them fails, with the option, its line and the Python traceback.
 */
bool mbnames_new(const struct config *cfg, bool dry_run, struct mbnames **m_r, struct err *e);
void mbnames_free(struct mbnames **m);

/* A folder of `account` is being synced (root: its localfolders, or NULL). */
void mbnames_add(struct mbnames *m, const char *account, const char *root, const char *folder);
/* The account's sync is over: its intermediate file, and with incremental the final one. */
bool mbnames_account_done(struct mbnames *m, const char *account);
/* The run is over: the final file, unless incremental already wrote it. */
bool mbnames_run_done(struct mbnames *m);

/* --mbnames-prune. */
bool mbnames_prune(const struct config *cfg, bool dry_run, struct err *e);

#endif
