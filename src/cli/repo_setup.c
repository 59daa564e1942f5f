#include "cli/repo_setup.h"

#include "cli/cred.h"

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/xalloc.h"
#include "config/config_py.h"
#include "net/conn.h"
#include "store/store_imap.h"
#include "store/store_maildir.h"
#include "ui/ui.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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

bool repo_setup(const struct repo_setup_opts *o, struct repo_stores *rs, struct err *e)
{
    memset(rs, 0, sizeof(*rs));
    const struct config_account *acc = o->account;
    const struct config_repository *remote = acc->remote, *local = acc->local;
    if (!remote || !local) {
        err_set(e, ERR_REPO, ERRK_CONFIG, "account %s: its repositories are not configured",
                acc->name);
        return false;
    }
    if (!config_repo_is_imap(remote->type) || !config_repo_is_maildir(local->type)) {
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "account %s: only a Maildir local repository with an IMAP remote repository is "
                "supported so far (got %s and %s)",
                acc->name, config_repo_type_name(local->type), config_repo_type_name(remote->type));
        return false;
    }
    /* Host, port and user: the *eval options win over the plain ones, as in offlineimap. */
    char *host = NULL;
    int port = remote->remoteport;
    if (remote->remotehosteval.text &&
        !eval_str(o, remote, &remote->remotehosteval, "remotehosteval", &host, e)) {
        repo_stores_release(rs);
        return false;
    }
    const struct config_general *g = &o->cfg->general;
    struct cred_opts co = {
        .cfg = o->cfg,
        .account = acc,
        .repo = remote,
        .ui = o->ui,
        .host = host ? host : remote->remotehost,
        .timeout_ms = g->socktimeout > 0 ? g->socktimeout * 1000 : DEFAULT_TIMEOUT_MS,
    };
    if (!cred_new(&co, &rs->cred, e)) {
        free(host);
        repo_stores_release(rs);
        return false;
    }
    if (remote->remoteporteval.text) {
        struct py_expr *px = py_expr_new(&remote->remoteporteval, o->cfg->path, remote->section,
                                         "remoteporteval", false, e);
        int64_t v = 0;
        bool ok = px && py_eval_int(px, &v, e);
        py_expr_free(&px);
        if (ok && (v < 1 || v > 65535)) {
            err_set(e, ERR_REPO, ERRK_CONFIG, "[%s] remoteporteval: %lld is not a port number",
                    remote->section, (long long)v);
            ok = false;
        }
        if (!ok) {
            e->scope = ERR_REPO;
            free(host);
            repo_stores_release(rs);
            return false;
        }
        port = (int)v;
    }
    struct account_cfg *ac = &rs->account;
    if (remote->copy_ignore_eval.text &&
        !(ac->copy_ignore = py_expr_new(&remote->copy_ignore_eval, o->cfg->path, remote->section,
                                        "copy_ignore_eval", false, e))) {
        e->scope = ERR_REPO;
        free(host);
        repo_stores_release(rs);
        return false;
    }
    if (remote->newmail_hook.text &&
        !(ac->newmail_hook = py_expr_new(&remote->newmail_hook, o->cfg->path, remote->section,
                                         "newmail_hook", false, e))) {
        e->scope = ERR_REPO;
        free(host);
        repo_stores_release(rs);
        return false;
    }
    if (!foldermap_init(&rs->fmap, o->cfg, acc, o->only_folders, e)) {
        free(host);
        repo_stores_release(rs);
        return false;
    }
    rs->fmap_ready = true;

    struct maildir_opts mo = {
        .name = local->name,
        .root = local->localfolders,
        .sep = local->sep && local->sep[0] ? local->sep[0] : '.',
        .windows_compatible = acc->maildir_windows_compatible,
        .fsync = o->cfg->general.fsync,
        .filename_use_mail_timestamp = local->filename_use_mail_timestamp,
        .utime_from_header = local->utime_from_header,
        .restoreatime = local->restoreatime,
        .visible_name = foldermap_local_visible_cb,
        .visible_ctx = &rs->fmap,
    };
    struct account_cfg *a = &rs->account;
    a->name = acc->name;
    a->metadata = o->cfg->general.metadata;
    a->local = store_maildir_new(&mo);
    a->remote = make_imap(o, remote, local, rs->cred, host ? host : remote->remotehost, port);
    free(host);
    a->fmap = &rs->fmap;
    a->local_sep = mo.sep;
    a->local_root = local->localfolders;
    a->remote_readonly = remote->readonly;
    a->local_readonly = local->readonly;
    a->remote_sync_deletes = remote->sync_deletes;
    a->local_sync_deletes = local->sync_deletes;
    a->remote_createfolders = remote->createfolders;
    a->local_createfolders = local->createfolders;
    a->max_connections =
        o->single_thread ? 1 : (unsigned)(remote->maxconnections > 0 ? remote->maxconnections : 1);
    a->dry_run = o->dry_run;
    a->fsync = o->cfg->general.fsync;
    a->presynchook = acc->presynchook;
    a->postsynchook = acc->postsynchook;
    a->sync_mode = "full";
    a->guard_percent = acc->deleteguard;
    a->max_size = acc->has_maxsize ? (uint64_t)acc->maxsize : 0;
    a->filter_headers = &acc->filterheaders;
    a->quick = o->quick || acc->quick < 0;
    repo_setup_refresh(rs, acc);
    a->guard_minimum = acc->deleteguard_minimum;
    return true;
}

void repo_setup_refresh(struct repo_stores *rs, const struct config_account *acc)
{
    struct account_cfg *a = &rs->account;
    if (acc->maxage_kind == CONFIG_MAXAGE_DAYS) {
        a->maxage_cutoff = (int64_t)time(NULL) - (int64_t)acc->maxage_days * 86400;
    } else if (acc->maxage_kind == CONFIG_MAXAGE_DATE) {
        struct tm tm = {.tm_year = acc->maxage_date.year - 1900,
                        .tm_mon = acc->maxage_date.month - 1,
                        .tm_mday = acc->maxage_date.day,
                        .tm_isdst = -1};
        a->maxage_cutoff = (int64_t)mktime(&tm);
    }
}

void repo_stores_release(struct repo_stores *rs)
{
    if (rs->account.remote)
        rs->account.remote->ops->free(rs->account.remote);
    if (rs->account.local)
        rs->account.local->ops->free(rs->account.local);
    if (rs->fmap_ready)
        foldermap_release(&rs->fmap);
    py_expr_free(&rs->account.copy_ignore);
    py_expr_free(&rs->account.newmail_hook);
    cred_free(&rs->cred);
    memset(rs, 0, sizeof(*rs));
}
