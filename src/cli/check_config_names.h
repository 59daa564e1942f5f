/*
 * check_config_names: --check-config's nametrans round trip, without the
 * network.  For each local Maildir folder that exists, offlineimap, when the
 * server lacks the folder, creates it there under the local nametrans of its
 * name, and first checks that the remote nametrans leads back to the local
 * name; otherwise it stops the account with "INFINITE FOLDER CREATION
 * DETECTED!" (repository/Base.py sync_folder_structure).  This module does
 * that check for every folder at once, with the foldermap code the sync
 * uses, under the same conditions (the remote repository creates folders,
 * the folder passes the local folderfilter and its remote name the remote
 * folderfilter and folderincludes).
 *
 * The server's separator is learnt only by connecting: for an IMAP remote a
 * folder is reported only if its name comes back wrong with the local
 * separator, '.' and '/' alike (Gmail: '/').  A local root that does not
 * exist is skipped quietly, as are accounts whose expressions cannot be
 * compiled (check_config reports those).
 */
#ifndef CLI_CHECK_CONFIG_NAMES_H
#define CLI_CHECK_CONFIG_NAMES_H

#include "config/config_model.h"

/*
 * Add to probs, as errors, the account's first folder that does not come
 * back to itself (with the count of the others) and the first error a
 * nametrans or folderfilter raises on a folder name.  python: Python is
 * running; without it an account with any expression is skipped.
 */
void check_config_names(const struct config *cfg, const struct config_account *a, bool python,
                        struct config_problems *probs);

#endif
