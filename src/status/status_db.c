#include "status/status_db_priv.h"

#include "base/fsutil.h"
#include "base/log.h"
#include "base/prof.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const stmt_sql[SDB_ST_COUNT] = {
    [SDB_ST_BEGIN] = "BEGIN IMMEDIATE",
    [SDB_ST_COMMIT] = "COMMIT",
    [SDB_ST_ROLLBACK] = "ROLLBACK",
    [SDB_ST_PUT] = "INSERT OR REPLACE INTO status (id,flags,mtime,labels) VALUES (?,?,?,?)",
    [SDB_ST_FLAGS] = "UPDATE status SET flags=? WHERE id=?",
    [SDB_ST_LABELS] = "UPDATE status SET labels=? WHERE id=?",
    [SDB_ST_LABELS_MTIME] = "UPDATE status SET labels=?, mtime=? WHERE id=?",
    [SDB_ST_DELETE] = "DELETE FROM status WHERE id=?",
    [SDB_ST_STATE_GET] = "SELECT value FROM oimapc_state WHERE key=?",
    [SDB_ST_STATE_SET] = "INSERT OR REPLACE INTO oimapc_state (key,value) VALUES (?,?)",
    [SDB_ST_STATE_DEL] = "DELETE FROM oimapc_state WHERE key=?",
};

enum err_kind sdb_kind_of(int rc)
{
    return (rc & 0xff) == SQLITE_FULL ? ERRK_NOSPACE : ERRK_GENERIC;
}

const char *sdb_errmsg(struct status_db *db, int rc)
{
    /* After a failed step the connection's message is the precise one. */
    const char *m = sqlite3_errmsg(db->h);
    return m && strcmp(m, "not an error") != 0 ? m : sqlite3_errstr(rc);
}

void sdb_error(struct status_db *db, struct err *e, int rc, const char *what)
{
    err_set(e, ERR_FOLDER, sdb_kind_of(rc), "Status database %s: cannot %s: %s.", db->path, what,
            sdb_errmsg(db, rc));
}

bool sdb_stmt(struct status_db *db, enum sdb_stmt_id id, sqlite3_stmt **st_r, struct err *e)
{
    if (!db->st[id]) {
        int rc = sqlite3_prepare_v3(db->h, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &db->st[id],
                                    NULL);
        if (rc != SQLITE_OK) {
            sdb_error(db, e, rc, "prepare a statement");
            return false;
        }
    }
    *st_r = db->st[id];
    return true;
}

/* Step a statement that returns no row, then reset it for reuse. */
int sdb_step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Run SQL text that returns no rows (schema work, pragmas). */
int sdb_exec(struct status_db *db, const char *sql)
{
    return sqlite3_exec(db->h, sql, NULL, NULL, NULL);
}

void status_db_rollback(struct status_db *db)
{
    if (!sqlite3_get_autocommit(db->h)) {
        sqlite3_stmt *st;
        struct err ignored = ERR_INIT;
        if (sdb_stmt(db, SDB_ST_ROLLBACK, &st, &ignored))
            sdb_step_done(st);
        else
            sdb_exec(db, "ROLLBACK");
        err_clear(&ignored);
    }
    db->in_txn = false;
    db->state_table = -1; /* a CREATE TABLE may have been undone */
}

bool status_db_begin(struct status_db *db, struct err *e)
{
    if (db->in_txn) {
        err_set(e, ERR_CRITICAL, ERRK_GENERIC,
                "Status database %s: a transaction is already open (internal error).", db->path);
        return false;
    }
    sqlite3_stmt *st;
    if (!sdb_stmt(db, SDB_ST_BEGIN, &st, e))
        return false;
    int rc = sdb_step_done(st);
    if (rc != SQLITE_OK) {
        sdb_error(db, e, rc, "begin a transaction");
        return false;
    }
    db->in_txn = true;
    return true;
}

bool status_db_commit(struct status_db *db, struct err *e)
{
    if (!db->in_txn) {
        err_set(e, ERR_CRITICAL, ERRK_GENERIC,
                "Status database %s: commit without a transaction (internal error).", db->path);
        return false;
    }
    sqlite3_stmt *st;
    if (!sdb_stmt(db, SDB_ST_COMMIT, &st, e)) {
        status_db_rollback(db);
        return false;
    }
    struct prof_mark pm;
    prof_begin(&pm);
    int rc = sdb_step_done(st);
    prof_end(&pm, "status", "commit", 0);
    if (rc != SQLITE_OK) {
        char *msg = xstrdup(sdb_errmsg(db, rc));
        status_db_rollback(db);
        err_set(e, ERR_FOLDER, sdb_kind_of(rc),
                "Status database %s: cannot commit: %s; the changes of this transaction were "
                "not recorded.",
                db->path, msg);
        free(msg);
        return false;
    }
    db->in_txn = false;
    return true;
}

bool status_db_in_transaction(const struct status_db *db)
{
    return db->in_txn;
}

/*
 * Every write runs inside BEGIN IMMEDIATE: taking the write lock up front
 * lets the busy timeout wait for another writer instead of failing at once
 * on a lock upgrade.  A write outside the caller's transaction gets its own.
 */
bool sdb_write_begin(struct status_db *db, bool *own_r, struct err *e)
{
    *own_r = !db->in_txn;
    return *own_r ? status_db_begin(db, e) : true;
}

bool sdb_write_end(struct status_db *db, bool own, bool ok, struct err *e)
{
    if (!ok) {
        bool was_caller_txn = !own && db->in_txn;
        status_db_rollback(db);
        if (was_caller_txn && e->msg)
            err_set(e, e->scope, e->kind,
                    "%s The transaction was rolled back: none of its changes were recorded.",
                    e->msg);
        return false;
    }
    return own ? status_db_commit(db, e) : true;
}

bool sdb_write_failed(struct status_db *db, struct err *e, int rc, const char *what, uint32_t uid)
{
    char *w = uid ? xasprintf("%s UID %u", what, (unsigned)uid) : xstrdup(what);
    sdb_error(db, e, rc, w);
    free(w);
    return false;
}

static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    return slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

/*
 * Before the library's first use: no lookaside (100 slots of 1200 bytes
 * written through at every open) and no bulk page allocation (20 pages set up
 * at the first read), about 200 kB of memory touched per open database for
 * nothing: our statements are few and the databases small.  A program that
 * initialised SQLite before us keeps its own settings (SQLITE_MISUSE, ignored).
 */
static void sqlite_setup(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
    (void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

bool status_db_open(const char *path, struct status_db **db_r, struct err *e)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    *db_r = NULL;
    if (!sqlite_dl_load(e))
        return false;
    pthread_once(&once, sqlite_setup);
    if (!sqlite3_threadsafe()) {
        err_set(e, ERR_CRITICAL, ERRK_GENERIC,
                "The SQLite library was built without thread support; it cannot be used.");
        return false;
    }
    char *dir = parent_dir(path);
    bool ok = fs_mkdir_p(dir, 0700, e);
    free(dir);
    if (!ok)
        return false;
    if (fs_is_dir(path)) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC,
                "The status cache %s is a directory, not a database file. Move it away and run "
                "again.",
                path);
        return false;
    }

    struct status_db *db = xcalloc(1, sizeof(*db));
    db->path = xstrdup(path);
    db->state_table = -1;
    int rc = sqlite3_open_v2(
        path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK || !db->h) {
        if (!db->h)
            abort(); /* SQLite could not even allocate the handle: out of memory */
        sdb_open_error(db, e, rc == SQLITE_OK ? SQLITE_CANTOPEN : rc);
        status_db_close(&db);
        return false;
    }
    sqlite3_extended_result_codes(db->h, 1);
    sqlite3_busy_timeout(db->h, STATUS_DB_BUSY_MS);
    /* The file comes from disk: keep its schema from doing anything clever. */
    sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    /*
     * EXTRA: in rollback-journal mode the commit point is the journal's
     * unlink, which only EXTRA makes durable (it fsyncs the directory).
     */
    rc = sdb_exec(db, "PRAGMA synchronous=EXTRA");
    if (rc != SQLITE_OK) {
        sdb_open_error(db, e, rc); /* it reads the file: a non-database fails here */
        rc = -1;
    }
    if (rc == SQLITE_OK && sqlite3_db_readonly(db->h, "main") == 1) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC,
                "The status database %s is read-only; check the rights to that file.", path);
        rc = -1;
    }
    if (rc == SQLITE_OK && !sdb_ensure_schema(db, e))
        rc = -1;
    if (rc == SQLITE_OK) {
        /* offlineimap3's mode; turns back a database someone switched to WAL. */
        int jrc = sdb_exec(db, "PRAGMA journal_mode=DELETE");
        if (jrc != SQLITE_OK)
            log_debug(LOGC_SYNC, "%s: cannot set journal_mode=DELETE: %s", path,
                      sdb_errmsg(db, jrc));
    }
    if (rc != SQLITE_OK) {
        if (rc != -1)
            sdb_error(db, e, rc, "set it up");
        status_db_close(&db);
        return false;
    }
    *db_r = db;
    return true;
}

void status_db_close(struct status_db **dbp)
{
    struct status_db *db = *dbp;
    if (!db)
        return;
    if (db->h) {
        if (db->in_txn || !sqlite3_get_autocommit(db->h))
            status_db_rollback(db);
        for (size_t i = 0; i < SDB_ST_COUNT; i++)
            sqlite3_finalize(db->st[i]);
        sqlite3_close(db->h);
    }
    free(db->path);
    free(db);
    *dbp = NULL;
}

const char *status_db_path(const struct status_db *db)
{
    return db->path;
}

bool status_db_created(const struct status_db *db)
{
    return db->created;
}

int status_db_upgraded_from(const struct status_db *db)
{
    return db->upgraded_from;
}

/* ---- rows ---- */

/* The id and flags of the row st stands on (columns 0 and 1); false for an id no UID can be. */
static bool row_uid_flags(struct status_db *db, sqlite3_stmt *st, uint32_t *uid_r,
                          flagset_t *flags_r, struct err *e)
{
    sqlite3_int64 id = sqlite3_column_int64(st, 0);
    if (id < 1 || id > UINT32_MAX) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC,
                "The status database %s holds a row with UID %lld, which is not a valid IMAP "
                "UID; move the file away and run again.",
                db->path, (long long)id);
        return false;
    }
    const unsigned char *flags = sqlite3_column_text(st, 1);
    int flags_len = sqlite3_column_bytes(st, 1);
    *uid_r = (uint32_t)id;
    *flags_r = flags ? flags_from_letters((const char *)flags, (size_t)flags_len) : 0;
    return true;
}

/* The row st stands on (id, flags, mtime, labels), into rows. */
static bool push_row(struct status_db *db, sqlite3_stmt *st, struct status_rows *rows,
                     struct err *e)
{
    uint32_t uid;
    flagset_t flags;
    if (!row_uid_flags(db, st, &uid, &flags, e))
        return false;
    /* NULL mtime or labels: offlineimap's issue #103; read as none. */
    sqlite3_int64 mtime = sqlite3_column_int64(st, 2);
    const char *labels = (const char *)sqlite3_column_text(st, 3);
    status_rows_push(rows, uid, flags, mtime, labels);
    return true;
}

/* Every row the prepared st selects (id, flags, mtime, labels), into rows; st is reset. */
static bool step_rows(struct status_db *db, sqlite3_stmt *st, struct status_rows *rows,
                      struct err *e)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (!push_row(db, st, rows, e)) {
            sqlite3_reset(st);
            return false;
        }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sdb_error(db, e, rc, "read the status rows");
        return false;
    }
    return true;
}

static sqlite3_stmt *prepare_read(struct status_db *db, const char *sql, struct err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sdb_error(db, e, rc, "read the status rows");
        return NULL;
    }
    return st;
}

bool status_db_load(struct status_db *db, struct status_rows *rows, struct err *e)
{
    status_rows_clear(rows);
    sqlite3_stmt *st = prepare_read(db, "SELECT id,flags,mtime,labels FROM status ORDER BY id", e);
    bool ok = st && step_rows(db, st, rows, e);
    sqlite3_finalize(st);
    if (!ok) {
        status_rows_clear(rows);
        return false;
    }
    status_rows_sort(rows); /* already in order: this only checks */
    return true;
}

bool status_db_each_flags(struct status_db *db, status_flags_fn *fn, void *ctx, struct err *e)
{
    sqlite3_stmt *st = prepare_read(db, "SELECT id,flags FROM status ORDER BY id", e);
    if (!st)
        return false;
    int rc;
    bool ok = true;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint32_t uid;
        flagset_t flags;
        if (!row_uid_flags(db, st, &uid, &flags, e)) {
            ok = false;
            break;
        }
        fn(ctx, uid, flags);
    }
    if (ok && rc != SQLITE_DONE) {
        sdb_error(db, e, rc, "read the status rows");
        ok = false;
    }
    sqlite3_finalize(st);
    return ok;
}

bool status_db_load_some(struct status_db *db, const uint32_t *uids, size_t n,
                         struct status_rows *rows, size_t *total_r, struct err *e)
{
    status_rows_clear(rows);
    *total_r = 0;
    /* One read transaction for the count and the lookups (one lock, not one per UID). */
    bool own = sqlite3_get_autocommit(db->h) && sdb_exec(db, "BEGIN") == SQLITE_OK;
    sqlite3_stmt *st = prepare_read(db, "SELECT COUNT(*) FROM status", e);
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    bool ok = rc == SQLITE_ROW;
    if (ok)
        *total_r = (size_t)sqlite3_column_int64(st, 0);
    else if (st)
        sdb_error(db, e, rc, "count the status rows");
    sqlite3_finalize(st);
    st = ok ? prepare_read(db, "SELECT id,flags,mtime,labels FROM status WHERE id=?", e) : NULL;
    ok = st != NULL;
    for (size_t i = 0; i < n && ok; i++)
        if (uids[i])
            ok = sqlite3_bind_int64(st, 1, uids[i]) == SQLITE_OK && step_rows(db, st, rows, e);
    sqlite3_finalize(st);
    if (own)
        sdb_exec(db, ok ? "COMMIT" : "ROLLBACK");
    if (!ok) {
        if (!err_isset(e))
            sdb_error(db, e, SQLITE_ERROR, "read the status rows");
        status_rows_clear(rows);
        return false;
    }
    status_rows_sort(rows);
    return true;
}

bool sdb_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT) == SQLITE_OK;
}

bool status_db_put(struct status_db *db, uint32_t uid, flagset_t flags, int64_t mtime,
                   const char *labels, struct err *e)
{
    char letters[64];
    flags_to_letters(flags, letters);
    bool own;
    sqlite3_stmt *st;
    if (!sdb_write_begin(db, &own, e))
        return false;
    bool ok = sdb_stmt(db, SDB_ST_PUT, &st, e);
    if (ok) {
        sqlite3_bind_int64(st, 1, uid);
        sdb_bind_text(st, 2, letters);
        sqlite3_bind_int64(st, 3, mtime);
        sdb_bind_text(st, 4, labels);
        int rc = sdb_step_done(st);
        if (rc != SQLITE_OK)
            ok = sdb_write_failed(db, e, rc, "record", uid);
    }
    return sdb_write_end(db, own, ok, e);
}

bool status_db_set_flags(struct status_db *db, uint32_t uid, flagset_t flags, struct err *e)
{
    char letters[64];
    flags_to_letters(flags, letters);
    bool own;
    sqlite3_stmt *st;
    if (!sdb_write_begin(db, &own, e))
        return false;
    bool ok = sdb_stmt(db, SDB_ST_FLAGS, &st, e);
    if (ok) {
        sdb_bind_text(st, 1, letters);
        sqlite3_bind_int64(st, 2, uid);
        int rc = sdb_step_done(st);
        if (rc != SQLITE_OK)
            ok = sdb_write_failed(db, e, rc, "update the flags of", uid);
    }
    return sdb_write_end(db, own, ok, e);
}

bool status_db_set_labels(struct status_db *db, uint32_t uid, const char *labels, int64_t mtime,
                          struct err *e)
{
    bool own;
    sqlite3_stmt *st;
    if (!sdb_write_begin(db, &own, e))
        return false;
    bool ok = sdb_stmt(db, mtime ? SDB_ST_LABELS_MTIME : SDB_ST_LABELS, &st, e);
    if (ok) {
        int i = 1;
        sdb_bind_text(st, i++, labels);
        if (mtime)
            sqlite3_bind_int64(st, i++, mtime);
        sqlite3_bind_int64(st, i, uid);
        int rc = sdb_step_done(st);
        if (rc != SQLITE_OK)
            ok = sdb_write_failed(db, e, rc, "update the labels of", uid);
    }
    return sdb_write_end(db, own, ok, e);
}

static bool delete_in_txn(struct status_db *db, const uint32_t *uids, size_t n, struct err *e)
{
    sqlite3_stmt *st;
    if (!sdb_stmt(db, SDB_ST_DELETE, &st, e))
        return false;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, uids[i]);
        int rc = sdb_step_done(st);
        if (rc != SQLITE_OK)
            return sdb_write_failed(db, e, rc, "delete", uids[i]);
    }
    return true;
}

bool status_db_delete(struct status_db *db, uint32_t uid, struct err *e)
{
    return status_db_delete_many(db, &uid, 1, e);
}

bool status_db_delete_many(struct status_db *db, const uint32_t *uids, size_t n, struct err *e)
{
    if (n == 0)
        return true;
    bool own;
    if (!sdb_write_begin(db, &own, e))
        return false;
    return sdb_write_end(db, own, delete_in_txn(db, uids, n, e), e);
}

bool status_db_purge(const char *path, struct err *e)
{
    static const char *const suffixes[] = {"", "-journal", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char *p = xasprintf("%s%s", path, suffixes[i]);
        if (unlink(p) != 0 && errno != ENOENT) {
            err_set(e, ERR_FOLDER, errno == ENOSPC ? ERRK_NOSPACE : ERRK_GENERIC,
                    "Cannot remove the status database %s: %s.", p, strerror(errno));
            free(p);
            return false;
        }
        free(p);
    }
    return true;
}

bool status_db_has_messages(const char *path)
{
    struct err le = ERR_INIT;
    if (!sqlite_dl_load(&le)) {
        err_clear(&le);
        return true; /* cannot tell: counted, as for any error */
    }
    sqlite3 *h = NULL;
    /* Read-write, not created: a hot journal left by a killed run is rolled back first. */
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        sqlite3_close(h);
        return true;
    }
    sqlite3_busy_timeout(h, STATUS_DB_BUSY_MS);
    sqlite3_stmt *st = NULL;
    bool has = true;
    int rc = sqlite3_prepare_v2(h, "SELECT 1 FROM status LIMIT 1", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        has = rc != SQLITE_DONE; /* a row, or an error: counted */
    } else if (sqlite3_errmsg(h) && strstr(sqlite3_errmsg(h), "no such table")) {
        has = false; /* created, never written */
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return has;
}
