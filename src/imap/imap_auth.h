/*
 * imap_auth: logging in, with the mechanisms of auth_mechanisms in their
 * order, each only when the server offers it (AUTH=<mech>; LOGIN unless
 * LOGINDISABLED, where offlineimap's message is kept), as offlineimap does.
 *
 * Mechanisms: LOGIN (the IMAP command), PLAIN (with the authorization
 * identity), CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256 and GSSAPI (Cyrus SASL),
 * XOAUTH2 and OAUTHBEARER (an OAuth2 access token from the provider).
 * Initial responses go with the command when the server has SASL-IR.
 *
 * Rules beyond offlineimap's:
 * - No secret over clear text to another machine: a mechanism that would
 *   show the password or token (LOGIN, PLAIN, CRAM-MD5, XOAUTH2,
 *   OAUTHBEARER) is not used on a connection without TLS unless it is a
 *   tunnel, goes to this machine, or allow_plaintext_auth says so; the
 *   refusal names the options that fix it.  SCRAM and GSSAPI never show the
 *   password and may be used.
 * - A password the server refuses is asked for again once (when its source
 *   can give another); an access token the server refuses is refreshed once.
 * - SCRAM must end with the server's proof (a server that says OK without it
 *   is refused: it may not know the password).
 * - With -d imap the payloads are never logged (the session's marker).
 */
#ifndef IMAP_AUTH_H
#define IMAP_AUTH_H

#include "base/err.h"

#include <stdbool.h>

struct imap_session;
struct imap_connect_opts;

/* offlineimap's default auth_mechanisms. */
#define IMAP_AUTH_DEFAULT_MECHS "GSSAPI, XOAUTH2, CRAM-MD5, PLAIN, LOGIN"

bool imap_authenticate(struct imap_session *s, const struct imap_connect_opts *o, struct err *e);

#endif
