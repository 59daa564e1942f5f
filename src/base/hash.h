/*
 * hash: message digests through OpenSSL, as hex text.
 */
#ifndef BASE_HASH_H
#define BASE_HASH_H

#include <stddef.h>

/* out receives 32 hex digits and a NUL. */
void hash_md5_hex(const void *data, size_t len, char out[33]);
/* HMAC-MD5 (RFC 2104), for CRAM-MD5 (RFC 2195); out as for hash_md5_hex. */
void hash_hmac_md5_hex(const void *key, size_t key_len, const void *data, size_t len,
                       char out[33]);

#endif
