#include "sync/sync_narrow.h"

#include "base/xalloc.h"

#include <stdlib.h>

bool sync_narrow_server(const struct store_changes *ch, const struct store_uidflags *known,
                        size_t nknown, size_t total, uint32_t exists, struct uidvec *want)
{
    if (!ch->have_vanished || ch->have_all || total == 0)
        return false;
    size_t gone = 0, added = 0;
    for (size_t i = 0; i < ch->changed.n; i++)
        if (!store_uidflags_find(known, nknown, ch->changed.v[i].uid))
            added++;
    for (size_t i = 0; i < ch->vanished.n; i++)
        if (store_uidflags_find(known, nknown, ch->vanished.v[i]))
            gone++;
    if (gone > total || total - gone + added != exists)
        return false;
    uidvec_free(want);
    for (size_t i = 0; i < ch->changed.n; i++)
        uidvec_push(want, ch->changed.v[i].uid);
    for (size_t i = 0; i < ch->vanished.n; i++)
        uidvec_push(want, ch->vanished.v[i]);
    uidvec_sort_unique(want);
    /* A UID both changed and expunged: the SELECT contradicts itself. */
    return want->n == ch->changed.n + ch->vanished.n;
}

void sync_narrow_remote_list(const struct store_changes *ch, const struct status_rows *rows,
                             const struct uidvec *uids, struct store_msg_list *out)
{
    struct store_msg_list changed = {0};
    if (ch) {
        for (size_t i = 0; i < ch->changed.n; i++)
            store_msg_list_push(&changed, &ch->changed.v[i]);
        store_msg_list_sort(&changed);
    }
    for (size_t i = 0; i < uids->n; i++) {
        uint32_t uid = uids->v[i];
        const struct store_msg *m = store_msg_list_find(&changed, uid);
        if (m) {
            store_msg_list_push(out, m);
            continue;
        }
        if (ch && uidvec_contains_sorted(&ch->vanished, uid))
            continue;
        const struct status_row *row = status_rows_find(rows, uid);
        if (row) {
            struct store_msg sm = {.uid = uid, .flags = row->flags};
            store_msg_list_push(out, &sm);
        }
    }
    store_msg_list_free(&changed);
}

struct store_uidflags *sync_narrow_base(const struct status_rows *rows)
{
    struct store_uidflags *b = xcalloc(rows->n ? rows->n : 1, sizeof(*b));
    for (size_t i = 0; i < rows->n; i++)
        b[i] = (struct store_uidflags){rows->v[i].uid, rows->v[i].flags};
    return b;
}

struct base_load {
    struct store_uidflags *v;
    size_t n, cap;
    bool ordered;
};

static void base_add(void *ctx, uint32_t uid, flagset_t flags)
{
    struct base_load *b = ctx;
    if (b->n && b->v[b->n - 1].uid >= uid)
        b->ordered = false;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->v = xreallocarray(b->v, b->cap, sizeof(*b->v));
    }
    b->v[b->n++] = (struct store_uidflags){uid, flags};
}

bool sync_narrow_load_base(struct status_db *db, struct store_uidflags **v_r, size_t *n_r,
                           bool *ordered_r, struct err *e)
{
    struct base_load b = {.ordered = true};
    bool ok = status_db_each_flags(db, base_add, &b, e);
    if (!ok) {
        free(b.v);
        b.v = NULL;
        b.n = 0;
    }
    *v_r = b.v;
    *n_r = b.n;
    *ordered_r = b.ordered;
    return ok;
}
