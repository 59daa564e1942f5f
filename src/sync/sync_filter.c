#include "sync/sync_filter.h"

#include <string.h>

static bool named(const char *line, size_t len, const struct strvec *names)
{
    for (size_t i = 0; i < names->n; i++) {
        size_t n = strlen(names->v[i]);
        if (n < len && line[n] == ':' && memcmp(line, names->v[i], n) == 0)
            return true;
    }
    return false;
}

void sync_filter_header(const char *hdr, size_t len, const struct strvec *names, struct buf *out)
{
    size_t pos = 0;
    bool dropping = false;
    while (pos < len) {
        const char *nl = memchr(hdr + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - hdr) + 1 : len;
        bool continuation = hdr[pos] == ' ' || hdr[pos] == '\t';
        if (!continuation)
            dropping = named(hdr + pos, end - pos, names);
        if (!dropping)
            buf_append(out, hdr + pos, end - pos);
        pos = end;
    }
}
