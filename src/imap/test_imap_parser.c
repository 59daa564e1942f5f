/*
 * Unit tests for imap_parser.  Every table case is fed whole, byte by byte,
 * and split in two at every offset, with and without a streaming literal
 * handler, and must give the same responses and the same error each time.
 */
#include "imap/imap_decode.h"
#include "imap/imap_parser.h"

#include "base/buf.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include "test_imap_dovecot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A literal handler that streams literals of at least min bytes and logs them. */
struct stream_log {
    uint64_t min;
    bool refuse_data; /* data() fails after the first chunk */
    struct buf log;   /* "[stream N resp=.. name=.. prev=.. depth=..: bytes]" entries */
    struct buf cur;
    size_t begins, ends;
};

static bool log_begin(void *ctx, const struct imap_literal_info *info)
{
    struct stream_log *s = ctx;
    if (info->size < s->min)
        return false;
    s->begins++;
    buf_printf(&s->log,
               "[stream %llu num=%s name=%s prev=%s depth=%u: ", (unsigned long long)info->size,
               info->resp_number ? info->resp_number : "-", info->resp_name ? info->resp_name : "-",
               info->prev_atom ? info->prev_atom : "-", info->depth);
    buf_reset(&s->cur);
    return true;
}

static bool log_data(void *ctx, const void *data, size_t len, struct err *e)
{
    struct stream_log *s = ctx;
    if (s->refuse_data) {
        err_set(e, ERR_MSG, ERRK_NOSPACE, "The disk is full (test).");
        return false;
    }
    buf_append(&s->cur, data, len);
    return true;
}

static bool log_end(void *ctx, struct err *e)
{
    struct stream_log *s = ctx;
    s->ends++;
    for (size_t i = 0; i < s->cur.len; i++)
        if (s->cur.data[i] == '\0')
            buf_append_str(&s->log, "\\0");
        else
            buf_append_char(&s->log, s->cur.data[i]);
    buf_append_str(&s->log, "]");
    return true;
}

static void stream_log_init(struct stream_log *s, uint64_t min)
{
    memset(s, 0, sizeof(*s));
    s->min = min;
    buf_init(&s->log, BUF_UNBOUNDED);
    buf_init(&s->cur, BUF_UNBOUNDED);
}

static void stream_log_release(struct stream_log *s)
{
    buf_release(&s->log);
    buf_release(&s->cur);
}

/*
 * Feed in[0..len) in pieces ending at cuts[] (the last piece ends at len) and
 * write each response, one per line, to dump.  Returns the error message of
 * an IMAP_PARSE_ERROR (allocated) or NULL.  A response left incomplete at
 * the end shows as "<partial>".
 */
static char *run(const struct imap_parser_limits *lim, struct stream_log *sl, const char *in,
                 size_t len, const size_t *cuts, size_t ncuts, struct buf *dump)
{
    struct imap_parser *p = imap_parser_new(lim);
    struct imap_literal_handler h = {log_begin, log_data, log_end, sl};
    if (sl)
        imap_parser_set_literal_handler(p, &h);
    struct err e = ERR_INIT;
    char *error = NULL;
    size_t off = 0, since_resp = 0;
    for (size_t piece = 0; piece <= ncuts && !error; piece++) {
        size_t end = piece < ncuts ? cuts[piece] : len;
        while (off < end) {
            size_t used;
            const struct imap_resp *r;
            enum imap_parse_result res = imap_parser_feed(p, in + off, end - off, &used, &r, &e);
            test_assert(used <= end - off);
            off += used;
            since_resp += used;
            if (res == IMAP_PARSE_ERROR) {
                test_assert(err_isset(&e));
                error = xstrdup(e.msg);
                /* A dead parser stays dead. */
                err_clear(&e);
                test_assert(imap_parser_feed(p, "x\r\n", 3, &used, &r, &e) == IMAP_PARSE_ERROR);
                test_assert(e.msg && strcmp(e.msg, error) == 0);
                break;
            }
            if (res == IMAP_PARSE_RESPONSE) {
                test_assert(r != NULL);
                imap_resp_format(r, dump);
                buf_append_str(dump, "\n");
                since_resp = 0;
            } else {
                test_assert(off == end);
            }
        }
    }
    if (!error && since_resp > 0)
        buf_append_str(dump, "<partial>\n");
    err_clear(&e);
    imap_parser_free(&p);
    test_assert(p == NULL);
    return error;
}

/*
 * Run every way of splitting; all must give the expected dump and error (a
 * substring of the message).  With stream_min > 0 a handler streams literals
 * of at least that size and must log expect_streams.
 */
static void check_splits(const struct imap_parser_limits *lim, const char *in, size_t len,
                         const char *expect, const char *error, uint64_t stream_min,
                         const char *expect_streams)
{
    size_t *cuts = xcalloc(len + 1, sizeof(*cuts));
    /* mode 0: whole; 1: byte by byte; 2 + k: split at k. */
    for (size_t mode = 0; mode < len + 3; mode++) {
        size_t ncuts = 0;
        if (mode == 1) {
            for (size_t i = 1; i < len; i++)
                cuts[ncuts++] = i;
        } else if (mode >= 2) {
            cuts[ncuts++] = mode - 2;
        }
        struct stream_log sl;
        stream_log_init(&sl, stream_min);
        struct buf dump;
        buf_init(&dump, BUF_UNBOUNDED);
        char *got_err = run(lim, stream_min ? &sl : NULL, in, len, cuts, ncuts, &dump);
        bool ok = strcmp(dump.data, expect) == 0 &&
                  (error ? got_err && strstr(got_err, error) : !got_err) &&
                  (!stream_min || strcmp(sl.log.data, expect_streams) == 0) &&
                  (sl.begins == sl.ends || got_err);
        if (!ok) {
            test_fail_at(__FILE__, __LINE__,
                         "input \"%.60s\" mode %zu stream_min %llu:\n got  \"%s\"\n"
                         " want \"%s\"\n error \"%s\" want \"%s\"\n streams \"%s\" want \"%s\"",
                         in, mode, (unsigned long long)stream_min, dump.data, expect,
                         got_err ? got_err : "(none)", error ? error : "(none)", sl.log.data,
                         expect_streams ? expect_streams : "");
            mode = len + 3; /* one report per case is enough */
        }
        free(got_err);
        buf_release(&dump);
        stream_log_release(&sl);
    }
    free(cuts);
}

/*
 * expect as it looks when every non-empty literal is streamed: each
 * {n}"bytes" with n > 0 becomes {n}<stream>.
 */
static char *streamed_form(const char *expect)
{
    struct buf out;
    buf_init(&out, BUF_UNBOUNDED);
    for (const char *p = expect; *p;) {
        const char *q = p;
        if (*q == '{' && q[1] >= '1' && q[1] <= '9') {
            while (*++q >= '0' && *q <= '9')
                ;
            if (q[0] == '}' && q[1] == '"') {
                buf_append(&out, p, (size_t)(q + 1 - p));
                buf_append_str(&out, "<stream>");
                for (q += 2; *q != '"'; q++)
                    if (*q == '\\')
                        q++;
                p = q + 1;
                continue;
            }
        }
        buf_append_char(&out, *p++);
    }
    return buf_detach(&out, NULL);
}

/* Without a handler, and (if expect_streams) with one that streams every literal. */
static void check_all_splits(const struct imap_parser_limits *lim, const char *in, size_t len,
                             const char *expect, const char *error, const char *expect_streams)
{
    check_splits(lim, in, len, expect, error, 0, NULL);
    if (expect_streams) {
        char *sexpect = streamed_form(expect);
        check_splits(lim, in, len, sexpect, error, 1, expect_streams);
        free(sexpect);
    }
}

#define S(lit) lit, sizeof(lit) - 1

struct parse_case {
    const char *in;
    size_t len;
    const char *expect;  /* formatted responses, one per line */
    const char *error;   /* substring of the error, or NULL */
    const char *streams; /* what a handler streaming every literal of >= 1 byte logs */
};

static const struct parse_case cases[] = {
    /* Status responses, codes and text. */
    {S("* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR] Dovecot ready.\r\n"),
     "* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR] Dovecot ready.\n", NULL, ""},
    {S("a1 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n"),
     "a1 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\n", NULL, ""},
    {S("a2 no [trycreate] Mailbox doesn't exist: x\r\n"),
     "a2 NO [TRYCREATE] Mailbox doesn't exist: x\n", NULL, ""},
    {S("* BYE Logging out\r\n* PREAUTH [CAPABILITY IMAP4rev1] Logged in\r\n"),
     "* BYE Logging out\n* PREAUTH [CAPABILITY IMAP4rev1] Logged in\n", NULL, ""},
    {S("* OK\r\na3 BAD\r\n"), "* OK\na3 BAD\n", NULL, ""},
    {S("* OK [ALERT]\r\n"), "* OK [ALERT]\n", NULL, ""},
    {S("* OK [PERMANENTFLAGS (\\Answered \\Seen \\*)] Flags permitted.\r\n"),
     "* OK [PERMANENTFLAGS (\\Answered \\Seen \\*)] Flags permitted.\n", NULL, ""},
    {S("a4 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n"),
     "a4 OK [COPYUID 38505 304,319:320 3956:3958] Done\n", NULL, ""},
    {S("* NO [BADCHARSET (UTF-8 \"x]y\")] nope\r\n"), "* NO [BADCHARSET (UTF-8 \"x]y\")] nope\n",
     NULL, ""},
    /* A code whose arguments do not tokenize is kept as raw text. */
    {S("* OK [WEBALERT https://x/y?a=\"b] Web login required\r\n"),
     "* OK [WEBALERT \"https://x/y?a=\\\"b\"] Web login required\n", NULL, ""},
    {S("* OK [UNAVAILABLE (] text\r\n"), "* OK [UNAVAILABLE \"(\"] text\n", NULL, ""},
    /* Without a closing bracket it is all text. */
    {S("* NO [foo bar\r\n"), "* NO [foo bar\n", NULL, ""},
    {S("* OK [] empty\r\n"), "* OK [] empty\n", NULL, ""},
    {S("* OK  two spaces\r\n"), "* OK two spaces\n", NULL, ""},
    {S("* OK [ALERT]text\r\n"), "* OK [ALERT] text\n", NULL, ""},
    /* Continuations keep their text as it is. */
    {S("+ Ready for literal data\r\n"), "+ Ready for literal data\n", NULL, ""},
    {S("+\r\n+ \r\n+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP7MA==\r\n"),
     "+ \n+ \n+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP7MA==\n", NULL, ""},
    {S("+ [ALERT] \"x\r\n"), "+ [ALERT] \"x\n", NULL, ""},
    /* Bare LF. */
    {S("* 3 EXISTS\n* 0 RECENT\n"), "* 3 EXISTS\n* 0 RECENT\n", NULL, ""},
    /* Data responses. */
    {S("* CAPABILITY IMAP4rev1 AUTH=PLAIN COMPRESS=DEFLATE\r\n"),
     "* CAPABILITY IMAP4rev1 AUTH=PLAIN COMPRESS=DEFLATE\n", NULL, ""},
    {S("* SEARCH\r\n* SEARCH 1 2 \r\n"), "* SEARCH\n* SEARCH 1 2\n", NULL, ""},
    {S("* X nil Nil NIL NILS\r\n"), "* X NIL NIL NIL NILS\n", NULL, ""},
    {S("* LIST (\\HasNoChildren) \"\\\\\" \"a\\\"b\\\\c\"\r\n"),
     "* LIST (\\HasNoChildren) \"\\\\\" \"a\\\"b\\\\c\"\n", NULL, ""},
    {S("* LIST () \"/\" [Gmail]/All\r\n* LIST () \"/\" a]b\r\n* STATUS a[b (MESSAGES 1)\r\n"),
     "* LIST () \"/\" [Gmail]/All\n* LIST () \"/\" a]b\n* STATUS a[b (MESSAGES 1)\n", NULL, ""},
    {S("* 1 FETCH (ENVELOPE (NIL \"subj\" ((\"a\" NIL \"b\" \"c\")) NIL) FLAGS ())\r\n"),
     "* 1 FETCH (ENVELOPE (NIL \"subj\" ((\"a\" NIL \"b\" \"c\")) NIL) FLAGS ())\n", NULL, ""},
    {S("* LIST (\\HasNoChildren) \".\" \"caf\xc3\xa9\"\r\n"),
     "* LIST (\\HasNoChildren) \".\" \"caf\\xc3\\xa9\"\n", NULL, ""},
    /* Bracketed sections are part of the atom. */
    {S("* 1 FETCH (UID 5 BODY[HEADER.FIELDS (Message-ID)]<0> {5}\r\nhello)\r\n"),
     "* 1 FETCH (UID 5 BODY[HEADER.FIELDS (Message-ID)]<0> {5}\"hello\")\n", NULL,
     "[stream 5 num=1 name=FETCH prev=BODY[HEADER.FIELDS (Message-ID)]<0> depth=1: hello]"},
    /* literal8, NUL bytes, LITERAL+ syntax, an empty literal, two in one response. */
    {S("* 2 FETCH (BINARY[] ~{3}\r\na\0b)\r\n"), "* 2 FETCH (BINARY[] {3}\"a\\x00b\")\n", NULL,
     "[stream 3 num=2 name=FETCH prev=BINARY[] depth=1: a\\0b]"},
    {S("* 1 FETCH (BODY[] {2+}\r\nab)\r\n"), "* 1 FETCH (BODY[] {2}\"ab\")\n", NULL,
     "[stream 2 num=1 name=FETCH prev=BODY[] depth=1: ab]"},
    {S("* 1 FETCH (BODY[HEADER] {3}\r\nabc BODY[TEXT] {0}\r\n)\r\n"),
     "* 1 FETCH (BODY[HEADER] {3}\"abc\" BODY[TEXT] {0}\"\")\n", NULL,
     "[stream 3 num=1 name=FETCH prev=BODY[HEADER] depth=1: abc]"},
    {S("* LIST () \"/\" {7}\r\nA\r\nB \"C\r\n"), "* LIST () \"/\" {7}\"A\\x0d\\x0aB \\\"C\"\n",
     NULL, "[stream 7 num=- name=LIST prev=- depth=0: A\r\nB \"C]"},
    {S("* 1 FETCH (X ({1}\r\na {1}\r\nb))\r\n"), "* 1 FETCH (X ({1}\"a\" {1}\"b\"))\n", NULL,
     "[stream 1 num=1 name=FETCH prev=- depth=2: a][stream 1 num=1 name=FETCH prev=- depth=2: b]"},
    /* Several responses in one input. */
    {S("* 1 EXISTS\r\n* 2 EXISTS\r\na OK done\r\n"), "* 1 EXISTS\n* 2 EXISTS\na OK done\n", NULL,
     ""},
    /* Incomplete input. */
    {S("* 1 FETCH (BODY[] {10}\r\nabc"), "<partial>\n", NULL, NULL},
    {S("* 1 EXISTS"), "<partial>\n", NULL, ""},

    /* Errors. */
    {S("\r\n"), "", "(empty line)", ""},
    {S("* \r\n"), "", "(untagged response without content)", ""},
    {S("*OK\r\n"), "", "(missing space after '*')", ""},
    {S("+foo\r\n"), "", "(missing space after '+')", ""},
    {S("a1 FOO bar\r\n"), "", "(tagged response without OK, NO or BAD)", ""},
    {S("a1 PREAUTH x\r\n"), "", "(tagged response without OK, NO or BAD)", ""},
    {S("a1\r\n"), "", "(tag without a status)", ""},
    {S("a(1 OK\r\n"), "", "(bad character in the tag)", ""},
    {S("a1 OKAY\r\n"), "", "(tagged response without OK, NO or BAD)", ""},
    {S("* 1 FETCH (UID 5\r\n"), "", "(line ends inside a parenthesized list)", ""},
    {S("* 1 FETCH UID 5)\r\n"), "", "(unbalanced ')')", ""},
    {S("* LIST () \"/\" \"abc\r\n"), "", "(unterminated quoted string)", ""},
    {S("* X \"a\\\r\n"), "", "(unterminated quoted string)", ""},
    {S("* X \"a\\\"\r\n"), "", "(unterminated quoted string)", ""},
    {S("* X {abc}\r\n"), "", "(malformed literal size)", ""},
    {S("* X {}\r\n"), "", "(malformed literal size)", ""},
    {S("* X {5\r\n"), "", "(malformed literal size)", ""},
    {S("* X {5} y\r\n"), "", "(literal size not at the end of the line)", ""},
    {S("* X a\0b\r\n"), "", "(NUL byte)", ""},
    {S("* X a\rb\r\n"), "", "(CR without LF)", ""},
    {S("* X a\"b\r\n"), "", "(unexpected '\"' in an atom)", ""},
    {S("* X a(b\r\n"), "", "(unexpected '(' in an atom)", ""},
    {S("* X a\x01"
       "b\r\n"),
     "", "(control character in an atom)", ""},
    {S("* X \"a\"b\r\n"), "", "(missing space between arguments)", ""},
    {S("* X (a)(b)\r\n"), "", "(missing space between arguments)", ""},
    {S("* 1 FETCH (BODY[] {3}\r\nabcX)\r\n"), "", "(missing space after a literal)",
     "[stream 3 num=1 name=FETCH prev=BODY[] depth=1: abc]"},
    {S("* 1 EXISTS\r\n\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n"), "* 1 EXISTS\n",
     "(NUL byte): \"\\x16\\x03\\x01\\x02\\x00\\x01", ""},
    {S("HTTP/1.1 400 Bad Request\r\n"), "", "(tagged response without OK, NO or BAD)", ""},
};

static void test_table(void)
{
    test_begin("parser table, every split, with and without streaming");
    struct imap_parser_limits lim;
    imap_parser_default_limits(&lim);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_all_splits(&lim, cases[i].in, cases[i].len, cases[i].expect, cases[i].error,
                         cases[i].streams);
    test_end();
}

static void test_error_message(void)
{
    test_begin("parser error quotes a bounded, sanitized prefix of the line");
    struct imap_parser *p = imap_parser_new(NULL);
    struct buf in;
    buf_init(&in, BUF_UNBOUNDED);
    buf_append_str(&in, "* X \"unterminated \x01\x7f\xff");
    for (int i = 0; i < 1000; i++)
        buf_append_str(&in, "blah ");
    buf_append_str(&in, "\r\n");
    size_t used;
    const struct imap_resp *r;
    struct err e = ERR_INIT;
    test_assert(imap_parser_feed(p, in.data, in.len, &used, &r, &e) == IMAP_PARSE_ERROR);
    test_assert(used == in.len);
    test_assert(e.scope == ERR_REPO && e.kind == ERRK_PROTOCOL);
    test_assert(strstr(e.msg, "malformed response (unterminated quoted string)") != NULL);
    test_assert(strstr(e.msg, "\\\"unterminated \\x01\\x7f\\xffblah") != NULL);
    test_assert(strstr(e.msg, "...\".") != NULL);
    test_assert(strlen(e.msg) < 400);
    err_clear(&e);
    buf_release(&in);
    imap_parser_free(&p);
    imap_parser_free(&p); /* harmless on NULL */
    test_end();
}

static void test_used(void)
{
    test_begin("parser consumes exactly one response per call");
    struct imap_parser *p = imap_parser_new(NULL);
    const char *in = "* 1 EXISTS\r\n* 2 EXISTS\r\n* 3 EXI";
    size_t used;
    const struct imap_resp *r;
    struct err e = ERR_INIT;
    test_assert(imap_parser_feed(p, in, strlen(in), &used, &r, &e) == IMAP_PARSE_RESPONSE);
    test_assert_inteq(used, 12);
    test_assert(r->kind == IMAP_RESP_UNTAGGED && r->count == 2);
    test_assert_streq(r->args[0].str, "1");
    test_assert(imap_parser_feed(p, in + 12, strlen(in) - 12, &used, &r, &e) ==
                IMAP_PARSE_RESPONSE);
    test_assert_inteq(used, 12);
    test_assert_streq(r->args[0].str, "2");
    test_assert(imap_parser_feed(p, in + 24, strlen(in) - 24, &used, &r, &e) == IMAP_PARSE_MORE);
    test_assert_inteq(used, strlen(in) - 24);
    test_assert(r == NULL);
    test_assert(imap_parser_feed(p, "STS\r\n", 5, &used, &r, &e) == IMAP_PARSE_RESPONSE);
    test_assert_streq(r->args[1].str, "EXISTS");
    test_assert(imap_parser_feed(p, "", 0, &used, &r, &e) == IMAP_PARSE_MORE && used == 0);
    imap_parser_free(&p);
    test_end();
}

static void test_resp_fields(void)
{
    test_begin("parser fills tag, status, code, text and arguments");
    struct imap_parser *p = imap_parser_new(NULL);
    size_t used;
    const struct imap_resp *r;
    struct err e = ERR_INIT;
    const char *in = "A0042 ok [appenduid 38505 3955] APPEND completed\r\n";
    test_assert(imap_parser_feed(p, in, strlen(in), &used, &r, &e) == IMAP_PARSE_RESPONSE);
    test_assert(r->kind == IMAP_RESP_TAGGED);
    test_assert_streq(r->tag, "A0042");
    test_assert(r->status == IMAP_STATUS_OK);
    test_assert_streq(r->code, "APPENDUID");
    test_assert(r->code_count == 2 && r->code_args[0].type == IMAP_ARG_ATOM);
    test_assert_streq(r->code_args[1].str, "3955");
    test_assert_streq(r->text, "APPEND completed");
    test_assert(r->count == 0);
    in = "* 12 FETCH (BODY[] {3}\r\nabc UID 7 X NIL)\r\n";
    test_assert(imap_parser_feed(p, in, strlen(in), &used, &r, &e) == IMAP_PARSE_RESPONSE);
    test_assert(r->status == IMAP_STATUS_NONE && r->code == NULL && r->count == 3);
    const struct imap_arg *l = &r->args[2];
    test_assert(l->type == IMAP_ARG_LIST && l->len == 6);
    test_assert(l->list[1].type == IMAP_ARG_LITERAL && l->list[1].len == 3);
    test_assert_streq(imap_arg_str(&l->list[1]), "abc");
    test_assert(imap_arg_is_string(&l->list[2]) && imap_arg_atom_ieq(&l->list[2], "uid"));
    test_assert(l->list[5].type == IMAP_ARG_NIL && imap_arg_str(&l->list[5]) == NULL);
    test_assert(!imap_arg_is_string(l));
    test_assert_streq(imap_status_name(IMAP_STATUS_PREAUTH), "PREAUTH");
    test_assert_streq(imap_status_name(IMAP_STATUS_NONE), "NONE");
    imap_parser_free(&p);
    test_end();
}

static void test_limits(void)
{
    test_begin("parser limits: response size, depth, arguments, literal sizes");
    struct imap_parser_limits lim;
    imap_parser_default_limits(&lim);
    test_assert(lim.max_response == 8u << 20 && lim.max_depth == 32 && lim.max_args == 1000000 &&
                lim.max_inline_literal == 1u << 20 && lim.max_literal == (uint64_t)4 << 30);

    /* A line of exactly max_response bytes passes, one more fails. */
    lim.max_response = 20;
    check_all_splits(&lim, S("* SEARCH 1 2 3 4 5\r\n* SEARCH 1 2 3 4 56\r\n"),
                     "* SEARCH 1 2 3 4 5\n", "limits (response longer than 20 bytes)", "");
    /* Inline literals count; streamed ones do not. */
    lim.max_response = 40;
    check_splits(&lim, S("* 1 FETCH (BODY[] {20}\r\n01234567890123456789)\r\n"), "",
                 "limits (response longer than 40 bytes)", 0, NULL);
    check_splits(&lim, S("* 1 FETCH (BODY[] {20}\r\n01234567890123456789)\r\n"),
                 "* 1 FETCH (BODY[] {20}<stream>)\n", NULL, 1,
                 "[stream 20 num=1 name=FETCH prev=BODY[] depth=1: 01234567890123456789]");
    check_all_splits(&lim, S("* 1 FETCH (BODY[] {5}\r\n01234)\r\n"),
                     "* 1 FETCH (BODY[] {5}\"01234\")\n", NULL, NULL);

    imap_parser_default_limits(&lim);
    lim.max_depth = 3;
    check_all_splits(&lim, S("* X (((a)))\r\n* X ((((a))))\r\n"), "* X (((a)))\n",
                     "limits (lists nested deeper than 3)", "");
    /* In a response code, a limit only turns the code into raw text. */
    check_all_splits(&lim, S("* OK [X ((((a))))] t\r\n"), "* OK [X \"((((a))))\"] t\n", NULL, "");

    imap_parser_default_limits(&lim);
    lim.max_args = 5;
    check_all_splits(&lim, S("* A B C D E\r\n* A (B C) D\r\n* A (B C) D E\r\n"),
                     "* A B C D E\n* A (B C) D\n", "limits (more than 5 arguments)", "");
    check_all_splits(&lim, S("* A B C D {1}\r\nx\r\n* A B C D E {1}\r\n"), "* A B C D {1}\"x\"\n",
                     "limits (more than 5 arguments)", "[stream 1 num=- name=A prev=D depth=0: x]");

    imap_parser_default_limits(&lim);
    lim.max_inline_literal = 10;
    lim.max_literal = 100;
    const char big[] = "* 1 FETCH (BODY[] {11}\r\n0123456789A)\r\n";
    /* No handler, or one that declines: refused. */
    check_splits(&lim, S(big), "",
                 "limits (literal of 11 bytes, more than the 10 bytes kept in memory, and not "
                 "taken as a stream): \"* 1 FETCH (BODY[] {11}\\r\\n\".",
                 0, NULL);
    check_splits(&lim, S(big), "", "(literal of 11 bytes, more than the 10 bytes kept", 50, "");
    check_splits(&lim, S(big), "* 1 FETCH (BODY[] {11}<stream>)\n", NULL, 1,
                 "[stream 11 num=1 name=FETCH prev=BODY[] depth=1: 0123456789A]");
    /* Above max_literal even a willing handler is never asked. */
    check_all_splits(&lim, S("* 1 FETCH (BODY[] {101}\r\n"), "",
                     "(literal of 101 bytes, more than the limit of 100)", "");

    /* Hostile sizes against the default limits. */
    imap_parser_default_limits(&lim);
    check_all_splits(&lim, S("* 1 FETCH (BODY[] {99999999999999}\r\n"), "",
                     "The IMAP server sent a response beyond this client's limits (literal of "
                     "99999999999999 bytes, more than the limit of 4294967296): \"* 1 FETCH "
                     "(BODY[] {99999999999999}\\r\\n\".",
                     "");
    check_all_splits(&lim, S("* 1 FETCH (BODY[] {18446744073709551615}\r\n"), "",
                     "(literal of 18446744073709551615 bytes, more than", "");
    check_all_splits(&lim, S("* 1 FETCH (BODY[] ~{999999999999999999999999999999999999}\r\n"), "",
                     "(literal of 999999999999999999999999999999999999 bytes, more than", "");
    check_all_splits(&lim, S("* 1 FETCH (BODY[] {4294967297}\r\n"), "",
                     "(literal of 4294967297 bytes, more than the limit of 4294967296)", "");
    /* Just under the default inline limit: accepted, waiting for its bytes. */
    check_splits(&lim, S("* 1 FETCH (BODY[] {1048576}\r\nabc"), "<partial>\n", NULL, 0, NULL);
    check_splits(&lim, S("* 1 FETCH (BODY[] {1048577}\r\nabc"), "",
                 "(literal of 1048577 bytes, more than the 1048576 bytes kept in memory", 0, NULL);
    test_end();

    test_begin("parser limit on a line that never ends");
    lim.max_response = 1000;
    struct imap_parser *p = imap_parser_new(&lim);
    char chunk[300];
    memset(chunk, 'a', sizeof(chunk));
    memcpy(chunk, "* X ", 4);
    size_t used, total = 0;
    const struct imap_resp *r;
    struct err e = ERR_INIT;
    enum imap_parse_result res;
    while ((res = imap_parser_feed(p, chunk, sizeof(chunk), &used, &r, &e)) == IMAP_PARSE_MORE)
        total += used;
    total += used;
    test_assert(res == IMAP_PARSE_ERROR);
    test_assert_inteq(total, 1000);
    test_assert(strstr(e.msg, "limits (response longer than 1000 bytes): \"* X aaaa") != NULL);
    err_clear(&e);
    imap_parser_free(&p);
    test_end();
}

/* A handler that keeps the bytes of BODY[] literals only. */
struct body_sink {
    struct buf body;
    struct imap_literal_info info;
    char number[16], name[16], prev[32];
    size_t calls, ends;
};

static bool sink_begin(void *ctx, const struct imap_literal_info *info)
{
    struct body_sink *s = ctx;
    if (!info->prev_atom || strcmp(info->prev_atom, "BODY[]") != 0)
        return false;
    s->info = *info;
    snprintf(s->number, sizeof(s->number), "%s", info->resp_number ? info->resp_number : "");
    snprintf(s->name, sizeof(s->name), "%s", info->resp_name ? info->resp_name : "");
    snprintf(s->prev, sizeof(s->prev), "%s", info->prev_atom);
    return true;
}

static bool sink_data(void *ctx, const void *data, size_t len, struct err *e)
{
    struct body_sink *s = ctx;
    s->calls++;
    if (!buf_append(&s->body, data, len)) {
        err_set(e, ERR_MSG, ERRK_NOSPACE, "The test sink is full after %zu bytes.", s->body.len);
        return false;
    }
    return true;
}

static bool sink_end(void *ctx, struct err *e)
{
    struct body_sink *s = ctx;
    s->ends++;
    return true;
}

static void test_streaming(void)
{
    test_begin("streamed literal delivers the exact bytes in any chunking");
    const size_t body_len = 200000;
    struct buf in;
    buf_init(&in, BUF_UNBOUNDED);
    buf_printf(&in, "* 12 FETCH (UID 7 BODY[HEADER] {3}\r\nabc BODY[] {%zu}\r\n", body_len);
    size_t body_at = in.len;
    uint32_t x = 12345;
    for (size_t i = 0; i < body_len; i++) {
        x = x * 1103515245 + 12345;
        buf_append_char(&in, (char)(i < 256 ? i : x >> 16));
    }
    buf_append_str(&in, " FLAGS (\\Seen))\r\na1 OK done\r\n");
    for (int pass = 0; pass < 3; pass++) {
        struct body_sink sink;
        memset(&sink, 0, sizeof(sink));
        buf_init(&sink.body, pass == 2 ? 1000 : BUF_UNBOUNDED);
        struct imap_literal_handler h = {sink_begin, sink_data, sink_end, &sink};
        struct imap_parser *p = imap_parser_new(NULL);
        imap_parser_set_literal_handler(p, &h);
        size_t off = 0, nresp = 0;
        struct err e = ERR_INIT;
        enum imap_parse_result res = IMAP_PARSE_MORE;
        while (off < in.len) {
            size_t chunk = pass == 0 ? in.len : 1 + (x = x * 1103515245 + 12345) % 5000;
            if (chunk > in.len - off)
                chunk = in.len - off;
            size_t used;
            const struct imap_resp *r;
            res = imap_parser_feed(p, in.data + off, chunk, &used, &r, &e);
            off += used;
            if (res == IMAP_PARSE_ERROR)
                break;
            if (res == IMAP_PARSE_RESPONSE && nresp++ == 0) {
                const struct imap_arg *l = &r->args[2];
                test_assert(l->len == 8);
                test_assert(l->list[3].type == IMAP_ARG_LITERAL && l->list[3].len == 3);
                test_assert(l->list[5].type == IMAP_ARG_LITERAL_STREAM);
                test_assert(l->list[5].len == body_len && l->list[5].str == NULL);
                test_assert(imap_arg_str(&l->list[5]) == NULL);
            }
        }
        if (pass < 2) {
            test_assert(res == IMAP_PARSE_RESPONSE && nresp == 2);
            test_assert(sink.body.len == body_len);
            test_assert(memcmp(sink.body.data, in.data + body_at, body_len) == 0);
            test_assert(sink.ends == 1);
            test_assert(sink.info.size == body_len && sink.info.depth == 1);
            test_assert_streq(sink.number, "12");
            test_assert_streq(sink.name, "FETCH");
            test_assert_streq(sink.prev, "BODY[]");
            if (pass == 0)
                test_assert(sink.calls == 1);
        } else {
            /* The handler's own error comes back, and the parser stays dead. */
            test_assert(res == IMAP_PARSE_ERROR && sink.ends == 0);
            test_assert(e.kind == ERRK_NOSPACE);
            test_assert(strstr(e.msg, "The test sink is full") != NULL);
            err_clear(&e);
            size_t used;
            const struct imap_resp *r;
            test_assert(imap_parser_feed(p, "* 1 EXISTS\r\n", 12, &used, &r, &e) ==
                        IMAP_PARSE_ERROR);
            test_assert(strstr(e.msg, "The test sink is full") != NULL);
        }
        err_clear(&e);
        buf_release(&sink.body);
        imap_parser_free(&p);
    }
    buf_release(&in);
    test_end();

    test_begin("streamed empty literal: begin and end without data");
    struct stream_log sl;
    stream_log_init(&sl, 0);
    struct buf dump;
    buf_init(&dump, BUF_UNBOUNDED);
    test_assert(run(NULL, &sl, S("* 1 FETCH (BODY[] {0}\r\n)\r\n"), NULL, 0, &dump) == NULL);
    test_assert_streq(dump.data, "* 1 FETCH (BODY[] {0}<stream>)\n");
    test_assert_streq(sl.log.data, "[stream 0 num=1 name=FETCH prev=BODY[] depth=1: ]");
    test_assert(sl.begins == 1 && sl.ends == 1);
    buf_release(&dump);
    stream_log_release(&sl);
    test_end();
}

static void test_dovecot(void)
{
    test_begin("Dovecot 2.3 transcript: every line round-trips, every split agrees");
    const char *in = dovecot_transcript;
    size_t len = sizeof(dovecot_transcript) - 1;
    struct buf dump, streamed;
    buf_init(&dump, BUF_UNBOUNDED);
    buf_init(&streamed, BUF_UNBOUNDED);
    struct stream_log sl;
    stream_log_init(&sl, 1);
    test_assert(run(NULL, NULL, in, len, NULL, 0, &dump) == NULL);
    test_assert(run(NULL, &sl, in, len, NULL, 0, &streamed) == NULL);
    /* Responses without literals format back to exactly the line the server sent. */
    size_t lines = 0, same = 0;
    const char *d = dump.data;
    for (const char *l = in; *l;) {
        const char *eol = strstr(l, "\r\n");
        const char *dnl = strchr(d, '\n');
        if (!eol || !dnl)
            break;
        lines++;
        bool literal = eol > l && eol[-1] == '}';
        if (!literal) {
            if ((size_t)(dnl - d) == (size_t)(eol - l) && memcmp(d, l, (size_t)(eol - l)) == 0)
                same++;
            else
                test_fail_at(__FILE__, __LINE__, "\"%.*s\" came back as \"%.*s\"", (int)(eol - l),
                             l, (int)(dnl - d), d);
            l = eol + 2;
        } else {
            /* Skip the response: literal lines until the line ending the response. */
            while (eol && eol[-1] == '}') {
                const char *brace = eol;
                while (*brace != '{')
                    brace--;
                unsigned long n = strtoul(brace + 1, NULL, 10);
                l = eol + 2 + n;
                eol = strstr(l, "\r\n");
            }
            l = eol + 2;
        }
        d = dnl + 1;
    }
    test_assert_inteq(lines, 97);
    test_assert_inteq(same, 93);
    test_assert(strstr(dump.data, "* 1 FETCH (UID 1 BODY[] {159}\"From: a@example.org\\x0d\\x0a") !=
                NULL);
    test_assert(strstr(streamed.data, "* 1 FETCH (UID 1 BINARY[] {110}<stream> BODY[TEXT]<0> "
                                      "{5}<stream>)\n") != NULL);
    test_assert(strstr(sl.log.data, "[stream 5 num=1 name=FETCH prev=BODY[TEXT]<0> depth=1: "
                                    "Body ]") != NULL);
    check_all_splits(NULL, in, len, dump.data, NULL, NULL);
    check_splits(NULL, in, len, streamed.data, NULL, 1, sl.log.data);
    buf_release(&dump);
    buf_release(&streamed);
    stream_log_release(&sl);
    test_end();
}

int main(void)
{
    test_table();
    test_error_message();
    test_used();
    test_resp_fields();
    test_limits();
    test_streaming();
    test_dovecot();
    return test_done();
}
