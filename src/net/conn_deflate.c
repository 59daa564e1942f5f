/*
 * conn_deflate: the COMPRESS=DEFLATE filter (RFC 4978).
 *
 * Both directions are raw DEFLATE streams (zlib windowBits -15) that never
 * end; every flush of ours ends with Z_SYNC_FLUSH so the server can decode
 * all we sent.  All three buffers are fixed: the compressed input read from
 * below, the decompressed data not yet handed up, and the compressed output
 * not yet handed down.  A small input that inflates to gigabytes is only
 * ever decompressed one buffer at a time, as fast as the caller reads.
 */
#include "net/conn_internal.h"

#include "base/log.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define DEFL_IN_SIZE (16 * 1024)
#define DEFL_OUT_SIZE (32 * 1024)
#define DEFL_W_SIZE (32 * 1024)

struct deflate_filter {
    struct conn_filter f;
    z_stream zin;
    z_stream zout;

    unsigned char in[DEFL_IN_SIZE]; /* compressed input; zin.next_in/avail_in: the unread part */
    unsigned char out[DEFL_OUT_SIZE];
    size_t out_pos, out_len; /* decompressed, not yet delivered */
    bool in_more;            /* inflate filled out: it may hold more output */
    bool in_end;             /* end of the compressed stream or of the stream below */
    struct err stashed;      /* an error met by readable(), for the next read */

    unsigned char w[DEFL_W_SIZE];
    size_t w_pos, w_len; /* compressed, not yet handed down */
    bool dirty;          /* input given to deflate since the last completed sync flush */
    bool flushing;       /* a Z_SYNC_FLUSH ran out of room and must be finished */
};

/* Decompress into out (which is empty): >0, 0 at the end, CONN_ERROR or CONN_AGAIN. */
static ssize_t fill(struct deflate_filter *d, struct err *e)
{
    struct conn *c = d->f.conn;
    for (;;) {
        if (d->zin.avail_in > 0 || d->in_more) {
            uInt before = d->zin.avail_in;
            d->zin.next_out = d->out;
            d->zin.avail_out = DEFL_OUT_SIZE;
            int r = inflate(&d->zin, Z_SYNC_FLUSH);
            size_t got = DEFL_OUT_SIZE - d->zin.avail_out;
            d->in_more = d->zin.avail_out == 0;
            if (r == Z_STREAM_END) {
                d->in_end = true;
            } else if ((r != Z_OK && r != Z_BUF_ERROR) ||
                       (got == 0 && d->zin.avail_in > 0 && d->zin.avail_in == before)) {
                err_set(e, ERR_REPO, ERRK_PROTOCOL, "Invalid compressed data from %s: %s.", c->desc,
                        d->zin.msg ? d->zin.msg : "inflate failed");
                return CONN_ERROR;
            }
            if (got > 0) {
                d->out_pos = 0;
                d->out_len = got;
                return (ssize_t)got;
            }
        }
        if (d->in_end)
            return 0;
        ssize_t n = d->f.below->ops->read(d->f.below, d->in, DEFL_IN_SIZE, e);
        if (n == 0)
            d->in_end = true;
        if (n <= 0)
            return n;
        d->zin.next_in = d->in;
        d->zin.avail_in = (uInt)n;
    }
}

static ssize_t defl_read(struct conn_filter *f, void *buf, size_t len, struct err *e)
{
    struct deflate_filter *d = (struct deflate_filter *)f;
    if (err_isset(&d->stashed)) {
        err_move(e, &d->stashed);
        return CONN_ERROR;
    }
    if (d->out_pos == d->out_len) {
        ssize_t n = fill(d, e);
        if (n <= 0)
            return n;
    }
    size_t n = d->out_len - d->out_pos;
    if (n > len)
        n = len;
    memcpy(buf, d->out + d->out_pos, n);
    d->out_pos += n;
    return (ssize_t)n;
}

/* Hand the compressed output down: 1 when all is gone, CONN_AGAIN or CONN_ERROR. */
static int push(struct deflate_filter *d, struct err *e)
{
    while (d->w_pos < d->w_len) {
        ssize_t n = d->f.below->ops->write(d->f.below, d->w + d->w_pos, d->w_len - d->w_pos, e);
        if (n < 0)
            return (int)n;
        d->w_pos += (size_t)n;
    }
    d->w_pos = d->w_len = 0;
    return 1;
}

/* Run (or finish) a Z_SYNC_FLUSH and hand everything down. */
static int sync_flush(struct deflate_filter *d, struct err *e)
{
    for (;;) {
        if ((d->dirty || d->flushing) && d->w_len < DEFL_W_SIZE) {
            d->zout.next_in = NULL;
            d->zout.avail_in = 0;
            d->zout.next_out = d->w + d->w_len;
            d->zout.avail_out = (uInt)(DEFL_W_SIZE - d->w_len);
            int r = deflate(&d->zout, Z_SYNC_FLUSH);
            if (r != Z_OK && r != Z_BUF_ERROR) {
                err_set(e, ERR_REPO, ERRK_GENERIC, "Compressing data for %s failed: %s.",
                        d->f.conn->desc, d->zout.msg ? d->zout.msg : "deflate failed");
                return CONN_ERROR;
            }
            d->w_len = DEFL_W_SIZE - d->zout.avail_out;
            /* zlib: a flush that filled the buffer must be called again. */
            d->flushing = d->zout.avail_out == 0;
            if (!d->flushing)
                d->dirty = false;
        }
        int r = push(d, e);
        if (r != 1)
            return r;
        if (!d->dirty && !d->flushing)
            return 1;
    }
}

static ssize_t defl_write(struct conn_filter *f, const void *data, size_t len, struct err *e)
{
    struct deflate_filter *d = (struct deflate_filter *)f;
    if (d->flushing) {
        int r = sync_flush(d, e);
        if (r != 1)
            return r;
    }
    size_t taken = 0;
    while (taken < len) {
        if (d->w_len < DEFL_W_SIZE) {
            d->zout.next_in = (unsigned char *)data + taken;
            d->zout.avail_in = (uInt)(len - taken > 1u << 30 ? 1u << 30 : len - taken);
            uInt offered = d->zout.avail_in;
            d->zout.next_out = d->w + d->w_len;
            d->zout.avail_out = (uInt)(DEFL_W_SIZE - d->w_len);
            int r = deflate(&d->zout, Z_NO_FLUSH);
            if (r != Z_OK && r != Z_BUF_ERROR) {
                err_set(e, ERR_REPO, ERRK_GENERIC, "Compressing data for %s failed: %s.",
                        f->conn->desc, d->zout.msg ? d->zout.msg : "deflate failed");
                return CONN_ERROR;
            }
            taken += offered - d->zout.avail_in;
            d->w_len = DEFL_W_SIZE - d->zout.avail_out;
            if (offered != d->zout.avail_in)
                d->dirty = true;
            if (taken == len)
                break;
        }
        /* The output buffer is full. */
        int r = push(d, e);
        if (r == CONN_ERROR)
            return CONN_ERROR;
        if (r == CONN_AGAIN)
            break;
    }
    return taken > 0 ? (ssize_t)taken : CONN_AGAIN;
}

static int defl_flush(struct conn_filter *f, struct err *e)
{
    struct deflate_filter *d = (struct deflate_filter *)f;
    int r = sync_flush(d, e);
    if (r != 1)
        return r;
    return f->below->ops->flush(f->below, e);
}

static bool defl_readable(struct conn_filter *f)
{
    struct deflate_filter *d = (struct deflate_filter *)f;
    if (d->out_pos < d->out_len || err_isset(&d->stashed) || d->in_end)
        return true;
    return fill(d, &d->stashed) != CONN_AGAIN;
}

static bool defl_buffered(struct conn_filter *f)
{
    struct deflate_filter *d = (struct deflate_filter *)f;
    return d->out_pos < d->out_len || d->zin.avail_in > 0 || d->in_more ||
           f->below->ops->buffered(f->below);
}

static void defl_free(struct conn_filter *f)
{
    struct deflate_filter *d = (struct deflate_filter *)f;
    inflateEnd(&d->zin);
    deflateEnd(&d->zout);
    err_clear(&d->stashed);
    free(d);
}

static const struct conn_filter_ops deflate_ops = {
    .name = "deflate",
    .read = defl_read,
    .write = defl_write,
    .flush = defl_flush,
    .readable = defl_readable,
    .buffered = defl_buffered,
    .free = defl_free,
};

bool conn_start_deflate(struct conn *c, struct err *e)
{
    if (c->dead_msg) {
        err_set(e, ERR_REPO, c->dead_kind, "%s", c->dead_msg);
        return false;
    }
    if (c->deflate_on) {
        err_set(e, ERR_REPO, ERRK_PROTOCOL, "Compression is already active on %s.", c->desc);
        return false;
    }
    /* What was written before goes out uncompressed. */
    if (!conn_flush(c, e))
        return false;
    struct deflate_filter *d = xcalloc(1, sizeof(*d));
    if (inflateInit2(&d->zin, -15) != Z_OK) {
        free(d);
        err_set(e, ERR_REPO, ERRK_GENERIC, "Could not set up decompression for %s.", c->desc);
        return false;
    }
    if (deflateInit2(&d->zout, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        inflateEnd(&d->zin);
        free(d);
        err_set(e, ERR_REPO, ERRK_GENERIC, "Could not set up compression for %s.", c->desc);
        return false;
    }
    d->f.ops = &deflate_ops;
    conn_push_filter(c, &d->f);
    c->deflate_on = true;
    log_debug(LOGC_IMAP, "DEFLATE compression active on %s", c->desc);
    return true;
}
