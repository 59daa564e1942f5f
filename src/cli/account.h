/*
 * account: one sync of one account, as offlineimap's SyncableAccount does it.
 *
 * Takes the account lock, runs the pre-sync hook, lists the folders of both
 * repositories, creates on each side the folders the other has (where
 * createfolders allows), then syncs every folder (sync_folder.h) on up to
 * max_connections worker threads, runs the post-sync hook and releases the
 * lock.  A folder's failure is reported and the other folders go on.
 *
 * The caller reports the account's start and end (EV_ACCOUNT_START/DONE), as
 * offlineimap's account loop does around its errors.  Each folder sync is
 * announced as a thread (EV_THREAD_START, then EV_THREAD_EXIT from
 * MainThread), as offlineimap's folder threads are.  When should_stop says
 * so (SIGTERM), the folders being synced finish and no other starts.
 */
#ifndef CLI_ACCOUNT_H
#define CLI_ACCOUNT_H

#include "base/err.h"
#include "base/strutil.h"
#include "store/store.h"

#include <stdbool.h>

struct py_expr;
struct mbnames;

struct account_cfg {
    const char *name;
    const char *metadata; /* expanded [general] metadata */
    struct store *remote;
    struct store *local;
    char local_sep;        /* the Maildir repository's sep */
    const char *local_root; /* its localfolders, for messages */
    bool remote_readonly, local_readonly;
    bool remote_sync_deletes, local_sync_deletes;
    bool remote_createfolders, local_createfolders;
    unsigned max_connections; /* folders synced at once */
    bool dry_run;
    bool fsync;
    bool ignore_readonly; /* [general] ignore-readonly */
    /* -f: only these remote folders (untranslated names); empty = all */
    const struct strvec *only_folders;
    /* copy_ignore_eval and newmail_hook of the remote repository, or NULL. */
    struct py_expr *copy_ignore;
    struct py_expr *newmail_hook;
    /* Folder names, filters and order (foldermap.h). */
    struct foldermap *fmap;
    const struct strvec *filter_headers; /* filterheaders */
    /* Message selection: maxage cutoff (0 = none), maxsize (0 = none), quick sync. */
    int64_t maxage_cutoff;
    /* startdate: the partial side (sync_folder.h) and local midnight of its date. */
    int startdate_side;
    int64_t startdate;
    uint64_t max_size;
    bool quick;
    /* The deletion guard (sync_folder.h) and --allow-deletions ("*" = all folders). */
    int guard_percent;
    int guard_minimum;
    const struct strvec *allow_deletions;
    const char *presynchook;
    const char *postsynchook;
    const char *sync_mode; /* OFFLINEIMAPSYNCMODE for hooks: "full", "quick", "idle" */
    /*
     * A push sync (IDLE, NOTIFY): only these remote folders (untranslated
     * names), and no folder is created on either side.  NULL: every folder.
     */
    const struct strvec *only_remote;
    /* Polled before each folder and hook; NULL: never stop early. */
    bool (*should_stop)(void *ctx);
    void *stop_ctx;
    struct mbnames *mbnames; /* the run's mbnames writer (mbnames.h), or NULL */
};

struct account_result {
    unsigned folders_skipped; /* not started because should_stop said so */
    unsigned folders_synced;
    unsigned folders_failed;
    unsigned validity_problems;
};

/* False only when the account could not run at all (lock, connection, listing). */
bool account_sync(const struct account_cfg *a, struct account_result *res, struct err *e);

#endif
