/*
 * sync_state: what a folder looked like at the end of its last clean sync,
 * kept beside the offlineimap-compatible status (in its extra state table,
 * which offlineimap3 ignores), so that the next sync costs what changed:
 *
 *   remote  UIDVALIDITY, UIDNEXT, message count and HIGHESTMODSEQ seen when
 *           the folder was opened (before our own changes);
 *   local   the Maildir folder's stamp (store.h folder_stamp) seen before it
 *           was read, kept only when the sync changed nothing locally and
 *           the stamp was not too recent to trust;
 *   select  the options that chose which messages and changes that sync
 *           took (maxsize, read-only sides, sync_deletes, copy_ignore_eval):
 *           with other options, the same counters and stamp say nothing.
 *
 * It is written only after a sync with no error of any kind, and removed as
 * soon as a sync is not clean, so a stale state can never hide a change.
 */
#ifndef SYNC_STATE_H
#define SYNC_STATE_H

#include "base/err.h"
#include "status/status_db.h"
#include "store/store.h"

#include <stdbool.h>

struct sync_state {
    bool have_remote;
    struct store_folder_status remote;
    char *local_stamp; /* NULL if none */
    char *select;      /* NULL if none */
};

bool sync_state_load(struct status_db *db, struct sync_state *st, struct err *e);
/* Writes st; keys equal in old (the state loaded at the start; NULL: unknown)
 * are left as they are. */
bool sync_state_save(struct status_db *db, const struct sync_state *st,
                     const struct sync_state *old, struct err *e);
bool sync_state_clear(struct status_db *db, const struct sync_state *old, struct err *e);
void sync_state_release(struct sync_state *st);

#endif
