/*
 * imapmap: offlineimap's UID map for an IMAP local repository.
 *
 * In IMAP-to-IMAP mode both sides give their own UIDs.  offlineimap keeps the
 * pairs in <metadata>/Repository-<local>/UIDMapping/<folder>, one line per
 * message, "localuid:remoteuid\n" (folder/UIDMaps.py), and takes
 * "<file>.lock" with fcntl.lockf() while reading or writing it.  The file is
 * written as "<file>.tmp" and renamed; a ".tmp" left behind means a run died
 * while writing it (the old map is intact) and is removed with offlineimap's
 * warning.
 *
 * The map is a bijection: putting a pair removes any earlier pair of either
 * UID.  Parsing is strict: a line that is not two positive decimal numbers
 * separated by ':' (blanks around them allowed, as Python's int() does) fails
 * with the file and line number; blank lines are skipped.
 */
#ifndef STORE_IMAPMAP_H
#define STORE_IMAPMAP_H

#include "base/buf.h"
#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An open-addressing table from a non-zero UID to a UID. */
struct imapmap_tab {
    uint32_t *key;
    uint32_t *val;
    size_t cap; /* a power of two, or 0 */
    size_t count;
};

struct imapmap {
    struct imapmap_tab l2r; /* local UID -> remote UID */
    struct imapmap_tab r2l; /* remote UID -> local UID */
};

/* A map file larger than this is refused (some 40 million messages). */
#define IMAPMAP_FILE_MAX ((size_t)1 << 30)

void imapmap_init(struct imapmap *m);
void imapmap_release(struct imapmap *m);
size_t imapmap_count(const struct imapmap *m);

/* 0 when the UID is not mapped. */
uint32_t imapmap_remote(const struct imapmap *m, uint32_t luid);
uint32_t imapmap_local(const struct imapmap *m, uint32_t ruid);
/* Map luid <-> ruid (both non-zero), dropping earlier pairs of either. */
void imapmap_put(struct imapmap *m, uint32_t luid, uint32_t ruid);
/* Forget the pair of a local UID; false if it had none. */
bool imapmap_del_local(struct imapmap *m, uint32_t luid);

/* The local UIDs of the map, sorted (xmalloc'd; *n_r entries). */
uint32_t *imapmap_locals(const struct imapmap *m, size_t *n_r);

/*
 * Parse the file's contents into m (added to what m holds).  name names the
 * file in errors (ERR_FOLDER).
 */
bool imapmap_parse(struct imapmap *m, const char *data, size_t len, const char *name,
                   struct err *e);
/* The file's contents, lines sorted by local UID. */
void imapmap_format(const struct imapmap *m, struct buf *out);

/*
 * Read path (a missing file is an empty map), under "<path>.lock"; a leftover
 * "<path>.tmp" is removed with offlineimap's warning.
 */
bool imapmap_load(struct imapmap *m, const char *path, struct err *e);
/* Write path through "<path>.tmp" under the lock; durable: fsync file and directory. */
bool imapmap_save(const struct imapmap *m, const char *path, bool durable, struct err *e);

#endif
