#include "cli/cli_opts.h"

#include "base/buf.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

enum opt_kind {
    OPT_FLAG,
    OPT_VALUE,
    OPT_APPEND,
    OPT_OPTIONAL, /* long only: "--opt" gives "*", "--opt=value" gives value */
};

struct opt_def {
    char short_name;   /* 0 if none */
    const char *long_name; /* NULL if none */
    enum opt_kind kind;
    size_t offset;     /* into struct cli_opts */
    const char *metavar;
    const char *help;
};

#define OFF(field) offsetof(struct cli_opts, field)

static const struct opt_def defs[] = {
    {'V', NULL, OPT_FLAG, OFF(full_version), NULL, "show full version infos"},
    {0, "dry-run", OPT_FLAG, OFF(dry_run), NULL, "dry run mode"},
    {0, "info", OPT_FLAG, OFF(info), NULL,
     "output information on the configured email repositories"},
    {'1', NULL, OPT_FLAG, OFF(single_thread), NULL,
     "(the number one) disable all multithreading operations"},
    {'P', NULL, OPT_VALUE, OFF(profile_dir), "DIR", "sets OfflineIMAP into profile mode."},
    {'a', NULL, OPT_VALUE, OFF(accounts), "account1[,account2[,...]]", "list of accounts to sync"},
    {'c', NULL, OPT_VALUE, OFF(config_file), "FILE", "specifies a configuration file to use"},
    {'d', NULL, OPT_VALUE, OFF(debug_types), "type1[,type2[,...]]",
     "enables debugging for OfflineIMAP  (types: imap, maildir, thread)"},
    {'l', NULL, OPT_VALUE, OFF(log_file), "FILE", "log to FILE"},
    {'s', NULL, OPT_FLAG, OFF(syslog), NULL, "log to syslog"},
    {'f', NULL, OPT_VALUE, OFF(folders), "folder1[,folder2[,...]]",
     "only sync the specified folders"},
    {'k', NULL, OPT_APPEND, OFF(overrides), "[section:]option=value",
     "override configuration file option"},
    {'o', NULL, OPT_FLAG, OFF(run_once), NULL, "run only once (ignore autorefresh)"},
    {'q', NULL, OPT_FLAG, OFF(quick), NULL,
     "run only quick synchronizations (don't update flags)"},
    {'u', NULL, OPT_VALUE, OFF(ui), "UI",
     "specifies an alternative user interface (quiet, basic, syslog, ttyui, blinkenlights, "
     "machineui)"},
    {0, "delete-folder", OPT_VALUE, OFF(delete_folder), "FOLDERNAME",
     "Delete a folder (on the remote repository)"},
    {0, "migrate-fmd5-using-nametrans", OPT_FLAG, OFF(migrate_fmd5), NULL,
     "migrate FMD5 hashes from versions prior to 6.3.5"},
    {0, "mbnames-prune", OPT_FLAG, OFF(mbnames_prune), NULL,
     "remove mbnames entries for accounts not in accounts"},
    {0, "ignore-keyring", OPT_FLAG, OFF(ignore_keyring), NULL,
     "ignore the system keyring when looking for passwords"},
    {0, "update-keyring", OPT_FLAG, OFF(update_keyring), NULL,
     "store the password that was used in the system keyring"},
    {0, "check-config", OPT_FLAG, OFF(check_config), NULL,
     "read and check the configuration, report every problem, and exit (no network)"},
    {0, "allow-deletions", OPT_OPTIONAL, OFF(allow_deletions), "FOLDER,...",
     "confirm deletions the deletion guard refused, in every folder or in the folders named "
     "(remote names), for this run"},
};

#define NDEFS (sizeof(defs) / sizeof(defs[0]))

/* --help and --version are handled before the table; these stand for them in prefix matching. */
static const struct opt_def help_def = {0, "help", OPT_FLAG, 0, NULL, NULL};
static const struct opt_def version_def = {0, "version", OPT_FLAG, 0, NULL, NULL};

/* "--b, --a" -> "--a, --b" */
static char *sorted_list(const char *list)
{
    struct strvec sv = STRVEC_INIT;
    strvec_split(&sv, list, ',', true);
    strvec_sort(&sv);
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    for (size_t i = 0; i < sv.n; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", sv.v[i]);
    strvec_free(&sv);
    return buf_detach(&b, NULL);
}

static void usage_line(FILE *f)
{
    fprintf(f, "Usage: offlineimap [options]\n");
}

static void print_help(FILE *f)
{
    usage_line(f);
    fprintf(f, "\nOfflineIMAP in C: two-way IMAP and Maildir synchronization, a drop-in "
               "replacement for offlineimap3.\nLicensed under the GNU GPL v2 or any later "
               "version (with an OpenSSL exception).\n\nOptions:\n");
    fprintf(f, "  %-30s %s\n", "--version", "show program's version number and exit");
    fprintf(f, "  %-30s %s\n", "-h, --help", "show this help message and exit");
    for (size_t i = 0; i < NDEFS; i++) {
        const struct opt_def *d = &defs[i];
        char left[96];
        if (d->short_name)
            snprintf(left, sizeof(left), "-%c%s%s", d->short_name, d->metavar ? " " : "",
                     d->metavar ? d->metavar : "");
        else
            snprintf(left, sizeof(left), "--%s%s%s", d->long_name, d->metavar ? "=" : "",
                     d->metavar ? d->metavar : "");
        if (d->kind == OPT_OPTIONAL)
            snprintf(left, sizeof(left), "--%s[=%s]", d->long_name, d->metavar);
        if (strlen(left) > 30)
            fprintf(f, "  %s\n  %-30s %s\n", left, "", d->help);
        else
            fprintf(f, "  %-30s %s\n", left, d->help);
    }
}

static int usage_error(FILE *err, const char *fmt, const char *arg)
    __attribute__((format(printf, 2, 0)));

static int usage_error(FILE *err, const char *fmt, const char *arg)
{
    usage_line(err);
    fprintf(err, "\nofflineimap: error: ");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    fprintf(err, fmt, arg);
#pragma GCC diagnostic pop
    fprintf(err, "\n");
    return CLI_PARSE_EXIT_ERROR;
}

static void set_value(struct cli_opts *o, const struct opt_def *d, const char *value)
{
    char *base = (char *)o + d->offset;
    switch (d->kind) {
    case OPT_FLAG:
        *(bool *)base = true;
        break;
    case OPT_OPTIONAL:
    case OPT_VALUE: {
        char **slot = (char **)base;
        free(*slot);
        *slot = xstrdup(value);
        break;
    }
    case OPT_APPEND:
        strvec_push((struct strvec *)base, value);
        break;
    }
}

enum cli_parse_result cli_opts_parse(int argc, char **argv, struct cli_opts *o, FILE *out,
                                     FILE *err)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            for (i++; i < argc; i++)
                strvec_push(&o->args, argv[i]);
            break;
        }
        if (a[0] == '-' && a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
            /* optparse accepts any unambiguous prefix of a long option. */
            const struct opt_def *found = NULL;
            int matches = 0;
            struct buf names;
            buf_init(&names, BUF_UNBOUNDED);
            for (size_t k = 0; k < NDEFS + 2; k++) {
                const char *ln = k < NDEFS ? defs[k].long_name : k == NDEFS ? "help" : "version";
                if (!ln || strncmp(ln, name, nlen) != 0)
                    continue;
                const struct opt_def *d = k < NDEFS ? &defs[k] : k == NDEFS ? &help_def : &version_def;
                if (strlen(ln) == nlen) {
                    found = d;
                    matches = 1;
                    break;
                }
                buf_printf(&names, "%s--%s", matches ? ", " : "", ln);
                found = d;
                matches++;
            }
            char *opt = xstrndup(a, nlen + 2);
            if (matches == 0) {
                buf_release(&names);
                int r = usage_error(err, "no such option: %s", opt);
                free(opt);
                return r;
            }
            if (matches > 1) {
                /* optparse lists the candidates sorted. */
                char *cands = sorted_list(names.data);
                char *what = xasprintf("%s (%s?)", opt, cands);
                free(cands);
                buf_release(&names);
                int r = usage_error(err, "ambiguous option: %s", what);
                free(what);
                free(opt);
                return r;
            }
            buf_release(&names);
            if (found == &help_def) {
                free(opt);
                print_help(out);
                return CLI_PARSE_EXIT_OK;
            }
            if (found == &version_def) {
                free(opt);
                fprintf(out, "%s\n", CLI_COMPAT_VERSION);
                return CLI_PARSE_EXIT_OK;
            }
            if (found->kind == OPT_OPTIONAL) {
                set_value(o, found, eq ? eq + 1 : "*");
            } else if (found->kind == OPT_FLAG) {
                if (eq) {
                    int r = usage_error(err, "%s option does not take a value", opt);
                    free(opt);
                    return r;
                }
                set_value(o, found, NULL);
            } else if (eq) {
                set_value(o, found, eq + 1);
            } else if (i + 1 < argc) {
                set_value(o, found, argv[++i]);
            } else {
                int r = usage_error(err, "%s option requires 1 argument", opt);
                free(opt);
                return r;
            }
            free(opt);
            continue;
        }
        if (a[0] == '-' && a[1] != '\0') {
            for (const char *p = a + 1; *p; p++) {
                if (*p == 'h') {
                    print_help(out);
                    return CLI_PARSE_EXIT_OK;
                }
                const struct opt_def *found = NULL;
                for (size_t k = 0; k < NDEFS; k++)
                    if (defs[k].short_name == *p)
                        found = &defs[k];
                char opt[3] = {'-', *p, '\0'};
                if (!found)
                    return usage_error(err, "no such option: %s", opt);
                if (found->kind == OPT_FLAG) {
                    set_value(o, found, NULL);
                    continue;
                }
                if (p[1]) {
                    set_value(o, found, p + 1);
                } else if (i + 1 < argc) {
                    set_value(o, found, argv[++i]);
                } else {
                    return usage_error(err, "%s option requires 1 argument", opt);
                }
                break;
            }
            continue;
        }
        strvec_push(&o->args, a);
    }
    return CLI_PARSE_OK;
}

void cli_opts_release(struct cli_opts *o)
{
    free(o->profile_dir);
    free(o->accounts);
    free(o->config_file);
    free(o->debug_types);
    free(o->log_file);
    free(o->folders);
    free(o->ui);
    free(o->delete_folder);
    free(o->allow_deletions);
    strvec_free(&o->overrides);
    strvec_free(&o->args);
    memset(o, 0, sizeof(*o));
}
