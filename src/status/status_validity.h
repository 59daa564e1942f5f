/*
 * status_validity: offlineimap's FolderValidity files.
 *
 * <metadata>/Repository-<r>/FolderValidity/<base> holds the UIDVALIDITY seen
 * at the last sync as "%d\n" (42 for a Maildir, which has none).  offlineimap
 * reads the first line and int()s it; here the first line, stripped of blanks,
 * must be a decimal number that fits in 32 bits, or the read fails naming the
 * file.  A missing file means "none saved yet".
 *
 * Writing goes through "<file>.tmp" and rename(), as offlineimap does; with
 * durable, the temporary file is fsynced before the rename and the directory
 * after it.
 */
#ifndef STATUS_VALIDITY_H
#define STATUS_VALIDITY_H

#include "base/err.h"

#include <stdbool.h>
#include <stdint.h>

/* The value offlineimap saves for every Maildir folder. */
#define STATUS_VALIDITY_MAILDIR 42u

/* *present_r is false (and *value_r 0) when the file does not exist. */
bool status_validity_read(const char *path, bool *present_r, uint32_t *value_r, struct err *e);
bool status_validity_write(const char *path, uint32_t value, bool durable, struct err *e);

#endif
