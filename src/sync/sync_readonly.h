/*
 * sync_readonly: the warnings for changes not made in a folder the server
 * opened read-only (SELECT answered [READ-ONLY]).
 *
 * offlineimap3 (folder/IMAP.py, ui/UIBase.py msgtoreadonly, flagstoreadonly,
 * deletereadonly) skips an upload, a flag change or a deletion in such a
 * folder with a warning; sync_folder does the same and calls these for the
 * texts, unless [general] ignore-readonly is set.  UID lists are shown as
 * offlineimap3 shows them, a Python list ("[3, 5]"); flag changes are warned
 * in batches of 100 UIDs, as offlineimap3 sends its STOREs.  Nothing here
 * changes a store or the status: the skipped change stays pending and is
 * tried again by the next sync.
 */
#ifndef SYNC_READONLY_H
#define SYNC_READONLY_H

#include <stddef.h>
#include <stdint.h>

/* uids shown per flag warning (offlineimap3's STORE batch) */
#define SYNC_READONLY_FLAG_BATCH 100

/* An upload of the message shown as uid (negative: a new local message). */
void sync_readonly_upload(const char *type, const char *folder, int64_t uid);
/* A flag change on these messages (one warning per batch). */
void sync_readonly_flags(const char *type, const char *folder, const uint32_t *uids, size_t n);
/* A deletion: offlineimap3 first flags them \Deleted (one flag warning per
 * batch), then warns about the deletion of all of them. */
void sync_readonly_delete(const char *type, const char *folder, const uint32_t *uids, size_t n);

#endif
