/*
 * auth_oauth2: OAuth2 access tokens for XOAUTH2 and OAUTHBEARER.
 *
 * A token is refreshed as offlineimap does it: a POST of client_id,
 * client_secret, refresh_token and grant_type=refresh_token to the token
 * endpoint (oauth2_request_url), here with libcurl, through the account's
 * authproxy when there is one.  The answer (RFC 6749 5.1 and 5.2) is read
 * with jansson.
 *
 * Guarantees:
 * - The endpoint must be https://; plain http:// only to this machine
 *   (127.0.0.0/8, ::1, localhost), where nobody can listen.  The server's
 *   certificate is checked against the system store; redirects are not
 *   followed (they would resend the secrets elsewhere).
 * - Secrets (client secret, refresh and access tokens) never appear in
 *   messages or logs; an endpoint's error says its "error" and
 *   "error_description" only.
 * - The answer is read up to OAUTH2_RESPONSE_MAX bytes, the whole exchange
 *   within the timeout.
 * - A token is used until expires_at: expires_in less a margin (half of it,
 *   at most five minutes), so that it does not run out during a login.
 * - The cache file (oauth2_cache_*) holds the access token, its expiry and a
 *   refresh token the server rotated in; it is written atomically with mode
 *   0600 and belongs to one configuration: its key is a digest of the
 *   endpoint, client id and configured refresh token, so changing any of
 *   them ignores the old file.
 */
#ifndef AUTH_OAUTH2_H
#define AUTH_OAUTH2_H

#include "base/err.h"
#include "net/conn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OAUTH2_RESPONSE_MAX (1024 * 1024)
#define OAUTH2_CACHE_MAX (64 * 1024)

struct oauth2_request {
    const char *url; /* the token endpoint */
    const char *client_id;
    const char *client_secret; /* NULL for public clients */
    const char *refresh_token;
    const struct conn_proxy *proxy; /* NULL: libcurl's default (the environment) */
    bool no_proxy;                  /* authproxy = (empty): no proxy at all */
    int timeout_ms;
};

struct oauth2_token {
    char *access_token;
    int64_t expires_at;  /* seconds since the epoch; 0: not known (use until refused) */
    char *refresh_token; /* a new one the server returned, or NULL */
};

/* Ask the endpoint for a new access token. */
bool oauth2_refresh(const struct oauth2_request *r, struct oauth2_token *t, struct err *e);
/*
 * Read the endpoint's answer (body of len bytes with HTTP status) received
 * at now: a token, or an error naming what the endpoint said.
 */
bool oauth2_parse_response(const char *body, size_t len, long http_status, const char *url,
                           int64_t now, struct oauth2_token *t, struct err *e);
void oauth2_token_release(struct oauth2_token *t);

/* The cache key of a request: hex SHA-256 of url, client id and refresh token. */
void oauth2_cache_key(const struct oauth2_request *r, char out[65]);
/* True if path holds a token for key still valid at now (into t). */
bool oauth2_cache_read(const char *path, const char *key, int64_t now, struct oauth2_token *t);
bool oauth2_cache_write(const char *path, const char *key, const struct oauth2_token *t,
                        struct err *e);

/* "https" and host of a URL allowed as a token endpoint; false with e set if not. */
bool oauth2_check_url(const char *url, struct err *e);

#endif
