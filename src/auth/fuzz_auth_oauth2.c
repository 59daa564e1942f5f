/*
 * libFuzzer target for the OAuth2 token endpoint's answer (jansson does the
 * JSON; this checks what we make of it): the outcome is a token with a
 * non-empty access token, or an error with a message, never both.
 */
#include "auth/auth_oauth2.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    long status = data[0] < 128 ? 200 : 400;
    struct oauth2_token t;
    struct err e = ERR_INIT;
    bool ok = oauth2_parse_response((const char *)data + 1, size - 1, status,
                                    "https://oauth2.example.org/token", 1000000, &t, &e);
    if (ok && (!t.access_token || !*t.access_token || e.msg))
        abort();
    if (!ok && (t.access_token || !e.msg))
        abort();
    if (ok && t.expires_at != 0 && t.expires_at < 1000000)
        abort();
    err_clear(&e);
    oauth2_token_release(&t);
    return 0;
}
