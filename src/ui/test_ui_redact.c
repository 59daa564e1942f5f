/*
 * Tests for ui_redact (no secret on any output): LOGIN and AUTHENTICATE
 * command lines in every form a trace may show them, prose left alone,
 * registered secrets replaced everywhere, and the whole path through each
 * interface, the -l log file and syslog, including the password a prompt
 * returned.
 */
#include "ui/ui.h"
#include "ui/ui_internal.h"
#include "ui/ui_testutil.h"

#include "base/xalloc.h"
#include "testlib/test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void test_commands(void)
{
    static const struct {
        const char *in, *out; /* out NULL: unchanged */
    } t[] = {
        {"Test-Remote > A0001 LOGIN alice s3cret", "Test-Remote > A0001 LOGIN <secret hidden>"},
        {"[imap]: Test-Remote > a1 login \"alice\" {6}",
         "[imap]: Test-Remote > a1 login <secret hidden>"},
        {"> 1 LOGIN alice pw\nnext line stays", "> 1 LOGIN <secret hidden>\nnext line stays"},
        {"A0002 AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldA==",
         "A0002 AUTHENTICATE PLAIN <secret hidden>"},
        {"A0002 AUTHENTICATE XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB5YTI5",
         "A0002 AUTHENTICATE XOAUTH2 <secret hidden>"},
        {"x > A3 authenticate cram-md5 Zm9v\r\nrest",
         "x > A3 authenticate cram-md5 <secret hidden>\r\nrest"},
        {"two: A1 LOGIN a b\nA2 LOGIN c d",
         "two: A1 LOGIN <secret hidden>\nA2 LOGIN <secret hidden>"},
        /* Already hidden by the IMAP layer: left as it is. */
        {"Test-Remote > A0001 LOGIN <secret hidden>", NULL},
        /* No arguments, no secret. */
        {"A0002 AUTHENTICATE CRAM-MD5", NULL},
        {"A0001 LOGIN", NULL},
        /* Prose. */
        {"me: Login failed.", NULL},
        {"LOGIN authentication failed: [AUTHENTICATIONFAILED] Authentication failed.", NULL},
        {"Server said: LOGIN disabled", NULL},
        {"Trying LOGIN with user x", NULL},
        {"", NULL},
    };
    test_begin("redact: LOGIN and AUTHENTICATE arguments");
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char *got = ui_redact(t[i].in, NULL);
        if (!t[i].out) {
            if (got)
                test_fail_at(__FILE__, __LINE__, "'%s' changed into '%s'", t[i].in, got);
        } else {
            test_assert_streq(got, t[i].out);
        }
        free(got);
    }
    test_end();
}

static void test_secrets(void)
{
    test_begin("redact: registered secrets, wherever they appear");
    struct strvec sv = STRVEC_INIT;
    strvec_push(&sv, "hunter2!");
    strvec_push(&sv, "tok-ABC");
    char *got = ui_redact("pw hunter2! and hunter2!, token tok-ABCDEF", &sv);
    test_assert_streq(got, "pw <secret hidden> and <secret hidden>, token <secret hidden>DEF");
    free(got);
    test_assert(ui_redact("nothing secret here", &sv) == NULL);
    got = ui_redact("A1 LOGIN bob hunter2!", &sv);
    test_assert_streq(got, "A1 LOGIN <secret hidden>");
    free(got);
    strvec_free(&sv);
    test_end();
}

static int bind_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void test_every_output(void)
{
    static const char *const names[] = {"ttyui", "basic", "quiet", "machineui"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char title[80];
        snprintf(title, sizeof(title), "redact: %s, its log file and syslog show no secret",
                 names[i]);
        test_begin(title);
        char *logfile = xasprintf("%s/redact-%s.log", test_tmpdir(), names[i]);
        char *sock = xasprintf("%s/redact-log", test_tmpdir());
        int fd = bind_socket(sock);
        test_assert(fd >= 0);
        struct cap c;
        cap_open(&c);
        /* machineui reads its password from `in`. */
        char input[] = "pa55word-from-prompt\n";
        FILE *in = fmemopen(input, strlen(input), "r");
        struct ui *ui = cap_ui(&c, names[i],
                               &(struct ui_opts){.logfile = logfile,
                                                 .syslog = true,
                                                 .syslog_path = sock,
                                                 .debug = LOGC_IMAP | LOGC_SYNC,
                                                 .in = in});
        ui_add_secret(ui, "config-pass");
        ui_add_secret(ui, "abc"); /* too short to hide */
        ui_install(ui);
        log_debug(LOGC_IMAP, "Test-Remote > A0001 LOGIN alice wire-pass");
        log_warn("a message quoting config-pass");
        log_error("short abc stays");
        if (strcmp(names[i], "machineui") == 0) {
            char *pw = NULL;
            struct err e = ERR_INIT;
            test_assert(ui_get_password(ui, "Test", "h", "alice", NULL, &pw, &e));
            test_assert_streq(pw, "pa55word-from-prompt");
            free(pw);
            log_info("after the prompt: pa55word-from-prompt");
        }
        ui_terminate(ui, 0, NULL, NULL);
        ui_free(&ui);
        char dgrams[8192];
        size_t used = 0;
        ssize_t n;
        while ((n = recv(fd, dgrams + used, sizeof(dgrams) - used - 1, MSG_DONTWAIT)) > 0)
            used += (size_t)n;
        dgrams[used] = '\0';
        for (size_t k = 0; k < used; k++)
            if (!dgrams[k])
                dgrams[k] = '\n';
        char *file = slurp(logfile);
        const char *outputs[] = {cap_out(&c), cap_err(&c), file, dgrams};
        for (size_t k = 0; k < 4; k++) {
            test_assert(strstr(outputs[k], "wire-pass") == NULL);
            test_assert(strstr(outputs[k], "config-pass") == NULL);
            test_assert(strstr(outputs[k], "pa55word") == NULL);
        }
        test_assert(strstr(file, "a message quoting <secret hidden>") != NULL);
        test_assert(strstr(dgrams, "a message quoting <secret hidden>") != NULL);
        test_assert(strstr(file, "short abc stays") != NULL);
        if (strcmp(names[i], "quiet") != 0)
            test_assert(strstr(file, "LOGIN <secret hidden>") != NULL);
        if (strcmp(names[i], "machineui") == 0)
            test_assert(strstr(file, "after the prompt: <secret hidden>") != NULL);
        free(file);
        fclose(in);
        cap_close(&c);
        close(fd);
        unlink(sock);
        free(sock);
        free(logfile);
        test_end();
    }
}

int main(void)
{
    test_commands();
    test_secrets();
    test_every_output();
    return test_done();
}
