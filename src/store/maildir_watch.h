/*
 * maildir_watch: proof that a folder's new/ and cur/ changed only by our own
 * hand while it was open, so that the folder's stamp can be trusted after a
 * sync that wrote to it.
 *
 * A folder's stamp (the modification times of new/ and cur/) tells the next
 * run that nothing changed since the state was saved.  After a sync that
 * added, renamed or deleted files, the stamp taken at the end would also
 * cover a change another program made meanwhile (a mail reader marking a
 * message read), which would then never be seen.  So the store watches both
 * directories with inotify from the moment the folder is opened, before it
 * is listed, and records each rename and unlink it makes as an expected
 * event, in order.  Every event read must be the next expected one; any
 * other (a foreign change, a lost event, a queue overflow, the directory
 * itself moved) taints the watch, and a tainted watch gives no stamp: the
 * next run reads the folder, as without a watch.
 *
 * One inotify instance serves the whole store (instances are a scarce
 * per-user resource); events are matched to folders by watch descriptor
 * under the store's lock.  A watch outlives its folder (maildir_take_watch)
 * until the account asks for the stamp at the end of the run, when the
 * changes are old enough for the stamp to be trusted.
 */
#ifndef STORE_MAILDIR_WATCH_H
#define STORE_MAILDIR_WATCH_H

#include "base/buf.h"
#include "store/maildir_priv.h"

#include <stdbool.h>

/* Starts watching f (opened for writing); without inotify, f has no watch. */
void maildir_watch_begin(struct store_folder *f);
/* A rename or unlink in f by us, through which the event is expected. */
int maildir_watch_rename(struct store_folder *f, enum maildir_sub from_sub, const char *from,
                         enum maildir_sub to_sub, const char *to);
int maildir_watch_unlink(struct store_folder *f, enum maildir_sub sub, const char *name);
/* Something changed the folder that the watch cannot account for. */
void maildir_watch_taint(struct store_folder *f);
/*
 * Another program changed f since its watch began (read now); false without
 * a watch.
 */
bool maildir_watch_disturbed(struct store_folder *f);
/* At close: a watch not taken is dropped. */
void maildir_watch_close(struct store_folder *f);
/* The store's instance, at the store's end. */
void maildir_watcher_free(struct maildir_store *st);

struct store_watch *maildir_take_watch(struct store_folder *f);
bool maildir_finish_watch(struct store *s, struct store_watch *w, struct buf *stamp, bool *racy_r);

#endif
