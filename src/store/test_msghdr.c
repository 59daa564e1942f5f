#include "store/msgdate.h"
#include "store/msghdr.h"

#include "testlib/test.h"

#include <string.h>

int main(void)
{
    struct buf b;
    buf_init(&b, 1000);

    test_begin("msghdr: header length with CRLF and LF");
    const char *m1 = "Subject: x\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n";
    test_assert_inteq(msghdr_length(m1, strlen(m1)), strlen(m1) - 6);
    const char *m2 = "A: 1\nB: 2\n\nbody";
    test_assert_inteq(msghdr_length(m2, strlen(m2)), 11);
    test_assert_inteq(msghdr_length("A: 1", 4), 4);
    test_end();

    test_begin("msghdr: fields, case, folding, absent");
    const char *h = "From: a\r\nmessage-id:\r\n  <x.y@z>  \r\nSubject: s\r\n\r\nMessage-ID: <no>\r\n";
    test_assert(msghdr_get(h, strlen(h), "Message-ID", &b));
    test_assert_streq(b.data, "<x.y@z>");
    test_assert(msghdr_message_id(h, strlen(h), &b));
    test_assert_streq(b.data, "<x.y@z>");
    test_assert(msghdr_get(h, strlen(h), "subject", &b));
    test_assert_streq(b.data, "s");
    test_assert(!msghdr_get(h, strlen(h), "Date", &b));
    const char *h2 = "Message-ID: junk <id@host> trailing\n\n";
    test_assert(msghdr_message_id(h2, strlen(h2), &b));
    test_assert_streq(b.data, "<id@host>");
    test_end();

    test_begin("msghdr: limits and truncated input");
    struct buf small;
    buf_init(&small, 4);
    test_assert(!msghdr_get(h, strlen(h), "Message-ID", &small));
    buf_release(&small);
    /* Every prefix is handled without reading past it. */
    for (size_t n = 0; n <= strlen(h); n++) {
        msghdr_message_id(h, n, &b);
        msghdr_length(h, n);
    }
    test_end();
    buf_release(&b);

    test_begin("msgdate: RFC 5322 and sloppy forms");
    static const struct {
        const char *in;
        int64_t want; /* -1: refused */
    } dates[] = {
        {"Tue, 1 Jul 2003 10:52:37 +0200", 1057049557},
        {"1 Jul 2003 10:52:37 +0200", 1057049557},
        {"Tue, 01 Jul 2003 08:52:37 GMT", 1057049557},
        {"Tue, 1 Jul 2003 04:52:37 EDT", 1057049557},
        {"Tue, 1 Jul 03 08:52:37 +0000", 1057049557},
        {"Tue, 1 Jul 2003 08:52 +0000", 1057049520},
        {"Tue,  1 Jul 2003 08:52:37 +0000 (UTC)", 1057049557},
        {"Thu, 1 Jan 1970 00:00:00 -0000", 0},
        {"Sat, 29 Feb 2020 23:59:59 -0130", 1583026199},
        {"Jul 1 2003 08:52:37", 1057049557},
        {"not a date", -1},
        {"Tue, 32 Jul 2003 08:52:37 +0000", -1},
        {"", -1},
    };
    for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
        int64_t t = -1;
        bool ok = msgdate_parse(dates[i].in, strlen(dates[i].in), &t);
        if (dates[i].want < 0)
            test_assert(!ok);
        else
            test_assert(ok && t == dates[i].want);
    }
    int64_t t;
    const char *hd = "Subject: x\nDelivery-date: Tue, 1 Jul 2003 08:52:37 +0000\n\n";
    test_assert(msgdate_from_header(hd, strlen(hd), &t) && t == 1057049557);
    test_end();
    return test_done();
}
