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
 *   blinkenlights  ncurses on the terminal (see ui_bl.h): a banner line, the
 *              log pane (bare messages, in the colour of the speaker's
 *              light), and at the bottom one row per account,
 *              "N: [active|  M:SS] <account>: " followed by a light ('@')
 *              per thread in the manual's colours and the copy progress.
 *              Keys: a digit N syncs account N now, 'q' quits (see struct
 *              ui_control).  The password is asked in a dialog.  When it
 *              ends (ui_terminate, ui_free) the terminal is restored and
 *              later messages (the summary) go to stdout as in basic.  When
 *              stdout is not a terminal or TERM is unusable, ttyui is used
 *              instead, with a warning on stderr.
 *
 * The names are matched case-insensitively; the old dotted names
 * ("TTY.TTYUI", "Noninteractive.Basic", "Machine.MachineUI",
 * "Curses.Blinkenlights", "Tk.Blinkenlights") are reduced to their last
 * component with offlineimap3's warning.
 *
 * Progress (EV_PROGRESS): ttyui and basic print "<folder>: N of M messages
 * copied (<bytes>)" for a folder copy that takes longer than the progress
 * interval (ui_opts.progress_ms, 10 s by default; the environment variable
 * OIMAP_PROGRESS_MS overrides it, for tests), at most once per interval, and
 * a last line when such a copy ends; a short copy prints nothing more than
 * offlineimap does.  Blinkenlights shows it live in the account's row.
 * quiet, syslog and machineui (whose protocol has no such command) show none.
 *
 * Secrets: every message, on every output (console, -l file, syslog), goes
 * through ui_redact(): the arguments of an IMAP LOGIN command and the
 * initial response of an AUTHENTICATE command are replaced by
 * "<secret hidden>", and so is every string given to ui_add_secret() (the
 * passwords ui_get_password() returns are added by it).
 *
 * Any -d debug type lowers every interface's level to DEBUG (as offlineimap's
 * logger.setLevel does, quiet included); free-text debug events are shown
 * only when their category is in the mask.  LOGC_SYNC is offlineimap's ''
 * debug type ("Other offlineimap related sync messages"), which offlineimap
 * turns on together with any -d: the caller should add it to the mask too.
 *
 * Every message also goes, unformatted and at the same levels, to the -l log
 * file ("%Y-%m-%d %H:%M:%S LEVEL: msg") and with -s to syslog.  The syslog
 * socket is /dev/log unless ui_opts.syslog_path or, for tests, the
 * environment variable OIMAP_SYSLOG_SOCKET names another one.
 *
 * Thread safety: ui_event() (the installed sink) may be called from any
 * number of threads at once; one mutex per ui serialises formatting and
 * output, so lines never interleave and the ttyui header logic holds.  A
 * password prompt holds the same mutex, as offlineimap holds its console lock
 * (blinkenlights releases it while its dialog is up, so the screen goes on).
 * Blinkenlights calls curses from its own thread only.
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
 *   EV_IGNORING_MESSAGE    uid, repo, folder, dst_repo (text) and repo_type,
 *                          dst_type, dst_folder (machineui)
 *   EV_DELETING_MESSAGES   count, uids (a sequence set), dst_type, dst_folder
 *   EV_ADDING/DELETING_FLAGS  flags (one letter per flag, or names separated
 *                          by spaces), count, uids, dst_folder
 *   EV_VALIDITY_PROBLEM    folder, repo, saved, got
 *   EV_CALLING_HOOK        text = the command ("Calling hook: " is added)
 *   EV_HOOK_OUTPUT         text = the whole message, formatted by the emitter
 *                          as offlineimap does, one event each:
 *                          "Hook stdout: %s\nHook stderr:%s\n" and
 *                          "Hook return code: %d"
 *   EV_SLEEPING            account; num = seconds of this slice (0 when
 *                          done), count = seconds remaining.  The first one
 *                          of a sleep starts the blinkenlights countdown
 *                          (and its "Next sync in M:SS" line); num = 0 ends
 *                          it.  Emit it from the account's thread, as
 *                          offlineimap does (the light that blinks).
 *   EV_NEW_STATUS_DB       repo, folder
 *   EV_PROGRESS            account, folder; num = messages copied so far,
 *                          total = messages to copy in this folder pass,
 *                          count = bytes copied so far.  Emit as often as
 *                          convenient (per message, or per chunk of a big
 *                          one); the interfaces throttle.  num >= total ends
 *                          the folder's progress.
 *   EV_THREAD_START        thread (the registering thread), account
 *   EV_THREAD_EXIT         text = the thread that ended (ev->thread when
 *                          NULL); offlineimap reports it from MainThread
 *   Events should carry `account` where they have one: blinkenlights puts
 *   the thread's light in that account's row (else it reads the account from
 *   the thread name, "Account sync X" or "... [acc: X]").
 */
#ifndef UI_UI_H
#define UI_UI_H

#include "base/err.h"
#include "base/log.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum ui_kind {
    UI_KIND_TTY = 0,
    UI_KIND_BASIC,
    UI_KIND_QUIET,
    UI_KIND_SYSLOG,
    UI_KIND_MACHINE,
    UI_KIND_BLINKENLIGHTS,
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
    unsigned progress_ms; /* text progress interval; 0: 10000 (or $OIMAP_PROGRESS_MS) */
    /* Monotonic milliseconds; NULL: CLOCK_MONOTONIC (tests give their own). */
    int64_t (*now_ms)(void);
};

/*
 * What the interactive interface (blinkenlights) asks of the program.  The
 * daemon loop sets it (ui_set_control) before the accounts start.  The
 * functions are called from the UI's own thread, never with a UI lock held,
 * so they may log; they must not block (set a flag, wake the loop).
 *   sync_now(account)  the key of that account: cut its autorefresh sleep
 *                      short and sync it now (SIGUSR1, for one account).
 *   quit()             the 'q' key: stop as on SIGTERM ("abort NOW": the
 *                      current folder finishes, locks are released, exit).
 *   quit_now()         'q' pressed again while that stop waits (for a long
 *                      hook, a big message): what a third SIGINT does, the
 *                      emergency exit (terminal restored, lock files
 *                      removed); it need not return.  The banner says so
 *                      after the first 'q'.
 * Without a control (or with a NULL function) the keys fall back on the
 * signals: sync_now sends SIGUSR1 to the process (every account syncs) when
 * SIGUSR1 has a handler, and quit and quit_now send SIGTERM (after restoring
 * the terminal when SIGTERM would kill the process outright).
 */
struct ui_control {
    void *ctx;
    void (*sync_now)(void *ctx, const char *account);
    void (*quit)(void *ctx);
    void (*quit_now)(void *ctx);
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
/* Canonical name: "ttyui", "basic", "quiet", "syslog", "machineui", "blinkenlights". */
const char *ui_name(const struct ui *ui);
/* Set (or, with NULL, remove) the key actions; the struct is copied. */
void ui_set_control(struct ui *ui, const struct ui_control *ctl);
/*
 * Hide `secret` (a password, a token) in every message from now on.  Strings
 * shorter than 4 bytes are not added: replacing them everywhere would mangle
 * the log without hiding anything worth hiding.  Thread-safe.
 */
void ui_add_secret(struct ui *ui, const char *secret);
/*
 * Put the terminal back as it was before blinkenlights started (attributes,
 * cursor, alternate screen, termios), if it is still taken.  Async-signal-
 * safe: for a signal handler or the "stop at once" path that does not return
 * through ui_terminate()/ui_free().  It also runs at exit() and on SIGSEGV,
 * SIGBUS, SIGILL and SIGFPE when these have no other handler.
 */
void ui_restore_terminal(void);

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
 * machineui: a "getpass" line, then one line from stdin; blinkenlights: a
 * dialog on the screen, nothing echoed (Enter confirms, Escape cancels); the
 * others fail with "Prompting for a password is not supported in this UI
 * backend."  The password is added to the hidden secrets (ui_add_secret).
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
