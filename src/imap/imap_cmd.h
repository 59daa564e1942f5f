/*
 * imap_cmd: building IMAP command text, and the date formats commands use.
 *
 * A command is built in a struct imap_cmd: the text accumulates in a bounded
 * buffer, and every literal is recorded with its offset, so that the sender
 * knows where it must stop and wait for the server's "+" (a synchronizing
 * literal) and where data that is not in the buffer (a message body streamed
 * from a file for APPEND) goes.
 *
 * The appenders never add spaces: the caller writes separators with
 * imap_cmd_add_raw(c, " ").  Errors are sticky: an appender that cannot do
 * its job (the text would pass the maximum, a string holds a NUL, a flag is
 * not a valid flag) marks the command failed and returns false; later
 * appenders do nothing; imap_cmd_finish() reports the first failure.
 */
#ifndef IMAP_CMD_H
#define IMAP_CMD_H

#include "base/buf.h"
#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum imap_literal_mode {
    IMAP_LITERAL_SYNC = 0, /* every literal waits for "+" */
    IMAP_LITERAL_PLUS,     /* LITERAL+ (RFC 7888): never wait, "{n+}" */
    IMAP_LITERAL_MINUS,    /* LITERAL- (RFC 7888): "{n+}" up to 4096 bytes, larger ones wait */
};

struct imap_cmd_literal {
    size_t offset; /* text offset just after the literal's "{n}" CRLF */
    uint64_t size; /* n */
    bool sync;     /* send nothing from offset on before the server's "+" */
    bool external; /* the n bytes are not in text: the caller sends them at offset */
};

struct imap_cmd {
    struct buf text;
    struct imap_cmd_literal *lits;
    size_t nlits, caplits;
    enum imap_literal_mode mode;
    char *error; /* first failure, or NULL */
};

/* max bounds the command text (literal data streamed by the caller excluded). */
void imap_cmd_init(struct imap_cmd *c, size_t max, enum imap_literal_mode mode);
void imap_cmd_release(struct imap_cmd *c);
/* Empty the command (keeping mode and max) and clear any failure. */
void imap_cmd_reset(struct imap_cmd *c);

/* Reset, then write "tag name": imap_cmd_start(c, "A12", "UID FETCH"). */
bool imap_cmd_start(struct imap_cmd *c, const char *tag, const char *name);
/* Raw text, written as it is (the caller guarantees it is valid protocol). */
bool imap_cmd_add_raw(struct imap_cmd *c, const char *s);
bool imap_cmd_add_rawf(struct imap_cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool imap_cmd_add_u64(struct imap_cmd *c, uint64_t n);
/*
 * astring: an atom if s is all ATOM-CHARs and not "NIL" in any case; a
 * quoted string if s is printable 7-bit; otherwise a literal.
 */
bool imap_cmd_add_astring(struct imap_cmd *c, const char *s, size_t len);
/* string: a quoted string if possible, else a literal; never an atom. */
bool imap_cmd_add_string(struct imap_cmd *c, const char *s, size_t len);
/* A quoted string; fails unless s is printable 7-bit ASCII. */
bool imap_cmd_add_quoted(struct imap_cmd *c, const char *s, size_t len);
/* A literal holding s (no NUL allowed: IMAP4rev1 literals are CHAR8). */
bool imap_cmd_add_literal(struct imap_cmd *c, const char *s, size_t len);
/*
 * The header of a literal whose size bytes the caller sends itself (an
 * APPEND body): "{size}" CRLF, recorded as external.
 */
bool imap_cmd_add_literal_header(struct imap_cmd *c, uint64_t size);
/*
 * flag-list = "(" [flag *(SP flag)] ")".  Each flag is "\" atom (a system
 * flag) or an atom (a keyword); anything else fails.
 */
bool imap_cmd_add_flags(struct imap_cmd *c, const char *const *flags, size_t n);
/* Append CRLF; false with e if any appender failed. */
bool imap_cmd_finish(struct imap_cmd *c, struct err *e);

/* True if s can be sent as a flag. */
bool imap_flag_is_valid(const char *s);

/*
 * Dates.  date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP
 * time SP zone DQUOTE (RFC 3501); date = date-day "-" date-month "-" date-year.
 */
#define IMAP_DATE_TIME_SIZE 27 /* "DD-Mon-YYYY HH:MM:SS +HHMM" and NUL */
#define IMAP_DATE_SIZE 12      /* "DD-Mon-YYYY" and NUL */

/*
 * t as "DD-Mon-YYYY HH:MM:SS +HHMM" in the local time zone, without quotes,
 * for APPEND, as offlineimap writes it.  False, as in offlineimap, for a year
 * before 1981 (and after 9999): the caller then sends no date and the server
 * uses its own time.
 */
bool imap_format_date_time(time_t t, char out[IMAP_DATE_TIME_SIZE]);
/* "1-Feb-1994" for SEARCH SINCE/BEFORE; false for an impossible date. */
bool imap_format_date(int year, int month, int day, char out[IMAP_DATE_SIZE]);
/*
 * Parse an INTERNALDATE value (the date-time without its quotes) into seconds
 * since the epoch, UTC.  The day may be two digits, or one digit with or
 * without a leading space.  Month names are matched without regard to case.
 */
bool imap_parse_date_time(const char *s, size_t len, time_t *t_r);

#endif
