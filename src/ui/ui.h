/*
 * ui: the user interfaces behind the one event sink of base/log.h.
 *
 * A struct ui turns the events that code below the UI emits (log_emit,
 * log_info, ...) into exactly what offlineimap3's interfaces print:
 *
 *   ttyui      INFO and up on stderr; a "<thread name>:" header line whenever
 *              the speaking thread changes, message lines indented by one
 *              space (MainThread speaks bare); can prompt for a password on
 *              /dev/tty.
 *   basic      INFO and up on stdout, bare messages.
 *   quiet      WARNING and up on stdout.
 *   syslog     INFO and up to syslog ("offlineimap[pid]: msg", facility
 *              user), ignoring the -s duplication.
 *   machineui  protocol 7.2.0 on stdout, one line per message:
 *              "<severity>:<command>:<thread>:<payload>", both last parts
 *              URL-encoded with Python's quote_plus rules; reads a password
 *              line from stdin after a "getpass" line.
 *
 * The names are matched case-insensitively; the old dotted names
 * ("TTY.TTYUI", "Noninteractive.Basic", "Machine.MachineUI",
 * "Curses.Blinkenlights") are reduced to their last component with
 * offlineimap3's warning.  "blinkenlights" is not built yet and falls back to
 * ttyui with a warning.
 *
 * Any -d debug type lowers every interface's level to DEBUG (as offlineimap's
 * logger.setLevel does, quiet included); free-text debug events are shown
 * only when their category is in the mask.  LOGC_SYNC is offlineimap's ''
 * debug type ("Other offlineimap related sync messages"), which offlineimap
 * turns on together with any -d: the caller should add it to the mask too.
 *
 * Every message also goes, unformatted and at the same levels, to the -l log
 * file ("%Y-%m-%d %H:%M:%S LEVEL: msg") and with -s to syslog.
 *
 * Thread safety: ui_event() (the installed sink) may be called from any
 * number of threads at once; one mutex per ui serialises formatting and
 * output, so lines never interleave and the ttyui header logic holds.  A
 * password prompt holds the same mutex, as offlineimap holds its console lock.
 *
 * Event fields each interface uses (offlineimap prints repository *names* in
 * text and repository *types* ("IMAP", "Maildir") in machineui, so emitters
 * should fill both where both are listed):
 *   EV_ACCOUNT_START/DONE  account; DONE: num = elapsed seconds
 *   EV_CONNECTING          host, port, repo; text (if set) replaces the port,
 *                          for tunnels: host "tunnel", text = the command
 *   EV_SYNC_FOLDERS        repo, dst_repo (text, debug) and repo_type,
 *                          dst_type (machineui)
 *   EV_CREATING_FOLDER     repo, folder
 *   EV_SYNCING_FOLDER      folder, repo_type, dst_type; dst_folder (machineui)
 *   EV_SKIPPING_FOLDER     folder
 *   EV_LOAD_MSGLIST        repo_type, folder
 *   EV_MSGLIST_LOADED      repo_type, folder, count
 *   EV_SYNCING_MESSAGES    repo_type, folder, dst_type, dst_folder
 *   EV_COPYING_MESSAGE     uid, num, total, repo, folder, dst_repo,
 *                          dst_folder (text) and repo_type, dst_type
 *   EV_DELETING_MESSAGES   count, uids (a sequence set), dst_type, dst_folder
 *   EV_ADDING/DELETING_FLAGS  flags (one letter per flag, or names separated
 *                          by spaces), count, uids, dst_folder
 *   EV_VALIDITY_PROBLEM    folder, repo, saved, got
 *   EV_CALLING_HOOK        text = the command ("Calling hook: " is added)
 *   EV_HOOK_OUTPUT         text = the whole message, formatted by the emitter
 *                          as offlineimap does, one event each:
 *                          "Hook stdout: %s\nHook stderr:%s\n" and
 *                          "Hook return code: %d"
 *   EV_SLEEPING            num = seconds of this slice (0 when done),
 *                          count = seconds remaining
 *   EV_NEW_STATUS_DB       repo, folder
 *   EV_PROGRESS            not shown by these interfaces
 *   EV_THREAD_START        thread (the registering thread), account
 *   EV_THREAD_EXIT         text = the thread that ended (ev->thread when
 *                          NULL); offlineimap reports it from MainThread
 */
#ifndef UI_UI_H
#define UI_UI_H

#include "base/err.h"
#include "base/log.h"

#include <stdbool.h>
#include <stdio.h>

enum ui_kind {
    UI_KIND_TTY = 0,
    UI_KIND_BASIC,
    UI_KIND_QUIET,
    UI_KIND_SYSLOG,
    UI_KIND_MACHINE,
};

struct ui_opts {
    FILE *out;               /* stdout when NULL */
    FILE *err;               /* stderr when NULL */
    FILE *in;                /* machineui password line; stdin when NULL */
    const char *tty_path;    /* ttyui password prompt; "/dev/tty" when NULL */
    const char *logfile;     /* -l: appended to; NULL for none */
    bool syslog;             /* -s: also send every message to syslog */
    const char *syslog_path; /* "/dev/log" when NULL */
    unsigned debug;          /* -d: mask of enum log_cat */
    bool dry_run;            /* "[DRYRUN] " prefixes */
    const char *version;     /* banner and log file header; "0" when NULL */
    /* Log file header "  Python: %s Platform: %s\n  Args: %s". */
    const char *python_version; /* "none" when NULL */
    int argc;
    char *const *argv;
};

struct ui;

/*
 * Create the interface `name` (NULL: ttyui).  Warnings about old dotted names
 * and the blinkenlights fallback go to opts->err.  Fails, with offlineimap's
 * "UI '%s' does not exist, choose one of: ..." for an unknown name, or when
 * the log file or syslog cannot be opened.
 */
struct ui *ui_new(const char *name, const struct ui_opts *opts, struct err *e);
/* Uninstalls the sink if this ui is installed; sets *uip to NULL. */
void ui_free(struct ui **uip);
/* Make this ui the log sink and apply its debug mask (log_set_debug). */
void ui_install(struct ui *ui);
enum ui_kind ui_kind(const struct ui *ui);
/* Canonical name: "ttyui", "basic", "quiet", "syslog", "machineui". */
const char *ui_name(const struct ui *ui);

/* The sink: show one event.  Thread-safe. */
void ui_event(struct ui *ui, const struct log_event *ev);
void ui_sink(void *ctx, const struct log_event *ev);

/*
 * The start-up banner "OfflineIMAP <version>\n  Licensed under ...", on the
 * console only (offlineimap prints it before -l and -s are set up; quiet hides
 * it), then machineui's "protocol" and "initbanner" lines, then `info` (the
 * "-V" version line; none when NULL) as an info message.  These are shown at
 * the interface's own level even with -d: offlineimap lowers the level only
 * after them.
 */
void ui_banner(struct ui *ui, const char *info);
/* offlineimap's ui._msg(): an info message, "_display" in machineui. */
void ui_display(struct ui *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Announce a -d debug type as offlineimap's add_debug() does: "Now debugging
 * for imap: IMAP protocol debugging" (each type once), or the warning
 * "Invalid debug type: %s".  "" is the sync type.
 */
void ui_debugging(struct ui *ui, const char *type);

/*
 * Ask for the password of `user` (account and host are for interfaces that
 * show them).  errmsg, when not NULL, is why the previous one failed.
 * ttyui: "Enter password for user '%s': " on the terminal without echo;
 * machineui: a "getpass" line, then one line from stdin; the others fail with
 * "Prompting for a password is not supported in this UI backend."
 * On success *pw_r is a malloc'ed string the caller wipes and frees.
 */
bool ui_get_password(struct ui *ui, const char *account, const char *host, const char *user,
                     const char *errmsg, char **pw_r, struct err *e);

/* Errors reported so far (EV_LOG at LOG_ERROR) and UID validity problems. */
unsigned ui_error_count(struct ui *ui);
unsigned ui_uidvalidity_count(struct ui *ui);
/* The exit status for `status`: 1 after any error, else 2 after a UID validity problem. */
int ui_exit_status(struct ui *ui, int status);

/*
 * End of run: prints offlineimap's summary ("ERROR: Exceptions occurred
 * during the run!" and each error again, then title/msg, then "At least one
 * folder skipped due to UID validity problem"); machineui prints its
 * "terminate" line instead.  Returns the exit status (see ui_exit_status).
 */
int ui_terminate(struct ui *ui, int status, const char *errortitle, const char *errormsg);

#endif
