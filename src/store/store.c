#include "store/store.h"

#include "base/xalloc.h"

#include <stdlib.h>

void store_folder_list_free(struct store_folder_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].name);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

void store_msg_list_push(struct store_msg_list *l, const struct store_msg *m)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    l->v[l->n++] = *m;
}

void store_msg_list_free(struct store_msg_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int cmp_msg(const void *a, const void *b)
{
    const struct store_msg *x = a, *y = b;
    /* uid 0 sorts last. */
    uint64_t ux = x->uid ? x->uid : UINT64_MAX, uy = y->uid ? y->uid : UINT64_MAX;
    if (ux != uy)
        return ux < uy ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

void store_msg_list_sort(struct store_msg_list *l)
{
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), cmp_msg);
}

const struct store_msg *store_msg_list_find(const struct store_msg_list *l, uint32_t uid)
{
    if (uid == 0)
        return NULL;
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t u = l->v[mid].uid;
        if (u == uid)
            return &l->v[mid];
        if (u == 0 || u > uid)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const struct store_uidflags *store_uidflags_find(const struct store_uidflags *v, size_t n,
                                                 uint32_t uid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].uid == uid)
            return &v[mid];
        if (v[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void store_msg_info_release(struct store_msg_info *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].message_id);
        v[i].message_id = NULL;
    }
}

void store_changes_free(struct store_changes *c)
{
    store_msg_list_free(&c->changed);
    uidvec_free(&c->vanished);
    uidvec_free(&c->all);
    c->have_vanished = c->have_all = false;
}
