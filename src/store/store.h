/*
 * store: the repository interface the sync engine sees.
 *
 * A store is one side of an account: an IMAP server or a Maildir tree (later
 * Gmail variants).  The sync engine includes this header and nothing from
 * imap/ or the Maildir code, so any pair of stores can be synced.
 *
 * Ownership and threads: a struct store belongs to one account.  Folder
 * handles (struct store_folder) are opened and used by one thread at a time;
 * different folders of one store may be used from different threads at once
 * (the IMAP store hands each open folder its own connection from a pool of
 * maxconnections).
 *
 * Messages cross stores in wire form: CRLF line endings, exact bytes.  The
 * Maildir store converts CRLF to LF when writing and LF to CRLF when reading;
 * it reports the wire size (file size plus one per bare LF) before sending.
 *
 * Errors: every call returns false and fills an err whose scope says what is
 * spoiled (ERR_MSG: that message only; ERR_FOLDER: this folder; ERR_REPO: the
 * whole store).
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include "base/buf.h"
#include "base/err.h"
#include "base/uidset.h"
#include "store/flags.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;
struct store_folder;

/* A folder as a store lists it. */
/* A folder's counters as the server reports them without opening it (STATUS). */
struct store_folder_status {
    uint32_t uidvalidity;
    uint32_t uidnext;
    uint32_t messages;
    uint64_t highestmodseq; /* 0 without CONDSTORE */
};

struct store_folder_entry {
    char *name;     /* native name, with the store's own separator */
    bool noselect;  /* exists only as a parent */
    bool has_status; /* status below came with the listing (want_counters) */
    struct store_folder_status status;
};

struct store_folder_list {
    struct store_folder_entry *v;
    size_t n;
    size_t cap;
    char sep; /* the store's hierarchy separator, '\0' if flat */
};

void store_folder_list_free(struct store_folder_list *l);

/* State of an open folder. */
struct store_folder_info {
    uint32_t uidvalidity;    /* 0 if the store has none (Maildir) */
    uint32_t uidnext;        /* 0 if unknown */
    uint64_t highestmodseq;  /* 0 if unknown or no CONDSTORE */
    uint32_t exists;         /* message count; 0 if unknown */
    bool readonly;           /* the folder cannot be changed (EXAMINE, READ-ONLY) */
};



/*
 * One message as listed.  uid is the remote UID the message is known by: the
 * IMAP UID, or for Maildir the U= number in the file name (0 for a message
 * the store has not seen synced yet, e.g. a file dropped into new/).
 * key is the store's private handle for the message (an index); it stays
 * valid until the folder is closed.
 */
struct store_msg {
    uint32_t uid;
    uint32_t key;
    flagset_t flags;
    uint64_t size;  /* bytes as stored; 0 if not listed */
    int64_t date;   /* INTERNALDATE or file time; 0 if not listed */
};

/* A message's UID and flags as a caller last saw them (open_folder_diff). */
struct store_uidflags {
    uint32_t uid;
    flagset_t flags;
};

/* Binary search by uid in v (sorted by uid); NULL if absent. */
const struct store_uidflags *store_uidflags_find(const struct store_uidflags *v, size_t n,
                                                 uint32_t uid);

struct store_msg_list {
    struct store_msg *v;
    size_t n;
    size_t cap;
};

void store_msg_list_push(struct store_msg_list *l, const struct store_msg *m);
void store_msg_list_free(struct store_msg_list *l);
/* Sort by uid (uid 0 last, then by key). */
void store_msg_list_sort(struct store_msg_list *l);
/* Binary search by uid in a sorted list; NULL if absent. */
const struct store_msg *store_msg_list_find(const struct store_msg_list *l, uint32_t uid);

/*
 * What changed in a folder since a modification sequence (CONDSTORE,
 * RFC 7162): the messages whose flags changed or that are new, and either the
 * UIDs that vanished (QRESYNC) or the complete set of UIDs (from which the
 * caller works out what vanished).
 */
struct store_changes {
    struct store_msg_list changed;
    bool have_vanished;
    struct uidvec vanished;
    bool have_all;
    struct uidvec all;
};

void store_changes_free(struct store_changes *c);

/* What to list. */
struct store_list_opts {
    bool want_size;      /* fill size */
    bool want_date;      /* fill date */
    uint64_t max_size;   /* skip larger messages (maxsize); 0 = no limit */
    int64_t min_date;    /* skip older messages (maxage); 0 = no limit */
    uint32_t min_uid;    /* list only uid >= min_uid (startdate/maxage); 0 = all */
};

/*
 * Receives messages pushed by store_fetch().  begin() is called when a
 * message's bytes start (meta may be incomplete: flags or date may come only
 * at the end), write() with the bytes in order, end() with the final meta.
 * After a successful begin(), exactly one of end() or abort() follows (abort
 * also after a failed write()).  An ERR_MSG error, from the source or from
 * the sink itself, goes to msg_error() and the fetch goes on; a wider error
 * stops it.
 */
struct store_sink {
    bool (*begin)(void *ctx, const struct store_msg *meta, uint64_t wire_size, struct err *e);
    bool (*write)(void *ctx, const void *data, size_t len, struct err *e);
    bool (*end)(void *ctx, const struct store_msg *meta, struct err *e);
    void (*abort)(void *ctx);
    /* A message the source could not deliver (ERR_MSG); the fetch goes on. */
    void (*msg_error)(void *ctx, const struct store_msg *meta, const struct err *e);
    void *ctx;
};

/*
 * Called when a saved message is durable in the destination.  new_uid is the
 * UID the destination gave it (IMAP APPENDUID; 0 if unknown), or for a Maildir
 * destination the uid it was saved under.  e is set if the save failed.
 */
typedef void store_saved_fn(void *ctx, uint64_t token, uint32_t new_uid, const struct err *e);

struct store_writer;

/*
 * A store may put a marker header of exactly this many bytes in front of an
 * uploaded message (IMAP without UIDPLUS: "X-OfflineIMAP: <19 chars>" CRLF),
 * so the copy on the server can be that much larger than the local file.
 */
#define STORE_UPLOAD_MARK_LEN 36

/* What msg_info() finds out about a message. */
struct store_msg_info {
    bool ok;             /* false if the message could not be read (it is skipped) */
    uint64_t wire_size;  /* bytes in wire form (CRLF line ends) */
    int64_t date;        /* INTERNALDATE, or the file's mtime */
    char *message_id;    /* "<...>" from the Message-ID field, xmalloc'd; NULL if none */
};

void store_msg_info_release(struct store_msg_info *v, size_t n);

struct store_watch;

struct store_ops {
    const char *type_name; /* "IMAP", "Maildir": shown in messages */

    /* Connect and log in (IMAP); check the root exists (Maildir). */
    bool (*connect)(struct store *s, struct err *e);
    bool (*list_folders)(struct store *s, struct store_folder_list *out, struct err *e);
    /*
     * Optional: the next list_folders also gives the folders' counters
     * (has_status) where the store can tell them.  names are the folders the
     * caller expects to be listed (those of its last run): a store that asks
     * for counters folder by folder (IMAP: STATUS) asks for these with the
     * list, in the same round trip, and for other listed folders after it.
     */
    void (*want_counters)(struct store *s, const char *const *names, size_t n);
    bool (*create_folder)(struct store *s, const char *name, struct err *e);
    bool (*delete_folder)(struct store *s, const char *name, struct err *e);

    bool (*open_folder)(struct store *s, const char *name, bool for_write, struct store_folder **f_r,
                        struct err *e);
    /*
     * Optional: open_folder, but the folder knows only its messages whose
     * UID is in uids (sorted, no duplicates): listing, flag changes and
     * deletions see those alone, and saving works as usual.  For a folder
     * the caller knows unchanged since its last sync, so that a few changes
     * cost no reading of every message's entry into memory.
     */
    bool (*open_folder_uids)(struct store *s, const char *name, bool for_write,
                             const struct uidvec *uids, struct store_folder **f_r, struct err *e);
    /*
     * Optional: open_folder, but the folder knows only the messages that
     * differ from base (sorted by UID, no duplicates: each message's UID and
     * flags as the caller last saw the folder): a file without UID, of a UID
     * not in base, with other flags, or of a UID in also (sorted; may be
     * NULL).  The base UIDs no file carries are pushed to missing (sorted).
     * *twice_r: a base UID is on two files, of which one may not be known;
     * the caller then opens the folder in full.
     */
    bool (*open_folder_diff)(struct store *s, const char *name, bool for_write,
                             const struct store_uidflags *base, size_t nbase,
                             const struct uidvec *also, struct store_folder **f_r,
                             struct uidvec *missing, bool *twice_r, struct err *e);
    void (*close_folder)(struct store_folder **f);
    const struct store_folder_info *(*folder_info)(struct store_folder *f);

    bool (*list_msgs)(struct store_folder *f, const struct store_list_opts *opts,
                      struct store_msg_list *out, struct err *e);
    /*
     * Optional (NULL when the store cannot): what changed since modseq.  Only
     * meaningful when the folder's info has a highestmodseq.
     */
    bool (*list_changes)(struct store_folder *f, const struct store_list_opts *opts,
                         uint64_t since_modseq, struct store_changes *out, struct err *e);
    /*
     * Optional: open_folder and list_changes in one exchange (the IMAP store
     * pipelines them, saving a round trip).  *have_r is false when the
     * changes could not be listed (then list as usual); ch is filled only
     * then, and is of use only if the folder's UIDVALIDITY is the one the
     * caller knew.
     */
    bool (*open_folder_changes)(struct store *s, const char *name, bool for_write,
                                const struct store_list_opts *opts, uint64_t since_modseq,
                                struct store_folder **f_r, struct store_changes *ch,
                                bool *have_r, struct err *e);
    /*
     * Optional: a short text that changes whenever the folder's messages or
     * their flags may have changed (Maildir: the modification times of new/
     * and cur/), without opening the folder.  *racy_r is set when the stamp
     * is too recent to be trusted (a change in the same clock tick would not
     * show).  False if the folder does not exist.
     */
    bool (*folder_stamp)(struct store *s, const char *name, struct buf *out, bool *racy_r,
                         struct err *e);
    /*
     * Optional, both or neither: a folder opened for writing may be watched
     * for changes not made through it (Maildir: inotify).  take_watch hands
     * the watch over before the folder is closed (NULL: none, or a change not
     * ours was already seen); finish_watch, later, gives the folder's stamp
     * (as folder_stamp) if since the folder was opened it changed only
     * through it, and frees w in every case (stamp NULL: only frees it).
     */
    struct store_watch *(*take_watch)(struct store_folder *f);
    bool (*finish_watch)(struct store *s, struct store_watch *w, struct buf *stamp, bool *racy_r);
    /*
     * Push the given messages (by key for stores that need it, else by uid)
     * to sink, in any order.  An error for one message (ERR_MSG) is reported
     * through sink->msg_error and the rest go on; a wider error stops.
     */
    bool (*fetch)(struct store_folder *f, const struct store_msg *msgs, size_t n,
                  const struct store_sink *sink, struct err *e);

    /*
     * Save one message: begin with its wire size and meta (flags, date; uid is
     * the remote UID for a Maildir destination), write the wire bytes, then
     * commit with the final meta: a source such as IMAP may learn the UID or
     * flags only after the body, so the meta given to save_commit is the one
     * that counts (a Maildir destination names the file from it; an IMAP
     * destination has already sent flags and date with the APPEND and ignores
     * it).  The saved callback runs when the message is durable; for IMAP it
     * may run later, during another call or in flush(), because APPENDs are
     * pipelined.  After save_commit or save_abort the writer is gone.
     */
    bool (*save_begin)(struct store_folder *f, const struct store_msg *meta, uint64_t wire_size,
                       struct store_writer **w_r, struct err *e);
    bool (*save_write)(struct store_writer *w, const void *data, size_t len, struct err *e);
    bool (*save_commit)(struct store_writer *w, const struct store_msg *meta, store_saved_fn *saved,
                        void *ctx, uint64_t token, struct err *e);
    void (*save_abort)(struct store_writer *w);
    /* Wait until every pending save and command has completed. */
    bool (*flush)(struct store_folder *f, struct err *e);

    /*
     * Add or remove flags on messages (by uid for IMAP, by key for Maildir).
     * May be queued (IMAP pipelines its STOREs): the change is made, or its
     * error reported, by flush() at the latest.
     */
    bool (*set_flags)(struct store_folder *f, const struct store_msg *msgs, size_t n,
                      flagset_t flags, bool add, struct err *e);
    /* Remove messages; done when it returns true. */
    bool (*delete_msgs)(struct store_folder *f, const struct store_msg *msgs, size_t n,
                        struct err *e);
    /*
     * Optional: delete_msgs queued like set_flags (IMAP pipelines the STORE
     * and the expunge behind the folder's other commands): done, or its error
     * reported, by flush() at the latest.
     */
    bool (*delete_msgs_queued)(struct store_folder *f, const struct store_msg *msgs, size_t n,
                               struct err *e);
    /*
     * A name for the message that stays the same across runs while the
     * message is not changed by the sync (Maildir: the unique part of the file
     * name, kept by renames; IMAP: the UID).  Replaces out's contents.
     */
    bool (*msg_ident)(struct store_folder *f, const struct store_msg *msg, struct buf *out,
                      struct err *e);
    /* Size, date and Message-ID of messages (out[i] for msgs[i]). */
    bool (*msg_info)(struct store_folder *f, const struct store_msg *msgs, size_t n,
                     struct store_msg_info *out, struct err *e);
    /*
     * Optional: take over another tool's record of this folder (Maildir: the
     * .mbsyncstate of mbsync), so that the messages it synced become known by
     * their remote UIDs without being downloaded or uploaded again.  A record
     * made for another UIDVALIDITY than remote_uidvalidity is left alone.
     * Called on an open folder, before listing, while the status is empty;
     * base_r receives each message taken over with its remote UID and the
     * flags of the other tool's last sync, for the caller to record as the
     * status, so that changes made since then merge three-way.
     */
    bool (*adopt_foreign)(struct store_folder *f, uint32_t remote_uidvalidity,
                          struct store_msg_list *base_r, struct err *e);
    /* Give a local message its remote UID (Maildir: rename to carry U=uid). */
    bool (*set_uid)(struct store_folder *f, const struct store_msg *msg, uint32_t uid,
                    struct err *e);

    /*
     * Optional: make durable what set_uid, set_flags, save and delete_msgs
     * recorded in the store's own metadata (IMAP with a UID map: the map
     * file; Maildir: the renames and unlinks in new/ and cur/, whose
     * directories it fsyncs here once instead of after each operation),
     * without touching a server connection.  The sync engine calls it before
     * every status commit, so no status row is committed before the record
     * that ties it to the local message.
     */
    bool (*sync_meta)(struct store_folder *f, struct err *e);
    /*
     * A saved message is durable before the store knows which remote UID it
     * holds (an IMAP store with a UID map: the APPEND is answered, then the
     * map is written).  The engine then journals downloads before they start
     * and matches the journaled ones after an interruption (sync_recover.h).
     */
    bool journal_downloads;
    /*
     * list_opts.min_uid and the UIDs a startdate window starts from are the
     * store's own UIDs, which it reports as the messages' keys (IMAP with a
     * UID map), not the remote UIDs in store_msg.uid.
     */
    bool min_uid_is_key;

    void (*free)(struct store *s);
};

struct store {
    const struct store_ops *ops;
    char *name; /* repository name from the configuration */
};

/* Convenience wrappers so callers read as store_open_folder(s, ...). */
static inline const char *store_type(const struct store *s)
{
    return s->ops->type_name;
}

#endif
