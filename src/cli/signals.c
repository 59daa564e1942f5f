#include "cli/signals.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static void handled_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGUSR2);
    sigaddset(set, SIGABRT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGQUIT);
}

bool signals_open(int *fd_r, struct err *e)
{
    sigset_t set;
    handled_set(&set);
    int rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (rc != 0) {
        err_set(e, ERR_CRITICAL, ERRK_GENERIC, "cannot block signals: %s", strerror(rc));
        return false;
    }
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        err_set(e, ERR_CRITICAL, ERRK_GENERIC, "cannot open a signalfd: %s", strerror(errno));
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        return false;
    }
    *fd_r = fd;
    return true;
}

int signals_read(int fd)
{
    struct signalfd_siginfo si;
    for (;;) {
        ssize_t n = read(fd, &si, sizeof(si));
        if (n == (ssize_t)sizeof(si))
            return (int)si.ssi_signo;
        if (n < 0 && errno == EINTR)
            continue;
        return 0;
    }
}

enum sig_action signals_action(int signo)
{
    switch (signo) {
    case SIGUSR1:
        return SIG_ACTION_SYNC_NOW;
    case SIGUSR2:
    case SIGABRT:
        return SIG_ACTION_STOP_AFTER_SYNC;
    case SIGTERM:
    case SIGINT:
    case SIGHUP:
        return SIG_ACTION_ABORT;
    case SIGQUIT:
        return SIG_ACTION_DUMP;
    default:
        return SIG_ACTION_NONE;
    }
}
