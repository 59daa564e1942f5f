/*
 * Unit test for check_shell: the command words of /bin/sh command lines, and
 * how a word is found.
 */
#include "cli/check_shell.h"
#include "testlib/test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "" for a command that cannot be read statically; else the words joined with '|'. */
static const struct {
    const char *cmd;
    const char *words; /* NULL: check_shell_words() is false */
} cases[] = {
    {"notmuch new", "notmuch"},
    {"", ""},
    {"FOO=1 BAR='a b' notmuch new", "notmuch"},
    {"VAR=1", ""},
    {"a=b=c cmd", "cmd"},
    {"=x cmd", "=x"},
    {"\"/usr/bin/my prog\" -x", "/usr/bin/my prog"},
    {"no'tm'uch \"new\"", "notmuch"},
    {"no\\tmuch", "notmuch"},
    {"no\\\ntmuch new", "notmuch"},
    {"a | b && c; d & e || f |& g", "a|b|c|d|e|f|g"},
    {"notmuch new\nmbsync -a", "notmuch|mbsync"},
    {"notmuch new # comment | x", "notmuch"},
    {"notmuch new #x\nmu index", "notmuch|mu"},
    {"echo a#b", "echo"},
    {"2>/dev/null cmd arg >out", "cmd"},
    {"cmd >out 2>&1 <in", "cmd"},
    {"<in cmd", "cmd"},
    {"12>f cmd", "cmd"},
    {"12 >f", "12"},
    {"~/bin/x", "/h/bin/x"},
    {"~", "/h"},
    {"'~/bin/x'", "~/bin/x"},
    {"x~/bin", "x~/bin"},
    {"exec ssh host imapd", "exec|ssh"},
    {"command -v foo", "command"},
    {"exec", "exec"},
    {"echo $HOME \"$X\" ${Y}", "echo"},
    {"notmuch new && notmuch tag +inbox -- folder:INBOX", "notmuch|notmuch"},
    {"ssh -q imaphost '/usr/bin/imapd ./Maildir'", "ssh"},
    /* What only running the command could tell. */
    {"$(foo)", NULL},
    {"echo `date`", NULL},
    {"echo \"a$(b)\"", NULL},
    {"echo \"a`b`\"", NULL},
    {"(cd x; y)", NULL},
    {"a && (b)", NULL},
    {"{ a; }", NULL},
    {"if true; then x; fi", NULL},
    {"! x", NULL},
    {"for i in 1; do x; done", NULL},
    {"while :; do x; done", NULL},
    {"$CMD arg", NULL},
    {"x$y", NULL},
    {"\"$CMD\"", NULL},
    {"*.sh", NULL},
    {"cmd?", NULL},
    {"cat <<EOF", NULL},
    {"'unterminated", NULL},
    {"\"unterminated", NULL},
    {"PATH=/x cmd", NULL},
    {"cmd >", NULL},
    {"cmd > | x", NULL},
    {"f() { x; }", NULL},
    {"case x in y) z;; esac", NULL},
    /* Quoted reserved words and patterns are plain words. */
    {"'if' x", "if"},
    {"\\{ x", "{"},
    {"'*.sh'", "*.sh"},
};

static void test_words(void)
{
    test_begin("check_shell_words");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct strvec w = STRVEC_INIT;
        strvec_push(&w, "kept");
        bool ok = check_shell_words(cases[i].cmd, "/h", &w);
        if (!cases[i].words) {
            if (ok || w.n != 1)
                test_fail_at(__FILE__, __LINE__, "case %zu (%s): read as simple", i, cases[i].cmd);
        } else if (!ok) {
            test_fail_at(__FILE__, __LINE__, "case %zu (%s): refused", i, cases[i].cmd);
        } else {
            char joined[256] = "";
            for (size_t k = 1; k < w.n; k++) {
                if (k > 1)
                    strcat(joined, "|");
                strncat(joined, w.v[k], sizeof(joined) - strlen(joined) - 2);
            }
            test_assert_streq(w.v[0], "kept");
            if (strcmp(joined, cases[i].words) != 0)
                test_fail_at(__FILE__, __LINE__, "case %zu (%s): got '%s', want '%s'", i,
                             cases[i].cmd, joined, cases[i].words);
        }
        strvec_free(&w);
    }
    /* No HOME: ~ stays. */
    struct strvec w = STRVEC_INIT;
    test_assert(check_shell_words("~/x", NULL, &w));
    test_assert(w.n == 1 && !strcmp(w.v[0], "~/x"));
    strvec_free(&w);
    /* ~user: that user's home; an unknown user leaves the word alone. */
    test_assert(check_shell_words("~root/bin/x ; ~no-such-user-h8/x", "/h", &w));
    test_assert(w.n == 2);
    if (w.n == 2) {
        test_assert(strcmp(w.v[0], "~root/bin/x") != 0 && strstr(w.v[0], "/bin/x"));
        test_assert_streq(w.v[1], "~no-such-user-h8/x");
    }
    strvec_free(&w);
    /* Longer than the limit: not read. */
    char *big = malloc(CHECK_SHELL_MAX + 2);
    memset(big, 'a', CHECK_SHELL_MAX + 1);
    big[CHECK_SHELL_MAX + 1] = '\0';
    test_assert(!check_shell_words(big, NULL, &w) && w.n == 0);
    big[CHECK_SHELL_MAX] = '\0';
    test_assert(check_shell_words(big, NULL, &w) && w.n == 1);
    strvec_free(&w);
    free(big);
    test_end();
}

static void test_program(void)
{
    test_begin("check_shell_program");
    static const struct {
        const char *word, *path;
        enum check_shell_prog want;
    } progs[] = {
        {"sh", "/nonexistent:/bin", CHECK_SHELL_OK},
        {"sh", "/nonexistent", CHECK_SHELL_NOT_FOUND},
        {"cd", "/nonexistent", CHECK_SHELL_OK},
        {"[", "", CHECK_SHELL_OK},
        {"no-such-program-h8", "/bin:/usr/bin", CHECK_SHELL_NOT_FOUND},
        {"", "/bin", CHECK_SHELL_NOT_FOUND},
        {"/bin/sh", "/nonexistent", CHECK_SHELL_OK},
        {"/no/such/file", NULL, CHECK_SHELL_MISSING},
        {"/etc", NULL, CHECK_SHELL_DIRECTORY},
        {"/etc/passwd", NULL, CHECK_SHELL_NOT_EXEC},
        {"/dev/null", NULL, CHECK_SHELL_NOT_EXEC},
        {"passwd", "/etc", CHECK_SHELL_NOT_FOUND}, /* not executable: not a match */
        {"sh", NULL, CHECK_SHELL_OK},              /* dash's default path */
    };
    for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
        enum check_shell_prog got = check_shell_program(progs[i].word, progs[i].path);
        if (got != progs[i].want)
            test_fail_at(__FILE__, __LINE__, "case %zu (%s): got %d, want %d", i, progs[i].word,
                         (int)got, (int)progs[i].want);
    }
    /* An empty $PATH entry is the current directory; so is a relative path. */
    char *cwd = getcwd(NULL, 0);
    test_assert(cwd && chdir("/bin") == 0);
    test_assert_inteq(check_shell_program("sh", "/nonexistent::"), CHECK_SHELL_OK);
    test_assert_inteq(check_shell_program("./sh", NULL), CHECK_SHELL_OK);
    test_assert_inteq(check_shell_program("sh", "/nonexistent"), CHECK_SHELL_NOT_FOUND);
    test_assert(cwd && chdir(cwd) == 0);
    free(cwd);
    test_end();
}

int main(void)
{
    test_words();
    test_program();
    return test_done();
}
