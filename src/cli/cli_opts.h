/*
 * cli_opts: the command line, parsed as offlineimap3's optparse does.
 *
 * Short options may be combined ("-1o") and take their argument attached or
 * separately ("-aWork", "-a Work"); long options take "--opt=value" or
 * "--opt value"; "--" ends the options.  Errors print optparse's usage and
 * error lines and exit with status 2.
 */
#ifndef CLI_OPTS_H
#define CLI_OPTS_H

#include "base/strutil.h"

#include <stdbool.h>
#include <stdio.h>

struct cli_opts {
    bool full_version;   /* -V */
    bool dry_run;        /* --dry-run */
    bool info;           /* --info */
    bool single_thread;  /* -1 */
    bool syslog;         /* -s */
    bool run_once;       /* -o */
    bool quick;          /* -q */
    bool migrate_fmd5;   /* --migrate-fmd5-using-nametrans */
    bool mbnames_prune;  /* --mbnames-prune */
    bool ignore_keyring; /* --ignore-keyring */
    bool update_keyring; /* --update-keyring */
    bool check_config;   /* --check-config (ours) */
    char *profile_dir;   /* -P */
    char *accounts;      /* -a */
    char *config_file;   /* -c */
    char *debug_types;   /* -d */
    char *log_file;      /* -l */
    char *folders;       /* -f */
    char *ui;            /* -u */
    char *delete_folder; /* --delete-folder */
    char *allow_deletions; /* --allow-deletions[=F1,F2]: "*" for every folder (ours) */
    struct strvec overrides; /* -k, in order */
    struct strvec args;      /* positional arguments (ignored, as optparse leaves them) */
};

enum cli_parse_result {
    CLI_PARSE_OK = 0,
    CLI_PARSE_EXIT_OK,    /* --help or --version was printed */
    CLI_PARSE_EXIT_ERROR, /* a usage error was printed; exit status 2 */
};

/* The version offlineimap3 users' scripts see with --version. */
#define CLI_COMPAT_VERSION "8.0.1"

enum cli_parse_result cli_opts_parse(int argc, char **argv, struct cli_opts *o, FILE *out,
                                     FILE *err);
void cli_opts_release(struct cli_opts *o);

#endif
