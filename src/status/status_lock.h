/*
 * status_lock: the per-account lock, shared with offlineimap3.
 *
 * offlineimap3 opens <metadata>/<account>.lock for writing and takes
 * fcntl.lockf(fd, LOCK_EX | LOCK_NB), a POSIX F_SETLK write lock on the whole
 * file.  We take the same lock on the same file, so our binary and
 * offlineimap3 exclude each other on an account; different accounts run at
 * once.  On conflict the error is offlineimap's "Could not lock account %s.
 * Is another instance using this account?" (ERR_REPO), followed by the
 * holder's PID when the system tells it.
 *
 * POSIX locks belong to the process, not to a file descriptor: a second lock
 * of the same file from the same process would succeed, and closing any
 * descriptor of the file would drop it.  So this module also keeps a
 * process-wide table (under a mutex) of the accounts it holds, and refuses a
 * second lock of one of them from the same process.
 *
 * Release removes the file while the lock is still held, then unlocks and
 * closes (offlineimap unlocks, closes and then unlinks; the end state is the
 * same).  An acquire that finds, once locked, that its file is no longer the
 * one at the path (another process released it meanwhile) starts again, so
 * two processes can never both believe they hold the account.
 */
#ifndef STATUS_LOCK_H
#define STATUS_LOCK_H

#include "base/err.h"

#include <stdbool.h>

struct status_lock;

/* Lock account in the metadata directory (which must exist). */
bool status_lock_acquire(const char *metadata, const char *account, struct status_lock **lock_r,
                         struct err *e);
/* Unlink the lock file, unlock, close; set *lock to NULL.  NULL is a no-op. */
void status_lock_release(struct status_lock **lock);
const char *status_lock_path(const struct status_lock *lock);

#endif
