/*
 * sync_folder: one folder, both directions, applied through store.h.
 *
 * Opens the status and both folders, checks UIDVALIDITY against the saved
 * value (a change skips the folder with ERRK_UIDVALIDITY and changes
 * nothing), lists both sides, plans (sync_plan.h) and applies the plan in
 * offlineimap's pass order.  Each status change is written only after the
 * change it records is durable: downloads after the Maildir file and its
 * directory are synced, uploads after the server answered and the local file
 * was renamed to carry the new UID, deletions after they happened.  A crash
 * at any point therefore leaves a state the next run converges from.
 *
 * A remote folder the server opens read-only ([READ-ONLY]) gets the server's
 * changes; the local changes for it (uploads, deletions, flags) are not
 * attempted but warned about (sync_readonly.h) and stay pending: the status
 * keeps what they change and the folder's state is not saved as unchanged,
 * so the next sync sees them again.
 *
 * Errors for single messages are reported and counted; the folder goes on.
 * A folder-level error stops this folder only.
 */
#ifndef SYNC_FOLDER_H
#define SYNC_FOLDER_H

#include "base/err.h"
#include "base/strutil.h"
#include "base/uidset.h"
#include "store/store.h"
#include "sync/sync_plan.h"

#include <stdbool.h>
#include <stdint.h>

/* startdate: which side is a partial clone (sync_startdate.h). */
enum sync_start_side {
    SYNC_START_NONE = 0,
    SYNC_START_LOCAL,
    SYNC_START_REMOTE,
};

struct sync_folder_job {
    const char *account;
    struct store *remote;
    struct store *local;
    const char *remote_name; /* the folder's name on the server */
    const char *local_name;  /* its name in the Maildir tree */
    const char *status_path; /* LocalStatus-sqlite/<folder> */
    /* LocalStatus/<folder>: an old offlineimap's plain status to import, or NULL. */
    const char *plain_status_path;
    const char *remote_validity_path;
    const char *local_validity_path;
    struct sync_plan_opts plan;
    struct store_list_opts remote_list;
    struct store_list_opts local_list;
    bool dry_run;
    bool fsync;
    /* The server's counters for this folder from the folder listing, or NULL. */
    const struct store_folder_status *remote_status;
    /*
     * The local stamp of the folder's skip-list line when that line still
     * describes the status database (sync_skip_local_hint), or NULL: the
     * local folder at this stamp holds what the status records, even when the
     * server has moved since (our own changes of the last run).
     */
    const char *local_hint;
    /*
     * The deletion guard: refuse this folder's deletions (either side) when
     * they would remove more than guard_percent of what the status knows and
     * at least guard_minimum messages, unless guard_allowed.  0 or 100 = off.
     */
    int guard_percent;
    int guard_minimum;
    bool guard_allowed;
    /* copy_ignore_eval: remote UIDs never downloaded (sorted; NULL: none). */
    const struct uidvec *copy_ignore;
    /* filterheaders: header fields removed from uploaded messages (NULL: none). */
    const struct strvec *filter_headers;
    /* maxage: only messages newer than this (seconds since the epoch); 0 = all. */
    int64_t maxage_cutoff;
    /* startdate: the partial side, local midnight of the date, its StartUID file. */
    enum sync_start_side startdate_side;
    int64_t startdate;
    const char *startuid_path;
    /* quick (-q): skip the folder if neither side's message list changed (no flags). */
    bool quick;
    /* Dry run only: the folder would be created on that side first; treat it as empty. */
    bool local_absent;
    bool remote_absent;
    /* [general] ignore-readonly: no warning for changes not made in a folder the
     * server opened read-only (they are skipped all the same). */
    bool ignore_readonly;
};

struct sync_folder_stats {
    uint64_t downloaded;
    uint64_t uploaded;
    uint64_t deleted_local;
    uint64_t deleted_remote;
    uint64_t flags_local;
    uint64_t flags_remote;
    uint64_t msg_errors;
    uint64_t new_unseen; /* downloaded messages without \Seen (newmail_hook) */
    /* After a clean sync: the folder's line for the skip list (sync_skip.h), or
     * NULL; the caller frees it with sync_skip_entry_free() and free(). */
    struct skip_entry *skip;
    /*
     * Or, after a clean sync that wrote to the local folder: the line still
     * without its local stamp, and the local store's watch of the folder,
     * which gives the stamp at the end of the run if the folder changed only
     * through this sync (store.h finish_watch; sync_skip_entry_settle).  The
     * caller finishes or frees both.
     */
    struct skip_entry *skip_pending;
    struct store_watch *watch;
};

bool sync_folder_run(const struct sync_folder_job *job, struct sync_folder_stats *stats,
                     struct err *e);

#endif
