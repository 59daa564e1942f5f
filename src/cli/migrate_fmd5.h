/*
 * migrate_fmd5: --migrate-fmd5-using-nametrans.
 *
 * For each account of the run whose local repository is a Maildir, under the
 * account lock, every local folder's message files whose FMD5 was computed
 * by an offlineimap older than 6.3.5 (from the folder's own name) are renamed
 * to carry the FMD5 of the folder's visible name (after the local nametrans),
 * as store_maildir_migrate_fmd5() describes.  Without it, such files look
 * foreign to the next sync: uploaded again as new messages, and the server's
 * copies downloaded again.  offlineimap3 has the option but crashes on
 * Python 3; this one works, and honours --dry-run.
 */
#ifndef CLI_MIGRATE_FMD5_H
#define CLI_MIGRATE_FMD5_H

#include "config/config_model.h"

#include <stdbool.h>

/* 0, or 1 if an account or folder failed (reported with log_error). */
int migrate_fmd5_run(const struct config *cfg, bool dry_run);

#endif
