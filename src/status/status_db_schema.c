#include "status/status_db_priv.h"

#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* offlineimap3's __create_db() script, statement for statement. */
static const char schema_sql[] =
    "CREATE TABLE metadata (key VARCHAR(50) PRIMARY KEY, value VARCHAR(128));\n"
    "INSERT INTO metadata VALUES('db_version', '2');\n"
    "CREATE TABLE status (id INTEGER PRIMARY KEY, flags VARCHAR(50), mtime INTEGER, labels "
    "VARCHAR(256));\n";

int sdb_schema_read(struct status_db *db, struct sdb_schema_info *si)
{
    memset(si, 0, sizeof(*si));
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db->h, "SELECT type, name FROM sqlite_master", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        si->objects++;
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (!type || !name || strcmp(type, "table") != 0)
            continue;
        if (strcmp(name, "metadata") == 0)
            si->metadata = true;
        else if (strcmp(name, "status") == 0)
            si->status = true;
        else if (strcmp(name, "oimapc_state") == 0)
            si->state = true;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void not_a_status_db(struct status_db *db, struct err *e, const char *why)
{
    err_set(e, ERR_FOLDER, ERRK_GENERIC,
            "The status cache %s is not a usable offlineimap status database (%s). Move it "
            "away (for example rename it to %s.broken) and run again: the folder then starts "
            "with an empty status, as on a first sync. Nothing was changed or deleted.",
            db->path, why, db->path);
}

bool sdb_open_error(struct status_db *db, struct err *e, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOTADB:
        not_a_status_db(db, e, "the file is not an SQLite database");
        return false;
    case SQLITE_CORRUPT:
        not_a_status_db(db, e, "the database is damaged");
        return false;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
        err_set(e, ERR_FOLDER, sdb_kind_of(rc),
                "Cannot open the status database file '%s': %s. You might want to check the "
                "rights to that file and if it cleanly opens with the 'sqlite3' command.",
                db->path, sdb_errmsg(db, rc));
        return false;
    default:
        sdb_error(db, e, rc, "read the schema");
        return false;
    }
}

/* The db_version value, or -1 with e set. */
static long read_version(struct status_db *db, struct err *e)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db->h, "SELECT value FROM metadata WHERE key='db_version'", -1, &st,
                                NULL);
    if (rc != SQLITE_OK) {
        sdb_open_error(db, e, rc);
        return -1;
    }
    rc = sqlite3_step(st);
    long version = -1;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        char *text = xstrdup(v ? v : "");
        char *t = str_trim(text); /* Python's int() allows surrounding blanks */
        int64_t n;
        if (str_to_i64(t, strlen(t), &n) && n >= -1000 && n <= 1000000)
            version = (long)n;
        else
            not_a_status_db(db, e, "its db_version is not a number");
        free(text);
    } else if (rc == SQLITE_DONE) {
        not_a_status_db(db, e, "its metadata table has no db_version");
    } else {
        sdb_open_error(db, e, rc);
    }
    sqlite3_finalize(st);
    return version;
}

static bool has_column(struct status_db *db, const char *col, bool *has_r, struct err *e)
{
    sqlite3_stmt *st;
    int rc =
        sqlite3_prepare_v2(db->h, "SELECT name FROM pragma_table_info('status')", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sdb_error(db, e, rc, "read the status table's columns");
        return false;
    }
    *has_r = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (name && strcmp(name, col) == 0)
            *has_r = true;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        sdb_error(db, e, rc, "read the status table's columns");
        return false;
    }
    return true;
}

/*
 * offlineimap's __upgrade_db() from version 1: the same statements, so that
 * sqlite_master ends up with the same text, but in one transaction, and
 * skipping a column an interrupted upgrade already added.
 */
static bool upgrade_v1(struct status_db *db, struct err *e)
{
    static const struct {
        const char *col, *sql;
    } steps[] = {
        {"mtime", "ALTER TABLE status ADD mtime INTEGER DEFAULT 0"},
        {"labels", "ALTER TABLE status ADD labels VARCHAR(256) DEFAULT ''"},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        bool has;
        if (!has_column(db, steps[i].col, &has, e))
            return false;
        int rc = has ? SQLITE_OK : sdb_exec(db, steps[i].sql);
        if (rc != SQLITE_OK) {
            sdb_error(db, e, rc, "upgrade the database from version 1 to version 2");
            return false;
        }
    }
    int rc = sdb_exec(db, "UPDATE metadata SET value='2' WHERE key='db_version'");
    if (rc != SQLITE_OK) {
        sdb_error(db, e, rc, "upgrade the database from version 1 to version 2");
        return false;
    }
    return true;
}

/* Make the schema current; runs under BEGIN IMMEDIATE when it must write. */
bool sdb_ensure_schema(struct status_db *db, struct err *e)
{
    for (int pass = 0;; pass++) {
        struct sdb_schema_info si;
        int rc = sdb_schema_read(db, &si);
        if (rc != SQLITE_OK)
            return sdb_open_error(db, e, rc);
        db->state_table = si.state;
        long version = 0;
        if (si.metadata) {
            if ((version = read_version(db, e)) < 0 && err_isset(e))
                return false;
            if (version == STATUS_DB_VERSION) {
                if (!si.status) {
                    not_a_status_db(db, e, "it has no status table");
                    return false;
                }
                return true;
            }
            if (version > STATUS_DB_VERSION) {
                err_set(e, ERR_FOLDER, ERRK_GENERIC,
                        "The status database %s has version %ld, newer than the version %d this "
                        "program knows; it was not changed.",
                        db->path, version, STATUS_DB_VERSION);
                return false;
            }
            if (!si.status) {
                not_a_status_db(db, e, "it has no status table");
                return false;
            }
        } else if (si.objects > 0) {
            not_a_status_db(db, e, "the database has no metadata table");
            return false;
        }
        if (pass > 0) {
            /* We just wrote it under the write lock: it cannot still be old. */
            err_set(e, ERR_FOLDER, ERRK_GENERIC,
                    "Status database %s: the schema is still not current after an update.",
                    db->path);
            return false;
        }
        /*
         * A new (empty) file or an old version.  Take the write lock and look
         * again: another process may have done the work meanwhile.
         */
        if (!status_db_begin(db, e))
            return false;
        if ((rc = sdb_schema_read(db, &si)) != SQLITE_OK) {
            status_db_rollback(db);
            return sdb_open_error(db, e, rc);
        }
        bool ok = true;
        if (si.objects == 0) {
            rc = sdb_exec(db, schema_sql);
            if (rc != SQLITE_OK)
                ok = sdb_write_failed(db, e, rc, "create the schema", 0);
            else
                db->created = true;
        } else if (si.metadata && si.status) {
            version = read_version(db, e);
            if (version < 0 && err_isset(e))
                ok = false;
            else if (version < STATUS_DB_VERSION) {
                ok = upgrade_v1(db, e);
                if (ok)
                    db->upgraded_from = version < 1 ? 1 : (int)version;
            }
        }
        if (!ok) {
            status_db_rollback(db);
            db->created = false;
            db->upgraded_from = 0;
            return false;
        }
        if (!status_db_commit(db, e))
            return false;
        if (db->created)
            log_debug(LOGC_SYNC, "created status database %s", db->path);
        else if (db->upgraded_from)
            log_debug(LOGC_SYNC, "upgraded status database %s from version %d", db->path,
                      db->upgraded_from);
    }
}
