/*
 * mbnames_json: writing and reading the intermediate mbnames files the way
 * Python's json module does (see mbnames_json.h).
 */
#include "cli/mbnames_json.h"

#include "base/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void mbnames_items_push(struct mbnames_items *it, const char *account, const char *folder,
                        const char *root)
{
    if (it->n == it->cap) {
        it->cap = it->cap ? it->cap * 2 : 16;
        it->v = xreallocarray(it->v, it->cap, sizeof(*it->v));
    }
    struct mbnames_item *m = &it->v[it->n++];
    m->account = xstrdup(account);
    m->folder = xstrdup(folder);
    m->root = root ? xstrdup(root) : NULL;
}

static void items_truncate(struct mbnames_items *it, size_t n)
{
    while (it->n > n) {
        struct mbnames_item *m = &it->v[--it->n];
        free(m->account);
        free(m->folder);
        free(m->root);
    }
}

void mbnames_items_free(struct mbnames_items *it)
{
    items_truncate(it, 0);
    free(it->v);
    it->v = NULL;
    it->cap = 0;
}

/*
 * One UTF-8 sequence at s (n bytes left): its code point and length, or 0 if
 * the bytes there are not a valid, shortest-form sequence of a scalar value
 * (RFC 3629: no surrogates, nothing above U+10FFFF).
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp_r)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp_r = c;
        return 1;
    }
    size_t len;
    uint32_t cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *cp_r = cp;
    return len;
}

static void put_utf8(struct buf *b, uint32_t cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) {
        t[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        t[0] = (char)(0xc0 | (cp >> 6)), t[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
    } else if (cp < 0x10000) {
        t[0] = (char)(0xe0 | (cp >> 12)), t[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        t[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
    } else {
        t[0] = (char)(0xf0 | (cp >> 18)), t[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), t[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
    }
    buf_append(b, t, n);
}

/* json.encoder's py_encode_basestring_ascii, for a UTF-8 (or surrogate-escaped) string. */
static void write_string(struct buf *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
    buf_append_char(b, '"');
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        if (len == 0) {
            /* os.listdir() gives an undecodable byte as U+DC00 + byte. */
            cp = 0xdc00 + s[i];
            len = 1;
        }
        i += len;
        switch (cp) {
        case '"':
            buf_append_str(b, "\\\"");
            continue;
        case '\\':
            buf_append_str(b, "\\\\");
            continue;
        case '\n':
            buf_append_str(b, "\\n");
            continue;
        case '\r':
            buf_append_str(b, "\\r");
            continue;
        case '\t':
            buf_append_str(b, "\\t");
            continue;
        case '\b':
            buf_append_str(b, "\\b");
            continue;
        case '\f':
            buf_append_str(b, "\\f");
            continue;
        default:
            break;
        }
        if (cp >= 0x20 && cp <= 0x7e) {
            buf_append_char(b, (char)cp);
        } else if (cp < 0x10000) {
            buf_printf(b, "\\u%04x", (unsigned)cp);
        } else {
            uint32_t v = cp - 0x10000;
            buf_printf(b, "\\u%04x\\u%04x", (unsigned)(0xd800 | (v >> 10)),
                       (unsigned)(0xdc00 | (v & 0x3ff)));
        }
    }
    buf_append_char(b, '"');
}

void mbnames_json_write(const struct mbnames_items *it, struct buf *out)
{
    buf_append_char(out, '[');
    for (size_t i = 0; i < it->n; i++) {
        const struct mbnames_item *m = &it->v[i];
        buf_append_str(out, i ? ", {\"accountname\": " : "{\"accountname\": ");
        write_string(out, m->account);
        buf_append_str(out, ", \"foldername\": ");
        write_string(out, m->folder);
        buf_append_str(out, ", \"localfolders\": ");
        if (m->root)
            write_string(out, m->root);
        else
            buf_append_str(out, "null");
        buf_append_char(out, '}');
    }
    buf_append_char(out, ']');
}

/* ------------------------------------------------------------------ reading */

struct jp {
    const unsigned char *s;
    size_t n, pos;
    const char *label;
    struct err *e;
};

static bool jp_fail(struct jp *p, const char *what)
{
    err_set(p->e, ERR_FOLDER, ERRK_GENERIC,
            "intermediate mbnames file %s is not a valid mailbox list: %s at byte %zu.", p->label,
            what, p->pos);
    return false;
}

static void jp_ws(struct jp *p)
{
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
                             p->s[p->pos] == '\r'))
        p->pos++;
}

static bool jp_lit(struct jp *p, const char *word)
{
    size_t k = strlen(word);
    if (p->n - p->pos < k || memcmp(p->s + p->pos, word, k) != 0)
        return false;
    p->pos += k;
    return true;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool jp_u4(struct jp *p, uint32_t *v_r)
{
    if (p->n - p->pos < 4)
        return jp_fail(p, "a truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p->s[p->pos + (size_t)i]);
        if (h < 0)
            return jp_fail(p, "a bad \\u escape");
        v = (v << 4) | (uint32_t)h;
    }
    p->pos += 4;
    *v_r = v;
    return true;
}

/* A string at p->pos (the opening quote); into out when out is not NULL. */
static bool jp_string(struct jp *p, struct buf *out)
{
    p->pos++;
    for (;;) {
        if (p->pos >= p->n)
            return jp_fail(p, "an unterminated string");
        unsigned char c = p->s[p->pos];
        if (c == '"') {
            p->pos++;
            return true;
        }
        if (c < 0x20)
            return jp_fail(p, "a control character in a string");
        if (c != '\\') {
            /* The whole input was checked to be UTF-8: copy the bytes. */
            if (out)
                buf_append_char(out, (char)c);
            p->pos++;
            continue;
        }
        if (++p->pos >= p->n)
            return jp_fail(p, "an unterminated string");
        c = p->s[p->pos++];
        static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
        const char *k = c ? strchr(esc_in, c) : NULL;
        if (k) {
            if (out)
                buf_append_char(out, esc_out[k - esc_in]);
            continue;
        }
        if (c != 'u')
            return jp_fail(p, "a bad escape");
        uint32_t cp;
        if (!jp_u4(p, &cp))
            return false;
        if (cp >= 0xd800 && cp <= 0xdbff && p->n - p->pos >= 6 && p->s[p->pos] == '\\' &&
            p->s[p->pos + 1] == 'u') {
            size_t save = p->pos;
            uint32_t lo;
            p->pos += 2;
            if (!jp_u4(p, &lo))
                return false;
            if (lo >= 0xdc00 && lo <= 0xdfff)
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            else
                p->pos = save; /* a lone high surrogate, then another escape */
        }
        if (cp == 0)
            return jp_fail(p, "a NUL character in a string");
        if (cp >= 0xdc80 && cp <= 0xdcff) {
            if (out) /* surrogateescape: the byte itself */
                buf_append_char(out, (char)(cp - 0xdc00));
        } else if (cp >= 0xd800 && cp <= 0xdfff) {
            return jp_fail(p, "a lone surrogate in a string");
        } else if (out) {
            put_utf8(out, cp);
        }
    }
}

static bool jp_digits(struct jp *p)
{
    size_t start = p->pos;
    while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
        p->pos++;
    return p->pos > start;
}

/* A number as Python's json scanner reads it (including NaN and the Infinities). */
static bool jp_number(struct jp *p)
{
    if (jp_lit(p, "NaN") || jp_lit(p, "Infinity") || jp_lit(p, "-Infinity"))
        return true;
    if (p->pos < p->n && p->s[p->pos] == '-')
        p->pos++;
    if (p->pos < p->n && p->s[p->pos] == '0')
        p->pos++;
    else if (!jp_digits(p))
        return jp_fail(p, "an unexpected character");
    if (p->pos + 1 < p->n && p->s[p->pos] == '.' && p->s[p->pos + 1] >= '0' &&
        p->s[p->pos + 1] <= '9') {
        p->pos++;
        jp_digits(p);
    }
    if (p->pos < p->n && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        size_t save = p->pos++;
        if (p->pos < p->n && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        if (!jp_digits(p))
            p->pos = save; /* "1e" is the number 1 followed by junk */
    }
    return true;
}

/* Skip any value. */
static bool jp_skip(struct jp *p, unsigned depth)
{
    jp_ws(p);
    if (p->pos >= p->n)
        return jp_fail(p, "a missing value");
    unsigned char c = p->s[p->pos];
    if (c == '"')
        return jp_string(p, NULL);
    if (c == '[' || c == '{') {
        if (depth >= MBNAMES_JSON_MAX_DEPTH)
            return jp_fail(p, "too deep nesting");
        unsigned char close = c == '[' ? ']' : '}';
        p->pos++;
        jp_ws(p);
        if (p->pos < p->n && p->s[p->pos] == close) {
            p->pos++;
            return true;
        }
        for (;;) {
            if (close == '}') {
                jp_ws(p);
                if (p->pos >= p->n || p->s[p->pos] != '"')
                    return jp_fail(p, "a missing member name");
                if (!jp_string(p, NULL))
                    return false;
                jp_ws(p);
                if (p->pos >= p->n || p->s[p->pos] != ':')
                    return jp_fail(p, "a missing ':'");
                p->pos++;
            }
            if (!jp_skip(p, depth + 1))
                return false;
            jp_ws(p);
            if (p->pos < p->n && p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->pos < p->n && p->s[p->pos] == close) {
                p->pos++;
                return true;
            }
            return jp_fail(p, "a missing ',' or closing bracket");
        }
    }
    if (jp_lit(p, "true") || jp_lit(p, "false") || jp_lit(p, "null"))
        return true;
    return jp_number(p);
}

enum { KEY_ACCOUNT, KEY_FOLDER, KEY_ROOT, NKEYS };

/* One item object of the list. */
static bool jp_item(struct jp *p, struct mbnames_items *out)
{
    static const char *const names[NKEYS] = {"accountname", "foldername", "localfolders"};
    char *val[NKEYS] = {NULL, NULL, NULL};
    bool seen[NKEYS] = {false, false, false};
    bool ok = false;
    struct buf key;
    buf_init(&key, MBNAMES_JSON_MAX);
    if (p->pos >= p->n || p->s[p->pos] != '{') {
        jp_fail(p, "an item that is not an object");
        goto out;
    }
    p->pos++;
    jp_ws(p);
    if (p->pos < p->n && p->s[p->pos] == '}') {
        p->pos++;
    } else {
        for (;;) {
            jp_ws(p);
            if (p->pos >= p->n || p->s[p->pos] != '"') {
                jp_fail(p, "a missing member name");
                goto out;
            }
            buf_reset(&key);
            if (!jp_string(p, &key))
                goto out;
            jp_ws(p);
            if (p->pos >= p->n || p->s[p->pos] != ':') {
                jp_fail(p, "a missing ':'");
                goto out;
            }
            p->pos++;
            jp_ws(p);
            int k = -1;
            for (int i = 0; i < NKEYS; i++)
                if (strlen(key.data) == key.len && !strcmp(key.data, names[i]))
                    k = i;
            if (k < 0) {
                if (!jp_skip(p, 2))
                    goto out;
            } else if (k == KEY_ROOT && jp_lit(p, "null")) {
                XFREE(val[k]); /* a repeated member: the last one counts, as in Python */
                seen[k] = true;
            } else if (p->pos < p->n && p->s[p->pos] == '"') {
                struct buf v;
                buf_init(&v, MBNAMES_JSON_MAX);
                if (!jp_string(p, &v)) {
                    buf_release(&v);
                    goto out;
                }
                free(val[k]);
                val[k] = buf_detach(&v, NULL);
                seen[k] = true;
            } else {
                jp_fail(p, k == KEY_ROOT ? "a \"localfolders\" that is neither a string nor null"
                                         : "an account or folder name that is not a string");
                goto out;
            }
            jp_ws(p);
            if (p->pos < p->n && p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->pos < p->n && p->s[p->pos] == '}') {
                p->pos++;
                break;
            }
            jp_fail(p, "a missing ',' or '}'");
            goto out;
        }
    }
    if (!seen[KEY_ACCOUNT] || !seen[KEY_FOLDER] || !seen[KEY_ROOT]) {
        jp_fail(p, "an item without \"accountname\", \"foldername\" or \"localfolders\"");
        goto out;
    }
    mbnames_items_push(out, val[KEY_ACCOUNT], val[KEY_FOLDER], val[KEY_ROOT]);
    ok = true;
out:
    for (int i = 0; i < NKEYS; i++)
        free(val[i]);
    buf_release(&key);
    return ok;
}

bool mbnames_json_parse(const char *data, size_t len, const char *label, struct mbnames_items *out,
                        struct err *e)
{
    struct jp p = {(const unsigned char *)data, len, 0, label, e};
    if (len > MBNAMES_JSON_MAX) {
        err_set(e, ERR_FOLDER, ERRK_GENERIC,
                "intermediate mbnames file %s is larger than %u bytes.", label, MBNAMES_JSON_MAX);
        return false;
    }
    /* Python reads the file as UTF-8 first. */
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = utf8_decode(p.s + i, len - i, &cp);
        if (k == 0) {
            p.pos = i;
            return jp_fail(&p, "a byte that is not UTF-8");
        }
        i += k;
    }
    size_t n0 = out->n;
    jp_ws(&p);
    if (p.pos >= len || p.s[p.pos] != '[')
        return jp_fail(&p, "no list");
    p.pos++;
    jp_ws(&p);
    bool ok = true;
    if (p.pos < len && p.s[p.pos] == ']') {
        p.pos++;
    } else {
        for (;;) {
            jp_ws(&p);
            if (!(ok = jp_item(&p, out)))
                break;
            jp_ws(&p);
            if (p.pos < len && p.s[p.pos] == ',') {
                p.pos++;
                continue;
            }
            if (p.pos < len && p.s[p.pos] == ']') {
                p.pos++;
                break;
            }
            ok = jp_fail(&p, "a missing ',' or ']'");
            break;
        }
    }
    if (ok) {
        jp_ws(&p);
        if (p.pos < len)
            ok = jp_fail(&p, "extra data after the list");
    }
    if (!ok)
        items_truncate(out, n0);
    return ok;
}
