/*
 * Unit tests for imap_cmd: string forms, literals and their sync points,
 * flag lists, limits and sticky errors, and the date formats.
 */
#include "imap/imap_cmd.h"

#include "testlib/test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S(lit) lit, sizeof(lit) - 1

struct astring_case {
    const char *in;
    size_t len;
    const char *astring; /* as an astring */
    const char *string;  /* as a string */
};

static const struct astring_case astrings[] = {
    {S("INBOX"), "INBOX", "\"INBOX\""},
    {S(""), "\"\"", "\"\""},
    {S("NIL"), "\"NIL\"", "\"NIL\""},
    {S("nil"), "\"nil\"", "\"nil\""},
    {S("NILS"), "NILS", "\"NILS\""},
    {S("Archive.2024"), "Archive.2024", "\"Archive.2024\""},
    {S("Caf&AOk-"), "Caf&AOk-", "\"Caf&AOk-\""},
    {S("a b"), "\"a b\"", "\"a b\""},
    {S("a\"b"), "\"a\\\"b\"", "\"a\\\"b\""},
    {S("back\\slash"), "\"back\\\\slash\"", "\"back\\\\slash\""},
    {S("\\Seen"), "\"\\\\Seen\"", "\"\\\\Seen\""},
    {S("a]b"), "\"a]b\"", "\"a]b\""},
    {S("[Gmail]/Sent Mail"), "\"[Gmail]/Sent Mail\"", "\"[Gmail]/Sent Mail\""},
    {S("a*"), "\"a*\"", "\"a*\""},
    {S("a%b"), "\"a%b\"", "\"a%b\""},
    {S("{x}"), "\"{x}\"", "\"{x}\""},
    {S("(x)"), "\"(x)\"", "\"(x)\""},
    {S("p@ss+w0rd!"), "p@ss+w0rd!", "\"p@ss+w0rd!\""},
    {S("caf\xc3\xa9"), "{5}\r\ncaf\xc3\xa9", "{5}\r\ncaf\xc3\xa9"},
    {S("a\r\nb"), "{4}\r\na\r\nb", "{4}\r\na\r\nb"},
    {S("tab\there"), "{8}\r\ntab\there", "{8}\r\ntab\there"},
    {S("\x7f"), "{1}\r\n\x7f", "{1}\r\n\x7f"},
};

static void test_astring(void)
{
    test_begin("cmd: astring and string forms");
    for (size_t i = 0; i < sizeof(astrings) / sizeof(astrings[0]); i++) {
        for (int as = 0; as < 2; as++) {
            struct imap_cmd c;
            struct err e = ERR_INIT;
            imap_cmd_init(&c, 1000, IMAP_LITERAL_SYNC);
            bool ok = as ? imap_cmd_add_astring(&c, astrings[i].in, astrings[i].len)
                         : imap_cmd_add_string(&c, astrings[i].in, astrings[i].len);
            test_assert(ok);
            test_assert(imap_cmd_finish(&c, &e));
            const char *want = as ? astrings[i].astring : astrings[i].string;
            size_t wl = strlen(want);
            if (c.text.len != wl + 2 || memcmp(c.text.data, want, wl) != 0)
                test_fail_at(__FILE__, __LINE__, "\"%s\" as %s: got \"%s\", want \"%s\"",
                             astrings[i].in, as ? "astring" : "string", c.text.data, want);
            bool literal = want[0] == '{';
            test_assert(c.nlits == (literal ? 1u : 0u));
            if (literal) {
                test_assert(c.lits[0].sync && !c.lits[0].external);
                test_assert(c.lits[0].size == astrings[i].len);
                test_assert(c.lits[0].offset == wl - astrings[i].len);
            }
            imap_cmd_release(&c);
        }
    }
    test_end();
}

static void test_literal_modes(void)
{
    test_begin("cmd: LITERAL+, LITERAL- and synchronizing literals");
    static char big[5000];
    memset(big, '\x80', sizeof(big));
    const struct {
        enum imap_literal_mode mode;
        size_t len;
        bool sync;
        const char *hdr;
    } t[] = {
        {IMAP_LITERAL_SYNC, 3, true, "{3}\r\n"},
        {IMAP_LITERAL_PLUS, 3, false, "{3+}\r\n"},
        {IMAP_LITERAL_PLUS, 5000, false, "{5000+}\r\n"},
        {IMAP_LITERAL_MINUS, 4096, false, "{4096+}\r\n"},
        {IMAP_LITERAL_MINUS, 4097, true, "{4097}\r\n"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct imap_cmd c;
        imap_cmd_init(&c, 10000, t[i].mode);
        test_assert(imap_cmd_start(&c, "A1", "LOGIN"));
        test_assert(imap_cmd_add_raw(&c, " "));
        test_assert(imap_cmd_add_astring(&c, big, t[i].len));
        size_t hl = strlen(t[i].hdr);
        test_assert(memcmp(c.text.data, "A1 LOGIN ", 9) == 0);
        test_assert(memcmp(c.text.data + 9, t[i].hdr, hl) == 0);
        test_assert(c.nlits == 1 && c.lits[0].sync == t[i].sync);
        test_assert(c.lits[0].offset == 9 + hl && c.lits[0].size == t[i].len);
        imap_cmd_release(&c);
    }
    test_end();

    test_begin("cmd: an APPEND with an external literal and two sync points");
    struct imap_cmd c;
    struct err e = ERR_INIT;
    imap_cmd_init(&c, 1000, IMAP_LITERAL_SYNC);
    const char *flags[] = {"\\Seen", "$Forwarded"};
    imap_cmd_start(&c, "A7", "APPEND");
    imap_cmd_add_raw(&c, " ");
    imap_cmd_add_astring(&c, S("Entw\xc3\xbcrfe"));
    imap_cmd_add_raw(&c, " ");
    imap_cmd_add_flags(&c, flags, 2);
    imap_cmd_add_raw(&c, " ");
    imap_cmd_add_quoted(&c, S("05-Feb-2024 10:00:00 +0100"));
    imap_cmd_add_raw(&c, " ");
    test_assert(imap_cmd_add_literal_header(&c, 123456789012ULL));
    test_assert(imap_cmd_finish(&c, &e));
    const char want[] = "A7 APPEND {9}\r\nEntw\xc3\xbcrfe (\\Seen $Forwarded) "
                        "\"05-Feb-2024 10:00:00 +0100\" {123456789012}\r\n\r\n";
    test_assert(c.text.len == sizeof(want) - 1 && memcmp(c.text.data, want, c.text.len) == 0);
    test_assert(c.nlits == 2);
    test_assert(c.lits[0].offset == 15 && c.lits[0].sync && !c.lits[0].external);
    test_assert(c.lits[1].offset == c.text.len - 2 && c.lits[1].sync && c.lits[1].external);
    test_assert(c.lits[1].size == 123456789012ULL);
    imap_cmd_release(&c);
    test_end();
}

static void test_flags_numbers(void)
{
    test_begin("cmd: flag lists, numbers, raw text");
    struct imap_cmd c;
    struct err e = ERR_INIT;
    imap_cmd_init(&c, 1000, IMAP_LITERAL_PLUS);
    const char *flags[] = {"\\Seen", "\\Flagged", "$Label1", "NonJunk"};
    imap_cmd_start(&c, "a", "UID STORE");
    imap_cmd_add_rawf(&c, " %u:%u +FLAGS.SILENT ", 1u, 9u);
    imap_cmd_add_flags(&c, flags, 4);
    imap_cmd_add_raw(&c, " ");
    imap_cmd_add_flags(&c, flags, 0);
    imap_cmd_add_raw(&c, " ");
    imap_cmd_add_u64(&c, 0);
    imap_cmd_add_raw(&c, " ");
    imap_cmd_add_u64(&c, UINT64_MAX);
    test_assert(imap_cmd_finish(&c, &e));
    test_assert_streq(c.text.data, "a UID STORE 1:9 +FLAGS.SILENT (\\Seen \\Flagged $Label1 "
                                   "NonJunk) () 0 18446744073709551615\r\n");
    imap_cmd_release(&c);

    const char *bad[] = {"", "\\", "a b", "\\Seen\\", "a(b", "\\*", "caf\xc3\xa9", "x]", "{1}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        test_assert(!imap_flag_is_valid(bad[i]));
        imap_cmd_init(&c, 1000, IMAP_LITERAL_PLUS);
        test_assert(!imap_cmd_add_flags(&c, &bad[i], 1));
        test_assert(!imap_cmd_finish(&c, &e));
        test_assert(strstr(e.msg, "is not a valid IMAP flag") != NULL);
        err_clear(&e);
        imap_cmd_release(&c);
    }
    test_assert(imap_flag_is_valid("\\Seen") && imap_flag_is_valid("$Forwarded"));
    test_end();
}

static void test_errors(void)
{
    test_begin("cmd: limit, NUL, bad quoted string; errors are sticky");
    struct imap_cmd c;
    struct err e = ERR_INIT;
    imap_cmd_init(&c, 20, IMAP_LITERAL_SYNC);
    test_assert(imap_cmd_start(&c, "A1", "SELECT"));
    test_assert(imap_cmd_add_raw(&c, " "));
    test_assert(!imap_cmd_add_astring(&c, S("a very long mailbox name")));
    /* Once failed, nothing more is added, and finish reports the first failure. */
    size_t len = c.text.len;
    test_assert(!imap_cmd_add_raw(&c, "x"));
    test_assert(!imap_cmd_add_u64(&c, 1));
    test_assert(!imap_cmd_add_literal(&c, S("x")));
    test_assert(!imap_cmd_add_quoted(&c, S("\x80")));
    test_assert(c.text.len == len);
    test_assert(!imap_cmd_finish(&c, &e));
    test_assert_streq(e.msg, "The IMAP command would be longer than the limit of 20 bytes.");
    err_clear(&e);
    /* Finishing exactly at the limit works; reset clears the failure. */
    test_assert(imap_cmd_start(&c, "A1", "NOOP"));
    test_assert(imap_cmd_finish(&c, &e) && strcmp(c.text.data, "A1 NOOP\r\n") == 0);
    imap_cmd_reset(&c);
    test_assert(imap_cmd_add_raw(&c, "123456789012345678"));
    test_assert(imap_cmd_finish(&c, &e) && c.text.len == 20);
    imap_cmd_release(&c);

    imap_cmd_init(&c, 1000, IMAP_LITERAL_PLUS);
    test_assert(!imap_cmd_add_astring(&c, S("a\0b")));
    test_assert(!imap_cmd_finish(&c, &e));
    test_assert(strstr(e.msg, "NUL byte") != NULL);
    err_clear(&e);
    imap_cmd_reset(&c);
    test_assert(!imap_cmd_add_quoted(&c, S("caf\xc3\xa9\n")));
    test_assert(!imap_cmd_finish(&c, &e));
    test_assert_streq(e.msg, "The string \"caf\\xc3\\xa9\\n\" cannot be sent as an IMAP quoted "
                             "string.");
    err_clear(&e);
    imap_cmd_release(&c);
    test_end();
}

static void test_format_dates(void)
{
    test_begin("cmd: APPEND date-time in the local zone, SEARCH dates");
    const struct {
        const char *tz;
        time_t t;
        const char *want;
    } t[] = {
        {"CET-1CEST,M3.5.0,M10.5.0/3", 1707123600, "05-Feb-2024 10:00:00 +0100"},
        {"CET-1CEST,M3.5.0,M10.5.0/3", 1719835200, "01-Jul-2024 14:00:00 +0200"},
        {"UTC0", 1707123600, "05-Feb-2024 09:00:00 +0000"},
        {"NST3:30NDT,M3.2.0,M11.1.0", 1707123600, "05-Feb-2024 05:30:00 -0330"},
        {"IST-5:30", 1709231399, "29-Feb-2024 23:59:59 +0530"},
        {"UTC0", 347155200, "01-Jan-1981 00:00:00 +0000"},
    };
    char *old_tz = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    char out[IMAP_DATE_TIME_SIZE];
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        setenv("TZ", t[i].tz, 1);
        tzset();
        test_assert(imap_format_date_time(t[i].t, out));
        test_assert_streq(out, t[i].want);
        /* What we write parses back to the same instant. */
        time_t back;
        test_assert(imap_parse_date_time(out, strlen(out), &back) && back == t[i].t);
    }
    /* offlineimap sends no date for messages dated before 1981. */
    setenv("TZ", "UTC0", 1);
    tzset();
    test_assert(!imap_format_date_time(0, out));
    test_assert(!imap_format_date_time(347155199, out));
    if (old_tz)
        setenv("TZ", old_tz, 1);
    else
        unsetenv("TZ");
    tzset();
    free(old_tz);

    char d[IMAP_DATE_SIZE];
    test_assert(imap_format_date(1994, 2, 1, d));
    test_assert_streq(d, "1-Feb-1994");
    test_assert(imap_format_date(2024, 12, 31, d));
    test_assert_streq(d, "31-Dec-2024");
    test_assert(imap_format_date(2024, 2, 29, d));
    test_assert_streq(d, "29-Feb-2024");
    test_assert(imap_format_date(9999, 1, 1, d));
    test_assert_streq(d, "1-Jan-9999");
    test_assert(!imap_format_date(2023, 2, 29, d));
    test_assert(!imap_format_date(1900, 2, 29, d));
    test_assert(imap_format_date(2000, 2, 29, d));
    test_assert(!imap_format_date(2024, 13, 1, d));
    test_assert(!imap_format_date(2024, 0, 1, d));
    test_assert(!imap_format_date(2024, 4, 31, d));
    test_assert(!imap_format_date(0, 1, 1, d));
    test_assert(!imap_format_date(10000, 1, 1, d));
    test_end();
}

static void test_parse_dates(void)
{
    test_begin("cmd: INTERNALDATE parsing");
    const struct {
        const char *in;
        bool ok;
        int64_t t;
    } t[] = {
        {"17-Jul-1996 02:44:25 -0700", true, 837596665},
        {"05-Feb-2024 09:00:00 +0000", true, 1707123600},
        {" 5-Feb-2024 09:00:00 +0000", true, 1707123600},
        {"5-Feb-2024 09:00:00 +0000", true, 1707123600},
        {"05-feb-2024 09:00:00 +0000", true, 1707123600},
        {"05-FEB-2024 09:00:00 +0000", true, 1707123600},
        {"29-Feb-2024 23:59:59 +0530", true, 1709231399},
        {"01-Jan-2000 00:00:00 -0330", true, 946697400},
        {"31-Dec-1969 23:59:59 +0000", true, -1},
        {"31-Dec-9999 23:59:59 -2359", true, 253402387139},
        {"01-Jan-0001 00:00:00 +0000", true, -62135596800},
        {"31-Dec-2016 23:59:60 +0000", true, 1483228800},
        {"", false, 0},
        {"05-Feb-2024", false, 0},
        {"05-Feb-2024 09:00:00", false, 0},
        {"05-Feb-2024 09:00:00 +000", false, 0},
        {"05-Feb-2024 09:00:00 +00000", false, 0},
        {"05-Feb-2024 09:00:00 0000", false, 0},
        {"05-Feb-2024 09:00:00 +0060", false, 0},
        {"05-Feb-2024 09:00:00 +2400", false, 0},
        {"05-Feb-2024 24:00:00 +0000", false, 0},
        {"05-Feb-2024 09:60:00 +0000", false, 0},
        {"05-Feb-2024 09:00:61 +0000", false, 0},
        {"32-Jan-2024 09:00:00 +0000", false, 0},
        {"00-Jan-2024 09:00:00 +0000", false, 0},
        {"29-Feb-2023 09:00:00 +0000", false, 0},
        {"31-Apr-2023 09:00:00 +0000", false, 0},
        {"05-Foo-2024 09:00:00 +0000", false, 0},
        {"05-Fe-2024 09:00:00 +0000", false, 0},
        {"05-Feb-24 09:00:00 +0000", false, 0},
        {"05-Feb-0000 09:00:00 +0000", false, 0},
        {"  5-Feb-2024 09:00:00 +0000", false, 0},
        {" 15-Feb-2024 09:00:00 +0000", false, 0},
        {"005-Feb-2024 09:00:00 +0000", false, 0},
        {"05-Feb-2024  09:00:00 +0000", false, 0},
        {"05-Feb-2024 9:00:00 +0000", false, 0},
        {"05-Feb-2024 09:00:00 +0000 ", false, 0},
        {"\"05-Feb-2024 09:00:00 +0000\"", false, 0},
        {"05-Feb-2024T09:00:00 +0000", false, 0},
        {"+5-Feb-2024 09:00:00 +0000", false, 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        time_t v = 42;
        bool ok = imap_parse_date_time(t[i].in, strlen(t[i].in), &v);
        if (ok != t[i].ok || (ok && (int64_t)v != t[i].t))
            test_fail_at(__FILE__, __LINE__, "\"%s\": got %d %lld, want %d %lld", t[i].in, ok,
                         (long long)v, t[i].ok, (long long)t[i].t);
        if (!ok)
            test_assert(v == 42);
    }
    /* Every prefix of a valid date is invalid: no reads past the length. */
    const char *full = "17-Jul-1996 02:44:25 -0700";
    for (size_t n = 0; n < strlen(full); n++) {
        char *copy = malloc(n + 1);
        memcpy(copy, full, n);
        time_t v;
        test_assert(!imap_parse_date_time(copy, n, &v));
        free(copy);
    }
    test_end();
}

int main(void)
{
    test_astring();
    test_literal_modes();
    test_flags_numbers();
    test_errors();
    test_format_dates();
    test_parse_dates();
    return test_done();
}
