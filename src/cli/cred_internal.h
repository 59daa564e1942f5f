/*
 * cred_internal: what cred.c (user and password) and cred_oauth2.c (access
 * tokens) share.
 */
#ifndef CLI_CRED_INTERNAL_H
#define CLI_CRED_INTERNAL_H

#include "cli/cred.h"

#include "auth/auth_oauth2.h"

#include <pthread.h>
#include <stdint.h>

enum cred_origin {
    ORIGIN_NONE = 0,
    ORIGIN_PASSEVAL,
    ORIGIN_PASS,
    ORIGIN_PASSFILE,
    ORIGIN_NETRC,
    ORIGIN_ETC_NETRC,
    ORIGIN_KEYRING,
    ORIGIN_PROMPT,
};

struct cred {
    struct cred_opts o;
    char *host;
    char *user;
    pthread_mutex_t lock;

    /* password */
    char *password;          /* the one to use, or NULL before the first is found */
    enum cred_origin origin; /* where it came from */
    char *origin_text;       /* for messages */
    bool good;               /* the server accepted it */
    bool failed;             /* refused for good: every later login fails at once */
    int asked_again;
    bool keyring_tried;
    bool keyring_stored;

    /* OAuth2 */
    bool oauth_ready; /* options evaluated */
    char *access_static;
    bool access_static_refused;
    struct oauth2_request req;
    char *req_url, *client_id, *client_secret, *refresh_token;
    struct conn_proxy authproxy;
    char cache_key[65];
    char *cache_path;
    struct oauth2_token token; /* the current refreshed or cached token */
    int64_t refreshed_at;
};

/* cred_oauth2.c: the imap_auth_provider's oauth2_token. */
bool cred_oauth2_token(void *ctx, bool refresh, char **token_r, struct err *e);
void cred_oauth2_release(struct cred *c);
/* cred.c: a string option, or its _eval form evaluated (the plain one wins). */
bool cred_option(struct cred *c, const char *plain, const struct config_expr *x, const char *option,
                 char **out_r, struct err *e);

#endif
