/*
 * store_maildir_folder: opening a Maildir folder, scanning its messages
 * (offlineimap's _scanfolder) and listing them.
 */
#include "store/maildir_priv.h"
#include "store/maildir_watch.h"

#include "base/crashpoint.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/prof.h"
#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static bool is_special(const char *s, size_t len)
{
    return len == 3 && (!memcmp(s, "cur", 3) || !memcmp(s, "new", 3) || !memcmp(s, "tmp", 3));
}

/*
 * Folder names come from the other side (through nametrans) and become paths:
 * refuse anything that would leave the root or land in a Maildir's own
 * directories.  offlineimap asserts most of this in makefolder().
 */
bool maildir_check_folder_name(const struct maildir_store *st, const char *name,
                               const char **canon_r, struct err *e)
{
    /* The folder named by the separator alone is the root (folder/Base.py). */
    if (name[0] == '\0' || (name[0] == st->sep && name[1] == '\0')) {
        *canon_r = "";
        return true;
    }
    const char *why = NULL;
    if (st->sep != '/' && strchr(name, '/'))
        why = "it contains '/', which is not the separator";
    for (const char *p = name; !why;) {
        const char *end = st->sep == '/' ? strchr(p, '/') : NULL;
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0)
            why = "it has an empty path component";
        else if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            why = "it contains a \".\" or \"..\" component";
        else if (is_special(p, len))
            why = "a component is named cur, new or tmp";
        if (!end)
            break;
        p = end + 1;
    }
    if (why) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC,
                "Maildir repository %s: invalid folder name \"%s\": %s.", st->base.name, name, why);
        return false;
    }
    *canon_r = name;
    return true;
}

size_t maildir_folder_add(struct store_folder *f, const char *name, size_t len,
                          enum maildir_sub sub, uint32_t uid, flagset_t flags)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 256;
        f->v = xreallocarray(f->v, f->cap, sizeof(*f->v));
    }
    size_t idx = f->n++;
    f->v[idx] = (struct maildir_msg){arena_strndup(&f->names, name, len), flags, uid, (uint8_t)sub};
    f->alive++;
    maildir_uidmap_put(&f->map, uid, idx);
    return idx;
}

char *maildir_msg_describe(const struct store_folder *f, const struct maildir_msg *m)
{
    const char *name = m->name ? m->name : "(deleted)";
    if (m->uid)
        return xasprintf("UID %u (%s/%s/%s)", (unsigned)m->uid, f->path, maildir_sub_names[m->sub],
                         name);
    return xasprintf("%s/%s/%s", f->path, maildir_sub_names[m->sub], name);
}

struct maildir_msg *maildir_msg_by_key(struct store_folder *f, uint32_t key, struct err *e)
{
    if (key < f->n && f->v[key].name)
        return &f->v[key];
    err_set(e, ERR_MSG, ERRK_GENERIC, "Maildir folder %s: no message with key %u.", f->path,
            (unsigned)key);
    return NULL;
}

bool maildir_check_writable(struct store_folder *f, struct err *e)
{
    if (!f->for_write) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC,
                "Maildir folder %s was opened read-only; it cannot be changed.", f->path);
        return false;
    }
    if (f->broken) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "Maildir folder %s: %s.", f->path, f->broken);
        return false;
    }
    return true;
}

static bool vanished(const struct store_folder *f, const struct maildir_msg *m)
{
    struct stat sb;
    return fstatat(f->dfd[m->sub], m->name, &sb, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT;
}

void maildir_folder_forget(struct store_folder *f, size_t idx)
{
    struct maildir_msg *m = &f->v[idx];
    if (m->uid && maildir_uidmap_get(&f->map, m->uid) == idx)
        maildir_uidmap_del(&f->map, m->uid);
    m->name = NULL;
    f->alive--;
}

/*
 * A second file with a UID already seen.  If the first one is gone, the
 * message moved while we read (new/ to cur/ by a mail reader): keep the new
 * name.  Otherwise both exist; offlineimap would silently keep one and ignore
 * the other, we give the second uid 0 so that it is uploaded as new.
 */
static uint32_t resolve_duplicate(struct store_folder *f, size_t first, enum maildir_sub sub,
                                  const char *name, uint32_t uid)
{
    struct maildir_msg *m = &f->v[first];
    if (vanished(f, m)) {
        maildir_folder_forget(f, first);
        return uid;
    }
    log_warn("Maildir folder %s: %s/%s and %s/%s both carry UID %u; the first keeps it, the "
             "second will be uploaded as a new message.",
             f->path, maildir_sub_names[m->sub], m->name, maildir_sub_names[sub], name,
             (unsigned)uid);
    return 0;
}

/*
 * What a scan keeps: every file, only the files of some UIDs
 * (open_folder_uids), or the files that differ from the caller's view
 * (open_folder_diff).
 */
struct scan_filter {
    const struct uidvec *only;
    const struct store_uidflags *base; /* sorted by UID */
    size_t nbase;
    const struct uidvec *also; /* kept even when as in base */
    uint8_t *seen;             /* per base entry: a file carries its UID */
    bool twice;                /* a base UID on two files */
};

static bool scan_keeps(struct scan_filter *flt, uint32_t uid, flagset_t flags)
{
    if (!flt)
        return true;
    if (flt->only)
        return uid && uidvec_contains_sorted(flt->only, uid);
    if (!uid)
        return true;
    const struct store_uidflags *b = store_uidflags_find(flt->base, flt->nbase, uid);
    if (!b)
        return true;
    size_t i = (size_t)(b - flt->base);
    if (flt->seen[i]) {
        flt->twice = true;
        return true;
    }
    flt->seen[i] = 1;
    return flt->base[i].flags != flags || (flt->also && uidvec_contains_sorted(flt->also, uid));
}

static bool scan_sub(struct store_folder *f, enum maildir_sub sub, struct scan_filter *flt,
                     struct err *e)
{
    int fd = openat(f->dfd[sub], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        err_set(e, ERR_FOLDER, maildir_errkind(errno), "Maildir folder %s: cannot read %s/: %s.",
                f->path, maildir_sub_names[sub], strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (name[0] == '.' || de->d_type == DT_DIR)
            continue;
        size_t len = strlen(name);
        struct maildir_name p;
        if (!maildir_name_parse(name, len, f->st->infosep, f->fmd5, &p)) {
            log_warn("Maildir folder %s: ignoring %s/%s: the name is too long.", f->path,
                     maildir_sub_names[sub], name);
            continue;
        }
        uint32_t uid = maildir_name_folder_uid(&p);
        if (!scan_keeps(flt, uid, p.flags)) {
            errno = 0;
            continue;
        }
        size_t first = maildir_uidmap_get(&f->map, uid);
        if (first != SIZE_MAX)
            uid = resolve_duplicate(f, first, sub, name, uid);
        maildir_folder_add(f, name, len, sub, uid, p.flags);
        errno = 0;
    }
    int err = errno;
    closedir(d);
    if (err) {
        err_set(e, ERR_FOLDER, maildir_errkind(err), "Maildir folder %s: cannot read %s/: %s.",
                f->path, maildir_sub_names[sub], strerror(err));
        return false;
    }
    return true;
}

/*
 * new/ is read before cur/ because mail readers move files from new/ to
 * cur/: a file moved during the scan is then seen twice (and sorted out) but
 * never missed.  A file without UID seen in new/ and gone afterwards was such
 * a move; it is dropped so that it is not uploaded twice.
 */
static bool scan(struct store_folder *f, struct scan_filter *flt, struct err *e)
{
    struct prof_mark pm;
    prof_begin(&pm);
    if (!scan_sub(f, MD_NEW, flt, e))
        return false;
    crashpoint("maildir-new-read"); /* the tests' pause: a change between new/ and cur/ */
    if (!scan_sub(f, MD_CUR, flt, e))
        return false;
    prof_end(&pm, "maildir", "scan folder", 0);
    for (size_t i = 0; i < f->n; i++) {
        struct maildir_msg *m = &f->v[i];
        if (m->name && m->uid == 0 && m->sub == MD_NEW && vanished(f, m))
            maildir_folder_forget(f, i);
    }
    return true;
}

static void compute_fmd5(struct store_folder *f)
{
    struct maildir_store *st = f->st;
    char *visible = st->visible_name ? st->visible_name(st->visible_ctx, f->name) : NULL;
    const char *v = visible ? visible : f->name;
    /* A visible name equal to the separator is the top level, "" (folder/Base.py). */
    if (v[0] == st->sep && v[1] == '\0')
        v = "";
    maildir_name_fmd5(v, f->fmd5);
    free(visible);
}

/* Tries at reading a folder that another program keeps changing. */
#define SCAN_ATTEMPTS 3

/* new/ and cur/ as the scan began: without a watch, a change shows in these. */
struct dirs_ident {
    struct timespec mtime[2];
    off_t size[2];
    bool ok;
};

static void dirs_ident(struct store_folder *f, struct dirs_ident *d)
{
    memset(d, 0, sizeof(*d));
    d->ok = true;
    for (int i = MD_NEW; i <= MD_CUR; i++) {
        struct stat sb;
        if (fstat(f->dfd[i], &sb) != 0) {
            d->ok = false;
            return;
        }
        d->mtime[i - MD_NEW] = sb.st_mtim;
        d->size[i - MD_NEW] = sb.st_size;
    }
}

/* Another program changed the folder since before: its watch, or its directories' times. */
static bool changed_since(struct store_folder *f, const struct dirs_ident *before)
{
    if (f->watch)
        return maildir_watch_disturbed(f);
    struct dirs_ident now = {0};
    dirs_ident(f, &now);
    if (!before->ok || !now.ok)
        return false;
    for (int i = 0; i < 2; i++)
        if (now.mtime[i].tv_sec != before->mtime[i].tv_sec ||
            now.mtime[i].tv_nsec != before->mtime[i].tv_nsec || now.size[i] != before->size[i])
            return true;
    return false;
}

/* The names arena's chunk: a filtered scan keeps few names. */
static size_t names_chunk(const struct scan_filter *flt)
{
    return flt ? 4096 : 64 * 1024;
}

/* Back to before the scan, for reading the folder again. */
static void folder_forget_all(struct store_folder *f, struct scan_filter *flt)
{
    arena_free(&f->names);
    arena_init(&f->names, names_chunk(flt));
    maildir_uidmap_free(&f->map);
    memset(&f->map, 0, sizeof(f->map));
    free(f->v);
    f->v = NULL;
    f->n = f->cap = f->alive = 0;
    if (flt && flt->seen) {
        memset(flt->seen, 0, flt->nbase);
        flt->twice = false;
    }
}

static void folder_free(struct store_folder *f)
{
    maildir_batch_drop(f); /* before the directories it syncs are closed */
    maildir_watch_close(f);
    for (int i = 0; i < 3; i++)
        if (f->dfd[i] >= 0)
            close(f->dfd[i]);
    maildir_relocation_end(f);
    arena_free(&f->names);
    maildir_uidmap_free(&f->map);
    free(f->v);
    free(f->pend);
    free(f->broken);
    free(f->name);
    free(f->path);
    free(f);
}

/*
 * Files left in tmp/ by a writer that died (a crash before its batch was
 * synced and renamed) are removed after 36 hours, as the Maildir convention
 * asks of every writer; a younger file may belong to a delivery in progress.
 */
static void clean_tmp(struct store_folder *f)
{
    int fd = dup(f->dfd[MD_TMP]);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    time_t limit = time(NULL) - 36 * 3600;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        struct stat sb;
        if (fstatat(f->dfd[MD_TMP], de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(sb.st_mode) && sb.st_mtime < limit) {
            if (unlinkat(f->dfd[MD_TMP], de->d_name, 0) == 0)
                log_debug(LOGC_MAILDIR, "Maildir folder %s: removed stale tmp/%s", f->path,
                          de->d_name);
        }
    }
    closedir(d);
}

static bool open_folder(struct store *s, const char *name, bool for_write, struct scan_filter *flt,
                        struct store_folder **f_r, struct err *e)
{
    struct maildir_store *st = (struct maildir_store *)s;
    const char *canon;
    *f_r = NULL;
    if (!maildir_check_folder_name(st, name, &canon, e))
        return false;
    struct store_folder *f = xcalloc(1, sizeof(*f));
    f->st = st;
    f->name = xstrdup(canon);
    f->path = *canon ? fs_join(st->root, canon) : xstrdup(st->root);
    f->for_write = for_write;
    /* A few messages (only) need no 64 KB of names. */
    arena_init(&f->names, names_chunk(flt));
    for (int i = 0; i < 3; i++)
        f->dfd[i] = -1;
    for (int i = 0; i < 3; i++) {
        char *sub = fs_join(f->path, maildir_sub_names[i]);
        f->dfd[i] = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (f->dfd[i] < 0) {
            err_set(e, ERR_FOLDER, maildir_errkind(errno),
                    "Maildir repository %s: folder \"%s\" is not a Maildir: cannot open %s: %s.",
                    s->name, canon, sub, strerror(errno));
            free(sub);
            folder_free(f);
            return false;
        }
        free(sub);
    }
    /* Before the scan reads the directories and moves their access times. */
    if (st->restoreatime) {
        for (int i = MD_NEW; i <= MD_CUR; i++) {
            struct stat sb;
            if (fstat(f->dfd[i], &sb) == 0)
                f->atime[i] = sb.st_atim;
        }
    }
    compute_fmd5(f);
    /*
     * A file renamed while its directory is read may be seen twice, or not
     * at all (readdir's order is the directory's hash order), and a file not
     * seen reads as deleted.  The watch begins before the scan, so a change
     * another program made meanwhile (a mail reader setting a flag, a
     * delivery) shows as an event (without a watch, in the directories'
     * times and sizes): the folder is then read again, a few
     * times at most; past that, the next run finds the change by the
     * folder's stamp, as any change made during the sync.
     */
    for (int attempt = 1;; attempt++) {
        if (for_write)
            maildir_watch_begin(f);
        struct dirs_ident before = {0};
        if (!f->watch) /* a watch shows changes itself (changed_since) */
            dirs_ident(f, &before);
        if (!scan(f, flt, e)) {
            folder_free(f);
            return false;
        }
        if (attempt == SCAN_ATTEMPTS || !changed_since(f, &before))
            break;
        log_debug(LOGC_MAILDIR, "Maildir folder %s changed while it was read; reading it again",
                  f->path);
        maildir_watch_close(f);
        folder_forget_all(f, flt);
    }
    f->info.readonly = false;
    for (int i = 0; i < 3; i++)
        if (faccessat(f->dfd[i], ".", W_OK, AT_EACCESS) != 0)
            f->info.readonly = true;
    if (for_write && !f->info.readonly)
        clean_tmp(f);
    if (flt && flt->only)
        log_debug(LOGC_MAILDIR, "Maildir folder %s: %zu of the %zu UIDs asked, FMD5 %s", f->path,
                  f->alive, flt->only->n, f->fmd5);
    else if (flt)
        log_debug(LOGC_MAILDIR,
                  "Maildir folder %s: %zu messages differ from the %zu known, FMD5 %s", f->path,
                  f->alive, flt->nbase, f->fmd5);
    else
        log_debug(LOGC_MAILDIR, "Maildir folder %s: %zu messages, FMD5 %s", f->path, f->alive,
                  f->fmd5);
    *f_r = f;
    return true;
}

bool maildir_open_folder(struct store *s, const char *name, bool for_write,
                         struct store_folder **f_r, struct err *e)
{
    return open_folder(s, name, for_write, NULL, f_r, e);
}

bool maildir_open_folder_uids(struct store *s, const char *name, bool for_write,
                              const struct uidvec *uids, struct store_folder **f_r, struct err *e)
{
    struct scan_filter flt = {.only = uids};
    return open_folder(s, name, for_write, &flt, f_r, e);
}

bool maildir_open_folder_diff(struct store *s, const char *name, bool for_write,
                              const struct store_uidflags *base, size_t nbase,
                              const struct uidvec *also, struct store_folder **f_r,
                              struct uidvec *missing, bool *twice_r, struct err *e)
{
    struct scan_filter flt = {.base = base, .nbase = nbase, .also = also};
    flt.seen = xcalloc(nbase ? nbase : 1, 1);
    bool ok = open_folder(s, name, for_write, &flt, f_r, e);
    for (size_t i = 0; ok && i < nbase; i++)
        if (!flt.seen[i])
            uidvec_push(missing, base[i].uid);
    *twice_r = flt.twice;
    free(flt.seen);
    return ok;
}

void maildir_close_folder(struct store_folder **fp)
{
    struct store_folder *f = *fp;
    if (!f)
        return;
    struct err e = ERR_INIT;
    /* Callbacks still waiting learn the outcome now, error or not. */
    if (!maildir_flush(f, &e))
        log_warn("%s", e.msg);
    err_clear(&e);
    if (f->st->restoreatime) {
        /* The access times as they were; modification times untouched. */
        for (int i = MD_NEW; i <= MD_CUR; i++) {
            struct timespec ts[2] = {f->atime[i], {.tv_nsec = UTIME_OMIT}};
            if (f->dfd[i] >= 0 && f->atime[i].tv_sec)
                futimens(f->dfd[i], ts);
        }
    }
    folder_free(f);
    *fp = NULL;
}

const struct store_folder_info *maildir_folder_info(struct store_folder *f)
{
    f->info.uidvalidity = 0;
    f->info.uidnext = 0;
    f->info.highestmodseq = 0;
    f->info.exists = f->alive > UINT32_MAX ? UINT32_MAX : (uint32_t)f->alive;
    return &f->info;
}

/*
 * size and date need a stat; only asked-for data costs one.  A file that
 * vanished since the scan is still listed (without size or date): dropping
 * it could read as a local deletion, and a later fetch or rename looks for
 * its new name anyway.
 */
static bool stat_msg(struct store_folder *f, const struct maildir_msg *m, struct store_msg *out)
{
    struct stat sb;
    if (fstatat(f->dfd[m->sub], m->name, &sb, 0) != 0) {
        log_debug(LOGC_MAILDIR, "Maildir folder %s: cannot stat %s/%s: %s", f->path,
                  maildir_sub_names[m->sub], m->name, strerror(errno));
        return false;
    }
    out->size = (uint64_t)sb.st_size;
    out->date = (int64_t)sb.st_mtime;
    return true;
}

/*
 * maxage (min_date) uses the time stamp in the file name, as offlineimap's
 * _iswithintime does: it needs no stat, and it is the delivery time of the
 * name offlineimap gave the file, where mtime changes with copies and
 * restores.  Files outside the window whose UID is above the lowest UID
 * inside it are put back, as offlineimap's _scanfolder does, so that both
 * sides list the same UID range.
 */
bool maildir_list_msgs(struct store_folder *f, const struct store_list_opts *opts,
                       struct store_msg_list *out, struct err *e)
{
    static const struct store_list_opts no_opts;
    if (!opts)
        opts = &no_opts;
    bool need_stat = opts->want_size || opts->want_date || opts->max_size;
    size_t start = out->n;
    uint32_t *excluded = NULL;
    size_t nexcl = 0;
    for (size_t i = 0; i < f->n; i++) {
        const struct maildir_msg *m = &f->v[i];
        if (!m->name)
            continue;
        if (opts->min_uid && m->uid && m->uid < opts->min_uid)
            continue;
        struct store_msg sm = {.uid = m->uid, .key = (uint32_t)i, .flags = m->flags};
        if (need_stat && stat_msg(f, m, &sm) && opts->max_size && sm.size > opts->max_size)
            continue;
        if (!opts->want_size)
            sm.size = 0;
        if (!opts->want_date)
            sm.date = 0;
        if (opts->min_date) {
            struct maildir_name p;
            if (maildir_name_parse(m->name, strlen(m->name), f->st->infosep, NULL, &p) &&
                p.has_time && p.time < opts->min_date) {
                if (m->uid) {
                    excluded = xreallocarray(excluded, nexcl + 1, sizeof(*excluded));
                    excluded[nexcl++] = (uint32_t)i;
                }
                continue;
            }
        }
        store_msg_list_push(out, &sm);
    }
    if (nexcl) {
        uint32_t min_uid = 0;
        for (size_t i = start; i < out->n; i++)
            if (out->v[i].uid && (!min_uid || out->v[i].uid < min_uid))
                min_uid = out->v[i].uid;
        for (size_t k = 0; min_uid && k < nexcl; k++) {
            const struct maildir_msg *m = &f->v[excluded[k]];
            if (m->uid <= min_uid)
                continue;
            struct store_msg sm = {.uid = m->uid, .key = excluded[k], .flags = m->flags};
            if (need_stat)
                stat_msg(f, m, &sm);
            if (!opts->want_size)
                sm.size = 0;
            if (!opts->want_date)
                sm.date = 0;
            store_msg_list_push(out, &sm);
        }
    }
    free(excluded);
    (void)e;
    return true;
}
