#include "cli/repo_setup.h"

#include "cli/cred.h"
#include "cli/repo_imap.h"

#include "base/xalloc.h"
#include "config/config_py.h"
#include "status/status_paths.h"
#include "store/store_imapmap.h"
#include "store/store_maildir.h"
#include "sync/sync_folder.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Repository-<local>/UIDMapping/<folder>, as offlineimap's MappedIMAPFolder names it. */
static char *uidmap_path(void *ctx, const char *folder, char sep, struct err *e)
{
    const struct account_cfg *a = ctx;
    char sep_s[2] = {sep, '\0'};
    char *base = status_folder_basename(folder, sep ? sep_s : NULL);
    char *path = NULL;
    if (!status_path_uidmap(a->metadata, a->local->name, base, &path, e))
        path = NULL;
    free(base);
    return path;
}

bool repo_setup(const struct repo_setup_opts *o, struct repo_stores *rs, struct err *e)
{
    memset(rs, 0, sizeof(*rs));
    const struct config_account *acc = o->account;
    const struct config_repository *remote = acc->remote, *local = acc->local;
    if (!remote || !local) {
        err_set(e, ERR_REPO, ERRK_CONFIG, "account %s: its repositories are not configured",
                acc->name);
        return false;
    }
    bool local_imap = local->type == CONFIG_REPO_IMAP;
    if (!config_repo_is_imap(remote->type) ||
        !(config_repo_is_maildir(local->type) || local_imap)) {
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "account %s: the local repository must be Maildir, GmailMaildir or IMAP and the "
                "remote one IMAP or Gmail (got %s and %s)",
                acc->name, config_repo_type_name(local->type), config_repo_type_name(remote->type));
        return false;
    }
    struct account_cfg *a = &rs->account;
    if (!repo_imap_new(o, remote, local_imap ? NULL : local, &rs->cred, &a->remote, e)) {
        repo_stores_release(rs);
        return false;
    }
    /* IMAP to IMAP: the local server's store, seen through the UID map (store_imapmap.h). */
    struct store *inner = NULL;
    if (local_imap && !repo_imap_new(o, local, NULL, &rs->cred_local, &inner, e)) {
        repo_stores_release(rs);
        return false;
    }
    struct account_cfg *ac = &rs->account;
    if (remote->copy_ignore_eval.text &&
        !(ac->copy_ignore = py_expr_new(&remote->copy_ignore_eval, o->cfg->path, remote->section,
                                        "copy_ignore_eval", false, e))) {
        e->scope = ERR_REPO;
        if (inner)
            inner->ops->free(inner);
        repo_stores_release(rs);
        return false;
    }
    if (remote->newmail_hook.text &&
        !(ac->newmail_hook = py_expr_new(&remote->newmail_hook, o->cfg->path, remote->section,
                                         "newmail_hook", false, e))) {
        e->scope = ERR_REPO;
        if (inner)
            inner->ops->free(inner);
        repo_stores_release(rs);
        return false;
    }
    if (!foldermap_init(&rs->fmap, o->cfg, acc, o->only_folders, e)) {
        if (inner)
            inner->ops->free(inner);
        repo_stores_release(rs);
        return false;
    }
    rs->fmap_ready = true;

    struct maildir_opts mo = {
        .name = local->name,
        .root = local->localfolders,
        .sep = local->sep && local->sep[0] ? local->sep[0] : '.',
        .windows_compatible = acc->maildir_windows_compatible,
        .fsync = o->cfg->general.fsync,
        .filename_use_mail_timestamp = local->filename_use_mail_timestamp,
        .utime_from_header = local->utime_from_header,
        .restoreatime = local->restoreatime,
        .visible_name = foldermap_local_visible_cb,
        .visible_ctx = &rs->fmap,
    };
    a->name = acc->name;
    a->metadata = o->cfg->general.metadata;
    if (inner) {
        struct store_imapmap_opts io = {
            .inner = inner, .map_path = uidmap_path, .map_ctx = a, .dry_run = o->dry_run};
        a->local = store_imapmap_new(&io);
    } else {
        a->local = store_maildir_new(&mo);
        a->local_sep = mo.sep;
        a->local_root = local->localfolders;
    }
    a->fmap = &rs->fmap;
    a->remote_readonly = remote->readonly;
    a->local_readonly = local->readonly;
    a->remote_sync_deletes = remote->sync_deletes;
    a->local_sync_deletes = local->sync_deletes;
    a->remote_createfolders = remote->createfolders;
    a->local_createfolders = local->createfolders;
    a->max_connections =
        o->single_thread ? 1 : (unsigned)(remote->maxconnections > 0 ? remote->maxconnections : 1);
    a->dry_run = o->dry_run;
    a->fsync = o->cfg->general.fsync;
    a->ignore_readonly = o->cfg->general.ignore_readonly;
    a->presynchook = acc->presynchook;
    a->postsynchook = acc->postsynchook;
    a->sync_mode = "full";
    a->guard_percent = acc->deleteguard;
    a->max_size = acc->has_maxsize ? (uint64_t)acc->maxsize : 0;
    a->filter_headers = &acc->filterheaders;
    a->quick = o->quick || acc->quick < 0;
    const struct config_repository *partial = local->has_startdate    ? local
                                              : remote->has_startdate ? remote
                                                                      : NULL;
    if (partial) {
        a->startdate_side = partial == local ? SYNC_START_LOCAL : SYNC_START_REMOTE;
        struct tm tm = {.tm_year = partial->startdate.year - 1900,
                        .tm_mon = partial->startdate.month - 1,
                        .tm_mday = partial->startdate.day,
                        .tm_isdst = -1};
        a->startdate = (int64_t)mktime(&tm);
    }
    repo_setup_refresh(rs, acc);
    a->guard_minimum = acc->deleteguard_minimum;
    return true;
}

void repo_setup_refresh(struct repo_stores *rs, const struct config_account *acc)
{
    struct account_cfg *a = &rs->account;
    if (acc->maxage_kind == CONFIG_MAXAGE_DAYS) {
        a->maxage_cutoff = (int64_t)time(NULL) - (int64_t)acc->maxage_days * 86400;
    } else if (acc->maxage_kind == CONFIG_MAXAGE_DATE) {
        struct tm tm = {.tm_year = acc->maxage_date.year - 1900,
                        .tm_mon = acc->maxage_date.month - 1,
                        .tm_mday = acc->maxage_date.day,
                        .tm_isdst = -1};
        a->maxage_cutoff = (int64_t)mktime(&tm);
    }
}

void repo_stores_release(struct repo_stores *rs)
{
    if (rs->account.remote)
        rs->account.remote->ops->free(rs->account.remote);
    if (rs->account.local)
        rs->account.local->ops->free(rs->account.local);
    if (rs->fmap_ready)
        foldermap_release(&rs->fmap);
    py_expr_free(&rs->account.copy_ignore);
    py_expr_free(&rs->account.newmail_hook);
    cred_free(&rs->cred);
    cred_free(&rs->cred_local);
    memset(rs, 0, sizeof(*rs));
}
