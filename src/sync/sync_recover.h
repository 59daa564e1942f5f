/*
 * sync_recover: never upload a message twice.
 *
 * An upload is APPEND, then the server's answer, then the local file renamed
 * to carry the new UID, then the status row.  A crash or a dropped connection
 * after the APPEND reached the server but before the rename leaves a local
 * file without a UID whose copy is already on the server: a plain sync would
 * upload it again (a duplicate) and also download the server's copy (a
 * second duplicate).
 *
 * So before the APPENDs go out, an intent is journaled in the folder's status
 * database (our extra state table, which offlineimap3 ignores): the local
 * message's identity and the server's UIDNEXT.  A completed upload removes
 * its intent in the same transaction as its status row.  At the start of the
 * next sync, local messages without a UID that have an intent are matched
 * with the server's messages that arrived since that UIDNEXT and are known to
 * neither the status nor the local side: same size (allowing for the marker
 * header added without UIDPLUS) and the same Message-ID, or the same date
 * when there is no Message-ID.  A match is adopted (the local file is renamed
 * to carry that UID) instead of being uploaded and downloaded again.
 */
#ifndef SYNC_RECOVER_H
#define SYNC_RECOVER_H

#include "base/err.h"
#include "store/store.h"
#include "status/status_db.h"

#include <stdbool.h>

/* Journal key prefixes in the status database's state table. */
#define SYNC_UPLOAD_KEY "upload:"
#define SYNC_DOWNLOAD_KEY "download:"

/*
 * Match journaled uploads against the remote list.  Adopted local messages
 * get their UID in local (which is re-sorted).  Stale intents are dropped.
 */
bool sync_recover_uploads(struct status_db *db, struct store *local, struct store_folder *lf,
                          struct store *remote, struct store_folder *rf,
                          const struct store_msg_list *remote_list, struct store_msg_list *local_list,
                          const struct status_rows *rows, const char *folder, size_t *adopted_r,
                          struct err *e);

/* Journal the intent to upload msgs (in the open transaction). */
bool sync_journal_uploads(struct status_db *db, struct store *local, struct store_folder *lf,
                          const struct store_msg *msgs, size_t n, uint32_t uidnext, struct err *e);
/* Drop the intent of an upload that completed (in the open transaction). */
bool sync_journal_done(struct status_db *db, struct store *local, struct store_folder *lf,
                       const struct store_msg *msg, struct err *e);

/*
 * Downloads into a store whose saved messages are durable before they carry
 * their remote UID (store_ops.journal_downloads: an IMAP local side with a UID
 * map).  Before the saves go out, "download:<remote uid>" is journaled; a
 * completed download removes it with its status row.  At the start of the
 * next sync, a journaled remote message that is neither in the status nor
 * known locally is matched with the local messages without a remote UID: the
 * same size (both are IMAP messages) and Message-ID, or date without one.  A
 * match is given that remote UID (set_uid) instead of being uploaded while the
 * remote message is downloaded again.  Every download intent is then dropped.
 */
bool sync_journal_downloads(struct status_db *db, const struct store_msg *msgs, size_t n,
                            struct err *e);
bool sync_journal_download_done(struct status_db *db, uint32_t uid, struct err *e);
bool sync_recover_downloads(struct status_db *db, struct store *local, struct store_folder *lf,
                            struct store *remote, struct store_folder *rf,
                            const struct store_msg_list *remote_list,
                            struct store_msg_list *local_list, const struct status_rows *rows,
                            const char *folder, size_t *adopted_r, struct err *e);

#endif
