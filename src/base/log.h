/*
 * log: the one way code below the UI reports what it does.
 *
 * Library code never prints.  It emits events: structured ones for the
 * progress a user interface shows (an account starts, a message is copied,
 * flags are added...) and free-text ones for information, warnings, errors and
 * debug output.  The process installs one sink at start-up (the chosen UI,
 * see ui/ui.h) before any thread starts; until then events go to stderr.
 *
 * Each thread has a name ("Account sync Personal", "Folder INBOX [acc:
 * Personal]", "MainThread"), as offlineimap's threads do; events carry it so
 * that UIs can show which thread speaks.
 */
#ifndef BASE_LOG_H
#define BASE_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
    LOG_DEBUG = 0,
    LOG_INFO,
    LOG_WARN,
    LOG_ERROR,
};

/* Debug categories, selected with -d (offlineimap's debug types). */
enum log_cat {
    LOGC_NONE = 0,
    LOGC_IMAP = 1u << 0,
    LOGC_MAILDIR = 1u << 1,
    LOGC_THREAD = 1u << 2,
    LOGC_SYNC = 1u << 3,
    LOGC_ALL = 0xffu,
};

enum ev_type {
    EV_LOG = 0,          /* free text: level + text */
    EV_ACCOUNT_START,    /* account */
    EV_ACCOUNT_DONE,     /* account, num = elapsed seconds */
    EV_CONNECTING,       /* host, port, repo */
    EV_SYNC_FOLDERS,     /* repo_type -> dst_type: folder structure sync */
    EV_CREATING_FOLDER,  /* repo, folder (the repository it is created in) */
    EV_SYNCING_FOLDER,   /* folder, repo_type, dst_type: "Syncing F: IMAP -> Maildir" */
    EV_SKIPPING_FOLDER,  /* folder: quick sync, not changed */
    EV_LOAD_MSGLIST,     /* repo_type, folder */
    EV_MSGLIST_LOADED,   /* repo_type, folder, count */
    EV_SYNCING_MESSAGES, /* repo_type, folder -> dst_type, dst_folder */
    EV_COPYING_MESSAGE,  /* uid, num/total, repo, folder -> dst_repo, dst_folder */
    EV_DELETING_MESSAGES, /* count, uids (set text), dst_repo, dst_folder */
    EV_ADDING_FLAGS,      /* flags, count, uids, dst_repo, dst_folder */
    EV_DELETING_FLAGS,    /* flags, count, uids, dst_repo, dst_folder */
    EV_VALIDITY_PROBLEM,  /* folder, repo, saved, got */
    EV_CALLING_HOOK,      /* text = command */
    EV_HOOK_OUTPUT,       /* text = formatted stdout/stderr/return code */
    EV_SLEEPING,          /* account, num = sleep seconds, count = remaining seconds */
    EV_NEW_STATUS_DB,     /* repo, folder: "Creating new Local Status db" */
    EV_PROGRESS,          /* account, folder, num/total messages copied, count = bytes */
    EV_THREAD_START,      /* thread name in ev->thread, account */
    EV_THREAD_EXIT,       /* thread name */
    EV_IGNORING_MESSAGE,  /* copy_ignore_eval: uid, repo(_type), folder -> dst_repo(_type) */
};

struct log_event {
    enum ev_type type;
    enum log_level level;
    enum log_cat cat; /* for LOG_DEBUG */
    const char *thread;
    const char *account;
    const char *host;
    const char *repo;      /* source repository name */
    const char *repo_type; /* "IMAP", "Maildir" */
    const char *folder;
    const char *dst_repo;
    const char *dst_type;
    const char *dst_folder;
    const char *uids;  /* an IMAP sequence set, e.g. "3:5,9" */
    const char *flags; /* flag letters or names */
    const char *text;
    int64_t uid;
    int64_t num;
    int64_t total;
    int64_t count;
    int64_t saved;
    int64_t got;
    int port;
};

typedef void log_sink_fn(void *ctx, const struct log_event *ev);

/* Install the sink; call once, before threads start. */
void log_set_sink(log_sink_fn *fn, void *ctx);
/* Debug categories to emit (a mask of enum log_cat); set once at start-up. */
void log_set_debug(unsigned mask);
bool log_debug_enabled(enum log_cat cat);

/* Name of the calling thread, as shown by UIs. */
void log_set_thread_name(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *log_thread_name(void);

/*
 * What each thread is doing, for the dump SIGQUIT asks for.  A thread that
 * names itself (log_set_thread_name) is listed until it exits, with the
 * activity it last declared here ("sleeping until 10:42", "IDLE on INBOX";
 * NULL clears it) and a short account of the last event it emitted.
 */
void log_thread_activity(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
typedef void log_dump_fn(void *ctx, const char *line);
/* Call fn with one line per listed thread; returns the number of threads. */
unsigned log_threads_dump(log_dump_fn *fn, void *ctx);

/* Emit a structured event; ev->thread is filled in if NULL. */
void log_emit(struct log_event *ev);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(enum log_cat cat, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
