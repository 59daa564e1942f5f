/*
 * auth_netrc: ~/.netrc and /etc/netrc, where offlineimap looks for a user
 * name and a password when the configuration gives none (Python's netrc
 * module, REFERENCE.md 7.3).
 *
 * Grammar (Python 3.11's netrc, with its lexer): tokens are separated by
 * spaces, tabs and line ends; a token may be "quoted" (spaces inside) and a
 * backslash takes the next character literally, in and out of quotes.
 * Top level: "machine NAME", "default", "macdef NAME" (the macro body runs to
 * the first empty line and is skipped).  After machine or default:
 * "login"/"user" V, "account" V, "password" V, until the next top-level
 * keyword.  A token starting with "#" begins a comment that runs to the end
 * of the line (Python's rule depends on where the previous token ended; ours
 * is the plain one).
 *
 * The parser is fed bytes in pieces of any size (netrc_parser_feed) and
 * keeps no more than NETRC_TOKEN_MAX bytes per token and NETRC_ENTRIES_MAX
 * entries.  Errors name the line, as Python's NetrcParseError does.
 *
 * Which entry answers (netrc_find): the entries of the machine named exactly
 * like the host; with a known user, the first of them whose login is that
 * user (Python can use only the last entry per host, offlineimap issue 295);
 * without one, the last of them, as Python.  When no entry names the host,
 * the "default" entry, under the same user rule.
 */
#ifndef AUTH_NETRC_H
#define AUTH_NETRC_H

#include "base/buf.h"
#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>

#define NETRC_TOKEN_MAX 4096
#define NETRC_ENTRIES_MAX 10000
#define NETRC_FILE_MAX (1024 * 1024)

struct netrc_entry {
    char *machine;                    /* NULL for the default entry */
    char *login, *account, *password; /* "" when not given */
    unsigned line;                    /* where the entry starts */
};

struct netrc {
    struct netrc_entry *v;
    size_t n;
};

struct netrc_parser {
    struct netrc *out;
    const char *path; /* for messages */
    int lex;          /* lexer state */
    int gram;         /* grammar state */
    struct buf tok;
    bool tok_quoted;
    unsigned line, tok_line;
    bool macdef_line_empty;
    struct netrc_entry *cur;
    bool failed;
};

void netrc_parser_init(struct netrc_parser *p, struct netrc *out, const char *path);
/* False (e set, with path and line) on a syntax error; later calls fail too. */
bool netrc_parser_feed(struct netrc_parser *p, const char *data, size_t len, struct err *e);
/* End of input: completes the last token and entry. */
bool netrc_parser_finish(struct netrc_parser *p, struct err *e);
void netrc_parser_release(struct netrc_parser *p);

/* The whole text at once; out is emptied first and left empty on errors. */
bool netrc_parse(const char *text, size_t len, const char *path, struct netrc *out, struct err *e);

/*
 * Read path.  A missing (or, for /etc/netrc, unreadable) file is no error:
 * *found_r false.  With check_private (the user's ~/.netrc), a file owned by
 * someone else or open to group or others is refused, as Python refuses it.
 */
bool netrc_load(const char *path, bool check_private, struct netrc *out, bool *found_r,
                struct err *e);

/* The entry for host and user (user NULL: not known), or NULL. */
const struct netrc_entry *netrc_find(const struct netrc *n, const char *host, const char *user);

void netrc_release(struct netrc *n);

#endif
