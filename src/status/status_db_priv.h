/*
 * status_db_priv: what the status_db_*.c files share; not for other modules.
 */
#ifndef STATUS_DB_PRIV_H
#define STATUS_DB_PRIV_H

#include "status/status_db.h"

#include "status/sqlite_dl.h"

enum sdb_stmt_id {
    SDB_ST_BEGIN,
    SDB_ST_COMMIT,
    SDB_ST_ROLLBACK,
    SDB_ST_PUT,
    SDB_ST_FLAGS,
    SDB_ST_LABELS,
    SDB_ST_LABELS_MTIME,
    SDB_ST_DELETE,
    SDB_ST_STATE_GET,
    SDB_ST_STATE_SET,
    SDB_ST_STATE_DEL,
    SDB_ST_COUNT,
};

struct status_db {
    sqlite3 *h;
    char *path;
    sqlite3_stmt *st[SDB_ST_COUNT]; /* prepared on first use */
    bool in_txn;
    bool created;
    int upgraded_from;
    int state_table; /* -1 unknown, 0 absent, 1 present */
};

/* What sqlite_master holds, as far as we care. */
struct sdb_schema_info {
    int objects; /* rows in sqlite_master */
    bool metadata, status, state;
};

enum err_kind sdb_kind_of(int rc);
/* The connection's message for the last failure, else the code's text. */
const char *sdb_errmsg(struct status_db *db, int rc);
/* ERR_FOLDER "Status database <path>: cannot <what>: <sqlite message>." */
void sdb_error(struct status_db *db, struct err *e, int rc, const char *what);
/* The prepared statement id, prepared on first use. */
bool sdb_stmt(struct status_db *db, enum sdb_stmt_id id, sqlite3_stmt **st_r, struct err *e);
/* Step a statement that returns no row, reset it; SQLITE_OK or the error. */
int sdb_step_done(sqlite3_stmt *st);
int sdb_exec(struct status_db *db, const char *sql);
bool sdb_bind_text(sqlite3_stmt *st, int i, const char *s);
/*
 * A write runs in the caller's transaction or, when there is none, in its
 * own (*own_r); sdb_write_end() commits its own, and on failure (ok false)
 * rolls back whichever was open.
 */
bool sdb_write_begin(struct status_db *db, bool *own_r, struct err *e);
bool sdb_write_end(struct status_db *db, bool own, bool ok, struct err *e);
/* sdb_error() about uid (0: none); returns false. */
bool sdb_write_failed(struct status_db *db, struct err *e, int rc, const char *what, uint32_t uid);

int sdb_schema_read(struct status_db *db, struct sdb_schema_info *si);
/* The error for a failure while reading the file's schema; returns false. */
bool sdb_open_error(struct status_db *db, struct err *e, int rc);
/* Create or upgrade the schema as needed. */
bool sdb_ensure_schema(struct status_db *db, struct err *e);

#endif
