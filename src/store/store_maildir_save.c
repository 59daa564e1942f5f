/*
 * store_maildir_save: writing a new message into a Maildir folder.
 *
 * The body goes into tmp/<unique> (O_EXCL, a fresh name on EEXIST) with
 * CRLF turned into LF.  With fsync on, committed files wait in a batch
 * (store_maildir_batch.c), which at its end makes their data durable, renames
 * each into cur/ (flag S) or new/ under offlineimap's name for it, built from
 * the meta given to save_commit, syncs new/ and cur/, and only then runs the
 * callbacks.  The rename never replaces an existing file.
 *
 * save_commit returns false only when the message was not stored (its
 * callback is then never called); a failure of the batch reaches every
 * waiting callback as an error instead, and stops further saves.
 */
#define _GNU_SOURCE
#include "store/maildir_priv.h"
#include "store/maildir_watch.h"
#include "base/crashpoint.h"

#include "base/fsutil.h"
#include "base/log.h"
#include "base/prof.h"
#include "base/xalloc.h"
#include "store/msgdate.h"
#include "store/msghdr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Attempts at a fresh unique name before giving up (EEXIST each time). */
#define MAILDIR_NAME_TRIES 64

struct store_writer {
    struct store_folder *f;
    int fd;
    char tmpname[MAILDIR_NAME_MAX + 1];
    size_t tmplen;
    char *buf; /* MAILDIR_IO_CHUNK bytes of converted output */
    size_t buflen;
    bool pending_cr; /* the last byte written to us was a CR not yet passed on */
    bool failed;
    uint64_t bytes; /* bytes written to the file */
    bool want_head;  /* keep the header for its Date: */
    struct buf head;
    struct prof_mark mark; /* -P: from begin to commit */
};

/* Header bytes kept to read the Date: field. */
#define SAVE_HEAD_MAX (64 * 1024)

bool maildir_save_begin(struct store_folder *f, const struct store_msg *meta, uint64_t wire_size,
                        struct store_writer **w_r, struct err *e)
{
    *w_r = NULL;
    if (!maildir_check_writable(f, e))
        return false;
    struct store_writer *w = xcalloc(1, sizeof(*w));
    w->f = f;
    w->fd = -1;
    prof_begin(&w->mark);
    for (int tries = 0; w->fd < 0 && tries < MAILDIR_NAME_TRIES; tries++) {
        w->tmplen = maildir_name_new_unique(w->tmpname, 0);
        w->fd = openat(f->dfd[MD_TMP], w->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (w->fd < 0 && errno != EEXIST)
            break;
    }
    if (w->fd < 0) {
        int err = errno;
        err_set(e, ERR_FOLDER, maildir_errkind(err),
                "Maildir folder %s: cannot create a file in tmp/ for UID %u: %s.", f->path,
                (unsigned)meta->uid, strerror(err));
        free(w);
        return false;
    }
    w->buf = xmalloc(MAILDIR_IO_CHUNK);
    w->want_head = f->st->name_from_date || f->st->utime_from_date;
    buf_init(&w->head, SAVE_HEAD_MAX);
    (void)wire_size;
    *w_r = w;
    return true;
}

static bool write_error(struct store_writer *w, int err, struct err *e)
{
    w->failed = true;
    err_set(e, ERR_FOLDER, maildir_errkind(err), "Maildir folder %s: cannot write tmp/%s: %s.",
            w->f->path, w->tmpname, strerror(err));
    return false;
}

static bool drain(struct store_writer *w, struct err *e)
{
    if (w->want_head && w->head.len < SAVE_HEAD_MAX) {
        size_t room = SAVE_HEAD_MAX - w->head.len;
        buf_append(&w->head, w->buf, w->buflen < room ? w->buflen : room);
    }
    if (w->buflen && !fs_write_all(w->fd, w->buf, w->buflen))
        return write_error(w, errno, e);
    w->bytes += w->buflen;
    w->buflen = 0;
    return true;
}

static bool put(struct store_writer *w, char c, struct err *e)
{
    if (w->buflen == MAILDIR_IO_CHUNK && !drain(w, e))
        return false;
    w->buf[w->buflen++] = c;
    return true;
}

static bool put_run(struct store_writer *w, const char *p, size_t n, struct err *e)
{
    while (n) {
        if (w->buflen == MAILDIR_IO_CHUNK && !drain(w, e))
            return false;
        size_t room = MAILDIR_IO_CHUNK - w->buflen, k = n < room ? n : room;
        memcpy(w->buf + w->buflen, p, k);
        w->buflen += k;
        p += k;
        n -= k;
    }
    return true;
}

/*
 * CRLF -> LF, copying the runs between CRs whole; a CR at the end of data is
 * held back until the next byte shows what it is.
 */
bool maildir_save_write(struct store_writer *w, const void *data, size_t len, struct err *e)
{
    if (w->failed) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "Maildir folder %s: tmp/%s failed earlier.",
                w->f->path, w->tmpname);
        return false;
    }
    const char *p = data, *end = p + len;
    if (w->pending_cr && p < end) {
        w->pending_cr = false;
        if (*p != '\n' && !put(w, '\r', e))
            return false;
    }
    while (p < end) {
        const char *cr = memchr(p, '\r', (size_t)(end - p));
        if (!put_run(w, p, (size_t)((cr ? cr : end) - p), e))
            return false;
        if (!cr)
            break;
        if (cr + 1 == end) {
            w->pending_cr = true;
            break;
        }
        /* A CR before LF goes; the LF starts the next run.  A lone CR stays. */
        if (cr[1] != '\n' && !put(w, '\r', e))
            return false;
        p = cr + 1;
    }
    return true;
}

static void writer_free(struct store_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    buf_release(&w->head);
    free(w->buf);
    free(w);
}

void maildir_save_abort(struct store_writer *w)
{
    if (!w)
        return;
    unlinkat(w->f->dfd[MD_TMP], w->tmpname, 0);
    writer_free(w);
}

/* Write what is buffered, fsync when asked, close: the file is complete. */
static bool finish_file(struct store_writer *w, struct err *e)
{
    if (w->pending_cr) {
        w->pending_cr = false;
        if (!put(w, '\r', e))
            return false;
    }
    if (!drain(w, e))
        return false;
    /* With per-file fsync the file is synced now; else with its batch. */
    if (w->f->st->fsync && w->f->st->per_file_fsync && fsync(w->fd) != 0)
        return write_error(w, errno, e);
    int rc = close(w->fd);
    w->fd = -1;
    if (rc != 0)
        return write_error(w, errno, e);
    return true;
}

/* Wait with the batch; tmpname (taken over) is the file still to rename, or NULL. */
static void queue(struct store_folder *f, enum maildir_sub sub, store_saved_fn *saved, void *ctx,
                  uint64_t token, const struct store_msg *meta, char *tmpname, uint64_t bytes)
{
    if (f->npend == f->pend_cap) {
        f->pend_cap = f->pend_cap ? f->pend_cap * 2 : 64;
        f->pend = xreallocarray(f->pend, f->pend_cap, sizeof(*f->pend));
    }
    f->pend[f->npend++] = (struct maildir_pending){saved,       ctx,     token, meta->uid,
                                                   meta->flags, tmpname, (uint8_t)sub, bytes};
    if (!tmpname)
        f->pend_subs |= 1u << sub;
    f->pend_bytes += bytes;
}

/*
 * The engine saves a UID the folder already holds only after a crash or a
 * bug; offlineimap then just updates the flags, and so do we rather than
 * create a duplicate.
 */
static bool commit_existing(struct store_writer *w, size_t idx, const struct store_msg *meta,
                            struct err *e)
{
    struct store_folder *f = w->f;
    struct maildir_msg *m = &f->v[idx];
    log_warn("Maildir folder %s: UID %u is already stored as %s/%s; updating its flags instead "
             "of saving it twice.",
             f->path, (unsigned)meta->uid, maildir_sub_names[m->sub], m->name);
    unlinkat(f->dfd[MD_TMP], w->tmpname, 0);
    bool ok = maildir_msg_set_flags(f, m, meta->flags, ~meta->flags, e);
    maildir_relocation_end(f);
    return ok;
}

static bool rename_into_place(struct store_folder *f, const char *tmpname, uint32_t uid,
                              flagset_t flags, enum maildir_sub sub, struct buf *name,
                              struct err *e)
{
    const char *unique = tmpname;
    size_t ulen = strlen(tmpname);
    struct store_msg meta_s = {.uid = uid, .flags = flags};
    const struct store_msg *meta = &meta_s;
    char fresh[MAILDIR_NAME_MAX + 1];
    for (int tries = 0; tries < MAILDIR_NAME_TRIES; tries++) {
        buf_reset(name);
        if (!maildir_name_compose(name, unique, ulen, meta->uid, f->fmd5, f->st->infosep,
                                  meta->flags)) {
            err_set(e, ERR_MSG, ERRK_GENERIC,
                    "Maildir folder %s: cannot build a file name for UID %u.", f->path,
                    (unsigned)meta->uid);
            return false;
        }
        crashpoint("maildir-tmp-written");
        if (maildir_watch_rename(f, MD_TMP, tmpname, sub, name->data) == 0) {
            crashpoint("maildir-renamed");
            return true;
        }
        if (errno != EEXIST)
            break;
        /* Taken by a file of another process: a fresh unique part for the final name. */
        ulen = maildir_name_new_unique(fresh, 0);
        unique = fresh;
    }
    int err = errno;
    err_set(e, ERR_FOLDER, maildir_errkind(err),
            "Maildir folder %s: cannot rename tmp/%s to %s/%s: %s.", f->path, tmpname,
            maildir_sub_names[sub], name->data, strerror(err));
    return false;
}

/* Rename a waiting file into place and add it to the folder's index. */
bool maildir_rename_pending(struct store_folder *f, struct maildir_pending *p, unsigned *subs,
                            struct err *e)
{
    /* Another save of the same UID may have come first in this batch. */
    if (maildir_uidmap_get(&f->map, p->uid) != SIZE_MAX && p->uid != 0) {
        err_set(e, ERR_MSG, ERRK_GENERIC, "Maildir folder %s: UID %u was saved twice.", f->path,
                (unsigned)p->uid);
        return false;
    }
    struct buf name;
    buf_init(&name, MAILDIR_NAME_MAX);
    bool ok = rename_into_place(f, p->tmpname, p->uid, p->flags, p->sub, &name, e);
    if (ok) {
        maildir_folder_add(f, name.data, name.len, p->sub, p->uid, p->flags);
        *subs |= 1u << p->sub;
    }
    buf_release(&name);
    return ok;
}

/*
 * filename_use_mail_timestamp and utime_from_header: the message's Date:
 * (else Delivery-date:) names the file and sets its times.  Without a usable
 * date the current time stays, as in offlineimap.
 */
static void apply_mail_date(struct store_writer *w)
{
    struct store_folder *f = w->f;
    int64_t t;
    if (!w->want_head ||
        !msgdate_from_header(w->head.data, msghdr_length(w->head.data, w->head.len), &t) ||
        t < 0)
        return;
    if (f->st->utime_from_date) {
        struct timespec ts[2] = {{.tv_sec = (time_t)t}, {.tv_sec = (time_t)t}};
        utimensat(f->dfd[MD_TMP], w->tmpname, ts, 0);
    }
    if (f->st->name_from_date) {
        char fresh[MAILDIR_NAME_MAX + 1];
        size_t n = maildir_name_new_unique(fresh, t);
        if (n && maildir_rename_noreplace(f->dfd[MD_TMP], w->tmpname, f->dfd[MD_TMP], fresh) == 0) {
            memcpy(w->tmpname, fresh, n + 1);
            w->tmplen = n;
        }
    }
}

bool maildir_save_commit(struct store_writer *w, const struct store_msg *meta,
                         store_saved_fn *saved, void *ctx, uint64_t token, struct err *e)
{
    struct store_folder *f = w->f;
    if (w->failed || !finish_file(w, e)) {
        if (!err_isset(e))
            err_set(e, ERR_FOLDER, ERRK_GENERIC, "Maildir folder %s: tmp/%s failed earlier.",
                    f->path, w->tmpname);
        maildir_save_abort(w);
        return false;
    }
    prof_end(&w->mark, "maildir", "save message", w->bytes);
    apply_mail_date(w);
    size_t idx = maildir_uidmap_get(&f->map, meta->uid);
    if (idx != SIZE_MAX) {
        bool ok = commit_existing(w, idx, meta, e);
        writer_free(w);
        if (!ok)
            return false;
        if (f->st->fsync)
            queue(f, f->v[idx].sub, saved, ctx, token, meta, NULL, 0);
        else if (saved)
            saved(ctx, token, meta->uid, NULL);
    } else if (!f->st->fsync) {
        /* Nothing to make durable: into place now. */
        enum maildir_sub sub = meta->flags & FLAG_SEEN ? MD_CUR : MD_NEW;
        struct buf name;
        buf_init(&name, MAILDIR_NAME_MAX);
        if (!rename_into_place(f, w->tmpname, meta->uid, meta->flags, sub, &name, e)) {
            buf_release(&name);
            maildir_save_abort(w);
            return false;
        }
        maildir_folder_add(f, name.data, name.len, sub, meta->uid, meta->flags);
        buf_release(&name);
        writer_free(w);
        if (saved)
            saved(ctx, token, meta->uid, NULL);
    } else {
        enum maildir_sub sub = meta->flags & FLAG_SEEN ? MD_CUR : MD_NEW;
        uint64_t bytes = w->bytes;
        queue(f, sub, saved, ctx, token, meta, xstrdup(w->tmpname), bytes);
        writer_free(w);
    }
    if (f->st->fsync && (f->npend >= f->st->batch_msgs || f->pend_bytes >= f->st->batch_bytes))
        maildir_batch_full(f); /* the callbacks learn a failure; the message itself is stored */
    return true;
}
