/*
 * check_config_names: the nametrans round trip of --check-config (see
 * check_config_names.h).
 */
#include "cli/check_config_names.h"

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "cli/foldermap.h"
#include "store/store_maildir.h"

#include <stdlib.h>
#include <string.h>

/* One local folder's trip: local name -> remote name -> back. */
struct trip {
    char *remote; /* the name the folder would get on the server */
    char *back;   /* what the remote nametrans makes of it */
};

static void trip_release(struct trip *t)
{
    free(t->remote);
    free(t->back);
    t->remote = t->back = NULL;
}

/*
 * The trip with remote separator rsep.  *ok_r: no loop (the name comes back,
 * or the remote folderfilter keeps offlineimap from creating the folder).
 */
static bool one_trip(struct foldermap *m, const struct config_account *a, char rsep,
                     const char *lname, struct trip *t, bool *ok_r, unsigned *line_r, struct err *e)
{
    m->rsep = rsep;
    bool want = false;
    if (!foldermap_to_remote(m, lname, &t->remote, e)) {
        *line_r = a->local->nametrans.line;
        return false;
    }
    if (!foldermap_remote_wanted(m, t->remote, &want, e)) {
        *line_r = a->remote->folderfilter.line;
        return false;
    }
    if (!want) {
        *ok_r = true;
        return true;
    }
    if (!foldermap_to_local(m, t->remote, &t->back, e)) {
        *line_r = a->remote->nametrans.line;
        return false;
    }
    *ok_r = !strcmp(t->back, lname);
    return true;
}

static bool any_expr(const struct config_repository *r)
{
    return r->nametrans.text || r->folderfilter.text || r->folderincludes.text ||
           r->foldersort.text;
}

/* "file line N" of [section] option, or the file alone. */
static char *where(const struct config *cfg, const char *section, const char *option,
                   unsigned *line_r)
{
    const struct ini_option *opt = ini_lookup(cfg->ini, section, option);
    *line_r = opt ? opt->line : 0;
    return opt ? ini_where(cfg->ini, opt) : xstrdup(cfg->path);
}

static void report_loop(const struct config *cfg, const struct config_account *a, const char *lname,
                        const struct trip *t, size_t others, struct config_problems *probs)
{
    const struct config_repository *l = a->local, *r = a->remote;
    /* The problem is placed at the remote nametrans when there is one, else the local. */
    const struct config_repository *lead = r->nametrans.text ? r : l;
    unsigned line, oline = 0;
    char *w = where(cfg, lead->section, "nametrans", &line);
    char *there;
    if (lead == r && l->nametrans.text) {
        const struct ini_option *opt = ini_lookup(cfg->ini, l->section, "nametrans");
        oline = opt ? opt->line : 0;
        there = oline ? xasprintf(" ([%s] nametrans, line %u)", l->section, oline)
                      : xasprintf(" ([%s] nametrans)", l->section);
    } else if (lead == r) {
        there = xasprintf(" ([%s] has no nametrans)", l->section);
    } else {
        there = xstrdup("");
    }
    char *back = lead == r ? xstrdup("this nametrans turns that back into")
                           : xasprintf("[%s], which has no nametrans, keeps that as", r->section);
    char *more = others ? xasprintf(" (%zu other local folder%s of the account ha%s the same "
                                    "problem)",
                                    others, others == 1 ? "" : "s", others == 1 ? "s" : "ve")
                        : xstrdup("");
    config_problems_add(
        probs, CONFIG_ERROR, line,
        "%s: [%s] nametrans: the local folder '%s' of account %s would be created on the server "
        "as '%s'%s, and %s '%s', not '%s'%s: offlineimap stops the account with \"INFINITE "
        "FOLDER CREATION DETECTED!\". Write the two nametrans so that each undoes the other, "
        "or keep the folder out with a folderfilter.",
        w, lead->section, lname, a->name, t->remote, there, back, t->back, lname, more);
    free(more);
    free(back);
    free(there);
    free(w);
}

void check_config_names(const struct config *cfg, const struct config_account *a, bool python,
                        struct config_problems *probs)
{
    const struct config_repository *l = a->local, *r = a->remote;
    if (!config_repo_is_maildir(l->type) || !l->localfolders || !*l->localfolders)
        return;
    /* Without a nametrans a name goes back and forth unchanged. */
    if (!l->nametrans.text && !r->nametrans.text)
        return;
    /* offlineimap checks only before creating a folder on the server. */
    if (!r->createfolders || r->readonly)
        return;
    if (!python && (any_expr(l) || any_expr(r)))
        return;
    if (!fs_is_dir(l->localfolders))
        return;

    struct err e = ERR_INIT;
    struct foldermap m;
    if (!foldermap_init(&m, cfg, a, NULL, &e)) {
        /* check_config reports the expressions' own problems. */
        err_clear(&e);
        return;
    }
    char lsep = m.lsep;
    struct maildir_opts mo = {.name = l->name, .root = l->localfolders, .sep = lsep};
    struct store *s = store_maildir_new(&mo);
    struct store_folder_list fl = {0};
    struct strvec names = STRVEC_INIT;
    if (s->ops->connect(s, &e) && s->ops->list_folders(s, &fl, &e)) {
        for (size_t i = 0; i < fl.n; i++)
            if (!fl.v[i].noselect && fl.v[i].name[0])
                strvec_push(&names, fl.v[i].name);
    }
    /* A tree that cannot be read is the sync's to report. */
    err_clear(&e);
    store_folder_list_free(&fl);
    s->ops->free(s);
    strvec_sort(&names);

    /* The separators the server may have. */
    char seps[3];
    size_t nseps = 0;
    if (r->type == CONFIG_REPO_GMAIL) {
        seps[nseps++] = '/';
    } else {
        const char cand[3] = {lsep, '.', '/'};
        for (size_t i = 0; i < 3; i++)
            if (!memchr(seps, cand[i], nseps))
                seps[nseps++] = cand[i];
    }

    const char *first = NULL;
    struct trip shown = {0};
    size_t others = 0;
    bool failed = false;
    unsigned fail_line = 0;
    for (size_t i = 0; i < names.n && !failed; i++) {
        const char *lname = names.v[i];
        bool want = false;
        if (!foldermap_local_wanted(&m, lname, &want, &e)) {
            fail_line = l->folderfilter.line;
            failed = true;
            break;
        }
        if (!want)
            continue;
        bool ok = false;
        struct trip t0 = {0};
        for (size_t k = 0; k < nseps && !ok; k++) {
            struct trip t = {0};
            if (!one_trip(&m, a, seps[k], lname, &t, &ok, &fail_line, &e)) {
                trip_release(&t);
                failed = true;
                break;
            }
            /* The trip with the first separator tried is the one shown. */
            if (k == 0)
                t0 = t;
            else
                trip_release(&t);
        }
        if (!failed && !ok) {
            if (!first) {
                first = lname;
                shown = t0;
                t0 = (struct trip){0};
            } else {
                others++;
            }
        }
        trip_release(&t0);
    }
    if (first)
        report_loop(cfg, a, first, &shown, others, probs);
    if (failed) {
        /* A nametrans or folderfilter raising on a real folder name stops the run too. */
        config_problems_add(probs, CONFIG_ERROR, fail_line, "%s", e.msg);
        err_clear(&e);
    }
    trip_release(&shown);
    strvec_free(&names);
    foldermap_release(&m);
}
