/*
 * ui_internal: what the interfaces of src/ui share; not for use outside it.
 *
 * The model is offlineimap's: an event becomes zero or more records (level,
 * machineui command, speaking thread, message), as UIBase and its subclasses
 * turn calls into logger records.  A record at or above the current level
 * goes to every handler: the console (formatted by the interface), the -l
 * log file and the -s syslog duplicate (both unformatted).  Everything here
 * runs with ui->lock held.
 */
#ifndef UI_UI_INTERNAL_H
#define UI_UI_INTERNAL_H

#include "base/buf.h"
#include "base/strutil.h"
#include "ui/ui.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/types.h>

#define UI_MACHINE_PROTOCOL "7.2.0"

/* A connection to a syslog socket, written as Python's SysLogHandler does. */
struct ui_syslog {
    int fd;
    bool stream; /* SOCK_STREAM: the NUL frames the messages */
    char *path;
    bool broken_reported;
};

struct ui_bl;

/* The text interfaces' progress state of one thread (ui_progress.c). */
struct ui_progress {
    char *thread, *folder;
    int64_t last_ms;
    bool printed;
};

struct ui {
    enum ui_kind kind;
    pthread_mutex_t lock;
    FILE *out, *err, *in;
    FILE *console; /* err for ttyui, out for the others */
    char *tty_path;
    enum log_level base_level; /* INFO, or WARNING for quiet */
    enum log_level level;      /* DEBUG when any debug type is on */
    unsigned debug;
    bool dry_run;
    char *version;
    FILE *logfile;
    bool use_syslog_console; /* the syslog interface */
    bool use_syslog_dup;     /* -s */
    struct ui_syslog syslog;
    char *tty_last_thread; /* the ttyui header state */
    struct strvec errors;  /* queued for the end-of-run summary */
    unsigned nerrors;      /* every error reported, summary or not */
    unsigned nuidval;
    unsigned announced; /* debug types already announced */
    struct strvec thr_names, thr_accounts;
    bool installed;
    struct strvec secrets; /* ui_add_secret() */
    struct ui_control control;
    int64_t (*now_ms)(void);
    unsigned progress_ms;
    struct ui_progress *progress;
    size_t nprogress;
    struct ui_bl *bl; /* blinkenlights while its screen is up */
    bool bl_ended;    /* blinkenlights after its screen ended: basic output */
};

struct ui_record {
    enum log_level level;
    const char *command; /* machineui command; NULL for a plain message */
    const char *thread;
    const char *msg;
    bool console_only; /* the banner, before -l and -s are set up */
    bool startup;      /* before -d lowers the level: filtered by base_level */
    bool raw;          /* machineui: printed before its formatter is installed */
};

/* Send one record to the handlers if its level is enabled. */
void ui_emit(struct ui *ui, const struct ui_record *r);
void ui_emitf(struct ui *ui, enum log_level level, const char *command, const char *thread,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* offlineimap's UIBase.debug(): "[type]: msg" when the type is enabled. */
void ui_debugf(struct ui *ui, enum log_cat cat, const char *thread, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* UIBase.registerthread()/unregisterthread(): the thread debug messages. */
void ui_register_thread(struct ui *ui, const char *thread, const char *account);
void ui_unregister_thread(struct ui *ui, const char *speaker, const char *name);
/* Flags as one letter each, or names separated by spaces, joined with sep. */
void ui_join_flags(struct buf *out, const char *flags, const char *sep);
bool ui_debug_on(const struct ui *ui, enum log_cat cat);
const char *ui_cat_name(enum log_cat cat);
/* NULL-safe field access: "" for a missing string. */
const char *ui_s(const char *s);

/* UIBase's (ttyui, basic, quiet, syslog) messages for the structured events. */
void ui_text_event(struct ui *ui, const struct log_event *ev);
/* MachineUI's. */
void ui_machine_event(struct ui *ui, const struct log_event *ev);

/* Console formatters. */
void ui_tty_write(struct ui *ui, const struct ui_record *r);
void ui_machine_write(struct ui *ui, const struct ui_record *r);

/* EV_PROGRESS for ttyui and basic: the throttled progress lines. */
void ui_progress_event(struct ui *ui, const struct log_event *ev);
void ui_progress_forget(struct ui *ui, const char *thread);
void ui_progress_free(struct ui *ui);

/*
 * ui_redact: msg with the LOGIN/AUTHENTICATE arguments and every secret
 * replaced by "<secret hidden>".  Returns NULL when nothing had to change,
 * else a malloc'ed string.
 */
char *ui_redact(const char *msg, const struct strvec *secrets);

/* Blinkenlights (ui_bl_curses.c).  start/stop are called without ui->lock. */
bool ui_bl_start(struct ui *ui, const struct ui_opts *opts, struct err *e);
void ui_bl_stop(struct ui *ui);
/* Under ui->lock: an event's effect on the lights, before its text. */
void ui_bl_event(struct ui *ui, const struct log_event *ev);
/* Under ui->lock: a console record into the log pane. */
void ui_bl_write(struct ui *ui, const struct ui_record *r);
/* Under ui->lock (released while waiting): the password dialog. */
bool ui_bl_getpass(struct ui *ui, const char *user, char **pw_r, struct err *e);
int64_t ui_now_ms(const struct ui *ui);
/* "OfflineIMAP <version>\n  Licensed under ...", malloc'ed. */
char *ui_banner_text(const struct ui *ui);

/* Python's urllib.parse.quote_plus(s, safe=''), byte by byte. */
void ui_quote_plus(struct buf *out, const char *s, size_t len);

bool ui_tty_getpass(struct ui *ui, const char *prompt, char **pw_r, struct err *e);
bool ui_machine_getpass(struct ui *ui, const char *user, char **pw_r, struct err *e);

bool ui_syslog_open(struct ui_syslog *s, const char *path, struct err *e);
void ui_syslog_send(struct ui_syslog *s, FILE *err, enum log_level level, const char *msg);
void ui_syslog_close(struct ui_syslog *s);

/* The log file: "%Y-%m-%d %H:%M:%S LEVEL: msg". */
void ui_logfile_write(FILE *f, enum log_level level, const char *msg);
const char *ui_level_name(enum log_level level);

#endif
