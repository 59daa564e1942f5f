/*
 * conn: a byte stream to an IMAP server, built as a stack of filters.
 *
 * The bottom of the stack is a TCP socket (direct or through a proxy) or a
 * tunnel (a shell command whose stdin and stdout are pipes to us, as with
 * offlineimap's Popen).  conn_start_tls() pushes a TLS
 * filter (OpenSSL) on top, conn_start_deflate() a DEFLATE filter (zlib,
 * RFC 4978).  The IMAP code above only reads and writes bytes; it never knows
 * which filters are there.
 *
 * Guarantees:
 * - No call blocks longer than the connection's timeout (conn_set_timeout):
 *   a silent peer gives ERRK_TIMEOUT, never a hang.  The descriptor is
 *   non-blocking underneath; waiting is done with poll().  Every timeout_ms
 *   argument means: > 0 that many milliseconds; CONN_TIMEOUT_NONE (-1) no
 *   timeout at all (wait for ever: only when the caller asks for it
 *   explicitly); 0 or any other negative value the default of 60 seconds.
 *   conn_read's wait counts from the start of the call; a flush (which may
 *   move megabytes) fails once the timeout passes without any progress; a
 *   TLS handshake has the timeout as a whole; a TCP connect gives each
 *   address the full timeout.  A timeout leaves the stream usable.
 * - Writes are buffered; conn_flush() pushes everything down.  While a flush
 *   waits for the socket to drain, the read hook (if set) is called whenever
 *   input is available, so a caller that pipelines many commands can consume
 *   the server's answers and neither side deadlocks on full buffers.
 *   conn_read never flushes: write, flush, then read.
 * - TLS verifies the peer by default: the certificate chain against the system
 *   CA store (or sslcacertfile), and the host name against subjectAltName
 *   (DNS and IP) with a commonName fallback, or pinned fingerprints.  Errors
 *   say what failed and include the certificate's SHA-256 fingerprint.
 * - Errors carry scope ERR_REPO and a kind and a message that names the host
 *   and port (or the tunnel command): ERRK_NETWORK (could not resolve or
 *   connect, "connection closed by <host:port>", I/O errors), ERRK_TIMEOUT,
 *   ERRK_PROTOCOL (certificate refused, TLS handshake failure, corrupt
 *   compressed data), ERRK_CONFIG (bad TLS options, missing CA file).  After
 *   an error other than a timeout the stream is unusable and every later
 *   call fails with the same error; close it.
 */
#ifndef NET_CONN_H
#define NET_CONN_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct conn;

#define CONN_TIMEOUT_DEFAULT_MS 60000
#define CONN_TIMEOUT_NONE (-1)

enum conn_family {
    CONN_FAMILY_ANY = 0,
    CONN_FAMILY_IPV4,
    CONN_FAMILY_IPV6,
};

/*
 * Open a TCP connection (resolving host), trying each address in turn; with
 * several addresses the next one starts after 250 ms if the current one has
 * not answered yet (RFC 8305), so a dead IPv6 route costs no full timeout.
 */
bool conn_open_tcp(const char *host, int port, enum conn_family family, int timeout_ms,
                   struct conn **conn_r, struct err *e);
/*
 * Run cmd with /bin/sh -c; its stdin/stdout become the stream, its stderr
 * stays ours.  Closing the connection closes its stdin, then waits briefly
 * for it to exit before SIGTERM and, at last, SIGKILL.
 */
bool conn_open_tunnel(const char *cmd, int timeout_ms, struct conn **conn_r, struct err *e);

enum conn_proxy_type {
    CONN_PROXY_NONE = 0,
    CONN_PROXY_SOCKS5,
    CONN_PROXY_SOCKS4, /* SOCKS4a when the server is given by name */
    CONN_PROXY_HTTP,   /* HTTP CONNECT */
};

/* A proxy between us and the server (offlineimap's proxy = TYPE:host:port). */
struct conn_proxy {
    enum conn_proxy_type type;
    const char *host;
    int port;
};

/*
 * Connect to the proxy (TCP, as conn_open_tcp) and have it open a tunnel to
 * host:port (the proxy resolves the name; family is not enforced beyond the
 * proxy).  The connection is then the server's: conn_desc() names the server
 * and the proxy ("imap.example.org:993 via SOCKS5 proxy 127.0.0.1:1080").
 * Errors say whether the proxy could not be reached or refused the tunnel,
 * with its reason.
 */
bool conn_open_proxied(const struct conn_proxy *px, const char *host, int port, int timeout_ms,
                       struct conn **conn_r, struct err *e);

/* Wrap an already connected descriptor (tests, proxies). Takes ownership; desc is copied. */
struct conn *conn_from_fd(int fd, const char *desc, int timeout_ms);

/*
 * Which certificate is trusted:
 * - no fingerprints: the chain must verify against cafile (a PEM bundle),
 *   "OS-DEFAULT" (the first existing distribution bundle, an error if none)
 *   or, when cafile is NULL, the system store; and host must match a DNS or
 *   IP subjectAltName (a whole-label "*." wildcard at most), or the
 *   commonName when the certificate has no DNS name at all;
 * - fingerprints without cafile: one must match (the chain is not required:
 *   the pin is the trust, as for self-signed servers);
 * - fingerprints and cafile: both must hold, unless no_verify (pin only).
 * tls_level sets the lowest protocol version: tls_compat (default) whatever
 * OpenSSL and its configuration allow, tls_no_ssl TLS 1.0, tls_secure
 * TLS 1.2 (offlineimap3 allowed TLS 1.1; it is deprecated by RFC 8996).
 * ssl_version pins one version (ssl23: negotiate; ssl3 is refused); unlike
 * offlineimap3, tls_level does not require ssl_version.
 */
struct tls_opts {
    const char *host;         /* for SNI and the host-name check; NULL: the connection's */
    const char *cafile;       /* NULL: system store; "OS-DEFAULT": distro paths */
    const char *fingerprints; /* comma list of hex digests, colons allowed; any case */
    const char *client_cert;  /* PEM, optional */
    const char *client_key;   /* PEM, optional (unencrypted); default: in client_cert */
    const char *tls_level;    /* tls_compat (default), tls_no_ssl, tls_secure */
    const char *ssl_version;  /* tls1, tls1_1, tls1_2, tls1_3, or NULL */
    bool no_verify;           /* only with fingerprints: skip the chain check */
};

/*
 * Handshake and push a TLS filter (implicit TLS right after connect, or after
 * STARTTLS).  The filters never read ahead of what they return, so after the
 * server's OK to STARTTLS the caller must not hold (and must refuse) bytes
 * it read past that line.  A failed handshake leaves the connection failed.
 */
bool conn_start_tls(struct conn *c, const struct tls_opts *opts, struct err *e);
/*
 * Push a DEFLATE filter (after the server accepted COMPRESS DEFLATE); as for
 * STARTTLS, the caller must not have read past the server's OK.
 */
bool conn_start_deflate(struct conn *c, struct err *e);

void conn_set_timeout(struct conn *c, int timeout_ms);

/*
 * Read up to len bytes (len > 0), waiting up to the timeout for at least one.
 * Returns the count, 0 at end of stream, -1 on error (e set).  A TLS session
 * that ends without close_notify between records is an end of stream (many
 * servers close so after BYE); one cut inside a record is ERRK_NETWORK
 * "connection closed by <host:port> in the middle of a TLS record".
 */
ssize_t conn_read(struct conn *c, void *buf, size_t len, struct err *e);
/* Like conn_read but never waits: returns -2 when nothing is available now. */
ssize_t conn_read_nowait(struct conn *c, void *buf, size_t len, struct err *e);
/*
 * True if a read would return data (or EOF, or an error) without waiting.
 * It decodes what has arrived to know (part of a TLS record is not data).
 */
bool conn_readable(struct conn *c);
/*
 * The descriptor input comes from, to poll() alongside other descriptors
 * when waiting for a server's unsolicited data (IDLE).  Check
 * conn_readable() first: decoded input may already be held in a filter.
 */
int conn_fd(const struct conn *c);

bool conn_write(struct conn *c, const void *data, size_t len, struct err *e);
bool conn_flush(struct conn *c, struct err *e);
/* Bytes buffered for writing and not yet handed to the socket. */
size_t conn_write_pending(const struct conn *c);

/*
 * The hook reads with conn_read_nowait.  It may call conn_write (the data is
 * sent by the running flush) and conn_flush (which then returns at once).
 * A hook that consumes nothing although input is there is not offered that
 * input again during the same flush (the flush would spin).
 */
typedef bool conn_read_hook_fn(void *ctx, struct err *e);
/* Called during flushes when input is available; returning false aborts the flush. */
void conn_set_read_hook(struct conn *c, conn_read_hook_fn *fn, void *ctx);

/*
 * Who can read what we send, for deciding whether a password may go out:
 * TLS (encrypted to a verified server), a tunnel command (the user chose the
 * transport, e.g. ssh), loopback (the server is on this machine: the peer
 * address is 127.0.0.0/8 or ::1, and with a proxy the proxy is local and the
 * server given as a loopback address or "localhost"), or clear text over a
 * network.
 */
enum conn_channel {
    CONN_CHANNEL_CLEAR = 0,
    CONN_CHANNEL_LOOPBACK,
    CONN_CHANNEL_TUNNEL,
    CONN_CHANNEL_TLS,
};
enum conn_channel conn_channel(const struct conn *c);

/* "imap.example.org:993" ("[::1]:993", "tunnel 'cmd'"), for messages. */
const char *conn_desc(const struct conn *c);
/* Description of the TLS session ("TLSv1.3 TLS_AES_256_GCM_SHA384"), or NULL. */
const char *conn_tls_info(const struct conn *c);
/* Counters for -P profiling and the benchmark: bytes on the wire (after TLS, compressed). */
uint64_t conn_bytes_in(const struct conn *c);
uint64_t conn_bytes_out(const struct conn *c);

/* Close (TLS close_notify is attempted without waiting), reap a tunnel; sets *c to NULL. */
void conn_close(struct conn **c);

#endif
