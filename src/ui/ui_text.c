/*
 * The messages of offlineimap's UIBase, which ttyui, basic, quiet and syslog
 * share: format strings and levels as in ui/UIBase.py (and TTY.py's
 * sleeping(), which logs at INFO where UIBase logs at DEBUG).
 */
#include "ui/ui_internal.h"

#include "base/xalloc.h"

#include <stdlib.h>

/* Python's // on integers rounds toward negative infinity. */
static long long floordiv(long long a, long long b)
{
    long long q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static void sleeping(struct ui *ui, const struct log_event *ev)
{
    long long sleepsecs = ev->num, remaining = ev->count;
    if (sleepsecs <= 0 || floordiv(remaining, 60) == floordiv(remaining - sleepsecs, 60))
        return;
    ui_emitf(ui, ui->kind == UI_KIND_TTY ? LOG_INFO : LOG_DEBUG, NULL, ev->thread,
             "Next refresh in %.1f minutes", (double)remaining / 60.0);
}

static void connecting(struct ui *ui, const struct log_event *ev)
{
    char port[32] = "";
    const char *portstr = port;
    if (ev->text)
        portstr = ev->text;
    else if (ev->port)
        snprintf(port, sizeof(port), "%d", ev->port);
    if (ev->host && *ev->host)
        ui_emitf(ui, LOG_INFO, NULL, ev->thread, "Establishing connection to %s:%s (%s)", ev->host,
                 portstr, ui_s(ev->repo));
    else
        ui_emitf(ui, LOG_INFO, NULL, ev->thread, "Establishing connection (%s)", ui_s(ev->repo));
}

static void flags_event(struct ui *ui, const struct log_event *ev, const char *what,
                        const char *prep)
{
    struct buf flags;
    buf_init(&flags, BUF_UNBOUNDED);
    ui_join_flags(&flags, ui_s(ev->flags), ", ");
    ui_emitf(ui, LOG_INFO, NULL, ev->thread, "%s flag %s %s %lld messages on %s", what, flags.data,
             prep, (long long)ev->count, ui_s(ev->dst_folder));
    buf_release(&flags);
}

void ui_text_event(struct ui *ui, const struct log_event *ev)
{
    const char *t = ev->thread;
    const char *dry = ui->dry_run ? "[DRYRUN] " : "";
    long long secs;

    switch (ev->type) {
    case EV_LOG:
    case EV_PROGRESS:
        break;
    case EV_ACCOUNT_START:
        ui_emitf(ui, LOG_INFO, NULL, t, "*** Processing account %s", ui_s(ev->account));
        break;
    case EV_ACCOUNT_DONE:
        secs = ev->num < 0 ? 0 : (long long)ev->num;
        ui_emitf(ui, LOG_INFO, NULL, t, "*** Finished account '%s' in %lld:%02lld",
                 ui_s(ev->account), secs / 60, secs % 60);
        break;
    case EV_CONNECTING:
        connecting(ui, ev);
        break;
    case EV_SYNC_FOLDERS:
        ui_debugf(ui, LOGC_SYNC, t, "Copying folder structure from %s to %s", ui_s(ev->repo),
                  ui_s(ev->dst_repo));
        break;
    case EV_CREATING_FOLDER:
        ui_emitf(ui, LOG_INFO, NULL, t, "%sCreating folder %s[%s]", dry, ui_s(ev->folder),
                 ui_s(ev->repo));
        break;
    case EV_SYNCING_FOLDER:
        ui_emitf(ui, LOG_INFO, NULL, t, "Syncing %s: %s -> %s", ui_s(ev->folder),
                 ui_s(ev->repo_type), ui_s(ev->dst_type));
        break;
    case EV_SKIPPING_FOLDER:
        ui_emitf(ui, LOG_INFO, NULL, t, "Skipping %s (not changed)", ui_s(ev->folder));
        break;
    case EV_LOAD_MSGLIST:
        ui_emitf(ui, LOG_DEBUG, NULL, t, "Loading message list for %s[%s]", ui_s(ev->repo_type),
                 ui_s(ev->folder));
        break;
    case EV_MSGLIST_LOADED:
        ui_emitf(ui, LOG_DEBUG, NULL, t, "Message list for %s[%s] loaded: %lld messages",
                 ui_s(ev->repo_type), ui_s(ev->folder), (long long)ev->count);
        break;
    case EV_SYNCING_MESSAGES:
        ui_emitf(ui, LOG_DEBUG, NULL, t, "Syncing messages %s[%s] -> %s[%s]", ui_s(ev->repo_type),
                 ui_s(ev->folder), ui_s(ev->dst_type), ui_s(ev->dst_folder));
        break;
    case EV_COPYING_MESSAGE:
        ui_emitf(ui, LOG_INFO, NULL, t, "Copy message UID %lld (%lld/%lld) %s:%s -> %s:%s",
                 (long long)ev->uid, (long long)ev->num, (long long)ev->total, ui_s(ev->repo),
                 ui_s(ev->folder), ui_s(ev->dst_repo), ui_s(ev->dst_folder));
        break;
    case EV_IGNORING_MESSAGE:
        ui_emitf(ui, LOG_INFO, NULL, t, "IGNORED: Copy message UID %lld %s:%s -> %s",
                 (long long)ev->uid, ui_s(ev->repo), ui_s(ev->folder), ui_s(ev->dst_repo));
        break;
    case EV_DELETING_MESSAGES:
        ui_emitf(ui, LOG_INFO, NULL, t, "%sDeleting %lld messages (%s) in %s[%s]", dry,
                 (long long)ev->count, ui_s(ev->uids), ui_s(ev->dst_type), ui_s(ev->dst_folder));
        break;
    case EV_ADDING_FLAGS:
        flags_event(ui, ev, "Adding", "to");
        break;
    case EV_DELETING_FLAGS:
        flags_event(ui, ev, "Deleting", "from");
        break;
    case EV_VALIDITY_PROBLEM:
        ui_emitf(ui, LOG_WARN, NULL, t,
                 "UID validity problem for folder %s (repo %s) (saved %lld; got %lld); skipping "
                 "it. Please see FAQ and manual on how to handle this.",
                 ui_s(ev->folder), ui_s(ev->repo), (long long)ev->saved, (long long)ev->got);
        break;
    case EV_CALLING_HOOK:
        ui_emitf(ui, LOG_INFO, NULL, t, "%sCalling hook: %s", dry, ui_s(ev->text));
        break;
    case EV_HOOK_OUTPUT:
        ui_emitf(ui, LOG_INFO, NULL, t, "%s%s", dry, ui_s(ev->text));
        break;
    case EV_SLEEPING:
        sleeping(ui, ev);
        break;
    case EV_NEW_STATUS_DB:
        ui_emitf(ui, LOG_INFO, NULL, t, "Creating new Local Status db for %s:%s", ui_s(ev->repo),
                 ui_s(ev->folder));
        break;
    case EV_THREAD_START:
        ui_register_thread(ui, t, ui_s(ev->account));
        break;
    case EV_THREAD_EXIT:
        ui_unregister_thread(ui, t, ev->text ? ev->text : t);
        break;
    }
}
