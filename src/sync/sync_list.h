/*
 * sync_list: the remote message list, as cheaply as the server allows.
 *
 * After a clean sync the status equals the server's list (UIDs and flags).
 * So when the server's counters (UIDVALIDITY, UIDNEXT, message count,
 * HIGHESTMODSEQ) have not moved, the list is the status itself; when only
 * HIGHESTMODSEQ moved and the store can list changes (CONDSTORE/QRESYNC), the
 * list is the status with the changed and new messages applied and the
 * vanished ones taken out; otherwise it is the full listing.  A rebuilt list
 * whose size differs from the server's message count is thrown away for the
 * full listing: a wrong guess must never pass for the truth.
 */
#ifndef SYNC_LIST_H
#define SYNC_LIST_H

#include "base/err.h"
#include "status/status_rows.h"
#include "store/store.h"
#include "sync/sync_state.h"

#include <stdbool.h>

enum sync_list_how {
    SYNC_LIST_FULL = 0,
    SYNC_LIST_FROM_STATUS,
    SYNC_LIST_CHANGES,
};

/*
 * saved is the state of the last clean sync (or NULL); unchanged says the
 * server's counters equal it.  pre (or NULL) holds the changes since the
 * saved HIGHESTMODSEQ asked for when the folder was opened
 * (open_folder_changes); they are used instead of asking again (if they hold
 * neither VANISHED nor the UID list, asking failed: the list is then taken in
 * full), and freed.  *how_r says which way
 * was taken.
 */
bool sync_list_remote(struct store *remote, struct store_folder *rf,
                      const struct store_list_opts *opts, const struct sync_state *saved,
                      bool unchanged, const struct status_rows *rows, struct store_changes *pre,
                      struct store_msg_list *out, enum sync_list_how *how_r, struct err *e);

#endif
