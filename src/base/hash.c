/*
 * MD5 through OpenSSL's low-level functions, deprecated in 3.0 but kept: the
 * EVP interface would, on first use, initialise the library's providers and
 * read its configuration, about 2 MB of a process that only names files
 * (FMD5) on a plain connection.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "base/hash.h"

#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>

static void to_hex(const unsigned char *md, unsigned len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < len; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * len] = '\0';
}

void hash_md5_hex(const void *data, size_t len, char out[33])
{
    unsigned char md[MD5_DIGEST_LENGTH];
    MD5_CTX c;
    if (!MD5_Init(&c) || !MD5_Update(&c, data, len) || !MD5_Final(md, &c))
        abort();
    to_hex(md, 16, out);
}

void hash_hmac_md5_hex(const void *key, size_t key_len, const void *data, size_t len,
                       char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!HMAC(EVP_md5(), key, (int)key_len, data, len, md, &mdlen) || mdlen != 16)
        abort();
    to_hex(md, 16, out);
}
