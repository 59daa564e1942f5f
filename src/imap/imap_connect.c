#include "imap/imap_connect.h"

#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "imap/imap_auth.h"
#include "imap/imap_cmd.h"
#include "imap/imap_session.h"
#include "net/conn_proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *server_desc(const struct imap_connect_opts *o)
{
    if (o->preauth_tunnel)
        return xasprintf("preauth tunnel '%s'", o->preauth_tunnel);
    if (o->transport_tunnel)
        return xasprintf("tunnel '%s'", o->transport_tunnel);
    bool v6 = strchr(o->host, ':') != NULL;
    char *hp = xasprintf("%s%s%s:%d", v6 ? "[" : "", o->host, v6 ? "]" : "", o->port);
    if (o->proxy.type == CONN_PROXY_NONE)
        return hp;
    char *d = xasprintf("%s via %s proxy %s:%d", hp, conn_proxy_type_name(o->proxy.type),
                        o->proxy.host, o->proxy.port);
    free(hp);
    return d;
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

bool imap_connect(const struct imap_connect_opts *o, struct imap_session **s_r, struct err *e)
{
    char *desc = server_desc(o);
    struct conn *c = NULL;
    bool ok;
    if (o->preauth_tunnel)
        ok = conn_open_tunnel(o->preauth_tunnel, o->timeout_ms, &c, e);
    else if (o->transport_tunnel)
        ok = conn_open_tunnel(o->transport_tunnel, o->timeout_ms, &c, e);
    else if (o->proxy.type != CONN_PROXY_NONE)
        ok = conn_open_proxied(&o->proxy, o->host, o->port, o->timeout_ms, &c, e);
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
        if (!imap_authenticate(s, o, e))
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

static void logout_done(void *ctx, const struct imap_resp *r, const struct err *e) {}

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
