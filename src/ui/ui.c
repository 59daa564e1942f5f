#include "ui/ui_internal.h"

#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static const char *const kind_names[] = {
    [UI_KIND_TTY] = "ttyui",         [UI_KIND_BASIC] = "basic",
    [UI_KIND_QUIET] = "quiet",       [UI_KIND_SYSLOG] = "syslog",
    [UI_KIND_MACHINE] = "machineui", [UI_KIND_BLINKENLIGHTS] = "blinkenlights",
};

/* offlineimap3's UI_LIST keys, in its order, for its messages. */
#define UI_LIST_TEXT "ttyui, basic, quiet, syslog, machineui, blinkenlights"

#define BANNER_LICENSE                                                                             \
    "Licensed under the GNU GPL v2 or any later version (with an OpenSSL exception)"

static const struct {
    const char *name;
    enum log_cat cat;
    const char *desc;
} debug_types[] = {
    {"", LOGC_SYNC, "Other offlineimap related sync messages"},
    {"imap", LOGC_IMAP, "IMAP protocol debugging"},
    {"maildir", LOGC_MAILDIR, "Maildir repository debugging"},
    {"thread", LOGC_THREAD, "Threading debugging"},
};

const char *ui_s(const char *s)
{
    return s ? s : "";
}

const char *ui_level_name(enum log_level level)
{
    switch (level) {
    case LOG_DEBUG:
        return "DEBUG";
    case LOG_INFO:
        return "INFO";
    case LOG_WARN:
        return "WARNING";
    case LOG_ERROR:
        return "ERROR";
    }
    return "ERROR";
}

const char *ui_cat_name(enum log_cat cat)
{
    for (size_t i = 0; i < sizeof(debug_types) / sizeof(debug_types[0]); i++)
        if (debug_types[i].cat == cat)
            return debug_types[i].name;
    return "";
}

bool ui_debug_on(const struct ui *ui, enum log_cat cat)
{
    /* Free text without a category is offlineimap's '' type. */
    unsigned bit = cat == LOGC_NONE ? (unsigned)LOGC_SYNC : (unsigned)cat;
    return (ui->debug & bit) != 0;
}

/* Python's sys.platform. */
static const char *platform_name(void)
{
#if defined(__linux__)
    return "linux";
#elif defined(__APPLE__)
    return "darwin";
#else
    static char name[64];
    struct utsname u;
    if (!name[0]) {
        if (uname(&u) != 0)
            return "unknown";
        snprintf(name, sizeof(name), "%s", u.sysname);
        str_lower(name);
    }
    return name;
#endif
}

void ui_logfile_write(FILE *f, enum log_level level, const char *msg)
{
    char stamp[32];
    struct tm tm;
    time_t now = time(NULL);
    if (!localtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
    fprintf(f, "%s %s: %s\n", stamp, ui_level_name(level), msg);
    fflush(f);
}

int64_t ui_now_ms(const struct ui *ui)
{
    if (ui->now_ms)
        return ui->now_ms();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ui_emit(struct ui *ui, const struct ui_record *orig)
{
    if (orig->level < (orig->startup ? ui->base_level : ui->level))
        return;
    struct ui_record clean = *orig;
    char *redacted = ui_redact(orig->msg, &ui->secrets);
    if (redacted)
        clean.msg = redacted;
    const struct ui_record *r = &clean;
    if (ui->use_syslog_console) {
        ui_syslog_send(&ui->syslog, ui->err, r->level, r->msg);
    } else if (ui->kind == UI_KIND_TTY) {
        ui_tty_write(ui, r);
    } else if (ui->kind == UI_KIND_MACHINE) {
        ui_machine_write(ui, r);
    } else if (ui->bl) {
        ui_bl_write(ui, r);
    } else {
        fprintf(ui->console, "%s\n", r->msg);
        fflush(ui->console);
    }
    if (!r->console_only) {
        if (ui->logfile)
            ui_logfile_write(ui->logfile, r->level, r->msg);
        if (ui->use_syslog_dup)
            ui_syslog_send(&ui->syslog, ui->err, r->level, r->msg);
    }
    free(redacted);
}

static void emitv(struct ui *ui, enum log_level level, const char *command, const char *thread,
                  const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void emitv(struct ui *ui, enum log_level level, const char *command, const char *thread,
                  const char *fmt, va_list ap)
{
    if (level < ui->level)
        return;
    char *msg = xvasprintf(fmt, ap);
    struct ui_record r = {.level = level, .command = command, .thread = thread, .msg = msg};
    ui_emit(ui, &r);
    free(msg);
}

void ui_emitf(struct ui *ui, enum log_level level, const char *command, const char *thread,
              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emitv(ui, level, command, thread, fmt, ap);
    va_end(ap);
}

void ui_debugf(struct ui *ui, enum log_cat cat, const char *thread, const char *fmt, ...)
{
    if (!ui_debug_on(ui, cat) || ui->level > LOG_DEBUG)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    ui_emitf(ui, LOG_DEBUG, NULL, thread, "[%s]: %s", ui_cat_name(cat), msg);
    free(msg);
}

void ui_join_flags(struct buf *out, const char *flags, const char *sep)
{
    bool first = true;
    if (strchr(flags, ' ')) {
        struct strvec names = STRVEC_INIT;
        strvec_split(&names, flags, ' ', true);
        for (size_t i = 0; i < names.n; i++) {
            if (!first)
                buf_append_str(out, sep);
            buf_append_str(out, names.v[i]);
            first = false;
        }
        strvec_free(&names);
        return;
    }
    for (const char *p = flags; *p; p++) {
        if (!first)
            buf_append_str(out, sep);
        buf_append_char(out, *p);
        first = false;
    }
}

static ssize_t thread_index(const struct ui *ui, const char *thread)
{
    for (size_t i = 0; i < ui->thr_names.n; i++)
        if (strcmp(ui->thr_names.v[i], thread) == 0)
            return (ssize_t)i;
    return -1;
}

void ui_register_thread(struct ui *ui, const char *thread, const char *account)
{
    ssize_t i = thread_index(ui, thread);
    if (i >= 0) {
        ui_debugf(ui, LOGC_THREAD, thread, "Register thread '%s' (previously '%s', now '%s')",
                  thread, ui->thr_accounts.v[i], account);
        free(ui->thr_accounts.v[i]);
        ui->thr_accounts.v[i] = xstrdup(account);
        return;
    }
    ui_debugf(ui, LOGC_THREAD, thread, "Register new thread '%s' (account '%s')", thread, account);
    strvec_push(&ui->thr_names, thread);
    strvec_push(&ui->thr_accounts, account);
}

static void strvec_remove(struct strvec *sv, size_t i)
{
    free(sv->v[i]);
    sv->v[i] = sv->v[sv->n - 1];
    sv->v[--sv->n] = NULL;
}

void ui_unregister_thread(struct ui *ui, const char *speaker, const char *name)
{
    ssize_t i = thread_index(ui, name);
    if (i >= 0) {
        strvec_remove(&ui->thr_names, (size_t)i);
        strvec_remove(&ui->thr_accounts, (size_t)i);
    }
    ui_debugf(ui, LOGC_THREAD, speaker, "Unregister thread '%s'", name);
}

/* Free text: UIBase.info/warn/error/debug, the same in every interface. */
static void log_text_event(struct ui *ui, const struct log_event *ev)
{
    const char *text = ui_s(ev->text);
    switch (ev->level) {
    case LOG_DEBUG:
        ui_debugf(ui, ev->cat, ev->thread, "%s", text);
        break;
    case LOG_INFO:
    case LOG_WARN:
        ui_emitf(ui, ev->level, NULL, ev->thread, "%s", text);
        break;
    case LOG_ERROR:
        ui_emitf(ui, LOG_ERROR, NULL, ev->thread, "ERROR: %s", text);
        strvec_push(&ui->errors, text);
        ui->nerrors++;
        break;
    }
}

void ui_event(struct ui *ui, const struct log_event *ev)
{
    struct log_event copy = *ev;
    if (!copy.thread)
        copy.thread = log_thread_name();
    pthread_mutex_lock(&ui->lock);
    if (copy.type == EV_VALIDITY_PROBLEM)
        ui->nuidval++;
    if (ui->bl)
        ui_bl_event(ui, &copy);
    if (copy.type == EV_LOG)
        log_text_event(ui, &copy);
    else if (ui->kind == UI_KIND_MACHINE)
        ui_machine_event(ui, &copy);
    else
        ui_text_event(ui, &copy);
    if (copy.type == EV_PROGRESS)
        ui_progress_event(ui, &copy);
    else if (copy.type == EV_THREAD_EXIT)
        ui_progress_forget(ui, copy.text ? copy.text : copy.thread);
    pthread_mutex_unlock(&ui->lock);
}

void ui_sink(void *ctx, const struct log_event *ev)
{
    ui_event(ctx, ev);
}

static bool open_logfile(struct ui *ui, const struct ui_opts *opts, struct err *e)
{
    int fd = open(opts->logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0 || !(ui->logfile = fdopen(fd, "a"))) {
        err_set(e, ERR_CRITICAL, ERRK_CONFIG, "Cannot open the log file '%s': %s.", opts->logfile,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    /* The block offlineimap's setlogfile() writes first, bypassing the level. */
    struct buf args;
    buf_init(&args, BUF_UNBOUNDED);
    for (int i = 0; opts->argv && i < opts->argc; i++) {
        if (i)
            buf_append_char(&args, ' ');
        buf_append_str(&args, ui_s(opts->argv[i]));
    }
    char *block =
        xasprintf("OfflineImap %s starting...\n  Python: %s Platform: %s\n  Args: %s", ui->version,
                  opts->python_version ? opts->python_version : "none", platform_name(), args.data);
    ui_logfile_write(ui->logfile, LOG_INFO, block);
    free(block);
    buf_release(&args);
    return true;
}

static bool find_kind(const char *type, enum ui_kind *kind_r)
{
    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (str_ieq(type, kind_names[i])) {
            *kind_r = (enum ui_kind)i;
            return true;
        }
    }
    return false;
}

struct ui *ui_new(const char *name, const struct ui_opts *opts, struct err *e)
{
    static const struct ui_opts no_opts;
    if (!opts)
        opts = &no_opts;
    FILE *errf = opts->err ? opts->err : stderr;
    const char *type = name ? name : "ttyui";
    const char *dot = strrchr(type, '.');
    if (dot) {
        /* init.py: Curses.Blinkenlights -> Blinkenlights, via the root logger. */
        type = dot + 1;
        fprintf(errf, "WARNING:root:Using old interface name, consider using one of %s\n",
                UI_LIST_TEXT);
        fflush(errf);
    }
    enum ui_kind kind;
    if (!find_kind(type, &kind)) {
        err_set(e, ERR_CRITICAL, ERRK_CONFIG, "UI '%s' does not exist, choose one of: %s", type,
                UI_LIST_TEXT);
        return NULL;
    }

    struct ui *ui = xcalloc(1, sizeof(*ui));
    ui->kind = kind;
    pthread_mutex_init(&ui->lock, NULL);
    ui->out = opts->out ? opts->out : stdout;
    ui->err = errf;
    ui->in = opts->in ? opts->in : stdin;
    ui->console = kind == UI_KIND_TTY ? ui->err : ui->out;
    ui->tty_path = xstrdup(opts->tty_path ? opts->tty_path : "/dev/tty");
    ui->base_level = kind == UI_KIND_QUIET ? LOG_WARN : LOG_INFO;
    ui->level = opts->debug ? LOG_DEBUG : ui->base_level;
    ui->debug = opts->debug;
    ui->dry_run = opts->dry_run;
    ui->version = xstrdup(opts->version ? opts->version : "0");
    ui->syslog.fd = -1;
    ui->now_ms = opts->now_ms;
    ui->progress_ms = opts->progress_ms;
    if (!ui->progress_ms) {
        const char *env = getenv("OIMAP_PROGRESS_MS");
        uint32_t ms;
        ui->progress_ms = env && str_to_u32(env, strlen(env), &ms) ? ms : 10000;
    }

    /* The syslog interface does not honour -s: it already logs there. */
    const char *syslog_path = opts->syslog_path ? opts->syslog_path : getenv("OIMAP_SYSLOG_SOCKET");
    if (!syslog_path || !*syslog_path)
        syslog_path = "/dev/log";
    if (kind == UI_KIND_SYSLOG || opts->syslog) {
        if (!ui_syslog_open(&ui->syslog, syslog_path, e)) {
            ui_free(&ui);
            return NULL;
        }
        ui->use_syslog_console = kind == UI_KIND_SYSLOG;
        ui->use_syslog_dup = kind != UI_KIND_SYSLOG;
    }
    if (opts->logfile && !open_logfile(ui, opts, e)) {
        ui_free(&ui);
        return NULL;
    }
    if (kind == UI_KIND_BLINKENLIGHTS) {
        struct err be = ERR_INIT;
        if (!ui_bl_start(ui, opts, &be)) {
            /* offlineimap would die in curses; a usable interface is kinder. */
            fprintf(errf, "WARNING:root:%s Using ttyui instead.\n", be.msg);
            fflush(errf);
            err_clear(&be);
            ui->kind = UI_KIND_TTY;
            ui->console = ui->err;
        }
    }
    return ui;
}

void ui_free(struct ui **uip)
{
    struct ui *ui = *uip;
    if (!ui)
        return;
    ui_bl_stop(ui);
    if (ui->installed)
        log_set_sink(NULL, NULL);
    if (ui->logfile)
        fclose(ui->logfile);
    ui_syslog_close(&ui->syslog);
    pthread_mutex_destroy(&ui->lock);
    free(ui->tty_path);
    free(ui->version);
    free(ui->tty_last_thread);
    strvec_free(&ui->errors);
    strvec_free(&ui->thr_names);
    strvec_free(&ui->thr_accounts);
    for (size_t i = 0; i < ui->secrets.n; i++) {
        volatile char *v = ui->secrets.v[i];
        for (size_t j = 0; v[j]; j++)
            v[j] = 0;
    }
    strvec_free(&ui->secrets);
    ui_progress_free(ui);
    free(ui);
    *uip = NULL;
}

void ui_install(struct ui *ui)
{
    ui->installed = true;
    log_set_debug(ui->debug);
    log_set_sink(ui_sink, ui);
}

enum ui_kind ui_kind(const struct ui *ui)
{
    return ui->kind;
}

const char *ui_name(const struct ui *ui)
{
    return kind_names[ui->kind];
}

void ui_set_control(struct ui *ui, const struct ui_control *ctl)
{
    pthread_mutex_lock(&ui->lock);
    ui->control = ctl ? *ctl : (struct ui_control){0};
    pthread_mutex_unlock(&ui->lock);
}

static void add_secret_locked(struct ui *ui, const char *secret)
{
    if (!secret || strlen(secret) < 4 || strvec_contains(&ui->secrets, secret))
        return;
    strvec_push(&ui->secrets, secret);
}

void ui_add_secret(struct ui *ui, const char *secret)
{
    pthread_mutex_lock(&ui->lock);
    add_secret_locked(ui, secret);
    pthread_mutex_unlock(&ui->lock);
}

char *ui_banner_text(const struct ui *ui)
{
    return xasprintf("OfflineIMAP %s\n  " BANNER_LICENSE, ui->version);
}

void ui_banner(struct ui *ui, const char *info)
{
    const char *thread = log_thread_name();
    char *banner = ui_banner_text(ui);
    pthread_mutex_lock(&ui->lock);
    struct ui_record r = {.level = LOG_INFO,
                          .thread = thread,
                          .msg = banner,
                          .console_only = true,
                          .startup = true,
                          .raw = ui->kind == UI_KIND_MACHINE};
    ui_emit(ui, &r);
    if (ui->kind == UI_KIND_MACHINE) {
        r = (struct ui_record){.level = LOG_INFO, .thread = thread, .startup = true};
        r.command = "protocol";
        r.msg = UI_MACHINE_PROTOCOL;
        ui_emit(ui, &r);
        r.command = "initbanner";
        r.msg = banner;
        ui_emit(ui, &r);
    }
    if (info) {
        r = (struct ui_record){.level = LOG_INFO, .thread = thread, .msg = info, .startup = true};
        ui_emit(ui, &r);
    }
    pthread_mutex_unlock(&ui->lock);
    free(banner);
}

void ui_display(struct ui *ui, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&ui->lock);
    emitv(ui, LOG_INFO, ui->kind == UI_KIND_MACHINE ? "_display" : NULL, log_thread_name(), fmt,
          ap);
    pthread_mutex_unlock(&ui->lock);
    va_end(ap);
}

void ui_debugging(struct ui *ui, const char *type)
{
    const char *thread = log_thread_name();
    pthread_mutex_lock(&ui->lock);
    size_t i;
    for (i = 0; i < sizeof(debug_types) / sizeof(debug_types[0]); i++)
        if (strcmp(type, debug_types[i].name) == 0)
            break;
    if (i == sizeof(debug_types) / sizeof(debug_types[0])) {
        ui_emitf(ui, LOG_WARN, NULL, thread, "Invalid debug type: %s", type);
    } else if (!(ui->announced & debug_types[i].cat)) {
        ui->announced |= debug_types[i].cat;
        if (ui->kind == UI_KIND_MACHINE)
            ui_emitf(ui, LOG_DEBUG, "debugging", thread, "%s", type);
        else
            ui_emitf(ui, LOG_DEBUG, NULL, thread, "Now debugging for %s: %s", type,
                     debug_types[i].desc);
    }
    pthread_mutex_unlock(&ui->lock);
}

bool ui_get_password(struct ui *ui, const char *account, const char *host, const char *user,
                     const char *errmsg, char **pw_r, struct err *e)
{
    const char *thread = log_thread_name();
    bool ok = false;
    *pw_r = NULL;
    if (ui->kind != UI_KIND_TTY && ui->kind != UI_KIND_MACHINE &&
        ui->kind != UI_KIND_BLINKENLIGHTS) {
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "Prompting for a password is not supported in this UI backend.");
        return false;
    }
    pthread_mutex_lock(&ui->lock);
    if (ui->kind == UI_KIND_TTY) {
        if (errmsg)
            ui_emitf(ui, LOG_WARN, NULL, thread, "%s: %s", ui_s(user), errmsg);
        char *prompt = xasprintf("Enter password for user '%s': ", ui_s(user));
        ok = ui_tty_getpass(ui, prompt, pw_r, e);
        free(prompt);
    } else if (ui->kind == UI_KIND_MACHINE) {
        if (errmsg)
            ui_emitf(ui, LOG_WARN, "getpasserror", thread, "%s\n%s", ui_s(user), errmsg);
        ok = ui_machine_getpass(ui, ui_s(user), pw_r, e);
    } else if (ui->bl) {
        if (errmsg)
            ui_emitf(ui, LOG_WARN, NULL, thread, "%s: %s", ui_s(user), errmsg);
        ok = ui_bl_getpass(ui, ui_s(user), pw_r, e);
    } else {
        err_set(e, ERR_REPO, ERRK_AUTH,
                "Cannot prompt for the password of user '%s': the blinkenlights screen has "
                "ended.",
                ui_s(user));
    }
    if (ok)
        add_secret_locked(ui, *pw_r);
    pthread_mutex_unlock(&ui->lock);
    return ok;
}

unsigned ui_error_count(struct ui *ui)
{
    pthread_mutex_lock(&ui->lock);
    unsigned n = ui->nerrors;
    pthread_mutex_unlock(&ui->lock);
    return n;
}

unsigned ui_uidvalidity_count(struct ui *ui)
{
    pthread_mutex_lock(&ui->lock);
    unsigned n = ui->nuidval;
    pthread_mutex_unlock(&ui->lock);
    return n;
}

static int exit_status_locked(const struct ui *ui, int status)
{
    if (status != 0)
        return status;
    if (ui->nerrors)
        return 1;
    if (ui->nuidval)
        return 2;
    return 0;
}

int ui_exit_status(struct ui *ui, int status)
{
    pthread_mutex_lock(&ui->lock);
    int st = exit_status_locked(ui, status);
    pthread_mutex_unlock(&ui->lock);
    return st;
}

int ui_terminate(struct ui *ui, int status, const char *errortitle, const char *errormsg)
{
    const char *thread = log_thread_name();
    const char *title = ui_s(errortitle), *msg = ui_s(errormsg);
    ui_bl_stop(ui);
    pthread_mutex_lock(&ui->lock);
    int st = exit_status_locked(ui, status);
    if (ui->kind == UI_KIND_MACHINE) {
        ui_emitf(ui, LOG_INFO, "terminate", thread, "%d\n%s\n%s", st, title, msg);
    } else {
        /* UIBase.terminate(): the queued errors are replayed once. */
        if (ui->errors.n)
            ui_emitf(ui, LOG_WARN, NULL, thread, "ERROR: Exceptions occurred during the run!");
        for (size_t i = 0; i < ui->errors.n; i++)
            ui_emitf(ui, LOG_WARN, NULL, thread, "ERROR: %s", ui->errors.v[i]);
        strvec_free(&ui->errors);
        if (*msg && *title)
            ui_emitf(ui, LOG_WARN, NULL, thread, "ERROR: %s\n\n%s\n", title, msg);
        else if (*msg)
            ui_emitf(ui, LOG_WARN, NULL, thread, "%s\n", msg);
        if (ui->nuidval)
            ui_emitf(ui, LOG_WARN, NULL, thread,
                     "At least one folder skipped due to UID validity problem");
    }
    pthread_mutex_unlock(&ui->lock);
    return st;
}
