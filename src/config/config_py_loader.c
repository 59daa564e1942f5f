/*
 * config_py_loader: config_py.h in the program, without libpython.
 *
 * py_needed() is answered without Python (config_py_needed.c).  The first
 * call that needs Python loads offlineimap-python.so (config_py_plugin.h),
 * once for all threads, and every call is forwarded to it; a configuration
 * without Python options never maps the module nor libpython.
 *
 * Where the module is looked for, in order:
 *   1. $OFFLINEIMAP_PYTHON_MODULE, when set and not empty (then only there);
 *   2. the directory of the running program (/proc/self/exe): the build
 *      directory, or wherever the program was copied with its module;
 *   3. OIMAP_PYTHON_MODULE_DIR (<prefix>/<libdir>/offlineimap), where
 *      `meson install` puts it.
 *
 * A module that cannot be loaded spoils only what needs it.  py_start()
 * fails only for a [general] pythonfile (every account reads it); without
 * one it succeeds, and each option that needs Python fails in
 * py_expr_new() with its file, line, section and name, the paths tried
 * with the reason for each, and what to do, like any other configuration
 * error of that account.
 *
 * The module is loaded with RTLD_GLOBAL: Python's extension modules (the
 * lib-dynload .so files) find libpython's symbols in the global scope, not
 * through a dependency of their own.  It is never unloaded.
 */
#include "config/config_py.h"

#include "config/config_py_plugin.h"

#include "base/buf.h"
#include "base/dl.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef OIMAP_PYTHON_MODULE_DIR
#error "OIMAP_PYTHON_MODULE_DIR (the module's install directory) must be defined by the build"
#endif
#ifndef OIMAP_VERSION
#error "OIMAP_VERSION (the project version) must be defined by the build"
#endif
#ifndef OIMAP_LIBPYTHON
#error "OIMAP_LIBPYTHON (the libpython the module links) must be defined by the build"
#endif

/* Set once by load(); NULL until then and when the module could not be loaded. */
static _Atomic(const struct config_py_plugin *) plugin;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
/* Why the module could not be loaded: one line per path tried.  Written by load() only. */
static char *load_failure;

/* "file line N: [mbnames] peritem", for py_format_item() errors without the module. */
static pthread_mutex_t where_lock = PTHREAD_MUTEX_INITIALIZER;
static char *peritem_where;

/* Load one candidate; the table, or NULL with a line added to tried. */
static const struct config_py_plugin *try_path(const char *path, struct buf *tried)
{
    char *why = NULL;
    void *h = dl_open(path, RTLD_GLOBAL, &why);
    if (!h) {
        buf_printf(tried, "\n  %s: %s", path, why);
        free(why);
        return NULL;
    }
    const struct config_py_plugin *(*entry)(void) = NULL;
    const struct dl_sym sym = {CONFIG_PY_PLUGIN_ENTRY, &entry};
    if (!dl_resolve(h, &sym, 1, &why)) {
        buf_printf(tried, "\n  %s: not an offlineimap Python module (%s)", path, why);
        free(why);
        dlclose(h);
        return NULL;
    }
    const struct config_py_plugin *p = entry();
    if (p->abi != CONFIG_PY_PLUGIN_ABI || p->size != sizeof(*p) ||
        p->layout != config_py_plugin_layout() || strcmp(p->version, OIMAP_VERSION)) {
        buf_printf(tried,
                   "\n  %s: built for another offlineimap (version %s, interface %u, layout "
                   "%016llx; this program is version %s, interface %d, layout %016llx)",
                   path, p->version, (unsigned)p->abi, (unsigned long long)p->layout, OIMAP_VERSION,
                   CONFIG_PY_PLUGIN_ABI, (unsigned long long)config_py_plugin_layout());
        /* Nothing of it ran but its entry point, so it can go. */
        dlclose(h);
        return NULL;
    }
    log_debug(LOGC_SYNC, "Loaded the embedded Python %s (%s) from %s", p->python, p->libpython,
              path);
    return p;
}

/* The directory of the running program, or NULL (with a line added to tried). */
static char *self_dir(struct buf *tried)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        buf_printf(tried, "\n  (the program's own directory: /proc/self/exe: %s)",
                   n < 0 ? strerror(errno) : "empty");
        return NULL;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    return xstrndup(exe, (size_t)(slash - exe));
}

static void load(void)
{
    struct buf tried;
    buf_init(&tried, BUF_UNBOUNDED);
    const struct config_py_plugin *p = NULL;
    const char *env = getenv(CONFIG_PY_PLUGIN_ENV);
    if (env && *env) {
        p = try_path(env, &tried);
    } else {
        char *dir = self_dir(&tried);
        if (dir && strcmp(dir, OIMAP_PYTHON_MODULE_DIR)) {
            char *path = xasprintf("%s/%s", dir, CONFIG_PY_PLUGIN_FILE);
            p = try_path(path, &tried);
            free(path);
        }
        free(dir);
        if (!p)
            p = try_path(OIMAP_PYTHON_MODULE_DIR "/" CONFIG_PY_PLUGIN_FILE, &tried);
    }
    if (p)
        buf_release(&tried);
    else
        load_failure = buf_detach(&tried, NULL);
    atomic_store(&plugin, p);
}

static const struct config_py_plugin *get(void)
{
    pthread_once(&load_once, load);
    return atomic_load(&plugin);
}

/* The error for an option that needs Python when the module could not be loaded. */
static void set_missing(struct err *e, const char *where)
{
    const char *env = getenv(CONFIG_PY_PLUGIN_ENV);
    bool by_env = env && *env;
    err_set(
        e, ERR_FOLDER, ERRK_CONFIG,
        "%s: this option needs Python, but the module that runs Python (%s, which needs "
        "%s) could not be loaded. Tried:%s\n%s",
        where, CONFIG_PY_PLUGIN_FILE, OIMAP_LIBPYTHON, load_failure,
        by_env
            ? "Point " CONFIG_PY_PLUGIN_ENV " at the module built with this program, "
              "or unset it; or remove the option."
            : "Install the module built with this program next to it or in " OIMAP_PYTHON_MODULE_DIR
              " (`make install` does), install " OIMAP_LIBPYTHON
              " if that is what is missing, or set " CONFIG_PY_PLUGIN_ENV
              " to the module's path; or remove the option.");
}

static char *config_where(const struct config *cfg, const char *section, const char *option,
                          unsigned line)
{
    const char *file = cfg->ini ? cfg->ini->display : cfg->path;
    if (line)
        return xasprintf("%s line %u: [%s] %s", file, line, section, option);
    return xasprintf("%s: [%s] %s", file, section, option);
}

bool py_start(const struct config *cfg, struct err *e)
{
    const struct config_py_plugin *p = get();
    if (p)
        return p->start(cfg, e);
    if (cfg->mbnames.peritem) {
        pthread_mutex_lock(&where_lock);
        if (!peritem_where)
            peritem_where = config_where(cfg, "mbnames", "peritem", cfg->mbnames.peritem_line);
        pthread_mutex_unlock(&where_lock);
    }
    /* The pythonfile is read before any account: without it no account can go on. */
    if (!cfg->general.pythonfile)
        return true;
    char *where = config_where(cfg, "general", "pythonfile", cfg->general.pythonfile_line);
    set_missing(e, where);
    e->scope = ERR_CRITICAL;
    free(where);
    return false;
}

void py_stop(void)
{
    const struct config_py_plugin *p = atomic_load(&plugin);
    if (p)
        p->stop();
    pthread_mutex_lock(&where_lock);
    XFREE(peritem_where);
    pthread_mutex_unlock(&where_lock);
}

struct py_expr *py_expr_new(const struct config_expr *x, const char *file, const char *section,
                            const char *option, bool with_re, struct err *e)
{
    const struct config_py_plugin *p = get();
    if (p)
        return p->expr_new(x, file, section, option, with_re, e);
    char *where = x->line ? xasprintf("%s line %u: [%s] %s", file, x->line, section, option)
                          : xasprintf("%s: [%s] %s", file, section, option);
    set_missing(e, where);
    free(where);
    return NULL;
}

/* An expression exists only if the module was loaded: the calls below go straight to it. */

void py_expr_free(struct py_expr **x)
{
    if (*x)
        get()->expr_free(x);
}

const char *py_expr_where(const struct py_expr *x)
{
    return get()->expr_where(x);
}

bool py_eval_str(struct py_expr *x, char **out_r, struct err *e)
{
    return get()->eval_str(x, out_r, e);
}

bool py_eval_int(struct py_expr *x, int64_t *out_r, struct err *e)
{
    return get()->eval_int(x, out_r, e);
}

bool py_eval_strlist(struct py_expr *x, struct strvec *out, struct err *e)
{
    return get()->eval_strlist(x, out, e);
}

bool py_call_str_str(struct py_expr *x, const char *arg, char **out_r, struct err *e)
{
    return get()->call_str_str(x, arg, out_r, e);
}

bool py_call_str_bool(struct py_expr *x, const char *arg, bool *out_r, struct err *e)
{
    return get()->call_str_bool(x, arg, out_r, e);
}

bool py_call_str2_bool(struct py_expr *x, const char *a, const char *b, bool *out_r, struct err *e)
{
    return get()->call_str2_bool(x, a, b, out_r, e);
}

bool py_call_void(struct py_expr *x, struct err *e)
{
    return get()->call_void(x, e);
}

bool py_call_uidlist(struct py_expr *x, const char *arg, struct uidvec *out, bool *none_r,
                     struct err *e)
{
    return get()->call_uidlist(x, arg, out, none_r, e);
}

bool py_sort_names(struct py_expr *x, struct strvec *names, struct err *e)
{
    return get()->sort_names(x, names, e);
}

bool py_sort_mbnames(struct py_expr *x, struct strvec *accounts, struct strvec *folders,
                     struct strvec *localfolders, struct err *e)
{
    return get()->sort_mbnames(x, accounts, folders, localfolders, e);
}

bool py_expr_check(struct py_expr *x, enum py_check how, struct err *e)
{
    return get()->expr_check(x, how, e);
}

bool py_format_item(const char *peritem, const char *account, const char *folder,
                    const char *localfolders, char **out_r, struct err *e)
{
    const struct config_py_plugin *p = get();
    if (p)
        return p->format_item(peritem, account, folder, localfolders, out_r, e);
    *out_r = NULL;
    pthread_mutex_lock(&where_lock);
    set_missing(e, peritem_where ? peritem_where : "[mbnames] peritem");
    pthread_mutex_unlock(&where_lock);
    return false;
}
