/*
 * test_net_util: peers for the net tests.  A peer runs in a thread on the
 * other end of a socketpair or TCP connection, with plain blocking I/O
 * (optionally through an OpenSSL server session and/or zlib), so that what
 * it does is obviously right and our non-blocking stack is what is tested.
 */
#ifndef NET_TEST_NET_UTIL_H
#define NET_TEST_NET_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>
#include <zlib.h>

int64_t tn_now_ms(void);
/* Deterministic test data; compressible if text, else pseudo-random bytes. */
void tn_fill(unsigned char *buf, size_t len, uint32_t seed, bool text);
/* A listening TCP socket on 127.0.0.1 with a free port. */
int tn_listen(int *port_r);
/* accept() with a timeout; -1 on timeout or error. */
int tn_accept(int lfd, int timeout_ms);

/* The peer's end: a blocking descriptor, maybe TLS, maybe DEFLATE. */
struct tn_io {
    int fd;
    SSL *ssl;
    bool z;
    z_stream zin, zout;
    bool zin_more; /* inflate filled the caller's buffer: it may hold more */
    unsigned char zbuf[16384];
};

void tn_io_init(struct tn_io *p, int fd);
void tn_io_start_deflate(struct tn_io *p);
void tn_io_release(struct tn_io *p);
/* Read some bytes (decompressed when z): >0, 0 at EOF, -1 on error. */
ssize_t tn_io_read(struct tn_io *p, void *buf, size_t len);
/* Read exactly len bytes. */
bool tn_io_read_full(struct tn_io *p, void *buf, size_t len);
/* Write everything (compressed and sync-flushed when z). */
bool tn_io_write(struct tn_io *p, const void *data, size_t len);
/* Read a line ending in "\n" into buf (NUL-terminated); false at EOF. */
bool tn_io_read_line(struct tn_io *p, char *buf, size_t size);
/* Echo everything back until EOF; returns the byte count. */
uint64_t tn_io_echo(struct tn_io *p);

/* A thread running fn(arg). */
struct tn_thread {
    pthread_t th;
};
void tn_thread_start(struct tn_thread *t, void *(*fn)(void *), void *arg);
void tn_thread_join(struct tn_thread *t);

#endif
