/*
 * ttyui: offlineimap's TTYUI (ui/TTY.py).
 *
 * TTYFormatter: MainThread speaks bare; any other thread's message is
 * indented by one space, and preceded by a "<thread name>:" line when the
 * previous message (from a thread other than MainThread) came from another
 * thread.  Only the first line of a multi-line message is indented, as
 * there.  The header state is per ui and changes under ui->lock only.
 *
 * The password prompt is Python's getpass.getpass() on /dev/tty: echo off,
 * prompt, one line, echo restored, then a newline.
 */
#include "ui/ui_internal.h"

#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define UI_PASSWORD_MAX 4096

void ui_tty_write(struct ui *ui, const struct ui_record *r)
{
    const char *thread = ui_s(r->thread);
    if (strcmp(thread, "MainThread") == 0) {
        fprintf(ui->console, "%s\n", r->msg);
    } else if (!ui->tty_last_thread || strcmp(ui->tty_last_thread, thread) != 0) {
        free(ui->tty_last_thread);
        ui->tty_last_thread = xstrdup(thread);
        fprintf(ui->console, "%s:\n %s\n", thread, r->msg);
    } else {
        fprintf(ui->console, " %s\n", r->msg);
    }
    fflush(ui->console);
}

static bool write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, s, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        s += n;
        len -= (size_t)n;
    }
    return true;
}

static void wipe(char *p, size_t n)
{
    volatile char *v = p;
    for (size_t i = 0; i < n; i++)
        v[i] = 0;
}

/*
 * Read one line into line[0..max), without its newline.  Returns the length,
 * -1 on a read error (errno set), -2 at end of file before anything was read,
 * -3 when the line does not fit.
 */
static ssize_t read_line(int fd, char *line, size_t max)
{
    size_t len = 0;
    bool too_long = false;
    for (;;) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n < 0)
            return -1;
        if (n == 0)
            return len == 0 && !too_long ? -2 : too_long ? -3 : (ssize_t)len;
        if (c == '\n')
            return too_long ? -3 : (ssize_t)len;
        if (len + 1 < max)
            line[len++] = c;
        else
            too_long = true;
    }
}

bool ui_tty_getpass(struct ui *ui, const char *prompt, char **pw_r, struct err *e)
{
    int fd = open(ui->tty_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        err_set(e, ERR_REPO, ERRK_AUTH, "Cannot prompt for a password: cannot open %s: %s.",
                ui->tty_path, strerror(errno));
        return false;
    }
    struct termios old;
    bool restore = tcgetattr(fd, &old) == 0;
    if (restore) {
        struct termios noecho = old;
        noecho.c_lflag &= ~(tcflag_t)ECHO;
        if (tcsetattr(fd, TCSAFLUSH, &noecho) != 0)
            restore = false;
    }
    char *line = xmalloc(UI_PASSWORD_MAX);
    ssize_t len = -1;
    int read_errno = 0;
    if (write_all(fd, prompt, strlen(prompt))) {
        len = read_line(fd, line, UI_PASSWORD_MAX);
        read_errno = errno;
    } else {
        read_errno = errno;
    }
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &old);
    (void)write_all(fd, "\n", 1);
    close(fd);

    bool ok = false;
    if (len >= 0) {
        *pw_r = xstrndup(line, (size_t)len);
        ok = true;
    } else if (len == -2) {
        err_set(e, ERR_REPO, ERRK_AUTH, "No password was entered on %s: end of file.",
                ui->tty_path);
    } else if (len == -3) {
        err_set(e, ERR_REPO, ERRK_AUTH, "The password entered on %s is longer than %d bytes.",
                ui->tty_path, UI_PASSWORD_MAX - 1);
    } else if (read_errno == EINTR) {
        err_set(e, ERR_REPO, ERRK_ABORTED, "The password prompt on %s was interrupted.",
                ui->tty_path);
    } else {
        err_set(e, ERR_REPO, ERRK_AUTH, "Cannot read a password from %s: %s.", ui->tty_path,
                strerror(read_errno));
    }
    wipe(line, UI_PASSWORD_MAX);
    free(line);
    return ok;
}
