/*
 * imap_text: character classes from RFC 3501 section 9 and a sanitizer for
 * quoting untrusted protocol text in error messages.  Internal to the imap
 * module; other layers never include it.
 */
#ifndef IMAP_TEXT_H
#define IMAP_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * ATOM-CHAR    = <any CHAR except atom-specials>
 * atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards /
 *                 quoted-specials / resp-specials
 * list-wildcards = "%" / "*";  quoted-specials = DQUOTE / "\";
 * resp-specials = "]";  CHAR = %x01-7F;  CTL = %x00-1F / %x7F
 */
bool imap_is_atom_char(unsigned char c);

/* Enough for IMAP_QUOTE_MAX input bytes escaped as \xHH plus "..." and NUL. */
#define IMAP_QUOTE_MAX 120
#define IMAP_QUOTE_SIZE (IMAP_QUOTE_MAX * 4 + 8)

/*
 * Copy at most IMAP_QUOTE_MAX bytes of s into out (IMAP_QUOTE_SIZE bytes) for
 * an error message: printable ASCII is kept, quotes and backslashes are
 * escaped, everything else becomes \r, \n, \t or \xHH; "..." marks a cut.
 */
void imap_text_quote(const void *s, size_t len, char *out);

#endif
