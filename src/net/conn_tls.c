/*
 * conn_tls: the TLS filter (OpenSSL 3).
 *
 * OpenSSL reads and writes through a BIO of our own that calls the filter
 * below, so TLS sits on any transport, counts the wire bytes like the rest of
 * the stack, sends with MSG_NOSIGNAL, and never blocks: a BIO call that
 * cannot go on sets the retry flag, OpenSSL reports SSL_ERROR_WANT_READ or
 * SSL_ERROR_WANT_WRITE, and conn.c waits for what the bottom filter asked.
 */
#include "net/conn_internal.h"
#include "net/conn_tls_internal.h"

#include "base/log.h"
#include "base/xalloc.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

struct tls_filter {
    struct conn_filter f;
    SSL_CTX *ctx;
    SSL *ssl;
    BIO_METHOD *meth;
    struct tls_vstate vstate;
    struct err io_err;  /* what the filter below reported inside an OpenSSL call */
    struct err stashed; /* an error met by readable(), for the next read */
    bool bio_eof;       /* the filter below reached end of stream */
    /* Record framing of the input, to tell an EOF between records from one inside. */
    unsigned char rec_hdr[5];
    size_t rec_hdr_have; /* header bytes of the next record seen so far */
    size_t rec_left;     /* body bytes of the current record still to come */
    size_t wpending;     /* length of an SSL_write to repeat, 0 if none */
    bool eof;            /* the peer ended the TLS stream */
    bool may_shutdown;   /* handshake done and no fatal error: close_notify is polite */
};

/* ---- the BIO between OpenSSL and the filter below ---- */

static int bio_write(BIO *b, const char *data, int len)
{
    struct tls_filter *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    ssize_t n = t->f.below->ops->write(t->f.below, data, (size_t)len, &t->io_err);
    if (n == CONN_AGAIN) {
        BIO_set_retry_write(b);
        return -1;
    }
    return n < 0 ? -1 : (int)n;
}

/*
 * Follow the TLS record layer (5-byte header with a 16-bit length, then the
 * body; the same in every version) over the bytes handed to OpenSSL.
 */
static void track_records(struct tls_filter *t, const unsigned char *p, size_t n)
{
    while (n > 0) {
        if (t->rec_left > 0) {
            size_t k = n < t->rec_left ? n : t->rec_left;
            t->rec_left -= k;
            p += k;
            n -= k;
            continue;
        }
        t->rec_hdr[t->rec_hdr_have++] = *p++;
        n--;
        if (t->rec_hdr_have == sizeof(t->rec_hdr)) {
            t->rec_left = (size_t)t->rec_hdr[3] << 8 | t->rec_hdr[4];
            t->rec_hdr_have = 0;
        }
    }
}

static int bio_read(BIO *b, char *buf, int len)
{
    struct tls_filter *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    ssize_t n = t->f.below->ops->read(t->f.below, buf, (size_t)len, &t->io_err);
    if (n == CONN_AGAIN) {
        BIO_set_retry_read(b);
        return -1;
    }
    if (n == 0)
        t->bio_eof = true;
    if (n > 0)
        track_records(t, (const unsigned char *)buf, (size_t)n);
    return n < 0 ? -1 : (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    struct tls_filter *t = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_EOF:
        /* OpenSSL asks this to tell a peer's EOF from a failed read. */
        return t->bio_eof;
    default:
        return 0;
    }
}

/* ---- errors ---- */

static const char *ssl_reason(void)
{
    unsigned long code = ERR_peek_last_error();
    const char *r = code ? ERR_reason_error_string(code) : NULL;
    return r ? r : "unknown error";
}

/*
 * Turn a failed SSL_read/SSL_write/SSL_peek into CONN_AGAIN, 0 (end of
 * stream) or CONN_ERROR.
 */
static ssize_t io_failed(struct tls_filter *t, int ret, struct err *e)
{
    struct conn *c = t->f.conn;
    int err = SSL_get_error(t->ssl, ret);
    switch (err) {
    case SSL_ERROR_WANT_READ:
        if (!c->want)
            c->want = POLLIN;
        return CONN_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        if (!c->want)
            c->want = POLLOUT;
        return CONN_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        t->eof = true;
        return 0;
    default:
        break;
    }
    t->may_shutdown = false;
    if (err_isset(&t->io_err)) {
        err_move(e, &t->io_err);
    } else if (err == SSL_ERROR_SSL &&
               ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        /*
         * Many servers close without close_notify after BYE; IMAP's own
         * framing tells a truncated answer, so a clean cut is just the end.
         */
        if (t->rec_hdr_have == 0 && t->rec_left == 0) {
            t->eof = true;
            ERR_clear_error();
            return 0;
        }
        conn_err_closed(c, "in the middle of a TLS record", e);
    } else if (err == SSL_ERROR_SYSCALL && t->bio_eof) {
        conn_err_closed(c, NULL, e);
    } else if (err == SSL_ERROR_SYSCALL) {
        err_set(e, ERR_REPO, ERRK_NETWORK, "TLS connection to %s failed: %s.", c->desc,
                errno ? strerror(errno) : "I/O error");
    } else {
        err_set(e, ERR_REPO, ERRK_NETWORK, "TLS error on the connection to %s: %s.", c->desc,
                ssl_reason());
    }
    ERR_clear_error();
    return CONN_ERROR;
}

/* ---- the filter ---- */

static ssize_t tls_read_common(struct tls_filter *t, void *buf, size_t len, bool peek,
                               struct err *e)
{
    if (err_isset(&t->stashed)) {
        err_move(e, &t->stashed);
        return CONN_ERROR;
    }
    if (t->eof)
        return 0;
    ERR_clear_error();
    err_clear(&t->io_err);
    size_t got = 0;
    int ret = peek ? SSL_peek_ex(t->ssl, buf, len, &got) : SSL_read_ex(t->ssl, buf, len, &got);
    if (ret == 1)
        return (ssize_t)got;
    return io_failed(t, ret, e);
}

static ssize_t tls_read(struct conn_filter *f, void *buf, size_t len, struct err *e)
{
    return tls_read_common((struct tls_filter *)f, buf, len, false, e);
}

static ssize_t tls_write(struct conn_filter *f, const void *data, size_t len, struct err *e)
{
    struct tls_filter *t = (struct tls_filter *)f;
    if (t->wpending) {
        /* OpenSSL wants the interrupted write repeated as it was. */
        assert(len >= t->wpending);
        len = t->wpending;
    }
    ERR_clear_error();
    err_clear(&t->io_err);
    size_t done = 0;
    int ret = SSL_write_ex(t->ssl, data, len, &done);
    if (ret == 1) {
        t->wpending = 0;
        return (ssize_t)done;
    }
    ssize_t r = io_failed(t, ret, e);
    if (r == CONN_AGAIN) {
        t->wpending = len;
        return r;
    }
    if (r == 0) /* close_notify from the peer while we still send */
        conn_err_closed(f->conn, NULL, e);
    return CONN_ERROR;
}

static int tls_flush(struct conn_filter *f, struct err *e)
{
    /* SSL_write only returns once its records are handed down. */
    return f->below->ops->flush(f->below, e);
}

static bool tls_readable(struct conn_filter *f)
{
    struct tls_filter *t = (struct tls_filter *)f;
    if (t->eof || err_isset(&t->stashed) || SSL_pending(t->ssl) > 0)
        return true;
    /* Decrypt what has arrived: a partial record is not "readable". */
    char byte;
    ssize_t n = tls_read_common(t, &byte, 1, true, &t->stashed);
    return n != CONN_AGAIN;
}

static bool tls_buffered(struct conn_filter *f)
{
    struct tls_filter *t = (struct tls_filter *)f;
    return SSL_has_pending(t->ssl) || f->below->ops->buffered(f->below);
}

static void tls_destroy(struct tls_filter *t)
{
    if (t->ssl)
        SSL_free(t->ssl); /* frees the BIO too */
    SSL_CTX_free(t->ctx);
    BIO_meth_free(t->meth);
    conn_tls_vstate_release(&t->vstate);
    err_clear(&t->io_err);
    err_clear(&t->stashed);
    free(t);
}

static void tls_free(struct conn_filter *f)
{
    struct tls_filter *t = (struct tls_filter *)f;
    if (t->may_shutdown && !f->conn->dead_msg) {
        /* One non-blocking try at close_notify; the socket closes anyway. */
        ERR_clear_error();
        SSL_shutdown(t->ssl);
        ERR_clear_error();
    }
    tls_destroy(t);
}

static const struct conn_filter_ops tls_ops = {
    .name = "tls",
    .read = tls_read,
    .write = tls_write,
    .flush = tls_flush,
    .readable = tls_readable,
    .buffered = tls_buffered,
    .free = tls_free,
};

/* ---- the handshake ---- */

static bool handshake_failed(struct tls_filter *t, int ret, struct err *e)
{
    struct conn *c = t->f.conn;
    int err = SSL_get_error(t->ssl, ret);
    unsigned long code = ERR_peek_last_error();
    int reason = ERR_GET_REASON(code);
    if (err_isset(&t->io_err)) {
        err_move(e, &t->io_err);
        err_prefix(e, "TLS handshake with %s failed: ", c->desc);
    } else if (t->bio_eof || reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        conn_err_closed(c, "during the TLS handshake", e);
    } else if (err == SSL_ERROR_SYSCALL) {
        err_set(e, ERR_REPO, ERRK_NETWORK, "TLS handshake with %s failed: %s.", c->desc,
                errno ? strerror(errno) : "I/O error");
    } else {
        const char *hint = "";
        if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
            reason == SSL_R_RECORD_LENGTH_MISMATCH || reason == SSL_R_HTTP_REQUEST)
            hint = " Is the server speaking TLS on this port? Implicit TLS (ssl = yes) normally "
                   "uses port 993; on port 143 set ssl = no and use STARTTLS.";
        else if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_NO_PROTOCOLS_AVAILABLE ||
                 reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION)
            hint = " The server and this client have no TLS version in common; check tls_level "
                   "and ssl_version.";
        err_set(e, ERR_REPO, ERRK_PROTOCOL, "TLS handshake with %s failed: %s.%s", c->desc,
                ssl_reason(), hint);
    }
    ERR_clear_error();
    return false;
}

static bool handshake(struct tls_filter *t, struct err *e)
{
    struct conn *c = t->f.conn;
    int64_t deadline = conn_deadline(c);
    for (;;) {
        c->want = 0;
        ERR_clear_error();
        err_clear(&t->io_err);
        int ret = SSL_connect(t->ssl);
        if (ret == 1)
            return true;
        int err = SSL_get_error(t->ssl, ret);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
            return handshake_failed(t, ret, e);
        if (!c->want)
            c->want = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        if (!conn_wait_until(c, deadline, "during the TLS handshake", e))
            return false;
    }
}

static bool setup_ssl(struct tls_filter *t, const char *host, const struct tls_config *cfg,
                      struct err *e)
{
    struct conn *c = t->f.conn;
    t->ssl = SSL_new(t->ctx);
    t->meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "offlineimap conn");
    if (!t->ssl || !t->meth) {
        err_set(e, ERR_REPO, ERRK_GENERIC, "Could not set up TLS for %s: %s.", c->desc,
                ssl_reason());
        return false;
    }
    BIO_meth_set_write(t->meth, bio_write);
    BIO_meth_set_read(t->meth, bio_read);
    BIO_meth_set_ctrl(t->meth, bio_ctrl);
    BIO *bio = BIO_new(t->meth);
    BIO_set_data(bio, t);
    BIO_set_init(bio, 1);
    SSL_set_bio(t->ssl, bio, bio);
    SSL_set_app_data(t->ssl, &t->vstate);
    SSL_set_verify(t->ssl, SSL_VERIFY_PEER, conn_tls_verify_cb);

    if (host && *host) {
        X509_VERIFY_PARAM *param = SSL_get0_param(t->ssl);
        bool ok;
        if (conn_tls_is_ip(host)) {
            ok = X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1;
        } else {
            /* Only a whole leftmost label may be a wildcard ("*.example.org"). */
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            ok = X509_VERIFY_PARAM_set1_host(param, host, 0) == 1 &&
                 SSL_set_tlsext_host_name(t->ssl, host) == 1;
        }
        if (!ok) {
            err_set(e, ERR_REPO, ERRK_CONFIG, "Invalid host name '%s' for TLS: %s.", host,
                    ssl_reason());
            return false;
        }
    } else if (cfg->check_chain) {
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "Cannot verify the TLS certificate of %s: no host name is known to check it "
                "against; configure cert_fingerprint.",
                c->desc);
        return false;
    }
    return true;
}

bool conn_start_tls(struct conn *c, const struct tls_opts *opts, struct err *e)
{
    if (c->tls_on || c->deflate_on) {
        err_set(e, ERR_REPO, ERRK_PROTOCOL, "Cannot start TLS on %s: %s is already active.",
                c->desc, c->tls_on ? "TLS" : "compression");
        return false;
    }
    /* What was written before belongs to the plain stream. */
    if (!conn_flush(c, e))
        return false;
    const char *host = opts->host ? opts->host : c->host;

    struct tls_filter *t = xcalloc(1, sizeof(*t));
    t->f.ops = &tls_ops;
    t->f.conn = c;
    t->f.below = c->top;
    t->vstate.err = X509_V_OK;
    struct tls_config cfg = {STRVEC_INIT, false, NULL};
    bool started = false;

    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx) {
        err_set(e, ERR_REPO, ERRK_GENERIC, "Could not set up TLS for %s: %s.", c->desc,
                ssl_reason());
        goto fail;
    }
    if (!conn_tls_configure(t->ctx, opts, c->desc, &cfg, e) || !setup_ssl(t, host, &cfg, e))
        goto fail;
    started = true;
    if (!handshake(t, e))
        goto fail;
    if (!conn_tls_check_peer(t->ssl, &t->vstate, &cfg, host, c->desc, e))
        goto fail;

    conn_tls_config_release(&cfg);
    t->may_shutdown = true;
    c->tls_info = xasprintf("%s %s", SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl));
    log_debug(LOGC_IMAP, "TLS established with %s: %s", c->desc, c->tls_info);
    conn_push_filter(c, &t->f);
    c->tls_on = true;
    return true;

fail:
    conn_tls_config_release(&cfg);
    ERR_clear_error();
    /*
     * A failed handshake leaves the stream in an unknown state: the caller
     * must close the connection (later calls fail with the same error).
     */
    if (started && !c->dead_msg && e->msg) {
        c->dead_msg = xstrdup(e->msg);
        c->dead_kind = e->kind;
    }
    tls_destroy(t);
    return false;
}
