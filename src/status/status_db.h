/*
 * status_db: offlineimap3's SQLite status cache, one database per folder
 * (<metadata>/Account-<a>/LocalStatus-sqlite/<base>, see status_paths.h).
 *
 * The file format is offlineimap3's, byte for byte, so that a user can switch
 * between offlineimap3 and this program in either direction:
 *
 *   CREATE TABLE metadata (key VARCHAR(50) PRIMARY KEY, value VARCHAR(128));
 *   INSERT INTO metadata VALUES('db_version', '2');
 *   CREATE TABLE status (id INTEGER PRIMARY KEY, flags VARCHAR(50),
 *                        mtime INTEGER, labels VARCHAR(256));
 *
 * status.id is the remote UID, flags the sorted flag letters, labels the
 * ", "-joined sorted Gmail labels ('' when none), mtime 0 unless GmailMaildir
 * set it.  Opening a missing or empty file creates this schema; a version 1
 * database is upgraded to 2 as offlineimap does (two ALTER TABLEs), here in
 * one transaction.  A file that is not a database is never touched: the open
 * fails with ERR_FOLDER, naming the file and asking to move it away.
 *
 * Our own per-folder state, which offlineimap3 neither reads nor removes
 * (HIGHESTMODSEQ, UIDNEXT, ...), lives in an extra table
 * oimapc_state(key TEXT PRIMARY KEY, value TEXT), created by the first
 * status_db_state_set().  offlineimap3 keeps working on a database that has
 * it, and when offlineimap3 purges the database our state goes with it.
 *
 * Durability: the database stays in SQLite's default rollback-journal mode
 * (journal_mode=DELETE, what offlineimap3 uses; no -wal/-shm files, works
 * on network file systems) with synchronous=EXTRA, so a change is on disk
 * when the call that commits it returns: status_db_commit(), or any write
 * made outside status_db_begin()/status_db_commit() (each such write is its
 * own transaction).  A commit costs a few fsyncs, so batch many row changes
 * between begin and commit.  Uncommitted changes are lost on close.
 *
 * Threads: a struct status_db is one SQLite connection used by one thread at
 * a time (one connection per folder job).  Different folders may be used from
 * different threads at once.  Another process that holds the database
 * (offlineimap3 without its account lock, an sqlite3 shell) is waited for up
 * to STATUS_DB_BUSY_MS, then the call fails with ERR_FOLDER.
 *
 * Errors: ERR_FOLDER with the file name in the message; a full disk has kind
 * ERRK_NOSPACE.  A failed write inside a transaction rolls the whole
 * transaction back, and the error says so.
 */
#ifndef STATUS_DB_H
#define STATUS_DB_H

#include "base/err.h"
#include "base/strutil.h"
#include "status/status_rows.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATUS_DB_VERSION 2
#define STATUS_DB_BUSY_MS 60000
/* Longest key and value accepted by the state table. */
#define STATUS_DB_STATE_MAX 4096

struct status_db;

/*
 * Open (creating the directories with mode 0700 and the file if needed) and
 * make sure the schema is current.
 */
bool status_db_open(const char *path, struct status_db **db_r, struct err *e);
/* Roll back an unfinished transaction, close, set *db to NULL. */
void status_db_close(struct status_db **db);

const char *status_db_path(const struct status_db *db);
/* True if this open created the schema (offlineimap's "Creating new Local Status db"). */
bool status_db_created(const struct status_db *db);
/* The version found on disk if this open upgraded it, else 0. */
int status_db_upgraded_from(const struct status_db *db);

/* Read every row into rows (cleared first), sorted by uid. */
bool status_db_load(struct status_db *db, struct status_rows *rows, struct err *e);
/*
 * Only the rows of uids (those the status holds, sorted into rows) and, in
 * *total_r, how many rows the status holds in all: a check of a few changes
 * against a large status without reading every row.
 */
bool status_db_load_some(struct status_db *db, const uint32_t *uids, size_t n,
                         struct status_rows *rows, size_t *total_r, struct err *e);

/*
 * Each row's uid and flags to fn, in uid order; no time or labels read (a
 * large status compared with a folder without holding every row).
 */
typedef void status_flags_fn(void *ctx, uint32_t uid, flagset_t flags);
bool status_db_each_flags(struct status_db *db, status_flags_fn *fn, void *ctx, struct err *e);

/* Group writes into one durable commit; transactions do not nest. */
bool status_db_begin(struct status_db *db, struct err *e);
bool status_db_commit(struct status_db *db, struct err *e);
void status_db_rollback(struct status_db *db);
bool status_db_in_transaction(const struct status_db *db);

/* Insert the row, replacing any row with the same uid; labels may be NULL. */
bool status_db_put(struct status_db *db, uint32_t uid, flagset_t flags, int64_t mtime,
                   const char *labels, struct err *e);
/* Set the flags of an existing row (no row: nothing happens). */
bool status_db_set_flags(struct status_db *db, uint32_t uid, flagset_t flags, struct err *e);
/* Set the labels, and the mtime unless it is 0, as offlineimap's savemessagelabels(). */
bool status_db_set_labels(struct status_db *db, uint32_t uid, const char *labels, int64_t mtime,
                          struct err *e);
bool status_db_delete(struct status_db *db, uint32_t uid, struct err *e);
/* Delete n rows in one transaction (or in the caller's open transaction). */
bool status_db_delete_many(struct status_db *db, const uint32_t *uids, size_t n, struct err *e);

/*
 * Our own per-folder state.  get sets *value_r to a new string, or to NULL if
 * the key was never set.
 */
bool status_db_state_get(struct status_db *db, const char *key, char **value_r, struct err *e);
bool status_db_state_set(struct status_db *db, const char *key, const char *value, struct err *e);
bool status_db_state_del(struct status_db *db, const char *key, struct err *e);
/* Every key starting with prefix, and its value, appended in key order. */
bool status_db_state_list(struct status_db *db, const char *prefix, struct strvec *keys_r,
                          struct strvec *values_r, struct err *e);
/* Numeric convenience: a missing key reads as def; a non-number is an error. */
bool status_db_state_get_u64(struct status_db *db, const char *key, uint64_t def, uint64_t *value_r,
                             struct err *e);
bool status_db_state_set_u64(struct status_db *db, const char *key, uint64_t value, struct err *e);

/*
 * offlineimap's LocalStatusSQLiteFolder.purge(): remove the database of a
 * folder (not open anywhere) so that it starts empty; also removes a leftover
 * rollback journal or WAL of that database, which would otherwise be played
 * into the new one.  A missing file is not an error.
 */
bool status_db_purge(const char *path, struct err *e);

/*
 * Whether the status database at path records any message: false for one
 * that was created and never written (a run killed early), true when it has
 * rows or cannot be read (the careful answer).
 */
bool status_db_has_messages(const char *path);

#endif
