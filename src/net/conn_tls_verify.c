/*
 * conn_tls_verify: TLS options (protocol versions, CA store, client
 * certificate, fingerprint pins) and the decision whether to trust the
 * server's certificate, with messages that say what failed.
 *
 * Trust rules (offlineimap's options, stricter defaults):
 * - no fingerprints: the chain must verify against sslcacertfile, the
 *   distribution's bundle ("OS-DEFAULT") or the system store, and the host
 *   name must match (DNS or IP subjectAltName; commonName only when the
 *   certificate has no DNS name);
 * - fingerprints only: the certificate must match a pin; the chain is not
 *   looked at (self-signed servers);
 * - fingerprints and a CA file: both must hold (no_verify drops the chain).
 */
#include "net/conn_internal.h"
#include "net/conn_tls_internal.h"

#include "base/log.h"
#include "base/xalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

/* Where distributions keep their CA bundle, for sslcacertfile = OS-DEFAULT. */
static const char *const os_ca_bundles[] = {
    "/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu, Gentoo, Arch */
    "/etc/pki/tls/certs/ca-bundle.crt",                  /* Fedora, RHEL */
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* CentOS, RHEL 7+ */
    "/etc/ssl/ca-bundle.pem",                            /* openSUSE, SUSE */
    "/etc/pki/tls/cacert.pem",                           /* OpenELEC */
    "/etc/ssl/cert.pem",                                 /* Alpine, OpenBSD, DragonFly, macOS */
    "/usr/local/share/certs/ca-root-nss.crt",            /* FreeBSD */
    "/usr/local/etc/openssl/cert.pem",                   /* Homebrew */
    "/opt/local/share/curl/curl-ca-bundle.crt",          /* MacPorts */
};

static const char *ssl_reason(void)
{
    unsigned long code = ERR_peek_last_error();
    const char *r = code ? ERR_reason_error_string(code) : NULL;
    return r ? r : "unknown error";
}

bool conn_tls_is_ip(const char *host)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* ---- text from certificates (untrusted: control characters are replaced) ---- */

static char *bio_text(BIO *b)
{
    char *p = NULL;
    long len = BIO_get_mem_data(b, &p);
    char *s = xstrndup(p ? p : "", len > 0 ? (size_t)len : 0);
    for (char *q = s; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            *q = '?';
    return s;
}

static char *name_text(const X509_NAME *n)
{
    BIO *b = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char *s = bio_text(b);
    BIO_free(b);
    return s;
}

static char *time_text(const ASN1_TIME *t)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!t || !ASN1_TIME_print_ex(b, t, ASN1_DTFLGS_ISO8601))
        BIO_puts(b, "?");
    char *s = bio_text(b);
    BIO_free(b);
    return s;
}

/* "mail.example.org, *.example.org, 192.0.2.1": what the certificate is for. */
static char *cert_names(X509 *cert)
{
    BIO *b = BIO_new(BIO_s_mem());
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int shown = 0, total = gens ? sk_GENERAL_NAME_num(gens) : 0;
    for (int i = 0; i < total; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char ip[INET6_ADDRSTRLEN];
        const char *text = NULL;
        int len = 0;
        if (g->type == GEN_DNS) {
            text = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
            len = ASN1_STRING_length(g->d.dNSName);
        } else if (g->type == GEN_IPADD) {
            int alen = ASN1_STRING_length(g->d.iPAddress);
            const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);
            if ((alen == 4 || alen == 16) &&
                inet_ntop(alen == 4 ? AF_INET : AF_INET6, a, ip, sizeof(ip))) {
                text = ip;
                len = (int)strlen(ip);
            }
        }
        if (!text)
            continue;
        if (shown == 10) {
            BIO_puts(b, ", ...");
            break;
        }
        BIO_printf(b, "%s%.*s", shown ? ", " : "", len > 200 ? 200 : len, text);
        shown++;
    }
    GENERAL_NAMES_free(gens);
    if (!shown) {
        X509_NAME *subj = X509_get_subject_name(cert);
        int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
        ASN1_STRING *cn =
            idx >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx)) : NULL;
        if (cn)
            BIO_printf(b, "%.*s", ASN1_STRING_length(cn) > 200 ? 200 : ASN1_STRING_length(cn),
                       (const char *)ASN1_STRING_get0_data(cn));
        else
            BIO_puts(b, "no name at all");
    }
    char *s = bio_text(b);
    BIO_free(b);
    return s;
}

/* ---- the verify callback ---- */

void conn_tls_vstate_release(struct tls_vstate *vs)
{
    XFREE(vs->subject);
    XFREE(vs->issuer);
    XFREE(vs->not_before);
    XFREE(vs->not_after);
}

int conn_tls_verify_cb(int ok, X509_STORE_CTX *xs)
{
    if (ok)
        return 1;
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct tls_vstate *vs = ssl ? SSL_get_app_data(ssl) : NULL;
    if (vs && vs->err == X509_V_OK) {
        vs->err = X509_STORE_CTX_get_error(xs);
        vs->depth = X509_STORE_CTX_get_error_depth(xs);
        X509 *cert = X509_STORE_CTX_get_current_cert(xs);
        if (cert) {
            vs->subject = name_text(X509_get_subject_name(cert));
            vs->issuer = name_text(X509_get_issuer_name(cert));
            vs->not_before = time_text(X509_get0_notBefore(cert));
            vs->not_after = time_text(X509_get0_notAfter(cert));
        }
    }
    /* Finish the handshake; conn_tls_check_peer() decides with the whole picture. */
    return 1;
}

/* ---- options ---- */

static bool parse_version(const char *v, int *version_r, struct err *e)
{
    static const struct {
        const char *name;
        int version;
    } map[] = {{"tls1", TLS1_VERSION},
               {"tls1_1", TLS1_1_VERSION},
               {"tls1_2", TLS1_2_VERSION},
               {"tls1_3", TLS1_3_VERSION},
               {"ssl23", 0}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(v, map[i].name) == 0) {
            *version_r = map[i].version;
            return true;
        }
    }
    if (strcmp(v, "ssl3") == 0)
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "ssl_version = ssl3 is not supported: SSLv3 is broken; use tls1_2 or tls1_3.");
    else
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "Unknown ssl_version '%s'; expected tls1, tls1_1, tls1_2, tls1_3 or ssl23.", v);
    return false;
}

static bool set_versions(SSL_CTX *ctx, const struct tls_opts *o, struct err *e)
{
    int min = 0;
    const char *level = o->tls_level && *o->tls_level ? o->tls_level : "tls_compat";
    if (strcmp(level, "tls_compat") == 0) {
        min = 0; /* whatever OpenSSL and its configuration allow */
    } else if (strcmp(level, "tls_no_ssl") == 0) {
        min = TLS1_VERSION;
    } else if (strcmp(level, "tls_secure") == 0) {
        min = TLS1_2_VERSION; /* TLS 1.0 and 1.1 are deprecated (RFC 8996) */
    } else {
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "Unknown tls_level '%s'; expected tls_compat, tls_no_ssl or tls_secure.", level);
        return false;
    }
    int max = 0;
    if (o->ssl_version && *o->ssl_version) {
        int v;
        if (!parse_version(o->ssl_version, &v, e))
            return false;
        if (v && min && v < min) {
            err_set(e, ERR_REPO, ERRK_CONFIG, "ssl_version = %s is not allowed by tls_level = %s.",
                    o->ssl_version, level);
            return false;
        }
        if (v)
            min = max = v;
    }
    SSL_CTX_set_min_proto_version(ctx, min);
    SSL_CTX_set_max_proto_version(ctx, max);
    return true;
}

static bool parse_fingerprints(const char *list, struct strvec *out, struct err *e)
{
    struct strvec items = STRVEC_INIT;
    strvec_split(&items, list ? list : "", ',', true);
    bool ok = true;
    for (size_t i = 0; i < items.n && ok; i++) {
        char *fp = xmalloc(strlen(items.v[i]) + 1);
        size_t n = 0;
        for (const char *p = items.v[i]; *p; p++) {
            if (*p == ':')
                continue;
            if (!isxdigit((unsigned char)*p)) {
                ok = false;
                break;
            }
            fp[n++] = (char)tolower((unsigned char)*p);
        }
        fp[n] = '\0';
        if (ok && n != 40 && n != 56 && n != 64 && n != 96 && n != 128)
            ok = false;
        if (!ok) {
            err_set(e, ERR_REPO, ERRK_CONFIG,
                    "Invalid cert_fingerprint '%s': expected the hex SHA-1, SHA-224, SHA-256, "
                    "SHA-384 or SHA-512 digest of the server certificate (colons allowed).",
                    items.v[i]);
            free(fp);
        } else {
            strvec_push_owned(out, fp);
        }
    }
    strvec_free(&items);
    return ok;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    /* Never prompt on the terminal from a sync thread. */
    return 0;
}

static bool load_client_cert(SSL_CTX *ctx, const struct tls_opts *o, struct err *e)
{
    if (!o->client_cert && !o->client_key)
        return true;
    if (!o->client_cert) {
        err_set(e, ERR_REPO, ERRK_CONFIG, "sslclientkey '%s' is set but sslclientcert is not.",
                o->client_key);
        return false;
    }
    const char *key = o->client_key ? o->client_key : o->client_cert;
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    if (SSL_CTX_use_certificate_chain_file(ctx, o->client_cert) != 1) {
        err_set(e, ERR_REPO, ERRK_CONFIG, "Could not load the client certificate '%s': %s.",
                o->client_cert, ssl_reason());
        return false;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "Could not load the client key '%s' (it must be an unencrypted PEM key matching "
                "the certificate): %s.",
                key, ssl_reason());
        return false;
    }
    return true;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool load_ca(SSL_CTX *ctx, const char *cafile, struct tls_config *cfg, struct err *e)
{
    if (!cafile) {
        if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            err_set(e, ERR_REPO, ERRK_CONFIG, "Could not load the system CA store: %s.",
                    ssl_reason());
            return false;
        }
        cfg->store_desc = xstrdup("system");
        return true;
    }
    const char *path = cafile;
    if (strcmp(cafile, "OS-DEFAULT") == 0) {
        path = NULL;
        size_t n = sizeof(os_ca_bundles) / sizeof(os_ca_bundles[0]);
        for (size_t i = 0; i < n && !path; i++)
            if (is_file(os_ca_bundles[i]))
                path = os_ca_bundles[i];
        if (!path) {
            struct buf tried;
            buf_init(&tried, BUF_UNBOUNDED);
            for (size_t i = 0; i < n; i++)
                buf_printf(&tried, "%s%s", i ? ", " : "", os_ca_bundles[i]);
            err_set(e, ERR_REPO, ERRK_CONFIG,
                    "Default CA bundle was requested (sslcacertfile = OS-DEFAULT), but none of "
                    "the known locations exists. Tried %s.",
                    tried.data);
            buf_release(&tried);
            return false;
        }
    } else if (!is_file(cafile)) {
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "CA certificate file '%s' (sslcacertfile) does not exist.", cafile);
        return false;
    }
    if (SSL_CTX_load_verify_locations(ctx, path, NULL) != 1) {
        err_set(e, ERR_REPO, ERRK_CONFIG, "Could not load CA certificates from '%s': %s.", path,
                ssl_reason());
        return false;
    }
    cfg->store_desc = xstrdup(path);
    return true;
}

void conn_tls_config_release(struct tls_config *cfg)
{
    strvec_free(&cfg->fingerprints);
    XFREE(cfg->store_desc);
}

bool conn_tls_configure(SSL_CTX *ctx, const struct tls_opts *o, const char *desc,
                        struct tls_config *cfg, struct err *e)
{
    if (!set_versions(ctx, o, e) || !parse_fingerprints(o->fingerprints, &cfg->fingerprints, e))
        return false;
    if (o->no_verify && cfg->fingerprints.n == 0) {
        err_set(e, ERR_REPO, ERRK_CONFIG,
                "Refusing to skip the TLS certificate check for %s: without cert_fingerprint "
                "nothing would identify the server.",
                desc);
        return false;
    }
    cfg->check_chain = !o->no_verify && (o->cafile || cfg->fingerprints.n == 0);
    if (cfg->check_chain && !load_ca(ctx, o->cafile, cfg, e))
        return false;
    if (!load_client_cert(ctx, o, e))
        return false;
    /* SSL_write may take part of the data; a retry may come from a moved buffer. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* Read whole records (and more) per system call. */
    SSL_CTX_set_read_ahead(ctx, 1);
    return true;
}

/* ---- the decision ---- */

static bool digest_hex(X509 *cert, const EVP_MD *md, bool colons, char *out, size_t size)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (X509_digest(cert, md, d, &n) != 1 || size < (size_t)n * 3 + 1)
        return false;
    size_t o = 0;
    for (unsigned i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, size - o, colons ? "%s%02X" : "%s%02x",
                              colons && i ? ":" : "", d[i]);
    return true;
}

static bool pin_matches(X509 *cert, const struct strvec *pins)
{
    for (size_t i = 0; i < pins->n; i++) {
        size_t len = strlen(pins->v[i]);
        const EVP_MD *md = len == 40   ? EVP_sha1()
                           : len == 56 ? EVP_sha224()
                           : len == 64 ? EVP_sha256()
                           : len == 96 ? EVP_sha384()
                                       : EVP_sha512();
        char hex[EVP_MAX_MD_SIZE * 3 + 1];
        if (digest_hex(cert, md, false, hex, sizeof(hex)) && strcmp(hex, pins->v[i]) == 0)
            return true;
    }
    return false;
}

/* What the chain or host check found, in words. */
static char *describe_failure(const struct tls_vstate *vs, int verr, X509 *cert, const char *host,
                              const char *store)
{
    const char *subj = vs->subject ? vs->subject : "?";
    char *where = vs->depth > 0 ? xasprintf(" for the CA certificate '%s'", subj) : xstrdup("");
    char *names = NULL, *s;
    switch (verr) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        s = xasprintf("certificate has expired (notAfter %s)%s",
                      vs->not_after ? vs->not_after : "?", where);
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        s = xasprintf("certificate is not yet valid (notBefore %s)%s",
                      vs->not_before ? vs->not_before : "?", where);
        break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        names = cert_names(cert);
        s = xasprintf("host name mismatch: certificate is for %s, not %s", names,
                      host ? host : "?");
        break;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        s = xasprintf("self-signed certificate '%s' (not in the CA store %s)", subj, store);
        break;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        s = xasprintf("unknown issuer: the chain ends in the self-signed certificate '%s' "
                      "(not in the CA store %s)",
                      subj, store);
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        s = xasprintf("unknown issuer '%s' (not in the CA store %s)", vs->issuer ? vs->issuer : "?",
                      store);
        break;
    default:
        s = xasprintf("%s%s", X509_verify_cert_error_string(verr), where);
        break;
    }
    free(names);
    free(where);
    return s;
}

bool conn_tls_check_peer(SSL *ssl, const struct tls_vstate *vs, const struct tls_config *cfg,
                         const char *host, const char *desc, struct err *e)
{
    X509 *cert = SSL_get0_peer_certificate(ssl);
    if (!cert) {
        err_set(e, ERR_REPO, ERRK_PROTOCOL, "The server %s sent no TLS certificate.", desc);
        return false;
    }
    char colons[EVP_MAX_MD_SIZE * 3 + 1] = "?", plain[EVP_MAX_MD_SIZE * 3 + 1] = "?";
    digest_hex(cert, EVP_sha256(), true, colons, sizeof(colons));
    digest_hex(cert, EVP_sha256(), false, plain, sizeof(plain));
    /* With a CA file, a pin alone is not enough (both must hold). */
    const char *also = cfg->store_desc && strcmp(cfg->store_desc, "system") != 0
                           ? " (and remove sslcacertfile)"
                           : "";

    if (cfg->check_chain) {
        int verr = vs->err;
        if (verr == X509_V_OK)
            verr = (int)SSL_get_verify_result(ssl);
        if (verr != X509_V_OK) {
            char *why = describe_failure(vs, verr, cert, host, cfg->store_desc);
            err_set(e, ERR_REPO, ERRK_PROTOCOL,
                    "TLS certificate verification failed for %s: %s. The server certificate's "
                    "SHA-256 fingerprint is %s; to trust this certificate anyway, set "
                    "cert_fingerprint = %s%s",
                    desc, why, colons, plain, also);
            free(why);
            return false;
        }
    }
    if (cfg->fingerprints.n > 0 && !pin_matches(cert, &cfg->fingerprints)) {
        err_set(e, ERR_REPO, ERRK_PROTOCOL,
                "The TLS certificate of %s matches none of the configured fingerprints "
                "(cert_fingerprint). The server certificate's SHA-256 fingerprint is %s; to trust "
                "this certificate anyway, set cert_fingerprint = %s",
                desc, colons, plain);
        return false;
    }
    log_debug(LOGC_IMAP, "TLS certificate of %s accepted (%s%s%s)", desc,
              cfg->check_chain ? "verified against CA store " : "",
              cfg->check_chain ? cfg->store_desc : "",
              cfg->fingerprints.n ? (cfg->check_chain ? ", pinned" : "pinned") : "");
    return true;
}
