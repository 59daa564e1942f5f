/*
 * conn: the filter stack, write buffering, waiting with timeouts, the read
 * hook and the counters.  The transports are in conn_socket.c, the filters in
 * conn_tls.c and conn_deflate.c.
 */
#include "net/conn_internal.h"

#include "base/log.h"
#include "base/prof.h"
#include "base/xalloc.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* conn_write hands the buffer to the stack once this much is waiting. */
#define CONN_WBUF_HIGH (64 * 1024)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int conn_timeout_effective(int timeout_ms)
{
    if (timeout_ms == CONN_TIMEOUT_NONE)
        return -1;
    if (timeout_ms <= 0)
        return CONN_TIMEOUT_DEFAULT_MS;
    return timeout_ms;
}

int conn_poll_timeout(const struct conn *c)
{
    return conn_timeout_effective(c->timeout_ms);
}

void conn_fmt_timeout(int ms, char *out, size_t size)
{
    if (ms == 1000)
        snprintf(out, size, "1 second");
    else
        snprintf(out, size, "%g seconds", ms / 1000.0);
}

int64_t conn_deadline(const struct conn *c)
{
    int ms = conn_poll_timeout(c);
    return ms < 0 ? -1 : now_ms() + ms;
}

static void err_timeout(struct conn *c, const char *what, struct err *e)
{
    char secs[32];
    conn_fmt_timeout(conn_poll_timeout(c), secs, sizeof(secs));
    err_set(e, ERR_REPO, ERRK_TIMEOUT, "Connection to %s timed out after %s %s.", c->desc, secs,
            what);
}

/*
 * poll() the descriptor for events until deadline.  Returns 1 with the
 * events in *revents_r, 0 on timeout, -1 on a poll error (e set).
 */
static int poll_until(struct conn *c, short events, int64_t deadline, short *revents_r,
                      struct err *e)
{
    for (;;) {
        int wait_ms = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            wait_ms = left > 0 ? (int)left : 0;
        }
        /* A tunnel has two pipes: input on fd, output on wfd. */
        struct pollfd pfd[2] = {{.fd = c->fd, .events = events}, {.fd = -1}};
        nfds_t n = 1;
        if (c->wfd >= 0) {
            pfd[0].events = events & (short)~POLLOUT;
            pfd[1] = (struct pollfd){.fd = c->wfd, .events = events & POLLOUT};
            if (!pfd[0].events)
                pfd[0].fd = -1;
            n = 2;
        }
        int r = poll(pfd, n, wait_ms);
        if (r > 0) {
            *revents_r = (short)(pfd[0].revents | pfd[1].revents);
            return 1;
        }
        if (r == 0)
            return 0;
        if (errno != EINTR) {
            err_set(e, ERR_REPO, ERRK_NETWORK, "Waiting for the connection to %s failed: %s.",
                    c->desc, strerror(errno));
            return -1;
        }
    }
}

bool conn_wait_until(struct conn *c, int64_t deadline, const char *what, struct err *e)
{
    short revents;
    /* A filter that blocked must have said on what; both is a safe guess. */
    short events = c->want ? c->want : (POLLIN | POLLOUT);
    int r = poll_until(c, events, deadline, &revents, e);
    if (r == 0)
        err_timeout(c, what, e);
    return r > 0;
}

void conn_err_closed(struct conn *c, const char *detail, struct err *e)
{
    char status[96];
    const char *sp = detail ? " " : "", *d = detail ? detail : "";
    if (conn_socket_child_status(c, status, sizeof(status)))
        err_set(e, ERR_REPO, ERRK_NETWORK, "connection closed by %s%s%s (the tunnel command %s)",
                c->desc, sp, d, status);
    else
        err_set(e, ERR_REPO, ERRK_NETWORK, "connection closed by %s%s%s", c->desc, sp, d);
}

struct conn *conn_new(int fd, const char *desc, int timeout_ms)
{
    struct conn *c = xcalloc(1, sizeof(*c));
    c->fd = fd;
    c->wfd = -1;
    c->desc = xstrdup(desc);
    c->timeout_ms = timeout_ms;
    c->dead_kind = ERRK_GENERIC;
    buf_init(&c->wbuf, BUF_UNBOUNDED);
    c->top = conn_socket_filter_new(c);
    return c;
}

void conn_push_filter(struct conn *c, struct conn_filter *f)
{
    f->below = c->top;
    f->conn = c;
    c->top = f;
}

void conn_set_timeout(struct conn *c, int timeout_ms)
{
    c->timeout_ms = timeout_ms;
}

void conn_set_read_hook(struct conn *c, conn_read_hook_fn *fn, void *ctx)
{
    c->hook = fn;
    c->hook_ctx = ctx;
}

/* Later calls on a connection that failed repeat the failure. */
static bool check_alive(struct conn *c, struct err *e)
{
    if (!c->dead_msg)
        return true;
    err_set(e, ERR_REPO, c->dead_kind, "%s", c->dead_msg);
    return false;
}

static void mark_dead(struct conn *c, const struct err *e)
{
    if (c->dead_msg || !e->msg)
        return;
    c->dead_msg = xstrdup(e->msg);
    c->dead_kind = e->kind;
}

static ssize_t read_once(struct conn *c, void *buf, size_t len, struct err *e)
{
    c->want = 0;
    ssize_t n = c->top->ops->read(c->top, buf, len, e);
    if (n > 0)
        c->app_in += (uint64_t)n;
    else if (n == CONN_ERROR)
        mark_dead(c, e);
    return n;
}

ssize_t conn_read(struct conn *c, void *buf, size_t len, struct err *e)
{
    assert(len > 0);
    if (!check_alive(c, e))
        return -1;
    /* One deadline for the whole call: it returns as soon as anything arrives. */
    int64_t deadline = conn_deadline(c);
    struct prof_mark pm;
    prof_begin(&pm);
    for (;;) {
        ssize_t n = read_once(c, buf, len, e);
        if (n != CONN_AGAIN) {
            prof_end(&pm, "net", "read", n > 0 ? (uint64_t)n : 0);
            return n;
        }
        if (!conn_wait_until(c, deadline, "while waiting for data", e))
            return -1;
    }
}

ssize_t conn_read_nowait(struct conn *c, void *buf, size_t len, struct err *e)
{
    assert(len > 0);
    if (!check_alive(c, e))
        return -1;
    return read_once(c, buf, len, e);
}

bool conn_readable(struct conn *c)
{
    if (c->dead_msg)
        return true;
    return c->top->ops->readable(c->top);
}

int conn_fd(const struct conn *c)
{
    return c->fd;
}

size_t conn_write_pending(const struct conn *c)
{
    return c->wbuf.len;
}

/*
 * Run the read hook; returns false if it failed (e set).  *progress_r says
 * whether it consumed anything, from the wire or from the filters' buffers.
 */
static bool run_hook(struct conn *c, bool *progress_r, struct err *e)
{
    uint64_t in = c->bytes_in, app = c->app_in;
    c->in_hook = true;
    bool ok = c->hook(c->hook_ctx, e);
    c->in_hook = false;
    if (ok && !c->dead_msg) {
        *progress_r = c->bytes_in != in || c->app_in != app;
        return true;
    }
    if (c->dead_msg)
        err_set(e, ERR_REPO, c->dead_kind, "%s", c->dead_msg);
    else if (!err_isset(e))
        err_set(e, ERR_REPO, ERRK_GENERIC, "Sending data to %s was interrupted.", c->desc);
    return false;
}

/*
 * Hand everything to the stack and, if deep, have every filter push its
 * output down, waiting (with the read hook) while the descriptor is not
 * writable.
 *
 * A hook that consumes nothing would make the loop spin, so it is offered
 * input again only after it made progress: hook_buf for input a filter has
 * already buffered (which poll() cannot see), hook_poll for input on the
 * descriptor.
 */
static bool flush_all_inner(struct conn *c, bool deep, struct err *e);

/* -P: time and bytes of each flush. */
static bool flush_all(struct conn *c, bool deep, struct err *e)
{
    size_t before = c->wbuf.len;
    struct prof_mark pm;
    prof_begin(&pm);
    bool ok = flush_all_inner(c, deep, e);
    prof_end(&pm, "net", "write", before - (c->wbuf.len < before ? c->wbuf.len : before));
    return ok;
}

static bool flush_all_inner(struct conn *c, bool deep, struct err *e)
{
    bool hook_buf = c->hook != NULL, hook_poll = c->hook != NULL;
    int64_t deadline = conn_deadline(c);
    for (;;) {
        ssize_t n = 0;
        bool progress = false;
        while (c->wbuf.len > 0) {
            c->want = 0;
            n = c->top->ops->write(c->top, c->wbuf.data, c->wbuf.len, e);
            if (n < 0)
                break;
            buf_consume(&c->wbuf, (size_t)n);
            progress = true;
        }
        if (n == CONN_ERROR) {
            mark_dead(c, e);
            return false;
        }
        if (c->wbuf.len == 0) {
            if (!deep)
                return true;
            c->want = 0;
            int r = c->top->ops->flush(c->top, e);
            if (r == 1)
                return true;
            if (r == CONN_ERROR) {
                mark_dead(c, e);
                return false;
            }
        }
        if (progress)
            deadline = conn_deadline(c);
        short want = c->want ? c->want : (POLLIN | POLLOUT);

        bool hp;
        if (hook_buf && c->top->ops->buffered(c->top)) {
            if (!run_hook(c, &hp, e))
                return false;
            hook_buf = hp;
            if (hp) {
                hook_poll = true;
                deadline = conn_deadline(c);
            }
            continue;
        }

        short revents = 0;
        int r = poll_until(c, want | (hook_poll ? POLLIN : 0), deadline, &revents, e);
        if (r < 0)
            return false;
        if (r == 0) {
            err_timeout(c, "while sending data", e);
            return false;
        }
        if (hook_poll && (revents & (POLLIN | POLLHUP | POLLERR))) {
            if (!run_hook(c, &hp, e))
                return false;
            hook_poll = hp;
            if (hp) {
                hook_buf = true;
                deadline = conn_deadline(c);
            }
        }
    }
}

bool conn_flush(struct conn *c, struct err *e)
{
    if (!check_alive(c, e))
        return false;
    /* The outer flush (which is running the hook) sends what the hook wrote. */
    if (c->in_hook)
        return true;
    return flush_all(c, true, e);
}

bool conn_write(struct conn *c, const void *data, size_t len, struct err *e)
{
    if (!check_alive(c, e))
        return false;
    const char *p = data;
    while (len > 0) {
        size_t room = c->wbuf.len < CONN_WBUF_HIGH ? CONN_WBUF_HIGH - c->wbuf.len : 0;
        size_t chunk = c->in_hook || len < room ? len : room;
        if (chunk > 0) {
            buf_append(&c->wbuf, p, chunk);
            p += chunk;
            len -= chunk;
        }
        /* Make room; the filters keep their own output (no DEFLATE sync flush). */
        if (len > 0 && !flush_all(c, false, e))
            return false;
    }
    return true;
}

enum conn_channel conn_channel(const struct conn *c)
{
    if (c->tls_on)
        return CONN_CHANNEL_TLS;
    if (c->child)
        return CONN_CHANNEL_TUNNEL;
    return c->loopback ? CONN_CHANNEL_LOOPBACK : CONN_CHANNEL_CLEAR;
}

const char *conn_desc(const struct conn *c)
{
    return c->desc;
}

const char *conn_tls_info(const struct conn *c)
{
    return c->tls_info;
}

uint64_t conn_bytes_in(const struct conn *c)
{
    return c->bytes_in;
}

uint64_t conn_bytes_out(const struct conn *c)
{
    return c->bytes_out;
}

void conn_close(struct conn **cp)
{
    struct conn *c = *cp;
    if (!c)
        return;
    *cp = NULL;
    log_debug(LOGC_IMAP, "Closing the connection to %s (%llu bytes in, %llu bytes out)", c->desc,
              (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out);
    while (c->top) {
        struct conn_filter *f = c->top;
        c->top = f->below;
        f->ops->free(f);
    }
    /* Closing a tunnel's stdin first lets it see the end and exit. */
    if (c->wfd >= 0)
        close(c->wfd);
    c->wfd = -1;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    conn_socket_reap_child(c);
    buf_release(&c->wbuf);
    free(c->tls_info);
    free(c->dead_msg);
    free(c->host);
    free(c->desc);
    free(c);
}
