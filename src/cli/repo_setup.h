/*
 * repo_setup: from the configuration of one account to its two stores.
 *
 * Builds the IMAP store (connection options, TLS options, credentials) and
 * the Maildir store from the account's repositories, and fills the account
 * settings the runner needs.  Credentials (user, password, OAuth2 token) come
 * from cred.h, in offlineimap's order.
 */
#ifndef CLI_REPO_SETUP_H
#define CLI_REPO_SETUP_H

#include "base/err.h"
#include "cli/account.h"
#include "cli/foldermap.h"
#include "config/config_model.h"

#include <pthread.h>
#include <stdbool.h>

struct ui;

struct repo_setup_opts {
    const struct config *cfg;
    const struct config_account *account;
    struct ui *ui;
    bool single_thread;
    bool dry_run;
    bool quick;                        /* -q */
    const struct strvec *only_folders; /* -f */
};

struct cred;

struct repo_stores {
    struct account_cfg account;
    struct cred *cred;       /* the remote IMAP repository's credentials */
    struct cred *cred_local; /* the local one's, in IMAP-to-IMAP mode */
    struct foldermap fmap;
    bool fmap_ready;
};

bool repo_setup(const struct repo_setup_opts *o, struct repo_stores *rs, struct err *e);
/* Settings that depend on the time (the maxage cutoff): before each sync of a long run. */
void repo_setup_refresh(struct repo_stores *rs, const struct config_account *acc);
void repo_stores_release(struct repo_stores *rs);

#endif
