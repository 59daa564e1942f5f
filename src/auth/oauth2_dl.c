#define OAUTH2_DL_NO_NAMES 1
/* The header's inline json_decref() calls json_delete: here, the loaded one. */
#define json_delete oauth2_dl_json_delete_loaded
#include <jansson.h>
#undef json_delete
void json_delete(json_t *json);

#include "auth/oauth2_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define CURL_SONAME "libcurl.so.4"
#define JANSSON_SONAME "libjansson.so.4"

struct oauth2_api oauth2_dl;

static bool loaded;
static char load_error[512];

static void *open_lib(const char *soname)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(load_error, sizeof(load_error), "%s cannot be loaded: %s", soname,
                 why ? why : "unknown reason");
    }
    return h;
}

static void load(void)
{
    void *curl = open_lib(CURL_SONAME);
    if (!curl)
        return;
    void *jansson = open_lib(JANSSON_SONAME);
    if (!jansson) {
        dlclose(curl);
        return;
    }
    struct oauth2_api api;
    /* dlsym() hands out an object pointer; POSIX guarantees it converts to a function's. */
#define OAUTH2_DL_LOOKUP_IN(lib, soname, name)                                                     \
    {                                                                                              \
        void *sym = dlsym(lib, #name);                                                             \
        if (!sym) {                                                                                \
            snprintf(load_error, sizeof(load_error), "%s has no function %s", soname, #name);      \
            dlclose(jansson);                                                                      \
            dlclose(curl);                                                                         \
            return;                                                                                \
        }                                                                                          \
        memcpy(&api.name, &sym, sizeof(sym));                                                      \
    }
#define OAUTH2_DL_LOOKUP_CURL(name) OAUTH2_DL_LOOKUP_IN(curl, CURL_SONAME, name)
#define OAUTH2_DL_LOOKUP_JSON(name) OAUTH2_DL_LOOKUP_IN(jansson, JANSSON_SONAME, name)
    OAUTH2_DL_CURL(OAUTH2_DL_LOOKUP_CURL)
    OAUTH2_DL_JSON(OAUTH2_DL_LOOKUP_JSON)
#undef OAUTH2_DL_LOOKUP_CURL
#undef OAUTH2_DL_LOOKUP_JSON
#undef OAUTH2_DL_LOOKUP_IN
    oauth2_dl = api;
    loaded = true; /* the libraries stay loaded until the program ends */
}

bool oauth2_dl_load(struct err *e)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    if (!loaded)
        err_set(e, ERR_REPO, ERRK_GENERIC,
                "OAuth2 needs libcurl and jansson, and %s. Install them (Debian: the libcurl4 "
                "and libjansson4 packages) and run again.",
                load_error);
    return loaded;
}

void oauth2_dl_json_delete_loaded(json_t *json)
{
    oauth2_dl.json_delete(json);
}

void oauth2_dl_json_decref(json_t *json)
{
    json_decref(json);
}
