/*
 * Unit tests for imap_utf7: both directions, round trips, and every way a
 * name can be invalid.  Expected encodings were checked against
 * offlineimap3's own imaputil.utf8_IMAP().
 */
#include "imap/imap_utf7.h"

#include "testlib/test.h"

#include <stdio.h>
#include <string.h>

#define S(lit) lit, sizeof(lit) - 1

struct pair {
    const char *utf8;
    const char *mutf7;
};

static const struct pair pairs[] = {
    {"", ""},
    {"INBOX", "INBOX"},
    {"&", "&-"},
    {"a&b", "a&-b"},
    {"&&", "&-&-"},
    {"Caf\xc3\xa9", "Caf&AOk-"},
    {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
     "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
    {"Entw\xc3\xbcrfe", "Entw&APw-rfe"},
    {"Gel\xc3\xb6schte Elemente", "Gel&APY-schte Elemente"},
    {"\xf0\x9f\x98\x80", "&2D3eAA-"},
    {"\xd0\xa7\xd0\xb5\xd1\x80\xd0\xbd\xd0\xbe\xd0\xb2\xd0\xb8\xd0\xba\xd0\xb8",
     "&BCcENQRABD0EPgQyBDgEOgQ4-"},
    {"[Gmail]/\xd0\x9f\xd0\xb0\xd0\xbf\xd0\xba\xd0\xb8", "[Gmail]/&BB8EMAQ,BDoEOA-"},
    {"\t", "&AAk-"},
    {"\x7f", "&AH8-"},
    {"\xc3\xa9&\xc3\xa9", "&AOk-&-&AOk-"},
    {"\xc3\xa9\xc3\xa9", "&AOkA6Q-"},
    {"\xc3\xa9~\xc3\xa9", "&AOk-~&AOk-"},
    {"\xef\xbf\xbf", "&,,8-"},
    {"\xf4\x8f\xbf\xbf", "&2,,f,w-"},
    {"a b-c", "a b-c"},
};

static void test_pairs(void)
{
    test_begin("utf7: encode and decode known pairs");
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        struct buf out;
        struct err e = ERR_INIT;
        buf_init(&out, 1000);
        test_assert(imap_utf8_to_mutf7(pairs[i].utf8, strlen(pairs[i].utf8), &out, &e));
        test_assert_streq(out.data, pairs[i].mutf7);
        buf_reset(&out);
        test_assert(imap_mutf7_to_utf8(pairs[i].mutf7, strlen(pairs[i].mutf7), &out, &e));
        test_assert_streq(out.data, pairs[i].utf8);
        test_assert(imap_mutf7_is_plain(pairs[i].utf8, strlen(pairs[i].utf8)) ==
                    (strcmp(pairs[i].utf8, pairs[i].mutf7) == 0));
        test_assert(!err_isset(&e));
        buf_release(&out);
    }
    test_end();
}

struct bad {
    const char *in;
    size_t len;
    const char *error;
};

static const struct bad bad_mutf7[] = {
    {S("&"), "unterminated \"&\" sequence at byte 0"},
    {S("&AOk"), "unterminated \"&\" sequence at byte 0"},
    {S("Caf&AOk"), "unterminated \"&\" sequence at byte 3"},
    {S("&AOk!-"), "character outside modified BASE64 at byte 4"},
    {S("&AOk=-"), "character outside modified BASE64 at byte 4"},
    {S("&AOk/-"), "character outside modified BASE64 at byte 4"},
    {S("&AOl-"), "non-zero padding bits"},
    {S("&,,,-"), "non-zero padding bits"},
    {S("&AOkA-"), "superfluous BASE64 character"},
    {S("&AA-"), "empty encoded run at byte 0"},
    {S("&AGE-"), "encoded printable ASCII"},
    {S("&ACY-"), "encoded printable ASCII"},
    {S("&ACAA6Q-"), "encoded printable ASCII"},
    {S("&AAA-"), "encoded NUL character"},
    {S("&2D0-"), "high surrogate at the end of a run"},
    {S("&3gA-"), "low surrogate without a high surrogate"},
    {S("&2D3YPQ-"), "high surrogate without a low surrogate"},
    {S("&2D0AOQ-"), "high surrogate without a low surrogate"},
    {S("&AOk-&AOk-"), "an encoded run right after another at byte 5"},
    {S("Caf\xc3\xa9"), "byte outside printable ASCII at byte 3"},
    {S("a\tb"), "byte outside printable ASCII at byte 1"},
    {S("a\0b"), "byte outside printable ASCII at byte 1"},
    {S("\x7f"), "byte outside printable ASCII at byte 0"},
};

static const struct bad bad_utf8[] = {
    {S("\xff"), "invalid UTF-8 sequence at byte 0"},
    {S("ab\xc0\xaf"), "invalid UTF-8 sequence at byte 2"},
    {S("\xe0\x80\xaf"), "invalid UTF-8 sequence at byte 0"},
    {S("\xf0\x80\x80\xaf"), "invalid UTF-8 sequence at byte 0"},
    {S("\xed\xa0\x80"), "invalid UTF-8 sequence at byte 0"},
    {S("\xed\xbf\xbf"), "invalid UTF-8 sequence at byte 0"},
    {S("\xf4\x90\x80\x80"), "invalid UTF-8 sequence at byte 0"},
    {S("\xf5\x80\x80\x80"), "invalid UTF-8 sequence at byte 0"},
    {S("x\xc3"), "invalid UTF-8 sequence at byte 1"},
    {S("\xe6\x97"), "invalid UTF-8 sequence at byte 0"},
    {S("a\x80"
       "b"),
     "invalid UTF-8 sequence at byte 1"},
    {S("\xc3\xa9\xc3"), "invalid UTF-8 sequence at byte 2"},
    {S("\xc3("), "invalid UTF-8 sequence at byte 0"},
    {S("a\0b"), "NUL character at byte 1"},
};

static void test_bad(void)
{
    test_begin("utf7: invalid input is refused with a clear error");
    for (size_t i = 0; i < sizeof(bad_mutf7) / sizeof(bad_mutf7[0]); i++) {
        struct buf out;
        struct err e = ERR_INIT;
        buf_init(&out, 1000);
        test_assert(!imap_mutf7_to_utf8(bad_mutf7[i].in, bad_mutf7[i].len, &out, &e));
        if (!e.msg || !strstr(e.msg, bad_mutf7[i].error) ||
            !strstr(e.msg, "is not valid modified UTF-7"))
            test_fail_at(__FILE__, __LINE__, "decode \"%s\": got \"%s\", want \"%s\"",
                         bad_mutf7[i].in, e.msg ? e.msg : "(none)", bad_mutf7[i].error);
        test_assert(e.scope == ERR_FOLDER && e.kind == ERRK_PROTOCOL);
        err_clear(&e);
        buf_release(&out);
    }
    for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
        struct buf out;
        struct err e = ERR_INIT;
        buf_init(&out, 1000);
        test_assert(!imap_utf8_to_mutf7(bad_utf8[i].in, bad_utf8[i].len, &out, &e));
        if (!e.msg || !strstr(e.msg, bad_utf8[i].error) || !strstr(e.msg, "is not valid UTF-8"))
            test_fail_at(__FILE__, __LINE__, "encode #%zu: got \"%s\", want \"%s\"", i,
                         e.msg ? e.msg : "(none)", bad_utf8[i].error);
        err_clear(&e);
        buf_release(&out);
    }
    test_end();

    test_begin("utf7: the error names the folder, sanitized");
    struct buf out;
    struct err e = ERR_INIT;
    buf_init(&out, 1000);
    test_assert(!imap_mutf7_to_utf8(S("Caf&AOk\"\x01"), &out, &e));
    test_assert_streq(e.msg, "The folder name \"Caf&AOk\\\"\\x01\" is not valid modified UTF-7: "
                             "character outside modified BASE64 at byte 7.");
    err_clear(&e);
    buf_release(&out);
    test_end();
}

static void test_limits(void)
{
    test_begin("utf7: output bounded by the buffer's maximum");
    struct buf out;
    struct err e = ERR_INIT;
    /* "Caf&AOk-" needs 8 bytes; every maximum below that fails cleanly. */
    for (size_t max = 0; max < 8; max++) {
        buf_init(&out, max);
        test_assert(!imap_utf8_to_mutf7(S("Caf\xc3\xa9"), &out, &e));
        test_assert(strstr(e.msg, "is too long once converted") != NULL);
        err_clear(&e);
        buf_release(&out);
    }
    buf_init(&out, 8);
    test_assert(imap_utf8_to_mutf7(S("Caf\xc3\xa9"), &out, &e));
    buf_release(&out);
    for (size_t max = 0; max < 5; max++) {
        buf_init(&out, max);
        test_assert(!imap_mutf7_to_utf8(S("Caf&AOk-"), &out, &e));
        test_assert(strstr(e.msg, "is too long once converted") != NULL);
        err_clear(&e);
        buf_release(&out);
    }
    test_end();
}

/* Every code point from U+0001 to U+10FFFF (no surrogates) round-trips. */
static void test_all_code_points(void)
{
    test_begin("utf7: every code point round-trips, alone and in runs");
    struct buf in, enc, dec;
    buf_init(&in, 64);
    buf_init(&enc, 64);
    buf_init(&dec, 64);
    size_t failures = 0;
    struct err e = ERR_INIT;
    for (uint32_t cp = 1; cp <= 0x10ffff; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff)
            continue;
        char u[4];
        size_t n;
        if (cp < 0x80)
            u[0] = (char)cp, n = 1;
        else if (cp < 0x800)
            u[0] = (char)(0xc0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
        else if (cp < 0x10000)
            u[0] = (char)(0xe0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
            u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
        else
            u[0] = (char)(0xf0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
            u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
        buf_reset(&in);
        buf_reset(&enc);
        buf_reset(&dec);
        /* The character once, then three times (runs of 1 to 3 units modulo 3). */
        buf_append(&in, u, n);
        buf_append_char(&in, 'x');
        for (int k = 0; k < 3; k++)
            buf_append(&in, u, n);
        if (!imap_utf8_to_mutf7(in.data, in.len, &enc, &e) ||
            !imap_mutf7_to_utf8(enc.data, enc.len, &dec, &e) || dec.len != in.len ||
            memcmp(dec.data, in.data, in.len) != 0) {
            if (failures++ < 5)
                test_fail_at(__FILE__, __LINE__, "U+%04X: \"%s\" %s", cp, enc.data,
                             e.msg ? e.msg : "");
            err_clear(&e);
        }
    }
    test_assert(failures == 0);
    buf_release(&in);
    buf_release(&enc);
    buf_release(&dec);
    test_end();
}

int main(void)
{
    test_pairs();
    test_bad();
    test_limits();
    test_all_code_points();
    return test_done();
}
