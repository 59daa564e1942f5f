/*
 * auth_mech: the SASL messages of the mechanisms we build ourselves, as
 * bytes before base64 (pure functions, no I/O).
 *
 * - PLAIN (RFC 4616): authzid NUL authcid NUL password.
 * - CRAM-MD5 (RFC 2195): "user " + hex HMAC-MD5(password, challenge).
 * - XOAUTH2 (Google): "user=U\1auth=Bearer T\1\1".
 * - OAUTHBEARER (RFC 7628): "n,a=U,\1host=H\1port=P\1auth=Bearer T\1\1", the
 *   user escaped as a GS2 saslname ("," as "=2C", "=" as "=3D").
 *
 * Also the table of mechanism names and what each needs, for the
 * authentication loop and the configuration check.
 */
#ifndef AUTH_MECH_H
#define AUTH_MECH_H

#include <stdbool.h>
#include <stddef.h>

enum auth_mech {
    AUTH_MECH_UNKNOWN = 0,
    AUTH_MECH_LOGIN, /* the IMAP LOGIN command */
    AUTH_MECH_PLAIN,
    AUTH_MECH_CRAM_MD5,
    AUTH_MECH_SCRAM_SHA_1,
    AUTH_MECH_SCRAM_SHA_256,
    AUTH_MECH_GSSAPI,
    AUTH_MECH_XOAUTH2,
    AUTH_MECH_OAUTHBEARER,
};

/* By name, case-insensitively; AUTH_MECH_UNKNOWN if not ours. */
enum auth_mech auth_mech_by_name(const char *name);
const char *auth_mech_name(enum auth_mech m);
/* Needs the password (LOGIN, PLAIN, CRAM-MD5, SCRAM). */
bool auth_mech_uses_password(enum auth_mech m);
/* Needs an OAuth2 access token (XOAUTH2, OAUTHBEARER). */
bool auth_mech_uses_token(enum auth_mech m);
/*
 * Gives the secret (or something an eavesdropper can test passwords against,
 * CRAM-MD5) to anyone who can read the connection: LOGIN, PLAIN, CRAM-MD5,
 * XOAUTH2, OAUTHBEARER.  SCRAM and GSSAPI do not.
 */
bool auth_mech_exposes_secret(enum auth_mech m);
/* Run through Cyrus SASL (SCRAM-SHA-1, SCRAM-SHA-256, GSSAPI). */
bool auth_mech_uses_sasl(enum auth_mech m);

/* The messages; each returns xmalloc'd bytes and their length in *len_r. */
char *auth_plain_message(const char *authzid, const char *user, const char *password,
                         size_t *len_r);
char *auth_cram_md5_response(const char *user, const char *password, const void *challenge,
                             size_t challenge_len, size_t *len_r);
char *auth_xoauth2_message(const char *user, const char *token, size_t *len_r);
char *auth_oauthbearer_message(const char *user, const char *host, int port, const char *token,
                               size_t *len_r);

/* Overwrite and free a secret (NULL is fine). */
void auth_wipe_free(void *p, size_t len);
void auth_wipe_str(char *s);

#endif
