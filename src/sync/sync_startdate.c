#include "sync/sync_startdate.h"

#include "base/fsutil.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* offlineimap: int(first line .strip()); anything else is "Can't read <file>". */
static bool read_start_uid(const char *path, bool *have_r, uint32_t *uid_r, struct err *e)
{
    *have_r = false;
    if (!fs_exists(path))
        return true;
    struct buf b;
    buf_init(&b, 256);
    bool ok = fs_read_file(path, 256, &b, e);
    if (ok) {
        const char *s = b.data ? b.data : "";
        size_t n = strcspn(s, "\n");
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
            n--;
        while (n && (*s == ' ' || *s == '\t')) {
            s++;
            n--;
        }
        ok = str_to_u32(s, n, uid_r);
        if (!ok)
            err_set(e, ERR_FOLDER, ERRK_GENERIC,
                    "Can't read %s (it should hold the first UID that startdate syncs). Remove "
                    "it only if the other repository's folder is empty again.",
                    path);
        *have_r = ok;
    }
    buf_release(&b);
    return ok;
}

static bool save_start_uid(const char *path, uint32_t uid, struct err *e)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    char text[16];
    int n = snprintf(text, sizeof(text), "%u\n", uid);
    bool ok =
        (!slash || fs_mkdir_p(dir, 0700, e)) && fs_write_atomic(path, text, (size_t)n, true, e);
    free(dir);
    return ok;
}

bool sync_startdate_lists(const struct sync_folder_job *j, struct store_folder *rf,
                          struct store_folder *lf, struct store_msg_list *rl,
                          struct store_msg_list *ll, struct err *e)
{
    bool local_partial = j->startdate_side == SYNC_START_LOCAL;
    struct store *ps = local_partial ? j->local : j->remote,
                 *ns = local_partial ? j->remote : j->local;
    struct store_folder *pf = local_partial ? lf : rf, *nf = local_partial ? rf : lf;
    struct store_msg_list *pl = local_partial ? ll : rl, *nl = local_partial ? rl : ll;
    struct store_list_opts po = local_partial ? j->local_list : j->remote_list;
    const struct store_list_opts *no = local_partial ? &j->remote_list : &j->local_list;

    if (!ns->ops->list_msgs(nf, no, nl, e))
        return false;
    uint32_t min_uid = 0;
    bool have = false;
    if (!read_start_uid(j->startuid_path, &have, &min_uid, e))
        return false;
    if (have) {
        po.min_uid = min_uid;
        return ps->ops->list_msgs(pf, &po, pl, e);
    }
    if (nl->n > 0) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC,
                "To use startdate on Repository %s, Repository %s must be empty (folder %s has "
                "%zu messages there and no %s was saved yet)",
                ps->name, ns->name, local_partial ? j->remote_name : j->local_name, nl->n,
                j->startuid_path);
        return false;
    }
    po.min_date = j->startdate;
    if (!ps->ops->list_msgs(pf, &po, pl, e))
        return false;
    min_uid = 0;
    for (size_t i = 0; i < pl->n; i++) {
        uint32_t u = ps->ops->min_uid_is_key ? pl->v[i].key : pl->v[i].uid;
        if (u && (!min_uid || u < min_uid))
            min_uid = u;
    }
    if (!min_uid)
        min_uid = 1;
    if (j->dry_run)
        return true;
    log_debug(LOGC_SYNC, "folder %s: startdate starts at UID %u of repository %s", j->remote_name,
              min_uid, ps->name);
    return save_start_uid(j->startuid_path, min_uid, e);
}
