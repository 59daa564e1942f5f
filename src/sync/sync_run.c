/*
 * sync_run: the checkpoints (stores flushed, status committed), the events and
 * the small helpers of a folder's sync (sync_run.h).
 */
#include "sync/sync_run.h"
#include "base/crashpoint.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

void run_note_err(struct run *r, const struct err *e)
{
    if (!err_isset(&r->err))
        err_set(&r->err, e->scope, e->kind, "%s", e->msg);
}

void run_msg_failed(struct run *r, const struct err *e)
{
    r->stats->msg_errors++;
    log_error("%s", e->msg);
}

size_t run_pend_push(struct run *r, uint32_t uid, uint32_t key, flagset_t flags)
{
    if (r->n_pend == r->cap_pend) {
        r->cap_pend = r->cap_pend ? r->cap_pend * 2 : 64;
        r->pend = xreallocarray(r->pend, r->cap_pend, sizeof(*r->pend));
    }
    r->pend[r->n_pend] = (struct pending_save){uid, key, flags};
    return r->n_pend++;
}

/*
 * Make every saved message durable and record it; commit the status when
 * asked, or once COMMIT_EVERY changes have gathered.  Between passes only
 * the stores are flushed: the folder's status is committed once at its end
 * (with its saved state), as every pass is safe to find half-recorded after
 * a crash (the next run sees the same change on both sides, or a message
 * present on both sides with its UID, and only records it; uploads have
 * their committed intents).
 */
bool run_sync_meta(struct run *r, struct err *e);

bool run_checkpoint_ex(struct run *r, bool commit, bool dst_only, struct err *e)
{
    if (r->j->dry_run)
        return true;
    const struct store_ops *lo = r->j->local->ops, *ro = r->j->remote->ops;
    bool flushed = dst_only ? (r->upload ? ro->flush(r->rf, e) : lo->flush(r->lf, e))
                            : ro->flush(r->rf, e) && lo->flush(r->lf, e);
    if (!flushed)
        return false;
    if (err_isset(&r->err)) {
        err_set(e, r->err.scope, r->err.kind, "%s", r->err.msg);
        return false;
    }
    r->n_pend = 0;
    if (!commit && r->since_commit < COMMIT_EVERY)
        return true;
    if (!run_sync_meta(r, e))
        return false;
    crashpoint("status-commit");
    if (!status_db_commit(r->db, e))
        return false;
    crashpoint("status-committed");
    if (!status_db_begin(r->db, e))
        return false;
    r->since_commit = 0;
    return true;
}

/* The stores' own records of what the status is about to say (a UID map) first. */
bool run_sync_meta(struct run *r, struct err *e)
{
    const struct sync_folder_job *j = r->j;
    if (j->dry_run)
        return true;
    if (r->lf && j->local->ops->sync_meta && !j->local->ops->sync_meta(r->lf, e))
        return false;
    if (r->rf && j->remote->ops->sync_meta && !j->remote->ops->sync_meta(r->rf, e))
        return false;
    return true;
}

bool run_checkpoint(struct run *r, struct err *e)
{
    return run_checkpoint_ex(r, true, false, e);
}

bool run_flush_point(struct run *r, struct err *e)
{
    return run_checkpoint_ex(r, false, false, e);
}

/*
 * The UID a new local message is shown with: offlineimap numbers the Maildir
 * messages without a UID -1, -2, ... in the order it lists them.
 */
int64_t run_local_uid(const struct run *r, uint32_t key)
{
    size_t lo = 0, hi = r->n_nouid;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->nouid[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < r->n_nouid && r->nouid[lo].key == key)
        return -(int64_t)lo - 1;
    return -(int64_t)key - 1;
}

void run_emit_copy(struct run *r, int64_t uid, const char *src_folder, const char *dst_folder)
{
    const struct sync_folder_job *j = r->j;
    struct store *src = r->upload ? j->local : j->remote;
    struct store *dst = r->upload ? j->remote : j->local;
    struct log_event ev = {
        .type = EV_COPYING_MESSAGE,
        .account = j->account,
        .uid = uid,
        .num = (int64_t)++r->num,
        .total = (int64_t)r->total,
        .repo = src->name,
        .repo_type = store_type(src),
        .folder = src_folder,
        .dst_repo = dst->name,
        .dst_type = store_type(dst),
        .dst_folder = dst_folder,
    };
    log_emit(&ev);
}
