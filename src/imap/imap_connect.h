/*
 * imap_connect: from nothing to an authenticated IMAP session.
 *
 * Opens the transport (TCP, directly or through a SOCKS5, SOCKS4 or HTTP
 * CONNECT proxy; a preauth tunnel or a transport tunnel), starts TLS
 * (implicit, or STARTTLS when the server offers it and ssl is off, verified
 * the same way), reads the greeting and capabilities, logs in (imap_auth.h)
 * and turns on COMPRESS=DEFLATE when asked, over any of these transports.
 * Failures read like offlineimap's: "<MECH> authentication failed: ..." for
 * each, then "All authentication types failed".
 */
#ifndef IMAP_CONNECT_H
#define IMAP_CONNECT_H

#include "base/err.h"
#include "net/conn.h"

#include <stdbool.h>

struct imap_session;

/*
 * Where credentials come from (the caller's policy: configuration, netrc,
 * keyring, prompt, OAuth2 refresh).  Called from the connecting thread;
 * several connections of one account may call at once.
 */
struct imap_auth_provider {
    void *ctx;
    /*
     * The password in *pw_r (xmalloc'd).  rejected is NULL for the first
     * one; else the server refused it, and *pw_r is another one to try or
     * NULL when there is none (true either way).  False (e set) stops the
     * login: no password could be had.
     */
    bool (*password)(void *ctx, const char *rejected, char **pw_r, struct err *e);
    /* The password worked (cache it, store it in the keyring). May be NULL. */
    void (*password_ok)(void *ctx, const char *password);
    /* Where the password came from, for messages ("remotepassfile '~/pw'"). May be NULL. */
    const char *(*password_origin)(void *ctx);
    /*
     * An OAuth2 access token in *token_r (xmalloc'd), or *token_r NULL and
     * true when none is configured (XOAUTH2/OAUTHBEARER are then skipped).
     * refresh: the server refused the last one; get a new one.
     */
    bool (*oauth2_token)(void *ctx, bool refresh, char **token_r, struct err *e);
};

struct imap_connect_opts {
    const char *host;
    int port;
    enum conn_family family;
    struct conn_proxy proxy; /* type CONN_PROXY_NONE: direct */
    const char *preauth_tunnel;
    const char *transport_tunnel;
    bool ssl;      /* implicit TLS */
    bool starttls; /* STARTTLS when offered and ssl is off */
    struct tls_opts tls;
    int timeout_ms;
    const char *user;
    const char *identity;        /* SASL authorization identity (remote_identity) */
    const char *auth_mechanisms; /* ordered, comma-separated; NULL = offlineimap's default */
    /* Send passwords and tokens over an unencrypted network connection. */
    bool allow_plaintext_auth;
    struct imap_auth_provider auth;
    bool compress;
};

bool imap_connect(const struct imap_connect_opts *o, struct imap_session **s_r, struct err *e);
/* LOGOUT politely (bounded wait), then free. */
void imap_disconnect(struct imap_session **s);

#endif
