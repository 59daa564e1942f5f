#include "sync/sync_recover.h"

#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

static char *journal_key(const char *ident)
{
    return xasprintf("%s%s", SYNC_UPLOAD_KEY, ident);
}

bool sync_journal_uploads(struct status_db *db, struct store *local, struct store_folder *lf,
                          const struct store_msg *msgs, size_t n, uint32_t uidnext, struct err *e)
{
    struct buf ident;
    buf_init(&ident, 4096);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        struct err ie = ERR_INIT;
        if (!local->ops->msg_ident(lf, &msgs[i], &ident, &ie)) {
            /* A message we cannot name is not journaled; its upload will say why. */
            err_clear(&ie);
            continue;
        }
        char *key = journal_key(ident.data);
        ok = status_db_state_set_u64(db, key, uidnext ? uidnext : 1, e);
        free(key);
    }
    buf_release(&ident);
    return ok;
}

bool sync_journal_done(struct status_db *db, struct store *local, struct store_folder *lf,
                       const struct store_msg *msg, struct err *e)
{
    struct buf ident;
    buf_init(&ident, 4096);
    struct err ie = ERR_INIT;
    bool ok = true;
    if (local->ops->msg_ident(lf, msg, &ident, &ie)) {
        char *key = journal_key(ident.data);
        ok = status_db_state_del(db, key, e);
        free(key);
    }
    err_clear(&ie);
    buf_release(&ident);
    return ok;
}

static bool same_message(const struct store_msg_info *l, const struct store_msg_info *r)
{
    if (!l->ok || !r->ok)
        return false;
    if (r->wire_size != l->wire_size && r->wire_size != l->wire_size + STORE_UPLOAD_MARK_LEN)
        return false;
    if (l->message_id && r->message_id)
        return strcmp(l->message_id, r->message_id) == 0;
    if (l->message_id || r->message_id)
        return false;
    return l->date != 0 && l->date == r->date;
}

static bool in_status(const struct status_rows *rows, uint32_t uid)
{
    return status_rows_find(rows, uid) != NULL;
}

/*
 * Local messages without a UID (lc, found at lc_at[i] in the local list) that
 * match server messages (rc) by match() get the server UID: the messages an
 * interrupted run had already copied.  Each message pairs at most once; for
 * downloads the server messages are taken in turn, for uploads the local ones.
 */
struct adopt {
    struct store *local;
    struct store_folder *lf;
    struct store *remote;
    struct store_folder *rf;
    struct store_msg_list *local_list;
    const char *folder;
    bool downloads;
    bool (*match)(const struct store_msg_info *l, const struct store_msg_info *r);
};

static bool adopt_matches(const struct adopt *a, const struct store_msg_list *lc,
                          const size_t *lc_at, const struct store_msg_list *rc, size_t *adopted_r,
                          struct err *e)
{
    struct store_msg_info *li = xcalloc(lc->n, sizeof(*li));
    struct store_msg_info *ri = xcalloc(rc->n, sizeof(*ri));
    size_t n_outer = a->downloads ? rc->n : lc->n, n_inner = a->downloads ? lc->n : rc->n;
    bool *taken = xcalloc(n_inner, sizeof(*taken));
    bool ok = a->downloads ? a->remote->ops->msg_info(a->rf, rc->v, rc->n, ri, e) &&
                                 a->local->ops->msg_info(a->lf, lc->v, lc->n, li, e)
                           : a->local->ops->msg_info(a->lf, lc->v, lc->n, li, e) &&
                                 a->remote->ops->msg_info(a->rf, rc->v, rc->n, ri, e);
    for (size_t o = 0; ok && o < n_outer; o++) {
        for (size_t in = 0; in < n_inner; in++) {
            size_t i = a->downloads ? in : o, k = a->downloads ? o : in;
            if (taken[in] || !a->match(&li[i], &ri[k]))
                continue;
            struct err ue = ERR_INIT;
            if (!a->local->ops->set_uid(a->lf, &lc->v[i], rc->v[k].uid, &ue)) {
                log_warn("folder %s: could not adopt an earlier %s: %s", a->folder,
                         a->downloads ? "download" : "upload", ue.msg);
                err_clear(&ue);
                break;
            }
            taken[in] = true;
            a->local_list->v[lc_at[i]].uid = rc->v[k].uid;
            (*adopted_r)++;
            if (a->downloads)
                log_info("folder %s: server message UID %u (%s) was already copied by an "
                         "interrupted run; not copying it again",
                         a->folder, rc->v[k].uid,
                         ri[k].message_id ? ri[k].message_id : "no Message-ID");
            else
                log_info("folder %s: local message %s was already uploaded by an interrupted "
                         "run (server UID %u); not uploading it again",
                         a->folder, li[i].message_id ? li[i].message_id : "(no Message-ID)",
                         rc->v[k].uid);
            break;
        }
    }
    store_msg_info_release(li, lc->n);
    store_msg_info_release(ri, rc->n);
    free(li);
    free(ri);
    free(taken);
    return ok;
}

bool sync_recover_uploads(struct status_db *db, struct store *local, struct store_folder *lf,
                          struct store *remote, struct store_folder *rf,
                          const struct store_msg_list *remote_list,
                          struct store_msg_list *local_list, const struct status_rows *rows,
                          const char *folder, size_t *adopted_r, struct err *e)
{
    *adopted_r = 0;
    struct strvec keys = STRVEC_INIT, values = STRVEC_INIT;
    if (!status_db_state_list(db, SYNC_UPLOAD_KEY, &keys, &values, e))
        return false;
    if (keys.n == 0)
        return true;
    bool ok = true;
    size_t plen = strlen(SYNC_UPLOAD_KEY);
    /* Local messages without a UID that have an intent. */
    struct store_msg_list lc = {0};
    size_t *lc_key = xcalloc(local_list->n + 1, sizeof(*lc_key));
    uint32_t min_uidnext = UINT32_MAX;
    struct buf ident;
    buf_init(&ident, 4096);
    for (size_t i = 0; i < local_list->n; i++) {
        const struct store_msg *m = &local_list->v[i];
        struct err ie = ERR_INIT;
        if (m->uid != 0 || !local->ops->msg_ident(lf, m, &ident, &ie)) {
            err_clear(&ie);
            continue;
        }
        for (size_t k = 0; k < keys.n; k++) {
            if (strcmp(keys.v[k] + plen, ident.data) != 0)
                continue;
            uint32_t next = 1;
            str_to_u32(values.v[k], strlen(values.v[k]), &next);
            if (next < min_uidnext)
                min_uidnext = next;
            lc_key[lc.n] = i;
            store_msg_list_push(&lc, m);
            break;
        }
    }
    buf_release(&ident);
    /* Server messages that arrived since and that nobody knows yet. */
    struct store_msg_list rc = {0};
    for (size_t i = 0; i < remote_list->n && lc.n; i++) {
        const struct store_msg *r = &remote_list->v[i];
        if (r->uid >= min_uidnext && !in_status(rows, r->uid) &&
            !store_msg_list_find(local_list, r->uid))
            store_msg_list_push(&rc, r);
    }
    size_t adopted = 0;
    if (lc.n && rc.n) {
        struct adopt a = {local, lf, remote, rf, local_list, folder, false, same_message};
        ok = adopt_matches(&a, &lc, lc_key, &rc, &adopted, e);
    }
    /*
     * Every intent is settled now: adopted, or to be uploaded afresh (and
     * journaled again then), or stale (the file is gone or has its UID).
     * A store that records adoptions apart (a UID map) makes them durable
     * before the intents go.
     */
    if (ok && adopted && local->ops->sync_meta)
        ok = local->ops->sync_meta(lf, e);
    for (size_t k = 0; ok && k < keys.n; k++)
        ok = status_db_state_del(db, keys.v[k], e);
    if (adopted)
        store_msg_list_sort(local_list);
    *adopted_r = adopted;
    free(lc_key);
    store_msg_list_free(&lc);
    store_msg_list_free(&rc);
    strvec_free(&keys);
    strvec_free(&values);
    return ok;
}

/* ---- downloads into a store that records remote UIDs after the save ------------------ */

bool sync_journal_downloads(struct status_db *db, const struct store_msg *msgs, size_t n,
                            struct err *e)
{
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        char *key = xasprintf("%s%u", SYNC_DOWNLOAD_KEY, msgs[i].uid);
        ok = status_db_state_set_u64(db, key, 1, e);
        free(key);
    }
    return ok;
}

bool sync_journal_download_done(struct status_db *db, uint32_t uid, struct err *e)
{
    char *key = xasprintf("%s%u", SYNC_DOWNLOAD_KEY, uid);
    bool ok = status_db_state_del(db, key, e);
    free(key);
    return ok;
}

/*
 * A download's copy: the same message in two IMAP stores has the same size,
 * or the marker header's more when the local server lacks UIDPLUS.
 */
static bool same_download(const struct store_msg_info *l, const struct store_msg_info *r)
{
    if (!l->ok || !r->ok ||
        (l->wire_size != r->wire_size && l->wire_size != r->wire_size + STORE_UPLOAD_MARK_LEN))
        return false;
    if (l->message_id && r->message_id)
        return strcmp(l->message_id, r->message_id) == 0;
    if (l->message_id || r->message_id)
        return false;
    return l->date != 0 && l->date == r->date;
}

bool sync_recover_downloads(struct status_db *db, struct store *local, struct store_folder *lf,
                            struct store *remote, struct store_folder *rf,
                            const struct store_msg_list *remote_list,
                            struct store_msg_list *local_list, const struct status_rows *rows,
                            const char *folder, size_t *adopted_r, struct err *e)
{
    *adopted_r = 0;
    struct strvec keys = STRVEC_INIT, values = STRVEC_INIT;
    if (!status_db_state_list(db, SYNC_DOWNLOAD_KEY, &keys, &values, e))
        return false;
    if (keys.n == 0)
        return true;
    size_t plen = strlen(SYNC_DOWNLOAD_KEY);
    /* Journaled server messages that nobody knows yet. */
    struct store_msg_list rc = {0};
    for (size_t k = 0; k < keys.n; k++) {
        uint32_t uid = 0;
        if (!str_to_u32(keys.v[k] + plen, strlen(keys.v[k] + plen), &uid) || uid == 0)
            continue;
        const struct store_msg *r = store_msg_list_find(remote_list, uid);
        if (r && !in_status(rows, uid) && !store_msg_list_find(local_list, uid))
            store_msg_list_push(&rc, r);
    }
    /* Local messages without a remote UID. */
    struct store_msg_list lc = {0};
    size_t *lc_at = xcalloc(local_list->n + 1, sizeof(*lc_at));
    for (size_t i = 0; rc.n && i < local_list->n; i++) {
        if (local_list->v[i].uid == 0) {
            lc_at[lc.n] = i;
            store_msg_list_push(&lc, &local_list->v[i]);
        }
    }
    bool ok = true;
    size_t adopted = 0;
    if (lc.n && rc.n) {
        struct adopt a = {local, lf, remote, rf, local_list, folder, true, same_download};
        ok = adopt_matches(&a, &lc, lc_at, &rc, &adopted, e);
    }
    if (ok && adopted && local->ops->sync_meta)
        ok = local->ops->sync_meta(lf, e);
    for (size_t k = 0; ok && k < keys.n; k++)
        ok = status_db_state_del(db, keys.v[k], e);
    if (adopted)
        store_msg_list_sort(local_list);
    *adopted_r = adopted;
    free(lc_at);
    store_msg_list_free(&lc);
    store_msg_list_free(&rc);
    strvec_free(&keys);
    strvec_free(&values);
    return ok;
}
