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
    return test_done();
}
