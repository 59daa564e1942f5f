/*
 * store_imap_expunge: deleting messages from an IMAP folder, and making sure
 * the server did.
 *
 * A deletion is \Deleted (UID STORE) then UID EXPUNGE, pipelined behind the
 * folder's other commands.  A tagged OK to UID EXPUNGE does not say that
 * anything was expunged: it only removes what is \Deleted when it runs.
 * Dovecot runs pipelined UID commands side by side when one of them waits (an
 * APPEND into a large Maildir waits half a second for its lock), and then its
 * UID EXPUNGE can run before the STORE's \Deleted is in place: it answers OK
 * and expunges nothing.  Recording that deletion would make the message come
 * back on the next run, flagged \Deleted.
 *
 * So the server's word is checked: each UID asked to be expunged must be
 * reported gone (VANISHED once QRESYNC is enabled, else as many "* n
 * EXPUNGE" as UIDs asked).  Once every command is answered, what was not
 * reported is expunged again (its \Deleted is surely in place by then), and
 * what is still not reported is looked up with UID SEARCH: a UID the server
 * no longer has was gone already; one it still has fails the folder, and its
 * status row stays for the next run to try again.  In the usual case this
 * costs no round trip.
 */
#include "store/store_imap_internal.h"

#include "base/crashpoint.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <string.h>

/* At most this many UIDs are taken from one VANISHED or SEARCH answer. */
#define EXPUNGE_MAX_UIDS ((size_t)1 << 24)

/*
 * Sends \Deleted and the expunge (UID EXPUNGE only removes what is \Deleted);
 * refusals go to refused, which must outlive the answers.
 */
static bool send_delete(struct store_folder *f, const struct store_msg *msgs, size_t n,
                        struct err *refused, struct err *e)
{
    struct imap_session *s = f->slot->session;
    if (!s) {
        err_set(e, ERR_FOLDER, ERRK_NETWORK, "folder %s: the connection was dropped", f->name);
        return false;
    }
    struct uidvec uids = UIDVEC_INIT;
    store_imap_msg_uids(msgs, n, &uids);
    bool ok = store_imap_send_flags(f, &uids, "(\\Deleted)", true, refused, e);
    crashpoint("imap-deleted-flagged");
    if (ok && f->st->o.expunge) {
        if (!imap_session_has_cap(s, IMAP_CAP_UIDPLUS)) {
            /* Without UID EXPUNGE this also removes what other clients marked \Deleted,
             * as offlineimap does. */
            ok = imap_send(s, 0, store_imap_store_done, refused, e, "EXPUNGE");
        } else {
            ok = store_imap_send_sets(f, "UID EXPUNGE", &uids, "", store_imap_store_done, refused,
                                      e);
            for (size_t i = 0; i < uids.n && ok; i++)
                uidvec_push(&f->expunge_asked, uids.v[i]);
        }
        if (!ok)
            err_prefix(e, "folder %s: ", f->name);
    }
    uidvec_free(&uids);
    return ok;
}

/*
 * Pipelined behind the folder's other commands (APPENDs, flag changes):
 * store_imap_flush() waits for the answers, reports a refusal and confirms
 * the expunges.
 */
bool store_imap_delete_msgs_queued(struct store_folder *f, const struct store_msg *msgs, size_t n,
                                   struct err *e)
{
    if (n == 0)
        return true;
    return send_delete(f, msgs, n, &f->delete_err, e);
}

/* \Deleted and the expunge in one round trip, waited for and confirmed here. */
bool store_imap_delete_msgs(struct store_folder *f, const struct store_msg *msgs, size_t n,
                            struct err *e)
{
    if (n == 0)
        return true;
    struct imap_session *s = f->slot->session;
    struct err refused = ERR_INIT;
    bool ok = send_delete(f, msgs, n, &refused, e);
    /* Every command sent must be answered before refused goes out of scope. */
    struct err we = ERR_INIT;
    bool waited = s && imap_wait_all(s, &we);
    if (ok && !waited) {
        err_move(e, &we);
        err_prefix(e, "folder %s: ", f->name);
        ok = false;
    }
    err_clear(&we);
    if (ok && err_isset(&refused)) {
        err_move(e, &refused);
        err_prefix(e, "folder %s: ", f->name);
        ok = false;
    }
    err_clear(&refused);
    if (ok)
        ok = store_imap_expunge_confirm(f, e);
    store_imap_expunge_forget(f);
    return ok;
}

bool store_imap_expunge_untagged(struct store_folder *f, const struct imap_resp *r)
{
    if (!f->expunge_asked.n)
        return false;
    struct err e = ERR_INIT;
    if (imap_resp_data(r) == IMAP_DATA_VANISHED) {
        bool earlier = false;
        if (!imap_decode_vanished(r, EXPUNGE_MAX_UIDS, &earlier, &f->expunge_seen, &e))
            log_warn("server %s: ignoring a VANISHED answer in folder %s: %s",
                     imap_session_desc(f->slot->session), f->name, e.msg);
    } else {
        f->expunge_count++;
    }
    err_clear(&e);
    return true;
}

void store_imap_search_into(struct store_folder *f, const struct imap_resp *r)
{
    uint64_t modseq;
    struct err e = ERR_INIT;
    if (!imap_decode_search(r, EXPUNGE_MAX_UIDS, f->search_out, &modseq, &e))
        log_warn("server %s: ignoring a SEARCH answer in folder %s: %s",
                 imap_session_desc(f->slot->session), f->name, e.msg);
    err_clear(&e);
}

static void search_done(void *ctx, const struct imap_resp *r, const struct err *e)
{
    struct err *first = ctx;
    if (r && r->status != IMAP_STATUS_OK && !err_isset(first))
        err_set(first, ERR_FOLDER, ERRK_PROTOCOL,
                "server refused to look up the messages it was asked to expunge: %s %s",
                imap_status_name(r->status), r->text ? r->text : "");
}

/* The UIDs asked and not reported expunged (sorted), into out. */
static void unconfirmed(struct store_folder *f, bool qresync, struct uidvec *out)
{
    if (!qresync) {
        /* "* n EXPUNGE" gives no UID: only as many answers as UIDs asked confirm them all. */
        if (f->expunge_count < f->expunge_asked.n)
            for (size_t i = 0; i < f->expunge_asked.n; i++)
                uidvec_push(out, f->expunge_asked.v[i]);
        return;
    }
    uidvec_sort_unique(&f->expunge_seen);
    for (size_t i = 0; i < f->expunge_asked.n; i++)
        if (!uidvec_contains_sorted(&f->expunge_seen, f->expunge_asked.v[i]))
            uidvec_push(out, f->expunge_asked.v[i]);
}

/* Send what is queued and wait for every answer; a refusal in refused fails too. */
static bool wait_answers(struct store_folder *f, struct err *refused, struct err *e)
{
    if (!imap_wait_all(f->slot->session, e))
        return false;
    if (err_isset(refused)) {
        err_move(e, refused);
        return false;
    }
    return true;
}

bool store_imap_expunge_confirm(struct store_folder *f, struct err *e)
{
    if (!f->expunge_asked.n)
        return true;
    struct imap_session *s = f->slot->session;
    if (!s) {
        err_set(e, ERR_FOLDER, ERRK_NETWORK, "folder %s: the connection was dropped", f->name);
        return false;
    }
    bool qresync = imap_session_has_cap(s, IMAP_CAP_QRESYNC);
    uidvec_sort_unique(&f->expunge_asked);
    struct uidvec left = UIDVEC_INIT;
    unconfirmed(f, qresync, &left);
    bool ok = true;
    struct err refused = ERR_INIT;
    if (left.n) {
        /* Every earlier command is answered: their \Deleted is in place now. */
        log_debug(LOGC_IMAP,
                  "folder %s: %zu of %zu messages asked to be expunged not reported gone; "
                  "expunging them again",
                  f->name, left.n, f->expunge_asked.n);
        uidvec_free(&f->expunge_asked);
        uidvec_free(&f->expunge_seen);
        f->expunge_asked = left;
        f->expunge_count = 0;
        left = (struct uidvec)UIDVEC_INIT;
        ok = store_imap_send_sets(f, "UID EXPUNGE", &f->expunge_asked, "", store_imap_store_done,
                                  &refused, e) &&
             wait_answers(f, &refused, e);
        if (ok)
            unconfirmed(f, qresync, &left);
    }
    if (ok && left.n) {
        /* Still not reported: those the server has no more were gone already. */
        struct uidvec still = UIDVEC_INIT;
        f->search_out = &still;
        ok = store_imap_send_sets(f, "UID SEARCH UID", &left, "", search_done, &refused, e) &&
             wait_answers(f, &refused, e);
        f->search_out = NULL;
        uidvec_sort_unique(&still);
        size_t kept = 0;
        uint32_t first = 0;
        for (size_t i = 0; i < still.n && ok; i++)
            if (uidvec_contains_sorted(&left, still.v[i]) && kept++ == 0)
                first = still.v[i];
        if (ok && kept) {
            err_set(e, ERR_FOLDER, ERRK_PROTOCOL,
                    "the server still holds %zu message%s it was asked twice to expunge (UID "
                    "%u%s); %s recorded and deleted again next time",
                    kept, kept == 1 ? "" : "s", first, kept > 1 ? " and others" : "",
                    kept == 1 ? "it stays" : "they stay");
            ok = false;
        }
        uidvec_free(&still);
    }
    err_clear(&refused);
    uidvec_free(&left);
    if (!ok)
        err_prefix(e, "folder %s: ", f->name);
    store_imap_expunge_forget(f);
    return ok;
}

void store_imap_expunge_forget(struct store_folder *f)
{
    uidvec_free(&f->expunge_asked);
    uidvec_free(&f->expunge_seen);
    f->expunge_count = 0;
}
