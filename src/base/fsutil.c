#define _GNU_SOURCE
#include "base/fsutil.h"

#include "base/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif
#include <unistd.h>

static enum err_kind kind_of(int errnum)
{
    return errnum == ENOSPC || errnum == EDQUOT ? ERRK_NOSPACE : ERRK_GENERIC;
}

bool fs_mkdir_p(const char *path, mode_t mode, struct err *e)
{
    char *p = xstrdup(path);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    if (fs_is_dir(p)) { /* the usual case: one stat, not a mkdir per component */
        free(p);
        return true;
    }
    for (char *s = p + 1; ; s++) {
        bool last = *s == '\0';
        if (*s == '/' || last) {
            char save = *s;
            *s = '\0';
            if (mkdir(p, mode) != 0 && errno != EEXIST) {
                err_set(e, ERR_FOLDER, kind_of(errno), "cannot create directory %s: %s", p,
                        strerror(errno));
                free(p);
                return false;
            }
            *s = save;
        }
        if (last)
            break;
    }
    bool ok = fs_is_dir(p);
    if (!ok)
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "%s exists but is not a directory", p);
    free(p);
    return ok;
}

bool fs_fsync_dir(const char *path, struct err *e)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        err_set(e, ERR_FOLDER, kind_of(errno), "cannot open directory %s: %s", path,
                strerror(errno));
        return false;
    }
    if (fsync(fd) != 0 && errno != EINVAL) {
        err_set(e, ERR_FOLDER, kind_of(errno), "cannot fsync directory %s: %s", path,
                strerror(errno));
        close(fd);
        return false;
    }
    close(fd);
    return true;
}

bool fs_fsync_parent(const char *path, struct err *e)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return fs_fsync_dir(".", e);
    char *dir = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
    bool ok = fs_fsync_dir(dir, e);
    free(dir);
    return ok;
}

bool fs_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

bool fs_write_atomic(const char *path, const void *data, size_t len, bool durable, struct err *e)
{
    char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_set(e, ERR_FOLDER, kind_of(errno), "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return false;
    }
    if (!fs_write_all(fd, data, len) || (durable && fsync(fd) != 0)) {
        int saved = errno;
        err_set(e, ERR_FOLDER, kind_of(saved), "cannot write %s: %s", tmp, strerror(saved));
        close(fd);
        unlink(tmp);
        free(tmp);
        return false;
    }
    if (close(fd) != 0) {
        int saved = errno;
        err_set(e, ERR_FOLDER, kind_of(saved), "cannot write %s: %s", tmp, strerror(saved));
        unlink(tmp);
        free(tmp);
        return false;
    }
    if (rename(tmp, path) != 0) {
        int saved = errno;
        err_set(e, ERR_FOLDER, kind_of(saved), "cannot rename %s to %s: %s", tmp, path,
                strerror(saved));
        unlink(tmp);
        free(tmp);
        return false;
    }
    free(tmp);
    return durable ? fs_fsync_parent(path, e) : true;
}

bool fs_read_file(const char *path, size_t max, struct buf *out, struct err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_set(e, ERR_FOLDER, kind_of(errno), "cannot open %s: %s", path, strerror(errno));
        return false;
    }
    size_t start = out->len;
    for (;;) {
        char chunk[8192];
        size_t room = max - (out->len - start);
        size_t want = room < sizeof(chunk) ? room + 1 : sizeof(chunk);
        ssize_t n = read(fd, chunk, want);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err_set(e, ERR_FOLDER, kind_of(errno), "cannot read %s: %s", path, strerror(errno));
            close(fd);
            buf_truncate(out, start);
            return false;
        }
        if (n == 0)
            break;
        if ((size_t)n > room || !buf_append(out, chunk, (size_t)n)) {
            err_set(e, ERR_FOLDER, ERRK_GENERIC, "%s is larger than %zu bytes", path, max);
            close(fd);
            buf_truncate(out, start);
            return false;
        }
    }
    close(fd);
    return true;
}

bool fs_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

bool fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool fs_remove_tree(const char *path, struct err *e)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) {
            err_set(e, ERR_FOLDER, ERRK_GENERIC, "cannot open %s: %s", path, strerror(errno));
            return false;
        }
        struct dirent *de;
        bool ok = true;
        while (ok && (de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char *sub = fs_join(path, de->d_name);
            ok = fs_remove_tree(sub, e);
            free(sub);
        }
        closedir(d);
        if (ok && rmdir(path) != 0) {
            err_set(e, ERR_FOLDER, ERRK_GENERIC, "cannot remove %s: %s", path, strerror(errno));
            ok = false;
        }
        return ok;
    }
    if (unlink(path) != 0) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "cannot remove %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

static char *home_of(const char *user, size_t len)
{
    if (len == 0) {
        const char *h = getenv("HOME");
        if (h && *h)
            return xstrdup(h);
        struct passwd *pw = getpwuid(getuid());
        return pw ? xstrdup(pw->pw_dir) : NULL;
    }
    char *name = xstrndup(user, len);
    struct passwd *pw = getpwnam(name);
    free(name);
    return pw ? xstrdup(pw->pw_dir) : NULL;
}

char *fs_expand_path(const char *path)
{
    struct buf out;
    buf_init(&out, BUF_UNBOUNDED);
    const char *p = path;
    /* expanduser: "~" or "~user" at the start, up to the first slash. */
    if (p[0] == '~') {
        const char *end = strchr(p, '/');
        size_t ulen = end ? (size_t)(end - p - 1) : strlen(p + 1);
        char *home = home_of(p + 1, ulen);
        if (home) {
            buf_append_str(&out, home);
            p += 1 + ulen;
            free(home);
        }
    }
    /* expandvars: $name and ${name}; unknown variables are left as written. */
    while (*p) {
        if (*p == '$') {
            const char *s = p + 1;
            bool braced = *s == '{';
            if (braced)
                s++;
            const char *t = s;
            while (isalnum((unsigned char)*t) || *t == '_')
                t++;
            if (t > s && (!braced || *t == '}')) {
                char *name = xstrndup(s, (size_t)(t - s));
                const char *val = getenv(name);
                free(name);
                if (val) {
                    buf_append_str(&out, val);
                    p = braced ? t + 1 : t;
                    continue;
                }
            }
        }
        buf_append_char(&out, *p++);
    }
    return buf_detach(&out, NULL);
}

char *fs_join(const char *a, const char *b)
{
    size_t la = strlen(a);
    if (la && a[la - 1] == '/')
        return xasprintf("%s%s", a, b);
    return xasprintf("%s/%s", a, b);
}

/*
 * A stamp closer to now than its window is not trusted: a change in the same
 * clock tick would leave it as it is.  Linux file times tick every few
 * milliseconds (one jiffy, and the coarse clock lags by up to one more);
 * file systems that keep whole seconds (FAT: two) show a zero fraction; and
 * on a network file system the times come from another machine's clock,
 * which may be some way off ours.
 */
#define STAMP_WINDOW_FINE_NS (50LL * 1000 * 1000)
#define STAMP_WINDOW_COARSE_NS (2100LL * 1000 * 1000)
#define STAMP_WINDOW_REMOTE_NS (5000LL * 1000 * 1000)

static bool remote_fs(const char *path)
{
#ifndef __linux__
    (void)path;
    return true; /* cannot tell: the widest window */
#else
    struct statfs sf;
    if (statfs(path, &sf) != 0)
        return true;
    switch ((unsigned long)sf.f_type) {
    case 0x6969UL:     /* NFS */
    case 0x517BUL:     /* SMB */
    case 0xFF534D42UL: /* CIFS */
    case 0xFE534D42UL: /* SMB2 */
    case 0x65735546UL: /* FUSE (sshfs, virtiofs, ...) */
    case 0x01021997UL: /* 9P */
    case 0x00C36400UL: /* Ceph */
    case 0x5346414FUL: /* AFS */
    case 0x6B414653UL: /* kAFS */
    case 0x73757245UL: /* Coda */
    case 0x564CUL:     /* NCP */
    case 0x7461636FUL: /* OCFS2 */
    case 0x01161970UL: /* GFS2 */
    case 0x0BD00BD0UL: /* Lustre */
        return true;
    default:
        return false;
    }
#endif
}

int64_t fs_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t fs_time_window_min_ns(void)
{
    return STAMP_WINDOW_FINE_NS;
}

int64_t fs_time_window_ns(const char *path, const struct timespec *mtime)
{
    if (remote_fs(path))
        return STAMP_WINDOW_REMOTE_NS;
    return mtime->tv_nsec == 0 ? STAMP_WINDOW_COARSE_NS : STAMP_WINDOW_FINE_NS;
}
