/*
 * config_ini_dump: print what the reader made of a file, in the format
 * compare_with_python.py also produces with Python's configparser, so that
 * the two can be compared byte for byte.
 *
 *   config_ini_dump FILE [-k SPEC]...
 *   config_ini_dump --lower < LINES
 *   config_ini_dump --date < LINES
 *
 * Output: "FAIL" if the file is rejected; "SETFAIL" if an override is;
 * otherwise "OK", then for [DEFAULT] and each section in file order a line
 * "[name]" followed by one line per visible option, sorted by name:
 * name TAB raw value TAB interpolated value (or "!ERROR").  Bytes outside
 * printable ASCII, tab and backslash are written as \xHH.
 *
 * With --lower, each line of standard input (UTF-8) is printed lower-cased
 * the way option names are, escaped the same way.  With --date, each line is
 * parsed as maxage and startdate dates are (time.strptime "%Y-%m-%d") and
 * printed as YYYY-MM-DD, or ERR.
 */
#include "config/config_ini.h"
#include "config/config_ini_internal.h"
#include "config/config_model_internal.h"

#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_escaped(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p > 0x7e || *p == '\\')
            printf("\\x%02x", *p);
        else
            putchar(*p);
    }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void dump_section(const struct ini *ini, const struct ini_section *s, bool is_default)
{
    printf("[");
    put_escaped(s->name);
    printf("]\n");
    size_t n = 0;
    const char **names = xcalloc(s->nopts + ini->defaults.nopts + 1, sizeof(*names));
    for (size_t i = 0; i < s->nopts; i++)
        names[n++] = s->opts[i].name;
    if (!is_default) {
        for (size_t i = 0; i < ini->defaults.nopts; i++)
            if (!ini_section_option(s, ini->defaults.opts[i].name))
                names[n++] = ini->defaults.opts[i].name;
    }
    qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        char *raw = NULL, *val = NULL;
        struct err e = ERR_INIT;
        ini_get(ini, s->name, names[i], true, &raw, &e);
        put_escaped(names[i]);
        putchar('\t');
        put_escaped(raw);
        putchar('\t');
        if (ini_get(ini, s->name, names[i], false, &val, &e) == INI_FOUND)
            put_escaped(val);
        else
            printf("!ERROR");
        putchar('\n');
        err_clear(&e);
        free(raw);
        free(val);
    }
    free(names);
}

static int lower_lines(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n')
            n--;
        size_t bad;
        if (!ini_utf8_check(line, (size_t)n, &bad)) {
            printf("!BAD\n");
            continue;
        }
        char *low = ini_lower(line, (size_t)n);
        put_escaped(low);
        putchar('\n');
        free(low);
    }
    free(line);
    return 0;
}

static int date_lines(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n')
            line[n - 1] = 0;
        struct config_date d;
        if (config_parse_date(line, &d))
            printf("%04d-%02d-%02d\n", d.year, d.month, d.day);
        else
            printf("ERR\n");
    }
    free(line);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--date") == 0)
        return date_lines();
    if (argc == 2 && strcmp(argv[1], "--lower") == 0)
        return lower_lines();
    if (argc < 2) {
        fprintf(stderr, "usage: config_ini_dump FILE [-k SPEC]...\n");
        return 2;
    }
    struct ini *ini = ini_new(argv[1]);
    struct err e = ERR_INIT;
    if (!ini_read_file(ini, argv[1], &e)) {
        printf("FAIL\n");
        fprintf(stderr, "%s\n", e.msg);
        err_clear(&e);
        ini_free(&ini);
        return 0;
    }
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-k") == 0 && !ini_override(ini, argv[i + 1], &e)) {
            printf("SETFAIL\n");
            fprintf(stderr, "%s\n", e.msg);
            err_clear(&e);
            ini_free(&ini);
            return 0;
        }
    }
    printf("OK\n");
    dump_section(ini, &ini->defaults, true);
    for (size_t i = 0; i < ini->nsections; i++)
        dump_section(ini, &ini->sections[i], false);
    ini_free(&ini);
    return 0;
}
