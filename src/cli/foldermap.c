#include "cli/foldermap.h"

#include "base/log.h"
#include "base/xalloc.h"
#include "config/config_py.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *swap_sep(const char *name, char from, char to)
{
    char *s = xstrdup(name);
    if (from && to && from != to)
        for (char *p = s; *p; p++)
            if (*p == from)
                *p = to;
    return s;
}

static bool compile(struct py_expr **out, const struct config_expr *x, const struct config *cfg,
                    const char *section, const char *option, struct err *e)
{
    *out = NULL;
    if (!x->text)
        return true;
    *out = py_expr_new(x, cfg->path, section, option, true, e);
    if (!*out) {
        e->scope = ERR_REPO;
        return false;
    }
    return true;
}

bool foldermap_init(struct foldermap *m, const struct config *cfg,
                    const struct config_account *acc, const struct strvec *only, struct err *e)
{
    memset(m, 0, sizeof(*m));
    const struct config_repository *r = acc->remote, *l = acc->local;
    m->lsep = l->sep && l->sep[0] ? l->sep[0] : '.';
    m->only = only && only->n ? only : NULL;
    if (!compile(&m->rtrans, &r->nametrans, cfg, r->section, "nametrans", e) ||
        !compile(&m->ltrans, &l->nametrans, cfg, l->section, "nametrans", e) ||
        !compile(&m->rfilter, &r->folderfilter, cfg, r->section, "folderfilter", e) ||
        !compile(&m->lfilter, &l->folderfilter, cfg, l->section, "folderfilter", e) ||
        !compile(&m->rsort, &r->foldersort, cfg, r->section, "foldersort", e)) {
        foldermap_release(m);
        return false;
    }
    if (r->folderincludes.text && !m->only) {
        struct py_expr *inc = NULL;
        bool ok = compile(&inc, &r->folderincludes, cfg, r->section, "folderincludes", e) &&
                  py_eval_strlist(inc, &m->rincludes, e);
        py_expr_free(&inc);
        if (!ok) {
            e->scope = ERR_REPO;
            foldermap_release(m);
            return false;
        }
    }
    return true;
}

void foldermap_release(struct foldermap *m)
{
    py_expr_free(&m->rtrans);
    py_expr_free(&m->ltrans);
    py_expr_free(&m->rfilter);
    py_expr_free(&m->lfilter);
    py_expr_free(&m->rsort);
    strvec_free(&m->rincludes);
}

static bool translate(struct py_expr *x, const char *name, char **out_r, struct err *e)
{
    if (!x) {
        *out_r = xstrdup(name);
        return true;
    }
    return py_call_str_str(x, name, out_r, e);
}

bool foldermap_remote_visible(const struct foldermap *m, const char *rname, char **vis_r,
                              struct err *e)
{
    return translate(m->rtrans, rname, vis_r, e);
}

bool foldermap_to_local(const struct foldermap *m, const char *rname, char **lname_r,
                        struct err *e)
{
    char *vis;
    if (!translate(m->rtrans, rname, &vis, e))
        return false;
    *lname_r = swap_sep(vis, m->rsep, m->lsep);
    free(vis);
    return true;
}

bool foldermap_to_remote(const struct foldermap *m, const char *lname, char **rname_r,
                         struct err *e)
{
    char *vis;
    if (!translate(m->ltrans, lname, &vis, e))
        return false;
    *rname_r = swap_sep(vis, m->lsep, m->rsep);
    free(vis);
    return true;
}

char *foldermap_local_visible_cb(void *ctx, const char *lname)
{
    const struct foldermap *m = ctx;
    char *vis = NULL;
    struct err e = ERR_INIT;
    if (!translate(m->ltrans, lname, &vis, &e)) {
        /* The folder's sync reports the error when it translates the name itself. */
        log_warn("%s", e.msg);
        vis = xstrdup(lname);
    }
    err_clear(&e);
    return vis;
}

bool foldermap_remote_wanted(const struct foldermap *m, const char *rname, bool *yes_r,
                             struct err *e)
{
    /* -f replaces the remote folderfilter and empties folderincludes, as offlineimap. */
    if (m->only) {
        *yes_r = strvec_contains(m->only, rname);
        return true;
    }
    if (strvec_contains(&m->rincludes, rname)) {
        *yes_r = true;
        return true;
    }
    if (!m->rfilter) {
        *yes_r = true;
        return true;
    }
    return py_call_str_bool(m->rfilter, rname, yes_r, e);
}

bool foldermap_local_wanted(const struct foldermap *m, const char *lname, bool *yes_r,
                            struct err *e)
{
    if (!m->lfilter) {
        *yes_r = true;
        return true;
    }
    return py_call_str_bool(m->lfilter, lname, yes_r, e);
}

struct sort_item {
    char *name;
    char *vis;
    size_t pos;
};

static int cmp_pos(const void *a, const void *b)
{
    const struct sort_item *x = a, *y = b;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int cmp_vis(const void *a, const void *b)
{
    const struct sort_item *x = a, *y = b;
    int c = strcasecmp(x->vis, y->vis);
    return c ? c : strcmp(x->vis, y->vis);
}

bool foldermap_sort(const struct foldermap *m, struct strvec *names, struct strvec *vis,
                    struct err *e)
{
    size_t n = names->n;
    struct sort_item *it = xcalloc(n ? n : 1, sizeof(*it));
    for (size_t i = 0; i < n; i++)
        it[i] = (struct sort_item){names->v[i], vis->v[i], i};
    bool ok = true;
    if (!m->rsort) {
        /* offlineimap: a case-insensitive sort on the translated names. */
        qsort(it, n, sizeof(*it), cmp_vis);
    } else {
        struct strvec order = STRVEC_INIT;
        for (size_t i = 0; i < n; i++)
            strvec_push(&order, vis->v[i]);
        ok = py_sort_names(m->rsort, &order, e);
        /* Each visible name's place in the sorted order (names are distinct). */
        for (size_t i = 0; ok && i < n; i++)
            for (size_t k = 0; k < order.n; k++)
                if (!strcmp(order.v[k], it[i].vis)) {
                    it[i].pos = k;
                    break;
                }
        strvec_free(&order);
        if (ok)
            qsort(it, n, sizeof(*it), cmp_pos);
    }
    for (size_t i = 0; i < n; i++) {
        names->v[i] = it[i].name;
        vis->v[i] = it[i].vis;
    }
    free(it);
    return ok;
}
