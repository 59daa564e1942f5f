/*
 * sync_narrow: the lists of the narrow sync (sync_folder.c).  When every
 * message outside a set of UIDs is known to be the same on the server, in
 * the status and in the local folder, a full sync would do nothing for it,
 * and the folder is synced over that set alone: the server's changes named by
 * the SELECT (QRESYNC: changed and new messages, VANISHED), the local files
 * that differ from the status (store_ops.open_folder_diff) and the status
 * rows no local file carries any more.
 */
#ifndef SYNC_SYNC_NARROW_H
#define SYNC_SYNC_NARROW_H

#include "status/status_db.h"
#include "status/status_rows.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * The server's changes since the saved HIGHESTMODSEQ are all named (QRESYNC)
 * and agree with the status: total rows (known, sorted by UID, may hold only
 * those of the changed and expunged UIDs), less the expunged ones, plus the
 * new ones, is the server's message count.  want gets the changed and
 * expunged UIDs (sorted); false when a UID is both.
 */
bool sync_narrow_server(const struct store_changes *ch, const struct store_uidflags *known,
                        size_t nknown, size_t total, uint32_t exists, struct uidvec *want);

/*
 * The server's messages among uids (sorted): those of ch (NULL when the
 * server did not change), and the others as the status rows record them.
 */
void sync_narrow_remote_list(const struct store_changes *ch, const struct status_rows *rows,
                             const struct uidvec *uids, struct store_msg_list *out);

/* The status rows as a base for store_ops.open_folder_diff (sorted by UID). */
struct store_uidflags *sync_narrow_base(const struct status_rows *rows);

/*
 * Every status row's UID and flags into *v_r (xmalloc'd), without the rest
 * of each row.  *ordered_r false: the UIDs are not strictly increasing (the
 * full sync then reads the rows and says what is wrong).
 */
bool sync_narrow_load_base(struct status_db *db, struct store_uidflags **v_r, size_t *n_r,
                           bool *ordered_r, struct err *e);

#endif
