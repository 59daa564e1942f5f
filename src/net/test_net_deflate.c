/*
 * Unit tests for the DEFLATE filter against an in-process zlib peer.
 */
#include "net/conn.h"
#include "net/test_net_util.h"

#include "base/xalloc.h"
#include "testlib/test.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define test_assert_contains(s, sub)                                                               \
    do {                                                                                           \
        const char *tc_ = (s);                                                                     \
        if (!tc_ || !strstr(tc_, (sub)))                                                           \
            test_fail_at(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"",                     \
                         tc_ ? tc_ : "(null)", (sub));                                             \
    } while (0)

static struct conn *pair(int *peer_r, int timeout_ms)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        abort();
    *peer_r = sv[1];
    return conn_from_fd(sv[0], "peer:143", timeout_ms);
}

/* The server side of COMPRESS DEFLATE: a plain exchange, then a compressed echo. */
struct zpeer {
    int fd;
    bool compress_cmd; /* expect "a COMPRESS DEFLATE" in plain text first */
    uint64_t echoed;
    bool ok;
};

static void *zpeer_main(void *arg)
{
    struct zpeer *zp = arg;
    struct tn_io io;
    tn_io_init(&io, zp->fd);
    if (zp->compress_cmd) {
        char line[128];
        if (!tn_io_read_line(&io, line, sizeof(line)) ||
            strcmp(line, "a COMPRESS DEFLATE\r\n") != 0 || !tn_io_write(&io, "a OK\r\n", 6))
            return NULL;
    }
    tn_io_start_deflate(&io);
    zp->echoed = tn_io_echo(&io);
    zp->ok = true;
    tn_io_release(&io);
    shutdown(zp->fd, SHUT_WR);
    return NULL;
}

static bool read_full(struct conn *c, void *buf, size_t len, struct err *e)
{
    char *b = buf;
    while (len > 0) {
        ssize_t n = conn_read(c, b, len, e);
        if (n <= 0)
            return false;
        b += n;
        len -= (size_t)n;
    }
    return true;
}

struct drain {
    struct conn *c;
    unsigned char *got;
    size_t have, cap;
};

static bool drain_hook(void *ctx, struct err *e)
{
    struct drain *d = ctx;
    while (d->have < d->cap) {
        ssize_t n = conn_read_nowait(d->c, d->got + d->have, d->cap - d->have, e);
        if (n == -2 || n == 0)
            return true;
        if (n < 0)
            return false;
        d->have += (size_t)n;
    }
    return true;
}

static void test_small_flushes(void)
{
    test_begin("DEFLATE: plain COMPRESS exchange, then many small flushes");
    struct err e = ERR_INIT;
    int peer;
    struct conn *c = pair(&peer, 3000);
    struct zpeer zp = {.fd = peer, .compress_cmd = true};
    struct tn_thread th;
    tn_thread_start(&th, zpeer_main, &zp);
    char buf[128];
    test_assert(conn_write(c, "a COMPRESS DEFLATE\r\n", 20, &e) && conn_flush(c, &e));
    test_assert(read_full(c, buf, 6, &e) && memcmp(buf, "a OK\r\n", 6) == 0);
    test_assert(conn_start_deflate(c, &e));
    test_assert(!conn_start_deflate(c, &e));
    test_assert_contains(e.msg, "already active");
    err_clear(&e);
    bool ok = true;
    for (int i = 0; i < 2000 && ok; i++) {
        char line[64];
        int n = snprintf(line, sizeof(line), "t%d UID FETCH %d FLAGS\r\n", i, i * 7);
        ok = conn_write(c, line, (size_t)n, &e) && conn_flush(c, &e) &&
             read_full(c, buf, (size_t)n, &e) && memcmp(buf, line, (size_t)n) == 0;
    }
    test_assert(ok);
    /* Repeated flushes with nothing new send nothing. */
    uint64_t out = conn_bytes_out(c);
    test_assert(conn_flush(c, &e) && conn_flush(c, &e));
    test_assert_inteq(conn_bytes_out(c), out);
    conn_close(&c);
    tn_thread_join(&th);
    test_assert(zp.ok);
    close(peer);
    test_end();
}

static void run_bulk(bool text, size_t len)
{
    struct err e = ERR_INIT;
    int peer;
    struct conn *c = pair(&peer, 5000);
    test_assert(conn_start_deflate(c, &e));
    struct zpeer zp = {.fd = peer};
    struct tn_thread th;
    tn_thread_start(&th, zpeer_main, &zp);
    unsigned char *data = xmalloc(len);
    tn_fill(data, len, 11, text);
    struct drain d = {.c = c, .got = xmalloc(len), .cap = len};
    conn_set_read_hook(c, drain_hook, &d);
    bool ok = true;
    for (size_t off = 0; off < len && ok; off += 70000)
        ok = conn_write(c, data + off, len - off < 70000 ? len - off : 70000, &e);
    ok = ok && conn_flush(c, &e);
    test_assert(ok);
    ok = ok && read_full(c, d.got + d.have, d.cap - d.have, &e);
    test_assert(ok);
    test_assert(memcmp(d.got, data, len) == 0);
    if (text) {
        /* Compressible data is compressed on the wire, both ways. */
        test_assert(conn_bytes_out(c) < len / 3);
        test_assert(conn_bytes_in(c) < len / 3);
    }
    if (err_isset(&e))
        printf("  error: %s\n", e.msg);
    err_clear(&e);
    conn_close(&c);
    tn_thread_join(&th);
    test_assert(zp.echoed == len);
    close(peer);
    free(data);
    free(d.got);
}

static void test_bulk(void)
{
    test_begin("DEFLATE: 8 MB of text echoed while we send");
    run_bulk(true, 8 << 20);
    test_end();
    test_begin("DEFLATE: 2 MB of random bytes echoed while we send");
    run_bulk(false, 2 << 20);
    test_end();
}

struct bomb {
    int fd;
    size_t len;
};

static void *bomb_main(void *arg)
{
    struct bomb *b = arg;
    struct tn_io io;
    tn_io_init(&io, b->fd);
    tn_io_start_deflate(&io);
    unsigned char *zeros = xcalloc(1, 1 << 20);
    for (size_t i = 0; i < b->len >> 20; i++)
        if (!tn_io_write(&io, zeros, 1 << 20))
            break;
    free(zeros);
    tn_io_release(&io);
    shutdown(b->fd, SHUT_WR);
    return NULL;
}

static void test_bomb_and_eof(void)
{
    test_begin("DEFLATE: 32 MB of zeros from a tiny input arrive in pieces, then EOF");
    struct err e = ERR_INIT;
    int peer;
    struct conn *c = pair(&peer, 3000);
    test_assert(conn_start_deflate(c, &e));
    struct bomb b = {.fd = peer, .len = (size_t)32 << 20};
    struct tn_thread th;
    tn_thread_start(&th, bomb_main, &b);
    static unsigned char buf[1 << 16];
    size_t total = 0;
    size_t biggest = 0;
    bool clean = true;
    for (;;) {
        ssize_t n = conn_read(c, buf, sizeof(buf), &e);
        if (n <= 0) {
            clean = n == 0;
            break;
        }
        if ((size_t)n > biggest)
            biggest = (size_t)n;
        total += (size_t)n;
    }
    test_assert(clean);
    test_assert(total == b.len);
    test_assert(conn_bytes_in(c) < b.len / 500);
    test_assert_inteq(conn_read(c, buf, sizeof(buf), &e), 0);
    tn_thread_join(&th);
    conn_close(&c);
    close(peer);
    test_end();
}

static void test_garbage_and_readable(void)
{
    test_begin("DEFLATE: readable only once decompressed data is there");
    struct err e = ERR_INIT;
    int peer;
    struct conn *c = pair(&peer, 2000);
    test_assert(conn_start_deflate(c, &e));
    test_assert(!conn_readable(c));
    /* The first byte of a block (header and part of a literal) decodes to nothing. */
    z_stream z = {0};
    unsigned char comp[256];
    deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (unsigned char *)"* 3 EXISTS\r\n";
    z.avail_in = 12;
    z.next_out = comp;
    z.avail_out = sizeof(comp);
    deflate(&z, Z_SYNC_FLUSH);
    size_t clen = sizeof(comp) - z.avail_out;
    deflateEnd(&z);
    test_assert_inteq(write(peer, comp, 1), 1);
    usleep(20000);
    test_assert(!conn_readable(c));
    char buf[64];
    test_assert_inteq(conn_read_nowait(c, buf, sizeof(buf), &e), -2);
    test_assert_inteq(write(peer, comp + 1, clen - 1), (ssize_t)(clen - 1));
    int64_t t0 = tn_now_ms();
    while (!conn_readable(c) && tn_now_ms() - t0 < 1000)
        usleep(1000);
    test_assert(conn_readable(c));
    ssize_t n = conn_read_nowait(c, buf, sizeof(buf), &e);
    test_assert_inteq(n, 12);
    test_assert(n == 12 && memcmp(buf, "* 3 EXISTS\r\n", 12) == 0);
    conn_close(&c);
    close(peer);
    test_end();

    test_begin("DEFLATE: invalid compressed data is a protocol error");
    c = pair(&peer, 2000);
    test_assert(conn_start_deflate(c, &e));
    test_assert_inteq(write(peer, "\xff\xff\xff\xff garbage", 12), 12);
    test_assert_inteq(conn_read(c, buf, sizeof(buf), &e), -1);
    test_assert_inteq(e.scope, ERR_REPO);
    test_assert_inteq(e.kind, ERRK_PROTOCOL);
    test_assert_contains(e.msg, "Invalid compressed data from peer:143");
    err_clear(&e);
    conn_close(&c);
    close(peer);
    test_end();
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_small_flushes();
    test_bulk();
    test_bomb_and_eof();
    test_garbage_and_readable();
    return test_done();
}
