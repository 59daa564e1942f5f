#define SQLITE_DL_NO_NAMES 1
#include "status/sqlite_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SQLITE_DL_SONAME "libsqlite3.so.0"

struct sqlite_api sqlite_dl;

static bool loaded;
static char load_error[512];

static void load(void)
{
    void *h = dlopen(SQLITE_DL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(load_error, sizeof(load_error), "%s", why ? why : "unknown reason");
        return;
    }
    struct sqlite_api api;
    /* dlsym() hands out an object pointer; POSIX guarantees it converts to a function's. */
#define SQLITE_DL_LOOKUP(name)                                                                     \
    {                                                                                              \
        void *sym = dlsym(h, "sqlite3_" #name);                                                    \
        if (!sym) {                                                                                \
            snprintf(load_error, sizeof(load_error), "it has no function sqlite3_%s", #name);      \
            dlclose(h);                                                                            \
            return;                                                                                \
        }                                                                                          \
        memcpy(&api.name, &sym, sizeof(sym));                                                      \
    }
    SQLITE_DL_FUNCS(SQLITE_DL_LOOKUP)
#undef SQLITE_DL_LOOKUP
    sqlite_dl = api;
    loaded = true; /* the library stays loaded until the program ends */
}

bool sqlite_dl_load(struct err *e)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    if (!loaded)
        err_set(e, ERR_CRITICAL, ERRK_GENERIC,
                "SQLite (%s), which holds the status of every folder, cannot be loaded: %s. "
                "Install it (Debian: the libsqlite3-0 package) and run again.",
                SQLITE_DL_SONAME, load_error);
    return loaded;
}
