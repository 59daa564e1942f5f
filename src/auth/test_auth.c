/*
 * Unit tests for auth_mech (mechanism table and messages, with the RFC
 * examples) and auth_oauth2 (the token endpoint's answers from a table, the
 * URL rule, the cache file).  Keyring and token refresh over the network are
 * tested against real services in tests/integ/test_auth_*.py.
 */
#include "auth/auth_mech.h"
#include "auth/auth_oauth2.h"

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define test_assert_contains(s, sub)                                                               \
    do {                                                                                           \
        const char *s_ = (s);                                                                      \
        if (!s_ || !strstr(s_, (sub)))                                                             \
            test_fail_at(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", s_ ? s_ : "(null)", \
                         (sub));                                                                   \
    } while (0)

#define test_assert_memeq(p, n, lit)                                                               \
    do {                                                                                           \
        size_t ln_ = sizeof(lit) - 1;                                                              \
        if ((n) != ln_ || memcmp((p), (lit), ln_) != 0)                                            \
            test_fail_at(__FILE__, __LINE__, "%s differs from %s", #p, #lit);                      \
    } while (0)

static void test_mech_table(void)
{
    test_begin("mechanisms: names and properties");
    static const struct {
        const char *name;
        enum auth_mech m;
        bool password, token, exposes, sasl;
    } t[] = {
        {"LOGIN", AUTH_MECH_LOGIN, true, false, true, false},
        {"plain", AUTH_MECH_PLAIN, true, false, true, false},
        {"CRAM-MD5", AUTH_MECH_CRAM_MD5, true, false, true, false},
        {"SCRAM-SHA-1", AUTH_MECH_SCRAM_SHA_1, true, false, false, true},
        {"scram-sha-256", AUTH_MECH_SCRAM_SHA_256, true, false, false, true},
        {"GSSAPI", AUTH_MECH_GSSAPI, false, false, false, true},
        {"XOAUTH2", AUTH_MECH_XOAUTH2, false, true, true, false},
        {"OAUTHBEARER", AUTH_MECH_OAUTHBEARER, false, true, true, false},
        {"NTLM", AUTH_MECH_UNKNOWN, false, false, false, false},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        enum auth_mech m = auth_mech_by_name(t[i].name);
        test_assert_inteq(m, t[i].m);
        test_assert_inteq(auth_mech_uses_password(m), t[i].password);
        test_assert_inteq(auth_mech_uses_token(m), t[i].token);
        test_assert_inteq(auth_mech_exposes_secret(m), t[i].exposes);
        test_assert_inteq(auth_mech_uses_sasl(m), t[i].sasl);
        if (m != AUTH_MECH_UNKNOWN)
            test_assert(strcasecmp(auth_mech_name(m), t[i].name) == 0);
    }
    test_end();
}

static void test_messages(void)
{
    size_t n;
    char *m;
    test_begin("PLAIN: authzid NUL user NUL password (RFC 4616)");
    m = auth_plain_message(NULL, "tim", "tanstaaftanstaaf", &n);
    test_assert_memeq(m, n, "\0tim\0tanstaaftanstaaf");
    auth_wipe_free(m, n);
    m = auth_plain_message("Ursel", "Kurt", "xipj3plmq", &n);
    test_assert_memeq(m, n, "Ursel\0Kurt\0xipj3plmq");
    auth_wipe_free(m, n);
    test_end();

    test_begin("CRAM-MD5: the RFC 2195 example");
    const char ch[] = "<1896.697170952@postoffice.reston.mci.net>";
    m = auth_cram_md5_response("tim", "tanstaaftanstaaf", ch, strlen(ch), &n);
    test_assert_streq(m, "tim b913a602c7eda7a495b4e6e7334d3890");
    auth_wipe_free(m, n);
    test_end();

    test_begin("XOAUTH2: Google's format");
    m = auth_xoauth2_message("someuser@example.com",
                             "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", &n);
    test_assert_memeq(m, n,
                      "user=someuser@example.com\001auth=Bearer "
                      "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\001\001");
    auth_wipe_free(m, n);
    test_end();

    test_begin("OAUTHBEARER: the RFC 7628 example, and saslname escapes");
    m = auth_oauthbearer_message("user@example.com", "server.example.com", 143,
                                 "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", &n);
    test_assert_memeq(m, n,
                      "n,a=user@example.com,\001host=server.example.com\001port=143\001"
                      "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\001\001");
    auth_wipe_free(m, n);
    m = auth_oauthbearer_message("a,b=c", NULL, 0, "T", &n);
    test_assert_memeq(m, n, "n,a=a=2Cb=3Dc,\001auth=Bearer T\001\001");
    auth_wipe_free(m, n);
    m = auth_oauthbearer_message(NULL, "h", 993, "T", &n);
    test_assert_memeq(m, n, "n,,\001host=h\001port=993\001auth=Bearer T\001\001");
    auth_wipe_free(m, n);
    test_end();
}

struct token_case {
    const char *name;
    const char *body;
    long status;
    const char *token;   /* expected access token, or NULL for an error */
    int64_t expires_at;  /* with now = 1000000 */
    const char *refresh; /* a new refresh token, or NULL */
    const char *error;   /* substring */
};

static const struct token_case token_cases[] = {
    {"Google's answer",
     "{\"access_token\":\"ya29.a0\",\"expires_in\":3599,\"scope\":\"x\","
     "\"token_type\":\"Bearer\"}",
     200, "ya29.a0", 1000000 + 3599 - 300, NULL, NULL},
    {"a short lifetime keeps half", "{\"access_token\":\"t\",\"expires_in\":60}", 200, "t",
     1000000 + 30, NULL, NULL},
    {"expires_in as a string", "{\"access_token\":\"t\",\"expires_in\":\"3600\"}", 200, "t",
     1000000 + 3300, NULL, NULL},
    {"expires_in as a real", "{\"access_token\":\"t\",\"expires_in\":3600.5}", 200, "t",
     1000000 + 3300, NULL, NULL},
    {"no expires_in", "{\"access_token\":\"t\"}", 200, "t", 0, NULL, NULL},
    {"a bad expires_in is ignored", "{\"access_token\":\"t\",\"expires_in\":\"soon\"}", 200, "t", 0,
     NULL, NULL},
    {"a rotated refresh token", "{\"access_token\":\"t\",\"refresh_token\":\"r2\"}", 200, "t", 0,
     "r2", NULL},
    {"invalid_grant",
     "{\"error\":\"invalid_grant\",\"error_description\":\"Token has been "
     "expired or revoked.\"}",
     400, NULL, 0, NULL,
     "refused to give an access token (HTTP 400): invalid_grant (Token has been expired or "
     "revoked.). The refresh token was revoked"},
    {"error with HTTP 200", "{\"error\":\"invalid_client\"}", 200, NULL, 0, NULL,
     "(HTTP 200): invalid_client."},
    {"no access_token", "{\"token_type\":\"Bearer\"}", 200, NULL, 0, NULL, "no access_token"},
    {"empty access_token", "{\"access_token\":\"\"}", 200, NULL, 0, NULL, "no access_token"},
    {"access_token not a string", "{\"access_token\":5}", 200, NULL, 0, NULL, "no access_token"},
    {"HTTP error with a token is still an error", "{\"access_token\":\"t\"}", 500, NULL, 0, NULL,
     "(HTTP 500)"},
    {"not JSON", "<html>Bad Gateway</html>", 502, NULL, 0, NULL,
     "answered HTTP 502 with something that is not a token"},
    {"a JSON array", "[1,2]", 200, NULL, 0, NULL, "not a JSON object"},
    {"duplicate keys", "{\"access_token\":\"a\",\"access_token\":\"b\"}", 200, NULL, 0, NULL,
     "not a token"},
    {"control characters in the description",
     "{\"error\":\"x\",\"error_description\":\"a\\u001b[2Jb\"}", 400, NULL, 0, NULL, "x (a?[2Jb)"},
};

static void test_token_answers(void)
{
    for (size_t i = 0; i < sizeof(token_cases) / sizeof(token_cases[0]); i++) {
        const struct token_case *c = &token_cases[i];
        char title[200];
        snprintf(title, sizeof(title), "OAuth2 answer: %s", c->name);
        test_begin(title);
        struct oauth2_token t;
        struct err e = ERR_INIT;
        bool ok = oauth2_parse_response(c->body, strlen(c->body), c->status,
                                        "https://oauth2.example.org/token", 1000000, &t, &e);
        if (c->token) {
            test_assert(ok);
            test_assert_streq(t.access_token, c->token);
            test_assert_inteq(t.expires_at, c->expires_at);
            if (c->refresh)
                test_assert_streq(t.refresh_token, c->refresh);
            else
                test_assert(t.refresh_token == NULL);
        } else {
            test_assert(!ok);
            test_assert(t.access_token == NULL);
            test_assert_contains(e.msg, "https://oauth2.example.org/token");
            test_assert_contains(e.msg, c->error);
        }
        err_clear(&e);
        oauth2_token_release(&t);
        test_end();
    }
}

static void test_urls(void)
{
    test_begin("OAuth2: https, or http to this machine only");
    static const struct {
        const char *url;
        bool ok;
    } t[] = {
        {"https://accounts.google.com/o/oauth2/token", true},
        {"https://login.microsoftonline.com/common/oauth2/v2.0/token", true},
        {"http://127.0.0.1:8080/token", true},
        {"http://localhost/token", true},
        {"http://[::1]:99/token", true},
        {"http://accounts.google.com/o/oauth2/token", false},
        {"http://127.0.0.1.example.org/token", false},
        {"ftp://example.org/token", false},
        {"not a url", false},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct err e = ERR_INIT;
        bool ok = oauth2_check_url(t[i].url, &e);
        if (ok != t[i].ok)
            test_fail_at(__FILE__, __LINE__, "%s: expected %s", t[i].url,
                         t[i].ok ? "ok" : "refused");
        if (!ok)
            test_assert_contains(e.msg, "oauth2_request_url");
        err_clear(&e);
    }
    test_end();
}

static void test_cache(void)
{
    test_begin("OAuth2 cache: written 0600, read back for the same key only, until expiry");
    struct oauth2_request r = {
        .url = "https://o.example/token", .client_id = "id", .refresh_token = "rt"};
    char key[65], key2[65];
    oauth2_cache_key(&r, key);
    test_assert_inteq(strlen(key), 64);
    r.refresh_token = "rt2";
    oauth2_cache_key(&r, key2);
    test_assert(strcmp(key, key2) != 0);
    char *path = fs_join(test_tmpdir(), "sub/oauth2-token");
    struct oauth2_token t = {
        .access_token = xstrdup("AT"), .expires_at = 5000, .refresh_token = xstrdup("RT2")};
    struct err e = ERR_INIT;
    test_assert(oauth2_cache_write(path, key, &t, &e));
    oauth2_token_release(&t);
    struct stat st;
    test_assert(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    struct oauth2_token got;
    test_assert(oauth2_cache_read(path, key, 4000, &got));
    test_assert_streq(got.access_token, "AT");
    test_assert_streq(got.refresh_token, "RT2");
    test_assert_inteq(got.expires_at, 5000);
    oauth2_token_release(&got);
    /* Expired: no access token, but the rotated refresh token is still given. */
    test_assert(!oauth2_cache_read(path, key, 5000, &got));
    test_assert(got.access_token == NULL);
    test_assert_streq(got.refresh_token, "RT2");
    oauth2_token_release(&got);
    /* Another configuration: nothing. */
    test_assert(!oauth2_cache_read(path, key2, 4000, &got));
    test_assert(got.access_token == NULL && got.refresh_token == NULL);
    /* A file others can read is not trusted. */
    chmod(path, 0644);
    test_assert(!oauth2_cache_read(path, key, 4000, &got));
    test_assert(got.access_token == NULL);
    /* Garbage is no token. */
    test_assert(fs_write_atomic(path, "{nope", 5, false, &e));
    test_assert(!oauth2_cache_read(path, key, 4000, &got));
    free(path);
    test_end();
}

int main(void)
{
    test_mech_table();
    test_messages();
    test_token_answers();
    test_urls();
    test_cache();
    return test_done();
}
