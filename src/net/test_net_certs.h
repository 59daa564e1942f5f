/*
 * test_net_certs: certificates made on the fly for the TLS tests (a test CA,
 * server certificates good, expired, for another host, self-signed...), with
 * the OpenSSL API, written as PEM files into the test's scratch directory.
 */
#ifndef NET_TEST_NET_CERTS_H
#define NET_TEST_NET_CERTS_H

#include <stdbool.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct tn_cert {
    X509 *x;
    EVP_PKEY *key;
    char *cert_path;
    char *key_path;
};

/*
 * name: file name stem; sans: "DNS:localhost,IP:127.0.0.1" or NULL;
 * issuer NULL: self-signed; validity in days relative to now.
 */
void tn_cert_make(struct tn_cert *c, const char *name, const char *cn, const char *sans,
                  const struct tn_cert *issuer, long from_days, long to_days, bool ca);
void tn_cert_free(struct tn_cert *c);
/* Hex digest of the DER certificate; colons "AB:CD", upper or lower case. */
char *tn_cert_fingerprint(const struct tn_cert *c, const EVP_MD *md, bool colons, bool upper);

#endif
