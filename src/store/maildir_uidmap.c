/*
 * maildir_uidmap: UID -> message index for an open Maildir folder.  Linear
 * probing with backward-shift deletion, so there are no tombstones and the
 * table never needs rebuilding after deletions.
 */
#include "store/maildir_priv.h"

#include "base/xalloc.h"

#include <stdint.h>
#include <stdlib.h>

static size_t slot_of(uint32_t uid, size_t cap)
{
    return (size_t)((uid * 2654435761u) & (uint32_t)(cap - 1));
}

void maildir_uidmap_free(struct maildir_uidmap *m)
{
    free(m->uid);
    free(m->idx);
    m->uid = NULL;
    m->idx = NULL;
    m->cap = m->count = 0;
}

size_t maildir_uidmap_get(const struct maildir_uidmap *m, uint32_t uid)
{
    if (uid == 0 || m->cap == 0)
        return SIZE_MAX;
    for (size_t i = slot_of(uid, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->uid[i] == uid)
            return m->idx[i];
        if (m->uid[i] == 0)
            return SIZE_MAX;
    }
}

static void insert(struct maildir_uidmap *m, uint32_t uid, uint32_t idx)
{
    size_t i = slot_of(uid, m->cap);
    while (m->uid[i] != 0 && m->uid[i] != uid)
        i = (i + 1) & (m->cap - 1);
    if (m->uid[i] == 0)
        m->count++;
    m->uid[i] = uid;
    m->idx[i] = idx;
}

void maildir_uidmap_put(struct maildir_uidmap *m, uint32_t uid, size_t idx)
{
    if (uid == 0)
        return;
    if ((m->count + 1) * 2 > m->cap) {
        struct maildir_uidmap old = *m;
        m->cap = old.cap ? old.cap * 2 : 256;
        m->uid = xcalloc(m->cap, sizeof(*m->uid));
        m->idx = xcalloc(m->cap, sizeof(*m->idx));
        m->count = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.uid[i])
                insert(m, old.uid[i], old.idx[i]);
        maildir_uidmap_free(&old);
    }
    insert(m, uid, (uint32_t)idx);
}

void maildir_uidmap_del(struct maildir_uidmap *m, uint32_t uid)
{
    if (uid == 0 || m->cap == 0)
        return;
    size_t mask = m->cap - 1, i = slot_of(uid, m->cap);
    while (m->uid[i] != uid) {
        if (m->uid[i] == 0)
            return;
        i = (i + 1) & mask;
    }
    /* Shift later members of the probe run back into the hole. */
    size_t hole = i;
    for (size_t j = (hole + 1) & mask; m->uid[j] != 0; j = (j + 1) & mask) {
        size_t home = slot_of(m->uid[j], m->cap);
        /* j may move to hole if its home is not in (hole, j] cyclically. */
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            m->uid[hole] = m->uid[j];
            m->idx[hole] = m->idx[j];
            hole = j;
        }
    }
    m->uid[hole] = 0;
    m->count--;
}
