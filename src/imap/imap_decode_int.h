/*
 * imap_decode_int: helpers shared by the imap_decode*.c files.  Internal to
 * the imap module.
 */
#ifndef IMAP_DECODE_INT_H
#define IMAP_DECODE_INT_H

#include "base/err.h"
#include "base/uidset.h"
#include "imap/imap_parser.h"
#include "imap/imap_text.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Set e to "The IMAP server sent a malformed <what> response: <detail>." and return false. */
bool imap_dec_fail(struct err *e, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* a, quoted for an error message. */
void imap_dec_quote(const struct imap_arg *a, char out[IMAP_QUOTE_SIZE]);
/* number = 1*DIGIT as an atom, strictly; nz-number also refuses 0. */
bool imap_dec_u32(const struct imap_arg *a, uint32_t *v_r);
bool imap_dec_nz32(const struct imap_arg *a, uint32_t *v_r);
bool imap_dec_u64(const struct imap_arg *a, uint64_t *v_r);
/* mod-sequence-value: 1 to 2^63-1 (allow_zero: mod-sequence-valzer). */
bool imap_dec_modseq(const struct imap_arg *a, bool allow_zero, uint64_t *v_r);
/* A sequence set atom expanded into out, at most max numbers. */
bool imap_dec_set(const struct imap_arg *a, size_t max, struct uidvec *out);
/* A string argument (atom, quoted, literal) without NUL bytes. */
bool imap_dec_text(const struct imap_arg *a);
/*
 * The arguments after the response name: for "* 3 FETCH (...)" the list,
 * for "* LIST ..." what follows LIST.
 */
const struct imap_arg *imap_dec_after_name(const struct imap_resp *r, size_t *count_r);

#endif
