/*
 * The blinkenlights screen on a real pseudo-terminal, from this process:
 * events from several threads reach the screen, the keys call the control
 * functions (a digit with its account, 'q'), the password dialog reads what
 * is typed without echoing it and the password is hidden afterwards, a
 * resize (SIGWINCH) redraws the screen, and the end gives the terminal back
 * (termios as before, the alternate screen left) with the banner and the
 * summary on standard output.  Also: without a usable terminal, ttyui.
 * What the screen shows is checked in tmux by tests/integ/test_ui_curses.py.
 */
#define _XOPEN_SOURCE 700 /* posix_openpt() */
#include "ui/ui.h"
#include "ui/ui_testutil.h"

#include "base/buf.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

struct pty {
    int master, slave;
    FILE *out, *in;
    pthread_t drain;
    pthread_mutex_t lock;
    struct buf seen; /* everything the screen wrote */
    bool stop;
};

static void *drain(void *arg)
{
    struct pty *p = arg;
    char chunk[4096];
    for (;;) {
        struct pollfd pfd = {.fd = p->master, .events = POLLIN};
        int n = poll(&pfd, 1, 50);
        pthread_mutex_lock(&p->lock);
        bool stop = p->stop;
        pthread_mutex_unlock(&p->lock);
        if (n > 0) {
            ssize_t got = read(p->master, chunk, sizeof(chunk));
            if (got > 0) {
                pthread_mutex_lock(&p->lock);
                buf_append(&p->seen, chunk, (size_t)got);
                pthread_mutex_unlock(&p->lock);
                continue;
            }
            if (got < 0 && errno != EAGAIN && errno != EINTR)
                break;
        } else if (stop) {
            break;
        }
    }
    return NULL;
}

static bool pty_open(struct pty *p, int rows, int cols)
{
    memset(p, 0, sizeof(*p));
    p->master = posix_openpt(O_RDWR | O_NOCTTY);
    if (p->master < 0 || grantpt(p->master) != 0 || unlockpt(p->master) != 0)
        return false;
    p->slave = open(ptsname(p->master), O_RDWR | O_NOCTTY);
    if (p->slave < 0)
        return false;
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    ioctl(p->master, TIOCSWINSZ, &ws);
    p->out = fdopen(dup(p->slave), "w");
    p->in = fdopen(dup(p->slave), "r");
    pthread_mutex_init(&p->lock, NULL);
    buf_init(&p->seen, BUF_UNBOUNDED);
    pthread_create(&p->drain, NULL, drain, p);
    return p->out && p->in;
}

static void pty_close(struct pty *p)
{
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->drain, NULL);
    fclose(p->out);
    fclose(p->in);
    close(p->slave);
    close(p->master);
    buf_release(&p->seen);
    pthread_mutex_destroy(&p->lock);
}

/* How many times `what` was written to the screen so far. */
static size_t seen_count(struct pty *p, const char *what)
{
    size_t n = 0;
    pthread_mutex_lock(&p->lock);
    const char *s = p->seen.data;
    while ((s = strstr(s, what)) != NULL) {
        n++;
        s += strlen(what);
    }
    pthread_mutex_unlock(&p->lock);
    return n;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait (up to 5 s, a functional deadline) until `what` was written `times` times. */
static bool wait_seen(struct pty *p, const char *what, size_t times)
{
    for (int i = 0; i < 500; i++) {
        if (seen_count(p, what) >= times)
            return true;
        sleep_ms(10);
    }
    return false;
}

static void type(struct pty *p, const char *keys)
{
    ssize_t n = write(p->master, keys, strlen(keys));
    (void)n;
}

/* ---- the control functions the keys call ---------------------------------- */

static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;
static char *synced;
static int quits;

static void on_sync(void *ctx, const char *account)
{
    (void)ctx;
    pthread_mutex_lock(&ctl_lock);
    free(synced);
    synced = xstrdup(account);
    pthread_mutex_unlock(&ctl_lock);
}

static void on_quit(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&ctl_lock);
    quits++;
    pthread_mutex_unlock(&ctl_lock);
}

static int quits_now;

static void on_quit_now(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&ctl_lock);
    quits_now++;
    pthread_mutex_unlock(&ctl_lock);
}

/* account: that sync request; else nquits calls of quit and nnow of quit_now. */
static bool wait_ctl(const char *account, int nquits, int nnow)
{
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&ctl_lock);
        bool ok = account ? (synced && strcmp(synced, account) == 0)
                          : quits >= nquits && quits_now >= nnow;
        pthread_mutex_unlock(&ctl_lock);
        if (ok)
            return true;
        sleep_ms(10);
    }
    return false;
}

/* ---- event threads ------------------------------------------------------- */

struct folder_job {
    struct ui *ui;
    const char *folder;
};

static void *folder_thread(void *arg)
{
    struct folder_job *j = arg;
    log_set_thread_name("Folder %s [acc: Test]", j->folder);
    EV(j->ui, .type = EV_SYNCING_FOLDER, .folder = j->folder, .repo_type = "IMAP",
       .dst_type = "Maildir", .account = "Test");
    for (int i = 1; i <= 3; i++)
        EV(j->ui, .type = EV_COPYING_MESSAGE, .uid = i, .num = i, .total = 3, .repo = "Test-Remote",
           .folder = j->folder, .dst_repo = "Test-Local", .dst_folder = j->folder,
           .account = "Test");
    return NULL;
}

struct pw_job {
    struct ui *ui;
    bool ok;
    char *pw;
    char errmsg[200];
};

static void *password_thread(void *arg)
{
    struct pw_job *j = arg;
    log_set_thread_name("Account sync Test");
    struct err e = ERR_INIT;
    j->ok = ui_get_password(j->ui, "Test", "127.0.0.1", "alice", NULL, &j->pw, &e);
    if (!j->ok)
        snprintf(j->errmsg, sizeof(j->errmsg), "%s", e.msg);
    err_clear(&e);
    return NULL;
}

static void test_screen(void)
{
    test_begin("blinkenlights: events, keys, password dialog, resize and the terminal back");
    struct pty p;
    if (!pty_open(&p, 24, 100)) {
        test_fail_at(__FILE__, __LINE__, "no pseudo-terminal: %s", strerror(errno));
        test_end();
        return;
    }
    struct termios before;
    tcgetattr(p.slave, &before);
    setenv("TERM", "xterm-256color", 1);
    struct cap c;
    cap_open(&c);
    struct err e = ERR_INIT;
    struct ui *ui =
        ui_new("Curses.Blinkenlights",
               &(struct ui_opts){.out = p.out, .in = p.in, .err = c.err, .version = "8.0.1"}, &e);
    test_assert(ui != NULL);
    if (!ui) {
        pty_close(&p);
        cap_close(&c);
        test_end();
        return;
    }
    test_assert_inteq(ui_kind(ui), UI_KIND_BLINKENLIGHTS);
    test_assert_streq(ui_name(ui), "blinkenlights");
    ui_install(ui);
    ui_set_control(
        ui, &(struct ui_control){.sync_now = on_sync, .quit = on_quit, .quit_now = on_quit_now});
    struct termios during;
    tcgetattr(p.slave, &during);
    test_assert((during.c_lflag & (ECHO | ICANON)) == 0);

    ui_banner(ui, "C implementation test");
    test_assert(wait_seen(&p, "keys: 0-9 sync account now, q quit", 1));
    test_assert(wait_seen(&p, "C implementation test", 1));
    log_set_thread_name("Account sync Test");
    EV(ui, .type = EV_ACCOUNT_START, .account = "Test");
    test_assert(wait_seen(&p, "*** Processing account Test", 1));
    /* ncurses may move the cursor over blanks: look for the words. */
    test_assert(wait_seen(&p, "1: [active]", 1) && wait_seen(&p, "Test: ", 1));

    pthread_t t[3];
    struct folder_job jobs[3] = {{ui, "INBOX"}, {ui, "Sent"}, {ui, "Drafts"}};
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, folder_thread, &jobs[i]);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    test_assert(
        wait_seen(&p, "Copy message UID 3 (3/3) Test-Remote:Drafts -> Test-Local:Drafts", 1));
    test_assert(wait_seen(&p, "Syncing Sent: IMAP -> Maildir", 1));

    /* The countdown: a five-minute sleep shows 5:00 or 4:59 in the row. */
    EV(ui, .type = EV_SLEEPING, .num = 10, .count = 300, .account = "Test");
    test_assert(wait_seen(&p, "Next sync in 5:00", 1));
    test_assert(wait_seen(&p, "  5:00", 1) || wait_seen(&p, "4:59", 1));
    EV(ui, .type = EV_SLEEPING, .num = 0, .count = 0, .account = "Test");

    /* Row 1 is Test: its key asks to sync Test now; 0 (*Control) and 7 (none) nothing. */
    type(&p, "0");
    type(&p, "7");
    type(&p, "1");
    test_assert(wait_ctl("Test", 0, 0));
    test_assert(wait_seen(&p, "Requested synchronization for acc: Test", 1));
    type(&p, "q");
    test_assert(wait_ctl(NULL, 1, 0));
    test_assert(wait_seen(&p, "Requested shutdown via 'q'", 1));
    /* The banner now says what a second 'q' does; that one asks to exit at once. */
    test_assert(wait_seen(&p, "stopping: q again exits at once", 1));
    type(&p, "q");
    test_assert(wait_ctl(NULL, 1, 1));
    test_assert(wait_seen(&p, "Requested immediate shutdown via 'q'", 1));
    pthread_mutex_lock(&ctl_lock);
    test_assert_inteq(quits, 1);
    pthread_mutex_unlock(&ctl_lock);

    /* The password dialog: nothing typed is shown, Enter gives it back. */
    const char *prompt = "Please enter password for user 'alice':";
    size_t prompts = seen_count(&p, prompt);
    struct pw_job pj = {.ui = ui};
    pthread_t pt;
    pthread_create(&pt, NULL, password_thread, &pj);
    /* Once in the log pane (offlineimap's warnings), once in the dialog. */
    test_assert(wait_seen(&p, prompt, prompts + 2));
    test_assert(wait_seen(&p, " *** Input Required", 1));
    type(&p, "s3cr");
    type(&p, "x\x7f"); /* a typo, erased */
    type(&p, "et pw\r");
    pthread_join(pt, NULL);
    test_assert(pj.ok);
    test_assert_streq(pj.pw, "s3cret pw");
    log_info("the password is s3cret pw, hidden");
    test_assert(wait_seen(&p, "the password is <secret hidden>, hidden", 1));
    test_assert_inteq(seen_count(&p, "s3cr"), 0);
    free(pj.pw);

    /* Escape cancels. */
    prompts = seen_count(&p, prompt);
    pj = (struct pw_job){.ui = ui};
    pthread_create(&pt, NULL, password_thread, &pj);
    test_assert(wait_seen(&p, prompt, prompts + 2));
    type(&p, "abc\x1b");
    pthread_join(pt, NULL);
    test_assert(!pj.ok);
    test_assert_streq(pj.errmsg, "The password prompt for user 'alice' was cancelled.");

    /* A resize: the screen is laid out again (the banner is drawn again). */
    size_t banners = seen_count(&p, "stopping: q again exits at once");
    struct winsize ws = {.ws_row = 30, .ws_col = 120};
    ioctl(p.master, TIOCSWINSZ, &ws);
    kill(getpid(), SIGWINCH);
    test_assert(wait_seen(&p, "stopping: q again exits at once", banners + 1));

    log_error("something failed");
    log_set_thread_name("MainThread");
    int st = ui_terminate(ui, 0, NULL, NULL);
    test_assert_inteq(st, 1);
    /* After the screen: the banner and the summary, as offlineimap prints them. */
    test_assert(wait_seen(&p, "OfflineIMAP 8.0.1\r\n  Licensed under the GNU GPL v2", 1));
    test_assert(wait_seen(&p,
                          "ERROR: Exceptions occurred during the run!\r\nERROR: something "
                          "failed",
                          1));
    struct termios after;
    tcgetattr(p.slave, &after);
    test_assert(after.c_lflag == before.c_lflag);
    test_assert(after.c_iflag == before.c_iflag);
    test_assert(after.c_oflag == before.c_oflag);
    /* The alternate screen was left (xterm's rmcup) and the cursor shown again. */
    test_assert(seen_count(&p, "\x1b[?1049l") >= 1);
    test_assert(seen_count(&p, "\x1b[?25h") >= 1);
    ui_free(&ui);
    test_assert_streq(cap_err(&c), "WARNING:root:Using old interface name, consider using one "
                                   "of ttyui, basic, quiet, syslog, machineui, blinkenlights\n");
    cap_close(&c);
    pty_close(&p);
    free(synced);
    synced = NULL;
    test_end();
}

static void *chatter_thread(void *arg)
{
    struct folder_job *j = arg;
    log_set_thread_name("Folder %s [acc: Test]", j->folder);
    for (int i = 0; i < 3000; i++)
        log_info("%s line %d", j->folder, i);
    return NULL;
}

/*
 * Many threads logging at once, then one last line: it is on the screen within
 * the deadline.  (A wake-up lost between clearing the wake flag and draining
 * the wake pipe once froze the screen for the rest of the run.)
 */
static void test_no_lost_wakeup(void)
{
    test_begin("blinkenlights: the screen follows many threads logging at once");
    struct pty p;
    if (!pty_open(&p, 24, 100)) {
        test_fail_at(__FILE__, __LINE__, "no pseudo-terminal: %s", strerror(errno));
        test_end();
        return;
    }
    setenv("TERM", "xterm-256color", 1);
    struct err e = ERR_INIT;
    struct ui *ui = ui_new("blinkenlights", &(struct ui_opts){.out = p.out, .in = p.in}, &e);
    test_assert(ui != NULL);
    if (ui) {
        ui_install(ui);
        for (int round = 0; round < 5; round++) {
            pthread_t t[4];
            struct folder_job jobs[4] = {{ui, "A"}, {ui, "B"}, {ui, "C"}, {ui, "D"}};
            for (int i = 0; i < 4; i++)
                pthread_create(&t[i], NULL, chatter_thread, &jobs[i]);
            for (int i = 0; i < 4; i++)
                pthread_join(t[i], NULL);
            /*
             * ncurses rewrites only the characters that changed: each round's
             * last line differs from every other line in every column.
             */
            static const char *const lasts[] = {"abcdef", "ghijkl", "mnopqr", "stuvwx", "GHIJKL"};
            const char *last = lasts[round];
            log_info("%s", last);
            test_assert(wait_seen(&p, last, 1));
        }
        log_set_thread_name("MainThread");
        ui_terminate(ui, 0, NULL, NULL);
        ui_free(&ui);
    }
    err_clear(&e);
    pty_close(&p);
    test_end();
}

static void test_fallbacks(void)
{
    static const struct {
        const char *term;
        const char *warning;
    } t[] = {
        {NULL, "WARNING:root:The blinkenlights interface needs the terminal type, and TERM is "
               "not set. Using ttyui instead.\n"},
        {"no-such-terminal-xyz",
         "WARNING:root:The blinkenlights interface cannot use the terminal type "
         "'no-such-terminal-xyz' (TERM): it is not in the terminfo database. Using ttyui "
         "instead.\n"},
        {"dumb", "WARNING:root:The blinkenlights interface cannot use the terminal type 'dumb' "
                 "(TERM): it cannot move the cursor. Using ttyui instead.\n"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        test_begin("blinkenlights: an unusable terminal gives ttyui");
        struct pty p;
        if (!pty_open(&p, 24, 80)) {
            test_fail_at(__FILE__, __LINE__, "no pseudo-terminal");
            test_end();
            continue;
        }
        if (t[i].term)
            setenv("TERM", t[i].term, 1);
        else
            unsetenv("TERM");
        struct cap c;
        cap_open(&c);
        struct ui *ui =
            ui_new("blinkenlights", &(struct ui_opts){.out = p.out, .in = p.in, .err = c.err},
                   &(struct err)ERR_INIT);
        test_assert(ui != NULL);
        test_assert_inteq(ui_kind(ui), UI_KIND_TTY);
        test_assert_streq(cap_err(&c), t[i].warning);
        ui_free(&ui);
        cap_close(&c);
        test_assert_inteq(seen_count(&p, "\x1b["), 0);
        pty_close(&p);
        test_end();
    }
}

int main(void)
{
    test_screen();
    test_no_lost_wakeup();
    test_fallbacks();
    return test_done();
}
