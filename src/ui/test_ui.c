/*
 * Tests for the ui core and the text interfaces (ttyui, basic, quiet): name
 * resolution, whole runs compared with what the real offlineimap3 printed,
 * every event's message, levels, the log file, the end-of-run summary and
 * exit status, and the refusal to prompt for passwords.  test_ui_tty.c has
 * the terminal prompt and the ttyui header under real threads.
 */
#include "ui/ui.h"
#include "ui/ui_testutil.h"

#include "base/buf.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define A "Account sync Test"
#define FI "Folder INBOX [acc: Test]"
#define FS "Folder Sub [acc: Test]"
#define M "MainThread"
#define OLD_NAME_WARNING                                                                           \
    "WARNING:root:Using old interface name, consider using one of ttyui, basic, quiet, syslog, "   \
    "machineui, blinkenlights\n"
#define BANNER_8                                                                                   \
    "OfflineIMAP 8.0.0\n  Licensed under the GNU GPL v2 or any later version (with an OpenSSL "    \
    "exception)\n"
#define BL_FALLBACK                                                                                \
    "WARNING:root:The blinkenlights interface needs a terminal, and standard output is not "       \
    "one. Using ttyui instead.\n"
#define ENV_LINE "imaplib2 v3.05, Python v3.11.2, OpenSSL 3.0.19 27 Jan 2026"

static void test_names(void)
{
    static const struct {
        const char *name;
        int kind; /* -1: error */
        const char *canonical, *err_out, *error;
    } t[] = {
        {NULL, UI_KIND_TTY, "ttyui", "", NULL},
        {"ttyui", UI_KIND_TTY, "ttyui", "", NULL},
        {"TTYUI", UI_KIND_TTY, "ttyui", "", NULL},
        {"Basic", UI_KIND_BASIC, "basic", "", NULL},
        {"quiet", UI_KIND_QUIET, "quiet", "", NULL},
        {"MachineUI", UI_KIND_MACHINE, "machineui", "", NULL},
        {"TTY.TTYUI", UI_KIND_TTY, "ttyui", OLD_NAME_WARNING, NULL},
        {"Noninteractive.Basic", UI_KIND_BASIC, "basic", OLD_NAME_WARNING, NULL},
        {"Noninteractive.Quiet", UI_KIND_QUIET, "quiet", OLD_NAME_WARNING, NULL},
        {"Machine.MachineUI", UI_KIND_MACHINE, "machineui", OLD_NAME_WARNING, NULL},
        /* Not on a terminal here (a memory stream): ttyui instead, with a warning. */
        {"blinkenlights", UI_KIND_TTY, "ttyui", BL_FALLBACK, NULL},
        {"Curses.Blinkenlights", UI_KIND_TTY, "ttyui", OLD_NAME_WARNING BL_FALLBACK, NULL},
        {"Tk.Blinkenlights", UI_KIND_TTY, "ttyui", OLD_NAME_WARNING BL_FALLBACK, NULL},
        {"bogus", -1, NULL, "",
         "UI 'bogus' does not exist, choose one of: ttyui, basic, quiet, syslog, machineui, "
         "blinkenlights"},
        {"Tk.VerboseUI", -1, NULL, OLD_NAME_WARNING,
         "UI 'VerboseUI' does not exist, choose one of: ttyui, basic, quiet, syslog, machineui, "
         "blinkenlights"},
        {"TTY.", -1, NULL, OLD_NAME_WARNING,
         "UI '' does not exist, choose one of: ttyui, basic, quiet, syslog, machineui, "
         "blinkenlights"},
        {"", -1, NULL, "",
         "UI '' does not exist, choose one of: ttyui, basic, quiet, syslog, machineui, "
         "blinkenlights"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char title[80];
        snprintf(title, sizeof(title), "ui name '%s'", t[i].name ? t[i].name : "(null)");
        test_begin(title);
        struct cap c;
        cap_open(&c);
        struct err e = ERR_INIT;
        struct ui *ui = ui_new(t[i].name, &(struct ui_opts){.out = c.out, .err = c.err}, &e);
        if (t[i].kind < 0) {
            test_assert(ui == NULL);
            test_assert_streq(e.msg, t[i].error);
            test_assert(e.scope == ERR_CRITICAL);
        } else {
            test_assert(ui != NULL && !err_isset(&e));
            if (ui) {
                test_assert_inteq(ui_kind(ui), t[i].kind);
                test_assert_streq(ui_name(ui), t[i].canonical);
            }
        }
        test_assert_streq(cap_err(&c), t[i].err_out);
        test_assert_streq(cap_out(&c), "");
        err_clear(&e);
        ui_free(&ui);
        test_assert(ui == NULL);
        cap_close(&c);
        test_end();
    }
}

static void reg(struct ui *ui, const char *thr)
{
    EV(ui, .type = EV_THREAD_START, .thread = thr, .account = "Test");
}

static void list(struct ui *ui, const char *thr, enum ev_type type, const char *rtype,
                 const char *folder, int64_t count)
{
    EV(ui, .type = type, .thread = thr, .repo_type = rtype, .folder = folder, .count = count);
}

static void msgs(struct ui *ui, const char *thr, const char *from, const char *to,
                 const char *folder)
{
    EV(ui, .type = EV_SYNCING_MESSAGES, .thread = thr, .repo_type = from, .folder = folder,
       .dst_type = to, .dst_folder = folder);
}

static void hook_events(struct ui *ui)
{
    EV(ui, .type = EV_CALLING_HOOK, .thread = A, .text = "echo hookout; echo hookerr >&2");
    EV(ui, .type = EV_HOOK_OUTPUT, .thread = A,
       .text = "Hook stdout: hookout\n\nHook stderr:hookerr\n\n");
    EV(ui, .type = EV_HOOK_OUTPUT, .thread = A, .text = "Hook return code: 0");
    EV(ui, .type = EV_ACCOUNT_DONE, .thread = A, .account = "Test", .num = 0);
}

/* offlineimap3 8.0.0, "-u ttyui -d thread", a sync with nothing to do (stderr). */
static const char real_tty_debug[] =
    BANNER_8 ENV_LINE "\n"
                      "Now debugging for thread: Threading debugging\n"
                      "Now debugging for : Other offlineimap related sync messages\n"
                      "Account sync Test:\n"
                      " [thread]: Register new thread 'Account sync Test' (account 'Test')\n"
                      " *** Processing account Test\n"
                      " Establishing connection to 127.0.0.1:11843 (Remote)\n"
                      " []: Copying folder structure from Remote to Local\n"
                      "Folder INBOX [acc: Test]:\n"
                      " [thread]: Register new thread 'Folder INBOX [acc: Test]' (account 'Test')\n"
                      " Syncing INBOX: IMAP -> Maildir\n"
                      " Loading message list for Maildir[INBOX]\n"
                      " Message list for Maildir[INBOX] loaded: 3 messages\n"
                      "Folder Sub [acc: Test]:\n"
                      " [thread]: Register new thread 'Folder Sub [acc: Test]' (account 'Test')\n"
                      " Syncing Sub: IMAP -> Maildir\n"
                      " Loading message list for Maildir[Sub]\n"
                      " Message list for Maildir[Sub] loaded: 1 messages\n"
                      "Folder INBOX [acc: Test]:\n"
                      " Loading message list for IMAP[INBOX]\n"
                      " Message list for IMAP[INBOX] loaded: 3 messages\n"
                      " Syncing messages IMAP[INBOX] -> Maildir[INBOX]\n"
                      " Syncing messages Maildir[INBOX] -> IMAP[INBOX]\n"
                      "Folder Sub [acc: Test]:\n"
                      " Loading message list for IMAP[Sub]\n"
                      "[thread]: Unregister thread 'Folder INBOX [acc: Test]'\n"
                      " Message list for IMAP[Sub] loaded: 1 messages\n"
                      " Syncing messages IMAP[Sub] -> Maildir[Sub]\n"
                      " Syncing messages Maildir[Sub] -> IMAP[Sub]\n"
                      "[thread]: Unregister thread 'Folder Sub [acc: Test]'\n"
                      "Account sync Test:\n"
                      " Calling hook: echo hookout; echo hookerr >&2\n"
                      " Hook stdout: hookout\n"
                      "\n"
                      "Hook stderr:hookerr\n"
                      "\n"
                      "\n"
                      " Hook return code: 0\n"
                      " *** Finished account 'Test' in 0:00\n"
                      "[thread]: Unregister thread 'Account sync Test'\n";

static void test_tty_real_debug_run(void)
{
    test_begin("ttyui: a whole run with -d thread, as offlineimap3 printed it");
    struct cap c;
    cap_open(&c);
    struct ui *ui = cap_ui(&c, "ttyui",
                           &(struct ui_opts){.version = "8.0.0", .debug = LOGC_THREAD | LOGC_SYNC});
    ui_banner(ui, ENV_LINE);
    ui_debugging(ui, "thread");
    ui_debugging(ui, "");
    reg(ui, A);
    EV(ui, .type = EV_ACCOUNT_START, .thread = A, .account = "Test");
    EV(ui, .type = EV_CONNECTING, .thread = A, .host = "127.0.0.1", .port = 11843,
       .repo = "Remote");
    EV(ui, .type = EV_SYNC_FOLDERS, .thread = A, .repo = "Remote", .dst_repo = "Local",
       .repo_type = "IMAP", .dst_type = "Maildir");
    reg(ui, FI);
    EV(ui, .type = EV_SYNCING_FOLDER, .thread = FI, .folder = "INBOX", .repo_type = "IMAP",
       .dst_type = "Maildir", .dst_folder = "INBOX");
    list(ui, FI, EV_LOAD_MSGLIST, "Maildir", "INBOX", 0);
    list(ui, FI, EV_MSGLIST_LOADED, "Maildir", "INBOX", 3);
    reg(ui, FS);
    EV(ui, .type = EV_SYNCING_FOLDER, .thread = FS, .folder = "Sub", .repo_type = "IMAP",
       .dst_type = "Maildir", .dst_folder = "Sub");
    list(ui, FS, EV_LOAD_MSGLIST, "Maildir", "Sub", 0);
    list(ui, FS, EV_MSGLIST_LOADED, "Maildir", "Sub", 1);
    list(ui, FI, EV_LOAD_MSGLIST, "IMAP", "INBOX", 0);
    list(ui, FI, EV_MSGLIST_LOADED, "IMAP", "INBOX", 3);
    msgs(ui, FI, "IMAP", "Maildir", "INBOX");
    msgs(ui, FI, "Maildir", "IMAP", "INBOX");
    list(ui, FS, EV_LOAD_MSGLIST, "IMAP", "Sub", 0);
    EV(ui, .type = EV_THREAD_EXIT, .thread = M, .text = FI);
    list(ui, FS, EV_MSGLIST_LOADED, "IMAP", "Sub", 1);
    msgs(ui, FS, "IMAP", "Maildir", "Sub");
    msgs(ui, FS, "Maildir", "IMAP", "Sub");
    EV(ui, .type = EV_THREAD_EXIT, .thread = M, .text = FS);
    hook_events(ui);
    EV(ui, .type = EV_THREAD_EXIT, .thread = M, .text = A);
    test_assert_inteq(ui_terminate(ui, 0, NULL, NULL), 0);
    test_assert_streq(cap_err(&c), real_tty_debug);
    test_assert_streq(cap_out(&c), "");
    ui_free(&ui);
    cap_close(&c);
    test_end();
}

/* Replays the run that copied one message up, deleted one and changed flags. */
static void changes_run(struct ui *ui)
{
    ui_banner(ui, ENV_LINE);
    reg(ui, A);
    EV(ui, .type = EV_ACCOUNT_START, .thread = A, .account = "Test");
    EV(ui, .type = EV_CONNECTING, .thread = A, .host = "127.0.0.1", .port = 11843,
       .repo = "Remote");
    EV(ui, .type = EV_SYNC_FOLDERS, .thread = A, .repo = "Remote", .dst_repo = "Local");
    reg(ui, FI);
    EV(ui, .type = EV_SYNCING_FOLDER, .thread = FI, .folder = "INBOX", .repo_type = "IMAP",
       .dst_type = "Maildir");
    reg(ui, FS);
    EV(ui, .type = EV_SYNCING_FOLDER, .thread = FS, .folder = "Sub", .repo_type = "IMAP",
       .dst_type = "Maildir");
    list(ui, FS, EV_LOAD_MSGLIST, "Maildir", "Sub", 0);
    EV(ui, .type = EV_COPYING_MESSAGE, .thread = FI, .uid = -1, .num = 1, .total = 1,
       .repo = "Local", .folder = "INBOX", .dst_repo = "Remote", .dst_folder = "INBOX");
    EV(ui, .type = EV_DELETING_MESSAGES, .thread = FI, .count = 1, .uids = "1", .dst_type = "IMAP",
       .dst_folder = "INBOX");
    EV(ui, .type = EV_ADDING_FLAGS, .thread = FI, .flags = "F", .count = 1, .uids = "3",
       .dst_folder = "INBOX");
    EV(ui, .type = EV_ADDING_FLAGS, .thread = FI, .flags = "S", .count = 1, .uids = "3",
       .dst_folder = "INBOX");
    EV(ui, .type = EV_THREAD_EXIT, .thread = M, .text = FI);
    EV(ui, .type = EV_THREAD_EXIT, .thread = M, .text = FS);
    hook_events(ui);
    EV(ui, .type = EV_THREAD_EXIT, .thread = M, .text = A);
}

/* offlineimap3 8.0.0, "-u ttyui -l FILE", stderr. */
static const char real_tty_changes[] =
    BANNER_8 ENV_LINE "\n"
                      "Account sync Test:\n"
                      " *** Processing account Test\n"
                      " Establishing connection to 127.0.0.1:11843 (Remote)\n"
                      "Folder INBOX [acc: Test]:\n"
                      " Syncing INBOX: IMAP -> Maildir\n"
                      "Folder Sub [acc: Test]:\n"
                      " Syncing Sub: IMAP -> Maildir\n"
                      "Folder INBOX [acc: Test]:\n"
                      " Copy message UID -1 (1/1) Local:INBOX -> Remote:INBOX\n"
                      " Deleting 1 messages (1) in IMAP[INBOX]\n"
                      " Adding flag F to 1 messages on INBOX\n"
                      " Adding flag S to 1 messages on INBOX\n"
                      "Account sync Test:\n"
                      " Calling hook: echo hookout; echo hookerr >&2\n"
                      " Hook stdout: hookout\n"
                      "\n"
                      "Hook stderr:hookerr\n"
                      "\n"
                      "\n"
                      " Hook return code: 0\n"
                      " *** Finished account 'Test' in 0:00\n";

/* The same run's log file, with the time stamps replaced by "TS". */
static const char real_logfile[] =
    "TS INFO: OfflineImap 8.0.0 starting...\n"
    "  Python: 3.11.2 Platform: linux\n"
    "  Args: /usr/bin/offlineimap -c rc -u ttyui -o -l t.log\n"
    "TS INFO: " ENV_LINE "\n"
    "TS INFO: *** Processing account Test\n"
    "TS INFO: Establishing connection to 127.0.0.1:11843 (Remote)\n"
    "TS INFO: Syncing INBOX: IMAP -> Maildir\n"
    "TS INFO: Syncing Sub: IMAP -> Maildir\n"
    "TS INFO: Copy message UID -1 (1/1) Local:INBOX -> Remote:INBOX\n"
    "TS INFO: Deleting 1 messages (1) in IMAP[INBOX]\n"
    "TS INFO: Adding flag F to 1 messages on INBOX\n"
    "TS INFO: Adding flag S to 1 messages on INBOX\n"
    "TS INFO: Calling hook: echo hookout; echo hookerr >&2\n"
    "TS INFO: Hook stdout: hookout\n"
    "\n"
    "Hook stderr:hookerr\n"
    "\n"
    "\n"
    "TS INFO: Hook return code: 0\n"
    "TS INFO: *** Finished account 'Test' in 0:00\n";

static bool is_stamp(const char *p)
{
    static const char shape[] = "dddd-dd-dd dd:dd:dd ";
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? (p[i] < '0' || p[i] > '9') : p[i] != shape[i])
            return false;
    }
    return true;
}

/* Replace each "YYYY-MM-DD HH:MM:SS " at a line start with "TS ". */
static char *mask_stamps(const char *s)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    bool line_start = true;
    while (*s) {
        if (line_start && is_stamp(s)) {
            buf_append_str(&b, "TS ");
            s += 20;
        }
        line_start = *s == '\n';
        buf_append_char(&b, *s++);
    }
    return buf_detach(&b, NULL);
}

static char *const real_argv[] = {
    "/usr/bin/offlineimap", "-c", "rc", "-u", "ttyui", "-o", "-l", "t.log"};

static void test_tty_real_changes_run(void)
{
    test_begin("ttyui: copy, delete and flags with -l, as offlineimap3 printed and logged");
    char *log = xasprintf("%s/tty.log", test_tmpdir());
    struct cap c;
    cap_open(&c);
    struct ui *ui = cap_ui(&c, "TTYUI",
                           &(struct ui_opts){.version = "8.0.0",
                                             .logfile = log,
                                             .python_version = "3.11.2",
                                             .argc = 8,
                                             .argv = real_argv});
    changes_run(ui);
    test_assert_inteq(ui_terminate(ui, 0, NULL, NULL), 0);
    ui_free(&ui);
    test_assert_streq(cap_err(&c), real_tty_changes);
    test_assert_streq(cap_out(&c), "");
    char *raw = slurp(log), *masked = mask_stamps(raw);
    test_assert_streq(masked, real_logfile);
    free(raw);
    free(masked);
    cap_close(&c);
    test_end();

    test_begin("log file: appended to, header again, quiet's level applies");
    cap_open(&c);
    ui = cap_ui(&c, "quiet", &(struct ui_opts){.version = "1.2", .logfile = log});
    ui_banner(ui, NULL);
    EV(ui, .type = EV_ACCOUNT_START, .thread = A, .account = "X");
    EV(ui, .type = EV_LOG, .level = LOG_WARN, .thread = A, .text = "w");
    EV(ui, .type = EV_LOG, .level = LOG_ERROR, .thread = A, .text = "e");
    test_assert_inteq(ui_terminate(ui, 0, NULL, NULL), 1);
    ui_free(&ui);
    raw = slurp(log);
    masked = mask_stamps(raw);
    char *want = xasprintf("%s"
                           "TS INFO: OfflineImap 1.2 starting...\n"
                           "  Python: none Platform: linux\n"
                           "  Args: \n"
                           "TS WARNING: w\n"
                           "TS ERROR: ERROR: e\n"
                           "TS WARNING: ERROR: Exceptions occurred during the run!\n"
                           "TS WARNING: ERROR: e\n",
                           real_logfile);
    test_assert_streq(masked, want);
    test_assert_streq(cap_out(&c), "w\nERROR: e\nERROR: Exceptions occurred during the run!\n"
                                   "ERROR: e\n");
    free(want);
    free(raw);
    free(masked);
    cap_close(&c);
    test_end();

    test_begin("log file: an unwritable path is an error");
    struct err e = ERR_INIT;
    ui = ui_new("basic", &(struct ui_opts){.logfile = "/nonexistent/dir/x.log"}, &e);
    test_assert(ui == NULL);
    test_assert_streq(e.msg, "Cannot open the log file '/nonexistent/dir/x.log': No such file or "
                             "directory.");
    err_clear(&e);
    free(log);
    test_end();
}

static void test_basic_and_quiet_runs(void)
{
    test_begin("basic: the same run, bare lines on stdout");
    struct cap c;
    cap_open(&c);
    struct ui *ui = cap_ui(&c, "basic", &(struct ui_opts){.version = "8.0.0"});
    changes_run(ui);
    test_assert_streq(cap_out(&c),
                      BANNER_8 ENV_LINE "\n"
                                        "*** Processing account Test\n"
                                        "Establishing connection to 127.0.0.1:11843 (Remote)\n"
                                        "Syncing INBOX: IMAP -> Maildir\n"
                                        "Syncing Sub: IMAP -> Maildir\n"
                                        "Copy message UID -1 (1/1) Local:INBOX -> Remote:INBOX\n"
                                        "Deleting 1 messages (1) in IMAP[INBOX]\n"
                                        "Adding flag F to 1 messages on INBOX\n"
                                        "Adding flag S to 1 messages on INBOX\n"
                                        "Calling hook: echo hookout; echo hookerr >&2\n"
                                        "Hook stdout: hookout\n\nHook stderr:hookerr\n\n\n"
                                        "Hook return code: 0\n"
                                        "*** Finished account 'Test' in 0:00\n");
    test_assert_streq(cap_err(&c), "");
    ui_free(&ui);
    cap_close(&c);
    test_end();

    test_begin("quiet: nothing from a run without problems");
    cap_open(&c);
    ui = cap_ui(&c, "quiet", NULL);
    changes_run(ui);
    test_assert_inteq(ui_terminate(ui, 0, NULL, NULL), 0);
    test_assert_streq(cap_out(&c), "");
    test_assert_streq(cap_err(&c), "");
    ui_free(&ui);
    cap_close(&c);
    test_end();

    test_begin("quiet: -d lowers the level to DEBUG, but not for the banner and info line");
    cap_open(&c);
    ui = cap_ui(&c, "quiet", &(struct ui_opts){.debug = LOGC_SYNC});
    ui_banner(ui, ENV_LINE);
    EV(ui, .type = EV_SKIPPING_FOLDER, .thread = FI, .folder = "INBOX");
    list(ui, FI, EV_LOAD_MSGLIST, "IMAP", "INBOX", 0);
    test_assert_streq(cap_out(&c), "Skipping INBOX (not changed)\n"
                                   "Loading message list for IMAP[INBOX]\n");
    ui_free(&ui);
    cap_close(&c);
    test_end();
}

/* One event each on a fresh basic (and ttyui, same text); expected from UIBase.py. */
static void test_text_events(void)
{
    static const struct {
        const char *name;
        struct log_event ev;
        unsigned debug;
        bool dry_run;
        const char *basic, *tty;
    } t[] = {
        {"finished account after 1:05",
         {.type = EV_ACCOUNT_DONE, .account = "P", .num = 65},
         0,
         false,
         "*** Finished account 'P' in 1:05\n",
         NULL},
        {"finished account after 61:40",
         {.type = EV_ACCOUNT_DONE, .account = "P", .num = 3700},
         0,
         false,
         "*** Finished account 'P' in 61:40\n",
         NULL},
        {"connecting without a host",
         {.type = EV_CONNECTING, .repo = "R"},
         0,
         false,
         "Establishing connection (R)\n",
         NULL},
        {"connecting without a port",
         {.type = EV_CONNECTING, .host = "h", .repo = "R"},
         0,
         false,
         "Establishing connection to h: (R)\n",
         NULL},
        {"connecting through a tunnel",
         {.type = EV_CONNECTING, .host = "tunnel", .text = "ssh -q h imapd", .repo = "R"},
         0,
         false,
         "Establishing connection to tunnel:ssh -q h imapd (R)\n",
         NULL},
        {"creating a folder",
         {.type = EV_CREATING_FOLDER, .repo = "Local", .folder = "A.B"},
         0,
         false,
         "Creating folder A.B[Local]\n",
         NULL},
        {"creating a folder in a dry run",
         {.type = EV_CREATING_FOLDER, .repo = "Local", .folder = "A.B"},
         0,
         true,
         "[DRYRUN] Creating folder A.B[Local]\n",
         NULL},
        {"deleting messages in a dry run",
         {.type = EV_DELETING_MESSAGES,
          .count = 4,
          .uids = "213268:213270,213272",
          .dst_type = "Maildir",
          .dst_folder = "INBOX"},
         0,
         true,
         "[DRYRUN] Deleting 4 messages (213268:213270,213272) in Maildir[INBOX]\n",
         NULL},
        {"hook in a dry run",
         {.type = EV_CALLING_HOOK, .text = "x"},
         0,
         true,
         "[DRYRUN] Calling hook: x\n",
         NULL},
        {"deleting two flags",
         {.type = EV_DELETING_FLAGS,
          .flags = "RS",
          .count = 2,
          .uids = "1:2",
          .dst_folder = "Sent"},
         0,
         false,
         "Deleting flag R, S from 2 messages on Sent\n",
         NULL},
        {"adding flag names",
         {.type = EV_ADDING_FLAGS,
          .flags = "$Label1 Junk",
          .count = 1,
          .uids = "1",
          .dst_folder = "F"},
         0,
         false,
         "Adding flag $Label1, Junk to 1 messages on F\n",
         NULL},
        {"validity problem",
         {.type = EV_VALIDITY_PROBLEM,
          .folder = "INBOX",
          .repo = "Remote",
          .saved = 1,
          .got = 1700000000},
         0,
         false,
         "UID validity problem for folder INBOX (repo Remote) (saved 1; got 1700000000); skipping "
         "it. Please see FAQ and manual on how to handle this.\n",
         NULL},
        {"new status db",
         {.type = EV_NEW_STATUS_DB, .repo = "Local", .folder = "INBOX"},
         0,
         false,
         "Creating new Local Status db for Local:INBOX\n",
         NULL},
        {"sleeping across a minute",
         {.type = EV_SLEEPING, .num = 10, .count = 1200},
         0,
         false,
         "",
         "Next refresh in 20.0 minutes\n"},
        {"sleeping across a minute, debug",
         {.type = EV_SLEEPING, .num = 10, .count = 1200},
         LOGC_SYNC,
         false,
         "Next refresh in 20.0 minutes\n",
         "Next refresh in 20.0 minutes\n"},
        {"sleeping within a minute",
         {.type = EV_SLEEPING, .num = 10, .count = 1190},
         0,
         false,
         "",
         ""},
        {"sleeping past zero (Python's floor division)",
         {.type = EV_SLEEPING, .num = 10, .count = 5},
         0,
         false,
         "",
         "Next refresh in 0.1 minutes\n"},
        {"sleeping rounds like %.1f",
         {.type = EV_SLEEPING, .num = 10, .count = 183},
         0,
         false,
         "",
         "Next refresh in 3.0 minutes\n"},
        {"done sleeping", {.type = EV_SLEEPING, .num = 0, .count = 0}, 0, false, "", ""},
        {"message list is debug output",
         {.type = EV_MSGLIST_LOADED, .repo_type = "IMAP", .folder = "X", .count = 2},
         0,
         false,
         "",
         ""},
        {"folder structure with debug, category '' off",
         {.type = EV_SYNC_FOLDERS, .repo = "R", .dst_repo = "L"},
         LOGC_IMAP,
         false,
         "",
         ""},
        {"debug text in an enabled category",
         {.type = EV_LOG, .level = LOG_DEBUG, .cat = LOGC_MAILDIR, .text = "m"},
         LOGC_MAILDIR,
         false,
         "[maildir]: m\n",
         NULL},
        {"debug text in a disabled category",
         {.type = EV_LOG, .level = LOG_DEBUG, .cat = LOGC_IMAP, .text = "m"},
         LOGC_MAILDIR,
         false,
         "",
         ""},
        {"warnings are bare",
         {.type = EV_LOG, .level = LOG_WARN, .text = "careful"},
         0,
         false,
         "careful\n",
         NULL},
        {"errors are prefixed",
         {.type = EV_LOG, .level = LOG_ERROR, .text = "bad\n  why"},
         0,
         false,
         "ERROR: bad\n  why\n",
         NULL},
        {"thread start without debug",
         {.type = EV_THREAD_START, .account = "A"},
         LOGC_IMAP,
         false,
         "",
         ""},
        {"progress",
         {.type = EV_PROGRESS, .folder = "F", .num = 1, .total = 9},
         LOGC_ALL,
         false,
         "",
         ""},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        test_begin(t[i].name);
        for (int tty = 0; tty < 2; tty++) {
            struct cap c;
            cap_open(&c);
            struct ui *ui = cap_ui(&c, tty ? "ttyui" : "basic",
                                   &(struct ui_opts){.debug = t[i].debug, .dry_run = t[i].dry_run});
            struct log_event ev = t[i].ev;
            ev.thread = M;
            ui_event(ui, &ev);
            const char *want = tty && t[i].tty ? t[i].tty : t[i].basic;
            test_assert_streq(tty ? cap_err(&c) : cap_out(&c), want);
            test_assert_streq(tty ? cap_out(&c) : cap_err(&c), "");
            ui_free(&ui);
            cap_close(&c);
        }
        test_end();
    }
}

static void test_thread_registry(void)
{
    test_begin("thread debug: new, again with another account, unregister");
    struct cap c;
    cap_open(&c);
    struct ui *ui = cap_ui(&c, "basic", &(struct ui_opts){.debug = LOGC_THREAD});
    EV(ui, .type = EV_THREAD_START, .thread = "T", .account = "A");
    EV(ui, .type = EV_THREAD_START, .thread = "T", .account = "B");
    EV(ui, .type = EV_THREAD_EXIT, .thread = "T");
    EV(ui, .type = EV_THREAD_START, .thread = "T", .account = "C");
    test_assert_streq(cap_out(&c), "[thread]: Register new thread 'T' (account 'A')\n"
                                   "[thread]: Register thread 'T' (previously 'A', now 'B')\n"
                                   "[thread]: Unregister thread 'T'\n"
                                   "[thread]: Register new thread 'T' (account 'C')\n");
    ui_free(&ui);
    cap_close(&c);
    test_end();

    test_begin("debugging announcements and invalid types");
    cap_open(&c);
    ui = cap_ui(&c, "basic", &(struct ui_opts){.debug = LOGC_ALL});
    ui_debugging(ui, "imap");
    ui_debugging(ui, "maildir");
    ui_debugging(ui, "imap");
    ui_debugging(ui, "sync");
    ui_debugging(ui, "");
    ui_display(ui, "Debug mode: Forcing to singlethreaded.");
    test_assert_streq(cap_out(&c), "Now debugging for imap: IMAP protocol debugging\n"
                                   "Now debugging for maildir: Maildir repository debugging\n"
                                   "Invalid debug type: sync\n"
                                   "Now debugging for : Other offlineimap related sync messages\n"
                                   "Debug mode: Forcing to singlethreaded.\n");
    ui_free(&ui);
    cap_close(&c);
    test_end();
}

static void test_terminate(void)
{
    static const struct {
        const char *name;
        int errors, uidval, status;
        const char *title, *msg;
        int exit;
        const char *out;
    } t[] = {
        {"terminate: clean", 0, 0, 0, NULL, NULL, 0, ""},
        {"terminate: UID validity only", 0, 1, 0, NULL, NULL, 2,
         "At least one folder skipped due to UID validity problem\n"},
        {"terminate: errors and UID validity", 2, 1, 0, NULL, NULL, 1,
         "ERROR: Exceptions occurred during the run!\nERROR: e0\nERROR: e1\n"
         "At least one folder skipped due to UID validity problem\n"},
        {"terminate: message without title", 1, 0, 1, NULL, "No accounts are defined!", 1,
         "ERROR: Exceptions occurred during the run!\nERROR: e0\nNo accounts are defined!\n\n"},
        {"terminate: title and message", 0, 0, 3, "T", "M", 3, "ERROR: T\n\nM\n\n"},
        {"terminate: title alone is not shown", 0, 0, 0, "T", "", 0, ""},
        {"terminate: a caller's status wins", 1, 1, 100, NULL, NULL, 100,
         "ERROR: Exceptions occurred during the run!\nERROR: e0\n"
         "At least one folder skipped due to UID validity problem\n"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        test_begin(t[i].name);
        struct cap c;
        cap_open(&c);
        struct ui *ui = cap_ui(&c, "ttyui", NULL);
        for (int k = 0; k < t[i].errors; k++) {
            char text[16];
            snprintf(text, sizeof(text), "e%d", k);
            EV(ui, .type = EV_LOG, .level = LOG_ERROR, .thread = FI, .text = text);
        }
        for (int k = 0; k < t[i].uidval; k++)
            EV(ui, .type = EV_VALIDITY_PROBLEM, .thread = FI, .folder = "F", .repo = "R");
        size_t before = strlen(cap_err(&c));
        test_assert_inteq(ui_exit_status(ui, t[i].status), t[i].exit);
        test_assert_inteq(ui_error_count(ui), t[i].errors);
        test_assert_inteq(ui_terminate(ui, t[i].status, t[i].title, t[i].msg), t[i].exit);
        /* The summary comes from MainThread: no header, no indent. */
        test_assert_streq(cap_err(&c) + before, t[i].out);
        ui_free(&ui);
        cap_close(&c);
        test_end();
    }
}

static void test_password_refused(void)
{
    static const char *const names[] = {"basic", "quiet", "syslog"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char title[64];
        snprintf(title, sizeof(title), "password: %s refuses to prompt", names[i]);
        test_begin(title);
        char *log = xasprintf("%s/dev-log", test_tmpdir());
        int fd = -1;
        if (strcmp(names[i], "syslog") == 0) {
            /* A socket for the syslog interface to connect to. */
            fd = socket(AF_UNIX, SOCK_DGRAM, 0);
            struct sockaddr_un sa = {.sun_family = AF_UNIX};
            snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", log);
            unlink(log);
            test_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
        }
        struct cap c;
        cap_open(&c);
        struct ui *ui = cap_ui(&c, names[i], &(struct ui_opts){.syslog_path = log});
        struct err e = ERR_INIT;
        char *pw = (char *)"untouched";
        test_assert(!ui_get_password(ui, "Test", "imap.example.org", "me", NULL, &pw, &e));
        test_assert(pw == NULL);
        test_assert_streq(e.msg, "Prompting for a password is not supported in this UI backend.");
        test_assert_streq(cap_out(&c), "");
        test_assert_streq(cap_err(&c), "");
        err_clear(&e);
        ui_free(&ui);
        cap_close(&c);
        if (fd >= 0)
            close(fd);
        free(log);
        test_end();
    }
}

int main(void)
{
    test_names();
    test_tty_real_debug_run();
    test_tty_real_changes_run();
    test_basic_and_quiet_runs();
    test_text_events();
    test_thread_registry();
    test_terminate();
    test_password_refused();
    return test_done();
}
