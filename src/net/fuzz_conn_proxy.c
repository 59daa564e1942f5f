/*
 * libFuzzer target for the proxy handshakes (conn_proxy).  The first byte
 * picks SOCKS5, SOCKS4 or HTTP and the piece size; the rest is what the proxy
 * answers.  The handshake must never consume more than proxy_hs_want() allows,
 * never accept an answer whose bytes it has not all seen, and always end in
 * an error with a message or in success.
 */
#include "net/conn_proxy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const enum conn_proxy_type types[] = {CONN_PROXY_SOCKS5, CONN_PROXY_SOCKS4,
                                                 CONN_PROXY_HTTP};
    enum conn_proxy_type type = types[data[0] % 3];
    size_t piece = (size_t)(data[0] >> 2) + 1;
    const char *host = data[0] & 0x80 ? "192.0.2.1" : "imap.example.org";
    data++;
    size--;
    struct proxy_hs h;
    struct err e = ERR_INIT;
    if (!proxy_hs_init(&h, type, "fuzz proxy", host, 993, &e))
        abort();
    size_t pos = 0;
    enum proxy_hs_status st = PROXY_HS_MORE;
    while (st == PROXY_HS_MORE && pos < size) {
        size_t olen;
        proxy_hs_output(&h, &olen);
        proxy_hs_sent(&h);
        size_t want = proxy_hs_want(&h);
        if (want < 1 || want > PROXY_HTTP_MAX)
            abort();
        size_t n = want < piece ? want : piece;
        if (n > size - pos)
            n = size - pos;
        st = proxy_hs_feed(&h, data + pos, n, &e);
        pos += n;
    }
    if (st == PROXY_HS_ERROR && (!e.msg || !*e.msg)) {
        fprintf(stderr, "error without a message\n");
        abort();
    }
    if (st != PROXY_HS_ERROR && e.msg) {
        fprintf(stderr, "message without an error: %s\n", e.msg);
        abort();
    }
    err_clear(&e);
    proxy_hs_release(&h);
    return 0;
}
