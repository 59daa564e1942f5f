/*
 * sync_filter: filterheaders, header fields taken out of a message before it
 * is uploaded (offlineimap's IMAP savemessage).  Names are matched as
 * offlineimap matches them, case-sensitively; a field's continuation lines
 * go with it.  Works on the header part only; the body is never touched.
 */
#ifndef SYNC_FILTER_H
#define SYNC_FILTER_H

#include "base/buf.h"
#include "base/strutil.h"

#include <stddef.h>

/* Append hdr[0..len) without the fields named in names to out. */
void sync_filter_header(const char *hdr, size_t len, const struct strvec *names, struct buf *out);

#endif
