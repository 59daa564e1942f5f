/*
 * store_maildir_mbsync: the Maildir store's adopt_foreign operation, which
 * takes a folder over from mbsync (isync) without copying any message again.
 *
 * mbsync numbers the messages of a Maildir folder itself (",U=<near uid>" in
 * the file names) and records in its sync state which far (IMAP) UID each
 * near UID is paired with.  Taking over means giving every paired file
 * offlineimap's name, with the far UID and this folder's FMD5
 * ("<unique>,U=<far>,FMD5=<md5>:2,<flags>": the unique part and the flags
 * stay), and then retiring the state, renamed to
 * "<state>.taken-over-by-offlineimap", so that it is never applied twice and
 * mbsync does not later work from a state that no longer describes the
 * folder.
 *
 * Which state:
 *   1. <folder>/.mbsyncstate (SyncState *): it is this folder's.
 *   2. Otherwise, and only when the folder has mbsync's .uidvalidity file,
 *      states of the same near box in mbsync's state directories (the 1.4
 *      default ~/.mbsync/, the 1.5 default $XDG_STATE_HOME/isync/, and every
 *      SyncState named in ~/.mbsyncrc or ~/.config/isyncrc), named
 *      <prefix>:<far store>:<far box>_:<near store>:<box> or <prefix><box>.
 *      Of those, the one whose NearUidValidity is this folder's and whose
 *      FarUidValidity is the server's is taken; when several are, the
 *      folder is refused (two accounts syncing boxes of the same name could
 *      otherwise be mixed up).
 *
 * Refused (ERR_FOLDER, nothing changed, the message says what to do):
 *   - mbsync is running on the state (its .lock is held);
 *   - mbsync was interrupted (<state>.new exists): mbsync would replay its
 *     journal and look for messages it may have stored twice; we do not
 *     guess, the user runs mbsync once more;
 *   - the in-folder state's NearUidValidity is not the folder's .uidvalidity
 *     (mbsync's own numbering changed since);
 *   - the folder uses mbsync's AltMap scheme (.isyncuidmap.db, a Berkeley DB):
 *     mdconvert turns it into the native scheme first.
 * A state made for another UIDVALIDITY of the server folder is left alone:
 * the folder is then synced as a new one (with a warning).
 *
 * Pairs whose near file is gone are not adopted (the server's message comes
 * back, as nothing says it was deleted on purpose).  A near placeholder
 * ('>', a stand-in mbsync wrote for a message over MaxSize) is removed once
 * its content proves it is one, so that the real message is downloaded
 * instead of the placeholder being uploaded; a far placeholder's local file
 * is left as a new message.  Files mbsync did not know stay as they are:
 * they are new to the sync and will be uploaded.
 *
 * Crash safety: each rename is atomic and keeps the unique part, and a file
 * that already carries U=<far> with this folder's FMD5 counts as adopted, so
 * an interrupted take-over resumes on the next run (the status is still
 * empty then); the state is retired only after the directories are synced.
 */
#define _GNU_SOURCE
#include "store/maildir_mbsync.h"
#include "store/maildir_priv.h"

#include "base/crashpoint.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest file checked for being an mbsync placeholder (they are small). */
#define PLACEHOLDER_MAX ((size_t)1 << 20)

struct takeover {
    struct store_folder *f;
    char *state;     /* the state file */
    char *lock_path; /* <state>.lock */
    int lock_fd;
    bool lock_created;
    struct mbsync_state st;
    struct maildir_uidmap near; /* near uid -> index of its mbsync-named file */
    unsigned subs;              /* directories changed (bits 1 << MD_NEW, MD_CUR) */
    size_t adopted, missing, removed, kept_placeholders, duplicates;
};

/* $HOME, else the password database's entry (getpwuid_r: folders run on threads). */
static char *home_dir(void)
{
    const char *h = getenv("HOME");
    if (h && *h)
        return xstrdup(h);
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) != 0 || !res || !res->pw_dir ||
        !*res->pw_dir)
        return NULL;
    return xstrdup(res->pw_dir);
}

static bool refuse(struct err *e, const struct store_folder *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool refuse(struct err *e, const struct store_folder *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *why = xvasprintf(fmt, ap);
    va_end(ap);
    err_set(e, ERR_FOLDER, ERRK_GUARD,
            "Maildir folder %s: not taking it over from mbsync: %s Nothing was changed in this "
            "folder.",
            f->path, why);
    free(why);
    return false;
}

/*
 * Find the state outside the folder (see the header comment).  *path_r is
 * NULL when there is none for this folder.
 */
static bool find_outside(struct store_folder *f, uint32_t remote_uv, uint32_t near_uv,
                         char **path_r, struct err *e)
{
    *path_r = NULL;
    char *home = *f->name ? home_dir() : NULL;
    if (!home)
        return true;
    char *box = xstrdup(f->name);
    for (char *p = box; *p; p++)
        if (*p == '/')
            *p = '!';
    struct mbsync_found *found = NULL;
    size_t n = 0, hits = 0, other_far = 0;
    mbsync_find_states(home, box, &found, &n);
    free(box);
    free(home);
    struct buf names;
    buf_init(&names, 64 * 1024);
    for (size_t i = 0; i < n; i++) {
        if (found[i].near_uidvalidity != near_uv) {
            log_debug(LOGC_MAILDIR,
                      "mbsync state %s is for another Maildir folder (UIDVALIDITY %u)",
                      found[i].path, (unsigned)found[i].near_uidvalidity);
            continue;
        }
        if (found[i].far_uidvalidity != remote_uv) {
            log_warn("Maildir folder %s: mbsync's state %s was made for UIDVALIDITY %u of the "
                     "server folder, which now has %u; it is not taken over.",
                     f->path, found[i].path, (unsigned)found[i].far_uidvalidity,
                     (unsigned)remote_uv);
            other_far++;
            continue;
        }
        if (hits++ == 0)
            *path_r = xstrdup(found[i].path);
        buf_printf(&names, "%s%s", names.len ? ", " : "", found[i].path);
    }
    bool ok = true;
    if (hits > 1) {
        free(*path_r);
        *path_r = NULL;
        ok = refuse(e, f,
                    "several mbsync states fit it (%s); move away the ones that belong to other "
                    "folders.",
                    names.data);
    } else if (hits == 0 && other_far > 0) {
        log_warn("Maildir folder %s: its messages are synced as new ones (copies may appear on "
                 "both sides); run mbsync once more first if you want it to sort them out.",
                 f->path);
    }
    buf_release(&names);
    mbsync_found_free(found, n);
    return ok;
}

/* Hold mbsync's lock on the state while we work, as mbsync itself would. */
static bool lock_state(struct takeover *t, struct err *e)
{
    t->lock_path = xasprintf("%s.lock", t->state);
    t->lock_fd = open(t->lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (t->lock_fd >= 0)
        t->lock_created = true;
    else if (errno == EEXIST)
        t->lock_fd = open(t->lock_path, O_WRONLY | O_CLOEXEC);
    if (t->lock_fd < 0) {
        err_set(e, ERR_FOLDER, maildir_errkind(errno),
                "Maildir folder %s: cannot open mbsync's lock file %s: %s.", t->f->path,
                t->lock_path, strerror(errno));
        return false;
    }
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(t->lock_fd, F_SETLK, &lk) != 0)
        return refuse(e, t->f, "mbsync is running on it (%s is locked); run again when it is done.",
                      t->lock_path);
    return true;
}

static void release(struct takeover *t)
{
    if (t->lock_fd >= 0) {
        if (t->lock_created)
            unlink(t->lock_path);
        close(t->lock_fd);
    }
    free(t->lock_path);
    free(t->state);
    mbsync_state_free(&t->st);
    maildir_uidmap_free(&t->near);
}

/* The files mbsync named: ",U=<near>" and no FMD5 (mbsync never writes one). */
static void build_near_map(struct takeover *t)
{
    struct store_folder *f = t->f;
    for (size_t i = 0; i < f->n; i++) {
        const struct maildir_msg *m = &f->v[i];
        struct maildir_name p;
        if (!m->name || m->uid ||
            !maildir_name_parse(m->name, strlen(m->name), f->st->infosep, NULL, &p) || !p.has_uid ||
            p.has_fmd5 || p.uid == 0)
            continue;
        size_t first = maildir_uidmap_get(&t->near, p.uid);
        if (first != SIZE_MAX) {
            log_warn("Maildir folder %s: %s/%s and %s/%s both carry mbsync's U=%u; the first is "
                     "taken over, the second will be uploaded as a new message.",
                     f->path, maildir_sub_names[f->v[first].sub], f->v[first].name,
                     maildir_sub_names[m->sub], m->name, (unsigned)p.uid);
            t->duplicates++;
            continue;
        }
        maildir_uidmap_put(&t->near, p.uid, i);
    }
}

/* offlineimap's name for m with UID far; a fresh unique part if fresh or needed. */
static bool compose(struct store_folder *f, const struct maildir_msg *m, uint32_t far, bool fresh,
                    struct buf *name)
{
    struct maildir_name p;
    char uniq[MAILDIR_NAME_MAX + 1];
    size_t ulen = 0;
    if (!fresh && maildir_name_parse(m->name, strlen(m->name), f->st->infosep, NULL, &p))
        ulen = maildir_name_unique(m->name, &p, uniq);
    buf_reset(name);
    if (ulen && maildir_name_compose(name, uniq, ulen, far, f->fmd5, f->st->infosep, m->flags))
        return true;
    buf_reset(name);
    ulen = maildir_name_new_unique(uniq, 0);
    return maildir_name_compose(name, uniq, ulen, far, f->fmd5, f->st->infosep, m->flags);
}

/*
 * Rename message idx to carry far.  1: done; 0: the file is gone; -1: error.
 * A file renamed behind our back is looked for once; a name taken by another
 * file gets a fresh unique part.
 */
static int rename_one(struct takeover *t, size_t idx, uint32_t far, struct err *e)
{
    struct store_folder *f = t->f;
    struct maildir_msg *m = &f->v[idx];
    struct buf name;
    buf_init(&name, MAILDIR_NAME_MAX);
    bool relocated = false, fresh = false;
    int res = -1;
    for (;;) {
        if (!compose(f, m, far, fresh, &name)) {
            err_set(e, ERR_FOLDER, ERRK_GENERIC,
                    "Maildir folder %s: cannot build offlineimap's name for %s/%s.", f->path,
                    maildir_sub_names[m->sub], m->name);
            break;
        }
        if (maildir_rename_noreplace(f->dfd[m->sub], m->name, f->dfd[m->sub], name.data) == 0) {
            crashpoint("mbsync-adopt-renamed");
            t->subs |= 1u << m->sub;
            m->name = arena_strndup(&f->names, name.data, name.len);
            m->uid = far;
            maildir_uidmap_put(&f->map, far, idx);
            res = 1;
            break;
        }
        int err = errno;
        if (err == EEXIST && !fresh) {
            fresh = true;
            continue;
        }
        if (err == ENOENT && !relocated) {
            relocated = true;
            if (maildir_relocate(f, m, e))
                continue;
            if (!err_isset(e))
                res = 0;
            break;
        }
        err_set(e, ERR_FOLDER, maildir_errkind(err),
                "Maildir folder %s: cannot rename %s/%s to %s: %s.", f->path,
                maildir_sub_names[m->sub], m->name, name.data, strerror(err));
        break;
    }
    buf_release(&name);
    return res;
}

/* True if the file is a stand-in mbsync wrote for a message over MaxSize. */
static bool is_placeholder(struct store_folder *f, const struct maildir_msg *m)
{
    int fd = openat(f->dfd[m->sub], m->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    char *data = xmalloc(PLACEHOLDER_MAX + 1);
    size_t len = 0;
    ssize_t r;
    while (len < PLACEHOLDER_MAX &&
           ((r = read(fd, data + len, PLACEHOLDER_MAX - len)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            len += (size_t)r;
    close(fd);
    data[len] = '\0';
    bool yes = len < PLACEHOLDER_MAX && memchr(data, '\0', len) == NULL &&
               strstr(data, "Subject: [placeholder] ") != NULL &&
               strstr(data, ", this message is over the MaxSize limit.") != NULL;
    free(data);
    return yes;
}

static void drop_near_placeholder(struct takeover *t, const struct mbsync_pair *pr)
{
    struct store_folder *f = t->f;
    size_t idx = maildir_uidmap_get(&t->near, pr->near);
    if (idx == SIZE_MAX)
        return;
    struct maildir_msg *m = &f->v[idx];
    if (!is_placeholder(f, m)) {
        log_warn("Maildir folder %s: mbsync's state says %s/%s is a placeholder for server UID "
                 "%u, but it does not look like one; it is kept and will be uploaded.",
                 f->path, maildir_sub_names[m->sub], m->name, (unsigned)pr->far);
        t->kept_placeholders++;
        return;
    }
    if (unlinkat(f->dfd[m->sub], m->name, 0) != 0) {
        log_warn("Maildir folder %s: cannot remove mbsync's placeholder %s/%s: %s.", f->path,
                 maildir_sub_names[m->sub], m->name, strerror(errno));
        t->kept_placeholders++;
        return;
    }
    log_info("Maildir folder %s: removed mbsync's placeholder %s/%s; the real message (server "
             "UID %u) will be downloaded.",
             f->path, maildir_sub_names[m->sub], m->name, (unsigned)pr->far);
    t->subs |= 1u << m->sub;
    maildir_uidmap_del(&t->near, pr->near);
    maildir_folder_forget(f, idx);
    t->removed++;
}

static bool adopt_pairs(struct takeover *t, struct store_msg_list *base, struct err *e)
{
    struct store_folder *f = t->f;
    for (size_t i = 0; i < t->st.n; i++) {
        const struct mbsync_pair *pr = &t->st.v[i];
        if (!pr->far || !pr->near)
            continue;
        if (pr->placeholder == MBSYNC_PH_NEAR) {
            drop_near_placeholder(t, pr);
            continue;
        }
        if (pr->placeholder == MBSYNC_PH_FAR) {
            log_warn("Maildir folder %s: server UID %u is mbsync's placeholder for a local "
                     "message; the local message will be uploaded and the placeholder "
                     "downloaded (delete it on the server if you do not want it).",
                     f->path, (unsigned)pr->far);
            continue;
        }
        size_t idx = maildir_uidmap_get(&f->map, pr->far);
        if (idx == SIZE_MAX) {
            size_t nidx = maildir_uidmap_get(&t->near, pr->near);
            int r = nidx == SIZE_MAX ? 0 : rename_one(t, nidx, pr->far, e);
            if (r < 0)
                return false;
            if (r == 0) {
                t->missing++;
                continue;
            }
            idx = nidx;
        }
        /* else: taken over by an earlier, interrupted run. */
        t->adopted++;
        if (base) {
            /* P ($Forwarded) is mbsync's; offlineimap syncs the five standard flags. */
            struct store_msg sm = {
                .uid = pr->far, .key = (uint32_t)idx, .flags = pr->flags & FLAGS_STANDARD};
            store_msg_list_push(base, &sm);
        }
    }
    return true;
}

/* Retire the state: <state>.taken-over-by-offlineimap (or .1, .2... if taken). */
static bool retire_state(struct takeover *t, struct err *e)
{
    struct store_folder *f = t->f;
    if (f->st->fsync) {
        for (int sub = MD_NEW; sub <= MD_CUR; sub++) {
            if ((t->subs & (1u << sub)) && fsync(f->dfd[sub]) != 0 && errno != EINVAL) {
                err_set(e, ERR_FOLDER, maildir_errkind(errno),
                        "Maildir folder %s: cannot fsync %s/: %s.", f->path, maildir_sub_names[sub],
                        strerror(errno));
                return false;
            }
        }
    }
    char *to = NULL;
    int rc = -1;
    for (int i = 0; i < 1000 && rc != 0; i++) {
        free(to);
        to = i ? xasprintf("%s%s.%d", t->state, MBSYNC_TAKEN_SUFFIX, i)
               : xasprintf("%s%s", t->state, MBSYNC_TAKEN_SUFFIX);
        rc = maildir_rename_noreplace(AT_FDCWD, t->state, AT_FDCWD, to);
        if (rc != 0 && errno != EEXIST)
            break;
    }
    bool ok = rc == 0;
    if (!ok)
        err_set(e, ERR_FOLDER, maildir_errkind(errno),
                "Maildir folder %s: its messages were taken over from mbsync, but its state %s "
                "cannot be renamed to %s: %s.",
                f->path, t->state, to, strerror(errno));
    else
        crashpoint("mbsync-adopt-state-retired");
    if (ok && f->st->fsync)
        ok = fs_fsync_parent(t->state, e);
    if (ok) {
        const char *base = strrchr(to, '/');
        /* Short lines: mbsync reads 127 bytes at a time and names the line it rejects. */
        char *stub = xasprintf(MBSYNC_STUB_MARK ".\n"
                                                "mbsync must not sync it again: it would copy "
                                                "every message twice.\n"
                                                "Its last state is in %s.\n",
                               base ? base + 1 : to);
        struct err se = ERR_INIT;
        if (!fs_write_atomic(t->state, stub, strlen(stub), f->st->fsync, &se))
            log_warn("Maildir folder %s: cannot leave a note for mbsync in %s: %s", f->path,
                     t->state, se.msg);
        err_clear(&se);
        free(stub);
    }
    free(to);
    return ok;
}

/*
 * The state to use (t->state; NULL when this folder has none) and the
 * folder's own UIDVALIDITY from mbsync's .uidvalidity.
 */
static bool locate(struct takeover *t, uint32_t remote_uv, uint32_t *near_uv_r, struct err *e)
{
    struct store_folder *f = t->f;
    char *inside = fs_join(f->path, MBSYNC_INBOX_STATE);
    bool have_inside = fs_exists(inside);
    if (have_inside && mbsync_state_is_stub(inside)) {
        /* Taken over before; the status was emptied since (purged, or moved away). */
        free(inside);
        return true;
    }
    bool have_uv = false;
    struct err ue = ERR_INIT;
    bool uv_ok = mbsync_uidvalidity_read(f->path, &have_uv, near_uv_r, &ue);
    bool ok = true;
    if (!uv_ok && have_inside) {
        err_move(e, &ue);
        ok = false;
    } else if (!uv_ok || !have_uv) {
        /* Not (or no longer) numbered by mbsync; an AltMap folder cannot be read. */
        char *altmap = fs_join(f->path, MBSYNC_ALTMAP);
        if (fs_exists(altmap))
            ok = refuse(e, f,
                        "it uses mbsync's AltMap UID scheme (%s). Convert it with \"mdconvert -n "
                        "%s\" and run mbsync once more, or move %s away to sync the folder as a "
                        "new one.",
                        altmap, f->path, altmap);
        else if (have_inside)
            ok = refuse(e, f,
                        "it has mbsync's state %s but no usable " MBSYNC_UIDVALIDITY " file; run "
                        "mbsync once more, or move the state away to sync the folder as a new "
                        "one.",
                        inside);
        free(altmap);
    } else if (have_inside) {
        t->state = inside;
        inside = NULL;
    } else {
        ok = find_outside(f, remote_uv, *near_uv_r, &t->state, e);
    }
    err_clear(&ue);
    free(inside);
    return ok;
}

static bool check_state(struct takeover *t, uint32_t remote_uv, uint32_t near_uv, bool *use_r,
                        struct err *e)
{
    struct store_folder *f = t->f;
    *use_r = false;
    char *pending = xasprintf("%s.new", t->state);
    bool interrupted = fs_exists(pending);
    free(pending);
    if (interrupted)
        return refuse(e, f,
                      "mbsync was interrupted while syncing it (%s.new and its journal exist). "
                      "Run mbsync once more for this folder so that it finishes, then run again.",
                      t->state);
    struct err pe = ERR_INIT;
    if (!mbsync_state_read(t->state, &t->st, &pe)) {
        refuse(e, f,
               "%s Run mbsync once more so that it writes the state again, or move the state "
               "away to sync the folder as a new one.",
               pe.msg);
        err_clear(&pe);
        return false;
    }
    if (t->st.far_uidvalidity != remote_uv) {
        log_warn("Maildir folder %s: mbsync's state %s was made for UIDVALIDITY %u of the server "
                 "folder, which now has %u; it is not taken over, and the folder's messages are "
                 "synced as new ones (copies may appear on both sides).",
                 f->path, t->state, (unsigned)t->st.far_uidvalidity, (unsigned)remote_uv);
        return true;
    }
    if (t->st.near_uidvalidity != near_uv)
        return refuse(e, f,
                      "mbsync's state %s has NearUidValidity %u, the folder's " MBSYNC_UIDVALIDITY
                      " %u: mbsync renumbered the folder since. Run mbsync once more so that it "
                      "brings its state up to date, or move the state away to sync the folder as "
                      "a new one.",
                      t->state, (unsigned)t->st.near_uidvalidity, (unsigned)near_uv);
    *use_r = true;
    return true;
}

/*
 * The take-over, with the flags each adopted message had at mbsync's last
 * sync appended to base (uid = far UID) when base is not NULL.
 */
bool maildir_mbsync_adopt(struct store_folder *f, uint32_t remote_uidvalidity,
                          struct store_msg_list *base, size_t *adopted_r, struct err *e)
{
    *adopted_r = 0;
    if (remote_uidvalidity == 0)
        return true;
    struct takeover t = {.f = f, .lock_fd = -1};
    uint32_t near_uv = 0;
    bool ok = locate(&t, remote_uidvalidity, &near_uv, e);
    if (!ok || !t.state) {
        release(&t);
        return ok;
    }
    bool use = false;
    ok = ok && maildir_check_writable(f, e) && lock_state(&t, e) &&
         check_state(&t, remote_uidvalidity, near_uv, &use, e);
    if (ok && use) {
        build_near_map(&t);
        ok = adopt_pairs(&t, base, e);
        maildir_relocation_end(f);
        if (ok)
            ok = retire_state(&t, e);
        if (ok) {
            size_t left = 0;
            for (size_t i = 0; i < f->n; i++)
                left += f->v[i].name && f->v[i].uid == 0;
            log_info("Maildir folder %s: took over mbsync's state %s: %zu messages kept under "
                     "offlineimap's names; %zu gone locally (downloaded again); %zu local files "
                     "mbsync did not sync (uploaded as new); %zu placeholders removed.",
                     f->path, t.state, t.adopted, t.missing, left, t.removed);
        } else if (t.subs && f->st->fsync) {
            /* Keep what was renamed durable: the next run resumes from it. */
            for (int sub = MD_NEW; sub <= MD_CUR; sub++)
                if (t.subs & (1u << sub))
                    (void)fsync(f->dfd[sub]);
        }
        *adopted_r = t.adopted;
    }
    if (!ok && e->scope < ERR_FOLDER)
        e->scope = ERR_FOLDER;
    release(&t);
    return ok;
}

bool maildir_adopt_foreign(struct store_folder *f, uint32_t remote_uidvalidity,
                           struct store_msg_list *base_r, struct err *e)
{
    size_t n;
    return maildir_mbsync_adopt(f, remote_uidvalidity, base_r, &n, e);
}
