/*
 * store_maildir: the repository side of the Maildir store: the root, the
 * folder tree (offlineimap's repository/Maildir.py) and the operation table.
 */
#include "store/maildir_priv.h"
#include "store/maildir_watch.h"

#include "base/fsutil.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deeper nesting than this is not listed (and loops through symlinks end). */
#define MAILDIR_MAX_DEPTH 64

const char *const maildir_sub_names[3] = {"new", "cur", "tmp"};

enum err_kind maildir_errkind(int errnum)
{
    return errnum == ENOSPC || errnum == EDQUOT ? ERRK_NOSPACE : ERRK_GENERIC;
}

static struct maildir_store *ms(struct store *s)
{
    return (struct maildir_store *)s;
}

/*
 * offlineimap creates a missing root with makedirs().  A root that vanished
 * may be a disk that is not mounted, so only the last component is created,
 * and only when its parent exists.
 */
static bool md_connect(struct store *s, struct err *e)
{
    struct maildir_store *st = ms(s);
    if (!*st->root) {
        err_set(e, ERR_REPO, ERRK_CONFIG, "Maildir repository %s: localfolders is empty.", s->name);
        return false;
    }
    struct stat sb;
    if (stat(st->root, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return true;
        err_set(e, ERR_REPO, ERRK_GENERIC,
                "Maildir repository %s: localfolders %s exists but is not a directory.", s->name,
                st->root);
        return false;
    }
    if (errno != ENOENT) {
        err_set(e, ERR_REPO, maildir_errkind(errno),
                "Maildir repository %s: cannot access localfolders %s: %s.", s->name, st->root,
                strerror(errno));
        return false;
    }
    const char *slash = strrchr(st->root, '/');
    char *parent = !slash              ? xstrdup(".")
                   : slash == st->root ? xstrdup("/")
                                       : xstrndup(st->root, (size_t)(slash - st->root));
    if (!fs_is_dir(parent)) {
        err_set(e, ERR_REPO, ERRK_GENERIC,
                "Maildir repository %s: localfolders %s does not exist, nor does its parent "
                "directory %s; is the disk mounted?  Create the directory to start afresh.",
                s->name, st->root, parent);
        free(parent);
        return false;
    }
    if (mkdir(st->root, 0700) != 0) {
        err_set(e, ERR_REPO, maildir_errkind(errno),
                "Maildir repository %s: cannot create localfolders %s: %s.", s->name, st->root,
                strerror(errno));
        free(parent);
        return false;
    }
    /* offlineimap creates it silently; say so only when debugging. */
    log_debug(LOGC_MAILDIR, "Maildir repository %s: localfolders %s did not exist; created it.",
              s->name, st->root);
    bool ok = !st->fsync || fs_fsync_dir(parent, e);
    free(parent);
    if (!ok)
        e->scope = ERR_REPO;
    return ok;
}

/* True if dirfd/name is a directory holding cur/, new/ and tmp/ directories. */
static bool is_maildir(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = true;
    for (int i = 0; i < 3 && ok; i++) {
        struct stat sb;
        ok = fstatat(fd, maildir_sub_names[i], &sb, 0) == 0 && S_ISDIR(sb.st_mode);
    }
    close(fd);
    return ok;
}

static bool is_special(const char *name)
{
    return !strcmp(name, "cur") || !strcmp(name, "new") || !strcmp(name, "tmp");
}

static void add_folder(struct store_folder_list *out, const char *name)
{
    if (out->n == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 16;
        out->v = xreallocarray(out->v, out->cap, sizeof(*out->v));
    }
    out->v[out->n].name = xstrdup(name);
    out->v[out->n].noselect = false;
    out->n++;
}

struct scan_frame {
    dev_t dev;
    ino_t ino;
};

/* _getfolders_scandir: direct sub-directories, and their descendants with sep '/'. */
static bool scan_tree(struct maildir_store *st, int dirfd, const char *prefix,
                      struct scan_frame *stack, int depth, struct store_folder_list *out,
                      struct err *e)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        err_set(e, depth == 0 ? ERR_REPO : ERR_FOLDER, maildir_errkind(errno),
                "Maildir repository %s: cannot list %s%s%s: %s.", st->base.name, st->root,
                *prefix ? "/" : "", prefix, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    bool ok = true;
    struct dirent *de;
    errno = 0;
    while (ok && (de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (!strcmp(n, ".") || !strcmp(n, "..") || is_special(n))
            continue;
        if (de->d_type != DT_DIR && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
            continue;
        struct stat sb;
        if (fstatat(dirfd, n, &sb, 0) != 0 || !S_ISDIR(sb.st_mode))
            continue;
        char *fname = *prefix ? xasprintf("%s/%s", prefix, n) : xstrdup(n);
        if (is_maildir(dirfd, n))
            add_folder(out, fname);
        if (st->sep == '/') {
            bool loop = false;
            for (int i = 0; i <= depth; i++)
                loop |= stack[i].dev == sb.st_dev && stack[i].ino == sb.st_ino;
            int sub = -1;
            if (loop || depth + 1 >= MAILDIR_MAX_DEPTH)
                log_warn("Maildir repository %s: not descending into %s/%s (%s).", st->base.name,
                         st->root, fname, loop ? "a directory loop" : "nested too deep");
            else if ((sub = openat(dirfd, n, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                log_debug(LOGC_MAILDIR, "Maildir repository %s: skipping %s/%s: %s", st->base.name,
                          st->root, fname, strerror(errno));
            if (sub >= 0) {
                stack[depth + 1] = (struct scan_frame){sb.st_dev, sb.st_ino};
                ok = scan_tree(st, sub, fname, stack, depth + 1, out, e);
                close(sub);
            }
        }
        free(fname);
        errno = 0;
    }
    if (ok && errno != 0) {
        err_set(e, ERR_REPO, maildir_errkind(errno), "Maildir repository %s: cannot list %s: %s.",
                st->base.name, st->root, strerror(errno));
        ok = false;
    }
    closedir(d);
    return ok;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct store_folder_entry *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static bool md_list_folders(struct store *s, struct store_folder_list *out, struct err *e)
{
    struct maildir_store *st = ms(s);
    out->sep = st->sep;
    int fd = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        err_set(e, ERR_REPO, maildir_errkind(errno),
                "Maildir repository %s: cannot open localfolders %s: %s.", s->name, st->root,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    size_t start = out->n;
    /* The root itself is the folder "" when it is a Maildir. */
    if (is_maildir(fd, "."))
        add_folder(out, "");
    struct scan_frame stack[MAILDIR_MAX_DEPTH];
    stack[0] = (struct scan_frame){sb.st_dev, sb.st_ino};
    bool ok = scan_tree(st, fd, "", stack, 0, out, e);
    close(fd);
    if (!ok) {
        for (size_t i = start; i < out->n; i++)
            free(out->v[i].name);
        out->n = start;
        return false;
    }
    if (out->n > start)
        qsort(out->v + start, out->n - start, sizeof(*out->v), cmp_entry);
    return true;
}

/* fsync dir and each ancestor up to and including the root. */
static bool fsync_up(const struct maildir_store *st, const char *path, struct err *e)
{
    char *p = xstrdup(path);
    size_t rootlen = strlen(st->root);
    bool ok = true;
    for (;;) {
        ok = fs_fsync_dir(p, e);
        if (!ok || strlen(p) <= rootlen)
            break;
        char *slash = strrchr(p, '/');
        if (!slash || (size_t)(slash - p) < rootlen)
            break;
        *slash = '\0';
    }
    free(p);
    return ok;
}

static bool md_create_folder(struct store *s, const char *name, struct err *e)
{
    struct maildir_store *st = ms(s);
    const char *canon;
    if (!maildir_check_folder_name(st, name, &canon, e))
        return false;
    /* Parents are created as needed, but never the root (see md_connect). */
    if (!fs_is_dir(st->root)) {
        err_set(e, ERR_REPO, ERRK_GENERIC,
                "Maildir repository %s: cannot create folder \"%s\": localfolders %s is not a "
                "directory.",
                s->name, canon, st->root);
        return false;
    }
    char *path = *canon ? fs_join(st->root, canon) : xstrdup(st->root);
    bool ok = fs_mkdir_p(path, 0700, e);
    for (int i = 0; ok && i < 3; i++) {
        char *sub = fs_join(path, maildir_sub_names[i]);
        if (mkdir(sub, 0700) != 0 && !(errno == EEXIST && fs_is_dir(sub))) {
            err_set(e, ERR_FOLDER, maildir_errkind(errno), "cannot create directory %s: %s", sub,
                    strerror(errno));
            ok = false;
        }
        free(sub);
    }
    if (ok && st->fsync)
        ok = fsync_up(st, path, e);
    if (!ok)
        err_prefix(e, "Maildir repository %s: creating folder \"%s\": ", s->name, canon);
    free(path);
    return ok;
}

/* Number of entries (other than . and ..) in dir, or -1 with errno set. */
static long count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    long n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/*
 * offlineimap never deletes a Maildir folder ("NOT YET IMPLEMENTED").  Here a
 * folder is removed only when it holds nothing: a folder with files is a
 * guard error, never a recursive delete.
 */
static bool md_delete_folder(struct store *s, const char *name, struct err *e)
{
    struct maildir_store *st = ms(s);
    const char *canon;
    if (!maildir_check_folder_name(st, name, &canon, e))
        return false;
    if (!*canon) {
        err_set(e, ERR_FOLDER, ERRK_GUARD,
                "Maildir repository %s: refusing to delete the root folder %s.", s->name, st->root);
        return false;
    }
    char *path = fs_join(st->root, canon);
    char *subs[3];
    bool ok = true;
    for (int i = 0; i < 3; i++)
        subs[i] = fs_join(path, maildir_sub_names[i]);
    for (int i = 0; i < 3 && ok; i++) {
        long n = count_entries(subs[i]);
        if (n < 0 && errno != ENOENT) {
            err_set(e, ERR_FOLDER, maildir_errkind(errno),
                    "Maildir repository %s: cannot delete folder \"%s\": cannot read %s: %s.",
                    s->name, canon, subs[i], strerror(errno));
            ok = false;
        } else if (n > 0) {
            err_set(e, ERR_FOLDER, ERRK_GUARD,
                    "Maildir repository %s: refusing to delete folder \"%s\": %s holds %ld "
                    "file(s).",
                    s->name, canon, subs[i], n);
            ok = false;
        }
    }
    for (int i = 0; i < 3 && ok; i++) {
        if (rmdir(subs[i]) != 0 && errno != ENOENT) {
            err_set(e, ERR_FOLDER, maildir_errkind(errno),
                    "Maildir repository %s: cannot delete folder \"%s\": cannot remove %s: %s.",
                    s->name, canon, subs[i], strerror(errno));
            ok = false;
        }
    }
    /* Sub-folders (sep '/') or foreign files keep the directory itself. */
    if (ok && rmdir(path) != 0 && errno != ENOENT)
        log_debug(LOGC_MAILDIR, "Maildir: kept directory %s after deleting folder %s: %s", path,
                  canon, strerror(errno));
    if (ok && st->fsync) {
        char *slash = strrchr(path, '/');
        *slash = '\0';
        ok = fs_fsync_dir(path, e);
    }
    for (int i = 0; i < 3; i++)
        free(subs[i]);
    free(path);
    return ok;
}

static void md_free(struct store *s)
{
    if (!s)
        return;
    struct maildir_store *st = ms(s);
    maildir_watcher_free(st);
    pthread_mutex_destroy(&st->watch_lock);
    free(st->root);
    free(s->name);
    free(st);
}

static const struct store_ops maildir_ops = {
    .type_name = "Maildir",
    .connect = md_connect,
    .list_folders = md_list_folders,
    .create_folder = md_create_folder,
    .delete_folder = md_delete_folder,
    .open_folder = maildir_open_folder,
    .open_folder_uids = maildir_open_folder_uids,
    .open_folder_diff = maildir_open_folder_diff,
    .close_folder = maildir_close_folder,
    .folder_info = maildir_folder_info,
    .list_msgs = maildir_list_msgs,
    .fetch = maildir_fetch,
    .save_begin = maildir_save_begin,
    .save_write = maildir_save_write,
    .save_commit = maildir_save_commit,
    .save_abort = maildir_save_abort,
    .flush = maildir_flush,
    .set_flags = maildir_set_flags,
    .delete_msgs = maildir_delete_msgs,
    .set_uid = maildir_set_uid,
    .sync_meta = maildir_sync_meta,
    .msg_ident = maildir_msg_ident,
    .msg_info = maildir_msg_info,
    .folder_stamp = maildir_folder_stamp,
    .take_watch = maildir_take_watch,
    .finish_watch = maildir_finish_watch,
    .adopt_foreign = maildir_adopt_foreign,
    .free = md_free,
};

struct store *store_maildir_new(const struct maildir_opts *o)
{
    struct maildir_store *st = xcalloc(1, sizeof(*st));
    pthread_mutex_init(&st->watch_lock, NULL);
    st->base.ops = &maildir_ops;
    st->base.name = xstrdup(o->name ? o->name : "");
    st->root = xstrdup(o->root ? o->root : "");
    /* "localfolders = ~/Mail/" and "~/Mail" are the same tree. */
    size_t len = strlen(st->root);
    while (len > 1 && st->root[len - 1] == '/')
        st->root[--len] = '\0';
    /* Any separator but '/' keeps folders flat, as in offlineimap. */
    st->sep = o->sep ? o->sep : '.';
    st->infosep = o->windows_compatible ? '!' : ':';
    st->fsync = o->fsync;
    st->visible_name = o->visible_name;
    st->visible_ctx = o->visible_ctx;
    st->batch_msgs = o->batch_msgs ? o->batch_msgs : MAILDIR_DEFAULT_BATCH_MSGS;
    st->batch_bytes = o->batch_bytes ? o->batch_bytes : MAILDIR_DEFAULT_BATCH_BYTES;
    st->per_file_fsync = o->per_file_fsync;
    st->name_from_date = o->filename_use_mail_timestamp;
    st->utime_from_date = o->utime_from_header;
    st->restoreatime = o->restoreatime;
    return &st->base;
}
