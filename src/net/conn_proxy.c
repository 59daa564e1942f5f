/*
 * conn_proxy: the SOCKS5 (RFC 1928), SOCKS4/4a and HTTP CONNECT (RFC 9110
 * 9.3.6) handshakes, and connections through them.
 *
 * Only what offlineimap's proxy option can express is sent: no proxy
 * credentials (SOCKS5 method 0 "no authentication", an empty SOCKS4 user id).
 */
#include "net/conn_proxy.h"

#include "net/conn_internal.h"

#include "base/log.h"
#include "base/xalloc.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    S5_METHOD,     /* reading VER METHOD */
    S5_REPLY_HEAD, /* reading VER REP RSV ATYP */
    S5_REPLY_DLEN, /* reading the length of a domain-name bound address */
    S5_REPLY_ADDR, /* reading BND.ADDR BND.PORT */
    S4_REPLY,      /* reading VN CD DSTPORT DSTIP */
    HTTP_REPLY,    /* reading the status line and headers */
    HS_DONE,
    HS_FAILED,
};

const char *conn_proxy_type_name(enum conn_proxy_type t)
{
    switch (t) {
    case CONN_PROXY_SOCKS5:
        return "SOCKS5";
    case CONN_PROXY_SOCKS4:
        return "SOCKS4";
    case CONN_PROXY_HTTP:
        return "HTTP";
    case CONN_PROXY_NONE:
        break;
    }
    return "no";
}

static void out_add(struct proxy_hs *h, const void *data, size_t n)
{
    memcpy(h->out + h->out_len, data, n);
    h->out_len += n;
}

static void out_byte(struct proxy_hs *h, unsigned char b)
{
    out_add(h, &b, 1);
}

static void out_port(struct proxy_hs *h, int port)
{
    out_byte(h, (unsigned char)(port >> 8));
    out_byte(h, (unsigned char)(port & 0xff));
}

/* host:port for messages and the CONNECT line ("[::1]:143" for IPv6). */
static char *host_port(const char *host, int port)
{
    bool v6 = strchr(host, ':') != NULL;
    return xasprintf("%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

static void socks5_request(struct proxy_hs *h)
{
    unsigned char a4[4], a6[16];
    out_byte(h, 5); /* VER */
    out_byte(h, 1); /* CMD: CONNECT */
    out_byte(h, 0); /* RSV */
    if (inet_pton(AF_INET, h->host, a4) == 1) {
        out_byte(h, 1);
        out_add(h, a4, 4);
    } else if (inet_pton(AF_INET6, h->host, a6) == 1) {
        out_byte(h, 4);
        out_add(h, a6, 16);
    } else {
        size_t n = strlen(h->host);
        out_byte(h, 3);
        out_byte(h, (unsigned char)n);
        out_add(h, h->host, n);
    }
    out_port(h, h->port);
}

static bool host_ok(const char *host)
{
    if (!*host)
        return false;
    for (const unsigned char *p = (const unsigned char *)host; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

bool proxy_hs_init(struct proxy_hs *h, enum conn_proxy_type type, const char *proxy_desc,
                   const char *host, int port, struct err *e)
{
    memset(h, 0, sizeof(*h));
    h->type = type;
    h->host = xstrdup(host);
    h->port = port;
    h->proxy_desc = xstrdup(proxy_desc);
    unsigned char a4[4], a6[16];
    bool is4 = inet_pton(AF_INET, host, a4) == 1, is6 = inet_pton(AF_INET6, host, a6) == 1;
    if (!host_ok(host) || strlen(host) > PROXY_HOST_MAX) {
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "Cannot ask the %s to connect to '%.300s': not a host name of at most %d "
                "characters.",
                proxy_desc, host, PROXY_HOST_MAX);
        return false;
    }
    if (port < 1 || port > 65535) {
        err_set(e, ERR_REPO, ERRK_CONFIG, "Invalid port %d for %s.", port, host);
        return false;
    }
    switch (type) {
    case CONN_PROXY_SOCKS5:
        /* VER 5, one method: 0 (no authentication). */
        out_add(h, "\x05\x01\x00", 3);
        h->state = S5_METHOD;
        h->need = 2;
        return true;
    case CONN_PROXY_SOCKS4:
        if (is6) {
            err_set(e, ERR_REPO, ERRK_CONFIG,
                    "The %s cannot reach the IPv6 address %s (SOCKS4 carries IPv4 only); use a "
                    "SOCKS5 proxy.",
                    proxy_desc, host);
            return false;
        }
        out_byte(h, 4); /* VN */
        out_byte(h, 1); /* CD: CONNECT */
        out_port(h, port);
        if (is4) {
            out_add(h, a4, 4);
            out_byte(h, 0); /* empty USERID */
        } else {
            /* SOCKS4a: DSTIP 0.0.0.1, then the name for the proxy to resolve. */
            out_add(h, "\0\0\0\x01", 4);
            out_byte(h, 0);
            out_add(h, host, strlen(host) + 1);
        }
        h->state = S4_REPLY;
        h->need = 8;
        return true;
    case CONN_PROXY_HTTP: {
        char *hp = host_port(host, port);
        char line[PROXY_HOST_MAX + 100];
        int n = snprintf(line, sizeof(line), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", hp, hp);
        free(hp);
        out_add(h, line, (size_t)n);
        h->state = HTTP_REPLY;
        h->need = 1;
        return true;
    }
    case CONN_PROXY_NONE:
        break;
    }
    err_set(e, ERR_REPO, ERRK_CONFIG, "Unknown proxy type.");
    return false;
}

void proxy_hs_release(struct proxy_hs *h)
{
    XFREE(h->host);
    XFREE(h->proxy_desc);
}

const unsigned char *proxy_hs_output(const struct proxy_hs *h, size_t *len_r)
{
    *len_r = h->out_len;
    return h->out;
}

void proxy_hs_sent(struct proxy_hs *h)
{
    h->out_len = 0;
}

size_t proxy_hs_want(const struct proxy_hs *h)
{
    return h->need ? h->need : 1;
}

static enum proxy_hs_status fail(struct proxy_hs *h, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum proxy_hs_status fail(struct proxy_hs *h, struct err *e, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char *hp = host_port(h->host, h->port);
    err_set(e, ERR_REPO, ERRK_NETWORK, "The %s %s %s.", h->proxy_desc, msg, hp);
    free(hp);
    h->state = HS_FAILED;
    return PROXY_HS_ERROR;
}

static const char *socks5_reason(unsigned rep)
{
    static const char *const why[] = {
        "succeeded",
        "general SOCKS server failure",
        "connection not allowed by ruleset",
        "network unreachable",
        "host unreachable",
        "connection refused",
        "TTL expired",
        "command not supported",
        "address type not supported",
    };
    return rep < sizeof(why) / sizeof(why[0]) ? why[rep] : "unknown error";
}

static enum proxy_hs_status socks5_part(struct proxy_hs *h, struct err *e)
{
    const unsigned char *in = h->in;
    switch (h->state) {
    case S5_METHOD:
        if (in[0] != 5)
            return fail(h, e,
                        "sent an invalid answer (version %u, not 5: is it a SOCKS5 proxy?) when "
                        "asked to connect to",
                        in[0]);
        if (in[1] == 0xff)
            return fail(h, e,
                        "requires authentication, which the proxy option cannot give, to "
                        "connect to");
        if (in[1] != 0)
            return fail(h, e, "chose authentication method %u, which we did not offer, for", in[1]);
        socks5_request(h);
        h->state = S5_REPLY_HEAD;
        h->need = 4;
        break;
    case S5_REPLY_HEAD:
        if (in[0] != 5)
            return fail(h, e, "sent an invalid answer (version %u) when asked to connect to",
                        in[0]);
        if (in[1] != 0)
            return fail(h, e, "refused the connection (%s, code %u) to", socks5_reason(in[1]),
                        in[1]);
        if (in[3] == 1) {
            h->state = S5_REPLY_ADDR;
            h->need = 4 + 2;
        } else if (in[3] == 4) {
            h->state = S5_REPLY_ADDR;
            h->need = 16 + 2;
        } else if (in[3] == 3) {
            h->state = S5_REPLY_DLEN;
            h->need = 1;
        } else {
            return fail(h, e, "sent an invalid address type %u when connecting to", in[3]);
        }
        break;
    case S5_REPLY_DLEN:
        h->state = S5_REPLY_ADDR;
        h->need = (size_t)in[0] + 2;
        break;
    case S5_REPLY_ADDR:
        h->state = HS_DONE;
        return PROXY_HS_DONE;
    }
    h->in_len = 0;
    return PROXY_HS_MORE;
}

static enum proxy_hs_status socks4_part(struct proxy_hs *h, struct err *e)
{
    const unsigned char *in = h->in;
    if (in[0] != 0)
        return fail(h, e,
                    "sent an invalid answer (version %u, not 0: is it a SOCKS4 proxy?) when asked "
                    "to connect to",
                    in[0]);
    switch (in[1]) {
    case 0x5a:
        h->state = HS_DONE;
        return PROXY_HS_DONE;
    case 0x5b:
        return fail(h, e, "rejected or could not make the connection (code 0x5b) to");
    case 0x5c:
    case 0x5d:
        return fail(h, e, "refused the connection (identd check failed, code 0x%x) to", in[1]);
    default:
        return fail(h, e, "sent an unknown answer code 0x%x when asked to connect to", in[1]);
    }
}

/* The status line, printable ASCII only, for messages. */
static void status_line(const struct proxy_hs *h, char *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < h->in_len && n + 1 < size && n < 200; i++) {
        unsigned char ch = h->in[i];
        if (ch == '\r' || ch == '\n')
            break;
        out[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    out[n] = '\0';
}

static enum proxy_hs_status http_part(struct proxy_hs *h, struct err *e)
{
    size_t n = h->in_len;
    bool end = (n >= 4 && memcmp(h->in + n - 4, "\r\n\r\n", 4) == 0) ||
               (n >= 2 && memcmp(h->in + n - 2, "\n\n", 2) == 0);
    if (n == 5 && memcmp(h->in, "HTTP/", 5) != 0)
        return fail(h, e, "sent something that is not an HTTP answer when asked to connect to");
    if (!end) {
        if (n == sizeof(h->in))
            return fail(h, e, "sent an answer longer than %d bytes when asked to connect to",
                        PROXY_HTTP_MAX);
        h->need = 1;
        return PROXY_HS_MORE;
    }
    /* "HTTP/1.1 200 Connection established" */
    char line[256];
    status_line(h, line, sizeof(line));
    const char *sp = strchr(line, ' ');
    if (strncmp(line, "HTTP/", 5) != 0 || !sp || sp[1] < '0' || sp[1] > '9' || sp[2] < '0' ||
        sp[2] > '9' || sp[3] < '0' || sp[3] > '9' || (sp[4] != ' ' && sp[4] != '\0'))
        return fail(h, e, "sent an invalid status line \"%s\" when asked to connect to", line);
    if (sp[1] != '2')
        return fail(h, e, "refused the connection (\"%s\") to", line);
    h->state = HS_DONE;
    return PROXY_HS_DONE;
}

enum proxy_hs_status proxy_hs_feed(struct proxy_hs *h, const unsigned char *data, size_t n,
                                   struct err *e)
{
    if (h->state == HS_DONE)
        return PROXY_HS_DONE;
    if (h->state == HS_FAILED) {
        err_set(e, ERR_REPO, ERRK_NETWORK, "The %s handshake has already failed.", h->proxy_desc);
        return PROXY_HS_ERROR;
    }
    while (n > 0) {
        size_t take = n < h->need ? n : h->need;
        if (take > sizeof(h->in) - h->in_len)
            take = sizeof(h->in) - h->in_len;
        memcpy(h->in + h->in_len, data, take);
        h->in_len += take;
        h->need -= take;
        data += take;
        n -= take;
        if (h->need > 0)
            break;
        enum proxy_hs_status st = h->type == CONN_PROXY_SOCKS5   ? socks5_part(h, e)
                                  : h->type == CONN_PROXY_SOCKS4 ? socks4_part(h, e)
                                                                 : http_part(h, e);
        if (st == PROXY_HS_ERROR)
            return st;
        if (st == PROXY_HS_DONE) {
            if (n > 0) {
                /* Only reachable when the caller ignored proxy_hs_want(). */
                err_set(e, ERR_REPO, ERRK_GENERIC,
                        "internal error: %zu bytes fed past the end of the %s's answer", n,
                        h->proxy_desc);
                h->state = HS_FAILED;
                return PROXY_HS_ERROR;
            }
            return st;
        }
    }
    return PROXY_HS_MORE;
}

/* ---- a connection through a proxy ---- */

bool conn_open_proxied(const struct conn_proxy *px, const char *host, int port, int timeout_ms,
                       struct conn **conn_r, struct err *e)
{
    *conn_r = NULL;
    char *phost = host_port(px->host, px->port);
    char *pdesc = xasprintf("%s proxy %s", conn_proxy_type_name(px->type), phost);
    free(phost);
    struct proxy_hs h;
    struct conn *c = NULL;
    bool ok = proxy_hs_init(&h, px->type, pdesc, host, port, e);
    if (ok && !conn_open_tcp(px->host, px->port, CONN_FAMILY_ANY, timeout_ms, &c, e)) {
        err_prefix(e, "Could not reach the %s: ", pdesc);
        ok = false;
    }
    enum proxy_hs_status st = PROXY_HS_MORE;
    while (ok && st == PROXY_HS_MORE) {
        size_t olen;
        const unsigned char *out = proxy_hs_output(&h, &olen);
        if (olen) {
            if (!conn_write(c, out, olen, e) || !conn_flush(c, e)) {
                ok = false;
                break;
            }
            proxy_hs_sent(&h);
        }
        unsigned char buf[PROXY_HTTP_MAX];
        ssize_t n = conn_read(c, buf, proxy_hs_want(&h), e);
        if (n < 0) {
            ok = false;
        } else if (n == 0) {
            char *hp = host_port(host, port);
            err_set(e, ERR_REPO, ERRK_NETWORK,
                    "The %s closed the connection while setting up the tunnel to %s.", pdesc, hp);
            free(hp);
            ok = false;
        } else {
            st = proxy_hs_feed(&h, buf, (size_t)n, e);
            ok = st != PROXY_HS_ERROR;
        }
    }
    if (ok) {
        char *hp = host_port(host, port);
        free(c->desc);
        c->desc = xasprintf("%s via %s", hp, pdesc);
        free(hp);
        free(c->host);
        c->host = xstrdup(host);
        c->port = port;
        /* The proxy is local, but the server is where the proxy goes. */
        c->loopback = c->loopback && conn_host_is_loopback(host);
        log_debug(LOGC_IMAP, "Connected to %s", c->desc);
        *conn_r = c;
    } else {
        conn_close(&c);
    }
    proxy_hs_release(&h);
    free(pdesc);
    return ok;
}
