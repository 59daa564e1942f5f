/*
 * store_imap_info: what --info shows about an IMAP server, read over a
 * connection of the store's pool.
 */
#include "store/store_imap_internal.h"

#include "base/xalloc.h"

#include <stdlib.h>

bool store_imap_server_info(struct store *s, char **greeting_r, struct strvec *caps_r,
                            struct err *e)
{
    struct store_imap *st = (struct store_imap *)s;
    struct imap_slot *slot = NULL;
    *greeting_r = NULL;
    if (!store_imap_acquire(st, &slot, e))
        return false;
    const char *g = imap_session_greeting_line(slot->session);
    *greeting_r = xstrdup(g ? g : "");
    /* Ask again: the list after login is the one that counts. */
    bool ok = imap_command(slot->session, 0, NULL, e, "CAPABILITY");
    if (ok) {
        const struct strvec *names = &imap_session_caps(slot->session)->names;
        for (size_t i = 0; i < names->n; i++)
            strvec_push(caps_r, names->v[i]);
    }
    store_imap_release(st, slot);
    if (!ok)
        XFREE(*greeting_r);
    return ok;
}

void store_imap_endpoint(struct store *s, const char **host_r, int *port_r, bool *ssl_r)
{
    struct store_imap *st = (struct store_imap *)s;
    *host_r = st->o.conn.host;
    *port_r = st->o.conn.port;
    *ssl_r = st->o.conn.ssl;
}
