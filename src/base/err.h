/*
 * err: an error with a scope and a human message.
 *
 * The scope says how much the error spoils (isync's DRV_MSG_BAD /
 * DRV_BOX_BAD / DRV_STORE_BAD, offlineimap's severities): one message, one
 * folder, the whole repository or account, or the whole run.  The message is a
 * complete sentence naming the file, line, folder or UID it concerns, written
 * for the user.  Callers add context with err_prefix() as the error travels up.
 */
#ifndef BASE_ERR_H
#define BASE_ERR_H

#include <stdbool.h>

enum err_scope {
    ERR_OK = 0,
    ERR_MSG,      /* one message could not be handled; the folder goes on */
    ERR_FOLDER,   /* this folder is skipped for this run; other folders go on */
    ERR_REPO,     /* the account cannot go on (connection, login, lock) */
    ERR_CRITICAL, /* the whole run stops (configuration, internal) */
};

enum err_kind {
    ERRK_GENERIC = 0,
    ERRK_UIDVALIDITY, /* a folder was skipped because its UIDVALIDITY changed */
    ERRK_NETWORK,     /* the connection failed or dropped: worth a retry */
    ERRK_TIMEOUT,     /* the server did not answer in time: worth a retry */
    ERRK_AUTH,        /* login refused */
    ERRK_PROTOCOL,    /* the server sent something we cannot accept */
    ERRK_NOSPACE,     /* a local disk is full */
    ERRK_GUARD,       /* a safety guard refused an action */
    ERRK_ABORTED,     /* stopped on request (signal) */
    ERRK_CONFIG,      /* bad configuration */
};

struct err {
    enum err_scope scope;
    enum err_kind kind;
    char *msg; /* NULL when scope == ERR_OK */
};

#define ERR_INIT {ERR_OK, ERRK_GENERIC, NULL}

void err_set(struct err *e, enum err_scope scope, enum err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prepend context ("folder INBOX: ") to an existing error message. */
void err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Move src into dst (dst is cleared first); src becomes empty. */
void err_move(struct err *dst, struct err *src);
void err_clear(struct err *e);
static inline bool err_isset(const struct err *e)
{
    return e->scope != ERR_OK;
}
const char *err_scope_name(enum err_scope scope);

#endif
