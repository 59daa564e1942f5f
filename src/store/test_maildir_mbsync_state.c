/*
 * Unit tests for reading mbsync's files: the sync state parser (tables and
 * every truncation), state file names, and the mbsyncrc reader.  The
 * take-over itself is tested in test_maildir_mbsync.c.
 */
#include "store/maildir_mbsync.h"

#include "base/buf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "testlib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the state parser ---------------------------------------------------------------- */

struct parse_case {
    const char *name;
    const char *input;
    bool ok;
    uint32_t far_uv, near_uv;
    const char *pairs; /* "far near flags[ph][s|x]" joined by ", " */
    const char *error; /* a piece of the error text */
};

static const struct parse_case parse_cases[] = {
    {"mbsync 1.4 state",
     "FarUidValidity 1795518014\nNearUidValidity 1795518013\nMaxPulledUid "
     "3\nMaxPushedUid 3\n\n1 1 S\n2 2 F\n3 3 \n",
     true, 1795518014, 1795518013, "1 1 S, 2 2 F, 3 3 ", NULL},
    {"entries with all flags, far and near differ",
     "FarUidValidity 7\nNearUidValidity 9\nMaxPulledUid 30\nMaxPushedUid 5\nMaxExpiredFarUid "
     "2\n\n10 1 DFPRST\n30 5 RS\n0 6 \n31 0 S\n",
     true, 7, 9, "10 1 DFPRST, 30 5 RS, 0 6 , 31 0 S", NULL},
    {"no entries", "FarUidValidity 1\nNearUidValidity 2\nMaxPulledUid 0\nMaxPushedUid 0\n\n", true,
     1, 2, "", NULL},
    {"pre-1.4 Master/Slave names",
     "MasterUidValidity 11\nSlaveUidValidity 12\nMaxPulledUid 1\nMaxPushedUid 1\n"
     "MaxExpiredMasterUid 0\nMaxExpiredSlaveUid 0\n\n4 1 S\n",
     true, 11, 12, "4 1 S", NULL},
    {"pre-1.1 header", "100:5 200:0:3\n5 3 FS\n", true, 100, 200, "5 3 FS", NULL},
    {"placeholders, skipped, expired",
     "FarUidValidity 1\nNearUidValidity 2\n\n1 2 <S\n3 4 >\n"
     "5 0 ^\n6 7 ~S\n8 9 X\n10 11 >~F\n",
     true, 1, 2, "1 2 S<, 3 4 >, 5 0 s, 6 7 Sx, 8 9 x, 10 11 F>x", NULL},
    {"pre-1.3 -1 uids are skipped", "FarUidValidity 1\nNearUidValidity 2\n\n-1 4 S\n5 -1 \n", true,
     1, 2, "0 4 Ss, 5 0 s", NULL},
    {"blanks between fields", "FarUidValidity 1\nNearUidValidity 2\n\n1  2   S  \n", true, 1, 2,
     "1 2 S", NULL},
    {"empty file", "", false, 0, 0, NULL, "header does not end"},
    {"header without an end", "FarUidValidity 1\nNearUidValidity 2\n", false, 0, 0, NULL,
     "header does not end"},
    {"last line without newline", "FarUidValidity 1\nNearUidValidity 2\n\n1 2 S", false, 0, 0, NULL,
     "line 4: the last line is incomplete"},
    {"unknown header entry", "FarUidValidity 1\nColour 2\n\n", false, 0, 0, NULL,
     "line 2: unknown header entry"},
    {"header entry without a number", "FarUidValidity x\n\n", false, 0, 0, NULL,
     "line 1: malformed header entry"},
    {"header number too big", "FarUidValidity 4294967296\n\n", false, 0, 0, NULL,
     "line 1: malformed"},
    {"entry with one number", "FarUidValidity 1\n\n12\n", false, 0, 0, NULL,
     "line 3: invalid entry"},
    {"entry with a word", "FarUidValidity 1\n\n1 2 S junk\n", false, 0, 0, NULL,
     "line 3: invalid flags"},
    {"a flag letter mbsync does not have", "FarUidValidity 1\n\n1 2 Sx\n", false, 0, 0, NULL,
     "line 3: invalid flags"},
    {"CR at the end of an entry", "FarUidValidity 1\n\n1 2 S\r\n", false, 0, 0, NULL,
     "line 3: invalid flags"},
    {"NUL in a line", "FarUidValidity 1\n\n1 2 \0S\n", false, 0, 0, NULL, "NUL"},
    {"bad pre-1.1 header", "100:5 200\n", false, 0, 0, NULL, "invalid pre-1.1 header"},
};

static char *describe_pairs(const struct mbsync_state *st)
{
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    for (size_t i = 0; i < st->n; i++) {
        const struct mbsync_pair *p = &st->v[i];
        char letters[64];
        flags_to_letters(p->flags, letters);
        buf_printf(&b, "%s%u %u %s%s%s%s", i ? ", " : "", (unsigned)p->far, (unsigned)p->near,
                   letters,
                   p->placeholder == MBSYNC_PH_FAR    ? "<"
                   : p->placeholder == MBSYNC_PH_NEAR ? ">"
                                                      : "",
                   p->skipped ? "s" : "", p->expired ? "x" : "");
    }
    return buf_detach(&b, NULL);
}

static void test_parse(void)
{
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct parse_case *c = &parse_cases[i];
        test_begin(c->name);
        /* The NUL case has its length from the literal; others from strlen. */
        size_t len = strlen(c->input);
        if (strstr(c->name, "NUL"))
            len = sizeof("FarUidValidity 1\n\n1 2 \0S\n") - 1;
        struct mbsync_state st;
        struct err e = ERR_INIT;
        bool ok = mbsync_state_parse(c->input, len, "STATE", &st, &e);
        test_assert_inteq(ok, c->ok);
        if (ok) {
            test_assert_inteq(st.far_uidvalidity, c->far_uv);
            test_assert_inteq(st.near_uidvalidity, c->near_uv);
            char *d = describe_pairs(&st);
            test_assert_streq(d, c->pairs);
            free(d);
        } else {
            test_assert_inteq(e.scope, ERR_FOLDER);
            test_assert(e.msg && strstr(e.msg, "STATE") && strstr(e.msg, c->error));
            if (!(e.msg && strstr(e.msg, c->error)))
                fprintf(stderr, "  got: %s\n", e.msg ? e.msg : "(none)");
            test_assert(st.v == NULL && st.n == 0);
        }
        mbsync_state_free(&st);
        err_clear(&e);
        test_end();
    }
}

/* Every prefix of a valid state parses only if it ends at a line end after the header. */
static void test_parse_truncated(void)
{
    test_begin("every truncation of a state");
    const char *full = "FarUidValidity 5\nNearUidValidity 6\nMaxPulledUid 9\nMaxPushedUid 4\n\n"
                       "1 1 S\n9 4 >FS\n3 0 ^\n";
    size_t len = strlen(full), body = strstr(full, "\n\n") - full + 2;
    for (size_t n = 0; n <= len; n++) {
        char *copy = xmalloc(n ? n : 1);
        memcpy(copy, full, n);
        struct mbsync_state st;
        struct err e = ERR_INIT;
        bool ok = mbsync_state_parse(copy, n, "T", &st, &e);
        bool expect = n >= body && full[n - 1] == '\n';
        if (ok != expect)
            test_fail_at(__FILE__, __LINE__, "length %zu: parsed %d, expected %d (%s)", n, ok,
                         expect, e.msg ? e.msg : "");
        if (ok) {
            size_t lines = 0;
            for (size_t k = body; k < n; k++)
                lines += full[k] == '\n';
            test_assert_inteq(st.n, lines);
        }
        mbsync_state_free(&st);
        err_clear(&e);
        free(copy);
    }
    test_end();
}

/* ---- state names and the configuration ----------------------------------------------- */

struct name_case {
    const char *fname, *prefix, *box;
    bool match;
};

static const struct name_case name_cases[] = {
    {":remote:INBOX_:local:INBOX", "", "INBOX", true},
    {":remote:Archive!2024_:local:Archive.2024", "", "Archive.2024", true},
    {":remote:Archive!2024_:local:Archive!2024", "", "Archive!2024", true},
    {"mb-:r:INBOX_:l:INBOX", "mb-", "INBOX", true},
    {":remote:INBOX_:local:INBOX", "", "BOX", false},
    {":remote:INBOX_:local:XINBOX", "", "INBOX", false},
    {":remote:INBOX_:local:", "", "", false},
    {"INBOX", "", "INBOX", true},
    {"chan-INBOX", "chan-", "INBOX", true},
    {"chan-INBOX", "", "INBOX", false},
    {":r:INBOX_:l:x:INBOX", "", "INBOX", false},
    {"::INBOX_:l:INBOX", "", "INBOX", false},
    {":r:_:l:INBOX", "", "INBOX", false},
    {":r:IN_:BOX_:l:INBOX", "", "INBOX", true},
    {"x:r:INBOX_:l:INBOX", "", "INBOX", false},
    {":r:INBOX:l:INBOX", "", "INBOX", false},
};

static void test_names(void)
{
    test_begin("state file names");
    for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
        const struct name_case *c = &name_cases[i];
        bool m = mbsync_state_name_matches(c->fname, c->prefix, c->box, ':');
        if (m != c->match)
            test_fail_at(__FILE__, __LINE__, "%s (prefix \"%s\", box %s): got %d", c->fname,
                         c->prefix, c->box, m);
    }
    test_assert(mbsync_state_name_matches(";r;INBOX_;l;INBOX", "", "INBOX", ';'));
    test_assert(!mbsync_state_name_matches(";r;INBOX_;l;INBOX", "", "INBOX", ':'));
    test_end();
}

static void test_rc(void)
{
    test_begin("SyncState and FieldDelimiter in an mbsyncrc");
    const char *rc = "# comment\nSyncState ~/.state/\n\nIMAPStore x\nHost h\n\n"
                     "Channel a\n  syncstate   \"/var/st ate/ch-\"\nChannel b\nSyncState *\n"
                     "Channel c\nSyncState relative/\nSyncState ~other/x\nSyncState ~\n"
                     "FieldDelimiter ;\n";
    struct strvec dirs = STRVEC_INIT, prefixes = STRVEC_INIT;
    char delim = 0;
    mbsync_rc_sync_states(rc, strlen(rc), "/home/u", &dirs, &prefixes, &delim);
    test_assert_inteq(delim, ';');
    test_assert_inteq(dirs.n, 3);
    if (dirs.n == 3) {
        test_assert_streq(dirs.v[0], "/home/u/.state");
        test_assert_streq(prefixes.v[0], "");
        test_assert_streq(dirs.v[1], "/var/st ate");
        test_assert_streq(prefixes.v[1], "ch-");
        test_assert_streq(dirs.v[2], "/home");
        test_assert_streq(prefixes.v[2], "u");
    }
    strvec_free(&dirs);
    strvec_free(&prefixes);
    mbsync_rc_sync_states("", 0, "/h", &dirs, &prefixes, &delim);
    test_assert_inteq(delim, ':');
    test_assert_inteq(dirs.n, 0);
    test_end();
}

int main(void)
{
    test_parse();
    test_parse_truncated();
    test_names();
    test_rc();
    return test_done();
}
