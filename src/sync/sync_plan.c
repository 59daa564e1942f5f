#include "sync/sync_plan.h"

#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define VEC_PUSH(vec, item)                                                                        \
    do {                                                                                           \
        if ((vec).n == (vec).cap) {                                                                \
            (vec).cap = (vec).cap ? (vec).cap * 2 : 16;                                            \
            (vec).v = xreallocarray((vec).v, (vec).cap, sizeof(*(vec).v));                         \
        }                                                                                          \
        (vec).v[(vec).n++] = (item);                                                               \
    } while (0)

static void plan_one(const struct store_msg *r, const struct store_msg *l,
                     const struct sync_status_entry *s, const struct sync_plan_opts *o,
                     struct sync_plan *p)
{
    /* Pass 1: remote to local, unless the local side is read-only. */
    flagset_t status_flags = s ? s->flags : 0;
    bool in_status = s != NULL;
    flagset_t local_flags = l ? l->flags : 0;
    bool local_present = l != NULL;

    if (!o->local_readonly) {
        if (r && !in_status) {
            if (!l) {
                VEC_PUSH(p->download, *r);
                local_present = true;
                local_flags = r->flags;
            } else {
                VEC_PUSH(p->status_add, ((struct sync_status_entry){r->uid, r->flags}));
            }
            in_status = true;
            status_flags = r->flags;
        } else if (!r && in_status) {
            if (l && o->remote_sync_deletes) {
                VEC_PUSH(p->local_delete, *l);
                local_present = false;
                in_status = false;
            } else if (!l) {
                VEC_PUSH(p->status_drop, s->uid);
                in_status = false;
            }
        } else if (r && in_status && l) {
            flagset_t add = r->flags & ~status_flags;
            flagset_t del = status_flags & ~r->flags;
            if (add | del) {
                flagset_t nl = (l->flags | add) & ~del;
                if (nl != l->flags || status_flags != r->flags) {
                    struct sync_flag_change fc = {*l, add & ~l->flags, del & l->flags, r->flags};
                    VEC_PUSH(p->local_flags, fc);
                }
                local_flags = nl;
                status_flags = r->flags;
            }
        }
    } else if (!r && in_status && !l) {
        /* Nothing to change on either side; the row is just stale. */
        VEC_PUSH(p->status_drop, s->uid);
        in_status = false;
    }

    /* Pass 2: local to remote, unless the remote side is read-only. */
    if (o->remote_readonly)
        return;
    if (local_present && l && !in_status) {
        VEC_PUSH(p->upload, *l);
        return;
    }
    if (r && in_status && !local_present) {
        if (o->local_sync_deletes)
            VEC_PUSH(p->remote_delete, *r);
        return;
    }
    if (r && in_status && local_present) {
        flagset_t add = local_flags & ~status_flags;
        flagset_t del = status_flags & ~local_flags;
        if (add | del) {
            struct sync_flag_change fc = {*r, add, del, local_flags};
            VEC_PUSH(p->remote_flags, fc);
        }
    }
}

void sync_plan_build(const struct store_msg_list *remote, const struct store_msg_list *local,
                     const struct sync_status_entry *status, size_t n_status,
                     const struct sync_plan_opts *opts, struct sync_plan *plan)
{
    memset(plan, 0, sizeof(*plan));
    size_t ir = 0, il = 0, is = 0;
    /* Merge the three lists on uid; local messages without a uid come last. */
    for (;;) {
        uint64_t ur = ir < remote->n ? remote->v[ir].uid : UINT64_MAX;
        uint64_t ul = il < local->n && local->v[il].uid ? local->v[il].uid : UINT64_MAX;
        uint64_t us = is < n_status ? status[is].uid : UINT64_MAX;
        uint64_t u = ur < ul ? ur : ul;
        if (us < u)
            u = us;
        if (u == UINT64_MAX)
            break;
        const struct store_msg *r = ur == u ? &remote->v[ir++] : NULL;
        const struct store_msg *l = ul == u ? &local->v[il++] : NULL;
        const struct sync_status_entry *s = us == u ? &status[is++] : NULL;
        plan_one(r, l, s, opts, plan);
    }
    /* New local messages (no uid yet) are uploads. */
    for (; il < local->n; il++)
        if (!opts->remote_readonly)
            VEC_PUSH(plan->upload, local->v[il]);
}

void sync_plan_free(struct sync_plan *p)
{
    free(p->download.v);
    free(p->status_add.v);
    free(p->local_delete.v);
    free(p->status_drop.v);
    free(p->local_flags.v);
    free(p->upload.v);
    free(p->remote_delete.v);
    free(p->remote_flags.v);
    memset(p, 0, sizeof(*p));
}

bool sync_plan_empty(const struct sync_plan *p)
{
    return !p->download.n && !p->status_add.n && !p->local_delete.n && !p->status_drop.n &&
           !p->local_flags.n && !p->upload.n && !p->remote_delete.n && !p->remote_flags.n;
}
