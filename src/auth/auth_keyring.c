/*
 * auth_keyring: libsecret through dlopen(), each call on its own thread so
 * that the caller can give up after a timeout (libsecret's synchronous calls
 * may wait on D-Bus for as long as the bus or the keyring daemon likes).
 *
 * The few libsecret and GLib declarations we need are repeated here, since
 * the headers need not be installed: SecretSchema's layout is part of
 * libsecret's stable ABI (libsecret-1.so.0).
 */
#include "auth/auth_keyring.h"

#include "auth/auth_mech.h"

#include "base/dl.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- libsecret and GLib, as much as we use ---- */

struct secret_schema_attribute {
    const char *name;
    int type; /* SECRET_SCHEMA_ATTRIBUTE_STRING = 0 */
};

struct secret_schema {
    const char *name;
    int flags; /* SECRET_SCHEMA_DONT_MATCH_NAME = 1 << 1 */
    struct secret_schema_attribute attributes[32];
    int reserved;
    void *reserved1, *reserved2, *reserved3, *reserved4, *reserved5, *reserved6, *reserved7;
};

struct g_error {
    uint32_t domain;
    int code;
    char *message;
};

typedef char *lookup_fn(const struct secret_schema *, void *cancellable, struct g_error **, ...);
typedef int store_fn(const struct secret_schema *, const char *collection, const char *label,
                     const char *password, void *cancellable, struct g_error **, ...);
typedef int clear_fn(const struct secret_schema *, void *cancellable, struct g_error **, ...);

static struct {
    lookup_fn *lookup;
    store_fn *store;
    clear_fn *clear;
    void (*password_free)(char *);
    void (*error_free)(struct g_error *);
    void *(*cancellable_new)(void);
    void (*cancellable_cancel)(void *);
    void (*object_unref)(void *);
    struct err why; /* why libsecret could not be loaded */
} lib;

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

/*
 * Python keyring's items: service and username (plus its own "application",
 * which lookups ignore).  Matching by attributes, not by schema name, finds
 * items of every schema.
 */
static const struct secret_schema schema = {
    "org.freedesktop.Secret.Generic",
    1 << 1,
    {{"service", 0}, {"username", 0}, {NULL, 0}},
    0,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
};

static void load_lib(void)
{
    static const char *const sonames[] = {"libsecret-1.so.0", NULL};
    static const struct dl_lib secret = {"libsecret", sonames, "libsecret-1-0",
                                         "which the keyring needs"};
    const struct dl_sym syms[] = {
        {"secret_password_lookup_sync", &lib.lookup},
        {"secret_password_store_sync", &lib.store},
        {"secret_password_clear_sync", &lib.clear},
        {"secret_password_free", &lib.password_free},
        {"g_error_free", &lib.error_free},
        {"g_cancellable_new", &lib.cancellable_new},
        {"g_cancellable_cancel", &lib.cancellable_cancel},
        {"g_object_unref", &lib.object_unref},
    };
    dl_load(&secret, syms, sizeof(syms) / sizeof(syms[0]), NULL, &lib.why);
}

static bool have_session_bus(void)
{
    const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
    if (addr && *addr)
        return true;
    const char *rt = getenv("XDG_RUNTIME_DIR");
    if (!rt || !*rt)
        return false;
    char *path = xasprintf("%s/bus", rt);
    struct stat st;
    bool ok = stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
    free(path);
    return ok;
}

static bool usable(struct err *e)
{
    if (!have_session_bus()) {
        err_set(e, ERR_REPO, ERRK_AUTH,
                "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)");
        return false;
    }
    pthread_once(&lib_once, load_lib);
    if (err_isset(&lib.why)) {
        err_set(e, ERR_REPO, ERRK_AUTH, "%s", lib.why.msg);
        return false;
    }
    return true;
}

/* ---- one call on a thread ---- */

enum job_kind { JOB_LOOKUP, JOB_STORE };

struct job {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int refs;
    bool done;
    enum job_kind kind;
    char *host, *user, *password; /* password: to store, or found */
    void *cancellable;
    bool found, ok;
    char *error;
};

static void job_unref(struct job *j)
{
    pthread_mutex_lock(&j->lock);
    bool last = --j->refs == 0;
    pthread_mutex_unlock(&j->lock);
    if (!last)
        return;
    if (j->cancellable)
        lib.object_unref(j->cancellable);
    free(j->host);
    free(j->user);
    auth_wipe_str(j->password);
    free(j->error);
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->cond);
    free(j);
}

static void *job_main(void *arg)
{
    struct job *j = arg;
    struct g_error *gerr = NULL;
    char *found = NULL;
    bool ok = false;
    if (j->kind == JOB_LOOKUP) {
        found = lib.lookup(&schema, j->cancellable, &gerr, "service", j->host, "username", j->user,
                           (char *)NULL);
        ok = !gerr;
    } else {
        /* Replace, also an item stored by Python keyring with more attributes. */
        lib.clear(&schema, j->cancellable, &gerr, "service", j->host, "username", j->user,
                  (char *)NULL);
        if (gerr) {
            lib.error_free(gerr);
            gerr = NULL;
        }
        char *label = xasprintf("Password for '%s' on '%s'", j->user, j->host);
        ok = lib.store(&schema, "default", label, j->password, j->cancellable, &gerr, "service",
                       j->host, "username", j->user, (char *)NULL) != 0;
        free(label);
    }
    pthread_mutex_lock(&j->lock);
    j->ok = ok;
    if (gerr) {
        j->error = xstrdup(gerr->message ? gerr->message : "unknown error");
        lib.error_free(gerr);
    }
    if (found) {
        if (j->kind == JOB_LOOKUP) {
            j->found = true;
            j->password = xstrdup(found);
        }
        lib.password_free(found);
    }
    j->done = true;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->lock);
    job_unref(j);
    return NULL;
}

/* Run j; false (e set) if it failed or did not finish in time. */
static bool run_job(struct job *j, int timeout_ms, struct err *e)
{
    j->refs = 2;
    j->cancellable = lib.cancellable_new();
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, job_main, j) != 0) {
        pthread_attr_destroy(&attr);
        err_set(e, ERR_REPO, ERRK_AUTH, "could not start a thread for the keyring");
        j->refs = 1;
        return false;
    }
    pthread_attr_destroy(&attr);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    int ms = timeout_ms > 0 ? timeout_ms : KEYRING_TIMEOUT_MS;
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&j->lock);
    int r = 0;
    while (!j->done && r != ETIMEDOUT)
        r = pthread_cond_timedwait(&j->cond, &j->lock, &until);
    bool done = j->done;
    pthread_mutex_unlock(&j->lock);
    if (!done) {
        /* The thread finishes on its own (the call is cancelled) and frees its half. */
        lib.cancellable_cancel(j->cancellable);
        err_set(e, ERR_REPO, ERRK_TIMEOUT, "the keyring did not answer within %d.%d seconds",
                ms / 1000, ms % 1000 / 100);
        return false;
    }
    if (!j->ok) {
        err_set(e, ERR_REPO, ERRK_AUTH, "%s", j->error ? j->error : "unknown error");
        return false;
    }
    return true;
}

static struct job *new_job(enum job_kind kind, const char *host, const char *user)
{
    struct job *j = xcalloc(1, sizeof(*j));
    j->kind = kind;
    j->host = xstrdup(host);
    j->user = xstrdup(user);
    return j;
}

enum keyring_result auth_keyring_lookup(const char *host, const char *user, int timeout_ms,
                                        char **pw_r, struct err *e)
{
    *pw_r = NULL;
    if (!usable(e))
        return KEYRING_UNAVAILABLE;
    struct job *j = new_job(JOB_LOOKUP, host, user);
    enum keyring_result res = KEYRING_UNAVAILABLE;
    if (run_job(j, timeout_ms, e)) {
        if (j->found) {
            *pw_r = xstrdup(j->password);
            res = KEYRING_FOUND;
        } else {
            res = KEYRING_NOT_FOUND;
        }
    }
    job_unref(j);
    return res;
}

bool auth_keyring_store(const char *host, const char *user, const char *password, int timeout_ms,
                        struct err *e)
{
    if (!usable(e))
        return false;
    struct job *j = new_job(JOB_STORE, host, user);
    j->password = xstrdup(password);
    bool ok = run_job(j, timeout_ms, e);
    job_unref(j);
    return ok;
}
