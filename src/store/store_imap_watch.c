/*
 * Push watchers (store_imap.h): a connection of its own per watcher, outside
 * the pool, so syncs never wait for it and it never holds a pool slot.
 *
 * With NOTIFY (RFC 5465) one connection watches every folder: NOTIFY SET
 * asks for MessageNew, MessageExpunge and FlagChange events on the folders,
 * none is selected, and the server reports a change in one of them as an
 * untagged STATUS naming it.  Without NOTIFY the watcher EXAMINEs its one
 * folder and any EXISTS, EXPUNGE, FETCH or VANISHED it hears is a change.
 * Either way the connection then sits in IDLE, re-issued (DONE, then IDLE
 * again) every refresh_ms, which is also the liveness check: a server that
 * does not answer DONE within the timeout is taken for gone.
 */
#include "store/store_imap_internal.h"

#include "base/log.h"
#include "base/xalloc.h"
#include "imap/imap_connect.h"
#include "net/conn.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct store_imap_watch {
    struct store_imap *st;
    struct imap_session *session;
    bool notify;
    struct strvec folders; /* names as given */
    struct strvec wire;    /* as sent, same order */
    bool *changed;         /* per folder, set by the untagged consumer */
    bool armed;            /* IDLE has started once: EXISTS now means a change */
    int64_t idle_since_ms;
    int refresh_ms;
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void watch_untagged(void *ctx, const struct imap_resp *r)
{
    struct store_imap_watch *w = ctx;
    enum imap_data kind = imap_resp_data(r);
    if (w->notify) {
        if (kind != IMAP_DATA_STATUS)
            return;
        struct imap_status_resp sr;
        struct err e = ERR_INIT;
        if (!imap_decode_status(r, &sr, &e)) {
            err_clear(&e);
            return;
        }
        for (size_t i = 0; i < w->wire.n; i++)
            if (!strcmp(w->wire.v[i], sr.name))
                w->changed[i] = true;
        return;
    }
    if (!w->armed)
        return;
    if (kind == IMAP_DATA_EXISTS || kind == IMAP_DATA_EXPUNGE || kind == IMAP_DATA_FETCH ||
        kind == IMAP_DATA_VANISHED)
        w->changed[0] = true;
}

static bool idle_start(struct store_imap_watch *w, struct err *e)
{
    bool refused = false;
    if (!imap_idle_begin(w->session, &refused, e))
        return false;
    if (refused) {
        err_prefix(e, "repository %s: ", w->st->base.name);
        return false;
    }
    w->armed = true;
    w->idle_since_ms = now_ms();
    return true;
}

/* The NOTIFY SET command for every folder. */
static bool notify_set(struct store_imap_watch *w, struct err *e)
{
    struct imap_cmd c;
    imap_session_cmd_init(w->session, &c);
    imap_cmd_add_raw(&c, "NOTIFY SET (mailboxes (");
    for (size_t i = 0; i < w->wire.n; i++) {
        if (i)
            imap_cmd_add_raw(&c, " ");
        imap_cmd_add_astring(&c, w->wire.v[i], strlen(w->wire.v[i]));
    }
    imap_cmd_add_raw(&c, ") (MessageNew MessageExpunge FlagChange))");
    struct imap_result res = {0};
    bool ok = imap_cmd_finish(&c, e) && imap_command_cmd(w->session, 0, &res, &c, e);
    imap_cmd_release(&c);
    imap_result_release(&res);
    return ok;
}

bool store_imap_watch_open(struct store *s, const char *const *folders, size_t n, bool allow_notify,
                           int refresh_ms, struct store_imap_watch **w_r, size_t *covered_r,
                           struct err *e)
{
    struct store_imap *st = (struct store_imap *)s;
    *w_r = NULL;
    *covered_r = 0;
    if (n == 0) {
        err_set(e, ERR_REPO, ERRK_GENERIC, "internal error: a watcher with no folder");
        return false;
    }
    struct store_imap_watch *w = xcalloc(1, sizeof(*w));
    w->st = st;
    w->refresh_ms = refresh_ms;
    if (!imap_connect(&st->o.conn, &w->session, e)) {
        err_prefix(e, "repository %s: ", s->name);
        free(w);
        return false;
    }
    if (!imap_session_has_cap(w->session, IMAP_CAP_IDLE)) {
        err_set(e, ERR_REPO, ERRK_PROTOCOL,
                "repository %s: server %s does not support IDLE; idlefolders are synced at "
                "each autorefresh only",
                s->name, imap_session_desc(w->session));
        imap_disconnect(&w->session);
        free(w);
        return false;
    }
    w->notify = allow_notify && imap_session_has_cap(w->session, IMAP_CAP_NOTIFY);
    size_t take = w->notify ? n : 1;
    struct buf tmp;
    buf_init(&tmp, 64 * 1024);
    for (size_t i = 0; i < take; i++) {
        strvec_push(&w->folders, folders[i]);
        strvec_push(&w->wire, store_imap_wire_name(st, folders[i], &tmp));
    }
    buf_release(&tmp);
    w->changed = xcalloc(take, sizeof(*w->changed));
    imap_session_set_untagged(w->session, watch_untagged, w);
    bool ok;
    if (w->notify) {
        ok = notify_set(w, e);
    } else {
        struct imap_result res = {0};
        ok = store_imap_name_command(st, w->session, &res, "EXAMINE", folders[0], "", e);
        imap_result_release(&res);
    }
    ok = ok && idle_start(w, e);
    if (!ok) {
        err_prefix(e, "repository %s: cannot watch %s: ", s->name,
                   w->notify ? "its folders" : folders[0]);
        store_imap_watch_close(&w);
        return false;
    }
    log_debug(LOGC_IMAP, "repository %s: watching %zu folder%s with %s", s->name, take,
              take == 1 ? "" : "s", w->notify ? "NOTIFY" : "IDLE");
    *w_r = w;
    *covered_r = take;
    return true;
}

bool store_imap_watch_uses_notify(const struct store_imap_watch *w)
{
    return w->notify;
}

int store_imap_watch_fd(struct store_imap_watch *w)
{
    return imap_session_fd(w->session);
}

int store_imap_watch_timeout(const struct store_imap_watch *w)
{
    int64_t left = w->idle_since_ms + w->refresh_ms - now_ms();
    return left < 0 ? 0 : left > 3600000 ? 3600000 : (int)left;
}

/* DONE, wait for the OK at most timeout_ms, IDLE again. */
static bool reissue(struct store_imap_watch *w, int timeout_ms, struct err *e)
{
    struct conn *c = imap_session_conn(w->session);
    conn_set_timeout(c, timeout_ms);
    bool ok = imap_idle_end(w->session, e);
    conn_set_timeout(c, w->st->o.conn.timeout_ms);
    return ok && idle_start(w, e);
}

bool store_imap_watch_step(struct store_imap_watch *w, int ping_timeout_ms, struct strvec *changed,
                           struct err *e)
{
    bool ok = imap_poll(w->session, e);
    if (ok && !imap_idle_active(w->session)) {
        err_set(e, ERR_REPO, ERRK_PROTOCOL, "server %s ended IDLE on its own",
                imap_session_desc(w->session));
        ok = false;
    }
    if (ok && now_ms() - w->idle_since_ms >= w->refresh_ms)
        ok = reissue(w, ping_timeout_ms, e);
    for (size_t i = 0; i < w->folders.n; i++) {
        if (w->changed[i] && !strvec_contains(changed, w->folders.v[i]))
            strvec_push(changed, w->folders.v[i]);
        w->changed[i] = false;
    }
    if (!ok)
        err_prefix(e, "repository %s: watching %s: ", w->st->base.name,
                   w->notify ? "its folders" : w->folders.v[0]);
    return ok;
}

const struct strvec *store_imap_watch_folders(const struct store_imap_watch *w)
{
    return &w->folders;
}

void store_imap_watch_close(struct store_imap_watch **wp)
{
    struct store_imap_watch *w = *wp;
    if (!w)
        return;
    *wp = NULL;
    if (w->session && !imap_session_dead(w->session) && imap_idle_active(w->session)) {
        struct err e = ERR_INIT;
        conn_set_timeout(imap_session_conn(w->session), 2000);
        imap_idle_end(w->session, &e);
        err_clear(&e);
    }
    if (w->session) {
        imap_session_set_untagged(w->session, NULL, NULL);
        imap_disconnect(&w->session);
    }
    strvec_free(&w->folders);
    strvec_free(&w->wire);
    free(w->changed);
    free(w);
}
