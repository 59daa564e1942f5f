#include "net/test_net_certs.h"

#include "base/xalloc.h"
#include "testlib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (!ext || !X509_add_ext(x, ext, -1))
        abort();
    X509_EXTENSION_free(ext);
}

static char *write_pem(const char *name, const char *suffix, X509 *x, EVP_PKEY *key)
{
    char *path = xasprintf("%s/%s.%s", test_tmpdir(), name, suffix);
    FILE *f = fopen(path, "w");
    if (!f || (x && !PEM_write_X509(f, x)) ||
        (key && !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)))
        abort();
    fclose(f);
    return path;
}

void tn_cert_make(struct tn_cert *c, const char *name, const char *cn, const char *sans,
                  const struct tn_cert *issuer, long from_days, long to_days, bool ca)
{
    static long serial = 1000;
    c->key = EVP_EC_gen("P-256");
    c->x = X509_new();
    if (!c->key || !c->x)
        abort();
    X509_set_version(c->x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c->x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(c->x), from_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(c->x), to_days * 86400);
    X509_set_pubkey(c->x, c->key);
    X509_NAME *subj = X509_get_subject_name(c->x);
    X509_NAME_add_entry_by_txt(subj, "O", MBSTRING_ASC, (const unsigned char *)"offlineimap test",
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c->x, issuer ? X509_get_subject_name(issuer->x) : subj);

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer->x : c->x, c->x, NULL, NULL, 0);
    add_ext(c->x, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    add_ext(c->x, &ctx, NID_key_usage,
            ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment");
    add_ext(c->x, &ctx, NID_subject_key_identifier, "hash");
    if (issuer)
        add_ext(c->x, &ctx, NID_authority_key_identifier, "keyid:always");
    if (sans)
        add_ext(c->x, &ctx, NID_subject_alt_name, sans);
    if (!X509_sign(c->x, issuer ? issuer->key : c->key, EVP_sha256()))
        abort();
    c->cert_path = write_pem(name, "crt", c->x, NULL);
    c->key_path = write_pem(name, "key", NULL, c->key);
}

void tn_cert_free(struct tn_cert *c)
{
    X509_free(c->x);
    EVP_PKEY_free(c->key);
    free(c->cert_path);
    free(c->key_path);
    memset(c, 0, sizeof(*c));
}

char *tn_cert_fingerprint(const struct tn_cert *c, const EVP_MD *md, bool colons, bool upper)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    X509_digest(c->x, md, d, &n);
    char *out = xmalloc(n * 3 + 1);
    size_t o = 0;
    for (unsigned i = 0; i < n; i++) {
        if (colons && i)
            out[o++] = ':';
        o += (size_t)sprintf(out + o, upper ? "%02X" : "%02x", d[i]);
    }
    out[o] = '\0';
    return out;
}
