#include "base/runctl.h"

#include <stdatomic.h>
#include <stddef.h>

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

void runctl_emergency(void)
{
    runctl_emergency_fn *fn = atomic_exchange(&emergency, NULL);
    if (fn)
        fn();
}
