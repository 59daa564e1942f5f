/*
 * migrate_fmd5: --migrate-fmd5-using-nametrans over the accounts of the run
 * (see migrate_fmd5.h).
 */
#include "cli/migrate_fmd5.h"

#include "base/log.h"
#include "cli/foldermap.h"
#include "status/status_lock.h"
#include "status/status_paths.h"
#include "store/store_maildir.h"

#include <string.h>

static bool migrate_account(const struct config *cfg, const struct config_account *acc,
                            bool dry_run, struct err *e)
{
    const struct config_repository *local = acc->local;
    if (!local || !config_repo_is_maildir(local->type)) {
        log_info("Account %s: the local repository is not a Maildir; nothing to migrate.",
                 acc->name);
        return true;
    }
    struct foldermap fm;
    if (!foldermap_init(&fm, cfg, acc, NULL, e))
        return false;
    fm.lsep = local->sep && local->sep[0] ? local->sep[0] : '.';
    struct maildir_opts mo = {
        .name = local->name,
        .root = local->localfolders,
        .sep = fm.lsep,
        .windows_compatible = acc->maildir_windows_compatible,
        .fsync = cfg->general.fsync,
        .visible_name = foldermap_local_visible_cb,
        .visible_ctx = &fm,
    };
    struct store *s = store_maildir_new(&mo);
    struct status_lock *lock = NULL;
    struct store_folder_list l = {0};
    bool ok = status_dirs_metadata(cfg->general.metadata, e) &&
              status_dirs_account(cfg->general.metadata, acc->name, e) &&
              status_lock_acquire(cfg->general.metadata, acc->name, &lock, e) &&
              s->ops->connect(s, e) && s->ops->list_folders(s, &l, e);
    unsigned renamed = 0, folders = 0;
    bool all = ok;
    for (size_t i = 0; ok && i < l.n; i++) {
        if (l.v[i].noselect)
            continue;
        struct maildir_fmd5_result r;
        struct err fe = ERR_INIT;
        if (!store_maildir_migrate_fmd5(s, l.v[i].name, dry_run, &r, &fe)) {
            log_error("%s", fe.msg);
            err_clear(&fe);
            all = false;
            continue;
        }
        renamed += r.renamed;
        folders += r.renamed > 0;
    }
    if (ok)
        log_info("Account %s: %s%u message files in %u folders %s the FMD5 of their folder's "
                 "translated name.",
                 acc->name, dry_run ? "[DRYRUN] " : "", renamed, folders,
                 dry_run ? "would get" : "got");
    store_folder_list_free(&l);
    status_lock_release(&lock);
    s->ops->free(s);
    foldermap_release(&fm);
    if (ok && !all) {
        err_set(e, ERR_REPO, ERRK_GENERIC,
                "Account %s: some folders could not be migrated (see above); run the migration "
                "again once the problem is fixed.",
                acc->name);
        ok = false;
    }
    return ok;
}

int migrate_fmd5_run(const struct config *cfg, bool dry_run)
{
    int status = 0;
    for (size_t i = 0; i < cfg->nsync; i++) {
        struct err e = ERR_INIT;
        if (!migrate_account(cfg, cfg->sync[i], dry_run, &e)) {
            log_error("%s", e.msg);
            status = 1;
        }
        err_clear(&e);
    }
    return status;
}
