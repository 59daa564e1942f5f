#include "imap/imap_utf7.h"

#include "imap/imap_text.h"

#include <stdint.h>

/* Modified BASE64: RFC 2045's alphabet with "," in place of "/". */
static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == ',')
        return 63;
    return -1;
}

static bool is_printable(unsigned char c)
{
    return c >= 0x20 && c <= 0x7e;
}

static bool fail(struct err *e, enum err_kind kind, const char *what, const char *in, size_t len,
                 const char *why, size_t at)
{
    char q[IMAP_QUOTE_SIZE];
    imap_text_quote(in, len, q);
    err_set(e, ERR_FOLDER, kind, "The folder name \"%s\" is not valid %s: %s at byte %zu.", q, what,
            why, at);
    return false;
}

static bool too_long(struct err *e, const char *in, size_t len)
{
    char q[IMAP_QUOTE_SIZE];
    imap_text_quote(in, len, q);
    err_set(e, ERR_FOLDER, ERRK_GENERIC, "The folder name \"%s\" is too long once converted.", q);
    return false;
}

/* One UTF-8 sequence at s[*i]; false if it is not the shortest valid form. */
static bool utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp_r)
{
    unsigned char c = s[*i];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) {
        *cp_r = c;
        (*i)++;
        return true;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return false;
    }
    if (len - *i < n)
        return false;
    for (size_t k = 1; k < n; k++) {
        unsigned char d = s[*i + k];
        if ((d & 0xc0) != 0x80)
            return false;
        cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return false;
    *i += n;
    *cp_r = cp;
    return true;
}

static bool put_utf8(struct buf *out, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12)), n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18)), n = 4;
    }
    for (size_t k = 1; k < n; k++)
        u[k] = (char)(0x80 | ((cp >> (6 * (n - 1 - k))) & 0x3f));
    return buf_append(out, u, n);
}

bool imap_utf8_to_mutf7(const char *in, size_t len, struct buf *out, struct err *e)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0;
    while (i < len) {
        if (is_printable(s[i])) {
            bool ok = s[i] == '&' ? buf_append(out, "&-", 2) : buf_append_char(out, (char)s[i]);
            if (!ok)
                return too_long(e, in, len);
            i++;
            continue;
        }
        /* A run of characters outside printable ASCII becomes one BASE64 run. */
        if (!buf_append_char(out, '&'))
            return too_long(e, in, len);
        uint32_t bits = 0;
        unsigned nbits = 0;
        while (i < len && !is_printable(s[i])) {
            size_t at = i;
            uint32_t cp;
            if (!utf8_next(s, len, &i, &cp))
                return fail(e, ERRK_GENERIC, "UTF-8", in, len, "invalid UTF-8 sequence", at);
            if (cp == 0)
                return fail(e, ERRK_GENERIC, "UTF-8", in, len, "NUL character", at);
            uint16_t units[2];
            size_t nu = 1;
            if (cp >= 0x10000) {
                units[0] = (uint16_t)(0xd800 + ((cp - 0x10000) >> 10));
                units[1] = (uint16_t)(0xdc00 + ((cp - 0x10000) & 0x3ff));
                nu = 2;
            } else {
                units[0] = (uint16_t)cp;
            }
            for (size_t k = 0; k < nu; k++) {
                bits = (bits << 16) | units[k];
                nbits += 16;
                while (nbits >= 6) {
                    nbits -= 6;
                    if (!buf_append_char(out, b64_chars[(bits >> nbits) & 0x3f]))
                        return too_long(e, in, len);
                }
                bits &= (1u << nbits) - 1;
            }
        }
        if (nbits > 0 && !buf_append_char(out, b64_chars[(bits << (6 - nbits)) & 0x3f]))
            return too_long(e, in, len);
        if (!buf_append_char(out, '-'))
            return too_long(e, in, len);
    }
    return true;
}

bool imap_mutf7_to_utf8(const char *in, size_t len, struct buf *out, struct err *e)
{
    const char *what = "modified UTF-7";
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0;
    bool after_run = false;
    while (i < len) {
        unsigned char c = s[i];
        if (!is_printable(c))
            return fail(e, ERRK_PROTOCOL, what, in, len, "byte outside printable ASCII", i);
        if (c != '&') {
            if (!buf_append_char(out, (char)c))
                return too_long(e, in, len);
            after_run = false;
            i++;
            continue;
        }
        if (i + 1 < len && s[i + 1] == '-') {
            if (!buf_append_char(out, '&'))
                return too_long(e, in, len);
            after_run = false;
            i += 2;
            continue;
        }
        if (after_run)
            return fail(e, ERRK_PROTOCOL, what, in, len, "an encoded run right after another", i);
        size_t start = i++;
        uint32_t bits = 0, high = 0;
        unsigned nbits = 0;
        size_t units = 0;
        for (;;) {
            if (i == len)
                return fail(e, ERRK_PROTOCOL, what, in, len, "unterminated \"&\" sequence", start);
            if (s[i] == '-')
                break;
            int v = b64_value(s[i]);
            if (v < 0)
                return fail(e, ERRK_PROTOCOL, what, in, len, "character outside modified BASE64",
                            i);
            bits = (bits << 6) | (uint32_t)v;
            nbits += 6;
            i++;
            if (nbits < 16)
                continue;
            nbits -= 16;
            uint32_t u = (bits >> nbits) & 0xffff;
            bits &= (1u << nbits) - 1;
            units++;
            uint32_t cp;
            if (high) {
                if (u < 0xdc00 || u > 0xdfff)
                    return fail(e, ERRK_PROTOCOL, what, in, len,
                                "high surrogate without a low surrogate", i);
                cp = 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00);
                high = 0;
            } else if (u >= 0xd800 && u <= 0xdbff) {
                high = u;
                continue;
            } else if (u >= 0xdc00 && u <= 0xdfff) {
                return fail(e, ERRK_PROTOCOL, what, in, len,
                            "low surrogate without a high surrogate", i);
            } else if (u == 0) {
                return fail(e, ERRK_PROTOCOL, what, in, len, "encoded NUL character", i);
            } else if (is_printable((unsigned char)u) && u < 0x80) {
                return fail(e, ERRK_PROTOCOL, what, in, len, "encoded printable ASCII", i);
            } else {
                cp = u;
            }
            if (!put_utf8(out, cp))
                return too_long(e, in, len);
        }
        if (units == 0)
            return fail(e, ERRK_PROTOCOL, what, in, len, "empty encoded run", start);
        if (high)
            return fail(e, ERRK_PROTOCOL, what, in, len, "high surrogate at the end of a run", i);
        if (nbits >= 6)
            return fail(e, ERRK_PROTOCOL, what, in, len, "superfluous BASE64 character", i);
        if (bits != 0)
            return fail(e, ERRK_PROTOCOL, what, in, len, "non-zero padding bits", i);
        i++; /* the "-" */
        after_run = true;
    }
    return true;
}

bool imap_mutf7_is_plain(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_printable((unsigned char)s[i]) || s[i] == '&')
            return false;
    return true;
}
