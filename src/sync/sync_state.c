#include "sync/sync_state.h"

#include "base/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_REMOTE "remote"
#define KEY_LOCAL "local"

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
    if (!status_db_state_get(db, KEY_LOCAL, &st->local_stamp, e)) {
        sync_state_release(st);
        return false;
    }
    return true;
}

bool sync_state_save(struct status_db *db, const struct sync_state *st, struct err *e)
{
    bool ok = true;
    if (st->have_remote) {
        char text[96];
        snprintf(text, sizeof(text), "%u %u %u %llu", st->remote.uidvalidity,
                 st->remote.uidnext, st->remote.messages,
                 (unsigned long long)st->remote.highestmodseq);
        ok = status_db_state_set(db, KEY_REMOTE, text, e);
    } else {
        ok = status_db_state_del(db, KEY_REMOTE, e);
    }
    if (ok)
        ok = st->local_stamp ? status_db_state_set(db, KEY_LOCAL, st->local_stamp, e)
                             : status_db_state_del(db, KEY_LOCAL, e);
    return ok;
}

bool sync_state_clear(struct status_db *db, struct err *e)
{
    return status_db_state_del(db, KEY_REMOTE, e) && status_db_state_del(db, KEY_LOCAL, e);
}

void sync_state_release(struct sync_state *st)
{
    free(st->local_stamp);
    memset(st, 0, sizeof(*st));
}
