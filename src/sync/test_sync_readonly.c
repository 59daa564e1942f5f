/*
 * The read-only folder warnings: offlineimap3's texts, UID lists shown as
 * Python lists, flag warnings in batches of 100, a deletion's \Deleted flag
 * warnings before its own.
 */
#include "sync/sync_readonly.h"

#include "base/log.h"
#include "base/strutil.h"
#include "testlib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct strvec seen = STRVEC_INIT;

static void collect(void *ctx, const struct log_event *ev)
{
    (void)ctx;
    if (ev->type == EV_LOG && ev->level == LOG_WARN)
        strvec_push(&seen, ev->text);
}

#define FLAGS_FMT                                                                                  \
    "Attempted to modify flags for messages %s in folder IMAP[%s], "                               \
    "but that folder is read-only.  No flags have been modified for "                              \
    "that message."

static void test_upload(void)
{
    test_begin("upload");
    strvec_free(&seen);
    sync_readonly_upload("IMAP", "Lists.ro", -3);
    sync_readonly_upload("Gmail", "INBOX", 42);
    test_assert(seen.n == 2);
    test_assert_streq(seen.v[0], "Attempted to synchronize message -3 to folder IMAP[Lists.ro], "
                                 "but that folder is read-only.  The message will not be copied "
                                 "to that folder.");
    test_assert_streq(seen.v[1], "Attempted to synchronize message 42 to folder Gmail[INBOX], "
                                 "but that folder is read-only.  The message will not be copied "
                                 "to that folder.");
    test_end();
}

static void test_flag_batches(void)
{
    static const struct {
        size_t n;
        size_t warnings;
        const char *first, *last;
    } cases[] = {
        {0, 0, NULL, NULL},   {1, 1, "[1]", "[1]"},    {3, 1, "[1, 2, 3]", "[1, 2, 3]"},
        {100, 1, NULL, NULL}, {101, 2, NULL, "[101]"}, {250, 3, NULL, NULL},
    };
    test_begin("flag batches");
    uint32_t uids[250];
    for (size_t i = 0; i < 250; i++)
        uids[i] = (uint32_t)i + 1;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        strvec_free(&seen);
        sync_readonly_flags("IMAP", "RO", uids, cases[c].n);
        test_assert(seen.n == cases[c].warnings);
        char want[256];
        if (cases[c].first) {
            snprintf(want, sizeof(want), FLAGS_FMT, cases[c].first, "RO");
            test_assert_streq(seen.v[0], want);
        }
        if (cases[c].last) {
            snprintf(want, sizeof(want), FLAGS_FMT, cases[c].last, "RO");
            test_assert_streq(seen.v[seen.n - 1], want);
        }
        /* Every UID once, in order, batch by batch. */
        size_t next = 1;
        for (size_t w = 0; w < seen.n; w++) {
            const char *p = strchr(seen.v[w], '[');
            size_t in_batch = 0;
            while (*p != ']') {
                unsigned long u = strtoul(p + 1, (char **)&p, 10);
                test_assert(u == next);
                next++;
                in_batch++;
                test_assert(*p == ',' || *p == ']');
                if (*p == ',')
                    p++; /* the space follows */
            }
            test_assert(in_batch <= SYNC_READONLY_FLAG_BATCH);
        }
        test_assert(next == cases[c].n + 1);
    }
    test_end();
}

static void test_delete(void)
{
    test_begin("delete");
    strvec_free(&seen);
    uint32_t uids[] = {4, 9};
    sync_readonly_delete("IMAP", "RO", uids, 2);
    test_assert(seen.n == 2);
    char want[256];
    snprintf(want, sizeof(want), FLAGS_FMT, "[4, 9]", "RO");
    test_assert_streq(seen.v[0], want);
    test_assert_streq(seen.v[1], "Attempted to delete messages [4, 9] in folder IMAP[RO], but "
                                 "that folder is read-only.  No messages have been deleted in "
                                 "that folder.");
    strvec_free(&seen);
    sync_readonly_delete("IMAP", "RO", uids, 0);
    test_assert(seen.n == 0);
    test_end();
}

int main(void)
{
    log_set_sink(collect, NULL);
    test_upload();
    test_flag_batches();
    test_delete();
    log_set_sink(NULL, NULL);
    strvec_free(&seen);
    return test_done();
}
