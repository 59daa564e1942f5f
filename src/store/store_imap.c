#include "store/store_imap_internal.h"

#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "imap/imap_cmd.h"
#include "imap/imap_utf7.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct store_imap *imap_of(struct store *s)
{
    return (struct store_imap *)s;
}

/* ---- connection pool ------------------------------------------------------ */

static bool slot_connect(struct store_imap *st, struct imap_slot *slot, struct err *e)
{
    const char *tunnel =
        st->o.conn.preauth_tunnel ? st->o.conn.preauth_tunnel : st->o.conn.transport_tunnel;
    struct log_event ev = {
        .type = EV_CONNECTING,
        .host = tunnel ? "tunnel" : st->o.conn.host,
        .text = tunnel,
        .port = st->o.conn.port,
        .repo = st->base.name,
    };
    log_emit(&ev);
    int64_t t0 = mono_ns();
    if (!imap_connect(&st->o.conn, &slot->session, e)) {
        err_prefix(e, "repository %s: ", st->base.name);
        return false;
    }
    pthread_mutex_lock(&st->lock);
    st->login_ns = mono_ns() - t0;
    pthread_mutex_unlock(&st->lock);
    free(slot->selected);
    slot->selected = NULL;
    return true;
}

static bool usable(const struct imap_slot *slot)
{
    return slot->session && !imap_session_dead(slot->session);
}

/*
 * A free connection, or a new one.  When every connection is busy and one
 * more may be opened, wait first for as long as opening one took (rent,
 * then buy): a connection that frees up in time is used at once, without a
 * login that costs the server a process and both sides round trips; when
 * none does, the new connection costs at most twice the best choice.  The
 * first connection, and any while none is busy, is opened at once.
 */
bool store_imap_acquire(struct store_imap *st, struct imap_slot **slot_r, struct err *e)
{
    pthread_mutex_lock(&st->lock);
    struct imap_slot *slot = NULL;
    struct timespec deadline = {0};
    bool waiting = false, expired = false;
    for (;;) {
        struct imap_slot *spare = NULL;
        unsigned busy = 0;
        for (unsigned i = 0; i < st->n_slots && !slot; i++) {
            struct imap_slot *c = &st->slots[i];
            if (c->busy)
                busy++;
            else if (usable(c))
                slot = c;
            else if (!spare)
                spare = c;
        }
        if (slot)
            break;
        if (spare && (busy == 0 || st->login_ns <= 0 || expired)) {
            slot = spare;
            break;
        }
        if (spare) {
            if (!waiting) {
                int64_t at = mono_ns() + st->login_ns;
                deadline.tv_sec = (time_t)(at / 1000000000);
                deadline.tv_nsec = (long)(at % 1000000000);
                waiting = true;
            }
            /* On time-out, look once more: a connection may have come free with it. */
            if (pthread_cond_timedwait(&st->cond, &st->lock, &deadline) == ETIMEDOUT)
                expired = true;
        } else {
            pthread_cond_wait(&st->cond, &st->lock);
        }
    }
    slot->busy = true;
    pthread_mutex_unlock(&st->lock);

    /* A held session the server closed meanwhile (BYE, EOF) shows it now, without a round trip. */
    if (slot->session && !imap_session_dead(slot->session)) {
        struct err pe = ERR_INIT;
        imap_poll(slot->session, &pe);
        err_clear(&pe);
    }
    if (slot->session && imap_session_dead(slot->session)) {
        imap_session_free(&slot->session);
        free(slot->selected);
        slot->selected = NULL;
    }
    if (!slot->session && !slot_connect(st, slot, e)) {
        store_imap_release(st, slot);
        return false;
    }
    *slot_r = slot;
    return true;
}

void store_imap_release(struct store_imap *st, struct imap_slot *slot)
{
    if (slot->session && imap_session_dead(slot->session)) {
        imap_session_free(&slot->session);
        free(slot->selected);
        slot->selected = NULL;
    }
    if (slot->session)
        imap_session_set_untagged(slot->session, NULL, NULL);
    pthread_mutex_lock(&st->lock);
    slot->busy = false;
    clock_gettime(CLOCK_MONOTONIC, &slot->released);
    pthread_cond_signal(&st->cond);
    pthread_mutex_unlock(&st->lock);
}

/* ---- helpers ------------------------------------------------------------------ */

const char *store_imap_wire_name(const struct store_imap *st, const char *name, struct buf *tmp)
{
    if (!st->o.utf8_names)
        return name;
    struct err e = ERR_INIT;
    buf_reset(tmp);
    bool ok = imap_utf8_to_mutf7(name, strlen(name), tmp, &e);
    err_clear(&e);
    /* Not valid UTF-8: it can only have come from the server as it is. */
    return ok ? tmp->data : name;
}

bool store_imap_name_command(const struct store_imap *st, struct imap_session *s,
                             struct imap_result *res_r, const char *verb, const char *name,
                             const char *suffix, struct err *e)
{
    struct buf wire;
    buf_init(&wire, 64 * 1024);
    name = store_imap_wire_name(st, name, &wire);
    struct imap_cmd c;
    imap_session_cmd_init(s, &c);
    imap_cmd_add_raw(&c, verb);
    imap_cmd_add_raw(&c, " ");
    imap_cmd_add_astring(&c, name, strlen(name));
    imap_cmd_add_raw(&c, suffix);
    bool ok = imap_cmd_finish(&c, e) && imap_command_cmd(s, 0, res_r, &c, e);
    imap_cmd_release(&c);
    buf_release(&wire);
    return ok;
}

/* A name from the server as the store shows it (decoded with utf8_names), xmalloc'd. */
static char *shown_name(const struct store_imap *st, const char *wire)
{
    if (!st->o.utf8_names)
        return xstrdup(wire);
    struct buf b;
    buf_init(&b, 64 * 1024);
    struct err e = ERR_INIT;
    bool ok = imap_mutf7_to_utf8(wire, strlen(wire), &b, &e);
    if (!ok)
        log_warn("folder name %s is not valid modified UTF-7 (%s); used as it is", wire, e.msg);
    err_clear(&e);
    char *out = ok ? buf_detach(&b, NULL) : xstrdup(wire);
    buf_release(&b);
    return out;
}

void store_imap_flag_list(const struct store_imap *st, flagset_t flags, struct buf *out)
{
    char letters[64];
    flags_to_letters(flags, letters);
    buf_append_char(out, '(');
    bool first = true;
    for (const char *p = letters; *p; p++) {
        const char *name = flag_imap_name(*p);
        if (!name && *p >= 'a' && *p <= 'z')
            name = st->o.keywords[*p - 'a'];
        if (!name)
            continue;
        if (!first)
            buf_append_char(out, ' ');
        buf_append_str(out, name);
        first = false;
    }
    buf_append_char(out, ')');
}

flagset_t store_imap_flags_from(const struct store_imap *st, const struct imap_arg *flags, size_t n,
                                uint64_t *unknown_r)
{
    flagset_t f = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = flags[i].str;
        char letter = flag_from_imap_name(name, strlen(name));
        if (letter) {
            f |= flag_bit(letter);
            continue;
        }
        bool mapped = false;
        for (int k = 0; k < 26; k++) {
            /* Keywords are case-sensitive in offlineimap's customflag mapping. */
            if (st->o.keywords[k] && !strcmp(st->o.keywords[k], name)) {
                f |= flag_bit((char)('a' + k));
                mapped = true;
            }
        }
        if (!mapped && name[0] != '\\' && unknown_r)
            (*unknown_r)++;
    }
    return f;
}

/* ---- store operations ---------------------------------------------------------- */

static bool imap_connect_store(struct store *s, struct err *e)
{
    struct store_imap *st = imap_of(s);
    struct imap_slot *slot;
    if (!store_imap_acquire(st, &slot, e))
        return false;
    store_imap_release(st, slot);
    return true;
}

/* A folder's counters from a STATUS answer, kept until the list is complete. */
struct status_answer {
    char *name; /* as shown */
    struct store_folder_status st;
};

struct list_ctx {
    struct store_imap *st;
    struct store_folder_list *out;
    bool delim_query;
    char delim;
    bool delim_seen;
    struct status_answer *sv;
    size_t sn, scap;
};

/* A STATUS answer: kept, as it may come before the folder's LIST line. */
static void list_status(struct list_ctx *lc, const struct imap_resp *r)
{
    struct imap_status_resp sr;
    struct err e = ERR_INIT;
    if (!imap_decode_status(r, &sr, &e)) {
        log_warn("repository %s: ignoring a STATUS answer: %s", lc->st->base.name, e.msg);
        err_clear(&e);
        return;
    }
    unsigned need =
        IMAP_STATUS_HAS_MESSAGES | IMAP_STATUS_HAS_UIDNEXT | IMAP_STATUS_HAS_UIDVALIDITY;
    if ((sr.present & need) != need)
        return;
    if (lc->sn == lc->scap) {
        lc->scap = lc->scap ? lc->scap * 2 : 16;
        lc->sv = xreallocarray(lc->sv, lc->scap, sizeof(*lc->sv));
    }
    lc->sv[lc->sn++] = (struct status_answer){
        shown_name(lc->st, sr.name),
        {sr.uidvalidity, sr.uidnext, sr.messages,
         sr.present & IMAP_STATUS_HAS_HIGHESTMODSEQ ? sr.highestmodseq : 0}};
}

static int cmp_answer(const void *a, const void *b)
{
    return strcmp(((const struct status_answer *)a)->name,
                  ((const struct status_answer *)b)->name);
}

/* Every listed folder gets the counters answered for its name (the last answer counts). */
static void attach_statuses(struct list_ctx *lc)
{
    if (lc->sn > 1)
        qsort(lc->sv, lc->sn, sizeof(*lc->sv), cmp_answer);
    struct store_folder_list *l = lc->out;
    for (size_t i = 0; i < l->n && lc->sn; i++) {
        size_t lo = 0, hi = lc->sn;
        while (lo < hi) { /* the first answer not before the name */
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(lc->sv[mid].name, l->v[i].name) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        bool found = false;
        for (; lo < lc->sn && !strcmp(lc->sv[lo].name, l->v[i].name); lo++) {
            l->v[i].status = lc->sv[lo].st;
            found = true;
        }
        l->v[i].has_status = found;
    }
}

static void free_statuses(struct list_ctx *lc)
{
    for (size_t i = 0; i < lc->sn; i++)
        free(lc->sv[i].name);
    free(lc->sv);
    lc->sv = NULL;
    lc->sn = lc->scap = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Is name among the expected folders (sorted)? */
static bool expected(const struct strvec *expect, const char *name)
{
    return expect->n && bsearch(&name, expect->v, expect->n, sizeof(*expect->v), cmp_str);
}

/* Queue a STATUS for a folder's counters; its answer is read with the rest. */
static bool send_status(struct store_imap *st, struct imap_session *ss, const char *name,
                        struct err *e)
{
    struct imap_cmd c;
    imap_session_cmd_init(ss, &c);
    imap_cmd_add_raw(&c, "STATUS ");
    struct buf wire;
    buf_init(&wire, 64 * 1024);
    const char *wn = store_imap_wire_name(st, name, &wire);
    imap_cmd_add_astring(&c, wn, strlen(wn));
    buf_release(&wire);
    imap_cmd_add_raw(&c, " (MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)");
    /* No callback: a NO (a folder expected but gone, or not selectable) only means no counters. */
    bool ok = imap_cmd_finish(&c, e) && imap_send_cmd(ss, 0, NULL, NULL, &c, e);
    imap_cmd_release(&c);
    return ok;
}

static void list_untagged(void *ctx, const struct imap_resp *r)
{
    struct list_ctx *lc = ctx;
    enum imap_data kind = imap_resp_data(r);
    if (kind == IMAP_DATA_STATUS && !lc->delim_query) {
        list_status(lc, r);
        return;
    }
    if (kind != IMAP_DATA_LIST && kind != IMAP_DATA_LSUB)
        return;
    struct imap_list_entry item;
    struct err e = ERR_INIT;
    if (!imap_decode_list(r, &item, &e)) {
        log_warn("repository %s: ignoring a LIST answer: %s", lc->st->base.name, e.msg);
        err_clear(&e);
        return;
    }
    if (lc->delim_query || !lc->delim_seen) {
        lc->delim = item.delim;
        lc->delim_seen = true;
        if (lc->delim_query)
            return;
    }
    if (item.attrs & IMAP_MBOX_NONEXISTENT)
        return;
    struct store_folder_list *l = lc->out;
    char *name = shown_name(lc->st, item.name);
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].name, name)) {
            free(name);
            return; /* a server may list a name twice */
        }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
    l->v[l->n].name = name;
    l->v[l->n].noselect = (item.attrs & IMAP_MBOX_NOSELECT) != 0;
    l->n++;
}

static bool learn_delim(struct store_imap *st, struct imap_slot *slot, struct err *e)
{
    if (st->delim_known)
        return true;
    struct list_ctx lc = {.st = st, .delim_query = true};
    imap_session_set_untagged(slot->session, list_untagged, &lc);
    bool ok = store_imap_name_command(st, slot->session, NULL, "LIST",
                                      st->o.reference ? st->o.reference : "", " \"\"", e);
    imap_session_set_untagged(slot->session, NULL, NULL);
    if (!ok)
        return false;
    st->delim = lc.delim_seen ? lc.delim : '\0';
    st->delim_known = true;
    return true;
}

/*
 * The folder list, and when asked (imap_want_counters) every folder's
 * counters, which let an unchanged folder be skipped without opening it.
 * They are asked with STATUS commands, not LIST-STATUS (RFC 5819): Dovecot
 * answers a LIST-STATUS for a Maildir INBOX by reading the folder's whole
 * dovecot-uidlist, about a second per million messages, every time, where a
 * STATUS takes a few milliseconds; for other folders both cost the same.
 * The STATUS commands for the folders expected go out with the LIST, in the
 * same round trip; a listed folder that was not expected gets its STATUS
 * right after the list.  Without CONDSTORE the counters cannot tell an
 * unchanged folder (no HIGHESTMODSEQ) and are not asked.
 */
static bool imap_list_folders(struct store *s, struct store_folder_list *out, struct err *e)
{
    struct store_imap *st = imap_of(s);
    struct strvec expect = st->expect;
    bool want = st->want_counters;
    st->expect = (struct strvec)STRVEC_INIT;
    st->want_counters = false;
    struct imap_slot *slot;
    if (!store_imap_acquire(st, &slot, e)) {
        strvec_free(&expect);
        return false;
    }
    /* The hierarchy delimiter comes with every LIST answer; asked alone only if none came. */
    struct list_ctx lc = {.st = st, .out = out};
    struct imap_session *ss = slot->session;
    bool counters = want && imap_session_has_cap(ss, IMAP_CAP_CONDSTORE);
    bool ok = true;
    for (size_t i = 0; i < expect.n && ok && counters; i++)
        ok = send_status(st, ss, expect.v[i], e);
    imap_session_set_untagged(ss, list_untagged, &lc);
    if (ok)
        ok = store_imap_name_command(st, ss, NULL, st->o.subscribed_only ? "LSUB" : "LIST",
                                     st->o.reference ? st->o.reference : "", " \"*\"", e);
    if (ok && counters) {
        bool sent = false;
        for (size_t i = 0; i < out->n && ok; i++) {
            if (out->v[i].noselect || expected(&expect, out->v[i].name))
                continue;
            ok = send_status(st, ss, out->v[i].name, e);
            sent = true;
        }
        /* The expected folders' answers came before the LIST's; only new ones wait. */
        if (ok && sent)
            ok = imap_wait_all(ss, e);
    }
    imap_session_set_untagged(ss, NULL, NULL);
    if (ok)
        attach_statuses(&lc);
    free_statuses(&lc);
    strvec_free(&expect);
    if (ok && !st->delim_known && lc.delim_seen) {
        st->delim = lc.delim;
        st->delim_known = true;
    }
    if (ok)
        ok = learn_delim(st, slot, e);
    out->sep = st->delim;
    if (!ok)
        err_prefix(e, "repository %s: cannot list folders: ", s->name);
    store_imap_release(st, slot);
    return ok;
}

static void imap_want_counters(struct store *s, const char *const *names, size_t n)
{
    struct store_imap *st = imap_of(s);
    strvec_free(&st->expect);
    for (size_t i = 0; i < n; i++)
        strvec_push(&st->expect, names[i]);
    strvec_sort(&st->expect);
    size_t j = 0; /* without duplicates */
    for (size_t i = 0; i < st->expect.n; i++) {
        if (j && !strcmp(st->expect.v[j - 1], st->expect.v[i]))
            free(st->expect.v[i]);
        else
            st->expect.v[j++] = st->expect.v[i];
    }
    st->expect.n = j;
    st->want_counters = true;
}

static bool imap_create_folder(struct store *s, const char *name, struct err *e)
{
    struct store_imap *st = imap_of(s);
    struct imap_slot *slot;
    if (!store_imap_acquire(st, &slot, e))
        return false;
    struct imap_result res = {0};
    bool ok = store_imap_name_command(st, slot->session, &res, "CREATE", name, "", e);
    if (!ok && res.code && !strcmp(res.code, "ALREADYEXISTS")) {
        err_clear(e);
        ok = true;
    }
    if (!ok)
        err_prefix(e, "repository %s: cannot create folder %s: ", s->name, name);
    imap_result_release(&res);
    store_imap_release(st, slot);
    return ok;
}

static bool imap_delete_folder(struct store *s, const char *name, struct err *e)
{
    struct store_imap *st = imap_of(s);
    struct imap_slot *slot;
    if (!store_imap_acquire(st, &slot, e))
        return false;
    /* A session that has the folder selected must leave it first. */
    if (slot->selected && !strcmp(slot->selected, name)) {
        free(slot->selected);
        slot->selected = NULL;
        if (imap_session_has_cap(slot->session, IMAP_CAP_UNSELECT))
            imap_command(slot->session, 0, NULL, e, "UNSELECT");
        err_clear(e);
    }
    bool ok = store_imap_name_command(st, slot->session, NULL, "DELETE", name, "", e);
    if (!ok)
        err_prefix(e, "repository %s: cannot delete folder %s: ", s->name, name);
    store_imap_release(st, slot);
    return ok;
}

static void imap_free(struct store *s)
{
    struct store_imap *st = imap_of(s);
    for (unsigned i = 0; i < st->n_slots; i++) {
        imap_disconnect(&st->slots[i].session);
        free(st->slots[i].selected);
    }
    free(st->slots);
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->cond);
    strvec_free(&st->owned);
    strvec_free(&st->expect);
    free(st->base.name);
    free(st);
}

static const struct store_ops imap_ops = {
    .type_name = "IMAP",
    .connect = imap_connect_store,
    .list_folders = imap_list_folders,
    .want_counters = imap_want_counters,
    .create_folder = imap_create_folder,
    .delete_folder = imap_delete_folder,
    .open_folder = store_imap_open_folder,
    .close_folder = store_imap_close_folder,
    .folder_info = store_imap_folder_info,
    .list_msgs = store_imap_list_msgs,
    .fetch = store_imap_fetch,
    .save_begin = store_imap_save_begin,
    .save_write = store_imap_save_write,
    .save_commit = store_imap_save_commit,
    .save_abort = store_imap_save_abort,
    .flush = store_imap_flush,
    .set_flags = store_imap_set_flags,
    .delete_msgs = store_imap_delete_msgs,
    .delete_msgs_queued = store_imap_delete_msgs_queued,
    .set_uid = store_imap_set_uid,
    .msg_ident = store_imap_msg_ident,
    .msg_info = store_imap_msg_info,
    .list_changes = store_imap_list_changes,
    .open_folder_changes = store_imap_open_folder_changes,
    .free = imap_free,
};

bool store_imap_is(const struct store *s)
{
    return s->ops == &imap_ops;
}

static const char *own(struct store_imap *st, const char *s)
{
    if (!s)
        return NULL;
    strvec_push(&st->owned, s);
    return st->owned.v[st->owned.n - 1];
}

struct store *store_imap_new(const struct store_imap_opts *o)
{
    struct store_imap *st = xcalloc(1, sizeof(*st));
    st->base.ops = &imap_ops;
    st->base.name = xstrdup(o->repo_name ? o->repo_name : "IMAP");
    st->o = *o;
    /* The options must outlive the caller's copies. */
    st->o.repo_name = st->base.name;
    st->o.reference = own(st, o->reference);
    st->o.conn.host = own(st, o->conn.host);
    st->o.conn.proxy.host = own(st, o->conn.proxy.host);
    st->o.conn.preauth_tunnel = own(st, o->conn.preauth_tunnel);
    st->o.conn.transport_tunnel = own(st, o->conn.transport_tunnel);
    st->o.conn.user = own(st, o->conn.user);
    st->o.conn.identity = own(st, o->conn.identity);
    st->o.conn.auth_mechanisms = own(st, o->conn.auth_mechanisms);
    st->o.conn.tls.host = own(st, o->conn.tls.host);
    st->o.conn.tls.cafile = own(st, o->conn.tls.cafile);
    st->o.conn.tls.fingerprints = own(st, o->conn.tls.fingerprints);
    st->o.conn.tls.client_cert = own(st, o->conn.tls.client_cert);
    st->o.conn.tls.client_key = own(st, o->conn.tls.client_key);
    st->o.conn.tls.tls_level = own(st, o->conn.tls.tls_level);
    st->o.conn.tls.ssl_version = own(st, o->conn.tls.ssl_version);
    for (int k = 0; k < 26; k++)
        st->o.keywords[k] = own(st, o->keywords[k]);
    st->n_slots = o->max_connections ? o->max_connections : 1;
    st->slots = xcalloc(st->n_slots, sizeof(*st->slots));
    pthread_mutex_init(&st->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st->cond, &ca);
    pthread_condattr_destroy(&ca);
    return &st->base;
}
