/*
 * cred: the credentials of one IMAP repository, in offlineimap's order
 * (REFERENCE.md 7.3), given to the IMAP layer as an imap_auth_provider.
 *
 * User: remoteusereval, remoteuser, then the login of the host's entry in
 * ~/.netrc, then /etc/netrc.
 *
 * Password: remotepasseval, remotepass, remotepassfile (first line,
 * stripped), ~/.netrc, /etc/netrc (the entry for the host whose login is the
 * user, or any when the user is not known), the desktop keyring (unless
 * --ignore-keyring; never more than KEYRING_TIMEOUT_MS), then a prompt
 * through the UI.
 *
 * Guarantees:
 * - The password is found once per account and shared by its connections;
 *   after it worked it is the one every later connection uses.
 * - A password the server refuses is asked for again once, when it came from
 *   the prompt or the keyring (a changed password); a password from the
 *   configuration or a netrc file is not asked for.  After that every
 *   connection of the account fails at once with the same clear message,
 *   naming where the refused password came from.
 * - With --update-keyring, a password that worked and did not come from the
 *   keyring is stored there.
 * - OAuth2: oauth2_access_token and oauth2_refresh_token (or their _eval
 *   forms; the plain option wins), client id and secret, the request URL
 *   (Gmail's by default).  An access token is refreshed when it expires or the
 *   server refuses it, and kept in <metadata>/Repository-<name>/oauth2-token
 *   (mode 0600) for the next runs.
 * - No secret is logged; ~/.netrc problems (a syntax error, a file others can
 *   read) are warned about once and the file is not used.
 */
#ifndef CLI_CRED_H
#define CLI_CRED_H

#include "base/err.h"
#include "config/config_model.h"
#include "imap/imap_connect.h"

#include <stdbool.h>

struct ui;
struct cred;

struct cred_opts {
    const struct config *cfg;
    const struct config_account *account;
    const struct config_repository *repo;
    struct ui *ui;
    const char *host; /* the server (after remotehosteval) */
    int timeout_ms;   /* for token refreshes */
};

/* Set up; evaluates remoteusereval (an error there is returned). */
bool cred_new(const struct cred_opts *o, struct cred **c_r, struct err *e);
/* The user name, or NULL when none is known. */
const char *cred_user(const struct cred *c);
/* The provider for imap_connect_opts.auth; valid as long as c. */
struct imap_auth_provider cred_provider(struct cred *c);
void cred_free(struct cred **c);

#endif
