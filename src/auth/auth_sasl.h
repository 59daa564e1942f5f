/*
 * auth_sasl: the mechanisms we run through Cyrus SASL (libsasl2):
 * SCRAM-SHA-1, SCRAM-SHA-256 (RFC 5802, 7677) and GSSAPI (RFC 4752,
 * Kerberos).  Messages go in and out as raw bytes; base64 and the IMAP
 * exchange are the caller's.
 *
 * Guarantees:
 * - No security layer is negotiated (max_ssf 0): after authentication the
 *   stream stays as it is (TLS, or what the user allowed), as offlineimap.
 * - auth_sasl_complete() is true only when the mechanism has finished on our
 *   side too; for SCRAM that means the server proved it knows the password
 *   (its signature checked), so a server that says OK too early is caught.
 * - Cyrus's own log goes to our debug log (never its trace levels, which may
 *   hold secrets), not to syslog.
 * - A mechanism that cannot start here (its plugin is not installed, no
 *   Kerberos ticket) is AUTH_SASL_UNAVAILABLE with the reason, so that the
 *   caller can go on to the next mechanism, as offlineimap skips GSSAPI
 *   without the gssapi module.
 */
#ifndef AUTH_SASL_H
#define AUTH_SASL_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>

struct auth_sasl;

struct auth_sasl_opts {
    const char *mech;     /* "SCRAM-SHA-256", "SCRAM-SHA-1", "GSSAPI" */
    const char *service;  /* "imap" */
    const char *host;     /* the server's name: GSSAPI asks for service@host */
    const char *user;     /* authentication identity */
    const char *authzid;  /* authorization identity (remote_identity), or NULL */
    const char *password; /* for SCRAM; NULL for GSSAPI */
};

enum auth_sasl_result {
    AUTH_SASL_MORE,        /* send *out_r, expect more from the server */
    AUTH_SASL_DONE,        /* send *out_r (maybe empty); we are done */
    AUTH_SASL_FAILED,      /* the exchange must be cancelled; e says why */
    AUTH_SASL_UNAVAILABLE, /* could not start here; e says why */
};

/*
 * Start.  *out_r is the initial response (xmalloc'd, *out_len_r bytes), or
 * NULL when the mechanism waits for the server first.
 */
enum auth_sasl_result auth_sasl_start(const struct auth_sasl_opts *o, struct auth_sasl **s_r,
                                      unsigned char **out_r, size_t *out_len_r, struct err *e);
/* One server challenge in, our answer out (xmalloc'd, possibly empty). */
enum auth_sasl_result auth_sasl_step(struct auth_sasl *s, const void *in, size_t in_len,
                                     unsigned char **out_r, size_t *out_len_r, struct err *e);
bool auth_sasl_complete(const struct auth_sasl *s);
void auth_sasl_free(struct auth_sasl **s);

#endif
