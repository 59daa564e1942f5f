/*
 * Unit tests for auth_sasl: our client glue against Cyrus SASL's own server
 * side in the same process (users in a sasldb file in the test directory):
 * SCRAM-SHA-1 and SCRAM-SHA-256 with the right and a wrong password, an
 * authorization identity, a server that stops before proving itself, and
 * mechanisms that cannot start.  The IMAP side of the same exchanges is
 * tested against Dovecot in tests/integ/test_auth_mechanisms.py.
 */
#include "auth/auth_sasl.h"

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>

#define test_assert_contains(s, sub)                                                               \
    do {                                                                                           \
        const char *s_ = (s);                                                                      \
        if (!s_ || !strstr(s_, (sub)))                                                             \
            test_fail_at(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", s_ ? s_ : "(null)", \
                         (sub));                                                                   \
    } while (0)

static char *sasldb_path;

static int server_getopt(void *context, const char *plugin, const char *option, const char **result,
                         unsigned *len)
{
    const char *v = NULL;
    if (strcmp(option, "sasldb_path") == 0)
        v = sasldb_path;
    else if (strcmp(option, "auxprop_plugin") == 0)
        v = "sasldb";
    else if (strcmp(option, "mech_list") == 0)
        v = "SCRAM-SHA-1 SCRAM-SHA-256";
    else if (strcmp(option, "log_level") == 0)
        v = "0";
    if (!v)
        return SASL_FAIL;
    *result = v;
    if (len)
        *len = (unsigned)strlen(v);
    return SASL_OK;
}

static int server_log(void *context, int level, const char *message)
{
    return SASL_OK;
}

static const sasl_callback_t server_cbs[] = {
    {SASL_CB_GETOPT, (int (*)(void))(void (*)(void))server_getopt, NULL},
    {SASL_CB_LOG, (int (*)(void))(void (*)(void))server_log, NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

static bool server_ready;

static bool setup_server(void)
{
    sasldb_path = fs_join(test_tmpdir(), "sasldb");
    if (sasl_server_init(server_cbs, "oimap-test") != SASL_OK)
        return false;
    sasl_conn_t *c = NULL;
    if (sasl_server_new("imap", "localhost", NULL, NULL, NULL, NULL, 0, &c) != SASL_OK)
        return false;
    int r = sasl_setpass(c, "alice", "s3cret pass", 11, NULL, 0, SASL_SET_CREATE);
    sasl_dispose(&c);
    return r == SASL_OK;
}

enum outcome { OUT_OK, OUT_REJECTED, OUT_SERVER_STOPPED };

/*
 * Run one exchange: the client (auth_sasl) against a Cyrus server.  With
 * stop_early, the server's final message (its proof) is not passed on, as a
 * server that answers OK too soon would.
 */
static enum outcome exchange(const char *mech, const char *password, const char *authzid,
                             bool stop_early, bool *client_complete_r, char **authzid_r)
{
    sasl_conn_t *sc = NULL;
    if (sasl_server_new("imap", "localhost", NULL, NULL, NULL, NULL, 0, &sc) != SASL_OK)
        abort();
    struct auth_sasl_opts o = {.mech = mech,
                               .service = "imap",
                               .host = "localhost",
                               .user = "alice",
                               .authzid = authzid,
                               .password = password};
    struct auth_sasl *cl = NULL;
    unsigned char *out = NULL;
    size_t outlen = 0;
    struct err e = ERR_INIT;
    enum auth_sasl_result cr = auth_sasl_start(&o, &cl, &out, &outlen, &e);
    test_assert_inteq(cr, AUTH_SASL_MORE);
    test_assert(out != NULL); /* SCRAM: the client speaks first */
    const char *sout = NULL;
    unsigned soutlen = 0;
    int sr = sasl_server_start(sc, mech, (const char *)out, (unsigned)outlen, &sout, &soutlen);
    free(out);
    enum outcome res = OUT_REJECTED;
    while (sr == SASL_CONTINUE) {
        /* The server's last challenge carries its proof ("v=..."). */
        if (stop_early && soutlen > 2 && memcmp(sout, "v=", 2) == 0) {
            res = OUT_SERVER_STOPPED;
            break;
        }
        cr = auth_sasl_step(cl, sout, soutlen, &out, &outlen, &e);
        if (cr == AUTH_SASL_FAILED)
            break;
        if (cr == AUTH_SASL_DONE)
            test_assert_inteq(outlen, 0);
        sr = sasl_server_step(sc, (const char *)out, (unsigned)outlen, &sout, &soutlen);
        free(out);
    }
    if (sr == SASL_OK) {
        res = OUT_OK;
        const void *az = NULL;
        if (authzid_r && sasl_getprop(sc, SASL_USERNAME, &az) == SASL_OK && az)
            *authzid_r = xstrdup(az);
    }
    *client_complete_r = auth_sasl_complete(cl);
    err_clear(&e);
    auth_sasl_free(&cl);
    test_assert(cl == NULL);
    sasl_dispose(&sc);
    return res;
}

static void test_scram(void)
{
    const char *mechs[] = {"SCRAM-SHA-1", "SCRAM-SHA-256"};
    for (size_t i = 0; i < 2; i++) {
        char title[100];
        bool complete;
        snprintf(title, sizeof(title), "SASL %s: the right password, the server proves itself",
                 mechs[i]);
        test_begin(title);
        if (!server_ready) {
            test_fail_at(__FILE__, __LINE__, "the Cyrus SASL test server could not be set up");
            test_end();
            continue;
        }
        test_assert_inteq(exchange(mechs[i], "s3cret pass", NULL, false, &complete, NULL), OUT_OK);
        test_assert(complete);
        test_end();

        snprintf(title, sizeof(title), "SASL %s: a wrong password is refused", mechs[i]);
        test_begin(title);
        test_assert_inteq(exchange(mechs[i], "wrong", NULL, false, &complete, NULL), OUT_REJECTED);
        test_assert(!complete);
        test_end();

        snprintf(title, sizeof(title), "SASL %s: without the server's proof we are not done",
                 mechs[i]);
        test_begin(title);
        test_assert_inteq(exchange(mechs[i], "s3cret pass", NULL, true, &complete, NULL),
                          OUT_SERVER_STOPPED);
        test_assert(!complete);
        test_end();
    }
    test_begin("SASL SCRAM-SHA-256: the authorization identity reaches the server");
    bool complete;
    char *az = NULL;
    test_assert_inteq(exchange("SCRAM-SHA-256", "s3cret pass", "alice", false, &complete, &az),
                      OUT_OK);
    test_assert_streq(az, "alice");
    free(az);
    test_end();
}

static void test_unavailable(void)
{
    test_begin("SASL: a mechanism Cyrus does not have cannot start");
    struct auth_sasl_opts o = {
        .mech = "X-NO-SUCH-MECH", .service = "imap", .host = "h", .user = "u", .password = "p"};
    struct auth_sasl *s = NULL;
    unsigned char *out = NULL;
    size_t n = 0;
    struct err e = ERR_INIT;
    test_assert_inteq(auth_sasl_start(&o, &s, &out, &n, &e), AUTH_SASL_UNAVAILABLE);
    test_assert(s == NULL && out == NULL);
    test_assert_contains(e.msg, "X-NO-SUCH-MECH is not available here");
    err_clear(&e);
    test_end();

    test_begin("SASL GSSAPI: without a Kerberos ticket it cannot start");
    setenv("KRB5CCNAME", "FILE:/nonexistent/krb5cc", 1);
    setenv("KRB5_CONFIG", "/nonexistent/krb5.conf", 1);
    o.mech = "GSSAPI";
    o.password = NULL;
    enum auth_sasl_result r = auth_sasl_start(&o, &s, &out, &n, &e);
    test_assert_inteq(r, AUTH_SASL_UNAVAILABLE);
    test_assert(e.msg && strstr(e.msg, "GSSAPI"));
    err_clear(&e);
    test_end();
}

int main(void)
{
    server_ready = setup_server();
    test_scram();
    test_unavailable();
    free(sasldb_path);
    return test_done();
}
