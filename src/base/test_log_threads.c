/*
 * Unit tests of the thread registry behind SIGQUIT's dump (log.h) and of the
 * request routing of runctl.h.
 */
#include "base/log.h"
#include "base/runctl.h"
#include "base/strutil.h"

#include "testlib/test.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void collect(void *ctx, const char *line)
{
    strvec_push(ctx, line);
}

static bool has(const struct strvec *sv, const char *needle)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strstr(sv->v[i], needle))
            return true;
    return false;
}

static void quiet_sink(void *ctx, const struct log_event *ev)
{
    (void)ctx;
    (void)ev;
}

struct worker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool ready, go;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    log_set_thread_name("Folder INBOX [acc: T]");
    log_thread_activity("copying");
    struct log_event ev = {
        .type = EV_COPYING_MESSAGE, .uid = 42, .num = 3, .total = 9, .folder = "INBOX"};
    log_emit(&ev);
    pthread_mutex_lock(&w->mu);
    w->ready = true;
    pthread_cond_broadcast(&w->cv);
    while (!w->go)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void test_registry(void)
{
    log_set_sink(quiet_sink, NULL);
    log_set_thread_name("MainThread");
    struct worker w = {.ready = false, .go = false};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    pthread_t t;
    test_assert(pthread_create(&t, NULL, worker_main, &w) == 0);
    pthread_mutex_lock(&w.mu);
    while (!w.ready)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);

    struct strvec lines = STRVEC_INIT;
    unsigned n = log_threads_dump(collect, &lines);
    test_assert_inteq(n, 2);
    test_assert(has(&lines, "Thread 'MainThread':"));
    test_assert(has(&lines, "Thread 'Folder INBOX [acc: T]': copying (for 0 s); last copying "
                            "message UID 42 (3 of 9) of INBOX, 0 s ago"));
    strvec_free(&lines);

    pthread_mutex_lock(&w.mu);
    w.go = true;
    pthread_cond_broadcast(&w.cv);
    pthread_mutex_unlock(&w.mu);
    pthread_join(t, NULL);
    /* The thread left the list by itself when it ended. */
    n = log_threads_dump(collect, &lines);
    test_assert_inteq(n, 1);
    test_assert(!has(&lines, "Folder INBOX"));
    strvec_free(&lines);

    /* Activity cleared with NULL; an emitted event is kept. */
    log_thread_activity(NULL);
    log_info("hello");
    log_threads_dump(collect, &lines);
    test_assert(has(&lines, "Thread 'MainThread': last said: hello"));
    strvec_free(&lines);
    log_set_sink(NULL, NULL);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
}

struct seen {
    int n;
    enum runctl_req req;
    const char *account;
};

static void handler(void *ctx, enum runctl_req req, const char *account)
{
    struct seen *s = ctx;
    s->n++;
    s->req = req;
    s->account = account;
}

static int emergencies;
static void emergency(void)
{
    emergencies++;
}

static void test_runctl(void)
{
    struct seen s = {0};
    runctl_request(RUNCTL_ABORT, NULL); /* no handler yet: dropped */
    runctl_set_handler(handler, &s);
    runctl_request(RUNCTL_SYNC_NOW, "Work");
    test_assert_inteq(s.n, 1);
    test_assert_inteq(s.req, RUNCTL_SYNC_NOW);
    test_assert_streq(s.account, "Work");
    runctl_request(RUNCTL_STOP_AFTER_SYNC, NULL);
    test_assert_inteq(s.req, RUNCTL_STOP_AFTER_SYNC);
    test_assert(s.account == NULL);
    runctl_set_handler(NULL, NULL);
    runctl_request(RUNCTL_ABORT, NULL);
    test_assert_inteq(s.n, 2);
    /* The emergency hook runs once. */
    runctl_emergency();
    runctl_set_emergency(emergency);
    runctl_emergency();
    runctl_emergency();
    test_assert_inteq(emergencies, 1);
}

static void touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    test_assert(fd >= 0);
    if (fd >= 0)
        close(fd);
}

/* The emergency exit removes the registered files that are still the same files. */
static void test_emergency_unlink(void)
{
    char held[512], replaced[512], released[512], moved[512];
    snprintf(held, sizeof(held), "%s/held.lock", test_tmpdir());
    snprintf(replaced, sizeof(replaced), "%s/replaced.lock", test_tmpdir());
    snprintf(released, sizeof(released), "%s/released.lock", test_tmpdir());
    snprintf(moved, sizeof(moved), "%s/other", test_tmpdir());
    touch(held);
    touch(replaced);
    touch(released);
    runctl_emergency_unlink_add(held);
    runctl_emergency_unlink_add(replaced);
    runctl_emergency_unlink_add(released);
    runctl_emergency_unlink_add("/nonexistent/x.lock"); /* not there: ignored */
    /* Another process's file now stands at this path: it is not ours to remove. */
    test_assert(rename(replaced, moved) == 0);
    touch(replaced);
    runctl_emergency_unlink_remove(released);
    runctl_emergency();
    test_assert(access(held, F_OK) != 0);
    test_assert(access(replaced, F_OK) == 0);
    test_assert(access(released, F_OK) == 0);
    runctl_emergency_unlink_remove(replaced);
    runctl_emergency_unlink_remove(held);
    unlink(replaced);
    unlink(released);
    unlink(moved);
}

int main(void)
{
    test_begin("log: what each thread is doing");
    test_registry();
    test_end();
    test_begin("runctl: requests reach the installed handler");
    test_runctl();
    test_end();
    test_begin("runctl: the emergency exit removes the registered lock files");
    test_emergency_unlink();
    test_end();
    return test_done();
}
