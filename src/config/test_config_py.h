/*
 * test_config_py.h: what the files of the test program test-config-py
 * share: configurations built in memory and their compiled expressions.
 */
#ifndef TEST_CONFIG_PY_H
#define TEST_CONFIG_PY_H

#include "config/config_py.h"

#include "testlib/test.h"

#include <stdbool.h>
#include <string.h>

/* Lines 1-3, 4-7, 8-11 and 12-14: the option under test is on line 15. */
#define GEN "[general]\naccounts = A\n\n"
#define ACC "[Account A]\nlocalrepository = L\nremoterepository = R\n\n"
#define LOC "[Repository L]\ntype = Maildir\nlocalfolders = /tmp/mail\n\n"
#define REM "[Repository R]\ntype = IMAP\nremotehost = imap.example.org\n"

#define test_assert_contains(hay, needle)                                                          \
    do {                                                                                           \
        const char *th_ = (hay), *tn_ = (needle);                                                  \
        if (!th_ || !strstr(th_, tn_))                                                             \
            test_fail_at(__FILE__, __LINE__, "\"%s\" not found in \"%s\"", tn_,                    \
                         th_ ? th_ : "(null)");                                                    \
    } while (0)

/* The pythonfile test_config_py.c writes and starts with; its marker file. */
extern char *tpy_pythonfile_path;
extern char *tpy_marker_path;

/* The config for text (labelled "rc"); NULL after a test failure. */
struct config *tpy_build(const char *text);
/* A config whose [Repository R] has "option = text" on line 15. */
struct config *tpy_build_repo_option(const char *option, const char *text);
/* The same with [general] pythonfile = path on line 3. */
struct config *tpy_build_with_pythonfile(const char *path);
/* The expression of option in [Repository R] of cfg, compiled; NULL with e set. */
struct py_expr *tpy_repo_expr(const struct config *cfg, const char *option, struct err *e);
/* Build and compile "option = text"; NULL after a test failure. */
struct py_expr *tpy_expr_for(const char *option, const char *text, struct config **cfg_r);
/* Evaluate or call x the way its option is used; false with e set. */
bool tpy_use(struct py_expr *x, const char *option, struct err *e);
void tpy_write_file(const char *path, const char *text);
/* A test name on one line: newlines become '|'. */
char *tpy_one_line(char *s);

/* test_config_py_errors.c */
void test_py_syntax_errors(void);
void test_py_runtime_errors(void);
void test_py_no_leaks(void);
void test_py_check(void);

#endif
