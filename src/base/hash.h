/*
 * hash: message digests through OpenSSL, as hex text.
 */
#ifndef BASE_HASH_H
#define BASE_HASH_H

#include <stddef.h>

/* out receives 32 hex digits and a NUL. */
void hash_md5_hex(const void *data, size_t len, char out[33]);

#endif
