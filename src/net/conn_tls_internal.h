/*
 * conn_tls_internal: what conn_tls.c (the filter and the handshake) and
 * conn_tls_verify.c (context options, certificate checks, messages) share.
 */
#ifndef NET_CONN_TLS_INTERNAL_H
#define NET_CONN_TLS_INTERNAL_H

#include "net/conn.h"

#include "base/strutil.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

/*
 * The first certificate problem OpenSSL found during the handshake.  The
 * verify callback records it and lets the handshake finish, so that the
 * decision (and a message with the certificate's fingerprint) is made
 * afterwards, together with the fingerprint pins.
 */
struct tls_vstate {
    int err; /* X509_V_OK if the chain and host name verified */
    int depth;
    char *subject;
    char *issuer;
    char *not_before;
    char *not_after;
};

void conn_tls_vstate_release(struct tls_vstate *vs);
/* For SSL_set_verify(); finds the tls_vstate through SSL_get_app_data(). */
int conn_tls_verify_cb(int ok, X509_STORE_CTX *xs);

/* The parsed options of one connection. */
struct tls_config {
    struct strvec fingerprints; /* lower-case hex, no colons */
    bool check_chain;           /* the chain (and host name) must verify */
    char *store_desc;           /* "system" or the CA file's path, for messages */
};

void conn_tls_config_release(struct tls_config *cfg);
/*
 * Check the options and set up ctx: protocol versions, CA store, client
 * certificate.  desc names the connection in messages.
 */
bool conn_tls_configure(SSL_CTX *ctx, const struct tls_opts *o, const char *desc,
                        struct tls_config *cfg, struct err *e);
/* True for an IPv4 or IPv6 address literal (no SNI; checked as an IP SAN). */
bool conn_tls_is_ip(const char *host);
/* After the handshake: does the peer pass the chain, host and pin checks? */
bool conn_tls_check_peer(SSL *ssl, const struct tls_vstate *vs, const struct tls_config *cfg,
                         const char *host, const char *desc, struct err *e);

#endif
