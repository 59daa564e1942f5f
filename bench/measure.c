/* Run a command and report its wall time, CPU time and peak RSS.
 *
 *   measure RESULT-FILE COMMAND [ARG...]
 *
 * Forks, execs COMMAND in the child and waits for it with wait4(). Writes one line to
 * RESULT-FILE: "<exit code or -signal> <wall s> <user s> <sys s> <maxrss KiB>" and exits
 * with the child's exit status.
 *
 * Why not fork from Python directly: Linux keeps a process's peak RSS across execve(),
 * so a child forked from the (large) benchmark process would report at least the
 * benchmark's own RSS. This small program is exec'd first; the command is then forked
 * from it, with a peak RSS of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: measure RESULT-FILE COMMAND [ARG...]\n");
        return 2;
    }
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("measure: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "measure: cannot run %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    pid_t w;
    do
        w = wait4(pid, &status, 0, &ru);
    while (w < 0 && errno == EINTR);
    double wall = now() - t0;
    if (w < 0) {
        perror("measure: wait4");
        return 2;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror("measure: result file");
        return 2;
    }
    fprintf(f, "%d %.6f %.6f %.6f %ld\n", code, wall,
            (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss);
    fclose(f);
    return code >= 0 ? code : 128 - code;
}
