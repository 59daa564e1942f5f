#include "status/status_lock.h"

#include "base/xalloc.h"
#include "status/status_paths.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How often a lock taken on a file that was replaced meanwhile is retried. */
#define LOCK_RETRIES 50

struct status_lock {
    int fd;
    int private_fd; /* our own lock file, which offlineimap3 never removes */
    pid_t pid; /* the process that took it: a forked child does not hold it */
    dev_t dev;
    ino_t ino;
    char *path;
    struct status_lock *next;
};

/*
 * The locks this process holds.  POSIX locks are per process, so this table
 * is necessarily process-wide; it is only touched under held_mu.
 */
static pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;
static struct status_lock *held;

static void conflict(struct err *e, const char *account, const char *extra)
{
    err_set(e, ERR_REPO, ERRK_GENERIC,
            "Could not lock account %s. Is another instance using this account?%s", account, extra);
}

static bool held_here(const struct stat *st)
{
    pid_t self = getpid();
    for (const struct status_lock *l = held; l; l = l->next)
        if (l->pid == self && l->dev == st->st_dev && l->ino == st->st_ino)
            return true;
    return false;
}

/* One attempt: 1 = locked the file at path, 0 = retry, -1 = error (e set). */
static int try_lock(struct status_lock *l, const char *account, struct err *e)
{
    struct stat st;
    if (stat(l->path, &st) == 0 && held_here(&st)) {
        conflict(e, account, " (This process already holds it.)");
        return -1;
    }
    /* As offlineimap's open(path, 'w'), without truncating: nothing is written. */
    l->fd = open(l->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (l->fd < 0) {
        err_set(e, ERR_REPO, ERRK_GENERIC, "Could not lock account %s: cannot open %s: %s.",
                account, l->path, strerror(errno));
        return -1;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(l->fd, F_SETLK, &fl) != 0) {
        int saved = errno;
        char extra[128] = "";
        if (saved == EACCES || saved == EAGAIN) {
            struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
            if (fcntl(l->fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK && who.l_pid > 0)
                snprintf(extra, sizeof(extra), " (The lock is held by process %ld.)",
                         (long)who.l_pid);
        } else {
            snprintf(extra, sizeof(extra), " (%s)", strerror(saved));
        }
        close(l->fd);
        l->fd = -1;
        conflict(e, account, extra);
        return -1;
    }
    /*
     * Locked; but if a holder released (and unlinked) the file between our
     * open() and fcntl(), we hold a lock on a file nobody else will look at.
     */
    struct stat mine;
    if (fstat(l->fd, &mine) != 0 || stat(l->path, &st) != 0 || mine.st_dev != st.st_dev ||
        mine.st_ino != st.st_ino) {
        close(l->fd);
        l->fd = -1;
        return 0;
    }
    l->dev = mine.st_dev;
    l->ino = mine.st_ino;
    return 1;
}

/*
 * offlineimap3 unlinks <account>.lock even when it failed to take it, so a
 * third instance could take a fresh file while the first still runs.  Our
 * instances therefore also hold a lock on a file of their own, which is never
 * removed.  Called with the shared lock held (and held_mu), so a second lock
 * from this same process was already refused.
 */
static bool lock_private(struct status_lock *l, const char *metadata, const char *account,
                         struct err *e)
{
    char *dir = status_path_account_dir(metadata, account);
    char *ppath = xasprintf("%s/.oimapc.lock", dir);
    free(dir);
    l->private_fd = open(ppath, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    free(ppath);
    if (l->private_fd < 0)
        return true; /* no Account directory yet: the shared lock alone */
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(l->private_fd, F_SETLK, &fl) == 0)
        return true;
    struct flock who = fl;
    char extra[64] = "";
    if (fcntl(l->private_fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
        snprintf(extra, sizeof(extra), " (It is held by process %ld.)", (long)who.l_pid);
    conflict(e, account, extra);
    close(l->private_fd);
    l->private_fd = -1;
    return false;
}

bool status_lock_acquire(const char *metadata, const char *account, struct status_lock **lock_r,
                         struct err *e)
{
    *lock_r = NULL;
    if (!status_name_check("account", account, e))
        return false;
    struct status_lock *l = xcalloc(1, sizeof(*l));
    l->fd = -1;
    l->pid = getpid();
    l->path = status_path_lock(metadata, account);
    l->private_fd = -1;

    pthread_mutex_lock(&held_mu);
    int r = 0;
    for (int i = 0; i < LOCK_RETRIES && r == 0; i++)
        r = try_lock(l, account, e);
    if (r == 1 && !lock_private(l, metadata, account, e)) {
        /* Give the shared lock back without removing its file: the holder owns it. */
        struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        fcntl(l->fd, F_SETLK, &fl);
        close(l->fd);
        r = -1;
    }
    if (r == 1) {
        l->next = held;
        held = l;
    }
    pthread_mutex_unlock(&held_mu);

    if (r != 1) {
        if (r == 0)
            conflict(e, account, " (Its lock file keeps being replaced.)");
        if (l->private_fd >= 0)
            close(l->private_fd);
        free(l->path);
        free(l);
        return false;
    }
    *lock_r = l;
    return true;
}

void status_lock_release(struct status_lock **lockp)
{
    struct status_lock *l = *lockp;
    if (!l)
        return;
    pthread_mutex_lock(&held_mu);
    for (struct status_lock **pp = &held; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    if (l->pid == getpid()) {
        /* Unlink while still holding the lock: see the header. */
        struct stat st;
        if (stat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
            unlink(l->path);
        struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        fcntl(l->fd, F_SETLK, &fl);
    }
    close(l->fd);
    if (l->private_fd >= 0)
        close(l->private_fd); /* closing drops its lock */
    pthread_mutex_unlock(&held_mu);
    free(l->path);
    free(l);
    *lockp = NULL;
}

const char *status_lock_path(const struct status_lock *lock)
{
    return lock->path;
}
