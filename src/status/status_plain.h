/*
 * status_plain: reader for offlineimap's legacy plain-text status cache
 * (<metadata>/Account-<a>/LocalStatus/<base>), for migration to SQLite.
 *
 * The first line, stripped of blanks, is exactly one of
 *   OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 2
 *   OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT 1
 * and every further line, stripped, is
 *   FORMAT 2:  uid|flags|mtime|labels    ("7|S|0|\Inbox, work")
 *   FORMAT 1:  uid:flags                 ("12:RS")
 * Lines end with "\n", "\r\n" or "\r" (Python's universal newlines).
 *
 * Parsing is stricter than offlineimap's: the uid is a decimal number from 1
 * to 2^32-1, flags are ASCII letters, mtime a decimal number with an optional
 * sign; a blank line is an error, as it is for offlineimap.  Any bad line
 * fails the whole read with ERR_FOLDER naming the file and the line number.
 * A later line for the same uid replaces an earlier one (offlineimap reads
 * into a dict).  Lines are limited to STATUS_PLAIN_LINE_MAX bytes.
 *
 * The parser takes its input in pieces of any size (status_plain_parser_feed)
 * so that it can be fed straight from read(2) and tested split at any offset.
 */
#ifndef STATUS_PLAIN_H
#define STATUS_PLAIN_H

#include "base/buf.h"
#include "base/err.h"
#include "status/status_rows.h"

#include <stdbool.h>
#include <stddef.h>

#define STATUS_PLAIN_LINE_MAX 65536
#define STATUS_PLAIN_MAGIC "OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT "

struct status_plain_parser {
    char *name;               /* the file, for messages */
    struct status_rows *rows; /* rows are appended here */
    struct buf line;          /* the line being collected */
    size_t lineno;            /* its number, from 1 */
    int format;               /* 0 before the first line, then 1 or 2 */
    bool after_cr;            /* the last byte was '\r' ("\r\n" is one break) */
    bool failed;
};

void status_plain_parser_init(struct status_plain_parser *p, const char *name,
                              struct status_rows *rows);
void status_plain_parser_release(struct status_plain_parser *p);
bool status_plain_parser_feed(struct status_plain_parser *p, const void *data, size_t len,
                              struct err *e);
/* End of input: parse a last unterminated line, check the file had a first line, sort. */
bool status_plain_parser_finish(struct status_plain_parser *p, struct err *e);

/*
 * Read the file at path into rows (cleared first).  A missing file sets
 * *present_r to false and is not an error; *format_r (may be NULL) gets 1 or 2.
 */
bool status_plain_read(const char *path, struct status_rows *rows, bool *present_r, int *format_r,
                       struct err *e);

#endif
