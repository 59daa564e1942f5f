/* sync_apply: deletions and flag changes applied to one side, grouped by flag set (sync_run.h). */
#include "sync/sync_run.h"
#include "base/crashpoint.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "sync/sync_readonly.h"

#include <stdlib.h>
#include <string.h>

/* ---- deletions and flags ---------------------------------------------------------- */

static void uid_text(const struct store_msg *msgs, size_t n, struct buf *out)
{
    struct uidvec uv = UIDVEC_INIT;
    for (size_t i = 0; i < n; i++)
        uidvec_push(&uv, msgs[i].uid);
    uidvec_sort_unique(&uv);
    uidset_format(out, uv.v, uv.n, 100000);
    uidvec_free(&uv);
}

bool run_delete_messages(struct run *r, bool on_remote, const struct store_msg *msgs, size_t n,
                         struct err *e)
{
    if (n == 0)
        return true;
    const struct sync_folder_job *j = r->j;
    struct store *dst = on_remote ? j->remote : j->local;
    struct buf uids;
    buf_init(&uids, BUF_UNBOUNDED);
    uid_text(msgs, n, &uids);
    struct log_event ev = {
        .type = EV_DELETING_MESSAGES,
        .account = j->account,
        .count = (int64_t)n,
        .uids = uids.data,
        .dst_repo = dst->name,
        .dst_type = store_type(dst),
        .dst_folder = on_remote ? j->remote_name : j->local_name,
    };
    log_emit(&ev);
    buf_release(&uids);
    if (j->dry_run)
        return true;
    if (on_remote && r->remote_ro) {
        /* Their status rows stay: the deletion is tried again next time. */
        if (!j->ignore_readonly) {
            struct uidvec uv = UIDVEC_INIT;
            for (size_t i = 0; i < n; i++)
                uidvec_push(&uv, msgs[i].uid);
            uidvec_sort_unique(&uv);
            sync_readonly_delete(store_type(dst), j->remote_name, uv.v, uv.n);
            uidvec_free(&uv);
        }
        r->ro_skipped += n;
        return true;
    }
    if (on_remote && r->defer_remote && dst->ops->delete_msgs_queued) {
        /* Sent now; recorded by run_record_deferred once the pass is answered. */
        if (!dst->ops->delete_msgs_queued(r->rf, msgs, n, e))
            return false;
        for (size_t i = 0; i < n; i++)
            store_msg_list_push(&r->deferred_del, &msgs[i]);
        return true;
    }
    if (!dst->ops->delete_msgs(on_remote ? r->rf : r->lf, msgs, n, e)) {
        if (e->scope != ERR_MSG)
            return false;
        /*
         * Some could not be deleted.  Keep their status rows: the next run
         * sees the same situation and tries again (deleting is idempotent).
         */
        run_msg_failed(r, e);
        err_clear(e);
        return true;
    }
    crashpoint(on_remote ? "remote-deleted" : "local-deleted");
    for (size_t i = 0; i < n; i++)
        if (!status_db_delete(r->db, msgs[i].uid, e))
            return false;
    if (on_remote)
        r->stats->deleted_remote += n;
    else
        r->stats->deleted_local += n;
    r->since_commit += n;
    return run_flush_point(r, e);
}

bool run_record_deferred(struct run *r, bool flush, struct err *e)
{
    size_t n = r->deferred_del.n;
    if (n == 0)
        return true;
    if (flush && !r->j->remote->ops->flush(r->rf, e))
        return false;
    crashpoint("remote-deleted");
    for (size_t i = 0; i < n; i++)
        if (!status_db_delete(r->db, r->deferred_del.v[i].uid, e))
            return false;
    store_msg_list_free(&r->deferred_del);
    r->stats->deleted_remote += n;
    r->since_commit += n;
    return true;
}

static void emit_flags(struct run *r, bool on_remote, const struct sync_flag_change *c, size_t n,
                       bool add, char letter)
{
    const struct sync_folder_job *j = r->j;
    struct store *dst = on_remote ? j->remote : j->local;
    flagset_t bit = flag_bit(letter);
    struct store_msg_list sel = {0};
    for (size_t i = 0; i < n; i++)
        if ((add ? c[i].add : c[i].del) & bit)
            store_msg_list_push(&sel, &c[i].msg);
    if (sel.n == 0)
        return;
    struct buf uids;
    buf_init(&uids, BUF_UNBOUNDED);
    uid_text(sel.v, sel.n, &uids);
    char flag[2] = {letter, '\0'};
    struct log_event ev = {
        .type = add ? EV_ADDING_FLAGS : EV_DELETING_FLAGS,
        .account = j->account,
        .flags = flag,
        .count = (int64_t)sel.n,
        .uids = uids.data,
        .dst_repo = dst->name,
        .dst_type = store_type(dst),
        .dst_folder = on_remote ? j->remote_name : j->local_name,
    };
    log_emit(&ev);
    buf_release(&uids);
    if (on_remote && r->remote_ro && !j->dry_run && !j->ignore_readonly) {
        struct uidvec uv = UIDVEC_INIT;
        for (size_t i = 0; i < sel.n; i++)
            uidvec_push(&uv, sel.v[i].uid);
        uidvec_sort_unique(&uv);
        sync_readonly_flags(store_type(dst), j->remote_name, uv.v, uv.n);
        uidvec_free(&uv);
    }
    store_msg_list_free(&sel);
}

static int cmp_flagset(const void *a, const void *b)
{
    flagset_t x = *(const flagset_t *)a, y = *(const flagset_t *)b;
    return x < y ? -1 : x > y;
}

/* Apply a list of changes: one store call per distinct set of flags to add or remove. */
bool run_apply_flags(struct run *r, bool on_remote, const struct sync_flag_change *c, size_t n,
                     struct err *e)
{
    if (n == 0)
        return true;
    const struct sync_folder_job *j = r->j;
    struct store *dst = on_remote ? j->remote : j->local;
    struct store_folder *df = on_remote ? r->rf : r->lf;
    /* UI events per flag letter, in offlineimap's style. */
    for (char l = 'A'; l <= 'z'; l = l == 'Z' ? 'a' : (char)(l + 1)) {
        emit_flags(r, on_remote, c, n, true, l);
        emit_flags(r, on_remote, c, n, false, l);
    }
    if (j->dry_run)
        return true;
    if (on_remote && r->remote_ro) {
        /* Warned per flag above; the status keeps the old flags, to be redone next time. */
        r->ro_skipped += n;
        return true;
    }
    /* Messages whose change failed keep their old status row, to be redone next time. */
    bool *failed = xcalloc(n, sizeof(*failed));
    bool all_ok = true;
    for (int pass = 0; pass < 2 && all_ok; pass++) {
        bool add = pass == 0;
        flagset_t *sets = xcalloc(n, sizeof(*sets));
        size_t ns = 0;
        for (size_t i = 0; i < n; i++) {
            flagset_t f = add ? c[i].add : c[i].del;
            if (f)
                sets[ns++] = f;
        }
        qsort(sets, ns, sizeof(*sets), cmp_flagset);
        bool ok = true;
        for (size_t i = 0; i < ns && ok; i++) {
            if (i > 0 && sets[i] == sets[i - 1])
                continue;
            struct store_msg_list sel = {0};
            for (size_t k = 0; k < n; k++)
                if ((add ? c[k].add : c[k].del) == sets[i])
                    store_msg_list_push(&sel, &c[k].msg);
            ok = dst->ops->set_flags(df, sel.v, sel.n, sets[i], add, e);
            store_msg_list_free(&sel);
            if (!ok && e->scope == ERR_MSG) {
                run_msg_failed(r, e);
                err_clear(e);
                for (size_t k = 0; k < n; k++)
                    if ((add ? c[k].add : c[k].del) == sets[i])
                        failed[k] = true;
                ok = true;
            }
        }
        free(sets);
        all_ok = ok;
    }
    if (!all_ok || !dst->ops->flush(df, e) || (on_remote && !run_record_deferred(r, false, e))) {
        free(failed);
        return false;
    }
    crashpoint(on_remote ? "remote-flags-set" : "local-flags-set");
    for (size_t i = 0; i < n; i++) {
        if (failed[i])
            continue;
        if (!status_db_put(r->db, c[i].msg.uid, c[i].new_status, 0, NULL, e)) {
            free(failed);
            return false;
        }
    }
    free(failed);
    if (on_remote)
        r->stats->flags_remote += n;
    else
        r->stats->flags_local += n;
    r->since_commit += n;
    return run_flush_point(r, e);
}
