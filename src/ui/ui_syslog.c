/*
 * Syslog output, byte for byte as Python's logging.handlers.SysLogHandler
 * sends it for offlineimap: one datagram "<PRI>offlineimap[PID]: msg\0" to
 * /dev/log with facility user, a stream socket if the datagram connect
 * fails, and one reconnection when a send fails.
 *
 * <syslog.h> is not included: its LOG_DEBUG and LOG_INFO macros collide with
 * base/log.h.  The numbers are RFC 5424's: facility user = 1, severities
 * error 3, warning 4, informational 6, debug 7; PRI = facility * 8 + severity.
 */
#include "ui/ui_internal.h"

#include "base/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SYSLOG_FACILITY_USER 1

static int priority(enum log_level level)
{
    int severity = 3;
    switch (level) {
    case LOG_DEBUG:
        severity = 7;
        break;
    case LOG_INFO:
        severity = 6;
        break;
    case LOG_WARN:
        severity = 4;
        break;
    case LOG_ERROR:
        severity = 3;
        break;
    }
    return SYSLOG_FACILITY_USER * 8 + severity;
}

static int connect_socket(struct ui_syslog *s, int type)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(s->path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    s->stream = type == SOCK_STREAM;
    return fd;
}

static bool reconnect(struct ui_syslog *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = connect_socket(s, SOCK_DGRAM);
    if (s->fd < 0)
        s->fd = connect_socket(s, SOCK_STREAM);
    return s->fd >= 0;
}

bool ui_syslog_open(struct ui_syslog *s, const char *path, struct err *e)
{
    free(s->path);
    s->path = xstrdup(path);
    s->fd = -1;
    s->broken_reported = false;
    if (!reconnect(s)) {
        err_set(e, ERR_CRITICAL, ERRK_CONFIG, "Cannot connect to syslog at %s: %s.", path,
                strerror(errno));
        return false;
    }
    return true;
}

static bool send_all(struct ui_syslog *s, const char *data, size_t len)
{
    if (s->fd < 0)
        return false;
    if (!s->stream)
        return send(s->fd, data, len, MSG_NOSIGNAL) == (ssize_t)len;
    while (len > 0) {
        ssize_t n = send(s->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

void ui_syslog_send(struct ui_syslog *s, FILE *err, enum log_level level, const char *msg)
{
    struct buf d;
    buf_init(&d, BUF_UNBOUNDED);
    buf_printf(&d, "<%d>offlineimap[%ld]: %s", priority(level), (long)getpid(), msg);
    /* The NUL terminator is part of what SysLogHandler sends. */
    size_t len = d.len + 1;
    bool ok = send_all(s, d.data, len) || (reconnect(s) && send_all(s, d.data, len));
    if (ok) {
        s->broken_reported = false;
    } else if (!s->broken_reported) {
        s->broken_reported = true;
        fprintf(err, "Cannot log to syslog at %s: %s\n", s->path, strerror(errno));
        fflush(err);
    }
    buf_release(&d);
}

void ui_syslog_close(struct ui_syslog *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    XFREE(s->path);
}
