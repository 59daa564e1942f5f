/*
 * store_imapmap: an IMAP store used as the local side, through a UID map.
 *
 * offlineimap's MappedIMAPFolder (folder/UIDMaps.py): the sync engine and the
 * status database know messages by the remote side's UIDs, while the local
 * IMAP server gives its own.  This store wraps an IMAP store and shows each
 * local message with the remote UID its map gives (imapmap.h; 0 for a local
 * message not in the map, which the engine uploads as new) and with its own
 * local UID as the key.  Every per-message operation goes to the IMAP store by
 * local UID.
 *
 * Saving a message (a download) records the pair local UID : remote UID when
 * the APPEND is answered; set_uid (after an upload) records the pair of a
 * local message.  The map file is written by sync_meta(), which the engine
 * calls before each status commit, and when the folder is closed; never in a
 * dry run.  As the APPEND is durable before the map is, the store asks the
 * engine to journal downloads (store_ops.journal_downloads), so that a run
 * killed in between recognises the stored copy instead of storing it again.
 *
 * Map entries of local messages that are gone are dropped when the folder is
 * listed in full, as offlineimap's cachemessagelist() does.
 */
#ifndef STORE_STORE_IMAPMAP_H
#define STORE_STORE_IMAPMAP_H

#include "store/store.h"

#include <stdbool.h>

struct store_imapmap_opts {
    /* The local repository's IMAP store; the new store owns it. */
    struct store *inner;
    /*
     * The map file of a folder (its name on the local server; sep is the
     * server's hierarchy separator, '\0' if not known): an xmalloc'd path, or
     * NULL with e set.
     */
    char *(*map_path)(void *ctx, const char *folder, char sep, struct err *e);
    void *map_ctx;
    bool dry_run; /* never write a map file */
};

struct store *store_imapmap_new(const struct store_imapmap_opts *o);
bool store_imapmap_is(const struct store *s);
/* The wrapped IMAP store (for connection handling between syncs). */
struct store *store_imapmap_inner(struct store *s);

#endif
