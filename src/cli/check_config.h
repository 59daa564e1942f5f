/*
 * check_config: what --check-config checks beyond config_load(), still
 * without the network: the [general] ui name, the pythonfile (run, as a
 * sync would), and every Python expression of the configuration: syntax,
 * names it reads that nothing defines, functions taking the arguments
 * offlineimap passes, and the values of the expressions a run evaluates
 * anyway (remotehosteval, remoteporteval, remoteusereval, folderincludes,
 * idlefolders, the mbnames header, sep, footer and peritem; remoteporteval
 * must give a port).  Password and OAuth2 expressions are not evaluated (they
 * may ask an agent or a keyring); only their names are checked.  The
 * programs that hooks and tunnels start must exist (check_shell; nothing is
 * run), and the names of the local Maildir folders that exist must come back
 * to themselves through both nametrans (check_config_names).
 *
 * Problems in repositories and accounts that this run does not sync are
 * warnings, as config_load() makes them.
 */
#ifndef CLI_CHECK_CONFIG_H
#define CLI_CHECK_CONFIG_H

#include "config/config_model.h"

/* Add every problem found to probs.  Starts Python if the configuration needs it. */
void check_config_more(const struct config *cfg, struct config_problems *probs);

#endif
