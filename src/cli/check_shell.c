/*
 * check_shell: the command words of a /bin/sh command line (see
 * check_shell.h).  The grammar is POSIX's token recognition (XCU 2.3) and
 * quoting (2.2), reduced to what decides which program runs.
 */
#include "cli/check_shell.h"

#include "base/buf.h"
#include "base/xalloc.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* dash 0.5.12's builtins (src/builtins.def), the shell Debian runs hooks with. */
static const char *const builtins[] = {
    ".",       ":",        "[",        "alias",  "bg",    "break",   "cd",     "chdir",
    "command", "continue", "echo",     "eval",   "exec",  "exit",    "export", "false",
    "fc",      "fg",       "getopts",  "hash",   "jobs",  "kill",    "local",  "printf",
    "pwd",     "read",     "readonly", "return", "set",   "shift",   "test",   "times",
    "trap",    "true",     "type",     "ulimit", "umask", "unalias", "unset",  "wait",
};

/* Reserved words (XCU 2.4): a command word that is one starts a compound command. */
static const char *const reserved[] = {
    "!",    "{",  "}",   "case", "do", "done", "elif",  "else",
    "esac", "fi", "for", "if",   "in", "then", "until", "while",
};

static bool in_list(const char *const *list, size_t n, const char *w)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], w))
            return true;
    return false;
}

#define IN_LIST(list, w) in_list(list, sizeof(list) / sizeof(list[0]), w)

/* One word as read: its value without quotes and what it holds unquoted. */
struct word {
    struct buf val;
    bool quoted;    /* some part was quoted (not an IO number, not a reserved word) */
    bool expansion; /* an unquoted or double-quoted $ */
    bool pattern;   /* an unquoted * ? [ */
    bool tilde;     /* starts with an unquoted ~ */
    bool assign;    /* NAME=... with NAME and '=' unquoted */
};

struct scanner {
    const char *p;
    bool unsure; /* something that only running the command can resolve */
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_op(char c)
{
    return c == '|' || c == '&' || c == ';' || c == '<' || c == '>' || c == '(' || c == ')' ||
           c == '\n';
}

static bool is_name_char(char c, bool first)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (!first && c >= '0' && c <= '9');
}

/* Inside "...": up to the closing quote. */
static void scan_dquoted(struct scanner *s, struct word *w)
{
    for (;;) {
        char c = *s->p;
        if (!c) {
            s->unsure = true; /* unterminated: sh refuses it, but that is not our point */
            return;
        }
        s->p++;
        if (c == '"')
            return;
        if (c == '`') {
            s->unsure = true;
            return;
        }
        if (c == '$') {
            if (*s->p == '(') {
                s->unsure = true;
                return;
            }
            w->expansion = true;
        }
        if (c == '\\' &&
            (*s->p == '$' || *s->p == '`' || *s->p == '"' || *s->p == '\\' || *s->p == '\n')) {
            c = *s->p++;
            if (c == '\n')
                continue;
        }
        buf_append_char(&w->val, c);
    }
}

/* A word from s->p (which is at neither a blank nor an operator). */
static void scan_word(struct scanner *s, struct word *w)
{
    bool name_so_far = true; /* the value so far is an unquoted NAME */
    w->tilde = *s->p == '~';
    while (*s->p && !s->unsure) {
        char c = *s->p;
        if (is_blank(c) || is_op(c))
            break;
        s->p++;
        if (c == '\\') {
            if (*s->p == '\n') {
                s->p++;
                continue;
            }
            if (*s->p)
                c = *s->p++;
            w->quoted = true;
            name_so_far = false;
            buf_append_char(&w->val, c);
            continue;
        }
        if (c == '\'') {
            const char *end = strchr(s->p, '\'');
            if (!end) {
                s->unsure = true;
                break;
            }
            buf_append(&w->val, s->p, (size_t)(end - s->p));
            s->p = end + 1;
            w->quoted = true;
            name_so_far = false;
            continue;
        }
        if (c == '"') {
            w->quoted = true;
            name_so_far = false;
            scan_dquoted(s, w);
            continue;
        }
        if (c == '`' || (c == '$' && *s->p == '(')) {
            s->unsure = true;
            break;
        }
        if (c == '$')
            w->expansion = true;
        if (c == '*' || c == '?' || c == '[')
            w->pattern = true;
        if (c == '=' && name_so_far && w->val.len > 0 && !w->assign)
            w->assign = true;
        if (!is_name_char(c, w->val.len == 0))
            name_so_far = false;
        buf_append_char(&w->val, c);
    }
}

/* "~" or "~user" at the start of value, expanded as the shell does. */
static char *expand_tilde(const char *value, const char *home)
{
    const char *slash = strchr(value, '/');
    size_t n = slash ? (size_t)(slash - value) : strlen(value);
    const char *rest = value + n;
    if (n == 1)
        return home ? xasprintf("%s%s", home, rest) : xstrdup(value);
    char *user = xstrndup(value + 1, n - 1);
    struct passwd pw, *res = NULL;
    char pwbuf[4096];
    char *out = NULL;
    if (getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res && res->pw_dir)
        out = xasprintf("%s%s", res->pw_dir, rest);
    free(user);
    return out ? out : xstrdup(value);
}

/* An operator at s->p: true if it ends a simple command; *redirect if it wants a target. */
static bool scan_operator(struct scanner *s, bool *redirect_r)
{
    char c = *s->p++;
    *redirect_r = false;
    switch (c) {
    case '\n':
        return true;
    case '|':
        if (*s->p == '|' || *s->p == '&')
            s->p++;
        return true;
    case '&':
        if (*s->p == '&')
            s->p++;
        return true;
    case ';':
        if (*s->p == ';')
            s->unsure = true; /* only inside case */
        return true;
    case '<':
        if (*s->p == '<') {
            s->unsure = true; /* a here-document's body is not a command */
            return false;
        }
        if (*s->p == '&' || *s->p == '>')
            s->p++;
        *redirect_r = true;
        return false;
    case '>':
        if (*s->p == '>' || *s->p == '&' || *s->p == '|')
            s->p++;
        *redirect_r = true;
        return false;
    default: /* ( and ): a subshell, a function definition */
        s->unsure = true;
        return false;
    }
}

bool check_shell_words(const char *cmd, const char *home, struct strvec *words_r)
{
    if (strlen(cmd) > CHECK_SHELL_MAX)
        return false;
    struct scanner s = {cmd, false};
    struct strvec found = STRVEC_INIT;
    bool cmd_start = true;    /* the next word may be the command word */
    bool want_target = false; /* the next word is a redirection's target */
    bool after_exec = false;  /* the command word was exec or command: the next word runs */
    while (*s.p && !s.unsure) {
        char c = *s.p;
        if (is_blank(c)) {
            s.p++;
            continue;
        }
        if (c == '\\' && s.p[1] == '\n') {
            s.p += 2;
            continue;
        }
        if (c == '#') {
            while (*s.p && *s.p != '\n')
                s.p++;
            continue;
        }
        if (is_op(c)) {
            bool redirect;
            if (want_target) {
                s.unsure = true; /* "> |": a syntax error; sh reports it */
                break;
            }
            if (scan_operator(&s, &redirect)) {
                cmd_start = true;
                after_exec = false;
            }
            want_target = redirect;
            continue;
        }
        struct word w = {0};
        buf_init(&w.val, CHECK_SHELL_MAX + 1);
        scan_word(&s, &w);
        bool io_number = !w.quoted && (*s.p == '<' || *s.p == '>') &&
                         strspn(w.val.data, "0123456789") == w.val.len;
        if (s.unsure || want_target || io_number) {
            want_target = false;
        } else if (after_exec && w.val.data[0] == '-' && !w.quoted) {
            /* command -p: options before the program; command -v only looks. */
            if (!strcmp(w.val.data, "-v") || !strcmp(w.val.data, "-V"))
                after_exec = false;
        } else if (cmd_start || after_exec) {
            bool was_exec = after_exec;
            after_exec = false;
            if (cmd_start && !was_exec && w.assign) {
                /* VAR=value before the command; PATH=... changes where it is looked for. */
                if (str_has_prefix(w.val.data, "PATH="))
                    s.unsure = true;
            } else if (!w.quoted && !was_exec && IN_LIST(reserved, w.val.data)) {
                s.unsure = true;
            } else if (w.expansion || w.pattern) {
                s.unsure = true;
            } else {
                strvec_push_owned(&found,
                                  w.tilde ? expand_tilde(w.val.data, home) : xstrdup(w.val.data));
                cmd_start = false;
                after_exec = !strcmp(w.val.data, "exec") || !strcmp(w.val.data, "command");
            }
        }
        buf_release(&w.val);
    }
    if (s.unsure || want_target) {
        strvec_free(&found);
        return false;
    }
    for (size_t i = 0; i < found.n; i++)
        strvec_push(words_r, found.v[i]);
    strvec_free(&found);
    return true;
}

static enum check_shell_prog file_state(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return CHECK_SHELL_MISSING;
    if (S_ISDIR(sb.st_mode))
        return CHECK_SHELL_DIRECTORY;
    if (!S_ISREG(sb.st_mode) || access(path, X_OK) != 0)
        return CHECK_SHELL_NOT_EXEC;
    return CHECK_SHELL_OK;
}

enum check_shell_prog check_shell_program(const char *word, const char *path)
{
    if (strchr(word, '/'))
        return file_state(word);
    if (IN_LIST(builtins, word))
        return CHECK_SHELL_OK;
    if (!*word)
        return CHECK_SHELL_NOT_FOUND;
    /* dash's defpath when PATH is unset. */
    if (!path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    const char *p = path;
    for (;;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        /* An empty entry is the current directory. */
        char *cand = n ? xasprintf("%.*s/%s", (int)n, p, word) : xstrdup(word);
        bool ok = file_state(cand) == CHECK_SHELL_OK;
        free(cand);
        if (ok)
            return CHECK_SHELL_OK;
        if (!colon)
            break;
        p = colon + 1;
    }
    return CHECK_SHELL_NOT_FOUND;
}
