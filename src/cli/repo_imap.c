#include "cli/repo_imap.h"

#include "cli/cred.h"

#include "base/buf.h"
#include "base/xalloc.h"
#include "config/config_py.h"
#include "net/conn.h"
#include "store/store_imap.h"

#include <stdlib.h>
#include <string.h>

/* Default socket timeout when socktimeout is 0: never hang for ever. */
#define DEFAULT_TIMEOUT_MS (120 * 1000)

static char *join_mechs(const struct strvec *sv)
{
    if (sv->n == 0)
        return NULL;
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    for (size_t i = 0; i < sv->n; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", sv->v[i]);
    return buf_detach(&b, NULL);
}

/* A Python-expression option's value as a string (remotehosteval, remoteusereval). */
static bool eval_str(const struct repo_setup_opts *o, const struct config_repository *r,
                     const struct config_expr *x, const char *option, char **out_r, struct err *e)
{
    struct py_expr *px = py_expr_new(x, o->cfg->path, r->section, option, false, e);
    bool ok = px && py_eval_str(px, out_r, e);
    py_expr_free(&px);
    if (!ok)
        e->scope = ERR_REPO;
    return ok;
}

static enum conn_proxy_type proxy_type(const char *t)
{
    return !t                     ? CONN_PROXY_NONE
           : !strcmp(t, "SOCKS5") ? CONN_PROXY_SOCKS5
           : !strcmp(t, "SOCKS4") ? CONN_PROXY_SOCKS4
                                  : CONN_PROXY_HTTP;
}

static struct store *make_imap(const struct repo_setup_opts *o, const struct config_repository *r,
                               const struct config_repository *local, struct cred *cred,
                               const char *host, int port)
{
    const struct config_general *g = &o->cfg->general;
    struct store_imap_opts io = {0};
    io.repo_name = r->name;
    io.conn.host = host;
    io.conn.port = port;
    io.conn.family = r->ipv6 == CONFIG_YES  ? CONN_FAMILY_IPV6
                     : r->ipv6 == CONFIG_NO ? CONN_FAMILY_IPV4
                                            : CONN_FAMILY_ANY;
    io.conn.preauth_tunnel = r->preauthtunnel;
    io.conn.transport_tunnel = r->transporttunnel;
    io.conn.ssl = r->ssl;
    io.conn.starttls = r->starttls;
    io.conn.tls.host = host;
    io.conn.tls.cafile = r->sslcacertfile;
    io.conn.tls.fingerprints = r->cert_fingerprint;
    io.conn.tls.client_cert = r->sslclientcert;
    io.conn.tls.client_key = r->sslclientkey;
    io.conn.tls.tls_level = r->tls_level;
    io.conn.tls.ssl_version = r->ssl_version;
    /* A pinned fingerprint without a CA file trusts the pin alone, as offlineimap. */
    io.conn.tls.no_verify = r->cert_fingerprint && !r->sslcacertfile;
    io.conn.timeout_ms = g->socktimeout > 0 ? g->socktimeout * 1000 : DEFAULT_TIMEOUT_MS;
    io.conn.proxy.type = proxy_type(o->account->proxy.type);
    io.conn.proxy.host = o->account->proxy.host;
    io.conn.proxy.port = o->account->proxy.port;
    io.conn.allow_plaintext_auth = r->allow_plaintext_auth;
    io.conn.user = cred_user(cred);
    io.conn.identity = r->remote_identity;
    char *mechs = join_mechs(&r->auth_mechanisms);
    io.conn.auth_mechanisms = mechs;
    io.conn.auth = cred_provider(cred);
    io.conn.compress = r->usecompression;
    io.max_connections =
        o->single_thread ? 1 : (unsigned)(r->maxconnections > 0 ? r->maxconnections : 1);
    /* offlineimap's default reference is the two characters "" (the empty name). */
    io.reference = r->reference && strcmp(r->reference, "\"\"") != 0 ? r->reference : "";
    io.subscribed_only = r->subscribedonly;
    io.expunge = r->expunge;
    io.utf8_names = o->account->utf8foldernames;
    io.retry_count = r->retrycount;
    for (int k = 0; k < 26; k++)
        io.keywords[k] = local ? local->customflag[k] : NULL;
    struct store *s = store_imap_new(&io);
    free(mechs);
    return s;
}

bool repo_imap_new(const struct repo_setup_opts *o, const struct config_repository *r,
                   const struct config_repository *keywords_from, struct cred **cred_r,
                   struct store **store_r, struct err *e)
{
    /* Host, port and user: the *eval options win over the plain ones, as in offlineimap. */
    char *host = NULL;
    int port = r->remoteport;
    if (r->remotehosteval.text && !eval_str(o, r, &r->remotehosteval, "remotehosteval", &host, e))
        return false;
    const struct config_general *g = &o->cfg->general;
    struct cred_opts co = {
        .cfg = o->cfg,
        .account = o->account,
        .repo = r,
        .ui = o->ui,
        .host = host ? host : r->remotehost,
        .timeout_ms = g->socktimeout > 0 ? g->socktimeout * 1000 : DEFAULT_TIMEOUT_MS,
    };
    if (!cred_new(&co, cred_r, e)) {
        free(host);
        return false;
    }
    if (r->remoteporteval.text) {
        struct py_expr *px =
            py_expr_new(&r->remoteporteval, o->cfg->path, r->section, "remoteporteval", false, e);
        int64_t v = 0;
        bool ok = px && py_eval_int(px, &v, e);
        py_expr_free(&px);
        if (ok && (v < 1 || v > 65535)) {
            err_set(e, ERR_REPO, ERRK_CONFIG, "[%s] remoteporteval: %lld is not a port number",
                    r->section, (long long)v);
            ok = false;
        }
        if (!ok) {
            e->scope = ERR_REPO;
            free(host);
            return false;
        }
        port = (int)v;
    }
    *store_r = make_imap(o, r, keywords_from, *cred_r, host ? host : r->remotehost, port);
    free(host);
    return true;
}
