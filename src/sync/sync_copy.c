/*
 * sync_copy: the copy pass of a folder's sync: messages streamed from one store
 * to the other through a sink, filterheaders, the durable callbacks that record
 * them, uploads' intents (sync_run.h).
 */
#include "sync/sync_run.h"
#include "base/crashpoint.h"
#include "base/log.h"
#include "store/msghdr.h"
#include "sync/sync_filter.h"
#include "sync/sync_readonly.h"
#include "sync/sync_recover.h"

#include <stdlib.h>
#include <string.h>

/* ---- the copy sink: source store -> destination store ------------------------- */

static bool open_writer(struct run *r, const struct store_msg *meta, uint64_t size, struct err *e)
{
    if (!r->dst_store->ops->save_begin(r->dst, meta, size, &r->w, e)) {
        r->w = NULL;
        r->writer_failed = true;
        if (e->scope >= ERR_FOLDER)
            run_note_err(r, e);
        return false;
    }
    return true;
}

static bool sink_begin(void *ctx, const struct store_msg *meta, uint64_t size, struct err *e)
{
    struct run *r = ctx;
    r->writer_failed = false;
    if (r->upload && r->j->filter_headers && r->j->filter_headers->n) {
        /* The size to announce is known once the header is filtered. */
        r->holding = true;
        r->held_meta = *meta;
        r->held_size = size;
        buf_reset(&r->held);
        return true;
    }
    return open_writer(r, meta, size, e);
}

static bool raw_write(struct run *r, const void *data, size_t len, struct err *e);

/* The held header is complete (or too long to hold): filter it and start the upload. */
static bool release_held(struct run *r, struct err *e)
{
    r->holding = false;
    size_t hlen = msghdr_length(r->held.data, r->held.len);
    bool complete = hlen < r->held.len || (hlen == r->held.len && r->held.len < FILTER_HEADER_MAX);
    struct buf out;
    buf_init(&out, BUF_UNBOUNDED);
    if (complete)
        sync_filter_header(r->held.data, hlen, r->j->filter_headers, &out);
    else
        buf_append(&out, r->held.data, hlen);
    uint64_t size = r->held_size - hlen + out.len;
    bool ok = open_writer(r, &r->held_meta, size, e) && raw_write(r, out.data, out.len, e) &&
              raw_write(r, r->held.data + hlen, r->held.len - hlen, e);
    buf_release(&out);
    buf_reset(&r->held);
    return ok;
}

static bool sink_write(void *ctx, const void *data, size_t len, struct err *e)
{
    struct run *r = ctx;
    if (r->holding) {
        size_t room = FILTER_HEADER_MAX - r->held.len;
        size_t take = len < room ? len : room;
        buf_append(&r->held, data, take);
        size_t hlen = msghdr_length(r->held.data, r->held.len);
        if (hlen == r->held.len && r->held.len < FILTER_HEADER_MAX)
            return true; /* the header goes on */
        if (!release_held(r, e))
            return false;
        data = (const char *)data + take;
        len -= take;
        if (len == 0)
            return true;
    }
    return raw_write(r, data, len, e);
}

static bool raw_write(struct run *r, const void *data, size_t len, struct err *e)
{
    if (!r->w)
        return false;
    if (!r->dst_store->ops->save_write(r->w, data, len, e)) {
        r->dst_store->ops->save_abort(r->w);
        r->w = NULL;
        r->writer_failed = true;
        run_note_err(r, e);
        return false;
    }
    return true;
}

static void sink_abort(void *ctx)
{
    struct run *r = ctx;
    r->holding = false;
    if (r->w)
        r->dst_store->ops->save_abort(r->w);
    r->w = NULL;
}

/* A save that failed: the folder's first error, or one message's. */
static void save_failed(struct run *r, const struct err *e)
{
    if (e->scope >= ERR_FOLDER)
        run_note_err(r, e);
    else
        run_msg_failed(r, e);
}

static void saved_download(void *ctx, uint64_t token, uint32_t new_uid, const struct err *e)
{
    struct run *r = ctx;
    struct pending_save *p = &r->pend[token];
    if (e) {
        save_failed(r, e);
        return;
    }
    crashpoint("download-durable");
    struct err se = ERR_INIT;
    if (!status_db_put(r->db, p->uid, p->flags, 0, NULL, &se) ||
        (r->j->local->ops->journal_downloads && !sync_journal_download_done(r->db, p->uid, &se)))
        run_note_err(r, &se);
    err_clear(&se);
    r->stats->downloaded++;
    if (!(p->flags & FLAG_SEEN))
        r->stats->new_unseen++;
}

static void saved_upload(void *ctx, uint64_t token, uint32_t new_uid, const struct err *e)
{
    struct run *r = ctx;
    struct pending_save *p = &r->pend[token];
    if (e) {
        save_failed(r, e);
        return;
    }
    crashpoint("upload-answered");
    struct store_msg m = {.key = p->key, .flags = p->flags};
    struct err se = ERR_INIT;
    if (new_uid == 0) {
        /*
         * Stored, but the server did not say under which UID.  As offlineimap
         * does, drop the local copy: the message comes back with its UID on
         * the next download, so it is neither lost nor duplicated.
         */
        log_warn("folder %s: the server did not tell the UID of an uploaded message; the "
                 "local copy is removed and will be downloaded again",
                 r->j->local_name);
        if (!r->j->local->ops->delete_msgs(r->lf, &m, 1, &se))
            run_msg_failed(r, &se);
        err_clear(&se);
        r->stats->uploaded++;
        return;
    }
    if (!r->j->local->ops->set_uid(r->lf, &m, new_uid, &se)) {
        run_msg_failed(r, &se);
        err_clear(&se);
        return;
    }
    crashpoint("upload-renamed");
    m.uid = new_uid;
    if (!status_db_put(r->db, new_uid, p->flags, 0, NULL, &se) ||
        !sync_journal_done(r->db, r->j->local, r->lf, &m, &se))
        run_note_err(r, &se);
    err_clear(&se);
    r->stats->uploaded++;
}

static bool sink_end(void *ctx, const struct store_msg *meta, struct err *e)
{
    struct run *r = ctx;
    if (r->holding && !release_held(r, e))
        return false;
    if (!r->w)
        return false;
    struct store_writer *w = r->w;
    r->w = NULL;
    size_t token;
    if (r->upload) {
        run_emit_copy(r, run_local_uid(r, meta->key), r->j->local_name, r->j->remote_name);
        token = run_pend_push(r, 0, meta->key, meta->flags);
    } else {
        run_emit_copy(r, meta->uid, r->j->remote_name, r->j->local_name);
        token = run_pend_push(r, meta->uid, 0, meta->flags);
    }
    store_saved_fn *saved = r->upload ? saved_upload : saved_download;
    if (!r->dst_store->ops->save_commit(w, meta, saved, r, token, e)) {
        if (e->scope >= ERR_FOLDER)
            run_note_err(r, e);
        return false;
    }
    /*
     * Inside the source's stream (a download's UID FETCH is still being
     * read): only the store written to may be flushed; waiting on the source
     * here would read its connection from within its own reader.
     */
    if (++r->since_commit >= (r->upload ? COMMIT_EVERY : DOWNLOAD_COMMIT_EVERY)) {
        struct err ce = ERR_INIT;
        if (!run_checkpoint_ex(r, true, true, &ce))
            run_note_err(r, &ce);
        err_clear(&ce);
    }
    return true;
}

static void sink_msg_error(void *ctx, const struct store_msg *meta, const struct err *e)
{
    run_msg_failed(ctx, e);
}

bool run_copy_messages(struct run *r, bool upload, const struct store_msg *msgs, size_t n,
                       struct err *e)
{
    if (n == 0)
        return true;
    const struct sync_folder_job *j = r->j;
    r->upload = upload;
    r->num = 0;
    r->total = n;
    struct store *src = upload ? j->local : j->remote;
    struct store_folder *sf = upload ? r->lf : r->rf;
    r->dst_store = upload ? j->remote : j->local;
    r->dst = upload ? r->rf : r->lf;
    if (j->dry_run) {
        for (size_t i = 0; i < n; i++)
            run_emit_copy(r, upload ? run_local_uid(r, msgs[i].key) : msgs[i].uid,
                          upload ? j->local_name : j->remote_name,
                          upload ? j->remote_name : j->local_name);
        return true;
    }
    if (upload && r->remote_ro) {
        /* As offlineimap3: announced, then refused; the message stays local only. */
        for (size_t i = 0; i < n; i++) {
            int64_t uid = msgs[i].uid ? (int64_t)msgs[i].uid : run_local_uid(r, msgs[i].key);
            run_emit_copy(r, uid, j->local_name, j->remote_name);
            if (!j->ignore_readonly)
                sync_readonly_upload(store_type(j->remote), j->remote_name, uid);
        }
        r->ro_skipped += n;
        return true;
    }
    if (upload) {
        /* The intents must be on disk before any APPEND can reach the server. */
        const struct store_folder_info *ri = j->remote->ops->folder_info(r->rf);
        if (!sync_journal_uploads(r->db, j->local, r->lf, msgs, n, ri->uidnext, e) ||
            !run_checkpoint(r, e))
            return false;
    } else if (j->local->ops->journal_downloads) {
        /* The copies are durable before the local store records their UIDs. */
        if (!sync_journal_downloads(r->db, msgs, n, e) || !run_checkpoint(r, e))
            return false;
    }
    struct store_sink sink = {sink_begin, sink_write, sink_end, sink_abort, sink_msg_error, r};
    bool ok = src->ops->fetch(sf, msgs, n, &sink, e);
    /* Uploads pipelined with the pass's deletions and flags: answered at its flush. */
    if (ok && !(upload && r->defer_remote))
        ok = run_flush_point(r, e);
    if (ok && err_isset(&r->err)) {
        err_move(e, &r->err);
        ok = false;
    }
    return ok;
}
