/*
 * config_py_needed: whether a configuration uses Python at all.  It lives
 * apart from the rest of config_py so that the program answers it without
 * loading the embedded Python (config_py_loader.c).
 */
#include "config/config_py.h"

static bool expr_set(const struct config_expr *x)
{
    return x->text != NULL;
}

bool py_needed(const struct config *cfg)
{
    if (cfg->general.pythonfile)
        return true;
    const struct config_mbnames *m = &cfg->mbnames;
    if (m->present && (expr_set(&m->header) || expr_set(&m->sep) || expr_set(&m->footer) ||
                       expr_set(&m->folderfilter) || expr_set(&m->sort_keyfunc) || m->peritem))
        return true;
    for (size_t i = 0; i < cfg->nrepositories; i++) {
        const struct config_repository *r = &cfg->repositories[i];
        const struct config_expr *xs[] = {
            &r->nametrans,
            &r->folderfilter,
            &r->folderincludes,
            &r->foldersort,
            &r->remotehosteval,
            &r->remoteporteval,
            &r->remoteusereval,
            &r->remotepasseval,
            &r->oauth2_client_id_eval,
            &r->oauth2_client_secret_eval,
            &r->oauth2_refresh_token_eval,
            &r->oauth2_access_token_eval,
            &r->idlefolders,
            &r->copy_ignore_eval,
            &r->newmail_hook,
        };
        for (size_t k = 0; k < sizeof(xs) / sizeof(xs[0]); k++)
            if (expr_set(xs[k]))
                return true;
    }
    return false;
}
