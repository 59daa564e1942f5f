/*
 * Fuzz target for the Maildir file-name parser.  The first byte picks the
 * info separator (':' or '!'); the rest is the name.  Beyond not crashing it
 * checks the parser's promises: the unique part never carries offlineimap's
 * items, and a name composed from it parses back to the same unique part,
 * UID, folder and flags.
 */
#include "store/maildir_name.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fmd5[] = "7e33429f656f1e6e9d79b29c3f82c57e";

static bool contains(const char *s, const char *needle)
{
    return strstr(s, needle) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char infosep = data[0] & 1 ? '!' : ':';
    const char *name = (const char *)data + 1;
    size_t len = size - 1;

    struct maildir_name p;
    if (!maildir_name_parse(name, len, infosep, fmd5, &p)) {
        if (len > 0 && len <= MAILDIR_NAME_MAX && !memchr(name, '\0', len) &&
            !memchr(name, '/', len))
            abort();
        return 0;
    }
    if (p.base_len > len || (p.has_info != (p.base_len < len)))
        abort();
    if (p.has_fmd5 && strlen(p.fmd5) != MAILDIR_FMD5_LEN)
        abort();
    if (p.has_time && p.time < 0)
        abort();

    char uniq[MAILDIR_NAME_MAX + 1];
    size_t ulen = maildir_name_unique(name, &p, uniq);
    if (ulen > p.base_len || strlen(uniq) != ulen || contains(uniq, ",U=") ||
        contains(uniq, ",FMD5="))
        abort();

    struct buf b;
    buf_init(&b, MAILDIR_NAME_MAX);
    uint32_t uid = p.has_uid && p.uid ? p.uid : 42;
    if (maildir_name_compose(&b, uniq, ulen, uid, fmd5, infosep, p.flags)) {
        struct maildir_name q;
        if (!maildir_name_parse(b.data, b.len, infosep, fmd5, &q))
            abort();
        char uniq2[MAILDIR_NAME_MAX + 1];
        size_t ulen2 = maildir_name_unique(b.data, &q, uniq2);
        if (ulen2 != ulen || memcmp(uniq, uniq2, ulen) != 0)
            abort();
        if (maildir_name_folder_uid(&q) != uid || !q.has_info)
            abort();
        flagset_t letters = p.flags & ((((flagset_t)1) << 52) - 1);
        if (q.flags != letters)
            abort();
    }
    buf_release(&b);

    /* The name as a host name: the unique part it gives must parse cleanly. */
    char host[MAILDIR_NAME_MAX + 1];
    memcpy(host, name, len);
    host[len] = '\0';
    char out[MAILDIR_NAME_MAX + 1];
    size_t n = maildir_name_format_unique(out, sizeof(out), 1700000000, 3, 12345, host);
    if (n) {
        if (strpbrk(out, "/:!,"))
            abort();
        struct maildir_name r;
        if (!maildir_name_parse(out, n, infosep, NULL, &r) || r.has_info || r.has_uid ||
            !r.has_time || r.time != 1700000000)
            abort();
    }
    return 0;
}
