/*
 * conn_proxy: reaching the server through a SOCKS5, SOCKS4 or HTTP CONNECT
 * proxy (offlineimap's proxy = TYPE:host:port).
 *
 * conn_open_proxied() connects to the proxy, asks it for a tunnel to the
 * server and returns a connection that reads and writes the server's bytes;
 * TLS, STARTTLS and COMPRESS stack on it as on a direct one.  The name of
 * the server is resolved by the proxy (SOCKS5 with a domain name, SOCKS4a),
 * as PySocks does by default, so a proxy in front of a private DNS works.
 *
 * The handshake itself is a byte-driven state machine with no I/O
 * (struct proxy_hs), so that it can be tested fed byte by byte and fuzzed.
 * It never asks for more bytes than belong to the proxy's answer: the
 * server's greeting that may follow in the same packet stays in the socket.
 */
#ifndef NET_CONN_PROXY_H
#define NET_CONN_PROXY_H

#include "net/conn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest HTTP CONNECT answer (status line and headers) we read. */
#define PROXY_HTTP_MAX 16384
/* The longest host name a SOCKS request can carry. */
#define PROXY_HOST_MAX 255

enum proxy_hs_status {
    PROXY_HS_MORE = 0, /* send proxy_hs_output(), then read up to proxy_hs_want() bytes */
    PROXY_HS_DONE,     /* the tunnel stands: what follows is the server's */
    PROXY_HS_ERROR,    /* refused or garbled; e says why */
};

struct proxy_hs {
    enum conn_proxy_type type;
    int state;
    char *host; /* the server, as the proxy should reach it */
    int port;
    char *proxy_desc; /* "SOCKS5 proxy 127.0.0.1:1080", for messages */
    unsigned char out[PROXY_HOST_MAX + 300];
    size_t out_len;
    unsigned char in[PROXY_HTTP_MAX];
    size_t in_len;
    size_t need; /* bytes still missing from the current reply part */
};

/*
 * Prepare a handshake asking the proxy for host:port.  False (e set,
 * ERRK_CONFIG) when the request cannot be expressed: a host name longer than
 * 255 bytes, an IPv6 address through SOCKS4.
 */
bool proxy_hs_init(struct proxy_hs *h, enum conn_proxy_type type, const char *proxy_desc,
                   const char *host, int port, struct err *e);
void proxy_hs_release(struct proxy_hs *h);
/* Bytes to send before reading (none: *len_r = 0); call proxy_hs_sent() once sent. */
const unsigned char *proxy_hs_output(const struct proxy_hs *h, size_t *len_r);
void proxy_hs_sent(struct proxy_hs *h);
/* How many bytes may be read now without reading past the proxy's answer (>= 1). */
size_t proxy_hs_want(const struct proxy_hs *h);
/* Feed n bytes (1 <= n <= proxy_hs_want()). */
enum proxy_hs_status proxy_hs_feed(struct proxy_hs *h, const unsigned char *data, size_t n,
                                   struct err *e);

/* "SOCKS5", "SOCKS4", "HTTP". */
const char *conn_proxy_type_name(enum conn_proxy_type t);

#endif
