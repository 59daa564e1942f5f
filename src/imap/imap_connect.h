/*
 * imap_connect: from nothing to an authenticated IMAP session.
 *
 * Opens the transport (TCP, a preauth tunnel or a transport tunnel), starts
 * TLS (implicit, or STARTTLS when the server offers it and ssl is off), reads
 * the greeting and capabilities, logs in with the first mechanism of the
 * configured list that the server offers, and turns on COMPRESS=DEFLATE when
 * asked.  Mechanisms: LOGIN (the IMAP command; refused under LOGINDISABLED),
 * PLAIN (with SASL-IR when offered, and an authorization identity) and
 * CRAM-MD5.  Failures read like offlineimap's: "<MECH> authentication failed:
 * ..." for each, then "All authentication types failed".
 */
#ifndef IMAP_CONNECT_H
#define IMAP_CONNECT_H

#include "base/err.h"
#include "net/conn.h"

#include <stdbool.h>

struct imap_session;

/* Return the password in *pw_r (xmalloc'd); retry is true after a rejection. */
typedef bool imap_password_fn(void *ctx, bool retry, char **pw_r, struct err *e);

struct imap_connect_opts {
    const char *host;
    int port;
    enum conn_family family;
    const char *preauth_tunnel;
    const char *transport_tunnel;
    bool ssl;      /* implicit TLS */
    bool starttls; /* STARTTLS when offered and ssl is off */
    struct tls_opts tls;
    int timeout_ms;
    const char *user;
    const char *identity;        /* SASL authorization identity (remote_identity) */
    const char *auth_mechanisms; /* ordered, comma-separated; NULL = offlineimap's default */
    imap_password_fn *password;
    void *password_ctx;
    bool compress;
};

bool imap_connect(const struct imap_connect_opts *o, struct imap_session **s_r, struct err *e);
/* LOGOUT politely (bounded wait), then free. */
void imap_disconnect(struct imap_session **s);

#endif
