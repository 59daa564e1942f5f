/*
 * Unit tests for conn_proxy: the SOCKS5, SOCKS4/4a and HTTP CONNECT
 * handshakes from tables (what we send, what the proxy answers, the outcome),
 * fed byte by byte and in the largest pieces allowed, checking that nothing
 * after the proxy's answer is consumed; then real connections through a
 * proxy run in a thread.
 */
#include "net/conn.h"
#include "net/conn_proxy.h"
#include "net/test_net_util.h"

#include "base/xalloc.h"
#include "testlib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define test_assert_contains(s, sub)                                                               \
    do {                                                                                           \
        const char *s_ = (s);                                                                      \
        if (!s_ || !strstr(s_, (sub)))                                                             \
            test_fail_at(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", s_ ? s_ : "(null)", \
                         (sub));                                                                   \
    } while (0)

/* What the server sends after the proxy's answer: must never be consumed by the handshake. */
#define GREETING "* OK ready\r\n"

struct hs_case {
    const char *name;
    enum conn_proxy_type type;
    const char *host;
    int port;
    const char *request; /* everything we send, in order */
    size_t request_len;
    const char *reply; /* the proxy's whole answer */
    size_t reply_len;
    enum proxy_hs_status outcome;
    const char *error; /* substring of the message, for errors */
};

#define B(s) s, sizeof(s) - 1

static const struct hs_case cases[] = {
    {"SOCKS5, server by name, bound IPv4 address", CONN_PROXY_SOCKS5, "imap.example.org", 143,
     B("\x05\x01\x00"
       "\x05\x01\x00\x03\x10imap.example.org\x00\x8f"),
     B("\x05\x00"
       "\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38"),
     PROXY_HS_DONE, NULL},
    {"SOCKS5, IPv4 literal", CONN_PROXY_SOCKS5, "192.0.2.7", 993,
     B("\x05\x01\x00"
       "\x05\x01\x00\x01\xc0\x00\x02\x07\x03\xe1"),
     B("\x05\x00"
       "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"),
     PROXY_HS_DONE, NULL},
    {"SOCKS5, IPv6 literal, bound IPv6 address", CONN_PROXY_SOCKS5, "2001:db8::1", 993,
     B("\x05\x01\x00"
       "\x05\x01\x00\x04\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x03\xe1"),
     B("\x05\x00"
       "\x05\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x12\x34"),
     PROXY_HS_DONE, NULL},
    {"SOCKS5, bound address given as a name", CONN_PROXY_SOCKS5, "h", 143,
     B("\x05\x01\x00"
       "\x05\x01\x00\x03\x01h\x00\x8f"),
     B("\x05\x00"
       "\x05\x00\x00\x03\x05proxy\x00\x01"),
     PROXY_HS_DONE, NULL},
    {"SOCKS5, authentication required", CONN_PROXY_SOCKS5, "h", 143, B("\x05\x01\x00"),
     B("\x05\xff"), PROXY_HS_ERROR, "requires authentication, which the proxy option cannot give"},
    {"SOCKS5, a method we did not offer", CONN_PROXY_SOCKS5, "h", 143, B("\x05\x01\x00"),
     B("\x05\x02"), PROXY_HS_ERROR, "chose authentication method 2"},
    {"SOCKS5, connection refused", CONN_PROXY_SOCKS5, "h", 143,
     B("\x05\x01\x00"
       "\x05\x01\x00\x03\x01h\x00\x8f"),
     B("\x05\x00"
       "\x05\x05\x00\x01"),
     PROXY_HS_ERROR, "refused the connection (connection refused, code 5) to h:143"},
    {"SOCKS5, ruleset", CONN_PROXY_SOCKS5, "h", 143,
     B("\x05\x01\x00"
       "\x05\x01\x00\x03\x01h\x00\x8f"),
     B("\x05\x00"
       "\x05\x02\x00\x01"),
     PROXY_HS_ERROR, "connection not allowed by ruleset"},
    {"SOCKS5, an HTTP proxy answers", CONN_PROXY_SOCKS5, "h", 143, B("\x05\x01\x00"), B("HT"),
     PROXY_HS_ERROR, "version 72, not 5: is it a SOCKS5 proxy?"},
    {"SOCKS5, bad address type", CONN_PROXY_SOCKS5, "h", 143,
     B("\x05\x01\x00"
       "\x05\x01\x00\x03\x01h\x00\x8f"),
     B("\x05\x00"
       "\x05\x00\x00\x09"),
     PROXY_HS_ERROR, "invalid address type 9"},
    {"SOCKS4a, server by name", CONN_PROXY_SOCKS4, "imap.example.org", 143,
     B("\x04\x01\x00\x8f\x00\x00\x00\x01\x00imap.example.org\x00"),
     B("\x00\x5a\x00\x00\x00\x00\x00\x00"), PROXY_HS_DONE, NULL},
    {"SOCKS4, IPv4 literal", CONN_PROXY_SOCKS4, "10.1.2.3", 993,
     B("\x04\x01\x03\xe1\x0a\x01\x02\x03\x00"), B("\x00\x5a\x03\xe1\x0a\x01\x02\x03"),
     PROXY_HS_DONE, NULL},
    {"SOCKS4, rejected", CONN_PROXY_SOCKS4, "10.1.2.3", 993,
     B("\x04\x01\x03\xe1\x0a\x01\x02\x03\x00"), B("\x00\x5b\x00\x00\x00\x00\x00\x00"),
     PROXY_HS_ERROR, "rejected or could not make the connection (code 0x5b) to 10.1.2.3:993"},
    {"SOCKS4, identd", CONN_PROXY_SOCKS4, "10.1.2.3", 993,
     B("\x04\x01\x03\xe1\x0a\x01\x02\x03\x00"), B("\x00\x5c\x00\x00\x00\x00\x00\x00"),
     PROXY_HS_ERROR, "identd"},
    {"SOCKS4, not a SOCKS4 proxy", CONN_PROXY_SOCKS4, "10.1.2.3", 993,
     B("\x04\x01\x03\xe1\x0a\x01\x02\x03\x00"), B("\x05\x00\x00\x00\x00\x00\x00\x00"),
     PROXY_HS_ERROR, "is it a SOCKS4 proxy?"},
    {"HTTP CONNECT, 200 with headers", CONN_PROXY_HTTP, "imap.example.org", 993,
     B("CONNECT imap.example.org:993 HTTP/1.1\r\nHost: imap.example.org:993\r\n\r\n"),
     B("HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n"), PROXY_HS_DONE, NULL},
    {"HTTP CONNECT, IPv6 literal in brackets, bare LF", CONN_PROXY_HTTP, "::1", 143,
     B("CONNECT [::1]:143 HTTP/1.1\r\nHost: [::1]:143\r\n\r\n"), B("HTTP/1.0 200 OK\n\n"),
     PROXY_HS_DONE, NULL},
    {"HTTP CONNECT, status without reason", CONN_PROXY_HTTP, "h", 143,
     B("CONNECT h:143 HTTP/1.1\r\nHost: h:143\r\n\r\n"), B("HTTP/1.1 204\r\n\r\n"), PROXY_HS_DONE,
     NULL},
    {"HTTP CONNECT, 407", CONN_PROXY_HTTP, "h", 143,
     B("CONNECT h:143 HTTP/1.1\r\nHost: h:143\r\n\r\n"),
     B("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n"),
     PROXY_HS_ERROR,
     "refused the connection (\"HTTP/1.1 407 Proxy Authentication Required\") to h:143"},
    {"HTTP CONNECT, 403 with control characters", CONN_PROXY_HTTP, "h", 143,
     B("CONNECT h:143 HTTP/1.1\r\nHost: h:143\r\n\r\n"), B("HTTP/1.1 403 No\x1b[2J\r\n\r\n"),
     PROXY_HS_ERROR, "(\"HTTP/1.1 403 No?[2J\")"},
    {"HTTP CONNECT, not HTTP", CONN_PROXY_HTTP, "h", 143,
     B("CONNECT h:143 HTTP/1.1\r\nHost: h:143\r\n\r\n"), B("* OK IMAP4rev1\r\n"), PROXY_HS_ERROR,
     "sent something that is not an HTTP answer"},
    {"HTTP CONNECT, bad status line", CONN_PROXY_HTTP, "h", 143,
     B("CONNECT h:143 HTTP/1.1\r\nHost: h:143\r\n\r\n"), B("HTTP/1.1 2x0 what\r\n\r\n"),
     PROXY_HS_ERROR, "invalid status line \"HTTP/1.1 2x0 what\""},
};

/*
 * Run one case: output is collected, the reply (followed by the greeting)
 * fed in pieces of at most `piece` bytes and never more than proxy_hs_want().
 */
static void run_case(const struct hs_case *c, size_t piece)
{
    struct proxy_hs h;
    struct err e = ERR_INIT;
    test_assert(proxy_hs_init(&h, c->type, "test proxy", c->host, c->port, &e));
    unsigned char sent[1024];
    size_t nsent = 0;
    size_t total = c->reply_len + strlen(GREETING);
    unsigned char *input = xmalloc(total);
    memcpy(input, c->reply, c->reply_len);
    memcpy(input + c->reply_len, GREETING, strlen(GREETING));
    size_t pos = 0;
    enum proxy_hs_status st = PROXY_HS_MORE;
    while (st == PROXY_HS_MORE && pos < total) {
        size_t olen;
        const unsigned char *out = proxy_hs_output(&h, &olen);
        test_assert(nsent + olen <= sizeof(sent));
        memcpy(sent + nsent, out, olen);
        nsent += olen;
        proxy_hs_sent(&h);
        size_t want = proxy_hs_want(&h);
        test_assert(want >= 1);
        size_t n = want < piece ? want : piece;
        if (n > total - pos)
            n = total - pos;
        st = proxy_hs_feed(&h, input + pos, n, &e);
        pos += n;
    }
    test_assert_inteq(st, c->outcome);
    if (c->outcome == PROXY_HS_DONE) {
        /* Exactly the proxy's answer was consumed: the greeting is left. */
        test_assert_inteq(pos, c->reply_len);
    } else {
        test_assert_contains(e.msg, c->error);
        test_assert_contains(e.msg, "The test proxy ");
    }
    test_assert_inteq(nsent, c->request_len);
    test_assert(memcmp(sent, c->request, nsent < c->request_len ? nsent : c->request_len) == 0);
    err_clear(&e);
    free(input);
    proxy_hs_release(&h);
}

static void test_tables(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char title[200];
        snprintf(title, sizeof(title), "proxy handshake: %s", cases[i].name);
        test_begin(title);
        run_case(&cases[i], 1);
        run_case(&cases[i], 3);
        run_case(&cases[i], 100000);
        test_end();
    }
}

static void test_init_errors(void)
{
    test_begin("proxy handshake: requests that cannot be made");
    struct proxy_hs h;
    struct err e = ERR_INIT;
    char longname[300];
    memset(longname, 'a', 256);
    longname[256] = '\0';
    test_assert(!proxy_hs_init(&h, CONN_PROXY_SOCKS5, "SOCKS5 proxy p:1", longname, 143, &e));
    test_assert_contains(e.msg, "not a host name of at most 255 characters");
    proxy_hs_release(&h);
    err_clear(&e);
    test_assert(!proxy_hs_init(&h, CONN_PROXY_SOCKS4, "SOCKS4 proxy p:1", "::1", 143, &e));
    test_assert_contains(e.msg, "SOCKS4 carries IPv4 only");
    proxy_hs_release(&h);
    err_clear(&e);
    /* A header injection through the host name is refused. */
    test_assert(!proxy_hs_init(&h, CONN_PROXY_HTTP, "HTTP proxy p:1", "h\r\nX-Evil: 1", 143, &e));
    proxy_hs_release(&h);
    err_clear(&e);
    test_assert(!proxy_hs_init(&h, CONN_PROXY_HTTP, "HTTP proxy p:1", "h", 0, &e));
    proxy_hs_release(&h);
    err_clear(&e);
    test_end();

    test_begin("proxy handshake: an HTTP answer that never ends is cut at the limit");
    test_assert(proxy_hs_init(&h, CONN_PROXY_HTTP, "HTTP proxy p:1", "h", 143, &e));
    unsigned char hdr[] = "HTTP/1.1 200 OK\r\nX: ";
    enum proxy_hs_status st = proxy_hs_feed(&h, hdr, sizeof(hdr) - 1, &e);
    size_t fed = sizeof(hdr) - 1;
    while (st == PROXY_HS_MORE) {
        st = proxy_hs_feed(&h, (const unsigned char *)"a", 1, &e);
        fed++;
    }
    test_assert_inteq(st, PROXY_HS_ERROR);
    test_assert_inteq(fed, PROXY_HTTP_MAX);
    test_assert_contains(e.msg, "longer than 16384 bytes");
    err_clear(&e);
    /* Feeding a failed handshake keeps failing. */
    test_assert_inteq(proxy_hs_feed(&h, (const unsigned char *)"a", 1, &e), PROXY_HS_ERROR);
    err_clear(&e);
    proxy_hs_release(&h);
    test_end();
}

/* ---- real connections through a proxy thread ---- */

struct proxy_peer {
    int lfd;
    enum conn_proxy_type type;
    bool refuse;
    char request[2048];
    size_t request_len;
};

static void *proxy_main(void *arg)
{
    struct proxy_peer *p = arg;
    int fd = tn_accept(p->lfd, 5000);
    if (fd < 0)
        return NULL;
    struct tn_io io;
    tn_io_init(&io, fd);
    unsigned char b[512];
    if (p->type == CONN_PROXY_SOCKS5) {
        if (!tn_io_read_full(&io, b, 3))
            goto out;
        tn_io_write(&io, "\x05\x00", 2);
        if (!tn_io_read_full(&io, b, 5))
            goto out;
        size_t rest = b[3] == 3 ? (size_t)b[4] + 2 : b[3] == 1 ? 3 + 2 : 15 + 2;
        memcpy(p->request, b, 5);
        if (!tn_io_read_full(&io, p->request + 5, rest))
            goto out;
        p->request_len = 5 + rest;
        if (p->refuse) {
            tn_io_write(&io, "\x05\x05\x00\x01\0\0\0\0\0\0", 10);
            goto out;
        }
        /* The answer and the server's greeting in one write. */
        static const char ok[] = "\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x8f" GREETING;
        tn_io_write(&io, ok, sizeof(ok) - 1);
    } else {
        char line[512];
        size_t n = 0;
        while (tn_io_read_line(&io, line, sizeof(line)) && strcmp(line, "\r\n") != 0) {
            size_t l = strlen(line);
            if (n + l < sizeof(p->request)) {
                memcpy(p->request + n, line, l);
                n += l;
            }
        }
        p->request_len = n;
        const char *ans = p->refuse ? "HTTP/1.1 502 Bad Gateway\r\n\r\n"
                                    : "HTTP/1.1 200 Connection established\r\n\r\n" GREETING;
        tn_io_write(&io, ans, strlen(ans));
        if (p->refuse)
            goto out;
    }
    tn_io_echo(&io);
out:
    tn_io_release(&io);
    return NULL;
}

static void through(enum conn_proxy_type type, const char *target, bool refuse,
                    enum conn_channel channel)
{
    struct proxy_peer p = {.type = type, .refuse = refuse};
    int port;
    p.lfd = tn_listen(&port);
    struct tn_thread th;
    tn_thread_start(&th, proxy_main, &p);
    struct conn_proxy px = {.type = type, .host = "127.0.0.1", .port = port};
    struct conn *c = NULL;
    struct err e = ERR_INIT;
    bool ok = conn_open_proxied(&px, target, 143, 5000, &c, &e);
    if (refuse) {
        test_assert(!ok);
        test_assert_contains(e.msg, "proxy 127.0.0.1:");
        test_assert_contains(e.msg, "refused the connection");
    } else {
        test_assert(ok);
        char buf[64] = "";
        size_t got = 0;
        while (got < strlen(GREETING)) {
            ssize_t n = conn_read(c, buf + got, sizeof(buf) - 1 - got, &e);
            test_assert(n > 0);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        buf[got] = '\0';
        test_assert_streq(buf, GREETING);
        test_assert_contains(conn_desc(c), " via ");
        test_assert_contains(conn_desc(c), target);
        test_assert_inteq(conn_channel(c), channel);
        test_assert(conn_write(c, "a1 NOOP\r\n", 9, &e) && conn_flush(c, &e));
        char echo[16] = "";
        got = 0;
        while (got < 9) {
            ssize_t n = conn_read(c, echo + got, 9 - got, &e);
            test_assert(n > 0);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        test_assert(memcmp(echo, "a1 NOOP\r\n", 9) == 0);
    }
    conn_close(&c);
    tn_thread_join(&th);
    close(p.lfd);
    err_clear(&e);
    if (type == CONN_PROXY_HTTP)
        test_assert(p.request_len > 8 && memcmp(p.request, "CONNECT ", 8) == 0);
    else
        test_assert(p.request_len > 4 && p.request[0] == 5 && p.request[1] == 1);
}

static void test_connections(void)
{
    test_begin("proxy connection: SOCKS5 to a local server, greeting in the same packet");
    through(CONN_PROXY_SOCKS5, "127.0.0.1", false, CONN_CHANNEL_LOOPBACK);
    test_end();
    test_begin("proxy connection: a server by name beyond the proxy is not loopback");
    through(CONN_PROXY_SOCKS5, "imap.example.org", false, CONN_CHANNEL_CLEAR);
    test_end();
    test_begin("proxy connection: HTTP CONNECT");
    through(CONN_PROXY_HTTP, "localhost", false, CONN_CHANNEL_LOOPBACK);
    test_end();
    test_begin("proxy connection: refusals name the proxy and its reason");
    through(CONN_PROXY_SOCKS5, "imap.example.org", true, CONN_CHANNEL_CLEAR);
    through(CONN_PROXY_HTTP, "imap.example.org", true, CONN_CHANNEL_CLEAR);
    test_end();

    test_begin("proxy connection: a proxy that is not there");
    int port;
    int lfd = tn_listen(&port);
    close(lfd);
    struct conn_proxy px = {.type = CONN_PROXY_SOCKS5, .host = "127.0.0.1", .port = port};
    struct conn *c = NULL;
    struct err e = ERR_INIT;
    test_assert(!conn_open_proxied(&px, "imap.example.org", 993, 2000, &c, &e));
    test_assert_contains(e.msg, "Could not reach the SOCKS5 proxy 127.0.0.1:");
    test_assert_contains(e.msg, "was refused");
    err_clear(&e);
    test_end();
}

int main(void)
{
    test_tables();
    test_init_errors();
    test_connections();
    return test_done();
}
