/*
 * base64: RFC 4648 encoding for SASL exchanges, through OpenSSL.
 */
#ifndef BASE_BASE64_H
#define BASE_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* Returns an xmalloc'd NUL-terminated string. */
char *base64_encode(const void *data, size_t len);
/* Decode strict base64 (padding required, no whitespace); *out_r xmalloc'd. */
bool base64_decode(const char *text, size_t len, unsigned char **out_r, size_t *out_len_r);

#endif
