#include "net/test_net_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t tn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tn_fill(unsigned char *buf, size_t len, uint32_t seed, bool text)
{
    static const char *const words[] = {"Subject: ", "hello ", "world ", "IMAP ", "FETCH ",
                                        "\r\n",      "42 ",    "mail ",  "From: "};
    uint32_t x = seed * 2654435761u + 1;
    size_t i = 0;
    while (i < len) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        if (!text) {
            buf[i++] = (unsigned char)(x >> 11);
            continue;
        }
        const char *w = words[x % (sizeof(words) / sizeof(words[0]))];
        for (; *w && i < len; w++)
            buf[i++] = (unsigned char)*w;
    }
}

int tn_listen(int *port_r)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        perror("tn_listen");
        abort();
    }
    *port_r = ntohs(sa.sin_port);
    return fd;
}

int tn_accept(int lfd, int timeout_ms)
{
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms) <= 0)
        return -1;
    return accept(lfd, NULL, NULL);
}

void tn_io_init(struct tn_io *p, int fd)
{
    memset(p, 0, sizeof(*p));
    p->fd = fd;
}

void tn_io_start_deflate(struct tn_io *p)
{
    if (inflateInit2(&p->zin, -15) != Z_OK ||
        deflateInit2(&p->zout, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    p->z = true;
}

void tn_io_release(struct tn_io *p)
{
    if (p->z) {
        inflateEnd(&p->zin);
        deflateEnd(&p->zout);
        p->z = false;
    }
}

static ssize_t raw_read(struct tn_io *p, void *buf, size_t len)
{
    if (p->ssl) {
        int n = SSL_read(p->ssl, buf, len > 65536 ? 65536 : (int)len);
        return n > 0 ? n : (SSL_get_error(p->ssl, n) == SSL_ERROR_ZERO_RETURN ? 0 : -1);
    }
    for (;;) {
        ssize_t n = read(p->fd, buf, len);
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

static bool raw_write(struct tn_io *p, const void *data, size_t len)
{
    const char *s = data;
    while (len > 0) {
        ssize_t n;
        if (p->ssl) {
            int k = SSL_write(p->ssl, s, len > 65536 ? 65536 : (int)len);
            n = k > 0 ? k : -1;
        } else {
            n = write(p->fd, s, len);
            if (n < 0 && errno == EINTR)
                continue;
        }
        if (n <= 0)
            return false;
        s += n;
        len -= (size_t)n;
    }
    return true;
}

ssize_t tn_io_read(struct tn_io *p, void *buf, size_t len)
{
    if (!p->z)
        return raw_read(p, buf, len);
    for (;;) {
        if (p->zin.avail_in > 0 || p->zin_more) {
            p->zin.next_out = buf;
            p->zin.avail_out = (uInt)len;
            int r = inflate(&p->zin, Z_SYNC_FLUSH);
            if (r != Z_OK && r != Z_BUF_ERROR)
                return -1;
            size_t got = len - p->zin.avail_out;
            p->zin_more = p->zin.avail_out == 0;
            if (got > 0)
                return (ssize_t)got;
        }
        ssize_t n = raw_read(p, p->zbuf, sizeof(p->zbuf));
        if (n <= 0)
            return n;
        p->zin.next_in = p->zbuf;
        p->zin.avail_in = (uInt)n;
    }
}

bool tn_io_read_full(struct tn_io *p, void *buf, size_t len)
{
    char *b = buf;
    while (len > 0) {
        ssize_t n = tn_io_read(p, b, len);
        if (n <= 0)
            return false;
        b += n;
        len -= (size_t)n;
    }
    return true;
}

bool tn_io_write(struct tn_io *p, const void *data, size_t len)
{
    if (!p->z)
        return raw_write(p, data, len);
    unsigned char out[16384];
    p->zout.next_in = (unsigned char *)data;
    p->zout.avail_in = (uInt)len;
    do {
        p->zout.next_out = out;
        p->zout.avail_out = sizeof(out);
        if (deflate(&p->zout, Z_SYNC_FLUSH) == Z_STREAM_ERROR)
            return false;
        if (!raw_write(p, out, sizeof(out) - p->zout.avail_out))
            return false;
    } while (p->zout.avail_out == 0 || p->zout.avail_in > 0);
    return true;
}

bool tn_io_read_line(struct tn_io *p, char *buf, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        if (tn_io_read(p, buf + n, 1) != 1)
            return false;
        if (buf[n++] == '\n')
            break;
    }
    buf[n] = '\0';
    return true;
}

uint64_t tn_io_echo(struct tn_io *p)
{
    static _Thread_local unsigned char buf[65536];
    uint64_t total = 0;
    for (;;) {
        ssize_t n = tn_io_read(p, buf, sizeof(buf));
        if (n <= 0 || !tn_io_write(p, buf, (size_t)n))
            return total;
        total += (uint64_t)n;
    }
}

void tn_thread_start(struct tn_thread *t, void *(*fn)(void *), void *arg)
{
    if (pthread_create(&t->th, NULL, fn, arg) != 0)
        abort();
}

void tn_thread_join(struct tn_thread *t)
{
    pthread_join(t->th, NULL);
}
