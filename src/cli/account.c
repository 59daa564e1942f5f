#include "cli/account.h"
#include "base/crashpoint.h"

#include "base/fsutil.h"
#include "base/log.h"
#include "base/prof.h"
#include "base/runctl.h"
#include "base/xalloc.h"
#include "cli/foldermap.h"
#include "cli/hooks.h"
#include "cli/mbnames.h"
#include "config/config_py.h"
#include "status/status_db.h"
#include "status/status_lock.h"
#include "status/status_paths.h"
#include "sync/sync_folder.h"
#include "sync/sync_skip.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* One folder to sync: its names on both sides. */
struct folder_pair {
    char *remote;
    char *remote_vis; /* its translated name (remote nametrans) */
    char *local;
    bool local_absent;  /* dry run: would be created locally */
    bool remote_absent; /* dry run: would be created on the server */
    bool has_status;    /* the server's counters came with the folder list */
    struct store_folder_status status;
    bool done;          /* unchanged by the skip list: no worker needed */
};

struct folder_jobs {
    const struct account_cfg *a;
    char remote_sep;
    struct folder_pair *v;
    size_t n;
    size_t next; /* under lock */
    pthread_mutex_t lock;
    struct account_result res; /* under lock */
    struct skip_list skip_old; /* read at the start */
    struct skip_list skip_new; /* under lock: lines for the next run */
    struct pending_line *pend; /* under lock: lines waiting for their local stamp */
    size_t npend, pend_cap;
    int64_t started_ns;
};

struct pending_line {
    struct skip_entry *en;
    struct store_watch *watch;
    int64_t done_ns; /* when the folder's sync ended: its last change is older */
};

static char *translate_sep(const char *name, char from, char to)
{
    char *s = xstrdup(name);
    if (from && to && from != to)
        for (char *p = s; *p; p++)
            if (*p == from)
                *p = to;
    return s;
}


/* The local separator: the Maildir's sep, or an IMAP local side's from its listing. */
static char local_sep(const struct account_cfg *a)
{
    if (a->local_sep)
        return a->local_sep;
    return a->fmap && a->fmap->lsep ? a->fmap->lsep : '.';
}

/* startdate's StartUID file of the partial side's folder (NULL without startdate). */
static bool startuid_path(const struct account_cfg *a, const struct folder_pair *fp, char rsep,
                          char **path_r, struct err *e)
{
    *path_r = NULL;
    if (!a->startdate_side)
        return true;
    bool remote = a->startdate_side == SYNC_START_REMOTE;
    char sep_s[2] = {remote ? (rsep ? rsep : '.') : local_sep(a), '\0'};
    char *base = status_folder_basename(remote ? fp->remote : fp->local, sep_s);
    bool ok = status_path_startuid(a->metadata, remote ? a->remote->name : a->local->name, base,
                                   path_r, e);
    free(base);
    return ok;
}

/* The remote folder's status and validity file names, as offlineimap builds them. */
static bool folder_paths(const struct account_cfg *a, const struct folder_pair *fp, char rsep,
                         char **status_r, char **plain_r, char **rval_r, char **lval_r,
                         struct err *e)
{
    char rsep_s[2] = {rsep ? rsep : '.', '\0'};
    char lsep_s[2] = {local_sep(a), '\0'};
    /* offlineimap: the remote visible name with the remote separator made '.'. */
    char *sname = translate_sep(fp->remote_vis ? fp->remote_vis : fp->remote, rsep, '.');
    char *sbase = status_folder_basename(sname, ".");
    free(sname);
    char *rbase = status_folder_basename(fp->remote, rsep_s);
    char *lbase = status_folder_basename(fp->local, lsep_s);
    bool ok = status_path_sqlite(a->metadata, a->name, sbase, status_r, e) &&
              status_path_plain(a->metadata, a->name, sbase, plain_r, e) &&
              status_path_validity(a->metadata, a->remote->name, rbase, rval_r, e) &&
              status_path_validity(a->metadata, a->local->name, lbase, lval_r, e);
    free(sbase);
    free(rbase);
    free(lbase);
    return ok;
}

static void set_folder_thread_name(const struct account_cfg *a, const struct folder_pair *fp)
{
    if (fp->remote_vis && strcmp(fp->remote_vis, fp->remote) != 0)
        log_set_thread_name("Folder %s [remote name %s] [acc: %s]", fp->remote_vis, fp->remote,
                            a->name);
    else
        log_set_thread_name("Folder %s [acc: %s]", fp->remote, a->name);
}

static void emit_syncing(const struct account_cfg *a, const struct folder_pair *fp)
{
    struct log_event ev = {
        .type = EV_SYNCING_FOLDER,
        .account = a->name,
        .folder = fp->remote,
        .repo = a->remote->name,
        .repo_type = store_type(a->remote),
        .dst_repo = a->local->name,
        .dst_type = store_type(a->local),
        .dst_folder = fp->local,
    };
    log_emit(&ev);
}

static struct sync_folder_job make_job(const struct account_cfg *a, const struct folder_pair *fp,
                                       const char *status, const char *plain, const char *rval,
                                       const char *lval, const struct uidvec *ignore)
{
    return (struct sync_folder_job){
            .account = a->name,
            .remote = a->remote,
            .local = a->local,
            .remote_name = fp->remote,
            .local_name = fp->local,
            .status_path = status,
            .plain_status_path = plain,
            .remote_validity_path = rval,
            .local_validity_path = lval,
            .plan =
                {
                    .local_readonly = a->local_readonly,
                    .remote_readonly = a->remote_readonly,
                    .remote_sync_deletes = a->remote_sync_deletes,
                    .local_sync_deletes = a->local_sync_deletes,
                },
            .dry_run = a->dry_run,
            .fsync = a->fsync,
            .local_absent = fp->local_absent,
            .remote_absent = fp->remote_absent,
            .remote_status = fp->has_status ? &fp->status : NULL,
            .maxage_cutoff = a->maxage_cutoff,
            .startdate_side = (enum sync_start_side)a->startdate_side,
            .startdate = a->startdate,
            .filter_headers = a->filter_headers,
            .copy_ignore = ignore,
            .quick = a->quick,
            .ignore_readonly = a->ignore_readonly,
            .remote_list = {.max_size = a->max_size},
            .local_list = {.max_size = a->max_size},
            .guard_percent = a->guard_percent,
            .guard_minimum = a->guard_minimum,
            .guard_allowed = a->allow_deletions && (strvec_contains(a->allow_deletions, "*") ||
                                                    strvec_contains(a->allow_deletions, fp->remote)),
        };
}

static void keep_skip_line(struct folder_jobs *fj, struct skip_entry *en)
{
    if (!en)
        return;
    pthread_mutex_lock(&fj->lock);
    sync_skip_add(&fj->skip_new, en);
    pthread_mutex_unlock(&fj->lock);
}

static void keep_pending_line(struct folder_jobs *fj, struct sync_folder_stats *stats)
{
    pthread_mutex_lock(&fj->lock);
    if (fj->npend == fj->pend_cap) {
        fj->pend_cap = fj->pend_cap ? fj->pend_cap * 2 : 16;
        fj->pend = xreallocarray(fj->pend, fj->pend_cap, sizeof(*fj->pend));
    }
    fj->pend[fj->npend++] = (struct pending_line){stats->skip_pending, stats->watch, fs_now_ns()};
    pthread_mutex_unlock(&fj->lock);
    stats->skip_pending = NULL;
    stats->watch = NULL;
}

/*
 * At the end of the run, once the workers are done: the folders this run
 * wrote to get their line if the local store saw no change but ours.  By
 * now most of them were written long enough ago for their stamps to be
 * trusted.  For the last ones the run waits out the rest of that window
 * when it is short beside the run (a tenth of it at most), so that the next
 * run with no change reads no folder; otherwise they are read again next
 * time.
 */
static void settle_pending_lines(struct folder_jobs *fj, bool keep)
{
    struct store *local = fj->a->local;
    if (keep && fj->npend) {
        int64_t latest = 0;
        for (size_t i = 0; i < fj->npend; i++)
            if (fj->pend[i].done_ns > latest)
                latest = fj->pend[i].done_ns;
        int64_t now = fs_now_ns();
        int64_t wait = latest + fs_time_window_min_ns() + 1000000 - now;
        if (wait > 0 && wait <= (now - fj->started_ns) / 10) {
            struct timespec ts = {(time_t)(wait / 1000000000), (long)(wait % 1000000000)};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
        }
    }
    struct buf stamp;
    buf_init(&stamp, 128);
    for (size_t i = 0; i < fj->npend; i++) {
        struct pending_line *p = &fj->pend[i];
        bool racy = true;
        bool watched = local->ops->finish_watch(local, p->watch, keep ? &stamp : NULL, &racy);
        bool ok = watched && keep && !racy && sync_skip_entry_settle(p->en, stamp.data);
        if (keep && !ok)
            log_debug(LOGC_SYNC, "folder %s: no skip-list line (%s)", p->en->remote,
                      !watched ? "changed by another program, or not watched"
                      : racy   ? "the folder changed too recently"
                               : "the status database changed too recently");
        if (ok)
            sync_skip_add(&fj->skip_new, p->en);
        else
            sync_skip_entry_free(p->en);
        free(p->en);
    }
    buf_release(&stamp);
    free(fj->pend);
    fj->pend = NULL;
    fj->npend = fj->pend_cap = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lines of folders this run did not take up (-f, a filter) stay for later runs. */
static void carry_skip_lines(struct folder_jobs *fj)
{
    char **paths = xcalloc(fj->n ? fj->n : 1, sizeof(*paths));
    size_t np = 0;
    for (size_t i = 0; i < fj->n; i++) {
        char *status = NULL, *plain = NULL, *rval = NULL, *lval = NULL;
        struct err e = ERR_INIT;
        if (folder_paths(fj->a, &fj->v[i], fj->remote_sep, &status, &plain, &rval, &lval, &e))
            paths[np++] = status;
        else
            free(status);
        err_clear(&e);
        free(plain);
        free(rval);
        free(lval);
    }
    qsort(paths, np, sizeof(*paths), cmp_str);
    for (size_t i = 0; i < fj->skip_old.n; i++) {
        struct skip_entry *en = &fj->skip_old.v[i];
        if ((np && bsearch(&en->status_path, paths, np, sizeof(*paths), cmp_str)) ||
            !fs_exists(en->status_path))
            continue;
        sync_skip_add(&fj->skip_new, en); /* moves it */
    }
    for (size_t i = 0; i < np; i++)
        free(paths[i]);
    free(paths);
}

/*
 * In the account's thread, before any worker: a folder the skip list shows
 * unchanged on both sides is done here, without its status database.
 */
static bool sync_one_cached(struct folder_jobs *fj, struct folder_pair *fp)
{
    const struct account_cfg *a = fj->a;
    if (!fj->skip_old.n || a->copy_ignore || !fp->has_status)
        return false;
    char *status = NULL, *plain = NULL, *rval = NULL, *lval = NULL;
    struct err e = ERR_INIT;
    bool done = false;
    /* An old offlineimap's plain status beside it is imported by the full sync. */
    if (folder_paths(a, fp, fj->remote_sep, &status, &plain, &rval, &lval, &e) &&
        !fs_exists(plain)) {
        struct sync_folder_job job = make_job(a, fp, status, plain, rval, lval, NULL);
        struct skip_entry kept;
        if (sync_skip_check(&fj->skip_old, &job, &kept)) {
            log_debug(LOGC_SYNC, "folder %s: unchanged on both sides (skip list)", fp->remote);
            keep_skip_line(fj, &kept);
            pthread_mutex_lock(&fj->lock);
            fj->res.folders_synced++;
            pthread_mutex_unlock(&fj->lock);
            done = true;
        }
    }
    err_clear(&e);
    free(status);
    free(plain);
    free(rval);
    free(lval);
    return done;
}

/* offlineimap starts a thread per folder; its monitor reports the end from MainThread. */
static void emit_thread_start(const struct account_cfg *a)
{
    struct log_event ev = {.type = EV_THREAD_START, .account = a->name};
    log_emit(&ev);
}

static void emit_thread_exit(void)
{
    struct log_event ev = {.type = EV_THREAD_EXIT, .thread = "MainThread",
                           .text = log_thread_name()};
    log_emit(&ev);
}

static void sync_one(struct folder_jobs *fj, const struct folder_pair *fp)
{
    const struct account_cfg *a = fj->a;
    set_folder_thread_name(a, fp);
    emit_thread_start(a);
    struct err e = ERR_INIT;
    char *status = NULL, *plain = NULL, *rval = NULL, *lval = NULL;
    struct uidvec ignore = UIDVEC_INIT;
    struct sync_folder_stats stats = {0};
    bool ok = folder_paths(a, fp, fj->remote_sep, &status, &plain, &rval, &lval, &e);
    if (ok && a->copy_ignore) {
        bool none = false;
        ok = py_call_uidlist(a->copy_ignore, fp->remote, &ignore, &none, &e);
        uidvec_sort_unique(&ignore);
    }
    char *startuid = NULL;
    if (ok)
        ok = startuid_path(a, fp, fj->remote_sep, &startuid, &e);
    if (ok) {
        struct sync_folder_job job = make_job(a, fp, status, plain, rval, lval, &ignore);
        job.startuid_path = startuid;
        /* skip_old is only read while the workers run. */
        job.local_hint = sync_skip_local_hint(&fj->skip_old, &job);
        struct prof_mark pm;
        prof_begin(&pm);
        ok = sync_folder_run(&job, &stats, &e);
        prof_end(&pm, "sync", "folder", 0);
    }
    keep_skip_line(fj, ok ? stats.skip : NULL);
    if (stats.skip) {
        sync_skip_entry_free(stats.skip);
        free(stats.skip);
    }
    if (stats.skip_pending)
        keep_pending_line(fj, &stats);
    /*
     * newmail_hook: offlineimap calls it for a folder named INBOX, after new
     * mail without \Seen came in.
     */
    if (ok && a->newmail_hook && !strcmp(fp->remote, "INBOX") && stats.new_unseen &&
        !a->dry_run) {
        struct err he = ERR_INIT;
        if (!py_call_void(a->newmail_hook, &he))
            log_error("%s", he.msg);
        err_clear(&he);
    }
    uidvec_free(&ignore);
    free(startuid);
    pthread_mutex_lock(&fj->lock);
    if (ok) {
        fj->res.folders_synced++;
    } else if (e.kind == ERRK_GUARD) {
        fj->res.folders_failed++;
    } else if (e.kind == ERRK_UIDVALIDITY) {
        fj->res.validity_problems++;
    } else {
        fj->res.folders_failed++;
    }
    pthread_mutex_unlock(&fj->lock);
    if (!ok) {
        if (e.kind == ERRK_UIDVALIDITY)
            log_info("%s", e.msg); /* the warning itself came with the event */
        else
            log_error("%s", e.msg);
    }
    err_clear(&e);
    free(status);
    free(plain);
    free(rval);
    free(lval);
    emit_thread_exit();
}

static bool stopping(const struct account_cfg *a)
{
    return a->should_stop && a->should_stop(a->stop_ctx);
}

static void *worker(void *arg)
{
    struct folder_jobs *fj = arg;
    for (;;) {
        pthread_mutex_lock(&fj->lock);
        size_t i = fj->next < fj->n ? fj->next++ : fj->n;
        if (i < fj->n && stopping(fj->a)) {
            fj->res.folders_skipped += (unsigned)(fj->n - i);
            fj->next = fj->n;
            i = fj->n;
        }
        pthread_mutex_unlock(&fj->lock);
        if (i >= fj->n)
            break;
        if (!fj->v[i].done) {
            sync_one(fj, &fj->v[i]);
        } else {
            /*
             * Done by the skip list: announced in its turn as offlineimap's
             * folder thread would be (registered, syncing, ended).
             */
            set_folder_thread_name(fj->a, &fj->v[i]);
            emit_thread_start(fj->a);
            emit_syncing(fj->a, &fj->v[i]);
            emit_thread_exit();
        }
    }
    return NULL;
}

static void run_jobs(struct folder_jobs *fj, unsigned threads)
{
    size_t todo = 0;
    if (fj->n) {
        char saved[160];
        snprintf(saved, sizeof(saved), "%s", log_thread_name());
        for (size_t i = 0; i < fj->n; i++)
            if (!(fj->v[i].done = sync_one_cached(fj, &fj->v[i])))
                todo++;
        log_set_thread_name("%s", saved);
    }
    if (threads <= 1 || todo <= 1) {
        char saved[160];
        snprintf(saved, sizeof(saved), "%s", log_thread_name());
        worker(fj);
        log_set_thread_name("%s", saved);
        return;
    }
    if (threads > todo)
        threads = (unsigned)todo;
    pthread_t *t = xcalloc(threads, sizeof(*t));
    unsigned started = 0;
    for (unsigned i = 0; i < threads; i++)
        if (pthread_create(&t[i], NULL, worker, fj) == 0)
            started++;
    if (started == 0)
        worker(fj); /* no threads to be had: do it here */
    for (unsigned i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    free(t);
}


static bool list_has(const struct store_folder_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].name, name))
            return true;
    return false;
}

/* Status databases of the account: how many folders had messages synced before. */
static size_t known_folders(const struct account_cfg *a)
{
    char *dir = status_path_account_dir(a->metadata, a->name);
    char *sq = fs_join(dir, "LocalStatus-sqlite");
    size_t n = 0;
    DIR *d = opendir(sq);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)))
            if (de->d_name[0] != '.' && !str_has_suffix(de->d_name, "-journal") &&
                !str_has_suffix(de->d_name, "-wal") && !str_has_suffix(de->d_name, "-shm")) {
                /* A database without a message (a run killed early) proves no sync. */
                char *db = fs_join(sq, de->d_name);
                n += status_db_has_messages(db);
                free(db);
            }
        closedir(d);
    }
    free(sq);
    free(dir);
    return n;
}

static size_t real_folders(const struct store_folder_list *l)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].name[0] && !l->v[i].noselect)
            n++;
    return n;
}

static void list_add(struct store_folder_list *l, const char *name)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
    l->v[l->n++].name = xstrdup(name);
}

/* The folders in foldersort order of their translated remote names. */
static bool sort_pairs(const struct foldermap *fm, struct folder_jobs *fj, struct err *e)
{
    struct strvec names = STRVEC_INIT, vis = STRVEC_INIT;
    for (size_t i = 0; i < fj->n; i++) {
        strvec_push(&names, fj->v[i].remote);
        strvec_push(&vis, fj->v[i].remote_vis);
    }
    bool ok = foldermap_sort(fm, &names, &vis, e);
    if (ok) {
        struct folder_pair *sorted = xcalloc(fj->n ? fj->n : 1, sizeof(*sorted));
        bool *used = xcalloc(fj->n ? fj->n : 1, sizeof(*used));
        for (size_t k = 0; k < names.n; k++)
            for (size_t i = 0; i < fj->n; i++)
                if (!used[i] && !strcmp(fj->v[i].remote, names.v[k])) {
                    sorted[k] = fj->v[i];
                    used[i] = true;
                    break;
                }
        free(used);
        free(fj->v);
        fj->v = sorted;
    }
    strvec_free(&names);
    strvec_free(&vis);
    return ok;
}

static void emit_creating(struct store *s, const char *folder)
{
    struct log_event ev = {.type = EV_CREATING_FOLDER, .repo = s->name, .folder = folder};
    log_emit(&ev);
}

/*
 * Folder structure sync, then the list of folder pairs to sync.  A local
 * folder created here starts with an empty status (offlineimap purges it), so
 * a folder directory removed by hand is downloaded again, never emptied on the
 * server.
 */
static bool plan_folders(const struct account_cfg *a, struct folder_jobs *fj, struct err *e)
{
    struct store_folder_list rl = {0}, ll = {0};
    bool ok = a->remote->ops->list_folders(a->remote, &rl, e) &&
              a->local->ops->list_folders(a->local, &ll, e);
    if (!ok)
        goto out;
    /*
     * An empty local tree where folders were synced before looks like an
     * unmounted disk: going on would download everything into the mount
     * point.  Refuse, and say what to do.
     */
    size_t known = real_folders(&ll) == 0 ? known_folders(a) : 0;
    if (known > 0) {
        err_set(e, ERR_REPO, ERRK_GUARD,
                "Account %s: the local folders directory %s (repository %s) is empty, but %zu "
                "folders of this account were synced before (their status is under %s). Is "
                "the disk mounted? Nothing was done. To start afresh into an empty directory, "
                "move the account's metadata (Account-%s in %s) aside.",
                a->name, a->local_root ? a->local_root : "?", a->local->name, known, a->metadata,
                a->name, a->metadata);
        ok = false;
        goto out;
    }
    char rsep = rl.sep, lsep = a->local_sep ? a->local_sep : ll.sep ? ll.sep : '.';
    fj->remote_sep = rsep;
    struct foldermap *fm = a->fmap;
    fm->rsep = rsep;
    fm->lsep = lsep;
    /* folderincludes: remote folders synced even if LIST does not show them. */
    for (size_t i = 0; i < fm->rincludes.n && !fm->only; i++)
        if (!list_has(&rl, fm->rincludes.v[i]))
            list_add(&rl, fm->rincludes.v[i]);

    size_t cap = rl.n + ll.n + 1;
    fj->v = xcalloc(cap, sizeof(*fj->v));
    /* Remote folders, created locally where missing. */
    for (size_t i = 0; i < rl.n && ok; i++) {
        const char *rname = rl.v[i].name;
        bool want = false, lwant = false;
        if (rl.v[i].noselect)
            continue;
        if (a->only_remote && !strvec_contains(a->only_remote, rname))
            continue;
        if (!foldermap_remote_wanted(fm, rname, &want, e)) {
            ok = false;
            break;
        }
        if (!want) {
            log_debug(LOGC_SYNC, "Not syncing filtered folder '%s'[%s]", rname, a->remote->name);
            continue;
        }
        /* A name holding the local separator would be ambiguous locally. */
        if (lsep != '/' && lsep != rsep && strchr(rname, lsep)) {
            log_warn("Ignoring folder '%s' due to unsupported '%c' character serving as local "
                     "separator.",
                     rname, lsep);
            continue;
        }
        char *vis = NULL, *lname = NULL;
        if (!foldermap_remote_visible(fm, rname, &vis, e) ||
            !foldermap_to_local(fm, rname, &lname, e) ||
            !foldermap_local_wanted(fm, lname, &lwant, e)) {
            free(vis);
            free(lname);
            ok = false;
            break;
        }
        bool absent = false;
        if (!list_has(&ll, lname)) {
            if (!a->local_createfolders || a->local_readonly || a->only_remote) {
                free(vis);
                free(lname);
                continue;
            }
            emit_creating(a->local, lname);
            absent = a->dry_run;
            if (!a->dry_run) {
                struct err fe = ERR_INIT;
                char *status = NULL, *plain = NULL, *rval = NULL, *lval = NULL;
                struct folder_pair tmp = {(char *)rname, vis, lname};
                /*
                 * As offlineimap's makefolder: an empty status first, then the
                 * folder, so that no crash leaves an empty folder beside an old
                 * status (or an old plain status to import) that would delete
                 * the server's messages.
                 */
                struct status_db *sdb = NULL;
                bool made = folder_paths(a, &tmp, rsep, &status, &plain, &rval, &lval, &fe) &&
                            status_db_purge(status, &fe) && status_db_open(status, &sdb, &fe);
                if (made) {
                    struct log_event nev = {.type = EV_NEW_STATUS_DB,
                                            .account = a->name,
                                            .repo = a->local->name,
                                            .folder = rname};
                    log_emit(&nev);
                }
                status_db_close(&sdb);
                made = made && a->local->ops->create_folder(a->local, lname, &fe);
                free(status);
                free(plain);
                free(rval);
                free(lval);
                crashpoint("local-folder-created");
                if (!made) {
                    log_error("%s", fe.msg);
                    err_clear(&fe);
                    free(vis);
                    free(lname);
                    continue;
                }
            }
        }
        if (!lwant) {
            log_debug(LOGC_SYNC, "Not syncing filtered folder '%s'[%s]", lname, a->local->name);
            free(vis);
            free(lname);
            continue;
        }
        fj->v[fj->n].remote = xstrdup(rname);
        fj->v[fj->n].remote_vis = vis;
        fj->v[fj->n].local = lname;
        fj->v[fj->n].local_absent = absent;
        fj->v[fj->n].has_status = rl.v[i].has_status;
        fj->v[fj->n].status = rl.v[i].status;
        fj->n++;
    }
    /* Local folders missing on the server are created there. */
    for (size_t i = 0; i < ll.n && ok && !a->only_remote; i++) {
        const char *lname = ll.v[i].name;
        bool lwant = false, rwant = false;
        if (ll.v[i].noselect || !*lname)
            continue;
        if (!foldermap_local_wanted(fm, lname, &lwant, e)) {
            ok = false;
            break;
        }
        if (!lwant)
            continue;
        char *rname = NULL;
        if (!foldermap_to_remote(fm, lname, &rname, e)) {
            ok = false;
            break;
        }
        if (list_has(&rl, rname) || !a->remote_createfolders || a->remote_readonly) {
            free(rname);
            continue;
        }
        if (!foldermap_remote_wanted(fm, rname, &rwant, e)) {
            free(rname);
            ok = false;
            break;
        }
        if (!rwant) {
            log_debug(LOGC_SYNC,
                      "Not creating folder '%s' (repository '%s') as it would be filtered out "
                      "on that repository.",
                      rname, a->remote->name);
            free(rname);
            continue;
        }
        /* The name must come back to itself, or each run would create another folder. */
        char *loop = NULL;
        if (!foldermap_to_local(fm, rname, &loop, e)) {
            free(rname);
            ok = false;
            break;
        }
        if (strcmp(loop, lname) != 0) {
            err_set(e, ERR_REPO, ERRK_CONFIG,
                    "INFINITE FOLDER CREATION DETECTED! Folder '%s' (repository '%s') would be "
                    "created as folder '%s' (repository '%s'). The latter becomes '%s' in "
                    "return, leading to infinite folder creation cycles.\n SOLUTION: 1) Do set "
                    "your nametrans rules on both repositories so they lead to identical names "
                    "if applied back and forth. 2) Use folderfilter settings on a repository to "
                    "prevent some folders from being created on the other side.",
                    lname, a->local->name, rname, a->remote->name, loop);
            free(loop);
            free(rname);
            ok = false;
            break;
        }
        free(loop);
        emit_creating(a->remote, rname);
        if (!a->dry_run) {
            struct err fe = ERR_INIT;
            if (!a->remote->ops->create_folder(a->remote, rname, &fe)) {
                log_error("%s", fe.msg);
                err_clear(&fe);
                free(rname);
                continue;
            }
        }
        char *vis = NULL;
        if (!foldermap_remote_visible(fm, rname, &vis, e)) {
            free(rname);
            ok = false;
            break;
        }
        fj->v[fj->n].remote = rname;
        fj->v[fj->n].remote_vis = vis;
        fj->v[fj->n].local = xstrdup(lname);
        fj->v[fj->n].remote_absent = a->dry_run;
        fj->n++;
    }
    if (ok && !a->local_readonly) {
        /* offlineimap announces the folder structure sync once it is done. */
        struct log_event sev = {.type = EV_SYNC_FOLDERS,
                                .account = a->name,
                                .repo = a->remote->name,
                                .repo_type = store_type(a->remote),
                                .dst_repo = a->local->name,
                                .dst_type = store_type(a->local)};
        log_emit(&sev);
    }
    if (ok)
        ok = sort_pairs(fm, fj, e);
out:
    store_folder_list_free(&rl);
    store_folder_list_free(&ll);
    return ok;
}

/*
 * The server's counters for every folder come with the folder list; those of
 * the folders in the skip list (the last run's) are asked in the same round
 * trip.
 */
static void want_counters(const struct account_cfg *a, const struct skip_list *l)
{
    if (!a->remote->ops->want_counters)
        return;
    const char **names = xcalloc(l->n ? l->n : 1, sizeof(*names));
    for (size_t i = 0; i < l->n; i++)
        names[i] = l->v[i].remote;
    a->remote->ops->want_counters(a->remote, names, l->n);
    free(names);
}

bool account_sync(const struct account_cfg *a, struct account_result *res, struct err *e)
{
    struct account_result dummy;
    if (!res)
        res = &dummy;
    memset(res, 0, sizeof(*res));
    if (!status_dirs_metadata(a->metadata, e) || !status_dirs_account(a->metadata, a->name, e) ||
        !status_dirs_repo(a->metadata, a->remote->name, e) ||
        !status_dirs_repo(a->metadata, a->local->name, e))
        return false;
    struct status_lock *lock = NULL;
    if (!status_lock_acquire(a->metadata, a->name, &lock, e))
        return false;
    /* An emergency exit (third SIGINT, second 'q') removes it too. */
    runctl_emergency_unlink_add(status_lock_path(lock));

    /* offlineimap runs no hook once asked to stop. */
    if (!stopping(a))
        hook_run(a->presynchook, a->sync_mode, a->dry_run);
    struct folder_jobs fj = {.a = a, .started_ns = fs_now_ns()};
    pthread_mutex_init(&fj.lock, NULL);
    char *skip_path = sync_skip_path(a->metadata, a->name);
    sync_skip_load(&fj.skip_old, skip_path);
    want_counters(a, &fj.skip_old);
    bool ok = a->remote->ops->connect(a->remote, e) && a->local->ops->connect(a->local, e) &&
              plan_folders(a, &fj, e);
    if (ok) {
        run_jobs(&fj, a->max_connections);
        settle_pending_lines(&fj, true);
        carry_skip_lines(&fj);
        *res = fj.res;
        /*
         * The skip list is rewritten whole: a folder without a line (changed,
         * failed, too recent) is checked in full next time.  Kept as it was
         * when it says the same.
         */
        if (!a->dry_run) {
            struct err se = ERR_INIT;
            if (!sync_skip_save(&fj.skip_new, skip_path, &se))
                log_debug(LOGC_SYNC, "%s", se.msg);
            err_clear(&se);
        }
        if (fj.n == 0 && !a->only_remote)
            log_warn("Account %s: no folder to sync (folderfilter issue?)", a->name);
        /*
         * offlineimap: every folder whose sync started, then the account's
         * mbnames file; a push sync (a few folders) leaves it as it is.
         */
        for (size_t i = 0; i < fj.n && a->mbnames && !a->only_remote; i++)
            mbnames_add(a->mbnames, a->name, a->local_root, fj.v[i].local);
        if (fj.n > 0 && !a->only_remote)
            mbnames_account_done(a->mbnames, a->name);
        if (!stopping(a))
            hook_run(a->postsynchook, a->sync_mode, a->dry_run);
    }
    for (size_t i = 0; i < fj.n; i++) {
        free(fj.v[i].remote);
        free(fj.v[i].remote_vis);
        free(fj.v[i].local);
    }
    free(fj.v);
    settle_pending_lines(&fj, false);
    sync_skip_free(&fj.skip_old);
    sync_skip_free(&fj.skip_new);
    free(skip_path);
    pthread_mutex_destroy(&fj.lock);
    runctl_emergency_unlink_remove(status_lock_path(lock));
    status_lock_release(&lock);
    return ok;
}
