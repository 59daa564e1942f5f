/*
 * sync_startdate: offlineimap's startdate, a partial clone of one side.
 *
 * startdate = YYYY-MM-DD on one repository (the "partial" side) copies only
 * its messages since that date to the other side (the "new" side), which
 * must be empty the first time (accounts.py cachemessagelists_startdate):
 *
 *  - the first sync of a folder lists the partial side's messages since the
 *    date, and saves the lowest of their UIDs (1 if none) in
 *    Repository-<partial>/StartUID/<folder> as "%d\n";
 *  - later syncs list the partial side from that UID on; the new side is
 *    always listed in full;
 *  - without a StartUID file and with messages on the new side, the folder
 *    fails with offlineimap's "To use startdate on Repository X, Repository Y
 *    must be empty".
 *
 * The UIDs are the partial side's own: remote UIDs for the server and for a
 * Maildir (its U= numbers), local UIDs for an IMAP local side with a UID map
 * (store_ops.min_uid_is_key).  An IMAP side's "since" is its INTERNALDATE at
 * or after local midnight of the date; a Maildir's the time stamp at the start
 * of its file names, as offlineimap's.
 */
#ifndef SYNC_STARTDATE_H
#define SYNC_STARTDATE_H

#include "base/err.h"
#include "store/store.h"
#include "sync/sync_folder.h"

#include <stdbool.h>

/* List both sides of job (whose startdate_side is set) into rl and ll. */
bool sync_startdate_lists(const struct sync_folder_job *job, struct store_folder *rf,
                          struct store_folder *lf, struct store_msg_list *rl,
                          struct store_msg_list *ll, struct err *e);

#endif
