/*
 * info: --info, offlineimap's server diagnostics, without any sync.
 *
 * For each account of the run, the remote then the local repository, as
 * offlineimap3's UIBase.serverdiagnostics() prints them (its texts, its
 * Python reprs of the greeting and capabilities):
 *
 *   Remote repository 'Work-Remote': type 'IMAP'
 *   Host: imap.example.org Port: 993 SSL: True
 *   Server supports ID extension.
 *   Server welcome string: b'* OK [CAPABILITY IMAP4rev1 ...] ready.'
 *   Server capabilities: ('IMAP4REV1', 'LITERAL+', ...)
 *   folderfilter= lambda f: f != 'Trash'
 *   nametrans= lambda f: f.lower()
 *   Folderlist:
 *    INBOX -> inbox
 *    Trash -> trash (disabled)
 *
 * An IMAP repository is connected to (and logged in); nothing is selected,
 * created or changed, and no status or lock is touched.  A connection
 * failure prints "Failed to connect. Reason ..." and the account goes on
 * with the next repository.
 */
#ifndef CLI_INFO_H
#define CLI_INFO_H

#include "config/config_model.h"

struct ui;

/* Returns the exit status before the UI's own accounting (0, or 1 if an account failed). */
int info_run(const struct config *cfg, struct ui *ui);

#endif
