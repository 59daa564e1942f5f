/*
 * dl: loading shared libraries at run time (see dl.h).
 */
#include "base/dl.h"

#include "base/buf.h"
#include "base/xalloc.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

/* POSIX requires it of dlsym(): an object pointer holds a function's address. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function pointers are not data sized");

/* dlerror() without the leading "<path>: " that it repeats for a file it could not open. */
static char *reason(const char *path)
{
    const char *msg = dlerror();
    if (!msg)
        return xstrdup("unknown error");
    size_t n = strlen(path);
    if (!strncmp(msg, path, n) && !strncmp(msg + n, ": ", 2))
        msg += n + 2;
    return xstrdup(msg);
}

void *dl_open(const char *path, int flags, char **why_r)
{
    *why_r = NULL;
    void *h = dlopen(path, RTLD_NOW | flags);
    if (!h)
        *why_r = reason(path);
    return h;
}

bool dl_resolve(void *handle, const struct dl_sym *syms, size_t n, char **why_r)
{
    *why_r = NULL;
    for (size_t i = 0; i < n; i++) {
        dlerror();
        void *p = dlsym(handle, syms[i].name);
        if (!p) {
            *why_r = xasprintf("it has no function %s", syms[i].name);
            return false;
        }
        memcpy(syms[i].fn_r, &p, sizeof(p));
    }
    return true;
}

void *dl_load(const struct dl_lib *lib, const struct dl_sym *syms, size_t n, const char **soname_r,
              struct err *e)
{
    struct buf names, why;
    buf_init(&names, BUF_UNBOUNDED);
    buf_init(&why, BUF_UNBOUNDED);
    size_t tried = 0;
    for (const char *const *so = lib->sonames; *so; so++, tried++) {
        char *r = NULL;
        void *h = dl_open(*so, RTLD_LOCAL, &r);
        if (h && !dl_resolve(h, syms, n, &r)) {
            dlclose(h);
            h = NULL;
        }
        if (h) {
            if (soname_r)
                *soname_r = *so;
            buf_release(&names);
            buf_release(&why);
            return h;
        }
        buf_printf(&names, "%s%s", tried ? " or " : "", *so);
        buf_printf(&why, "%s%s: %s", tried ? "; " : "", *so, r);
        free(r);
    }
    /* With one name the reason need not repeat it. */
    const char *shown = why.data;
    if (tried == 1)
        shown += strlen(lib->sonames[0]) + 2;
    err_set(e, ERR_REPO, ERRK_GENERIC,
            "%s (%s)%s%s%s cannot be loaded: %s. Install it (Debian: the %s package) and run "
            "again.",
            lib->what, names.data, lib->purpose ? ", " : "", lib->purpose ? lib->purpose : "",
            lib->purpose ? "," : "", tried ? shown : "no library name given", lib->package);
    buf_release(&names);
    buf_release(&why);
    return NULL;
}
