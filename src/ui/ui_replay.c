/*
 * ui-replay: feed a scenario of events to one interface, for the test that
 * compares our output with offlineimap3's own UI classes
 * (test_ui_offlineimap3.py).
 *
 *   ui-replay UI [--debug MASK] [--dry-run] [--logfile F] [--syslog]
 *             [--syslog-path P] [--version V] [--python-version V] [--args S]
 *
 * Reads lines "op<TAB>thread<TAB>..." on stdin, with \n \t \f \\ escaped in
 * values; runs each as the named thread through the installed sink:
 *   banner [INFO] | display TEXT | debugging TYPE | terminate STATUS TITLE MSG
 *   ev TYPE key=value...
 * Exits with ui_terminate()'s status after a terminate line, else 0.
 */
#include "ui/ui.h"

#include "base/buf.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const char *const ev_names[] = {
    [EV_LOG] = "log",
    [EV_ACCOUNT_START] = "account_start",
    [EV_ACCOUNT_DONE] = "account_done",
    [EV_CONNECTING] = "connecting",
    [EV_SYNC_FOLDERS] = "sync_folders",
    [EV_CREATING_FOLDER] = "creating_folder",
    [EV_SYNCING_FOLDER] = "syncing_folder",
    [EV_SKIPPING_FOLDER] = "skipping_folder",
    [EV_LOAD_MSGLIST] = "load_msglist",
    [EV_MSGLIST_LOADED] = "msglist_loaded",
    [EV_SYNCING_MESSAGES] = "syncing_messages",
    [EV_COPYING_MESSAGE] = "copying_message",
    [EV_DELETING_MESSAGES] = "deleting_messages",
    [EV_ADDING_FLAGS] = "adding_flags",
    [EV_DELETING_FLAGS] = "deleting_flags",
    [EV_VALIDITY_PROBLEM] = "validity_problem",
    [EV_CALLING_HOOK] = "calling_hook",
    [EV_HOOK_OUTPUT] = "hook_output",
    [EV_SLEEPING] = "sleeping",
    [EV_NEW_STATUS_DB] = "new_status_db",
    [EV_PROGRESS] = "progress",
    [EV_THREAD_START] = "thread_start",
    [EV_THREAD_EXIT] = "thread_exit",
    [EV_IGNORING_MESSAGE] = "ignoring_message",
};

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "ui-replay: %s%s\n", msg, arg ? arg : "");
    exit(99);
}

/* Undo the \n \t \f \\ escapes in place. */
static char *unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r != '\\' || !r[1]) {
            *w++ = *r;
            continue;
        }
        r++;
        *w++ = *r == 'n' ? '\n' : *r == 't' ? '\t' : *r == 'f' ? '\f' : *r;
    }
    *w = '\0';
    return s;
}

static int64_t num(const char *v)
{
    int64_t n;
    if (!str_to_i64(v, strlen(v), &n))
        die("bad number: ", v);
    return n;
}

static void set_field(struct log_event *ev, const char *key, const char *v)
{
    static const struct {
        const char *name;
        size_t off;
    } strs[] = {
        {"account", offsetof(struct log_event, account)},
        {"host", offsetof(struct log_event, host)},
        {"repo", offsetof(struct log_event, repo)},
        {"repo_type", offsetof(struct log_event, repo_type)},
        {"folder", offsetof(struct log_event, folder)},
        {"dst_repo", offsetof(struct log_event, dst_repo)},
        {"dst_type", offsetof(struct log_event, dst_type)},
        {"dst_folder", offsetof(struct log_event, dst_folder)},
        {"uids", offsetof(struct log_event, uids)},
        {"flags", offsetof(struct log_event, flags)},
        {"text", offsetof(struct log_event, text)},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (strcmp(key, strs[i].name) == 0) {
            *(const char **)((char *)ev + strs[i].off) = v;
            return;
        }
    }
    if (strcmp(key, "level") == 0)
        ev->level = !strcmp(v, "debug")  ? LOG_DEBUG
                    : !strcmp(v, "info") ? LOG_INFO
                    : !strcmp(v, "warn") ? LOG_WARN
                                         : LOG_ERROR;
    else if (strcmp(key, "cat") == 0)
        ev->cat = !strcmp(v, "imap")      ? LOGC_IMAP
                  : !strcmp(v, "maildir") ? LOGC_MAILDIR
                  : !strcmp(v, "thread")  ? LOGC_THREAD
                                          : LOGC_SYNC;
    else if (strcmp(key, "uid") == 0)
        ev->uid = num(v);
    else if (strcmp(key, "num") == 0)
        ev->num = num(v);
    else if (strcmp(key, "total") == 0)
        ev->total = num(v);
    else if (strcmp(key, "count") == 0)
        ev->count = num(v);
    else if (strcmp(key, "saved") == 0)
        ev->saved = num(v);
    else if (strcmp(key, "got") == 0)
        ev->got = num(v);
    else if (strcmp(key, "port") == 0)
        ev->port = (int)num(v);
    else
        die("unknown field: ", key);
}

static void run_event(struct strvec *f)
{
    struct log_event ev = {0};
    size_t t;
    for (t = 0; t < sizeof(ev_names) / sizeof(ev_names[0]); t++)
        if (strcmp(f->v[2], ev_names[t]) == 0)
            break;
    if (t == sizeof(ev_names) / sizeof(ev_names[0]))
        die("unknown event: ", f->v[2]);
    ev.type = (enum ev_type)t;
    for (size_t i = 3; i < f->n; i++) {
        char *eq = strchr(f->v[i], '=');
        if (!eq)
            die("field without '=': ", f->v[i]);
        *eq = '\0';
        set_field(&ev, f->v[i], unescape(eq + 1));
    }
    log_emit(&ev);
}

static const char *arg_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        die("missing value for ", argv[*i]);
    return argv[++*i];
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: ui-replay UI [options] < scenario", NULL);
    struct ui_opts opts = {0};
    char *joined_args[1];
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--debug") == 0)
            opts.debug = (unsigned)num(arg_value(argc, argv, &i));
        else if (strcmp(argv[i], "--dry-run") == 0)
            opts.dry_run = true;
        else if (strcmp(argv[i], "--logfile") == 0)
            opts.logfile = arg_value(argc, argv, &i);
        else if (strcmp(argv[i], "--syslog") == 0)
            opts.syslog = true;
        else if (strcmp(argv[i], "--syslog-path") == 0)
            opts.syslog_path = arg_value(argc, argv, &i);
        else if (strcmp(argv[i], "--version") == 0)
            opts.version = arg_value(argc, argv, &i);
        else if (strcmp(argv[i], "--python-version") == 0)
            opts.python_version = arg_value(argc, argv, &i);
        else if (strcmp(argv[i], "--args") == 0) {
            joined_args[0] = (char *)arg_value(argc, argv, &i);
            opts.argc = 1;
            opts.argv = joined_args;
        } else
            die("unknown option ", argv[i]);
    }
    struct err e = ERR_INIT;
    struct ui *ui = ui_new(argv[1], &opts, &e);
    if (!ui)
        die(e.msg, NULL);
    ui_install(ui);

    int status = 0;
    struct buf line;
    buf_init(&line, 1 << 20);
    int c;
    for (;;) {
        buf_reset(&line);
        while ((c = getchar()) != EOF && c != '\n')
            if (!buf_append_char(&line, (char)c))
                die("line too long", NULL);
        if (c == EOF && line.len == 0)
            break;
        /* Split by hand: strvec_split() trims, and values may start with spaces. */
        struct strvec f = STRVEC_INIT;
        char *rest = line.data, *field;
        while ((field = strsep(&rest, "\t")))
            strvec_push(&f, field);
        if (f.n < 2)
            die("short line: ", line.data);
        log_set_thread_name("%s", unescape(f.v[1]));
        const char *op = f.v[0];
        if (strcmp(op, "banner") == 0)
            ui_banner(ui, f.n == 3 ? unescape(f.v[2]) : NULL);
        else if (strcmp(op, "display") == 0 && f.n == 3)
            ui_display(ui, "%s", unescape(f.v[2]));
        else if (strcmp(op, "debugging") == 0 && f.n == 3)
            ui_debugging(ui, unescape(f.v[2]));
        else if (strcmp(op, "terminate") == 0 && f.n == 5)
            status = ui_terminate(ui, (int)num(f.v[2]), unescape(f.v[3]), unescape(f.v[4]));
        else if (strcmp(op, "ev") == 0 && f.n >= 3)
            run_event(&f);
        else
            die("bad line: ", line.data);
        strvec_free(&f);
    }
    buf_release(&line);
    ui_free(&ui);
    return status;
}
