/*
 * buf: a growable byte buffer with a mandatory maximum size.
 *
 * Guarantees: `data` is never NULL after buf_init() and is always
 * NUL-terminated (the terminator is not counted in `len`), so a buffer can be
 * handed to string functions directly.  Growth past `max` fails with false and
 * leaves the buffer unchanged; the caller turns that into an error naming the
 * limit.  Every buffer filled from the network or from a file has a max.
 */
#ifndef BASE_BUF_H
#define BASE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap; /* allocated bytes, including room for the terminator */
    size_t max; /* largest allowed len */
};

/* Use for buffers whose content comes from our own code, not from input. */
#define BUF_UNBOUNDED ((size_t)-1 / 2)

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/* Take ownership of the contents; the buffer is reset to empty. */
char *buf_detach(struct buf *b, size_t *len_r);
void buf_reset(struct buf *b);
/* Make room for n more bytes; false if len + n would exceed max. */
bool buf_reserve(struct buf *b, size_t n);
bool buf_append(struct buf *b, const void *data, size_t n);
bool buf_append_str(struct buf *b, const char *s);
bool buf_append_char(struct buf *b, char c);
bool buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Remove the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
void buf_truncate(struct buf *b, size_t len);
/* Space after the data, for callers that read() into it; then buf_commit(). */
static inline char *buf_tail(struct buf *b)
{
    return b->data + b->len;
}
static inline size_t buf_avail(const struct buf *b)
{
    return b->cap - b->len - 1;
}
void buf_commit(struct buf *b, size_t n);

#endif
