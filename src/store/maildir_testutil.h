/*
 * maildir_testutil: what the Maildir store's unit tests share (test_maildir_*.c).
 * Paths are relative to test_tmpdir(); a failure fails the running test.
 */
#ifndef STORE_MAILDIR_TESTUTIL_H
#define STORE_MAILDIR_TESTUTIL_H

#include "store/store.h"

#include <stdbool.h>

/* rel/cur, rel/new and rel/tmp. */
void mt_make_maildir(const char *rel);

/* The folder name of store s, opened (for writing when for_write). */
struct store_folder *mt_open_folder(struct store *s, const char *name, bool for_write);

#endif
