/*
 * msghdr: reading header fields of a message (RFC 5322), as bytes.
 *
 * Messages are untrusted: the functions read at most the bytes given, accept
 * CRLF or LF line ends and folded (continued) fields, and never allocate more
 * than the caller's buffer allows.
 */
#ifndef STORE_MSGHDR_H
#define STORE_MSGHDR_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Length of the header part of msg[0..len): up to and including the empty line. */
size_t msghdr_length(const char *msg, size_t len);
/*
 * The unfolded value of the first field `name` (case-insensitive) in the
 * header hdr[0..len), trimmed, into out (replacing its contents).  False if
 * absent or too long for out.
 */
bool msghdr_get(const char *hdr, size_t len, const char *name, struct buf *out);
/* The first "<...>" of the Message-ID field, or false. */
bool msghdr_message_id(const char *hdr, size_t len, struct buf *out);

#endif
