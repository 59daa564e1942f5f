/*
 * status_migrate: bring an old offlineimap's plain-text status cache into
 * the SQLite status, as offlineimap meant to.
 *
 * offlineimap before 7.0 kept one plain-text file per folder in
 * <metadata>/Account-<a>/LocalStatus/<base> (FORMAT 1 "uid:flags" or
 * FORMAT 2 "uid|flags|mtime|labels", see status_plain.h).  offlineimap3 has
 * code to copy it into a new SQLite status (LocalStatusRepository.
 * import_other_backend), but the code never runs (REFERENCE.md 4.3): a user
 * coming from an old version gets an empty status, so every message counts
 * as new on both sides.  Here the rows are imported, so that such a user's
 * first run downloads, uploads and deletes nothing.
 *
 * The import happens only into a database this open has just created
 * (status_db_created()), or one whose earlier import failed (a damaged plain
 * file; the failure is remembered in our state table, so that the import is
 * tried again on every run until it succeeds or the file is moved away,
 * instead of the folder being synced once with an empty status).  All rows go
 * in one transaction, with offlineimap's INSERT OR REPLACE semantics.  The
 * plain file is left in place: offlineimap3 ignores it, and a user may still
 * go back to an older offlineimap.
 */
#ifndef STATUS_MIGRATE_H
#define STATUS_MIGRATE_H

#include "base/err.h"
#include "status/status_db.h"

#include <stdbool.h>
#include <stddef.h>

/* The state-table key that marks an import still to be done. */
#define STATUS_MIGRATE_PENDING_KEY "migrate:plain"

/*
 * Import the plain status at plain_path into db when db was just created
 * (or an earlier import failed); *rows_r gets the number of rows imported
 * (0 when there was nothing to do or no plain file).  Call it right after
 * status_db_open(), outside a transaction, and not in a dry run.
 *
 * A local folder created by this program (its directory was missing) must
 * not get its old rows: they would make its emptiness look like deletions
 * for the server.  Creating the folder's status database together with the
 * folder (before it, as offlineimap's makefolder does) ensures that: the
 * database is then not new when the folder is first synced.
 *
 * Errors (ERR_FOLDER): a plain file that cannot be read or parsed (the
 * message names the file and line and says how to go on), or a failed
 * database write; nothing is imported then, and the next call tries again.
 */
bool status_migrate_plain(struct status_db *db, const char *plain_path, size_t *rows_r,
                          struct err *e);

#endif
