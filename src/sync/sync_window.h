/*
 * sync_window: maxage, the window of messages both sides look at.
 *
 * As offlineimap does: the server's messages newer than the cutoff give the
 * lowest UID of the window; the server is then listed from that UID on, and
 * the Maildir the same (every file whose UID is at least that one, whatever
 * its date), plus new local files newer than the cutoff.  When the server has
 * nothing in the window, the local files newer than the cutoff set it.
 * Messages outside the window are invisible: never copied, never deleted,
 * never flag-synced; so are status rows below the window.
 */
#ifndef SYNC_WINDOW_H
#define SYNC_WINDOW_H

#include "base/err.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * List both sides for the window starting at cutoff (seconds since the
 * epoch).  *min_uid_r is the window's lowest UID (0: everything from the
 * local side's new files only; UINT32_MAX: nothing on either side).
 */
bool sync_window_lists(struct store *remote, struct store_folder *rf, struct store *local,
                       struct store_folder *lf, int64_t cutoff,
                       const struct store_list_opts *ropts, const struct store_list_opts *lopts,
                       struct store_msg_list *rl, struct store_msg_list *ll, uint32_t *min_uid_r,
                       struct err *e);

#endif
