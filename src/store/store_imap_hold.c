/*
 * Held connections of the IMAP store's pool: dropped after a failed sync or
 * when holdconnectionopen is off, pinged while the account sleeps
 * (keepalive) and before a sync uses them again, so a connection that died
 * unnoticed (a suspended laptop, a NAT that forgot it, a restarted server)
 * is replaced at once instead of costing a full socket timeout.
 */
#include "store/store_imap_internal.h"

#include "base/log.h"
#include "base/xalloc.h"
#include "net/conn.h"

#include <stdlib.h>
#include <time.h>

static int64_t ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Mark the held connections that match as busy; returns them (caller frees the array). */
static struct imap_slot **take_held(struct store_imap *st, int idle_ms, unsigned *n_r)
{
    struct imap_slot **v = xcalloc(st->n_slots, sizeof(*v));
    unsigned n = 0;
    pthread_mutex_lock(&st->lock);
    for (unsigned i = 0; i < st->n_slots; i++) {
        struct imap_slot *slot = &st->slots[i];
        if (slot->busy || !slot->session)
            continue;
        if (idle_ms > 0 && ms_since(&slot->released) < idle_ms)
            continue;
        slot->busy = true;
        v[n++] = slot;
    }
    pthread_mutex_unlock(&st->lock);
    *n_r = n;
    return v;
}

void store_imap_drop_connections(struct store *s)
{
    struct store_imap *st = (struct store_imap *)s;
    unsigned n;
    struct imap_slot **v = take_held(st, 0, &n);
    for (unsigned i = 0; i < n; i++) {
        imap_disconnect(&v[i]->session);
        free(v[i]->selected);
        v[i]->selected = NULL;
        store_imap_release(st, v[i]);
    }
    if (n)
        log_debug(LOGC_IMAP, "repository %s: closed %u held connection%s", s->name, n,
                  n == 1 ? "" : "s");
    free(v);
}

unsigned store_imap_ping(struct store *s, int idle_ms, int timeout_ms)
{
    struct store_imap *st = (struct store_imap *)s;
    unsigned n, dropped = 0;
    struct imap_slot **v = take_held(st, idle_ms, &n);
    /* Every NOOP goes out first, so the whole round costs one round trip. */
    for (unsigned i = 0; i < n; i++) {
        struct imap_session *ss = v[i]->session;
        struct err e = ERR_INIT;
        conn_set_timeout(imap_session_conn(ss), timeout_ms);
        if (imap_poll(ss, &e) && imap_send(ss, 0, NULL, NULL, &e, "NOOP"))
            imap_flush(ss, &e);
        err_clear(&e);
    }
    for (unsigned i = 0; i < n; i++) {
        struct imap_session *ss = v[i]->session;
        struct err e = ERR_INIT;
        if (!imap_wait_all(ss, &e)) {
            log_debug(LOGC_IMAP, "repository %s: a held connection is gone: %s", s->name, e.msg);
            dropped++;
        } else {
            conn_set_timeout(imap_session_conn(ss), st->o.conn.timeout_ms);
        }
        err_clear(&e);
        /* A dead session is closed by the release. */
        store_imap_release(st, v[i]);
    }
    free(v);
    return dropped;
}
