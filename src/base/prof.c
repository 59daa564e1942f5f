/*
 * prof: per-thread operation tables for -P (see prof.h).
 */
#include "base/prof.h"

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct prof_row {
    char *context;
    const char *kind;
    char *op;
    uint64_t count;
    int64_t total_ns, max_ns;
    uint64_t bytes;
};

struct prof_thread {
    struct prof_row *rows;
    size_t n, cap;
    char *first_name;
    time_t started;
    int64_t started_ns;
};

/* Set once before threads start, read-only afterwards. */
bool prof_on;
static char *prof_dir;
static pthread_key_t key;
static atomic_uint thread_seq;
static _Thread_local struct prof_thread *self;

int64_t prof_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void write_table(struct prof_thread *t);

static void thread_exit(void *arg)
{
    struct prof_thread *t = arg;
    self = NULL;
    write_table(t);
}

void prof_enable(const char *dir)
{
    prof_dir = xstrdup(dir);
    pthread_key_create(&key, thread_exit);
    prof_on = true;
}

bool prof_enabled(void)
{
    return prof_on;
}

static struct prof_thread *get_self(void)
{
    if (!self) {
        self = xcalloc(1, sizeof(*self));
        self->first_name = xstrdup(log_thread_name());
        self->started = time(NULL);
        self->started_ns = prof_now_ns();
        pthread_setspecific(key, self);
    }
    return self;
}

static struct prof_row *row_for(struct prof_thread *t, const char *kind, const char *op)
{
    const char *ctx = log_thread_name();
    /* Newest rows first: an operation usually repeats in the same context. */
    for (size_t i = t->n; i-- > 0;) {
        struct prof_row *r = &t->rows[i];
        if ((r->kind == kind || !strcmp(r->kind, kind)) && !strcmp(r->op, op) &&
            !strcmp(r->context, ctx))
            return r;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->rows = xreallocarray(t->rows, t->cap, sizeof(*t->rows));
    }
    struct prof_row *r = &t->rows[t->n++];
    memset(r, 0, sizeof(*r));
    r->context = xstrdup(ctx);
    r->kind = kind;
    r->op = xstrdup(op);
    return r;
}

void prof_record(struct prof_mark *m, const char *kind, const char *op, uint64_t bytes)
{
    if (!prof_on || !m->start_ns)
        return;
    int64_t d = prof_now_ns() - m->start_ns;
    struct prof_row *r = row_for(get_self(), kind, op);
    r->count++;
    r->total_ns += d;
    if (d > r->max_ns)
        r->max_ns = d;
    r->bytes += bytes;
    m->start_ns = 0;
}

void prof_record_add(const char *kind, const char *op, uint64_t count, uint64_t bytes)
{
    if (!prof_on)
        return;
    struct prof_row *r = row_for(get_self(), kind, op);
    r->count += count;
    r->bytes += bytes;
}

static int cmp_rows(const void *a, const void *b)
{
    const struct prof_row *x = a, *y = b;
    int c = strcmp(x->context, y->context);
    if (c)
        return c;
    return x->total_ns > y->total_ns ? -1 : x->total_ns < y->total_ns;
}

/* The thread name made safe for a file name. */
static void file_part(struct buf *b, const char *name)
{
    size_t start = b->len;
    for (const char *p = name; *p && b->len - start < 60; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.';
        if (ok)
            buf_append_char(b, c);
        else if (b->len > start && b->data[b->len - 1] != '_')
            buf_append_char(b, '_');
    }
    while (b->len > start && b->data[b->len - 1] == '_')
        buf_truncate(b, b->len - 1);
}

static void write_table(struct prof_thread *t)
{
    if (!t)
        return;
    if (t->n) {
        qsort(t->rows, t->n, sizeof(*t->rows), cmp_rows);
        unsigned seq = atomic_fetch_add(&thread_seq, 1) + 1;
        struct tm tm;
        localtime_r(&t->started, &tm);
        char stamp[32];
        strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
        struct buf path;
        buf_init(&path, BUF_UNBOUNDED);
        buf_printf(&path, "%s/%s_%u_", prof_dir, stamp, seq);
        file_part(&path, t->first_name);
        buf_append_str(&path, ".prof");

        struct buf out;
        buf_init(&out, BUF_UNBOUNDED);
        char when[64];
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        buf_printf(&out,
                   "# offlineimap -P profile of thread \"%s\" (process %ld), started %s, "
                   "%.3f s.\n"
                   "# For each context (the thread's name at the time, in brackets) and operation: "
                   "how many,\n"
                   "# the wall-clock seconds in all, the longest one in milliseconds, and the "
                   "bytes moved.\n"
                   "# Operations nest (a folder sync holds its IMAP commands), so rows overlap "
                   "in time.\n"
                   "# Not cProfile data: a text table (see -P in the manual).\n",
                   t->first_name, (long)getpid(), when,
                   (double)(prof_now_ns() - t->started_ns) / 1e9);
        for (size_t i = 0; i < t->n; i++) {
            const struct prof_row *r = &t->rows[i];
            if (i == 0 || strcmp(r->context, t->rows[i - 1].context) != 0) {
                buf_printf(&out, "\n[%s]\n", r->context);
                buf_printf(&out, "%-8s %-24s %8s %10s %10s %14s\n", "kind", "operation", "count",
                           "total_s", "max_ms", "bytes");
            }
            buf_printf(&out, "%-8s %-24s %8llu %10.3f %10.1f %14llu\n", r->kind, r->op,
                       (unsigned long long)r->count, (double)r->total_ns / 1e9,
                       (double)r->max_ns / 1e6, (unsigned long long)r->bytes);
        }
        int fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || !fs_write_all(fd, out.data, out.len))
            log_warn("Profile mode: cannot write %s: %s", path.data, strerror(errno));
        if (fd >= 0)
            close(fd);
        buf_release(&out);
        buf_release(&path);
    }
    for (size_t i = 0; i < t->n; i++) {
        free(t->rows[i].context);
        free(t->rows[i].op);
    }
    free(t->rows);
    free(t->first_name);
    free(t);
}

void prof_thread_done(void)
{
    if (!prof_on || !self)
        return;
    struct prof_thread *t = self;
    self = NULL;
    pthread_setspecific(key, NULL);
    write_table(t);
}
