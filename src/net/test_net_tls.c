/*
 * Unit tests for the TLS filter against an in-process OpenSSL server on
 * 127.0.0.1, with certificates made by the test: verification (CA file,
 * host names, validity, pins), the messages, STARTTLS, TLS + DEFLATE,
 * pipelining over TLS, EOF and timeouts.
 */
#include "net/conn.h"
#include "net/test_net_certs.h"
#include "net/test_net_util.h"

#include "base/xalloc.h"
#include "testlib/test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>

#define test_assert_contains(s, sub)                                                               \
    do {                                                                                           \
        const char *tc_ = (s);                                                                     \
        if (!tc_ || !strstr(tc_, (sub)))                                                           \
            test_fail_at(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"",                     \
                         tc_ ? tc_ : "(null)", (sub));                                             \
    } while (0)

static struct tn_cert ca, good, expired, future, other, selfsigned, cn_only, client;

enum srv_mode {
    SRV_ECHO,
    SRV_STARTTLS,      /* "a STARTTLS" / "a OK" in plain text first */
    SRV_DEFLATE,       /* a DEFLATE echo inside TLS */
    SRV_HALF_RECORD,   /* sends half a TLS record, then closes */
    SRV_BYE_NO_NOTIFY, /* sends "* BYE", closes without close_notify */
    SRV_SILENT,        /* accepts TCP, never answers */
    SRV_PLAIN,         /* an IMAP greeting in plain text: no TLS at all */
    SRV_CLIENT_CERT,   /* requires a client certificate from the test CA */
};

struct server {
    int lfd;
    int port;
    const struct tn_cert *cert;
    enum srv_mode mode;
    struct tn_thread th;
    bool handshake_ok;
    bool client_cert_ok;
};

static void *server_main(void *arg)
{
    struct server *s = arg;
    int fd = tn_accept(s->lfd, 5000);
    if (fd < 0)
        return NULL;
    /*
     * Small buffers (fixed sizes, no autotuning, which may grow a receive
     * buffer to tcp_rmem's maximum, 32 MB here): the pipelining tests must
     * really fill them. Not below 32 KB (the kernel doubles it): a receive
     * buffer smaller than loopback's 64 KB MSS makes the sender wait for
     * TCP's 200 ms persist timer at each window opening, 21 s of the test.
     */
    int small = 32768;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct tn_io io;
    tn_io_init(&io, fd);
    char line[256];
    if (s->mode == SRV_SILENT || s->mode == SRV_PLAIN) {
        if (s->mode == SRV_PLAIN)
            tn_io_write(&io, "* OK IMAP4rev1 ready\r\n", 22);
        while (tn_io_read(&io, line, sizeof(line)) > 0)
            ;
        close(fd);
        return NULL;
    }
    if (s->mode == SRV_STARTTLS &&
        (!tn_io_read_line(&io, line, sizeof(line)) || strcmp(line, "a STARTTLS\r\n") != 0 ||
         !tn_io_write(&io, "a OK Begin TLS negotiation now\r\n", 32))) {
        close(fd);
        return NULL;
    }

    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx, s->cert->x);
    SSL_CTX_use_PrivateKey(ctx, s->cert->key);
    if (s->mode == SRV_CLIENT_CERT) {
        X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca.x);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
        s->handshake_ok = true;
        s->client_cert_ok =
            SSL_get0_peer_certificate(ssl) != NULL && SSL_get_verify_result(ssl) == X509_V_OK;
        io.ssl = ssl;
        if (s->mode == SRV_HALF_RECORD) {
            BIO *mem = BIO_new(BIO_s_mem());
            SSL_set0_wbio(ssl, mem);
            SSL_write(ssl, "* OK this record is cut in half\r\n", 33);
            char *p;
            long n = BIO_get_mem_data(mem, &p);
            if (write(fd, p, (size_t)n / 2) < 0)
                perror("write");
        } else if (s->mode == SRV_BYE_NO_NOTIFY) {
            tn_io_write(&io, "* BYE\r\n", 7);
        } else {
            if (s->mode == SRV_DEFLATE)
                tn_io_start_deflate(&io);
            tn_io_echo(&io);
            tn_io_release(&io);
            SSL_shutdown(ssl);
        }
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    close(fd);
    return NULL;
}

static void server_start(struct server *s, const struct tn_cert *cert, enum srv_mode mode)
{
    memset(s, 0, sizeof(*s));
    s->lfd = tn_listen(&s->port);
    s->cert = cert;
    s->mode = mode;
    tn_thread_start(&s->th, server_main, s);
}

static void server_join(struct server *s)
{
    tn_thread_join(&s->th);
    close(s->lfd);
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

static bool echo_ok(struct conn *c, const char *msg)
{
    struct err e = ERR_INIT;
    char buf[256];
    size_t len = strlen(msg);
    bool ok = conn_write(c, msg, len, &e) && conn_flush(c, &e) && read_full(c, buf, len, &e) &&
              memcmp(buf, msg, len) == 0;
    if (!ok)
        printf("  echo failed: %s\n", e.msg ? e.msg : "wrong data");
    err_clear(&e);
    return ok;
}

/*
 * Connect to a server with cert and try TLS with opts; host defaults to
 * "localhost".  Returns the connection (NULL on failure, e set).
 */
static struct conn *try_tls(struct server *s, const struct tn_cert *cert, enum srv_mode mode,
                            const struct tls_opts *opts, struct err *e)
{
    server_start(s, cert, mode);
    struct conn *c = NULL;
    if (!conn_open_tcp("127.0.0.1", s->port, CONN_FAMILY_IPV4, 3000, &c, e))
        return NULL;
    struct tls_opts o = *opts;
    if (!o.host)
        o.host = "localhost";
    if (!conn_start_tls(c, &o, e))
        conn_close(&c);
    return c;
}

/* A connection that must work: echo through it, close, join. */
static void expect_ok(const struct tn_cert *cert, const struct tls_opts *opts)
{
    struct server s;
    struct err e = ERR_INIT;
    struct conn *c = try_tls(&s, cert, SRV_ECHO, opts, &e);
    test_assert(c != NULL);
    if (!c)
        printf("  error: %s\n", e.msg);
    if (c) {
        test_assert(echo_ok(c, "a1 LOGIN\r\n"));
        conn_close(&c);
    }
    err_clear(&e);
    server_join(&s);
}

/* A connection that must be refused, with these words in the message. */
static void expect_refused(const struct tn_cert *cert, const struct tls_opts *opts,
                           const char *words1, const char *words2)
{
    struct server s;
    struct err e = ERR_INIT;
    struct conn *c = try_tls(&s, cert, SRV_ECHO, opts, &e);
    test_assert(c == NULL);
    conn_close(&c);
    if (getenv("NET_TEST_VERBOSE"))
        printf("  %s\n", e.msg);
    test_assert_inteq(e.scope, ERR_REPO);
    test_assert_contains(e.msg, words1);
    if (words2)
        test_assert_contains(e.msg, words2);
    /* Every refusal names the certificate's SHA-256 fingerprint, both ways. */
    if (e.kind == ERRK_PROTOCOL) {
        char *colons = tn_cert_fingerprint(cert, EVP_sha256(), true, true);
        char *plain = tn_cert_fingerprint(cert, EVP_sha256(), false, false);
        char *want = xasprintf("SHA-256 fingerprint is %s; to trust this certificate anyway, "
                               "set cert_fingerprint = %s",
                               colons, plain);
        test_assert_contains(e.msg, want);
        free(want);
        free(colons);
        free(plain);
    }
    err_clear(&e);
    server_join(&s);
}

static void make_certs(void)
{
    tn_cert_make(&ca, "ca", "offlineimap test CA", NULL, NULL, -1, 365, true);
    tn_cert_make(&good, "good", "localhost", "DNS:localhost,IP:127.0.0.1", &ca, -1, 365, false);
    tn_cert_make(&expired, "expired", "localhost", "DNS:localhost", &ca, -30, -1, false);
    tn_cert_make(&future, "future", "localhost", "DNS:localhost", &ca, 10, 365, false);
    tn_cert_make(&other, "other", "other.example", "DNS:other.example,DNS:*.other.example", &ca, -1,
                 365, false);
    tn_cert_make(&selfsigned, "selfsigned", "localhost", "DNS:localhost", NULL, -1, 365, false);
    tn_cert_make(&cn_only, "cnonly", "localhost", NULL, &ca, -1, 365, false);
    tn_cert_make(&client, "client", "offlineimap client", NULL, &ca, -1, 365, false);
}

static void test_verification(void)
{
    struct tls_opts o = {.cafile = ca.cert_path};

    test_begin("TLS: a good certificate is accepted with the CA file");
    expect_ok(&good, &o);
    o.host = "127.0.0.1"; /* an IP literal matches the IP SAN (and gets no SNI) */
    expect_ok(&good, &o);
    o.host = "LocalHost"; /* host names compare without case */
    expect_ok(&good, &o);
    o.host = NULL;
    expect_ok(&cn_only, &o); /* no SAN at all: the commonName counts */
    test_end();

    test_begin("TLS: a certificate for another host is refused");
    expect_refused(&other, &o,
                   "host name mismatch: certificate is for other.example, "
                   "*.other.example, not localhost",
                   NULL);
    o.host = "wrong.example";
    expect_refused(&good, &o,
                   "host name mismatch: certificate is for localhost, 127.0.0.1, "
                   "not wrong.example",
                   "TLS certificate verification failed for 127.0.0.1:");
    o.host = "a.b.other.example"; /* a wildcard covers one label only */
    expect_refused(&other, &o, "host name mismatch", NULL);
    o.host = "10.1.2.3";
    expect_refused(&good, &o, "host name mismatch", "not 10.1.2.3");
    o.host = NULL;
    test_end();

    test_begin("TLS: expired and not yet valid certificates are refused");
    expect_refused(&expired, &o, "certificate has expired (notAfter ", NULL);
    expect_refused(&future, &o, "certificate is not yet valid (notBefore ", NULL);
    test_end();

    test_begin("TLS: unknown issuers and self-signed certificates are refused");
    char *store = xasprintf("(not in the CA store %s)", ca.cert_path);
    expect_refused(&selfsigned, &o, "self-signed certificate", store);
    free(store);
    struct tls_opts sys = {0}; /* the system store knows nothing of our test CA */
    expect_refused(&good, &sys, "unknown issuer 'CN=offlineimap test CA,O=offlineimap test'",
                   "(not in the CA store system)");
    struct tls_opts wrong_ca = {.cafile = selfsigned.cert_path};
    expect_refused(&good, &wrong_ca, "unknown issuer", "(and remove sslcacertfile)");
    test_end();
}

static void test_pins(void)
{
    test_begin("TLS: fingerprint pins accept a self-signed certificate");
    char *sha256c = tn_cert_fingerprint(&selfsigned, EVP_sha256(), true, true);
    char *sha256 = tn_cert_fingerprint(&selfsigned, EVP_sha256(), false, false);
    char *sha1c = tn_cert_fingerprint(&selfsigned, EVP_sha1(), true, false);
    char *sha1 = tn_cert_fingerprint(&selfsigned, EVP_sha1(), false, true);
    char *sha512 = tn_cert_fingerprint(&selfsigned, EVP_sha512(), false, false);
    struct tls_opts o = {.fingerprints = sha256c};
    expect_ok(&selfsigned, &o);
    o.fingerprints = sha256;
    expect_ok(&selfsigned, &o);
    o.fingerprints = sha1c;
    expect_ok(&selfsigned, &o);
    o.fingerprints = sha1;
    expect_ok(&selfsigned, &o);
    char *good1 = tn_cert_fingerprint(&good, EVP_sha1(), false, false);
    char *list = xasprintf("%s, %s", good1, sha512);
    free(good1);
    o.fingerprints = list;
    expect_ok(&selfsigned, &o);
    /* A pin does not care about the host name. */
    o.host = "elsewhere.example";
    expect_ok(&selfsigned, &o);
    o.host = NULL;
    test_end();

    test_begin("TLS: a wrong pin is refused, naming the right fingerprint");
    char *good256 = tn_cert_fingerprint(&good, EVP_sha256(), true, false);
    o.fingerprints = good256;
    expect_refused(&selfsigned, &o, "matches none of the configured fingerprints", NULL);
    test_end();

    test_begin("TLS: with a CA file and pins, both must hold");
    struct tls_opts both = {.cafile = ca.cert_path,
                            .fingerprints = tn_cert_fingerprint(&good, EVP_sha256(), 0, 0)};
    expect_ok(&good, &both);
    expect_refused(&selfsigned, &both, "self-signed certificate", "(and remove sslcacertfile)");
    free((char *)both.fingerprints);
    both.fingerprints = sha256;
    expect_refused(&good, &both, "matches none of the configured fingerprints", NULL);
    both.fingerprints = sha256;
    both.no_verify = true; /* only the pin */
    expect_ok(&selfsigned, &both);
    test_end();

    test_begin("TLS: bad pin syntax and no_verify without pins are configuration errors");
    struct server s;
    struct err e = ERR_INIT;
    struct tls_opts bad = {.fingerprints = "12:34:zz"};
    test_assert(try_tls(&s, &good, SRV_ECHO, &bad, &e) == NULL);
    test_assert_inteq(e.kind, ERRK_CONFIG);
    test_assert_contains(e.msg, "Invalid cert_fingerprint '12:34:zz'");
    err_clear(&e);
    server_join(&s);
    struct tls_opts nv = {.no_verify = true};
    test_assert(try_tls(&s, &good, SRV_ECHO, &nv, &e) == NULL);
    test_assert_inteq(e.kind, ERRK_CONFIG);
    test_assert_contains(e.msg, "without cert_fingerprint");
    err_clear(&e);
    server_join(&s);
    test_end();

    free(sha256c);
    free(sha256);
    free(sha1c);
    free(sha1);
    free(sha512);
    free(list);
    free(good256);
}

static void test_options(void)
{
    struct server s;
    struct err e = ERR_INIT;
    test_begin("TLS: protocol versions, conn_tls_info");
    struct tls_opts o = {.cafile = ca.cert_path};
    struct conn *c = try_tls(&s, &good, SRV_ECHO, &o, &e);
    test_assert(c && strncmp(conn_tls_info(c), "TLSv1.3 TLS_", 12) == 0);
    conn_close(&c);
    server_join(&s);
    o.ssl_version = "tls1_2";
    o.tls_level = "tls_secure";
    c = try_tls(&s, &good, SRV_ECHO, &o, &e);
    test_assert(c && strncmp(conn_tls_info(c), "TLSv1.2 ", 8) == 0);
    test_assert(c && echo_ok(c, "a NOOP\r\n"));
    conn_close(&c);
    server_join(&s);
    static const struct {
        const char *level, *version, *words;
    } bad[] = {
        {"tls_secure", "tls1", "is not allowed by tls_level = tls_secure"},
        {NULL, "ssl3", "SSLv3"},
        {NULL, "tls9", "Unknown ssl_version 'tls9'"},
        {"tls_paranoid", NULL, "Unknown tls_level 'tls_paranoid'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tls_opts b = {
            .cafile = ca.cert_path, .tls_level = bad[i].level, .ssl_version = bad[i].version};
        test_assert(try_tls(&s, &good, SRV_ECHO, &b, &e) == NULL);
        test_assert_inteq(e.kind, ERRK_CONFIG);
        test_assert_contains(e.msg, bad[i].words);
        err_clear(&e);
        server_join(&s);
    }
    test_end();

    test_begin("TLS: CA file errors and OS-DEFAULT");
    struct tls_opts missing = {.cafile = "/nonexistent/ca.pem"};
    test_assert(try_tls(&s, &good, SRV_ECHO, &missing, &e) == NULL);
    test_assert_contains(e.msg, "CA certificate file '/nonexistent/ca.pem' (sslcacertfile) "
                                "does not exist");
    err_clear(&e);
    server_join(&s);
    struct tls_opts osdef = {.cafile = "OS-DEFAULT"};
    struct stat st;
    if (stat("/etc/ssl/certs/ca-certificates.crt", &st) == 0)
        expect_refused(&good, &osdef, "unknown issuer",
                       "(not in the CA store /etc/ssl/certs/ca-certificates.crt)");
    test_end();

    test_begin("TLS: a client certificate");
    struct tls_opts cc = {
        .cafile = ca.cert_path, .client_cert = client.cert_path, .client_key = client.key_path};
    c = try_tls(&s, &good, SRV_CLIENT_CERT, &cc, &e);
    test_assert(c && echo_ok(c, "a AUTHENTICATE EXTERNAL\r\n"));
    conn_close(&c);
    server_join(&s);
    test_assert(s.client_cert_ok);
    cc.client_key = ca.key_path; /* not the certificate's key */
    test_assert(try_tls(&s, &good, SRV_ECHO, &cc, &e) == NULL);
    test_assert_contains(e.msg, "Could not load the client key");
    err_clear(&e);
    server_join(&s);
    test_end();
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

static void test_streams(void)
{
    struct server s;
    struct err e = ERR_INIT;
    struct tls_opts o = {.cafile = ca.cert_path};
    char buf[256];

    test_begin("TLS: STARTTLS after a plain exchange");
    server_start(&s, &good, SRV_STARTTLS);
    struct conn *c = NULL;
    test_assert(conn_open_tcp("localhost", s.port, CONN_FAMILY_ANY, 3000, &c, &e));
    test_assert(conn_write(c, "a STARTTLS\r\n", 12, &e) && conn_flush(c, &e));
    test_assert(read_full(c, buf, 32, &e) && memcmp(buf, "a OK Begin", 10) == 0);
    test_assert(conn_tls_info(c) == NULL);
    test_assert(conn_start_tls(c, &o, &e)); /* the host comes from the connection */
    test_assert(conn_tls_info(c) != NULL);
    test_assert(echo_ok(c, "b CAPABILITY\r\n"));
    test_assert(!conn_start_tls(c, &o, &e));
    test_assert_contains(e.msg, "TLS is already active");
    err_clear(&e);
    conn_close(&c);
    server_join(&s);
    test_end();

    test_begin("TLS: TLS + DEFLATE stacked, small flushes and 4 MB");
    c = try_tls(&s, &good, SRV_DEFLATE, &o, &e);
    test_assert(c && conn_start_deflate(c, &e));
    for (int i = 0; c && i < 200; i++) {
        char line[64];
        snprintf(line, sizeof(line), "t%d NOOP\r\n", i);
        if (!echo_ok(c, line)) {
            test_assert(false);
            break;
        }
    }
    size_t len = 4 << 20;
    unsigned char *data = xmalloc(len), *got = xmalloc(len);
    tn_fill(data, len, 5, true);
    /* The server echoes while we send; reading only afterwards would deadlock. */
    bool ok = c != NULL;
    size_t have = 0;
    for (size_t off = 0; ok && off < len; off += 65536) {
        ok = conn_write(c, data + off, 65536, &e) && conn_flush(c, &e);
        ssize_t n;
        while (ok && (n = conn_read_nowait(c, got + have, len - have, &e)) > 0)
            have += (size_t)n;
    }
    ok = ok && read_full(c, got + have, len - have, &e);
    test_assert(ok && memcmp(got, data, len) == 0);
    test_assert(c && conn_bytes_out(c) < len / 3);
    conn_close(&c);
    server_join(&s);
    err_clear(&e);
    test_end();

    test_begin("TLS: pipelining 4 MB of random bytes with the read hook");
    tn_fill(data, len, 6, false);
    c = try_tls(&s, &good, SRV_ECHO, &o, &e);
    ok = c != NULL;
    struct drain d = {.c = c, .got = got, .cap = len};
    if (c) {
        /* Our side's buffers small as well: 4 MB cannot fit in them, the hook must run
           (32 KB, not less: see server_main). */
        int small = 32768;
        setsockopt(conn_fd(c), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
        setsockopt(conn_fd(c), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        conn_set_read_hook(c, drain_hook, &d);
    }
    for (size_t off = 0; ok && off < len; off += 100000)
        ok = conn_write(c, data + off, len - off < 100000 ? len - off : 100000, &e);
    ok = ok && conn_flush(c, &e);
    test_assert(ok);
    test_assert(d.calls > 0);
    ok = ok && read_full(c, got + d.have, len - d.have, &e);
    test_assert(ok && memcmp(got, data, len) == 0);
    conn_close(&c);
    server_join(&s);
    err_clear(&e);
    free(data);
    free(got);
    test_end();
}

static void test_endings(void)
{
    struct server s;
    struct err e = ERR_INIT;
    struct tls_opts o = {.cafile = ca.cert_path};
    char buf[256];

    test_begin("TLS: EOF without close_notify after BYE is a plain end");
    struct conn *c = try_tls(&s, &good, SRV_BYE_NO_NOTIFY, &o, &e);
    int64_t t0 = tn_now_ms();
    while (c && !conn_readable(c) && tn_now_ms() - t0 < 2000)
        usleep(1000);
    test_assert(c && conn_readable(c));
    test_assert(c && conn_read_nowait(c, buf, 7, &e) == 7 && memcmp(buf, "* BYE\r\n", 7) == 0);
    test_assert(c && conn_read(c, buf, sizeof(buf), &e) == 0);
    test_assert(!err_isset(&e));
    conn_close(&c);
    server_join(&s);
    test_end();

    test_begin("TLS: EOF in the middle of a record is an error");
    c = try_tls(&s, &good, SRV_HALF_RECORD, &o, &e);
    test_assert(c != NULL);
    ssize_t n = c ? conn_read(c, buf, sizeof(buf), &e) : -1;
    test_assert_inteq(n, -1);
    test_assert_inteq(e.kind, ERRK_NETWORK);
    char want[96];
    snprintf(want, sizeof(want), "connection closed by 127.0.0.1:%d in the middle of a TLS record",
             s.port);
    test_assert_contains(e.msg, want);
    err_clear(&e);
    conn_close(&c);
    server_join(&s);
    test_end();

    test_begin("TLS: a server that never answers the handshake times out");
    server_start(&s, &good, SRV_SILENT);
    test_assert(conn_open_tcp("127.0.0.1", s.port, CONN_FAMILY_ANY, 300, &c, &e));
    t0 = tn_now_ms();
    test_assert(!conn_start_tls(c, &o, &e));
    test_assert(tn_now_ms() - t0 < 2000);
    test_assert_inteq(e.kind, ERRK_TIMEOUT);
    test_assert_contains(e.msg, "timed out after 0.3 seconds during the TLS handshake");
    err_clear(&e);
    conn_close(&c);
    server_join(&s);
    test_end();

    test_begin("TLS: a plain-text server gives a hint about the port");
    server_start(&s, &good, SRV_PLAIN);
    test_assert(conn_open_tcp("127.0.0.1", s.port, CONN_FAMILY_ANY, 3000, &c, &e));
    test_assert(!conn_start_tls(c, &o, &e));
    test_assert_contains(e.msg, "TLS handshake with 127.0.0.1:");
    test_assert_contains(e.msg, "Is the server speaking TLS on this port?");
    err_clear(&e);
    /* The failed connection stays failed. */
    test_assert(!conn_write(c, "x", 1, &e));
    err_clear(&e);
    conn_close(&c);
    server_join(&s);
    test_end();
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    make_certs();
    test_verification();
    test_pins();
    test_options();
    test_streams();
    test_endings();
    struct tn_cert *all[] = {&ca, &good, &expired, &future, &other, &selfsigned, &cn_only, &client};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        tn_cert_free(all[i]);
    return test_done();
}
