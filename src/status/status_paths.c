#include "status/status_paths.h"

#include "base/fsutil.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

char *status_folder_basename(const char *name, const char *sep)
{
    /* BaseFolder.__init__: a name equal to the separator is the top level. */
    if (sep && *sep && strcmp(name, sep) == 0)
        name = "";
    char *base = xstrdup(*name ? name : ".");
    for (char *p = base; *p; p++)
        if (*p == '/')
            *p = '.';
    /*
     * re.sub('(^|\/)\.$', '\1dot', base): no '/' is left, so only a base of
     * exactly "." matches; Python's '$' also matches before a final newline.
     */
    if (strcmp(base, ".") == 0 || strcmp(base, ".\n") == 0) {
        char *dot = xasprintf("dot%s", base + 1);
        free(base);
        base = dot;
    }
    return base;
}

char *status_path_account_dir(const char *metadata, const char *account)
{
    return xasprintf("%s/Account-%s", metadata, account);
}

char *status_path_repo_dir(const char *metadata, const char *repo)
{
    return xasprintf("%s/Repository-%s", metadata, repo);
}

static bool base_check(const char *base, struct err *e)
{
    if (*base == '\0' || strchr(base, '/') || strcmp(base, "..") == 0) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC,
                "The folder name \"%s\" cannot be used as a status file name.", base);
        return false;
    }
    return true;
}

static bool path_in(const char *metadata, const char *prefix, const char *owner, const char *sub,
                    const char *base, char **path_r, struct err *e)
{
    if (!base_check(base, e))
        return false;
    *path_r = xasprintf("%s/%s%s/%s/%s", metadata, prefix, owner, sub, base);
    return true;
}

bool status_path_sqlite(const char *metadata, const char *account, const char *base, char **path_r,
                        struct err *e)
{
    return path_in(metadata, "Account-", account, "LocalStatus-sqlite", base, path_r, e);
}

bool status_path_plain(const char *metadata, const char *account, const char *base, char **path_r,
                       struct err *e)
{
    return path_in(metadata, "Account-", account, "LocalStatus", base, path_r, e);
}

bool status_path_validity(const char *metadata, const char *repo, const char *base, char **path_r,
                          struct err *e)
{
    return path_in(metadata, "Repository-", repo, "FolderValidity", base, path_r, e);
}

bool status_path_uidmap(const char *metadata, const char *repo, const char *base, char **path_r,
                        struct err *e)
{
    return path_in(metadata, "Repository-", repo, "UIDMapping", base, path_r, e);
}

bool status_path_startuid(const char *metadata, const char *repo, const char *base, char **path_r,
                          struct err *e)
{
    return path_in(metadata, "Repository-", repo, "StartUID", base, path_r, e);
}

char *status_path_lock(const char *metadata, const char *account)
{
    return xasprintf("%s/%s.lock", metadata, account);
}

bool status_name_check(const char *what, const char *name, struct err *e)
{
    if (*name == '\0' || strchr(name, '/')) {
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "The %s name \"%s\" cannot be used in a metadata file name "
                "(it is empty or contains '/').",
                what, name);
        return false;
    }
    return true;
}

bool status_dirs_metadata(const char *metadata, struct err *e)
{
    if (fs_mkdir_p(metadata, 0700, e))
        return true;
    e->scope = ERR_REPO;
    return false;
}

/* Create each of dir/subs[i] (subs ends with NULL); dir itself first. */
static bool mkdirs_under(const char *dir, const char *const *subs, struct err *e)
{
    if (!fs_mkdir_p(dir, 0700, e)) {
        e->scope = ERR_REPO;
        return false;
    }
    for (size_t i = 0; subs[i]; i++) {
        char *sub = fs_join(dir, subs[i]);
        bool ok = fs_mkdir_p(sub, 0700, e);
        free(sub);
        if (!ok) {
            e->scope = ERR_REPO;
            return false;
        }
    }
    return true;
}

bool status_dirs_account(const char *metadata, const char *account, struct err *e)
{
    static const char *const subs[] = {"LocalStatus-sqlite", NULL};
    if (!status_name_check("account", account, e))
        return false;
    char *dir = status_path_account_dir(metadata, account);
    bool ok = mkdirs_under(dir, subs, e);
    free(dir);
    return ok;
}

bool status_dirs_repo(const char *metadata, const char *repo, struct err *e)
{
    static const char *const subs[] = {"UIDMapping", "FolderValidity", NULL};
    if (!status_name_check("repository", repo, e))
        return false;
    char *dir = status_path_repo_dir(metadata, repo);
    bool ok = mkdirs_under(dir, subs, e);
    free(dir);
    return ok;
}
