#include "store/msghdr.h"

#include <string.h>
#include <strings.h>

size_t msghdr_length(const char *msg, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(msg + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - msg) + 1 : len;
        size_t linelen = end - pos;
        /* An empty line (LF or CRLF) ends the header. */
        if (linelen == 1 || (linelen == 2 && msg[pos] == '\r'))
            return end;
        pos = end;
    }
    return len;
}

bool msghdr_get(const char *hdr, size_t len, const char *name, struct buf *out)
{
    size_t nlen = strlen(name);
    size_t pos = 0;
    buf_reset(out);
    while (pos < len) {
        const char *nl = memchr(hdr + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - hdr) + 1 : len;
        if (end - pos > nlen && hdr[pos + nlen] == ':' && !strncasecmp(hdr + pos, name, nlen)) {
            /* The value, then every continuation line (starting with space or tab). */
            size_t vpos = pos + nlen + 1;
            for (;;) {
                size_t vend = end;
                while (vend > vpos && (hdr[vend - 1] == '\n' || hdr[vend - 1] == '\r'))
                    vend--;
                if (!buf_append(out, hdr + vpos, vend - vpos))
                    return false;
                if (end >= len || (hdr[end] != ' ' && hdr[end] != '\t'))
                    break;
                vpos = end;
                nl = memchr(hdr + end, '\n', len - end);
                end = nl ? (size_t)(nl - hdr) + 1 : len;
            }
            /* Trim. */
            size_t s = 0;
            while (s < out->len && (out->data[s] == ' ' || out->data[s] == '\t'))
                s++;
            buf_consume(out, s);
            while (out->len && (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\t'))
                buf_truncate(out, out->len - 1);
            return true;
        }
        if (end - pos <= 2 && (hdr[pos] == '\n' || hdr[pos] == '\r'))
            break; /* end of the header */
        pos = end;
    }
    return false;
}

bool msghdr_message_id(const char *hdr, size_t len, struct buf *out)
{
    if (!msghdr_get(hdr, len, "Message-ID", out))
        return false;
    const char *lt = memchr(out->data, '<', out->len);
    if (!lt)
        return out->len > 0;
    const char *gt = memchr(lt, '>', out->len - (size_t)(lt - out->data));
    if (!gt)
        return out->len > 0;
    size_t start = (size_t)(lt - out->data), n = (size_t)(gt - lt) + 1;
    buf_consume(out, start);
    buf_truncate(out, n);
    return true;
}
