/*
 * auth_oauth2: refreshing access tokens (libcurl), reading the endpoint's
 * JSON (jansson) and the token cache file.
 */
#include "auth/auth_oauth2.h"

#include "auth/auth_mech.h"

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "auth/oauth2_dl.h"
#include <openssl/evp.h>

/* ---- the endpoint's answer ---- */

void oauth2_token_release(struct oauth2_token *t)
{
    auth_wipe_str(t->access_token);
    auth_wipe_str(t->refresh_token);
    t->access_token = t->refresh_token = NULL;
    t->expires_at = 0;
}

/* A short, printable copy of a string from the endpoint, for messages. */
static char *printable(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        n = max;
    char *out = xstrndup(s, n);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return out;
}

/* expires_in as an integer, a real or a string of digits (some endpoints send "3599"). */
static bool expires_in(json_t *v, int64_t *secs_r)
{
    if (json_is_integer(v)) {
        *secs_r = (int64_t)json_integer_value(v);
        return *secs_r >= 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= 0 && d < 1e12))
            return false;
        *secs_r = (int64_t)d;
        return true;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        int64_t n = 0;
        if (!*s || strlen(s) > 12)
            return false;
        for (; *s; s++) {
            if (*s < '0' || *s > '9')
                return false;
            n = n * 10 + (*s - '0');
        }
        *secs_r = n;
        return true;
    }
    return false;
}

bool oauth2_parse_response(const char *body, size_t len, long http_status, const char *url,
                           int64_t now, struct oauth2_token *t, struct err *e)
{
    memset(t, 0, sizeof(*t));
    if (!oauth2_dl_load(e))
        return false;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        char *why = printable(root ? "not a JSON object" : jerr.text, 200);
        err_set(e, ERR_REPO, ERRK_AUTH,
                "The OAuth2 token endpoint %s answered HTTP %ld with something that is not a "
                "token (%s).",
                url, http_status, why);
        free(why);
        json_decref(root);
        return false;
    }
    json_t *error = json_object_get(root, "error");
    json_t *access = json_object_get(root, "access_token");
    if (error || !json_is_string(access) || !*json_string_value(access) || http_status >= 400) {
        json_t *desc = json_object_get(root, "error_description");
        char *code =
            printable(json_is_string(error) ? json_string_value(error) : "no access_token", 100);
        char *text = json_is_string(desc) ? printable(json_string_value(desc), 300) : NULL;
        bool grant =
            json_is_string(error) && strcmp(json_string_value(error), "invalid_grant") == 0;
        err_set(
            e, ERR_REPO, ERRK_AUTH,
            "The OAuth2 token endpoint %s refused to give an access token (HTTP %ld): %s%s%s%s.%s",
            url, http_status, code, text ? " (" : "", text ? text : "", text ? ")" : "",
            grant ? " The refresh token was revoked or has expired: get a new one and set "
                    "oauth2_refresh_token."
                  : "");
        free(code);
        free(text);
        json_decref(root);
        return false;
    }
    t->access_token = xstrdup(json_string_value(access));
    int64_t secs;
    json_t *exp = json_object_get(root, "expires_in");
    if (exp && expires_in(exp, &secs)) {
        int64_t margin = secs / 2 < 300 ? secs / 2 : 300;
        t->expires_at = now + secs - margin;
    }
    json_t *rt = json_object_get(root, "refresh_token");
    if (json_is_string(rt) && *json_string_value(rt))
        t->refresh_token = xstrdup(json_string_value(rt));
    json_decref(root);
    return true;
}

/* ---- the request ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void init_curl(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool oauth2_check_url(const char *url, struct err *e)
{
    if (!oauth2_dl_load(e))
        return false;
    pthread_once(&curl_once, init_curl);
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK;
    if (!ok) {
        err_set(e, ERR_REPO, ERRK_CONFIG, "oauth2_request_url '%s' is not a URL.", url);
    } else if (strcasecmp(scheme, "https") != 0) {
        /* Loopback hosts only: "[::1]" comes with brackets. */
        struct in_addr a4;
        bool local = strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
                     (inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127);
        ok = strcasecmp(scheme, "http") == 0 && local;
        if (!ok)
            err_set(e, ERR_REPO, ERRK_CONFIG,
                    "oauth2_request_url '%s' must start with https:// (plain http:// would show "
                    "the tokens to the network; it is allowed only to this machine).",
                    url);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct buf *b = ctx;
    return buf_append(b, data, size * n) ? size * n : 0;
}

static void add_param(struct buf *b, CURL *c, const char *name, const char *value)
{
    char *esc = curl_easy_escape(c, value, 0);
    buf_printf(b, "%s%s=%s", b->len ? "&" : "", name, esc ? esc : "");
    if (esc) {
        memset(esc, 0, strlen(esc));
        curl_free(esc);
    }
}

static char *proxy_url(const struct conn_proxy *px)
{
    const char *scheme = px->type == CONN_PROXY_SOCKS5   ? "socks5h"
                         : px->type == CONN_PROXY_SOCKS4 ? "socks4a"
                                                         : "http";
    bool v6 = strchr(px->host, ':') != NULL;
    return xasprintf("%s://%s%s%s:%d", scheme, v6 ? "[" : "", px->host, v6 ? "]" : "", px->port);
}

bool oauth2_refresh(const struct oauth2_request *r, struct oauth2_token *t, struct err *e)
{
    memset(t, 0, sizeof(*t));
    if (!r->url) {
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "No oauth2_request_url is set, so the OAuth2 access token cannot be refreshed.");
        return false;
    }
    if (!r->refresh_token) {
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "No oauth2_refresh_token is set, so the OAuth2 access token cannot be "
                "refreshed.");
        return false;
    }
    if (!oauth2_check_url(r->url, e))
        return false;
    if (curl_init_result != CURLE_OK) {
        err_set(e, ERR_REPO, ERRK_NETWORK, "libcurl could not be initialised: %s.",
                curl_easy_strerror(curl_init_result));
        return false;
    }
    CURL *c = curl_easy_init();
    if (!c) {
        err_set(e, ERR_REPO, ERRK_NETWORK, "libcurl could not start a request.");
        return false;
    }
    struct buf form, body;
    buf_init(&form, BUF_UNBOUNDED);
    buf_init(&body, OAUTH2_RESPONSE_MAX);
    add_param(&form, c, "client_id", r->client_id ? r->client_id : "");
    if (r->client_secret)
        add_param(&form, c, "client_secret", r->client_secret);
    add_param(&form, c, "refresh_token", r->refresh_token);
    add_param(&form, c, "grant_type", "refresh_token");

    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    char *pxurl = r->proxy && r->proxy->type != CONN_PROXY_NONE ? proxy_url(r->proxy) : NULL;
    long timeout = r->timeout_ms > 0 ? r->timeout_ms : 60000;
    curl_easy_setopt(c, CURLOPT_URL, r->url);
    curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, form.data);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "offlineimap");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    if (pxurl)
        curl_easy_setopt(c, CURLOPT_PROXY, pxurl);
    else if (r->no_proxy)
        curl_easy_setopt(c, CURLOPT_PROXY, "");
    memset(form.data, 0, form.len);
    buf_release(&form);

    log_debug(LOGC_IMAP, "OAuth2: refreshing the access token at %s%s%s", r->url,
              pxurl ? " through " : "", pxurl ? pxurl : "");
    time_t started = time(NULL);
    CURLcode cr = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    bool ok;
    if (cr != CURLE_OK) {
        if (cr == CURLE_WRITE_ERROR && body.len >= OAUTH2_RESPONSE_MAX)
            err_set(e, ERR_REPO, ERRK_AUTH,
                    "The OAuth2 token endpoint %s sent an answer larger than %d bytes.", r->url,
                    OAUTH2_RESPONSE_MAX);
        else
            err_set(e, ERR_REPO, cr == CURLE_OPERATION_TIMEDOUT ? ERRK_TIMEOUT : ERRK_NETWORK,
                    "Could not refresh the OAuth2 access token at %s: %s.", r->url,
                    errbuf[0] ? errbuf : curl_easy_strerror(cr));
        ok = false;
    } else {
        ok = oauth2_parse_response(body.data, body.len, status, r->url, (int64_t)started, t, e);
    }
    if (ok)
        log_debug(LOGC_IMAP, "OAuth2: got an access token from %s (%s)", r->url,
                  t->expires_at ? "with an expiry" : "no expiry given");
    if (body.len)
        memset(body.data, 0, body.len);
    buf_release(&body);
    curl_slist_free_all(hdrs);
    free(pxurl);
    curl_easy_cleanup(c);
    return ok;
}

/* ---- the cache ---- */

void oauth2_cache_key(const struct oauth2_request *r, char out[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    const char *parts[] = {r->url ? r->url : "", r->client_id ? r->client_id : "",
                           r->refresh_token ? r->refresh_token : ""};
    for (size_t i = 0; i < 3; i++)
        EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1);
    EVP_DigestFinal_ex(ctx, d, &n);
    EVP_MD_CTX_free(ctx);
    for (unsigned i = 0; i < 32 && i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    out[64] = '\0';
}

bool oauth2_cache_read(const char *path, const char *key, int64_t now, struct oauth2_token *t)
{
    /* Set before any return: the caller releases *t whatever the answer. */
    memset(t, 0, sizeof(*t));
    struct err le = ERR_INIT;
    bool usable = oauth2_dl_load(&le);
    err_clear(&le);
    if (!usable)
        return false; /* no token from the cache: the refresh says what is missing */
    struct stat st;
    if (stat(path, &st) != 0)
        return false;
    if ((st.st_mode & 077) != 0) {
        log_warn("The OAuth2 token cache %s can be read by other users (mode %03o); it is not "
                 "used and will be rewritten with mode 600.",
                 path, (unsigned)(st.st_mode & 0777));
        return false;
    }
    struct buf b;
    struct err e = ERR_INIT;
    buf_init(&b, OAUTH2_CACHE_MAX);
    bool ok = fs_read_file(path, OAUTH2_CACHE_MAX, &b, &e);
    err_clear(&e);
    json_t *root = ok ? json_loadb(b.data, b.len, 0, NULL) : NULL;
    if (b.len)
        memset(b.data, 0, b.len);
    buf_release(&b);
    ok = false;
    if (json_is_object(root)) {
        json_t *k = json_object_get(root, "key"), *at = json_object_get(root, "access_token");
        json_t *exp = json_object_get(root, "expires_at");
        json_t *rt = json_object_get(root, "refresh_token");
        if (json_is_string(k) && strcmp(json_string_value(k), key) == 0 && json_is_integer(exp)) {
            if (json_is_string(rt) && *json_string_value(rt))
                t->refresh_token = xstrdup(json_string_value(rt));
            int64_t at_exp = (int64_t)json_integer_value(exp);
            if (json_is_string(at) && *json_string_value(at) && at_exp > now) {
                t->access_token = xstrdup(json_string_value(at));
                t->expires_at = at_exp;
                ok = true;
            }
        }
    }
    json_decref(root);
    return ok;
}

bool oauth2_cache_write(const char *path, const char *key, const struct oauth2_token *t,
                        struct err *e)
{
    if (!oauth2_dl_load(e))
        return false;
    json_t *root = json_object();
    json_object_set_new(root, "key", json_string(key));
    if (t->access_token && t->expires_at > 0) {
        json_object_set_new(root, "access_token", json_string(t->access_token));
        json_object_set_new(root, "expires_at", json_integer((json_int_t)t->expires_at));
    } else {
        json_object_set_new(root, "expires_at", json_integer(0));
    }
    if (t->refresh_token)
        json_object_set_new(root, "refresh_token", json_string(t->refresh_token));
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text) {
        err_set(e, ERR_REPO, ERRK_GENERIC, "Could not write the OAuth2 token cache %s.", path);
        return false;
    }
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    bool ok =
        (!slash || fs_mkdir_p(dir, 0700, e)) && fs_write_atomic(path, text, strlen(text), true, e);
    free(dir);
    auth_wipe_str(text);
    if (!ok)
        err_prefix(e, "OAuth2 token cache: ");
    return ok;
}
