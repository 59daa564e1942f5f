#include "imap/imap_text.h"

#include <stdio.h>

bool imap_is_atom_char(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f)
        return false;
    switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']':
        return false;
    default:
        return true;
    }
}

void imap_text_quote(const void *s, size_t len, char *out)
{
    const unsigned char *p = s;
    size_t n = len > IMAP_QUOTE_MAX ? IMAP_QUOTE_MAX : len;
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            *o++ = (char)c;
        } else if (c == '\r' || c == '\n' || c == '\t') {
            *o++ = '\\';
            *o++ = c == '\r' ? 'r' : c == '\n' ? 'n' : 't';
        } else {
            snprintf(o, 5, "\\x%02x", c);
            o += 4;
        }
    }
    if (n < len) {
        *o++ = '.';
        *o++ = '.';
        *o++ = '.';
    }
    *o = '\0';
}
