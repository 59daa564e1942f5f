#include "base/base64.h"

#include "base/xalloc.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

char *base64_encode(const void *data, size_t len)
{
    size_t out_len = 4 * ((len + 2) / 3);
    char *out = xmalloc(out_len + 1);
    int n = len ? EVP_EncodeBlock((unsigned char *)out, data, (int)len) : 0;
    out[n] = '\0';
    return out;
}

bool base64_decode(const char *text, size_t len, unsigned char **out_r, size_t *out_len_r)
{
    if (len % 4 != 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/' || (c == '=' && i >= len - 2);
        if (!ok || (c != '=' && i > 0 && text[i - 1] == '='))
            return false;
    }
    unsigned char *out = xmalloc(len / 4 * 3 + 1);
    int n = len ? EVP_DecodeBlock(out, (const unsigned char *)text, (int)len) : 0;
    if (n < 0) {
        free(out);
        return false;
    }
    /* EVP_DecodeBlock counts padding bytes as data: take them off. */
    if (len >= 1 && text[len - 1] == '=')
        n--;
    if (len >= 2 && text[len - 2] == '=')
        n--;
    out[n] = '\0';
    *out_r = out;
    *out_len_r = (size_t)n;
    return true;
}
