/*
 * Unit tests for auth_netrc: files from a table (what Python's netrc makes
 * of them, checked with Python 3.11), each parsed whole, byte by byte and
 * split at every offset; the lookup rules; loading with the permission check.
 */
#include "auth/auth_netrc.h"

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define test_assert_contains(s, sub)                                                               \
    do {                                                                                           \
        const char *s_ = (s);                                                                      \
        if (!s_ || !strstr(s_, (sub)))                                                             \
            test_fail_at(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", s_ ? s_ : "(null)", \
                         (sub));                                                                   \
    } while (0)

struct parse_case {
    const char *name;
    const char *text;
    /* The entries, written "machine|login|account|password;..." ("*" for default). */
    const char *entries;
    const char *error; /* substring of the error, or NULL */
};

static const struct parse_case parse_cases[] = {
    {"one machine", "machine a login b password c\n", "a|b||c", NULL},
    {"two entries for one host are both kept",
     "machine a login b password c machine a login d password e\n", "a|b||c;a|d||e", NULL},
    {"quotes and backslashes", "machine \"a b\" login \"x y\" password \"p\\\"q\"\n",
     "a b|x y||p\"q", NULL},
    {"backslash outside quotes", "machine a login b password c\\ d\n", "a|b||c d", NULL},
    {"comment line inside an entry", "machine a login b\n# comment here\npassword c\n", "a|b||c",
     NULL},
    {"comment at the top", "# top comment\nmachine a login b password c\n", "a|b||c", NULL},
    {"comment after an entry", "machine a login b password c # trailing comment\n", "a|b||c", NULL},
    {"a value may start with #", "machine a login b password #notcomment\n", "a|b||#notcomment",
     NULL},
    {"default entry", "default login d password e\n", "*|d||e", NULL},
    {"account and user", "machine a account acc user u password p\n", "a|u|acc|p", NULL},
    {"macdef is skipped", "macdef init\ncd /\nput x\n\nmachine a login b password c\n", "a|b||c",
     NULL},
    {"macdef ended at once", "macdef init\n\nmachine a login b\n", "a|b||", NULL},
    {"tabs and CR LF", "machine\ta\r\n\tlogin\tb\r\n\tpassword\tc\r\n", "a|b||c", NULL},
    {"quoted keyword", "\"machine\" a login b\n", "a|b||", NULL},
    {"value missing at the end", "machine a login", "a|||", NULL},
    {"unterminated quote", "machine a login b password \"unterminated", "a|b||unterminated", NULL},
    {"empty file", "", "", NULL},
    {"only comments", "# nothing\n  # more\n", "", NULL},
    {"macdef without its empty line", "macdef init\ncd /\n", NULL,
     "line 3: Macro definition missing null line terminator."},
    {"bad follower", "machine a bogus x\n", NULL, "line 1: bad follower token 'bogus'"},
    {"bad toplevel", "\n\nfoo\n", NULL, "line 3: bad toplevel token 'foo'"},
    {"machine without a name", "machine\n", NULL, "missing 'machine' name"},
    {"machine with an empty name", "machine \"\" login x\n", NULL, "missing 'machine' name"},
    {"macdef without a name", "macdef", NULL, "missing 'macdef' name"},
    {"control characters in messages", "machine a \x1b[31m x\n", NULL,
     "bad follower token '?[31m'"},
};

static void describe(const struct netrc *n, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n->n && o < size; i++) {
        const struct netrc_entry *en = &n->v[i];
        o +=
            (size_t)snprintf(out + o, size - o, "%s%s|%s|%s|%s", i ? ";" : "",
                             en->machine ? en->machine : "*", en->login, en->account, en->password);
    }
}

/* Parse text fed in pieces: split at `split` (0: whole), or byte by byte when bytewise. */
static bool parse_pieces(const char *text, size_t split, bool bytewise, struct netrc *n,
                         struct err *e)
{
    struct netrc_parser p;
    netrc_parser_init(&p, n, "test.netrc");
    size_t len = strlen(text);
    bool ok = true;
    if (bytewise) {
        for (size_t i = 0; i < len && ok; i++)
            ok = netrc_parser_feed(&p, text + i, 1, e);
    } else {
        ok = netrc_parser_feed(&p, text, split, e) &&
             netrc_parser_feed(&p, text + split, len - split, e);
    }
    ok = ok && netrc_parser_finish(&p, e);
    netrc_parser_release(&p);
    return ok;
}

static void check_case(const struct parse_case *c, size_t split, bool bytewise)
{
    struct netrc n = {0};
    struct err e = ERR_INIT;
    bool ok = parse_pieces(c->text, split, bytewise, &n, &e);
    if (c->error) {
        test_assert(!ok);
        test_assert_contains(e.msg, "test.netrc ");
        test_assert_contains(e.msg, c->error);
    } else {
        test_assert(ok);
        char got[2048];
        describe(&n, got, sizeof(got));
        test_assert_streq(got, c->entries);
    }
    err_clear(&e);
    netrc_release(&n);
}

static void test_parse(void)
{
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct parse_case *c = &parse_cases[i];
        char title[200];
        snprintf(title, sizeof(title), "netrc: %s", c->name);
        test_begin(title);
        check_case(c, 0, true);
        for (size_t s = 0; s <= strlen(c->text); s++)
            check_case(c, s, false);
        test_end();
    }
}

static void test_limits(void)
{
    test_begin("netrc: a token longer than the limit is an error");
    size_t len = NETRC_TOKEN_MAX + 100;
    char *text = xmalloc(len + 40);
    strcpy(text, "machine a password ");
    size_t o = strlen(text);
    memset(text + o, 'x', NETRC_TOKEN_MAX + 1);
    text[o + NETRC_TOKEN_MAX + 1] = '\0';
    struct netrc n = {0};
    struct err e = ERR_INIT;
    test_assert(!netrc_parse(text, strlen(text), "big", &n, &e));
    test_assert_contains(e.msg, "a token longer than 4096 bytes");
    test_assert_inteq(n.n, 0);
    err_clear(&e);
    /* Exactly at the limit is fine. */
    text[o + NETRC_TOKEN_MAX] = '\0';
    test_assert(netrc_parse(text, strlen(text), "big", &n, &e));
    test_assert_inteq(strlen(n.v[0].password), NETRC_TOKEN_MAX);
    netrc_release(&n);
    free(text);
    test_end();

    test_begin("netrc: a failed parser stays failed");
    struct netrc_parser p;
    netrc_parser_init(&p, &n, "f");
    test_assert(!netrc_parser_feed(&p, "bogus ", 6, &e));
    err_clear(&e);
    test_assert(!netrc_parser_feed(&p, "machine a\n", 10, &e));
    err_clear(&e);
    test_assert(!netrc_parser_finish(&p, &e));
    err_clear(&e);
    netrc_parser_release(&p);
    netrc_release(&n);
    test_end();
}

struct find_case {
    const char *name;
    const char *host, *user;
    const char *want_login, *want_password; /* NULL: no entry */
};

static const char find_text[] = "machine imap.example.org login alice password pa\n"
                                "machine imap.example.org login bob password pb\n"
                                "machine other.example.org login carol password pc\n"
                                "default login dave password pd\n";

static const struct find_case find_cases[] = {
    {"known user: the first entry with that login", "imap.example.org", "alice", "alice", "pa"},
    {"known user: a later entry with that login", "imap.example.org", "bob", "bob", "pb"},
    {"unknown user: the last entry for the host (Python)", "imap.example.org", NULL, "bob", "pb"},
    {"user not among the host's entries: nothing, not default", "imap.example.org", "zed", NULL,
     NULL},
    {"host without an entry: default", "mail.example.com", NULL, "dave", "pd"},
    {"host without an entry, user matches default", "mail.example.com", "dave", "dave", "pd"},
    {"host without an entry, user differs from default", "mail.example.com", "erin", NULL, NULL},
    {"host names are compared exactly", "IMAP.example.org", "alice", NULL, NULL},
};

static void test_find(void)
{
    struct netrc n = {0};
    struct err e = ERR_INIT;
    test_assert(netrc_parse(find_text, strlen(find_text), "f", &n, &e));
    for (size_t i = 0; i < sizeof(find_cases) / sizeof(find_cases[0]); i++) {
        const struct find_case *c = &find_cases[i];
        char title[200];
        snprintf(title, sizeof(title), "netrc lookup: %s", c->name);
        test_begin(title);
        const struct netrc_entry *en = netrc_find(&n, c->host, c->user);
        if (c->want_login) {
            test_assert(en != NULL);
            if (en) {
                test_assert_streq(en->login, c->want_login);
                test_assert_streq(en->password, c->want_password);
            }
        } else {
            test_assert(en == NULL);
        }
        test_end();
    }
    test_begin("netrc lookup: no default entry");
    struct netrc m = {0};
    test_assert(netrc_parse("machine a login b password c", 28, "f", &m, &e));
    test_assert(netrc_find(&m, "x", NULL) == NULL);
    netrc_release(&m);
    test_end();
    netrc_release(&n);
}

static void test_load(void)
{
    test_begin("netrc files: missing, private, open to others");
    char *path = fs_join(test_tmpdir(), "netrc");
    struct netrc n = {0};
    struct err e = ERR_INIT;
    bool found = true;
    test_assert(netrc_load(path, true, &n, &found, &e));
    test_assert(!found);
    struct err we = ERR_INIT;
    test_assert(fs_write_atomic(path, find_text, strlen(find_text), false, &we));
    chmod(path, 0600);
    test_assert(netrc_load(path, true, &n, &found, &e));
    test_assert(found);
    test_assert_inteq(n.n, 4);
    chmod(path, 0644);
    test_assert(!netrc_load(path, true, &n, &found, &e));
    test_assert_contains(e.msg, "can be read or changed by other users (mode 644)");
    test_assert_contains(e.msg, "chmod 600");
    test_assert_inteq(n.n, 0);
    err_clear(&e);
    /* /etc/netrc is not checked, as in Python. */
    test_assert(netrc_load(path, false, &n, &found, &e));
    test_assert(found && n.n == 4);
    /* A syntax error names the file and line. */
    test_assert(fs_write_atomic(path, "machine a\nlogin b\nwhat\n", 23, false, &we));
    chmod(path, 0600);
    test_assert(!netrc_load(path, true, &n, &found, &e));
    test_assert_contains(e.msg, "netrc line 3: bad follower token 'what'");
    err_clear(&e);
    netrc_release(&n);
    free(path);
    test_end();
}

int main(void)
{
    test_parse();
    test_limits();
    test_find();
    test_load();
    return test_done();
}
