/*
 * dl: shared libraries loaded at run time.
 *
 * The program is linked with none of SQLite, libcurl, jansson, libsecret,
 * libpython or ncurses: each module that needs one loads it on first use
 * (sqlite_dl, oauth2_dl, auth_keyring, config_py_loader, ui_curses_dl), so
 * that a run that does not need it never maps it.  These functions are what they share: open a
 * library, resolve a table of its functions into the module's function
 * pointers, and say clearly what is missing and which Debian package
 * provides it.
 *
 * Loaded libraries are never closed once their functions are handed out
 * (dl_load closes only what it could not finish loading).
 */
#ifndef BASE_DL_H
#define BASE_DL_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>

/* A function taken from a library: its name, and the function pointer it goes into. */
struct dl_sym {
    const char *name;
    void *fn_r; /* the address of a function pointer variable of the function's type */
};

/* A library, for dl_load and its messages. */
struct dl_lib {
    const char *what;           /* the name people know: "SQLite", "libcurl" */
    const char *const *sonames; /* tried in order until one loads; NULL-terminated */
    const char *package;        /* the Debian package that installs it: "libsqlite3-0" */
    const char *purpose;        /* NULL, or what needs it: "which holds the status ..." */
};

/*
 * dlopen(path, RTLD_NOW | flags) (flags: RTLD_LOCAL or RTLD_GLOBAL).  NULL
 * when it cannot be loaded, with *why_r (xmalloc'd) dlerror()'s reason
 * without the "path: " it repeats.
 */
void *dl_open(const char *path, int flags, char **why_r);

/*
 * Look up syms[0..n) in handle and store each address in its fn_r.  False
 * at the first one missing, with *why_r (xmalloc'd) "it has no function
 * <name>"; the fn_r of the others may have been written.
 */
bool dl_resolve(void *handle, const struct dl_sym *syms, size_t n, char **why_r);

/*
 * Open the first of lib->sonames that loads (RTLD_LOCAL) and resolve syms
 * in it.  The handle, or NULL with e (ERR_REPO, ERRK_GENERIC):
 *   SQLite (libsqlite3.so.0), which holds ..., cannot be loaded: <reason>.
 *   Install it (Debian: the libsqlite3-0 package) and run again.
 * soname_r (may be NULL) receives the soname that loaded.
 */
void *dl_load(const struct dl_lib *lib, const struct dl_sym *syms, size_t n, const char **soname_r,
              struct err *e);

#endif
