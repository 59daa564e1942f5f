/*
 * store_maildir: a Maildir tree as a store (store.h), compatible with
 * offlineimap3's file names, folder layout and behaviour (REFERENCE.md 2.5,
 * 4.1).
 *
 * Layout: the root (localfolders) holds one Maildir per folder.  With sep '.'
 * a folder is a direct sub-directory ("INBOX", "Archive.2020"); with sep '/'
 * folders nest ("Archive/2020") and no component may be cur, new or tmp.  A
 * directory is a folder when it has cur/, new/ and tmp/; the root itself is
 * the folder "" when it has them, as offlineimap lists it.
 *
 * Messages: files in new/ and cur/ whose names do not start with '.'.  A file
 * carrying ",FMD5=<md5 of this folder's visible name>" and ",U=<n>" is the
 * message with remote UID n; any other file has uid 0 and is new to the sync.
 * Two files claiming one UID: the first keeps it, the others get uid 0 (they
 * are uploaded again rather than silently ignored) and a warning names them.
 * A message's key (store_msg.key) is its index in the open folder.
 *
 * Bodies: files hold LF line endings; fetch turns every LF not preceded by CR
 * into CRLF and announces that wire size first; saving turns CRLF into LF
 * (a lone CR stays).  A message written by save is named as offlineimap
 * names it, with the UID and flags given to save_commit.
 *
 * Durability with fsync on, in batches (every batch_msgs saves, batch_bytes
 * bytes, or at flush() and close): the batch's files, complete in tmp/, are
 * made durable together (one syncfs(), or an fsync each with
 * per_file_fsync), then renamed into new/ or cur/, then new/ and cur/ are
 * fsynced, and only then do the saves' callbacks run.  A crash before that
 * leaves files in tmp/ (removed when the folder is next opened for writing,
 * if older than 36 hours as the Maildir convention says) and nothing in the
 * status for them.  With fsync off files are renamed at once and callbacks
 * run at once.  Deletions and set_uid renames fsync their directories before
 * returning.
 *
 * Sink protocol of fetch: after a successful sink->begin exactly one of
 * sink->end or sink->abort is called for that message (abort also after a
 * failed sink->write).  An ERR_MSG error, from the file or from the sink, is
 * passed to sink->msg_error and the fetch goes on; a wider error stops it.
 *
 * Batch operations (set_flags, delete_msgs) go through every message; if some
 * fail they return false with ERR_MSG naming the first, and the others are
 * done.  They are idempotent, so doing them again later is harmless.
 *
 * Threads: different folders of one store may be used from different threads;
 * the visible_name callback may therefore be called from several threads.
 */
#ifndef STORE_STORE_MAILDIR_H
#define STORE_STORE_MAILDIR_H

#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

struct maildir_opts {
    const char *name;        /* repository name from the configuration */
    const char *root;        /* localfolders, already expanded */
    char sep;                /* '.' (also when 0) or '/'; any other keeps folders flat */
    bool windows_compatible; /* info separator '!' instead of ':' */
    bool fsync;              /* [general] fsync */
    /*
     * The folder's visible name (the local nametrans applied to its name),
     * whose md5 is the FMD5 of its messages.  Returns a malloc'd string.
     * NULL means the name itself.
     */
    char *(*visible_name)(void *ctx, const char *name);
    void *visible_ctx;
    unsigned batch_msgs;  /* saves per batch; 0 = 1024 */
    uint64_t batch_bytes; /* saved bytes per batch; 0 = 64 MiB */
    /*
     * Make each file durable with its own fsync() instead of one syncfs() of
     * the file system per batch (the default: far fewer journal commits).
     */
    bool per_file_fsync;
    /* filename_use_mail_timestamp: name new files after their Date: (else now). */
    bool filename_use_mail_timestamp;
    /* utime_from_header: set new files' times from their Date:. */
    bool utime_from_header;
    /* restoreatime: give new/ and cur/ their access times back when a folder is closed. */
    bool restoreatime;
};

struct store *store_maildir_new(const struct maildir_opts *o);

struct maildir_fmd5_result {
    unsigned renamed; /* carried the old FMD5, now the new one (or would, in a dry run) */
    unsigned current; /* already carried the new FMD5 */
    unsigned foreign; /* another folder's FMD5: left alone, with a warning */
    unsigned without; /* no FMD5 at all (not yet synced): left alone */
};

/*
 * --migrate-fmd5-using-nametrans for folder `name`: offlineimap before 6.3.5
 * put md5(folder name) in FMD5; since then it is md5(visible name), the name
 * after the local nametrans.  Every message file carrying the old value is
 * renamed to carry the new one, so the next sync recognises it instead of
 * uploading and downloading it again.  Nothing else in the name changes, and
 * the status needs no change (it is keyed by UID).  A folder whose visible
 * name is its name has nothing to migrate.  dry_run only logs.
 */
bool store_maildir_migrate_fmd5(struct store *s, const char *name, bool dry_run,
                                struct maildir_fmd5_result *r, struct err *e);

#endif
