/*
 * main: offlineimap's start-up sequence (REFERENCE.md 1.1): command line,
 * configuration, user interface, then the accounts, and the exit status.
 */
#include "base/fsutil.h"
#include "base/crashpoint.h"
#include "base/log.h"
#include "base/prof.h"
#include "base/runctl.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cli/account.h"
#include "cli/check_config.h"
#include "cli/cli_opts.h"
#include "cli/daemon.h"
#include "cli/info.h"
#include "cli/mbnames.h"
#include "cli/migrate_fmd5.h"
#include "cli/repo_setup.h"
#include "config/config_model.h"
#include "config/config_py.h"
#include "status/sqlite_dl.h"
#include "ui/ui.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OIMAP_C_VERSION "0.1"

static void print_full_version(void)
{
    struct err e = ERR_INIT;
    const char *sqlite = sqlite_dl_load(&e) ? sqlite3_libversion() : "not loadable";
    err_clear(&e);
    printf("offlineimap v%s (C implementation %s), %s, SQLite %s\n", CLI_COMPAT_VERSION,
           OIMAP_C_VERSION, OpenSSL_version(OPENSSL_VERSION), sqlite);
}

static void print_problems(const struct config_problems *p, enum config_severity min)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct config_problem *cp = &p->v[i];
        if (cp->severity < min)
            continue;
        const char *pre = cp->severity == CONFIG_ERROR     ? "ERROR: "
                          : cp->severity == CONFIG_WARNING ? "WARNING: "
                                                           : "";
        fprintf(stderr, "%s%s\n", pre, cp->msg);
    }
}

/* -d types: imap, maildir, thread, ALL (offlineimap's list, "ALL" in any case). */
static void debug_types(const char *types, struct strvec *sv)
{
    if (str_ieq(types, "all"))
        types = "imap,maildir,thread";
    strvec_split(sv, types, ',', false);
}

static unsigned debug_mask(const struct strvec *sv)
{
    unsigned mask = LOGC_SYNC; /* offlineimap always adds its '' type */
    for (size_t i = 0; i < sv->n; i++) {
        if (!strcmp(sv->v[i], "imap"))
            mask |= LOGC_IMAP;
        else if (!strcmp(sv->v[i], "maildir"))
            mask |= LOGC_MAILDIR;
        else if (!strcmp(sv->v[i], "thread"))
            mask |= LOGC_THREAD;
    }
    return mask;
}

struct run_ctx {
    struct config *cfg;
    struct ui *ui;
    const struct cli_opts *opts;
    bool single;
    bool dry_run;
    struct strvec only_folders;
    struct strvec allow_deletions;
    struct mbnames *mbnames;
};

/*
 * -P: offlineimap's cProfile mode, here a text table per thread (base/prof.h).
 * Unlike offlineimap it does not force -1: each thread has its own table.
 */
static void profile_mode(const char *dir)
{
    if (fs_exists(dir)) {
        log_warn("Profile mode: Directory '%s' already exists!", dir);
    } else if (mkdir(dir, 0777) != 0) {
        log_error("Profile mode: cannot create the directory '%s': %s", dir, strerror(errno));
        return;
    }
    log_warn("Profile mode: Potentially large data will be created in '%s'", dir);
    prof_enable(dir);
}

static int delete_folder(struct run_ctx *rc)
{
    if (rc->cfg->nsync != 1) {
        log_error("--delete-folder needs exactly one account (use -a)");
        return 1;
    }
    struct config_account *acc = rc->cfg->sync[0];
    struct repo_stores rs;
    struct err e = ERR_INIT;
    struct repo_setup_opts so = {.cfg = rc->cfg, .account = acc, .ui = rc->ui, .single_thread = 1};
    if (!repo_setup(&so, &rs, &e)) {
        log_error("%s", e.msg);
        err_clear(&e);
        return 1;
    }
    const char *name = rc->opts->delete_folder;
    log_info("%sDeleting folder '%s' in repository '%s'", rc->dry_run ? "[DRYRUN] " : "", name,
             rs.account.remote->name);
    bool ok = rc->dry_run || (rs.account.remote->ops->connect(rs.account.remote, &e) &&
                              rs.account.remote->ops->delete_folder(rs.account.remote, name, &e));
    if (!ok) {
        log_error("%s", e.msg);
        err_clear(&e);
    }
    repo_stores_release(&rs);
    return ok ? 0 : 1;
}

/* The interactive interface's keys (Blinkenlights: a digit, 'q') go to the scheduler. */
static void key_sync_now(void *ctx, const char *account)
{
    (void)ctx;
    runctl_request(RUNCTL_SYNC_NOW, account);
}

static void key_quit(void *ctx)
{
    (void)ctx;
    runctl_request(RUNCTL_ABORT, NULL);
}

static void key_quit_now(void *ctx)
{
    (void)ctx;
    runctl_request(RUNCTL_EXIT_NOW, NULL);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    crashpoint_init();
    struct cli_opts opts;
    enum cli_parse_result pr = cli_opts_parse(argc, argv, &opts, stdout, stderr);
    if (pr != CLI_PARSE_OK) {
        cli_opts_release(&opts);
        return pr == CLI_PARSE_EXIT_OK ? 0 : 2;
    }
    if (opts.full_version) {
        print_full_version();
        cli_opts_release(&opts);
        return 0;
    }

    char *path = opts.config_file ? fs_expand_path(opts.config_file) : config_default_path();
    if (!fs_exists(path)) {
        fprintf(stderr, "ERROR:root: *** Config file '%s' does not exist; aborting!\n", path);
        free(path);
        cli_opts_release(&opts);
        return 1;
    }
    /* --ignore-keyring and --update-keyring set [general] options, as in offlineimap. */
    if (opts.ignore_keyring)
        strvec_push(&opts.overrides, "general:ignore-keyring=yes");
    if (opts.update_keyring)
        strvec_push(&opts.overrides, "general:update-keyring=yes");
    struct config_overrides ov = {
        .set = (const char *const *)opts.overrides.v,
        .nset = opts.overrides.n,
        .accounts = opts.accounts,
        .keep_on_error = opts.check_config,
    };
    struct config *cfg = NULL;
    struct config_problems problems = CONFIG_PROBLEMS_INIT;
    bool loaded = config_load(path, &ov, &cfg, &problems);
    if (opts.check_config) {
        if (cfg)
            check_config_more(cfg, &problems);
        config_problems_sort(&problems);
    }
    print_problems(&problems, opts.check_config ? CONFIG_INFO : CONFIG_WARNING);
    size_t nerr = config_problems_count(&problems, CONFIG_ERROR);
    config_problems_free(&problems);
    free(path);
    if (!loaded || opts.check_config) {
        if (opts.check_config) {
            if (nerr)
                printf("%zu error%s in the configuration.\n", nerr, nerr == 1 ? "" : "s");
            else
                printf("Configuration OK.\n");
        }
        py_stop();
        config_free(&cfg);
        cli_opts_release(&opts);
        return loaded && nerr == 0 ? 0 : 1;
    }

    const char *ui_name_ = opts.ui ? opts.ui : cfg->general.ui;
    if (opts.info)
        ui_name_ = "ttyui";
    bool dry_run = opts.dry_run || cfg->general.dry_run;
    struct strvec dtypes = STRVEC_INIT;
    if (opts.debug_types)
        debug_types(opts.debug_types, &dtypes);
    struct ui_opts uo = {
        .debug = opts.debug_types ? debug_mask(&dtypes) : 0,
        .logfile = opts.log_file,
        .syslog = opts.syslog,
        .dry_run = dry_run,
        .version = CLI_COMPAT_VERSION,
        .argc = argc,
        .argv = argv,
    };
    struct err e = ERR_INIT;
    struct ui *ui = ui_new(ui_name_, &uo, &e);
    if (!ui) {
        fprintf(stderr, "ERROR:root:%s\n", e.msg);
        err_clear(&e);
        strvec_free(&dtypes);
        config_free(&cfg);
        cli_opts_release(&opts);
        return 1;
    }
    ui_install(ui);
    ui_set_control(ui, &(struct ui_control){
                           .sync_now = key_sync_now, .quit = key_quit, .quit_now = key_quit_now});
    runctl_set_emergency(ui_restore_terminal);
    if (opts.profile_dir)
        profile_mode(opts.profile_dir);
    /* Python starts only for a configuration that has Python in it. */
    if (py_needed(cfg) && !py_start(cfg, &e)) {
        log_error("%s", e.msg);
        err_clear(&e);
        config_free(&cfg);
        cli_opts_release(&opts);
        strvec_free(&dtypes);
        int st = ui_terminate(ui, 1, NULL, NULL);
        ui_free(&ui);
        return st;
    }
    char info[256];
    snprintf(info, sizeof(info), "C implementation %s, %s, SQLite %s", OIMAP_C_VERSION,
             OpenSSL_version(OPENSSL_VERSION), SQLITE_VERSION);
    ui_banner(ui, info);

    struct run_ctx rc = {
        .cfg = cfg,
        .ui = ui,
        .opts = &opts,
        .single = opts.single_thread,
        .dry_run = dry_run,
    };
    if (opts.debug_types) {
        /* Without "thread", offlineimap forces single threading for readable output. */
        if (!strvec_contains(&dtypes, "thread") && !rc.single) {
            ui_display(ui, "Debug mode: Forcing to singlethreaded.");
            rc.single = true;
        }
        for (size_t i = 0; i < dtypes.n; i++)
            ui_debugging(ui, dtypes.v[i]);
        ui_debugging(ui, "");
    }
    strvec_free(&dtypes);
    if (opts.folders)
        strvec_split(&rc.only_folders, opts.folders, ',', true);
    if (opts.allow_deletions)
        strvec_split(&rc.allow_deletions, opts.allow_deletions, ',', true);

    int status = 0;
    if (opts.mbnames_prune) {
        if (!mbnames_prune(cfg, dry_run, &e)) {
            log_error("%s", e.msg);
            err_clear(&e);
            status = 1;
        }
        goto done;
    }
    if (cfg->nsync == 0) {
        config_free(&cfg);
        cli_opts_release(&opts);
        int st = ui_terminate(ui, 1, NULL, "No accounts are defined!");
        ui_free(&ui);
        return st;
    }
    if (opts.delete_folder) {
        status = delete_folder(&rc);
    } else if (opts.info) {
        status = info_run(cfg, ui);
    } else if (opts.migrate_fmd5) {
        status = migrate_fmd5_run(cfg, dry_run);
    } else {
        if (!mbnames_new(cfg, dry_run, &rc.mbnames, &e)) {
            log_error("%s", e.msg);
            err_clear(&e);
        }
        struct daemon_opts dopts = {
            .cfg = cfg,
            .ui = ui,
            .opts = &opts,
            .single = rc.single,
            .dry_run = dry_run,
            .only_folders = &rc.only_folders,
            .allow_deletions = &rc.allow_deletions,
            .mbnames = rc.mbnames,
        };
        status = daemon_run(&dopts);
        mbnames_run_done(rc.mbnames);
        mbnames_free(&rc.mbnames);
    }
done:
    strvec_free(&rc.only_folders);
    strvec_free(&rc.allow_deletions);
    prof_thread_done();
    py_stop();
    config_free(&cfg);
    cli_opts_release(&opts);
    status = ui_terminate(ui, status, NULL, NULL);
    ui_free(&ui);
    return status;
}
