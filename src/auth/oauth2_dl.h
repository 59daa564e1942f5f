/*
 * oauth2_dl: libcurl and jansson, loaded when OAuth2 first needs them.
 *
 * libcurl brings some twenty libraries with it (GnuTLS, Kerberos, LDAP,
 * nghttp2, ...), about 4 MB of every process that maps them, for a token
 * refresh that most accounts never make.  So the program is not linked with
 * them: the first OAuth2 function that needs one calls oauth2_dl_load(), which
 * dlopen()s libcurl.so.4 and libjansson.so.4.  auth_oauth2.c includes this
 * header after <curl/curl.h> and <jansson.h>: the names it calls then stand
 * for the loaded functions.
 */
#ifndef AUTH_OAUTH2_DL_H
#define AUTH_OAUTH2_DL_H

#include "base/err.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>

#define OAUTH2_DL_CURL(X)                                                                          \
    X(curl_global_init)                                                                            \
    X(curl_url)                                                                                    \
    X(curl_url_set)                                                                                \
    X(curl_url_get)                                                                                \
    X(curl_url_cleanup)                                                                            \
    X(curl_free)                                                                                   \
    X(curl_easy_escape)                                                                            \
    X(curl_easy_strerror)                                                                          \
    X(curl_easy_init)                                                                              \
    X(curl_easy_setopt)                                                                            \
    X(curl_easy_perform)                                                                           \
    X(curl_easy_getinfo)                                                                           \
    X(curl_easy_cleanup)                                                                           \
    X(curl_slist_append)                                                                           \
    X(curl_slist_free_all)

#define OAUTH2_DL_JSON(X)                                                                          \
    X(json_loadb)                                                                                  \
    X(json_dumps)                                                                                  \
    X(json_object)                                                                                 \
    X(json_object_get)                                                                             \
    X(json_object_set_new)                                                                         \
    X(json_string)                                                                                 \
    X(json_string_value)                                                                           \
    X(json_integer)                                                                                \
    X(json_integer_value)                                                                          \
    X(json_real_value)                                                                             \
    X(json_delete)

struct oauth2_api {
#define OAUTH2_DL_MEMBER(name) __typeof__(&name) name;
    OAUTH2_DL_CURL(OAUTH2_DL_MEMBER)
    OAUTH2_DL_JSON(OAUTH2_DL_MEMBER)
#undef OAUTH2_DL_MEMBER
};

/* Written once by the first successful oauth2_dl_load(), read-only after. */
extern struct oauth2_api oauth2_dl;

/* Loads both libraries once (thread-safe); false, with e saying what is missing. */
bool oauth2_dl_load(struct err *e);

/* jansson's json_decref() is inline in its header; this one calls the loaded json_delete. */
void oauth2_dl_json_decref(json_t *json);

#ifndef OAUTH2_DL_NO_NAMES
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init oauth2_dl.curl_global_init
#define curl_url oauth2_dl.curl_url
#define curl_url_set oauth2_dl.curl_url_set
#define curl_url_get oauth2_dl.curl_url_get
#define curl_url_cleanup oauth2_dl.curl_url_cleanup
#define curl_free oauth2_dl.curl_free
#define curl_easy_escape oauth2_dl.curl_easy_escape
#define curl_easy_strerror oauth2_dl.curl_easy_strerror
#define curl_easy_init oauth2_dl.curl_easy_init
#define curl_easy_setopt oauth2_dl.curl_easy_setopt
#define curl_easy_perform oauth2_dl.curl_easy_perform
#define curl_easy_getinfo oauth2_dl.curl_easy_getinfo
#define curl_easy_cleanup oauth2_dl.curl_easy_cleanup
#define curl_slist_append oauth2_dl.curl_slist_append
#define curl_slist_free_all oauth2_dl.curl_slist_free_all
#define json_loadb oauth2_dl.json_loadb
#define json_dumps oauth2_dl.json_dumps
#define json_object oauth2_dl.json_object
#define json_object_get oauth2_dl.json_object_get
#define json_object_set_new oauth2_dl.json_object_set_new
#define json_string oauth2_dl.json_string
#define json_string_value oauth2_dl.json_string_value
#define json_integer oauth2_dl.json_integer
#define json_integer_value oauth2_dl.json_integer_value
#define json_real_value oauth2_dl.json_real_value
#define json_decref oauth2_dl_json_decref
#endif

#endif
