#include "cli/hooks.h"

#include "base/buf.h"
#include "base/prof.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Output kept from each stream of a hook. */
#define HOOK_OUTPUT_MAX (64 * 1024)

static int run(const char *cmd, const char *sync_mode, bool dry_run);

int hook_run(const char *cmd, const char *sync_mode, bool dry_run)
{
    if (!cmd || !*cmd)
        return 0;
    struct prof_mark pm;
    prof_begin(&pm);
    int rc = run(cmd, sync_mode, dry_run);
    prof_end(&pm, "hook", "command", 0);
    return rc;
}

static int run(const char *cmd, const char *sync_mode, bool dry_run)
{
    struct log_event ev = {.type = EV_CALLING_HOOK, .text = cmd};
    log_emit(&ev);
    if (dry_run)
        return 0;
    int out[2], errp[2];
    if (pipe(out) != 0)
        return -1;
    if (pipe(errp) != 0) {
        close(out[0]);
        close(out[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        log_error("cannot run hook %s: %s", cmd, strerror(errno));
        close(out[0]);
        close(out[1]);
        close(errp[0]);
        close(errp[1]);
        return -1;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(errp[1], 2);
        close(out[0]);
        close(errp[0]);
        if (sync_mode)
            setenv("OFFLINEIMAPSYNCMODE", sync_mode, 1);
        signal(SIGPIPE, SIG_DFL);
        /* The program reads its signals from a signalfd: give the hook the usual ones. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    close(errp[1]);
    struct buf ob, eb;
    buf_init(&ob, HOOK_OUTPUT_MAX);
    buf_init(&eb, HOOK_OUTPUT_MAX);
    struct pollfd fds[2] = {{out[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char chunk[4096];
            ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
                continue;
            }
            /* Beyond the limit the output is read and dropped. */
            buf_append(i == 0 ? &ob : &eb, chunk, (size_t)n);
        }
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    char *text = xasprintf("Hook stdout: %s\nHook stderr:%s\n", ob.data, eb.data);
    struct log_event oev = {.type = EV_HOOK_OUTPUT, .text = text};
    log_emit(&oev);
    free(text);
    text = xasprintf("Hook return code: %d", code);
    struct log_event rev = {.type = EV_HOOK_OUTPUT, .text = text};
    log_emit(&rev);
    free(text);
    buf_release(&ob);
    buf_release(&eb);
    return code;
}
