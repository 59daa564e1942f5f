/*
 * cred_oauth2: the OAuth2 access token of an IMAP repository: the static
 * oauth2_access_token, else one refreshed with oauth2_refresh_token, kept in
 * memory for the account's connections and in a 0600 cache file for the
 * next runs.
 */
#include "cli/cred_internal.h"

#include "auth/auth_mech.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "status/status_paths.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A refresh by another connection this recent is taken as the answer to ours. */
#define RECENT_REFRESH_SECONDS 10

static bool prepare(struct cred *c, struct err *e)
{
    if (c->oauth_ready)
        return true;
    const struct config_repository *r = c->o.repo;
    if (!cred_option(c, r->oauth2_access_token, &r->oauth2_access_token_eval,
                     "oauth2_access_token_eval", &c->access_static, e) ||
        !cred_option(c, r->oauth2_refresh_token, &r->oauth2_refresh_token_eval,
                     "oauth2_refresh_token_eval", &c->refresh_token, e) ||
        !cred_option(c, r->oauth2_client_id, &r->oauth2_client_id_eval, "oauth2_client_id_eval",
                     &c->client_id, e) ||
        !cred_option(c, r->oauth2_client_secret, &r->oauth2_client_secret_eval,
                     "oauth2_client_secret_eval", &c->client_secret, e))
        return false;
    if (c->access_static && !*c->access_static)
        XFREE(c->access_static);
    if (c->refresh_token && !*c->refresh_token)
        XFREE(c->refresh_token);
    c->req_url = r->oauth2_request_url ? xstrdup(r->oauth2_request_url) : NULL;
    const struct config_proxy *px = &c->o.account->authproxy;
    if (px->type) {
        c->authproxy.type = !strcmp(px->type, "SOCKS5")   ? CONN_PROXY_SOCKS5
                            : !strcmp(px->type, "SOCKS4") ? CONN_PROXY_SOCKS4
                                                          : CONN_PROXY_HTTP;
        c->authproxy.host = px->host;
        c->authproxy.port = px->port;
    }
    c->req = (struct oauth2_request){
        .url = c->req_url,
        .client_id = c->client_id,
        .client_secret = c->client_secret,
        .refresh_token = c->refresh_token,
        .proxy = px->type ? &c->authproxy : NULL,
        .timeout_ms = c->o.timeout_ms,
    };
    oauth2_cache_key(&c->req, c->cache_key);
    char *dir = status_path_repo_dir(c->o.cfg->general.metadata, r->name);
    c->cache_path = fs_join(dir, "oauth2-token");
    free(dir);
    c->oauth_ready = true;
    return true;
}

static bool still_valid(const struct oauth2_token *t, int64_t now)
{
    return t->access_token && (t->expires_at == 0 || t->expires_at > now);
}

/* Ask the endpoint; a refresh token the endpoint rotated in (cached) is tried first. */
static bool refresh(struct cred *c, int64_t now, struct err *e)
{
    struct oauth2_token cached;
    oauth2_cache_read(c->cache_path, c->cache_key, now, &cached);
    char *rotated = cached.refresh_token ? xstrdup(cached.refresh_token) : NULL;
    oauth2_token_release(&cached);
    if (!rotated && c->token.refresh_token)
        rotated = xstrdup(c->token.refresh_token);

    struct oauth2_token fresh;
    struct oauth2_request req = c->req;
    bool ok = false;
    if (rotated) {
        req.refresh_token = rotated;
        ok = oauth2_refresh(&req, &fresh, e);
        if (!ok) {
            log_debug(LOGC_IMAP,
                      "OAuth2: the rotated refresh token failed (%s); trying the "
                      "configured one",
                      e->msg);
            err_clear(e);
        }
    }
    if (!ok) {
        req.refresh_token = c->refresh_token;
        ok = oauth2_refresh(&req, &fresh, e);
        auth_wipe_str(rotated);
        rotated = NULL;
    }
    if (!ok) {
        auth_wipe_str(rotated);
        return false;
    }
    /* Keep a rotated refresh token for the next refresh. */
    if (!fresh.refresh_token && rotated)
        fresh.refresh_token = rotated;
    else
        auth_wipe_str(rotated);
    oauth2_token_release(&c->token);
    c->token = fresh;
    c->refreshed_at = now;
    struct err we = ERR_INIT;
    if (c->token.expires_at > 0 || c->token.refresh_token) {
        if (!oauth2_cache_write(c->cache_path, c->cache_key, &c->token, &we))
            log_warn("%s", we.msg);
    }
    err_clear(&we);
    return true;
}

bool cred_oauth2_token(void *ctx, bool want_refresh, char **token_r, struct err *e)
{
    struct cred *c = ctx;
    *token_r = NULL;
    pthread_mutex_lock(&c->lock);
    bool ok = prepare(c, e);
    int64_t now = (int64_t)time(NULL);
    if (!ok || (!c->access_static && !c->refresh_token)) {
        pthread_mutex_unlock(&c->lock);
        return ok; /* no OAuth2 configured: the mechanisms are skipped */
    }
    if (!want_refresh) {
        if (still_valid(&c->token, now)) {
            *token_r = xstrdup(c->token.access_token);
        } else if (c->access_static && !c->access_static_refused) {
            *token_r = xstrdup(c->access_static);
        } else if (c->refresh_token) {
            struct oauth2_token cached;
            if (oauth2_cache_read(c->cache_path, c->cache_key, now, &cached)) {
                log_debug(LOGC_IMAP, "OAuth2: using the cached access token");
                oauth2_token_release(&c->token);
                c->token = cached;
            } else {
                oauth2_token_release(&cached);
                ok = refresh(c, now, e);
            }
            if (ok)
                *token_r = xstrdup(c->token.access_token);
        }
    } else if (c->token.access_token && now - c->refreshed_at < RECENT_REFRESH_SECONDS) {
        *token_r = xstrdup(c->token.access_token);
    } else {
        /* The token given last was refused: a static one, or a cached or refreshed one. */
        if (c->token.access_token)
            oauth2_token_release(&c->token);
        else if (c->access_static)
            c->access_static_refused = true;
        if (!c->refresh_token) {
            err_set(e, ERR_REPO, ERRK_AUTH,
                    "The server refused the OAuth2 access token (oauth2_access_token), and no "
                    "oauth2_refresh_token is set to get a new one.");
            ok = false;
        } else if ((ok = refresh(c, now, e))) {
            *token_r = xstrdup(c->token.access_token);
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (!ok && e->scope != ERR_CRITICAL)
        e->scope = ERR_REPO;
    return ok;
}

void cred_oauth2_release(struct cred *c)
{
    auth_wipe_str(c->access_static);
    auth_wipe_str(c->refresh_token);
    auth_wipe_str(c->client_secret);
    free(c->client_id);
    free(c->req_url);
    free(c->cache_path);
    oauth2_token_release(&c->token);
}
