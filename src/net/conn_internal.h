/*
 * conn_internal: what the files of the net module share (not for other modules).
 *
 * A connection is a stack of filters over one descriptor.  Every filter
 * operation is non-blocking: it returns CONN_AGAIN when it cannot go on
 * without waiting, after the bottom filter has recorded in conn->want which
 * readiness of the descriptor (POLLIN or POLLOUT) it waits for.  All waiting
 * (poll with the timeout) is done in conn.c, above the whole stack, so a
 * filter never blocks and the timeout rules live in one place.
 *
 * Write contract (what OpenSSL requires of SSL_write retries): after a write
 * returned CONN_AGAIN, the caller calls again with the same leading bytes and
 * at least as many of them.  Every writer in the stack writes from the front
 * of a buffer that is only consumed from the front, so this holds.
 */
#ifndef NET_CONN_INTERNAL_H
#define NET_CONN_INTERNAL_H

#include "net/conn.h"

#include "base/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Return values of filter reads and writes besides byte counts. */
#define CONN_ERROR (-1)
#define CONN_AGAIN (-2)

struct conn_filter;

struct conn_filter_ops {
    const char *name;
    /* >0 bytes, 0 end of stream, CONN_ERROR (e set) or CONN_AGAIN. */
    ssize_t (*read)(struct conn_filter *f, void *buf, size_t len, struct err *e);
    /* Bytes accepted (>0), CONN_ERROR or CONN_AGAIN; len > 0. */
    ssize_t (*write)(struct conn_filter *f, const void *data, size_t len, struct err *e);
    /* Push internally buffered output down: 1 done, CONN_ERROR or CONN_AGAIN. */
    int (*flush)(struct conn_filter *f, struct err *e);
    /*
     * True if a read would return data, end of stream or an error without
     * waiting.  May do non-blocking input (to decode what has arrived).
     */
    bool (*readable)(struct conn_filter *f);
    /* True if decoded input is held in the filter (no I/O is done). */
    bool (*buffered)(struct conn_filter *f);
    /* Best-effort, non-blocking goodbye (TLS close_notify), then free. */
    void (*free)(struct conn_filter *f);
};

struct conn_filter {
    const struct conn_filter_ops *ops;
    struct conn_filter *below; /* NULL for the transport at the bottom */
    struct conn *conn;
};

struct conn {
    int fd;         /* read from (and written to when wfd is -1) */
    int wfd;        /* written to, when apart from fd (a tunnel's stdin pipe), else -1 */
    bool is_socket; /* send()/recv() work; otherwise read()/write() */
    char *desc;     /* "host:port" or "tunnel 'cmd'" */
    char *host;     /* NULL for tunnels and wrapped descriptors */
    int port;
    bool loopback;     /* the peer (and, through a proxy, the server) is this machine */
    pid_t child;       /* the tunnel command, or 0 */
    bool child_exited; /* child has been reaped; child_status is valid */
    int child_status;
    int timeout_ms;
    short want; /* events the blocked operation waits for */

    struct conn_filter *top;
    bool tls_on;
    bool deflate_on;
    char *tls_info;

    struct buf wbuf; /* written by the caller, not yet handed to the stack */

    conn_read_hook_fn *hook;
    void *hook_ctx;
    bool in_hook;

    /* After an I/O error the stream is unusable; later calls repeat it. */
    enum err_kind dead_kind;
    char *dead_msg;

    uint64_t bytes_in;  /* on the wire */
    uint64_t bytes_out; /* on the wire */
    uint64_t app_in;    /* delivered to the caller */
};

/* The effective timeout in milliseconds for poll(): -1 means none. */
int conn_timeout_effective(int timeout_ms);
int conn_poll_timeout(const struct conn *c);
/* "60 seconds", "0.2 seconds": an effective timeout for messages. */
void conn_fmt_timeout(int timeout_ms, char *out, size_t size);
/* Monotonic milliseconds at which a wait starting now gives up, or -1 for never. */
int64_t conn_deadline(const struct conn *c);
/*
 * Wait until the descriptor is ready for c->want, at most until deadline.
 * what ends the timeout message ("during the TLS handshake").
 */
bool conn_wait_until(struct conn *c, int64_t deadline, const char *what, struct err *e);
/* ERRK_NETWORK "connection closed by <desc>" (+ the tunnel's exit status, + detail). */
void conn_err_closed(struct conn *c, const char *detail, struct err *e);

/* A new connection around a connected non-blocking descriptor, with the socket filter. */
struct conn *conn_new(int fd, const char *desc, int timeout_ms);
/* conn_socket.c: the bottom filter. */
struct conn_filter *conn_socket_filter_new(struct conn *c);
/* conn_socket.c: reap the tunnel command without hanging. */
void conn_socket_reap_child(struct conn *c);
/* conn_socket.c: if the tunnel command has exited, a description of how ("exited with status 1").
 */
bool conn_socket_child_status(struct conn *c, char *out, size_t size);

/* conn_socket.c: "localhost" or a loopback address literal. */
bool conn_host_is_loopback(const char *host);

/* Push f on top of the stack. */
void conn_push_filter(struct conn *c, struct conn_filter *f);

#endif
