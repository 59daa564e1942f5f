/*
 * sync_run: the state of one folder's sync while its passes run, shared by the
 * files of the engine (internal to src/sync): sync_folder.c drives the folder,
 * sync_copy.c copies messages from one store to the other, sync_apply.c applies
 * deletions and flag changes, sync_run.c holds the checkpoints and the events
 * they all use.
 */
#ifndef SYNC_RUN_H
#define SYNC_RUN_H

#include "base/buf.h"
#include "base/err.h"
#include "status/status_db.h"
#include "store/store.h"
#include "sync/sync_folder.h"
#include "sync/sync_plan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Status rows are committed at least this often while changes are applied; it
 * matches the Maildir store's batch, whose one data sync per batch the commit
 * waits for.
 */
#define COMMIT_EVERY 1024
/*
 * While messages are downloaded, every this many the local store is flushed
 * (and waited for) and the status committed: eight Maildir batches, so that
 * seven of them sync in the background while the next one is written
 * (store_maildir_batch.c); their rows are recorded as they become durable and
 * committed with the eighth.  Uploads commit every COMMIT_EVERY.
 */
#define DOWNLOAD_COMMIT_EVERY (8 * COMMIT_EVERY)

/* A message saved and waiting for its "durable" callback. */
struct pending_save {
    uint32_t uid; /* remote UID (download) */
    uint32_t key; /* local key (upload) */
    flagset_t flags;
};

struct run {
    const struct sync_folder_job *j;
    struct sync_folder_stats *stats;
    struct store_folder *rf; /* remote folder */
    struct store_folder *lf; /* local folder */
    struct status_db *db;
    struct err err; /* first folder-level error during callbacks */
    /* Copy state. */
    struct store *dst_store;
    struct store_folder *dst;
    struct store_writer *w;
    bool writer_failed;
    struct pending_save *pend;
    size_t n_pend, cap_pend;
    size_t since_commit;
    uint64_t num, total;
    bool upload; /* direction of the current copy */
    /* filterheaders: the header of the message being uploaded is held back here. */
    bool holding;
    struct store_msg held_meta;
    uint64_t held_size;
    struct buf held;
    /* The local messages without a UID, by key (the tail of the sorted local list). */
    const struct store_msg *nouid;
    size_t n_nouid;
    /*
     * The local-to-remote pass sends its uploads, deletions and flag changes
     * together and waits once (store_ops.delete_msgs_queued): the deletions
     * sent, whose status rows are dropped once the remote store is flushed.
     */
    bool defer_remote;
    struct store_msg_list deferred_del;
    /* The server opened the remote folder read-only: local changes are not sent. */
    bool remote_ro;
    uint64_t ro_skipped; /* changes so left pending */
};

/* Header bytes held back at most for filterheaders; a longer header is sent as it is. */
#define FILTER_HEADER_MAX (256 * 1024)

void run_note_err(struct run *r, const struct err *e);
void run_msg_failed(struct run *r, const struct err *e);
size_t run_pend_push(struct run *r, uint32_t uid, uint32_t key, flagset_t flags);
/*
 * Make every saved message durable and record it; commit the status when
 * asked, or once COMMIT_EVERY changes have gathered (see sync_run.c).
 */
bool run_checkpoint_ex(struct run *r, bool commit, bool dst_only, struct err *e);
bool run_checkpoint(struct run *r, struct err *e);
bool run_flush_point(struct run *r, struct err *e);
/* The stores' own records of what the status is about to say (a UID map). */
bool run_sync_meta(struct run *r, struct err *e);
int64_t run_local_uid(const struct run *r, uint32_t key);
void run_emit_copy(struct run *r, int64_t uid, const char *src_folder, const char *dst_folder);

/* The passes (sync_copy.c, sync_apply.c). */
bool run_copy_messages(struct run *r, bool upload, const struct store_msg *msgs, size_t n,
                       struct err *e);
bool run_delete_messages(struct run *r, bool on_remote, const struct store_msg *msgs, size_t n,
                         struct err *e);
bool run_apply_flags(struct run *r, bool on_remote, const struct sync_flag_change *c, size_t n,
                     struct err *e);
/* After the remote store is flushed (flush: here): the deferred deletions recorded. */
bool run_record_deferred(struct run *r, bool flush, struct err *e);

#endif
