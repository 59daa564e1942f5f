#include "base/buf.h"

#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char empty_data[1];

void buf_init(struct buf *b, size_t max)
{
    b->data = empty_data;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void buf_release(struct buf *b)
{
    if (b->cap)
        free(b->data);
    buf_init(b, b->max);
}

char *buf_detach(struct buf *b, size_t *len_r)
{
    char *p = b->cap ? b->data : xstrdup("");
    if (len_r)
        *len_r = b->len;
    buf_init(b, b->max);
    return p;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->cap)
        b->data[0] = '\0';
}

bool buf_reserve(struct buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return false;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > ((size_t)-1) / 4 ? need : cap * 2;
    if (b->cap) {
        b->data = xrealloc(b->data, cap);
    } else {
        b->data = xmalloc(cap);
        b->data[0] = '\0';
    }
    b->cap = cap;
    return true;
}

bool buf_append(struct buf *b, const void *data, size_t n)
{
    if (!buf_reserve(b, n))
        return false;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool buf_append_str(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

bool buf_append_char(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

bool buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0 || !buf_reserve(b, (size_t)n))
        return false;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return true;
}

bool buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return ok;
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

void buf_truncate(struct buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

void buf_commit(struct buf *b, size_t n)
{
    b->len += n;
    b->data[b->len] = '\0';
}
