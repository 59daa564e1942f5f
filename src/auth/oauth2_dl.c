#define OAUTH2_DL_NO_NAMES 1
/* The header's inline json_decref() calls json_delete: here, the loaded one. */
#define json_delete oauth2_dl_json_delete_loaded
#include <jansson.h>
#undef json_delete
void json_delete(json_t *json);

#include "auth/oauth2_dl.h"

#include "base/dl.h"

#include <dlfcn.h>
#include <pthread.h>

struct oauth2_api oauth2_dl;

static bool loaded;
static struct err load_err = ERR_INIT;

static void load(void)
{
    static const char *const curl_sonames[] = {"libcurl.so.4", NULL};
    static const char *const jansson_sonames[] = {"libjansson.so.4", NULL};
    static const struct dl_lib curl_lib = {"libcurl", curl_sonames, "libcurl4",
                                           "which OAuth2 needs"};
    static const struct dl_lib jansson_lib = {"jansson", jansson_sonames, "libjansson4",
                                              "which OAuth2 needs"};
    struct oauth2_api api;
#define OAUTH2_DL_SYM(name) {#name, &api.name},
    const struct dl_sym curl_syms[] = {OAUTH2_DL_CURL(OAUTH2_DL_SYM)};
    const struct dl_sym json_syms[] = {OAUTH2_DL_JSON(OAUTH2_DL_SYM)};
#undef OAUTH2_DL_SYM
    void *curl =
        dl_load(&curl_lib, curl_syms, sizeof(curl_syms) / sizeof(curl_syms[0]), NULL, &load_err);
    if (!curl)
        return;
    if (!dl_load(&jansson_lib, json_syms, sizeof(json_syms) / sizeof(json_syms[0]), NULL,
                 &load_err)) {
        dlclose(curl);
        return;
    }
    oauth2_dl = api;
    loaded = true; /* the libraries stay loaded until the program ends */
}

bool oauth2_dl_load(struct err *e)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    if (!loaded)
        err_set(e, ERR_REPO, ERRK_GENERIC, "%s", load_err.msg);
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
