#define _GNU_SOURCE
#include "testlib/test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *cur_name;
static bool cur_failed;
static int tests_run, tests_failed, asserts_failed;
static char tmpdir[256];

void test_begin(const char *name)
{
    cur_name = name;
    cur_failed = false;
}

void test_end(void)
{
    tests_run++;
    if (cur_failed)
        tests_failed++;
    printf("%-60s %s\n", cur_name, cur_failed ? "FAIL" : "ok");
    cur_name = NULL;
}

void test_fail_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: [%s] ", file, line, cur_name ? cur_name : "?");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cur_failed = true;
    asserts_failed++;
}

const char *test_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof(tmpdir), "%s/oimap-test-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return tmpdir;
}

int test_done(void)
{
    if (tmpdir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    printf("%d tests, %d failed, %d failed assertions\n", tests_run, tests_failed,
           asserts_failed);
    return tests_run > 0 && tests_failed == 0 && asserts_failed == 0 ? 0 : 1;
}
