/*
 * msgdate: the date of a message from its Date: (or Delivery-date:) field.
 *
 * Parses RFC 5322 date-time, and the obsolete and sloppy forms real mail
 * carries, as leniently as Python's email.utils.parsedate_tz (which
 * offlineimap uses): the day name is optional, a two-digit year means
 * 19xx/20xx, seconds may be missing, the zone may be +hhmm, -hhmm, a name
 * (GMT, UT, UTC, EST, EDT, CST, CDT, MST, MDT, PST, PDT, Z) or absent (UTC).
 */
#ifndef STORE_MSGDATE_H
#define STORE_MSGDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Seconds since the epoch for the date text s[0..len). */
bool msgdate_parse(const char *s, size_t len, int64_t *t_r);
/* From a message header: Date:, else Delivery-date:. */
bool msgdate_from_header(const char *hdr, size_t len, int64_t *t_r);

#endif
