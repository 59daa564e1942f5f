#include "cli/cli_opts.h"

#include "testlib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum cli_parse_result parse(struct cli_opts *o, const char *const *argv, char *errbuf,
                                   size_t errsize)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    FILE *out = fopen("/dev/null", "w");
    FILE *err = fmemopen(errbuf, errsize, "w");
    enum cli_parse_result r = cli_opts_parse(argc, (char **)argv, o, out, err);
    fclose(out);
    fclose(err);
    return r;
}

int main(void)
{
    char errbuf[1024];
    struct cli_opts o;

    test_begin("cli: combined short flags and attached values");
    const char *a1[] = {"offlineimap", "-1o", "-aWork,Home", "-c", "/tmp/rc", "-k",
                        "Account_Work:autorefresh=5", "-k", "maxsyncaccounts=2", NULL};
    test_assert(parse(&o, a1, errbuf, sizeof errbuf) == CLI_PARSE_OK);
    test_assert(o.single_thread && o.run_once);
    test_assert_streq(o.accounts, "Work,Home");
    test_assert_streq(o.config_file, "/tmp/rc");
    test_assert_inteq(o.overrides.n, 2);
    test_assert_streq(o.overrides.v[0], "Account_Work:autorefresh=5");
    cli_opts_release(&o);
    test_end();

    test_begin("cli: long options with = and separate values, prefixes");
    const char *a2[] = {"offlineimap", "--dry-run", "--delete-folder=Trash", "--info",
                        "--mbnames", "-u", "basic", "-d", "imap,maildir", NULL};
    test_assert(parse(&o, a2, errbuf, sizeof errbuf) == CLI_PARSE_OK);
    test_assert(o.dry_run && o.info && o.mbnames_prune);
    test_assert_streq(o.delete_folder, "Trash");
    test_assert_streq(o.ui, "basic");
    test_assert_streq(o.debug_types, "imap,maildir");
    cli_opts_release(&o);
    test_end();

    test_begin("cli: errors as optparse prints them");
    const char *a3[] = {"offlineimap", "-x", NULL};
    test_assert(parse(&o, a3, errbuf, sizeof errbuf) == CLI_PARSE_EXIT_ERROR);
    test_assert(strstr(errbuf, "offlineimap: error: no such option: -x") != NULL);
    cli_opts_release(&o);
    const char *a4[] = {"offlineimap", "-a", NULL};
    test_assert(parse(&o, a4, errbuf, sizeof errbuf) == CLI_PARSE_EXIT_ERROR);
    test_assert(strstr(errbuf, "-a option requires 1 argument") != NULL);
    cli_opts_release(&o);
    const char *a5[] = {"offlineimap", "--dry-run=yes", NULL};
    test_assert(parse(&o, a5, errbuf, sizeof errbuf) == CLI_PARSE_EXIT_ERROR);
    cli_opts_release(&o);
    const char *a6[] = {"offlineimap", "--nope", NULL};
    test_assert(parse(&o, a6, errbuf, sizeof errbuf) == CLI_PARSE_EXIT_ERROR);
    test_assert(strstr(errbuf, "no such option: --nope") != NULL);
    cli_opts_release(&o);
    test_end();

    test_begin("cli: help and version exit cleanly; -- ends options");
    const char *a7[] = {"offlineimap", "-h", NULL};
    test_assert(parse(&o, a7, errbuf, sizeof errbuf) == CLI_PARSE_EXIT_OK);
    cli_opts_release(&o);
    const char *a8[] = {"offlineimap", "--version", NULL};
    test_assert(parse(&o, a8, errbuf, sizeof errbuf) == CLI_PARSE_EXIT_OK);
    cli_opts_release(&o);
    const char *a9[] = {"offlineimap", "--", "-o", NULL};
    test_assert(parse(&o, a9, errbuf, sizeof errbuf) == CLI_PARSE_OK);
    test_assert(!o.run_once);
    test_assert_inteq(o.args.n, 1);
    cli_opts_release(&o);
    test_end();
    return test_done();
}
