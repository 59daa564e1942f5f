/*
 * fsutil: file-system helpers with explicit durability.
 *
 * fs_write_atomic() writes a small file through "<path>.tmp", fsyncs it when
 * asked, renames it into place and fsyncs the directory, so that after a
 * crash the path holds either the old or the new content, never a mix.
 * Errors come back as an errno value plus an err with the path in the text.
 */
#ifndef BASE_FSUTIL_H
#define BASE_FSUTIL_H

#include "base/buf.h"
#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Create dir and its missing parents with mode; true if it exists after. */
bool fs_mkdir_p(const char *path, mode_t mode, struct err *e);
/* fsync a directory (after a rename or create inside it). */
bool fs_fsync_dir(const char *path, struct err *e);
/* fsync the directory that holds path. */
bool fs_fsync_parent(const char *path, struct err *e);
bool fs_write_atomic(const char *path, const void *data, size_t len, bool durable, struct err *e);
/* Read a whole file of at most max bytes into out (appended). */
bool fs_read_file(const char *path, size_t max, struct buf *out, struct err *e);
bool fs_exists(const char *path);
bool fs_is_dir(const char *path);
/* Remove a directory tree; used by tests and --delete paths only. */
bool fs_remove_tree(const char *path, struct err *e);

/* "~/x" and "$VAR/x" expansion as Python's expanduser + expandvars. */
char *fs_expand_path(const char *path);
/* a + "/" + b, without doubling the slash. */
char *fs_join(const char *a, const char *b);

/* write() all of it, retrying on EINTR and short writes; false with errno set. */
bool fs_write_all(int fd, const void *data, size_t len);

/*
 * How long after a file time a change may leave that time as it is (the
 * clock tick of the file system holding path, whose time mtime is): fine
 * local times 50 ms, whole seconds 2.1 s, a network file system 5 s.
 */
int64_t fs_time_window_ns(const char *path, const struct timespec *mtime);
/* The wall-clock time in nanoseconds, as file times count it. */
int64_t fs_now_ns(void);
/* The shortest such window (a local file system with fine times). */
int64_t fs_time_window_min_ns(void);

#endif
