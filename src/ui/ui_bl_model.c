/*
 * The blinkenlights model: accounts, lights, log lines, countdowns and
 * progress, without curses (see ui_bl.h).  Callers hold ui->lock.
 */
#include "ui/ui_bl.h"

#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

void bl_model_init(struct bl_model *m)
{
    memset(m, 0, sizeof(*m));
    m->next_seq = 1;
}

static void light_release(struct bl_light *l)
{
    free(l->thread);
    free(l->prog.folder);
}

void bl_model_release(struct bl_model *m)
{
    for (size_t a = 0; a < m->nacc; a++) {
        for (size_t i = 0; i < m->acc[a].nlights; i++)
            light_release(&m->acc[a].lights[i]);
        free(m->acc[a].lights);
        free(m->acc[a].name);
    }
    for (size_t i = 0; i < m->ring_len; i++)
        free(m->ring[(m->ring_start + i) % BL_LOG_LINES].text);
    memset(m, 0, sizeof(*m));
}

const char *bl_thread_account(const char *thread, const char *account, size_t *len_r)
{
    if (account && *account) {
        *len_r = strlen(account);
        return account;
    }
    if (!thread)
        return NULL;
    static const char acct_prefix[] = "Account sync ";
    if (strncmp(thread, acct_prefix, sizeof(acct_prefix) - 1) == 0 &&
        thread[sizeof(acct_prefix) - 1]) {
        const char *name = thread + sizeof(acct_prefix) - 1;
        *len_r = strlen(name);
        return name;
    }
    /* "Folder INBOX [acc: Personal]", "Folder X [remote name Y] [acc: Personal]". */
    const char *p = NULL, *q = thread;
    while ((q = strstr(q, "[acc: ")) != NULL)
        p = q++;
    size_t tlen = strlen(thread);
    if (p && tlen > 0 && thread[tlen - 1] == ']') {
        const char *name = p + 6;
        const char *end = thread + tlen - 1;
        if (end > name) {
            *len_r = (size_t)(end - name);
            return name;
        }
    }
    return NULL;
}

static size_t find_account(struct bl_model *m, const char *name, size_t len)
{
    for (size_t a = 0; a < m->nacc; a++) {
        const char *n = m->acc[a].name;
        if (!name ? !n : (n && strlen(n) == len && memcmp(n, name, len) == 0))
            return a;
    }
    /* Full: threads of further accounts go to the first row (*Control). */
    if (m->nacc == BL_MAX_ACCOUNTS)
        return 0;
    struct bl_account *acc = &m->acc[m->nacc];
    memset(acc, 0, sizeof(*acc));
    acc->name = name ? xstrndup(name, len) : NULL;
    m->layout_gen++;
    m->dirty = true;
    return m->nacc++;
}

static void light_idle(struct bl_light *l)
{
    l->color = BL_BLACK;
    l->bold = false;
    l->blink = false;
    l->idle = true;
    l->prog.on = false;
}

struct bl_light *bl_model_find(struct bl_model *m, uint64_t tid)
{
    for (size_t a = 0; a < m->nacc; a++)
        for (size_t i = 0; i < m->acc[a].nlights; i++)
            if (m->acc[a].lights[i].tid == tid)
                return &m->acc[a].lights[i];
    return NULL;
}

size_t bl_model_light(struct bl_model *m, uint64_t tid, const char *thread, const char *account,
                      size_t account_len, size_t *light_r)
{
    if (account && account_len == 0)
        account = NULL;
    /* Make sure the *Control row comes first, as the main thread's does. */
    if (m->nacc == 0)
        find_account(m, NULL, 0);
    size_t a = find_account(m, account, account_len);
    struct bl_account *acc = &m->acc[a];
    size_t i;
    for (i = 0; i < acc->nlights; i++)
        if (acc->lights[i].tid == tid)
            break;
    if (i == acc->nlights) {
        /* A thread that moved to another account leaves its old light dark. */
        for (size_t b = 0; b < m->nacc; b++) {
            for (size_t j = 0; b != a && j < m->acc[b].nlights; j++) {
                if (m->acc[b].lights[j].tid == tid) {
                    light_idle(&m->acc[b].lights[j]);
                    m->acc[b].lights[j].tid = 0;
                }
            }
        }
        for (i = 0; i < acc->nlights; i++)
            if (acc->lights[i].idle)
                break;
        if (i == acc->nlights && acc->nlights == BL_MAX_LIGHTS_PER_ACCOUNT) {
            i = acc->nlights - 1;
        } else if (i == acc->nlights) {
            acc->lights = xreallocarray(acc->lights, acc->nlights + 1, sizeof(*acc->lights));
            memset(&acc->lights[acc->nlights++], 0, sizeof(*acc->lights));
        }
        struct bl_light *l = &acc->lights[i];
        l->tid = tid;
        l->color = BL_DEFAULT;
        l->bold = l->blink = l->idle = false;
        l->prog.on = false;
        m->dirty = true;
    }
    struct bl_light *l = &acc->lights[i];
    l->idle = false; /* its thread is back, or a new one took it */
    if (thread && (!l->thread || strcmp(l->thread, thread) != 0)) {
        free(l->thread);
        l->thread = xstrdup(thread);
    }
    *light_r = i;
    return a;
}

void bl_light_set(struct bl_model *m, struct bl_light *l, enum bl_color c, bool bold)
{
    l->color = c;
    l->bold = bold;
    l->blink = false;
    l->idle = false;
    if (c != BL_ORANGE)
        l->prog.on = false;
    m->dirty = true;
}

static void progress(struct bl_model *m, struct bl_light *l, const struct log_event *ev)
{
    bl_light_set(m, l, BL_ORANGE, false);
    struct bl_progress *p = &l->prog;
    const char *folder = ev->folder ? ev->folder : "";
    if (!p->folder || strcmp(p->folder, folder) != 0) {
        free(p->folder);
        p->folder = xstrdup(folder);
    }
    p->num = ev->num;
    p->total = ev->total;
    p->bytes = ev->count;
    /* A finished copy is no longer progress. */
    p->on = !(ev->total > 0 && ev->num >= ev->total);
}

bool bl_model_event(struct bl_model *m, size_t a, struct bl_light *l, const struct log_event *ev,
                    int64_t now_ms)
{
    struct bl_account *acc = &m->acc[a];
    switch (ev->type) {
    case EV_LOG:
        if (ev->level >= LOG_WARN)
            bl_light_set(m, l, BL_RED, true);
        break;
    case EV_ACCOUNT_START:
        bl_light_set(m, l, BL_PURPLE, false);
        break;
    case EV_CONNECTING:
    case EV_CALLING_HOOK:
        bl_light_set(m, l, BL_GRAY, false);
        break;
    case EV_SYNC_FOLDERS:
    case EV_SYNCING_MESSAGES:
        bl_light_set(m, l, BL_BLUE, false);
        break;
    case EV_SYNCING_FOLDER:
    case EV_SKIPPING_FOLDER:
        bl_light_set(m, l, BL_CYAN, false);
        break;
    case EV_LOAD_MSGLIST:
        bl_light_set(m, l, BL_GREEN, false);
        break;
    case EV_COPYING_MESSAGE:
        /* Keep the folder's progress: copying is what it measures. */
        l->color = BL_ORANGE;
        l->bold = l->blink = l->idle = false;
        m->dirty = true;
        break;
    case EV_IGNORING_MESSAGE:
    case EV_DELETING_MESSAGES:
        bl_light_set(m, l, BL_RED, false);
        break;
    case EV_ADDING_FLAGS:
        bl_light_set(m, l, BL_YELLOW, false);
        break;
    case EV_DELETING_FLAGS:
        bl_light_set(m, l, BL_PINK, false);
        break;
    case EV_PROGRESS:
        progress(m, l, ev);
        break;
    case EV_SLEEPING:
        if (ev->num > 0) {
            bool starts = !acc->sleeping;
            acc->sleeping = true;
            acc->sleep_until_ms = now_ms + (ev->count > 0 ? ev->count : 0) * 1000;
            bl_light_set(m, l, BL_RED, false);
            l->blink = true;
            return starts;
        }
        acc->sleeping = false;
        bl_light_set(m, l, BL_GRAY, false);
        break;
    case EV_THREAD_EXIT:
        bl_model_thread_named_gone(m, ev->text ? ev->text : ev->thread, l ? l->tid : 0);
        break;
    default:
        break;
    }
    return false;
}

void bl_model_thread_gone(struct bl_model *m, uint64_t tid)
{
    struct bl_light *l = bl_model_find(m, tid);
    if (l) {
        light_idle(l);
        l->tid = 0;
        m->dirty = true;
    }
}

void bl_model_thread_named_gone(struct bl_model *m, const char *thread, uint64_t caller)
{
    if (!thread)
        return;
    for (size_t a = 0; a < m->nacc; a++) {
        for (size_t i = 0; i < m->acc[a].nlights; i++) {
            struct bl_light *l = &m->acc[a].lights[i];
            if (!l->idle && l->thread && strcmp(l->thread, thread) == 0) {
                light_idle(l);
                /*
                 * The thread that reports it lives on (a worker between two
                 * folders, the account thread after a folder it did itself):
                 * dark, but still its own, not free for another thread.
                 */
                if (caller && l->tid == caller)
                    l->idle = false;
                m->dirty = true;
            }
        }
    }
}

void bl_model_log(struct bl_model *m, const struct bl_light *l, const char *msg)
{
    size_t idx;
    if (m->ring_len < BL_LOG_LINES) {
        idx = (m->ring_start + m->ring_len++) % BL_LOG_LINES;
    } else {
        idx = m->ring_start;
        m->ring_start = (m->ring_start + 1) % BL_LOG_LINES;
        free(m->ring[idx].text);
    }
    size_t len = strlen(msg);
    struct bl_line *line = &m->ring[idx];
    line->text = xstrndup(msg, len > BL_LOG_LINE_MAX ? BL_LOG_LINE_MAX : len);
    /* Text from a server must not move the cursor or change the terminal. */
    for (char *p = line->text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\t')
            *p = ' ';
        else if ((c < 0x20 && c != '\n') || c == 0x7f)
            *p = '?';
    }
    line->color = l ? l->color : BL_DEFAULT;
    line->bold = l ? l->bold : false;
    line->seq = m->next_seq++;
    m->dirty = true;
}

int64_t bl_sleep_remaining(const struct bl_account *a, int64_t now_ms)
{
    if (!a->sleeping || a->sleep_until_ms <= now_ms)
        return 0;
    return (a->sleep_until_ms - now_ms + 999) / 1000;
}

/* Python's "%12.12s" on a str: at most 12 characters, right-aligned in 12. */
static void pad_trunc(struct buf *out, const char *s, size_t width)
{
    size_t chars = 0, bytes = 0;
    for (const char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xc0) != 0x80) {
            if (chars == width)
                break;
            chars++;
        }
        bytes = (size_t)(p - s) + 1;
    }
    for (size_t i = chars; i < width; i++)
        buf_append_char(out, ' ');
    buf_append(out, s, bytes);
}

void bl_row_prefix(const struct bl_model *m, size_t a, int64_t now_ms, struct buf *out)
{
    const struct bl_account *acc = &m->acc[a];
    int64_t secs = bl_sleep_remaining(acc, now_ms);
    buf_printf(out, "%zu: [", a);
    if (secs)
        buf_printf(out, "%3lld:%02lld", (long long)(secs / 60), (long long)(secs % 60));
    else
        buf_append_str(out, "active");
    buf_append_str(out, "] ");
    pad_trunc(out, acc->name ? acc->name : "*Control", 12);
    buf_append_str(out, ": ");
}

void bl_human_bytes(struct buf *out, int64_t bytes)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        buf_printf(out, "%lld B", (long long)(bytes < 0 ? 0 : bytes));
        return;
    }
    double v = (double)bytes / 1024.0;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024.0;
        u++;
    }
    buf_printf(out, "%.1f %s", v, units[u]);
}

void bl_row_progress(const struct bl_model *m, size_t a, struct buf *out)
{
    const struct bl_account *acc = &m->acc[a];
    for (size_t i = 0; i < acc->nlights; i++) {
        const struct bl_progress *p = &acc->lights[i].prog;
        if (!p->on)
            continue;
        buf_printf(out, " %s %lld/%lld ", p->folder ? p->folder : "", (long long)p->num,
                   (long long)p->total);
        bl_human_bytes(out, p->bytes);
    }
}

const struct bl_account *bl_model_hotkey(const struct bl_model *m, int digit, bool *control_r)
{
    if (digit < 0 || (size_t)digit >= m->nacc)
        return NULL;
    *control_r = m->acc[digit].name == NULL;
    return &m->acc[digit];
}
