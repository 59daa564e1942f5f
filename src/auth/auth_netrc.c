/*
 * auth_netrc: the netrc lexer and grammar as two small state machines, fed
 * byte by byte, and the lookup offlineimap does with Python's netrc module.
 */
#include "auth/auth_netrc.h"

#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum lex_state {
    LX_WS,         /* between tokens */
    LX_BARE,       /* in an unquoted token */
    LX_BARE_ESC,   /* after a backslash in an unquoted token */
    LX_QUOTED,     /* in a "quoted" token */
    LX_QUOTED_ESC, /* after a backslash in a quoted token */
    LX_COMMENT,    /* after "#", to the end of the line */
    LX_MACDEF,     /* in a macro body, to the first empty line */
};

enum gram_state {
    G_TOP,          /* machine, default or macdef */
    G_MACHINE_NAME, /* after machine */
    G_MACDEF_NAME,  /* after macdef */
    G_FOLLOW,       /* login, user, account, password, or a top-level keyword */
    G_LOGIN,        /* the value after login or user */
    G_ACCOUNT,
    G_PASSWORD,
};

static void entry_free(struct netrc_entry *en)
{
    free(en->machine);
    free(en->login);
    free(en->account);
    if (en->password) {
        memset(en->password, 0, strlen(en->password));
        free(en->password);
    }
}

void netrc_release(struct netrc *n)
{
    for (size_t i = 0; i < n->n; i++)
        entry_free(&n->v[i]);
    free(n->v);
    n->v = NULL;
    n->n = 0;
}

void netrc_parser_init(struct netrc_parser *p, struct netrc *out, const char *path)
{
    memset(p, 0, sizeof(*p));
    p->out = out;
    p->path = path ? path : "netrc";
    p->lex = LX_WS;
    p->gram = G_TOP;
    p->line = 1;
    buf_init(&p->tok, NETRC_TOKEN_MAX);
}

void netrc_parser_release(struct netrc_parser *p)
{
    if (p->tok.len)
        memset(p->tok.data, 0, p->tok.len);
    buf_release(&p->tok);
}

static bool fail(struct netrc_parser *p, struct err *e, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool fail(struct netrc_parser *p, struct err *e, unsigned line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set(e, ERR_REPO, ERRK_CONFIG, "%s line %u: %s", p->path, line, msg);
    p->failed = true;
    return false;
}

/* A token for messages: at most 40 bytes, control characters shown as "?". */
static void show(const char *tok, char *out, size_t size)
{
    size_t n = 0;
    for (; tok[n] && n < 40 && n + 1 < size; n++)
        out[n] = (unsigned char)tok[n] < 0x20 || tok[n] == 0x7f ? '?' : tok[n];
    out[n] = '\0';
}

static bool new_entry(struct netrc_parser *p, const char *machine, unsigned line, struct err *e)
{
    struct netrc *n = p->out;
    if (n->n >= NETRC_ENTRIES_MAX)
        return fail(p, e, line, "more than %d entries", NETRC_ENTRIES_MAX);
    n->v = xrealloc(n->v, (n->n + 1) * sizeof(*n->v));
    struct netrc_entry *en = &n->v[n->n++];
    en->machine = machine ? xstrdup(machine) : NULL;
    en->login = xstrdup("");
    en->account = xstrdup("");
    en->password = xstrdup("");
    en->line = line;
    p->cur = en;
    return true;
}

static void set_value(char **field, const char *v)
{
    if (*field) {
        memset(*field, 0, strlen(*field));
        free(*field);
    }
    *field = xstrdup(v);
}

/* One complete token for the grammar. */
static bool grammar(struct netrc_parser *p, const char *tok, unsigned line, struct err *e)
{
    char shown[48];
    switch (p->gram) {
    case G_FOLLOW:
        if (!strcmp(tok, "login") || !strcmp(tok, "user")) {
            p->gram = G_LOGIN;
            return true;
        }
        if (!strcmp(tok, "account")) {
            p->gram = G_ACCOUNT;
            return true;
        }
        if (!strcmp(tok, "password")) {
            p->gram = G_PASSWORD;
            return true;
        }
        if (strcmp(tok, "machine") != 0 && strcmp(tok, "default") != 0 &&
            strcmp(tok, "macdef") != 0) {
            show(tok, shown, sizeof(shown));
            return fail(p, e, line, "bad follower token '%s'", shown);
        }
        p->cur = NULL;
        p->gram = G_TOP;
        /* The keyword starts the next top-level item. */
        __attribute__((fallthrough));
    case G_TOP:
        if (!strcmp(tok, "machine")) {
            p->gram = G_MACHINE_NAME;
        } else if (!strcmp(tok, "default")) {
            if (!new_entry(p, NULL, line, e))
                return false;
            p->gram = G_FOLLOW;
        } else if (!strcmp(tok, "macdef")) {
            p->gram = G_MACDEF_NAME;
        } else {
            show(tok, shown, sizeof(shown));
            return fail(p, e, line, "bad toplevel token '%s'", shown);
        }
        return true;
    case G_MACHINE_NAME:
        if (!*tok)
            return fail(p, e, line, "missing 'machine' name");
        if (!new_entry(p, tok, line, e))
            return false;
        p->gram = G_FOLLOW;
        return true;
    case G_MACDEF_NAME:
        if (!*tok)
            return fail(p, e, line, "missing 'macdef' name");
        /* The body starts right after the name's last character. */
        p->lex = LX_MACDEF;
        p->macdef_line_empty = true;
        p->gram = G_TOP;
        return true;
    case G_LOGIN:
        set_value(&p->cur->login, tok);
        break;
    case G_ACCOUNT:
        set_value(&p->cur->account, tok);
        break;
    case G_PASSWORD:
        set_value(&p->cur->password, tok);
        break;
    }
    p->gram = G_FOLLOW;
    return true;
}

static bool end_token(struct netrc_parser *p, struct err *e)
{
    bool ok = grammar(p, p->tok.data, p->tok_line, e);
    if (p->tok.len)
        memset(p->tok.data, 0, p->tok.len);
    buf_reset(&p->tok);
    return ok;
}

static bool add_char(struct netrc_parser *p, char ch, struct err *e)
{
    if (!buf_append_char(&p->tok, ch))
        return fail(p, e, p->tok_line, "a token longer than %d bytes", NETRC_TOKEN_MAX);
    return true;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static bool value_expected(const struct netrc_parser *p)
{
    return p->gram == G_LOGIN || p->gram == G_ACCOUNT || p->gram == G_PASSWORD ||
           p->gram == G_MACHINE_NAME || p->gram == G_MACDEF_NAME;
}

static bool lex_char(struct netrc_parser *p, char ch, struct err *e)
{
    switch (p->lex) {
    case LX_WS:
        if (is_space(ch))
            return true;
        p->tok_line = p->line;
        if (ch == '#' && !value_expected(p)) {
            p->lex = LX_COMMENT;
        } else if (ch == '"') {
            p->lex = LX_QUOTED;
        } else if (ch == '\\') {
            p->lex = LX_BARE_ESC;
        } else {
            p->lex = LX_BARE;
            return add_char(p, ch, e);
        }
        return true;
    case LX_BARE:
        if (is_space(ch)) {
            p->lex = LX_WS;
            return end_token(p, e);
        }
        if (ch == '\\') {
            p->lex = LX_BARE_ESC;
            return true;
        }
        return add_char(p, ch, e);
    case LX_BARE_ESC:
        p->lex = LX_BARE;
        return add_char(p, ch, e);
    case LX_QUOTED:
        if (ch == '"') {
            p->lex = LX_WS;
            return end_token(p, e);
        }
        if (ch == '\\') {
            p->lex = LX_QUOTED_ESC;
            return true;
        }
        return add_char(p, ch, e);
    case LX_QUOTED_ESC:
        p->lex = LX_QUOTED;
        return add_char(p, ch, e);
    case LX_COMMENT:
        if (ch == '\n')
            p->lex = LX_WS;
        return true;
    case LX_MACDEF:
        if (ch == '\n') {
            if (p->macdef_line_empty)
                p->lex = LX_WS;
            p->macdef_line_empty = true;
        } else {
            p->macdef_line_empty = false;
        }
        return true;
    }
    return true;
}

bool netrc_parser_feed(struct netrc_parser *p, const char *data, size_t len, struct err *e)
{
    if (p->failed)
        return fail(p, e, p->line, "the file could not be read before");
    for (size_t i = 0; i < len; i++) {
        /* A token ended by a line end belongs to the line it started on. */
        bool ok = lex_char(p, data[i], e);
        if (data[i] == '\n')
            p->line++;
        if (!ok)
            return false;
    }
    return true;
}

bool netrc_parser_finish(struct netrc_parser *p, struct err *e)
{
    if (p->failed)
        return fail(p, e, p->line, "the file could not be read before");
    switch (p->lex) {
    case LX_BARE:
    case LX_BARE_ESC:
    case LX_QUOTED:
    case LX_QUOTED_ESC:
        /* Python returns what it has at the end of the file. */
        p->lex = LX_WS;
        if (!end_token(p, e))
            return false;
        break;
    case LX_MACDEF:
        return fail(p, e, p->line, "Macro definition missing null line terminator.");
    default:
        break;
    }
    if (p->lex == LX_MACDEF)
        return fail(p, e, p->line, "Macro definition missing null line terminator.");
    switch (p->gram) {
    case G_MACHINE_NAME:
        return fail(p, e, p->line, "missing 'machine' name");
    case G_MACDEF_NAME:
        return fail(p, e, p->line, "missing 'macdef' name");
    default:
        /* A value missing at the end is empty, as in Python. */
        p->gram = G_TOP;
        p->cur = NULL;
        return true;
    }
}

bool netrc_parse(const char *text, size_t len, const char *path, struct netrc *out, struct err *e)
{
    netrc_release(out);
    struct netrc_parser p;
    netrc_parser_init(&p, out, path);
    bool ok = netrc_parser_feed(&p, text, len, e) && netrc_parser_finish(&p, e);
    netrc_parser_release(&p);
    if (!ok)
        netrc_release(out);
    return ok;
}

bool netrc_load(const char *path, bool check_private, struct netrc *out, bool *found_r,
                struct err *e)
{
    *found_r = false;
    netrc_release(out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || (!check_private && errno == EACCES))
            return true;
        err_set(e, ERR_REPO, ERRK_CONFIG, "Cannot read %s: %s.", path, strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        err_set(e, ERR_REPO, ERRK_CONFIG, "%s is not a regular file.", path);
        return false;
    }
    if (check_private && st.st_uid != getuid()) {
        close(fd);
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "%s belongs to user id %ld, not to you (%ld): its passwords are not used.", path,
                (long)st.st_uid, (long)getuid());
        return false;
    }
    if (check_private && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        close(fd);
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "%s can be read or changed by other users (mode %03o): its passwords are not "
                "used. Run: chmod 600 %s",
                path, (unsigned)(st.st_mode & 0777), path);
        return false;
    }
    struct netrc_parser p;
    netrc_parser_init(&p, out, path);
    char chunk[4096];
    size_t total = 0;
    bool ok = true;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_set(e, ERR_REPO, ERRK_CONFIG, "Cannot read %s: %s.", path, strerror(errno));
            ok = false;
            break;
        }
        if (n == 0)
            break;
        total += (size_t)n;
        if (total > NETRC_FILE_MAX) {
            err_set(e, ERR_REPO, ERRK_CONFIG, "%s is larger than %d bytes.", path, NETRC_FILE_MAX);
            ok = false;
            break;
        }
        if (!netrc_parser_feed(&p, chunk, (size_t)n, e)) {
            ok = false;
            break;
        }
    }
    memset(chunk, 0, sizeof(chunk));
    close(fd);
    ok = ok && netrc_parser_finish(&p, e);
    netrc_parser_release(&p);
    if (!ok) {
        netrc_release(out);
        return false;
    }
    *found_r = true;
    return true;
}

static const struct netrc_entry *pick(const struct netrc *n, const char *host, const char *user,
                                      bool *named_r)
{
    const struct netrc_entry *last = NULL;
    *named_r = false;
    for (size_t i = 0; i < n->n; i++) {
        const struct netrc_entry *en = &n->v[i];
        bool match = host ? en->machine && strcmp(en->machine, host) == 0 : !en->machine;
        if (!match)
            continue;
        *named_r = true;
        if (user && strcmp(en->login, user) == 0)
            return en;
        last = en;
    }
    return user ? NULL : last;
}

const struct netrc_entry *netrc_find(const struct netrc *n, const char *host, const char *user)
{
    bool named;
    const struct netrc_entry *en = pick(n, host, user, &named);
    if (en || named)
        return en;
    return pick(n, NULL, user, &named);
}
