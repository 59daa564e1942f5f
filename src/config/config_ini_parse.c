/*
 * config_ini_parse: the line parser, a transcription of Python 3.11
 * RawConfigParser._read() with offlineimap3's settings.
 *
 * The rules that matter, in the order _read() applies them to each line:
 * 1. The file is decoded as UTF-8 and split on "\n", "\r\n" or "\r"
 *    (universal newlines); other line separators such as U+2028 are not.
 * 2. A line whose stripped text starts with '#' or ';' is a comment and
 *    changes no state at all, even inside a multi-line value.
 * 3. A blank line adds an empty line to the current value (if any); it does
 *    not end the value, and it does not change the indentation level.
 * 4. If there is a current option and the line is indented deeper (counted
 *    in whitespace code points) than the last line that was not a
 *    continuation, the stripped line is appended to the value.
 * 5. Otherwise the indentation level becomes this line's, and the stripped
 *    line is a section header if it starts with '[' and has a ']' at index 2
 *    or later: the name runs to the LAST such ']' and anything after it is
 *    ignored ("[a] b" is section "a").
 * 6. Else, before any header, it is an error; else it is an option line split
 *    at the first '=' or ':'.  No delimiter, or an empty name, is an error.
 * Values are joined with "\n" and stripped of trailing whitespace at the end.
 *
 * Python raises at the first duplicate or missing header and collects other
 * errors; we collect all of them (the file is rejected either way) but keep
 * the first definition of anything duplicated so that later lines do not
 * produce follow-on errors.
 */
#include "config/config_ini.h"
#include "config/config_ini_internal.h"

#include "base/buf.h"
#include "base/xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum cur_kind {
    CUR_NONE,     /* before the first section header */
    CUR_DEFAULTS, /* [DEFAULT] */
    CUR_SECTION,  /* ini->sections[cur_index] */
    CUR_DISCARD,  /* a duplicate section, or lines after a missing header */
};

struct ini_parser {
    struct ini *ini;
    struct buf line; /* the unfinished line carried between feeds */
    bool skip_lf;    /* the last byte was '\r', so a '\n' right after it ends nothing */
    bool too_big;
    size_t total;
    unsigned lineno;
    enum cur_kind cur;
    size_t cur_index;
    bool have_opt;    /* Python's "optname" is set: continuation lines go to it */
    bool opt_discard; /* the current option is a duplicate, kept nowhere */
    size_t opt_index;
    struct buf value; /* the current option's value, lines joined with "\n" */
    size_t indent_level;
    unsigned nerrors;
    struct buf errors;
};

struct ini_parser *ini_parser_new(struct ini *ini)
{
    struct ini_parser *p = xcalloc(1, sizeof(*p));
    p->ini = ini;
    buf_init(&p->line, INI_MAX_FILE_SIZE);
    buf_init(&p->value, INI_MAX_FILE_SIZE);
    buf_init(&p->errors, BUF_UNBOUNDED);
    p->cur = CUR_NONE;
    return p;
}

__attribute__((format(printf, 2, 3))) static void parse_error(struct ini_parser *p, const char *fmt,
                                                              ...)
{
    p->nerrors++;
    if (p->nerrors > INI_MAX_ERRORS)
        return;
    if (p->errors.len)
        buf_append_char(&p->errors, '\n');
    buf_printf(&p->errors, "%s line %u: ", p->ini->display, p->lineno);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&p->errors, fmt, ap);
    va_end(ap);
}

/* The line as shown in an error: shortened, escaped, secrets hidden. */
static char *quote_line(const char *s, size_t n)
{
    size_t keep = n > 60 ? 60 : n;
    while (keep < n && keep > 0 && ((unsigned char)s[keep] & 0xc0) == 0x80)
        keep--; /* do not cut a UTF-8 sequence */
    char *text = xstrndup(s, keep);
    char *lower = ini_lower(s, n);
    char *shown = ini_show_value(lower, text);
    char *q = xasprintf("\"%s%s\"", shown, keep < n ? "..." : "");
    free(text);
    free(lower);
    free(shown);
    return q;
}

static struct ini_section *current_section(struct ini_parser *p)
{
    if (p->cur == CUR_DEFAULTS)
        return &p->ini->defaults;
    if (p->cur == CUR_SECTION)
        return &p->ini->sections[p->cur_index];
    return NULL;
}

/* Store the value of the current option (Python's _join_multiline_values). */
static void finish_option(struct ini_parser *p)
{
    if (!p->have_opt || p->opt_discard)
        return;
    struct ini_section *s = current_section(p);
    size_t len = p->value.len;
    while (len > 0 && p->value.data[len - 1] == '\n')
        len--;
    free(s->opts[p->opt_index].value);
    s->opts[p->opt_index].value = xstrndup(p->value.data, len);
}

/* "[name]..." with the name up to the last ']' at index 2 or later. */
static bool is_header(const char *t, size_t n, size_t *name_len_r)
{
    if (n < 3 || t[0] != '[')
        return false;
    for (size_t r = n - 1; r >= 2; r--) {
        if (t[r] == ']') {
            *name_len_r = r - 1;
            return true;
        }
    }
    return false;
}

static void open_section(struct ini_parser *p, const char *name, size_t len)
{
    struct ini *ini = p->ini;
    if (len == 7 && memcmp(name, "DEFAULT", 7) == 0) {
        /* Python never counts DEFAULT as added: it may be opened again. */
        if (ini->defaults.line == 0)
            ini->defaults.line = p->lineno;
        p->cur = CUR_DEFAULTS;
        return;
    }
    size_t i = ini_find_section(ini, name, len);
    if (i != INI_NOT_FOUND) {
        parse_error(p, "duplicate section [%s] (it was already opened on line %u).",
                    ini->sections[i].name, ini->sections[i].line);
        p->cur = CUR_DISCARD;
        return;
    }
    p->cur_index = ini_append_section(ini, name, len, p->lineno);
    p->cur = CUR_SECTION;
}

static void option_line(struct ini_parser *p, const char *t, size_t n)
{
    size_t d = 0;
    while (d < n && t[d] != '=' && t[d] != ':')
        d++;
    if (d == n) {
        char *q = quote_line(t, n);
        parse_error(p, "%s is neither a [section] header nor an \"option = value\" line.", q);
        free(q);
        return; /* Python keeps the current option for continuation lines */
    }
    size_t na, nb;
    ini_strip(t, d, &na, &nb);
    finish_option(p);
    if (nb == 0) {
        char *q = quote_line(t, n);
        parse_error(p, "%s has no option name before the '%c'.", q, t[d]);
        free(q);
        p->have_opt = false;
        return;
    }
    char *lname = ini_lower(t, nb);
    size_t va, vb;
    ini_strip(t + d + 1, n - d - 1, &va, &vb);
    buf_reset(&p->value);
    buf_append(&p->value, t + d + 1 + va, vb - va);
    p->have_opt = true;
    p->opt_discard = true;
    struct ini_section *s = current_section(p);
    if (!s) {
        free(lname);
        return;
    }
    size_t i = ini_section_find(s, lname);
    if (i != INI_NOT_FOUND) {
        parse_error(p, "duplicate option \"%s\" in [%s] (it was already set on line %u).", lname,
                    s->name, s->opts[i].line);
        free(lname);
        return;
    }
    p->opt_index = ini_section_append(s, lname, xstrdup(""), p->lineno, NULL);
    p->opt_discard = false;
}

static void process_line(struct ini_parser *p, const char *s, size_t n)
{
    p->lineno++;
    size_t bad;
    if (!ini_utf8_check(s, n, &bad)) {
        if (s[bad] == 0)
            parse_error(p, "the line contains a NUL byte (column %zu).", bad + 1);
        else
            parse_error(p, "the line is not valid UTF-8 (byte 0x%02x at column %zu).",
                        (unsigned char)s[bad], bad + 1);
        return;
    }
    size_t a, b;
    ini_strip(s, n, &a, &b);
    if (a < b && (s[a] == '#' || s[a] == ';'))
        return;
    if (a == b) {
        if (p->have_opt)
            buf_append_char(&p->value, '\n');
        return;
    }
    size_t indent = ini_indent(s, n);
    if (p->cur != CUR_NONE && p->have_opt && indent > p->indent_level) {
        buf_append_char(&p->value, '\n');
        buf_append(&p->value, s + a, b - a);
        return;
    }
    p->indent_level = indent;
    const char *t = s + a;
    size_t tn = b - a;
    size_t hlen;
    if (is_header(t, tn, &hlen)) {
        finish_option(p);
        p->have_opt = false;
        open_section(p, t + 1, hlen);
        return;
    }
    if (p->cur == CUR_NONE) {
        char *q = quote_line(t, tn);
        bool bom = p->lineno == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0;
        parse_error(p, "%s comes before any [section] header%s.", q,
                    bom ? " (the file starts with a UTF-8 byte-order mark, which offlineimap "
                          "does not accept either; save the file without it)"
                        : "");
        free(q);
        p->cur = CUR_DISCARD;
        return;
    }
    option_line(p, t, tn);
}

void ini_parser_feed(struct ini_parser *p, const void *data, size_t len)
{
    if (p->too_big)
        return;
    if (len > INI_MAX_FILE_SIZE - p->total) {
        p->too_big = true;
        return;
    }
    p->total += len;
    const char *d = data;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        char c = d[i];
        if (c == '\n' && p->skip_lf) {
            p->skip_lf = false;
            start = i + 1;
            continue;
        }
        p->skip_lf = false;
        if (c != '\n' && c != '\r')
            continue;
        if (p->line.len) {
            buf_append(&p->line, d + start, i - start);
            process_line(p, p->line.data, p->line.len);
            buf_reset(&p->line);
        } else {
            process_line(p, d + start, i - start);
        }
        start = i + 1;
        p->skip_lf = c == '\r';
    }
    buf_append(&p->line, d + start, len - start);
}

bool ini_parser_finish(struct ini_parser **pp, struct err *e)
{
    struct ini_parser *p = *pp;
    if (!p->too_big && p->line.len)
        process_line(p, p->line.data, p->line.len);
    finish_option(p);
    bool ok = true;
    if (p->too_big) {
        err_set(e, ERR_CRITICAL, ERRK_CONFIG,
                "%s is larger than %u MiB, which is too large for a configuration file.",
                p->ini->display, INI_MAX_FILE_SIZE / (1024 * 1024));
        ok = false;
    } else if (p->nerrors) {
        if (p->nerrors > INI_MAX_ERRORS)
            buf_printf(&p->errors, "\n(%u more errors in %s are not shown)",
                       p->nerrors - INI_MAX_ERRORS, p->ini->display);
        err_set(e, ERR_CRITICAL, ERRK_CONFIG, "%s", p->errors.data);
        ok = false;
    }
    buf_release(&p->line);
    buf_release(&p->value);
    buf_release(&p->errors);
    free(p);
    *pp = NULL;
    return ok;
}
