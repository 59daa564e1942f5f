/*
 * config_model_read: typed reading of one section with problems collected,
 * path expansion as offlineimap's xforms, and strptime("%Y-%m-%d").
 */
#include "config/config_model_internal.h"

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/xalloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void problem_add(struct config_problems *p, enum config_severity severity, unsigned line,
                 const char *fmt, ...)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->v = xreallocarray(p->v, p->cap, sizeof(*p->v));
    }
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    p->v[p->n++] = (struct config_problem){severity, line, msg};
}

void config_problems_add(struct config_problems *p, enum config_severity severity, unsigned line,
                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    problem_add(p, severity, line, "%s", msg);
    free(msg);
}

void config_problems_sort(struct config_problems *p)
{
    /* Insertion sort: stable, and the lists are short. */
    for (size_t i = 1; i < p->n; i++) {
        struct config_problem x = p->v[i];
        size_t j = i;
        while (j > 0 && p->v[j - 1].line > x.line) {
            p->v[j] = p->v[j - 1];
            j--;
        }
        p->v[j] = x;
    }
}

static void rd_add(struct rd *r, enum config_severity severity, unsigned line, const char *msg)
{
    if (severity == CONFIG_ERROR && r->unused_note) {
        size_t len = strlen(msg);
        bool dot = len && msg[len - 1] == '.';
        problem_add(r->probs, CONFIG_WARNING, line, "%.*s (%s).", (int)(dot ? len - 1 : len), msg,
                    r->unused_note);
        return;
    }
    problem_add(r->probs, severity, line, "%s", msg);
}

void rd_section_problem(struct rd *r, enum config_severity severity, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    char *full =
        xasprintf("%s line %u: [%s]: %s", r->ini->display, r->section_line, r->section, msg);
    rd_add(r, severity, r->section_line, full);
    free(full);
    free(msg);
}

void rd_option_problem(struct rd *r, enum config_severity severity, const struct ini_option *opt,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    char *d = ini_describe(r->ini, r->section, opt);
    char *full = xasprintf("%s: %s", d, msg);
    rd_add(r, severity, opt->line, full);
    free(full);
    free(d);
    free(msg);
}

void rd_ini_error(struct rd *r, struct err *e, unsigned line)
{
    rd_add(r, CONFIG_ERROR, line, e->msg ? e->msg : "unknown configuration error");
    err_clear(e);
}

const struct ini_option *rd_opt(struct rd *r, const char *name)
{
    return ini_lookup(r->ini, r->section, name);
}

char *rd_str(struct rd *r, const char *name, const char *def)
{
    struct err e = ERR_INIT;
    char *v = NULL;
    switch (ini_get(r->ini, r->section, name, false, &v, &e)) {
    case INI_FOUND:
        return v;
    case INI_MISSING:
        return def ? xstrdup(def) : NULL;
    case INI_BAD:
        break;
    }
    rd_ini_error(r, &e, rd_opt(r, name)->line);
    return def ? xstrdup(def) : NULL;
}

char *rd_raw(struct rd *r, const char *name)
{
    struct err e = ERR_INIT;
    char *v = NULL;
    if (ini_get(r->ini, r->section, name, true, &v, &e) == INI_FOUND)
        return v;
    return NULL;
}

bool rd_bool(struct rd *r, const char *name, bool def)
{
    struct err e = ERR_INIT;
    bool v;
    switch (ini_get_bool(r->ini, r->section, name, &v, &e)) {
    case INI_FOUND:
        return v;
    case INI_MISSING:
        return def;
    case INI_BAD:
        break;
    }
    rd_ini_error(r, &e, rd_opt(r, name)->line);
    return def;
}

enum config_tristate rd_tristate(struct rd *r, const char *name)
{
    if (!rd_opt(r, name))
        return CONFIG_UNSET;
    struct err e = ERR_INIT;
    bool v;
    if (ini_get_bool(r->ini, r->section, name, &v, &e) == INI_FOUND)
        return v ? CONFIG_YES : CONFIG_NO;
    rd_ini_error(r, &e, rd_opt(r, name)->line);
    return CONFIG_UNSET;
}

int64_t rd_int(struct rd *r, const char *name, int64_t def, int64_t min, int64_t max)
{
    struct err e = ERR_INIT;
    int64_t v;
    switch (ini_get_int(r->ini, r->section, name, &v, &e)) {
    case INI_FOUND:
        break;
    case INI_MISSING:
        return def;
    case INI_BAD:
        rd_ini_error(r, &e, rd_opt(r, name)->line);
        return def;
    }
    if (v < min || v > max) {
        const struct ini_option *opt = rd_opt(r, name);
        if (v < min)
            rd_option_problem(r, CONFIG_ERROR, opt,
                              "%lld is too small (the least allowed is %lld).", (long long)v,
                              (long long)min);
        else
            rd_option_problem(r, CONFIG_ERROR, opt, "%lld is too large (the most allowed is %lld).",
                              (long long)v, (long long)max);
        return def;
    }
    return v;
}

double rd_float(struct rd *r, const char *name, double def)
{
    struct err e = ERR_INIT;
    double v;
    switch (ini_get_float(r->ini, r->section, name, &v, &e)) {
    case INI_FOUND:
        if (isfinite(v))
            return v;
        rd_option_problem(r, CONFIG_ERROR, rd_opt(r, name), "%g is not a finite number.", v);
        return def;
    case INI_MISSING:
        return def;
    case INI_BAD:
        break;
    }
    rd_ini_error(r, &e, rd_opt(r, name)->line);
    return def;
}

struct config_expr rd_expr(struct rd *r, const char *name)
{
    struct config_expr x = {NULL, 0};
    const struct ini_option *opt = rd_opt(r, name);
    if (opt) {
        x.line = opt->line;
        x.text = rd_str(r, name, NULL);
    }
    return x;
}

void config_expr_free(struct config_expr *x)
{
    free(x->text);
    x->text = NULL;
}

/* os.path.expanduser alone: fs_expand_path on the "~user" part only. */
static char *expand_user(const char *path)
{
    if (path[0] != '~')
        return xstrdup(path);
    size_t len = strcspn(path, "/");
    char *head = xstrndup(path, len);
    char *out;
    if (strchr(head, '$')) {
        out = xstrdup(path); /* no user name has a '$'; keep the text as it is */
    } else {
        char *home = fs_expand_path(head);
        out = xasprintf("%s%s", home, path + len);
        free(home);
    }
    free(head);
    return out;
}

/* os.path.abspath: join with the working directory, then normpath. */
static char *abs_path(const char *path)
{
    struct buf full;
    buf_init(&full, BUF_UNBOUNDED);
    if (path[0] != '/') {
        char *cwd = getcwd(NULL, 0);
        buf_append_str(&full, cwd ? cwd : "/");
        buf_append_char(&full, '/');
        free(cwd);
    }
    buf_append_str(&full, path);
    /* normpath: drop empty and "." components, resolve ".." textually. */
    struct buf out;
    buf_init(&out, BUF_UNBOUNDED);
    const char *p = full.data;
    while (*p) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (n == 0)
            break;
        if (n == 1 && p[0] == '.') {
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            char *slash = strrchr(out.data, '/');
            buf_truncate(&out, slash ? (size_t)(slash - out.data) : 0);
        } else {
            buf_append_char(&out, '/');
            buf_append(&out, p, n);
        }
        p += n;
    }
    if (out.len == 0)
        buf_append_char(&out, '/');
    buf_release(&full);
    return buf_detach(&out, NULL);
}

char *rd_path(struct rd *r, const char *name, const char *def, enum rd_path_mode mode)
{
    char *v = rd_str(r, name, def);
    if (!v)
        return NULL;
    char *out = mode == RD_PATH_USER ? expand_user(v) : fs_expand_path(v);
    free(v);
    if (mode == RD_PATH_USER_VARS_ABS) {
        char *a = abs_path(out);
        free(out);
        out = a;
    }
    return out;
}

/* Match one strptime alternative: a fixed digit pattern like "1[0-2]". */
static size_t match_alt(const char *s, const char *alt)
{
    /* alt is a sequence of classes: 'D' any digit, or "[xy]" ranges, or a literal. */
    size_t n = 0;
    while (*alt) {
        char c = s[n];
        if (*alt == 'D') {
            if (c < '0' || c > '9')
                return 0;
            alt++;
        } else if (*alt == '[') {
            if (c < alt[1] || c > alt[3])
                return 0;
            alt += 5;
        } else {
            if (c != *alt)
                return 0;
            alt++;
        }
        n++;
    }
    return n;
}

static int digits_value(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] >= '0' && s[i] <= '9')
            v = v * 10 + (s[i] - '0');
    return v;
}

bool config_parse_date(const char *text, struct config_date *d)
{
    /* _strptime's regexes: %Y \d\d\d\d, %m 1[0-2]|0[1-9]|[1-9],
     * %d 3[01]|[12]\d|0[1-9]|[1-9]| [1-9]; the first match wins and must
     * use the whole text. */
    static const char *const months[] = {"1[0-2]", "0[1-9]", "[1-9]"};
    static const char *const days[] = {"3[0-1]", "[1-2]D", "0[1-9]", "[1-9]", " [1-9]"};
    if (match_alt(text, "DDDD-") != 5)
        return false;
    const char *m = text + 5;
    for (size_t i = 0; i < 3; i++) {
        size_t mn = match_alt(m, months[i]);
        if (!mn || m[mn] != '-')
            continue;
        const char *day = m + mn + 1;
        for (size_t k = 0; k < 5; k++) {
            size_t dn = match_alt(day, days[k]);
            if (!dn)
                continue;
            if (day[dn] != 0)
                return false; /* "unconverted data remains" */
            d->year = digits_value(text, 4);
            d->month = digits_value(m, mn);
            d->day = digits_value(day, dn);
            static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
            bool leap = (d->year % 4 == 0 && d->year % 100 != 0) || d->year % 400 == 0;
            int max = mdays[d->month - 1] + (d->month == 2 && leap);
            return d->year >= 1 && d->day <= max;
        }
    }
    return false;
}

bool config_date_in_future(const struct config_date *d)
{
    struct tm tm = {0};
    tm.tm_year = d->year - 1900;
    tm.tm_mon = d->month - 1;
    tm.tm_mday = d->day;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    return t != (time_t)-1 && t > time(NULL);
}
