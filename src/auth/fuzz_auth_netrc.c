/*
 * libFuzzer target for auth_netrc.  The input is parsed whole and again fed
 * byte by byte; both must agree (same outcome, same entries), and a lookup
 * on the result must not crash.
 */
#include "auth/auth_netrc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    struct netrc whole = {0}, bytes = {0};
    struct err e1 = ERR_INIT, e2 = ERR_INIT;
    bool ok1 = netrc_parse((const char *)data, size, "fuzz", &whole, &e1);
    struct netrc_parser p;
    netrc_parser_init(&p, &bytes, "fuzz");
    bool ok2 = true;
    for (size_t i = 0; i < size && ok2; i++)
        ok2 = netrc_parser_feed(&p, (const char *)data + i, 1, &e2);
    ok2 = ok2 && netrc_parser_finish(&p, &e2);
    netrc_parser_release(&p);
    if (ok1 != ok2 || (!ok1 && !same(e1.msg, e2.msg))) {
        fprintf(stderr, "whole and byte-by-byte parses differ: %s / %s\n", e1.msg, e2.msg);
        abort();
    }
    if (ok1) {
        if (whole.n != bytes.n)
            abort();
        for (size_t i = 0; i < whole.n; i++) {
            const struct netrc_entry *a = &whole.v[i], *b = &bytes.v[i];
            if (!same(a->machine, b->machine) || !same(a->login, b->login) ||
                !same(a->account, b->account) || !same(a->password, b->password))
                abort();
        }
        const struct netrc_entry *en = netrc_find(&whole, "imap.example.org", NULL);
        if (en && !en->password)
            abort();
        netrc_find(&whole, "imap.example.org", "me");
    }
    err_clear(&e1);
    err_clear(&e2);
    netrc_release(&whole);
    netrc_release(&bytes);
    return 0;
}
