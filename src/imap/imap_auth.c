/*
 * imap_auth: the authentication loop and the IMAP side of each mechanism
 * (AUTHENTICATE with continuations, SASL-IR, LOGIN).
 */
#include "imap/imap_auth.h"

#include "auth/auth_mech.h"
#include "auth/auth_sasl.h"
#include "base/base64.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "imap/imap_cmd.h"
#include "imap/imap_connect.h"
#include "imap/imap_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What one try of one mechanism came to. */
enum try_result {
    TRY_OK,
    TRY_REJECTED,    /* the server said no (or we cancelled): try something else */
    TRY_UNAVAILABLE, /* could not start here (no plugin, no Kerberos ticket): skipped */
    TRY_BROKEN,      /* the connection is unusable or must not be used: stop */
};

/* One AUTHENTICATE exchange. */
struct exchange {
    const struct imap_connect_opts *o;
    enum auth_mech mech;
    const char *secret; /* password or access token */
    struct auth_sasl *sasl;
    unsigned char *initial; /* initial response, or NULL */
    size_t initial_len;
    bool initial_pending; /* not sent with the command: goes with the first "+" */
    bool secret_sent;     /* the token went out: a further "+" is the server's error */
    char *local_error;    /* why we cancelled */
    char *server_error;   /* an OAuth2 error the server sent in a "+" */
    /* the tagged answer */
    bool done, ok;
    char *text;
};

/* Printable text from server or library bytes, for messages. */
static char *printable(const void *data, size_t len, size_t max)
{
    if (len > max)
        len = max;
    char *s = xstrndup(data, len);
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return s;
}

static char *encode_line(const void *data, size_t len)
{
    return len ? base64_encode(data, len) : xstrdup("");
}

static void set_local_error(struct exchange *x, const char *msg)
{
    free(x->local_error);
    x->local_error = xstrdup(msg);
}

static bool on_challenge(void *ctx, const char *text, char **line_r)
{
    struct exchange *x = ctx;
    if (x->initial_pending) {
        /* No SASL-IR: the initial response answers the first, empty challenge. */
        x->initial_pending = false;
        *line_r = encode_line(x->initial, x->initial_len);
        x->secret_sent = true;
        return true;
    }
    unsigned char *chal = NULL;
    size_t clen = 0;
    if (!base64_decode(text, strlen(text), &chal, &clen)) {
        char *shown = printable(text, strlen(text), 100);
        char *msg = xasprintf("the server sent a challenge that is not base64 (\"%s\")", shown);
        set_local_error(x, msg);
        free(msg);
        free(shown);
        return false;
    }
    bool ok = true;
    size_t n = 0;
    char *resp = NULL;
    switch (x->mech) {
    case AUTH_MECH_CRAM_MD5:
        resp = auth_cram_md5_response(x->o->user, x->secret, chal, clen, &n);
        *line_r = encode_line(resp, n);
        auth_wipe_free(resp, n);
        break;
    case AUTH_MECH_SCRAM_SHA_1:
    case AUTH_MECH_SCRAM_SHA_256:
    case AUTH_MECH_GSSAPI: {
        unsigned char *out = NULL;
        struct err e = ERR_INIT;
        if (auth_sasl_step(x->sasl, chal, clen, &out, &n, &e) == AUTH_SASL_FAILED) {
            set_local_error(x, e.msg ? e.msg : "the SASL exchange failed");
            err_clear(&e);
            ok = false;
        } else {
            *line_r = encode_line(out, n);
        }
        auth_wipe_free(out, n);
        break;
    }
    case AUTH_MECH_XOAUTH2:
    case AUTH_MECH_OAUTHBEARER:
        /*
         * After the token, a challenge is the server's error report (JSON);
         * the client answers with an empty line (XOAUTH2) or ^A (RFC 7628
         * 3.2.3) and the server then says NO.
         */
        if (x->secret_sent) {
            free(x->server_error);
            x->server_error = printable(chal, clen, 300);
            *line_r = xstrdup(x->mech == AUTH_MECH_OAUTHBEARER ? "AQ==" : "");
        } else {
            ok = false;
        }
        break;
    default:
        set_local_error(x, "the server sent an unexpected challenge");
        ok = false;
        break;
    }
    free(chal);
    return ok;
}

static void on_done(void *ctx, const struct imap_resp *r, const struct err *e)
{
    struct exchange *x = ctx;
    x->done = true;
    x->ok = r && r->status == IMAP_STATUS_OK;
    free(x->text);
    if (r) {
        const char *code = r->code ? r->code : NULL;
        x->text = code ? xasprintf("[%s] %s", code, r->text ? r->text : "")
                       : xstrdup(r->text ? r->text : "");
    } else {
        x->text = xstrdup(e && e->msg ? e->msg : "the connection failed");
    }
}

/* The reason for a failure, for "<MECH> authentication failed: <reason>". */
static char *failure_reason(const struct exchange *x)
{
    if (x->local_error)
        return xstrdup(x->local_error);
    if (x->server_error)
        return xasprintf("%s (%s)", x->text ? x->text : "refused", x->server_error);
    return xstrdup(x->text ? x->text : "refused");
}

static void exchange_release(struct exchange *x)
{
    auth_sasl_free(&x->sasl);
    auth_wipe_free(x->initial, x->initial_len);
    free(x->local_error);
    free(x->server_error);
    free(x->text);
}

static enum try_result try_login(struct imap_session *s, const struct imap_connect_opts *o,
                                 const char *password, char **why_r, struct err *e)
{
    struct imap_cmd cmd;
    imap_session_cmd_init(s, &cmd);
    const char *user = o->user ? o->user : "";
    imap_cmd_add_raw(&cmd, "LOGIN ");
    imap_cmd_add_astring(&cmd, user, strlen(user));
    imap_cmd_add_raw(&cmd, " ");
    imap_cmd_add_astring(&cmd, password, strlen(password));
    struct imap_result r = {0};
    bool ok = imap_cmd_finish(&cmd, e) && imap_command_cmd(s, IMAP_SEND_SECRET, &r, &cmd, e);
    if (cmd.text.len)
        memset(cmd.text.data, 0, cmd.text.len);
    imap_cmd_release(&cmd);
    enum try_result res = TRY_OK;
    if (!ok) {
        if (imap_session_dead(s)) {
            res = TRY_BROKEN;
        } else {
            *why_r = r.code ? xasprintf("[%s] %s", r.code, r.text ? r.text : "")
                            : xstrdup(r.text ? r.text : (e->msg ? e->msg : "refused"));
            err_clear(e);
            res = TRY_REJECTED;
        }
    }
    imap_result_release(&r);
    return res;
}

/* Prepare the initial response; TRY_UNAVAILABLE when the mechanism cannot start here. */
static enum try_result prepare(struct exchange *x, char **why_r)
{
    const struct imap_connect_opts *o = x->o;
    switch (x->mech) {
    case AUTH_MECH_PLAIN:
        x->initial =
            (unsigned char *)auth_plain_message(o->identity, o->user, x->secret, &x->initial_len);
        return TRY_OK;
    case AUTH_MECH_XOAUTH2:
        x->initial = (unsigned char *)auth_xoauth2_message(o->user, x->secret, &x->initial_len);
        return TRY_OK;
    case AUTH_MECH_OAUTHBEARER:
        x->initial = (unsigned char *)auth_oauthbearer_message(o->user, o->host, o->port, x->secret,
                                                               &x->initial_len);
        return TRY_OK;
    case AUTH_MECH_SCRAM_SHA_1:
    case AUTH_MECH_SCRAM_SHA_256:
    case AUTH_MECH_GSSAPI: {
        /*
         * GSSAPI names the user by the Kerberos ticket; like offlineimap, we
         * ask to be remoteuser (the authorization identity), so that the
         * server maps the principal to that mailbox (krb5_kuserok).
         */
        const char *authzid = o->identity;
        if (!authzid && x->mech == AUTH_MECH_GSSAPI && o->user && *o->user)
            authzid = o->user;
        struct auth_sasl_opts so = {.mech = auth_mech_name(x->mech),
                                    .service = "imap",
                                    .host = o->host,
                                    .user = o->user,
                                    .authzid = authzid,
                                    .password = x->mech == AUTH_MECH_GSSAPI ? NULL : x->secret};
        if (x->mech == AUTH_MECH_GSSAPI && !o->host) {
            *why_r = xstrdup("GSSAPI needs the server's host name (remotehost)");
            return TRY_UNAVAILABLE;
        }
        struct err e = ERR_INIT;
        enum auth_sasl_result r = auth_sasl_start(&so, &x->sasl, &x->initial, &x->initial_len, &e);
        if (r != AUTH_SASL_MORE) {
            *why_r = xstrdup(e.msg ? e.msg : "could not start");
            err_clear(&e);
            return TRY_UNAVAILABLE;
        }
        return TRY_OK;
    }
    default:
        return TRY_OK; /* CRAM-MD5: the server speaks first */
    }
}

static enum try_result try_authenticate(struct imap_session *s, const struct imap_connect_opts *o,
                                        enum auth_mech mech, const char *secret, char **why_r,
                                        struct err *e)
{
    struct exchange x = {.o = o, .mech = mech, .secret = secret};
    enum try_result res = prepare(&x, why_r);
    if (res != TRY_OK) {
        exchange_release(&x);
        return res;
    }
    const char *name = auth_mech_name(mech);
    bool sent;
    if (x.initial && imap_session_has_cap(s, IMAP_CAP_SASL_IR)) {
        /* RFC 4959: the initial response with the command; "=" when empty. */
        char *ir = x.initial_len ? base64_encode(x.initial, x.initial_len) : xstrdup("=");
        x.secret_sent = true;
        sent = imap_send_cont(s, IMAP_SEND_SECRET, on_challenge, &x, on_done, &x, e,
                              "AUTHENTICATE %s %s", name, ir);
        auth_wipe_str(ir);
    } else {
        x.initial_pending = x.initial != NULL;
        sent = imap_send_cont(s, 0, on_challenge, &x, on_done, &x, e, "AUTHENTICATE %s", name);
    }
    if (!sent || imap_session_dead(s) || !x.done) {
        exchange_release(&x);
        return TRY_BROKEN;
    }
    if (x.ok) {
        if (x.sasl && !auth_sasl_complete(x.sasl)) {
            /* SCRAM's last message proves the server knows the password. */
            err_set(e, ERR_REPO, ERRK_AUTH,
                    "The server %s accepted %s without proving that it knows the password "
                    "(the exchange did not finish); this connection is not used.",
                    imap_session_desc(s), name);
            res = TRY_BROKEN;
        } else {
            res = TRY_OK;
        }
    } else {
        *why_r = failure_reason(&x);
        res = TRY_REJECTED;
    }
    exchange_release(&x);
    return res;
}

static enum try_result try_mech(struct imap_session *s, const struct imap_connect_opts *o,
                                enum auth_mech mech, const char *secret, char **why_r,
                                struct err *e)
{
    log_debug(LOGC_IMAP, "Attempting %s authentication", auth_mech_name(mech));
    if (mech == AUTH_MECH_LOGIN)
        return try_login(s, o, secret, why_r, e);
    return try_authenticate(s, o, mech, secret, why_r, e);
}

/* ---- the loop ---- */

struct auth_run {
    struct imap_session *s;
    const struct imap_connect_opts *o;
    struct buf why;              /* "\n\t<MECH>: <reason>" for each failure */
    struct strvec clear_refused; /* mechanisms not used for lack of encryption */
    char *password;
    char *token;
    bool token_fresh;
    bool tried;
    bool password_rejected;
};

static void note_failure(struct auth_run *a, enum auth_mech m, const char *reason)
{
    log_warn("%s authentication failed: %s", auth_mech_name(m), reason);
    buf_printf(&a->why, "\n\t%s: %s", auth_mech_name(m), reason);
}

static bool supported(struct imap_session *s, enum auth_mech m)
{
    if (m == AUTH_MECH_LOGIN)
        return true; /* offlineimap tries LOGIN unless told LOGINDISABLED */
    return imap_caps_has_auth(imap_session_caps(s), auth_mech_name(m));
}

/* A password mechanism, asking for the password once more after a refusal. */
static enum try_result with_password(struct auth_run *a, enum auth_mech m, struct err *e)
{
    const struct imap_connect_opts *o = a->o;
    if (!o->user || !*o->user) {
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "No user name for %s: set remoteuser (or remoteusereval), or give a login for "
                "this host in ~/.netrc.",
                imap_session_desc(a->s));
        return TRY_BROKEN;
    }
    if (!a->password && !o->auth.password(o->auth.ctx, NULL, &a->password, e))
        return TRY_BROKEN;
    if (!a->password) {
        err_set(e, ERR_REPO, ERRK_AUTH, "No password for user '%s' on %s.", o->user,
                imap_session_desc(a->s));
        return TRY_BROKEN;
    }
    for (;;) {
        char *why = NULL;
        enum try_result r = try_mech(a->s, o, m, a->password, &why, e);
        if (r != TRY_REJECTED) {
            free(why);
            return r;
        }
        note_failure(a, m, why);
        free(why);
        a->password_rejected = true;
        char *next = NULL;
        struct err pe = ERR_INIT;
        if (!o->auth.password(o->auth.ctx, a->password, &next, &pe)) {
            /* No other password could be had: the refusal stands. */
            log_debug(LOGC_IMAP, "No other password: %s", pe.msg ? pe.msg : "");
            err_clear(&pe);
            return TRY_REJECTED;
        }
        if (!next)
            return TRY_REJECTED;
        auth_wipe_str(a->password);
        a->password = next;
    }
}

/* A token mechanism, refreshing the token once after a refusal. */
static enum try_result with_token(struct auth_run *a, enum auth_mech m, struct err *e)
{
    const struct imap_connect_opts *o = a->o;
    if (!o->auth.oauth2_token)
        return TRY_UNAVAILABLE;
    struct err te = ERR_INIT;
    if (!a->token) {
        if (!o->auth.oauth2_token(o->auth.ctx, false, &a->token, &te)) {
            note_failure(a, m, te.msg ? te.msg : "no access token");
            a->tried = true;
            err_clear(&te);
            return TRY_REJECTED;
        }
        if (!a->token)
            return TRY_UNAVAILABLE; /* no OAuth2 configured: skipped, as offlineimap */
    }
    a->tried = true;
    for (;;) {
        char *why = NULL;
        enum try_result r = try_mech(a->s, o, m, a->token, &why, e);
        if (r != TRY_REJECTED) {
            free(why);
            return r;
        }
        if (a->token_fresh) {
            note_failure(a, m, why);
            free(why);
            return TRY_REJECTED;
        }
        log_debug(LOGC_IMAP, "%s: the access token was refused (%s); refreshing it",
                  auth_mech_name(m), why);
        free(why);
        char *fresh = NULL;
        a->token_fresh = true;
        if (!o->auth.oauth2_token(o->auth.ctx, true, &fresh, &te) || !fresh) {
            note_failure(a, m, te.msg ? te.msg : "the access token could not be refreshed");
            err_clear(&te);
            free(fresh);
            return TRY_REJECTED;
        }
        auth_wipe_str(a->token);
        a->token = fresh;
    }
}

static void final_message(struct auth_run *a, struct err *e)
{
    const struct imap_connect_opts *o = a->o;
    const char *desc = imap_session_desc(a->s);
    struct buf refused;
    buf_init(&refused, BUF_UNBOUNDED);
    for (size_t i = 0; i < a->clear_refused.n; i++)
        buf_printf(&refused, "%s%s", i ? ", " : "", a->clear_refused.v[i]);
    const char *hint =
        "Use ssl = yes (the server's TLS port, usually 993) or a server that offers STARTTLS; "
        "or, if nobody else can see this network, set allow_plaintext_auth = yes for this "
        "repository.";
    if (!a->tried && a->clear_refused.n) {
        bool only_tokens = true;
        for (size_t i = 0; i < a->clear_refused.n; i++)
            only_tokens =
                only_tokens && auth_mech_uses_token(auth_mech_by_name(a->clear_refused.v[i]));
        err_set(e, ERR_REPO, ERRK_AUTH,
                "Refusing to log in to %s over an unencrypted connection: %s would show the "
                "%s of user '%s' to anyone on the network (ssl is off and %s). %s",
                desc, refused.data, only_tokens ? "access token" : "password",
                o->user ? o->user : "",
                o->starttls ? "the server did not offer STARTTLS" : "starttls = no", hint);
    } else if (!a->tried) {
        struct buf adv;
        buf_init(&adv, 4096);
        const struct imap_caps *caps = imap_session_caps(a->s);
        for (size_t i = 0; i < caps->auth.n; i++)
            buf_printf(&adv, "%s%s", i ? ", " : "", caps->auth.v[i]);
        err_set(e, ERR_REPO, ERRK_AUTH,
                "no supported authentication mechanisms found; configured %s, server %s "
                "advertises %s%s",
                o->auth_mechanisms ? o->auth_mechanisms : IMAP_AUTH_DEFAULT_MECHS, desc,
                adv.len ? adv.data : "none", a->why.len ? a->why.data : "");
        buf_release(&adv);
    } else {
        struct buf msg;
        buf_init(&msg, BUF_UNBOUNDED);
        buf_printf(&msg, "All authentication types failed:%s", a->why.data);
        const char *origin = o->auth.password_origin ? o->auth.password_origin(o->auth.ctx) : NULL;
        if (a->password_rejected)
            buf_printf(&msg, "\nThe server %s refused the password of user '%s'%s%s.", desc,
                       o->user ? o->user : "", origin ? " given by " : "", origin ? origin : "");
        if (a->clear_refused.n)
            buf_printf(&msg, "\n%s were not tried: they would show the password in clear text. %s",
                       refused.data, hint);
        err_set(e, ERR_REPO, ERRK_AUTH, "%s", msg.data);
        buf_release(&msg);
    }
    buf_release(&refused);
}

bool imap_authenticate(struct imap_session *s, const struct imap_connect_opts *o, struct err *e)
{
    struct auth_run a = {.s = s, .o = o, .clear_refused = STRVEC_INIT};
    buf_init(&a.why, 64 * 1024);
    struct strvec mechs = STRVEC_INIT;
    strvec_split(&mechs, o->auth_mechanisms ? o->auth_mechanisms : IMAP_AUTH_DEFAULT_MECHS, ',',
                 true);
    enum conn_channel ch = conn_channel(imap_session_conn(s));
    bool clear = ch == CONN_CHANNEL_CLEAR && !o->allow_plaintext_auth;
    bool ok = false, broken = false;
    for (size_t i = 0; i < mechs.n && !ok && !broken; i++) {
        char *name = str_trim(mechs.v[i]);
        enum auth_mech m = auth_mech_by_name(name);
        if (m == AUTH_MECH_UNKNOWN) {
            log_debug(LOGC_IMAP, "Unknown authentication mechanism %s skipped", name);
            continue;
        }
        if (!supported(s, m))
            continue;
        if (m == AUTH_MECH_LOGIN && imap_session_has_cap(s, IMAP_CAP_LOGINDISABLED)) {
            a.tried = true;
            note_failure(&a, m, "IMAP LOGIN is disabled by server.  Need to use SSL?");
            continue;
        }
        if (clear && auth_mech_exposes_secret(m)) {
            log_debug(LOGC_IMAP, "%s not used: the connection to %s is not encrypted", name,
                      imap_session_desc(s));
            strvec_push(&a.clear_refused, auth_mech_name(m));
            continue;
        }
        enum try_result r;
        if (auth_mech_uses_token(m)) {
            r = with_token(&a, m, e);
        } else if (auth_mech_uses_password(m)) {
            a.tried = true;
            r = with_password(&a, m, e);
        } else {
            char *why = NULL;
            r = try_mech(s, o, m, NULL, &why, e);
            if (r == TRY_UNAVAILABLE) {
                log_debug(LOGC_IMAP, "%s skipped: %s", name, why ? why : "");
                buf_printf(&a.why, "\n\t%s: not possible: %s", name, why ? why : "");
            } else {
                a.tried = true;
                if (r == TRY_REJECTED)
                    note_failure(&a, m, why ? why : "refused");
            }
            free(why);
        }
        if (r == TRY_OK)
            ok = true;
        else if (r == TRY_BROKEN)
            broken = true;
    }
    if (ok) {
        if (a.password && o->auth.password_ok)
            o->auth.password_ok(o->auth.ctx, a.password);
    } else if (!broken) {
        final_message(&a, e);
    }
    auth_wipe_str(a.password);
    auth_wipe_str(a.token);
    strvec_free(&a.clear_refused);
    strvec_free(&mechs);
    buf_release(&a.why);
    return ok;
}
