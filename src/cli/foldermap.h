/*
 * foldermap: which folders of an account are synced, under which names, in
 * which order, as offlineimap decides it (repository/Base.py, accounts.py):
 *
 *   - a remote folder R is synced when -f names it, or else when it is in
 *     the remote folderincludes or passes the remote folderfilter (both on
 *     the untranslated name);
 *   - its local name is the remote nametrans of R with the remote separator
 *     replaced by the local one, and that local folder must pass the local
 *     folderfilter too;
 *   - a local folder L missing on the server is created there under the local
 *     nametrans of L with the separators swapped, unless the remote
 *     folderfilter would reject that name; and only if the remote nametrans
 *     of that name leads back to L (else offlineimap's "INFINITE FOLDER
 *     CREATION DETECTED!", an account-level error);
 *   - folders sync in foldersort order of their remote translated names
 *     (case-insensitive by default).
 * The Python options are evaluated through config_py; without them every
 * function here is the identity or "yes".
 */
#ifndef CLI_FOLDERMAP_H
#define CLI_FOLDERMAP_H

#include "base/err.h"
#include "base/strutil.h"
#include "config/config_model.h"

#include <stdbool.h>

struct py_expr;

struct foldermap {
    char rsep, lsep;
    struct py_expr *rtrans, *ltrans;   /* nametrans, or NULL */
    struct py_expr *rfilter, *lfilter; /* folderfilter, or NULL */
    struct py_expr *rsort;             /* the remote foldersort, or NULL */
    struct strvec rincludes;           /* remote folderincludes */
    const struct strvec *only;         /* -f, or NULL */
};

/* Compile the account's expressions (Python must be started if any is set). */
bool foldermap_init(struct foldermap *m, const struct config *cfg,
                    const struct config_account *acc, const struct strvec *only, struct err *e);
void foldermap_release(struct foldermap *m);

/* Remote name -> the local name, xmalloc'd. */
bool foldermap_to_local(const struct foldermap *m, const char *rname, char **lname_r,
                        struct err *e);
/* Local name -> the remote name it would be created under, xmalloc'd. */
bool foldermap_to_remote(const struct foldermap *m, const char *lname, char **rname_r,
                         struct err *e);
/* The remote name's translated (visible) name, xmalloc'd. */
bool foldermap_remote_visible(const struct foldermap *m, const char *rname, char **vis_r,
                              struct err *e);
/* The local name's translated name, for FMD5 (a store_maildir visible_name callback). */
char *foldermap_local_visible_cb(void *ctx, const char *lname);

bool foldermap_remote_wanted(const struct foldermap *m, const char *rname, bool *yes_r,
                             struct err *e);
bool foldermap_local_wanted(const struct foldermap *m, const char *lname, bool *yes_r,
                            struct err *e);

/* Order remote names (names[i] with their visible names vis[i]) as foldersort says. */
bool foldermap_sort(const struct foldermap *m, struct strvec *names, struct strvec *vis,
                    struct err *e);

#endif
