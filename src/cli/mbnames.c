/*
 * mbnames: intermediate files per account, the final mailbox-list file and
 * --mbnames-prune (see mbnames.h).
 */
#include "cli/mbnames.h"

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cli/mbnames_json.h"
#include "config/config_py.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The folders one account synced in this process (offlineimap's _IntermediateMbnames). */
struct mb_account {
    char *name;
    char *root;
    struct strvec folders; /* in the order they were added, each once */
};

struct mbnames {
    const struct config *cfg;
    bool dry_run;
    bool incremental;
    bool durable;
    char *dir;  /* <metadata>/mbnames */
    char *path; /* [mbnames] filename */
    char *header, *sep, *footer;
    const char *peritem;
    struct py_expr *folderfilter; /* NULL: lambda acct, folder: True */
    struct py_expr *sort_keyfunc; /* NULL: lambda d: (d['accountname'], d['foldername']) */
    pthread_mutex_t lock;
    struct mb_account *acc;
    size_t nacc;
};

static bool eval_str(const struct config *cfg, const struct config_expr *x, const char *option,
                     char **out_r, struct err *e)
{
    struct py_expr *px = py_expr_new(x, cfg->path, "mbnames", option, false, e);
    bool ok = px && py_eval_str(px, out_r, e);
    if (ok && !*out_r) {
        err_set(e, ERR_CRITICAL, ERRK_CONFIG, "%s: the expression gave no text.",
                py_expr_where(px));
        ok = false;
    }
    py_expr_free(&px);
    return ok;
}

static char *mbnames_dir(const struct config *cfg)
{
    return fs_join(cfg->general.metadata, "mbnames");
}

/* Only the fields mbnames_prune and the constructor share. */
static struct mbnames *mb_alloc(const struct config *cfg, bool dry_run)
{
    struct mbnames *m = xcalloc(1, sizeof(*m));
    m->cfg = cfg;
    m->dry_run = dry_run;
    m->durable = cfg->general.fsync;
    m->incremental = cfg->mbnames.incremental;
    m->dir = mbnames_dir(cfg);
    m->path = cfg->mbnames.filename ? xstrdup(cfg->mbnames.filename) : NULL;
    m->peritem = cfg->mbnames.peritem;
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

bool mbnames_new(const struct config *cfg, bool dry_run, struct mbnames **m_r, struct err *e)
{
    *m_r = NULL;
    const struct config_mbnames *c = &cfg->mbnames;
    if (!c->present || !c->enabled)
        return true;
    struct mbnames *m = mb_alloc(cfg, dry_run);
    bool ok = m->path && m->peritem && eval_str(cfg, &c->header, "header", &m->header, e) &&
              eval_str(cfg, &c->sep, "sep", &m->sep, e) &&
              eval_str(cfg, &c->footer, "footer", &m->footer, e);
    if (ok && c->folderfilter.text)
        ok = (m->folderfilter =
                  py_expr_new(&c->folderfilter, cfg->path, "mbnames", "folderfilter", true, e));
    if (ok && c->sort_keyfunc.text)
        ok = (m->sort_keyfunc =
                  py_expr_new(&c->sort_keyfunc, cfg->path, "mbnames", "sort_keyfunc", true, e));
    /* offlineimap: makedirs(mbnamesdir), errors ignored; a failure shows when writing. */
    if (ok && !dry_run) {
        struct err de = ERR_INIT;
        fs_mkdir_p(m->dir, 0700, &de);
        err_clear(&de);
    }
    if (!ok) {
        if (!err_isset(e))
            err_set(e, ERR_CRITICAL, ERRK_CONFIG,
                    "%s: [mbnames] needs filename, header, peritem, sep and footer.", cfg->path);
        mbnames_free(&m);
        return false;
    }
    *m_r = m;
    return true;
}

void mbnames_free(struct mbnames **mp)
{
    struct mbnames *m = *mp;
    if (!m)
        return;
    for (size_t i = 0; i < m->nacc; i++) {
        free(m->acc[i].name);
        free(m->acc[i].root);
        strvec_free(&m->acc[i].folders);
    }
    free(m->acc);
    py_expr_free(&m->folderfilter);
    py_expr_free(&m->sort_keyfunc);
    free(m->header);
    free(m->sep);
    free(m->footer);
    free(m->dir);
    free(m->path);
    pthread_mutex_destroy(&m->lock);
    free(m);
    *mp = NULL;
}

static struct mb_account *find_account(struct mbnames *m, const char *name)
{
    for (size_t i = 0; i < m->nacc; i++)
        if (!strcmp(m->acc[i].name, name))
            return &m->acc[i];
    return NULL;
}

void mbnames_add(struct mbnames *m, const char *account, const char *root, const char *folder)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    struct mb_account *a = find_account(m, account);
    if (!a) {
        m->acc = xreallocarray(m->acc, m->nacc + 1, sizeof(*m->acc));
        a = &m->acc[m->nacc++];
        memset(a, 0, sizeof(*a));
        a->name = xstrdup(account);
        a->root = root ? xstrdup(root) : NULL;
    }
    if (!strvec_contains(&a->folders, folder))
        strvec_push(&a->folders, folder);
    pthread_mutex_unlock(&m->lock);
}

/*
 * Replace path with data atomically: a temporary file beside it, renamed over
 * it.  A symbolic link is followed (the link stays, its target is replaced),
 * and the mode of an existing file is kept; a new file gets 0666 less the
 * umask, as Python's open() gives it.
 */
static bool replace_file(const char *path, const char *data, size_t len, bool durable,
                         struct err *e)
{
    char *target = NULL;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        target = realpath(path, NULL);
    const char *dst = target ? target : path;
    bool have_mode = stat(dst, &st) == 0;
    char *tmp = xasprintf("%s.%ld.tmp", dst, (long)getpid());
    bool ok = false;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "cannot create %s: %s.", tmp, strerror(errno));
        goto out;
    }
    if ((have_mode && fchmod(fd, st.st_mode & 07777) != 0) || !fs_write_all(fd, data, len) ||
        (durable && fsync(fd) != 0)) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "cannot write %s: %s.", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) != 0 || rename(tmp, dst) != 0) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "cannot write %s: %s.", dst, strerror(errno));
        unlink(tmp);
        goto out;
    }
    ok = !durable || fs_fsync_parent(dst, e);
out:
    free(tmp);
    free(target);
    return ok;
}

/* The intermediate file of one account (offlineimap's _IntermediateMbnames.write). */
static bool write_intermediate(struct mbnames *m, const struct mb_account *a)
{
    struct mbnames_items items = MBNAMES_ITEMS_INIT;
    bool ok = true;
    for (size_t i = 0; i < a->folders.n && ok; i++) {
        bool keep = true;
        struct err e = ERR_INIT;
        if (m->folderfilter &&
            !py_call_str2_bool(m->folderfilter, a->name, a->folders.v[i], &keep, &e)) {
            log_error("mbnames: %s", e.msg);
            err_clear(&e);
            ok = false;
        }
        if (ok && keep)
            mbnames_items_push(&items, a->name, a->folders.v[i], a->root);
    }
    char *name = xasprintf("%s.json", a->name);
    char *path = fs_join(m->dir, name);
    free(name);
    if (!ok) {
        log_error("intermediate mbnames file %s not written: the folderfilter failed.", path);
    } else if (m->dry_run) {
        log_info("mbnames would write %s", path);
    } else {
        struct buf b;
        buf_init(&b, BUF_UNBOUNDED);
        mbnames_json_write(&items, &b);
        struct err e = ERR_INIT;
        if (!replace_file(path, b.data, b.len, m->durable, &e)) {
            log_error("intermediate mbnames file %s not properly written: %s", path, e.msg);
            err_clear(&e);
            ok = false;
        }
        buf_release(&b);
    }
    free(path);
    mbnames_items_free(&items);
    return ok;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json regular files of the directory, sorted by name (full paths). */
static bool list_intermediates(const char *dir, struct strvec *out)
{
    DIR *d = opendir(dir);
    if (!d) {
        log_error("cannot read the mbnames directory %s: %s", dir, strerror(errno));
        return false;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!str_has_suffix(de->d_name, ".json"))
            continue;
        char *p = fs_join(dir, de->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
            strvec_push_owned(out, p);
        else
            free(p);
    }
    closedir(d);
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(*out->v), cmp_str);
    return true;
}

struct order {
    const struct mbnames_item *it;
    size_t i;
};

static int cmp_default_key(const void *a, const void *b)
{
    const struct order *x = a, *y = b;
    int c = strcmp(x->it->account, y->it->account);
    if (!c)
        c = strcmp(x->it->folder, y->it->folder);
    if (!c)
        c = x->i < y->i ? -1 : x->i > y->i; /* list.sort is stable */
    return c;
}

/* itemlist.sort(key=sort_keyfunc). */
static bool sort_items(struct mbnames *m, struct mbnames_items *items)
{
    if (items->n < 2)
        return true;
    if (!m->sort_keyfunc) {
        struct order *o = xcalloc(items->n, sizeof(*o));
        for (size_t i = 0; i < items->n; i++)
            o[i] = (struct order){&items->v[i], i};
        qsort(o, items->n, sizeof(*o), cmp_default_key);
        struct mbnames_item *v = xcalloc(items->n, sizeof(*v));
        for (size_t i = 0; i < items->n; i++)
            v[i] = *o[i].it;
        memcpy(items->v, v, items->n * sizeof(*v));
        free(v);
        free(o);
        return true;
    }
    /*
     * py_sort_mbnames sorts three parallel string vectors; a null
     * localfolders travels as NULL and is None in Python.
     */
    struct strvec acc = STRVEC_INIT, fol = STRVEC_INIT, root = STRVEC_INIT;
    for (size_t i = 0; i < items->n; i++) {
        strvec_push_owned(&acc, items->v[i].account);
        strvec_push_owned(&fol, items->v[i].folder);
        if (root.n == root.cap) {
            root.cap = root.cap ? root.cap * 2 : 16;
            root.v = xreallocarray(root.v, root.cap, sizeof(*root.v));
        }
        root.v[root.n++] = items->v[i].root;
    }
    struct err e = ERR_INIT;
    bool ok = py_sort_mbnames(m->sort_keyfunc, &acc, &fol, &root, &e);
    if (!ok) {
        log_error("mbnames: %s", e.msg);
        err_clear(&e);
    }
    for (size_t i = 0; i < items->n; i++) {
        items->v[i].account = acc.v[i];
        items->v[i].folder = fol.v[i];
        items->v[i].root = root.v[i];
    }
    free(acc.v);
    free(fol.v);
    free(root.v);
    return ok;
}

/* The final file (offlineimap's _Mbnames.write); the lock is held. */
static bool write_final(struct mbnames *m)
{
    struct strvec files = STRVEC_INIT;
    struct mbnames_items items = MBNAMES_ITEMS_INIT;
    bool ok = list_intermediates(m->dir, &files);
    for (size_t i = 0; i < files.n; i++) {
        struct buf b;
        buf_init(&b, MBNAMES_JSON_MAX);
        struct err e = ERR_INIT;
        if (!fs_read_file(files.v[i], MBNAMES_JSON_MAX, &b, &e) ||
            !mbnames_json_parse(b.data, b.len, files.v[i], &items, &e)) {
            log_error("intermediate mbnames file %s not properly read: %s", files.v[i], e.msg);
            err_clear(&e);
            ok = false;
        }
        buf_release(&b);
    }
    strvec_free(&files);
    bool write = sort_items(m, &items);
    struct buf out;
    buf_init(&out, BUF_UNBOUNDED);
    buf_append_str(&out, m->header);
    for (size_t i = 0; i < items.n && write; i++) {
        char *s = NULL;
        struct err e = ERR_INIT;
        const struct mbnames_item *it = &items.v[i];
        if (!py_format_item(m->peritem, it->account, it->folder, it->root, &s, &e)) {
            log_error("mbnames: %s", e.msg);
            err_clear(&e);
            write = false;
            break;
        }
        if (i)
            buf_append_str(&out, m->sep);
        buf_append_str(&out, s);
        free(s);
    }
    buf_append_str(&out, m->footer);
    if (!write) {
        log_error("mbnames file %s not written.", m->path);
        ok = false;
    } else if (m->dry_run) {
        log_info("mbnames would write %s", m->path);
    } else {
        struct err e = ERR_INIT;
        if (!replace_file(m->path, out.data, out.len, m->durable, &e)) {
            log_error("mbnames file %s not properly written: %s", m->path, e.msg);
            err_clear(&e);
            ok = false;
        }
    }
    buf_release(&out);
    mbnames_items_free(&items);
    return ok;
}

bool mbnames_account_done(struct mbnames *m, const char *account)
{
    if (!m)
        return true;
    pthread_mutex_lock(&m->lock);
    const struct mb_account *a = find_account(m, account);
    bool ok = true;
    if (a) {
        ok = write_intermediate(m, a);
        if (m->incremental)
            ok = write_final(m) && ok;
    }
    pthread_mutex_unlock(&m->lock);
    return ok;
}

bool mbnames_run_done(struct mbnames *m)
{
    if (!m || m->incremental)
        return true;
    pthread_mutex_lock(&m->lock);
    bool ok = write_final(m);
    pthread_mutex_unlock(&m->lock);
    return ok;
}

static bool remove_intermediate(const char *path, bool dry_run)
{
    if (dry_run) {
        log_info("mbnames would remove %s", path);
        return true;
    }
    if (unlink(path) != 0) {
        log_error("cannot remove the intermediate mbnames file %s: %s", path, strerror(errno));
        return false;
    }
    log_info("removed %s", path);
    return true;
}

bool mbnames_prune(const struct config *cfg, bool dry_run, struct err *e)
{
    struct mbnames *m = NULL;
    if (!mbnames_new(cfg, dry_run, &m, e))
        return false;
    bool enabled = m != NULL;
    if (!m) {
        m = mb_alloc(cfg, dry_run);
        if (!dry_run) {
            struct err de = ERR_INIT;
            fs_mkdir_p(m->dir, 0700, &de);
            err_clear(&de);
        }
    }
    struct strvec files = STRVEC_INIT;
    bool ok = list_intermediates(m->dir, &files), removed = false;
    for (size_t i = 0; i < files.n; i++) {
        const char *base = strrchr(files.v[i], '/');
        base = base ? base + 1 : files.v[i];
        char *name = xstrdup(base);
        name[strlen(name) - 5] = '\0'; /* ".json" */
        if (!enabled || !strvec_contains(&cfg->general.accounts, name)) {
            ok = remove_intermediate(files.v[i], dry_run) && ok;
            removed = true;
        }
        free(name);
    }
    strvec_free(&files);
    if (enabled && !removed)
        log_info("no cache file to remove");
    if (enabled)
        ok = write_final(m) && ok;
    mbnames_free(&m);
    if (!ok && !err_isset(e))
        err_set(e, ERR_CRITICAL, ERRK_GENERIC,
                "--mbnames-prune did not finish cleanly (see the "
                "errors above).");
    return ok;
}
