/*
 * maildir_priv: what the store_maildir*.c files share.  Not for use outside
 * the Maildir store.
 */
#ifndef STORE_MAILDIR_PRIV_H
#define STORE_MAILDIR_PRIV_H

#include "base/arena.h"
#include "base/err.h"
#include "store/maildir_name.h"
#include "store/store.h"
#include "store/store_maildir.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The sub-directories of a Maildir folder. */
enum maildir_sub {
    MD_NEW = 0,
    MD_CUR = 1,
    MD_TMP = 2,
};

extern const char *const maildir_sub_names[3];

#define MAILDIR_DEFAULT_BATCH_MSGS 1024u
#define MAILDIR_DEFAULT_BATCH_BYTES ((uint64_t)64 << 20)
/* Buffer size for reading and writing message bodies. */
#define MAILDIR_IO_CHUNK ((size_t)64 << 10)

struct maildir_store {
    struct store base;
    char *root;
    char sep;
    char infosep;
    bool fsync;
    char *(*visible_name)(void *ctx, const char *name);
    void *visible_ctx;
    unsigned batch_msgs;
    uint64_t batch_bytes;
    bool per_file_fsync; /* fsync each file instead of one syncfs() per batch */
    bool name_from_date;
    bool utime_from_date;
    bool restoreatime;
    pthread_mutex_t watch_lock;      /* creates watcher */
    struct maildir_watcher *watcher; /* maildir_watch.h; NULL until a folder is written */
};

/* uid -> message index; open addressing, uid 0 never stored. */
struct maildir_uidmap {
    uint32_t *uid;
    uint32_t *idx;
    size_t cap; /* a power of two, or 0 */
    size_t count;
};

void maildir_uidmap_free(struct maildir_uidmap *m);
/* Index for uid, or SIZE_MAX. */
size_t maildir_uidmap_get(const struct maildir_uidmap *m, uint32_t uid);
void maildir_uidmap_put(struct maildir_uidmap *m, uint32_t uid, size_t idx);
void maildir_uidmap_del(struct maildir_uidmap *m, uint32_t uid);

struct maildir_msg {
    const char *name; /* file name (in the folder arena); NULL once deleted */
    flagset_t flags;
    uint32_t uid;
    uint8_t sub; /* MD_NEW or MD_CUR */
};

/*
 * A committed save waiting for its batch: the file is complete in tmp/; at
 * the batch's end the data is made durable, the file renamed into new/ or
 * cur/, the directories synced, and only then the callback runs.
 */
struct maildir_pending {
    store_saved_fn *saved;
    void *ctx;
    uint64_t token;
    uint32_t uid;
    flagset_t flags;
    char *tmpname; /* in tmp/, xmalloc'd; NULL when already in place */
    uint8_t sub;   /* where it goes */
    uint64_t bytes;
};

/* Files found by a rescan, to find messages renamed behind our back. */
struct maildir_relocation;
struct maildir_watcher;
struct maildir_fly;

struct store_folder {
    struct maildir_store *st;
    char *name; /* as opened ("" for the root) */
    char *path; /* root/name */
    char fmd5[MAILDIR_FMD5_LEN + 1];
    int dfd[3]; /* new, cur, tmp */
    bool for_write;
    struct store_folder_info info;

    struct arena names;
    struct maildir_msg *v;
    size_t n, cap;
    size_t alive;
    struct maildir_uidmap map;

    struct maildir_pending *pend;
    size_t npend, pend_cap;
    uint64_t pend_bytes;
    unsigned pend_subs;      /* bit (1 << MD_NEW) / (1 << MD_CUR): directories to fsync */
    char *broken;            /* why saves are refused after a failed directory fsync */
    unsigned meta_subs;      /* new/, cur/ changed by renames and unlinks: fsynced by sync_meta */
    struct maildir_fly *fly; /* the previous batch, its data being synced (store_maildir_batch.c) */

    struct maildir_relocation *relo; /* built on demand during one operation */
    struct timespec atime[2];        /* restoreatime: new/ and cur/ as opened */
    struct store_watch *watch;       /* our own changes (maildir_watch.h), or NULL */
};

/* Error kind for an errno value: ENOSPC and EDQUOT are ERRK_NOSPACE. */
enum err_kind maildir_errkind(int errnum);

/* store_maildir_folder.c */
bool maildir_check_folder_name(const struct maildir_store *st, const char *name,
                               const char **canon_r, struct err *e);
bool maildir_open_folder(struct store *s, const char *name, bool for_write,
                         struct store_folder **f_r, struct err *e);
bool maildir_open_folder_uids(struct store *s, const char *name, bool for_write,
                              const struct uidvec *uids, struct store_folder **f_r, struct err *e);
bool maildir_open_folder_diff(struct store *s, const char *name, bool for_write,
                              const struct store_uidflags *base, size_t nbase,
                              const struct uidvec *also, struct store_folder **f_r,
                              struct uidvec *missing, bool *twice_r, struct err *e);
void maildir_close_folder(struct store_folder **fp);
const struct store_folder_info *maildir_folder_info(struct store_folder *f);
bool maildir_list_msgs(struct store_folder *f, const struct store_list_opts *opts,
                       struct store_msg_list *out, struct err *e);
/* Append a message to the open folder's list; returns its index. */
size_t maildir_folder_add(struct store_folder *f, const char *name, size_t len,
                          enum maildir_sub sub, uint32_t uid, flagset_t flags);
/* The message for a key, or NULL (with an ERR_MSG error) if there is none. */
struct maildir_msg *maildir_msg_by_key(struct store_folder *f, uint32_t key, struct err *e);
/* Drop message idx from the open folder's list (its file is gone). */
void maildir_folder_forget(struct store_folder *f, size_t idx);
/* false with an ERR_FOLDER error if the folder may not be changed. */
bool maildir_check_writable(struct store_folder *f, struct err *e);
/* Describe a message for error texts: "UID 5 (cur/name)" or "cur/name". */
char *maildir_msg_describe(const struct store_folder *f, const struct maildir_msg *m);

/* store_maildir_relocate.c */
/*
 * Find the current file of message m after its name went missing (another
 * program renamed it): rescan new/ and cur/ once per operation and look for
 * the same unique part, else the same UID.  Updates m and returns true if
 * found; false with e unset if it is gone; false with e set on an I/O error.
 */
bool maildir_relocate(struct store_folder *f, struct maildir_msg *m, struct err *e);
/* Forget the rescan at the end of an operation. */
void maildir_relocation_end(struct store_folder *f);

/* store_maildir_fetch.c */
bool maildir_fetch(struct store_folder *f, const struct store_msg *msgs, size_t n,
                   const struct store_sink *sink, struct err *e);

/* store_maildir_save.c */
bool maildir_save_begin(struct store_folder *f, const struct store_msg *meta, uint64_t wire_size,
                        struct store_writer **w_r, struct err *e);
bool maildir_save_write(struct store_writer *w, const void *data, size_t len, struct err *e);
bool maildir_save_commit(struct store_writer *w, const struct store_msg *meta,
                         store_saved_fn *saved, void *ctx, uint64_t token, struct err *e);
void maildir_save_abort(struct store_writer *w);
/* Rename a waiting file into place and add it to the folder's index; *subs gets its directory. */
bool maildir_rename_pending(struct store_folder *f, struct maildir_pending *p, unsigned *subs,
                            struct err *e);

/*
 * store_maildir_batch.c: the batch of committed saves.  maildir_flush makes
 * every waiting save durable and runs its callback (the store's flush);
 * maildir_batch_full, when a batch is full, does the same for the batch
 * before it and hands this one's data sync to a helper thread, so that the
 * next batch is received and written while the disk syncs.
 */
bool maildir_flush(struct store_folder *f, struct err *e);
void maildir_batch_full(struct store_folder *f);
/* Before the folder is freed: a batch still syncing is waited for and dropped. */
void maildir_batch_drop(struct store_folder *f);

/* store_maildir_msg.c */
/* rename(2) that fails with EEXIST instead of replacing an existing file. */
/* store_maildir_info.c */
bool maildir_msg_ident(struct store_folder *f, const struct store_msg *msg, struct buf *out,
                       struct err *e);
bool maildir_msg_info(struct store_folder *f, const struct store_msg *msgs, size_t n,
                      struct store_msg_info *out, struct err *e);
bool maildir_folder_stamp(struct store *s, const char *name, struct buf *out, bool *racy_r,
                          struct err *e);

/* store_maildir_mbsync.c: take a folder over from mbsync (store.h adopt_foreign). */
bool maildir_adopt_foreign(struct store_folder *f, uint32_t remote_uidvalidity,
                           struct store_msg_list *base_r, struct err *e);
/* The same; base (if not NULL) gets each adopted message's far UID and flags at mbsync's last sync.
 */
bool maildir_mbsync_adopt(struct store_folder *f, uint32_t remote_uidvalidity,
                          struct store_msg_list *base, size_t *adopted_r, struct err *e);

int maildir_rename_noreplace(int olddfd, const char *oldname, int newdfd, const char *newname);
bool maildir_set_flags(struct store_folder *f, const struct store_msg *msgs, size_t n,
                       flagset_t flags, bool add, struct err *e);
bool maildir_delete_msgs(struct store_folder *f, const struct store_msg *msgs, size_t n,
                         struct err *e);
bool maildir_set_uid(struct store_folder *f, const struct store_msg *msg, uint32_t uid,
                     struct err *e);
/* fsync what the renames and unlinks above changed (store.h sync_meta). */
bool maildir_sync_meta(struct store_folder *f, struct err *e);
/*
 * Give message m the flags (its current flags | add) & ~del, renaming it and
 * moving it to cur/ if S is set, else new/.  No change, no rename.
 */
bool maildir_msg_set_flags(struct store_folder *f, struct maildir_msg *m, flagset_t add,
                           flagset_t del, struct err *e);

#endif
