/*
 * Tests for machineui and the syslog output: the quote_plus encoder over
 * every byte, a whole run compared with what the real offlineimap3 printed
 * for the same sync, the payload of every event type, password lines, and
 * the datagrams syslog receives.
 */
#include "ui/ui_internal.h"
#include "ui/ui_testutil.h"

#include "base/xalloc.h"
#include "testlib/test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* urllib.parse.quote_plus(bytes([b])) for b in range(256), from Python 3.11. */
// clang-format off
static const char *const quote_table[256] = {
    "%00", "%01", "%02", "%03", "%04", "%05", "%06", "%07",
    "%08", "%09", "%0A", "%0B", "%0C", "%0D", "%0E", "%0F",
    "%10", "%11", "%12", "%13", "%14", "%15", "%16", "%17",
    "%18", "%19", "%1A", "%1B", "%1C", "%1D", "%1E", "%1F",
    "+", "%21", "%22", "%23", "%24", "%25", "%26", "%27",
    "%28", "%29", "%2A", "%2B", "%2C", "-", ".", "%2F",
    "0", "1", "2", "3", "4", "5", "6", "7",
    "8", "9", "%3A", "%3B", "%3C", "%3D", "%3E", "%3F",
    "%40", "A", "B", "C", "D", "E", "F", "G",
    "H", "I", "J", "K", "L", "M", "N", "O",
    "P", "Q", "R", "S", "T", "U", "V", "W",
    "X", "Y", "Z", "%5B", "%5C", "%5D", "%5E", "_",
    "%60", "a", "b", "c", "d", "e", "f", "g",
    "h", "i", "j", "k", "l", "m", "n", "o",
    "p", "q", "r", "s", "t", "u", "v", "w",
    "x", "y", "z", "%7B", "%7C", "%7D", "~", "%7F",
    "%80", "%81", "%82", "%83", "%84", "%85", "%86", "%87",
    "%88", "%89", "%8A", "%8B", "%8C", "%8D", "%8E", "%8F",
    "%90", "%91", "%92", "%93", "%94", "%95", "%96", "%97",
    "%98", "%99", "%9A", "%9B", "%9C", "%9D", "%9E", "%9F",
    "%A0", "%A1", "%A2", "%A3", "%A4", "%A5", "%A6", "%A7",
    "%A8", "%A9", "%AA", "%AB", "%AC", "%AD", "%AE", "%AF",
    "%B0", "%B1", "%B2", "%B3", "%B4", "%B5", "%B6", "%B7",
    "%B8", "%B9", "%BA", "%BB", "%BC", "%BD", "%BE", "%BF",
    "%C0", "%C1", "%C2", "%C3", "%C4", "%C5", "%C6", "%C7",
    "%C8", "%C9", "%CA", "%CB", "%CC", "%CD", "%CE", "%CF",
    "%D0", "%D1", "%D2", "%D3", "%D4", "%D5", "%D6", "%D7",
    "%D8", "%D9", "%DA", "%DB", "%DC", "%DD", "%DE", "%DF",
    "%E0", "%E1", "%E2", "%E3", "%E4", "%E5", "%E6", "%E7",
    "%E8", "%E9", "%EA", "%EB", "%EC", "%ED", "%EE", "%EF",
    "%F0", "%F1", "%F2", "%F3", "%F4", "%F5", "%F6", "%F7",
    "%F8", "%F9", "%FA", "%FB", "%FC", "%FD", "%FE", "%FF",
};
// clang-format on

static void test_quote_every_byte(void)
{
    test_begin("quote_plus: every byte value alone and all together");
    struct buf all, one;
    buf_init(&all, BUF_UNBOUNDED);
    buf_init(&one, BUF_UNBOUNDED);
    char bytes[256];
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        bytes[b] = c;
        buf_reset(&one);
        ui_quote_plus(&one, &c, 1);
        if (strcmp(one.data, quote_table[b]) != 0)
            test_fail_at(__FILE__, __LINE__, "byte 0x%02X: got \"%s\", expected \"%s\"", b,
                         one.data, quote_table[b]);
        buf_append_str(&all, quote_table[b]);
    }
    buf_reset(&one);
    ui_quote_plus(&one, bytes, sizeof(bytes));
    test_assert_streq(one.data, all.data);
    buf_release(&all);
    buf_release(&one);
    test_end();
}

static void test_quote_strings(void)
{
    /* urlencode([('', s)])[1:], printed by Python 3.11. */
    static const struct {
        const char *in, *out;
    } t[] = {
        {"Folder INBOX [acc: Test]", "Folder+INBOX+%5Bacc%3A+Test%5D"},
        {"a b\nc\fd\te", "a+b%0Ac%0Cd%09e"},
        {"caf\xc3\xa9 \xe2\x98\x83", "caf%C3%A9+%E2%98%83"},
        {"~_.-+%&=/?#", "~_.-%2B%25%26%3D%2F%3F%23"},
        {"", ""},
        {"  ", "++"},
    };
    test_begin("quote_plus: strings");
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct buf b;
        buf_init(&b, BUF_UNBOUNDED);
        ui_quote_plus(&b, t[i].in, strlen(t[i].in));
        test_assert_streq(b.data, t[i].out);
        buf_release(&b);
    }
    test_end();
}

#define A "Account sync Test"
#define FI "Folder INBOX [acc: Test]"
#define FS "Folder Sub [acc: Test]"
#define CI "Copy message from Remote:INBOX"
#define CS "Copy message from Remote:Sub"
#define M "MainThread"

static void copying(struct ui *ui, const char *thr, int64_t uid, const char *folder, int64_t n,
                    int64_t total)
{
    EV(ui, .type = EV_COPYING_MESSAGE, .thread = thr, .uid = uid, .num = n, .total = total,
       .repo = "Remote", .repo_type = "IMAP", .folder = folder, .dst_repo = "Local",
       .dst_type = "Maildir", .dst_folder = folder);
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

static void exited(struct ui *ui, const char *name)
{
    EV(ui, .type = EV_THREAD_EXIT, .thread = M, .text = name);
}

static void reg(struct ui *ui, const char *thr)
{
    EV(ui, .type = EV_THREAD_START, .thread = thr, .account = "Test");
}

/* What offlineimap3 8.0.0 printed with -u machineui for a first sync of two folders. */
static const char real_run[] =
    "OfflineIMAP 8.0.0\n"
    "  Licensed under the GNU GPL v2 or any later version (with an OpenSSL exception)\n"
    "msg:protocol:MainThread:7.2.0\n"
    "msg:initbanner:MainThread:OfflineIMAP+8.0.0%0A++Licensed+under+the+GNU+GPL+v2+or+any+later+"
    "version+%28with+an+OpenSSL+exception%29\n"
    "msg::MainThread:imaplib2+v3.05%2C+Python+v3.11.2%2C+OpenSSL+3.0.19+27+Jan+2026\n"
    "msg:registerthread:Account+sync+Test:Test\n"
    "msg:acct:Account+sync+Test:Test\n"
    "msg:connecting:Account+sync+Test:127.0.0.1%0A11843%0ARemote\n"
    "msg::Account+sync+Test:Creating+folder+INBOX%5BLocal%5D\n"
    "msg:_display:Account+sync+Test:Creating+new+Local+Status+db+for+Local%3AINBOX\n"
    "msg::Account+sync+Test:Creating+folder+Sub%5BLocal%5D\n"
    "msg:_display:Account+sync+Test:Creating+new+Local+Status+db+for+Local%3ASub\n"
    "msg:syncfolders:Account+sync+Test:IMAP%0AMaildir\n"
    "msg:registerthread:Folder+INBOX+%5Bacc%3A+Test%5D:Test\n"
    "msg:registerthread:Folder+Sub+%5Bacc%3A+Test%5D:Test\n"
    "msg:syncingfolder:Folder+INBOX+%5Bacc%3A+Test%5D:IMAP%0AINBOX%0AMaildir%0AINBOX%0A\n"
    "msg:loadmessagelist:Folder+INBOX+%5Bacc%3A+Test%5D:Maildir%0AINBOX\n"
    "msg:messagelistloaded:Folder+INBOX+%5Bacc%3A+Test%5D:Maildir%0AINBOX%0A0\n"
    "msg:syncingfolder:Folder+Sub+%5Bacc%3A+Test%5D:IMAP%0ASub%0AMaildir%0ASub%0A\n"
    "msg:loadmessagelist:Folder+Sub+%5Bacc%3A+Test%5D:Maildir%0ASub\n"
    "msg:messagelistloaded:Folder+Sub+%5Bacc%3A+Test%5D:Maildir%0ASub%0A0\n"
    "msg:loadmessagelist:Folder+INBOX+%5Bacc%3A+Test%5D:IMAP%0AINBOX\n"
    "msg:loadmessagelist:Folder+Sub+%5Bacc%3A+Test%5D:IMAP%0ASub\n"
    "msg:messagelistloaded:Folder+INBOX+%5Bacc%3A+Test%5D:IMAP%0AINBOX%0A3\n"
    "msg:syncingmessages:Folder+INBOX+%5Bacc%3A+Test%5D:IMAP%0AINBOX%0AMaildir%0AINBOX%0A\n"
    "msg:copyingmessage:Folder+INBOX+%5Bacc%3A+Test%5D:1%0AIMAP%0AINBOX%0AMaildir%5BINBOX%5D\n"
    "msg:messagelistloaded:Folder+Sub+%5Bacc%3A+Test%5D:IMAP%0ASub%0A1\n"
    "msg:syncingmessages:Folder+Sub+%5Bacc%3A+Test%5D:IMAP%0ASub%0AMaildir%0ASub%0A\n"
    "msg:copyingmessage:Folder+Sub+%5Bacc%3A+Test%5D:1%0AIMAP%0ASub%0AMaildir%5BSub%5D\n"
    "msg:registerthread:Copy+message+from+Remote%3AINBOX:Test\n"
    "msg:registerthread:Copy+message+from+Remote%3ASub:Test\n"
    "msg:copyingmessage:Folder+INBOX+%5Bacc%3A+Test%5D:2%0AIMAP%0AINBOX%0AMaildir%5BINBOX%5D\n"
    "msg:registerthread:Copy+message+from+Remote%3AINBOX:Test\n"
    "msg:threadExited:MainThread:Copy+message+from+Remote%3AINBOX\n"
    "msg:unregisterthread:MainThread:Copy+message+from+Remote%3AINBOX\n"
    "msg:copyingmessage:Folder+INBOX+%5Bacc%3A+Test%5D:3%0AIMAP%0AINBOX%0AMaildir%5BINBOX%5D\n"
    "msg:syncingmessages:Folder+Sub+%5Bacc%3A+Test%5D:Maildir%0ASub%0AIMAP%0ASub%0A\n"
    "msg:threadExited:MainThread:Copy+message+from+Remote%3ASub\n"
    "msg:unregisterthread:MainThread:Copy+message+from+Remote%3ASub\n"
    "msg:threadExited:MainThread:Folder+Sub+%5Bacc%3A+Test%5D\n"
    "msg:unregisterthread:MainThread:Folder+Sub+%5Bacc%3A+Test%5D\n"
    "msg:registerthread:Copy+message+from+Remote%3AINBOX:Test\n"
    "msg:threadExited:MainThread:Copy+message+from+Remote%3AINBOX\n"
    "msg:unregisterthread:MainThread:Copy+message+from+Remote%3AINBOX\n"
    "msg:syncingmessages:Folder+INBOX+%5Bacc%3A+Test%5D:Maildir%0AINBOX%0AIMAP%0AINBOX%0A\n"
    "msg:threadExited:MainThread:Copy+message+from+Remote%3AINBOX\n"
    "msg:unregisterthread:MainThread:Copy+message+from+Remote%3AINBOX\n"
    "msg:threadExited:MainThread:Folder+INBOX+%5Bacc%3A+Test%5D\n"
    "msg:unregisterthread:MainThread:Folder+INBOX+%5Bacc%3A+Test%5D\n"
    "msg:callhook:Account+sync+Test:Calling+hook%3A+echo+hookout%3B+echo+hookerr+%3E%262\n"
    "msg:callhook:Account+sync+Test:Hook+stdout%3A+hookout%0A%0AHook+stderr%3Ahookerr%0A%0A\n"
    "msg:callhook:Account+sync+Test:Hook+return+code%3A+0\n"
    "msg:acctdone:Account+sync+Test:Test\n"
    "msg:threadExited:MainThread:Account+sync+Test\n"
    "msg:unregisterthread:MainThread:Account+sync+Test\n"
    "msg:terminate:MainThread:0%0A%0A\n";

static void test_real_run(void)
{
    test_begin("machineui: a whole first sync, as offlineimap3 printed it");
    struct cap c;
    cap_open(&c);
    struct ui *ui = cap_ui(&c, "machineui", &(struct ui_opts){.version = "8.0.0"});
    ui_banner(ui, "imaplib2 v3.05, Python v3.11.2, OpenSSL 3.0.19 27 Jan 2026");
    reg(ui, A);
    EV(ui, .type = EV_ACCOUNT_START, .thread = A, .account = "Test");
    EV(ui, .type = EV_CONNECTING, .thread = A, .host = "127.0.0.1", .port = 11843,
       .repo = "Remote");
    EV(ui, .type = EV_CREATING_FOLDER, .thread = A, .repo = "Local", .folder = "INBOX");
    EV(ui, .type = EV_NEW_STATUS_DB, .thread = A, .repo = "Local", .folder = "INBOX");
    EV(ui, .type = EV_CREATING_FOLDER, .thread = A, .repo = "Local", .folder = "Sub");
    EV(ui, .type = EV_NEW_STATUS_DB, .thread = A, .repo = "Local", .folder = "Sub");
    EV(ui, .type = EV_SYNC_FOLDERS, .thread = A, .repo = "Remote", .dst_repo = "Local",
       .repo_type = "IMAP", .dst_type = "Maildir");
    reg(ui, FI);
    reg(ui, FS);
    EV(ui, .type = EV_SYNCING_FOLDER, .thread = FI, .folder = "INBOX", .repo_type = "IMAP",
       .dst_type = "Maildir", .dst_folder = "INBOX");
    list(ui, FI, EV_LOAD_MSGLIST, "Maildir", "INBOX", 0);
    list(ui, FI, EV_MSGLIST_LOADED, "Maildir", "INBOX", 0);
    EV(ui, .type = EV_SYNCING_FOLDER, .thread = FS, .folder = "Sub", .repo_type = "IMAP",
       .dst_type = "Maildir", .dst_folder = "Sub");
    list(ui, FS, EV_LOAD_MSGLIST, "Maildir", "Sub", 0);
    list(ui, FS, EV_MSGLIST_LOADED, "Maildir", "Sub", 0);
    list(ui, FI, EV_LOAD_MSGLIST, "IMAP", "INBOX", 0);
    list(ui, FS, EV_LOAD_MSGLIST, "IMAP", "Sub", 0);
    list(ui, FI, EV_MSGLIST_LOADED, "IMAP", "INBOX", 3);
    msgs(ui, FI, "IMAP", "Maildir", "INBOX");
    copying(ui, FI, 1, "INBOX", 1, 3);
    list(ui, FS, EV_MSGLIST_LOADED, "IMAP", "Sub", 1);
    msgs(ui, FS, "IMAP", "Maildir", "Sub");
    copying(ui, FS, 1, "Sub", 1, 1);
    reg(ui, CI);
    reg(ui, CS);
    copying(ui, FI, 2, "INBOX", 2, 3);
    reg(ui, CI);
    exited(ui, CI);
    copying(ui, FI, 3, "INBOX", 3, 3);
    msgs(ui, FS, "Maildir", "IMAP", "Sub");
    exited(ui, CS);
    exited(ui, FS);
    reg(ui, CI);
    exited(ui, CI);
    msgs(ui, FI, "Maildir", "IMAP", "INBOX");
    exited(ui, CI);
    exited(ui, FI);
    EV(ui, .type = EV_CALLING_HOOK, .thread = A, .text = "echo hookout; echo hookerr >&2");
    EV(ui, .type = EV_HOOK_OUTPUT, .thread = A,
       .text = "Hook stdout: hookout\n\nHook stderr:hookerr\n\n");
    EV(ui, .type = EV_HOOK_OUTPUT, .thread = A, .text = "Hook return code: 0");
    EV(ui, .type = EV_ACCOUNT_DONE, .thread = A, .account = "Test", .num = 0);
    exited(ui, A);
    test_assert_inteq(ui_terminate(ui, 0, NULL, NULL), 0);
    test_assert_streq(cap_out(&c), real_run);
    test_assert_streq(cap_err(&c), "");
    ui_free(&ui);
    cap_close(&c);
    test_end();
}

/* One event each, on a fresh machineui; expected lines derived from Machine.py. */
static void test_events(void)
{
    static const struct {
        const char *name;
        struct log_event ev;
        unsigned debug;
        bool dry_run;
        const char *out;
    } t[] = {
        {"copy from Maildir (REFERENCE example)",
         {.type = EV_COPYING_MESSAGE,
          .thread = FI,
          .uid = -1,
          .num = 1,
          .total = 1,
          .repo = "Local",
          .repo_type = "Maildir",
          .folder = "INBOX",
          .dst_repo = "Remote",
          .dst_type = "IMAP",
          .dst_folder = "INBOX"},
         0,
         false,
         "msg:copyingmessage:Folder+INBOX+%5Bacc%3A+Test%5D:-1%0AMaildir%0AINBOX%0AIMAP%5BINBOX%"
         "5D\n"},
        {"adding one flag (REFERENCE example)",
         {.type = EV_ADDING_FLAGS,
          .thread = FI,
          .flags = "F",
          .count = 1,
          .uids = "1",
          .dst_type = "IMAP",
          .dst_folder = "INBOX"},
         0,
         false,
         "msg:addingflags:Folder+INBOX+%5Bacc%3A+Test%5D:1%0AF%0AINBOX\n"},
        {"deleting two flags on a UID set",
         {.type = EV_DELETING_FLAGS,
          .thread = FI,
          .flags = "FS",
          .count = 4,
          .uids = "3:5,9",
          .dst_folder = "INBOX"},
         0,
         false,
         "msg:deletingflags:Folder+INBOX+%5Bacc%3A+Test%5D:3%0C4%0C5%0C9%0AF%0CS%0AINBOX\n"},
        {"flag names",
         {.type = EV_ADDING_FLAGS,
          .thread = M,
          .flags = "$Forwarded  Junk",
          .count = 1,
          .uids = "7",
          .dst_folder = "A b"},
         0,
         false,
         "msg:addingflags:MainThread:7%0A%24Forwarded%0CJunk%0AA+b\n"},
        {"deleting messages",
         {.type = EV_DELETING_MESSAGES,
          .thread = FI,
          .count = 3,
          .uids = "213268:213269,213272",
          .dst_type = "Maildir",
          .dst_folder = "INBOX"},
         0,
         true,
         "msg:deletingmessages:Folder+INBOX+%5Bacc%3A+Test%5D:213268%0C213269%0C213272%0AMaildir%"
         "09INBOX\n"},
        {"a UID set that is not one is shown as it is",
         {.type = EV_DELETING_MESSAGES,
          .thread = M,
          .count = 1,
          .uids = "1:x",
          .dst_type = "IMAP",
          .dst_folder = "F"},
         0,
         false,
         "msg:deletingmessages:MainThread:1%3Ax%0AIMAP%09F\n"},
        {"validity problem is a warning",
         {.type = EV_VALIDITY_PROBLEM,
          .thread = FI,
          .folder = "INBOX",
          .repo = "Remote",
          .saved = 1234,
          .got = 5678},
         0,
         false,
         "warn:validityproblem:Folder+INBOX+%5Bacc%3A+Test%5D:INBOX%0ARemote%0A1234%0A5678\n"},
        {"connecting through a tunnel",
         {.type = EV_CONNECTING,
          .thread = A,
          .host = "tunnel",
          .text = "ssh h imapd",
          .repo = "Remote"},
         0,
         false,
         "msg:connecting:Account+sync+Test:tunnel%0Assh+h+imapd%0ARemote\n"},
        {"sleeping",
         {.type = EV_SLEEPING, .thread = A, .num = 10, .count = 600},
         0,
         false,
         "msg:sleeping:Account+sync+Test:10%0A600\n"},
        {"done sleeping",
         {.type = EV_SLEEPING, .thread = A, .num = 0, .count = 0},
         0,
         false,
         "msg:sleeping:Account+sync+Test:0%0A0\n"},
        {"skipping a folder is a plain message",
         {.type = EV_SKIPPING_FOLDER, .thread = FI, .folder = "INBOX"},
         0,
         false,
         "msg::Folder+INBOX+%5Bacc%3A+Test%5D:Skipping+INBOX+%28not+changed%29\n"},
        {"creating a folder in a dry run",
         {.type = EV_CREATING_FOLDER, .thread = A, .folder = "Sub", .repo = "Local"},
         0,
         true,
         "msg::Account+sync+Test:%5BDRYRUN%5D+Creating+folder+Sub%5BLocal%5D\n"},
        {"hook in a dry run has no prefix",
         {.type = EV_CALLING_HOOK, .thread = A, .text = "true"},
         0,
         true,
         "msg:callhook:Account+sync+Test:Calling+hook%3A+true\n"},
        {"warning",
         {.type = EV_LOG, .level = LOG_WARN, .thread = M, .text = "w: x"},
         0,
         false,
         "warn::MainThread:w%3A+x\n"},
        {"error",
         {.type = EV_LOG, .level = LOG_ERROR, .thread = FS, .text = "bad\n  thing"},
         0,
         false,
         "error::Folder+Sub+%5Bacc%3A+Test%5D:ERROR%3A+bad%0A++thing\n"},
        {"debug off",
         {.type = EV_LOG, .level = LOG_DEBUG, .cat = LOGC_IMAP, .thread = M, .text = "x"},
         0,
         false,
         ""},
        {"debug on",
         {.type = EV_LOG, .level = LOG_DEBUG, .cat = LOGC_IMAP, .thread = M, .text = "x"},
         LOGC_IMAP,
         false,
         "debug::MainThread:%5Bimap%5D%3A+x\n"},
        {"register with thread debugging",
         {.type = EV_THREAD_START, .thread = A, .account = "Test"},
         LOGC_THREAD | LOGC_SYNC,
         false,
         "debug::Account+sync+Test:%5Bthread%5D%3A+Register+new+thread+%27Account+sync+Test%27+"
         "%28account+%27Test%27%29\n"
         "msg:registerthread:Account+sync+Test:Test\n"},
        {"exit with thread debugging",
         {.type = EV_THREAD_EXIT, .thread = M, .text = FS},
         LOGC_THREAD,
         false,
         "msg:threadExited:MainThread:Folder+Sub+%5Bacc%3A+Test%5D\n"
         "debug::MainThread:%5Bthread%5D%3A+Unregister+thread+%27Folder+Sub+%5Bacc%3A+Test%5D%27\n"
         "msg:unregisterthread:MainThread:Folder+Sub+%5Bacc%3A+Test%5D\n"},
        {"progress is not shown",
         {.type = EV_PROGRESS, .thread = M, .num = 1, .total = 2},
         0,
         false,
         ""},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        test_begin(t[i].name);
        struct cap c;
        cap_open(&c);
        struct ui *ui = cap_ui(&c, "MachineUI",
                               &(struct ui_opts){.debug = t[i].debug, .dry_run = t[i].dry_run});
        ui_event(ui, &t[i].ev);
        test_assert_streq(cap_out(&c), t[i].out);
        test_assert_streq(cap_err(&c), "");
        ui_free(&ui);
        cap_close(&c);
        test_end();
    }
}

static void test_terminate_and_misc(void)
{
    test_begin("machineui: errors, display, debugging, terminate");
    struct cap c;
    cap_open(&c);
    struct ui *ui = cap_ui(&c, "machineui", &(struct ui_opts){.debug = LOGC_IMAP | LOGC_SYNC});
    ui_display(ui, "Debug mode: Forcing to singlethreaded.");
    ui_debugging(ui, "imap");
    ui_debugging(ui, "imap");
    ui_debugging(ui, "");
    ui_debugging(ui, "sync");
    EV(ui, .type = EV_LOG, .level = LOG_ERROR, .thread = M,
       .text = "The account 'Nope' does not exist");
    EV(ui, .type = EV_VALIDITY_PROBLEM, .thread = FI, .folder = "INBOX", .repo = "Local",
       .saved = 1, .got = 2);
    test_assert_inteq(ui_error_count(ui), 1);
    test_assert_inteq(ui_uidvalidity_count(ui), 1);
    test_assert_inteq(ui_terminate(ui, 1, NULL, "No accounts are defined!"), 1);
    test_assert_streq(cap_out(&c),
                      "msg:_display:MainThread:Debug+mode%3A+Forcing+to+singlethreaded.\n"
                      "debug:debugging:MainThread:imap\n"
                      "debug:debugging:MainThread:\n"
                      "warn::MainThread:Invalid+debug+type%3A+sync\n"
                      "error::MainThread:ERROR%3A+The+account+%27Nope%27+does+not+exist\n"
                      "warn:validityproblem:Folder+INBOX+%5Bacc%3A+Test%5D:INBOX%0ALocal%0A1%0A2\n"
                      "msg:terminate:MainThread:1%0A%0ANo+accounts+are+defined%21\n");
    ui_free(&ui);
    cap_close(&c);
    test_end();

    test_begin("machineui: terminate reports the exit status the errors give");
    cap_open(&c);
    ui = cap_ui(&c, "machineui", NULL);
    EV(ui, .type = EV_VALIDITY_PROBLEM, .thread = M, .folder = "F", .repo = "R");
    test_assert_inteq(ui_terminate(ui, 0, "T", "M"), 2);
    test_assert_streq(cap_out(&c), "warn:validityproblem:MainThread:F%0AR%0A0%0A0\n"
                                   "msg:terminate:MainThread:2%0AT%0AM\n");
    ui_free(&ui);
    cap_close(&c);
    test_end();
}

static void test_getpass(void)
{
    static const struct {
        const char *name, *input, *errmsg;
        bool ok;
        const char *pw, *out;
    } t[] = {
        {"getpass: one line", "s3cret pass\nnext\n", NULL, true, "s3cret pass",
         "msg:getpass:MainThread:me%40example.org\n"},
        {"getpass: last line without newline", "pw", NULL, true, "pw",
         "msg:getpass:MainThread:me%40example.org\n"},
        {"getpass: empty line", "\n", NULL, true, "", "msg:getpass:MainThread:me%40example.org\n"},
        {"getpass: end of file", "", NULL, false, NULL,
         "msg:getpass:MainThread:me%40example.org\n"},
        {"getpass: after a failure", "pw2\n", "Login failed", true, "pw2",
         "warn:getpasserror:MainThread:me%40example.org%0ALogin+failed\n"
         "msg:getpass:MainThread:me%40example.org\n"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        test_begin(t[i].name);
        struct cap c;
        cap_open(&c);
        FILE *in = *t[i].input ? fmemopen((void *)t[i].input, strlen(t[i].input), "r")
                               : fopen("/dev/null", "r");
        struct ui *ui = cap_ui(&c, "machineui", &(struct ui_opts){.in = in});
        struct err e = ERR_INIT;
        char *pw = NULL;
        bool ok = ui_get_password(ui, "Test", "host", "me@example.org", t[i].errmsg, &pw, &e);
        test_assert(ok == t[i].ok);
        if (t[i].ok)
            test_assert_streq(pw, t[i].pw);
        else
            test_assert(pw == NULL && err_isset(&e));
        test_assert_streq(cap_out(&c), t[i].out);
        free(pw);
        err_clear(&e);
        ui_free(&ui);
        fclose(in);
        cap_close(&c);
        test_end();
    }
}

static int bind_socket(const char *path, int type)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    unlink(path);
    int fd = socket(AF_UNIX, type, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        abort();
    if (type == SOCK_STREAM && listen(fd, 1) != 0)
        abort();
    return fd;
}

/* The next datagram, with its terminating NUL shown as "\\0"; "" when none is waiting. */
static char *next_datagram(int fd)
{
    char data[8192];
    ssize_t n = recv(fd, data, sizeof(data) - 1, MSG_DONTWAIT);
    if (n <= 0)
        return xstrdup("");
    if (data[n - 1] != '\0')
        return xstrdup("(no NUL)");
    data[n - 1] = '\0';
    return xasprintf("%s\\0", data);
}

/* want_pid has "[PID]" where the process id goes. */
static void expect_datagram(int fd, const char *want_pid, const char *file, int line)
{
    struct buf w;
    buf_init(&w, BUF_UNBOUNDED);
    const char *p = strstr(want_pid, "[PID]");
    if (p) {
        buf_append(&w, want_pid, (size_t)(p - want_pid));
        buf_printf(&w, "[%ld]%s", (long)getpid(), p + 5);
    } else {
        buf_append_str(&w, want_pid);
    }
    char *want = buf_detach(&w, NULL);
    char *got = next_datagram(fd);
    if (strcmp(got, want) != 0)
        test_fail_at(file, line, "datagram \"%s\", expected \"%s\"", got, want);
    free(want);
    free(got);
}
#define EXPECT_DGRAM(fd, want) expect_datagram((fd), (want), __FILE__, __LINE__)

static void test_syslog(void)
{
    char *path = xasprintf("%s/log", test_tmpdir());

    test_begin("syslog: SysLogHandler's datagrams, banner included, -s ignored");
    int fd = bind_socket(path, SOCK_DGRAM);
    struct cap c;
    cap_open(&c);
    struct ui *ui = cap_ui(&c, "Noninteractive.Syslog",
                           &(struct ui_opts){.syslog_path = path, .syslog = true, .version = "9"});
    ui_banner(ui, NULL);
    EV(ui, .type = EV_SYNCING_FOLDER, .thread = FI, .folder = "INBOX", .repo_type = "IMAP",
       .dst_type = "Maildir");
    EV(ui, .type = EV_LOG, .level = LOG_WARN, .thread = M, .text = "careful");
    EV(ui, .type = EV_LOG, .level = LOG_ERROR, .thread = M, .text = "broken");
    EV(ui, .type = EV_LOAD_MSGLIST, .thread = FI, .folder = "INBOX", .repo_type = "IMAP");
    EXPECT_DGRAM(fd, "<14>offlineimap[PID]: OfflineIMAP 9\n  Licensed under the GNU GPL v2 or any "
                     "later version (with an OpenSSL exception)\\0");
    EXPECT_DGRAM(fd, "<14>offlineimap[PID]: Syncing INBOX: IMAP -> Maildir\\0");
    EXPECT_DGRAM(fd, "<12>offlineimap[PID]: careful\\0");
    EXPECT_DGRAM(fd, "<11>offlineimap[PID]: ERROR: broken\\0");
    EXPECT_DGRAM(fd, "");
    test_assert_streq(cap_out(&c), "");
    test_assert_streq(cap_err(&c), "WARNING:root:Using old interface name, consider using one of "
                                   "ttyui, basic, quiet, syslog, machineui, blinkenlights\n");
    ui_free(&ui);
    cap_close(&c);
    test_end();

    test_begin("syslog: -s duplicates unformatted messages, not the banner; debug level 15");
    cap_open(&c);
    ui = cap_ui(&c, "machineui",
                &(struct ui_opts){.syslog_path = path, .syslog = true, .debug = LOGC_SYNC});
    ui_banner(ui, NULL);
    EV(ui, .type = EV_ACCOUNT_START, .thread = A, .account = "Test");
    EV(ui, .type = EV_LOG, .level = LOG_DEBUG, .cat = LOGC_SYNC, .thread = A, .text = "d");
    EXPECT_DGRAM(fd, "<14>offlineimap[PID]: 7.2.0\\0");
    EXPECT_DGRAM(fd, "<14>offlineimap[PID]: OfflineIMAP 0\n  Licensed under the GNU GPL v2 or any "
                     "later version (with an OpenSSL exception)\\0");
    EXPECT_DGRAM(fd, "<14>offlineimap[PID]: Test\\0");
    EXPECT_DGRAM(fd, "<15>offlineimap[PID]: []: d\\0");
    EXPECT_DGRAM(fd, "");
    test_assert(strstr(cap_out(&c), "msg:acct:Account+sync+Test:Test\n") != NULL);
    ui_free(&ui);
    cap_close(&c);
    close(fd);
    test_end();

    test_begin("syslog: a stream socket when datagrams are refused");
    fd = bind_socket(path, SOCK_STREAM);
    cap_open(&c);
    ui = cap_ui(&c, "syslog", &(struct ui_opts){.syslog_path = path});
    int conn = accept(fd, NULL, NULL);
    test_assert(conn >= 0);
    EV(ui, .type = EV_SKIPPING_FOLDER, .thread = FI, .folder = "A");
    EV(ui, .type = EV_SKIPPING_FOLDER, .thread = FI, .folder = "B");
    char got[256];
    size_t len = 0;
    char *want = xasprintf("<14>offlineimap[%ld]: Skipping A (not changed)%c"
                           "<14>offlineimap[%ld]: Skipping B (not changed)%c",
                           (long)getpid(), '@', (long)getpid(), '@');
    size_t want_len = strlen(want);
    want[want_len / 2 - 1] = want[want_len - 1] = '\0';
    while (len < want_len) {
        ssize_t n = recv(conn, got + len, sizeof(got) - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    test_assert(len == want_len && memcmp(got, want, want_len) == 0);
    free(want);
    ui_free(&ui);
    close(conn);
    close(fd);
    cap_close(&c);
    test_end();

    test_begin("syslog: no socket is an error at start-up");
    unlink(path);
    struct err e = ERR_INIT;
    ui = ui_new("syslog", &(struct ui_opts){.syslog_path = path}, &e);
    test_assert(ui == NULL);
    char *msg = xasprintf("Cannot connect to syslog at %s: No such file or directory.", path);
    test_assert_streq(e.msg, msg);
    free(msg);
    err_clear(&e);
    test_end();
    free(path);
}

int main(void)
{
    test_quote_every_byte();
    test_quote_strings();
    test_real_run();
    test_events();
    test_terminate_and_misc();
    test_getpass();
    test_syslog();
    return test_done();
}
