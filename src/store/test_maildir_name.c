/*
 * Unit tests for maildir_name: real offlineimap names, other writers' names,
 * hostile names, build/parse round trips, and a differential test against
 * POSIX regular expressions written as offlineimap's Python ones.
 */
#include "store/maildir_name.h"

#include "base/xalloc.h"
#include "testlib/test.h"

#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INBOX_MD5 "7e33429f656f1e6e9d79b29c3f82c57e"
#define ARCHIVE_MD5 "de0779cc667bdfe1c0425afa667ac264"

struct parse_case {
    const char *name;
    char infosep;
    const char *folder; /* fmd5 of the folder it is read in */
    bool ok;
    uint32_t folder_uid; /* maildir_name_folder_uid */
    bool has_uid;
    uint32_t uid;
    const char *fmd5; /* "" if none */
    bool has_info;
    const char *flags;
    bool has_time;
    int64_t time;
    const char *unique;
};

static const struct parse_case parse_cases[] = {
    /* Names offlineimap3 wrote (REFERENCE.md 4.1). */
    {"1795503430_2.12700.vm,U=2,FMD5=" INBOX_MD5 ":2,S", ':', INBOX_MD5, true, 2, true, 2,
     INBOX_MD5, true, "S", true, 1795503430, "1795503430_2.12700.vm"},
    {"1795503440_0.12823.vm,U=6,FMD5=" INBOX_MD5 ":2,", ':', INBOX_MD5, true, 6, true, 6, INBOX_MD5,
     true, "", true, 1795503440, "1795503440_0.12823.vm"},
    {"1795503430_2.12700.vm,U=2,FMD5=" INBOX_MD5 "!2,FS", '!', INBOX_MD5, true, 2, true, 2,
     INBOX_MD5, true, "FS", true, 1795503430, "1795503430_2.12700.vm"},
    /* The same name read in another folder: a foreign message, uid 0. */
    {"1795503430_2.12700.vm,U=2,FMD5=" INBOX_MD5 ":2,S", ':', ARCHIVE_MD5, true, 0, true, 2,
     INBOX_MD5, true, "S", true, 1795503430, "1795503430_2.12700.vm"},
    /* Windows separator expected, Unix one present: no info part. */
    {"1795503430_2.12700.vm,U=2,FMD5=" INBOX_MD5 ":2,S", '!', INBOX_MD5, true, 2, true, 2,
     INBOX_MD5, false, "", true, 1795503430, "1795503430_2.12700.vm,S"},
    /* A plain delivery in new/ (no info) and the name it had before upload. */
    {"1700000000.M1P1.myhost", ':', INBOX_MD5, true, 0, false, 0, "", false, "", true, 1700000000,
     "1700000000.M1P1.myhost"},
    /* Dovecot: S= and W= items stay in the unique part; lower-case keywords count. */
    {"1700000000.M20P3.host,S=1234,W=1300:2,RSa", ':', INBOX_MD5, true, 0, false, 0, "", true,
     "RSa", true, 1700000000, "1700000000.M20P3.host,S=1234,W=1300"},
    /* An uploaded file we renamed keeps Dovecot's items. */
    {"1700000000.M20P3.host,S=1234,U=77,FMD5=" INBOX_MD5 ",W=1300:2,T", ':', INBOX_MD5, true, 77,
     true, 77, INBOX_MD5, true, "T", true, 1700000000, "1700000000.M20P3.host,S=1234,W=1300"},
    /* FMD5 of this folder but no U=: uid 0. */
    {"1.2.h,FMD5=" INBOX_MD5 ":2,S", ':', INBOX_MD5, true, 0, false, 0, INBOX_MD5, true, "S", true,
     1, "1.2.h"},
    /* U= without digits is skipped; the first U= with digits counts. */
    {"1.2.h,U=x,U=5,U=6,FMD5=" INBOX_MD5, ':', INBOX_MD5, true, 5, true, 5, INBOX_MD5, false, "",
     true, 1, "1.2.h"},
    /* Leading zeros; U=0 is no UID for the sync. */
    {"t,U=007,FMD5=" INBOX_MD5, ':', INBOX_MD5, true, 7, true, 7, INBOX_MD5, false, "", true, 7,
     "t"},
    {"t,U=0,FMD5=" INBOX_MD5, ':', INBOX_MD5, true, 0, true, 0, INBOX_MD5, false, "", true, 0, "t"},
    /* The largest UID, and one too many: an unusable UID is no UID. */
    {"t,U=4294967295,FMD5=" INBOX_MD5, ':', INBOX_MD5, true, 4294967295u, true, 4294967295u,
     INBOX_MD5, false, "", true, 4294967295, "t"},
    {"t,U=4294967296,FMD5=" INBOX_MD5, ':', INBOX_MD5, true, 0, false, 0, INBOX_MD5, false, "",
     true, 4294967296, "t"},
    {"t,U=99999999999999999999999999,FMD5=" INBOX_MD5, ':', INBOX_MD5, true, 0, false, 0, INBOX_MD5,
     false, "", true, INT64_MAX, "t"},
    /* FMD5 is a substring test: anywhere, even with more hex after it. */
    {"a,U=3,FMD5=" ARCHIVE_MD5 ",FMD5=" INBOX_MD5 "ff:2,S", ':', INBOX_MD5, true, 3, true, 3,
     ARCHIVE_MD5, true, "S", true, 3, "a"},
    /* An FMD5 value too short or upper case is no FMD5. */
    {"a,U=3,FMD5=7E33429F656F1E6E9D79B29C3F82C57E,FMD5=abc", ':', INBOX_MD5, true, 0, true, 3, "",
     false, "", true, 3, "a"},
    /* The first info part counts; flags stop at the first non-word byte. */
    {"x:2,FS:2,T", ':', NULL, true, 0, false, 0, "", true, "FS", true, 2, "x"},
    {"x:2,S-F", ':', NULL, true, 0, false, 0, "", true, "S", true, 2, "x"},
    {"x:2,S_1F", ':', NULL, true, 0, false, 0, "", true, "FS", true, 2, "x"},
    /* Experimental info "1,": no flags; the name is all unique part. */
    {"x:1,S", ':', NULL, true, 0, false, 0, "", false, "", true, 1, "x:1,S"},
    /* The time stamp is the first digit run anywhere, as _iswithintime reads it. */
    {"abc123def456", ':', NULL, true, 0, false, 0, "", false, "", true, 123, "abc123def456"},
    {"nodigits", ':', NULL, true, 0, false, 0, "", false, "", false, 0, "nodigits"},
    /* No unique part at all. */
    {",U=5,FMD5=" INBOX_MD5 ":2,S", ':', INBOX_MD5, true, 5, true, 5, INBOX_MD5, true, "S", true, 5,
     ""},
    {":2,S", ':', NULL, true, 0, false, 0, "", true, "S", true, 2, ""},
    /* 8-bit bytes are kept, never interpreted. */
    {"\xff\xfe,U=1,FMD5=" INBOX_MD5 ":2,S\xe9", ':', INBOX_MD5, true, 1, true, 1, INBOX_MD5, true,
     "S", true, 1, "\xff\xfe"},
    /* Names no directory holds. */
    {"", ':', NULL, false, 0, false, 0, "", false, "", false, 0, ""},
    {"a/b:2,S", ':', NULL, false, 0, false, 0, "", false, "", false, 0, ""},
};

static void test_parse_table(void)
{
    test_begin("maildir_name_parse: table of real and odd names");
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct parse_case *c = &parse_cases[i];
        struct maildir_name p;
        bool ok = maildir_name_parse(c->name, strlen(c->name), c->infosep, c->folder, &p);
        if (ok != c->ok) {
            test_fail_at(__FILE__, __LINE__, "case %zu (%s): parse returned %d", i, c->name, ok);
            continue;
        }
        if (!ok)
            continue;
        char flags[53];
        flags_to_letters(p.flags, flags);
        char uniq[MAILDIR_NAME_MAX + 1];
        maildir_name_unique(c->name, &p, uniq);
        bool good = maildir_name_folder_uid(&p) == c->folder_uid && p.has_uid == c->has_uid &&
                    p.uid == c->uid && !strcmp(p.fmd5, c->fmd5) && p.has_info == c->has_info &&
                    !strcmp(flags, c->flags) && p.has_time == c->has_time && p.time == c->time &&
                    !strcmp(uniq, c->unique) && p.len == strlen(c->name);
        if (!good)
            test_fail_at(
                __FILE__, __LINE__,
                "case %zu (%s): uid %u/%d/%u fmd5 \"%s\" info %d flags \"%s\" time %d/%lld "
                "unique \"%s\"",
                i, c->name, (unsigned)maildir_name_folder_uid(&p), p.has_uid, (unsigned)p.uid,
                p.fmd5, p.has_info, flags, p.has_time, (long long)p.time, uniq);
    }
    test_end();
}

static void test_parse_limits(void)
{
    test_begin("maildir_name_parse: NUL, length limit, every prefix");
    struct maildir_name p;
    test_assert(!maildir_name_parse("a\0b", 3, ':', NULL, &p));
    char longname[MAILDIR_NAME_MAX + 2];
    memset(longname, 'x', sizeof(longname));
    test_assert(maildir_name_parse(longname, MAILDIR_NAME_MAX, ':', NULL, &p));
    test_assert(!maildir_name_parse(longname, MAILDIR_NAME_MAX + 1, ':', NULL, &p));

    /* Every prefix of a real name: the items appear exactly when complete. */
    const char *full = "1795503430_2.12700.vm,U=27,FMD5=" INBOX_MD5 ":2,RS";
    size_t flen = strlen(full);
    size_t u_at = strstr(full, ",U=") - full, f_at = strstr(full, ",FMD5=") - full;
    size_t i_at = strstr(full, ":2,") - full;
    for (size_t len = 1; len <= flen; len++) {
        /* The parser must not read past len: give it a copy with no terminator. */
        char *copy = xmalloc(len);
        memcpy(copy, full, len);
        test_assert(maildir_name_parse(copy, len, ':', INBOX_MD5, &p));
        test_assert(p.has_uid == (len > u_at + 3));
        if (p.has_uid)
            test_assert_inteq(p.uid, len == u_at + 4 ? 2 : 27);
        test_assert(p.in_folder == (len >= f_at + 6 + MAILDIR_FMD5_LEN));
        test_assert(p.has_info == (len >= i_at + 3));
        test_assert_inteq(p.base_len, p.has_info ? i_at : len);
        char digits[11] = {0};
        memcpy(digits, full, len < 10 ? len : 10);
        test_assert(p.has_time);
        test_assert_inteq(p.time, strtoll(digits, NULL, 10));
        free(copy);
    }
    test_end();
}

static void test_build(void)
{
    test_begin("maildir_name: offlineimap's format, host clean-up, compose");
    char out[MAILDIR_NAME_MAX + 1];
    size_t n = maildir_name_format_unique(out, sizeof(out), 1795503430, 2, 12700, "vm");
    test_assert_streq(out, "1795503430_2.12700.vm");
    test_assert_inteq(n, strlen(out));
    struct buf b;
    buf_init(&b, MAILDIR_NAME_MAX);
    test_assert(maildir_name_compose(&b, out, n, 2, INBOX_MD5, ':', flag_bit('S')));
    test_assert_streq(b.data, "1795503430_2.12700.vm,U=2,FMD5=" INBOX_MD5 ":2,S");
    buf_reset(&b);
    /* Flags come out sorted, upper case before lower case (ASCII order). */
    test_assert(
        maildir_name_compose(&b, "u", 1, 6, INBOX_MD5, '!', flags_from_letters("bTaSFDR", 7)));
    test_assert_streq(b.data, "u,U=6,FMD5=" INBOX_MD5 "!2,DFRSTab");
    buf_reset(&b);
    /* uid 0: a name without items, still with the info part. */
    test_assert(maildir_name_compose(&b, "u", 1, 0, INBOX_MD5, ':', 0));
    test_assert_streq(b.data, "u:2,");
    buf_reset(&b);
    test_assert(!maildir_name_compose(&b, "", 0, 1, INBOX_MD5, ':', 0));
    char big[MAILDIR_NAME_MAX];
    memset(big, 'x', sizeof(big));
    test_assert(!maildir_name_compose(&b, big, MAILDIR_NAME_MAX - 3, 1, INBOX_MD5, ':', 0));
    test_assert(maildir_name_compose(&b, big, MAILDIR_NAME_MAX - 3, 0, INBOX_MD5, ':', 0));
    test_assert_inteq(b.len, MAILDIR_NAME_MAX);

    /* '/' becomes '-' as in offlineimap; ':' '!' ',' and control bytes too. */
    maildir_name_format_unique(out, sizeof(out), 1, 0, 5, "a/b:c!d,e\tf\x7fg.h\xc3\xa9");
    test_assert_streq(out, "1_0.5.a-b-c-d-e-f-g.h\xc3\xa9");
    test_assert_inteq(maildir_name_format_unique(out, 12, 1700000000, 0, 5, "host"), 0);
    test_assert_inteq(maildir_name_format_unique(out, 19, 1700000000, 0, 5, "host"), 0);
    test_assert_inteq(maildir_name_format_unique(out, 20, 1700000000, 0, 5, "host"), 19);
    /* A unique part ending in ":2" cannot take items; without them it can. */
    buf_reset(&b);
    test_assert(!maildir_name_compose(&b, "x:2", 3, 5, INBOX_MD5, ':', 0));
    test_assert(maildir_name_compose(&b, "x:2", 3, 5, INBOX_MD5, '!', 0));
    buf_reset(&b);
    test_assert(maildir_name_compose(&b, "x:2", 3, 0, INBOX_MD5, ':', flag_bit('S')));
    test_assert_streq(b.data, "x:2:2,S");
    buf_release(&b);

    /* FMD5 values from REFERENCE.md 4.1. */
    char md[MAILDIR_FMD5_LEN + 1];
    maildir_name_fmd5("INBOX", md);
    test_assert_streq(md, INBOX_MD5);
    maildir_name_fmd5("Archive.2020", md);
    test_assert_streq(md, ARCHIVE_MD5);
    maildir_name_fmd5("Archive/2020", md);
    test_assert_streq(md, "74bc0e472648087ed7943e4307ec62e1");
    test_end();
}

static void test_new_unique(void)
{
    test_begin("maildir_name: new unique parts and the per-second sequence");
    test_assert_inteq(maildir_name_timeseq(1000), 0);
    test_assert_inteq(maildir_name_timeseq(1000), 1);
    test_assert_inteq(maildir_name_timeseq(1001), 0);
    test_assert_inteq(maildir_name_timeseq(1000), 2);
    test_assert_inteq(maildir_name_timeseq(-5), 0);
    /* Many distinct seconds (header time stamps): the table grows. */
    for (int64_t t = 5000; t < 9000; t++)
        test_assert_inteq(maildir_name_timeseq(t), 0);
    for (int64_t t = 5000; t < 9000; t += 997)
        test_assert_inteq(maildir_name_timeseq(t), 1);
    test_assert_inteq(maildir_name_timeseq(1000), 3);

    char a[MAILDIR_NAME_MAX + 1], b[MAILDIR_NAME_MAX + 1];
    size_t na = maildir_name_new_unique(a, 1234567890);
    size_t nb = maildir_name_new_unique(b, 1234567890);
    test_assert(na > 0 && nb > 0 && strcmp(a, b) != 0);
    char expect[MAILDIR_NAME_MAX + 1];
    maildir_name_format_unique(expect, sizeof(expect), 1234567890, 1, (long)getpid(),
                               maildir_name_hostname());
    test_assert_streq(b, expect);
    struct maildir_name p;
    test_assert(maildir_name_parse(a, na, ':', NULL, &p));
    test_assert(!p.has_info && !p.has_uid && p.time == 1234567890);
    test_end();
}

#define SEQ_THREADS 8
#define SEQ_PER_THREAD 2000

static void *seq_worker(void *arg)
{
    uint64_t *out = arg;
    for (int i = 0; i < SEQ_PER_THREAD; i++)
        out[i] = maildir_name_timeseq(424242);
    return NULL;
}

static void test_timeseq_threads(void)
{
    test_begin("maildir_name_timeseq: thread-safe, no number given twice");
    static uint64_t got[SEQ_THREADS][SEQ_PER_THREAD];
    pthread_t th[SEQ_THREADS];
    for (int i = 0; i < SEQ_THREADS; i++)
        pthread_create(&th[i], NULL, seq_worker, got[i]);
    for (int i = 0; i < SEQ_THREADS; i++)
        pthread_join(th[i], NULL);
    static bool seen[SEQ_THREADS * SEQ_PER_THREAD];
    bool ok = true;
    for (int i = 0; i < SEQ_THREADS; i++)
        for (int j = 0; j < SEQ_PER_THREAD; j++) {
            uint64_t v = got[i][j];
            if (v >= SEQ_THREADS * SEQ_PER_THREAD || seen[v])
                ok = false;
            else
                seen[v] = true;
        }
    test_assert(ok);
    test_end();
}

/* offlineimap's regular expressions, as POSIX EREs, on ASCII names. */
struct oracle {
    regex_t uid, flags, time;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static void random_name(char *out, size_t max)
{
    static const char *tokens[] = {",U=", ",FMD5=", INBOX_MD5,    ARCHIVE_MD5, ":2,",  "!2,",
                                   ",",   ":",      "2",          "0",         "17",   "4294967296",
                                   "S",   "F",      "ab",         "_",         ".",    "x",
                                   "-",   "RST",    "1700000000", "U=",        "FMD5="};
    size_t len = 0, ntok = 1 + rnd(10);
    out[0] = '\0';
    for (size_t i = 0; i < ntok; i++) {
        const char *t = tokens[rnd(sizeof(tokens) / sizeof(tokens[0]))];
        size_t tl = strlen(t);
        if (len + tl >= max)
            break;
        memcpy(out + len, t, tl + 1);
        len += tl;
    }
    if (!len)
        memcpy(out, "x", 2);
}

static void check_against_oracle(const struct oracle *o, const char *name, char infosep)
{
    struct maildir_name p;
    if (!maildir_name_parse(name, strlen(name), infosep, INBOX_MD5, &p)) {
        test_fail_at(__FILE__, __LINE__, "%s: not parsed", name);
        return;
    }
    regmatch_t m[2];
    bool has_uid = false;
    uint32_t uid = 0;
    if (regexec(&o->uid, name, 2, m, 0) == 0) {
        unsigned long long v = strtoull(name + m[1].rm_so, NULL, 10);
        has_uid = v <= UINT32_MAX; /* strtoull saturates */
        uid = has_uid ? (uint32_t)v : 0;
    }
    flagset_t flags = 0;
    const regex_t *fre = &o->flags;
    regex_t win;
    if (infosep == '!') {
        regcomp(&win, "!2,([A-Za-z0-9_]*)", REG_EXTENDED);
        fre = &win;
    }
    if (regexec(fre, name, 2, m, 0) == 0)
        flags = flags_from_letters(name + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
    if (infosep == '!')
        regfree(&win);
    bool has_time = regexec(&o->time, name, 2, m, 0) == 0;
    bool in_folder = strstr(name, ",FMD5=" INBOX_MD5) != NULL;
    if (p.has_uid != has_uid || p.uid != uid || p.flags != flags || p.has_time != has_time ||
        p.in_folder != in_folder)
        test_fail_at(__FILE__, __LINE__, "%s: parser and oracle differ", name);

    /* Round trip through a rename that keeps the unique part. */
    char uniq[MAILDIR_NAME_MAX + 1];
    size_t ulen = maildir_name_unique(name, &p, uniq);
    struct buf b;
    buf_init(&b, MAILDIR_NAME_MAX);
    if (maildir_name_compose(&b, uniq, ulen, 99, INBOX_MD5, infosep, p.flags)) {
        struct maildir_name q;
        char uniq2[MAILDIR_NAME_MAX + 1];
        if (!maildir_name_parse(b.data, b.len, infosep, INBOX_MD5, &q) ||
            maildir_name_folder_uid(&q) != 99 || q.flags != p.flags ||
            maildir_name_unique(b.data, &q, uniq2) != ulen || strcmp(uniq, uniq2) != 0)
            test_fail_at(__FILE__, __LINE__, "%s -> %s: round trip differs", name, b.data);
    } else if (ulen != 0 && !(ulen >= 2 && uniq[ulen - 2] == infosep && uniq[ulen - 1] == '2')) {
        test_fail_at(__FILE__, __LINE__, "%s: compose failed", name);
    }
    buf_release(&b);
}

static void test_oracle(void)
{
    test_begin("maildir_name_parse: agrees with offlineimap's regexes on 20000 names");
    struct oracle o;
    test_assert(regcomp(&o.uid, ",U=([0-9]+)", REG_EXTENDED) == 0);
    test_assert(regcomp(&o.flags, ":2,([A-Za-z0-9_]*)", REG_EXTENDED) == 0);
    test_assert(regcomp(&o.time, "([0-9]+)", REG_EXTENDED) == 0);
    char name[200];
    for (int i = 0; i < 20000; i++) {
        random_name(name, sizeof(name));
        check_against_oracle(&o, name, i % 4 == 0 ? '!' : ':');
    }
    regfree(&o.uid);
    regfree(&o.flags);
    regfree(&o.time);
    test_end();
}

int main(void)
{
    test_parse_table();
    test_parse_limits();
    test_build();
    test_new_unique();
    test_timeseq_threads();
    test_oracle();
    return test_done();
}
