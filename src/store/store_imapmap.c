#include "store/store_imapmap.h"

#include "base/crashpoint.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "store/imapmap.h"

#include <stdlib.h>
#include <string.h>

struct mapstore {
    struct store base;
    struct store *inner;
    struct store_imapmap_opts o;
    char sep; /* the local server's separator, from the last folder listing */
};

/* A save whose APPEND is in flight: what to record and whom to tell. */
struct msave {
    uint32_t ruid;
    flagset_t sent, want; /* flags sent with the APPEND, flags the message must have */
    store_saved_fn *saved;
    void *ctx;
    uint64_t token;
};

struct store_folder {
    struct mapstore *ms;
    struct store_folder *in; /* the IMAP store's folder */
    char *name;
    char *path; /* the map file */
    struct imapmap map;
    bool dirty; /* the map differs from the file */
    struct msave *saves;
    size_t n_saves, cap_saves;
    /* Saved messages whose flags became known only after their APPEND went out. */
    struct fixup {
        uint32_t luid;
        flagset_t sent, want;
    } * fix;
    size_t n_fix, cap_fix;
    /* fetch: the caller's sink, seen through ours */
    const struct store_sink *sink;
};

struct store_writer {
    struct store_folder *f;
    struct store_writer *in;
    uint32_t ruid;
    flagset_t sent;
};

static struct mapstore *ms_of(struct store *s)
{
    return (struct mapstore *)s;
}

static const struct store_ops *in_ops(const struct store_folder *f)
{
    return f->ms->inner->ops;
}

/* ---- store level: all the IMAP store's ---------------------------------------------- */

static bool mconnect(struct store *s, struct err *e)
{
    struct store *in = ms_of(s)->inner;
    return in->ops->connect(in, e);
}

static bool mlist_folders(struct store *s, struct store_folder_list *out, struct err *e)
{
    struct mapstore *ms = ms_of(s);
    if (!ms->inner->ops->list_folders(ms->inner, out, e))
        return false;
    ms->sep = out->sep;
    return true;
}

static bool mcreate_folder(struct store *s, const char *name, struct err *e)
{
    struct store *in = ms_of(s)->inner;
    return in->ops->create_folder(in, name, e);
}

static bool mdelete_folder(struct store *s, const char *name, struct err *e)
{
    struct store *in = ms_of(s)->inner;
    return in->ops->delete_folder(in, name, e);
}

/* ---- folders ---------------------------------------------------------------------- */

static bool msync_meta(struct store_folder *f, struct err *e)
{
    if (!f->dirty || f->ms->o.dry_run)
        return true;
    crashpoint("uidmap-save");
    if (!imapmap_save(&f->map, f->path, true, e))
        return false;
    crashpoint("uidmap-saved");
    f->dirty = false;
    return true;
}

static bool mopen_folder(struct store *s, const char *name, bool for_write,
                         struct store_folder **f_r, struct err *e)
{
    struct mapstore *ms = ms_of(s);
    char *path = ms->o.map_path(ms->o.map_ctx, name, ms->sep, e);
    if (!path)
        return false;
    struct store_folder *f = xcalloc(1, sizeof(*f));
    f->ms = ms;
    f->name = xstrdup(name);
    f->path = path;
    imapmap_init(&f->map);
    if (!imapmap_load(&f->map, path, e) ||
        !ms->inner->ops->open_folder(ms->inner, name, for_write, &f->in, e)) {
        imapmap_release(&f->map);
        free(f->name);
        free(f->path);
        free(f);
        return false;
    }
    *f_r = f;
    return true;
}

static void mclose_folder(struct store_folder **fp)
{
    struct store_folder *f = *fp;
    if (!f)
        return;
    *fp = NULL;
    in_ops(f)->close_folder(&f->in);
    struct err e = ERR_INIT;
    if (!msync_meta(f, &e))
        log_warn("%s", e.msg);
    err_clear(&e);
    imapmap_release(&f->map);
    free(f->fix);
    free(f->saves);
    free(f->name);
    free(f->path);
    free(f);
}

static const struct store_folder_info *mfolder_info(struct store_folder *f)
{
    return in_ops(f)->folder_info(f->in);
}

/* A local message as the engine sees it: key = local UID, uid = remote UID or 0. */
static struct store_msg outward(const struct store_folder *f, const struct store_msg *m)
{
    struct store_msg o = *m;
    o.key = m->uid;
    o.uid = imapmap_remote(&f->map, m->uid);
    return o;
}

/* The IMAP store's view of messages the engine names by key. */
static struct store_msg *inward(const struct store_msg *msgs, size_t n)
{
    struct store_msg *v = xcalloc(n ? n : 1, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        v[i] = msgs[i];
        v[i].uid = msgs[i].key;
        v[i].key = 0;
    }
    return v;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static bool mlist_msgs(struct store_folder *f, const struct store_list_opts *opts,
                       struct store_msg_list *out, struct err *e)
{
    struct store_msg_list in = {0};
    if (!in_ops(f)->list_msgs(f->in, opts, &in, e)) {
        store_msg_list_free(&in);
        return false;
    }
    /* in is sorted by local UID. */
    uint32_t *luids = xcalloc(in.n ? in.n : 1, sizeof(*luids));
    for (size_t i = 0; i < in.n; i++) {
        luids[i] = in.v[i].uid;
        struct store_msg m = outward(f, &in.v[i]);
        store_msg_list_push(out, &m);
    }
    /*
     * Pairs of local messages that are gone (deleted by another client, or
     * by us before a crash) are dropped, as offlineimap does; only what the
     * listing covered can be judged.
     */
    bool complete = !opts || (!opts->min_date && !opts->max_size);
    uint32_t from = opts && opts->min_uid ? opts->min_uid : 1;
    if (complete) {
        size_t n = 0;
        uint32_t *mapped = imapmap_locals(&f->map, &n);
        for (size_t i = 0; i < n; i++) {
            if (mapped[i] < from ||
                bsearch(&mapped[i], luids, in.n, sizeof(*luids), cmp_u32) != NULL)
                continue;
            imapmap_del_local(&f->map, mapped[i]);
            f->dirty = true;
        }
        free(mapped);
    }
    free(luids);
    store_msg_list_free(&in);
    store_msg_list_sort(out);
    return true;
}

/* ---- fetch: the caller's sink, with local UIDs turned into keys --------------------- */

static bool fs_begin(void *ctx, const struct store_msg *meta, uint64_t size, struct err *e)
{
    struct store_folder *f = ctx;
    struct store_msg m = outward(f, meta);
    return f->sink->begin(f->sink->ctx, &m, size, e);
}

static bool fs_write(void *ctx, const void *data, size_t len, struct err *e)
{
    struct store_folder *f = ctx;
    return f->sink->write(f->sink->ctx, data, len, e);
}

static bool fs_end(void *ctx, const struct store_msg *meta, struct err *e)
{
    struct store_folder *f = ctx;
    struct store_msg m = outward(f, meta);
    return f->sink->end(f->sink->ctx, &m, e);
}

static void fs_abort(void *ctx)
{
    struct store_folder *f = ctx;
    f->sink->abort(f->sink->ctx);
}

static void fs_msg_error(void *ctx, const struct store_msg *meta, const struct err *e)
{
    struct store_folder *f = ctx;
    struct store_msg m = outward(f, meta);
    f->sink->msg_error(f->sink->ctx, &m, e);
}

static bool mfetch(struct store_folder *f, const struct store_msg *msgs, size_t n,
                   const struct store_sink *sink, struct err *e)
{
    struct store_msg *v = inward(msgs, n);
    struct store_sink ours = {fs_begin, fs_write, fs_end, fs_abort, fs_msg_error, f};
    f->sink = sink;
    bool ok = in_ops(f)->fetch(f->in, v, n, &ours, e);
    f->sink = NULL;
    free(v);
    return ok;
}

/* ---- saves: APPEND, then the pair goes into the map ---------------------------------- */

static bool msave_begin(struct store_folder *f, const struct store_msg *meta, uint64_t wire_size,
                        struct store_writer **w_r, struct err *e)
{
    struct store_writer *in = NULL;
    if (!in_ops(f)->save_begin(f->in, meta, wire_size, &in, e))
        return false;
    struct store_writer *w = xcalloc(1, sizeof(*w));
    w->f = f;
    w->in = in;
    w->ruid = meta->uid;
    w->sent = meta->flags;
    *w_r = w;
    return true;
}

static bool msave_write(struct store_writer *w, const void *data, size_t len, struct err *e)
{
    return in_ops(w->f)->save_write(w->in, data, len, e);
}

static void msaved(void *ctx, uint64_t token, uint32_t new_uid, const struct err *e)
{
    struct store_folder *f = ctx;
    struct msave *sv = &f->saves[token];
    if (e) {
        sv->saved(sv->ctx, sv->token, 0, e);
        return;
    }
    if (new_uid == 0) {
        /*
         * Stored, but the server did not say under which UID (no UIDPLUS and
         * the marker search failed).  The download journal lets the next run
         * recognise the copy.
         */
        struct err ue = ERR_INIT;
        err_set(&ue, ERR_MSG, ERRK_PROTOCOL,
                "server of repository '%s' did not return a valid UID (got '0') for UID '%u' "
                "from '%s'; the next sync will recognise the stored copy",
                f->ms->base.name, sv->ruid, f->name);
        sv->saved(sv->ctx, sv->token, 0, &ue);
        err_clear(&ue);
        return;
    }
    crashpoint("uidmap-appended");
    imapmap_put(&f->map, new_uid, sv->ruid);
    f->dirty = true;
    if (sv->sent != sv->want) {
        /* A source that sent FLAGS after the body: set them with the next flush. */
        if (f->n_fix == f->cap_fix) {
            f->cap_fix = f->cap_fix ? f->cap_fix * 2 : 16;
            f->fix = xreallocarray(f->fix, f->cap_fix, sizeof(*f->fix));
        }
        f->fix[f->n_fix++] = (struct fixup){new_uid, sv->sent, sv->want};
    }
    sv->saved(sv->ctx, sv->token, sv->ruid, NULL);
}

static bool msave_commit(struct store_writer *w, const struct store_msg *meta,
                         store_saved_fn *saved, void *ctx, uint64_t token, struct err *e)
{
    struct store_folder *f = w->f;
    struct store_writer *in = w->in;
    uint32_t ruid = meta && meta->uid ? meta->uid : w->ruid;
    flagset_t sent = w->sent, want = meta ? meta->flags : sent;
    free(w);
    if (f->n_saves == f->cap_saves) {
        f->cap_saves = f->cap_saves ? f->cap_saves * 2 : 64;
        f->saves = xreallocarray(f->saves, f->cap_saves, sizeof(*f->saves));
    }
    size_t k = f->n_saves++;
    f->saves[k] = (struct msave){ruid, sent, want, saved, ctx, token};
    return in_ops(f)->save_commit(in, meta, msaved, f, k, e);
}

static void msave_abort(struct store_writer *w)
{
    struct store_folder *f = w->f;
    struct store_writer *in = w->in;
    free(w);
    in_ops(f)->save_abort(in);
}

static bool mflush(struct store_folder *f, struct err *e)
{
    bool ok = in_ops(f)->flush(f->in, e);
    /* Every callback of the saves so far has run: their slots can be reused. */
    if (ok)
        f->n_saves = 0;
    for (size_t i = 0; ok && i < f->n_fix; i++) {
        struct store_msg m = {.uid = f->fix[i].luid};
        flagset_t sent = f->fix[i].sent, want = f->fix[i].want;
        if (want & ~sent)
            ok = in_ops(f)->set_flags(f->in, &m, 1, want & ~sent, true, e);
        if (ok && (sent & ~want))
            ok = in_ops(f)->set_flags(f->in, &m, 1, sent & ~want, false, e);
    }
    if (ok && f->n_fix) {
        f->n_fix = 0;
        ok = in_ops(f)->flush(f->in, e);
    }
    return ok;
}

/* ---- flags, deletions, identities ------------------------------------------------------ */

static bool mset_flags(struct store_folder *f, const struct store_msg *msgs, size_t n,
                       flagset_t flags, bool add, struct err *e)
{
    struct store_msg *v = inward(msgs, n);
    bool ok = in_ops(f)->set_flags(f->in, v, n, flags, add, e);
    free(v);
    return ok;
}

static bool mdelete_msgs(struct store_folder *f, const struct store_msg *msgs, size_t n,
                         struct err *e)
{
    struct store_msg *v = inward(msgs, n);
    bool ok = in_ops(f)->delete_msgs(f->in, v, n, e);
    free(v);
    if (!ok)
        return false;
    for (size_t i = 0; i < n; i++)
        if (imapmap_del_local(&f->map, msgs[i].key))
            f->dirty = true;
    return true;
}

static bool mmsg_ident(struct store_folder *f, const struct store_msg *msg, struct buf *out,
                       struct err *e)
{
    struct store_msg m = *msg;
    m.uid = msg->key;
    return in_ops(f)->msg_ident(f->in, &m, out, e);
}

static bool mmsg_info(struct store_folder *f, const struct store_msg *msgs, size_t n,
                      struct store_msg_info *out, struct err *e)
{
    struct store_msg *v = inward(msgs, n);
    bool ok = in_ops(f)->msg_info(f->in, v, n, out, e);
    free(v);
    return ok;
}

static bool mset_uid(struct store_folder *f, const struct store_msg *msg, uint32_t uid,
                     struct err *e)
{
    if (msg->key == 0 || uid == 0) {
        err_set(e, ERR_MSG, ERRK_GENERIC, "folder %s: cannot map local UID %u to remote UID %u",
                f->name, msg->key, uid);
        return false;
    }
    imapmap_put(&f->map, msg->key, uid);
    f->dirty = true;
    return true;
}

static void mfree(struct store *s)
{
    struct mapstore *ms = ms_of(s);
    ms->inner->ops->free(ms->inner);
    free(ms->base.name);
    free(ms);
}

static const struct store_ops imapmap_ops = {
    .type_name = "IMAP",
    .connect = mconnect,
    .list_folders = mlist_folders,
    .create_folder = mcreate_folder,
    .delete_folder = mdelete_folder,
    .open_folder = mopen_folder,
    .close_folder = mclose_folder,
    .folder_info = mfolder_info,
    .list_msgs = mlist_msgs,
    .fetch = mfetch,
    .save_begin = msave_begin,
    .save_write = msave_write,
    .save_commit = msave_commit,
    .save_abort = msave_abort,
    .flush = mflush,
    .set_flags = mset_flags,
    .delete_msgs = mdelete_msgs,
    .msg_ident = mmsg_ident,
    .msg_info = mmsg_info,
    .set_uid = mset_uid,
    .sync_meta = msync_meta,
    .journal_downloads = true,
    .min_uid_is_key = true,
    .free = mfree,
};

struct store *store_imapmap_new(const struct store_imapmap_opts *o)
{
    struct mapstore *ms = xcalloc(1, sizeof(*ms));
    ms->base.ops = &imapmap_ops;
    ms->base.name = xstrdup(o->inner->name);
    ms->inner = o->inner;
    ms->o = *o;
    return &ms->base;
}

bool store_imapmap_is(const struct store *s)
{
    return s->ops == &imapmap_ops;
}

struct store *store_imapmap_inner(struct store *s)
{
    return ms_of(s)->inner;
}
