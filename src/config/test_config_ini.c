/*
 * test_config_ini: the ConfigParser-compatible reader, as tables.
 *
 * Every parse case is also fed byte by byte and split at every offset, and
 * must give the same result.  compare_with_python.py checks the same
 * behaviour against Python itself; these tables pin the cases that matter
 * to offlineimap users, with exact line numbers and messages.
 */
#include "config/config_ini.h"

#include "base/buf.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sections, options, raw values and lines, or "ERROR: <message>". */
static char *dump(const char *text, size_t len, int mode, size_t split)
{
    struct ini *ini = ini_new("t.ini");
    struct ini_parser *p = ini_parser_new(ini);
    if (mode == 0) {
        ini_parser_feed(p, text, len);
    } else if (mode == 1) {
        for (size_t i = 0; i < len; i++)
            ini_parser_feed(p, text + i, 1);
    } else {
        ini_parser_feed(p, text, split);
        ini_parser_feed(p, text + split, len - split);
    }
    struct err e = ERR_INIT;
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    if (!ini_parser_finish(&p, &e)) {
        buf_printf(&b, "ERROR: %s", e.msg);
        err_clear(&e);
    } else {
        for (size_t si = 0; si <= ini->nsections; si++) {
            const struct ini_section *s = si ? &ini->sections[si - 1] : &ini->defaults;
            buf_printf(&b, "[%s]@%u\n", s->name, s->line);
            for (size_t i = 0; i < s->nopts; i++)
                buf_printf(&b, "%s=%s@%u\n", s->opts[i].name, s->opts[i].value, s->opts[i].line);
        }
    }
    ini_free(&ini);
    return buf_detach(&b, NULL);
}

/* Parse whole, byte by byte and split everywhere; all must agree. */
static char *parse_all_ways(const char *text)
{
    size_t len = strlen(text);
    char *whole = dump(text, len, 0, 0);
    char *bytes = dump(text, len, 1, 0);
    test_assert_streq(bytes, whole);
    free(bytes);
    for (size_t k = 0; k <= len; k++) {
        char *split = dump(text, len, 2, k);
        if (strcmp(split, whole) != 0) {
            test_fail_at(__FILE__, __LINE__, "split at %zu differs:\n%s\nvs\n%s", k, split, whole);
            free(split);
            break;
        }
        free(split);
    }
    return whole;
}

static struct ini *parse_ok(const char *text)
{
    struct ini *ini = ini_new("t.ini");
    struct err e = ERR_INIT;
    if (!ini_parse_text(ini, text, strlen(text), &e)) {
        test_fail_at(__FILE__, __LINE__, "parse failed: %s", e.msg);
        err_clear(&e);
    }
    return ini;
}

/* ---- structure ---- */

static const struct {
    const char *name, *text, *dump;
} parse_cases[] = {
    {"empty file", "", "[DEFAULT]@0\n"},
    {"key = value and key: value", "[s]\na = 1\nb: 2\nc=3\nd:4\n",
     "[DEFAULT]@0\n[s]@1\na=1@2\nb=2@3\nc=3@4\nd=4@5\n"},
    {"the first = or : splits", "[s]\na = b = c\nc: d = e\ne = f: g\nurl: http://x:80/\n",
     "[DEFAULT]@0\n[s]@1\na=b = c@2\nc=d = e@3\ne=f: g@4\nurl=http://x:80/@5\n"},
    {"names lower-cased, values stripped, sections kept", "[Mixed Case]\n  KeY   =   V a l  \n",
     "[DEFAULT]@0\n[Mixed Case]@1\nkey=V a l@2\n"},
    {"no inline comments", "[s]\nx = a # b\ny = a ; b\n",
     "[DEFAULT]@0\n[s]@1\nx=a # b@2\ny=a ; b@3\n"},
    {"whole-line comments, indented too", "# c\n; c\n[s]\n  # c\n\t; c\na = 1\n #x = 2\n",
     "[DEFAULT]@0\n[s]@3\na=1@6\n"},
    {"continuation lines", "[s]\na = 1\n  2\n\t3\nb = 4\n",
     "[DEFAULT]@0\n[s]@1\na=1\n2\n3@2\nb=4@5\n"},
    {"blank lines inside a value are kept, trailing ones dropped",
     "[s]\na = 1\n\n  2\n\n\nb = 3\n\n", "[DEFAULT]@0\n[s]@1\na=1\n\n2@2\nb=3@7\n"},
    {"comment lines inside a value vanish", "[s]\na = [\n  'x',\n  # 'y',\n  'z']\n",
     "[DEFAULT]@0\n[s]@1\na=[\n'x',\n'z']@2\n"},
    {"empty first line of a value", "[s]\na =\n  x\n", "[DEFAULT]@0\n[s]@1\na=\nx@2\n"},
    {"indented option line sets the level", "[s]\n  a = 1\n  b = 2\n    c\n",
     "[DEFAULT]@0\n[s]@1\na=1@2\nb=2\nc@3\n"},
    {"an indented line after a header is an option", "[s]\n    a = 1\n",
     "[DEFAULT]@0\n[s]@1\na=1@2\n"},
    {"indented key = value after an option continues it", "[s]\na = 1\n b = 2\n",
     "[DEFAULT]@0\n[s]@1\na=1\nb = 2@2\n"},
    {"header text after ] is ignored; name up to the last ]", "[a] x\n[b]c]\n[ d ]\n",
     "[DEFAULT]@0\n[a]@1\n[b]c]@2\n[ d ]@3\n"},
    {"[] is no header", "[s]\n[] = 4\n[=5\n", "[DEFAULT]@0\n[s]@1\n[]=4@2\n[=5@3\n"},
    {"CRLF and CR line ends", "[s]\r\na = 1\r\n  2\rb = 3\r",
     "[DEFAULT]@0\n[s]@1\na=1\n2@2\nb=3@4\n"},
    {"no final newline", "[s]\na = 1", "[DEFAULT]@0\n[s]@1\na=1@2\n"},
    {"DEFAULT may be opened twice", "[DEFAULT]\na = 1\n[s]\n[DEFAULT]\nb = 2\n",
     "[DEFAULT]@1\na=1@2\nb=2@5\n[s]@3\n"},
    {"Unicode whitespace and lower-casing",
     "[s]\n\xc3\x84pfel = \xe3\x80\x80x\xc2\xa0\n\xce\xa3\xce\x9f\xce\xa3 = 1\n",
     "[DEFAULT]@0\n[s]@1\n\xc3\xa4pfel=x@2\n\xcf\x83\xce\xbf\xcf\x82=1@3\n"},
    {"NBSP indentation continues a value",
     "[s]\na = 1\n\xc2\xa0"
     "2\n",
     "[DEFAULT]@0\n[s]@1\na=1\n2@2\n"},
};

static void test_parse_table(void)
{
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        test_begin(parse_cases[i].name);
        char *got = parse_all_ways(parse_cases[i].text);
        test_assert_streq(got, parse_cases[i].dump);
        free(got);
        test_end();
    }
}

static const struct {
    const char *name, *text, *error;
} error_cases[] = {
    {"option before any header", "# x\n\na = 1\n[s]\n",
     "t.ini line 3: \"a = 1\" comes before any [section] header."},
    {"duplicate section names both lines", "[s]\na = 1\n\n[s]\nb = 2\n",
     "t.ini line 4: duplicate section [s] (it was already opened on line 1)."},
    {"duplicate option, any case", "[s]\nA = 1\na = 2\n",
     "t.ini line 3: duplicate option \"a\" in [s] (it was already set on line 2)."},
    {"duplicate option across DEFAULT sections", "[DEFAULT]\na = 1\n[s]\n[DEFAULT]\na = 2\n",
     "t.ini line 5: duplicate option \"a\" in [DEFAULT] (it was already set on line 2)."},
    {"line without delimiter", "[s]\na = 1\nnonsense here\n",
     "t.ini line 3: \"nonsense here\" is neither a [section] header nor an \"option = value\" "
     "line."},
    {"empty option name", "[s]\n= 1\n", "t.ini line 2: \"= 1\" has no option name before the '='."},
    {"option without value is an error (allow_no_value=False)", "[s]\nflag\n",
     "t.ini line 2: \"flag\" is neither a [section] header nor an \"option = value\" line."},
    {"invalid UTF-8", "[s]\na = \xff\n",
     "t.ini line 2: the line is not valid UTF-8 (byte 0xff at column 5)."},
    {"overlong UTF-8", "[s]\na = \xc0\xaf\n",
     "t.ini line 2: the line is not valid UTF-8 (byte 0xc0 at column 5)."},
    {"UTF-16 surrogate in UTF-8", "[s]\na = \xed\xa0\x80\n",
     "t.ini line 2: the line is not valid UTF-8 (byte 0xed at column 5)."},
    {"byte-order mark", "\xef\xbb\xbf[s]\n",
     "t.ini line 1: \"\xef\xbb\xbf[s]\" comes before any [section] header (the file starts with "
     "a UTF-8 byte-order mark, which offlineimap does not accept either; save the file without "
     "it)."},
    {"several errors are all reported", "[s]\nx\n[s]\ny\n",
     "t.ini line 2: \"x\" is neither a [section] header nor an \"option = value\" line.\n"
     "t.ini line 3: duplicate section [s] (it was already opened on line 1).\n"
     "t.ini line 4: \"y\" is neither a [section] header nor an \"option = value\" line."},
    {"secrets are not shown in errors", "[s]\nremotepass hunter2\n",
     "t.ini line 2: \"(hidden)\" is neither a [section] header nor an \"option = value\" line."},
};

static void test_error_table(void)
{
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        test_begin(error_cases[i].name);
        char *got = parse_all_ways(error_cases[i].text);
        char *want = xasprintf("ERROR: %s", error_cases[i].error);
        test_assert_streq(got, want);
        free(want);
        free(got);
        test_end();
    }
}

static void test_nul_and_limits(void)
{
    test_begin("NUL byte is an error naming the line");
    char *got = dump("[s]\na = x\0y\n", 12, 0, 0);
    test_assert_streq(got, "ERROR: t.ini line 2: the line contains a NUL byte (column 6).");
    free(got);
    test_end();

    test_begin("a file over the size limit is refused");
    struct ini *ini = ini_new("big.ini");
    struct ini_parser *p = ini_parser_new(ini);
    char *chunk = xmalloc(1 << 20);
    memset(chunk, '#', 1 << 20);
    for (int i = 0; i < 5; i++)
        ini_parser_feed(p, chunk, 1 << 20);
    struct err e = ERR_INIT;
    test_assert(!ini_parser_finish(&p, &e));
    test_assert(e.msg && strstr(e.msg, "larger than 4 MiB"));
    err_clear(&e);
    free(chunk);
    ini_free(&ini);
    test_end();

    test_begin("more than INI_MAX_ERRORS errors are counted, not listed");
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_append_str(&b, "[s]\n");
    for (int i = 0; i < 25; i++)
        buf_append_str(&b, "bad\n");
    got = dump(b.data, b.len, 0, 0);
    test_assert(strstr(got, "t.ini line 21: ") != NULL);
    test_assert(strstr(got, "t.ini line 22: ") == NULL);
    test_assert(strstr(got, "(5 more errors in t.ini are not shown)") != NULL);
    free(got);
    buf_release(&b);
    test_end();
}

/* ---- values and interpolation ---- */

static const char interp_text[] = "[DEFAULT]\n"
                                  "base = /base\n"
                                  "ref = %(name)s\n"
                                  "Cap = capital\n"
                                  "shadow = from-default\n"
                                  "[s]\n"
                                  "name = from-s\n"
                                  "shadow = from-s\n"
                                  "path = %(base)s/sub\n"
                                  "percent = 100%%\n"
                                  "double = %%(base)s\n"
                                  "viaref = %(ref)s\n"
                                  "upper = %(CAP)s\n"
                                  "usesshadow = %(shadow)s\n"
                                  "missing = %(nope)s\n"
                                  "bad = %(base)d\n"
                                  "trailing = 50%\n"
                                  "spaced = %( base )s\n"
                                  "self = %(self)s\n"
                                  "remotepass = se%cret\n"
                                  "[t]\n"
                                  "name = from-t\n";

static const struct {
    const char *section, *option, *value, *error;
} interp_cases[] = {
    {"s", "path", "/base/sub", NULL},
    {"s", "percent", "100%", NULL},
    {"s", "double", "%(base)s", NULL},
    {"s", "viaref", "from-s", NULL},
    {"t", "ref", "from-t", NULL}, /* a DEFAULT value expands in the section read */
    {"DEFAULT", "ref", NULL,
     "t.ini line 3: [DEFAULT] ref: %(name)s refers to option \"name\", "
     "which is not set in [DEFAULT]."},
    {"s", "upper", "capital", NULL},
    {"s", "shadow", "from-s", NULL},
    {"t", "shadow", "from-default", NULL},
    {"s", "usesshadow", "from-s", NULL},
    {"s", "MISSING", NULL,
     "t.ini line 15: [s] missing: %(nope)s refers to option \"nope\", which is set neither in "
     "[s] nor in [DEFAULT]."},
    {"s", "bad", NULL,
     "t.ini line 16: [s] bad: the '%(' at position 1 does not start a %(name)s reference "
     "(write %% for a literal %)."},
    {"s", "trailing", NULL,
     "t.ini line 17: [s] trailing: the '%' at position 3 is not followed by '%' or '(' (write "
     "%% for a literal %)."},
    {"s", "spaced", NULL,
     "t.ini line 18: [s] spaced: %( base )s refers to option \" base \", which is set neither "
     "in [s] nor in [DEFAULT]."},
    {"s", "self", NULL,
     "t.ini line 19: [s] self: in the value of %(self)s: %(name)s references are nested more "
     "than 10 levels deep (do two options refer to each other?)."},
    {"s", "remotepass", NULL,
     "t.ini line 20: [s] remotepass: the '%' at position 3 is not followed by '%' or '(' "
     "(write %% for a literal %)."},
    {"t", "base", "/base", NULL},
    {"nosuch", "base", NULL, NULL},
    {"s", "nosuch", NULL, NULL},
};

static void test_interpolation(void)
{
    struct ini *ini = parse_ok(interp_text);
    for (size_t i = 0; i < sizeof(interp_cases) / sizeof(interp_cases[0]); i++) {
        char *name =
            xasprintf("interpolate [%s] %s", interp_cases[i].section, interp_cases[i].option);
        test_begin(name);
        char *v = NULL;
        struct err e = ERR_INIT;
        enum ini_result r =
            ini_get(ini, interp_cases[i].section, interp_cases[i].option, false, &v, &e);
        if (interp_cases[i].value) {
            test_assert_inteq(r, INI_FOUND);
            test_assert_streq(v, interp_cases[i].value);
        } else if (interp_cases[i].error) {
            test_assert_inteq(r, INI_BAD);
            test_assert_streq(e.msg, interp_cases[i].error);
        } else {
            test_assert_inteq(r, INI_MISSING);
        }
        free(v);
        err_clear(&e);
        test_end();
        free(name);
    }
    test_begin("raw access skips interpolation");
    char *v = NULL;
    struct err e = ERR_INIT;
    test_assert_inteq(ini_get(ini, "s", "trailing", true, &v, &e), INI_FOUND);
    test_assert_streq(v, "50%");
    free(v);
    test_end();
    ini_free(&ini);
}

/* A chain a0 -> a1 -> ... each containing '%': 10 levels pass, 11 fail. */
static void test_depth(void)
{
    for (int levels = 9; levels <= 11; levels++) {
        char *name = xasprintf("interpolation chain of %d levels", levels);
        test_begin(name);
        struct buf b;
        buf_init(&b, BUF_UNBOUNDED);
        buf_append_str(&b, "[s]\n");
        for (int i = 0; i < levels - 1; i++)
            buf_printf(&b, "a%d = %%(a%d)s\n", i, i + 1);
        buf_printf(&b, "a%d = end%%%%\n", levels - 1);
        struct ini *ini = parse_ok(b.data);
        char *v = NULL;
        struct err e = ERR_INIT;
        enum ini_result r = ini_get(ini, "s", "a0", false, &v, &e);
        if (levels <= 10) {
            test_assert_inteq(r, INI_FOUND);
            test_assert_streq(v, "end%");
        } else {
            test_assert_inteq(r, INI_BAD);
            test_assert(e.msg && strstr(e.msg, "t.ini line 2: [s] a0: in the value of %(a10)s: "
                                               "%(name)s references are nested more than 10"));
        }
        free(v);
        err_clear(&e);
        ini_free(&ini);
        buf_release(&b);
        test_end();
        free(name);
    }

    test_begin("a reference bomb stops at the size limit");
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    buf_append_str(&b, "[s]\nx0 = 0123456789012345678901234567890123456789%%\n");
    for (int i = 1; i < 8; i++) {
        buf_printf(&b, "x%d = ", i);
        for (int k = 0; k < 8; k++)
            buf_printf(&b, "%%(x%d)s", i - 1);
        buf_append_char(&b, '\n');
    }
    struct ini *ini = parse_ok(b.data);
    char *v = NULL;
    struct err e = ERR_INIT;
    test_assert_inteq(ini_get(ini, "s", "x7", false, &v, &e), INI_BAD);
    test_assert(e.msg && strstr(e.msg, "grows beyond 1048576 bytes"));
    err_clear(&e);
    ini_free(&ini);
    buf_release(&b);
    test_end();
}

/* ---- typed getters ---- */

static const struct {
    const char *value;
    int expect; /* 1 true, 0 false, -1 error */
} bool_cases[] = {
    {"1", 1},     {"yes", 1}, {"TRUE", 1},   {"On", 1}, {"0", 0},  {"no", 0},
    {"False", 0}, {"OFF", 0}, {"maybe", -1}, {"y", -1}, {"2", -1}, {"", -1},
};

static const struct {
    const char *value;
    int64_t expect;
    bool ok;
} int_cases[] = {
    {"0", 0, true},
    {"42", 42, true},
    {"-7", -7, true},
    {"+7", 7, true},
    {"1_000", 1000, true},
    {"007", 7, true},
    {"1__0", 0, false},
    {"_1", 0, false},
    {"1_", 0, false},
    {"1.0", 0, false},
    {"0x10", 0, false},
    {"", 0, false},
    {"9223372036854775807", INT64_MAX, true},
    {"-9223372036854775808", INT64_MIN, true},
    {"9223372036854775808", 0, false},
    {"ten", 0, false},
};

static const struct {
    const char *value;
    double expect;
    bool ok;
} float_cases[] = {
    {"1.5", 1.5, true},      {".5", 0.5, true},        {"5.", 5.0, true},
    {"-2e3", -2000.0, true}, {"1_0.2_5", 10.25, true}, {"1E-1", 0.1, true},
    {"7", 7.0, true},        {"inf", INFINITY, true},  {"-Infinity", -INFINITY, true},
    {".", 0, false},         {"e5", 0, false},         {"1e", 0, false},
    {"0x1p3", 0, false},     {"1,5", 0, false},        {"1_.5", 0, false},
    {"", 0, false},
};

static void test_typed(void)
{
    test_begin("getboolean table");
    for (size_t i = 0; i < sizeof(bool_cases) / sizeof(bool_cases[0]); i++) {
        char *text = xasprintf("[s]\nb = %s\n", bool_cases[i].value);
        struct ini *ini = parse_ok(text);
        bool v = false;
        struct err e = ERR_INIT;
        enum ini_result r = ini_get_bool(ini, "s", "b", &v, &e);
        if (bool_cases[i].expect < 0) {
            test_assert_inteq(r, INI_BAD);
        } else {
            test_assert_inteq(r, INI_FOUND);
            test_assert_inteq(v, bool_cases[i].expect);
        }
        err_clear(&e);
        ini_free(&ini);
        free(text);
    }
    test_end();

    test_begin("getint table");
    for (size_t i = 0; i < sizeof(int_cases) / sizeof(int_cases[0]); i++) {
        char *text = xasprintf("[s]\nn = %s\n", int_cases[i].value);
        struct ini *ini = parse_ok(text);
        int64_t v = 0;
        struct err e = ERR_INIT;
        enum ini_result r = ini_get_int(ini, "s", "n", &v, &e);
        test_assert_inteq(r, int_cases[i].ok ? INI_FOUND : INI_BAD);
        if (int_cases[i].ok && v != int_cases[i].expect)
            test_fail_at(__FILE__, __LINE__, "int(%s) = %lld", int_cases[i].value, (long long)v);
        err_clear(&e);
        ini_free(&ini);
        free(text);
    }
    test_end();

    test_begin("getfloat table");
    for (size_t i = 0; i < sizeof(float_cases) / sizeof(float_cases[0]); i++) {
        char *text = xasprintf("[s]\nf = %s\n", float_cases[i].value);
        struct ini *ini = parse_ok(text);
        double v = 0;
        struct err e = ERR_INIT;
        enum ini_result r = ini_get_float(ini, "s", "f", &v, &e);
        test_assert_inteq(r, float_cases[i].ok ? INI_FOUND : INI_BAD);
        if (float_cases[i].ok && v != float_cases[i].expect)
            test_fail_at(__FILE__, __LINE__, "float(%s) = %g", float_cases[i].value, v);
        err_clear(&e);
        ini_free(&ini);
        free(text);
    }
    test_end();

    test_begin("typed errors name file, line, section, option and value");
    struct ini *ini = parse_ok("[DEFAULT]\nautorefresh = soon\n[Repository Remote]\n\n"
                               "ssl = maybe\nport = 99x\nremotepass = 1\n");
    bool b;
    int64_t n;
    double d;
    struct err e = ERR_INIT;
    test_assert_inteq(ini_get_bool(ini, "Repository Remote", "SSL", &b, &e), INI_BAD);
    test_assert_streq(
        e.msg, "t.ini line 5: [Repository Remote] ssl = maybe: not a boolean (use yes or no).");
    err_clear(&e);
    test_assert_inteq(ini_get_int(ini, "Repository Remote", "port", &n, &e), INI_BAD);
    test_assert_streq(e.msg, "t.ini line 6: [Repository Remote] port = 99x: not a whole number.");
    err_clear(&e);
    test_assert_inteq(ini_get_float(ini, "Repository Remote", "autorefresh", &d, &e), INI_BAD);
    test_assert_streq(e.msg, "t.ini line 2: [Repository Remote] autorefresh (set in [DEFAULT]) = "
                             "soon: not a number.");
    err_clear(&e);
    test_assert_inteq(ini_get_bool(ini, "Repository Remote", "remotepass", &b, &e), INI_FOUND);
    test_assert_inteq(ini_get_int(ini, "Repository Remote", "remotepass", &n, &e), INI_FOUND);
    test_assert_inteq(n, 1);
    test_assert_inteq(ini_get_bool(ini, "Repository Remote", "missing", &b, &e), INI_MISSING);
    ini_free(&ini);
    ini = parse_ok("[s]\nremotepass = secret\n");
    test_assert_inteq(ini_get_bool(ini, "s", "remotepass", &b, &e), INI_BAD);
    test_assert_streq(e.msg,
                      "t.ini line 2: [s] remotepass = (hidden): not a boolean (use yes or no).");
    err_clear(&e);
    ini_free(&ini);
    test_end();
}

/* ---- lookup, set, override ---- */

static void test_lookup_and_set(void)
{
    struct ini *ini = parse_ok("[DEFAULT]\nd = 1\n[general]\naccounts = A\n[Account A]\nq = 2\n");
    struct err e = ERR_INIT;

    test_begin("has_option semantics");
    test_assert(ini_lookup(ini, "general", "ACCOUNTS") != NULL);
    test_assert(ini_lookup(ini, "general", "d") != NULL);
    test_assert(ini_option_is_default(ini, ini_lookup(ini, "general", "d")));
    test_assert(!ini_option_is_default(ini, ini_lookup(ini, "general", "accounts")));
    test_assert(ini_lookup(ini, "nosuch", "d") == NULL);
    test_assert(ini_lookup(ini, NULL, "d") != NULL);
    test_assert(ini_lookup(ini, "DEFAULT", "accounts") == NULL);
    test_assert(ini_section(ini, "General") == NULL);
    test_assert(ini_section(ini, "DEFAULT") == &ini->defaults);
    test_end();

    test_begin("-k overrides: section defaults to general, '_' is a space");
    test_assert(ini_override(ini, "ui=quiet", &e));
    test_assert(ini_override(ini, "Account_A:autorefresh=5", &e));
    test_assert(ini_override(ini, "Account_A:Q=3", &e));
    test_assert(ini_override(ini, "DEFAULT:x=100%%", &e));
    test_assert(ini_override(ini, ":y=%(x)s", &e));
    char *v = NULL;
    test_assert_inteq(ini_get(ini, "general", "ui", false, &v, &e), INI_FOUND);
    test_assert_streq(v, "quiet");
    free(v);
    test_assert_inteq(ini_get(ini, "Account A", "autorefresh", false, &v, &e), INI_FOUND);
    test_assert_streq(v, "5");
    free(v);
    test_assert_inteq(ini_get(ini, "Account A", "q", false, &v, &e), INI_FOUND);
    test_assert_streq(v, "3");
    free(v);
    test_assert_inteq(ini_get(ini, "general", "y", false, &v, &e), INI_FOUND);
    test_assert_streq(v, "100%");
    free(v);
    const struct ini_option *o = ini_lookup(ini, "Account A", "autorefresh");
    char *where = ini_where(ini, o);
    test_assert_streq(where, "-k Account_A:autorefresh=5");
    free(where);
    test_end();

    test_begin("-k errors");
    test_assert(!ini_override(ini, "Account_B:x=1", &e));
    test_assert_streq(e.msg, "-k Account_B:x=1: there is no section [Account B] in t.ini.");
    err_clear(&e);
    test_assert(!ini_override(ini, "noequals", &e));
    test_assert(strstr(e.msg, "expected [section:]option=value") != NULL);
    err_clear(&e);
    test_assert(!ini_override(ini, "general:x=50%", &e));
    test_assert_streq(e.msg, "-k general:x=50%: [general] x: invalid % in the value at position "
                             "2 (write %% for a literal %).");
    err_clear(&e);
    test_assert(!ini_override(ini, "general:=1", &e));
    err_clear(&e);
    test_end();

    test_begin("remove_option");
    test_assert(ini_remove(ini, "DEFAULT", "d"));
    test_assert(!ini_remove(ini, "DEFAULT", "d"));
    test_assert(ini_lookup(ini, "general", "d") == NULL);
    test_assert(!ini_remove(ini, "nosuch", "x"));
    test_assert(ini_remove(ini, "Account A", "Q"));
    test_assert(ini_lookup(ini, "Account A", "autorefresh") != NULL);
    test_end();
    ini_free(&ini);
}

static void test_files(void)
{
    test_begin("read a file; missing file is an error");
    char *path = xasprintf("%s/rc", test_tmpdir());
    FILE *f = fopen(path, "w");
    fputs("[general]\r\naccounts = A\r\n", f);
    fclose(f);
    struct ini *ini = ini_new(path);
    struct err e = ERR_INIT;
    test_assert(ini_read_file(ini, path, &e));
    const struct ini_option *o = ini_lookup(ini, "general", "accounts");
    test_assert(o && strcmp(o->value, "A") == 0 && o->line == 2);
    ini_free(&ini);
    char *missing = xasprintf("%s/none", test_tmpdir());
    ini = ini_new(missing);
    test_assert(!ini_read_file(ini, missing, &e));
    test_assert(e.msg && strstr(e.msg, "Cannot read the configuration file"));
    err_clear(&e);
    ini_free(&ini);
    free(missing);
    free(path);
    test_end();

    test_begin("messages show $HOME as ~");
    const char *home = getenv("HOME");
    if (home && strlen(home) > 1) {
        char *p = xasprintf("%s/.offlineimaprc", home);
        ini = ini_new(p);
        test_assert_streq(ini->display, "~/.offlineimaprc");
        ini_free(&ini);
        free(p);
    }
    test_end();

    test_begin("values shown in messages are escaped");
    char *s = ini_show_value("x", "a\nb\x01");
    test_assert_streq(s, "a\\nb\\x01");
    free(s);
    s = ini_show_value("oauth2_refresh_token", "abc");
    test_assert_streq(s, "(hidden)");
    free(s);
    test_end();
}

int main(void)
{
    test_parse_table();
    test_error_table();
    test_nul_and_limits();
    test_interpolation();
    test_depth();
    test_typed();
    test_lookup_and_set();
    test_files();
    return test_done();
}
