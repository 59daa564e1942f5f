/*
 * Tests for the progress lines of ttyui and basic (EV_PROGRESS), with a
 * clock the test moves: nothing for a copy shorter than the interval, at
 * most one line per interval, a last line for a copy that printed any, one
 * state per thread, and nothing from quiet, syslog or machineui.  Also the
 * syslog socket taken from OIMAP_SYSLOG_SOCKET.
 */
#include "ui/ui.h"
#include "ui/ui_testutil.h"

#include "base/xalloc.h"
#include "testlib/test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int64_t fake_now;

static int64_t fake_clock(void)
{
    return fake_now;
}

static void progress(struct ui *ui, const char *thread, const char *folder, int64_t num,
                     int64_t total, int64_t bytes, int64_t at_ms)
{
    fake_now = at_ms;
    log_set_thread_name("%s", thread);
    EV(ui, .type = EV_PROGRESS, .account = "Test", .folder = folder, .num = num, .total = total,
       .count = bytes);
}

#define FI "Folder INBOX [acc: Test]"
#define FS "Folder Sent [acc: Test]"

static void test_throttle(void)
{
    static const struct {
        const char *ui;
        bool err; /* ttyui writes to stderr */
        const char *want;
    } t[] = {
        {"basic", false,
         "INBOX: 2 of 100 messages copied (2.0 MiB)\n"
         "Sent: 1 of 2 messages copied (10.0 KiB)\n"
         "INBOX: 50 of 100 messages copied (50.0 MiB)\n"
         "INBOX: 100 of 100 messages copied (100.0 MiB)\n"},
        {"ttyui", true,
         FI ":\n INBOX: 2 of 100 messages copied (2.0 MiB)\n" FS
            ":\n Sent: 1 of 2 messages copied (10.0 KiB)\n" FI
            ":\n INBOX: 50 of 100 messages copied (50.0 MiB)\n"
            " INBOX: 100 of 100 messages copied (100.0 MiB)\n"},
        {"quiet", false, ""},
        {"machineui", false, ""},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char title[80];
        snprintf(title, sizeof(title), "progress: %s, one line per interval at most", t[i].ui);
        test_begin(title);
        struct cap c;
        cap_open(&c);
        struct ui *ui =
            cap_ui(&c, t[i].ui, &(struct ui_opts){.now_ms = fake_clock, .progress_ms = 10000});
        const int64_t MiB = 1 << 20;
        /* A short copy in its own thread: nothing at all. */
        progress(ui, "Folder Drafts [acc: Test]", "Drafts", 1, 3, 100, 0);
        progress(ui, "Folder Drafts [acc: Test]", "Drafts", 3, 3, 300, 9000);
        /* A long one: the first line after 10 s, then at most every 10 s. */
        progress(ui, FI, "INBOX", 1, 100, MiB, 1000);
        progress(ui, FI, "INBOX", 2, 100, 2 * MiB, 11000);
        progress(ui, FI, "INBOX", 3, 100, 3 * MiB, 15000);
        progress(ui, FS, "Sent", 1, 2, 10240, 5000);
        progress(ui, FS, "Sent", 1, 2, 10240, 16000);
        progress(ui, FI, "INBOX", 50, 100, 50 * MiB, 21000);
        progress(ui, FI, "INBOX", 99, 100, 99 * MiB, 22000);
        progress(ui, FI, "INBOX", 100, 100, 100 * MiB, 23000);
        /* The same thread's next folder starts afresh. */
        progress(ui, FI, "INBOX", 1, 5, 1, 24000);
        progress(ui, FI, "INBOX", 5, 5, 5, 40000);
        test_assert_streq(t[i].err ? cap_err(&c) : cap_out(&c), t[i].want);
        test_assert_streq(t[i].err ? cap_out(&c) : cap_err(&c), "");
        ui_free(&ui);
        cap_close(&c);
        test_end();
    }

    test_begin("progress: a thread that ends forgets its copy; a new folder starts over");
    struct cap c;
    cap_open(&c);
    struct ui *ui =
        cap_ui(&c, "basic", &(struct ui_opts){.now_ms = fake_clock, .progress_ms = 10000});
    progress(ui, FI, "INBOX", 1, 10, 1, 0);
    log_set_thread_name("MainThread");
    EV(ui, .type = EV_THREAD_EXIT, .text = FI);
    progress(ui, FI, "INBOX", 2, 10, 2, 10000); /* a new copy: no line yet */
    progress(ui, FI, "Other", 1, 10, 2, 20000); /* another folder: starts over */
    progress(ui, FI, "Other", 2, 10, 2, 29999);
    test_assert_streq(cap_out(&c), "");
    progress(ui, FI, "Other", 3, 10, 3, 30000);
    test_assert_streq(cap_out(&c), "Other: 3 of 10 messages copied (3 B)\n");
    ui_free(&ui);
    cap_close(&c);
    test_end();
}

static void test_syslog_env(void)
{
    test_begin("syslog: OIMAP_SYSLOG_SOCKET names the socket");
    char *path = xasprintf("%s/test-log-socket", test_tmpdir());
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    unlink(path);
    test_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    setenv("OIMAP_SYSLOG_SOCKET", path, 1);
    struct cap c;
    cap_open(&c);
    struct ui *ui = cap_ui(&c, "syslog", NULL);
    ui_install(ui);
    log_info("hello syslog");
    ui_free(&ui);
    unsetenv("OIMAP_SYSLOG_SOCKET");
    char d[512];
    ssize_t n = recv(fd, d, sizeof(d) - 1, MSG_DONTWAIT);
    test_assert(n > 0);
    if (n > 0) {
        d[n] = '\0';
        char *want = xasprintf("<14>offlineimap[%ld]: hello syslog", (long)getpid());
        test_assert_streq(d, want);
        test_assert(d[n - 1] == '\0'); /* the NUL SysLogHandler sends is part of it */
        free(want);
    }
    test_assert_streq(cap_out(&c), "");
    cap_close(&c);
    close(fd);
    unlink(path);
    free(path);
    test_end();
}

int main(void)
{
    test_throttle();
    test_syslog_env();
    return test_done();
}
