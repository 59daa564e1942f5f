/*
 * store_maildir_fetch: stream message files to a sink in wire form.
 *
 * Files hold LF line endings; the wire form has CRLF.  Every LF not preceded
 * by CR becomes CRLF, everything else passes unchanged (a lone CR, an
 * existing CRLF, 8-bit bytes, NULs).  The wire size is announced before the
 * first byte, so a file is read twice unless it fits in one buffer; if it
 * changes between the passes the message fails (ERR_MSG) and is sent again
 * on a later run.
 */
#include "store/maildir_priv.h"

#include "base/prof.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fetch_io {
    char *in;      /* MAILDIR_IO_CHUNK bytes */
    char *out;     /* 2 * MAILDIR_IO_CHUNK bytes */
    size_t in_len; /* bytes of the first chunk kept from the counting pass */
    bool whole;    /* the whole file is in `in` */
};

static ssize_t read_full(int fd, char *p, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Bare LFs in p[0..len); *prev is the byte before p (updated). */
static uint64_t count_bare_lf(const char *p, size_t len, char *prev)
{
    uint64_t n = 0;
    char c = *prev;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\n' && c != '\r')
            n++;
        c = p[i];
    }
    *prev = c;
    return n;
}

static size_t to_wire(const char *in, size_t len, char *out, char *prev)
{
    size_t o = 0;
    char c = *prev;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\n' && c != '\r')
            out[o++] = '\r';
        out[o++] = in[i];
        c = in[i];
    }
    *prev = c;
    return o;
}

/* First pass: the wire size.  Keeps the first chunk for the second pass. */
static bool measure(int fd, struct fetch_io *io, uint64_t *wire_r)
{
    uint64_t wire = 0;
    char prev = '\0';
    bool first = true;
    io->whole = false;
    for (;;) {
        ssize_t n = read_full(fd, io->in, MAILDIR_IO_CHUNK);
        if (n < 0)
            return false;
        wire += (uint64_t)n + count_bare_lf(io->in, (size_t)n, &prev);
        if (first)
            io->in_len = (size_t)n;
        if ((size_t)n < MAILDIR_IO_CHUNK) {
            io->whole = first;
            break;
        }
        first = false;
    }
    *wire_r = wire;
    return true;
}

enum send_result {
    SEND_OK,
    SEND_FILE_ERR, /* the file: ERR_MSG in e, sink aborted if begun */
    SEND_SINK_ERR, /* the sink failed: its error is in e */
};

static enum send_result send_msg(struct store_folder *f, const struct maildir_msg *m, int fd,
                                 const struct store_msg *meta, const struct store_sink *sink,
                                 struct fetch_io *io, struct err *e)
{
    uint64_t wire;
    if (!measure(fd, io, &wire))
        goto read_error;
    prof_add("maildir", "read message", 1, wire);
    if (!sink->begin(sink->ctx, meta, wire, e))
        return SEND_SINK_ERR;
    uint64_t sent = 0;
    char prev = '\0';
    if (!io->whole && lseek(fd, 0, SEEK_SET) != 0)
        goto read_error_begun;
    for (bool first = true;; first = false) {
        ssize_t n;
        if (io->whole && first)
            n = (ssize_t)io->in_len;
        else if (io->whole)
            n = 0;
        else if ((n = read_full(fd, io->in, MAILDIR_IO_CHUNK)) < 0)
            goto read_error_begun;
        if (n == 0)
            break;
        size_t o = to_wire(io->in, (size_t)n, io->out, &prev);
        sent += o;
        if (sent > wire)
            break;
        if (!sink->write(sink->ctx, io->out, o, e)) {
            if (sink->abort)
                sink->abort(sink->ctx);
            return SEND_SINK_ERR;
        }
    }
    if (sent != wire) {
        if (sink->abort)
            sink->abort(sink->ctx);
        char *what = maildir_msg_describe(f, m);
        err_set(e, ERR_MSG, ERRK_GENERIC,
                "Maildir folder %s: message %s changed while it was being read.", f->path, what);
        free(what);
        return SEND_FILE_ERR;
    }
    if (!sink->end(sink->ctx, meta, e))
        return SEND_SINK_ERR;
    return SEND_OK;

read_error_begun:
    if (sink->abort)
        sink->abort(sink->ctx);
read_error:;
    int err = errno;
    char *what = maildir_msg_describe(f, m);
    err_set(e, ERR_MSG, maildir_errkind(err), "Maildir folder %s: cannot read message %s: %s.",
            f->path, what, strerror(err));
    free(what);
    return SEND_FILE_ERR;
}

/* Open a message's file, looking for its new name if it was renamed. */
static int open_msg(struct store_folder *f, struct maildir_msg *m, struct err *e)
{
    int fd = openat(f->dfd[m->sub], m->name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && errno == ENOENT) {
        struct maildir_msg old = *m;
        struct err re = ERR_INIT;
        if (maildir_relocate(f, m, &re))
            fd = openat(f->dfd[m->sub], m->name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        else
            errno = ENOENT;
        err_clear(&re);
        if (fd < 0)
            *m = old;
    }
    if (fd < 0) {
        int err = errno;
        char *what = maildir_msg_describe(f, m);
        err_set(e, ERR_MSG, maildir_errkind(err), "Maildir folder %s: cannot open message %s: %s.",
                f->path, what, err == ENOENT ? "it has vanished" : strerror(err));
        free(what);
    }
    return fd;
}

bool maildir_fetch(struct store_folder *f, const struct store_msg *msgs, size_t n,
                   const struct store_sink *sink, struct err *e)
{
    struct fetch_io io = {xmalloc(MAILDIR_IO_CHUNK), xmalloc(2 * MAILDIR_IO_CHUNK), 0, false};
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        struct err me = ERR_INIT;
        struct store_msg meta = msgs[i];
        struct maildir_msg *m = maildir_msg_by_key(f, msgs[i].key, &me);
        int fd = m ? open_msg(f, m, &me) : -1;
        if (fd >= 0) {
            struct stat sb;
            meta.uid = m->uid;
            meta.flags = m->flags;
            if (fstat(fd, &sb) == 0) {
                meta.size = (uint64_t)sb.st_size;
                meta.date = (int64_t)sb.st_mtime;
            }
            send_msg(f, m, fd, &meta, sink, &io, &me);
            close(fd);
        }
        if (err_isset(&me)) {
            if (me.scope == ERR_MSG) {
                if (sink->msg_error)
                    sink->msg_error(sink->ctx, &meta, &me);
            } else {
                err_move(e, &me);
                ok = false;
            }
        }
        err_clear(&me);
    }
    maildir_relocation_end(f);
    free(io.in);
    free(io.out);
    return ok;
}
