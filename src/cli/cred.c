/*
 * cred: user name and password of an IMAP repository, from the configured
 * sources in offlineimap's order, and what happens when the server refuses
 * the password.
 */
#include "cli/cred_internal.h"

#include "auth/auth_keyring.h"
#include "auth/auth_mech.h"
#include "auth/auth_netrc.h"
#include "base/buf.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "config/config_py.h"
#include "ui/ui.h"

#include <stdlib.h>
#include <string.h>

bool cred_option(struct cred *c, const char *plain, const struct config_expr *x, const char *option,
                 char **out_r, struct err *e)
{
    *out_r = NULL;
    if (plain) {
        *out_r = xstrdup(plain);
        return true;
    }
    if (!x->text)
        return true;
    struct py_expr *px = py_expr_new(x, c->o.cfg->path, c->o.repo->section, option, false, e);
    bool ok = px && py_eval_str(px, out_r, e);
    py_expr_free(&px);
    if (!ok)
        e->scope = ERR_REPO;
    return ok;
}

/* ---- netrc ---- */

/*
 * The entry of path for the host (and user, when known): its login and
 * password in *login_r / *pw_r (either may be NULL).  Problems with the file
 * are warned about and the file skipped.
 */
static void netrc_lookup(struct cred *c, const char *path, bool check_private, const char *user,
                         char **login_r, char **pw_r)
{
    struct netrc n = {0};
    struct err e = ERR_INIT;
    bool found = false;
    if (!netrc_load(path, check_private, &n, &found, &e)) {
        log_warn("%s", e.msg);
        err_clear(&e);
        return;
    }
    const struct netrc_entry *en = found ? netrc_find(&n, c->host, user) : NULL;
    if (en) {
        if (login_r && *en->login)
            *login_r = xstrdup(en->login);
        if (pw_r && *en->password)
            *pw_r = xstrdup(en->password);
    }
    netrc_release(&n);
}

static char *home_netrc(void)
{
    return fs_expand_path("~/.netrc");
}

/* ---- the password sources ---- */

static void set_password(struct cred *c, char *pw, enum cred_origin origin, const char *text)
{
    auth_wipe_str(c->password);
    c->password = pw;
    c->origin = origin;
    free(c->origin_text);
    c->origin_text = xstrdup(text);
}

static bool read_passfile(const char *path, char **pw_r, struct err *e)
{
    char *p = fs_expand_path(path);
    struct buf b;
    buf_init(&b, 64 * 1024);
    bool ok = fs_read_file(p, 64 * 1024, &b, e);
    free(p);
    if (!ok) {
        buf_release(&b);
        err_prefix(e, "remotepassfile: ");
        e->scope = ERR_REPO;
        return false;
    }
    /* The first line, stripped, as offlineimap reads it. */
    size_t n = strcspn(b.data, "\n");
    b.data[n] = '\0';
    *pw_r = str_trim(xstrdup(b.data));
    memset(b.data, 0, b.len);
    buf_release(&b);
    return true;
}

static bool prompt(struct cred *c, const char *errmsg, struct err *e)
{
    char *pw = NULL;
    if (!ui_get_password(c->o.ui, c->o.account->name, c->host, c->user ? c->user : "", errmsg, &pw,
                         e)) {
        e->scope = ERR_REPO;
        return false;
    }
    set_password(c, pw, ORIGIN_PROMPT, "the prompt");
    return true;
}

static void try_keyring(struct cred *c)
{
    if (c->keyring_tried || c->o.cfg->general.ignore_keyring || !c->user)
        return;
    c->keyring_tried = true;
    char *pw = NULL;
    struct err e = ERR_INIT;
    switch (auth_keyring_lookup(c->host, c->user, KEYRING_TIMEOUT_MS, &pw, &e)) {
    case KEYRING_FOUND:
        log_debug(LOGC_IMAP, "The password of '%s' on '%s' comes from the keyring", c->user,
                  c->host);
        set_password(c, pw, ORIGIN_KEYRING, "the keyring");
        break;
    case KEYRING_NOT_FOUND:
        log_debug(LOGC_IMAP, "The keyring has no password for '%s' on '%s'", c->user, c->host);
        break;
    case KEYRING_UNAVAILABLE:
        if (e.kind == ERRK_TIMEOUT)
            log_warn("Keyring: %s; going on without it (--ignore-keyring skips it).", e.msg);
        else
            log_debug(LOGC_IMAP, "Keyring not used: %s", e.msg ? e.msg : "");
        break;
    }
    err_clear(&e);
}

/* The first password, from the first source that has one. */
static bool find_password(struct cred *c, struct err *e)
{
    const struct config_repository *r = c->o.repo;
    char *pw = NULL;
    if (r->remotepasseval.text) {
        if (!cred_option(c, NULL, &r->remotepasseval, "remotepasseval", &pw, e))
            return false;
        set_password(c, pw, ORIGIN_PASSEVAL, "remotepasseval");
        return true;
    }
    if (r->remotepass) {
        set_password(c, xstrdup(r->remotepass), ORIGIN_PASS, "remotepass");
        return true;
    }
    if (r->remotepassfile) {
        if (!read_passfile(r->remotepassfile, &pw, e))
            return false;
        char *text = xasprintf("remotepassfile '%s'", r->remotepassfile);
        set_password(c, pw, ORIGIN_PASSFILE, text);
        free(text);
        return true;
    }
    char *path = home_netrc();
    netrc_lookup(c, path, true, c->user, NULL, &pw);
    if (pw) {
        set_password(c, pw, ORIGIN_NETRC, path);
        free(path);
        return true;
    }
    free(path);
    netrc_lookup(c, "/etc/netrc", false, c->user, NULL, &pw);
    if (pw) {
        set_password(c, pw, ORIGIN_ETC_NETRC, "/etc/netrc");
        return true;
    }
    try_keyring(c);
    if (c->password)
        return true;
    return prompt(c, NULL, e);
}

static void refused_error(struct cred *c, struct err *e)
{
    err_set(e, ERR_REPO, ERRK_AUTH,
            "The server %s refused the password of user '%s' given by %s; not trying it again.",
            c->host, c->user ? c->user : "", c->origin_text ? c->origin_text : "?");
}

static bool provider_password(void *ctx, const char *rejected, char **pw_r, struct err *e)
{
    struct cred *c = ctx;
    *pw_r = NULL;
    pthread_mutex_lock(&c->lock);
    bool ok = true;
    if (!rejected) {
        if (c->failed) {
            refused_error(c, e);
            ok = false;
        } else if (!c->password) {
            ok = find_password(c, e);
        }
        if (ok)
            *pw_r = xstrdup(c->password);
    } else if (c->password && strcmp(rejected, c->password) != 0) {
        /* Another connection already has a newer one. */
        *pw_r = xstrdup(c->password);
    } else if (!c->good && !c->failed && c->asked_again == 0 &&
               (c->origin == ORIGIN_PROMPT || c->origin == ORIGIN_KEYRING)) {
        c->asked_again++;
        struct err pe = ERR_INIT;
        if (prompt(c, "The server refused the password; please enter it again.", &pe)) {
            *pw_r = xstrdup(c->password);
        } else {
            log_debug(LOGC_IMAP, "Could not ask for the password again: %s", pe.msg);
            c->failed = true;
        }
        err_clear(&pe);
    } else {
        c->failed = true;
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

static void provider_password_ok(void *ctx, const char *password)
{
    struct cred *c = ctx;
    pthread_mutex_lock(&c->lock);
    c->good = true;
    bool store = c->o.cfg->general.update_keyring && !c->keyring_stored &&
                 c->origin != ORIGIN_KEYRING && c->user;
    c->keyring_stored = c->keyring_stored || store;
    pthread_mutex_unlock(&c->lock);
    if (!store)
        return;
    struct err e = ERR_INIT;
    if (auth_keyring_store(c->host, c->user, password, KEYRING_TIMEOUT_MS, &e))
        log_info("Stored the password of '%s' on '%s' in the keyring.", c->user, c->host);
    else
        log_warn("Could not store the password of '%s' on '%s' in the keyring: %s.", c->user,
                 c->host, e.msg);
    err_clear(&e);
}

static const char *provider_origin(void *ctx)
{
    struct cred *c = ctx;
    pthread_mutex_lock(&c->lock);
    const char *o = c->origin_text;
    pthread_mutex_unlock(&c->lock);
    return o;
}

struct imap_auth_provider cred_provider(struct cred *c)
{
    return (struct imap_auth_provider){
        .ctx = c,
        .password = provider_password,
        .password_ok = provider_password_ok,
        .password_origin = provider_origin,
        .oauth2_token = cred_oauth2_token,
    };
}

/* ---- set-up ---- */

bool cred_new(const struct cred_opts *o, struct cred **c_r, struct err *e)
{
    struct cred *c = xcalloc(1, sizeof(*c));
    c->o = *o;
    c->host = xstrdup(o->host ? o->host : "");
    pthread_mutex_init(&c->lock, NULL);
    const struct config_repository *r = o->repo;
    /* remoteusereval, remoteuser, then the netrc files. */
    if (!cred_option(c, NULL, &r->remoteusereval, "remoteusereval", &c->user, e)) {
        cred_free(&c);
        return false;
    }
    if (!c->user && r->remoteuser)
        c->user = xstrdup(r->remoteuser);
    if (!c->user && o->host) {
        char *path = home_netrc();
        netrc_lookup(c, path, true, NULL, &c->user, NULL);
        free(path);
        if (!c->user)
            netrc_lookup(c, "/etc/netrc", false, NULL, &c->user, NULL);
    }
    *c_r = c;
    return true;
}

const char *cred_user(const struct cred *c)
{
    return c->user;
}

void cred_free(struct cred **cp)
{
    struct cred *c = *cp;
    if (!c)
        return;
    cred_oauth2_release(c);
    auth_wipe_str(c->password);
    free(c->origin_text);
    free(c->host);
    free(c->user);
    pthread_mutex_destroy(&c->lock);
    free(c);
    *cp = NULL;
}
