/*
 * status_rows: the status cache of one folder in memory.
 *
 * One row per message both sides had at the last sync, keyed by the remote
 * UID: its flags, offlineimap's mtime column (GmailMaildir) and its Gmail
 * labels.  The array is sorted by uid without duplicates once loaded (by
 * status_db_load() or status_plain_read()), so lookups are binary searches.
 * A row costs 32 bytes plus its labels; labels are stored only when there
 * are some (NULL otherwise), as offlineimap's ", "-joined sorted text.
 */
#ifndef STATUS_ROWS_H
#define STATUS_ROWS_H

#include "store/flags.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct status_row {
    uint32_t uid;
    flagset_t flags;
    int64_t mtime;
    char *labels; /* owned; NULL when the message has no labels */
};

struct status_rows {
    struct status_row *v;
    size_t n;
    size_t cap;
};

#define STATUS_ROWS_INIT                                                                           \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/*
 * Append a row; labels is copied, and stored only if it holds a label (an
 * empty or blank text, or only commas, counts as none).
 */
void status_rows_push(struct status_rows *rows, uint32_t uid, flagset_t flags, int64_t mtime,
                      const char *labels);
/*
 * Sort by uid; of rows with the same uid the one pushed last wins, as when
 * offlineimap reads lines into a dict.
 */
void status_rows_sort(struct status_rows *rows);
/* The row for uid in a sorted array, or NULL. */
struct status_row *status_rows_find(const struct status_rows *rows, uint32_t uid);
void status_rows_clear(struct status_rows *rows);
void status_rows_free(struct status_rows *rows);

/* True if labels (NUL-terminated) names at least one label. */
bool status_labels_present(const char *labels);

#endif
