/*
 * conn_socket: the transports at the bottom of the stack.  A TCP connection
 * (every resolved address tried, with a head start for the preferred one as
 * in RFC 8305 "Happy Eyeballs") or a tunnel command talking over two
 * pipes; the socket filter reads one non-blocking descriptor and writes the
 * same one (TCP) or the tunnel's stdin pipe.
 */
/* pipe2() (POSIX.1-2024; glibc declares it with _GNU_SOURCE). */
#define _GNU_SOURCE
#include "net/conn_internal.h"

#include "base/log.h"
#include "base/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* How long the preferred address gets before the next one is tried too. */
#define HAPPY_EYEBALLS_DELAY_MS 250
/* At most this many resolved addresses are tried. */
#define MAX_ADDRS 16
/* How long a tunnel command may take to exit after we close its stdin. */
#define TUNNEL_GRACE_MS 500

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- the socket filter ---- */

static bool is_reset(int err)
{
    return err == EPIPE || err == ECONNRESET || err == ECONNABORTED;
}

static ssize_t sock_read(struct conn_filter *f, void *buf, size_t len, struct err *e)
{
    struct conn *c = f->conn;
    for (;;) {
        ssize_t n = c->is_socket ? recv(c->fd, buf, len, 0) : read(c->fd, buf, len);
        if (n >= 0) {
            c->bytes_in += (uint64_t)n;
            return n;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->want = POLLIN;
            return CONN_AGAIN;
        }
        if (is_reset(errno))
            conn_err_closed(c, "(connection reset)", e);
        else
            err_set(e, ERR_REPO, ERRK_NETWORK, "Reading from %s failed: %s.", c->desc,
                    strerror(errno));
        return CONN_ERROR;
    }
}

static ssize_t sock_write(struct conn_filter *f, const void *data, size_t len, struct err *e)
{
    struct conn *c = f->conn;
    for (;;) {
        /* MSG_NOSIGNAL: a closed peer is an error to report, not a SIGPIPE. */
        int fd = c->wfd >= 0 ? c->wfd : c->fd;
        ssize_t n = c->is_socket ? send(fd, data, len, MSG_NOSIGNAL) : write(fd, data, len);
        if (n >= 0) {
            c->bytes_out += (uint64_t)n;
            if (n == 0) {
                c->want = POLLOUT;
                return CONN_AGAIN;
            }
            return n;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->want = POLLOUT;
            return CONN_AGAIN;
        }
        if (is_reset(errno))
            conn_err_closed(c, NULL, e);
        else
            err_set(e, ERR_REPO, ERRK_NETWORK, "Sending to %s failed: %s.", c->desc,
                    strerror(errno));
        return CONN_ERROR;
    }
}

static int sock_flush(struct conn_filter *f, struct err *e)
{
    return 1;
}

static bool sock_readable(struct conn_filter *f)
{
    struct pollfd pfd = {.fd = f->conn->fd, .events = POLLIN};
    return poll(&pfd, 1, 0) > 0 && pfd.revents != 0;
}

static bool sock_buffered(struct conn_filter *f)
{
    return false;
}

static void sock_free(struct conn_filter *f)
{
    free(f);
}

static const struct conn_filter_ops sock_ops = {
    .name = "socket",
    .read = sock_read,
    .write = sock_write,
    .flush = sock_flush,
    .readable = sock_readable,
    .buffered = sock_buffered,
    .free = sock_free,
};

struct conn_filter *conn_socket_filter_new(struct conn *c)
{
    struct conn_filter *f = xcalloc(1, sizeof(*f));
    f->ops = &sock_ops;
    f->conn = c;
    return f;
}

static bool set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

struct conn *conn_from_fd(int fd, const char *desc, int timeout_ms)
{
    set_nonblock(fd);
    struct conn *c = conn_new(fd, desc, timeout_ms);
    int type;
    socklen_t len = sizeof(type);
    c->is_socket = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
    return c;
}

/* ---- TCP ---- */

struct attempt {
    int fd;
    int64_t deadline;
    char addr[INET6_ADDRSTRLEN];
};

/* What went wrong, kept for the message when every address failed. */
struct connect_failure {
    int refused;  /* an address answered "refused" */
    int timedout; /* an address did not answer */
    int other;    /* errno of another failure, with its address */
    char other_addr[INET6_ADDRSTRLEN];
};

static void addr_text(const struct sockaddr *sa, char *out, size_t size)
{
    const void *a = sa->sa_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    if (!inet_ntop(sa->sa_family, a, out, (socklen_t)size))
        snprintf(out, size, "?");
}

static void note_failure(struct connect_failure *fail, int err, const char *addr)
{
    if (err == ECONNREFUSED) {
        fail->refused++;
    } else if (err == ETIMEDOUT) {
        fail->timedout++;
    } else {
        fail->other = err;
        snprintf(fail->other_addr, sizeof(fail->other_addr), "%s", addr);
    }
}

/* Order addresses alternating between families, keeping the resolver's preference. */
static size_t order_addresses(struct addrinfo *res, struct addrinfo **out)
{
    struct addrinfo *fam1[MAX_ADDRS], *fam2[MAX_ADDRS];
    size_t n1 = 0, n2 = 0;
    int first = res ? res->ai_family : 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        if (ai->ai_family == first && n1 < MAX_ADDRS)
            fam1[n1++] = ai;
        else if (ai->ai_family != first && n2 < MAX_ADDRS)
            fam2[n2++] = ai;
    }
    size_t n = 0;
    for (size_t i = 0; (i < n1 || i < n2) && n < MAX_ADDRS; i++) {
        if (i < n1)
            out[n++] = fam1[i];
        if (i < n2 && n < MAX_ADDRS)
            out[n++] = fam2[i];
    }
    return n;
}

/* Start a non-blocking connect; returns the descriptor or -1 with errno set. */
static int start_connect(const struct addrinfo *ai, bool *done_r)
{
    *done_r = false;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        *done_r = true;
        return fd;
    }
    if (errno == EINPROGRESS || errno == EINTR)
        return fd;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

/*
 * Try the addresses, starting the next one when the current ones have had
 * HAPPY_EYEBALLS_DELAY_MS or failed; each attempt has the full timeout.
 * Returns the connected descriptor or -1.
 */
static int connect_any(struct addrinfo **addrs, size_t naddrs, int timeout_ms, int port,
                       struct connect_failure *fail, char *addr_r, size_t addr_size)
{
    struct attempt att[MAX_ADDRS];
    size_t natt = 0, next = 0;
    int64_t next_start = 0;
    int winner = -1;

    while (winner < 0 && (next < naddrs || natt > 0)) {
        int64_t now = now_ms();
        if (next < naddrs && (natt == 0 || now >= next_start)) {
            const struct addrinfo *ai = addrs[next++];
            struct attempt *a = &att[natt];
            addr_text(ai->ai_addr, a->addr, sizeof(a->addr));
            log_debug(LOGC_IMAP, "Connecting to %s port %d", a->addr, port);
            bool done;
            a->fd = start_connect(ai, &done);
            if (a->fd < 0) {
                note_failure(fail, errno, a->addr);
                continue;
            }
            if (done) {
                winner = (int)natt++;
                break;
            }
            a->deadline = timeout_ms < 0 ? -1 : now + timeout_ms;
            natt++;
            next_start = now + HAPPY_EYEBALLS_DELAY_MS;
            continue;
        }

        int64_t wake = next < naddrs ? next_start : -1;
        for (size_t i = 0; i < natt; i++)
            if (att[i].deadline >= 0 && (wake < 0 || att[i].deadline < wake))
                wake = att[i].deadline;
        int wait = wake < 0 ? -1 : (wake > now ? (int)(wake - now) : 0);
        struct pollfd pfd[MAX_ADDRS];
        for (size_t i = 0; i < natt; i++)
            pfd[i] = (struct pollfd){.fd = att[i].fd, .events = POLLOUT};
        int r = poll(pfd, (nfds_t)natt, wait);
        if (r < 0 && errno != EINTR)
            break;
        now = now_ms();
        for (size_t i = 0; i < natt && winner < 0; i++) {
            int soerr = 0;
            if (r > 0 && pfd[i].revents) {
                socklen_t len = sizeof(soerr);
                if (getsockopt(att[i].fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
                    soerr = errno;
                if (soerr == 0) {
                    winner = (int)i;
                    break;
                }
            } else if (att[i].deadline >= 0 && now >= att[i].deadline) {
                soerr = ETIMEDOUT;
            } else {
                continue;
            }
            log_debug(LOGC_IMAP, "Connecting to %s port %d failed: %s", att[i].addr, port,
                      strerror(soerr));
            note_failure(fail, soerr, att[i].addr);
            close(att[i].fd);
            att[i] = att[--natt];
            pfd[i] = pfd[natt];
            i--;
            next_start = now; /* a failure lets the next address start at once */
        }
    }

    int fd = -1;
    for (size_t i = 0; i < natt; i++) {
        if ((int)i == winner) {
            fd = att[i].fd;
            snprintf(addr_r, addr_size, "%s", att[i].addr);
        } else {
            close(att[i].fd);
        }
    }
    return fd;
}

static bool addr_is_loopback(const struct sockaddr *sa, size_t len)
{
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof(in));
        return (ntohl(in.sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof(in6));
        if (IN6_IS_ADDR_LOOPBACK(&in6.sin6_addr))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr) && in6.sin6_addr.s6_addr[12] == 127;
    }
    return false;
}

static bool peer_is_loopback(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    return getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
           addr_is_loopback((const struct sockaddr *)&ss, len);
}

bool conn_host_is_loopback(const char *host)
{
    if (strcasecmp(host, "localhost") == 0)
        return true;
    struct sockaddr_in in = {.sin_family = AF_INET};
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    if (inet_pton(AF_INET, host, &in.sin_addr) == 1)
        return addr_is_loopback((const struct sockaddr *)&in, sizeof(in));
    if (inet_pton(AF_INET6, host, &in6.sin6_addr) == 1)
        return addr_is_loopback((const struct sockaddr *)&in6, sizeof(in6));
    return false;
}

bool conn_open_tcp(const char *host, int port, enum conn_family family, int timeout_ms,
                   struct conn **conn_r, struct err *e)
{
    *conn_r = NULL;
    char desc[1100];
    bool v6lit = strchr(host, ':') != NULL;
    snprintf(desc, sizeof(desc), v6lit ? "[%s]:%d" : "%s:%d", host, port);
    if (port <= 0 || port > 65535) {
        err_set(e, ERR_REPO, ERRK_CONFIG, "Invalid port %d for %s.", port, host);
        return false;
    }

    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints = {
        .ai_family = family == CONN_FAMILY_IPV4   ? AF_INET
                     : family == CONN_FAMILY_IPV6 ? AF_INET6
                                                  : AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_protocol = IPPROTO_TCP,
    };
    struct addrinfo *res = NULL;
    int r = getaddrinfo(host, portstr, &hints, &res);
    if (r != 0) {
        const char *why = r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r);
        err_set(e, ERR_REPO, ERRK_NETWORK,
                "Could not resolve name '%s': %s. Make sure you have configured the server name "
                "correctly and that you are online.",
                host, why);
        return false;
    }

    struct addrinfo *addrs[MAX_ADDRS];
    size_t naddrs = order_addresses(res, addrs);
    struct connect_failure fail = {0};
    char addr[INET6_ADDRSTRLEN] = "";
    int eff = conn_timeout_effective(timeout_ms);
    int fd = connect_any(addrs, naddrs, eff, port, &fail, addr, sizeof(addr));
    freeaddrinfo(res);

    if (fd < 0) {
        char secs[32];
        conn_fmt_timeout(eff, secs, sizeof(secs));
        if (naddrs == 0)
            err_set(e, ERR_REPO, ERRK_NETWORK, "Could not resolve name '%s': no address found.",
                    host);
        else if (fail.refused)
            err_set(e, ERR_REPO, ERRK_NETWORK,
                    "Connection to %s was refused. Make sure you have the right host and port "
                    "configured and that you are actually able to access the network.",
                    desc);
        else if (fail.other)
            err_set(e, ERR_REPO, ERRK_NETWORK, "Could not connect to %s (address %s): %s.", desc,
                    fail.other_addr, strerror(fail.other));
        else
            err_set(e, ERR_REPO, ERRK_TIMEOUT,
                    "Connection to %s timed out after %s while connecting. Remote does not "
                    "answer.",
                    desc, secs);
        return false;
    }

    int one = 1;
    /* We buffer ourselves; small commands must not wait for Nagle. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /*
     * Lets a long IDLE or a held connection notice a peer that vanished (a
     * suspended laptop, a NAT that forgot us): probes after a minute of
     * silence, every 20 s, three unanswered ones end the connection, where
     * the system default would wait more than two hours.
     */
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
#ifdef TCP_KEEPIDLE
    int idle = 60, intvl = 20, cnt = 3;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
#endif
    log_debug(LOGC_IMAP, "Connected to %s (%s)", desc, addr);

    struct conn *c = conn_new(fd, desc, timeout_ms);
    c->is_socket = true;
    c->loopback = peer_is_loopback(fd);
    c->host = xstrdup(host);
    c->port = port;
    *conn_r = c;
    return true;
}

/* ---- tunnel ---- */

/* Move fd above the standard descriptors so that dup2() onto 0 and 1 is real. */
static int above_stdio(int fd)
{
    if (fd > 2)
        return fd;
    int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return nfd;
}

bool conn_open_tunnel(const char *cmd, int timeout_ms, struct conn **conn_r, struct err *e)
{
    *conn_r = NULL;
    /*
     * Two pipes, as offlineimap's Popen gives: some commands refuse a socket
     * on their standard input (Dovecot's imap run as root takes it for inetd).
     */
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0) {
        err_set(e, ERR_REPO, ERRK_NETWORK, "Could not create a pipe for tunnel '%s': %s.", cmd,
                strerror(errno));
        return false;
    }
    if (pipe2(out, O_CLOEXEC) != 0) {
        err_set(e, ERR_REPO, ERRK_NETWORK, "Could not create a pipe for tunnel '%s': %s.", cmd,
                strerror(errno));
        close(in[0]);
        close(in[1]);
        return false;
    }
    for (int i = 0; i < 2; i++) {
        in[i] = above_stdio(in[i]);
        out[i] = above_stdio(out[i]);
    }

    /*
     * posix_spawn rather than fork: we may have threads.  The child's stdin
     * and stdout are its ends of the pipes; its stderr stays ours, so ssh can
     * show errors and prompts.  The signal mask is cleared and SIGPIPE reset
     * (we may ignore it), so the command behaves as it does in a shell.
     */
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawnattr_init(&attr);
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    pid_t pid;
    int r = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(in[0]);
    close(out[1]);
    if (r != 0) {
        close(in[1]);
        close(out[0]);
        err_set(e, ERR_REPO, ERRK_NETWORK, "Could not run tunnel '%s': %s.", cmd, strerror(r));
        return false;
    }
    log_debug(LOGC_IMAP, "Started tunnel '%s' (process %ld)", cmd, (long)pid);

    char *desc = xasprintf("tunnel '%s'", cmd);
    set_nonblock(out[0]);
    set_nonblock(in[1]);
    struct conn *c = conn_new(out[0], desc, timeout_ms);
    free(desc);
    c->wfd = in[1];
    c->is_socket = false;
    c->child = pid;
    *conn_r = c;
    return true;
}

/* Wait up to ms for the child; true once it has been reaped. */
static bool wait_child(struct conn *c, int ms)
{
    int64_t end = now_ms() + ms;
    for (;;) {
        int status;
        pid_t r = waitpid(c->child, &status, WNOHANG);
        if (r == c->child || (r < 0 && errno == ECHILD)) {
            c->child_exited = true;
            c->child_status = r == c->child ? status : -1; /* -1: reaped elsewhere */
            return true;
        }
        if (r < 0 && errno != EINTR)
            return false;
        if (now_ms() >= end)
            return false;
        sleep_ms(5);
    }
}

static void describe_status(int status, char *out, size_t size)
{
    if (status == -1)
        snprintf(out, size, "ended");
    else if (WIFEXITED(status))
        snprintf(out, size, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, size, "was killed by signal %d", WTERMSIG(status));
    else
        snprintf(out, size, "ended");
}

bool conn_socket_child_status(struct conn *c, char *out, size_t size)
{
    if (c->child <= 0)
        return false;
    /* The stream closes as the command exits; give it a moment to become reapable. */
    if (!c->child_exited && !wait_child(c, 100))
        return false;
    describe_status(c->child_status, out, size);
    return true;
}

void conn_socket_reap_child(struct conn *c)
{
    if (c->child <= 0)
        return;
    /* Our end is closed: a well-behaved command sees EOF and exits. */
    if (!c->child_exited && !wait_child(c, TUNNEL_GRACE_MS)) {
        log_debug(LOGC_IMAP, "Tunnel process %ld did not exit; sending SIGTERM", (long)c->child);
        kill(c->child, SIGTERM);
        if (!wait_child(c, TUNNEL_GRACE_MS)) {
            log_debug(LOGC_IMAP, "Tunnel process %ld did not exit; sending SIGKILL",
                      (long)c->child);
            kill(c->child, SIGKILL);
            wait_child(c, 60 * 1000);
        }
    }
    if (c->child_exited) {
        char how[96];
        describe_status(c->child_status, how, sizeof(how));
        log_debug(LOGC_IMAP, "Tunnel process %ld %s", (long)c->child, how);
    }
    c->child = 0;
}
