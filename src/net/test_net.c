/*
 * Unit tests for conn: buffering, partial I/O, timeouts, the read hook
 * against a peer that answers while we send, EOF, TCP errors, tunnels and
 * the DEFLATE filter.  TLS is in test_net_tls.c.
 */
#include "net/conn.h"
#include "net/conn_internal.h"
#include "net/test_net_util.h"

#include "base/xalloc.h"
#include "testlib/test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct conn *pair(int *peer_r, int timeout_ms)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        abort();
    *peer_r = sv[1];
    return conn_from_fd(sv[0], "peer:143", timeout_ms);
}

static bool contains(const char *s, const char *sub)
{
    return s && strstr(s, sub) != NULL;
}

#define test_assert_contains(s, sub)                                                               \
    do {                                                                                           \
        if (!contains((s), (sub)))                                                                 \
            test_fail_at(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"",                     \
                         (s) ? (s) : "(null)", (sub));                                             \
    } while (0)

static void test_timeout_values(void)
{
    test_begin("timeout values: default, none, explicit");
    test_assert_inteq(conn_timeout_effective(0), CONN_TIMEOUT_DEFAULT_MS);
    test_assert_inteq(conn_timeout_effective(-7), CONN_TIMEOUT_DEFAULT_MS);
    test_assert_inteq(conn_timeout_effective(CONN_TIMEOUT_NONE), -1);
    test_assert_inteq(conn_timeout_effective(200), 200);
    char s[32];
    conn_fmt_timeout(200, s, sizeof(s));
    test_assert_streq(s, "0.2 seconds");
    conn_fmt_timeout(60000, s, sizeof(s));
    test_assert_streq(s, "60 seconds");
    conn_fmt_timeout(1000, s, sizeof(s));
    test_assert_streq(s, "1 second");
    test_end();
}

static void test_write_buffering(void)
{
    test_begin("writes are buffered until conn_flush");
    struct err e = ERR_INIT;
    int peer;
    struct conn *c = pair(&peer, 2000);
    test_assert_streq(conn_desc(c), "peer:143");
    test_assert(conn_write(c, "a1 NOOP\r\n", 9, &e));
    test_assert(conn_write(c, "a2 NOOP\r\n", 9, &e));
    test_assert_inteq(conn_write_pending(c), 18);
    struct pollfd pfd = {.fd = peer, .events = POLLIN};
    test_assert_inteq(poll(&pfd, 1, 30), 0);
    test_assert_inteq(conn_bytes_out(c), 0);
    test_assert(conn_flush(c, &e));
    test_assert_inteq(conn_write_pending(c), 0);
    test_assert_inteq(conn_bytes_out(c), 18);
    char buf[64] = "";
    test_assert_inteq(read(peer, buf, sizeof(buf) - 1), 18);
    test_assert_streq(buf, "a1 NOOP\r\na2 NOOP\r\n");
    /* An empty flush is fine. */
    test_assert(conn_flush(c, &e));
    test_assert(conn_tls_info(c) == NULL);
    conn_close(&c);
    test_assert(c == NULL);
    conn_close(&c);
    close(peer);
    test_end();
}

static void test_partial_reads(void)
{
    test_begin("reads return what is there; nowait and readable");
    struct err e = ERR_INIT;
    int peer;
    struct conn *c = pair(&peer, 2000);
    char buf[64];
    test_assert(!conn_readable(c));
    test_assert_inteq(conn_read_nowait(c, buf, sizeof(buf), &e), -2);
    test_assert(!err_isset(&e));
    test_assert_inteq(write(peer, "hello world", 11), 11);
    test_assert(conn_readable(c));
    test_assert_inteq(conn_read(c, buf, 5, &e), 5);
    test_assert(memcmp(buf, "hello", 5) == 0);
    test_assert_inteq(conn_read(c, buf, sizeof(buf), &e), 6);
    test_assert(memcmp(buf, " world", 6) == 0);
    test_assert_inteq(conn_read_nowait(c, buf, sizeof(buf), &e), -2);
    test_assert_inteq(write(peer, "x", 1), 1);
    test_assert_inteq(conn_read_nowait(c, buf, sizeof(buf), &e), 1);
    test_assert_inteq(conn_bytes_in(c), 12);

    /* End of stream: 0, again and again, and readable says so. */
    test_assert_inteq(write(peer, "bye", 3), 3);
    close(peer);
    test_assert_inteq(conn_read(c, buf, sizeof(buf), &e), 3);
    test_assert(conn_readable(c));
    test_assert_inteq(conn_read(c, buf, sizeof(buf), &e), 0);
    test_assert_inteq(conn_read(c, buf, sizeof(buf), &e), 0);
    test_assert(!err_isset(&e));
    conn_close(&c);
    test_end();
}

static void test_read_timeout(void)
{
    test_begin("a silent peer gives ERRK_TIMEOUT within the timeout");
    struct err e = ERR_INIT;
    int peer;
    struct conn *c = pair(&peer, 200);
    char buf[16];
    int64_t t0 = tn_now_ms();
    test_assert_inteq(conn_read(c, buf, sizeof(buf), &e), -1);
    int64_t took = tn_now_ms() - t0;
    test_assert(took >= 150 && took < 1500);
    test_assert_inteq(e.scope, ERR_REPO);
    test_assert_inteq(e.kind, ERRK_TIMEOUT);
    test_assert_contains(e.msg, "peer:143");
    test_assert_contains(e.msg, "0.2 seconds");
    err_clear(&e);
    /* A timeout leaves the stream usable. */
    test_assert_inteq(write(peer, "late", 4), 4);
    test_assert_inteq(conn_read(c, buf, sizeof(buf), &e), 4);
    conn_close(&c);
    close(peer);
    test_end();
}

static void test_flush_timeout(void)
{
    test_begin("a peer that never reads gives ERRK_TIMEOUT on flush");
    struct err e = ERR_INIT;
    int peer;
    struct conn *c = pair(&peer, 200);
    size_t len = 4 << 20;
    unsigned char *data = xmalloc(len);
    tn_fill(data, len, 1, false);
    int64_t t0 = tn_now_ms();
    bool ok = conn_write(c, data, len, &e) && conn_flush(c, &e);
    int64_t took = tn_now_ms() - t0;
    test_assert(!ok);
    test_assert(took >= 150 && took < 2000);
    test_assert_inteq(e.kind, ERRK_TIMEOUT);
    test_assert_contains(e.msg, "timed out after 0.2 seconds while sending");
    err_clear(&e);
    free(data);
    conn_close(&c);
    close(peer);
    test_end();
}

/* ---- pipelining: the peer answers while we are still sending ---- */

struct bulk_peer {
    int fd;
    size_t len;
    bool got_all;
};

/* Sends len bytes first, then reads len bytes: blocks unless we read while we send. */
static void *bulk_peer_main(void *arg)
{
    struct bulk_peer *bp = arg;
    unsigned char *data = xmalloc(bp->len), *want = xmalloc(bp->len);
    tn_fill(data, bp->len, 7, false);
    tn_fill(want, bp->len, 8, false);
    struct tn_io io;
    tn_io_init(&io, bp->fd);
    bool ok = tn_io_write(&io, data, bp->len);
    ok = ok && tn_io_read_full(&io, data, bp->len);
    bp->got_all = ok && memcmp(data, want, bp->len) == 0;
    shutdown(bp->fd, SHUT_WR);
    free(data);
    free(want);
    return NULL;
}

struct drain {
    struct conn *c;
    unsigned char *got;
    size_t have, cap;
    unsigned calls;
};

static bool drain_hook(void *ctx, struct err *e)
{
    struct drain *d = ctx;
    d->calls++;
    for (;;) {
        if (d->have == d->cap)
            return true;
        ssize_t n = conn_read_nowait(d->c, d->got + d->have, d->cap - d->have, e);
        if (n == -2 || n == 0)
            return true;
        if (n < 0)
            return false;
        d->have += (size_t)n;
    }
}

static void test_pipelining(void)
{
    test_begin("flush with the read hook does not deadlock (8 MB each way)");
    struct err e = ERR_INIT;
    int peer;
    struct conn *c = pair(&peer, 5000);
    struct bulk_peer bp = {.fd = peer, .len = 8 << 20};
    struct tn_thread th;
    tn_thread_start(&th, bulk_peer_main, &bp);

    unsigned char *out = xmalloc(bp.len), *want = xmalloc(bp.len);
    tn_fill(out, bp.len, 8, false);
    tn_fill(want, bp.len, 7, false);
    struct drain d = {.c = c, .got = xmalloc(bp.len), .cap = bp.len};
    conn_set_read_hook(c, drain_hook, &d);
    /* Written in pieces, as a pipelining caller would. */
    bool ok = true;
    for (size_t off = 0; off < bp.len && ok; off += 100000)
        ok = conn_write(c, out + off, bp.len - off < 100000 ? bp.len - off : 100000, &e);
    ok = ok && conn_flush(c, &e);
    test_assert(ok);
    test_assert(d.calls > 0);
    while (ok && d.have < d.cap) {
        ssize_t n = conn_read(c, d.got + d.have, d.cap - d.have, &e);
        ok = n > 0;
        if (ok)
            d.have += (size_t)n;
    }
    test_assert(ok);
    test_assert(d.have == bp.len && memcmp(d.got, want, bp.len) == 0);
    tn_thread_join(&th);
    test_assert(bp.got_all);
    test_assert_inteq(conn_bytes_in(c), bp.len);
    test_assert_inteq(conn_bytes_out(c), bp.len);
    if (err_isset(&e))
        printf("  error: %s\n", e.msg);
    err_clear(&e);
    conn_close(&c);
    close(peer);
    free(out);
    free(want);
    free(d.got);
    test_end();

    test_begin("without the read hook the same exchange times out");
    c = pair(&peer, 300);
    bp = (struct bulk_peer){.fd = peer, .len = 8 << 20};
    tn_thread_start(&th, bulk_peer_main, &bp);
    out = xmalloc(bp.len);
    tn_fill(out, bp.len, 8, false);
    ok = conn_write(c, out, bp.len, &e) && conn_flush(c, &e);
    test_assert(!ok);
    test_assert_inteq(e.kind, ERRK_TIMEOUT);
    err_clear(&e);
    conn_close(&c); /* the peer's blocked write now fails */
    tn_thread_join(&th);
    test_assert(!bp.got_all);
    close(peer);
    free(out);
    test_end();
}

static bool failing_hook(void *ctx, struct err *e)
{
    err_set(e, ERR_FOLDER, ERRK_PROTOCOL, "the parser gave up");
    return false;
}

static bool writing_hook(void *ctx, struct err *e)
{
    struct conn *c = ctx;
    char buf[4096];
    ssize_t n = conn_read_nowait(c, buf, sizeof(buf), e);
    /* A hook may queue more output (and flush, which is then a no-op). */
    return n == -2 || (n > 0 && conn_write(c, "+", 1, e) && conn_flush(c, e)) || n == 0;
}

/* Reads until EOF, counting bytes and '+' signs. */
struct count_peer {
    int fd;
    size_t total;
    size_t plus;
};

static void *count_peer_main(void *arg)
{
    struct count_peer *cp = arg;
    char buf[65536];
    ssize_t n;
    while ((n = read(cp->fd, buf, sizeof(buf))) > 0) {
        cp->total += (size_t)n;
        for (ssize_t i = 0; i < n; i++)
            cp->plus += buf[i] == '+';
    }
    return NULL;
}

static void test_hook_variants(void)
{
    test_begin("a failing read hook aborts the flush with its error");
    struct err e = ERR_INIT;
    int peer;
    struct conn *c = pair(&peer, 2000);
    conn_set_read_hook(c, failing_hook, NULL);
    size_t len = 4 << 20;
    unsigned char *data = xmalloc(len);
    tn_fill(data, len, 3, false);
    test_assert_inteq(write(peer, "* 1 EXISTS\r\n", 12), 12);
    bool ok = conn_write(c, data, len, &e) && conn_flush(c, &e);
    test_assert(!ok);
    test_assert_streq(e.msg, "the parser gave up");
    err_clear(&e);
    conn_close(&c);
    close(peer);
    test_end();

    test_begin("what the hook writes is sent by the running flush");
    c = pair(&peer, 2000);
    conn_set_read_hook(c, writing_hook, c);
    tn_fill(data, len, 4, true); /* text: no '+' in it */
    test_assert_inteq(write(peer, "x", 1), 1);
    struct count_peer cp = {.fd = peer};
    struct tn_thread th;
    tn_thread_start(&th, count_peer_main, &cp);
    ok = conn_write(c, data, len, &e) && conn_flush(c, &e);
    test_assert(ok);
    test_assert_inteq(conn_write_pending(c), 0);
    conn_close(&c);
    tn_thread_join(&th);
    test_assert_inteq(cp.total, len + 1);
    test_assert_inteq(cp.plus, 1);
    close(peer);
    free(data);
    test_end();
}

static void test_peer_closes(void)
{
    test_begin("a peer that closes while we send: connection closed by <desc>");
    struct err e = ERR_INIT;
    int peer;
    struct conn *c = pair(&peer, 2000);
    close(peer);
    size_t len = 1 << 20;
    unsigned char *data = xcalloc(1, len);
    bool ok = conn_write(c, data, len, &e) && conn_flush(c, &e);
    test_assert(!ok);
    test_assert_inteq(e.scope, ERR_REPO);
    test_assert_inteq(e.kind, ERRK_NETWORK);
    test_assert_contains(e.msg, "connection closed by peer:143");
    err_clear(&e);
    /* The connection stays failed, with the same error. */
    char buf[8];
    test_assert_inteq(conn_read(c, buf, sizeof(buf), &e), -1);
    test_assert_contains(e.msg, "connection closed by peer:143");
    test_assert(conn_readable(c));
    err_clear(&e);
    test_assert(!conn_write(c, "x", 1, &e));
    err_clear(&e);
    free(data);
    conn_close(&c);
    test_end();
}

/* ---- TCP ---- */

static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        abort();
    close(fd);
    return ntohs(sa.sin_port);
}

struct greeter {
    int lfd;
};

static void *greeter_main(void *arg)
{
    struct greeter *g = arg;
    int fd = tn_accept(g->lfd, 5000);
    if (fd < 0)
        return NULL;
    struct tn_io io;
    tn_io_init(&io, fd);
    tn_io_write(&io, "* OK ready\r\n", 12);
    tn_io_echo(&io);
    close(fd);
    return NULL;
}

static void test_tcp(void)
{
    test_begin("TCP: connect, talk, close");
    struct err e = ERR_INIT;
    int port;
    struct greeter g = {.lfd = tn_listen(&port)};
    struct tn_thread th;
    tn_thread_start(&th, greeter_main, &g);
    struct conn *c = NULL;
    test_assert(conn_open_tcp("localhost", port, CONN_FAMILY_ANY, 2000, &c, &e));
    if (c) {
        char desc[64], buf[64];
        snprintf(desc, sizeof(desc), "localhost:%d", port);
        test_assert_streq(conn_desc(c), desc);
        test_assert_inteq(conn_read(c, buf, 12, &e), 12);
        test_assert(memcmp(buf, "* OK ready\r\n", 12) == 0);
        test_assert(conn_write(c, "a NOOP\r\n", 8, &e) && conn_flush(c, &e));
        test_assert_inteq(conn_read(c, buf, sizeof(buf), &e), 8);
        conn_close(&c);
    }
    tn_thread_join(&th);
    close(g.lfd);
    test_end();

    test_begin("TCP: an IPv6 literal, described as [addr]:port");
    int l6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    socklen_t s6len = sizeof(s6);
    if (l6 >= 0 && bind(l6, (struct sockaddr *)&s6, sizeof(s6)) == 0 && listen(l6, 4) == 0 &&
        getsockname(l6, (struct sockaddr *)&s6, &s6len) == 0) {
        int p6 = ntohs(s6.sin6_port);
        g.lfd = l6;
        tn_thread_start(&th, greeter_main, &g);
        test_assert(conn_open_tcp("::1", p6, CONN_FAMILY_IPV6, 2000, &c, &e));
        char desc6[64], buf6[16];
        snprintf(desc6, sizeof(desc6), "[::1]:%d", p6);
        test_assert(c && strcmp(conn_desc(c), desc6) == 0);
        test_assert(c && conn_read(c, buf6, 12, &e) == 12);
        conn_close(&c);
        tn_thread_join(&th);
        /* An IPv4-only lookup of an IPv6 literal finds nothing. */
        test_assert(!conn_open_tcp("::1", p6, CONN_FAMILY_IPV4, 2000, &c, &e));
        test_assert_contains(e.msg, "Could not resolve name '::1'");
        err_clear(&e);
    } else {
        printf("  (no IPv6 loopback here: skipped)\n");
    }
    if (l6 >= 0)
        close(l6);
    test_end();

    test_begin("TCP: a closed port is refused with offlineimap's message");
    int cp = closed_port();
    char want[96];
    snprintf(want, sizeof(want), "Connection to 127.0.0.1:%d was refused", cp);
    test_assert(!conn_open_tcp("127.0.0.1", cp, CONN_FAMILY_IPV4, 2000, &c, &e));
    test_assert(c == NULL);
    test_assert_inteq(e.scope, ERR_REPO);
    test_assert_inteq(e.kind, ERRK_NETWORK);
    test_assert_contains(e.msg, want);
    err_clear(&e);
    test_end();

    test_begin("TCP: a server that never answers the handshake times out");
    int full_port;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t salen = sizeof(sa);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 0) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &salen) != 0)
        abort();
    full_port = ntohs(sa.sin_port);
    /* Fill the accept queue: later SYNs are dropped, as by a firewall. */
    int fillers[8];
    for (int i = 0; i < 8; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        connect(fillers[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    int64_t t0 = tn_now_ms();
    test_assert(!conn_open_tcp("127.0.0.1", full_port, CONN_FAMILY_ANY, 300, &c, &e));
    int64_t took = tn_now_ms() - t0;
    test_assert(took >= 250 && took < 2000);
    test_assert_inteq(e.kind, ERRK_TIMEOUT);
    snprintf(want, sizeof(want), "Connection to 127.0.0.1:%d timed out after 0.3 seconds",
             full_port);
    test_assert_contains(e.msg, want);
    err_clear(&e);
    for (int i = 0; i < 8; i++)
        close(fillers[i]);
    close(lfd);
    test_end();

    test_begin("TCP: a name that does not resolve");
    test_assert(!conn_open_tcp("nonexistent.invalid", 993, CONN_FAMILY_ANY, 2000, &c, &e));
    test_assert_inteq(e.scope, ERR_REPO);
    test_assert_contains(e.msg, "Could not resolve name 'nonexistent.invalid': ");
    err_clear(&e);
    test_assert(!conn_open_tcp("localhost", 0, CONN_FAMILY_ANY, 2000, &c, &e));
    test_assert_contains(e.msg, "Invalid port 0");
    err_clear(&e);
    test_end();
}

/* ---- tunnels ---- */

static void test_tunnel(void)
{
    test_begin("tunnel: cat echoes, close reaps it at once");
    struct err e = ERR_INIT;
    struct conn *c = NULL;
    test_assert(conn_open_tunnel("cat", 2000, &c, &e));
    test_assert_streq(conn_desc(c), "tunnel 'cat'");
    char buf[64];
    test_assert(conn_write(c, "a1 CAPABILITY\r\n", 15, &e) && conn_flush(c, &e));
    size_t have = 0;
    while (have < 15) {
        ssize_t n = conn_read(c, buf + have, sizeof(buf) - have, &e);
        test_assert(n > 0);
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    test_assert(memcmp(buf, "a1 CAPABILITY\r\n", 15) == 0);
    int64_t t0 = tn_now_ms();
    conn_close(&c);
    test_assert(tn_now_ms() - t0 < 400);
    test_end();

    test_begin("tunnel: a command that exits early");
    test_assert(conn_open_tunnel("echo '* PREAUTH'; exit 3", 2000, &c, &e));
    have = 0;
    for (;;) {
        ssize_t n = conn_read(c, buf + have, sizeof(buf) - have, &e);
        test_assert(n >= 0);
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    test_assert_inteq(have, 10);
    test_assert(memcmp(buf, "* PREAUTH\n", 10) == 0);
    /*
     * The command's stdin pipe may close a moment after its stdout (the
     * kernel releases an exiting process's files in no set order), so a
     * write right after the end of its output can still succeed once.
     */
    bool ok = true;
    for (int i = 0; i < 200 && ok; i++) {
        ok = conn_write(c, "a LOGOUT\r\n", 10, &e) && conn_flush(c, &e);
        if (ok)
            usleep(10000);
    }
    test_assert(!ok);
    test_assert_inteq(e.kind, ERRK_NETWORK);
    test_assert_contains(e.msg, "connection closed by tunnel 'echo '* PREAUTH'; exit 3'");
    test_assert_contains(e.msg, "exited with status 3");
    err_clear(&e);
    conn_close(&c);
    test_end();

    test_begin("tunnel: a command that ignores EOF is terminated");
    test_assert(conn_open_tunnel("exec sleep 20", 2000, &c, &e));
    t0 = tn_now_ms();
    conn_close(&c);
    int64_t took = tn_now_ms() - t0;
    test_assert(took >= 300 && took < 2000);
    test_assert(conn_open_tunnel("trap '' TERM; exec sleep 20", 2000, &c, &e));
    t0 = tn_now_ms();
    conn_close(&c);
    took = tn_now_ms() - t0;
    test_assert(took >= 800 && took < 3000);
    test_end();

    test_begin("tunnel: a silent command times out");
    test_assert(conn_open_tunnel("exec sleep 20", 200, &c, &e));
    test_assert_inteq(conn_read(c, buf, sizeof(buf), &e), -1);
    test_assert_inteq(e.kind, ERRK_TIMEOUT);
    test_assert_contains(e.msg, "tunnel 'exec sleep 20' timed out after 0.2 seconds");
    err_clear(&e);
    conn_close(&c);
    test_end();
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_timeout_values();
    test_write_buffering();
    test_partial_reads();
    test_read_timeout();
    test_flush_timeout();
    test_pipelining();
    test_hook_variants();
    test_peer_closes();
    test_tcp();
    test_tunnel();
    return test_done();
}
