/*
 * Tests for ttyui that need a terminal or real threads: the password prompt
 * on a pseudo-terminal (no echo, the prompt text, the newline after it) and
 * the "<thread>:" header logic with many threads logging at once through the
 * installed sink.
 */
#define _XOPEN_SOURCE 700 /* posix_openpt() */
#include "ui/ui.h"
#include "ui/ui_testutil.h"

#include "base/buf.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct prompt_job {
    struct ui *ui;
    const char *errmsg;
    char *pw;
    struct err e;
    bool ok;
};

static void *prompt_thread(void *arg)
{
    struct prompt_job *job = arg;
    job->ok = ui_get_password(job->ui, "Test", "h", "me", job->errmsg, &job->pw, &job->e);
    return NULL;
}

/* Read from the pty master until `want` has been seen or a few seconds passed. */
static bool read_until(int master, struct buf *seen, const char *want)
{
    for (int tries = 0; tries < 500 && !strstr(seen->data, want); tries++) {
        char chunk[256];
        ssize_t n = read(master, chunk, sizeof(chunk));
        if (n > 0)
            buf_append(seen, chunk, (size_t)n);
        else
            usleep(10000);
    }
    return strstr(seen->data, want) != NULL;
}

static void test_password_tty(void)
{
    test_begin("password: ttyui prompts on the terminal without echo");
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    test_assert(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
    fcntl(master, F_SETFL, O_NONBLOCK);
    struct cap c;
    cap_open(&c);
    struct ui *ui = cap_ui(&c, "ttyui", &(struct ui_opts){.tty_path = ptsname(master)});
    struct prompt_job job = {.ui = ui, .errmsg = "Login failed.", .e = ERR_INIT};
    pthread_t th;
    pthread_create(&th, NULL, prompt_thread, &job);
    struct buf seen;
    buf_init(&seen, BUF_UNBOUNDED);
    test_assert(read_until(master, &seen, "Enter password for user 'me': "));
    test_assert(write(master, "hunter2 x\n", 10) == 10);
    pthread_join(th, NULL);
    test_assert(read_until(master, &seen, "\n"));
    test_assert(job.ok);
    test_assert_streq(job.pw, "hunter2 x");
    /* No echo of the password; the newline after it comes back as CR LF. */
    test_assert_streq(seen.data, "Enter password for user 'me': \r\n");
    test_assert_streq(cap_err(&c), "me: Login failed.\n");
    free(job.pw);
    buf_release(&seen);
    ui_free(&ui);
    cap_close(&c);
    close(master);
    test_end();

    test_begin("password: ttyui without a terminal is an error");
    cap_open(&c);
    ui = cap_ui(&c, "ttyui", &(struct ui_opts){.tty_path = "/nonexistent/tty"});
    struct err e = ERR_INIT;
    char *pw = NULL;
    test_assert(!ui_get_password(ui, "Test", "h", "me", NULL, &pw, &e));
    test_assert_streq(e.msg, "Cannot prompt for a password: cannot open /nonexistent/tty: No such "
                             "file or directory.");
    err_clear(&e);
    ui_free(&ui);
    cap_close(&c);
    test_end();
}

enum { N_WORKERS = 8, N_LINES = 400 };

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    log_set_thread_name("Worker %d", id);
    for (int k = 0; k < N_LINES; k++) {
        if (k % 50 == 0)
            log_warn("Worker %d line %d", id, k);
        else
            log_info("Worker %d line %d", id, k);
    }
    return NULL;
}

/*
 * Real threads through the installed sink: every indented line must belong
 * to the thread of the header above it, every header must name a thread
 * other than the previous one, and each thread's lines come in order.
 */
static void test_tty_concurrent(void)
{
    test_begin("ttyui: headers stay right with eight threads and MainThread at once");
    struct cap c;
    cap_open(&c);
    struct ui *ui = cap_ui(&c, "ttyui", NULL);
    ui_install(ui);
    pthread_t th[N_WORKERS];
    for (int i = 0; i < N_WORKERS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
    for (int k = 0; k < N_LINES; k++)
        log_info("main %d", k);
    for (int i = 0; i < N_WORKERS; i++)
        pthread_join(th[i], NULL);
    ui_free(&ui);

    char *out = xstrdup(cap_err(&c));
    int cur = -1, next[N_WORKERS] = {0}, main_next = 0, lines = 0, bad = 0;
    for (char *save = NULL, *line = strtok_r(out, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        int id, k;
        char tail;
        lines++;
        if (sscanf(line, "Worker %d%c", &id, &tail) == 2 && tail == ':' &&
            line[strlen(line) - 1] == ':') {
            bad += id == cur || id < 0 || id >= N_WORKERS;
            cur = id;
        } else if (sscanf(line, " Worker %d line %d", &id, &k) == 2 && line[0] == ' ') {
            bad += id != cur || k != next[id];
            if (id == cur && k == next[id])
                next[id]++;
        } else if (sscanf(line, "main %d", &k) == 1) {
            bad += k != main_next++;
        } else {
            bad++;
        }
    }
    test_assert_inteq(bad, 0);
    test_assert_inteq(main_next, N_LINES);
    for (int i = 0; i < N_WORKERS; i++)
        test_assert_inteq(next[i], N_LINES);
    test_assert(lines > N_LINES * (N_WORKERS + 1));
    free(out);
    cap_close(&c);
    test_end();
}

int main(void)
{
    test_password_tty();
    test_tty_concurrent();
    return test_done();
}
