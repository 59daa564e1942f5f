/*
 * store_maildir_msg: changing messages already in a Maildir folder: flags
 * (a rename, between new/ and cur/ as offlineimap does), deletion, and a new
 * UID after an upload.
 *
 * A file renamed by another program since the scan is looked for again
 * (store_maildir_relocate.c) before the message counts as vanished.
 */
#define _GNU_SOURCE
#include "store/maildir_priv.h"
#include "store/maildir_watch.h"
#include "base/crashpoint.h"

#include "base/log.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int maildir_rename_noreplace(int olddfd, const char *oldname, int newdfd, const char *newname)
{
#ifdef RENAME_NOREPLACE
    if (renameat2(olddfd, oldname, newdfd, newname, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
#endif
    /* No atomic variant on this system or file system: check, then rename. */
    struct stat sb;
    if (fstatat(newdfd, newname, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = EEXIST;
        return -1;
    }
    return renameat(olddfd, oldname, newdfd, newname);
}

/* Computes the new name and directory for m in its current state. */
typedef bool rename_target_fn(struct store_folder *f, const struct maildir_msg *m, void *arg,
                              struct buf *name, enum maildir_sub *sub_r);

/*
 * Rename m to the target computed from its current name; if the file has
 * gone, find where it went and compute again.  Returns false with ERR_MSG if
 * the message vanished or the name cannot be built, ERR_FOLDER on a failure
 * of the directory.  *subs_r gets the bit of each directory changed.
 */
static bool rename_msg(struct store_folder *f, struct maildir_msg *m, rename_target_fn *target,
                       void *arg, unsigned *subs_r, struct err *e)
{
    struct buf name;
    buf_init(&name, MAILDIR_NAME_MAX);
    bool ok = false, relocated = false;
    for (;;) {
        enum maildir_sub sub;
        buf_reset(&name);
        if (!target(f, m, arg, &name, &sub)) {
            char *what = maildir_msg_describe(f, m);
            err_set(e, ERR_MSG, ERRK_GENERIC,
                    "Maildir folder %s: cannot build a new file name for message %s.", f->path,
                    what);
            free(what);
            break;
        }
        if (sub == m->sub && !strcmp(name.data, m->name)) {
            ok = true;
            break;
        }
        if (maildir_watch_rename(f, m->sub, m->name, sub, name.data) == 0) {
            crashpoint("maildir-message-renamed");
            *subs_r |= (1u << sub) | (1u << m->sub);
            m->name = arena_strndup(&f->names, name.data, name.len);
            m->sub = (uint8_t)sub;
            ok = true;
            break;
        }
        int err = errno;
        if (err == ENOENT && !relocated) {
            relocated = true;
            if (maildir_relocate(f, m, e))
                continue;
            if (err_isset(e))
                break;
        }
        char *what = maildir_msg_describe(f, m);
        if (err == ENOENT || err == EEXIST)
            err_set(e, ERR_MSG, ERRK_GENERIC, "Maildir folder %s: cannot rename message %s: %s.",
                    f->path, what,
                    err == ENOENT ? "it has vanished" : "a file with the new name exists");
        else
            err_set(e, ERR_FOLDER, maildir_errkind(err),
                    "Maildir folder %s: cannot rename message %s to %s/%s: %s.", f->path, what,
                    maildir_sub_names[sub], name.data, strerror(err));
        free(what);
        break;
    }
    buf_release(&name);
    return ok;
}

struct flags_arg {
    flagset_t add, del;
    flagset_t result;
};

/*
 * offlineimap's savemessageflags: the info part is replaced by one with the
 * new flags; S puts the file in cur/, no S in new/.  Unchanged flags leave
 * the file where it is.
 */
static bool flags_target(struct store_folder *f, const struct maildir_msg *m, void *argp,
                         struct buf *name, enum maildir_sub *sub_r)
{
    struct flags_arg *arg = argp;
    flagset_t nf = (m->flags | arg->add) & ~arg->del;
    arg->result = nf;
    if (nf == m->flags) {
        *sub_r = (enum maildir_sub)m->sub;
        return buf_append_str(name, m->name);
    }
    struct maildir_name p;
    if (!maildir_name_parse(m->name, strlen(m->name), f->st->infosep, NULL, &p))
        return false;
    char letters[53];
    size_t nl = flags_to_letters(nf, letters);
    char info[3] = {f->st->infosep, '2', ','};
    *sub_r = nf & FLAG_SEEN ? MD_CUR : MD_NEW;
    return p.base_len + 3 + nl <= MAILDIR_NAME_MAX && buf_append(name, m->name, p.base_len) &&
           buf_append(name, info, 3) && buf_append(name, letters, nl);
}

bool maildir_msg_set_flags(struct store_folder *f, struct maildir_msg *m, flagset_t add,
                           flagset_t del, struct err *e)
{
    struct flags_arg arg = {add, del, 0};
    unsigned subs = 0;
    if (!rename_msg(f, m, flags_target, &arg, &subs, e))
        return false;
    m->flags = arg.result;
    return true;
}

/*
 * The renames and unlinks of flag changes, deletions and UIDs are made
 * durable by maildir_sync_meta(), which the sync engine calls before every
 * status commit (store.h): one fsync per directory and commit instead of one
 * per operation, and still before the status records any of them.
 */
static void defer_subs(struct store_folder *f, unsigned subs)
{
    if (f->st->fsync)
        f->meta_subs |= subs;
}

static bool fsync_subs(struct store_folder *f, unsigned subs, struct err *e)
{
    if (!f->st->fsync)
        return true;
    for (int sub = MD_NEW; sub <= MD_CUR; sub++) {
        if ((subs & (1u << sub)) && fsync(f->dfd[sub]) != 0 && errno != EINVAL) {
            err_set(e, ERR_FOLDER, maildir_errkind(errno),
                    "Maildir folder %s: cannot fsync %s/: %s.", f->path, maildir_sub_names[sub],
                    strerror(errno));
            return false;
        }
    }
    return true;
}

/* Keep the first message error, go on; stop at a wider one. */
static bool note_error(struct err *first, size_t *nfailed, struct err *me)
{
    if (me->scope != ERR_MSG) {
        err_move(first, me);
        return false;
    }
    if ((*nfailed)++ == 0)
        err_move(first, me);
    err_clear(me);
    return true;
}

static bool finish_batch(struct store_folder *f, unsigned subs, struct err *first, size_t nfailed,
                         bool go_on, struct err *e)
{
    maildir_relocation_end(f);
    defer_subs(f, subs);
    if (!go_on) {
        err_move(e, first);
        err_clear(first);
        return false;
    }
    if (nfailed) {
        if (nfailed > 1)
            err_prefix(first, "%zu messages failed; the first: ", nfailed);
        err_move(e, first);
        return false;
    }
    return true;
}

bool maildir_set_flags(struct store_folder *f, const struct store_msg *msgs, size_t n,
                       flagset_t flags, bool add, struct err *e)
{
    if (!maildir_check_writable(f, e))
        return false;
    struct err first = ERR_INIT;
    size_t nfailed = 0;
    unsigned subs = 0;
    bool go_on = true;
    for (size_t i = 0; i < n && go_on; i++) {
        struct err me = ERR_INIT;
        struct maildir_msg *m = maildir_msg_by_key(f, msgs[i].key, &me);
        struct flags_arg arg = {add ? flags : 0, add ? 0 : flags, 0};
        if (m && rename_msg(f, m, flags_target, &arg, &subs, &me))
            m->flags = arg.result;
        if (err_isset(&me))
            go_on = note_error(&first, &nfailed, &me);
    }
    return finish_batch(f, subs, &first, nfailed, go_on, e);
}

bool maildir_delete_msgs(struct store_folder *f, const struct store_msg *msgs, size_t n,
                         struct err *e)
{
    if (!maildir_check_writable(f, e))
        return false;
    struct err first = ERR_INIT;
    size_t nfailed = 0;
    unsigned subs = 0;
    bool go_on = true;
    for (size_t i = 0; i < n && go_on; i++) {
        struct err me = ERR_INIT;
        struct maildir_msg *m = maildir_msg_by_key(f, msgs[i].key, &me);
        if (!m) {
            go_on = note_error(&first, &nfailed, &me);
            continue;
        }
        int err = maildir_watch_unlink(f, m->sub, m->name) == 0 ? 0 : errno;
        /* Renamed behind our back: delete it under its new name. */
        if (err == ENOENT) {
            if (maildir_relocate(f, m, &me))
                err = maildir_watch_unlink(f, m->sub, m->name) == 0 ? 0 : errno;
            else if (!err_isset(&me))
                err = 0; /* already gone */
        }
        if ((err == 0 || err == ENOENT) && !err_isset(&me)) {
            crashpoint("maildir-unlinked");
            subs |= 1u << m->sub;
            maildir_folder_forget(f, (size_t)(m - f->v));
            continue;
        }
        if (!err_isset(&me)) {
            char *what = maildir_msg_describe(f, m);
            err_set(&me, err == EISDIR || err == EPERM ? ERR_MSG : ERR_FOLDER, maildir_errkind(err),
                    "Maildir folder %s: cannot delete message %s: %s.", f->path, what,
                    strerror(err));
            free(what);
        }
        go_on = note_error(&first, &nfailed, &me);
    }
    return finish_batch(f, subs, &first, nfailed, go_on, e);
}

struct uid_arg {
    uint32_t uid;
};

/*
 * The unique part and the flags stay; ",U=<uid>,FMD5=<this folder>" replace
 * whatever U= and FMD5= items the name had.  (offlineimap gives the file a
 * whole new name instead; it reads both alike, as it only looks for U= and
 * FMD5=.)  A name without a usable unique part gets a fresh one.
 */
static bool uid_target(struct store_folder *f, const struct maildir_msg *m, void *argp,
                       struct buf *name, enum maildir_sub *sub_r)
{
    const struct uid_arg *arg = argp;
    struct maildir_name p;
    if (!maildir_name_parse(m->name, strlen(m->name), f->st->infosep, NULL, &p))
        return false;
    char uniq[MAILDIR_NAME_MAX + 1];
    size_t ulen = maildir_name_unique(m->name, &p, uniq);
    if (ulen == 0)
        ulen = maildir_name_new_unique(uniq, 0);
    *sub_r = (enum maildir_sub)m->sub;
    if (maildir_name_compose(name, uniq, ulen, arg->uid, f->fmd5, f->st->infosep, m->flags))
        return true;
    /* Too long with the items added: fall back to a fresh unique part. */
    buf_reset(name);
    ulen = maildir_name_new_unique(uniq, 0);
    return maildir_name_compose(name, uniq, ulen, arg->uid, f->fmd5, f->st->infosep, m->flags);
}

bool maildir_set_uid(struct store_folder *f, const struct store_msg *msg, uint32_t uid,
                     struct err *e)
{
    if (!maildir_check_writable(f, e))
        return false;
    if (uid == 0) {
        err_set(e, ERR_MSG, ERRK_GENERIC, "Maildir folder %s: cannot give a message UID 0.",
                f->path);
        return false;
    }
    struct maildir_msg *m = maildir_msg_by_key(f, msg->key, e);
    if (!m)
        return false;
    size_t idx = (size_t)(m - f->v);
    struct uid_arg arg = {uid};
    unsigned subs = 0;
    bool ok = rename_msg(f, m, uid_target, &arg, &subs, e);
    maildir_relocation_end(f);
    if (!ok)
        return false;
    if (m->uid && maildir_uidmap_get(&f->map, m->uid) == idx)
        maildir_uidmap_del(&f->map, m->uid);
    size_t other = maildir_uidmap_get(&f->map, uid);
    if (other != SIZE_MAX && other != idx)
        log_warn("Maildir folder %s: UID %u is now carried by both %s/%s and %s/%s.", f->path,
                 (unsigned)uid, maildir_sub_names[f->v[other].sub], f->v[other].name,
                 maildir_sub_names[m->sub], m->name);
    m->uid = uid;
    maildir_uidmap_put(&f->map, uid, idx);
    defer_subs(f, subs);
    return true;
}

bool maildir_sync_meta(struct store_folder *f, struct err *e)
{
    if (!f->meta_subs)
        return true;
    if (!fsync_subs(f, f->meta_subs, e))
        return false;
    f->meta_subs = 0;
    return true;
}
