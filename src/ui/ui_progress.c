/*
 * Progress lines for ttyui and basic (EV_PROGRESS; see ui.h).
 *
 * offlineimap prints one "Copy message" line per message and nothing about
 * bytes, so a long copy of big messages looks stuck.  Here a folder copy
 * that is still going after one progress interval gets a line
 * "<folder>: N of M messages copied (<bytes>)" at most once per interval,
 * and a last one when it ends.  A copy shorter than the interval prints
 * nothing, so short runs read exactly as offlineimap's.  State is per
 * speaking thread (one folder at a time each) and changes under ui->lock.
 */
#include "ui/ui_internal.h"

#include "base/xalloc.h"
#include "ui/ui_bl.h"

#include <stdlib.h>
#include <string.h>

/* More threads than this copying at once get no progress lines. */
#define UI_PROGRESS_MAX 256

static struct ui_progress *find(struct ui *ui, const char *thread)
{
    for (size_t i = 0; i < ui->nprogress; i++)
        if (strcmp(ui->progress[i].thread, thread) == 0)
            return &ui->progress[i];
    return NULL;
}

static void drop(struct ui *ui, struct ui_progress *p)
{
    free(p->thread);
    free(p->folder);
    *p = ui->progress[--ui->nprogress];
}

void ui_progress_forget(struct ui *ui, const char *thread)
{
    struct ui_progress *p = find(ui, thread);
    if (p)
        drop(ui, p);
}

void ui_progress_free(struct ui *ui)
{
    while (ui->nprogress)
        drop(ui, &ui->progress[0]);
    free(ui->progress);
    ui->progress = NULL;
}

static void line(struct ui *ui, const struct log_event *ev)
{
    struct buf bytes;
    buf_init(&bytes, 64);
    bl_human_bytes(&bytes, ev->count);
    ui_emitf(ui, LOG_INFO, NULL, ev->thread, "%s: %lld of %lld messages copied (%s)",
             ui_s(ev->folder), (long long)ev->num, (long long)ev->total, bytes.data);
    buf_release(&bytes);
}

void ui_progress_event(struct ui *ui, const struct log_event *ev)
{
    if (ui->kind != UI_KIND_TTY && ui->kind != UI_KIND_BASIC)
        return;
    const char *thread = ui_s(ev->thread), *folder = ui_s(ev->folder);
    int64_t now = ui_now_ms(ui);
    bool done = ev->total > 0 && ev->num >= ev->total;
    struct ui_progress *p = find(ui, thread);
    if (p && strcmp(p->folder, folder) != 0) {
        drop(ui, p);
        p = NULL;
    }
    if (!p) {
        if (done || ui->nprogress == UI_PROGRESS_MAX)
            return;
        ui->progress = xreallocarray(ui->progress, ui->nprogress + 1, sizeof(*ui->progress));
        p = &ui->progress[ui->nprogress++];
        *p = (struct ui_progress){
            .thread = xstrdup(thread), .folder = xstrdup(folder), .last_ms = now};
        return;
    }
    if (done) {
        if (p->printed)
            line(ui, ev);
        drop(ui, p);
        return;
    }
    if (now - p->last_ms >= (int64_t)ui->progress_ms) {
        line(ui, ev);
        p->last_ms = now;
        p->printed = true;
    }
}
