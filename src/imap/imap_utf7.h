/*
 * imap_utf7: mailbox names in modified UTF-7 (RFC 3501 section 5.1.3).
 *
 * Printable US-ASCII (0x20-0x7E) stands for itself, "&" is written "&-", and
 * every other character is UTF-16 in modified BASE64 ("," instead of "/", no
 * padding) between "&" and "-".
 *
 * Both directions are strict, so that decode followed by encode gives back
 * the same bytes, and a name that could be spelt two ways is refused:
 * encoding rejects invalid UTF-8 (overlong forms, surrogates, code points
 * above U+10FFFF, truncated sequences) and U+0000; decoding rejects bytes
 * outside printable ASCII, an unterminated "&", characters outside the BASE64
 * alphabet, non-zero or superfluous padding bits, encoded printable ASCII,
 * adjacent encoded runs, broken surrogate pairs and U+0000.
 */
#ifndef IMAP_UTF7_H
#define IMAP_UTF7_H

#include "base/buf.h"
#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>

/* Append the mUTF-7 form of the UTF-8 name in[0..len) to out. */
bool imap_utf8_to_mutf7(const char *in, size_t len, struct buf *out, struct err *e);
/* Append the UTF-8 form of the mUTF-7 name in[0..len) to out. */
bool imap_mutf7_to_utf8(const char *in, size_t len, struct buf *out, struct err *e);

/* True if s needs no conversion (printable ASCII without "&"). */
bool imap_mutf7_is_plain(const char *s, size_t len);

#endif
