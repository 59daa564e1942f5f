#include "base/log_threads.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct thread_entry {
    struct thread_entry *prev, *next;
    char name[160];
    char activity[200];
    char last[240];
    struct timespec activity_at, last_at;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct thread_entry *reg_head;
static pthread_key_t reg_key;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static _Thread_local struct thread_entry *self;

static void entry_gone(void *p)
{
    struct thread_entry *t = p;
    pthread_mutex_lock(&reg_lock);
    if (t->prev)
        t->prev->next = t->next;
    else
        reg_head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&reg_lock);
    free(t);
}

static void reg_init(void)
{
    pthread_key_create(&reg_key, entry_gone);
}

static struct thread_entry *entry(void)
{
    if (self)
        return self;
    pthread_once(&reg_once, reg_init);
    struct thread_entry *t = xcalloc(1, sizeof(*t));
    pthread_mutex_lock(&reg_lock);
    t->next = reg_head;
    if (reg_head)
        reg_head->prev = t;
    reg_head = t;
    pthread_mutex_unlock(&reg_lock);
    pthread_setspecific(reg_key, t);
    self = t;
    return t;
}

void log_threads_named(const char *name)
{
    struct thread_entry *t = entry();
    pthread_mutex_lock(&reg_lock);
    snprintf(t->name, sizeof(t->name), "%s", name);
    pthread_mutex_unlock(&reg_lock);
}

void log_thread_activity(const char *fmt, ...)
{
    struct thread_entry *t = entry();
    char text[sizeof(t->activity)] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_lock(&reg_lock);
    if (!t->name[0])
        snprintf(t->name, sizeof(t->name), "%s", log_thread_name());
    memcpy(t->activity, text, sizeof(text));
    clock_gettime(CLOCK_MONOTONIC, &t->activity_at);
    pthread_mutex_unlock(&reg_lock);
}

static const char *s(const char *p)
{
    return p ? p : "";
}

/* A short account of an event: enough to see where a thread is. */
static void describe(const struct log_event *ev, char *out, size_t n)
{
    switch (ev->type) {
    case EV_LOG:
        snprintf(out, n, "said: %.180s", s(ev->text));
        break;
    case EV_ACCOUNT_START:
        snprintf(out, n, "started account %s", s(ev->account));
        break;
    case EV_ACCOUNT_DONE:
        snprintf(out, n, "finished account %s", s(ev->account));
        break;
    case EV_CONNECTING:
        snprintf(out, n, "connecting to %s:%d", s(ev->host), ev->port);
        break;
    case EV_SYNCING_FOLDER:
    case EV_SYNCING_MESSAGES:
        snprintf(out, n, "syncing folder %s", s(ev->folder));
        break;
    case EV_LOAD_MSGLIST:
    case EV_MSGLIST_LOADED:
        snprintf(out, n, "listing folder %s", s(ev->folder));
        break;
    case EV_COPYING_MESSAGE:
        snprintf(out, n, "copying message UID %lld (%lld of %lld) of %s", (long long)ev->uid,
                 (long long)ev->num, (long long)ev->total, s(ev->folder));
        break;
    case EV_PROGRESS:
        snprintf(out, n, "copying %s: %lld of %lld messages, %lld bytes", s(ev->folder),
                 (long long)ev->num, (long long)ev->total, (long long)ev->count);
        break;
    case EV_SLEEPING:
        snprintf(out, n, "sleeping, %lld s left", (long long)ev->count);
        break;
    case EV_CALLING_HOOK:
    case EV_HOOK_OUTPUT:
        snprintf(out, n, "running a hook");
        break;
    default:
        snprintf(out, n, "event %d %.120s", (int)ev->type, s(ev->folder));
        break;
    }
}

void log_threads_note(const struct log_event *ev)
{
    struct thread_entry *t = self;
    if (!t)
        return;
    char text[sizeof(t->last)];
    describe(ev, text, sizeof(text));
    pthread_mutex_lock(&reg_lock);
    memcpy(t->last, text, sizeof(text));
    clock_gettime(CLOCK_MONOTONIC, &t->last_at);
    pthread_mutex_unlock(&reg_lock);
}

static long long ago(const struct timespec *then, const struct timespec *now)
{
    return (long long)(now->tv_sec - then->tv_sec);
}

unsigned log_threads_dump(log_dump_fn *fn, void *ctx)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* Lines are gathered first: fn may log, which notes the event under the lock. */
    struct strvec lines = STRVEC_INIT;
    pthread_mutex_lock(&reg_lock);
    for (struct thread_entry *t = reg_head; t; t = t->next) {
        char line[800];
        int len = snprintf(line, sizeof(line), "Thread '%s':", t->name);
        if (t->activity[0] && len > 0 && (size_t)len < sizeof(line))
            len += snprintf(line + len, sizeof(line) - (size_t)len, " %s (for %lld s);",
                            t->activity, ago(&t->activity_at, &now));
        if (len > 0 && (size_t)len < sizeof(line)) {
            if (t->last[0])
                snprintf(line + len, sizeof(line) - (size_t)len, " last %s, %lld s ago", t->last,
                         ago(&t->last_at, &now));
            else
                snprintf(line + len, sizeof(line) - (size_t)len, " no event yet");
        }
        strvec_push(&lines, line);
    }
    pthread_mutex_unlock(&reg_lock);
    for (size_t i = 0; i < lines.n; i++)
        fn(ctx, lines.v[i]);
    unsigned n = (unsigned)lines.n;
    strvec_free(&lines);
    return n;
}
