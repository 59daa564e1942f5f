#include "base/crashpoint.h"

#include "base/xalloc.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

/* Written once by crashpoint_init() before threads start; read-only after. */
bool crashpoint_armed;
static char *target_name;
static unsigned long target_count;
static int log_fd = -1;
static char *pause_path; /* OIMAP_CRASHPOINT_ACTION=pause:<path> */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long hits;

void crashpoint_init(void)
{
    const char *spec = getenv("OIMAP_CRASHPOINT");
    const char *logpath = getenv("OIMAP_CRASHPOINT_LOG");
    if (spec && *spec) {
        const char *colon = strrchr(spec, ':');
        target_name = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
        target_count = colon ? strtoul(colon + 1, NULL, 10) : 1;
        if (target_count == 0)
            target_count = 1;
        crashpoint_armed = true;
        const char *action = getenv("OIMAP_CRASHPOINT_ACTION");
        if (action && !strncmp(action, "pause:", 6) && action[6])
            pause_path = xstrdup(action + 6);
    }
    if (logpath && *logpath) {
        log_fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        crashpoint_armed = log_fd >= 0 || crashpoint_armed;
    }
}

void crashpoint_hit(const char *name)
{
    pthread_mutex_lock(&lock);
    if (log_fd >= 0) {
        size_t len = strlen(name);
        char line[256];
        if (len < sizeof(line) - 1) {
            memcpy(line, name, len);
            line[len] = '\n';
            ssize_t n = write(log_fd, line, len + 1);
            (void)n;
        }
    }
    bool die = false;
    if (target_name && (!strcmp(target_name, "*") || !strcmp(target_name, name)))
        die = ++hits == target_count;
    pthread_mutex_unlock(&lock);
    if (die && pause_path) {
        /* The test sees the file, changes something, then removes it. */
        int fd = open(pause_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
            close(fd);
        struct timespec tick = {0, 10 * 1000 * 1000};
        while (fd >= 0 && access(pause_path, F_OK) == 0)
            nanosleep(&tick, NULL);
        return;
    }
    if (die) {
        kill(getpid(), SIGKILL);
        for (;;)
            pause();
    }
}
