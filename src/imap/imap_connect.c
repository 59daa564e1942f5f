#include "imap/imap_connect.h"

#include "base/base64.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "imap/imap_cmd.h"
#include "imap/imap_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MECHS "GSSAPI, XOAUTH2, CRAM-MD5, PLAIN, LOGIN"

static char *server_desc(const struct imap_connect_opts *o)
{
    if (o->preauth_tunnel)
        return xasprintf("preauth tunnel '%s'", o->preauth_tunnel);
    if (o->transport_tunnel)
        return xasprintf("tunnel '%s'", o->transport_tunnel);
    return xasprintf("%s:%d", o->host, o->port);
}

static bool refresh_caps(struct imap_session *s, struct err *e)
{
    if (imap_session_caps_known(s))
        return true;
    if (!imap_command(s, 0, NULL, e, "CAPABILITY"))
        return false;
    if (!imap_session_caps_known(s)) {
        err_set(e, ERR_REPO, ERRK_PROTOCOL, "server %s did not list its capabilities",
                imap_session_desc(s));
        return false;
    }
    return true;
}

static bool do_starttls(struct imap_session *s, const struct imap_connect_opts *o, struct err *e)
{
    imap_session_expect_layer_change(s);
    if (!imap_command(s, 0, NULL, e, "STARTTLS")) {
        e->scope = ERR_REPO;
        return false;
    }
    if (!conn_start_tls(imap_session_conn(s), &o->tls, e))
        return false;
    /* Capabilities seen before TLS must not be trusted (RFC 3501 6.2.1). */
    imap_session_clear_caps(s);
    return refresh_caps(s, e);
}

/* ---- mechanisms ---------------------------------------------------------- */

struct auth_ctx {
    const struct imap_connect_opts *o;
    const char *password;
    int step;
};

static bool plain_cont(void *ctx, const char *text, char **line_r)
{
    struct auth_ctx *a = ctx;
    if (a->step++ > 0)
        return false;
    const char *authz = a->o->identity ? a->o->identity : "";
    const char *user = a->o->user ? a->o->user : "";
    size_t la = strlen(authz), lu = strlen(user), lp = strlen(a->password);
    char *msg = xmalloc(la + lu + lp + 2);
    memcpy(msg, authz, la);
    msg[la] = '\0';
    memcpy(msg + la + 1, user, lu);
    msg[la + 1 + lu] = '\0';
    memcpy(msg + la + lu + 2, a->password, lp);
    *line_r = base64_encode(msg, la + lu + lp + 2);
    memset(msg, 0, la + lu + lp + 2);
    free(msg);
    return true;
}

static bool cram_cont(void *ctx, const char *text, char **line_r)
{
    struct auth_ctx *a = ctx;
    if (a->step++ > 0)
        return false;
    unsigned char *challenge;
    size_t clen;
    if (!base64_decode(text, strlen(text), &challenge, &clen))
        return false;
    char hex[33];
    hash_hmac_md5_hex(a->password, strlen(a->password), challenge, clen, hex);
    free(challenge);
    char *resp = xasprintf("%s %s", a->o->user ? a->o->user : "", hex);
    *line_r = base64_encode(resp, strlen(resp));
    free(resp);
    return true;
}

struct auth_result {
    bool done;
    bool ok;
    char *text;
};

static void auth_done(void *ctx, const struct imap_resp *r, const struct err *e)
{
    struct auth_result *res = ctx;
    res->done = true;
    res->ok = r && r->status == IMAP_STATUS_OK;
    free(res->text);
    res->text = xstrdup(r ? (r->text ? r->text : "") : (e && e->msg ? e->msg : "?"));
}

enum auth_outcome { AUTH_OK, AUTH_REJECTED, AUTH_BROKEN };

static enum auth_outcome try_mech(struct imap_session *s, const struct imap_connect_opts *o,
                                  const char *mech, const char *password, struct buf *why,
                                  struct err *e)
{
    struct auth_ctx a = {o, password, 0};
    struct auth_result res = {0};
    bool sent;
    if (!strcasecmp(mech, "LOGIN")) {
        struct imap_cmd cmd;
        imap_session_cmd_init(s, &cmd);
        const char *user = o->user ? o->user : "";
        imap_cmd_add_raw(&cmd, "LOGIN ");
        imap_cmd_add_astring(&cmd, user, strlen(user));
        imap_cmd_add_raw(&cmd, " ");
        imap_cmd_add_astring(&cmd, password, strlen(password));
        struct imap_result r = {0};
        sent = imap_cmd_finish(&cmd, e) &&
               imap_command_cmd(s, IMAP_SEND_SECRET, &r, &cmd, e);
        if (cmd.text.len)
            memset(cmd.text.data, 0, cmd.text.len);
        imap_cmd_release(&cmd);
        res.done = true;
        res.ok = sent;
        res.text = xstrdup(r.text ? r.text : (e->msg ? e->msg : ""));
        imap_result_release(&r);
        if (!sent && !imap_session_dead(s)) {
            err_clear(e);
            sent = true;
        }
    } else if (!strcasecmp(mech, "PLAIN")) {
        if (imap_session_has_cap(s, IMAP_CAP_SASL_IR)) {
            char *line = NULL;
            plain_cont(&a, "", &line);
            struct imap_result r = {0};
            sent = imap_command(s, IMAP_SEND_SECRET, &r, e, "AUTHENTICATE PLAIN %s", line);
            free(line);
            res.done = true;
            res.ok = sent;
            res.text = xstrdup(r.text ? r.text : (e->msg ? e->msg : ""));
            imap_result_release(&r);
            if (!sent && !imap_session_dead(s)) {
                err_clear(e);
                sent = true;
            }
        } else {
            sent = imap_send_cont(s, 0, plain_cont, &a, auth_done, &res, e,
                                  "AUTHENTICATE PLAIN");
        }
    } else if (!strcasecmp(mech, "CRAM-MD5")) {
        sent = imap_send_cont(s, 0, cram_cont, &a, auth_done, &res, e, "AUTHENTICATE CRAM-MD5");
    } else {
        free(res.text);
        return AUTH_BROKEN;
    }
    if (!sent || imap_session_dead(s)) {
        free(res.text);
        return AUTH_BROKEN;
    }
    enum auth_outcome out = res.ok ? AUTH_OK : AUTH_REJECTED;
    if (!res.ok) {
        log_warn("%s authentication failed: %s", mech, res.text ? res.text : "");
        buf_printf(why, "\n\t%s: %s", mech, res.text ? res.text : "");
    }
    free(res.text);
    return out;
}

static bool mech_supported(struct imap_session *s, const char *mech)
{
    if (!strcasecmp(mech, "LOGIN"))
        return !imap_session_has_cap(s, IMAP_CAP_LOGINDISABLED);
    if (!strcasecmp(mech, "PLAIN") || !strcasecmp(mech, "CRAM-MD5"))
        return imap_caps_has_auth(imap_session_caps(s), mech);
    return false; /* GSSAPI, XOAUTH2, ...: not built yet */
}

static bool authenticate(struct imap_session *s, const struct imap_connect_opts *o, struct err *e)
{
    struct strvec mechs = STRVEC_INIT;
    strvec_split(&mechs, o->auth_mechanisms ? o->auth_mechanisms : DEFAULT_MECHS, ',', true);
    struct buf why;
    buf_init(&why, 64 * 1024);
    char *password = NULL;
    bool tried = false, ok = false, retried = false;
    for (size_t i = 0; i < mechs.n && !ok; i++) {
        const char *mech = mechs.v[i];
        if (!mech_supported(s, mech))
            continue;
        if (!password && !o->password(o->password_ctx, false, &password, e))
            goto out;
        tried = true;
        enum auth_outcome r = try_mech(s, o, mech, password, &why, e);
        if (r == AUTH_BROKEN)
            goto out;
        if (r == AUTH_OK) {
            ok = true;
            break;
        }
        /* A rejected password is asked for again once (prompting UIs only). */
        if (!retried) {
            retried = true;
            char *again = NULL;
            struct err pe = ERR_INIT;
            if (o->password(o->password_ctx, true, &again, &pe) && again &&
                strcmp(again, password) != 0) {
                free(password);
                password = again;
                i--;
                continue;
            }
            free(again);
            err_clear(&pe);
        }
    }
    if (!ok) {
        if (!tried) {
            struct buf adv;
            buf_init(&adv, 4096);
            const struct imap_caps *caps = imap_session_caps(s);
            for (size_t i = 0; i < caps->auth.n; i++)
                buf_printf(&adv, "%s%s", i ? ", " : "", caps->auth.v[i]);
            err_set(e, ERR_REPO, ERRK_AUTH,
                    "no supported authentication mechanisms found; configured %s, server "
                    "%s advertises %s%s",
                    o->auth_mechanisms ? o->auth_mechanisms : DEFAULT_MECHS,
                    imap_session_desc(s), adv.len ? adv.data : "none",
                    imap_session_has_cap(s, IMAP_CAP_LOGINDISABLED)
                        ? " (and LOGIN is disabled: IMAP LOGIN is disabled by server. Need to "
                          "use SSL?)"
                        : "");
            buf_release(&adv);
        } else {
            err_set(e, ERR_REPO, ERRK_AUTH, "All authentication types failed:%s", why.data);
        }
    }
out:
    if (password) {
        memset(password, 0, strlen(password));
        free(password);
    }
    buf_release(&why);
    strvec_free(&mechs);
    return ok;
}

bool imap_connect(const struct imap_connect_opts *o, struct imap_session **s_r, struct err *e)
{
    char *desc = server_desc(o);
    struct conn *c = NULL;
    bool ok;
    if (o->preauth_tunnel)
        ok = conn_open_tunnel(o->preauth_tunnel, o->timeout_ms, &c, e);
    else if (o->transport_tunnel)
        ok = conn_open_tunnel(o->transport_tunnel, o->timeout_ms, &c, e);
    else
        ok = conn_open_tcp(o->host, o->port, o->family, o->timeout_ms, &c, e);
    if (ok && o->ssl && !o->preauth_tunnel)
        ok = conn_start_tls(c, &o->tls, e);
    if (!ok) {
        conn_close(&c);
        free(desc);
        return false;
    }
    struct imap_session *s = imap_session_new(c, desc);
    free(desc);
    bool preauth = false;
    if (!imap_session_greeting(s, &preauth, e) || !refresh_caps(s, e))
        goto fail;
    if (!preauth && !o->ssl && o->starttls && imap_session_has_cap(s, IMAP_CAP_STARTTLS)) {
        if (!do_starttls(s, o, e))
            goto fail;
    }
    if (!preauth) {
        if (!authenticate(s, o, e))
            goto fail;
        /* The login answer usually carries the new capabilities; ask if not. */
        if (!imap_session_caps_known(s) && !refresh_caps(s, e))
            goto fail;
    }
    if (o->compress && imap_session_has_cap(s, IMAP_CAP_COMPRESS_DEFLATE)) {
        imap_session_expect_layer_change(s);
        if (!imap_command(s, 0, NULL, e, "COMPRESS DEFLATE") ||
            !conn_start_deflate(imap_session_conn(s), e))
            goto fail;
    }
    /*
     * Modification sequences make a sync of an unchanged folder cost nothing
     * (RFC 7162).  ENABLE is pipelined: its answer is read with the next one.
     */
    if (imap_session_has_cap(s, IMAP_CAP_ENABLE)) {
        const char *what = imap_session_has_cap(s, IMAP_CAP_QRESYNC)     ? "QRESYNC"
                           : imap_session_has_cap(s, IMAP_CAP_CONDSTORE) ? "CONDSTORE"
                                                                         : NULL;
        if (what && !imap_send(s, 0, NULL, NULL, e, "ENABLE %s", what))
            goto fail;
    }
    *s_r = s;
    return true;
fail:
    if (e->scope != ERR_CRITICAL)
        e->scope = ERR_REPO;
    imap_session_free(&s);
    return false;
}

static void logout_done(void *ctx, const struct imap_resp *r, const struct err *e)
{
}

void imap_disconnect(struct imap_session **sp)
{
    struct imap_session *s = *sp;
    if (!s)
        return;
    if (!imap_session_dead(s)) {
        /*
         * Say goodbye without waiting for the answer: nothing depends on it,
         * and on a slow link the wait is a whole round trip per connection.
         */
        struct err e = ERR_INIT;
        conn_set_timeout(imap_session_conn(s), 2000);
        if (imap_send(s, 0, logout_done, NULL, &e, "LOGOUT"))
            imap_flush(s, &e);
        err_clear(&e);
    }
    imap_session_free(sp);
}
