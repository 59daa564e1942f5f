/*
 * sync_skip: the account's skip list, so that a run where nothing changed
 * needs neither a status database nor a thread.
 *
 * A folder's saved state (sync_state.h) lives in its status database, and
 * reading it costs opening SQLite.  After a clean sync the account also
 * writes, in <metadata>/Account-<name>/.oimapc-skip, one line per folder:
 * that same state, the names of both sides, and the identity of the
 * folder's status database file (device, inode, size, modification time).
 * Before handing folders to the workers, the account checks each one here:
 * when the status file is the one described (so the state in it is the one
 * copied), the server's counters from the folder listing, the local stamp
 * and the selection options are those of the line, the folder is unchanged
 * on both sides and is done.  Anything else, including a line that does not
 * parse, sends the folder to the ordinary sync, which reads the database.
 *
 * A status file changed within its file system's clock tick of the time its
 * identity is taken could keep the same identity: such a line is not
 * written (the next run that leaves the database alone writes it).  The
 * file is a cache: written without fsync through a rename, checked by a sum,
 * and ignored if damaged; offlineimap3 ignores it.
 */
#ifndef SYNC_SKIP_H
#define SYNC_SKIP_H

#include "base/buf.h"
#include "store/store.h"
#include "sync/sync_folder.h"
#include "sync/sync_state.h"

#include <stdbool.h>
#include <stdint.h>

struct skip_entry {
    char *status_path; /* the key */
    char *remote;
    char *local;
    uint64_t dev, ino, size;
    int64_t mtime_ns;
    struct store_folder_status remote_st;
    char *local_stamp;
    char *select;
};

struct skip_list {
    struct skip_entry *v;
    size_t n, cap;
};

/* The account's file; an absent or damaged file gives an empty list. */
char *sync_skip_path(const char *metadata, const char *account);
void sync_skip_load(struct skip_list *l, const char *path);
/* The file's format: parse (false, and l empty, unless all of it is right) and
 * write (lines sorted by status path, then the sum). */
bool sync_skip_parse(struct skip_list *l, const char *data, size_t len);
void sync_skip_render(const struct skip_list *l, struct buf *out);
/* Writes l through path.tmp and a rename, unless the file already says the same. */
bool sync_skip_save(const struct skip_list *l, const char *path, struct err *e);
void sync_skip_free(struct skip_list *l);
/* Takes ownership of *en (zeroed). */
void sync_skip_add(struct skip_list *l, struct skip_entry *en);
void sync_skip_entry_free(struct skip_entry *en);

/*
 * The local stamp of job's line in l when the line still describes the
 * status database (same file identity, names and selection), whatever the
 * server's counters: NULL otherwise.  Points into l.
 */
const char *sync_skip_local_hint(const struct skip_list *l, const struct sync_folder_job *job);

/*
 * True if job's folder is unchanged on both sides by l: then *kept is a
 * copy of the line (for the next file).  Reads the local stamp and stats the
 * status file; false whenever anything does not match or cannot be read.
 */
bool sync_skip_check(const struct skip_list *l, const struct sync_folder_job *job,
                     struct skip_entry *kept);

/*
 * The line for a folder whose status database (closed) holds state st after
 * a clean sync; false (nothing to write) if st lacks a part or the status
 * file's time is too recent to be trusted.
 */
bool sync_skip_entry_make(const struct sync_folder_job *job, const struct sync_state *st,
                          struct skip_entry *out);

/*
 * The same in two steps, for a folder the sync wrote to: the line without
 * the status file's identity and the local stamp (false: no line), and, at
 * the end of the run, both added (false if the status file is missing or
 * changed too recently to be trusted; then free the line).
 */
bool sync_skip_entry_pending(const struct sync_folder_job *job, const struct sync_state *st,
                             struct skip_entry *out);
bool sync_skip_entry_settle(struct skip_entry *en, const char *local_stamp);

/* The selection options a saved state holds under (sync_state.h "select"). */
char *sync_selection_text(const struct sync_folder_job *job);
/* A sync limited by date or UID (maxage and the like): no saved state. */
bool sync_job_windowed(const struct sync_folder_job *job);

#endif
