#include "sync/sync_state.h"

#include "base/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_REMOTE "remote"
#define KEY_LOCAL "local"
#define KEY_SELECT "select"

bool sync_state_load(struct status_db *db, struct sync_state *st, struct err *e)
{
    memset(st, 0, sizeof(*st));
    char *remote = NULL;
    if (!status_db_state_get(db, KEY_REMOTE, &remote, e))
        return false;
    if (remote) {
        unsigned uv, next, msgs;
        unsigned long long modseq;
        char extra;
        if (sscanf(remote, "%u %u %u %llu%c", &uv, &next, &msgs, &modseq, &extra) == 4) {
            st->have_remote = true;
            st->remote.uidvalidity = uv;
            st->remote.uidnext = next;
            st->remote.messages = msgs;
            st->remote.highestmodseq = modseq;
        }
        free(remote);
    }
    if (!status_db_state_get(db, KEY_LOCAL, &st->local_stamp, e) ||
        !status_db_state_get(db, KEY_SELECT, &st->select, e)) {
        sync_state_release(st);
        return false;
    }
    return true;
}

static void remote_text(const struct sync_state *st, char *text, size_t len)
{
    snprintf(text, len, "%u %u %u %llu", st->remote.uidvalidity, st->remote.uidnext,
             st->remote.messages, (unsigned long long)st->remote.highestmodseq);
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

bool sync_state_save(struct status_db *db, const struct sync_state *st,
                     const struct sync_state *old, struct err *e)
{
    char text[96], was[96];
    if (st->have_remote)
        remote_text(st, text, sizeof(text));
    if (old && old->have_remote)
        remote_text(old, was, sizeof(was));
    /* Unchanged keys are not written: a write costs a commit and its syncs. */
    bool remote_same = old && st->have_remote == old->have_remote &&
                       (!st->have_remote || !strcmp(text, was));
    bool ok = true;
    if (!remote_same)
        ok = st->have_remote ? status_db_state_set(db, KEY_REMOTE, text, e)
                             : status_db_state_del(db, KEY_REMOTE, e);
    if (ok && !(old && same_text(st->local_stamp, old->local_stamp)))
        ok = st->local_stamp ? status_db_state_set(db, KEY_LOCAL, st->local_stamp, e)
                             : status_db_state_del(db, KEY_LOCAL, e);
    if (ok && !(old && same_text(st->select, old->select)))
        ok = st->select ? status_db_state_set(db, KEY_SELECT, st->select, e)
                        : status_db_state_del(db, KEY_SELECT, e);
    return ok;
}

bool sync_state_clear(struct status_db *db, const struct sync_state *old, struct err *e)
{
    struct sync_state none = {0};
    return sync_state_save(db, &none, old, e);
}

void sync_state_release(struct sync_state *st)
{
    free(st->local_stamp);
    free(st->select);
    memset(st, 0, sizeof(*st));
}
