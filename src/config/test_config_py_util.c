/*
 * test_config_py_util: configurations in memory and their expressions, for
 * test-config-py.
 */
#include "config/test_config_py.h"

#include "base/xalloc.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

struct config *tpy_build(const char *text)
{
    struct ini *ini = ini_new("rc");
    struct err e = ERR_INIT;
    if (!ini_parse_text(ini, text, strlen(text), &e)) {
        test_fail_at(__FILE__, __LINE__, "parse failed: %s", e.msg);
        err_clear(&e);
        ini_free(&ini);
        return NULL;
    }
    struct config *cfg = NULL;
    struct config_problems p = CONFIG_PROBLEMS_INIT;
    if (!config_build(ini, NULL, &cfg, &p))
        for (size_t i = 0; i < p.n; i++)
            test_fail_at(__FILE__, __LINE__, "config: %s", p.v[i].msg);
    config_problems_free(&p);
    return cfg;
}

/* A config whose [Repository R] has "option = text" on line OPT_LINE. */
struct config *tpy_build_repo_option(const char *option, const char *text)
{
    char *s = xasprintf(GEN ACC LOC REM "%s = %s\n", option, text);
    struct config *cfg = tpy_build(s);
    free(s);
    return cfg;
}

static const struct {
    const char *name;
    size_t offset;
} repo_options[] = {
#define O(f)                                                                                       \
    {                                                                                              \
#f, offsetof(struct config_repository, f)                                                  \
    }
    O(nametrans),      O(folderfilter),     O(folderincludes), O(foldersort),
    O(remotehosteval), O(remoteporteval),   O(remoteusereval), O(remotepasseval),
    O(idlefolders),    O(copy_ignore_eval), O(newmail_hook),   O(oauth2_access_token_eval),
#undef O
};

static bool with_re(const char *option)
{
    return !strcmp(option, "nametrans") || !strcmp(option, "folderfilter") ||
           !strcmp(option, "folderincludes") || !strcmp(option, "foldersort");
}

/* The expression of option in [Repository R] of cfg, compiled; NULL with e set. */
struct py_expr *tpy_repo_expr(const struct config *cfg, const char *option, struct err *e)
{
    const struct config_repository *r = config_find_repository(cfg, "R");
    for (size_t i = 0; r && i < sizeof(repo_options) / sizeof(repo_options[0]); i++)
        if (!strcmp(repo_options[i].name, option))
            return py_expr_new(
                (const struct config_expr *)((const char *)r + repo_options[i].offset),
                cfg->ini->display, r->section, option, with_re(option), e);
    test_fail_at(__FILE__, __LINE__, "no option %s", option);
    return NULL;
}

/* Build, compile: the expression for "option = text", or NULL (test failed). */
struct py_expr *tpy_expr_for(const char *option, const char *text, struct config **cfg_r)
{
    *cfg_r = tpy_build_repo_option(option, text);
    if (!*cfg_r)
        return NULL;
    struct err e = ERR_INIT;
    struct py_expr *x = tpy_repo_expr(*cfg_r, option, &e);
    if (!x)
        test_fail_at(__FILE__, __LINE__, "%s = %s: %s", option, text, e.msg);
    err_clear(&e);
    return x;
}

/* A test name on one line. */
char *tpy_one_line(char *s)
{
    for (char *p = s; *p; p++)
        if (*p == '\n')
            *p = '|';
    return s;
}

void tpy_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        test_fail_at(__FILE__, __LINE__, "cannot write %s", path);
}

struct config *tpy_build_with_pythonfile(const char *path)
{
    char *s = xasprintf("[general]\naccounts = A\npythonfile = %s\n\n" ACC LOC REM, path);
    struct config *cfg = tpy_build(s);
    free(s);
    return cfg;
}

/* Evaluate or call x the way its option is used; false with e set. */
bool tpy_use(struct py_expr *x, const char *option, struct err *e)
{
    char *s = NULL;
    bool b, none, ok;
    int64_t n;
    struct strvec v = STRVEC_INIT;
    struct uidvec u = UIDVEC_INIT;
    if (!strcmp(option, "nametrans"))
        ok = py_call_str_str(x, "INBOX", &s, e);
    else if (!strcmp(option, "folderfilter"))
        ok = py_call_str_bool(x, "INBOX", &b, e);
    else if (!strcmp(option, "remoteporteval"))
        ok = py_eval_int(x, &n, e);
    else if (!strcmp(option, "idlefolders") || !strcmp(option, "folderincludes"))
        ok = py_eval_strlist(x, &v, e);
    else if (!strcmp(option, "copy_ignore_eval"))
        ok = py_call_uidlist(x, "INBOX", &u, &none, e);
    else if (!strcmp(option, "newmail_hook"))
        ok = py_call_void(x, e);
    else if (!strcmp(option, "foldersort")) {
        strvec_push(&v, "b");
        strvec_push(&v, "a");
        ok = py_sort_names(x, &v, e);
    } else
        ok = py_eval_str(x, &s, e);
    free(s);
    strvec_free(&v);
    uidvec_free(&u);
    return ok;
}
