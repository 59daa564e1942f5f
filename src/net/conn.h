/*
 * conn: a byte stream to an IMAP server, built as a stack of filters.
 *
 * The bottom of the stack is a TCP socket or a tunnel (a shell command whose
 * stdin/stdout we talk to over a socketpair).  conn_start_tls() pushes a TLS
 * filter (OpenSSL) on top, conn_start_deflate() a DEFLATE filter (zlib,
 * RFC 4978).  The IMAP code above only reads and writes bytes; it never knows
 * which filters are there.
 *
 * Guarantees:
 * - No call blocks longer than the connection's timeout (conn_set_timeout):
 *   a silent peer gives ERRK_TIMEOUT, never a hang.  The descriptor is
 *   non-blocking underneath; waiting is done with poll().
 * - Writes are buffered; conn_flush() pushes everything down.  While a flush
 *   waits for the socket to drain, the read hook (if set) is called whenever
 *   input is available, so a caller that pipelines many commands can consume
 *   the server's answers and neither side deadlocks on full buffers.
 * - TLS verifies the peer by default: the certificate chain against the system
 *   CA store (or sslcacertfile), and the host name against subjectAltName
 *   (DNS and IP) with a commonName fallback, or pinned fingerprints.  Errors
 *   say what failed and include the certificate's SHA-256 fingerprint.
 * - Errors carry scope ERR_REPO and a kind (ERRK_NETWORK, ERRK_TIMEOUT) and a
 *   message that names the host and port.
 */
#ifndef NET_CONN_H
#define NET_CONN_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct conn;

enum conn_family {
    CONN_FAMILY_ANY = 0,
    CONN_FAMILY_IPV4,
    CONN_FAMILY_IPV6,
};

/* Open a TCP connection (resolving host), trying each address in turn. */
bool conn_open_tcp(const char *host, int port, enum conn_family family, int timeout_ms,
                   struct conn **conn_r, struct err *e);
/* Run cmd with /bin/sh -c; its stdin/stdout become the stream. */
bool conn_open_tunnel(const char *cmd, int timeout_ms, struct conn **conn_r, struct err *e);
/* Wrap an already connected descriptor (tests, proxies). Takes ownership. */
struct conn *conn_from_fd(int fd, const char *desc, int timeout_ms);

struct tls_opts {
    const char *host;         /* for SNI and the host-name check */
    const char *cafile;       /* NULL: system store; "OS-DEFAULT": distro paths */
    const char *fingerprints; /* comma list of hex digests, colons allowed; any case */
    const char *client_cert;  /* PEM, optional */
    const char *client_key;   /* PEM, optional */
    const char *tls_level;    /* tls_compat (default), tls_no_ssl, tls_secure */
    const char *ssl_version;  /* tls1, tls1_1, tls1_2, tls1_3, or NULL */
    bool no_verify;           /* only with fingerprints: skip the chain check */
};

/* Handshake and push a TLS filter (implicit TLS right after connect, or after STARTTLS). */
bool conn_start_tls(struct conn *c, const struct tls_opts *opts, struct err *e);
/* Push a DEFLATE filter (after the server accepted COMPRESS DEFLATE). */
bool conn_start_deflate(struct conn *c, struct err *e);

void conn_set_timeout(struct conn *c, int timeout_ms);

/*
 * Read up to len bytes, waiting up to the timeout for at least one.
 * Returns the count, 0 at end of stream, -1 on error (e set).
 */
ssize_t conn_read(struct conn *c, void *buf, size_t len, struct err *e);
/* Like conn_read but never waits: returns -2 when nothing is available now. */
ssize_t conn_read_nowait(struct conn *c, void *buf, size_t len, struct err *e);
/* True if a read would return data (or EOF) without waiting. */
bool conn_readable(struct conn *c);

bool conn_write(struct conn *c, const void *data, size_t len, struct err *e);
bool conn_flush(struct conn *c, struct err *e);
/* Bytes buffered for writing and not yet handed to the socket. */
size_t conn_write_pending(const struct conn *c);

typedef bool conn_read_hook_fn(void *ctx, struct err *e);
/* Called during flushes when input is available; returning false aborts the flush. */
void conn_set_read_hook(struct conn *c, conn_read_hook_fn *fn, void *ctx);

/* "imap.example.org:993", for messages. */
const char *conn_desc(const struct conn *c);
/* Description of the TLS session ("TLSv1.3 TLS_AES_256_GCM_SHA384"), or NULL. */
const char *conn_tls_info(const struct conn *c);
/* Counters for -P profiling and the benchmark. */
uint64_t conn_bytes_in(const struct conn *c);
uint64_t conn_bytes_out(const struct conn *c);

void conn_close(struct conn **c);

#endif
