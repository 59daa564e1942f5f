#include "store/store_imap_internal.h"
#include "base/crashpoint.h"

#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Decode a response and apply what it says about the open folder. */
static void folder_state_untagged(struct store_folder *f, const struct imap_resp *r)
{
    struct err e = ERR_INIT;
    enum imap_data kind = imap_resp_data(r);
    if (kind == IMAP_DATA_EXISTS) {
        uint32_t n;
        if (imap_decode_number(r, &kind, &n, &e))
            f->info.exists = n;
        err_clear(&e);
        return;
    }
    if (!r->code || kind != IMAP_DATA_NONE)
        return;
    struct imap_code_data d;
    imap_code_data_init(&d);
    if (imap_decode_code(r, 1, &d, &e)) {
        switch (d.code) {
        case IMAP_CODE_UIDVALIDITY:
            f->info.uidvalidity = d.num;
            break;
        case IMAP_CODE_UIDNEXT:
            f->info.uidnext = d.num;
            break;
        case IMAP_CODE_HIGHESTMODSEQ:
            f->info.highestmodseq = d.modseq;
            break;
        case IMAP_CODE_NOMODSEQ:
            f->info.highestmodseq = 0;
            break;
        default:
            break;
        }
    } else {
        log_warn("server %s: ignoring a bad response code in folder %s: %s",
                 imap_session_desc(f->slot->session), f->name, e.msg);
    }
    imap_code_data_release(&d);
    err_clear(&e);
}

/* The first BODY[] of a FETCH, or NULL. */
static const struct imap_fetch_body *fetch_body(const struct imap_fetch *ft)
{
    for (size_t i = 0; i < ft->body_count; i++)
        if (ft->bodies[i].section_len == 0 && !ft->bodies[i].has_origin)
            return &ft->bodies[i];
    return NULL;
}

void store_imap_list_fetch(struct store_folder *f, const struct imap_fetch *ft)
{
    if (!(ft->present & IMAP_FETCH_UID) || ft->uid == 0) {
        f->list_bad++;
        return;
    }
    const struct store_list_opts *o = f->list_opts;
    if (o && o->min_uid && ft->uid < o->min_uid)
        return;
    struct store_msg m = {.uid = ft->uid};
    m.flags = store_imap_flags_from(f->st, ft->flags, ft->flag_count, &f->unknown_keywords);
    bool has_size = ft->present & IMAP_FETCH_SIZE, has_date = ft->present & IMAP_FETCH_INTERNALDATE;
    if (has_size)
        m.size = ft->size;
    if (has_date)
        m.date = ft->internaldate;
    if (o && o->max_size && has_size && ft->size > o->max_size)
        return;
    if (o && o->min_date && has_date && ft->internaldate < o->min_date)
        return;
    store_msg_list_push(f->list_out, &m);
}

ssize_t store_imap_wanted_index(const struct store_folder *f, uint32_t uid)
{
    size_t lo = 0, hi = f->wanted->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->wanted->v[mid] == uid)
            return (ssize_t)mid;
        if (f->wanted->v[mid] < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* An error from the sink: one message's (reported, the fetch goes on) or wider (kept). */
static void sink_failed(struct store_folder *f, struct err *e)
{
    if (e->scope == ERR_MSG) {
        struct store_msg meta = {0};
        if (f->sink->msg_error)
            f->sink->msg_error(f->sink->ctx, &meta, e);
    } else if (!err_isset(&f->body_err)) {
        err_move(&f->body_err, e);
    }
    err_clear(e);
}

static void body_msg_error(struct store_folder *f, uint32_t uid, const char *why)
{
    struct err e = ERR_INIT;
    err_set(&e, ERR_MSG, ERRK_PROTOCOL, "UID %u in folder %s: server %s %s", uid, f->name,
            imap_session_desc(f->slot->session), why);
    struct store_msg meta = {.uid = uid};
    if (f->sink->msg_error)
        f->sink->msg_error(f->sink->ctx, &meta, &e);
    err_clear(&e);
}

static void body_fetch(struct store_folder *f, const struct imap_fetch *ft)
{
    bool streamed = f->in_body;
    f->in_body = false;
    const struct imap_fetch_body *body = fetch_body(ft);
    if (!streamed && !body)
        return; /* an unsolicited flag update */
    bool has_uid = ft->present & IMAP_FETCH_UID;
    ssize_t idx = has_uid ? store_imap_wanted_index(f, ft->uid) : -1;
    if (idx < 0 || f->delivered[idx]) {
        /* A body we did not ask for, or a second one: never trust it. */
        if (streamed && !f->body_failed)
            f->sink->abort(f->sink->ctx);
        log_warn("server %s sent an unexpected message body (UID %u) in folder %s; ignored",
                 imap_session_desc(f->slot->session), has_uid ? ft->uid : 0, f->name);
        return;
    }
    struct store_msg meta = {.uid = ft->uid};
    meta.flags = store_imap_flags_from(f->st, ft->flags, ft->flag_count, &f->unknown_keywords);
    if (ft->present & IMAP_FETCH_INTERNALDATE)
        meta.date = ft->internaldate;
    if (ft->present & IMAP_FETCH_SIZE)
        meta.size = ft->size;
    if (!streamed) {
        if (!body || body->nil || !body->data) {
            body_msg_error(f, ft->uid, "returned no body");
            f->delivered[idx] = 1;
            return;
        }
        /* A small body sent as a quoted string. */
        struct err e = ERR_INIT;
        meta.size = body->size;
        if (f->sink->begin(f->sink->ctx, &meta, body->size, &e)) {
            if (!f->sink->write(f->sink->ctx, body->data, body->size, &e)) {
                f->sink->abort(f->sink->ctx);
                sink_failed(f, &e);
            } else if (!f->sink->end(f->sink->ctx, &meta, &e)) {
                sink_failed(f, &e);
            }
        } else {
            sink_failed(f, &e);
        }
        f->delivered[idx] = 1;
        return;
    }
    f->delivered[idx] = 1;
    if (f->body_failed) {
        f->body_failed = false;
        return;
    }
    struct err e = ERR_INIT;
    if (!f->sink->end(f->sink->ctx, &meta, &e))
        sink_failed(f, &e);
}

static void folder_untagged(void *ctx, const struct imap_resp *r)
{
    struct store_folder *f = ctx;
    folder_state_untagged(f, r);
    enum imap_data kind = imap_resp_data(r);
    if (f->mode == FETCH_MODE_CHANGES &&
        (kind == IMAP_DATA_VANISHED || kind == IMAP_DATA_SEARCH || kind == IMAP_DATA_ESEARCH)) {
        store_imap_changes_untagged(f, r);
        return;
    }
    if ((kind == IMAP_DATA_VANISHED || kind == IMAP_DATA_EXPUNGE) &&
        store_imap_expunge_untagged(f, r))
        return;
    if (kind == IMAP_DATA_SEARCH && f->search_out) {
        store_imap_search_into(f, r);
        return;
    }
    if (kind == IMAP_DATA_SEARCH) {
        store_imap_search_answer(f, r);
        return;
    }
    if (kind != IMAP_DATA_FETCH)
        return;
    if (f->mode == FETCH_MODE_NONE)
        return;
    struct imap_fetch ft;
    struct err e = ERR_INIT;
    if (!imap_decode_fetch(r, &ft, &e)) {
        log_warn("server %s: ignoring an unreadable FETCH answer in folder %s: %s",
                 imap_session_desc(f->slot->session), f->name, e.msg);
        err_clear(&e);
        if (f->mode == FETCH_MODE_BODY && f->in_body) {
            f->in_body = false;
            if (!f->body_failed)
                f->sink->abort(f->sink->ctx);
            f->body_failed = false;
        }
        return;
    }
    if (f->mode == FETCH_MODE_LIST || f->mode == FETCH_MODE_CHANGES)
        store_imap_list_fetch(f, &ft);
    else if (f->mode == FETCH_MODE_INFO)
        store_imap_info_fetch(f, &ft);
    else
        body_fetch(f, &ft);
}

/* ---- streamed bodies ----------------------------------------------------------- */

static bool lit_begin(void *ctx, const struct imap_literal_info *info)
{
    struct store_folder *f = ctx;
    if (f->mode != FETCH_MODE_BODY || !info->resp_name || strcmp(info->resp_name, "FETCH") != 0 ||
        !info->prev_atom ||
        (strncasecmp(info->prev_atom, "BODY[", 5) != 0 &&
         strncasecmp(info->prev_atom, "BINARY[", 7) != 0))
        return false;
    f->in_body = true;
    f->body_failed = false;
    /*
     * Servers send the UID first as a rule: then an error can name it.  The
     * FLAGS usually come before the body too: an IMAP destination sends them
     * with its APPEND.
     */
    f->body_uid = 0;
    struct store_msg meta = {0};
    for (size_t i = 0; i + 1 < info->n_siblings; i++) {
        const struct imap_arg *a = &info->siblings[i];
        const struct imap_arg *v = &info->siblings[i + 1];
        if (a->type == IMAP_ARG_ATOM && imap_arg_atom_ieq(a, "UID")) {
            uint32_t uid;
            if (v->type == IMAP_ARG_ATOM && str_to_u32(v->str, v->len, &uid))
                f->body_uid = uid;
        } else if (a->type == IMAP_ARG_ATOM && imap_arg_atom_ieq(a, "FLAGS") &&
                   v->type == IMAP_ARG_LIST) {
            uint64_t unknown = 0;
            meta.flags = store_imap_flags_from(f->st, v->list, (size_t)v->len, &unknown);
        }
    }
    meta.uid = f->body_uid;
    struct err e = ERR_INIT;
    if (!f->sink->begin(f->sink->ctx, &meta, info->size, &e)) {
        f->body_failed = true;
        sink_failed(f, &e);
    }
    /* Stream even a refused body, so that it is skipped without being kept. */
    return true;
}

static bool lit_data(void *ctx, const void *data, size_t len, struct err *e)
{
    struct store_folder *f = ctx;
    if (f->body_failed)
        return true;
    struct err we = ERR_INIT;
    if (!f->sink->write(f->sink->ctx, data, len, &we)) {
        f->body_failed = true;
        f->sink->abort(f->sink->ctx);
        sink_failed(f, &we);
    }
    return true;
}

static bool lit_end(void *ctx, struct err *e)
{
    return true;
}

/* ---- open / close --------------------------------------------------------------- */

/* Queue SELECT (or EXAMINE) with the folder's handlers; the answer goes to *res. */
static bool select_begin(struct store_folder *f, struct imap_result *res, struct err *e)
{
    struct imap_session *s = f->slot->session;
    imap_session_set_untagged(s, folder_untagged, f);
    struct imap_literal_handler h = {lit_begin, lit_data, lit_end, f};
    imap_session_set_literal_handler(s, &h);
    memset(&f->info, 0, sizeof(f->info));
    f->info.readonly = !f->write;
    memset(res, 0, sizeof(*res));
    struct buf wire;
    buf_init(&wire, 64 * 1024);
    const char *name = store_imap_wire_name(f->st, f->name, &wire);
    struct imap_cmd c;
    imap_session_cmd_init(s, &c);
    imap_cmd_add_raw(&c, f->write ? "SELECT " : "EXAMINE ");
    imap_cmd_add_astring(&c, name, strlen(name));
    bool ok = imap_cmd_finish(&c, e) && imap_send_cmd(s, 0, imap_result_done, res, &c, e);
    imap_cmd_release(&c);
    buf_release(&wire);
    return ok;
}

/* After the wait: the folder is selected if the server said OK. */
static bool select_end(struct store_folder *f, struct imap_result *res, struct err *e)
{
    bool ok = imap_result_ok(f->slot->session, res, f->write ? "SELECT" : "EXAMINE", e);
    if (ok && res->code && !strcmp(res->code, "READ-ONLY"))
        f->info.readonly = true;
    imap_result_release(res);
    free(f->slot->selected);
    f->slot->selected = ok ? xstrdup(f->name) : NULL;
    f->slot->selected_write = f->write;
    if (!ok)
        err_prefix(e, "folder %s: ", f->name);
    return ok;
}

static bool do_select(struct store_folder *f, struct err *e)
{
    struct imap_result res;
    if (!select_begin(f, &res, e) || !imap_wait_all(f->slot->session, e)) {
        imap_result_release(&res);
        err_prefix(e, "folder %s: ", f->name);
        return false;
    }
    return select_end(f, &res, e);
}

static struct store_folder *folder_new(struct store_imap *st, const char *name, bool for_write,
                                       struct err *e)
{
    struct store_folder *f = xcalloc(1, sizeof(*f));
    f->st = st;
    f->name = xstrdup(name);
    f->write = for_write;
    if (!store_imap_acquire(st, &f->slot, e)) {
        free(f->name);
        free(f);
        return NULL;
    }
    return f;
}

bool store_imap_open_folder(struct store *s, const char *name, bool for_write,
                            struct store_folder **f_r, struct err *e)
{
    struct store_folder *f = folder_new((struct store_imap *)s, name, for_write, e);
    if (!f)
        return false;
    if (!do_select(f, e)) {
        /* A folder-level NO leaves the connection usable for others. */
        if (e->scope < ERR_REPO)
            e->scope = ERR_FOLDER;
        store_imap_close_folder(&f);
        return false;
    }
    *f_r = f;
    return true;
}

/*
 * SELECT and the changes since since_modseq in one round trip: the commands
 * are pipelined (after a failed SELECT the server refuses the others, as no
 * folder is selected).  The changes are of no use unless the folder turns
 * out to have modification sequences and the UIDVALIDITY the caller knows.
 */
bool store_imap_open_folder_changes(struct store *s, const char *name, bool for_write,
                                    const struct store_list_opts *opts, uint64_t since_modseq,
                                    struct store_folder **f_r, struct store_changes *ch,
                                    bool *have_r, struct err *e)
{
    *have_r = false;
    memset(ch, 0, sizeof(*ch));
    struct store_folder *f = folder_new((struct store_imap *)s, name, for_write, e);
    if (!f)
        return false;
    struct imap_result res;
    struct store_imap_changes_wait w;
    bool ok = select_begin(f, &res, e);
    if (ok)
        store_imap_changes_begin(f, opts, since_modseq, ch, &w);
    ok = ok && imap_wait_all(f->slot->session, e);
    if (!ok) {
        imap_result_release(&res);
        if (f->changes) {
            struct err ce = ERR_INIT;
            store_imap_changes_end(f, ch, &w, &ce);
            err_clear(&ce);
        }
        err_prefix(e, "folder %s: ", name);
    } else if (!select_end(f, &res, e)) {
        struct err ce = ERR_INIT;
        store_imap_changes_end(f, ch, &w, &ce);
        err_clear(&ce);
        ok = false;
    }
    if (!ok) {
        store_changes_free(ch);
        if (e->scope < ERR_REPO)
            e->scope = ERR_FOLDER;
        store_imap_close_folder(&f);
        return false;
    }
    struct err ce = ERR_INIT;
    *have_r = f->info.highestmodseq != 0 && store_imap_changes_end(f, ch, &w, &ce);
    if (err_isset(&ce))
        log_debug(LOGC_IMAP, "%s", ce.msg);
    err_clear(&ce);
    if (!*have_r) {
        store_changes_free(ch);
        memset(ch, 0, sizeof(*ch));
        f->mode = FETCH_MODE_NONE;
        f->list_out = NULL;
        f->list_opts = NULL;
        f->changes = NULL;
    }
    *f_r = f;
    return true;
}

void store_imap_close_folder(struct store_folder **fp)
{
    struct store_folder *f = *fp;
    if (!f)
        return;
    if (f->slot) {
        /*
         * Commands still unanswered (a failure left pipelined STOREs or
         * APPENDs behind) have callbacks into f: their answers are read now,
         * or the connection is given up, before f goes away.
         */
        if (f->slot->session && imap_pending(f->slot->session) > 0) {
            struct err we = ERR_INIT;
            if (!imap_wait_all(f->slot->session, &we))
                log_debug(LOGC_IMAP, "folder %s: %s", f->name, we.msg);
            err_clear(&we);
        }
        if (f->slot->session) {
            imap_session_set_literal_handler(f->slot->session, NULL);
            imap_session_set_untagged(f->slot->session, NULL, NULL);
        }
        store_imap_release(f->st, f->slot);
    }
    if (f->unknown_keywords)
        log_debug(LOGC_IMAP, "folder %s: %llu unknown keywords skipped", f->name,
                  (unsigned long long)f->unknown_keywords);
    store_imap_save_drop(f);
    err_clear(&f->body_err);
    err_clear(&f->save_err);
    err_clear(&f->flags_err);
    err_clear(&f->delete_err);
    store_imap_expunge_forget(f);
    free(f->searches);
    free(f->name);
    free(f);
    *fp = NULL;
}

const struct store_folder_info *store_imap_folder_info(struct store_folder *f)
{
    return &f->info;
}

/* Re-open after the connection dropped (for retries). */
static bool reconnect(struct store_folder *f, struct err *e)
{
    store_imap_release(f->st, f->slot);
    f->slot = NULL;
    if (!store_imap_acquire(f->st, &f->slot, e))
        return false;
    return do_select(f, e);
}

/* ---- listing --------------------------------------------------------------------- */

bool store_imap_list_msgs(struct store_folder *f, const struct store_list_opts *opts,
                          struct store_msg_list *out, struct err *e)
{
    if (f->info.exists == 0) {
        /* An empty folder: nothing to ask (and some servers reject 1:*). */
        return true;
    }
    bool want_size = opts && (opts->want_size || opts->max_size);
    bool want_date = opts && (opts->want_date || opts->min_date);
    f->mode = FETCH_MODE_LIST;
    f->list_out = out;
    f->list_opts = opts;
    f->list_bad = 0;
    uint32_t from = opts && opts->min_uid ? opts->min_uid : 1;
    bool ok = imap_command(f->slot->session, 0, NULL, e, "UID FETCH %u:* (UID FLAGS%s%s)", from,
                           want_size ? " RFC822.SIZE" : "", want_date ? " INTERNALDATE" : "");
    f->mode = FETCH_MODE_NONE;
    f->list_out = NULL;
    f->list_opts = NULL;
    if (!ok) {
        err_prefix(e, "folder %s: cannot list messages: ", f->name);
        return false;
    }
    if (f->list_bad)
        log_warn("server %s sent %u FETCH answers without a valid UID in folder %s; ignored",
                 imap_session_desc(f->slot->session), f->list_bad, f->name);
    store_msg_list_sort(out);
    /* A hostile or broken server may list a UID twice: keep the first. */
    size_t j = 0;
    for (size_t i = 0; i < out->n; i++) {
        if (j > 0 && out->v[j - 1].uid == out->v[i].uid) {
            log_warn("server %s listed UID %u twice in folder %s; using the first",
                     imap_session_desc(f->slot->session), out->v[i].uid, f->name);
            continue;
        }
        out->v[j++] = out->v[i];
    }
    out->n = j;
    return true;
}

/* ---- bodies ------------------------------------------------------------------------ */

static void fetch_done(void *ctx, const struct imap_resp *r, const struct err *e)
{
    struct store_folder *f = ctx;
    if (r && r->status != IMAP_STATUS_OK && !err_isset(&f->body_err))
        err_set(&f->body_err, ERR_FOLDER, ERRK_PROTOCOL,
                "folder %s: server %s refused to send messages: %s %s", f->name,
                imap_session_desc(f->slot->session), imap_status_name(r->status),
                r->text ? r->text : "");
}

/* Send UID FETCH commands for every wanted UID not yet delivered, then wait. */
static bool fetch_round(struct store_folder *f, struct err *e)
{
    struct imap_session *s = f->slot->session;
    struct uidvec todo = UIDVEC_INIT;
    for (size_t i = 0; i < f->wanted->n; i++)
        if (!f->delivered[i])
            uidvec_push(&todo, f->wanted->v[i]);
    struct buf set;
    buf_init(&set, IMAP_SET_MAX + 64);
    bool ok = true;
    for (size_t i = 0; i < todo.n && ok;) {
        buf_reset(&set);
        i += uidset_format(&set, todo.v + i, todo.n - i, IMAP_SET_MAX);
        ok = imap_send(s, 0, fetch_done, f, e, "UID FETCH %s (UID FLAGS BODY.PEEK[])", set.data);
    }
    buf_release(&set);
    uidvec_free(&todo);
    if (ok)
        ok = imap_wait_all(s, e);
    if (!ok && f->in_body) {
        /* The connection broke in the middle of a body. */
        f->in_body = false;
        if (!f->body_failed)
            f->sink->abort(f->sink->ctx);
        f->body_failed = false;
        if (f->body_uid)
            err_prefix(e, "while receiving UID %u: ", f->body_uid);
        else
            err_prefix(e, "while receiving a message: ");
    }
    return ok;
}

bool store_imap_fetch(struct store_folder *f, const struct store_msg *msgs, size_t n,
                      const struct store_sink *sink, struct err *e)
{
    if (n == 0)
        return true;
    struct uidvec wanted = UIDVEC_INIT;
    for (size_t i = 0; i < n; i++)
        uidvec_push(&wanted, msgs[i].uid);
    uidvec_sort_unique(&wanted);
    f->wanted = &wanted;
    f->delivered = xcalloc(wanted.n, 1);
    f->sink = sink;
    f->mode = FETCH_MODE_BODY;
    bool ok = false;
    for (int attempt = 0;; attempt++) {
        ok = fetch_round(f, e);
        if (ok || e->kind == ERRK_AUTH || attempt >= f->st->o.retry_count ||
            (e->kind != ERRK_NETWORK && e->kind != ERRK_TIMEOUT))
            break;
        log_warn("folder %s: %s; reconnecting to fetch the rest (try %d of %d)", f->name, e->msg,
                 attempt + 1, f->st->o.retry_count);
        err_clear(e);
        f->mode = FETCH_MODE_NONE;
        if (!reconnect(f, e))
            break;
        f->mode = FETCH_MODE_BODY;
    }
    f->mode = FETCH_MODE_NONE;
    if (ok && err_isset(&f->body_err)) {
        /* The sink failed (e.g. local disk full) or the server refused. */
        err_move(e, &f->body_err);
        ok = false;
    }
    err_clear(&f->body_err);
    if (ok) {
        for (size_t i = 0; i < wanted.n; i++)
            if (!f->delivered[i])
                body_msg_error(f, wanted.v[i],
                               "sent no body (expunged meanwhile?); it will be looked at again "
                               "next time");
    }
    free(f->delivered);
    f->delivered = NULL;
    f->wanted = NULL;
    f->sink = NULL;
    uidvec_free(&wanted);
    if (!ok)
        err_prefix(e, "folder %s: ", f->name);
    return ok;
}

/* ---- flags and deletion -------------------------------------------------------------- */

void store_imap_store_done(void *ctx, const struct imap_resp *r, const struct err *e)
{
    struct err *first = ctx;
    if (r && r->status != IMAP_STATUS_OK && !err_isset(first))
        err_set(first, ERR_FOLDER, ERRK_PROTOCOL, "server refused to change flags: %s %s",
                imap_status_name(r->status), r->text ? r->text : "");
}

void store_imap_msg_uids(const struct store_msg *msgs, size_t n, struct uidvec *out)
{
    for (size_t i = 0; i < n; i++)
        uidvec_push(out, msgs[i].uid);
    uidvec_sort_unique(out);
}

bool store_imap_send_sets(struct store_folder *f, const char *verb, const struct uidvec *uids,
                          const char *suffix, imap_done_fn *done, struct err *refused,
                          struct err *e)
{
    struct buf set;
    buf_init(&set, IMAP_SET_MAX + 64);
    bool ok = true;
    for (size_t i = 0; i < uids->n && ok;) {
        buf_reset(&set);
        i += uidset_format(&set, uids->v + i, uids->n - i, IMAP_SET_MAX);
        ok = imap_send(f->slot->session, 0, done, refused, e, "%s %s%s", verb, set.data, suffix);
    }
    buf_release(&set);
    return ok;
}

bool store_imap_send_flags(struct store_folder *f, const struct uidvec *uids, const char *flaglist,
                           bool add, struct err *refused, struct err *e)
{
    char *suffix = xasprintf(" %cFLAGS.SILENT %s", add ? '+' : '-', flaglist);
    bool ok = store_imap_send_sets(f, "UID STORE", uids, suffix, store_imap_store_done, refused, e);
    free(suffix);
    if (!ok)
        err_prefix(e, "folder %s: ", f->name);
    return ok;
}

/*
 * Pipelined: the STOREs of every flag change of a pass go out together and
 * store_imap_flush() waits for them (one round trip, not one per change).
 */
bool store_imap_set_flags(struct store_folder *f, const struct store_msg *msgs, size_t n,
                          flagset_t flags, bool add, struct err *e)
{
    if (n == 0)
        return true;
    if (!f->slot->session) {
        err_set(e, ERR_FOLDER, ERRK_NETWORK, "folder %s: the connection was dropped", f->name);
        return false;
    }
    struct buf list;
    buf_init(&list, 4096);
    store_imap_flag_list(f->st, flags, &list);
    bool ok = true;
    if (strcmp(list.data, "()") != 0) {
        struct uidvec uids = UIDVEC_INIT;
        store_imap_msg_uids(msgs, n, &uids);
        ok = store_imap_send_flags(f, &uids, list.data, add, &f->flags_err, e);
        uidvec_free(&uids);
    }
    buf_release(&list);
    return ok;
}

bool store_imap_set_uid(struct store_folder *f, const struct store_msg *msg, uint32_t uid,
                        struct err *e)
{
    err_set(e, ERR_FOLDER, ERRK_GENERIC, "folder %s: an IMAP message's UID cannot be changed",
            f->name);
    return false;
}
