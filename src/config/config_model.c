/*
 * config_model: building the model from the parsed file, [general],
 * [mbnames], the accounts to sync, lookup and freeing.
 */
#include "config/config_model.h"
#include "config/config_ini_internal.h"
#include "config/config_model_internal.h"

#include "base/fsutil.h"
#include "base/xalloc.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define NOT_SYNCED_NOTE "account %s is not synced by this run, so this is not fatal"

void config_problems_free(struct config_problems *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i].msg);
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

size_t config_problems_count(const struct config_problems *p, enum config_severity severity)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += p->v[i].severity == severity;
    return n;
}

char *config_default_path(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    char *home = xdg && *xdg ? xstrdup(xdg) : fs_expand_path("~/.config");
    char *dir = fs_join(home, "offlineimap");
    char *path = fs_join(dir, "config");
    free(home);
    free(dir);
    if (fs_exists(path))
        return path;
    free(path);
    return fs_expand_path("~/.offlineimaprc");
}

static size_t find_object(const struct config *cfg, const char *prefix, const char *name)
{
    if (!cfg->section_object)
        return INI_NOT_FOUND;
    char *section = xasprintf("%s%s", prefix, name);
    size_t si = ini_find_section(cfg->ini, section, strlen(section));
    free(section);
    return si == INI_NOT_FOUND ? INI_NOT_FOUND : cfg->section_object[si];
}

struct config_account *config_find_account(const struct config *cfg, const char *name)
{
    size_t i = find_object(cfg, "Account ", name);
    return i == INI_NOT_FOUND ? NULL : &cfg->accounts[i];
}

struct config_repository *config_find_repository(const struct config *cfg, const char *name)
{
    size_t i = find_object(cfg, "Repository ", name);
    return i == INI_NOT_FOUND ? NULL : &cfg->repositories[i];
}

/* [x.lstrip() for x in value.split(",")], as init.py splits account lists. */
static void split_accounts(const char *value, struct strvec *out)
{
    const char *p = value;
    for (;;) {
        size_t n = strcspn(p, ",");
        size_t a, b;
        ini_strip(p, n, &a, &b);
        strvec_push_owned(out, xstrndup(p + a, n - a));
        if (!p[n])
            break;
        p += n + 1;
    }
}

static void read_general(struct config *cfg, struct config_problems *probs)
{
    struct config_general *g = &cfg->general;
    const struct ini_section *s = ini_section(cfg->ini, "general");
    struct rd r = {cfg->ini, probs, "general", s ? s->line : 0, NULL};
    if (!s)
        problem_add(probs, CONFIG_ERROR, 0,
                    "%s: there is no [general] section; offlineimap needs one, with at least "
                    "accounts = <the accounts to sync>.",
                    cfg->ini->display);
    char *accounts = s ? rd_str(&r, "accounts", NULL) : NULL;
    if (accounts)
        split_accounts(accounts, &g->accounts);
    else if (s && !rd_opt(&r, "accounts"))
        rd_section_problem(&r, CONFIG_ERROR,
                           "no accounts option; list the accounts to sync (accounts = Personal, "
                           "Work).");
    free(accounts);
    /* Without [general], get() would fail; the defaults are what remains. */
    g->metadata = rd_path(&r, "metadata", "~/.offlineimap", RD_PATH_USER_VARS);
    g->maxsyncaccounts = (int)rd_int(&r, "maxsyncaccounts", 1, 1, INT_MAX);
    g->ui = rd_str(&r, "ui", "ttyui");
    g->ignore_readonly = rd_bool(&r, "ignore-readonly", false);
    g->pythonfile = rd_path(&r, "pythonfile", NULL, RD_PATH_USER_VARS);
    if (g->pythonfile)
        g->pythonfile_line = rd_opt(&r, "pythonfile")->line;
    int64_t timeout = rd_int(&r, "socktimeout", 0, INT_MIN, INT_MAX);
    g->socktimeout = timeout > 0 ? (int)timeout : 0; /* init.py: only > 0 is used */
    g->fsync = rd_bool(&r, "fsync", true);
    g->filename_use_mail_timestamp = rd_bool(&r, "filename_use_mail_timestamp", false);
    g->utime_from_header = rd_bool(&r, "utime_from_header", false);
    g->dry_run = rd_bool(&r, "dry-run", false);
    g->ignore_keyring = rd_bool(&r, "ignore-keyring", false);
    g->update_keyring = rd_bool(&r, "update-keyring", false);
}

static void read_mbnames(struct config *cfg, struct config_problems *probs)
{
    struct config_mbnames *m = &cfg->mbnames;
    const struct ini_section *s = ini_section(cfg->ini, "mbnames");
    if (!s)
        return;
    struct rd r = {cfg->ini, probs, "mbnames", s->line, NULL};
    m->present = true;
    m->enabled = rd_bool(&r, "enabled", false);
    m->peritem = rd_raw(&r, "peritem");
    if (m->peritem)
        m->peritem_line = rd_opt(&r, "peritem")->line;
    m->header = rd_expr(&r, "header");
    m->sep = rd_expr(&r, "sep");
    m->footer = rd_expr(&r, "footer");
    m->filename = rd_path(&r, "filename", NULL, RD_PATH_USER_VARS);
    m->incremental = rd_bool(&r, "incremental", false);
    m->sort_keyfunc = rd_expr(&r, "sort_keyfunc");
    m->folderfilter = rd_expr(&r, "folderfilter");
    static const char *const required[] = {"filename", "header", "peritem", "sep", "footer"};
    char missing[64] = "";
    size_t nmissing = 0;
    for (size_t i = 0; i < 5; i++) {
        if (rd_opt(&r, required[i]))
            continue;
        if (nmissing++)
            strcat(missing, ", ");
        strcat(missing, required[i]);
    }
    if (nmissing)
        rd_section_problem(&r, CONFIG_ERROR,
                           "no %s option%s; once [mbnames] exists offlineimap reads filename, "
                           "header, peritem, sep and footer, even with enabled = no.",
                           missing, nmissing > 1 ? "s" : "");
}

/* Create the accounts and repositories from the section names, in file order. */
static void collect_sections(struct config *cfg, struct config_problems *probs)
{
    const struct ini *ini = cfg->ini;
    size_t na = 0, nr = 0;
    for (size_t i = 0; i < ini->nsections; i++) {
        na += strncmp(ini->sections[i].name, "Account ", 8) == 0;
        nr += strncmp(ini->sections[i].name, "Repository ", 11) == 0;
    }
    cfg->accounts = xcalloc(na + 1, sizeof(*cfg->accounts));
    cfg->repositories = xcalloc(nr + 1, sizeof(*cfg->repositories));
    cfg->section_object = xcalloc(ini->nsections + 1, sizeof(*cfg->section_object));
    for (size_t i = 0; i < ini->nsections; i++) {
        const struct ini_section *s = &ini->sections[i];
        cfg->section_object[i] = INI_NOT_FOUND;
        if (strncmp(s->name, "Repository ", 11) == 0) {
            cfg->section_object[i] = cfg->nrepositories;
            struct config_repository *repo = &cfg->repositories[cfg->nrepositories++];
            repo->name = xstrdup(s->name + 11);
            repo->section = xstrdup(s->name);
            repo->line = s->line;
        }
        if (strncmp(s->name, "Account ", 8) != 0)
            continue;
        /* accounts.getaccountlist() left-strips the name, and getsection()
         * puts back exactly one space: "[Account  X]" is never found. */
        size_t a, b;
        ini_strip(s->name + 8, strlen(s->name + 8), &a, &b);
        const char *name = s->name + 8 + a;
        if (a > 0) {
            problem_add(probs, CONFIG_WARNING, s->line,
                        "%s line %u: [%s]: ignored, since offlineimap looks for [Account %s], "
                        "with exactly one space.",
                        ini->display, s->line, s->name, name);
            continue;
        }
        cfg->section_object[i] = cfg->naccounts;
        struct config_account *acc = &cfg->accounts[cfg->naccounts++];
        acc->name = xstrdup(name);
        acc->section = xstrdup(s->name);
        acc->line = s->line;
    }
}

/* The accounts to sync: -a, else [general] accounts (init.py _get_activeaccounts). */
static void select_accounts(struct config *cfg, const char *override, struct config_problems *probs)
{
    struct strvec names = STRVEC_INIT;
    char *origin;
    unsigned line = 0;
    if (override) {
        split_accounts(override, &names);
        origin = xasprintf("-a %s", override);
    } else {
        const struct ini_option *opt = ini_lookup(cfg->ini, "general", "accounts");
        if (!opt)
            return; /* already reported */
        for (size_t i = 0; i < cfg->general.accounts.n; i++)
            strvec_push(&names, cfg->general.accounts.v[i]);
        origin = ini_where(cfg->ini, opt);
        line = opt->line;
    }
    char *valid = xstrdup(cfg->naccounts ? "" : "there are none");
    for (size_t k = 0; k < cfg->naccounts; k++) {
        char *next = xasprintf("%s%s%s", valid, k ? ", " : "", cfg->accounts[k].name);
        free(valid);
        valid = next;
    }
    cfg->sync = xcalloc(names.n + 1, sizeof(*cfg->sync));
    bool *taken = xcalloc(cfg->naccounts + 1, sizeof(*taken));
    for (size_t i = 0; i < names.n; i++) {
        struct config_account *acc = config_find_account(cfg, names.v[i]);
        if (!acc) {
            problem_add(probs, CONFIG_ERROR, line,
                        "The account '%s' does not exist (%s: there is no [Account %s] section). "
                        "Valid accounts are: %s",
                        names.v[i], origin, names.v[i], valid);
            continue;
        }
        if (taken[acc - cfg->accounts])
            problem_add(probs, CONFIG_WARNING, line,
                        "%s: the account '%s' is listed twice; it is synced once.", origin,
                        acc->name);
        else
            cfg->sync[cfg->nsync++] = acc;
        taken[acc - cfg->accounts] = true;
    }
    free(taken);
    free(valid);
    free(origin);
    strvec_free(&names);
}

/* Repositories named by an account of this run (read quietly here). */
static bool *used_repositories(const struct config *cfg)
{
    bool *used = xcalloc(cfg->nrepositories + 1, sizeof(*used));
    static const char *const keys[] = {"localrepository", "remoterepository"};
    for (size_t i = 0; i < cfg->nsync; i++) {
        for (size_t k = 0; k < 2; k++) {
            char *v = NULL;
            struct err e = ERR_INIT;
            if (ini_get(cfg->ini, cfg->sync[i]->section, keys[k], false, &v, &e) == INI_FOUND) {
                const struct config_repository *repo = config_find_repository(cfg, v);
                if (repo)
                    used[repo - cfg->repositories] = true;
            }
            free(v);
            err_clear(&e);
        }
    }
    return used;
}

static bool build(struct ini *ini, const char *accounts_override, bool keep_on_error,
                  struct config **cfg_r, struct config_problems *probs)
{
    struct config *cfg = xcalloc(1, sizeof(*cfg));
    cfg->ini = ini;
    cfg->path = xstrdup(ini->path);
    size_t errors_before = config_problems_count(probs, CONFIG_ERROR);

    read_general(cfg, probs);
    collect_sections(cfg, probs);
    select_accounts(cfg, accounts_override, probs);
    bool *used = used_repositories(cfg);
    for (size_t i = 0; i < cfg->nrepositories; i++) {
        struct config_repository *repo = &cfg->repositories[i];
        const char *note =
            used[i] ? NULL
                    : "no account synced by this run uses this repository, so this is not fatal";
        struct rd r = {ini, probs, repo->section, repo->line, note};
        config_read_repository(&r, &cfg->general, repo);
    }
    free(used);
    bool *synced = xcalloc(cfg->naccounts + 1, sizeof(*synced));
    for (size_t i = 0; i < cfg->nsync; i++)
        synced[cfg->sync[i] - cfg->accounts] = true;
    for (size_t i = 0; i < cfg->naccounts; i++) {
        struct config_account *acc = &cfg->accounts[i];
        char *note = synced[i] ? NULL : xasprintf(NOT_SYNCED_NOTE, acc->name);
        struct rd r = {ini, probs, acc->section, acc->line, note};
        config_read_account(&r, cfg, acc);
        free(note);
    }
    free(synced);
    read_mbnames(cfg, probs);
    config_check_names(cfg, probs);

    if (config_problems_count(probs, CONFIG_ERROR) > errors_before) {
        if (!keep_on_error)
            config_free(&cfg);
        *cfg_r = cfg;
        return false;
    }
    *cfg_r = cfg;
    return true;
}

bool config_build(struct ini *ini, const char *accounts_override, struct config **cfg_r,
                  struct config_problems *probs)
{
    return build(ini, accounts_override, false, cfg_r, probs);
}

bool config_load(const char *path, const struct config_overrides *ov, struct config **cfg_r,
                 struct config_problems *probs)
{
    *cfg_r = NULL;
    char *file;
    if (!path) {
        file = config_default_path();
    } else if (path[0] == '~') {
        /* init.py: os.path.expanduser(options.configfile), no $VAR expansion */
        size_t n = strcspn(path, "/");
        char *head = xstrndup(path, n);
        char *home = strchr(head, '$') ? xstrdup(head) : fs_expand_path(head);
        file = xasprintf("%s%s", home, path + n);
        free(head);
        free(home);
    } else {
        file = xstrdup(path);
    }
    struct ini *ini = ini_new(file);
    if (!fs_exists(file)) {
        problem_add(probs, CONFIG_ERROR, 0, "Config file '%s' does not exist; aborting!", file);
        goto fail;
    }
    struct err e = ERR_INIT;
    if (!ini_read_file(ini, file, &e)) {
        /* One problem per line of the parser's report. */
        for (char *line = e.msg; line && *line;) {
            char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            problem_add(probs, CONFIG_ERROR, 0, "%.*s", (int)len, line);
            line = nl ? nl + 1 : NULL;
        }
        err_clear(&e);
        goto fail;
    }
    for (size_t i = 0; ov && i < ov->nset; i++) {
        if (!ini_override(ini, ov->set[i], &e)) {
            problem_add(probs, CONFIG_ERROR, 0, "%s", e.msg);
            err_clear(&e);
            goto fail;
        }
    }
    free(file);
    return build(ini, ov ? ov->accounts : NULL, ov && ov->keep_on_error, cfg_r, probs);
fail:
    ini_free(&ini);
    free(file);
    return false;
}

void config_free(struct config **cfgp)
{
    struct config *cfg = *cfgp;
    if (!cfg)
        return;
    struct config_general *g = &cfg->general;
    strvec_free(&g->accounts);
    free(g->metadata);
    free(g->ui);
    free(g->pythonfile);
    struct config_mbnames *m = &cfg->mbnames;
    free(m->filename);
    free(m->peritem);
    config_expr_free(&m->header);
    config_expr_free(&m->sep);
    config_expr_free(&m->footer);
    config_expr_free(&m->folderfilter);
    config_expr_free(&m->sort_keyfunc);
    for (size_t i = 0; i < cfg->naccounts; i++)
        config_account_release(&cfg->accounts[i]);
    free(cfg->accounts);
    for (size_t i = 0; i < cfg->nrepositories; i++)
        config_repository_release(&cfg->repositories[i]);
    free(cfg->repositories);
    free(cfg->sync);
    free(cfg->section_object);
    ini_free(&cfg->ini);
    free(cfg->path);
    free(cfg);
    *cfgp = NULL;
}
