#include "base/runctl.h"

#include "base/xalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Set once at start-up before threads exist (the handler), or by the user
 * interface while it starts (the emergency hook); read from any thread.
 */
static runctl_fn *handler;
static void *handler_ctx;
static _Atomic(runctl_emergency_fn *) emergency;

void runctl_set_handler(runctl_fn *fn, void *ctx)
{
    handler = fn;
    handler_ctx = ctx;
}

void runctl_request(enum runctl_req req, const char *account)
{
    if (handler)
        handler(handler_ctx, req, account);
}

void runctl_set_emergency(runctl_emergency_fn *fn)
{
    atomic_store(&emergency, fn);
}

/* The files the emergency exit removes, with their identity when registered. */
struct doomed {
    char *path;
    dev_t dev;
    ino_t ino;
};
static pthread_mutex_t doomed_mu = PTHREAD_MUTEX_INITIALIZER;
static struct doomed *doomed;
static size_t n_doomed, cap_doomed;

void runctl_emergency_unlink_add(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    pthread_mutex_lock(&doomed_mu);
    if (n_doomed == cap_doomed) {
        cap_doomed = cap_doomed ? cap_doomed * 2 : 4;
        doomed = xreallocarray(doomed, cap_doomed, sizeof(*doomed));
    }
    doomed[n_doomed++] = (struct doomed){xstrdup(path), st.st_dev, st.st_ino};
    pthread_mutex_unlock(&doomed_mu);
}

void runctl_emergency_unlink_remove(const char *path)
{
    pthread_mutex_lock(&doomed_mu);
    for (size_t i = 0; i < n_doomed; i++) {
        if (strcmp(doomed[i].path, path) == 0) {
            free(doomed[i].path);
            doomed[i] = doomed[--n_doomed];
            break;
        }
    }
    if (n_doomed == 0) {
        free(doomed);
        doomed = NULL;
        cap_doomed = 0;
    }
    pthread_mutex_unlock(&doomed_mu);
}

void runctl_emergency(void)
{
    runctl_emergency_fn *fn = atomic_exchange(&emergency, NULL);
    if (fn)
        fn();
    /* Held only around list edits, which never block: safe to wait for here. */
    pthread_mutex_lock(&doomed_mu);
    for (size_t i = 0; i < n_doomed; i++) {
        struct stat st;
        if (stat(doomed[i].path, &st) == 0 && st.st_dev == doomed[i].dev &&
            st.st_ino == doomed[i].ino)
            unlink(doomed[i].path);
    }
    pthread_mutex_unlock(&doomed_mu);
}
