/*
 * auth_sasl: a thin client over Cyrus SASL.  One sasl_conn_t per exchange;
 * the callbacks give the user, authorization id and password from the
 * exchange's own copy, so nothing is prompted and nothing global is shared
 * but the library's one-time initialisation.
 */
#include "auth/auth_sasl.h"

#include "auth/auth_mech.h"

#include "base/log.h"
#include "base/xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sasl/sasl.h>

struct auth_sasl {
    sasl_conn_t *conn;
    char *mech;
    char *user;
    char *authzid;
    sasl_secret_t *secret;
    size_t secret_size;
    sasl_callback_t cbs[5];
    bool done;
};

static int sasl_log(void *context, int level, const char *message)
{
    /* Trace levels may carry secrets (SASL_LOG_PASS); keep to errors and warnings. */
    if (level <= SASL_LOG_WARN && message)
        log_debug(LOGC_IMAP, "Cyrus SASL: %s", message);
    return SASL_OK;
}

static const sasl_callback_t global_cbs[] = {
    {SASL_CB_LOG, (int (*)(void))(void (*)(void))sasl_log, NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = SASL_FAIL;

static void init_library(void)
{
    init_result = sasl_client_init(global_cbs);
}

static int cb_simple(void *context, int id, const char **result, unsigned *len)
{
    struct auth_sasl *s = context;
    const char *v = id == SASL_CB_AUTHNAME ? s->user : id == SASL_CB_USER ? s->authzid : NULL;
    if (!v)
        return SASL_FAIL;
    *result = v;
    if (len)
        *len = (unsigned)strlen(v);
    return SASL_OK;
}

static int cb_pass(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
    struct auth_sasl *s = context;
    if (!s->secret)
        return SASL_FAIL;
    *psecret = s->secret;
    return SASL_OK;
}

static const char *detail(struct auth_sasl *s, int r)
{
    const char *d = s && s->conn ? sasl_errdetail(s->conn) : NULL;
    return d && *d ? d : sasl_errstring(r, NULL, NULL);
}

static unsigned char *copy_out(const char *out, unsigned len, size_t *len_r)
{
    unsigned char *p = xmalloc((size_t)len + 1);
    if (len)
        memcpy(p, out, len);
    p[len] = 0;
    *len_r = len;
    return p;
}

enum auth_sasl_result auth_sasl_start(const struct auth_sasl_opts *o, struct auth_sasl **s_r,
                                      unsigned char **out_r, size_t *out_len_r, struct err *e)
{
    *s_r = NULL;
    *out_r = NULL;
    *out_len_r = 0;
    pthread_once(&init_once, init_library);
    if (init_result != SASL_OK) {
        err_set(e, ERR_REPO, ERRK_AUTH, "Cyrus SASL could not be initialised: %s.",
                sasl_errstring(init_result, NULL, NULL));
        return AUTH_SASL_UNAVAILABLE;
    }
    struct auth_sasl *s = xcalloc(1, sizeof(*s));
    s->mech = xstrdup(o->mech);
    s->user = xstrdup(o->user ? o->user : "");
    s->authzid = xstrdup(o->authzid ? o->authzid : "");
    if (o->password) {
        size_t n = strlen(o->password);
        s->secret_size = sizeof(sasl_secret_t) + n + 1;
        s->secret = xcalloc(1, s->secret_size);
        s->secret->len = n;
        memcpy(s->secret->data, o->password, n);
    }
    int i = 0;
    s->cbs[i++] = (sasl_callback_t){SASL_CB_AUTHNAME, (int (*)(void))(void (*)(void))cb_simple, s};
    s->cbs[i++] = (sasl_callback_t){SASL_CB_USER, (int (*)(void))(void (*)(void))cb_simple, s};
    s->cbs[i++] = (sasl_callback_t){SASL_CB_PASS, (int (*)(void))(void (*)(void))cb_pass, s};
    s->cbs[i++] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};

    int r = sasl_client_new(o->service, o->host, NULL, NULL, s->cbs, 0, &s->conn);
    if (r != SASL_OK) {
        err_set(e, ERR_REPO, ERRK_AUTH, "%s: Cyrus SASL could not start: %s.", o->mech,
                detail(s, r));
        auth_sasl_free(&s);
        return AUTH_SASL_UNAVAILABLE;
    }
    /* No security layer: the connection stays as it is after authentication. */
    sasl_security_properties_t sp = {0};
    sp.min_ssf = 0;
    sp.max_ssf = 0;
    sp.maxbufsize = 0;
    sasl_setprop(s->conn, SASL_SEC_PROPS, &sp);

    const char *out = NULL, *chosen = NULL;
    unsigned outlen = 0;
    sasl_interact_t *interact = NULL;
    r = sasl_client_start(s->conn, o->mech, &interact, &out, &outlen, &chosen);
    if (r == SASL_NOMECH) {
        err_set(e, ERR_REPO, ERRK_AUTH,
                "%s is not available here: the Cyrus SASL plugin for it is not installed%s.",
                o->mech,
                strcasecmp(o->mech, "GSSAPI") == 0 ? " (Debian: libsasl2-modules-gssapi-mit)"
                                                   : " (Debian: libsasl2-modules)");
        auth_sasl_free(&s);
        return AUTH_SASL_UNAVAILABLE;
    }
    if (r != SASL_OK && r != SASL_CONTINUE) {
        err_set(e, ERR_REPO, ERRK_AUTH, "%s could not start: %s.", o->mech, detail(s, r));
        auth_sasl_free(&s);
        return AUTH_SASL_UNAVAILABLE;
    }
    s->done = r == SASL_OK;
    if (out)
        *out_r = copy_out(out, outlen, out_len_r);
    *s_r = s;
    return AUTH_SASL_MORE;
}

enum auth_sasl_result auth_sasl_step(struct auth_sasl *s, const void *in, size_t in_len,
                                     unsigned char **out_r, size_t *out_len_r, struct err *e)
{
    *out_r = NULL;
    *out_len_r = 0;
    if (in_len > 65536) {
        err_set(e, ERR_REPO, ERRK_PROTOCOL, "%s: the server's challenge is too long (%zu bytes).",
                s->mech, in_len);
        return AUTH_SASL_FAILED;
    }
    const char *out = NULL;
    unsigned outlen = 0;
    sasl_interact_t *interact = NULL;
    int r = sasl_client_step(s->conn, in, (unsigned)in_len, &interact, &out, &outlen);
    if (r != SASL_OK && r != SASL_CONTINUE) {
        err_set(e, ERR_REPO, ERRK_AUTH, "%s: %s.", s->mech, detail(s, r));
        return AUTH_SASL_FAILED;
    }
    *out_r = copy_out(out ? out : "", out ? outlen : 0, out_len_r);
    s->done = r == SASL_OK;
    return s->done ? AUTH_SASL_DONE : AUTH_SASL_MORE;
}

bool auth_sasl_complete(const struct auth_sasl *s)
{
    return s && s->done;
}

void auth_sasl_free(struct auth_sasl **sp)
{
    struct auth_sasl *s = *sp;
    if (!s)
        return;
    if (s->conn)
        sasl_dispose(&s->conn);
    free(s->mech);
    free(s->user);
    free(s->authzid);
    auth_wipe_free(s->secret, s->secret_size);
    free(s);
    *sp = NULL;
}
