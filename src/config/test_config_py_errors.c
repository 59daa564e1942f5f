/*
 * test_config_py_errors: every error names the file, line, section and
 * option, with the Python traceback; and no Python object is lost on any
 * path, failing or not.
 */
#include "config/test_config_py.h"

#include "base/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- errors --------------------------------------------------------------- */

static void expect_new_error(const char *option, const char *text, const char *want)
{
    struct config *cfg = tpy_build_repo_option(option, text);
    struct err e = ERR_INIT;
    struct py_expr *x = cfg ? tpy_repo_expr(cfg, option, &e) : NULL;
    test_assert(x == NULL);
    test_assert_contains(e.msg, want);
    test_assert_inteq(e.scope, ERR_FOLDER);
    err_clear(&e);
    py_expr_free(&x);
    config_free(&cfg);
}

void test_py_syntax_errors(void)
{
    test_begin("syntax errors are reported by py_expr_new with the line");
    expect_new_error("nametrans", "lambda f: f +",
                     "rc line 15: [Repository R] nametrans: the expression is not valid Python: "
                     "invalid syntax\n    lambda f: f +");
    expect_new_error("folderfilter", "lambda f: f in ['a', 'b'",
                     "rc line 15: [Repository R] folderfilter: the expression is not valid Python: "
                     "'[' was never closed (column 16)\n    lambda f: f in ['a', 'b'\n"
                     "                   ^");
    /* A statement is not an expression. */
    expect_new_error("remotepasseval", "import os",
                     "remotepasseval: the expression is not valid "
                     "Python: invalid syntax");
    /* Continuation lines: the line inside the value. */
    expect_new_error("folderincludes", "['a',\n  'b'\n  'c' +]",
                     "rc line 15: [Repository R] folderincludes: the expression is not valid "
                     "Python: invalid syntax");
    expect_new_error("folderincludes", "['a',\n  'b',\n  'c' +]", "(line 3 of the value, column");
    test_end();
}

void test_py_runtime_errors(void)
{
    static const struct {
        const char *option, *text, *want;
    } cases[] = {
        {"nametrans", "lambda f: foo(f)",
         "rc line 15: [Repository R] nametrans: the expression, called with 'INBOX', raised "
         "NameError: name 'foo' is not defined\nTraceback (most recent call last):\n  File \"rc "
         "line 15: [Repository R] nametrans\", line 1, in <lambda>\n    lambda f: foo(f)\n"},
        {"nametrans", "lambda f: 42",
         "rc line 15: [Repository R] nametrans: the function gives 42 (int) for 'INBOX', not a "
         "str."},
        {"nametrans", "lambda f: None",
         "the function gives None (NoneType) for 'INBOX', not a str."},
        {"nametrans", "lambda f: 'a\\0b'", "nametrans: the expression gave a string with a NUL"},
        {"nametrans", "'not a function'",
         "nametrans: the expression gives 'not a function' (str), not a function."},
        {"nametrans", "lambda: 'x'", "raised TypeError: <lambda>() takes 0 positional arguments"},
        {"folderfilter", "lambda f: undefined_name",
         "folderfilter: the expression, called with 'INBOX', raised NameError: name "
         "'undefined_name' is not defined\nTraceback"},
        {"remoteporteval", "[993]",
         "remoteporteval: the expression gives [993] (list), not an int."},
        {"remoteporteval", "True", "the expression gives True (bool), not an int."},
        {"remoteporteval", "'no-such-service'",
         "the expression gives 'no-such-service' (str), not an int, a str of digits or a "
         "service name of /etc/services."},
        {"remoteporteval", "2**80", "not a number that fits in 64 bits."},
        {"remotepasseval", "get_nothing()",
         "remotepasseval: the expression gives None (NoneType), not a str (or bytes)."},
        {"remotepasseval", "b'\\xff'",
         "remotepasseval: the expression raised UnicodeDecodeError: 'utf-8' codec can't decode "
         "byte 0xff"},
        {"remotepasseval", "fail('no password store')",
         "remotepasseval: the expression raised ValueError: no password store\nTraceback (most "
         "recent call last):\n  File \"rc line 15: [Repository R] remotepasseval\", line 1, in "
         "<module>\n"},
        /* no re without with_re, and the pythonfile did not import it */
        {"remotehosteval", "re.sub('a', 'b', 'a')", "raised NameError: name 're' is not defined"},
        {"idlefolders", "'INBOX'",
         "idlefolders: the expression gives 'INBOX' (str), not a list "
         "of str."},
        {"idlefolders", "['INBOX', 3]", "idlefolders: item 2 of the list is 3 (int), not a str."},
        {"folderincludes", "5", "folderincludes: the expression gives 5 (int), not a list of str."},
        {"copy_ignore_eval", "lambda f: ['1']",
         "copy_ignore_eval: item 1 of the list for 'INBOX' is '1' (str), not an int (a UID)."},
        {"copy_ignore_eval", "lambda f: 5",
         "the function gives 5 (int) for 'INBOX', not a list of UIDs (int) or None."},
        {"newmail_hook", "lambda: 1 / 0",
         "newmail_hook: the expression raised ZeroDivisionError: division by zero"},
        {"foldersort", "lambda: 0",
         "foldersort: the expression raised TypeError: foldersort "
         "must take two folder names (a cmp function) or one (a key "
         "function)"},
        {"foldersort", "lambda x, y: 'bad'",
         "raised TypeError: '<' not supported between "
         "instances of 'str' and 'int'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *name = xasprintf("error: %s = %s", cases[i].option, cases[i].text);
        test_begin(name);
        struct config *cfg;
        struct py_expr *x = tpy_expr_for(cases[i].option, cases[i].text, &cfg);
        struct err e = ERR_INIT;
        test_assert(x && !tpy_use(x, cases[i].option, &e));
        test_assert_contains(e.msg, cases[i].want);
        test_assert_inteq(e.scope, ERR_FOLDER);
        /* the bridge's own frames are not shown */
        test_assert(!e.msg || !strstr(e.msg, "offlineimap bridge"));
        err_clear(&e);
        py_expr_free(&x);
        config_free(&cfg);
        test_end();
        free(name);
    }

    test_begin("error: the traceback goes through the pythonfile's lines");
    struct config *cfg;
    struct py_expr *x = tpy_expr_for("remotepasseval", "fail('locked')", &cfg);
    struct err e = ERR_INIT;
    test_assert(x && !tpy_use(x, "remotepasseval", &e));
    char *want = xasprintf("  File \"%s\", line 13, in fail\n    raise ValueError(why)\n",
                           tpy_pythonfile_path);
    test_assert_contains(e.msg, want);
    free(want);
    err_clear(&e);
    py_expr_free(&x);
    config_free(&cfg);
    test_end();

    test_begin("error: SystemExit is an error, not an exit");
    x = tpy_expr_for("remotepasseval", "__import__('sys').exit(3)", &cfg);
    test_assert(x && !tpy_use(x, "remotepasseval", &e));
    test_assert_contains(e.msg, "the expression raised SystemExit: 3");
    err_clear(&e);
    py_expr_free(&x);
    config_free(&cfg);
    test_end();

    test_begin("error: an expression error leaves the next call working");
    x = tpy_expr_for("nametrans", "lambda f: f if f != 'bad' else missing", &cfg);
    char *out = NULL;
    test_assert(x && !py_call_str_str(x, "bad", &out, &e));
    test_assert_contains(e.msg, "called with 'bad', raised NameError");
    err_clear(&e);
    test_assert(x && py_call_str_str(x, "good", &out, &e));
    test_assert_streq(out, "good");
    free(out);
    py_expr_free(&x);
    config_free(&cfg);
    test_end();
}

/* ---- references ---------------------------------------------------------- */

/* Python's count of allocated objects, asked through the bridge itself. */
static int64_t python_blocks(void)
{
    struct config *cfg;
    struct py_expr *x = tpy_expr_for("remoteporteval",
                                     "__import__('gc').collect() * 0 + "
                                     "__import__('sys').getallocatedblocks()",
                                     &cfg);
    int64_t n = -1;
    struct err e = ERR_INIT;
    test_assert(x && py_eval_int(x, &n, &e));
    err_clear(&e);
    py_expr_free(&x);
    config_free(&cfg);
    return n;
}

/* Every path once: values, calls, sorts, formatting and their errors. */
static void every_path(void)
{
    static const struct {
        const char *option, *text;
    } exprs[] = {
        {"nametrans", "lambda f: re.sub('^INBOX\\.', '', f)"},
        {"nametrans", "lambda f: foo(f)"},
        {"nametrans", "lambda f: 42"},
        {"nametrans", "lambda f: 'a\\0b'"},
        {"nametrans", "'not a function'"},
        {"nametrans", "lambda f: f +"},
        {"folderfilter", "lambda f: f in ['INBOX']"},
        {"folderincludes", "['a', 'b']"},
        {"folderincludes", "['a', 3]"},
        {"foldersort", "mycmp"},
        {"foldersort", "key_only"},
        {"foldersort", "lambda: 0"},
        {"remotepasseval", "get_password()"},
        {"remotepasseval", "b'\\xff'"},
        {"remotepasseval", "fail('x')"},
        {"remoteporteval", "'993'"},
        {"remoteporteval", "2**80"},
        {"copy_ignore_eval", "lambda f: [1, 2]"},
        {"copy_ignore_eval", "lambda f: ['1']"},
    };
    for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
        struct config *cfg = tpy_build_repo_option(exprs[i].option, exprs[i].text);
        struct err e = ERR_INIT;
        struct py_expr *x = cfg ? tpy_repo_expr(cfg, exprs[i].option, &e) : NULL;
        if (x)
            tpy_use(x, exprs[i].option, &e);
        err_clear(&e);
        py_expr_free(&x);
        config_free(&cfg);
    }
    char *out = NULL;
    struct err e = ERR_INIT;
    if (py_format_item("%(accountname)s %(foldername)s", "A", "B", "C", &out, &e))
        free(out);
    py_format_item("%(nokey)s", "A", "B", "C", &out, &e);
    err_clear(&e);
}

void test_py_no_leaks(void)
{
    test_begin("no Python object leaks: 2 x 250 rounds of every path");
    /*
     * Python's free lists and caches (re, linecache) fill up over the first
     * rounds and then stay put, while a lost reference grows with every
     * round: at least 250 objects in each batch.
     */
    for (int i = 0; i < 100; i++)
        every_path();
    int64_t n[3];
    for (int k = 0; k < 3; k++) {
        n[k] = python_blocks();
        for (int i = 0; k < 2 && i < 250; i++)
            every_path();
    }
    if (n[1] - n[0] >= 200 && n[2] - n[1] >= 200)
        test_fail_at(__FILE__, __LINE__, "Python blocks: %lld, %lld, %lld", (long long)n[0],
                     (long long)n[1], (long long)n[2]);
    test_end();
}

/* ---- py_expr_check (--check-config) ---------------------------------------- */

void test_py_check(void)
{
    static const struct {
        const char *option, *text;
        enum py_check how;
        const char *want; /* NULL: fine */
    } cases[] = {
        {"nametrans", "lambda f: re.sub('^INBOX$', 'inbox', f)", PY_CHECK_FN1, NULL},
        {"nametrans", "lambda f: {'a': 'b'}.get(f, f)", PY_CHECK_FN1, NULL},
        {"nametrans", "lambda f, *rest: f", PY_CHECK_FN1, NULL},
        {"nametrans", "str.lower", PY_CHECK_FN1, NULL},
        {"nametrans", "lambda f: nosuch(f)", PY_CHECK_FN1,
         "rc line 15: [Repository R] nametrans: it uses 'nosuch', defined neither in the "
         "pythonfile nor by Python (NameError when it runs)."},
        {"nametrans", "lambda f: [x for x in f if y]", PY_CHECK_FN1, "it uses 'y'"},
        {"nametrans", "lambda f: (lambda g: g + zz)(f)", PY_CHECK_FN1, "it uses 'zz'"},
        {"nametrans", "lambda a, b: a", PY_CHECK_FN1,
         "nametrans: the function takes (a, b), but offlineimap calls it with 1 argument."},
        {"nametrans", "'INBOX'", PY_CHECK_FN1,
         "nametrans: the expression gives 'INBOX' (str), not a function."},
        {"foldersort", "lambda x, y: (x > y) - (x < y)", PY_CHECK_FN_SORT, NULL},
        {"foldersort", "lambda x: x.lower()", PY_CHECK_FN_SORT, NULL},
        {"foldersort", "lambda: 0", PY_CHECK_FN_SORT,
         "foldersort: the function takes no arguments, but offlineimap calls it with 1 or 2 "
         "arguments."},
        {"newmail_hook", "lambda: None", PY_CHECK_FN0, NULL},
        {"newmail_hook", "lambda f: None", PY_CHECK_FN0, "calls it with 0 arguments."},
        {"copy_ignore_eval", "lambda folder: [1, 2]", PY_CHECK_FN1, NULL},
        /* Names only: nothing runs, so a raising call is fine if its names exist. */
        {"remotepasseval", "open('/nonexistent/secret').read()", PY_CHECK_NAMES, NULL},
        {"remotepasseval", "no_such_helper('work')", PY_CHECK_NAMES, "it uses 'no_such_helper'"},
        /* re only where offlineimap injects it. */
        {"remotepasseval", "re.sub('x', '', 'y')", PY_CHECK_NAMES, "it uses 're'"},
        {"remotepasseval", "(w := 'x') + w", PY_CHECK_NAMES, NULL},
        {"folderincludes", "['a'] + [b]", PY_CHECK_NAMES, "it uses 'b'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *name = xasprintf("py_expr_check %s = %s", cases[i].option, cases[i].text);
        test_begin(name);
        struct config *cfg = NULL;
        struct py_expr *x = tpy_expr_for(cases[i].option, cases[i].text, &cfg);
        struct err e = ERR_INIT;
        bool ok = x && py_expr_check(x, cases[i].how, &e);
        if (cases[i].want) {
            test_assert(!ok);
            test_assert_contains(e.msg, cases[i].want);
        } else {
            test_assert(ok);
        }
        err_clear(&e);
        py_expr_free(&x);
        config_free(&cfg);
        test_end();
        free(name);
    }
}
