/*
 * Unit test for dl: tables of functions resolved from libm, and the messages
 * for a library that is missing, is not a library, or lacks a function.
 */
#include "base/dl.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double (*my_cos)(double);
static double (*my_sqrt)(double);
static double (*my_floor)(double);
static double (*my_pow)(double, double);

static const char *const libm_only[] = {"libm.so.6", NULL};
static const char *const missing_then_libm[] = {"libno-such-h8.so.1", "libm.so.6", NULL};
static const char *const missing_only[] = {"libno-such-h8.so.1", NULL};
static const char *const two_missing[] = {"libno-such-h8.so.1", "libno-such-h8.so.2", NULL};

static double (*fn)(double);
static const struct dl_sym good[] = {{"cos", &fn}};
static const struct dl_sym bad[] = {{"cos", &fn}, {"no_such_function_h8", &fn}};

static void test_load(void)
{
    test_begin("dl_load: a table of libm's functions");
    const struct dl_sym syms[] = {
        {"cos", &my_cos},
        {"sqrt", &my_sqrt},
        {"floor", &my_floor},
        {"pow", &my_pow},
    };
    static const struct {
        const char *const *sonames;
        const char *loaded;
    } cases[] = {{libm_only, "libm.so.6"}, {missing_then_libm, "libm.so.6"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        my_cos = my_sqrt = my_floor = NULL;
        my_pow = NULL;
        struct dl_lib lib = {"libm", cases[i].sonames, "libc6", NULL};
        struct err e = ERR_INIT;
        const char *soname = NULL;
        void *h = dl_load(&lib, syms, sizeof(syms) / sizeof(syms[0]), &soname, &e);
        test_assert(h != NULL && !err_isset(&e));
        test_assert_streq(soname, cases[i].loaded);
        if (h) {
            test_assert(my_cos && my_cos(0.0) == 1.0);
            test_assert(my_sqrt && my_sqrt(81.0) == 9.0);
            test_assert(my_floor && my_floor(2.5) == 2.0);
            test_assert(my_pow && my_pow(2.0, 10.0) == 1024.0);
        }
        err_clear(&e);
    }
    test_end();
}

static void test_errors(void)
{
    test_begin("dl_load: what is missing, and what to install");
    const struct {
        const char *const *sonames;
        const struct dl_sym *syms;
        size_t n;
        const char *purpose;
        const char *msg;
    } cases[] = {
        {libm_only, bad, 2, NULL,
         "libm (libm.so.6) cannot be loaded: it has no function no_such_function_h8. Install "
         "it (Debian: the libc6 package) and run again."},
        {missing_only, good, 1, "which the test needs",
         "libm (libno-such-h8.so.1), which the test needs, cannot be loaded: cannot open shared "
         "object file: No such file or directory. Install it (Debian: the libc6 package) and run "
         "again."},
        {two_missing, good, 1, NULL,
         "libm (libno-such-h8.so.1 or libno-such-h8.so.2) cannot be loaded: libno-such-h8.so.1: "
         "cannot open shared object file: No such file or directory; libno-such-h8.so.2: cannot "
         "open shared object file: No such file or directory. Install it (Debian: the libc6 "
         "package) and run again."},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dl_lib lib = {"libm", cases[i].sonames, "libc6", cases[i].purpose};
        struct err e = ERR_INIT;
        const char *soname = "unchanged";
        test_assert(dl_load(&lib, cases[i].syms, cases[i].n, &soname, &e) == NULL);
        test_assert_streq(e.msg, cases[i].msg);
        test_assert(e.scope == ERR_REPO);
        test_assert_streq(soname, "unchanged");
        err_clear(&e);
    }
    test_end();

    test_begin("dl_open: a file that is not a library; dl_resolve: the name missing");
    char *path = xasprintf("%s/libgarbage.so", test_tmpdir());
    FILE *f = fopen(path, "w");
    test_assert(f != NULL);
    if (f) {
        fputs("This is a text file, not a shared object: long enough for the dynamic\n"
              "loader to read a whole ELF header and refuse it.\n",
              f);
        fclose(f);
    }
    char *why = NULL;
    test_assert(dl_open(path, RTLD_LOCAL, &why) == NULL);
    test_assert_streq(why, "invalid ELF header");
    free(why);
    free(path);
    void *h = dl_open("libm.so.6", RTLD_LOCAL, &why);
    test_assert(h != NULL && why == NULL);
    test_assert(h && !dl_resolve(h, bad, 2, &why));
    test_assert_streq(why, "it has no function no_such_function_h8");
    free(why);
    test_assert(h && dl_resolve(h, good, 1, &why) && why == NULL && fn(0.0) == 1.0);
    test_end();
}

int main(void)
{
    test_load();
    test_errors();
    return test_done();
}
