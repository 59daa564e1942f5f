#include "sync/sync_folder.h"
#include "sync/sync_run.h"
#include "base/crashpoint.h"

#include "base/log.h"
#include "base/xalloc.h"
#include "status/status_migrate.h"
#include "status/status_validity.h"
#include "sync/sync_list.h"
#include "sync/sync_narrow.h"
#include "sync/sync_recover.h"
#include "sync/sync_skip.h"
#include "sync/sync_startdate.h"
#include "sync/sync_window.h"

#include <stdlib.h>
#include <string.h>

/* ---- the folder ---------------------------------------------------------------------- */

static bool check_validity(struct run *r, size_t n_status, size_t n_local, struct err *e)
{
    const struct sync_folder_job *j = r->j;
    const struct store_folder_info *ri = j->remote->ops->folder_info(r->rf);
    if (ri->uidvalidity == 0) {
        err_set(e, ERR_FOLDER, ERRK_PROTOCOL,
                "folder %s: server gave no UIDVALIDITY; cannot sync it safely", j->remote_name);
        return false;
    }
    uint32_t saved = 0;
    bool have = false;
    if (!status_validity_read(j->remote_validity_path, &have, &saved, e))
        return false;
    if (have && saved != ri->uidvalidity && (n_status > 0 || n_local > 0)) {
        struct log_event ev = {
            .type = EV_VALIDITY_PROBLEM,
            .account = j->account,
            .folder = j->remote_name,
            .repo = j->remote->name,
            .saved = saved,
            .got = ri->uidvalidity,
        };
        log_emit(&ev);
        err_set(e, ERR_FOLDER, ERRK_UIDVALIDITY,
                "UID validity problem for folder %s (repo %s) (saved %u; got %u); skipping it. "
                "Nothing was changed. If the folder was really re-created on the server, move "
                "the local folder %s and the status file %s aside and run again to download it "
                "afresh.",
                j->remote_name, j->remote->name, saved, ri->uidvalidity, j->local_name,
                j->status_path);
        return false;
    }
    /*
     * The local side: a Maildir's file holds 42; an IMAP local side (UID
     * map) has a UIDVALIDITY of its own, checked like the server's.
     */
    uint32_t lsaved = 0, lnow = 0;
    bool lhave = false;
    if (!status_validity_read(j->local_validity_path, &lhave, &lsaved, e))
        return false;
    if (r->lf)
        lnow = j->local->ops->folder_info(r->lf)->uidvalidity;
    if (lnow && lhave && lsaved != lnow && (n_status > 0 || n_local > 0)) {
        struct log_event ev = {
            .type = EV_VALIDITY_PROBLEM,
            .account = j->account,
            .folder = j->local_name,
            .repo = j->local->name,
            .saved = lsaved,
            .got = lnow,
        };
        log_emit(&ev);
        err_set(e, ERR_FOLDER, ERRK_UIDVALIDITY,
                "UID validity problem for folder %s (repo %s) (saved %u; got %u); skipping it. "
                "Nothing was changed. If the folder was really re-created on that server, move "
                "its UID map and the status file %s aside and run again.",
                j->local_name, j->local->name, lsaved, lnow, j->status_path);
        return false;
    }
    if (j->dry_run)
        return true;
    if (!have || saved != ri->uidvalidity) {
        if (!status_validity_write(j->remote_validity_path, ri->uidvalidity, j->fsync, e))
            return false;
        crashpoint("validity-saved");
    }
    if (!lnow)
        lnow = STATUS_VALIDITY_MAILDIR;
    if ((!lhave || (lsaved != lnow && lnow != STATUS_VALIDITY_MAILDIR)) &&
        !status_validity_write(j->local_validity_path, lnow, j->fsync, e))
        return false;
    return true;
}

/*
 * Mass deletions are refused unless confirmed: an emptied or unmounted
 * folder must never empty the other side silently.  The refused deletions
 * are dropped from the plan (the status keeps their rows, so the next run
 * sees the same situation); everything else in the folder still happens.
 */
static void guard_side(const struct sync_folder_job *j, size_t *n_del, bool on_remote,
                       size_t n_status, struct err *guard)
{
    size_t n = *n_del;
    if (n == 0 || j->guard_allowed || j->guard_percent <= 0 || j->guard_percent >= 100)
        return;
    if (n < (size_t)j->guard_minimum || n * 100 <= (size_t)j->guard_percent * n_status)
        return;
    struct store *dst = on_remote ? j->remote : j->local;
    struct store *src = on_remote ? j->local : j->remote;
    err_set(guard, ERR_FOLDER, ERRK_GUARD,
            "Refusing to delete %zu of the %zu messages (%zu%%) of folder %s in %s (%s): they "
            "are gone from %s folder %s. Nothing was deleted in this folder. If they were "
            "deleted on purpose, run again with --allow-deletions=%s (or --allow-deletions for "
            "every folder), or set deleteguard in [Account %s] (now %d%%).",
            n, n_status, n_status ? n * 100 / n_status : 100,
            on_remote ? j->remote_name : j->local_name, dst->name, store_type(dst), store_type(src),
            on_remote ? j->local_name : j->remote_name, j->remote_name, j->account,
            j->guard_percent);
    *n_del = 0;
}

/*
 * offlineimap's ui.syncingmessages() before each direction's pass; a pass into
 * a read-only repository is not run and says so at debug level instead.
 */
static void emit_pass(const struct sync_folder_job *j, bool upload)
{
    struct store *src = upload ? j->local : j->remote, *dst = upload ? j->remote : j->local;
    if (upload ? j->plan.remote_readonly : j->plan.local_readonly) {
        log_debug(LOGC_SYNC, "Not syncing to read-only repository '%s'", dst->name);
        return;
    }
    struct log_event ev = {
        .type = EV_SYNCING_MESSAGES,
        .account = j->account,
        .repo = src->name,
        .repo_type = store_type(src),
        .folder = upload ? j->local_name : j->remote_name,
        .dst_repo = dst->name,
        .dst_type = store_type(dst),
        .dst_folder = upload ? j->remote_name : j->local_name,
    };
    log_emit(&ev);
}

static bool run_passes(struct run *r, struct sync_plan *p, struct err *e)
{
    /* Remote to local (announced before the copy_ignore lines): copy, delete, flags. */
    if (!run_copy_messages(r, false, p->download.v, p->download.n, e))
        return false;
    if (!r->j->dry_run) {
        for (size_t i = 0; i < p->status_add.n; i++)
            if (!status_db_put(r->db, p->status_add.v[i].uid, p->status_add.v[i].flags, 0, NULL, e))
                return false;
        for (size_t i = 0; i < p->status_drop.n; i++)
            if (!status_db_delete(r->db, p->status_drop.v[i], e))
                return false;
    }
    if (!run_delete_messages(r, false, p->local_delete.v, p->local_delete.n, e))
        return false;
    if (!run_apply_flags(r, false, p->local_flags.v, p->local_flags.n, e))
        return false;
    /*
     * Local to remote: copy, delete, flags, sent one after the other and
     * answered together (one round trip for the pass when the store queues
     * its deletions; each is recorded only once its answer came).
     */
    emit_pass(r->j, true);
    r->defer_remote = r->rf && r->j->remote->ops->delete_msgs_queued;
    bool ok = run_copy_messages(r, true, p->upload.v, p->upload.n, e) &&
              run_delete_messages(r, true, p->remote_delete.v, p->remote_delete.n, e) &&
              run_apply_flags(r, true, p->remote_flags.v, p->remote_flags.n, e) &&
              run_record_deferred(r, true, e);
    r->defer_remote = false;
    return ok && run_flush_point(r, e);
}

/* The local list equals the status (sorted by UID) in UIDs and flags. */
static bool same_as_status(const struct status_rows *rows, const struct store_msg_list *ll)
{
    if (ll->n != rows->n)
        return false;
    struct store_msg_list sorted = {0};
    for (size_t i = 0; i < ll->n; i++)
        store_msg_list_push(&sorted, &ll->v[i]);
    store_msg_list_sort(&sorted);
    bool same = true;
    for (size_t i = 0; i < rows->n && same; i++)
        same = sorted.v[i].uid == rows->v[i].uid && sorted.v[i].flags == rows->v[i].flags;
    store_msg_list_free(&sorted);
    return same;
}

/* At most this many changed and expunged UIDs are looked up row by row. */
#define SOME_ROWS_MAX 1024

/*
 * The changes the SELECT brought since the saved HIGHESTMODSEQ hold nothing
 * the status does not record: each changed message is a row with the same
 * flags, no expunged UID is a row (or the server's UIDs are the rows'), and
 * the server holds as many messages as the status (total rows; rows may hold
 * only those of the changed and expunged UIDs).
 */
static bool changes_in_status(const struct store_changes *ch, const struct status_rows *rows,
                              size_t total, uint32_t exists)
{
    if (total != exists || (!ch->have_vanished && !ch->have_all))
        return false;
    for (size_t i = 0; i < ch->changed.n; i++) {
        const struct status_row *row = status_rows_find(rows, ch->changed.v[i].uid);
        if (!row || row->flags != ch->changed.v[i].flags)
            return false;
    }
    for (size_t i = 0; ch->have_vanished && i < ch->vanished.n; i++)
        if (status_rows_find(rows, ch->vanished.v[i]))
            return false;
    if (ch->have_all && (ch->all.n != total || rows->n != total))
        return false;
    for (size_t i = 0; ch->have_all && i < ch->all.n; i++)
        if (!status_rows_find(rows, ch->all.v[i]))
            return false;
    return true;
}

/*
 * offlineimap's quick sync (-q, quick): a folder is unchanged when the server
 * holds as many messages as the status and the local list equals the status
 * in UIDs and flags.  Server-side flag changes are not seen, by design.
 */
static bool quick_unchanged(const struct store_folder_info *ri, const struct status_rows *rows,
                            const struct store_msg_list *ll)
{
    return ri->exists == rows->n && same_as_status(rows, ll);
}

static void emit_list(const struct sync_folder_job *j, struct store *s, const char *folder,
                      bool loaded, size_t count)
{
    struct log_event ev = {
        .type = loaded ? EV_MSGLIST_LOADED : EV_LOAD_MSGLIST,
        .account = j->account,
        .repo = s->name,
        .repo_type = store_type(s),
        .folder = folder,
        .count = (int64_t)count,
    };
    log_emit(&ev);
}

/* The local diff given up: its folder closed, every status row read for the full sync. */
static bool diff_abandon(struct run *r, struct status_rows *rows, bool *local_diff, struct err *e)
{
    *local_diff = false;
    if (r->lf)
        r->j->local->ops->close_folder(&r->lf);
    return status_db_load(r->db, rows, e);
}

bool sync_folder_run(const struct sync_folder_job *j, struct sync_folder_stats *stats,
                     struct err *e)
{
    struct sync_folder_stats dummy;
    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof(*stats));
    struct run r = {.j = j, .stats = stats, .err = ERR_INIT};
    buf_init(&r.held, FILTER_HEADER_MAX);
    struct store_msg_list rl = {0}, ll = {0};
    struct status_rows rows = {0};
    struct sync_status_entry *st = NULL;
    struct sync_plan plan = {0};
    bool ok = false, have_saved = false, skipped = false, stamp_racy = false, have_pre = false;
    /* The narrow sync (sync_narrow.h): n_status counts every status row. */
    bool narrow = false;
    size_t n_status = 0;
    struct uidvec narrow_uids = UIDVEC_INIT;
    /* The local diff (open_folder_diff): the status as its base, rows no file carries. */
    struct store_uidflags *diff_base = NULL;
    struct uidvec missing = UIDVEC_INIT;
    struct uidvec also = UIDVEC_INIT; /* the server's changed and expunged UIDs */
    bool twice = false;
    bool want_watch = false;
    char *sel = NULL;
    struct store_changes pre = {0};
    struct buf stamp;
    buf_init(&stamp, 1024);
    /* The saved state the database holds at the end (for the skip list). */
    struct sync_state fin = {0};
    bool have_fin = false;

    struct log_event ev = {
        .type = EV_SYNCING_FOLDER,
        .account = j->account,
        .folder = j->remote_name,
        .repo = j->remote->name,
        .repo_type = store_type(j->remote),
        .dst_repo = j->local->name,
        .dst_type = store_type(j->local),
        .dst_folder = j->local_name,
    };
    log_emit(&ev);
    if (j->quick && (j->maxage_cutoff || j->startdate_side))
        log_warn("Quick syncs (-q) not supported in conjunction with maxage or startdate; "
                 "ignoring -q.");

    if (!status_db_open(j->status_path, &r.db, e))
        goto out;
    if (status_db_created(r.db)) {
        struct log_event nev = {.type = EV_NEW_STATUS_DB,
                                .account = j->account,
                                .repo = j->local->name,
                                .folder = j->remote_name};
        log_emit(&nev);
    }
    /* An old offlineimap's plain status goes into a new database (REFERENCE 4.3). */
    if (j->plain_status_path && !j->dry_run) {
        size_t migrated = 0;
        if (!status_migrate_plain(r.db, j->plain_status_path, &migrated, e))
            goto out;
    }
    /*
     * A folder whose server counters and local stamp are those of the last
     * clean sync has not changed on either side: nothing to read or do.
     */
    struct sync_state saved;
    if (!sync_state_load(r.db, &saved, e))
        goto out;
    have_saved = true;
    bool local_absent = j->dry_run && j->local_absent;
    bool remote_absent = j->dry_run && j->remote_absent;
    bool windowed = sync_job_windowed(j);
    if (!local_absent && j->local->ops->folder_stamp) {
        struct err se = ERR_INIT;
        if (!j->local->ops->folder_stamp(j->local, j->local_name, &stamp, &stamp_racy, &se))
            buf_reset(&stamp);
        err_clear(&se);
    }
    const struct store_folder_status *rs = j->remote_status;
    sel = sync_selection_text(j);
    bool sel_same = saved.select && !strcmp(saved.select, sel);
    bool server_same =
        !windowed && sel_same && rs && saved.have_remote && rs->highestmodseq != 0 &&
        rs->uidvalidity == saved.remote.uidvalidity && rs->uidnext == saved.remote.uidnext &&
        rs->messages == saved.remote.messages && rs->highestmodseq == saved.remote.highestmodseq;
    /*
     * The local folder is as the status records it: its stamp is the one
     * saved with the status, or the one of the skip-list line that still
     * describes this status database (after a sync that wrote to the folder,
     * the line gets the stamp once its own changes are old enough).
     */
    bool local_same = !windowed && sel_same && stamp.len && !stamp_racy &&
                      ((saved.local_stamp && !strcmp(saved.local_stamp, stamp.data)) ||
                       (j->local_hint && !strcmp(j->local_hint, stamp.data)));
    /*
     * The server moved since a clean sync that saved its HIGHESTMODSEQ: ask
     * for the changes with the SELECT, in the same round trip.
     */
    bool prefetch = !remote_absent && !windowed && sel_same && !server_same &&
                    j->remote->ops->open_folder_changes && saved.have_remote &&
                    saved.remote.highestmodseq != 0 &&
                    (!rs || rs->uidvalidity == saved.remote.uidvalidity);
    /*
     * The local folder changed (or its stamp cannot tell) while the server did
     * not or names its changes: the local folder is opened knowing only the
     * files that differ from the status (the local diff), and when the
     * server's side agrees, the sync is the narrow one over those files, the
     * rows no file carries any more and the server's changes.
     */
    bool local_diff = !local_same && !j->dry_run && !j->quick && !j->startdate_side &&
                      !j->maxage_cutoff && !local_absent && !remote_absent &&
                      j->local->ops->open_folder_diff && saved.have_remote &&
                      saved.remote.highestmodseq != 0 && (server_same || prefetch);
    /*
     * Uploads a crash left unrecorded: the folder needs the full sync's
     * recovery.  Looked up only where a shortcut would skip it.
     */
    bool pending = false;
    if ((server_same || local_same || local_diff) && !j->dry_run) {
        struct strvec keys = STRVEC_INIT, values = STRVEC_INIT;
        pending = !status_db_state_list(r.db, SYNC_UPLOAD_KEY, &keys, &values, e) || keys.n > 0;
        strvec_free(&keys);
        strvec_free(&values);
        if (err_isset(e))
            goto out;
    }
    if (server_same && !j->dry_run) {
        if (local_same && !pending) {
            log_debug(LOGC_SYNC, "folder %s: unchanged on both sides since the last sync",
                      j->remote_name);
            fin = saved;
            fin.local_stamp = stamp.data; /* the saved one, or the line's */
            have_fin = true;
            ok = true;
            skipped = true;
            goto out;
        }
    }
    /*
     * The local folder unchanged and the server moved: the server is opened
     * first, for its changes may all be in the status already (below), and
     * then neither the local folder (whose opening reads every file name) nor
     * every status row is read.
     */
    bool remote_first = local_same && !server_same && !pending && !j->dry_run && !j->quick &&
                        !j->startdate_side && !j->maxage_cutoff && !local_absent && !remote_absent;
    local_diff = local_diff && !pending;
    /* The local diff reads each row's UID and flags only (nbase of them). */
    size_t nbase = 0;
    if (local_diff) {
        bool ordered = false;
        if (!sync_narrow_load_base(r.db, &diff_base, &nbase, &ordered, e))
            goto out;
        if (!ordered || nbase == 0) /* a new or emptied status: the full sync */
            local_diff = false;
    }
    if (!remote_first && !local_diff && !status_db_load(r.db, &rows, e))
        goto out;
    bool as_status = false; /* server unchanged, local folder as in the status */
    if (local_diff && server_same) {
        if (!j->local->ops->open_folder_diff(j->local, j->local_name, !j->plan.local_readonly,
                                             diff_base, nbase, NULL, &r.lf, &missing, &twice, e))
            goto out;
        as_status = !twice && missing.n == 0 && j->local->ops->folder_info(r.lf)->exists == 0;
        if (as_status) {
            emit_list(j, j->local, j->local_name, false, 0);
            emit_list(j, j->local, j->local_name, true, nbase);
        }
        if (twice && !diff_abandon(&r, &rows, &local_diff, e))
            goto out;
    }
    if (!local_absent && !remote_first && !r.lf && !local_diff &&
        !j->local->ops->open_folder(j->local, j->local_name, !j->plan.local_readonly, &r.lf, e))
        goto out;
    /*
     * The server has not changed and the local stamp cannot tell: read the
     * local folder first, and when it still equals the status, the server
     * folder need not even be opened.
     */
    bool local_listed = false;
    if (server_same && !local_diff && !pending && !j->dry_run && !j->quick && r.lf && rows.n) {
        emit_list(j, j->local, j->local_name, false, 0);
        if (!j->local->ops->list_msgs(r.lf, &j->local_list, &ll, e))
            goto out;
        emit_list(j, j->local, j->local_name, true, ll.n);
        local_listed = true;
        as_status = same_as_status(&rows, &ll);
    }
    if (as_status) {
        log_debug(LOGC_SYNC, "folder %s: server unchanged, local folder as in the status",
                  j->remote_name);
        /*
         * The stamp (taken before the listing) goes to the skip list only:
         * the database is left as it is, so this costs no write and no fsync,
         * and the skip list's line, which describes the database as it is
         * now, holds the stamp for the next run.
         */
        fin = saved;
        fin.local_stamp = !stamp_racy && stamp.len ? stamp.data : NULL;
        fin.select = sel;
        have_fin = true;
        ok = true;
        skipped = true;
        goto out;
    }
    if (prefetch) {
        if (!j->remote->ops->open_folder_changes(
                j->remote, j->remote_name, !j->plan.remote_readonly, &j->remote_list,
                saved.remote.highestmodseq, &r.rf, &pre, &have_pre, e))
            goto out;
    } else if (!remote_absent && !j->remote->ops->open_folder(j->remote, j->remote_name,
                                                              !j->plan.remote_readonly, &r.rf, e)) {
        goto out;
    }
    struct store_folder_info opened = {0};
    if (r.rf)
        opened = *j->remote->ops->folder_info(r.rf);
    if (remote_first) {
        /*
         * Every change the SELECT brought since the saved HIGHESTMODSEQ is in
         * the status already: the server only shows our own changes of the
         * last run (its APPENDs, flag changes and expunges, made after the
         * counters it saved).  Nothing to do, and the local folder is not read.
         */
        size_t total = 0;
        bool some = have_pre && !pre.have_all && pre.changed.n + pre.vanished.n <= SOME_ROWS_MAX;
        if (some) {
            struct uidvec want = UIDVEC_INIT;
            for (size_t i = 0; i < pre.changed.n; i++)
                uidvec_push(&want, pre.changed.v[i].uid);
            for (size_t i = 0; i < pre.vanished.n; i++)
                uidvec_push(&want, pre.vanished.v[i]);
            bool got = status_db_load_some(r.db, want.v, want.n, &rows, &total, e);
            uidvec_free(&want);
            if (!got)
                goto out;
        } else if (!status_db_load(r.db, &rows, e)) {
            goto out;
        } else {
            total = rows.n;
        }
        if (have_pre && changes_in_status(&pre, &rows, total, opened.exists)) {
            log_debug(LOGC_SYNC,
                      "folder %s: the server's changes are all in the status, local folder "
                      "unchanged",
                      j->remote_name);
            /* As above: the database is left as it is; the skip list gets the line. */
            fin = saved;
            fin.remote = (struct store_folder_status){opened.uidvalidity, opened.uidnext,
                                                      opened.exists, opened.highestmodseq};
            fin.local_stamp = stamp.data;
            fin.select = sel;
            have_fin = true;
            ok = true;
            skipped = true;
            goto out;
        }
        if (some && j->local->ops->open_folder_uids &&
            opened.uidvalidity == saved.remote.uidvalidity) {
            struct store_uidflags *known = sync_narrow_base(&rows);
            narrow = sync_narrow_server(&pre, known, rows.n, total, opened.exists, &narrow_uids);
            free(known);
        }
        if (narrow) {
            sync_narrow_remote_list(&pre, &rows, &narrow_uids, &rl);
            log_debug(LOGC_SYNC,
                      "folder %s: %zu changes on the server, local folder unchanged: syncing "
                      "those messages only",
                      j->remote_name, narrow_uids.n);
            n_status = total;
            if (!j->local->ops->open_folder_uids(j->local, j->local_name, !j->plan.local_readonly,
                                                 &narrow_uids, &r.lf, e))
                goto out;
        } else {
            if (some && !status_db_load(r.db, &rows, e)) /* every row, for the full sync */
                goto out;
            if (!j->local->ops->open_folder(j->local, j->local_name, !j->plan.local_readonly, &r.lf,
                                            e))
                goto out;
        }
    }
    if (local_diff) {
        /*
         * The server's side of the narrow sync: unchanged (as many messages as
         * rows), or every change named and agreeing with the status.
         */
        bool can = r.rf && opened.uidvalidity == saved.remote.uidvalidity;
        if (server_same) /* still so when the SELECT came (as sync_list_remote checks) */
            can =
                can && opened.exists == nbase && opened.highestmodseq == saved.remote.highestmodseq;
        else
            can = can && have_pre &&
                  sync_narrow_server(&pre, diff_base, nbase, nbase, opened.exists, &also);
        if (can && !r.lf) {
            if (!j->local->ops->open_folder_diff(j->local, j->local_name, !j->plan.local_readonly,
                                                 diff_base, nbase, &also, &r.lf, &missing, &twice,
                                                 e))
                goto out;
            can = !twice;
        }
        if (can) {
            emit_list(j, j->local, j->local_name, false, 0);
            if (!j->local->ops->list_msgs(r.lf, &j->local_list, &ll, e))
                goto out;
            local_listed = true;
            size_t known = 0;  /* files kept whose UID the status has */
            size_t differ = 0; /* files not as the status records them */
            for (size_t i = 0; i < ll.n; i++) {
                const struct store_uidflags *row =
                    ll.v[i].uid ? store_uidflags_find(diff_base, nbase, ll.v[i].uid) : NULL;
                known += row != NULL;
                differ += !row || row->flags != ll.v[i].flags;
                if (ll.v[i].uid)
                    uidvec_push(&narrow_uids, ll.v[i].uid);
            }
            /* The folder's message count, as a full listing says it. */
            emit_list(j, j->local, j->local_name, true, nbase - missing.n - known + ll.n);
            for (size_t i = 0; i < missing.n; i++)
                uidvec_push(&narrow_uids, missing.v[i]);
            for (size_t i = 0; i < also.n; i++)
                uidvec_push(&narrow_uids, also.v[i]);
            uidvec_sort_unique(&narrow_uids);
            log_debug(LOGC_SYNC,
                      "folder %s: the local folder differs from the status in %zu messages "
                      "(%zu gone), %zu changes on the server: syncing those messages only",
                      j->remote_name, differ + missing.n, missing.n, also.n);
            /* The rows of those UIDs; the account's lock keeps the rest as read. */
            size_t total = 0;
            if (!status_db_load_some(r.db, narrow_uids.v, narrow_uids.n, &rows, &total, e))
                goto out;
            if (total != nbase) {
                err_set(e, ERR_FOLDER, ERRK_GENERIC,
                        "The status database %s changed while this run read it (%zu rows, then "
                        "%zu); is another program using it?",
                        j->status_path, nbase, total);
                goto out;
            }
            sync_narrow_remote_list(server_same ? NULL : &pre, &rows, &narrow_uids, &rl);
            n_status = nbase;
            narrow = true;
        }
        if (!can && (!diff_abandon(&r, &rows, &local_diff, e) ||
                     !j->local->ops->open_folder(j->local, j->local_name, !j->plan.local_readonly,
                                                 &r.lf, e)))
            goto out;
    }
    if (!narrow)
        n_status = rows.n;
    /* Opened for writing, but the server said [READ-ONLY]. */
    r.remote_ro = r.rf && !j->plan.remote_readonly && opened.readonly;
    if (r.remote_ro)
        log_debug(LOGC_SYNC,
                  "folder %s: the server opened it read-only; local changes are not sent",
                  j->remote_name);
    /*
     * An empty status: another tool (mbsync) may have synced this folder.  Its
     * messages keep their files and are recorded with the flags of its last
     * sync, so that changes since then merge three-way.
     */
    size_t taken_over = 0;
    if (!j->dry_run && r.lf && r.rf && n_status == 0 && !j->plan.local_readonly &&
        j->local->ops->adopt_foreign) {
        struct store_msg_list base = {0};
        bool aok = j->local->ops->adopt_foreign(r.lf, opened.uidvalidity, &base, e);
        if (aok && base.n) {
            aok = status_db_begin(r.db, e);
            for (size_t i = 0; aok && i < base.n; i++)
                aok = status_db_put(r.db, base.v[i].uid, base.v[i].flags, 0, NULL, e);
            aok = aok && status_db_commit(r.db, e) && status_db_load(r.db, &rows, e);
            n_status = rows.n;
        }
        taken_over = base.n;
        store_msg_list_free(&base);
        if (!aok)
            goto out;
    }

    enum sync_list_how how = SYNC_LIST_FULL;
    if (j->startdate_side && !local_absent && !remote_absent) {
        emit_list(j, j->remote, j->remote_name, false, 0);
        emit_list(j, j->local, j->local_name, false, 0);
        if (!sync_startdate_lists(j, r.rf, r.lf, &rl, &ll, e))
            goto out;
        emit_list(j, j->remote, j->remote_name, true, rl.n);
        emit_list(j, j->local, j->local_name, true, ll.n);
        if (!check_validity(&r, rows.n, ll.n, e))
            goto out;
    } else if (j->maxage_cutoff && !local_absent && !remote_absent) {
        uint32_t min_uid = 0;
        emit_list(j, j->remote, j->remote_name, false, 0);
        if (!sync_window_lists(j->remote, r.rf, j->local, r.lf, j->maxage_cutoff, &j->remote_list,
                               &j->local_list, &rl, &ll, &min_uid, e))
            goto out;
        emit_list(j, j->remote, j->remote_name, true, rl.n);
        emit_list(j, j->local, j->local_name, true, ll.n);
        /* Status rows below the window are left alone, not taken for deletions. */
        size_t keep = 0;
        for (size_t i = 0; i < rows.n; i++) {
            if (rows.v[i].uid >= min_uid)
                rows.v[keep++] = rows.v[i];
            else
                free(rows.v[i].labels);
        }
        rows.n = keep;
        if (!check_validity(&r, rows.n, ll.n, e))
            goto out;
    } else {
        if (!local_listed) {
            emit_list(j, j->local, j->local_name, false, 0);
            if (!local_absent && !j->local->ops->list_msgs(r.lf, &j->local_list, &ll, e))
                goto out;
            emit_list(j, j->local, j->local_name, true, narrow ? n_status : ll.n);
        }
        if (!remote_absent && !check_validity(&r, rows.n, ll.n, e))
            goto out;
        if (j->quick && r.rf && quick_unchanged(&opened, &rows, &ll)) {
            struct log_event qev = {
                .type = EV_SKIPPING_FOLDER, .account = j->account, .folder = j->remote_name};
            log_emit(&qev);
            ok = true;
            skipped = true;
            goto out;
        }
        emit_list(j, j->remote, j->remote_name, false, 0);
        if (narrow) {
            how = SYNC_LIST_CHANGES; /* rl: the narrow sync's, built above */
        } else if (!remote_absent &&
                   !sync_list_remote(j->remote, r.rf, &j->remote_list,
                                     windowed || !sel_same ? NULL : &saved, server_same, &rows,
                                     prefetch ? &pre : NULL, &rl, &how, e))
            goto out;
        emit_list(j, j->remote, j->remote_name, true, narrow ? opened.exists : rl.n);
    }
    store_msg_list_sort(&rl);
    store_msg_list_sort(&ll);
    size_t adopted = 0;
    if (!j->dry_run && r.lf && r.rf && !j->plan.remote_readonly &&
        !sync_recover_uploads(r.db, j->local, r.lf, j->remote, r.rf, &rl, &ll, &rows, j->local_name,
                              &adopted, e))
        goto out;
    if (!j->dry_run && r.lf && r.rf && j->local->ops->journal_downloads &&
        !j->plan.local_readonly) {
        size_t got = 0;
        if (!sync_recover_downloads(r.db, j->local, r.lf, j->remote, r.rf, &rl, &ll, &rows,
                                    j->local_name, &got, e))
            goto out;
        adopted += got;
    }

    r.n_nouid = 0;
    while (r.n_nouid < ll.n && ll.v[ll.n - 1 - r.n_nouid].uid == 0)
        r.n_nouid++;
    r.nouid = r.n_nouid ? ll.v + (ll.n - r.n_nouid) : NULL;
    st = xcalloc(rows.n ? rows.n : 1, sizeof(*st));
    for (size_t i = 0; i < rows.n; i++)
        st[i] = (struct sync_status_entry){rows.v[i].uid, rows.v[i].flags};
    sync_plan_build(&rl, &ll, st, rows.n, &j->plan, &plan);
    emit_pass(j, false);
    if (j->copy_ignore && j->copy_ignore->n) {
        /* copy_ignore_eval: these server messages are never downloaded. */
        size_t keep = 0;
        for (size_t i = 0; i < plan.download.n; i++) {
            if (!uidvec_contains_sorted(j->copy_ignore, plan.download.v[i].uid)) {
                plan.download.v[keep++] = plan.download.v[i];
                continue;
            }
            struct log_event iev = {
                .type = EV_IGNORING_MESSAGE,
                .account = j->account,
                .uid = plan.download.v[i].uid,
                .repo = j->remote->name,
                .repo_type = store_type(j->remote),
                .folder = j->remote_name,
                .dst_repo = j->local->name,
                .dst_type = store_type(j->local),
                .dst_folder = j->local_name,
            };
            log_emit(&iev);
        }
        plan.download.n = keep;
    }
    struct err guard = ERR_INIT;
    guard_side(j, &plan.local_delete.n, false, n_status, &guard);
    if (!r.remote_ro) /* else nothing is deleted there: each run warns instead */
        guard_side(j, &plan.remote_delete.n, true, n_status, &guard);

    if (!j->dry_run && !status_db_begin(r.db, e))
        goto out;
    ok = run_passes(&r, &plan, e);
    /* Changes left pending in a read-only folder: not a state to call unchanged. */
    bool clean = ok && !err_isset(&guard) && stats->msg_errors == 0 && r.ro_skipped == 0;
    if (ok && err_isset(&guard)) {
        err_move(e, &guard);
        ok = false;
    }
    err_clear(&guard);
    if (!j->dry_run && r.db) {
        /*
         * Remember this folder only after a clean sync: the server's counters
         * as it was opened (before our own changes, which the next sync then
         * sees as changes), and the local stamp if nothing local changed.
         */
        struct err se = ERR_INIT;
        bool local_changed = adopted || taken_over || stats->downloaded || stats->deleted_local ||
                             stats->flags_local || stats->uploaded;
        if (clean && !windowed && opened.highestmodseq) {
            struct sync_state now = {.have_remote = true};
            now.remote.uidvalidity = opened.uidvalidity;
            now.remote.uidnext = opened.uidnext;
            now.remote.messages = opened.exists;
            now.remote.highestmodseq = opened.highestmodseq;
            now.local_stamp = !local_changed && !stamp_racy && stamp.len ? stamp.data : NULL;
            /* Changed by us: the stamp may still come from the store's watch. */
            want_watch = local_changed;
            now.select = sel;
            if (!sync_state_save(r.db, &now, &saved, &se)) {
                log_warn("%s", se.msg);
            } else {
                fin = now;
                have_fin = true;
            }
        } else if (!sync_state_clear(r.db, &saved, &se)) {
            log_warn("%s", se.msg);
        }
        err_clear(&se);
        (void)how;
    }
out:
    if (!ok && err_isset(&r.err) && !err_isset(e))
        err_move(e, &r.err);
    if (r.db && !j->dry_run && !skipped && status_db_in_transaction(r.db)) {
        /*
         * Even after a failure, commit: the open transaction holds only rows
         * whose actions are durable once run_sync_meta() has returned.
         */
        struct err ce = ERR_INIT;
        bool committed = run_sync_meta(&r, &ce);
        if (committed)
            crashpoint("status-commit");
        committed = committed && status_db_commit(r.db, &ce);
        if (committed)
            crashpoint("status-committed");
        if (!committed && ok) {
            err_move(e, &ce);
            ok = false;
        }
        err_clear(&ce);
    }
    struct store_watch *watch = NULL;
    if (ok && want_watch && r.lf && j->local->ops->take_watch)
        watch = j->local->ops->take_watch(r.lf);
    if (r.rf)
        j->remote->ops->close_folder(&r.rf);
    if (r.lf)
        j->local->ops->close_folder(&r.lf);
    status_db_close(&r.db);
    if (ok)
        crashpoint("folder-synced");
    if (ok && have_fin && !j->dry_run) {
        struct skip_entry en;
        if (fin.local_stamp && sync_skip_entry_make(j, &fin, &en)) {
            stats->skip = xmalloc(sizeof(*stats->skip));
            *stats->skip = en;
        } else if (watch && !fin.local_stamp && sync_skip_entry_pending(j, &fin, &en)) {
            stats->skip_pending = xmalloc(sizeof(*stats->skip_pending));
            *stats->skip_pending = en;
            stats->watch = watch;
            watch = NULL;
        }
    }
    if (watch) {
        bool racy;
        j->local->ops->finish_watch(j->local, watch, NULL, &racy);
    }
    status_rows_free(&rows);
    sync_plan_free(&plan);
    free(st);
    free(r.pend);
    store_msg_list_free(&r.deferred_del);
    buf_release(&r.held);
    store_msg_list_free(&rl);
    store_msg_list_free(&ll);
    store_changes_free(&pre);
    uidvec_free(&narrow_uids);
    uidvec_free(&missing);
    uidvec_free(&also);
    free(diff_base);
    free(sel);
    buf_release(&stamp);
    if (have_saved)
        sync_state_release(&saved);
    err_clear(&r.err);
    if (!ok && e->scope < ERR_FOLDER && err_isset(e))
        e->scope = ERR_FOLDER;
    return ok;
}
