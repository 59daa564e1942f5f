/*
 * mbnames_json: the intermediate mbnames files, <metadata>/mbnames/<account>.json.
 *
 * offlineimap writes each account's mailbox list there with Python's
 * json.dump(): a list of objects {"accountname", "foldername",
 * "localfolders"}, ASCII only (every character outside space..'~' escaped as
 * \uXXXX, astral ones as surrogate pairs), ", " and ": " as separators, no
 * newline at the end.  mbnames_json_write() produces exactly those bytes, so
 * offlineimap3 and this program can share the directory.  Folder names that
 * are not UTF-8 (a file system name) are written as Python writes them after
 * os.listdir(): each bad byte as the lone surrogate \udcXX.
 *
 * mbnames_json_parse() reads such a file back (ours, offlineimap3's, or one
 * edited by hand): any JSON that Python's json.load() accepts, as long as it
 * is a list of objects whose "accountname" and "foldername" are strings and
 * whose "localfolders" is a string or null (other members are skipped).
 * \udcXX becomes the byte XX again.  Limits: MBNAMES_JSON_MAX bytes,
 * MBNAMES_JSON_MAX_DEPTH levels of nesting; anything else is an error naming
 * the file and the byte offset.
 */
#ifndef CLI_MBNAMES_JSON_H
#define CLI_MBNAMES_JSON_H

#include "base/buf.h"
#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>

#define MBNAMES_JSON_MAX (16u * 1024 * 1024)
#define MBNAMES_JSON_MAX_DEPTH 32

struct mbnames_item {
    char *account;
    char *folder;
    char *root; /* localfolders; NULL for JSON null (a local IMAP repository) */
};

struct mbnames_items {
    struct mbnames_item *v;
    size_t n, cap;
};

#define MBNAMES_ITEMS_INIT                                                                         \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Append copies of the three strings (root may be NULL). */
void mbnames_items_push(struct mbnames_items *it, const char *account, const char *folder,
                        const char *root);
void mbnames_items_free(struct mbnames_items *it);

/* Append json.dumps(items) to out (unbounded: our own data). */
void mbnames_json_write(const struct mbnames_items *it, struct buf *out);

/*
 * Parse data (len bytes, the content of the file `label`) and append its
 * items to out.  On error out is left as it was and e names label and the
 * offset.
 */
bool mbnames_json_parse(const char *data, size_t len, const char *label, struct mbnames_items *out,
                        struct err *e);

#endif
