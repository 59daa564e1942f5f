/*
 * auth_mech: mechanism names and the messages we build without Cyrus SASL.
 */
#include "auth/auth_mech.h"

#include "base/buf.h"
#include "base/hash.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    enum auth_mech mech;
    const char *name;
} names[] = {
    {AUTH_MECH_LOGIN, "LOGIN"},
    {AUTH_MECH_PLAIN, "PLAIN"},
    {AUTH_MECH_CRAM_MD5, "CRAM-MD5"},
    {AUTH_MECH_SCRAM_SHA_1, "SCRAM-SHA-1"},
    {AUTH_MECH_SCRAM_SHA_256, "SCRAM-SHA-256"},
    {AUTH_MECH_GSSAPI, "GSSAPI"},
    {AUTH_MECH_XOAUTH2, "XOAUTH2"},
    {AUTH_MECH_OAUTHBEARER, "OAUTHBEARER"},
};

enum auth_mech auth_mech_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i].name) == 0)
            return names[i].mech;
    return AUTH_MECH_UNKNOWN;
}

const char *auth_mech_name(enum auth_mech m)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].mech == m)
            return names[i].name;
    return "?";
}

bool auth_mech_uses_password(enum auth_mech m)
{
    return m == AUTH_MECH_LOGIN || m == AUTH_MECH_PLAIN || m == AUTH_MECH_CRAM_MD5 ||
           m == AUTH_MECH_SCRAM_SHA_1 || m == AUTH_MECH_SCRAM_SHA_256;
}

bool auth_mech_uses_token(enum auth_mech m)
{
    return m == AUTH_MECH_XOAUTH2 || m == AUTH_MECH_OAUTHBEARER;
}

bool auth_mech_exposes_secret(enum auth_mech m)
{
    return m == AUTH_MECH_LOGIN || m == AUTH_MECH_PLAIN || m == AUTH_MECH_CRAM_MD5 ||
           m == AUTH_MECH_XOAUTH2 || m == AUTH_MECH_OAUTHBEARER;
}

bool auth_mech_uses_sasl(enum auth_mech m)
{
    return m == AUTH_MECH_SCRAM_SHA_1 || m == AUTH_MECH_SCRAM_SHA_256 || m == AUTH_MECH_GSSAPI;
}

void auth_wipe_free(void *p, size_t len)
{
    if (!p)
        return;
    /* volatile: the compiler may not drop the stores before free(). */
    volatile unsigned char *v = p;
    for (size_t i = 0; i < len; i++)
        v[i] = 0;
    free(p);
}

void auth_wipe_str(char *s)
{
    if (s)
        auth_wipe_free(s, strlen(s));
}

static char *detach(struct buf *b, size_t *len_r)
{
    size_t len;
    char *s = buf_detach(b, &len);
    *len_r = len;
    return s;
}

char *auth_plain_message(const char *authzid, const char *user, const char *password, size_t *len_r)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_append_str(&b, authzid ? authzid : "");
    buf_append_char(&b, '\0');
    buf_append_str(&b, user ? user : "");
    buf_append_char(&b, '\0');
    buf_append_str(&b, password ? password : "");
    return detach(&b, len_r);
}

char *auth_cram_md5_response(const char *user, const char *password, const void *challenge,
                             size_t challenge_len, size_t *len_r)
{
    char hex[33];
    hash_hmac_md5_hex(password, strlen(password), challenge, challenge_len, hex);
    char *s = xasprintf("%s %s", user ? user : "", hex);
    *len_r = strlen(s);
    return s;
}

char *auth_xoauth2_message(const char *user, const char *token, size_t *len_r)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_printf(&b, "user=%s\001auth=Bearer %s\001\001", user ? user : "", token);
    return detach(&b, len_r);
}

char *auth_oauthbearer_message(const char *user, const char *host, int port, const char *token,
                               size_t *len_r)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_append_str(&b, "n,");
    if (user && *user) {
        buf_append_str(&b, "a=");
        for (const char *p = user; *p; p++) {
            if (*p == ',')
                buf_append_str(&b, "=2C");
            else if (*p == '=')
                buf_append_str(&b, "=3D");
            else
                buf_append_char(&b, *p);
        }
    }
    buf_append_str(&b, ",\001");
    if (host && *host)
        buf_printf(&b, "host=%s\001", host);
    if (port > 0)
        buf_printf(&b, "port=%d\001", port);
    buf_printf(&b, "auth=Bearer %s\001\001", token);
    return detach(&b, len_r);
}
