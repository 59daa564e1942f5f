/*
 * check_config: --check-config's checks after config_load() (see
 * check_config.h).
 */
#include "cli/check_config.h"

#include "base/xalloc.h"
#include "cli/check_config_names.h"
#include "cli/check_shell.h"
#include "config/config_py.h"
#include "ui/ui.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct checker {
    const struct config *cfg;
    struct config_problems *probs;
    const char *unused_note; /* set while checking what this run does not sync */
    bool python;             /* Python runs: check the expressions */
};

static void add(struct checker *c, unsigned line, const char *msg)
{
    if (!c->unused_note) {
        config_problems_add(c->probs, CONFIG_ERROR, line, "%s", msg);
        return;
    }
    size_t len = strlen(msg);
    bool dot = len && msg[len - 1] == '.';
    config_problems_add(c->probs, CONFIG_WARNING, line, "%.*s (%s).", (int)(dot ? len - 1 : len),
                        msg, c->unused_note);
}

static void add_err(struct checker *c, unsigned line, struct err *e)
{
    add(c, line, e->msg);
    err_clear(e);
}

enum value_kind {
    VAL_NONE,    /* the names only, or a function (see how) */
    VAL_STR,     /* a str: remotehosteval, remoteusereval */
    VAL_PORT,    /* an int from 1 to 65535: remoteporteval */
    VAL_STRLIST, /* a list of str: folderincludes, idlefolders */
};

static void check_expr(struct checker *c, const char *section, const char *option,
                       const struct config_expr *x, bool with_re, enum py_check how,
                       enum value_kind val)
{
    if (!x->text || !c->python)
        return;
    struct err e = ERR_INIT;
    struct py_expr *px = py_expr_new(x, c->cfg->path, section, option, with_re, &e);
    bool ok = px && py_expr_check(px, how, &e);
    if (ok && val == VAL_STR) {
        char *s = NULL;
        ok = py_eval_str(px, &s, &e);
        if (ok && !s) {
            err_set(&e, ERR_FOLDER, ERRK_CONFIG, "%s: the expression does not give a string.",
                    py_expr_where(px));
            ok = false;
        }
        free(s);
    } else if (ok && val == VAL_PORT) {
        int64_t n;
        ok = py_eval_int(px, &n, &e);
        if (ok && (n < 1 || n > 65535)) {
            /* getaddrinfo() would take the number modulo 65536; the run refuses it. */
            err_set(&e, ERR_REPO, ERRK_CONFIG, "%s: %lld is not a port number (1 to 65535).",
                    py_expr_where(px), (long long)n);
            ok = false;
        }
    } else if (ok && val == VAL_STRLIST) {
        struct strvec sv = STRVEC_INIT;
        ok = py_eval_strlist(px, &sv, &e);
        strvec_free(&sv);
    }
    if (!ok)
        add_err(c, x->line, &e);
    py_expr_free(&px);
}

/* A file a run reads (client certificate, password file): it must be readable. */
static void check_file(struct checker *c, const struct config_repository *r, const char *option,
                       const char *path, const char *what)
{
    if (!path || access(path, R_OK) == 0)
        return;
    int err = errno;
    const struct ini_option *opt = ini_lookup(c->cfg->ini, r->section, option);
    char *where = opt ? ini_where(c->cfg->ini, opt) : xstrdup(c->cfg->path);
    char *msg = xasprintf("%s: [%s] %s: the %s %s cannot be read: %s.", where, r->section, option,
                          what, path, strerror(err));
    add(c, opt ? opt->line : 0, msg);
    free(msg);
    free(where);
}

/*
 * A shell command a run starts (a hook, a tunnel): each program it names must
 * be a builtin or an executable file.  Nothing is run; a command whose
 * programs only running it could tell is left alone.
 */
static void check_command(struct checker *c, const char *section, const char *option,
                          const char *cmd)
{
    if (!cmd || !*cmd)
        return;
    struct strvec words = STRVEC_INIT;
    if (!check_shell_words(cmd, getenv("HOME"), &words))
        return;
    const char *path = getenv("PATH");
    for (size_t i = 0; i < words.n; i++) {
        const char *w = words.v[i];
        enum check_shell_prog st = check_shell_program(w, path);
        if (st == CHECK_SHELL_OK)
            continue;
        const struct ini_option *opt = ini_lookup(c->cfg->ini, section, option);
        char *where = opt ? ini_where(c->cfg->ini, opt) : xstrdup(c->cfg->path);
        char *msg;
        if (st == CHECK_SHELL_NOT_FOUND)
            msg = xasprintf("%s: [%s] %s: the command runs '%s', which is neither a shell builtin "
                            "nor a program in $PATH; install it, or write its full path.",
                            where, section, option, w);
        else
            msg =
                xasprintf("%s: [%s] %s: the command runs %s, which %s.", where, section, option, w,
                          st == CHECK_SHELL_MISSING ? "does not exist; correct the path"
                          : st == CHECK_SHELL_DIRECTORY
                              ? "is a directory; name the program in it"
                              : "is not an executable file; make it one (chmod +x)");
        add(c, opt ? opt->line : 0, msg);
        free(msg);
        free(where);
        break; /* one problem per option */
    }
    strvec_free(&words);
}

static void check_repository(struct checker *c, const struct config_repository *r)
{
    const char *s = r->section;
    if (config_repo_is_imap(r->type)) {
        check_command(c, s, "preauthtunnel", r->preauthtunnel);
        check_command(c, s, "transporttunnel", r->transporttunnel);
        check_file(c, r, "sslclientcert", r->sslclientcert, "client certificate");
        check_file(c, r, "sslclientkey", r->sslclientkey, "client key");
        /* offlineimap reads the file only when remotepass and remotepasseval are unset. */
        if (!r->remotepass && !r->remotepasseval.text)
            check_file(c, r, "remotepassfile", r->remotepassfile, "password file");
    }
    check_expr(c, s, "nametrans", &r->nametrans, true, PY_CHECK_FN1, VAL_NONE);
    check_expr(c, s, "folderfilter", &r->folderfilter, true, PY_CHECK_FN1, VAL_NONE);
    check_expr(c, s, "folderincludes", &r->folderincludes, true, PY_CHECK_NAMES, VAL_STRLIST);
    check_expr(c, s, "foldersort", &r->foldersort, true, PY_CHECK_FN_SORT, VAL_NONE);
    if (!config_repo_is_imap(r->type))
        return;
    check_expr(c, s, "remotehosteval", &r->remotehosteval, false, PY_CHECK_NAMES, VAL_STR);
    check_expr(c, s, "remoteporteval", &r->remoteporteval, false, PY_CHECK_NAMES, VAL_PORT);
    check_expr(c, s, "remoteusereval", &r->remoteusereval, false, PY_CHECK_NAMES, VAL_STR);
    check_expr(c, s, "remotepasseval", &r->remotepasseval, false, PY_CHECK_NAMES, VAL_NONE);
    static const struct {
        const char *name;
        size_t off;
    } oauth[] = {
        {"oauth2_client_id_eval", offsetof(struct config_repository, oauth2_client_id_eval)},
        {"oauth2_client_secret_eval",
         offsetof(struct config_repository, oauth2_client_secret_eval)},
        {"oauth2_refresh_token_eval",
         offsetof(struct config_repository, oauth2_refresh_token_eval)},
        {"oauth2_access_token_eval", offsetof(struct config_repository, oauth2_access_token_eval)},
    };
    for (size_t i = 0; i < sizeof(oauth) / sizeof(oauth[0]); i++)
        check_expr(c, s, oauth[i].name,
                   (const struct config_expr *)((const char *)r + oauth[i].off), false,
                   PY_CHECK_NAMES, VAL_NONE);
    check_expr(c, s, "idlefolders", &r->idlefolders, false, PY_CHECK_NAMES, VAL_STRLIST);
    check_expr(c, s, "copy_ignore_eval", &r->copy_ignore_eval, false, PY_CHECK_FN1, VAL_NONE);
    check_expr(c, s, "newmail_hook", &r->newmail_hook, false, PY_CHECK_FN0, VAL_NONE);
}

static void check_mbnames(struct checker *c)
{
    const struct config_mbnames *m = &c->cfg->mbnames;
    if (!m->present || !m->enabled)
        return;
    check_expr(c, "mbnames", "header", &m->header, false, PY_CHECK_NAMES, VAL_STR);
    check_expr(c, "mbnames", "sep", &m->sep, false, PY_CHECK_NAMES, VAL_STR);
    check_expr(c, "mbnames", "footer", &m->footer, false, PY_CHECK_NAMES, VAL_STR);
    check_expr(c, "mbnames", "folderfilter", &m->folderfilter, true, PY_CHECK_FN2, VAL_NONE);
    check_expr(c, "mbnames", "sort_keyfunc", &m->sort_keyfunc, true, PY_CHECK_FN1, VAL_NONE);
    if (m->peritem) {
        /* offlineimap formats every item with peritem % {...}: try one. */
        char *out = NULL;
        struct err e = ERR_INIT;
        if (!py_format_item(m->peritem, "Account", "INBOX", "/home/mail", &out, &e))
            add_err(c, m->peritem_line, &e);
        free(out);
    }
}

/* [general] ui as the program would take it (-u aside). */
static void check_ui(struct checker *c)
{
    const struct ini_option *opt = ini_lookup(c->cfg->ini, "general", "ui");
    if (!opt)
        return;
    FILE *null = fopen("/dev/null", "w");
    struct ui_opts uo = {.err = null, .out = null};
    struct err e = ERR_INIT;
    struct ui *ui = ui_new(c->cfg->general.ui, &uo, &e);
    if (!ui) {
        char *where = ini_where(c->cfg->ini, opt);
        char *msg = xasprintf("%s: [general] ui: %s.", where, e.msg);
        add(c, opt->line, msg);
        free(msg);
        free(where);
        err_clear(&e);
    }
    ui_free(&ui);
    if (null)
        fclose(null);
}

static bool uses(const struct config *cfg, const struct config_repository *r)
{
    for (size_t i = 0; i < cfg->nsync; i++)
        if (cfg->sync[i]->local == r || cfg->sync[i]->remote == r)
            return true;
    return false;
}

static bool syncs(const struct config *cfg, const struct config_account *a)
{
    for (size_t i = 0; i < cfg->nsync; i++)
        if (cfg->sync[i] == a)
            return true;
    return false;
}

static const char *const not_synced = "this run does not sync this account, so this is not fatal";

void check_config_more(const struct config *cfg, struct config_problems *probs)
{
    struct checker c = {cfg, probs, NULL, false};
    check_ui(&c);
    struct err e = ERR_INIT;
    c.python = py_needed(cfg);
    if (c.python && !py_start(cfg, &e)) {
        add_err(&c, cfg->general.pythonfile_line, &e);
        /* Without the pythonfile every expression using it would fail too: one error. */
        c.python = false;
    }
    for (size_t i = 0; i < cfg->nrepositories; i++) {
        const struct config_repository *r = &cfg->repositories[i];
        c.unused_note =
            uses(cfg, r)
                ? NULL
                : "no account synced by this run uses this repository, so this is not fatal";
        check_repository(&c, r);
    }
    for (size_t i = 0; i < cfg->naccounts; i++) {
        const struct config_account *a = &cfg->accounts[i];
        c.unused_note = syncs(cfg, a) ? NULL : not_synced;
        check_command(&c, a->section, "presynchook", a->presynchook);
        check_command(&c, a->section, "postsynchook", a->postsynchook);
        if (a->local && a->remote) {
            struct config_problems names = CONFIG_PROBLEMS_INIT;
            check_config_names(cfg, a, c.python, &names);
            for (size_t k = 0; k < names.n; k++)
                add(&c, names.v[k].line, names.v[k].msg);
            config_problems_free(&names);
        }
    }
    c.unused_note = NULL;
    if (c.python)
        check_mbnames(&c);
}
