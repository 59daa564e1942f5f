/*
 * test: the tiny unit-test framework every module's test program uses.
 *
 *   test_begin("buf grows to its max");
 *   test_assert(buf_append(&b, "x", 1));
 *   test_assert_streq(b.data, "x");
 *   test_end();
 *   ...
 *   return test_done();
 *
 * A failed assertion prints the file, line and expression and marks the
 * current test failed; test_done() prints a summary and returns the exit
 * status (0 only if every assertion held and at least one test ran).
 */
#ifndef TESTLIB_TEST_H
#define TESTLIB_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void test_begin(const char *name);
void test_end(void);
int test_done(void);
void test_fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A scratch directory unique to this test program, removed by test_done(). */
const char *test_tmpdir(void);

#define test_assert(expr)                                                                          \
    do {                                                                                           \
        if (!(expr))                                                                               \
            test_fail_at(__FILE__, __LINE__, "assertion failed: %s", #expr);                       \
    } while (0)

#define test_assert_streq(a, b)                                                                    \
    do {                                                                                           \
        const char *ta_ = (a), *tb_ = (b);                                                         \
        if (!ta_ || !tb_ || strcmp(ta_, tb_) != 0)                                                 \
            test_fail_at(__FILE__, __LINE__, "%s == %s: got \"%s\", expected \"%s\"", #a, #b,      \
                         ta_ ? ta_ : "(null)", tb_ ? tb_ : "(null)");                              \
    } while (0)

#define test_assert_inteq(a, b)                                                                    \
    do {                                                                                           \
        long long ta_ = (long long)(a), tb_ = (long long)(b);                                      \
        if (ta_ != tb_)                                                                            \
            test_fail_at(__FILE__, __LINE__, "%s == %s: got %lld, expected %lld", #a, #b, ta_,    \
                         tb_);                                                                     \
    } while (0)

#endif
