/*
 * config_ini: storage, lookup and setting of options.  The parser is in
 * config_ini_parse.c, interpolation and typed getters in config_ini_get.c.
 */
#include "config/config_ini.h"
#include "config/config_ini_internal.h"
#include "config/config_ini_unicode.h"

#include "base/buf.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- UTF-8 and Python's notion of whitespace ---- */

size_t ini_utf8_decode(const char *s, size_t n, uint32_t *cp_r)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = u[0] < 0xc0 ? 1 : u[0] < 0xe0 ? 2 : u[0] < 0xf0 ? 3 : 4;
    if (len > n)
        len = 1; /* only on text that was not checked; never read past n */
    uint32_t cp = len == 1   ? u[0]
                  : len == 2 ? (u[0] & 0x1fu)
                  : len == 3 ? (u[0] & 0x0fu)
                             : (u[0] & 0x07u);
    for (size_t k = 1; k < len; k++)
        cp = (cp << 6) | (u[k] & 0x3fu);
    *cp_r = cp;
    return len;
}

/* Python's strict UTF-8 decoder: no overlong forms, no surrogates, <= U+10FFFF. */
bool ini_utf8_check(const char *s, size_t n, size_t *bad_r)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = u[i];
        if (c == 0) {
            *bad_r = i;
            return false;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else {
            *bad_r = i;
            return false;
        }
        if (i + len > n || u[i + 1] < lo || u[i + 1] > hi) {
            *bad_r = i;
            return false;
        }
        for (size_t k = 2; k < len; k++) {
            if ((u[i + k] & 0xc0) != 0x80) {
                *bad_r = i;
                return false;
            }
        }
        i += len;
    }
    return true;
}

static bool space_at(const char *s, size_t n, size_t *len_r)
{
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) {
        *len_r = 1;
        return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
    }
    uint32_t cp;
    *len_r = ini_utf8_decode(s, n, &cp);
    return uni_is_space(cp);
}

void ini_strip(const char *s, size_t n, size_t *a_r, size_t *b_r)
{
    size_t a = 0, len;
    while (a < n && space_at(s + a, n - a, &len))
        a += len;
    size_t b = n;
    while (b > a) {
        size_t start = b - 1;
        while (start > a && ((unsigned char)s[start] & 0xc0) == 0x80)
            start--;
        if (!space_at(s + start, b - start, &len))
            break;
        b = start;
    }
    *a_r = a;
    *b_r = b;
}

size_t ini_indent(const char *s, size_t n)
{
    size_t i = 0, count = 0, len;
    while (i < n && space_at(s + i, n - i, &len)) {
        i += len;
        count++;
    }
    return count;
}

static void append_utf8(struct buf *b, uint32_t cp)
{
    char tmp[4];
    size_t n;
    if (cp < 0x80) {
        tmp[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        tmp[0] = (char)(0xc0 | (cp >> 6));
        tmp[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (char)(0xe0 | (cp >> 12));
        tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        tmp[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        tmp[0] = (char)(0xf0 | (cp >> 18));
        tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        tmp[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    buf_append(b, tmp, n);
}

/*
 * Python's str.lower() turns U+03A3 into final sigma U+03C2 when a cased
 * letter comes before it and none after it, skipping case-ignorable code
 * points both ways (unicodeobject.c, handle_capital_sigma).
 */
static bool final_sigma(const uint32_t *cps, size_t n, size_t i)
{
    size_t j = i;
    while (j > 0 && uni_is_case_ignorable(cps[j - 1]))
        j--;
    if (j == 0 || !uni_is_cased(cps[j - 1]))
        return false;
    for (j = i + 1; j < n && uni_is_case_ignorable(cps[j]); j++)
        ;
    return j == n || !uni_is_cased(cps[j]);
}

char *ini_lower(const char *s, size_t n)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    size_t i = 0;
    while (i < n && (unsigned char)s[i] < 0x80)
        i++;
    if (i == n) {
        for (i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            buf_append_char(&b, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
        }
        return buf_detach(&b, NULL);
    }
    /* Non-ASCII: work on code points, since final sigma needs context. */
    uint32_t *cps = xreallocarray(NULL, n, sizeof(*cps));
    size_t ncp = 0;
    i = 0;
    while (i < n)
        i += ini_utf8_decode(s + i, n - i, &cps[ncp++]);
    for (size_t k = 0; k < ncp; k++) {
        uint32_t out[2];
        size_t m;
        if (cps[k] == 0x3a3) {
            out[0] = final_sigma(cps, ncp, k) ? 0x3c2 : 0x3c3;
            m = 1;
        } else {
            m = uni_lower(cps[k], out);
        }
        for (size_t j = 0; j < m; j++)
            append_utf8(&b, out[j]);
    }
    free(cps);
    return buf_detach(&b, NULL);
}

/* ---- hash indexes (open addressing; a slot holds index + 1, 0 is empty) ---- */

static uint32_t hash_name(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static void index_insert(uint32_t *index, size_t cap, uint32_t h, size_t pos)
{
    size_t slot = h & (cap - 1);
    while (index[slot] != 0)
        slot = (slot + 1) & (cap - 1);
    index[slot] = (uint32_t)(pos + 1);
}

static void section_reindex(struct ini_section *s)
{
    size_t cap = 16;
    while (cap < s->nopts * 2 + 2)
        cap *= 2;
    free(s->index);
    s->index = xcalloc(cap, sizeof(*s->index));
    s->index_cap = cap;
    for (size_t i = 0; i < s->nopts; i++) {
        const char *name = s->opts[i].name;
        index_insert(s->index, cap, hash_name(name, strlen(name)), i);
    }
}

void ini_section_init(struct ini_section *s, const char *name, size_t len, unsigned line)
{
    memset(s, 0, sizeof(*s));
    s->name = xstrndup(name, len);
    s->line = line;
}

void ini_section_release(struct ini_section *s)
{
    for (size_t i = 0; i < s->nopts; i++) {
        free(s->opts[i].name);
        free(s->opts[i].value);
        free(s->opts[i].origin);
    }
    free(s->opts);
    free(s->index);
    free(s->name);
    memset(s, 0, sizeof(*s));
}

size_t ini_section_find(const struct ini_section *s, const char *lname)
{
    if (s->index_cap == 0)
        return INI_NOT_FOUND;
    size_t slot = hash_name(lname, strlen(lname)) & (s->index_cap - 1);
    while (s->index[slot] != 0) {
        size_t i = s->index[slot] - 1;
        if (strcmp(s->opts[i].name, lname) == 0)
            return i;
        slot = (slot + 1) & (s->index_cap - 1);
    }
    return INI_NOT_FOUND;
}

size_t ini_section_append(struct ini_section *s, char *lname, char *value, unsigned line,
                          char *origin)
{
    if (s->nopts == s->opts_cap) {
        s->opts_cap = s->opts_cap ? s->opts_cap * 2 : 8;
        s->opts = xreallocarray(s->opts, s->opts_cap, sizeof(*s->opts));
    }
    size_t i = s->nopts++;
    s->opts[i] = (struct ini_option){lname, value, line, origin};
    if (s->nopts * 2 + 2 > s->index_cap)
        section_reindex(s);
    else
        index_insert(s->index, s->index_cap, hash_name(lname, strlen(lname)), i);
    return i;
}

void ini_section_remove_at(struct ini_section *s, size_t i)
{
    free(s->opts[i].name);
    free(s->opts[i].value);
    free(s->opts[i].origin);
    memmove(&s->opts[i], &s->opts[i + 1], (s->nopts - i - 1) * sizeof(*s->opts));
    s->nopts--;
    section_reindex(s);
}

size_t ini_find_section(const struct ini *ini, const char *name, size_t len)
{
    if (ini->index_cap == 0)
        return INI_NOT_FOUND;
    size_t slot = hash_name(name, len) & (ini->index_cap - 1);
    while (ini->index[slot] != 0) {
        size_t i = ini->index[slot] - 1;
        const char *have = ini->sections[i].name;
        if (strlen(have) == len && memcmp(have, name, len) == 0)
            return i;
        slot = (slot + 1) & (ini->index_cap - 1);
    }
    return INI_NOT_FOUND;
}

size_t ini_append_section(struct ini *ini, const char *name, size_t len, unsigned line)
{
    if (ini->nsections == ini->sections_cap) {
        ini->sections_cap = ini->sections_cap ? ini->sections_cap * 2 : 8;
        ini->sections = xreallocarray(ini->sections, ini->sections_cap, sizeof(*ini->sections));
    }
    size_t i = ini->nsections++;
    ini_section_init(&ini->sections[i], name, len, line);
    if (ini->nsections * 2 + 2 > ini->index_cap) {
        size_t cap = 16;
        while (cap < ini->nsections * 2 + 2)
            cap *= 2;
        free(ini->index);
        ini->index = xcalloc(cap, sizeof(*ini->index));
        ini->index_cap = cap;
        for (size_t k = 0; k < ini->nsections; k++) {
            const char *n = ini->sections[k].name;
            index_insert(ini->index, cap, hash_name(n, strlen(n)), k);
        }
    } else {
        index_insert(ini->index, ini->index_cap, hash_name(name, len), i);
    }
    return i;
}

/* ---- the ini object ---- */

static char *display_name(const char *path)
{
    const char *home = getenv("HOME");
    size_t hl = home ? strlen(home) : 0;
    while (hl > 1 && home[hl - 1] == '/')
        hl--;
    if (hl > 1 && strncmp(path, home, hl) == 0 && path[hl] == '/')
        return xasprintf("~%s", path + hl);
    return xstrdup(path);
}

struct ini *ini_new(const char *label)
{
    struct ini *ini = xcalloc(1, sizeof(*ini));
    ini->path = xstrdup(label);
    ini->display = display_name(label);
    ini_section_init(&ini->defaults, "DEFAULT", 7, 0);
    return ini;
}

void ini_free(struct ini **inip)
{
    struct ini *ini = *inip;
    if (!ini)
        return;
    for (size_t i = 0; i < ini->nsections; i++)
        ini_section_release(&ini->sections[i]);
    free(ini->sections);
    free(ini->index);
    ini_section_release(&ini->defaults);
    free(ini->path);
    free(ini->display);
    free(ini);
    *inip = NULL;
}

bool ini_parse_text(struct ini *ini, const char *text, size_t len, struct err *e)
{
    struct ini_parser *p = ini_parser_new(ini);
    ini_parser_feed(p, text, len);
    return ini_parser_finish(&p, e);
}

bool ini_read_file(struct ini *ini, const char *path, struct err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_set(e, ERR_CRITICAL, ERRK_CONFIG, "Cannot read the configuration file %s: %s.",
                ini->display, strerror(errno));
        return false;
    }
    struct ini_parser *p = ini_parser_new(ini);
    char chunk[65536];
    size_t total = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            struct err ignored = ERR_INIT;
            ini_parser_finish(&p, &ignored);
            err_clear(&ignored);
            err_set(e, ERR_CRITICAL, ERRK_CONFIG, "Cannot read the configuration file %s: %s.",
                    ini->display, strerror(saved));
            return false;
        }
        if (n == 0)
            break;
        total += (size_t)n;
        ini_parser_feed(p, chunk, (size_t)n);
        if (total > INI_MAX_FILE_SIZE)
            break; /* the parser has recorded the error */
    }
    close(fd);
    return ini_parser_finish(&p, e);
}

/* ---- lookup ---- */

static bool is_default_name(const char *section)
{
    return !section || !*section || strcmp(section, "DEFAULT") == 0;
}

const struct ini_section *ini_section(const struct ini *ini, const char *name)
{
    if (strcmp(name, "DEFAULT") == 0)
        return &ini->defaults;
    size_t i = ini_find_section(ini, name, strlen(name));
    return i == INI_NOT_FOUND ? NULL : &ini->sections[i];
}

const struct ini_option *ini_section_option(const struct ini_section *s, const char *name)
{
    char *lname = ini_lower(name, strlen(name));
    size_t i = ini_section_find(s, lname);
    free(lname);
    return i == INI_NOT_FOUND ? NULL : &s->opts[i];
}

const struct ini_option *ini_lookup(const struct ini *ini, const char *section, const char *option)
{
    char *lname = ini_lower(option, strlen(option));
    const struct ini_option *found = NULL;
    if (!is_default_name(section)) {
        size_t si = ini_find_section(ini, section, strlen(section));
        if (si == INI_NOT_FOUND) {
            free(lname);
            return NULL;
        }
        const struct ini_section *s = &ini->sections[si];
        size_t i = ini_section_find(s, lname);
        if (i != INI_NOT_FOUND)
            found = &s->opts[i];
    }
    if (!found) {
        size_t i = ini_section_find(&ini->defaults, lname);
        if (i != INI_NOT_FOUND)
            found = &ini->defaults.opts[i];
    }
    free(lname);
    return found;
}

bool ini_option_is_default(const struct ini *ini, const struct ini_option *opt)
{
    return ini->defaults.nopts > 0 && opt >= ini->defaults.opts &&
           opt < ini->defaults.opts + ini->defaults.nopts;
}

/* ---- setting ---- */

/* ConfigParser.before_set(): after removing %% and %(name)s, no % may remain. */
static bool check_set_syntax(const char *value, size_t *bad_r)
{
    const char *p = value;
    while ((p = strchr(p, '%')) != NULL) {
        if (p[1] == '%') {
            p += 2;
            continue;
        }
        if (p[1] == '(') {
            const char *close = strchr(p + 2, ')');
            if (close && close > p + 2 && close[1] == 's') {
                p = close + 2;
                continue;
            }
        }
        *bad_r = (size_t)(p - value);
        return false;
    }
    return true;
}

bool ini_set(struct ini *ini, const char *section, const char *option, const char *value,
             const char *origin, struct err *e)
{
    const char *who = origin ? origin : ini->display;
    size_t bad;
    if (value && *value && !check_set_syntax(value, &bad)) {
        err_set(e, ERR_CRITICAL, ERRK_CONFIG,
                "%s: [%s] %s: invalid %% in the value at position %zu (write %%%% for a "
                "literal %%).",
                who, is_default_name(section) ? "DEFAULT" : section, option, bad);
        return false;
    }
    struct ini_section *s;
    if (is_default_name(section)) {
        s = &ini->defaults;
    } else {
        size_t si = ini_find_section(ini, section, strlen(section));
        if (si == INI_NOT_FOUND) {
            err_set(e, ERR_CRITICAL, ERRK_CONFIG, "%s: there is no section [%s] in %s.", who,
                    section, ini->display);
            return false;
        }
        s = &ini->sections[si];
    }
    char *lname = ini_lower(option, strlen(option));
    size_t i = ini_section_find(s, lname);
    if (i != INI_NOT_FOUND) {
        free(lname);
        free(s->opts[i].value);
        free(s->opts[i].origin);
        s->opts[i].value = xstrdup(value ? value : "");
        s->opts[i].origin = xstrdup(who);
        s->opts[i].line = 0;
        return true;
    }
    ini_section_append(s, lname, xstrdup(value ? value : ""), 0, xstrdup(who));
    return true;
}

bool ini_remove(struct ini *ini, const char *section, const char *option)
{
    struct ini_section *s;
    if (is_default_name(section)) {
        s = &ini->defaults;
    } else {
        size_t si = ini_find_section(ini, section, strlen(section));
        if (si == INI_NOT_FOUND)
            return false;
        s = &ini->sections[si];
    }
    char *lname = ini_lower(option, strlen(option));
    size_t i = ini_section_find(s, lname);
    free(lname);
    if (i == INI_NOT_FOUND)
        return false;
    ini_section_remove_at(s, i);
    return true;
}

bool ini_override(struct ini *ini, const char *spec, struct err *e)
{
    const char *eq = strchr(spec, '=');
    if (!eq) {
        err_set(e, ERR_CRITICAL, ERRK_CONFIG,
                "-k %s: expected [section:]option=value (for example -k "
                "Account_Work:autorefresh=5).",
                spec);
        return false;
    }
    const char *colon = memchr(spec, ':', (size_t)(eq - spec));
    char *section, *option;
    if (colon) {
        section = xstrndup(spec, (size_t)(colon - spec));
        for (char *c = section; *c; c++)
            if (*c == '_')
                *c = ' ';
        option = xstrndup(colon + 1, (size_t)(eq - colon - 1));
    } else {
        section = xstrdup("general");
        option = xstrndup(spec, (size_t)(eq - spec));
    }
    bool ok;
    if (!*option) {
        err_set(e, ERR_CRITICAL, ERRK_CONFIG, "-k %s: the option name is empty.", spec);
        ok = false;
    } else {
        char *origin = xasprintf("-k %s", spec);
        ok = ini_set(ini, section, option, eq + 1, origin, e);
        free(origin);
    }
    free(section);
    free(option);
    return ok;
}

/* ---- messages ---- */

char *ini_where(const struct ini *ini, const struct ini_option *opt)
{
    if (opt->origin)
        return xstrdup(opt->origin);
    return xasprintf("%s line %u", ini->display, opt->line);
}

char *ini_show_value(const char *option, const char *value)
{
    if (strstr(option, "pass") || strstr(option, "secret") || strstr(option, "token"))
        return xstrdup("(hidden)");
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p == '\n')
            buf_append_str(&b, "\\n");
        else if (*p < 0x20 || *p == 0x7f)
            buf_printf(&b, "\\x%02x", *p);
        else
            buf_append_char(&b, (char)*p);
    }
    return buf_detach(&b, NULL);
}
