#include "store/store_imap_internal.h"
#include "base/crashpoint.h"

#include "base/log.h"
#include "base/xalloc.h"
#include "imap/imap_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <string.h>

/*
 * One APPEND in flight.  The tagged answer may arrive before save_commit
 * registered the callback (a server refusing early), or long after (the
 * pipeline), so the result is parked until both halves are there.
 */
struct append {
    struct store_folder *f;
    bool answered;
    bool committed;
    bool needs_search; /* stored, but the UID must be searched for */
    uint32_t uid;
    uint32_t matches; /* UIDs the search found */
    struct err err;
    store_saved_fn *saved;
    void *ctx;
    uint64_t token;
    char mark[24]; /* X-OfflineIMAP value, "" with UIDPLUS */
};

/*
 * Without UIDPLUS the server does not say which UID a stored message got.
 * As offlineimap does, the uploaded copy (only that one) carries a header
 * "X-OfflineIMAP: <8 hex>-<10 digits>" that is then searched for.  Its
 * length is fixed (STORE_UPLOAD_MARK_LEN with CRLF), so that a recovery can
 * recognise the copy by its size.
 */
static void make_mark(char out[24])
{
    static _Thread_local unsigned seed;
    if (!seed)
        seed = (unsigned)time(NULL) ^ (unsigned)getpid() ^ (unsigned)(uintptr_t)&seed;
    unsigned a = (unsigned)rand_r(&seed) ^ ((unsigned)rand_r(&seed) << 16);
    unsigned b = ((unsigned)rand_r(&seed) ^ ((unsigned)rand_r(&seed) << 15)) % 1000000000u;
    snprintf(out, 24, "%08x-%010u", a, b);
}

static void search_queue(struct store_folder *f, struct append *ap)
{
    if (f->n_searches == f->cap_searches) {
        f->cap_searches = f->cap_searches ? f->cap_searches * 2 : 16;
        f->searches = xreallocarray(f->searches, f->cap_searches, sizeof(*f->searches));
    }
    f->searches[f->n_searches++] = ap;
}

static void append_finish(struct append *ap)
{
    if (ap->saved)
        ap->saved(ap->ctx, ap->token, ap->uid, err_isset(&ap->err) ? &ap->err : NULL);
    err_clear(&ap->err);
    free(ap);
}

static void append_done(void *ctx, const struct imap_resp *r, const struct err *e)
{
    struct append *ap = ctx;
    struct store_folder *f = ap->f;
    ap->answered = true;
    if (!r) {
        err_set(&ap->err, e->scope, e->kind, "%s", e->msg);
    } else if (r->status != IMAP_STATUS_OK) {
        /* Quota, size limit or a vanished folder: no point sending more here. */
        err_set(&ap->err, ERR_FOLDER, ERRK_PROTOCOL,
                "folder %s: server %s refused to store a message: %s %s%s%s%s", f->name,
                imap_session_desc(f->slot->session), imap_status_name(r->status),
                r->code ? "[" : "", r->code ? r->code : "", r->code ? "] " : "",
                r->text ? r->text : "");
    } else if (ap->mark[0]) {
        /* No UIDPLUS: any APPENDUID is not to be relied on; search for the mark. */
        ap->needs_search = true;
    } else if (r->code && !strcmp(r->code, "APPENDUID")) {
        struct imap_code_data d;
        imap_code_data_init(&d);
        struct err de = ERR_INIT;
        if (imap_decode_code(r, 1, &d, &de) && d.uids.n == 1 &&
            (f->info.uidvalidity == 0 || d.uidvalidity == f->info.uidvalidity))
            ap->uid = d.uids.v[0];
        else
            log_warn("folder %s: server %s sent an unusable APPENDUID", f->name,
                     imap_session_desc(f->slot->session));
        err_clear(&de);
        imap_code_data_release(&d);
    }
    if (err_isset(&ap->err) && !err_isset(&f->save_err))
        err_set(&f->save_err, ap->err.scope, ap->err.kind, "%s", ap->err.msg);
    if (ap->needs_search)
        search_queue(f, ap); /* finished by store_imap_flush() */
    else if (ap->committed)
        append_finish(ap);
}

bool store_imap_save_begin(struct store_folder *f, const struct store_msg *meta,
                           uint64_t wire_size, struct store_writer **w_r, struct err *e)
{
    if (err_isset(&f->save_err)) {
        err_set(e, f->save_err.scope, f->save_err.kind, "%s", f->save_err.msg);
        return false;
    }
    struct imap_session *s = f->slot->session;
    struct imap_cmd c;
    imap_session_cmd_init(s, &c);
    imap_cmd_add_raw(&c, "APPEND ");
    struct buf wire;
    buf_init(&wire, 64 * 1024);
    const char *wn = store_imap_wire_name(f->st, f->name, &wire);
    imap_cmd_add_astring(&c, wn, strlen(wn));
    buf_release(&wire);
    struct buf flags;
    buf_init(&flags, 4096);
    store_imap_flag_list(f->st, meta->flags, &flags);
    imap_cmd_add_raw(&c, " ");
    imap_cmd_add_raw(&c, flags.data);
    buf_release(&flags);
    char date[IMAP_DATE_TIME_SIZE];
    if (meta->date > 0 && imap_format_date_time((time_t)meta->date, date))
        imap_cmd_add_rawf(&c, " \"%s\"", date);
    struct append *ap = xcalloc(1, sizeof(*ap));
    ap->f = f;
    if (!imap_session_has_cap(s, IMAP_CAP_UIDPLUS))
        make_mark(ap->mark);
    imap_cmd_add_raw(&c, " ");
    imap_cmd_add_literal_header(&c, wire_size + (ap->mark[0] ? STORE_UPLOAD_MARK_LEN : 0));
    bool refused = false;
    bool ok = imap_cmd_finish(&c, e);
    if (!ok) {
        imap_cmd_release(&c);
        free(ap);
        err_prefix(e, "folder %s: ", f->name);
        return false;
    }
    ok = imap_send_external(s, append_done, ap, &c, &refused, e);
    imap_cmd_release(&c);
    if (!ok) {
        /* If the command was sent, the dying session has answered it already. */
        if (ap->answered) {
            ap->committed = true;
            append_finish(ap);
        } else {
            free(ap);
        }
        err_prefix(e, "folder %s: ", f->name);
        return false;
    }
    if (refused) {
        /* Refused before the literal (a synchronizing literal answered NO). */
        err_set(e, ap->err.scope ? ap->err.scope : ERR_FOLDER, ap->err.kind, "%s",
                ap->err.msg ? ap->err.msg : "APPEND refused");
        ap->committed = true;
        append_finish(ap);
        return false;
    }
    if (ap->mark[0]) {
        char hdr[STORE_UPLOAD_MARK_LEN + 1];
        int n = snprintf(hdr, sizeof(hdr), "X-OfflineIMAP: %s\r\n", ap->mark);
        if (n != STORE_UPLOAD_MARK_LEN || !imap_literal_write(s, hdr, (size_t)n, e)) {
            err_prefix(e, "folder %s: ", f->name);
            return false;
        }
    }
    struct store_writer *w = xcalloc(1, sizeof(*w));
    w->f = f;
    w->left = wire_size;
    w->token = (uint64_t)(uintptr_t)ap;
    *w_r = w;
    return true;
}

bool store_imap_save_write(struct store_writer *w, const void *data, size_t len, struct err *e)
{
    if (len > w->left) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC,
                "folder %s: message is longer than its announced size", w->f->name);
        return false;
    }
    w->left -= len;
    if (!imap_literal_write(w->f->slot->session, data, len, e)) {
        err_prefix(e, "folder %s: while uploading a message: ", w->f->name);
        return false;
    }
    return true;
}

bool store_imap_save_commit(struct store_writer *w, const struct store_msg *meta,
                            store_saved_fn *saved, void *ctx, uint64_t token, struct err *e)
{
    struct store_folder *f = w->f;
    struct append *ap = (struct append *)(uintptr_t)w->token;
    free(w);
    ap->saved = saved;
    ap->ctx = ctx;
    ap->token = token;
    ap->committed = true;
    crashpoint("imap-append-written");
    if (!imap_literal_end(f->slot->session, e)) {
        /* The session died: append_done already ran (or runs) with the error. */
        if (ap->answered && !ap->needs_search)
            append_finish(ap);
        err_prefix(e, "folder %s: while uploading a message: ", f->name);
        return false;
    }
    if (ap->answered && !ap->needs_search)
        append_finish(ap);
    /* Let answers be processed as they arrive, without waiting. */
    if (!imap_poll(f->slot->session, e)) {
        err_prefix(e, "folder %s: ", f->name);
        return false;
    }
    return true;
}

void store_imap_save_abort(struct store_writer *w)
{
    /*
     * The literal was announced with its size; the only way to take it back is
     * to drop the connection, so that the server stores nothing.
     */
    struct store_folder *f = w->f;
    struct append *ap = (struct append *)(uintptr_t)w->token;
    free(w);
    if (!err_isset(&f->save_err))
        err_set(&f->save_err, ERR_FOLDER, ERRK_GENERIC,
                "folder %s: an upload was abandoned; the connection was dropped", f->name);
    /*
     * Earlier APPENDs may already be stored: collect their answers first, so
     * that none of them is reported as failed and uploaded again next time.
     * This append stays uncommitted meanwhile, so that its answer (or the
     * failure of the dying session) cannot free it under our feet.
     */
    ap->committed = false;
    if (f->slot->session) {
        struct err e = ERR_INIT;
        imap_wait_pending(f->slot->session, 1, &e);
        err_clear(&e);
        imap_session_free(&f->slot->session);
    }
    ap->committed = true;
    if (!ap->needs_search)
        append_finish(ap);
}

void store_imap_search_answer(struct store_folder *f, const struct imap_resp *r)
{
    if (f->search_head >= f->n_searches)
        return; /* a SEARCH answer nobody is waiting for */
    struct append *ap = f->searches[f->search_head++];
    struct uidvec uids = UIDVEC_INIT;
    uint64_t modseq;
    struct err e = ERR_INIT;
    if (imap_decode_search(r, 16, &uids, &modseq, &e)) {
        ap->matches = (uint32_t)uids.n;
        ap->uid = uids.n == 1 ? uids.v[0] : 0;
    }
    err_clear(&e);
    uidvec_free(&uids);
}

/* Find the UIDs of stored appends by their X-OfflineIMAP mark. */
static bool run_searches(struct store_folder *f, struct err *e)
{
    struct imap_session *s = f->slot->session;
    f->search_head = 0;
    bool ok = true;
    for (size_t i = 0; i < f->n_searches && ok; i++) {
        struct imap_cmd c;
        imap_session_cmd_init(s, &c);
        imap_cmd_add_raw(&c, "UID SEARCH HEADER X-OfflineIMAP ");
        imap_cmd_add_quoted(&c, f->searches[i]->mark, strlen(f->searches[i]->mark));
        ok = imap_cmd_finish(&c, e) && imap_send_cmd(s, 0, NULL, NULL, &c, e);
        imap_cmd_release(&c);
    }
    if (ok)
        ok = imap_wait_all(s, e);
    for (size_t i = 0; i < f->n_searches; i++) {
        struct append *ap = f->searches[i];
        if (!ok)
            ap->uid = 0;
        else if (ap->matches != 1)
            log_warn("folder %s: the server found %u messages with the X-OfflineIMAP mark %s "
                     "of an upload; its UID stays unknown",
                     f->name, ap->matches, ap->mark);
        ap->needs_search = false;
        if (ap->committed)
            append_finish(ap);
        else
            ap->answered = true;
    }
    f->n_searches = 0;
    f->search_head = 0;
    return ok;
}

bool store_imap_flush(struct store_folder *f, struct err *e)
{
    if (!f->slot->session) {
        err_set(e, ERR_FOLDER, ERRK_NETWORK, "folder %s: the connection was dropped", f->name);
        return false;
    }
    if (!imap_wait_all(f->slot->session, e)) {
        err_prefix(e, "folder %s: ", f->name);
        store_imap_expunge_forget(f);
        return false;
    }
    if (f->n_searches && !run_searches(f, e)) {
        err_prefix(e, "folder %s: ", f->name);
        store_imap_expunge_forget(f);
        return false;
    }
    bool ok = false;
    if (err_isset(&f->save_err)) {
        err_set(e, f->save_err.scope, f->save_err.kind, "%s", f->save_err.msg);
        err_clear(&f->save_err);
    } else if (err_isset(&f->delete_err)) {
        err_set(e, f->delete_err.scope, f->delete_err.kind, "folder %s: %s", f->name,
                f->delete_err.msg);
        err_clear(&f->delete_err);
        err_clear(&f->flags_err);
    } else if (err_isset(&f->flags_err)) {
        err_set(e, f->flags_err.scope, f->flags_err.kind, "folder %s: %s", f->name,
                f->flags_err.msg);
        err_clear(&f->flags_err);
    } else {
        /* Everything answered and accepted: did the expunges happen? */
        return store_imap_expunge_confirm(f, e);
    }
    store_imap_expunge_forget(f);
    return ok;
}

void store_imap_save_drop(struct store_folder *f)
{
    /* Stored appends whose UID search never ran: the next sync recognises them. */
    for (size_t i = 0; i < f->n_searches; i++) {
        struct append *ap = f->searches[i];
        if (!err_isset(&ap->err))
            err_set(&ap->err, ERR_MSG, ERRK_NETWORK,
                    "folder %s: an uploaded message's UID could not be looked up; the next "
                    "sync will recognise it",
                    f->name);
        ap->needs_search = false;
        append_finish(ap);
    }
    f->n_searches = 0;
}
