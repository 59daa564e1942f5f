/*
 * config_ini_get: reading values, as ConfigParser.get() with
 * BasicInterpolation, and the typed getters getboolean/getint/getfloat.
 *
 * Interpolation follows BasicInterpolation._interpolate_some(): "%%" is "%";
 * "%(name)s" is replaced by the value of name (lower-cased, not stripped)
 * from the section being read, else [DEFAULT]; a referenced value containing
 * '%' is itself interpolated, in the context of the section being read, one
 * level deeper; entering a level deeper than 10 is an error (so a reference
 * loop is an error too).  Python has no limit on the size of the result; we
 * stop at INI_MAX_VALUE_SIZE bytes or 100000 references, so that a small file
 * cannot make us build gigabytes.
 */
#include "config/config_ini.h"
#include "config/config_ini_internal.h"

#include "base/buf.h"
#include "base/xalloc.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_REFERENCES 100000

static const char *section_label(const char *section)
{
    return !section || !*section ? "DEFAULT" : section;
}

char *ini_describe(const struct ini *ini, const char *section, const struct ini_option *opt)
{
    char *where = ini_where(ini, opt);
    const char *sect = section_label(section);
    bool inherited = ini_option_is_default(ini, opt) && strcmp(sect, "DEFAULT") != 0;
    char *d =
        xasprintf("%s: [%s] %s%s", where, sect, opt->name, inherited ? " (set in [DEFAULT])" : "");
    free(where);
    return d;
}

struct interp {
    const struct ini *ini;
    const char *section;          /* as asked for; NULL or "DEFAULT" for the defaults */
    const struct ini_section *s;  /* NULL when reading [DEFAULT] itself */
    const struct ini_option *opt; /* the option being read */
    const char *inner;            /* the referenced option being expanded, or NULL */
    struct buf out;
    size_t refs;
    struct err *e;
};

__attribute__((format(printf, 2, 3))) static bool interp_fail(struct interp *c, const char *fmt,
                                                              ...)
{
    char *d = ini_describe(c->ini, c->section, c->opt);
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    if (c->inner)
        err_set(c->e, ERR_CRITICAL, ERRK_CONFIG, "%s: in the value of %%(%s)s: %s.", d, c->inner,
                msg);
    else
        err_set(c->e, ERR_CRITICAL, ERRK_CONFIG, "%s: %s.", d, msg);
    free(d);
    free(msg);
    return false;
}

static bool interp_append(struct interp *c, const char *s, size_t n)
{
    if (buf_append(&c->out, s, n))
        return true;
    return interp_fail(c, "the value grows beyond %u bytes through %%(name)s references",
                       INI_MAX_VALUE_SIZE);
}

static const struct ini_option *lookup_var(const struct interp *c, const char *lname)
{
    if (c->s) {
        size_t i = ini_section_find(c->s, lname);
        if (i != INI_NOT_FOUND)
            return &c->s->opts[i];
    }
    size_t i = ini_section_find(&c->ini->defaults, lname);
    return i == INI_NOT_FOUND ? NULL : &c->ini->defaults.opts[i];
}

static bool expand(struct interp *c, const char *text, int depth)
{
    if (depth > INI_MAX_INTERPOLATION_DEPTH)
        return interp_fail(c,
                           "%%(name)s references are nested more than %d levels deep "
                           "(do two options refer to each other?)",
                           INI_MAX_INTERPOLATION_DEPTH);
    const char *rest = text;
    while (*rest) {
        const char *pct = strchr(rest, '%');
        if (!pct)
            return interp_append(c, rest, strlen(rest));
        if (!interp_append(c, rest, (size_t)(pct - rest)))
            return false;
        rest = pct;
        if (rest[1] == '%') {
            if (!interp_append(c, "%", 1))
                return false;
            rest += 2;
            continue;
        }
        if (rest[1] != '(')
            return interp_fail(c,
                               "the '%%' at position %zu is not followed by '%%' or '(' "
                               "(write %%%% for a literal %%)",
                               (size_t)(rest - text) + 1);
        const char *close = strchr(rest + 2, ')');
        if (!close || close == rest + 2 || close[1] != 's')
            return interp_fail(c,
                               "the '%%(' at position %zu does not start a %%(name)s "
                               "reference (write %%%% for a literal %%)",
                               (size_t)(rest - text) + 1);
        char *lname = ini_lower(rest + 2, (size_t)(close - rest - 2));
        const struct ini_option *v = lookup_var(c, lname);
        if (!v) {
            if (c->s)
                interp_fail(c,
                            "%%(%s)s refers to option \"%s\", which is set neither in [%s] nor "
                            "in [DEFAULT]",
                            lname, lname, c->s->name);
            else
                interp_fail(c, "%%(%s)s refers to option \"%s\", which is not set in [DEFAULT]",
                            lname, lname);
            free(lname);
            return false;
        }
        if (++c->refs > MAX_REFERENCES) {
            free(lname);
            return interp_fail(c, "more than %d %%(name)s references are needed to expand it",
                               MAX_REFERENCES);
        }
        bool ok;
        if (strchr(v->value, '%')) {
            const char *saved = c->inner;
            c->inner = lname;
            ok = expand(c, v->value, depth + 1);
            c->inner = saved;
        } else {
            ok = interp_append(c, v->value, strlen(v->value));
        }
        free(lname);
        if (!ok)
            return false;
        rest = close + 2;
    }
    return true;
}

bool ini_interpolate(const struct ini *ini, const char *section, const struct ini_option *opt,
                     char **value_r, struct err *e)
{
    struct interp c = {.ini = ini, .section = section, .opt = opt, .e = e};
    if (section && *section && strcmp(section, "DEFAULT") != 0)
        c.s = ini_section(ini, section);
    buf_init(&c.out, INI_MAX_VALUE_SIZE);
    if (!expand(&c, opt->value, 1)) {
        buf_release(&c.out);
        return false;
    }
    *value_r = buf_detach(&c.out, NULL);
    return true;
}

static enum ini_result get_opt(const struct ini *ini, const char *section, const char *option,
                               bool raw, char **value_r, const struct ini_option **opt_r,
                               struct err *e)
{
    const struct ini_option *opt = ini_lookup(ini, section, option);
    if (!opt)
        return INI_MISSING;
    if (opt_r)
        *opt_r = opt;
    if (raw) {
        *value_r = xstrdup(opt->value);
        return INI_FOUND;
    }
    return ini_interpolate(ini, section, opt, value_r, e) ? INI_FOUND : INI_BAD;
}

enum ini_result ini_get(const struct ini *ini, const char *section, const char *option, bool raw,
                        char **value_r, struct err *e)
{
    return get_opt(ini, section, option, raw, value_r, NULL, e);
}

static enum ini_result bad_value(const struct ini *ini, const char *section,
                                 const struct ini_option *opt, char *value, const char *what,
                                 struct err *e)
{
    char *d = ini_describe(ini, section, opt);
    char *shown = ini_show_value(opt->name, value);
    err_set(e, ERR_CRITICAL, ERRK_CONFIG, "%s = %s: %s.", d, shown, what);
    free(shown);
    free(d);
    free(value);
    return INI_BAD;
}

enum ini_result ini_get_bool(const struct ini *ini, const char *section, const char *option,
                             bool *value_r, struct err *e)
{
    static const char *const yes[] = {"1", "yes", "true", "on"};
    static const char *const no[] = {"0", "no", "false", "off"};
    char *v;
    const struct ini_option *opt;
    enum ini_result r = get_opt(ini, section, option, false, &v, &opt, e);
    if (r != INI_FOUND)
        return r;
    /* Python lower-cases the whole value; no non-ASCII letter lowers to these words. */
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            *value_r = strcasecmp(v, yes[i]) == 0;
            free(v);
            return INI_FOUND;
        }
    }
    return bad_value(ini, section, opt, v, "not a boolean (use yes or no)", e);
}

/* A run of ASCII digits with single underscores between them (PEP 515). */
static const char *digit_run(const char *p, struct buf *clean)
{
    if (*p < '0' || *p > '9')
        return NULL;
    while ((*p >= '0' && *p <= '9') || (*p == '_' && p[1] >= '0' && p[1] <= '9')) {
        if (*p != '_')
            buf_append_char(clean, *p);
        p++;
    }
    return p;
}

/* Python int(text): surrounding whitespace, a sign, digits with underscores. */
bool ini_parse_int(const char *text, int64_t *value_r)
{
    size_t a, b;
    ini_strip(text, strlen(text), &a, &b);
    char *s = xstrndup(text + a, b - a);
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    struct buf clean;
    buf_init(&clean, BUF_UNBOUNDED);
    const char *end = digit_run(p, &clean);
    bool ok = end && *end == 0;
    uint64_t v = 0;
    for (size_t i = 0; ok && i < clean.len; i++) {
        unsigned d = (unsigned)(clean.data[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            ok = false;
        else
            v = v * 10 + d;
    }
    if (ok && (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX))
        ok = false;
    if (ok)
        *value_r = neg ? (int64_t)(0 - v) : (int64_t)v;
    buf_release(&clean);
    free(s);
    return ok;
}

/* Python float(text): decimal with optional exponent, or inf/infinity/nan. */
static bool parse_float(const char *text, double *value_r)
{
    size_t a, b;
    ini_strip(text, strlen(text), &a, &b);
    char *s = xstrndup(text + a, b - a);
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    bool ok = false;
    if (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0) {
        *value_r = neg ? -INFINITY : INFINITY;
        ok = true;
    } else if (strcasecmp(p, "nan") == 0) {
        *value_r = NAN;
        ok = true;
    } else {
        struct buf clean;
        buf_init(&clean, BUF_UNBOUNDED);
        buf_append_char(&clean, neg ? '-' : '+');
        const char *q = digit_run(p, &clean);
        bool digits = q != NULL;
        if (!q)
            q = p;
        if (*q == '.') {
            buf_append_char(&clean, '.');
            const char *f = digit_run(q + 1, &clean);
            digits = digits || f;
            q = f ? f : q + 1;
        }
        ok = digits;
        if (ok && (*q == 'e' || *q == 'E')) {
            buf_append_char(&clean, 'e');
            q++;
            if (*q == '+' || *q == '-')
                buf_append_char(&clean, *q++);
            q = digit_run(q, &clean);
            ok = q != NULL;
        }
        if (ok && *q == 0) {
            /* strtod follows LC_NUMERIC; Python's float() never does. */
            locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
            locale_t old = c ? uselocale(c) : (locale_t)0;
            *value_r = strtod(clean.data, NULL);
            if (c) {
                uselocale(old);
                freelocale(c);
            }
        } else {
            ok = false;
        }
        buf_release(&clean);
    }
    free(s);
    return ok;
}

enum ini_result ini_get_int(const struct ini *ini, const char *section, const char *option,
                            int64_t *value_r, struct err *e)
{
    char *v;
    const struct ini_option *opt;
    enum ini_result r = get_opt(ini, section, option, false, &v, &opt, e);
    if (r != INI_FOUND)
        return r;
    if (!ini_parse_int(v, value_r))
        return bad_value(ini, section, opt, v, "not a whole number", e);
    free(v);
    return INI_FOUND;
}

enum ini_result ini_get_float(const struct ini *ini, const char *section, const char *option,
                              double *value_r, struct err *e)
{
    char *v;
    const struct ini_option *opt;
    enum ini_result r = get_opt(ini, section, option, false, &v, &opt, e);
    if (r != INI_FOUND)
        return r;
    if (!parse_float(v, value_r))
        return bad_value(ini, section, opt, v, "not a number", e);
    free(v);
    return INI_FOUND;
}
