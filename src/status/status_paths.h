/*
 * status_paths: where offlineimap keeps its metadata, file for file.
 *
 *   <metadata>/                                   mode 0700
 *     <account>.lock                              per-account lock (status_lock.h)
 *     Account-<account>/                          0700
 *       LocalStatus-sqlite/<base>                 SQLite status, one per folder
 *       LocalStatus/<base>                        legacy plain status (read only)
 *     Repository-<repo>/                          0700
 *       FolderValidity/<base>                     saved UIDVALIDITY
 *       UIDMapping/<base>                         IMAP-IMAP mode (the dir created, as offlineimap)
 *       StartUID/<base>                           startdate: the first UID synced
 *
 * <base> is offlineimap's getfolderbasename() of the folder name (see
 * status_folder_basename()).  Every function here returns a newly allocated
 * string; the caller frees it.  Names that would make a path leave its
 * directory (an account or repository name with '/', a base name "..") are
 * refused with an error instead, since offlineimap could not use them either.
 */
#ifndef STATUS_PATHS_H
#define STATUS_PATHS_H

#include "base/err.h"

#include <stdbool.h>

/*
 * offlineimap's BaseFolder.getfolderbasename(): the folder name with every '/'
 * replaced by '.'; the top-level folder (the name "" or a name equal to the
 * folder's separator sep, which may be NULL) and the name "." become "dot".
 */
char *status_folder_basename(const char *name, const char *sep);

/* <metadata>/Account-<account> */
char *status_path_account_dir(const char *metadata, const char *account);
/* <metadata>/Repository-<repo> */
char *status_path_repo_dir(const char *metadata, const char *repo);

/*
 * The per-folder files; base is a status_folder_basename() result.  They
 * fail (ERR_FOLDER) for a base name that is not a plain file name.
 */
bool status_path_sqlite(const char *metadata, const char *account, const char *base, char **path_r,
                        struct err *e);
bool status_path_plain(const char *metadata, const char *account, const char *base, char **path_r,
                       struct err *e);
bool status_path_validity(const char *metadata, const char *repo, const char *base, char **path_r,
                          struct err *e);
/* Repository-<repo>/UIDMapping/<base> (IMAP-IMAP) and StartUID/<base> (startdate). */
bool status_path_uidmap(const char *metadata, const char *repo, const char *base, char **path_r,
                        struct err *e);
bool status_path_startuid(const char *metadata, const char *repo, const char *base, char **path_r,
                          struct err *e);

/* <metadata>/<account>.lock */
char *status_path_lock(const char *metadata, const char *account);

/*
 * Check that an account or repository name can be used in a file name
 * (no '/', not empty); ERR_REPO otherwise.  what is "account" or "repository".
 */
bool status_name_check(const char *what, const char *name, struct err *e);

/*
 * Directory creation with offlineimap's modes (0700), parents included.
 *  _metadata: <metadata> itself.
 *  _account:  <metadata>/Account-<a>/ and its LocalStatus-sqlite/.
 *  _repo:     <metadata>/Repository-<r>/ with FolderValidity/ and UIDMapping/.
 * An existing directory is left as it is (its mode is not changed).
 */
bool status_dirs_metadata(const char *metadata, struct err *e);
bool status_dirs_account(const char *metadata, const char *account, struct err *e);
bool status_dirs_repo(const char *metadata, const char *repo, struct err *e);

#endif
