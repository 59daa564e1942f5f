#include "sync/sync_list.h"

#include "base/log.h"

#include <stdlib.h>
#include <string.h>

static void from_status(const struct status_rows *rows, const struct uidvec *vanished,
                        const struct uidvec *all, struct store_msg_list *out)
{
    for (size_t i = 0; i < rows->n; i++) {
        uint32_t uid = rows->v[i].uid;
        if (vanished && uidvec_contains_sorted(vanished, uid))
            continue;
        if (all && !uidvec_contains_sorted(all, uid))
            continue;
        struct store_msg m = {.uid = uid, .flags = rows->v[i].flags};
        store_msg_list_push(out, &m);
    }
}

/* out (sorted, from the status) with the changed messages put in or replacing theirs. */
static void merge_changes(struct store_msg_list *out, const struct store_msg_list *changed)
{
    struct store_msg_list merged = {0};
    size_t i = 0, k = 0;
    while (i < out->n || k < changed->n) {
        if (k >= changed->n || (i < out->n && out->v[i].uid < changed->v[k].uid)) {
            store_msg_list_push(&merged, &out->v[i++]);
        } else {
            if (i < out->n && out->v[i].uid == changed->v[k].uid)
                i++;
            store_msg_list_push(&merged, &changed->v[k++]);
        }
    }
    store_msg_list_free(out);
    *out = merged;
}

bool sync_list_remote(struct store *remote, struct store_folder *rf,
                      const struct store_list_opts *opts, const struct sync_state *saved,
                      bool unchanged, const struct status_rows *rows, struct store_changes *pre,
                      struct store_msg_list *out, enum sync_list_how *how_r, struct err *e)
{
    const struct store_folder_info *info = remote->ops->folder_info(rf);
    *how_r = SYNC_LIST_FULL;
    bool can_rebuild = saved && saved->have_remote && saved->remote.highestmodseq != 0 &&
                       saved->remote.uidvalidity == info->uidvalidity && info->highestmodseq != 0;
    if (can_rebuild && unchanged && info->highestmodseq == saved->remote.highestmodseq) {
        from_status(rows, NULL, NULL, out);
        if (out->n == info->exists) {
            *how_r = SYNC_LIST_FROM_STATUS;
            if (pre)
                store_changes_free(pre);
            return true;
        }
        log_debug(LOGC_SYNC, "status has %zu messages, server %u: listing in full", out->n,
                  info->exists);
        store_msg_list_free(out);
    } else if (can_rebuild && (pre || remote->ops->list_changes)) {
        struct store_changes ch;
        struct err ce = ERR_INIT;
        bool listed;
        if (pre) {
            ch = *pre; /* listed with the SELECT, since the saved HIGHESTMODSEQ */
            memset(pre, 0, sizeof(*pre));
            listed = true;
        } else {
            listed = remote->ops->list_changes(rf, opts, saved->remote.highestmodseq, &ch, &ce);
        }
        if (listed && (ch.have_vanished || ch.have_all)) {
            from_status(rows, ch.have_vanished ? &ch.vanished : NULL, ch.have_all ? &ch.all : NULL,
                        out);
            merge_changes(out, &ch.changed);
            store_changes_free(&ch);
            if (out->n == info->exists) {
                *how_r = SYNC_LIST_CHANGES;
                return true;
            }
            log_debug(LOGC_SYNC, "changes give %zu messages, server %u: listing in full", out->n,
                      info->exists);
            store_msg_list_free(out);
        } else {
            if (err_isset(&ce))
                log_debug(LOGC_SYNC, "listing changes failed (%s): listing in full", ce.msg);
            if (listed)
                store_changes_free(&ch);
        }
        err_clear(&ce);
    }
    if (pre)
        store_changes_free(pre); /* of no use (another UIDVALIDITY) */
    return remote->ops->list_msgs(rf, opts, out, e);
}
