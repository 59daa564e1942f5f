/*
 * maildir_name: parse and build Maildir file names as offlineimap3 does.
 *
 * offlineimap names a message it writes
 *
 *     <timeval>_<timeseq>.<pid>.<hostname>,U=<uid>,FMD5=<md5>:2,<flags>
 *
 * e.g. "1795503430_2.12700.vm,U=2,FMD5=7e33429f656f1e6e9d79b29c3f82c57e:2,S",
 * with '!' instead of ':' when maildir-windows-compatible is on.  It reads a
 * name (folder/Maildir.py, _parse_filename) with these rules, which the parser
 * here follows exactly so that both programs see the same UIDs and flags:
 *
 *   uid       the first ",U=" followed by one or more ASCII digits
 *   folder    the name belongs to a folder if ",FMD5=<that folder's md5>"
 *             occurs anywhere in it (a substring test)
 *   flags     the letters of the word run after the first "<infosep>2,"
 *   timestamp the first run of ASCII digits anywhere (maxage)
 *
 * A name is untrusted input: any byte string a directory can hold parses
 * without crashing; names that no directory can hold (empty, containing NUL
 * or '/', longer than MAILDIR_NAME_MAX) are refused.
 *
 * The "unique part" is what stays when offlineimap's own items are removed:
 * the name before the info part with its ",U=..." and ",FMD5=..." items
 * dropped.  Renames (new flags, a new UID) keep it, so a message keeps its
 * identity for other Maildir readers.
 */
#ifndef STORE_MAILDIR_NAME_H
#define STORE_MAILDIR_NAME_H

#include "base/buf.h"
#include "store/flags.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest file name accepted or built (NAME_MAX on Linux and the BSDs). */
#define MAILDIR_NAME_MAX 255
/* Length of an FMD5 value: an MD5 in lower-case hex. */
#define MAILDIR_FMD5_LEN 32

struct maildir_name {
    size_t len;      /* length of the whole name */
    size_t base_len; /* bytes before the info part; len if there is none */
    bool has_info;   /* "<infosep>2," present */
    flagset_t flags; /* letters after the info separator (other word characters ignored) */
    bool has_uid;    /* ",U=<digits>" present with a value that fits 32 bits */
    uint32_t uid;    /* its value (may be 0) */
    bool has_fmd5;   /* ",FMD5=" followed by 32 lower-case hex digits */
    char fmd5[MAILDIR_FMD5_LEN + 1]; /* the first such value; "" if none */
    bool in_folder;                  /* ",FMD5=<the folder md5 given to the parser>" occurs */
    bool has_time;                   /* a run of digits occurs */
    int64_t time;                    /* the first run of digits, saturated at INT64_MAX */
};

/*
 * Parse name[0..len).  folder_fmd5 (32 hex digits, or NULL) is the md5 of the
 * folder the file was found in; it sets in_folder.  infosep is ':' or '!'.
 * Returns false only for a name no directory can hold.
 */
bool maildir_name_parse(const char *name, size_t len, char infosep, const char *folder_fmd5,
                        struct maildir_name *out);

/* The UID the file carries for its folder: uid if in_folder and has_uid, else 0. */
static inline uint32_t maildir_name_folder_uid(const struct maildir_name *p)
{
    return p->in_folder && p->has_uid ? p->uid : 0;
}

/*
 * Write the unique part of a parsed name into out (at least p->base_len + 1
 * bytes) and return its length: the bytes before the info part without the
 * ",U=..." and ",FMD5=..." items.  The first item (up to the first comma) is
 * always kept.
 */
size_t maildir_name_unique(const char *name, const struct maildir_name *p, char *out);

/*
 * Compose a full name: unique, then ",U=<uid>,FMD5=<fmd5>" when uid is not 0,
 * then "<infosep>2," and the sorted flag letters.  Appends to out; false if
 * the result would be longer than MAILDIR_NAME_MAX, if unique is empty or
 * ends in "<infosep>2" (the items would turn that into an info part), or if
 * out is full.
 */
bool maildir_name_compose(struct buf *out, const char *unique, size_t unique_len, uint32_t uid,
                          const char *fmd5, char infosep, flagset_t flags);

/*
 * Format offlineimap's unique part "<timeval>_<seq>.<pid>.<host>" into out
 * (size bytes).  Characters of host that would break a name ('/', the info
 * separators ':' and '!', the item separator ',', control bytes) become '-'
 * (offlineimap replaces only '/').  Returns the length, or 0 if it did not fit.
 */
size_t maildir_name_format_unique(char *out, size_t size, int64_t timeval, uint64_t seq, long pid,
                                  const char *host);

/*
 * The next sequence number for timeval: 0 for the first name of that second
 * in this process, then 1, 2...  Process-wide and thread-safe, like
 * offlineimap's _gettimeseq (not per folder).
 */
uint64_t maildir_name_timeseq(int64_t timeval);

/* gethostname(), read once; "localhost" if it fails. */
const char *maildir_name_hostname(void);

/*
 * A new unique part for this process, from the current time (or timeval if
 * not 0), the next sequence number, getpid() and the host name.  out must
 * hold MAILDIR_NAME_MAX + 1 bytes.  Returns the length.
 */
size_t maildir_name_new_unique(char *out, int64_t timeval);

/* md5 hex of a folder's visible name, the FMD5 value of its messages. */
void maildir_name_fmd5(const char *visible_name, char out[MAILDIR_FMD5_LEN + 1]);

#endif
