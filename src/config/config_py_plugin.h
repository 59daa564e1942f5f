/*
 * config_py_plugin: the border between the program and its embedded Python.
 *
 * libpython costs about 3 MB of every process that maps it, so config_py
 * lives in a module of its own, offlineimap-python.so, that the program
 * dlopen()s the first time a configuration needs Python
 * (config_py_loader.c); a configuration without Python options never maps
 * it.  The module is config_py's sources plus config_py_plugin.c and
 * exports one symbol, CONFIG_PY_PLUGIN_ENTRY (in symbol version
 * CONFIG_PY_PLUGIN_VERSION), a function that returns the table below.
 *
 * Compatibility: the loader refuses a table whose abi, version or layout
 * differs from its own, so a module from another build is never called with
 * structs it reads differently.  The module and the program must come from
 * the same build; `meson install` installs both.
 *
 * Base functions: the module's references to xmalloc, err_set, strvec_*
 * and the rest of base/ are left undefined and resolve, at load, to the
 * program's own copies, which the program exports by name
 * (config_py_host.dynlist).  A missing name makes the load fail with
 * dlerror()'s "undefined symbol", never a crash later (RTLD_NOW).
 */
#ifndef CONFIG_PY_PLUGIN_H
#define CONFIG_PY_PLUGIN_H

#include "base/err.h"
#include "base/strutil.h"
#include "base/uidset.h"
#include "config/config_ini.h"
#include "config/config_model.h"
#include "config/config_py.h"

#include <stddef.h>
#include <stdint.h>

/* Bump when the table or the meaning of a function in it changes. */
#define CONFIG_PY_PLUGIN_ABI 2
#define CONFIG_PY_PLUGIN_ENTRY "offlineimap_python_plugin_1"
#define CONFIG_PY_PLUGIN_VERSION "OFFLINEIMAP_PYTHON_1"
/* The module's file name, in the build directory and in the install directory. */
#define CONFIG_PY_PLUGIN_FILE "offlineimap-python.so"
/* The environment variable that names the module's path (tests, unusual installs). */
#define CONFIG_PY_PLUGIN_ENV "OFFLINEIMAP_PYTHON_MODULE"

/* One function per config_py.h function except py_needed(), same meaning. */
struct config_py_plugin {
    uint32_t abi;          /* CONFIG_PY_PLUGIN_ABI */
    uint32_t size;         /* sizeof(struct config_py_plugin) */
    uint64_t layout;       /* config_py_plugin_layout() of the module's build */
    const char *version;   /* the project version it was built from */
    const char *python;    /* the Python version it embeds ("3.11.2") */
    const char *libpython; /* the libpython it links ("libpython3.11") */

    bool (*start)(const struct config *cfg, struct err *e);
    void (*stop)(void);
    struct py_expr *(*expr_new)(const struct config_expr *x, const char *file, const char *section,
                                const char *option, bool with_re, struct err *e);
    void (*expr_free)(struct py_expr **x);
    const char *(*expr_where)(const struct py_expr *x);
    bool (*eval_str)(struct py_expr *x, char **out_r, struct err *e);
    bool (*eval_int)(struct py_expr *x, int64_t *out_r, struct err *e);
    bool (*eval_strlist)(struct py_expr *x, struct strvec *out, struct err *e);
    bool (*call_str_str)(struct py_expr *x, const char *arg, char **out_r, struct err *e);
    bool (*call_str_bool)(struct py_expr *x, const char *arg, bool *out_r, struct err *e);
    bool (*call_str2_bool)(struct py_expr *x, const char *a, const char *b, bool *out_r,
                           struct err *e);
    bool (*call_void)(struct py_expr *x, struct err *e);
    bool (*call_uidlist)(struct py_expr *x, const char *arg, struct uidvec *out, bool *none_r,
                         struct err *e);
    bool (*sort_names)(struct py_expr *x, struct strvec *names, struct err *e);
    bool (*sort_mbnames)(struct py_expr *x, struct strvec *accounts, struct strvec *folders,
                         struct strvec *localfolders, struct err *e);
    bool (*format_item)(const char *peritem, const char *account, const char *folder,
                        const char *localfolders, char **out_r, struct err *e);
    bool (*expr_check)(struct py_expr *x, enum py_check how, struct err *e);
};

/* The module's entry point (CONFIG_PY_PLUGIN_ENTRY): the table, never NULL. */
const struct config_py_plugin *offlineimap_python_plugin_1(void);

/*
 * A fingerprint of the layout of what crosses the border (the sizes of the
 * structs passed and the places of the fields the module reads), so that a
 * module built against other headers is refused instead of misreading them.
 */
static inline uint64_t config_py_plugin_layout(void)
{
    const size_t v[] = {
        sizeof(struct config),
        offsetof(struct config, path),
        offsetof(struct config, ini),
        offsetof(struct config, general),
        offsetof(struct config, mbnames),
        sizeof(struct config_general),
        offsetof(struct config_general, pythonfile),
        offsetof(struct config_general, pythonfile_line),
        sizeof(struct config_mbnames),
        offsetof(struct config_mbnames, peritem),
        offsetof(struct config_mbnames, peritem_line),
        sizeof(struct ini),
        offsetof(struct ini, display),
        sizeof(struct config_expr),
        offsetof(struct config_expr, text),
        offsetof(struct config_expr, line),
        sizeof(struct err),
        sizeof(struct strvec),
        sizeof(struct uidvec),
    };
    uint64_t h = 14695981039346656037u; /* FNV-1a over the values */
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        for (size_t b = 0; b < sizeof(v[i]); b++)
            h = (h ^ ((v[i] >> (8 * b)) & 0xff)) * 1099511628211u;
    return h;
}

#endif
