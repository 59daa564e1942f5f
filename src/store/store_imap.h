/*
 * store_imap: the repository interface over IMAP.
 *
 * Each open folder gets its own connection from a pool of up to
 * max_connections logged-in sessions, so folders sync in parallel.  Within a
 * folder nothing waits per message: the message list is one UID FETCH, bodies
 * come in pipelined UID FETCH commands streamed straight to the sink, flag
 * changes are one UID STORE per flag and set of UIDs, and APPENDs are
 * pipelined (with LITERAL+ when offered).
 *
 * Folder names are used as the server sends them (modified UTF-7 on the
 * wire), as offlineimap does without utf8foldernames; with it (utf8_names)
 * they are decoded to UTF-8 when listed and encoded back in every command.
 */
#ifndef STORE_IMAP_H
#define STORE_IMAP_H

#include "imap/imap_connect.h"
#include "store/store.h"

#include <stdbool.h>

struct store_imap_opts {
    const char *repo_name;
    struct imap_connect_opts conn;
    unsigned max_connections; /* at least 1 */
    const char *reference;    /* LIST reference and prefix of created folders */
    bool subscribed_only;     /* LSUB instead of LIST */
    bool expunge;             /* expunge after marking \Deleted */
    bool utf8_names;          /* utf8foldernames: names in UTF-8, modified UTF-7 on the wire */
    int retry_count;          /* reconnects for a body fetch after the connection drops */
    /* customflag_[a-z]: keyword for each lower-case letter, or NULL */
    const char *keywords[26];
};

struct store *store_imap_new(const struct store_imap_opts *o);

/*
 * For --info: the server's greeting line and its capabilities after login, as
 * it writes them, from a connection of s's pool (connecting if needed).
 */
bool store_imap_server_info(struct store *s, char **greeting_r, struct strvec *caps_r,
                            struct err *e);
/* The host, port and implicit TLS setting s connects with (borrowed strings). */
void store_imap_endpoint(struct store *s, const char **host_r, int *port_r, bool *ssl_r);

/*
 * Connections held between syncs (holdconnectionopen, keepalive; see
 * store_imap_hold.c).  store_imap_drop_connections() logs out of every
 * connection not in use; the next operation connects again.
 * store_imap_ping() sends NOOP on every held connection unused for at least
 * idle_ms, waits at most timeout_ms for the answers, and closes those that
 * did not answer (or that the server closed meanwhile); it returns how many
 * it closed.  Both are safe while other threads use the store.
 */
bool store_imap_is(const struct store *s);
void store_imap_drop_connections(struct store *s);
unsigned store_imap_ping(struct store *s, int idle_ms, int timeout_ms);

/*
 * Push (idlefolders; store_imap_watch.c).  A watcher is a connection of its
 * own that sits in IDLE.  store_imap_watch_open() connects and watches, with
 * NOTIFY (RFC 5465) when allow_notify and the server offers it, all n
 * folders, else the first one with IDLE; *covered_r says how many of the
 * folders it took.  Its fd becomes readable when the server says something:
 * then (or when store_imap_watch_timeout() ms have passed) call
 * store_imap_watch_step(), which reads what came, re-issues IDLE every
 * refresh_ms (checking that the server answers DONE within ping_timeout_ms)
 * and adds the folders that changed to *changed (names as given, once).  It
 * returns false when the connection is no longer usable: close it and open
 * another later.  One thread uses a watcher; other threads may use the store.
 */
struct store_imap_watch;
bool store_imap_watch_open(struct store *s, const char *const *folders, size_t n, bool allow_notify,
                           int refresh_ms, struct store_imap_watch **w_r, size_t *covered_r,
                           struct err *e);
int store_imap_watch_fd(struct store_imap_watch *w);
int store_imap_watch_timeout(const struct store_imap_watch *w);
bool store_imap_watch_step(struct store_imap_watch *w, int ping_timeout_ms,
                           struct strvec *changed, struct err *e);
bool store_imap_watch_uses_notify(const struct store_imap_watch *w);
const struct strvec *store_imap_watch_folders(const struct store_imap_watch *w);
void store_imap_watch_close(struct store_imap_watch **w);

#endif
