#include "base/log.h"

#include "base/log_threads.h"
#include "base/xalloc.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The sink and the debug mask are written once at start-up, before any
 * thread exists, and only read afterwards.
 */
static log_sink_fn *sink_fn;
static void *sink_ctx;
static atomic_uint debug_mask;

static _Thread_local char thread_name[160] = "MainThread";

void log_set_sink(log_sink_fn *fn, void *ctx)
{
    sink_fn = fn;
    sink_ctx = ctx;
}

void log_set_debug(unsigned mask)
{
    atomic_store(&debug_mask, mask);
}

bool log_debug_enabled(enum log_cat cat)
{
    return (atomic_load_explicit(&debug_mask, memory_order_relaxed) & (unsigned)cat) != 0;
}

void log_set_thread_name(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(thread_name, sizeof(thread_name), fmt, ap);
    va_end(ap);
    log_threads_named(thread_name);
}

const char *log_thread_name(void)
{
    return thread_name;
}

static void default_sink(const struct log_event *ev)
{
    if (ev->type != EV_LOG || !ev->text)
        return;
    const char *pre = ev->level == LOG_ERROR ? "ERROR: " : ev->level == LOG_WARN ? "WARNING: " : "";
    fprintf(stderr, "%s%s\n", pre, ev->text);
}

void log_emit(struct log_event *ev)
{
    if (!ev->thread)
        ev->thread = thread_name;
    if (sink_fn)
        sink_fn(sink_ctx, ev);
    else
        default_sink(ev);
    log_threads_note(ev);
}

static void log_text(enum log_level level, enum log_cat cat, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void log_text(enum log_level level, enum log_cat cat, const char *fmt, va_list ap)
{
    char *text = xvasprintf(fmt, ap);
    struct log_event ev = {.type = EV_LOG, .level = level, .cat = cat, .text = text};
    log_emit(&ev);
    free(text);
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_text(LOG_INFO, LOGC_NONE, fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_text(LOG_WARN, LOGC_NONE, fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_text(LOG_ERROR, LOGC_NONE, fmt, ap);
    va_end(ap);
}

void log_debug(enum log_cat cat, const char *fmt, ...)
{
    if (!log_debug_enabled(cat))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_text(LOG_DEBUG, cat, fmt, ap);
    va_end(ap);
}
