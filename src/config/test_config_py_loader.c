/*
 * test_config_py_loader: the program's side of the embedded Python
 * (config_py_loader.c) with the real offlineimap-python.so and with modules
 * that must be refused.
 *
 *   test-config-py-loader loaded  MODULE   every call forwarded; mapped only when needed
 *   test-config-py-loader missing          a missing module: errors name the option
 *   test-config-py-loader garbage          a file that is not a shared object
 *   test-config-py-loader foreign MODULE   a module of another build (other interface)
 *   test-config-py-loader noentry MODULE   a shared object without the entry point
 *
 * The module is loaded once per process, so each case is its own run.  The
 * program is linked like offlineimap (the base functions the module calls
 * are exported), so a name missing from config_py_host.dynlist fails here.
 */
#include "config/config_py_plugin.h"
#include "config/test_config_py.h"

#include "base/xalloc.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether a shared object is mapped in this process (RTLD_NOLOAD never loads). */
static bool mapped(const char *name)
{
    void *h = dlopen(name, RTLD_NOW | RTLD_NOLOAD);
    if (h)
        dlclose(h);
    return h != NULL;
}

#define LIBPYTHON_SONAME OIMAP_LIBPYTHON ".so.1.0"

/* ---- the real module ------------------------------------------------------ */

struct first_call {
    const struct config *cfg;
    struct py_expr *x;
    char *msg;
};

/* Before py_start(): the module answers (not running), whichever thread loads it. */
static void *first_call_thread(void *arg)
{
    struct first_call *fc = arg;
    struct err e = ERR_INIT;
    fc->x = tpy_repo_expr(fc->cfg, "nametrans", &e);
    fc->msg = e.msg ? xstrdup(e.msg) : NULL;
    err_clear(&e);
    return NULL;
}

static void test_loaded(const char *module)
{
    test_begin("a Python-free start maps neither the module nor libpython");
    test_assert(!mapped(module));
    test_assert(!mapped(LIBPYTHON_SONAME));
    struct config *cfg = tpy_build_repo_option("nametrans", "lambda f: 'x-' + f");
    test_assert(cfg && py_needed(cfg));
    struct py_expr *none = NULL;
    py_expr_free(&none);
    test_assert(!mapped(module));
    test_assert(!mapped(LIBPYTHON_SONAME));
    test_end();

    test_begin("the first calls, from many threads at once, all reach the module");
    setenv(CONFIG_PY_PLUGIN_ENV, module, 1);
    enum { NTHREADS = 8 };
    pthread_t th[NTHREADS];
    struct first_call fc[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        fc[i] = (struct first_call){.cfg = cfg};
        test_assert(pthread_create(&th[i], NULL, first_call_thread, &fc[i]) == 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        test_assert(fc[i].x == NULL);
        test_assert_contains(fc[i].msg, "rc line 15: [Repository R] nametrans: the embedded "
                                        "Python is not running");
        free(fc[i].msg);
    }
    test_assert(mapped(module));
    test_assert(mapped(LIBPYTHON_SONAME));
    test_end();

    test_begin("every call goes through to the module");
    struct err e = ERR_INIT;
    test_assert(py_start(cfg, &e));
    static const struct {
        const char *option, *text;
    } uses[] = {
        {"nametrans", "lambda f: 'x-' + f"}, {"folderfilter", "lambda f: f != 'Trash'"},
        {"remoteporteval", "993"},           {"remotepasseval", "'secret'"},
        {"folderincludes", "['a', 'b']"},    {"copy_ignore_eval", "lambda f: [1, 2]"},
        {"newmail_hook", "lambda: None"},    {"foldersort", "lambda a, b: (a > b) - (a < b)"},
    };
    for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
        struct config *c = NULL;
        struct py_expr *x = tpy_expr_for(uses[i].option, uses[i].text, &c);
        test_assert(x != NULL);
        if (x) {
            char *want = xasprintf("rc line 15: [Repository R] %s", uses[i].option);
            test_assert_streq(py_expr_where(x), want);
            free(want);
            if (!tpy_use(x, uses[i].option, &e))
                test_fail_at(__FILE__, __LINE__, "%s: %s", uses[i].option, e.msg);
            err_clear(&e);
        }
        py_expr_free(&x);
        test_assert(x == NULL);
        config_free(&c);
    }
    struct config *c = NULL;
    struct py_expr *x = tpy_expr_for("nametrans", "lambda f: 'x-' + f", &c);
    char *out = NULL;
    test_assert(x && py_call_str_str(x, "INBOX", &out, &e));
    test_assert_streq(out, "x-INBOX");
    XFREE(out);
    py_expr_free(&x);
    config_free(&c);
    x = tpy_expr_for("nametrans", "lambda a, b: a == 'A' and b != 'Trash'", &c);
    bool keep = false;
    test_assert(x && py_call_str2_bool(x, "A", "INBOX", &keep, &e) && keep);
    test_assert(x && py_call_str2_bool(x, "A", "Trash", &keep, &e) && !keep);
    py_expr_free(&x);
    config_free(&c);
    x = tpy_expr_for("nametrans", "lambda item: item['foldername']", &c);
    struct strvec acc = STRVEC_INIT, fold = STRVEC_INIT, roots = STRVEC_INIT;
    strvec_push(&acc, "A");
    strvec_push(&fold, "b");
    strvec_push(&roots, "/m");
    strvec_push(&acc, "A");
    strvec_push(&fold, "a");
    strvec_push(&roots, "/m");
    test_assert(x && py_sort_mbnames(x, &acc, &fold, &roots, &e));
    test_assert_streq(fold.v[0], "a");
    strvec_free(&acc);
    strvec_free(&fold);
    strvec_free(&roots);
    py_expr_free(&x);
    config_free(&c);
    test_assert(py_format_item("%(accountname)s/%(foldername)s", "A", "INBOX", "/m", &out, &e));
    test_assert_streq(out, "A/INBOX");
    XFREE(out);
    x = tpy_expr_for("nametrans", "lambda f: undefined_name", &c);
    test_assert(x && !py_call_str_str(x, "INBOX", &out, &e));
    test_assert_contains(e.msg, "rc line 15: [Repository R] nametrans: the expression, called "
                                "with 'INBOX', raised NameError");
    err_clear(&e);
    py_expr_free(&x);
    config_free(&c);
    py_stop();
    config_free(&cfg);
    test_end();
}

/* ---- modules that cannot be loaded --------------------------------------- */

/* The errors when the module at path cannot be loaded for reason. */
static void test_unloadable(const char *path, const char *reason)
{
    setenv(CONFIG_PY_PLUGIN_ENV, path, 1);
    char *tried = xasprintf("Tried:\n  %s: %s", path, reason);

    test_begin("without the module: an option that needs Python fails, naming itself");
    struct config *cfg = tpy_build_repo_option("nametrans", "lambda f: f");
    struct err e = ERR_INIT;
    test_assert(cfg && py_start(cfg, &e)); /* nothing else needs Python */
    struct py_expr *x = cfg ? tpy_repo_expr(cfg, "nametrans", &e) : NULL;
    test_assert(x == NULL);
    test_assert_contains(e.msg, "rc line 15: [Repository R] nametrans: this option needs Python, "
                                "but the module that runs Python (offlineimap-python.so, which "
                                "needs " OIMAP_LIBPYTHON ") could not be loaded.");
    test_assert_contains(e.msg, tried);
    test_assert_contains(e.msg, "\nPoint OFFLINEIMAP_PYTHON_MODULE at the module built with this "
                                "program, or unset it; or remove the option.");
    test_assert(e.scope == ERR_FOLDER && e.kind == ERRK_CONFIG);
    err_clear(&e);
    /* Asked again, the same answer: the load is tried once. */
    x = cfg ? tpy_repo_expr(cfg, "nametrans", &e) : NULL;
    test_assert(x == NULL);
    test_assert_contains(e.msg, tried);
    err_clear(&e);
    py_expr_free(&x);
    py_stop();
    config_free(&cfg);
    test_end();

    test_begin("without the module: a pythonfile stops the run, naming itself");
    cfg = tpy_build_with_pythonfile("/nonexistent/helpers.py");
    test_assert(cfg && !py_start(cfg, &e));
    test_assert_contains(e.msg, "rc line 3: [general] pythonfile: this option needs Python");
    test_assert_contains(e.msg, tried);
    test_assert(e.scope == ERR_CRITICAL && e.kind == ERRK_CONFIG);
    err_clear(&e);
    config_free(&cfg);
    test_end();

    test_begin("without the module: mbnames peritem names itself");
    cfg = tpy_build(GEN ACC LOC REM "\n[mbnames]\nenabled = yes\nfilename = /tmp/m\n"
                                    "peritem = %(foldername)s\nheader = 'h'\nsep = ' '\n"
                                    "footer = ''\n");
    test_assert(cfg && py_start(cfg, &e));
    char *out = NULL;
    test_assert(!py_format_item("%(foldername)s", "A", "INBOX", "/m", &out, &e));
    test_assert(out == NULL);
    test_assert_contains(e.msg, "rc line 19: [mbnames] peritem: this option needs Python");
    test_assert_contains(e.msg, tried);
    err_clear(&e);
    py_stop();
    config_free(&cfg);
    test_end();

    test_begin("without the module: libpython was never mapped");
    test_assert(!mapped(LIBPYTHON_SONAME));
    test_end();
    free(tried);
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    const char *module = argc > 2 ? argv[2] : NULL;
    unsetenv(CONFIG_PY_PLUGIN_ENV);
    if (!strcmp(what, "loaded") && module) {
        test_loaded(module);
    } else if (!strcmp(what, "missing")) {
        char *path = xasprintf("%s/no-such-module.so", test_tmpdir());
        test_unloadable(path, "cannot open shared object file: No such file or directory");
        free(path);
    } else if (!strcmp(what, "garbage")) {
        char *path = xasprintf("%s/garbage.so", test_tmpdir());
        tpy_write_file(path, "This is a text file, not a shared object: long enough for the\n"
                             "dynamic loader to read a whole ELF header and refuse it.\n");
        test_unloadable(path, "invalid ELF header");
        free(path);
    } else if (!strcmp(what, "foreign") && module) {
        test_unloadable(module, "built for another offlineimap (version 0.0-other, interface 999,");
    } else if (!strcmp(what, "noentry") && module) {
        test_unloadable(module, "not an offlineimap Python module (");
    } else {
        fprintf(stderr, "usage: %s loaded|missing|garbage|foreign|noentry [MODULE]\n", argv[0]);
        return 2;
    }
    return test_done();
}
