/*
 * repo_imap: an IMAP store from one [Repository] section.
 *
 * Everything an IMAP repository's connection needs comes from its own
 * section, as in offlineimap: host (remotehosteval first), port
 * (remoteporteval first), credentials (cred.h), TLS, tunnels, reference,
 * maxconnections, expunge.  Used for the remote repository, and for the local
 * one in IMAP-to-IMAP mode.
 */
#ifndef CLI_REPO_IMAP_H
#define CLI_REPO_IMAP_H

#include "base/err.h"
#include "cli/repo_setup.h"
#include "config/config_model.h"
#include "store/store.h"

#include <stdbool.h>

struct cred;

/*
 * Build the store of repository r (ERR_REPO on a bad *eval option or
 * credentials setup).  keywords_from gives customflag_[a-z] (the Maildir
 * side of the account), or NULL.  *cred_r must outlive the store.
 */
bool repo_imap_new(const struct repo_setup_opts *o, const struct config_repository *r,
                   const struct config_repository *keywords_from, struct cred **cred_r,
                   struct store **store_r, struct err *e);

#endif
