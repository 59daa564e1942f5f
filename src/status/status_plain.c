#include "status/status_plain.h"

#include "base/strutil.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void status_plain_parser_init(struct status_plain_parser *p, const char *name,
                              struct status_rows *rows)
{
    memset(p, 0, sizeof(*p));
    p->name = xstrdup(name);
    p->rows = rows;
    p->lineno = 1;
    buf_init(&p->line, STATUS_PLAIN_LINE_MAX);
}

void status_plain_parser_release(struct status_plain_parser *p)
{
    buf_release(&p->line);
    XFREE(p->name);
}

/* The characters Python's str.strip() removes, ASCII part. */
static bool is_blank(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static bool corrupt(struct status_plain_parser *p, struct err *e, const char *why, const char *line)
{
    err_set(e, ERR_FOLDER, ERRK_GENERIC, "Corrupt line %zu in status file '%s': %s (\"%.60s\").",
            p->lineno, p->name, why, line);
    p->failed = true;
    return false;
}

static bool parse_uid(const char *s, size_t len, uint32_t *uid_r)
{
    return str_to_u32(s, len, uid_r) && *uid_r != 0;
}

static bool parse_flags(const char *s, size_t len, flagset_t *flags_r)
{
    for (size_t i = 0; i < len; i++)
        if (!flag_letter_valid(s[i]))
            return false;
    *flags_r = flags_from_letters(s, len);
    return true;
}

static bool parse_v1(struct status_plain_parser *p, const char *t, struct err *e)
{
    const char *colon = strchr(t, ':');
    if (!colon || strchr(colon + 1, ':'))
        return corrupt(p, e, "expected uid:flags", t);
    uint32_t uid;
    flagset_t flags;
    if (!parse_uid(t, (size_t)(colon - t), &uid))
        return corrupt(p, e, "the UID is not a number from 1 to 4294967295", t);
    if (!parse_flags(colon + 1, strlen(colon + 1), &flags))
        return corrupt(p, e, "the flags are not letters", t);
    status_rows_push(p->rows, uid, flags, 0, NULL);
    return true;
}

static bool parse_v2(struct status_plain_parser *p, const char *t, struct err *e)
{
    const char *f[4];
    size_t n = 0;
    f[n++] = t;
    for (const char *s = t; *s; s++) {
        if (*s != '|')
            continue;
        if (n == 4)
            return corrupt(p, e, "expected uid|flags|mtime|labels", t);
        f[n++] = s + 1;
    }
    if (n != 4)
        return corrupt(p, e, "expected uid|flags|mtime|labels", t);
    uint32_t uid;
    flagset_t flags;
    int64_t mtime;
    if (!parse_uid(f[0], (size_t)(f[1] - 1 - f[0]), &uid))
        return corrupt(p, e, "the UID is not a number from 1 to 4294967295", t);
    if (!parse_flags(f[1], (size_t)(f[2] - 1 - f[1]), &flags))
        return corrupt(p, e, "the flags are not letters", t);
    if (!str_to_i64(f[2], (size_t)(f[3] - 1 - f[2]), &mtime))
        return corrupt(p, e, "the mtime is not a number", t);
    status_rows_push(p->rows, uid, flags, mtime, f[3]);
    return true;
}

/* A whole line (without its line break) is in p->line. */
static bool parse_line(struct status_plain_parser *p, struct err *e)
{
    char *s = p->line.data;
    size_t len = p->line.len;
    if (memchr(s, '\0', len)) {
        buf_reset(&p->line);
        return corrupt(p, e, "it contains a NUL byte", "");
    }
    while (len > 0 && is_blank(s[len - 1]))
        s[--len] = '\0';
    while (is_blank(*s))
        s++;
    bool ok;
    if (p->format == 0) {
        size_t mlen = strlen(STATUS_PLAIN_MAGIC);
        if (strncmp(s, STATUS_PLAIN_MAGIC, mlen) == 0 &&
            (!strcmp(s + mlen, "1") || !strcmp(s + mlen, "2"))) {
            p->format = s[mlen] - '0';
            ok = true;
        } else {
            err_set(e, ERR_FOLDER, ERRK_GENERIC,
                    "Unrecognized cache magicline in '%s' (\"%.60s\"): it is not an offlineimap "
                    "status file.",
                    p->name, s);
            p->failed = true;
            ok = false;
        }
    } else if (*s == '\0') {
        ok = corrupt(p, e, "the line is empty", s);
    } else {
        ok = p->format == 1 ? parse_v1(p, s, e) : parse_v2(p, s, e);
    }
    buf_reset(&p->line);
    p->lineno++;
    return ok;
}

bool status_plain_parser_feed(struct status_plain_parser *p, const void *data, size_t len,
                              struct err *e)
{
    if (p->failed) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "Status file '%s': reading went on after an error.",
                p->name);
        return false;
    }
    const char *s = data, *end = s + len;
    while (s < end) {
        if (p->after_cr && *s == '\n') {
            p->after_cr = false;
            s++;
            continue;
        }
        p->after_cr = false;
        const char *brk = s;
        while (brk < end && *brk != '\n' && *brk != '\r')
            brk++;
        if (!buf_append(&p->line, s, (size_t)(brk - s))) {
            err_set(e, ERR_FOLDER, ERRK_GENERIC,
                    "Corrupt line %zu in status file '%s': longer than %d bytes.", p->lineno,
                    p->name, STATUS_PLAIN_LINE_MAX);
            p->failed = true;
            return false;
        }
        if (brk == end)
            break;
        p->after_cr = *brk == '\r';
        s = brk + 1;
        if (!parse_line(p, e))
            return false;
    }
    return true;
}

bool status_plain_parser_finish(struct status_plain_parser *p, struct err *e)
{
    if (p->failed) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "Status file '%s': reading went on after an error.",
                p->name);
        return false;
    }
    if (p->line.len > 0 && !parse_line(p, e))
        return false;
    if (p->format == 0) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC,
                "The status file '%s' is empty: it lost its content (a crash while it was "
                "written?).",
                p->name);
        p->failed = true;
        return false;
    }
    status_rows_sort(p->rows);
    return true;
}

bool status_plain_read(const char *path, struct status_rows *rows, bool *present_r, int *format_r,
                       struct err *e)
{
    *present_r = false;
    if (format_r)
        *format_r = 0;
    status_rows_clear(rows);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return true;
        err_set(e, ERR_FOLDER, ERRK_GENERIC, "Cannot open the status file %s: %s.", path,
                strerror(errno));
        return false;
    }
    struct status_plain_parser p;
    status_plain_parser_init(&p, path, rows);
    char *chunk = xmalloc(65536);
    bool ok = true;
    for (;;) {
        ssize_t n = read(fd, chunk, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_set(e, ERR_FOLDER, ERRK_GENERIC, "Cannot read the status file %s: %s.", path,
                    strerror(errno));
            ok = false;
            break;
        }
        if (n == 0)
            break;
        if (!(ok = status_plain_parser_feed(&p, chunk, (size_t)n, e)))
            break;
    }
    if (ok)
        ok = status_plain_parser_finish(&p, e);
    free(chunk);
    close(fd);
    if (ok) {
        *present_r = true;
        if (format_r)
            *format_r = p.format;
    } else {
        status_rows_clear(rows);
    }
    status_plain_parser_release(&p);
    return ok;
}
