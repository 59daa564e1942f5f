#include "status/status_db_priv.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool state_table_exists(struct status_db *db, bool *exists_r, struct err *e)
{
    if (db->state_table < 0) {
        struct sdb_schema_info si;
        int rc = sdb_schema_read(db, &si);
        if (rc != SQLITE_OK) {
            sdb_error(db, e, rc, "read the schema");
            return false;
        }
        db->state_table = si.state;
    }
    *exists_r = db->state_table == 1;
    return true;
}

static bool state_key_check(struct status_db *db, const char *key, const char *value, struct err *e)
{
    if (*key == '\0' || strlen(key) > STATUS_DB_STATE_MAX ||
        (value && strlen(value) > STATUS_DB_STATE_MAX)) {
        err_set(e, ERR_CRITICAL, ERRK_GENERIC,
                "Status database %s: state key \"%.40s\" or its value is empty or too long "
                "(internal error).",
                db->path, key);
        return false;
    }
    return true;
}

bool status_db_state_get(struct status_db *db, const char *key, char **value_r, struct err *e)
{
    *value_r = NULL;
    bool exists;
    if (!state_key_check(db, key, NULL, e) || !state_table_exists(db, &exists, e))
        return false;
    if (!exists)
        return true;
    sqlite3_stmt *st;
    if (!sdb_stmt(db, SDB_ST_STATE_GET, &st, e))
        return false;
    sdb_bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        if (v && len > STATUS_DB_STATE_MAX) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            err_set(e, ERR_FOLDER, ERRK_GENERIC,
                    "Status database %s: the saved %s is longer than %d bytes; it was not "
                    "written by this program.",
                    db->path, key, STATUS_DB_STATE_MAX);
            return false;
        }
        if (v)
            *value_r = xstrndup(v, (size_t)len);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        sdb_error(db, e, rc, "read the saved state");
        return false;
    }
    return true;
}

bool status_db_state_set(struct status_db *db, const char *key, const char *value, struct err *e)
{
    bool exists, own;
    if (!state_key_check(db, key, value, e) || !sdb_write_begin(db, &own, e))
        return false;
    bool ok = state_table_exists(db, &exists, e);
    if (ok && !exists) {
        int rc = sdb_exec(db, "CREATE TABLE IF NOT EXISTS oimapc_state "
                              "(key TEXT PRIMARY KEY, value TEXT)");
        if (rc != SQLITE_OK)
            ok = sdb_write_failed(db, e, rc, "create the state table", 0);
        else
            db->state_table = 1;
    }
    sqlite3_stmt *st;
    if (ok && (ok = sdb_stmt(db, SDB_ST_STATE_SET, &st, e))) {
        sdb_bind_text(st, 1, key);
        sdb_bind_text(st, 2, value);
        int rc = sdb_step_done(st);
        if (rc != SQLITE_OK)
            ok = sdb_write_failed(db, e, rc, "save the state", 0);
    }
    return sdb_write_end(db, own, ok, e);
}

bool status_db_state_del(struct status_db *db, const char *key, struct err *e)
{
    bool exists, own;
    if (!state_key_check(db, key, NULL, e) || !state_table_exists(db, &exists, e))
        return false;
    if (!exists)
        return true;
    if (!sdb_write_begin(db, &own, e))
        return false;
    sqlite3_stmt *st;
    bool ok = sdb_stmt(db, SDB_ST_STATE_DEL, &st, e);
    if (ok) {
        sdb_bind_text(st, 1, key);
        int rc = sdb_step_done(st);
        if (rc != SQLITE_OK)
            ok = sdb_write_failed(db, e, rc, "delete the state", 0);
    }
    return sdb_write_end(db, own, ok, e);
}

bool status_db_state_get_u64(struct status_db *db, const char *key, uint64_t def, uint64_t *value_r,
                             struct err *e)
{
    char *v;
    if (!status_db_state_get(db, key, &v, e))
        return false;
    *value_r = def;
    bool ok = true;
    if (v && !str_to_u64(v, strlen(v), value_r)) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC,
                "Status database %s: the saved %s \"%.40s\" is not a number.", db->path, key, v);
        ok = false;
    }
    free(v);
    return ok;
}

bool status_db_state_set_u64(struct status_db *db, const char *key, uint64_t value, struct err *e)
{
    char text[32];
    snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
    return status_db_state_set(db, key, text, e);
}

bool status_db_state_list(struct status_db *db, const char *prefix, struct strvec *keys_r,
                          struct strvec *values_r, struct err *e)
{
    bool exists;
    if (!state_table_exists(db, &exists, e))
        return false;
    if (!exists)
        return true;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db->h,
                                "SELECT key, value FROM oimapc_state WHERE substr(key, 1, ?) = ? "
                                "ORDER BY key",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sdb_error(db, e, rc, "list the saved state");
        return false;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)strlen(prefix));
    sdb_bind_text(st, 2, prefix);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        if (!k || strlen(k) > STATUS_DB_STATE_MAX || (v && strlen(v) > STATUS_DB_STATE_MAX))
            continue;
        strvec_push(keys_r, k);
        strvec_push(values_r, v ? v : "");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        sdb_error(db, e, rc, "list the saved state");
        return false;
    }
    return true;
}
