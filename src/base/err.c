#include "base/err.h"

#include "base/xalloc.h"

#include <stdarg.h>
#include <stdlib.h>

void err_set(struct err *e, enum err_scope scope, enum err_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    free(e->msg);
    e->scope = scope == ERR_OK ? ERR_FOLDER : scope;
    e->kind = kind;
    e->msg = msg;
}

void err_prefix(struct err *e, const char *fmt, ...)
{
    if (!e->msg)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *pre = xvasprintf(fmt, ap);
    va_end(ap);
    char *msg = xasprintf("%s%s", pre, e->msg);
    free(pre);
    free(e->msg);
    e->msg = msg;
}

void err_move(struct err *dst, struct err *src)
{
    err_clear(dst);
    *dst = *src;
    src->scope = ERR_OK;
    src->kind = ERRK_GENERIC;
    src->msg = NULL;
}

void err_clear(struct err *e)
{
    free(e->msg);
    e->msg = NULL;
    e->scope = ERR_OK;
    e->kind = ERRK_GENERIC;
}

const char *err_scope_name(enum err_scope scope)
{
    switch (scope) {
    case ERR_OK:
        return "ok";
    case ERR_MSG:
        return "message";
    case ERR_FOLDER:
        return "folder";
    case ERR_REPO:
        return "repository";
    case ERR_CRITICAL:
        return "critical";
    }
    return "?";
}
