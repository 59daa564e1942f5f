#define SQLITE_DL_NO_NAMES 1
#include "status/sqlite_dl.h"

#include "base/dl.h"

#include <pthread.h>

struct sqlite_api sqlite_dl;

static bool loaded;
static struct err load_err = ERR_INIT;

static void load(void)
{
    static const char *const sonames[] = {"libsqlite3.so.0", NULL};
    static const struct dl_lib lib = {"SQLite", sonames, "libsqlite3-0",
                                      "which holds the status of every folder"};
    struct sqlite_api api;
#define SQLITE_DL_SYM(name) {"sqlite3_" #name, &api.name},
    const struct dl_sym syms[] = {SQLITE_DL_FUNCS(SQLITE_DL_SYM)};
#undef SQLITE_DL_SYM
    if (!dl_load(&lib, syms, sizeof(syms) / sizeof(syms[0]), NULL, &load_err))
        return;
    sqlite_dl = api;
    loaded = true; /* the library stays loaded until the program ends */
}

bool sqlite_dl_load(struct err *e)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    if (!loaded)
        err_set(e, ERR_CRITICAL, ERRK_GENERIC, "%s", load_err.msg);
    return loaded;
}
