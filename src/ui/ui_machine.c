/*
 * machineui: offlineimap's MachineUI, protocol 7.2.0 (ui/Machine.py).
 *
 * Every record is one line "<severity>:<command>:<thread>:<payload>": the
 * severity is the level name in lower case with info -> msg and
 * warning -> warn; thread and payload go through
 * urlencode([('', x)])[1:], that is quote_plus(x, safe='').  Payload fields
 * are joined by '\n', list elements by '\f'.  Records that MachineUI does not
 * build itself (UIBase's info, warn, error, debug) have an empty command.
 */
#include "ui/ui_internal.h"

#include "base/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The longest password line read from stdin. */
#define UI_PASSWORD_MAX 4096
/* A UID set that would expand to more elements is shown as it is. */
#define UI_UIDLIST_MAX (1u << 22)

/*
 * Python's quote_plus with safe='': the always-safe bytes are ASCII letters,
 * digits and "_.-~"; space becomes '+'; every other byte (the UTF-8 encoding
 * of the str, so each byte of ours) becomes %XX with upper-case hex.
 */
void ui_quote_plus(struct buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '.' || c == '-' || c == '~') {
            buf_append_char(out, (char)c);
        } else if (c == ' ') {
            buf_append_char(out, '+');
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(out, esc, 3);
        }
    }
}

static const char *severity(enum log_level level)
{
    switch (level) {
    case LOG_DEBUG:
        return "debug";
    case LOG_INFO:
        return "msg";
    case LOG_WARN:
        return "warn";
    case LOG_ERROR:
        return "error";
    }
    return "error";
}

void ui_machine_write(struct ui *ui, const struct ui_record *r)
{
    if (r->raw) {
        fprintf(ui->console, "%s\n", r->msg);
        fflush(ui->console);
        return;
    }
    struct buf line;
    buf_init(&line, BUF_UNBOUNDED);
    buf_printf(&line, "%s:%s:", severity(r->level), ui_s(r->command));
    const char *thread = ui_s(r->thread);
    ui_quote_plus(&line, thread, strlen(thread));
    buf_append_char(&line, ':');
    ui_quote_plus(&line, r->msg, strlen(r->msg));
    buf_append_char(&line, '\n');
    fwrite(line.data, 1, line.len, ui->console);
    fflush(ui->console);
    buf_release(&line);
}

static bool parse_uid(const char **pp, unsigned long long *v_r)
{
    const char *p = *pp;
    unsigned long long v = 0;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (unsigned long long)(*p - '0');
        if (v > 0xffffffffull)
            return false;
    }
    *pp = p;
    *v_r = v;
    return true;
}

/*
 * MachineUI lists every UID ("\f".join(str(u) for u in uidlist)); our events
 * carry the collapsed set, so expand it.  Anything that is not a plain set of
 * numbers and ranges is shown as it is.
 */
static void uidlist(struct buf *out, const char *set)
{
    size_t start = out->len, total = 0;
    const char *p = set;
    while (*p) {
        unsigned long long a, b;
        if (!parse_uid(&p, &a))
            goto raw;
        b = a;
        if (*p == ':') {
            p++;
            if (!parse_uid(&p, &b))
                goto raw;
            if (b < a) {
                unsigned long long tmp = a;
                a = b;
                b = tmp;
            }
        }
        if (*p == ',')
            p++;
        else if (*p)
            goto raw;
        total += (size_t)(b - a + 1);
        if (total > UI_UIDLIST_MAX)
            goto raw;
        for (unsigned long long u = a; u <= b; u++)
            buf_printf(out, "%s%llu", out->len > start ? "\f" : "", u);
    }
    return;
raw:
    buf_truncate(out, start);
    buf_append_str(out, set);
}

static void flags_event(struct ui *ui, const struct log_event *ev, const char *command)
{
    struct buf payload;
    buf_init(&payload, BUF_UNBOUNDED);
    uidlist(&payload, ui_s(ev->uids));
    buf_append_char(&payload, '\n');
    ui_join_flags(&payload, ui_s(ev->flags), "\f");
    buf_printf(&payload, "\n%s", ui_s(ev->dst_folder));
    ui_emitf(ui, LOG_INFO, command, ev->thread, "%s", payload.data);
    buf_release(&payload);
}

static void deleting_messages(struct ui *ui, const struct log_event *ev)
{
    struct buf payload;
    buf_init(&payload, BUF_UNBOUNDED);
    uidlist(&payload, ui_s(ev->uids));
    buf_printf(&payload, "\n%s\t%s", ui_s(ev->dst_type), ui_s(ev->dst_folder));
    ui_emitf(ui, LOG_INFO, "deletingmessages", ev->thread, "%s", payload.data);
    buf_release(&payload);
}

void ui_machine_event(struct ui *ui, const struct log_event *ev)
{
    const char *t = ev->thread;
    const char *dry = ui->dry_run ? "[DRYRUN] " : "";
    const char *name;
    char port[32];

    switch (ev->type) {
    case EV_LOG:
    case EV_PROGRESS:
        break;
    case EV_ACCOUNT_START:
        ui_emitf(ui, LOG_INFO, "acct", t, "%s", ui_s(ev->account));
        break;
    case EV_ACCOUNT_DONE:
        ui_emitf(ui, LOG_INFO, "acctdone", t, "%s", ui_s(ev->account));
        break;
    case EV_CONNECTING:
        snprintf(port, sizeof(port), "%d", ev->port);
        ui_emitf(ui, LOG_INFO, "connecting", t, "%s\n%s\n%s", ui_s(ev->host),
                 ev->text ? ev->text : port, ui_s(ev->repo));
        break;
    case EV_SYNC_FOLDERS:
        ui_emitf(ui, LOG_INFO, "syncfolders", t, "%s\n%s", ui_s(ev->repo_type), ui_s(ev->dst_type));
        break;
    case EV_CREATING_FOLDER:
        ui_emitf(ui, LOG_INFO, NULL, t, "%sCreating folder %s[%s]", dry, ui_s(ev->folder),
                 ui_s(ev->repo));
        break;
    case EV_SYNCING_FOLDER:
        ui_emitf(ui, LOG_INFO, "syncingfolder", t, "%s\n%s\n%s\n%s\n", ui_s(ev->repo_type),
                 ui_s(ev->folder), ui_s(ev->dst_type), ui_s(ev->dst_folder));
        break;
    case EV_SKIPPING_FOLDER:
        ui_emitf(ui, LOG_INFO, NULL, t, "Skipping %s (not changed)", ui_s(ev->folder));
        break;
    case EV_LOAD_MSGLIST:
        ui_emitf(ui, LOG_INFO, "loadmessagelist", t, "%s\n%s", ui_s(ev->repo_type),
                 ui_s(ev->folder));
        break;
    case EV_MSGLIST_LOADED:
        ui_emitf(ui, LOG_INFO, "messagelistloaded", t, "%s\n%s\n%lld", ui_s(ev->repo_type),
                 ui_s(ev->folder), (long long)ev->count);
        break;
    case EV_SYNCING_MESSAGES:
        ui_emitf(ui, LOG_INFO, "syncingmessages", t, "%s\n%s\n%s\n%s\n", ui_s(ev->repo_type),
                 ui_s(ev->folder), ui_s(ev->dst_type), ui_s(ev->dst_folder));
        break;
    case EV_COPYING_MESSAGE:
        ui_emitf(ui, LOG_INFO, "copyingmessage", t, "%lld\n%s\n%s\n%s[%s]", (long long)ev->uid,
                 ui_s(ev->repo_type), ui_s(ev->folder), ui_s(ev->dst_type), ui_s(ev->dst_folder));
        break;
    case EV_IGNORING_MESSAGE:
        ui_emitf(ui, LOG_INFO, "ignorecopyingmessage", t, "%lld\n%s\n%s\n%s[%s]",
                 (long long)ev->uid, ui_s(ev->repo_type), ui_s(ev->folder), ui_s(ev->dst_type),
                 ui_s(ev->dst_folder));
        break;
    case EV_DELETING_MESSAGES:
        deleting_messages(ui, ev);
        break;
    case EV_ADDING_FLAGS:
        flags_event(ui, ev, "addingflags");
        break;
    case EV_DELETING_FLAGS:
        flags_event(ui, ev, "deletingflags");
        break;
    case EV_VALIDITY_PROBLEM:
        ui_emitf(ui, LOG_WARN, "validityproblem", t, "%s\n%s\n%lld\n%lld", ui_s(ev->folder),
                 ui_s(ev->repo), (long long)ev->saved, (long long)ev->got);
        break;
    case EV_CALLING_HOOK:
        ui_emitf(ui, LOG_INFO, "callhook", t, "Calling hook: %s", ui_s(ev->text));
        break;
    case EV_HOOK_OUTPUT:
        ui_emitf(ui, LOG_INFO, "callhook", t, "%s", ui_s(ev->text));
        break;
    case EV_SLEEPING:
        ui_emitf(ui, LOG_INFO, "sleeping", t, "%lld\n%lld", (long long)ev->num,
                 (long long)ev->count);
        break;
    case EV_NEW_STATUS_DB:
        ui_emitf(ui, LOG_INFO, "_display", t, "Creating new Local Status db for %s:%s",
                 ui_s(ev->repo), ui_s(ev->folder));
        break;
    case EV_THREAD_START:
        ui_register_thread(ui, t, ui_s(ev->account));
        ui_emitf(ui, LOG_INFO, "registerthread", t, "%s", ui_s(ev->account));
        break;
    case EV_THREAD_EXIT:
        name = ev->text ? ev->text : t;
        ui_emitf(ui, LOG_INFO, "threadExited", t, "%s", name);
        ui_unregister_thread(ui, t, name);
        ui_emitf(ui, LOG_INFO, "unregisterthread", t, "%s", name);
        break;
    }
}

/* MachineUI.getpass(): a "getpass" line, then one line from stdin. */
bool ui_machine_getpass(struct ui *ui, const char *user, char **pw_r, struct err *e)
{
    ui_emitf(ui, LOG_INFO, "getpass", log_thread_name(), "%s", user);
    struct buf line;
    buf_init(&line, UI_PASSWORD_MAX);
    /* All the room at once, so that no copy of the password is left in freed memory. */
    buf_reserve(&line, UI_PASSWORD_MAX);
    int c;
    bool too_long = false;
    while ((c = getc(ui->in)) != EOF && c != '\n') {
        if (!buf_append_char(&line, (char)c))
            too_long = true;
    }
    bool ok = false;
    if (ferror(ui->in)) {
        err_set(e, ERR_REPO, ERRK_AUTH, "Cannot read the password of user '%s' from stdin: %s.",
                user, strerror(errno));
    } else if (c == EOF && line.len == 0) {
        err_set(e, ERR_REPO, ERRK_AUTH,
                "No password for user '%s' on stdin: it reached end of file.", user);
    } else if (too_long) {
        err_set(e, ERR_REPO, ERRK_AUTH,
                "The password line for user '%s' on stdin is longer than %d bytes.", user,
                UI_PASSWORD_MAX);
    } else {
        *pw_r = xstrndup(line.data, line.len);
        ok = true;
    }
    volatile char *v = line.data;
    for (size_t i = 0; i < line.cap; i++)
        v[i] = 0;
    buf_release(&line);
    return ok;
}
