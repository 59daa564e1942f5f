/*
 * The IMAP store's queries beyond the plain listing: message identity and
 * facts (size, date, Message-ID) for the recovery of interrupted uploads, and
 * the changes since a modification sequence (CONDSTORE/QRESYNC, RFC 7162) that
 * make a sync of a big, barely changed folder cost what changed.
 */
#include "store/store_imap_internal.h"

#include "base/log.h"
#include "base/xalloc.h"
#include "store/msghdr.h"

#include <stdlib.h>
#include <string.h>

/* Most UIDs accepted in one VANISHED or SEARCH answer. */
#define CHANGES_MAX_UIDS (64u * 1024 * 1024)

void store_imap_info_fetch(struct store_folder *f, const struct imap_fetch *ft)
{
    if (!(ft->present & IMAP_FETCH_UID))
        return;
    ssize_t idx = store_imap_wanted_index(f, ft->uid);
    if (idx < 0)
        return;
    struct store_msg_info *info = &f->info_out[idx];
    if (!(ft->present & IMAP_FETCH_SIZE))
        return;
    info->ok = true;
    info->wire_size = ft->size;
    if (ft->present & IMAP_FETCH_INTERNALDATE)
        info->date = ft->internaldate;
    for (size_t i = 0; i < ft->body_count; i++) {
        const struct imap_fetch_body *b = &ft->bodies[i];
        if (b->streamed || b->nil || !b->data || b->section_len == 0)
            continue;
        struct buf id;
        buf_init(&id, 1000);
        if (msghdr_message_id(b->data, b->size, &id) && id.len) {
            free(info->message_id);
            info->message_id = xstrdup(id.data);
        }
        buf_release(&id);
    }
}

bool store_imap_msg_ident(struct store_folder *f, const struct store_msg *msg, struct buf *out,
                          struct err *e)
{
    buf_reset(out);
    buf_printf(out, "%u", msg->uid);
    return true;
}

bool store_imap_msg_info(struct store_folder *f, const struct store_msg *msgs, size_t n,
                         struct store_msg_info *out, struct err *e)
{
    for (size_t i = 0; i < n; i++)
        memset(&out[i], 0, sizeof(out[i]));
    if (n == 0)
        return true;
    struct uidvec wanted = UIDVEC_INIT;
    for (size_t i = 0; i < n; i++)
        uidvec_push(&wanted, msgs[i].uid);
    uidvec_sort_unique(&wanted);
    struct store_msg_info *sorted = xcalloc(wanted.n, sizeof(*sorted));
    f->wanted = &wanted;
    f->info_out = sorted;
    f->mode = FETCH_MODE_INFO;
    struct buf set;
    buf_init(&set, IMAP_SET_MAX + 64);
    bool ok = true;
    for (size_t i = 0; i < wanted.n && ok;) {
        buf_reset(&set);
        i += uidset_format(&set, wanted.v + i, wanted.n - i, IMAP_SET_MAX);
        ok = imap_send(f->slot->session, 0, NULL, NULL, e,
                       "UID FETCH %s (UID RFC822.SIZE INTERNALDATE "
                       "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])",
                       set.data);
    }
    if (ok)
        ok = imap_wait_all(f->slot->session, e);
    f->mode = FETCH_MODE_NONE;
    f->wanted = NULL;
    f->info_out = NULL;
    buf_release(&set);
    if (ok) {
        /* Hand the results back in the caller's order. */
        for (size_t i = 0; i < n; i++) {
            size_t lo = 0, hi = wanted.n;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (wanted.v[mid] < msgs[i].uid)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo < wanted.n && wanted.v[lo] == msgs[i].uid) {
                out[i] = sorted[lo];
                if (sorted[lo].message_id)
                    out[i].message_id = xstrdup(sorted[lo].message_id);
            }
        }
    } else {
        err_prefix(e, "folder %s: ", f->name);
    }
    store_msg_info_release(sorted, wanted.n);
    free(sorted);
    uidvec_free(&wanted);
    return ok;
}

void store_imap_changes_untagged(struct store_folder *f, const struct imap_resp *r)
{
    struct store_changes *c = f->changes;
    struct err e = ERR_INIT;
    bool ok = true;
    switch (imap_resp_data(r)) {
    case IMAP_DATA_VANISHED: {
        bool earlier = false;
        ok = imap_decode_vanished(r, CHANGES_MAX_UIDS, &earlier, &c->vanished, &e);
        c->have_vanished = true;
        break;
    }
    case IMAP_DATA_ESEARCH: {
        struct imap_esearch es;
        ok = imap_decode_esearch(r, CHANGES_MAX_UIDS, &es, &c->all, &e);
        c->have_all = ok;
        break;
    }
    case IMAP_DATA_SEARCH: {
        uint64_t modseq;
        ok = imap_decode_search(r, CHANGES_MAX_UIDS, &c->all, &modseq, &e);
        c->have_all = ok;
        break;
    }
    default:
        break;
    }
    if (!ok) {
        if (!err_isset(&f->body_err))
            err_set(&f->body_err, ERR_FOLDER, ERRK_PROTOCOL, "%s", e.msg);
        c->have_all = false;
    }
    err_clear(&e);
}

void store_imap_changes_begin(struct store_folder *f, const struct store_list_opts *opts,
                              uint64_t since_modseq, struct store_changes *out,
                              struct store_imap_changes_wait *w)
{
    memset(out, 0, sizeof(*out));
    memset(w, 0, sizeof(*w));
    struct imap_session *s = f->slot->session;
    w->qresync = imap_session_has_cap(s, IMAP_CAP_QRESYNC);
    w->esearch = imap_session_has_cap(s, IMAP_CAP_ESEARCH);
    f->mode = FETCH_MODE_CHANGES;
    f->list_out = &out->changed;
    f->list_opts = opts;
    f->list_bad = 0;
    f->changes = out;
    bool want_size = opts && (opts->want_size || opts->max_size);
    bool want_date = opts && (opts->want_date || opts->min_date);
    struct err e = ERR_INIT;
    /* A failure to queue shows in the answers (status NONE): the caller waits anyway. */
    if (w->qresync) {
        imap_send(s, 0, imap_result_done, &w->fetch, &e,
                  "UID FETCH 1:* (UID FLAGS%s%s) (CHANGEDSINCE %llu VANISHED)",
                  want_size ? " RFC822.SIZE" : "", want_date ? " INTERNALDATE" : "",
                  (unsigned long long)since_modseq);
    } else {
        w->searched = true;
        imap_send(s, 0, imap_result_done, &w->fetch, &e,
                  "UID FETCH 1:* (UID FLAGS%s%s) (CHANGEDSINCE %llu)",
                  want_size ? " RFC822.SIZE" : "", want_date ? " INTERNALDATE" : "",
                  (unsigned long long)since_modseq);
        imap_send(s, 0, imap_result_done, &w->search, &e, "UID SEARCH %sALL",
                  w->esearch ? "RETURN (ALL) " : "");
    }
    err_clear(&e);
}

bool store_imap_changes_end(struct store_folder *f, struct store_changes *out,
                            struct store_imap_changes_wait *w, struct err *e)
{
    f->mode = FETCH_MODE_NONE;
    f->list_out = NULL;
    f->list_opts = NULL;
    f->changes = NULL;
    bool ok = true;
    if (f->info.exists == 0) {
        /* Nothing left: everything known vanished (and 1:* may have been refused). */
        store_changes_free(out);
        memset(out, 0, sizeof(*out));
        out->have_all = true;
    } else {
        const struct imap_session *s = f->slot->session;
        ok = imap_result_ok(s, &w->fetch, "UID FETCH", e) &&
             (!w->searched || imap_result_ok(s, &w->search, "UID SEARCH", e));
        if (ok && err_isset(&f->body_err)) {
            err_move(e, &f->body_err);
            ok = false;
        }
        if (ok && w->qresync) {
            /* No VANISHED answer means nothing vanished. */
            out->have_vanished = true;
        } else if (ok && !out->have_all) {
            /* An empty ESEARCH answer has no ALL: no messages. */
            out->have_all = w->esearch;
        }
    }
    err_clear(&f->body_err);
    imap_result_release(&w->fetch);
    imap_result_release(&w->search);
    if (!ok) {
        err_prefix(e, "folder %s: cannot list changes: ", f->name);
        store_changes_free(out);
        return false;
    }
    store_msg_list_sort(&out->changed);
    uidvec_sort_unique(&out->vanished);
    uidvec_sort_unique(&out->all);
    return true;
}

bool store_imap_list_changes(struct store_folder *f, const struct store_list_opts *opts,
                             uint64_t since_modseq, struct store_changes *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (f->info.highestmodseq == 0 || since_modseq == 0) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "folder %s: no modification sequences", f->name);
        return false;
    }
    struct store_imap_changes_wait w;
    if (f->info.exists == 0) {
        memset(&w, 0, sizeof(w));
        return store_imap_changes_end(f, out, &w, e);
    }
    store_imap_changes_begin(f, opts, since_modseq, out, &w);
    if (!imap_wait_all(f->slot->session, e)) {
        f->mode = FETCH_MODE_NONE;
        f->list_out = NULL;
        f->list_opts = NULL;
        f->changes = NULL;
        imap_result_release(&w.fetch);
        imap_result_release(&w.search);
        store_changes_free(out);
        err_prefix(e, "folder %s: cannot list changes: ", f->name);
        return false;
    }
    return store_imap_changes_end(f, out, &w, e);
}
