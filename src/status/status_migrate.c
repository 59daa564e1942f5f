#include "status/status_migrate.h"

#include "base/log.h"
#include "status/status_plain.h"
#include "status/status_rows.h"

#include <stdlib.h>

/*
 * Remember that the import must be tried again.  The original error is what
 * the user needs to see; a failure to remember is only logged.
 */
static void mark_pending(struct status_db *db, const char *plain_path)
{
    struct err se = ERR_INIT;
    if (!status_db_state_set(db, STATUS_MIGRATE_PENDING_KEY, plain_path, &se))
        log_warn("%s", se.msg);
    err_clear(&se);
}

/* True if the import is due: a new database, or an earlier attempt failed. */
static bool import_due(struct status_db *db, bool *due_r, bool *pending_r, struct err *e)
{
    *pending_r = false;
    *due_r = status_db_created(db);
    if (*due_r)
        return true;
    char *v = NULL;
    if (!status_db_state_get(db, STATUS_MIGRATE_PENDING_KEY, &v, e))
        return false;
    *pending_r = *due_r = v != NULL;
    free(v);
    return true;
}

static bool import_rows(struct status_db *db, const struct status_rows *rows, bool pending,
                        struct err *e)
{
    if (!status_db_begin(db, e))
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < rows->n; i++) {
        const struct status_row *r = &rows->v[i];
        ok = status_db_put(db, r->uid, r->flags, r->mtime, r->labels, e);
    }
    if (ok && pending)
        ok = status_db_state_del(db, STATUS_MIGRATE_PENDING_KEY, e);
    if (ok)
        return status_db_commit(db, e);
    status_db_rollback(db);
    return false;
}

bool status_migrate_plain(struct status_db *db, const char *plain_path, size_t *rows_r,
                          struct err *e)
{
    *rows_r = 0;
    bool due, pending;
    if (!import_due(db, &due, &pending, e))
        return false;
    if (!due)
        return true;

    struct status_rows rows = STATUS_ROWS_INIT;
    bool ok = true, present = false;
    int format = 0;
    if (pending) {
        /*
         * A run that went on despite the failed import may have filled the
         * status since; its rows are newer than the plain file's.
         */
        ok = status_db_load(db, &rows, e);
        if (ok && rows.n > 0) {
            log_warn("Status database %s already holds %zu messages; the old plain status %s "
                     "is no longer imported.",
                     status_db_path(db), rows.n, plain_path);
            ok = status_db_state_del(db, STATUS_MIGRATE_PENDING_KEY, e);
            status_rows_free(&rows);
            return ok;
        }
    }
    if (ok && !status_plain_read(plain_path, &rows, &present, &format, e)) {
        err_prefix(e, "Cannot migrate the old LocalStatus cache to %s: ", status_db_path(db));
        err_set(e, ERR_FOLDER, e->kind,
                "%s Nothing was synced in this folder; repair or move away %s (the folder is "
                "then synced as new: nothing is lost, but messages may be copied twice).",
                e->msg, plain_path);
        ok = false;
    }
    if (ok && !present) {
        if (pending)
            ok = status_db_state_del(db, STATUS_MIGRATE_PENDING_KEY, e);
        status_rows_free(&rows);
        return ok;
    }
    if (ok) {
        log_info("Migrating LocalStatus cache from plain to sqlite status folder: %zu messages "
                 "from %s (FORMAT %d) into %s",
                 rows.n, plain_path, format, status_db_path(db));
        ok = import_rows(db, &rows, pending, e);
        if (ok)
            *rows_r = rows.n;
    }
    if (!ok)
        mark_pending(db, plain_path);
    status_rows_free(&rows);
    return ok;
}
