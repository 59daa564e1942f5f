/*
 * uidset: IMAP sequence sets ("1:3,7,9:12") to and from sorted UID arrays.
 *
 * RFC 3501 section 9:
 *   sequence-set = (seq-number / seq-range) ["," sequence-set]
 *   seq-range    = seq-number ":" seq-number
 *   seq-number   = nz-number / "*"
 * Parsing rejects "*" (callers never need it from a server), zero, and sets
 * that would expand beyond a caller-given maximum number of UIDs.
 */
#ifndef BASE_UIDSET_H
#define BASE_UIDSET_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uidvec {
    uint32_t *v;
    size_t n;
    size_t cap;
};

#define UIDVEC_INIT {NULL, 0, 0}

void uidvec_push(struct uidvec *uv, uint32_t uid);
void uidvec_free(struct uidvec *uv);
void uidvec_sort_unique(struct uidvec *uv);
bool uidvec_contains_sorted(const struct uidvec *uv, uint32_t uid);

/*
 * Append the set for uids[0..n) (sorted ascending, no duplicates) to out,
 * stopping before out would grow past max_len bytes of set text.  Returns how
 * many UIDs were written (at least one when n > 0).
 */
size_t uidset_format(struct buf *out, const uint32_t *uids, size_t n, size_t max_len);
/* Parse a set into out (appended in set order); false on bad syntax or limit. */
bool uidset_parse(const char *s, size_t len, size_t max_uids, struct uidvec *out);

#endif
